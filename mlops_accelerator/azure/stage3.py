"""Stage 3 on Azure: what-if, deploy the generated template per environment, create the computes,
environments and registry from the stage-3 specs, then read everything back as the "from Azure"
evidence of S3-02/03/05/06/07/08/09/10 (the fields `from_azure` in evidence/models.py).

Nothing is trusted from what was sent: the evidence is what GET/list calls return afterwards.
A step that fails stops that environment; what was read back so far is kept, and the failure is
reported as "<env>: <step>: <Azure's code and message>".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .arm import AzureCallError, call, list_all
from .connection import AzureEnv, arm_client, deployments_client, environments, ml_client

DEPLOY_TIMEOUT_ENV = "MLOPS_ACCELERATOR_AZURE_DEPLOY_TIMEOUT"  # seconds one template deployment may take
DRIFT = ("Modify", "Delete")  # what-if changes that mean Azure differs from the approved design


class StepFailed(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step


def _message(exc: Exception) -> str:
    err = getattr(exc, "error", None)
    if err is not None and getattr(err, "code", None):
        return f"{err.code}: {err.message}"
    return " ".join(str(exc).split())[:500]


def _template(project_root: Path, iac_folder: str, env: str) -> tuple[dict[str, Any], dict[str, Any]]:
    arm = project_root / iac_folder / "arm"
    template = json.loads((arm / "azuredeploy.json").read_text())
    params = json.loads((arm / f"azuredeploy.parameters.{env}.json").read_text()).get("parameters") or {}
    return template, params


def _finish(poller: Any, step: str, name: str) -> Any:
    """Wait for a long-running operation, bounded: Azure's own polling, our deadline."""
    timeout = float(os.environ.get(DEPLOY_TIMEOUT_ENV) or 3600)
    poller.wait(timeout)
    if not poller.done():
        raise StepFailed(step, f"{name} did not finish within {timeout:g} s (it may still be running: see the "
                         f"resource group's Deployments in the portal; raise {DEPLOY_TIMEOUT_ENV} to wait longer)")
    return poller.result()


def _deploy_template(cred: Any, env: AzureEnv, template: dict[str, Any], params: dict[str, Any],
                     name: str, what_if: bool, iac: dict[str, Any]) -> list[str]:
    """Resource group, validate, what-if, deploy; returns the ids of the resources it deployed."""
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.resource.deployments import models as m

    client = deployments_client(cred, env.subscription_id)
    props = {"template": template, "parameters": params, "mode": "Incremental"}
    try:
        result = client.deployments.begin_validate(env.resource_group, name, m.Deployment(
            {"properties": props})).result()
        iac["validation"][env.name] = {"ok": True, "errors": [], "resources": len(
            (result.properties.validated_resources or []) if result and result.properties else [])}
    except HttpResponseError as exc:
        iac["validation"][env.name] = {"ok": False, "errors": [_message(exc)]}
        raise StepFailed("validate", _message(exc)) from None
    if what_if:
        try:
            wi = _finish(client.deployments.begin_what_if(env.resource_group, name, m.DeploymentWhatIf(
                {"properties": props})), "what-if", name)
        except HttpResponseError as exc:
            raise StepFailed("what-if", _message(exc)) from None
        changes = [{"resource": c.resource_id, "change": str(c.change_type)} for c in wi.changes or []]
        iac["what_if"][env.name] = {
            "changes": len(changes),
            "unexpected_changes": [f"{c['change']} {c['resource']}" for c in changes if c["change"] in DRIFT]}
    try:
        deployed = _finish(client.deployments.begin_create_or_update(env.resource_group, name, m.Deployment(
            {"properties": props})), "deploy", name)
    except HttpResponseError as exc:
        raise StepFailed("deploy", _message(exc)) from None
    return [r.id for r in (deployed.properties.output_resources or [])] if deployed and deployed.properties else []


def _specs(project_root: Path, specs_folder: str, env: str, kind: str) -> list[Path]:
    return sorted((project_root / specs_folder / env / kind).glob("*.yml"))


def _create_from_specs(ml: Any, files: dict[str, list[Path]]) -> None:
    """Computes and environment assets, each loaded with azure-ai-ml's own loader from its spec."""
    from azure.ai.ml import load_compute, load_environment
    from azure.core.exceptions import HttpResponseError

    for path in files["compute"]:
        try:
            ml.compute.begin_create_or_update(load_compute(path)).result()
        except HttpResponseError as exc:
            raise StepFailed(f"compute {path.stem}", _message(exc)) from None
    for path in files["environments"]:
        try:
            ml.environments.create_or_update(load_environment(path))
        except HttpResponseError as exc:
            raise StepFailed(f"environment {path.stem}", _message(exc)) from None


