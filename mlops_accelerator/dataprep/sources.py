"""Reading the configured sources on the local target: files, folders and SQLAlchemy databases.

Files are parsed by pandas (pyarrow engine for CSV) - never by hand. A folder is read as the
concatenation of its files in name order. A database is read table by table through SQLAlchemy
reflection, so a table name is an identifier SQLAlchemy quotes, never text pasted into SQL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import DataPrepError

# Source systems only Azure reaches; on the local target they are refused with what to do instead.
AZURE_ONLY = {
    "adls_gen2": "an ADLS Gen2 account", "blob": "a Blob storage account", "azure_sql": "Azure SQL",
    "synapse": "Azure Synapse", "databricks_delta": "Databricks Delta tables", "api": "a web API",
}
EXTENSIONS = {"csv": (".csv",), "parquet": (".parquet", ".pq"), "jsonl": (".jsonl", ".ndjson", ".json")}
CHUNK = 1 << 22  # bytes read at a time when hashing source files
SQL_CHUNK_ROWS = 250_000


@dataclass
class SourceData:
    """A source as read: its rows plus what the manifest records about where they came from."""

    name: str
    frame: Any  # pandas.DataFrame
    kind: str  # csv | parquet | jsonl | sql
    location: str  # as configured (a database URL with its password hidden)
    files: list[dict[str, Any]] = field(default_factory=list)  # {"path", "bytes", "sha256"} for file sources
    source_hash: str = ""  # sha256 over the files read (names and bytes), or of the table's bronze copy


def needs_azureml(source: Any) -> str | None:
    """Why this source cannot be read on the local target (None when it can)."""
    what = AZURE_ONLY.get(source.system_type)
    if what is None:
        return None
    return (f"source '{source.name}' is {what} ({source.system_type}): reading it needs the azureml target "
            "(Azure Data Factory or an Azure ML data import). On the local target, point a source of system "
            "type file_share, on_prem_sql or other at an export (a file, a folder or a SQLAlchemy URL).")


def read_source(source: Any, project_dir: str | Path) -> SourceData:
    """Read one configured source; DataPrepError (naming the source) when it cannot be read."""
    reason = needs_azureml(source)
    if reason:
        raise DataPrepError(reason)
    location = (source.location or "").strip()
    if not location:
        raise DataPrepError(f"source '{source.name}' has no location: set 'Location' to a file, a folder or "
                            "a database URL (stage 4, Data sources)")
    if source.format == "sql" or "://" in location:
        return _read_database(source, location, Path(project_dir))
    return _read_files(source, location, Path(project_dir))


def _files_of(source: Any, path: Path) -> tuple[str, list[Path]]:
    if path.is_file():
        files = [path]
    else:
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    kind = source.format
    if kind == "auto":
        kinds = {k for f in files for k, exts in EXTENSIONS.items() if f.suffix.lower() in exts}
        if len(kinds) != 1:
            found = ", ".join(sorted({f.suffix or f.name for f in files})) or "no files"
            raise DataPrepError(f"source '{source.name}': cannot tell the format of {path} ({found}); set "
                                "'Format' to csv, parquet or jsonl")
        kind = kinds.pop()
    files = [f for f in files if f.suffix.lower() in EXTENSIONS[kind]]
    if not files:
        raise DataPrepError(f"source '{source.name}': {path} holds no {kind} files")
    return kind, files


def _read_files(source: Any, location: str, project_dir: Path) -> SourceData:
    import pandas as pd

    path = Path(location).expanduser()
    path = path if path.is_absolute() else project_dir / path
    if not path.exists():
        raise DataPrepError(f"source '{source.name}': {path} does not exist (location '{location}'); fix the "
                            "location or restore the file - nothing was ingested")
    kind, files = _files_of(source, path)
    frames = []
    recorded = []
    digest = hashlib.sha256()
    for f in files:
        rel = f.relative_to(path).as_posix() if path.is_dir() else f.name
        file_hash = sha256_file(f)
        digest.update(rel.encode() + b"\0" + file_hash.encode() + b"\n")
        recorded.append({"path": rel, "bytes": f.stat().st_size, "sha256": file_hash})
        try:
            if kind == "csv":
                frames.append(pd.read_csv(f, engine="pyarrow"))
            elif kind == "parquet":
                frames.append(pd.read_parquet(f))
            else:
                frames.append(pd.read_json(f, lines=True))
        except Exception as exc:  # a parser error: name the file and what the parser said
            raise DataPrepError(f"source '{source.name}': cannot read {f} as {kind}: {exc}") from exc
    columns = [list(fr.columns) for fr in frames]
    for f, cols in zip(files[1:], columns[1:], strict=False):
        if cols != columns[0]:
            raise DataPrepError(f"source '{source.name}': {f.name} has columns {cols}, the first file "
                                f"({files[0].name}) has {columns[0]}; every file of a folder needs the same columns")
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return SourceData(source.name, frame, kind, location, recorded, digest.hexdigest())


def _database_url(source: Any, location: str, project_dir: Path) -> Any:
    import sqlalchemy as sa

    try:
        url = sa.engine.make_url(location)
    except sa.exc.ArgumentError as exc:
        raise DataPrepError(f"source '{source.name}': '{location}' is not a database URL SQLAlchemy understands "
                            "(dialect+driver://user@host/database, e.g. sqlite:///data/crm.sqlite)") from exc
    if url.get_backend_name() == "sqlite":
        db = url.database or ""
        if not db or db == ":memory:":
            raise DataPrepError(f"source '{source.name}': an in-memory SQLite database has no data to ingest")
        path = Path(db) if Path(db).is_absolute() else project_dir / db
        if not path.is_file():  # SQLite would silently create an empty database here
            raise DataPrepError(f"source '{source.name}': the SQLite database {path} does not exist")
        url = url.set(database=str(path))
    return url


def _read_database(source: Any, location: str, project_dir: Path) -> SourceData:
    import pandas as pd
    import sqlalchemy as sa

    url = _database_url(source, location, project_dir)
    shown = url.render_as_string(hide_password=True)
    if not source.table:
        raise DataPrepError(f"source '{source.name}' is a database ({shown}): set 'Table' to the table to read")
    try:
        engine = sa.create_engine(url)
    except Exception as exc:  # unknown dialect or missing driver
        raise DataPrepError(f"source '{source.name}': cannot use database URL {shown}: {exc}") from exc
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            if source.table not in names:
                raise DataPrepError(f"source '{source.name}': table '{source.table}' is not in {shown} "
                                    f"(tables: {', '.join(names) or 'none'})")
            table = sa.Table(source.table, sa.MetaData(), autoload_with=conn)
            # in chunks: only one chunk of database rows is held as Python objects at a time
            chunks = list(pd.read_sql(sa.select(table), conn, chunksize=SQL_CHUNK_ROWS))
            frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(
                columns=[c.name for c in table.columns])
    except DataPrepError:
        raise
    except Exception as exc:  # cannot connect, no permission, broken file
        raise DataPrepError(f"source '{source.name}': cannot read table '{source.table}' from {shown}: "
                            f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
    finally:
        engine.dispose()
    return SourceData(source.name, frame, "sql", f"{shown} (table {source.table})")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()
