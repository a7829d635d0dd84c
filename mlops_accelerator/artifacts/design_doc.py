"""Stage 2 solution design document (Markdown and HTML) and technology decision records.

The document assembles every stage-2 decision, group by group (digest tables 3a-3h), each
with its rationale: the setting's help text from the schema plus, for the main choices,
what the chosen option means (paraphrased from the source accelerator, digest §3). It adds
the environment and network layout, the RBAC matrix, the infrastructure the IaC deploys,
the cost estimate and budgets, the Well-Architected review, the risks and open items, and
the approval log. It is built as a list of blocks rendered twice, so the Markdown and the
HTML always say the same thing.

    doc = solution_design(design, foundations)    # Document(markdown, html, data)
    records = decision_records(design)            # markdown, one record per technology choice
"""

from __future__ import annotations

import datetime as dt
import html
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..roles import ROLES_BY_ID
from ..settings.design import WAF_ITEMS, Settings, resource_names

# ---------------------------------------------------------------------------
# Rationale

GROUPS: list[tuple[str, str, str, list[str]]] = [
    # (id, title, digest table, task ids)
    ("topology", "Workspace, environment and region topology", "3a", ["S2.T3"]),
    ("technology", "Technology choices", "3b", ["S2.T2"]),
    ("identity", "Identity, authentication and access control", "3c", ["S2.T4"]),
    ("network", "Network isolation", "3d", ["S2.T5"]),
    ("protection", "Data protection and governance", "3e", ["S2.T6"]),
    ("cost", "Cost control", "3f", ["S2.T7"]),
    ("waf", "Well-Architected review", "3g", ["S2.T8"]),
    ("approval", "Approval", "3h", ["S2.T9"]),
]

