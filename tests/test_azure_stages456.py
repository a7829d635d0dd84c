"""Stages 4-6 on Azure against the local HTTPS fake: what the stages' notebooks write as Azure ML
specs (datastores, data assets, endpoints, deployments, traffic, the monitor schedule) is created in
each environment's workspace with azure-ai-ml's loaders and read back as the stage's evidence."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["azure_fixtures"]

WS_TYPE = "Microsoft.MachineLearningServices/workspaces"


def workspace_id(project, env_name: str) -> str:
    from mlops_accelerator.azure.connection import environments
    from mlops_accelerator.settings.design import resource_name

    env = next(e for e in environments(project) if e.name == env_name)
    name = resource_name(project.settings("design"), "workspace_name", env_name)
    return (f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}/providers/"
            f"{WS_TYPE}/{name}")


def seed_workspaces(fake, project, model: tuple[str, str] | None = None) -> None:
    """Each environment's workspace as stage 3 leaves it (with the training cluster); with `model`,
    the model version the training pipeline's register step leaves there."""
    from mlops_accelerator.azure.connection import environments

    cluster = project.settings("models").compute_name
    for env in environments(project):
        ws = workspace_id(project, env.name)
        fake.seed(ws, {"type": WS_TYPE, "location": env.region, "properties": {"provisioningState": "Succeeded"}})
        fake.seed(f"{ws}/computes/{cluster}", {"type": f"{WS_TYPE}/computes", "location": env.region,
                                               "properties": {"computeType": "AmlCompute", "properties": {
                                                   "vmSize": "STANDARD_DS3_V2", "scaleSettings": {
                                                       "minNodeCount": 0, "maxNodeCount": 4}}}})
        if model:
            fake.seed(f"{ws}/models/{model[0]}/versions/{model[1]}", {
                "type": f"{WS_TYPE}/models/versions",
                "properties": {"modelType": "mlflow_model", "modelUri": f"azureml://jobs/train/outputs/{model[0]}",
                               "flavors": {"python_function": {"data": {"loader_module": "mlflow.sklearn"}}},
                               "tags": {}, "properties": {}}})


def seed_registry(fake, project) -> str:
    """The shared registry as stage 3 leaves it, in production's resource group; returns its name."""
    from mlops_accelerator.artifacts.azureml_specs import registry_name
    from mlops_accelerator.azure.connection import environments

    prod = environments(project)[-1]
    name = registry_name(project.settings("foundations").project_name)
    fake.seed(f"/subscriptions/{prod.subscription_id}/resourceGroups/{prod.resource_group}/providers/"
              f"Microsoft.MachineLearningServices/registries/{name}",
              {"type": "Microsoft.MachineLearningServices/registries", "location": prod.region,
               "properties": {"regionDetails": [{"location": prod.region}]}})
    return name


def model_specs(project, tmp_path, version: str | None = "3", transfer: str = "copy_model_artifact"):
    """Stage 5's specs, written by the generator the notebook calls. Deployments name each workspace's
    own version, or with transfer aml_registry the shared registry's."""
    from mlops_accelerator.artifacts.cicd import pipeline_plan
    from mlops_accelerator.modeling import azure_specs, workflows

    project.set_values("models", {"cross_env_model_transfer": transfer})
    models = project.settings("models")
    plan = workflows.plan(models, pipeline_plan(project.settings("design"), project.settings("deploy"),
                                                project.settings("foundations")), azure_specs.FOLDER)
    files = azure_specs.write_specs(tmp_path, models, [e["name"] for e in plan["environments"]],
                                    project.settings("foundations").project_name, version,
                                    data=project.settings("data"))
    assert all(f["valid"] for f in files), [f for f in files if not f["valid"]]
    return tmp_path / azure_specs.FOLDER


@pytest.fixture(autouse=True)
def storage_unreachable(monkeypatch):
    """The fake serves Azure Resource Manager and Azure ML, not the storage data plane: an mltable data
    asset makes azure-ai-ml read its MLTable file from the datastore's account (a real host name),
    which here would fail only after the storage client's retries (about 85 s per asset). It fails at
    once instead, as it does offline; the SDK then skips that validation, as it does for any
    unreadable remote MLTable."""
    from azure.ai.ml.operations import _data_operations

    def unreachable(**kwargs):
        raise ConnectionError(f"storage is not part of the fake ({kwargs.get('base_uri')})")
    monkeypatch.setattr(_data_operations, "read_remote_mltable_metadata_contents", unreachable)


