"""`run foundations design deploy --target azureml` against the local HTTPS fake of Azure: the
notebooks run here, stage 3 is deployed and read back, and S3-02/03/05/07/08/09/10 become done from
the read-back evidence; an injected failure keeps the partial evidence and says what failed."""

from __future__ import annotations

import json

pytest_plugins = ["azure_fixtures"]

FROM_AZURE_ITEMS = ("S3-02", "S3-03", "S3-05", "S3-07", "S3-08", "S3-09", "S3-10")


def _items(project) -> dict[str, dict]:
    from mlops_accelerator.report import status_data

    return {item["id"]: item for stage in status_data(project)["stages"] for item in stage.get("items") or []}


def _states(project) -> dict[str, str]:
    return {i: item["state"] for i, item in _items(project).items()}


def test_run_target_azureml_deploys_and_reads_back(fake_azure, fake_credential, sample_project):
    from click.testing import CliRunner
    from test_azure_stage3 import seed_identities

    from mlops_accelerator.cli import main

    seed_identities(fake_azure, sample_project)
    runner = CliRunner()
    before = _states(sample_project)
    res = runner.invoke(main, ["-C", str(sample_project.root), "run", "foundations", "design", "deploy",
                               "--target", "azureml", "--jobs", "2"])
    assert res.exit_code == 0, res.output
    states = _states(sample_project)
    reasons = {i: item["reason"] for i, item in _items(sample_project).items() if i in FROM_AZURE_ITEMS}
    assert {i: states[i] for i in FROM_AZURE_ITEMS} == {i: "done" for i in FROM_AZURE_ITEMS}, (reasons, res.output)
    assert any(before[i] != "done" for i in FROM_AZURE_ITEMS)
    run_dir = next((sample_project.root / "runs").iterdir())
    readback = json.loads((run_dir / "03-deploy" / "evidence" / "azureml-readback.json").read_text())
    assert {w["env"] for w in readback["inventory"]["workspaces"]} == {"dev", "test", "prod"}
    assert json.loads((run_dir / "03-deploy" / "azureml-preflight.json").read_text()) == {"findings": []}
    assert fake_azure.rejected == []
    # No workspace before this run: its notebooks ran here, and it says why.
    assert "does not exist in dev yet" in list(sample_project.events("run_started"))[-1]["placement"]
    assert not list(sample_project.events("azureml_job"))

    # Same stage again with a compute that cannot be created in test: partial evidence kept, failure named.
    fake_azure.inject("/computes/cpu-cluster", 409, "Conflict", "a compute named cpu-cluster is being deleted",
                      method="PUT")
    res = runner.invoke(main, ["-C", str(sample_project.root), "run", "deploy", "--target", "azureml"])
    assert res.exit_code == 1
    assert "ok 03-deploy/01-azureml-environments" in res.output, res.output  # the notebooks themselves pass
    assert "azureml 03-deploy/01-azureml-environments: job mlops-" in res.output  # each one's job, streamed
    assert "FAILED stage deploy: on Azure: dev: compute cpu-cluster: Conflict" in " ".join(res.output.split())
    second = max((sample_project.root / "runs").iterdir(), key=lambda p: p.stat().st_mtime)
    # The workspace exists now: stage 3's notebooks ran as Azure ML jobs on its cluster.
    jobs = {e["key"]: e["status"] for e in sample_project.events("azureml_job") if e["run_id"] == second.name}
    assert set(jobs) == finished_keys(sample_project, second.name)
    assert set(jobs.values()) == {"Completed"}
    partial = json.loads((second / "03-deploy" / "evidence" / "azureml-readback.json").read_text())
    assert "dev" not in partial["computes"] and {"test", "prod"} <= set(partial["computes"])
    finished = [e for e in sample_project.events("run_finished")][-1]
    assert finished["stages"]["deploy"]["status"] == "failed"
    assert finished["stages"]["deploy"]["evidence"]["computes"].keys() == {"test", "prod"}


def finished_keys(project, run_id):
    return {e["key"] for e in project.events("notebook_finished") if e["run_id"] == run_id}


def test_preflight_findings_stop_the_deployment(fake_azure, fake_credential, sample_project):
    from click.testing import CliRunner

    from mlops_accelerator.cli import main

    fake_azure.state.providers["Microsoft.Storage"] = "NotRegistered"
    res = CliRunner().invoke(main, ["-C", str(sample_project.root), "run", "design", "deploy",
                                    "--target", "azureml"])
    assert res.exit_code == 1
    out = " ".join(res.output.split())
    assert "pre-flight found 3 problem(s), nothing was deployed" in out  # one per environment
    assert "setting: design.environments.0.subscription_id" in out
    assert not fake_azure.called("PUT", "/deployments/")


def test_azureml_refuses_stages_it_does_not_cover_yet(sample_project):
    import pytest

    from mlops_accelerator.errors import UsageError
    from mlops_accelerator.runner import run_stages

    with pytest.raises(UsageError, match="stage\\(s\\) migrate run only with --target local"):
        run_stages(sample_project, ["migrate"], target="azureml")
