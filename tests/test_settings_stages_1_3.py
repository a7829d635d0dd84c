"""Settings schemas of stages 1-3: defaults, JSON Schema export, field rules and cross-field rules."""

import copy
import re
from pathlib import Path

import jsonschema
import pytest

from mlops_accelerator.settings import default_settings, json_schema, schema_for, validate_settings
from mlops_accelerator.settings.design import (
    ARM_LOCATION_MAP,
    ARM_REGIONS,
    resource_name,
    resource_names,
)

STAGES = {"foundations": 1, "design": 2, "deploy": 3}
TASK_IDS = set(re.findall(r"\| (S\d\.T\d+) \|", (Path(__file__).parents[1] / "docs/task-ids.md").read_text()))
GUID = "11111111-2222-3333-4444-555555555555"
KV_ID = f"/subscriptions/{GUID}/resourceGroups/rg-keys/providers/Microsoft.KeyVault/vaults/kv-keys"
IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:1"
KEY_URI = "https://kv-keys.vault.azure.net/keys/cmk/0123456789abcdef0123456789abcdef"


def errors_of(stage, data):
    model, errors = validate_settings(stage, data)
    assert (model is None) == bool(errors)
    return errors


def with_defaults(stage, **changes):
    data = copy.deepcopy(default_settings(stage))
    data.update(changes)
    return data


def find(errors, field, rule):
    hits = [e for e in errors if e.field == field and e.rule == rule]
    assert hits, f"no {rule} error on {field}; got: {[str(e) for e in errors]}"
    return hits[0]


FOUR_DIMS = ["people", "model_creation", "model_release", "application_integration"]


def assessment(current=(1, 1, 1, 1), target=(2, 2, 2, 2)):
    return [{"dimension": d, "current_level": c, "target_level": t}
            for d, c, t in zip(FOUR_DIMS, current, target, strict=True)]


# ---------------------------------------------------------------------------
# Defaults and schema


@pytest.mark.parametrize("stage", STAGES)
def test_defaults_validate(stage):
    assert errors_of(stage, {}) == []
    # the dumped defaults validate again (the project file round-trips)
    assert errors_of(stage, default_settings(stage)) == []


@pytest.mark.parametrize("stage", STAGES)
def test_json_schema_is_valid_and_accepts_the_defaults(stage):
    schema = json_schema(stage)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(default_settings(stage))
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("stage", STAGES)
def test_every_field_carries_wizard_metadata(stage):
    number = STAGES[stage]
    for name, prop in json_schema(stage)["properties"].items():
        assert prop.get("title"), name
        assert len(prop.get("description", "")) >= 20, f"{name}: help text too short"
        assert prop["task"] in TASK_IDS and prop["task"].startswith(f"S{number}."), name
        assert prop["scope"] in ("project", "environment"), name
        assert prop["provenance"] in ("SRC", "SRC-MS", "DERIVED", "V2"), name
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name


def test_stage_slugs_and_field_counts():
    for stage in STAGES:
        assert schema_for(stage).stage == stage
    assert len(schema_for("foundations").model_fields) >= 25
    assert len(schema_for("design").model_fields) >= 90
    assert len(schema_for("deploy").model_fields) >= 18


def test_region_list_is_every_azure_ml_region():
    # issue 14 item 7: the seed's 32-region App Insights map refused swedencentral and others.
    assert {"swedencentral", "norwayeast", "uaenorth", "westus3", "italynorth"} <= set(ARM_REGIONS)
    assert all(ARM_LOCATION_MAP[r] == r for r in ARM_REGIONS)  # monitoring stays in the workspace region
    schema = json_schema("design")
    assert schema["properties"]["primary_region"]["enum"] == list(ARM_REGIONS)
    e = find(errors_of("design", {"primary_region": "atlantis"}), "primary_region", "choice")
    assert e.value == "atlantis"


def test_starter_defaults_are_realistic():
    d = schema_for("design")()
    assert d.env_names() == ["dev", "test", "prod"] and d.production_env().name == "prod"
    assert {e.subscription_id for e in d.environments} == {"00000000-0000-0000-0000-000000000000"}
    assert {e.region for e in d.environments} == {"westeurope"}
    assert schema_for("foundations")().team_roster == []
    assert resource_names(d, "prod")["storage_account_name"] == "stmlopsprod"
    assert resource_name(d, "workspace_name", "dev") == "mlw-mlops-dev"


