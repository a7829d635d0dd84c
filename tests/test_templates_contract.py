"""Every shipped notebook template keeps the settings schema the single source of its parameters.

A template's parameters cell is short: one `settings` mapping (the whole project's settings, read
with `from_parameters`), the runner's names, and any single setting a person would change by hand
(checked here against the schema: type and default).
"""

import ast
import json

import pytest

from mlops_accelerator.catalogue import stage_of_folder, stage_slugs
from mlops_accelerator.resources import templates_dir
from mlops_accelerator.settings import schema_for
from mlops_accelerator.templates import RUNNER_PARAMETERS, load_template

TEMPLATES = sorted(templates_dir().glob("0[1-7]-*/*.ipynb"))
JSON_TO_PY = {"string": {"str"}, "integer": {"int"}, "number": {"float", "int"}, "boolean": {"bool"},
              "array": {"list"}, "object": {"dict"}, "null": {"None"}}


def _stage_of(path):
    slug = stage_of_folder(path.parent.name)
    return slug, stage_slugs().index(slug) + 1


def test_stages_1_to_3_have_templates():
    stages = {p.parent.name for p in TEMPLATES}
    assert {"01-foundations", "02-design", "03-deploy"} <= stages


def _json_types(schema):
    """The JSON types a field's schema admits (following anyOf)."""
    if "anyOf" in schema:
        return set().union(*(_json_types(s) for s in schema["anyOf"]))
    if "type" in schema:
        return {schema["type"]} if isinstance(schema["type"], str) else set(schema["type"])
    if "enum" in schema or "const" in schema:
        values = schema.get("enum", [schema.get("const")])
        return {{str: "string", int: "integer", float: "number", bool: "boolean"}[type(v)] for v in values}
    return {"object"}  # a $ref to a record


def _annotation_types(annotation):
    names = set()
    for part in annotation.replace("Optional[", "").replace("]", "").split("|"):
        base = part.strip().split("[")[0]
        names.add(base)
    return names


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_template_parameters_come_from_the_schema(path):
    slug, number = _stage_of(path)
    template = load_template(path, slug, number)
    names = [p.name for p in template.parameters]
    assert "target" in names, "every template takes the execution target"
    assert len(names) == len(set(names))
    assert "settings" in names, "every template takes the project's settings as one mapping"
    order = [slug] + [s for s in stage_slugs() if s != slug]
    for p in template.parameters:
        if p.name in RUNNER_PARAMETERS:
            continue
        owner = next((s for s in order if p.name in schema_for(s).model_fields), None)
        assert owner, f"{p.name} is not a setting of any stage"
        assert p.annotation, f"{p.name} needs a type annotation (name: type = default)"
        props = schema_for(owner).model_json_schema()["properties"][p.name]
        allowed = set().union(*(JSON_TO_PY[t] for t in _json_types(props)))
        assert _annotation_types(p.annotation) <= allowed | {"None"}, \
            f"{p.name}: annotation {p.annotation} does not fit schema types {sorted(_json_types(props))}"
        try:
            default = ast.literal_eval(p.default_source)
        except ValueError:
            continue
        expected = schema_for(owner)().model_dump(mode="json")[p.name]
        assert default == expected, f"{p.name}: template default {default!r} differs from schema {expected!r}"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_templates_are_committed_clean(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["metadata"].get("mlops_accelerator", {}).get("title"), "a title for the run listing"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None
    assert sum(c["cell_type"] == "markdown" for c in nb["cells"]) >= 2, "explain each step to the reader"


def _parameters_cell(path):
    nb = json.loads(path.read_text())
    return next("".join(c["source"]) for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))


def _code(path):
    nb = json.loads(path.read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"]
                     if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", []))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parameters_cells_are_short_and_settings_load_through_one_loader(path):
    lines = _parameters_cell(path).splitlines()
    assert len(lines) <= 15, f"{len(lines)} lines in the parameters cell"
    code = _code(path)
    slug, _ = _stage_of(path)
    assert f'from_parameters("{slug}", settings)' in code
    # no other way of loading settings survives (globals(), per-stage loaders, as_settings)
    for old in ("globals()", "load_settings(", "load_design(", "load_foundations(", "as_settings("):
        assert old not in code, old


def test_from_parameters_applies_cross_field_and_cross_stage_rules():
    from mlops_accelerator.errors import InvalidSettings
    from mlops_accelerator.sample import sample_settings
    from mlops_accelerator.settings.parameters import from_parameters

    sample = sample_settings()
    project = {s: {**schema_for(s)().model_dump(mode="json"), **sample.get(s, {})} for s in stage_slugs()}
    design = from_parameters("design", project)
    assert design.design_version == project["design"]["design_version"]
    broken = {**project, "design": {**project["design"], "container_registry_sku": "Basic",
                                    "acr_behind_vnet": True}}
    with pytest.raises(InvalidSettings) as exc:  # a cross-field rule: a registry behind a VNet needs Premium
        from_parameters("design", broken)
    assert "container_registry_sku" in str(exc.value)
    lone = [{"name": "Solo", "email": "solo@contoso.com", "roles": ["data_scientist"]}]
    roster = {**project, "foundations": {**project["foundations"], "team_roster": lone}}
    with pytest.raises(InvalidSettings) as exc:  # a cross-stage rule: approvers must be on the roster
        from_parameters("design", roster)
    assert "design_approver_roles" in str(exc.value)
    # by hand: just the stage's own values, the rest defaults
    assert from_parameters("foundations", {"sprint_length_weeks": 3}).sprint_length_weeks == 3
