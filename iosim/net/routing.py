"""The IPv4 routing table of one router: candidate routes, best-route selection, LPM lookup.

Theory of operation
-------------------
The table keeps every route it was given (the candidates: connected and local routes of the
interfaces that are up, configured static routes) and derives from them the installed routes,
the way IOS does:

1. Connected (``C``), local (``L``) and static routes that name an interface are usable as is.
2. A static route that only names a next hop is usable once that next hop resolves through
   routes already usable, other than itself and not to one of this router's own addresses.
   This is repeated until nothing changes, so statics may resolve through other statics, and
   two statics that only resolve through each other are never installed.
3. For each prefix the usable routes with the lowest (administrative distance, metric) are
   installed; several equal ones are kept as equal-cost paths in the order they were added.
   A floating static (higher distance) is therefore installed only while the better route is
   missing or unresolvable.

The installed routes are indexed as one dict per prefix length, searched from /32 down to /0,
so a longest-prefix match costs at most one mask and one dict probe per prefix length present.
Changes rebuild the index, except a route that can only add a prefix of its own (a reverse
route injected per tunnel): when no candidate waits for its next hop, the prefix is new and
no next hop of a recursive route lies inside it, the route is put straight into the index,
and taken out the same way, so a hub's thousands of injected routes cost O(1) each.

Addresses are ``int`` as in :mod:`iosim.net.packets`; the factory methods also accept dotted
strings and :class:`ipaddress.IPv4Address`. The grouping used by ``show ip route`` ("is
variably subnetted, 2 subnets, 2 masks") is computed here as plain data by :meth:`groups`.
"""

from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass, field
from enum import Enum

from iosim.net.packets import ip_to_int

__all__ = [
    "DEFAULT_DISTANCE",
    "NULL_INTERFACE",
    "OSPF_TYPES",
    "Resolution",
    "RibEntry",
    "Route",
    "RouteGroup",
    "RouteType",
    "RoutingTable",
    "classful_length",
    "prefix_mask",
]

_Address = int | str | ipaddress.IPv4Address

MAX_RECURSION = 8
"""How many next hops deep a recursive static route may resolve."""

NULL_INTERFACE = "Null0"
"""The discard interface: always up, it drops what a route sends to it
(``ip route 10.0.0.0 255.0.0.0 Null0``)."""


class RouteType(Enum):
    """Route source; the value is the code IOS prints in ``show ip route``."""

    CONNECTED = "C"
    LOCAL = "L"
    STATIC = "S"
    OSPF = "O"  # intra-area
    OSPF_INTER_AREA = "O IA"
    OSPF_EXTERNAL_1 = "O E1"
    OSPF_EXTERNAL_2 = "O E2"


#: The route types a routing protocol puts in the table (they carry the time they were learnt).
OSPF_TYPES = frozenset({RouteType.OSPF, RouteType.OSPF_INTER_AREA, RouteType.OSPF_EXTERNAL_1,
                        RouteType.OSPF_EXTERNAL_2})

DEFAULT_DISTANCE: dict[RouteType, int] = {
    RouteType.CONNECTED: 0,
    RouteType.LOCAL: 0,
    RouteType.STATIC: 1,
    RouteType.OSPF: 110,
    RouteType.OSPF_INTER_AREA: 110,
    RouteType.OSPF_EXTERNAL_1: 110,
    RouteType.OSPF_EXTERNAL_2: 110,
}
"""Administrative distance used when a route does not give one (IOS defaults)."""


def prefix_mask(prefix_len: int) -> int:
    """The netmask of a prefix length as an int (``24`` -> ``0xFFFFFF00``)."""
    if not 0 <= prefix_len <= 32:
        raise ValueError(f"prefix length {prefix_len} out of range 0-32")
    return (0xFFFFFFFF << (32 - prefix_len)) & 0xFFFFFFFF


