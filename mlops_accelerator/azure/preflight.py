"""Pre-flight: everything that would make a stage-3 deployment fail late, checked before it starts.

Per environment: the signed-in identity's effective permissions cover every action the run takes
(the missing action and a built-in role that grants it are named); the resource providers are
registered; the region offers each compute's VM size; the Azure ML vCPU quota per VM family covers
the clusters' maximum nodes (environments sharing a subscription and region add up); the global
names (storage account, key vault, container registry) are free or already ours; a soft-deleted key
vault or Azure ML workspace with the designed name is found, with the recover/purge choice explained;
the online endpoint name is not taken in the region by another workspace. Each finding names the
setting to change.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from .arm import AzureCallError, call, list_all
from .connection import AzureEnv, arm_client, environments

PROVIDERS = ("Microsoft.MachineLearningServices", "Microsoft.Storage", "Microsoft.KeyVault",
             "Microsoft.Insights", "Microsoft.OperationalInsights", "Microsoft.ContainerRegistry",
             "Microsoft.Network", "Microsoft.Consumption")


@dataclass
class Finding:
    env: str
    check: str  # permissions, providers, vm_size, quota, names, soft_deleted, access
    message: str
    setting: str  # the setting to change, as <stage>.<field path>

    def text(self) -> str:
        return f"[{self.env}] {self.check}: {self.message} (setting: {self.setting})"


def required_actions(design: Any, deploy: Any) -> list[str]:
    """What a stage-3 run does on Azure, as authorization actions (resource-group scope)."""
    actions = ["Microsoft.Resources/deployments/write", "Microsoft.Resources/deployments/validate/action",
               "Microsoft.Resources/deployments/whatIf/action",
               "Microsoft.MachineLearningServices/workspaces/write",
               "Microsoft.MachineLearningServices/workspaces/computes/write",
               "Microsoft.MachineLearningServices/workspaces/environments/versions/write",
               "Microsoft.Storage/storageAccounts/write", "Microsoft.KeyVault/vaults/write",
               "Microsoft.Insights/components/write", "Microsoft.Authorization/roleAssignments/write"]
    if design.container_registry_option != "none":
        actions.append("Microsoft.ContainerRegistry/registries/write")
    if deploy.budget_deployment:
        actions.append("Microsoft.Consumption/budgets/write")
    if design.model_registry == "aml_registry":
        actions.append("Microsoft.MachineLearningServices/registries/write")
    return actions


def _matches(action: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def granted(action: str, permissions: list[dict[str, Any]]) -> bool:
    """Azure's rule: some permission's actions match and none of that permission's notActions do."""
    return any(_matches(action, p.get("actions") or []) and not _matches(action, p.get("notActions") or [])
               for p in permissions)


def role_granting(action: str, definitions: list[dict[str, Any]]) -> str:
    """The narrowest role (fewest actions, Owner last) whose permissions grant `action`."""
    fits = [d["properties"] for d in definitions
            if granted(action, d.get("properties", {}).get("permissions") or [])]
    fits.sort(key=lambda p: (p.get("roleName") == "Owner", "*" in sum((x.get("actions") or [] for x in
                                                                        p.get("permissions") or []), []),
                             sum(len(x.get("actions") or []) for x in p.get("permissions") or []),
                             p.get("roleName", "")))
    return fits[0]["roleName"] if fits else "a custom role with this action"


def _env_index(design: Any, name: str) -> int:
    return next(i for i, e in enumerate(design.environments) if e.name == name)


def check_permissions(client: Any, env: AzureEnv, design: Any, deploy: Any) -> list[Finding]:
    scope = f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}"
    perms = list_all(client, f"{scope}/providers/Microsoft.Authorization/permissions", "authorization")
    missing = [a for a in required_actions(design, deploy) if not granted(a, perms)]
    if not missing:
        return []
    defs = list_all(client, f"{scope}/providers/Microsoft.Authorization/roleDefinitions", "authorization")
    i = _env_index(design, env.name)
    return [Finding(env.name, "permissions",
                    f"the signed-in identity lacks {a} on {scope}; a role that has it: {role_granting(a, defs)} "
                    f"(ask an owner to assign it, or deploy to a resource group where you hold it)",
                    f"design.environments.{i}.resource_group") for a in missing]


def check_providers(client: Any, env: AzureEnv, design: Any) -> list[Finding]:
    out = []
    i = _env_index(design, env.name)
    for ns in PROVIDERS:
        p = call(client, "GET", f"/subscriptions/{env.subscription_id}/providers/{ns}", "providers") or {}
        state = p.get("registrationState", "NotRegistered")
        if state != "Registered":
            out.append(Finding(env.name, "providers",
                               f"resource provider {ns} is {state} in subscription {env.subscription_id} "
                               f"('az provider register --namespace {ns} --subscription {env.subscription_id}')",
                               f"design.environments.{i}.subscription_id"))
    return out


