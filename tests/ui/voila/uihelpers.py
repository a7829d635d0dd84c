"""Helpers of the browser tests (imported by conftest.py and the tests; a unique module name so
these tests also run from the repository root next to tests/conftest.py)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# `serve` requires a token (it prints it in the URL); the suite picks its own.
VOILA_TOKEN = secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server this suite started (its own process group: voila/lab and their kernels)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def cli_argv() -> list[str]:
    """`mlops-accelerator` (with `serve` registered by the lead), or a shim until it is."""
    from mlops_accelerator.cli import main

    if "serve" in main.commands:
        return [sys.executable, "-m", "mlops_accelerator.cli"]
    shim = ("import sys; from mlops_accelerator.cli import main; from mlops_accelerator.serve import serve; "
            "main.add_command(serve); sys.argv[0] = 'mlops-accelerator'; main()")
    return [sys.executable, "-c", shim]


def shot(page, name: str) -> Path:
    """A screenshot of the whole app (Voila scrolls inside the page, so grow the viewport to fit)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0 });"
                  "window.scrollTo(0, 0)")
    height = page.evaluate("Math.max(900, ...[...document.querySelectorAll('.mlops-app')]"
                           ".map(e => e.getBoundingClientRect().bottom + 40))")
    page.set_viewport_size({"width": 1280, "height": int(min(height, 12000))})
    page.wait_for_timeout(300)
    path = SHOTS / f"voila-{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1280, "height": 900})
    return path


def copy_wizards(dest: Path) -> None:
    for nb in (REPO / "wizards").glob("*.ipynb"):
        shutil.copy(nb, dest / nb.name)
