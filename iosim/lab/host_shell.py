"""The console of a lab host (a PC): ``ping``, ``ipconfig``, ``help``.

Hosts are not IOS devices: their shell is small and says so. Its ping prints the same
lines as a router's so that a lab's expected output reads the same on both, and in the same
way: on an interactive console the header and each mark are written as they happen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from iosim.cli.modes import MODES, Mode
from iosim.cli.ping_output import ping_header, stream_ping
from iosim.clock import VirtualClock
from iosim.net.host import Host
from iosim.net.packets import format_ip, ip_to_int
from iosim.net.ping import run_ping

_HELP = """\
Host commands:
  ipconfig                 show this host's address, mask and gateway
  ping A.B.C.D [repeat N]  send ICMP echoes
  help                     this list
"""


@dataclass
class HostShell:
    """A host's console; shaped like ``Session`` where the lab console needs it."""

    host: Host
    clock: VirtualClock
    pending: None = None
    #: An interactive console writes here what a ping prints as it goes (as ``Session``).
    stream: Callable[[str], None] | None = None

    @property
    def prompt(self) -> str:
        return f"{self.host.name}>"

    @property
    def mode_info(self) -> Mode:
        return MODES["user"]

    def feed(self, line: str) -> str:
        words = line.split()
        if not words:
            return ""
        cmd = words[0].lower()
        if cmd in ("help", "?"):
            return _HELP
        if cmd == "ipconfig" and len(words) == 1:
            gw = str(self.host.gateway) if self.host.gateway else "none"
            return (f"IP address......: {self.host.address.ip}\n"
                    f"Subnet mask.....: {self.host.address.netmask}\n"
                    f"Default gateway.: {gw}\n")
        if cmd == "ping":
            return self._ping(words[1:])
        return f"% Unknown command '{words[0]}' (try 'help')\n"

    def _ping(self, args: list[str]) -> str:
        try:
            target = ip_to_int(args[0])
            repeat = 5
            if len(args) == 3 and args[1] == "repeat":
                repeat = int(args[2])
            elif len(args) != 1:
                raise ValueError
            if not 1 <= repeat <= 100000:
                raise ValueError
        except (IndexError, ValueError):
            return "% Usage: ping A.B.C.D [repeat N]\n"
        stack = self.host.stack
        assert stack is not None
        header = ping_header(format_ip(target), repeat, 100, 2, None)
        return stream_ping(self.stream, header, partial(
            run_ping, stack, self.clock, target, repeat=repeat,
            identifier=stack.next_ident()))

    # What the interactive prompt asks of any console.
    def help(self, text: str) -> str:
        return _HELP

    def complete(self, text: str) -> str | None:
        return None
