"""Stage 3 on Azure against the local HTTPS fake: deploy the generated template, create the computes
and environments from the stage-3 specs, read back the "from Azure" evidence; failures keep what
was read back and say what failed."""

from __future__ import annotations

import uuid

pytest_plugins = ["azure_fixtures"]


def seed_identities(fake, project) -> None:
    """The service connections' managed identities and their role assignments, as an admin made them."""
    from fake_azure.server import role_definition_id

    from mlops_accelerator.checks.deploy import _expected_scope

    design, deploy = project.settings("design"), project.settings("deploy")
    fake.state.custom_roles["MLOps Custom"] = (["Microsoft.MachineLearningServices/workspaces/*/read"], [])
    sps = {sp.name: sp for sp in design.service_principals}
    envs = {e.name: e for e in design.environments}
    for c in deploy.service_connections:
        env, sp = envs[c.env], sps[c.identity]
        rg = f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}"
        principal = str(uuid.uuid4())
        fake.seed(f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{c.identity}",
                  {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "location": env.region,
                   "properties": {"principalId": principal}})
        scope = _expected_scope(design, env, sp.scope)
        fake.seed(f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}",
                  {"type": "Microsoft.Authorization/roleAssignments",
                   "properties": {"principalId": principal, "scope": scope,
                                  "roleDefinitionId": role_definition_id(env.subscription_id, sp.role)}})


def generated(project, tmp_path):
    """Stage 2's IaC and stage 3's specs, written by the same generators the notebooks call."""
    from mlops_accelerator.artifacts.azureml_specs import write_specs
    from mlops_accelerator.artifacts.iac import write_iac

    s = {k: project.effective_settings(k) for k in ("foundations", "design", "deploy")}
    iac = project.root / "out" / "iac"
    write_iac(project.settings("design"), iac, s["foundations"]["project_name"])
    write_specs(project.root / "out" / "deploy", s["design"], s["deploy"], s["foundations"])
    return "out/iac", "out/deploy/azureml"


def test_deploy_reads_back_every_from_azure_field(fake_azure, fake_credential, sample_project, tmp_path):
    from mlops_accelerator.azure.stage3 import deploy_and_read_back
    from mlops_accelerator.settings.design import resource_name

    seed_identities(fake_azure, sample_project)
    iac, specs = generated(sample_project, tmp_path)
    ev, failures = deploy_and_read_back(sample_project, fake_credential, iac_folder=iac, specs_folder=specs,
                                        run_id="t1", only=["dev"])
    assert failures == [], "\n".join(failures)
    design = sample_project.settings("design")
    ws = resource_name(design, "workspace_name", "dev")
    [w] = ev["inventory"]["workspaces"]
    assert (w["env"], w["name"], w["resource_group"]) == ("dev", ws, "rg-contoso-churn-dev")
    assert w["tags"].get("environment") == "dev"
    res = ev["resources"]["dev"]
    assert all(res[k]["exists"] and res[k]["linked"] for k in ("storage_account", "key_vault", "app_insights",
                                                              "container_registry"))
    assert res["vnet"]["exists"] and res["private_endpoint"]["exists"] and res["private_dns"]["exists"]
    assert ev["iac"]["validation"]["dev"]["ok"] and ev["iac"]["what_if"]["dev"]["unexpected_changes"] == []
    computes = {c["name"]: c for c in ev["computes"]["dev"]}
    assert computes["cpu-cluster"] == {"name": "cpu-cluster", "type": "amlcompute", "vm_size": "Standard_DS3_v2",
                                       "min_nodes": 0, "max_nodes": 2, "tier": "low_priority",
                                       "state": "Succeeded"}
    assert computes["ci-contoso-churn-dev"]["type"] == "computeinstance"  # the design's starter instance
    assert {(e["name"], e["version"]) for e in ev["software_environments"]["dev"]} == {("train-env", "1"),
                                                                                       ("infer-env", "1")}
    assert ev["service_connection_roles"]["conn-mlops-dev-rg"] == [
        {"role": "Contributor", "scope": "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/"
                                         "rg-contoso-churn-dev"}]
    assert ev["budgets"] == [{"env": "dev", "name": f"budget-{ws}", "amount": 800, "notifications": 4}]
    # the deployment really went through Azure's LRO protocol, and the computes were PUT then read back
    assert fake_azure.called("GET", "/fake/operations/")
    assert fake_azure.called("PUT", "/computes/cpu-cluster") and fake_azure.called("GET", "/computes")
    assert fake_azure.rejected == []


