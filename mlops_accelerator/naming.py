"""Azure naming rules (digest appendix A) as reusable, typed validators.

Each rule is one `NamingRule`; `rule.type` is an Annotated str usable as a pydantic
field type. It validates with a message naming the rule and exports `pattern`,
`minLength` and `maxLength` to JSON Schema so the front end can check as you type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError


@dataclass(frozen=True)
class NamingRule:
    id: str  # rule id reported in errors, e.g. "azure_storage_account_name"
    resource: str  # what is named, e.g. "storage account"
    min_len: int
    max_len: int
    pattern: str  # full-match regex (length handled separately)
    describe: str  # the rule in words
    forbid: str | None = None  # a regex that must NOT match anywhere (e.g. "--")

    def problem(self, value: str) -> str | None:
        """Return what is wrong with `value`, or None when it is a valid name."""
        if not self.min_len <= len(value) <= self.max_len:
            return f"must be {self.min_len}-{self.max_len} characters long (has {len(value)})"
        if not re.fullmatch(self.pattern, value):
            return f"must be {self.describe}"
        if self.forbid and re.search(self.forbid, value):
            return f"must be {self.describe}"
        return None

    def check(self, value: str) -> str:
        problem = self.problem(value)
        if problem:
            raise PydanticCustomError(
                self.id,
                "{resource} name {problem} (Azure naming rule)",
                {"resource": self.resource, "problem": problem},
            )
        return value

    @property
    def type(self) -> Any:
        return Annotated[
            str,
            AfterValidator(self.check),
            Field(
                json_schema_extra={
                    "pattern": f"^(?:{self.pattern})$",  # JSON Schema patterns search; anchor them
                    "minLength": self.min_len,
                    "maxLength": self.max_len,
                    "x-rule": self.id,
                    "x-rule-text": self.describe,
                }
            ),
        ]


_VNET_CHARS = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"

RESOURCE_GROUP = NamingRule(
    "azure_resource_group_name", "resource group", 1, 90, r"[A-Za-z0-9_.()-]*[A-Za-z0-9_()-]",
    "letters, digits, '_', '-', '.', '(' and ')', not ending with '.'")
WORKSPACE = NamingRule(
    "azure_ml_workspace_name", "Azure ML workspace", 3, 33, r"[A-Za-z0-9][A-Za-z0-9_-]*",
    "letters, digits, '_' and '-', starting with a letter or digit (no spaces)")
STORAGE_ACCOUNT = NamingRule(
    "azure_storage_account_name", "storage account", 3, 24, r"[a-z0-9]+",
    "lowercase letters and digits only")
KEY_VAULT = NamingRule(
    "azure_key_vault_name", "key vault", 3, 24, r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?",
    "letters, digits and '-', starting with a letter, ending with a letter or digit, no '--'",
    forbid=r"--")
CONTAINER_REGISTRY = NamingRule(
    "azure_container_registry_name", "container registry", 5, 50, r"[A-Za-z0-9]+",
    "letters and digits only")
APP_INSIGHTS = NamingRule(
    "azure_app_insights_name", "Application Insights", 1, 255, r"[A-Za-z0-9_.()-]*[A-Za-z0-9_()-]",
    "letters, digits, '.', '_', '-', '(' and ')', not ending with '.'")
VNET = NamingRule(
    "azure_vnet_name", "virtual network", 2, 64, _VNET_CHARS,
    "letters, digits, '_', '.' and '-', starting with a letter or digit, ending with a letter, digit or '_'")
SUBNET = NamingRule(
    "azure_subnet_name", "subnet", 1, 80, _VNET_CHARS,
    "letters, digits, '_', '.' and '-', starting with a letter or digit, ending with a letter, digit or '_'")
PRIVATE_ENDPOINT = NamingRule(
    "azure_private_endpoint_name", "private endpoint", 2, 64, _VNET_CHARS,
    "letters, digits, '_', '.' and '-', starting with a letter or digit, ending with a letter, digit or '_'")
COMPUTE_CLUSTER = NamingRule(
    "azure_ml_compute_cluster_name", "compute cluster", 2, 16, r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?",
    "letters, digits and '-', starting with a letter, ending with a letter or digit")
COMPUTE_INSTANCE = NamingRule(
    "azure_ml_compute_instance_name", "compute instance", 3, 24, r"[A-Za-z][A-Za-z0-9-]*",
    "letters, digits and '-', starting with a letter")
ENDPOINT = NamingRule(
    "azure_ml_endpoint_name", "endpoint", 3, 32, r"[A-Za-z][A-Za-z0-9-]*",
    "letters, digits and '-', starting with a letter")
DEPLOYMENT = NamingRule(
    "azure_ml_deployment_name", "deployment", 3, 32, r"[A-Za-z][A-Za-z0-9-]*",
    "letters, digits and '-', starting with a letter")
ASSET = NamingRule(
    "azure_ml_asset_name", "asset", 1, 255, r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    "letters, digits, '-', '_' and '.', starting with a letter or digit")
DATASTORE = NamingRule(
    "azure_ml_datastore_name", "datastore", 1, 255, r"[A-Za-z][A-Za-z0-9_]*",
    "letters, digits and '_', starting with a letter (lowercase recommended)")
PROJECT_SLUG = NamingRule(
    "project_slug", "project", 3, 31, r"[a-z][a-z0-9-]*",
    "lowercase letters, digits and '-', starting with a letter (it prefixes every Azure name)")

ALL_RULES: tuple[NamingRule, ...] = (
    RESOURCE_GROUP, WORKSPACE, STORAGE_ACCOUNT, KEY_VAULT, CONTAINER_REGISTRY, APP_INSIGHTS,
    VNET, SUBNET, PRIVATE_ENDPOINT, COMPUTE_CLUSTER, COMPUTE_INSTANCE, ENDPOINT, DEPLOYMENT,
    ASSET, DATASTORE, PROJECT_SLUG,
)

# Field types for the settings schemas.
ResourceGroupName = RESOURCE_GROUP.type
WorkspaceName = WORKSPACE.type
StorageAccountName = STORAGE_ACCOUNT.type
KeyVaultName = KEY_VAULT.type
ContainerRegistryName = CONTAINER_REGISTRY.type
AppInsightsName = APP_INSIGHTS.type
VnetName = VNET.type
SubnetName = SUBNET.type
PrivateEndpointName = PRIVATE_ENDPOINT.type
ComputeClusterName = COMPUTE_CLUSTER.type
ComputeInstanceName = COMPUTE_INSTANCE.type
EndpointName = ENDPOINT.type
DeploymentName = DEPLOYMENT.type
AssetName = ASSET.type
DatastoreName = DATASTORE.type
ProjectSlug = PROJECT_SLUG.type


# ---------------------------------------------------------------------------
# Regions

# Every region where an Azure Machine Learning workspace can be created (Azure's product-availability
# list for "Azure Machine Learning", public cloud plus US Government and China; reviewed 2026-11-29 from
# what is known offline: verify new regions on https://azure.microsoft.com/explore/global-infrastructure/
# products-by-region). Value: where the workspace's Log Analytics workspace and workspace-based
# Application Insights go. Both services are available in each of these regions, so they stay in the
# workspace's region (data residency); the seed's template mapped a few regions elsewhere because
# *classic* Application Insights was missing there, which no longer applies.
AZURE_ML_REGIONS: dict[str, str] = {r: r for r in (
    # Americas
    "eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westcentralus", "westus", "westus2",
    "westus3", "canadacentral", "canadaeast", "brazilsouth", "mexicocentral",
    # Europe
    "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "germanywestcentral", "switzerlandnorth",
    "switzerlandwest", "norwayeast", "swedencentral", "polandcentral", "italynorth", "spaincentral",
    # Asia Pacific
    "eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral", "koreasouth", "centralindia",
    "southindia", "westindia", "australiaeast", "australiasoutheast", "australiacentral",
    # Middle East and Africa
    "uaenorth", "qatarcentral", "israelcentral", "southafricanorth",
    # Sovereign clouds
    "usgovvirginia", "usgovarizona", "chinaeast2", "chinanorth2", "chinanorth3",
)}


def cloud_of(region: str) -> int:
    """The Azure cloud a region belongs to: 0 public, 1 US Government, 2 China (21Vianet)."""
    return 1 if region.startswith("usgov") else 2 if region.startswith("china") else 0


def storage_suffix(region: str) -> str:
    """The storage endpoint suffix of the region's cloud (https://<account>.blob.<suffix>)."""
    return ("core.windows.net", "core.usgovcloudapi.net", "core.chinacloudapi.cn")[cloud_of(region)]
