"""One monitoring pass on a project: read, compute, alert, report, retrain; record it all.

    from mlops_accelerator.monitoring.passes import monitor_pass
    outcome = monitor_pass(project, out_dir)        # the notebook and `mlops-accelerator monitor run`

Writes into `out_dir`: `results.json` (every value, every signal not computed and why),
`alerts.json`, `notifications/` (rendered, never sent), `monitoring-report.md|html` with charts,
and appends to the ledger: `monitor_pass` (complete or partial), one `alert_raised` per alert,
and the `retraining` events of the loop.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


@dataclass
class PassOutcome:
    pass_id: str
    status: str  # complete | partial | failed
    out_dir: Path
    production_source: str
    production_label: str
    baseline_label: str
    windows: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    retraining: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    duration_s: float = 0.0
    collected_rows: dict[str, int] = field(default_factory=dict)

    @property
    def not_computed(self) -> list[dict[str, str]]:
        return [{"window": w["window"], **n} for w in self.windows for n in w["not_computed"]]


def settings_of(project: Any) -> tuple[Any, Any, str, Any]:
    """(monitor, data, project name, models settings), validated as every door validates them."""
    from ..catalogue import stage_slugs
    from ..settings.parameters import from_parameters

    params = {s: project.effective_settings(s) for s in stage_slugs()}  # cross-stage rules read others
    return (from_parameters("monitor", params), from_parameters("data", params),
            params["foundations"].get("project_name") or project.name, from_parameters("models", params))


def compute(sources: Any, signals: list[Any]) -> list[Any]:
    from .engine import Baseline, FeatureBaseline, evaluate

    base = Baseline.from_frame(sources.baseline, label=sources.label_column, id_column=sources.id_column,
                               name=sources.baseline_label)
    with_predictions = [w for w in sources.windows if w.predictions is not None]
    reference = None
    if len(with_predictions) > 1:  # predictions are compared with the earliest window's predictions
        first = with_predictions[0]
        kind = base.label.kind if base.label is not None else None
        reference = FeatureBaseline.of(first.name, first.predictions, kind)
    return [evaluate(base, w, signals, reference) for w in sources.windows]


def monitor_pass(project: Any, out_dir: str | Path, *, now: datetime | None = None,
                 templates_root: Path | None = None, retrain: bool = True, sources: Any = None,
                 settings: tuple[Any, Any, str, Any] | None = None, charts: bool = True) -> PassOutcome:
    from . import alerts as A
    from . import retraining
    from .data import MonitoringDataError, load_sources

    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    ts = now.isoformat(timespec="seconds")
    pass_id = now.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    monitor, data, project_name, models = settings or settings_of(project)
    try:
        sources = sources or load_sources(project.root, monitor, data, models.model_registration.name)
    except MonitoringDataError as exc:
        project.record("monitor_pass", pass_id=pass_id, status="failed", reason=str(exc))
        raise
    results = compute(sources, monitor.monitor_signals)
    alerts = A.alerts_from(pass_id, results, ts)
    outcome = PassOutcome(pass_id, "complete", out, sources.production_source, sources.production_label,
                          sources.baseline_label, notes=list(sources.notes), alerts=alerts)
    outcome.windows = [asdict(r) | {"breaches": len(r.breaches)} for r in results]
    if not results or any(r.not_computed for r in results):
        outcome.status = "partial"
    (out / "results.json").write_text(json.dumps({
        "pass_id": pass_id, "time": ts, "baseline": sources.baseline_label,
        "production": sources.production_label, "windows": outcome.windows, "notes": outcome.notes},
        indent=2, default=str), encoding="utf-8")
    (out / "alerts.json").write_text(json.dumps(alerts, indent=2), encoding="utf-8")
    outcome.files = {"results": "results.json", "alerts": "alerts.json"}
    notes = A.write_notifications(alerts, out, monitor, project_name)
    project.record("monitor_pass", pass_id=pass_id, status=outcome.status, windows=[r.window for r in results],
                   production=sources.production_source, baseline=sources.baseline_label,
                   alerts=[a["alert_id"] for a in alerts],
                   not_computed=[f"{n['window']}: {n['signal']}/{n['feature']}: {n['reason']}"
                                 for n in outcome.not_computed][:50],
                   out_dir=_rel(project, out))
    for a in alerts:
        project.record("alert_raised", **{k: a[k] for k in ("alert_id", "signal", "pass_id", "window", "features")},
                       signal_type=a["type"], breaches=a["breaches"],
                       notifications=[n for n in notes if a["alert_id"] in n])
    if retrain and alerts:
        outcome.retraining = retraining.trigger(project, alerts, monitor, now=now, templates_root=templates_root)
    from .report import write_report

    outcome.duration_s = round(time.perf_counter() - started, 2)
    outcome.files |= write_report(outcome, sources, results, project, monitor, charts=charts)
    return outcome


def _rel(project: Any, path: Path) -> str:
    try:
        return path.resolve().relative_to(project.root).as_posix()
    except ValueError:
        return str(path)


def summary_rows(outcome: PassOutcome) -> list[tuple[str, ...]]:
    """Window, rows, values computed, breaches, not computed: the table people read first."""
    return [(w["window"], str(w["rows"]), str(len(w["values"])), str(w["breaches"]), str(len(w["not_computed"])))
            for w in outcome.windows]


def crontab(project_root: Path, monitor: Any) -> str:
    """Crontab lines for unattended local use; the project path is shell-quoted, the cron fields are
    the settings' validated expressions."""
    import shlex

    where = shlex.quote(str(project_root))
    lines = ["# mlops-accelerator, stage 6 on the local target: add with 'crontab -e' (times are this machine's)",
             f"{monitor.monitor_schedule.cron} cd {where} && mlops-accelerator monitor run "
             ">> .mlops-accelerator/monitor-cron.log 2>&1"]
    if monitor.retraining_trigger in ("schedule", "both"):
        lines.append(f"{monitor.retrain_schedule} cd {where} && mlops-accelerator run models "
                     ">> .mlops-accelerator/monitor-cron.log 2>&1")
    return "\n".join(lines) + "\n"
