import pytest

from mlops_accelerator import naming

GOOD_BAD = {
    naming.STORAGE_ACCOUNT: (["contosomlsa01", "abc"], ["MyStorage", "ab", "with-dash", "a" * 25]),
    naming.WORKSPACE: (["mlw-contoso_dev", "abc"], ["my workspace", "-lead", "ab", "a" * 34]),
    naming.KEY_VAULT: (["kv-contoso-dev"], ["1kv", "kv--double", "kv-", "ab"]),
    naming.CONTAINER_REGISTRY: (["crcontoso01"], ["cr-contoso", "abcd"]),
    naming.COMPUTE_CLUSTER: (["cpu-cluster"], ["1cpu", "cpu-cluster-too-long", "cpu-"]),
    naming.COMPUTE_INSTANCE: (["ci-alice-01"], ["ci", "9ci-alice"]),
    naming.RESOURCE_GROUP: (["rg-mlops(dev)"], ["rg.", "rg with space"]),
    naming.ENDPOINT: (["churn-endpoint"], ["1churn", "ab"]),
    naming.DATASTORE: (["silver_store"], ["silver-store", "_x"]),
    naming.ASSET: (["churn-train.v1"], ["-churn"]),
    naming.VNET: (["vnet-mlops_"], ["vnet-", "-vnet"]),
}


@pytest.mark.parametrize("rule", list(GOOD_BAD), ids=lambda r: r.id)
def test_naming_rules_accept_and_reject(rule):
    good, bad = GOOD_BAD[rule]
    for name in good:
        assert rule.problem(name) is None, name
    for name in bad:
        assert rule.problem(name), name


def test_naming_error_names_the_rule_in_pydantic():
    from pydantic import TypeAdapter, ValidationError

    with pytest.raises(ValidationError) as info:
        TypeAdapter(naming.StorageAccountName).validate_python("MyStorage")
    error = info.value.errors()[0]
    assert error["type"] == "azure_storage_account_name"
    assert "lowercase letters and digits" in error["msg"]


def test_naming_rules_export_json_schema_constraints():
    from pydantic import TypeAdapter

    schema = TypeAdapter(naming.KeyVaultName).json_schema()
    assert schema["minLength"] == 3 and schema["maxLength"] == 24 and schema["x-rule"] == "azure_key_vault_name"