# What a chosen option means (source accelerator, digest §3; V2 notes where the source is outdated).
CHOICE_NOTES: dict[tuple[str, str], str] = {
    ("workspace_pattern", "per_team"): "Everyone in the team shares data access and assets; fewer resources and "
    "cost per team, but weak segregation inside the workspace.",
    ("workspace_pattern", "per_project"): "Data and assets are segregated per project and cost is reported per "
    "project; external collaborators can join one project; discovery and reuse across projects is harder.",
    ("workspace_pattern", "single_shared"): "Smallest footprint, suited to non-project and R&D work; gets "
    "cluttered as projects grow.",
    ("workspace_pattern", "combination"): "Mixes the patterns (e.g. a shared exploration workspace plus one per "
    "project); needs clear rules on what lives where.",
    ("environment_topology", "single"): "One workspace: small footprint but the same RBAC for development and "
    "production and risky write access to production datastores.",
    ("environment_topology", "two_limited_vs_prod_data"): "One environment with limited data and one with "
    "production data: clear separation with little overhead.",
    ("environment_topology", "multi"): "One workspace per environment: staged rollout, tighter access downstream "
    "and training on production data outside development, at the price of more process and DevOps skill.",
    ("region_strategy", "single_region"): "Everything in one region: no cross-region data movement, simplest "
    "quota management.",
    ("region_strategy", "regional_training"): "A workspace per data region for compliance; comparisons and quota "
    "get harder.",
    ("region_strategy", "regional_serving"): "Train centrally, serve near the users; batch scoring may need extra "
    "workspaces.",
    ("region_strategy", "regional_fine_tuning"): "Base model trained centrally, fine-tuned in a restricted region.",
    ("resource_group_strategy", "per_solution_per_env"): "One resource group per solution and environment keeps "
    "cost reporting and RBAC scopes clean (the Contoso reference).",
    ("implementation_approach", "code"): "Everything is exportable as YAML/JSON and deployed by pipelines: "
    "reviewable, repeatable and testable.",
    ("implementation_approach", "no_code"): "Designer, Logic Apps and Data Factory data flows: quick to start but "
    "limited by those services and hard to promote between environments.",
    ("implementation_approach", "mixed"): "Code for what is promoted between environments, low-code where "
    "business users contribute.",
    ("orchestrator", "azure_devops"): "Triggered by code changes; the only option with (limited) manual approvals; "
    "can call and wait on an Azure ML pipeline.",
    ("orchestrator", "github_actions"): "Triggered by code changes; environments with required reviewers gate "
    "deployments; signs in with OIDC federated credentials.",
    ("orchestrator", "aml_pipelines"): "Schedules itself (recurrence); the unit of training and batch work.",
    ("orchestrator", "azure_data_factory"): "Data- or schedule-triggered (tumbling windows, blob events); can run "
    "Azure ML pipelines.",
    ("orchestrator", "logic_apps"): "Event-driven with many connectors; no native Azure ML pipeline integration.",
    ("data_transfer", "adf_copy_activity"): "GB to TB from many sources and sinks.",
    ("data_transfer", "aml_data_import"): "Smaller pulls from fewer connectors, inside Azure ML.",
    ("data_compute", "aml_compute"): "Scales out many jobs with managed environments; no distributed data "
    "partitioning.",
    ("data_compute", "databricks"): "Spark: faster on big data but pricier, and you manage the environments.",
    ("experiment_tracking", "aml_experiments_mlflow"): "Runs, metrics and artifacts logged with MLflow into the "
    "workspace.",
    ("model_registry", "aml_model_registry"): "Per-workspace registry: models are copied between dev, test and "
    "prod workspaces by the pipelines.",
    ("model_registry", "aml_registry"): "An Azure ML registry shares models, environments and components across "
    "the environments' workspaces.",
    ("training_platform", "aml_pipelines"): "Training runs as Azure ML pipeline jobs built from components.",
    ("inference_mode", "realtime"): "Predictions served on request by an online endpoint.",
    ("inference_mode", "batch"): "Predictions computed in bulk by batch endpoints or pipelines.",
    ("inference_mode", "both"): "Online endpoints for requests plus batch scoring.",
    ("inference_mode", "edge"): "Models run on devices; see the edge assessment.",
    ("realtime_target", "managed_online_endpoint"): "Microsoft-managed scoring infrastructure (replaces ACI); "
    "blue/green traffic split and mirroring.",
    ("realtime_target", "kubernetes_online_endpoint"): "Your AKS or Arc-enabled cluster with the Azure ML "
    "extension (replaces AKS web services).",
    ("workspace_identity_type", "systemAssigned"): "Azure manages the identity's lifecycle with the workspace.",
    ("automation_auth", "oidc_federated_credential"): "Pipelines sign in with short-lived federated tokens: no "
    "secret to store or leak.",
    ("automation_auth", "service_principal"): "A client secret or certificate must be stored and rotated.",
    ("endpoint_auth_mode", "aml_token"): "Tokens expire and are issued to signed-in identities.",
    ("endpoint_auth_mode", "key"): "Static keys: rotate them and keep them in Key Vault.",
    ("private_endpoint_type", "AutoApproval"): "The workspace is reached over Private Link; the connection is "
    "approved automatically because the same team owns both sides.",
    ("private_endpoint_type", "ManualApproval"): "The resource owner approves the Private Link connection.",
    ("private_endpoint_type", "none"): "No Private Link: acceptable only for a sandbox.",
    ("client_access_path", "bastion_jumphost"): "People reach the private workspace from a jump host behind "
    "Azure Bastion: good for a proof of concept, replace with VPN or ExpressRoute for daily use.",
    ("client_access_path", "vpn_gateway"): "Point-to-site or site-to-site VPN into the VNet.",
    ("client_access_path", "expressroute"): "Private connectivity from the corporate network.",
    ("production_data_policy", "masked_replica_in_dev"): "Development works on a masked replica: realistic "
    "without exposing personal data.",
    ("vm_priority_strategy", "both"): "Dedicated clusters for production jobs, low-priority clusters for "
    "experiments.",
    ("container_registry_sku", "Premium"): "Needed for Private Link and geo-replication.",
    ("container_registry_sku", "Standard"): "Enough throughput for Azure ML images; no Private Link.",
    ("container_registry_sku", "Basic"): "Not recommended: throughput and storage too low for Azure ML images.",
}


def _options(name: str) -> list[str]:
    ann = Settings.model_fields[name].annotation
    for _ in range(3):
        args = typing.get_args(ann)
        if typing.get_origin(ann) is typing.Literal:
            return [str(a) for a in args]
        if not args:
            return []
        ann = next((a for a in args if a is not type(None)), args[0])
    return []


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v is None or v == "" or v == []:
        return "-"
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)


def rationale(design: Settings, name: str) -> str:
    help_text = Settings.model_fields[name].description or ""
    value = getattr(design, name)
    values = value if isinstance(value, list) else [value]
    notes = [CHOICE_NOTES[(name, str(v))] for v in values if (name, str(v)) in CHOICE_NOTES]
    if notes and help_text[:40] in " ".join(notes):
        help_text = ""
    return " ".join([*notes, help_text]).strip()