# ---------------------------------------------------------------------------
# Field rules: the error names field path, rule id and value


def test_storage_account_with_capitals():
    e = find(errors_of("design", {"storage_account_name": "StMlops"}), "storage_account_name",
             "azure_storage_account_name")
    assert e.value == "StMlops" and "lowercase" in e.message


def test_workspace_name_with_spaces():
    errors = errors_of("design", {"workspace_name": "my workspace"})
    e = find(errors, "workspace_name", "azure_ml_workspace_name")
    assert e.value == "my workspace"


def test_negative_budget_amount():
    data = {"budgets": [{"env": "dev", "amount": -5}]}
    e = find(errors_of("design", data), "budgets.0.amount", "greater_than")
    assert e.value == -5


@pytest.mark.parametrize("stage", STAGES)
def test_unknown_key(stage):
    e = find(errors_of(stage, {"colour": "blue"}), "colour", "unknown_field")
    assert e.value == "blue"


@pytest.mark.parametrize("stage, field, value", [
    ("foundations", "agile_method", "waterfall"),
    ("design", "environment_topology", "triple"),
    ("deploy", "iac_tool", "pulumi"),
])
def test_choice_outside_its_list(stage, field, value):
    assert find(errors_of(stage, {field: value}), field, "choice").value == value


def test_multi_choice_item_outside_its_list():
    find(errors_of("deploy", {"post_deploy_smoke_tests": ["ping"]}), "post_deploy_smoke_tests.0", "choice")


@pytest.mark.parametrize("stage, data, field, rule", [
    ("foundations", {"project_name": "My Project"}, "project_name", "project_slug"),
    ("foundations", {"sprint_length_weeks": 6}, "sprint_length_weeks", "less_than_equal"),
    ("foundations", {"team_roster": [{"name": "A", "email": "not-mail", "roles": ["tester"]}]},
     "team_roster.0.email", "email"),
    ("foundations", {"team_roster": [{"name": "A", "email": "a@b.co", "roles": ["wizard"]}]},
     "team_roster.0.roles.0", "choice"),
    ("foundations", {"team_roster": [{"name": "A", "email": "a@b.co", "roles": ["tester"],
                                      "allocation_pct": 120}]},
     "team_roster.0.allocation_pct", "less_than_equal"),
    ("foundations", {"maturity_assessment": [{"dimension": "people", "current_level": 5, "target_level": 5}]},
     "maturity_assessment.0.current_level", "choice"),
    ("foundations", {"repo_url": "github.com/x"}, "repo_url", "repo_url"),
    ("design", {"naming_convention": "{abbrev}-{team}"}, "naming_convention", "naming_convention"),
    ("design", {"tags": [{"key": "a/b"}]}, "tags.0.key", "tag_key"),
    ("design", {"environments": [{"name": "Dev", "subscription_id": GUID, "resource_group": "rg"}]},
     "environments.0.name", "environment_name"),
    ("design", {"environments": [{"name": "dev", "subscription_id": "123", "resource_group": "rg"}]},
     "environments.0.subscription_id", "guid"),
    ("design", {"address_prefixes": ["10.0.0.1/16"]}, "address_prefixes.0", "cidr"),
    ("design", {"subnet_prefix": "10.0.0.0"}, "subnet_prefix", "cidr"),
    ("design", {"allowed_vm_skus": ["Standard_NC6"]}, "allowed_vm_skus.0", "retired_vm_sku"),
    ("design", {"allowed_vm_skus": ["DS3_v2"]}, "allowed_vm_skus.0", "vm_size"),
    ("design", {"cmk_keyvault": "kv-keys"}, "cmk_keyvault", "arm_resource_id"),
    ("design", {"resource_cmk_uri": "http://kv.vault.azure.net/keys/k"}, "resource_cmk_uri", "key_uri"),
    ("design", {"design_version": "v1"}, "design_version", "semver"),
    ("design", {"key_vault_name": "kv--mlops"}, "key_vault_name", "azure_key_vault_name"),
    ("design", {"container_registry_name": "cr-mlops"}, "container_registry_name",
     "azure_container_registry_name"),
    ("design", {"budgets": [{"env": "dev", "amount": 5, "currency": "euro"}]},
     "budgets.0.currency", "currency"),
    ("design", {"budgets": [{"env": "dev", "amount": 5, "alert_thresholds": [1200]}]},
     "budgets.0.alert_thresholds.0", "less_than_equal"),
    ("design", {"budgets": [{"env": "dev", "amount": 5, "recipients": ["ops"]}]}, "budgets.0.recipients.0",
     "email"),
    ("design", {"custom_roles": [{"name": "R", "actions": ["not an action"]}]}, "custom_roles.0.actions.0",
     "role_action"),
    ("design", {"compute_instance_stop_schedule": "at seven"}, "compute_instance_stop_schedule", "cron"),
    ("design", {"compute_instance_idle_shutdown_minutes": 5}, "compute_instance_idle_shutdown_minutes",
     "greater_than_equal"),
    ("design", {"primary_uami_name": "x"}, "primary_uami_name", "managed_identity_name"),
    ("deploy", {"ado_organization_url": "https://github.com/contoso"}, "ado_organization_url",
     "ado_organization_url"),
    ("deploy", {"github_repository": "contoso"}, "github_repository", "github_repository"),
    ("deploy", {"approval_gates": [{"env": "prod", "approvers": []}]},
     "approval_gates.0.approvers", "too_short"),
    ("deploy", {"compute_targets": [{"env": "dev", "name": "gpu", "vm_size": "Standard_NV6"}]},
     "compute_targets.0.vm_size", "retired_vm_sku"),
    ("deploy", {"aml_software_environments": [{"name": "-bad", "purpose": "training", "base_image": "x/y"}]},
     "aml_software_environments.0.name", "azure_ml_asset_name"),
    ("deploy", {"environments_to_deploy": []}, "environments_to_deploy", "too_short"),
    ("deploy", {"azure_cli_min_version": "latest"}, "azure_cli_min_version", "semver"),
])
def test_field_rules(stage, data, field, rule):
    e = find(errors_of(stage, data), field, rule)
    assert e.message and str(e).startswith(field)


