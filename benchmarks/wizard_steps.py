"""Guide -> Settings of every stage wizard, against plain Voila's button round trip, in headless Chromium.

    .venv/bin/python benchmarks/wizard_steps.py [--runs 5] [--stages 1,2,...] [--loads 20]

Starts `mlops-accelerator serve` on a fresh temporary project and a plain Voila serving a one-button
notebook (the button's Python handler changes a label), both on 127.0.0.1, in the same run. For each
stage, --runs fresh page loads (new browser context each) measure:
  tti       goto -> the wizard is interactive (Next enabled, Python idle)
  settings  click Next on the Guide -> the settings form is shown and Python has acknowledged the step
and for the baseline page:
  tti       goto -> the button is shown
  click     click the button -> its Python handler's label change is shown (a kernel round trip)
Ratios: settings / baseline click, tti / baseline tti (medians of the same run).

--loads N: instead, N fresh loads of every stage's Settings step, each checked for a rendered form and
a clean browser console (no error, no "widget model not found"); prints the failures per stage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from voila_tti import ARGS, CHROMIUM, free_port, serve_argv  # noqa: E402

STAGES = ["01-foundations", "02-design", "03-deploy", "04-data", "05-models", "06-monitor", "07-migrate"]
WIZARD_READY = "() => { const a = document.querySelector('.mlops-wizard[data-ready]'); " \
               "const b = document.querySelector('.mlops-next'); return a && a.getAttribute('aria-busy') === 'false'" \
               " && b && !b.disabled }"
SETTINGS_SHOWN = "() => { const a = document.querySelector('.mlops-wizard'); " \
                 "return a.getAttribute('aria-busy') === 'false' && " \
                 "!!document.querySelector('.mlops-settings-pane:not([hidden]) .mlops-field') }"
BASELINE_CODE = ("import ipywidgets as W\nb = W.Button(description='ok')\nout = W.Label('0')\n"
                 "def on(_):\n    out.value = str(int(out.value) + 1)\nb.on_click(on)\nW.VBox([b, out])")


def _wait(url: str) -> None:
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/", timeout=2)
            return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer")


def _offline(page) -> None:
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
        ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else r.abort())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--stages", default="1,2,3,4,5,6,7")
    ap.add_argument("--loads", type=int, default=0, help="check N fresh Settings loads per stage instead")
    opts = ap.parse_args()
    stages = [STAGES[int(n) - 1] for n in opts.stages.split(",")]

    import nbformat
    from playwright.sync_api import sync_playwright

    from mlops_accelerator.workspace import Project

    tmp = Path(tempfile.mkdtemp(prefix="wizard-steps-"))
    project = Project.create(tmp / "proj", "bench-project")
    port, bport = free_port(), free_port()
    server = subprocess.Popen([*serve_argv(), "-C", str(project.root), "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    bdir = tmp / "baseline"
    bdir.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(BASELINE_CODE)]
    nbformat.write(nb, bdir / "baseline.ipynb")
    baseline = subprocess.Popen(
        [sys.executable, "-m", "voila", str(bdir), "--no-browser", f"--port={bport}", "--Voila.ip=127.0.0.1",
         "--strip_sources=True", "--Voila.log_level=WARN"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base, bbase = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bport}"
    try:
        _wait(base)
        _wait(bbase)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            if opts.loads:
                return _loads(browser, base, stages, opts.loads)
            rows = _timings(browser, base, bbase, stages, opts.runs)
            browser.close()
    finally:
        for proc in (server, baseline):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)

    b_tti, b_click = (statistics.median(t) for t in rows.pop("baseline"))
    print(f"\nGuide -> Settings ({opts.runs} fresh loads per page, {os.cpu_count()} CPUs); baseline: plain Voila, "
          f"one button: first interactive {b_tti:.2f} s, button round trip {b_click * 1000:.0f} ms\n")
    print(f"| {'stage':<16} | {'tti s':>6} | {'tti/base':>8} | {'settings ms':>11} | {'max ms':>7} | "
          f"{'settings/click':>14} |")
    print(f"|{'-' * 18}|{'-' * 8}|{'-' * 10}|{'-' * 13}|{'-' * 9}|{'-' * 16}|")
    for name, (tti, settings) in rows.items():
        t, s = statistics.median(tti), statistics.median(settings)
        print(f"| {name:<16} | {t:6.2f} | {t / b_tti:7.2f}x | {s * 1000:11.0f} | {max(settings) * 1000:7.0f} | "
              f"{s / b_click:13.2f}x |")
    return 0


def _timings(browser, base: str, bbase: str, stages: list[str], runs: int) -> dict[str, tuple[list, list]]:
    rows: dict[str, tuple[list, list]] = {}
    tti, click = [], []
    for _ in range(runs):
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        _offline(page)
        t0 = time.perf_counter()
        page.goto(f"{bbase}/voila/render/baseline.ipynb", wait_until="commit")
        page.wait_for_function("() => !!document.querySelector('.widget-button')", timeout=120_000, polling=20)
        tti.append(time.perf_counter() - t0)
        page.wait_for_timeout(500)
        t0 = time.perf_counter()
        page.locator(".widget-button").click()
        page.wait_for_function("() => document.querySelector('.widget-label').innerText === '1'", polling=5)
        click.append(time.perf_counter() - t0)
        ctx.close()
        time.sleep(1.0)
    rows["baseline"] = (tti, click)
    for name in stages:
        tti, settings = [], []
        for _ in range(runs):
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            _offline(page)
            t0 = time.perf_counter()
            page.goto(f"{base}/voila/render/{name}.ipynb", wait_until="commit")
            page.wait_for_function(WIZARD_READY, timeout=120_000, polling=20)
            tti.append(time.perf_counter() - t0)
            page.wait_for_timeout(500)  # a person reads the Guide first
            t0 = time.perf_counter()
            page.locator(".mlops-next").click()
            page.wait_for_function(SETTINGS_SHOWN, timeout=60_000, polling=5)
            settings.append(time.perf_counter() - t0)
            ctx.close()
            time.sleep(1.0)
        rows[name] = (tti, settings)
    return rows


def _loads(browser, base: str, stages: list[str], n: int) -> int:
    bad_total = 0
    for name in stages:
        failures = []
        for i in range(n):
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            _offline(page)
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            try:
                page.goto(f"{base}/voila/render/{name}.ipynb")
                page.wait_for_function(WIZARD_READY, timeout=120_000, polling=50)
                page.locator(".mlops-next").click()
                page.wait_for_function(SETTINGS_SHOWN, timeout=60_000, polling=20)
                if page.get_by_text("Click to show javascript error").count():
                    errors.append("javascript error in place of a widget")
            except Exception as exc:  # noqa: BLE001 - a load that fails is what this counts
                errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
            ctx.close()
            if errors:
                failures.append((i, errors))
        bad_total += len(failures)
        print(f"{name}: {n - len(failures)}/{n} loads rendered the Settings form with a clean console")
        for i, errors in failures:
            print(f"   load {i + 1}: {errors[:3]}")
    return 1 if bad_total else 0


if __name__ == "__main__":
    sys.exit(main())
