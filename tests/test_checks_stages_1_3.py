"""Automatic deliverable checks of stages 1-3: each passes on a good project and fails with a reason a
person can act on when something is missing."""

import copy
import json
from types import SimpleNamespace

import pytest

from mlops_accelerator import catalogue as catalogue_module
from mlops_accelerator.checks import CheckContext, all_checks, run_check
from mlops_accelerator.roles import ROLE_IDS
from mlops_accelerator.settings import default_settings, validate_settings
from mlops_accelerator.settings.design import WAF_ITEMS, resource_name

GUID = "11111111-2222-3333-4444-555555555555"
ITEMS = ["S1-03", "S1-04", "S1-05", "S1-06", "S1-07", "S1-08",
         "S2-03", "S2-04", "S2-05", "S2-06", "S2-08", "S2-09", "S2-10", "S2-11",
         "S3-01", "S3-02", "S3-03", "S3-04", "S3-05", "S3-06", "S3-07", "S3-08", "S3-09", "S3-10"]


# ---------------------------------------------------------------------------
# A small fake catalogue: which roles each stage's tasks need


def _stage(number, *task_roles):
    tasks = tuple(SimpleNamespace(roles=tuple(r)) for r in task_roles)
    return SimpleNamespace(number=number, tasks=tasks, roles=tuple({r for t in task_roles for r in t}))


FAKE_CATALOGUE = SimpleNamespace(stages=(
    _stage(1, ROLE_IDS, ("group_manager", "team_lead", "project_lead")),  # "everyone" + maturity task
    _stage(2, ("team_lead", "solution_architect", "product_owner")),
    _stage(3, ("azure_infra_engineer", "devops_engineer", "team_lead"),
           ("data_scientist", "mlops_engineer", "data_engineer")),
    _stage(5, ("data_scientist", "tester")),
))


@pytest.fixture(autouse=True)
def fake_catalogue(monkeypatch):
    monkeypatch.setattr(catalogue_module, "load_catalogue", lambda: FAKE_CATALOGUE)


# ---------------------------------------------------------------------------
# A good project: settings of stages 1-3 and the evidence their runs recorded

ROSTER = [
    {"name": "Ana Lead", "email": "ana@contoso.com", "roles": ["team_lead", "project_lead", "scrum_master"]},
    {"name": "Gus Boss", "email": "gus@contoso.com", "roles": ["group_manager", "product_owner"]},
    {"name": "Sol Arch", "email": "sol@contoso.com", "roles": ["solution_architect", "azure_infra_engineer"]},
    {"name": "Dee Ops", "email": "dee@contoso.com", "roles": ["devops_engineer", "mlops_engineer"]},
    {"name": "Dana Sci", "email": "dana@contoso.com", "roles": ["data_scientist"], "ds_type": "professional",
     "skill_gaps": ["MLflow tracking"]},
    {"name": "Eli Eng", "email": "eli@contoso.com", "roles": ["data_engineer", "tester"]},
]
DIMENSIONS = ("people", "model_creation", "model_release", "application_integration")


def assessment(current, target):
    return [{"dimension": d, "current_level": current, "target_level": target} for d in DIMENSIONS]


FOUNDATIONS = {
    "project_name": "churn",
    "business_use_case": "Predict which customers will cancel next month",
    "team_roster": ROSTER,
    "skilling_plan": [{"role": "data_scientist", "skill_gap": "MLflow Tracking", "due_week": 2}],
    "maturity_assessment": assessment(1, 2),
    "target_maturity_level": 2,
    "repo_url": "https://github.com/contoso/churn",
}
WAF = {f"waf_{pillar}": dict.fromkeys(items, "yes") for pillar, items in WAF_ITEMS.items()}


def _env(name, **kw):
    return {"name": name, "subscription_id": GUID, "resource_group": f"rg-churn-{name}",
            "region": "westeurope",
            **kw}


DESIGN = {
    "environments": [_env("dev"), _env("test"),
                     _env("prod", prod_data_access=True, approval_required=True,
                          approvers=["gus@contoso.com"])],
    "design_approvals": [
        {"name": "Ana Lead", "role": "team_lead", "decision": "approved", "date": "2024-05-02",
         "design_version": "1.0"},
        {"name": "Sol Arch", "role": "solution_architect", "decision": "approved", "date": "2024-05-03",
         "design_version": "1.0"}],
    **WAF,
}
DEPLOY = {
    "ado_organization_url": "https://dev.azure.com/contoso/",
    "ado_project": "churn",
    "approval_gates": [{"env": "prod", "approvers": ["gus@contoso.com"]}],
}


