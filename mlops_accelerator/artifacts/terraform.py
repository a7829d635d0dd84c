"""Stage 2 infrastructure as Terraform (azurerm), rendered from the same model as the ARM template and Bicep.

Every resource of `iac.build(design)` becomes the azurerm resource of its type; one renderer per type
reads the model's body (names, SKUs, network rules, identities, keys, tags), so no setting is
described twice. The model's ARM expressions are translated to HCL by a small parser below. A
resource whose model sets a property azurerm has no argument for is rendered as an `azapi_resource`
with the model's type, API version and body instead, with a comment saying which property (today:
the bring-your-own Cosmos DB / storage / search accounts of a CMK workspace).

Every user value reaches Terraform as data: a variable set in `<env>.tfvars`, or an escaped HCL
string literal (`${` and `%{` escaped); comments are folded to one line.

    terraform/versions.tf      providers, the azurerm state backend (settings in backend.<env>.hcl)
    terraform/variables.tf     one variable per template parameter, with its allowed values/lengths
    terraform/main.tf          the resources, with checkov suppressions (`#checkov:skip=<id>:<reason>`)
    terraform/outputs.tf       the same outputs as the ARM template
    terraform/<env>.tfvars     the environment's values (as azuredeploy.parameters.<env>.json)
    terraform/backend.<env>.hcl  where the environment's state lives (remote state, Entra ID auth)

checkov judges these files like the ARM and Bicep ones. `terraform validate` needs the azurerm
provider from registry.terraform.io, which no package registry here serves: the tests run it only
where `terraform init` can get the provider.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .iac import Expr, Ref, Resource, Template, _deps, _first_of_month

FIXED_FILES = ("versions.tf", "variables.tf", "main.tf", "outputs.tf")
AZAPI_VERSION = "~> 2.0"
AZURERM_VERSION = "~> 4.0"
_TOP_LEVEL = ("location", "tags", "identity")  # azapi_resource arguments; everything else goes to body


def tfvars_name(env: str) -> str:
    return f"{env}.tfvars"


def backend_name(env: str) -> str:
    return f"backend.{env}.hcl"


def state_storage_account(project: str, env: str) -> str:
    """The storage account holding the environment's Terraform state (3-24 lowercase letters/digits)."""
    stem = re.sub(r"[^a-z0-9]", "", project.lower())
    return f"sttf{stem[:24 - 4 - len(env)]}{env}"[:24]


# ---------------------------------------------------------------------------
# HCL values


def hcl_string(text: str) -> str:
    """A quoted HCL string whose content is data: `${` and `%{` would start templates, so escape them."""
    s = json.dumps(str(text), ensure_ascii=False)[1:-1]
    return '"' + s.replace("${", "$${").replace("%{", "%%{") + '"'


def hcl_value(v: Any, indent: int = 0, t: Template | None = None) -> str:
    pad = "  " * indent
    if isinstance(v, Expr) and t is not None and (subnet := _declared_subnet(t, v)):
        return f"{subnet}.id"
    if isinstance(v, Expr):
        return arm_to_hcl(v.arm, t)
    if isinstance(v, Ref):
        return f"{address(t, v.sym)}.id"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return hcl_string(v)
    if isinstance(v, dict):
        if not v:
            return "{}"
        rows = []
        for k, x in v.items():
            key = f"({arm_to_hcl(k.arm, t)})" if isinstance(k, Expr) else hcl_string(k)
            rows.append(f"{pad}  {key} = {hcl_value(x, indent + 1, t)}")
        return "{\n" + "\n".join(rows) + f"\n{pad}}}"
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        return "[\n" + ",\n".join(f"{pad}  {hcl_value(x, indent + 1, t)}" for x in v) + f"\n{pad}]"
    raise TypeError(f"cannot render {type(v).__name__} in HCL")


