"""Stage 1 artifacts: maturity assessment report and radar, team charter, delivery-model note.

The stage-1 notebooks stay thin: they turn their parameters into the validated settings
(`load_settings`), call these functions, show the results and write them to disk.
Everything here except `radar_chart` (writes a PNG) and `probe_repository` (asks git) is
pure: settings in, markdown / CSV / plain data out.

    report = maturity_report(settings)        # .markdown, .data (gap list, focus)
    radar_chart(settings, "maturity-radar.png")
    charter = team_charter(settings)          # .markdown, .csv, .data (uncovered roles)
    note = delivery_model(settings, probe_repository(settings.repo_url))

The role-coverage rule is the one the S1-03 check applies (`checks.foundations.needed_roles`):
a role is needed by a stage when one of the stage's tasks names it (tasks open to everyone need
no one in particular), and the Scrum Master is needed when the agile method is Scrum.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidSettings
from ..roles import ROLE_IDS, ROLES_BY_ID
from ..settings.foundations import (
    DIMENSIONS,
    MATURITY_CRITERIA,
    MATURITY_LEVELS,
    REPO_TEMPLATE_FOLDERS,
    Settings,
)

SCOPE_LEVELS = (2, 3)  # what the accelerator promises in 12 weeks
CURRENT_COLOUR = "#c50f1f"  # the wizard radar's colours (wizard/radar.py)
TARGET_COLOUR = "#0f6cbd"

# Where the accelerator raises each dimension (stage task ids, catalogue.yaml).
DIMENSION_HELP: dict[str, str] = {
    "people": "S1.T3 team and skilling plan, S2.T4 roles mapped to access, shared stage sign-offs",
    "model_creation": "S4 data pipelines and versioned data assets, S5.T1 tracked training, "
                      "S6.T4 retraining triggers (level 4)",
    "model_release": "S3 separate dev/test/prod environments, S5.T3 registry and deployment, "
                     "S5.T4 CI/CD automation",
    "application_integration": "S5.T2 model validation and tests, S5.T3 endpoint tests, "
                               "S6.T1 endpoint monitoring",
}


def load_settings(values: Settings | Mapping[str, Any]) -> Settings:
    """The validated stage-1 settings from a notebook's parameters (any subset of the settings)."""
    if isinstance(values, Settings):
        return values
    from ..settings import validate_settings

    known = {k: v for k, v in values.items() if k in Settings.model_fields}
    model, errors = validate_settings("foundations", known)
    if errors:
        raise InvalidSettings("foundations", errors)
    assert isinstance(model, Settings)
    return model


# ---------------------------------------------------------------------------
# Markdown helpers


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _level_name(level: int | None) -> str:
    return "not known" if level is None else f"{level} ({MATURITY_LEVELS[level]})"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


@dataclass(frozen=True)
class Document:
    """A generated artifact: its markdown, its data (JSON-able) and, for tables, its CSV."""

    markdown: str
    data: dict[str, Any]
    csv: str = ""


# ---------------------------------------------------------------------------
# Maturity assessment


