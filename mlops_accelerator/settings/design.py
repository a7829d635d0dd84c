"""Stage 2, Design and Provision Infrastructure: the settings of the solution design.

Sections follow the digest's Stage-2 decision tables: 3a topology and resource names,
3b technology choices, 3c identity and RBAC, 3d network, 3e data protection, 3f cost,
3g Well-Architected review, 3h approval. The ARM template's parameters (digest §4)
keep their meaning here; the Stage-3 generator maps them one to one.

Conventions other modules rely on:
- `environments` are in promotion order; the LAST one is production (`production_env`).
- Resource name fields are stems; each environment's resource is the stem plus the
  environment name (`resource_name`), so dev/test/prod never collide on global names.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, create_model

from .. import naming
from ..errors import FieldError
from ..naming import (
    AppInsightsName,
    ContainerRegistryName,
    KeyVaultName,
    NamingRule,
    ResourceGroupName,
    StorageAccountName,
    SubnetName,
    VnetName,
    WorkspaceName,
)
from ..roles import RoleId
from .base import Cidr, Cron, Email, Guid, NonEmptyStr, Record, SemVer, StageSettings, err, setting
from .shared import GUID_PATTERN, EnvName, VmSize, pattern_type  # noqa: F401  (re-exported)

# ---------------------------------------------------------------------------
# Constants shared with the Stage-3 generator and the checks

# The ARM template's App Insights location map (digest §4.2): the template fails in any
# other region, so it is the list of regions the wizard offers. Value = where the
# template puts App Insights for that workspace region.
ARM_LOCATION_MAP: dict[str, str] = {
    "australiaeast": "australiaeast", "australiasoutheast": "australiasoutheast",
    "brazilsouth": "brazilsouth", "canadacentral": "canadacentral", "canadaeast": "canadaeast",
    "centralindia": "centralindia", "centralus": "westcentralus", "centraluseuap": "southcentralus",
    "chinaeast2": "chinaeast2", "eastasia": "eastasia", "eastus": "eastus", "eastus2": "eastus2",
    "eastus2euap": "southcentralus", "francecentral": "francecentral", "japaneast": "japaneast",
    "japanwest": "japanwest", "koreacentral": "koreacentral", "koreasouth": "koreasouth",
    "northcentralus": "northcentralus", "northeurope": "northeurope",
    "southcentralus": "southcentralus", "southeastasia": "southeastasia", "southindia": "southindia",
    "uksouth": "uksouth", "ukwest": "ukwest", "usgovarizona": "usgovarizona",
    "usgovvirginia": "usgovvirginia", "westcentralus": "southcentralus", "westeurope": "westeurope",
    "westindia": "westindia", "westus": "westus", "westus2": "westus2",
}
ARM_REGIONS: tuple[str, ...] = tuple(ARM_LOCATION_MAP)
Region = Literal[ARM_REGIONS]  # type: ignore[valid-type]

PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

# Built-in Azure roles offered in the RBAC pickers (V2 adds the AzureML-specific ones).
BUILTIN_ROLES: tuple[str, ...] = (
    "Owner", "Contributor", "Reader", "User Access Administrator",
    "AzureML Data Scientist", "AzureML Compute Operator", "AzureML Registry User",
    "AzureML Metrics Writer (preview)", "Storage Blob Data Reader", "Storage Blob Data Contributor",
    "Key Vault Secrets User", "AcrPull", "AcrPush",
)
# Roles that let an automation identity change anything (or grant access): need a reason.
PRIVILEGED_ROLES: tuple[str, ...] = ("Owner", "User Access Administrator", "Contributor")

Scope = Literal["subscription", "resource_group", "workspace"]


# ---------------------------------------------------------------------------
# Small field types (each error names its rule)


def optional_name(rule: NamingRule) -> Any:
    """An Azure name that may be left empty ('' = not used / derived)."""

    def check(value: str) -> str:
        return value if value == "" else rule.check(value)

    return Annotated[str, AfterValidator(check), Field(json_schema_extra={
        "pattern": f"^(?:|{rule.pattern})$", "maxLength": rule.max_len, "x-rule": rule.id})]


_RG_ID = rf"/subscriptions/{GUID_PATTERN}/(?:resourceGroups|resourcegroups)/[A-Za-z0-9_.()-]+"


def arm_id_type(provider: str, example: str) -> Any:
    """Optional ARM resource id of one resource type, e.g. Microsoft.KeyVault/vaults."""
    return pattern_type(
        "arm_resource_id", f"must be the ARM resource id of a {provider} resource, like {example}",
        rf"{_RG_ID}/providers/{re.escape(provider)}/[A-Za-z0-9_.-]+", optional=True)


KeyVaultId = arm_id_type(
    "Microsoft.KeyVault/vaults",
    "/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>")
KeyUri = pattern_type(
    "key_uri",
    "must be a Key Vault key identifier like https://<vault>.vault.azure.net/keys/<key>[/<version>]",
    r"https://([A-Za-z0-9-]{3,24})\.(?:vault\.azure\.net|vault\.usgovcloudapi\.net|vault\.azure\.cn"
    r"|managedhsm\.azure\.net)/keys/[A-Za-z0-9-]{1,127}(?:/[0-9a-fA-F]{32})?/?",
    optional=True)
# User-assigned managed identity names: 3-128 letters, digits, '-' and '_', starting alnum.
UamiName = pattern_type(
    "managed_identity_name",
    "must be 3-128 letters, digits, '-' and '_', starting with a letter or digit",
    r"[A-Za-z0-9][A-Za-z0-9_-]{2,127}", optional=True)
Currency = pattern_type("currency", "must be a 3-letter ISO currency code like EUR or USD", r"[A-Z]{3}")
RoleAction = pattern_type(
    "role_action",
    "must be an Azure operation like Microsoft.MachineLearningServices/workspaces/*/read",
    r"[A-Za-z0-9.*]+(?:/[A-Za-z0-9.*_-]+)*")

NamingPattern = pattern_type(
    "naming_convention",
    "may use lowercase letters, digits, '-' and the tokens {abbrev}, {project}, {env}, {region} and {nn}",
    r"(?:[a-z0-9-]|\{(?:abbrev|project|env|region|nn)\})+")
TagKey = pattern_type("tag_key", "must be 1-512 characters without < > % & \\ ? /", r"[^<>%&\\?/]{1,512}")

LOG_ANALYTICS = NamingRule(
    "azure_log_analytics_name", "Log Analytics workspace", 4, 63, r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?",
    "letters, digits and '-', starting and ending with a letter or digit")


# ---------------------------------------------------------------------------
# Records


class Environment(Record):
    """One deployment environment (one workspace and its dependencies)."""

    name: EnvName = Field(title="Name", description="Short name, e.g. dev, test, prod.")
    subscription_id: Guid = Field(title="Subscription id")
    resource_group: ResourceGroupName = Field(title="Resource group")
    region: Region = Field("westeurope", title="Region")
    prod_data_access: bool = Field(False, title="Uses production data")
    approval_required: bool = Field(False, title="Changes need approval",
                                    description="Deployments into this environment wait for an approver.")
    approvers: list[Email] = Field(default_factory=list, title="Approvers (e-mail or UPN)")


class Tag(Record):
    key: TagKey = Field(title="Key")  # type: ignore[valid-type]
    value: Annotated[str, Field(max_length=256)] = Field("", title="Value",
                                                          description="May use {project} and {env}.")


class EdgeAssessment(Record):
    """Edge technology selection (only when inference runs on the edge)."""

    reasons: list[Literal["custom_model_vs_e2e_solution", "low_latency", "data_residency",
                          "offline_operation", "limited_connectivity"]] = Field(
        default_factory=list, title="Why the edge")
    target_compute: Literal["vm", "kubernetes"] | None = Field(
        None, title="Target compute",
        description="vm: IoT Edge / Arc for servers; kubernetes: Arc-enabled K8s.")
    ha_dr_criteria: str = Field("", title="HA/DR criteria and SLA")
    azure_parity: str = Field("", title="Azure services needed on the edge (identity, storage, PaaS)")
    hardware: Literal["cpu", "gpu", "fpga"] | None = Field(None, title="Hardware")
    platform: Literal["custom", "stack_edge", "stack_hub", "azure_stack_hci"] | None = Field(
        None, title="Platform")
    frameworks: list[Literal["onnx", "triton", "other"]] = Field(default_factory=list, title="Runtimes")


class ServicePrincipal(Record):
    """An automation identity (service principal or managed identity) per environment."""

    name: NonEmptyStr = Field(title="Name")
    purpose: str = Field("", title="Purpose")
    env: EnvName = Field(title="Environment")
    role: NonEmptyStr = Field(title="Azure role", description="Built-in role or a custom role below.")
    scope: Scope = Field("workspace", title="Scope")
    justification: str = Field("", title="Why this role",
                               description="Required for Owner, Contributor or User Access Administrator.")


class RoleMapping(Record):
    """A project role's Azure role in one environment."""

    role: RoleId = Field(title="Project role")
    env: EnvName = Field(title="Environment")
    azure_role: NonEmptyStr = Field(title="Azure role", description="Built-in role or a custom role below.")
    scope: Scope = Field("workspace", title="Scope")
    principal: str = Field("", title="Entra ID group",
                           description="Empty: the group generated for this role and environment.")


