"""Parity, proven locally: the legacy and the migrated training run on the same data, side by side.

The legacy script runs through its own entry point in a subprocess with the offline SDK v1 shim
(`shim/azureml`) first on its path, so `Run.get_context()` records what it logs and
`Dataset.get_by_name` reads the mapped local file. The migrated script runs as its command job
would: `python <script> <args>` in its code folder, each input's path in `AZURE_ML_INPUT_<name>`,
MLflow tracking into the project's SQLite store through `MLFLOW_RUN_ID` (as Azure ML sets it).
Both runs are recorded in MLflow; metrics are compared within the settings' tolerance and the two
models' predictions on a fixed sample of the data.

Only the standard library is imported at module level (checks import `within`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SHIM = Path(__file__).parent / "shim"
RUN_TIMEOUT = 600  # seconds per side


def input_name(dataset: str) -> str:
    """A v1 dataset name as a v2 job input name (letters, digits, underscores), as the codemod spells it."""
    import re

    name = re.sub(r"\W", "_", dataset)
    return name if re.match(r"[A-Za-z_]", name) else f"data_{name}"


def within(tol: Any, legacy: float, migrated: float) -> bool:
    """The settings' rule: every tolerance that is set (> 0) must hold."""
    diff = abs(migrated - legacy)
    if tol.absolute > 0 and diff > tol.absolute:
        return False
    return not (tol.relative_pct > 0 and diff > abs(legacy) * tol.relative_pct / 100)


def tracking_uri(project_dir: str | Path) -> str:
    """The project's local MLflow store (tracking + model registry), SQLite."""
    folder = Path(project_dir) / "mlflow"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'mlflow.db').resolve()}"


def data_version(path: Path, stage4: dict[str, Any] | None) -> str:
    """`name:version` of the stage-4 data asset, else the file's content hash (same file, same string)."""
    if stage4:
        return f"{stage4['name']}:{stage4['version']}"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"file:{path.name}@sha256:{digest}"


def _tail(text: str, n: int = 1500) -> str:
    return text[-n:]


def _env(extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_RUN_ID")}
    base.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONHASHSEED": "0"})
    return {**base, **extra}


class _Side:
    """A training subprocess; a thread collects its output so its duration ends when it does."""

    def __init__(self, cmd: list[str], cwd: Path, env: dict[str, str]):
        import threading

        self.start = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.out: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._collect, daemon=True)
        self.thread.start()

    def _collect(self) -> None:
        stdout, stderr = self.proc.communicate()
        self.out = {"returncode": self.proc.returncode, "stdout": _tail(stdout), "stderr": _tail(stderr),
                    "duration_s": round(time.monotonic() - self.start, 2)}

    def kill(self) -> None:
        self.proc.kill()
        self.thread.join()

    def finish(self, timeout: float) -> dict[str, Any]:
        self.thread.join(max(0.0, timeout - (time.monotonic() - self.start)))
        if self.thread.is_alive():
            self.kill()
            self.out = {"returncode": None, "stdout": "", "stderr": f"stopped after {timeout:g} s",
                        "duration_s": round(time.monotonic() - self.start, 2)}
        out = dict(self.out)
        out["status"] = "succeeded" if out["returncode"] == 0 else "failed"
        return out


def _copy(src: Path, dest: Path) -> None:
    from .inventory import SKIP_DIRS

    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*SKIP_DIRS))


