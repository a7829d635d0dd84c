"""Scan generated infrastructure code with checkov, offline, and judge the result.

checkov runs as a subprocess (`python -m checkov.main`, the interpreter of this
environment) over a folder with `--framework arm bicep terraform --skip-download -o json`; nothing
is fetched from the network. A file checkov cannot parse is a *parse error*, which counts
as a failure like a failed check (a template nobody could scan is not a safe template).
A skipped check counts as accepted only when its suppression carries a written reason.

checkov's ARM runner honours a resource's `metadata.checkov` suppressions for its Python
checks but not for its graph checks (CKV2_*): their results never consult the template.
`scan` applies the same rule to them itself: a failed ARM check whose resource lists that
check id with a reason in `metadata.checkov` is reported as skipped with that reason (and
listed in `result["arm_graph_suppressions"]`); nothing else is reclassified.

    result = scan("design/iac")
    result["ok"], result["failed_checks"], result["skipped_checks"]
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FRAMEWORKS = ("arm", "bicep", "terraform")
NO_REASON = "No comment provided"  # what checkov reports for a suppression without a reason
_SKIP = re.compile(r"([A-Z_\d]+)(:[^\n]+)?")  # checkov's own pattern for ARM metadata.checkov entries


# `python -m checkov.main`, minus one import: checkov imports jsonschema, which imports
# rfc3987_syntax when installed (jupyter-events pulls it in) only to offer an 'iri' format check
# checkov never makes; building its grammar was 1.5 s of the scan's 5.5 s of CPU, in the longest
# notebook of the main job. The report is the same (same checks, same counts).
CHECKOV_MAIN = ("import runpy, sys; sys.modules['rfc3987_syntax'] = None; "
                "runpy.run_module('checkov.main', run_name='__main__')")


class CheckovError(RuntimeError):
    """checkov could not run or produced no readable report."""


def _reports(stdout: str) -> list[dict[str, Any]]:
    start = min((i for i in (stdout.find("["), stdout.find("{")) if i >= 0), default=-1)
    if start < 0:
        raise CheckovError(f"checkov printed no JSON report: {stdout[:500]!r}")
    data = json.loads(stdout[start:])
    return data if isinstance(data, list) else [data]


def _row(check: dict[str, Any], framework: str) -> dict[str, Any]:
    result = check.get("check_result") or {}
    comment = (result.get("suppress_comment") or "").strip()
    return {"framework": framework, "check_id": check.get("check_id"), "check_name": check.get("check_name"),
            "resource": check.get("resource"), "file": check.get("file_path") or check.get("repo_file_path"),
            "reason": comment}


def _arm_suppressions(path: str, cache: dict[str, dict[str, dict[str, str]]]) -> dict[str, dict[str, str]]:
    """{"<type>.<name>": {check id: reason}} from the resources' metadata.checkov of one ARM file."""
    if path not in cache:
        found: dict[str, dict[str, str]] = {}
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        resources = data.get("resources") if isinstance(data, dict) else None
        for r in resources if isinstance(resources, list) else []:
            meta = r.get("metadata") if isinstance(r, dict) else None
            items = meta.get("checkov") if isinstance(meta, dict) else None
            if not items:
                continue
            skips = found.setdefault(f"{r.get('type')}.{r.get('name')}", {})
            for item in items if isinstance(items, list) else [items]:
                m = _SKIP.search(str(item))
                if m and m.group(2) and m.group(2)[1:].strip():
                    skips[m.group(1)] = m.group(2)[1:].strip()
        cache[path] = found
    return cache[path]


