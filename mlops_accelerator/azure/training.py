"""Stage 5's training on Azure ML: the training pipeline (or, for the other training methods, the one
command job) the stage's notebook wrote, submitted to the first environment of the promotion path.

The job's code snapshot is what CD submits from the repository: the commit the run trained
(code/: src/, tests/, pyproject.toml) with the Azure ML files beside it (azureml-models/). The
environment the steps run in is created from azureml-models/environment.yml first. The pipeline's
own deploy step is left out of what is submitted: the target deploys every environment itself right
after, from the same specs (azure/stages456.py), so dev would otherwise be deployed twice. The job is
followed until it ends (Ctrl-C cancels it), then its register step's output (registration.json:
registered or not, the version, the alias) is downloaded into the stage folder, beside the job's log.

The version the job registered in the workspace (through the workspace's MLflow registry) is the one
the endpoints then deploy, in every environment: the training environment has it already, the others
get it as the settings' cross-environment transfer says (a registry share, or its files registered
again). A job that fails names its failing step and the end of its log; a job whose evaluation kept
the current champion leaves the endpoints as they are.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .stage3 import StepFailed, _message, _plain

TRAINING_FOLDER = "azureml-training"  # in the stage folder: what came back from the job
TRAINING_TIMEOUT_S = 6 * 3600  # a training job still running after this is cancelled and named
CODE_PARTS = ("src", "tests", "pyproject.toml")  # of the trained commit (code/), as CD's checkout has them


def _snapshot(stage_dir: Path, root: Path) -> Path:
    """The repository as CD sees it: the trained commit's files and azureml-models/ beside them."""
    from ..modeling.azure_specs import FOLDER

    code = stage_dir / "code"
    if not (code / "src").is_dir():
        raise StepFailed("training code", f"{code} holds no src/: the run did not export the trained commit")
    skip = shutil.ignore_patterns("__pycache__", ".ruff_cache", ".pytest_cache", "*.pyc")
    for part in CODE_PARTS:
        src = code / part
        if src.is_dir():
            shutil.copytree(src, root / part, ignore=skip)
        elif src.is_file():
            shutil.copyfile(src, root / part)
    shutil.copytree(stage_dir / FOLDER, root / FOLDER, ignore=skip)
    return root / FOLDER


def job_name(project: str, run_id: str) -> str:
    """Unique per run (Azure ML refuses a second job of the same name): letters, digits, - and _."""
    return re.sub(r"[^a-z0-9_-]+", "-", f"{project}-train-{run_id}".lower())[:200]


def _load(specs: Path, models: Any, name: str) -> tuple[Any, str]:
    """The spec the notebook wrote, loaded by azure-ai-ml; the pipeline without its deploy step."""
    from azure.ai.ml import load_job

    spec = "train-pipeline.yml" if models.training_method == "pipeline" else "train-job.yml"
    job = load_job(source=specs / spec)
    if spec == "train-pipeline.yml" and "deploy" in job.jobs:
        del job.jobs["deploy"]  # the target deploys right after: see the module's docstring
    job.name = name
    return job, spec


