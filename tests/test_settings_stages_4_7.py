"""Settings schemas of stages 4-7 (data, models, monitor, migrate): defaults, JSON Schema,
field-level rules and every cross-field rule."""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest

from mlops_accelerator.errors import FieldError
from mlops_accelerator.settings import default_settings, json_schema, schema_for, validate_settings

STAGES = ["data", "models", "monitor", "migrate"]
STAGE_NUMBER = {"data": 4, "models": 5, "monitor": 6, "migrate": 7}


def errors_for(stage: str, data: dict) -> list[FieldError]:
    model, errors = validate_settings(stage, data)
    assert (model is None) == bool(errors)
    return errors


def with_defaults(stage: str, **changes) -> dict:
    """The stage's defaults (plain JSON data) with top-level keys replaced."""
    data = copy.deepcopy(default_settings(stage))
    data.update(changes)
    return data


def one_error(stage: str, data: dict, field: str, rule: str) -> FieldError:
    errors = errors_for(stage, data)
    hits = [e for e in errors if e.field == field and e.rule == rule]
    assert hits, f"expected {rule} on {field}, got: {[str(e) for e in errors]}"
    return hits[0]


# ---------------------------------------------------------------------------
# Defaults and schema


@pytest.mark.parametrize("stage", STAGES)
def test_defaults_validate(stage):
    assert validate_settings(stage, {}) == (schema_for(stage)(), [])
    assert list(schema_for(stage)().cross_field_errors()) == []
    # the dumped defaults validate too (round trip through the project file)
    assert errors_for(stage, default_settings(stage)) == []


@pytest.mark.parametrize("stage", STAGES)
def test_json_schema_is_valid_and_accepts_defaults(stage):
    schema = json_schema(stage)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(default_settings(stage))
    json.dumps(schema)  # serialisable for the REST API and the front end


def _field_schemas(schema: dict):
    yield from schema["properties"].items()
    for definition in schema.get("$defs", {}).values():
        yield from definition.get("properties", {}).items()


@pytest.mark.parametrize("stage", STAGES)
def test_every_field_has_wizard_metadata(stage):
    from mlops_accelerator.catalogue import load_catalogue

    catalogue = load_catalogue()
    number = STAGE_NUMBER[stage]
    schema = json_schema(stage)
    fields = list(_field_schemas(schema))
    assert len(schema["properties"]) >= 8
    for name, prop in fields:
        assert prop.get("title"), name
        assert len(prop.get("description", "")) >= 20, f"{name}: help text too short"
        assert re.fullmatch(rf"S{number}\.T\d", prop["task"]), name
        catalogue.task(prop["task"])  # a task the catalogue knows
        assert prop["scope"] in ("project", "environment"), name
        assert prop["provenance"] in ("SRC", "SRC-MS", "DERIVED", "V2"), name
        assert "default" in prop, f"{name}: every setting has a default"


@pytest.mark.parametrize("stage", STAGES)
def test_unknown_key_is_rejected(stage):
    e = one_error(stage, {"no_such_setting": 1}, "no_such_setting", "unknown_field")
    assert e.value == 1 and "not a setting" in e.message


def test_unknown_key_inside_a_record_is_rejected():
    data = with_defaults("data")
    data["datastores"][0]["password"] = "x"
    one_error("data", data, "datastores.0.password", "unknown_field")


def test_errors_are_json_serialisable():
    errors = errors_for("models", {"framework": "caffe", "online_endpoint": {"name": "9bad"}})
    json.dumps([e.to_dict() for e in errors])
    assert all(str(e).startswith(e.field) for e in errors)


# ---------------------------------------------------------------------------
# Field-level rules (name the field path, the rule and the value)


