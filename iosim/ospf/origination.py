"""The LSAs a router originates (RFC 2328 12.4): what they say, when a new instance goes
out, their refresh every LSRefreshTime and their flushing.

Theory of operation
-------------------
Whatever may change an LSA of ours (an adjacency coming up, an interface's cost, a DR
election, the routing table of an area border router) only *marks* it; at the end of the
engine's batch :meth:`Origination.update` computes what each marked LSA should now say
(:meth:`router_body`, :meth:`network_body`) and :meth:`Origination.want` compares it with
the instance last originated. A new instance goes out at once, or, within MinLSInterval
(5 s) of the previous one, when that interval ends (12.4): a burst of changes costs one
new instance. An LSA no longer wanted is flushed by premature aging (14.1); a copy of our
own LSA that a neighbour holds newer than ours (after a restart, 13.4) makes us originate
past its sequence number, or flush it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iosim.ospf.interface import InterfaceState, NetworkType, OspfInterface
from iosim.ospf.lsdb import (
    INITIAL_SEQUENCE,
    LS_REFRESH_TIME,
    MAX_AGE,
    MIN_LS_INTERVAL,
    LsdbEntry,
)
from iosim.ospf.neighbor import NeighborState
from iosim.ospf.packets import (
    OPTION_DC,
    OPTION_E,
    ROUTER_B,
    ROUTER_E,
    LinkType,
    LsaBody,
    LsaKey,
    LsType,
    NetworkLsa,
    RouterLink,
    RouterLsa,
    push_lsa,
    with_age,
)

if TYPE_CHECKING:
    from iosim.ospf.engine import OspfEngine

#: The options IOS puts in its LSAs: demand circuits and external routing.
AREA_LSA_OPTIONS = OPTION_DC | OPTION_E
EXTERNAL_LSA_OPTIONS = OPTION_DC
#: How long a flushed (MaxAge) LSA stays in the database for its flushing to be heard.
MAX_AGE_HOLD = 60.0

Scope = int  # an area ID, or EXTERNAL for the AS-external LSAs
EXTERNAL = -1


class Origination:
    """The self-originated LSAs of an engine."""

    def __init__(self, engine: OspfEngine) -> None:
        self.engine = engine
        self.wanted: dict[tuple[Scope, LsaKey], LsaBody] = {}  # what our LSAs should say
        self.sent: dict[tuple[Scope, LsaKey], LsaBody] = {}  # what the last instance said
        self.last: dict[tuple[Scope, LsaKey], float] = {}  # when it went out
        self.dirty_areas: set[int] = set()
        self.dirty_networks: set[str] = set()

    # ---------------------------------------------------------------- marks

    def mark_router(self, area: int | None = None) -> None:
        """The router-LSA of ``area`` (None: of every area) must be looked at again."""
        if area is None:
            self.dirty_areas.update(self.engine.areas)
        else:
            self.dirty_areas.add(area)

    def mark_network(self, iface: OspfInterface) -> None:
        self.dirty_networks.add(iface.name)

    def update(self, now: float) -> None:
        """Recompute what the marked LSAs should say, and originate what changed."""
        e = self.engine
        rid = e.router_id
        areas, self.dirty_areas = self.dirty_areas, set()
        for area in sorted(areas):
            if area in e.areas:
                self.want(area, (LsType.ROUTER, rid, rid), self.router_body(area), now)
        names, self.dirty_networks = self.dirty_networks, set()
        for name in sorted(names):
            iface = e.interfaces.get(name)
            if iface is not None and iface.settings.area in e.areas:
                self.want(iface.settings.area, (LsType.NETWORK, iface.settings.address, rid),
                          self.network_body(iface), now)

    def router_body(self, area: int) -> RouterLsa:
        """Our router-LSA for ``area`` (12.4.1)."""
        e = self.engine
        flags = (ROUTER_B if e.is_abr() else 0) | (ROUTER_E if e.is_asbr() else 0)
        links: list[RouterLink] = []
        for iface in e.interfaces.values():
            s = iface.settings
            if s.area != area or iface.state is InterfaceState.DOWN:
                continue
            if s.network_type is NetworkType.LOOPBACK:
                links.append(RouterLink(s.address, 0xFFFFFFFF, LinkType.STUB, s.cost))
            elif s.network_type is NetworkType.POINT_TO_POINT:
                for n in iface.neighbors.values():
                    if n.state is NeighborState.FULL:
                        links.append(RouterLink(n.router_id, s.address,
                                                LinkType.POINT_TO_POINT, s.cost))
                links.append(RouterLink(s.network, s.mask, LinkType.STUB, s.cost))
            elif iface.state is not InterfaceState.WAITING and iface.adjacent_to_dr():
                links.append(RouterLink(iface.dr, s.address, LinkType.TRANSIT, s.cost))
            else:
                links.append(RouterLink(s.network, s.mask, LinkType.STUB, s.cost))
        return RouterLsa(flags, tuple(links))

    def network_body(self, iface: OspfInterface) -> NetworkLsa | None:
        """Our network-LSA for a network we are the DR of, with a full neighbour (12.4.2)."""
        if iface.state is not InterfaceState.DR:
            return None
        full = sorted(n.router_id for n in iface.neighbors.values()
                      if n.state is NeighborState.FULL)
        if not full:
            return None
        return NetworkLsa(iface.settings.mask, (self.engine.router_id, *full))

    # ---------------------------------------------------------------- instances

    def want(self, scope: Scope, key: LsaKey, body: LsaBody | None, now: float) -> None:
        """Our LSA ``key`` should say ``body`` (None: it should not exist)."""
        slot = (scope, key)
        if body is None:
            if self.wanted.pop(slot, None) is not None or slot in self.sent:
                self.sent.pop(slot, None)
                self.flush(scope, key, now)
            return
        self.wanted[slot] = body
        if self.sent.get(slot) == body:
            return
        last = self.last.get(slot)
        if last is not None and now < last + MIN_LS_INTERVAL:
            self.engine.timers.set(("originate", scope, key), last + MIN_LS_INTERVAL)
            return
        self.originate(scope, key, body, now)

    def originate(self, scope: Scope, key: LsaKey, body: LsaBody, now: float,
                  after: int | None = None) -> None:
        """A new instance of our LSA ``key`` (sequence number past the last one, or past
        ``after``), installed and flooded."""
        e = self.engine
        db = e.lsdb(scope)
        old = db.get(key)
        sequence = INITIAL_SEQUENCE
        if old is not None:
            sequence = old.header.ls_sequence_number + 1
        if after is not None:
            sequence = max(sequence, after + 1)
        options = EXTERNAL_LSA_OPTIONS if key[0] == LsType.AS_EXTERNAL else AREA_LSA_OPTIONS
        lsa = push_lsa(key[0], key[1], key[2], sequence, body, options=options)
        e.flooding.forget(key)
        entry = db.install(lsa, now, self_originated=True)
        self.sent[(scope, key)] = body
        self.last[(scope, key)] = now
        e.timers.set(("refresh", scope, key), now + LS_REFRESH_TIME)
        e.timers.discard(("originate", scope, key))
        e.flooding.flood(scope, entry, None, None, now)
        e.lsdb_changed(scope, entry, old, now)

    def flush(self, scope: Scope, key: LsaKey, now: float) -> None:
        """Premature aging (14.1): our instance goes out at MaxAge, then leaves the database."""
        e = self.engine
        db = e.lsdb(scope)
        old = db.get(key)
        e.timers.discard(("refresh", scope, key))
        e.timers.discard(("originate", scope, key))
        if old is None or old.at_max_age(now):
            return
        e.flooding.forget(key)
        entry = db.install(with_age(old.lsa, MAX_AGE), now, self_originated=True)
        e.flooding.flood(scope, entry, None, None, now)
        e.lsdb_changed(scope, entry, old, now)
        e.timers.set(("remove", scope, key), now + MAX_AGE_HOLD)

    def received_own(self, scope: Scope, entry: LsdbEntry, now: float) -> None:
        """A newer instance of one of our LSAs arrived (13.4): originate past it, or, if we
        no longer want it, flush it."""
        slot = (scope, entry.key)
        body = self.wanted.get(slot)
        if body is not None and not entry.at_max_age(now):
            self.originate(scope, entry.key, body, now, after=entry.header.ls_sequence_number)
        elif not entry.at_max_age(now):
            self.flush(scope, entry.key, now)
        else:
            self.engine.lsdb_changed(scope, entry, None, now)
            self.engine.timers.set(("remove", scope, entry.key), now + MAX_AGE_HOLD)

    def refresh(self, scope: Scope, key: LsaKey, now: float) -> None:
        """LSRefreshTime passed: the same LSA again with the next sequence number."""
        body = self.wanted.get((scope, key))
        if body is not None:
            self.originate(scope, key, body, now)

    def deferred(self, scope: Scope, key: LsaKey, now: float) -> None:
        """MinLSInterval ended for an LSA that changed meanwhile."""
        body = self.wanted.get((scope, key))
        if body is not None and self.sent.get((scope, key)) != body:
            self.originate(scope, key, body, now)

    def forget_scope(self, scope: Scope) -> None:
        """An area went away: what we wanted in it goes with it."""
        for slot in [s for s in self.wanted if s[0] == scope]:
            del self.wanted[slot]
        for slot in [s for s in self.sent if s[0] == scope]:
            del self.sent[slot]
