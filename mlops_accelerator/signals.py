"""SIGINT (Ctrl-C) and SIGTERM (a service manager's stop) handled by the caller, not by Python's default.

Python turns SIGINT into KeyboardInterrupt only when its parent left SIGINT at the default; a process
started in the background of a non-interactive shell inherits it ignored (POSIX), and then Ctrl-C did
nothing (a full test run launched that way hung). The runner and `monitor watch` install their own
handler for both signals, through this one helper.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def on_stop_signals(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """`handler` for SIGINT and SIGTERM inside, the previous handlers back afterwards. Only the main
    thread may install signal handlers: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