def _valid(stage, data):
    model, errors = validate_settings(stage, data)
    assert not errors, [str(e) for e in errors]
    return model


def _design_data():
    data = copy.deepcopy(DESIGN)
    mappings = default_settings("design")["role_mappings"]
    mappings += [{"role": "tester", "env": e, "azure_role": "Reader"} for e in ("dev", "test", "prod")]
    data["role_mappings"] = mappings
    return data


def _write(root, rel, text="x"):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return rel


def role_definition(role, scope=f"/subscriptions/{GUID}"):
    return {"Name": role.name, "IsCustom": True, "Description": role.description, "Actions": role.actions,
            "NotActions": role.not_actions, "DataActions": role.data_actions,
            "NotDataActions": role.not_data_actions, "AssignableScopes": [scope]}


def make_evidence(root, f, d, p):
    envs = {e.name: e for e in d.environments}
    foundations = {
        "artifacts": {"delivery_model_note": _write(root, "runs/1/delivery-model.md")},
        "repository": {"url": "https://github.com/contoso/churn.git", "reachable": True,
                       "folders": ["configuration", "src", "operation", "azure-pipelines", "docs",
                                   "notebooks",
                                   "tests"]},
    }
    for role in d.custom_roles:
        _write(root, f"runs/2/rbac/custom-roles/{role.name.replace(' ', '-')}.json",
               json.dumps(role_definition(role)))
    design = {
        "artifacts": {"decision_records": _write(root, "runs/2/decisions.md"),
                      "design_doc": _write(root, "runs/2/solution-design.md"),
                      "custom_roles": "runs/2/rbac/custom-roles",
                      "role_assignments": _write(root, "runs/2/rbac/role-assignments.csv"),
                      "iac": "runs/2/iac"},
        "design_version": "1.0",
        "iac": {"tools": ["arm"], "checkov": {"passed": 40, "failed": 0, "skipped": 3, "parse_errors": 0,
                                             "failed_checks": []},
                "parameter_files": {e.name: {"valid": True, "errors": []} for e in d.environments}},
    }
    deployed = p.environments_to_deploy
    tags = lambda env: {"project": f.project_name, "environment": env, "costCenter": "cc-1", "owner": "ana"}  # noqa: E731
    identities = {sp.name: sp for sp in d.service_principals}

    def scope(env, kind):
        rg = f"/subscriptions/{GUID}/resourceGroups/{envs[env].resource_group}"
        ws = resource_name(d, "workspace_name", env)
        if kind == "resource_group":
            return rg
        return f"{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"

    _write(root, "runs/2/iac/arm/azuredeploy.json", "{}")
    deploy = {
        "local_env": {
            "tools": {"azure_cli": "2.61.0", "ml_extension": "2.26.1", "python": "3.11.7",
                      "azure_ai_ml": "1.35.2",
                      "vscode": "1.90.0", "docker": "24.0.5", "git": "2.39.2"},
            "conflicting_extensions": [], "account": {"signed_in": True, "user": "ana@contoso.com"},
            "workspaces": {e: {"reachable": True, "error": ""} for e in deployed}},
        "inventory": {"workspaces": [
            {"env": e, "name": resource_name(d, "workspace_name", e), "subscription_id": GUID,
             "resource_group": envs[e].resource_group, "region": "westeurope", "tags": tags(e)}
            for e in deployed]},
        "pipeline": {"lint_errors": [], "last_run": {"status": "Succeeded", "url": "https://dev.azure.com/run/1"}},
        "resources": {e: {k: {"exists": True, "linked": True} for k in (
            "workspace", "storage_account", "key_vault", "app_insights", "container_registry", "vnet",
            "private_endpoint", "private_dns")} for e in deployed},
        "iac": {"validation": {e: {"ok": True, "errors": []} for e in deployed},
                "what_if": {e: {"unexpected_changes": []} for e in deployed}},
        "computes": {e: [{"name": c.name, "type": c.type, "vm_size": c.vm_size, "min_nodes": c.min_nodes,
                          "max_nodes": c.max_nodes} for c in p.compute_targets if c.env == e]
                     for e in deployed},
        "software_environments": {
            e: [{"name": x.name, "version": x.version} for x in p.aml_software_environments]
            for e in deployed},
        "service_connection_roles": {
            c.name: [{"role": identities[c.identity].role, "scope": scope(c.env, c.scope)}]
            for c in p.service_connections},
        "budgets": [{"env": b.env, "name": f"budget-{b.env}", "amount": b.amount, "notifications": 4}
                    for b in d.budgets],
    }
    return {"foundations": foundations, "design": design, "deploy": deploy}


