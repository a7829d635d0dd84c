"""The cut-over plan from the settings: steps with owners, rollback, and the sign-offs stage 7 asks for.

A parity failure blocks the switch step, naming each metric outside the tolerance; steps that only
Azure can complete say so.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .doc import Doc

SIGNOFFS = (("S7-06", "Core scripts reviewed: no hard-coded names, paths or secrets", ("mlops_engineer",)),
            ("S7-08", "Cut-over and legacy decommission approved", None))  # None: the plan's approvers


def _people(roster: list[dict[str, Any]], roles: list[str] | tuple[str, ...]) -> list[str]:
    return [m["name"] for m in roster if set(m.get("roles") or []) & set(roles)]


def _owner(roster: list[dict[str, Any]], role: str) -> str:
    people = _people(roster, [role])
    return f"{', '.join(people)} ({role})" if people else f"{role} (nobody on the roster)"


def blocked_by(parity: dict[str, Any] | None) -> list[str]:
    """Why the switch cannot happen yet: each differing metric with both values, or a failed/missing run."""
    if not parity:
        return ["parity has not been proven (run the parity notebook)"]
    out = []
    for name in parity.get("differing", []):
        m = parity["metrics"][name]
        out.append(f"{name}: migrated {m['migrated']} vs legacy {m['legacy']} is outside the tolerance")
    for side, r in (parity.get("sides") or {}).items():
        if r.get("status") != "succeeded":
            out.append(f"the {side} training run {r.get('status')}")
    p = parity.get("predictions") or {}
    if p.get("agreeing") is not None and p["agreeing"] != p.get("sample_rows"):
        out.append(f"predictions differ on {p['sample_rows'] - p['agreeing']} of {p['sample_rows']} sample rows")
    elif p.get("agreeing") is None and p:
        out.append(f"predictions were not compared: {p.get('error')}")
    return out


def plan(cutover: Any, parity: dict[str, Any] | None, roster: list[dict[str, Any]], tolerance: Any) -> dict[str, Any]:
    """The plan as plain data (cutover: the settings' CutoverPlan)."""
    blocks = blocked_by(parity)
    start = cutover.parallel_run_start
    end = start + dt.timedelta(days=cutover.parallel_run_days) if start else None
    steps = [
        {"step": f"Prove parity on the same data version ({tolerance.metric}, tolerance {tolerance.relative_pct:g} % "
                 f"relative / {tolerance.absolute:g} absolute)",
         "owner": _owner(roster, "data_scientist"), "status": "done" if not blocks else "blocked"},
        {"step": "Deploy the migrated job and endpoints to each environment (template pipelines)",
         "owner": _owner(roster, "mlops_engineer"), "status": "needs Azure (azureml target)"},
        {"step": f"Run legacy and migrated side by side for {cutover.parallel_run_days} days"
                 + (f" ({start.isoformat()} to {end.isoformat()})" if start and end else " (start date not set)"),
         "owner": _owner(roster, "mlops_engineer"), "status": "planned" if start else "to schedule"},
        {"step": "Switch consumers to the Azure ML model",
         "owner": _owner(roster, "product_owner"),
         "status": ("blocked: " + "; ".join(blocks)) if blocks else "waiting for the parallel run and S7-08"},
        {"step": "Decommission the legacy system"
                 + (f" on {cutover.decommission_date.isoformat()}" if cutover.decommission_date else " (date not set)"),
         "owner": _owner(roster, "mlops_engineer"), "status": "after the switch"},
    ]
    signoffs = [{"item": item, "what": what, "roles": list(roles or cutover.approvers),
                 "people": _people(roster, roles or cutover.approvers)} for item, what, roles in SIGNOFFS]
    return {"blocked_by": blocks, "steps": steps, "rollback_criteria": list(cutover.rollback_criteria),
            "signoffs": signoffs}


def report(p: dict[str, Any]) -> Doc:
    doc = Doc("Cut-over and decommission plan")
    if p["blocked_by"]:
        doc.para("The cut-over is BLOCKED: " + "; ".join(p["blocked_by"]) + ".")
    else:
        doc.para("Parity is proven; the cut-over can proceed once the parallel run has ended and S7-08 is signed.")
    doc.heading("Steps")
    doc.table(["#", "step", "owner", "status"], [[i + 1, s["step"], s["owner"], s["status"]]
                                                 for i, s in enumerate(p["steps"])])
    doc.heading("Rollback")
    doc.para("Send traffic back to the legacy system (kept running until the decommission date) when any of:")
    doc.bullets(p["rollback_criteria"])
    doc.heading("Sign-offs")
    doc.table(["item", "what", "roles", "people on the roster"],
              [[s["item"], s["what"], ", ".join(s["roles"]), ", ".join(s["people"]) or "nobody yet"]
               for s in p["signoffs"]])
    doc.para("Record them with: mlops-accelerator signoff S7-08 --by NAME --role ROLE")
    return doc
