"""Notebooks as Azure ML command jobs: the runner's executor for `run --target azureml`.

Each stage notebook becomes one command job on the compute cluster of the environment the CLI
defaults point at (deploy.cli_defaults_env): its code snapshot is the notebook template and a
parameters file holding the project's settings (the same values a local run injects), and the job's
command runs papermill on it. No setting ever becomes part of the command: papermill reads them
from the file. The runner polls the job, records each status change in the ledger, and downloads
what the job wrote to ./outputs (the executed notebook and its artifacts) into runs/<id>/<stage>/,
the same layout a local run leaves, plus the job's log. A failed job keeps what it produced and
says what failed (the failing cell when the notebook got that far, else the end of its log).
Ctrl-C cancels the jobs still running.

The accelerator is not installed from PyPI in the job: the snapshot carries its package (runtime/,
on PYTHONPATH) and the job's environment, mlops-accelerator-jobs, installs its requirements pinned to
this machine's versions; the executor creates that environment in the workspace before the first job.

Only stages 1-3 go to Azure ML (`runs_as_job`): the later stages' notebooks read and write the
project's own files and run on this machine, in the same run.

Before the first job the workspace and the cluster must exist on Azure; when they do not (a first
run, before stage 3 deployed them), `job_target` says why and the runner runs the notebooks here
instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import connection
from .arm import call
from .connection import AzureEnv, arm_client, environments, ml_client

POLL_ENV = "MLOPS_ACCELERATOR_AZURE_JOB_POLL_S"  # seconds between status polls (default 10)
TERMINAL = {"Completed": "succeeded", "Failed": "failed", "Canceled": "interrupted", "NotResponding": "failed"}
LOG_TAIL = 1500  # characters of the job's log quoted in a failure


@dataclass
class Placement:
    """Where the jobs run: an environment's workspace and cluster, and the accelerator's environment."""

    env: AzureEnv
    workspace: str
    compute: str
    environment: str  # azureml:<name>:<version>


# The notebooks need the accelerator in the job, and it is not on PyPI: its package travels in each
# job's snapshot (runtime/, on PYTHONPATH) and the job's environment installs its requirements, pinned
# to the versions this machine runs, without what only the JupyterLab sidebar and the wizards use.
RUNNER_ENV = "mlops-accelerator-jobs"
RUNTIME = "runtime"
UI_ONLY = frozenset({"jupyterlab", "jupyter-server", "voila", "ipywidgets", "anywidget"})


def runner_conda() -> dict[str, Any]:
    """The conda file of the jobs' environment: the accelerator's own requirements, pinned."""
    import sys
    from importlib.metadata import requires, version

    names = set()
    for req in requires("mlops-accelerator") or []:
        if "extra ==" not in req:  # the test extra stays out
            names.add(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req).group(0).lower().replace("_", "-"))
    pins = [f"{n}=={version(n)}" for n in sorted(names - UI_ONLY)]
    return {"name": RUNNER_ENV, "channels": ["conda-forge"],
            "dependencies": [f"python={sys.version_info.major}.{sys.version_info.minor}", "pip",
                             {"pip": [*pins, "azureml-mlflow"]}]}


def runner_version() -> str:
    """The accelerator's version and the pins' digest: an environment version cannot change once
    created, so other pins make another version."""
    import hashlib

    from .. import __version__

    return f"{__version__}-{hashlib.sha256(json.dumps(runner_conda(), sort_keys=True).encode()).hexdigest()[:10]}"


def runner_environment() -> Any:
    """The jobs' Azure ML environment."""
    from azure.ai.ml.entities import Environment

    from ..modeling.azure_specs import IMAGE  # the base image stage 5's environment builds on too

    return Environment(name=RUNNER_ENV, version=runner_version(), image=IMAGE, conda_file=runner_conda(),
                       description="What the MLOps Accelerator's stage notebooks need in an Azure ML job")


def placement(project: Any) -> Placement:
    """The workspace and cluster the settings choose for jobs."""
    from ..errors import UsageError
    from ..settings.design import resource_name

    design, deploy = project.settings("design"), project.settings("deploy")
    name = deploy.cli_defaults_env
    env = next((e for e in environments(project) if e.name == name), None)
    if env is None:
        raise UsageError(f"deploy.cli_defaults_env: {name!r} is not an environment stage 3 deploys")
    clusters = [c for c in deploy.compute_targets if c.env == name and c.type == "amlcompute"]
    cluster = next((c for c in clusters if c.purpose == "training"), clusters[0] if clusters else None)
    if cluster is None:
        raise UsageError(f"deploy.compute_targets: no compute cluster (type amlcompute) in {name!r} for the "
                         "notebooks to run on as Azure ML jobs")
    return Placement(env, resource_name(design, "workspace_name", name), cluster.name,
                     f"azureml:{RUNNER_ENV}:{runner_version()}")


