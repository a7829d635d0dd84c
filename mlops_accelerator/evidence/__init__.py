"""Used inside notebooks to hand results back to the runner and the automatic checks.

    from mlops_accelerator.evidence import Evidence
    evidence = Evidence(output_dir, "01-maturity-assessment")
    evidence.artifact("radar_chart", "maturity-radar.png")   # a file this notebook wrote
    evidence["repository"] = {"url": ..., "reachable": True, "folders": [...], "error": ""}
    evidence.save()

Every key and value is checked against the stage's evidence model (evidence/models.py) the
moment it is written: an unknown key or a wrong type fails the notebook at that line, with a
message naming the key and the problem. The stage comes from the output folder (`NN-slug`,
as the runner lays runs out) or `stage=`.

Each notebook writes `evidence/<notebook>.json` in its stage's output folder; the runner
merges them into the stage's evidence recorded in the ledger. Checks read it back through
`EvidenceRecord`, which refuses keys the model does not declare.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .models import StageEvidence, evidence_model


class EvidenceError(ValueError):
    """Evidence that breaks its stage's contract: names the key and the problem."""


def _stage_of(folder: Path) -> str | None:
    from ..catalogue import stage_of_folder

    for part in reversed(folder.resolve().parts):
        stage = stage_of_folder(part)
        if stage is not None:
            return stage
    return None


def _problems(exc: Any, key: str) -> str:
    parts = []
    for e in exc.errors(include_url=False):
        loc = "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in e["loc"])
        got = e.get("input")
        parts.append(f"evidence[{key!r}]{loc}: {e['msg']} (got {got!r:.80})")
    return "; ".join(parts)


def validate_value(model: type[StageEvidence], key: str, value: Any) -> Any:
    """`value` as JSON-able data if `key` may hold it in `model`; EvidenceError otherwise."""
    from pydantic import TypeAdapter, ValidationError

    field = model.model_fields.get(key)
    if field is None:
        known = ", ".join(sorted(model.evidence_keys()))
        raise EvidenceError(f"evidence key {key!r} is not part of stage '{model.stage}' evidence "
                            f"({model.__name__} in mlops_accelerator/evidence/models.py); its keys: {known}")
    adapter = TypeAdapter(field.annotation)
    try:
        parsed = adapter.validate_python(value)
    except ValidationError as exc:
        raise EvidenceError(_problems(exc, key)) from None
    return adapter.dump_python(parsed, mode="json", exclude_unset=True)


class Evidence(dict):
    """A notebook's evidence: a dict whose every write is checked against the stage's model."""

    def __init__(self, output_dir: str | Path, notebook: str, stage: str | None = None):
        super().__init__()
        self.output_dir = Path(output_dir)
        self.notebook = notebook
        slug = stage or _stage_of(self.output_dir)
        if slug is None:
            raise EvidenceError(f"cannot tell which stage {self.output_dir} belongs to (no NN-stage folder "
                                "in its path): pass stage='<slug>' to Evidence")
        self.model = evidence_model(slug)
        dict.__setitem__(self, "artifacts", {})

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "artifacts":
            for k, v in dict(value).items():
                self._check_artifact_key(k)
                self["artifacts"][k] = str(v)
            return
        dict.__setitem__(self, key, validate_value(self.model, key, value))

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if key not in self:
            self[key] = default
        return self[key]

    def _check_artifact_key(self, key: str) -> None:
        allowed = self.model.artifact_keys()
        if key not in allowed:
            raise EvidenceError(f"artifact key {key!r} is not part of stage '{self.model.stage}' evidence "
                                f"({self.model.__name__}); its artifact keys: {', '.join(sorted(allowed))}")

    def artifact(self, key: str, relative_path: str | Path) -> Path:
        """Record an artifact this notebook produced; it must exist (evidence is never claimed)."""
        self._check_artifact_key(key)
        path = self.output_dir / relative_path
        if not path.exists():
            raise FileNotFoundError(f"artifact {key!r} was not produced: {path} does not exist")
        self["artifacts"][key] = str(Path(relative_path).as_posix())
        return path

    def save(self) -> Path:
        from pydantic import ValidationError

        try:
            self.model.model_validate(dict(self))
        except ValidationError as exc:
            raise EvidenceError(_problems(exc, self.notebook)) from None
        folder = self.output_dir / "evidence"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{self.notebook}.json"
        target.write_text(json.dumps(self, indent=2, default=str))
        return target


def merge_stage_evidence(stage_dir: Path, project_root: Path, stage: str | None = None) -> dict[str, Any]:
    """Merge every notebook's evidence of a stage; artifact paths become project-relative."""
    merged: dict[str, Any] = {"artifacts": {}}
    folder = stage_dir / "evidence"
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        data = json.loads(file.read_text())
        for key, rel in (data.pop("artifacts", None) or {}).items():
            merged["artifacts"][key] = (stage_dir / rel).resolve().relative_to(project_root).as_posix()
        merged.update(data)
    slug = stage or _stage_of(stage_dir)
    if slug is not None:
        evidence_model(slug).model_validate(merged)  # every notebook wrote through the model already
    return merged


class UndeclaredEvidence(KeyError):
    """A check asked for an evidence key its stage's model does not declare: a programming error."""


class EvidenceRecord(dict):
    """The evidence a check reads: the stored dict, refusing keys the stage's model does not declare."""

    def __init__(self, model: type[StageEvidence], data: dict[str, Any]):
        super().__init__(data)
        self.model = model
        if "artifacts" in self:
            dict.__setitem__(self, "artifacts", _ArtifactRecord(model, self["artifacts"] or {}))

    def _declared(self, key: Any) -> None:
        if key != "artifacts" and key not in self.model.model_fields:
            raise UndeclaredEvidence(f"check reads evidence key {key!r}, which {self.model.__name__} "
                                     "does not declare (mlops_accelerator/evidence/models.py)")

    def __getitem__(self, key: Any) -> Any:
        self._declared(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        self._declared(key)
        return super().get(key, default)


class _ArtifactRecord(dict):
    def __init__(self, model: type[StageEvidence], data: dict[str, Any]):
        super().__init__(data)
        self.model = model

    def _declared(self, key: Any) -> None:
        if key not in self.model.artifact_keys():
            raise UndeclaredEvidence(f"check reads artifact {key!r}, which {self.model.__name__} "
                                     "does not declare (mlops_accelerator/evidence/models.py)")

    def __getitem__(self, key: Any) -> Any:
        self._declared(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        self._declared(key)
        return super().get(key, default)


def read_evidence(stage: str, data: dict[str, Any]) -> EvidenceRecord:
    """Stored evidence of a stage, checked against its model; EvidenceError if it breaks it."""
    from pydantic import ValidationError

    model = evidence_model(stage)
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise EvidenceError(_problems(exc, stage)) from None
    return EvidenceRecord(model, data)