class CustomRole(Record):
    """An Azure custom role definition (rbac/custom-roles/<name>.json)."""

    name: NonEmptyStr = Field(title="Name", description="Must be unique in the tenant.")
    description: str = Field("", title="Description")
    actions: list[RoleAction] = Field(default_factory=list, title="Actions")
    not_actions: list[RoleAction] = Field(default_factory=list, title="NotActions")
    data_actions: list[RoleAction] = Field(default_factory=list, title="DataActions")
    not_data_actions: list[RoleAction] = Field(default_factory=list, title="NotDataActions")
    assignable_scope: Literal["subscription", "resource_group"] = Field(
        "resource_group", title="Assignable scope",
        description="Expanded per environment to /subscriptions/<id>[/resourceGroups/<rg>].")


Threshold = Annotated[float, Field(gt=0, le=1000)]
PositiveDays = Annotated[int, Field(ge=1)]


class Budget(Record):
    """A Cost Management budget with spend alerts (Microsoft.Consumption/budgets)."""

    env: EnvName = Field(title="Environment")
    amount: float = Field(gt=0, title="Amount")
    currency: Currency = Field("EUR", title="Currency", description="Your billing currency.")
    time_grain: Literal["Monthly", "Quarterly", "Annually"] = Field("Monthly", title="Period")
    alert_thresholds: list[Threshold] = Field(
        default_factory=lambda: [50.0, 80.0, 100.0], title="Alerts on actual spend (% of amount)")
    forecast_thresholds: list[Threshold] = Field(
        default_factory=lambda: [100.0], title="Alerts on forecast spend (% of amount)")
    recipients: list[Email] = Field(default_factory=list, title="Alert e-mails")
    contact_roles: list[Literal["Owner", "Contributor", "Reader"]] = Field(
        default_factory=lambda: ["Owner"], title="Alert roles",
        description="Everyone holding these roles on the scope gets the alerts.")


class QuotaCap(Record):
    vm_family: NonEmptyStr = Field(title="VM family", description="e.g. standardDSv2Family")
    max_cores: int = Field(gt=0, title="Max cores")


class DesignApproval(Record):
    """One approver's decision on one version of the design."""

    name: NonEmptyStr = Field(title="Approver")
    role: RoleId = Field(title="Role")
    decision: Literal["approved", "rejected", "changes_requested"] = Field(title="Decision")
    date: dt.date = Field(title="Date")
    design_version: SemVer = Field(title="Design version approved")
    comment: str = Field("", title="Comment")


# Well-Architected review: pillar -> item id -> the question (digest 3g).
WAF_ITEMS: dict[str, dict[str, str]] = {
    "reliability": {
        "bcdr_strategy": "A business continuity and disaster recovery strategy covers workspace and data",
        "autoscale": "Training clusters and endpoints autoscale",
        "resiliency_tests": "Unit, simulation, fault-injection and load tests run",
        "actionable_alerts": "Alerts are actionable and prioritised",
        "dashboards": "Dashboards show health (App Insights, Log Analytics, Azure Monitor, Service Health)",
        "traceability": "Experiment tracking and a model registry make every model traceable",
    },
    "security": {
        "secrets_in_key_vault": "Secrets live in Key Vault",
        "security_benchmark": "The Azure Security Benchmark is applied",
        "penetration_tests": "Penetration tests are planned",
        "sensitive_data": "Sensitive data is classified, protected and monitored",
        "network_restricted": "Access is restricted to the VNet (Firewall, NSG, Private Link)",
    },
    "cost": {
        "budgets_and_allocation": "Cost Management budgets and cost allocation are set",
        "azure_advisor": "Azure Advisor recommendations are reviewed",
        "hybrid_benefit_reservations": "Hybrid Benefit and reservations are considered",
        "cost_policies": "Azure Policy limits costly resources",
    },
    "operational_excellence": {
        "mlops_practices": "MLOps practices are followed",
        "cross_functional_team": "The team is cross-functional",
        "everything_as_code": "Infrastructure, pipelines and jobs are code",
        "monitor_system_and_model": "Azure Monitor covers system and model (latency, data/concept drift)",
        "cicd_dev_and_prod": "CI/CD runs in dev and prod",
        "continuous_training": "Models retrain on drift or on a schedule",
        "reusable_templates": "Deployment templates are reusable",
    },
    "performance": {
        "perf_test_every_change": "Performance is tested on every change",
        "slos": "SLOs exist for latency, request count and exception rate",
        "monitor_requests": "Requests, responses, failures, exceptions and load are monitored",
        "central_telemetry": "Telemetry is collected centrally",
        "clusters_for_long_training": "Long training runs on clusters",
        "gpu_for_deep_learning": "Large deep-learning models train on GPUs",
        "profile_and_autoscale": "Deployments are profiled and autoscale",
    },
}
WafAnswer = Literal["yes", "no", "na"]


def _waf_record(pillar: str) -> type[Record]:
    fields: dict[str, Any] = {item: (WafAnswer | None, Field(None, title=question))
                              for item, question in WAF_ITEMS[pillar].items()}
    name = "Waf" + "".join(p.title() for p in pillar.split("_")) + "Review"
    return create_model(name, __base__=Record, __doc__=f"Well-Architected {pillar} items.", **fields)


WafReliabilityReview = _waf_record("reliability")
WafSecurityReview = _waf_record("security")
WafCostReview = _waf_record("cost")
WafOperationalExcellenceReview = _waf_record("operational_excellence")
WafPerformanceReview = _waf_record("performance")


# ---------------------------------------------------------------------------
# Defaults (a starter design a team adapts; the sample project fills the rest)

_WS = "Microsoft.MachineLearningServices/workspaces"
_STARTER_ENVS = ("dev", "test", "prod")


