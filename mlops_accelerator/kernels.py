"""Kernels for the runner: started ahead of need, one fresh kernel per notebook, none left behind.

A notebook's time on a cold kernel is mostly the kernel starting (a new Python process
importing IPython and ipykernel). The pool launches kernels before they are needed, so a
notebook usually gets one that has already booted; every notebook still gets its own new
process (no state carries over), and a kernel is never reused. With fork=True the kernels
are forked from a template process that imported ipykernel once (see kernel_template.py),
which removes most of a kernel's start-up CPU; a kernel of another interpreter, or a template
that cannot fork safely, falls back to an ordinary launch.

Every kernel the pool starts is tracked until its process has been reaped: a used kernel is
asked to shut down and killed (its whole process group) if it has not exited after a grace
period; `cancel()` kills them all at once (Ctrl-C, timeouts). Kernels also carry
JPY_PARENT_PID, so ipykernel ends them itself if this process dies without cleaning up.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, BinaryIO

import psutil
from jupyter_client import KernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.provisioning import LocalProvisioner

GRACE_S = 2.0  # a kernel asked to shut down gets this long before it is killed
START_TIMEOUT_S = 60.0
# History goes to an SQLite file per kernel start and a saver thread; batch runs never read it back.
KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False"]


class PoolKernelClient(AsyncKernelClient):
    """The client nbclient drives a pool kernel with: ready without jupyter_client's 0.2 s wait.

    jupyter_client's wait_for_ready ends by listening to IOPub until it has been quiet for 0.2 s,
    a fixed 0.2 s for every notebook (half the run time of a short one). Here readiness is what
    that wait establishes first - the kernel answers kernel_info and IOPub is connected (a status
    message arrives) - and then only what IOPub already holds is dropped. A late stray message is
    harmless: nbclient reads only the messages whose parent is the request it sent.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        from queue import Empty

        limit = timeout if timeout is not None else START_TIMEOUT_S
        deadline = time.monotonic() + limit
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)  # IOPub connected (ZMQ's slow joiner)
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the kernel did not answer within {limit:g} s")
        while True:  # what is already queued, without waiting for more
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                break


class PoolKernelManager(KernelManager):
    """A kernel manager whose clients are asynchronous (what nbclient drives) and remembered.

    nbclient leaves open a client of a kernel it did not start itself; the pool closes them
    when the kernel is released, so no sockets or zmq threads pile up over a long run.
    """

    def __init__(self, template: KernelTemplate | None = None, **kwargs: Any) -> None:
        super().__init__(client_class="mlops_accelerator.kernels.PoolKernelClient", **kwargs)
        self.handed_out_clients: list[Any] = []
        self.template = template
        self.kernel_process: psutil.Process | None = None

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        if self.template is not None and isinstance(self.provisioner, LocalProvisioner):
            # Same ports and connection file; the process comes from the template instead of Popen.
            forked = ForkedProvisioner(kernel_id=self.provisioner.kernel_id, kernel_spec=self.provisioner.kernel_spec,
                                       parent=self)
            forked.template = self.template
            for attr in ("connection_info", "ports_cached", "ip"):  # what pre_launch() set
                setattr(forked, attr, getattr(self.provisioner, attr))
            self.provisioner = forked
        return cmd, kw

    async def _async_finish_shutdown(self, waittime: float | None = None, pollinterval: float = 0.1,
                                     restart: bool = False) -> None:
        # Look for the exit every 20 ms, not 100: a run returns only once its last kernels are gone.
        await super()._async_finish_shutdown(waittime, pollinterval=0.02, restart=restart)

    def client(self, **kwargs: Any) -> Any:
        kc = super().client(**kwargs)
        self.handed_out_clients.append(kc)
        return kc

    @property
    def pid(self) -> int | None:
        process = getattr(self.provisioner, "process", None)
        return process.pid if process is not None else None


