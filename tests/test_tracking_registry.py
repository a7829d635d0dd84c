"""A process that used one project's MLflow registry never reads or writes another's by accident.

mlflow.set_registry_uri also sets MLFLOW_REGISTRY_URI (for child processes), and MLflow prefers
that to the tracking URI a client is given; xdist runs many projects in one process, which is how
a registry check once read the previous test's champion. project_client and tracking_env name both.
"""

import os
import subprocess
import sys

from mlops_accelerator.tracking import project_client, tracking_env, use_project_tracking

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def test_the_registry_follows_the_project_after_another_was_used(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    a, b = tmp_path / "a", tmp_path / "b"
    use_project_tracking(a)  # as a stage-5 notebook does for its project
    project_client(a).create_registered_model("only-in-a")
    assert os.environ.get("MLFLOW_REGISTRY_URI", "").endswith("a/mlruns/mlflow.db")  # MLflow's own side effect
    assert [m.name for m in project_client(b).search_registered_models()] == []
    assert [m.name for m in project_client(a).search_registered_models()] == ["only-in-a"]
    # a child process given project b's environment reads b's registry, whatever this process holds
    code = ("from mlflow.tracking import MlflowClient;"
            "print([m.name for m in MlflowClient().search_registered_models()])")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **tracking_env(b)},
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
