"""Database exchange (RFC 2328 10.6-10.9): Database Description and Link State Request
packets between two routers forming an adjacency.

Theory of operation
-------------------
In ExStart both routers claim to be master with an empty DBD (I, M and MS set); the one
with the higher router ID wins and the other answers as slave with the master's sequence
number (NegotiationDone). In Exchange the master sends the LSA headers of its database a
DBD at a time and the slave answers each with its own; every header of an LSA the router
lacks, or holds an older copy of, goes to the neighbour's request list. The master
retransmits a DBD that gets no answer every RxmtInterval; the slave only repeats its last
DBD when the master repeats. When both have said all (M clear), ExchangeDone: Loading asks
for the requested LSAs with Link State Requests until all have arrived (LoadingDone), and
the adjacency is Full.

A DBD whose Interface MTU is larger than the receiving interface's is refused (10.6), which
is how a student's MTU mismatch leaves the adjacency stuck in EXSTART or EXCHANGE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iosim.net.packets import format_ip
from iosim.ospf.interface import OspfInterface
from iosim.ospf.lsdb import newer
from iosim.ospf.neighbor import Neighbor, NeighborEvent, NeighborState
from iosim.ospf.packets import (
    DD_INIT,
    DD_MASTER,
    DD_MORE,
    LSA_HEADER_LEN,
    OPTION_E,
    OPTION_L,
    OPTION_O,
    DatabaseDescription,
    LinkStateRequest,
    LinkStateUpdate,
    LsType,
    dbd_options,
    known_ls_type,
    packet_length,
)

if TYPE_CHECKING:
    from iosim.ospf.engine import OspfEngine

#: IOS's DBD options: opaque-capable, LLS, external routing.
DBD_OPTIONS = OPTION_O | OPTION_L | OPTION_E
#: Headroom for the IP header, OSPF header, DBD fields, an MD5 digest and an LLS block.
_DBD_OVERHEAD = 20 + 24 + 8 + 16 + 12


class DatabaseExchange:
    """The DBD and LSR half of an engine (one per engine)."""

    def __init__(self, engine: OspfEngine) -> None:
        self.engine = engine

    # ---------------------------------------------------------------- starting

    def start(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        """Enter ExStart (10.3): a new DD sequence number, and the first DBD as master."""
        e = self.engine
        nbr.clear_lists()
        nbr.master = True
        nbr.dd_sequence = e.next_dd_sequence()
        e.debug_adj(iface, f"Nbr {format_ip(nbr.router_id)}: Prepare dbase exchange")
        self._send_dbd(iface, nbr, DD_INIT | DD_MORE | DD_MASTER, (), now)

    def summary_list(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        """NegotiationDone: every LSA of the area (and AS-external ones) to describe."""
        e = self.engine
        area = e.areas[iface.settings.area]
        nbr.summary = [entry.current(now).header for entry in area.lsdb.entries()
                       if not entry.at_max_age(now)]
        nbr.summary += [entry.current(now).header for entry in e.external.entries()
                        if not entry.at_max_age(now)]
        e.debug_adj(iface, f"Nbr {format_ip(nbr.router_id)}: Summary list built, "
                           f"size {len(nbr.summary)}")

    # ---------------------------------------------------------------- DBD in

    def receive_dbd(self, iface: OspfInterface, nbr: Neighbor, dbd: DatabaseDescription,
                    length: int, now: float) -> None:
        """A Database Description packet arrived from ``nbr`` (10.6)."""
        e = self.engine
        rid = format_ip(nbr.router_id)
        e.debug_adj(iface, f"Rcv DBD from {rid} seq 0x{dbd.dd_sequence_number:X} opt "
                           f"0x{dbd.options:X} flag 0x{dbd.flags:X} len {length}  mtu "
                           f"{dbd.interface_mtu} state {nbr.state.ios}")
        settings = iface.settings
        if not settings.mtu_ignore:
            if dbd.interface_mtu > settings.mtu:
                e.debug_adj(iface, f"Nbr {rid} has larger interface MTU")
                nbr.mtu_mismatch = True
                return
            if 0 < dbd.interface_mtu < settings.mtu:
                e.debug_adj(iface, f"Nbr {rid} has smaller interface MTU")
        if nbr.state is NeighborState.INIT:
            e.neighbor_event(iface, nbr, NeighborEvent.TWO_WAY_RECEIVED, now)
        if nbr.state is NeighborState.TWO_WAY:
            e.debug_adj(iface, "Nbr state is 2WAY")
            return
        if nbr.state < NeighborState.EXSTART:
            return
        seen = (dbd.flags, dbd.options, dbd.dd_sequence_number)
        duplicate = seen == nbr.last_received
        if nbr.state is NeighborState.EXSTART:
            self._negotiate(iface, nbr, dbd, now)
            return
        if duplicate:
            if not nbr.master and nbr.last_sent is not None:
                e.resend(iface, nbr.address, nbr.last_sent)  # the slave repeats itself
            return
        if nbr.state is not NeighborState.EXCHANGE:
            e.neighbor_event(iface, nbr, NeighborEvent.SEQ_NUMBER_MISMATCH, now)
            return
        expected = nbr.dd_sequence if nbr.master else nbr.dd_sequence + 1
        if (bool(dbd.flags & DD_MASTER) == nbr.master or dbd.flags & DD_INIT
                or nbr.last_received is not None and dbd.options != nbr.last_received[1]
                or dbd.dd_sequence_number != expected):
            e.neighbor_event(iface, nbr, NeighborEvent.SEQ_NUMBER_MISMATCH, now)
            return
        self._accept(iface, nbr, dbd, now)

    def _negotiate(self, iface: OspfInterface, nbr: Neighbor, dbd: DatabaseDescription,
                   now: float) -> None:
        e = self.engine
        all_bits = DD_INIT | DD_MORE | DD_MASTER
        if dbd.flags & all_bits == all_bits and not dbd.lsa_headers and (
                nbr.router_id > e.router_id):
            nbr.master = False
            nbr.dd_sequence = dbd.dd_sequence_number
            e.debug_adj(iface, "NBR Negotiation Done. We are the SLAVE")
            e.neighbor_event(iface, nbr, NeighborEvent.NEGOTIATION_DONE, now)
            self._accept(iface, nbr, dbd, now)
        elif (not dbd.flags & (DD_INIT | DD_MASTER) and dbd.dd_sequence_number == nbr.dd_sequence
              and nbr.router_id < e.router_id):
            nbr.master = True
            e.debug_adj(iface, "NBR Negotiation Done. We are the MASTER")
            e.neighbor_event(iface, nbr, NeighborEvent.NEGOTIATION_DONE, now)
            self._accept(iface, nbr, dbd, now)
        elif dbd.flags & DD_INIT and nbr.router_id < e.router_id:
            e.debug_adj(iface, "First DBD and we are not SLAVE")

    def _accept(self, iface: OspfInterface, nbr: Neighbor, dbd: DatabaseDescription,
                now: float) -> None:
        """The DBD is the next one: note its headers, then answer or go on (10.6)."""
        e = self.engine
        nbr.last_received = (dbd.flags, dbd.options, dbd.dd_sequence_number)
        nbr.retransmissions = 0
        area = e.areas[iface.settings.area]
        for h in dbd.lsa_headers:
            if not known_ls_type(h.ls_type):
                e.neighbor_event(iface, nbr, NeighborEvent.SEQ_NUMBER_MISMATCH, now)
                return
            db = e.external if h.ls_type == LsType.AS_EXTERNAL else area.lsdb
            mine = db.get(h.key)
            if mine is None or newer(h, h.ls_age, mine.header, mine.age(now)) > 0:
                nbr.requests[h.key] = h
        more = bool(dbd.flags & DD_MORE)
        if nbr.master:
            nbr.dd_sequence += 1
            if not nbr.summary and not more and nbr.last_sent is not None and not (
                    nbr.last_sent_more):
                self._exchange_done(iface, nbr, now)
            else:
                self._send_next(iface, nbr, now)
        else:
            nbr.dd_sequence = dbd.dd_sequence_number
            self._send_next(iface, nbr, now)
            if not more and not nbr.last_sent_more:
                self._exchange_done(iface, nbr, now)

    def _exchange_done(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        self.engine.debug_adj(iface, f"Exchange Done with {format_ip(nbr.router_id)}")
        self.engine.neighbor_event(iface, nbr, NeighborEvent.EXCHANGE_DONE, now)

    # ---------------------------------------------------------------- DBD out

    def _send_next(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        room = max(1, (iface.settings.mtu - _DBD_OVERHEAD) // LSA_HEADER_LEN)
        headers, nbr.summary = nbr.summary[:room], nbr.summary[room:]
        flags = (DD_MORE if nbr.summary else 0) | (DD_MASTER if nbr.master else 0)
        self._send_dbd(iface, nbr, flags, tuple(headers), now)

    def _send_dbd(self, iface: OspfInterface, nbr: Neighbor, flags: int, headers: tuple,
                  now: float) -> None:
        e = self.engine
        dbd = DatabaseDescription(iface.settings.mtu, DBD_OPTIONS, flags, nbr.dd_sequence,
                                  headers)
        data = e.send(iface, nbr.address, dbd, lls=True)
        nbr.last_sent = data
        nbr.last_sent_more = bool(flags & DD_MORE)
        e.debug_adj(iface, f"Send DBD to {format_ip(nbr.router_id)} seq "
                           f"0x{nbr.dd_sequence:X} opt 0x{dbd_options(data):X} flag 0x{flags:X} "
                           f"len {packet_length(data)}")
        if nbr.master:
            e.arm_retransmit(iface, nbr, now)

    def retransmit_dbd(self, iface: OspfInterface, nbr: Neighbor) -> None:
        """The master's DBD got no answer in RxmtInterval: send it again."""
        if nbr.last_sent is None:
            return
        e = self.engine
        e.resend(iface, nbr.address, nbr.last_sent)
        e.debug_adj(iface, f"Retransmitting DBD to {format_ip(nbr.router_id)} "
                           f"[{nbr.retransmissions}]")

    # ---------------------------------------------------------------- LSR

    def send_requests(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        """Ask for what the request list holds (10.9), as much as one packet carries."""
        if not nbr.requests:
            return
        e = self.engine
        room = max(1, (iface.settings.mtu - _DBD_OVERHEAD) // 12)
        keys = tuple(list(nbr.requests)[:room])
        e.send(iface, nbr.address, LinkStateRequest(keys))
        e.debug_adj(iface, f"Send LS REQ to {format_ip(nbr.router_id)} length "
                           f"{24 + 12 * len(keys)} LSA count {len(keys)}")
        e.arm_retransmit(iface, nbr, now)

    def receive_request(self, iface: OspfInterface, nbr: Neighbor, lsr: LinkStateRequest,
                        now: float) -> None:
        """A Link State Request (10.7): the LSAs asked for, in Link State Updates."""
        e = self.engine
        e.debug_adj(iface, f"Rcv LS REQ from {format_ip(nbr.router_id)} length "
                           f"{24 + 12 * len(lsr.requests)} LSA count {len(lsr.requests)}")
        if nbr.state < NeighborState.EXCHANGE:
            return
        area = e.areas[iface.settings.area]
        found = []
        for key in lsr.requests:
            db = e.external if key[0] == LsType.AS_EXTERNAL else area.lsdb
            entry = db.get(key)
            if entry is None:
                e.neighbor_event(iface, nbr, NeighborEvent.BAD_LS_REQ, now)
                return
            found.append(entry.current(now, iface.settings.transmit_delay))
        for chunk in e.flooding.packets_of(iface, found):
            data = e.send(iface, nbr.address, LinkStateUpdate(tuple(chunk)))
            e.debug_adj(iface, f"Send LS UPD to {format_ip(nbr.address)} length "
                               f"{packet_length(data)} LSA count {len(chunk)}")
