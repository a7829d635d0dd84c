"""Stage 7, Migrate to Azure ML: move an existing experiment onto Azure ML and prove it.

Follows the dstoolkit-mlops-base template (configuration/, src/dataprep|train|evaluate|register|
score|batch_score.py, azure-pipelines/), targeting SDK v2 by default with a v1 -> v2 mapping step.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from ..errors import FieldError
from ..naming import AssetName, ComputeClusterName, EndpointName
from ..roles import RoleId
from .base import Record, StageSettings, err, setting
from .data import duplicates
from .models import ExperimentName, MetricName

RefactorRule = Literal["no_hardcoded_values", "argparse_defaults", "separate_local_remote_env",
                       "secrets_via_utils_only", "notebooks_not_committed"]
Text = Annotated[str, Field(min_length=1, max_length=256)]
# A path inside the migration source: relative, no '..' (the source is read, never left).
_UNSAFE_PATH = re.compile(r"^([/\\~]|[A-Za-z]:)|(^|[/\\])\.\.([/\\]|$)|\x00")


def _inside_source(value: str) -> str:
    if _UNSAFE_PATH.search(value):
        raise PydanticCustomError("relative_path_inside_source",
                                  "path '{value}' must be relative to the migration source, without '..'",
                                  {"value": value})
    return value


RelPath = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_inside_source)]

# ---------------------------------------------------------------------------
# Records


class LegacyAsset(Record):
    name: Text = setting("legacy-model", title="Name", task="S7.T1",
                         help="The existing model or experiment being migrated.")
    location: Literal["local_scripts", "notebooks", "databricks", "other_cloud", "on_prem_server"] = setting(
        "notebooks", title="Current location", task="S7.T1",
        help="Where the code runs today; it decides how much refactoring the port needs.")
    framework: Literal["scikit-learn", "xgboost", "lightgbm", "pytorch", "tensorflow", "spark_ml", "r",
                       "other"] = setting(
        "scikit-learn", title="Framework", task="S7.T1",
        help="ML library of the legacy code; it picks the target environment.")
    data_sources: list[Text] = setting(
        [], title="Data sources", task="S7.T1",
        help="Where the legacy code reads data; each becomes a datastore and data asset in stage 4.")
    training: Literal["manual", "scheduled"] = setting(
        "manual", title="How it is trained", task="S7.T1",
        help="Manual runs become a pipeline; scheduled runs become a job schedule.")
    serving: Literal["file_handoff", "api", "batch", "none"] = setting(
        "batch", title="How it is served", task="S7.T1",
        help="An API becomes an online endpoint; batch and file hand-offs become a batch endpoint.")
    owner: Text = setting("data-science", title="Owner", task="S7.T1",
                          help="Who knows the legacy code and signs off parity.")
    metrics_of_record: dict[Annotated[str, Field(min_length=1)], float] = setting(
        {}, title="Metrics of record", task="S7.T1",
        help="The legacy model's reported metrics (e.g. accuracy 0.85); parity is proven against them.")


class ConfigMapping(Record):
    """Values for dstoolkit's configuration-aml.variables.yml."""

    dataset: AssetName = setting("training-data", title="AML_DATASET", task="S7.T2",
                                 help="Data asset the ported pipeline trains on (stage 4).")
    model: AssetName = setting("baseline-classifier", title="AML_MODEL", task="S7.T2",
                               help="Registered model name (stage 5).")
    training_experiment: ExperimentName = setting(
        "{project}-training", title="TRAINING_EXPERIMENT", task="S7.T2",
        help="Experiment of the training pipeline runs.")
    training_pipeline: AssetName = setting("training-pipeline", title="TRAINING_PIPELINE", task="S7.T2",
                                           help="Name of the published training pipeline / pipeline job.")
    training_compute: ComputeClusterName = setting("cpu-cluster", title="TRAINING_COMPUTE", task="S7.T2",
                                                   help="Cluster the training pipeline runs on.")
    batchinference_experiment: ExperimentName = setting(
        "{project}-batch-inference", title="BATCHINFERENCE_EXPERIMENT", task="S7.T2",
        help="Experiment of batch scoring runs.")
    batchinference_pipeline: AssetName = setting(
        "batch-inference-pipeline", title="BATCHINFERENCE_PIPELINE", task="S7.T2",
        help="Name of the batch scoring pipeline.")
    batchinference_compute: ComputeClusterName = setting(
        "cpu-cluster", title="BATCHINFERENCE_COMPUTE", task="S7.T2",
        help="Cluster batch scoring runs on (often the training cluster).")
    realtime_endpoint: EndpointName = setting(
        "mlops-online", title="AML_WEBSERVICE (v2: online endpoint)", task="S7.T2", provenance="V2",
        help="Online endpoint replacing the template's ACI/AKS web service.")


