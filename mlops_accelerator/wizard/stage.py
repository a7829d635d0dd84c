"""One stage's wizard: Guide -> Settings -> Review & save -> Generate & run -> Deliverables.

The form, the stepper and the Review step are one browser widget (formwidget.WizardWidget) drawn
from the stage's JSON Schema: steps switch in the browser, and a stage with a hundred settings
creates no more widget models than one with three. Python validates every edit with the CLI's
validator and saves through `Project.save_settings(..., base_revision=...)`: if someone else (CLI,
another tab) saved in between, the wizard says so and shows their change instead of overwriting it.
The Run and Deliverables panels are built when their step opens and closed when it is left.
"""

from __future__ import annotations

import copy
import html
from typing import Any

import ipywidgets as W

from ..errors import InvalidSettings

ALL_STEPS = (("guide", "Guide"), ("settings", "Settings"), ("review", "Review & save"),
             ("run", "Generate & run"), ("deliverables", "Deliverables"))
PYTHON_STEPS = ("run", "deliverables")  # steps whose content is Python widgets below the form


def notebook_name(number: int, slug: str) -> str:
    from ..catalogue import stage_folder

    return f"{stage_folder(number)}.ipynb"


def _short(v: Any) -> str:
    if v is None or v == "" or v == [] or v == {}:
        return "(empty)"
    text = v if isinstance(v, str) else repr(v)
    return text if len(text) <= 120 else text[:119] + "…"


def has_notebooks(slug: str) -> bool:
    from ..templates import stage_templates

    try:
        return bool(stage_templates(slug))
    except Exception:  # noqa: BLE001 - no template folder: nothing to run
        return False


