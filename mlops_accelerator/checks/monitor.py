"""Automatic checks of stage 6 (Monitoring): S6-01 to S6-08.

They read the stage-6 settings (`ctx.stage("monitor")`), the stage-5 deployment pattern and the
stage-4 datastores (to know whether an online endpoint exists and how the collected data is
reached), and the evidence of the latest successful stage-6 run (`ctx.run_evidence("monitor", 6)`).
The notebooks of stage 6 must record exactly these keys:

    {
      "recent_jobs": [                               # S6-01: newest first, at least
        {"name": "train-20240501", "metrics": {"accuracy": 0.91}}],   #   metrics_check_last_n_jobs
      "endpoints": [                                 # S6-02, S6-03: production online endpoints
        {"name": "mlops-online", "environment": "prod",
         "deployments": [
           {"name": "blue", "app_insights_enabled": true, "telemetry_present": true,
            "data_collector": {"model_inputs": true, "model_outputs": true}}]}],
      "collected_data": {                            # S6-03: rows found in the destination datastore
        "model_inputs": {"rows": 1200, "path": "azureml://datastores/workspaceblobstore/paths/..."},
        "model_outputs": {"rows": 1200, "path": "azureml://datastores/workspaceblobstore/paths/..."}},
      "monitor": {                                   # S6-04, S6-05: the monitor schedule as created
        "name": "model-monitor", "schedule": "0 3 * * *",
        "signals": [{"name": "data-drift-signal", "type": "data_drift", "alert_enabled": true}],
        "alert_emails": ["mlops-ops@contoso.com"]},
      "policy_assignments": [                        # S6-06: one per assigned Azure ML policy
        {"policy": "aml_compute_in_vnet",            #   audit policy id, definition GUID or display name
         "compliance_state": "NonCompliant",         #   Compliant | NonCompliant | Unknown (null = not read)
         "non_compliant_resources": 2}],
      "retraining": {                                # S6-07
        "schedule": {"name": "retrain-weekly", "cron": "0 4 * * 1", "target": "training-pipeline",
                     "target_valid": true},          #   null when no schedule
        "drift_route": {"route": "azure_monitor_action_group", "target": "retraining-pipeline",
                        "target_valid": true}},      #   null when drift does not trigger retraining
      "alerts": {                                    # S6-08
        "action_group": {"name": "ag-mlops-ops",
                         "receivers": [{"kind": "email", "address": "mlops-ops@contoso.com"}]},
        "test_alert_delivered": true}
    }
"""

from __future__ import annotations

from typing import Any

from ..settings.monitor import AML_AUDIT_POLICIES
from . import CheckContext, CheckResult, auto_check, failed, listing, need, passed


def _ev(ctx: CheckContext) -> dict[str, Any]:
    return ctx.run_evidence("monitor", 6)


def _online(ctx: CheckContext) -> bool:
    """Whether stage 5 deploys an online endpoint (unknown -> assume yes: check rather than skip)."""
    models = ctx.settings.get("models")
    return models is None or models.serves_online


