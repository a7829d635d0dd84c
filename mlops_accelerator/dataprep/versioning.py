"""Immutable, content-addressed data asset versions with lineage, in a local registry.

    data-assets/<name>/<version>/asset.json     the version's record (written last: the commit point)
    data-assets/<name>/<version>/profile.*      statistics and charts (stage 6's drift baseline)
    data-assets/<name>/<version>/data-quality.* the quality results the version passed
    lake/<account>/<container>/<path>/          the version's files, at its azureml:// path

A version is identified by the SHA-256 of its files (name and bytes of each). Registering content
that an existing version already has returns that version; new content gets the next version of
the versioning policy. Files are written to a staging folder, hashed, moved into place in one
rename, made read-only, and only then is the record written - so a failure leaves no
half-registered version. `verify` re-hashes a version's files and names any file that changed,
appeared or went missing (read-only permissions do not stop root; the hash check does).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from . import DataPrepError
from .sources import sha256_file

REGISTRY_DIR = "data-assets"
RECORD = "asset.json"
STAGING = ".staging"


def folder_hash(root: Path) -> tuple[str, list[dict[str, Any]]]:
    """Content hash of a file or a folder (relative names and bytes, name order) and its files."""
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    listed = []
    for f in files:
        rel = f.name if root.is_file() else f.relative_to(root).as_posix()
        h = sha256_file(f)
        digest.update(rel.encode() + b"\0" + h.encode() + b"\n")
        listed.append({"path": rel, "bytes": f.stat().st_size, "sha256": h})
    return digest.hexdigest(), listed


def git_commit(project_dir: Path) -> str | None:
    """HEAD of the git repository holding the project, or None (not a repository, or git missing)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_dir, capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _sort_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.]", version))


def next_version(policy: str, configured: str, existing: list[str], today: date | None = None) -> str:
    """The version new content gets: the configured one first, then the policy's next."""
    if configured not in existing:
        return configured
    if policy == "auto_increment":
        return str(max(int(v) for v in existing if v.isdigit()) + 1)
    if policy == "date_stamp":
        stamp = (today or date.today()).strftime("%Y%m%d")
        if stamp in existing:
            raise DataPrepError(f"version {stamp} already exists with other content, and the date_stamp policy "
                                "allows one version per day: register tomorrow or switch the versioning policy")
        return stamp
    major, minor, patch = max((tuple(int(x) for x in v.split(".")) for v in existing
                               if re.fullmatch(r"\d+\.\d+\.\d+", v)), default=(0, 0, 0))
    return f"{major}.{minor}.{patch + 1}"


def path_for_version(path: str, configured: str, version: str) -> str:
    """The configured azureml path with its version folder (configured or v<configured>) replaced."""
    parts = path.split("/")
    for i, seg in enumerate(parts[5:], start=5):  # azureml: / '' / datastores / <ds> / paths / ...
        if seg in (configured, f"v{configured}"):
            parts[i] = version if seg == configured else f"v{version}"
            return "/".join(parts)
    return path