@pytest.mark.parametrize(
    "stage,data,field,rule,value",
    [
        (
            "data",
            {"datastores": [{"name": "my-store", "is_default": True}]},
            "datastores.0.name",
            "azure_ml_datastore_name",
            "my-store",
        ),
        (
            "data",
            {"datastores": [{"account_name": "My_Account", "is_default": True}]},
            "datastores.0.account_name",
            "azure_storage_account_name",
            "My_Account",
        ),
        (
            "data",
            {"datastores": [{"container": "Bad--Name", "is_default": True}]},
            "datastores.0.container",
            "azure_storage_container_name",
            "Bad--Name",
        ),
        (
            "data",
            {"data_assets": [{"path": "https://acct.blob.core.windows.net/c/x.csv"}]},
            "data_assets.0.path",
            "azureml_datastore_path",
            "https://acct.blob.core.windows.net/c/x.csv",
        ),
        ("data", {"data_assets": [{"name": "-bad"}]}, "data_assets.0.name", "azure_ml_asset_name", "-bad"),
        ("data", {"data_assets": [{"version": "1 0"}]}, "data_assets.0.version", "asset_version", "1 0"),
        ("data", {"ingestion_tool": "ftp"}, "ingestion_tool", "choice", "ftp"),
        ("data", {"data_layers": [{"layer": "platinum"}]}, "data_layers.0.layer", "choice", "platinum"),
        (
            "data",
            {"ingestion_schedule": {"cron": "every day"}},
            "ingestion_schedule.cron",
            "cron",
            "every day",
        ),
        ("data", {"labeling_project": {"labelers": ["bob"]}}, "labeling_project.labelers.0", "email", "bob"),
        ("data", {"data_splits": {"train_pct": 0}}, "data_splits.train_pct", "greater_than_equal", 0),
        ("models", {"framework": "caffe"}, "framework", "choice", "caffe"),
        (
            "models",
            {"online_endpoint": {"name": "9-endpoint"}},
            "online_endpoint.name",
            "azure_ml_endpoint_name",
            "9-endpoint",
        ),
        (
            "models",
            {"online_endpoint": {"deployments": [{"name": "b"}]}},
            "online_endpoint.deployments.0.name",
            "azure_ml_deployment_name",
            "b",
        ),
        (
            "models",
            {"online_endpoint": {"deployments": [{"instance_count": 0}]}},
            "online_endpoint.deployments.0.instance_count",
            "greater_than_equal",
            0,
        ),
        (
            "models",
            {"online_endpoint": {"deployments": [{"traffic": 101}]}},
            "online_endpoint.deployments.0.traffic",
            "less_than_equal",
            101,
        ),
        (
            "models",
            {"online_endpoint": {"deployments": [{"instance_type": "DS3"}]}},
            "online_endpoint.deployments.0.instance_type",
            "vm_sku",
            "DS3",
        ),
        (
            "models",
            {"online_endpoint": {"auth_mode": "token"}},
            "online_endpoint.auth_mode",
            "choice",
            "token",
        ),
        (
            "models",
            {"model_registration": {"type": "onnx_model"}},
            "model_registration.type",
            "choice",
            "onnx_model",
        ),
        (
            "models",
            {"experiment_name": "my experiment"},
            "experiment_name",
            "experiment_name",
            "my experiment",
        ),
        ("models", {"compute_name": "c"}, "compute_name", "azure_ml_compute_cluster_name", "c"),
        ("models", {"coverage_threshold_pct": 120}, "coverage_threshold_pct", "less_than_equal", 120),
        (
            "monitor",
            {"monitor_signals": [{"signal": "concept_drift"}]},
            "monitor_signals.0.signal",
            "choice",
            "concept_drift",
        ),
        (
            "monitor",
            {"monitor_schedule": {"cron": "0 25 * * *"}},
            "monitor_schedule.cron",
            "cron",
            "0 25 * * *",
        ),
        ("monitor", {"alert_emails": ["ops"]}, "alert_emails.0", "email", "ops"),
        (
            "monitor",
            {"audit_policies": ["require_everything"]},
            "audit_policies.0",
            "choice",
            "require_everything",
        ),
        (
            "monitor",
            {"data_collection": {"sampling_rate_pct": 0}},
            "data_collection.sampling_rate_pct",
            "greater_than",
            0,
        ),
        ("monitor", {"retraining_trigger": "always"}, "retraining_trigger", "choice", "always"),
        ("migrate", {"target_sdk": "v3"}, "target_sdk", "choice", "v3"),
        (
            "migrate",
            {"cutover_plan": {"decommission_date": "next week"}},
            "cutover_plan.decommission_date",
            "date_from_datetime_parsing",
            "next week",
        ),
        (
            "migrate",
            {"config_mapping": {"realtime_endpoint": "aci_webservice"}},
            "config_mapping.realtime_endpoint",
            "azure_ml_endpoint_name",
            "aci_webservice",
        ),
    ],
)
def test_field_rules(stage, data, field, rule, value):
    e = one_error(stage, data, field, rule)
    assert e.value == value
    assert e.message