@pytest.fixture
def good(tmp_path):
    f = _valid("foundations", FOUNDATIONS)
    d = _valid("design", _design_data())
    p = _valid("deploy", DEPLOY)
    ctx = CheckContext(settings={"foundations": f, "design": d, "deploy": p},
                       evidence=make_evidence(tmp_path, f, d, p), project_dir=tmp_path)
    return ctx


def variant(ctx, stage, **changes):
    """A copy of the context with some settings of one stage changed (and re-validated)."""
    data = ctx.settings[stage].model_dump(mode="json")
    data.update(changes)
    settings = dict(ctx.settings)
    settings[stage] = _valid(stage, data)
    return CheckContext(settings=settings, evidence=copy.deepcopy(ctx.evidence), project_dir=ctx.project_dir)


def with_evidence(ctx, stage, **changes):
    evidence = copy.deepcopy(ctx.evidence)
    evidence[stage].update(changes)
    return CheckContext(settings=dict(ctx.settings), evidence=evidence, project_dir=ctx.project_dir)


def fails(ctx, item, *fragments):
    result = run_check(item, ctx)
    assert not result.passed, f"{item} passed: {result.reason}"
    for fragment in fragments:
        assert fragment in result.reason, f"{fragment!r} not in {result.reason!r}"
    return result


# ---------------------------------------------------------------------------


def test_every_auto_item_of_stages_1_to_3_has_a_check():
    registered = {k for k in all_checks() if k[:2] in ("S1", "S2", "S3")}
    assert registered == set(ITEMS)


def test_every_auto_item_in_the_real_catalogue_is_registered(monkeypatch):
    monkeypatch.undo()
    cat = catalogue_module.load_catalogue()
    auto = {d.id for s in cat.stages[:3] for d in s.deliverables if d.is_auto}
    assert auto == set(ITEMS)


@pytest.mark.parametrize("item", ITEMS)
def test_check_passes_on_a_good_project(good, item):
    result = run_check(item, good)
    assert result.passed, f"{item}: {result.reason}"
    assert result.reason


@pytest.mark.parametrize("item, stage", [("S1-05", "foundations"), ("S2-04", "design"), ("S3-01", "deploy")])
def test_checks_needing_a_run_say_which_stage_to_run(good, item, stage):
    ctx = CheckContext(settings=good.settings, evidence={}, project_dir=good.project_dir)
    fails(ctx, item, "no run evidence yet", f"mlops-accelerator run {stage}")


def test_invalid_saved_settings_are_reported(good):
    ctx = CheckContext(settings={**good.settings, "design": None}, evidence=good.evidence)
    fails(ctx, "S2-08", "saved settings of stage 'design' are invalid", "mlops-accelerator validate design")


def test_missing_evidence_key_names_it(good):
    evidence = copy.deepcopy(good.evidence)
    del evidence["deploy"]["pipeline"]
    fails(CheckContext(settings=good.settings, evidence=evidence, project_dir=good.project_dir), "S3-04",
          "no 'pipeline' evidence")


# --- Stage 1 -------------------------------------------------------------------------


def test_s1_03_roster_must_cover_the_roles_stages_need(good):
    roster = [m for m in FOUNDATIONS["team_roster"] if m["name"] != "Eli Eng"]
    r = fails(variant(good, "foundations", team_roster=roster), "S1-03",
              "2 role(s) have no one on the roster", "data_engineer (stage 3)", "tester (stage 5)")
    assert "group_manager" not in r.reason
    fails(variant(good, "foundations", team_roster=[], skilling_plan=[]), "S1-03", "roster is empty")


