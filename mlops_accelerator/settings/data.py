"""Stage 4, Prepare Data: ingestion, layers, labeling, datastores, data assets, quality.

The deliverable is "data is traceable in Azure ML datastores": every data asset points
(through an `azureml://datastores/<ds>/paths/<p>` URI) at a datastore declared here, and
each version is an immutable reference. Names and types are Azure ML v2 (SDK/CLI v2):
datastores `azure_blob`/`azure_data_lake_gen2`/`azure_file`, assets `uri_file`/`uri_folder`/`mltable`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from ..errors import FieldError
from ..naming import AssetName, DatastoreName, NamingRule, StorageAccountName
from ..roles import RoleId
from .base import Cron, Email, Record, StageSettings, _rule, err, setting

# ---------------------------------------------------------------------------
# Types local to this stage (and reused by stages 5-7)

CONTAINER = NamingRule(
    "azure_storage_container_name", "storage container", 3, 63, r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
    "lowercase letters, digits and '-', starting and ending with a letter or digit, no '--'",
    forbid=r"--")
ContainerName = CONTAINER.type

_AZUREML_PATH = r"azureml://datastores/([A-Za-z][A-Za-z0-9_]*)/paths/(\S+)"
AzureMLPath = Annotated[
    str,
    _rule("azureml_datastore_path",
          "must be a datastore URI like azureml://datastores/<datastore>/paths/<folder-or-file>",
          lambda v: re.fullmatch(_AZUREML_PATH, v) is not None),
    Field(json_schema_extra={"pattern": f"^{_AZUREML_PATH}$", "x-rule": "azureml_datastore_path",
                             "examples": ["azureml://datastores/silver/paths/training-data/1/"]}),
]

_VERSION = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
AssetVersion = Annotated[
    str,
    _rule("asset_version", "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
          lambda v: re.fullmatch(_VERSION, v) is not None),
    Field(json_schema_extra={"pattern": f"^{_VERSION}$", "x-rule": "asset_version"}),
]

TagKey = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z][A-Za-z0-9_.:-]*$")]


def datastore_of(path: str) -> str | None:
    """The datastore name inside an azureml://datastores/<ds>/paths/<p> URI (None if not one)."""
    m = re.fullmatch(_AZUREML_PATH, path)
    return m.group(1) if m else None


def duplicates(values: Iterable[object]) -> set[object]:
    """Values that occur more than once."""
    return {v for v, n in Counter(values).items() if n > 1}


def version_in_path(version: str, path: str) -> bool:
    """True when the version (or v<version>) is one folder of the path: data per version stays put."""
    segments = [s for s in path.split("/") if s]
    return version in segments or f"v{version}" in segments


def version_matches_policy(policy: str, version: str) -> bool:
    if policy == "auto_increment":
        return version.isdigit() and int(version) >= 1
    if policy == "date_stamp":
        try:
            datetime.strptime(version, "%Y%m%d")
        except ValueError:
            return False
        return len(version) == 8
    return re.fullmatch(r"\d+\.\d+\.\d+", version) is not None  # semver


# ---------------------------------------------------------------------------
# Records

SourceSystem = Literal["adls_gen2", "blob", "azure_sql", "synapse", "databricks_delta", "on_prem_sql",
                       "file_share", "api", "other"]


