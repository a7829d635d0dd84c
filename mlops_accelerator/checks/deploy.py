"""Automatic checks of stage 3 (Deploy Services and Set Up Environments): S3-01 to S3-10.

They read the stage-3 settings (`ctx.stage("deploy")`), the approved design
(`ctx.stage("design")`: environments, resource names, identities, budgets) and the evidence of
the latest successful stage-3 run (`ctx.run_evidence("deploy", 3)`). The stage-3 notebooks must
record exactly these keys (environment keys are the Stage-2 environment names; artifact paths
through `Evidence.artifact`, so they land under "artifacts"):

    {
      "local_env": {                                   # S3-01: check_local_env notebook
        "tools": {"azure_cli": "2.61.0", "ml_extension": "2.26.1", "python": "3.11.7",
                  "azure_ai_ml": "1.35.2", "git": "2.39.2", "docker": "24.0.5",
                  "vscode": "1.90.0"},                 #   version found, or null when missing
        "conflicting_extensions": [],                  #   e.g. ["azure-cli-ml"] (CLI v1 extension)
        "account": {"signed_in": true, "user": "ana@contoso.com"},
        "workspaces": {"dev": {"reachable": true, "error": ""}}     # per deployed environment
      },
      "inventory": {                                   # S3-02, S3-03: workspaces found in Azure
        "workspaces": [{"env": "dev", "name": "mlw-mlops-dev", "subscription_id": "<guid>",
                        "resource_group": "rg-mlops-dev", "region": "westeurope",
                        "tags": {"project": "churn", "environment": "dev"}}]
      },
      "pipeline": {                                    # S3-04
        "lint_errors": [],                             #   problems found in the pipeline YAML
        "last_run": {"status": "succeeded", "url": "https://dev.azure.com/...", "finished": "..."}
      },
      "resources": {                                   # S3-05: per deployed environment
        "dev": {"workspace": {"exists": true},
                "storage_account": {"exists": true, "linked": true},     # linked = the workspace
                "key_vault": {"exists": true, "linked": true},           #   references it
                "app_insights": {"exists": true, "linked": true},
                "container_registry": {"exists": true, "linked": true},  # when designed
                "vnet": {"exists": true},                                # when designed
                "private_endpoint": {"exists": true},                    # when designed
                "private_dns": {"exists": true}}                         # with AutoApproval
      },
      "iac": {                                         # S3-06, from Azure when deploying:
        "validation": {"dev": {"ok": true, "errors": []}},          # az deployment group validate
        "what_if": {"dev": {"unexpected_changes": []}}              # when what_if_before_deploy
      },
      "computes": {"dev": [{"name": "cpu-cluster", "type": "amlcompute", "vm_size": "Standard_DS3_v2",
                            "min_nodes": 0, "max_nodes": 2}]},     # S3-07: as found per env
      "software_environments": {"dev": [{"name": "train-env", "version": "1"}]},   # S3-08
      "service_connection_roles": {                    # S3-09: role assignments of each
        "conn-mlops-dev-rg": [{"role": "Contributor",  #   connection's identity, as found
                               "scope": "/subscriptions/<guid>/resourceGroups/rg-mlops-dev"}]},
      "budgets": [{"env": "dev", "name": "budget-mlops-dev", "amount": 1000,
                   "notifications": 4}]                # S3-10: budgets found per scope
    }

The infrastructure code itself is generated and scanned by stage 2: S3-06 and S3-03 read the
stage-2 evidence `artifacts.iac` (the IaC folder) and `iac` ({"checkov": {...},
"parameter_files": {env: {"valid", "errors"}}}). The keys, their types and which are written only
by the azureml target ("from Azure") are the evidence models in mlops_accelerator/evidence/models.py.

Statuses are compared case-insensitively; succeeded/completed/success/passed pass.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..settings.design import resource_name
from ..settings.shared import expand_tags
from . import (
    OK_STATUSES,
    CheckContext,
    CheckResult,
    artifact,
    auto_check,
    failed,
    listing,
    need,
    passed,
)

PRIVILEGED = frozenset({"owner", "user access administrator"})
IAC_EXTENSIONS = {"arm": (".json",), "bicep": (".bicep", ".bicepparam"), "terraform": (".tf", ".tfvars")}
# Stage-2 dependency fields of the workspace, by evidence key.
_DEPENDENCIES = ("storage_account", "key_vault", "app_insights")


def _ev(ctx: CheckContext) -> dict[str, Any]:
    return ctx.run_evidence("deploy", 3)


def _need(ctx: CheckContext, key: str, what: str) -> Any:
    # A key only Azure can write (see the evidence model) is "to do" on the local target, not failed.
    return need(_ev(ctx), key, 3, "deploy", what)


def _design_iac(ctx: CheckContext) -> tuple[Any, Any]:
    """The stage-2 IaC folder and its offline scan (checkov, parameter files)."""
    ev = ctx.run_evidence("design", 2)
    return artifact(ctx, ev, "iac"), need(ev, "iac", 2, "design", "the IaC scan by checkov")


def _version(text: Any) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", str(text or ""))[:3])


def _designed_envs(ctx: CheckContext) -> dict[str, Any]:
    """Deployed environment name -> its Stage-2 record (only those the design knows)."""
    design, deploy = ctx.stage("design"), ctx.stage("deploy")
    by_name = {e.name: e for e in design.environments}
    return {n: by_name[n] for n in deploy.environments_to_deploy if n in by_name}


def _expected_scope(design: Any, env: Any, scope: str) -> str:
    rg = f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}"
    if scope == "subscription":
        return f"/subscriptions/{env.subscription_id}"
    if scope == "resource_group":
        return rg
    ws = resource_name(design, "workspace_name", env.name)
    return f"{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"


@auto_check("S3-01")
def local_environment_connects(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("deploy")
    local = _need(ctx, "local_env", "the check_local_env notebook's findings")
    tools = local.get("tools") or {}
    problems = [f"{t} is not installed" for t in s.local_tooling if not tools.get(t)]
    cli = tools.get("azure_cli")
    if cli and _version(cli) < _version(s.azure_cli_min_version):
        problems.append(f"Azure CLI {cli} is older than {s.azure_cli_min_version} ('az upgrade')")
    py = tools.get("python")
    if "python" in s.local_tooling and py and _version(py)[:2] != _version(s.python_version)[:2]:
        problems.append(f"Python {py} differs from the project's {s.python_version}")
    for ext in local.get("conflicting_extensions") or []:
        problems.append(f"the old extension {ext} conflicts with 'ml' ('az extension remove -n {ext}')")
    if not (local.get("account") or {}).get("signed_in"):
        problems.append("the Azure CLI is not signed in ('az login', then 'az account set')")
    reach = local.get("workspaces") or {}
    for env in s.environments_to_deploy:
        r = reach.get(env) or {}
        if not r.get("reachable"):
            if r.get("error") and not str(r["error"]).startswith("not checked"):
                problems.append(f"the {env} workspace cannot be reached: {r['error']}")
            else:
                problems.append(f"the {env} workspace was not probed (set MLOPS_ACCELERATOR_PROBE_AZURE=1 "
                                "and re-run stage 3 once it is deployed)")
    if problems:
        return failed(f"the local environment is not ready: {'; '.join(problems)}")
    return passed(f"tools installed ({', '.join(f'{t} {tools[t]}' for t in s.local_tooling)}), signed in, "
                  f"workspaces reachable: {', '.join(s.environments_to_deploy)}")


@auto_check("S3-02")
def workspaces_organised(ctx: CheckContext) -> CheckResult:
    design = ctx.stage("design")
    project = ctx.stage("foundations").project_name
    found = _need(ctx, "inventory", "the workspaces found in Azure").get("workspaces") or []
    problems = []
    for name, env in _designed_envs(ctx).items():
        expected = resource_name(design, "workspace_name", name)
        in_env = [w for w in found if w.get("env") == name]
        if design.workspace_pattern != "combination" and len(in_env) > 1:
            problems.append(f"{name} has {len(in_env)} workspaces where the '{design.workspace_pattern}' "
                            f"pattern expects one")
        ws = next((w for w in in_env if w.get("name") == expected), None)
        if ws is None:
            seen = ", ".join(str(w.get("name")) for w in in_env) or "none"
            problems.append(f"{name}: no workspace named {expected} (found: {seen})")
            continue
        if str(ws.get("resource_group", "")).lower() != env.resource_group.lower():
            problems.append(f"{expected} is in {ws.get('resource_group')}, not {env.resource_group}")
        tags = ws.get("tags") or {}
        for key, value in expand_tags(design.tags, project, name).items():
            if key not in tags:
                problems.append(f"{expected} lacks tag '{key}'")
            elif value and str(tags[key]) != value:
                problems.append(f"{expected} tag '{key}' is '{tags[key]}', not '{value}'")
    if problems:
        return failed(f"the workspaces do not match the design: {listing(problems)}; redeploy from the "
                      f"generated IaC")
    return passed(f"one '{design.workspace_pattern}' workspace per environment, named and tagged as designed")


@auto_check("S3-03")
def environments_separated(ctx: CheckContext) -> CheckResult:
    design, s = ctx.stage("design"), ctx.stage("deploy")
    designed, deployed = design.env_names(), s.environments_to_deploy
    problems = [f"{e} is designed but not deployed (add it to environments_to_deploy)"
                for e in designed if e not in deployed]
    problems += [f"{e} is deployed but not in the approved design" for e in deployed if e not in designed]
    found = _need(ctx, "inventory", "the workspaces found in Azure").get("workspaces") or []
    params = _design_iac(ctx)[1].get("parameter_files") or {}
    homes: dict[tuple[str, str], str] = {}
    for name, env in _designed_envs(ctx).items():
        ws = resource_name(design, "workspace_name", name)
        if not any(w.get("env") == name and w.get("name") == ws for w in found):
            problems.append(f"{name} has no workspace {ws}")
        home = (env.subscription_id.lower(), ws.lower())
        if home in homes:
            problems.append(f"{name} shares its workspace with {homes[home]}")
        homes[home] = name
        p = params.get(name) or {}
        if not p.get("valid"):
            errors = listing([str(x) for x in p.get("errors") or []]) or "not validated"
            problems.append(f"{name} parameter file invalid ({errors})")
    if problems:
        return failed(f"environments are not separated as designed: {'; '.join(problems)}")
    return passed(f"{len(deployed)} separate environment(s) deployed ({', '.join(deployed)}), each with its "
                  f"own workspace and a valid parameter file")


@auto_check("S3-04")
def pipelines_deploy(ctx: CheckContext) -> CheckResult:
    design, s = ctx.stage("design"), ctx.stage("deploy")
    problems = []
    if s.cicd_infra_platform == "azure_devops":
        if not s.ado_organization_url:
            problems.append("ado_organization_url is empty (https://dev.azure.com/<org>/)")
        if not s.ado_project:
            problems.append("ado_project is empty")
    elif not s.github_repository:
        problems.append("github_repository is empty (owner/name)")
    gated = {g.env for g in s.approval_gates}
    prod = design.production_env()
    for name, env in _designed_envs(ctx).items():
        must = env.approval_required or (env is prod and design.environment_topology != "single")
        if must and name not in gated:
            problems.append(f"{name} has no approval gate (add one under approval_gates)")
    pipeline = _need(ctx, "pipeline", "pipeline lint results and the last infrastructure run")
    lint = [str(x) for x in pipeline.get("lint_errors") or []]
    if lint:
        problems.append(f"the pipeline YAML has errors: {listing(lint)}")
    run = pipeline.get("last_run") or {}
    status = str(run.get("status") or "").lower()
    if status not in OK_STATUSES:
        where = f" ({run['url']})" if run.get("url") else ""
        if status:
            problems.append(f"the last infrastructure pipeline run {status}{where}")
        else:
            problems.append("no infrastructure pipeline run is known yet: it is read from GitHub or Azure DevOps "
                            "after the pipeline has run")
    if problems:
        return failed(f"changes cannot yet be deployed through the pipeline: {'; '.join(problems)}")
    evidence = [run["url"]] if run.get("url") else []
    return passed(f"pipeline on {s.cicd_infra_platform} lints cleanly, last run succeeded, gates on "
                  f"{', '.join(sorted(gated)) or 'no environment'}", *evidence)


@auto_check("S3-05")
def services_deployed(ctx: CheckContext) -> CheckResult:
    design = ctx.stage("design")
    resources = _need(ctx, "resources", "the deployed resources per environment")
    wanted = ["workspace", *_DEPENDENCIES]
    if design.container_registry_option != "none":
        wanted.append("container_registry")
    if design.vnet_option != "none":
        wanted.append("vnet")
    if design.private_endpoint_type != "none":
        wanted.append("private_endpoint")
    if design.private_endpoint_type == "AutoApproval":
        wanted.append("private_dns")  # the template creates the zones only with auto approval
    problems = []
    for name in _designed_envs(ctx):
        found = resources.get(name) or {}
        for kind in wanted:
            r = found.get(kind) or {}
            if not r.get("exists"):
                problems.append(f"{name}: {kind} missing")
            elif kind in (*_DEPENDENCIES, "container_registry") and not r.get("linked"):
                problems.append(f"{name}: {kind} not linked to the workspace")
    if problems:
        return failed(f"services are missing: {listing(problems, 10)}; re-run the infrastructure pipeline")
    return passed(f"{', '.join(wanted)} exist and are linked in {', '.join(_designed_envs(ctx))}")


@auto_check("S3-06")
def infrastructure_as_code(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("deploy")
    folder, scan = _design_iac(ctx)
    if folder is None:
        return failed("the stage-2 run generated no infrastructure-as-code folder (or it was deleted): re-run "
                      "stage 2 ('mlops-accelerator run design')")
    problems = []
    if ctx.project_dir is not None:
        suffixes = IAC_EXTENSIONS[s.iac_tool]
        if not [p for p in (Path(ctx.project_dir) / folder).rglob("*") if p.suffix in suffixes]:
            problems.append(f"{folder} holds no {s.iac_tool} files ({', '.join(suffixes)}); stage 2 writes "
                            f"{', '.join(scan.get('tools') or []) or 'other languages'}: choose one of those as "
                            "iac_tool ('mlops-accelerator settings set deploy iac_tool=...')")
    params = scan.get("parameter_files") or {}
    for env in s.environments_to_deploy:
        p = params.get(env)
        if p is None:
            problems.append(f"{env}: no parameter file was generated (is it an environment of the design?)")
        elif not p.get("valid"):
            problems.append(f"{env}: parameter file invalid ({listing([str(e) for e in p.get('errors') or []])})")
    checkov = scan.get("checkov") or {}
    if checkov.get("parse_errors"):
        problems.append(f"checkov could not parse {checkov['parse_errors']} file(s)")
    if checkov.get("failed"):
        ids = listing([str(c) for c in checkov.get("failed_checks") or []])
        problems.append(f"checkov: {checkov['failed']} failed check(s) {ids} (fix, or suppress with a reason)")
    # Azure's own validation and what-if exist only once the azureml target deploys.
    azure = ctx.run_evidence("deploy", 3).get("iac") if ctx.evidence.get("deploy") else None
    for env in s.environments_to_deploy if azure else ():
        v = (azure.get("validation") or {}).get(env) or {}
        if not v.get("ok"):
            errors = listing([str(e) for e in v.get("errors") or []]) or "not run"
            problems.append(f"{env}: Azure validation failed ({errors})")
        w = (azure.get("what_if") or {}).get(env)
        if s.what_if_before_deploy and w and w.get("unexpected_changes"):
            problems.append(f"{env}: drift from the design ({listing([str(c) for c in w['unexpected_changes']])})")
    if problems:
        return failed(f"the IaC is not deployment-ready: {'; '.join(problems)}", folder)
    azure_note = ("Azure validation" + (" and what-if" if s.what_if_before_deploy else "") + " clean"
                  if azure else "Azure's validation and what-if run when it is deployed (azureml target)")
    return passed(f"{s.iac_tool} files in {folder} with a valid parameter file for "
                  f"{', '.join(s.environments_to_deploy)}; checkov: {checkov.get('passed', 0)} passed, 0 failed, "
                  f"{checkov.get('skipped', 0)} suppressed with a reason; {azure_note}", folder)


@auto_check("S3-07")
def compute_targets_created(ctx: CheckContext) -> CheckResult:
    design, s = ctx.stage("design"), ctx.stage("deploy")
    found = _need(ctx, "computes", "the compute targets found per environment")
    problems = []
    allowed = set(design.allowed_vm_skus) if "allowed_vm_skus" in design.azure_policy_assignments else None
    for c in s.compute_targets:
        where = f"{c.name} in {c.env}"
        if allowed is not None and c.vm_size not in allowed:
            problems.append(f"{where}: {c.vm_size} is not an allowed VM size")
        if c.type != "computeinstance":
            if c.min_nodes != 0:
                problems.append(f"{where} keeps {c.min_nodes} node(s) running: set min_nodes to 0")
            if c.max_nodes > design.cluster_max_nodes:
                problems.append(f"{where}: {c.max_nodes} nodes exceed the design's cap of "
                                f"{design.cluster_max_nodes}")
        actual = next((x for x in found.get(c.env) or [] if x.get("name") == c.name), None)
        if actual is None:
            problems.append(f"{where}: not created")
            continue
        for key in ("type", "vm_size", "min_nodes", "max_nodes"):
            want, got = getattr(c, key), actual.get(key)
            if got is not None and str(got).lower() != str(want).lower():
                problems.append(f"{where}: {key} is {got}, configured {want}")
    if problems:
        return failed(f"compute targets differ from the configuration: {listing(problems, 8)}")
    return passed(f"{len(s.compute_targets)} compute target(s) created as configured; clusters scale to 0")


@auto_check("S3-08")
def software_environments_registered(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("deploy")
    if not s.aml_software_environments:
        return failed("no software environments are configured: add training and inference environments "
                      "under 'Azure ML software environments'")
    found = _need(ctx, "software_environments", "the environment assets found per environment")
    missing = []
    for env in s.environments_to_deploy:
        have = {(str(x.get("name")), str(x.get("version"))) for x in found.get(env) or []}
        missing += [f"{e.name}:{e.version} in {env}" for e in s.aml_software_environments
                    if (e.name, e.version) not in have]
    if missing:
        return failed(f"environment assets not registered: {listing(missing)}; re-run the environment setup")
    return passed(f"{', '.join(f'{e.name}:{e.version}' for e in s.aml_software_environments)} registered in "
                  f"{', '.join(s.environments_to_deploy)}")


@auto_check("S3-09")
def least_privilege_connections(ctx: CheckContext) -> CheckResult:
    design, s = ctx.stage("design"), ctx.stage("deploy")
    identities = {sp.name: sp for sp in design.service_principals}
    envs = {e.name: e for e in design.environments}
    problems = []
    for c in s.service_connections:
        sp = identities.get(c.identity)
        if sp is None:
            problems.append(f"{c.name} uses '{c.identity}', which is not an identity of the design")
            continue
        if sp.env != c.env or sp.scope != c.scope:
            problems.append(f"{c.name} ({c.env}, {c.scope}) uses {sp.name}, designed for "
                            f"({sp.env}, {sp.scope})")
        if sp.role.lower() in PRIVILEGED:
            problems.append(f"{sp.name} is designed with {sp.role}")
    if problems:
        return failed(f"service connections are not least-privilege: {'; '.join(problems)}")
    found = _need(ctx, "service_connection_roles", "the role assignments of each connection's identity")
    for c in s.service_connections:
        sp, env = identities[c.identity], envs.get(c.env)
        assignments = found.get(c.name)
        if assignments is None:
            problems.append(f"{c.name}: role assignments not inspected")
            continue
        for a in assignments:
            role, scope = str(a.get("role", "")), str(a.get("scope", ""))
            if role.lower() in PRIVILEGED:
                problems.append(f"{c.name} holds {role} on {scope}: remove it")
        if env is not None:
            want = _expected_scope(design, env, sp.scope).lower()
            if not any(str(a.get("role")) == sp.role and str(a.get("scope", "")).lower().rstrip("/") == want
                       for a in assignments):
                problems.append(f"{c.name} lacks {sp.role} on its designed scope {want}")
            broader = [str(a.get("scope")) for a in assignments
                       if want.startswith(str(a.get("scope", "")).lower().rstrip("/") + "/")]
            if broader:
                problems.append(f"{c.name} has access above its designed scope ({', '.join(broader)})")
    if problems:
        return failed(f"service connections are not least-privilege: {listing(problems, 8)}")
    return passed(f"{len(s.service_connections)} service connection(s) hold their designed role on their "
                  f"designed scope; none is Owner")


@auto_check("S3-10")
def budgets_deployed(ctx: CheckContext) -> CheckResult:
    design, s = ctx.stage("design"), ctx.stage("deploy")
    if not s.budget_deployment:
        return failed("budget_deployment is off, so stage 3 deploys no budgets: turn it on (or deploy the "
                      "Stage-2 budgets another way and sign off)")
    found = _need(ctx, "budgets", "the budgets found per scope")
    problems = []
    for b in design.budgets:
        if b.env not in s.environments_to_deploy:
            continue
        match = [x for x in found
                 if x.get("env") == b.env and abs(float(x.get("amount") or 0) - b.amount) < 0.01]
        if not match:
            problems.append(f"{b.env}: no budget of {b.amount:g} {b.currency}")
        elif not any(int(x.get("notifications") or 0) >= 1 for x in match):
            problems.append(f"{b.env}: the budget has no alerts")
    if problems:
        return failed(f"budgets are not deployed as designed: {'; '.join(problems)}")
    return passed(f"{len(found)} budget(s) with alerts deployed")
