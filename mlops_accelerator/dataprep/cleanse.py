"""bronze -> silver (personal data, types, duplicates) -> gold (the feature table).

Personal data: every column matching a personal-data rule (name or case-insensitive shell pattern)
is dropped, or replaced by `<column>_hash`, an HMAC-SHA256 of the value keyed with the project salt,
so the same customer still joins across tables but the value cannot be read back. The salt is never
in the project file: it is taken from the environment variable MLOPS_ACCELERATOR_PII_SALT, or else
from `.mlops-accelerator/pii-salt` in the project folder (created once with 32 random bytes, readable
by its owner only, and git-ignored). Losing the salt only means new hashes no longer match old ones.
"""

from __future__ import annotations

import fnmatch
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import DataPrepError

SALT_ENV = "MLOPS_ACCELERATOR_PII_SALT"
SALT_FILE = Path(".mlops-accelerator") / "pii-salt"
# Values that still look like personal data in silver (a safety net behind the rules).
_LOOKS_PERSONAL = {
    "email": re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"),
    # a phone number: 9+ digits with spaces, dashes or brackets (a date has 8)
    "phone": re.compile(r"^\+?(?:[ ()\-]*\d){9,}[ ()\-]*$"),
}


@dataclass
class CleansingReport:
    source: str
    rows_in: int
    rows_out: int = 0
    duplicates_removed: int = 0
    pii_dropped: list[str] = field(default_factory=list)
    pii_hashed: list[str] = field(default_factory=list)
    coerced: dict[str, str] = field(default_factory=dict)  # column -> type
    values_emptied: dict[str, int] = field(default_factory=dict)  # column -> values that did not convert


def project_salt(project_dir: str | Path) -> tuple[bytes, str]:
    """The PII salt and where it came from (the environment variable, or the salt file)."""
    value = os.environ.get(SALT_ENV)
    if value:
        return value.encode(), f"environment variable {SALT_ENV}"
    path = Path(project_dir) / SALT_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        ignore = path.parent / ".gitignore"
        lines = ignore.read_text().splitlines() if ignore.exists() else []
        if path.name not in lines:
            ignore.write_text("\n".join([*lines, path.name]) + "\n")
    return path.read_text().strip().encode(), f"file {SALT_FILE.as_posix()} (git-ignored)"


def pii_columns(columns: list[str], rules: list[Any]) -> dict[str, str]:
    """column -> action (drop|hash) for the columns a personal-data rule matches; the first rule wins."""
    found: dict[str, str] = {}
    for col in columns:
        for r in rules:
            if fnmatch.fnmatchcase(col.lower(), r.column.lower()):
                found[col] = r.action
                break
    return found


def keyed_hash(series: Any, salt: bytes) -> Any:
    import pandas as pd

    digest = hmac.digest  # one-shot C implementation: about twice as fast as hmac.new per value
    values = [None if v is None or v != v else digest(salt, str(v).encode(), "sha256").hex()
              for v in series.tolist()]
    return pd.Series(values, index=series.index, dtype="string")


