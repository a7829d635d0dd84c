"""The Terraform of stage 2 (issue 14 item 2): azurerm resources from the same model as ARM and Bicep,
judged by checkov, every variable declared is used, tfvars match the variables, user text stays data."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import hcl2
import pytest
from test_stage2_design import CMK, PUBLIC, TODAY, _design

from mlops_accelerator.artifacts import checkov_scan, iac, terraform

COSMOS = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-data/providers/"
          "Microsoft.DocumentDB/databaseAccounts/cosmos-ws")


def _write(tmp_path, **changes):
    design = _design(**changes)
    iac.write_iac(design, tmp_path, "contoso-churn", today=TODAY)
    return design, tmp_path / "terraform"


def _declared(folder) -> set[str]:
    return {next(iter(v)) for v in hcl2.loads((folder / "variables.tf").read_text())["variable"]}


def _used(folder) -> set[str]:
    text = "".join((folder / f).read_text() for f in ("main.tf", "outputs.tf", "versions.tf"))
    return set(re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_]*)", text))


@pytest.mark.parametrize("changes", [{}, PUBLIC, CMK], ids=["sample-private", "public", "cmk"])
def test_every_variable_is_used_and_every_tfvars_key_is_declared(tmp_path, changes):
    design, folder = _write(tmp_path, **changes)
    declared = _declared(folder)
    assert declared and _used(folder) == declared, (declared ^ _used(folder))
    required = {next(iter(v)) for v in hcl2.loads((folder / "variables.tf").read_text())["variable"]
                if "default" not in next(iter(v.values()))}
    for env in design.env_names():
        values = hcl2.loads((folder / terraform.tfvars_name(env)).read_text())
        assert set(values) <= declared, set(values) - declared
        assert required <= set(values), required - set(values)
        backend = hcl2.loads((folder / terraform.backend_name(env)).read_text())
        assert set(backend) >= {"resource_group_name", "storage_account_name", "container_name", "key"}


def test_resources_are_azurerm_of_the_model(tmp_path):
    """One azurerm resource per model resource (DNS zone groups are blocks of their endpoint)."""
    design, folder = _write(tmp_path)
    main = hcl2.loads((folder / "main.tf").read_text())
    declared = {(kind, name) for block in main["resource"] for kind, body in block.items() for name in body}
    model = iac.build(design, "contoso-churn", today=TODAY)
    expected = {(terraform.AZURERM[r.type], r.sym) for r in model.resources if r.type in terraform.AZURERM}
    assert expected <= declared, expected - declared
    assert not any(kind == "azapi_resource" for kind, _ in declared)
    kinds = {k for k, _ in declared}
    assert {"azurerm_machine_learning_workspace", "azurerm_private_endpoint", "azurerm_private_dns_zone",
            "azurerm_subnet", "azurerm_subnet_network_security_group_association", "azurerm_role_assignment",
            "azurerm_consumption_budget_resource_group"} <= kinds
    text = (folder / "main.tf").read_text()
    assert "azurerm_subnet.vnet_subnet.id" in text  # endpoints and firewalls depend on the declared subnet
    assert "azapi" not in (folder / "versions.tf").read_text()


def test_cmk_workspace_keeps_its_key_and_identities(tmp_path):
    _design_, folder = _write(tmp_path, workspace_identity_type="systemAssigned,userAssigned",
                              primary_uami_name="id-ws", **CMK)
    text = (folder / "main.tf").read_text()
    ws = text[text.index('resource "azurerm_machine_learning_workspace"'):]
    ws = ws[:ws.index("\n}\n")]
    assert "encryption {" in ws and "key_id = var.resource_cmk_uri" in ws and "key_vault_id = var.cmk_keyvault" in ws
    assert 'type = "SystemAssigned, UserAssigned"' in ws and "primary_user_assigned_identity" in ws
    assert "var.cmkUserAssignedIdentityName" in ws and "var.primaryUserAssignedIdentityName" in ws


def test_a_property_azurerm_lacks_makes_the_workspace_azapi(tmp_path):
    """Bring-your-own Cosmos DB of a CMK workspace has no azurerm argument: azapi, with the reason."""
    _d, folder = _write(tmp_path, encryption_cosmosdb_armid=COSMOS, **CMK)
    text = (folder / "main.tf").read_text()
    assert 'resource "azapi_resource" "workspace"' in text and "cosmosDbArmId" in text
    assert "azurerm_machine_learning_workspace has no argument" in text
    assert "azapi_resource.workspace.identity[0].principal_id" in text  # the role assignment follows it
    assert 'source  = "Azure/azapi"' in (folder / "versions.tf").read_text()
    hcl2.loads(text)
    assert _used(folder) == _declared(folder)


@pytest.mark.parametrize("changes", [{}, PUBLIC], ids=["sample-private", "public"])
def test_checkov_judges_the_terraform_and_accepts_it(tmp_path, changes):
    _d, folder = _write(tmp_path, **changes)
    result = checkov_scan.scan(folder, ("terraform",))
    counts = result["frameworks"]["terraform"]
    assert counts["passed"] > 0 and counts["failed"] == 0 and counts["parsing_errors"] == 0, \
        checkov_scan.problems(result)
    assert result["ok"], checkov_scan.problems(result)
    for skip in result["skipped_checks"]:
        assert "in the design" in skip["reason"] or skip["reason"] == terraform.FIXED_REASONS.get(skip["check_id"]), \
            skip
    # not vacuous: without the written reasons, the design's knowing choices fail
    main = folder / "main.tf"
    main.write_text("\n".join(x for x in main.read_text().splitlines() if "#checkov:skip" not in x) + "\n")
    stripped = checkov_scan.scan(folder, ("terraform",))
    assert stripped["failed"] > 0 and not stripped["ok"]


def test_terraform_nobody_can_judge_is_not_reported_as_scanned(tmp_path):
    """Never report success for Terraform checkov evaluates no check on (the old azapi-only output)."""
    (tmp_path / "main.tf").write_text('resource "azapi_resource" "x" {\n  type      = "Microsoft.Foo/bars@2024-01-01"\n'
                                      '  name      = "x"\n  parent_id = "/subscriptions/0"\n  body      = {}\n}\n')
    result = checkov_scan.scan(tmp_path, ("terraform",))
    assert not result["ok"]
    assert "terraform" in result["frameworks_without_files"] + result["frameworks_without_checks"]
    assert any("terraform" in p for p in checkov_scan.problems(result))
    assert result["passed"] == 0 and result["failed"] == 0  # nothing judged, yet not reported as a pass


HOSTILE = 'x"${file("/etc/passwd")}%{ if true }\\ # y'


def test_user_text_stays_data(tmp_path):
    """A tag value with quotes, template syntax and a backslash reaches Terraform as one string, never as
    an expression (the settings refuse line breaks; comments fold them anyway)."""
    assert terraform.one_line("a\nb\u2028c\x85d\r\n#e") == "a b c d #e"
    tags = [{"key": "owner", "value": HOSTILE}, {"key": 'cost"${x}', "value": "{project}-{env}"}]
    design, folder = _write(tmp_path, tags=tags)
    main = (folder / "main.tf").read_text()
    assert "file(" not in main and "file(" in (folder / "dev.tfvars").read_text()
    hcl2.loads(main)
    tfvars = (folder / "dev.tfvars").read_text()
    hcl2.loads(tfvars)
    assert terraform.hcl_string(HOSTILE) in tfvars
    assert re.search(r"(?<!\$)\$\{file", tfvars) is None  # every ${ is escaped as $${
    binary = shutil.which("terraform")
    if not binary:
        pytest.skip("no terraform binary here for the round trip (the HCL was parsed with python-hcl2)")
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "main.tf").write_text('variable "tagValues" {\n  type = map(string)\n}\n')
    (probe / "v.tfvars").write_text("tagValues = " + tfvars.split("tagValues = ", 1)[1].split("\n}\n", 1)[0] + "\n}\n")
    done = subprocess.run([binary, f"-chdir={probe}", "console", "-var-file=v.tfvars"],
                          input="jsonencode(var.tagValues)", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    value = json.loads(json.loads(done.stdout.strip().splitlines()[-1]))
    assert value["owner"] == HOSTILE and value['cost"${x}'] == "contoso-churn-dev"


def test_budget_alerts_that_differ_per_environment_are_a_dynamic_block(tmp_path):
    from mlops_accelerator.sample import sample_settings

    budgets = sample_settings()["design"]["budgets"]
    assert len(budgets) > 1
    budgets[0]["alert_thresholds"] = [90]
    design, folder = _write(tmp_path, budgets=budgets)
    text = (folder / "main.tf").read_text()
    assert 'dynamic "notification"' in text and "for_each = var.budgetNotifications" in text
    assert "notification.value.contactEmails" in text
    hcl2.loads(text)
    assert _used(folder) == _declared(folder)
    first = (folder / terraform.tfvars_name(budgets[0]["env"])).read_text()
    hcl2.loads(first)
    assert '"actual_GreaterThan_90_Percent" = {' in first and '"threshold" = 90' in first
