"""Rules every setting of every stage obeys, applied by `validate_settings` on every door.

- Bounded input: text up to MAX_TEXT characters, lists up to MAX_ITEMS entries, nesting up to
  MAX_DEPTH levels (a 100 MB value once made `status` take 48 s and bloated the ledger).
- Plain text: no control characters other than tab and newline (they corrupt terminals,
  YAML and the generated files).
- No secret-shaped text (keys, tokens, connection strings, passwords): they would be copied
  into the project file, notebooks, outputs and the append-only ledger. The error names the
  field and where such a value belongs, and never repeats the value.

Finite numbers only is pydantic's `allow_inf_nan=False`, set on the base models.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import FieldError

MAX_TEXT = 10_000  # characters in one text setting (the longest real answers are a few paragraphs)
MAX_ITEMS = 500  # entries in one list setting
MAX_DEPTH = 12  # nesting of records and lists
MAX_NODES = 50_000  # values in one stage's settings, all together

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def guard_errors(data: Any) -> list[FieldError]:
    """Every breach of the rules above in a stage's raw settings (before the schema)."""
    from ..secret_scan import REDACTED, secret_kind, secret_message

    errors: list[FieldError] = []
    budget = [MAX_NODES]

    def walk(value: Any, path: tuple[str, ...]) -> None:
        where = ".".join(path) or "(settings)"
        budget[0] -= 1
        if budget[0] == 0:
            errors.append(FieldError(where, "too_many_values", "...",
                                     f"the settings hold more than {MAX_NODES:,} values; nothing was read past here"))
        if budget[0] <= 0:
            return
        if len(path) > MAX_DEPTH:
            errors.append(FieldError(where, "too_deep", "...", f"nests deeper than {MAX_DEPTH} levels"))
            return
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                errors.append(FieldError(where, "string_too_long", value[:40] + "...",
                                         f"is {len(value):,} characters long; at most {MAX_TEXT:,} are allowed"))
                return
            kind = secret_kind(value)
            if kind:
                errors.append(FieldError(where, "secret", REDACTED, secret_message(kind)))
            elif _CONTROL.search(value):
                errors.append(FieldError(where, "control_character", value,
                                         "must be plain text: no control characters (tab and line breaks are fine)"))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, str(key)))
        elif isinstance(value, (list, tuple)):
            if len(value) > MAX_ITEMS:
                errors.append(FieldError(where, "too_many_items", f"{len(value)} items",
                                         f"has {len(value):,} entries; at most {MAX_ITEMS} are allowed"))
                return
            for i, item in enumerate(value):
                walk(item, (*path, str(i)))

    walk(data, ())
    return errors


def bound_schema(schema: Any) -> Any:
    """Write the limits into a JSON Schema (maxLength, maxItems), so forms enforce them too."""
    if isinstance(schema, dict):
        if schema.get("type") == "string":
            schema["maxLength"] = min(schema.get("maxLength", MAX_TEXT), MAX_TEXT)
        elif schema.get("type") == "array":
            schema["maxItems"] = min(schema.get("maxItems", MAX_ITEMS), MAX_ITEMS)
        for value in schema.values():
            bound_schema(value)
    elif isinstance(schema, list):
        for value in schema:
            bound_schema(value)
    return schema


STRUCTURAL_RULES = ("too_many_values", "too_deep", "too_many_items")


def merge_errors(guards: list[FieldError], schema_errors: list[FieldError]) -> list[FieldError]:
    """Guard errors first, then the schema's errors on other fields; a value holding a secret is
    never repeated, even inside a schema error about an enclosing record."""
    from ..secret_scan import REDACTED, secret_kind

    guarded = {e.field for e in guards}
    if not any(e.rule == "secret" for e in guards):
        return [*guards, *(e for e in schema_errors if e.field not in guarded)]

    def holds_secret(value: Any) -> bool:
        if isinstance(value, str):
            return secret_kind(value) is not None
        if isinstance(value, dict):
            return any(holds_secret(v) for v in value.values())
        if isinstance(value, (list, tuple)):
            return any(holds_secret(v) for v in value)
        return False

    out = list(guards)
    for e in schema_errors:
        if e.field in guarded:
            continue
        if holds_secret(e.value):
            e = FieldError(e.field, e.rule, REDACTED, e.message)
        out.append(e)
    return out
