"""``show logging`` and ``clear logging``."""

from __future__ import annotations

from iosim.cli.exec_commands import _output
from iosim.cli.matcher import Match
from iosim.cli.session import Pending, Session, exec_handler
from iosim.show.logging import show_logging


@exec_handler("show_logging")
def _show_logging(session: Session, m: Match) -> str:
    return _output(session, m, show_logging(session.router))


@exec_handler("exec_clear_logging")
def _clear_logging(session: Session, m: Match) -> str:
    def answer(text: str) -> str:
        if text.strip().lower() in ("", "y", "yes"):
            session.router.config.logging.clear_buffer()
        return ""

    session.pending = Pending("Clear logging buffer [confirm]", answer)
    return ""
