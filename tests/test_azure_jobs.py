"""Notebooks as Azure ML command jobs, against the local HTTPS fake of Azure: the fake runs each
submitted command (papermill) and serves its outputs through the run-history artifact API; the
runner downloads them into runs/<id>/ exactly like a local run."""

from __future__ import annotations

import json
import threading

import nbformat
import pytest

pytest_plugins = ["azure_fixtures"]


@pytest.fixture
def deployed(fake_azure, fake_credential, sample_project):
    """The jobs' workspace and cluster exist (as stage 3 leaves them); the jobs' environment does not
    yet (the first job creates it)."""
    return seed_jobs_workspace(fake_azure, sample_project)


def seed_jobs_workspace(fake_azure, project):
    from mlops_accelerator.azure.jobs import placement

    place = placement(project)
    env = place.env
    ws = (f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}/providers/"
          f"Microsoft.MachineLearningServices/workspaces/{place.workspace}")
    fake_azure.seed(ws, {"type": "Microsoft.MachineLearningServices/workspaces", "location": env.region,
                         "properties": {"provisioningState": "Succeeded"}})
    fake_azure.seed(f"{ws}/computes/{place.compute}", {"type": "Microsoft.MachineLearningServices/workspaces/"
                                                       "computes", "properties": {"computeType": "AmlCompute"}})
    return place


def _run(project, stages, **kwargs):
    from mlops_accelerator.runner import run_stages

    return run_stages(project, stages, target="azureml", **kwargs)


