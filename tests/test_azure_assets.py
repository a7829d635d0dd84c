"""Stages 4 and 6 on Azure against the local HTTPS fake: the data assets and the model monitor
schedule are created from the specs the local target writes and read back from Azure."""

from __future__ import annotations

import pytest

pytest_plugins = ["azure_fixtures"]


@pytest.fixture
def ml(fake_azure, fake_credential, sample_project):
    from mlops_accelerator.azure.connection import environments, ml_client
    from mlops_accelerator.settings.design import resource_name

    env = environments(sample_project, ["dev"])[0]
    name = resource_name(sample_project.settings("design"), "workspace_name", "dev")
    fake_azure.seed(f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}/providers/"
                    f"Microsoft.MachineLearningServices/workspaces/{name}",
                    {"type": "Microsoft.MachineLearningServices/workspaces", "location": env.region,
                     "properties": {"provisioningState": "Succeeded"}})
    return ml_client(fake_credential, env, name)


def seed_online_deployment(fake, ml, endpoint: str, deployment: str) -> None:
    """An online endpoint and deployment with a data collector, as stage 5 leaves them on Azure."""
    scope = ml._operation_scope
    ws = (f"/subscriptions/{scope.subscription_id}/resourceGroups/{scope.resource_group_name}/providers/"
          f"Microsoft.MachineLearningServices/workspaces/{ml.workspace_name}")
    fake.seed(f"{ws}/onlineEndpoints/{endpoint}", {
        "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints", "location": "westeurope",
        "properties": {"authMode": "AADToken", "provisioningState": "Succeeded"}})
    fake.seed(f"{ws}/onlineEndpoints/{endpoint}/deployments/{deployment}", {
        "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments", "location": "westeurope",
        "sku": {"name": "Default", "capacity": 1},
        "properties": {"endpointComputeType": "Managed", "instanceType": "Standard_DS3_v2",
                       "provisioningState": "Succeeded", "scaleSettings": {"scaleType": "Default"},
                       "dataCollector": {"collections": {
                           f"model_{kind}": {"dataCollectionMode": "Enabled",
                                             "dataId": f"{ws}/data/{endpoint}-{deployment}-model-{kind}/versions/1"}
                           for kind in ("inputs", "outputs")}}}})
    for kind in ("inputs", "outputs"):  # the assets the collector registers when it starts
        fake.seed(f"{ws}/data/{endpoint}-{deployment}-model-{kind}/versions/1", {
            "type": "Microsoft.MachineLearningServices/workspaces/data/versions",
            "properties": {"dataType": "uri_folder", "dataUri": f"azureml://datastores/workspaceblobstore/paths/"
                                                                 f"modelDataCollector/{endpoint}/{deployment}/model_{kind}"}})


def _asset_specs(tmp_path):
    from mlops_accelerator.dataprep.azure_specs import write_asset_specs

    registered = [
        {"name": "churn-raw", "version": "1", "type": "uri_folder",
         "path": "azureml://datastores/bronze/paths/churn-raw/1/", "description": "raw extract"},
        {"name": "churn-features", "version": "3", "type": "mltable",
         "path": "azureml://datastores/gold/paths/churn-features/3/", "tags": {"rows": "5000"}}]
    write_asset_specs(tmp_path, ["dev"], registered)
    return tmp_path / "azureml-data" / "dev" / "data-assets"


def test_data_assets_created_and_read_back(fake_azure, ml, tmp_path):
    from mlops_accelerator.azure.assets import create_data_assets

    assets, failures = create_data_assets(ml, _asset_specs(tmp_path))
    assert failures == []
    assert {(a["name"], a["version"], a["type"]) for a in assets} == {
        ("churn-raw", "1", "uri_folder"), ("churn-features", "3", "mltable")}
    assert all(a["matches_spec"] for a in assets)
    assert any(a["path"].endswith("churn-features/3/") for a in assets)
    assert len(fake_azure.called("PUT", "/data/")) == 2 and fake_azure.rejected == []


def test_a_refused_data_asset_is_named_and_the_others_kept(fake_azure, ml, tmp_path):
    from mlops_accelerator.azure.assets import create_data_assets

    fake_azure.inject("/data/churn-raw/versions/1", 409, "UserError",
                      "version 1 of churn-raw already exists with different content", method="PUT")
    assets, failures = create_data_assets(ml, _asset_specs(tmp_path))
    assert [a["name"] for a in assets] == ["churn-features"]
    assert len(failures) == 1 and "churn-raw-1" in failures[0] and "already exists" in failures[0]