def run_parity(*, legacy_root: str | Path, migrated_root: str | Path, work_dir: str | Path, entry_point: str,
               arguments: list[str], data: dict[str, str], inputs: dict[str, str], model_file: str,
               label_column: str, sample_rows: int, tolerance: Any, project_dir: str | Path,
               experiment: str, stage4_assets: dict[str, dict[str, Any]] | None = None,
               timeout: float = RUN_TIMEOUT) -> dict[str, Any]:
    """Run both sides and compare them. Never touches legacy_root or migrated_root (runs on copies)."""
    legacy_root, migrated_root, work = Path(legacy_root), Path(migrated_root), Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    if not data:
        raise ValueError("parity_run.data is empty: map the legacy dataset name to the local file both runs "
                         "read (e.g. churn-training: data/churn.csv)")
    files = {name: (legacy_root / rel).resolve() for name, rel in data.items()}
    missing = [f"{n}: {p}" for n, p in files.items() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"parity_run.data: no such file for {', '.join(missing)}")
    entry = Path(entry_point)
    for root in (legacy_root, migrated_root):
        if not (root / entry).is_file():
            raise FileNotFoundError(f"parity_run.entry_point: '{entry_point}' is not a file in {root}")
    first = next(iter(files.values()))
    version = data_version(first, (stage4_assets or {}).get(next(iter(files))))
    sides: dict[str, dict[str, Any]] = {}

    # Legacy: its own entry point, SDK v1 replaced by the recording shim; it trains while MLflow starts.
    _copy(legacy_root, work / "legacy")
    record = work / "legacy-v1-run.json"
    record.unlink(missing_ok=True)
    legacy = _Side([sys.executable, entry.name, *arguments], work / "legacy" / entry.parent,
                    {"PYTHONPATH": str(SHIM), "MLOPS_V1_SHIM_RECORD": str(record),
                     "MLOPS_V1_SHIM_DATASETS": json.dumps({k: str(v) for k, v in files.items()})})
    try:
        import logging

        import mlflow
        from mlflow.tracking import MlflowClient

        for name in ("mlflow", "alembic"):  # database set-up chatter is not the reader's business
            logging.getLogger(name).setLevel(logging.WARNING)

        uri = tracking_uri(project_dir)
        mlflow.set_tracking_uri(uri)
        client = MlflowClient(uri)
        exp = client.get_experiment_by_name(experiment)
        exp_id = exp.experiment_id if exp else client.create_experiment(
            experiment, artifact_location=(Path(project_dir) / "mlflow" / "artifacts").resolve().as_uri())
    except BaseException:
        legacy.kill()  # do not leave the training running when MLflow cannot start
        raise
    # Migrated: as its command job runs it; it starts as soon as its MLflow run exists (both train at once).
    _copy(migrated_root, work / "migrated")
    mrun = client.create_run(exp_id, run_name="migrated (SDK v2 command)",
                             tags={"mlops.side": "migrated", "mlops.data_version": version})
    env = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri,  # both: see tracking.tracking_env
           "MLFLOW_RUN_ID": mrun.info.run_id, "MLFLOW_EXPERIMENT_ID": exp_id}
    env.update({f"AZURE_ML_INPUT_{inputs.get(name) or input_name(name)}": str(path) for name, path in files.items()})
    migrated = _Side([sys.executable, entry.name, *arguments], work / "migrated" / entry.parent, env)

    res = legacy.finish(timeout)
    logged = json.loads(record.read_text()) if record.is_file() else {"metrics": {}, "tags": {}}
    res["metrics"] = {k: float(v[-1]) for k, v in logged.get("metrics", {}).items() if v}
    run = client.create_run(exp_id, run_name="legacy (SDK v1, offline shim)",
                            tags={"mlops.side": "legacy", "mlops.data_version": version})
    for k, v in res["metrics"].items():
        client.log_metric(run.info.run_id, k, v)
    for k, v in (logged.get("tags") or {}).items():
        client.set_tag(run.info.run_id, f"v1.{k}", str(v))
    client.set_terminated(run.info.run_id, "FINISHED" if res["status"] == "succeeded" else "FAILED")
    res["mlflow_run_id"] = run.info.run_id
    sides["legacy"] = res

    res = migrated.finish(timeout)
    res["metrics"] = dict(client.get_run(mrun.info.run_id).data.metrics)
    client.set_terminated(mrun.info.run_id, "FINISHED" if res["status"] == "succeeded" else "FAILED")
    res["mlflow_run_id"] = mrun.info.run_id
    sides["migrated"] = res

    metrics = {}
    for name in sorted(set(sides["legacy"]["metrics"]) | set(sides["migrated"]["metrics"])):
        a, b = sides["legacy"]["metrics"].get(name), sides["migrated"]["metrics"].get(name)
        metrics[name] = {"legacy": a, "migrated": b,
                         "within": a is not None and b is not None and within(tolerance, a, b)}
    predictions = compare_predictions(work / "legacy" / entry.parent / model_file,
                                      work / "migrated" / entry.parent / model_file, first, label_column,
                                      sample_rows)
    differing = [n for n, m in metrics.items() if not m["within"]]
    ok = (sides["legacy"]["status"] == sides["migrated"]["status"] == "succeeded" and not differing
          and tolerance.metric in metrics and predictions.get("agreeing") == predictions.get("sample_rows"))
    return {"sides": sides, "metrics": metrics, "predictions": predictions, "data_version": version,
            "differing": differing, "passed": ok, "experiment": experiment, "tracking_uri": uri,
            "model_files": {s: str(work / s / entry.parent / model_file) for s in ("legacy", "migrated")}}


