"""The deliverables board: one column per stage, one card per checklist item, coloured by state."""

from __future__ import annotations

import html
from typing import Any

from .style import GREEN, ORANGE, RED


def board_html(data: dict[str, Any], role: str | None = None) -> str:
    """HTML of the board from `report.status_data`; items the role may sign are outlined."""
    cols = []
    for s in data["stages"]:
        d = s["deliverables"]
        cards = []
        for i in s["items"]:
            mine = role is not None and role in (i.get("signoff_roles") or [])
            tip = f'{i["id"]}: {i["state"].replace("_", " ")}. {i["reason"]}'
            cards.append(f'<div class="mlops-item {i["state"]}{" mine" if mine else ""}" title="{html.escape(tip)}">'
                         f'<b>{html.escape(i["id"])}</b> {html.escape(_short(i["text"]))}</div>')
        cols.append(f'<div class="mlops-col"><h4>{s["number"]}. {html.escape(s["title"])}</h4>'
                    f'<div class="mlops-small mlops-muted">{d["done"]}/{d["total"]} done</div>{"".join(cards)}</div>')
    legend = ('<div class="mlops-legend">'
              f'<span><i style="background:{GREEN}"></i>done</span>'
              f'<span><i style="background:{ORANGE}"></i>awaiting sign-off</span>'
              f'<span><i style="background:{RED}"></i>failed</span>'
              '<span><i style="background:#bdbdbd"></i>to do</span>'
              + ('<span><i style="background:#fff;box-shadow:0 0 0 2px #0f6cbd"></i>you may sign</span>'
                 if role else "") + "</div>")
    return f'<div class="mlops-board">{"".join(cols)}</div>{legend}'


def _short(text: str, n: int = 90) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
