"""Automatic deliverable checks of stages 4-7: each passes on a good context and fails with an
actionable reason on a bad one. Contexts are built directly from settings models and the evidence
dicts documented in each check module's docstring."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import mlops_accelerator.checks.data  # noqa: F401  (registers the checks)
import mlops_accelerator.checks.migrate  # noqa: F401
import mlops_accelerator.checks.models  # noqa: F401
import mlops_accelerator.checks.monitor  # noqa: F401
from mlops_accelerator.checks import _REGISTRY, CheckContext, CheckResult, MissingInput, failed
from mlops_accelerator.settings import validate_settings
from mlops_accelerator.settings.monitor import AML_AUDIT_POLICIES
from mlops_accelerator.templates import stage_templates

SLUGS = {4: "data", 5: "models", 6: "monitor", 7: "migrate"}

# Settings each stage starts from (on top of its defaults).
SETTINGS: dict[str, dict[str, Any]] = {
    "data": {"data_quality_rules": [{"column": "id", "rule": "not_null"}]},
    "models": {},
    "monitor": {},
    "migrate": {},
}

_TAGS = {"source": "crm-db", "layer": "silver", "schema_version": "1", "pii": "false"}
_ALL_UNIT_TESTS = [
    "data_prep_functions",
    "feature_functions",
    "model_io_shapes",
    "weights_update_after_fit",
    "dummy_data_prediction_format",
    "scoring_script_contract",
]

EVIDENCE: dict[str, dict[str, Any]] = {
    "data": {
        "ingestion_runs": [
            {
                "source": "crm-db",
                "pipeline": "ingestion/crm-db.json",
                "status": "Succeeded",
                "finished": "2024-05-01T01:20:00Z",
            }
        ],
        "wrangling": {
            "pipeline": "src/dataprep.py",
            "layers_written": ["bronze", "silver", "gold"],
            "pii_columns_in_silver": [],
        },
        "data_quality": [
            {
                "column": "id",
                "rule": "not_null",
                "asset": "training-data",
                "severity": "error",
                "passed": True,
                "failed_rows": 0,
            }
        ],
        "datastores": [
            {
                "name": n,
                "type": "azure_data_lake_gen2",
                "auth": "identity_based",
                "account_name": "stmlopsdata",
                "container": n,
            }
            for n in ("bronze", "silver", "gold")
        ],
        "data_assets": [
            {
                "name": "training-data",
                "version": "1",
                "type": "uri_folder",
                "path": "azureml://datastores/silver/paths/training-data/1/",
                "tags": dict(_TAGS),
            }
        ],
        "storage_role_assignments": [
            {
                "principal": "data-scientists",
                "role": "Storage Blob Data Reader",
                "scope": "account",
                "datastore": None,
            },
            {
                "principal": "data-engineers",
                "role": "Storage Blob Data Contributor",
                "scope": "account",
                "datastore": None,
            },
            {
                "principal": "workspace",
                "role": "Storage Blob Data Reader",
                "scope": "account",
                "datastore": None,
            },
        ],
        "artifacts": {"lineage_report": "data/lineage.html"},
    },
    "models": {
        "training_job": {
            "name": "train-1",
            "status": "Completed",
            "compute": "cpu-cluster",
            "git": {"repository": "https://github.com/contoso/churn.git", "commit": "3f2a1c9d"},
            "metrics": {"accuracy": 0.91},
            "params": {"n_estimators": 200},
        },
        "model": {
            "name": "baseline-classifier",
            "version": "3",
            "type": "custom_model",
            "tags": {
                "stage": "champion",
                "primary_metric": "0.91",
                "data_asset": "training-data:1",
                "git_commit": "3f2a1c9d",
            },
        },
        "unit_tests": {"passed": 24, "failed": 0, "errors": 0, "kinds": list(_ALL_UNIT_TESTS)},
        "code_quality": {"flake8": {"violations": 0}, "pylint": {"violations": 0}},
        "coverage_pct": 82.5,
        "evaluation": {"metric": "accuracy", "candidate": 0.91, "champion": 0.89, "decision": "promote"},
        "responsible_ai": {"components": ["error_analysis", "explanations"]},
        "endpoint_smoke_test": {
            "passed": True,
            "status_code": 200,
            "schema_valid": True,
            "environment": "dev",
        },
        "batch_job": {"status": "Completed", "output": "azureml://datastores/workspaceblobstore/paths/p.csv"},
        "pipeline_specs": [{"path": "pipelines/train.yml", "valid": True, "error": None}],
        "ci": {"status": "succeeded", "url": "https://dev.azure.com/contoso/ci/1"},
        "cd": {"status": "succeeded", "url": "https://dev.azure.com/contoso/cd/1"},
        "approval": {
            "approved": True,
            "by": "Ana Lima",
            "role": "product_owner",
            "model": "baseline-classifier:3",
        },
        "artifacts": {"unit_test_junit": "models/junit.xml", "responsible_ai_report": "models/rai.html"},
    },
    "monitor": {
        "recent_jobs": [{"name": f"job-{i}", "metrics": {"accuracy": 0.9}} for i in range(6)],
        "endpoints": [
            {
                "name": "mlops-online",
                "environment": "prod",
                "deployments": [
                    {
                        "name": "blue",
                        "app_insights_enabled": True,
                        "telemetry_present": True,
                        "data_collector": {"model_inputs": True, "model_outputs": True},
                    }
                ],
            }
        ],
        "collected_data": {
            "model_inputs": {"rows": 1200, "path": "azureml://datastores/workspaceblobstore/x"},
            "model_outputs": {"rows": 1200, "path": "azureml://datastores/workspaceblobstore/y"},
        },
        "monitor": {
            "name": "model-monitor",
            "schedule": "0 3 * * *",
            "alert_emails": ["mlops-ops@contoso.com"],
            "signals": [
                {"name": "data-drift-signal", "type": "data_drift", "alert_enabled": True},
                {"name": "prediction-drift-signal", "type": "prediction_drift", "alert_enabled": True},
                {"name": "data-quality-signal", "type": "data_quality", "alert_enabled": True},
            ],
        },
        "policy_assignments": [
            {"policy": p, "compliance_state": "Compliant", "non_compliant_resources": 0}
            for p in (
                "aml_workspace_private_link",
                "aml_workspace_disable_public_network",
                "aml_compute_in_vnet",
                "aml_compute_local_auth_disabled",
                "aml_compute_instance_idle_shutdown",
                "aml_workspace_resource_logs",
            )
        ],
        "retraining": {
            "schedule": {
                "name": "retrain-weekly",
                "cron": "0 4 * * 1",
                "target": "training-pipeline",
                "target_valid": True,
            },
            "drift_route": {
                "route": "azure_monitor_action_group",
                "target": "retraining-pipeline",
                "target_valid": True,
            },
        },
        "alerts": {
            "action_group": {
                "name": "ag-mlops-ops",
                "receivers": [{"kind": "email", "address": "mlops-ops@contoso.com"}],
            },
            "test_alert_delivered": True,
        },
    },
    "migrate": {
        "setup_runs": [{"environment": e, "status": "succeeded"} for e in ("dev", "test", "prod")],
        "config_files": [
            {"path": "configuration/configuration-aml.variables.yml", "valid": True, "error": None}
        ],
        "dataprep": {"status": "succeeded", "data_asset": {"name": "training-data", "version": "2"}},
        "training_pipeline": {
            "status": "succeeded",
            "model": {"name": "baseline-classifier", "version": "1", "tags": {"accuracy": "0.848"}},
        },
        "realtime_smoke_test": {"passed": True, "status_code": 200},
        "batch_scoring": {
            "status": "succeeded",
            "output": "azureml://datastores/workspaceblobstore/paths/p.csv",
        },
        "cicd_runs": [
            {"pipeline": "PIPELINE-1-modeling", "kind": "modeling", "status": "succeeded"},
            {"pipeline": "PIPELINE-2-batchinference", "kind": "batch_inference", "status": "succeeded"},
        ],
        "code_scan": {"scanned_files": 12, "secrets": [], "hardcoded_names": []},
        "parity": {
            "metrics": {"accuracy": {"legacy": 0.85, "migrated": 0.848}},
            "legacy_data_version": "training-data:1",
            "migrated_data_version": "training-data:1",
        },
        "artifacts": {"parity_report": "migrate/parity.html"},
    },
}


class World:
    """Mutable settings data + evidence from which a CheckContext is built."""

    def __init__(self, root: Path):
        self.root = root
        self.settings = copy.deepcopy(SETTINGS)
        self.evidence = copy.deepcopy(EVIDENCE)
        for ev in self.evidence.values():
            for rel in ev.get("artifacts", {}).values():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text("report")

    def ctx(self) -> CheckContext:
        models = {}
        for slug, data in self.settings.items():
            model, errors = validate_settings(slug, data)
            assert not errors, [str(e) for e in errors]
            models[slug] = model
        return CheckContext(settings=models, evidence=self.evidence, project_dir=self.root)

    def run(self, item: str) -> CheckResult:
        """What run_check does, without importing the other stages' check modules."""
        try:
            return _REGISTRY[item](self.ctx())
        except MissingInput as exc:
            return failed(str(exc))


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


