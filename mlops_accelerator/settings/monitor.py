"""Stage 6, Monitoring: operational telemetry, model monitoring, audit and retraining triggers.

Signal and metric names are exactly those of azure-ai-ml's model monitoring (`MonitorSignalType`,
`MonitorMetricName`, the monitor YAML threshold keys), with its default thresholds: numerical drift
normalized_wasserstein_distance 0.1, categorical drift jensen_shannon_distance 0.1, data quality
rates 0.0. With no signals chosen, Azure ML monitors data drift + prediction drift + data quality
over all features: that is also our default.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from ..errors import FieldError
from ..naming import AssetName, DatastoreName
from .base import Cron, Email, Record, StageSettings, err, setting

# ---------------------------------------------------------------------------
# Azure ML model-monitoring vocabulary

SignalType = Literal["data_drift", "prediction_drift", "data_quality", "feature_attribution_drift",
                     "model_performance", "custom"]

_NUMERICAL_DRIFT = ("jensen_shannon_distance", "normalized_wasserstein_distance",
                    "population_stability_index", "two_sample_kolmogorov_smirnov_test")
_CATEGORICAL_DRIFT = ("jensen_shannon_distance", "population_stability_index", "pearsons_chi_squared_test")
_QUALITY = ("null_value_rate", "data_type_error_rate", "out_of_bounds_rate")

# signal -> feature type -> metrics valid for it (None = any name: the custom component defines it).
SIGNAL_METRICS: dict[str, dict[str, tuple[str, ...]] | None] = {
    "data_drift": {"numerical": _NUMERICAL_DRIFT, "categorical": _CATEGORICAL_DRIFT},
    "prediction_drift": {"numerical": _NUMERICAL_DRIFT, "categorical": _CATEGORICAL_DRIFT},
    "data_quality": {"numerical": _QUALITY, "categorical": _QUALITY},
    "feature_attribution_drift": {"not_applicable": ("normalized_discounted_cumulative_gain",)},
    # monitor YAML keys: classification {accuracy, precision, recall}; regression {mae, mse, rmse}
    "model_performance": {"not_applicable": ("accuracy", "precision", "recall", "mae", "mse", "rmse")},
    "custom": None,
}
# Azure ML's own defaults where it has one (field notes: azure-ai-ml _get_default_thresholds).
DEFAULT_THRESHOLDS: dict[tuple[str, str], float] = {
    ("numerical", "normalized_wasserstein_distance"): 0.1,
    ("categorical", "jensen_shannon_distance"): 0.1,
    **{(ft, m): 0.0 for ft in ("numerical", "categorical") for m in _QUALITY},
}
# Metrics whose value is a rate, distance or p-value between 0 and 1.
_UNIT_INTERVAL = frozenset({"jensen_shannon_distance", "two_sample_kolmogorov_smirnov_test",
                            "pearsons_chi_squared_test", "normalized_discounted_cumulative_gain", "accuracy",
                            "precision", "recall", *_QUALITY})
DRIFT_SIGNALS = ("data_drift", "prediction_drift")
# Signals reading production data that only the deployment's data collector provides.
NEEDS_INPUTS = ("data_drift", "data_quality", "feature_attribution_drift")
NEEDS_OUTPUTS = ("prediction_drift", "feature_attribution_drift", "model_performance")

# Azure Policy built-in definitions for Azure ML (audit effect, no parameters):
# id -> (display name, definition GUID). Verified against the Azure policy reference, 2024.
AML_AUDIT_POLICIES: dict[str, tuple[str, str]] = {
    "aml_workspace_private_link": (
        "Azure Machine Learning workspaces should use private link", "45e05259-1eb5-4f70-9574-baf73e9d219b"),
    "aml_workspace_disable_public_network": (
        "Azure Machine Learning Workspaces should disable public network access",
        "438c38d2-3772-465a-a9cc-7a6666a275ce"),
    "aml_workspace_cmk": (
        "Azure Machine Learning workspaces should be encrypted with a customer-managed key",
        "ba769a63-b8cc-4b2d-abf6-ac33c7204be8"),
    "aml_workspace_user_assigned_identity": (
        "Azure Machine Learning workspaces should use user-assigned managed identity",
        "5f0c7d88-c7de-45b8-ac49-db49e72eaa78"),
    "aml_workspace_resource_logs": (
        "Resource logs in Azure Machine Learning Workspaces should be enabled",
        "afe0c3be-ba3b-4544-ba52-0c99672a8ad6"),
    "aml_compute_in_vnet": (
        "Azure Machine Learning Computes should be in a virtual network",
        "7804b5c7-01dc-4723-969b-ae300cc07ff1"),
    "aml_compute_local_auth_disabled": (
        "Azure Machine Learning Computes should have local authentication methods disabled",
        "e96a9a5f-07ca-471b-9bc5-6a0f33cbd68f"),
    "aml_compute_instance_latest_software": (
        "Azure Machine Learning compute instances should be recreated to get the latest software updates",
        "f110a506-2dcb-422e-bcea-d533fc8c35e2"),
    "aml_compute_instance_idle_shutdown": (
        "Azure Machine Learning Compute Instance should have idle shutdown",
        "679ddf89-ab8f-48a5-9029-e76054077449"),
}
AuditPolicyId = Annotated[
    Literal[tuple(AML_AUDIT_POLICIES)],  # type: ignore[valid-type]
    Field(json_schema_extra={"x-labels": {k: v[0] for k, v in AML_AUDIT_POLICIES.items()}}),
]

EventType = Literal["RunCompleted", "RunStatusChanged", "ModelRegistered", "ModelDeployed",
                    "DatasetDriftDetected"]

# ---------------------------------------------------------------------------
# Records


class Slo(Record):
    latency_p95_ms: float = setting(500, title="Latency p95 (ms)", task="S6.T1", gt=0, provenance="DERIVED",
                                    help="95 % of scoring requests must answer within this time.")
    availability_pct: float = setting(99.5, title="Availability %", task="S6.T1", ge=0, le=100,
                                      provenance="DERIVED",
                                      help="Share of time the endpoint must be up; it sets instance counts.")
    max_error_rate_pct: float = setting(1.0, title="Max error rate %", task="S6.T1", ge=0, le=100,
                                        provenance="DERIVED",
                                        help="Highest acceptable share of failed requests before alerting.")


class DataCollection(Record):
    collect_inputs: bool = setting(True, title="Collect model inputs", task="S6.T2", provenance="V2",
                                   help="Log request data; data drift and data quality signals need it.")
    collect_outputs: bool = setting(True, title="Collect model outputs", task="S6.T2", provenance="V2",
                                    help="Log predictions; prediction drift and model performance need them.")
    sampling_rate_pct: float = setting(100, title="Sampling %", task="S6.T2", gt=0, le=100, provenance="V2",
                                       help="Share of requests logged; lower it for very busy endpoints.")
    destination_datastore: DatastoreName = setting(
        "workspaceblobstore", title="Destination datastore", task="S6.T2", provenance="V2",
        help="Where collected data lands. Monitoring reads it with credential-based auth only, so do not use "
             "an identity-based datastore here.")


class MonitorSignal(Record):
    signal: SignalType = setting(
        "data_drift", title="Signal", task="S6.T2", provenance="V2",
        help="What is watched: input drift, prediction drift, data quality, feature-importance drift, "
             "model performance against ground truth, or a custom component.")
    signal_name: AssetName | None = setting(
        None, title="Signal name", task="S6.T2", provenance="V2",
        help="Rows with the same name form one monitor signal; leave empty for Azure ML's default name "
             "(e.g. data-drift-signal).")
    feature_type: Literal["numerical", "categorical", "not_applicable"] = setting(
        "numerical", title="Feature type", task="S6.T2", provenance="V2",
        help="Drift and data-quality metrics differ for numerical and categorical features; other signals "
             "use not_applicable.")
    metric: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")] = setting(
        "normalized_wasserstein_distance", title="Metric", task="S6.T2", provenance="V2",
        help="Metric as azure-ai-ml names it, e.g. normalized_wasserstein_distance or "
             "jensen_shannon_distance (drift), null_value_rate (quality), "
             "normalized_discounted_cumulative_gain (attribution).")
    threshold: float = setting(
        0.1, title="Threshold", task="S6.T2", ge=0, provenance="V2",
        help="Alert when the metric crosses this value. Azure ML defaults: 0.1 for normalized Wasserstein "
             "and Jensen-Shannon distance, 0.0 for data-quality rates.")
    features: list[Annotated[str, Field(min_length=1)]] = setting(
        [], title="Features", task="S6.T2", provenance="V2",
        help="Columns to monitor; leave empty for all features.")
    alert_enabled: bool = setting(True, title="Alert", task="S6.T2", provenance="V2",
                                  help="Send an alert when the threshold is crossed.")

    @property
    def effective_name(self) -> str:
        return self.signal_name or f"{self.signal.replace('_', '-')}-signal"


class MonitorSchedule(Record):
    cron: Cron = setting("0 3 * * *", title="Schedule (cron)", task="S6.T2", provenance="V2",
                         help="When the monitor runs (UTC); daily is Azure ML's usual cadence.")
    lookback_days: int = setting(7, title="Production window (days)", task="S6.T2", ge=1, le=365,
                                 provenance="V2",
                                 help="Days of production data each run compares with the reference.")
    spark_instance_type: Literal["standard_e4s_v3", "standard_e8s_v3", "standard_e16s_v3", "standard_e32s_v3",
                                 "standard_e64s_v3"] = setting(
        "standard_e4s_v3", title="Serverless Spark size", task="S6.T2", provenance="V2", ui={"verbatim": True},
        help="Serverless Spark instance computing the signals; larger only for very large windows.")


class EventSubscription(Record):
    event_type: EventType = setting(
        "ModelRegistered", title="Event", task="S6.T4",
        help="Azure ML Event Grid event (Microsoft.MachineLearningServices.<event>).")
    filter: str = setting("", title="Filter", task="S6.T4", max_length=256,
                          help="Optional subject or status filter, e.g. status=Failed or a model name.")
    handler: Literal["logic_app", "azure_function", "webhook", "event_hub", "service_bus", "storage_queue",
                     "email_via_logic_app"] = setting(
        "azure_function", title="Handler", task="S6.T4",
        help="What receives the event and acts on it.")
    target: str = setting("", title="Target", task="S6.T4", max_length=256,
                          help="What the handler starts, e.g. the retraining pipeline or test pipeline name.")


# ---------------------------------------------------------------------------
# The stage


def _default_signals() -> list[MonitorSignal]:
    """Azure ML's default monitor: data drift + prediction drift + data quality, default thresholds."""
    out = []
    for signal in DRIFT_SIGNALS:
        out.append(MonitorSignal(signal=signal, feature_type="numerical",
                                 metric="normalized_wasserstein_distance", threshold=0.1))
        out.append(MonitorSignal(signal=signal, feature_type="categorical", metric="jensen_shannon_distance",
                                 threshold=0.1))
    for ft in ("numerical", "categorical"):
        for metric in _QUALITY:
            out.append(MonitorSignal(signal="data_quality", feature_type=ft, metric=metric, threshold=0.0))
    return out


