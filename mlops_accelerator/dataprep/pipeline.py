"""The stage-4 data pipeline on the local target, in the order a data engineer would run it.

    result = run_pipeline(settings, project_dir, output_dir, run_id="...", notebook="04-data/01-...")

1. read every source (all of them, before anything is written: a bad source stops the run clean)
2. compare each source's columns with its latest bronze snapshot (renamed / retyped column stops it)
3. bronze: write (or find) the content-addressed snapshots and manifests
4. silver: personal data dropped or hashed, types coerced, duplicates removed
5. gold: the feature table
6. quality rules on every asset's table (pandera); report in HTML and Markdown
7. register each asset whose blocking rules pass (content-hashed version, profile, lineage);
   an asset with a failing blocking rule is not registered and its previous versions stay as they are
8. lineage report; the evidence for the checks (keys as checks/data.py documents)
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..settings.data import datastore_of
from . import DataPrepError
from .cleanse import CleansingReport, feature_table, project_salt, residual_pii, to_silver
from .ingest import arrow_table, check_schema, write_bronze
from .lake import Lake
from .quality import RuleResult, evaluate, write_report
from .sources import read_source
from .versioning import Registry, git_commit


@dataclass
class AssetOutcome:
    name: str
    layer: str
    table: str
    status: str  # registered | unchanged | blocked
    version: str | None = None
    path: str | None = None
    reason: str = ""
    record: str | None = None  # project-relative asset.json


@dataclass
class PipelineResult:
    ingestion: list[dict[str, Any]] = field(default_factory=list)
    cleansing: list[CleansingReport] = field(default_factory=list)
    quality: list[RuleResult] = field(default_factory=list)
    assets: list[AssetOutcome] = field(default_factory=list)
    pii_left: list[str] = field(default_factory=list)
    layers_written: list[str] = field(default_factory=list)
    salt_from: str = ""
    reports: dict[str, str] = field(default_factory=dict)  # artifact key -> path relative to output_dir
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def blocked(self) -> list[AssetOutcome]:
        return [a for a in self.assets if a.status == "blocked"]


def _layer_of(asset: Any, lake: Lake) -> str:
    store = datastore_of(asset.path)
    return lake.layer_of_store.get(store, "gold")


def _table_of(asset: Any, layer: str, data: Any) -> str:
    if asset.table:
        return asset.table
    if layer == "gold":
        return data.feature_table.name
    if len(data.data_sources) == 1:
        return data.data_sources[0].name
    raise DataPrepError(f"data asset '{asset.name}' is on the {layer} layer and there are several sources: set "
                        "its 'Table' to the source it holds (stage 4, Data assets)")


def _write_parquet(frame: Any) -> Any:
    import pyarrow.parquet as pq

    def write(target: Path) -> None:
        table = arrow_table(frame)
        if target.suffix == ".parquet":
            pq.write_table(table, target)
        else:
            target.mkdir(parents=True)
            pq.write_table(table, target / "part-000.parquet")
    return write


def _mltable(frame: Any) -> Any:
    write_parquet = _write_parquet(frame)

    def write(target: Path) -> None:
        write_parquet(target)
        (target / "MLTable").write_text("type: mltable\npaths:\n  - pattern: ./*.parquet\n"
                                        "transformations:\n  - read_parquet\n")
    return write


def run_pipeline(data: Any, project_dir: str | Path, output_dir: str | Path, *, run_id: str,
                 notebook: str, now: datetime | None = None) -> PipelineResult:
    from .profiling import write_profile

    project_dir, output_dir = Path(project_dir).resolve(), Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(timezone.utc)
    lake = Lake(project_dir, data.datastores, data.data_layers)
    res = PipelineResult()
    bronze_dir = lake.layer_dir("bronze")
    if getattr(data, "bronze_access", "shared") == "data_engineers_only":
        bronze_dir.mkdir(parents=True, exist_ok=True)
        bronze_dir.chmod(0o700)  # raw data may hold personal data: only its owner (the data engineers) reads it

    # 1-2: read everything and check schemas before writing anything
    read = {s.name: read_source(s, project_dir) for s in data.data_sources}
    arrow = {name: arrow_table(sd.frame) for name, sd in read.items()}
    for s in data.data_sources:
        check_schema(s, arrow[s.name], bronze_dir / s.name)

    # 4-5 before 3: cleansing problems (a missing column, personal data unmatched) also stop before writing
    salt, res.salt_from = project_salt(project_dir)
    silver = {}
    for s in data.data_sources:
        silver[s.name], report = to_silver(s, read[s.name].frame, data.pii_rules, salt)
        res.cleansing.append(report)
    layers = {x.layer for x in data.data_layers}
    needs_gold = "gold" in layers or any(a.table == data.feature_table.name for a in data.data_assets)
    gold = feature_table(silver, data.feature_table, list(silver)) if needs_gold else None

    tables: dict[str, Any] = {}
    plan = []
    for a in data.data_assets:
        layer = _layer_of(a, lake)
        table = _table_of(a, layer, data)
        if table == data.feature_table.name:
            frame = gold
        elif layer == "bronze":
            frame = read[table].frame
        else:
            frame = silver[table]
        tables[a.name] = frame
        plan.append((a, layer, table))

    # 6: quality (a rule naming a missing column raises here, still before any write)
    res.quality = evaluate(data.data_quality_rules, tables, now)
    res.pii_left = sorted({c for f in silver.values() for c in residual_pii(f, data.pii_rules)}
                          | set(residual_pii(gold, data.pii_rules) if gold is not None else []))

    # 3: bronze
    pipeline_name = f"{notebook} (mlops_accelerator.dataprep.pipeline)"
    manifests = {}
    for s in data.data_sources:
        m = write_bronze(s, read[s.name], arrow[s.name], bronze_dir, run_id)
        manifests[s.name] = m
        res.ingestion.append({"source": s.name, "pipeline": f"ingestion/{s.name}.json", "status": "succeeded",
                              "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              "rows": m["rows"], "snapshot": lake_rel(m["manifest_path"], project_dir),
                              "reused": m["reused"]})
    _write_ingestion_definitions(data, lake, output_dir)
    res.layers_written.append("bronze")

    qdir = output_dir / "data-quality"
    write_report(res.quality, qdir, "Data quality: stage 4")
    res.reports.update({"data_quality_report": "data-quality/data-quality.html",
                        "data_quality_markdown": "data-quality/data-quality.md"})

    # 7: register
    registry = Registry(project_dir)
    commit = git_commit(project_dir)
    for a, layer, table in plan:
        frame = tables[a.name]
        blocking = [r for r in res.quality if r.asset == a.name and r.blocking]
        pii = [] if layer == "bronze" else residual_pii(frame, data.pii_rules)
        if blocking or pii:
            why = "; ".join(f"{r.rule} on '{r.column}' failed for {r.failed_rows} row(s) (e.g. rows "
                            f"{', '.join(str(e['row']) for e in r.examples) or '-'})" for r in blocking)
            if pii:
                why = (why + "; " if why else "") + f"personal data still in column(s) {', '.join(pii)}"
            res.assets.append(AssetOutcome(a.name, layer, table, "blocked", reason=why))
            continue
        used = (list(data.feature_table.sources) or list(silver)) if table == data.feature_table.name else [table]
        lineage = {
            "sources": [{"name": n, "manifest": lake_rel(manifests[n]["manifest_path"], project_dir),
                         "manifest_sha256": manifests[n]["manifest_sha256"],
                         "content_hash": manifests[n]["content_hash"], "source_hash": manifests[n]["source_hash"],
                         "rows": manifests[n]["rows"]} for n in used],
            "layer": layer, "table": table, "run_id": run_id, "notebook": notebook, "git_commit": commit,
            "cleansing": [asdict(c) for c in res.cleansing if c.source in used],
        }
        mine = [r for r in res.quality if r.asset == a.name]
        extras = {"rows": int(len(frame)), "columns": [{"name": str(c), "dtype": str(t)}
                                                        for c, t in frame.dtypes.items()],
                  "quality": [r.evidence() for r in mine]}

        def attach(meta: Path, frame: Any = frame, mine: list = mine, a: Any = a) -> None:
            write_report(mine, meta, f"Data quality: {a.name}")
            if data.data_profile:
                write_profile(frame, meta, f"Profile: {a.name}")

        writer = _mltable(frame) if a.type == "mltable" else _write_parquet(frame)
        record, created = registry.register(
            a, writer, lake=lake, policy=data.versioning_policy, version_in_path=data.version_in_path,
            required_tags=data.required_asset_tags, lineage=lineage, extras=extras, attach=attach)
        res.assets.append(AssetOutcome(a.name, layer, table, "registered" if created else "unchanged",
                                       record["version"], record["path"],
                                       record=f"{registry.root.name}/{a.name}/{record['version']}/asset.json"))
        if layer not in res.layers_written:
            res.layers_written.append(layer)
    for layer, frame in (("silver", silver), ("gold", gold)):
        if layer in layers and layer not in res.layers_written and frame is not None and not res.blocked:
            _write_layer_tables(lake, layer, frame if isinstance(frame, dict) else {data.feature_table.name: frame})
            res.layers_written.append(layer)

    (output_dir / "cleansing.json").write_text(json.dumps(
        {"pii_salt_from": res.salt_from, "sources": [asdict(c) for c in res.cleansing]}, indent=2))
    res.reports["cleansing_report"] = "cleansing.json"
    write_lineage(registry, data, output_dir)
    res.reports.update({"lineage_report": "lineage.html", "lineage_markdown": "lineage.md"})
    res.evidence = _evidence(res, data, registry, pipeline_name)
    return res


def lake_rel(path: Path, project_dir: Path) -> str:
    return Path(path).resolve().relative_to(project_dir).as_posix()


def _write_layer_tables(lake: Lake, layer: str, frames: dict[str, Any]) -> None:
    """Layer tables no asset publishes: content-addressed files, so a re-run adds nothing."""
    import pyarrow.parquet as pq

    from .sources import sha256_file

    for name, frame in frames.items():
        folder = lake.layer_dir(layer) / "tables" / name
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / ".incoming.parquet"
        pq.write_table(arrow_table(frame), tmp)
        final = folder / f"{sha256_file(tmp)[:16]}.parquet"
        if final.exists():
            tmp.unlink()
        else:
            tmp.replace(final)


def _write_ingestion_definitions(data: Any, lake: Lake, output_dir: Path) -> None:
    """One declarative ingestion definition per source: what is copied where, when, by which tool."""
    folder = output_dir / "ingestion"
    folder.mkdir(exist_ok=True)
    bronze = lake.store_of_layer["bronze"]
    for s in data.data_sources:
        spec = {"source": s.name, "system_type": s.system_type, "format": s.format, "table": s.table,
                "location": _hide_password(s.location), "owner": s.owner, "classification": s.classification,
                "contains_pii": s.contains_pii, "tool": data.ingestion_tool,
                "trigger": data.ingestion_schedule.trigger, "cron": data.ingestion_schedule.cron,
                "sink": f"azureml://datastores/{bronze}/paths/{s.name}/", "format_out": "parquet",
                "schema_version": s.schema_version}
        (folder / f"{s.name}.json").write_text(json.dumps(spec, indent=2))


def _hide_password(location: str) -> str:
    if "://" not in location:
        return location
    try:
        import sqlalchemy as sa

        return sa.engine.make_url(location).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def _evidence(res: PipelineResult, data: Any, registry: Registry, pipeline_name: str) -> dict[str, Any]:
    assets = []
    for a in data.data_assets:
        for rec in registry.versions(a.name):
            assets.append({"name": rec["name"], "version": rec["version"], "type": rec["type"],
                           "path": rec["path"], "tags": rec["tags"], "content_hash": rec["content_hash"],
                           "record": f"{registry.root.name}/{rec['name']}/{rec['version']}/asset.json"})
    return {
        "ingestion_runs": [{k: r[k] for k in ("source", "pipeline", "status", "finished")} for r in res.ingestion],
        "wrangling": {"pipeline": pipeline_name, "layers_written": list(res.layers_written),
                      "pii_columns_in_silver": list(res.pii_left)},
        "data_quality": [r.evidence() for r in res.quality],
        "data_assets": assets,
    }


# -- lineage report -------------------------------------------------------------

def lineage_rows(registry: Registry, names: list[str]) -> list[dict[str, str]]:
    rows = []
    for name in names:
        for rec in registry.versions(name):
            lin = rec.get("lineage", {})
            rows.append({
                "asset": f"{rec['name']}:{rec['version']}", "datastore": datastore_of(rec["path"]) or "",
                "path": rec["path"], "layer": lin.get("layer", ""),
                "sources": ", ".join(f"{s['name']} (manifest {s['manifest_sha256'][:12]})"
                                     for s in lin.get("sources", [])),
                "run": lin.get("run_id", ""), "notebook": lin.get("notebook", ""),
                "commit": (lin.get("git_commit") or "not a git repository")[:12],
                "content": rec["content_hash"][:16], "created": rec.get("created_at", ""),
            })
    return rows


def write_lineage(registry: Registry, data: Any, output_dir: Path) -> None:
    rows = lineage_rows(registry, [a.name for a in data.data_assets])
    heads = ["asset", "layer", "datastore", "path", "sources", "run", "notebook", "commit", "content", "created"]
    md = ["# Data lineage: asset -> datastore -> sources", "",
          "Every registered version, where its files are (azureml:// path on a declared datastore), the "
          "bronze manifests it was built from, and the run, notebook and commit that produced it.", "",
          "| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    md += ["| " + " | ".join(r[h].replace("|", "\\|") for h in heads) + " |" for r in rows]
    (output_dir / "lineage.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    body = "".join("<tr>" + "".join(f"<td>{html.escape(r[h])}</td>" for h in heads) + "</tr>" for r in rows)
    (output_dir / "lineage.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>Data lineage</title><h1>Data lineage: asset -&gt; "
        "datastore -&gt; sources</h1><table border='1' cellpadding='4'><tr>"
        + "".join(f"<th>{h}</th>" for h in heads) + f"</tr>{body}</table>", encoding="utf-8")

