"""Bronze: each source's rows as one Parquet snapshot with a manifest, addressed by content.

    <bronze container>/<source>/<hash16>/data.parquet
    <bronze container>/<source>/<hash16>/manifest.json   source, rows, columns, time, hashes
    <bronze container>/<source>/latest.json               which snapshot the last ingestion produced

Ingesting unchanged data finds the snapshot already there and writes nothing. Before anything is
written, the columns are compared with the latest snapshot of the same schema version: a column
renamed, removed or retyped stops ingestion (bump the source's schema version when it is intended).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import DataPrepError
from .sources import SourceData, sha256_file

NUMERIC = ("int", "uint", "double", "float", "decimal")


def arrow_table(frame: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def column_types(table: Any) -> list[dict[str, str]]:
    return [{"name": f.name, "type": str(f.type)} for f in table.schema]


def _compatible(old: str, new: str) -> bool:
    """Same type, or both numeric (an integer column read with empty cells becomes float), or all-empty."""
    if old == new or "null" in (old, new):
        return True
    return old.startswith(NUMERIC) and new.startswith(NUMERIC)


def schema_changes(previous: list[dict[str, str]], current: list[dict[str, str]]) -> list[str]:
    old = {c["name"]: c["type"] for c in previous}
    new = {c["name"]: c["type"] for c in current}
    gone = [c for c in old if c not in new]
    added = [c for c in new if c not in old]
    changes = []
    if gone and added:
        changes.append(f"column(s) {', '.join(gone)} missing and {', '.join(added)} new (renamed?)")
    elif gone:
        changes.append(f"column(s) {', '.join(gone)} missing")
    elif added:
        changes.append(f"new column(s) {', '.join(added)}")
    changes += [f"column '{c}' was {old[c]}, now {new[c]}" for c in old
                if c in new and not _compatible(old[c], new[c])]
    return changes


def latest_manifest(source_dir: Path) -> dict[str, Any] | None:
    pointer = source_dir / "latest.json"
    if not pointer.exists():
        return None
    folder = json.loads(pointer.read_text())["snapshot"]
    return json.loads((source_dir / folder / "manifest.json").read_text())


def check_schema(source: Any, table: Any, source_dir: Path) -> None:
    """DataPrepError when the columns differ from the latest snapshot under the same schema version."""
    prev = latest_manifest(source_dir)
    if prev is None or prev.get("schema_version") != source.schema_version:
        return
    changes = schema_changes(prev["columns"], column_types(table))
    if changes:
        raise DataPrepError(
            f"source '{source.name}': schema changed since the last ingestion ({prev['ingested_at']}, schema "
            f"version {source.schema_version}): {'; '.join(changes)}. Nothing was ingested; fix the source, or "
            "bump the source's schema version if the change is intended")


def write_bronze(source: Any, data: SourceData, table: Any, bronze_dir: Path, run_id: str) -> dict[str, Any]:
    """Write (or find) the snapshot; returns its manifest plus the manifest's own path and hash."""
    import pyarrow.parquet as pq

    source_dir = bronze_dir / source.name
    source_dir.mkdir(parents=True, exist_ok=True)
    tmp = source_dir / f".incoming-{run_id}.parquet"
    pq.write_table(table, tmp)
    content_hash = sha256_file(tmp)
    folder = source_dir / content_hash[:16]
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        tmp.unlink()
        manifest = json.loads(manifest_path.read_text())
        reused = True
    else:
        folder.mkdir(exist_ok=True)
        os.replace(tmp, folder / "data.parquet")
        manifest = {
            "source": source.name, "system_type": source.system_type, "format": data.kind,
            "location": data.location, "files": data.files, "source_hash": data.source_hash or content_hash,
            "schema_version": source.schema_version, "rows": table.num_rows, "columns": column_types(table),
            "ingested_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "run_id": run_id,
            "file": "data.parquet", "content_hash": content_hash,
        }
        tmp_manifest = folder / ".manifest.json.tmp"
        tmp_manifest.write_text(json.dumps(manifest, indent=2))
        os.replace(tmp_manifest, manifest_path)  # the snapshot exists once its manifest does
        reused = False
    (source_dir / "latest.json").write_text(json.dumps({"snapshot": folder.name}))
    return {**manifest, "manifest_path": manifest_path, "manifest_sha256": sha256_file(manifest_path),
            "reused": reused}