def _apply_arm_graph_suppressions(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Move failed ARM checks the template suppresses (with a reason) to skipped; return them."""
    results = report.get("results") or {}
    cache: dict[str, dict[str, dict[str, str]]] = {}
    kept, moved = [], []
    for c in results.get("failed_checks", []):
        path = c.get("file_abs_path") or ""
        reason = _arm_suppressions(path, cache).get(str(c.get("resource")), {}).get(str(c.get("check_id")))
        if reason:
            c = {**c, "check_result": {**(c.get("check_result") or {}), "result": "SKIPPED",
                                       "suppress_comment": reason}}
            moved.append(c)
        else:
            kept.append(c)
    if moved:
        results["failed_checks"] = kept
        results["skipped_checks"] = list(results.get("skipped_checks", [])) + moved
        summary = report.setdefault("summary", {})
        summary["failed"] = int(summary.get("failed", 0) or 0) - len(moved)
        summary["skipped"] = int(summary.get("skipped", 0) or 0) + len(moved)
    return moved


def scan(folder: str | Path, frameworks: tuple[str, ...] = FRAMEWORKS, *, timeout: float = 300) -> dict[str, Any]:
    """Run checkov on `folder`; return counts, the failed/skipped checks and parse errors.

    Returns {"ok", "passed", "failed", "skipped", "parse_errors", "failed_checks",
    "skipped_checks", "passed_checks", "parse_error_files", "unreasoned_skips", "frameworks",
    "arm_graph_suppressions", "frameworks_without_files", "frameworks_without_checks", "duration_s",
    "checkov_version"}. `ok` is True when nothing failed, nothing failed to parse, every skip has a reason
    and every framework asked for had files on which checkov evaluated at least one check.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckovError(f"{folder} is not a folder")
    cmd = [sys.executable, "-c", CHECKOV_MAIN, "-d", str(folder), "--framework", *frameworks,
           "--skip-download", "-o", "json", "--compact"]
    env = dict(os.environ)
    env.setdefault("BC_SKIP_MAPPING", "TRUE")  # no attempt to fetch the check-id mapping
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CheckovError(f"checkov did not finish within {timeout:g} s") from exc
    except OSError as exc:
        raise CheckovError(f"checkov could not start: {exc}") from exc
    if proc.returncode not in (0, 1):
        raise CheckovError(f"checkov exited with {proc.returncode}: {proc.stderr.strip()[-1500:]}")
    try:
        reports = _reports(proc.stdout)
    except (ValueError, CheckovError) as exc:
        raise CheckovError(f"checkov's report is not JSON ({exc}); stderr: {proc.stderr.strip()[-800:]}") from exc

    out: dict[str, Any] = {"passed": 0, "failed": 0, "skipped": 0, "parse_errors": 0,
                           "failed_checks": [], "skipped_checks": [], "passed_checks": [],
                           "parse_error_files": [], "frameworks": {}, "arm_graph_suppressions": [],
                           "checkov_version": None}
    for report in reports:
        framework = report.get("check_type", "?")
        if framework == "arm":
            out["arm_graph_suppressions"] += [_row(c, framework) for c in _apply_arm_graph_suppressions(report)]
        summary = report.get("summary") or {}
        results = report.get("results") or {}
        out["checkov_version"] = out["checkov_version"] or summary.get("checkov_version")
        if "check_type" not in report:  # checkov's report when no framework found anything to judge
            continue
        counts = {k: int(summary.get(k, 0) or 0) for k in ("passed", "failed", "skipped", "parsing_errors")}
        out["frameworks"][framework] = counts
        out["passed"] += counts["passed"]
        out["failed"] += counts["failed"]
        out["skipped"] += counts["skipped"]
        out["parse_errors"] += counts["parsing_errors"]
        out["failed_checks"] += [_row(c, framework) for c in results.get("failed_checks", [])]
        out["skipped_checks"] += [_row(c, framework) for c in results.get("skipped_checks", [])]
        out["passed_checks"] += [_row(c, framework) for c in results.get("passed_checks", [])]
        out["parse_error_files"] += [f"{framework}: {p}" for p in results.get("parsing_errors", [])]
    out["unreasoned_skips"] = [s for s in out["skipped_checks"] if not s["reason"] or s["reason"] == NO_REASON]
    # A framework that found no file reports nothing: that is a failure to scan, not a pass.
    missing = [f for f in frameworks if f not in out["frameworks"]]
    out["frameworks_without_files"] = missing
    # Files checkov read but judged with no check at all (e.g. only azapi resources) were not scanned.
    unjudged = [f for f, c in out["frameworks"].items() if not (c["passed"] or c["failed"] or c["skipped"])]
    out["frameworks_without_checks"] = unjudged
    missing = missing + unjudged
    out["ok"] = (out["failed"] == 0 and out["parse_errors"] == 0 and not out["unreasoned_skips"]
                 and not missing)
    out["duration_s"] = round(time.monotonic() - started, 1)
    return out


def summary_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per framework: passed, failed, skipped, parse errors."""
    return [{"framework": f, "passed": c["passed"], "failed": c["failed"], "skipped": c["skipped"],
             "parse_errors": c["parsing_errors"]} for f, c in result["frameworks"].items()]


def problems(result: dict[str, Any]) -> list[str]:
    """Plain-language reasons the scan is not acceptable (empty when `ok`)."""
    out = [f"{c['framework']}: {c['check_id']} failed on {c['resource']} ({c['check_name']})"
           for c in result["failed_checks"]]
    out += [f"could not parse {p}" for p in result["parse_error_files"]]
    if result["parse_errors"] and not result["parse_error_files"]:
        out.append(f"{result['parse_errors']} file(s) could not be parsed")
    out += [f"{s['framework']}: {s['check_id']} on {s['resource']} is suppressed without a reason"
            for s in result["unreasoned_skips"]]
    out += [f"no {f} file was found to scan" for f in result.get("frameworks_without_files", [])]
    out += [f"checkov evaluated no check on the {f} files (nothing it knows how to judge)"
            for f in result.get("frameworks_without_checks", [])]
    return out


def parameter_file_problems(iac_dir: str | Path, env: str) -> list[str]:
    """What is wrong with an environment's ARM parameter file: missing or unknown parameters."""
    arm_dir = Path(iac_dir) / "arm"
    try:
        template = json.loads((arm_dir / "azuredeploy.json").read_text(encoding="utf-8"))
        given = json.loads((arm_dir / f"azuredeploy.parameters.{env}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"unreadable: {exc}"]
    declared = template.get("parameters") or {}
    required = {k for k, v in declared.items() if "defaultValue" not in v}
    values = set(given.get("parameters") or {})
    return ([f"missing parameter {k}" for k in sorted(required - values)]
            + [f"unknown parameter {k}" for k in sorted(values - set(declared))])


def iac_evidence(iac_dir: str | Path, env_names: list[str], result: dict[str, Any]) -> dict[str, Any]:
    """The stage-2 evidence for S3-03/S3-06: the languages written, checkov's counts and each
    environment's parameter-file validation (evidence model `IacScan`)."""
    folder = Path(iac_dir)
    tools = [t for t in ("arm", "bicep", "terraform") if (folder / t).is_dir()]
    failed = sorted({str(c.get("check_id")) for c in result.get("failed_checks") or []})
    return {
        "tools": tools,
        "checkov": {k: int(result.get(k, 0) or 0) for k in ("passed", "failed", "skipped", "parse_errors")}
        | {"failed_checks": failed},
        "parameter_files": {env: {"valid": not (p := parameter_file_problems(folder, env)), "errors": p}
                            for env in env_names},
    }
