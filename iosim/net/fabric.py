"""The wires of a lab: Ethernet links and shared segments with a delay, on the virtual clock.

A frame sent on one end of a link arrives at the other end ``delay`` seconds later (an
event on the lab's clock). A shared segment is a learning switch: it learns which port each
source MAC address sits behind, sends a unicast frame to a known address out of that port
only, and floods broadcasts and frames to unknown addresses to every other port (each
receiver then keeps only what is addressed to it). Every frame that crosses a wire can
be recorded with its virtual timestamp, for pcap export. A segment's ARP broadcasts go
through its :class:`~iosim.net.segment.ArpLedger`: handed at once to the ports that must
answer or capture them, and to the others as the ledger's record, which their stacks read
when they look (N routers on a segment cost O(N) at boot, not O(N^2)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from iosim.clock import VirtualClock
from iosim.net.pcap import LINKTYPE_ETHERNET, PcapWriter
from iosim.net.segment import ArpLedger, Port, arp_fields

Endpoint = tuple[str, str]  # (device, interface)
Receiver = Callable[[str, bytes], None]  # (interface, frame)
Tap = Callable[["Link", bytes], None]  # sees every frame put on a wire (a grader's probe)


@dataclass
class Link:
    """One cable between two interfaces, or a segment joining several."""

    ends: tuple[Endpoint, ...]
    delay: float
    label: str | None = None  # the name of a segment
    captured: list[tuple[float, bytes]] = field(default_factory=list)
    capturing: bool = False
    macs: dict[bytes, Endpoint] = field(default_factory=dict)  # a segment's learnt addresses
    ledger: ArpLedger = field(default_factory=ArpLedger)  # a segment's ARP broadcasts
    shared: bool = field(init=False)  # a segment (not a cable): every frame asks

    def __post_init__(self) -> None:
        self.shared = len(self.ends) > 2 or self.label is not None

    def others(self, end: Endpoint) -> list[Endpoint]:
        if len(self.ends) == 2:  # a cable: every frame asks, so no list walk
            a, b = self.ends
            return [b] if end == a else [a] if end == b else [a, b]
        return [e for e in self.ends if e != end]

    def destinations(self, end: Endpoint, frame: bytes) -> list[Endpoint]:
        """Where a frame sent from ``end`` goes: the far end of a cable; on a segment, the
        port its unicast destination was learnt on, else every other port."""
        if not self.shared:
            return self.others(end)
        self.learn(end, frame)
        dest = frame[:6]
        known = self.macs.get(dest) if len(dest) == 6 and not dest[0] & 1 else None
        if known is not None:
            return [] if known == end else [known]
        return self.others(end)

    def learn(self, end: Endpoint, frame: bytes) -> None:
        """A segment learns which port a unicast source address sits behind."""
        source = frame[6:12]
        if len(source) == 6 and not source[0] & 1:
            self.macs[source] = end

    def peer(self, end: Endpoint) -> Endpoint:
        """The other end of a point-to-point link."""
        a, b = self.ends[0], self.ends[1]
        return b if end == a else a

    @property
    def name(self) -> str:
        if self.label is not None:
            return self.label
        return "--".join(f"{d}_{i}" for d, i in self.ends).replace("/", "-")


@dataclass
class Fabric:
    """Every link of a lab and the devices' receive functions."""

    clock: VirtualClock
    links: list[Link] = field(default_factory=list)
    receivers: dict[str, Receiver] = field(default_factory=dict)
    is_up: dict[str, Callable[[str], bool]] = field(default_factory=dict)
    taps: list[Tap] = field(default_factory=list)
    _by_end: dict[Endpoint, Link] = field(default_factory=dict)

    def connect(self, ends: tuple[Endpoint, ...], delay: float,
                label: str | None = None) -> Link:
        link = Link(ends, delay, label)
        self.links.append(link)
        for end in ends:
            self._by_end[end] = link
        return link

    def attach(self, device: str, receive: Receiver, is_up: Callable[[str], bool]) -> None:
        """Register a device: how it receives frames and whether an interface is up."""
        self.receivers[device] = receive
        self.is_up[device] = is_up

    def link_of(self, device: str, interface: str) -> Link | None:
        return self._by_end.get((device, interface))

    def port_of(self, device: str, interface: str) -> Port | None:
        """The segment port of ``device interface`` (None on a cable or unwired)."""
        link = self.link_of(device, interface)
        if link is None or not link.shared:
            return None
        return link.ledger.port((device, interface))

    def peer_admin_up(self, device: str, interface: str) -> bool:
        """Whether the far end of ``device interface`` is enabled (for line protocol)."""
        link = self.link_of(device, interface)
        if link is None:
            return False
        if link.shared:
            return True  # a switch port is up whatever the other hosts do
        peer_dev, peer_if = link.peer((device, interface))
        check = self.is_up.get(peer_dev)
        return check is not None and check(peer_if)

    def transmitter(self, device: str) -> Callable[[str, bytes], None]:
        """The function a device's stack calls to put a frame on a wire."""

        def transmit(interface: str, frame: bytes) -> None:
            link = self._by_end.get((device, interface))
            if link is None:
                return
            if link.capturing:
                link.captured.append((self.clock.now, frame))
            for tap in self.taps:
                tap(link, frame)
            if link.shared and (fields := arp_fields(frame)) is not None:
                link.learn((device, interface), frame)
                self.clock.call_later(link.delay, self._arp_broadcast, link,
                                      (device, interface), frame, fields)
                return
            ends = link.destinations((device, interface), frame)
            if len(ends) == 1:
                receive = self.receivers.get(ends[0][0])
                if receive is not None:
                    self.clock.call_later(link.delay, receive, ends[0][1], frame)
            elif ends:  # a flood: one event hands the frame to every port
                self.clock.call_later(link.delay, self._flood, ends, frame)

        return transmit

    def _arp_broadcast(self, link: Link, sender: Endpoint, frame: bytes,
                       fields: tuple[bytes, int, int]) -> None:
        """An ARP broadcast reaches the segment's ports: recorded in its ledger, handed at
        once to those that must act on it."""
        for peer_dev, peer_if in link.ledger.record(sender, frame, fields, self.clock.now):
            receive = self.receivers.get(peer_dev)
            if receive is not None:
                receive(peer_if, frame)

    def _flood(self, ends: list[Endpoint], frame: bytes) -> None:
        for peer_dev, peer_if in ends:
            receive = self.receivers.get(peer_dev)
            if receive is not None:
                receive(peer_if, frame)

    def capture(self, on: bool = True) -> None:
        """Start (or stop) recording the frames of every link."""
        for link in self.links:
            link.capturing = on

    def write_pcaps(self, directory: Path, epoch: float = 0.0) -> list[Path]:
        """One pcap file per link (atomically written); returns their paths."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for link in self.links:
            path = directory / f"{link.name}.pcap"
            with PcapWriter(path, linktype=LINKTYPE_ETHERNET, epoch=epoch) as w:
                for ts, frame in link.captured:
                    w.write(ts, frame)
            paths.append(path)
        return paths
