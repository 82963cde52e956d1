"""One emulated router interface bound to real UDP sockets 500 and 4500 on a host address.

Theory of operation
-------------------
The bridge is a device on the far end of a fabric link: the router does not know it is
bridged. It stands for a real IKE peer (a strongSwan on the host network) and owns two UDP
sockets bound to ``host_address`` on ports 500 and 4500.

* Frames the router sends on the link reach :meth:`UdpBridge.receive`. The bridge announces
  the peer's address with a gratuitous ARP when it is attached, and answers ARP requests for
  it with its own MAC, so the router sends its traffic for
  the peer here. An IPv4/UDP datagram to the peer with destination port 500 or 4500 (IKE, and
  ESP in UDP after a NAT-T float, RFC 3948) leaves as the payload of a real datagram, from the
  socket bound to its source port, to ``(peer, destination port)``. Fragments are reassembled
  first. Everything else is dropped and counted in :attr:`UdpBridge.dropped`.
* A datagram read from a real socket becomes a real IPv4/UDP packet (peer address and port ->
  the router interface's address and the socket's port, checksums computed, fragmented for
  the link MTU if needed) put on the link, so it arrives at the router as if it came off the
  wire, ``delay`` seconds later. Datagrams from any other source address are dropped.

Time: while :meth:`start`-ed the bridge holds the lab's virtual clock to the wall clock (the
clock's pacer sleeps until an event is due in real time) and keeps a periodic poll event on
it (every :data:`POLL_INTERVAL` virtual seconds) that reads the sockets. Whatever drives the
clock (a ``ping`` waiting for its answer, or :meth:`run_until` when nothing else does) thus
also moves real datagrams in and out, with a latency of at most one poll interval.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from iosim.deadlines import deadline_after
from iosim.net.fragments import ETHERNET_MTU, Reassembler, fragment
from iosim.net.packets import (
    BROADCAST_MAC,
    ArpOperation,
    ArpPacket,
    EthernetFrame,
    EtherType,
    IpProtocol,
    Ipv4Packet,
    PacketError,
    UdpDatagram,
    pull_arp,
    pull_ethernet,
    pull_ipv4,
    pull_udp,
    push_arp,
    push_ethernet,
    push_ipv4,
    push_udp,
)
from iosim.net.stack import interface_mac

if TYPE_CHECKING:
    from iosim.clock import TimerHandle, VirtualClock
    from iosim.net.fabric import Fabric
    from iosim.router import Router

__all__ = ["BRIDGE_INTERFACE", "BRIDGE_PORTS", "POLL_INTERVAL", "UdpBridge"]

BRIDGE_PORTS = (500, 4500)  # IKE, and IKE/ESP after a NAT-T float (RFC 3947, RFC 3948)
BRIDGE_INTERFACE = "wire0"
POLL_INTERVAL = 0.005  # virtual (= wall) seconds between two reads of the sockets
LINK_DELAY = 0.0005
MAX_DATAGRAM = 65535
_TTL = 64


def _address(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


@dataclass
class UdpBridge:
    """The real-world end of one router interface (see the module docstring).

    Create it with :meth:`attach`; ``start`` it before driving the lab's clock; ``close`` it to
    release the sockets and the clock.
    """

    clock: VirtualClock
    router: Router
    interface: str
    host_address: str
    peer_address: str
    name: str
    send_frame: Callable[[str, bytes], None]
    ports: tuple[int, ...] = BRIDGE_PORTS
    wall_clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    sent: int = 0  # datagrams sent on the real sockets
    received: int = 0  # datagrams read from the real sockets and put on the link
    dropped: int = 0  # frames or datagrams that had nowhere to go
    reassembler: Reassembler = field(default_factory=Reassembler)
    _socks: dict[int, socket.socket] = field(default_factory=dict)
    _poll: TimerHandle | None = None
    _origin: tuple[float, float] | None = None  # (wall, virtual) when started
    _ident: int = 0

    @classmethod
    def attach(cls, fabric: Fabric, router: Router, interface: str, *, host_address: str,
               peer_address: str, name: str = "REAL", delay: float = LINK_DELAY,
               ports: tuple[int, ...] = BRIDGE_PORTS) -> UdpBridge:
        """Cable ``router interface`` to a new bridge device ``name`` and bind its sockets.

        The interface must not be cabled already; it comes up (line protocol) as the far end
        is always enabled.
        """
        if fabric.link_of(router.name, interface) is not None:
            raise ValueError(f"{router.name} {interface} is already connected")
        bridge = cls(fabric.clock, router, interface, host_address, peer_address, name,
                     fabric.transmitter(name), ports)
        bridge._bind()
        fabric.connect(((router.name, interface), (name, BRIDGE_INTERFACE)), delay)
        fabric.attach(name, bridge.receive, lambda intf: intf == BRIDGE_INTERFACE)
        router.cabled.add(interface)
        state = router.state.get(interface)
        if state is not None:
            state.cabled = True
        router.far_end_changed(interface)
        bridge.announce()
        return bridge

    def announce(self) -> None:
        """A gratuitous ARP for the peer's address, as a neighbour whose interface comes up
        sends one: the router learns it before the first packet for the peer (which would
        otherwise be dropped while ARP resolves)."""
        peer = _address(self.peer_address)
        garp = ArpPacket(ArpOperation.REQUEST, self.mac, peer, bytes(6), peer)
        frame = EthernetFrame(BROADCAST_MAC, self.mac, EtherType.ARP, push_arp(garp))
        self.send_frame(BRIDGE_INTERFACE, push_ethernet(frame, pad=True))

    def _bind(self) -> None:
        try:
            for port in self.ports:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self._socks[port] = sock
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.host_address, port))
                sock.setblocking(False)
        except OSError:
            self.close()
            raise

    @property
    def mac(self) -> bytes:
        return interface_mac(self.name, BRIDGE_INTERFACE)

    # ------------------------------------------------------------ time

    def start(self) -> None:
        """Hold the clock to the wall clock and start polling the sockets."""
        if self._origin is not None:
            return
        self._origin = (self.wall_clock(), self.clock.now)
        self.clock.pacer = self._pace
        self._poll = self.clock.call_later(POLL_INTERVAL, self._on_poll)

    def stop(self) -> None:
        """Give the clock back (no pacing, no polling); the sockets stay bound."""
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        if self._origin is not None and self.clock.pacer == self._pace:
            self.clock.pacer = None
        self._origin = None

    def close(self) -> None:
        self.stop()
        for sock in self._socks.values():
            sock.close()
        self._socks.clear()

    def __enter__(self) -> UdpBridge:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _virtual_at(self, wall: float) -> float:
        assert self._origin is not None
        return self._origin[1] + (wall - self._origin[0])

    def _pace(self, when: float) -> None:
        """The clock's pacer: virtual time ``when`` is not reached before its wall time."""
        if self._origin is None:
            return
        delay = self._origin[0] + (when - self._origin[1]) - self.wall_clock()
        if delay > 0:
            self.sleep(delay)

    def run_until(self, deadline: float, until: Callable[[], bool] | None = None) -> bool:
        """Drive the clock in step with the wall clock until ``until()`` holds (True) or the
        wall clock (``time.monotonic``) reaches ``deadline`` (False)."""
        self.start()
        while True:
            if until is not None and until():
                return True
            wall = self.wall_clock()
            if wall >= deadline:
                return False
            target = max(self.clock.now + POLL_INTERVAL, self._virtual_at(wall))
            self.clock.advance_to(min(target, max(self.clock.now, self._virtual_at(deadline))))

    def _on_poll(self) -> None:
        self.poll()
        if self._origin is not None:
            self._poll = self.clock.call_at(deadline_after(self.clock.now, POLL_INTERVAL),
                                            self._on_poll)

    # ------------------------------------------------------------ real -> emulated

    def poll(self) -> int:
        """Read every waiting datagram and put it on the link; returns how many."""
        count = 0
        for port, sock in self._socks.items():
            for _ in range(256):
                try:
                    data, (host, sport) = sock.recvfrom(MAX_DATAGRAM)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # e.g. an ICMP error reported on a later read
                    continue
                if _address(host) != _address(self.peer_address):
                    self.dropped += 1
                    continue
                if self.inject(sport, port, data):
                    count += 1
        return count

    def inject(self, sport: int, dport: int, payload: bytes) -> bool:
        """One datagram from the peer as a real IPv4/UDP packet into the router's interface."""
        stack = self.router.stack
        dst = stack.source_for(self.interface) if stack is not None else None
        if stack is None or dst is None:
            self.dropped += 1
            return False
        src = _address(self.peer_address)
        self._ident = (self._ident + 1) & 0xFFFF
        packet = Ipv4Packet(identification=self._ident, ttl=_TTL, protocol=IpProtocol.UDP,
                            src=src, dst=dst,
                            payload=push_udp(UdpDatagram(sport, dport, payload), src, dst))
        pieces = [push_ipv4(packet)] if packet.total_length <= ETHERNET_MTU \
            else fragment(packet, ETHERNET_MTU)
        router_mac = stack.mac(self.interface)
        for piece in pieces:
            frame = EthernetFrame(router_mac, self.mac, EtherType.IPV4, piece)
            self.send_frame(BRIDGE_INTERFACE, push_ethernet(frame, pad=True))
        self.received += 1
        return True

    # ------------------------------------------------------------ emulated -> real

    def receive(self, interface: str, frame: bytes) -> None:
        """A frame the router put on the link (the fabric's receiver for this device)."""
        try:
            eth = pull_ethernet(frame)
        except PacketError:
            self.dropped += 1
            return
        if eth.dst not in (self.mac, BROADCAST_MAC):
            return
        if eth.ethertype == EtherType.ARP:
            self._arp(eth.payload)
        elif eth.ethertype == EtherType.IPV4:
            self._ipv4(eth.payload)
        else:
            self.dropped += 1

    def _arp(self, data: bytes) -> None:
        try:
            arp = pull_arp(data)
        except PacketError:
            self.dropped += 1
            return
        if arp.op != ArpOperation.REQUEST or arp.tpa != _address(self.peer_address):
            return  # gratuitous ARPs and questions about other addresses
        reply = ArpPacket(ArpOperation.REPLY, self.mac, arp.tpa, arp.sha, arp.spa)
        frame = EthernetFrame(arp.sha, self.mac, EtherType.ARP, push_arp(reply))
        self.send_frame(BRIDGE_INTERFACE, push_ethernet(frame, pad=True))

    def _ipv4(self, data: bytes) -> None:
        try:
            packet = pull_ipv4(data)
            if packet.mf or packet.fragment_offset:
                whole = self.reassembler.add(packet, self.clock.now)
                if whole is None:
                    return
                packet = whole
            if packet.protocol != IpProtocol.UDP or packet.dst != _address(self.peer_address):
                self.dropped += 1
                return
            udp = pull_udp(packet.payload, packet.src, packet.dst)
        except PacketError:
            self.dropped += 1
            return
        sock = self._socks.get(udp.src_port)
        if sock is None or udp.dst_port not in self.ports:
            self.dropped += 1
            return
        try:
            sock.sendto(udp.payload, (self.peer_address, udp.dst_port))
            self.sent += 1
        except OSError:
            self.dropped += 1  # unreachable: IKE retransmits, ESP is lost as on a wire
