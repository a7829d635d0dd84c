"""Settings schemas, one module per stage, and the one validation entry point.

Every door (CLI, widgets, REST, notebooks) calls `validate_settings`, so a value is
judged by the same rules, with the same message, wherever it is entered.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import FieldError
from .base import StageSettings

_cache: dict[str, type[StageSettings]] = {}


def schema_for(stage: str) -> type[StageSettings]:
    """The settings model of a stage, by slug (imported on first use from the module of that name)."""
    if stage not in _cache:
        from ..catalogue import stage_slugs

        if stage not in stage_slugs():
            raise KeyError(stage)
        module = importlib.import_module(f"{__name__}.{stage}")
        _cache[stage] = module.Settings
    return _cache[stage]


def _from_pydantic(exc: Any) -> list[FieldError]:
    errors = []
    for e in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"]) or "(settings)"
        rule = e["type"]
        message = e["msg"]
        if rule == "extra_forbidden":
            rule, message = "unknown_field", "is not a setting of this stage"
        elif rule == "literal_error":
            rule = "choice"
        errors.append(FieldError(field=loc, rule=rule, value=e.get("input"), message=message))
    return errors


def validate_settings(stage: str, data: dict[str, Any],
                      others: dict[str, dict[str, Any]] | None = None) -> tuple[StageSettings | None, list[FieldError]]:
    """Validate a stage's settings; return the model (or None) and every error at once.

    others: the other stages' effective settings (stage slug -> plain data). When given,
    rules that relate this stage to earlier ones run too (the workspace always passes them
    on save, so every door enforces them).
    """
    from pydantic import ValidationError

    from .guards import STRUCTURAL_RULES, guard_errors, merge_errors

    guards = guard_errors(data)  # size, control characters, secrets: the same on every door
    if any(e.rule in STRUCTURAL_RULES for e in guards):
        return None, guards
    model_cls = schema_for(stage)
    try:
        model = model_cls.model_validate(data)
    except ValidationError as exc:
        return None, merge_errors(guards, _from_pydantic(exc))
    if guards:
        return None, merge_errors(guards, [*model.cross_field_errors()])
    errors = list(model.cross_field_errors())
    if others is not None:
        errors += list(model.cross_stage_errors(others))
    return (None if errors else model), errors


def default_settings(stage: str) -> dict[str, Any]:
    """The stage's defaults, as plain JSON-able data."""
    return schema_for(stage)().model_dump(mode="json")


def json_schema(stage: str) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a stage's settings, with wizard metadata."""
    from .guards import bound_schema

    schema = bound_schema(schema_for(stage).model_json_schema(mode="validation"))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
