"""Deliverable status, derived from the ledger; running checks; recording sign-offs.

Nothing here stores status: an item is done when its latest automatic check passed
(auto items) and someone allowed to sign has signed it (sign-off items). Both facts
are ledger events, so the history of every completion is kept.

Statuses never claim more than the project shows now. A check result records what it read
(the settings revision of every stage it looked at, the run whose evidence it used); when any of
those has changed since, the result is stale: the item is "todo" again (`stale` says why, and
`mlops-accelerator check` re-runs it). We chose "stale, re-check" over re-running checks on every
save because a check may read evidence and files, and a save must stay quick and side-effect
free; status derivation is cheap (revisions are hashes). A sign-off records the revision and the
settings of its stage; when they change afterwards, the item awaits re-approval, with the diff.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import UsageError
from .workspace import Project, diff

STATES = ("done", "failed", "awaiting_signoff", "todo", "not_applicable")


def _slugs() -> tuple[str, ...]:
    from .catalogue import stage_slugs

    return stage_slugs()


@dataclass
class ItemStatus:
    id: str
    stage: int
    text: str
    verification: str
    state: str
    reason: str
    check: dict[str, Any] | None = None  # latest check_run event
    signoffs: list[dict[str, Any]] = field(default_factory=list)
    signoff_roles: tuple[str, ...] = ()
    stale: str | None = None  # why the latest check result no longer holds (its inputs changed)
    # The sign-off no longer holds: {"by", "role", "ts", "changes": [{"field", "old", "new"}]}
    reapproval: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "stage": self.stage, "text": self.text,
            "verification": self.verification, "state": self.state, "reason": self.reason,
            "signoff_roles": list(self.signoff_roles),
            "check": None if self.check is None else {
                k: self.check.get(k) for k in ("passed", "reason", "evidence", "ts", "pending")},
            "stale": self.stale,
            "reapproval": self.reapproval,
            "signoffs": [{k: s.get(k) for k in ("by", "role", "comment", "ts")} for s in self.signoffs],
        }


def _condition_holds(condition: Any, effective: dict[str, dict[str, Any]]) -> bool:
    """An item with a condition (e.g. labeling only when required) applies only when it holds."""
    if condition is None:
        return True
    return effective[condition.stage].get(condition.setting) == condition.equals


def latest_evidence(events: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Stage slug -> evidence of its latest successful run.

    A `run_finished` event carries {"stages": {slug: {"status": ..., "evidence": {...}}}}.
    """
    return {slug: ev for slug, (ev, _) in latest_evidence_runs(events).items()}


def latest_evidence_runs(events: Iterable[dict[str, Any]]) -> dict[str, tuple[dict[str, Any], str]]:
    """Stage slug -> (evidence, run id) of its latest successful run."""
    evidence: dict[str, tuple[dict[str, Any], str]] = {}
    for event in events:
        if event["type"] == "run_finished":
            for slug, outcome in (event.get("stages") or {}).items():
                if outcome.get("status") == "succeeded":
                    evidence[slug] = (outcome.get("evidence") or {}, str(event.get("run_id", "")))
    return evidence


def _stale_reason(check: dict[str, Any], revisions: dict[str, str], runs: dict[str, str]) -> str | None:
    """Why a recorded check result no longer describes the project, or None if it still does."""
    inputs = check.get("inputs")
    if not isinstance(inputs, dict):
        return "checked by an earlier release that did not record what it read"
    changed = [s for s, rev in (inputs.get("settings") or {}).items() if revisions.get(s) != rev]
    evidence = inputs.get("evidence") or {}
    rerun = [s for s, run in evidence.items() if run and runs.get(s, "") != run]
    first = [s for s, run in evidence.items() if not run and runs.get(s)]
    parts = []
    if changed:
        parts.append(f"the settings of {', '.join(changed)} changed since")
    if rerun:
        parts.append(f"{', '.join(rerun)} ran again since")
    if first:
        parts.append(f"{', '.join(first)} has run since")
    return "; ".join(parts) or None