@pytest.fixture
def ml_dev(fake_azure, fake_credential, sample_project):
    from mlops_accelerator.azure.connection import environments
    from mlops_accelerator.azure.stages456 import workspace_client

    seed_workspaces(fake_azure, sample_project, ("churn-classifier", "3"))
    return workspace_client(sample_project, fake_credential, environments(sample_project, ["dev"])[0])


def test_endpoints_deployments_and_traffic_created_and_read_back(fake_azure, ml_dev, sample_project, tmp_path):
    from mlops_accelerator.azure.stages456 import models_on_azure

    specs = model_specs(sample_project, tmp_path)
    got, failures = models_on_azure(ml_dev, specs / "dev")
    assert failures == [], (failures, fake_azure.rejected, fake_azure.unhandled)
    models = sample_project.settings("models")
    ep = got["online_endpoint"]
    assert ep["name"] == f"{models.online_endpoint.name}-dev" and ep["state"] == "Succeeded"
    assert ep["traffic"] == {d.name: d.traffic for d in models.online_endpoint.deployments}
    assert {d["name"]: d["state"] for d in ep["deployments"]} == {
        d.name: "Succeeded" for d in models.online_endpoint.deployments}
    assert all(d["model"].endswith("churn-classifier/versions/3") for d in ep["deployments"]), ep["deployments"]
    assert {k: got["model"][k] for k in ("name", "version", "type", "registered")} == {
        "name": "churn-classifier", "version": "3", "type": "mlflow_model", "registered": "before this run"}
    assert fake_azure.called("GET", "/fake/operations/")  # each went through Azure's LRO protocol
    assert fake_azure.rejected == []


def test_a_deployment_that_fails_keeps_the_read_back_and_names_the_spec(fake_azure, ml_dev, sample_project,
                                                                         tmp_path):
    from mlops_accelerator.azure.stages456 import models_on_azure

    specs = model_specs(sample_project, tmp_path)
    first = sample_project.settings("models").online_endpoint.deployments[0].name
    fake_azure.state.endpoint_deployment_faults[first] = {
        "code": "OutOfQuota", "message": "not enough Standard_DS3_v2 quota to provision 1 instance"}
    got, failures = models_on_azure(ml_dev, specs / "dev")
    assert len(failures) == 1 and f"deployment-{first}.yml" in failures[0] and "OutOfQuota" in failures[0]
    assert got["online_endpoint"]["state"] == "Succeeded"  # the endpoint was made before: read back
    assert {d["name"]: d["state"] for d in got["online_endpoint"]["deployments"]} == {first: "Failed"}
    assert not fake_azure.called("PUT", "/batchEndpoints/")  # nothing after the failed step


def test_a_deployment_that_never_finishes_is_bounded_and_named(fake_azure, ml_dev, sample_project, tmp_path,
                                                              monkeypatch):
    from mlops_accelerator.azure.stage3 import DEPLOY_TIMEOUT_ENV
    from mlops_accelerator.azure.stages456 import models_on_azure

    monkeypatch.setenv(DEPLOY_TIMEOUT_ENV, "2")
    last = sample_project.settings("models").online_endpoint.deployments[-1].name
    fake_azure.state.endpoint_deployment_faults[last] = {"never": "true"}
    got, failures = models_on_azure(ml_dev, model_specs(sample_project, tmp_path) / "dev")
    assert len(failures) == 1 and failures[0].startswith(f"deployment-{last}.yml: deployment {last} did not finish "
                                                         "within 2 s"), failures
    states = {d["name"]: d["state"] for d in got["online_endpoint"]["deployments"]}
    assert states[last] == "Creating" and all(v == "Succeeded" for k, v in states.items() if k != last)


def test_a_missing_model_is_named_and_nothing_is_deployed(fake_azure, fake_credential, sample_project, tmp_path):
    from mlops_accelerator.azure.connection import environments
    from mlops_accelerator.azure.stages456 import models_on_azure, workspace_client

    seed_workspaces(fake_azure, sample_project)  # no model registered on Azure
    ml = workspace_client(sample_project, fake_credential, environments(sample_project, ["test"])[0])
    got, failures = models_on_azure(ml, model_specs(sample_project, tmp_path, "7") / "test")
    assert "model churn-classifier:7 (named by deployment-" in failures[0] and "not registered" in failures[0]
    assert got["online_endpoint"] is None and not fake_azure.called("PUT", "/onlineEndpoints/")


