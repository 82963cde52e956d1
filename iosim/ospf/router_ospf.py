"""The OSPF half of a router: its processes' engines bound to the router's IP stack, clock,
running-config, routing table and log.

Theory of operation
-------------------
``RouterOspf`` is the only place that pumps the sans-IO :class:`~iosim.ospf.engine.OspfEngine`
of each ``router ospf N``. Whenever the configuration, an interface or a link changes (the
router's ``config``, ``interface``, ``link`` and ``routes`` events), :meth:`RouterOspf.sync`
works out from the running-config which interfaces each process runs on
(:func:`iosim.ospf.config.attachment`, :func:`~iosim.ospf.config.interface_plan`) and
hands the engine that plan: interfaces that came up, went down or changed. OSPF packets are
IP protocol 89 (the stack's ``protocol_handlers``); what an engine sends leaves the
interface it names (``IpStack.send(..., interface=...)``, TTL 1, IP precedence 6) to
224.0.0.5, 224.0.0.6 or a neighbour; the stack delivers all link-local multicast, and the
engine takes AllDRouters only on the DR and the Backup. Any interface that has an address,
a line protocol and the stack's multicast runs OSPF: Ethernets, shared segments and tunnels
alike. One timer on the lab's clock, at the earliest deadline of the engines, drives them.
After each call the engine's events are turned into syslog messages, debug lines (``debug
ip ospf adj|hello|events``) and, when its routing table changed, the difference between the
routes it had in the router's table and the new ones goes in one route at a time
(``router.inject_route`` / ``withdraw_route``, the mechanism reverse route injection uses),
each with the time it last changed.

The router ID is chosen when a process starts, as IOS chooses it: ``router-id``, else the
highest address of a loopback that is up, else of any interface that is up; a new
``router-id`` applies at once only while the process has no neighbour, else after ``clear
ip ospf process``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iosim.config.tunnel_model import ip_mtu_setting, is_tunnel
from iosim.net.fragments import ETHERNET_MTU
from iosim.net.routing import OSPF_TYPES, Route, RouteType
from iosim.ospf.config import attachment, interface_plan, ospf_config
from iosim.ospf.engine import (
    DefaultOriginate,
    OspfDebug,
    OspfEngine,
    OspfLog,
    RoutesChanged,
)
from iosim.ospf.interface import NetworkType
from iosim.ospf.packets import IP_PROTOCOL_OSPF, OSPF_TOS
from iosim.ospf.spf import PathType

if TYPE_CHECKING:
    from iosim.clock import TimerHandle, VirtualClock
    from iosim.net.packets import Ipv4Packet
    from iosim.router import Router

_ROUTE_TYPE = {PathType.INTRA_AREA: RouteType.OSPF, PathType.INTER_AREA: RouteType.OSPF_INTER_AREA,
               PathType.EXTERNAL_1: RouteType.OSPF_EXTERNAL_1,
               PathType.EXTERNAL_2: RouteType.OSPF_EXTERNAL_2}

#: ``debug ip ospf ...`` flags (router.debug_flags) -> the engine categories they show.
DEBUG_CATEGORIES = {"ospf-adj": ("adj",), "ospf-hello": ("hello",),
                    "ospf-events": ("adj", "hello")}


def _shown(route: Route) -> tuple[object, ...]:
    """A route with what ``show ip route`` prints of it that makes no other route (when it
    was learnt and from whom): a change of those replaces it in the table too."""
    return (route, route.learned_at, route.origin)


class RouterOspf:
    """Every OSPF process of one router (see the module docstring)."""

    def __init__(self, router: Router, clock: VirtualClock) -> None:
        assert router.stack is not None
        self.router = router
        self.clock = clock
        self.engines: dict[int, OspfEngine] = {}
        self._handle: TimerHandle | None = None
        # processes that said they could not start (a dict as a set: a quarter of the size)
        self._no_router_id: dict[int, None] = {}
        self._syncing = False
        # what each process put in the routing table, by the key it was injected under
        self._installed: dict[int, dict[tuple[object, ...], Route]] = {}
        router.stack.protocol_handlers[IP_PROTOCOL_OSPF] = self._receive
        router.listeners.append(self._router_event)
        router.ospf_plane = self
        self.sync()

    # ---------------------------------------------------------------- configuration

    def _router_event(self, event: str, detail: str) -> None:
        if event == "reboot":
            for pid in list(self._installed):
                self._withdraw_all(pid)
            self.engines.clear()
            self._no_router_id.clear()
            if self._handle is not None:
                self._handle.cancel()
                self._handle = None
        elif event in ("interface", "config", "link", "routes"):
            self.sync()

    def sync(self) -> None:
        """Bring every process in line with the running-config and the interfaces."""
        if self._syncing:
            return
        self._syncing = True
        try:
            self._sync()
        finally:
            self._syncing = False

    def _sync(self) -> None:
        router = self.router
        now = self.clock.now
        processes = ospf_config(router.config).processes
        for pid in [p for p in self.engines if p not in processes]:
            self._stop(pid)
        plans: dict[int, dict[str, object]] = {pid: {} for pid in processes}
        for intf in router.config.sorted_interfaces():
            found = attachment(intf, processes)
            if found is None or router.interface_up(intf.name) != ("up", "up"):
                continue
            process, area, text, by_interface = found
            if intf.address is None or intf.mask is None:
                continue
            plans[process.process_id][intf.name] = interface_plan(
                intf, process, area, text, by_interface, self._ip_mtu(intf.name))
        default_route = self._has_default_route()
        for pid, process in sorted(processes.items()):
            engine = self.engines.get(pid)
            if engine is None:
                router_id = self._choose_router_id(pid)
                if router_id is None:
                    continue
                engine = self.engines[pid] = OspfEngine(pid, router_id, now,
                                                        process.log_adjacency)
            engine.log_adjacency = process.log_adjacency
            engine.debugging = self._debugging()
            d = process.default_information
            originate = None if d is None else DefaultOriginate(
                d.always, d.metric if d.metric is not None else 1,
                d.metric_type if d.metric_type is not None else 2)
            engine.configure(plans[pid], now, default_originate=originate,  # type: ignore[arg-type]
                             default_route=default_route,
                             area_authentication={a: k for a, (_, k)
                                                  in process.area_authentication.items()})
            self._pump(engine)
        self._arm()

    def _choose_router_id(self, pid: int) -> int | None:
        """IOS's choice: ``router-id``, else the highest loopback address that is up, else
        the highest address of an interface that is up."""
        router = self.router
        process = ospf_config(router.config).processes[pid]
        if process.router_id is not None:
            return int(process.router_id)
        taken = {e.router_id for e in self.engines.values()}
        loopbacks: list[int] = []
        others: list[int] = []
        for intf in router.config.interfaces.values():
            if intf.address is None or router.interface_up(intf.name) != ("up", "up"):
                continue
            (loopbacks if intf.name.startswith("Loopback") else others).append(
                int(intf.address))
        for pool in (loopbacks, others):
            free = [a for a in pool if a not in taken]
            if free:
                self._no_router_id.pop(pid, None)
                return max(free)
        if pid not in self._no_router_id:
            self._no_router_id[pid] = None
            router.log(f"%OSPF-4-NORTRID: OSPF process {pid} failed to allocate unique "
                       "router-id and cannot start")
        return None

    def take_router_id(self, pid: int) -> bool:
        """A new ``router-id`` was typed: whether it applies now (the process has no
        neighbour; it restarts with it) or only after ``clear ip ospf process``."""
        engine = self.engines.get(pid)
        if engine is None:
            return True
        if any(i.neighbors for i in engine.interfaces.values()):
            return False
        self._stop(pid)
        return True

    def clear(self, pid: int | None = None) -> None:
        """``clear ip ospf [N] process``: the processes restart (and choose a router ID)."""
        for p in [p for p in self.engines if pid is None or p == pid]:
            self._stop(p)
        self.sync()

    def _stop(self, pid: int) -> None:
        engine = self.engines.pop(pid)
        engine.shutdown(self.clock.now)
        self._pump(engine)
        self._withdraw_all(pid)

    def _ip_mtu(self, name: str) -> int:
        """The IP MTU of ``name``: a tunnel's as its plane computes it, else ``ip mtu`` or
        Ethernet's 1500."""
        plane = self.router.tunnel_plane
        if plane is not None and is_tunnel(name):
            return int(plane.ip_mtu(name))  # type: ignore[attr-defined]
        intf = self.router.config.interfaces.get(name)
        configured = ip_mtu_setting(intf) if intf is not None else None
        return configured if configured is not None else ETHERNET_MTU

    def _has_default_route(self) -> bool:
        """Whether the routing table has a default route that OSPF did not put there (what
        ``default-information originate`` without ``always`` waits for)."""
        table = self.router.routing_table()
        return any(r.prefix_len == 0 and r.type not in OSPF_TYPES
                   for r in table.lookup_all(0))

    def _debugging(self) -> frozenset[str]:
        flags = self.router.debug_flags
        return frozenset(c for flag, cats in DEBUG_CATEGORIES.items() if flag in flags
                         for c in cats)

    # ---------------------------------------------------------------- packets and time

    def _receive(self, interface: str | None, packet: Ipv4Packet, datagram: bytes) -> None:
        if interface is None:
            return
        now = self.clock.now
        for engine in self.engines.values():
            if interface in engine.interfaces:
                engine.debugging = self._debugging()
                engine.receive(interface, packet.src, packet.dst, packet.payload, now)
                self._pump(engine)
                self._arm()
                return

    def _on_timer(self) -> None:
        self._handle = None
        now = self.clock.now
        for engine in list(self.engines.values()):
            when = engine.next_deadline()
            if when is not None and when <= now:
                engine.debugging = self._debugging()
                engine.handle_timer(now)
                self._pump(engine)
        self._arm()

    def _arm(self) -> None:
        deadlines = [d for d in (e.next_deadline() for e in self.engines.values())
                     if d is not None]
        when = min(deadlines) if deadlines else None
        if self._handle is not None:
            if when is not None and self._handle.when == max(when, self.clock.now):
                return
            self._handle.cancel()
            self._handle = None
        if when is not None:
            self._handle = self.clock.call_at(max(when, self.clock.now), self._on_timer)

    def _pump(self, engine: OspfEngine) -> None:
        """Send what the engine queued; log, debug and install what it reports."""
        router = self.router
        stack = router.stack
        out, events = engine.drain()
        if stack is not None:
            for t in out:
                stack.send(t.destination, IP_PROTOCOL_OSPF, t.payload, ttl=1, tos=OSPF_TOS,
                           interface=t.interface)
        for event in events:
            if isinstance(event, OspfLog):
                router.log(event.message)
            elif isinstance(event, OspfDebug):
                router.debug(event.text)
            elif isinstance(event, RoutesChanged):
                self._install_routes(engine)

    def _install_routes(self, engine: OspfEngine) -> None:
        """Put the process's new routes in the table and take out those it lost: only the
        difference, so that a change far away costs what changed, not the whole table."""
        pid = engine.process_id
        source = f"ospf {pid}"
        routes: dict[tuple[object, ...], Route] = {}
        for (network, mask), path in sorted(engine.table.items()):
            if path.attached:
                continue
            kind = _ROUTE_TYPE[path.path_type]
            metric = path.type2_cost if path.path_type is PathType.EXTERNAL_2 else path.cost
            since = engine.route_times[(network, mask)].since
            length = bin(mask).count("1")
            for name, hop in path.next_hops:
                routes[("ospf", pid, network, length, hop, name)] = Route(
                    kind, network, length, next_hop=hop, interface=name, metric=metric,
                    learned_at=since, origin=path.origin, source=source)
        before = self._installed.get(pid, {})
        router = self.router
        for key, old in before.items():
            new = routes.get(key)
            if new is None or _shown(new) != _shown(old):
                router.withdraw_route(key)
        for key, route in routes.items():
            had = before.get(key)
            if had is None or _shown(route) != _shown(had):
                router.inject_route(key, route)
        if routes:
            self._installed[pid] = routes
        else:
            self._installed.pop(pid, None)

    def _withdraw_all(self, pid: int) -> None:
        """The process stopped: its routes leave the table."""
        for key in self._installed.pop(pid, {}):
            self.router.withdraw_route(key)

    # ---------------------------------------------------------------- for show commands

    def engine_on(self, interface: str) -> OspfEngine | None:
        """The process that runs on ``interface``."""
        return next((e for e in self.engines.values() if interface in e.interfaces), None)

    def point_to_point(self, interface: str) -> bool:
        engine = self.engine_on(interface)
        return engine is not None and (engine.interfaces[interface].settings.network_type
                                       is NetworkType.POINT_TO_POINT)
