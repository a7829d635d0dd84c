"""Stage 5 CI/CD for GitHub Actions and Azure DevOps: CI on pull requests, CD through the environments.

    .github/workflows/models-ci.yml    on PRs touching the training code: lint (the settings' linters),
    azure-pipelines/models-ci.yml      unit tests with JUnit XML, coverage against the threshold
    .github/workflows/models-cd.yml    on merge: train (the Azure ML pipeline), then per environment in
    azure-pipelines/models-cd.yml      promotion order: endpoint, green deployment, smoke test, traffic
                                       switch; production waits for its environment's approvers
Sign-in is OIDC (workload identity federation, the stage-3 service connections); settings reach the
scripts as environment variables (data), never pasted into shell text. Linted with the stage-3 linters.

How the model reaches each environment's workspace (models.cross_env_model_transfer):
    aml_registry          the first workspace's new champion is shared to the stage-3 registry as version
                          RELEASE (the CI run's id); every environment deploys that registry version
    copy_model_artifact   the champion's MLflow folder travels as a CI artifact and is registered in each
                          workspace as version RELEASE
    retrain_in_each_env   each environment trains in its own workspace and deploys its own champion
The champion is what the pipeline's register step wrote (modeling/steps.py: champion-version). When the
evaluation kept the current champion there is none: CD stops after training and promotes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..artifacts.cicd import (
    ADO_BASH_STRICT,
    ADO_RUN_ID,
    GH_RUN_ID,
    INFRA_POLICY,
    StepPolicy,
    _dump,
    _literal,
    lint_ado_pipeline,
    lint_github_workflow,
)
from .quality import LINTERS
from .steps import CHAMPION_VERSION, MODEL_SUBDIR

CODE_PATHS = ["src/**", "tests/**", "pyproject.toml"]
# Where `az ml job download --output-name registration --download-path promotion` puts the register
# step's output (modeling/steps.py): the champion's version and, for copy transfer, its MLflow folder.
REGISTRATION = "promotion/named-outputs/registration"
PROMOTED_MODEL = f"{REGISTRATION}/{MODEL_SUBDIR}"
ADO_WORKSPACE = "Pipeline.Workspace"  # where a deployment job downloads the run's artifacts
ADO_STAGE_ATTEMPT = "System.StageAttempt"  # a re-run stage submits its pipeline under a new name


def _lint_commands(linters: list[str]) -> list[tuple[str, str]]:
    out = []
    for name in linters:
        args = [a for a in LINTERS[name][1:] if a not in ("--output-format", "json", "--output-format=json")]
        out.append((f"Lint: {name}", "python -m " + " ".join(args) + " src tests"))
    return out


TEST_SCRIPT = ("coverage run -m pytest --junitxml=junit.xml tests\n"
               "coverage xml -o coverage.xml\n"
               'coverage report --fail-under="$COVERAGE_THRESHOLD"')
INSTALL = "python -m pip install --upgrade pip\npython -m pip install -e . pytest coverage ruff pylint"
DEFAULTS = 'az configure --defaults group="$AZURE_RESOURCE_GROUP" workspace="$AZUREML_WORKSPACE"\n'
# The pipeline runs under a name of the CI run's, so its register step's output can be downloaded; a
# missing champion-version file (the evaluation kept the current champion) stops the step right there.
TRAIN = ('az ml environment create --file "$SPECS/environment.yml"\n'
         'az ml job create --file "$SPECS/$TRAIN_SPEC" --name "$TRAIN_JOB" --set inputs.environment="$TARGET_ENV" '
         '--stream\n'
         'az ml job download --name "$TRAIN_JOB" --output-name registration --download-path promotion\n'
         f'read -r MODEL_VERSION < "{REGISTRATION}/{CHAMPION_VERSION}"')
# A re-run of the same CI run finds RELEASE already there and does not share or register it twice.
SHARE = ('\naz ml model show --registry-name "$REGISTRY" --name "$MODEL" --version "$RELEASE" >/dev/null 2>&1 || '
         'az ml model share --name "$MODEL" --version "$MODEL_VERSION" --registry-name "$REGISTRY" '
         '--share-with-name "$MODEL" --share-with-version "$RELEASE"')
COPY_IN = ('az ml model show --name "$MODEL" --version "$RELEASE" >/dev/null 2>&1 || '
           'az ml model create --name "$MODEL" --version "$RELEASE" --type "$MODEL_TYPE" '
           '--path "$PROMOTED_MODEL"\n')
# The deployment specs name this run's version of the project's registry; --set points them at the promoted one.
MODEL_URI = {"aml_registry": "azureml://registries/$REGISTRY/models/$MODEL/versions/$RELEASE",
             "copy_model_artifact": "azureml:$MODEL:$RELEASE", "retrain_in_each_env": "azureml:$MODEL:$MODEL_VERSION"}


TRAIN_TITLE = "Train, evaluate and register in Azure ML"
# The step's title says why a missing champion-version file fails it: bash's own message names only the file.
NO_CHAMPION = " (stops here when the evaluation kept the current champion)"


def deploy_script(transfer: str, online: bool = True, batch: bool = False) -> str:
    """One workspace: the online endpoint blue/green (endpoint, the idle deployment on the promoted
    model, smoke test, then the traffic split) and/or the batch endpoint's deployment on it, as the
    settings' deployment_pattern asks (a batch-only design gets no online endpoint, which bills per hour)."""
    model = MODEL_URI[transfer]
    script = DEFAULTS + (TRAIN + "\n" if transfer == "retrain_in_each_env" else "") + (
        COPY_IN if transfer == "copy_model_artifact" else "")
    if online:
        script += ('az ml online-endpoint show --name "$ENDPOINT" >/dev/null 2>&1 || '
                   'az ml online-endpoint create --file "$SPECS/$TARGET_ENV/online-endpoint.yml"\n'
                   'az ml online-deployment create --file "$SPECS/$TARGET_ENV/deployment-$NEW_DEPLOYMENT.yml" '
                   f'--set model="{model}" --skip-script-validation\n'
                   'az ml online-endpoint invoke --name "$ENDPOINT" --deployment-name "$NEW_DEPLOYMENT" '
                   '--request-file "$SPECS/sample-request.json"\n'
                   'az ml online-endpoint update --file "$SPECS/$TARGET_ENV/online-endpoint-traffic.yml"'
                   + ("\n" if batch else ""))
    if batch:
        script += ('az ml batch-endpoint show --name "$BATCH_ENDPOINT" >/dev/null 2>&1 || '
                   'az ml batch-endpoint create --file "$SPECS/$TARGET_ENV/batch-endpoint.yml"\n'
                   'az ml batch-deployment create --file "$SPECS/$TARGET_ENV/batch-deployment.yml" '
                   f'--set model="{model}" --set-default')
    return script


