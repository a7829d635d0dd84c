"""Generate parameterised notebooks and run them with papermill: parallel, time-boxed, recorded.

papermill alone has no parallelism, no notebook-level timeout and stops at the first
failure; here every notebook runs in a worker process with its own kernel, a notebook
that fails or hangs keeps its partial output and is reported with the failing cell,
independent notebooks go on, and every start/finish is a ledger event.
"""

from __future__ import annotations

import contextlib
import copy
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalogue import stage_folder, stage_slugs
from .errors import InvalidSettings, UsageError
from .templates import RUNNER_PARAMETERS, Template, parameter_values, stage_templates
from .workspace import Project

if TYPE_CHECKING:
    from .kernels import KernelPool

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
    from .settings_cache import validated_settings

    # Every stage validated once per content of the project file (cached: a run right after a
    # status or another run does not parse and validate the file again).
    validated = validated_settings(project)
    effective = validated.effective()
    overrides = dict(overrides or {})
    for slug in stages:
        if not overrides and not validated.stages[slug].errors:
            continue  # valid as saved: `effective` is its validated model's dump already
        from .settings import schema_for, validate_settings

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
    _skip_unused_imports()
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


# -- execution: one thread per --jobs slot, one fresh kernel per notebook --------------
#
# The notebooks run in kernels (separate processes); this process only relays their messages,
# so threads are enough to drive --jobs kernels at once and papermill is imported once.
# papermill's `cwd` is a process-wide chdir and is not used: the pool moves each kernel to
# its notebook's folder instead (KernelPool.prepare).

INTERRUPTED = {"cell_index": None, "ename": "Interrupted",
               "evalue": "the run was cancelled (Ctrl-C) while this notebook ran; its kernel was stopped"}