def _coerce(frame: Any, column: str, kind: str) -> Any:
    import pandas as pd

    s = frame[column]
    if kind == "int":
        return pd.to_numeric(s, errors="coerce").round().astype("Int64")
    if kind == "float":
        return pd.to_numeric(s, errors="coerce").astype("float64")
    if kind == "bool":
        text = s.astype("string").str.strip().str.lower()
        return text.map({"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
                        ).astype("boolean")
    if kind == "datetime":
        return pd.to_datetime(s, errors="coerce").astype("datetime64[us]")
    if kind == "category":
        return s.astype("string").astype("category")
    return s.astype("string")


def to_silver(source: Any, frame: Any, rules: list[Any], salt: bytes) -> tuple[Any, CleansingReport]:
    """The source's silver table: personal data removed, columns typed, exact duplicates dropped."""
    report = CleansingReport(source.name, len(frame))
    found = pii_columns(list(frame.columns), rules)
    if source.contains_pii and not found:
        raise DataPrepError(
            f"source '{source.name}' is marked as containing personal data but no personal-data rule matches "
            f"any of its columns ({', '.join(map(str, frame.columns))}): add a rule naming them (stage 4, "
            "Personal data rules), or clear 'Contains personal data' if it holds none")
    missing = [c for c in source.column_types if c not in frame.columns and c not in found]
    if missing:
        raise DataPrepError(f"source '{source.name}': column type(s) set for column(s) it does not have: "
                            f"{', '.join(missing)} (columns: {', '.join(map(str, frame.columns))})")
    out = frame.copy()
    for col, action in found.items():
        if action == "hash":
            out.insert(out.columns.get_loc(col), f"{col}_hash", keyed_hash(out[col], salt))
            report.pii_hashed.append(col)
        else:
            report.pii_dropped.append(col)
        out = out.drop(columns=[col])
    for col, kind in source.column_types.items():
        if col in found:
            continue
        before = int(out[col].isna().sum())
        out[col] = _coerce(out, col, kind)
        report.coerced[col] = kind
        emptied = int(out[col].isna().sum()) - before
        if emptied:
            report.values_emptied[col] = emptied
    n = len(out)
    out = out.drop_duplicates(ignore_index=True)
    report.duplicates_removed = n - len(out)
    report.rows_out = len(out)
    return out, report


def residual_pii(frame: Any, rules: list[Any], sample: int = 500) -> list[str]:
    """Columns of a silver/gold table that still hold personal data (by rule or by the look of values)."""
    left = [c for c, a in pii_columns(list(frame.columns), rules).items()
            if not str(c).endswith("_hash")]
    for col in frame.columns:
        if col in left or str(frame[col].dtype) not in ("object", "string", "str"):
            continue
        values = frame[col].dropna().astype(str).head(sample)
        if len(values) and any(values.str.match(p).mean() > 0.5 for p in _LOOKS_PERSONAL.values()):
            left.append(col)
    return left


def feature_table(silver: dict[str, Any], spec: Any, layer_sources: list[str]) -> Any:
    """The gold table: the base source's silver table, the others joined on the key, columns kept."""
    names = list(spec.sources) or layer_sources
    if len(names) != 1 and not spec.sources:
        raise DataPrepError("the feature table needs its sources: with more than one data source, list the "
                            "ones to join under 'Feature table (gold) > Sources joined'")
    base = silver[names[0]]
    for other in names[1:]:
        for name, frame in ((names[0], base), (other, silver[other])):
            if spec.join_key not in frame.columns:
                raise DataPrepError(f"feature table '{spec.name}': join key '{spec.join_key}' is not a column "
                                    f"of source '{name}' (columns: {', '.join(map(str, frame.columns))})")
        right = silver[other]
        if right[spec.join_key].duplicated().any():
            dup = right.loc[right[spec.join_key].duplicated(), spec.join_key].head(3).tolist()
            raise DataPrepError(f"feature table '{spec.name}': '{spec.join_key}' is not unique in source "
                                f"'{other}' after cleansing (e.g. {dup}), so joining would duplicate rows")
        base = base.merge(right, on=spec.join_key, how="left", suffixes=("", f"_{other}"))
    if spec.columns:
        absent = [c for c in spec.columns if c not in base.columns]
        if absent:
            raise DataPrepError(f"feature table '{spec.name}': column(s) {', '.join(absent)} do not exist after "
                                f"the join (columns: {', '.join(map(str, base.columns))})")
        base = base[list(spec.columns)]
    if spec.label_column:
        if spec.label_column not in base.columns:
            raise DataPrepError(f"feature table '{spec.name}': label column '{spec.label_column}' is missing")
        base = base[base[spec.label_column].notna()]
    return base.reset_index(drop=True)
