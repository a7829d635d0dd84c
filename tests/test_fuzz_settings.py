"""Hostile text through the settings doors (issue 9): shell, YAML, HTML, CI expressions, control
characters. Validation never crashes and always names field and rule; text it accepts is stored
and read back exactly, through the library and through the CLI.

(The generated pipelines' side of the same fuzzing lives with the artifact generators' tests.)
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mlops_accelerator.catalogue import stage_slugs
from mlops_accelerator.ci_safety import CI_EXPRESSION
from mlops_accelerator.settings import json_schema, validate_settings

HOSTILE_PIECES = [
    "; rm -rf / #", "$(id)", "`id`", "${IFS}", "$HOME", "| tee x", "&& curl x", "'", '"', "\\", "\\n",
    "${{ github.token }}", "$(System.AccessToken)", "$[variables.x]", "{{ x }}", "%{x}",
    "<script>alert(1)</script>", "&amp;", "<!--", "]]>",
    ": ", "- ", "? ", "&anchor ", "*alias", "!!python/object:os.system", "--- ", "...", "#", " #1", "|", ">",
    "{a: b}", "[a, b]", "null", "~", "yes", "no", "on", ".inf", ".nan", "1e3", "0x10", "0o17", "2026-01-01",
    "\t", "\r\n", "\n", "\x00", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u202e", "\ufeff", "é", "😀", " ",
]
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=6)), max_size=8).map("".join)


def _string_fields(stage: str) -> list[str]:
    def is_text(schema: dict) -> bool:
        if "anyOf" in schema:
            return any(is_text(s) for s in schema["anyOf"] if s.get("type") != "null")
        return schema.get("type") == "string"

    return [k for k, v in json_schema(stage)["properties"].items() if is_text(v)]


def _free_text_fields(stage: str) -> list[str]:
    def is_free(schema: dict) -> bool:
        if "anyOf" in schema:
            return any(is_free(s) for s in schema["anyOf"] if s.get("type") != "null")
        return schema.get("type") == "string" and not {"enum", "pattern", "x-rule", "const"} & set(schema)

    return [k for k, v in json_schema(stage)["properties"].items() if is_free(v)]


STRING_FIELDS = [(stage, field) for stage in stage_slugs() for field in _string_fields(stage)]
FREE_TEXT = [(stage, field) for stage in stage_slugs() for field in _free_text_fields(stage)]


def test_there_are_fields_to_fuzz():
    assert len(STRING_FIELDS) >= 20 and ("foundations", "business_use_case") in FREE_TEXT


@settings(max_examples=200, deadline=None)
@given(target=st.sampled_from(STRING_FIELDS), text=hostile_text)
def test_validation_never_crashes_and_names_field_and_rule(target, text):
    stage, field = target
    model, errors = validate_settings(stage, {field: text})
    assert (model is None) == bool(errors)
    for e in errors:
        assert e.field and e.rule and e.message
        json.dumps(e.to_dict())  # every door can send it


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory):
    from mlops_accelerator.workspace import Project

    return Project.create(tmp_path_factory.mktemp("fuzz") / "proj", "fuzz-project")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(FREE_TEXT), text=hostile_text)
@example(target=("deploy", "ado_project"), text="$(id)")  # CI found it: refused as a CI expression, rightly
def test_accepted_text_is_stored_and_read_back_exactly(fuzz_project, target, text):
    from mlops_accelerator.errors import InvalidSettings

    stage, field = target
    try:
        fuzz_project.set_values(stage, {field: text})
    except InvalidSettings as exc:
        expected = {"control_character", "secret", "string_too_long", "string_type", "string_too_short",
                    "string_pattern_mismatch"}
        if CI_EXPRESSION.search(text):  # a field that reaches a CI pipeline refuses CI expressions
            expected.add("ci_expression")
        assert {e.rule for e in exc.errors} <= expected | {e.rule for e in exc.errors if e.field != field}
        return
    assert fuzz_project.effective_settings(stage)[field] == text
    assert fuzz_project.settings(stage) is not None  # the file still parses and validates


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile_text.filter(lambda t: t.strip() != ""))
def test_cli_set_is_exit_0_or_2_and_keeps_the_text(fuzz_project, text):
    from click.testing import CliRunner
    from ruamel.yaml import YAML

    from mlops_accelerator.cli import main

    result = CliRunner().invoke(main, ["-C", str(fuzz_project.root), "settings", "set", "foundations",
                                       f"business_use_case={text}"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 0:
        saved = fuzz_project.effective_settings("foundations")["business_use_case"]
        try:  # a value written as YAML text ('quoted', or with spaces around) is read as YAML does
            parsed = YAML(typ="safe").load(text)
        except Exception:  # noqa: BLE001 - not YAML: kept as typed
            parsed = text
        assert saved in (text, parsed)
