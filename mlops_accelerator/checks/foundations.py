"""Automatic checks of stage 1 (MLOps Foundations): S1-03 to S1-08.

S1-01 and S1-02 are sign-offs only. The checks read the stage-1 settings
(`ctx.stage("foundations")`), the stage catalogue (which roles each stage's tasks need) and,
for S1-05 and S1-08, the evidence of the latest successful stage-1 run
(`ctx.run_evidence("foundations", 1)`). The stage-1 notebooks must record exactly these keys
(artifact paths through `Evidence.artifact`, so they land under "artifacts"):

    {
      "artifacts": {
        "delivery_model_note": "foundations/delivery-model.md"   # S1-05: the note generated from
      },                                                         #   the delivery-model answers
      "repository": {                                            # S1-08: probe of the project repo
        "url": "https://github.com/contoso/churn-model",         #   the URL probed (= repo_url)
        "reachable": true,                                       #   it answered (git ls-remote / API)
        "folders": ["configuration", "src", "docs", ...],        #   top-level folders of its default branch
        "error": ""                                              #   why it was not reachable, if not
      }
    }

Which roles a project needs: the roles of every task in the catalogue, except tasks open to
"everyone" (every role may join them; they create no need), plus the Scrum Master when the
agile method is Scrum. This module also holds the small helpers the stage 2-3 modules share.
"""

from __future__ import annotations

from typing import Any

from ..roles import ROLE_IDS
from ..settings.foundations import DIMENSIONS, MATURITY_LEVELS, REPO_TEMPLATE_FOLDERS
from . import CheckContext, CheckResult, artifact, auto_check, failed, listing, need, passed

# ---------------------------------------------------------------------------
# Shared helpers








def needed_roles(foundations: Any = None) -> dict[str, list[int]]:
    """Role id -> the stage numbers whose tasks need it (see the module docstring)."""
    from ..catalogue import load_catalogue

    needs: dict[str, list[int]] = {}
    for stage in load_catalogue().stages:
        for task in stage.tasks:
            if set(task.roles) >= set(ROLE_IDS):  # "everyone": open to all, requires no one
                continue
            for role in task.roles:
                if stage.number not in needs.setdefault(role, []):
                    needs[role].append(stage.number)
    if foundations is not None and foundations.agile_method == "scrum":
        needs.setdefault("scrum_master", [])
    return needs


def roster_roles(foundations: Any) -> set[str]:
    return {role for member in foundations.team_roster for role in member.roles}


def uncovered_roles(foundations: Any) -> dict[str, list[int]]:
    """Needed roles nobody on the roster holds, with the stages needing them."""
    held = roster_roles(foundations)
    return {role: stages for role, stages in needed_roles(foundations).items() if role not in held}


def _role_need(role: str, stages: list[int]) -> str:
    if not stages:
        return f"{role} (the agile method is Scrum)"
    return f"{role} (stage{'s' if len(stages) > 1 else ''} {', '.join(map(str, sorted(stages)))})"


# ---------------------------------------------------------------------------
# Checks


