"""Stage 2 infrastructure as code: an ARM template and the same design in Bicep.

One model, two renderers. `build(design)` turns the stage-2 settings into a list of
resources (Python dicts whose expressions are `Expr` objects); `arm_template()` renders
them as an ARM deploymentTemplate (JSON, deployable with `az deployment group create` or
azure-mgmt-resource) and `bicep()` as `main.bicep`. Per-environment values (names,
region, address space, budget) are template parameters, one parameter file per
environment (`azuredeploy.parameters.<env>.json` and `<env>.bicepparam`); structural
choices of the design (what sits behind the VNet, private endpoints, CMK, registry SKU)
are rendered literally, so the code says what was decided and checkov can judge it.

Compared with the source accelerator's template (digest §4, §7.1 item 10) this one uses
current GA API versions, workspace-based Application Insights on a Log Analytics
workspace, a Key Vault in RBAC mode with soft delete and purge protection, a registry
without the admin user, private endpoints and private DNS for every dependency put
behind the VNet (not only the workspace), budgets with alerts, and outputs. It accepts
every region (no App Insights location map).

Checks the design knowingly fails are suppressed where the resource is declared, each
with the reason taken from the user's choice (ARM: the resource's `metadata.checkov`
list; Bicep: `// checkov:skip=<id>: <reason>` inside the resource block).

    files = write_iac(design, out_dir / "iac")   # {"arm": [...], "bicep": [...]}
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..naming import cloud_of
from ..settings.design import Settings, resource_name
from ..settings.shared import expand_tags

ARM_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
PARAMS_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"

# The newest GA (non-preview) API version of each resource type, checked 2026-11-29 against the
# official ARM schemas (Azure/azure-resource-manager-schemas at a1454431, 2026-08-16); the tests
# validate every generated resource against that version's schema (tests/data/arm-schemas).
# Application Insights components and role assignments have no GA version newer than these.
API_CHECKED = "2026-11-29"
API = {
    "Microsoft.OperationalInsights/workspaces": "2025-07-01",
    "Microsoft.Insights/components": "2020-02-02",
    "Microsoft.Storage/storageAccounts": "2026-04-01",
    "Microsoft.KeyVault/vaults": "2026-02-01",
    "Microsoft.ContainerRegistry/registries": "2025-11-01",
    "Microsoft.Network/networkSecurityGroups": "2025-07-01",
    "Microsoft.Network/virtualNetworks": "2025-07-01",
    "Microsoft.Network/privateEndpoints": "2025-07-01",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": "2025-07-01",
    "Microsoft.Network/privateDnsZones": "2024-06-01",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "2024-06-01",
    "Microsoft.MachineLearningServices/workspaces": "2026-05-01",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.Consumption/budgets": "2024-08-01",
}

# Storage redundancy that keeps a copy in a second region (what CKV_AZURE_206 accepts).
GEO_REPLICATED = ("Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS")
_REDUNDANCY = {"Standard_LRS": "locally redundant storage keeps three copies in one datacenter",
               "Standard_ZRS": "zone-redundant storage keeps copies in the availability zones of one region"}

KEY_VAULT_ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"  # built-in role id

# Private DNS zones per sub-resource, per cloud (public, US Gov, China).
_DNS = {
    "amlworkspace": (("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
                     ("privatelink.api.ml.azure.us", "privatelink.notebooks.usgovcloudapi.net"),
                     ("privatelink.api.ml.azure.cn", "privatelink.notebooks.chinacloudapi.cn")),
    "blob": (("privatelink.blob.core.windows.net",), ("privatelink.blob.core.usgovcloudapi.net",),
             ("privatelink.blob.core.chinacloudapi.cn",)),
    "file": (("privatelink.file.core.windows.net",), ("privatelink.file.core.usgovcloudapi.net",),
             ("privatelink.file.core.chinacloudapi.cn",)),
    "vault": (("privatelink.vaultcore.azure.net",), ("privatelink.vaultcore.usgovcloudapi.net",),
              ("privatelink.vaultcore.azure.cn",)),
    "registry": (("privatelink.azurecr.io",), ("privatelink.azurecr.us",), ("privatelink.azurecr.cn",)),
}


IAC_TOOLS = ("arm", "bicep", "terraform")


def output_files(tool: str, envs: Iterable[str]) -> list[str]:
    """What `write_iac` writes for one tool, relative to its output folder (e.g. `arm/azuredeploy.json`)."""
    envs = list(envs)
    if tool == "bicep":
        return ["bicep/main.bicep", *(f"bicep/{e}.bicepparam" for e in envs)]
    if tool == "terraform":
        from . import terraform

        return [f"terraform/{f}" for f in terraform.FIXED_FILES] + [
            f"terraform/{f}" for e in envs for f in (terraform.tfvars_name(e), terraform.backend_name(e))]
    return ["arm/azuredeploy.json", *(f"arm/azuredeploy.parameters.{e}.json" for e in envs)]


def pipeline_files(tool: str, env: str) -> dict[str, str]:
    """Repository paths (under infra/) a pipeline deploys one environment with; names agree with
    `output_files`, which is what `export` copies to infra/."""
    if tool == "bicep":
        return {"template": "infra/bicep/main.bicep", "parameters": f"infra/bicep/{env}.bicepparam"}
    if tool == "terraform":
        from . import terraform

        return {"template": "infra/terraform", "parameters": f"infra/terraform/{terraform.tfvars_name(env)}",
                "backend": f"infra/terraform/{terraform.backend_name(env)}"}
    return {"template": "infra/arm/azuredeploy.json", "parameters": f"infra/arm/azuredeploy.parameters.{env}.json"}


# ---------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class Expr:
    """An expression in both languages; `deps` are resources it refers to (ARM dependsOn)."""

    arm: str
    bicep: str
    deps: tuple[str, ...] = ()


def P(name: str) -> Expr:  # noqa: N802 - reads like the ARM function
    return Expr(f"parameters('{name}')", name)


@dataclass(frozen=True)
class Ref:
    """The resource id of a resource declared in this template."""

    sym: str


@dataclass
class Resource:
    sym: str  # Bicep symbolic name
    type: str
    name: str | Expr  # for a child: its own name segment
    body: dict[str, Any]
    parent: str | None = None  # sym of the parent resource
    skips: list[tuple[str, str]] = field(default_factory=list)  # (check id, reason)
    comment: str = ""
    condition: Expr | None = None

    @property
    def api(self) -> str:
        return API[self.type]


@dataclass
class Param:
    type: str  # string | int | bool | array | object
    description: str
    default: Any = None  # None: required (no default)
    allowed: list[Any] | None = None
    min_length: int | None = None
    max_length: int | None = None


@dataclass
class Template:
    parameters: dict[str, Param]
    resources: list[Resource]
    outputs: dict[str, tuple[str, Expr | Ref]]
    metadata: dict[str, Any]
    env_values: dict[str, dict[str, Any]]  # env -> parameter values for its parameter file

    def resource(self, sym: str) -> Resource:
        return next(r for r in self.resources if r.sym == sym)

    def by_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def suppressions(self) -> list[dict[str, str]]:
        return [{"resource": f"{r.type}.{r.sym}", "check": c, "reason": why}
                for r in self.resources for c, why in r.skips]


# ---------------------------------------------------------------------------
# Building the model from the design


def _identity_type(value: str) -> str:
    return {"systemAssigned": "SystemAssigned", "userAssigned": "UserAssigned",
            "systemAssigned,userAssigned": "SystemAssigned,UserAssigned"}[value]


def _tags(design: Settings, project: str, env: str) -> dict[str, str]:
    return expand_tags(design.tags, project, env)


def _arm_literal(text: str) -> str:
    """A string literal inside an ARM expression."""
    return "'" + text.replace("'", "''") + "'"


def _uami_id(rg_param: str, name_param: str) -> Expr:
    return Expr(f"resourceId(parameters('{rg_param}'), 'Microsoft.ManagedIdentity/userAssignedIdentities', "
                f"parameters('{name_param}'))",
                f"resourceId({rg_param}, 'Microsoft.ManagedIdentity/userAssignedIdentities', {name_param})")


def _first_of_month(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return today.replace(day=1).isoformat()


class _Builder:
    def __init__(self, design: Settings, project: str, roster_emails: dict[str, str] | None,
                 today: dt.date | None):
        self.d = design
        self.project = project
        self.today = today
        self.params: dict[str, Param] = {}
        self.resources: list[Resource] = []
        self.outputs: dict[str, tuple[str, Expr | Ref]] = {}
        self.env_values: dict[str, dict[str, Any]] = {e.name: {} for e in design.environments}
        self.roster_emails = roster_emails or {}
        self.existing: dict[str, Expr] = {}
        d = design
        self.private = d.private_endpoint_type != "none"
        self.has_vnet = d.vnet_option != "none" and d.subnet_option != "none"
        self.cloud = cloud_of(d.primary_region)

    # -- parameters ---------------------------------------------------------
    def param(self, name: str, p: Param, per_env: dict[str, Any] | None = None) -> Expr:
        self.params[name] = p
        for env, value in (per_env or {}).items():
            self.env_values[env][name] = value
        return P(name)

    def per_env(self, fn: Any) -> dict[str, Any]:
        return {e.name: fn(e) for e in self.d.environments}

    def add(self, r: Resource) -> Resource:
        self.resources.append(r)
        return r

    # -- pieces ---------------------------------------------------------------
    def build(self) -> Template:
        d = self.d
        self.param("environmentName", Param("string", "Short name of the environment (dev, test, prod).",
                                            min_length=2, max_length=10), self.per_env(lambda e: e.name))
        self.location = self.param(
            "location", Param("string", "Region of every resource.",
                              default=Expr("resourceGroup().location", "resourceGroup().location")),
            self.per_env(lambda e: e.region))
        tag_values = self.param("tagValues", Param("object", "Tags on every resource (cost allocation).",
                                                   default={}),
                                self.per_env(lambda e: _tags(d, self.project, e.name)))
        # `tags` is an object (what the ARM schema requires), one lookup per tag key of the design.
        self.tags = {t.key: Expr(f"{tag_values.arm}[{_arm_literal(t.key)}]", f"{tag_values.bicep}[{_bicep_str(t.key)}]")
                     for t in d.tags}
        self._monitoring()
        self._network()
        self._storage()
        self._key_vault()
        self._registry()
        self._workspace()
        self._private_endpoints()
        self._key_vault_role()
        self._budget()
        return Template(self.params, self.resources, self.outputs, self._metadata(), self.env_values)

    def _metadata(self) -> dict[str, Any]:
        return {"generator": "mlops_accelerator stage 2 (Design and Provision Infrastructure)",
                "project": self.project, "design_version": self.d.design_version,
                "environments": [e.name for e in self.d.environments]}

    def _name_param(self, pname: str, field_: str, description: str, **kw: Any) -> Expr:
        return self.param(pname, Param("string", description, **kw),
                          self.per_env(lambda e: resource_name(self.d, field_, e.name)))

    def _existing(self, sym: str, type_: str, name_param: str, field_: str, rg_field: str, what: str) -> Expr:
        """An existing dependency: its name (exact, every environment) and resource group as parameters,
        its id as an expression; the template only links it (issue 14 item 12, the seed's *Option=existing)."""
        d = self.d
        name = self.param(name_param, Param("string", f"Name of the existing {what}."),
                          self.per_env(lambda e: getattr(d, field_)))
        rg_param = f"{name_param[:-4]}ResourceGroupName"
        rg = self.param(rg_param, Param("string", f"Resource group of the existing {what}.",
                                        default=Expr("resourceGroup().name", "resourceGroup().name")),
                        self.per_env(lambda e: getattr(d, rg_field) or e.resource_group))
        self.existing[sym] = Expr(f"resourceId({rg.arm}, '{type_}', {name.arm})",
                                  f"resourceId({rg.bicep}, '{type_}', {name.bicep})")
        return self.existing[sym]

    def ref(self, sym: str) -> Expr | Ref:
        """The id of a dependency: declared here, or existing."""
        return self.existing.get(sym) or Ref(sym)

    def _monitoring(self) -> None:
        if self.d.app_insights_option == "existing":
            ai = self._existing("appInsights", "Microsoft.Insights/components", "applicationInsightsName",
                                "app_insights_name", "app_insights_resource_group", "Application Insights")
            self.outputs["applicationInsightsId"] = ("string", ai)
            return
        la_name = self._name_param("logAnalyticsName", "log_analytics_name",
                                   "Log Analytics workspace behind Application Insights.", min_length=4,
                                   max_length=63)
        retention = self.param("logAnalyticsRetentionDays",
                               Param("int", "Days Log Analytics keeps logs (30 is included in the price).",
                                     default=30))
        self.add(Resource("logAnalytics", "Microsoft.OperationalInsights/workspaces", la_name, {
            "location": self.location, "tags": self.tags,
            "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": retention,
                           "features": {"enableLogAccessUsingOnlyResourcePermissions": True}},
        }, comment="Log Analytics workspace: workspace-based Application Insights stores its data here"))
        ai_name = self._name_param("applicationInsightsName", "app_insights_name",
                                   "Application Insights (workspace-based).", min_length=1, max_length=255)
        self.add(Resource("appInsights", "Microsoft.Insights/components", ai_name, {
            "location": self.location, "tags": self.tags, "kind": "web",
            "properties": {"Application_Type": "web", "WorkspaceResourceId": Ref("logAnalytics"),
                           "IngestionMode": "LogAnalytics"},
        }, comment="Workspace-based Application Insights (classic Application Insights is retired)"))
        self.outputs["applicationInsightsId"] = ("string", Ref("appInsights"))
        self.outputs["logAnalyticsWorkspaceId"] = ("string", Ref("logAnalytics"))

    def _network(self) -> None:
        d = self.d
        self.subnet_id: Expr | None = None
        if d.vnet_option == "none":
            return
        vnet_name = self.param("vnetName", Param("string", "Virtual network name.", min_length=2, max_length=64),
                               self.per_env(lambda e: d.vnet_name if d.vnet_option == "existing"
                                            else resource_name(d, "vnet_name", e.name)))
        subnet_name = self.param("subnetName", Param("string", "Subnet for compute and private endpoints.",
                                                     default=d.subnet_name, min_length=1, max_length=80))
        self.vnet_name, self.subnet_name = vnet_name, subnet_name
        if d.vnet_option == "new":
            prefixes = self.param("addressPrefixes", Param("array", "VNet address space (CIDR list).",
                                                           default=list(d.address_prefixes)),
                                  self.per_env(lambda e: list(d.address_prefixes)))
            subnet_prefix = self.param("subnetPrefix", Param("string", "Subnet CIDR, inside the address space.",
                                                             default=d.subnet_prefix),
                                       self.per_env(lambda e: d.subnet_prefix))
            self.add(Resource("nsg", "Microsoft.Network/networkSecurityGroups",
                              Expr(f"format('nsg-{{0}}', {subnet_name.arm})", f"'nsg-${{{subnet_name.bicep}}}'"),
                              {"location": self.location, "tags": self.tags, "properties": {"securityRules": []}},
                              comment="Network security group of the ML subnet (Azure's default rules)"))
            service_endpoints = [{"service": s} for s in ("Microsoft.Storage", "Microsoft.KeyVault")]
            if self.cloud != 2:
                service_endpoints.append({"service": "Microsoft.ContainerRegistry"})
            self.add(Resource("vnet", "Microsoft.Network/virtualNetworks", vnet_name, {
                "location": self.location, "tags": self.tags,
                "properties": {
                    "addressSpace": {"addressPrefixes": prefixes},
                    "subnets": [{"name": subnet_name, "properties": {
                        "addressPrefix": subnet_prefix,
                        "networkSecurityGroup": {"id": Ref("nsg")},
                        "serviceEndpoints": service_endpoints,
                        "privateEndpointNetworkPolicies": "Disabled",
                        "privateLinkServiceNetworkPolicies": "Enabled"}}],
                },
            }, comment="Virtual network with the ML subnet (service endpoints for the dependencies)"))
            self.vnet_id: Expr | Ref = Ref("vnet")
            self.subnet_id = Expr(
                f"resourceId('Microsoft.Network/virtualNetworks/subnets', {vnet_name.arm}, {subnet_name.arm})",
                f"'${{vnet.id}}/subnets/${{{subnet_name.bicep}}}'", deps=("vnet",))
        else:
            rg = self.param("vnetResourceGroupName", Param(
                "string", "Resource group of the existing VNet.",
                default=Expr("resourceGroup().name", "resourceGroup().name")),
                self.per_env(lambda e: d.vnet_resource_group or e.resource_group))
            self.vnet_id = Expr(
                f"resourceId({rg.arm}, 'Microsoft.Network/virtualNetworks', {vnet_name.arm})",
                f"resourceId({rg.bicep}, 'Microsoft.Network/virtualNetworks', {vnet_name.bicep})")
            self.subnet_id = Expr(
                f"resourceId({rg.arm}, 'Microsoft.Network/virtualNetworks/subnets', {vnet_name.arm}, "
                f"{subnet_name.arm})",
                f"resourceId({rg.bicep}, 'Microsoft.Network/virtualNetworks/subnets', {vnet_name.bicep}, "
                f"{subnet_name.bicep})")
        self.outputs["subnetId"] = ("string", self.subnet_id)

    def _acls(self, behind: bool, what: str, field_: str, pe: bool) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """networkAcls and the checks the choice knowingly fails, with the reason."""
        if behind and self.subnet_id is not None:
            acls = {"defaultAction": "Deny", "bypass": "AzureServices",
                    "virtualNetworkRules": [{"id": self.subnet_id}], "ipRules": []}
            return acls, []
        reason = (f"{field_} is false in the design (design version {self.d.design_version}): the {what} "
                  f"accepts traffic from any network, protected by Entra ID / RBAC and TLS only")
        return {"defaultAction": "Allow", "bypass": "AzureServices"}, [("__acl__", reason)]

    def _public_endpoint_reason(self, acl_skip: list[tuple[str, str]], what: str) -> str:
        """Why a dependency keeps its public endpoint: not behind the VNet, or no private endpoint."""
        if acl_skip:
            return acl_skip[0][1]
        return (f"private_endpoint_type is none in the design (design version {self.d.design_version}): the "
                f"subnet reaches the {what} through its service endpoint, which uses the public endpoint "
                f"behind a deny-by-default firewall")

    def _storage(self) -> None:
        d = self.d
        if d.storage_account_option == "existing":
            self.storage_pe = False  # its network rules and private endpoints belong to its owner
            self.outputs["storageAccountId"] = ("string", self._existing(
                "storage", "Microsoft.Storage/storageAccounts", "storageAccountName", "storage_account_name",
                "storage_account_resource_group", "storage account"))
            return
        name = self._name_param("storageAccountName", "storage_account_name",
                                "Storage account (3-24 lowercase letters and digits, unique in Azure).",
                                min_length=3, max_length=24)
        sku = self.param("storageAccountType", Param(
            "string", "Storage redundancy.", default=d.storage_account_type,
            allowed=["Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Standard_GZRS",
                     "Standard_RAGZRS"]))
        behind = d.storage_behind_vnet and self.subnet_id is not None
        self.storage_pe = behind and self.private
        acls, acl_skip = self._acls(d.storage_behind_vnet, "storage account", "storage_behind_vnet", self.storage_pe)
        names = ", ".join(resource_name(d, "storage_account_name", e.name) for e in d.environments)
        skips = [("CKV_AZURE_43",
                  f"storage_account_name '{d.storage_account_name}' is checked in the design against the Azure "
                  f"naming rule (3-24 lowercase letters and digits) for every environment ({names}); the "
                  f"template takes the name as the parameter storageAccountName, which checkov cannot evaluate")]
        if d.storage_account_type not in GEO_REPLICATED:
            skips.append(("CKV_AZURE_206",
                          f"storage_account_type is {d.storage_account_type} in the design (design version "
                          f"{d.design_version}): {_REDUNDANCY[d.storage_account_type]}; the data is not copied "
                          f"to a second region (choose Standard_GRS or Standard_GZRS to survive a region outage)"))
        if acl_skip:
            skips.append(("CKV_AZURE_35", acl_skip[0][1]))
        public = "Disabled" if self.storage_pe else "Enabled"
        if public == "Enabled":
            skips.append(("CKV_AZURE_59", self._public_endpoint_reason(acl_skip, "storage account")))
        self.add(Resource("storage", "Microsoft.Storage/storageAccounts", name, {
            "location": self.location, "tags": self.tags, "kind": "StorageV2", "sku": {"name": sku},
            "properties": {
                "accessTier": "Hot",
                "minimumTlsVersion": "TLS1_2",
                "supportsHttpsTrafficOnly": True,
                "allowBlobPublicAccess": False,
                "allowCrossTenantReplication": False,
                "publicNetworkAccess": public,
                "networkAcls": acls,
                "encryption": {"keySource": "Microsoft.Storage", "services": {
                    "blob": {"enabled": True, "keyType": "Account"},
                    "file": {"enabled": True, "keyType": "Account"}}},
            },
        }, skips=skips, comment="Default storage of the workspace (datastores, notebooks, job outputs)"))
        self.outputs["storageAccountId"] = ("string", Ref("storage"))

    def _key_vault(self) -> None:
        d = self.d
        if d.key_vault_option == "existing":
            self.kv_pe = False
            self.outputs["keyVaultId"] = ("string", self._existing(
                "keyVault", "Microsoft.KeyVault/vaults", "keyVaultName", "key_vault_name", "key_vault_resource_group",
                "Key Vault"))
            return
        name = self._name_param("keyVaultName", "key_vault_name", "Key Vault (3-24 characters, unique in Azure).",
                                min_length=3, max_length=24)
        self.kv_pe = d.keyvault_behind_vnet and self.subnet_id is not None and self.private
        acls, acl_skip = self._acls(d.keyvault_behind_vnet, "Key Vault", "keyvault_behind_vnet", self.kv_pe)
        skips = [("CKV_AZURE_109", acl_skip[0][1])] if acl_skip else []
        if not self.kv_pe:
            skips.append(("CKV_AZURE_189", self._public_endpoint_reason(acl_skip, "Key Vault")))
        self.add(Resource("keyVault", "Microsoft.KeyVault/vaults", name, {
            "location": self.location, "tags": self.tags,
            "properties": {
                "tenantId": Expr("subscription().tenantId", "subscription().tenantId"),
                "sku": {"family": "A", "name": "standard"},
                "enableRbacAuthorization": True,
                "enableSoftDelete": True,
                "softDeleteRetentionInDays": 90,
                "enablePurgeProtection": True,
                "publicNetworkAccess": "Disabled" if self.kv_pe else "Enabled",
                "networkAcls": acls,
            },
        }, skips=skips, comment="Key Vault in RBAC mode with soft delete and purge protection"))
        self.outputs["keyVaultId"] = ("string", Ref("keyVault"))

    def _registry(self) -> None:
        d = self.d
        self.acr_id: Expr | Ref | None = None
        self.acr_pe = False
        if d.container_registry_option == "none":
            return
        name = self._name_param("containerRegistryName", "container_registry_name",
                                "Container registry (5-50 letters and digits, unique in Azure).",
                                min_length=5, max_length=50)
        if d.container_registry_option == "existing":
            rg = self.param("containerRegistryResourceGroupName", Param(
                "string", "Resource group of the existing registry.",
                default=Expr("resourceGroup().name", "resourceGroup().name")))
            self.acr_id = Expr(f"resourceId({rg.arm}, 'Microsoft.ContainerRegistry/registries', {name.arm})",
                               f"resourceId({rg.bicep}, 'Microsoft.ContainerRegistry/registries', {name.bicep})")
            return
        sku = self.param("containerRegistrySku", Param("string", "Registry tier (Premium behind a VNet).",
                                                      default=d.container_registry_sku,
                                                      allowed=["Basic", "Standard", "Premium"]))
        behind = d.acr_behind_vnet and self.subnet_id is not None
        self.acr_pe = behind and self.private and d.container_registry_sku == "Premium"
        props: dict[str, Any] = {"adminUserEnabled": False,
                                 "publicNetworkAccess": "Disabled" if self.acr_pe else "Enabled",
                                 "networkRuleBypassOptions": "AzureServices"}
        if behind and d.container_registry_sku == "Premium":
            props["networkRuleSet"] = {"defaultAction": "Deny"}
        scanning = ("Defender for Cloud scans its images (defender_scanning includes acr in the design)"
                    if "acr" in d.defender_scanning else "defender_scanning excludes acr in the design")
        skips = [("CKV_AZURE_166",
                  f"container_registry_option is new in the design: this registry holds the environment images "
                  f"Azure ML builds and pulls itself, and a quarantine policy would keep every new image "
                  f"unpullable until an external scanner marks it verified, which Azure ML does not do; "
                  f"{scanning}")]
        if not self.acr_pe:
            if not behind:
                why = (f"acr_behind_vnet is false in the design (design version {d.design_version}): the "
                       f"container registry accepts traffic from any network, protected by Entra ID / RBAC "
                       f"(admin user disabled) and TLS only")
            else:
                why = (f"private_endpoint_type is none in the design (design version {d.design_version}): the "
                       f"container registry keeps its public endpoint, closed by a deny-by-default network "
                       f"rule set except for trusted Azure services")
            skips.append(("CKV_AZURE_139", why))
        self.add(Resource("registry", "Microsoft.ContainerRegistry/registries", name, {
            "location": self.location, "tags": self.tags, "sku": {"name": sku}, "properties": props,
        }, skips=skips, comment="Container registry for Azure ML images (admin user disabled: pulls use Entra ID)"))
        self.acr_id = Ref("registry")
        self.outputs["containerRegistryId"] = ("string", Ref("registry"))

    def _workspace(self) -> None:
        d = self.d
        name = self._name_param("workspaceName", "workspace_name", "Azure ML workspace name.",
                                min_length=3, max_length=33)
        self.ws_name = name
        identity: dict[str, Any] = {"type": _identity_type(d.workspace_identity_type)}
        props: dict[str, Any] = {
            "friendlyName": name,
            "description": Expr(
                f"format('{self.project} MLOps workspace ({{0}}), design {d.design_version}', "
                f"parameters('environmentName'))",
                f"'{self.project} MLOps workspace (${{environmentName}}), design {d.design_version}'"),
            "storageAccount": self.ref("storage"),
            "keyVault": self.ref("keyVault"),
            "applicationInsights": self.ref("appInsights"),
        }
        if self.acr_id is not None:
            props["containerRegistry"] = self.acr_id
        uamis: dict[Any, Any] = {}
        if "userAssigned" in d.workspace_identity_type:
            self.param("primaryUserAssignedIdentityName", Param(
                "string", "User-assigned identity of the workspace.", default=d.primary_uami_name))
            self.param("primaryUserAssignedIdentityResourceGroup", Param(
                "string", "Resource group of that identity.",
                default=Expr("resourceGroup().name", "resourceGroup().name")),
                self.per_env(lambda e: d.primary_uami_resource_group or e.resource_group))
            primary = _uami_id("primaryUserAssignedIdentityResourceGroup", "primaryUserAssignedIdentityName")
            uamis[primary] = {}
            props["primaryUserAssignedIdentity"] = primary
        props["hbiWorkspace"] = d.confidential_data
        props["publicNetworkAccess"] = d.public_network_access
        props["managedNetwork"] = {"isolationMode": {
            "disabled": "Disabled", "allow_internet_outbound": "AllowInternetOutbound",
            "allow_only_approved_outbound": "AllowOnlyApprovedOutbound"}[d.managed_vnet_isolation]}
        props["v1LegacyMode"] = False
        if d.encryption_status == "Enabled":
            kv = self.param("cmk_keyvault", Param("string", "Resource id of the Key Vault holding the key.",
                                                  default=d.cmk_keyvault))
            key = self.param("resource_cmk_uri", Param("string", "Key identifier URI.", default=d.resource_cmk_uri))
            enc: dict[str, Any] = {"status": "Enabled",
                                   "keyVaultProperties": {"keyVaultArmId": kv, "keyIdentifier": key}}
            if d.cmk_uami_name:
                self.param("cmkUserAssignedIdentityName", Param(
                    "string", "User-assigned identity that reads the key.", default=d.cmk_uami_name))
                self.param("cmkUserAssignedIdentityResourceGroup", Param(
                    "string", "Resource group of that identity.",
                    default=Expr("resourceGroup().name", "resourceGroup().name")),
                    self.per_env(lambda e: e.resource_group))
                cmk_id = _uami_id("cmkUserAssignedIdentityResourceGroup", "cmkUserAssignedIdentityName")
                uamis.setdefault(cmk_id, {})
                enc["identity"] = {"userAssignedIdentity": cmk_id}
            for field_, key_name in (("encryption_cosmosdb_armid", "cosmosDbArmId"),
                                     ("encryption_storage_armid", "storageAccountArmId"),
                                     ("encryption_search_armid", "searchAccountArmId")):
                if getattr(d, field_):
                    enc[key_name] = self.param(field_, Param("string", f"Your own {key_name[:-5]} for the CMK "
                                                                       f"workspace.", default=getattr(d, field_)))
            props["encryption"] = enc
        if uamis:  # listed identities need UserAssigned in the type (a CMK identity too)
            identity["userAssignedIdentities"] = uamis
            identity["type"] = ("SystemAssigned,UserAssigned" if "systemAssigned" in d.workspace_identity_type
                                else "UserAssigned")
        self.add(Resource("workspace", "Microsoft.MachineLearningServices/workspaces", name, {
            "location": self.location, "tags": self.tags, "identity": identity,
            "sku": {"name": "Basic", "tier": "Basic"}, "properties": props,
        }, skips=self._workspace_skips(), comment="Azure Machine Learning workspace"))
        self.outputs["workspaceId"] = ("string", Ref("workspace"))
        self.outputs["workspaceName"] = ("string", name)

    def _workspace_skips(self) -> list[tuple[str, str]]:
        d = self.d
        inbound = (f"the workspace's inbound private endpoint ({d.private_endpoint_type}) is the separate "
                   f"resource workspacePe in this template" if self.private and self.subnet_id is not None
                   else "private_endpoint_type is none in the design, so the workspace has no private endpoint")
        if d.managed_vnet_isolation == "disabled":
            why = (f"managed_vnet_isolation is disabled in the design (design version {d.design_version}): "
                   f"compute runs in the design's own network, so the workspace has no managed-network "
                   f"outbound rules, which are all CKV_AZURE_243 inspects; {inbound}")
        else:
            why = (f"managed_vnet_isolation is {d.managed_vnet_isolation} in the design (design version "
                   f"{d.design_version}): Azure ML itself creates the required private-endpoint outbound rules "
                   f"of the managed network to the workspace's storage, Key Vault and registry, so the template "
                   f"declares none for CKV_AZURE_243 to see; {inbound}")
        skips = [("CKV_AZURE_243", why)]
        if d.public_network_access != "Disabled":
            skips.append(("CKV2_AZURE_49",
                          f"public_network_access is {d.public_network_access} in the design (design version "
                          f"{d.design_version}): the workspace API and studio are reachable from any network, "
                          f"protected by Entra ID / RBAC and TLS only"))
        return skips

    def _dns_zones(self, group: str, pe_sym: str) -> None:
        zones = _DNS[group][self.cloud]
        configs = []
        for i, zone in enumerate(zones):
            zsym = _zone_sym(zone)
            if not any(r.sym == zsym for r in self.resources):
                self.add(Resource(zsym, "Microsoft.Network/privateDnsZones", zone,
                                  {"location": "global", "tags": self.tags, "properties": {}},
                                  comment=f"Private DNS zone {zone}"))
                self.add(Resource(f"{zsym}Link", "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
                                  Expr(f"format('{{0}}-link', {self.vnet_name.arm})",
                                       f"'${{{self.vnet_name.bicep}}}-link'"),
                                  {"location": "global", "tags": self.tags,
                                   "properties": {"registrationEnabled": False,
                                                  "virtualNetwork": {"id": self.vnet_id}}},
                                  parent=zsym))
            configs.append({"name": zone.replace(".", "-"), "properties": {"privateDnsZoneId": Ref(zsym)}})
            del i
        self.add(Resource(f"{pe_sym}DnsGroup", "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
                          "default", {"properties": {"privateDnsZoneConfigs": configs}}, parent=pe_sym))

    def _endpoint(self, sym: str, target: Ref, group: str, label: str) -> None:
        d = self.d
        conn_key = ("privateLinkServiceConnections" if d.private_endpoint_type == "AutoApproval"
                    else "manualPrivateLinkServiceConnections")
        conn_props: dict[str, Any] = {"privateLinkServiceId": target, "groupIds": [group]}
        if d.private_endpoint_type == "ManualApproval":
            conn_props["requestMessage"] = f"{self.project}: private endpoint for the {label}"
        self.add(Resource(sym, "Microsoft.Network/privateEndpoints",
                          Expr(f"format('pe-{{0}}-{group}', {self.ws_name.arm})",
                               f"'pe-${{{self.ws_name.bicep}}}-{group}'"),
                          {"location": self.location, "tags": self.tags, "properties": {
                              "subnet": {"id": self.subnet_id},
                              conn_key: [{"name": f"{label.replace(' ', '-')}-{group}", "properties": conn_props}]}},
                          comment=f"Private endpoint ({d.private_endpoint_type}) for the {label} ({group})"))
        self._dns_zones(group, sym)

    def _private_endpoints(self) -> None:
        if not (self.private and self.subnet_id is not None):
            return
        self._endpoint("workspacePe", Ref("workspace"), "amlworkspace", "workspace")
        if self.storage_pe:
            self._endpoint("storageBlobPe", Ref("storage"), "blob", "storage account")
            self._endpoint("storageFilePe", Ref("storage"), "file", "storage account")
        if self.kv_pe:
            self._endpoint("keyVaultPe", Ref("keyVault"), "vault", "key vault")
        if self.acr_pe:
            self._endpoint("registryPe", Ref("registry"), "registry", "container registry")
        self.outputs["workspacePrivateEndpointId"] = ("string", Ref("workspacePe"))

    def _key_vault_role(self) -> None:
        # An existing vault may sit in another resource group and keep its own access model: granting
        # the workspace access there is its owner's step (SETUP), not this deployment's.
        if "systemAssigned" not in self.d.workspace_identity_type or "keyVault" in self.existing:
            return
        grant = self.param("grantWorkspaceKeyVaultAccess", Param(
            "bool", "Grant the workspace identity Key Vault Administrator on its RBAC-mode vault (the "
                    "deploying identity needs Microsoft.Authorization/roleAssignments/write on the vault).",
            default=True))
        role = (f"subscriptionResourceId('Microsoft.Authorization/roleDefinitions', "
                f"'{KEY_VAULT_ADMINISTRATOR}')")
        self.add(Resource("workspaceKeyVaultRole", "Microsoft.Authorization/roleAssignments",
                          Expr(f"guid(resourceId('Microsoft.KeyVault/vaults', parameters('keyVaultName')), "
                               f"parameters('workspaceName'), '{KEY_VAULT_ADMINISTRATOR}')",
                               f"guid(keyVault.id, workspaceName, '{KEY_VAULT_ADMINISTRATOR}')",
                               deps=("keyVault",)),
                          {"scope": Ref("keyVault"), "properties": {
                              "roleDefinitionId": Expr(role, role),
                              "principalId": Expr(
                                  "reference(resourceId('Microsoft.MachineLearningServices/workspaces', "
                                  "parameters('workspaceName')), '" + API["Microsoft.MachineLearningServices/"
                                                                         "workspaces"]
                                  + "', 'full').identity.principalId",
                                  "workspace.identity.principalId", deps=("workspace",)),
                              "principalType": "ServicePrincipal"}},
                          condition=grant,
                          comment="The workspace identity manages its secrets in the RBAC-mode Key Vault"))

    def _budget(self) -> None:
        d = self.d
        budgets = {b.env: b for b in d.budgets}
        amount = self.param("budgetAmount", Param("int", "Monthly budget in the billing currency (0: no budget).",
                                                  default=0),
                            self.per_env(lambda e: round(budgets[e.name].amount) if e.name in budgets else 0))
        grain = self.param("budgetTimeGrain", Param("string", "Budget period.", default="Monthly",
                                                    allowed=["Monthly", "Quarterly", "Annually"]),
                           self.per_env(lambda e: budgets[e.name].time_grain if e.name in budgets else "Monthly"))
        start = self.param("budgetStartDate", Param(
            "string", "First day of the first budget period (yyyy-MM-01); keep it on redeploys.",
            default=Expr("utcNow('yyyy-MM-01')", "utcNow('yyyy-MM-01')")),
            self.per_env(lambda e: _first_of_month(self.today)))
        shapes = {(tuple(b.alert_thresholds), tuple(b.forecast_thresholds)) for b in d.budgets}
        if len(shapes) <= 1:  # one shape: thresholds in the template, recipients per environment
            emails = self.param("budgetContactEmails", Param("array", "Who gets the budget alerts.", default=[]),
                                self.per_env(lambda e: list(budgets[e.name].recipients) if e.name in budgets
                                             else []))
            roles = self.param("budgetContactRoles", Param("array", "Roles on the scope that get the alerts.",
                                                           default=["Owner"]),
                               self.per_env(lambda e: list(budgets[e.name].contact_roles) if e.name in budgets
                                            else ["Owner"]))
            b = d.budgets[0] if d.budgets else None
            notifications: Any = _notifications(b.alert_thresholds if b else [50, 80, 100],
                                                b.forecast_thresholds if b else [100], emails, roles)
        else:  # thresholds differ: each environment's whole notification set is its parameter
            notifications = self.param(
                "budgetNotifications", Param("object", "Budget alerts (thresholds differ per environment)."),
                self.per_env(lambda e: _notifications(
                    budgets[e.name].alert_thresholds, budgets[e.name].forecast_thresholds,
                    list(budgets[e.name].recipients), list(budgets[e.name].contact_roles))
                    if e.name in budgets else {}))
        self.add(Resource("budget", "Microsoft.Consumption/budgets",
                          Expr("format('budget-{0}', parameters('workspaceName'))", "'budget-${workspaceName}'"),
                          {"properties": {"category": "Cost", "amount": amount, "timeGrain": grain,
                                          "timePeriod": {"startDate": start}, "notifications": notifications}},
                          condition=Expr("greater(parameters('budgetAmount'), 0)", "budgetAmount > 0"),
                          comment="Budget of this environment's resource group with spend alerts"))


