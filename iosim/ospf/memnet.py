"""OSPF engines wired together in memory, on a virtual clock, without routers or IP stacks:
the engine tests' network and the convergence benchmark's (``bench/ospf_convergence.py``).

A segment joins interfaces of several engines (two of them: a point-to-point link); what an
engine sends reaches, one millisecond later, every other engine on the segment that listens
to the group (or owns the unicast address). ``sent`` counts the packets sent, ``delivered``
the copies received.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from iosim.clock import TimerHandle, VirtualClock
from iosim.net.packets import ip_to_int
from iosim.ospf.engine import OspfEngine, OspfLog, Transmission
from iosim.ospf.interface import InterfaceSettings, NetworkType

DELAY = 0.001


@dataclass
class Member:
    """One interface on a segment."""

    router: str
    interface: str
    address: int


@dataclass
class Node:
    """One engine and the interfaces it was given."""

    engine: OspfEngine
    settings: dict[str, InterfaceSettings] = field(default_factory=dict)
    handle: TimerHandle | None = None
    logs: list[str] = field(default_factory=list)
    up: dict[str, bool] = field(default_factory=dict)


class Net:
    """Engines, segments and one virtual clock (see the module docstring)."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.nodes: dict[str, Node] = {}
        self.where: dict[tuple[str, str], str] = {}
        self.segments: dict[str, list[Member]] = {}
        self.sent = 0
        self.delivered = 0

    def router(self, name: str, rid: str, **kw: object) -> OspfEngine:
        """A new engine (process 1) with router ID ``rid``."""
        engine = OspfEngine(1, ip_to_int(rid), self.clock.now, **kw)  # type: ignore[arg-type]
        self.nodes[name] = Node(engine)
        return engine

    def link(self, segment: str, router: str, interface: str, prefix: str, *,
             area: int = 0, network_type: NetworkType = NetworkType.BROADCAST,
             **kw: object) -> None:
        """Put ``router``'s ``interface`` (``prefix``: its address/length) on ``segment``."""
        address, length = prefix.split("/")
        mask = (0xFFFFFFFF << (32 - int(length))) & 0xFFFFFFFF
        settings = InterfaceSettings(interface, interface, ip_to_int(address), mask, area,
                                     str(area), network_type, 1, **kw)  # type: ignore[arg-type]
        self.nodes[router].settings[interface] = settings
        self.where[(router, interface)] = segment
        self.segments.setdefault(segment, []).append(
            Member(router, interface, ip_to_int(address)))

    def start(self) -> None:
        """Every engine takes its interfaces now."""
        for name, node in self.nodes.items():
            node.engine.configure(dict(node.settings), self.clock.now)
            self._pump(name)

    def configure(self, router: str, **kw: object) -> None:
        """Hand ``router``'s engine its interfaces again (with ``configure``'s options)."""
        node = self.nodes[router]
        node.engine.configure(dict(node.settings), self.clock.now, **kw)  # type: ignore[arg-type]
        self._pump(router)

    def set_interface(self, router: str, settings: InterfaceSettings | None,
                      interface: str = "") -> None:
        """Change (or, with None, remove) one interface of ``router``."""
        node = self.nodes[router]
        if settings is None:
            node.settings.pop(interface)
        else:
            node.settings[settings.name] = settings
        self.configure(router)

    def _pump(self, name: str) -> None:
        node = self.nodes[name]
        out, events = node.engine.drain()
        node.logs += [e.message for e in events if isinstance(e, OspfLog)]
        for t in out:
            self._transmit(name, t)
        when = node.engine.next_deadline()
        if node.handle is not None:
            node.handle.cancel()
            node.handle = None
        if when is not None:
            node.handle = self.clock.call_at(max(when, self.clock.now), self._timer, name)

    def _timer(self, name: str) -> None:
        self.nodes[name].handle = None
        self.nodes[name].engine.handle_timer(self.clock.now)
        self._pump(name)

    def _transmit(self, name: str, t: Transmission) -> None:
        self.sent += 1
        segment = self.where[(name, t.interface)]
        src = next(m.address for m in self.segments[segment]
                   if (m.router, m.interface) == (name, t.interface))
        for m in self.segments[segment]:
            if m.router == name:
                continue
            if t.destination >> 28 == 0xE:
                if t.destination not in self.nodes[m.router].engine.groups(m.interface):
                    continue
            elif t.destination != m.address:
                continue
            self.clock.call_later(DELAY, self._deliver, m, src, t)

    def _deliver(self, m: Member, src: int, t: Transmission) -> None:
        node = self.nodes[m.router]
        self.delivered += 1
        node.engine.receive(m.interface, src, t.destination, t.payload, self.clock.now)
        self._pump(m.router)

    def run(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass."""
        self.clock.advance(seconds)
