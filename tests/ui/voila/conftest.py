"""Fixtures of the browser tests: a tmp project, `mlops-accelerator serve` on a free port, Chromium.

Every request the page makes to anything but 127.0.0.1 is blocked and recorded: the tests
fail if the wizards try to reach the internet (CDN fonts, scripts...).
"""

from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import expect
from uihelpers import CHROMIUM, CHROMIUM_ARGS, VOILA_TOKEN, cli_argv, free_port, stop, wait_http

# Playwright's `expect` waits 5 s unless told: a check of Python's answer may take longer here.
expect.set_options(timeout=60_000)


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    from mlops_accelerator.roles import ROLE_IDS
    from mlops_accelerator.workspace import Project

    project = Project.create(tmp_path_factory.mktemp("ui") / "proj", "contoso-churn")
    # Sign-offs are by people on the roster (with the role they sign in).
    project.set_values("foundations", {"team_roster": [
        {"name": "Grace Hopper", "email": "grace@contoso.com", "roles": list(ROLE_IDS)}]})
    return project


@pytest.fixture(scope="session")
def cli(project):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*cli_argv(), "-C", str(project.root), *args], capture_output=True, text=True)

    return run


@pytest.fixture(scope="session")
def voila_url(project, tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("logs") / "serve.log", "w")
    proc = subprocess.Popen([*cli_argv(), "-C", str(project.root), "serve", "--port", str(port),
                             "--token", VOILA_TOKEN],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/?token={VOILA_TOKEN}", proc)  # the tree page: starts no kernel
        yield base
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.set_default_timeout(120_000)  # a loaded machine starts kernels slowly; waits end when they hold
    p.external_requests = []

    def route(r):
        url = r.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            p.external_requests.append(url)
            r.abort()

    p.route("**/*", route)
    yield p
    context.close()
    assert p.external_requests == [], "the page tried to reach the internet"