def check_compute(client: Any, envs: list[AzureEnv], deploy: Any) -> list[Finding]:
    """VM sizes offered in each region, and vCPU quota per family summed over environments that
    share a subscription and region (clusters at max nodes; low-priority nodes have their own quota)."""
    out: list[Finding] = []
    need: dict[tuple[str, str, str], list[tuple[int, Any, int]]] = defaultdict(list)
    limits: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for env in envs:
        base = (f"/subscriptions/{env.subscription_id}/providers/Microsoft.MachineLearningServices/"
                f"locations/{env.region}")
        sizes = {s["name"].lower(): s for s in list_all(client, f"{base}/vmSizes", "ml")}
        limits[(env.subscription_id, env.region)] = {
            u["name"]["value"].lower(): u for u in list_all(client, f"{base}/usages", "ml")}
        for i, c in enumerate(deploy.compute_targets):
            if c.env != env.name or c.type == "kubernetes":
                continue
            size = sizes.get(c.vm_size.lower())
            if size is None:
                offered = ", ".join(sorted(s["name"] for s in sizes.values())[:8])
                out.append(Finding(env.name, "vm_size", f"{c.name}: {c.vm_size} is not offered in {env.region} "
                                   f"(offered include {offered})", f"deploy.compute_targets.{i}.vm_size"))
                continue
            nodes = 1 if c.type == "computeinstance" else c.max_nodes
            family = "lowPriorityCores" if c.vm_priority == "low_priority" else size["family"]
            need[(env.subscription_id, env.region, family)].append((i, c, nodes * int(size["vCPUs"])))
    for (sub, region, family), items in need.items():
        usage = limits[(sub, region)].get(family.lower())
        total = sum(v for _, _, v in items)
        if usage is None:
            continue
        free = int(usage["limit"]) - int(usage["currentValue"])
        if total > free:
            i, c, _ = max(items, key=lambda t: t[2])
            who = ", ".join(f"{x.name} in {x.env} ({v} vCPUs)" for _, x, v in items)
            out.append(Finding(c.env, "quota",
                               f"{family} quota in {region} has {free} of {usage['limit']} vCPUs free but the "
                               f"clusters at max nodes need {total}: {who} (lower max_nodes, choose another VM "
                               f"family, or request a quota increase)", f"deploy.compute_targets.{i}.max_nodes"))
    return out


NAME_CHECKS = (  # design field, provider, api, resource type, kind
    ("storage_account_name", "Microsoft.Storage", "storage", "Microsoft.Storage/storageAccounts"),
    ("key_vault_name", "Microsoft.KeyVault", "keyvault", "Microsoft.KeyVault/vaults"),
    ("container_registry_name", "Microsoft.ContainerRegistry", "acr", "Microsoft.ContainerRegistry/registries"),
)


def check_names(client: Any, env: AzureEnv, design: Any) -> list[Finding]:
    from ..settings.design import resource_name

    out = []
    rg = f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}"
    for field, ns, api, rtype in NAME_CHECKS:
        if field == "container_registry_name" and design.container_registry_option != "new":
            continue
        name = resource_name(design, field, env.name)
        r = call(client, "POST", f"/subscriptions/{env.subscription_id}/providers/{ns}/checkNameAvailability", api,
                 body={"name": name, "type": rtype}) or {}
        if r.get("nameAvailable", True):
            pass
        elif call(client, "GET", f"{rg}/providers/{rtype}/{name}", api) is None:  # not ours
            out.append(Finding(env.name, "names", f"{rtype.split('/')[-1][:-1]} name {name} is taken "
                               f"({r.get('reason') or 'AlreadyExists'}: {r.get('message') or ''}); names are "
                               f"global, choose another stem", f"design.{field}"))
        if field == "key_vault_name":
            deleted = call(client, "GET", f"/subscriptions/{env.subscription_id}/providers/Microsoft.KeyVault/"
                           f"locations/{env.region}/deletedVaults/{name}", api)
            if deleted is not None:
                props = deleted.get("properties") or {}
                purge = ("purge protection is on, so it cannot be purged before "
                         f"{props.get('scheduledPurgeDate')}" if props.get("purgeProtectionEnabled") else
                         f"or purge it to free the name for good ('az keyvault purge --name {name} "
                         f"--location {env.region}', needs the purge permission)")
                out.append(Finding(env.name, "soft_deleted",
                                   f"key vault {name} was deleted and is soft-deleted in {env.region}: recover "
                                   f"it to keep its secrets ('az keyvault recover --name {name}'), {purge}, or "
                                   f"choose another name", "design.key_vault_name"))
    return out


SOFT_DELETED_STATES = ("softdeleted", "deleting")  # a workspace kept (or going) after deletion: its name is held