def test_naming_error_message_names_the_rule():
    e = one_error(
        "data",
        {"datastores": [{"name": "my-store", "is_default": True}]},
        "datastores.0.name",
        "azure_ml_datastore_name",
    )
    assert "datastore name" in e.message and "Azure naming rule" in e.message


# ---------------------------------------------------------------------------
# Stage 4 cross-field rules


def test_data_splits_must_sum_to_100():
    e = one_error(
        "data",
        {"data_splits": {"train_pct": 80, "validation_pct": 15, "test_pct": 15}},
        "data_splits",
        "sum_to_100",
    )
    assert e.value == 110 and "110" in e.message
    assert errors_for("data", {"data_splits": {"train_pct": 80, "validation_pct": 10, "test_pct": 10}}) == []


@pytest.mark.parametrize(
    "strategy,column", [("time_based", "time_column"), ("stratified", "stratify_column")]
)
def test_split_strategy_needs_its_column(strategy, column):
    one_error("data", {"data_splits": {"strategy": strategy}}, f"data_splits.{column}", "required_if")
    assert errors_for("data", {"data_splits": {"strategy": strategy, column: "c"}}) == []


def test_asset_must_reference_a_declared_datastore():
    data = with_defaults("data")
    data["data_assets"][0]["path"] = "azureml://datastores/unknown/paths/training-data/1/"
    e = one_error("data", data, "data_assets.0.path", "datastore_reference")
    assert "'unknown'" in e.message and "silver" in e.message


@pytest.mark.parametrize("defaults", [[], ["bronze", "silver"]])
def test_exactly_one_default_datastore(defaults):
    data = with_defaults("data")
    for d in data["datastores"]:
        d["is_default"] = d["name"] in defaults
    e = one_error("data", data, "datastores", "single_default_datastore")
    assert e.value == defaults


def test_datastore_names_are_unique():
    data = with_defaults("data")
    data["datastores"][2]["name"] = "bronze"
    one_error("data", data, "datastores.2.name", "unique_name")


def test_labeling_project_required_when_labeling_required():
    one_error("data", {"labeling_required": True}, "labeling_project", "required_if")
    assert errors_for("data", {"labeling_required": True, "labeling_project": {}}) == []


def test_labeling_task_must_fit_the_media():
    one_error(
        "data",
        {"labeling_project": {"media": "text", "task": "object_detection_bbox"}},
        "labeling_project.task",
        "labeling_task_for_media",
    )
    assert errors_for("data", {"labeling_project": {"media": "text", "task": "ner"}}) == []


@pytest.mark.parametrize(
    "policy,good,bad",
    [("auto_increment", "2", "2024.1"), ("date_stamp", "20240501", "20241301"), ("semver", "1.2.0", "3")],
)
def test_asset_version_follows_the_versioning_policy(policy, good, bad):
    def data(version):
        d = with_defaults("data", versioning_policy=policy)
        d["data_assets"][0].update(
            version=version, path=f"azureml://datastores/silver/paths/training-data/{version}/"
        )
        return d

    assert errors_for("data", data(good)) == []
    one_error("data", data(bad), "data_assets.0.version", "version_policy")


