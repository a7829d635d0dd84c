"""The evidence contract, checked from the sources: what checks read, what notebooks write.

- What a check reads is found in the check modules' code: the key argument of `need(ev, KEY, ...)`,
  `artifact(ctx, ev, KEY)`, `_need(ctx, KEY, ...)`, and `.get(KEY)` / `[KEY]` on the evidence
  (`ev`, `_ev(ctx)`, `ctx.run_evidence(...)`). A key read in a function that reads another stage's
  evidence (`ctx.run_evidence("design", 2)`) belongs to that stage.
- What a notebook writes is found in its code cells: `X["key"] = ...`, `X.artifact("key", ...)`,
  `X.update({"key": ...})` where `X = Evidence(...)`. Notebooks write evidence with literal keys.

The contract (tests/test_evidence_contract.py): every key a check reads is declared by the
stage's evidence model and, for a stage that has notebook templates, written by one of them or
marked "from Azure". A stage with no templates yet is reported as such: its keys become required
the moment its first template lands.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

from .models import StageEvidence, evidence_model

ARTIFACTS = "artifacts."  # prefix of an artifact key in the sets below: "artifacts.design_doc"


@dataclass
class StageContract:
    stage: str
    reads: dict[str, set[str]] = field(default_factory=dict)  # key -> the check functions reading it
    writes: dict[str, set[str]] = field(default_factory=dict)  # key -> the notebooks writing it
    has_templates: bool = False

    def problems(self, model: type[StageEvidence] | None = None) -> list[str]:
        model = model or evidence_model(self.stage)
        declared = model.evidence_keys() | {ARTIFACTS + k for k in model.artifact_keys()}
        azure = model.fields_from_azure()
        out = []
        for key, readers in sorted(self.reads.items()):
            who = ", ".join(sorted(readers))
            if key not in declared:
                out.append(f"{self.stage}: {who} read(s) '{key}', which {model.__name__} does not declare")
            elif self.has_templates and key not in self.writes and key not in azure:
                out.append(f"{self.stage}: {who} read(s) '{key}', which no notebook of the stage writes "
                           "and which is not marked from Azure")
        for key, writers in sorted(self.writes.items()):
            if key not in declared:
                out.append(f"{self.stage}: {', '.join(sorted(writers))} write(s) '{key}', which "
                           f"{model.__name__} does not declare")
        return out


# -- what checks read ------------------------------------------------------------

_KEY_ARG = {"need": 1, "artifact": 2, "_need": 1}


def _str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_evidence(node: ast.AST) -> bool:
    """`ev`, `_ev(ctx)` or `ctx.run_evidence(...)`."""
    if isinstance(node, ast.Name):
        return node.id == "ev"
    if isinstance(node, ast.Call):
        f = node.func
        return (isinstance(f, ast.Name) and f.id == "_ev") or (isinstance(f, ast.Attribute)
                                                              and f.attr == "run_evidence")
    return False


def check_reads(source: str, own_stage: str) -> dict[str, dict[str, set[str]]]:
    """stage -> key -> names of the functions in `source` (a check module) that read it."""
    tree = ast.parse(source)
    out: dict[str, dict[str, set[str]]] = {}
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        stages = {_str(c.args[0]) for c in ast.walk(fn) if isinstance(c, ast.Call) and c.args
                  and isinstance(c.func, ast.Attribute) and c.func.attr == "run_evidence"} - {None}
        stages = stages or {own_stage}
        for node in ast.walk(fn):
            key = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _KEY_ARG:
                pos = _KEY_ARG[node.func.id]
                key = _str(node.args[pos]) if len(node.args) > pos else None
                if key and node.func.id == "artifact":
                    key = ARTIFACTS + key
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                  and node.args and _is_evidence(node.func.value)):
                key = _str(node.args[0])
            elif isinstance(node, ast.Subscript) and _is_evidence(node.value):
                key = _str(node.slice)
            if key:
                for stage in stages:
                    out.setdefault(stage, {}).setdefault(key, set()).add(fn.name)
    return out


# -- what notebooks write -----------------------------------------------------------


def notebook_writes(nb_json: str) -> set[str]:
    """The evidence keys a notebook writes (artifact keys as 'artifacts.<key>').

    Seen: `X["key"] = ...`, `X.artifact("key", ...)`, `X.update({"key": ...})` / `X.update(key=...)` and
    `X.setdefault("key", ...)`, where `X = Evidence(...)`. A key computed at run time is not seen:
    notebooks write evidence with literal keys.
    """
    cells = json.loads(nb_json).get("cells", [])
    code = "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code")
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    tree = ast.parse(code)
    names = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
             and isinstance(n.value.func, ast.Name) and n.value.func.id == "Evidence"
             for t in n.targets if isinstance(t, ast.Name)}
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in names:
                    key = _str(t.slice)
                    keys |= {key} if key else set()
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name) and node.func.value.id in names):
            method, args = node.func.attr, node.args
            if method == "artifact" and args and _str(args[0]):
                keys.add(ARTIFACTS + _str(args[0]))
            elif method == "setdefault" and args and _str(args[0]):
                keys.add(_str(args[0]))
            elif method == "update":
                for arg in args:
                    if isinstance(arg, ast.Dict):
                        keys |= {k for k in map(_str, arg.keys) if k}
                keys |= {kw.arg for kw in node.keywords if kw.arg}
    return keys


# -- the whole project -----------------------------------------------------------------


def project_contract(checks_dir: Path | None = None, templates_root: Path | None = None) -> dict[str, StageContract]:
    """Every stage's contract, from the shipped check modules and notebook templates."""
    from ..catalogue import stage_folder, stage_slugs
    from ..resources import templates_dir

    checks_dir = checks_dir or Path(__file__).resolve().parent.parent / "checks"
    templates_root = templates_root or templates_dir()
    contracts = {slug: StageContract(slug) for slug in stage_slugs()}
    for slug in stage_slugs():
        module = checks_dir / f"{slug}.py"
        if module.is_file():
            for stage, keys in check_reads(module.read_text(encoding="utf-8"), slug).items():
                for key, fns in keys.items():
                    contracts[stage].reads.setdefault(key, set()).update(f"{slug}.{f}" for f in fns)
        folder = Path(templates_root) / stage_folder(slug)
        notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        contracts[slug].has_templates = bool(notebooks)
        for nb in notebooks:
            for key in notebook_writes(nb.read_text(encoding="utf-8")):
                contracts[slug].writes.setdefault(key, set()).add(nb.stem)
    return contracts