def test_redeploy_shows_drift_in_what_if(fake_azure, fake_credential, sample_project, tmp_path):
    from mlops_accelerator.azure.stage3 import deploy_and_read_back

    iac, specs = generated(sample_project, tmp_path)
    deploy_and_read_back(sample_project, fake_credential, iac_folder=iac, specs_folder=None, run_id="a",
                         only=["test"])
    ev, _ = deploy_and_read_back(sample_project, fake_credential, iac_folder=iac, specs_folder=None, run_id="b",
                                 only=["test"])
    assert ev["iac"]["what_if"]["test"]["unexpected_changes"] == []  # everything is NoChange now
    assert ev["iac"]["what_if"]["test"]["changes"] > 5


def test_failed_deployment_keeps_partial_evidence_and_says_what_failed(fake_azure, fake_credential,
                                                                      sample_project, tmp_path):
    from mlops_accelerator.azure.stage3 import deploy_and_read_back

    iac, specs = generated(sample_project, tmp_path)
    fake_azure.inject("/computes/cpu-cluster", 409, "Conflict", "compute cpu-cluster is being deleted", method="PUT")
    ev, failures = deploy_and_read_back(sample_project, fake_credential, iac_folder=iac, specs_folder=specs,
                                        run_id="t2", only=["dev", "test"])
    assert len(failures) == 1 and failures[0].startswith("dev: compute cpu-cluster: ")
    assert "Conflict" in failures[0] and "being deleted" in failures[0]
    assert ev["inventory"]["workspaces"][0]["env"] == "dev"  # read before the failing step: kept
    assert "dev" not in ev["computes"] and "test" in ev["computes"]  # test went on


def test_deployment_quota_failure_and_timeout_are_reported(fake_azure, fake_credential, sample_project, tmp_path,
                                                          monkeypatch):
    from mlops_accelerator.azure.stage3 import DEPLOY_TIMEOUT_ENV, deploy_and_read_back

    iac, _ = generated(sample_project, tmp_path)
    fake_azure.state.deployment_error = {"code": "QuotaExceeded",
                                         "message": "Operation could not be completed as it results in exceeding "
                                                    "approved standardDSv2Family Cores quota"}
    ev, failures = deploy_and_read_back(sample_project, fake_credential, iac_folder=iac, specs_folder=None,
                                        run_id="q", only=["dev"])
    assert len(failures) == 1 and failures[0].startswith("dev: deploy: ") and "QuotaExceeded" in failures[0]
    assert ev["iac"]["validation"]["dev"]["ok"]  # validation ran before and is kept
    fake_azure.state.deployment_error = None
    fake_azure.state.deployment_never_finishes = True
    monkeypatch.setenv(DEPLOY_TIMEOUT_ENV, "3")
    _, failures = deploy_and_read_back(sample_project, fake_credential, iac_folder=iac, specs_folder=None,
                                       run_id="t", only=["dev"])
    assert len(failures) == 1 and "did not finish within 3 s" in failures[0]


