"""Generate parameterised notebooks and run them with papermill: parallel, time-boxed, recorded.

papermill alone has no parallelism, no notebook-level timeout and stops at the first
failure; here every notebook runs in a worker process with its own kernel, a notebook
that fails or hangs keeps its partial output and is reported with the failing cell,
independent notebooks go on, and every start/finish is a ledger event.
"""

from __future__ import annotations

import copy
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .catalogue import stage_folder, stage_slugs
from .errors import InvalidSettings, UsageError
from .templates import RUNNER_PARAMETERS, Template, parameter_values, stage_templates
from .workspace import Project

DEFAULT_TIMEOUT = 900  # seconds per notebook


@dataclass
class NotebookResult:
    key: str
    stage: str
    notebook: str
    status: str  # succeeded | failed | skipped
    duration_s: float = 0.0
    output: str | None = None  # executed notebook, relative to the project root
    error: dict[str, Any] | None = None  # {"cell_index", "ename", "evalue"}


@dataclass
class RunResult:
    run_id: str
    run_dir: str
    status: str
    notebooks: list[NotebookResult] = field(default_factory=list)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def _stage_order(stages: list[str]) -> list[str]:
    from .catalogue import load_catalogue

    cat = load_catalogue()
    slugs = {cat.stage(s).slug for s in stages}
    return [s for s in stage_slugs() if s in slugs]


