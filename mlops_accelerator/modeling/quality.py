"""Quality gates on the project's training code: unit tests (JUnit XML), coverage, linters.

Each gate runs the real tool in a child process on the code the run trains (the exported commit):
pytest under coverage.py, then ruff for the linters. ruff implements flake8's rules (pycodestyle E/W
and pyflakes F), pydocstyle's (D) and black's formatting check; pylint runs itself when chosen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

# linter setting -> the command that implements it (run in the code folder, on src and tests)
LINTERS: dict[str, list[str]] = {
    "flake8": ["-m", "ruff", "check", "--select", "E,F,W", "--output-format", "json"],
    "ruff": ["-m", "ruff", "check", "--output-format", "json"],
    "pydocstyle": ["-m", "ruff", "check", "--select", "D", "--output-format", "json"],
    "black": ["-m", "ruff", "format", "--check"],
    "pylint": ["-m", "pylint", "--output-format=json", "--disable=C,R"],
}
TIMEOUT_S = 300


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S,
                          env=env)


def run_unit_tests(code_dir: Path, out_dir: Path) -> dict[str, Any]:
    """pytest under coverage: JUnit XML and coverage JSON/XML in out_dir; counts, kinds, coverage %."""
    out_dir.mkdir(parents=True, exist_ok=True)
    junit, data = out_dir / "junit.xml", out_dir / ".coverage"
    env_args = ["--rcfile", str(code_dir / "pyproject.toml"), "--data-file", str(data)]
    done = _run(["-m", "coverage", "run", *env_args, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 f"--junitxml={junit}", "tests"], code_dir)
    if not junit.is_file():
        return {"passed": 0, "failed": 0, "errors": 1, "skipped": 0, "kinds": [], "coverage_pct": 0.0,
                "error": (done.stdout + done.stderr).strip()[-2000:] or f"pytest exited {done.returncode}"}
    result = parse_junit(junit)
    report = out_dir / "coverage.json"
    _run(["-m", "coverage", "json", *env_args, "-o", str(report)], code_dir)
    _run(["-m", "coverage", "xml", *env_args, "-o", str(out_dir / "coverage.xml")], code_dir)
    pct = json.loads(report.read_text())["totals"]["percent_covered"] if report.is_file() else 0.0
    result["coverage_pct"] = round(float(pct), 1)
    if result["failed"] or result["errors"]:
        result["error"] = done.stdout.strip()[-2000:]
    return result


def parse_junit(path: Path) -> dict[str, Any]:
    """Counts, the failing tests and the ML unit-test kinds covered by passing tests."""
    root = ET.parse(path).getroot()
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    kinds: set[str] = set()
    failing = []
    for case in root.iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None:
            counts["failed"] += 1
            failing.append(name)
        elif case.find("error") is not None:
            counts["errors"] += 1
            failing.append(name)
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
            kinds |= {p.get("value") for p in case.iter("property") if p.get("name") == "ml_unit_test_kind"}
    return {**counts, "kinds": sorted(k for k in kinds if k), "failing": failing}


def run_linters(code_dir: Path, linters: list[str]) -> dict[str, dict[str, Any]]:
    """linter -> {violations, tool, findings (first few)}; a tool that cannot run says why."""
    results: dict[str, dict[str, Any]] = {}
    paths = [p for p in ("src", "tests") if (code_dir / p).is_dir()]
    for name in linters:
        args = LINTERS[name]
        done = _run([*args, *paths], code_dir)
        tool = args[1]
        if "No module named" in done.stderr:
            results[name] = {"violations": None, "tool": tool, "error": f"{tool} is not installed"}
            continue
        findings: list[str] = []
        if "--output-format" in " ".join(args) and done.stdout.strip().startswith("["):
            for f in json.loads(done.stdout):
                where = f.get("filename") or f.get("path", "")
                line = (f.get("location") or {}).get("row", f.get("line"))
                findings.append(f"{Path(where).name}:{line} {f.get('code') or f.get('symbol')} "
                                f"{f.get('message')}")
        elif done.returncode:
            findings = [x for x in done.stdout.splitlines() if x.startswith("Would reformat")] or [done.stderr[-500:]]
        results[name] = {"violations": len(findings), "tool": tool, "findings": findings[:20]}
    return results


def start_gates(code_dir: Path, out_dir: Path, linters: list[str]) -> Any:
    """Run unit tests and linters in a background thread (their own processes) while training runs."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quality-gates")
    future = pool.submit(lambda: {"unit_tests": run_unit_tests(code_dir, out_dir),
                                  "code_quality": run_linters(code_dir, linters)})
    pool.shutdown(wait=False)
    return future


def gate_failures(gates: dict[str, Any], coverage_threshold: float) -> list[str]:
    """Why the quality gates block registration (empty when they pass)."""
    ut, problems = gates["unit_tests"], []
    if ut.get("failed") or ut.get("errors"):
        which = ", ".join(ut.get("failing", [])) or ut.get("error", "")[:300]
        problems.append(f"{ut['failed'] + ut['errors']} unit test(s) fail: {which}")
    if not ut.get("passed"):
        problems.append("no unit test passed")
    for name, r in gates["code_quality"].items():
        if r.get("violations") is None:
            problems.append(f"{name} could not run ({r.get('error')})")
        elif r["violations"]:
            problems.append(f"{name}: {r['violations']} violation(s): {'; '.join(r['findings'][:3])}")
    if ut.get("coverage_pct", 0) < coverage_threshold:
        problems.append(f"coverage {ut.get('coverage_pct', 0):g} % is below the threshold {coverage_threshold:g} %")
    return problems
