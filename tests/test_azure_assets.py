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