def registry_wanted(project: Any) -> bool:
    """The stage-3 registry is created when the design chose it or stage 5 promotes through it."""
    return (project.settings("design").model_registry == "aml_registry"
            or project.settings("models").cross_env_model_transfer == "aml_registry")


def create_registry(cred: Any, project: Any, spec: Path, ev: dict[str, Any], only: list[str] | None = None) -> None:
    """The shared registry from `shared/registry.yml`, in the resource group of the environment the
    spec's plan chose (production's), then read back into ev["registry"]. A run that does not deploy
    that environment leaves the registry alone: its resource group may not exist yet."""
    from azure.ai.ml import load_registry
    from azure.core.exceptions import HttpResponseError

    from ..artifacts.azureml_specs import _quiet_sdk

    design = project.settings("design")
    with _quiet_sdk():  # registries are an 'experimental' class: the SDK logs so on every use
        registry = load_registry(spec)
        home = design.production_env() or design.environments[0]
        env = next((e for e in environments(project, only) if e.name == home.name), None)
        if env is None:
            return
        ml = ml_client(cred, env, None)
        try:
            _finish(ml.registries.begin_create(registry), f"registry {registry.name}", registry.name)
            got = ml.registries.get(registry.name)
        except HttpResponseError as exc:
            raise StepFailed(f"registry {registry.name}", _message(exc)) from None
    ev["registry"] = {"name": got.name, "env": env.name, "resource_group": env.resource_group,
                      "location": got.location, "replication_locations": sorted(
                          r.location for r in (got.replication_locations or [])),
                      "tags": dict(got.tags or {})}


def _read_workspace(arm: Any, env: AzureEnv, ws_name: str, deployed: list[str],
                    ev: dict[str, Any], design: Any) -> dict[str, Any] | None:
    from ..settings.design import resource_name

    rg = f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}"
    ws = call(arm, "GET", f"{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws_name}", "ml")
    if ws is None:
        return None
    ev["inventory"]["workspaces"].append({
        "env": env.name, "name": ws.get("name"), "subscription_id": env.subscription_id,
        "resource_group": env.resource_group, "region": ws.get("location"), "tags": ws.get("tags") or {}})
    props = ws.get("properties") or {}
    links = {"storage_account": ("storageAccount", "Microsoft.Storage/storageAccounts", "storage_account_name",
                                 "storage"),
             "key_vault": ("keyVault", "Microsoft.KeyVault/vaults", "key_vault_name", "keyvault"),
             "app_insights": ("applicationInsights", "Microsoft.Insights/components", "app_insights_name",
                              "resources"),
             "container_registry": ("containerRegistry", "Microsoft.ContainerRegistry/registries",
                                    "container_registry_name", "acr")}
    found: dict[str, dict[str, Any]] = {"workspace": {"exists": True, "id": ws.get("id")}}
    for kind, (prop, rtype, field, api) in links.items():
        rid = f"{rg}/providers/{rtype}/{resource_name(design, field, env.name)}"
        got = call(arm, "GET", rid, "resources" if api == "resources" else api)
        found[kind] = {"exists": got is not None, "id": rid,
                       "linked": str(props.get(prop) or "").lower() == rid.lower()}
    network = {"vnet": "microsoft.network/virtualnetworks", "private_endpoint": "microsoft.network/privateendpoints",
               "private_dns": "microsoft.network/privatednszones"}
    for kind, rtype in network.items():
        ids = [i for i in deployed if f"/providers/{rtype}/" in i.lower() and i.lower().count("/") == 8]
        found[kind] = {"exists": bool(ids) and all(call(arm, "GET", i, "resources") is not None for i in ids),
                       "count": len(ids)}
    ev["resources"][env.name] = found
    return ws


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)  # an SDK enum -> its wire value


def _read_aml(ml: Any, env: AzureEnv, ev: dict[str, Any]) -> None:
    computes = []
    for c in ml.compute.list():
        computes.append({"name": c.name, "type": c.type, "vm_size": getattr(c, "size", None),
                         "min_nodes": getattr(c, "min_instances", None),
                         "max_nodes": getattr(c, "max_instances", None),
                         "tier": getattr(c, "tier", None), "state": _plain(getattr(c, "provisioning_state", None))})
    ev["computes"][env.name] = computes
    assets = []
    for container in ml.environments.list():
        for v in ml.environments.list(name=container.name):
            assets.append({"name": v.name, "version": str(v.version), "image": v.image})
    ev["software_environments"][env.name] = assets


