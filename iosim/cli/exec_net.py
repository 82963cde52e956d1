"""Network EXEC commands: ping, show [ip] arp, clear arp-cache."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from iosim.cli.errors import CommandRejected
from iosim.cli.exec_commands import _output
from iosim.cli.matcher import Match
from iosim.cli.session import Session, exec_handler
from iosim.clock import VirtualClock
from iosim.config.handlers import invalid_at
from iosim.net.packets import format_ip, ip_to_int
from iosim.net.ping import PingOutcome, run_ping
from iosim.net.stack import IpStack
from iosim.show.interfaces import show_arp


def _stack(session: Session) -> tuple[IpStack, VirtualClock]:
    router = session.router
    if router.stack is None or not isinstance(router.clock, VirtualClock):
        raise CommandRejected("% This router is not connected to a lab network")
    return router.stack, router.clock


MARKS_PER_LINE = 70  # IOS starts a new line of marks after 70


def ping_header(target: str, repeat: int, size: int | str, timeout: int, source: str | None,
                df: bool = False) -> str:
    """What IOS prints before the first echo leaves (``size`` may be a sweep ``[36..135]``)."""
    out = ["Type escape sequence to abort.",
           f"Sending {repeat}, {size}-byte ICMP Echos to {target}, timeout is {timeout} seconds:"]
    if source is not None:
        out.append(f"Packet sent with a source address of {source}")
    if df:
        out.append("Packet sent with the DF bit set")
    return "\n".join(out) + "\n"


def ping_marks(marks: str) -> str:
    """The marks, 70 to a line."""
    return "\n".join(marks[i:i + MARKS_PER_LINE] for i in range(0, len(marks), MARKS_PER_LINE))


def ping_summary(outcome: PingOutcome) -> str:
    """The ``Success rate`` line (an interrupted ping counts the echoes it sent)."""
    rate = (f"Success rate is {outcome.success_rate} percent "
            f"({outcome.received}/{outcome.sent})")
    round_trip = outcome.round_trip()
    if round_trip is not None:
        rate += ", round-trip min/avg/max = {}/{}/{} ms".format(*round_trip)
    return rate + "\n"


def ping_text(target: str, repeat: int, size: int, timeout: int, source: str | None,
              outcome: PingOutcome) -> str:
    """IOS's whole ping output for what happened."""
    return (ping_header(target, repeat, size, timeout, source) + ping_marks(outcome.marks)
            + "\n" + ping_summary(outcome))


def print_ping(session: Session, header: str, ping: Callable[..., PingOutcome]) -> str:
    """Print ``header`` and each mark as soon as it is known (70 to a line), then the
    summary: ``ping(on_mark=..., keep_marks=False)`` sends the echoes.

    On an interactive console the header and marks are written at once (nothing waits
    for the last echo, and nothing is kept per echo); otherwise they are returned.
    """
    shown: list[str] = []
    emit = session.stream if session.stream is not None else shown.append
    emit(header)
    count = 0

    def on_mark(mark: str) -> None:
        nonlocal count
        if count and count % MARKS_PER_LINE == 0:
            emit("\n")
        count += 1
        emit(mark)

    outcome = ping(on_mark=on_mark, keep_marks=False)
    return "".join(shown) + "\n" + ping_summary(outcome)


@exec_handler("exec_ping")
def _ping(session: Session, m: Match) -> str:
    stack, clock = _stack(session)
    target = m.get("PING_TARGET") or ""
    repeat = int(m.get("PING_REPEAT_N") or 5)
    size = int(m.get("PING_SIZE_N") or 100)
    timeout = int(m.get("PING_TIMEOUT_N") or 2)
    source: str | None = m.get("PING_SOURCE_ADDR")
    interface = m.get("PING_SOURCE_IF")
    if interface is not None:
        if interface not in session.router.config.interfaces:
            raise invalid_at(m, "PING_SOURCE_IF")
        src = stack.source_for(interface)
        if src is None:
            raise CommandRejected("% Invalid source interface - IP not enabled or interface "
                                  "is down")
        source = format_ip(src)
    elif source is not None and stack.owns(ip_to_int(source)) is None:
        raise CommandRejected("% Invalid source address- IP address not on any of our "
                              "up interfaces")
    df = m.has("PING_DF")
    header = ping_header(target, repeat, size, timeout, source, df)
    return print_ping(session, header, partial(
        run_ping, stack, clock, ip_to_int(target), repeat=repeat, size=size,
        timeout=float(timeout), source=ip_to_int(source) if source is not None else None,
        df=df, identifier=stack.next_ident()))


@exec_handler("show_arp", "show_ip_arp")
def _show_arp(session: Session, m: Match) -> str:
    stack, clock = _stack(session)
    return _output(session, m, show_arp(stack.arp_entries(), clock.now))


@exec_handler("exec_clear_arp")
def _clear_arp(session: Session, m: Match) -> str:
    stack, _ = _stack(session)
    stack.clear_arp()
    return ""
