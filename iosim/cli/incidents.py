"""Internal errors: a command that fails inside iosim ends with a message, not the console.

IOS never shows a traceback.  When a command fails with an exception that is not one of
IOS's own errors (a bug in iosim), the session undoes what the command changed, prints one
``%`` line naming the command, and appends the traceback to ``iosim-errors.log`` in
iosim's state directory (``$XDG_STATE_HOME/iosim``, else ``~/.local/state/iosim``) for a
bug report.  With ``IOSIM_TRACEBACK=1`` in the environment the traceback is also written to
standard error.  Writing the log never fails the console: a log that cannot be written is
skipped.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from iosim.cli.errors import CommandRejected

LOG_NAME = "iosim-errors.log"
#: Set to a non-empty value to see the traceback of an internal error on standard error.
TRACEBACK_ENV = "IOSIM_TRACEBACK"
_SHOWN_MAX = 60  # longer commands are shortened in the message (the log has them whole)


class InternalError(CommandRejected):
    """A command that failed inside iosim; renders the one-line message."""


def error_log_path() -> Path:
    """Where internal errors are logged."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "iosim" / LOG_NAME


def _append(path: Path, data: bytes) -> None:
    """Append ``data`` with one ``O_APPEND`` write: concurrent consoles never interleave
    inside a record, and an existing log is never rewritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def internal_error(command: str, exc: BaseException, *, device: str = "",
                   mode: str = "") -> InternalError:
    """Record ``exc`` (raised while running ``command``) and return the error to print."""
    shown = command.strip(" \t")
    if len(shown) > _SHOWN_MAX:
        shown = shown[:_SHOWN_MAX - 3] + "..."
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    record = (f"=== {stamp} device {device or '?'} mode {mode or '?'} command {command!r}\n"
              + "".join(traceback.format_exception(exc)))
    try:
        _append(error_log_path(), record.encode("utf-8", "backslashreplace"))
    except OSError:
        pass  # a read-only or full state directory must not end the console either
    if os.environ.get(TRACEBACK_ENV):
        try:
            sys.stderr.write(record)
        except (OSError, ValueError):
            pass
    return InternalError(f'% iosim: internal error in "{shown}": {type(exc).__name__}; '
                         "the lab continues\n")
