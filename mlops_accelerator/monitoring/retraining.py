"""Retraining that closes the loop: alert -> stage-5 run through the runner -> candidate -> decision.

A breach of a drift signal (data_drift, prediction_drift) or of model_performance starts stage 5
(`models`) through the runner when the settings' `retraining_trigger` is drift or both. Every step
is a `retraining` ledger event carrying the alert ids, so the ledger links alert -> run -> decision:

- status `started`        the run id and the alerts that caused it;
- status `finished`       the run's status, the candidate model and the decision
                          (`awaiting_approval` when `auto_promote_after_retrain` is never,
                          `promoted` / `rejected` from the stage-5 evaluation otherwise, `failed`);
- status `skipped_cooldown` a run started less than `retrain_cooldown_hours` ago (anti-flapping);
- status `not_started`    stage 5 has no notebooks yet, or the trigger is schedule/manual: said plainly.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

RETRAIN_SIGNALS = ("data_drift", "prediction_drift", "model_performance")
RAN = ("started",)


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def last_started(project: Any) -> dict[str, Any] | None:
    started = [e for e in project.events("retraining") if e.get("status") in RAN]
    return started[-1] if started else None


def cooldown_left(project: Any, hours: int, now: datetime) -> tuple[dict[str, Any] | None, datetime | None]:
    """(the last started retraining, when the next may start) if still inside the cooldown, else (None, None)."""
    last = last_started(project)
    if last is None or hours <= 0:
        return None, None
    until = _parse(last["ts"]) + timedelta(hours=hours)
    return (last, until) if now < until else (None, None)


def _has_stage5_templates(templates_root: Path | None) -> bool:
    from ..catalogue import stage_folder
    from ..resources import templates_dir

    root = Path(templates_root) if templates_root else templates_dir()
    return any((root / stage_folder("models")).glob("*.ipynb"))


def _decision(monitor: Any, stage: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str]:
    """(decision, candidate, why) from the stage-5 run's evidence (evaluation against the champion, approval)."""
    ev = stage.get("evidence") or {}
    candidate = ev.get("model")
    evaluation = ev.get("evaluation") or {}
    approval = ev.get("approval") or {}
    if stage.get("status") != "succeeded":
        return "failed", candidate, f"the stage-5 run failed: {stage.get('error') or 'see its notebooks'}"
    if candidate is None:
        return "rejected", None, f"no model was registered: {evaluation.get('reason') or approval.get('reason')}"
    if evaluation.get("decision") == "reject":
        return "rejected", candidate, f"not better than the champion: {evaluation.get('reason')}"
    if approval.get("approved") and (approval.get("by") or monitor.auto_promote_after_retrain != "never"):
        return "promoted", candidate, f"approved ({approval.get('mode')}): {approval.get('reason')}"
    if monitor.auto_promote_after_retrain == "never":
        ref = approval.get("model") or f"{candidate.get('name')}:{candidate.get('version')}"
        return "awaiting_approval", candidate, (
            f"auto_promote_after_retrain is never: a person approves {ref} ('mlops-accelerator model approve "
            f"{ref} --by NAME --role ROLE')")
    return "awaiting_approval", candidate, str(approval.get("reason") or "awaiting approval")


def trigger(project: Any, alerts: list[dict[str, Any]], monitor: Any, *, now: datetime | None = None,
            templates_root: Path | None = None, run_stages: Any = None) -> dict[str, Any] | None:
    """Start retraining for the alerts that call for it; returns the last ledger event written (or None)."""
    now = now or datetime.now(timezone.utc)
    relevant = [a for a in alerts if a["type"] in RETRAIN_SIGNALS]
    if not relevant:
        return None
    ids = [a["alert_id"] for a in relevant]
    base = {"alert_ids": ids, "signals": sorted({a["signal"] for a in relevant}), "trigger": monitor.retraining_trigger}
    if monitor.retraining_trigger not in ("drift", "both"):
        return project.record("retraining", status="not_started", **base,
                              reason=f"retraining_trigger is {monitor.retraining_trigger}: alerts do not start "
                                     "retraining")
    last, until = cooldown_left(project, monitor.retrain_cooldown_hours, now)
    if last is not None:
        return project.record("retraining", status="skipped_cooldown", **base, last_run_id=last.get("run_id"),
                              reason=f"a retraining run started at {last['ts']} (alerts "
                                     f"{', '.join(last['alert_ids'])}); the {monitor.retrain_cooldown_hours} h "
                                     "cooldown lasts until "
                                     f"{until.isoformat(timespec='seconds')}")
    if not _has_stage5_templates(templates_root):
        return project.record("retraining", status="not_started", **base,
                              reason="stage 5 has no notebooks yet: nothing to run (mlops-accelerator run models)")
    if run_stages is None:
        from ..runner import run_stages
    from ..runner import new_run_id

    run_id = new_run_id()
    project.record("retraining", status="started", run_id=run_id, **base)
    try:
        result = run_stages(project, ["models"], run_id=run_id, templates_root=templates_root)
        stage = result.stages.get("models", {})
        status = result.status
    except Exception as exc:  # invalid settings, no kernel: the failure is recorded, not hidden
        stage, status = {"status": "failed"}, "failed"
        base["error"] = f"{type(exc).__name__}: {exc}"
    decision, candidate, why = _decision(monitor, stage)
    return project.record("retraining", status="finished", run_id=run_id, run_status=status, decision=decision,
                          candidate=candidate, reason=why, **base)
