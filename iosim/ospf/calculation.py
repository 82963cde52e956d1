"""The routing table calculation of one OSPF process (RFC 2328 section 16), on IOS's SPF
throttle: when it runs, Dijkstra per area, inter-area and external routes, the table with
the time each route last changed, and the summary-LSAs an area border router originates
from it (12.4.3).

:class:`RouteCalculation` is part of :class:`~iosim.ospf.engine.OspfEngine`, as the
exchange, flooding and origination are: it reads the engine's areas, interfaces and
external LSAs, and leaves the table in ``engine.table`` with a :class:`RoutesChanged`
event when it changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from iosim.ospf.neighbor import NeighborState
from iosim.ospf.packets import ROUTER_E, LsType, SummaryLsa
from iosim.ospf.spf import Path, PathType, best_routes, external, inter_area, intra_area

if TYPE_CHECKING:
    from iosim.ospf.engine import OspfEngine

SPF_START = 5.0  # timers throttle spf 5000 10000 10000 (IOS 15's defaults)
SPF_HOLD = 10.0
SPF_MAX_WAIT = 10.0


@dataclass(frozen=True)
class RoutesChanged:
    """The routing table changed (:attr:`OspfEngine.table`)."""


@dataclass
class RouteTimes:
    """When each route last changed (``show ip route`` prints its age)."""

    signature: tuple[object, ...]
    since: float


class RouteCalculation:
    """When and how the engine computes its routes (see the module docstring)."""

    def __init__(self, engine: OspfEngine) -> None:
        self.engine = engine

    def schedule(self, now: float) -> None:
        """IOS's SPF throttle: 5 s after a change, at least 10 s after the last run."""
        e = self.engine
        if ("spf",) in e.timers:
            return
        if e.spf_last is None or now >= e.spf_last + 2 * SPF_MAX_WAIT:
            e.spf_hold = SPF_HOLD
            when = now + SPF_START
        else:
            when = max(now + SPF_START, e.spf_last + e.spf_hold)
        e.timers.set(("spf",), when)

    def run(self, now: float) -> None:
        """The routing table calculation (16), then what an area border router summarises."""
        e = self.engine
        if e.spf_last is not None and now < e.spf_last + 2 * SPF_MAX_WAIT:
            e.spf_hold = min(e.spf_hold * 2, SPF_MAX_WAIT)
        e.spf_last = now
        by_address = self._by_address()
        intra: dict[tuple[int, int], Path] = {}
        for area_id, area in e.areas.items():
            area.tree = intra_area(e.router_id, area_id, area.lsdb, now, by_address.get,
                                   self._neighbor_address)
            area.spf_runs += 1
            area.spf_last = now
            for prefix, path in area.tree.networks.items():
                known = intra.get(prefix)
                if known is None or path.cost < known.cost:
                    intra[prefix] = path
        border = e.is_abr()
        inter, asbrs = inter_area(e.router_id, {a: (area.lsdb, area.tree)
                                                for a, area in e.areas.items()},
                                  now, border)
        e.asbr_paths = self._asbr_paths(asbrs)
        outside = external(e.router_id, e.external, now, e.asbr_paths.get)
        self._set_table(best_routes(intra, inter, outside), now)
        self._summaries(intra, inter, now)

    def _asbr_paths(self, inter: dict[int, Path]) -> dict[int, Path]:
        """The best path to each AS boundary router (16.4 (3)): intra-area through any
        area (the cheapest), else through the summaries (``inter``)."""
        out = dict(inter)
        for area in self.engine.areas.values():
            for rid, path in area.tree.routers.items():
                if not path.flags & ROUTER_E:
                    continue
                known = out.get(rid)
                if known is None or known.path_type is not PathType.INTRA_AREA or (
                        path.cost < known.cost):
                    out[rid] = path
        return out

    def reachable_routers(self, area_id: int, now: float) -> set[int]:
        """The router IDs an SPF over the area's database reaches now (this router's
        too): what ``show ip ospf database`` checks an advertising router against."""
        e = self.engine
        reached: set[int] = set()
        area = e.areas.get(area_id)
        if area is not None:
            intra_area(e.router_id, area_id, area.lsdb, now, self._by_address().get,
                       self._neighbor_address, reached)
        return reached

    def _by_address(self) -> dict[int, str]:
        """This router's OSPF interfaces by address, then by network for the rest."""
        e = self.engine
        by_address = {i.settings.address: i.name for i in e.interfaces.values()}
        by_address.update({i.settings.network: i.name for i in e.interfaces.values()
                           if i.settings.network not in by_address})
        return by_address

    def _neighbor_address(self, name: str, router_id: int) -> int | None:
        """The address of the full neighbour with ``router_id`` on interface ``name``."""
        e = self.engine
        iface = e.interfaces.get(name)
        if iface is None:
            return None
        return next((n.address for n in iface.neighbors.values()
                     if n.router_id == router_id and n.state is NeighborState.FULL), None)

    def _set_table(self, table: dict[tuple[int, int], Path], now: float) -> None:
        """The new table; a route keeps its time while its path type, cost and next hops
        do not change."""
        e = self.engine
        times: dict[tuple[int, int], RouteTimes] = {}
        for prefix, path in table.items():
            signature = (path.path_type, path.cost, path.type2_cost, path.next_hops)
            known = e.route_times.get(prefix)
            times[prefix] = known if known is not None and known.signature == signature else (
                RouteTimes(signature, now))
        changed = times.keys() != e.route_times.keys() or any(
            times[p] is not e.route_times.get(p) for p in times)
        e.table = table
        e.route_times = times
        if changed:
            e.events.append(RoutesChanged())

    def _summaries(self, intra: dict[tuple[int, int], Path],
                   inter: dict[tuple[int, int], Path], now: float) -> None:
        """An area border router's summary-LSAs (12.4.3): each area's routes into the
        others, the backbone's inter-area routes into the other areas; ASBRs as type 4."""
        e = self.engine
        border = e.is_abr()
        rid = e.router_id
        for area_id in e.areas:
            wanted: dict[tuple[int, int, int], SummaryLsa] = {}
            if border:
                for (net, mask), path in intra.items():
                    if path.area != area_id:
                        wanted[(LsType.SUMMARY_NETWORK, net, rid)] = SummaryLsa(mask, path.cost)
                if area_id != 0:
                    for (net, mask), path in inter.items():
                        wanted.setdefault((LsType.SUMMARY_NETWORK, net, rid),
                                          SummaryLsa(mask, path.cost))
                for other_id, other in e.areas.items():
                    if other_id == area_id:
                        continue
                    for asbr, path in other.tree.routers.items():
                        if path.flags & 0x02:
                            wanted[(LsType.SUMMARY_ASBR, asbr, rid)] = SummaryLsa(0, path.cost)
            for scope, key in [s for s in e.origination.wanted
                               if s[0] == area_id and s[1][0] in (3, 4) and s[1] not in wanted]:
                e.origination.want(scope, key, None, now)
            for key, body in wanted.items():
                e.origination.want(area_id, key, body, now)