def effective_with_overrides(project: Project, stages: list[str],
                             overrides: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Validate every stage's settings (with -p overrides applied); InvalidSettings before any kernel."""
    from .settings import schema_for, validate_settings

    doc = project.read_document()
    effective = {slug: project.effective_settings(slug, doc) for slug in stage_slugs()}
    overrides = dict(overrides or {})
    for slug in stages:
        values = copy.deepcopy(effective[slug])
        fields = schema_for(slug).model_fields
        for key in [k for k in overrides if k in fields]:
            values[key] = overrides[key]
        model, errors = validate_settings(slug, values)
        if errors:
            raise InvalidSettings(slug, errors)
        effective[slug] = model.model_dump(mode="json")
    return effective


def generate(project: Project, stages: list[str], *, overrides: dict[str, Any] | None = None,
             target: str = "local", templates_root: Path | None = None, force: bool = False) -> list[Path]:
    """Write the stages' parameterised notebooks into <project>/notebooks/ (papermill prepare-only)."""
    import papermill as pm

    from .targets import check_target

    check_target(target, stages)
    order = _stage_order(stages)
    effective = effective_with_overrides(project, order, overrides)
    written = []
    plans = []
    for slug in order:
        for t in stage_templates(slug, templates_root):
            out = project.root / "notebooks" / stage_folder(slug) / f"{t.name}.ipynb"
            plans.append((t, out))
    changed = [out for t, out in plans if out.exists() and _edited_since_generated(project, out)]
    if changed and not force:
        listing = ", ".join(str(p.relative_to(project.root)) for p in changed)
        raise UsageError(f"these generated notebooks were edited since they were generated: {listing}; "
                         "nothing was overwritten (use --force to replace them)")
    for t, out in plans:
        out.parent.mkdir(parents=True, exist_ok=True)
        runner = {"project_dir": str(project.root), "output_dir": str(out.parent / "outputs"),
                  "target": target, "run_id": "generated"}
        pm.execute_notebook(str(t.path), str(out), parameters=parameter_values(t, effective, runner),
                            prepare_only=True, progress_bar=False, kernel_name="python3")
        written.append(out)
    project.record("notebooks_generated", stages=order,
                   notebooks={str(p.relative_to(project.root)): _digest(p) for p in written})
    return written


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _edited_since_generated(project: Project, path: Path) -> bool:
    rel = str(path.relative_to(project.root))
    last = None
    for event in project.events("notebooks_generated"):
        last = event.get("notebooks", {}).get(rel, last)
    return last is not None and last != _digest(path)


# -- execution in worker processes ---------------------------------------------

def _worker_init(log_path: str) -> None:
    """Send this worker's stderr (kernel start-up chatter, papermill warnings) to the run's log."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)


def _execute(job: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook (in a worker process). Never raises: failures become results."""
    import papermill as pm
    import psutil

    start = time.monotonic()
    out_dir = Path(job["output_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    timed_out = threading.Event()

    def on_deadline() -> None:
        # The notebook overran its budget: kill its kernel (this worker's only children);
        # papermill then reports a dead kernel and keeps the output so far.
        timed_out.set()
        for child in psutil.Process().children(recursive=True):
            child.kill()

    timer = threading.Timer(job["timeout"], on_deadline)
    timer.start()
    error = None
    try:
        pm.execute_notebook(job["template"], job["output"], parameters=job["parameters"],
                            kernel_name="python3", progress_bar=False, cwd=str(out_dir),
                            request_save_on_cell_execute=True, execution_timeout=int(job["timeout"]) + 1)
    except pm.PapermillExecutionError as exc:
        error = {"cell_index": exc.cell_index, "exec_count": exc.exec_count,
                 "ename": exc.ename, "evalue": exc.evalue}
    except Exception as exc:  # dead kernel, cell timeout, unreadable template
        error = {"cell_index": None, "ename": type(exc).__name__, "evalue": str(exc)[:2000]}
    finally:
        timer.cancel()
    if timed_out.is_set() or (error and error["ename"] == "CellTimeoutError"):
        error = {"cell_index": None, "ename": "Timeout",
                 "evalue": f"the notebook did not finish within {job['timeout']:g} s and was stopped"}
    elif error and error["ename"] == "DeadKernelError":
        error["evalue"] = "the kernel died (it ran out of memory, crashed, or the code exited the process)"
    if error and error["cell_index"] is None:
        error["cell_index"] = _running_cell(Path(job["output"]))
    return {"key": job["key"], "status": "failed" if error else "succeeded",
            "duration_s": round(time.monotonic() - start, 2), "error": error}


def _running_cell(output: Path) -> int | None:
    """The last cell papermill started before the notebook stopped (from its saved output)."""
    import nbformat

    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        return None
    started = [i for i, cell in enumerate(nb.cells) if cell.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def run_stages(project: Project, stages: list[str], *, jobs: int = 1, target: str = "local",
               overrides: dict[str, Any] | None = None, timeout: float = DEFAULT_TIMEOUT,
               run_id: str | None = None, templates_root: Path | None = None,
               on_result: Callable[[NotebookResult, int, int], None] | None = None) -> RunResult:
    """Run the stages' notebooks; returns when all finished. Invalid settings raise before any kernel."""
    from multiprocessing import get_context

    from .evidence import merge_stage_evidence
    from .secret_scan import fail_stages_with_leaks
    from .targets import check_target

    check_target(target, stages)
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1 (got {jobs})")
    order = _stage_order(stages)
    effective = effective_with_overrides(project, order, overrides)
    unknown = [k for k in (overrides or {}) if k not in RUNNER_PARAMETERS
               and not any(k in effective[s] for s in order)]
    if unknown:
        raise UsageError(f"-p {', '.join(unknown)}: not a setting of stage(s) {', '.join(order)}")
    templates: list[Template] = [t for slug in order for t in stage_templates(slug, templates_root)]
    if not templates:
        raise UsageError(f"no notebook templates for stage(s) {', '.join(order)}")

    run_id = run_id or new_run_id()
    run_dir = project.root / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    rel = lambda p: str(Path(p).relative_to(project.root))  # noqa: E731

    job_by_key: dict[str, dict[str, Any]] = {}
    for t in templates:
        stage_dir = run_dir / stage_folder(t.stage)
        runner = {"project_dir": str(project.root), "output_dir": str(stage_dir),
                  "target": target, "run_id": run_id}
        job_by_key[t.key] = {
            "key": t.key, "stage": t.stage, "notebook": t.name, "template": str(t.path),
            "output": str(stage_dir / f"{t.name}.ipynb"), "output_dir": str(stage_dir),
            "parameters": parameter_values(t, effective, runner), "timeout": timeout,
            "run_id": run_id, "depends_on": [d for d in t.depends_on if d in order and d != t.stage],
        }
    project.record("run_started", run_id=run_id, run_dir=rel(run_dir), stages=order, target=target,
                   jobs=jobs, notebooks=list(job_by_key))

    results: dict[str, NotebookResult] = {}
    total = len(job_by_key)

    def finish(res: NotebookResult) -> None:
        results[res.key] = res
        project.record("notebook_finished", run_id=run_id, **asdict(res))
        if on_result:
            on_result(res, len(results), total)

    pending = list(job_by_key.values())
    running: dict[Future, str] = {}
    kernel_log = run_dir / "kernels.log"
    with ProcessPoolExecutor(max_workers=min(jobs, total), mp_context=get_context("spawn"),
                             initializer=_worker_init, initargs=(str(kernel_log),)) as pool:
        while pending or running:
            for job in list(pending):
                deps = [k for k, j in job_by_key.items() if j["stage"] in job["depends_on"]]
                if any(results.get(k) and results[k].status != "succeeded" for k in deps):
                    pending.remove(job)
                    failed_stages = sorted({job_by_key[k]["stage"] for k in deps
                                            if k in results and results[k].status != "succeeded"})
                    finish(NotebookResult(job["key"], job["stage"], job["notebook"], "skipped",
                                          error={"cell_index": None, "ename": "Skipped",
                                                 "evalue": f"depends on stage(s) that failed: "
                                                           f"{', '.join(failed_stages)}"}))
                elif all(k in results for k in deps):
                    pending.remove(job)
                    running[pool.submit(_execute, job)] = job["key"]
            if not running:
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                key = running.pop(fut)
                job = job_by_key[key]
                try:
                    out = fut.result()
                except Exception as exc:  # the worker process itself died
                    out = {"status": "failed", "duration_s": 0.0,
                           "error": {"cell_index": None, "ename": type(exc).__name__, "evalue": str(exc)}}
                output = Path(job["output"])
                finish(NotebookResult(key, job["stage"], job["notebook"], out["status"], out["duration_s"],
                                      rel(output) if output.exists() else None, out["error"]))

    stages_out: dict[str, dict[str, Any]] = {}
    for slug in order:
        mine = [r for r in results.values() if r.stage == slug]
        ok = all(r.status == "succeeded" for r in mine)
        stage_dir = run_dir / stage_folder(slug)
        stages_out[slug] = {"status": "succeeded" if ok else "failed",
                            "notebooks": [r.key for r in mine],
                            "evidence": merge_stage_evidence(stage_dir, project.root, slug) if ok else {}}
    if target == "azureml":  # stage 3 deployed to Azure and read back (mlops_accelerator/azure/target.py)
        from .azure.target import after_local_stages

        after_local_stages(project, run_dir, run_id, stages_out)
    fail_stages_with_leaks(run_dir, project.root, stages_out)  # a secret in any output fails its stage
    status = "succeeded" if all(s["status"] == "succeeded" for s in stages_out.values()) else "failed"
    project.record("run_finished", run_id=run_id, run_dir=rel(run_dir), status=status, stages=stages_out)
    ordered = [results[k] for k in job_by_key]
    return RunResult(run_id, rel(run_dir), status, ordered, stages_out)
