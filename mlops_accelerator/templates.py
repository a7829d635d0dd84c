"""The stage notebook templates: discovery, their parameters, and what to inject.

A template is `notebooks/<NN>-<slug>/<name>.ipynb` with one cell tagged `parameters`: a
`settings` mapping (every stage's settings, read through `settings.parameters.from_parameters`)
and the runner-provided names below. A template may also take a single setting by name
(`name: type = default`) when a person would change it by hand; a test checks each against the
schema, which stays the single source.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalogue import stage_folder
from .errors import UsageError
from .resources import templates_dir

RUNNER_PARAMETERS = {
    "settings": "dict",  # stage slug -> that stage's effective settings (read with settings.parameters)
    "project_dir": "str",  # the project workspace folder (absolute)
    "output_dir": "str",  # where this stage's artifacts go (absolute)
    "target": "str",  # execution target: local (azureml later)
    "run_id": "str",
}


@dataclass(frozen=True)
class Parameter:
    name: str
    annotation: str | None  # e.g. "int", "list[dict]"
    default_source: str


@dataclass(frozen=True)
class Template:
    stage: str  # slug
    number: int
    name: str  # file stem, e.g. "01-maturity-assessment"
    path: Path
    title: str
    parameters: tuple[Parameter, ...]
    depends_on: tuple[str, ...] = field(default=())  # stage slugs whose notebooks must finish first

    @property
    def key(self) -> str:
        return f"{stage_folder(self.number)}/{self.name}"


def read_parameters(nb: dict[str, Any], path: Path) -> tuple[Parameter, ...]:
    cells = [c for c in nb.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise UsageError(f"{path}: a template needs exactly one cell tagged 'parameters' (found {len(cells)})")
    source = "".join(cells[0]["source"]) if isinstance(cells[0]["source"], list) else cells[0]["source"]
    params = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            params.append(Parameter(node.target.id, ast.unparse(node.annotation),
                                    ast.unparse(node.value) if node.value else ""))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            params.append(Parameter(node.targets[0].id, None, ast.unparse(node.value)))
    return tuple(params)


def load_template(path: Path, stage: str, number: int) -> Template:
    nb = json.loads(path.read_text(encoding="utf-8"))
    meta = nb.get("metadata", {}).get("mlops_accelerator", {})
    return Template(stage=stage, number=number, name=path.stem, path=path,
                    title=meta.get("title") or path.stem,
                    parameters=read_parameters(nb, path),
                    depends_on=tuple(meta.get("depends_on", ())))


def stage_templates(stage: str, root: Path | None = None) -> list[Template]:
    """The templates of a stage, in file-name order."""
    from .catalogue import stage_identity

    st = stage_identity(stage)
    folder = (root or templates_dir()) / stage_folder(st.number)
    return [load_template(p, st.slug, st.number) for p in sorted(folder.glob("*.ipynb"))]


def parameter_values(template: Template, effective: dict[str, dict[str, Any]],
                     runner: dict[str, Any]) -> dict[str, Any]:
    """Values for a template's parameters: runner-provided, then its own stage, then earlier stages."""
    from .catalogue import stage_slugs

    order = [template.stage] + [s for s in stage_slugs() if s != template.stage]
    values = {}
    for p in template.parameters:
        if p.name == "settings":
            from .settings.parameters import project_parameters

            values[p.name] = project_parameters(effective)
            continue
        if p.name in RUNNER_PARAMETERS:
            values[p.name] = runner[p.name]
            continue
        for slug in order:
            if p.name in effective[slug]:
                values[p.name] = effective[slug][p.name]
                break
        else:
            raise UsageError(f"{template.path}: parameter {p.name!r} is neither a setting of any "
                             f"stage nor runner-provided ({', '.join(RUNNER_PARAMETERS)})")
    return values