def test_asset_path_holds_its_version():
    data = with_defaults("data")
    data["data_assets"][0]["path"] = "azureml://datastores/silver/paths/training-data/latest/"
    one_error("data", data, "data_assets.0.path", "version_in_path")
    data["version_in_path"] = False
    assert errors_for("data", data) == []


def test_asset_carries_required_tags():
    data = with_defaults("data")
    del data["data_assets"][0]["tags"]["pii"]
    e = one_error("data", data, "data_assets.0.tags", "required_tags")
    assert "pii" in e.message


def test_asset_name_and_version_are_unique():
    data = with_defaults("data")
    data["data_assets"].append(copy.deepcopy(data["data_assets"][0]))
    one_error("data", data, "data_assets.1.version", "unique_name")


def test_layers_reference_datastores_and_pii_needs_silver():
    one_error(
        "data",
        {"data_layers": [{"layer": "bronze", "datastore": "lake"}]},
        "data_layers.0.datastore",
        "datastore_reference",
    )
    one_error(
        "data",
        {"data_layers": [{"layer": "bronze", "datastore": "bronze"}]},
        "data_layers",
        "pii_needs_silver",
    )


def test_storage_rbac_container_scope_needs_a_declared_datastore():
    one_error("data", {"storage_rbac": [{"scope": "container"}]}, "storage_rbac.0.datastore", "required_if")
    one_error(
        "data",
        {"storage_rbac": [{"scope": "container", "datastore": "lake"}]},
        "storage_rbac.0.datastore",
        "datastore_reference",
    )
    assert errors_for("data", {"storage_rbac": [{"scope": "container", "datastore": "gold"}]}) == []


def test_range_rule_needs_min_not_above_max():
    e = one_error(
        "data",
        {"data_quality_rules": [{"column": "age", "rule": "range", "min": 10, "max": 1}]},
        "data_quality_rules.0.max",
        "range_bounds",
    )
    assert e.value == 1
    one_error(
        "data",
        {"data_quality_rules": [{"column": "age", "rule": "range"}]},
        "data_quality_rules.0.min",
        "rule_parameter_required",
    )
    assert errors_for("data", {"data_quality_rules": [{"column": "age", "rule": "range", "min": 0}]}) == []


@pytest.mark.parametrize("rule,field", [("allowed_values", "allowed"), ("type", "expected_type")])
def test_quality_rule_parameters_required(rule, field):
    one_error(
        "data",
        {"data_quality_rules": [{"column": "c", "rule": rule}]},
        f"data_quality_rules.0.{field}",
        "rule_parameter_required",
    )


def test_quality_rule_asset_must_exist():
    one_error(
        "data",
        {"data_quality_rules": [{"column": "c", "asset": "other"}]},
        "data_quality_rules.0.asset",
        "asset_reference",
    )


def test_all_errors_are_reported_at_once():
    errors = errors_for("data", {"data_splits": {"train_pct": 50}, "labeling_required": True})
    assert {e.rule for e in errors} == {"sum_to_100", "required_if"}


# ---------------------------------------------------------------------------
# Stage 5 cross-field rules


@pytest.mark.parametrize("metric", ["mse", "rmse", "mae", "log_loss", "RMSE"])
def test_error_metrics_must_be_minimised(metric):
    # the source's evaluate.py: metric mse with maximize=True
    e = one_error(
        "models",
        {"primary_metric": {"name": metric, "goal": "maximize"}},
        "primary_metric.goal",
        "metric_goal",
    )
    assert "minimize" in e.message
    assert (
        errors_for(
            "models", {"primary_metric": {"name": metric, "goal": "minimize"}, "metric_thresholds": []}
        )
        == []
    )


def test_scores_must_be_maximised_and_unknown_metrics_are_free():
    one_error(
        "models",
        {"primary_metric": {"name": "accuracy", "goal": "minimize"}},
        "primary_metric.goal",
        "metric_goal",
    )
    assert errors_for("models", {"primary_metric": {"name": "business_value", "goal": "minimize"}}) == []


