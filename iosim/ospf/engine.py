"""One OSPFv2 routing process (RFC 2328) as IOS 15 runs it: a sans-IO engine.

Theory of operation
-------------------
``OspfEngine`` never touches a socket or a clock. Its inputs are the interfaces the
configuration enables (:meth:`OspfEngine.configure`, a dict of
:class:`~iosim.ospf.interface.InterfaceSettings` compared with the previous one), the
packets that arrive (:meth:`OspfEngine.receive`, with the arrival interface and the IP
source and destination) and the passing of time (:meth:`OspfEngine.handle_timer` at
:meth:`OspfEngine.next_deadline`). Its outputs, taken with :meth:`OspfEngine.drain`, are
the packets to send (interface, destination, OSPF payload) and events: syslog messages
(``%OSPF-5-ADJCHG``), debug lines and "the routing table changed"; its routing table is
:attr:`OspfEngine.table`.

Every timer (hellos, the wait timer, each neighbour's inactivity and retransmission
timers, SPF, MinLSInterval, LSA refresh and MaxAge) is one deadline in a
:class:`~iosim.deadlines.DeadlineQueue`, so the next deadline is O(1) whatever the size
of the network. Neighbour and interface events run the tables of :mod:`neighbor` and
:mod:`interface`; interface events raised while a packet is processed are queued and run
after it, so one packet's consequences happen in the RFC's order without recursion.
Database exchange, flooding and the router's own LSAs live in :mod:`exchange`,
:mod:`flooding` and :mod:`origination`; the routing table comes from :mod:`spf`, run by
:mod:`calculation` on IOS's SPF throttle (5 s after the first change, then at most every
10 s). Each call ends
with a batch: marked LSAs are originated and queued floods and acknowledgments are sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from iosim.deadlines import DeadlineQueue, deadline_after
from iosim.net.packets import format_ip
from iosim.ospf.calculation import (
    SPF_HOLD,
    RouteCalculation,
    RoutesChanged,
    RouteTimes,
)
from iosim.ospf.exchange import DatabaseExchange
from iosim.ospf.flooding import Flooding
from iosim.ospf.interface import (
    IF_TRANSITIONS,
    Candidate,
    InterfaceEvent,
    InterfaceSettings,
    InterfaceState,
    NetworkType,
    OspfInterface,
    elect_designated_router,
)
from iosim.ospf.lsdb import Lsdb, LsdbEntry
from iosim.ospf.neighbor import TRANSITIONS, Neighbor, NeighborEvent, NeighborState
from iosim.ospf.origination import EXTERNAL, MAX_AGE_HOLD, Origination
from iosim.ospf.packets import (
    ALL_D_ROUTERS,
    ALL_SPF_ROUTERS,
    LLS_LR,
    OPTION_E,
    OPTION_L,
    AsExternalLsa,
    AuType,
    DatabaseDescription,
    HelloPacket,
    LinkStateAck,
    LinkStateRequest,
    LinkStateUpdate,
    LsaHeader,
    LsaKey,
    LsType,
    OspfBody,
    OspfError,
    OspfHeader,
    OspfPacket,
    md5_digest_ok,
    pull_packet,
    push_packet,
)
from iosim.ospf.spf import (
    AreaTree,
    Path,
)

HELLO_OPTIONS = OPTION_L | OPTION_E  # 0x12, as IOS sends its hellos
RETRANSMIT_LIMIT = 24  # "Retransmission limit dc 24 non-dc 24"


@dataclass(frozen=True)
class Transmission:
    """An OSPF packet to send out of ``interface`` to ``destination`` (a group or a
    neighbour's address)."""

    interface: str
    destination: int
    payload: bytes


@dataclass(frozen=True)
class OspfLog:
    """A syslog message (``%OSPF-5-ADJCHG: ...``)."""

    message: str


@dataclass(frozen=True)
class OspfDebug:
    """A debug line; ``category`` is ``adj`` or ``hello`` (``debug ip ospf adj|hello``)."""

    category: str
    text: str


OspfEvent = OspfLog | OspfDebug | RoutesChanged


@dataclass(frozen=True)
class DefaultOriginate:
    """``default-information originate [always] [metric M] [metric-type T]``."""

    always: bool = False
    metric: int = 1
    metric_type: int = 2


@dataclass
class Area:
    """One area the router is attached to."""

    area_id: int
    text: str  # as typed: "0" or "0.0.0.0"
    lsdb: Lsdb = field(default_factory=Lsdb)
    tree: AreaTree = field(default_factory=AreaTree)
    spf_runs: int = 0
    spf_last: float | None = None
    authentication: int = AuType.NULL  # "area N authentication [message-digest]"


class OspfEngine:
    """An OSPF process: see the module docstring."""

    def __init__(self, process_id: int, router_id: int, now: float,
                 log_adjacency: str = "brief") -> None:
        self.process_id = process_id
        self.router_id = router_id
        self.started_at = now
        self.log_adjacency = log_adjacency  # "brief", "detail" or "off"
        self.debugging: frozenset[str] = frozenset()
        self.interfaces: dict[str, OspfInterface] = {}
        self.areas: dict[int, Area] = {}
        self.external = Lsdb()
        self.timers: DeadlineQueue[tuple[object, ...]] = DeadlineQueue()
        self.outbox: list[Transmission] = []
        self.events: list[OspfEvent] = []
        self.table: dict[tuple[int, int], Path] = {}
        self.route_times: dict[tuple[int, int], RouteTimes] = {}
        #: the best path to each AS boundary router, by router ID (the last calculation's)
        self.asbr_paths: dict[int, Path] = {}
        self.default_originate: DefaultOriginate | None = None
        self.default_route = False  # the routing table has a default route of another source
        self.spf_last: float | None = None
        self.spf_hold = SPF_HOLD
        self.packets_in = 0
        self.bad_packets = 0
        self._dd_sequence = (router_id * 2654435761 + int(now * 1000)) & 0x3FFF | 0x1000
        self._crypto_sequence = int(now) + 1
        self._if_queue: list[tuple[OspfInterface, InterfaceEvent]] = []
        self.exchange = DatabaseExchange(self)
        self.flooding = Flooding(self)
        self.origination = Origination(self)
        self.calculation = RouteCalculation(self)

    # ================================================================ configuration

    def configure(self, interfaces: dict[str, InterfaceSettings], now: float, *,
                  default_originate: DefaultOriginate | None = None,
                  default_route: bool = False,
                  area_authentication: dict[int, int] | None = None) -> None:
        """Bring the process in line with the configuration: interfaces come up, go down
        or take new settings; the default route is originated or flushed."""
        for name in [n for n in self.interfaces if n not in interfaces]:
            self._remove_interface(self.interfaces[name], now)
        for name, settings in interfaces.items():
            iface = self.interfaces.get(name)
            if iface is None:
                self._add_interface(settings, now)
            elif iface.settings != settings:
                self._change_interface(iface, settings, now)
        for area_id, area in self.areas.items():
            area.authentication = (area_authentication or {}).get(area_id, AuType.NULL)
        was_asbr = self.is_asbr()
        self.default_originate = default_originate
        self.default_route = default_route
        self._update_default(now)
        if self.is_asbr() != was_asbr:
            self.origination.mark_router()
        self._end_batch(now)

    def _area(self, settings: InterfaceSettings) -> Area:
        area = self.areas.get(settings.area)
        if area is None:
            area = self.areas[settings.area] = Area(settings.area, settings.area_text)
            self.origination.mark_router()  # the B bit may change everywhere
        return area

    def _add_interface(self, settings: InterfaceSettings, now: float) -> None:
        self._area(settings)
        iface = self.interfaces[settings.name] = OspfInterface(settings)
        self.interface_event(iface, InterfaceEvent.INTERFACE_UP, now)

    def _remove_interface(self, iface: OspfInterface, now: float) -> None:
        self.interface_event(iface, InterfaceEvent.INTERFACE_DOWN, now)
        del self.interfaces[iface.name]
        self._prune_areas()

    def _prune_areas(self) -> None:
        used = {i.settings.area for i in self.interfaces.values()}
        for area_id in [a for a in self.areas if a not in used]:
            del self.areas[area_id]
            self.origination.forget_scope(area_id)
            self.origination.mark_router()

    def _change_interface(self, iface: OspfInterface, settings: InterfaceSettings,
                          now: float) -> None:
        old = iface.settings
        restart = (old.address, old.mask, old.area, old.network_type, old.passive) != (
            settings.address, settings.mask, settings.area, settings.network_type,
            settings.passive)
        if restart:
            self.interface_event(iface, InterfaceEvent.INTERFACE_DOWN, now)
            self._area(settings)
            iface.settings = settings
            self._prune_areas()
            self.interface_event(iface, InterfaceEvent.INTERFACE_UP, now)
            return
        iface.settings = settings
        if old.cost != settings.cost:
            self.origination.mark_router(settings.area)
        if old.priority != settings.priority and iface.state is not InterfaceState.DOWN:
            self.queue_interface_event(iface, InterfaceEvent.NEIGHBOR_CHANGE)
        if old.hello_interval != settings.hello_interval and not settings.passive:
            self.timers.set(("hello", iface.name), now)

    def shutdown(self, now: float) -> None:
        """The process stops (``clear ip ospf process``, ``no router ospf``): every
        interface goes down, its neighbours with it."""
        for iface in list(self.interfaces.values()):
            self.interface_event(iface, InterfaceEvent.INTERFACE_DOWN, now)
        self._end_batch(now)

    # ================================================================ queries

    def is_abr(self) -> bool:
        """Attached to more than one area (an area border router)."""
        return len({i.settings.area for i in self.interfaces.values()
                    if i.state is not InterfaceState.DOWN}) > 1

    def is_asbr(self) -> bool:
        """Originating AS-external-LSAs (an AS boundary router)."""
        return (EXTERNAL, (LsType.AS_EXTERNAL, 0, self.router_id)) in self.origination.wanted

    def lsdb(self, scope: int) -> Lsdb:
        return self.external if scope == EXTERNAL else self.areas[scope].lsdb

    def scope_of(self, iface: OspfInterface, ls_type: int) -> int:
        return EXTERNAL if ls_type == LsType.AS_EXTERNAL else iface.settings.area

    def flooding_interfaces(self, scope: int) -> list[OspfInterface]:
        """The interfaces an LSA of ``scope`` floods out of."""
        return [i for i in self.interfaces.values()
                if (scope == EXTERNAL or i.settings.area == scope)
                and i.state not in (InterfaceState.DOWN, InterfaceState.LOOPBACK)
                and not i.settings.passive]

    def is_self_originated(self, h: LsaHeader) -> bool:
        """Ours (13.4): advertised by our router ID, or a network-LSA of our address."""
        return h.advertising_router == self.router_id or (
            h.ls_type == LsType.NETWORK and self.interface_by_address(h.link_state_id)
            is not None)

    def interface_by_address(self, address: int) -> OspfInterface | None:
        for iface in self.interfaces.values():
            if iface.settings.address == address:
                return iface
        return None

    def groups(self, name: str) -> set[int]:
        """The multicast groups the interface listens to (AllDRouters: DR and Backup)."""
        iface = self.interfaces.get(name)
        if (iface is None or iface.settings.passive
                or iface.state in (InterfaceState.DOWN, InterfaceState.LOOPBACK)):
            return set()
        if iface.state in (InterfaceState.DR, InterfaceState.BACKUP):
            return {ALL_SPF_ROUTERS, ALL_D_ROUTERS}
        return {ALL_SPF_ROUTERS}

    def next_deadline(self) -> float | None:
        return self.timers.next()

    def drain(self) -> tuple[list[Transmission], list[OspfEvent]]:
        """What to send and what happened, since the last drain."""
        out, self.outbox = self.outbox, []
        events, self.events = self.events, []
        return out, events

    # ================================================================ debug and log

    def debug_adj(self, iface: OspfInterface, text: str) -> None:
        if "adj" in self.debugging:
            self.events.append(OspfDebug(
                "adj", f"OSPF-{self.process_id} ADJ   {iface.settings.short}: {text}"))

    def debug_hello(self, iface: OspfInterface, text: str) -> None:
        if "hello" in self.debugging:
            self.events.append(OspfDebug(
                "hello", f"OSPF-{self.process_id} HELLO {iface.settings.short}: {text}"))

    def log(self, message: str) -> None:
        self.events.append(OspfLog(message))

    # ================================================================ sending

    def send(self, iface: OspfInterface, dst: int, body: OspfBody, lls: bool = False) -> bytes:
        """Encode and queue a packet with the interface's authentication."""
        s = iface.settings
        auth = s.auth
        ptype = _PACKET_TYPE[type(body)]
        if auth.autype == AuType.CRYPTOGRAPHIC and auth.keys:
            key_id, key = auth.keys[-1]
            self._crypto_sequence += 1
            if isinstance(body, HelloPacket | DatabaseDescription):
                body = replace(body, options=body.options & ~OPTION_L)
            header = OspfHeader(ptype, self.router_id, s.area, AuType.CRYPTOGRAPHIC, bytes(8),
                                key_id, self._crypto_sequence)
            data = push_packet(OspfPacket(header, body), md5_key=key)
        else:
            password = auth.password if auth.autype == AuType.SIMPLE_PASSWORD else b""
            header = OspfHeader(ptype, self.router_id, s.area, auth.autype,
                                password[:8].ljust(8, b"\0"))
            data = push_packet(OspfPacket(header, body, LLS_LR if lls else None))
        self.outbox.append(Transmission(s.name, dst, data))
        return data

    def resend(self, iface: OspfInterface, dst: int, data: bytes) -> None:
        """Send an encoded packet again (a DBD retransmission)."""
        self.outbox.append(Transmission(iface.name, dst, data))

    def next_dd_sequence(self) -> int:
        self._dd_sequence = (self._dd_sequence + 0x123) & 0xFFFF or 1
        return self._dd_sequence

    def _send_hello(self, iface: OspfInterface, now: float) -> None:
        s = iface.settings
        p2p = s.network_type is NetworkType.POINT_TO_POINT
        hello = HelloPacket(
            s.mask, s.hello_interval, HELLO_OPTIONS, s.priority, s.dead_interval,
            0 if p2p else iface.dr, 0 if p2p else iface.bdr,
            tuple(sorted(n.router_id for n in iface.neighbors.values()
                         if n.state >= NeighborState.INIT)))
        if s.auth.autype == AuType.CRYPTOGRAPHIC and s.auth.keys:
            self.debug_adj(iface, f"Send with youngest Key {s.auth.keys[-1][0]}")
        self.send(iface, ALL_SPF_ROUTERS, hello, lls=True)
        self.debug_hello(iface, f"Send hello to 224.0.0.5 area {s.area_text} from "
                                f"{format_ip(s.address)}")

    # ================================================================ receiving

    def receive(self, interface: str, src: int, dst: int, data: bytes, now: float) -> None:
        """An OSPF packet arrived on ``interface`` from ``src`` to ``dst`` (8.2)."""
        iface = self.interfaces.get(interface)
        if iface is None or iface.state is InterfaceState.DOWN or iface.settings.passive:
            return
        self.packets_in += 1
        try:
            packet = pull_packet(data)
        except OspfError:
            self.bad_packets += 1
            return
        self._receive(iface, src, dst, data, packet, now)
        self._end_batch(now)

    def _receive(self, iface: OspfInterface, src: int, dst: int, data: bytes,
                 packet: OspfPacket, now: float) -> None:
        s = iface.settings
        h = packet.header
        if dst == ALL_D_ROUTERS and iface.state not in (InterfaceState.DR, InterfaceState.BACKUP):
            return
        if h.area_id != s.area:
            self._area_mismatch(iface, src, h.area_id)
            return
        if s.network_type is NetworkType.BROADCAST and src & s.mask != s.network:
            return
        nbr = iface.neighbors.get(src)
        if not self._authentic(iface, src, data, packet, nbr):
            return
        if h.router_id == self.router_id:
            if isinstance(packet.body, HelloPacket):
                self.log(f"%OSPF-4-DUP_RTRID_NBR: OSPF detected duplicate router-id "
                         f"{format_ip(h.router_id)} from {format_ip(src)} on interface "
                         f"{iface.name}")
            return
        body = packet.body
        if isinstance(body, HelloPacket):
            self._hello(iface, src, h.router_id, body, now)
            return
        if nbr is None or nbr.router_id != h.router_id:
            return
        if h.autype == AuType.CRYPTOGRAPHIC:
            nbr.crypto_sequence = h.crypto_sequence
        if isinstance(body, DatabaseDescription):
            self.exchange.receive_dbd(iface, nbr, body, packet.length, now)
        elif isinstance(body, LinkStateRequest):
            self.exchange.receive_request(iface, nbr, body, now)
        elif isinstance(body, LinkStateUpdate):
            self.flooding.receive_update(iface, nbr, body, packet.length, now)
        elif isinstance(body, LinkStateAck):
            self.flooding.receive_ack(iface, nbr, body, now)

    def _area_mismatch(self, iface: OspfInterface, src: int, area: int) -> None:
        s = iface.settings
        self.debug_adj(iface, f"Rcv pkt from {format_ip(src)}, area {format_ip(s.area)}, "
                              f"mismatched area {format_ip(area)} in the header")
        detail = (", from backbone area must be virtual-link but not found" if area == 0
                  else "")
        self.log(f"%OSPF-4-ERRRCV: Received invalid packet: mismatched area ID{detail} from "
                 f"{format_ip(src)}, {iface.name}")

    def _authentic(self, iface: OspfInterface, src: int, data: bytes, packet: OspfPacket,
                   nbr: Neighbor | None) -> bool:
        """Appendix D: the packet's authentication against the interface's."""
        auth = iface.settings.auth
        h = packet.header
        who = f"Rcv pkt from {format_ip(src)} : "
        if h.autype != auth.autype:
            self.debug_adj(iface, f"{who}Mismatched Authentication type. Input packet "
                                  f"specified type {h.autype}, we use type {auth.autype}")
            return False
        if auth.autype == AuType.SIMPLE_PASSWORD:
            if h.authentication != auth.password[:8].ljust(8, b"\0"):
                self.debug_adj(iface, f"{who}Mismatched Authentication Key - Clear Text")
                return False
        elif auth.autype == AuType.CRYPTOGRAPHIC:
            key = auth.key(h.key_id)
            if key is None:
                self.debug_adj(iface, f"{who}Mismatched Authentication Key - No message "
                                      f"digest key {h.key_id} on interface")
                return False
            if not md5_digest_ok(data, packet, key):
                self.debug_adj(iface, f"{who}Mismatched Authentication Key - Message "
                                      f"Digest Key {h.key_id}")
                return False
            if nbr is not None and h.crypto_sequence < nbr.crypto_sequence:
                return False  # a replay (D.5.2)
        return True

    def _hello(self, iface: OspfInterface, src: int, router_id: int, hello: HelloPacket,
               now: float) -> None:
        """A Hello (10.5)."""
        s = iface.settings
        self.debug_hello(iface, f"Rcv hello from {format_ip(router_id)} area {s.area_text} "
                                f"{format_ip(src)}")
        check_mask = s.network_type is NetworkType.BROADCAST
        if (check_mask and hello.network_mask != s.mask
                or hello.hello_interval != s.hello_interval
                or hello.router_dead_interval != s.dead_interval):
            self.debug_hello(iface, f"Mismatched hello parameters from {format_ip(src)}")
            text = (f"Dead R {hello.router_dead_interval} C {s.dead_interval}, Hello R "
                    f"{hello.hello_interval} C {s.hello_interval}")
            if check_mask:
                text += f" Mask R {format_ip(hello.network_mask)} C {format_ip(s.mask)}"
            self.debug_hello(iface, text)
            return
        if not hello.options & OPTION_E:
            self.debug_hello(iface, f"Hello from {format_ip(src)} with mismatched "
                                    "Stub/Transit area option bit")
            return
        nbr = iface.neighbors.get(src)
        if nbr is not None and nbr.router_id != router_id:
            self.neighbor_event(iface, nbr, NeighborEvent.KILL_NBR, now)
            nbr = None
        if nbr is None:
            nbr = iface.neighbors[src] = Neighbor(iface.name, router_id, src)
        old = (nbr.priority, nbr.dr == src, nbr.bdr == src)
        nbr.priority, nbr.options = hello.router_priority, hello.options
        nbr.dr, nbr.bdr = hello.designated_router, hello.backup_designated_router
        self.neighbor_event(iface, nbr, NeighborEvent.HELLO_RECEIVED, now)
        if self.router_id not in hello.neighbors:
            self.neighbor_event(iface, nbr, NeighborEvent.ONE_WAY, now)
            return
        self.neighbor_event(iface, nbr, NeighborEvent.TWO_WAY_RECEIVED, now)
        if s.network_type is not NetworkType.BROADCAST:
            return
        waiting = iface.state is InterfaceState.WAITING
        declares_dr, declares_bdr = hello.designated_router == src, (
            hello.backup_designated_router == src)
        if nbr.priority != old[0]:
            self.queue_interface_event(iface, InterfaceEvent.NEIGHBOR_CHANGE)
        if declares_dr and hello.backup_designated_router == 0 and waiting:
            self.queue_interface_event(iface, InterfaceEvent.BACKUP_SEEN)
        elif declares_dr != old[1]:
            self.queue_interface_event(iface, InterfaceEvent.NEIGHBOR_CHANGE)
        if declares_bdr and waiting:
            self.queue_interface_event(iface, InterfaceEvent.BACKUP_SEEN)
        elif declares_bdr != old[2]:
            self.queue_interface_event(iface, InterfaceEvent.NEIGHBOR_CHANGE)

    # ================================================================ neighbour FSM

    def neighbor_event(self, iface: OspfInterface, nbr: Neighbor, event: NeighborEvent,
                       now: float) -> None:
        """Run the neighbour state machine (10.3) for ``event``."""
        row = TRANSITIONS.get((nbr.state, event))
        if row is None:
            return
        action, target = row
        old = nbr.state
        decided = getattr(self, f"_nbr_{action}")(iface, nbr, now)
        new = decided if decided is not None else (target if target is not None else old)
        if new is not old:
            nbr.state = new
            self._neighbor_changed(iface, nbr, old, new, event, now)

    def _should_be_adjacent(self, iface: OspfInterface, nbr: Neighbor) -> bool:
        """10.4: always on point-to-point; on a broadcast network with the DR and Backup."""
        if iface.settings.network_type is not NetworkType.BROADCAST:
            return True
        return (iface.state in (InterfaceState.DR, InterfaceState.BACKUP)
                or nbr.address in (iface.dr, iface.bdr) and nbr.address != 0)

    def _nbr_start_inactivity(self, iface: OspfInterface, nbr: Neighbor,
                              now: float) -> None:
        nbr.dead_at = now + iface.settings.dead_interval
        self.timers.set(("dead", iface.name, nbr.address), nbr.dead_at)

    def _nbr_decide_adjacency(self, iface: OspfInterface, nbr: Neighbor,
                              now: float) -> NeighborState:
        if nbr.state is NeighborState.INIT:
            self.debug_adj(iface, f"2 Way Communication to {format_ip(nbr.router_id)}, "
                                  "state 2WAY")
        if not self._should_be_adjacent(iface, nbr):
            return NeighborState.TWO_WAY
        nbr.state = NeighborState.EXSTART  # the first DBD already says EXSTART
        self.exchange.start(iface, nbr, now)
        return NeighborState.EXSTART

    def _nbr_keep_adjacency(self, iface: OspfInterface, nbr: Neighbor,
                            now: float) -> NeighborState | None:
        if self._should_be_adjacent(iface, nbr):
            return None
        nbr.clear_lists()
        return NeighborState.TWO_WAY

    def _nbr_summary_list(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        self.exchange.summary_list(iface, nbr, now)

    def _nbr_exchange_done(self, iface: OspfInterface, nbr: Neighbor,
                           now: float) -> NeighborState:
        if not nbr.requests:
            return NeighborState.FULL
        self.exchange.send_requests(iface, nbr, now)
        return NeighborState.LOADING

    def _nbr_loading_done(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        return None

    def _nbr_restart_exchange(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        nbr.state = NeighborState.EXSTART
        self.exchange.start(iface, nbr, now)

    def _nbr_clear_lists(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        nbr.clear_lists()

    def _nbr_kill(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        nbr.clear_lists()
        self.timers.discard(("dead", iface.name, nbr.address))
        self.timers.discard(("rxmt", iface.name, nbr.address))

    def _neighbor_changed(self, iface: OspfInterface, nbr: Neighbor, old: NeighborState,
                          new: NeighborState, event: NeighborEvent, now: float) -> None:
        full_or_down = new in (NeighborState.FULL, NeighborState.DOWN)
        if self.log_adjacency == "detail" or (self.log_adjacency == "brief" and full_or_down):
            reason = event.value
            if new is NeighborState.FULL and old is NeighborState.EXCHANGE:
                reason = NeighborEvent.EXCHANGE_DONE.value
            self.log(f"%OSPF-5-ADJCHG: Process {self.process_id}, Nbr "
                     f"{format_ip(nbr.router_id)} on {iface.name} from {old.ios} to "
                     f"{new.ios}, {reason}")
        if NeighborState.FULL in (old, new):
            self.origination.mark_router(iface.settings.area)
            self.origination.mark_network(iface)
        if (old >= NeighborState.TWO_WAY) != (new >= NeighborState.TWO_WAY):
            self.queue_interface_event(iface, InterfaceEvent.NEIGHBOR_CHANGE)
        if new is NeighborState.DOWN:
            iface.neighbors.pop(nbr.address, None)
            self.timers.discard(("dead", iface.name, nbr.address))
            self.timers.discard(("rxmt", iface.name, nbr.address))

    def arm_retransmit(self, iface: OspfInterface, nbr: Neighbor, now: float) -> None:
        key = ("rxmt", iface.name, nbr.address)
        if key not in self.timers:
            self.timers.set(key, now + iface.settings.retransmit_interval)

    # ================================================================ interface FSM

    def queue_interface_event(self, iface: OspfInterface, event: InterfaceEvent) -> None:
        self._if_queue.append((iface, event))

    def interface_event(self, iface: OspfInterface, event: InterfaceEvent, now: float) -> None:
        """Run the interface state machine (9.3) for ``event``."""
        row = IF_TRANSITIONS.get((iface.state, event))
        if row is None:
            return
        action, target = row
        decided = getattr(self, f"_if_{action}")(iface, now)
        new = decided if decided is not None else target
        if new is not None:
            iface.state = new

    def _if_come_up(self, iface: OspfInterface, now: float) -> InterfaceState:
        s = iface.settings
        iface.up_since = now
        self.debug_adj(iface, "Interface going Up")
        self.origination.mark_router(s.area)
        if s.network_type is NetworkType.LOOPBACK:
            return InterfaceState.LOOPBACK
        if not s.passive:
            self.timers.set(("hello", iface.name), now)
        if s.network_type is NetworkType.POINT_TO_POINT:
            return InterfaceState.POINT_TO_POINT
        if s.priority == 0:
            return InterfaceState.DROTHER
        iface.wait_until = now + s.dead_interval
        self.timers.set(("wait", iface.name), iface.wait_until)
        return InterfaceState.WAITING

    def _if_elect(self, iface: OspfInterface, now: float) -> InterfaceState:
        s = iface.settings
        me = Candidate(self.router_id, s.address, s.priority, iface.dr, iface.bdr)
        others = [Candidate(n.router_id, n.address, n.priority, n.dr, n.bdr)
                  for n in iface.neighbors.values() if n.state >= NeighborState.TWO_WAY]
        dr, bdr, lines = elect_designated_router(me, others)
        for line in lines:
            self.debug_adj(iface, line)
        before = (iface.dr, iface.bdr)
        iface.dr, iface.dr_id = (dr.address, dr.router_id) if dr else (0, 0)
        iface.bdr, iface.bdr_id = (bdr.address, bdr.router_id) if bdr else (0, 0)
        iface.wait_until = None
        self.timers.discard(("wait", iface.name))
        state = (InterfaceState.DR if iface.dr == s.address else
                 InterfaceState.BACKUP if iface.bdr == s.address else InterfaceState.DROTHER)
        if (iface.dr, iface.bdr) != before:
            iface.state = state
            for n in list(iface.neighbors.values()):
                if n.state >= NeighborState.TWO_WAY:
                    self.neighbor_event(iface, n, NeighborEvent.ADJ_OK, now)
            self.origination.mark_router(s.area)
        self.origination.mark_network(iface)
        return state

    def _if_go_down(self, iface: OspfInterface, now: float) -> None:
        s = iface.settings
        self.debug_adj(iface, "Interface going Down")
        for n in list(iface.neighbors.values()):
            self.neighbor_event(iface, n, NeighborEvent.LL_DOWN, now)
        iface.neighbors.clear()
        iface.dr = iface.bdr = iface.dr_id = iface.bdr_id = 0
        iface.wait_until = None
        iface.flood_queue.clear()
        iface.ack_queue.clear()
        for kind in ("hello", "wait"):
            self.timers.discard((kind, iface.name))
        iface.state = InterfaceState.DOWN
        self.origination.mark_router(s.area)
        if s.area in self.areas:
            self.origination.want(s.area, (LsType.NETWORK, s.address, self.router_id), None,
                                  now)

    def _run_interface_events(self, now: float) -> None:
        while self._if_queue:
            iface, event = self._if_queue.pop(0)
            if self.interfaces.get(iface.name) is iface:
                if event is InterfaceEvent.NEIGHBOR_CHANGE:
                    self.debug_adj(iface, "Neighbor change event")
                elif event is InterfaceEvent.BACKUP_SEEN:
                    self.debug_adj(iface, "Backup seen event before WAIT timer")
                self.interface_event(iface, event, now)

    # ================================================================ timers

    def handle_timer(self, now: float) -> None:
        """Run every timer due by ``now``."""
        for key in self.timers.pop_due(now):
            kind = key[0]
            handler = getattr(self, f"_timer_{kind}")
            handler(key, now)
            self._run_interface_events(now)
        self._end_batch(now)

    def _timer_hello(self, key: tuple[object, ...], now: float) -> None:
        iface = self.interfaces.get(str(key[1]))
        if iface is None or iface.state is InterfaceState.DOWN or iface.settings.passive:
            return
        self._send_hello(iface, now)
        self.timers.set(key, deadline_after(now, iface.settings.hello_interval))

    def _timer_pace(self, key: tuple[object, ...], now: float) -> None:
        """An interface's flood pacing interval ended: the batch's end sends its queues."""

    def _timer_wait(self, key: tuple[object, ...], now: float) -> None:
        iface = self.interfaces.get(str(key[1]))
        if iface is not None:
            self.debug_adj(iface, "end of Wait on interface")
            self.interface_event(iface, InterfaceEvent.WAIT_TIMER, now)

    def _neighbor_of(self, key: tuple[object, ...]) -> tuple[OspfInterface, Neighbor] | None:
        iface = self.interfaces.get(str(key[1]))
        address = key[2]
        assert isinstance(address, int)
        nbr = iface.neighbors.get(address) if iface is not None else None
        return (iface, nbr) if iface is not None and nbr is not None else None

    def _timer_dead(self, key: tuple[object, ...], now: float) -> None:
        found = self._neighbor_of(key)
        if found is not None and now >= found[1].dead_at:
            self.neighbor_event(found[0], found[1], NeighborEvent.INACTIVITY_TIMER, now)

    def _timer_rxmt(self, key: tuple[object, ...], now: float) -> None:
        found = self._neighbor_of(key)
        if found is None:
            return
        iface, nbr = found
        exchanging = nbr.state is NeighborState.EXSTART or (
            nbr.state is NeighborState.EXCHANGE and nbr.master)
        loading = nbr.state is NeighborState.LOADING and bool(nbr.requests)
        if not (exchanging or loading or nbr.retransmit):
            return
        nbr.retransmissions += 1
        if nbr.retransmissions > RETRANSMIT_LIMIT:
            self.neighbor_event(iface, nbr, NeighborEvent.TOO_MANY_RETRANSMISSIONS, now)
            return
        if exchanging:
            self.exchange.retransmit_dbd(iface, nbr)
        if loading:
            self.exchange.send_requests(iface, nbr, now)
        self.flooding.retransmit(iface, nbr, now)
        self.timers.set(key, now + iface.settings.retransmit_interval)

    def _timer_spf(self, key: tuple[object, ...], now: float) -> None:
        self.calculation.run(now)

    def _lsa_of(self, key: tuple[object, ...]) -> tuple[int, LsaKey, Lsdb] | None:
        """(scope, LSA key, database) of a timer about one LSA, if its scope still exists."""
        scope, lsa_key = key[1], key[2]
        assert isinstance(scope, int) and isinstance(lsa_key, tuple)
        if scope != EXTERNAL and scope not in self.areas:
            return None
        return scope, lsa_key, self.lsdb(scope)

    def _timer_originate(self, key: tuple[object, ...], now: float) -> None:
        found = self._lsa_of(key)
        if found is not None:
            self.origination.deferred(found[0], found[1], now)

    def _timer_refresh(self, key: tuple[object, ...], now: float) -> None:
        found = self._lsa_of(key)
        if found is not None:
            self.origination.refresh(found[0], found[1], now)

    def _timer_maxage(self, key: tuple[object, ...], now: float) -> None:
        found = self._lsa_of(key)
        if found is None:
            return
        scope, lsa_key, db = found
        entry = db.get(lsa_key)
        if entry is None or entry.self_originated or not entry.at_max_age(now):
            return
        self.flooding.flood(scope, entry, None, None, now)
        self.schedule_spf(now)
        self.timers.set(("remove", scope, lsa_key), now + MAX_AGE_HOLD)

    def _timer_remove(self, key: tuple[object, ...], now: float) -> None:
        found = self._lsa_of(key)
        if found is None:
            return
        scope, lsa_key, db = found
        entry = db.get(lsa_key)
        if entry is not None and entry.at_max_age(now):
            db.remove(lsa_key)
            self.flooding.forget(lsa_key)
            self.schedule_spf(now)

    # ================================================================ the database

    def schedule_spf(self, now: float) -> None:
        """A routing table calculation, on IOS's SPF throttle (``iosim.ospf.calculation``)."""
        self.calculation.schedule(now)

    def lsdb_changed(self, scope: int, entry: LsdbEntry, old: LsdbEntry | None,
                     now: float) -> None:
        """An instance was installed (13.2): a routing calculation if it says something
        new; an aging deadline for another router's LSA."""
        if not entry.self_originated:
            self.timers.set(("maxage", scope, entry.key), entry.max_age_at())
        if (old is None or old.lsa.raw[20:] != entry.lsa.raw[20:]
                or old.at_max_age(now) != entry.at_max_age(now)):
            self.schedule_spf(now)

    def _update_default(self, now: float) -> None:
        d = self.default_originate
        want = d is not None and (d.always or self.default_route)
        body = AsExternalLsa(0, d.metric_type == 2, d.metric) if want and d else None
        self.origination.want(EXTERNAL, (LsType.AS_EXTERNAL, 0, self.router_id), body, now)

    # ================================================================ batches

    def _end_batch(self, now: float) -> None:
        """What a packet or a timer set in motion: interface events, new LSAs, queued
        floods and acknowledgments."""
        self._run_interface_events(now)
        self.origination.update(now)
        self.flooding.flush_queues(now)


_PACKET_TYPE: dict[type, int] = {HelloPacket: 1, DatabaseDescription: 2, LinkStateRequest: 3,
                                 LinkStateUpdate: 4, LinkStateAck: 5}
