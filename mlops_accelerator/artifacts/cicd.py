"""Stage 3: the infrastructure pipelines for GitHub Actions and Azure DevOps, linted here.

Both deploy the IaC (`infra/arm/azuredeploy.json` with `azuredeploy.parameters.<env>.json`, or the
Bicep / Terraform equivalents) environment by environment in promotion order (dev -> test -> prod),
and sign in to Azure with workload identity federation (OIDC): no secret is stored anywhere.

    .github/workflows/deploy-infra.yml   one job per environment, each `needs` the previous one;
                                         `permissions: id-token: write`; azure/login with client-id,
                                         tenant-id and subscription-id from (non-secret) environment
                                         variables; `environment: <env>` so the GitHub environment's
                                         required reviewers gate production
    azure-pipelines/deploy-infra.yml     one stage per environment; a deployment job on an Azure DevOps
                                         environment (its Approvals check gates production); AzureCLI@2
                                         with the environment's workload-identity service connection
    cicd/SETUP.md                        the one-time set-up: variables, federated credentials, approvers

`lint_github_workflow` / `lint_ado_pipeline` are small actionlint-like structural checks (schema
shape, job and stage references, order, OIDC, gates, no secrets) returning plain-language problems.
"""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..ci_safety import require_ci_safe
from ..settings.shared import expand_tags
from .azureml_specs import as_settings
from .escape import md_text

GITHUB_WORKFLOW = ".github/workflows/deploy-infra.yml"
ADO_PIPELINE = "azure-pipelines/deploy-infra.yml"
SETUP_GUIDE = "cicd/SETUP.md"
PIPELINE_DATA_DIR = "infra/pipeline"
# The only CI expressions the generator writes; the lint refuses every other one.
GH_RUN_ID = "${{ github.run_id }}"
ADO_RUN_ID = "$(Build.BuildId)"
ALLOWED_GH_EXPRESSIONS = {"github.run_id", "vars.AZURE_CLIENT_ID", "vars.AZURE_TENANT_ID",
                          "vars.AZURE_SUBSCRIPTION_ID"}
ALLOWED_ADO_MACROS = {"Build.BuildId"}
# What a generated step may run, and the variables it may expand (all set by the generator or by the
# AzureCLI@2 task with addSpnToEnvironment).
STEP_COMMANDS = {"az", "terraform", "mapfile", "export", "set"}
# AzureCLI@2 runs a bash inline script without -e: a failing command does not fail the step, only the
# last one's status counts (azure-pipelines-tasks#10125). Every generated one starts with this line.
ADO_BASH_STRICT = "set -eu\n"
STEP_VARIABLES = {"ENVIRONMENT_NAME", "RESOURCE_GROUP", "LOCATION", "TAGS_FILE", "TEMPLATE_FILE",
                  "PARAMETERS_FILE", "DEPLOYMENT_NAME", "TF_DIR", "TF_VARS_IN_DIR", "TF_BACKEND_IN_DIR",
                  "ARM_SUBSCRIPTION_ID", "tags", "idToken", "servicePrincipalId", "tenantId"}

@dataclass(frozen=True)
class StepPolicy:
    """What a generated pipeline may run, expand and let the CI platform evaluate: the lint's allow-list.

    The infrastructure pipelines use `INFRA_POLICY`; another generator (stage 5's workflows) extends
    it with the commands, variables and configuration expressions it writes itself, never with data.
    """

    commands: frozenset[str] = frozenset(STEP_COMMANDS)
    variables: frozenset[str] = frozenset(STEP_VARIABLES)
    gh_expressions: frozenset[str] = frozenset(ALLOWED_GH_EXPRESSIONS)
    ado_macros: frozenset[str] = frozenset(ALLOWED_ADO_MACROS)
    operators: frozenset[str] = frozenset({"\n", ";", "&&", ""})

    def extended(self, **more: Any) -> StepPolicy:
        return replace(self, **{k: getattr(self, k) | frozenset(v) for k, v in more.items()})


INFRA_POLICY = StepPolicy()


OIDC_ISSUER_GITHUB = "https://token.actions.githubusercontent.com"
OIDC_AUDIENCE = "api://AzureADTokenExchange"
LOGIN_INPUTS = {"client-id", "tenant-id", "subscription-id", "enable-AzPSSession", "environment",
                "allow-no-subscriptions", "audience", "auth-type"}