def test_s1_03_scrum_master_only_needed_for_scrum(good):
    roster = copy.deepcopy(FOUNDATIONS["team_roster"])
    roster[0]["roles"] = ["team_lead", "project_lead"]
    fails(variant(good, "foundations", team_roster=roster), "S1-03",
          "scrum_master (the agile method is Scrum)")
    assert run_check("S1-03", variant(good, "foundations", team_roster=roster, agile_method="kanban")).passed


def test_s1_03_everyone_tasks_require_no_role(good):
    # project_manager, app_developer, data_analyst are only in "everyone" tasks of the fake catalogue
    assert "project_manager" not in run_check("S1-03", good).reason


def test_s1_04_needs_all_four_dimensions(good):
    partial = FOUNDATIONS["maturity_assessment"][:2]
    fails(variant(good, "foundations", maturity_assessment=partial), "S1-04", "lacks 2 of 4",
          "model_release, application_integration")
    assert "current level 1 (DevOps but no MLOps)" in run_check("S1-04", good).reason


def test_s1_05_delivery_model_and_note(good):
    fails(variant(good, "foundations", test_levels=[]), "S1-05", "no test level")
    (good.project_dir / "runs/1/delivery-model.md").unlink()
    fails(good, "S1-05", "delivery-model note was not generated", "run foundations")


@pytest.mark.parametrize("changes, fragment", [
    ({"target_maturity_level": 4, "maturity_assessment": assessment(1, 4)}, "beyond a 12-week project"),
    ({"target_maturity_level": 1, "maturity_assessment": assessment(1, 1)},
     "below the accelerator's baseline"),
    ({"maturity_assessment": []}, "complete the maturity assessment"),
])
def test_s1_06_target_level(good, changes, fragment):
    fails(variant(good, "foundations", **changes), "S1-06", fragment)


def test_s1_07_skilling_plan_covers_flagged_gaps_and_unstaffed_roles(good):
    fails(variant(good, "foundations", skilling_plan=[]), "S1-07", "'MLflow tracking' (Dana Sci)")
    roster = [m for m in FOUNDATIONS["team_roster"] if m["name"] != "Eli Eng"]
    r = fails(variant(good, "foundations", team_roster=roster), "S1-07", "roles nobody holds yet",
              "data_engineer", "tester")
    assert "skill gaps flagged" not in r.reason


@pytest.mark.parametrize("changes, evidence, fragment", [
    ({"repo_url": ""}, {}, "repo_url is empty"),
    ({}, {"repository": {"url": "https://github.com/contoso/churn", "reachable": False, "error": "404"}},
     "could not be reached (404)"),
    ({}, {"repository": {"url": "https://github.com/contoso/churn", "reachable": True, "folders": ["src"]}},
     "lacks the dstoolkit_mlops_base template's folder(s) configuration, operation"),
    ({"repo_url": "https://github.com/contoso/other"}, {}, "re-run stage 1"),
])
def test_s1_08_repository(good, changes, evidence, fragment):
    ctx = with_evidence(variant(good, "foundations", **changes), "foundations", **evidence)
    fails(ctx, "S1-08", fragment)


# --- Stage 2 -------------------------------------------------------------------------


def test_s2_03_technology_choices(good):
    fails(variant(good, "design", orchestrator=["aml_pipelines"]), "S2-03",
          "stage 1 chose azure_devops_pipelines", "do not include azure_devops")
    fails(variant(good, "design", monitoring_tools=[]), "S2-03", "monitoring_tools is empty")
    evidence = copy.deepcopy(good.evidence)
    del evidence["design"]["artifacts"]["decision_records"]
    fails(CheckContext(good.settings, evidence, good.project_dir), "S2-03", "no technology decision records")


def test_s2_04_design_approval(good):
    fails(variant(good, "design", design_approvals=[]), "S2-04",
          "design 1.0 still needs approval by: team_lead; solution_architect")
    approvals = copy.deepcopy(DESIGN["design_approvals"])
    approvals.append({"name": "Sol Arch", "role": "solution_architect", "decision": "changes_requested",
                      "date": "2024-05-04", "design_version": "1.0", "comment": "add a firewall"})
    fails(variant(good, "design", design_approvals=approvals), "S2-04",
          "solution_architect Sol Arch changes requested on 2024-05-04: 'add a firewall'")
    # a new design version needs a new document and new approvals
    bumped = variant(good, "design", design_version="1.1")
    fails(bumped, "S2-04", "document is for version 1.0", "regenerate")
    fails(with_evidence(bumped, "design", design_version="1.1"), "S2-04",
          "team_lead (on record: version 1.0)")
    approvals = copy.deepcopy(DESIGN["design_approvals"])
    approvals[0]["name"] = "Stranger"
    fails(variant(good, "design", design_approvals=approvals), "S2-04",
          "Stranger approved but is not on the roster")


