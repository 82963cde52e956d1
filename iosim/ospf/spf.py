"""The routing table calculation of RFC 2328 section 16, as pure functions of the LSDBs.

Theory of operation
-------------------
:func:`intra_area` is Dijkstra's algorithm over one area's router- and network-LSAs (16.1):
a binary heap of candidates keyed by (distance, network vertices first), each link used only
if the far vertex's LSA links back (the bidirectional check of 16.1 (2)(b)), next hops as
16.1.1 computes them (the neighbour's address on a point-to-point link, the router's
address on a network the root is attached to, else the parent's), and equal-cost paths
merged up to IOS's ``maximum-paths`` of 4. Then the stub links of the vertices reached
(16.1 stage 2). It costs O((V + E) log V) for V routers and networks and E links: one
calculation never looks at an LSA twice.

:func:`inter_area` adds the summary-LSAs of the areas (16.2; only the backbone's when the
router is an area border router), :func:`external` the AS-external-LSAs (16.4), and
:func:`best_routes` keeps, per prefix, the best path type (intra-area, inter-area, type 1,
type 2 external) as IOS installs them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from iosim.ospf.lsdb import LS_INFINITY, Lsdb, LsdbEntry
from iosim.ospf.packets import (
    ROUTER_B,
    ROUTER_E,
    AsExternalLsa,
    LinkType,
    LsType,
    NetworkLsa,
    OspfError,
    RouterLsa,
    SummaryLsa,
)

MAX_PATHS = 4  # IOS's default "maximum-paths"

NextHop = tuple[str, int]  # (interface, next-hop address; 0: the network is attached)


class PathType(Enum):
    """Path types (11), best first; the value is the ``show ip route`` code."""

    INTRA_AREA = "O"
    INTER_AREA = "O IA"
    EXTERNAL_1 = "O E1"
    EXTERNAL_2 = "O E2"


@dataclass
class Path:
    """A route found by the calculation: its cost, next hops and who advertised it."""

    cost: int
    next_hops: tuple[NextHop, ...]
    origin: int  # the advertising router's ID
    area: int | None = None
    path_type: PathType = PathType.INTRA_AREA
    type2_cost: int = 0  # the external metric of a type 2 external route
    flags: int = 0  # a router's B and E bits

    @property
    def attached(self) -> bool:
        """A network the router is itself attached to (no next hop: it is connected)."""
        return any(hop == 0 for _, hop in self.next_hops)


def _merge(a: tuple[NextHop, ...], b: tuple[NextHop, ...]) -> tuple[NextHop, ...]:
    out = list(a)
    for hop in b:
        if hop not in out:
            out.append(hop)
    return tuple(sorted(out)[:MAX_PATHS])


@dataclass
class AreaTree:
    """The result of one area's calculation."""

    networks: dict[tuple[int, int], Path] = field(default_factory=dict)  # (net, mask)
    routers: dict[int, Path] = field(default_factory=dict)  # border routers by router ID
    vertices: int = 0


Vertex = tuple[int, int]  # (0 network | 1 router, ID)


def _usable(entry: LsdbEntry | None, now: float) -> bool:
    return entry is not None and not entry.at_max_age(now)


def _body(entry: LsdbEntry) -> object:
    try:
        return entry.body()
    except OspfError:
        return None