def register_locally(project, name: str = "churn-classifier") -> str:
    """A small MLflow model registered in the project's registry, as stage 5's notebook leaves one
    (explicit-URI client: no process-wide MLflow state leaks into other tests)."""
    import tempfile
    from pathlib import Path

    import mlflow.sklearn
    from sklearn.dummy import DummyClassifier

    from mlops_accelerator.tracking import artifact_root, project_client

    client = project_client(project.root)
    exp = client.create_experiment("churn-training", artifact_location=artifact_root(project.root))
    run = client.create_run(exp)
    with tempfile.TemporaryDirectory() as tmp:
        mlflow.sklearn.save_model(DummyClassifier().fit([[0], [1]], [0, 1]), Path(tmp) / "model")
        client.log_artifacts(run.info.run_id, str(Path(tmp) / "model"), "model")
    client.set_terminated(run.info.run_id)
    client.create_registered_model(name)
    return str(client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id,
                                           tags={"git_commit": "0123abc", "stage": "champion"}).version)


def test_this_runs_model_is_uploaded_and_registered_where_it_is_missing(fake_azure, fake_credential, sample_project,
                                                                         tmp_path):
    """No version on Azure: the one this run registered in the project's MLflow registry is uploaded to
    the workspace's default datastore (the SDK's own upload, to the fake's storage host) and registered
    with its tags; the endpoints then deploy it. A second run finds it there and uploads nothing."""
    from mlops_accelerator.azure.connection import environments
    from mlops_accelerator.azure.stages456 import LocalModel, models_on_azure, workspace_client

    version = register_locally(sample_project)
    seed_workspaces(fake_azure, sample_project)  # no model on Azure yet
    ml = workspace_client(sample_project, fake_credential, environments(sample_project, ["test"])[0])
    specs = model_specs(sample_project, tmp_path, version)
    local = LocalModel.from_evidence({"model": {"name": "churn-classifier", "version": version, "run_id": "r1",
                                                "tags": {"git_commit": "0123abc", "stage": "champion"}}},
                                     sample_project.root)
    got, failures = models_on_azure(ml, specs / "test", local)
    assert failures == [], (failures, fake_azure.rejected, fake_azure.unhandled)
    assert got["model"]["registered"] == "by this run" and got["model"]["version"] == version
    assert got["model"]["tags"] == {"git_commit": "0123abc", "stage": "champion"}
    assert "/datastores/workspaceblobstore/paths/" in got["model"]["path"]
    folder = local.folder()  # every file of the MLflow model, byte for byte, under the registered path
    root = got["model"]["path"].split("/paths/", 1)[1].rstrip("/")
    uploaded = {k.split(f"/{root}/", 1)[1]: v for k, v in fake_azure.blobs.items()
                if k.startswith("azureml-blobstore-") and f"/{root}/" in f"/{k}"}
    assert "MLmodel" in uploaded and uploaded == {
        f.relative_to(folder).as_posix(): f.read_bytes() for f in folder.rglob("*") if f.is_file()}
    deps = got["online_endpoint"]["deployments"]
    assert deps and all(d["model"].endswith(f"churn-classifier/versions/{version}") for d in deps)
    assert fake_azure.rejected == []
    # the upload ran in the fake's cloud, and the process's cloud is put back (kernels inherit it)
    assert os.environ.get("AZUREML_CURRENT_CLOUD") is None

    puts = len(fake_azure.called("PUT", "/models/churn-classifier/versions/"))
    again, failures = models_on_azure(ml, specs / "test", local)
    assert failures == [] and again["model"]["registered"] == "before this run"
    assert len(fake_azure.called("PUT", "/models/churn-classifier/versions/")) == puts == 1


