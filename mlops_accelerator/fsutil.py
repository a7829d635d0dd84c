"""Crash-safe file writes and the cross-process project lock."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import AcceleratorError


class WriteFailed(AcceleratorError):
    """A project file could not be written (disk full, read-only folder): nothing was applied."""


def write_failed(path: Path, exc: OSError) -> WriteFailed:
    """A clear error naming the file and the cause, instead of a traceback."""
    reason = exc.strerror or str(exc)
    hint = {errno.ENOSPC: "free some disk space", errno.EDQUOT: "free some disk space",
            errno.EROFS: "the file system is read-only", errno.EACCES: "check the folder's permissions",
            errno.EPERM: "check the folder's permissions"}.get(exc.errno or 0, "")
    return WriteFailed(f"could not write {path}: {reason}{'; ' + hint if hint else ''}; nothing was changed")


def _new_file_mode() -> int:
    """The mode a plain open() would give a new file (0666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def stage_write(path: Path, text: str) -> Path:
    """First half of an atomic write: the new content, fsynced, in a temp file beside `path`.

    The temp file keeps the mode of the file it will replace (or a plain new file's mode),
    so a save never tightens or loosens who may read the project file or the report.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_failed(path, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = _new_file_mode()
        os.chmod(tmp, mode)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise write_failed(path, exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def commit_write(tmp: Path, path: Path) -> None:
    """Second half: rename the staged file over `path` and fsync the folder."""
    path = Path(path)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise write_failed(path, exc) from exc
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see the old or the new file, never half of one.

    Temp file in the same folder, fsync, rename over the target, fsync the folder: a
    writer killed at any point leaves the previous version intact. The file keeps its mode.
    """
    commit_write(stage_write(path, text), path)


@contextmanager
def project_lock(lock_path: Path, timeout: float = 60.0) -> Iterator[None]:
    """Serialise writers across processes (CLI, Jupyter server, Voila kernels).

    An OS-level lock (flock via filelock): released by the kernel when a holder dies,
    so a killed writer never leaves the project locked.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout as exc:  # pragma: no cover - needs a stuck writer
        raise AcceleratorError(
            f"another process has held the project lock {lock_path} for {timeout:.0f} s; "
            "try again when it finishes") from exc
    except OSError as exc:  # read-only project folder, disk full
        raise write_failed(lock_path, exc) from exc
    try:
        yield
    finally:
        lock.release()