class DataSource(Record):
    name: str = setting("source", title="Name", task="S4.T1", min_length=1, max_length=64,
                        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                        help="Short name of the source system (letters, digits, '-', '_', '.'); ingestion runs, "
                             "the bronze folder and lineage refer to it.")
    system_type: SourceSystem = setting(
        "azure_sql", title="System type", task="S4.T1",
        help="Where the data lives today; it decides which ingestion activity and connector is used.")
    owner: str = setting("data-engineering", title="Owner", task="S4.T1", min_length=1,
                         help="Team or person accountable for the source; they approve access and fixes.")
    refresh_cadence: Literal["realtime", "hourly", "daily", "weekly", "monthly", "ad_hoc"] = setting(
        "daily", title="Refresh cadence", task="S4.T1",
        help="How often new data arrives; it bounds how fresh a retrained model can be.")
    contains_pii: bool = setting(
        False, title="Contains personal data", task="S4.T1",
        help="Personal data must be removed or masked before the silver layer; this flags sources to treat.")
    classification: Literal["public", "internal", "confidential", "highly_confidential"] = setting(
        "internal", title="Classification", task="S4.T1",
        help="Your organisation's data classification; it drives who may read the data and where it may go.")
    location: str = setting(
        "", title="Location", task="S4.T1", max_length=2000,
        help="Where the local target reads the source: a CSV, Parquet or JSON Lines file or folder (relative "
             "to the project folder or absolute), or a SQLAlchemy database URL such as "
             "sqlite:///data/crm.sqlite. Azure-only systems (Azure SQL, Synapse, ...) need the azureml target.")
    format: Literal["auto", "csv", "parquet", "jsonl", "sql"] = setting(
        "auto", title="Format", task="S4.T1",
        help="File format of the location; auto reads it from the file extension, or sql for a database URL.")
    table: str | None = setting(
        None, title="Table", task="S4.T1", max_length=256,
        help="For a database source: the table to read (reflected by SQLAlchemy, never pasted into SQL).")
    schema_version: str = setting(
        "1", title="Schema version", task="S4.T1", min_length=1, max_length=32,
        help="Bump it when the source's columns change on purpose; a renamed or retyped column under the "
             "same schema version stops ingestion instead of silently changing the data.")
    column_types: dict[str, Literal["int", "float", "string", "bool", "datetime", "category"]] = setting(
        {}, title="Column types", task="S4.T2",
        help="Types the cleansing coerces columns to in the silver layer; values that do not convert become "
             "empty and are counted in the cleansing report.")


class IngestionSchedule(Record):
    trigger: Literal["schedule", "tumbling_window", "storage_event", "manual"] = setting(
        "schedule", title="Trigger", task="S4.T1", provenance="DERIVED",
        help="What starts an ingestion run: a time schedule, a tumbling window (back-fillable slices), "
             "new or deleted blobs, or a person.")
    cron: Cron = setting(
        "0 1 * * *", title="Schedule (cron)", task="S4.T1", provenance="DERIVED",
        help="When scheduled or tumbling-window ingestion runs (UTC). Daily at 01:00 leaves time for "
             "wrangling before nightly training.")
    storage_events: list[Literal["blob_created", "blob_deleted"]] = setting(
        ["blob_created"], title="Storage events", task="S4.T1",
        help="Blob events that start ingestion when the trigger is storage_event.")


class PiiRule(Record):
    column: str = setting(
        "email", title="Column (or pattern)", task="S4.T2", min_length=1, max_length=256,
        help="Column name holding personal data, or a shell-style pattern such as *email* (case-insensitive).")
    action: Literal["drop", "hash"] = setting(
        "drop", title="Action", task="S4.T2",
        help="drop removes the column before silver; hash replaces it by <column>_hash, a keyed SHA-256 of "
             "the value with the project salt (joinable, not reversible). The salt is never in the project "
             "file: it comes from the environment variable MLOPS_ACCELERATOR_PII_SALT or from "
             ".mlops/pii-salt (created once, readable by its owner only, git-ignored).")


class FeatureTable(Record):
    name: str = setting(
        "features", title="Name", task="S4.T2", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        help="Name of the gold feature table; a gold data asset holds it.")
    sources: list[str] = setting(
        [], title="Sources joined", task="S4.T2",
        help="Silver tables (source names) joined into the feature table, the first being the base; empty "
             "means the only source.")
    join_key: str | None = setting(
        None, title="Join key", task="S4.T2",
        help="Column the sources share (for example customer_id); needed when more than one source is joined.")
    columns: list[str] = setting(
        [], title="Feature columns", task="S4.T2",
        help="Columns kept in the feature table (the label and time column included); empty keeps them all.")
    label_column: str | None = setting(
        None, title="Label column", task="S4.T2",
        help="The target the model learns; rows without a label are not training data and are dropped.")


