"""OSPF's EXEC commands: ``show ip ospf [N] [neighbor|interface|database [TYPE ...]]``, ``show ip
protocols``, ``show ip route ospf``, ``debug ip ospf adj|hello|events`` (and ``undebug``),
``clear ip ospf [N] process`` with IOS's question."""

from __future__ import annotations

from collections.abc import Container

from iosim.cli.exec_commands import _known_interface, _output
from iosim.cli.lines import ios_strip
from iosim.cli.matcher import Match
from iosim.cli.session import Pending, Session, exec_handler
from iosim.net.packets import ip_to_int
from iosim.show import ospf as show
from iosim.show.routing import show_ip_route

#: ``debug ip ospf KEYWORD`` -> (the router's debug flag, what IOS answers)
DEBUG_FLAGS = {"DEBUG_OSPF_ADJ": ("ospf-adj", "OSPF adjacency debugging is"),
               "DEBUG_OSPF_HELLO": ("ospf-hello", "OSPF hello debugging is"),
               "DEBUG_OSPF_EVENTS": ("ospf-events", "OSPF events debugging is")}

#: ``show ip ospf database KEYWORD`` terminals -> the keyword
_DATABASE = {"SHOW_DB_ROUTER": "router", "SHOW_DB_NETWORK": "network",
             "SHOW_DB_SUMMARY": "summary", "SHOW_DB_ASBR_SUMMARY": "asbr-summary",
             "SHOW_DB_EXTERNAL": "external"}

_OSPF_CODES = frozenset({"O", "O IA", "O E1", "O E2"})


def _pid(m: Match, terminal: str) -> int | None:
    value = m.get(terminal)
    return int(value) if value is not None else None


def _address(m: Match, terminal: str) -> int | None:
    value = m.get(terminal)
    return ip_to_int(value) if value is not None else None


@exec_handler("show_ip_ospf")
def _show_ip_ospf(session: Session, m: Match) -> str:
    return _output(session, m, show.show_ip_ospf(session.router, _pid(m, "SHOW_OSPF_PID")))


@exec_handler("show_ip_ospf_neighbor")
def _show_neighbor(session: Session, m: Match) -> str:
    name = _known_interface(session, m, "SHOW_OSPF_NBR_IF")
    return _output(session, m, show.show_ip_ospf_neighbor(
        session.router, _pid(m, "SHOW_OSPF_PID"), name))


@exec_handler("show_ip_ospf_interface")
def _show_interface(session: Session, m: Match) -> str:
    pid = _pid(m, "SHOW_OSPF_PID")
    if m.has("SHOW_OSPF_BRIEF"):
        return _output(session, m, show.show_ip_ospf_interface_brief(session.router, pid))
    name = _known_interface(session, m, "SHOW_OSPF_IF")
    return _output(session, m, show.show_ip_ospf_interface(session.router, pid, name))


@exec_handler("show_ip_ospf_database")
def _show_database(session: Session, m: Match) -> str:
    keyword = next((k for t, k in _DATABASE.items() if m.has(t)), None)
    ls_type = show.DATABASE_KEYWORDS[keyword] if keyword is not None else None
    lsa_filter = show.LsaFilter(_address(m, "SHOW_DB_LSID"), _address(m, "SHOW_DB_ADV_ADDRESS"),
                                m.has("SHOW_DB_SELF_ORIGINATE"))
    return _output(session, m, show.show_ip_ospf_database(
        session.router, _pid(m, "SHOW_OSPF_PID"), ls_type, lsa_filter))


@exec_handler("show_ip_protocols")
def _show_protocols(session: Session, m: Match) -> str:
    return _output(session, m, show.show_ip_protocols(session.router))


@exec_handler("show_ip_route_ospf")
def _show_route_ospf(session: Session, m: Match) -> str:
    return _output(session, m, show_ip_route(session.router, _OSPF_CODES))


@exec_handler("exec_debug_ospf")
def _debug(session: Session, m: Match) -> str:
    flag, text = next(v for t, v in DEBUG_FLAGS.items() if m.has(t))
    session.router.debug_flags[flag] = None
    return f"{text} on\n"


@exec_handler("exec_undebug_ospf")
def _undebug(session: Session, m: Match) -> str:
    flag, text = next(v for t, v in DEBUG_FLAGS.items() if m.has(t))
    session.router.debug_flags.pop(flag, None)
    return f"{text} off\n"


def debugging_lines(flags: Container[str]) -> str:
    """``show debugging``'s OSPF part."""
    on = [text for flag, text in DEBUG_FLAGS.values() if flag in flags]
    if not on:
        return ""
    return "OSPF:\n" + "".join(f"  {text} on\n" for text in on)


@exec_handler("exec_clear_ospf")
def _clear(session: Session, m: Match) -> str:
    pid = _pid(m, "CLEAR_OSPF_PID")
    router = session.router

    def answer(text: str) -> str:
        # imported here: the OSPF engine is not needed until a lab runs it
        from iosim.ospf.router_ospf import RouterOspf

        if ios_strip(text).lower() in ("y", "yes"):
            plane = router.ospf_plane
            if isinstance(plane, RouterOspf):
                plane.clear(pid)
        return ""

    question = "Reset ALL OSPF processes? [no]: " if pid is None else (
        f"Reset OSPF process {pid}? [no]: ")
    session.pending = Pending(question, answer)
    return ""
