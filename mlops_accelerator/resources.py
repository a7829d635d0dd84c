"""Where the shipped notebook templates and wizard notebooks live.

In a wheel they are inside the package (force-included); in a source checkout or an
editable install they are the repository's top-level `notebooks/` and `wizards/`.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def templates_dir() -> Path:
    """The stage templates; MLOPS_ACCELERATOR_TEMPLATES points at an organisation's own set."""
    custom = os.environ.get("MLOPS_ACCELERATOR_TEMPLATES")
    return Path(custom) if custom else data_dir("notebooks")


def wizards_dir() -> Path:
    return data_dir("wizards")
