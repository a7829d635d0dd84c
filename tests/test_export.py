"""`mlops-accelerator export --to DIR` (issue 14 item 13): real stage 2 and 3 runs, then the layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlops_accelerator.artifacts import cicd
from mlops_accelerator.artifacts.export import ExportError, export_repository, missing_references


def _cli(project_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlops_accelerator.cli", "-C", str(project_dir), *args],
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    from mlops_accelerator.workspace import Project

    root = tmp_path_factory.mktemp("proj")
    done = subprocess.run([sys.executable, "-m", "mlops_accelerator.cli", "init", str(root / "p"), "--sample"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    project_dir = root / "p"
    assert _cli(project_dir, "settings", "set", "deploy", "iac_tool=bicep").returncode == 0
    done = _cli(project_dir, "run", "design", "deploy")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return Project.find(project_dir)


def test_export_writes_the_layout_the_pipelines_expect(ran, tmp_path):
    done = _cli(ran.root, "export", "--to", str(tmp_path / "repo"))
    assert done.returncode == 0, done.stderr
    repo = tmp_path / "repo"
    assert (repo / "infra" / "bicep" / "main.bicep").is_file()
    for env in ("dev", "test", "prod"):
        assert (repo / "infra" / "bicep" / f"{env}.bicepparam").is_file()
        assert (repo / cicd.tags_file(env)).is_file()
    assert (repo / cicd.GITHUB_WORKFLOW).is_file() and (repo / cicd.ADO_PIPELINE).is_file()
    assert "mlops-accelerator export --to" in (repo / cicd.SETUP_GUIDE).read_text()
    assert missing_references(repo) == []
    # a second export changes nothing; a file the team edited is not overwritten silently
    again = export_repository(ran, repo)
    assert again["files"] == [] and again["unchanged"]
    (repo / cicd.SETUP_GUIDE).write_text("our own notes\n")
    done = _cli(ran.root, "export", "--to", str(repo))
    assert done.returncode == 2 and "--force" in done.stderr
    assert (repo / cicd.SETUP_GUIDE).read_text() == "our own notes\n"
    assert _cli(ran.root, "export", "--to", str(repo), "--force").returncode == 0


def test_missing_references_are_reported(ran, tmp_path):
    export_repository(ran, tmp_path / "repo")
    (tmp_path / "repo" / "infra" / "bicep" / "prod.bicepparam").unlink()
    assert any("prod.bicepparam" in p for p in missing_references(tmp_path / "repo"))


def test_export_before_any_run_says_what_to_run(tmp_path):
    from mlops_accelerator.workspace import Project

    done = subprocess.run([sys.executable, "-m", "mlops_accelerator.cli", "init", str(tmp_path / "p"),
                           "--name", "demo"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with pytest.raises(ExportError, match="run design"):
        export_repository(Project.find(tmp_path / "p"), tmp_path / "repo")
    assert not (tmp_path / "repo").exists()