def maturity_rows(settings: Settings | Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per dimension (model order): levels, gap, what the levels mean, evidence."""
    s = load_settings(settings)
    rated = {d.dimension: d for d in s.maturity_assessment}
    rows = []
    for key, label in DIMENSIONS.items():
        d = rated.get(key)
        if d is None:
            rows.append({"dimension": key, "label": label, "rated": False, "current": None, "target": None,
                         "gap": None, "current_meaning": "", "target_meaning": "", "evidence": ""})
            continue
        rows.append({
            "dimension": key, "label": label, "rated": True,
            "current": d.current_level, "target": d.target_level,
            "gap": d.target_level - d.current_level,
            "current_meaning": MATURITY_CRITERIA[key][d.current_level],
            "target_meaning": MATURITY_CRITERIA[key][d.target_level],
            "evidence": d.evidence,
        })
    return rows


def gap_list(settings: Settings | Mapping[str, Any]) -> list[dict[str, Any]]:
    """The dimensions below their target, largest gap first (then the lowest current level).

    Each gap lists the levels still to climb and what each one needs in that dimension.
    """
    rows = [r for r in maturity_rows(settings) if r["rated"] and r["gap"] > 0]
    order = list(DIMENSIONS)
    rows.sort(key=lambda r: (-r["gap"], r["current"], order.index(r["dimension"])))
    gaps = []
    for r in rows:
        steps = [{"level": lvl, "name": MATURITY_LEVELS[lvl], "needs": MATURITY_CRITERIA[r["dimension"]][lvl]}
                 for lvl in range(r["current"] + 1, r["target"] + 1)]
        gaps.append({**{k: r[k] for k in ("dimension", "label", "current", "target", "gap")},
                     "steps": steps, "where": DIMENSION_HELP[r["dimension"]]})
    return gaps


def recommended_focus(settings: Settings | Mapping[str, Any]) -> list[str]:
    """What to work on, in order: missing ratings, the weakest dimension, the largest gaps, scope."""
    s = load_settings(settings)
    rows = maturity_rows(s)
    focus: list[str] = []
    missing = [r["label"] for r in rows if not r["rated"]]
    if missing:
        focus.append(f"Rate the missing dimension(s) first: {', '.join(missing)}. The overall level is the "
                     f"lowest dimension, so it is not known until all four are rated.")
    rated = [r for r in rows if r["rated"]]
    if rated:
        low = min(r["current"] for r in rated)
        weakest = [r["label"] for r in rated if r["current"] == low]
        if len(weakest) == 1:
            focus.append(f"The overall level is set by the weakest dimension: {weakest[0]} at level {low} "
                         f"({MATURITY_LEVELS[low]}). Raising it raises the team's overall level.")
        else:
            focus.append(f"The overall level is set by the weakest dimensions: {', '.join(weakest)} are all "
                         f"at level {low} ({MATURITY_LEVELS[low]}). The overall level rises only when all "
                         f"of them do.")
    for g in gap_list(s):
        first = g["steps"][0]
        focus.append(f"{g['label']}: close a gap of {_plural(g['gap'], 'level')} "
                     f"({g['current']} → {g['target']}). Next step, level {first['level']}: "
                     f"{first['needs']}. Addressed in {g['where']}.")
    beyond = [r["label"] for r in rated if r["target"] == 4]
    target = s.target_maturity_level
    if target < SCOPE_LEVELS[0]:
        focus.append(f"The overall target ({_level_name(target)}) is below what the accelerator delivers: "
                     f"it aims at level 2 (automated training) or 3 (automated model deployment) in 12 weeks.")
    elif target == 4 or beyond:
        what = f"{', '.join(beyond)} target{'s' if len(beyond) == 1 else ''} level 4" if beyond \
            else "the overall target is level 4"
        focus.append(f"Scope: {what} (full MLOps, automated retraining), which is beyond a 12-week project. "
                     f"Aim for level 2-3 now and plan level 4 as a follow-up.")
    else:
        focus.append(f"Scope: the target (level {target}) is within what the accelerator delivers in "
                     f"12 weeks (levels 2-3).")
    if not s.devops_capability_exists:
        focus.append("There is no DevOps capability yet (CI/CD, infrastructure as code, automated tests): "
                     "model release and application integration cannot rise above level 1 without it, so "
                     "plan it into Stages 3 and 5.")
    return focus


def maturity_report(settings: Settings | Mapping[str, Any]) -> Document:
    """The maturity assessment report: per-dimension current vs target, gap list, recommended focus."""
    s = load_settings(settings)
    rows = maturity_rows(s)
    gaps = gap_list(s)
    focus = recommended_focus(s)
    current, target = s.current_level, s.target_maturity_level
    limited_by = []
    if s.assessment_complete:
        low = min(r["current"] for r in rows)
        limited_by = [r["dimension"] for r in rows if r["current"] == low]
    data = {
        "project_name": s.project_name,
        "complete": s.assessment_complete,
        "missing_dimensions": [r["dimension"] for r in rows if not r["rated"]],
        "overall": {"current": current, "target": target,
                    "current_name": MATURITY_LEVELS.get(current, "") if current is not None else "",
                    "target_name": MATURITY_LEVELS[target], "limited_by": limited_by,
                    "current_is_estimate": not s.assessment_complete and current is not None},
        "dimensions": rows,
        "gaps": gaps,
        "focus": focus,
        "in_scope_levels": list(SCOPE_LEVELS),
    }

    out = [f"# MLOps maturity assessment: {s.project_name}", ""]
    if s.business_use_case:
        out += [f"**Business use case.** {s.business_use_case.strip()}", ""]
    if s.success_criteria:
        out += ["**Success criteria**", "",
                md_table(["Metric", "Target", "Owner"],
                         [(c.metric, c.target, c.owner or "–") for c in s.success_criteria]), ""]
    devops = "yes" if s.devops_capability_exists else "no"
    if s.devops_capability_evidence:
        devops += f": {s.devops_capability_evidence}"
    out += [f"**DevOps capability in the organisation:** {devops}", "", "## Overall level", ""]
    estimate = " (an estimate: the assessment is incomplete)" if data["overall"]["current_is_estimate"] else ""
    out.append(f"- Current: **{_level_name(current)}**{estimate}")
    if limited_by:
        out.append(f"  - limited by {', '.join(DIMENSIONS[d] for d in limited_by)} "
                   f"(the overall level is the lowest dimension)")
    out.append(f"- Target: **{_level_name(target)}**")
    out.append("- In scope for this 12-week accelerator: levels 2 (automated training) and 3 "
               "(automated model deployment)")
    out += ["", "## Per dimension: current vs target", "",
            md_table(["Dimension", "Current", "Target", "Gap", "Where you are", "Evidence"],
                     [(r["label"],
                       r["current"] if r["rated"] else "not rated",
                       r["target"] if r["rated"] else "–",
                       (f"+{r['gap']}" if r["gap"] else "none") if r["rated"] else "–",
                       r["current_meaning"] or "–", r["evidence"] or "–") for r in rows]), ""]
    out += ["## Gap list", ""]
    if gaps:
        out.append("Largest gaps first. Each level to climb, and what it needs in that dimension:")
        out.append("")
        for i, g in enumerate(gaps, 1):
            out.append(f"{i}. **{g['label']}**: level {g['current']} → {g['target']} "
                       f"(gap {g['gap']})")
            for step in g["steps"]:
                scope = "" if step["level"] <= SCOPE_LEVELS[1] else " *(beyond the 12-week scope)*"
                out.append(f"   - Level {step['level']} ({step['name']}): {step['needs']}{scope}")
            out.append(f"   - Where the accelerator helps: {g['where']}")
    elif s.maturity_assessment:
        out.append("No gaps: every rated dimension is already at its target.")
    else:
        out.append("No dimension is rated yet: fill in the maturity assessment (stage 1, S1.T2).")
    out += ["", "## Recommended focus", ""]
    out += [f"{i}. {f}" for i, f in enumerate(focus, 1)]
    out += ["", "## Maturity levels (reference)", "",
            md_table(["Level", *DIMENSIONS.values()],
                     [(f"{lvl} {name}", *(MATURITY_CRITERIA[d][lvl] for d in DIMENSIONS))
                      for lvl, name in MATURITY_LEVELS.items()]), ""]
    return Document("\n".join(out), data)


def radar_chart(settings: Settings | Mapping[str, Any], path: str | Path, *, dpi: int = 150) -> Path:
    """Draw the maturity radar (current vs target per dimension, rings 0-4) as a PNG at `path`."""
    # The Agg canvas directly, not pyplot: no global backend switch in the caller's kernel, no
    # figure left open, safe in worker processes.
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    s = load_settings(settings)
    rows = maturity_rows(s)
    n = len(rows)
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    closed = np.append(angles, angles[0])

    fig = Figure(figsize=(8.4, 8.4), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.19, 0.20, 0.62, 0.62), projection="polar")
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    ax.set_ylim(0, 4)
    ax.set_yticks([1, 2, 3, 4])
    ax.set_yticklabels([])
    ax.set_rlabel_position(0)
    ax.grid(color="#c8c6c4", linewidth=0.8)
    ax.spines["polar"].set_color("#8a8886")
    # The accelerator's 12-week scope: levels 2-3 shaded.
    ring = np.linspace(0, 2 * np.pi, 200)
    ax.fill_between(ring, SCOPE_LEVELS[0], SCOPE_LEVELS[1], color="#107c10", alpha=0.06, zorder=0,
                    label="In scope in 12 weeks (levels 2-3)")
    for lvl in range(1, 5):  # ring labels beside the first spoke (0 is the centre)
        ax.annotate(str(lvl), xy=(np.deg2rad(12), lvl), fontsize=9, color="#605e5c",
                    ha="left", va="center", xytext=(3, 0), textcoords="offset points")
    ax.set_xticks(angles)
    ax.set_xticklabels([])
    for angle, r in zip(angles, rows, strict=True):
        # Labels outside the outer ring, aligned away from the centre so they never cross it.
        x, y = np.sin(angle), np.cos(angle)
        ha = "center" if abs(x) < 0.3 else ("left" if x > 0 else "right")
        va = "center" if abs(y) < 0.3 else ("bottom" if y > 0 else "top")
        name = r["label"].replace(" ", "\n", 1) if ha != "center" else r["label"]  # side labels: 2 lines
        levels = f"{r['current']} → {r['target']}" if r["rated"] else "(not rated)"
        ax.text(angle, 4.4, f"{name}\n{levels}", ha=ha, va=va, fontsize=12, fontweight="bold",
                color="#323130", multialignment="center", linespacing=1.35)

    def series(key: str) -> np.ndarray:
        vals = [r[key] if r["rated"] else 0 for r in rows]
        return np.array(vals + vals[:1], dtype=float)

    target, current = series("target"), series("current")
    ax.plot(closed, target, color=TARGET_COLOUR, linewidth=2.4, linestyle="--", zorder=3,
            label=f"Target (overall level {s.target_maturity_level})")
    ax.fill(closed, target, color=TARGET_COLOUR, alpha=0.10, zorder=2)
    cur = s.current_level
    ax.plot(closed, current, color=CURRENT_COLOUR, linewidth=2.4, zorder=4,
            label="Current" + (f" (overall level {cur})" if cur is not None else ""))
    ax.fill(closed, current, color=CURRENT_COLOUR, alpha=0.18, zorder=3)
    rated = [i for i, r in enumerate(rows) if r["rated"]]
    ax.scatter(angles[rated], target[rated], s=42, color=TARGET_COLOUR, zorder=5, edgecolor="white")
    ax.scatter(angles[rated], current[rated], s=42, color=CURRENT_COLOUR, zorder=6, edgecolor="white")

    fig.text(0.5, 0.962, f"MLOps maturity: {s.project_name}", ha="center", va="center", fontsize=16,
             fontweight="bold", color="#201f1e")
    fig.text(0.5, 0.928, "Current vs target level per dimension (centre = 0 no MLOps, outer ring = 4 "
             "full MLOps)", ha="center", va="center", fontsize=10.5, color="#605e5c")
    handles, names = ax.get_legend_handles_labels()
    order = [names.index(n) for n in names if n.startswith("Current")] + \
            [names.index(n) for n in names if n.startswith("Target")] + \
            [names.index(n) for n in names if n.startswith("In scope")]
    fig.legend([handles[i] for i in order], [names[i] for i in order], loc="center",
               bbox_to_anchor=(0.5, 0.085), ncol=3, frameon=False, fontsize=10.5)
    levels = list(MATURITY_LEVELS.items())
    for row, chunk in enumerate((levels[:3], levels[3:])):
        fig.text(0.5, 0.043 - 0.024 * row, "   ·   ".join(f"{lvl} = {name}" for lvl, name in chunk),
                 ha="center", va="center", fontsize=8.8, color="#605e5c")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, facecolor="white")
    return path


# ---------------------------------------------------------------------------
# Team charter


def _short(role_id: str) -> str:
    return ROLES_BY_ID[role_id].name.split(" / ")[0]


def stage_role_needs(catalogue: Any = None) -> dict[int, list[str]]:
    """Stage number -> the roles its tasks need (the S1-03 rule), in role order."""
    cat = catalogue if catalogue is not None else _catalogue()
    needs: dict[int, list[str]] = {}
    for stage in cat.stages:
        roles: set[str] = set()
        for task in stage.tasks:
            if set(task.roles) >= set(ROLE_IDS):  # "everyone": open to all, needs no one in particular
                continue
            roles.update(task.roles)
        needs[stage.number] = [r for r in ROLE_IDS if r in roles]
    return needs


def _catalogue() -> Any:
    from ..catalogue import load_catalogue

    return load_catalogue()


def role_needs(settings: Settings | Mapping[str, Any], catalogue: Any = None) -> dict[str, list[int]]:
    """Role id -> the stages that need it; the Scrum Master (stages []) when the method is Scrum."""
    s = load_settings(settings)
    out: dict[str, list[int]] = {}
    for number, roles in stage_role_needs(catalogue).items():
        for role in roles:
            out.setdefault(role, []).append(number)
    if s.agile_method == "scrum":
        out.setdefault("scrum_master", [])
    return {r: out[r] for r in ROLE_IDS if r in out}


@dataclass(frozen=True)
class _Stage:
    number: int
    title: str
    open_to_all: bool
    signoff_roles: frozenset[str] = field(default_factory=frozenset)


def _stages(catalogue: Any) -> list[_Stage]:
    return [_Stage(st.number, st.title,
                   any(set(t.roles) >= set(ROLE_IDS) for t in st.tasks),
                   frozenset(r for d in st.deliverables for r in d.signoff_roles))
            for st in catalogue.stages]


def team_charter(settings: Settings | Mapping[str, Any], catalogue: Any = None) -> Document:
    """Roster x roles x stages: who holds each role, where each role is needed, gaps flagged.

    Involvement codes per role and stage: R = the stage's tasks need the role (responsible for
    them), A = the role signs off one of the stage's deliverables (accountable), P = takes part
    through a task open to everyone. A needed role with nobody on the roster is UNCOVERED.
    """
    s = load_settings(settings)
    cat = catalogue if catalogue is not None else _catalogue()
    stages = _stages(cat)
    per_stage = stage_role_needs(cat)
    needs = role_needs(s, cat)
    holders: dict[str, list[Any]] = {r: [] for r in ROLE_IDS}
    for m in s.team_roster:
        for r in m.roles:
            holders[r].append(m)
    uncovered = {r: st for r, st in needs.items() if not holders[r]}

    def involvement(role: str, st: _Stage) -> str:
        codes = []
        if role in per_stage[st.number] or (role == "scrum_master" and role in needs):
            codes.append("R")
        if role in st.signoff_roles:
            codes.append("A")
        if not codes and st.open_to_all and holders[role]:
            codes.append("P")
        return "/".join(codes)

    def where(role: str) -> str:
        st = needs.get(role)
        if st is None:
            return "not needed by any stage"
        if not st:
            return "every sprint (the agile method is Scrum)"
        return "stage" + ("s " if len(st) > 1 else " ") + ", ".join(map(str, st))

    # CSV: one row per stage x role x person (or an UNCOVERED row with no person).
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["stage", "stage_title", "role", "role_name", "involvement", "person", "email",
                "allocation_pct", "status"])
    roles_in_play = [r for r in ROLE_IDS if r in needs or holders[r]]
    for st in stages:
        for role in roles_in_play:
            code = involvement(role, st)
            if not code:
                continue
            if holders[role]:
                for m in holders[role]:
                    w.writerow([st.number, st.title, role, ROLES_BY_ID[role].name, code, m.name, m.email,
                                m.allocation_pct, "covered"])
            elif role in needs:
                w.writerow([st.number, st.title, role, ROLES_BY_ID[role].name, code, "", "", "",
                            "UNCOVERED"])

    planned_roles = {p.role for p in s.skilling_plan}
    planned = {(p.role, p.skill_gap.strip().lower()) for p in s.skilling_plan}
    unplanned_gaps = [(m.name, g) for m in s.team_roster for g in m.skill_gaps
                      if not any((r, g.strip().lower()) in planned for r in m.roles)]
    data = {
        "project_name": s.project_name,
        "people": len(s.team_roster),
        "roles_needed": {r: st for r, st in needs.items()},
        "uncovered_roles": uncovered,
        "unstaffed_without_plan": sorted(r for r in uncovered if r not in planned_roles),
        "skill_gaps_without_plan": [{"person": p, "gap": g} for p, g in unplanned_gaps],
        "coverage": {r: [m.name for m in holders[r]] for r in roles_in_play},
    }

    out = [f"# Team charter: {s.project_name}", ""]
    coe = "yes" if s.ai_coe else "no"
    if s.ai_coe and s.ai_coe_activities:
        coe += " (" + ", ".join(a.replace("_", " ") for a in s.ai_coe_activities) + ")"
    out += [f"- Operating model: **{s.operating_model.replace('_', ' ')}**",
            f"- AI Centre of Excellence: **{coe}**",
            f"- Agile method: **{s.agile_method}**, {s.sprint_length_weeks}-week "
            f"{'sprints' if s.agile_method == 'scrum' else 'cadence'}",
            f"- {_plural(len(s.team_roster), 'person', 'people')} on the roster; "
            f"{_plural(len(needs), 'role')} needed by the stages", ""]
    if not s.team_roster:
        out += ["> **The roster is empty.** Add each person with their roles under 'Team roster' "
                "(stage 1, S1.T3).", ""]
    if uncovered:
        out += [f"> **{_plural(len(uncovered), 'role')} UNCOVERED**: "
                + "; ".join(f"{ROLES_BY_ID[r].name} ({where(r)})" for r in uncovered)
                + ". Every role a stage needs must have someone before that stage starts: add a person, "
                  "give someone on the roster the role, or plan it in the skilling plan.", ""]
    else:
        out += ["Every role the stages need has at least one person.", ""]

    out += ["## Roster", ""]
    if s.team_roster:
        out.append(md_table(
            ["Name", "E-mail", "Roles", "Data scientist type", "Allocation", "Location", "Skill gaps"],
            [(m.name, m.email, ", ".join(ROLES_BY_ID[r].name for r in m.roles),
              m.ds_type.replace("_", " ") if m.ds_type != "not_applicable" else "–",
              f"{m.allocation_pct} %", m.location or "–", ", ".join(m.skill_gaps) or "–")
             for m in s.team_roster]))
    else:
        out.append("Nobody yet.")
    out += ["", "## Roles x stages", "",
            "R = the stage's tasks need this role; A = signs off a deliverable of the stage; "
            "P = takes part in the tasks open to everyone.", ""]
    cov_rows = []
    for role in roles_in_play:
        status = "covered" if holders[role] else ("**UNCOVERED**" if role in needs else "–")
        cov_rows.append((ROLES_BY_ID[role].name, ", ".join(m.name for m in holders[role]) or "**nobody**",
                         *(involvement(role, st) or "" for st in stages), where(role), status))
    out.append(md_table(["Role", "Held by", *(f"S{st.number}" for st in stages), "Needed in", "Status"],
                        cov_rows))
    out += ["", "## People x stages", "", "The roles each person brings to each stage (R or A above).", ""]
    if s.team_roster:
        people_rows = []
        for m in s.team_roster:
            cells = []
            for st in stages:
                active = [r for r in m.roles if "R" in involvement(r, st) or "A" in involvement(r, st)]
                cells.append(", ".join(_short(r) for r in active) or ("takes part" if st.open_to_all else ""))
            people_rows.append((m.name, *cells))
        out.append(md_table(["Person", *(f"S{st.number} {st.title}" for st in stages)], people_rows))
    else:
        out.append("Nobody yet.")
    out += ["", "## Skilling plan", ""]
    if s.skilling_plan:
        out.append(md_table(["Role", "Skill gap", "Learning resource", "Due (week)"],
                            [(ROLES_BY_ID[p.role].name, p.skill_gap, p.learning_resource or "–", p.due_week)
                             for p in s.skilling_plan]))
    else:
        out.append("No entries.")
    todo = [f"skill gap '{g}' ({p}) has no skilling-plan entry" for p, g in unplanned_gaps]
    todo += [f"{ROLES_BY_ID[r].name} is uncovered and has no plan to staff or train someone"
             for r in data["unstaffed_without_plan"]]
    if todo:
        out += ["", "**Still to plan:**", ""] + [f"- {t}" for t in todo]
    out += ["", "## Sign-off", "",
            "The Group Manager signs off that these roles and responsibilities fit the ML growth journey "
            "(checklist item S1-03).", ""]
    return Document("\n".join(out), data, buf.getvalue())


# ---------------------------------------------------------------------------
# Delivery model

FRAMEWORKS = {
    "tdsp": ("Team Data Science Process (TDSP)",
             "Lifecycle Business Understanding → Data Acquisition & Understanding → Modeling → Deployment; "
             "a standard repository structure, one repository per project, shared infrastructure and "
             "utilities."),
    "dslp": ("Data Science Lifecycle Process (DSLP)",
             "Issue templates per kind of work, data-science branching, artifact management, and MLOps "
             "practices: versioning, logging and monitoring, CD with rollback, A/B tests, retraining."),
    "crisp_dm_agile": ("CRISP-DM with agile delivery",
                       "The CRISP-DM phases (business and data understanding, preparation, modelling, "
                       "evaluation, deployment) run inside agile sprints."),
    "custom": ("Custom process",
               "The team's own lifecycle: document its phases, project structure and templates."),
}
AGILE = {"scrum": "Scrum", "kanban": "Kanban", "other": "Other agile method"}
PLATFORMS = {"github": "GitHub", "azure_repos": "Azure Repos", "gitlab": "GitLab", "bitbucket": "Bitbucket",
             "azure_devops_pipelines": "Azure DevOps Pipelines", "github_actions": "GitHub Actions"}
BRANCHING = {
    "dslp": "DSLP branching: branches per kind of work (explore, experiment, feature), merged by pull request.",
    "dev_main_pr": "Work on a `dev` branch (short-lived feature branches off it); changes reach the protected "
                   "`main` only through a pull request, which triggers CI into test and production.",
    "github_flow": "Short-lived feature branches off `main`, merged by pull request; `main` is always "
                   "deployable.",
    "git_flow": "`develop` integration branch, feature, release and hotfix branches; `main` holds releases.",
    "trunk_based": "Everyone commits small changes to `main` (or branches living hours, not days), guarded "
                   "by CI and feature flags.",
}
TEST_LEVELS = {
    "L0": "In-memory unit tests: no external dependency",
    "L1": "Unit tests that may touch SQL or the file system",
    "L2": "Functional tests against a test deployment",
    "L3": "Restricted integration tests against production",
}


def ceremonies(method: str, sprint_weeks: int) -> list[tuple[str, str, str]]:
    """(ceremony, cadence, timebox) for the agile method; Scrum timeboxes scale with the sprint length."""
    w = sprint_weeks
    if method == "scrum":
        return [
            ("Sprint planning", "start of every sprint", f"up to {2 * w} h"),
            ("Daily stand-up", "every working day", "15 min"),
            ("Backlog refinement", "during the sprint", "up to 10 % of the team's time"),
            ("Sprint review (demo what shipped)", "end of every sprint", f"up to {w} h"),
            ("Retrospective", "end of every sprint", f"up to {0.75 * w:g} h"),
        ]
    if method == "kanban":
        return [
            ("Daily stand-up at the board", "every working day", "15 min"),
            ("Replenishment (pull new work, check WIP limits)", "weekly", "30-60 min"),
            ("Delivery review", f"every {_plural(w, 'week')}", "1 h"),
            ("Retrospective", f"every {_plural(w, 'week')}", "1 h"),
        ]
    return [("Planning, review and retrospective", f"every {_plural(w, 'week')}",
             "agree and document them in this note")]


def delivery_model(settings: Settings | Mapping[str, Any], repository: Mapping[str, Any] | None = None) -> str:
    """The delivery-model note: process, agile method and ceremonies, branching, repository, tests."""
    s = load_settings(settings)
    name, what = FRAMEWORKS[s.ds_process_framework]
    out = [f"# Delivery model: {s.project_name}", "",
           "How the team works: agreed in stage 1 (S1.T4) and signed off by the Team Lead "
           "(checklist item S1-05).", "",
           md_table(["Decision", "Choice"], [
               ("Data-science process", name),
               ("Agile method", AGILE[s.agile_method]),
               ("Sprint length" if s.agile_method == "scrum" else "Cadence",
                f"{_plural(s.sprint_length_weeks, 'week')} (the same for every team)"),
               ("Source control", PLATFORMS[s.source_control_platform]),
               ("CI/CD", PLATFORMS[s.cicd_platform]),
               ("Branching strategy", s.branching_strategy),
               ("Repository template", s.repo_template),
               ("Test levels", ", ".join(s.test_levels) or "none chosen"),
               ("Language", "Python" if s.language == "python" else "R (not covered by the templates)"),
           ]), "",
           "## Data-science process", "", f"**{name}.** {what}", "",
           f"## Way of working: {AGILE[s.agile_method]}", "",
           md_table(["Ceremony", "Cadence", "Timebox"], ceremonies(s.agile_method, s.sprint_length_weeks)),
           "",
           "Agile culture the team commits to:", "",
           "- Ship something usable every sprint; keep the sprint length the same across teams so they "
           "can plan together.",
           "- Keep the team stable (at least 12 months); move work to teams, not people between teams.",
           "- Prefer vertical feature teams (data, model and application together) over layer teams.",
           f"- Bug cap: an engineer with more than {s.max_active_bugs_per_engineer} active bugs fixes bugs "
           f"before starting new features.", "",
           "## Source control, branching and CI/CD", "",
           f"- Code lives on **{PLATFORMS[s.source_control_platform]}**; pipelines run on "
           f"**{PLATFORMS[s.cicd_platform]}**.",
           f"- Branching (`{s.branching_strategy}`): {BRANCHING[s.branching_strategy]}",
           "- Every commit builds and runs the fast tests (CI); branch policies protect `main` (review "
           "and green build required); releases go through staged environments with approval gates "
           "(CD, Stage 5).", "",
           "## Project repository", ""]
    folders = REPO_TEMPLATE_FOLDERS[s.repo_template]
    out.append(f"- Template: `{s.repo_template}`"
               + (f", top-level folders {', '.join(f'`{f}`' for f in folders)}" if folders else
                  " (no required folders)"))
    out.append(f"- URL: {s.repo_url or '**not set**: create the repository from the template and enter repo_url'}")
    if repository is not None:
        if repository.get("reachable"):
            found = {str(f).strip("/") for f in repository.get("folders") or []}
            missing = [f for f in folders if f not in found]
            state = "reachable" + (f"; missing template folder(s): {', '.join(missing)}" if missing
                                   else "; has the template's folders")
        else:
            state = f"**not reachable**: {repository.get('error') or 'no answer'}"
        out.append(f"- Probe: {state}")
    out += ["", "## Test taxonomy", "",
            md_table(["Level", "What it tests", "In use", "Budget"], [
                ("L0", TEST_LEVELS["L0"], "yes" if "L0" in s.test_levels else "no",
                 f"average < {s.test_l0_avg_ms} ms, none > {s.test_max_seconds:g} s"),
                ("L1", TEST_LEVELS["L1"], "yes" if "L1" in s.test_levels else "no",
                 f"average < {s.test_l1_avg_ms} ms, none > {s.test_max_seconds:g} s"),
                ("L2", TEST_LEVELS["L2"], "yes" if "L2" in s.test_levels else "no", "–"),
                ("L3", TEST_LEVELS["L3"], "yes" if "L3" in s.test_levels else "no", "–"),
            ]), "",
            "Write tests at the lowest level that can catch the problem; test code is product code. "
            "These levels become the test gates of the Stage 5 pipelines.", ""]
    if not s.test_levels:
        out += ["> **No test level is chosen**: pick at least L0 (fast unit tests).", ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Repository probe (S1-08 evidence)


def probe_repository(url: str, timeout: float = 30.0) -> dict[str, Any]:
    """Ask git whether the repository answers and list its default branch's top-level folders.

    Returns the S1-08 evidence: {"url", "reachable", "folders", "error"}. Uses the machine's git
    and its credential helpers; never prompts (a private repository without credentials is
    reported unreachable, with git's message).
    """
    result: dict[str, Any] = {"url": url, "reachable": False, "folders": [], "error": ""}
    if not url:
        result["error"] = "repo_url is empty"
        return result
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", "GIT_ASKPASS": ""}
    with tempfile.TemporaryDirectory(prefix="mlops-repo-probe-") as tmp:
        try:
            clone = subprocess.run(
                ["git", "-c", "advice.detachedHead=false", "clone", "--quiet", "--depth", "1",
                 "--no-checkout", "--filter=blob:none", url, tmp],
                capture_output=True, text=True, timeout=timeout, env=env)
        except FileNotFoundError:
            result["error"] = "git is not installed on this machine"
            return result
        except subprocess.TimeoutExpired:
            result["error"] = f"no answer within {timeout:g} s"
            return result
        if clone.returncode != 0:
            result["error"] = _git_error(clone.stderr)
            return result
        result["reachable"] = True
        tree = subprocess.run(["git", "-C", tmp, "ls-tree", "--name-only", "-d", "HEAD"],
                              capture_output=True, text=True, timeout=timeout, env=env)
        if tree.returncode != 0:
            result["error"] = "the repository is empty (no commit on its default branch)"
            return result
        result["folders"] = sorted(line for line in tree.stdout.splitlines() if line)
    return result


def _git_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines()
             if ln.strip() and not ln.startswith(("warning:", "hint:"))]
    text = lines[-1] if lines else "git clone failed"
    return text.removeprefix("fatal: ")
