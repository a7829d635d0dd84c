"""A template process for kernels: imports ipykernel once, then forks one kernel per request.

Started by the runner's kernel pool (`python -m mlops_accelerator.kernel_template`). It reads
one JSON request a line on stdin ({"argv": [...], "cwd": "..."}), forks, and answers with the
child's pid ({"pid": N}) or why it could not ({"error": "..."}; the pool then starts an
ordinary kernel). The child becomes a normal ipykernel (IPKernelApp with the given arguments)
in a new session, so it is a fresh interpreter: it shares nothing with other kernels but the
modules imported here, which no notebook code has touched.

Fork safety: a process may only fork safely while it has a single thread and no zmq context
(zmq's I/O threads do not survive a fork). Only modules are imported here, nothing is
started; every request checks that this is still so and refuses to fork otherwise. What is
imported is ipykernel and IPython (about 0.25 s of CPU per kernel otherwise), not heavy
libraries a notebook might use: numpy's global random state, for one, is not reseeded in a
forked child, so two notebooks would draw the same "random" numbers.

Modules named on the command line are imported too, after ipykernel: the runner passes what the
notebooks of the run import from this package and IPython (the settings schemas, pydantic and
detect-secrets behind `from_parameters`: about 0.3 s of CPU in every stage notebook otherwise).
Like the kernel modules they are only imported. If one of them pulls in a library whose state a
forked child must not inherit (NOT_PRELOADED: numpy's random state, matplotlib's backend, ...),
the template stops forking and the pool launches ordinary kernels, as for a thread.

Stdin closing (the runner exited or died) ends the template; its kernels notice their parent
is gone (JPY_PARENT_PID) and exit too.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

# What a kernel imports while it starts (ipykernel, IPython, its debugger support, tornado), so a
# forked kernel finds them loaded. Nothing here starts a thread (checked before every fork).
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
           "IPython.core.completer", "IPython.core.debugger", "tornado.ioloop", "pdb", "pydoc",
           "xmlrpc.client", "http.server")

# Libraries each kernel must import itself: numpy's global random state is not reseeded in a forked
# child (two notebooks would draw the same numbers), matplotlib picks its backend when imported,
# the others bring numpy or start threads. A template that has any of them loaded does not fork.
NOT_PRELOADED = ("numpy", "pandas", "matplotlib", "scipy", "sklearn", "pyarrow", "mlflow", "torch",
                 "tensorflow", "azure.ai.ml")


def _fork_refusal() -> str | None:
    """Why forking is not safe now, or None."""
    if threading.active_count() != 1:
        return f"{threading.active_count()} threads: forking is not safe"
    loaded = [name for name in NOT_PRELOADED if name in sys.modules]
    if loaded:
        return f"{', '.join(loaded)} loaded in the template: each kernel must import it itself"
    return None


def _child(request: dict) -> None:
    """In the forked child: become a kernel; never returns."""
    code = 1
    try:
        os.setsid()  # own session and process group: the pool kills the kernel with its children
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the template ignores it; a kernel waits on its children
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(2, 1)  # stdout and stderr go to the run's kernels.log, as for a launched kernel
        os.close(devnull)
        os.chdir(request["cwd"])
        # Exit when the template goes. The trait's default read JPY_PARENT_PID when the template
        # imported ipykernel, so it is passed as an argument.
        parent = str(os.getppid())
        os.environ["JPY_PARENT_PID"] = parent
        argv = [*request["argv"], f"--IPKernelApp.parent_handle={parent}"]
        sys.argv = ["ipykernel_launcher", *argv]
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=argv)
        code = 0
    except BaseException:  # noqa: BLE001 - report and exit, never fall back into the template's loop
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher does: the working folder is the notebook's business
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional part missing: the kernel imports what it needs itself
            pass
    for name in sys.argv[1:]:  # what the run's notebooks import (see the runner)
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that fails here fails in the notebook, where it is reported
            pass

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped automatically
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle
    out = sys.stdout
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        refusal = _fork_refusal()
        if refusal:
            answer = {"error": refusal}
        else:
            pid = os.fork()
            if pid == 0:
                _child(request)
            answer = {"pid": pid}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
