"""The bundled sample project (Contoso churn): answers a new project can start from."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any


def sample_settings() -> dict[str, dict[str, Any]]:
    """Stage slug -> the sample's answers (plain data; validated by Project.create)."""
    from ruamel.yaml import YAML

    text = resources.files(__name__).joinpath("sample-project.yaml").read_text(encoding="utf-8")
    data = YAML(typ="safe").load(text)
    return {slug: dict(values or {}) for slug, values in data.items()}


LEGACY_PROJECT = "legacy-churn"


def lay_out_legacy_project(root: Path) -> Path:
    """Copy the sample's SDK v1 project (stage 7 migrates it) into the project folder."""
    target = Path(root) / LEGACY_PROJECT

    def copy(node: Any, dest: Path) -> None:
        if node.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            for child in node.iterdir():
                if child.name != "__pycache__":
                    copy(child, dest / child.name)
        elif node.name.endswith(".py2"):
            # Shipped as .py2 so tools that parse the package's Python skip it; laid out as the .py it was.
            dest.with_suffix(".py").write_bytes(node.read_bytes())
        else:
            dest.write_bytes(node.read_bytes())

    copy(resources.files(__name__).joinpath(LEGACY_PROJECT), target)
    return target
