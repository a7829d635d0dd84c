"""Pre-flight against the local HTTPS fake of Azure: each injected problem is found and names the
setting to change; a clean fake passes."""

from __future__ import annotations

import pytest

pytest_plugins = ["azure_fixtures"]


def _preflight(project, cred, only=None):
    from mlops_accelerator.azure.preflight import run_preflight

    return run_preflight(project, cred, only)


def test_clean_fake_has_no_findings(fake_azure, fake_credential, sample_project):
    assert _preflight(sample_project, fake_credential) == []
    # it really asked Azure: permissions, providers, name availability, VM sizes and usages
    for fragment in ("/permissions", "/providers/Microsoft.Storage", "checkNameAvailability", "/vmSizes", "/usages"):
        assert fake_azure.called("GET", fragment) or fake_azure.called("POST", fragment), fragment


def test_missing_role_names_the_action_and_a_role_that_has_it(fake_azure, fake_credential, sample_project):
    fake_azure.state.granted_roles = ["AzureML Data Scientist"]
    found = [f for f in _preflight(sample_project, fake_credential, ["dev"]) if f.check == "permissions"]
    by_action = {f.message.split(" lacks ")[1].split(" on ")[0]: f for f in found}
    assert "Microsoft.MachineLearningServices/workspaces/computes/write" in by_action
    compute = by_action["Microsoft.MachineLearningServices/workspaces/computes/write"]
    assert "AzureML Compute Operator" in compute.message
    assert "a role that has it: Contributor" in by_action["Microsoft.Storage/storageAccounts/write"].message
    assert "Owner" in by_action["Microsoft.Authorization/roleAssignments/write"].message
    assert all(f.setting == "design.environments.0.resource_group" for f in found)


def test_unregistered_provider(fake_azure, fake_credential, sample_project):
    fake_azure.state.providers["Microsoft.MachineLearningServices"] = "NotRegistered"
    found = _preflight(sample_project, fake_credential, ["prod"])
    assert [(f.check, f.setting) for f in found] == [("providers", "design.environments.2.subscription_id")]
    assert "az provider register --namespace Microsoft.MachineLearningServices" in found[0].message


def test_quota_adds_up_over_environments_sharing_subscription_and_region(fake_azure, fake_credential,
                                                                         sample_project):
    deploy = sample_project.settings("deploy")
    dedicated = [(i, c) for i, c in enumerate(deploy.compute_targets)
                 if c.vm_priority == "dedicated" and c.env in ("dev", "test")]
    assert dedicated, "the sample has a dedicated cluster in dev or test"
    fam = "standardDSv2Family"
    need = sum(c.max_nodes * 4 for _, c in dedicated if c.vm_size == "Standard_DS3_v2")
    fake_azure.state.quota[fam] = (2, need + 1)  # one vCPU short once 2 are in use
    found = _preflight(sample_project, fake_credential, ["dev", "test"])
    assert [f.check for f in found] == ["quota"]
    assert f"has {need - 1} of {need + 1} vCPUs free" in found[0].message
    assert found[0].setting.startswith("deploy.compute_targets.") and found[0].setting.endswith(".max_nodes")


def test_vm_size_not_offered_in_region(fake_azure, fake_credential, sample_project):
    fake_azure.state.vm_sizes = [s for s in fake_azure.state.vm_sizes if s["name"] != "Standard_DS3_v2"]
    found = _preflight(sample_project, fake_credential, ["dev"])
    assert found and all(f.check == "vm_size" for f in found)
    assert "Standard_DS3_v2 is not offered in westeurope" in found[0].message
    assert found[0].setting.endswith(".vm_size")


def test_taken_storage_name_and_soft_deleted_key_vault(fake_azure, fake_credential, sample_project):
    from mlops_accelerator.settings.design import resource_name

    design = sample_project.settings("design")
    st, kv = resource_name(design, "storage_account_name", "dev"), resource_name(design, "key_vault_name", "dev")
    fake_azure.state.taken_names.add(("storage", st))
    fake_azure.state.deleted_vaults[kv.lower()] = "westeurope"
    found = {f.check: f for f in _preflight(sample_project, fake_credential, ["dev"])}
    assert set(found) == {"names", "soft_deleted"}
    assert st in found["names"].message and found["names"].setting == "design.storage_account_name"
    assert "az keyvault recover" in found["soft_deleted"].message
    assert "az keyvault purge" in found["soft_deleted"].message
    assert found["soft_deleted"].setting == "design.key_vault_name"


def test_name_already_ours_is_not_a_finding(fake_azure, fake_credential, sample_project):
    from mlops_accelerator.settings.design import resource_name

    design = sample_project.settings("design")
    st = resource_name(design, "storage_account_name", "dev")
    fake_azure.seed(f"/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-contoso-churn-dev/"
                    f"providers/Microsoft.Storage/storageAccounts/{st}",
                    {"type": "Microsoft.Storage/storageAccounts", "location": "westeurope", "properties": {}})
    assert _preflight(sample_project, fake_credential, ["dev"]) == []


