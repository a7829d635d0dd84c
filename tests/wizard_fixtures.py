"""Fixtures and helpers shared by the headless wizard tests (tests/test_wizard_*.py).

Widgets are traitlets objects: setting `.value` and calling `button.click()` fire observers
synchronously, so the wizards are driven here without a browser or a kernel.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("MLOPS_ACCELERATOR_USER", "pytest")

STAGES = ("foundations", "design", "deploy", "data", "models", "monitor", "migrate")


@pytest.fixture
def wproject(tmp_path):
    from mlops_accelerator.workspace import Project

    return Project.create(tmp_path / "proj", "contoso-churn")


def wizard(project: Any, stage: str, **kwargs: Any):
    from mlops_accelerator.wizard import stage_wizard

    return stage_wizard(stage, project, autopoll=False, **kwargs)


def to_settings(w: Any) -> None:
    """Guide -> Settings."""
    assert w.next(), w.blocker(w.step_name)
    assert w.step_name == "settings"


def save_through_steps(w: Any) -> bool:
    """Settings -> Review & save -> Save, as the browser sends it (a `save` message)."""
    assert w.step_name == "settings"
    if not w.next():
        return False
    assert w.step_name == "review"
    browser_save(w)
    return w.conflict is None and not w.changes()


def browser_save(w: Any, overwrite: bool = False) -> None:
    """What the Save button sends: the browser marks `saving`, then the message arrives."""
    w.app.set_state({"saving": True})
    w._on_msg(w.app, {"type": "save", "overwrite": overwrite}, [])
    assert w.app.saving is False


def set_text(w: Any, path: str, value: Any) -> None:
    w.edit(path, value)


def errors_at(w: Any, path: str) -> list[Any]:
    return [e for e in w.errors() if e.field == path]


def sent_errors(w: Any, path: str) -> list[dict[str, Any]]:
    """The errors the browser was sent for one field (it shows them beside that field)."""
    return [e for e in w.app.errors if e["field"] == path]


def saved(project: Any, stage: str) -> dict[str, Any]:
    return project.effective_settings(stage)


def file_text(project: Any) -> str:
    return project.path.read_text()


def write_fake_run(project: Any, run_id: str, *, fail: bool = False, chart: bytes | None = None) -> dict[str, Any]:
    """Files a finished run leaves in runs/<id>/ (for the fake runs module)."""
    run_dir = project.root / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    nb = {"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": []},
                    {"cell_type": "code", "source": "raise ValueError('no storage account called Bad')",
                     "metadata": {}, "outputs": []}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (run_dir / "01-maturity.ipynb").write_text(json.dumps(nb))
    (run_dir / "maturity-report.md").write_text("# Maturity\n\nLevel 1 -> 2\n")
    if chart is not None:
        (run_dir / "maturity-radar.png").write_bytes(chart)
    return {"run_dir": str(Path("runs") / run_id)}


class FakeRuns:
    """Stands in for mlops_accelerator.runs: scripted progress, no subprocess."""

    def __init__(self, project: Any, *, fail: bool = False):
        self.project = project
        self.fail = fail
        self.started: list[tuple[list[str], dict[str, Any]]] = []
        self.polls = 0

    def start_background_run(self, project: Any, stages: list[str], **kw: Any) -> str:
        self.started.append((stages, kw))
        return "run-test-1"

    def run_progress(self, project: Any, run_id: str) -> dict[str, Any]:
        self.polls += 1
        png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                            "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
        if self.polls == 1:
            return {"run_id": run_id, "state": "running", "total": 2, "finished": 0, "notebooks": [],
                    "run_dir": "runs/run-test-1", "outputs": [], "log_tail": "starting 01-maturity.ipynb\n"}
        info = write_fake_run(project, run_id, chart=png)
        nb2 = {"stage": "foundations", "notebook": "01-maturity.ipynb",
               "status": "failed" if self.fail else "succeeded", "duration_s": 1.5,
               "output": "runs/run-test-1/01-maturity.ipynb",
               "error": {"cell_index": 1, "ename": "ValueError", "evalue": "no storage account called Bad"}
               if self.fail else None}
        outputs = ["runs/run-test-1/01-maturity.ipynb", "runs/run-test-1/maturity-report.md",
                   "runs/run-test-1/maturity-radar.png"]
        return {"run_id": run_id, "state": "failed" if self.fail else "succeeded", "total": 1,
                "finished": 1, "notebooks": [nb2], "run_dir": info["run_dir"], "outputs": outputs,
                "log_tail": "starting 01-maturity.ipynb\nfinished\n"}


@pytest.fixture
def fake_runs(monkeypatch, wproject):
    import mlops_accelerator.runs as runs

    fake = FakeRuns(wproject)
    monkeypatch.setattr(runs, "start_background_run", fake.start_background_run)
    monkeypatch.setattr(runs, "run_progress", fake.run_progress)
    return fake


def deep(d: Any) -> Any:
    return copy.deepcopy(d)
