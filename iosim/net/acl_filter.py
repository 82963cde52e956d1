"""Interface access lists on the data plane: ``ip access-group`` and ``ip unreachables``.

Theory of operation
-------------------
``InterfaceAcls`` is a router's :class:`~iosim.net.stack.PacketFilter`. The stack asks it at
the two points IOS 15 checks an interface ACL (the order around NAT and crypto is the
stack's, see :mod:`iosim.net.stack`): each datagram arriving on an interface against the
list applied ``in`` there, each forwarded datagram leaving one against the list applied
``out``. The lists and the interface settings are read from the running-config at every
datagram, so a change applies to the next packet.

A datagram is judged by the first entry it matches (standard lists look at the source only,
extended ones at protocol, addresses, ports and ICMP type) and that entry's match counter
goes up (``show access-lists``: ``(5 matches)``); no entry matching is the implicit
``deny any`` at the end of every list, which counts nothing. A list that is applied but not
defined filters nothing, as on IOS. A datagram whose header cannot be read is left to the
stack, which drops and counts it. An entry configured with ``log`` also reports the
datagrams it judges (:mod:`iosim.net.acl_log`; the log is made at its first message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iosim.net.acl_log import AclLog
from iosim.net.flow import first_match, flow_of
from iosim.net.packets import PacketError, pull_ipv4
from iosim.net.routing import NULL_INTERFACE

if TYPE_CHECKING:
    from iosim.clock import VirtualClock
    from iosim.router import Router

__all__ = ["InterfaceAcls"]


class InterfaceAcls:
    """The interface ACLs of one router, as its stack asks them."""

    __slots__ = ("_log", "clock", "router")

    def __init__(self, router: Router, clock: VirtualClock) -> None:
        self.router = router
        self.clock = clock  # the interval timers of the access-list log
        self._log: AclLog | None = None

    def _applied(self, interface: str, direction: str) -> str | None:
        intf = self.router.config.interfaces.get(interface)
        if intf is None:
            return None
        return intf.access_group_in if direction == "in" else intf.access_group_out

    def permits(self, interface: str, direction: str, datagram: bytes) -> bool:
        """Whether the list applied ``direction`` on ``interface`` lets ``datagram`` pass."""
        name = self._applied(interface, direction)
        if name is None:
            return True
        acl = self.router.config.acls.get(name)
        if acl is None:
            return True  # applied, not defined: IOS filters nothing
        try:
            packet = pull_ipv4(datagram)
        except PacketError:
            return True
        entry = first_match(acl, flow_of(packet), fragments=True)
        if entry is None:
            return False
        if entry.log:
            if self._log is None:
                self._log = AclLog(self.router, self.clock)
            self._log.matched(name, entry, packet)
        return entry.action == "permit"

    def filters(self, interface: str) -> bool:
        """Whether an access group is applied on ``interface`` (in or out)."""
        return (self._applied(interface, "in") or self._applied(interface, "out")) is not None

    def unreachables(self, interface: str) -> bool:
        if interface == NULL_INTERFACE:
            return self.router.config.null0.unreachables
        intf = self.router.config.interfaces.get(interface)
        return intf is None or intf.unreachables
