"""Access-list logging: the ``%SEC-6-IPACCESSLOG*`` messages of entries that end in ``log``.

Theory of operation
-------------------
When a datagram is judged by an interface ACL entry configured with ``log``, IOS reports it
in the log, one message per *flow* of that list and action (protocol, addresses, ports or
ICMP type and code)::

    %SEC-6-IPACCESSLOGP: list 101 denied tcp 10.1.1.1(11000) -> 10.2.2.2(23), 1 packet
    %SEC-6-IPACCESSLOGDP: list 101 permitted icmp 10.1.1.1 -> 10.2.2.2 (8/0), 1 packet
    %SEC-6-IPACCESSLOGNP: list EDGE denied 50 10.1.1.1 -> 10.2.2.2, 1 packet
    %SEC-6-IPACCESSLOGNP: list 10 permitted 0 10.1.1.1 -> 10.2.2.2, 1 packet

``P`` is a TCP or UDP flow (with ports), ``DP`` an ICMP one (type/code), ``NP`` any other
protocol, given by number (a non-first fragment too: it carries no ports), and every flow
of a standard list, which looks at the source only and logs protocol 0.

The first packet of a flow is logged at once. The packets that follow are only counted,
and every five minutes each flow that had some is logged again with their number
(``, 4 packets``); a flow that had none in the interval is forgotten, so its next packet
is logged at once again. A reboot forgets everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from iosim.net.packets import IpProtocol, Ipv4Packet, int_to_ip

if TYPE_CHECKING:
    from iosim.clock import TimerHandle, VirtualClock
    from iosim.config.model import AclEntry
    from iosim.router import Router

__all__ = ["AclLog", "LOG_INTERVAL"]

LOG_INTERVAL = 300.0
"""Seconds between the counted reports of a flow (IOS: five minutes)."""

_VERB = {"permit": "permitted", "deny": "denied"}


def _ports(packet: Ipv4Packet, name: str) -> tuple[str, str]:
    seg = packet.payload
    return ("IPACCESSLOGP", f"{name} {int_to_ip(packet.src)}({int.from_bytes(seg[0:2])}) -> "
                            f"{int_to_ip(packet.dst)}({int.from_bytes(seg[2:4])})")


def _tcp(packet: Ipv4Packet) -> tuple[str, str]:
    return _ports(packet, "tcp")


def _udp(packet: Ipv4Packet) -> tuple[str, str]:
    return _ports(packet, "udp")


def _icmp(packet: Ipv4Packet) -> tuple[str, str]:
    seg = packet.payload
    return ("IPACCESSLOGDP", f"icmp {int_to_ip(packet.src)} -> {int_to_ip(packet.dst)} "
                             f"({seg[0]}/{seg[1]})")


_MINIMUM: dict[int, int] = {IpProtocol.TCP: 4, IpProtocol.UDP: 4, IpProtocol.ICMP: 2}
"""Bytes of transport header a flow's message needs (ports, or ICMP type and code)."""

_BY_PROTOCOL: dict[int, Callable[[Ipv4Packet], tuple[str, str]]] = {
    IpProtocol.TCP: _tcp, IpProtocol.UDP: _udp, IpProtocol.ICMP: _icmp}


def flow_text(packet: Ipv4Packet, standard: bool) -> tuple[str, str]:
    """(mnemonic, flow) of a logged datagram: ``("IPACCESSLOGP", "tcp A(p) -> B(q)")``."""
    proto = packet.protocol
    render = None if standard or packet.fragment_offset else _BY_PROTOCOL.get(proto)
    if render is not None and len(packet.payload) >= _MINIMUM[proto]:
        return render(packet)
    shown = 0 if standard else proto
    return "IPACCESSLOGNP", f"{shown} {int_to_ip(packet.src)} -> {int_to_ip(packet.dst)}"


class AclLog:
    """One router's access-list log: the flows seen in the current interval, with the
    packets counted since each was last logged."""

    __slots__ = ("_flows", "_timer", "clock", "router")

    def __init__(self, router: Router, clock: VirtualClock) -> None:
        self.router = router
        self.clock = clock
        self._flows: dict[tuple[str, str], int] = {}
        self._timer: TimerHandle | None = None
        router.listeners.append(self._changed)

    def matched(self, acl: str, entry: AclEntry, packet: Ipv4Packet) -> None:
        """A datagram was judged by ``entry`` (configured with ``log``) of list ``acl``."""
        mnemonic, flow = flow_text(packet, standard=entry.protocol is None)
        key = (mnemonic, f"list {acl} {_VERB[entry.action]} {flow}")
        flows = self._flows
        if key in flows:
            flows[key] += 1
            return
        flows[key] = 0
        self._emit(key, 1)
        if self._timer is None:
            self._timer = self.clock.call_later(LOG_INTERVAL, self._report)

    def _emit(self, key: tuple[str, str], packets: int) -> None:
        mnemonic, text = key
        noun = "packet" if packets == 1 else "packets"
        self.router.log(f"%SEC-6-{mnemonic}: {text}, {packets} {noun}")

    def _report(self) -> None:
        """The end of an interval: each flow's count is logged, quiet flows forgotten."""
        self._timer = None
        counted = {key: n for key, n in self._flows.items() if n}
        for key, n in counted.items():
            self._emit(key, n)
        self._flows = dict.fromkeys(counted, 0)
        if self._flows:
            self._timer = self.clock.call_later(LOG_INTERVAL, self._report)

    def _changed(self, event: str, _detail: str) -> None:
        if event == "reboot":
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._flows.clear()
