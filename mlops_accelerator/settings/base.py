"""The base of every stage's settings schema.

One pydantic model per stage is the single source of truth for its settings: field
types, choices (Literal), defaults, bounds, help text, the task a field belongs to
(the wizards group by it) and cross-field rules. The CLI, the wizards, the REST API
and the notebooks' parameters are all derived from these models.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ..errors import FieldError


def setting(
    default: Any = ...,
    *,
    title: str,
    help: str,
    task: str,
    scope: str = "project",
    provenance: str = "SRC",
    default_factory: Any = None,
    **constraints: Any,
) -> Any:
    """Declare one setting: a pydantic Field carrying the wizard metadata.

    task: the stage task id it belongs to (e.g. "S2.T3"); wizards group fields by it.
    scope: "project" or "environment".  provenance: SRC, SRC-MS, DERIVED or V2.
    constraints: pydantic bounds (ge, le, min_length, ...).
    """
    extra = {"task": task, "scope": scope, "provenance": provenance}
    if default_factory is not None:
        return Field(default_factory=default_factory, title=title, description=help,
                     json_schema_extra=extra, **constraints)
    return Field(default, title=title, description=help, json_schema_extra=extra, **constraints)


class Record(BaseModel):
    """A record inside a list-of-records setting (roster entry, environment, ...)."""

    # Finite numbers only: inf/nan crash the notebooks and are not JSON (limits: guards.py).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class StageSettings(BaseModel):
    """Base class of a stage's settings. Subclasses set `stage` (the slug)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True, allow_inf_nan=False)

    stage: ClassVar[str]

    def cross_field_errors(self) -> Iterator[FieldError]:
        """Yield a FieldError for every cross-field rule this stage breaks.

        Field-level rules live in the field types; rules that relate two or more fields
        live here, each reported on the field where the user must act.
        """
        return iter(())

    def cross_stage_errors(self, others: dict[str, dict[str, Any]]) -> Iterator[FieldError]:
        """Yield a FieldError for every rule relating this stage to another stage's settings.

        `others` maps stage slug -> that stage's effective settings (plain data).
        """
        return iter(())


# ---------------------------------------------------------------------------
# Reusable constrained types (each error names its rule)


def _rule(rule_id: str, template: str, ok: Any) -> Any:
    def check(value: Any) -> Any:
        if not ok(value):
            raise PydanticCustomError(rule_id, template)
        return value

    return AfterValidator(check)


_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
Guid = Annotated[
    str,
    _rule("guid", "must be a GUID like 00000000-0000-0000-0000-000000000000",
          lambda v: re.fullmatch(_GUID, v) is not None),
    Field(json_schema_extra={"pattern": _GUID, "x-rule": "guid"}),
]

_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
Email = Annotated[
    str,
    _rule("email", "must be an e-mail address or UPN like name@contoso.com",
          lambda v: re.fullmatch(_EMAIL, v) is not None),
    Field(json_schema_extra={"pattern": _EMAIL, "x-rule": "email"}),
]


def _is_cidr(v: str) -> bool:
    try:
        ipaddress.ip_network(v, strict=True)
    except ValueError:
        return False
    return "/" in v


Cidr = Annotated[
    str,
    _rule("cidr", "must be an IPv4 network in CIDR notation with no host bits set, like 10.0.0.0/16",
          _is_cidr),
    Field(json_schema_extra={"x-rule": "cidr", "examples": ["10.0.0.0/16"]}),
]


def _is_cron(v: str) -> bool:
    parts = v.split()
    if len(parts) != 5:
        return False
    limits = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    for part, (lo, hi) in zip(parts, limits, strict=True):
        for item in part.split(","):
            base, _, step = item.partition("/")
            if step and not step.isdigit():
                return False
            if base == "*":
                continue
            lo_s, _, hi_s = base.partition("-")
            for n in (lo_s, hi_s) if hi_s else (lo_s,):
                if not n.isdigit() or not lo <= int(n) <= hi:
                    return False
    return True


Cron = Annotated[
    str,
    _rule("cron", "must be a 5-field cron expression (minute hour day month weekday), like '0 2 * * *'",
          _is_cron),
    Field(json_schema_extra={"x-rule": "cron", "examples": ["0 2 * * *"]}),
]

SemVer = Annotated[
    str,
    _rule("semver", "must be a version like 1.0 or 1.0.0",
          lambda v: re.fullmatch(r"\d+\.\d+(\.\d+)?", v) is not None),
    Field(json_schema_extra={"pattern": r"^\d+\.\d+(\.\d+)?$", "x-rule": "semver"}),
]

NonEmptyStr = Annotated[str, Field(min_length=1)]
Percent = Annotated[float, Field(ge=0, le=100)]


def err(field: str, rule: str, value: Any, message: str) -> FieldError:
    """Shorthand for cross_field_errors implementations."""
    return FieldError(field=field, rule=rule, value=value, message=message)
