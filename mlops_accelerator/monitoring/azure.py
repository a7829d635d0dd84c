"""Azure ML's own monitoring artifacts, generated from the stage-6 settings and validated offline.

- `monitor/model-monitor.yml`: the model monitor schedule (create with `az ml schedule create -f`),
  the same signals, metric thresholds and alert e-mails the local engine uses; loaded back with
  azure-ai-ml's `load_schedule` and compared (the SDK validates nothing when it writes).
- `monitor/deployment-data-collector.yml`: the online deployment's `data_collector` block (model
  inputs/outputs at the settings' sampling rate to the destination datastore), loaded back with
  `load_online_deployment`.
- `monitor/arm/monitoring.json` (+ `monitoring.parameters.json`): an Azure Monitor action group
  (the Ops e-mails), metric alert rules for the endpoint's SLOs (p95 latency, 5xx requests, CPU and
  memory of the deployment), and the Azure Policy assignments (audit effect) the settings list.
  Settings reach the template as parameter values, never inside expressions. Scanned with checkov.

Nothing here calls Azure: `az deployment group create` / `az ml schedule create` do that.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from ..artifacts.azureml_specs import _quiet_sdk  # stage 3's: SDK log lines silenced, no IRI grammar

SCHEDULE_SCHEMA = "http://azureml/sdk-2-0/Schedule.json"
ARM_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
ARM_PARAMS_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
SPARK_RUNTIME = "3.4"


def _thresholds(rows: list[Any]) -> dict[str, Any]:
    sig = rows[0].signal
    if sig == "feature_attribution_drift":
        return {r.metric: r.threshold for r in rows}
    if sig == "model_performance":
        out: dict[str, dict[str, float]] = {}
        for r in rows:
            group = "classification" if r.metric in ("accuracy", "precision", "recall") else "regression"
            out.setdefault(group, {})[r.metric] = r.threshold
        return out
    out = {}
    for r in rows:
        out.setdefault(r.feature_type, {})[r.metric] = r.threshold
    return out


def monitor_spec(monitor: Any, *, endpoint: str, deployment: str, baseline_asset: str, label: str | None,
                 id_column: str | None, ml_task: str = "classification") -> dict[str, Any]:
    """The monitor schedule YAML as data: one entry per signal name of the settings."""
    reference = {"input_data": {"path": f"azureml:{baseline_asset}", "type": "mltable"},
                 "data_context": "training" if monitor.reference_data != "validation_data" else "validation"}
    if label:  # azure-ai-ml's ReferenceData takes the target as data_column_names.target_column
        reference["data_column_names"] = {"target_column": label}
    by_name: dict[str, list[Any]] = {}
    for s in monitor.monitor_signals:
        if s.signal != "custom":
            by_name.setdefault(s.effective_name, []).append(s)
    signals: dict[str, Any] = {}
    for name, rows in by_name.items():
        kind = rows[0].signal
        spec: dict[str, Any] = {"type": kind, "alert_enabled": any(r.alert_enabled for r in rows),
                                "metric_thresholds": _thresholds(rows)}
        features = sorted({f for r in rows for f in r.features})
        if kind in ("data_drift", "data_quality"):
            spec["reference_data"] = reference
            if features:
                spec["features"] = features
        elif kind == "prediction_drift":
            spec["reference_data"] = {**reference, "data_context": "validation"}
        elif kind == "feature_attribution_drift":
            spec["reference_data"] = reference
        elif kind == "model_performance":
            spec["production_data"] = {"input_data": {"path": f"azureml:{endpoint}-{deployment}-model-outputs:1",
                                                      "type": "uri_folder"},
                                       "data_context": "model_outputs",
                                       "data_column_names": {"prediction": "prediction",
                                                             "correlation_id": id_column or "correlationid"}}
            spec["reference_data"] = {"input_data": {"path": "azureml:ground-truth:1", "type": "mltable"},
                                      "data_context": "ground_truth",
                                      "data_column_names": {"actual": label or "label",
                                                            "correlation_id": id_column or "correlationid"}}
        signals[name] = copy.deepcopy(spec)  # no YAML anchors: each signal reads on its own
    create: dict[str, Any] = {
        "compute": {"instance_type": monitor.monitor_schedule.spark_instance_type, "runtime_version": SPARK_RUNTIME},
        "monitoring_target": {"ml_task": ml_task, "endpoint_deployment_id": f"azureml:{endpoint}:{deployment}"},
        "monitoring_signals": signals,
    }
    if "email" in monitor.alert_channels and monitor.alert_emails:
        create["alert_notification"] = {"emails": list(monitor.alert_emails)}
    return {"$schema": SCHEDULE_SCHEMA, "name": monitor.monitor_name,
            "trigger": {"type": "cron", "expression": monitor.monitor_schedule.cron, "time_zone": "UTC"},
            "create_monitor": create}


def _yaml_dump(data: Any, path: Path) -> None:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    with open(path, "w", encoding="utf-8") as fh:
        yaml.dump(data, fh)


def _loaded_thresholds(signal: Any) -> dict[str, Any]:
    """Thresholds of a loaded azure-ai-ml signal entity, in the YAML's shape (for the round-trip compare)."""
    mt = signal.metric_thresholds
    items = mt if isinstance(mt, list) else [mt]
    out: dict[str, Any] = {}
    for t in items:
        for group in ("numerical", "categorical", "classification", "regression"):
            g = getattr(t, group, None)
            if g is not None:
                vals = {k: v for k, v in vars(g).items() if not k.startswith("_") and v is not None}
                out.setdefault(group, {}).update(vals)
        ndcg = getattr(t, "normalized_discounted_cumulative_gain", None)
        if ndcg is not None:
            out["normalized_discounted_cumulative_gain"] = ndcg
    return out