# ---------------------------------------------------------------------------
# Cross-field rules, reported on the field where the user must act


def test_target_below_current_maturity_per_dimension_and_overall():
    data = {"maturity_assessment": assessment(current=(3, 2, 2, 2), target=(1, 2, 2, 2)),
            "target_maturity_level": 1}
    errors = errors_of("foundations", data)
    e = find(errors, "maturity_assessment.0.target_level", "maturity_target_ge_current")
    assert e.value == 1 and "(3)" in e.message
    e = find(errors, "target_maturity_level", "maturity_target_ge_current")
    assert e.value == 1 and "(2)" in e.message


def test_current_maturity_is_derived_from_the_weakest_dimension():
    data = {"maturity_assessment": assessment((2, 1, 3, 2), (3, 3, 3, 3))}
    model, errors = validate_settings("foundations", data)
    assert errors == [] and model.current_level == 1 and model.current_maturity_level is None
    # an estimate is allowed while the assessment is incomplete ...
    model, errors = validate_settings("foundations", {"current_maturity_level": 2,
                                                      "maturity_assessment": assessment()[:2]})
    assert errors == [] and model.current_level == 2
    # ... but must agree with a complete assessment
    data = {"maturity_assessment": assessment((2, 1, 3, 2), (3, 3, 3, 3)), "current_maturity_level": 2}
    e = find(errors_of("foundations", data), "current_maturity_level", "maturity_current_is_minimum")
    assert "model_creation: 1" in e.message


@pytest.mark.parametrize("data, field, rule", [
    ({"maturity_assessment": [*assessment(), assessment()[0]]}, "maturity_assessment.4.dimension",
     "maturity_dimension_unique"),
    ({"maturity_assessment": assessment(target=(2, 2, 2, 2)), "target_maturity_level": 3},
     "target_maturity_level", "maturity_target_reachable"),
    ({"team_roster": [{"name": "A", "email": "a@x.com", "roles": ["tester"]},
                      {"name": "B", "email": "A@x.com", "roles": ["tester"]}]},
     "team_roster.1.email", "roster_email_unique"),
    ({"team_roster": [{"name": "A", "email": "a@x.com", "roles": ["tester"], "ds_type": "citizen"}]},
     "team_roster.0.ds_type", "ds_type_needs_data_scientist"),
    ({"ai_coe_activities": ["community_calls"]}, "ai_coe_activities", "coe_activities_need_coe"),
    ({"test_l0_avg_ms": 500, "test_l1_avg_ms": 400}, "test_l1_avg_ms", "test_thresholds_order"),
    ({"test_max_seconds": 0.2}, "test_max_seconds", "test_thresholds_order"),
    ({"cicd_platform": "github_actions", "source_control_platform": "gitlab"}, "cicd_platform",
     "cicd_needs_github"),
])
def test_foundations_cross_field_rules(data, field, rule):
    find(errors_of("foundations", data), field, rule)