@auto_check("S1-03")
def roster_covers_roles(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("foundations")
    if not s.team_roster:
        return failed("the team roster is empty: add each person with their roles under 'Team roster' "
                      "(stage 1)")
    missing = uncovered_roles(s)
    if missing:
        names = [_role_need(r, st) for r, st in sorted(missing.items(), key=lambda kv: min(kv[1] or [0]))]
        return failed(f"{len(missing)} role(s) have no one on the roster: {listing(names, 10)}; add people "
                      f"or give someone on the roster these roles")
    return passed(f"every role the stages need has someone: {len(needed_roles(s))} roles across "
                  f"{len(s.team_roster)} people; the Group Manager still signs off the roles and "
                  f"responsibilities")


@auto_check("S1-04")
def maturity_assessed(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("foundations")
    assessed = {d.dimension for d in s.maturity_assessment}
    missing = [d for d in DIMENSIONS if d not in assessed]
    if missing:
        return failed(f"the maturity assessment lacks {len(missing)} of 4 dimension(s): "
                      f"{', '.join(missing)}; rate each 0-4 (current and target) under 'Maturity assessment'")
    current = s.current_level
    lowest = min(s.maturity_assessment, key=lambda d: d.current_level)
    target = s.target_maturity_level
    return passed(f"current level {current} ({MATURITY_LEVELS[current]}), limited by {lowest.dimension}; "
                  f"target {target} ({MATURITY_LEVELS[target]})")


@auto_check("S1-05")
def delivery_model_agreed(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("foundations")
    # Every choice has a recommended default; only the test levels can be left empty.
    if not s.test_levels:
        return failed("no test level is chosen: pick at least L0 (fast unit tests) under 'Test levels' "
                      "(stage 1, delivery model)")
    ev = ctx.run_evidence("foundations", 1)
    note = artifact(ctx, ev, "delivery_model_note")
    if note is None:
        return failed("the delivery-model note was not generated (or was deleted): re-run stage 1 "
                      "('mlops-accelerator run foundations')")
    return passed(f"delivery model: {s.ds_process_framework}, {s.agile_method} with "
                  f"{s.sprint_length_weeks}-week sprints, {s.branching_strategy} branching on "
                  f"{s.source_control_platform}, CI/CD on {s.cicd_platform}, tests "
                  f"{'/'.join(s.test_levels)}; the Team Lead still signs it off", note)


@auto_check("S1-06")
def target_maturity_agreed(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("foundations")
    current, target = s.current_level, s.target_maturity_level
    if current is None:
        return failed("the current maturity level is unknown: complete the maturity assessment first (S1-04)")
    if target < current:
        return failed(f"the target level {target} is below the current level {current}: raise "
                      f"target_maturity_level")
    if target < 2:
        return failed(f"the target level {target} ({MATURITY_LEVELS[target]}) is below the accelerator's "
                      f"baseline: set target_maturity_level to 2 (automated training) or 3 (automated "
                      f"model deployment)")
    if target == 4 and current < 3:
        return failed(f"level 4 (full automated retraining) from level {current} is beyond a 12-week "
                      f"project: target 2 or 3 now and plan level 4 as a follow-up")
    return passed(f"target level {target} ({MATURITY_LEVELS[target]}) from current level {current}; the "
                  f"Group Manager still signs it off")


@auto_check("S1-07")
def skilling_plan_covers_gaps(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("foundations")
    planned = {(p.role, p.skill_gap.strip().lower()) for p in s.skilling_plan}
    planned_roles = {p.role for p in s.skilling_plan}
    problems = []
    for member in s.team_roster:
        for gap in member.skill_gaps:
            if not any((role, gap.strip().lower()) in planned for role in member.roles):
                problems.append(f"'{gap}' ({member.name})")
    unstaffed = sorted(r for r in uncovered_roles(s) if r not in planned_roles)
    if problems or unstaffed:
        parts = []
        if problems:
            parts.append(f"skill gaps flagged on the roster without a plan: {listing(problems)}")
        if unstaffed:
            parts.append(f"roles nobody holds yet, with no plan to staff or train someone: "
                         f"{listing(unstaffed)}")
        return failed(f"{'; '.join(parts)}: add a skilling-plan entry (role, skill gap, learning resource, "
                      f"due week) for each")
    gaps = sum(len(m.skill_gaps) for m in s.team_roster)
    if not gaps and not s.skilling_plan:
        return passed("no skill gaps are flagged on the roster and every needed role is staffed")
    one = len(s.skilling_plan) == 1
    return passed(f"{len(s.skilling_plan)} skilling-plan entr{'y covers' if one else 'ies cover'} "
                  f"the {gaps} flagged skill gap(s)")


@auto_check("S1-08")
def repository_from_template(ctx: CheckContext) -> CheckResult:
    s = ctx.stage("foundations")
    if not s.repo_url:
        return failed("repo_url is empty: create the project repository from the "
                      f"{s.repo_template} template and enter its URL (stage 1, delivery model)")
    repo = need(ctx.run_evidence("foundations", 1), "repository", 1, "foundations",
                "a probe of the project repository")
    if _norm_url(repo.get("url")) != _norm_url(s.repo_url):
        return failed(f"the last stage-1 run probed {repo.get('url') or 'no repository'}, not {s.repo_url}: "
                      f"re-run stage 1")
    if not repo.get("reachable"):
        why = f" ({repo['error']})" if repo.get("error") else ""
        return failed(f"{s.repo_url} could not be reached{why}: check the URL and that the run's identity "
                      f"can read it")
    folders = {str(f).strip("/") for f in repo.get("folders") or []}
    missing = [f for f in REPO_TEMPLATE_FOLDERS[s.repo_template] if f not in folders]
    if missing:
        return failed(f"{s.repo_url} lacks the {s.repo_template} template's folder(s) {', '.join(missing)}: "
                      f"create the repository from the template (or add them)")
    return passed(f"{s.repo_url} is reachable and has the {s.repo_template} folder layout", s.repo_url)


def _norm_url(url: Any) -> str:
    text = str(url or "").strip().lower().rstrip("/")
    return text[:-4] if text.endswith(".git") else text
