"""Each of the seven wizards: valid answers saved through the steps land in the project file."""

import pytest
from wizard_fixtures import STAGES, save_through_steps, saved, to_settings, wizard, wproject  # noqa: F401


def _change_a_choice(w):
    """Switch the first top-level choice that can change while the form stays valid (as a user would)."""
    from mlops_accelerator.wizard.stage import stage_schema

    props = stage_schema(w.slug)["properties"]
    for name, node in props.items():
        options = node.get("enum") or []
        for option in options:
            if option == w.values().get(name):
                continue
            old = w.values().get(name)
            w.edit(name, option)
            if not w.errors():
                return name, option
            w.edit(name, old)
    raise AssertionError("no choice could change validly")


@pytest.mark.parametrize("stage", STAGES)
def test_valid_values_are_saved(wproject, stage):  # noqa: F811
    w = wizard(wproject, stage)
    to_settings(w)
    name, value = _change_a_choice(w)
    assert save_through_steps(w), w.app.save_state
    assert saved(wproject, stage)[name] == value
    event = list(wproject.events("settings_saved", stage=stage))[-1]
    assert event["via"] == "wizard"
    assert any(c["field"] == name for c in event["changes"])
    assert w.app.save_state["title"] == "Saved."
    assert w.step_name == "review" and w.next()  # on to Generate & run / Deliverables


def test_foundations_roster_maturity_and_delivery_model(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    to_settings(w)
    w.edit("business_use_case", "Predict churn of retail customers")
    w.edit("sprint_length_weeks", 3)
    w.edit("team_roster", [{"name": "Ada", "email": "ada@contoso.com", "roles": ["team_lead", "solution_architect"],
                            "allocation_pct": 50}])
    w.edit("maturity_assessment", [{"dimension": d, "current_level": 1, "target_level": 2, "evidence": ""}
                                   for d in ("people", "model_creation", "model_release", "application_integration")])
    assert not w.errors(), w.errors()
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
    w.edit("storage_account_name", "stcontoso01")
    w.edit("budgets.0.amount", 1500.0)
    assert save_through_steps(w)
    s = saved(wproject, "design")
    assert s["storage_account_name"] == "stcontoso01"
    assert s["budgets"][0]["amount"] == 1500.0


def test_data_splits_and_new_datastore(wproject):  # noqa: F811
    w = wizard(wproject, "data")
    to_settings(w)
    for k, v in (("train_pct", 60), ("validation_pct", 20), ("test_pct", 20)):
        w.edit(f"data_splits.{k}", v)
    stores = w.values()["datastores"]
    stores.append({**stores[0], "name": "raw_landing", "container": "landing", "is_default": False})
    w.edit("datastores", stores)
    assert not w.errors(), w.errors()
    assert save_through_steps(w)
    s = saved(wproject, "data")
    assert s["data_splits"]["train_pct"] == 60
    assert s["datastores"][-1]["name"] == "raw_landing"


def test_invalid_cross_field_saves_nothing(wproject):  # noqa: F811
    before = wproject.path.read_text()
    w = wizard(wproject, "data")
    to_settings(w)
    w.edit("data_splits.train_pct", 90)  # sums to 120
    assert [e.rule for e in w.errors()] == ["sum_to_100"]
    assert w.app.errors[0]["field"].startswith("data_splits")
    assert not w.save()
    assert w.app.save_state["title"] == "Nothing was saved:"
    assert wproject.path.read_text() == before
