"""The monitoring report a person reads first (Markdown and HTML), with charts and the audit trail.

- what was compared (baseline, production source, windows), the alerts, per window a table of
  every signal/feature/metric value against its threshold, what was not computed and why;
- `drift-distributions.png`: per feature, baseline vs production distribution of the newest window
  (numerical: densities on the baseline's bins; categorical: shares per category), breached in red;
- `drift-over-time.png`: each feature's drift metric per window against its threshold;
- the audit trail from the ledger: alerts, retraining runs and their decisions, model approvals
  (sign-offs) and stage-5 runs, who did what and when.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

MAX_FEATURES = 24
AUDIT_TYPES = ("monitor_pass", "alert_raised", "retraining", "model_approval", "signoff", "run_finished")


def _md_escape(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def audit_trail(project: Any, limit: int = 200) -> list[dict[str, str]]:
    """Who did what, when: monitoring, alerts, retraining decisions, approvals, stage-5 runs."""
    rows = []
    for e in project.events():
        kind = e["type"]
        if kind not in AUDIT_TYPES:
            continue
        if kind == "run_finished" and "models" not in (e.get("stages") or {}):
            continue
        if kind == "signoff" and not str(e.get("item", "")).startswith(("S5", "S6")):
            continue
        if kind == "monitor_pass":
            what = f"monitoring pass {e.get('pass_id')}: {e.get('status')}, {len(e.get('alerts') or [])} alert(s)"
        elif kind == "alert_raised":
            what = (f"alert {e.get('alert_id')}: {e.get('signal')} on {', '.join(e.get('features') or [])} "
                    f"({e.get('window')})")
        elif kind == "retraining":
            what = (f"retraining {e.get('status')}"
                    + (f", run {e['run_id']}" if e.get("run_id") else "")
                    + (f", decision {e['decision']}" if e.get("decision") else "")
                    + f" (alerts {', '.join(e.get('alert_ids') or [])})"
                    + (f": {e['reason']}" if e.get("reason") else ""))
        elif kind == "model_approval":
            what = (f"model {e.get('model')} {'approved' if e.get('approved') else 'not approved'} "
                    f"({e.get('mode')}" + (f", as {e['role']}" if e.get("role") else "") + f"): {e.get('reason')}")
        elif kind == "signoff":
            what = f"sign-off {e.get('item')} as {e.get('role')}" + (f": {e['comment']}" if e.get("comment") else "")
        else:
            what = f"stage-5 run {e.get('run_id')}: {e['stages']['models'].get('status')}"
        rows.append({"time": e["ts"], "actor": str(e.get("by") or e.get("actor") or ""), "event": kind,
                     "what": what})
    return rows[-limit:]


def monitoring_status(project: Any, events: list[dict[str, Any]] | None = None) -> list[str]:
    """Lines for `status`: the last monitoring pass, the last retraining run's decision, and whether
    later alerts were held back by the cooldown (from the ledger only; `events` if already read)."""
    last_pass = finished = latest = None
    for e in project.events() if events is None else events:
        if e["type"] == "monitor_pass":
            last_pass = e
        elif e["type"] == "retraining":
            latest = e
            if e.get("status") == "finished":
                finished = e
    lines = []
    if last_pass:
        lines.append(f"Monitoring: pass {last_pass['pass_id']} {last_pass['status']} at {last_pass['ts'][:16]}, "
                     f"{len(last_pass.get('alerts') or [])} alert(s); report in {last_pass.get('out_dir', '?')}/")
    if finished:
        lines.append(f"Retraining: run {finished.get('run_id')} {finished.get('run_status')}, decision "
                     f"{finished.get('decision')}: {finished.get('reason')}")
    if latest and latest is not finished:
        lines.append(f"Retraining, latest: {latest['status']}: {latest.get('reason', '')}")
    return lines


def _charts(sources: Any, results: list[Any], folder: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from .engine import FeatureBaseline
    from .metrics import binned_counts

    files: dict[str, str] = {}
    if not sources.windows or not results:
        return files
    newest, res = sources.windows[-1], results[-1]
    drift = {(v["feature"]): v for v in res.values if v["type"] == "data_drift"}
    frame = newest.inputs
    feats = [c for c in sources.baseline.columns if c in frame.columns and c not in
             (sources.id_column, sources.label_column, sources.time_column)
             and not pd.api.types.is_datetime64_any_dtype(sources.baseline[c].dtype)][:MAX_FEATURES]
    if feats:
        ncols = 3
        nrows = (len(feats) + ncols - 1) // ncols
        fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 2.5 * nrows), squeeze=False)
        for ax in axes.flat[len(feats):]:
            ax.axis("off")
        for ax, feat in zip(axes.flat, feats, strict=False):
            fb = FeatureBaseline.of(feat, sources.baseline[feat])
            if fb.kind == "numerical" and fb.edges is not None:
                prod = pd.to_numeric(frame[feat], errors="coerce").dropna().to_numpy(dtype="float64")
                edges = np.concatenate([[fb.edges[0] - (fb.edges[1] - fb.edges[0])], fb.edges,
                                        [fb.edges[-1] + (fb.edges[1] - fb.edges[0])]])
                for vals, colour, label in ((fb.values, "#4c72b0", "baseline"), (prod, "#dd8452", newest.name)):
                    c = binned_counts(vals, fb.edges) if len(vals) else np.zeros(len(edges) - 1)
                    ax.stairs(c / max(c.sum(), 1), edges, color=colour, label=label, linewidth=1.5)
            else:
                b = fb.values / max(int(fb.values.sum()), 1)
                p = frame[feat].dropna().astype(str).value_counts(normalize=True)
                cats = list(dict.fromkeys([*b.index, *p.index]))[:12]
                x = np.arange(len(cats))
                ax.bar(x - 0.2, [b.get(c, 0) for c in cats], 0.4, color="#4c72b0", label="baseline")
                ax.bar(x + 0.2, [p.get(c, 0) for c in cats], 0.4, color="#dd8452", label=newest.name)
                ax.set_xticks(x, [str(c)[:10] for c in cats], rotation=45, fontsize=7)
            v = drift.get(feat)
            title = f"{feat}" + (f"\n{v['metric']} {v['value']:.3g}" if v else "")
            ax.set_title(title, fontsize=8, color="#c0392b" if v and v["breached"] else "black")
            ax.tick_params(labelsize=7)
        axes.flat[0].legend(fontsize=7)
        fig.suptitle(f"Baseline vs production ({newest.name}); red = drift alert", fontsize=10)
        fig.subplots_adjust(hspace=0.9, wspace=0.3)
        fig.savefig(folder / "drift-distributions.png", dpi=72)
        plt.close(fig)
        files["distributions_chart"] = "drift-distributions.png"
    series: dict[str, list[float]] = {}
    thresholds: dict[str, float] = {}
    for r in results:
        for v in r.values:
            if v["type"] == "data_drift":
                key = f"{v['feature']} ({v['metric']})"
                series.setdefault(key, [float("nan")] * len(results))[results.index(r)] = v["value"]
                thresholds[key] = v["threshold"]
    if series:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        names = [r.window for r in results]
        for key, ys in series.items():
            ax.plot(names, ys, marker="o", label=key)
        for t in sorted(set(thresholds.values())):
            ax.axhline(t, color="#c0392b", linestyle="--", linewidth=1)
        ax.set_ylabel("drift metric")
        ax.set_title("Data drift per window (dashed: threshold)", fontsize=10)
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
        fig.subplots_adjust(right=0.6)
        fig.savefig(folder / "drift-over-time.png", dpi=72)
        plt.close(fig)
        files["over_time_chart"] = "drift-over-time.png"
    return files


def _sections(outcome: Any, results: list[Any], audit: list[dict[str, str]]) -> list[tuple[str, Any]]:
    """Report content as (kind, payload) blocks, rendered to Markdown or HTML."""
    out: list[tuple[str, Any]] = [
        ("h1", "Model monitoring report"),
        ("p", f"Pass {outcome.pass_id}: {outcome.status}. Baseline: {outcome.baseline_label}. "
              f"Production data: {outcome.production_label}."),
    ]
    out.append(("h2", f"Alerts ({len(outcome.alerts)})"))
    out.append(("table", (("Alert", "Window", "Signal", "Features", "Breaches"),
                          [(a["alert_id"], a["window"], a["signal"], ", ".join(a["features"]),
                            "; ".join(f"{b['feature']} {b['metric']}={b['value']:.3g} (threshold {b['threshold']:g})"
                                      for b in a["breaches"])) for a in outcome.alerts])))
    if outcome.retraining:
        r = outcome.retraining
        out.append(("p", f"Retraining: {r.get('status')}" + (f", run {r['run_id']}" if r.get("run_id") else "")
                    + (f", decision {r['decision']}" if r.get("decision") else "")
                    + (f". {r['reason']}" if r.get("reason") else "")))
    for name, alt in (("distributions_chart", "baseline vs production"), ("over_time_chart", "drift over time")):
        if name in outcome.files:
            out.append(("img", (outcome.files[name], alt)))
    for r in results:
        out.append(("h2", f"Window {r.window} ({r.rows} rows)"))
        out.append(("table", (("Signal", "Feature", "Metric", "Value", "Threshold", "Alert"),
                              [(v["signal"], v["feature"], v["metric"], _fmt(v["value"]), _fmt(v["threshold"]),
                                "BREACH" if v["breached"] else "") for v in r.values])))
        if r.not_computed:
            out.append(("list", [f"not computed: {n['signal']} / {n['feature']}: {n['reason']}"
                                 for n in r.not_computed]))
        if r.notes:
            out.append(("list", r.notes))
    if outcome.notes:
        out += [("h2", "Notes"), ("list", outcome.notes)]
    out.append(("h2", "Audit trail (from the ledger)"))
    out.append(("table", (("Time", "Who", "Event", "What"),
                          [(a["time"], a["actor"], a["event"], a["what"]) for a in audit])))
    return out


def _markdown(blocks: list[tuple[str, Any]]) -> str:
    lines: list[str] = []
    for kind, x in blocks:
        if kind == "h1":
            lines += [f"# {_md_escape(x)}", ""]
        elif kind == "h2":
            lines += [f"## {_md_escape(x)}", ""]
        elif kind == "p":
            lines += [_md_escape(x), ""]
        elif kind == "img":
            lines += [f"![{x[1]}]({x[0]})", ""]
        elif kind == "list":
            lines += [f"- {_md_escape(i)}" for i in x] + [""]
        else:
            head, rows = x
            if not rows:
                lines += ["(none)", ""]
                continue
            lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows] + [""]
    return "\n".join(lines)


def _html(blocks: list[tuple[str, Any]]) -> str:
    e = html.escape
    parts = ["<!doctype html><meta charset='utf-8'><title>Model monitoring report</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}td,th{border:1px solid #ccc;"
             "padding:3px 6px;font-size:13px}table{border-collapse:collapse}.b{color:#c0392b;font-weight:bold}</style>"]
    for kind, x in blocks:
        if kind in ("h1", "h2"):
            parts.append(f"<{kind}>{e(str(x))}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{e(str(x))}</p>")
        elif kind == "img":
            parts.append(f"<p><img src='{e(x[0])}' alt='{e(x[1])}'></p>")
        elif kind == "list":
            parts.append("<ul>" + "".join(f"<li>{e(str(i))}</li>" for i in x) + "</ul>")
        else:
            head, rows = x
            if not rows:
                parts.append("<p>(none)</p>")
                continue
            parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>" + "".join(
                "<tr>" + "".join(f"<td class='b'>{e(str(c))}</td>" if c == "BREACH" else f"<td>{e(str(c))}</td>"
                                 for c in row) + "</tr>" for row in rows) + "</table>")
    return "\n".join(parts)


def write_report(outcome: Any, sources: Any, results: list[Any], project: Any, monitor: Any,
                 charts: bool = True) -> dict[str, str]:
    folder = Path(outcome.out_dir)
    files = _charts(sources, results, folder) if charts else {}
    outcome.files |= files
    blocks = _sections(outcome, results, audit_trail(project))
    (folder / "monitoring-report.md").write_text(_markdown(blocks), encoding="utf-8")
    (folder / "monitoring-report.html").write_text(_html(blocks), encoding="utf-8")
    return files | {"report_md": "monitoring-report.md", "report_html": "monitoring-report.html"}
