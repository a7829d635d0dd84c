"""Crash-safe file writes and the cross-process project lock."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see the old or the new file, never half of one.

    Temp file in the same folder, fsync, rename over the target, fsync the folder: a
    writer killed at any point leaves the previous version intact.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextmanager
def project_lock(lock_path: Path, timeout: float = 60.0) -> Iterator[None]:
    """Serialise writers across processes (CLI, Jupyter server, Voila kernels).

    An OS-level lock (flock via filelock): released by the kernel when a holder dies,
    so a killed writer never leaves the project locked.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        with lock:
            yield
    except Timeout as exc:  # pragma: no cover - needs a stuck writer
        from .errors import AcceleratorError

        raise AcceleratorError(
            f"another process has held the project lock {lock_path} for {timeout:.0f} s; "
            "try again when it finishes") from exc