class Settings(StageSettings):
    """Stage 6 settings: keep production models healthy and wire monitoring to retraining."""

    stage: ClassVar[str] = "monitor"

    # S6.T1 Monitor model performance: experiment metrics and endpoint telemetry against SLOs.
    metrics_check_last_n_jobs: int = setting(
        5, title="Jobs checked for metrics", task="S6.T1", ge=1, le=100, provenance="DERIVED",
        help="The metrics-tracking check looks at this many latest jobs; each must have logged metrics.")
    app_insights_on_endpoints: bool = setting(
        True, title="Application Insights on endpoints", task="S6.T1",
        help="Send request telemetry (latency, errors, logs) of every deployment to Application Insights.")
    operational_metrics: list[Literal["cpu", "memory", "disk_io", "latency", "request_rate", "error_rate",
                                      "uptime", "app_logs", "gpu_utilisation"]] = setting(
        ["cpu", "memory", "disk_io", "latency", "request_rate", "error_rate", "uptime", "app_logs"],
        title="Operational metrics", task="S6.T1",
        help="Service metrics on the dashboard and alert rules; they show when the endpoint, not the model, "
             "is the problem.")
    slo: Slo = setting(Slo(), title="Service-level objectives", task="S6.T1", provenance="DERIVED",
                       help="Targets the endpoint is held to; alerts fire when they are missed.")

    # S6.T2 Watch for data drift: model monitoring with signals, thresholds and a schedule.
    monitoring_engine: Literal["v2_model_monitor", "v1_dataset_monitor"] = setting(
        "v2_model_monitor", title="Monitoring engine", task="S6.T2", provenance="V2",
        help="Azure ML model monitoring (v2) is current; v1 dataset monitors are deprecated and kept only "
             "for legacy SDK v1 projects.")
    monitor_name: AssetName = setting(
        "model-monitor", title="Monitor name", task="S6.T2", provenance="V2",
        help="Name of the monitor schedule in the workspace.")
    data_collection: DataCollection = setting(
        DataCollection(), title="Data collection", task="S6.T2", provenance="V2",
        help="Production inputs and outputs logged by the online deployment; no production signal works "
             "without it.")
    reference_data: Literal["training_data", "validation_data", "past_production_window"] = setting(
        "training_data", title="Reference data", task="S6.T2", provenance="V2",
        help="What production data is compared with: the model's training data (usual), its validation data, "
             "or an earlier production window.")
    ground_truth_available: bool = setting(
        False, title="Ground truth available", task="S6.T2", provenance="DERIVED",
        help="Whether true outcomes arrive later and can be joined to predictions; model-performance "
             "monitoring needs them.")
    monitor_signals: list[MonitorSignal] = setting(
        _default_signals(), title="Monitoring signals", task="S6.T2", provenance="V2",
        help="One row per signal, feature type and metric. The default is Azure ML's own: data drift, "
             "prediction drift and data quality over all features.")
    monitor_schedule: MonitorSchedule = setting(
        MonitorSchedule(), title="Monitor schedule", task="S6.T2", provenance="V2",
        help="When the monitor runs and how much production data it looks at.")
    alert_channels: list[Literal["email", "azure_monitor_action_group", "event_grid"]] = setting(
        ["email", "azure_monitor_action_group"], title="Alert channels", task="S6.T2",
        help="Where alerts go: e-mail to people, an Azure Monitor action group (people and automation), "
             "or Event Grid for automation.")
    alert_emails: list[Email] = setting(
        ["mlops-ops@contoso.com"], title="Alert e-mails", task="S6.T2", scope="environment",
        help="The Ops owner's alias (not a person's mailbox) so alerts are seen when people are away.")
    action_group_name: Annotated[str, Field(min_length=1, max_length=260, pattern=r"^[A-Za-z0-9_.()-]+$")] = \
        setting("ag-mlops-ops", title="Action group", task="S6.T2", scope="environment",
                help="Azure Monitor action group receiving alerts; its receivers are the Ops owner and any "
                     "automation.")

    # S6.T3 Audit ML workflows: Azure Policy guardrails and compliance review.
    audit_policies: list[AuditPolicyId] = setting(
        ["aml_workspace_private_link", "aml_workspace_disable_public_network", "aml_compute_in_vnet",
         "aml_compute_local_auth_disabled", "aml_compute_instance_idle_shutdown",
         "aml_workspace_resource_logs"],
        title="Audit policies", task="S6.T3", provenance="V2",
        help="Azure Policy built-in definitions for Azure ML assigned in audit mode; they let teams manage "
             "their own workspaces within guardrails.")
    compliance_scan_frequency: Literal["daily", "weekly"] = setting(
        "daily", title="Compliance scan", task="S6.T3",
        help="How often policy compliance is evaluated and collected.")
    audit_report_frequency: Literal["weekly", "monthly", "per_release"] = setting(
        "monthly", title="Audit report", task="S6.T3",
        help="How often the compliance report is produced for review.")

    # S6.T4 Retraining: turn monitoring events into pipeline runs, with a human gate in production.
    retraining_trigger: Literal["drift", "schedule", "both", "manual"] = setting(
        "both", title="Retraining trigger", task="S6.T4",
        help="What starts retraining: a drift alert, a schedule, both, or a person. Metric-driven retraining "
             "is what the higher maturity levels ask for.")
    retrain_schedule: Cron = setting(
        "0 4 * * 1", title="Retraining schedule (cron)", task="S6.T4",
        help="When scheduled retraining runs (UTC); weekly on Monday 04:00 by default.")
    retrain_cooldown_hours: int = setting(
        24, title="Cooldown (hours)", task="S6.T4", ge=0, le=24 * 90, provenance="DERIVED",
        help="Minimum time between two retraining runs, so repeated drift alerts do not start a storm of "
             "jobs.")
    retrain_target_pipeline: Literal["pipeline_job", "batch_endpoint_pipeline", "azure_devops_pipeline",
                                     "github_workflow"] = setting(
        "azure_devops_pipeline", title="Retraining target", task="S6.T4",
        help="What a trigger starts; a CI/CD pipeline keeps the test gates before any replacement.")
    event_subscriptions: list[EventSubscription] = setting(
        [EventSubscription(event_type="ModelRegistered", handler="azure_function",
                           target="model-test-pipeline"),
         EventSubscription(event_type="RunStatusChanged", filter="status=Failed",
                           handler="email_via_logic_app", target="mlops-ops@contoso.com"),
         EventSubscription(event_type="DatasetDriftDetected", handler="logic_app",
                           target="retraining-pipeline")],
        title="Event Grid subscriptions", task="S6.T4",
        help="Azure ML events routed to handlers: test on registration, e-mail Ops on failures, retrain on "
             "drift.")
    auto_promote_after_retrain: Literal["never", "if_better_than_champion_and_tests_pass"] = setting(
        "never", title="Promote after retraining", task="S6.T4",
        help="Never replace a production model without integration tests; 'never' keeps a human gate.")
    incident_runbook: bool = setting(
        True, title="Incident runbook", task="S6.T4",
        help="Generate an operations runbook with detection/response targets and rollback steps (shift "
             "traffic back to the previous deployment).")

    def cross_field_errors(self) -> Iterator[FieldError]:
        yield from self._signal_errors()
        signals = self.monitor_signals
        dc = self.data_collection
        if any(s.signal in NEEDS_INPUTS for s in signals) and not dc.collect_inputs:
            yield err("data_collection.collect_inputs", "data_collection_required", False,
                      "data drift, data quality and feature attribution signals need collected model inputs")
        if any(s.signal in NEEDS_OUTPUTS for s in signals) and not dc.collect_outputs:
            yield err("data_collection.collect_outputs", "data_collection_required", False,
                      "prediction drift, feature attribution and model performance signals need collected "
                      "model outputs")
        if "email" in self.alert_channels and not self.alert_emails and any(s.alert_enabled for s in signals):
            yield err("alert_emails", "alert_recipients_required", [],
                      "e-mail alerts are on: give at least one recipient (the Ops alias)")
        if self.retraining_trigger in ("drift", "both"):
            if not any(s.signal in DRIFT_SIGNALS and s.alert_enabled for s in signals):
                yield err("retraining_trigger", "drift_trigger_needs_signal", self.retraining_trigger,
                          "drift-triggered retraining needs a data_drift or prediction_drift signal with "
                          "alerts on")
            if not {"azure_monitor_action_group", "event_grid"} & set(self.alert_channels):
                yield err("alert_channels", "drift_trigger_needs_route", self.alert_channels,
                          "drift-triggered retraining needs an automation route: add "
                          "azure_monitor_action_group "
                          "or event_grid")

    def _signal_errors(self) -> Iterator[FieldError]:
        seen: set[tuple[str, str, str]] = set()
        kinds: dict[str, str] = {}
        drift_metric: dict[tuple[str, str], str] = {}
        for i, s in enumerate(self.monitor_signals):
            where = f"monitor_signals.{i}"
            valid = SIGNAL_METRICS[s.signal]
            if valid is not None and s.feature_type not in valid:
                yield err(f"{where}.feature_type", "monitor_feature_type", s.feature_type,
                          f"{s.signal} takes feature type {' or '.join(valid)}")
            elif valid is not None and s.metric not in valid[s.feature_type]:
                yield err(f"{where}.metric", "monitor_metric", s.metric,
                          f"{s.signal} ({s.feature_type}) metrics are: {', '.join(valid[s.feature_type])}")
            if s.metric in _UNIT_INTERVAL and s.threshold > 1:
                yield err(f"{where}.threshold", "threshold_range", s.threshold,
                          f"{s.metric} lies between 0 and 1, so the threshold must too")
            if s.signal == "model_performance" and not self.ground_truth_available:
                yield err(f"{where}.signal", "ground_truth_required", s.signal,
                          "model performance needs ground truth: set 'Ground truth available' or remove the "
                          "row")
            if self.monitoring_engine == "v1_dataset_monitor" and s.signal != "data_drift":
                yield err(f"{where}.signal", "v1_monitor_signals", s.signal,
                          "v1 dataset monitors only detect data drift: use v2_model_monitor for other "
                          "signals")
            name = s.effective_name
            if kinds.setdefault(name, s.signal) != s.signal:
                yield err(f"{where}.signal_name", "signal_name_type", name,
                          f"signal name '{name}' is already used by a {kinds[name]} signal")
            key = (name, s.feature_type, s.metric)
            if key in seen:
                yield err(f"{where}.metric", "duplicate_signal_metric", s.metric,
                          f"{name} already has a {s.feature_type} {s.metric} threshold")
            seen.add(key)
            if s.signal in DRIFT_SIGNALS:
                first = drift_metric.setdefault((name, s.feature_type), s.metric)
                if first != s.metric:
                    yield err(f"{where}.metric", "one_metric_per_feature_type", s.metric,
                              f"a drift signal takes one {s.feature_type} metric ({name} already uses "
                              f"{first}); give this row another signal name")
