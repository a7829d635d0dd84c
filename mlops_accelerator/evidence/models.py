"""The evidence contract: one pydantic model per stage for what its notebooks hand to the checks.

A stage run merges every notebook's `Evidence` into one record of the stage's model:
top-level keys are fixed (an unknown key fails the notebook that writes it), each with a type,
and `artifacts` maps fixed artifact keys to paths of files or folders the run produced.

A field marked `from_azure()` is written only by the azureml target (it reads a deployment
back from Azure, GitHub or Azure DevOps); the local target leaves it empty, and a check that
needs it reports the item as still to do, not failed. Every other field must be written by
some notebook of its stage: tests/test_evidence_contract.py proves it (for stages that have
notebook templates).

Nested records accept keys beyond the documented ones (a notebook may add detail), but the
documented keys must have the documented types.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


def from_azure(description: str) -> Any:
    """A field only the azureml target writes (read back from Azure or the CI service)."""
    return Field(None, description=description, json_schema_extra={"from_azure": True})


def written(description: str) -> Any:
    """A field a notebook of the stage writes."""
    return Field(None, description=description)


class Detail(BaseModel):
    """A nested evidence record: documented keys typed, extra detail allowed."""

    model_config = ConfigDict(extra="allow")


class Artifacts(BaseModel):
    """Artifact key -> path (relative to the stage's output folder when written, to the project
    once merged). Only declared keys are accepted."""

    model_config = ConfigDict(extra="forbid")


class StageEvidence(BaseModel):
    """Base of a stage's evidence: fixed keys, every one optional (each notebook writes a part)."""

    model_config = ConfigDict(extra="forbid")
    stage: ClassVar[str]  # the stage slug, as in the catalogue

    @classmethod
    def fields_from_azure(cls) -> set[str]:
        return {name for name, f in cls.model_fields.items()
                if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("from_azure")}

    @classmethod
    def evidence_keys(cls) -> set[str]:
        """Top-level keys a notebook may write (besides `artifacts`)."""
        return {name for name in cls.model_fields if name != "artifacts"}

    @classmethod
    def artifact_keys(cls) -> set[str]:
        return set(cls.model_fields["artifacts"].annotation.model_fields)


Path_ = str | None  # an artifact path, absent until written


# ---------------------------------------------------------------------------
# Stage 1: MLOps Foundations


class RepositoryProbe(Detail):
    url: str = ""
    reachable: bool = False
    folders: list[str] = []
    error: str = ""


class FoundationsArtifacts(Artifacts):
    maturity_report: Path_ = None
    maturity_data: Path_ = None
    radar_chart: Path_ = None
    team_charter: Path_ = None
    team_charter_csv: Path_ = None
    delivery_model_note: Path_ = None  # S1-05


class FoundationsEvidence(StageEvidence):
    stage = "foundations"
    artifacts: FoundationsArtifacts = FoundationsArtifacts()
    repository: RepositoryProbe | None = written("S1-08: probe of the project repository")


# ---------------------------------------------------------------------------
# Stage 2: Design and Provision Infrastructure


class CheckovResult(Detail):
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    parse_errors: int = 0
    failed_checks: list[str] = []


class FileValidation(Detail):
    valid: bool = False
    errors: list[str] = []


class IacScan(Detail):
    """The generated IaC, checked offline: checkov and each environment's parameter file."""

    tools: list[str] = []  # the IaC languages written: arm, bicep, terraform
    checkov: CheckovResult
    parameter_files: dict[str, FileValidation] = {}  # environment name -> validation


class DesignArtifacts(Artifacts):
    decision_records: Path_ = None  # S2-03
    design_doc: Path_ = None  # S2-04
    custom_roles: Path_ = None  # S2-06: folder of role-definition JSON files
    role_assignments: Path_ = None  # S2-06
    iac: Path_ = None  # S3-06: folder of the generated IaC (arm/, bicep/)
    checkov_report: Path_ = None  # S3-06: checkov's findings


class DesignEvidence(StageEvidence):
    stage = "design"
    artifacts: DesignArtifacts = DesignArtifacts()
    design_version: str | None = written("S2-04: the design_version the document was generated from")
    iac: IacScan | None = written("S3-03, S3-06: checkov and parameter-file validation of the IaC")


# ---------------------------------------------------------------------------
# Stage 3: Deploy Services and Set Up Environments


class LocalEnv(Detail):
    tools: dict[str, str | None] = {}
    conflicting_extensions: list[str] = []
    account: dict[str, Any] = {}
    workspaces: dict[str, dict[str, Any]] = {}


class Inventory(Detail):
    workspaces: list[dict[str, Any]] = []


class PipelineEvidence(Detail):
    lint_errors: list[str] = []
    last_run: dict[str, Any] = {}  # read from GitHub/Azure DevOps once the pipeline has run there


class AzureIacChecks(Detail):
    validation: dict[str, dict[str, Any]] = {}  # az deployment group validate, per environment
    what_if: dict[str, dict[str, Any]] = {}  # az deployment group what-if, per environment


