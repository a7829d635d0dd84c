"""Which project a wizard works on: $MLOPS_ACCELERATOR_PROJECT (set by `serve`), else the notebook's folder."""

from __future__ import annotations

import os
from pathlib import Path

ENV = "MLOPS_ACCELERATOR_PROJECT"


def project_dir() -> Path:
    """The folder the wizards work in (it may not hold a project yet)."""
    return Path(os.environ.get(ENV) or ".").resolve()


def current_project():
    """The project of `project_dir()` or its nearest parent; UsageError when there is none."""
    from ..workspace import Project

    return Project.find(project_dir())