def _fields_of(task: str) -> list[str]:
    return [n for n, f in Settings.model_fields.items()
            if (f.json_schema_extra or {}).get("task") == task]  # type: ignore[union-attr]


# ---------------------------------------------------------------------------
# Blocks: one structure, rendered as Markdown and as HTML


@dataclass
class Block:
    kind: str  # h, p, table, list, code, note
    text: str = ""
    level: int = 2
    headers: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    lang: str = ""


def _cell(v: Any) -> str:
    return str(v if v is not None else "").replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if b.kind == "h":
            out += ["#" * b.level + " " + b.text, ""]
        elif b.kind == "p":
            out += [b.text, ""]
        elif b.kind == "note":
            out += ["> " + b.text, ""]
        elif b.kind == "list":
            out += [f"- {i}" for i in b.items] + [""]
        elif b.kind == "code":
            out += [f"```{b.lang}", b.text.rstrip("\n"), "```", ""]
        elif b.kind == "table":
            out.append("| " + " | ".join(_cell(h) for h in b.headers) + " |")
            out.append("|" + "---|" * len(b.headers))
            out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b.rows]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _inline(text: str) -> str:
    s = html.escape(str(text), quote=False)
    s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
    s = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)
    s = re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"<em>\1</em>", s)
    return s


_CSS = """body{font-family:Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1b1b1b;line-height:1.45}h1{color:#0f6cbd}h2{border-bottom:2px solid #0f6cbd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.92em}th,td{border:1px solid #c8c8c8;padding:.3em .5em;
vertical-align:top;text-align:left}th{background:#eef4fb}code{background:#f3f3f3;padding:0 .2em}
pre{background:#f6f8fa;padding:.8em;overflow:auto}blockquote{border-left:4px solid #c50f1f;margin:0;padding:.2em 1em;
background:#fdf3f4}.toc li{margin:.1em 0}"""


def to_html(blocks: list[Block], title: str) -> str:
    body: list[str] = []
    toc = [b for b in blocks if b.kind == "h" and b.level == 2]
    for b in blocks:
        if b.kind == "h":
            anchor = re.sub(r"[^a-z0-9]+", "-", b.text.lower()).strip("-")
            body.append(f"<h{b.level} id=\"{anchor}\">{_inline(b.text)}</h{b.level}>")
            if b.level == 1 and toc:
                body.append("<nav class=\"toc\"><strong>Contents</strong><ol>" + "".join(
                    f"<li><a href=\"#{re.sub(r'[^a-z0-9]+', '-', t.text.lower()).strip('-')}\">"
                    f"{_inline(t.text)}</a></li>" for t in toc) + "</ol></nav>")
        elif b.kind == "p":
            body.append(f"<p>{_inline(b.text)}</p>")
        elif b.kind == "note":
            body.append(f"<blockquote>{_inline(b.text)}</blockquote>")
        elif b.kind == "list":
            body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "code":
            cls = " class=\"mermaid\"" if b.lang == "mermaid" else ""
            body.append(f"<pre{cls}>{html.escape(b.text)}</pre>")
        elif b.kind == "table":
            head = "".join(f"<th>{_inline(h)}</th>" for h in b.headers)
            rows = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in b.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


# ---------------------------------------------------------------------------
# The document


@dataclass
class DesignDocument:
    markdown: str
    html: str
    data: dict[str, Any]
    blocks: list[Block]


def approval_status(design: Settings, foundations: Any) -> tuple[str, list[list[str]]]:
    """'approved' / 'pending' / 'changes requested' / 'rejected', and one row per required role."""
    roster = {m.name.strip().lower(): set(m.roles) for m in foundations.team_roster}
    rows, states = [], []
    for role in design.design_approver_roles:
        mine = sorted((a for a in design.design_approvals if a.role == role
                       and a.design_version == design.design_version), key=lambda a: a.date)
        if not mine:
            rows.append([ROLES_BY_ID[role].name, "-", "awaiting decision", "-", ""])
            states.append("pending")
            continue
        last = mine[-1]
        ok_roster = role in roster.get(last.name.strip().lower(), set())
        rows.append([ROLES_BY_ID[role].name, last.name, last.decision.replace("_", " ")
                     + ("" if ok_roster else " (not on the roster in this role)"), str(last.date), last.comment])
        states.append(last.decision if ok_roster else "pending")
    if "rejected" in states:
        return "rejected", rows
    if "changes_requested" in states:
        return "changes requested", rows
    if "pending" in states:
        return "pending", rows
    return "approved", rows