class DataLayer(Record):
    layer: Literal["bronze", "silver", "gold"] = setting(
        "silver", title="Layer", task="S4.T2",
        help="bronze = raw copy, silver = cleaned with personal data removed and governed, "
             "gold = business aggregates and features.")
    datastore: DatastoreName = setting(
        "silver", title="Datastore", task="S4.T2",
        help="The datastore (declared under Datastores) holding this layer; separate stores let you grant "
             "access per layer.")


LabelingTask = Literal["classification_multiclass", "classification_multilabel", "object_detection_bbox",
                       "instance_segmentation_polygon", "ner"]
LABELING_TASKS: dict[str, tuple[str, ...]] = {
    "image": ("classification_multiclass", "classification_multilabel", "object_detection_bbox",
              "instance_segmentation_polygon"),
    "text": ("classification_multiclass", "classification_multilabel", "ner"),
}


class LabelingProject(Record):
    name: AssetName = setting("labeling-project", title="Project name", task="S4.T3", provenance="V2",
                              help="Name of the Azure ML data labeling project; the exported labels keep it.")
    media: Literal["image", "text"] = setting(
        "image", title="Media", task="S4.T3",
        help="What labelers look at; it decides which labeling tasks are available.")
    task: LabelingTask = setting(
        "classification_multiclass", title="Labeling task", task="S4.T3", provenance="V2",
        help="The kind of label: one class, several classes, boxes or polygons (images), entities (text).")
    label_classes: list[Annotated[str, Field(min_length=1)]] = setting(
        ["positive", "negative"], title="Label classes", task="S4.T3", min_length=1,
        help="The classes labelers choose from; changing them later invalidates earlier labels.")
    ml_assisted: bool = setting(
        True, title="ML-assisted labeling", task="S4.T3",
        help="Let Azure ML pre-label items once enough are labeled by hand; it speeds up large projects.")
    labelers: list[Email] = setting(
        [], title="Labelers", task="S4.T3",
        help="People with the Labeler role (stage 2 custom role) who label items.")
    reviewers: list[Email] = setting(
        [], title="Reviewers", task="S4.T3",
        help="People with the Labeling Team Lead role who review labels before export.")
    export_format: Literal["mltable", "coco", "csv"] = setting(
        "mltable", title="Export format", task="S4.T3", provenance="V2",
        help="Format of the exported labels; mltable registers directly as a data asset for training.")


class Datastore(Record):
    name: DatastoreName = setting(
        "silver", title="Name", task="S4.T4",
        help="Datastore name in the workspace; data asset paths (azureml://datastores/<name>/...) use it.")
    type: Literal["azure_blob", "azure_data_lake_gen2", "azure_file"] = setting(
        "azure_data_lake_gen2", title="Type", task="S4.T4", provenance="V2",
        help="Storage kind behind the datastore (ADLS Gen1 is retired; databases are reached through "
             "data import connections, not datastores).")
    account_name: StorageAccountName = setting(
        "stmlopsdata", title="Storage account", task="S4.T4",
        help="The storage account holding the data (3-24 lowercase letters and digits).")
    container: ContainerName = setting(
        "silver", title="Container / file system / share", task="S4.T4",
        help="Blob container, ADLS Gen2 file system or file share inside the account.")
    auth: Literal["identity_based", "account_key", "sas_token", "service_principal"] = setting(
        "identity_based", title="Authentication", task="S4.T4",
        help="How Azure ML reaches the data. Identity-based uses the caller's or compute's identity and "
             "stores no secret; keys and SAS tokens are kept in the workspace Key Vault, never in this "
             "project.")
    is_default: bool = setting(
        False, title="Default datastore", task="S4.T4",
        help="The workspace default datastore receives job outputs that name no datastore; exactly one "
             "datastore is the default.")


