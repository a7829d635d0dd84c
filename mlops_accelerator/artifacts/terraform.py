"""Stage 2 infrastructure as Terraform, rendered from the same model as the ARM template and Bicep.

Every resource of `iac.build(design)` becomes an `azapi_resource` with the model's type, API version
and body, so the Terraform deploys exactly what the ARM template and Bicep file describe (the azapi
provider speaks the ARM REST API; azurerm has no attribute for several properties the design sets,
such as the workspace's managed network and CMK identity). The model's ARM expressions are
translated to HCL by a small parser below, so no expression is written twice.

    terraform/versions.tf      providers, the azurerm state backend (settings in backend.<env>.hcl)
    terraform/variables.tf     one variable per template parameter, with its allowed values/lengths
    terraform/main.tf          the resources
    terraform/outputs.tf       the same outputs as the ARM template
    terraform/<env>.tfvars     the environment's values (as azuredeploy.parameters.<env>.json)
    terraform/backend.<env>.hcl  where the environment's state lives (remote state, Entra ID auth)

`terraform validate` needs the providers from registry.terraform.io, which is unreachable here:
the tests parse every file with python-hcl2 and scan it with checkov instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .iac import Expr, Ref, Resource, Template, _deps, _first_of_month

FIXED_FILES = ("versions.tf", "variables.tf", "main.tf", "outputs.tf")
AZAPI_VERSION = "~> 2.0"
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
    if isinstance(v, Expr):
        return arm_to_hcl(v.arm, t)
    if isinstance(v, Ref):
        return f"azapi_resource.{v.sym}.id"
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
            return {"tenantId": "data.azapi_client_config.current.tenant_id",
                    "subscriptionId": "data.azapi_client_config.current.subscription_id"}[node[2]]
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
        sub = "${data.azapi_client_config.current.subscription_id}"
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
    return f"azapi_resource.{sym}.identity[0].principal_id"


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
    return f"""# Generated by mlops_accelerator (stage 2, Design and Provision Infrastructure).
# Project {t.metadata['project']}, design version {t.metadata['design_version']}.
# State: the azurerm backend, configured per environment by backend.<env>.hcl
#   terraform init -backend-config=backend.<env>.hcl && terraform plan -var-file=<env>.tfvars
terraform {{
  required_version = ">= 1.5.0"
  required_providers {{
    azapi = {{
      source  = "Azure/azapi"
      version = "{AZAPI_VERSION}"
    }}
  }}
  backend "azurerm" {{}}
}}

provider "azapi" {{}}

data "azapi_client_config" "current" {{}}

locals {{
  subscription_id   = data.azapi_client_config.current.subscription_id
  resource_group_id = "/subscriptions/${{local.subscription_id}}/resourceGroups/${{var.resourceGroupName}}"
}}
"""


def _identity_block(v: dict[str, Any], t: Template) -> list[str]:
    type_ = str(v["type"]).replace(",", ", ")
    rows = ["  identity {", f"    type = {hcl_string(type_)}"]
    ids = list((v.get("userAssignedIdentities") or {}).keys())
    if ids:
        rows.append(f"    identity_ids = [{', '.join(arm_to_hcl(i.arm, t) for i in ids)}]")
    return rows + ["  }"]


def _resource_block(t: Template, r: Resource, declared: set[str]) -> str:
    rows = [f"# {r.comment}"] if r.comment else []
    rows.append(f'resource "azapi_resource" "{r.sym}" {{')
    for check, why in r.skips:
        rows.append(f"  #checkov:skip={check}:{why}")
    if r.condition is not None:
        rows.append(f"  count     = {arm_to_hcl(r.condition.arm, t)} ? 1 : 0")
    rows.append(f'  type      = "{r.type}@{r.api}"')
    rows.append(f"  name      = {hcl_value(r.name, 1, t)}")
    scope = r.body.get("scope")
    if isinstance(scope, Ref):
        parent = f"azapi_resource.{scope.sym}.id"
    elif r.parent:
        parent = f"azapi_resource.{r.parent}.id"
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
        rows.append(f"  depends_on = [{', '.join(f'azapi_resource.{d}' for d in deps)}]")
    rows.append("}")
    return "\n".join(rows) + "\n"


def main_tf(t: Template) -> str:
    declared = {r.sym for r in t.resources}
    head = "# Generated by mlops_accelerator (stage 2): the resources of the solution design (azapi).\n\n"
    return head + "\n".join(_resource_block(t, r, declared) for r in t.resources)


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
    rows = [f"# Values of the '{env}' environment (generated by mlops_accelerator)."]
    for k, v in env_values(t, design, env, today).items():
        rows.append(f"{k} = {hcl_value(v, 0, t)}")
    return "\n".join(rows) + "\n"


def backend_hcl(project: str, design: Any, env: str) -> str:
    e = next(x for x in design.environments if x.name == env)
    account = state_storage_account(project, env)
    return "\n".join([
        f"# Terraform state of the '{env}' environment. Create the account once before the first run:",
        f"#   az storage account create -g {e.resource_group} -n {account} --sku Standard_GRS "
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
