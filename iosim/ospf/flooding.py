"""The flooding procedure (RFC 2328 section 13): Link State Updates in, LSAs out to the
neighbours that need them, acknowledgments and retransmissions.

Theory of operation
-------------------
A received LSA is compared with the database's copy by one dict probe and one header
comparison (13.1); an identical copy is recognised by its octets, so its checksum is not
summed again, and a duplicate costs an acknowledgment and nothing else. A newer instance is
installed and flooded (13.3): it joins the retransmission list of every neighbour in state
Exchange or higher on the interfaces of its flooding scope, except the one it came from,
and goes into the interface's flood queue, which the engine sends as few Link State Updates
as the MTU allows at the end of the batch, at most once per flood pacing interval (33 ms):
LSAs that arrive together from several neighbours leave together. The work per LSA is
therefore proportional to the router's own neighbours, never to the size of the area: a
flood through N routers costs O(N) in all, not O(N^2).

Retransmissions go unicast every RxmtInterval to a neighbour whose list is not empty;
acknowledgments (13.7) take LSAs off that list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from iosim.net.packets import format_ip
from iosim.ospf.interface import InterfaceState, NetworkType, OspfInterface
from iosim.ospf.lsdb import MAX_AGE, MAX_SEQUENCE, MIN_LS_ARRIVAL, LsdbEntry, newer
from iosim.ospf.neighbor import Neighbor, NeighborEvent, NeighborState
from iosim.ospf.packets import (
    ALL_D_ROUTERS,
    ALL_SPF_ROUTERS,
    LinkStateAck,
    LinkStateUpdate,
    Lsa,
    LsaHeader,
    OspfError,
    known_ls_type,
    lsa_checksum_ok,
    pull_lsa_body,
)

if TYPE_CHECKING:
    from iosim.ospf.engine import OspfEngine

#: Room for the IP and OSPF headers, the LSA count and an MD5 digest in an update.
_LSU_OVERHEAD = 20 + 24 + 4 + 16
FLOOD_PACING = 0.033  # "Interface flood pacing timer 33 msecs": one flood per interface then


class Flooding:
    """The flooding half of an engine."""

    def __init__(self, engine: OspfEngine) -> None:
        self.engine = engine
        self.bad_checksums = 0

    # ---------------------------------------------------------------- updates in

    def receive_update(self, iface: OspfInterface, nbr: Neighbor, lsu: LinkStateUpdate,
                       length: int, now: float) -> None:
        """A Link State Update from ``nbr`` (13)."""
        e = self.engine
        if nbr.state is NeighborState.LOADING or nbr.state is NeighborState.EXCHANGE:
            e.debug_adj(iface, f"Rcv LS UPD from Nbr ID {format_ip(nbr.router_id)} length "
                               f"{length} LSA count {len(lsu.lsas)}")
        if nbr.state < NeighborState.EXCHANGE:
            return
        for lsa in lsu.lsas:
            if not self._receive_lsa(iface, nbr, lsa, now):
                return
        if nbr.state is NeighborState.LOADING and not nbr.requests:
            e.debug_adj(iface, f"Synchronized with {format_ip(nbr.router_id)}, state FULL")
            e.neighbor_event(iface, nbr, NeighborEvent.LOADING_DONE, now)
        elif nbr.requests and nbr.state is NeighborState.LOADING:
            nbr.retransmissions = 0

    def _receive_lsa(self, iface: OspfInterface, nbr: Neighbor, lsa: Lsa, now: float) -> bool:
        """One LSA of an update (13 steps 1-8); False if the exchange had to restart."""
        e = self.engine
        h = lsa.header
        if not known_ls_type(h.ls_type):
            return True
        scope = e.scope_of(iface, h.ls_type)
        db = e.lsdb(scope)
        mine = db.get(h.key)
        same_octets = mine is not None and mine.lsa.raw[2:] == lsa.raw[2:]
        if not same_octets and not lsa_checksum_ok(lsa.raw):
            self.bad_checksums += 1
            return True
        age = min(h.ls_age, MAX_AGE)
        if age >= MAX_AGE and mine is None and not any(
                n.state in (NeighborState.EXCHANGE, NeighborState.LOADING)
                for i in e.interfaces.values() for n in i.neighbors.values()):
            iface.ack_queue.append(h)
            return True
        order = 1 if mine is None else newer(h, age, mine.header, mine.age(now))
        if order > 0:
            if mine is not None and now - mine.received < MIN_LS_ARRIVAL:
                return True  # too soon after the last instance: dropped, not acknowledged
            if not same_octets:
                try:
                    pull_lsa_body(lsa)
                except OspfError:
                    self.bad_checksums += 1
                    return True
            requested = nbr.requests.get(h.key)
            if requested is not None and newer(h, age, requested, requested.ls_age) >= 0:
                del nbr.requests[h.key]
            if e.is_self_originated(h):
                entry = db.install(lsa, now)
                iface.ack_queue.append(h)
                e.origination.received_own(scope, entry, now)
                return True
            self.forget(h.key)
            entry = db.install(lsa, now)
            flooded_back = self.flood(scope, entry, iface, nbr, now)
            e.lsdb_changed(scope, entry, mine, now)
            if not flooded_back and not (iface.state is InterfaceState.BACKUP
                                         and nbr.address != iface.dr):
                iface.ack_queue.append(h)
            return True
        if h.key in nbr.requests:
            e.neighbor_event(iface, nbr, NeighborEvent.BAD_LS_REQ, now)
            return False
        assert mine is not None
        if order == 0:
            if nbr.retransmit.pop(h.key, None) is None:
                iface.ack_queue.append(h)  # a duplicate: acknowledged
            return True
        if mine.at_max_age(now) and mine.header.ls_sequence_number == MAX_SEQUENCE:
            return True
        if now - mine.received >= MIN_LS_ARRIVAL:  # ours is newer: tell the neighbour
            self.send_to(iface, nbr, [mine.current(now, iface.settings.transmit_delay)])
        return True

    # ---------------------------------------------------------------- flooding out

    def flood(self, scope: int, entry: LsdbEntry, from_iface: OspfInterface | None,
              from_nbr: Neighbor | None, now: float) -> bool:
        """Flood ``entry`` out of the interfaces of its scope (13.3); whether it went back
        out of the interface it came in on."""
        e = self.engine
        key = entry.key
        header = entry.header
        age = entry.age(now)
        flooded_back = False
        for out in e.flooding_interfaces(scope):
            added = False
            for n in out.neighbors.values():
                if n.state < NeighborState.EXCHANGE:
                    continue
                if n.state is not NeighborState.FULL:
                    req = n.requests.get(key)
                    if req is not None:
                        order = newer(req, req.ls_age, header, age)
                        if order > 0:
                            continue
                        del n.requests[key]
                        if order == 0:
                            continue
                if n is from_nbr:
                    continue
                n.retransmit[key] = entry
                e.arm_retransmit(out, n, now)
                added = True
            if not added:
                continue
            if out is from_iface and from_nbr is not None:
                if from_nbr.address in (out.dr, out.bdr) and out.dr:
                    continue  # the DR (or its backup) floods it on this network
                if out.state is InterfaceState.BACKUP:
                    continue
                flooded_back = True
            out.flood_queue.append(entry)
        return flooded_back

    def forget(self, key: tuple[int, int, int]) -> None:
        """An instance was superseded: off every retransmission list (13 step 5c)."""
        for iface in self.engine.interfaces.values():
            for n in iface.neighbors.values():
                n.retransmit.pop(key, None)

    # ---------------------------------------------------------------- acknowledgments

    def receive_ack(self, iface: OspfInterface, nbr: Neighbor, ack: LinkStateAck,
                    now: float) -> None:
        """A Link State Acknowledgment (13.7): what it names leaves the retransmission list."""
        if nbr.state < NeighborState.EXCHANGE:
            return
        for h in ack.lsa_headers:
            entry = nbr.retransmit.get(h.key)
            if entry is not None and newer(h, h.ls_age, entry.header, entry.age(now)) == 0:
                del nbr.retransmit[h.key]
                nbr.retransmissions = 0

    # ---------------------------------------------------------------- sending

    def packets_of(self, iface: OspfInterface, lsas: Iterable[Lsa]) -> list[list[Lsa]]:
        """Split LSAs into updates that fit the interface's MTU."""
        room = iface.settings.mtu - _LSU_OVERHEAD
        chunks: list[list[Lsa]] = [[]]
        size = 0
        for lsa in lsas:
            if chunks[-1] and size + lsa.header.length > room:
                chunks.append([])
                size = 0
            chunks[-1].append(lsa)
            size += lsa.header.length
        return [c for c in chunks if c]

    def send_to(self, iface: OspfInterface, nbr: Neighbor, lsas: list[Lsa]) -> None:
        """Unicast updates to one neighbour (retransmissions, answers to old instances)."""
        for chunk in self.packets_of(iface, lsas):
            self.engine.send(iface, nbr.address, LinkStateUpdate(tuple(chunk)))

    def flush_queues(self, now: float) -> None:
        """Send what the batch queued: flooded LSAs and acknowledgments, per interface, at
        most once per flood pacing interval (what is queued meanwhile leaves together when
        it ends, as IOS paces its floods: far fewer packets when many LSAs change at once)."""
        e = self.engine
        for iface in e.interfaces.values():
            if not iface.flood_queue and not iface.ack_queue:
                continue
            if now < iface.paced_until:  # what arrives meanwhile goes in the same packets
                e.timers.set(("pace", iface.name), iface.paced_until)
                continue
            iface.paced_until = now + FLOOD_PACING
            if iface.flood_queue:
                queued: list[LsdbEntry] = iface.flood_queue  # type: ignore[assignment]
                iface.flood_queue = []
                if not iface.neighbors or iface.state is InterfaceState.DOWN:
                    continue
                delay = iface.settings.transmit_delay
                seen: dict[tuple[int, int, int], Lsa] = {}
                for entry in queued:
                    seen[entry.key] = entry.current(now, delay)
                dst = self._group(iface)
                for chunk in self.packets_of(iface, seen.values()):
                    e.send(iface, dst, LinkStateUpdate(tuple(chunk)))
            if iface.ack_queue:
                headers: list[LsaHeader] = iface.ack_queue  # type: ignore[assignment]
                iface.ack_queue = []
                if iface.state is InterfaceState.DOWN:
                    continue
                room = max(1, (iface.settings.mtu - _LSU_OVERHEAD) // 20)
                dst = self._group(iface)
                for at in range(0, len(headers), room):
                    e.send(iface, dst, LinkStateAck(tuple(headers[at:at + room])))

    def _group(self, iface: OspfInterface) -> int:
        """Where floods and acknowledgments go (13.3 step 5): AllSPFRouters, except from a
        DROther on a broadcast network (AllDRouters)."""
        if (iface.settings.network_type is NetworkType.BROADCAST
                and iface.state is InterfaceState.DROTHER):
            return ALL_D_ROUTERS
        return ALL_SPF_ROUTERS

    def retransmit(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        """RxmtInterval passed with LSAs unacknowledged: send them again, unicast."""
        if not nbr.retransmit:
            return
        delay = iface.settings.transmit_delay
        self.send_to(iface, nbr, [entry.current(now, delay)
                                  for entry in nbr.retransmit.values()])
