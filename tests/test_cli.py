"""The CLI contract: commands, JSON shape, exit codes 0/1/2, nothing written on error."""

import json
import subprocess
import sys

import pytest

SLUGS = ["foundations", "design", "deploy", "data", "models", "monitor", "migrate"]


def test_status_json_lists_seven_stages_and_totals(cli):
    code, out, _ = cli("status", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["project"] == "contoso-churn"
    assert [s["number"] for s in data["stages"]] == [1, 2, 3, 4, 5, 6, 7]
    assert [s["slug"] for s in data["stages"]] == SLUGS
    assert sum(s["deliverables"]["total"] for s in data["stages"]) >= 60
    assert all(s["deliverables"]["done"] == 0 for s in data["stages"])


def test_status_table_is_readable(cli):
    code, out, _ = cli("status")
    assert code == 0
    assert "Design and Provision Infrastructure" in out or "Design" in out
    assert "deliverables done" in out


@pytest.mark.parametrize("assignment, field, rule", [
    ("storage_account_name=MyStorage", "storage_account_name", "azure_storage_account_name"),
    ("workspace_name=my workspace", "workspace_name", "azure_ml_workspace_name"),
    ("budgets.0.amount=-5", "budgets.0.amount", "greater_than"),
    ("no_such_setting=1", "no_such_setting", "unknown_field"),
    ("workspace_pattern=per_planet", "workspace_pattern", "choice"),
])
def test_invalid_set_exits_2_names_field_rule_value_and_writes_nothing(cli, project, assignment, field, rule):
    before = project.path.read_bytes()
    ledger_before = project.ledger_path.read_bytes()
    code, out, err = cli("settings", "set", "design", assignment)
    assert code == 2
    value = assignment.split("=", 1)[1]
    assert f"design.{field}" in err
    assert rule in err
    assert value in err
    assert project.path.read_bytes() == before
    assert project.ledger_path.read_bytes() == ledger_before


def test_several_invalid_values_are_all_reported_at_once(cli, project):
    code, _, err = cli("settings", "set", "design", "storage_account_name=MyStorage",
                       "workspace_name=my workspace")
    assert code == 2
    assert "2 invalid setting(s)" in err
    assert "storage_account_name" in err and "workspace_name" in err


def test_valid_set_then_show(cli):
    code, out, _ = cli("settings", "set", "design", "storage_account_name=contosochurnsa")
    assert code == 0 and "contosochurnsa" in out
    code, out, _ = cli("settings", "show", "2", "--json")
    assert code == 0 and json.loads(out)["storage_account_name"] == "contosochurnsa"


def test_text_that_looks_like_a_number_stays_text(cli):
    code, _, err = cli("settings", "set", "design", "design_version=1.10")
    assert code == 0, err
    code, out, _ = cli("settings", "show", "design", "--json")
    assert json.loads(out)["design_version"] == "1.10"


def test_unknown_stage_is_usage_error(cli):
    code, _, err = cli("settings", "show", "nine")
    assert code == 2 and "foundations" in err


def test_validate_reports_hand_edited_errors_with_exit_2(cli, project):
    text = project.path.read_text().replace("project_name: contoso-churn",
                                            "project_name: contoso-churn\n    sprint_length_weeks: 12")
    project.path.write_text(text)
    code, out, _ = cli("validate")
    assert code == 2
    assert "foundations.sprint_length_weeks" in out
    code, _, _ = cli("validate", "design")
    assert code == 0


def test_signoff_by_a_role_not_allowed_exits_2_and_writes_nothing(cli, project):
    ledger_before = project.ledger_path.read_bytes()
    code, _, err = cli("signoff", "S1-01", "--by", "Dana", "--role", "data_scientist")
    assert code == 2
    assert "may be signed off only by" in err and "team_lead" in err
    assert project.ledger_path.read_bytes() == ledger_before


ROSTER = "team_roster=[{name: Dana Lee, email: dana@contoso.com, roles: [team_lead, solution_architect]}]"


def test_allowed_signoff_shows_in_status_and_html_report(cli, project):
    assert cli("settings", "set", "foundations", ROSTER)[0] == 0
    code, out, _ = cli("signoff", "S1-01", "--by", "Dana Lee", "--role", "Team Lead",
                       "--comment", "DevOps guild in place since 2024")
    assert code == 0, out
    data = json.loads(cli("status", "--json")[1])
    item = next(i for i in data["stages"][0]["items"] if i["id"] == "S1-01")
    assert item["state"] == "done"
    assert item["signoffs"][0]["by"] == "Dana Lee" and item["signoffs"][0]["role"] == "team_lead"
    assert data["stages"][0]["deliverables"]["done"] == 1
    code, out, _ = cli("status", "--items")
    assert "signed off by Dana Lee (team_lead)" in out
    code, _, _ = cli("report", "--format", "html")
    page = (project.root / "deliverables-report.html").read_text()
    assert "Dana Lee (team_lead)" in page and "DevOps guild in place since 2024" in page
    assert "<html" in page and "http" not in page.split("<body>")[1]  # self-contained


def test_signoff_of_an_automatic_item_is_refused(cli):
    code, _, err = cli("signoff", "S1-04", "--by", "Dana", "--role", "team_lead")
    assert code == 2 and "automatic check" in err


def test_check_records_results_and_exits_1_when_any_fails(cli, project):
    code, out, _ = cli("check", "foundations")
    assert code == 1  # a new project has answered nothing yet
    results = list(project.events("check_run"))
    assert results and all(e["stage"] == "foundations" for e in results)
    assert "passed" in out and "failed" in out


def test_items_waiting_for_a_stage_run_are_to_do_not_failed(cli, project):
    cli("check", "foundations")
    events = {e["item"]: e for e in project.events("check_run")}
    assert events["S1-05"]["pending"] is True  # proven by the delivery-model notebook: stage 1 never ran
    assert events["S1-04"]["pending"] is False and events["S1-04"]["passed"] is False  # a real failure
    items = {i["id"]: i for i in json.loads(cli("status", "--json")[1])["stages"][0]["items"]}
    assert items["S1-05"]["state"] == "todo" and "run stage 1" in items["S1-05"]["reason"]
    assert items["S1-04"]["state"] == "failed"


def test_report_markdown(cli, project):
    code, _, _ = cli("report", "--format", "md", "-o", str(project.root / "r.md"))
    assert code == 0
    text = (project.root / "r.md").read_text()
    assert text.startswith("# Deliverables report: contoso-churn")
    assert "- [ ] **S2-04**" in text


def test_init_refuses_to_clobber_with_exit_2(tmp_path):
    exe = [sys.executable, "-m", "mlops_accelerator.cli"]
    first = subprocess.run([*exe, "init", str(tmp_path / "p"), "--name", "demo-proj"],
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "p" / "mlops-accelerator.yaml").read_bytes()
    second = subprocess.run([*exe, "init", str(tmp_path / "p"), "--name", "other"],
                            capture_output=True, text=True)
    assert second.returncode == 2 and "already holds a project" in second.stderr
    assert (tmp_path / "p" / "mlops-accelerator.yaml").read_bytes() == before


def test_console_script_status_json(tmp_path):
    import shutil

    exe = shutil.which("mlops-accelerator", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert exe, "console script not installed"
    subprocess.run([exe, "init", str(tmp_path / "q"), "--name", "demo-proj"], check=True, capture_output=True)
    out = subprocess.run([exe, "-C", str(tmp_path / "q"), "status", "--json"], check=True,
                         capture_output=True, text=True).stdout
    assert len(json.loads(out)["stages"]) == 7


def test_sample_project_is_valid(tmp_path):
    from mlops_accelerator.sample import sample_settings
    from mlops_accelerator.workspace import Project

    p = Project.create(tmp_path / "s", sample_settings()["foundations"]["project_name"], sample_settings())
    for slug in SLUGS:
        assert p.settings_or_errors(slug)[1] == [], slug
