"""The project's MLflow tracking location: one SQLite store and one artifact folder per project.

No server runs: the SQLite file is the backend store (runs, metrics, the model registry) and
`mlruns/artifacts/` holds logged files and models. `mlflow ui --backend-store-uri <uri>` opens it.
Every stage that tracks with MLflow (5 trains and registers, 7 compares migrated runs) uses this.
"""

from __future__ import annotations

import os
from pathlib import Path

TRACKING_DIR = "mlruns"


def tracking_dir(project_dir: str | Path) -> Path:
    return Path(project_dir).resolve() / TRACKING_DIR


def tracking_uri(project_dir: str | Path) -> str:
    """`sqlite:///<project>/mlruns/mlflow.db` (the folder is created)."""
    folder = tracking_dir(project_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def tracking_env(project_dir: str | Path) -> dict[str, str]:
    """Environment for a child process that tracks or reads the registry of this project. Both URIs:
    a child inherits MLFLOW_REGISTRY_URI from this process (mlflow.set_registry_uri sets it), and MLflow
    prefers it to the tracking URI, so the registry of a project used earlier would win."""
    uri = tracking_uri(project_dir)
    return {"MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri}


def project_client(project_dir: str | Path):  # -> mlflow.tracking.MlflowClient (lazy import)
    """An MlflowClient on this project's store for runs and the registry alike (see tracking_env:
    `MlflowClient(tracking_uri)` alone takes the registry this process used last)."""
    from mlflow.tracking import MlflowClient

    uri = tracking_uri(project_dir)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def artifact_root(project_dir: str | Path) -> str:
    return (tracking_dir(project_dir) / "artifacts").as_uri()


def use_project_tracking(project_dir: str | Path) -> str:
    """Point MLflow (in this process) at the project's store; telemetry off. Returns the URI."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # no "creating tables" chatter in notebooks
    uri = tracking_uri(project_dir)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def experiment_id(name: str, project_dir: str | Path) -> str:
    """The experiment's id, created with its artifacts under the project when new."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri(project_dir))
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return client.create_experiment(name, artifact_location=f"{artifact_root(project_dir)}/{name}")
