"""A real `jupyter lab` on 127.0.0.1 and headless Debian Chromium driven by Playwright (Python).

Only collected when this folder is pytest's rootdir (`pytest tests/ui/lab`): the main suite
(`pytest` at the repository root) ignores it.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_ignore_collect(collection_path, config):
    return config.rootpath != HERE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, url: str, token: str, root: Path, proc: subprocess.Popen, log: Path):
        self.url, self.token, self.root, self.proc, self.log = url, token, root, proc, log

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        req = urllib.request.Request(f"{self.url}/mlops-accelerator/{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mlops_accelerator.cli", "-C", str(self.root), *args],
                              capture_output=True, text=True, timeout=120)


def _stub_templates(base: Path) -> Path | None:
    """Two tiny stage-1 templates, used only while the repository ships none for stage 1."""
    if any((REPO / "notebooks" / "01-foundations").glob("*.ipynb")):
        return None
    import nbformat

    folder = base / "templates" / "01-foundations"
    folder.mkdir(parents=True)
    for i, name in enumerate(("01-check-project", "02-write-summary")):
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell('project_name = "x"\noutput_dir = "."')
        params.metadata["tags"] = ["parameters"]
        nb.cells = [params, nbformat.v4.new_code_cell(
            "import pathlib, time\ntime.sleep(1.5)\n"
            f"pathlib.Path(output_dir, 'summary-{i}.md').write_text(f'# {{project_name}}\\n')")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder.parent


def start_lab(base: Path, with_project: bool = True, templates: Path | None = None) -> Lab:
    from mlops_accelerator.workspace import Project

    root = base / "root"
    root.mkdir(parents=True)
    if with_project:
        from mlops_accelerator.roles import ROLE_IDS

        project = Project.create(root, "contoso-churn")
        # Sign-offs are by people on the roster; the lab's user (one shared token) signs as Grace.
        project.set_values("foundations", {"team_roster": [
            {"name": "Grace Hopper", "email": "grace@contoso.com", "roles": list(ROLE_IDS)},
            {"name": "Alan Turing", "email": "alan@contoso.com", "roles": list(ROLE_IDS)}]})
    settings = base / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = _free_port(), secrets.token_hex(16)
    log = base / "lab.log"
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "JUPYTER_PLATFORM_DIRS": "1",
           "MLOPS_ACCELERATOR_USER": "ui-test"}
    # A run on the azureml target started from the UI signs in and calls Azure only on a closed local
    # port (Resource Manager, the login authority and the managed identity endpoint the sign-in tries):
    # it fails at sign-in, saying so, and nothing leaves 127.0.0.1.
    closed = f"127.0.0.1:{_free_port()}"
    env.update({"MLOPS_ACCELERATOR_AZURE_ARM_ENDPOINT": f"https://{closed}", "AZURE_AUTHORITY_HOST": f"https://{closed}",
                "IDENTITY_ENDPOINT": f"http://{closed}/msi", "IDENTITY_HEADER": "closed", "DO_NOT_TRACK": "true"})
    stub = templates or _stub_templates(base)
    if stub is not None:
        env["MLOPS_ACCELERATOR_TEMPLATES"] = str(stub)
    # LAB_PYTHON: the Python of another environment (e.g. a fresh venv holding only the wheel).
    python = os.environ.get("LAB_PYTHON") or sys.executable
    if os.environ.get("LAB_PYTHON"):
        env["PATH"] = str(Path(python).parent)  # no node on PATH: the wheel's prebuilt bundle only
    proc = subprocess.Popen(
        [python, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--allow-root", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         '--MLOpsAccelerator.signers={"*": "grace@contoso.com"}',
         f"--LabApp.user_settings_dir={base / 'user-settings'}",
         f"--LabApp.workspaces_dir={base / 'workspaces'}", "--LabApp.expose_app_in_browser=True",
         "--ServerApp.open_browser=False"],
        stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=base)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/lab?token={token}", timeout=5) as resp:
                if resp.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"jupyter lab did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    return Lab(url, token, root, proc, log)


def stop_lab(lab: Lab) -> None:
    lab.proc.terminate()
    try:
        lab.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        lab.proc.kill()
        lab.proc.wait()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    instance = start_lab(tmp_path_factory.mktemp("lab"))
    yield instance
    stop_lab(instance)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1400, "height": 900})
        yield context
        context.close()


def _local_only(route):
    host = route.request.url.split("/")[2].split(":")[0] if "://" in route.request.url else "127.0.0.1"
    if host == "127.0.0.1" or route.request.url.startswith(("data:", "blob:")):
        route.continue_()
    else:
        route.abort()


# Generous bounds for a loaded machine (JupyterLab restoring notebooks, kernels starting); every wait
# ends as soon as its condition holds.
TIMEOUT_MS = 120_000
# Playwright's `expect` waits 5 s unless told: a check of Python's answer may take longer here.
expect.set_options(timeout=60_000)


def open_lab(context, lab: Lab):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.route("**/*", _local_only)
    page.goto(f"{lab.url}/lab?token={lab.token}")
    page.wait_for_selector("#jp-main-dock-panel")
    page.locator('.jp-SideBar [data-id="mlops-accelerator-panel"]').wait_for()
    # Show the sidebar once JupyterLab has restored its layout (which may show or hide it), by command:
    # clicking its tab toggles it, and closed it whenever the restore had opened it first.
    page.evaluate("async () => { await window.jupyterapp.restored;"
                  " window.jupyterapp.shell.activateById('mlops-accelerator-panel'); }")
    page.wait_for_selector("#mlops-accelerator-panel .jp-MLOpsAccelerator-stage")
    return page


@pytest.fixture
def page(browser, lab):
    page = open_lab(browser, lab)
    yield page
    page.close()


@pytest.fixture(scope="session")
def screenshots():
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder

