"""Model approval for production, recorded in the project ledger (`model_approval` events).

automatic: the gates decide (thresholds, quality gates, promoted to champion) and the approval is
recorded by the run. manual and hybrid: a person with the approver role must approve the version
(`mlops-accelerator model approve NAME:VERSION --by NAME --role ROLE`); hybrid lets the
automatic gate take the model up to test, production waits for that person.
"""

from __future__ import annotations

from typing import Any


def recorded(project: Any, model_ref: str) -> dict[str, Any] | None:
    """The latest approval event for model_ref in the ledger, if any."""
    from .. import ledger

    found = None
    for event in ledger.read(project.ledger_path):
        if event.get("type") == "model_approval" and event.get("model") == model_ref:
            found = event
    return found


def decide(project: Any, models: Any, model_ref: str | None, promoted: bool, blocking: list[str]) -> dict[str, Any]:
    """The approval evidence for this run; an automatic approval is recorded in the ledger."""
    if model_ref is None:
        return {"approved": False, "mode": models.model_approval, "model": None,
                "reason": "no model was registered by this run"}
    if models.model_approval == "automatic":
        ok = promoted and not blocking
        reason = ("thresholds met, quality gates pass, promoted to champion" if ok else
                  "not promoted to champion" if not blocking else "; ".join(blocking))
        event = project.record("model_approval", model=model_ref, approved=ok, mode="automatic", by=None,
                               role=None, reason=reason)
        return {"approved": ok, "mode": "automatic", "model": model_ref, "by": None, "role": None,
                "reason": reason, "ledger_event": event["id"]}
    event = recorded(project, model_ref)
    if event is None:
        return {"approved": False, "mode": models.model_approval, "model": model_ref, "by": None, "role": None,
                "reason": f"awaiting {models.approver_role} approval: 'mlops-accelerator model approve "
                          f"{model_ref} --by NAME --role {models.approver_role}'"}
    return {"approved": bool(event.get("approved")), "mode": models.model_approval, "model": model_ref,
            "by": event.get("by"), "role": event.get("role"), "reason": event.get("reason"),
            "ledger_event": event.get("id")}