def compare_predictions(legacy_model: Path, migrated_model: Path, data_file: Path, label: str,
                        rows: int) -> dict[str, Any]:
    """Both models on the first `rows` rows of the data (features as the model saw them in training)."""
    import joblib
    import pandas as pd

    for p in (legacy_model, migrated_model):
        if not p.is_file():
            return {"sample_rows": rows, "agreeing": None, "error": f"no model file at {p}"}
    sample = pd.read_csv(data_file).head(rows)
    # The models are the project's own pickles, written by its training code in this run.
    a, b = joblib.load(legacy_model), joblib.load(migrated_model)
    cols = list(getattr(a, "feature_names_in_", [c for c in sample.columns if c != label]))
    x = sample[cols]
    pa, pb = a.predict(x), b.predict(x)
    out: dict[str, Any] = {"sample_rows": int(len(x)), "agreeing": int((pa == pb).sum()), "features": cols}
    if hasattr(a, "predict_proba") and hasattr(b, "predict_proba"):
        out["max_probability_difference"] = float(abs(a.predict_proba(x) - b.predict_proba(x)).max())
    return out


def register_migrated_model(result: dict[str, Any], name: str, metric: str) -> dict[str, Any]:
    """Register the migrated model in the local MLflow registry, tagged with its parity metric."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(result["tracking_uri"])
    run_id = result["sides"]["migrated"]["mlflow_run_id"]
    model_file = Path(result["model_files"]["migrated"])
    client.log_artifact(run_id, str(model_file), "model")
    source = f"{client.get_run(run_id).info.artifact_uri}/model"
    try:
        client.get_registered_model(name)
    except Exception:  # not registered yet
        client.create_registered_model(name)
    value = result["sides"]["migrated"]["metrics"].get(metric)
    tags = {metric: f"{value:.6g}"} if value is not None else {}
    mv = client.create_model_version(name, source, run_id=run_id, tags=tags)
    return {"name": name, "version": str(mv.version), "tags": tags}


def report(result: dict[str, Any], tolerance: Any) -> Any:
    from .doc import Doc

    doc = Doc("Parity report: legacy vs migrated")
    verdict = "PASSED" if result["passed"] else "FAILED"
    doc.para(f"Verdict: **{verdict}**. Both sides ran on the same data ({result['data_version']}); tolerance "
             f"{tolerance.absolute:g} absolute and/or {tolerance.relative_pct:g} % relative (0 = not used), "
             f"parity metric '{tolerance.metric}'.")
    if result["differing"]:
        doc.para("Metrics outside the tolerance: " + ", ".join(result["differing"]) + ".")
    doc.heading("Runs")
    doc.table(["side", "status", "seconds", "MLflow run"],
              [[s, r["status"], r["duration_s"], r["mlflow_run_id"]] for s, r in result["sides"].items()])
    for s, r in result["sides"].items():
        if r["status"] != "succeeded":
            doc.para(f"{s} failed (exit {r['returncode']}):")
            doc.code(r["stderr"])
    doc.heading("Metrics")
    doc.table(["metric", "legacy", "migrated", "difference", "within tolerance"],
              [[n, _fmt(m["legacy"]), _fmt(m["migrated"]),
                _fmt(abs(m["migrated"] - m["legacy"])) if None not in (m["legacy"], m["migrated"]) else "-",
                "yes" if m["within"] else "NO"] for n, m in result["metrics"].items()], "no metric was logged")
    p = result["predictions"]
    doc.heading("Predictions on a fixed sample")
    if p.get("agreeing") is None:
        doc.para(f"Not compared: {p.get('error')}.")
    else:
        doc.para(f"{p['agreeing']} of {p['sample_rows']} predictions agree (first {p['sample_rows']} rows of the "
                 f"data, features {', '.join(p['features'])}); largest class-probability difference "
                 f"{_fmt(p.get('max_probability_difference'))}.")
    doc.para(f"MLflow: experiment '{result['experiment']}' in {result['tracking_uri']}.")
    return doc


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.6g}"
