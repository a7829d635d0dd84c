"""Generate & Run: start the stage's notebooks in the background, follow them, show what they made."""

from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as W

from .style import note

MAX_LINK_BYTES = 3_000_000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def clean_log(text: str) -> str:
    """Terminal output -> plain lines: no colour or cursor codes, one line per progress bar."""
    out: list[str] = []
    for raw in _ANSI.sub("", text).replace("\r\n", "\n").split("\n"):
        line = raw.split("\r")[-1].rstrip()
        if not line:
            continue
        if out and "━" in line and "━" in out[-1]:
            out[-1] = line  # a progress bar redrawn: keep its latest state
        else:
            out.append(line)
    return "\n".join(out)
FINISHED = ("succeeded", "failed", "unknown")


def azure_jobs(project: Any, run_id: str) -> dict[str, dict[str, Any]]:
    """A run's Azure ML jobs from the ledger: notebook key -> {job, status, studio_url} (latest status)."""
    jobs: dict[str, dict[str, Any]] = {}
    try:
        for e in project.events("azureml_job"):
            if e.get("run_id") == run_id:
                known = jobs.setdefault(str(e["key"]), {})
                known.update({k: e[k] for k in ("job", "status", "studio_url") if e.get(k)})
    except Exception:  # noqa: BLE001 - an unreadable ledger must not break the page
        return {}
    return jobs


def _notebook_key(nb: dict[str, Any]) -> str:
    from ..catalogue import stage_folder

    try:
        return f'{stage_folder(str(nb.get("stage")))}/{nb.get("notebook")}'
    except Exception:  # noqa: BLE001 - a stage the catalogue does not know: no job to match
        return ""


def _job_cell(job: dict[str, Any]) -> str:
    name, status = html.escape(str(job.get("job"))), html.escape(str(job.get("status")))
    url = str(job.get("studio_url") or "")
    link = f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{name}</a>' \
        if url.startswith("https://") else f"<code>{name}</code>"
    return f'<span class="mlops-job">{link} · {status}</span>'


def _target_choice(slug: str, layout: W.Layout) -> W.ToggleButtons | None:
    """Where the notebooks run: this machine, or Azure ML (jobs on the workspace's cluster, and
    stage 3 deployed and read back); None (no widget) where the azureml target does not cover the stage."""
    from ..targets import available

    if not available("azureml", slug):
        return None
    choice = W.ToggleButtons(options=[("This machine", "local"), ("Azure ML", "azureml")], value="local",
                             description="Run on", layout=layout,  # a shared layout: fewer widget models
                             tooltips=["Run the notebooks here (no Azure account needed)",
                                       "Run on Azure ML: sign-in and pre-flight first; findings appear beside "
                                       "the settings they name"])
    choice.add_class("mlops-target")
    return choice


def _runs():
    from .. import runs  # the runner pulls in papermill only in the background process

    return runs