def test_a_missing_version_other_than_this_runs_is_not_registered(fake_azure, fake_credential, sample_project,
                                                                   tmp_path):
    from mlops_accelerator.azure.connection import environments
    from mlops_accelerator.azure.stages456 import LocalModel, models_on_azure, workspace_client

    seed_workspaces(fake_azure, sample_project)
    ml = workspace_client(sample_project, fake_credential, environments(sample_project, ["dev"])[0])
    local = LocalModel("churn-classifier", "2", sample_project.root)  # the specs name version 5
    got, failures = models_on_azure(ml, model_specs(sample_project, tmp_path, "5") / "dev", local)
    assert "model churn-classifier:5" in failures[0] and "not the version this run registered" in failures[0]
    assert not fake_azure.called("PUT", "/models/") and got["online_endpoint"] is None


def test_the_fake_refuses_a_model_whose_files_were_not_uploaded(fake_azure, ml_dev):
    from azure.ai.ml.entities import Model
    from azure.core.exceptions import HttpResponseError

    uri = (f"azureml://subscriptions/{ml_dev.subscription_id}/resourcegroups/{ml_dev.resource_group_name}/"
           f"workspaces/{ml_dev.workspace_name}/datastores/workspaceblobstore/paths/LocalUpload/nothing/model")
    with pytest.raises(HttpResponseError, match="nothing was uploaded"):
        ml_dev.models.create_or_update(Model(name="churn-classifier", version="9", type="mlflow_model", path=uri))
    assert fake_azure.rejected and "nothing was uploaded" in fake_azure.rejected[-1]


def test_the_fake_rejects_a_malformed_deployment_body(fake_azure, ml_dev, sample_project):
    import requests
    from fake_azure.credential import FakeCredential

    ws = workspace_id(sample_project, "dev")
    token = FakeCredential().get_token(f"{fake_azure.endpoint}/.default").token
    url = f"{fake_azure.endpoint}{ws}/onlineEndpoints/ep-dev/deployments/blue?api-version=2024-04-01"
    fake_azure.seed(f"{ws}/onlineEndpoints/ep-dev", {"type": f"{WS_TYPE}/onlineEndpoints", "location": "westeurope",
                                                      "properties": {"authMode": "Key"}})
    body = {"location": "westeurope", "properties": {"endpointComputeType": "Managed",
                                                     "instanceType": "Standard_DS3_v2"},
            "sku": {"name": "Default", "capacity": "one"}}  # an instance count must be an integer
    res = requests.put(url, json=body, headers={"Authorization": f"Bearer {token}"},
                       verify=str(fake_azure.ca_bundle), timeout=10)
    assert res.status_code == 400 and res.json()["error"]["code"] == "InvalidRequestContent"
    assert "capacity" in fake_azure.rejected[-1]
    assert fake_azure.get(f"{ws}/onlineEndpoints/ep-dev/deployments/blue") is None  # nothing kept


FROM_AZURE_ITEMS = {"S4-05": "read back from Azure in dev, prod, test",
                    "S5-01": "ran on Azure ML compute 'cpu-cluster' in dev",
                    "S5-08": "read back from Azure in dev, prod, test",
                    "S6-04": "read back from Azure in prod"}


def _items(project) -> dict[str, dict]:
    from mlops_accelerator.report import status_data

    return {item["id"]: item for stage in status_data(project)["stages"] for item in stage.get("items") or []}


@pytest.fixture
def sample_init(tmp_path):
    """`init --sample`: the sample's settings and its data (the data stage reads it)."""
    from click.testing import CliRunner

    from mlops_accelerator.cli import main
    from mlops_accelerator.workspace import Project

    res = CliRunner().invoke(main, ["init", "--sample", str(tmp_path / "sample")])
    assert res.exit_code == 0, res.output
    return Project.find(tmp_path / "sample")


