"""Statuses never claim more than the project shows now, through every door.

A passed check on S1-04 (maturity assessed), then `settings set foundations maturity_assessment=[]`:
the item is no longer done in `status`, `report` and the wizard here, and in the sidebar's REST
payload in test_server.py (test_a_changed_setting_makes_a_passed_check_stale_in_the_payload). A
sign-off on a stage whose settings changed afterwards asks for re-approval, with the diff.
"""

import json

import pytest
from click.testing import CliRunner

from mlops_accelerator.cli import main
from mlops_accelerator.deliverables import run_checks, sign_off, statuses
from mlops_accelerator.sample import sample_settings
from mlops_accelerator.workspace import Project


def cli(project, *args):
    result = CliRunner().invoke(main, ["-C", str(project.root), *args], catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def make_project(root):
    s = sample_settings()
    return Project.create(root, s["foundations"]["project_name"], s)


def item(project, item_id):
    return next(i for i in statuses(project) if i.id == item_id)


@pytest.fixture
def checked(tmp_path):
    """The sample with its stage-1 checks run: S1-04 passes on the settings alone."""
    project = make_project(tmp_path / "proj")
    run_checks(project, [1])
    assert item(project, "S1-04").state == "done"
    return project


def empty_the_assessment(project):
    code, out = cli(project, "settings", "set", "foundations", "maturity_assessment=[]")
    assert code == 0, out


def test_status_door(checked):
    code, out = cli(checked, "status", "--json")
    before = json.loads(out)["stages"][0]["deliverables"]["done"]
    empty_the_assessment(checked)
    code, out = cli(checked, "status", "--json")
    data = json.loads(out)
    s104 = next(i for i in data["stages"][0]["items"] if i["id"] == "S1-04")
    assert s104["state"] == "todo" and "foundations changed since" in s104["stale"]
    assert "mlops-accelerator check foundations" in s104["reason"]
    # every stage-1 check read the foundations settings: none of them may claim done any more
    assert data["stages"][0]["deliverables"]["done"] < before
    code, out = cli(checked, "status", "--items")
    line = next(x for x in out.splitlines() if "S1-04" in x)
    assert "done" not in line.split("S1-04")[1][:40] or "to do" in line
    # re-checking makes it honest again: the check now fails on the empty assessment
    cli(checked, "check", "foundations")
    assert item(checked, "S1-04").state == "failed" and item(checked, "S1-04").stale is None


def test_report_door(checked):
    from mlops_accelerator.report import render_markdown, status_data

    empty_the_assessment(checked)
    md = render_markdown(status_data(checked))
    line = next(x for x in md.splitlines() if "**S1-04**" in x)
    assert line.startswith("- [ ]") and "stale" in line


def test_wizard_door(checked):
    from mlops_accelerator.report import status_data
    from mlops_accelerator.wizard.board import board_html
    from mlops_accelerator.wizard.checklist import DeliverablesPanel

    empty_the_assessment(checked)
    panel = DeliverablesPanel(checked, 1)
    panel.refresh()
    row = next(s for s in panel.statuses if s.id == "S1-04")
    assert row.state == "todo" and "stale" in panel.table.value
    board = board_html(status_data(checked))
    assert 'class="mlops-item todo" title="S1-04: todo. the last check' in board


def test_a_pending_item_is_to_do_in_the_payload(tmp_path):
    project = make_project(tmp_path / "proj")
    run_checks(project, [1])
    s105 = item(project, "S1-05").to_dict()  # needs the stage-1 run, which has not happened
    assert s105["state"] == "todo" and s105["check"]["pending"] is True and s105["check"]["passed"] is False


def test_a_run_since_the_check_makes_an_evidence_check_stale(tmp_path):
    project = make_project(tmp_path / "proj")
    run_checks(project, [1])
    project.record("run_finished", run_id="r2", run_dir="runs/r2", status="succeeded",
                   stages={"foundations": {"status": "succeeded", "evidence": {"artifacts": {}}}})
    s105 = item(project, "S1-05")
    assert s105.state == "todo" and "foundations has run since" in s105.stale
    run_checks(project, [1])
    project.record("run_finished", run_id="r3", run_dir="runs/r3", status="succeeded",
                   stages={"foundations": {"status": "succeeded", "evidence": {"artifacts": {}}}})
    assert "foundations ran again since" in item(project, "S1-05").stale
    assert item(project, "S1-04").stale is None  # it read no evidence


def test_checks_of_an_earlier_release_are_stale(tmp_path):
    project = make_project(tmp_path / "proj")
    project.record("check_run", item="S1-04", stage="foundations", passed=True, reason="ok", evidence=[])
    s104 = item(project, "S1-04")
    assert s104.state == "todo" and "earlier release" in s104.stale


def test_sign_off_on_changed_settings_needs_reapproval_with_the_diff(tmp_path):
    project = make_project(tmp_path / "proj")
    sign_off(project, "S1-01", "Ada Lovelace", "team_lead")
    assert item(project, "S1-01").state == "done"
    old = project.effective_settings("foundations")["sprint_length_weeks"]
    new = 3 if old != 3 else 4
    code, out = cli(project, "settings", "set", "foundations", f"sprint_length_weeks={new}")
    assert code == 0, out
    s101 = item(project, "S1-01")
    assert s101.state == "awaiting_signoff"
    assert "needs re-approval" in s101.reason and "sprint_length_weeks" in s101.reason
    assert {"field": "sprint_length_weeks", "old": old, "new": new} in s101.reapproval["changes"]
    assert s101.to_dict()["reapproval"]["by"] == "Ada Lovelace"
    # setting it back restores the approved design: the sign-off holds again
    cli(project, "settings", "set", "foundations", f"sprint_length_weeks={old}")
    assert item(project, "S1-01").state == "done"
    # a new sign-off on the changed settings holds
    cli(project, "settings", "set", "foundations", f"sprint_length_weeks={new}")
    sign_off(project, "S1-01", "Ada Lovelace", "team_lead")
    assert item(project, "S1-01").state == "done" and item(project, "S1-01").reapproval is None
