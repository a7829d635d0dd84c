"""Automatic checks of stage 2 (Design and Provision Infrastructure): S2-03 to S2-11.

S2-01, S2-02 and S2-07 are sign-offs only. The checks read the stage-2 settings
(`ctx.stage("design")`), the stage-1 roster and CI/CD choice (`ctx.stage("foundations")`) and,
for S2-03, S2-04 and S2-06, the evidence of the latest successful stage-2 run
(`ctx.run_evidence("design", 2)`). The stage-2 notebooks must record exactly these keys
(artifact paths through `Evidence.artifact`, so they land under "artifacts"):

    {
      "artifacts": {
        "decision_records": "design/decision-records.md",   # S2-03: one record per technology choice
        "design_doc": "design/solution-design.md",          # S2-04: the solution design document
        "custom_roles": "design/rbac/custom-roles",         # S2-06: FOLDER with one Azure role-definition
                                                            #   JSON per custom role (az role definition
                                                            #   create format: Name, IsCustom, Description,
                                                            #   Actions, NotActions, DataActions,
                                                            #   NotDataActions, AssignableScopes)
        "role_assignments": "design/rbac/role-assignments.csv"  # S2-06: the generated assignments
      },
      "design_version": "1.0"     # S2-04: the design_version the document was generated from
    }

S2-05, S2-08, S2-09, S2-10 and S2-11 judge the settings alone.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

from ..settings.design import ARM_LOCATION_MAP, WAF_ITEMS, semver_key
from ..settings.shared import GUID_PATTERN
from . import CheckContext, CheckResult, artifact, auto_check, failed, listing, passed
from .foundations import needed_roles

_SCOPE = re.compile(rf"/subscriptions/{GUID_PATTERN}(/resourceGroups/[A-Za-z0-9_.()-]*[A-Za-z0-9_()-])?"
                    r"|/providers/Microsoft\.Management/managementGroups/[A-Za-z0-9_.()-]+", re.IGNORECASE)
_ROLE_JSON_LISTS = ("Actions", "NotActions", "DataActions", "NotDataActions", "AssignableScopes")

# Stage-1 CI/CD platform -> the orchestrator that must be among the technology choices.
_CICD_ORCHESTRATOR = {"azure_devops_pipelines": "azure_devops", "github_actions": "github_actions"}


def _ev(ctx: CheckContext) -> dict[str, Any]:
    return ctx.run_evidence("design", 2)


@auto_check("S2-03")
def technology_choices_decided(ctx: CheckContext) -> CheckResult:
    d = ctx.stage("design")
    problems = [f"{field} is empty" for field in ("experimentation_env", "orchestrator", "monitoring_tools")
                if not getattr(d, field)]
    cicd = ctx.stage("foundations").cicd_platform
    if _CICD_ORCHESTRATOR[cicd] not in d.orchestrator:
        problems.append(f"stage 1 chose {cicd} for CI/CD but the orchestrators ({', '.join(d.orchestrator)}) "
                        f"do not include {_CICD_ORCHESTRATOR[cicd]}")
    if problems:
        return failed(f"technology choices are incomplete: {'; '.join(problems)}")
    records = artifact(ctx, _ev(ctx), "decision_records")
    if records is None:
        return failed("no technology decision records were generated: re-run stage 2 "
                      "('mlops-accelerator run design')")
    return passed(f"{d.implementation_approach} approach; training on {d.training_platform}, "
                  f"{d.inference_mode} inference, orchestrated by {', '.join(d.orchestrator)}; decision "
                  f"records generated", records)


@auto_check("S2-04")
def design_approved(ctx: CheckContext) -> CheckResult:
    d = ctx.stage("design")
    ev = _ev(ctx)
    doc = artifact(ctx, ev, "design_doc")
    if doc is None:
        return failed("the solution design document was not generated: re-run stage 2")
    if str(ev.get("design_version", d.design_version)) != d.design_version:
        return failed(f"the design document is for version {ev.get('design_version')}, but the design is "
                      f"now {d.design_version}: re-run stage 2 to regenerate it, then ask for approval")
    roster = {m.name.strip().lower(): set(m.roles) for m in ctx.stage("foundations").team_roster}
    waiting, refused = [], []
    for role in d.design_approver_roles:
        # The latest decision of that role on the current version counts.
        decisions = sorted((a for a in d.design_approvals
                            if a.role == role and a.design_version == d.design_version),
                           key=lambda a: a.date)
        if not decisions:
            older = sorted({a.design_version for a in d.design_approvals if a.role == role}, key=semver_key)
            note = f" (on record: version {', '.join(older)})" if older else ""
            waiting.append(f"{role}{note}")
            continue
        last = decisions[-1]
        if last.decision != "approved":
            comment = f": '{last.comment}'" if last.comment else ""
            refused.append(f"{role} {last.name} {last.decision.replace('_', ' ')} on {last.date}{comment}")
        elif role not in roster.get(last.name.strip().lower(), set()):
            waiting.append(f"{role} ({last.name} approved but is not on the roster as {role})")
    if refused:
        return failed(f"design {d.design_version} is not approved: {'; '.join(refused)}; address the "
                      f"comments, raise design_version and ask again", doc)
    if waiting:
        return failed(f"design {d.design_version} still needs approval by: {'; '.join(waiting)}", doc)
    return passed(f"design {d.design_version} approved by {', '.join(d.design_approver_roles)}", doc)


@auto_check("S2-05")
def security_controls(ctx: CheckContext) -> CheckResult:
    d = ctx.stage("design")
    prod = d.production_env()
    problems = []
    if d.private_endpoint_type == "none":
        problems.append("the workspace has no private endpoint (private_endpoint_type is none)")
    nets = [ipaddress.ip_network(p) for p in d.address_prefixes]
    overlaps = [f"{a} overlaps {b}" for i, a in enumerate(nets) for b in nets[:i] if a.overlaps(b)]
    problems += overlaps
    if d.subnet_option != "none":
        subnet = ipaddress.ip_network(d.subnet_prefix)
        if not any(subnet.version == n.version and subnet.subnet_of(n) for n in nets):  # type: ignore[arg-type]
            problems.append(f"subnet {d.subnet_prefix} is outside the VNet")
    if d.acr_behind_vnet and d.container_registry_sku != "Premium":
        problems.append("the container registry is behind the VNet but not Premium")
    if d.encryption_status == "Enabled" and not (d.cmk_keyvault and d.resource_cmk_uri):
        problems.append("customer-managed key encryption lacks its key vault or key URI")
    if prod is not None and not (prod.approval_required and prod.approvers):
        problems.append(f"changes to production ('{prod.name}') need no approval: set approval_required and "
                        f"approvers")
    if problems:
        return failed(f"security controls are missing: {'; '.join(problems)}")
    behind = [n for n, on in (("storage", d.storage_behind_vnet), ("Key Vault", d.keyvault_behind_vnet),
                              ("registry", d.acr_behind_vnet)) if on]
    return passed(f"{d.private_endpoint_type} private endpoint, VNet {', '.join(d.address_prefixes)} with "
                  f"subnet {d.subnet_prefix}, behind the VNet: {', '.join(behind) or 'nothing'}, CMK "
                  f"{d.encryption_status.lower()}; the Solution Architect still reviews it")


@auto_check("S2-06")
def rbac_specified(ctx: CheckContext) -> CheckResult:
    d = ctx.stage("design")
    f = ctx.stage("foundations")
    problems = []
    # Roles that work in the deployed environments: needed by a task of stage 3 or later. Roles
    # that only plan, design or approve (stages 1-2) need no Azure access, so none is demanded.
    azure_roles = {r for r, stages in needed_roles().items() if any(n >= 3 for n in stages)}
    mapped = {(m.role, m.env) for m in d.role_mappings}
    on_roster = sorted({r for m in f.team_roster for r in m.roles} & azure_roles)
    unmapped = [f"{role} in {env}" for role in on_roster for env in d.env_names()
                if (role, env) not in mapped]
    if unmapped:
        problems.append(f"roster roles without an Azure role: {listing(unmapped)} (add role_mappings)")
    owners = [sp.name for sp in d.service_principals if sp.role == "Owner"]
    if owners:
        problems.append(f"automation identities with Owner: {', '.join(owners)} (use a narrower role)")
    if d.custom_roles:
        problems += _custom_role_file_problems(ctx, d)
    if problems:
        return failed(f"RBAC design is incomplete: {'; '.join(problems)}")
    return passed(f"{len(d.role_mappings)} role mapping(s) over {len(d.environments)} environment(s), "
                  f"{len(d.custom_roles)} custom role(s) valid, no identity is Owner")


def _custom_role_file_problems(ctx: CheckContext, d: Any) -> list[str]:
    folder = artifact(ctx, _ev(ctx), "custom_roles")
    if folder is None:
        return ["the custom role definitions were not generated: re-run stage 2"]
    if ctx.project_dir is None:
        return [f"the custom role definitions in {folder} cannot be read without the project folder"]
    files = {}
    for path in sorted((Path(ctx.project_dir) / folder).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return [f"{path.name} is not valid JSON ({exc})"]
        files[str(data.get("Name") if isinstance(data, dict) else path.name)] = (path.name, data)
    problems = [f"no definition file for custom role '{r.name}'"
                for r in d.custom_roles if r.name not in files]
    for file, data in files.values():
        problems += [f"{file}: {p}" for p in _role_definition_problems(data)]
    return problems


def _role_definition_problems(data: Any) -> list[str]:
    if not isinstance(data, dict):
        return ["not a JSON object"]
    problems = []
    if not isinstance(data.get("Name"), str) or not data["Name"].strip():
        problems.append("Name is missing")
    if data.get("IsCustom") is not True:
        problems.append("IsCustom must be true")
    for key in _ROLE_JSON_LISTS:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{key} must be a list of strings")
    scopes = data.get("AssignableScopes") or []
    if not scopes:
        problems.append("AssignableScopes is empty")
    bad = [s for s in scopes if isinstance(s, str) and not _SCOPE.fullmatch(s)]
    if bad:
        problems.append(f"malformed assignable scope(s) {', '.join(bad)} (expected /subscriptions/<id>"
                        f"[/resourceGroups/<name>])")
    if any(a == "*" or str(a).startswith("*/") for a in data.get("Actions") or []):
        problems.append("Actions contains '*'")
    return problems


@auto_check("S2-08")
def cost_controls(ctx: CheckContext) -> CheckResult:
    d = ctx.stage("design")
    problems = []
    alerted = {b.env for b in d.budgets if b.alert_thresholds or b.forecast_thresholds}
    missing = [e for e in d.env_names() if e not in alerted]
    if missing:
        problems.append(f"no budget with an alert for {', '.join(missing)}")
    if d.cluster_min_nodes != 0:
        problems.append(f"clusters keep {d.cluster_min_nodes} node(s) running (set cluster_min_nodes to 0)")
    if "allowed_vm_skus" not in d.azure_policy_assignments or not d.allowed_vm_skus:
        problems.append("no allowed-VM-size policy (add allowed_vm_skus to azure_policy_assignments and list "
                        "the sizes)")
    if d.compute_instance_idle_shutdown_minutes is None and not d.compute_instance_stop_schedule:
        problems.append("compute instances never stop (set an idle shutdown or a stop schedule)")
    if problems:
        return failed(f"cost controls are missing: {'; '.join(problems)}")
    stop = (f"idle shutdown {d.compute_instance_idle_shutdown_minutes} min"
            if d.compute_instance_idle_shutdown_minutes is not None else "")
    if d.compute_instance_stop_schedule:
        stop = ", ".join(filter(None, [stop, f"stop at '{d.compute_instance_stop_schedule}'"]))
    return passed(f"{len(d.budgets)} budget(s) with alerts, clusters scale to 0, "
                  f"{len(d.allowed_vm_skus)} allowed VM size(s), compute instances: {stop}")


@auto_check("S2-09")
def regions_supported(ctx: CheckContext) -> CheckResult:
    d = ctx.stage("design")
    regions = {d.primary_region: "primary_region"}
    for e in d.environments:
        regions.setdefault(e.region, f"environment '{e.name}'")
    problems = [f"{r} ({where}) is not in the IaC template's location map" for r, where in regions.items()
                if r not in ARM_LOCATION_MAP]
    if d.allowed_regions:
        problems += [f"{r} ({where}) is not an allowed region ({', '.join(d.allowed_regions)})"
                     for r, where in regions.items() if r not in d.allowed_regions]
    if problems:
        return failed(f"region(s) not usable: {'; '.join(problems)}")
    moved = [f"{r} -> {ARM_LOCATION_MAP[r]}" for r in regions if ARM_LOCATION_MAP.get(r, r) != r]
    note = f"; note: the template puts Application Insights elsewhere for {', '.join(moved)}" if moved else ""
    return passed(f"region(s) {', '.join(regions)} are supported by the template and allowed{note}")


@auto_check("S2-10")
def waf_review_complete(ctx: CheckContext) -> CheckResult:
    d = ctx.stage("design")
    open_items: dict[str, int] = {}
    noes = []
    total = 0
    for pillar, items in WAF_ITEMS.items():
        answers = getattr(d, f"waf_{pillar}")
        for item in items:
            total += 1
            answer = getattr(answers, item)
            if answer is None:
                open_items[pillar] = open_items.get(pillar, 0) + 1
            elif answer == "no":
                noes.append(f"{pillar}.{item}")
    if open_items:
        count = sum(open_items.values())
        return failed(f"{count} of {total} Well-Architected items are unanswered: "
                      f"{', '.join(f'{p} ({n})' for p, n in open_items.items())}; answer each yes, no or n/a")
    risks = f"; {len(noes)} answered 'no' (risks to record): {listing(noes)}" if noes else ""
    return passed(f"all {total} Well-Architected items answered across 5 pillars{risks}")


@auto_check("S2-11")
def edge_assessment_complete(ctx: CheckContext) -> CheckResult:
    d = ctx.stage("design")
    if d.inference_mode != "edge":
        return passed(f"not applicable: inference_mode is {d.inference_mode}, not edge")
    a = d.edge_assessment
    missing = [name for name, ok in (("reasons", a.reasons), ("target compute", a.target_compute),
                                     ("HA/DR criteria", a.ha_dr_criteria.strip()), ("hardware", a.hardware),
                                     ("frameworks", a.frameworks)) if not ok]
    if missing:
        return failed(f"the edge assessment lacks: {', '.join(missing)} (stage 2, technology choices)")
    return passed(f"edge assessment complete: {a.target_compute} on {a.hardware}, "
                  f"runtimes {', '.join(a.frameworks)}")