def _submitted(ml: Any, name: str) -> Any:
    """The job of that name if this run submitted it already, else None."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return ml.jobs.get(name)
    except ResourceNotFoundError:
        return None


def _wait(seconds: float) -> None:
    time.sleep(seconds)  # between polls (where a person's Ctrl-C usually lands)


def _follow(ml: Any, name: str, timeout_s: float, poll_s: float, statuses: list[str], on_status: Any) -> str:
    """Poll until the job ends; Ctrl-C or the timeout cancels it on Azure first."""
    from .jobs import TERMINAL

    start = time.monotonic()
    try:
        while True:
            got = ml.jobs.get(name).status
            status = str(getattr(got, "value", got))
            if not statuses or statuses[-1] != status:
                statuses.append(status)
                on_status(status)
            if status in TERMINAL:  # the notebooks' jobs' end states (azure/jobs.py)
                return status
            if time.monotonic() - start > timeout_s:
                ml.jobs.begin_cancel(name)
                raise StepFailed(f"training job {name}", f"still {status} after {timeout_s:g} s: cancelled")
            _wait(poll_s)
    except KeyboardInterrupt:
        ml.jobs.begin_cancel(name)  # the run stops; the job must not train on, billed, without it
        raise


def _download_artifacts(cred: Any, env: Any, workspace: str, experiment: str, run: str, prefix: str,
                        into: Path) -> list[Path]:
    """A run's artifacts under `prefix`, into `into` (their paths kept; none leaves `into`)."""
    from .jobs import _fetch_sas, run_artifacts

    got = []
    for path, uri in run_artifacts(cred, env, workspace, experiment, run, prefixes=(prefix,)):
        dest = into / path
        if not dest.resolve().is_relative_to(into.resolve()):
            continue  # a path from the service never leaves the folder
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(_fetch_sas(uri))
        got.append(dest)
    return got


def _failure(ml: Any, cred: Any, env: Any, job: Any, spec: str, back: Path) -> str:
    """Which step failed (a pipeline's child job in state Failed) and the end of its log, which is
    kept in the stage folder (azureml-training/logs/<step>/)."""
    from .jobs import LOG_TAIL

    runs = [(job.name, "")]
    if spec == "train-pipeline.yml":
        try:
            runs = [(c.name, c.display_name or c.name) for c in ml.jobs.list(parent_job_name=job.name)
                    if str(_plain(c.status)) == "Failed"]
        except Exception:  # noqa: BLE001 - the failure is named anyway; the step is a detail
            return ""
    said = []
    for run, step in runs:
        try:
            logs = _download_artifacts(cred, env, ml.workspace_name, job.experiment_name, run, "user_logs",
                                       back / "logs" / (step or "job"))
        except Exception:  # noqa: BLE001 - a log that cannot be fetched: the step is still named
            logs = []
        text = "".join(p.read_text(errors="replace") for p in logs)
        tail = f"; end of its log: {text[-LOG_TAIL:].strip()}" if text.strip() else ""
        said.append((f" at step {step}" if step else "") + tail)
    return "".join(said)