def _decision_table(design: Settings, names: list[str]) -> Block:
    rows = []
    for n in names:
        f = Settings.model_fields[n]
        rows.append([f.title or n, f"`{_value(getattr(design, n))}`", rationale(design, n)])
    return Block("table", headers=["Decision", "Choice", "Rationale"], rows=rows)


def _mermaid(design: Settings, t: Any) -> str:
    lines = ["flowchart LR"]
    envs = design.environments
    for i, e in enumerate(envs):
        names = resource_names(design, e.name)
        ws = names["workspace_name"]
        lines.append(f"  subgraph {e.name}[\"{e.name}: {e.resource_group} ({e.region})\"]")
        lines.append(f"    {e.name}_ws[\"Azure ML workspace<br/>{ws}\"]")
        lines.append(f"    {e.name}_st[(\"Storage<br/>{names['storage_account_name']}\")]")
        lines.append(f"    {e.name}_kv[\"Key Vault<br/>{names['key_vault_name']}\"]")
        lines.append(f"    {e.name}_ai[\"App Insights + Log Analytics\"]")
        parts = [f"{e.name}_st", f"{e.name}_kv", f"{e.name}_ai"]
        if design.container_registry_option != "none":
            lines.append(f"    {e.name}_cr[\"Registry ({design.container_registry_sku})\"]")
            parts.append(f"{e.name}_cr")
        for p in parts:
            lines.append(f"    {e.name}_ws --> {p}")
        if t.by_type("Microsoft.Network/privateEndpoints"):
            lines.append(f"    {e.name}_pe{{{{\"Private endpoints in {design.subnet_name}\"}}}}")
            lines.append(f"    {e.name}_pe -.-> {e.name}_ws")
        lines.append("  end")
        if i:
            lines.append(f"  {envs[i - 1].name} -- promote --> {e.name}")
    return "\n".join(lines)