def runs_as_job(stage: str) -> bool:
    """Whether a stage's notebooks run as Azure ML jobs. Stages 1-3 need only the settings, which
    travel as parameters; the later ones read and write the project's own files (sample data, the
    lake, the data registry, MLflow's store, inference logs), which a job's snapshot does not carry
    and whose changes would not come back: they run on this machine."""
    from ..catalogue import stage_slugs

    return stage in stage_slugs()[:3]


def _job_output(job: dict[str, Any]) -> str:
    """Where the notebook writes in the job: ./outputs/<NN-stage> (./outputs is uploaded)."""
    return f"outputs/{Path(job['output_dir']).name}"


def _job_name(run_id: str, key: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", f"mlops-{run_id}-{key}".lower())[:255]


@dataclass
class JobExecutor:
    """Runs one notebook as one Azure ML job; `execute` has the runner's executor signature."""

    project: Any
    run_id: str
    run_dir: Path
    place: Placement
    cred: Any
    on_status: Callable[[str, str, str], None] | None = None  # (notebook key, job name, status)
    poll_s: float = field(default_factory=lambda: float(os.environ.get(POLL_ENV) or 10))
    _submit_lock: threading.Lock = field(default_factory=threading.Lock)
    _ml: Any = None
    _api: str | None = None
    _environment_ready: bool = False

    def ml(self) -> Any:
        if self._ml is None:
            # no upload progress bars over the runner's progress lines
            self._ml = ml_client(self.cred, self.place.env, self.place.workspace, show_progress=False)
        return self._ml

    # -- the runner's executor -------------------------------------------------------------------
    def execute(self, job: dict[str, Any], kernels: Any, cancel: threading.Event) -> dict[str, Any]:
        """Submit, follow, download. Never raises: failures become results (as _execute's do)."""
        start = time.monotonic()
        name = _job_name(self.run_id, job["key"])
        try:
            if cancel.is_set():
                return {"key": job["key"], "status": "not_started", "duration_s": 0.0, "error": None}
            status = self._follow(job, name, cancel, start, self._submit(job, name))
            error = self._download(job, name)
        except Exception as exc:  # an Azure error: say which step and keep going with the others
            from .stage3 import _message

            return {"key": job["key"], "status": "failed", "duration_s": round(time.monotonic() - start, 2),
                    "error": {"cell_index": None, "ename": "AzureMLJobError",
                              "evalue": f"job {name}: {type(exc).__name__}: {_message(exc)}"}}
        outcome = TERMINAL.get(status, "failed")
        if outcome == "interrupted" and not cancel.is_set():
            outcome, error = "failed", {"cell_index": None, "ename": "AzureMLJobCanceled",
                                        "evalue": f"job {name} was cancelled on Azure ML (not by this run)"}
        elif outcome == "succeeded" and not Path(job["output"]).exists():
            outcome, error = "failed", {"cell_index": None, "ename": "AzureMLJobOutputMissing",
                                        "evalue": f"job {name} completed but its executed notebook did not come "
                                                  "back (nothing under ./outputs" + self._log_tail(job) + ")"}
        if status == "Timeout":
            error = {"cell_index": None, "ename": "Timeout",
                     "evalue": f"job {name} did not finish within {job['timeout']:g} s and was cancelled"}
        elif outcome == "interrupted":
            error = {"cell_index": None, "ename": "Interrupted",
                     "evalue": f"the run was cancelled (Ctrl-C); Azure ML job {name} was cancelled"}
        elif outcome == "failed" and error is None:
            error = {"cell_index": None, "ename": "AzureMLJobFailed",
                     "evalue": f"job {name} ended {status}" + self._log_tail(job)}
        elif outcome == "succeeded":
            error = None  # papermill exits non-zero on a failed cell, so a completed job ran every cell
        return {"key": job["key"], "status": outcome if status != "Timeout" else "failed",
                "duration_s": round(time.monotonic() - start, 2), "error": error}

    # -- steps -----------------------------------------------------------------------------------
    def _snapshot(self, job: dict[str, Any], root: Path) -> Path:
        """The job's code: the notebook template and its parameters (settings as data, not code)."""
        folder = root / job["key"].replace("/", "--")  # its name is the code asset's display name
        folder.mkdir(parents=True)
        shutil.copyfile(job["template"], folder / f"{job['notebook']}.ipynb")
        params = dict(job["parameters"])
        # In the job, the snapshot is the working folder and ./outputs is uploaded as the run's artifacts;
        # the stage folder keeps its name there (the notebooks' evidence knows its stage by it).
        if "project_dir" in params:
            params["project_dir"] = "."
        if "output_dir" in params:
            params["output_dir"] = _job_output(job)
        (folder / "parameters.json").write_text(json.dumps(params, indent=1))
        package = Path(__file__).resolve().parent.parent  # the accelerator, as this machine runs it
        shutil.copytree(package, folder / RUNTIME / package.name,
                        ignore=shutil.ignore_patterns("__pycache__", "labextension"))
        return folder

    def _environment(self) -> None:
        """Create the jobs' environment in the workspace unless it is there (Azure builds its image when
        the first job needs it)."""
        from azure.core.exceptions import ResourceNotFoundError

        if self._environment_ready:
            return
        name, version = self.place.environment.split(":")[1:]
        try:
            self.ml().environments.get(name, version=version)
        except ResourceNotFoundError:
            self.ml().environments.create_or_update(runner_environment())
        self._environment_ready = True

    def _submit(self, job: dict[str, Any], name: str) -> str:
        import shlex

        from azure.ai.ml import command

        from ..artifacts.azureml_specs import _quiet_sdk

        nb, out = shlex.quote(f"{job['notebook']}.ipynb"), shlex.quote(_job_output(job))
        cmd = (f'mkdir -p {out} && PYTHONPATH="$PWD/{RUNTIME}" python -m papermill {nb} {out}/{nb} '
               "-f parameters.json -k python3 --request-save-on-cell-execute")
        tmp = Path(tempfile.mkdtemp(prefix="mlops-job-"))
        try:
            entity = command(code=str(self._snapshot(job, tmp)), command=cmd, environment=self.place.environment,
                             compute=self.place.compute, name=name, display_name=job["key"],
                             experiment_name=f"mlops-accelerator-{job['stage']}",
                             description=f"{job['key']} of run {self.run_id} (mlops-accelerator)",
                             tags={"mlops_accelerator_run": self.run_id, "notebook": job["key"]})
            entity.set_limits(timeout=int(job["timeout"]))
            with self._submit_lock, _quiet_sdk():  # one upload at a time through the shared client
                self._environment()
                created = self.ml().jobs.create_or_update(entity)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # uploaded: Azure ML keeps the snapshot with the job
        got = created.status or "NotStarted"
        status = str(getattr(got, "value", got))
        self._status(job, name, status, getattr(created, "studio_url", None))
        return status

    def _status(self, job: dict[str, Any], name: str, status: str, url: str | None = None) -> None:
        self.project.record("azureml_job", run_id=self.run_id, key=job["key"], job=name, status=status,
                            workspace=self.place.workspace, compute=self.place.compute,
                            **({"studio_url": url} if url else {}))
        if self.on_status:
            self.on_status(job["key"], name, status)

    def _follow(self, job: dict[str, Any], name: str, cancel: threading.Event, start: float, last: str) -> str:
        while True:
            if cancel.is_set():
                return self._cancel(job, name)
            if time.monotonic() - start > job["timeout"]:
                self._cancel(job, name)
                return "Timeout"
            got = self.ml().jobs.get(name).status
            status = str(getattr(got, "value", got))  # azure-ai-ml gives a JobStatus enum
            if status != last:
                self._status(job, name, status)
                last = status
            if status in TERMINAL:
                return status
            cancel.wait(self.poll_s)

    def _cancel(self, job: dict[str, Any], name: str) -> str:
        """Ask Azure ML to cancel the job; not waited for (Azure answers 202 and stops it on its side)."""
        try:
            self.ml().jobs.begin_cancel(name)
        except Exception as exc:  # noqa: BLE001 - said in the ledger; the run is being stopped anyway
            self._status(job, name, f"CancelFailed: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
            return "Canceled"
        self._status(job, name, "CancelRequested")
        return "Canceled"

    def _download(self, job: dict[str, Any], name: str) -> dict[str, Any] | None:
        """The job's ./outputs into the stage folder, its log beside; the failing cell if any."""
        stage_dir = Path(job["output_dir"])
        experiment = f"mlops-accelerator-{job['stage']}"
        mine = _job_output(job) + "/"
        for path, uri in self._artifacts(experiment, name):
            if path.startswith(mine):
                dest = stage_dir / path[len(mine):]
            elif path.startswith(("user_logs/", "azureml-logs/")):
                dest = stage_dir / "azureml-logs" / job["notebook"] / path.split("/", 1)[1]
            else:
                continue
            root = stage_dir.resolve()
            if not dest.resolve().is_relative_to(root):  # a path from the service never leaves the stage folder
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(_fetch_sas(uri))
        return _notebook_error(Path(job["output"]))

    def _api_url(self) -> str:
        if self._api is None:
            self._api = workspace_api(self.cred, self.place.env, self.place.workspace)
        return self._api

    def _artifacts(self, experiment: str, run: str) -> list[tuple[str, str]]:
        return run_artifacts(self.cred, self.place.env, self.place.workspace, experiment, run, self._api_url())

    def _log_tail(self, job: dict[str, Any]) -> str:
        logs = Path(job["output_dir"]) / "azureml-logs" / job["notebook"]
        text = "".join(p.read_text(errors="replace") for p in sorted(logs.rglob("*.txt"))) if logs.is_dir() else ""
        return f"; end of its log: {text[-LOG_TAIL:].strip()}" if text.strip() else "; it left no log"


def workspace_api(cred: Any, env: AzureEnv, workspace: str) -> str:
    """The workspace's data-plane (run history) endpoint, from its discovery document."""
    ws = call(arm_client(cred), "GET", f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}"
              f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace}", "ml") or {}
    discovery = (ws.get("properties") or {}).get("discoveryUrl")
    if not discovery:
        raise RuntimeError(f"workspace {workspace} has no discoveryUrl")
    return json.loads(_fetch_sas(discovery))["api"].rstrip("/")


def run_artifacts(cred: Any, env: AzureEnv, workspace: str, experiment: str, run: str, api: str | None = None,
                  prefixes: tuple[str, ...] = ("outputs", "user_logs")) -> list[tuple[str, str]]:
    """A run's artifacts under `prefixes` (path, SAS URL), from the run-history API."""
    from azure.core.rest import HttpRequest

    url = (f"{api or workspace_api(cred, env, workspace)}/history/v1.0/subscriptions/{env.subscription_id}/"
           f"resourceGroups/{env.resource_group}/providers/Microsoft.MachineLearningServices/workspaces/"
           f"{workspace}/experiments/{experiment}/runs/{run}/artifacts/prefix/contentinfo")
    client = arm_client(cred)
    out: list[tuple[str, str]] = []
    for prefix in prefixes:
        next_url: str | None = url
        params: dict[str, str] | None = {"path": prefix}
        while next_url:
            resp = client.send_request(HttpRequest("GET", next_url, params=params))
            if resp.status_code == 404:
                break
            resp.raise_for_status()
            page = resp.json()
            out += [(a["path"], a["contentUri"]) for a in page.get("value") or []
                    if a.get("path") and a.get("contentUri")]
            next_url, params = page.get("nextLink"), None
    return out


def _fetch_sas(uri: str) -> bytes:
    """GET a URL that carries its own authorization (a SAS blob URL, the discovery document)."""
    from azure.core import PipelineClient
    from azure.core.pipeline import policies
    from azure.core.rest import HttpRequest

    with PipelineClient(base_url="", policies=[policies.RetryPolicy(retry_total=3),
                                               policies.RedirectPolicy()]) as client:
        resp = client.send_request(HttpRequest("GET", uri))
        resp.raise_for_status()
        return resp.read()


def _notebook_error(output: Path) -> dict[str, Any] | None:
    """The first failed cell of an executed notebook, as the runner reports papermill errors."""
    import nbformat

    if not output.exists():
        return None
    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        return None
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs") or []:
            if out.get("output_type") == "error":
                return {"cell_index": i, "ename": out.get("ename"), "evalue": out.get("evalue")}
    return None


def job_target(project: Any, run_id: str, run_dir: Path,
               on_status: Callable[[str, str, str], None] | None = None) -> tuple[JobExecutor | None, str]:
    """The executor for this run's notebooks, or None and why they run on this machine instead."""
    cred = connection.credential()  # looked up at call time (tests and callers may swap it)
    connection.check_sign_in(cred)  # a failed sign-in is one plain message before anything runs
    place = placement(project)
    env = place.env
    arm = arm_client(cred)
    ws = (f"/subscriptions/{env.subscription_id}/resourceGroups/{env.resource_group}/providers/"
          f"Microsoft.MachineLearningServices/workspaces/{place.workspace}")
    for what, rid in ((f"workspace {place.workspace}", ws),
                      (f"compute cluster {place.compute}", f"{ws}/computes/{place.compute}")):
        if call(arm, "GET", rid, "ml") is None:
            return None, (f"the {what} does not exist in {env.name} yet, so the notebooks run on this machine "
                          "(stage 3 creates it; later runs go to Azure ML compute)")
    return JobExecutor(project, run_id, run_dir, place, cred, on_status), (
        f"notebooks run as Azure ML jobs on {place.compute} in workspace {place.workspace} ({env.name})")
