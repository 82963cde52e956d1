"""debug crypto isakmp|ipsec|ikev2 [error|packet], undebug, show debugging."""

from __future__ import annotations

from iosim.cli.exec_commands import _output
from iosim.cli.matcher import Match
from iosim.cli.session import Session, exec_handler

#: debug flag -> what IOS says when it is turned on or off, and in show debugging
_FLAGS = {"isakmp": "Crypto ISAKMP debugging is", "ipsec": "Crypto IPSEC debugging is",
          "ikev2": "IKEv2 default debugging is", "ikev2-error": "IKEv2 error debugging is",
          "ikev2-packet": "IKEv2 packet debugging is"}
#: the first terminal of the line that names a flag (a level of ikev2 before ikev2 itself)
_TERMINALS = {"DEBUG_ISAKMP": "isakmp", "DEBUG_IPSEC": "ipsec",
              "DEBUG_IKEV2_ERROR": "ikev2-error", "DEBUG_IKEV2_PACKET": "ikev2-packet",
              "DEBUG_IKEV2": "ikev2"}


def _flag(m: Match) -> str | None:
    return next((flag for terminal, flag in _TERMINALS.items() if m.has(terminal)), None)


@exec_handler("exec_debug")
def _debug(session: Session, m: Match) -> str:
    flag = _flag(m)
    assert flag is not None
    session.router.debug_flags[flag] = None
    return f"{_FLAGS[flag]} on\n"


@exec_handler("exec_undebug", "exec_no_debug")
def _undebug(session: Session, m: Match) -> str:
    flag = _flag(m)
    if flag is None:
        session.router.debug_flags.clear()
        return "All possible debugging has been turned off\n"
    session.router.debug_flags.pop(flag, None)
    return f"{_FLAGS[flag]} off\n"


@exec_handler("show_debugging")
def _show_debugging(session: Session, m: Match) -> str:
    from iosim.cli.exec_ospf import debugging_lines  # OSPF's flags, a feature of its own

    flags = [f for f in _FLAGS if f in session.router.debug_flags]
    ospf = debugging_lines(session.router.debug_flags)
    if not flags and not ospf:
        return _output(session, m, "")
    text = ("Cryptographic Subsystem:\n" + "".join(f"  {_FLAGS[f]} on\n" for f in flags)
            if flags else "")
    return _output(session, m, text + ospf + "\n")