ITEMS = (
    [f"S4-0{i}" for i in range(1, 9)]
    + [f"S5-{i:02d}" for i in range(1, 11)]
    + [f"S6-0{i}" for i in range(1, 9)]
    + [f"S7-0{i}" for i in range(1, 8)]
)


def test_registry_matches_the_catalogue():
    from mlops_accelerator.catalogue import load_catalogue

    auto = {d.id for d in load_catalogue().deliverables if d.stage in SLUGS and d.is_auto}
    mine = {k for k in _REGISTRY if k[1] in "4567"}
    assert mine == auto == set(ITEMS)


@pytest.mark.parametrize("item", ITEMS)
def test_passes_on_a_good_context(world, item):
    result = world.run(item)
    assert result.passed, result.reason
    assert result.reason


@pytest.mark.parametrize("item", ITEMS)
def test_fails_without_run_evidence(world, item):
    slug = SLUGS[int(item[1])]
    del world.evidence[slug]
    result = world.run(item)
    if result.passed:  # only the "not applicable" items may pass without evidence
        assert result.reason.startswith("not applicable")
    elif stage_templates(slug):  # the advice names a command that exists for this stage
        assert f"mlops-accelerator run {slug}" in result.reason
    else:
        assert "has no notebooks in this release" in result.reason
        assert f"mlops-accelerator run {slug}" not in result.reason


