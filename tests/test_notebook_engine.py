"""The runner's papermill engine writes the output notebook at most once a second while it runs,
and always when it starts and when it ends (notebook_engine.py)."""

from __future__ import annotations

from datetime import timedelta

import nbformat
import papermill.engines
import pytest
from papermill.execute import prepare_notebook_metadata

from mlops_accelerator.notebook_engine import SAVE_EVERY_S, ThrottledSaves
from tests.test_runner_kernels import _notebook, _stage, invoke


@pytest.fixture
def writes(monkeypatch):
    """Every output write papermill's execution manager makes: a list of (path, cell statuses)."""
    seen = []
    real = papermill.engines.write_ipynb

    def record(nb, path):
        seen.append((path, [c.metadata.papermill["status"] for c in nb.cells]))
        if path != "out.ipynb":  # the managers made below have nowhere to write
            real(nb, path)

    monkeypatch.setattr(papermill.engines, "write_ipynb", record)
    return seen


def _manager(cells, clock):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"x = {i}") for i in range(cells)]
    nb.metadata.papermill = {}  # as papermill's execute_notebook starts it
    nb = prepare_notebook_metadata(nb, "in.ipynb", "out.ipynb")
    man = ThrottledSaves(nb, output_path="out.ipynb", progress_bar=False)
    man.now = lambda: clock[0]
    return man


def test_quick_cells_write_only_at_start_and_end(writes):
    clock = [papermill.engines.NotebookExecutionManager.now(None)]
    man = _manager(20, clock)
    man.notebook_start()
    for i, cell in enumerate(man.nb.cells):
        clock[0] += timedelta(milliseconds=10)
        man.cell_start(cell, i)
        man.cell_complete(cell, i)
    man.notebook_complete()
    assert len(writes) == 2  # papermill's own manager writes 42 times
    assert set(writes[-1][1]) == {"completed"}  # the last write is the final state


def test_a_cell_starting_after_a_quiet_second_is_written_as_running(writes):
    clock = [papermill.engines.NotebookExecutionManager.now(None)]
    man = _manager(3, clock)
    man.notebook_start()
    man.cell_start(man.nb.cells[0], 0)
    man.cell_complete(man.nb.cells[0], 0)
    assert len(writes) == 1
    clock[0] += timedelta(seconds=SAVE_EVERY_S + 0.1)
    man.cell_start(man.nb.cells[1], 1)  # e.g. a long training cell: on disk as running, for whoever looks
    assert len(writes) == 2 and writes[-1][1] == ["completed", "running", "pending"]
    man.cell_complete(man.nb.cells[1], 1)  # right after the last write: held back
    assert len(writes) == 2
    man.notebook_complete()
    assert len(writes) == 3 and set(writes[-1][1]) == {"completed"}


def test_a_run_keeps_every_cell_of_a_long_notebook_in_its_output(project, tmp_path, monkeypatch, writes):
    stage = _stage(tmp_path, monkeypatch)
    _notebook(stage / "01-many.ipynb", *[f"print({i})" for i in range(30)], "raise ValueError('cell 31')")
    code, out = invoke(project, "run", "foundations")
    assert code == 1, out
    assert 2 <= len(writes) <= 4, writes  # start, end (+ one a second at most); papermill's own: 66
    output = project.root / next(iter(project.events("notebook_finished")))["output"]
    nb = nbformat.read(output, as_version=4)
    printed = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("print(")]
    assert [c.outputs[0]["text"] for c in printed] == [f"{i}\n" for i in range(30)]
    assert {c.metadata.papermill["status"] for c in printed} == {"completed"}
    assert nb.cells[-1].metadata.papermill["status"] == "failed"
    assert nb.cells[-1].outputs[-1]["ename"] == "ValueError"