def test_run_data_models_monitor_target_azureml(fake_azure, fake_credential, sample_init):
    """The three stages' notebooks run here (no cluster on Azure yet), then their specs are created in
    each environment's workspace; the checks read the read-back. A deployment that then fails keeps
    the partial read-back and names its spec."""
    import json
    import re

    from click.testing import CliRunner

    from mlops_accelerator.azure.preflight import run_preflight
    from mlops_accelerator.azure.target import READBACK_FILE, after_local_stages
    from mlops_accelerator.cli import main
    from mlops_accelerator.evidence import merge_stage_evidence

    seed_workspaces(fake_azure, sample_init)  # no model on Azure: the run registers its own version there
    registry = seed_registry(fake_azure, sample_init)  # the sample promotes through it (aml_registry)
    res = CliRunner().invoke(main, ["-C", str(sample_init.root), "run", "data", "models", "monitor",
                                    "--target", "azureml", "--jobs", "2"])
    assert res.exit_code == 0, res.output
    # the runner's lines only: no polling dots, colour resets or SDK info logs between them
    assert "Check: endpoint" not in res.output and "\x1b" not in res.output, res.output
    assert not [line for line in res.output.splitlines() if line and not line.strip(".")], res.output
    items = _items(sample_init)
    for item, reason in FROM_AZURE_ITEMS.items():
        assert (items[item]["state"], reason in items[item]["reason"]) == ("done", True), items[item]["reason"]
    run_dir = sample_init.root / "runs" / re.search(r"Run (\S+): ", res.output).group(1)
    data = json.loads((run_dir / "04-data" / "evidence" / READBACK_FILE).read_text())["azure_data"]
    assert set(data) == {"dev", "test", "prod"} and all(d["data_assets"] and d["datastores"] for d in data.values())
    # each asset version's files went up from the local lake to its datastore before the asset was made
    from mlops_accelerator.dataprep.lake import Lake

    settings = sample_init.settings("data")
    lake = Lake(sample_init.root, settings.datastores, settings.data_layers)
    for asset in data["dev"]["data_assets"]:
        local = lake.local_path(asset["path"])
        store = lake.stores[asset["path"].split("/")[3]]
        prefix = f"{store.account_name}/{store.container}/{asset['path'].split('/paths/', 1)[1]}"
        sent = {k[len(prefix):]: v for k, v in fake_azure.lake.items() if k.startswith(prefix)}
        assert sent == {p.relative_to(local).as_posix(): p.read_bytes() for p in local.rglob("*") if p.is_file()}
        assert asset["files"]["uploaded"] == len(sent) > 0, asset
    endpoints = json.loads((run_dir / "05-models" / "evidence" / READBACK_FILE).read_text())["azure_endpoints"]
    names = {env: got["online_endpoint"]["name"] for env, got in endpoints.items()}
    base = sample_init.settings("models").online_endpoint.name
    assert names == {env: f"{base}-{env}" for env in ("dev", "test", "prod")}  # unique in the one region
    # Stage 5 trained again on Azure ML, in dev (the first of the promotion path): the training
    # pipeline without its deploy step (the target deploys), on the cluster, from the uploaded commit
    training = json.loads((run_dir / "05-models" / "evidence" / READBACK_FILE).read_text())["azure_training"]
    assert (training["env"], training["status"], training["steps"]) == (
        "dev", "Completed", ["dataprep", "train", "evaluate", "register"]), training
    assert training["registration"]["registered"] and training["registration"]["alias"] == "champion"
    trained = training["model"]
    assert trained["name"] == "churn-classifier" and trained["type"] == "mlflow_model"
    assert {"stage", "data_asset", "git_commit", "training_run"} <= set(trained["tags"]), trained
    dev = workspace_id(sample_init, "dev").lower()  # its files, in dev's default datastore
    assert trained["path"].lower().startswith(
        "azureml://subscriptions/{}/resourcegroups/{}/workspaces/{}/datastores/workspaceblobstore/paths/".format(
            *(dev.split("/")[i] for i in (2, 4, 8)))), trained["path"]
    assert json.loads((run_dir / "05-models" / "azureml-training" / "named-outputs" / "registration" /
                       "registration.json").read_text())["version"] == trained["version"]
    # its statuses are in the ledger, with the studio link, beside the notebooks' jobs
    seen = [e for e in sample_init.events("azureml_job") if e["job"] == training["job"]]
    assert [e["status"] for e in seen][-1] == "Completed" and seen[-1]["key"] == "05-models/azureml-training"
    assert seen[-1]["studio_url"] == training["studio_url"]
    # registered by the job through the workspace's MLflow registry, never uploaded by the target, and
    # shared from dev's workspace; test and prod deploy the registry's copy
    assert fake_azure.called("PUT", "/models/") == []
    assert {env: (got["model"]["version"], got["model"]["registered"], got["model"]["registry"])
            for env, got in endpoints.items()} == {
        env: (trained["version"], "by this run" if env == "dev" else "before this run", registry)
        for env in ("dev", "test", "prod")}
    deployed = {d["model"] for got in endpoints.values() for d in got["online_endpoint"]["deployments"]}
    assert deployed == {f"azureml://registries/{registry}/models/churn-classifier/versions/{trained['version']}"}
    monitor = json.loads((run_dir / "06-monitor" / "evidence" / READBACK_FILE).read_text())["azure_monitor"]
    assert monitor["env"] == "prod" and "data_drift" in monitor["signals"].values()
    assert fake_azure.rejected == []
    # Three environments in one region, each with its endpoint: the pre-flight sees no clash.
    assert [f for f in run_preflight(sample_init, fake_credential) if f.check == "names"] == []

    # The same stage-5 specs again, with test's first deployment refused by Azure.
    first = sample_init.settings("models").online_endpoint.deployments[0].name
    fake_azure.inject(f"{workspace_id(sample_init, 'test')}/onlineEndpoints/{base}-test/deployments/{first}",
                      409, "Conflict", "a deployment is being deleted", method="PUT")
    stages = {"models": {"status": "succeeded", "evidence": merge_stage_evidence(
        run_dir / "05-models", sample_init.root, "models")}}
    after_local_stages(sample_init, run_dir, run_dir.name, stages)
    error = " ".join(stages["models"]["error"].split())
    assert stages["models"]["status"] == "failed"
    assert f"on Azure: test: deployment-{first}.yml:" in error and "a deployment is being deleted" in error
    assert "dev:" not in error and "prod:" not in error and READBACK_FILE in error
    # the same run's training job was followed again, not submitted (nor trained) a second time
    assert stages["models"]["evidence"]["azure_training"]["resumed"] is True
    assert len(fake_azure.called("PUT", f"/jobs/{training['job']}")) == 1
    kept = stages["models"]["evidence"]["azure_endpoints"]
    assert set(kept) == {"dev", "test", "prod"} and kept["test"]["online_endpoint"]["name"] == f"{base}-test"


