
"""`serve` does not pile up kernels: a left page's kernel is shut down, a crashed page's is culled,
an open page keeps its kernel and keeps working."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from uihelpers import VOILA_TOKEN, free_port, wait_http

# Generous bounds: the machine may be loaded; every wait ends as soon as its condition holds.
PAGE_TIMEOUT_MS = 120_000
IDLE_SECONDS = 6


def _kernels(server_pid: int) -> int:
    out = subprocess.run(["ps", "-eo", "ppid,args"], capture_output=True, text=True).stdout
    return sum(1 for line in out.splitlines()
               if line.split(None, 1)[0] == str(server_pid) and "ipykernel" in line)


def _wait_kernels(server_pid: int, n: int, timeout: float) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if _kernels(server_pid) == n:
            return n
        time.sleep(0.5)
    return _kernels(server_pid)


def _stays(server_pid: int, n: int, seconds: float) -> None:
    """The count holds for the whole window (a negative: time itself must pass; checked all along)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        assert _kernels(server_pid) == n
        time.sleep(0.5)


def test_left_and_crashed_pages_free_their_kernels(project, tmp_path, browser):
    from mlops_accelerator.serve import voila_command

    port = free_port()
    # `serve` refuses requests without its token (serve_guard): the pages carry it, like serve's URL
    argv, env = voila_command(project.root, port, token=VOILA_TOKEN)
    # the same culling flags as `serve`, with seconds instead of minutes
    argv = [a.replace("cull_idle_timeout=600", f"cull_idle_timeout={IDLE_SECONDS}")
            .replace("cull_interval=60", "cull_interval=1") for a in argv]
    proc = subprocess.Popen(argv, env=env, start_new_session=True, stdout=open(tmp_path / "voila.log", "w"),
                            stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc)
        url = f"http://127.0.0.1:{port}/voila/render/04-data.ipynb?token={VOILA_TOKEN}"
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        for _ in range(3):  # reloads: each left page's kernel is shut down by its beacon
            page.goto(url)
            page.wait_for_selector(".mlops-wizard[data-ready]")
        assert _wait_kernels(proc.pid, 1, 120) == 1
        _stays(proc.pid, 1, 3 * IDLE_SECONDS)  # idle much longer than the timeout: an open page is not culled
        page.locator(".mlops-next").click()
        page.wait_for_selector(".mlops-wizard[aria-busy=false] .mlops-settings-pane .mlops-field")
        assert _kernels(proc.pid) == 1
        context.close()  # like a crashed tab: no beforeunload, no beacon
        assert _wait_kernels(proc.pid, 0, 120) == 0  # culled
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