def deploy_title(transfer: str, online: bool = True, batch: bool = False) -> str:
    what = "; ".join((["blue/green: deploy, smoke test, switch traffic"] if online else [])
                     + (["batch: the endpoint's default deployment on the new model"] if batch else []))
    return "Train here" + NO_CHAMPION + ", then " + what if transfer == "retrain_in_each_env" else \
        what[0].upper() + what[1:]


def train_script(transfer: str) -> str:
    return DEFAULTS + TRAIN + (SHARE if transfer == "aml_registry" else "")


def plan(models: Any, cicd_plan: dict[str, Any], specs_dir: str) -> dict[str, Any]:
    from ..artifacts.azureml_specs import registry_name
    from ..settings.models import endpoint_in

    by_name = {e["name"]: e for e in cicd_plan["environments"]}
    envs = [dict(by_name[n]) for n in models.promotion_path if n in by_name]
    # The model approval adds gates to stage 3's: manual, a person approves every deployment;
    # hybrid, automatic up to test and a person approves the last (production) environment.
    for i, e in enumerate(envs):
        e["gated"] = e["gated"] or models.model_approval == "manual" or (
            models.model_approval == "hybrid" and i == len(envs) - 1)
        e["endpoint"] = endpoint_in(models.online_endpoint.name, e["name"])  # unique per region: one per env
        e["batch_endpoint"] = endpoint_in(models.batch_endpoint.name, e["name"])
    deps = models.online_endpoint.deployments
    new = next((d.name for d in deps if d.traffic == 0), deps[-1].name)  # the idle colour takes the new model
    problems = []
    if models.training_method != "pipeline" or "register" not in models.pipeline_steps:
        # only the pipeline's register step says which version is the new champion
        problems.append(f"CD promotes the champion the training pipeline's register step names: models."
                        f"training_method is '{models.training_method}' and models.pipeline_steps "
                        f"{list(models.pipeline_steps)}; choose 'pipeline' with a 'register' step")
    return {"project": cicd_plan["project"], "environments": envs, "specs": specs_dir,
            "endpoint": models.online_endpoint.name, "new_deployment": new,
            # the Azure ML training pipeline (settings' steps) or, for other methods, one command job
            "train_spec": "train-pipeline.yml" if models.training_method == "pipeline" else "train-job.yml",
            "coverage": str(models.coverage_threshold_pct), "linters": list(models.code_quality_checks),
            "transfer": models.cross_env_model_transfer, "online": models.serves_online,
            "batch": models.serves_batch,
            "model": models.model_registration.name,
            "model_type": models.model_registration.type, "registry": registry_name(cicd_plan["project"]),
            "missing": [n for n in models.promotion_path if n not in by_name], "problems": problems}


