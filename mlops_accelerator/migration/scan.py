"""Static scan of the ported core scripts (S7-06): secrets, and names that belong in configuration/.

Secrets are found with detect-secrets' plugins (Azure storage keys, private keys, tokens, high-entropy
strings, keyword assignments). A hard-coded name is a string literal equal to a configured data asset
or model name (or a legacy dataset name), or a data file path (absolute, or ending in a data format),
outside the configuration files: the ported scripts take them as arguments or job inputs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

DATA_PATH = re.compile(r"^(/|~|[A-Za-z]:[\\/]|\\\\)\S+$|^\S+\.(csv|tsv|parquet|jsonl|xlsx?|feather)$", re.I)


def _literals(path: Path) -> list[tuple[int, str]]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except SyntaxError:
        return []
    return [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _secrets(path: Path) -> list[dict[str, Any]]:
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    with default_settings():
        found = SecretsCollection()
        found.scan_file(str(path))
    return [{"line": s.line_number, "kind": s.type} for _, s in found]


def scan(root: str | Path, folder: str, names: set[str]) -> dict[str, Any]:
    """Scan every .py file under root/folder; paths in the result are relative to root."""
    root = Path(root)
    base = root / folder
    files = sorted(p for p in base.rglob("*.py") if "configuration" not in p.relative_to(root).parts)
    out: dict[str, Any] = {"scanned_files": len(files), "secrets": [], "hardcoded_names": []}
    for p in files:
        rel = p.relative_to(root).as_posix()
        out["secrets"] += [{"file": rel, **s} for s in _secrets(p)]
        out["hardcoded_names"] += [{"file": rel, "line": line, "literal": value}
                                   for line, value in _literals(p) if value in names or DATA_PATH.match(value)]
    return out
