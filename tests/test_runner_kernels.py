"""The runner's kernels: warm but isolated, none left behind, and Ctrl-C stops a parallel run."""

import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import psutil
import pytest
from click.testing import CliRunner

from mlops_accelerator.cli import main

PARAMS = 'project_name: str = "x"\noutput_dir: str = "."\n'


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(c) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _stage(tmp_path, monkeypatch):
    root = tmp_path / "templates"
    monkeypatch.setenv("MLOPS_ACCELERATOR_TEMPLATES", str(root))
    return root / "01-foundations"


def invoke(project, *args):
    result = CliRunner().invoke(main, ["-C", str(project.root), *args], catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def _gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


RECORD = ("import json, os, time, psutil\nfrom pathlib import Path\n"
          "me = psutil.Process()\n"
          "Path(output_dir, f'{NAME}.json').write_text(json.dumps({'pid': os.getpid(), "
          "'created': me.create_time(), 'cwd': os.getcwd(), 'leaked': 'LEAK' in globals(), "
          "'json_leaked': hasattr(json, 'LEAK')}))\n")



def _run_both(project):
    """Run the stage's two notebooks one after the other; what each recorded, and the outputs folder."""
    code, out = invoke(project, "run", "foundations", "--jobs", "1")
    assert code == 0, out
    run = list(project.events("run_finished"))[-1]
    outputs = project.root / run["run_dir"] / "01-foundations"
    return (json.loads((outputs / "first.json").read_text()), json.loads((outputs / "second.json").read_text()),
            outputs)

def test_each_notebook_gets_a_fresh_kernel_started_ahead_of_need(project, tmp_path, monkeypatch):
    stage = _stage(tmp_path, monkeypatch)
    # One slot: the second notebook runs on the same pool right after the first.
    _notebook(stage / "01-sets-state.ipynb", "NAME = 'first'\n" + RECORD,
              "LEAK = 'from the first notebook'\nimport json\njson.LEAK = True\nimport os\nos.environ['LEAK'] = '1'",
              "time.sleep(1.5)\nPath(output_dir, 'first-ended').write_text(str(time.time()))")
    _notebook(stage / "02-looks-for-it.ipynb", "NAME = 'second'\n" + RECORD,
              "assert 'LEAK' not in globals(), 'a global of the previous notebook is visible'\n"
              "assert not hasattr(json, 'LEAK'), 'a module changed by the previous notebook is visible'\n"
              "assert 'LEAK' not in os.environ, 'the previous notebook changed this environment'")
    first, second, outputs = _run_both(project)
    assert first["pid"] != second["pid"]
    assert not second["leaked"] and not second["json_leaked"]
    assert second["cwd"] == str(outputs)  # the kernel runs in its notebook's output folder
    # warm: the second notebook's kernel was started while the first notebook was still running
    assert second["created"] < float((outputs / "first-ended").read_text())


def test_no_kernel_or_child_outlives_the_run(project, tmp_path, monkeypatch):
    stage = _stage(tmp_path, monkeypatch)
    pid = "import os\nfrom pathlib import Path\nPath(output_dir, '{0}.pid').write_text(str(os.getpid()))"
    _notebook(stage / "01-ok.ipynb", pid.format("ok"))
    _notebook(stage / "02-fails.ipynb", pid.format("fails"), "raise ValueError('no')")
    _notebook(stage / "03-hangs.ipynb", pid.format("hangs"), "import time\ntime.sleep(120)")
    _notebook(stage / "04-dies.ipynb", pid.format("dies"), "os._exit(1)")
    # A non-daemon thread keeps the kernel process alive after it is asked to shut down.
    _notebook(stage / "05-ignores-shutdown.ipynb", pid.format("ignores"),
              "import threading, time\nthreading.Thread(target=time.sleep, args=(3600,)).start()")
    # A process the notebook started and left running.
    _notebook(stage / "06-leaves-a-child.ipynb", pid.format("parent"),
              "import subprocess\nchild = subprocess.Popen(['sleep', '600'])\n"
              "Path(output_dir, 'child.pid').write_text(str(child.pid))")
    code, out = invoke(project, "run", "foundations", "--jobs", "2", "--timeout", "6")
    assert code == 1, out
    finished = {e["notebook"]: e["status"] for e in project.events("notebook_finished")}
    assert finished == {"01-ok": "succeeded", "02-fails": "failed", "03-hangs": "failed", "04-dies": "failed",
                        "05-ignores-shutdown": "succeeded", "06-leaves-a-child": "succeeded"}
    run = list(project.events("run_finished"))[-1]
    outputs = project.root / run["run_dir"] / "01-foundations"
    pids = {p.stem: int(p.read_text()) for p in outputs.glob("*.pid")}
    assert set(pids) == {"ok", "fails", "hangs", "dies", "ignores", "parent", "child"}
    alive = {name: pid for name, pid in pids.items() if not _gone(pid)}
    assert alive == {}, f"still running after the run returned: {alive}"
    kernels = [p for p in psutil.Process().children(recursive=True)
               if any(name in " ".join(p.cmdline()) for name in ("ipykernel_launcher", "kernel_template"))]
    assert kernels == []  # no kernel, and not the template process that forks them
    hung = nbformat.read(outputs / "03-hangs.ipynb", as_version=4)
    assert any(o.get("ename") == "Timeout" for o in hung.cells[3].outputs)  # the stop is written where it happened


@pytest.mark.parametrize("cold", [False, True], ids=["warm", "cold"])
def test_ctrl_c_stops_a_parallel_run_and_records_it_cancelled(project, tmp_path, monkeypatch, cold):
    stage = _stage(tmp_path, monkeypatch)
    started = "from pathlib import Path\nPath(output_dir, '{0}.started').write_text('')"
    _notebook(stage / "01-quick.ipynb", "x = 1")
    for name in ("02-slow", "03-slow", "04-slow"):
        _notebook(stage / f"{name}.ipynb", started.format(name), "import time\ntime.sleep(120)")
    env = {**os.environ, "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "mlops_accelerator.cli", "-C", str(project.root), "run", "foundations",
           "--jobs", "2"] + (["--cold-kernels"] if cold else [])
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        runs = project.root / "runs"
        _wait_for(lambda: len(list(runs.glob("*/01-foundations/*.started"))) == 2, 90,
                  "two slow notebooks to be running")
        descendants = psutil.Process(proc.pid).children(recursive=True)
        assert len(descendants) >= 2  # at least the two busy kernels
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        code = proc.wait(timeout=5)
        _wait_for(lambda: all(_gone(p.pid) for p in descendants), 5 - (time.monotonic() - sent),
                  "every kernel of the run to be gone")
    finally:
        if proc.poll() is None:
            proc.kill()
        output = proc.stdout.read().decode()
    assert code == 130, output
    assert time.monotonic() - sent < 5
    run = list(project.events("run_finished"))[-1]
    assert run["status"] == "cancelled"
    assert run["finished"] == ["01-foundations/01-quick"]
    assert run["interrupted"] == ["01-foundations/02-slow", "01-foundations/03-slow"]
    assert run["not_started"] == ["01-foundations/04-slow"]
    assert run["stages"]["foundations"]["status"] == "cancelled"
    interrupted = [e for e in project.events("notebook_finished") if e["status"] == "interrupted"]
    assert sorted(e["notebook"] for e in interrupted) == ["02-slow", "03-slow"]
    saved = nbformat.read(project.root / interrupted[0]["output"], as_version=4)
    assert any(o.get("ename") == "Interrupted" for o in saved.cells[3].outputs)  # not saved as if it ended well
    assert "cancelled" in output


# -- modules the template preloads for the notebooks --------------------------------


def _ask_template(modules, tmp_path):
    """Start the kernel template with `modules` to preload and ask it for one kernel; its answer."""
    proc = subprocess.Popen([sys.executable, "-m", "mlops_accelerator.kernel_template", *modules],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            cwd=tmp_path)
    try:
        # A kernel that cannot start (no connection file) exits at once; only the answer matters here.
        proc.stdin.write(json.dumps({"argv": ["-f", str(tmp_path / "none.json")], "cwd": str(tmp_path)}).encode()
                         + b"\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
    finally:
        proc.stdin.close()
        proc.wait(30)
    if "pid" in answer:
        _wait_for(lambda: _gone(answer["pid"]), 30, "the test kernel to exit")
    return answer


def test_the_stage_notebooks_preload_keeps_the_template_forking(tmp_path):
    from mlops_accelerator.catalogue import stage_slugs
    from mlops_accelerator.runner import PRELOADABLE, _preload_modules
    from mlops_accelerator.templates import stage_templates

    modules = _preload_modules([t for slug in stage_slugs() for t in stage_templates(slug)])
    # what from_parameters needs, and only this package's and IPython's modules (+ the secret detectors)
    assert {"mlops_accelerator.settings.parameters", "mlops_accelerator.settings.design",
            "mlops_accelerator.artifacts.iac", "IPython.display"} <= set(modules)
    assert all(m.split(".")[0] in (*PRELOADABLE, "detect_secrets") for m in modules)
    # none of them drags in numpy & co. (or a thread): the template still forks
    assert "pid" in _ask_template(modules, tmp_path)


def test_a_template_holding_numpy_does_not_fork(tmp_path):
    answer = _ask_template(["numpy"], tmp_path)
    assert "pid" not in answer and "numpy" in answer["error"]


STATE = ("import json, random, sys\nfrom pathlib import Path\n"
         "Path(output_dir, f'{NAME}.json').write_text(json.dumps({"
         "'preloaded': 'mlops_accelerator.settings.design' in sys.modules, 'numpy': 'numpy' in sys.modules, "
         "'random': random.random()}))\n")


def test_preloaded_modules_are_shared_but_their_state_is_not(project, tmp_path, monkeypatch):
    """The template imported the package's settings before the notebooks ran; one notebook changing
    such a module (or drawing random numbers) does not show in the next."""
    stage = _stage(tmp_path, monkeypatch)
    uses = "from mlops_accelerator.settings.parameters import from_parameters\n"
    _notebook(stage / "01-changes-a-preloaded-module.ipynb", "NAME = 'first'\n" + STATE, uses
              + "import mlops_accelerator.settings.design as d\nd.LEAK = True")
    _notebook(stage / "02-looks-for-it.ipynb", "NAME = 'second'\n" + STATE, uses
              + "import mlops_accelerator.settings.design as d\nassert not hasattr(d, 'LEAK'), 'shared module state'")
    first, second, outputs = _run_both(project)
    assert first["preloaded"] and second["preloaded"]  # imported by the template, before any cell ran
    assert not first["numpy"] and not second["numpy"]
    assert first["random"] != second["random"]  # the random module is reseeded in every kernel