CLI_SCRIPT_TYPES = {"bash", "pscore", "ps", "batch"}
# Things that must never be in a pipeline definition.
SECRET_PATTERNS = [
    (re.compile(r"\$\{\{\s*secrets\.", re.I), "reads a stored secret (${{ secrets.* }})"),
    (re.compile(r"client[-_]?secret", re.I), "mentions a client secret"),
    (re.compile(r"\bpassword\s*[:=]", re.I), "sets a password"),
    (re.compile(r"AccountKey=|SharedAccessSignature=|[?&]sig=[A-Za-z0-9%/+=]{16,}", re.I),
     "holds a storage key or SAS token"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "holds a private key"),
]
_GH_JOB_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ADO_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GH_CONTEXTS = {"github", "env", "vars", "job", "jobs", "steps", "runner", "strategy", "matrix", "needs",
                "inputs"}


# ---------------------------------------------------------------------------
# What to deploy


def pipeline_plan(design: Any, deploy: Any, foundations: Any) -> dict[str, Any]:
    """Environments in promotion order with their target, connection and gate (plain data)."""
    design = as_settings("design", design)
    deploy = as_settings("deploy", deploy)
    foundations = as_settings("foundations", foundations)
    project = foundations.project_name
    by_name = {e.name: e for e in design.environments}
    order = [e.name for e in design.environments if e.name in deploy.environments_to_deploy]
    order += [e for e in deploy.environments_to_deploy if e not in order]
    gates = {g.env: g for g in deploy.approval_gates}
    prod = design.production_env()
    envs, problems = [], []
    for name in order:
        env = by_name.get(name)
        if env is None:
            problems.append(f"{name} is not an environment of the Stage-2 design (no subscription or resource group)")
            continue
        conns = [c for c in deploy.service_connections if c.env == name]
        rg_conn = next((c for c in conns if c.scope == "resource_group"), conns[0] if conns else None)
        if rg_conn is None:
            problems.append(f"{name} has no service connection: add a resource-group-scoped one")
        elif rg_conn.auth != "workload_identity_federation":
            problems.append(f"{rg_conn.name} uses {rg_conn.auth}: use workload_identity_federation (OIDC) so no "
                            f"secret is stored")
        gate = gates.get(name)
        is_prod = prod is not None and env is prod and design.environment_topology != "single"
        gated = gate is not None or env.approval_required or is_prod
        approvers = list(gate.approvers) if gate else list(env.approvers)
        envs.append({
            "name": name, "subscription_id": env.subscription_id, "resource_group": env.resource_group,
            "region": env.region, "connection": rg_conn.name if rg_conn else "",
            "identity": rg_conn.identity if rg_conn else "",
            "gated": gated, "approvers": approvers, "gate_timeout_hours": gate.timeout_hours if gate else 72,
            "gate_checks": list(gate.checks) if gate else [],
            "ado_environment": f"{project}-{name}",
            "tags": expand_tags(design.tags, project, name),
        })
    return {"project": project, "iac_tool": deploy.iac_tool, "what_if": deploy.what_if_before_deploy,
            "deployment_scope": deploy.deployment_scope, "platform": deploy.cicd_infra_platform,
            "github_repository": deploy.github_repository, "ado_organization_url": deploy.ado_organization_url,
            "ado_project": deploy.ado_project, "environments": envs, "problems": problems}


def iac_files(tool: str, env: str) -> dict[str, str]:
    """Repository paths of the template and the environment's parameters (as `iac` names them)."""
    from .iac import pipeline_files

    return pipeline_files(tool, env)


def tags_file(env: str) -> str:
    """The environment's resource-group tags, one `key=value` per line, read by the pipeline as data."""
    return f"{PIPELINE_DATA_DIR}/tags.{env}.txt"


def tags_text(tags: Mapping[str, str]) -> str:
    return "".join(f"{require_ci_safe(k, 'tag key')}={require_ci_safe(v, 'tag value')}\n" for k, v in tags.items())


def repository_files(p: Mapping[str, Any]) -> set[str]:
    """Every file of the repository layout (`export`) the pipelines may reference."""
    from .iac import output_files

    envs = [e["name"] for e in p["environments"]]
    files = {f"infra/{f}" for f in output_files(p["iac_tool"], envs)}
    files |= {tags_file(e) for e in envs} | {GITHUB_WORKFLOW, ADO_PIPELINE, SETUP_GUIDE}
    return files


def step_environment(p: Mapping[str, Any], e: Mapping[str, Any], run_id: str) -> dict[str, str]:
    """The values one environment's steps need, as environment variables (never shell text).

    `run_id` is the platform's own run-number expression, the only expression the generator adds.
    """
    files = iac_files(p["iac_tool"], e["name"])
    env = {"ENVIRONMENT_NAME": e["name"], "RESOURCE_GROUP": e["resource_group"], "LOCATION": e["region"],
           "TAGS_FILE": tags_file(e["name"])}
    if p["iac_tool"] == "terraform":
        env.update({"TF_DIR": files["template"], "TF_VARS_IN_DIR": Path(files["parameters"]).name,
                    "TF_BACKEND_IN_DIR": Path(files["backend"]).name,
                    "ARM_SUBSCRIPTION_ID": e["subscription_id"]})
    else:
        env.update({"TEMPLATE_FILE": files["template"], "PARAMETERS_FILE": files["parameters"]})
    for k, v in env.items():
        require_ci_safe(v, f"{e['name']}: {k}")
    env["DEPLOYMENT_NAME"] = f"deploy-infra-{e['name']}-{run_id}"
    return env