@auto_check("S6-01")
def metrics_tracked(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("monitor")
    jobs = need(_ev(ctx), "recent_jobs", 6, "monitor", "the latest jobs and their metrics")
    if not jobs:
        return failed("no jobs were found in the workspace: run training (stage 5) with MLflow logging first")
    recent = jobs[: s.metrics_check_last_n_jobs]
    bare = [str(j.get("name")) for j in recent if not j.get("metrics")]
    if bare:
        return failed(f"{len(bare)} of the last {len(recent)} job(s) logged no metrics ({listing(bare)}): "
                      "log with mlflow.log_metric or mlflow.autolog() in every training script")
    return passed(f"the last {len(recent)} job(s) all logged metrics to MLflow")


@auto_check("S6-02")
def endpoint_telemetry(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("monitor")
    if not _online(ctx):
        return passed("not applicable: stage 5 deploys no online endpoint (deployment_pattern is batch)")
    if not s.app_insights_on_endpoints:
        return failed("Application Insights is turned off for endpoints: turn on 'Application Insights on "
                      "endpoints' (stage 6) and redeploy")
    endpoints = need(_ev(ctx), "endpoints", 6, "monitor", "the production online endpoints")
    if not endpoints:
        return failed("no production online endpoint was found: deploy the model (stage 5) first")
    problems = []
    for ep in endpoints:
        for d in ep.get("deployments") or []:
            where = f"{ep.get('name')}/{d.get('name')}"
            if not d.get("app_insights_enabled"):
                problems.append(f"{where}: Application Insights disabled (set app_insights_enabled: true)")
            elif not d.get("telemetry_present"):
                problems.append(f"{where}: no telemetry yet (send a request, then re-check)")
    if problems:
        return failed("; ".join(problems))
    return passed(f"Application Insights on for every deployment of {len(endpoints)} endpoint(s), telemetry "
                  f"present; operational metrics: {', '.join(s.operational_metrics)}")


@auto_check("S6-03")
def production_data_collected(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("monitor")
    if not _online(ctx):
        return passed("not applicable: stage 5 deploys no online endpoint, so there is no request data to "
                      "collect")
    dc = s.data_collection
    data = ctx.settings.get("data")
    store = next((d for d in (data.datastores if data else []) if d.name == dc.destination_datastore), None)
    if store is not None and store.auth == "identity_based":
        return failed(f"collected data goes to '{store.name}', an identity-based datastore, but model "
                      "monitoring reads credential-based datastores only: choose another destination")
    wanted = [k for k, on in (("model_inputs", dc.collect_inputs), ("model_outputs", dc.collect_outputs))
              if on]
    if not wanted:
        return failed("data collection is off for inputs and outputs: turn it on (stage 6, Data collection)")
    ev = _ev(ctx)
    endpoints = need(ev, "endpoints", 6, "monitor", "the production online endpoints")
    off = [f"{ep.get('name')}/{d.get('name')}: {k}" for ep in endpoints for d in ep.get("deployments") or []
           for k in wanted if not (d.get("data_collector") or {}).get(k)]
    if off or not endpoints:
        return failed(f"the data collector is not enabled on {listing(off) or 'any deployment'}: redeploy "
                      "with data_collector collections enabled")
    collected = need(ev, "collected_data", 6, "monitor", "rows found in the collection datastore")
    empty = [k for k in wanted if not int((collected.get(k) or {}).get("rows") or 0)]
    if empty:
        return failed(f"no collected {', '.join(empty)} found in '{dc.destination_datastore}' yet: send "
                      "scoring requests (collection lands within minutes), then re-check")
    return passed(f"collecting {', '.join(wanted)} at {dc.sampling_rate_pct:g} %; "
                  + ", ".join(f"{k}: {collected[k]['rows']} rows" for k in wanted))


def _monitor(ctx: CheckContext) -> dict[str, Any]:
    return need(_ev(ctx), "monitor", 6, "monitor", "the monitor schedule as created")


@auto_check("S6-04")
def drift_monitoring(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("monitor")
    if not any(x.signal == "data_drift" and x.alert_enabled for x in s.monitor_signals):
        return failed("no data_drift signal with alerts is configured: add one under 'Monitoring signals'")
    if not s.alert_emails and "azure_monitor_action_group" not in s.alert_channels:
        return failed("drift alerts have no recipient: add the Ops alias under 'Alert e-mails' or an action "
                      "group")
    m = _monitor(ctx)
    if not m.get("name") or not m.get("schedule"):
        return failed("the monitor schedule was not created: re-run the stage-6 monitoring notebook")
    drift = [x for x in m.get("signals") or [] if x.get("type") == "data_drift"]
    if not drift:
        return failed(f"monitor {m['name']} has no data_drift signal: regenerate it from the stage-6 "
                      "settings")
    if not any(x.get("alert_enabled") for x in drift):
        return failed(f"the data_drift signal of {m['name']} has alerts disabled: set alert_enabled: true")
    where = ""
    ev = _ev(ctx)
    if "azure_monitor" in ev:  # the azureml target created the schedule and read it back
        back = ev.get("azure_monitor") or {}
        if not back.get("name") or "data_drift" not in (back.get("signals") or {}).values() or not back.get(
                "enabled"):
            return failed(f"the monitor schedule is not on Azure as specified (read back: {back or 'nothing'}): "
                          "run 'mlops-accelerator run monitor --target azureml' and read its error")
        where = f"; read back from Azure in {back.get('env')} (cron {back.get('cron')})"
    return passed(f"monitor {m['name']} runs '{m['schedule']}' against {s.reference_data} with "
                  f"{len(drift)} data-drift signal(s), alerts to "
                  f"{', '.join(s.alert_emails) or s.action_group_name}{where}")


@auto_check("S6-05")
def performance_monitoring(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("monitor")
    if not s.ground_truth_available:
        return passed("not applicable: ground_truth_available is false (no true outcomes to compare "
                      "predictions with)")
    if not any(x.signal == "model_performance" for x in s.monitor_signals):
        return failed("ground truth is available but no model_performance signal is configured: add one "
                      "(accuracy/precision/recall or mae/mse/rmse)")
    m = _monitor(ctx)
    if not any(x.get("type") == "model_performance" for x in m.get("signals") or []):
        return failed(f"monitor {m.get('name')} has no model_performance signal: re-run the stage-6 "
                      "monitoring notebook")
    return passed(f"monitor {m.get('name')} includes a model_performance signal")


def _policy_keys(policy_id: str) -> set[str]:
    name, guid = AML_AUDIT_POLICIES[policy_id]
    return {policy_id, name.lower(), guid}


@auto_check("S6-06")
def policies_assigned(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("monitor")
    if not s.audit_policies:
        return failed("no Azure Policy definitions are selected for audit: choose them under 'Audit "
                      "policies'")
    found = need(_ev(ctx), "policy_assignments", 6, "monitor", "Azure Policy assignments and compliance")
    by_key = {str(a.get("policy", "")).lower(): a for a in found}
    missing, unread, exceptions = [], [], []
    for pid in s.audit_policies:
        a = next((by_key[k.lower()] for k in _policy_keys(pid) if k.lower() in by_key), None)
        if a is None:
            missing.append(AML_AUDIT_POLICIES[pid][0])
        elif not a.get("compliance_state"):
            unread.append(pid)
        elif str(a["compliance_state"]).lower() == "noncompliant":
            exceptions.append(f"{pid} ({a.get('non_compliant_resources', '?')} resource(s))")
    if missing:
        return failed(f"policy not assigned: {listing(missing)}; assign it (audit effect) at the workspace's "
                      "resource group")
    if unread:
        return failed(f"compliance state not retrieved for {listing(unread)}: wait for the policy scan "
                      "(or trigger one) and re-run stage 6")
    note = (f"; non-compliant, to review: {listing(exceptions)}" if exceptions else "; all compliant")
    return passed(f"{len(s.audit_policies)} Azure ML policies assigned, compliance retrieved{note}")


@auto_check("S6-07")
def retraining_triggers(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("monitor")
    if s.retraining_trigger == "manual":
        return passed("not applicable: retraining_trigger is manual (retraining is started by a person)")
    rt = need(_ev(ctx), "retraining", 6, "monitor", "retraining schedule and drift route")
    facts = []
    if s.retraining_trigger in ("schedule", "both"):
        sch = rt.get("schedule")
        if not sch:
            return failed(f"no retraining schedule exists: create it ('{s.retrain_schedule}') by re-running "
                          f"stage 6")
        if not sch.get("target_valid"):
            return failed(f"schedule {sch.get('name')} targets '{sch.get('target')}', which is not a valid "
                          "training pipeline: point it at the published training pipeline")
        facts.append(f"schedule {sch.get('name')} ({sch.get('cron')}) -> {sch.get('target')}")
    if s.retraining_trigger in ("drift", "both"):
        route = rt.get("drift_route")
        if not route:
            return failed("drift alerts do not reach retraining: wire the monitor alert to the action group "
                          "or Event Grid handler that starts the pipeline")
        if not route.get("target_valid"):
            return failed(f"the drift route targets '{route.get('target')}', which is not a valid training "
                          "pipeline")
        facts.append(f"drift via {route.get('route')} -> {route.get('target')}")
    return passed("; ".join(facts) + f"; cooldown {s.retrain_cooldown_hours} h")


@auto_check("S6-08")
def alerts_routed(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("monitor")
    al = need(_ev(ctx), "alerts", 6, "monitor", "the action group and a test alert")
    reached: set[str] = set()
    if "azure_monitor_action_group" in s.alert_channels:
        ag = al.get("action_group") or {}
        receivers = ag.get("receivers") or []
        if not receivers:
            return failed(f"action group {ag.get('name') or s.action_group_name} has no receivers: add the "
                          "Ops alias (and any automation)")
        reached |= {str(r.get("address", "")).lower() for r in receivers}
    if "email" in s.alert_channels:
        reached |= {str(e).lower() for e in ((_ev(ctx).get("monitor") or {}).get("alert_emails") or [])}
    unreached = [e for e in s.alert_emails if e.lower() not in reached]
    if unreached:
        return failed(f"alerts do not reach {listing(unreached)}: add them to the action group or the "
                      "monitor's alert e-mails")
    if not al.get("test_alert_delivered"):
        return failed("no test alert was delivered: fire one from the action group (Test action group) and "
                      "record the result")
    return passed(f"alerts reach {', '.join(s.alert_emails) or s.action_group_name}; test alert delivered")
