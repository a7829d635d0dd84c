"""Used inside notebooks to hand results back to the runner and the automatic checks.

    from mlops_accelerator.evidence import Evidence
    evidence = Evidence(output_dir, "maturity-assessment")
    evidence.artifact("radar_chart", "maturity-radar.png")   # a file this notebook wrote
    evidence["maturity"] = {"current": 1, "target": 3}
    evidence.save()

Each notebook writes `evidence/<notebook>.json` in its stage's output folder; the runner
merges them into the stage's evidence recorded in the ledger.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class Evidence(dict):
    def __init__(self, output_dir: str | Path, notebook: str):
        super().__init__()
        self.output_dir = Path(output_dir)
        self.notebook = notebook
        self["artifacts"] = {}

    def artifact(self, key: str, relative_path: str | Path) -> Path:
        """Record an artifact this notebook produced; it must exist (evidence is never claimed)."""
        path = self.output_dir / relative_path
        if not path.exists():
            raise FileNotFoundError(f"artifact {key!r} was not produced: {path} does not exist")
        self["artifacts"][key] = str(Path(relative_path).as_posix())
        return path

    def save(self) -> Path:
        folder = self.output_dir / "evidence"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{self.notebook}.json"
        target.write_text(json.dumps(self, indent=2, default=str))
        return target


def merge_stage_evidence(stage_dir: Path, project_root: Path) -> dict[str, Any]:
    """Merge every notebook's evidence of a stage; artifact paths become project-relative."""
    merged: dict[str, Any] = {"artifacts": {}}
    folder = stage_dir / "evidence"
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        data = json.loads(file.read_text())
        for key, rel in (data.pop("artifacts", None) or {}).items():
            merged["artifacts"][key] = (stage_dir / rel).resolve().relative_to(project_root).as_posix()
        merged.update(data)
    return merged