def _default_environments() -> list[Environment]:
    return [Environment(name=n, subscription_id=PLACEHOLDER_SUBSCRIPTION, resource_group=f"rg-mlops-{n}",
                        region="westeurope", prod_data_access=(n == "prod")) for n in _STARTER_ENVS]


def _default_service_principals() -> list[ServicePrincipal]:
    out = []
    for env in _STARTER_ENVS:
        out.append(ServicePrincipal(
            name=f"id-mlops-{env}-infra", env=env, role="Contributor", scope="resource_group",
            purpose="Deploys the environment's Azure resources from the IaC pipeline",
            justification="Creating the workspace and its dependencies needs write access to the "
                          "resource group"))
        out.append(ServicePrincipal(
            name=f"id-mlops-{env}-aml", env=env, role="MLOps Custom", scope="workspace",
            purpose="Submits Azure ML jobs and deployments from CI/CD"))
    return out


# Starter RBAC matrix: people work freely in dev, read in test/prod; automation deploys.
_STARTER_RBAC: dict[str, dict[str, tuple[str, str]]] = {
    "dev": {"data_scientist": ("AzureML Data Scientist", "workspace"),
            "data_engineer": ("AzureML Data Scientist", "workspace"),
            "mlops_engineer": ("AzureML Data Scientist", "workspace"),
            "devops_engineer": ("Contributor", "resource_group"),
            "azure_infra_engineer": ("Contributor", "resource_group"),
            "solution_architect": ("Reader", "resource_group"),
            "team_lead": ("Reader", "workspace")},
    "test": {"data_scientist": ("Reader", "workspace"),
             "data_engineer": ("Reader", "workspace"),
             "mlops_engineer": ("AzureML Data Scientist", "workspace"),
             "devops_engineer": ("Reader", "resource_group"),
             "azure_infra_engineer": ("Contributor", "resource_group"),
             "solution_architect": ("Reader", "resource_group"),
             "team_lead": ("Reader", "workspace")},
    "prod": {"data_scientist": ("Reader", "workspace"),
             "data_engineer": ("Reader", "workspace"),
             "mlops_engineer": ("Reader", "workspace"),
             "devops_engineer": ("Reader", "resource_group"),
             "azure_infra_engineer": ("Contributor", "resource_group"),
             "solution_architect": ("Reader", "resource_group"),
             "team_lead": ("Reader", "workspace")},
}


def _default_role_mappings() -> list[RoleMapping]:
    return [RoleMapping(role=role, env=env, azure_role=azure_role, scope=scope)
            for env, roles in _STARTER_RBAC.items() for role, (azure_role, scope) in roles.items()]


def _ws(*ops: str) -> list[str]:
    return [f"{_WS}/{op}" if op else _WS for op in ops]


_SAFETY_NOT_ACTIONS = [*_ws("delete", "write", "computes/*/write", "computes/*/delete",
                            "computes/listKeys/action", "listKeys/action"), "Microsoft.Authorization/*"]


def _default_custom_roles() -> list[CustomRole]:
    return [
        CustomRole(
            name="MLOps Custom", description="For an automation identity that runs jobs and pipelines",
            actions=_ws("read", "endpoints/pipelines/read", "metadata/artifacts/read",
                        "metadata/snapshots/read", "environments/read", "metadata/secrets/read",
                        "modules/read", "experiments/runs/read", "datasets/registered/read",
                        "datastores/read", "environments/write", "experiments/runs/write",
                        "metadata/artifacts/write", "metadata/snapshots/write", "environments/build/action",
                        "experiments/runs/submit/action"),
            not_actions=list(_SAFETY_NOT_ACTIONS)),
        CustomRole(
            name="Data Scientist Custom",
            description="Everything in the workspace except creating compute and production deployments",
            actions=_ws("*/read", "*/action", "*/delete", "*/write"),
            not_actions=[*_SAFETY_NOT_ACTIONS,
                         *_ws("services/aks/write", "services/aks/delete", "endpoints/pipelines/write")]),
        CustomRole(
            name="Labeler Custom", description="Label data only",
            actions=_ws("read", "labeling/projects/read", "labeling/labels/write"),
            not_actions=_ws("labeling/projects/summary/read")),
    ]


def _default_budgets() -> list[Budget]:
    amounts = {"dev": 1000.0, "test": 500.0, "prod": 2000.0}
    return [Budget(env=env, amount=amount) for env, amount in amounts.items()]


def _default_tags() -> list[Tag]:
    return [Tag(key="project", value="{project}"), Tag(key="environment", value="{env}"),
            Tag(key="costCenter", value=""), Tag(key="owner", value="")]


# ---------------------------------------------------------------------------
# The settings


