"""Each of the seven wizards: valid answers saved through the steps land in the project file."""

import pytest
from wizard_fixtures import STAGES, save_through_steps, saved, to_settings, wizard, wproject  # noqa: F401


def _change_a_choice(w):
    """Switch the first top-level dropdown that can change while the form stays valid."""
    for name, ed in w.form.root.fields.items():
        if ed.kind != "choice":
            continue
        old = ed.get()
        for _, option in ed.control.options:
            if option == ed.control.value:
                continue
            ed.control.value = option
            if w.form.valid:
                return name, ed.get()
        ed.set(old)
        w.form.validate()
    raise AssertionError("no dropdown could change validly")


@pytest.mark.parametrize("stage", STAGES)
def test_valid_values_are_saved(wproject, stage):  # noqa: F811
    w = wizard(wproject, stage)
    to_settings(w)
    name, value = _change_a_choice(w)
    assert save_through_steps(w), w.save_message.value
    assert saved(wproject, stage)[name] == value
    event = list(wproject.events("settings_saved", stage=stage))[-1]
    assert event["via"] == "wizard"
    assert any(c["field"] == name for c in event["changes"])
    assert "Saved" in w.save_message.value
    assert w.step_name == "save" and not w.next_button.disabled  # on to Generate & Run


def test_foundations_roster_maturity_and_delivery_model(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    to_settings(w)
    w.form.editor("business_use_case").control.value = "Predict churn of retail customers"
    w.form.editor("sprint_length_weeks").control.value = 3
    w.form.editor("team_roster").add({"name": "Ada", "email": "ada@contoso.com",
                                      "roles": ["team_lead", "solution_architect"]})
    w.form.editor("team_roster.0.allocation_pct").control.value = 50
    w._add_missing_dimensions()
    w.form.editor("maturity_assessment.0.current_level").control.value = 1
    assert w.form.valid, w.form.errors
    assert save_through_steps(w)
    s = saved(wproject, "foundations")
    assert s["sprint_length_weeks"] == 3
    assert s["team_roster"][0]["roles"] == ["team_lead", "solution_architect"]
    assert s["team_roster"][0]["allocation_pct"] == 50
    assert len(s["maturity_assessment"]) == 4
    assert "Predict churn" in wproject.path.read_text()


def test_design_storage_account_and_budget(wproject):  # noqa: F811
    w = wizard(wproject, "design")
    to_settings(w)
    w.form.editor("storage_account_name").control.value = "stcontoso01"
    w.form.editor("budgets.0.amount").control.value = 1500.0
    assert save_through_steps(w)
    s = saved(wproject, "design")
    assert s["storage_account_name"] == "stcontoso01"
    assert s["budgets"][0]["amount"] == 1500.0


def test_data_splits_and_new_datastore(wproject):  # noqa: F811
    w = wizard(wproject, "data")
    to_settings(w)
    for k, v in (("train_pct", 60), ("validation_pct", 20), ("test_pct", 20)):
        w.form.editor(f"data_splits.{k}").control.value = v
    row = w.form.editor("datastores").add()
    w.form.editor(f"datastores.{row.key}.name").control.value = "raw_landing"
    w.form.editor(f"datastores.{row.key}.container").control.value = "landing"
    assert w.form.valid, w.form.errors
    assert save_through_steps(w)
    s = saved(wproject, "data")
    assert s["data_splits"]["train_pct"] == 60
    assert s["datastores"][-1]["name"] == "raw_landing"


def test_invalid_cross_field_saves_nothing(wproject):  # noqa: F811
    before = wproject.path.read_text()
    w = wizard(wproject, "data")
    to_settings(w)
    w.form.editor("data_splits.train_pct").control.value = 90  # sums to 120
    assert [e.rule for e in w.form.errors] == ["sum_to_100"]
    assert "sum_to_100" in w.form.editor("data_splits").error_box.value
    assert not w.save()
    assert "Nothing was saved" in w.save_message.value
    assert wproject.path.read_text() == before
