"""The home wizard: the project at a glance (seven stages, progress, "what is mine?"), or create one."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..errors import AcceleratorError, UsageError
from .board import board_html
from .stage import _weeks, notebook_name
from .style import note, progress_bar, stylesheet

EVERYONE = "everyone"


class HomeWizard:
    def __init__(self, project_dir: Any = None):
        from .context import project_dir as default_dir

        self.dir = Path(project_dir).resolve() if project_dir is not None else default_dir()
        self.project = None
        self.body = W.VBox([])
        self.widget = W.VBox([stylesheet(), self.body])
        self.widget.add_class("mlops-app")
        self.widget.add_class("mlops-home")
        self._load()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _load(self) -> None:
        from ..workspace import Project

        try:
            self.project = Project.find(self.dir)
        except UsageError:
            self.project = None
        if self.project is None:
            self.body.children = [self._create_form()]
        else:
            self.body.children = [self._dashboard()]

    # -- no project yet ----------------------------------------------------------------

    def _create_form(self) -> W.Widget:
        from ..naming import PROJECT_SLUG

        guess = "".join(c if c.isalnum() else "-" for c in self.dir.name.lower()).strip("-")
        guess = guess if not PROJECT_SLUG.problem(guess) else ""
        self.name = W.Text(value=guess, placeholder="e.g. contoso-churn", continuous_update=True,
                           layout=W.Layout(width="360px"))
        self.name.add_class("mlops-project-name")
        self.name_error = W.HTML("")
        self.create_button = W.Button(description="Create project", icon="plus", button_style="primary",
                                      layout=W.Layout(width="auto", height="36px"))
        self.create_button.add_class("mlops-create")
        self.create_button.on_click(lambda _: self.create())
        self.create_message = W.HTML("")

        def check(*_: Any) -> None:
            problem = PROJECT_SLUG.problem(self.name.value)
            self.name_error.value = (f'<div class="mlops-error">&#x2716; project name {html.escape(problem)} '
                                     f'<span class="mlops-rule">rule: {PROJECT_SLUG.id}</span></div>'
                                     if problem and self.name.value else "")
            self.create_button.disabled = bool(problem)

        self.name.observe(check, "value")
        check()
        field = W.VBox([W.HTML('<div class="mlops-label">Project name</div><div class="mlops-help">Short, '
                               'lowercase letters, digits and "-"; it prefixes every Azure resource and asset '
                               f'name ({PROJECT_SLUG.min_len}-{PROJECT_SLUG.max_len} characters).</div>'),
                        self.name, self.name_error])
        field.add_class("mlops-field")
        card = W.VBox([
            W.HTML('<div class="mlops-header"><div><div class="mlops-kicker">MLOps Accelerator for Azure ML</div>'
                   "<h1>Start a project</h1></div></div>"
                   + note("info", f"There is no project in <code>{html.escape(str(self.dir))}</code> yet. Create "
                          "one to start the seven-stage guided workflow: it writes <code>mlops-accelerator.yaml"
                          "</code> (your answers, readable and editable by hand) and a hidden ledger of everything "
                          "done.")),
            field, self.create_button, self.create_message])
        card.add_class("mlops-create-form")
        return card

    def create(self) -> bool:
        from ..workspace import Project

        try:
            Project.create(self.dir, self.name.value.strip())
        except AcceleratorError as exc:
            self.create_message.value = note("bad", html.escape(str(exc)))
            return False
        self._load()
        return True

    # -- dashboard ----------------------------------------------------------------------

    def _default_role(self) -> str:
        """The signed-in person's first roster role (MLOPS_ACCELERATOR_USER), else everyone."""
        import os

        user = os.environ.get("MLOPS_ACCELERATOR_USER", "").strip().lower()
        if user:
            try:
                roster = self.project.effective_settings("foundations").get("team_roster") or []
            except Exception:  # noqa: BLE001 - an unreadable project shows everything
                roster = []
            for member in roster:
                if user in (str(member.get("name", "")).lower(), str(member.get("email", "")).lower()):
                    roles = member.get("roles") or []
                    if roles:
                        return roles[0]
        return EVERYONE

    def _dashboard(self) -> W.Widget:
        from ..roles import ROLES

        # ipywidgets shows the value None as an empty box: "everyone" is a value of its own
        self.role = W.Dropdown(options=[("Everyone: show all stages", EVERYONE)]
                               + [(r.name, r.id) for r in ROLES], value=self._default_role(),
                               description="I am a", style={"description_width": "initial"},
                               layout=W.Layout(width="400px"))
        self.role.add_class("mlops-role-filter")
        self.role.observe(lambda _: self.render(), "value")
        self.refresh_button = W.Button(description="Refresh", icon="refresh", layout=W.Layout(width="auto"))
        self.refresh_button.on_click(lambda _: self.render(reload=True))
        self.header = W.HTML("")
        self.cards = W.HTML("")
        self.cards.add_class("mlops-stage-cards")
        self.mine = W.HTML("")
        self.mine.add_class("mlops-mine")
        self.board = W.HTML("")
        self.board.add_class("mlops-board-widget")
        filter_row = W.HBox([self.role, self.refresh_button],
                            layout=W.Layout(align_items="center", margin="0 0 12px 0"))
        self.data: dict[str, Any] | None = None
        self.render(reload=True)
        return W.VBox([self.header, filter_row, self.mine, self.cards,
                       W.HTML('<h2 style="font-size:18px;margin:22px 0 8px 0">Deliverables board</h2>'),
                       self.board])

    def render(self, reload: bool = False) -> None:
        from ..catalogue import load_catalogue
        from ..report import status_data
        from ..roles import ROLES_BY_ID, role_name

        if reload or self.data is None:
            self.data = status_data(self.project)
        data = self.data
        role = None if self.role.value == EVERYONE else self.role.value
        cat = load_catalogue()
        done = sum(s["deliverables"]["done"] for s in data["stages"])
        total = sum(s["deliverables"]["total"] for s in data["stages"])
        valid = sum(s["settings"]["valid"] for s in data["stages"])
        runs = [s["last_run"] for s in data["stages"] if s.get("last_run")]
        last = max(runs, key=lambda r: r["ts"]) if runs else None
        last_text = (f"{html.escape(str(last['status']))} · {html.escape(str(last['ts'])[:16].replace('T', ' '))}"
                     if last else "none yet")
        self.header.value = (
            f'<div class="mlops-header"><div><div class="mlops-kicker">MLOps Accelerator for Azure ML</div>'
            f'<h1>{html.escape(data["project"])}</h1></div><div class="mlops-small mlops-muted">'
            f'<code>{html.escape(data["root"])}</code></div></div>'
            f'<div class="mlops-kpis"><div class="mlops-kpi"><b>{done}/{total}</b><span>deliverables done</span>'
            f'{progress_bar(done, total)}</div>'
            f'<div class="mlops-kpi"><b>{valid}/7</b><span>stages with valid settings</span></div>'
            f'<div class="mlops-kpi"><b style="font-size:15px;line-height:1.9">{last_text}</b>'
            '<span>last run</span></div></div>')
        cards = []
        for s, st in zip(data["stages"], cat.stages, strict=True):
            d = s["deliverables"]
            involved = role is None or role in st.roles
            klass = "mlops-stage" + ("" if role is None else (" mine" if involved else " dim"))
            chips = "".join(f'<span class="mlops-chip{" me" if r == role else ""}">{html.escape(role_name(r))}'
                            "</span>" for r in st.roles) if len(st.roles) < 15 else \
                '<span class="mlops-chip">Everyone</span>'
            settings_state = ('<span class="mlops-state done">settings valid</span>' if s["settings"]["valid"]
                              else f'<span class="mlops-state failed">{len(s["settings"]["errors"])} settings to fix'
                                   "</span>")
            awaiting = f' · {d["awaiting_signoff"]} awaiting sign-off' if d["awaiting_signoff"] else ""
            run = s.get("last_run")
            run_badge = (f' <span class="mlops-state {html.escape(str(run["status"]))}">last run '
                         f'{html.escape(str(run["status"]))}</span>' if run else "")
            cards.append(
                f'<div class="{klass}" data-stage="{st.slug}"><div class="mlops-kicker">Stage {st.number} · '
                f'{_weeks(st.weeks)}</div><h3><span class="num">{st.number}.</span> {html.escape(st.title)}</h3>'
                f'<div class="mlops-small mlops-muted">{html.escape(st.outcome)}</div>'
                f'{progress_bar(d["done"], d["total"])}<div class="mlops-small">{d["done"]} of {d["total"]} '
                f'deliverables done{awaiting}</div><div>{settings_state}{run_badge}</div><div>{chips}</div>'
                f'<a class="open" href="{notebook_name(st.number, st.slug)}">Open the stage {st.number} wizard'
                " &rarr;</a></div>")
        self.cards.value = f'<div class="mlops-stages">{"".join(cards)}</div>'
        self.board.value = board_html(data, role)
        if role is None:
            self.mine.value = ""
        else:
            r = ROLES_BY_ID[role]
            rows = []
            for st in cat.stages:
                tasks = [t for t in st.tasks if role in t.roles]
                signs = [d for d in st.deliverables if role in d.signoff_roles]
                if not tasks and not signs:
                    continue
                state = {i["id"]: i["state"] for s in data["stages"] for i in s["items"]}
                task_list = "".join(f"<li>{html.escape(t.title)} <span class='mlops-task-id'>{t.id}</span></li>"
                                    for t in tasks)
                sign_list = "".join(f"<li><b>{d.id}</b> {html.escape(d.text)} "
                                    f"<span class='mlops-state {state.get(d.id, 'todo')}'>"
                                    f"{html.escape(state.get(d.id, 'todo').replace('_', ' '))}</span></li>"
                                    for d in signs)
                rows.append(f"<tr><td><a href='{notebook_name(st.number, st.slug)}'><b>{st.number}. "
                            f"{html.escape(st.title)}</b></a></td>"
                            f"<td><ul>{task_list or '<li class=mlops-muted>none</li>'}"
                            f"</ul></td><td><ul>{sign_list or '<li class=mlops-muted>none</li>'}</ul></td></tr>")
            resp = "; ".join(r.responsibilities)
            self.mine.value = (f"<div class='mlops-card'><h3>What is mine as {html.escape(r.name)}?</h3>"
                               f"<div class='mlops-help'>{html.escape(resp)}</div>"
                               "<table class='mlops-table'><tr><th>Stage</th><th>Your tasks</th>"
                               f"<th>Items you may sign off</th></tr>{''.join(rows)}</table></div>")