@pytest.mark.parametrize("item", ITEMS)
def test_fails_on_invalid_settings(world, item):
    slug = SLUGS[int(item[1])]
    ctx = world.ctx()
    ctx.settings[slug] = None
    try:
        result = _REGISTRY[item](ctx)
    except MissingInput as exc:
        result = failed(str(exc))
    assert not result.passed and f"mlops-accelerator validate {slug}" in result.reason


def test_local_training_from_a_clean_commit_passes_and_says_what_azureml_adds(world):
    world.evidence["models"]["training_job"]["compute"] = "local"
    result = world.run("S5-01")
    assert result.passed and "local compute" in result.reason and "cpu-cluster" in result.reason


def test_training_on_azure_ml_is_what_s5_01_reports(world):
    """The azureml target's read-back of the training job decides, whatever the local job said."""
    world.evidence["models"]["training_job"]["compute"] = "local"
    world.evidence["models"]["azure_training"] = {"job": "churn-train-r1", "env": "dev", "status": "Completed"}
    result = world.run("S5-01")
    assert result.passed and "churn-train-r1 ran on Azure ML compute 'cpu-cluster' in dev" in result.reason
    world.evidence["models"]["azure_training"].update(status="Failed", studio_url="https://ml.azure.com/runs/x")
    result = world.run("S5-01")
    assert not result.passed and "churn-train-r1 on Azure ML ended Failed" in result.reason
    assert "https://ml.azure.com/runs/x" in result.reason


def test_missing_evidence_key_names_the_key(world):
    del world.evidence["models"]["training_job"]
    result = world.run("S5-01")
    assert not result.passed and "'training_job'" in result.reason and "run models" in result.reason


# ---------------------------------------------------------------------------
# Failing cases: (item, change to the world, words the reason must contain)

Change = Callable[[World], None]


def _set(slug: str, path: str, value: Any, where: str = "evidence") -> Change:
    def change(w: World) -> None:
        node: Any = getattr(w, where)[slug]
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
        last = keys[-1]
        if value is _DELETE:
            del node[int(last) if isinstance(node, list) else last]
        elif isinstance(node, list) and int(last) == len(node):
            node.append(value)
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


_DELETE = object()


def _ev(slug, path, value):
    return _set(slug, path, value)


def _st(slug, path, value):
    return _set(slug, path, value, where="settings")