def _header(p: dict[str, Any], what: str) -> str:
    return (f"# {what} of {p['project']}'s model (stage 5), written by the MLOps Accelerator.\n"
            "# Signs in to Azure with OIDC (no stored secret); production waits for its environment's approvers.\n")


def github_ci(p: dict[str, Any]) -> str:
    steps: list[dict[str, Any]] = [{"uses": "actions/checkout@v4"},
                                   {"uses": "actions/setup-python@v5", "with": {"python-version": "3.11"}},
                                   {"name": "Install", "run": _literal(INSTALL)}]
    steps += [{"name": t, "run": c} for t, c in _lint_commands(p["linters"])]
    steps += [{"name": "Unit tests (JUnit XML) and coverage", "run": _literal(TEST_SCRIPT)},
              {"name": "Keep test results", "if": "always()", "uses": "actions/upload-artifact@v4",
               "with": {"name": "test-results", "path": _literal("junit.xml\ncoverage.xml")}}]
    data = {"name": "Model CI", "on": {"pull_request": {"branches": ["main"], "paths": CODE_PATHS}},
            "permissions": {"contents": "read"}, "env": {"COVERAGE_THRESHOLD": p["coverage"]},
            "jobs": {"test": {"runs-on": "ubuntu-latest", "steps": steps}}}
    return _dump(data, _header(p, "GitHub Actions CI"))


def _login() -> dict[str, Any]:
    return {"name": "Sign in to Azure (OIDC federated credential, no secret)", "uses": "azure/login@v2",
            "with": {"client-id": "${{ vars.AZURE_CLIENT_ID }}", "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
                     "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}"}}


def _promotion_env(p: dict[str, Any], run_id: str, attempt: str) -> dict[str, str]:
    """The workflow-wide variables of promotion: data, from the settings and the CI run's id."""
    out = {"SPECS": p["specs"], "TRAIN_SPEC": p["train_spec"], "NEW_DEPLOYMENT": p["new_deployment"],
           "MODEL": p["model"], "RELEASE": run_id, "TRAIN_JOB": f"train-{run_id}-{attempt}"}
    if p["transfer"] == "aml_registry":
        out["REGISTRY"] = p["registry"]
    if p["transfer"] == "copy_model_artifact":
        out["MODEL_TYPE"] = p["model_type"]
    return out


def _endpoints_env(p: dict[str, Any], e: dict[str, Any]) -> dict[str, str]:
    """The deployment job's endpoint names (each environment has its own: unique per region)."""
    return {**({"ENDPOINT": e["endpoint"]} if p["online"] else {}),
            **({"BATCH_ENDPOINT": e["batch_endpoint"]} if p["batch"] else {})}


def github_cd(p: dict[str, Any]) -> str:
    azure_env = {"AZURE_RESOURCE_GROUP": "${{ vars.AZURE_RESOURCE_GROUP }}",
                 "AZUREML_WORKSPACE": "${{ vars.AZUREML_WORKSPACE }}"}
    first = p["environments"][0]["name"] if p["environments"] else "dev"
    transfer = p["transfer"]
    jobs: dict[str, Any] = {}
    previous = None
    if transfer != "retrain_in_each_env":  # else every environment trains for itself
        steps = [{"uses": "actions/checkout@v4"}, _login(),
                 {"name": TRAIN_TITLE + (", share the champion to the registry" if transfer == "aml_registry"
                                         else "") + NO_CHAMPION,
                  "run": _literal(train_script(transfer))}]
        if transfer == "copy_model_artifact":
            steps.append({"name": "Keep the champion for the next environments", "uses": "actions/upload-artifact@v4",
                          "with": {"name": "promotion", "path": "promotion", "if-no-files-found": "error"}})
        jobs["train"] = {"runs-on": "ubuntu-latest", "environment": first,
                         "env": {**azure_env, "TARGET_ENV": first}, "steps": steps}
        previous = "train"
    for e in p["environments"]:
        jid = f"deploy-{e['name']}"
        steps = [{"uses": "actions/checkout@v4"}, _login()]
        if transfer == "copy_model_artifact":
            steps.append({"name": "The champion trained in " + first, "uses": "actions/download-artifact@v4",
                          "with": {"name": "promotion", "path": "promotion"}})
        steps.append({"name": deploy_title(transfer, p["online"], p["batch"]),
                      "run": _literal(deploy_script(transfer, p["online"], p["batch"]))})
        jobs[jid] = {"name": f"Deploy to {e['name']}" + (" (needs approval)" if e["gated"] else ""),
                     "runs-on": "ubuntu-latest", **({"needs": previous} if previous else {}),
                     "environment": e["name"],
                     "concurrency": {"group": f"models-{e['name']}", "cancel-in-progress": False},
                     "env": {**azure_env, "TARGET_ENV": e["name"], **_endpoints_env(p, e),
                             **({"PROMOTED_MODEL": PROMOTED_MODEL} if transfer == "copy_model_artifact" else {})},
                     "steps": steps}
        previous = jid
    data = {"name": "Model CD", "on": {"push": {"branches": ["main"], "paths": CODE_PATHS}, "workflow_dispatch": {}},
            "permissions": {"id-token": "write", "contents": "read"},
            "env": _promotion_env(p, GH_RUN_ID, "${{ github.run_attempt }}"), "jobs": jobs}
    return _dump(data, _header(p, "GitHub Actions CD"))


