"""The IPv4 routing table a router computes from its interfaces and static routes.

Connected (C) and local (L) routes come from interfaces that are up/up; a static route
(S) is installed when its next hop resolves through another installed route, or when
it names an interface that is up.  Longest prefix wins on lookup; among equal
prefixes, the lowest administrative distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iosim.router import Router


@dataclass(frozen=True, slots=True)
class RibRoute:
    """One installed route."""

    code: str  # "C", "L", "S"
    network: IPv4Network
    distance: int = 0
    metric: int = 0
    next_hop: IPv4Address | None = None
    interface: str | None = None


def _connected(router: Router) -> list[RibRoute]:
    out: list[RibRoute] = []
    for intf in router.config.sorted_interfaces():
        if router.interface_up(intf.name) != ("up", "up"):
            continue
        pairs = []
        if intf.address is not None and intf.mask is not None:
            pairs.append((intf.address, intf.mask))
        pairs.extend(intf.secondaries)
        for addr, mask in pairs:
            net = IPv4Network(f"{addr}/{mask}", strict=False)
            out.append(RibRoute("C", net, interface=intf.name))
            if net.prefixlen < 32:
                out.append(RibRoute("L", IPv4Network(f"{addr}/32"), interface=intf.name))
    return out


def _lookup(routes: list[RibRoute], dst: IPv4Address) -> RibRoute | None:
    best: RibRoute | None = None
    for r in routes:
        if dst in r.network and (
            best is None
            or r.network.prefixlen > best.network.prefixlen
            or (r.network.prefixlen == best.network.prefixlen and r.distance < best.distance)
        ):
            best = r
    return best


def build_rib(router: Router) -> list[RibRoute]:
    """Every installed route, connected and local first, then statics."""
    routes = _connected(router)
    statics: list[RibRoute] = []
    for s in router.config.static_routes:
        if s.interface is not None:
            if router.interface_up(s.interface) != ("up", "up") and not s.permanent:
                continue
        elif s.next_hop is not None:
            via = _lookup(routes, s.next_hop)
            if via is None and not s.permanent:
                continue
        statics.append(RibRoute("S", s.network, s.distance, 0, s.next_hop, s.interface))
    # Among statics to the same prefix only the best distance is installed.
    best: dict[IPv4Network, int] = {}
    for r in statics:
        best[r.network] = min(best.get(r.network, 256), r.distance)
    connected_nets = {r.network for r in routes}
    routes.extend(r for r in statics
                  if r.distance == best[r.network] and r.network not in connected_nets)
    return routes


def lookup(router: Router, dst: IPv4Address) -> RibRoute | None:
    """The route a packet to ``dst`` takes (longest prefix match)."""
    return _lookup(build_rib(router), dst)
