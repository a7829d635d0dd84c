"""The azureml target against a real subscription: `pytest -m live`, skipped unless configured.

Set MLOPS_ACCELERATOR_LIVE_PROJECT to a project folder whose Stage-2 environments name a
subscription and resource group you may deploy to, and sign in the way DefaultAzureCredential
finds (`az login`, or AZURE_CLIENT_ID/AZURE_TENANT_ID with workload identity). Set
MLOPS_ACCELERATOR_LIVE_DEPLOY=1 as well to let the second test deploy stage 3 (it creates billable
resources), and MLOPS_ACCELERATOR_LIVE_JOBS=1 to run stage 1's notebooks as Azure ML jobs on the
deployed cluster. Nothing here runs in `make test`: Azure is unreachable from the test machines.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.live, pytest.mark.skipif(
    not os.environ.get("MLOPS_ACCELERATOR_LIVE_PROJECT"),
    reason="live Azure tests need MLOPS_ACCELERATOR_LIVE_PROJECT (see the module docstring)")]


def _project():
    from mlops_accelerator.workspace import Project

    return Project(Path(os.environ["MLOPS_ACCELERATOR_LIVE_PROJECT"]))


def test_live_preflight_reaches_every_api():
    from mlops_accelerator.azure import connection
    from mlops_accelerator.azure.preflight import run_preflight

    cred = connection.credential()
    connection.check_sign_in(cred)
    findings = run_preflight(_project(), cred)
    # Findings about the subscription are fine; an API we could not call is not.
    assert not [f for f in findings if f.check == "access"], [f.text() for f in findings]


@pytest.mark.skipif(os.environ.get("MLOPS_ACCELERATOR_LIVE_DEPLOY") != "1",
                    reason="deploying creates billable resources: set MLOPS_ACCELERATOR_LIVE_DEPLOY=1")
def test_live_run_deploy_reads_back():
    from click.testing import CliRunner

    from mlops_accelerator.cli import main

    res = CliRunner().invoke(main, ["-C", os.environ["MLOPS_ACCELERATOR_LIVE_PROJECT"], "run", "design", "deploy",
                                    "--target", "azureml"])
    assert res.exit_code == 0, res.output


@pytest.mark.skipif(os.environ.get("MLOPS_ACCELERATOR_LIVE_JOBS") != "1",
                    reason="submitting jobs uses the workspace's cluster (billable): set MLOPS_ACCELERATOR_LIVE_JOBS=1 "
                           "after stage 3 is deployed (the first job creates the mlops-accelerator-jobs "
                           "environment)")
def test_live_stage_notebooks_run_as_jobs():
    from mlops_accelerator.runner import run_stages

    project = _project()
    result = run_stages(project, ["foundations"], target="azureml")
    started = [e for e in project.events("run_started") if e["run_id"] == result.run_id][0]
    assert "Azure ML jobs" in started["placement"], started["placement"]
    assert result.status == "succeeded", [(r.key, r.error) for r in result.notebooks]
    assert all((project.root / r.output).exists() for r in result.notebooks)