# ---------------------------------------------------------------------------
# ARM expression -> HCL

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<p>[(),.\[\]]))")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ValueError(f"cannot read the ARM expression {text!r} at {pos}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise ValueError(f"expected {value!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def expr(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            node: Any = ("str", value[1:-1].replace("''", "'"))
        elif kind == "num":
            node = ("num", int(value))
        elif kind == "id":
            self.take("(")
            args = []
            while self.peek() and self.peek()[1] != ")":
                args.append(self.expr())
                if self.peek() and self.peek()[1] == ",":
                    self.take(",")
            self.take(")")
            node = ("call", value, args)
        else:
            raise ValueError(f"unexpected {value!r}")
        while self.peek() and self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                node = ("prop", node, self.take()[1])
            else:
                node = ("index", node, self.expr())
                self.take("]")
        return node


def arm_to_hcl(arm: str, t: Template | None = None) -> str:
    """One ARM expression (without brackets) as an HCL expression."""
    return _emit(_Parser(arm).expr(), t)


def _template(parts: list[Any], t: Template | None) -> str:
    """An HCL string template of literal text and expressions."""
    out = ""
    for p in parts:
        if isinstance(p, str):
            out += hcl_string(p)[1:-1]
        else:
            out += "${" + _emit(p, t) + "}"
    return '"' + out + '"'


def _provider_path(type_: str, names: list[Any]) -> list[Any]:
    segs = type_.split("/")
    parts: list[Any] = [f"/providers/{segs[0]}"]
    for seg, name in zip(segs[1:], names, strict=True):
        parts += [f"/{seg}/", name]
    return parts


def _emit(node: Any, t: Template | None) -> str:
    kind = node[0]
    if kind == "str":
        return hcl_string(node[1])
    if kind == "num":
        return str(node[1])
    if kind == "prop" and _root(node)[:2] == ("call", "reference"):
        return _reference(node, t)
    if kind == "prop":
        inner = node[1]
        if inner == ("call", "resourceGroup", []):
            return {"name": "var.resourceGroupName", "location": "var.location", "id": "local.resource_group_id"}[
                node[2]]
        if inner == ("call", "subscription", []):
            return {"tenantId": "data.azurerm_client_config.current.tenant_id",
                    "subscriptionId": "data.azurerm_client_config.current.subscription_id"}[node[2]]
        return f"{_emit(inner, t)}.{node[2]}"
    if kind == "index":
        return f"{_emit(node[1], t)}[{_emit(node[2], t)}]"
    name, args = node[1], node[2]
    if name == "parameters":
        return f"var.{args[0][1]}"
    if name == "format":
        fmt, rest = args[0][1], args[1:]
        parts: list[Any] = []
        for piece in re.split(r"(\{\d+\})", fmt):
            m = re.fullmatch(r"\{(\d+)\}", piece)
            parts.append(rest[int(m.group(1))] if m else piece)
        return _template([p for p in parts if p != ""], t)
    if name in ("resourceId", "subscriptionResourceId"):
        at = next(i for i, a in enumerate(args) if a[0] == "str" and "/" in a[1])
        scope, type_, names = args[:at], args[at][1], args[at + 1:]
        sub = "${data.azurerm_client_config.current.subscription_id}"
        if name == "subscriptionResourceId":
            prefix: list[Any] = [f"/subscriptions/{sub}"]
        elif scope:
            prefix = [f"/subscriptions/{sub}/resourceGroups/", scope[-1]]
        else:
            prefix = ["${local.resource_group_id}"]
        parts = prefix + _provider_path(type_, names)
        return _template_raw(parts, t)
    if name == "greater":
        return f"({_emit(args[0], t)} > {_emit(args[1], t)})"
    if name == "guid":
        return f'uuidv5("url", join("/", [{", ".join(_emit(a, t) for a in args)}]))'
    if name == "utcNow":
        return 'formatdate("YYYY-MM-01", timestamp())'
    raise ValueError(f"the ARM function {name}() has no Terraform translation")


def _root(node: Any) -> Any:
    while node[0] in ("prop", "index"):
        node = node[1]
    return node


def _template_raw(parts: list[Any], t: Template | None) -> str:
    """Like _template, but literal parts may already hold ${...} interpolations written here."""
    out = ""
    for p in parts:
        out += p if isinstance(p, str) else "${" + _emit(p, t) + "}"
    return '"' + out + '"'


def _reference(node: Any, t: Template | None) -> str:
    """reference(<id of a declared resource>, ...).identity.principalId -> the azapi identity output."""
    path = []
    while node[0] == "prop":
        path.insert(0, node[2])
        node = node[1]
    target = node[2][0]
    if t is None or target[0] != "call" or target[1] != "resourceId" or path != ["identity", "principalId"]:
        raise ValueError("only reference(resourceId(...)).identity.principalId is translated")
    type_ = next(a[1] for a in target[2] if a[0] == "str" and "/" in a[1])
    sym = next(r.sym for r in t.resources if r.type == type_)
    return f"{address(t, sym)}.identity[0].principal_id"


# ---------------------------------------------------------------------------
# azurerm resources: one renderer per ARM type, reading the model's body (no setting is described here)

AZURERM = {
    "Microsoft.OperationalInsights/workspaces": "azurerm_log_analytics_workspace",
    "Microsoft.Insights/components": "azurerm_application_insights",
    "Microsoft.Storage/storageAccounts": "azurerm_storage_account",
    "Microsoft.KeyVault/vaults": "azurerm_key_vault",
    "Microsoft.ContainerRegistry/registries": "azurerm_container_registry",
    "Microsoft.Network/networkSecurityGroups": "azurerm_network_security_group",
    "Microsoft.Network/virtualNetworks": "azurerm_virtual_network",
    "Microsoft.Network/privateEndpoints": "azurerm_private_endpoint",
    "Microsoft.Network/privateDnsZones": "azurerm_private_dns_zone",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "azurerm_private_dns_zone_virtual_network_link",
    "Microsoft.MachineLearningServices/workspaces": "azurerm_machine_learning_workspace",
    "Microsoft.Authorization/roleAssignments": "azurerm_role_assignment",
    "Microsoft.Consumption/budgets": "azurerm_consumption_budget_resource_group",
}
# A private endpoint's DNS zone group is the `private_dns_zone_group` block of azurerm_private_endpoint.
_NESTED = {"Microsoft.Network/privateEndpoints/privateDnsZoneGroups"}
# Workspace properties azurerm_machine_learning_workspace has no argument for (bring-your-own Cosmos DB,
# storage and search of a CMK workspace): a workspace that sets one is an azapi_resource instead.
_WORKSPACE_AZAPI_ONLY = ("cosmosDbArmId", "storageAccountArmId", "searchAccountArmId")


def _uses_azapi(r: Resource) -> bool:
    if r.type == "Microsoft.MachineLearningServices/workspaces":
        enc = r.body["properties"].get("encryption") or {}
        return any(k in enc for k in _WORKSPACE_AZAPI_ONLY)
    return r.type not in AZURERM and r.type not in _NESTED


def address(t: Template | None, sym: str) -> str:
    """The Terraform address (`<type>.<name>`) of a resource of the model."""
    if t is None:
        raise ValueError(f"no template to find the resource {sym!r} in")
    r = t.resource(sym)
    return f"azapi_resource.{sym}" if _uses_azapi(r) else f"{AZURERM[r.type]}.{sym}"


def _declared_subnet(t: Template, v: Expr) -> str | None:
    """The subnet of a VNet this configuration declares is the resource azurerm_subnet.<vnet>_subnet."""
    if not v.arm.startswith("resourceId('Microsoft.Network/virtualNetworks/subnets'"):
        return None
    vnet = next((d for d in v.deps if any(r.sym == d for r in t.resources)), None)
    return f"azurerm_subnet.{vnet}_subnet" if vnet else None


class _Block:
    """Rows of one HCL block; values are model values rendered by hcl_value."""

    def __init__(self, t: Template, indent: int = 1):
        self.t, self.indent, self.rows = t, indent, []

    def set(self, key: str, value: Any) -> _Block:
        self.rows.append(f"{'  ' * self.indent}{key} = {hcl_value(value, self.indent, self.t)}")
        return self

    def raw(self, key: str, hcl: str) -> _Block:
        self.rows.append(f"{'  ' * self.indent}{key} = {hcl}")
        return self

    def block(self, name: str, fill: Any) -> _Block:
        inner = _Block(self.t, self.indent + 1)
        fill(inner)
        pad = "  " * self.indent
        self.rows += [f"{pad}{name} {{", *inner.rows, f"{pad}}}"]
        return self


def _enabled(value: Any) -> bool:
    """The model's "Enabled"/"Disabled" literal as azurerm's boolean."""
    return value == "Enabled"


def _common(b: _Block, r: Resource, location: bool = True) -> None:
    b.set("name", r.name)
    b.raw("resource_group_name", "var.resourceGroupName")
    if location and "location" in r.body:
        b.set("location", r.body["location"])


def _tags(b: _Block, r: Resource) -> None:
    if "tags" in r.body:
        b.set("tags", r.body["tags"])


def _log_analytics(b: _Block, r: Resource, t: Template) -> None:
    p = r.body["properties"]
    _common(b, r)
    b.set("sku", p["sku"]["name"]).set("retention_in_days", p["retentionInDays"])
    _tags(b, r)


def _app_insights(b: _Block, r: Resource, t: Template) -> None:
    p = r.body["properties"]
    _common(b, r)
    b.set("application_type", p["Application_Type"]).set("workspace_id", p["WorkspaceResourceId"])
    _tags(b, r)


def _acl_block(acls: dict[str, Any], bypass_list: bool) -> Any:
    """networkAcls as azurerm's block (storage takes a list of bypasses, Key Vault one)."""
    def fill(n: _Block) -> None:
        n.set("default_action", acls["defaultAction"])
        n.set("bypass", [acls["bypass"]] if bypass_list else acls["bypass"])
        n.set("virtual_network_subnet_ids", [x["id"] for x in acls.get("virtualNetworkRules", [])])
        n.set("ip_rules", list(acls.get("ipRules", [])))
    return fill


def _storage(b: _Block, r: Resource, t: Template) -> None:
    p = r.body["properties"]
    sku = hcl_value(r.body["sku"]["name"], 1, t)  # Standard_LRS -> tier Standard, replication LRS
    _common(b, r)
    b.raw("account_tier", f'split("_", {sku})[0]').raw("account_replication_type", f'split("_", {sku})[1]')
    b.set("account_kind", r.body["kind"]).set("access_tier", p["accessTier"])
    b.set("min_tls_version", p["minimumTlsVersion"]).set("https_traffic_only_enabled", p["supportsHttpsTrafficOnly"])
    b.set("allow_nested_items_to_be_public", p["allowBlobPublicAccess"])
    b.set("cross_tenant_replication_enabled", p["allowCrossTenantReplication"])
    b.set("public_network_access_enabled", _enabled(p["publicNetworkAccess"]))
    b.set("shared_access_key_enabled", True)  # Azure ML's default datastores use the key (CKV2_AZURE_40 below)
    b.block("network_rules", _acl_block(p["networkAcls"], True))
    # Terraform-side hardening the ARM/Bicep checks do not ask for: deleted blobs and containers stay
    # recoverable for a week, and SAS tokens longer than a week are logged.
    b.block("blob_properties", lambda n: n.block("delete_retention_policy", lambda x: x.set("days", 7)).block(
        "container_delete_retention_policy", lambda x: x.set("days", 7)))
    b.block("sas_policy", lambda n: n.set("expiration_period", "07.00:00:00").set("expiration_action", "Log"))
    _tags(b, r)


def _key_vault(b: _Block, r: Resource, t: Template) -> None:
    p = r.body["properties"]
    _common(b, r)
    b.set("tenant_id", p["tenantId"]).set("sku_name", p["sku"]["name"])
    b.set("enable_rbac_authorization", p["enableRbacAuthorization"])
    b.set("soft_delete_retention_days", p["softDeleteRetentionInDays"])
    b.set("purge_protection_enabled", p["enablePurgeProtection"])
    b.set("public_network_access_enabled", _enabled(p["publicNetworkAccess"]))
    b.block("network_acls", _acl_block(p["networkAcls"], False))
    _tags(b, r)


def _registry(b: _Block, r: Resource, t: Template) -> None:
    p = r.body["properties"]
    _common(b, r)
    b.set("sku", r.body["sku"]["name"]).set("admin_enabled", p["adminUserEnabled"])
    b.set("public_network_access_enabled", _enabled(p["publicNetworkAccess"]))
    b.set("network_rule_bypass_option", p["networkRuleBypassOptions"])
    if "networkRuleSet" in p:
        b.block("network_rule_set", lambda n: n.set("default_action", p["networkRuleSet"]["defaultAction"]))
    _tags(b, r)


def _nsg(b: _Block, r: Resource, t: Template) -> None:
    _common(b, r)
    _tags(b, r)


def _vnet(b: _Block, r: Resource, t: Template) -> None:
    _common(b, r)
    b.set("address_space", r.body["properties"]["addressSpace"]["addressPrefixes"])
    _tags(b, r)


def _subnet_blocks(t: Template, r: Resource) -> str:
    """The VNet's subnet (azurerm_subnet) and its NSG association, from the VNet's `subnets` list."""
    (subnet,) = r.body["properties"]["subnets"]
    p = subnet["properties"]
    b = _Block(t)
    b.set("name", subnet["name"]).raw("resource_group_name", "var.resourceGroupName")
    b.raw("virtual_network_name", f"{address(t, r.sym)}.name").set("address_prefixes", [p["addressPrefix"]])
    b.set("service_endpoints", [s["service"] for s in p["serviceEndpoints"]])
    b.set("private_endpoint_network_policies", p["privateEndpointNetworkPolicies"])
    b.set("private_link_service_network_policies_enabled", _enabled(p["privateLinkServiceNetworkPolicies"]))
    sym = f"{r.sym}_subnet"
    assoc = _Block(t).raw("subnet_id", f"azurerm_subnet.{sym}.id")
    assoc.set("network_security_group_id", p["networkSecurityGroup"]["id"])
    return (f'resource "azurerm_subnet" "{sym}" {{\n' + "\n".join(b.rows) + "\n}\n\n"
            f'resource "azurerm_subnet_network_security_group_association" "{sym}" {{\n'
            + "\n".join(assoc.rows) + "\n}\n")


def _private_endpoint(b: _Block, r: Resource, t: Template) -> None:
    p = r.body["properties"]
    manual = "manualPrivateLinkServiceConnections" in p
    (conn,) = p["manualPrivateLinkServiceConnections" if manual else "privateLinkServiceConnections"]
    cp = conn["properties"]
    _common(b, r)
    b.set("subnet_id", p["subnet"]["id"])

    def connection(n: _Block) -> None:
        n.set("name", conn["name"]).set("private_connection_resource_id", cp["privateLinkServiceId"])
        n.set("subresource_names", cp["groupIds"]).set("is_manual_connection", manual)
        if "requestMessage" in cp:
            n.set("request_message", cp["requestMessage"])
    b.block("private_service_connection", connection)
    for g in (x for x in t.resources if x.parent == r.sym and x.type in _NESTED):
        configs = g.body["properties"]["privateDnsZoneConfigs"]
        b.block("private_dns_zone_group", lambda n, g=g, c=configs: n.set("name", g.name).set(
            "private_dns_zone_ids", [x["properties"]["privateDnsZoneId"] for x in c]))
    _tags(b, r)


def _dns_zone(b: _Block, r: Resource, t: Template) -> None:
    _common(b, r, location=False)
    _tags(b, r)


def _dns_link(b: _Block, r: Resource, t: Template) -> None:
    p = r.body["properties"]
    _common(b, r, location=False)
    b.raw("private_dns_zone_name", f"{address(t, r.parent or '')}.name")
    b.set("virtual_network_id", p["virtualNetwork"]["id"]).set("registration_enabled", p["registrationEnabled"])
    _tags(b, r)


def _workspace(b: _Block, r: Resource, t: Template) -> None:
    p = r.body["properties"]
    _common(b, r)
    b.set("friendly_name", p["friendlyName"]).set("description", p["description"])
    b.set("application_insights_id", p["applicationInsights"]).set("key_vault_id", p["keyVault"])
    b.set("storage_account_id", p["storageAccount"])
    if "containerRegistry" in p:
        b.set("container_registry_id", p["containerRegistry"])
    b.set("sku_name", r.body["sku"]["name"]).set("high_business_impact", p["hbiWorkspace"])
    b.set("public_network_access_enabled", _enabled(p["publicNetworkAccess"]))
    b.set("v1_legacy_mode_enabled", p["v1LegacyMode"])
    if "primaryUserAssignedIdentity" in p:
        b.set("primary_user_assigned_identity", p["primaryUserAssignedIdentity"])
    identity = r.body["identity"]

    def ident(n: _Block) -> None:
        n.set("type", str(identity["type"]).replace(",", ", "))
        if identity.get("userAssignedIdentities"):
            n.set("identity_ids", list(identity["userAssignedIdentities"]))
    b.block("identity", ident)
    b.block("managed_network", lambda n: n.set("isolation_mode", p["managedNetwork"]["isolationMode"]))
    enc = p.get("encryption")
    if enc:
        def encryption(n: _Block) -> None:
            n.set("key_vault_id", enc["keyVaultProperties"]["keyVaultArmId"])
            n.set("key_id", enc["keyVaultProperties"]["keyIdentifier"])
            if "identity" in enc:
                n.set("user_assigned_identity_id", enc["identity"]["userAssignedIdentity"])
        b.block("encryption", encryption)
    _tags(b, r)


def _role_assignment(b: _Block, r: Resource, t: Template) -> None:
    p = r.body["properties"]
    b.set("name", r.name).set("scope", r.body["scope"]).set("role_definition_id", p["roleDefinitionId"])
    b.set("principal_id", p["principalId"]).set("principal_type", p["principalType"])


def _budget(b: _Block, r: Resource, t: Template) -> None:
    p = r.body["properties"]
    b.set("name", r.name).raw("resource_group_id", "local.resource_group_id")
    b.set("amount", p["amount"]).set("time_grain", p["timeGrain"])
    start = p["timePeriod"]["startDate"]
    start_hcl = arm_to_hcl(start.arm, t) if isinstance(start, Expr) else hcl_string(start)
    b.block("time_period", lambda n: n.raw("start_date", f'"${{{start_hcl}}}T00:00:00Z"'))
    notes = p["notifications"]
    if isinstance(notes, Expr):  # one object per environment (thresholds differ): a dynamic block
        def dynamic(n: _Block) -> None:
            n.raw("for_each", arm_to_hcl(notes.arm, t))
            n.block("content", lambda c: [c.raw(k, f"notification.value.{a}") for k, a in _NOTIFICATION])
        b.block('dynamic "notification"', dynamic)
        return
    for note in notes.values():
        b.block("notification", lambda n, x=note: [n.set(k, x[a]) for k, a in _NOTIFICATION])


_NOTIFICATION = (("enabled", "enabled"), ("threshold", "threshold"), ("operator", "operator"),
                 ("threshold_type", "thresholdType"), ("contact_emails", "contactEmails"),
                 ("contact_roles", "contactRoles"))

_RENDER = {
    "Microsoft.OperationalInsights/workspaces": _log_analytics,
    "Microsoft.Insights/components": _app_insights,
    "Microsoft.Storage/storageAccounts": _storage,
    "Microsoft.KeyVault/vaults": _key_vault,
    "Microsoft.ContainerRegistry/registries": _registry,
    "Microsoft.Network/networkSecurityGroups": _nsg,
    "Microsoft.Network/virtualNetworks": _vnet,
    "Microsoft.Network/privateEndpoints": _private_endpoint,
    "Microsoft.Network/privateDnsZones": _dns_zone,
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": _dns_link,
    "Microsoft.MachineLearningServices/workspaces": _workspace,
    "Microsoft.Authorization/roleAssignments": _role_assignment,
    "Microsoft.Consumption/budgets": _budget,
}

# checkov judges some choices of the model under another id in Terraform than in ARM/Bicep: the model's
# reason for the ARM check is the reason for its Terraform twin.
TWIN_CHECKS = {"CKV2_AZURE_49": "CKV_AZURE_144",  # workspace public network access
               "CKV_AZURE_59": "CKV2_AZURE_33",  # storage without a private endpoint
               "CKV_AZURE_189": "CKV2_AZURE_32"}  # Key Vault without a private endpoint


# Findings accepted whatever the design says (facts of Azure ML, not choices of the user).
FIXED_REASONS = {
    "CKV_AZURE_33": "Azure ML uses this account's blob and file services only; the queue service holds no data, "
                    "so classic Storage Analytics logging of queue requests records nothing",
    "CKV_AZURE_164": "Azure ML builds and pulls the environment images itself and does not sign them, so a "
                     "content-trust policy would refuse every image it builds",
}


def terraform_skips(t: Template, r: Resource) -> list[tuple[str, str]]:
    """The model's suppressions, their Terraform twins, and the checks only checkov's Terraform rules make
    (properties the ARM/Bicep checks do not inspect), each with the reason the design accepts the finding."""
    skips = list(r.skips)
    skips += [(TWIN_CHECKS[c], why) for c, why in r.skips if c in TWIN_CHECKS]
    version = t.metadata.get("design_version")
    if r.type == "Microsoft.Storage/storageAccounts":
        skips += [
            ("CKV_AZURE_33", FIXED_REASONS["CKV_AZURE_33"]),
            ("CKV2_AZURE_40", "Azure ML's default datastores (workspaceblobstore, workspacefilestore) and the "
                              "notebooks file share authenticate with the account key unless the workspace uses "
                              "identity-based datastore access, which is not set in the design (design version "
                              f"{version})"),
            ("CKV2_AZURE_1", f"a customer-managed key for the default storage account is not set in the design "
                             f"(design version {version}; its encryption settings apply to the workspace): the "
                             f"model encrypts the account with Microsoft-managed keys (keySource "
                             f"{r.body['properties']['encryption']['keySource']}), as the ARM and Bicep templates do"),
        ]
    if r.type == "Microsoft.ContainerRegistry/registries":
        sku = t.parameters["containerRegistrySku"].default
        premium = (f"container_registry_sku is {sku} in the design (design version {version})")
        skips += [
            ("CKV_AZURE_164", FIXED_REASONS["CKV_AZURE_164"]),
            ("CKV_AZURE_165", "one region per environment in the design: the registry sits in the workspace's "
                              "region and serves only that workspace, so there is no second region to replicate "
                              "to"),
            ("CKV_AZURE_167", f"{premium}: the retention policy for untagged manifests is a Premium-only feature "
                              f"the design does not set (nor do the ARM and Bicep templates)"),
            ("CKV_AZURE_233", f"{premium}: zone redundancy is a Premium-only feature, fixed at creation and not "
                              f"offered in every region; the design does not set it"),
            ("CKV_AZURE_237", f"{premium}: dedicated data endpoints are a Premium-only feature used with "
                              f"client firewall rules; the design does not set it"),
        ]
    return skips


def one_line(text: Any) -> str:
    """Text for a `#` comment: line breaks (any Unicode one) folded, so nothing leaves the comment."""
    return " ".join(str(text).split())


def _azurerm_block(t: Template, r: Resource) -> str:
    rows = [f"# {one_line(r.comment)}"] if r.comment else []
    rows.append(f'resource "{AZURERM[r.type]}" "{r.sym}" {{')
    for check, why in terraform_skips(t, r):
        rows.append(f"  #checkov:skip={check}:{one_line(why)}")
    if r.condition is not None:
        rows.append(f"  count = {arm_to_hcl(r.condition.arm, t)} ? 1 : 0")
    b = _Block(t)
    _RENDER[r.type](b, r, t)
    text = "\n".join(rows + b.rows) + "\n}\n"
    if r.type == "Microsoft.Network/virtualNetworks":
        text += "\n" + _subnet_blocks(t, r)
    return text


def main_tf(t: Template) -> str:
    declared = {r.sym for r in t.resources}
    blocks = []
    for r in t.resources:
        if r.type in _NESTED:
            continue
        if _uses_azapi(r):
            blocks.append("# azurerm_machine_learning_workspace has no argument for the bring-your-own Cosmos DB, "
                          "storage and search\n# accounts of a CMK workspace (encryption.cosmosDbArmId, "
                          "storageAccountArmId, searchAccountArmId): azapi.\n" + _resource_block(t, r, declared))
        else:
            blocks.append(_azurerm_block(t, r))
    head = "# Generated by mlops_accelerator (stage 2): the resources of the solution design (azurerm).\n\n"
    return head + "\n".join(blocks)


# azapi fallback: the model's type, API version and body as they are (the ARM request)


def _identity_block(v: dict[str, Any], t: Template) -> list[str]:
    type_ = str(v["type"]).replace(",", ", ")
    rows = ["  identity {", f"    type = {hcl_string(type_)}"]
    ids = list((v.get("userAssignedIdentities") or {}).keys())
    if ids:
        rows.append(f"    identity_ids = [{', '.join(arm_to_hcl(i.arm, t) for i in ids)}]")
    return rows + ["  }"]


def _resource_block(t: Template, r: Resource, declared: set[str]) -> str:
    rows = [f"# {one_line(r.comment)}"] if r.comment else []
    rows.append(f'resource "azapi_resource" "{r.sym}" {{')
    for check, why in r.skips:
        rows.append(f"  #checkov:skip={check}:{one_line(why)}")
    if r.condition is not None:
        rows.append(f"  count     = {arm_to_hcl(r.condition.arm, t)} ? 1 : 0")
    rows.append(f'  type      = "{r.type}@{r.api}"')
    rows.append(f"  name      = {hcl_value(r.name, 1, t)}")
    scope = r.body.get("scope")
    if isinstance(scope, Ref):
        parent = f"{address(t, scope.sym)}.id"
    elif r.parent:
        parent = f"{address(t, r.parent)}.id"
    else:
        parent = "local.resource_group_id"
    rows.append(f"  parent_id = {parent}")
    if "location" in r.body:
        rows.append(f"  location  = {hcl_value(r.body['location'], 1, t)}")
    if "tags" in r.body:
        rows.append(f"  tags      = {hcl_value(r.body['tags'], 1, t)}")
    if "identity" in r.body:
        rows += _identity_block(r.body["identity"], t)
    body = {k: v for k, v in r.body.items() if k not in (*_TOP_LEVEL, "scope")}
    rows.append(f"  body = {hcl_value(body, 1, t)}")
    if "identity" in r.body:
        rows.append('  response_export_values = ["identity"]')
    deps = (_deps(r.body, set()) | ({r.parent} if r.parent else set())
            | (set(r.name.deps) if isinstance(r.name, Expr) else set()))
    deps = sorted((deps & declared) - {r.sym}, key=[x.sym for x in t.resources].index)
    if deps:
        rows.append(f"  depends_on = [{', '.join(address(t, d) for d in deps)}]")
    rows.append("}")
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------------------
# Files


def _tf_type(p_type: str) -> str:
    return {"string": "string", "int": "number", "bool": "bool"}.get(p_type, "any")


def variables_tf(t: Template) -> str:
    blocks = ['variable "resourceGroupName" {\n  type        = string\n'
              '  description = "Resource group every resource is deployed into (created by the pipeline)."\n}\n']
    for name, p in t.parameters.items():
        rows = [f"  type        = {_tf_type(p.type)}", f"  description = {hcl_string(p.description)}"]
        if p.default is not None and not isinstance(p.default, Expr):
            rows.append(f"  default     = {hcl_value(p.default, 1, t)}")
        if p.allowed:
            allowed_msg = hcl_string(f"{name} must be one of " + ", ".join(map(str, p.allowed)))
            rows.append("  validation {\n"
                        f"    condition     = contains({hcl_value(list(p.allowed), 2, t)}, var.{name})\n"
                        f"    error_message = {allowed_msg}\n"
                        "  }")
        if p.min_length is not None and p.max_length is not None:
            length_msg = hcl_string(f"{name} must be {p.min_length}-{p.max_length} characters")
            rows.append("  validation {\n"
                        f"    condition     = length(var.{name}) >= {p.min_length} && length(var.{name}) <= "
                        f"{p.max_length}\n"
                        f"    error_message = {length_msg}\n"
                        "  }")
        blocks.append(f'variable "{name}" {{\n' + "\n".join(rows) + "\n}\n")
    return "# Generated by mlops_accelerator (stage 2): one variable per template parameter.\n\n" + "\n".join(blocks)


def versions_tf(t: Template) -> str:
    azapi = any(_uses_azapi(r) for r in t.resources)
    azapi_req = (f'    azapi = {{\n      source  = "Azure/azapi"\n      version = "{AZAPI_VERSION}"\n    }}\n'
                 if azapi else "")
    return f"""# Generated by mlops_accelerator (stage 2, Design and Provision Infrastructure).
# Project {one_line(t.metadata['project'])}, design version {one_line(t.metadata['design_version'])}.
# State: the azurerm backend, configured per environment by backend.<env>.hcl
#   terraform init -backend-config=backend.<env>.hcl && terraform plan -var-file=<env>.tfvars
# The azurerm provider reads the subscription from ARM_SUBSCRIPTION_ID (set by the pipeline's login).
terraform {{
  required_version = ">= 1.5.0"
  required_providers {{
    azurerm = {{
      source  = "hashicorp/azurerm"
      version = "{AZURERM_VERSION}"
    }}
{azapi_req}  }}
  backend "azurerm" {{}}
}}

provider "azurerm" {{
  features {{}}
  storage_use_azuread = true
}}
{'''
provider "azapi" {}
''' if azapi else ""}
data "azurerm_client_config" "current" {{}}

locals {{
  subscription_id   = data.azurerm_client_config.current.subscription_id
  resource_group_id = "/subscriptions/${{local.subscription_id}}/resourceGroups/${{var.resourceGroupName}}"
}}
"""


def outputs_tf(t: Template) -> str:
    blocks = [f'output "{name}" {{\n  value = {hcl_value(v, 1, t)}\n}}\n' for name, (_typ, v) in t.outputs.items()]
    return "# Generated by mlops_accelerator (stage 2).\n\n" + "\n".join(blocks)


def env_values(t: Template, design: Any, env: str, today: Any = None) -> dict[str, Any]:
    """Every variable's value for one environment: the parameter file's values plus the ones ARM
    would compute from the resource group (Terraform has no deployment context)."""
    e = next(x for x in design.environments if x.name == env)
    values: dict[str, Any] = {"resourceGroupName": e.resource_group}
    context = {"resourceGroup().name": e.resource_group, "resourceGroup().location": e.region,
               "utcNow('yyyy-MM-01')": _first_of_month(today)}
    for name, p in t.parameters.items():
        if name in t.env_values[env]:
            values[name] = t.env_values[env][name]
        elif isinstance(p.default, Expr):
            values[name] = context[p.default.arm]
    return values


def tfvars(t: Template, design: Any, env: str, today: Any = None) -> str:
    rows = [f"# Values of the '{one_line(env)}' environment (generated by mlops_accelerator)."]
    for k, v in env_values(t, design, env, today).items():
        rows.append(f"{k} = {hcl_value(v, 0, t)}")
    return "\n".join(rows) + "\n"


def backend_hcl(project: str, design: Any, env: str) -> str:
    e = next(x for x in design.environments if x.name == env)
    account = state_storage_account(project, env)
    return "\n".join([
        f"# Terraform state of the '{one_line(env)}' environment. Create the account once before the first run:",
        f"#   az storage account create -g {one_line(e.resource_group)} -n {account} --sku Standard_GRS "
        "--min-tls-version TLS1_2 --allow-blob-public-access false",
        f"#   az storage container create --account-name {account} -n tfstate --auth-mode login",
        f"resource_group_name  = {hcl_string(e.resource_group)}",
        f"storage_account_name = {hcl_string(account)}",
        'container_name       = "tfstate"',
        f"key                  = {hcl_string(f'{project}-{env}.tfstate')}",
        "use_azuread_auth     = true",
        "use_oidc             = true",
    ]) + "\n"


def write_terraform(t: Template, design: Any, folder: str | Path, project: str, *, today: Any = None) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {"versions.tf": versions_tf(t), "variables.tf": variables_tf(t), "main.tf": main_tf(t),
             "outputs.tf": outputs_tf(t)}
    for env in t.env_values:
        texts[tfvars_name(env)] = tfvars(t, design, env, today)
        texts[backend_name(env)] = backend_hcl(project, design, env)
    written = []
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return written
