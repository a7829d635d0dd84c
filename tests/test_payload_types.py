"""The sidebar's TypeScript payload types are generated from the pydantic models, and the server's
answers match those models (so the front end and the server cannot drift apart again)."""

from pathlib import Path

import pytest

from mlops_accelerator import payloads
from mlops_accelerator.tsgen import generate

REPO = Path(__file__).resolve().parents[1]


def test_the_committed_typescript_is_what_the_models_generate():
    committed = (REPO / "extension" / "src" / "payloads.ts").read_text(encoding="utf-8")
    assert committed == generate(), "run: python -m mlops_accelerator.tsgen extension/src/payloads.ts"


def test_the_generated_types_carry_what_the_server_sends():
    ts = generate()
    assert "error: INotebookError | null;" in ts  # a dict on the server, not a string
    assert "pending: boolean | null;" in ts and "stale: string | null;" in ts
    assert "export type ItemState = 'done' | 'failed' | 'awaiting_signoff' | 'todo' | 'not_applicable';" in ts


def test_item_states_are_the_deliverables_states():
    from typing import get_args

    from mlops_accelerator.deliverables import STATES

    assert get_args(payloads.ItemState) == STATES


def test_api_ts_has_no_hand_written_payload_interface():
    api = (REPO / "extension" / "src" / "api.ts").read_text(encoding="utf-8")
    for model in payloads.EXPORTED:
        assert f"interface I{model.__name__} " not in api, model.__name__


def test_status_data_and_a_failed_run_match_the_models(tmp_path, monkeypatch):
    import nbformat

    from mlops_accelerator.deliverables import run_checks, sign_off
    from mlops_accelerator.report import status_data
    from mlops_accelerator.runner import run_stages
    from mlops_accelerator.runs import run_progress
    from mlops_accelerator.workspace import Project

    roster = [{"name": "Ada", "email": "ada@contoso.com", "roles": ["team_lead", "solution_architect"]}]
    project = Project.create(tmp_path / "proj", "contoso-churn", {"foundations": {"team_roster": roster}})
    run_checks(project, [1])
    sign_off(project, "S1-01", "Ada", "team_lead")
    project.set_values("foundations", {"sprint_length_weeks": 3})
    for stage in status_data(project)["stages"]:
        payloads.StageStatus.model_validate(stage)
    templates = tmp_path / "templates" / "01-foundations"
    templates.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('output_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("raise ValueError('boom')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, templates / "01-fails.ipynb")
    monkeypatch.setenv("MLOPS_ACCELERATOR_TEMPLATES", str(templates.parent))
    result = run_stages(project, ["foundations"])
    progress = payloads.RunProgress.model_validate(run_progress(project, result.run_id))
    error = progress.notebooks[0].error
    assert error is not None and error.ename == "ValueError" and error.evalue == "boom"


@pytest.mark.parametrize("model", payloads.EXPORTED)
def test_every_payload_model_forbids_unknown_keys(model):
    assert model.model_config.get("extra") == "forbid"
