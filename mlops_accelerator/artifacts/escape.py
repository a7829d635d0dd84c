"""Settings written into CSV and Markdown stay data.

- CSV: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula
  by spreadsheet programs (CSV injection); prefixing `'` makes it text (the OWASP advice).
- Markdown: renderers pass raw HTML through, so `<`, `>` and `&` in a value are written as
  entities and show as typed.
"""

from __future__ import annotations

import re
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet evaluates; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(values: Any) -> Any:
    if isinstance(values, dict):
        return {k: csv_cell(v) for k, v in values.items()}
    return [csv_cell(v) for v in values]


def md_text(value: Any) -> str:
    """Text for Markdown with any HTML shown as text (not rendered). Code spans are left alone:
    Markdown never renders HTML inside them (and would show an entity there literally)."""
    parts = re.split(r"(`[^`\n]*`)", str(value))
    return "".join(p if i % 2 else p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                   for i, p in enumerate(parts))