def classful_length(address: int) -> int:
    """Prefix length of the classful network holding ``address`` (A /8, B /16, C /24, else /32)."""
    first = address >> 24
    if first < 128:
        return 8
    if first < 192:
        return 16
    if first < 224:
        return 24
    return 32


@dataclass(frozen=True, slots=True)
class Route:
    """One route. ``network`` has no host bits set; ``distance`` None means the type default.

    Connected and local routes name their ``interface``; a static route names a ``next_hop``,
    an ``interface``, or both (``ip route 0.0.0.0 0.0.0.0 Gi0/0 192.0.2.1``); a route a
    protocol learnt names both, and says when it was learnt, from which router (its router
    ID) and by which process (``ospf 1``), which ``show ip route`` prints but which does not
    make it another route.
    """

    type: RouteType
    network: int
    prefix_len: int
    next_hop: int | None = None
    interface: str | None = None
    distance: int | None = None
    metric: int = 0
    learned_at: float | None = field(default=None, compare=False)
    origin: int | None = field(default=None, compare=False)
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        mask = prefix_mask(self.prefix_len)
        if not 0 <= self.network <= 0xFFFFFFFF or self.network & ~mask & 0xFFFFFFFF:
            raise ValueError(f"{self.network:#010x}/{self.prefix_len} has host bits set")
        if self.distance is None:
            object.__setattr__(self, "distance", DEFAULT_DISTANCE[self.type])
        elif not 0 <= self.distance <= 255:
            raise ValueError(f"administrative distance {self.distance} out of range 0-255")
        if self.type is RouteType.STATIC:
            if self.next_hop is None and self.interface is None:
                raise ValueError("a static route needs a next hop or an interface")
        elif self.interface is None:
            raise ValueError(f"a {self.type.name.lower()} route needs an interface")

    @classmethod
    def connected(cls, network: _Address, prefix_len: int, interface: str) -> Route:
        """A ``C`` route for the subnet of an interface address (host bits are cleared)."""
        net = ip_to_int(network) & prefix_mask(prefix_len)
        return cls(RouteType.CONNECTED, net, prefix_len, interface=interface)

    @classmethod
    def local(cls, address: _Address, interface: str) -> Route:
        """An ``L`` /32 route for one of the router's own interface addresses."""
        return cls(RouteType.LOCAL, ip_to_int(address), 32, interface=interface)

    @classmethod
    def static(
        cls,
        network: _Address,
        prefix_len: int,
        next_hop: _Address | None = None,
        interface: str | None = None,
        distance: int | None = None,
    ) -> Route:
        """An ``S`` route, as ``ip route network mask [interface] [next_hop] [distance]``."""
        hop = None if next_hop is None else ip_to_int(next_hop)
        return cls(RouteType.STATIC, ip_to_int(network), prefix_len, hop, interface, distance)

    @property
    def mask(self) -> int:
        """The netmask as an int."""
        return prefix_mask(self.prefix_len)

    @property
    def prefix(self) -> ipaddress.IPv4Network:
        """The destination as an :class:`ipaddress.IPv4Network`."""
        return ipaddress.IPv4Network((self.network, self.prefix_len))

    @property
    def code(self) -> str:
        """The ``show ip route`` code: ``C``, ``L``, ``S``, ``O IA`` ..., with IOS's ``*`` of a
        candidate default after the first letter (``S*``, ``O*E2``)."""
        if not self.candidate_default:
            return self.type.value
        head, _, rest = self.type.value.partition(" ")
        return head + "*" + rest

    @property
    def candidate_default(self) -> bool:
        """True for a default route that is not connected (marked ``*`` by IOS)."""
        return self.prefix_len == 0 and self.type not in (RouteType.CONNECTED, RouteType.LOCAL)

    @property
    def preference(self) -> tuple[int, int]:
        """(administrative distance, metric): lower wins."""
        return (self.distance if self.distance is not None else 0, self.metric)


