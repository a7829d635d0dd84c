"""papermill's nbclient engine, writing the output notebook at most once a second while it runs.

papermill serialises, validates and writes the whole output notebook before and after every cell
(two writes a cell, plus two at the end): for short notebooks that is about 40 % of the CPU the
runner's own process spends on a notebook, and it grows with the notebook's outputs. Here the
writes between a notebook's start and its end happen at most once every SAVE_EVERY_S (papermill's
own autosave during a long cell still applies). What is on disk when a notebook stops is the same:
the output is written when the notebook starts, and always when it ends, whatever ended it
(papermill completes the notebook in a `finally`: a failed cell, a killed kernel, a timeout or
Ctrl-C leave the final state on disk, which the runner reads to name the cell that was running).
Only a runner process that is itself killed loses up to SAVE_EVERY_S of progress in the file.

Registered with papermill's engine registry by `register()` (papermill's own plug-in point).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

ENGINE_NAME = "mlops-accelerator"
SAVE_EVERY_S = 1.0


class ThrottledSaves(NotebookExecutionManager):
    """Saves on start and end always; on a cell's start or end only if the last save is old enough."""

    _forced = False

    @contextlib.contextmanager
    def _forcing(self) -> Iterator[None]:
        self._forced = True
        try:
            yield
        finally:
            self._forced = False

    def save(self, **kwargs: Any) -> None:
        if self._forced or (self.now() - self.last_save_time).total_seconds() >= SAVE_EVERY_S:
            super().save(**kwargs)

    def notebook_start(self, **kwargs: Any) -> None:
        with self._forcing():
            super().notebook_start(**kwargs)

    def notebook_complete(self, **kwargs: Any) -> None:
        with self._forcing():
            super().notebook_complete(**kwargs)


class ThrottledSavesEngine(NBClientEngine):
    @classmethod
    def execute_notebook(cls, nb: Any, kernel_name: str, output_path: str | None = None, progress_bar: bool = True,
                         log_output: bool = False, autosave_cell_every: int = 30, **kwargs: Any) -> Any:
        # As papermill's Engine.execute_notebook, with the throttled execution manager.
        nb_man = ThrottledSaves(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                                autosave_cell_every=autosave_cell_every)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


def register() -> str:
    """Make the engine known to papermill (idempotent); returns its name for `engine_name`."""
    papermill_engines.register(ENGINE_NAME, ThrottledSavesEngine)
    return ENGINE_NAME
