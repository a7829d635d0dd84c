"""Markdown the stage-6 notebooks display: short tables people read, built from the pass's results."""

from __future__ import annotations

from typing import Any


def _esc(x: Any) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def _table(head: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    if not rows:
        return "(none)"
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                     + ["| " + " | ".join(_esc(c) for c in r) + " |" for r in rows])


def sources_md(sources: Any, replayed: dict[str, Any] | None) -> str:
    lines = [f"**Baseline:** {sources.baseline_label}, {len(sources.baseline):,} rows.",
             f"**Production data:** {sources.production_label}."]
    if replayed is not None:
        if replayed.get("error"):
            lines.append(f"**Replay through the local endpoint:** not done: {replayed['error']}")
        else:
            lines.append(f"**Replay through the local endpoint** `{replayed['endpoint']}/{replayed['deployment']}`: "
                         f"{replayed['rows']:,} rows of {', '.join(replayed['replayed']) or 'no new window'}"
                         + (f" (already in the log: {', '.join(replayed['already'])})" if replayed["already"] else "")
                         + (f"; {replayed['note']}" if replayed.get("note") else ""))
    lines.append(_table(("Window", "Rows", "Model outputs", "Ground truth"),
                        [(w.name, f"{len(w.inputs):,}", "yes" if w.predictions is not None else "no",
                          f"{len(w.ground_truth):,} labels" if w.ground_truth is not None else "not yet")
                         for w in sources.windows]))
    lines += [f"- {n}" for n in sources.notes]
    return "\n\n".join(lines)


def windows_md(outcome: Any) -> str:
    rows = [(w["window"], f"{w['rows']:,}", len(w["values"]), w["breaches"], len(w["not_computed"]))
            for w in outcome.windows]
    text = (f"Pass `{outcome.pass_id}`: **{outcome.status}** in {outcome.duration_s} s.\n\n"
            + _table(("Window", "Rows", "Values", "Breaches", "Not computed"), rows))
    nc = outcome.not_computed
    if nc:
        text += "\n\nNot computed, and why:\n\n" + "\n".join(
            f"- {n['window']}: {n['signal']} / {n['feature']}: {n['reason']}" for n in nc)
    return text


def drift_md(outcome: Any) -> str:
    """Per feature, the data-drift metric of every window against its threshold."""
    windows = [w["window"] for w in outcome.windows]
    table: dict[tuple[str, str], dict[str, str]] = {}
    for w in outcome.windows:
        for v in w["values"]:
            if v["type"] == "data_drift":
                cell = f"{v['value']:.3g}" + (" **ALERT**" if v["breached"] else "")
                table.setdefault((v["feature"], f"{v['metric']} > {v['threshold']:g}"), {})[w["window"]] = cell
    rows = [(f, m, *[cells.get(w, "") for w in windows]) for (f, m), cells in table.items()]
    return _table(("Feature", "Metric", *windows), rows)


def alerts_md(outcome: Any) -> str:
    return _table(("Alert", "Window", "Signal", "Features"),
                  [(a["alert_id"], a["window"], a["signal"], ", ".join(a["features"])) for a in outcome.alerts])


def retraining_md(event: dict[str, Any] | None) -> str:
    if not event:
        return "No alert called for retraining in this pass."
    parts = [f"**{event['status']}**"]
    if event.get("run_id"):
        parts.append(f"stage-5 run `{event['run_id']}` ({event.get('run_status', 'started')})")
    if event.get("decision"):
        parts.append(f"decision **{event['decision']}**")
    if event.get("candidate"):
        c = event["candidate"]
        parts.append(f"candidate {c.get('name')}:{c.get('version')}")
    text = ", ".join(parts) + f"; alerts {', '.join(event.get('alert_ids') or [])}."
    return text + (f"\n\n{event['reason']}" if event.get("reason") else "")


def audit_md(rows: list[dict[str, str]], last: int = 15) -> str:
    return _table(("Time", "Who", "Event", "What"),
                  [(r["time"], r["actor"], r["event"], r["what"]) for r in rows[-last:]])