def test_monitor_schedule_created_and_read_back(fake_azure, ml, tmp_path, sample_project):
    from mlops_accelerator.azure.assets import create_monitor_schedule
    from mlops_accelerator.monitoring import azure

    monitor = sample_project.settings("monitor")
    spec = azure.monitor_spec(monitor, endpoint="contoso-churn-online", deployment="blue",
                              baseline_asset="churn-features:3", label="churned", id_column="customer_id")
    written = azure.write_monitor_schedule(tmp_path, spec)
    assert written["valid"], written["problems"]
    # Azure refuses a monitor for a deployment that is not there (stage 5 makes it): named, nothing created.
    got, failures = create_monitor_schedule(ml, written["path"])
    assert got is None and "deployments/blue" in failures[0] and "not found" in failures[0]
    assert not fake_azure.called("PUT", "/schedules/")
    seed_online_deployment(fake_azure, ml, "contoso-churn-online", "blue")
    from mlops_accelerator.azure.assets import create_data_assets

    assert create_data_assets(ml, _asset_specs(tmp_path / "data"))[1] == []  # the baseline, from stage 4
    got, failures = create_monitor_schedule(ml, written["path"])
    assert failures == [], (failures, fake_azure.rejected, fake_azure.unhandled)
    assert got["cron"] == spec["trigger"]["expression"]
    assert set(got["signals"]) == set(spec["create_monitor"]["monitoring_signals"])
    assert got["emails"] == spec["create_monitor"].get("alert_notification", {}).get("emails", [])
    assert fake_azure.rejected == []


def _local_lake(project) -> tuple[str, dict[str, bytes]]:
    """The files stage 4 leaves in the local lake for the two assets of _asset_specs; returns the
    storage account and {"<container>/<path>": content}."""
    from mlops_accelerator.dataprep.lake import Lake

    data = project.settings("data")
    lake = Lake(project.root, data.datastores, data.data_layers)
    files = {"bronze/churn-raw/1/part-0.csv": b"customer_id,churned\n1,0\n",
             "bronze/churn-raw/1/2024/06/part-1.csv": b"customer_id,churned\n2,1\n",
             "gold/churn-features/3/MLTable": b"paths:\n- pattern: ./*.parquet\n",
             "gold/churn-features/3/features.parquet": b"PAR1 not really parquet PAR1"}
    for rel, content in files.items():
        container, path = rel.split("/", 1)
        target = lake.local_path(f"azureml://datastores/{container}/paths/{path}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return lake.stores["gold"].account_name, files


def test_a_new_asset_versions_files_go_up_to_its_datastore_first(fake_azure, fake_credential, ml, sample_project,
                                                                   tmp_path):
    from mlops_accelerator.azure.assets import create_data_assets, lake_uploader

    account, files = _local_lake(sample_project)
    upload = lake_uploader(fake_credential, sample_project)
    assets, failures = create_data_assets(ml, _asset_specs(tmp_path / "first"), upload)
    assert failures == []
    assert fake_azure.lake == {f"{account}/{rel}": content for rel, content in files.items()}  # byte for byte
    size = {c: sum(len(v) for k, v in files.items() if k.startswith(c)) for c in ("bronze", "gold")}
    assert {a["name"]: a["files"] for a in assets} == {
        "churn-raw": {"uploaded": 2, "bytes": size["bronze"]}, "churn-features": {"uploaded": 2, "bytes": size["gold"]}}
    # the versions are on Azure now: a second run sends no file again (a version never changes)
    fake_azure.lake.clear()
    assets, failures = create_data_assets(ml, _asset_specs(tmp_path / "again"), upload)
    assert failures == [] and fake_azure.lake == {}
    assert {a["files"] for a in assets} == {"already on Azure"}


def test_an_upload_the_account_refuses_names_the_role_and_registers_nothing(fake_azure, fake_credential, ml,
                                                                            sample_project, tmp_path):
    from mlops_accelerator.azure.assets import create_data_assets, lake_uploader

    account, _files = _local_lake(sample_project)
    fake_azure.inject(f"/{account}/gold/", 403, "AuthorizationPermissionMismatch",
                      "This request is not authorized to perform this operation using this permission.",
                      method="PUT", times=99)
    assets, failures = create_data_assets(ml, _asset_specs(tmp_path), lake_uploader(fake_credential, sample_project))
    assert [a["name"] for a in assets] == ["churn-raw"]
    [failure] = failures
    assert "churn-features-3" in failure and f"{account}/gold refused the upload" in failure
    assert "Storage Blob Data Contributor" in failure
    assert not fake_azure.called("PUT", "/data/churn-features/")  # no asset names files that are not there


def test_an_asset_whose_files_are_not_in_the_local_lake_is_named(fake_azure, fake_credential, ml, sample_project,
                                                                 tmp_path):
    from mlops_accelerator.azure.assets import create_data_assets, lake_uploader

    assets, failures = create_data_assets(ml, _asset_specs(tmp_path), lake_uploader(fake_credential, sample_project))
    assert assets == [] and len(failures) == 2
    assert all("not in the local lake" in f and "run stage 4 here first" in f for f in failures), failures
    assert fake_azure.lake == {} and not fake_azure.called("PUT", "/data/")