def test_two_environments_in_another_region(fake_azure, fake_credential, tmp_path):
    """A project unlike the sample: dev and prod only, in swedencentral, a shorter endpoint name.
    Stage 4's and 5's specs (written by the notebooks' generators) go to both workspaces through the
    runner's hook; a third environment is never asked for."""
    import copy

    from test_three_projects import _restrict

    from mlops_accelerator.azure.target import after_local_stages
    from mlops_accelerator.dataprep.azure_specs import write_asset_specs, write_datastores
    from mlops_accelerator.evidence import merge_stage_evidence
    from mlops_accelerator.sample import sample_settings
    from mlops_accelerator.settings import validate_settings
    from mlops_accelerator.workspace import Project

    s = _restrict(copy.deepcopy(sample_settings()), ["dev", "prod"], "swedencentral")
    s["models"]["promotion_path"] = ["dev", "prod"]
    s["models"]["online_endpoint"]["name"] = "churn-rt"
    for stage in ("design", "deploy", "models"):
        assert validate_settings(stage, s[stage])[1] == []
    project = Project.create(tmp_path / "two", s["foundations"]["project_name"], s)
    seed_workspaces(fake_azure, project, ("churn-classifier", "2"))
    run_dir = project.root / "runs" / "r1"
    data_dir, models_dir = run_dir / "04-data", run_dir / "05-models"
    data = project.settings("data")
    write_datastores(data_dir, data, ["dev", "prod"])
    write_asset_specs(data_dir, ["dev", "prod"], [{"name": "churn-features", "version": "2", "type": "uri_folder",
                                                   "path": "azureml://datastores/gold/paths/churn-features/2/"}])
    from mlops_accelerator.dataprep.lake import Lake

    lake = Lake(project.root, data.datastores, data.data_layers)  # what stage 4 left here
    part = lake.local_path("azureml://datastores/gold/paths/churn-features/2/") / "part-0.parquet"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PAR1 features PAR1")
    (data_dir / "evidence").mkdir(parents=True)
    (data_dir / "evidence" / "01.json").write_text(
        '{"artifacts": {"azureml_data_assets": "azureml-data/data-assets-validation.json"}}')
    model_specs(project, models_dir, "2")
    stages = {"data": {"status": "succeeded", "evidence": merge_stage_evidence(data_dir, project.root, "data")},
              "models": {"status": "succeeded", "evidence": {}}}
    after_local_stages(project, run_dir, "r1", stages)
    assert [stages[k].get("error") for k in ("data", "models")] == [None, None], fake_azure.rejected
    assets = stages["data"]["evidence"]["azure_data"]
    assert {env: [a["name"] for a in got["data_assets"]] for env, got in assets.items()} == {
        "dev": ["churn-features"], "prod": ["churn-features"]}
    assert fake_azure.lake == {f"{lake.stores['gold'].account_name}/{lake.stores['gold'].container}/"
                               "churn-features/2/part-0.parquet": b"PAR1 features PAR1"}
    endpoints = stages["models"]["evidence"]["azure_endpoints"]
    assert {env: got["online_endpoint"]["name"] for env, got in endpoints.items()} == {
        "dev": "churn-rt-dev", "prod": "churn-rt-prod"}
    workspaces = {r[1].split("/workspaces/")[1].split("/")[0] for r in fake_azure.requests if "/workspaces/" in r[1]}
    assert not any("test" in w for w in workspaces), workspaces