def test_threshold_direction_follows_the_metric():
    one_error(
        "models",
        {"metric_thresholds": [{"metric": "rmse", "direction": "at_least", "value": 5}]},
        "metric_thresholds.0.direction",
        "metric_goal",
    )


def test_deployment_traffic_sums_to_100_and_names_are_unique():
    deployments = [{"name": "blue", "traffic": 90}, {"name": "green", "traffic": 20}]
    e = one_error(
        "models",
        {"online_endpoint": {"deployments": deployments}},
        "online_endpoint.deployments",
        "sum_to_100",
    )
    assert e.value == 110
    deployments = [{"name": "blue", "traffic": 50}, {"name": "blue", "traffic": 50}]
    one_error(
        "models",
        {"online_endpoint": {"deployments": deployments}},
        "online_endpoint.deployments.1.name",
        "unique_name",
    )
    deployments = [{"name": "blue", "traffic": 90}, {"name": "green", "traffic": 10}]
    assert errors_for("models", {"online_endpoint": {"deployments": deployments}}) == []


def test_at_least_one_deployment():
    one_error("models", {"online_endpoint": {"deployments": []}}, "online_endpoint.deployments", "too_short")


def test_automl_needs_a_task():
    one_error("models", {"training_method": "automl"}, "automl_task", "required_if")
    assert errors_for("models", {"training_method": "automl", "automl_task": "classification"}) == []


def test_distributed_training_rules():
    one_error(
        "models",
        {"distributed_training": {"enabled": True, "node_count": 2}, "training_compute": "compute_instance"},
        "training_compute",
        "distributed_needs_cluster",
    )
    one_error(
        "models",
        {"distributed_training": {"enabled": True}},
        "distributed_training.node_count",
        "distributed_needs_workers",
    )
    assert errors_for("models", {"distributed_training": {"enabled": True, "node_count": 2}}) == []


def test_sweep_rules():
    one_error(
        "models",
        {"hyperparameter_tuning": {"enabled": True, "sampling": "bayesian"}},
        "hyperparameter_tuning.early_termination",
        "sweep_early_termination",
    )
    one_error(
        "models",
        {"hyperparameter_tuning": {"max_trials": 2, "max_concurrent_trials": 4}},
        "hyperparameter_tuning.max_concurrent_trials",
        "max_concurrent_le_trials",
    )


def test_fairness_needs_sensitive_features():
    one_error(
        "models",
        {"responsible_ai": {"components": ["fairness"]}},
        "responsible_ai.sensitive_features",
        "required_if",
    )
    assert (
        errors_for("models", {"responsible_ai": {"components": ["fairness"], "sensitive_features": ["age"]}})
        == []
    )


def test_triton_needs_a_deep_learning_framework():
    one_error(
        "models",
        {"model_registration": {"type": "triton_model"}},
        "model_registration.type",
        "triton_framework",
    )
    assert (
        errors_for("models", {"model_registration": {"type": "triton_model"}, "framework": "pytorch"}) == []
    )


def test_pipeline_steps_in_order_and_promotion_path_unique():
    one_error("models", {"pipeline_steps": ["train", "dataprep"]}, "pipeline_steps", "pipeline_step_order")
    one_error("models", {"promotion_path": ["dev", "prod", "dev"]}, "promotion_path", "unique_name")


def test_online_and_batch_endpoint_names_differ():
    one_error(
        "models",
        {"deployment_pattern": "both", "batch_endpoint": {"name": "mlops-online"}},
        "batch_endpoint.name",
        "endpoint_name_clash",
    )


# ---------------------------------------------------------------------------
# Stage 6 cross-field rules


def test_default_signals_are_azure_mls_own_default():
    from mlops_accelerator.settings.monitor import DEFAULT_THRESHOLDS

    signals = default_settings("monitor")["monitor_signals"]
    assert {s["signal"] for s in signals} == {"data_drift", "prediction_drift", "data_quality"}
    for s in signals:
        assert s["threshold"] == DEFAULT_THRESHOLDS[(s["feature_type"], s["metric"])]
        assert s["features"] == []  # all features
    assert {(s["feature_type"], s["metric"]) for s in signals if s["signal"] == "data_drift"} == {
        ("numerical", "normalized_wasserstein_distance"),
        ("categorical", "jensen_shannon_distance"),
    }


