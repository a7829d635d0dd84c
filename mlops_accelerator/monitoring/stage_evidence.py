"""What the stage-6 notebooks record for the checks (S6-01..08), read from what exists locally.

Each function returns the value of one evidence key (checks/monitor.py documents the shapes); the
notebooks write them with literal keys. Nothing is invented: no MLflow store means no jobs, no
inference log means no endpoint data, and the local target's "delivery" of a test alert is the
outbox file it renders (it never sends mail), which the evidence says in `delivered_to`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def recent_jobs(project_dir: Path, n: int) -> list[dict[str, Any]]:
    """The newest MLflow runs of the project's store (parents only), with their metrics."""
    from ..tracking import tracking_dir, tracking_uri

    if not (tracking_dir(project_dir) / "mlflow.db").is_file():
        return []
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri(project_dir))
    ids = [e.experiment_id for e in client.search_experiments()]
    if not ids:
        return []
    runs = client.search_runs(ids, filter_string="", max_results=max(n * 5, 20),
                              order_by=["attributes.start_time DESC"])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags][:n]
    return [{"name": r.info.run_name or r.info.run_id, "run_id": r.info.run_id, "status": r.info.status,
             "metrics": {k: float(v) for k, v in r.data.metrics.items()}} for r in parents]


def endpoints(project_dir: Path, models: Any, monitor: Any, deployment_dirs: list[Path]) -> list[dict[str, Any]]:
    """The local online endpoint as monitoring sees it: its deployment, collector streams and traffic."""
    ep = models.online_endpoint.name
    out = []
    for d in deployment_dirs:
        if d.parent.name != ep:
            continue
        streams = {s: any((d / s).rglob("*.jsonl")) for s in ("model_inputs", "model_outputs")}
        out.append({"name": ep, "environment": "local", "deployments": [{
            "name": d.name, "app_insights_enabled": bool(monitor.app_insights_on_endpoints),
            "telemetry_present": streams["model_inputs"],
            "telemetry": "the local endpoint's request log (Application Insights exists only on Azure)",
            "data_collector": streams}]})
    return out


def collected_data(project_dir: Path, deployment_dirs: list[Path]) -> dict[str, Any]:
    from .data import read_collected

    out: dict[str, Any] = {}
    for stream in ("model_inputs", "model_outputs"):
        rows, path = 0, None
        for d in deployment_dirs:
            if (d / stream).is_dir():
                rows += len(read_collected(d / stream)[0])
                path = (d / stream).relative_to(project_dir).as_posix()
        out[stream] = {"rows": rows, "path": path}
    return out


def monitor_record(monitor: Any, schedule: dict[str, Any]) -> dict[str, Any]:
    """The monitor as created: the schedule YAML loaded back by azure-ai-ml, plus the local watcher."""
    return {"name": monitor.monitor_name, "schedule": schedule.get("cron") if schedule.get("valid") else None,
            "signals": [{"name": n, "type": s["type"], "alert_enabled": s["alert_enabled"]}
                        for n, s in schedule.get("signals", {}).items()],
            "alert_emails": schedule.get("emails", []), "spec": str(schedule.get("file", "")),
            "valid": bool(schedule.get("valid")), "problems": schedule.get("problems", []),
            "local_watch": f"mlops-accelerator monitor watch --every 1h (cron {monitor.monitor_schedule.cron})"}


def retraining_record(monitor: Any, has_stage5: bool, crontab: str, last: dict[str, Any] | None) -> dict[str, Any]:
    target = "mlops-accelerator run models"
    schedule = ({"name": "retrain-schedule", "cron": monitor.retrain_schedule, "target": target,
                 "target_valid": has_stage5, "crontab": crontab}
                if monitor.retraining_trigger in ("schedule", "both") else None)
    route = ({"route": "local runner: monitoring alert -> run_stages(models)", "target": target,
              "target_valid": has_stage5, "cooldown_hours": monitor.retrain_cooldown_hours,
              "last": ({k: last.get(k) for k in ("status", "run_id", "decision", "reason", "alert_ids")}
                       if last else None)}
             if monitor.retraining_trigger in ("drift", "both") else None)
    return {"schedule": schedule, "drift_route": route}


def alerts_record(monitor: Any, test: dict[str, Any]) -> dict[str, Any]:
    return {"action_group": {"name": monitor.action_group_name,
                             "receivers": [{"kind": "email", "address": e} for e in monitor.alert_emails]},
            "test_alert_delivered": bool(test.get("delivered")),
            "delivered_to": "the local outbox (rendered and read back; the local target never sends mail): "
                            + ", ".join(test.get("files", []))}
