"""The one way a stage notebook reads its settings: `from_parameters(stage, settings)`.

Every stage notebook's parameters cell holds a single `settings` mapping (stage slug -> that
stage's settings; the runner and `generate` inject the whole validated project) plus the few values
a person would change by hand (where to write, the target). The loader validates the stage with
the same rules as the CLI, the wizards and the REST API, cross-field and cross-stage rules included.

    from mlops_accelerator.settings.parameters import from_parameters
    design = from_parameters("design", settings)
    foundations = from_parameters("foundations", settings)

A person running a notebook by hand may also give just the stage's own values
(`settings = {"design_version": "1.1"}`): what is missing takes the schema's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidSettings


def _by_stage(mapping: Mapping[str, Any], stage: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(this stage's values, the other stages' values) from either shape of the mapping."""
    from ..catalogue import stage_slugs

    slugs = set(stage_slugs())
    if mapping and set(mapping) <= slugs:
        return dict(mapping.get(stage) or {}), {s: dict(v or {}) for s, v in mapping.items() if s != stage}
    return dict(mapping), {}


def from_parameters(stage: str, mapping: Mapping[str, Any] | None) -> Any:
    """The stage's validated settings model; InvalidSettings naming every broken rule otherwise."""
    from ..catalogue import stage_slugs
    from . import default_settings, validate_settings

    values, others = _by_stage(mapping or {}, stage)
    # Cross-stage rules see every other stage: the given values over that stage's defaults.
    context = {s: {**default_settings(s), **others.get(s, {})} for s in stage_slugs() if s != stage}
    model, errors = validate_settings(stage, values, context)
    if errors:
        raise InvalidSettings(stage, errors)
    return model


def project_parameters(effective: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The `settings` parameter the runner injects: every stage's effective settings, as plain data."""
    return {slug: dict(values) for slug, values in effective.items()}