def ado_ci(p: dict[str, Any]) -> str:
    steps: list[dict[str, Any]] = [{"task": "UsePythonVersion@0", "inputs": {"versionSpec": "3.11"}},
                                   {"script": _literal(INSTALL), "displayName": "Install"}]
    steps += [{"script": c, "displayName": t} for t, c in _lint_commands(p["linters"])]
    steps += [{"script": _literal(TEST_SCRIPT), "displayName": "Unit tests (JUnit XML) and coverage"},
              {"task": "PublishTestResults@2", "condition": "always()",
               "inputs": {"testResultsFormat": "JUnit", "testResultsFiles": "junit.xml"}},
              # @1 with Cobertura (coverage.py's XML): the published Azure Pipelines schema (v1.261)
              # has no input definition for @2, so @2 cannot be validated offline.
              {"task": "PublishCodeCoverageResults@1", "condition": "always()",
               "inputs": {"codeCoverageTool": "Cobertura", "summaryFileLocation": "coverage.xml"}}]
    data = {"trigger": "none", "pr": {"branches": {"include": ["main"]}, "paths": {"include": CODE_PATHS}},
            "variables": {"COVERAGE_THRESHOLD": p["coverage"]},
            "stages": [{"stage": "test", "displayName": "Lint, unit tests, coverage",
                        "jobs": [{"job": "test", "pool": {"vmImage": "ubuntu-latest"}, "steps": steps}]}]}
    return _dump(data, _header(p, "Azure DevOps CI"))


def _cli(connection: str, title: str, script: str) -> dict[str, Any]:
    return {"task": "AzureCLI@2", "displayName": title,
            "inputs": {"azureSubscription": connection, "scriptType": "bash", "scriptLocation": "inlineScript",
                       "inlineScript": _literal(ADO_BASH_STRICT + script)}}


def ado_cd(p: dict[str, Any]) -> str:
    first = p["environments"][0] if p["environments"] else {"connection": "", "name": "dev", "resource_group": ""}
    transfer = p["transfer"]
    stages: list[dict[str, Any]] = []
    previous = None
    if transfer != "retrain_in_each_env":  # else every environment trains for itself
        steps: list[dict[str, Any]] = [{"checkout": "self"}, _cli(first["connection"], TRAIN_TITLE + NO_CHAMPION,
                                                                        train_script(transfer))]
        if transfer == "copy_model_artifact":  # deployment jobs download it to $(Pipeline.Workspace)/promotion
            steps.append({"publish": "promotion", "artifact": "promotion",
                          "displayName": "Keep the champion for the next environments"})
        stages.append({"stage": "train", "displayName": TRAIN_TITLE,
                       "variables": {"AZURE_RESOURCE_GROUP": first.get("resource_group", ""),
                                     "TARGET_ENV": first["name"],
                                     "AZUREML_WORKSPACE": f"$(AZUREML_WORKSPACE_{first['name'].upper()})"},
                       "jobs": [{"job": "train", "pool": {"vmImage": "ubuntu-latest"}, "steps": steps}]})
        previous = "train"
    for e in p["environments"]:
        sid = f"deploy_{e['name'].replace('-', '_')}"
        title = f"Deploy to {e['name']}" + (" (needs approval)" if e["gated"] else "")
        more = {"PROMOTED_MODEL": f"$({ADO_WORKSPACE})/{PROMOTED_MODEL}"} if transfer == "copy_model_artifact" else {}
        stages.append({"stage": sid, "displayName": title,
                       **({"dependsOn": [previous]} if previous else {"dependsOn": []}), "condition": "succeeded()",
                       "variables": {"TARGET_ENV": e["name"], **_endpoints_env(p, e),
                                     "AZURE_RESOURCE_GROUP": e["resource_group"],
                                     "AZUREML_WORKSPACE": f"$(AZUREML_WORKSPACE_{e['name'].upper()})", **more},
                       "jobs": [{"deployment": "deploy_model", "pool": {"vmImage": "ubuntu-latest"},
                                 "environment": e["ado_environment"],
                                 "strategy": {"runOnce": {"deploy": {"steps": [
                                     {"checkout": "self"},
                                     _cli(e["connection"], deploy_title(transfer, p["online"], p["batch"]),
                                          deploy_script(transfer, p["online"], p["batch"]))]}}}}]})
        previous = sid
    data = {"trigger": {"branches": {"include": ["main"]}, "paths": {"include": CODE_PATHS}}, "pr": "none",
            "variables": _promotion_env(p, ADO_RUN_ID, f"$({ADO_STAGE_ATTEMPT})"), "stages": stages}
    return _dump(data, _header(p, "Azure DevOps CD"))


