"""Inventory of a legacy ML project: entry points, dependencies, data reads, metrics, SDK v1 uses.

`scan(source)` walks a folder (a local git repository is recorded with its commit) and parses every
Python script and notebook with libcst. A file libcst cannot parse (Python 2, syntax errors) gets a
per-file message and the scan goes on. `write_report` renders the result as Markdown and HTML.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from .doc import Doc
from .mapping import MAPPING_DOC, row_for

SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "node_modules", ".ipynb_checkpoints", "outputs", "mlruns",
             ".mypy_cache", ".pytest_cache"}
MAX_BYTES = 2_000_000  # larger files are listed, not parsed
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")


class SourceError(ValueError):
    """The migration source cannot be read (missing, not a folder)."""


def resolve_source(source: str | Path, project_dir: str | Path | None = None) -> Path:
    """The source folder: absolute, or relative to the project. Remote URLs are refused (no network)."""
    text = str(source).strip()
    if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I) or text.startswith("git@"):
        raise SourceError(f"migration_source: '{text}' is a remote repository; clone it next to the project "
                          "and give the local folder (this machine reaches no git hosts)")
    path = Path(text).expanduser()
    if not path.is_absolute() and project_dir is not None:
        path = Path(project_dir) / path
    if not path.is_dir():
        raise SourceError(f"migration_source: '{text}' is not a folder ({path} does not exist or is a file)")
    return path.resolve()


def _walk(root: Path) -> list[Path]:
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts) or not path.is_file():
            continue
        out.append(path)
    return out


def _git_commit(root: Path) -> str | None:
    if not (root / ".git").exists():
        return None
    try:
        res = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout.strip() or None


def _requirements(path: Path, rel: str) -> list[dict[str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = REQUIREMENT.match(line)
        if m:
            out.append({"file": rel, "name": m.group(1), "spec": m.group(3).strip()})
    return out


def _conda(path: Path, rel: str) -> list[dict[str, str]]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return []
    out = []
    for dep in (data or {}).get("dependencies") or [] if isinstance(data, dict) else []:
        is_pip = isinstance(dep, dict)
        for item in (dep.get("pip") or [] if is_pip else [dep]):
            text = str(item)
            if not is_pip and "=" in text and "==" not in text and not re.search(r"[<>!~]=", text):
                text = text.replace("=", "==", 1)  # conda's pin (python=3.11) in pip's spelling
            m = REQUIREMENT.match(text)
            if m:
                out.append({"file": rel, "name": m.group(1), "spec": m.group(3).strip()})
    return out


def _units(path: Path) -> list[tuple[int | None, str]]:
    """(cell index or None, code) pieces to parse."""
    from .facts import notebook_code

    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        return list(notebook_code(json.loads(text)))
    return [(None, text)]


def scan(source: str | Path, project_dir: str | Path | None = None) -> dict[str, Any]:
    """The inventory of a legacy project (plain data, JSON-ready)."""
    import libcst as cst

    from .facts import module_facts, parse_error

    root = resolve_source(source, project_dir)
    local_modules = {p.stem for p in root.rglob("*.py")} | {p.name for p in root.iterdir() if p.is_dir()}
    inv: dict[str, Any] = {"source": str(root), "git_commit": _git_commit(root), "files": [], "entry_points": [],
                           "dependencies": {"declared": [], "imported": []}, "data_reads": [], "metrics": [],
                           "sdk_v1": [], "unparseable": [], "runs": [], "datasets": [], "steps": []}
    imported: set[str] = set()
    for path in _walk(root):
        rel = path.relative_to(root).as_posix()
        kind = {".py": "script", ".ipynb": "notebook"}.get(path.suffix, "other")
        if path.name.startswith("requirements") and path.suffix == ".txt":
            kind = "requirements"
            inv["dependencies"]["declared"] += _requirements(path, rel)
        elif path.suffix in (".yml", ".yaml") and "dependencies:" in path.read_text(errors="replace"):
            kind = "conda"
            inv["dependencies"]["declared"] += [d for d in _conda(path, rel) if d["name"] != "pip"]
        elif path.suffix.lower() in (".csv", ".parquet", ".jsonl", ".json", ".tsv", ".xlsx"):
            kind = "data"
        entry = {"path": rel, "kind": kind, "bytes": path.stat().st_size}
        inv["files"].append(entry)
        if kind not in ("script", "notebook"):
            continue
        if path.stat().st_size > MAX_BYTES:
            inv["unparseable"].append({"file": rel, "error": f"larger than {MAX_BYTES} bytes: not parsed"})
            continue
        if kind == "notebook":
            inv["entry_points"].append({"path": rel, "kind": "notebook", "line": None})
        try:
            units = _units(path)
        except (ValueError, UnicodeDecodeError) as exc:
            inv["unparseable"].append({"file": rel, "error": f"not a readable notebook: {exc}"})
            continue
        for cell, code in units:
            where = {"file": rel, "cell": cell}
            try:
                f = module_facts(code)
            except cst.ParserSyntaxError as exc:
                inv["unparseable"].append({**where, "error": parse_error(exc, code)})
                continue
            imported |= f.imports
            if f.main_guard:
                inv["entry_points"].append({"path": rel, "kind": "script (__main__)", "line": f.main_guard})
            for u in f.v1_uses:
                row = row_for(u.api.removeprefix("import ").split(".")[-1] if u.api.startswith("import ")
                              else u.api)
                inv["sdk_v1"].append({**where, "line": u.line, "api": u.api, "code": u.code,
                                      "row": row.id if row else None, "automatic": bool(row and row.automatic)})
            inv["data_reads"] += [{**where, "line": u.line, "how": u.api, "what": u.code} for u in f.data_reads]
            inv["metrics"] += [{**where, "line": u.line, "how": u.api, "code": u.code} for u in f.metrics]
            for var, a in f.assigned.items():
                if a["api"] == "ScriptRunConfig":
                    inv["runs"].append({**where, "line": a["line"], "var": var, "config": a["args"],
                                        "compute": _resolve(a["args"].get("compute_target"), f.assigned),
                                        "environment": _resolve(a["args"].get("environment"), f.assigned)})
                elif a["api"] == "Experiment":
                    inv.setdefault("experiments", []).append({**where, "line": a["line"], **a["args"]})
                elif a["api"] == "Dataset.get_by_name":
                    args = a["args"]
                    inv["datasets"].append({**where, "line": a["line"], "name": args.get("name"),
                                            "version": args.get("version")})
                elif a["api"] == "PythonScriptStep":
                    inv["steps"].append({**where, "line": a["line"], "var": var, "config": a["args"],
                                         "compute": _resolve(a["args"].get("compute_target"), f.assigned)})
    for run in inv["runs"]:
        script = run["config"].get("script")
        folder = run["config"].get("source_directory", ".")
        if isinstance(script, str) and isinstance(folder, str):
            target = (Path(folder) / script).as_posix()
            run["script_path"] = target
            how = f"ScriptRunConfig in {run['file']}:{run['line']}"
            known = next((e for e in inv["entry_points"] if e["path"] == target), None)
            if known:
                known["kind"] += f"; {how}"
            else:
                inv["entry_points"].append({"path": target, "kind": how, "line": None})
    std = set(sys.stdlib_module_names)
    inv["dependencies"]["imported"] = sorted(m for m in imported if m and m not in std and m not in local_modules)
    return inv


def _resolve(arg: Any, assigned: dict[str, dict[str, Any]]) -> Any:
    """A ScriptRunConfig argument that names a variable: what that variable was built from."""
    if isinstance(arg, dict) and "expr" in arg and arg["expr"] in assigned:
        a = assigned[arg["expr"]]
        return {"var": arg["expr"], "api": a["api"], "args": a["args"]}
    return arg


def _where(item: dict[str, Any]) -> str:
    cell = f" cell {item['cell']}" if item.get("cell") is not None else ""
    line = f":{item['line']}" if item.get("line") else ""
    return f"{item['file']}{cell}{line}"


def summary(inv: dict[str, Any]) -> dict[str, Any]:
    """The counts a person (and the evidence) wants first."""
    return {"source": inv["source"], "git_commit": inv["git_commit"], "files": len(inv["files"]),
            "entry_points": [e["path"] for e in inv["entry_points"]],
            "sdk_v1_uses": len(inv["sdk_v1"]), "data_reads": len(inv["data_reads"]),
            "metrics_logged": len(inv["metrics"]),
            "unparseable": [f"{u['file']}: {u['error']}" for u in inv["unparseable"]]}


def report(inv: dict[str, Any]) -> Doc:
    doc = Doc("Migration inventory")
    s = summary(inv)
    doc.para(f"Source: `{inv['source']}`" + (f" at commit {inv['git_commit']}" if inv["git_commit"] else "")
             + f". {s['files']} files, {len(s['entry_points'])} entry points, {s['sdk_v1_uses']} Azure ML SDK v1 "
               f"uses, {s['data_reads']} data reads, {s['metrics_logged']} metric logging calls.")
    doc.heading("Entry points")
    doc.table(["path", "kind", "line"], [[e["path"], e["kind"], e["line"] or ""] for e in inv["entry_points"]])
    doc.heading("Dependencies")
    doc.table(["declared in", "package", "version"],
              [[d["file"], d["name"], d["spec"]] for d in inv["dependencies"]["declared"]],
              "no requirements or conda file")
    doc.para("Imported third-party modules: " + (", ".join(inv["dependencies"]["imported"]) or "none") + ".")
    doc.heading("Data reads")
    doc.table(["where", "how", "what"], [[_where(d), d["how"], d["what"]] for d in inv["data_reads"]])
    doc.heading("Metrics logging")
    doc.para("print/logging calls are listed when they mention a metric word (accuracy, auc, loss, ...).")
    doc.table(["where", "how", "call"], [[_where(m), m["how"], m["code"]] for m in inv["metrics"]])
    doc.heading("Azure ML SDK v1 uses")
    doc.table(["where", "API", "code", "mapping row"],
              [[_where(u), u["api"], u["code"], f"{MAPPING_DOC}#{u['row']}" if u["row"] else "-"]
               for u in inv["sdk_v1"]], "no SDK v1 use")
    doc.heading("Files that could not be parsed")
    doc.table(["file", "problem"], [[_where(u), u["error"]] for u in inv["unparseable"]], "every file parsed")
    return doc