def _both(*changes: Change) -> Change:
    def change(w: World) -> None:
        for c in changes:
            c(w)

    return change


def _missing_artifact(slug: str, key: str) -> Change:
    def change(w: World) -> None:
        (w.root / w.evidence[slug]["artifacts"][key]).unlink()

    return change


FAILURES = [
    # stage 4
    ("S4-01", _ev("data", "ingestion_runs.0.status", "Failed"), ["crm-db", "Failed", "re-run stage 4"]),
    ("S4-01", _ev("data", "ingestion_runs", []), ["crm-db: no ingestion run"]),
    ("S4-01", _st("data", "data_sources", []), ["no data sources"]),
    ("S4-02", _ev("data", "wrangling.pii_columns_in_silver", ["email"]), ["personal data", "email"]),
    ("S4-02", _ev("data", "wrangling.layers_written", ["bronze"]), ["did not write the silver layer"]),
    ("S4-02", _ev("data", "data_quality.0.passed", False), ["error-level", "id:not_null"]),
    ("S4-02", _ev("data", "data_quality", []), ["not run", "id:not_null"]),
    ("S4-02", _st("data", "data_quality_rules", []), ["no data-quality rules"]),
    (
        "S4-03",
        _both(
            _st("data", "labeling_required", True),
            _st("data", "labeling_project", {}),
            _ev("data", "labeling", {"project": "p", "progress_pct": 60}),
        ),
        ["60 % complete"],
    ),
    (
        "S4-03",
        _both(
            _st("data", "labeling_required", True),
            _st("data", "labeling_project", {}),
            _ev("data", "labeling", {"project": "p", "progress_pct": 100}),
        ),
        ["not exported"],
    ),
    (
        "S4-04",
        _ev("data", "datastores.1.auth", "account_key"),
        ["silver", "identity-based access is required"],
    ),
    ("S4-04", _ev("data", "datastores.2", _DELETE), ["gold: not registered"]),
    ("S4-04", _ev("data", "datastores.0.type", "azure_blob"), ["bronze: type azure_blob"]),
    ("S4-05", _ev("data", "data_assets.0.tags.pii", _DELETE), ["lacks tag(s) pii"]),
    ("S4-05", _ev("data", "data_assets.0.version", "2"), ["training-data:1 not registered"]),
    (
        "S4-06",
        _ev("data", "data_assets.0.path", "azureml://datastores/silver/paths/training-data/"),
        ["no version folder", "training-data:1"],
    ),
    (
        "S4-07",
        _ev(
            "data",
            "storage_role_assignments.3",
            {"principal": "data-scientists", "role": "Owner", "scope": "account", "datastore": None},
        ),
        ["Owner", "data-scientists"],
    ),
    ("S4-07", _ev("data", "storage_role_assignments.2", _DELETE), ["missing", "workspace"]),
    (
        "S4-08",
        _ev("data", "data_assets.0.path", "azureml://datastores/lake/paths/training-data/1/"),
        ["not resolving", "lake"],
    ),
    ("S4-08", _missing_artifact("data", "lineage_report"), ["lineage report"]),
    # stage 5
    ("S5-01", _ev("models", "training_job.git", {}), ["no git repository/commit"]),
    ("S5-01", _ev("models", "training_job.git.dirty", True), ["uncommitted code", "commit it"]),
    ("S5-02", _ev("models", "training_job.metrics", {"loss": 0.2}), ["'accuracy'", "mlflow.log_metric"]),
    ("S5-02", _ev("models", "training_job.params", {}), ["no parameters"]),
    ("S5-03", _ev("models", "model.tags.git_commit", _DELETE), ["git_commit"]),
    ("S5-03", _ev("models", "model.tags.data_asset", "training-data:9"), ["does not resolve"]),
    ("S5-03", _ev("models", "model.name", "other"), ["'other'", "baseline-classifier"]),
    ("S5-04", _ev("models", "unit_tests.failed", 2), ["2 unit test(s) fail"]),
    ("S5-04", _ev("models", "artifacts.unit_test_junit", _DELETE), ["JUnit"]),
    ("S5-04", _ev("models", "unit_tests.kinds", ["model_io_shapes"]), ["scoring_script_contract"]),
    ("S5-05", _ev("models", "code_quality.pylint.violations", 3), ["pylint reports 3"]),
    ("S5-05", _ev("models", "coverage_pct", 50), ["coverage 50", "70"]),
    ("S5-05", _ev("models", "code_quality.flake8", _DELETE), ["flake8 did not run"]),
    ("S5-06", _ev("models", "evaluation.decision", "reject"), ["'reject'", "'promote'"]),
    ("S5-06", _ev("models", "model.tags.stage", "challenger"), ["stage tag", "champion"]),
    (
        "S5-06",
        _both(_ev("models", "evaluation.candidate", 0.6), _ev("models", "evaluation.champion", None)),
        ["thresholds missed", "accuracy at_least 0.7"],
    ),
    ("S5-06", _ev("models", "evaluation.metric", "f1"), ["'f1'", "'accuracy'"]),
    # the source's evaluate.py bug: an error metric treated as a score
    (
        "S5-06",
        _both(
            _st("models", "primary_metric", {"name": "rmse", "goal": "minimize"}),
            _st("models", "metric_thresholds", []),
            _ev(
                "models",
                "evaluation",
                {"metric": "rmse", "candidate": 5.0, "champion": 4.0, "decision": "promote"},
            ),
        ),
        ["says 'reject'", "minimize"],
    ),
    ("S5-07", _missing_artifact("models", "responsible_ai_report"), ["not produced"]),
    ("S5-07", _ev("models", "responsible_ai.components", ["explanations"]), ["lacks error_analysis"]),
    ("S5-08", _ev("models", "endpoint_smoke_test.status_code", 500), ["smoke test", "500"]),
    (
        "S5-08",
        _both(_st("models", "deployment_pattern", "batch"), _ev("models", "batch_job.status", "Failed")),
        ["batch scoring", "Failed"],
    ),
    (
        "S5-08",
        _both(_st("models", "deployment_pattern", "both"), _ev("models", "batch_job", _DELETE)),
        ["'batch_job'"],
    ),
    (
        "S5-09",
        _ev("models", "pipeline_specs.0", {"path": "p.yml", "valid": False, "error": "Unknown field."}),
        ["do not validate", "Unknown field."],
    ),
    ("S5-09", _ev("models", "cd.status", "failed"), ["last CD run is failed"]),
    ("S5-10", _ev("models", "approval.role", "tester"), ["product_owner"]),
    ("S5-10", _ev("models", "approval.approved", False), ["not approved"]),
    ("S5-10", _ev("models", "approval.model", "baseline-classifier:2"), ["not for the registered model"]),
    # stage 6
    ("S6-01", _ev("monitor", "recent_jobs.1.metrics", {}), ["job-1", "logged no metrics"]),
    ("S6-01", _ev("monitor", "recent_jobs", []), ["no jobs"]),
    (
        "S6-02",
        _ev("monitor", "endpoints.0.deployments.0.app_insights_enabled", False),
        ["mlops-online/blue", "Application Insights disabled"],
    ),
    ("S6-02", _ev("monitor", "endpoints.0.deployments.0.telemetry_present", False), ["no telemetry"]),
    ("S6-02", _st("monitor", "app_insights_on_endpoints", False), ["turned off"]),
    (
        "S6-03",
        _ev("monitor", "endpoints.0.deployments.0.data_collector.model_outputs", False),
        ["data collector is not enabled", "model_outputs"],
    ),
    ("S6-03", _ev("monitor", "collected_data.model_inputs.rows", 0), ["no collected model_inputs"]),
    (
        "S6-03",
        _st("monitor", "data_collection", {"destination_datastore": "silver"}),
        ["identity-based", "credential-based"],
    ),
    (
        "S6-04",
        _ev("monitor", "monitor.signals", [{"name": "q", "type": "data_quality", "alert_enabled": True}]),
        ["no data_drift signal"],
    ),
    ("S6-04", _ev("monitor", "monitor.signals.0.alert_enabled", False), ["alerts disabled"]),
    (
        "S6-04",
        _both(
            _st("monitor", "monitor_signals", [{"signal": "prediction_drift"}]),
            _st("monitor", "retraining_trigger", "schedule"),
        ),
        ["no data_drift signal with alerts is configured"],
    ),
    ("S6-05", _st("monitor", "ground_truth_available", True), ["no model_performance signal is configured"]),
    (
        "S6-05",
        _both(
            _st("monitor", "ground_truth_available", True),
            _st(
                "monitor",
                "monitor_signals",
                [
                    {"signal": "data_drift"},
                    {
                        "signal": "model_performance",
                        "feature_type": "not_applicable",
                        "metric": "accuracy",
                        "threshold": 0.8,
                    },
                ],
            ),
        ),
        ["model-monitor has no model_performance signal"],
    ),
    (
        "S6-06",
        _ev("monitor", "policy_assignments.2", _DELETE),
        ["not assigned", "Azure Machine Learning Computes should be in a virtual network"],
    ),
    (
        "S6-06",
        _ev("monitor", "policy_assignments.0.compliance_state", None),
        ["compliance state not retrieved", "aml_workspace_private_link"],
    ),
    ("S6-07", _ev("monitor", "retraining.schedule.target_valid", False), ["not a valid training pipeline"]),
    ("S6-07", _ev("monitor", "retraining.drift_route", None), ["drift alerts do not reach retraining"]),
    (
        "S6-07",
        _both(_st("monitor", "retraining_trigger", "schedule"), _ev("monitor", "retraining.schedule", None)),
        ["no retraining schedule"],
    ),
    ("S6-08", _ev("monitor", "alerts.action_group.receivers", []), ["no receivers"]),
    ("S6-08", _ev("monitor", "alerts.test_alert_delivered", False), ["no test alert"]),
    ("S6-08", _st("monitor", "alert_emails", ["oncall@contoso.com"]), ["do not reach", "oncall@contoso.com"]),
    # stage 7
    ("S7-01", _ev("migrate", "setup_runs.2.status", "failed"), ["prod: failed", "PIPELINE-0"]),
    ("S7-01", _ev("migrate", "config_files.0.valid", False), ["does not validate"]),
    ("S7-02", _ev("migrate", "dataprep.status", "failed"), ["dataprep", "failed"]),
    ("S7-02", _ev("migrate", "dataprep.data_asset.name", "raw"), ["'raw", "AML_DATASET"]),
    ("S7-03", _ev("migrate", "training_pipeline.model.tags", {}), ["no 'accuracy' metric tag"]),
    ("S7-03", _ev("migrate", "training_pipeline.status", "failed"), ["training pipeline ended failed"]),
    ("S7-04", _ev("migrate", "batch_scoring.status", "failed"), ["batch scoring ended failed"]),
    (
        "S7-04",
        _both(
            _st("migrate", "inference_modes_to_port", ["realtime", "batch"]),
            _ev("migrate", "realtime_smoke_test.status_code", 503),
        ),
        ["real-time smoke test failed"],
    ),
    ("S7-05", _ev("migrate", "cicd_runs.1", _DELETE), ["no batch_inference", "PIPELINE-2-batchinference"]),
    ("S7-05", _ev("migrate", "cicd_runs.0.status", "failed"), ["PIPELINE-1-modeling: failed"]),
    (
        "S7-06",
        _ev("migrate", "code_scan.secrets", [{"file": "src/train.py", "line": 10, "kind": "storage_key"}]),
        ["secrets in code", "src/train.py:10"],
    ),
    (
        "S7-06",
        _ev(
            "migrate",
            "code_scan.hardcoded_names",
            [{"file": "src/train.py", "line": 22, "literal": "training-data"}],
        ),
        ["hard-coded", "configuration-aml.variables.yml"],
    ),
    ("S7-06", _ev("migrate", "code_scan.scanned_files", 0), ["read no files"]),
    (
        "S7-07",
        _ev("migrate", "parity.metrics.accuracy.migrated", 0.80),
        ["exceeds the tolerance", "1 % relative"],
    ),
    ("S7-07", _ev("migrate", "parity.migrated_data_version", "training-data:2"), ["different data"]),
    ("S7-07", _ev("migrate", "parity.metrics", {"auc": {"legacy": 0.9, "migrated": 0.9}}), ["'accuracy'"]),
    ("S7-07", _missing_artifact("migrate", "parity_report"), ["parity report artifact"]),
]