class Settings(StageSettings):
    """Stage 2: the solution design the team approves before anything is deployed."""

    stage: ClassVar[str] = "design"

    # --- S2.T3 Workspace, environment and region topology (3a) -----------------------
    workspace_pattern: Literal["per_team", "per_project", "single_shared", "combination"] = setting(
        "per_project", title="Workspace pattern", task="S2.T3",
        help="How workspaces are cut: per project segregates data and cost per project; per team eases "
             "reuse; one shared workspace suits R&D. It sets the number of workspaces and the RBAC scope.")
    exploration_workspace: bool = setting(
        True, title="Central exploration workspace", task="S2.T3",
        help="A shared workspace where people explore data before a use case is funded.")
    environment_topology: Literal["single", "two_limited_vs_prod_data", "multi"] = setting(
        "multi", title="Environment topology", task="S2.T3",
        help="single: one workspace (research only); two: one with limited data, one with production data; "
             "multi: one workspace per environment with staged rollout (more process, safer releases).")
    environments: list[Environment] = setting(
        default_factory=_default_environments, title="Environments (in promotion order)", task="S2.T3",
        scope="environment", provenance="SRC-MS",
        help="Each environment gets its own workspace in its subscription and resource group. List them in "
             "promotion order: the last one is production.")
    region_strategy: Literal["single_region", "regional_training", "regional_serving",
                             "regional_fine_tuning"] = setting(
        "single_region", title="Region strategy", task="S2.T3",
        help="Whether everything runs in one region or workspaces follow data or users; more regions "
             "mean more workspaces, data movement and quota to manage.")
    primary_region: Region = setting(
        "westeurope", title="Primary region", task="S2.T3",
        help="Region of the workspaces. Limited to the 32 regions the ARM template supports; East US, "
             "West US and West Europe have larger default quotas.")
    allowed_regions: list[Region] = setting(
        default_factory=list, title="Regions allowed by your organisation", task="S2.T3",
        provenance="DERIVED",
        help="If your organisation restricts regions (data residency), list them; empty means no "
             "restriction.")
    resource_group_strategy: Literal["per_solution_per_env", "per_team", "shared"] = setting(
        "per_solution_per_env", title="Resource group strategy", task="S2.T3",
        help="One resource group per solution and environment keeps cost reporting and RBAC scopes clean.")
    naming_convention: NamingPattern = setting(  # type: ignore[valid-type]
        "{abbrev}-{project}-{env}", title="Naming convention", task="S2.T3",
        help="Pattern for names of further resources, from the tokens {abbrev}, {project}, {env}, {region} "
             "and {nn}; hyphens are dropped for storage accounts and registries.")
    tags: list[Tag] = setting(
        default_factory=_default_tags, title="Tags", task="S2.T3",
        help="Tags on every resource (ARM tagValues); they drive cost allocation. Values may use "
             "{project} and {env}.")
    aad_groups_per_role_env: bool = setting(
        True, title="One Entra ID group per role and environment", task="S2.T3",
        help="Grant access to groups, not people, so joiners and leavers need no role assignment changes.")
    # Resource names: stems; each environment appends its name (see resource_name()).
    workspace_name: WorkspaceName = setting(
        "mlw-mlops", title="Workspace name", task="S2.T3",
        help="Stem of the Azure ML workspace name; each environment appends '-<env>' (mlw-mlops-dev).")
    storage_account_name: StorageAccountName = setting(
        "stmlops", title="Storage account name", task="S2.T3",
        help="Stem of the storage account name (lowercase letters and digits); each environment appends "
             "its name. Must be unique across Azure.")
    storage_account_type: Literal["Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS",
                                  "Standard_GZRS", "Standard_RAGZRS"] = setting(
        "Standard_LRS", title="Storage redundancy", task="S2.T3",
        help="Replication of the workspace's default storage; zone or geo redundancy costs more but "
             "survives a zone or region outage.")
    key_vault_name: KeyVaultName = setting(
        "kv-mlops", title="Key Vault name", task="S2.T3",
        help="Stem of the Key Vault name; each environment appends '-<env>'. Must be unique across Azure.")
    container_registry_option: Literal["new", "existing", "none"] = setting(
        "new", title="Container registry", task="S2.T3",
        help="'none' lets Azure ML create a registry when it first builds an image; 'new' creates it now so "
             "its SKU and network rules are under your control.")
    container_registry_name: ContainerRegistryName = setting(
        "crmlops", title="Container registry name", task="S2.T3",
        help="Stem of the registry name (letters and digits); each environment appends its name.")
    app_insights_name: AppInsightsName = setting(
        "appi-mlops", title="Application Insights name", task="S2.T3",
        help="Stem of the Application Insights name; each environment appends '-<env>'.")
    log_analytics_name: optional_name(LOG_ANALYTICS) = setting(  # type: ignore[valid-type]
        "log-mlops", title="Log Analytics workspace name", task="S2.T3", provenance="V2",
        help="Stem of the Log Analytics workspace that backs Application Insights (classic Application "
             "Insights is retired).")

    # --- S2.T2 Technology choices (3b) ---------------------------------------------
    implementation_approach: Literal["no_code", "code", "mixed"] = setting(
        "code", title="Implementation approach", task="S2.T2",
        help="Code-first means everything is exported as YAML/JSON and deployed by pipelines; no-code uses "
             "Designer, Logic Apps and ADF data flows and is limited by those services.")
    experimentation_env: list[Literal["aml_compute_instance", "databricks_notebooks", "aml_sdk_scripts",
                                      "dsvm", "local"]] = setting(
        default_factory=lambda: ["aml_compute_instance", "local"], title="Where people experiment",
        task="S2.T2",
        help="Sets up developer tooling in Stage 3: compute instances are managed Jupyter VMs; local "
             "needs no cloud compute.")
    orchestrator: list[Literal["azure_devops", "github_actions", "aml_pipelines", "azure_data_factory",
                               "logic_apps"]] = setting(
        default_factory=lambda: ["azure_devops", "aml_pipelines"], title="Orchestrators", task="S2.T2",
        help="By trigger: code change -> Azure DevOps or GitHub Actions; schedule -> Azure ML pipelines; "
             "data arrival -> Data Factory; events from outside Azure -> Logic Apps.")
    data_transfer: Literal["adf_copy_activity", "aml_data_import"] = setting(
        "adf_copy_activity", title="Data transfer", task="S2.T2",
        help="Data Factory copy moves GB-TB from many sources; Azure ML data import suits smaller pulls.")
    data_compute: Literal["aml_compute", "aml_serverless_spark", "databricks", "synapse_spark"] = setting(
        "aml_compute", title="Data transformation compute", task="S2.T2",
        help="Azure ML compute scales out many jobs; Spark (Databricks, Synapse, serverless) partitions "
             "big data but costs more to run and manage.")
    experiment_tracking: Literal["aml_experiments_mlflow", "databricks_mlflow"] = setting(
        "aml_experiments_mlflow", title="Experiment tracking", task="S2.T2",
        help="Where runs, metrics and artifacts are logged (both speak MLflow).")
    model_registry: Literal["aml_model_registry", "aml_registry", "databricks_mlflow_registry"] = setting(
        "aml_model_registry", title="Model registry", task="S2.T2",
        help="aml_registry shares models across dev, test and prod workspaces; the workspace registry "
             "needs models copied between workspaces.")
    data_versioning: Literal["aml_data_assets", "databricks_delta"] = setting(
        "aml_data_assets", title="Data versioning", task="S2.T2", provenance="V2",
        help="Azure ML data assets are named, immutable versions that training jobs reference.")
    training_platform: Literal["aml_pipelines", "databricks"] = setting(
        "aml_pipelines", title="Training platform", task="S2.T2",
        help="Where training pipelines run in Stage 5.")
    inference_mode: Literal["batch", "realtime", "both", "edge"] = setting(
        "realtime", title="Inference mode", task="S2.T2",
        help="How predictions are served; edge also needs the edge assessment below.")
    realtime_target: Literal["managed_online_endpoint", "kubernetes_online_endpoint", "app_service",
                             "azure_functions", "iot_edge"] = setting(
        "managed_online_endpoint", title="Real-time target", task="S2.T2", provenance="V2",
        help="Managed online endpoints replace ACI; Kubernetes endpoints (AKS or Arc) replace AKS web "
             "services. Drives cost, high availability and networking.")
    monitoring_tools: list[Literal["azure_monitor_app_insights", "azure_dashboards", "power_bi"]] = setting(
        default_factory=lambda: ["azure_monitor_app_insights", "azure_dashboards"],
        title="Monitoring tools", task="S2.T2", help="Where Stage 6 sends metrics, dashboards and alerts.")
    edge_assessment: EdgeAssessment = setting(
        default_factory=EdgeAssessment, title="Edge assessment", task="S2.T2",
        help="Only when inference runs on the edge: why, on what hardware and platform, and what "
             "availability it needs.")

    # --- S2.T4 Identity, authentication and access control (3c) ---------------------
    workspace_identity_type: Literal[
        "systemAssigned", "userAssigned", "systemAssigned,userAssigned"] = setting(
        "systemAssigned", title="Workspace identity", task="S2.T4",
        help="A user-assigned identity is needed e.g. to pull base images from your own registry or to "
             "keep permissions when the workspace is recreated.")
    primary_uami_name: UamiName = setting(  # type: ignore[valid-type]
        "", title="User-assigned identity name", task="S2.T4",
        help="Name of the workspace's user-assigned managed identity; required when the identity type "
             "includes userAssigned.")
    primary_uami_resource_group: optional_name(naming.RESOURCE_GROUP) = setting(  # type: ignore[valid-type]
        "", title="User-assigned identity resource group", task="S2.T4",
        help="Resource group of that identity; empty means the environment's resource group.")
    compute_cluster_identity: Literal["none", "system", "user"] = setting(
        "system", title="Compute cluster identity", task="S2.T4",
        help="A cluster identity lets jobs read data without storing credentials.")
    automation_auth: Literal["oidc_federated_credential", "service_principal", "managed_identity",
                             "azure_cli_session", "interactive"] = setting(
        "oidc_federated_credential", title="Automation authentication", task="S2.T4", provenance="V2",
        help="How pipelines sign in to Azure. Federated credentials (OIDC) need no secret; a service "
             "principal secret can leak from scripts.")
    service_principals: list[ServicePrincipal] = setting(
        default_factory=_default_service_principals, title="Automation identities", task="S2.T4",
        help="The identities pipelines use, per environment, with the least role that works. Owner or "
             "Contributor needs a written reason: a leaked identity can do what its role allows.")
    role_mappings: list[RoleMapping] = setting(
        default_factory=_default_role_mappings, title="Project roles to Azure roles", task="S2.T4",
        scope="environment",
        help="Which Azure role each project role gets in each environment. Every role on the team needs "
             "one per environment it works in.")
    custom_roles: list[CustomRole] = setting(
        default_factory=_default_custom_roles, title="Custom roles", task="S2.T4",
        help="Fine-grained roles when built-in ones grant too much. Never use '*' as an action; creating "
             "them needs Owner (roleDefinitions/write) at the assignable scope.")
    conditional_access: bool = setting(
        False, title="Conditional Access", task="S2.T4",
        help="Require e.g. MFA or managed devices for the Azure Machine Learning cloud app.")
    ssh_on_compute: bool = setting(
        False, title="SSH on compute", task="S2.T4",
        help="SSH uses keys outside Entra ID and RBAC: a security exception to document.")
    endpoint_auth_mode: Literal["key", "aml_token", "aad_token"] = setting(
        "aml_token", title="Endpoint authentication", task="S2.T4", provenance="V2",
        help="Keys are static secrets; tokens expire and are issued to signed-in identities.")

    # --- S2.T5 Network isolation (3d) -----------------------------------------------
    private_endpoint_type: Literal["AutoApproval", "ManualApproval", "none"] = setting(
        "AutoApproval", title="Workspace private endpoint", task="S2.T5",
        help="A private endpoint keeps workspace traffic on your network; 'none' is acceptable only for a "
             "sandbox.")
    public_network_access: Literal["Enabled", "Disabled"] = setting(
        "Disabled", title="Public network access", task="S2.T5", provenance="V2",
        help="Disabled means the workspace is reachable only through its private endpoint.")
    managed_vnet_isolation: Literal["disabled", "allow_internet_outbound", "allow_only_approved_outbound"] = (
        setting("disabled", title="Managed VNet isolation", task="S2.T5", provenance="V2",
                help="A Microsoft-managed network for compute, an alternative to running compute in "
                     "your VNet."))
    vnet_option: Literal["new", "existing", "none"] = setting(
        "new", title="Virtual network", task="S2.T5",
        help="Create a VNet, use an existing one, or none. Needed by the private endpoint and by any "
             "resource behind the VNet.")
    vnet_name: VnetName = setting(
        "vnet-mlops", title="VNet name", task="S2.T5",
        help="Stem of the VNet name; each environment appends '-<env>'. For an existing VNet give its name.")
    vnet_resource_group: optional_name(naming.RESOURCE_GROUP) = setting(  # type: ignore[valid-type]
        "", title="VNet resource group", task="S2.T5",
        help="Where the VNet, private endpoint and DNS zones go; empty means the environment's "
             "resource group.")
    address_prefixes: list[Cidr] = setting(
        default_factory=lambda: ["10.0.0.0/16"], title="VNet address space", task="S2.T5", min_length=1,
        help="CIDR ranges of the VNet; they must not overlap networks you peer with or reach over VPN.")
    subnet_option: Literal["new", "existing", "none"] = setting(
        "new", title="Subnet", task="S2.T5",
        help="The subnet for the private endpoint and compute. An existing subnet needs the Storage, "
             "KeyVault and ContainerRegistry service endpoints.")
    subnet_name: SubnetName = setting(
        "snet-ml", title="Subnet name", task="S2.T5", help="Name of the subnet inside the VNet.")
    subnet_prefix: Cidr = setting(
        "10.0.0.0/24", title="Subnet prefix", task="S2.T5",
        help="CIDR of the subnet; it must lie inside the VNet address space.")
    storage_behind_vnet: bool = setting(
        True, title="Storage behind the VNet", task="S2.T5",
        help="Storage denies traffic except from the subnet.")
    keyvault_behind_vnet: bool = setting(
        True, title="Key Vault behind the VNet", task="S2.T5",
        help="Key Vault denies traffic except from the subnet.")
    acr_behind_vnet: bool = setting(
        False, title="Container registry behind the VNet", task="S2.T5",
        help="Needs a new Premium registry; images are then built on compute inside the VNet.")
    client_access_path: Literal["vpn_gateway", "expressroute", "bastion_jumphost",
                                "public_with_ip_allowlist"] = setting(
        "bastion_jumphost", title="How people reach a private workspace", task="S2.T5",
        help="With a private workspace, studio and notebooks work only from inside the network: a VPN, "
             "ExpressRoute, or a jump host behind Bastion (good for a proof of concept).")
    custom_dns: bool = setting(
        False, title="Custom DNS", task="S2.T5",
        help="With your own DNS servers, add conditional forwarders for privatelink.api.azureml.ms and "
             "privatelink.notebooks.azure.net or private endpoints will not resolve.")
    egress_firewall: bool = setting(
        False, title="Egress firewall", task="S2.T5",
        help="If outbound traffic goes through a firewall, Azure ML's required hosts and service tags "
             "must be allowed.")
    studio_in_vnet: bool = setting(
        True, title="Studio data access inside the VNet", task="S2.T5",
        help="Lets studio show data that sits behind the VNet.")
    compute_no_public_ip: bool = setting(
        True, title="Compute without public IP", task="S2.T5", provenance="V2",
        help="Compute gets no public IP address; needs a VNet or managed VNet isolation.")

    # --- S2.T6 Data protection and governance (3e) -----------------------------------
    confidential_data: bool = setting(
        False, title="High business impact data", task="S2.T6",
        help="Marks the workspace as HBI: less diagnostic data is sent to Microsoft and scratch disks are "
             "encrypted.")
    encryption_status: Literal["Enabled", "Disabled"] = setting(
        "Disabled", title="Customer-managed key encryption", task="S2.T6",
        help="Encrypt workspace data with your own key (compliance). Needs the key vault and key below; "
             "cannot be changed after the workspace is created.")
    cmk_keyvault: KeyVaultId = setting(  # type: ignore[valid-type]
        "", title="CMK Key Vault resource id", task="S2.T6",
        help="ARM resource id of the Key Vault holding the key; required when encryption is enabled.")
    resource_cmk_uri: KeyUri = setting(  # type: ignore[valid-type]
        "", title="CMK key identifier", task="S2.T6",
        help="The key's URI, https://<vault>.vault.azure.net/keys/<key>[/<version>]; required when "
             "encryption is enabled.")
    cmk_uami_name: UamiName = setting(  # type: ignore[valid-type]
        "", title="Identity for the key (optional)", task="S2.T6",
        help="User-assigned identity the workspace uses to reach the key; empty uses the workspace identity.")
    encryption_cosmosdb_armid: arm_id_type(  # type: ignore[valid-type]
        "Microsoft.DocumentDB/databaseAccounts", "/subscriptions/<guid>/resourceGroups/<rg>/providers/"
        "Microsoft.DocumentDB/databaseAccounts/<name>") = setting(
        "", title="Your Cosmos DB for CMK (optional)", task="S2.T6",
        help="Bring your own Cosmos DB account for a CMK workspace instead of a Microsoft-managed one.")
    encryption_storage_armid: arm_id_type(  # type: ignore[valid-type]
        "Microsoft.Storage/storageAccounts", "/subscriptions/<guid>/resourceGroups/<rg>/providers/"
        "Microsoft.Storage/storageAccounts/<name>") = setting(
        "", title="Your storage account for CMK (optional)", task="S2.T6",
        help="Bring your own storage account for a CMK workspace.")
    encryption_search_armid: arm_id_type(  # type: ignore[valid-type]
        "Microsoft.Search/searchServices", "/subscriptions/<guid>/resourceGroups/<rg>/providers/"
        "Microsoft.Search/searchServices/<name>") = setting(
        "", title="Your search service for CMK (optional)", task="S2.T6",
        help="Bring your own Azure AI Search service for a CMK workspace.")
    tls_on_endpoints: bool = setting(
        True, title="TLS on endpoints", task="S2.T6", help="Encrypts scoring traffic in transit.")
    defender_scanning: list[Literal["acr", "aks"]] = setting(
        default_factory=lambda: ["acr", "aks"], title="Defender vulnerability scanning", task="S2.T6",
        help="Microsoft Defender for Cloud scans registry images and Kubernetes clusters.")
    azure_policy_assignments: list[Literal[
        "require_private_endpoint", "allowed_vm_skus", "enforce_low_priority_vms", "require_cmk",
        "disable_public_network_access", "compute_in_vnet", "disable_local_auth_on_compute",
        "compute_instance_idle_shutdown"]] = setting(
        default_factory=lambda: ["require_private_endpoint", "allowed_vm_skus"], title="Azure Policy",
        task="S2.T6", help="Guardrails Azure enforces and Stage 6 audits.")
    production_data_policy: Literal["prod_data_in_dev_allowed", "masked_replica_in_dev",
                                    "prod_only_with_rbac_read", "jit_access"] = setting(
        "masked_replica_in_dev", title="Production data outside production", task="S2.T6",
        help="Whether non-production environments may touch production data: a masked replica keeps "
             "development realistic without exposing personal data.")

    # --- S2.T7 Infrastructure cost control (3f) ---------------------------------------
    budgets: list[Budget] = setting(
        default_factory=_default_budgets, title="Budgets and spend alerts", task="S2.T7",
        scope="environment", provenance="V2",
        help="A budget per environment with alerts on actual and forecast spend; Azure allows at most 5 "
             "alerts per budget.")
    allowed_vm_skus: list[VmSize] = setting(  # type: ignore[valid-type]
        default_factory=lambda: ["Standard_DS3_v2", "Standard_NC4as_T4_v3"], title="Allowed VM sizes",
        task="S2.T7",
        help="The VM sizes the allowed-SKU policy permits; keeps expensive sizes out by default.")
    training_sku_guidance: Literal["general_purpose", "memory_optimised", "compute_optimised", "hpc",
                                   "gpu"] = setting(
        "general_purpose", title="Training VM family", task="S2.T7",
        help="Memory optimised for large datasets, GPU for deep learning; general purpose otherwise.")
    inference_sku_guidance: Literal["cpu_general_purpose", "cpu_compute_optimised", "gpu"] = setting(
        "cpu_compute_optimised", title="Inference VM family", task="S2.T7",
        help="Classic ML under ~10 requests/s runs well on CPU (F-series); large deep-learning models "
             "need GPU.")
    cluster_min_nodes: int = setting(
        0, title="Cluster minimum nodes", task="S2.T7", ge=0,
        help="Zero means an idle cluster costs nothing (at the price of a few minutes' start-up).")
    cluster_max_nodes: int = setting(
        4, title="Cluster maximum nodes", task="S2.T7", ge=1,
        help="Caps spend: roughly budget / (node price per hour x hours of training).")
    cluster_idle_seconds_before_scaledown: int = setting(
        600, title="Idle seconds before scale-down", task="S2.T7", ge=0,
        help="How long idle nodes wait for the next job before they are released; tune from utilisation.")
    vm_priority_strategy: Literal["dedicated", "low_priority", "both"] = setting(
        "both", title="VM priority", task="S2.T7",
        help="Low-priority VMs are much cheaper but can be pre-empted: good for experiments, not for "
             "production jobs.")
    compute_instance_idle_shutdown_minutes: Annotated[int, Field(ge=15, le=4320)] | None = setting(
        60, title="Compute instance idle shutdown (minutes)", task="S2.T7", provenance="V2",
        help="Stops idle compute instances; a stopped instance still pays for its disk. Empty disables it.")
    compute_instance_stop_schedule: Cron | None = setting(
        "0 19 * * 1-5", title="Compute instance stop schedule (cron)", task="S2.T7", provenance="V2",
        help="Stops every instance at this time (minute hour day month weekday); empty disables it.")
    compute_instance_one_per_user: bool = setting(
        True, title="One compute instance per user", task="S2.T7",
        help="Personal instances for sample data; full data runs on clusters.")
    workspace_quota: list[QuotaCap] = setting(
        default_factory=list, title="Workspace quota caps", task="S2.T7",
        help="Per-VM-family core caps for this team's workspaces; needs subscription-level rights.")
    reserved_instances: Literal["none", "1_year", "3_year"] = setting(
        "none", title="Reserved instances", task="S2.T7",
        help="Reservations discount compute when usage is steady and predictable.")
    blob_cool_after_days: PositiveDays | None = setting(
        30, title="Move pipeline data to cool tier after (days)", task="S2.T7", provenance="DERIVED",
        help="Intermediate pipeline data is rarely read again; cooler tiers cost less. Empty: never.")
    blob_archive_after_days: PositiveDays | None = setting(
        None, title="Archive pipeline data after (days)", task="S2.T7", provenance="DERIVED",
        help="Must be later than the cool tier move. Empty: never.")
    blob_delete_after_days: PositiveDays | None = setting(
        None, title="Delete pipeline data after (days)", task="S2.T7", provenance="DERIVED",
        help="Must be later than the other moves. Empty: keep it.")
    container_registry_sku: Literal["Basic", "Standard", "Premium"] = setting(
        "Standard", title="Container registry SKU", task="S2.T7",
        help="Basic is too slow and small for Azure ML images; Premium is needed behind a VNet.")
    co_locate_region: bool = setting(
        True, title="Workspace, compute and data in one region", task="S2.T7",
        help="Cross-region traffic costs egress and adds latency.")
    early_termination: bool = setting(
        True, title="Stop non-converging runs early", task="S2.T7",
        help="Early termination policies save budget on sweeps; log metrics per epoch for them to work.")

    # --- S2.T8 Well-Architected review (3g) -------------------------------------------
    waf_reliability: WafReliabilityReview = setting(  # type: ignore[valid-type]
        default_factory=WafReliabilityReview, title="Reliability", task="S2.T8",
        help="Answer yes, no or n/a for each item; a 'no' is a risk to record in the design.")
    waf_security: WafSecurityReview = setting(  # type: ignore[valid-type]
        default_factory=WafSecurityReview, title="Security", task="S2.T8",
        help="Answer yes, no or n/a for each item.")
    waf_cost: WafCostReview = setting(  # type: ignore[valid-type]
        default_factory=WafCostReview, title="Cost optimisation", task="S2.T8",
        help="Answer yes, no or n/a for each item.")
    waf_operational_excellence: WafOperationalExcellenceReview = setting(  # type: ignore[valid-type]
        default_factory=WafOperationalExcellenceReview, title="Operational excellence", task="S2.T8",
        help="Answer yes, no or n/a for each item.")
    waf_performance: WafPerformanceReview = setting(  # type: ignore[valid-type]
        default_factory=WafPerformanceReview, title="Performance efficiency", task="S2.T8",
        help="Answer yes, no or n/a for each item.")

    # --- S2.T9 Design approval (3h) ---------------------------------------------------
    design_version: SemVer = setting(
        "1.0", title="Design version", task="S2.T9",
        help="Raise it when the design changes: approvals count only for the version they approved.")
    design_approver_roles: list[RoleId] = setting(
        default_factory=lambda: ["team_lead", "solution_architect"], title="Roles that must approve",
        task="S2.T9", provenance="DERIVED", min_length=1,
        help="Each of these roles must approve the current version before Stage 3 deploys it.")
    design_approvals: list[DesignApproval] = setting(
        default_factory=list, title="Approvals", task="S2.T9",
        help="Who approved, rejected or asked for changes, on which design version.")

    # -----------------------------------------------------------------------------------
    def env_names(self) -> list[str]:
        return [e.name for e in self.environments]

    def production_env(self) -> Environment | None:
        """The last environment in promotion order."""
        return self.environments[-1] if self.environments else None

    def defined_roles(self) -> set[str]:
        return set(BUILTIN_ROLES) | {r.name for r in self.custom_roles}

    def cross_stage_errors(self, others: dict[str, dict[str, Any]]) -> Iterator[FieldError]:
        """The design needs people on the stage-1 roster to approve it (once a roster exists)."""
        roster = others.get("foundations", {}).get("team_roster") or []
        if not roster:
            return  # no roster yet: stage 1 is still being answered
        held = {role for person in roster for role in person.get("roles", [])}
        missing = [r for r in self.design_approver_roles if r not in held]
        if missing:
            yield err("design_approver_roles", "approver_role_on_roster", missing,
                      f"nobody on the stage-1 team roster holds {', '.join(missing)}, so the design cannot be "
                      "approved: add them to the roster (stage 1) or change the approver roles")

    def cross_field_errors(self) -> Iterator[FieldError]:
        yield from self._topology_errors()
        yield from self._name_errors()
        yield from self._identity_errors()
        yield from self._network_errors()
        yield from self._protection_errors()
        yield from self._cost_errors()
        for i, a in enumerate(self.design_approvals):
            if semver_key(a.design_version) > semver_key(self.design_version):
                yield err(f"design_approvals.{i}.design_version", "approval_version", a.design_version,
                          f"approves version {a.design_version}, but the design is only at "
                          f"{self.design_version}")

    def _topology_errors(self) -> Iterator[FieldError]:
        seen: set[str] = set()
        for i, e in enumerate(self.environments):
            if e.name in seen:
                yield err(f"environments.{i}.name", "environment_name_unique", e.name,
                          f"environment '{e.name}' is listed twice")
            seen.add(e.name)
            if e.approval_required and not e.approvers:
                yield err(f"environments.{i}.approvers", "approval_needs_approver", e.approvers,
                          f"'{e.name}' requires approval: name at least one approver")
            if self.region_strategy == "single_region" and e.region != self.primary_region:
                yield err(f"environments.{i}.region", "single_region", e.region,
                          f"the region strategy is single_region: use the primary region "
                          f"{self.primary_region} (or change the strategy)")
        n = len(self.environments)
        expected = {"single": (1, 1), "two_limited_vs_prod_data": (2, 2), "multi": (2, None)}
        lo, hi = expected[self.environment_topology]
        if n < lo or (hi is not None and n > hi):
            want = f"exactly {lo}" if lo == hi else f"at least {lo}"
            yield err("environments", "environment_count", n,
                      f"topology '{self.environment_topology}' needs {want} environment(s), got {n}")
        if self.resource_group_strategy == "per_solution_per_env":
            groups: dict[tuple[str, str], str] = {}
            for i, e in enumerate(self.environments):
                key = (e.subscription_id.lower(), e.resource_group.lower())
                if key in groups and groups[key] != e.name:
                    yield err(f"environments.{i}.resource_group", "resource_group_per_env", e.resource_group,
                              f"shared with '{groups[key]}', but the strategy is one resource group per "
                              f"environment")
                groups.setdefault(key, e.name)
        if n > 1 and "{env}" not in self.naming_convention:
            yield err("naming_convention", "naming_convention_env_token", self.naming_convention,
                      "must contain {env} so each environment's resources get distinct names")
        keys: set[str] = set()
        for i, t in enumerate(self.tags):
            if t.key.lower() in keys:
                yield err(f"tags.{i}.key", "tag_key_unique", t.key, f"tag '{t.key}' is listed twice")
            keys.add(t.key.lower())

    def _name_errors(self) -> Iterator[FieldError]:
        # Each environment's name is stem + env: check the longest composed names fit the rules.
        for field, (rule, _sep) in RESOURCE_NAME_FIELDS.items():
            stem = getattr(self, field)
            if not stem:
                continue
            for env in self.env_names():
                problem = rule.problem(resource_name(self, field, env))
                if problem:
                    yield err(field, rule.id, stem,
                              f"with environment '{env}' the name '{resource_name(self, field, env)}' "
                              f"{problem}: shorten the stem")
                    break

    def _identity_errors(self) -> Iterator[FieldError]:
        envs, roles = set(self.env_names()), self.defined_roles()
        if "userAssigned" in self.workspace_identity_type and not self.primary_uami_name:
            yield err("primary_uami_name", "uami_name_required", self.primary_uami_name,
                      f"identity type '{self.workspace_identity_type}' needs the user-assigned "
                      f"identity's name")
        names: set[str] = set()
        for i, sp in enumerate(self.service_principals):
            if sp.name in names:
                yield err(f"service_principals.{i}.name", "identity_name_unique", sp.name,
                          f"identity '{sp.name}' is listed twice")
            names.add(sp.name)
            if sp.env not in envs:
                yield err(f"service_principals.{i}.env", "environment_exists", sp.env, _no_env(sp.env, envs))
            if sp.role not in roles:
                yield err(f"service_principals.{i}.role", "role_defined", sp.role, _no_role(sp.role))
            if sp.role in PRIVILEGED_ROLES and not sp.justification.strip():
                yield err(f"service_principals.{i}.justification", "least_privilege_justification", "",
                          f"'{sp.name}' has {sp.role}: give the reason or pick a narrower role")
        for i, m in enumerate(self.role_mappings):
            if m.env not in envs:
                yield err(f"role_mappings.{i}.env", "environment_exists", m.env, _no_env(m.env, envs))
            if m.azure_role not in roles:
                yield err(f"role_mappings.{i}.azure_role", "role_defined", m.azure_role,
                          _no_role(m.azure_role))
        seen: set[str] = set()
        for i, r in enumerate(self.custom_roles):
            if r.name.lower() in seen:
                yield err(f"custom_roles.{i}.name", "custom_role_name_unique", r.name,
                          f"custom role '{r.name}' is defined twice")
            seen.add(r.name.lower())
            if r.name in BUILTIN_ROLES:
                yield err(f"custom_roles.{i}.name", "custom_role_name_unique", r.name,
                          f"'{r.name}' is a built-in role name: choose another")
            for j, action in enumerate(r.actions):
                if action == "*" or action.startswith("*/"):
                    yield err(f"custom_roles.{i}.actions.{j}", "least_privilege_wildcard", action,
                              f"'{action}' grants every action of every provider: list the "
                              f"Microsoft.MachineLearningServices operations the role needs")
            if not r.actions and not r.data_actions:
                yield err(f"custom_roles.{i}.actions", "custom_role_empty", r.actions,
                          f"custom role '{r.name}' allows nothing: add actions or data actions")

    def _network_errors(self) -> Iterator[FieldError]:
        behind = [f for f in ("storage_behind_vnet", "keyvault_behind_vnet", "acr_behind_vnet")
                  if getattr(self, f)]
        if self.vnet_option == "none":
            needs = behind + (["private_endpoint_type"] if self.private_endpoint_type != "none" else [])
            if needs:
                yield err("vnet_option", "vnet_required", self.vnet_option,
                          f"{', '.join(needs)} need(s) a virtual network: choose 'new' or 'existing'")
        if self.acr_behind_vnet:
            if self.container_registry_sku != "Premium":
                yield err("container_registry_sku", "acr_behind_vnet_premium", self.container_registry_sku,
                          "a container registry behind the VNet must be Premium")
            if self.container_registry_option != "new":
                yield err("container_registry_option", "acr_behind_vnet_new", self.container_registry_option,
                          "the template can put only a registry it creates behind the VNet: choose 'new'")
        if self.private_endpoint_type != "none" and self.subnet_option == "none":
            yield err("subnet_option", "private_endpoint_needs_subnet", self.subnet_option,
                      "the private endpoint needs a subnet: choose 'new' or 'existing'")
        if self.vnet_option == "none" and self.subnet_option != "none":
            yield err("subnet_option", "subnet_needs_vnet", self.subnet_option,
                      "there is no virtual network to hold a subnet: choose 'none' or set vnet_option")
        if self.vnet_option == "new" and self.subnet_option == "existing":
            yield err("subnet_option", "new_vnet_new_subnet", self.subnet_option,
                      "a new VNet has no existing subnets: choose 'new'")
        nets = [ipaddress.ip_network(p) for p in self.address_prefixes]
        for i, a in enumerate(nets):
            for b in nets[:i]:
                if a.overlaps(b):
                    yield err(f"address_prefixes.{i}", "address_prefixes_overlap", str(a),
                              f"overlaps {b} in the same VNet")
        if self.vnet_option != "none" and self.subnet_option != "none":
            subnet = ipaddress.ip_network(self.subnet_prefix)
            if not any(subnet.version == n.version and subnet.subnet_of(n) for n in nets):  # type: ignore[arg-type]
                yield err("subnet_prefix", "subnet_in_vnet", self.subnet_prefix,
                          f"is not inside the VNet address space {', '.join(self.address_prefixes)}")
        if self.public_network_access == "Disabled" and self.private_endpoint_type == "none":
            yield err("public_network_access", "private_access_needs_endpoint", self.public_network_access,
                      "with public access disabled and no private endpoint nobody can reach the workspace")
        no_network = self.vnet_option == "none" and self.managed_vnet_isolation == "disabled"
        if self.compute_no_public_ip and no_network:
            yield err("compute_no_public_ip", "no_public_ip_needs_network", True,
                      "compute without public IP needs a VNet or managed VNet isolation")

    def _protection_errors(self) -> Iterator[FieldError]:
        if self.encryption_status == "Enabled":
            if not self.cmk_keyvault:
                yield err("cmk_keyvault", "cmk_required", "",
                          "customer-managed key encryption is enabled: give the Key Vault's resource id")
            if not self.resource_cmk_uri:
                yield err("resource_cmk_uri", "cmk_required", "",
                          "customer-managed key encryption is enabled: give the key identifier URI")
        if self.cmk_keyvault and self.resource_cmk_uri:
            vault = self.cmk_keyvault.rstrip("/").rsplit("/", 1)[-1].lower()
            host = self.resource_cmk_uri.split("/")[2].split(".")[0].lower()
            if vault != host:
                yield err("resource_cmk_uri", "cmk_key_in_vault", self.resource_cmk_uri,
                          f"the key is in vault '{host}', but cmk_keyvault names vault '{vault}'")
        if self.production_data_policy in ("masked_replica_in_dev", "prod_only_with_rbac_read"):
            prod = self.production_env()
            for i, e in enumerate(self.environments):
                if e is not prod and e.prod_data_access:
                    yield err(f"environments.{i}.prod_data_access", "prod_data_policy", True,
                              f"the policy '{self.production_data_policy}' keeps production data out of "
                              f"'{e.name}'")

    def _cost_errors(self) -> Iterator[FieldError]:
        envs = set(self.env_names())
        for i, b in enumerate(self.budgets):
            if b.env not in envs:
                yield err(f"budgets.{i}.env", "environment_exists", b.env, _no_env(b.env, envs))
            if len(b.alert_thresholds) + len(b.forecast_thresholds) > 5:
                yield err(f"budgets.{i}.alert_thresholds", "budget_notifications_max",
                          len(b.alert_thresholds) + len(b.forecast_thresholds),
                          "a budget has at most 5 alerts (actual + forecast)")
            if not b.recipients and not b.contact_roles:
                yield err(f"budgets.{i}.recipients", "budget_recipients", [],
                          "alerts need at least one e-mail or contact role")
        if self.cluster_max_nodes < self.cluster_min_nodes:
            yield err("cluster_max_nodes", "cluster_max_ge_min", self.cluster_max_nodes,
                      f"must be at least the minimum ({self.cluster_min_nodes})")
        if "allowed_vm_skus" in self.azure_policy_assignments and not self.allowed_vm_skus:
            yield err("allowed_vm_skus", "allowed_skus_policy", [],
                      "the allowed-VM-sizes policy is selected: list the sizes it allows")
        policies = self.azure_policy_assignments
        if "enforce_low_priority_vms" in policies and self.vm_priority_strategy == "dedicated":
            yield err("vm_priority_strategy", "low_priority_policy", self.vm_priority_strategy,
                      "the policy enforces low-priority VMs: choose 'low_priority' or 'both'")
        days = [("blob_cool_after_days", self.blob_cool_after_days),
                ("blob_archive_after_days", self.blob_archive_after_days),
                ("blob_delete_after_days", self.blob_delete_after_days)]
        last: tuple[str, int] | None = None
        for field, value in days:
            if value is None:
                continue
            if last and value <= last[1]:
                yield err(field, "blob_lifecycle_order", value, f"must be later than {last[0]} ({last[1]})")
            last = (field, value)


