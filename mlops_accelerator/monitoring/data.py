"""Where a monitoring pass reads its data: the baseline and the production windows.

Baseline (settings `reference_data`):
- training_data / validation_data: the stage-4 feature table version the registry's champion was
  trained on (its `data_asset` tag), else the newest registered version of `data.feature_table.name`
  (e.g. churn-features:3), read from its Parquet files; its `profile.json`
  (written by stage 4) documents the same columns. Locally there is no separate validation asset,
  so validation_data reads the training asset too, and says so.
- past_production_window: the oldest production window; later windows are compared with it.

Production data, first found wins:
1. the stage-5 endpoint's inference log, in Azure ML's data-collector layout
   `inference-log/<endpoint>/<deployment>/model_inputs|model_outputs/YYYY/MM/DD/HH/*.jsonl` (or a
   `modelDataCollector/...` folder under `lake/`): one JSON object per request and stream, `data` =
   the request rows or the predictions, `correlationid` joining inputs and outputs. Windows are the
   months of the inputs' time column (rows without one, e.g. smoke-test requests, are left out and
   counted); ground truth is joined later on the feature table's key, from the sample's production
   files (their label column) when `ground_truth_available` is on;
2. the sample's production windows `sample-data/production/*.parquet` (stage 4's generator: July
   like the training window, August drifted on purpose), one window per file, with no model outputs
   (prediction drift, attribution and performance say "not computed" and why).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AcceleratorError
from .engine import Window

COLLECTOR = "modelDataCollector"
INFERENCE_LOG = "inference-log"  # where the stage-5 endpoint's collector writes (modeling/endpoint.py)
SAMPLE_WINDOWS = Path("sample-data") / "production"


class MonitoringDataError(AcceleratorError):
    """The baseline cannot be read: names the asset and what to do. (Production problems never raise.)"""


@dataclass
class Sources:
    baseline: Any  # DataFrame
    baseline_label: str  # e.g. "churn-features:1 (training data asset)"
    windows: list[Window]
    production_source: str  # "inference_log" | "sample_windows" | "none"
    production_label: str
    label_column: str | None
    id_column: str | None
    time_column: str | None
    notes: list[str] = field(default_factory=list)
    baseline_record: dict[str, Any] | None = None


def _read_parquet_folder(path: Path) -> Any:
    import pandas as pd

    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise MonitoringDataError(f"{path} holds no Parquet file")
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def champion_asset(project_dir: Path, model_name: str | None) -> str | None:
    """The data asset version (`name:version`) the registry's champion was trained on, if known."""
    from ..tracking import project_client, tracking_dir

    if not model_name or not (tracking_dir(project_dir) / "mlflow.db").is_file():
        return None
    try:
        version = project_client(project_dir).get_model_version_by_alias(model_name, "champion")
    except Exception:  # no such model or alias yet: fall back to the newest asset version
        return None
    return version.tags.get("data_asset") or None


def baseline_asset(project_dir: Path, data_settings: Any, model_name: str | None = None) -> dict[str, Any]:
    """The champion's training data version when the registry knows it, else the newest version."""
    from ..dataprep import DataPrepError
    from ..dataprep.versioning import Registry

    name = data_settings.feature_table.name if data_settings is not None else None
    registry = Registry(project_dir)
    ref = champion_asset(project_dir, model_name)
    if ref and ":" in ref:
        asset, version = ref.split(":", 1)
        try:
            return registry.get(asset, version)
        except DataPrepError:
            pass  # the champion names a version this project no longer has: use the newest
    try:
        return registry.get(name) if name else registry.get(registry.names()[0])
    except (DataPrepError, IndexError):
        raise MonitoringDataError(
            f"no baseline: the feature table asset '{name}' is not registered yet; run stage 4 (mlops-accelerator "
            "run data) first") from None


def _time_column(frame: Any, preferred: str | None) -> str | None:
    import pandas as pd

    if preferred and preferred in frame.columns:
        return preferred
    return next((c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c].dtype)), None)


def find_inference_logs(project_dir: Path) -> list[Path]:
    """Deployment folders `<endpoint>/<deployment>` holding model inputs: the stage-5 endpoint's
    `inference-log/`, or a `modelDataCollector/` folder copied from Azure into the lake."""
    project_dir = Path(project_dir)
    found = [p.parent for p in (project_dir / INFERENCE_LOG).glob("*/*/model_inputs") if p.is_dir()]
    lake = project_dir / "lake"
    if lake.is_dir():
        found += [p.parent for p in lake.glob(f"**/{COLLECTOR}/*/*/model_inputs") if p.is_dir()]
    return sorted(found, key=lambda p: max((f.stat().st_mtime for f in p.rglob("*.jsonl")), default=0))


def _records(data: Any) -> list[Any]:
    if isinstance(data, dict) and "columns" in data and "data" in data:  # pandas split orient
        return [dict(zip(data["columns"], row, strict=False)) for row in data["data"]]
    if isinstance(data, dict) and "input_data" in data:
        return _records(data["input_data"])
    if isinstance(data, dict) and "predictions" in data:
        return _records(data["predictions"])
    return list(data) if isinstance(data, list) else [data]