def _read_roles(arm: Any, env: AzureEnv, deploy: Any, ev: dict[str, Any]) -> None:
    """Role assignments of each service connection's identity (a user-assigned managed identity of
    the environment's resource group, as the design names it); not found = not inspected."""
    rg = f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}"
    defs = None
    for conn in (c for c in deploy.service_connections if c.env == env.name):
        identity = call(arm, "GET", f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
                        f"{conn.identity}", "msi")
        principal = ((identity or {}).get("properties") or {}).get("principalId")
        if not principal:
            continue
        if defs is None:
            defs = {d["id"].lower(): d["properties"]["roleName"] for d in list_all(
                arm, f"/subscriptions/{env.subscription_id}/providers/Microsoft.Authorization/roleDefinitions",
                "authorization")}
        assignments = list_all(arm, f"/subscriptions/{env.subscription_id}/providers/Microsoft.Authorization/"
                               "roleAssignments", "authorization", {"$filter": f"principalId eq '{principal}'"})
        ev["service_connection_roles"][conn.name] = [
            {"role": defs.get(a["properties"]["roleDefinitionId"].lower(), a["properties"]["roleDefinitionId"]),
             "scope": a["properties"]["scope"]} for a in assignments]


def _read_budgets(arm: Any, env: AzureEnv, ev: dict[str, Any]) -> None:
    rg = f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}"
    for b in list_all(arm, f"{rg}/providers/Microsoft.Consumption/budgets", "consumption"):
        props = b.get("properties") or {}
        ev["budgets"].append({"env": env.name, "name": b.get("name"), "amount": props.get("amount"),
                              "notifications": len(props.get("notifications") or {})})


def deploy_and_read_back(project: Any, cred: Any, *, iac_folder: str, specs_folder: str | None,
                         run_id: str, only: list[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Deploy stage 3 to every environment and read it back. Returns (evidence, failures)."""
    from ..evidence.models import DeployEvidence
    from ..settings.design import resource_name

    design, deploy = project.settings("design"), project.settings("deploy")
    ev: dict[str, Any] = {"inventory": {"workspaces": []}, "resources": {}, "iac": {"validation": {}, "what_if": {}},
                          "computes": {}, "software_environments": {}, "service_connection_roles": {},
                          "budgets": []}
    failures: list[str] = []
    arm = arm_client(cred)
    for env in environments(project, only):
        step = "resource group"
        try:
            call(arm, "PUT", f"/subscriptions/{env.subscription_id}/resourcegroups/{env.resource_group}",
                 "resources", body={"location": env.region,
                                    "tags": {"project": project.settings("foundations").project_name,
                                             "environment": env.name}})
            template, params = _template(project.root, iac_folder, env.name)
            deployed = _deploy_template(cred, env, template, params, f"mlops-{run_id}"[:64],
                                        deploy.what_if_before_deploy, ev["iac"])
            ws_name = resource_name(design, "workspace_name", env.name)
            step = "read back"
            if _read_workspace(arm, env, ws_name, deployed, ev, design) is None:
                raise StepFailed("read back", f"workspace {ws_name} not found after the deployment")
            ml = ml_client(cred, env, ws_name)
            if specs_folder:
                step = "create from specs"
                _create_from_specs(ml, {k: _specs(project.root, specs_folder, env.name, k)
                                        for k in ("compute", "environments")})
            step = "read back"
            _read_aml(ml, env, ev)
            _read_roles(arm, env, deploy, ev)
            if deploy.budget_deployment:
                _read_budgets(arm, env, ev)
        except StepFailed as exc:
            failures.append(f"{env.name}: {exc}")
        except AzureCallError as exc:
            failures.append(f"{env.name}: {step}: {exc.code}: {exc.message}")
        except Exception as exc:  # an SDK error the steps above do not name: still say where
            failures.append(f"{env.name}: {step}: {type(exc).__name__}: {_message(exc)}")
    spec = project.root / specs_folder / "shared" / "registry.yml" if specs_folder else None
    if spec is not None and spec.is_file() and registry_wanted(project):
        try:
            create_registry(cred, project, spec, ev, only)
        except StepFailed as exc:
            failures.append(f"shared: {exc}")
        except Exception as exc:  # an SDK error create_registry does not name: still say where
            failures.append(f"shared: registry: {type(exc).__name__}: {_message(exc)}")
    DeployEvidence.model_validate(ev)  # the same model the checks read through
    return ev, failures
