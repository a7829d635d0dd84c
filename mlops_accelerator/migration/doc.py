"""A tiny report builder: the same blocks rendered as Markdown and as self-contained HTML."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


class Doc:
    def __init__(self, title: str):
        self.title = title
        self.blocks: list[tuple[str, Any]] = []

    def heading(self, text: str) -> Doc:
        self.blocks.append(("h2", text))
        return self

    def para(self, text: str) -> Doc:
        self.blocks.append(("p", text))
        return self

    def bullets(self, items: list[str]) -> Doc:
        if items:
            self.blocks.append(("ul", list(items)))
        return self

    def table(self, header: list[str], rows: list[list[Any]], empty: str = "none") -> Doc:
        self.blocks.append(("table", (header, rows, empty)))
        return self

    def code(self, text: str, lang: str = "") -> Doc:
        self.blocks.append(("code", (text, lang)))
        return self

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for kind, value in self.blocks:
            if kind == "h2":
                out += [f"## {value}", ""]
            elif kind == "p":
                out += [value, ""]
            elif kind == "ul":
                out += [f"- {v}" for v in value] + [""]
            elif kind == "table":
                header, rows, empty = value
                if not rows:
                    out += [f"*{empty}*", ""]
                    continue
                out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows] + [""]
            elif kind == "code":
                text, lang = value
                fence = "````" if "```" in text else "```"
                out += [f"{fence}{lang}", text.rstrip("\n"), fence, ""]
        return "\n".join(out)

    def html(self) -> str:
        e = html.escape
        body = [f"<h1>{e(self.title)}</h1>"]
        for kind, value in self.blocks:
            if kind == "h2":
                body.append(f"<h2>{e(value)}</h2>")
            elif kind == "p":
                body.append(f"<p>{e(value)}</p>")
            elif kind == "ul":
                body.append("<ul>" + "".join(f"<li>{e(v)}</li>" for v in value) + "</ul>")
            elif kind == "table":
                header, rows, empty = value
                if not rows:
                    body.append(f"<p><em>{e(empty)}</em></p>")
                    continue
                head = "".join(f"<th>{e(h)}</th>" for h in header)
                trs = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows)
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table>")
            elif kind == "code":
                body.append(f"<pre><code>{e(value[0])}</code></pre>")
        style = ("body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
                 "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.25em .5em;text-align:left}"
                 "pre{background:#f4f4f4;padding:.5em;overflow:auto}")
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(self.title)}</title>'
                f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")

    def write(self, folder: Path, stem: str) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        md, page = folder / f"{stem}.md", folder / f"{stem}.html"
        md.write_text(self.markdown(), encoding="utf-8")
        page.write_text(self.html(), encoding="utf-8")
        return md, page
