"""A router's routing table, built from its interfaces and static routes.

Connected and local routes come from interfaces that are up/up; static routes from the
config (one naming an interface only while that interface is up, unless ``permanent``; the
discard interface Null0 is always up) and from the protocols that put routes in one at a
time (``router.injected_routes``: reverse route injection, and each route an OSPF process
computed).
Selection, recursive next-hop resolution and grouping are ``iosim.net.routing``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iosim.net.routing import NULL_INTERFACE, Route, RoutingTable

if TYPE_CHECKING:
    from iosim.router import Router


def build_rib(router: Router) -> RoutingTable:
    """The routing table of ``router`` as its configuration and interface state make it."""
    table = RoutingTable()
    for intf in router.config.sorted_interfaces():
        if router.interface_up(intf.name) != ("up", "up"):
            continue
        pairs = [(intf.address, intf.mask)] if intf.address is not None else []
        pairs += intf.secondaries
        for addr, mask in pairs:
            if addr is None or mask is None:
                continue
            length = bin(int(mask)).count("1")
            if length == 32:  # a /32 is its own connected route; IOS adds no L route
                table.add(Route.connected(addr, 32, intf.name))
            else:
                table.add_connected(intf.name, addr, length)
    statics = []
    for s in router.config.static_routes.values():
        if s.interface not in (None, NULL_INTERFACE) and not s.permanent and (
                router.interface_up(s.interface) != ("up", "up")):
            continue
        statics.append(Route.static(s.prefix, s.network.prefixlen, s.next_hop, s.interface,
                                    s.distance))
    table.add_many(statics + list(router.injected_routes.values()))
    return table