def _execute(job: dict[str, Any], kernels: KernelPool, cancel: threading.Event) -> dict[str, Any]:
    """Run one notebook on a kernel of the pool. Never raises: failures become results."""
    import papermill as pm

    from .notebook_engine import register

    engine = register()  # papermill's nbclient engine, writing the output at most once a second
    start = time.monotonic()
    out_dir = Path(job["output_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    timed_out = threading.Event()
    used: list[Any] = []  # the kernels this notebook was given (the last one runs it)

    def on_deadline() -> None:
        # The notebook overran its budget: kill its kernel; papermill then reports a dead
        # kernel and keeps the output so far.
        timed_out.set()
        if used:
            kernels.kill(used[-1])

    timer = threading.Timer(job["timeout"], on_deadline)
    timer.daemon = True
    timer.start()
    error = None
    try:
        km = _ready_kernel(kernels, out_dir, job["timeout"], used)
        pm.execute_notebook(job["template"], job["output"], parameters=job["parameters"],
                            kernel_name="python3", engine_name=engine, progress_bar=False, km=km,
                            request_save_on_cell_execute=True, execution_timeout=int(job["timeout"]) + 1)
    except pm.PapermillExecutionError as exc:
        error = {"cell_index": exc.cell_index, "exec_count": exc.exec_count,
                 "ename": exc.ename, "evalue": exc.evalue}
    except Exception as exc:  # dead kernel, cell timeout, unreadable template, no kernel
        error = {"cell_index": None, "ename": type(exc).__name__, "evalue": str(exc)[:2000]}
    finally:
        timer.cancel()
        for km in used:
            kernels.release(km)
    if cancel.is_set() and error and not Path(job["output"]).exists():  # never got going
        return {"key": job["key"], "status": "not_started", "duration_s": 0.0, "error": None}
    if cancel.is_set() and error:
        error = dict(INTERRUPTED)
    elif timed_out.is_set() or (error and error["ename"] == "CellTimeoutError"):
        error = {"cell_index": None, "ename": "Timeout",
                 "evalue": f"the notebook did not finish within {job['timeout']:g} s and was stopped"}
    elif error and error["ename"] == "DeadKernelError":
        error["evalue"] = "the kernel died (it ran out of memory, crashed, or the code exited the process)"
    if error and error["cell_index"] is None:
        error["cell_index"] = _running_cell(Path(job["output"]))
        _mark_stopped(Path(job["output"]), error)
    status = "succeeded" if not error else "interrupted" if error["ename"] == "Interrupted" else "failed"
    return {"key": job["key"], "status": status, "duration_s": round(time.monotonic() - start, 2), "error": error}


def _ready_kernel(kernels: KernelPool, cwd: Path, timeout: float, used: list[Any]) -> Any:
    """A booted kernel moved to the notebook's folder.

    A kernel that dies while booting (before any of the notebook's code ran: a loaded machine,
    a resource limit) is not the notebook's failure: it gets one fresh kernel more.
    """
    used.append(kernels.take())
    try:
        kernels.prepare(used[-1], cwd, timeout=timeout)
    except Exception:  # noqa: BLE001 - the second kernel's failure is reported
        used.append(kernels.take())
        kernels.prepare(used[-1], cwd, timeout=timeout)
    return used[-1]


def _mark_stopped(output: Path, error: dict[str, Any]) -> None:
    """Write why a notebook stopped into its saved output, in the cell that was running.

    papermill marks a cell that raised; a notebook whose kernel was killed (timeout, Ctrl-C,
    crash) would otherwise look like it simply ended there.
    """
    import nbformat

    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        return
    index = error.get("cell_index")
    message = f"{error['ename']}: {error['evalue']}"
    if index is not None and index < len(nb.cells) and nb.cells[index].cell_type == "code":
        nb.cells[index].outputs.append(nbformat.v4.new_output(
            "error", ename=error["ename"], evalue=error["evalue"], traceback=[message]))
    else:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"**The run stopped here.** {message}"))
    tmp = output.with_name(output.name + ".tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, output)


def _running_cell(output: Path) -> int | None:
    """The last cell papermill started before the notebook stopped (from its saved output)."""
    import nbformat

    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        return None
    started = [i for i, cell in enumerate(nb.cells) if cell.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def _expected_seconds(project: Project, templates: list[Template]) -> dict[str, float]:
    """Each notebook's likely run time: its last successful duration here, else its template's hint."""
    last: dict[str, float] = {}
    for event in project.events("notebook_finished"):
        duration = event.get("duration_s")
        if event.get("status") == "succeeded" and isinstance(duration, (int, float)):
            last[str(event.get("key"))] = float(duration)
    return {t.key: last.get(t.key, t.expected_seconds or 1.0) for t in templates}


# Imported by papermill only because they are installed, never used by the runner (it reads and
# writes local files and checks no 'iri' formats): about 1.2 s of CPU of the 1.45 s papermill's
# import costs here. rfc3987_syntax builds a grammar at import for jsonschema's 'iri' check (via
# nbformat); papermill.abs/adl/s3 are its Azure Blob, Data Lake and S3 back ends (azure-storage-blob
# and azure-identity are installed for azure-ai-ml). Blocked in the runner's process only, and only
# before anything imported them; kernels are left alone: a notebook gets a standard interpreter.
UNUSED_IN_RUNNER = ("rfc3987_syntax", "papermill.abs", "papermill.adl", "papermill.s3")


def _skip_unused_imports() -> None:
    import sys

    if "jsonschema" not in sys.modules and "papermill" not in sys.modules:
        for name in UNUSED_IN_RUNNER:
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # import -> ImportError


def _import_papermill() -> None:
    """papermill without its HDFS back end: `pyarrow.fs` pulls in pyarrow and numpy (about 0.2 s, the
    runner's largest import left before the first notebook can start). Blocked for this import only:
    other code in this process (a check reading Parquet) still gets pyarrow.fs when it asks."""
    import sys

    blocked = "pyarrow.fs" not in sys.modules and "papermill" not in sys.modules
    if blocked:
        sys.modules["pyarrow.fs"] = None  # type: ignore[assignment]  # import -> ImportError
    try:
        import papermill  # noqa: F401
    finally:
        if blocked and sys.modules.get("pyarrow.fs", 0) is None:
            del sys.modules["pyarrow.fs"]


@contextlib.contextmanager
def _library_log_to(path: Path) -> Iterator[None]:
    """papermill's and nbclient's warnings go to the run's kernels.log, not over the progress lines."""
    import logging

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(name) for name in ("papermill", "nbclient", "traitlets")]
    saved = [(lg.handlers[:], lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.handlers, lg.propagate = [handler], False
    try:
        yield
    finally:
        for lg, (handlers, propagate) in zip(loggers, saved, strict=True):
            lg.handlers, lg.propagate = handlers, propagate
        handler.close()


# What the kernel template may import for the notebooks (kernel_template.py): this package (it
# imports heavy libraries only inside functions) and IPython's. Importing the settings loader means
# validating, which imports every stage's schema and the secret detectors on first use.
PRELOADABLE = ("mlops_accelerator", "IPython")
LAZILY_NEEDED = {"mlops_accelerator.settings.parameters": ("mlops_accelerator.settings.guards",
                                                            "detect_secrets.core.plugins.util")}


def _preload_modules(templates: list[Template]) -> list[str]:
    """The modules of PRELOADABLE packages the notebooks import, for the kernel template."""
    import ast
    import json

    found: dict[str, None] = {}
    for t in templates:
        try:
            cells = json.loads(t.path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for cell in cells:
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source")
            try:
                tree = ast.parse("".join(source) if isinstance(source, list) else source or "")
            except SyntaxError:
                continue  # IPython magics: the kernel imports what that cell needs
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         # `from package import module` names a module too (an attribute fails to import: skipped)
                         else [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                         if isinstance(node, ast.ImportFrom) and node.module and not node.level
                         else [])
                for name in names:
                    if name.split(".")[0] in PRELOADABLE:
                        found[name] = None
    for name in list(found):
        for extra in LAZILY_NEEDED.get(name, ()):
            found[extra] = None
        if name == "mlops_accelerator.settings.parameters":
            for slug in stage_slugs():
                found[f"mlops_accelerator.settings.{slug}"] = None
    return list(found)


def _slot(todo: queue.Queue, done: queue.Queue, kernels: KernelPool, cancel: threading.Event,
          execute: Callable[..., dict[str, Any]] | None = None) -> None:
    """One --jobs slot: run notebooks from the queue until told to stop (None)."""
    while (job := todo.get()) is not None:
        try:
            done.put((execute or _execute)(job, kernels, cancel))
        except BaseException as exc:  # a bug here must not leave the run waiting for ever
            done.put({"key": job["key"], "status": "failed", "duration_s": 0.0,
                      "error": {"cell_index": None, "ename": type(exc).__name__, "evalue": str(exc)[:2000]}})


def _notebook_result(job: dict[str, Any], out: dict[str, Any], rel: Callable[[Any], str]) -> NotebookResult:
    output = Path(job["output"])
    return NotebookResult(job["key"], job["stage"], job["notebook"], out["status"], out["duration_s"],
                          rel(output) if output.exists() else None, out["error"])


@contextlib.contextmanager
def _cancel_on_signals(cancel: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set the cancel flag instead of raising wherever the main thread happens to be
    (a KeyboardInterrupt in the middle of a ledger write would leave the run 'running' for ever)."""
    from .signals import on_stop_signals

    with on_stop_signals(lambda signum, frame: cancel.set()):
        yield


CANCEL_WAIT_S = 3.0  # after Ctrl-C, how long the running notebooks get to report (their kernels are dead)


def _stop_for_cancel(todo: queue.Queue, done: queue.Queue, in_flight: set[str], kernels: KernelPool,
                     job_by_key: dict[str, dict[str, Any]],
                     finish: Callable[[NotebookResult], None], rel: Callable[[Any], str]) -> None:
    """Kill every kernel, drop the queued notebooks, record what the running ones became."""
    kernels.cancel()
    while True:  # queued, never started
        try:
            job = todo.get_nowait()
        except queue.Empty:
            break
        if job is not None:
            in_flight.discard(job["key"])
    deadline = time.monotonic() + CANCEL_WAIT_S
    while in_flight and time.monotonic() < deadline:
        try:
            out = done.get(timeout=0.1)
        except queue.Empty:
            continue
        in_flight.discard(out["key"])
        if out["status"] != "not_started":
            finish(_notebook_result(job_by_key[out["key"]], out, rel))
    for key in sorted(in_flight):  # still stopping at the deadline: interrupted all the same
        finish(_notebook_result(job_by_key[key], {"status": "interrupted", "duration_s": 0.0,
                                                  "error": dict(INTERRUPTED)}, rel))
    in_flight.clear()


def _import_after_run() -> None:
    """Import what follows the notebooks (the secret scan's detectors; the automatic checks with the
    settings schemas: about 0.3 s together) while the notebooks run, not after them."""
    import ruamel.yaml  # noqa: F401  (the checks read the project file)

    from .checks import all_checks
    from .secret_scan import _plugins

    _plugins()
    all_checks()


def run_stages(project: Project, stages: list[str], *, jobs: int = 1, target: str = "local",
               overrides: dict[str, Any] | None = None, timeout: float = DEFAULT_TIMEOUT,
               run_id: str | None = None, templates_root: Path | None = None,
               on_result: Callable[[NotebookResult, int, int], None] | None = None,
               warm_kernels: bool = True,
               on_status: Callable[[str, str, str], None] | None = None) -> RunResult:
    """Run the stages' notebooks; returns when all finished or the run was cancelled.

    Invalid settings raise before any kernel. Ctrl-C (SIGINT) or SIGTERM cancels the run: every
    kernel is killed, the notebooks that were running are marked interrupted, and the ledger
    records the run as cancelled (status "cancelled" in the result).
    With target azureml each notebook runs as an Azure ML job (azure/jobs.py) when the workspace
    is deployed; on_status(key, job, status) hears each job's status changes.
    """
    from .evidence import merge_stage_evidence
    from .kernels import KernelPool
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
    execute, placement = None, "notebooks run on this machine"
    if target == "azureml":  # before run_started: a failed sign-in or placement setting writes nothing
        from .azure.jobs import job_target

        azure_jobs, placement = job_target(project, run_id, run_dir, on_status)
        if azure_jobs is not None:
            from .azure.jobs import runs_as_job

            here = sorted({j["stage"] for j in job_by_key.values() if not runs_as_job(j["stage"])}, key=order.index)
            if not here:
                execute, warm_kernels = azure_jobs.execute, False  # no kernel here: Azure ML runs them
            else:  # the later stages work on the project's own files: this machine runs them
                execute = lambda job, kernels, cancel: (  # noqa: E731
                    _execute if job["stage"] in here else azure_jobs.execute)(job, kernels, cancel)
                placement = (f"{placement}; stage(s) {', '.join(here)} run on this machine (their notebooks read "
                             "and write the project's files)" if len(here) < len(order) else
                             f"notebooks run on this machine: stage(s) {', '.join(here)} read and write the "
                             "project's files")
    project.record("run_started", run_id=run_id, run_dir=rel(run_dir), stages=order, target=target,
                   jobs=jobs, notebooks=list(job_by_key), placement=placement)

    results: dict[str, NotebookResult] = {}
    total = len(job_by_key)

    def finish(res: NotebookResult) -> None:
        results[res.key] = res
        project.record("notebook_finished", run_id=run_id, **asdict(res))
        if on_result:
            on_result(res, len(results), total)

    # Longest first: a long notebook started last would leave the other slots idle at the end.
    expected = _expected_seconds(project, templates)
    pending = sorted(job_by_key.values(), key=lambda j: -expected[j["key"]])
    todo: queue.Queue[dict[str, Any] | None] = queue.Queue()
    done: queue.Queue[dict[str, Any]] = queue.Queue()
    in_flight: set[str] = set()
    cancel = threading.Event()
    slots = min(jobs, total)
    _skip_unused_imports()
    with open(run_dir / "kernels.log", "ab") as kernel_log, _cancel_on_signals(cancel), \
            _library_log_to(run_dir / "kernels.log"):
        # Two spares per slot: a kernel takes longer to boot (about 1 s, most of it waiting) than a
        # short notebook takes to run, so one spare per slot is used up before the next is ready.
        kernels = KernelPool(2 * slots, total, cwd=run_dir, log=kernel_log, warm=warm_kernels,
                             fork=warm_kernels, preload=_preload_modules(templates))
        _import_papermill()  # once, here, while the first kernels boot; not in every slot
        threading.Thread(target=_import_after_run, daemon=True, name="import-after-run").start()
        workers = [threading.Thread(target=_slot, args=(todo, done, kernels, cancel, execute), daemon=True,
                                    name=f"runner-slot-{i}") for i in range(slots)]
        for worker in workers:
            worker.start()
        try:
            while (pending or in_flight) and not cancel.is_set():
                for job in list(pending):
                    deps = [k for k, j in job_by_key.items() if j["stage"] in job["depends_on"]]
                    if any(results.get(k) and results[k].status != "succeeded" for k in deps):
                        pending.remove(job)
                        kernels.not_needed()
                        failed_stages = sorted({job_by_key[k]["stage"] for k in deps
                                                if k in results and results[k].status != "succeeded"})
                        finish(NotebookResult(job["key"], job["stage"], job["notebook"], "skipped",
                                              error={"cell_index": None, "ename": "Skipped",
                                                     "evalue": f"depends on stage(s) that failed: "
                                                               f"{', '.join(failed_stages)}"}))
                    elif all(k in results for k in deps):
                        pending.remove(job)
                        in_flight.add(job["key"])
                        todo.put(job)
                if not in_flight:
                    continue
                try:  # short waits so a Ctrl-C (a flag set by the signal handler) is seen at once
                    out = done.get(timeout=0.2)
                except queue.Empty:
                    continue
                in_flight.discard(out["key"])
                if out["status"] != "not_started":
                    finish(_notebook_result(job_by_key[out["key"]], out, rel))
            cancelled = cancel.is_set() and len(results) < total  # stopped before every notebook finished
            if cancelled:
                _stop_for_cancel(todo, done, in_flight, kernels, job_by_key, finish, rel)
        finally:
            for _ in workers:
                todo.put(None)
            if cancel.is_set():
                kernels.cancel()
            kernels.close()

    stages_out: dict[str, dict[str, Any]] = {}
    for slug in order:
        keys = [k for k, j in job_by_key.items() if j["stage"] == slug]
        mine = [results[k] for k in keys if k in results]
        if len(mine) == len(keys) and all(r.status == "succeeded" for r in mine):
            state = "succeeded"
        elif cancelled and (len(mine) < len(keys) or any(r.status == "interrupted" for r in mine)):
            state = "cancelled"
        else:
            state = "failed"
        stage_dir = run_dir / stage_folder(slug)
        stages_out[slug] = {"status": state, "notebooks": [r.key for r in mine],
                            "evidence": (merge_stage_evidence(stage_dir, project.root, slug)
                                         if state == "succeeded" else {})}
    if target == "azureml" and not cancelled:  # stages 3-6 created on Azure and read back (azure/target.py)
        from .azure.target import after_local_stages

        after_local_stages(project, run_dir, run_id, stages_out)
    fail_stages_with_leaks(run_dir, project.root, stages_out)  # a secret in any output fails its stage
    if cancelled:
        status = "cancelled"
        account = {"finished": [k for k in job_by_key if k in results and results[k].status != "interrupted"],
                   "interrupted": [k for k in job_by_key if k in results and results[k].status == "interrupted"],
                   "not_started": [k for k in job_by_key if k not in results]}
    else:
        status = "succeeded" if all(s["status"] == "succeeded" for s in stages_out.values()) else "failed"
        account = {}
    with _cancel_on_signals(threading.Event()):  # a second Ctrl-C must not cut the run's last record
        project.record("run_finished", run_id=run_id, run_dir=rel(run_dir), status=status, stages=stages_out,
                       **account)
    ordered = [results[k] for k in job_by_key if k in results]
    return RunResult(run_id, rel(run_dir), status, ordered, stages_out)