def env(name, **kw):
    return {"name": name, "subscription_id": GUID, "resource_group": f"rg-{name}", "region": "westeurope",
            **kw}


@pytest.mark.parametrize("changes, field, rule", [
    ({"environments": [env("dev"), env("dev", resource_group="rg-x")]}, "environments.1.name",
     "environment_name_unique"),
    ({"environments": [env("dev"), env("prod", approval_required=True)]}, "environments.1.approvers",
     "approval_needs_approver"),
    ({"environments": [env("dev"), env("prod", region="northeurope")]},
     "environments.1.region", "single_region"),
    ({"environments": [env("dev")]}, "environments", "environment_count"),
    ({"environment_topology": "single"}, "environments", "environment_count"),
    ({"environment_topology": "two_limited_vs_prod_data"}, "environments", "environment_count"),
    ({"environments": [env("dev"), env("prod", resource_group="rg-dev")]}, "environments.1.resource_group",
     "resource_group_per_env"),
    ({"naming_convention": "{abbrev}-{project}"}, "naming_convention", "naming_convention_env_token"),
    ({"tags": [{"key": "owner"}, {"key": "Owner"}]}, "tags.1.key", "tag_key_unique"),
    ({"storage_account_name": "stcontosochurnmlops01"}, "storage_account_name", "azure_storage_account_name"),
    ({"key_vault_name": "kv-contoso-churnml01"}, "key_vault_name", "azure_key_vault_name"),
    ({"workspace_identity_type": "userAssigned"}, "primary_uami_name", "uami_name_required"),
    ({"service_principals": [{"name": "a", "env": "dev", "role": "Reader"},
                             {"name": "a", "env": "test", "role": "Reader"}]},
     "service_principals.1.name", "identity_name_unique"),
    ({"service_principals": [{"name": "a", "env": "qa", "role": "Reader"}]}, "service_principals.0.env",
     "environment_exists"),
    ({"service_principals": [{"name": "a", "env": "dev", "role": "Superuser"}]}, "service_principals.0.role",
     "role_defined"),
    ({"service_principals": [{"name": "a", "env": "dev", "role": "Owner"}]},
     "service_principals.0.justification", "least_privilege_justification"),
    ({"role_mappings": [{"role": "tester", "env": "uat", "azure_role": "Reader"}]}, "role_mappings.0.env",
     "environment_exists"),
    ({"role_mappings": [{"role": "tester", "env": "dev", "azure_role": "Tester Custom"}]},
     "role_mappings.0.azure_role", "role_defined"),
    ({"custom_roles": [{"name": "X", "actions": ["a/read"]}, {"name": "x", "actions": ["a/read"]}]},
     "custom_roles.1.name", "custom_role_name_unique"),
    ({"custom_roles": [{"name": "Reader", "actions": ["a/read"]}]}, "custom_roles.0.name",
     "custom_role_name_unique"),
    ({"custom_roles": [{"name": "X"}]}, "custom_roles.0.actions", "custom_role_empty"),
    ({"vnet_option": "none", "private_endpoint_type": "none", "subnet_option": "none",
      "public_network_access": "Enabled", "compute_no_public_ip": False},
     "vnet_option", "vnet_required"),
    ({"vnet_option": "none", "subnet_option": "none"}, "vnet_option", "vnet_required"),
    ({"acr_behind_vnet": True, "container_registry_sku": "Premium", "container_registry_option": "existing"},
     "container_registry_option", "acr_behind_vnet_new"),
    ({"subnet_option": "none"}, "subnet_option", "private_endpoint_needs_subnet"),
    ({"vnet_option": "none", "private_endpoint_type": "none", "storage_behind_vnet": False,
      "keyvault_behind_vnet": False, "public_network_access": "Enabled", "compute_no_public_ip": False},
     "subnet_option", "subnet_needs_vnet"),
    ({"subnet_option": "existing"}, "subnet_option", "new_vnet_new_subnet"),
    ({"address_prefixes": ["10.0.0.0/16", "10.0.128.0/17"]},
     "address_prefixes.1", "address_prefixes_overlap"),
    ({"subnet_prefix": "10.1.0.0/24"}, "subnet_prefix", "subnet_in_vnet"),
    ({"private_endpoint_type": "none"}, "public_network_access", "private_access_needs_endpoint"),
    ({"vnet_option": "none", "subnet_option": "none", "private_endpoint_type": "none",
      "storage_behind_vnet": False, "keyvault_behind_vnet": False, "public_network_access": "Enabled"},
     "compute_no_public_ip", "no_public_ip_needs_network"),
    ({"encryption_status": "Enabled", "resource_cmk_uri": KEY_URI}, "cmk_keyvault", "cmk_required"),
    ({"encryption_status": "Enabled", "cmk_keyvault": KV_ID}, "resource_cmk_uri", "cmk_required"),
    ({"cmk_keyvault": KV_ID, "resource_cmk_uri": "https://other-kv.vault.azure.net/keys/cmk"},
     "resource_cmk_uri", "cmk_key_in_vault"),
    ({"environments": [env("dev", prod_data_access=True), env("prod", prod_data_access=True)]},
     "environments.0.prod_data_access", "prod_data_policy"),
    ({"budgets": [{"env": "staging", "amount": 10}]}, "budgets.0.env", "environment_exists"),
    ({"budgets": [{"env": "dev", "amount": 10, "alert_thresholds": [10, 20, 30, 40],
                   "forecast_thresholds": [90, 100]}]},
     "budgets.0.alert_thresholds", "budget_notifications_max"),
    ({"budgets": [{"env": "dev", "amount": 10, "contact_roles": []}]},
     "budgets.0.recipients", "budget_recipients"),
    ({"cluster_min_nodes": 5, "cluster_max_nodes": 2}, "cluster_max_nodes", "cluster_max_ge_min"),
    ({"allowed_vm_skus": []}, "allowed_vm_skus", "allowed_skus_policy"),
    ({"azure_policy_assignments": ["enforce_low_priority_vms"], "vm_priority_strategy": "dedicated"},
     "vm_priority_strategy", "low_priority_policy"),
    ({"blob_cool_after_days": 30, "blob_archive_after_days": 10},
     "blob_archive_after_days", "blob_lifecycle_order"),
    ({"design_approvals": [{"name": "Ana", "role": "team_lead", "decision": "approved", "date": "2024-05-02",
                            "design_version": "2.0"}]},
     "design_approvals.0.design_version", "approval_version"),
])
def test_design_cross_field_rules(changes, field, rule):
    find(errors_of("design", with_defaults("design", **changes)), field, rule)


