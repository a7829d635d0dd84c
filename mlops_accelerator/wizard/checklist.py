"""Deliverables step: automatic check results, and sign-off restricted to each item's roles."""

from __future__ import annotations

import html
import os
from typing import Any

import ipywidgets as W

from ..errors import AcceleratorError
from .style import note, state_badge


class DeliverablesPanel:
    def __init__(self, project: Any, stage_number: int):
        from ..catalogue import load_catalogue

        self.project = project
        self.number = stage_number
        self.items = [d for d in load_catalogue().deliverables if d.stage == stage_number]
        self.table = W.HTML("")
        self.table.add_class("mlops-deliverables")
        self.check_button = W.Button(description="Run automatic checks", icon="check",
                                     layout=W.Layout(width="auto"))
        self.check_button.add_class("mlops-check")
        self.check_button.on_click(lambda _: self.run_checks())
        self.check_message = W.HTML("", layout=W.Layout(width="auto"))

        signable = [d for d in self.items if d.needs_signoff]
        # Each input's description is its <label> (accessible name); few widget models per panel.
        wide = {"description_width": "110px"}
        self.item = W.Dropdown(options=[(f"{d.id} · {_short(d.text)}", d.id) for d in signable],
                               description="Deliverable", style=wide, layout=W.Layout(width="100%"))
        self.role = W.Dropdown(options=[], description="Your role", style=wide, layout=W.Layout(width="100%"))
        self.by = W.Text(value=os.environ.get("MLOPS_ACCELERATOR_USER", ""), placeholder="Your name",
                         description="Your name", style=wide, continuous_update=True, layout=W.Layout(width="100%"))
        self.comment = W.Textarea(placeholder="Optional: what you checked, links to evidence",
                                  description="Comment", style=wide, layout=W.Layout(width="100%"), rows=2)
        self.sign_button = W.Button(description="Sign off", icon="pencil", button_style="primary",
                                    layout=W.Layout(width="auto"))
        self.sign_button.add_class("mlops-signoff")
        self.sign_button.on_click(lambda _: self.sign())
        self.sign_message = W.HTML("")
        self.item.observe(self._roles_for_item, "value")
        self.by.observe(self._enable, "value")
        self._roles_for_item()

        form = W.VBox([
            W.HTML('<div class="mlops-task-head">Sign off an item</div><div class="mlops-task-summary">'
                   "Only the roles allowed for the chosen item are offered; the sign-off is recorded in the "
                   "project ledger with your name and the time.</div>"),
            self.item, self.role, self.by, self.comment, self.sign_button, self.sign_message,
        ])
        form.add_class("mlops-card")
        form.add_class("mlops-signoff-form")
        if not signable:
            form.children = [W.HTML(note("info", "Every item of this stage is proven by an automatic check."))]
        checks = W.VBox([W.HBox([self.check_button, self.check_message],
                                layout=W.Layout(align_items="center")), self.table])
        checks.add_class("mlops-card")
        self.widget = W.VBox([checks, form])
        self.refresh()

    def _roles_for_item(self, *_: Any) -> None:
        from ..catalogue import load_catalogue
        from ..roles import role_name

        item = load_catalogue().deliverable(self.item.value) if self.item.value else None
        roles = list(item.signoff_roles) if item else []
        self.role.options = [(role_name(r), r) for r in roles]
        self.role.value = roles[0] if roles else None
        self._enable()

    def _enable(self, *_: Any) -> None:
        self.sign_button.disabled = not (self.item.value and self.role.value and self.by.value.strip())

    def refresh(self) -> None:
        from ..deliverables import statuses

        mine = [s for s in statuses(self.project) if s.stage == self.number]
        done = sum(s.state == "done" for s in mine if s.state != "not_applicable")
        total = sum(s.state != "not_applicable" for s in mine)
        rows = []
        for s in mine:
            how = {"auto": "automatic check", "signoff": "sign-off", "auto+signoff": "check + sign-off"}.get(
                s.verification, s.verification)
            evidence = ""
            if s.check and s.check.get("evidence"):
                ev = s.check["evidence"]
                ev = ev if isinstance(ev, list) else [ev]
                evidence = "<br>".join(f"<code>{html.escape(str(x))}</code>" for x in ev[:4])
            signed = "".join(f"<div class='mlops-small mlops-muted'>&#x201C;{html.escape(x['comment'])}&#x201D; "
                             f"({html.escape(x.get('by', ''))})</div>" for x in s.signoffs if x.get("comment"))
            rows.append(f"<tr class='mlops-item-row' data-item='{s.id}'><td><b>{s.id}</b></td>"
                        f"<td>{html.escape(s.text)}<div class='mlops-help'>{html.escape(s.reason)}</div>"
                        f"{evidence}{signed}</td><td class='mlops-small'>{how}</td>"
                        f"<td>{state_badge(s.state)}</td></tr>")
        self.table.value = (f"<div class='mlops-task-head'>Checklist: {done} of {total} done</div>"
                            "<table class='mlops-table'><tr><th>Item</th><th>Deliverable</th><th>Proven by</th>"
                            f"<th>State</th></tr>{''.join(rows)}</table>")
        self.statuses = mine

    def run_checks(self) -> None:
        from ..deliverables import run_checks

        self.check_button.disabled = True
        try:
            results = run_checks(self.project, [self.number])
        except AcceleratorError as exc:
            self.check_message.value = note("bad", html.escape(str(exc)))
            return
        finally:
            self.check_button.disabled = False
        passed = sum(1 for _, r in results if getattr(r, "passed", False))
        self.check_message.value = f"<span class='mlops-muted'>{passed} of {len(results)} checks passed</span>"
        self.refresh()

    def sign(self) -> bool:
        from ..deliverables import sign_off

        try:
            sign_off(self.project, self.item.value, self.by.value, self.role.value, self.comment.value)
        except AcceleratorError as exc:
            self.sign_message.value = note("bad", html.escape(str(exc)))
            return False
        self.sign_message.value = note("ok", f"Signed off <b>{html.escape(self.item.value)}</b> as "
                                             f"{html.escape(self.by.value)}.")
        self.comment.value = ""
        self.refresh()
        return True


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