@dataclass
class TrainedModel:
    """The version the training job registered in the training environment's workspace. Other
    environments that lack it get its files (downloaded from that workspace) registered there."""

    name: str
    version: str
    source: Any  # the training workspace's MLClient
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    origin: str = "the training job's workspace"
    _folder: Path | None = None
    _tmp: Path | None = None

    def close(self) -> None:
        """Remove the downloaded copy (registered where it was missing by now)."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = self._folder = None

    def folder(self) -> Path:
        if self._folder is None:
            from ..artifacts.azureml_specs import _quiet_sdk
            from .connection import in_cloud

            target = self._tmp = Path(tempfile.mkdtemp(prefix="mlops-model-"))
            with in_cloud(), _quiet_sdk():
                self.source.models.download(self.name, version=self.version, download_path=str(target))
            found = sorted(target.rglob("MLmodel"))
            if not found:
                raise StepFailed(f"model {self.name}:{self.version}", "its files in the training workspace "
                                                                      "hold no MLmodel file")
            self._folder = found[0].parent
        return self._folder


def train_on_azure(ml: Any, cred: Any, env: Any, stage_dir: Path, models: Any, project: str, run_id: str,
                   poll_s: float | None = None,
                   timeout_s: float = TRAINING_TIMEOUT_S,
                   on_status: Any = None) -> tuple[dict[str, Any], list[str], TrainedModel | None]:
    """Submit, follow, download. Returns the read-back ({"env", "job", "status", "studio_url",
    "registration", ...}), the failures, and the model version to deploy (None: the endpoints stay).
    `on_status(job, status, studio_url)` hears each status change (the ledger's azureml_job events)."""
    from azure.ai.ml import load_environment

    from ..artifacts.azureml_specs import _quiet_sdk
    from .connection import in_cloud
    from .jobs import POLL_ENV

    poll = poll_s if poll_s is not None else float(os.environ.get(POLL_ENV) or 10)
    name = job_name(project, run_id)
    out: dict[str, Any] = {"env": env.name, "job": name, "status": None}
    statuses: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="mlops-training-"))
    try:
        specs = _snapshot(stage_dir, tmp / "repository")
        environment = load_environment(source=specs / "environment.yml")
        job, spec = _load(specs, models, name)
        out.update(spec=f"azureml-models/{spec}", environment=f"{environment.name}:{environment.version}",
                   steps=list(job.jobs) if spec == "train-pipeline.yml" else None)
        created = _submitted(ml, name)  # this run's Azure part again (a retry): follow the job it submitted
        if created is None:
            with in_cloud(), _quiet_sdk():  # the uploads build their storage URLs from the current cloud
                ml.environments.create_or_update(environment)
                created = ml.jobs.create_or_update(job)
        else:
            out["resumed"] = True
        out["studio_url"] = getattr(created, "studio_url", None)
    except StepFailed as exc:
        return out, [str(exc)], None
    except Exception as exc:  # the SDK refused the spec, or Azure refused the environment or the job
        return out, [f"training job {name}: {type(exc).__name__}: {_message(exc)}"], None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # uploaded: Azure ML keeps the snapshot with the job
    try:
        status = _follow(ml, name, timeout_s, poll, statuses,
                         lambda st: on_status and on_status(name, st, out.get("studio_url")))
    except StepFailed as exc:
        out["statuses"] = statuses
        return out, [str(exc)], None
    except Exception as exc:  # Azure stopped answering while the job ran: it may still be running there
        out["statuses"] = statuses
        return out, [f"training job {name}: following it failed after {statuses[-1] if statuses else 'submission'}: "
                     f"{type(exc).__name__}: {_message(exc)} (it may still be running: see it in Azure ML studio, "
                     f"{out.get('studio_url') or 'the workspace'})"], None
    out.update(status=status, statuses=statuses)
    back = stage_dir / TRAINING_FOLDER
    shutil.rmtree(back, ignore_errors=True)
    if status != "Completed":
        return out, [f"training job {name} ended {status}{_failure(ml, cred, env, job, spec, back)} (Azure ML "
                     f"studio: {out.get('studio_url') or 'the workspace'})"], None
    try:
        if spec == "train-pipeline.yml":  # the pipeline's output, as CD downloads it
            with in_cloud(), _quiet_sdk():
                ml.jobs.download(name, download_path=str(back), output_name="registration")
        else:  # the single job's register step writes to ./outputs, which Azure ML keeps as the run's artifacts
            _download_artifacts(cred, env, ml.workspace_name, job.experiment_name, name, "outputs/registration", back)
    except Exception as exc:  # noqa: BLE001 - said, with the job's name
        return out, [f"training job {name}: its registration could not be downloaded: "
                     f"{type(exc).__name__}: {_message(exc)}"], None
    found = sorted(back.rglob("registration.json"))
    if not found:
        return out, [f"training job {name} completed but wrote no registration.json (its register step's "
                     "output)"], None
    registration = json.loads(found[0].read_text(encoding="utf-8"))
    out["registration"] = registration
    if not registration.get("registered") or registration.get("alias") != "champion":
        return out, [], None  # the current champion stays: nothing new to deploy
    try:
        got = ml.models.get(str(registration["name"]), version=str(registration["version"]))
    except Exception as exc:  # registered through MLflow, so the workspace must have it
        return out, [f"training job {name} registered {registration['name']}:{registration['version']}, but the "
                     f"workspace does not answer it: {type(exc).__name__}: {_message(exc)}"], None
    out["model"] = {"name": got.name, "version": str(got.version), "type": _plain(got.type),
                    "path": str(got.path) if got.path else None, "tags": dict(got.tags or {})}
    return out, [], TrainedModel(got.name, str(got.version), ml, dict(got.tags or {}),
                                 (got.properties or {}).get("mlflow.runId") or (got.tags or {}).get("training_run"))
