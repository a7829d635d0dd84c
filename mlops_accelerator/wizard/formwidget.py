"""The stage wizard's one front-end widget: an anywidget rendering the stage's JSON Schema.

The browser draws the whole form, the stepper and the Review step from the schema (static/wizard.js),
so moving between steps and typing create no widget models at all. Python stays the one source:
it sends the JSON Schema (with the UI hints declared beside the fields), the current values and the
errors; every edit comes back here and is validated by `settings.validate_settings`, the validator
the CLI and the REST API use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets as T

STATIC = Path(__file__).resolve().parent / "static"


class WizardWidget(anywidget.AnyWidget):
    _esm = STATIC / "wizard.js"
    _css = STATIC / "wizard.css"

    schema = T.Dict().tag(sync=True)  # the stage's JSON Schema, choice labels included
    meta = T.Dict().tag(sync=True)  # header, steps, task titles, guide HTML, links
    value = T.Dict().tag(sync=True)  # the settings as edited (browser -> Python)
    rev = T.Int(0).tag(sync=True)  # edit counter of the browser
    checked_rev = T.Int(0).tag(sync=True)  # the last edit Python validated (Next waits for it)
    errors = T.List().tag(sync=True)  # [{field, label, message, rule, got}]
    changes = T.List().tag(sync=True)  # [{field, label, old, new}] against the saved settings
    step = T.Unicode("guide").tag(sync=True)  # the step shown (the browser moves it)
    ready_step = T.Unicode("guide").tag(sync=True)  # the step Python has finished preparing
    saving = T.Bool(False).tag(sync=True)
    save_state = T.Dict().tag(sync=True)  # {kind, title, text, rows, conflict}
    task_extras = T.Dict().tag(sync=True)  # task id -> HTML drawn under that task (e.g. the radar)
    value_epoch = T.Int(0).tag(sync=True)  # bumped when Python replaces the values: the form redraws
    findings = T.List().tag(sync=True)  # [{field, message, check}] the last Azure pre-flight: shown, not blocking

    def __init__(self, on_state=None, **kwargs: Any):
        self._on_state = on_state
        super().__init__(**kwargs)

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """A front-end update (value and rev arrive in one message): handle it once, whole."""
        super().set_state(sync_data)
        if self._on_state is not None:
            self._on_state(set(sync_data))


def count_widget_models() -> int:
    """How many widget models (widgets, layouts, styles) this kernel holds open."""
    from ipywidgets.widgets.widget import _instances  # ipywidgets 8's registry of open models

    return sum(1 for w in list(_instances.values()) if getattr(w, "comm", None) is not None)
