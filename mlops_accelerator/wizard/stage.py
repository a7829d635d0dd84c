"""One stage's wizard: Guide -> Settings -> Review -> Save -> Generate & Run -> Deliverables.

Every step's widgets live for the wizard's lifetime, so Back never loses input. The settings
form is built on first use (the Guide paints at once). Saving goes through
`Project.save_settings(..., base_revision=...)`: if someone else (CLI, another tab) saved in
between, the wizard says so and shows their change instead of overwriting it.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from ..errors import InvalidSettings
from .engine import SettingsForm, describe_path, error_html, task_title
from .style import note, progress_bar, stylesheet

STEPS = (("guide", "Guide"), ("settings", "Settings"), ("review", "Review"), ("save", "Save"),
         ("run", "Generate & Run"), ("deliverables", "Deliverables"))


def notebook_name(number: int, slug: str) -> str:
    from ..catalogue import stage_folder

    return f"{stage_folder(number)}.ipynb"


def _value_html(v: Any) -> str:
    if v is None or v == "" or v == [] or v == {}:
        return "<span class='mlops-muted'>(empty)</span>"
    text = v if isinstance(v, str) else repr(v)
    if len(text) > 120:
        text = text[:119] + "…"
    return f"<code>{html.escape(text)}</code>"


class StageWizard:
    """The wizard of one stage; display it (it is the last expression of the notebook cell)."""

    def __init__(self, stage: str | int, project: Any = None, *, autopoll: bool = True):
        from ..catalogue import load_catalogue
        from .context import current_project

        self.stage = load_catalogue().stage(stage)
        self.slug = self.stage.slug
        self.project = project if project is not None else current_project()
        self.autopoll = autopoll
        self.base_revision = self.project.revision(self.slug)
        self.saved = self.project.effective_settings(self.slug)
        self._form: SettingsForm | None = None
        self._panes: dict[str, W.Widget] = {}
        self.step = 0
        self.conflict: dict[str, Any] | None = None

        self.stepper_buttons = []
        for i, (_, label) in enumerate(STEPS):
            b = W.Button(description=f"{i + 1}  {label}", layout=W.Layout(width="auto"))
            b.add_class("mlops-step")
            b.add_class(f"mlops-step-{STEPS[i][0]}")
            b.on_click(lambda _, i=i: self.go(i))
            self.stepper_buttons.append(b)
        stepper = W.HBox(self.stepper_buttons)
        stepper.add_class("mlops-stepper")
        self.body = W.VBox([])
        self.body.add_class("mlops-body")
        self.back_button = W.Button(description="Back", icon="arrow-left", layout=W.Layout(width="auto"))
        self.back_button.add_class("mlops-back")
        self.back_button.on_click(lambda _: self.back())
        self.next_button = W.Button(description="Next", icon="arrow-right", button_style="primary",
                                    layout=W.Layout(width="auto"))
        self.next_button.add_class("mlops-next")
        self.next_button.on_click(lambda _: self.next())
        self.nav_hint = W.HTML("")
        self.nav_hint.add_class("mlops-nav-hint")
        nav = W.HBox([self.back_button, self.nav_hint, self.next_button],
                     layout=W.Layout(align_items="center"))
        nav.add_class("mlops-nav")
        self.widget = W.VBox([stylesheet(), W.HTML(self._header()), stepper, self.body, nav])
        self.widget.add_class("mlops-app")
        self.widget.add_class(f"mlops-stage-{self.slug}")
        self.go(0)

    # -- display -----------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _header(self) -> str:
        s = self.stage
        try:
            name = html.escape(self.project.name)
        except Exception:  # noqa: BLE001
            name = ""
        prev_link = (f'<a href="{notebook_name(s.number - 1, _slug(s.number - 1))}">&larr; Stage {s.number - 1}</a> · '
                     if s.number > 1 else "")
        next_link = (f' · <a href="{notebook_name(s.number + 1, _slug(s.number + 1))}">Stage {s.number + 1} &rarr;</a>'
                     if s.number < 7 else "")
        return (f'<div class="mlops-header"><div><div class="mlops-kicker">Stage {s.number} of 7 · '
                f"{_weeks(s.weeks)} · project {name}</div><h1>{html.escape(s.title)}</h1></div>"
                f'<div class="mlops-small">{prev_link}<a href="home.ipynb">All stages</a>{next_link}</div></div>')

    # -- the form (built on first use) -------------------------------------------

    @property
    def form(self) -> SettingsForm:
        if self._form is None:
            self._form = SettingsForm(self.slug, self.saved, self.project.other_stages(self.slug))
            self._form.on_change(lambda _: self._refresh_nav())
        return self._form

    def values(self) -> dict[str, Any]:
        return self.form.values() if self._form is not None else dict(self.saved)

    def errors(self) -> list[Any]:
        if self._form is not None:
            return self._form.errors
        from ..settings import validate_settings

        return validate_settings(self.slug, self.saved)[1]

    def normalized(self) -> dict[str, Any] | None:
        from ..settings import validate_settings

        model, errors = validate_settings(self.slug, self.values())
        return None if errors else model.model_dump(mode="json")

    def changes(self) -> list[dict[str, Any]]:
        from ..workspace import diff

        new = self.normalized()
        return diff(self.saved, new if new is not None else self.values())

    # -- navigation ----------------------------------------------------------------

    def step_valid(self, i: int) -> bool:
        name = STEPS[i][0]
        if name in ("settings", "review"):
            return not self.errors()
        if name == "save":
            return not self.errors() and not self.changes()
        return True

    def blocker(self, i: int) -> str:
        name = STEPS[i][0]
        if name in ("settings", "review") and self.errors():
            n = len(self.errors())
            return f"Fix {n} setting{'s' if n != 1 else ''} marked in red to continue."
        if name == "save" and self.changes():
            return "Save your changes to continue: notebooks run from the saved settings."
        return ""

    def can_reach(self, i: int) -> bool:
        return all(self.step_valid(j) for j in range(i))

    def go(self, i: int) -> bool:
        if not 0 <= i < len(STEPS) or not self.can_reach(i):
            return False
        self.step = i
        name = STEPS[i][0]
        pane = self._pane(name)
        self.body.children = [pane]
        self._refresh_nav()
        return True

    def next(self) -> bool:
        return self.go(self.step + 1)

    def back(self) -> bool:
        return self.go(self.step - 1)

    @property
    def step_name(self) -> str:
        return STEPS[self.step][0]

    def _refresh_nav(self) -> None:
        for i, b in enumerate(self.stepper_buttons):
            b.remove_class("mlops-step-current")
            b.remove_class("mlops-step-done")
            if i == self.step:
                b.add_class("mlops-step-current")
            elif i < self.step:
                b.add_class("mlops-step-done")
            b.disabled = i != self.step and not self.can_reach(i)
        self.back_button.disabled = self.step == 0
        last = self.step == len(STEPS) - 1
        self.next_button.disabled = last or not self.step_valid(self.step)
        self.next_button.layout.visibility = "hidden" if last else "visible"
        hint = self.blocker(self.step) if not last else ""
        text = f'<span class="mlops-error">{html.escape(hint)}</span>' if hint else ""
        if self.nav_hint.value != text:
            self.nav_hint.value = text
        if self.step_name == "review" and "review" in self._panes:
            self._render_review()
        if self.step_name == "save" and "save" in self._panes:
            self._render_save_summary()

    # -- panes ---------------------------------------------------------------------

    def _pane(self, name: str) -> W.Widget:
        if name not in self._panes:
            self._panes[name] = getattr(self, f"_build_{name}")()
        if name == "review":
            self._render_review()
        elif name == "save":
            self._render_save_summary()
        elif name == "deliverables":
            self.deliverables.refresh()
        return self._panes[name]

    def _build_guide(self) -> W.Widget:
        from ..roles import role_name

        s = self.stage
        roles = "".join(f'<span class="mlops-chip">{html.escape(role_name(r))}</span>' for r in s.roles)
        def chips(roles: tuple[str, ...]) -> str:
            if len(roles) >= 15:  # every role of the accelerator
                return "<span class='mlops-chip'>Everyone</span>"
            return "".join(f"<span class='mlops-chip'>{html.escape(role_name(r))}</span>" for r in roles)

        tasks = "".join(
            f"<li><b>{html.escape(t.title)}</b> <span class='mlops-task-id'>{t.id}</span>"
            f"<div class='mlops-help'>{html.escape(t.summary)}</div><div>{chips(t.roles)}</div></li>"
            for t in s.tasks)
        produces = "".join(f"<li>{html.escape(p)}</li>" for p in s.produces)
        items = []
        for d in s.deliverables:
            how = {"auto": "automatic check", "signoff": "sign-off",
                   "auto+signoff": "check + sign-off"}[d.verification]
            items.append(f"<li><b>{d.id}</b> {html.escape(d.text)} <span class='mlops-muted mlops-small'>· {how}"
                         "</span></li>")
        errors = self.errors()
        status = (note("warn", f"The saved settings of this stage break {len(errors)} rule(s); the Settings step "
                               "shows where.") if errors else "")
        text = f"""
        {status}
        <div class="mlops-guide-grid">
          <div>
            <div class="mlops-card"><h3>Why this stage</h3><div>{html.escape(s.purpose)}</div>
              <div style="margin-top:8px"><b>Outcome:</b> {html.escape(s.outcome)}</div></div>
            <div class="mlops-card"><h3>Tasks</h3><ol>{tasks}</ol></div>
          </div>
          <div>
            <div class="mlops-card"><h3>Who takes part</h3>{roles}</div>
            <div class="mlops-card"><h3>What this stage produces</h3><ul>{produces}</ul></div>
            <div class="mlops-card"><h3>Deliverables</h3><ul class="mlops-small">{''.join(items)}</ul></div>
          </div>
        </div>"""
        w = W.HTML(text)
        w.add_class("mlops-guide")
        return w

    def _build_settings(self) -> W.Widget:
        form = self.form
        sections = form.sections
        if self.slug == "foundations" and "maturity_assessment" in form.root.fields:
            from .radar import MaturityRadar

            task = [t for t, eds in form.tasks() if any(e.key == "maturity_assessment" for e in eds)][0]
            self.radar = MaturityRadar(form, add_missing=self._add_missing_dimensions)
            sec = sections[task]
            sec.children = [*sec.children, self.radar.widget]
        # task navigation: one task at a time, with its error count
        self.task_buttons: dict[Any, W.Button] = {}
        for task in sections:
            title, _ = task_title(task)
            b = W.Button(description=f"{task or ''} {title}".strip(), layout=W.Layout(width="100%"),
                         tooltip=title)
            b.add_class("mlops-tasklink")
            b.on_click(lambda _, t=task: self.show_task(t))
            self.task_buttons[task] = b
        show_all = W.Button(description="Show all tasks", layout=W.Layout(width="100%"))
        show_all.add_class("mlops-tasklink")
        show_all.on_click(lambda _: self.show_task(None, all_tasks=True))
        self.task_buttons["__all__"] = show_all
        nav = W.VBox(list(self.task_buttons.values()), layout=W.Layout(width="230px", min_width="230px"))
        nav.add_class("mlops-tasknav")
        form.on_change(lambda _: self._refresh_task_nav())
        self.current_task = next(iter(sections))
        self.show_task(self.current_task)
        content = W.VBox([form.widget], layout=W.Layout(flex="1 1 auto", min_width="0"))
        box = W.HBox([nav, content], layout=W.Layout(align_items="flex-start"))
        box.add_class("mlops-settings")
        return box

    def show_task(self, task: Any, all_tasks: bool = False) -> None:
        self.current_task = "__all__" if all_tasks else task
        sections = self.form.sections
        # Only the shown task is attached: the browser builds views for what is displayed, so a
        # stage with a hundred settings (stage 2) opens as fast as its first task.
        shown = list(sections.values()) if all_tasks else [sections[task]]
        self.form.widget.children = [self.form.general_errors, *shown]
        self._refresh_task_nav()

    def _refresh_task_nav(self) -> None:
        if not hasattr(self, "task_buttons"):
            return
        counts: dict[Any, int] = {}
        field_task = {}
        from .engine import field_meta

        for name in self.form.root.fields:
            field_task[name] = field_meta(self.form.model.model_fields[name])[2]
        for e in self.form.errors:
            t = field_task.get(e.field.split(".")[0])
            counts[t] = counts.get(t, 0) + 1
        for t, b in self.task_buttons.items():
            if t == "__all__":
                label = "Show all tasks"
                bad = bool(self.form.errors)
            else:
                title, _ = task_title(t)
                n = counts.get(t, 0)
                label = f"{t or ''} {title}".strip() + (f"  ({n} to fix)" if n else "")
                bad = n > 0
            if b.description != label:
                b.description = label
            (b.add_class if bad else b.remove_class)("mlops-tasklink-bad")
            (b.add_class if t == self.current_task else b.remove_class)("mlops-tasklink-current")

    def _add_missing_dimensions(self) -> None:
        ed = self.form.editor("maturity_assessment")
        have = {r.get("dimension") for r in ed.get()}
        for dim in self.radar.dimensions:
            if dim not in have:
                ed.add({"dimension": dim, "current_level": 0, "target_level": 2, "evidence": ""})

    def _build_review(self) -> W.Widget:
        self.review = W.HTML("")
        self.review.add_class("mlops-review")
        return W.VBox([self.review])

    def _render_review(self) -> None:
        errors = self.errors()
        changes = self.changes()
        parts = []
        if errors:
            parts.append(note("bad", f"<b>{len(errors)} setting(s) break a rule</b>; go back to Settings to fix them."
                              + error_html(errors)))
        if not changes:
            parts.append(note("info", "Nothing changed against the saved settings of this stage."))
        else:
            model = self.form.model if self._form is not None else None
            rows = "".join(
                f"<tr><td><b>{html.escape(describe_path(model, c['field']) if model else c['field'])}</b>"
                f"<div class='mlops-small mlops-muted'><code>{html.escape(c['field'])}</code></div></td>"
                f"<td class='mlops-old'>{_value_html(c['old'])}</td>"
                f"<td class='mlops-new'>{_value_html(c['new'])}</td></tr>"
                for c in changes)
            parts.append(f"<div class='mlops-card'><h3>{len(changes)} change{'s' if len(changes) != 1 else ''} "
                         f"against the saved settings</h3><table class='mlops-table'><tr><th>Setting</th>"
                         f"<th>Saved</th><th>Yours</th></tr>{rows}</table></div>")
        text = "".join(parts)
        if self.review.value != text:
            self.review.value = text

    def _build_save(self) -> W.Widget:
        self.save_summary = W.HTML("")
        self.save_button = W.Button(description="Save settings", icon="save", button_style="primary",
                                    layout=W.Layout(width="auto", height="36px"))
        self.save_button.add_class("mlops-save")
        self.save_button.on_click(lambda _: self.save())
        self.save_message = W.HTML("")
        self.save_message.add_class("mlops-save-message")
        self.reload_button = W.Button(description="Load their version (discard mine)", icon="refresh",
                                      layout=W.Layout(width="auto"))
        self.reload_button.on_click(lambda _: self.load_theirs())
        self.overwrite_button = W.Button(description="Save mine over theirs", icon="save",
                                         button_style="warning", layout=W.Layout(width="auto"))
        self.overwrite_button.on_click(lambda _: self.save(overwrite=True))
        self.conflict_actions = W.HBox([self.reload_button, self.overwrite_button], )
        self.conflict_actions.layout.display = "none"
        return W.VBox([self.save_summary, self.save_button, self.save_message, self.conflict_actions])

    def _render_save_summary(self) -> None:
        n = len(self.changes())
        where = html.escape(str(self.project.path))
        text = (f"<div class='mlops-card'><h3>Save to the project</h3>"
                f"{n} change{'s' if n != 1 else ''} will be written to <code>{where}</code> and recorded in the "
                "project ledger. The CLI, JupyterLab and other browser tabs see them at once.</div>"
                if n else note("ok", f"All settings of this stage are saved in <code>{where}</code>."))
        if n and self.conflict is None and self.project.revision(self.slug) != self.base_revision:
            text += note("warn", "Someone else (the CLI, JupyterLab or another tab) saved this stage's settings "
                                 "after you opened this wizard. Saving will not overwrite their change: you will "
                                 "be shown what they changed and can choose.")
        if self.save_summary.value != text:
            self.save_summary.value = text
        self.save_button.disabled = n == 0 or bool(self.errors())

    # -- saving ----------------------------------------------------------------------

    def save(self, overwrite: bool = False) -> bool:
        """Save through the workspace API; returns True when saved."""
        from ..workspace import SettingsConflict, diff

        if "save" not in self._panes:
            self._pane("save")
        values = self.normalized()
        if values is None:
            self.save_message.value = note("bad", "Nothing was saved: fix the settings marked in red first."
                                           + error_html(self.errors()))
            return False
        base = self.project.revision(self.slug) if overwrite else self.base_revision
        try:
            result = self.project.save_settings(self.slug, values, base_revision=base, via="wizard")
        except SettingsConflict:
            theirs = self.project.effective_settings(self.slug)
            their_changes = diff(self.saved, theirs)
            self.conflict = {"theirs": theirs, "changes": their_changes}
            rows = "".join(
                f"<tr><td><code>{html.escape(c['field'])}</code></td><td>{_value_html(c['old'])}</td>"
                f"<td>{_value_html(c['new'])}</td></tr>" for c in their_changes)
            table = (f"<table class='mlops-table'><tr><th>Setting</th><th>When you opened the wizard</th>"
                     f"<th>Saved now</th></tr>{rows}</table>") if rows else ""
            self.save_message.value = note(
                "warn", "<b>Not saved: the settings of this stage were changed by someone else</b> (the CLI, "
                "JupyterLab or another browser tab) since you opened this wizard. Nothing was overwritten and "
                "your answers are still here. Their change:" + table)
            self.conflict_actions.layout.display = None
            return False
        except InvalidSettings as exc:
            self.save_message.value = note("bad", "Nothing was saved:" + error_html(exc.errors))
            return False
        self.conflict = None
        self.conflict_actions.layout.display = "none"
        self.base_revision = result.revision
        self.saved = self.project.effective_settings(self.slug)
        n = len(result.changes)
        self.save_message.value = note("ok", f"<b>Saved.</b> {n} change{'s' if n != 1 else ''} written to the "
                                             f"project (revision <code>{result.revision}</code>).")
        self._refresh_nav()
        return True

    def load_theirs(self) -> None:
        self.saved = self.project.effective_settings(self.slug)
        self.base_revision = self.project.revision(self.slug)
        self.form.set_values(self.saved)
        self.conflict = None
        self.conflict_actions.layout.display = "none"
        self.save_message.value = note("info", "Loaded the saved settings; your unsaved answers were discarded.")
        self._refresh_nav()

    # -- run and deliverables ------------------------------------------------------

    def _build_run(self) -> W.Widget:
        from .run import RunPanel

        self.runner = RunPanel(self.project, self.slug, autopoll=self.autopoll)
        return self.runner.widget

    def _build_deliverables(self) -> W.Widget:
        from .checklist import DeliverablesPanel

        self.deliverables = DeliverablesPanel(self.project, self.stage.number)
        return self.deliverables.widget


def _weeks(weeks: tuple[int, int]) -> str:
    return f"week {weeks[0]}" if weeks[0] == weeks[1] else f"weeks {weeks[0]}–{weeks[1]}"


def _slug(number: int) -> str:
    from ..catalogue import load_catalogue

    return load_catalogue().stage(number).slug


def stage_progress_html(done: int, total: int) -> str:
    return progress_bar(done, total)
