"""Stage 5 CI/CD for GitHub Actions and Azure DevOps: CI on pull requests, CD through the environments.

    .github/workflows/models-ci.yml    on PRs touching the training code: lint (the settings' linters),
    azure-pipelines/models-ci.yml      unit tests with JUnit XML, coverage against the threshold
    .github/workflows/models-cd.yml    on merge: train (Azure ML pipeline or job), then per environment in
    azure-pipelines/models-cd.yml      promotion order: endpoint, green deployment, smoke test, traffic
                                       switch; production waits for its environment's approvers
Sign-in is OIDC (workload identity federation, the stage-3 service connections); settings reach the
scripts as environment variables (data), never pasted into shell text. Linted with the stage-3 linters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..artifacts.cicd import INFRA_POLICY, StepPolicy, _dump, _literal, lint_ado_pipeline, lint_github_workflow
from .quality import LINTERS

CODE_PATHS = ["src/**", "tests/**", "pyproject.toml"]


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
TRAIN_SCRIPT = ('az configure --defaults group="$AZURE_RESOURCE_GROUP" workspace="$AZUREML_WORKSPACE"\n'
                'az ml environment create --file "$SPECS/environment.yml"\n'
                'az ml job create --file "$SPECS/$TRAIN_SPEC" --stream')
DEPLOY_SCRIPT = ('az configure --defaults group="$AZURE_RESOURCE_GROUP" workspace="$AZUREML_WORKSPACE"\n'
                 'az ml online-endpoint show --name "$ENDPOINT" >/dev/null 2>&1 || '
                 'az ml online-endpoint create --file "$SPECS/$TARGET_ENV/online-endpoint.yml"\n'
                 'az ml online-deployment create --file "$SPECS/$TARGET_ENV/deployment-$NEW_DEPLOYMENT.yml" '
                 '--skip-script-validation\n'
                 'az ml online-endpoint invoke --name "$ENDPOINT" --deployment-name "$NEW_DEPLOYMENT" '
                 '--request-file "$SPECS/sample-request.json"\n'
                 'az ml online-endpoint update --file "$SPECS/$TARGET_ENV/online-endpoint-traffic.yml"')


def plan(models: Any, cicd_plan: dict[str, Any], specs_dir: str) -> dict[str, Any]:
    from ..settings.models import endpoint_in

    by_name = {e["name"]: e for e in cicd_plan["environments"]}
    envs = [dict(by_name[n]) for n in models.promotion_path if n in by_name]
    # The model approval adds gates to stage 3's: manual, a person approves every deployment;
    # hybrid, automatic up to test and a person approves the last (production) environment.
    for i, e in enumerate(envs):
        e["gated"] = e["gated"] or models.model_approval == "manual" or (
            models.model_approval == "hybrid" and i == len(envs) - 1)
        e["endpoint"] = endpoint_in(models.online_endpoint.name, e["name"])  # unique per region: one per env
    deps = models.online_endpoint.deployments
    new = next((d.name for d in deps if d.traffic == 0), deps[-1].name)  # the idle colour takes the new model
    return {"project": cicd_plan["project"], "environments": envs, "specs": specs_dir,
            "endpoint": models.online_endpoint.name, "new_deployment": new,
            # the Azure ML training pipeline (settings' steps) or, for other methods, one command job
            "train_spec": "train-pipeline.yml" if models.training_method == "pipeline" else "train-job.yml",
            "coverage": str(models.coverage_threshold_pct), "linters": list(models.code_quality_checks),
            "missing": [n for n in models.promotion_path if n not in by_name]}


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


def github_cd(p: dict[str, Any]) -> str:
    azure_env = {"AZURE_RESOURCE_GROUP": "${{ vars.AZURE_RESOURCE_GROUP }}",
                 "AZUREML_WORKSPACE": "${{ vars.AZUREML_WORKSPACE }}"}
    first = p["environments"][0]["name"] if p["environments"] else "dev"
    jobs: dict[str, Any] = {"train": {
        "runs-on": "ubuntu-latest", "environment": first, "env": azure_env,
        "steps": [{"uses": "actions/checkout@v4"}, _login(), {"name": "Train, evaluate and register in Azure ML",
                                                              "run": _literal(TRAIN_SCRIPT)}]}}
    previous = "train"
    for e in p["environments"]:
        jid = f"deploy-{e['name']}"
        jobs[jid] = {"name": f"Deploy to {e['name']}" + (" (needs approval)" if e["gated"] else ""),
                     "runs-on": "ubuntu-latest", "needs": previous, "environment": e["name"],
                     "concurrency": {"group": f"models-{e['name']}", "cancel-in-progress": False},
                     "env": {**azure_env, "TARGET_ENV": e["name"], "ENDPOINT": e["endpoint"]},
                     "steps": [{"uses": "actions/checkout@v4"}, _login(),
                               {"name": "Blue/green: deploy, smoke test, switch traffic",
                                "run": _literal(DEPLOY_SCRIPT)}]}
        previous = jid
    data = {"name": "Model CD", "on": {"push": {"branches": ["main"], "paths": CODE_PATHS}, "workflow_dispatch": {}},
            "permissions": {"id-token": "write", "contents": "read"},
            "env": {"SPECS": p["specs"], "TRAIN_SPEC": p["train_spec"], "NEW_DEPLOYMENT": p["new_deployment"]},
            "jobs": jobs}
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
                       "inlineScript": _literal(script)}}


def ado_cd(p: dict[str, Any]) -> str:
    first = p["environments"][0] if p["environments"] else {"connection": "", "name": "dev"}
    stages = [{"stage": "train", "displayName": "Train, evaluate and register in Azure ML",
               "variables": {"AZURE_RESOURCE_GROUP": first.get("resource_group", ""),
                             "AZUREML_WORKSPACE": f"$(AZUREML_WORKSPACE_{first['name'].upper()})"},
               "jobs": [{"job": "train", "pool": {"vmImage": "ubuntu-latest"},
                         "steps": [{"checkout": "self"}, _cli(first["connection"], "Train", TRAIN_SCRIPT)]}]}]
    previous = "train"
    for e in p["environments"]:
        sid = f"deploy_{e['name'].replace('-', '_')}"
        title = f"Deploy to {e['name']}" + (" (needs approval)" if e["gated"] else "")
        stages.append({"stage": sid, "displayName": title,
                       "dependsOn": [previous], "condition": "succeeded()",
                       "variables": {"TARGET_ENV": e["name"], "ENDPOINT": e["endpoint"],
                                     "AZURE_RESOURCE_GROUP": e["resource_group"],
                                     "AZUREML_WORKSPACE": f"$(AZUREML_WORKSPACE_{e['name'].upper()})"},
                       "jobs": [{"deployment": "deploy_model", "pool": {"vmImage": "ubuntu-latest"},
                                 "environment": e["ado_environment"],
                                 "strategy": {"runOnce": {"deploy": {"steps": [
                                     {"checkout": "self"},
                                     _cli(e["connection"], "Blue/green: deploy, smoke test, switch traffic",
                                          DEPLOY_SCRIPT)]}}}}]})
        previous = sid
    data = {"trigger": {"branches": {"include": ["main"]}, "paths": {"include": CODE_PATHS}}, "pr": "none",
            "variables": {"SPECS": p["specs"], "TRAIN_SPEC": p["train_spec"], "NEW_DEPLOYMENT": p["new_deployment"]},
            "stages": stages}
    return _dump(data, _header(p, "Azure DevOps CD"))


def _order_problems(text: str, p: dict[str, Any], github: bool) -> list[str]:
    """Environments deploy in promotion order, each after the previous, each on its (gated) environment."""
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(text)
    problems, previous = [], "train"
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
        commands={"python", "coverage"},
        variables={"COVERAGE_THRESHOLD", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE", "SPECS", "TRAIN_SPEC", "ENDPOINT",
                   "TARGET_ENV", "NEW_DEPLOYMENT"},
        gh_expressions={"vars.AZURE_RESOURCE_GROUP", "vars.AZUREML_WORKSPACE"},
        ado_macros={f"AZUREML_WORKSPACE_{name.upper()}"
                    for name in [e["name"] for e in p["environments"]] or ["dev"]},
        operators={"||"})  # create the endpoint only when `show` finds none


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
        results.append({"path": rel, "valid": not problems, "error": "; ".join(problems) or None})
    return results