class ParityTolerance(Record):
    metric: MetricName = setting("accuracy", title="Metric", task="S7.T7",
                                 help="Metric compared between the legacy and the migrated model.")
    absolute: float = setting(0.0, title="Absolute difference", task="S7.T7", ge=0, provenance="DERIVED",
                              help="Largest allowed difference in metric units (0 = not used).")
    relative_pct: float = setting(1.0, title="Relative difference %", task="S7.T7", ge=0, le=100,
                                  provenance="DERIVED",
                                  help="Largest allowed difference as % of the legacy value (0 = not used). "
                                       "When both are set, both must hold.")
    same_data_version: bool = setting(
        True, title="Same data version", task="S7.T7",
        help="Compare both models on the same data asset version, otherwise differences prove nothing.")


class CutoverPlan(Record):
    parallel_run_days: int = setting(14, title="Parallel run (days)", task="S7.T7", ge=0, le=365,
                                     provenance="DERIVED",
                                     help="Days the legacy and migrated models run side by side before "
                                          "switching.")
    parallel_run_start: dt.date | None = setting(
        None, title="Parallel run start", task="S7.T7",
        help="First day of the parallel run (leave empty until planned).")
    rollback_criteria: list[Text] = setting(
        ["parity check fails on production data", "endpoint error rate above the SLO for 1 hour",
         "business owner reports wrong outcomes"],
        title="Rollback criteria", task="S7.T7", min_length=1,
        help="Conditions that send traffic back to the legacy system; agreed before the switch.")
    decommission_date: dt.date | None = setting(
        None, title="Decommission date", task="S7.T7",
        help="When the legacy system is switched off; only after the parallel run has ended.")
    approvers: list[RoleId] = setting(
        ["mlops_engineer", "product_owner"], title="Approvers", task="S7.T7", min_length=1,
        help="Roles that approve the cut-over and decommissioning.")


class ParityRun(Record):
    """How the parity run trains both sides locally (the legacy and the migrated copy of one script)."""

    entry_point: RelPath = setting("src/train.py", title="Training entry point", task="S7.T7",
                                   help="The training script, relative to the migration source; it runs in its "
                                        "own folder, as Azure ML runs a job's code.")
    arguments: list[Annotated[str, Field(max_length=256)]] = setting(
        [], title="Arguments", task="S7.T7",
        help="Command-line arguments of both runs; leave empty to use the ones the legacy ScriptRunConfig "
             "passes.")
    data: dict[Annotated[str, Field(min_length=1, max_length=256)], RelPath] = setting(
        {}, title="Data files", task="S7.T7",
        help="Legacy dataset name -> local file (relative to the migration source) that both runs read; the "
             "Azure ML job uses the stage-4 data asset of the same name (or AML_DATASET) instead.")
    model_file: RelPath = setting("outputs/model.pkl", title="Model file", task="S7.T7",
                                  help="The model the training writes (joblib/pickle), relative to the entry "
                                       "point's folder; both models predict on a fixed sample.")
    label_column: Text = setting("label", title="Label column", task="S7.T7",
                                 help="Column of the data file the model predicts; left out of the sample.")
    sample_rows: int = setting(100, title="Sample rows", task="S7.T7", ge=1, le=100_000,
                               help="First rows of the data file both models predict on.")


# ---------------------------------------------------------------------------
# The stage