def intra_area(root: int, area_id: int, lsdb: Lsdb, now: float,
               interface_of: Callable[[int], str | None],
               neighbor_address: Callable[[str, int], int | None],
               reached: set[int] | None = None) -> AreaTree:
    """Dijkstra over one area (16.1). ``interface_of(address)`` names the root's interface
    that has an address; ``neighbor_address(interface, router_id)`` is the address of the
    neighbour with that router ID on a point-to-point interface. The IDs of every router
    the tree reaches (the root too) are added to ``reached`` when one is given; the tree
    keeps only the border routers."""
    routers: dict[int, RouterLsa] = {}
    for e in lsdb.of_type(LsType.ROUTER):
        body = _body(e)
        if isinstance(body, RouterLsa) and _usable(e, now):
            routers[e.header.advertising_router] = body
    networks: dict[int, tuple[NetworkLsa, int]] = {}
    for e in lsdb.of_type(LsType.NETWORK):
        body = _body(e)
        if isinstance(body, NetworkLsa) and _usable(e, now):
            networks[e.header.link_state_id] = (body, e.header.advertising_router)
    tree = AreaTree()
    if root not in routers:
        return tree
    dist: dict[Vertex, int] = {(1, root): 0}
    hops: dict[Vertex, tuple[NextHop, ...]] = {(1, root): ()}
    done: set[Vertex] = set()
    heap: list[tuple[int, int, int]] = [(0, 1, root)]
    order: list[tuple[Vertex, int]] = []
    while heap:
        d, kind, vid = heapq.heappop(heap)
        v = (kind, vid)
        if v in done or dist.get(v) != d:
            continue
        done.add(v)
        order.append((v, d))
        v_hops = hops[v]
        if kind == 1:
            lsa = routers[vid]
            for link in lsa.links:
                if link.link_type == LinkType.POINT_TO_POINT:
                    w: Vertex = (1, link.link_id)
                    far = routers.get(link.link_id)
                    if far is None or not any(k.link_type == LinkType.POINT_TO_POINT
                                               and k.link_id == vid for k in far.links):
                        continue
                    if vid == root:
                        name = interface_of(link.link_data)
                        addr = neighbor_address(name, link.link_id) if name else None
                        if name is None or addr is None:
                            continue
                        w_hops: tuple[NextHop, ...] = ((name, addr),)
                    else:
                        w_hops = v_hops
                elif link.link_type == LinkType.TRANSIT:
                    w = (0, link.link_id)
                    net = networks.get(link.link_id)
                    if net is None or vid not in net[0].attached_routers:
                        continue
                    if vid == root:
                        name = interface_of(link.link_data)
                        if name is None:
                            continue
                        w_hops = ((name, 0),)
                    else:
                        w_hops = v_hops
                else:
                    continue
                _relax(w, d + link.metric, w_hops, dist, hops, done, heap)
        else:
            net_lsa, _ = networks[vid]
            attached_iface = next((name for name, hop in v_hops if hop == 0), None)
            for rid in net_lsa.attached_routers:
                far = routers.get(rid)
                if far is None:
                    continue
                back = next((k for k in far.links if k.link_type == LinkType.TRANSIT
                             and k.link_id == vid), None)
                if back is None:
                    continue
                if attached_iface is not None:
                    w_hops = ((attached_iface, back.link_data),)
                else:
                    w_hops = v_hops
                _relax((1, rid), d, w_hops, dist, hops, done, heap)
    tree.vertices = len(order)
    if reached is not None:
        reached.update(vid for (kind, vid), _ in order if kind == 1)
    for (kind, vid), d in order:
        if kind == 0:
            net_lsa, adv = networks[vid]
            prefix = (vid & net_lsa.network_mask, net_lsa.network_mask)
            _offer(tree.networks, prefix, Path(d, hops[(0, vid)], adv, area_id))
            continue
        lsa = routers[vid]
        if vid != root and lsa.flags & (ROUTER_B | ROUTER_E):
            tree.routers[vid] = Path(d, hops[(1, vid)], vid, area_id, flags=lsa.flags)
        for link in lsa.links:
            if link.link_type != LinkType.STUB:
                continue
            prefix = (link.link_id & link.link_data, link.link_data)
            if vid == root:
                name = interface_of(link.link_id)
                if name is None:
                    continue
                path = Path(link.metric, ((name, 0),), vid, area_id)
            else:
                path = Path(d + link.metric, hops[(1, vid)], vid, area_id)
            _offer(tree.networks, prefix, path)
    return tree


def _relax(w: Vertex, cost: int, w_hops: tuple[NextHop, ...], dist: dict[Vertex, int],
           hops: dict[Vertex, tuple[NextHop, ...]], done: set[Vertex],
           heap: list[tuple[int, int, int]]) -> None:
    if w in done:
        return
    known = dist.get(w)
    if known is None or cost < known:
        dist[w] = cost
        hops[w] = w_hops
        heapq.heappush(heap, (cost, w[0], w[1]))
    elif cost == known:
        hops[w] = _merge(hops[w], w_hops)


def _offer(table: dict[tuple[int, int], Path], prefix: tuple[int, int], path: Path) -> None:
    """Keep the cheaper path to a prefix; equal costs share their next hops."""
    known = table.get(prefix)
    if known is None or path.cost < known.cost:
        table[prefix] = path
    elif path.cost == known.cost:
        known.next_hops = _merge(known.next_hops, path.next_hops)


def reads_summaries(area_id: int, border: bool) -> bool:
    """Whether the calculation reads an area's summary-LSAs (16.2): an area border router
    reads the backbone's only."""
    return not border or area_id == 0