class DeployArtifacts(Artifacts):
    azureml_specs: Path_ = None
    azureml_validation: Path_ = None
    github_workflow: Path_ = None
    ado_pipeline: Path_ = None
    cicd_setup_guide: Path_ = None
    local_env_report: Path_ = None
    local_setup_guide: Path_ = None


class DeployEvidence(StageEvidence):
    stage = "deploy"
    artifacts: DeployArtifacts = DeployArtifacts()
    local_env: LocalEnv | None = written("S3-01: the check_local_env notebook's findings")
    pipeline: PipelineEvidence | None = written("S3-04: pipeline lint results and the last run")
    inventory: Inventory | None = from_azure("S3-02, S3-03: workspaces found in Azure")
    resources: dict[str, dict[str, dict[str, Any]]] | None = from_azure(
        "S3-05: deployed resources per environment")
    iac: AzureIacChecks | None = from_azure("S3-06: Azure's validation and what-if per environment")
    computes: dict[str, list[dict[str, Any]]] | None = from_azure("S3-07: compute targets per environment")
    software_environments: dict[str, list[dict[str, Any]]] | None = from_azure(
        "S3-08: environment assets per environment")
    service_connection_roles: dict[str, list[dict[str, Any]]] | None = from_azure(
        "S3-09: role assignments of each connection's identity")
    budgets: list[dict[str, Any]] | None = from_azure("S3-10: budgets found per scope")
    registry: dict[str, Any] | None = from_azure(
        "S3-05: the shared Azure ML registry (when the design or stage 5's promotion uses one)")


# ---------------------------------------------------------------------------
# Stage 4: Prepare Data (keys as documented in checks/data.py)


class Wrangling(Detail):
    pipeline: str | None = None
    layers_written: list[str] = []
    pii_columns_in_silver: list[str] = []


class Labeling(Detail):
    project: str | None = None
    progress_pct: float | None = None
    exported_asset: dict[str, Any] | None = None


class DataArtifacts(Artifacts):
    lineage_report: Path_ = None  # S4-08
    lineage_markdown: Path_ = None  # the same lineage as Markdown
    data_quality_report: Path_ = None  # S4-02: rule, column, failing rows, examples (HTML)
    data_quality_markdown: Path_ = None  # the same as Markdown
    cleansing_report: Path_ = None  # personal data dropped/hashed, types, duplicates per source
    ingestion_definitions: Path_ = None  # S4-01: one declarative ingestion definition per source
    azureml_data_assets: Path_ = None  # data asset YAML per environment, loaded back (validation report)
    azureml_datastores: Path_ = None  # datastore YAML per environment, loaded back (validation report)
    storage_rbac_template: Path_ = None  # S4-07: ARM template of the storage role assignments


class DataEvidence(StageEvidence):
    stage = "data"
    artifacts: DataArtifacts = DataArtifacts()
    ingestion_runs: list[dict[str, Any]] | None = written("S4-01: latest ingestion run per source")
    wrangling: Wrangling | None = written("S4-02: the wrangling pipeline and layers written")
    data_quality: list[dict[str, Any]] | None = written("S4-02: one result per data-quality rule")
    labeling: Labeling | None = from_azure("S4-03: labeling progress and export (an Azure ML labeling project)")
    datastores: list[dict[str, Any]] | None = written("S4-04, S4-08: datastores as registered")
    data_assets: list[dict[str, Any]] | None = written(
        "S4-05, S4-06, S4-08: every registered version (with content_hash and record on the local target)")
    storage_role_assignments: list[dict[str, Any]] | None = written(
        "S4-07: data-plane role assignments on the data accounts")
    azure_data: dict[str, dict[str, Any]] | None = from_azure(
        "S4-04, S4-05: per environment, the datastores and data assets read back from its workspace")


# ---------------------------------------------------------------------------
# Stage 5: Build ML Models (keys as documented in checks/models.py)


class ModelsArtifacts(Artifacts):
    unit_test_junit: Path_ = None  # S5-04
    responsible_ai_report: Path_ = None  # S5-07


