"""Network EXEC commands: ping, show [ip] arp, clear arp-cache."""

from __future__ import annotations

from functools import partial

from iosim.cli.errors import CommandRejected
from iosim.cli.exec_commands import _output
from iosim.cli.matcher import Match
from iosim.cli.ping_output import ping_header, stream_ping
from iosim.cli.session import Session, exec_handler
from iosim.clock import VirtualClock
from iosim.config.handlers import invalid_at
from iosim.net.packets import format_ip, ip_to_int
from iosim.net.ping import run_ping
from iosim.net.stack import IpStack
from iosim.show.interfaces import show_arp


def _stack(session: Session) -> tuple[IpStack, VirtualClock]:
    router = session.router
    if router.stack is None or not isinstance(router.clock, VirtualClock):
        raise CommandRejected("% This router is not connected to a lab network")
    return router.stack, router.clock


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
    return stream_ping(session.stream, header, partial(
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