def test_acr_behind_vnet_needs_premium():
    errors = errors_of("design", {"acr_behind_vnet": True})
    e = find(errors, "container_registry_sku", "acr_behind_vnet_premium")
    assert e.value == "Standard" and "Premium" in e.message


def test_prod_approval_needs_approvers_and_passes_with_one():
    data = {"environments": [env("dev"), env("test"), env("prod", approval_required=True)]}
    e = find(errors_of("design", data), "environments.2.approvers", "approval_needs_approver")
    assert "'prod' requires approval" in e.message
    data["environments"][2]["approvers"] = ["ana@contoso.com"]
    assert errors_of("design", data) == []


def test_custom_role_with_star_action():
    data = {"custom_roles": [{"name": "Data Scientist Custom", "actions": ["*"],
                              "not_actions": ["Microsoft.Authorization/*/write"]}]}
    e = find(errors_of("design", data), "custom_roles.0.actions.0", "least_privilege_wildcard")
    assert e.value == "*" and "every action" in e.message


def test_cmk_complete_is_accepted():
    assert errors_of("design", {"encryption_status": "Enabled", "cmk_keyvault": KV_ID,
                                "resource_cmk_uri": KEY_URI}) == []


def compute(name, type_="amlcompute", **kw):
    return {"env": "dev", "name": name, "type": type_, **kw}


