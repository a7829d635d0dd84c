"""Automatic deliverable checks: one small registered function per checklist item.

A check reads the project's validated settings and the evidence that stage runs left
(see `CheckContext`) and returns pass or fail with a reason a person can act on.
The per-stage modules register themselves on import; `all_checks()` imports them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..settings.base import StageSettings


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    reason: str
    evidence: tuple[str, ...] = ()  # paths (relative to the project) or short facts
    pending: bool = False  # not passed because the stage has not run yet: to do, not a failure
    # What the check read: {"settings": {slug: revision}, "evidence": {slug: run_id}}; a later
    # change to any of them makes the result stale (see deliverables.statuses).
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "reason": self.reason, "evidence": list(self.evidence),
                "pending": self.pending, "inputs": self.inputs}


def passed(reason: str, *evidence: str) -> CheckResult:
    return CheckResult(True, reason, tuple(evidence))


def failed(reason: str, *evidence: str) -> CheckResult:
    return CheckResult(False, reason, tuple(evidence))


@dataclass
class CheckContext:
    """What a check may read.

    settings: stage slug -> validated settings model, or None when the stage's saved
        settings are invalid (a check then fails, saying so).
    evidence: stage slug -> the evidence dict its latest successful run recorded
        (absent until the stage has run; filled by the runner).
    project_dir: the project workspace folder (artifacts paths are relative to it).
    """

    settings: dict[str, StageSettings | None]
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    project_dir: Path | None = None
    revisions: dict[str, str] = field(default_factory=dict)  # stage slug -> settings revision
    evidence_runs: dict[str, str] = field(default_factory=dict)  # stage slug -> run id of its evidence

    def __post_init__(self) -> None:
        self.settings = _ReadLog(self.settings)
        self.evidence_read: set[str] = set()

    def start_reading(self) -> None:
        """Forget what earlier checks read: each result records its own inputs."""
        self.settings.read.clear()
        self.evidence_read.clear()

    def inputs(self) -> dict[str, dict[str, str]]:
        """The settings revisions and evidence runs read since start_reading()."""
        return {"settings": {s: self.revisions.get(s, "") for s in sorted(self.settings.read)},
                "evidence": {s: self.evidence_runs.get(s, "") for s in sorted(self.evidence_read)}}

    def stage(self, slug: str) -> Any:
        """The stage's settings model; raises MissingInput when invalid."""
        model = self.settings.get(slug)
        if model is None:
            raise MissingInput(f"the saved settings of stage '{slug}' are invalid: "
                               f"run 'mlops-accelerator validate {slug}'")
        return model

    def run_evidence(self, slug: str, number: int) -> dict[str, Any]:
        """Evidence from the stage's latest successful run, read through the stage's evidence model;
        NoEvidenceYet if the stage has not run (or has no notebooks yet)."""
        from ..evidence import EvidenceError, read_evidence

        self.evidence_read.add(slug)
        ev = self.evidence.get(slug)
        if not ev:
            raise NoEvidenceYet(run_advice(slug, number))
        try:
            return read_evidence(slug, ev)
        except EvidenceError as exc:
            raise MissingInput(f"the latest stage {number} run recorded evidence this release cannot read "
                               f"({exc}): re-run it ('mlops-accelerator run {slug}')") from None


class _ReadLog(dict):
    """A dict that remembers which keys were read (which stages' settings a check used)."""

    def __init__(self, data: Any):
        super().__init__(data)
        self.read: set[str] = set()

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self.read.add(key)
        return super().__getitem__(key)


def run_advice(slug: str, number: int) -> str:
    """What to do when a stage has left no evidence: a command that exists for this stage."""
    from ..templates import stage_templates

    if stage_templates(slug):
        return f"no run evidence yet: run stage {number} ('mlops-accelerator run {slug}')"
    return (f"no run evidence yet: stage {number} has no notebooks in this release, so nothing records its "
            f"evidence; it stays to do (the stage's settings can be completed in its wizard meanwhile: "
            f"'mlops-accelerator settings show {slug}')")


class MissingInput(Exception):
    """A check cannot decide because an input is missing: reported as a failure with this reason."""


class NoEvidenceYet(MissingInput):
    """The stage has not run successfully yet: the item is still to do, not failed."""


# -- small helpers every stage's checks share ----------------------------------

OK_STATUSES = frozenset({"succeeded", "completed", "success", "passed"})


def succeeded(status: Any) -> bool:
    """A run or job status as Azure ML, GitHub or Azure DevOps spell success."""
    return str(status or "").strip().lower() in OK_STATUSES


def need(ev: dict[str, Any], key: str, number: int, slug: str, what: str) -> Any:
    """ev[key], or MissingInput naming the key and how to produce it."""
    value = ev.get(key)
    if value is None:
        model = getattr(ev, "model", None)
        if model is not None and key in model.fields_from_azure():
            raise NoEvidenceYet(f"not known until the environments are deployed to Azure and read back "
                                f"({what}); the local target deploys nothing")
        raise MissingInput(f"the latest stage {number} run recorded no '{key}' evidence ({what}): re-run "
                           f"the stage's notebooks to completion ('mlops-accelerator run {slug}')")
    return value


def artifact(ctx: CheckContext, ev: dict[str, Any], key: str) -> str | None:
    """Project-relative path of an artifact the run recorded, if it (still) exists."""
    path = (ev.get("artifacts") or {}).get(key)
    if not path:
        return None
    if ctx.project_dir is not None and not (Path(ctx.project_dir) / path).exists():
        return None
    return str(path)


def listing(items: list[str], limit: int = 6) -> str:
    """'a, b, c and 4 more': keeps reasons readable."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


CheckFn = Callable[[CheckContext], CheckResult]
_REGISTRY: dict[str, CheckFn] = {}



def auto_check(item_id: str) -> Callable[[CheckFn], CheckFn]:
    """Register `fn` as the automatic check of checklist item `item_id` (e.g. "S1-04")."""

    def register(fn: CheckFn) -> CheckFn:
        if item_id in _REGISTRY:
            raise ValueError(f"two checks registered for {item_id}")
        _REGISTRY[item_id] = fn
        return fn

    return register


def all_checks() -> dict[str, CheckFn]:
    from ..catalogue import stage_slugs

    for name in stage_slugs():  # one check module per stage, named by its slug
        importlib.import_module(f"{__name__}.{name}")
    return dict(_REGISTRY)


def run_check(item_id: str, ctx: CheckContext) -> CheckResult:
    fn = all_checks()[item_id]
    ctx.start_reading()
    try:
        result = fn(ctx)
    except NoEvidenceYet as exc:
        result = CheckResult(False, str(exc), pending=True)
    except MissingInput as exc:
        result = failed(str(exc))
    return replace(result, inputs=ctx.inputs())