def test_endpoint_name_length_counts_the_environment():
    from mlops_accelerator.settings import validate_settings
    from mlops_accelerator.settings.models import endpoint_in

    name = "a" * 27  # 27 + "-prod" = 32: allowed; "-test1" would make 33
    assert endpoint_in(name, "prod") == name + "-prod"
    assert validate_settings("models", {"online_endpoint": {"name": name}, "promotion_path": ["dev", "prod"]})[1] == []
    errors = validate_settings("models", {"online_endpoint": {"name": name}, "promotion_path": ["dev", "test1"]})[1]
    assert [(e.field, e.rule) for e in errors] == [("online_endpoint.name", "endpoint_name_length")]
    assert "'test1'" in errors[0].message and "33 characters" in errors[0].message


def _registries(cred):
    from mlops_accelerator.azure.connection import registry_client

    return lambda name: registry_client(cred, name)


def test_this_runs_model_is_shared_to_the_registry_once_and_every_environment_deploys_it(
        fake_azure, fake_credential, sample_project, tmp_path):
    """Promotion through the stage-3 registry (aml_registry): the first environment registers this run's
    version in its workspace and shares it (azure-ai-ml's share: registry discovery, then the registry
    data plane's import); the next environment deploys the registry's copy without a workspace copy."""
    from mlops_accelerator.azure.connection import environments
    from mlops_accelerator.azure.stages456 import LocalModel, models_on_azure, workspace_client

    version = register_locally(sample_project)
    seed_workspaces(fake_azure, sample_project)
    registry = seed_registry(fake_azure, sample_project)
    specs = model_specs(sample_project, tmp_path, version, transfer="aml_registry")
    local = LocalModel.from_evidence({"model": {"name": "churn-classifier", "version": version,
                                                "tags": {"stage": "champion"}}}, sample_project.root)
    got = {}
    for env in environments(sample_project, ["dev", "test"]):
        ml = workspace_client(sample_project, fake_credential, env)
        got[env.name], failures = models_on_azure(ml, specs / env.name, local, _registries(fake_credential))
        assert failures == [], (failures, fake_azure.rejected, fake_azure.unhandled)
    assert {e: (g["model"]["registered"], g["model"]["registry"]) for e, g in got.items()} == {
        "dev": ("by this run", registry), "test": ("before this run", registry)}
    assert got["test"]["model"]["tags"] == {"stage": "champion"} and got["test"]["model"]["type"] == "mlflow_model"
    ref = f"azureml://registries/{registry}/models/churn-classifier/versions/{version}"
    assert {d["model"] for g in got.values() for d in g["online_endpoint"]["deployments"]} == {ref}
    assert len(fake_azure.called("POST", f"/registries/{registry}/import")) == 1
    assert [r[1] for r in fake_azure.called("PUT", "/models/churn-classifier/versions/")] and all(
        "mlw-contoso-churn-dev" in r[1] for r in fake_azure.called("PUT", "/models/"))  # no copy in test
    assert fake_azure.rejected == [] and fake_azure.unhandled == []


