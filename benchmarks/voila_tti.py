"""Time-to-interactive of the Voila wizards, from request to widgets rendered, in headless Chromium.

    .venv/bin/python benchmarks/voila_tti.py [--runs 5] [--pages home,02-design] [--preheat]

Starts `mlops-accelerator serve` on a free port against a fresh temporary project, opens each
page --runs times in a new browser context (cold browser cache each time, like a first visit),
and measures from `page.goto` to the wizard's widgets being rendered and usable:
  home      -> the seven stage cards and the role filter are visible
  stage     -> the step bar is visible and the Next button is enabled
  baseline  -> a one-button ipywidgets notebook served by plain Voila in the same run: the cost of
               Voila itself (kernel start, widget manager), so the wizards' own share shows as a ratio
Prints a table of median / min / max seconds. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
READY = {
    "baseline": "() => !!document.querySelector('.widget-button')",
    "home": "() => document.querySelectorAll('.mlops-stage').length === 7 && "
            "!!document.querySelector('.mlops-role-filter select')",
    "stage": "() => { const b = document.querySelector('.mlops-next'); "
             "return !!document.querySelector('.mlops-step-current') && b && !b.disabled }",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_argv() -> list[str]:
    from mlops_accelerator.cli import main

    if "serve" in main.commands:
        return [sys.executable, "-m", "mlops_accelerator.cli"]
    return [sys.executable, "-c", "import sys; from mlops_accelerator.cli import main; "
            "from mlops_accelerator.serve import serve; main.add_command(serve); main()"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pages", default="home,02-design")
    ap.add_argument("--preheat", action="store_true", help="serve with --preheat (kernels kept ready)")
    opts = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from mlops_accelerator.workspace import Project

    tmp = Path(tempfile.mkdtemp(prefix="voila-tti-"))
    project = Project.create(tmp / "proj", "bench-project")
    port = free_port()
    cmd = [*serve_argv(), "-C", str(project.root), "serve", "--port", str(port)]
    if opts.preheat:
        cmd.append("--preheat")
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    # Baseline: plain Voila on a one-button notebook, same machine, same run.
    import nbformat

    bdir = tmp / "baseline"
    bdir.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.Button(description='ok')")]
    nbformat.write(nb, bdir / "baseline.ipynb")
    bport = free_port()
    baseline_server = subprocess.Popen(
        [sys.executable, "-m", "voila", str(bdir), "--no-browser", f"--port={bport}", "--Voila.ip=127.0.0.1",
         "--strip_sources=True", "--Voila.log_level=WARN"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    bbase = f"http://127.0.0.1:{bport}"
    rows = []
    try:
        for url in (base, bbase):
            for _ in range(240):
                try:
                    urllib.request.urlopen(url + "/", timeout=2)
                    break
                except OSError:
                    time.sleep(0.25)
        if opts.preheat:
            time.sleep(20)  # let the pool fill
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for name in ["baseline", *opts.pages.split(",")]:
                kind = name if name in ("home", "baseline") else "stage"
                url = bbase if name == "baseline" else base
                times = []
                for _ in range(opts.runs):
                    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = ctx.new_page()
                    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                        ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else r.abort())
                    t0 = time.perf_counter()
                    page.goto(f"{url}/voila/render/{name}.ipynb", wait_until="commit")
                    page.wait_for_function(READY[kind], timeout=120_000, polling=50)
                    times.append(time.perf_counter() - t0)
                    ctx.close()
                    time.sleep(6.0 if opts.preheat else 1.0)  # kernel shut down; pool refilled
                rows.append((name, times))
            browser.close()
    finally:
        for proc in (server, baseline_server):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nVoila time-to-interactive ({'preheated kernels' if opts.preheat else 'cold kernel per page'}, "
          f"{opts.runs} runs, {os.cpu_count()} CPUs)\n")
    print(f"| {'page':<22} | {'median s':>8} | {'min s':>6} | {'max s':>6} | {'vs baseline':>11} |")
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 8}|{'-' * 8}|{'-' * 13}|")
    base_median = statistics.median(rows[0][1])
    for name, times in rows:
        med = statistics.median(times)
        print(f"| {name + '.ipynb':<22} | {med:8.2f} | {min(times):6.2f} | {max(times):6.2f} | "
              f"{med / base_median:10.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
