"""Atomic file writes: a crash or a failed write leaves the old file whole, never a torn one.

The new contents go to a temporary file beside the target, are flushed to disk, and are
renamed over the target.  When any step fails (the disk is full, the file system is
read-only, the file is over the size limit) the temporary file is removed, the old file
is untouched, and :class:`WriteError` says which step failed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import tempfile
from pathlib import Path

OPENING = "opening"  # the file could not be created (no directory, no permission ...)
WRITING = "writing"  # it could not be filled or put in place (full, too large ...)


class WriteError(OSError):
    """An atomic write that failed; ``stage`` is :data:`OPENING` or :data:`WRITING`."""

    def __init__(self, stage: str, cause: OSError, path: Path) -> None:
        code = cause.errno if cause.errno is not None else errno.EIO
        super().__init__(code, cause.strerror or os.strerror(code), str(path))
        self.stage = stage


def _umasked_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _umasked_mode()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8); see the module doc."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise WriteError(OPENING, e, path) from e
    try:
        try:
            os.fchmod(fd, _FILE_MODE)  # as open() would make it, not mkstemp's 0600
            _write_all(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise WriteError(WRITING, e, path) from e
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def survive_file_size_limit() -> None:
    """A write over the process's file-size limit (``ulimit -f``) fails with EFBIG instead
    of killing the process with SIGXFSZ, so the console can say so and carry on."""
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
