"""The settings' data-quality rules, evaluated by pandera, with a report people can read.

Why pandera: it is maintained, declares checks as data (nullability, ranges, membership,
uniqueness, custom checks), validates pandas (and polars) frames, and with `lazy=True` returns
every failure with its row index and value - exactly what the report needs (which rows failed, with
examples). Each rule becomes its own small schema so each result maps to exactly one rule.

A rule naming an asset applies to that asset; a rule without an asset applies to every asset whose
table has the column (row_count rules to every asset). A column no targeted table has is an input
error, raised before anything is registered.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import DataPrepError

EXAMPLES = 5
_KINDS = {"int": ("int", "uint", "Int", "UInt"), "float": ("float", "Float"), "bool": ("bool", "boolean"),
          "datetime": ("datetime",), "string": ("object", "string", "str", "category")}


@dataclass
class RuleResult:
    asset: str
    column: str
    rule: str
    severity: str
    passed: bool
    failed_rows: int
    detail: str = ""
    examples: list[dict[str, Any]] = field(default_factory=list)  # {"row": index, "value": ...}

    def evidence(self) -> dict[str, Any]:
        """The per-rule entry of the stage-4 evidence (keys as checks/data.py documents)."""
        return {"column": self.column, "rule": self.rule, "asset": self.asset, "severity": self.severity,
                "passed": self.passed, "failed_rows": self.failed_rows}

    @property
    def blocking(self) -> bool:
        return not self.passed and self.severity == "error"


def _describe(rule: Any) -> str:
    if rule.rule in ("range", "row_count"):
        lo = "" if rule.min is None else f"{rule.min:g}"
        hi = "" if rule.max is None else f"{rule.max:g}"
        return f"between {lo or '-inf'} and {hi or 'inf'}"
    if rule.rule == "allowed_values":
        return "one of " + ", ".join(rule.allowed)
    if rule.rule == "type":
        return f"of type {rule.expected_type}"
    if rule.rule == "freshness":
        return f"newest value at most {rule.max_age_days:g} day(s) old"
    return rule.rule.replace("_", " ")


def targets(rules: list[Any], tables: dict[str, Any]) -> list[tuple[Any, str]]:
    """(rule, asset) pairs to evaluate; DataPrepError for a rule whose column no targeted table has."""
    pairs = []
    for i, r in enumerate(rules):
        if r.asset is not None and r.asset not in tables:
            continue  # an asset the run does not build (validated against the settings already)
        names = [r.asset] if r.asset else list(tables)
        if r.rule != "row_count":
            having = [a for a in names if r.column in tables[a].columns]
            if not having:
                cols = "; ".join(f"{a}: {', '.join(map(str, tables[a].columns))}" for a in names)
                raise DataPrepError(
                    f"data-quality rule {i + 1} ({r.rule} on column '{r.column}'"
                    f"{', asset ' + r.asset if r.asset else ''}) names a column that does not exist ({cols}); "
                    "fix the rule's column (stage 4, Data quality rules). Nothing was registered")
            names = having
        pairs += [(r, a) for a in names]
    return pairs


def _kind(dtype: Any) -> str:
    text = str(dtype)
    for kind, prefixes in _KINDS.items():
        if text.startswith(prefixes):
            return kind
    return text


def _schema(rule: Any, now: datetime) -> Any:
    import pandas as pd
    import pandera.pandas as pa

    name = f"{rule.rule}:{rule.column}"
    if rule.rule == "row_count":
        lo, hi = rule.min, rule.max
        return pa.DataFrameSchema(checks=[pa.Check(
            lambda df: (lo is None or len(df) >= lo) and (hi is None or len(df) <= hi), name=name)])
    if rule.rule == "not_null":
        col = pa.Column(nullable=False, name=rule.column)
    elif rule.rule == "unique":
        col = pa.Column(nullable=True, unique=True, name=rule.column)
    elif rule.rule == "range":
        lo, hi = rule.min, rule.max
        check = (pa.Check.in_range(lo, hi) if lo is not None and hi is not None
                 else pa.Check.ge(lo) if lo is not None else pa.Check.le(hi))
        col = pa.Column(nullable=True, checks=[check], name=rule.column)
    elif rule.rule == "allowed_values":
        allowed = set(rule.allowed)
        col = pa.Column(nullable=True, name=rule.column,
                        checks=[pa.Check(lambda s: s.astype(str).isin(allowed), name=name)])
    elif rule.rule == "type":
        col = pa.Column(nullable=True, name=rule.column,
                        checks=[pa.Check(lambda s: _kind(s.dtype) == rule.expected_type, name=name)])
    else:  # freshness: one verdict on the newest value (not one failure per stale row)
        limit = _freshness_limit(rule, now)
        col = pa.Column(nullable=True, name=rule.column, checks=[pa.Check(
            lambda s: bool(pd.to_datetime(s, errors="coerce").max() >= limit), name=name)])
    return pa.DataFrameSchema({rule.column: col})


def _freshness_limit(rule: Any, now: datetime) -> Any:
    import pandas as pd

    return pd.Timestamp(now).tz_localize(None) - pd.Timedelta(days=rule.max_age_days)


def evaluate_rule(rule: Any, asset: str, frame: Any, now: datetime) -> RuleResult:
    import pandera.pandas as pa

    result = RuleResult(asset, rule.column, rule.rule, rule.severity, True, 0, _describe(rule))
    data = frame if rule.rule == "row_count" else frame[[rule.column]]
    try:
        _schema(rule, now).validate(data, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        result.passed = False
        rows = cases[cases["index"].notna()]
        result.failed_rows = int(rows["index"].nunique())
        if rule.rule == "freshness":
            import pandas as pd

            stamps = pd.to_datetime(frame[rule.column], errors="coerce")
            stale = stamps[stamps < _freshness_limit(rule, now)]
            result.failed_rows = int(len(stale))
            result.detail += f" (newest: {stamps.max()})"
            rows = pd.DataFrame({"index": stale.index[:EXAMPLES], "failure_case": stale.head(EXAMPLES).astype(str)})
        if rule.rule in ("row_count", "type"):
            result.detail += f" (found: {len(frame)} rows)" if rule.rule == "row_count" else \
                f" (stored as {frame[rule.column].dtype})"
        result.examples = [{"row": _plain(i), "value": _plain(v)}
                           for i, v in zip(rows["index"].head(EXAMPLES), rows["failure_case"].head(EXAMPLES),
                                           strict=True)]
    return result


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    return v if isinstance(v, (int, float, str, bool)) or v is None else str(v)


def evaluate(rules: list[Any], tables: dict[str, Any], now: datetime | None = None) -> list[RuleResult]:
    now = now or datetime.now(timezone.utc)
    return [evaluate_rule(r, a, tables[a], now) for r, a in targets(rules, tables)]


# -- the report ----------------------------------------------------------------

HEAD = ("Asset", "Rule", "Column", "Expectation", "Severity", "Result", "Failing rows", "Examples (row: value)")


def _rows(results: list[RuleResult]) -> list[tuple[str, ...]]:
    out = []
    for r in results:
        verdict = "pass" if r.passed else ("FAIL (blocks)" if r.blocking else "fail (warning)")
        ex = "; ".join(f"{e['row']}: {e['value']}" for e in r.examples)
        column = "(table)" if r.rule == "row_count" else r.column
        out.append((r.asset, r.rule, column, r.detail, r.severity, verdict, str(r.failed_rows), ex))
    return out


def markdown(results: list[RuleResult]) -> str:
    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in _rows(results)]
    return "\n".join(lines)


def write_report(results: list[RuleResult], folder: Path, title: str) -> dict[str, Path]:
    import json

    folder.mkdir(parents=True, exist_ok=True)
    blocking = [r for r in results if r.blocking]
    summary = (f"{len(results)} rule evaluation(s): {sum(r.passed for r in results)} passed, "
               f"{len(blocking)} blocking failure(s), {sum(not r.passed and not r.blocking for r in results)} "
               "warning(s).")
    md = folder / "data-quality.md"
    md.write_text(f"# {title}\n\n{summary}\n\n{markdown(results)}\n", encoding="utf-8")
    body = "".join("<tr class='{}'>{}</tr>".format(
        "fail" if "FAIL" in row[5] else "warn" if "fail" in row[5] else "pass",
        "".join(f"<td>{html.escape(c)}</td>" for c in row)) for row in _rows(results))
    page = folder / "data-quality.html"
    page.write_text(
        "<!doctype html><meta charset='utf-8'><title>{t}</title><style>body{{font-family:sans-serif}}"
        "table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}"
        ".fail{{background:#fdd}}.warn{{background:#fff4cc}}</style><h1>{t}</h1><p>{s}</p><table><tr>{h}</tr>"
        "{b}</table>".format(t=html.escape(title), s=html.escape(summary),
                             h="".join(f"<th>{html.escape(h)}</th>" for h in HEAD), b=body), encoding="utf-8")
    data = folder / "data-quality.json"
    data.write_text(json.dumps([asdict(r) for r in results], indent=2, default=str))
    return {"markdown": md, "html": page, "json": data}