def read_collected(stream_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of one collector stream (model_inputs or model_outputs) with their correlation ids."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for f in sorted(stream_dir.rglob("*.jsonl")):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{f.name} line {n}: not JSON ({exc.msg}); skipped")
                continue
            cid = event.get("correlationid") or event.get("id") or f"{f.name}:{n}"
            for i, rec in enumerate(_records(event.get("data", []))):
                rows.append({"_correlation": f"{cid}:{i}", "_time": event.get("time"),
                             "_value": rec})
    return rows, problems


def inference_log_windows(deployment_dir: Path, time_column: str | None, id_column: str | None,
                          ground_truth: Any = None) -> tuple[list[Window], list[str], dict[str, int]]:
    import pandas as pd

    inputs, p1 = read_collected(deployment_dir / "model_inputs")
    outputs, p2 = (read_collected(deployment_dir / "model_outputs")
                   if (deployment_dir / "model_outputs").is_dir() else ([], []))
    counts = {"model_inputs": len(inputs), "model_outputs": len(outputs)}
    notes = p1 + p2
    if not inputs:
        return [Window("inference-log", pd.DataFrame(), source=str(deployment_dir))], notes + [
            "the inference log has no model inputs yet (empty log)"], counts
    frame = pd.DataFrame([r["_value"] if isinstance(r["_value"], dict) else {"value": r["_value"]}
                          for r in inputs])
    frame["_correlation"] = [r["_correlation"] for r in inputs]
    preds = None
    if outputs:
        out = {r["_correlation"]: (next(iter(r["_value"].values())) if isinstance(r["_value"], dict)
                                   else r["_value"]) for r in outputs}
        preds = frame["_correlation"].map(out)
        if preds.isna().all():
            notes.append("model outputs were collected but none joins an input by correlation id")
            preds = None
    tcol = _time_column(frame, time_column)
    if tcol is None and time_column and time_column in frame.columns:
        tcol = time_column
    if tcol and not pd.api.types.is_datetime64_any_dtype(frame[tcol].dtype):
        frame[tcol] = pd.to_datetime(frame[tcol], errors="coerce")
    windows = []
    if tcol and frame[tcol].notna().any():
        keys = frame[tcol].dt.strftime("%Y-%m")
        untimed = int(keys.isna().sum())
        if untimed:
            notes.append(f"{untimed} logged row(s) carry no {tcol} (e.g. smoke-test requests): in no window")
    else:
        keys = pd.Series(["inference-log"] * len(frame))
    for key in sorted(keys.dropna().unique()):
        mask = (keys == key).to_numpy()
        part = frame[mask].drop(columns=["_correlation"]).reset_index(drop=True)
        p = preds[mask].reset_index(drop=True) if preds is not None else None
        windows.append(Window(key, part, p, ground_truth, id_column, source=str(deployment_dir)))
    return windows, notes, counts


def sample_windows(project_dir: Path, label: str | None, id_column: str | None) -> list[Window]:
    import pandas as pd

    folder = Path(project_dir) / SAMPLE_WINDOWS
    out = []
    for f in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
        frame = pd.read_parquet(f)
        gt = frame[[id_column, label]] if label in frame.columns and id_column in frame.columns else None
        inputs = frame.drop(columns=[label]) if label in frame.columns else frame
        out.append(Window(f.stem, inputs, None, gt, id_column, source=f.relative_to(project_dir).as_posix()))
    return out


def load_sources(project_dir: str | Path, monitor: Any, data_settings: Any, model_name: str | None = None) -> Sources:
    """The baseline and every production window for one pass (production problems become notes)."""
    import pandas as pd

    project_dir = Path(project_dir).resolve()
    ft = data_settings.feature_table if data_settings is not None else None
    label = ft.label_column if ft else None
    idc = ft.join_key if ft else None
    split_time = getattr(getattr(data_settings, "data_splits", None), "time_column", None)
    record = baseline_asset(project_dir, data_settings, model_name)
    base = _read_parquet_folder(project_dir / record["local_path"])
    tcol = _time_column(base, split_time)
    notes: list[str] = []
    base_label = f"{record['name']}:{record['version']} (training data asset)"
    if monitor.reference_data == "validation_data":
        notes.append("reference_data is validation_data: the local target registers no separate validation "
                     "asset, so the training asset is the baseline")

    logs = find_inference_logs(project_dir)
    if logs:
        gt = None
        sample = sample_windows(project_dir, label, idc)
        if sample and monitor.ground_truth_available:
            gt = pd.concat([w.ground_truth for w in sample if w.ground_truth is not None], ignore_index=True)
        windows, more, counts = inference_log_windows(logs[-1], tcol, idc, gt)
        notes += more
        source, plabel = "inference_log", f"inference log {logs[-1].relative_to(project_dir).as_posix()}"
        if len(logs) > 1:
            notes.append(f"{len(logs)} deployments log inputs; monitoring the newest folder {logs[-1].name}")
    else:
        windows = sample_windows(project_dir, label, idc)
        source = "sample_windows" if windows else "none"
        plabel = (f"sample production windows {SAMPLE_WINDOWS.as_posix()}/ (no stage-5 inference log yet)"
                  if windows else "no production data (no inference log, no sample windows)")
    if monitor.reference_data == "past_production_window" and len(windows) > 1:
        first = windows.pop(0)
        base, base_label = first.inputs, f"production window {first.name} (past production window)"
    return Sources(base, base_label, windows, source, plabel, label, idc, tcol, notes, record)