def test_s2_05_security_controls(good):
    ctx = variant(good, "design", private_endpoint_type="none", public_network_access="Enabled")
    fails(ctx, "S2-05", "no private endpoint")
    envs = copy.deepcopy(DESIGN["environments"])
    envs[2].update(approval_required=False, approvers=[])
    fails(variant(good, "design", environments=envs), "S2-05",
          "changes to production ('prod') need no approval")


def test_s2_06_rbac(good, tmp_path):
    mappings = [m for m in good.settings["design"].model_dump()["role_mappings"]
                if not (m["role"] == "tester" and m["env"] == "prod")]
    fails(variant(good, "design", role_mappings=mappings), "S2-06", "tester in prod")
    sps = good.settings["design"].model_dump()["service_principals"]
    sps[0].update(role="Owner", justification="bootstrap")
    fails(variant(good, "design", service_principals=sps), "S2-06",
          "identities with Owner: id-mlops-dev-infra")


def test_s2_06_custom_role_definition_files(good):
    folder = good.project_dir / "runs/2/rbac/custom-roles"
    role = good.settings["design"].custom_roles[0]
    bad = role_definition(role, scope="subscriptions/xyz")
    bad["Actions"] = ["*"]
    (folder / "MLOps-Custom.json").write_text(json.dumps(bad))
    fails(good, "S2-06", "MLOps-Custom.json", "malformed assignable scope(s) subscriptions/xyz",
          "Actions contains '*'")
    (folder / "MLOps-Custom.json").unlink()
    fails(good, "S2-06", "no definition file for custom role 'MLOps Custom'")


@pytest.mark.parametrize("changes, fragment", [
    ({"budgets": [{"env": "dev", "amount": 100}, {"env": "prod", "amount": 100}]},
     "no budget with an alert for test"),
    ({"cluster_min_nodes": 1}, "clusters keep 1 node(s) running"),
    ({"azure_policy_assignments": ["require_private_endpoint"]}, "no allowed-VM-size policy"),
    ({"compute_instance_idle_shutdown_minutes": None, "compute_instance_stop_schedule": None},
     "compute instances never stop"),
])
def test_s2_08_cost_controls(good, changes, fragment):
    fails(variant(good, "design", **changes), "S2-08", fragment)


def test_s2_09_regions(good):
    fails(variant(good, "design", allowed_regions=["northeurope"]), "S2-09",
          "westeurope (primary_region) is not an allowed region (northeurope)")
    envs = [_env(n, region="centralus") for n in ("dev", "test")] + [
        _env("prod", region="centralus", approval_required=True, approvers=["gus@contoso.com"])]
    ctx = variant(good, "design", environments=envs, primary_region="centralus")
    assert "centralus -> westcentralus" in run_check("S2-09", ctx).reason


def test_s2_10_waf_review(good):
    ctx = variant(good, "design", waf_security={"secrets_in_key_vault": "yes"})
    fails(ctx, "S2-10", "4 of 29 Well-Architected items are unanswered: security (4)")
    waf = dict(DESIGN["waf_cost"], azure_advisor="no")
    assert "cost.azure_advisor" in run_check("S2-10", variant(good, "design", waf_cost=waf)).reason


def test_s2_11_edge_assessment(good):
    assert "not applicable" in run_check("S2-11", good).reason
    fails(variant(good, "design", inference_mode="edge"), "S2-11", "reasons, target compute, HA/DR criteria")
    complete = {"reasons": ["low_latency"], "target_compute": "kubernetes", "ha_dr_criteria": "99.9 %",
                "hardware": "gpu", "frameworks": ["onnx"]}
    assert run_check("S2-11", variant(good, "design", inference_mode="edge", edge_assessment=complete)).passed


# --- Stage 3 -------------------------------------------------------------------------


