"""The append-only event ledger of a project (`.mlops-accelerator/ledger.jsonl`).

One JSON object per line. Every decision and completion is an event: settings saved
(with a diff), notebooks generated, runs started and finished, checks run, sign-offs.
Deliverable status is derived from it, never stored separately.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import ProjectFileError

EVENT_TYPES = (
    "project_created", "settings_saved", "notebooks_generated", "run_started",
    "notebook_finished", "run_finished", "check_run", "signoff",
    "monitor_pass", "alert_raised", "retraining",  # stage 6: monitoring passes, alerts, the retraining loop
    "model_approval",  # stage 5: a model version approved (or not) for production, and by whom
    "azureml_job",  # the azureml target: a notebook's Azure ML job changed status
)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def current_actor() -> str:
    return os.environ.get("MLOPS_ACCELERATOR_USER") or getpass.getuser()


def new_event(type_: str, **payload: Any) -> dict[str, Any]:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown ledger event type {type_!r}")
    return {"id": uuid.uuid4().hex[:12], "ts": now_iso(), "type": type_,
            "actor": payload.pop("actor", None) or current_actor(), **payload}


def append(path: Path, event: dict[str, Any]) -> None:
    """Append one event; the caller holds the project lock.

    A writer killed mid-line leaves a line without its newline: start on a fresh line
    then, so the damage stays confined to that one (skipped) line. A write that fails
    (disk full, read-only folder) is undone: the ledger is cut back to where it was, and
    the error says so, so the ledger never holds half an event nor one that did not happen.
    """
    from .fsutil import write_failed

    line = json.dumps(event, ensure_ascii=False, sort_keys=False, default=str)
    try:
        fh = open(path, "a+b")
    except OSError as exc:
        raise write_failed(path, exc) from exc
    with fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        prefix = b""
        if size > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                prefix = b"\n"
        try:
            fh.write(prefix + line.encode("utf-8") + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        except OSError as exc:
            with contextlib.suppress(OSError):
                fh.truncate(size)
                os.fsync(fh.fileno())
            raise write_failed(path, exc) from exc


def undo_append(path: Path, size: int) -> None:
    """Cut the ledger back to `size` bytes: the event just appended did not take effect."""
    with open(path, "r+b") as fh:
        fh.truncate(size)
        os.fsync(fh.fileno())


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


# Fields each event type must carry, with their JSON types: what the readers (status, checks,
# runs, reports) rely on. An event that breaks them is skipped and reported, never a traceback.
_STR, _NUM, _OPT_STR = (str,), (int, float), (str, type(None))
EVENT_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "project_created": {},
    "settings_saved": {"stage": _STR, "changes": (list,)},
    "notebooks_generated": {"notebooks": (dict,)},
    "run_started": {"run_id": _STR, "notebooks": (list,)},
    "notebook_finished": {"run_id": _STR, "key": _STR, "status": _STR},
    "run_finished": {"run_id": _STR, "status": _STR, "stages": (dict,)},
    "check_run": {"item": _STR, "passed": (bool,), "reason": _STR},
    "signoff": {"item": _STR, "by": _STR, "role": _STR},
    "monitor_pass": {"pass_id": _STR, "status": _STR},
    "alert_raised": {"alert_id": _STR, "signal": _STR, "pass_id": _STR},
    "retraining": {"status": _STR, "alert_ids": (list,)},
    "azureml_job": {"run_id": _STR, "key": _STR, "job": _STR, "status": _STR},
}
_OPTIONAL: dict[str, dict[str, tuple[type, ...]]] = {
    "run_started": {"run_dir": _OPT_STR, "stages": (list,)},
    "notebook_finished": {"output": _OPT_STR, "error": (dict, type(None)), "duration_s": _NUM},
    "run_finished": {"run_dir": _OPT_STR},
    "check_run": {"pending": (bool,)},
    "signoff": {"comment": _OPT_STR},
}


def event_problem(event: Any) -> str | None:
    """Why an event cannot be used (wrong or missing fields), or None if it is sound."""
    if not isinstance(event, dict):
        return "not a JSON object"
    for key in ("type", "ts"):
        if not isinstance(event.get(key), str):
            return f"'{key}' must be text, got {type(event.get(key)).__name__}"
    kind = event["type"]
    for key, types in EVENT_FIELDS.get(kind, {}).items():
        if not isinstance(event.get(key), types) or (types is _NUM and isinstance(event.get(key), bool)):
            return f"a {kind} event needs '{key}' of type {'/'.join(t.__name__ for t in types)}"
    for key, types in _OPTIONAL.get(kind, {}).items():
        if key in event and not isinstance(event[key], types):
            return f"'{key}' of a {kind} event must be {'/'.join(t.__name__ for t in types)}"
    if kind == "run_finished" and not all(isinstance(v, dict) for v in event["stages"].values()):
        return "'stages' of a run_finished event must map stage to an object"
    return None


_reported: set[tuple[str, int]] = set()


def _report_skipped(path: Path, number: int, problem: str) -> None:
    """Say once per process which ledger line was skipped, with file and line."""
    if (str(path), number) in _reported:
        return
    _reported.add((str(path), number))
    logging.getLogger("mlops_accelerator.ledger").warning(
        "%s, line %d: ledger event skipped: %s", path, number, problem)


def read(path: Path) -> Iterator[dict[str, Any]]:
    """Yield every event in order.

    A line cut short by a killed writer (no trailing newline, or the last line) is
    skipped; any other unreadable line is an error naming the file and line. An event of
    valid JSON with wrong or missing fields is skipped and reported (logged with file and line).
    """
    if not path.exists():
        return
    data = path.read_bytes()
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
            if not isinstance(event, dict) or "type" not in event:
                raise ValueError("not an event object")
        except ValueError as exc:
            truncated = number == len(lines) or _looks_truncated(raw, lines, number)
            if truncated:
                continue
            raise ProjectFileError(f"{path}, line {number}: unreadable ledger event ({exc}); "
                                   "the ledger is append-only: restore that line from a backup "
                                   "or remove it by hand") from exc
        problem = event_problem(event)
        if problem:
            _report_skipped(path, number, problem)
            continue
        yield event


def _looks_truncated(raw: bytes, lines: list[bytes], number: int) -> bool:
    # A killed append leaves a prefix of a JSON object, and the next writer starts a new line.
    text = raw.decode("utf-8", "replace")
    return text.startswith("{") and not text.rstrip().endswith("}")