@dataclass(frozen=True, slots=True)
class RibEntry:
    """One installed prefix and its equal-cost paths (at least one), best first."""

    network: int
    prefix_len: int
    paths: tuple[Route, ...]

    @property
    def best(self) -> Route:
        """The path used for forwarding."""
        return self.paths[0]


@dataclass(frozen=True, slots=True)
class RouteGroup:
    """Installed prefixes under one classful network, as ``show ip route`` groups them.

    With ``header`` false the single entry is printed on its own (a classful network or a
    supernet such as the default route). Otherwise IOS prints ``network/header_len is
    subnetted, N subnets`` or, when ``variably_subnetted``, ``network/header_len is variably
    subnetted, N subnets, M masks`` before the entries.
    """

    network: int
    header_len: int
    entries: tuple[RibEntry, ...]
    header: bool
    variably_subnetted: bool
    subnets: int
    masks: int


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where to send a packet: the matching route, the next-hop address, the exit interface.

    ``next_hop`` is the destination itself for a directly connected destination; for a
    local route it is the router's own address and ``interface`` is the interface owning it.
    """

    route: Route
    next_hop: int
    interface: str

    @property
    def is_local(self) -> bool:
        """True when the packet is for this router."""
        return self.route.type is RouteType.LOCAL


@dataclass
class _Index:
    """Installed routes by prefix length: (prefix_len, mask, {network: paths}), longest first."""

    levels: list[tuple[int, int, dict[int, tuple[Route, ...]]]] = field(default_factory=list)

    def lookup(self, dst: int) -> tuple[Route, ...] | None:
        for _, mask, table in self.levels:
            paths = table.get(dst & mask)
            if paths:
                return paths
        return None


def _build_index(routes: list[Route]) -> _Index:
    best: dict[tuple[int, int], list[Route]] = {}
    for route in routes:
        key = (route.network, route.prefix_len)
        current = best.get(key)
        if current is None or route.preference < current[0].preference:
            best[key] = [route]
        elif route.preference == current[0].preference:
            current.append(route)
    by_len: dict[int, dict[int, tuple[Route, ...]]] = {}
    for (network, plen), paths in best.items():
        by_len.setdefault(plen, {})[network] = tuple(paths)
    return _Index(
        [(plen, prefix_mask(plen), by_len[plen]) for plen in sorted(by_len, reverse=True)]
    )


class RoutingTable:
    """The routes of one router; see the module docstring for the selection rules."""

    def __init__(self) -> None:
        self._candidates: list[Route] = []
        self._index = _Index()
        # the candidates, for membership (a dict as a set: half a set's size past 5 routes)
        self._present: dict[Route, None] = {}
        self._per_prefix: dict[tuple[int, int], int] = {}  # candidates per (network, length)
        self._waiting = 0  # candidates not installed at the last rebuild
        self._next_hops: list[int] = []  # of the recursive candidates, sorted

    def _set_candidates(self, routes: list[Route]) -> None:
        self._candidates = routes
        self._present = dict.fromkeys(routes)
        self._per_prefix = {}
        for r in routes:
            key = (r.network, r.prefix_len)
            self._per_prefix[key] = self._per_prefix.get(key, 0) + 1
        self._next_hops = sorted(r.next_hop for r in routes
                                 if r.interface is None and r.next_hop is not None)

    # -- changes -----------------------------------------------------------------------------

    def add(self, route: Route) -> bool:
        """Add a candidate route; False (and no change) if an identical one is present."""
        if route in self._present:
            return False
        if self._insert_alone(route):
            return True
        self._set_candidates([*self._candidates, route])
        self._rebuild()
        return True

    def add_many(self, routes: list[Route]) -> None:
        """Add candidate routes at once (one rebuild; duplicates are ignored)."""
        have = set(self._present)
        added = list(self._candidates)
        for route in routes:
            if route not in have:
                have.add(route)
                added.append(route)
        self._set_candidates(added)
        self._rebuild()

    def remove(self, route: Route) -> bool:
        """Remove a candidate route; False if it was not present."""
        if route not in self._present:
            return False
        if self._delete_alone(route):
            return True
        self._set_candidates([r for r in self._candidates if r != route])
        self._rebuild()
        return True

    def add_connected(
        self, interface: str, address: _Address, prefix_len: int
    ) -> tuple[Route, Route]:
        """Add the ``C`` and ``L`` routes of an interface address that came up."""
        connected = Route.connected(address, prefix_len, interface)
        local = Route.local(address, interface)
        self._set_candidates(self._candidates + [r for r in dict.fromkeys((connected, local))
                                                 if r not in self._present])
        self._rebuild()
        return connected, local

    def remove_interface(self, interface: str) -> list[Route]:
        """Drop every route naming ``interface`` (it went down); return the removed routes."""
        removed = [r for r in self._candidates if r.interface == interface]
        if removed:
            self._set_candidates([r for r in self._candidates if r.interface != interface])
            self._rebuild()
        return removed

    def clear(self, route_type: RouteType | None = None) -> None:
        """Remove all routes, or all routes of one type."""
        if route_type is None:
            self._set_candidates([])
        else:
            self._set_candidates([r for r in self._candidates if r.type is not route_type])
        self._rebuild()

    # -- queries -----------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of installed prefixes."""
        return sum(len(table) for _, _, table in self._index.levels)

    def candidates(self) -> list[Route]:
        """Every route given to the table, installed or not, in the order added."""
        return list(self._candidates)

    def lookup(self, dst: int) -> Route | None:
        """The best installed route for ``dst`` by longest-prefix match, or None."""
        paths = self._index.lookup(dst)
        return paths[0] if paths else None

    def lookup_all(self, dst: int) -> tuple[Route, ...]:
        """All equal-cost installed paths of the longest matching prefix (empty if none)."""
        return self._index.lookup(dst) or ()

    def resolve(self, dst: int) -> Resolution | None:
        """Follow next hops recursively to an exit interface; None if unroutable or looping."""
        return _resolve(self._index, dst)

    def entries(self) -> list[RibEntry]:
        """Installed prefixes in address order (then shorter prefix first)."""
        found = [
            RibEntry(network, plen, paths)
            for plen, _, table in self._index.levels
            for network, paths in table.items()
        ]
        found.sort(key=lambda e: (e.network, e.prefix_len))
        return found

    def gateway_of_last_resort(self) -> int | None:
        """Next hop of the installed default route (0 if it only names an interface), or None.

        IOS prints it as ``Gateway of last resort is <gw> to network 0.0.0.0``.
        """
        paths = self._index.lookup(0)
        if not paths or paths[0].prefix_len != 0:
            return None
        return paths[0].next_hop or 0

    def groups(self) -> list[RouteGroup]:
        """Installed prefixes grouped by classful network, in ``show ip route`` order."""
        grouped: dict[tuple[int, int], list[RibEntry]] = {}
        for entry in self.entries():
            classful = classful_length(entry.network)
            if entry.prefix_len < classful:  # supernet: listed alone
                grouped[(entry.network, entry.prefix_len)] = [entry]
                continue
            major = entry.network & prefix_mask(classful)
            grouped.setdefault((major, classful), []).append(entry)
        result = []
        for (major, major_len), entries in sorted(grouped.items()):
            lengths = sorted({e.prefix_len for e in entries})
            alone = len(entries) == 1 and entries[0].prefix_len <= major_len
            variable = len(lengths) > 1
            result.append(
                RouteGroup(
                    network=major,
                    header_len=major_len if variable or alone else lengths[0],
                    entries=tuple(entries),
                    header=not alone,
                    variably_subnetted=variable,
                    subnets=len(entries),
                    masks=len(lengths),
                )
            )
        return result

    # -- selection ---------------------------------------------------------------------------

    def _inside(self, route: Route) -> bool:
        """Whether a recursive candidate's next hop lies inside ``route``'s prefix (its
        resolution could change when the prefix comes or goes)."""
        hops = self._next_hops
        i = bisect.bisect_left(hops, route.network)
        return i < len(hops) and hops[i] <= route.network | (~route.mask & 0xFFFFFFFF)

    def _level(self, prefix_len: int) -> dict[int, tuple[Route, ...]] | None:
        for plen, _, table in self._index.levels:
            if plen == prefix_len:
                return table
        return None

    def _insert_alone(self, route: Route) -> bool:
        """Install ``route`` without a rebuild if it changes nothing but its own new prefix
        (module docstring); False if a rebuild is needed."""
        if self._waiting or self._inside(route) or (
                route.next_hop is not None and route.next_hop & route.mask == route.network):
            return False  # something (maybe the route itself) could resolve through it
        table = self._level(route.prefix_len)
        if table is not None and route.network in table:
            return False  # the prefix exists: preferences decide, rebuild
        if route.interface is None and (route.next_hop is None
                                        or not _reaches(self._index, route)):
            return False
        if table is None:
            table = {}
            levels = self._index.levels
            levels.append((route.prefix_len, prefix_mask(route.prefix_len), table))
            levels.sort(key=lambda level: -level[0])
        table[route.network] = (route,)
        self._candidates.append(route)
        self._present[route] = None
        self._per_prefix[(route.network, route.prefix_len)] = 1
        if route.interface is None and route.next_hop is not None:
            bisect.insort(self._next_hops, route.next_hop)
        return True

    def _delete_alone(self, route: Route) -> bool:
        """Withdraw ``route`` without a rebuild if it was the only candidate of its prefix
        and no other next hop lies inside it; False if a rebuild is needed."""
        table = self._level(route.prefix_len)
        key = (route.network, route.prefix_len)
        if (self._waiting or table is None or table.get(route.network) != (route,)
                or self._per_prefix.get(key) != 1):
            return False
        hop = route.next_hop if route.interface is None else None
        hops = self._next_hops
        if hop is not None:
            del hops[bisect.bisect_left(hops, hop)]
        inside = self._inside(route)
        if hop is not None:
            bisect.insort(hops, hop)
        if inside:
            return False
        if hop is not None:
            del hops[bisect.bisect_left(hops, hop)]
        del table[route.network]
        if not table:
            self._index.levels = [lv for lv in self._index.levels if lv[2]]
        self._candidates.remove(route)
        del self._present[route]
        del self._per_prefix[key]
        return True

    def _rebuild(self) -> None:
        usable = [r for r in self._candidates if r.interface is not None]
        waiting = [r for r in self._candidates if r.interface is None]
        index = _build_index(usable)
        progress = True
        while waiting and progress:
            progress = False
            still = []
            for route in waiting:
                if _reaches(index, route):
                    usable.append(route)
                    progress = True
                else:
                    still.append(route)
            waiting = still
            if progress:
                index = _build_index(usable)
        # A next hop that resolved before its own route was installed may now resolve only
        # through that route (a recursive loop): withdraw such routes until stable.
        while True:
            broken = [r for r in usable if r.interface is None and not _reaches(index, r)]
            if not broken:
                break
            usable = [r for r in usable if r not in broken]
            index = _build_index(usable)
        self._index = index
        self._waiting = len(self._candidates) - len(usable)


def _reaches(index: _Index, route: Route) -> bool:
    assert route.next_hop is not None
    found = _resolve(index, route.next_hop)
    return found is not None and not found.is_local


def _resolve(index: _Index, dst: int) -> Resolution | None:
    paths = index.lookup(dst)
    if not paths:
        return None
    first = current = paths[0]
    gateway = dst
    for _ in range(MAX_RECURSION):
        if current.interface is not None:
            hop = current.next_hop if current.next_hop is not None else gateway
            return Resolution(first, hop, current.interface)
        assert current.next_hop is not None
        gateway = current.next_hop
        paths = index.lookup(gateway)
        if not paths or paths[0].type is RouteType.LOCAL:
            return None
        current = paths[0]
    return None