def write_monitor_schedule(folder: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Write the schedule YAML, load it back with load_schedule, compare; returns what was found."""
    with _quiet_sdk():  # no 'experimental class' log lines in the notebook, no IRI grammar
        return _write_monitor_schedule(folder, spec)


def _write_monitor_schedule(folder: Path, spec: dict[str, Any]) -> dict[str, Any]:
    from azure.ai.ml.entities._load_functions import load_schedule

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model-monitor.yml"
    _yaml_dump(spec, path)
    problems: list[str] = []
    loaded_signals: dict[str, Any] = {}
    try:
        sched = load_schedule(path)
        md = sched.create_monitor
        for name, sig in (md.monitoring_signals or {}).items():
            loaded_signals[name] = {"type": str(getattr(sig.type, "value", sig.type)),
                                    "alert_enabled": bool(sig.alert_enabled),
                                    "metric_thresholds": _loaded_thresholds(sig)}
        emails = list(getattr(md.alert_notification, "emails", None) or [])
        cron = sched.trigger.expression
    except Exception as exc:  # marshmallow ValidationError and friends: report, do not hide
        return {"path": path, "valid": False, "problems": [f"{type(exc).__name__}: {exc}"], "signals": {}}
    for name, want in spec["create_monitor"]["monitoring_signals"].items():
        got = loaded_signals.get(name)
        if got is None:
            problems.append(f"signal {name} lost on load")
            continue
        if got["type"] != want["type"]:
            problems.append(f"signal {name}: type {got['type']} != {want['type']}")
        if got["metric_thresholds"] != want["metric_thresholds"]:
            problems.append(f"signal {name}: thresholds {got['metric_thresholds']} != {want['metric_thresholds']}")
    if emails != spec["create_monitor"].get("alert_notification", {}).get("emails", []):
        problems.append(f"alert e-mails {emails} differ from the settings'")
    if cron != spec["trigger"]["expression"]:
        problems.append(f"cron {cron} differs")
    return {"path": path, "valid": not problems, "problems": problems, "signals": loaded_signals,
            "emails": emails, "cron": cron}


def data_collector_spec(monitor: Any, *, endpoint: str, deployment: str, instance_type: str) -> dict[str, Any]:
    dc = monitor.data_collection
    base = f"azureml://datastores/{dc.destination_datastore}/paths/modelDataCollector/{endpoint}/{deployment}"
    collections = {}
    for key, on in (("model_inputs", dc.collect_inputs), ("model_outputs", dc.collect_outputs)):
        collections[key] = {"enabled": "true" if on else "false",
                            "data": {"name": f"{endpoint}-{deployment}-{key.replace('_', '-')}",
                                     "path": f"{base}/{key}"}}
    return {"$schema": "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
            "name": deployment, "endpoint_name": endpoint, "model": "azureml:model:1",
            "instance_type": instance_type, "instance_count": 1,
            "app_insights_enabled": bool(monitor.app_insights_on_endpoints),
            "data_collector": {"sampling_rate": dc.sampling_rate_pct / 100, "collections": collections}}


def write_data_collector(folder: Path, spec: dict[str, Any]) -> dict[str, Any]:
    with _quiet_sdk():
        return _write_data_collector(folder, spec)


def _write_data_collector(folder: Path, spec: dict[str, Any]) -> dict[str, Any]:
    from azure.ai.ml import load_online_deployment

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "deployment-data-collector.yml"
    _yaml_dump(spec, path)
    try:
        d = load_online_deployment(path)
        got = {k: str(v.enabled).lower() == "true" for k, v in (d.data_collector.collections or {}).items()}
        want = {k: v["enabled"] == "true" for k, v in spec["data_collector"]["collections"].items()}
        problems = [] if got == want else [f"collections {got} != {want}"]
    except Exception as exc:
        problems = [f"{type(exc).__name__}: {exc}"]
    return {"path": path, "valid": not problems, "problems": problems}


# -- ARM: action group, metric alert rules, policy assignments --------------------------------

_ENDPOINT_TYPE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
_DEPLOYMENT_TYPE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"


def _metric_alert(name: str, description: str, scope: str, target_type: str, metric: str, op: str,
                  threshold: str, aggregation: str, dimensions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    crit = {"name": "c1", "criterionType": "StaticThresholdCriterion", "metricName": metric,
            "metricNamespace": target_type, "operator": op, "threshold": threshold, "timeAggregation": aggregation}
    if dimensions:
        crit["dimensions"] = dimensions
    return {"type": "Microsoft.Insights/metricAlerts", "apiVersion": "2018-03-01", "name": name,
            "location": "global", "tags": "[parameters('tags')]",
            "properties": {"description": description, "severity": 2, "enabled": True, "scopes": [scope],
                           "evaluationFrequency": "PT5M", "windowSize": "PT15M", "targetResourceType": target_type,
                           "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                                        "allOf": [crit]},
                           "actions": [{"actionGroupId": "[resourceId('Microsoft.Insights/actionGroups', "
                                                         "parameters('actionGroupName'))]"}]},
            "dependsOn": ["[resourceId('Microsoft.Insights/actionGroups', parameters('actionGroupName'))]"]}


def arm_template(monitor: Any) -> dict[str, Any]:
    """Action group + SLO metric alerts + one policy assignment per audit policy, all values as parameters."""
    from ..settings.monitor import AML_AUDIT_POLICIES

    endpoint_id = ("[resourceId('Microsoft.MachineLearningServices/workspaces/onlineEndpoints', "
                   "parameters('workspaceName'), parameters('endpointName'))]")
    deployment_id = ("[resourceId('Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments', "
                     "parameters('workspaceName'), parameters('endpointName'), parameters('deploymentName'))]")
    resources: list[dict[str, Any]] = [{
        "type": "Microsoft.Insights/actionGroups", "apiVersion": "2023-01-01",
        "name": "[parameters('actionGroupName')]",
        "location": "global", "tags": "[parameters('tags')]",
        "properties": {"groupShortName": "[take(parameters('actionGroupName'), 12)]", "enabled": True,
                       "copy": [{"name": "emailReceivers", "count": "[length(parameters('alertEmails'))]",
                                 "input": {"name": "[concat('ops-', copyIndex('emailReceivers'))]",
                                           "emailAddress": "[parameters('alertEmails')[copyIndex('emailReceivers')]]",
                                           "useCommonAlertSchema": True}}]}}]
    resources.append(_metric_alert("[concat(parameters('endpointName'), '-latency-p95')]",
                                   "p95 request latency above the SLO", endpoint_id, _ENDPOINT_TYPE,
                                   "RequestLatency_P95", "GreaterThan", "[parameters('latencyP95Ms')]", "Average"))
    resources.append(_metric_alert("[concat(parameters('endpointName'), '-server-errors')]",
                                   "5xx responses (the error-rate SLO)", endpoint_id, _ENDPOINT_TYPE,
                                   "RequestsPerMinute", "GreaterThan", "[parameters('maxErrorsPerMinute')]", "Total",
                                   [{"name": "statusCodeClass", "operator": "Include", "values": ["5xx"]}]))
    for metric, label in (("CpuUtilizationPercentage", "cpu"), ("MemoryUtilizationPercentage", "memory")):
        resources.append(_metric_alert(f"[concat(parameters('endpointName'), '-{label}')]",
                                       f"{label} utilisation of the deployment above 85 %", deployment_id,
                                       _DEPLOYMENT_TYPE, metric, "GreaterThan", "85", "Average"))
    for pid in monitor.audit_policies:
        display, guid = AML_AUDIT_POLICIES[pid]
        resources.append({
            "type": "Microsoft.Authorization/policyAssignments", "apiVersion": "2022-06-01",
            "name": f"[take(concat(parameters('assignmentPrefix'), '-{pid.replace('_', '-')}'), 64)]",
            "properties": {"displayName": display, "enforcementMode": "Default",
                           "policyDefinitionId": f"[tenantResourceId('Microsoft.Authorization/policyDefinitions', "
                                                 f"'{guid}')]",
                           "description": "Audit-mode guardrail assigned by the MLOps accelerator (stage 6)."}})
    params = {
        "workspaceName": {"type": "string"}, "endpointName": {"type": "string"}, "deploymentName": {"type": "string"},
        "actionGroupName": {"type": "string"}, "alertEmails": {"type": "array"},
        "latencyP95Ms": {"type": "int"}, "maxErrorsPerMinute": {"type": "int"},
        "assignmentPrefix": {"type": "string", "maxLength": 40}, "tags": {"type": "object", "defaultValue": {}},
    }
    return {"$schema": ARM_SCHEMA, "contentVersion": "1.0.0.0", "parameters": params, "resources": resources,
            "outputs": {"actionGroupId": {"type": "string", "value": "[resourceId('Microsoft.Insights/actionGroups', "
                                                                      "parameters('actionGroupName'))]"}}}


def arm_parameters(monitor: Any, *, workspace: str, endpoint: str, deployment: str, project: str) -> dict[str, Any]:
    slo = monitor.slo
    values = {"workspaceName": workspace, "endpointName": endpoint, "deploymentName": deployment,
              "actionGroupName": monitor.action_group_name, "alertEmails": list(monitor.alert_emails),
              "latencyP95Ms": int(slo.latency_p95_ms), "maxErrorsPerMinute": max(1, int(slo.max_error_rate_pct)),
              "assignmentPrefix": f"{project}-aml"[:40], "tags": {"project": project, "stage": "monitor"}}
    return {"$schema": ARM_PARAMS_SCHEMA, "contentVersion": "1.0.0.0",
            "parameters": {k: {"value": v} for k, v in values.items()}}


def write_arm(folder: Path, monitor: Any, **names: str) -> dict[str, Path]:
    arm = folder / "arm"
    arm.mkdir(parents=True, exist_ok=True)
    files = {"template": arm / "monitoring.json", "parameters": arm / "monitoring.parameters.json"}
    files["template"].write_text(json.dumps(arm_template(monitor), indent=2), encoding="utf-8")
    files["parameters"].write_text(json.dumps(arm_parameters(monitor, **names), indent=2), encoding="utf-8")
    return files
