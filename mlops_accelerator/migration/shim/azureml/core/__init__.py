"""The SDK v1 classes a training script uses inside a run, replayed offline (see ../__init__.py).

Environment variables (set by mlops_accelerator.migration.parity):
    MLOPS_V1_SHIM_RECORD    JSON file the run's metrics, tags and files are written to at exit
    MLOPS_V1_SHIM_DATASETS  JSON object: dataset name -> local file path
"""

from __future__ import annotations

import atexit
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["Dataset", "Experiment", "Run", "Workspace", "Model", "Environment", "ScriptRunConfig"]


class NotReplayed(NotImplementedError):
    def __init__(self, api: str):
        super().__init__(f"{api} is not replayed by the offline SDK v1 shim: only what a training script "
                         "does inside a run (Run.get_context, run.log*, run.tag, Dataset.get_by_name, "
                         "run.input_datasets) runs locally")


class Workspace:
    """The workspace of the current run (offline: a name only)."""

    name = "offline-workspace"

    @classmethod
    def from_config(cls, *args: Any, **kwargs: Any) -> Workspace:
        raise NotReplayed("Workspace.from_config")


class Experiment:
    def __init__(self, workspace: Any = None, name: str = "offline-experiment", **kwargs: Any):
        self.workspace = workspace or Workspace()
        self.name = name

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        raise NotReplayed("Experiment.submit")


def _datasets() -> dict[str, str]:
    return json.loads(os.environ.get("MLOPS_V1_SHIM_DATASETS") or "{}")


class _TabularDataset:
    def __init__(self, name: str, path: str):
        self.name = name
        self.path = path

    def to_pandas_dataframe(self) -> Any:
        import pandas as pd

        suffix = Path(self.path).suffix.lower()
        if suffix == ".parquet":
            return pd.read_parquet(self.path)
        if suffix in (".jsonl", ".json"):
            return pd.read_json(self.path, lines=suffix == ".jsonl")
        return pd.read_csv(self.path)

    def as_named_input(self, name: str) -> _TabularDataset:
        return self

    def download(self, target_path: str | None = None, **kwargs: Any) -> list[str]:
        return [self.path]


class Dataset:
    @staticmethod
    def get_by_name(workspace: Any, name: str, version: Any = "latest", **kwargs: Any) -> _TabularDataset:
        mapped = _datasets()
        if name not in mapped:
            raise KeyError(f"dataset {name!r} has no local file in the parity run's data mapping "
                           f"(mapped: {', '.join(sorted(mapped)) or 'none'})")
        return _TabularDataset(name, mapped[name])


class _Recorder:
    """What the run logged, written as JSON when the script ends (even on error)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {"metrics": {}, "tags": {}, "files": [], "completed": False}
        atexit.register(self.save)

    def save(self) -> None:
        target = os.environ.get("MLOPS_V1_SHIM_RECORD")
        if target:
            Path(target).write_text(json.dumps(self.data, indent=2, default=str))


_recorder: _Recorder | None = None


class Run:
    """The offline run: every run.log* call is recorded (a list of values per metric name)."""

    def __init__(self) -> None:
        self.experiment = Experiment()
        self.id = "offline-run"
        self.input_datasets = {name: _TabularDataset(name, path) for name, path in _datasets().items()}

    @classmethod
    def get_context(cls, *args: Any, **kwargs: Any) -> Run:
        global _recorder
        if _recorder is None:
            _recorder = _Recorder()
        return cls()

    def _metric(self, name: str, value: Any) -> None:
        assert _recorder is not None
        _recorder.data["metrics"].setdefault(str(name), []).append(value)

    def log(self, name: str, value: Any, description: str = "", step: Any = None) -> None:
        self._metric(name, value)

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        for v in value:
            self._metric(name, v)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        for key, v in kwargs.items():
            self._metric(f"{name}.{key}", v)

    def tag(self, key: str, value: Any = None) -> None:
        assert _recorder is not None
        _recorder.data["tags"][str(key)] = value

    def set_tags(self, tags: dict[str, Any]) -> None:
        for key, value in tags.items():
            self.tag(key, value)

    def log_image(self, name: str, path: str | None = None, plot: Any = None, description: str = "") -> None:
        assert _recorder is not None
        _recorder.data["files"].append(path or name)

    def upload_file(self, name: str, path_or_stream: str, **kwargs: Any) -> None:
        assert _recorder is not None
        _recorder.data["files"].append(path_or_stream)

    def complete(self, *args: Any, **kwargs: Any) -> None:
        assert _recorder is not None
        _recorder.data["completed"] = True

    def __getattr__(self, name: str) -> Any:
        raise NotReplayed(f"Run.{name}")


class Model:
    @staticmethod
    def register(*args: Any, **kwargs: Any) -> Any:
        raise NotReplayed("Model.register")


class Environment:
    def __init__(self, *args: Any, **kwargs: Any):
        raise NotReplayed("Environment")


class ScriptRunConfig:
    def __init__(self, *args: Any, **kwargs: Any):
        raise NotReplayed("ScriptRunConfig")