def _local(good, **changes):
    local = copy.deepcopy(good.evidence["deploy"]["local_env"])
    for key, value in changes.items():
        if key == "tools":
            local["tools"].update(value)
        else:
            local[key] = value
    return with_evidence(good, "deploy", local_env=local)


@pytest.mark.parametrize("changes, fragment", [
    ({"tools": {"docker": None}}, "docker is not installed"),
    ({"tools": {"azure_cli": "2.30.0"}}, "Azure CLI 2.30.0 is older than 2.38.0"),
    ({"tools": {"python": "3.9.18"}}, "Python 3.9.18 differs from the project's 3.11"),
    ({"conflicting_extensions": ["azure-cli-ml"]}, "az extension remove -n azure-cli-ml"),
    ({"account": {"signed_in": False}}, "az login"),
    ({"workspaces": {"dev": {"reachable": True}, "test": {"reachable": True},
                     "prod": {"reachable": False, "error": "403 Forbidden"}}},
     "prod workspace cannot be reached: 403"),
])
def test_s3_01_local_environment(good, changes, fragment):
    fails(_local(good, **changes), "S3-01", fragment)


def test_s3_02_workspaces_match_the_design(good):
    inventory = copy.deepcopy(good.evidence["deploy"]["inventory"])
    inventory["workspaces"][0]["name"] = "ws-random"
    del inventory["workspaces"][1]["tags"]["costCenter"]
    inventory["workspaces"][2]["tags"]["environment"] = "production"
    fails(with_evidence(good, "deploy", inventory=inventory), "S3-02",
          "dev: no workspace named mlw-mlops-dev",
          "mlw-mlops-test lacks tag 'costCenter'", "tag 'environment' is 'production', not 'prod'")


def test_s3_03_separate_environments(good):
    deploy = good.settings["deploy"].model_dump(mode="json")
    ctx = variant(good, "deploy", environments_to_deploy=["dev", "prod"],
                  compute_targets=[c for c in deploy["compute_targets"] if c["env"] != "test"],
                  service_connections=[c for c in deploy["service_connections"] if c["env"] != "test"])
    fails(ctx, "S3-03", "test is designed but not deployed (add it to environments_to_deploy)")
    params = {"dev": {"valid": True}, "test": {"valid": False, "errors": ["location: not allowed"]},
              "prod": {"valid": True}}
    scan = {**good.evidence["design"]["iac"], "parameter_files": params}
    fails(with_evidence(good, "design", iac=scan), "S3-03",
          "test parameter file invalid (location: not allowed)")


def test_s3_04_pipelines(good):
    fails(variant(good, "deploy", ado_organization_url=""), "S3-04", "ado_organization_url is empty")
    fails(variant(good, "deploy", approval_gates=[]), "S3-04", "prod has no approval gate")
    fails(variant(good, "deploy", cicd_infra_platform="github_actions"), "S3-04",
          "github_repository is empty")
    pipeline = {"lint_errors": ["line 3: unknown key 'stagez'"], "last_run": {"status": "failed", "url": "u"}}
    fails(with_evidence(good, "deploy", pipeline=pipeline), "S3-04", "unknown key 'stagez'",
          "last infrastructure pipeline run failed (u)")


def test_s3_05_services_deployed(good):
    resources = copy.deepcopy(good.evidence["deploy"]["resources"])
    resources["prod"]["key_vault"]["exists"] = False
    resources["dev"]["container_registry"]["linked"] = False
    fails(with_evidence(good, "deploy", resources=resources), "S3-05", "prod: key_vault missing",
          "dev: container_registry not linked")
    # what is required follows the design: without a registry in the design, none is expected
    resources = copy.deepcopy(good.evidence["deploy"]["resources"])
    for env in resources.values():
        del env["container_registry"]
    ctx = with_evidence(good, "deploy", resources=resources)
    fails(ctx, "S3-05", "dev: container_registry missing")
    assert run_check("S3-05", variant(ctx, "design", container_registry_option="none")).passed