def test_throttling_is_retried_after_retry_after(fake_azure, fake_credential, sample_project):
    fake_azure.inject("/usages", 429, "TooManyRequests", times=1)
    assert _preflight(sample_project, fake_credential, ["dev"]) == []
    assert [s for _, p, s in fake_azure.requests if "/usages" in p] == [429, 200]


def test_forbidden_call_is_a_finding_not_a_crash(fake_azure, fake_credential, sample_project):
    fake_azure.inject("/providers/Microsoft.Authorization/permissions", 403, "AuthorizationFailed",
                      "The client does not have authorization to perform action "
                      "'Microsoft.Authorization/permissions/read'", times=5)
    found = _preflight(sample_project, fake_credential, ["dev"])
    assert [f.check for f in found] == ["access"]
    assert "Microsoft.Authorization/permissions/read" in found[0].message


def test_token_for_another_audience_is_refused(fake_azure, sample_project):
    from fake_azure.credential import make_token

    from mlops_accelerator.azure.arm import AzureCallError, call
    from mlops_accelerator.azure.connection import arm_client

    class WrongAudience:
        def get_token(self, *scopes, **kw):
            from azure.core.credentials import AccessToken

            token, exp = make_token("https://graph.microsoft.com")
            return AccessToken(token, exp)

    with pytest.raises(AzureCallError) as exc:
        call(arm_client(WrongAudience()), "GET", "/subscriptions/x/providers/Microsoft.Storage", "providers")
    assert exc.value.status == 401


def test_cli_preflight_exit_codes(fake_azure, fake_credential, sample_project):
    from click.testing import CliRunner

    from mlops_accelerator.cli import main

    runner = CliRunner()
    ok = runner.invoke(main, ["-C", str(sample_project.root), "preflight", "--env", "dev"])
    assert ok.exit_code == 0, ok.output
    assert "clean" in ok.stdout
    fake_azure.state.providers["Microsoft.KeyVault"] = "Unregistered"
    bad = runner.invoke(main, ["-C", str(sample_project.root), "preflight", "--env", "dev", "--json"])
    assert bad.exit_code == 1
    import json

    findings = json.loads(bad.stdout)["findings"]
    assert [(f["check"], f["setting"]) for f in findings] == [("providers", "design.environments.0.subscription_id")]
    unknown = runner.invoke(main, ["-C", str(sample_project.root), "preflight", "--env", "staging"])
    assert unknown.exit_code != 0 and "staging" in unknown.output


def test_soft_deleted_workspace_with_the_designed_name(fake_azure, fake_credential, sample_project):
    from mlops_accelerator.settings.design import resource_name

    design = sample_project.settings("design")
    ws = resource_name(design, "workspace_name", "test")
    fake_azure.state.deleted_workspaces[("11111111-1111-1111-1111-111111111111", "rg-contoso-churn-test", ws)] = \
        "westeurope"
    found = _preflight(sample_project, fake_credential, ["dev", "test"])
    assert [(f.env, f.check, f.setting) for f in found] == [("test", "soft_deleted", "design.workspace_name")]
    message = found[0].message
    assert ws in message and "recover" in message and "--permanently-delete" in message
    assert "in this resource group" in message


def test_online_endpoint_name_taken_in_the_region(fake_azure, fake_credential, sample_project):
    from mlops_accelerator.settings.models import endpoint_in

    endpoint = endpoint_in(sample_project.settings("models").online_endpoint.name, "dev")  # dev's endpoint
    other = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-other-team/providers/"
             "Microsoft.MachineLearningServices/workspaces/mlw-other-team")
    fake_azure.seed(other, {"type": "Microsoft.MachineLearningServices/workspaces", "location": "westeurope",
                            "properties": {"provisioningState": "Succeeded"}})
    fake_azure.seed(f"{other}/onlineEndpoints/{endpoint}", {
        "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints", "location": "westeurope",
        "properties": {"authMode": "Key"}})
    found = _preflight(sample_project, fake_credential, ["dev"])
    assert [(f.check, f.setting) for f in found] == [("names", "models.online_endpoint.name")]
    assert f"online endpoint name {endpoint} is taken in westeurope by workspace mlw-other-team" in found[0].message
    # the same endpoint in another region, or this environment's own workspace, is no conflict
    fake_azure.get(other)["location"] = "northeurope"
    assert _preflight(sample_project, fake_credential, ["dev"]) == []


def test_endpoint_of_our_own_workspace_is_not_a_finding(fake_azure, fake_credential, sample_project):
    from mlops_accelerator.settings.design import resource_name
    from mlops_accelerator.settings.models import endpoint_in

    endpoint = endpoint_in(sample_project.settings("models").online_endpoint.name, "dev")
    name = resource_name(sample_project.settings("design"), "workspace_name", "dev")
    ours = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-contoso-churn-dev/providers/"
            f"Microsoft.MachineLearningServices/workspaces/{name}")
    fake_azure.seed(ours, {"type": "Microsoft.MachineLearningServices/workspaces", "location": "westeurope",
                           "properties": {"provisioningState": "Succeeded"}})
    fake_azure.seed(f"{ours}/onlineEndpoints/{endpoint}", {
        "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints", "location": "westeurope",
        "properties": {"authMode": "Key"}})
    assert _preflight(sample_project, fake_credential, ["dev"]) == []