def statuses(project: Project, events: list[dict[str, Any]] | None = None) -> list[ItemStatus]:
    """Every checklist item with its state, in catalogue order (`events`: the ledger, if already read)."""
    from .catalogue import load_catalogue
    from .settings_cache import validated_settings

    slugs = _slugs()
    validated = validated_settings(project)  # cached per project-file content: never staler than the file
    effective, revisions = validated.effective(), validated.revisions()
    checks: dict[str, dict[str, Any]] = {}
    signoffs: dict[str, list[dict[str, Any]]] = {}
    events = list(project.events()) if events is None else events
    for event in events:
        if event["type"] == "check_run":
            checks[event["item"]] = event
        elif event["type"] == "signoff":
            signoffs.setdefault(event["item"], []).append(event)
    runs = {slug: run for slug, (_, run) in latest_evidence_runs(events).items()}

    out = []
    for item in load_catalogue().deliverables:
        check = checks.get(item.id) if item.is_auto else None
        signed = signoffs.get(item.id, [])
        stale = _stale_reason(check, revisions, runs) if check is not None else None
        slug = slugs[item.stage - 1]
        reapproval = _reapproval(signed[-1], revisions[slug], effective[slug]) if signed else None
        if not _condition_holds(item.condition, effective):
            c = item.condition
            state, reason = "not_applicable", f"applies only when {c.stage}.{c.setting} is {c.equals}"
        elif stale is not None:
            state = "todo"
            reason = (f"the last check ({check['ts'][:16].replace('T', ' ')}, "
                      f"{'passed' if check['passed'] else 'not passed'}) is stale: {stale}; re-check with "
                      f"'mlops-accelerator check {slug}'")
        elif item.is_auto and check is not None and not check["passed"]:
            state, reason = ("todo" if check.get("pending") else "failed"), check["reason"]
        elif item.is_auto and check is None:
            state, reason = "todo", "automatic check not run yet ('mlops-accelerator check')"
        elif item.needs_signoff and not signed:
            state = "awaiting_signoff" if item.is_auto else "todo"
            allowed = ", ".join(item.signoff_roles)
            reason = (f"{'check passed; ' if item.is_auto else ''}needs a sign-off by one of: {allowed}")
        elif item.needs_signoff and reapproval is not None:
            state = "awaiting_signoff"
            fields = ", ".join(c["field"] for c in reapproval["changes"][:6]) or "its settings"
            more = f" and {len(reapproval['changes']) - 6} more" if len(reapproval["changes"]) > 6 else ""
            reason = (f"signed off by {reapproval['by']} ({reapproval['role']}) on {reapproval['ts'][:10]}, but "
                      f"stage {item.stage} changed since ({fields}{more}): needs re-approval by one of: "
                      f"{', '.join(item.signoff_roles)}")
        else:
            state = "done"
            parts = []
            if check is not None:
                parts.append(check["reason"])
            if signed:
                s = signed[-1]
                parts.append(f"signed off by {s['by']} ({s['role']}) on {s['ts'][:10]}")
            reason = "; ".join(parts)
        out.append(ItemStatus(item.id, item.stage, item.text, item.verification, state, reason,
                              check, signed, tuple(item.signoff_roles), stale,
                              reapproval if item.needs_signoff else None))
    return out


def _reapproval(signoff: dict[str, Any], revision: str, effective: dict[str, Any]) -> dict[str, Any] | None:
    """The changes to the stage since a sign-off, or None if it still holds.

    A sign-off recorded before sign-offs carried their settings has nothing to compare: it holds.
    """
    if "settings_revision" not in signoff or signoff["settings_revision"] == revision:
        return None
    changes = diff(signoff.get("settings") or {}, effective)
    return {"by": signoff.get("by"), "role": signoff.get("role"), "ts": signoff.get("ts", ""),
            "changes": changes}


def check_context(project: Project):
    from .checks import CheckContext

    doc = project.read_document()
    slugs = _slugs()
    settings = {slug: project.settings_or_errors(slug, doc)[0] for slug in slugs}
    runs = latest_evidence_runs(project.events())
    return CheckContext(settings=settings, evidence={s: ev for s, (ev, _) in runs.items()},
                        project_dir=project.root,
                        revisions={slug: project.revision(slug, doc) for slug in slugs},
                        evidence_runs={s: run for s, (_, run) in runs.items()})


def run_checks(project: Project, stage_numbers: Iterable[int] | None = None) -> list[tuple[Any, Any]]:
    """Run the automatic checks of the given stages (all by default) and record the results."""
    from . import ledger
    from .catalogue import load_catalogue
    from .checks import run_check
    from .fsutil import project_lock

    wanted = set(stage_numbers) if stage_numbers else None
    ctx = check_context(project)
    results = []
    for item in load_catalogue().deliverables:
        if item.is_auto and (wanted is None or item.stage in wanted):
            results.append((item, run_check(item.id, ctx)))
    with project_lock(project.lock_path):
        for item, result in results:
            ledger.append(project.ledger_path, ledger.new_event(
                "check_run", item=item.id, stage=_slugs()[item.stage - 1], **result.to_dict()))
    return results