def _order_problems(text: str, p: dict[str, Any], github: bool) -> list[str]:
    """Environments deploy in promotion order, each after the previous, each on its (gated) environment."""
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(text)
    problems: list[str] = []
    previous = None if p["transfer"] == "retrain_in_each_env" else "train"  # retraining has no shared train
    for e in p["environments"]:
        if github:
            job = (data.get("jobs") or {}).get(f"deploy-{e['name']}") or {}
            deps = job.get("needs")
            target = job.get("environment")
            want = e["name"]
        else:
            sid = f"deploy_{e['name'].replace('-', '_')}"
            st = next((s for s in data.get("stages") or [] if s.get("stage") == sid), {})
            deps = (st.get("dependsOn") or [None])[0]
            target = ((st.get("jobs") or [{}])[0]).get("environment")
            want, e_prev = e["ado_environment"], previous
            previous = sid
        if target != want:
            problems.append(f"{e['name']} is not deployed on its environment '{want}' (its approval gate would be "
                            "skipped)")
        if github:
            if deps != previous:
                problems.append(f"deploy-{e['name']} does not wait for {previous}")
            previous = f"deploy-{e['name']}"
        elif deps != e_prev:
            problems.append(f"stage for {e['name']} does not wait for {e_prev}")
    return problems


def step_policy(p: dict[str, Any]) -> StepPolicy:
    """The lint's allow-list for these workflows: the commands, variables and configuration
    expressions (repository / pipeline variables naming the Azure ML workspace) they write."""
    return INFRA_POLICY.extended(
        commands={"python", "coverage", "read"},  # read: the champion's version, a line of data, into a variable
        variables={"COVERAGE_THRESHOLD", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE", "SPECS", "TRAIN_SPEC", "ENDPOINT",
                   "TARGET_ENV", "NEW_DEPLOYMENT", "MODEL", "MODEL_TYPE", "MODEL_VERSION", "REGISTRY", "RELEASE",
                   "TRAIN_JOB", "PROMOTED_MODEL", "BATCH_ENDPOINT"},
        gh_expressions={"vars.AZURE_RESOURCE_GROUP", "vars.AZUREML_WORKSPACE", "github.run_attempt"},
        ado_macros={ADO_WORKSPACE, ADO_STAGE_ATTEMPT} | {f"AZUREML_WORKSPACE_{name.upper()}"
                                                        for name in [e["name"] for e in p["environments"]] or ["dev"]},
        operators={"||"})  # create the endpoint (or share, register the model) only when `show` finds none


def write_workflows(out_dir: str | Path, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Write the four files and lint each; one {path, valid, error} per file."""
    results = []
    for rel, text, lint, github in (
            (".github/workflows/models-ci.yml", github_ci(p), lint_github_workflow, None),
            (".github/workflows/models-cd.yml", github_cd(p), lint_github_workflow, True),
            ("azure-pipelines/models-ci.yml", ado_ci(p), lint_ado_pipeline, None),
            ("azure-pipelines/models-cd.yml", ado_cd(p), lint_ado_pipeline, False)):
        path = Path(out_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        problems = lint(text, policy=step_policy(p)) + (_order_problems(text, p, github) if github is not None else [])
        if github is not None and p["missing"]:
            problems.append(f"promotion_path names {', '.join(p['missing'])}, which stage 3 does not deploy")
        if github is not None:
            problems += p["problems"]
        results.append({"path": rel, "valid": not problems, "error": "; ".join(problems) or None})
    return results
