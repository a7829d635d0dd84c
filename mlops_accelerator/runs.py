"""Background runs for the wizards and the JupyterLab server, observed through the ledger.

A run started here is the ordinary CLI (`mlops-accelerator run ... --run-id ID`) in a
detached process: the same code path as batch use, it survives a closed browser tab,
and its progress is whatever it has written to the ledger.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .runner import new_run_id
from .workspace import Project

OUTPUT_SUFFIXES = {".ipynb", ".png", ".svg", ".md", ".html", ".json", ".yaml", ".yml", ".bicep", ".tf",
                   ".csv", ".txt"}


def start_background_run(project: Project, stages: list[str], *, jobs: int = 1, target: str = "local",
                         parameters: dict[str, Any] | None = None) -> str:
    """Start a run in a detached process and return its run id at once."""
    run_id = new_run_id()
    run_dir = project.root / "runs" / run_id
    run_dir.mkdir(parents=True)
    cmd = [sys.executable, "-m", "mlops_accelerator.cli", "-C", str(project.root), "run", *stages,
           "--run-id", run_id, "--jobs", str(jobs), "--target", target]
    for key, value in (parameters or {}).items():
        cmd += ["-p", f"{key}={json.dumps(value)}"]
    # The log is read by people in a wizard or the sidebar: plain lines, no colours or redrawn bars
    # (Jupyter kernels often force colour on, which rich would honour).
    env = {k: v for k, v in os.environ.items()
           if k not in ("FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "120"})
    with open(run_dir / "console.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=project.root, start_new_session=True, env=env)
    (run_dir / "pid").write_text(str(proc.pid))
    return run_id


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a finished child we started is a zombie until reaped: reap it
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def run_progress(project: Project, run_id: str) -> dict[str, Any]:
    """Where a run stands: state, counts, notebooks finished so far, outputs and the log tail."""
    run_dir = project.root / "runs" / run_id
    started = finished = None
    notebooks = []
    jobs: dict[str, dict[str, Any]] = {}  # the azureml target: each notebook's job, latest status
    for event in project.events(run_id=run_id):
        if event["type"] == "azureml_job" and event.get("key") and event.get("job"):
            job = jobs.setdefault(str(event["key"]), {"key": str(event["key"]), "status": None, "studio_url": None})
            job.update({k: str(event[k]) for k in ("job", "status", "studio_url") if event.get(k)})
        elif event["type"] == "run_started":
            started = event
        elif event["type"] == "notebook_finished":
            notebooks.append({k: event.get(k) for k in
                              ("stage", "notebook", "status", "duration_s", "output", "error")})
        elif event["type"] == "run_finished":
            finished = event
    log = run_dir / "console.log"
    log_tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    if finished:
        state = finished["status"]
    elif not run_dir.exists():
        state = "unknown"
    else:
        pid_file = run_dir / "pid"
        alive = pid_file.exists() and _alive(int(pid_file.read_text() or 0))
        state = ("running" if started else "queued") if alive or not pid_file.exists() else "failed"
    outputs = []
    if run_dir.exists():
        outputs = sorted(str(p.relative_to(project.root)) for p in run_dir.rglob("*")
                         if p.is_file() and p.suffix in OUTPUT_SUFFIXES and "evidence" not in p.parts)
    return {
        "run_id": run_id, "state": state,
        "total": len(started["notebooks"]) if started else None,
        "finished": len(notebooks), "notebooks": notebooks,
        "run_dir": str(Path("runs") / run_id) if run_dir.exists() else None,
        "outputs": outputs, "log_tail": log_tail, "jobs": list(jobs.values()),
    }