class Registry:
    def __init__(self, project_dir: str | Path):
        self.project_dir = Path(project_dir).resolve()
        self.root = self.project_dir / REGISTRY_DIR

    def rel(self, p: Path) -> str:
        return p.resolve().relative_to(self.project_dir).as_posix()

    def names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def versions(self, name: str) -> list[dict[str, Any]]:
        folder = self.root / name
        if not folder.is_dir():
            return []
        records = [json.loads((v / RECORD).read_text()) for v in folder.iterdir() if (v / RECORD).is_file()]
        return sorted(records, key=lambda r: _sort_key(r["version"]))

    def get(self, name: str, version: str | None = None) -> dict[str, Any]:
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none yet"
            raise DataPrepError(f"no data asset '{name}' is registered (registered: {known})")
        if version is None:
            return versions[-1]
        for r in versions:
            if r["version"] == version:
                return r
        raise DataPrepError(f"data asset '{name}' has no version {version} "
                            f"(versions: {', '.join(r['version'] for r in versions)})")

    def verify(self, record: dict[str, Any]) -> list[str]:
        """Problems with a version's files on disk (empty when they are exactly as registered)."""
        where = self.project_dir / record["local_path"]
        label = f"{record['name']}:{record['version']}"
        if not where.exists():
            return [f"{label}: {record['local_path']} is missing"]
        _, files = folder_hash(where)
        now = {f["path"]: f["sha256"] for f in files}
        problems = []
        for f in record["files"]:
            shown = f"{record['local_path'].rstrip('/')}/{f['path']}" if where.is_dir() else record["local_path"]
            if f["path"] not in now:
                problems.append(f"{label}: file {shown} is missing")
            elif now[f["path"]] != f["sha256"]:
                problems.append(f"{label}: file {shown} was modified after registration (sha256 "
                                f"{now[f['path']][:12]}... instead of {f['sha256'][:12]}...)")
        extra = sorted(set(now) - {f["path"] for f in record["files"]})
        problems += [f"{label}: file {record['local_path'].rstrip('/')}/{p} was added after registration"
                     for p in extra]
        return problems

    def register(self, asset: Any, write_files: Any, *, lake: Any, policy: str, version_in_path: bool,
                 required_tags: list[str], lineage: dict[str, Any], extras: dict[str, Any],
                 attach: Any = None) -> tuple[dict[str, Any], bool]:
        """Register the asset's content; returns (record, created). Nothing is left half-done on error.

        write_files(target) writes the version's files at `target` (a folder, or a file for uri_file);
        attach(folder) writes the reports kept with a new version (profile, quality) before the record.
        """
        missing = [t for t in required_tags if t not in asset.tags]
        if missing:
            raise DataPrepError(f"data asset '{asset.name}' lacks the required tag(s) {', '.join(missing)}: add "
                                "them under the asset's tags (stage 4); nothing was registered")
        existing = self.versions(asset.name)
        for rec in existing:
            problems = self.verify(rec)
            if problems:
                raise DataPrepError("a registered version changed on disk, so versions can no longer be trusted: "
                                    + "; ".join(problems) + ". Restore the file(s) from a backup; nothing new "
                                    "was registered")
        staging_root = lake.root / STAGING / f"{asset.name}-{os.getpid()}"
        shutil.rmtree(staging_root, ignore_errors=True)
        staging_root.mkdir(parents=True)
        last = asset.path.rstrip("/").rsplit("/", 1)[-1]
        file_name = last if asset.type == "uri_file" and "." in last else "data.parquet"
        staged = staging_root / (file_name if asset.type == "uri_file" else "data")
        try:
            write_files(staged)
            content, files = folder_hash(staged)
            for rec in existing:
                if rec["content_hash"] == content:
                    return rec, False
            version = next_version(policy, asset.version, [r["version"] for r in existing])
            path = path_for_version(asset.path, asset.version, version)
            if existing and path in {r["path"] for r in existing}:
                raise DataPrepError(
                    f"data asset '{asset.name}': new content needs a new version, but its path {asset.path} has no "
                    "version folder, so version files would be overwritten: turn on 'Version folder in path'")
            target = lake.local_path(path)
            if asset.type == "uri_file" and target.name != file_name:
                target = target / file_name
            if target.exists():
                raise DataPrepError(f"data asset '{asset.name}': {self.rel(target)} already exists but is not a "
                                    f"registered version; move it away (it is not overwritten)")
            meta = self.root / asset.name / version
            if meta.exists() and not (meta / RECORD).exists():
                shutil.rmtree(meta)  # left by an interrupted run: it never became a version
            meta.mkdir(parents=True, exist_ok=False)
            try:
                if attach is not None:
                    attach(meta)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, target)
                _read_only(target)
                record = {
                    "name": asset.name, "version": version, "type": asset.type, "path": path,
                    "local_path": self.rel(target), "description": asset.description,
                    "tags": {**asset.tags, "content_sha256": content[:16]}, "content_hash": content,
                    "files": files, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "lineage": lineage, **extras,
                }
                tmp = meta / f".{RECORD}.tmp"
                tmp.write_text(json.dumps(record, indent=2, default=str))
                os.replace(tmp, meta / RECORD)
                _read_only(meta / RECORD)
            except BaseException:
                if not (meta / RECORD).exists():  # roll back: no record means no version
                    shutil.rmtree(meta, ignore_errors=True)
                    if target.exists() and not staged.exists():
                        _writable(target)
                        shutil.rmtree(target) if target.is_dir() else target.unlink()
                raise
            return record, True
        finally:
            shutil.rmtree(staging_root, ignore_errors=True)


def _read_only(path: Path) -> None:
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        if p.is_file():
            p.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def _writable(path: Path) -> None:
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        if p.is_file():
            p.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)


def verify_records(project_dir: str | Path, records: list[str]) -> list[str]:
    """Re-hash the versions whose records (project-relative asset.json paths) are given."""
    reg = Registry(project_dir)
    problems = []
    for rel in records:
        path = reg.project_dir / rel
        if not path.is_file():
            problems.append(f"{rel}: the version record is missing")
            continue
        problems += reg.verify(json.loads(path.read_text()))
    return problems
