"""The append-only event ledger of a project (`.mlops-accelerator/ledger.jsonl`).

One JSON object per line. Every decision and completion is an event: settings saved
(with a diff), notebooks generated, runs started and finished, checks run, sign-offs.
Deliverable status is derived from it, never stored separately.
"""

from __future__ import annotations

import getpass
import json
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
    "model_approval",  # stage 5: a model version approved (or not) for production, and by whom
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
    then, so the damage stays confined to that one (skipped) line.
    """
    line = json.dumps(event, ensure_ascii=False, sort_keys=False, default=str)
    with open(path, "a+b") as fh:
        fh.seek(0, os.SEEK_END)
        prefix = b""
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                prefix = b"\n"
        fh.write(prefix + line.encode("utf-8") + b"\n")
        fh.flush()
        os.fsync(fh.fileno())


def read(path: Path) -> Iterator[dict[str, Any]]:
    """Yield every event in order.

    A line cut short by a killed writer (no trailing newline, or the last line) is
    skipped; any other unreadable line is an error naming the file and line.
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
        yield event


def _looks_truncated(raw: bytes, lines: list[bytes], number: int) -> bool:
    # A killed append leaves a prefix of a JSON object, and the next writer starts a new line.
    text = raw.decode("utf-8", "replace")
    return text.startswith("{") and not text.rstrip().endswith("}")