@pytest.mark.parametrize("item,change,words", FAILURES, ids=[f"{f[0]}-{i}" for i, f in enumerate(FAILURES)])
def test_fails_with_an_actionable_reason(world, item, change, words):
    change(world)
    result = world.run(item)
    assert not result.passed, result.reason
    for word in words:
        assert word in result.reason, (word, result.reason)


def test_every_check_has_a_failing_case():
    assert {f[0] for f in FAILURES} == set(ITEMS)


# ---------------------------------------------------------------------------
# Not applicable and other passing variants


@pytest.mark.parametrize(
    "item,change",
    [
        ("S4-03", None),  # labeling not required (default)
        ("S5-06", _st("models", "promotion_rule", {"compare_to_champion": False})),
        ("S5-07", _st("models", "responsible_ai", {"components": []})),
        ("S6-02", _st("models", "deployment_pattern", "batch")),
        ("S6-03", _st("models", "deployment_pattern", "batch")),
        ("S6-05", None),  # no ground truth (default)
        ("S6-07", _st("monitor", "retraining_trigger", "manual")),
    ],
)
def test_not_applicable(world, item, change):
    if change:
        change(world)
    slug = SLUGS[int(item[1])]
    del world.evidence[slug]  # no evidence needed
    result = world.run(item)
    assert result.passed and result.reason.startswith("not applicable:"), result.reason


