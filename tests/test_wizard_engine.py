"""The engine builds every form from the schema: the right widget per type, labels, help, defaults."""

import ipywidgets as W
import pytest
from wizard_fixtures import STAGES, wproject  # noqa: F401

from mlops_accelerator.settings import default_settings, schema_for
from mlops_accelerator.wizard.engine import SettingsForm, analyze


def test_types_map_to_widgets():
    form = SettingsForm("data", default_settings("data"))
    ed = form.editor
    assert isinstance(ed("ingestion_tool").control, W.Dropdown)  # Literal
    assert isinstance(ed("labeling_required").control, W.Checkbox)  # bool
    assert ed("datastores").kind == "records"  # list[Record]
    assert ed("datastores.0.account_name").kind == "text"  # naming rule
    assert ed("data_splits").kind == "record"  # nested Record -> sub-form
    assert ed("data_splits.train_pct").kind == "number"  # int with ge/le
    assert isinstance(ed("data_splits.train_pct").control, W.IntText)
    assert ed("data_assets.0.tags").kind == "dict"  # dict[str, str]
    assert ed("ingestion_schedule.storage_events").kind == "multi"  # list[Literal]
    assert ed("required_asset_tags").kind == "tags"  # list[str]


def test_roster_rbac_and_signal_editors_are_record_lists():
    f = SettingsForm("foundations", default_settings("foundations"))
    assert f.editor("team_roster").kind == "records"
    d = SettingsForm("design", default_settings("design"))
    assert d.editor("role_mappings").kind == "records"
    roles = d.editor("role_mappings.0").record.fields
    assert any(e.kind in ("choice", "multi") for e in roles.values())
    m = SettingsForm("monitor", default_settings("monitor"))
    assert any(e.kind == "records" for e in m.root.fields.values())


def test_labels_help_and_bounds_come_from_the_schema():
    form = SettingsForm("data", default_settings("data"))
    field = schema_for("data").model_fields["consumption_mode"]
    label = form.editor("consumption_mode").widget.children[0].value
    assert field.title in label and field.description[:40] in label
    pct = form.editor("data_splits.train_pct").widget.children[0].value
    assert "1 to 100" in pct  # the bound is shown
    acct = form.editor("datastores.0.account_name").widget.children[0].value
    assert "lowercase letters and digits only" in acct  # the naming rule in words


def test_defaults_fill_the_form_and_validate():
    for stage in STAGES:
        form = SettingsForm(stage, default_settings(stage))
        assert form.values() == default_settings(stage), stage
        assert form.valid, (stage, form.errors)


def test_optional_literal_offers_not_set():
    form = SettingsForm("foundations", default_settings("foundations"))
    ed = form.editor("current_maturity_level")
    assert ed.get() is None
    ed.control.value = 1
    assert form.values()["current_maturity_level"] == 1
    ed.set(None)
    assert ed.get() is None


def test_record_list_add_and_remove_rows(wproject):  # noqa: F811
    form = SettingsForm("foundations", default_settings("foundations"))
    roster = form.editor("team_roster")
    roster.add({"name": "Ada", "email": "ada@contoso.com", "roles": ["team_lead"]})
    roster.add({"name": "Bob", "email": "bob@contoso.com", "roles": ["data_engineer"]})
    assert [m["name"] for m in form.values()["team_roster"]] == ["Ada", "Bob"]
    roster.remove(0)
    assert [m["name"] for m in form.values()["team_roster"]] == ["Bob"]
    assert form.editor("team_roster.0.name").get() == "Bob"  # paths follow the removal


def test_every_stage_builds_without_hand_written_forms():
    for stage in STAGES:
        form = SettingsForm(stage, default_settings(stage))
        top = set(schema_for(stage).model_fields)
        assert set(form.root.fields) == top
        assert form.sections, stage


@pytest.mark.parametrize("tp,kind", [(bool, "bool"), (int, "int"), (float, "float"), (str, "text"),
                                     (list[str], "tags"), (dict[str, str], "dict"), (dict[str, int], "json")])
def test_analyze(tp, kind):
    assert analyze(tp).kind == kind
