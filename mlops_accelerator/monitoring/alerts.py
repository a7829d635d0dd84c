"""Alerts from breached signals, and the notifications they would send (rendered, never sent).

One alert per (window, signal name) with at least one breached, alert-enabled metric; it lists
every breached feature and metric. Each alert is a ledger event (`alert_raised`), a line of the
pass's `alerts.json`, and, per alert channel of the settings, the message that would be sent:
- email: an RFC 5322 message (`notifications/<alert>.eml`) to the alert e-mails;
- azure_monitor_action_group: the Azure Monitor common alert schema payload the action group's
  receivers would get (`notifications/<alert>.action-group.json`);
- event_grid: a Microsoft.MachineLearningServices data-drift event (`notifications/<alert>.event-grid.json`).
Nothing here opens a network connection: sending is Azure Monitor's job once the monitor runs there.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def alerts_from(pass_id: str, results: list[Any], ts: str) -> list[dict[str, Any]]:
    out = []
    for res in results:
        by_signal: dict[str, list[dict[str, Any]]] = {}
        for v in res.breaches:
            if v["alert_enabled"]:
                by_signal.setdefault(v["signal"], []).append(v)
        for signal, hits in by_signal.items():
            digest = hashlib.sha256(f"{pass_id}|{res.window}|{signal}".encode()).hexdigest()[:10]
            out.append({
                "alert_id": f"alert-{digest}", "pass_id": pass_id, "time": ts, "window": res.window,
                "signal": signal, "type": hits[0]["type"],
                "features": sorted({h["feature"] for h in hits}),
                "breaches": [{k: h[k] for k in ("feature", "metric", "value", "threshold", "direction")}
                             for h in hits],
            })
    return out


def _summary(alert: dict[str, Any]) -> str:
    return "; ".join(f"{b['feature']} {b['metric']} = {b['value']:.4g} "
                     f"({'above' if b['direction'] == 'higher' else 'below'} {b['threshold']:g})"
                     for b in alert["breaches"])


def render_email(alert: dict[str, Any], monitor_name: str, recipients: list[str], project: str) -> str:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["To"] = ", ".join(recipients)
    msg["From"] = "azureml-monitoring@localhost (not sent)"
    subject = (f"[{project}] {monitor_name}: {alert['signal']} breached on "
               f"{', '.join(alert['features'])} ({alert['window']})")
    msg["Subject"] = " ".join(subject.split())[:250]  # column names are data: no line breaks in a header
    msg.set_content(
        f"Model monitor '{monitor_name}' found a breach in production window {alert['window']}.\n\n"
        f"Signal: {alert['signal']} ({alert['type']})\n"
        + "".join(f"- {b['feature']}: {b['metric']} = {b['value']:.4g} "
                  f"({'above' if b['direction'] == 'higher' else 'below'} the threshold {b['threshold']:g})\n"
                  for b in alert["breaches"])
        + f"\nAlert {alert['alert_id']}, pass {alert['pass_id']}, {alert['time']}.\n"
          "This message was rendered by the local target and never sent.\n", cte="8bit")
    return msg.as_string()


def render_action_group(alert: dict[str, Any], monitor_name: str, action_group: str) -> dict[str, Any]:
    return {"schemaId": "azureMonitorCommonAlertSchema", "data": {
        "essentials": {"alertId": alert["alert_id"], "alertRule": monitor_name, "severity": "Sev2",
                       "signalType": "Log", "monitorCondition": "Fired", "monitoringService": "Azure ML",
                       "firedDateTime": alert["time"], "description": _summary(alert),
                       "actionGroupName": action_group},
        "alertContext": {"signal": alert["signal"], "signalType": alert["type"], "window": alert["window"],
                         "breaches": alert["breaches"]}}}


def render_event_grid(alert: dict[str, Any], monitor_name: str) -> dict[str, Any]:
    return {"id": alert["alert_id"], "eventType": "Microsoft.MachineLearningServices.DatasetDriftDetected",
            "subject": f"monitors/{monitor_name}/signals/{alert['signal']}", "eventTime": alert["time"],
            "data": {"window": alert["window"], "features": alert["features"], "breaches": alert["breaches"]},
            "dataVersion": "2", "metadataVersion": "1"}


def write_notifications(alerts: list[dict[str, Any]], folder: Path, monitor: Any, project: str) -> list[str]:
    """Render every alert for every configured channel; returns the files written (relative to folder)."""
    written: list[str] = []
    notes = folder / "notifications"
    for a in alerts:
        notes.mkdir(parents=True, exist_ok=True)
        if "email" in monitor.alert_channels and monitor.alert_emails:
            p = notes / f"{a['alert_id']}.eml"
            p.write_text(render_email(a, monitor.monitor_name, list(monitor.alert_emails), project),
                         encoding="utf-8")
            written.append(p.relative_to(folder).as_posix())
        if "azure_monitor_action_group" in monitor.alert_channels:
            p = notes / f"{a['alert_id']}.action-group.json"
            p.write_text(json.dumps(render_action_group(a, monitor.monitor_name, monitor.action_group_name),
                                    indent=2), encoding="utf-8")
            written.append(p.relative_to(folder).as_posix())
        if "event_grid" in monitor.alert_channels:
            p = notes / f"{a['alert_id']}.event-grid.json"
            p.write_text(json.dumps(render_event_grid(a, monitor.monitor_name), indent=2), encoding="utf-8")
            written.append(p.relative_to(folder).as_posix())
    return written


def test_alert(folder: Path, monitor: Any, project: str, ts: str) -> dict[str, Any]:
    """A test alert rendered to the local outbox and read back: the local stand-in for 'Test action group'."""
    alert = {"alert_id": "alert-test", "pass_id": "test", "time": ts, "window": "test", "signal": "test-signal",
             "type": "data_drift", "features": ["(test)"],
             "breaches": [{"feature": "(test)", "metric": "normalized_wasserstein_distance", "value": 1.0,
                           "threshold": 0.1, "direction": "higher"}]}
    written = write_notifications([alert], folder, monitor, project)
    readable = [w for w in written if (folder / w).is_file() and (folder / w).stat().st_size > 0]
    return {"files": readable, "delivered": bool(readable) and len(readable) == len(written)}