def test_signal_and_metric_names_are_azure_ai_mls():
    constants = pytest.importorskip("azure.ai.ml.constants._monitoring")
    from mlops_accelerator.settings.monitor import SIGNAL_METRICS

    sdk_signals = {s.value for s in constants.MonitorSignalType}
    sdk_metrics = {m.value.lower() for m in constants.MonitorMetricName}
    assert set(SIGNAL_METRICS) <= sdk_signals
    for by_type in SIGNAL_METRICS.values():
        for metrics in (by_type or {}).values():
            assert {m.lower() for m in metrics} <= sdk_metrics


def test_drift_metric_must_fit_the_signal():
    signals = [{"signal": "data_drift", "feature_type": "numerical", "metric": "pearsons_chi_squared_test"}]
    e = one_error("monitor", {"monitor_signals": signals}, "monitor_signals.0.metric", "monitor_metric")
    assert e.value == "pearsons_chi_squared_test" and "normalized_wasserstein_distance" in e.message
    signals = [{"signal": "data_quality", "metric": "jensen_shannon_distance", "threshold": 0.0}]
    one_error("monitor", {"monitor_signals": signals}, "monitor_signals.0.metric", "monitor_metric")
    signals = [
        {
            "signal": "prediction_drift",
            "feature_type": "categorical",
            "metric": "pearsons_chi_squared_test",
            "threshold": 0.05,
        }
    ]
    assert errors_for("monitor", {"monitor_signals": signals}) == []


def test_feature_type_must_fit_the_signal():
    signals = [
        {
            "signal": "feature_attribution_drift",
            "metric": "normalized_discounted_cumulative_gain",
            "threshold": 0.9,
        }
    ]
    one_error(
        "monitor", {"monitor_signals": signals}, "monitor_signals.0.feature_type", "monitor_feature_type"
    )
    signals[0]["feature_type"] = "not_applicable"
    assert errors_for("monitor", {"monitor_signals": signals, "retraining_trigger": "schedule"}) == []


def test_threshold_range_for_unit_metrics():
    signals = [
        {
            "signal": "data_drift",
            "feature_type": "categorical",
            "metric": "jensen_shannon_distance",
            "threshold": 1.5,
        }
    ]
    one_error("monitor", {"monitor_signals": signals}, "monitor_signals.0.threshold", "threshold_range")


def test_model_performance_needs_ground_truth():
    signals = [
        {
            "signal": "model_performance",
            "feature_type": "not_applicable",
            "metric": "accuracy",
            "threshold": 0.8,
        }
    ]
    one_error("monitor", {"monitor_signals": signals}, "monitor_signals.0.signal", "ground_truth_required")
    assert (
        errors_for(
            "monitor",
            {"monitor_signals": signals, "ground_truth_available": True, "retraining_trigger": "schedule"},
        )
        == []
    )


def test_custom_signal_accepts_any_metric_name():
    signals = [
        {"signal": "custom", "feature_type": "not_applicable", "metric": "my_business_kpi", "threshold": 3}
    ]
    assert errors_for("monitor", {"monitor_signals": signals, "retraining_trigger": "schedule"}) == []


def test_signal_grouping_rules():
    signals = [
        {"signal": "data_drift", "signal_name": "drift", "metric": "normalized_wasserstein_distance"},
        {"signal": "data_quality", "signal_name": "drift", "metric": "null_value_rate", "threshold": 0},
    ]
    one_error("monitor", {"monitor_signals": signals}, "monitor_signals.1.signal_name", "signal_name_type")
    signals = [{"signal": "data_drift"}, {"signal": "data_drift"}]
    one_error("monitor", {"monitor_signals": signals}, "monitor_signals.1.metric", "duplicate_signal_metric")
    signals = [{"signal": "data_drift"}, {"signal": "data_drift", "metric": "population_stability_index"}]
    one_error(
        "monitor", {"monitor_signals": signals}, "monitor_signals.1.metric", "one_metric_per_feature_type"
    )
    signals[1]["signal_name"] = "psi-drift"
    assert errors_for("monitor", {"monitor_signals": signals}) == []


