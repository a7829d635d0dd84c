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
    kv = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-keys/providers/"
          "Microsoft.KeyVault/vaults/kv-cmk")
    done = _cli(project_dir, "settings", "set", "design", "encryption_status=Enabled", f"cmk_keyvault={kv}",
                "resource_cmk_uri=https://kv-cmk.vault.azure.net/keys/ws-key")
    assert done.returncode == 0, done.stderr
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


def test_the_stage_3_run_writes_the_cmk_into_workspace_yml(ran):
    """issue 14 item 3 through the real notebooks: the design's customer-managed key reaches workspace.yml."""
    from azure.ai.ml import load_workspace

    specs = sorted(ran.root.glob("runs/*/03-deploy/azureml/dev/workspace.yml"))
    assert specs, "stage 3 wrote no workspace.yml"
    ws = load_workspace(str(specs[-1]))
    assert ws.customer_managed_key is not None
    assert ws.customer_managed_key.key_uri == "https://kv-cmk.vault.azure.net/keys/ws-key"
    assert specs[-1].read_text().startswith("$schema: ")
