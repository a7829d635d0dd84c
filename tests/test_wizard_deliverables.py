"""Deliverables step: check results, and sign-off restricted to each item's roles."""

import pytest
from wizard_fixtures import save_through_steps, to_settings, wizard, wproject  # noqa: F401

from mlops_accelerator.catalogue import load_catalogue


def _deliverables(w):
    assert w.go(5), w.blocker(w.step)
    assert w.step_name == "deliverables"
    return w.deliverables


def test_role_choices_are_the_items_signoff_roles(wproject):  # noqa: F811
    panel = _deliverables(wizard(wproject, "design"))
    for item_id in [v for _, v in panel.item.options]:
        panel.item.value = item_id
        allowed = load_catalogue().deliverable(item_id).signoff_roles
        assert [v for _, v in panel.role.options] == list(allowed)


def test_sign_off_is_recorded(wproject):  # noqa: F811
    wproject.set_values("foundations", {"team_roster": [
        {"name": "Ada Lovelace", "email": "ada@contoso.com", "roles": ["team_lead"]}]})
    panel = _deliverables(wizard(wproject, "foundations"))
    panel.item.value = "S1-01"
    panel.by.value = "Ada Lovelace"
    panel.comment.value = "Azure Pipelines for all services"
    panel.sign_button.click()
    assert "Signed off" in panel.sign_message.value
    (event,) = list(wproject.events("signoff"))
    assert event["item"] == "S1-01" and event["by"] == "Ada Lovelace" and event["role"] == panel.role.value
    assert "Ada Lovelace" in panel.table.value


def test_disallowed_role_is_refused_with_the_rule(wproject):  # noqa: F811
    panel = _deliverables(wizard(wproject, "foundations"))
    panel.item.value = "S1-01"
    panel.by.value = "Eve"
    panel.role.options = [("Tester", "tester")]  # a tampered form still cannot sign
    panel.role.value = "tester"
    assert not panel.sign()
    assert "signoff_role" in panel.sign_message.value
    assert list(wproject.events("signoff")) == []


def test_sign_button_needs_a_name(wproject):  # noqa: F811
    panel = _deliverables(wizard(wproject, "foundations"))
    panel.by.value = " "
    assert panel.sign_button.disabled


def test_checks_run_and_explain(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    to_settings(w)
    w.form.editor("team_roster").add({"name": "Ada", "email": "ada@contoso.com", "roles": ["team_lead"]})
    assert save_through_steps(w)
    panel = _deliverables(w)
    panel.check_button.click()
    assert "checks passed" in panel.check_message.value
    s103 = next(s for s in panel.statuses if s.id == "S1-03")
    assert s103.state == "failed" and "no one on the roster" in s103.reason  # the stage-2 roles gap
    assert "no one on the roster" in panel.table.value


@pytest.mark.parametrize("stage", ["deploy", "monitor", "migrate"])
def test_every_stage_has_a_checklist(wproject, stage):  # noqa: F811
    panel = _deliverables(wizard(wproject, stage))
    n = load_catalogue().stage(stage).number
    assert all(f"S{n}-" in s.id for s in panel.statuses) and panel.statuses
