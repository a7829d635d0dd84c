"""Automatic deliverable checks: one small registered function per checklist item.

A check reads the project's validated settings and the evidence that stage runs left
(see `CheckContext`) and returns pass or fail with a reason a person can act on.
The per-stage modules register themselves on import; `all_checks()` imports them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings.base import StageSettings


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    reason: str
    evidence: tuple[str, ...] = ()  # paths (relative to the project) or short facts
    pending: bool = False  # not passed because the stage has not run yet: to do, not a failure

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "reason": self.reason, "evidence": list(self.evidence),
                "pending": self.pending}


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

    def stage(self, slug: str) -> Any:
        """The stage's settings model; raises MissingInput when invalid."""
        model = self.settings.get(slug)
        if model is None:
            raise MissingInput(f"the saved settings of stage '{slug}' are invalid: "
                               f"run 'mlops-accelerator validate {slug}'")
        return model

    def run_evidence(self, slug: str, number: int) -> dict[str, Any]:
        """Evidence from the stage's latest successful run; raises MissingInput if none."""
        ev = self.evidence.get(slug)
        if not ev:
            raise NoEvidenceYet(f"no run evidence yet: run stage {number} "
                               f"('mlops-accelerator run {slug}')")
        return ev


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

CHECK_MODULES = ("foundations", "design", "deploy", "data", "models", "monitor", "migrate")


def auto_check(item_id: str) -> Callable[[CheckFn], CheckFn]:
    """Register `fn` as the automatic check of checklist item `item_id` (e.g. "S1-04")."""

    def register(fn: CheckFn) -> CheckFn:
        if item_id in _REGISTRY:
            raise ValueError(f"two checks registered for {item_id}")
        _REGISTRY[item_id] = fn
        return fn

    return register


def all_checks() -> dict[str, CheckFn]:
    for name in CHECK_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    return dict(_REGISTRY)


def run_check(item_id: str, ctx: CheckContext) -> CheckResult:
    fn = all_checks()[item_id]
    try:
        return fn(ctx)
    except NoEvidenceYet as exc:
        return CheckResult(False, str(exc), pending=True)
    except MissingInput as exc:
        return failed(str(exc))
