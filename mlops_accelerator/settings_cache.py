"""Every stage's validated settings, cached per content of the project file.

`status` (and the sidebar, the report, the wizards' deliverables) need each stage's effective
settings, revision and errors. Getting them means parsing the project file (round-trip YAML)
and validating all seven stages with their cross-stage rules: most of a `status`. The result
depends on nothing but the project file's bytes and the code that judges them, so it is kept in
`.mlops-accelerator/cache/settings.json`, keyed by the SHA-256 of those bytes and a fingerprint
of the code (the size and modification time of this package's files, and of pydantic's and
detect-secrets', which the rules use).

Never staler than the project: the key is recomputed from the file on every call, so any change
to it (a save, a hand edit, a `git checkout`) misses the cache. A result is stored only when the
file still has the bytes it was computed from. Writes are atomic (a temp file, then a rename),
so concurrent writers leave one complete entry and a reader never sees half of one; an
unreadable, foreign or corrupt entry is recomputed; a read-only project simply is not cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

FORMAT = 1  # bump when the entry's layout changes


@dataclass(frozen=True)
class StageSettings:
    revision: str  # short hash of the stage's saved answers (Project.revision)
    effective: dict[str, Any]  # defaults overlaid with the saved answers, as plain data (even when invalid)
    errors: list[dict[str, Any]]  # FieldError.to_dict() of every broken rule; empty when valid


@dataclass(frozen=True)
class ValidatedSettings:
    project_name: str
    stages: dict[str, StageSettings]  # by slug, in catalogue order

    def effective(self) -> dict[str, dict[str, Any]]:
        return {slug: s.effective for slug, s in self.stages.items()}

    def revisions(self) -> dict[str, str]:
        return {slug: s.revision for slug, s in self.stages.items()}


def validated_settings(project: Any) -> ValidatedSettings:
    """Every stage's revision, effective settings and errors; from the cache when the file is unchanged.

    A missing, oversized or broken project file raises the same ProjectFileError as reading it.
    """
    key = _key(project.path)
    path = project.state_dir / "cache" / "settings.json"
    if key is not None:
        cached = _load(path, key)
        if cached is not None:
            return cached
    result = _compute(project)
    if key is not None and _key(project.path) == key:  # unchanged while we computed: safe to keep
        _store(path, key, result)
    return result


def _compute(project: Any) -> ValidatedSettings:
    from .catalogue import stage_slugs
    from .workspace import _deep_merge

    doc = project.read_document()
    stages = {}
    for slug in stage_slugs():
        model, errors = project.settings_or_errors(slug, doc)
        if model is not None:
            effective = model.model_dump(mode="json")
        else:
            from .settings import default_settings

            effective = _deep_merge(default_settings(slug), project.saved_settings(slug, doc))
        stages[slug] = StageSettings(project.revision(slug, doc), effective, [e.to_dict() for e in errors])
    return ValidatedSettings(str(doc["project"]["name"]), stages)


def _key(project_file: Path) -> str | None:
    try:
        data = project_file.read_bytes()
    except OSError:
        return None  # read_document() reports it
    return hashlib.sha256(data).hexdigest() + "-" + _code_fingerprint()


@cache
def _code_fingerprint() -> str:
    """Changes whenever the code that validates settings may have: this package or its rule libraries."""
    import importlib.util

    from . import __version__

    roots = [Path(__file__).parent]
    for name in ("pydantic", "pydantic_core", "detect_secrets"):
        with contextlib.suppress(ImportError, ValueError):
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.origin:
                roots.append(Path(spec.origin))  # its __init__: rewritten by every install
    h = hashlib.sha256(__version__.encode())
    for root in roots:
        files = [root] if root.is_file() else sorted(_sources(root))
        for f in files:
            with contextlib.suppress(OSError):
                st = f.stat()
                h.update(f"{f}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


def _sources(folder: Path) -> list[Path]:
    out = []
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in ("__pycache__", "static", "labextension", "node_modules"):
                out += _sources(Path(entry.path))
        elif entry.name.endswith((".py", ".yaml")):
            out.append(Path(entry.path))
    return out


def _load(path: Path, key: str) -> ValidatedSettings | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("key") != key:
            return None
        stages = {slug: StageSettings(s["revision"], s["effective"], s["errors"])
                  for slug, s in data["stages"].items()}
        return ValidatedSettings(data["project_name"], stages)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # absent, foreign or damaged: recompute


def _store(path: Path, key: str, result: ValidatedSettings) -> None:
    entry = {"format": FORMAT, "key": key, "project_name": result.project_name,
             "stages": {slug: {"revision": s.revision, "effective": s.effective, "errors": s.errors}
                        for slug, s in result.stages.items()}}
    try:
        text = json.dumps(entry)
    except (TypeError, ValueError):
        return  # not plain data (should not happen): simply not cached
    try:
        path.parent.mkdir(exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n", encoding="utf-8")  # derived data: never committed with the project
        fd, tmp = tempfile.mkstemp(prefix=".settings.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only or full disk: status still works, uncached