class KernelTemplate:
    """The runner's side of `mlops_accelerator.kernel_template` (one per run)."""

    def __init__(self, *, cwd: Path, env: dict[str, str], log: BinaryIO | int, preload: list[str] = ()) -> None:
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlops_accelerator.kernel_template", *preload], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=log, cwd=str(cwd), env=env, start_new_session=True)

    def fork(self, argv: list[str], cwd: str) -> int:
        """A new kernel process; RuntimeError if the template cannot fork one."""
        with self._lock:
            assert self.process.stdin is not None and self.process.stdout is not None
            try:
                self.process.stdin.write(json.dumps({"argv": argv, "cwd": cwd}).encode() + b"\n")
                self.process.stdin.flush()
                answer = json.loads(self.process.stdout.readline() or b"{}")
            except (OSError, ValueError) as exc:
                raise RuntimeError(f"the kernel template is not answering: {exc}") from exc
        if "pid" not in answer:
            raise RuntimeError(answer.get("error") or "the kernel template exited")
        return int(answer["pid"])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _ForkedProcess:
    """Enough of Popen for LocalProvisioner, for a kernel the template forked (not our child)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = -signal.SIGKILL  # the exit status went to the template
            except PermissionError:
                pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["kernel"], timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkedProvisioner(LocalProvisioner):
    """A LocalProvisioner whose kernel process is forked by the kernel template."""

    template: KernelTemplate | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        # Only a kernel of this very interpreter (the usual python3 spec) can come from the template.
        if self.template is not None and cmd[:3] == [sys.executable, "-m", "ipykernel_launcher"]:
            try:
                pid = self.template.fork(cmd[3:], str(kwargs.get("cwd") or os.getcwd()))
            except RuntimeError:
                pid = None
            if pid is not None:
                self.process = _ForkedProcess(pid)
                self.pid = self.pgid = pid  # the child leads its own session
                self.cwd = kwargs.get("cwd")
                return self.connection_info
        return await super().launch_kernel(cmd, **kwargs)


class KernelPool:
    """Up to `size` booted spare kernels, but never more than the notebooks still to run.

    warm=False starts each kernel only when a notebook asks for one and waits for it to shut
    down before the next (the runner's behaviour before the pool, kept for comparison).
    """

    def __init__(self, size: int, needed: int, *, cwd: Path, log: BinaryIO | None = None,
                 env: dict[str, str] | None = None, warm: bool = True, grace: float = GRACE_S,
                 fork: bool = False, preload: list[str] = ()) -> None:
        self.size, self.warm, self.grace = size, warm, grace
        self._needed = needed
        self._cwd, self._log = cwd, log
        self._env = dict(env if env is not None else os.environ)
        out = log if log is not None else subprocess.DEVNULL
        self._template = KernelTemplate(cwd=cwd, env=self._env, log=out, preload=list(preload)) if fork else None
        # Kernels talk over Unix sockets in a private folder (mode 0700): no TCP ports to race other
        # processes for on a busy machine, and no other local user can reach them.
        self._sockets = Path(tempfile.mkdtemp(prefix="mlops-kernels-"))
        self._started = 0
        self._lock = threading.Lock()
        self._spares: deque[PoolKernelManager] = deque()
        self._live: set[PoolKernelManager] = set()  # started and not yet reaped
        self._reaping: set[PoolKernelManager] = set()
        self._reapers: list[threading.Thread] = []
        self._cancelled = self._closing = False
        if warm:  # in the background: the template may still be importing ipykernel
            threading.Thread(target=self._top_up_locked, daemon=True, name="kernel-starter").start()

    # -- handing out --------------------------------------------------------------

    def take(self) -> PoolKernelManager:
        """A started kernel for one notebook (it may still be booting; prepare() waits)."""
        with self._lock:
            if self._cancelled:
                raise RuntimeError("the run was cancelled")
            self._needed = max(self._needed - 1, 0)
            km = self._spares.popleft() if self._spares else self._start()
            if self.warm:
                self._top_up()
            return km

    def not_needed(self, count: int = 1) -> None:
        """Fewer notebooks will run than planned (skipped): stop spares nobody will take."""
        with self._lock:
            self._needed = max(self._needed - count, 0)
            while len(self._spares) > self._needed:
                self._reap(self._spares.pop())

    def prepare(self, km: PoolKernelManager, cwd: Path, timeout: float = START_TIMEOUT_S) -> None:
        """Wait until the kernel answers, then move it to the notebook's folder.

        The chdir runs silently (no execution count, no history, no output): the notebook
        sees a new interpreter whose working directory is its output folder, as with papermill's cwd.
        """
        # No wait_for_ready(): it ends with 0.2 s of listening for stray output, and papermill's client
        # waits for the kernel again anyway. The request waits in the socket until the kernel reads it;
        # meanwhile the process is watched, so a kernel that dies while booting is noticed at once.
        from queue import Empty

        kc = km.blocking_client()
        kc.start_channels()
        deadline = time.monotonic() + timeout
        try:
            msg_id = kc.execute(f"__import__('os').chdir({str(cwd)!r})", silent=True, store_history=False)
            while True:
                try:
                    reply = kc.get_shell_msg(timeout=0.2)
                except Empty:
                    if not km.is_alive():
                        raise RuntimeError("the kernel died while starting") from None
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the kernel did not start within {timeout:g} s") from None
                    continue
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"the kernel could not change to {cwd}: {reply['content'].get('evalue')}")
        finally:
            kc.stop_channels()

    def release(self, km: PoolKernelManager) -> None:
        """The notebook is done with this kernel: shut it down (in the background when warm).

        Called from the thread that ran the notebook: its clients are closed here, where they
        were used (zmq sockets must not be closed under another thread's feet).
        """
        for kc in km.handed_out_clients:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        km.handed_out_clients.clear()
        with self._lock:
            thread = self._reap(km)
        if thread is not None and not self.warm:
            thread.join()

    def kill(self, km: PoolKernelManager) -> None:
        """Kill a kernel and its process group now (a timeout); release() still reaps it."""
        _kill_group(km)

    # -- stopping -----------------------------------------------------------------

    def cancel(self) -> None:
        """Ctrl-C: kill every kernel now; nothing more is handed out."""
        with self._lock:
            self._cancelled = True
            live = list(self._live)
            self._spares.clear()
        for km in live:
            _kill_group(km)
        with self._lock:
            for km in live:
                self._reap(km)

    def close(self, timeout: float = GRACE_S + 3.0) -> None:
        """Stop the spares, wait for every kernel to be gone; kill what is still alive at the deadline."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closing = True
            while self._spares:
                self._reap(self._spares.pop())
            reapers = list(self._reapers)
        for thread in reapers:
            thread.join(max(deadline - time.monotonic(), 0))
        with self._lock:
            survivors = list(self._live)
        for km in survivors:
            _kill_group(km)
            _wait_and_clean(km, 1.0)
            with self._lock:
                self._live.discard(km)
                self._reaping.discard(km)
        if self._template is not None:
            self._template.close()
        shutil.rmtree(self._sockets, ignore_errors=True)

    def pids(self) -> list[int]:
        with self._lock:
            return [pid for km in self._live if (pid := km.pid) is not None]

    # -- internals (called with the lock held) --------------------------------------

    def _top_up_locked(self) -> None:
        with self._lock:
            self._top_up()

    def _top_up(self) -> None:
        while not (self._cancelled or self._closing) and len(self._spares) < min(self.size, self._needed):
            self._spares.append(self._start())

    def _start(self) -> PoolKernelManager:
        self._started += 1
        km = PoolKernelManager(kernel_name="python3", template=self._template, transport="ipc",
                               ip=str(self._sockets / f"k{self._started}"))
        km.shutdown_wait_time = self.grace
        out = self._log if self._log is not None else subprocess.DEVNULL
        km.start_kernel(extra_arguments=KERNEL_ARGUMENTS, env=self._env, cwd=str(self._cwd),
                        stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        with contextlib.suppress(psutil.Error, TypeError):
            km.kernel_process = psutil.Process(km.pid)  # psutil remembers its start time: never a reused pid
        self._live.add(km)
        return km

    def _reap(self, km: PoolKernelManager) -> threading.Thread | None:
        if km in self._reaping or km not in self._live:
            return None
        self._reaping.add(km)
        thread = threading.Thread(target=self._shutdown, args=(km,), daemon=True, name="kernel-reaper")
        self._reapers.append(thread)
        thread.start()
        return thread

    def _shutdown(self, km: PoolKernelManager) -> None:
        # Processes the notebook started and left running outlive a kernel that exits cleanly.
        left_behind = _descendants(km)
        try:
            # Asks the kernel to exit, waits up to shutdown_wait_time, then kills its process group.
            km.shutdown_kernel(now=self._cancelled)
        except Exception:  # noqa: BLE001 - whatever went wrong, the process must not outlive the run
            _kill_group(km)
            _wait_and_clean(km, 1.0)
        for proc in left_behind:
            with contextlib.suppress(psutil.Error):
                proc.kill()  # psutil checks it is still the same process
        with self._lock:
            self._live.discard(km)
            self._reaping.discard(km)


def _descendants(km: PoolKernelManager) -> list[psutil.Process]:
    try:
        return km.kernel_process.children(recursive=True) if km.kernel_process is not None else []
    except psutil.Error:
        return []


def _kill_group(km: PoolKernelManager) -> None:
    """SIGKILL the kernel's process group (it leads its own session) and whatever it started."""
    proc = km.kernel_process
    if proc is None:
        return
    members = _descendants(km)
    with contextlib.suppress(psutil.Error, ProcessLookupError, PermissionError):
        if proc.is_running():  # the leader is alive, so the group id is still its own
            os.killpg(proc.pid, signal.SIGKILL)
    for member in [proc, *members]:
        with contextlib.suppress(psutil.Error):
            member.kill()


def _wait_and_clean(km: PoolKernelManager, timeout: float) -> None:
    process = getattr(km.provisioner, "process", None)
    if process is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    with contextlib.suppress(Exception):
        km.cleanup_resources()