def summary_path(root: int, area_id: int, tree: AreaTree, entry: LsdbEntry,
                 now: float) -> Path | None:
    """The inter-area path a summary-LSA (type 3 or 4) of an area offers (16.2), or None
    when it offers none: the root's own, unreachable, at LSInfinity or MaxAge."""
    h = entry.header
    body = _body(entry)
    if (h.advertising_router == root or not isinstance(body, SummaryLsa)
            or body.metric >= LS_INFINITY or entry.at_max_age(now)):
        return None
    abr = tree.routers.get(h.advertising_router)
    if abr is None or not abr.flags & ROUTER_B:
        return None
    return Path(abr.cost + body.metric, abr.next_hops, h.advertising_router, area_id,
                PathType.INTER_AREA)


def inter_area(root: int, areas: dict[int, tuple[Lsdb, AreaTree]], now: float,
               border: bool) -> tuple[dict[tuple[int, int], Path], dict[int, Path]]:
    """The summary-LSAs (16.2): (networks, AS boundary routers) reached through an area
    border router. An area border router looks at the backbone's summaries only."""
    nets: dict[tuple[int, int], Path] = {}
    asbrs: dict[int, Path] = {}
    for area_id, (lsdb, tree) in areas.items():
        if not reads_summaries(area_id, border):
            continue
        for ls_type in (LsType.SUMMARY_NETWORK, LsType.SUMMARY_ASBR):
            for e in lsdb.of_type(ls_type):
                path = summary_path(root, area_id, tree, e, now)
                if path is None:
                    continue
                h = e.header
                if ls_type == LsType.SUMMARY_ASBR:
                    known = asbrs.get(h.link_state_id)
                    if known is None or path.cost < known.cost:
                        asbrs[h.link_state_id] = path
                    continue
                body = e.body()  # parsed: summary_path found it a SummaryLsa
                if isinstance(body, SummaryLsa):
                    mask = body.network_mask
                    _offer(nets, (h.link_state_id & mask, mask), path)
    return nets, asbrs


def external_path(root: int, entry: LsdbEntry, now: float,
                  asbr_path: Callable[[int], Path | None]) -> Path | None:
    """The path an AS-external-LSA offers (16.4), or None when it offers none: the root's
    own, its ASBR unreachable, at LSInfinity or MaxAge. A type 1 route costs the path to
    the ASBR plus its metric; a type 2 route its metric, ties broken by the path to the
    ASBR."""
    h = entry.header
    body = _body(entry)
    if (h.advertising_router == root or not isinstance(body, AsExternalLsa)
            or body.metric >= LS_INFINITY or entry.at_max_age(now)):
        return None
    to_asbr = asbr_path(h.advertising_router)
    if to_asbr is None:
        return None
    if body.type2:
        return Path(to_asbr.cost, to_asbr.next_hops, h.advertising_router,
                    path_type=PathType.EXTERNAL_2, type2_cost=body.metric)
    return Path(to_asbr.cost + body.metric, to_asbr.next_hops, h.advertising_router,
                path_type=PathType.EXTERNAL_1)


_TYPE_RANK = {t: i for i, t in enumerate(PathType)}


def external_rank(path: Path) -> tuple[int, int, int]:
    """How external paths compare (16.4): type 1 before type 2, then the type 2 metric,
    then the cost."""
    return (_TYPE_RANK[path.path_type], path.type2_cost, path.cost)


def external(root: int, lsdb: Lsdb, now: float,
             asbr_path: Callable[[int], Path | None]) -> dict[tuple[int, int], Path]:
    """The AS-external-LSAs (16.4): per prefix, the best of the paths they offer
    (:func:`external_path`); equal ones share their next hops."""
    out: dict[tuple[int, int], Path] = {}
    for e in lsdb.of_type(LsType.AS_EXTERNAL):
        path = external_path(root, e, now, asbr_path)
        if path is None:
            continue
        body = e.body()  # parsed: external_path found it an AsExternalLsa
        if not isinstance(body, AsExternalLsa):
            continue
        prefix = (e.header.link_state_id & body.network_mask, body.network_mask)
        known = out.get(prefix)
        rank = external_rank(path)
        if known is None or rank < external_rank(known):
            out[prefix] = path
        elif rank == external_rank(known):
            known.next_hops = _merge(known.next_hops, path.next_hops)
    return out


def best_routes(*tables: dict[tuple[int, int], Path]) -> dict[tuple[int, int], Path]:
    """Per prefix, the best path type wins whatever its cost (11: intra-area before
    inter-area before type 1 before type 2); tables are given best type first."""
    out: dict[tuple[int, int], Path] = {}
    for table in tables:
        for prefix, path in table.items():
            if prefix not in out:
                out[prefix] = path
    return out