def test_a_registry_version_other_than_this_runs_is_named_and_nothing_is_deployed(
        fake_azure, fake_credential, sample_project, tmp_path):
    from mlops_accelerator.azure.connection import environments
    from mlops_accelerator.azure.stages456 import models_on_azure, workspace_client

    seed_workspaces(fake_azure, sample_project, ("churn-classifier", "4"))
    registry = seed_registry(fake_azure, sample_project)
    ml = workspace_client(sample_project, fake_credential, environments(sample_project, ["test"])[0])
    got, failures = models_on_azure(ml, model_specs(sample_project, tmp_path, "4", transfer="aml_registry") / "test",
                                    None, _registries(fake_credential))
    assert len(failures) == 1 and f"not in registry {registry}" in failures[0] and "churn-classifier:4" in failures[0]
    assert got["online_endpoint"] is None and not fake_azure.called("PUT", "/onlineEndpoints/")
    assert not fake_azure.called("POST", "/import")


def test_the_fake_refuses_a_malformed_share_and_a_deployment_of_a_model_the_registry_lacks(
        fake_azure, ml_dev, sample_project):
    """The registry data plane checks the import body's shape and that its source exists; a deployment
    naming a registry version that was never shared is refused."""
    from azure.ai.ml.entities import ManagedOnlineDeployment, ManagedOnlineEndpoint
    from azure.core.exceptions import HttpResponseError

    from mlops_accelerator.azure.connection import in_cloud

    registry = seed_registry(fake_azure, sample_project)
    with in_cloud():
        ml_dev.models.share("churn-classifier", "3", share_with_name="churn-classifier", share_with_version="3",
                            registry_name=registry)  # seeded in dev by the fixture: the share works
    with pytest.raises(HttpResponseError, match="not found in workspace"), in_cloud():
        ml_dev.models.share("churn-classifier", "9", share_with_name="churn-classifier", share_with_version="9",
                            registry_name=registry)
    ml_dev.online_endpoints.begin_create_or_update(ManagedOnlineEndpoint(name="ep-x", auth_mode="key")).result()
    with pytest.raises(HttpResponseError, match="not found in the registry"), in_cloud():  # discovery: the fake's
        ml_dev.online_deployments.begin_create_or_update(ManagedOnlineDeployment(
            name="blue", endpoint_name="ep-x", instance_type="Standard_DS3_v2", instance_count=1,
            model=f"azureml://registries/{registry}/models/churn-classifier/versions/8"),
            skip_script_validation=True).result()
    import json
    import ssl
    import urllib.request

    from fake_azure.credential import make_token

    rid = next(r["id"] for r in fake_azure.state.resources.values() if r["id"].endswith(f"/{registry}"))
    body = json.dumps({"properties": {"referenceType": "Id", "sourceAssetId": 3}}).encode()
    req = urllib.request.Request(f"{fake_azure.endpoint}/mferp/managementfrontend{rid}/import?api-version=x",
                                 data=body, method="POST",
                                 headers={"Authorization": f"Bearer {make_token(fake_azure.endpoint)[0]}",
                                          "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, context=ssl.create_default_context(cafile=str(fake_azure.ca_bundle)))
    assert err.value.code == 400
    assert "sourceAssetId: required string" in fake_azure.rejected[-1]
    assert "destinationName: required string" in fake_azure.rejected[-1]


def test_a_batch_only_design_gets_no_online_endpoint(fake_azure, ml_dev, sample_project, tmp_path):
    """deployment_pattern batch: the specs hold no online endpoint (it bills per hour, unused), and on
    Azure only the batch endpoint and its deployment are created."""
    from mlops_accelerator.azure.stages456 import models_on_azure

    sample_project.set_values("models", {"deployment_pattern": "batch"})
    specs = model_specs(sample_project, tmp_path)
    assert sorted(p.name for p in (specs / "dev").iterdir()) == ["batch-deployment.yml", "batch-endpoint.yml"]
    got, failures = models_on_azure(ml_dev, specs / "dev")
    assert failures == [], (failures, fake_azure.rejected)
    assert got["online_endpoint"] is None and not fake_azure.called("PUT", "/onlineEndpoints/")
    batch = got["batch_endpoint"]
    assert batch["state"] == "Succeeded" and [d["model"].endswith("churn-classifier/versions/3")
                                              for d in batch["deployments"]] == [True]
    assert got["model"]["version"] == "3"