def deploy_commands(p: Mapping[str, Any], e: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(step title, bash script) pairs that deploy one environment; every value comes from the
    environment variables of `step_environment`, always double-quoted, so no setting is shell text."""
    steps = [("Create the resource group",
              'mapfile -t tags < "$TAGS_FILE"\n'
              'az group create --name "$RESOURCE_GROUP" --location "$LOCATION" --tags "${tags[@]}"')]
    if p["iac_tool"] == "terraform":
        steps.append(("Terraform init",
                      'terraform -chdir="$TF_DIR" init -input=false -backend-config="$TF_BACKEND_IN_DIR"'))
        steps.append(("Terraform plan (preview the changes)",
                      'terraform -chdir="$TF_DIR" plan -input=false -var-file="$TF_VARS_IN_DIR" '
                      '-out="$ENVIRONMENT_NAME.tfplan"'))
        steps.append(("Terraform apply", 'terraform -chdir="$TF_DIR" apply -input=false "$ENVIRONMENT_NAME.tfplan"'))
        return steps
    params = '"$PARAMETERS_FILE"' if p["iac_tool"] == "bicep" else '"@$PARAMETERS_FILE"'
    args = ('--resource-group "$RESOURCE_GROUP" --name "$DEPLOYMENT_NAME" --template-file "$TEMPLATE_FILE" '
            f"--parameters {params}")
    if p["what_if"]:
        steps.append(("Preview the changes (what-if)", f"az deployment group what-if {args}"))
    steps.append(("Deploy the infrastructure", f"az deployment group create {args}"))
    return steps


# ---------------------------------------------------------------------------
# YAML


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML()
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _literal(text: str) -> Any:
    from ruamel.yaml.scalarstring import LiteralScalarString

    return LiteralScalarString(text + "\n") if "\n" in text else text


def _dump(data: Any, header: str) -> str:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return header + buf.getvalue()


def _header(p: Mapping[str, Any], what: str) -> str:
    return (f"# {what} of {p['project']}: written by the MLOps Accelerator (stage 3).\n"
            f"# Deploys {', '.join(e['name'] for e in p['environments'])} in order; signs in with workload\n"
            f"# identity federation (OIDC), so no secret is stored. One-time set-up: {SETUP_GUIDE}.\n")


def github_workflow(p: Mapping[str, Any]) -> str:
    files = sorted({iac_files(p["iac_tool"], e["name"])["template"] for e in p["environments"]})
    jobs: dict[str, Any] = {}
    previous = None
    for e in p["environments"]:
        steps: list[dict[str, Any]] = [{"name": "Check out the repository", "uses": "actions/checkout@v4"}]
        steps.append({"name": "Sign in to Azure (OIDC federated credential, no secret)", "uses": "azure/login@v2",
                      "with": {"client-id": "${{ vars.AZURE_CLIENT_ID }}", "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
                               "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}"}})
        if p["iac_tool"] == "terraform":
            steps.append({"name": "Set up Terraform", "uses": "hashicorp/setup-terraform@v3"})
        for title, script in deploy_commands(p, e):
            steps.append({"name": title, "run": _literal(script)})
        job: dict[str, Any] = {"name": f"Deploy {e['name']}" + (" (needs approval)" if e["gated"] else ""),
                               "runs-on": "ubuntu-latest"}
        if previous:
            job["needs"] = previous
        job["environment"] = e["name"]  # environment variables + federated subject; reviewers gate it
        job["concurrency"] = {"group": f"deploy-infra-{e['name']}", "cancel-in-progress": False}
        # Settings reach the steps as environment variables only (never as shell or expression text).
        job["env"] = step_environment(p, e, GH_RUN_ID)
        if p["iac_tool"] == "terraform":
            job["env"].update({"ARM_USE_OIDC": "true", "ARM_CLIENT_ID": "${{ vars.AZURE_CLIENT_ID }}",
                               "ARM_TENANT_ID": "${{ vars.AZURE_TENANT_ID }}"})
        job["steps"] = steps
        jobs[f"deploy-{e['name']}"] = job
        previous = f"deploy-{e['name']}"
    folders = {f if p["iac_tool"] == "terraform" else f.rsplit("/", 1)[0] for f in files}
    watched = [*(f"{f}/**" for f in sorted(folders)), f"{PIPELINE_DATA_DIR}/**", GITHUB_WORKFLOW]
    data = {"name": "Deploy infrastructure",
            "on": {"push": {"branches": ["main"], "paths": list(dict.fromkeys(watched))},
                   "workflow_dispatch": {}},
            "permissions": {"id-token": "write", "contents": "read"},
            "jobs": jobs}
    return _dump(data, _header(p, "GitHub Actions workflow"))


def ado_pipeline(p: Mapping[str, Any]) -> str:
    stages = []
    previous = None
    for e in p["environments"]:
        sid = f"deploy_{e['name']}"
        terraform = p["iac_tool"] == "terraform"
        steps: list[dict[str, Any]] = [{"checkout": "self"}]
        env_vars = step_environment(p, e, ADO_RUN_ID)
        for title, script in deploy_commands(p, e):
            if terraform and title.startswith("Terraform"):
                script = ('export ARM_USE_OIDC=true ARM_OIDC_TOKEN="$idToken" '
                          'ARM_CLIENT_ID="$servicePrincipalId" ARM_TENANT_ID="$tenantId"\n' + script)
            inputs: dict[str, Any] = {"azureSubscription": require_ci_safe(e["connection"], "service connection"),
                                      "scriptType": "bash", "scriptLocation": "inlineScript",
                                      "inlineScript": _literal(ADO_BASH_STRICT + script)}
            if terraform:
                inputs["addSpnToEnvironment"] = True
            steps.append({"task": "AzureCLI@2", "displayName": title, "inputs": inputs, "env": dict(env_vars)})
        stage: dict[str, Any] = {"stage": sid, "displayName": f"Deploy {e['name']}"
                                 + (" (needs approval)" if e["gated"] else ""),
                                 "dependsOn": [previous] if previous else []}
        if previous:
            stage["condition"] = "succeeded()"
        stage["jobs"] = [{"deployment": "deploy_infra", "displayName": f"Deploy the {e['name']} infrastructure",
                          "pool": {"vmImage": "ubuntu-latest"},
                          "environment": e["ado_environment"],
                          "strategy": {"runOnce": {"deploy": {"steps": steps}}}}]
        stages.append(stage)
        previous = sid
    files = iac_files(p["iac_tool"], "x")
    data = {"trigger": {"branches": {"include": ["main"]},
                        "paths": {"include": [files["template"].rsplit("/", 1)[0] if "." in files["template"]
                                              else files["template"], PIPELINE_DATA_DIR, ADO_PIPELINE]}},
            "pr": "none", "stages": stages}
    return _dump(data, _header(p, "Azure DevOps pipeline"))


def setup_guide(p: Mapping[str, Any]) -> str:
    repo = p["github_repository"] or "<owner>/<repo>"
    lines = [f"# Infrastructure pipeline set-up: {p['project']}", "",
             "Written by the MLOps Accelerator (stage 3). Nothing here is a secret: the pipelines sign in with",
             "workload identity federation (OIDC), so Azure trusts a short-lived token from GitHub or Azure",
             "DevOps instead of a stored password.", "",
             f"The chosen platform is **{p['platform']}**; both definitions are generated so the team can switch.",
             "", "## Put the files in your repository", "",
             "The pipelines deploy `infra/<tool>/` and read `infra/pipeline/tags.<env>.txt`; stage 2 writes the "
             "infrastructure into its run folder (`design/iac/`). Copy everything into the repository layout "
             "the pipelines expect with:", "", "```bash",
             "mlops-accelerator export --to path/to/your/repository", "```", "",
             "It copies the latest successful runs' `infra/`, `.github/workflows/`, `azure-pipelines/` and "
             "`cicd/SETUP.md`, checks that every file a pipeline references is there, and never overwrites a "
             "file you changed unless given `--force`. Commit the result.",
             "", "## Environments (deployed in this order)", "",
             "| Environment | Subscription | Resource group | Region | Identity | Service connection | Approval |",
             "|---|---|---|---|---|---|---|"]
    for e in p["environments"]:
        approval = ("required: " + (", ".join(e["approvers"]) or "NO APPROVER NAMED")) if e["gated"] else "-"
        cells = [e["name"], e["subscription_id"], e["resource_group"], e["region"], e["identity"] or "-",
                 e["connection"] or "-", approval]
        lines.append("| " + " | ".join(md_text(c).replace("|", "\\|") for c in cells) + " |")
    lines += ["", "## GitHub Actions", "",
              f"1. For each environment create a GitHub environment of that name in `{repo}` "
              "(Settings > Environments) and set three **variables** (not secrets): `AZURE_CLIENT_ID` (the "
              "identity's application/client id), `AZURE_TENANT_ID`, `AZURE_SUBSCRIPTION_ID`.",
              "2. Give each identity a federated credential for its environment:", "", "```bash"]
    for e in p["environments"]:
        # Only fixed-format values (environment name, owner/repo) go into the command; the identity's
        # free-text name stays in the table above and the client id is pasted by the reader.
        lines.append(f"CLIENT_ID=...  # the client id of the {e['name']} identity (see the table)")
        lines.append(f"az ad app federated-credential create --id \"$CLIENT_ID\" "
                     f"--parameters '{{\"name\": \"github-{e['name']}\", \"issuer\": \"{OIDC_ISSUER_GITHUB}\", "
                     f"\"subject\": \"repo:{repo}:environment:{e['name']}\", \"audiences\": [\"{OIDC_AUDIENCE}\"]}}'")
    lines += ["```", "", "   (For a user-assigned managed identity use `az identity federated-credential create` "
              "with the same issuer, subject and audience.)", "",
              "3. Gate the environments that need approval with **required reviewers** (Settings > Environments > "
              "<env> > Required reviewers, or the REST API `PUT /repos/{owner}/{repo}/environments/{env}` with "
              "`reviewers`). Reviewers are GitHub users or teams: map the approvers' e-mails to their accounts:", ""]
    for e in p["environments"]:
        if e["gated"]:
            lines.append(f"   - `{e['name']}`: {', '.join(e['approvers']) or 'no approver named: add one'}")
    org = p["ado_organization_url"] or "https://dev.azure.com/<org>/"
    lines += ["", "## Azure DevOps", "",
              f"1. In {org} project `{p['ado_project'] or '<project>'}`, create one Azure Resource Manager service "
              "connection per environment with **Workload identity federation**, scoped to the environment's "
              "resource group, named as in the table (Project settings > Service connections).",
              "2. Create the Azure DevOps environments "
              + ", ".join(f"`{e['ado_environment']}`" for e in p["environments"])
              + " (Pipelines > Environments).",
              "3. On each environment that needs approval add an **Approvals** check (Environment > Approvals and "
              "checks) with its approvers:", ""]
    for e in p["environments"]:
        if e["gated"]:
            extra = f"; also {', '.join(e['gate_checks'])}" if e["gate_checks"] else ""
            lines.append(f"   - `{e['ado_environment']}`: {', '.join(e['approvers']) or 'no approver named: add one'} "
                         f"(timeout {e['gate_timeout_hours']} h{extra})")
    lines += ["", f"4. `az pipelines create --name deploy-infra --yml-path {ADO_PIPELINE}` (after "
              f"`az devops configure --defaults organization={org} "
              f"project={shlex.quote(p['ado_project'] or '<project>')}`).", ""]
    if p["problems"]:
        lines += ["## To fix first", ""] + [f"- {x}" for x in p["problems"]] + [""]
    return "\n".join(lines)


def write_pipelines(out_dir: str | Path, design: Any, deploy: Any, foundations: Any) -> dict[str, Any]:
    """Write both pipeline definitions and the set-up guide; return paths and lint results."""
    out = Path(out_dir)
    p = pipeline_plan(design, deploy, foundations)
    texts = {GITHUB_WORKFLOW: github_workflow(p), ADO_PIPELINE: ado_pipeline(p), SETUP_GUIDE: setup_guide(p)}
    texts.update({tags_file(e["name"]): tags_text(e["tags"]) for e in p["environments"]})
    for rel, text in texts.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    lint = {GITHUB_WORKFLOW: lint_github_workflow(texts[GITHUB_WORKFLOW], p),
            ADO_PIPELINE: lint_ado_pipeline(texts[ADO_PIPELINE], p)}
    errors = [f"{rel}: {msg}" for rel, msgs in lint.items() for msg in msgs]
    errors += [f"settings: {msg}" for msg in p["problems"]]
    return {"files": list(texts), "lint": lint, "lint_errors": errors, "plan": p}


# ---------------------------------------------------------------------------
# Lint


def _load(text: str) -> tuple[Any, list[str]]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(text), []
    except YAMLError as exc:
        return None, [f"is not valid YAML: {exc}".splitlines()[0]]


def secret_problems(text: str) -> list[str]:
    return [f"line {i}: {why}" for i, line in enumerate(text.splitlines(), 1)
            for rx, why in SECRET_PATTERNS if rx.search(line) and not line.lstrip().startswith("#")]


def _expressions(text: str) -> list[str]:
    problems = []
    for i, line in enumerate(text.splitlines(), 1):
        if line.count("${{") != line.count("}}"):
            problems.append(f"line {i}: unbalanced ${{{{ }}}} expression")
        for expr in re.findall(r"\$\{\{(.*?)\}\}", line):
            for ctx in re.findall(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_-]*)\.", expr):
                if ctx not in _GH_CONTEXTS and ctx != "secrets":
                    problems.append(f"line {i}: unknown expression context '{ctx}'")
    return problems


def _gh_expression_problems(text: str, policy: StepPolicy = INFRA_POLICY) -> list[str]:
    """Every ${{ }} must be one the generator writes itself: any other is data evaluated as code."""
    problems = []
    for i, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for expr in re.findall(r"\$\{\{(.*?)\}\}", line):
            if expr.strip() not in policy.gh_expressions:
                problems.append(f"line {i}: expression ${{{{{expr}}}}} is not one the generator writes "
                                f"(GitHub evaluates it before any shell runs)")
    return problems


def _ado_expression_problems(text: str, policy: StepPolicy = INFRA_POLICY) -> list[str]:
    """Azure Pipelines evaluates $( ), ${{ }} and $[ ] in inputs, env and scripts: only $(Build.BuildId)."""
    problems = []
    for i, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for m in re.finditer(r"\$\(([^)]*)\)?|\$\{\{|\$\[", line):
            if m.group(0).startswith("$(") and m.group(1) in policy.ado_macros:
                continue
            problems.append(f"line {i}: '{m.group(0)[:40]}' is an Azure Pipelines expression the generator did "
                            f"not write (it is evaluated before the script runs)")
    return problems


def _expansions(script: str) -> tuple[list[str], list[str]]:
    """(variables expanded, problems): every `$` must be a double-quoted $NAME / ${NAME} / ${NAME[@]}."""
    names, problems = [], []
    i, quote = 0, ""
    while i < len(script):
        c = script[i]
        if c == "\\" and quote != "'":
            i += 2
            continue
        if quote == "'":
            quote = "" if c == "'" else quote
        elif c == "'" and not quote:
            quote = "'"
        elif c == '"':
            quote = "" if quote == '"' else '"'
        elif c == "`":
            problems.append("runs a command substitution (`...`)")
        elif c == "$":
            m = re.match(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(\[@\])?\})", script[i:])
            if not m:
                problems.append(f"expands '{script[i:i + 12]}' (only $NAME or ${{NAME}} of the generator's "
                                f"variables may be expanded)")
            else:
                names.append(m.group(1) or m.group(2))
                if quote != '"':
                    problems.append(f"expands {m.group(0)} outside double quotes (word splitting and globbing)")
                i += len(m.group(0))
                continue
        i += 1
    if quote:
        problems.append("has an unterminated quote")
    return names, problems


def shell_problems(script: str, policy: StepPolicy = INFRA_POLICY) -> list[str]:
    """Problems of one generated bash step: parsed with bashlex, it may run only the generator's
    commands, expand only the generator's variables (double-quoted), and substitute no command."""
    import bashlex

    try:
        trees = bashlex.parse(script)
    except Exception as exc:  # bashlex raises its own ParsingError and also plain errors on odd input
        return [f"is not a shell script bash can parse: {exc}"]
    problems: list[str] = []

    class Visitor(bashlex.ast.nodevisitor):
        def visitcommand(self, node: Any, parts: Any) -> None:
            words = [p for p in parts if p.kind == "word"]
            first = words[0].word if words else ""
            if first not in policy.commands and "=" not in first:
                problems.append(f"runs '{first}', which is not one of the generator's commands "
                                f"{sorted(policy.commands)}")

        def visitcommandsubstitution(self, node: Any, command: Any) -> None:
            problems.append("runs a command substitution $( )")

        def visitprocesssubstitution(self, node: Any, command: Any) -> None:
            problems.append("runs a process substitution")

        def visitpipe(self, node: Any, pipe: Any) -> None:
            problems.append("pipes into another command")

        def visitoperator(self, node: Any, op: Any) -> None:
            if op.strip() not in policy.operators:
                problems.append(f"uses the operator {op!r}")

    for tree in trees:
        Visitor().visit(tree)
    names, more = _expansions(script)
    problems += more
    problems += [f"expands ${n}, which the generator did not set" for n in names if n not in policy.variables]
    return list(dict.fromkeys(problems))


def _referenced_files(env: Mapping[str, Any]) -> list[str]:
    """Repository files a step's environment points at (`*_FILE` repo paths; `*_IN_DIR` inside TF_DIR)."""
    out = [str(v) for k, v in env.items() if str(k).endswith("_FILE")]
    if env.get("TF_DIR"):
        out += [f"{env['TF_DIR']}/{v}" for k, v in env.items() if str(k).endswith("_IN_DIR")]
    return out


def _reference_problems(where: str, env: Mapping[str, Any], p: Mapping[str, Any] | None) -> list[str]:
    if p is None:
        return []
    known = repository_files(p)
    problems = [f"{where}: references {f}, which the project does not generate" for f in _referenced_files(env)
                if f not in known]
    folder = env.get("TF_DIR")
    if folder and not any(f.startswith(f"{folder}/") for f in known):
        problems.append(f"{where}: references the folder {folder}, which the project does not generate")
    return problems


def lint_github_workflow(text: str, p: Mapping[str, Any] | None = None,
                         policy: StepPolicy = INFRA_POLICY) -> list[str]:
    """Structural problems of a GitHub Actions workflow (empty = clean)."""
    data, problems = _load(text)
    if data is None:
        return problems
    problems += secret_problems(text) + _expressions(text) + _gh_expression_problems(text, policy)
    if not isinstance(data, dict):
        return problems + ["the workflow is not a mapping"]
    if "on" not in data and True not in data:
        problems.append("no 'on:' trigger")
    jobs = data.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return problems + ["no jobs"]
    top = (data.get("permissions") or {}) if isinstance(data.get("permissions"), dict) else {}
    for jid, job in jobs.items():
        where = f"job '{jid}'"
        if not _GH_JOB_ID.fullmatch(str(jid)):
            problems.append(f"{where}: invalid job id")
        if not isinstance(job, dict):
            problems.append(f"{where}: not a mapping")
            continue
        if "runs-on" not in job:
            problems.append(f"{where}: no runs-on")
        needs = job.get("needs") or []
        for n in [needs] if isinstance(needs, str) else needs:
            if n not in jobs:
                problems.append(f"{where}: needs unknown job '{n}'")
        perms = job.get("permissions") if isinstance(job.get("permissions"), dict) else top
        steps = job.get("steps")
        if not isinstance(steps, list) or not steps:
            problems.append(f"{where}: no steps")
            continue
        job_env = job.get("env") if isinstance(job.get("env"), dict) else {}
        problems += _reference_problems(where, job_env, p)
        for k, step in enumerate(steps):
            if not isinstance(step, dict) or (("uses" in step) == ("run" in step)):
                problems.append(f"{where} step {k + 1}: needs exactly one of 'uses' or 'run'")
                continue
            if "run" in step:
                problems += [f"{where} step {k + 1}: {x}" for x in shell_problems(str(step["run"]), policy)]
            uses = str(step.get("uses") or "")
            if uses and "@" not in uses and not uses.startswith(("./", "docker://")):
                problems.append(f"{where} step {k + 1}: '{uses}' is not pinned to a version (@v…)")
            if uses.startswith("azure/login@"):
                inputs = step.get("with") or {}
                unknown = set(inputs) - LOGIN_INPUTS
                if "creds" in inputs or unknown:
                    problems.append(f"{where}: azure/login uses {sorted(unknown | ({'creds'} & set(inputs)))}: "
                                    f"sign in with OIDC (client-id, tenant-id, subscription-id) instead")
                missing = {"client-id", "tenant-id", "subscription-id"} - set(inputs)
                if missing:
                    problems.append(f"{where}: azure/login lacks {sorted(missing)}")
                if (perms or {}).get("id-token") != "write":
                    problems.append(f"{where}: OIDC sign-in needs 'permissions: id-token: write'")
    if p is not None:
        problems += _order_and_gates_github(jobs, p)
    return problems


def _env_name(job: Mapping[str, Any]) -> str | None:
    env = job.get("environment")
    return env.get("name") if isinstance(env, dict) else env


def _order_and_gates_github(jobs: Mapping[str, Any], p: Mapping[str, Any]) -> list[str]:
    problems = []
    by_env = {_env_name(j): jid for jid, j in jobs.items() if isinstance(j, dict)}
    previous = None
    for e in p["environments"]:
        jid = by_env.get(e["name"])
        if jid is None:
            problems.append(f"no job deploys {e['name']} on the GitHub environment '{e['name']}'"
                            + (" (its approval gate would be skipped)" if e["gated"] else ""))
            continue
        needs = jobs[jid].get("needs") or []
        needs = [needs] if isinstance(needs, str) else needs
        if previous and previous not in needs:
            problems.append(f"job '{jid}' does not wait for '{previous}': environments must deploy in order")
        files = iac_files(p["iac_tool"], e["name"])
        job_env = jobs[jid].get("env") if isinstance(jobs[jid].get("env"), dict) else {}
        if files["parameters"] not in _referenced_files(job_env):
            problems.append(f"job '{jid}' does not deploy with {files['parameters']}")
        previous = jid
    return problems


def lint_ado_pipeline(text: str, p: Mapping[str, Any] | None = None,
                      policy: StepPolicy = INFRA_POLICY) -> list[str]:
    """Structural problems of an Azure Pipelines YAML (empty = clean)."""
    data, problems = _load(text)
    if data is None:
        return problems
    problems += secret_problems(text) + _ado_expression_problems(text, policy)
    stages = data.get("stages") if isinstance(data, dict) else None
    if not isinstance(stages, list) or not stages:
        return problems + ["no stages"]
    ids = [s.get("stage") for s in stages if isinstance(s, dict)]
    if len(ids) != len(set(ids)):
        problems.append("stage ids are not unique")
    for s in stages:
        if not isinstance(s, dict):
            problems.append("a stage is not a mapping")
            continue
        sid = s.get("stage")
        where = f"stage '{sid}'"
        if not sid or not _ADO_ID.fullmatch(str(sid)):
            problems.append(f"{where}: invalid stage id (letters, digits and '_')")
        deps = s.get("dependsOn") or []
        for d in [deps] if isinstance(deps, str) else deps:
            if d not in ids:
                problems.append(f"{where}: dependsOn unknown stage '{d}'")
        jobs = s.get("jobs")
        if not isinstance(jobs, list) or not jobs:
            problems.append(f"{where}: no jobs")
            continue
        for j in jobs:
            if not isinstance(j, dict) or not ({"job", "deployment"} & set(j)):
                problems.append(f"{where}: a job needs 'job' or 'deployment'")
                continue
            steps = j.get("steps")
            if "deployment" in j:
                if not j.get("environment"):
                    problems.append(f"{where}: deployment job without environment (no approvals possible)")
                steps = (((j.get("strategy") or {}).get("runOnce") or {}).get("deploy") or {}).get("steps")
            if not isinstance(steps, list) or not steps:
                problems.append(f"{where}: job has no steps")
                continue
            for step in steps:
                if isinstance(step, dict) and str(step.get("task", "")).startswith("AzureCLI@"):
                    inputs = step.get("inputs") or {}
                    conn = str(inputs.get("azureSubscription") or "")
                    if not conn or conn.startswith("$("):
                        problems.append(f"{where}: AzureCLI needs a named service connection (azureSubscription)")
                    if inputs.get("scriptType") not in CLI_SCRIPT_TYPES:
                        problems.append(f"{where}: AzureCLI scriptType must be one of {sorted(CLI_SCRIPT_TYPES)}")
                    if inputs.get("scriptLocation") == "inlineScript" and not inputs.get("inlineScript"):
                        problems.append(f"{where}: AzureCLI has an empty inline script")
                    if inputs.get("scriptType") == "bash" and inputs.get("inlineScript"):
                        problems += [f"{where} step '{step.get('displayName')}': {x}"
                                     for x in shell_problems(str(inputs["inlineScript"]), policy)]
                        if not str(inputs["inlineScript"]).startswith(ADO_BASH_STRICT):
                            problems.append(f"{where} step '{step.get('displayName')}': the bash script does not "
                                            f"start with '{ADO_BASH_STRICT.strip()}' (AzureCLI@2 would go on after a "
                                            "failing command and judge the step by its last one)")
                    step_env = step.get("env") if isinstance(step.get("env"), dict) else {}
                    problems += _reference_problems(f"{where} step '{step.get('displayName')}'", step_env, p)
    if p is not None:
        problems += _order_and_gates_ado(stages, p)
    return problems


def _order_and_gates_ado(stages: list[Any], p: Mapping[str, Any]) -> list[str]:
    problems = []
    by_env: dict[str, Any] = {}
    for s in stages:
        for j in s.get("jobs") or []:
            if isinstance(j, dict) and j.get("environment"):
                by_env[str(j["environment"])] = (s, j)
    previous = None
    for e in p["environments"]:
        found = by_env.get(e["ado_environment"])
        if found is None:
            problems.append(f"no deployment job targets the Azure DevOps environment '{e['ado_environment']}'"
                            + (" (its approval gate would be skipped)" if e["gated"] else ""))
            continue
        stage, job = found
        deps = stage.get("dependsOn") or []
        deps = [deps] if isinstance(deps, str) else deps
        if previous and previous not in deps:
            problems.append(f"stage '{stage['stage']}' does not depend on '{previous}': environments must deploy "
                            f"in order")
        steps = (((job.get("strategy") or {}).get("runOnce") or {}).get("deploy") or {}).get("steps") or []
        conns = {str((st.get("inputs") or {}).get("azureSubscription")) for st in steps
                 if isinstance(st, dict) and "task" in st}
        if e["connection"] and conns != {e["connection"]}:
            problems.append(f"stage '{stage['stage']}' signs in with {sorted(conns)}, not {e['connection']}")
        previous = stage["stage"]
    return problems
