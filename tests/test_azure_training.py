"""Stage 5's training on Azure ML against the local HTTPS fake: the training pipeline the stage's
notebook wrote is submitted with the trained commit, run step by step by the fake (each step in the
sandbox of its environment), and what it registered is deployed. These tests cover what goes wrong:
a failing step, Ctrl-C, a malformed pipeline. The whole path that succeeds, from `run data models
monitor --target azureml` to the endpoints deploying the job's model, is in test_azure_stages456.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_azure_stages456 import model_specs, seed_workspaces, workspace_id

pytest_plugins = ["azure_fixtures"]

SAMPLE_CODE = Path(__file__).resolve().parent.parent / "mlops_accelerator" / "sample" / "churn_project"


@pytest.fixture
def trained_here(fake_azure, fake_credential, sample_project, tmp_path):
    """What a run of stage 5 leaves for the target: the specs, the exported commit (code/), and on
    Azure the workspaces with their cluster and the training data asset (files that are not Parquet:
    the pipeline's first step fails on them)."""
    seed_workspaces(fake_azure, sample_project)
    ws = workspace_id(sample_project, "dev")
    fake_azure.seed(f"{ws}/datastores/gold", {"type": "Microsoft.MachineLearningServices/workspaces/datastores",
                                              "properties": {"datastoreType": "AzureDataLakeGen2",
                                                             "accountName": "stcontosochurndata",
                                                             "filesystem": "gold", "endpoint": "core.windows.net"}})
    fake_azure.seed(f"{ws}/data/churn-features/versions/1", {
        "type": "Microsoft.MachineLearningServices/workspaces/data/versions",
        "properties": {"dataType": "mltable", "dataUri": "azureml://datastores/gold/paths/churn-features/1/"}})
    fake_azure.lake["stcontosochurndata/gold/churn-features/1/part-0.parquet"] = b"these bytes are not Parquet"

    def prepare(training_method: str = "pipeline") -> Path:
        sample_project.set_values("models", {"training_method": training_method})
        stage_dir = sample_project.root / "runs" / "r1" / "05-models"
        model_specs(sample_project, stage_dir, None, transfer="aml_registry")
        for part in ("src", "tests", "pyproject.toml"):
            src = SAMPLE_CODE / part
            (shutil.copytree if src.is_dir() else shutil.copyfile)(src, stage_dir / "code" / part)
        return stage_dir
    return prepare


@pytest.mark.parametrize("method", ["pipeline", "command_job"])
def test_a_failing_step_is_named_with_its_log_and_nothing_is_deployed(fake_azure, fake_credential, sample_project,
                                                                       trained_here, method):
    from mlops_accelerator.azure.target import READBACK_FILE, after_local_stages

    stage_dir = trained_here(method)
    stages = {"models": {"status": "succeeded", "evidence": {"model": {
        "name": "churn-classifier", "version": "4", "tags": {}}}}}  # what the notebook registered here
    after_local_stages(sample_project, stage_dir.parent, "r1", stages)
    error = " ".join(stages["models"]["error"].split())
    assert stages["models"]["status"] == "failed"
    step = " at step Clean and split the data asset" if method == "pipeline" else ""
    assert error.startswith(f"on Azure: dev: training job contoso-churn-train-r1 ended Failed{step}; end of its "
                            "log:"), error
    # pyarrow's own words, from the step's log: the data asset's files reached the step
    assert "Parquet magic bytes not found" in error and READBACK_FILE in error
    logs = list((stage_dir / "azureml-training" / "logs").rglob("std_log.txt"))  # logs/<step>/user_logs/
    assert len(logs) == 1 and "Parquet magic bytes not found" in logs[0].read_text()
    if method == "command_job":  # the single job runs the project's unit tests first, in the job's environment
        assert " passed" in logs[0].read_text()
    kept = stages["models"]["evidence"]["azure_training"]
    assert (kept["status"], kept["env"]) == ("Failed", "dev")
    assert kept["steps"] == (["dataprep", "train", "evaluate", "register"] if method == "pipeline" else None)
    # a failed training deploys nothing: not this machine's model either
    assert fake_azure.called("PUT", "/models/") == [] and fake_azure.called("PUT", "/onlineEndpoints/") == []
    assert fake_azure.rejected == []


def test_ctrl_c_cancels_the_training_job_on_azure(fake_azure, fake_credential, sample_project, trained_here,
                                                  monkeypatch):
    stage_dir = trained_here()
    from mlops_accelerator.azure import training
    from mlops_accelerator.azure.connection import environments
    from mlops_accelerator.azure.stages456 import workspace_client

    env = environments(sample_project, ["dev"])[0]
    ml = workspace_client(sample_project, fake_credential, env)

    def interrupted(seconds):
        raise KeyboardInterrupt
    monkeypatch.setattr(training, "_wait", interrupted)  # Ctrl-C while the job runs
    with pytest.raises(KeyboardInterrupt):
        training.train_on_azure(ml, fake_credential, env, stage_dir, sample_project.settings("models"),
                                "contoso-churn", "r2", poll_s=0.1)
    name = training.job_name("contoso-churn", "r2")
    assert [r[2] for r in fake_azure.called("POST", f"/jobs/{name}/cancel")] == [202]
    assert fake_azure.get(f"{workspace_id(sample_project, 'dev')}/jobs/{name}")["properties"]["status"] == "Canceled"


def test_the_fake_rejects_a_pipeline_bound_to_a_step_it_does_not_have(fake_azure, fake_credential, sample_project):
    from azure.core.rest import HttpRequest

    from mlops_accelerator.azure.connection import arm_client

    seed_workspaces(fake_azure, sample_project)
    job = f"{workspace_id(sample_project, 'dev')}/jobs/broken"
    body = {"properties": {"jobType": "Pipeline", "jobs": {"train": {
        "type": "command", "componentId": "azureml:/x/components/c/versions/1",
        "inputs": {"prepared": {"job_input_type": "literal", "value": "${{parent.jobs.dataprep.outputs.prepared}}"}}}}}}
    resp = arm_client(fake_credential).send_request(
        HttpRequest("PUT", f"{fake_azure.endpoint}{job}?api-version=2024-04-01", json=body))
    assert resp.status_code == 400
    assert fake_azure.rejected and "binds to node 'dataprep'" in fake_azure.rejected[-1]
    assert fake_azure.get(job) is None  # a rejected job is not created, and nothing runs


def test_azure_failing_while_the_job_runs_is_said_and_nothing_is_deployed(fake_azure, fake_credential,
                                                                          sample_project, trained_here):
    from mlops_accelerator.azure import training
    from mlops_accelerator.azure.connection import environments
    from mlops_accelerator.azure.stages456 import workspace_client

    stage_dir = trained_here()
    env = environments(sample_project, ["dev"])[0]
    ml = workspace_client(sample_project, fake_credential, env)
    name = training.job_name("contoso-churn", "r3")
    submitted = []
    real = ml.jobs.create_or_update

    def create(job, **kwargs):  # once the job is in, Azure stops answering for it
        submitted.append(real(job, **kwargs))
        fake_azure.inject(f"/jobs/{name}", 404, "ResourceNotFound", "the job vanished", method="GET", times=50)
        return submitted[-1]
    ml.jobs.create_or_update = create
    got, failures, model = training.train_on_azure(ml, fake_credential, env, stage_dir,
                                                   sample_project.settings("models"), "contoso-churn", "r3",
                                                   poll_s=0.1)
    assert len(submitted) == 1 and model is None
    assert failures == [f"training job {name}: following it failed after submission: ResourceNotFoundError: "
                        "ResourceNotFound: "
                        f"the job vanished (it may still be running: see it in Azure ML studio, "
                        f"{got['studio_url']})"], failures


def test_the_trained_version_reaches_another_workspace_as_its_files(fake_azure, fake_credential, sample_project,
                                                                    tmp_path):
    """models.cross_env_model_transfer: copy_model_artifact. The version the training job registered in
    dev's workspace is missing in prod: its files are downloaded from dev's workspace and registered in
    prod under the same name, version and tags, and prod's deployments name it, not the notebook's."""
    from test_azure_stages456 import register_locally

    from mlops_accelerator.azure.connection import environments
    from mlops_accelerator.azure.stages456 import LocalModel, _register, models_on_azure, workspace_client
    from mlops_accelerator.azure.training import TrainedModel

    seed_workspaces(fake_azure, sample_project)
    dev, prod = (workspace_client(sample_project, fake_credential, e)
                 for e in environments(sample_project, ["dev", "prod"]))
    version = register_locally(sample_project)  # stands in for what the job registered in dev
    _register(dev, LocalModel("churn-classifier", version, sample_project.root, {"stage": "champion"}))
    specs = model_specs(sample_project, tmp_path, "99")  # the notebook's own version, never deployed here
    trained = TrainedModel("churn-classifier", version, dev, {"stage": "champion", "training_run": "job-1"})
    got, failures = models_on_azure(prod, specs / "prod", trained, trained=True)
    assert failures == [], (failures, fake_azure.rejected)
    assert (got["model"]["version"], got["model"]["registered"]) == (version, "by this run")
    [put] = fake_azure.called("PUT", "/models/churn-classifier/versions/")[1:]  # the first was dev's
    assert "/workspaces/mlw-contoso-churn-prod/" in put[1]
    body = fake_azure.get(put[1].split("?")[0])["properties"]
    assert body["tags"] == {"stage": "champion", "training_run": "job-1"} and "training job" in body["description"]

    def files(workspace, env):  # a workspace's registered version: its files in its own default datastore
        from fake_azure.models import default_datastore

        uri = workspace.models.get("churn-classifier", version=version).path
        container = default_datastore(fake_azure, workspace_id(sample_project, env))["properties"]["containerName"]
        root = f"{container}/{uri.split('/paths/', 1)[1].rstrip('/')}/"
        return {k[len(root):]: v for k, v in fake_azure.blobs.items() if k.startswith(root)}
    assert "MLmodel" in files(prod, "prod") and files(prod, "prod") == files(dev, "dev")  # byte for byte
    deps = got["online_endpoint"]["deployments"]
    assert deps and all(d["model"].endswith(f"/churn-classifier/versions/{version}") for d in deps), deps
    downloaded = trained.folder()
    trained.close()
    assert not downloaded.exists()
