"""Run a command as an Azure ML job would: with only what its environment installs.

Azure ML builds a job's image from its environment (a conda file with pip packages) and runs the
command in the job's code snapshot. This machine has every package the accelerator needs, so a step
that imports something its environment lacks would pass here and fail on Azure. The sandbox puts a
`python` first on PATH that starts this interpreter with an import guard (sitecustomize.py, set up
from JOB_SANDBOX_*): a top-level module is importable only when it is in the standard library, in the
job's code snapshot (any sys.path folder inside it), or installed by a distribution the environment's
pins bring in (the pins and everything they require, per the installed metadata). Anything else -
the installed mlops_accelerator included - raises ModuleNotFoundError naming the missing package.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

GUARD = '''\
import importlib.machinery, json, os, sys, sysconfig
from importlib.metadata import packages_distributions

_ALLOWED = set(json.loads(os.environ["JOB_SANDBOX_ALLOWED"]))
_ROOT = os.path.realpath(os.environ["JOB_SANDBOX_ROOT"])
_OWNERS = packages_distributions()
_STDLIB = sorted({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
                 | {os.path.join(sysconfig.get_paths()["platstdlib"], "lib-dynload")})


def _norm(name):
    return name.lower().replace("_", "-").replace(".", "-")


class JobEnvironmentGuard:
    def find_spec(self, name, path=None, target=None):
        if "." in name or name in sys.builtin_module_names or name in sys.stdlib_module_names:
            return None
        if importlib.machinery.PathFinder.find_spec(name, _STDLIB) is not None:
            return None  # the interpreter's own private modules (_sysconfigdata_*, ...)
        inside = [p for p in sys.path if os.path.realpath(p or ".") == _ROOT
                  or os.path.realpath(p or ".").startswith(_ROOT + os.sep)]
        spec = importlib.machinery.PathFinder.find_spec(name, inside)
        if spec is not None:
            return spec  # the job's own code: the snapshot ships it
        owners = _OWNERS.get(name) or []
        if any(_norm(d) in _ALLOWED for d in owners):
            return None
        raise ModuleNotFoundError(f"No module named {name!r}: the job's environment does not install "
                                  f"{' or '.join(owners) or 'it'}", name=name)


sys.meta_path.insert(0, JobEnvironmentGuard())
'''


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def conda_pins(conda: dict[str, Any]) -> list[str]:
    """The pip requirements of a conda environment dict (what the image installs with pip)."""
    return [str(p) for dep in conda.get("dependencies") or [] if isinstance(dep, dict) for p in dep.get("pip") or []]


def allowed_distributions(pins: list[str]) -> set[str]:
    """The pinned distributions and, recursively, what each requires (extras not taken)."""
    todo = [Requirement(p) for p in pins]
    seen: set[str] = set()
    while todo:
        req = todo.pop()
        name = _norm(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue  # e.g. azureml-mlflow: not installed here, so nothing here can import it either
        for line in requires:
            sub = Requirement(line)
            if sub.marker is None or sub.marker.evaluate({"extra": ""}):
                todo.append(sub)
    return seen


def sandbox_env(tmp: Path, root: Path, pins: list[str], env: dict[str, str]) -> dict[str, str]:
    """`env` for a command run in the job snapshot `root`, limited to what `pins` install."""
    guard = tmp / "job-sandbox"
    (guard / "bin").mkdir(parents=True, exist_ok=True)
    (guard / "site").mkdir(exist_ok=True)
    (guard / "site" / "sitecustomize.py").write_text(GUARD)
    shim = guard / "bin" / "python"  # keeps the guard first whatever PYTHONPATH the command sets
    shim.write_text(f'#!/bin/bash\nexport PYTHONPATH="{guard / "site"}${{PYTHONPATH:+:$PYTHONPATH}}"\n'
                    f'exec "{sys.executable}" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    out = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    out.update(PATH=f"{guard / 'bin'}{os.pathsep}{env.get('PATH', '')}", JOB_SANDBOX_ROOT=str(root),
               JOB_SANDBOX_ALLOWED=json.dumps(sorted(allowed_distributions(pins))),
               # entry points still list every package installed here: pytest would load this machine's
               # plugins (xdist, ...), which the job's image does not have
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return out
