"""The bundled sample project (Contoso churn): answers a new project can start from."""

from __future__ import annotations

from importlib import resources
from typing import Any


def sample_settings() -> dict[str, dict[str, Any]]:
    """Stage slug -> the sample's answers (plain data; validated by Project.create)."""
    from ruamel.yaml import YAML

    text = resources.files(__name__).joinpath("sample-project.yaml").read_text(encoding="utf-8")
    data = YAML(typ="safe").load(text)
    return {slug: dict(values or {}) for slug, values in data.items()}