class DataAsset(Record):
    name: AssetName = setting(
        "training-data", title="Name", task="S4.T4", provenance="V2",
        help="Data asset name; jobs refer to it as azureml:<name>:<version>.")
    version: AssetVersion = setting(
        "1", title="Version", task="S4.T5", provenance="V2",
        help="Version of the asset; a version is immutable once registered, so new data gets a new version.")
    type: Literal["uri_file", "uri_folder", "mltable"] = setting(
        "uri_folder", title="Type", task="S4.T4", provenance="V2",
        help="uri_file = one file, uri_folder = a folder, mltable = a table with schema and transforms "
             "(needs an MLTable file; required by AutoML).")
    path: AzureMLPath = setting(
        "azureml://datastores/silver/paths/training-data/1/", title="Path", task="S4.T4", provenance="V2",
        help="Where the data lives, through a declared datastore: azureml://datastores/<ds>/paths/<p>. "
             "Going through a datastore keeps the data traceable and secret-free.")
    description: str = setting(
        "Curated training table (silver layer).", title="Description", task="S4.T4", max_length=1000,
        help="What the data is and how it was prepared; it is shown in Azure ML studio's data catalogue.")
    tags: dict[TagKey, str] = setting(
        {"source": "crm-db", "layer": "silver", "schema_version": "1", "pii": "false"},
        title="Tags", task="S4.T4",
        help="Searchable key/value metadata (source, layer, schema version, personal data); the required "
             "keys are listed under 'Required asset tags'.")
    table: str | None = setting(
        None, title="Table", task="S4.T4",
        help="What the asset holds: a source name (its bronze or silver table, by the datastore's layer) or "
             "the feature table's name (gold). Empty: the feature table on gold, the only source elsewhere.")


class StorageRoleAssignment(Record):
    principal: str = setting(
        "data-scientists", title="Principal", task="S4.T5", min_length=1,
        help="Entra ID group, user, service principal or managed identity (display name or object id).")
    principal_type: Literal["group", "user", "service_principal", "compute_managed_identity",
                            "workspace_managed_identity"] = setting(
        "group", title="Principal type", task="S4.T5",
        help="Kind of identity; prefer groups and managed identities over individual users.")
    role: Literal["Storage Blob Data Reader", "Storage Blob Data Contributor"] = setting(
        "Storage Blob Data Reader", title="Role", task="S4.T5",
        help="Data-plane role; readers cannot change data, contributors can write. Owner roles are "
             "deliberately not offered (least privilege).")
    scope: Literal["account", "container"] = setting(
        "account", title="Scope", task="S4.T5",
        help="Grant on the whole storage account or only on one datastore's container.")
    datastore: DatastoreName | None = setting(
        None, title="Datastore (container scope)", task="S4.T5",
        help="For container scope: the datastore whose container is granted.")


class DataSplits(Record):
    strategy: Literal["random", "time_based", "stratified"] = setting(
        "random", title="Strategy", task="S4.T6", provenance="DERIVED",
        help="How rows are split: at random, by time (train on the past, test on the future) or keeping "
             "class proportions.")
    train_pct: int = setting(70, title="Train %", task="S4.T6", ge=1, le=100, provenance="DERIVED",
                             help="Share of rows used to fit the model.")
    validation_pct: int = setting(15, title="Validation %", task="S4.T6", ge=0, le=100, provenance="DERIVED",
                                  help="Share of rows used to tune and select models.")
    test_pct: int = setting(15, title="Test %", task="S4.T6", ge=0, le=100, provenance="DERIVED",
                            help="Hold-out share used once to report final metrics; never used for tuning.")
    time_column: str | None = setting(
        None, title="Time column", task="S4.T6",
        help="Timestamp column ordering the rows; required for the time_based strategy.")
    stratify_column: str | None = setting(
        None, title="Stratify column", task="S4.T6",
        help="Column whose class proportions every split keeps; required for the stratified strategy.")
    holdout_owner: RoleId = setting(
        "data_engineer", title="Hold-out owner", task="S4.T6",
        help="Role that prepares and guards the hold-out set, so scientists cannot tune on it.")