def test_stage_notebooks_run_as_jobs_and_come_back_executed(fake_azure, deployed, sample_project):
    statuses: list[tuple[str, str, str]] = []
    result = _run(sample_project, ["foundations"], jobs=2, on_status=lambda *s: statuses.append(s))
    assert result.status == "succeeded", [r.error for r in result.notebooks]
    run_dir = sample_project.root / result.run_dir
    names = sorted(p.name for p in (run_dir / "01-foundations").glob("*.ipynb"))
    assert names == ["01-maturity-assessment.ipynb", "02-team-charter.ipynb", "03-delivery-model.ipynb"]
    nb = nbformat.read(run_dir / "01-foundations" / "01-maturity-assessment.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters["output_dir"] == "outputs/01-foundations"  # the job's folder
    assert nb.metadata.papermill.parameters["settings"]["foundations"]["project_name"] == \
        sample_project.settings("foundations").project_name
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
    # each notebook really was a job on the chosen compute, with its settings in the uploaded snapshot
    puts = fake_azure.called("PUT", "/jobs/")
    assert len(puts) == 3
    job = fake_azure.get(puts[0][1].split("?")[0])
    assert job["properties"]["computeId"].endswith(f"/computes/{deployed.compute}")
    assert "python -m papermill" in job["properties"]["command"]
    # the accelerator is not installed from PyPI: the first job created the jobs' environment, its
    # requirements pinned, and each snapshot carries the package (the fake ran them in a sandbox
    # allowing only those packages and the snapshot)
    [env_put] = fake_azure.called("PUT", "/environments/")
    assert env_put[1].split("?")[0].endswith(f"/environments/mlops-accelerator-jobs/versions/"
                                             f"{deployed.environment.split(':')[-1]}")
    conda = fake_azure.get(env_put[1].split("?")[0])["properties"]["condaFile"]
    assert "papermill==" in conda and "ipykernel==" in conda and "pydantic==" in conda
    assert "mlops-accelerator==" not in conda and "jupyterlab" not in conda
    code = fake_azure.get(job["properties"]["codeId"])["properties"]["codeUri"]
    blobs = [k for k in fake_azure.blobs if k.startswith(code[len(fake_azure.endpoint) + 1:])]
    assert any(k.endswith("/runtime/mlops_accelerator/settings/foundations.py") for k in blobs)
    assert not any("/labextension/" in k or "__pycache__" in k for k in blobs)
    assert sample_project.settings("foundations").project_name not in job["properties"]["command"]
    assert fake_azure.rejected == []
    # the stage's evidence merged from the downloaded outputs, as after a local run
    assert result.stages["foundations"]["status"] == "succeeded"
    assert result.stages["foundations"]["evidence"]
    # status streamed to the caller and the ledger
    seen = {s for _, _, s in statuses}
    assert {"NotStarted", "Completed"} <= seen and ("Running" in seen or "Queued" in seen), statuses
    events = list(sample_project.events("azureml_job"))
    assert {e["key"] for e in events} == {r.key for r in result.notebooks}
    assert all(e["workspace"] == deployed.workspace for e in events)
    started = list(sample_project.events("run_started"))[-1]
    assert "Azure ML jobs" in started["placement"]


def _failing_templates(tmp_path):
    """A stage-1 template whose second code cell fails after the first wrote an output."""
    from mlops_accelerator.templates import stage_templates

    root = tmp_path / "templates"
    folder = root / "01-foundations"
    folder.mkdir(parents=True)
    src = stage_templates("foundations")[0]
    nb = nbformat.read(src.path, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    nb.cells = [params,
                nbformat.v4.new_code_cell("from pathlib import Path\nPath(output_dir).mkdir(exist_ok=True)\n"
                                          "(Path(output_dir) / 'partial.txt')"
                                          ".write_text('written before the failure')"),
                nbformat.v4.new_code_cell("raise RuntimeError('the data source is unreachable')"),
                nbformat.v4.new_code_cell("print('never')")]
    nbformat.write(nb, folder / src.path.name)
    return root


def test_stages_2_and_3_run_as_jobs_with_only_the_jobs_environment(fake_azure, deployed, sample_project):
    """The design and deploy notebooks (checkov, the IaC and CI/CD generators) need nothing beyond
    the jobs' environment and the shipped package: the fake runs them in its sandbox."""
    result = _run(sample_project, ["design", "deploy"], jobs=2)
    assert {r.key: r.status for r in result.notebooks if r.status != "succeeded"} == {}, \
        [r.error for r in result.notebooks]
    assert len(fake_azure.called("PUT", "/jobs/")) == len(result.notebooks) >= 7
    assert len(fake_azure.called("PUT", "/environments/mlops-accelerator-jobs/")) == 1  # once, for every job


def test_failed_job_keeps_partial_outputs_and_names_the_cell(fake_azure, deployed, sample_project, tmp_path):
    result = _run(sample_project, ["foundations"], templates_root=_failing_templates(tmp_path))
    assert result.status == "failed"
    [res] = result.notebooks
    assert res.status == "failed"
    assert res.error["ename"] == "RuntimeError"
    assert "the data source is unreachable" in res.error["evalue"]
    executed = nbformat.read(sample_project.root / res.output, as_version=4)
    assert "raise RuntimeError" in executed.cells[res.error["cell_index"]].source, \
        [c.source[:40] for c in executed.cells]
    assert executed.cells[-1].get("execution_count") is None  # the cell after the failure never ran
    run_dir = sample_project.root / result.run_dir / "01-foundations"
    assert (run_dir / "partial.txt").read_text() == "written before the failure"
    assert res.output and (sample_project.root / res.output).exists()
    log = next((run_dir / "azureml-logs").rglob("std_log.txt")).read_text()
    assert "RuntimeError" in log


def test_job_that_fails_without_running_says_why(fake_azure, deployed, sample_project):
    fake_azure.state.job_failures["02-team-charter"] = "Image build failed: conda could not resolve papermill"
    result = _run(sample_project, ["foundations"], jobs=3)
    by_key = {r.key: r for r in result.notebooks}
    failed = by_key["01-foundations/02-team-charter"]
    assert failed.status == "failed" and failed.output is None
    assert failed.error["ename"] == "AzureMLJobFailed"
    assert "ended Failed" in failed.error["evalue"] and "conda could not resolve papermill" in failed.error["evalue"]
    assert by_key["01-foundations/01-maturity-assessment"].status == "succeeded"


def test_a_job_whose_environment_lacks_a_package_fails_naming_it(fake_azure, deployed, sample_project):
    """An environment already in the workspace under the jobs' name and version is used as it is: when it
    does not install papermill, the job fails on the fake as it would on Azure, and says so."""
    env = deployed.env
    name, version = deployed.environment.split(":")[1:]
    fake_azure.seed(f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}/providers/"
                    f"Microsoft.MachineLearningServices/workspaces/{deployed.workspace}/environments/{name}/"
                    f"versions/{version}",
                    {"type": "Microsoft.MachineLearningServices/workspaces/environments/versions",
                     "properties": {"image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"}})
    result = _run(sample_project, ["foundations"], jobs=3)
    assert result.status == "failed" and not fake_azure.called("PUT", "/environments/")
    for res in result.notebooks:
        assert res.status == "failed" and res.error["ename"] == "AzureMLJobFailed", res.error
        assert "No module named 'papermill'" in res.error["evalue"], res.error["evalue"]


def test_the_later_stages_run_here_in_the_same_run(fake_azure, deployed, sample_project, tmp_path):
    """Stage 4's notebooks read and write the project's own files (sample data, lake, data registry),
    which a job's snapshot does not carry: with --target azureml they run on this machine, in the same
    run, while stage 1's go to Azure ML."""
    import shutil

    from mlops_accelerator.templates import stage_templates

    root = tmp_path / "templates"
    first = stage_templates("foundations")[0].path
    (root / "01-foundations").mkdir(parents=True)
    shutil.copyfile(first, root / "01-foundations" / first.name)
    src = nbformat.read(stage_templates("data")[0].path, as_version=4)
    params = next(c for c in src.cells if "parameters" in c.metadata.get("tags", []))
    src.cells = [params, nbformat.v4.new_code_cell(
        "from pathlib import Path\n"
        "Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
        "(Path(output_dir) / 'where.txt').write_text(str(Path(project_dir) / 'mlops-accelerator.yaml'))\n"
        "assert (Path(project_dir) / 'mlops-accelerator.yaml').is_file()")]
    (root / "04-data").mkdir()
    nbformat.write(src, root / "04-data" / "01-reads-the-project.ipynb")
    result = _run(sample_project, ["foundations", "data"], templates_root=root)
    assert {r.key: r.status for r in result.notebooks} == {
        f"01-foundations/{first.stem}": "succeeded", "04-data/01-reads-the-project": "succeeded"}, \
        [r.error for r in result.notebooks]
    assert {e["key"] for e in sample_project.events("azureml_job")} == {f"01-foundations/{first.stem}"}
    assert len(fake_azure.called("PUT", "/jobs/")) == 1
    where = sample_project.root / result.run_dir / "04-data" / "where.txt"
    assert where.read_text() == str(sample_project.root / "mlops-accelerator.yaml")  # ran here, on the project
    started = list(sample_project.events("run_started"))[-1]["placement"]
    assert "Azure ML jobs" in started and "stage(s) data run on this machine" in started, started


def test_cancel_cancels_the_running_jobs(fake_azure, deployed, sample_project, tmp_path):
    from mlops_accelerator.runner import run_stages

    root = tmp_path / "slow" / "01-foundations"
    root.mkdir(parents=True)
    src = nbformat.read(next(iter(__import__("mlops_accelerator.templates", fromlist=["x"]).stage_templates(
        "foundations"))).path, as_version=4)
    params = next(c for c in src.cells if "parameters" in c.metadata.get("tags", []))
    src.cells = [params, nbformat.v4.new_code_cell("import time\ntime.sleep(60)")]
    nbformat.write(src, root / "01-slow.ipynb")
    running = threading.Event()
    cancel_holder: dict[str, threading.Event] = {}

    def on_status(key, job, status):
        if status == "Running":
            running.set()

    import mlops_accelerator.runner as runner

    real = runner._cancel_on_signals

    def capture(cancel):  # the test plays Ctrl-C: it sets the flag the SIGINT handler sets
        cancel_holder["cancel"] = cancel
        return real(cancel)

    runner._cancel_on_signals = capture
    try:
        t = threading.Thread(target=lambda: cancel_holder.setdefault("result", run_stages(
            sample_project, ["foundations"], target="azureml", templates_root=tmp_path / "slow",
            on_status=on_status)))
        t.start()
        assert running.wait(60), "the job never started"
        cancel_holder["cancel"].set()
        t.join(60)
    finally:
        runner._cancel_on_signals = real
    result = cancel_holder["result"]
    assert result.status == "cancelled"
    assert fake_azure.called("POST", "/cancel")
    job = fake_azure.get(fake_azure.called("PUT", "/jobs/")[0][1].split("?")[0])
    assert job["properties"]["status"] == "Canceled"
    assert json.dumps(list(sample_project.events("azureml_job"))).count("CancelRequested") == 1


def test_the_fake_refuses_malformed_job_and_code_bodies(fake_azure, fake_credential, deployed):
    from mlops_accelerator.azure.arm import AzureCallError, call
    from mlops_accelerator.azure.connection import arm_client

    env = deployed.env
    ws = (f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}/providers/"
          f"Microsoft.MachineLearningServices/workspaces/{deployed.workspace}")
    client = arm_client(fake_credential)
    bad_job = {"properties": {"jobType": "Command", "command": ["not", "a", "string"],
                              "environmentId": "x", "computeid": "typo"}}
    with pytest.raises(AzureCallError) as exc:
        call(client, "PUT", f"{ws}/jobs/bad-job", "ml", body=bad_job)
    assert exc.value.status == 400
    assert any("command" in r for r in fake_azure.rejected), fake_azure.rejected
    with pytest.raises(AzureCallError):
        call(client, "POST", f"{ws}/codes/c1/versions/1/startPendingUpload", "ml",
             body={"pendingUploadType": "TemporaryBlobReference", "sizeInBytes": "big"})
    with pytest.raises(AzureCallError):
        call(client, "PUT", f"{ws}/codes/c1/versions/1", "ml",
             body={"properties": {"codeUri": "https://elsewhere.example/x", "isAnonymous": True}})
    assert len(fake_azure.rejected) == 3, fake_azure.rejected
    assert not fake_azure.jobs