# ---------------------------------------------------------------------------
# Helpers shared with Stage 3, the generator and the checks

# field -> (naming rule, separator before the environment suffix)
RESOURCE_NAME_FIELDS: dict[str, tuple[NamingRule, str]] = {
    "workspace_name": (naming.WORKSPACE, "-"),
    "storage_account_name": (naming.STORAGE_ACCOUNT, ""),
    "key_vault_name": (naming.KEY_VAULT, "-"),
    "container_registry_name": (naming.CONTAINER_REGISTRY, ""),
    "app_insights_name": (naming.APP_INSIGHTS, "-"),
    "log_analytics_name": (LOG_ANALYTICS, "-"),
    "vnet_name": (naming.VNET, "-"),
}


def resource_name(design: Settings, field: str, env: str) -> str:
    """The name of one resource in one environment: the stem plus the environment name."""
    stem = getattr(design, field)
    return f"{stem}{RESOURCE_NAME_FIELDS[field][1]}{env}" if stem else ""


def resource_names(design: Settings, env: str) -> dict[str, str]:
    """Every resource name of one environment, keyed by the settings field."""
    return {field: resource_name(design, field, env) for field in RESOURCE_NAME_FIELDS}


def semver_key(version: str) -> tuple[int, ...]:
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def _no_env(env: str, envs: set[str]) -> str:
    return f"no environment named '{env}' (environments: {', '.join(sorted(envs)) or 'none'})"


def _no_role(role: str) -> str:
    return f"'{role}' is neither a built-in role nor one of the custom roles: define it under custom_roles"
