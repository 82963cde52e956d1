"""A router's terminal lines in use: who is logged in on which vty, from where.

IOSv numbers its lines absolutely: ``con 0`` is line 0, ``aux 0`` line 1 and ``vty N``
line N + 2, as ``show users`` and ``clear line`` print and take them. A connection gets
the lowest vty that a ``line vty`` block configures, that is free, and whose ``transport
input`` lets its protocol in; with none, IOS refuses the connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iosim.cli.session import Session
    from iosim.config.model import LineConfig, RunningConfig

__all__ = ["VTY_BASE", "Terminal", "TerminalLines", "vty_config"]

#: The absolute line number of ``vty 0`` on IOSv (``con 0`` is 0, ``aux 0`` is 1).
VTY_BASE = 2


@dataclass
class Terminal:
    """One vty in use."""

    vty: int
    session: Session
    peer: str  # the client's address
    protocol: str  # "telnet" or "ssh"
    user: str = ""  # the username it logged in with ("" for a line password or none)
    last_input: float = 0.0  # the router's clock at the last key typed
    hangup: Callable[[], None] | None = None  # ends the connection (clear line)
    cipher: str = ""  # SSH: the cipher and MAC negotiated (show ssh)
    mac: str = ""

    @property
    def absolute(self) -> int:
        return VTY_BASE + self.vty

    @property
    def name(self) -> str:
        return f"vty {self.vty}"


def vty_config(config: RunningConfig, vty: int) -> LineConfig | None:
    """The ``line vty`` block that configures vty ``vty`` (None: the router has no such
    line)."""
    return next((line for line in config.lines
                 if line.kind == "vty" and line.first <= vty <= line.last), None)


def admits(line: LineConfig, protocol: str) -> bool:
    """Whether ``transport input`` lets ``protocol`` in (none set: every protocol)."""
    allowed = line.transport_input
    return allowed is None or "all" in allowed or protocol in allowed


class TerminalLines:
    """The vtys of one router that are in use."""

    def __init__(self) -> None:
        self.vtys: dict[int, Terminal] = {}

    def free_vty(self, config: RunningConfig, protocol: str) -> int | None:
        """The vty a new ``protocol`` connection gets, or None (refused)."""
        numbers = sorted({n for line in config.lines if line.kind == "vty"
                          for n in range(line.first, line.last + 1)})
        for n in numbers:
            line = vty_config(config, n)
            if n not in self.vtys and line is not None and admits(line, protocol):
                return n
        return None

    def open(self, terminal: Terminal) -> None:
        self.vtys[terminal.vty] = terminal

    def close(self, vty: int) -> None:
        self.vtys.pop(vty, None)

    def of(self, session: Session) -> Terminal | None:
        """The vty a session runs on (None: the console)."""
        return next((t for t in self.vtys.values() if t.session is session), None)
