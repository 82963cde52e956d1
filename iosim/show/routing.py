"""Pure renderers of the routing table: ``show ip route [static|connected]`` (the legend, the
gateway of last resort, the routes grouped under their classful networks) and ``show ip
route A.B.C.D`` (IOS's ``Routing entry for`` block of the route an address matches)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from iosim.net.packets import format_ip
from iosim.net.routing import (
    OSPF_TYPES,
    RibEntry,
    Route,
    RouteType,
    classful_length,
    prefix_mask,
)
from iosim.show.durations import elapsed

if TYPE_CHECKING:
    from iosim.router import Router


# The second line ends with a space, as IOS prints it.
_LEGEND = """\
Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP
       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area\x20
       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2
       E1 - OSPF external type 1, E2 - OSPF external type 2
       i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2
       ia - IS-IS inter area, * - candidate default, U - per-user static route
       o - ODR, P - periodic downloaded static route, H - NHRP, l - LISP
       a - application route
       + - replicated route, % - next hop override, p - overrides from PfR
"""


def _path_text(r: Route, now: float) -> str:
    """``[1/0] via 198.51.100.2``, ``[110/2] via 10.0.12.2, 00:01:05, Gi0/0`` (a learnt
    route's age) or ``is directly connected, Gi0/0``."""
    if r.next_hop is None:
        return f"is directly connected, {r.interface}"
    age = f", {elapsed(now - r.learned_at)}" if r.learned_at is not None else ""
    via = f"via {format_ip(r.next_hop)}{age}" + (f", {r.interface}" if r.interface else "")
    return f"[{r.distance}/{r.metric}] {via}"


def _entry_lines(entry: RibEntry, width: int, now: float, with_length: bool = True
                 ) -> list[str]:
    """An installed prefix; under "is subnetted" (one mask) IOS leaves the length out."""
    best = entry.best
    prefix = format_ip(entry.network) + (f"/{entry.prefix_len}" if with_length else "")
    lines = [f"{best.code:<{width}}{prefix} {_path_text(best, now)}"]
    pad = " " * (width + len(prefix) + 1)
    lines += [f"{pad}{_path_text(p, now)}" for p in entry.paths[1:]]
    return lines


def show_ip_route(router: Router, codes: frozenset[str] | None = None) -> str:
    """``show ip route``; with ``codes`` (``show ip route static``) only routes of those codes,
    under the same subnetting headers (which count every subnet of the network, as IOS does)."""
    table = router.routing_table()
    now = router.clock.now
    gateway = table.gateway_of_last_resort()
    out = [_LEGEND, "\n"]
    if gateway is None:
        out.append("Gateway of last resort is not set\n\n")
    else:
        out.append(f"Gateway of last resort is {format_ip(gateway)} to network 0.0.0.0\n\n")
    for group in table.groups():
        shown = [e for e in group.entries if codes is None or e.best.type.value in codes]
        if not shown:
            continue
        if not group.header:
            out.extend(ln + "\n" for ln in _entry_lines(group.entries[0], 6, now))
            continue
        head = f"      {format_ip(group.network)}/{group.header_len} is "
        if group.variably_subnetted:
            head += f"variably subnetted, {group.subnets} subnets, {group.masks} masks"
        else:
            head += f"subnetted, {group.subnets} subnets"
        out.append(head + "\n")
        for entry in shown:
            out.extend(ln + "\n" for ln in _entry_lines(entry, 9, now, group.variably_subnetted))
    return "".join(out)


#: How ``show ip route A.B.C.D`` names each route's source, and what it adds after the
#: metric of a route that names only an interface.
_KNOWN_VIA = {RouteType.CONNECTED: ("connected", " (connected, via interface)"),
              RouteType.LOCAL: ("connected", " (connected)"),
              RouteType.STATIC: ("static", " (connected)")}


#: The ``type`` an OSPF route's ``Known via`` line ends with.
_OSPF_TYPE_TEXT = {RouteType.OSPF: "type intra area", RouteType.OSPF_INTER_AREA:
                   "type inter area", RouteType.OSPF_EXTERNAL_1: "type extern 1",
                   RouteType.OSPF_EXTERNAL_2: "type extern 2"}


def _descriptor(r: Route, now: float) -> str:
    """A line of ``Routing Descriptor Blocks``: the next hop (a learnt route's: from whom
    and how long ago), or the interface."""
    if r.next_hop is None:
        return f"directly connected, via {r.interface}"
    learnt = ""
    if r.learned_at is not None and r.origin is not None:
        learnt = f", from {format_ip(r.origin)}, {elapsed(now - r.learned_at)} ago"
    return format_ip(r.next_hop) + learnt + (f", via {r.interface}" if r.interface else "")


def _known_via(r: Route, now: float) -> list[str]:
    if r.type in OSPF_TYPES:
        text = f'  Known via "{r.source}", distance {r.distance}, metric {r.metric}'
        if r.candidate_default:
            text += ", candidate default path"
        if r.type in (RouteType.OSPF_EXTERNAL_1, RouteType.OSPF_EXTERNAL_2):
            lines = [text, f"  Tag 1, {_OSPF_TYPE_TEXT[r.type]}, forward metric 1"]
        else:
            lines = [text + ", " + _OSPF_TYPE_TEXT[r.type]]
        if r.next_hop is not None and r.learned_at is not None:
            lines.append(f"  Last update from {format_ip(r.next_hop)} on {r.interface}, "
                         f"{elapsed(now - r.learned_at)} ago")
        return lines
    name, connected = _KNOWN_VIA[r.type]
    text = f'  Known via "{name}", distance {r.distance}, metric {r.metric}'
    if r.candidate_default:
        text += ", candidate default path"
    if r.next_hop is None:
        text += connected
    return [text]


def show_ip_route_address(router: Router, address: int) -> str:
    """``show ip route A.B.C.D``: the installed route the address matches (its longest
    match, the default route aside), with its paths, the one in use starred; else
    ``% Subnet not in table`` when its classful network is known, ``% Network not in
    table`` when it is not."""
    table = router.routing_table()
    paths = table.lookup_all(address)
    if not paths or paths[0].prefix_len == 0 and address != 0:
        major_len = classful_length(address)
        major = address & prefix_mask(major_len)
        known = any(e.prefix_len >= major_len and e.network & prefix_mask(major_len) == major
                    for e in table.entries())
        return "% Subnet not in table\n" if known else "% Network not in table\n"
    best = paths[0]
    head = f"Routing entry for {format_ip(best.network)}/{best.prefix_len}"
    if best.prefix_len < classful_length(best.network):
        head += ", supernet"
    now = router.clock.now
    out = [head, *_known_via(best, now), "  Routing Descriptor Blocks:"]
    for i, r in enumerate(paths):
        out += [f"  {'*' if i == 0 else ' '} {_descriptor(r, now)}",
                f"      Route metric is {r.metric}, traffic share count is 1"]
    return "\n".join(out) + "\n\n"