class DataQualityRule(Record):
    column: str = setting("id", title="Column", task="S4.T6", min_length=1,
                          help="Column the rule checks.")
    rule: Literal["not_null", "range", "allowed_values", "type", "unique", "freshness", "row_count"] = setting(
        "not_null", title="Rule", task="S4.T6",
        help="not_null, range (min/max), allowed_values (a list), type (a data type), unique, freshness (the "
             "newest timestamp in the column is at most max_age_days old) or row_count (min/max rows; the "
             "column is ignored).")
    min: float | None = setting(None, title="Minimum", task="S4.T6",
                                   help="Lowest allowed value for a range rule (inclusive).")
    max: float | None = setting(None, title="Maximum", task="S4.T6",
                                   help="Highest allowed value for a range rule (inclusive).")
    allowed: list[str] = setting([], title="Allowed values", task="S4.T6",
                                 help="Permitted values for an allowed_values rule.")
    expected_type: Literal["int", "float", "string", "bool", "datetime"] | None = setting(
        None, title="Expected type", task="S4.T6", help="Data type the column must have for a type rule.")
    max_age_days: float | None = setting(
        None, title="Maximum age (days)", task="S4.T6", gt=0,
        help="For a freshness rule: how old the newest row may be, in days, when the rule runs.")
    severity: Literal["error", "warning"] = setting(
        "error", title="Severity", task="S4.T6",
        help="error stops the pipeline (bad data never reaches training); warning only reports.")
    asset: AssetName | None = setting(
        None, title="Data asset", task="S4.T6",
        help="Data asset the rule applies to; leave empty to apply it to every tabular asset.")


# ---------------------------------------------------------------------------
# The stage