class RunPanel:
    def __init__(self, project: Any, slug: str, *, autopoll: bool = True, interval: float = 1.0):
        self.project = project
        self.slug = slug
        self.autopoll = autopoll
        self.interval = interval
        self.run_id: str | None = None
        self.progress: dict[str, Any] | None = None
        self._thread: threading.Thread | None = None

        self.intro = W.HTML(note("info", "Generates this stage's parameterised notebooks from the <b>saved</b> "
                                 "settings and runs them on the local target. You can leave this page: the run "
                                 "continues and its results stay in the project."))
        self.run_button = W.Button(description="Generate & run notebooks", icon="play", button_style="primary",
                                   layout=W.Layout(width="auto", height="36px"))
        self.run_button.add_class("mlops-run")
        self.run_button.on_click(lambda _: self.start())
        self.target = _target_choice(slug, self.run_button.layout)  # local, or Azure ML where covered
        self.bar = W.IntProgress(value=0, min=0, max=1, layout=W.Layout(width="340px"))
        self.state = W.HTML("")
        self.state.add_class("mlops-run-state")
        self.table = W.HTML("")
        self.failure = W.HTML("")
        self.failure.add_class("mlops-run-failure")
        self.outputs = W.HTML("")
        self.outputs.add_class("mlops-outputs")
        self.charts = W.HTML("")  # charts inline as images: one model however many charts
        self.charts.add_class("mlops-charts")
        self.chart_paths: list[str] = []
        self.preview_pick = W.Dropdown(options=[], description="Preview an output",
                                       style={"description_width": "initial"}, layout=W.Layout(width="560px"))
        self.preview_pick.observe(self._preview, "value")
        self.preview = W.HTML("")
        self.preview_box = W.VBox([self.preview_pick, self.preview])
        self.preview_box.layout.display = "none"
        self.log = W.HTML("")
        self.log_text = ""
        self.log.add_class("mlops-log")
        self.log.layout.display = "none"
        self.widget = W.VBox([self.intro, *([self.target] if self.target else []),
                              W.HBox([self.run_button, self.bar, self.state],
                                                 layout=W.Layout(align_items="center")),
                              self.failure, self.table, self.outputs, self.charts, self.preview_box,
                              self.log])
        self.widget.add_class("mlops-runpanel")
        self._show_last_run()

    # -- starting and following --------------------------------------------------

    def _show_last_run(self) -> None:
        """On opening, show the stage's latest run (it may still be going)."""
        try:
            last = None
            for event in self.project.events("run_started"):
                if self.slug in (event.get("stages") or []):
                    last = event.get("run_id")
        except Exception:  # noqa: BLE001 - an unreadable ledger must not break the page
            return
        if last:
            self.run_id = last
            state = self.poll()
            if state not in FINISHED:
                self._follow()

    def start(self) -> str | None:
        try:
            where = {} if self.target is None or self.target.value == "local" else {"target": self.target.value}
            self.run_id = _runs().start_background_run(self.project, [self.slug], **where)
        except Exception as exc:  # noqa: BLE001 - shown to the user in plain words
            self.state.value = ""
            self.failure.value = note("bad", f"The run could not start: {html.escape(str(exc))}")
            return None
        self.failure.value = ""
        self.outputs.value = ""
        self.charts.value = ""
        self.chart_paths = []
        self.state.value = '<span class="mlops-state queued">starting…</span>'
        self.run_button.disabled = True
        self._follow()
        return self.run_id

    def _follow(self) -> None:
        if not self.autopoll:
            return
        self.run_button.disabled = True

        def loop() -> None:
            while True:
                time.sleep(self.interval)
                try:
                    state = self.poll()
                except Exception as exc:  # noqa: BLE001
                    self.failure.value = note("bad", f"Lost track of the run: {html.escape(str(exc))}")
                    break
                if state in FINISHED:
                    break
            self.run_button.disabled = False

        self._thread = threading.Thread(target=loop, daemon=True, name=f"mlops-run-{self.run_id}")
        self._thread.start()

    def wait(self, timeout: float = 300) -> dict[str, Any] | None:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.progress

    def poll(self) -> str:
        """Read the run's progress once and render it; returns the run state."""
        p = _runs().run_progress(self.project, self.run_id)
        self.progress = p
        self.render(p)
        if p["state"] in FINISHED:
            self.run_button.disabled = False
        return p["state"]

    # -- rendering ----------------------------------------------------------------

    def render(self, p: dict[str, Any]) -> None:
        total = p.get("total") or 0
        done = p.get("finished") or 0
        self.bar.max = max(total, 1)
        self.bar.value = min(done, self.bar.max)
        self.bar.bar_style = {"succeeded": "success", "failed": "danger"}.get(p["state"], "info")
        count = f"{done} of {total} notebooks" if total else "preparing notebooks"
        self.state.value = (f'<span class="mlops-state {p["state"]}">{p["state"]}</span> '
                            f'<span class="mlops-muted">{count} · run <code>{html.escape(p["run_id"])}</code></span>')
        rows = []
        jobs = azure_jobs(self.project, p["run_id"])  # --target azureml: each notebook's Azure ML job
        extra = (lambda job: f"<td>{_job_cell(job) if job else ''}</td>") if jobs else (lambda job: "")
        for nb in p.get("notebooks") or []:
            dur = f'{nb["duration_s"]:.1f} s' if isinstance(nb.get("duration_s"), (int, float)) else ""
            job = jobs.pop(_notebook_key(nb), None)
            rows.append(f'<tr><td><code>{html.escape(str(nb.get("notebook")))}</code></td>'
                        f'<td><span class="mlops-state {nb.get("status")}">{html.escape(str(nb.get("status")))}'
                        f'</span></td><td>{dur}</td>{extra(job)}</tr>')
        rows += [f"<tr><td><code>{html.escape(key)}</code></td><td></td><td></td>{extra(job)}</tr>"
                 for key, job in jobs.items()]  # jobs not finished yet
        head = "<th>Notebook</th><th>Status</th><th>Time</th>" + extra(None).replace("td>", "th>")
        if extra(None):
            head = head.replace("<th></th>", "<th>Azure ML job</th>")
        self.table.value = (f"<table class='mlops-table'><tr>{head}</tr>" + "".join(rows) + "</table>") if rows else ""
        self.failure.value = self._failures(p)
        self._render_outputs(p)
        log = clean_log(p.get("log_tail") or "")
        if log:
            self.log.layout.display = None
            if self.log_text != log:
                self.log_text = log
                self.log.value = (f'<div class="mlops-label">Live log</div>'
                                  f'<pre class="mlops-logpre">{html.escape(log)}</pre>')

    def _failures(self, p: dict[str, Any]) -> str:
        parts = []
        for nb in p.get("notebooks") or []:
            e = nb.get("error")
            if nb.get("status") != "failed" and not e:
                continue
            e = e or {}
            cell = e.get("cell_index")
            where = f"at cell {cell}" if cell is not None else "before its first cell"
            source = self._cell_source(nb.get("output"), cell)
            code = ("<pre class='mlops-small' style='background:var(--jp-layout-color2);padding:6px;"
                    f"border-radius:4px;white-space:pre-wrap'>{html.escape(source)}</pre>") if source else ""
            parts.append(f"<b>{html.escape(str(nb.get('notebook')))}</b> stopped {where}: "
                         f"<b>{html.escape(str(e.get('ename') or 'error'))}</b>: "
                         f"{html.escape(str(e.get('evalue') or ''))}{code}")
        if not parts and p["state"] == "failed":
            errors = [ln for ln in clean_log(p.get("log_tail") or "").splitlines()
                      if ln.lower().startswith("error")]
            why = f": <b>{html.escape(errors[-1])}</b>" if errors else "; the log below says why"
            parts.append(f"It stopped before any notebook finished{why}.")
        if not parts:
            return ""
        return note("bad", "<b>The run failed.</b> " + "<br>".join(parts)
                    + "<div class='mlops-small'>Fix the setting or the notebook, then run again.</div>")

    def _cell_source(self, output: str | None, cell: Any) -> str:
        if not output or cell is None:
            return ""
        path = Path(output)
        if not path.is_absolute():
            path = self.project.root / path
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
            src = nb["cells"][int(cell)]["source"]
            src = "".join(src) if isinstance(src, list) else src
        except Exception:  # noqa: BLE001 - the executed notebook may not be written yet
            return ""
        lines = src.splitlines()
        return "\n".join(lines[:12]) + ("\n…" if len(lines) > 12 else "")

    def _render_outputs(self, p: dict[str, Any]) -> None:
        outputs = p.get("outputs") or []
        if not outputs:
            self.outputs.value = ""
            return
        items = []
        for rel in outputs:
            path = self.project.root / rel
            items.append(f"<li>{self._link(path, rel)}</li>")
        self.outputs.value = (f"<div class='mlops-label'>Outputs ({len(outputs)})</div>"
                              f"<div class='mlops-help'>In <code>{html.escape(str(self.project.root))}</code>; "
                              f"click to download, or preview below.</div><ul>{''.join(items)}</ul>")
        charts = [rel for rel in outputs if rel.lower().endswith((".png", ".svg"))]
        if self.chart_paths != charts[:12]:
            self.chart_paths = charts[:12]
            self.charts.value = "".join(self._chart(rel) for rel in self.chart_paths)
        options = [rel for rel in outputs if not rel.endswith(".ipynb")]
        if list(self.preview_pick.options) != [None, *options]:
            current = self.preview_pick.value
            self.preview_pick.options = [None, *options]
            self.preview_pick.value = current if current in options else None
        self.preview_box.layout.display = None if options else "none"

    def _link(self, path: Path, rel: str) -> str:
        name = html.escape(rel)
        try:
            size = path.stat().st_size
        except OSError:
            return f"<code>{name}</code>"
        if size > MAX_LINK_BYTES:
            return f"<code>{name}</code> <span class='mlops-muted'>({size // 1024} KB)</span>"
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = base64.b64encode(path.read_bytes()).decode()
        return (f'<a download="{html.escape(path.name)}" href="data:{mime};base64,{data}">{name}</a> '
                f"<span class='mlops-muted mlops-small'>({max(size // 1024, 1)} KB)</span>")

    def _chart(self, rel: str) -> str:
        path = self.project.root / rel
        try:
            data = path.read_bytes()
        except OSError:
            return ""
        if len(data) > MAX_LINK_BYTES:
            return ""
        mime = "image/svg+xml" if rel.lower().endswith(".svg") else "image/png"
        name = html.escape(Path(rel).name)
        return (f"<figure class='mlops-card mlops-chart'><img alt='{name}' style='max-width:540px;width:100%' "
                f"src='data:{mime};base64,{base64.b64encode(data).decode()}'><figcaption class='mlops-small "
                f"mlops-muted'>{name}</figcaption></figure>")

    def _preview(self, change: Any) -> None:
        rel = change["new"]
        if not rel:
            self.preview.value = ""
            return
        path = self.project.root / rel
        try:
            text = path.read_text(encoding="utf-8", errors="replace")[:200_000]
        except OSError as exc:
            self.preview.value = note("bad", html.escape(str(exc)))
            return
        if rel.endswith(".html"):
            self.preview.value = (f'<iframe srcdoc="{html.escape(text, quote=True)}" style="width:100%;'
                                  'height:480px;border:1px solid var(--jp-border-color2);border-radius:6px"></iframe>')
        else:
            self.preview.value = (f"<pre style='max-height:420px;overflow:auto;background:var(--jp-layout-color2);"
                                  "padding:8px;"
                                  f"border:1px solid var(--jp-border-color2);border-radius:6px;white-space:pre-wrap'>"
                                  f"{html.escape(text)}</pre>")