def resolve_role(role: str) -> str:
    """Accept a role id ('team_lead'), its name ('Team Lead') or an alias."""
    from .roles import ROLES

    wanted = role.strip().lower().replace("-", " ").replace("_", " ")
    for r in ROLES:
        names = {r.id.replace("_", " "), r.name.lower(), *(a.lower() for a in r.aliases)}
        if wanted in names:
            return r.id
    raise UsageError(f"unknown role {role!r}; roles: {', '.join(r.id for r in ROLES)}")


def roster_person(project: Project, who: str, doc: Any = None) -> dict[str, Any] | None:
    """The stage-1 roster entry whose name or e-mail (or e-mail's user part) is `who`."""
    wanted = who.strip().casefold()
    roster = project.effective_settings("foundations", doc).get("team_roster") or []
    for person in roster:
        if not isinstance(person, dict):
            continue
        email = str(person.get("email") or "").casefold()
        if wanted and wanted in (str(person.get("name") or "").strip().casefold(), email, email.split("@")[0]):
            return person
    return None


def sign_off(project: Project, item_id: str, by: str, role: str, comment: str = "", *,
             identity: dict[str, Any] | None = None) -> dict[str, Any]:
    """Record a sign-off; refused (nothing written) unless `by` is on the roster with an allowed role.

    `by` names a person on the stage-1 team roster (name or e-mail) who holds `role`;
    `identity` is who is really at the keyboard (the OS and git user for the CLI, the signed-in
    Jupyter user for the server), recorded beside the name so a sign-off can be traced.
    """
    from .catalogue import load_catalogue
    from .secret_scan import secret_kind, secret_message
    from .settings.guards import MAX_TEXT

    item = load_catalogue().deliverable(item_id)
    role_id = resolve_role(role)
    if not by.strip():
        raise UsageError("--by must name the person signing off")
    if not item.needs_signoff:
        raise UsageError(f"{item.id} is proven by its automatic check and takes no sign-off; "
                         "run 'mlops-accelerator check'")
    if role_id not in item.signoff_roles:
        raise UsageError(f"{item.id} may be signed off only by: {', '.join(item.signoff_roles)} "
                         f"(rule: signoff_role; got role {role_id!r})")
    if len(comment) > MAX_TEXT:
        raise UsageError(f"the comment is {len(comment):,} characters long; at most {MAX_TEXT:,} are allowed")
    kind = secret_kind(comment)
    if kind:
        raise UsageError(f"the comment {secret_message(kind)}; nothing was recorded")
    slug = _slugs()[item.stage - 1]
    doc = project.read_document()  # a broken project file refuses the sign-off like every command
    person = roster_person(project, by, doc)
    if person is None:
        raise UsageError(f"{by.strip()!r} is not on the team roster (stage 1, team_roster): only people on "
                         "the roster may sign off; add them with their roles first (rule: signoff_roster)")
    if role_id not in (person.get("roles") or []):
        raise UsageError(f"{person['name']} does not hold the role {role_id!r} on the team roster "
                         f"(their roles: {', '.join(person.get('roles') or []) or 'none'}); "
                         "rule: signoff_roster_role")
    if item.signoff_after:
        state = {st.id: st for st in statuses(project) if st.id in item.signoff_after}
        waiting = [f"{i} is {state[i].state.replace('_', ' ')}" + (f" ({state[i].reason})" if state[i].reason else "")
                   for i in item.signoff_after if i in state and state[i].state != "done"]
        if waiting:
            raise UsageError(f"{item.id} can be signed off only once {', '.join(item.signoff_after)} "
                             f"{'is' if len(item.signoff_after) == 1 else 'are'} done; now {'; '.join(waiting)}. "
                             "Run 'mlops-accelerator check' after fixing it (rule: signoff_after)")
    from .ledger import current_actor

    identity = dict(identity or {})
    return project.record("signoff", item=item.id, stage=slug,
                          by=person["name"], email=person.get("email"), role=role_id, comment=comment,
                          identity=identity, actor=identity.get("user") or current_actor(),
                          # What was approved: the stage's settings now, so a later change asks for re-approval.
                          settings_revision=project.revision(slug, doc),
                          settings=project.effective_settings(slug, doc))


def local_identity(folder: Any = None) -> dict[str, Any]:
    """Who runs this command: the OS user, and the git identity configured for the folder."""
    import getpass
    import shutil
    import subprocess

    identity: dict[str, Any] = {"via": "cli", "user": getpass.getuser()}
    if shutil.which("git"):
        for key in ("user.name", "user.email"):
            try:
                out = subprocess.run(["git", "config", "--get", key], cwd=folder, capture_output=True,
                                     text=True, timeout=5)
            except (OSError, subprocess.SubprocessError):
                continue
            if out.returncode == 0 and out.stdout.strip():
                identity[f"git_{key.split('.')[1]}"] = out.stdout.strip()
    return identity
