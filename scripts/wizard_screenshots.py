"""Screenshots of every stage's Settings step in JupyterLab's light and dark themes (Voila), for docs/images/.

    .venv/bin/python scripts/wizard_screenshots.py [--out docs/images] [--width 1280]

Serves the wizards for a fresh sample project (`mlops-accelerator init --sample`) on 127.0.0.1, opens each
stage in headless Chromium with ?theme=light / ?theme=dark, goes to Settings and writes
settings-<NN>-<slug>-<theme>.png (the first task; --all: every task); with --home the home page too
(home-<theme>.png), with --project an existing project (the sample after `make sample` shows its
progress). Also reports anything wider than the window (clipped content).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from voila_tti import ARGS, CHROMIUM, free_port, serve_argv  # noqa: E402
from wizard_steps import SETTINGS_SHOWN, WIZARD_READY, _offline, _wait  # noqa: E402

STAGES = ["01-foundations", "02-design", "03-deploy", "04-data", "05-models", "06-monitor", "07-migrate"]
# elements whose right edge passes the window, outside the tables that scroll on purpose
OVERFLOW = """() => [...document.querySelectorAll('.mlops-wizard *, .mlops-home *')].filter(e => {
  if (e.closest('.mlops-table-wrap') || e.closest('[hidden]')) return false;
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.right > window.innerWidth + 1;
}).map(e => e.className || e.tagName).slice(0, 5)"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/images")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--stages", default="1,2,3,4,5,6,7")
    ap.add_argument("--all", action="store_true", help="show all tasks (a long page) instead of the first")
    ap.add_argument("--project", type=Path, help="an existing project (e.g. the sample after `make sample`) "
                                                   "instead of a fresh sample")
    ap.add_argument("--home", action="store_true", help="also the home page: home-light.png, home-dark.png")
    opts = ap.parse_args()
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="wizard-shots-"))
    root = opts.project.resolve() if opts.project else tmp / "proj"
    if not opts.project:
        subprocess.run([*serve_argv(), "init", str(root), "--sample"], check=True, capture_output=True)
    port = free_port()
    token = secrets.token_hex(16)  # `serve` requires one
    server = subprocess.Popen([*serve_argv(), "-C", str(root), "serve", "--port", str(port), "--token", token],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    clipped = 0
    try:
        _wait(base)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for theme in ("light", "dark") if opts.home else ():
                page = browser.new_page(viewport={"width": opts.width, "height": 900})
                _offline(page)
                page.goto(f"{base}/voila/render/home.ipynb?theme={theme}&token={token}")
                page.wait_for_selector(".mlops-stage", timeout=120_000)
                page.wait_for_timeout(500)
                clipped += _shoot(page, out / f"home-{theme}.png", opts.width, ".mlops-home")
            for n in opts.stages.split(","):
                name = STAGES[int(n) - 1]
                for theme in ("light", "dark"):
                    page = browser.new_page(viewport={"width": opts.width, "height": 900})
                    _offline(page)
                    page.goto(f"{base}/voila/render/{name}.ipynb?theme={theme}&token={token}")
                    page.wait_for_function(WIZARD_READY, timeout=120_000)
                    page.locator(".mlops-next").click()
                    page.wait_for_function(SETTINGS_SHOWN, timeout=60_000)
                    if opts.all:
                        page.locator(".mlops-tasklink", has_text="All tasks").click()
                    page.wait_for_timeout(300)
                    clipped += _shoot(page, out / f"settings-{name}-{theme}.png", opts.width, ".mlops-wizard")
                    page.close()
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)  # never the --project given
    return 1 if clipped else 0


def _shoot(page, path: Path, width: int, whole: str) -> int:
    """The page as tall as `whole` is; 1 (and what) when anything is wider than the window."""
    over = page.evaluate(OVERFLOW)
    if over:
        print(f"{path.name}: wider than {width} px: {over}")
    height = page.evaluate(f"document.querySelector('{whole}').getBoundingClientRect().bottom")
    page.set_viewport_size({"width": width, "height": int(min(max(height + 40, 900), 16000))})
    page.wait_for_timeout(200)
    page.screenshot(path=str(path))
    print(path)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