class Settings(StageSettings):
    """Stage 4 settings: get data into Azure, clean and label it, register it traceably."""

    stage: ClassVar[str] = "data"

    # S4.T1 Ingest: which systems feed the project and how data moves into Azure storage.
    data_sources: list[DataSource] = setting(
        [DataSource(name="crm-db", contains_pii=True, classification="confidential")],
        title="Data sources", task="S4.T1",
        help="Every system the project reads from. Ingestion, lineage and personal-data handling are "
             "planned per source.")
    ingestion_tool: Literal["adf_copy", "adf_data_flow", "adf_custom_activity", "synapse_pipeline",
                            "databricks_job", "aml_pipeline_step"] = setting(
        "adf_copy", title="Ingestion tool", task="S4.T1",
        help="What copies data into Azure storage. Data Factory copy handles GB-TB with no code; use data "
             "flows or custom activities only for transformations copy cannot do.")
    ingestion_schedule: IngestionSchedule = setting(
        IngestionSchedule(), title="Ingestion schedule", task="S4.T1", provenance="DERIVED",
        help="When ingestion runs; fresh data is what scheduled retraining trains on.")

    # S4.T2 Wrangle: medallion layers keep raw data apart from governed, cleaned data.
    data_layers: list[DataLayer] = setting(
        [DataLayer(layer="bronze", datastore="bronze"), DataLayer(layer="silver", datastore="silver"),
         DataLayer(layer="gold", datastore="gold")],
        title="Data layers", task="S4.T2",
        help="The bronze/silver/gold layers in use and the datastore of each; access rules and lineage "
             "are set per layer.")
    bronze_access: Literal["data_engineers_only", "shared"] = setting(
        "data_engineers_only", title="Bronze layer access", task="S4.T2",
        help="Raw data may still hold personal data, so by default only Data Engineers may read it.")
    wrangling_tool: Literal["compute_instance_code", "designer", "synapse_spark_attached",
                            "serverless_spark", "databricks"] = setting(
        "compute_instance_code", title="Wrangling tool", task="S4.T2",
        help="Where cleansing code runs: notebooks on a compute instance, the designer, or Spark for data "
             "too large for one machine. Pick what the team can maintain.")

    # S4.T3 Label: only when the raw data has no labels yet.
    labeling_required: bool = setting(
        False, title="Labeling required", task="S4.T3",
        help="Turn on when images or text must be labeled by people before training.")
    labeling_project: LabelingProject | None = setting(
        None, title="Labeling project", task="S4.T3",
        help="The Azure ML labeling project: media, task, classes, labelers and reviewers. Required when "
             "labeling is required.")

    # S4.T4 Register: datastores hold connection info; data assets are versioned references.
    datastores: list[Datastore] = setting(
        [Datastore(name="bronze", container="bronze"),
         Datastore(name="silver", container="silver", is_default=True),
         Datastore(name="gold", container="gold")],
        title="Datastores", task="S4.T4", min_length=1,
        help="Connections from the workspace to storage. Scripts reach data through them, so no script "
             "ever holds a storage secret.")
    data_assets: list[DataAsset] = setting(
        [DataAsset()], title="Data assets", task="S4.T4", provenance="V2",
        help="The versioned data references training uses. Each must point at a declared datastore so "
             "every model can be traced back to its data.")
    required_asset_tags: list[TagKey] = setting(
        ["source", "layer", "schema_version", "pii"], title="Required asset tags", task="S4.T4",
        provenance="DERIVED",
        help="Tag keys every data asset must carry; they make assets searchable and auditable.")
    consumption_mode: Literal["ro_mount", "download", "direct", "eval_mount", "eval_download"] = setting(
        "ro_mount", title="Consumption mode", task="S4.T4", provenance="V2",
        help="How jobs read assets: read-only mount streams files (large data), download copies them "
             "first (fast repeated reads, needs disk), direct passes the URI to your code.")

    # S4.T5 Version and secure: immutable versions and least-privilege storage access.
    versioning_policy: Literal["auto_increment", "date_stamp", "semver"] = setting(
        "auto_increment", title="Versioning policy", task="S4.T5",
        help="How versions are numbered: 1, 2, 3...; YYYYMMDD; or major.minor.patch. A new version is "
             "made whenever new data arrives or the preparation logic changes.")
    version_in_path: bool = setting(
        True, title="Version folder in path", task="S4.T5",
        help="Store each version's data in its own folder (…/<name>/<version>/) so a version never changes "
             "under a trained model.")
    storage_rbac: list[StorageRoleAssignment] = setting(
        [StorageRoleAssignment(),
         StorageRoleAssignment(principal="data-engineers", role="Storage Blob Data Contributor"),
         StorageRoleAssignment(principal="workspace", principal_type="workspace_managed_identity")],
        title="Storage role assignments", task="S4.T5",
        help="Who may read or write the data. Identity-based datastores rely entirely on these grants.")

    # S4.T6 Quality and profiling: consistent splits and checked data make results comparable.
    data_splits: DataSplits = setting(
        DataSplits(), title="Data splits", task="S4.T6", provenance="DERIVED",
        help="How data is divided into train, validation and test sets; the percentages add up to 100.")
    data_quality_rules: list[DataQualityRule] = setting(
        [], title="Data quality rules", task="S4.T6",
        help="Checks run on every new data version (and in the training pipeline); an error-level failure "
             "stops bad data before it reaches a model.")
    data_profile: bool = setting(
        True, title="Profile each version", task="S4.T6",
        help="Compute statistics per data version; they document the data and become drift baselines.")

    # S4.T2 (continued) Cleansing rules the local pipeline applies between the layers.
    pii_rules: list[PiiRule] = setting(
        [PiiRule(column="*name*"), PiiRule(column="*email*"), PiiRule(column="*phone*")],
        title="Personal data rules", task="S4.T2",
        help="Columns that hold personal data and what happens to them before silver (drop or keyed hash). "
             "They apply to every source; a source marked as containing personal data must match at least one.")
    feature_table: FeatureTable = setting(
        FeatureTable(), title="Feature table (gold)", task="S4.T2",
        help="How silver tables become the gold feature table: which sources are joined on which key, and "
             "which columns are kept.")

    def cross_field_errors(self) -> Iterator[FieldError]:
        yield from self._datastore_errors()
        yield from self._asset_errors()
        yield from self._layer_errors()
        yield from self._labeling_errors()
        yield from self._split_errors()
        yield from self._quality_errors()

    def _datastore_errors(self) -> Iterator[FieldError]:
        names = [d.name for d in self.datastores]
        for i, d in enumerate(self.datastores):
            if d.name in duplicates(names) and names.index(d.name) != i:
                yield err(f"datastores.{i}.name", "unique_name", d.name,
                          f"datastore '{d.name}' is declared twice; datastore names are unique per workspace")
        defaults = [d.name for d in self.datastores if d.is_default]
        if len(defaults) != 1:
            yield err("datastores", "single_default_datastore", defaults,
                      "mark exactly one datastore as the default "
                      f"({'none is' if not defaults else ', '.join(defaults) + ' are'} marked)")

    def _asset_errors(self) -> Iterator[FieldError]:
        stores = {d.name for d in self.datastores}
        seen: set[tuple[str, str]] = set()
        for i, a in enumerate(self.data_assets):
            ds = datastore_of(a.path)
            if ds not in stores:
                yield err(f"data_assets.{i}.path", "datastore_reference", a.path,
                          f"datastore '{ds}' is not declared under datastores "
                          f"(declared: {', '.join(sorted(stores)) or 'none'}); add it or fix the path")
            if (a.name, a.version) in seen:
                yield err(f"data_assets.{i}.version", "unique_name", a.version,
                          f"data asset {a.name}:{a.version} is declared twice; bump the version")
            seen.add((a.name, a.version))
            if not version_matches_policy(self.versioning_policy, a.version):
                expected = {"auto_increment": "a whole number from 1", "date_stamp": "a date YYYYMMDD",
                            "semver": "major.minor.patch like 1.0.0"}[self.versioning_policy]
                yield err(f"data_assets.{i}.version", "version_policy", a.version,
                          f"the versioning policy '{self.versioning_policy}' needs {expected}")
            if self.version_in_path and not version_in_path(a.version, a.path):
                yield err(f"data_assets.{i}.path", "version_in_path", a.path,
                          f"put the version in its own folder, e.g. .../{a.name}/{a.version}/, or turn off "
                          "'Version folder in path'")
            missing = [t for t in self.required_asset_tags if t not in a.tags]
            if missing:
                yield err(f"data_assets.{i}.tags", "required_tags", sorted(a.tags),
                          f"add the required tag(s): {', '.join(missing)}")
        for i, r in enumerate(self.storage_rbac):
            if r.scope == "container" and r.datastore is None:
                yield err(f"storage_rbac.{i}.datastore", "required_if", None,
                          "container scope needs the datastore whose container is granted")
            elif r.datastore is not None and r.datastore not in stores:
                yield err(f"storage_rbac.{i}.datastore", "datastore_reference", r.datastore,
                          f"datastore '{r.datastore}' is not declared under datastores")

    def _layer_errors(self) -> Iterator[FieldError]:
        stores = {d.name for d in self.datastores}
        layers = [x.layer for x in self.data_layers]
        for i, x in enumerate(self.data_layers):
            if x.layer in duplicates(layers) and layers.index(x.layer) != i:
                yield err(f"data_layers.{i}.layer", "unique_name", x.layer,
                          f"layer '{x.layer}' is listed twice")
            if x.datastore not in stores:
                yield err(f"data_layers.{i}.datastore", "datastore_reference", x.datastore,
                          f"datastore '{x.datastore}' is not declared under datastores")
        pii = [s.name for s in self.data_sources if s.contains_pii]
        if pii and "silver" not in layers:
            yield err("data_layers", "pii_needs_silver", layers,
                      f"source(s) {', '.join(pii)} contain personal data: add a silver layer where it is "
                      "removed before anyone but Data Engineers reads the data")
        names = [s.name for s in self.data_sources]
        ft = self.feature_table
        for j, src in enumerate(ft.sources):
            if src not in names:
                yield err(f"feature_table.sources.{j}", "source_reference", src,
                          f"source '{src}' is not declared under data sources ({', '.join(names) or 'none'})")
        if len(ft.sources) > 1 and not ft.join_key:
            yield err("feature_table.join_key", "required_if", None,
                      "joining more than one source needs the column they share")
        tables = set(names) | {ft.name}
        for i, a in enumerate(self.data_assets):
            if a.table is not None and a.table not in tables:
                yield err(f"data_assets.{i}.table", "table_reference", a.table,
                          f"'{a.table}' is neither a data source nor the feature table "
                          f"({', '.join(sorted(tables))})")
        for i, s in enumerate(self.data_sources):
            if s.name in duplicates(names) and names.index(s.name) != i:
                yield err(f"data_sources.{i}.name", "unique_name", s.name, f"source '{s.name}' is listed "
                                                                           f"twice")

    def _labeling_errors(self) -> Iterator[FieldError]:
        p = self.labeling_project
        if self.labeling_required and p is None:
            yield err("labeling_project", "required_if", None,
                      "labeling is required: describe the labeling project (media, task, classes, people)")
        if p is not None and p.task not in LABELING_TASKS[p.media]:
            yield err("labeling_project.task", "labeling_task_for_media", p.task,
                      f"{p.media} labeling supports: {', '.join(LABELING_TASKS[p.media])}")

    def _split_errors(self) -> Iterator[FieldError]:
        s = self.data_splits
        total = s.train_pct + s.validation_pct + s.test_pct
        if total != 100:
            yield err("data_splits", "sum_to_100", total,
                      f"train + validation + test must add up to 100 (they add up to {total})")
        if s.strategy == "time_based" and not s.time_column:
            yield err("data_splits.time_column", "required_if", None,
                      "a time_based split needs the timestamp column that orders the rows")
        if s.strategy == "stratified" and not s.stratify_column:
            yield err("data_splits.stratify_column", "required_if", None,
                      "a stratified split needs the column whose class proportions to keep")

    def _quality_errors(self) -> Iterator[FieldError]:
        assets = {a.name for a in self.data_assets}
        for i, q in enumerate(self.data_quality_rules):
            if q.rule == "range":
                if q.min is None and q.max is None:
                    yield err(f"data_quality_rules.{i}.min", "rule_parameter_required", None,
                              "a range rule needs a minimum, a maximum or both")
                elif q.min is not None and q.max is not None and q.min > q.max:
                    yield err(f"data_quality_rules.{i}.max", "range_bounds", q.max,
                              f"maximum must be at least the minimum ({q.min})")
            if q.rule == "allowed_values" and not q.allowed:
                yield err(f"data_quality_rules.{i}.allowed", "rule_parameter_required", [],
                          "an allowed_values rule needs the list of allowed values")
            if q.rule == "type" and q.expected_type is None:
                yield err(f"data_quality_rules.{i}.expected_type", "rule_parameter_required", None,
                          "a type rule needs the expected data type")
            if q.rule == "freshness" and q.max_age_days is None:
                yield err(f"data_quality_rules.{i}.max_age_days", "rule_parameter_required", None,
                          "a freshness rule needs the maximum age in days")
            if q.rule == "row_count" and q.min is None and q.max is None:
                yield err(f"data_quality_rules.{i}.min", "rule_parameter_required", None,
                          "a row_count rule needs a minimum, a maximum or both")
            if q.asset is not None and q.asset not in assets:
                yield err(f"data_quality_rules.{i}.asset", "asset_reference", q.asset,
                          f"data asset '{q.asset}' is not declared under data assets")
