"""Project status as data, and the deliverables report (Markdown or self-contained HTML)."""

from __future__ import annotations

import html
from typing import Any

from .deliverables import ItemStatus, statuses
from .workspace import Project


def status_data(project: Project, items: list[ItemStatus] | None = None,
                events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What `status --json`, the REST API and the sidebar show (`events`: the ledger, if already read)."""
    from .catalogue import load_catalogue
    from .settings_cache import validated_settings

    validated = validated_settings(project)
    events = list(project.events()) if events is None else events  # read once: it is most of the work
    items = items if items is not None else statuses(project, events)
    last_runs: dict[str, dict[str, Any]] = {}
    for event in (e for e in events if e["type"] == "run_finished"):
        for slug, outcome in (event.get("stages") or {}).items():
            last_runs[slug] = {"run_id": event.get("run_id"), "status": outcome.get("status"),
                               "ts": event["ts"], "run_dir": event.get("run_dir")}
    stages = []
    for stage in load_catalogue().stages:
        mine = [i for i in items if i.stage == stage.number]
        applicable = [i for i in mine if i.state != "not_applicable"]
        errors = validated.stages[stage.slug].errors
        stages.append({
            "number": stage.number,
            "slug": stage.slug,
            "title": stage.title,
            "roles": list(stage.roles),
            "settings": {"valid": not errors, "errors": errors},
            "deliverables": {
                "done": sum(i.state == "done" for i in applicable),
                "total": len(applicable),
                "failed": sum(i.state == "failed" for i in applicable),
                "awaiting_signoff": sum(i.state == "awaiting_signoff" for i in applicable),
                "not_applicable": len(mine) - len(applicable),
            },
            "last_run": last_runs.get(stage.slug),
            "items": [i.to_dict() for i in mine],
        })
    return {"project": validated.project_name, "root": str(project.root), "stages": stages}


_BADGE = {"done": "done", "failed": "failed", "awaiting_signoff": "awaiting sign-off",
          "todo": "to do", "not_applicable": "n/a"}


def render_markdown(data: dict[str, Any]) -> str:
    lines = [f"# Deliverables report: {data['project']}", ""]
    total = sum(s["deliverables"]["total"] for s in data["stages"])
    done = sum(s["deliverables"]["done"] for s in data["stages"])
    lines += [f"{done} of {total} deliverables done.", "",
              "| Stage | Done | Failed | Awaiting sign-off |", "|---|---|---|---|"]
    for s in data["stages"]:
        d = s["deliverables"]
        lines.append(f"| {s['number']}. {s['title']} | {d['done']}/{d['total']} | {d['failed']} "
                     f"| {d['awaiting_signoff']} |")
    for s in data["stages"]:
        lines += ["", f"## {s['number']}. {s['title']}", ""]
        for i in s["items"]:
            box = "x" if i["state"] == "done" else " "
            lines.append(f"- [{box}] **{i['id']}** {i['text']} — *{_BADGE[i['state']]}*: {i['reason']}")
            if i["check"] and i["check"]["evidence"]:
                lines.append(f"  - evidence: {', '.join(map(str, i['check']['evidence']))}")
            for so in i["signoffs"]:
                comment = f": {so['comment']}" if so["comment"] else ""
                lines.append(f"  - signed off by {so['by']} ({so['role']}) at {so['ts']}{comment}")
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1b1b1f;background:#fafafa}
h1{margin-bottom:.2rem} .sub{color:#555;margin-top:0}
.board{display:grid;grid-template-columns:repeat(7,minmax(150px,1fr));gap:.7rem;margin:1.5rem 0}
.col{background:#fff;border:1px solid #ddd;border-radius:8px;padding:.6rem}
.col h3{font-size:.95rem;margin:.1rem 0 .5rem} .bar{height:6px;background:#eee;border-radius:3px}
.bar span{display:block;height:6px;background:#2e7d32;border-radius:3px}
.card{font-size:.8rem;border-radius:6px;padding:.3rem .4rem;margin:.3rem 0;border-left:4px solid #999;
background:#f4f4f4}
.card.done{border-color:#2e7d32;background:#edf7ee} .card.failed{border-color:#c62828;background:#fdecea}
.card.awaiting_signoff{border-color:#ef6c00;background:#fff4e5} .card.not_applicable{opacity:.5}
table{border-collapse:collapse;width:100%;background:#fff} td,th{border:1px solid #ddd;padding:.35rem .5rem;
font-size:.85rem;vertical-align:top;text-align:left} .state{font-weight:600}
.state.done{color:#2e7d32} .state.failed{color:#c62828} .state.awaiting_signoff{color:#ef6c00}
"""


def render_html(data: dict[str, Any]) -> str:
    e = html.escape
    total = sum(s["deliverables"]["total"] for s in data["stages"])
    done = sum(s["deliverables"]["done"] for s in data["stages"])
    cols = []
    for s in data["stages"]:
        d = s["deliverables"]
        pct = 100 * d["done"] / d["total"] if d["total"] else 100
        cards = "".join(
            f'<div class="card {i["state"]}" title="{e(i["reason"])}"><b>{e(i["id"])}</b> {e(i["text"])}</div>'
            for i in s["items"])
        cols.append(f'<div class="col"><h3>{s["number"]}. {e(s["title"])}</h3>'
                    f'<div class="bar"><span style="width:{pct:.0f}%"></span></div>'
                    f'<small>{d["done"]}/{d["total"]} done</small>{cards}</div>')
    rows = []
    for s in data["stages"]:
        for i in s["items"]:
            evidence = ""
            if i["check"] and i["check"]["evidence"]:
                evidence = "<br>".join(e(str(x)) for x in i["check"]["evidence"])
            signed = "<br>".join(
                f"{e(so['by'])} ({e(so['role'])}), {e(so['ts'])}" + (f": {e(so['comment'])}" if so["comment"] else "")
                for so in i["signoffs"])
            rows.append(f'<tr><td>{e(i["id"])}</td><td>{e(i["text"])}</td><td>{e(i["verification"])}</td>'
                        f'<td class="state {i["state"]}">{_BADGE[i["state"]]}</td><td>{e(i["reason"])}</td>'
                        f"<td>{evidence}</td><td>{signed}</td></tr>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Deliverables: {e(data['project'])}</title>
<style>{_CSS}</style></head><body>
<h1>Deliverables: {e(data['project'])}</h1>
<p class="sub">{done} of {total} deliverables done</p>
<div class="board">{''.join(cols)}</div>
<table><thead><tr><th>Item</th><th>Deliverable</th><th>Proven by</th><th>State</th><th>Why</th>
<th>Evidence</th><th>Sign-offs</th></tr></thead><tbody>{''.join(rows)}</tbody></table>
</body></html>
"""


__all__ = ["status_data", "render_markdown", "render_html"]