class Settings(StageSettings):
    """Stage 7 settings: scope, template wiring, porting rules, parity and cut-over."""

    stage: ClassVar[str] = "migrate"

    # S7.T1 Assess and plan: what is migrated and with which template.
    legacy_inventory: list[LegacyAsset] = setting(
        [LegacyAsset(data_sources=["crm-db"], metrics_of_record={"accuracy": 0.85})],
        title="Legacy inventory", task="S7.T1",
        help="Every existing model or experiment in scope, with how it is trained, served and measured "
             "today.")
    migration_source: Annotated[str, Field(min_length=1, max_length=1024)] = setting(
        "legacy", title="Migration source", task="S7.T1",
        help="Folder of the existing experiment (relative to the project, or absolute; a local git clone is "
             "recorded with its commit). It is read, never changed: the migrated copy goes to the run's outputs.")
    migration_template: Literal["dstoolkit_mlops_base", "aml_acceleration_template"] = setting(
        "dstoolkit_mlops_base", title="Migration template", task="S7.T1",
        help="Scaffolding for the ported project; dstoolkit-mlops-base is the maintained one, the "
             "acceleration template is archived.")
    target_sdk: Literal["v2", "v1"] = setting(
        "v2", title="Target SDK", task="S7.T1", provenance="V2",
        help="v2 (command/pipeline jobs, managed endpoints) is current; SDK v1 support ends in 2026, so use "
             "v1 only to port the template unchanged first.")

    # S7.T2 Configure resources and Azure ML environments from the template.
    config_mapping: ConfigMapping = setting(
        ConfigMapping(), title="Template configuration", task="S7.T2",
        help="Names filled into the template's configuration files; keep them equal to the stage 4 and 5 "
             "answers.")

    # S7.T3-T5 Port data prep, training and inference under the template's coding rules.
    script_refactor_rules: list[RefactorRule] = setting(
        ["no_hardcoded_values", "argparse_defaults", "separate_local_remote_env", "secrets_via_utils_only",
         "notebooks_not_committed"],
        title="Script refactor rules", task="S7.T4",
        help="Coding rules the ported scripts follow so the same code runs unchanged in dev, test and prod.")
    add_mlflow_logging: list[RelPath] = setting(
        [], title="Add MLflow logging to", task="S7.T4",
        help="Plain scripts or notebooks (paths in the migration source) to wrap in an MLflow run with "
             "autologging; their logic is not changed, notebooks become scripts.")
    inference_modes_to_port: list[Literal["realtime", "batch"]] = setting(
        ["batch"], title="Inference modes to port", task="S7.T5",
        help="realtime ports score.py to an online endpoint; batch ports batch_score.py to a batch endpoint. "
             "Cover every way the legacy model is served.")

    # S7.T7 Prove parity and cut over.
    parity_tolerance: ParityTolerance = setting(
        ParityTolerance(), title="Parity tolerance", task="S7.T7", provenance="DERIVED",
        help="How close the migrated model's metric must be to the legacy one to call the migration "
             "faithful.")
    parity_run: ParityRun = setting(
        ParityRun(), title="Parity run", task="S7.T7",
        help="What both sides train and where their data and model are, for the local parity run.")
    cutover_plan: CutoverPlan = setting(
        CutoverPlan(), title="Cut-over plan", task="S7.T7", provenance="DERIVED",
        help="Parallel run, rollback criteria and decommission date for a safe switch.")

    def cross_field_errors(self) -> Iterator[FieldError]:
        names = [a.name for a in self.legacy_inventory]
        for i, a in enumerate(self.legacy_inventory):
            if a.name in duplicates(names) and names.index(a.name) != i:
                yield err(f"legacy_inventory.{i}.name", "unique_name", a.name, f"'{a.name}' is listed twice")
        need = {"api": "realtime", "batch": "batch", "file_handoff": "batch"}
        for a in self.legacy_inventory:
            mode = need.get(a.serving)
            if mode and mode not in self.inference_modes_to_port:
                yield err("inference_modes_to_port", "inference_mode_coverage", self.inference_modes_to_port,
                          f"'{a.name}' is served by {a.serving}: add {mode} to the modes to port")
                break
        pt = self.parity_tolerance
        if pt.absolute <= 0 and pt.relative_pct <= 0:
            yield err("parity_tolerance", "parity_tolerance_positive", {"absolute": 0, "relative_pct": 0},
                      "set an absolute or a relative tolerance above 0 (an exact match is never "
                      "reproducible)")
        recorded = {m for a in self.legacy_inventory for m in a.metrics_of_record}
        if recorded and pt.metric not in recorded:
            yield err("parity_tolerance.metric", "parity_metric_of_record", pt.metric,
                      f"the legacy inventory records {', '.join(sorted(recorded))}, not {pt.metric}: parity "
                      "needs the legacy value")
        cp = self.cutover_plan
        if cp.parallel_run_start and cp.decommission_date:
            end = cp.parallel_run_start + dt.timedelta(days=cp.parallel_run_days)
            if cp.decommission_date < end:
                yield err("cutover_plan.decommission_date", "decommission_after_parallel_run",
                          cp.decommission_date.isoformat(),
                          f"the parallel run ends on {end.isoformat()}: decommission on or after that day")
