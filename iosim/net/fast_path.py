"""The forwarding cache: what a router learnt forwarding one datagram, reused for the next.

Theory of operation
-------------------
IOS does not route each packet from scratch: CEF keeps, per destination, the interface and the
rewritten Ethernet header to send with. The stack does the same for transit traffic. When
a datagram arriving on interface A for address D has been forwarded the slow way (every
check, every hook) out of an Ethernet interface B to a neighbour whose ARP entry is known,
and nothing on A or B could have acted on it (no access group, no feature hook that acts
on either interface), the result is kept as an :class:`Adjacency` under (A, D). The next
datagram for D on A is switched with it: the header checks the slow path makes (our MAC,
IPv4 with no options, not a fragment, a sound header checksum, a TTL above 1, not larger
than B's MTU), the TTL decremented with the checksum updated incrementally, the kept header
put in front, the interfaces' counters counted, and the frame handed to the link. Anything
unusual falls back to the slow path, which decides and answers as before.

An adjacency holds only while what it was learnt from holds:

* the ARP entry it uses is still the cache's entry for the next hop and has not aged out,
  and no ARP broadcast has been heard on B's segment since (it may have taught a new MAC);
* nothing has changed on the router: a configuration command, an interface or line state,
  a route injected or withdrawn, a reload. The router forgets every adjacency then
  (:meth:`ForwardingCache.forget`), which is cheap: a settled network changes seldom.

A capture on the router (``monitor capture``) sees every frame, so while one runs nothing is
switched here. Hosts do not forward and never learn adjacencies.
"""

from __future__ import annotations

from dataclasses import dataclass

from iosim.net.segment import Port

#: how many destinations one router keeps; past it the cache starts again (a scan of a
#: whole address range must not grow a router's memory without bound)
MAX_ADJACENCIES = 4096


@dataclass(frozen=True, slots=True)
class Adjacency:
    """How to switch a datagram to one destination that arrived on one interface."""

    in_mac: bytes  # the MAC a frame must be addressed to (the arrival interface's)
    out_interface: str
    header: bytes  # the Ethernet header to send with: the neighbour's MAC, ours, IPv4
    next_hop: int
    neighbour: object  # the ARP entry the header was made from (its identity is checked)
    expires: float  # when that entry ages out (inf for one that does not)
    mtu: int
    port: Port | None  # the out interface's segment, if it is shared
    floods: int  # ARP broadcasts on that segment when the adjacency was made


class ForwardingCache(dict[tuple[str, bytes], Adjacency]):
    """The adjacencies of one stack, by (arrival interface, destination address bytes): a
    plain dict (every router has one, most of them empty)."""

    __slots__ = ()

    def forget(self) -> None:
        """Something the adjacencies were made from changed: make them again as needed."""
        if self:
            self.clear()

    def keep(self, interface: str, dst: bytes, adjacency: Adjacency) -> None:
        if len(self) >= MAX_ADJACENCIES:
            self.clear()
        self[(interface, dst)] = adjacency