class StageWizard:
    """The wizard of one stage; display it (it is the last expression of the notebook cell)."""

    def __init__(self, stage: str | int, project: Any = None, *, autopoll: bool = True):
        from ..catalogue import load_catalogue
        from .context import current_project
        from .formwidget import WizardWidget

        self.stage = load_catalogue().stage(stage)
        self.slug = self.stage.slug
        self.project = project if project is not None else current_project()
        self.autopoll = autopoll
        self.base_revision = self.project.revision(self.slug)
        self.saved = self.project.effective_settings(self.slug)
        self.others = self.project.other_stages(self.slug)
        self.steps = tuple(s for s in ALL_STEPS if s[0] != "run" or has_notebooks(self.slug))
        self.conflict: dict[str, Any] | None = None
        self._panels: dict[str, Any] = {}
        self._errors: list[Any] = []
        self._validated: dict[str, Any] | None = None

        self.app = WizardWidget(on_state=self._from_browser, schema=stage_schema(self.slug), meta=self._meta(),
                                value=copy.deepcopy(self.saved))
        self.app.on_msg(self._on_msg)
        self.refresh_findings()
        self.below = W.VBox([])  # the Run / Deliverables panel of those steps
        self.below.add_class("mlops-below-panel")
        from .style import stylesheet

        self.widget = W.VBox([stylesheet(), self.app, self.below])  # the stylesheet styles the panels below
        self.widget.add_class("mlops-stage-app")
        self.widget.add_class(f"mlops-stage-{self.slug}")
        self._validate()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # -- what the browser is sent ------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        s = self.stage
        try:
            name = self.project.name
        except Exception:  # noqa: BLE001
            name = ""
        links = []
        if s.number > 1:
            links.append({"href": notebook_name(s.number - 1, _slug(s.number - 1)), "label": f"← Stage {s.number - 1}"})
        links.append({"href": "home.ipynb", "label": "All stages"})
        if s.number < 7:
            links.append({"href": notebook_name(s.number + 1, _slug(s.number + 1)), "label": f"Stage {s.number + 1} →"})
        cont = ({"href": notebook_name(s.number + 1, _slug(s.number + 1)),
                 "label": f"Continue to stage {s.number + 1}: {_title(s.number + 1)} →"}
                if s.number < 7 else {"href": "home.ipynb", "label": "Back to all stages"})
        tasks = {}
        from .engine import task_title

        for t in s.tasks:
            title, summary = task_title(t.id)
            tasks[t.id] = {"title": title, "summary": summary}
        return {
            "kicker": f"Stage {s.number} of 7 · {_weeks(s.weeks)} · project {name}",
            "title": s.title, "links": links, "continue": cont,
            "steps": [{"id": i, "label": label} for i, label in self.steps],
            "tasks": tasks, "guide_html": self._guide_html(), "project_path": str(self.project.path),
        }

    def _guide_html(self) -> str:
        from ..roles import role_name

        s = self.stage

        def chips(roles: tuple[str, ...]) -> str:
            if len(roles) >= 15:  # every role of the accelerator
                return "<span class='mlops-chip'>Everyone</span>"
            return "".join(f"<span class='mlops-chip'>{html.escape(role_name(r))}</span>" for r in roles)

        tasks = "".join(
            f"<li><b>{html.escape(t.title)}</b> <span class='mlops-task-id'>{html.escape(t.id)}</span>"
            f"<div class='mlops-help'>{html.escape(t.summary)}</div><div>{chips(t.roles)}</div></li>"
            for t in s.tasks)
        produces = "".join(f"<li>{html.escape(p)}</li>" for p in s.produces)
        items = []
        for d in s.deliverables:
            how = {"auto": "automatic check", "signoff": "sign-off",
                   "auto+signoff": "check + sign-off"}.get(d.verification, d.verification)
            items.append(f"<li><b>{html.escape(d.id)}</b> {html.escape(d.text)} <span class='mlops-muted mlops-small'>"
                         f"· {how}</span></li>")
        from ..settings import validate_settings

        bad = validate_settings(self.slug, self.saved)[1]
        status = (f"<div class='mlops-note mlops-warn'>The saved settings of this stage break {len(bad)} rule(s); "
                  "the Settings step shows where.</div>" if bad else "")
        return f"""{status}
        <div class="mlops-guide-grid">
          <div>
            <div class="mlops-card"><h3>Why this stage</h3><div>{html.escape(s.purpose)}</div>
              <p><b>Outcome:</b> {html.escape(s.outcome)}</p></div>
            <div class="mlops-card"><h3>Tasks</h3><ol>{tasks}</ol></div>
          </div>
          <div>
            <div class="mlops-card"><h3>Who takes part</h3>{chips(s.roles)}</div>
            <div class="mlops-card"><h3>What this stage produces</h3><ul>{produces}</ul></div>
            <div class="mlops-card"><h3>Deliverables</h3><ul class="mlops-small">{''.join(items)}</ul></div>
          </div>
        </div>"""

    # -- values, errors, changes ------------------------------------------------------

    def values(self) -> dict[str, Any]:
        return copy.deepcopy(self.app.value)

    def errors(self) -> list[Any]:
        return list(self._errors)

    def normalized(self) -> dict[str, Any] | None:
        return copy.deepcopy(self._validated)

    def changes(self) -> list[dict[str, Any]]:
        from ..workspace import diff

        new = self._validated
        return diff(self.saved, new if new is not None else self.values())

    def _validate(self) -> None:
        from ..settings import validate_settings
        from .engine import describe_path

        model, self._errors = validate_settings(self.slug, self.app.value, self.others)
        self._validated = model.model_dump(mode="json") if model is not None else None
        schema_model = _model(self.slug)
        errors = []
        for e in self._errors:
            got = "" if e.value is None or isinstance(e.value, (dict, list)) else repr(e.value)
            errors.append({"field": e.field, "label": describe_path(schema_model, e.field), "message": e.message,
                           "rule": e.rule, "got": got[:200]})
        changes = [{"field": c["field"], "label": describe_path(schema_model, c["field"]),
                    "old": _short(c["old"]), "new": _short(c["new"])} for c in self.changes()]
        extras = self._task_extras()
        with self.app.hold_sync():
            self.app.errors = errors
            self.app.changes = changes
            if extras != self.app.task_extras:
                self.app.task_extras = extras
            self.app.checked_rev = self.app.rev

    def _task_extras(self) -> dict[str, str]:
        if self.slug != "foundations":
            return {}
        from .radar import radar_html

        return {"S1.T2": radar_html(self.app.value)}

    # -- the browser's edits and messages -------------------------------------------

    def _from_browser(self, keys: set[str]) -> None:
        if keys & {"value", "rev"}:
            self._validate()
        if "step" in keys:
            self._enter(self.app.step)

    def edit(self, path: str, value: Any) -> None:
        """Change one setting as the browser does (dotted path, e.g. "team_roster.0.email")."""
        values = self.values()
        _set_path(values, path, value)
        self.app.set_state({"value": values, "rev": self.app.rev + 1})

    def set_values(self, values: dict[str, Any]) -> None:
        self.app.set_state({"value": copy.deepcopy(values), "rev": self.app.rev + 1})

    def _on_msg(self, _w: Any, content: Any, _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "save":
            self.save(overwrite=bool(content.get("overwrite")))
        elif kind == "load_theirs":
            self.load_theirs()

    # -- navigation -------------------------------------------------------------------

    @property
    def step_names(self) -> list[str]:
        return [s for s, _ in self.steps]

    @property
    def step(self) -> int:
        return self.step_names.index(self.app.step)

    @property
    def step_name(self) -> str:
        return self.app.step

    def step_valid(self, name: str) -> bool:
        if name == "settings":
            return not self._errors
        if name == "review":
            return not self._errors and not self.changes()
        return True

    def can_reach(self, i: int) -> bool:
        return all(self.step_valid(n) for n in self.step_names[:i])

    def blocker(self, name: str) -> str:
        n = len(self._errors)
        if name in ("settings", "review") and n:
            return f"Fix {n} setting{'s' if n != 1 else ''} to continue."
        if name == "review" and self.changes():
            return "Save your changes to continue: notebooks run from the saved settings."
        return ""

    def go(self, target: int | str) -> bool:
        """Move to a step (as the browser's stepper does); False when it cannot be reached yet."""
        i = target if isinstance(target, int) else (self.step_names.index(target) if target in self.step_names else -1)
        if not 0 <= i < len(self.steps) or not self.can_reach(i):
            return False
        self.app.set_state({"step": self.step_names[i]})
        return self.app.step == self.step_names[i]

    def next(self) -> bool:
        return self.go(self.step + 1)

    def back(self) -> bool:
        return self.go(self.step - 1)

    def refresh_findings(self) -> None:
        """The last Azure pre-flight's findings on this stage's settings, beside those settings."""
        from .azure_findings import stage_findings

        self.app.findings = stage_findings(self.project.root, self.slug)

    def _enter(self, name: str) -> None:
        """The browser moved to a step: prepare what Python shows there, then say it is ready."""
        if name not in self.step_names or not self.can_reach(self.step_names.index(name)):
            name = self.app.ready_step if self.app.ready_step in self.step_names else "guide"
            self.app.step = name  # refused: the browser goes back where it was
        for other in list(self._panels):
            if other != name:  # leaving a panel closes its widgets: a page never piles them up
                self._close_panel(other)
        if name == "settings":
            self.refresh_findings()  # a pre-flight may have run meanwhile (CLI, or a run's)
        if name in PYTHON_STEPS:
            self.below.children = [self._panel(name).widget]
        else:
            self.below.children = []
        self.app.ready_step = name

    def _panel(self, name: str) -> Any:
        if name not in self._panels:
            if name == "run":
                from .run import RunPanel

                self._panels[name] = RunPanel(self.project, self.slug, autopoll=self.autopoll)
            else:
                from .checklist import DeliverablesPanel

                self._panels[name] = DeliverablesPanel(self.project, self.stage.number)
        elif name == "deliverables":
            self._panels[name].refresh()
        return self._panels[name]

    def _close_panel(self, name: str) -> None:
        panel = self._panels.pop(name)
        if name == "run" and getattr(panel, "_thread", None) is not None and panel._thread.is_alive():
            self._panels[name] = panel  # a run being followed keeps its panel
            return
        self.below.children = []
        _close_tree(panel.widget)

    @property
    def runner(self) -> Any:
        return self._panel("run")

    @property
    def deliverables(self) -> Any:
        return self._panel("deliverables")

    # -- saving ----------------------------------------------------------------------

    def _say(self, kind: str, title: str, text: str = "", rows: list | None = None, conflict: bool = False) -> None:
        self.app.save_state = {"kind": kind, "title": title, "text": text, "rows": rows or [], "conflict": conflict}

    def save(self, overwrite: bool = False) -> bool:
        """Save through the workspace API; returns True when saved."""
        from ..workspace import SettingsConflict, diff

        try:
            return self._save(overwrite, SettingsConflict, diff)
        finally:
            self.app.saving = False

    def _save(self, overwrite: bool, conflict_error: type, diff: Any) -> bool:
        values = self.normalized()
        if values is None:
            self._say("bad", "Nothing was saved:", "fix the settings marked in red first.")
            return False
        base = self.project.revision(self.slug) if overwrite else self.base_revision
        try:
            result = self.project.save_settings(self.slug, values, base_revision=base, via="wizard")
        except conflict_error:
            theirs = self.project.effective_settings(self.slug)
            their_changes = diff(self.saved, theirs)
            self.conflict = {"theirs": theirs, "changes": their_changes}
            rows = [{"field": c["field"], "old": _short(c["old"]), "new": _short(c["new"])} for c in their_changes]
            self._say("warn", "Not saved: the settings of this stage were changed by someone else",
                      "(the CLI, JupyterLab or another browser tab) since you opened this wizard. Nothing was "
                      "overwritten and your answers are still here. Their change:", rows, conflict=True)
            return False
        except InvalidSettings as exc:
            self._say("bad", "Nothing was saved:", "; ".join(f"{e.field}: {e.message}" for e in exc.errors))
            return False
        self.conflict = None
        self.base_revision = result.revision
        self.saved = self.project.effective_settings(self.slug)
        n = len(result.changes)
        self._validate()
        self._say("ok", "Saved.", f"{n} change{'s' if n != 1 else ''} written to the project "
                                  f"(revision {result.revision}).")
        return True

    def load_theirs(self) -> None:
        self.saved = self.project.effective_settings(self.slug)
        self.base_revision = self.project.revision(self.slug)
        self.conflict = None
        with self.app.hold_sync():
            self.app.value = copy.deepcopy(self.saved)
            self.app.value_epoch += 1
        self._validate()
        self._say("info", "Loaded the saved settings;", "your unsaved answers were discarded.")


def _close_tree(w: Any) -> None:
    for child in getattr(w, "children", ()) or ():
        _close_tree(child)
    for attr in ("layout", "style"):
        sub = getattr(w, attr, None)
        if sub is not None and hasattr(sub, "close"):
            sub.close()
    w.close()


def _set_path(values: dict[str, Any], path: str, value: Any) -> None:
    parts: list[Any] = [int(p) if p.isdigit() else p for p in path.split(".")]
    cur: Any = values
    for p in parts[:-1]:
        cur = cur[p]
    cur[parts[-1]] = value


def _model(slug: str) -> Any:
    from ..settings import schema_for

    return schema_for(slug)


def stage_schema(slug: str) -> dict[str, Any]:
    """The stage's JSON Schema as the browser gets it: every choice carries its declared label."""
    from ..settings import json_schema

    schema = json_schema(slug)
    _label_choices(schema, None, _levels(slug))
    return schema


def _levels(slug: str) -> dict[int, str]:
    import sys

    module = sys.modules.get(_model(slug).__module__)
    levels = getattr(module, "MATURITY_LEVELS", None)
    return levels if isinstance(levels, dict) else {}


def _label_choices(node: Any, key: str | None, levels: dict[int, str]) -> None:
    from ..settings.ui import choice_label

    if isinstance(node, dict):
        values = node.get("enum") or ([node["const"]] if "const" in node else None)
        if values:
            declared = node.get("x-ui-labels") or {}
            labels = {}
            for v in values:
                if node.get("x-ui-verbatim"):
                    labels[str(v)] = str(v)
                elif str(v) in declared:
                    labels[str(v)] = declared[str(v)]
                elif isinstance(v, int) and not isinstance(v, bool) and levels and key and "level" in key:
                    labels[str(v)] = f"{v} · {levels[v]}" if v in levels else str(v)
                else:
                    labels[str(v)] = choice_label(v)
            node["x-enum-labels"] = labels
        for k, child in node.items():
            if k == "properties" and isinstance(child, dict):
                for name, prop in child.items():
                    _label_choices(prop, name, levels)
            elif isinstance(child, (dict, list)):
                _label_choices(child, key if k in ("anyOf", "oneOf", "allOf", "items") else k, levels)
    elif isinstance(node, list):
        for child in node:
            _label_choices(child, key, levels)


def _weeks(weeks: tuple[int, int]) -> str:
    return f"week {weeks[0]}" if weeks[0] == weeks[1] else f"weeks {weeks[0]}–{weeks[1]}"


def _slug(number: int) -> str:
    from ..catalogue import load_catalogue

    return load_catalogue().stage(number).slug


def _title(number: int) -> str:
    from ..catalogue import load_catalogue

    return load_catalogue().stage(number).title