def test_v1_engine_only_monitors_data_drift():
    one_error(
        "monitor",
        {"monitoring_engine": "v1_dataset_monitor"},
        "monitor_signals.2.signal",
        "v1_monitor_signals",
    )


@pytest.mark.parametrize(
    "switch,field",
    [
        ("collect_inputs", "data_collection.collect_inputs"),
        ("collect_outputs", "data_collection.collect_outputs"),
    ],
)
def test_production_signals_need_data_collection(switch, field):
    one_error("monitor", {"data_collection": {switch: False}}, field, "data_collection_required")


def test_email_alerts_need_recipients():
    one_error("monitor", {"alert_emails": []}, "alert_emails", "alert_recipients_required")
    assert errors_for("monitor", {"alert_emails": [], "alert_channels": ["azure_monitor_action_group"]}) == []


def test_drift_retraining_needs_a_drift_signal_and_a_route():
    quality_only = [{"signal": "data_quality", "metric": "null_value_rate", "threshold": 0}]
    one_error(
        "monitor", {"monitor_signals": quality_only}, "retraining_trigger", "drift_trigger_needs_signal"
    )
    one_error("monitor", {"alert_channels": ["email"]}, "alert_channels", "drift_trigger_needs_route")
    assert errors_for("monitor", {"alert_channels": ["email"], "retraining_trigger": "schedule"}) == []


# ---------------------------------------------------------------------------
# Stage 7 cross-field rules


def test_parity_tolerance_must_be_positive():
    e = one_error(
        "migrate", {"parity_tolerance": {"relative_pct": 0}}, "parity_tolerance", "parity_tolerance_positive"
    )
    assert "above 0" in e.message
    assert errors_for("migrate", {"parity_tolerance": {"relative_pct": 0, "absolute": 0.01}}) == []
    one_error(
        "migrate", {"parity_tolerance": {"absolute": -1}}, "parity_tolerance.absolute", "greater_than_equal"
    )


def test_parity_metric_must_be_a_metric_of_record():
    one_error(
        "migrate",
        {"parity_tolerance": {"metric": "auc"}},
        "parity_tolerance.metric",
        "parity_metric_of_record",
    )


def test_decommission_after_the_parallel_run():
    plan = {"parallel_run_start": "2025-03-01", "parallel_run_days": 14, "decommission_date": "2025-03-10"}
    e = one_error(
        "migrate", {"cutover_plan": plan}, "cutover_plan.decommission_date", "decommission_after_parallel_run"
    )
    assert e.value == "2025-03-10" and "2025-03-15" in e.message
    plan["decommission_date"] = "2025-03-15"
    assert errors_for("migrate", {"cutover_plan": plan}) == []


def test_every_legacy_serving_mode_is_ported():
    one_error(
        "migrate",
        {"legacy_inventory": [{"serving": "api"}]},
        "inference_modes_to_port",
        "inference_mode_coverage",
    )
    assert (
        errors_for(
            "migrate", {"legacy_inventory": [{"serving": "api"}], "inference_modes_to_port": ["realtime"]}
        )
        == []
    )


def test_legacy_inventory_names_unique():
    one_error("migrate", {"legacy_inventory": [{}, {}]}, "legacy_inventory.1.name", "unique_name")


def test_no_secret_fields_in_any_schema():
    # datastores record the auth *type* only; keys and SAS tokens stay in Key Vault
    for stage in STAGES:
        text = json.dumps(json_schema(stage)["properties"]).lower()
        for word in ('"password"', '"account_key":', '"sas_token":', '"client_secret"'):
            assert word not in text, (stage, word)