@pytest.mark.parametrize("changes, field, rule", [
    ({"environments_to_deploy": ["dev", "prod", "dev"]},
     "environments_to_deploy.2", "environment_name_unique"),
    ({"environments_to_deploy": ["prod"], "compute_targets": [], "service_connections": []},
     "cli_defaults_env", "environment_deployed"),
    ({"compute_targets": [compute("c", )]}, "compute_targets.0.name", "azure_ml_compute_cluster_name"),
    ({"compute_targets": [compute("cpu-cluster-training")]}, "compute_targets.0.name",
     "azure_ml_compute_cluster_name"),
    ({"compute_targets": [compute("ci", "computeinstance")]}, "compute_targets.0.name",
     "azure_ml_compute_instance_name"),
    ({"compute_targets": [compute("aks-", "kubernetes")]}, "compute_targets.0.name",
     "azure_ml_compute_cluster_name"),
    ({"compute_targets": [compute("cpu"), compute("CPU")]}, "compute_targets.1.name", "compute_name_unique"),
    ({"compute_targets": [compute("cpu", env="uat")]}, "compute_targets.0.env", "environment_deployed"),
    ({"compute_targets": [compute("ci-ana", "computeinstance", vm_priority="low_priority")]},
     "compute_targets.0.vm_priority", "compute_instance_dedicated"),
    ({"compute_targets": [compute("cpu", min_nodes=3, max_nodes=2)]}, "compute_targets.0.max_nodes",
     "cluster_max_ge_min"),
    ({"compute_targets": [compute("cpu", max_nodes=0)]}, "compute_targets.0.max_nodes", "cluster_max_ge_min"),
    ({"service_connections": [{"name": "c", "env": "uat", "scope": "workspace", "identity": "i"}]},
     "service_connections.0.env", "environment_deployed"),
    ({"service_connections": [{"name": "c", "env": "dev", "scope": "workspace", "identity": "i"},
                              {"name": "c", "env": "prod", "scope": "workspace", "identity": "i"}]},
     "service_connections.1.name", "connection_name_unique"),
    ({"approval_gates": [{"env": "prod", "approvers": ["a@x.com"]},
                         {"env": "prod", "approvers": ["b@x.com"]}]},
     "approval_gates.1.env", "gate_env_unique"),
    ({"approval_gates": [{"env": "uat", "approvers": ["a@x.com"]}]}, "approval_gates.0.env",
     "environment_deployed"),
    ({"aml_software_environments": [{"name": "e", "purpose": "training", "base_image": IMAGE},
                                    {"name": "e", "purpose": "training", "base_image": IMAGE + "2"}]},
     "aml_software_environments.1.version", "environment_version_unique"),
    ({"aml_software_environments": [{"name": "e", "purpose": "training"}]},
     "aml_software_environments.0.base_image", "environment_image_source"),
    ({"aml_software_environments": [{"name": "e", "purpose": "training", "base_image": IMAGE,
                                     "dockerfile": "environments/e"}]},
     "aml_software_environments.0.base_image", "environment_image_source"),
    ({"aml_software_environments": [{"name": "e", "purpose": "training", "dockerfile": "environments/e",
                                     "conda_file": "environments/e/conda.yml"}]},
     "aml_software_environments.0.conda_file", "environment_image_source"),
    ({"local_tooling": ["ml_extension", "git"]}, "local_tooling.0", "tool_dependency"),
])
def test_deploy_cross_field_rules(changes, field, rule):
    find(errors_of("deploy", with_defaults("deploy", **changes)), field, rule)


def test_compute_naming_depends_on_the_type():
    name = "ci-ana-workstation01"  # 20 chars: fine for an instance, too long for a cluster
    assert errors_of("deploy", {"compute_targets": [compute(name, "computeinstance")]}) == []
    e = find(errors_of("deploy", {"compute_targets": [compute(name)]}), "compute_targets.0.name",
             "azure_ml_compute_cluster_name")
    assert e.value == name and "2-16" in e.message


def test_all_errors_are_reported_at_once():
    errors = errors_of("design", {"storage_account_name": "Bad", "workspace_name": "a b", "colour": 1})
    assert {e.rule for e in errors} == {"azure_storage_account_name", "azure_ml_workspace_name",
                                        "unknown_field"}
