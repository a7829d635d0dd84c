"""The papermill runner: parallel, time-boxed, failures kept and reported, nothing run on bad input."""

import json

import nbformat
import pytest
from click.testing import CliRunner

from mlops_accelerator.cli import main

PARAMS = 'sprint_length_weeks: int = 2\nproject_name: str = "x"\noutput_dir: str = "."\ntarget: str = "local"\n'


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(c) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def templates(tmp_path, monkeypatch):
    root = tmp_path / "templates"
    stage = root / "01-foundations"
    _notebook(stage / "01-ok.ipynb",
              "from pathlib import Path\nfrom mlops_accelerator.evidence import Evidence\n"
              "Path(output_dir, 'plan.md').write_text(f'# {project_name}: sprints of {sprint_length_weeks} weeks')\n"
              "ev = Evidence(output_dir, '01-ok'); ev.artifact('delivery_model_note', 'plan.md')\n"
              "ev['repository'] = {'url': f'weeks={sprint_length_weeks}', 'reachable': False}\n"
              "ev.save()")
    _notebook(stage / "02-fails.ipynb", "x = 1", "raise ValueError('the roster has no tester')", "y = 2")
    _notebook(stage / "03-hangs.ipynb", "import time\ntime.sleep(120)")
    _notebook(stage / "04-kernel-dies.ipynb", "import os\nos._exit(1)")
    monkeypatch.setenv("MLOPS_ACCELERATOR_TEMPLATES", str(root))
    return root


def invoke(project, *args):
    result = CliRunner().invoke(main, ["-C", str(project.root), *args], catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def test_failures_are_kept_reported_and_do_not_stop_the_others(project, templates):
    code, out = invoke(project, "run", "foundations", "--jobs", "2", "--timeout", "8")
    assert code == 1
    finished = {e["notebook"]: e for e in project.events("notebook_finished")}
    assert finished["01-ok"]["status"] == "succeeded"
    fails = finished["02-fails"]
    assert fails["status"] == "failed"
    assert fails["error"]["ename"] == "ValueError" and "no tester" in fails["error"]["evalue"]
    assert fails["error"]["cell_index"] is not None
    assert finished["03-hangs"]["error"]["ename"] == "Timeout"
    assert finished["03-hangs"]["error"]["cell_index"] == 2  # after the injected-parameters cell
    assert finished["04-kernel-dies"]["status"] == "failed"
    # the failing notebook's partial output is kept, with the error in the failed cell
    partial = nbformat.read(project.root / fails["output"], as_version=4)
    errors = [c for c in partial.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert len(errors) == 1 and "no tester" in json.dumps(errors[0].outputs)
    assert "ValueError" in out and "partial output kept" in out
    run = list(project.events("run_finished"))[-1]
    assert run["status"] == "failed" and run["stages"]["foundations"]["status"] == "failed"


def test_successful_run_records_evidence_and_artifacts(project, templates, tmp_path):
    for name in ("02-fails", "03-hangs", "04-kernel-dies"):
        (templates / "01-foundations" / f"{name}.ipynb").unlink()
    code, out = invoke(project, "run", "1", "-p", "sprint_length_weeks=3")
    assert code == 0, out
    run = list(project.events("run_finished"))[-1]
    evidence = run["stages"]["foundations"]["evidence"]
    assert evidence["repository"]["url"] == "weeks=3"  # the override reached the notebook
    plan = project.root / evidence["artifacts"]["delivery_model_note"]
    assert plan.read_text() == "# contoso-churn: sprints of 3 weeks"
    executed = nbformat.read(project.root / run["run_dir"] / "01-foundations" / "01-ok.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "sprint_length_weeks = 3" in injected[0].source


def test_invalid_settings_stop_the_run_before_any_kernel(project, templates):
    code, out = invoke(project, "run", "foundations", "-p", "sprint_length_weeks=9")
    assert code == 2 and "sprint_length_weeks" in out
    assert list(project.events("run_started")) == []
    assert not (project.root / "runs").exists() or not any((project.root / "runs").iterdir())


def test_azureml_target_is_refused_clearly_beyond_stage_6(project, templates):
    code, out = invoke(project, "run", "migrate", "--target", "azureml")
    assert code == 2 and "run only with --target local" in out


def test_generate_writes_parameterised_notebooks_and_protects_edits(project, templates):
    code, out = invoke(project, "generate", "foundations")
    assert code == 0, out
    nb_path = project.root / "notebooks" / "01-foundations" / "01-ok.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert 'project_name = "contoso-churn"' in "".join(c.source for c in nb.cells)
    nb.cells.append(nbformat.v4.new_markdown_cell("my notes"))
    nbformat.write(nb, nb_path)
    code, out = invoke(project, "generate", "foundations")
    assert code == 2 and "edited since they were generated" in out
    assert "my notes" in nb_path.read_text()


def test_a_notebook_writing_evidence_outside_its_stage_model_fails_with_the_key(project, templates):
    for name in ("01-ok", "02-fails", "03-hangs", "04-kernel-dies"):
        (templates / "01-foundations" / f"{name}.ipynb").unlink()
    _notebook(templates / "01-foundations" / "01-bad-evidence.ipynb",
              "from mlops_accelerator.evidence import Evidence\nev = Evidence(output_dir, '01-bad-evidence')",
              "ev['weeks'] = sprint_length_weeks")
    code, out = invoke(project, "run", "foundations")
    assert code == 1
    error = next(project.events("notebook_finished"))["error"]
    assert error["ename"] == "EvidenceError" and error["cell_index"] == 3
    assert "evidence key 'weeks' is not part of stage 'foundations'" in error["evalue"]