def solution_design(design: Settings, foundations: Any, *, today: dt.date | None = None,
                    checkov: Mapping[str, Any] | None = None) -> DesignDocument:
    """The solution design document, from the stage-2 settings and the stage-1 roster."""
    from . import cost as cost_mod
    from . import iac, rbac

    d, f = design, foundations
    today = today or dt.date.today()
    t = iac.build(d, f.project_name, today=today)
    est = cost_mod.estimate(d, f)
    status, approval_rows = approval_status(d, f)
    prod = d.production_env()
    B: list[Block] = []  # noqa: N806
    h = lambda text, level=2: B.append(Block("h", text, level))  # noqa: E731
    p = lambda text: B.append(Block("p", text))  # noqa: E731

    h(f"Solution design: {f.project_name}", 1)
    B.append(Block("table", headers=["", ""], rows=[
        ["Project", f.project_name], ["Design version", d.design_version],
        ["Status", status], ["Generated", today.isoformat()],
        ["Environments", " → ".join(d.env_names())],
        ["Prepared for", "Team Lead, Solution Architect, Azure Infrastructure Engineer, Product Owner"]]))
    p("This document assembles every decision of Stage 2 (Design and Provision Infrastructure) with its "
      "rationale. It is generated from the project's settings: change a setting, re-run stage 2, and the "
      "document, the infrastructure code, the RBAC definitions and the cost estimate change together. "
      "Stage 3 deploys exactly what is described here once the design is approved.")

    # -- context and summary
    h("1. Context")
    p(f"**Business use case.** {f.business_use_case or 'not recorded in Stage 1'}")
    if f.success_criteria:
        B.append(Block("table", headers=["Success metric", "Target", "Owner"],
                       rows=[[c.metric, c.target, c.owner] for c in f.success_criteria]))
    B.append(Block("list", items=[
        f"Target MLOps maturity level {f.target_maturity_level} (Stage 1).",
        f"CI/CD on {f.cicd_platform.replace('_', ' ')}, source control on {f.source_control_platform}.",
        f"Team of {len(f.team_roster)} people covering "
        f"{len({r for m in f.team_roster for r in m.roles})} project roles."]))
    h("2. Key decisions at a glance")
    behind = [n for n, on in (("storage", d.storage_behind_vnet), ("Key Vault", d.keyvault_behind_vnet),
                              ("container registry", d.acr_behind_vnet)) if on]
    B.append(Block("list", items=[
        f"**{len(d.environments)} environments** ({', '.join(d.env_names())}), one workspace each "
        f"({d.workspace_pattern.replace('_', ' ')} pattern, {d.environment_topology} topology), in "
        f"{d.primary_region} ({d.region_strategy.replace('_', ' ')}).",
        f"**{d.implementation_approach.title()}-first**: training on {d.training_platform}, "
        f"{d.inference_mode} inference on {d.realtime_target.replace('_', ' ')}, orchestrated by "
        f"{', '.join(d.orchestrator)}.",
        f"**Identity**: {d.workspace_identity_type} workspace identity, automation signs in with "
        f"{d.automation_auth.replace('_', ' ')}, access granted to "
        f"{'one Entra ID group per role and environment' if d.aad_groups_per_role_env else 'people directly'}, "
        f"{len(d.custom_roles)} custom role(s).",
        f"**Network**: workspace private endpoint {d.private_endpoint_type}, public access "
        f"{d.public_network_access.lower()}, behind the VNet: {', '.join(behind) or 'nothing'}.",
        f"**Data protection**: customer-managed keys {d.encryption_status.lower()}, HBI "
        f"{'on' if d.confidential_data else 'off'}, production data policy "
        f"{d.production_data_policy.replace('_', ' ')}.",
        f"**Cost**: {len(d.budgets)} budget(s) with alerts; estimated "
        f"{est['total_usd']:,.0f} USD per month across environments (estimate, list prices "
        f"{est['price_date']}).",
    ]))

    # -- 3a topology
    h("3. Workspace, environment and region topology")
    B.append(_decision_table(d, ["workspace_pattern", "exploration_workspace", "environment_topology",
                                 "region_strategy", "primary_region", "resource_group_strategy",
                                 "naming_convention", "aad_groups_per_role_env", "storage_account_type"]))
    h("Environments", 3)
    B.append(Block("table", headers=["Environment", "Subscription", "Resource group", "Region",
                                     "Production data", "Approval", "Approvers"],
                   rows=[[e.name, e.subscription_id, e.resource_group, e.region, _value(e.prod_data_access),
                          _value(e.approval_required), _value(e.approvers)] for e in d.environments]))
    p(f"Promotion runs left to right; **{prod.name if prod else '-'}** is production.")
    h("Resource names", 3)
    fields = ["workspace_name", "storage_account_name", "key_vault_name", "container_registry_name",
              "app_insights_name", "log_analytics_name", "vnet_name"]
    labels = ["Workspace", "Storage", "Key Vault", "Registry", "App Insights", "Log Analytics", "VNet"]
    rows = []
    for lab, fld in zip(labels, fields, strict=True):
        if fld == "container_registry_name" and d.container_registry_option == "none":
            continue
        if fld == "vnet_name" and d.vnet_option == "none":
            continue
        rows.append([lab] + [resource_names(d, e.name)[fld] if not (fld == "vnet_name" and
                                                                    d.vnet_option == "existing")
                             else d.vnet_name for e in d.environments])
    B.append(Block("table", headers=["Resource", *d.env_names()], rows=rows))
    B.append(Block("table", headers=["Tag", "Value"], rows=[
        [tg.key, tg.value.replace("{project}", f.project_name).replace("{env}", "<env>") or "(to fill)"]
        for tg in d.tags]))
    h("Topology diagram", 3)
    B.append(Block("code", _mermaid(d, t), lang="mermaid"))

    # -- 3b technology
    h("4. Technology choices")
    tech = ["implementation_approach", "experimentation_env", "orchestrator", "data_transfer", "data_compute",
            "experiment_tracking", "model_registry", "data_versioning", "training_platform", "inference_mode",
            "realtime_target", "monitoring_tools"]
    B.append(_decision_table(d, tech))
    p("Each choice has a decision record (context, options, decision, consequences) in "
      "`decision-records.md`.")
    if d.inference_mode == "edge":
        a = d.edge_assessment
        h("Edge assessment", 3)
        B.append(Block("table", headers=["Question", "Answer"], rows=[
            ["Why the edge", _value(a.reasons)], ["Target compute", _value(a.target_compute)],
            ["HA/DR criteria", _value(a.ha_dr_criteria)], ["Azure parity", _value(a.azure_parity)],
            ["Hardware", _value(a.hardware)], ["Platform", _value(a.platform)],
            ["Runtimes", _value(a.frameworks)]]))

    # -- 3c identity
    h("5. Identity, authentication and access control")
    B.append(_decision_table(d, ["workspace_identity_type", "compute_cluster_identity", "automation_auth",
                                 "endpoint_auth_mode", "conditional_access", "ssh_on_compute"]))
    h("RBAC matrix (project role × environment)", 3)
    headers, mrows = rbac.rbac_matrix(d, f)
    B.append(Block("table", headers=headers, rows=mrows))
    p("Assignments go to " + ("one Entra ID group per role and environment (`grp-<project>-<role>-<env>`); "
                              "people join and leave groups, never role assignments."
                              if d.aad_groups_per_role_env else "people directly.")
      + " The full list with scopes is `rbac/role-assignments.csv`.")
    h("Automation identities", 3)
    B.append(Block("table", headers=["Identity", "Environment", "Azure role", "Scope", "Purpose", "Why this role"],
                   rows=[[s.name, s.env, s.role, s.scope.replace("_", " "), s.purpose, s.justification or "-"]
                         for s in d.service_principals]))
    h("Custom roles", 3)
    B.append(Block("table", headers=["Role", "Purpose", "Actions", "NotActions", "Assignable at"],
                   rows=[[r.name, r.description, len(r.actions), len(r.not_actions),
                          r.assignable_scope.replace("_", " ") + " of each environment"] for r in d.custom_roles]))
    p("Definitions: `rbac/custom-roles/*.json` (create with `az role definition create --role-definition @file`; "
      "needs Owner or `Microsoft.Authorization/roleDefinitions/write` at the assignable scopes). No role uses "
      "`*` as an action.")
    findings = rbac.findings(d, f)
    if findings:
        B.append(Block("list", items=findings))

    # -- 3d network
    h("6. Network isolation")
    B.append(_decision_table(d, ["private_endpoint_type", "public_network_access", "managed_vnet_isolation",
                                 "vnet_option", "storage_behind_vnet", "keyvault_behind_vnet", "acr_behind_vnet",
                                 "client_access_path", "custom_dns", "egress_firewall", "studio_in_vnet",
                                 "compute_no_public_ip"]))
    if d.vnet_option != "none":
        pes = t.by_type("Microsoft.Network/privateEndpoints")
        zones = [r.name for r in t.by_type("Microsoft.Network/privateDnsZones")]
        B.append(Block("table", headers=["Element", "Design"], rows=[
            ["VNet", f"{d.vnet_option}: {d.vnet_name}{'-<env>' if d.vnet_option == 'new' else ''}, "
                     f"{', '.join(d.address_prefixes)}"],
            ["Subnet", f"{d.subnet_name} {d.subnet_prefix} (NSG, service endpoints Storage, KeyVault, "
                       f"ContainerRegistry; private endpoint policies disabled)"],
            ["Private endpoints", ", ".join(r.comment.split(" for the ", 1)[-1] for r in pes)
             + (f" ({d.private_endpoint_type})" if pes else "none")],
            ["Private DNS zones", ", ".join(str(z) for z in zones) or "none"]]))
        if d.custom_dns:
            B.append(Block("note", "Custom DNS: add conditional forwarders for the private DNS zones above to "
                                   "168.63.129.16, or the private endpoints will not resolve."))
    else:
        B.append(Block("note", "No virtual network: the workspace and its dependencies are reachable from public "
                               "networks, protected by Entra ID and RBAC. Acceptable for a sandbox only; the "
                               "IaC records this choice as the reason for each suppressed network check."))

    # -- 3e protection
    h("7. Data protection and governance")
    B.append(_decision_table(d, ["confidential_data", "encryption_status", "tls_on_endpoints", "defender_scanning",
                                 "azure_policy_assignments", "production_data_policy"]))
    if d.encryption_status == "Enabled":
        B.append(Block("table", headers=["CMK element", "Value"], rows=[
            ["Key Vault", d.cmk_keyvault], ["Key", d.resource_cmk_uri],
            ["Identity", d.cmk_uami_name or "workspace identity"]]))
    B.append(Block("list", items=[
        "The workspace Key Vault runs in RBAC mode with soft delete (90 days) and purge protection.",
        "Storage enforces TLS 1.2, HTTPS only, no anonymous blob access and no cross-tenant replication.",
        "The container registry's admin user is disabled: pulls use Entra ID identities."]))

    # -- 3f cost
    h("8. Cost control")
    B.append(_decision_table(d, ["allowed_vm_skus", "training_sku_guidance", "inference_sku_guidance",
                                 "cluster_min_nodes", "cluster_max_nodes", "cluster_idle_seconds_before_scaledown",
                                 "vm_priority_strategy", "compute_instance_idle_shutdown_minutes",
                                 "compute_instance_stop_schedule", "reserved_instances", "blob_cool_after_days",
                                 "container_registry_sku", "co_locate_region", "early_termination"]))
    h("Budgets and alerts", 3)
    B.append(Block("table", headers=["Environment", "Amount", "Period", "Alerts", "E-mails", "Roles"],
                   rows=cost_mod.budget_rows(d)))
    p("Each budget is deployed by the IaC (`Microsoft.Consumption/budgets` on the environment's resource "
      "group) and alerts on actual and forecast spend.")
    est_md = cost_mod.estimate_markdown(est, heading="###")
    B += _blocks_from_markdown(est_md)

    # -- IaC
    h("9. Infrastructure as code")
    p("Generated for this design: `iac/arm/azuredeploy.json` with `azuredeploy.parameters.<env>.json`, and the "
      "same infrastructure in Bicep (`iac/bicep/main.bicep` with `<env>.bicepparam`). Deploy one environment "
      "with `az deployment group create -g <rg> -f iac/bicep/main.bicep -p iac/bicep/<env>.bicepparam` or the "
      "ARM pair; Stage 3 wires this into the pipelines.")
    B.append(Block("table", headers=["Resource", "Type", "API version", "Purpose"],
                   rows=[[r["resource"], r["type"], r["api_version"], r["purpose"]] for r in
                         iac.resource_summary(t)]))
    p("Improvements over the source accelerator's template: workspace-based Application Insights (classic is "
      "retired), registry admin user off, Key Vault in RBAC mode with purge protection, current GA API versions "
      "instead of 2019-2020 previews, private endpoints for every dependency behind the VNet (not only the "
      "workspace), budgets, outputs, and no region restriction.")
    sup = t.suppressions()
    if sup:
        p("checkov checks suppressed in the code, each with its reason: checks the design knowingly does not "
          "meet, and checks checkov cannot evaluate on this template:")
        B.append(Block("table", headers=["Resource", "Check", "Reason"],
                       rows=[[s["resource"], s["check"], s["reason"]] for s in sup]))
    else:
        p("No checkov check is suppressed: the design meets every check that applies.")
    if checkov is not None:
        p(f"checkov {checkov.get('checkov_version') or ''}: {checkov['passed']} passed, {checkov['failed']} "
          f"failed, {checkov['skipped']} skipped with a reason, {checkov['parse_errors']} parse errors.")

    # -- 3g WAF
    h("10. Well-Architected review")
    unanswered, noes = [], []
    for pillar, items in WAF_ITEMS.items():
        answers = getattr(d, f"waf_{pillar}")
        rows = []
        for item, question in items.items():
            a = getattr(answers, item)
            rows.append([question, a or "not answered"])
            if a is None:
                unanswered.append(f"{pillar}.{item}")
            elif a == "no":
                noes.append(f"{pillar.replace('_', ' ')}: {question}")
        h(pillar.replace("_", " ").capitalize(), 3)
        B.append(Block("table", headers=["Item", "Answer"], rows=rows))

    # -- risks
    h("11. Risks and open items")
    risks = []
    if unanswered:
        risks.append(f"{len(unanswered)} Well-Architected item(s) unanswered: answer them before approval.")
    risks += [f"Well-Architected 'no': {n}" for n in noes]
    for env, e in est["environments"].items():
        b = e["budget"]
        if b is None:
            risks.append(f"{env} has no budget.")
        elif b["share_pct"] is not None and b["share_pct"] >= 80:
            risks.append(f"{env}: the estimate is {b['share_pct']} % of the budget ({b['verdict']}); raise the "
                         f"budget or change the usage (for example, stop the online endpoint outside tests).")
    if d.private_endpoint_type == "none":
        risks.append("No private endpoint: the workspace is reachable from public networks.")
    if d.conditional_access:
        risks.append("Conditional Access: the source accelerator contradicts itself on support for it; test the "
                     "policy with the Azure Machine Learning cloud app before relying on it.")
    if d.ssh_on_compute:
        risks.append("SSH on compute uses keys outside Entra ID and RBAC: a documented security exception.")
    if prod is not None and not prod.approval_required:
        risks.append(f"Production ({prod.name}) deployments need no approval.")
    if (d.private_endpoint_type != "none" and d.container_registry_option == "new"
            and not d.acr_behind_vnet):
        risks.append("The workspace is private but its container registry accepts traffic from any network "
                     "(acr_behind_vnet is off): consider a Premium registry behind the VNet.")
    if d.acr_behind_vnet:
        risks.append("Registry behind the VNet: Azure ML cannot build images on serverless compute; Stage 3 must "
                     "set the workspace's image-build compute to a cluster in the VNet.")
    B.append(Block("list", items=risks or ["None recorded."]))

    # -- 3h approval
    h("12. Approval")
    B.append(_decision_table(d, ["design_version", "design_approver_roles"]))
    B.append(Block("table", headers=["Required role", "Approver", "Decision", "Date", "Comment"],
                   rows=approval_rows))
    p(f"Status of version {d.design_version}: **{status}**. Approvals count only for the version they name; "
      "raise `design_version` after any change and ask again.")

    # -- appendix
    h("Appendix: every Stage 2 setting")
    rows = []
    for gid, title, table, tasks in GROUPS:
        del gid, table
        for task in tasks:
            for n in _fields_of(task):
                v = getattr(d, n)
                if isinstance(v, list) and v and not isinstance(v[0], (str, int, float)):
                    shown = f"{len(v)} record(s), see above"
                elif hasattr(v, "model_dump"):
                    shown = "see above"
                else:
                    shown = _value(v)
                rows.append([title, Settings.model_fields[n].title or n, f"`{n}`", shown])
    B.append(Block("table", headers=["Group", "Setting", "Key", "Value"], rows=rows))

    title = f"Solution design: {f.project_name} (v{d.design_version})"
    data = {"status": status, "design_version": d.design_version, "waf_unanswered": unanswered,
            "waf_no": noes, "risks": risks, "suppressions": sup, "cost_total_usd": est["total_usd"],
            "sections": [b.text for b in B if b.kind == "h" and b.level == 2]}
    return DesignDocument(to_markdown(B), to_html(B, title), data, B)