def _notifications(actual: Iterable[float], forecast: Iterable[float], emails: Any, roles: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, values in (("Actual", actual), ("Forecasted", forecast)):
        for t in values:
            key = f"{kind.lower()}_GreaterThan_{_num(t)}_Percent"
            out[key] = {"enabled": True, "operator": "GreaterThan", "threshold": _num(t),
                        "thresholdType": kind, "contactEmails": emails, "contactRoles": roles}
    return out


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() else v


def _zone_sym(zone: str) -> str:
    parts = zone.replace("privatelink.", "").split(".")
    return "dns" + "".join(p[:1].upper() + p[1:] for p in parts)


def unused_parameters(arm: dict[str, Any]) -> list[str]:
    """Parameters of an ARM template that nothing refers to (a declared-but-ignored input misleads)."""
    body = json.dumps({k: v for k, v in arm.items() if k != "parameters"})
    defaults = json.dumps({k: v.get("defaultValue") for k, v in arm.get("parameters", {}).items()})
    used = set(re.findall(r"parameters\('([^']+)'\)", body + defaults))
    return [name for name in arm.get("parameters", {}) if name not in used]


def build(design: Settings, project: str = "mlops", *, today: dt.date | None = None) -> Template:
    """The infrastructure of the design, as one model both renderers use."""
    return _Builder(design, project, None, today).build()


# ---------------------------------------------------------------------------
# ARM renderer


def _arm_value(v: Any, t: Template) -> Any:
    if isinstance(v, Expr):
        return f"[{v.arm}]"
    if isinstance(v, Ref):
        return f"[{_arm_id(t, v.sym)}]"
    if isinstance(v, dict):
        return {(_arm_value(k, t) if isinstance(k, (Expr, Ref)) else k): _arm_value(x, t) for k, x in v.items()}
    if isinstance(v, list):
        return [_arm_value(x, t) for x in v]
    return v


def _arm_name_args(t: Template, r: Resource) -> list[str]:
    own = r.name.arm if isinstance(r.name, Expr) else f"'{r.name}'"
    return ([*_arm_name_args(t, t.resource(r.parent))] if r.parent else []) + [own]


def _arm_id(t: Template, sym: str) -> str:
    r = t.resource(sym)
    return f"resourceId('{r.type}', {', '.join(_arm_name_args(t, r))})"


def _arm_name(t: Template, r: Resource) -> str:
    args = _arm_name_args(t, r)
    if all(a.startswith("'") for a in args):
        return "/".join(a.strip("'") for a in args)
    if len(args) == 1:
        return f"[{args[0]}]"
    fmt = "/".join(f"{{{i}}}" for i in range(len(args)))
    return f"[format('{fmt}', {', '.join(args)})]"


def _deps(v: Any, out: set[str]) -> set[str]:
    if isinstance(v, Ref):
        out.add(v.sym)
    elif isinstance(v, Expr):
        out.update(v.deps)
    elif isinstance(v, dict):
        for k, x in v.items():
            _deps(k, out)
            _deps(x, out)
    elif isinstance(v, list):
        for x in v:
            _deps(x, out)
    return out


def arm_template(t: Template) -> dict[str, Any]:
    """The ARM deploymentTemplate (resource-group scope) as a JSON-able dict."""
    params: dict[str, Any] = {}
    for name, p in t.parameters.items():
        spec: dict[str, Any] = {"type": p.type}
        if p.default is not None:
            spec["defaultValue"] = _arm_value(p.default, t)
        if p.allowed:
            spec["allowedValues"] = p.allowed
        if p.min_length is not None:
            spec["minLength"] = p.min_length
        if p.max_length is not None:
            spec["maxLength"] = p.max_length
        spec["metadata"] = {"description": p.description}
        params[name] = spec
    resources = []
    declared = {r.sym for r in t.resources}
    for r in t.resources:
        out: dict[str, Any] = {"type": r.type, "apiVersion": r.api, "name": _arm_name(t, r)}
        if r.comment:
            out["comments"] = r.comment
        if r.condition is not None:
            out["condition"] = f"[{r.condition.arm}]"
        for k, v in r.body.items():
            if k == "scope" and isinstance(v, Ref):  # extension resource: the relative form
                target = t.resource(v.sym)
                out[k] = f"[format('{target.type}/{{0}}', {', '.join(_arm_name_args(t, target))})]"
            else:
                out[k] = _arm_value(v, t)
        deps = _deps(r.body, set()) | ({r.parent} if r.parent else set())
        if r.condition is not None:
            deps |= set(r.condition.deps)
        if isinstance(r.name, Expr):
            deps |= set(r.name.deps)
        deps &= declared
        deps.discard(r.sym)
        if deps:
            out["dependsOn"] = [f"[{_arm_id(t, s)}]" for s in sorted(deps, key=lambda s: _order(t, s))]
        if r.skips:
            out["metadata"] = {"checkov": [f"{c}: {why}" for c, why in r.skips]}
        resources.append(out)
    outputs = {k: {"type": typ, "value": _arm_value(v, t)} for k, (typ, v) in t.outputs.items()}
    return {"$schema": ARM_SCHEMA, "contentVersion": "1.0.0.0", "metadata": t.metadata,
            "parameters": params, "resources": resources, "outputs": outputs}


def _order(t: Template, sym: str) -> int:
    return next(i for i, r in enumerate(t.resources) if r.sym == sym)


def arm_parameters(t: Template, env: str) -> dict[str, Any]:
    """azuredeploy.parameters.<env>.json: every per-environment value of one environment."""
    values = t.env_values[env]
    return {"$schema": PARAMS_SCHEMA, "contentVersion": "1.0.0.0",
            "parameters": {k: {"value": v} for k, v in values.items() if k in t.parameters}}


# ---------------------------------------------------------------------------
# Bicep renderer

_IDENT_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _bicep_str(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("${", "\\${").replace("\n", "\\n") + "'"


def _bicep_key(k: Any) -> str:
    if isinstance(k, Expr):
        return f"'${{{k.bicep}}}'"
    k = str(k)
    return k if k and k[0].isalpha() and set(k) <= _IDENT_OK else _bicep_str(k)


def _bicep_value(v: Any, indent: int) -> str:
    pad = "  " * indent
    if isinstance(v, Expr):
        return v.bicep
    if isinstance(v, Ref):
        return f"{v.sym}.id"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return _bicep_str(v)
    if isinstance(v, dict):
        if not v:
            return "{}"
        inner = "\n".join(f"{pad}  {_bicep_key(k)}: {_bicep_value(x, indent + 1)}" for k, x in v.items())
        return "{\n" + inner + f"\n{pad}}}"
    if isinstance(v, list):
        if not v:
            return "[]"
        inner = "\n".join(f"{pad}  {_bicep_value(x, indent + 1)}" for x in v)
        return "[\n" + inner + f"\n{pad}]"
    raise TypeError(f"cannot render {type(v).__name__} in Bicep")


def _hoist_keys(v: Any, hoisted: dict[str, str]) -> Any:
    """`v` with every computed object key that holds a quote replaced by a variable (see bicep())."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if isinstance(k, Expr) and "'" in k.bicep:
                name = hoisted.setdefault(k.bicep, f"objectKey{len(hoisted) + 1}")
                k = Expr(k.arm, name, k.deps)
            out[k] = _hoist_keys(x, hoisted)
        return out
    if isinstance(v, list):
        return [_hoist_keys(x, hoisted) for x in v]
    return v


def bicep(t: Template) -> str:
    """main.bicep: the same resources, parameters and outputs as the ARM template.

    A computed object key with a quoted string inside (a user-assigned identity's resourceId as
    the key of `userAssignedIdentities`) is valid Bicep, but pycep, the parser checkov uses, cannot
    read it; such keys become variables, declared before the resources.
    """
    hoisted: dict[str, str] = {}
    bodies = {r.sym: _hoist_keys(r.body, hoisted) for r in t.resources}
    lines = ["// Generated by mlops_accelerator (stage 2, Design and Provision Infrastructure).",
             f"// Project {t.metadata['project']}, design version {t.metadata['design_version']}. "
             "Per-environment values are in <env>.bicepparam.",
             "targetScope = 'resourceGroup'", ""]
    for name, p in t.parameters.items():
        lines.append(f"@description({_bicep_str(p.description)})")
        if p.allowed:
            lines.append(f"@allowed({_bicep_value(p.allowed, 0)})")
        if p.min_length is not None:
            lines.append(f"@minLength({p.min_length})")
        if p.max_length is not None:
            lines.append(f"@maxLength({p.max_length})")
        default = "" if p.default is None else f" = {_bicep_value(p.default, 0)}"
        lines.append(f"param {name} {p.type}{default}")
        lines.append("")
    for expr, var in hoisted.items():
        lines.append(f"var {var} = {expr}")
    if hoisted:
        lines.append("")
    for r in t.resources:
        if r.comment:
            lines.append(f"// {r.comment}")
        cond = f"if ({r.condition.bicep}) " if r.condition is not None else ""
        lines.append(f"resource {r.sym} '{r.type}@{r.api}' = {cond}{{")
        for check, why in r.skips:
            lines.append(f"  // checkov:skip={check}: {why}")
        if r.parent:
            lines.append(f"  parent: {r.parent}")
        name = r.name.bicep if isinstance(r.name, Expr) else _bicep_str(r.name)
        lines.append(f"  name: {name}")
        for k, v in bodies[r.sym].items():
            if k == "scope" and isinstance(v, Ref):
                lines.append(f"  scope: {v.sym}")
            else:
                lines.append(f"  {_bicep_key(k)}: {_bicep_value(v, 1)}")
        lines.append("}")
        lines.append("")
    for name, (typ, v) in t.outputs.items():
        lines.append(f"output {name} {typ} = {_bicep_value(v, 0)}")
    return "\n".join(lines) + "\n"


def bicepparam(t: Template, env: str) -> str:
    lines = [f"// Parameters of the '{env}' environment (generated by mlops_accelerator).", "using 'main.bicep'", ""]
    for k, v in t.env_values[env].items():
        if k in t.parameters:
            lines.append(f"param {k} = {_bicep_value(v, 0)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Files


def write_iac(design: Settings, folder: str | Path, project: str = "mlops", *,
              today: dt.date | None = None) -> dict[str, list[Path]]:
    """Write arm/azuredeploy.json + parameter files, bicep/main.bicep + <env>.bicepparam and the same
    design as Terraform (terraform/*.tf + <env>.tfvars + backend.<env>.hcl)."""
    folder = Path(folder)
    t = build(design, project, today=today)
    arm_dir, bicep_dir = folder / "arm", folder / "bicep"
    arm_dir.mkdir(parents=True, exist_ok=True)
    bicep_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {"arm": [], "bicep": []}
    path = arm_dir / "azuredeploy.json"
    path.write_text(json.dumps(arm_template(t), indent=2) + "\n", encoding="utf-8")
    written["arm"].append(path)
    path = bicep_dir / "main.bicep"
    path.write_text(bicep(t), encoding="utf-8")
    written["bicep"].append(path)
    for env in t.env_values:
        p = arm_dir / f"azuredeploy.parameters.{env}.json"
        p.write_text(json.dumps(arm_parameters(t, env), indent=2) + "\n", encoding="utf-8")
        written["arm"].append(p)
        p = bicep_dir / f"{env}.bicepparam"
        p.write_text(bicepparam(t, env), encoding="utf-8")
        written["bicep"].append(p)
    from .terraform import write_terraform

    written["terraform"] = write_terraform(t, design, folder / "terraform", project, today=today)
    return written


def resource_summary(t: Template) -> list[dict[str, str]]:
    """One row per resource: what it is and why it is there (for the notebook and the design doc)."""
    return [{"resource": r.sym, "type": r.type, "api_version": r.api,
             "condition": r.condition.arm if r.condition else "", "purpose": r.comment}
            for r in t.resources]
