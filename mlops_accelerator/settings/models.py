"""Stage 5, Build ML Models: train, validate, register, deploy and automate.

The deliverable is "models are versioned and recorded in Azure ML". Names are Azure ML v2:
command/pipeline/sweep jobs, model types `custom_model`/`mlflow_model`/`triton_model`,
managed online endpoints with traffic-split deployments, batch endpoints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from ..errors import FieldError
from ..naming import AssetName, ComputeClusterName, DeploymentName, EndpointName
from ..roles import RoleId
from .base import Record, StageSettings, _rule, err, setting
from .data import duplicates

# ---------------------------------------------------------------------------
# Types and metric knowledge

# Experiment names may use placeholders filled in when a job is submitted.
EXPERIMENT_PLACEHOLDERS = ("{project}", "{env}", "{purpose}")


def _is_experiment_name(v: str) -> bool:
    expanded = v
    for p in EXPERIMENT_PLACEHOLDERS:
        expanded = expanded.replace(p, "x")
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}", expanded) is not None


ExperimentName = Annotated[
    str,
    _rule("experiment_name",
          "must be letters, digits, '_' and '-' (up to 255, starting with a letter or digit); "
          "placeholders {project}, {env} and {purpose} are allowed",
          _is_experiment_name),
    Field(json_schema_extra={"x-rule": "experiment_name", "examples": ["{project}-training"]}),
]

_METRIC = r"[A-Za-z][A-Za-z0-9_.-]*"
MetricName = Annotated[
    str,
    Field(min_length=1, max_length=128, pattern=f"^{_METRIC}$",
          json_schema_extra={"examples": ["accuracy", "auc", "f1_score", "precision", "recall", "r2_score",
                                          "mse", "rmse", "mae", "log_loss"]}),
]

_SKU = r"Standard_[A-Za-z0-9_]+"
VmSku = Annotated[
    str,
    _rule("vm_sku", "must be an Azure VM size like Standard_DS3_v2",
          lambda v: re.fullmatch(_SKU, v) is not None),
    Field(json_schema_extra={"pattern": f"^{_SKU}$", "x-rule": "vm_sku", "examples": ["Standard_DS3_v2"]}),
]

# A stage-4 data asset version, "<name>:<version>" ("latest" allowed); empty until chosen.
DataAssetRef = Annotated[
    str,
    Field(pattern=r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,254}:[A-Za-z0-9_.-]{1,64})?$",
          json_schema_extra={"examples": ["churn-features:1", "churn-features:latest"]}),
]

# Error/loss metrics (lower is better). The source's evaluate.py defaults to mse with maximize=True:
# this list is what catches that bug.
MINIMIZE_METRICS = frozenset({
    "mse", "rmse", "mae", "mape", "smape", "log_loss", "logloss", "loss", "error_rate", "hamming_loss",
    "brier_score", "mean_squared_error", "root_mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "normalized_root_mean_squared_error", "normalized_mean_absolute_error",
    "root_mean_squared_log_error", "normalized_root_mean_squared_log_error",
})
# Scores (higher is better).
MAXIMIZE_METRICS = frozenset({
    "accuracy", "balanced_accuracy", "auc", "roc_auc", "auc_weighted", "auc_macro", "f1", "f1_score",
    "f1_score_weighted", "f1_score_macro", "precision", "precision_score_weighted", "recall",
    "recall_score_weighted", "r2", "r2_score", "spearman_correlation", "average_precision_score_weighted",
    "norm_macro_recall", "mean_average_precision", "iou",
})


def metric_goal(metric: str) -> str | None:
    """'minimize' or 'maximize' for a well-known metric, None when unknown."""
    m = metric.lower()
    if m in MINIMIZE_METRICS:
        return "minimize"
    if m in MAXIMIZE_METRICS:
        return "maximize"
    return None


AutomlTask = Literal["classification", "regression", "forecasting", "image_classification",
                     "image_classification_multilabel", "image_object_detection",
                     "image_instance_segmentation", "text_classification", "text_classification_multilabel",
                     "text_ner"]
RaiComponent = Literal["error_analysis", "explanations", "fairness", "counterfactuals", "causal"]
IntegrationTest = Literal["training_pipeline_end_to_end_on_sample", "endpoint_smoke_test",
                          "endpoint_schema_test", "load_test", "system_integration_in_staging"]

PIPELINE_STEPS = ("update_data", "dataprep", "train", "evaluate", "register", "deploy", "batch_score")

# ---------------------------------------------------------------------------
# Records


SHOWN_WHEN_ENABLED = {"show_if": {"enabled": True}}  # wizard hint: hidden while the feature is off


class DistributedTraining(Record):
    enabled: bool = setting(False, title="Enabled", task="S5.T1",
                            help="Spread one training job over several GPUs or nodes; only worth it for "
                                 "large deep-learning models.")
    type: Literal["pytorch", "tensorflow", "mpi"] = setting(
        "pytorch", title="Distribution type", task="S5.T1", ui=SHOWN_WHEN_ENABLED, provenance="V2",
        help="The launcher Azure ML sets up for the job's processes.")
    node_count: int = setting(1, title="Nodes", task="S5.T1", ui=SHOWN_WHEN_ENABLED, ge=1, le=100,
                              help="Number of machines; each needs a cluster node.")
    processes_per_node: int = setting(1, title="Processes per node", task="S5.T1", ui=SHOWN_WHEN_ENABLED,
                                      ge=1, le=64, help="Usually one per GPU on the node.")
    elastic: bool = setting(False, title="Elastic", task="S5.T1", ui=SHOWN_WHEN_ENABLED,
                            help="Let PyTorch continue when nodes join or leave (low-priority VMs).")


class HyperparameterTuning(Record):
    enabled: bool = setting(False, title="Enabled", task="S5.T1", provenance="V2",
                            help="Run a sweep job that tries many hyperparameter values and keeps the best.")
    sampling: Literal["random", "grid", "bayesian"] = setting(
        "random", title="Sampling", task="S5.T1", ui=SHOWN_WHEN_ENABLED, provenance="V2",
        help="How trial values are picked; random is a strong, cheap default, bayesian learns from past "
             "trials.")
    max_trials: int = setting(20, title="Max trials", task="S5.T1", ui=SHOWN_WHEN_ENABLED, ge=1, le=1000,
                              help="Upper bound on trials; it caps the sweep's cost.")
    max_concurrent_trials: int = setting(4, title="Concurrent trials", task="S5.T1", ui=SHOWN_WHEN_ENABLED,
                                         ge=1, le=100, help="Trials running at once; bounded by cluster nodes.")
    early_termination: Literal["none", "bandit", "median_stopping", "truncation_selection"] = setting(
        "bandit", title="Early termination", task="S5.T1", ui=SHOWN_WHEN_ENABLED, provenance="V2",
        help="Stop clearly worse trials early to save compute.")


class PrimaryMetric(Record):
    name: MetricName = setting("accuracy", title="Metric", task="S5.T2",
                               help="The metric models are compared on, as logged to MLflow.")
    goal: Literal["maximize", "minimize"] = setting(
        "maximize", title="Goal", task="S5.T2",
        help="Whether higher or lower is better. Error metrics (mse, rmse, mae, log_loss) must be minimised.")


class MetricThreshold(Record):
    metric: MetricName = setting("accuracy", title="Metric", task="S5.T2",
                                 help="A logged metric the candidate must satisfy.")
    direction: Literal["at_least", "at_most"] = setting(
        "at_least", title="Direction", task="S5.T2",
        help="at_least for scores (accuracy >= 0.8), at_most for errors (rmse <= 5).")
    value: float = setting(0.7, title="Threshold", task="S5.T2",
                           help="The bar; a model missing it is never registered as a candidate.")


class PromotionRule(Record):
    compare_to_champion: bool = setting(
        True, title="Compare with champion", task="S5.T2",
        help="Register the new model only if it beats the current champion on the primary metric "
             "(Champion/Challenger).")
    margin: float = setting(0.0, title="Margin", task="S5.T2", ge=0,
                            help="How much better the challenger must be; guards against noise.")
    margin_type: Literal["absolute", "relative_pct"] = setting(
        "absolute", title="Margin type", task="S5.T2",
        help="Margin in metric units or as a percentage of the champion's value.")
    on_not_better: Literal["cancel_run", "register_as_challenger"] = setting(
        "register_as_challenger", title="When not better", task="S5.T2",
        help="Cancel the pipeline (source behaviour) or keep the model tagged challenger for later review.")


class ResponsibleAI(Record):
    components: list[RaiComponent] = setting(
        ["error_analysis", "explanations"], title="Dashboard components", task="S5.T2", provenance="V2",
        help="Responsible AI dashboard parts to generate; fairness is expected whenever people are "
             "affected.")
    sensitive_features: list[Annotated[str, Field(min_length=1)]] = setting(
        [], title="Sensitive features", task="S5.T2",
        help="Columns (age, gender, ...) to compare model behaviour across groups; needed for fairness.")
    differential_privacy: bool = setting(
        False, title="Differential privacy", task="S5.T2",
        help="Add calibrated noise (SmartNoise) when training data is sensitive.")


class ModelRegistration(Record):
    name: AssetName = setting("baseline-classifier", title="Model name", task="S5.T3",
                              help="Registered model name; every version of the model lives under it.")
    type: Literal["custom_model", "mlflow_model", "triton_model"] = setting(
        "custom_model", title="Model type", task="S5.T3", provenance="V2",
        help="custom_model needs a scoring script; mlflow_model deploys with no code; triton_model serves "
             "deep-learning models on GPUs.")
    required_tags: list[Annotated[str, Field(min_length=1)]] = setting(
        ["stage", "primary_metric", "data_asset", "git_commit"], title="Required tags", task="S5.T3",
        help="Tags every registered version carries: champion/challenger stage, metric value, "
             "data asset name:version and commit, so each model traces back to code and data.")


class OnlineDeployment(Record):
    name: DeploymentName = setting("blue", title="Deployment name", task="S5.T3", provenance="V2",
                                   help="Deployment under the endpoint, e.g. blue/green for safe rollouts.")
    instance_type: VmSku = setting(
        "Standard_DS3_v2", title="Instance type", task="S5.T3", provenance="V2",
        help="VM size serving the model; CPU sizes suit classic ML, GPU sizes deep learning.")
    instance_count: int = setting(
        1, title="Instances", task="S5.T3", ge=1, le=100, provenance="V2",
        help="Number of VMs; 3 or more is recommended in production for high availability.")
    traffic: int = setting(100, title="Traffic %", task="S5.T3", ge=0, le=100, provenance="V2",
                           help="Share of live requests this deployment answers; all deployments add to 100.")


def endpoint_in(name: str, env: str) -> str:
    """An endpoint's name in one environment: Azure wants endpoint names unique per region, and dev,
    test and prod often share one, so each environment's endpoint carries the environment's name."""
    return f"{name}-{env}"


class OnlineEndpoint(Record):
    name: EndpointName = setting(
        "mlops-online", title="Endpoint name", task="S5.T3", provenance="V2",
        help="Part of the scoring URL; unique within the Azure region, so prefix it with the project. "
             "Each environment's endpoint is this name plus '-<environment>' (mlops-online-dev), "
             "at most 32 characters in all.")
    kind: Literal["managed", "kubernetes"] = setting(
        "managed", title="Endpoint kind", task="S5.T3", provenance="V2",
        help="Managed online endpoints need no cluster; Kubernetes endpoints run on your AKS or Arc cluster.")
    auth_mode: Literal["key", "aml_token", "aad_token"] = setting(
        "key", title="Authentication", task="S5.T3", provenance="V2",
        help="How callers authenticate: static keys, expiring Azure ML tokens, or Entra ID tokens "
             "(recommended in production).")
    deployments: list[OnlineDeployment] = setting(
        [OnlineDeployment()], title="Deployments", task="S5.T3", min_length=1, provenance="V2",
        help="Model deployments behind the endpoint and their traffic split.")
    rollout_strategy: Literal["replace", "blue_green", "canary", "mirror"] = setting(
        "blue_green", title="Rollout strategy", task="S5.T3",
        help="How a new model goes live: replace in place, switch traffic between two deployments, ramp a "
             "small share up, or mirror traffic to test without answering.")


class BatchEndpoint(Record):
    name: EndpointName = setting(
        "mlops-batch", title="Endpoint name", task="S5.T3", provenance="V2",
        help="Batch endpoint name; unique within the Azure region. Each environment's is this name plus "
             "'-<environment>', at most 32 characters in all.")
    compute: ComputeClusterName = setting(
        "cpu-cluster", title="Compute cluster", task="S5.T3",
        help="Cluster that runs scoring jobs.")
    instance_count: int = setting(1, title="Instances", task="S5.T3", ge=1, le=100,
                                  help="Nodes per scoring job (no more than the cluster's maximum).")
    max_concurrency_per_instance: int = setting(
        1, title="Processes per instance", task="S5.T3", ge=1, le=64,
        help="Parallel scoring processes per node; usually the node's cores (or GPUs).")
    mini_batch_size: int = setting(
        10, title="Mini-batch size", task="S5.T3", ge=1,
        help="Files per scoring call; aim for at least 10 seconds of work per mini-batch.")
    error_threshold: int = setting(
        -1, title="Error threshold", task="S5.T3", ge=-1,
        help="Failed mini-batches tolerated before the job fails; -1 ignores failures.")
    max_retries: int = setting(3, title="Max retries", task="S5.T3", ge=0, le=10,
                               help="Retries of a failed or timed-out mini-batch.")
    timeout_s: int = setting(300, title="Timeout (s)", task="S5.T3", ge=1,
                             help="Seconds a mini-batch may run; raise it if many time out.")
    output_action: Literal["append_row", "summary_only"] = setting(
        "append_row", title="Output action", task="S5.T3",
        help="Collect all predictions in one file, or only write a summary.")
    trigger: Literal["schedule", "data_arrival", "on_demand"] = setting(
        "schedule", title="Trigger", task="S5.T4",
        help="What starts batch scoring: a schedule, new data arriving, or a REST call.")


# ---------------------------------------------------------------------------
# The stage


class Settings(StageSettings):
    """Stage 5 settings: how models are trained, judged, registered, deployed and automated."""

    stage: ClassVar[str] = "models"

    # S5.T1 Train: method, framework and compute decide environments and costs.
    training_method: Literal["command_job", "automl", "pipeline", "designer", "cli"] = setting(
        "pipeline", title="Training method", task="S5.T1", provenance="V2",
        help="Pipelines (prep, train, evaluate, register steps) are the unit of automation and retraining; "
             "a single command job suits early experiments.")
    framework: Literal["scikit-learn", "xgboost", "lightgbm", "pytorch", "tensorflow", "other"] = setting(
        "scikit-learn", title="Framework", task="S5.T1",
        help="The ML library; it picks the training and inference environments and deployment format.")
    automl_task: AutomlTask | None = setting(
        None, title="AutoML task", task="S5.T1", provenance="V2", ui={"show_if": {"training_method": "automl"}},
        help="The problem AutoML solves; required when the training method is automl.")
    training_compute: Literal["local", "compute_instance", "compute_cluster", "serverless", "kubernetes",
                              "databricks", "attached_vm"] = setting(
        "compute_cluster", title="Training compute", task="S5.T1", scope="environment",
        help="Where jobs run. Clusters scale to zero when idle; compute instances suit sample data only.")
    compute_name: ComputeClusterName = setting(
        "cpu-cluster", title="Compute name", task="S5.T1", scope="environment",
        help="Name of the cluster (or attached compute) jobs are submitted to.")
    distributed_training: DistributedTraining = setting(
        DistributedTraining(), title="Distributed training", task="S5.T1",
        help="Multi-node or multi-GPU training for large models.")
    hyperparameter_tuning: HyperparameterTuning = setting(
        HyperparameterTuning(), title="Hyperparameter tuning", task="S5.T1", provenance="V2",
        help="Sweep job settings (v1 HyperDrive).")
    experiment_name: ExperimentName = setting(
        "{project}-training", title="Experiment name", task="S5.T1",
        help="Groups runs in Azure ML studio and MLflow. Keep retraining baselines apart from exploratory "
             "work, e.g. {project}-training vs {project}-explore.")
    training_data: DataAssetRef = setting(
        "", title="Training data asset", task="S5.T1",
        help="The stage-4 data asset version training reads, as <name>:<version> (or <name>:latest); the "
             "version is recorded on the run and tagged on the model.")
    allow_uncommitted_code: bool = setting(
        False, title="Exploration run (uncommitted code)", task="S5.T1",
        help="Train the working tree even with uncommitted changes, for exploration: nothing is registered "
             "or deployed. Off, a run refuses uncommitted training code and names the changed files.")
    tracking: Literal["mlflow", "aml_run_log"] = setting(
        "mlflow", title="Tracking", task="S5.T1",
        help="MLflow logging works the same locally and on Azure ML; the v1 run log is legacy.")

    # S5.T2 Validate and test: what "good enough" means and which tests guard it.
    primary_metric: PrimaryMetric = setting(
        PrimaryMetric(), title="Primary metric", task="S5.T2",
        help="The one metric used to compare and promote models, and whether to maximise or minimise it.")
    metric_thresholds: list[MetricThreshold] = setting(
        [MetricThreshold()], title="Metric thresholds", task="S5.T2", provenance="DERIVED",
        help="Minimum quality bars a candidate must meet before registration.")
    promotion_rule: PromotionRule = setting(
        PromotionRule(), title="Champion/challenger comparison", task="S5.T2",
        help="How a new model is compared with the one in production before it may replace it.")
    code_quality_checks: list[Literal["flake8", "pylint", "pydocstyle", "black", "ruff"]] = setting(
        ["flake8", "pylint"], title="Code-quality checks", task="S5.T2",
        help="Linters CI runs on the data-science code; failures block the merge.")
    unit_tests: list[Literal["data_prep_functions", "feature_functions", "model_io_shapes",
                             "weights_update_after_fit", "dummy_data_prediction_format",
                             "scoring_script_contract"]] = setting(
        ["data_prep_functions", "feature_functions", "model_io_shapes", "weights_update_after_fit",
         "dummy_data_prediction_format", "scoring_script_contract"],
        title="Unit tests", task="S5.T2",
        help="ML unit tests check shapes and contracts, not accuracy; they stop a broken model from "
             "burning hours of compute.")
    coverage_threshold_pct: int = setting(
        70, title="Coverage threshold %", task="S5.T2", ge=0, le=100, provenance="DERIVED",
        help="Minimum line coverage of the unit tests for CI to pass.")
    data_validation_tests: bool = setting(
        True, title="Data validation in pipeline", task="S5.T2",
        help="Run the stage-4 data-quality rules as the pipeline's first step.")
    integration_tests: list[IntegrationTest] = setting(
        ["training_pipeline_end_to_end_on_sample", "endpoint_smoke_test", "endpoint_schema_test"],
        title="Integration tests", task="S5.T2",
        help="End-to-end tests of the pipeline and the deployed endpoint, run before promotion.")
    responsible_ai: ResponsibleAI = setting(
        ResponsibleAI(), title="Responsible AI", task="S5.T2", provenance="V2",
        help="Error analysis, explanations and fairness reports reviewed before a model goes live.")
    model_approval: Literal["automatic", "manual", "hybrid"] = setting(
        "hybrid", title="Model approval", task="S5.T2",
        help="automatic: metrics and tests decide; manual: a named approver decides; hybrid: automatic "
             "up to test, a person approves production.")
    approver_role: RoleId = setting(
        "product_owner", title="Approver role", task="S5.T2", provenance="DERIVED",
        help="Role whose sign-off is needed for manual or hybrid approval.")

    # S5.T3 Register and deploy: versioned models, endpoints and traffic.
    model_registration: ModelRegistration = setting(
        ModelRegistration(), title="Model registration", task="S5.T3",
        help="Name, type and required tags of the registered model.")
    deployment_pattern: Literal["realtime", "batch", "both"] = setting(
        "realtime", title="Deployment pattern", task="S5.T3",
        help="Serve predictions on request (online endpoint), in scheduled bulk jobs (batch endpoint), "
             "or both.")
    online_endpoint: OnlineEndpoint = setting(
        OnlineEndpoint(), title="Online endpoint", task="S5.T3", scope="environment", provenance="V2",
        help="Real-time endpoint, its authentication and deployments (used for realtime or both).")
    local_endpoint_port: int = setting(
        5005, title="Local endpoint port", task="S5.T3", ge=1024, le=65535,
        help="Port of the local realtime endpoint on 127.0.0.1 (local target only).")
    keep_local_endpoint: bool = setting(
        False, title="Keep local endpoint running", task="S5.T3",
        help="Leave the local endpoint serving after the run ('mlops-accelerator endpoint stop' ends it).")
    batch_endpoint: BatchEndpoint = setting(
        BatchEndpoint(), title="Batch endpoint", task="S5.T3", scope="environment", provenance="V2",
        help="Batch scoring endpoint and its parallelism (used for batch or both).")

    # S5.T4 Automate: pipelines, CI/CD and promotion across environments.
    pipeline_steps: list[Literal["update_data", "dataprep", "train", "evaluate", "register", "deploy",
                                 "batch_score"]] = setting(
        ["update_data", "dataprep", "train", "evaluate", "register", "deploy"],
        title="Pipeline steps", task="S5.T4",
        help="Steps of the generated training pipeline, in order.")
    ci_triggers: list[Literal["pr_to_main", "merge_to_dev", "path_filter", "schedule", "manual"]] = setting(
        ["pr_to_main", "path_filter"], title="CI/CD triggers", task="S5.T4",
        help="What starts CI: pull requests to main, merges to dev, changes under given paths, a schedule "
             "or a person.")
    ci_trains_on_sample: bool = setting(
        True, title="CI trains on a sample", task="S5.T4",
        help="CI trains on a small sample asset for fast feedback; full training runs after merge.")
    promotion_path: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,15}$")]] = setting(
        ["dev", "test", "prod"], title="Promotion path", task="S5.T4", min_length=1,
        help="Environments a model passes through in order, each with its gates.")
    cross_env_model_transfer: Literal["retrain_in_each_env", "copy_model_artifact", "aml_registry"] = setting(
        "aml_registry", title="Cross-environment transfer", task="S5.T4", provenance="V2",
        help="How a model reaches the next environment; an Azure ML registry shares it without giving dev "
             "access to production data.")

    # What deployment_pattern means, said once: every generator, check and the target ask these.
    @property
    def serves_online(self) -> bool:
        return self.deployment_pattern in ("realtime", "both")

    @property
    def serves_batch(self) -> bool:
        return self.deployment_pattern in ("batch", "both")

    def cross_field_errors(self) -> Iterator[FieldError]:
        if self.training_method == "automl" and self.automl_task is None:
            yield err("automl_task", "required_if", None, "the automl training method needs an AutoML task")
        dist = self.distributed_training
        if dist.enabled and self.training_compute not in ("compute_cluster", "serverless", "kubernetes"):
            yield err("training_compute", "distributed_needs_cluster", self.training_compute,
                      "distributed training needs compute_cluster, serverless or kubernetes compute")
        if dist.enabled and dist.node_count * dist.processes_per_node < 2:
            yield err("distributed_training.node_count", "distributed_needs_workers", dist.node_count,
                      "distributed training needs at least 2 processes in total (nodes x processes per node)")
        hp = self.hyperparameter_tuning
        if hp.enabled and hp.sampling == "bayesian" and hp.early_termination != "none":
            yield err("hyperparameter_tuning.early_termination", "sweep_early_termination",
                      hp.early_termination, "Bayesian sampling does not support early termination: choose "
                                            "none")
        if hp.max_concurrent_trials > hp.max_trials:
            yield err("hyperparameter_tuning.max_concurrent_trials", "max_concurrent_le_trials",
                      hp.max_concurrent_trials, f"cannot exceed max trials ({hp.max_trials})")
        yield from self._metric_errors()
        yield from self._deployment_errors()
        if "fairness" in self.responsible_ai.components and not self.responsible_ai.sensitive_features:
            yield err("responsible_ai.sensitive_features", "required_if", [],
                      "a fairness assessment needs the sensitive feature columns to compare groups on")
        if self.model_registration.type == "triton_model" and self.framework not in ("pytorch", "tensorflow",
                                                                                     "other"):
            yield err("model_registration.type", "triton_framework", "triton_model",
                      f"Triton serves deep-learning (PyTorch, TensorFlow, ONNX) models, not {self.framework}")
        order = [PIPELINE_STEPS.index(s) for s in self.pipeline_steps]
        if order != sorted(set(order)):
            yield err("pipeline_steps", "pipeline_step_order", self.pipeline_steps,
                      "list each step once, in pipeline order: " + " -> ".join(PIPELINE_STEPS))
        if duplicates(self.promotion_path):
            yield err("promotion_path", "unique_name", self.promotion_path,
                      "an environment may appear only once in the promotion path")

    def _metric_errors(self) -> Iterator[FieldError]:
        pm = self.primary_metric
        goal = metric_goal(pm.name)
        if goal and goal != pm.goal:
            kind, better = ("an error metric", "lower") if goal == "minimize" else ("a score", "higher")
            yield err("primary_metric.goal", "metric_goal", pm.goal,
                      f"'{pm.name}' is {kind}: {better} is better, so the goal must be {goal}")
        for i, t in enumerate(self.metric_thresholds):
            goal = metric_goal(t.metric)
            want = {"minimize": "at_most", "maximize": "at_least"}.get(goal or "")
            if want and t.direction != want:
                yield err(f"metric_thresholds.{i}.direction", "metric_goal", t.direction,
                          f"'{t.metric}' is {'an error metric' if goal == 'minimize' else 'a score'}: "
                          f"its threshold must be {want}")

    def _deployment_errors(self) -> Iterator[FieldError]:
        ep = self.online_endpoint
        names = [d.name for d in ep.deployments]
        for i, d in enumerate(ep.deployments):
            if d.name in duplicates(names) and names.index(d.name) != i:
                yield err(f"online_endpoint.deployments.{i}.name", "unique_name", d.name,
                          f"deployment name '{d.name}' is used twice under the endpoint")
        total = sum(d.traffic for d in ep.deployments)
        if total != 100:
            yield err("online_endpoint.deployments", "sum_to_100", total,
                      f"deployment traffic must add up to 100 % (it adds up to {total})")
        if self.serves_online and self.serves_batch and ep.name == self.batch_endpoint.name:
            yield err("batch_endpoint.name", "endpoint_name_clash", ep.name,
                      "online and batch endpoints share one name space per region: use another name")
        # Azure's endpoint rule (3-32 characters) applies to the name each environment gets.
        longest = max(self.promotion_path, key=len, default="")
        named = [("online_endpoint.name", ep.name)] if self.serves_online else []
        named += [("batch_endpoint.name", self.batch_endpoint.name)] if self.serves_batch else []
        for field_name, value in named:
            full = endpoint_in(value, longest)
            if longest and len(full) > 32:
                yield err(field_name, "endpoint_name_length", value,
                          f"in environment '{longest}' the endpoint is named '{full}' ({len(full)} characters); "
                          f"Azure allows at most 32: shorten the name to {31 - len(longest)} characters or fewer")
