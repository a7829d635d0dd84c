"""Stage 2 access control: custom role definitions and the role-assignment plan.

    defs = custom_role_definitions(design)           # {file name: role-definition dict}
    rows = role_assignments(design, foundations)     # one row per assignment (CSV)
    write_rbac(design, foundations, out / "rbac")    # custom-roles/*.json + role-assignments.csv

Custom roles are written in the format `az role definition create --role-definition @file`
takes (Name, IsCustom, Description, Actions, NotActions, DataActions, NotDataActions,
AssignableScopes), with the assignable scopes expanded for every environment: each
environment's resource group, or its subscription. A role whose actions include "*" is
refused (least privilege), as the S2-06 check does.

Assignments come from the design's role mappings crossed with the stage-1 roster: with one
Entra ID group per role and environment (the default) each mapping is one assignment to a
group whose members are listed; otherwise each person holding the role gets their own.
Automation identities (service principals / managed identities) are added as they are.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from ..roles import ROLES_BY_ID
from ..settings.design import BUILTIN_ROLES, PRIVILEGED_ROLES, CustomRole, Settings, resource_name
from .escape import csv_row

_WS_PROVIDER = "Microsoft.MachineLearningServices/workspaces"
CSV_COLUMNS = ("environment", "principal_type", "principal", "members", "project_role", "azure_role",
               "role_kind", "scope_level", "scope", "justification")


class LeastPrivilegeError(ValueError):
    """A custom role grants every action ("*")."""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def env_scope(design: Settings, env_name: str, level: str) -> str:
    """The ARM scope of one environment at a level (subscription, resource_group, workspace)."""
    env = next(e for e in design.environments if e.name == env_name)
    sub = f"/subscriptions/{env.subscription_id}"
    if level == "subscription":
        return sub
    rg = f"{sub}/resourceGroups/{env.resource_group}"
    if level == "resource_group":
        return rg
    return f"{rg}/providers/{_WS_PROVIDER}/{resource_name(design, 'workspace_name', env_name)}"


def assignable_scopes(design: Settings, role: CustomRole) -> list[str]:
    scopes: list[str] = []
    for e in design.environments:
        scope = env_scope(design, e.name, role.assignable_scope)
        if scope not in scopes:
            scopes.append(scope)
    return scopes


def role_name(role: str, project: str | None) -> str:
    """The role's name in the tenant: custom role names are tenant-wide, so each project's carry its
    name (two projects in one tenant never define the same role)."""
    return role if not project or project in role else f"{role} ({project})"


# What a role's description promises -> operations it must grant (issue 14 item 8: "MLOps Custom" ran
# jobs and pipelines without any workspaces/jobs/* action).
DUTIES = {
    "runs jobs": ("jobs/read", "jobs/write", "codes/versions/write", "environments/read", "computes/read",
                  "datastores/read", "experiments/runs/write"),
    "pipelines": ("jobs/write", "components/versions/write"),
    "label": ("labeling/projects/read", "labeling/labels/write"),
    "everything in the workspace": ("jobs/write", "data/versions/write", "models/versions/write"),
}


def _grants(role: CustomRole, op: str) -> bool:
    import fnmatch

    full = f"{_WS_PROVIDER}/{op}"
    return (any(fnmatch.fnmatchcase(full, a) for a in role.actions)
            and not any(fnmatch.fnmatchcase(full, n) for n in role.not_actions))


def review_custom_roles(design: Settings) -> list[str]:
    """Each custom role against its description: the operations its duties need and it lacks."""
    out = []
    for r in design.custom_roles:
        text = (r.description or "").lower()
        for duty, ops in DUTIES.items():
            if duty in text:
                missing = [op for op in ops if not _grants(r, op)]
                if missing:
                    out.append(f"custom role '{r.name}' is described as '{duty}' but does not grant "
                               f"{', '.join(f'workspaces/{m}' for m in missing)}")
    return out


def role_definition(design: Settings, role: CustomRole, project: str | None = None) -> dict[str, Any]:
    """One custom role as Azure role-definition JSON (az role definition create)."""
    wild = [a for a in role.actions if a == "*" or a.startswith("*/")]
    if wild:
        raise LeastPrivilegeError(f"custom role '{role.name}' grants every action ({', '.join(wild)}): list the "
                                  f"operations it needs instead")
    return {"Name": role_name(role.name, project), "IsCustom": True,
            "Description": role.description or f"{role.name} (generated from the solution design)",
            "Actions": list(role.actions), "NotActions": list(role.not_actions),
            "DataActions": list(role.data_actions), "NotDataActions": list(role.not_data_actions),
            "AssignableScopes": assignable_scopes(design, role)}


def role_file_names(names: list[str]) -> list[str]:
    """One visible, distinct file name per role name: a slug of the name (never empty or hidden),
    with a short hash of the exact name when two names slug alike ("MLOps Custom", "MLOps-Custom")."""
    import hashlib

    slugs = [_slug(n) or "role" for n in names]
    out = []
    for name, slug in zip(names, slugs, strict=True):
        if slugs.count(slug) > 1 or slug == "role":
            slug = f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
        out.append(f"{slug}.json")
    return out


def custom_role_definitions(design: Settings, project: str | None = None) -> dict[str, dict[str, Any]]:
    """File name -> role definition, one per custom role of the design (names never collide)."""
    roles = list(design.custom_roles)
    files = role_file_names([r.name for r in roles])
    return {f: role_definition(design, r, project) for f, r in zip(files, roles, strict=True)}


def group_name(project: str, role: str, env: str) -> str:
    """The Entra ID group generated for a project role in an environment."""
    return f"grp-{project}-{role.replace('_', '-')}-{env}"


def role_assignments(design: Settings, foundations: Any) -> list[dict[str, str]]:
    """Every planned role assignment: people (via groups or directly) and automation identities."""
    project = foundations.project_name
    custom = {r.name for r in design.custom_roles}
    holders: dict[str, list[Any]] = {}
    for member in foundations.team_roster:
        for role in member.roles:
            holders.setdefault(role, []).append(member)
    rows: list[dict[str, str]] = []
    for m in design.role_mappings:
        kind = "custom" if m.azure_role in custom else "built-in"
        azure_role = role_name(m.azure_role, project) if kind == "custom" else m.azure_role
        base = {"environment": m.env, "project_role": m.role, "azure_role": azure_role, "role_kind": kind,
                "scope_level": m.scope, "scope": env_scope(design, m.env, m.scope), "justification": ""}
        people = holders.get(m.role, [])
        if design.aad_groups_per_role_env or m.principal:
            rows.append({**base, "principal_type": "Group",
                         "principal": m.principal or group_name(project, m.role, m.env),
                         "members": "; ".join(p.email for p in people)})
        else:
            rows += [{**base, "principal_type": "User", "principal": p.email, "members": p.name} for p in people]
    for sp in design.service_principals:
        kind = "custom" if sp.role in custom else "built-in"
        rows.append({"environment": sp.env, "principal_type": "ServicePrincipal", "principal": sp.name,
                     "members": sp.purpose, "project_role": "automation",
                     "azure_role": role_name(sp.role, project) if kind == "custom" else sp.role,
                     "role_kind": kind, "scope_level": sp.scope, "scope": env_scope(design, sp.env, sp.scope),
                     "justification": sp.justification})
    order = {e.name: i for i, e in enumerate(design.environments)}
    rows.sort(key=lambda r: (order.get(r["environment"], 99), r["principal_type"] == "ServicePrincipal",
                             r["project_role"]))
    return rows


def assignments_csv(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_row(r) for r in rows)  # no cell is read as a spreadsheet formula
    return buf.getvalue()


def rbac_matrix(design: Settings, foundations: Any) -> tuple[list[str], list[list[str]]]:
    """Project role x environment -> Azure role @ scope (for the design document)."""
    envs = design.env_names()
    on_roster = {r for m in foundations.team_roster for r in m.roles}
    cell: dict[tuple[str, str], str] = {}
    for m in design.role_mappings:
        text = f"{m.azure_role} @ {m.scope.replace('_', ' ')}"
        cell[(m.role, m.env)] = f"{cell[(m.role, m.env)]}; {text}" if (m.role, m.env) in cell else text
    roles = sorted({m.role for m in design.role_mappings} | on_roster,
                   key=lambda r: list(ROLES_BY_ID).index(r))
    rows = [[ROLES_BY_ID[r].name + ("" if r in on_roster else " (not on roster)")]
            + [cell.get((r, e), "-") for e in envs] for r in roles]
    return ["Project role", *envs], rows


def findings(design: Settings, foundations: Any) -> list[str]:
    """Least-privilege observations for the reviewer (not errors: the settings already validated)."""
    out = review_custom_roles(design)
    for sp in design.service_principals:
        if sp.role in PRIVILEGED_ROLES:
            out.append(f"automation identity {sp.name} ({sp.env}) holds {sp.role} at {sp.scope.replace('_', ' ')} "
                       f"scope: {sp.justification or 'no justification given'}")
    for r in design.custom_roles:
        broad = [a for a in r.actions if "/*/" in a or a.endswith("/*")]
        if broad:
            out.append(f"custom role '{r.name}' uses wildcard operations ({', '.join(broad[:3])}"
                       f"{'…' if len(broad) > 3 else ''}), narrowed by {len(r.not_actions)} NotActions: review "
                       f"them when Azure ML adds operations")
    mapped_builtin = {m.azure_role for m in design.role_mappings if m.azure_role in BUILTIN_ROLES}
    if "Owner" in mapped_builtin:
        out.append("a project role is mapped to Owner: it can grant access to anyone; prefer Contributor plus a "
                   "named access administrator")
    return out


def write_rbac(design: Settings, foundations: Any, folder: str | Path) -> dict[str, Any]:
    """Write custom-roles/<role>.json and role-assignments.csv; return the paths and rows."""
    folder = Path(folder)
    roles_dir = folder / "custom-roles"
    roles_dir.mkdir(parents=True, exist_ok=True)
    for stale in roles_dir.glob("*.json"):
        stale.unlink()
    files = []
    for name, data in custom_role_definitions(design, foundations.project_name).items():
        path = roles_dir / name
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        files.append(path)
    rows = role_assignments(design, foundations)
    csv_path = folder / "role-assignments.csv"
    csv_path.write_text(assignments_csv(rows), encoding="utf-8")
    return {"custom_roles": files, "role_assignments": csv_path, "rows": rows}
