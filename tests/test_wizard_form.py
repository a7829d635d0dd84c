"""The one form widget per stage: fed the stage's JSON Schema with declared UI hints; few widget models."""

import pytest
from wizard_fixtures import STAGES, wizard, wproject  # noqa: F401

from mlops_accelerator.settings import default_settings, json_schema
from mlops_accelerator.wizard.formwidget import WizardWidget, count_widget_models
from mlops_accelerator.wizard.stage import stage_schema

MAX_MODELS = 50


@pytest.mark.parametrize("stage", STAGES)
def test_a_wizard_page_holds_at_most_50_widget_models_on_every_step(wproject, stage):  # noqa: F811
    base = count_widget_models()
    w = wizard(wproject, stage)
    counts = {}
    for step in w.step_names:
        assert w.go(step), (step, w.blocker(w.step_name))
        counts[step] = count_widget_models() - base
    assert max(counts.values()) <= MAX_MODELS, counts
    assert counts["settings"] == counts["guide"]  # the form is drawn in the browser: no models per field
    w.go("guide")
    w.widget.close()


@pytest.mark.parametrize("stage", STAGES)
def test_the_form_gets_the_stage_schema_and_its_values(wproject, stage):  # noqa: F811
    w = wizard(wproject, stage)
    assert isinstance(w.app, WizardWidget)
    schema = w.app.schema
    assert set(schema["properties"]) == set(json_schema(stage)["properties"])  # one source: the model
    assert w.app.value == wproject.effective_settings(stage)
    assert all(p.get("task") for p in schema["properties"].values())  # grouped by task, declared
    assert set(w.app.meta["tasks"]) >= {p["task"] for p in schema["properties"].values()}


def _enum_nodes(node):
    if isinstance(node, dict):
        if "enum" in node:
            yield node
        for v in node.values():
            yield from _enum_nodes(v)
    elif isinstance(node, list):
        for v in node:
            yield from _enum_nodes(v)


@pytest.mark.parametrize("stage", STAGES)
def test_every_choice_carries_a_label(stage):
    for node in _enum_nodes(stage_schema(stage)):
        assert set(node["x-enum-labels"]) == {str(v) for v in node["enum"]}


def test_choice_labels_are_declared_not_auto_cased():
    labels = {}
    for stage in STAGES:
        for node in _enum_nodes(stage_schema(stage)):
            labels.update(node["x-enum-labels"])
    assert labels["github"] == "GitHub" and labels["mlflow"] == "MLflow" and labels["tdsp"] == "TDSP"
    assert labels["oidc_federated_credential"] == "OIDC federated credential"
    assert labels["westeurope"] == "westeurope"  # Azure's own region names, verbatim
    assert labels["team_lead"] == "Team Lead"  # role names from the roles catalogue
    assert labels["blue_green"] == "Blue green"  # plain ids read as words


def test_fields_that_do_not_apply_declare_when_they_show():
    defs = stage_schema("models")["$defs"]
    dist = defs["DistributedTraining"]["properties"]
    assert "x-ui-show-if" not in dist["enabled"]
    for name in ("type", "node_count", "processes_per_node", "elastic"):
        assert dist[name]["x-ui-show-if"] == {"enabled": True}
    automl = stage_schema("models")["properties"]["automl_task"]
    assert automl["x-ui-show-if"] == {"training_method": "automl"}


def test_hints_do_not_change_validation():
    from mlops_accelerator.settings import validate_settings

    for stage in STAGES:
        assert validate_settings(stage, default_settings(stage))[1] == []


def test_the_front_end_ships_in_the_package():
    from importlib.resources import files

    static = files("mlops_accelerator.wizard").joinpath("static")
    js = static.joinpath("wizard.js").read_text()
    assert "export default" in js and "http" not in js.replace("http://", "")  # no CDN
    css = static.joinpath("wizard.css").read_text()
    import re

    # colours only from JupyterLab's theme variables (a fallback inside var() is allowed)
    bare = [m for m in re.findall(r"[^,(\s]\s*(#[0-9a-fA-F]{3,6})\b", css)]
    assert bare == [], bare