def _blocks_from_markdown(md: str) -> list[Block]:
    """The few shapes cost.estimate_markdown emits: headings, tables, list items, paragraphs."""
    blocks: list[Block] = []
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            blocks.append(Block("h", line.lstrip("#").strip(), level))
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip().replace("\\|", "|") for c in lines[i].strip().strip("|").split(" | ")])
                i += 1
            blocks.append(Block("table", headers=rows[0], rows=[r for r in rows[2:]]))
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(lines[i][2:])
                i += 1
            blocks.append(Block("list", items=items))
        else:
            blocks.append(Block("p", line))
            i += 1
    return blocks


# ---------------------------------------------------------------------------
# Decision records


TECH_FIELDS = ("implementation_approach", "experimentation_env", "orchestrator", "data_transfer", "data_compute",
               "experiment_tracking", "model_registry", "data_versioning", "training_platform", "inference_mode",
               "realtime_target", "monitoring_tools")


def decision_records(design: Settings, foundations: Any = None, *, today: dt.date | None = None) -> str:
    """One architecture decision record per technology choice (digest 3b), as Markdown."""
    today = today or dt.date.today()
    status = "Proposed"
    if foundations is not None and approval_status(design, foundations)[0] == "approved":
        status = "Accepted"
    out = [f"# Technology decision records (design {design.design_version})", "",
           f"Generated {today.isoformat()} from the Stage 2 settings. Status follows the design approval: "
           f"**{status}**.", ""]
    for i, name in enumerate(TECH_FIELDS, 1):
        f = Settings.model_fields[name]
        value = getattr(design, name)
        chosen = value if isinstance(value, list) else [value]
        out += [f"## ADR-{i:02d}: {f.title}", "", f"- Status: {status}", f"- Setting: `{name}`", "",
                "### Context", "", f.description or "", "", "### Options considered", ""]
        for opt in _options(name):
            mark = "**chosen**" if opt in [str(c) for c in chosen] else "not chosen"
            note = CHOICE_NOTES.get((name, opt), "")
            out.append(f"- `{opt}` ({mark}){': ' + note if note else ''}")
        out += ["", "### Decision", "", f"`{_value(value)}`", "", "### Consequences", "",
                rationale(design, name) or "-", ""]
    return "\n".join(out).rstrip() + "\n"
