"""The shapes of the REST API's answers, as pydantic models: the one description of each payload.

The server's answers are checked against them in tests (tests/test_payload_types.py), and the
sidebar's TypeScript types are generated from them (`python -m mlops_accelerator.tsgen`, written to
extension/src/payloads.ts; a test fails when the committed file differs from what the models give),
so the front end never copies a payload shape by hand.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

ItemState = Literal["done", "failed", "awaiting_signoff", "todo", "not_applicable"]
RunState = Literal["queued", "running", "succeeded", "failed", "unknown"]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(Payload):
    field: str
    rule: str
    value: Any = None
    message: str


class Role(Payload):
    id: str
    name: str
    group: str


class Signoff(Payload):
    by: str
    role: str
    comment: str | None
    ts: str


class CheckOutcome(Payload):
    """The latest automatic check of an item, as recorded."""

    passed: bool | None
    reason: str | None
    evidence: list[str] | None
    ts: str | None
    pending: bool | None  # not passed because the stage has not run yet: to do, not a failure


class SettingsChange(Payload):
    field: str
    old: Any = None
    new: Any = None


class Reapproval(Payload):
    """A sign-off whose stage settings changed afterwards: who signed, when, and what changed."""

    by: str | None
    role: str | None
    ts: str
    changes: list[SettingsChange]


class Item(Payload):
    id: str
    stage: int
    text: str
    verification: Literal["auto", "signoff", "auto+signoff"]
    state: ItemState
    reason: str
    signoff_roles: list[str]
    check: CheckOutcome | None
    stale: str | None  # why the latest check no longer holds (its inputs changed)
    reapproval: Reapproval | None
    signoffs: list[Signoff]


class LastRun(Payload):
    run_id: str | None
    status: str | None
    ts: str
    run_dir: str | None


class SettingsState(Payload):
    valid: bool
    errors: list[FieldError]


class DeliverableCounts(Payload):
    done: int
    total: int
    failed: int
    awaiting_signoff: int
    not_applicable: int


class StageStatus(Payload):
    number: int
    slug: str
    title: str
    roles: list[str]
    settings: SettingsState
    deliverables: DeliverableCounts
    last_run: LastRun | None
    items: list[Item]


class PreflightFinding(Payload):
    """One problem the last Azure pre-flight found (`preflight`, or an azureml run), and the setting to change."""

    env: str
    check: str
    message: str
    setting: str  # <stage slug>.<field path>


class Status(Payload):
    project: str
    root: str | None
    path: str
    stages: list[StageStatus]
    roles: list[Role]
    user: str
    voila: bool
    azureml_stages: list[str] = []  # the stages the azureml target runs in this release (REST API only)
    preflight: list[PreflightFinding] = []  # the last pre-flight's findings (REST API only)
    preflight_at: str | None = None


class StageInfo(Payload):
    """A stage's identity, from the catalogue."""

    number: int
    slug: str
    title: str
    folder: str  # NN-slug: its notebooks' and run outputs' folder


class Catalogue(Payload):
    stages: list[StageInfo]


class NotebookError(Payload):
    """Why a notebook failed: the cell, the exception's name and its message."""

    cell_index: int | None
    ename: str
    evalue: str
    exec_count: int | None = None


class RunNotebook(Payload):
    stage: str | None
    notebook: str | None
    status: str | None
    duration_s: float | None
    output: str | None
    error: NotebookError | None


class AzureJob(Payload):
    """A notebook's Azure ML job (the azureml target), as the run's ledger events last reported it."""

    key: str  # <stage folder>/<notebook>
    job: str
    status: str | None
    studio_url: str | None


class RunProgress(Payload):
    run_id: str
    state: RunState
    total: int | None
    finished: int
    notebooks: list[RunNotebook]
    run_dir: str | None
    outputs: list[str]
    log_tail: str
    jobs: list[AzureJob] = []


# The payloads the front end reads, in the order they are written to payloads.ts.
EXPORTED: tuple[type[Payload], ...] = (FieldError, Role, Signoff, CheckOutcome, SettingsChange, Reapproval, Item,
                                       LastRun, SettingsState, DeliverableCounts, StageStatus, PreflightFinding,
                                       Status, StageInfo, Catalogue, NotebookError, RunNotebook, AzureJob, RunProgress)
