"""Errors every door (CLI, widgets, REST) shows the same way: field, rule, value."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One invalid setting: which field, which rule it broke, the value given, and why."""

    field: str  # dotted path inside the stage, e.g. "environments.1.region"
    rule: str  # stable rule id, e.g. "azure_storage_account_name", "greater_than_equal"
    value: Any
    message: str  # human sentence: what the rule requires

    def __str__(self) -> str:
        return f"{self.field}: {self.message} [rule: {self.rule}] (got {self.value!r})"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["value"] = _jsonable(self.value)
        return d


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


class AcceleratorError(Exception):
    """Base class: an error the user can act on (printed without a traceback)."""

    exit_code = 1


class UsageError(AcceleratorError):
    """Bad usage or invalid input: exit code 2, nothing written."""

    exit_code = 2


class InvalidSettings(UsageError):
    """Settings rejected by the schema; carries every error at once."""

    def __init__(self, stage: str, errors: list[FieldError]):
        self.stage = stage
        self.errors = errors
        lines = "\n".join(f"  - {stage}.{e}" for e in errors)
        super().__init__(f"{len(errors)} invalid setting(s) in stage '{stage}':\n{lines}")


class ProjectFileError(AcceleratorError):
    """The project file or ledger is unreadable: named with file and line, never overwritten."""

    exit_code = 2
