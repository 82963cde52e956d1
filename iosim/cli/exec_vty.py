"""EXEC commands of terminal lines and the SSH server: ``show users``, ``clear line``,
``quit``, ``show ssh``, ``show ip ssh``, ``show crypto key mypubkey rsa``, ``show hosts``
and ``show ipv6 interface``."""

from __future__ import annotations

from iosim.cli.errors import CommandRejected
from iosim.cli.exec_commands import _exit, _output
from iosim.cli.matcher import Match
from iosim.cli.session import Pending, Session, exec_handler
from iosim.cli.terminal_lines import VTY_BASE
from iosim.config.handlers import invalid_at
from iosim.show import ssh as show

#: The highest vty IOSv has (``line vty 0 15``), and its highest absolute line number.
MAX_VTY = 15
MAX_LINE = VTY_BASE + MAX_VTY


@exec_handler("show_users")
def _show_users(session: Session, m: Match) -> str:
    return _output(session, m, show.show_users(session.router, session))


@exec_handler("show_ssh")
def _show_ssh(session: Session, m: Match) -> str:
    return _output(session, m, show.show_ssh(session.router))


@exec_handler("show_ip_ssh")
def _show_ip_ssh(session: Session, m: Match) -> str:
    return _output(session, m, show.show_ip_ssh(session.router))


@exec_handler("show_crypto_key_mypubkey")
def _show_mypubkey(session: Session, m: Match) -> str:
    return _output(session, m, show.show_crypto_key_mypubkey(session.router,
                                                              m.get("SCRY_MYPUBKEY_LABEL")))


@exec_handler("show_hosts")
def _show_hosts(session: Session, m: Match) -> str:
    return _output(session, m, show.show_hosts(session.router))


@exec_handler("show_ipv6_interface")
def _show_ipv6_interface(session: Session, m: Match) -> str:
    """No interface of an iosim router runs IPv6, and IOS lists none then."""
    return _output(session, m, "")


@exec_handler("exec_quit")
def _quit(session: Session, m: Match) -> str:
    return _exit(session, m)


def _line_number(m: Match) -> tuple[int, str]:
    """(absolute line number, the terminal its word matched) of ``clear line``."""
    if m.has("CLEAR_LINE_VTY_N"):
        vty = int(m.get("CLEAR_LINE_VTY_N") or 0)
        if vty > MAX_VTY:
            raise invalid_at(m, "CLEAR_LINE_VTY_N")
        return VTY_BASE + vty, "CLEAR_LINE_VTY_N"
    if m.has("CLEAR_LINE_CON_N"):
        if int(m.get("CLEAR_LINE_CON_N") or 0) != 0:
            raise invalid_at(m, "CLEAR_LINE_CON_N")
        return 0, "CLEAR_LINE_CON_N"
    number = int(m.get("CLEAR_LINE_N") or 0)
    if number > MAX_LINE:
        raise invalid_at(m, "CLEAR_LINE_N")
    return number, "CLEAR_LINE_N"


@exec_handler("exec_clear_line")
def _clear_line(session: Session, m: Match) -> str:
    """``clear line vty N``: after ``[confirm]``, the session on that line is ended."""
    number, _ = _line_number(m)
    router = session.router
    mine = router.terminals.of(session)
    if (mine is not None and mine.absolute == number) or (
            mine is None and number == 0 and session.line_name == "con 0"):
        raise CommandRejected("% Not allowed to clear current line")

    def answer(text: str) -> str:
        if text.strip().lower() not in ("", "y", "yes"):
            return ""
        target = router.terminals.vtys.get(number - VTY_BASE)
        if target is not None and target.hangup is not None:
            target.hangup()
        return " [OK]\n"

    session.pending = Pending("[confirm]", answer)
    return ""