def check_workspace_names(client: Any, env: AzureEnv, design: Any, models: Any,
                          seen: dict[str, list[dict[str, Any]]]) -> list[Finding]:
    """A soft-deleted workspace holding the designed name, and online endpoint names already taken in
    the region by another workspace of the subscription. Azure lists soft-deleted workspaces with the
    subscription's workspaces; endpoints of subscriptions you cannot read are only found at creation."""
    from ..settings.design import resource_name

    out: list[Finding] = []
    if env.subscription_id not in seen:
        seen[env.subscription_id] = list_all(client, f"/subscriptions/{env.subscription_id}/providers/"
                                             "Microsoft.MachineLearningServices/workspaces", "ml")
    workspaces = seen[env.subscription_id]
    name = resource_name(design, "workspace_name", env.name)
    rg = f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}".lower()
    for ws in workspaces:
        state = str((ws.get("properties") or {}).get("provisioningState") or "").lower()
        if (ws.get("name") or "").lower() == name.lower() and state in SOFT_DELETED_STATES:
            where = "in this resource group" if ws.get("id", "").lower().startswith(rg + "/") else \
                f"in {ws.get('id', '').split('/providers/')[0]}"
            out.append(Finding(env.name, "soft_deleted",
                               f"Azure ML workspace {name} was deleted and is soft-deleted {where} (kept 14 days, "
                               "its name held): recover it to keep its runs, models and data (Azure portal, Azure "
                               "Machine Learning, 'Recently deleted'), or purge it to reuse the name now ('az ml "
                               f"workspace delete --name {name} --resource-group {env.resource_group} "
                               "--permanently-delete'), or choose another name", "design.workspace_name"))
    if models is None or not models.serves_online:
        return out
    from ..settings.models import endpoint_in

    endpoint = endpoint_in(models.online_endpoint.name, env.name)  # the name stage 5 gives it in this env
    for ws in workspaces:
        state = str((ws.get("properties") or {}).get("provisioningState") or "").lower()
        if (str(ws.get("location") or "").lower().replace(" ", "") != env.region.lower() or state in SOFT_DELETED_STATES
                or (ws.get("name") or "").lower() == name.lower() and ws.get("id", "").lower().startswith(rg + "/")):
            continue  # another region, a deleted workspace, or this environment's own workspace
        if call(client, "GET", f"{ws['id']}/onlineEndpoints/{endpoint}", "ml") is not None:
            out.append(Finding(env.name, "names",
                               f"online endpoint name {endpoint} is taken in {env.region} by workspace "
                               f"{ws.get('name')} ({ws['id'].split('/providers/')[0]}); endpoint names are unique "
                               "within a region (they are part of the scoring URL): choose another name",
                               "models.online_endpoint.name"))
    return out


def run_preflight(project: Any, cred: Any, only: list[str] | None = None) -> list[Finding]:
    """All findings for the chosen environments (empty when the deployment can start)."""
    design, deploy = project.settings("design"), project.settings("deploy")
    envs = environments(project, only)
    client = arm_client(cred)
    findings: list[Finding] = []

    def guarded(env: AzureEnv, what: str, fn: Any, *args: Any) -> None:
        try:
            findings.extend(fn(*args))
        except AzureCallError as exc:
            i = _env_index(design, env.name)
            findings.append(Finding(env.name, "access", f"could not check {what}: {exc.status} {exc.code}: "
                                    f"{exc.message}", f"design.environments.{i}.subscription_id"))

    models, errors = project.settings_or_errors("models")
    models = None if errors else models  # endpoint names only when stage 5's settings are valid
    listed: dict[str, list[dict[str, Any]]] = {}
    for env in envs:
        guarded(env, "permissions", check_permissions, client, env, design, deploy)
        guarded(env, "resource providers", check_providers, client, env, design)
        guarded(env, "global names", check_names, client, env, design)
        guarded(env, "workspace and endpoint names", check_workspace_names, client, env, design, models, listed)
    if envs:
        guarded(envs[0], "VM sizes and quota", check_compute, client, envs, deploy)
    return findings


def as_dicts(findings: list[Finding]) -> list[dict[str, str]]:
    return [asdict(f) for f in findings]


FINDINGS_FILE = "preflight.json"  # in the project's state folder: the wizards show the last findings


def save_findings(project: Any, findings: list[Finding]) -> None:
    """Keep the latest pre-flight findings in the project (the wizards show them beside their settings)."""
    import json

    from ..fsutil import atomic_write_text
    from ..ledger import now_iso
    from ..workspace import STATE_DIR

    atomic_write_text(project.root / STATE_DIR / FINDINGS_FILE,
                      json.dumps({"at": now_iso(), "findings": as_dicts(findings)}, indent=2))


def latest_findings(project_root: Any) -> dict[str, Any]:
    """The last saved pre-flight ({"at", "findings"}); empty when none ran or the file is unreadable."""
    import json
    from pathlib import Path

    from ..workspace import STATE_DIR

    try:
        data = json.loads((Path(project_root) / STATE_DIR / FINDINGS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("findings"), list) else {}