def test_s3_06_infrastructure_as_code(good):
    # the IaC and its checkov scan come from the stage-2 run
    scan = copy.deepcopy(good.evidence["design"]["iac"])
    scan["checkov"] = {"failed": 2, "parse_errors": 1, "failed_checks": ["CKV_AZURE_35", "CKV_AZURE_59"]}
    scan["parameter_files"]["prod"] = {"valid": False, "errors": ["missing parameter location"]}
    fails(with_evidence(good, "design", iac=scan), "S3-06", "checkov could not parse 1 file(s)",
          "CKV_AZURE_35", "prod: parameter file invalid (missing parameter location)")
    # Azure's what-if, once the azureml target has read it back, is judged too
    azure = copy.deepcopy(good.evidence["deploy"]["iac"])
    azure["what_if"]["prod"]["unexpected_changes"] = ["Modify storageAccounts/stmlopsprod: minimumTlsVersion"]
    fails(with_evidence(good, "deploy", iac=azure), "S3-06",
          "prod: drift from the design (Modify storageAccounts/stmlopsprod")
    fails(variant(good, "deploy", iac_tool="terraform"), "S3-06", "holds no terraform files")
    evidence = copy.deepcopy(good.evidence)
    del evidence["design"]["artifacts"]["iac"]
    fails(CheckContext(good.settings, evidence, good.project_dir), "S3-06",
          "the stage-2 run generated no infrastructure-as-code folder", "mlops-accelerator run design")
    # on the local target (no stage-3 evidence from Azure) the stage-2 IaC alone proves it
    evidence = copy.deepcopy(good.evidence)
    del evidence["deploy"]["iac"]
    result = run_check("S3-06", CheckContext(good.settings, evidence, good.project_dir))
    assert result.passed and "run when it is deployed (azureml target)" in result.reason, result.reason


def test_s3_07_compute_targets(good):
    targets = good.settings["deploy"].model_dump()["compute_targets"]
    targets[2]["min_nodes"] = 1
    fails(variant(good, "deploy", compute_targets=targets), "S3-07",
          "cpu-cluster in prod keeps 1 node(s) running: set min_nodes to 0")
    targets = good.settings["deploy"].model_dump()["compute_targets"]
    targets[0]["vm_size"] = "Standard_E16s_v5"
    fails(variant(good, "deploy", compute_targets=targets), "S3-07",
          "Standard_E16s_v5 is not an allowed VM size",
          "vm_size is Standard_DS3_v2, configured Standard_E16s_v5")
    computes = copy.deepcopy(good.evidence["deploy"]["computes"])
    computes["test"] = []
    fails(with_evidence(good, "deploy", computes=computes), "S3-07", "cpu-cluster in test: not created")


def test_s3_08_software_environments(good):
    found = copy.deepcopy(good.evidence["deploy"]["software_environments"])
    found["prod"] = [{"name": "train-env", "version": "1"}]
    fails(with_evidence(good, "deploy", software_environments=found), "S3-08", "infer-env:1 in prod")
    fails(variant(good, "deploy", aml_software_environments=[]), "S3-08", "no software environments")


def test_s3_09_least_privilege(good):
    conns = good.settings["deploy"].model_dump()["service_connections"]
    conns[0]["identity"] = "sp-unknown"
    fails(variant(good, "deploy", service_connections=conns), "S3-09", "uses 'sp-unknown'")
    roles = copy.deepcopy(good.evidence["deploy"]["service_connection_roles"])
    roles["conn-mlops-prod-aml"].append({"role": "Owner", "scope": f"/subscriptions/{GUID}"})
    fails(with_evidence(good, "deploy", service_connection_roles=roles), "S3-09",
          "conn-mlops-prod-aml holds Owner", "access above its designed scope")
    roles = copy.deepcopy(good.evidence["deploy"]["service_connection_roles"])
    roles["conn-mlops-dev-aml"] = [{"role": "Reader", "scope": roles["conn-mlops-dev-aml"][0]["scope"]}]
    fails(with_evidence(good, "deploy", service_connection_roles=roles), "S3-09",
          "conn-mlops-dev-aml lacks MLOps Custom")


def test_s3_10_budgets(good):
    fails(variant(good, "deploy", budget_deployment=False), "S3-10", "budget_deployment is off")
    budgets = [b for b in good.evidence["deploy"]["budgets"] if b["env"] != "prod"]
    fails(with_evidence(good, "deploy", budgets=budgets), "S3-10", "prod: no budget of 2000 EUR")
    budgets = copy.deepcopy(good.evidence["deploy"]["budgets"])
    budgets[0]["notifications"] = 0
    fails(with_evidence(good, "deploy", budgets=budgets), "S3-10", "dev: the budget has no alerts")