@pytest.mark.parametrize(
    "item,change,words",
    [
        (
            "S4-02",
            _both(
                _ev("data", "data_quality.0.severity", "warning"), _ev("data", "data_quality.0.passed", False)
            ),
            ["1 warning-level rule(s) failed", "sign-off"],
        ),
        (
            "S4-03",
            _both(
                _st("data", "labeling_required", True),
                _st("data", "labeling_project", {}),
                _ev(
                    "data",
                    "labeling",
                    {
                        "project": "p",
                        "progress_pct": 100,
                        "exported_asset": {"name": "labels", "version": "1"},
                    },
                ),
            ),
            ["exported as labels:1"],
        ),
        (
            "S5-06",
            _both(
                _st("models", "primary_metric", {"name": "rmse", "goal": "minimize"}),
                _st("models", "metric_thresholds", [{"metric": "rmse", "direction": "at_most", "value": 10}]),
                _ev(
                    "models",
                    "evaluation",
                    {"metric": "rmse", "candidate": 3.0, "champion": 4.0, "decision": "promote"},
                ),
            ),
            ["promote"],
        ),
        ("S5-06", _ev("models", "evaluation.champion", None), ["champion none"]),
        (
            "S5-06",
            _both(
                _st("models", "promotion_rule", {"on_not_better": "cancel_run"}),
                _ev("models", "evaluation.candidate", 0.88),
                _ev("models", "evaluation.decision", "reject"),
            ),
            ["rejected", "cancelled"],
        ),
        ("S5-08", _both(_st("models", "deployment_pattern", "both")), ["answered 200", "batch endpoint"]),
        (
            "S5-10",
            _both(
                _st("models", "model_approval", "automatic"),
                _ev("models", "approval.by", None),
                _ev("models", "approval.role", None),
            ),
            ["automatic"],
        ),
        (
            "S6-05",
            _both(
                _st("monitor", "ground_truth_available", True),
                _st(
                    "monitor",
                    "monitor_signals",
                    [
                        {"signal": "data_drift"},
                        {
                            "signal": "model_performance",
                            "feature_type": "not_applicable",
                            "metric": "accuracy",
                            "threshold": 0.8,
                        },
                    ],
                ),
                _ev("monitor", "monitor.signals.1", {"name": "perf", "type": "model_performance"}),
            ),
            ["model_performance"],
        ),
        (
            "S6-06",
            _ev("monitor", "policy_assignments.2.compliance_state", "NonCompliant"),
            ["to review", "aml_compute_in_vnet"],
        ),
        (
            "S6-06",
            _ev("monitor", "policy_assignments.2.policy", AML_AUDIT_POLICIES["aml_compute_in_vnet"][1]),
            ["all compliant"],
        ),
        (
            "S7-07",
            _st("migrate", "parity_tolerance", {"relative_pct": 0, "absolute": 0.01}),
            ["accuracy 0.848"],
        ),
    ],
)
def test_passing_variants(world, item, change, words):
    change(world)
    result = world.run(item)
    assert result.passed, result.reason
    for word in words:
        assert word in result.reason, (word, result.reason)


def test_results_carry_evidence(world):
    assert world.run("S4-08").evidence == ("data/lineage.html",)
    assert world.run("S5-03").evidence == ("baseline-classifier:3",)
    assert world.run("S7-07").evidence == ("migrate/parity.html",)