class ModelsEvidence(StageEvidence):
    stage = "models"
    artifacts: ModelsArtifacts = ModelsArtifacts()
    training_job: dict[str, Any] | None = written("S5-01, S5-02, S5-06: the latest training job")
    model: dict[str, Any] | None = written("S5-03, S5-06, S5-10: the model version just registered")
    unit_tests: dict[str, Any] | None = written("S5-04: unit test results")
    code_quality: dict[str, Any] | None = written("S5-05: linter findings")
    coverage_pct: float | None = written("S5-05: test coverage")
    evaluation: dict[str, Any] | None = written("S5-06: candidate against champion")
    responsible_ai: dict[str, Any] | None = written("S5-07: responsible-AI components run")
    endpoint_smoke_test: dict[str, Any] | None = written("S5-08: the endpoint's smoke test")
    batch_job: dict[str, Any] | None = written("S5-08: the batch scoring job")
    pipeline_specs: list[dict[str, Any]] | None = written("S5-09: pipeline specs validated")
    ci: dict[str, Any] | None = from_azure("S5-09: the last CI run (GitHub/Azure DevOps)")
    cd: dict[str, Any] | None = from_azure("S5-09: the last CD run (GitHub/Azure DevOps)")
    approval: dict[str, Any] | None = written("S5-10: the model's approval")
    azure_training: dict[str, Any] | None = from_azure(
        "S5-01: the training pipeline (or job) run on Azure ML compute: job, status, what it registered")
    azure_endpoints: dict[str, dict[str, Any]] | None = from_azure(
        "S5-08: per environment, the model, online/batch endpoints, deployments and traffic read back")


# ---------------------------------------------------------------------------
# Stage 6: Monitor Models (keys as documented in checks/monitor.py)


class MonitorArtifacts(Artifacts):
    monitoring_report: Path_ = None  # the report people read first (HTML; Markdown beside it)
    monitoring_report_md: Path_ = None
    monitoring_results: Path_ = None  # every value, and what was not computed and why
    alerts_file: Path_ = None  # this run's alerts
    notifications: Path_ = None  # folder of rendered (never sent) messages
    monitor_schedule: Path_ = None  # S6-04: Azure ML monitor schedule YAML
    data_collector: Path_ = None  # S6-03: the deployment's data_collector block
    alert_rules_arm: Path_ = None  # S6-06, S6-08: action group, alert rules, policy assignments
    crontab: Path_ = None  # local scheduling of monitoring and retraining


class MonitorEvidence(StageEvidence):
    stage = "monitor"
    artifacts: MonitorArtifacts = MonitorArtifacts()
    recent_jobs: list[dict[str, Any]] | None = written("S6-01: latest jobs and their metrics")
    endpoints: list[dict[str, Any]] | None = written("S6-02, S6-03: production online endpoints")
    collected_data: dict[str, Any] | None = written("S6-03: rows collected per stream")
    monitor: dict[str, Any] | None = written("S6-04, S6-05: the monitor schedule as created")
    policy_assignments: list[dict[str, Any]] | None = from_azure(
        "S6-06: Azure Policy compliance per assigned policy")
    retraining: dict[str, Any] | None = written("S6-07: retraining schedule and drift route")
    alerts: dict[str, Any] | None = written("S6-08: the action group and a test alert")
    azure_monitor: dict[str, Any] | None = from_azure(
        "S6-04: the model monitor schedule read back from production's workspace")


# ---------------------------------------------------------------------------
# Stage 7: Migrate to Azure ML (keys as documented in checks/migrate.py)


class MigrateArtifacts(Artifacts):
    parity_report: Path_ = None  # S7-07
    parity_report_md: Path_ = None
    inventory_report: Path_ = None
    rewrite_report: Path_ = None
    migrated_code: Path_ = None  # folder: the migrated copy of the legacy project
    migration_diff: Path_ = None
    mapping_table: Path_ = None
    azureml_job: Path_ = None
    azureml_pipeline: Path_ = None
    cutover_plan: Path_ = None


class MigrateEvidence(StageEvidence):
    stage = "migrate"
    artifacts: MigrateArtifacts = MigrateArtifacts()
    setup_runs: list[dict[str, Any]] | None = from_azure("S7-01: the setup pipeline run per environment")
    config_files: list[dict[str, Any]] | None = written("S7-01: the template's configuration files")
    dataprep: dict[str, Any] | None = from_azure("S7-02: the migrated data preparation")
    training_pipeline: dict[str, Any] | None = written("S7-03: the migrated training pipeline")
    realtime_smoke_test: dict[str, Any] | None = from_azure("S7-04: the ported realtime endpoint")
    batch_scoring: dict[str, Any] | None = from_azure("S7-04: the ported batch scoring")
    cicd_runs: list[dict[str, Any]] | None = from_azure("S7-05: the last run of each template pipeline")
    code_scan: dict[str, Any] | None = written("S7-06: secrets and hard-coded names found")
    parity: dict[str, Any] | None = written("S7-07: metrics of the legacy and migrated runs")
    inventory: dict[str, Any] | None = written("S7.T1: what the legacy project is made of")
    rewrite: dict[str, Any] | None = written("S7.T4: SDK v1 uses rewritten, left for a person, not parsed")
    azureml_job: dict[str, Any] | None = written("S7.T4: the migrated command job (and pipeline) as loaded back")
    cutover: dict[str, Any] | None = written("S7-08: the cut-over plan, blocked_by naming differing metrics")


def evidence_model(stage: str) -> type[StageEvidence]:
    """The evidence model of a stage, by slug."""
    for model in StageEvidence.__subclasses__():
        if model.stage == stage:
            return model
    raise KeyError(f"no evidence model for stage {stage!r}")
