"""Evaluation and promotion: thresholds, the champion/challenger rule, the MLflow model registry.

A candidate that misses a threshold is never registered (the result names the metric). Otherwise
it is compared with the version holding the `champion` alias on the primary metric (stored as the
`primary_metric` tag) with the settings' margin: better -> registered and aliased `champion`; not
better -> registered as `challenger` (or not at all with on_not_better=cancel_run); the champion
alias stays where it was. A version is created with all its tags in one call, and deleted again if
setting its alias fails, so the registry never holds a half-registered version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import ModelingError

CHAMPION, CHALLENGER = "champion", "challenger"


def is_better(goal: str, margin: float, margin_type: str, candidate: float, champion: float) -> bool:
    """Candidate beats champion by more than nothing and at least the margin (absolute or % of champion)."""
    gain = candidate - champion if goal == "maximize" else champion - candidate
    need = margin if margin_type == "absolute" else abs(champion) * margin / 100
    return gain > 0 and gain >= need


def missed_thresholds(thresholds: Any, scores: dict[str, float]) -> list[str]:
    missed = []
    for t in thresholds:
        value = scores.get(t.metric)
        if value is None:
            raise ModelingError(f"threshold metric '{t.metric}' was not logged by training")
        ok = value >= t.value if t.direction == "at_least" else value <= t.value
        if not ok:
            missed.append(f"{t.metric}={value:g} is not {t.direction.replace('_', ' ')} {t.value:g}")
    return missed


@dataclass
class Decision:
    metric: str
    candidate: float
    champion: float | None
    champion_version: str | None
    decision: str  # promote | reject
    reason: str
    registered_version: str | None = None
    stage_tag: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def evidence(self) -> dict[str, Any]:
        return {"metric": self.metric, "candidate": self.candidate, "champion": self.champion,
                "champion_version": self.champion_version, "decision": self.decision, "reason": self.reason,
                "registered_version": self.registered_version}


def current_champion(client: Any, name: str, metric: str) -> tuple[str | None, float | None]:
    from mlflow.exceptions import MlflowException

    try:
        version = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None, None
    value = version.tags.get("primary_metric_value")
    if value is None and version.run_id:
        value = client.get_run(version.run_id).data.metrics.get(metric)
    return version.version, (float(value) if value is not None else None)


def decide(models: Any, scores: dict[str, float], champion: tuple[str | None, float | None]) -> Decision:
    """Thresholds, then the champion/challenger rule; nothing is registered here."""
    metric = models.primary_metric.name
    candidate = scores[metric]
    champ_version, champ = champion
    missed = missed_thresholds(models.metric_thresholds, scores)
    if missed:
        return Decision(metric, candidate, champ, champ_version, "reject",
                        "not registered: below threshold: " + "; ".join(missed))
    rule = models.promotion_rule
    if not rule.compare_to_champion or champ is None:
        better, why = True, ("first model: no champion yet" if champ is None else "comparison turned off")
    else:
        better = is_better(models.primary_metric.goal, rule.margin, rule.margin_type, candidate, champ)
        why = (f"candidate {metric}={candidate:g} vs champion v{champ_version} {champ:g} "
               f"({models.primary_metric.goal}, margin {rule.margin:g} {rule.margin_type})")
    return Decision(metric, candidate, champ, champ_version, "promote" if better else "reject", why)


def registers(models: Any, decision: Decision) -> str | None:
    """The alias a decided candidate is registered under, None when it is not registered (the
    reason is added to the decision)."""
    if decision.reason.startswith("not registered"):
        return None
    if decision.decision != "promote" and models.promotion_rule.on_not_better == "cancel_run":
        decision.reason += "; not better: run cancelled (on_not_better=cancel_run), nothing registered"
        return None
    return CHAMPION if decision.decision == "promote" else CHALLENGER


def evaluate_and_register(models: Any, training: Any, *, register: bool = True) -> Decision:
    """Decide per the settings and register the candidate with its tags and alias."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    name = models.model_registration.name
    champion = current_champion(client, name, models.primary_metric.name) if register else (None, None)
    decision = decide(models, training.metrics, champion)
    if not register and not decision.reason.startswith("not registered"):
        decision.reason += "; exploration run: nothing registered"
        return decision
    stage = registers(models, decision)
    if stage is None:
        return decision
    tags = {"stage": stage, "data_asset": training.data_asset, "git_commit": training.code.commit,
            "git_repository": training.code.repository, "training_run": training.run_id}
    return register_version(client, models, decision, training.model_uri, training.run_id, tags)


def register_version(client: Any, models: Any, decision: Decision, model_uri: str, run_id: str | None,
                     tags: dict[str, str]) -> Decision:
    """One model version with all its tags in one call, then its alias; a version whose alias cannot
    be set is deleted again, so the registry never holds a half-registered version."""
    name, stage = models.model_registration.name, tags["stage"]
    tags = {**tags, "primary_metric": decision.metric, "primary_metric_value": f"{decision.candidate:.6g}",
            "compliance_status": "pending_review"}
    missing = [t for t in models.model_registration.required_tags if t not in tags]
    if missing:
        raise ModelingError(f"models.model_registration.required_tags names {', '.join(missing)}, which the "
                            f"registration step does not set (it sets {', '.join(sorted(tags))})")
    _ensure_registered_model(client, name)
    version = client.create_model_version(name, model_uri, run_id=run_id, tags=tags,
                                          description=f"{decision.metric}={decision.candidate:g}; {decision.reason}")
    try:
        client.set_registered_model_alias(name, stage, version.version)
    except Exception:
        client.delete_model_version(name, version.version)  # never leave a version without its alias
        raise
    decision.registered_version, decision.stage_tag, decision.tags = str(version.version), stage, tags
    return decision


def _ensure_registered_model(client: Any, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, description="Registered by the MLOps Accelerator, stage 5")


def client() -> Any:
    """An MLflow client on the tracking store set for this process (tracking.use_project_tracking)."""
    from mlflow.tracking import MlflowClient

    return MlflowClient()
