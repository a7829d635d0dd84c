"""The same wizard inside a JupyterLab notebook: open it, run it, interact."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

import pytest
from playwright.sync_api import expect
from uihelpers import SHOTS, cli_argv, copy_wizards, free_port, stop, wait_http

FRESH_LOADS = 5
TIMEOUT_MS = 120_000  # a loaded machine starts kernels slowly; every wait ends as soon as it holds
NB = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show (never one restored behind it)
KERNEL_READY = """(path) => {
  const w = window.jupyterapp?.shell.currentWidget;
  const k = w?.sessionContext?.session?.kernel;
  return w?.context?.path === path && !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    from mlops_accelerator.workspace import Project

    root = tmp_path_factory.mktemp("lab") / "proj"
    Project.create(root, "lab-project")
    copy_wizards(root)
    settings = tmp_path_factory.mktemp("lab-settings")
    news = settings / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    # No autosave: a saved output would bring an earlier load's wizard back on the next fresh load.
    docmanager = settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    port, token = free_port(), secrets.token_hex(16)
    log = open(tmp_path_factory.mktemp("lab-log") / "lab.log", "w")
    # Its own workspaces folder: the default one (~/.jupyter/lab/workspaces) is shared by every lab
    # on the machine and would reopen notebooks of earlier runs behind the one under test.
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         "--no-browser", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={tmp_path_factory.mktemp('ws')}",
         "--ServerApp.port_retries=0", "--LabApp.expose_app_in_browser=True"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/api/status?token={token}", proc)
        yield base, token, root
    finally:
        stop(proc)
        log.close()


def run_wizard_cell(page, base: str, token: str, notebook: str) -> None:
    """Open the notebook and run its one cell as a person does (click it, Shift+Enter); wait for the
    wizard this run draws, not one left from an earlier load (kept alive by the notebook's kernel)."""
    page.goto(f"{base}/lab/tree/{notebook}?reset&token={token}")  # reset: reopen no earlier tab
    editor = page.locator(f"{NB} .jp-Cell .jp-InputArea-editor").first
    editor.wait_for(timeout=TIMEOUT_MS)
    page.locator(f"{NB} .jp-OutputArea .mlops-wizard").evaluate_all(
        "ws => ws.forEach(w => w.dataset.stale = 'true')")
    # A cell run before the notebook's kernel is connected is dropped without a word by JupyterLab:
    # wait for what the kernel indicator shows a person (connected and idle), then run it.
    page.wait_for_function(KERNEL_READY, arg=notebook, timeout=TIMEOUT_MS)
    editor.click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_selector(f"{NB} .jp-OutputArea .mlops-wizard[data-ready]:not([data-stale])[aria-busy=false]",
                           timeout=TIMEOUT_MS)


def test_wizard_runs_in_a_jupyterlab_notebook(page, lab):
    base, token, root = lab
    page.set_default_timeout(TIMEOUT_MS)
    run_wizard_cell(page, base, token, "02-design.ipynb")
    out = f"{NB} .jp-OutputArea"
    page.locator(f"{out} .mlops-next").click()
    page.wait_for_selector(f"{out} .mlops-step-settings.mlops-step-current")
    page.wait_for_selector(f"{out} .mlops-wizard[aria-busy=false] .mlops-settings-pane .mlops-field")
    field = page.locator(f"{out} .mlops-f-storage_account_name")
    box = page.get_by_label("Storage account name", exact=True)
    box.fill("Bad_Name")
    expect(field.locator(".mlops-error")).to_contain_text("rule: azure_storage_account_name")
    expect(page.locator(f"{out} .mlops-summary-errors")).to_contain_text("Storage account name")
    box.fill("stfromlab")
    field.locator(".mlops-error").wait_for(state="detached")
    expect(page.locator(f"{out} .mlops-next")).to_be_enabled()  # Python has checked the fix
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "voila-jupyterlab-02-design.png"))
    page.locator(f"{out} .mlops-next").click()  # review & save
    page.locator(f"{out} .mlops-save").click()
    page.wait_for_selector(f"{out} >> text=Saved.")
    out = subprocess.run([*cli_argv(), "-C", str(root), "settings", "show", "design", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["storage_account_name"] == "stfromlab"


def test_settings_step_renders_on_fresh_loads_in_jupyterlab(page, lab):
    base, token, root = lab
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    out = f"{NB} .jp-OutputArea"
    for _ in range(FRESH_LOADS):
        run_wizard_cell(page, base, token, "04-data.ipynb")
        page.locator(f"{out} .mlops-wizard:not([data-stale]) .mlops-next").click()
        page.wait_for_selector(f"{out} .mlops-wizard:not([data-stale]) .mlops-step-settings.mlops-step-current")
        page.wait_for_selector(f"{out} .mlops-wizard:not([data-stale])[aria-busy=false] "
                               ".mlops-settings-pane .mlops-field")
        assert page.get_by_text("Click to show javascript error").count() == 0
    assert [e for e in errors if "widget model not found" in e or "anywidget" in e.lower()] == []
