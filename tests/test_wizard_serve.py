"""`mlops-accelerator serve`: Voila on 127.0.0.1, no code shown, no CDN, the wizard notebooks."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from wizard_fixtures import wproject  # noqa: F401

from mlops_accelerator.serve import serve, template_root, voila_command, wizards_dir

ROOT = Path(__file__).resolve().parent.parent


def test_voila_command(wproject):  # noqa: F811
    argv, env = voila_command(wproject.root, 8899)
    assert argv[1:4] == ["-m", "mlops_accelerator.serve_guard", str(wizards_dir())]  # voila behind the guard
    for flag in ("--no-browser", "--port=8899", "--Voila.ip=127.0.0.1", "--strip_sources=True",
                 "--template=mlops", "--Voila.port_retries=0"):
        assert flag in argv
    assert env["MLOPS_ACCELERATOR_PROJECT"] == str(wproject.root)
    assert env["JUPYTER_PATH"].split(":")[0] == str(template_root())


def test_template_has_no_cdn_assets():
    tpl = template_root() / "voila" / "templates" / "mlops"
    text = (tpl / "index.html.j2").read_text()
    urls = re.findall(r"https?://[^\s\"')]+", text)
    assert [u for u in urls if "github.com/pallets" not in u] == []
    assert "fontawesome" not in text and "html_head_js_mermaidjs" in text
    assert json.loads((tpl / "conf.json").read_text()) == {"base_template": "lab"}


def test_wizard_notebooks_are_thin_and_clean():
    names = sorted(p.name for p in (ROOT / "wizards").glob("*.ipynb"))
    assert names == ["01-foundations.ipynb", "02-design.ipynb", "03-deploy.ipynb", "04-data.ipynb",
                     "05-models.ipynb", "06-monitor.ipynb", "07-migrate.ipynb", "home.ipynb"]
    for name in names:
        nb = json.loads((ROOT / "wizards" / name).read_text())
        (cell,) = nb["cells"]
        assert cell["cell_type"] == "code" and cell["outputs"] == [] and cell["execution_count"] is None
        assert "from mlops_accelerator.wizard import" in "".join(cell["source"])


def test_serve_help_is_fast_and_clean():
    code = "import sys, mlops_accelerator.serve; print('ipywidgets' in sys.modules, 'voila' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_serve_prints_the_url_and_execs_voila(wproject, monkeypatch):  # noqa: F811
    import os

    from click.testing import CliRunner

    calls = []
    monkeypatch.setattr(os, "execve", lambda path, argv, env: calls.append((argv, env)))
    result = CliRunner().invoke(serve, ["--port", "8898"], obj={"project_dir": wproject.root})
    assert result.exit_code == 0, result.output
    ((argv, env),) = calls
    token = env["MLOPS_ACCELERATOR_VOILA_TOKEN"]
    assert len(token) >= 32 and token not in " ".join(argv)  # in the environment, not on the command line
    assert f"http://127.0.0.1:8898/voila/render/home.ipynb?token={token}" in result.output
    assert "--port=8898" in argv and env["MLOPS_ACCELERATOR_PROJECT"] == str(wproject.root)
    assert "--Voila.ip=127.0.0.1" in argv


# -- who may talk to the app (issue 9) -----------------------------------------------------------

@pytest.mark.parametrize("host, origin, ok", [
    ("127.0.0.1:8866", None, True),
    ("localhost:8866", "http://localhost:8866", True),
    ("[::1]:8866", "http://[::1]:8866", True),
    ("127.0.0.1:8866", "http://127.0.0.1:8866", True),
    ("rebind.attacker.example:8866", None, False),
    ("127.0.0.1:8866", "http://attacker.example", False),
    ("10.0.0.5:8866", None, False),
    ("", None, False),
    ("wizards.contoso.internal", "https://wizards.contoso.internal", "allowed"),
])
def test_host_and_origin_rules(host, origin, ok):
    from mlops_accelerator.serve_guard import request_problem

    extra = ("wizards.contoso.internal",) if ok == "allowed" else ()
    assert (request_problem(host, origin, extra) is None) == bool(ok)


def test_served_app_requires_the_token_and_a_local_host(wproject, tmp_path):  # noqa: F811
    """The real server: no token, a foreign Host or a foreign Origin are refused; the token opens it."""
    import os
    import signal
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MLOPS_ACCELERATOR_TOKEN": "t0ken-for-this-test-only"}
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "mlops_accelerator.cli", "-C", str(wproject.root), "serve",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def status(path, **headers):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
        try:
            with opener.open(request, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if status("/?token=t0ken-for-this-test-only") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "serve did not answer within 60 s"
            time.sleep(0.25)
        assert status("/") in (302, 403)  # no token: to the login page, never the app
        assert status("/voila/render/home.ipynb") in (302, 403)
        assert status("/?token=wrong") in (302, 403)
        assert status("/?token=t0ken-for-this-test-only", Host=f"rebind.attacker.example:{port}") == 403
        assert status("/?token=t0ken-for-this-test-only", Origin="http://attacker.example") == 403
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
        log.close()