def test_fake_rejects_a_malformed_body(fake_azure, fake_credential):
    """The fake validates against the SDK's own REST models: a wrong type and an unknown key are refused."""
    import pytest

    from mlops_accelerator.azure.arm import AzureCallError, call
    from mlops_accelerator.azure.connection import arm_client

    ws = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/"
          "Microsoft.MachineLearningServices/workspaces/w")
    fake_azure.seed(ws, {"type": "Microsoft.MachineLearningServices/workspaces", "properties": {}})
    arm = arm_client(fake_credential)
    bad = {"properties": {"computeType": "AmlCompute", "properties": {"scaleSettings": {"maxNodeCount": "two"}}},
           "locaton": "westeurope"}
    with pytest.raises(AzureCallError) as exc:
        call(arm, "PUT", f"{ws}/computes/c1", "ml", body=bad)
    assert exc.value.status == 400 and exc.value.code == "InvalidRequestContent"
    assert "locaton: unknown field" in exc.value.message and "maxNodeCount" in exc.value.message
    assert fake_azure.get(f"{ws}/computes/c1") is None  # nothing stored
    good = {"properties": {"computeType": "AmlCompute",
                           "properties": {"scaleSettings": {"maxNodeCount": 2, "minNodeCount": 0}}},
            "location": "westeurope"}
    call(arm, "PUT", f"{ws}/computes/c1", "ml", body=good)
    assert fake_azure.get(f"{ws}/computes/c1") is not None
    with pytest.raises(AzureCallError) as exc:
        call(arm, "PUT", "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Resources/deployments/d",
             "resources", body={"properties": {"template": {}}})
    assert "mode: required" in exc.value.message


def test_the_shared_registry_is_created_in_production_and_read_back(fake_azure, fake_credential, sample_project,
                                                                     tmp_path):
    """Stage 5 promotes through it (models.cross_env_model_transfer: aml_registry): the registry spec
    of stage 3 is created with azure-ai-ml in production's resource group, then read back."""
    from mlops_accelerator.azure.stage3 import deploy_and_read_back

    iac, specs = generated(sample_project, tmp_path)
    ev, failures = deploy_and_read_back(sample_project, fake_credential, iac_folder=iac, specs_folder=specs,
                                        run_id="r1", only=["prod"])
    assert failures == [], failures
    assert ev["registry"] == {"name": "reg-contoso-churn", "env": "prod", "resource_group": "rg-contoso-churn-prod",
                              "location": "westeurope", "replication_locations": ["westeurope"],
                              "tags": {"project": "contoso-churn"}}
    put = fake_azure.called("PUT", "/providers/Microsoft.MachineLearningServices/registries/reg-contoso-churn")
    assert [status for _m, _p, status in put] == [201] and "/resourcegroups/rg-contoso-churn-prod/" in put[0][1].lower()
    assert fake_azure.rejected == []


def test_no_registry_when_neither_the_design_nor_the_promotion_uses_one(fake_azure, fake_credential,
                                                                        sample_project, tmp_path):
    from mlops_accelerator.azure.stage3 import deploy_and_read_back

    sample_project.set_values("models", {"cross_env_model_transfer": "retrain_in_each_env"})
    iac, specs = generated(sample_project, tmp_path)
    ev, failures = deploy_and_read_back(sample_project, fake_credential, iac_folder=iac, specs_folder=specs,
                                        run_id="r1", only=["dev"])
    assert failures == [] and "registry" not in ev
    assert not fake_azure.called("PUT", "/registries/")


def test_a_registry_azure_refuses_is_named_and_the_environments_evidence_is_kept(fake_azure, fake_credential,
                                                                                 sample_project, tmp_path):
    from mlops_accelerator.azure.stage3 import deploy_and_read_back

    fake_azure.inject("/registries/reg-contoso-churn", 403, "AuthorizationFailed",
                      "The client does not have authorization to perform action "
                      "'Microsoft.MachineLearningServices/registries/write'", method="PUT")
    iac, specs = generated(sample_project, tmp_path)
    ev, failures = deploy_and_read_back(sample_project, fake_credential, iac_folder=iac, specs_folder=specs,
                                        run_id="r1", only=["prod"])
    assert len(failures) == 1 and failures[0].startswith("shared: registry reg-contoso-churn: AuthorizationFailed")
    assert "registries/write" in failures[0]
    assert ev["inventory"]["workspaces"][0]["env"] == "prod" and "registry" not in ev
