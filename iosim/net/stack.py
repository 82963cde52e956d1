"""The IPv4 stack of one device: ARP, forwarding, ICMP, local delivery, counters.

Theory of operation
-------------------
A device (router or host) owns one ``IpStack``. The lab's fabric hands it every Ethernet
frame that arrives on one of its interfaces (``receive``); the stack hands the fabric
every frame it sends (the ``transmit`` callback). Time comes from the lab's virtual clock.

* ARP (RFC 826): requests for our addresses are answered and the sender learnt; a packet
  to a next hop with no ARP entry starts a request and is dropped, as IOS drops it (the
  first ping to a new neighbour is ``.!!!!``). Entries age out after four hours.
* A datagram for one of our addresses is delivered locally: echo requests are answered,
  echo replies and ICMP errors go to whoever waits for them (ping, traceroute), UDP goes to
  the port's handler (IKE binds 500 and 4500).
* Otherwise a router forwards it: TTL 1 gets ICMP Time Exceeded, no route gets ICMP
  Unreachable, rate-limited as IOS does by default (one per 500 ms), which is what turns a
  ping to an unroutable address into ``U.U.U``.
* ``output_hooks`` and ``input_hooks`` see every datagram after routing and before
  transmission, and on arrival before local delivery or forwarding: the place where crypto
  maps and NAT act. A hook returns the datagram (possibly changed) or None to consume it.
* A route to the discard interface (``Null0``) drops the datagram (counted as Null0's
  output, the router's own too, sourced or not); a forwarded one is answered with ICMP
  Unreachable, as IOS's Null0 does by default, unless ``no ip unreachables`` is set on Null0.
* Interfaces without Ethernet (tunnels) are someone else's link layer: what is routed out of
  one goes to ``virtual_output`` (the tunnels encapsulate it), and what they decapsulate comes
  back through :meth:`IpStack.receive_ip` as if it had arrived on that interface.
* Other IP protocols for us go to ``protocol_handlers`` (GRE to the tunnels, a routing
  protocol to its engine), with the interface they arrived on. Link-local multicast
  (224.0.0.0/24) is delivered, never forwarded, and is sent out of the interface named
  (``send(..., interface=...)``) without a route, to the group's Ethernet address.

Interface access lists (``ip access-group``, the ``packet_filter``) are checked where IOS 15
checks them, which fixes their place around the hooks (Cisco's "NAT order of operation",
with the crypto access check of 12.3(8)T and later)::

    arrival:   inbound ACL -> [crypto: decrypt] -> [NAT outside->inside] -> route/deliver
    departure: route -> [NAT inside->outside] -> [crypto: encrypt] -> outbound ACL -> out

The inbound ACL sees every datagram as it arrives, so on an interface with a crypto map it
sees IKE and ESP, and the packet decrypted from ESP is not checked against it again; the
outbound ACL sees forwarded traffic after NAT and encryption (the ESP of a forwarded packet,
not the cleartext it carries), and never what the router originates itself (its pings, IKE).
A denied datagram is dropped, counted in the ACL's match counters, and answered with ICMP
Unreachable code 13 (administratively prohibited, rate-limited) unless ``no ip
unreachables`` is set on the interface it arrived on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from iosim.net.fast_path import Adjacency, ForwardingCache
from iosim.net.fragments import ETHERNET_MTU, Reassembler, fragment
from iosim.net.packets import (
    BROADCAST_MAC,
    ETHERNET_MIN_PAYLOAD,
    ArpOperation,
    ArpPacket,
    EthernetFrame,
    EtherType,
    IcmpDestinationUnreachable,
    IcmpEcho,
    IcmpMessage,
    IcmpTimeExceeded,
    IcmpType,
    IpProtocol,
    Ipv4Packet,
    PacketError,
    UdpDatagram,
    UnreachableCode,
    internet_checksum,
    ipv4_decrement_ttl,
    pull_arp,
    pull_ethernet,
    pull_icmp,
    pull_ipv4,
    pull_udp,
    push_arp,
    push_ethernet,
    push_icmp,
    push_ipv4,
    push_udp,
    quote_datagram,
)
from iosim.net.routing import NULL_INTERFACE, RoutingTable
from iosim.net.segment import Port

ARP_TIMEOUT = 4 * 3600.0  # IOS's default ARP entry lifetime
ICMP_ERROR_INTERVAL = 0.5  # ip icmp rate-limit unreachable 500 (the IOS default)
UNREACHABLE_HOST = 1
TTL_EXCEEDED_IN_TRANSIT = 0
FRAGMENTATION_NEEDED = 4


_IPV4_TYPE = EtherType.IPV4.to_bytes(2, "big")
_WHOLE = (b"\0\0", b"\x40\0")  # the flags and offset of an unfragmented datagram (DF or not)

LINK_LOCAL_MULTICAST = 0xE00000  # 224.0.0.0/24 (>> 8): never forwarded (RFC 5771)
MULTICAST_MAC_PREFIX = b"\x01\x00\x5e"


def is_multicast(address: int) -> bool:
    """Whether ``address`` is a class D (multicast) address, 224.0.0.0/4."""
    return address >> 28 == 0xE


def multicast_mac(group: int) -> bytes:
    """The Ethernet address of an IPv4 group: 01:00:5e and its low 23 bits (RFC 1112)."""
    return MULTICAST_MAC_PREFIX + (group & 0x7FFFFF).to_bytes(3, "big")


def interface_mac(device: str, interface: str) -> bytes:
    """A stable, locally administered-looking MAC for a device's interface."""
    digest = hashlib.sha256(f"{device}/{interface}".encode()).digest()
    return bytes([0x52, 0x54, 0x00]) + digest[:3]


@dataclass
class BurnedInAddresses:
    """The MACs of one lab's interfaces, unique in the lab as real burned-in addresses are.

    Each is :func:`interface_mac` of its device and interface; the 24 bits it varies clash
    somewhere among a few thousand interfaces (the birthday bound), so a MAC already given to
    another interface is derived again (``interface#1``, ``#2`` ...) until it is free. The
    first to ask keeps the plain one: the lab asks in topology order at boot."""

    _owner: dict[bytes, tuple[str, str]] = field(default_factory=dict)

    def __call__(self, device: str, interface: str) -> bytes:
        key = (device, interface)
        mac, again = interface_mac(device, interface), 0
        while self._owner.setdefault(mac, key) != key:
            again += 1
            mac = interface_mac(device, f"{interface}#{again}")
        return mac


class Clock(Protocol):
    @property
    def now(self) -> float: ...


class Node(Protocol):
    """What the stack needs to know about the device it runs on."""

    name: str

    def interface_is_up(self, interface: str) -> bool: ...

    def speaks_arp(self, interface: str) -> bool: ...  # an Ethernet, not a loopback

    def interface_addresses(self, interface: str) -> list[tuple[int, int]]: ...

    def routing_table(self) -> RoutingTable: ...

    def count(self, interface: str, direction: str, frame: bytes) -> None: ...

    def count_floods(self, interface: str, frames: int, octets: int, bits: float,
                     packets: float, last: float) -> None: ...  # broadcasts a segment kept


class PacketFilter(Protocol):
    """The interface access lists (``ip access-group``) of a device, as its stack asks."""

    def permits(self, interface: str, direction: str, datagram: bytes) -> bool:
        """Whether the ACL applied ``direction`` (``"in"``/``"out"``) on ``interface``
        lets ``datagram`` through (no ACL applied: yes); counts the entry that matched."""
        ...

    def unreachables(self, interface: str) -> bool:
        """``ip unreachables`` (the default) on ``interface``."""
        ...

    def filters(self, interface: str) -> bool:
        """Whether an access list is applied on ``interface``, in or out."""
        ...


@dataclass(slots=True)
class ArpEntry:
    """One ARP cache entry: ``show arp`` prints it."""

    address: int
    mac: bytes
    interface: str
    learnt: float | None  # None: one of our own addresses (age "-")


Hook = Callable[[str, bytes], bytes | None]
#: (the interface it arrived on, None for what we sent ourselves; the datagram decoded; its bytes)
ProtocolHandler = Callable[[str | None, Ipv4Packet, bytes], None]
#: (the interface, the next hop, the datagram) -> whether the interface took it
VirtualOutput = Callable[[str, int, bytes], bool]
IcmpListener = Callable[[int, IcmpMessage, float], None]  # (source, message, now)
UdpHandler = Callable[[int, int, int, int, bytes, float], None]
# (src, dst, sport, dport, payload, now)


@dataclass
class IpStack:
    """IPv4 over Ethernet for one device."""

    node: Node
    clock: Clock
    transmit: Callable[[str, bytes], None]
    forwarding: bool = True
    arp: dict[int, ArpEntry] = field(default_factory=dict)
    output_hooks: list[Hook] = field(default_factory=list)
    input_hooks: list[Hook] = field(default_factory=list)
    icmp_listeners: list[IcmpListener] = field(default_factory=list)
    udp_handlers: dict[int, UdpHandler] = field(default_factory=dict)
    protocol_handlers: dict[int, ProtocolHandler] = field(default_factory=dict)
    virtual_output: VirtualOutput | None = None  # the tunnels' way out of their interfaces
    interface_mtu: Callable[[str], int] | None = None  # ``ip mtu`` of an Ethernet, if set
    taps: list[Callable[[str, str, bytes], None]] = field(default_factory=list)
    dropped: int = 0  # malformed or undeliverable frames
    packet_filter: PacketFilter | None = None  # the interface ACLs (routers only)
    filtered: int = 0  # datagrams an interface ACL denied
    discarded: int = 0  # datagrams routed to Null0
    reassembler: Reassembler = field(default_factory=Reassembler)
    _own: dict[int, str] = field(default_factory=dict)  # our addresses -> their interface
    # the interfaces on shared segments, whose ARP broadcasts their ledger keeps
    ports: dict[str, Port] = field(default_factory=dict)
    _aged: dict[int, int] = field(default_factory=dict)  # address -> ledger index it aged at
    _icmp_quiet_until: float = -1e9  # no ICMP unreachable before then (rate limit)
    _ident: int = 0
    # the interface the datagram being forwarded arrived on (None while we originate):
    # outbound ACLs filter forwarded traffic only
    _transit: str | None = None
    _macs: dict[str, bytes] = field(default_factory=dict)  # interface -> its MAC, once
    # transit switching (``iosim.net.fast_path``): the adjacencies learnt, and for each
    # feature that installed hooks, whether it acts on a datagram crossing an interface
    paths: ForwardingCache = field(default_factory=ForwardingCache)
    hook_scopes: list[Callable[[str], bool]] = field(default_factory=list)
    _scoped_hooks: int = 0  # the hooks installed with a scope (the others are never skipped)
    #: (device, interface) -> its MAC: the lab's :class:`BurnedInAddresses`, or
    #: :func:`interface_mac` for a stack on its own
    mac_source: Callable[[str, str], bytes] = interface_mac

    # ------------------------------------------------------------ addresses

    def mac(self, interface: str) -> bytes:
        """The MAC of ``interface`` (derived once: every frame in or out asks)."""
        mac = self._macs.get(interface)
        if mac is None:
            mac = self._macs[interface] = self.mac_source(self.node.name, interface)
        return mac

    def owns(self, address: int) -> str | None:
        """The interface that has ``address``, if it is one of ours and up (a dict probe:
        every received datagram asks)."""
        return self._own.get(address)

    def refresh_own_entries(self, interfaces: list[str]) -> None:
        """Keep the ARP entries of our own addresses (age ``-``) in step with the config.

        An address that has just come up on an Ethernet is announced with a gratuitous ARP,
        as IOS does when an interface comes up, so that neighbours learn it before any
        traffic (a loopback has no neighbours to tell).
        """
        before = self._own
        self._update_ports(before)
        self._own = {}
        for addr in before:
            entry = self.arp.get(addr)
            if entry is not None and entry.learnt is None:
                del self.arp[addr]
        for name in interfaces:
            if not self.node.interface_is_up(name):
                continue
            for addr, _ in self.node.interface_addresses(name):
                self._own[addr] = name
                self.arp[addr] = ArpEntry(addr, self.mac(name), name, None)
                if before.get(addr) != name and self.node.speaks_arp(name):
                    garp = ArpPacket(ArpOperation.REQUEST, self.mac(name), addr, bytes(6), addr)
                    self._send_frame(name, BROADCAST_MAC, EtherType.ARP, push_arp(garp))

    def _update_ports(self, before: dict[int, str]) -> None:
        """Tell each segment port the addresses it answers for; settle its counters when
        it changes state, and start its learning again when it comes up."""
        for name, port in self.ports.items():
            up = self.node.interface_is_up(name)
            after = {a for a, _ in self.node.interface_addresses(name)} if up else set()
            port.ledger.own(port.end, {a for a, i in before.items() if i == name}, after)
            if up != port.up:
                port.settle(self.clock.now, self.node.count_floods)
                port.up = up
                if up:
                    port.came_up()

    def settle_floods(self) -> None:
        """Bring the interface counters up to date with the segments' broadcasts."""
        for port in self.ports.values():
            port.settle(self.clock.now, self.node.count_floods)

    def watch(self, tap: Callable[[str, str, bytes], None]) -> None:
        """See every frame crossing the interfaces (a capture): segments hand this device
        their broadcasts at once from now on."""
        self.taps.append(tap)
        for port in self.ports.values():
            port.ledger.watchers[port.end] = None

    def unwatch(self, tap: Callable[[str, str, bytes], None]) -> None:
        """Stop ``tap``."""
        if tap in self.taps:
            self.taps.remove(tap)
        if not self.taps:
            for port in self.ports.values():
                port.ledger.watchers.pop(port.end, None)

    def neighbour(self, interface: str, address: int) -> ArpEntry | None:
        """The ARP entry for ``address`` as seen from ``interface``, what its segment's
        broadcasts taught it included (written into the cache when found there)."""
        entry = self.arp.get(address)
        port = self.ports.get(interface)
        if port is None or (entry is not None and entry.learnt is None):
            return entry
        learnt = entry.learnt if entry is not None and entry.interface == interface else None
        heard = port.neighbour(address, self.node.interface_addresses(interface), learnt,
                               self._aged.get(address, 0))
        if heard is not None and (entry is None or entry.learnt is None
                                  or heard.at >= entry.learnt):
            entry = self.arp[address] = ArpEntry(address, heard.mac, interface, heard.at)
        return entry

    def arp_entries(self) -> list[ArpEntry]:
        """Every ARP entry (``show arp``), those the segments taught included."""
        for name, port in self.ports.items():
            for address in list(port.ledger.heard):
                self.neighbour(name, address)
        return list(self.arp.values())

    def source_for(self, interface: str) -> int | None:
        """The primary address of ``interface``, used as the source of what we originate."""
        addrs = self.node.interface_addresses(interface)
        return addrs[0][0] if addrs else None

    def next_ident(self) -> int:
        self._ident = (self._ident + 1) & 0xFFFF
        return self._ident

    # ------------------------------------------------------------ hooks

    def add_hooks(self, acts_on: Callable[[str], bool], *, input_hook: Hook | None = None,
                  output_hook: Hook | None = None, input_first: bool = False,
                  output_first: bool = False) -> None:
        """Install a feature's hooks (first or last of their list). ``acts_on(interface)``
        says whether the feature may change or consume a datagram arriving on or leaving
        by that interface: where it says no for both, transit is switched without the
        hooks (``iosim.net.fast_path``). It is asked when an adjacency is made, and the
        router forgets adjacencies whenever its configuration changes."""
        for hook, hooks, first in ((input_hook, self.input_hooks, input_first),
                                   (output_hook, self.output_hooks, output_first)):
            if hook is None:
                continue
            hooks.insert(0 if first else len(hooks), hook)
            self._scoped_hooks += 1
        self.hook_scopes.append(acts_on)
        self.paths.forget()

    def forget_paths(self) -> None:
        """The router changed (configuration, interface state, routes): the adjacencies
        learnt so far may be wrong."""
        self.paths.forget()

    # ------------------------------------------------------------ receive

    def receive(self, interface: str, frame: bytes) -> None:
        """A frame arrived on ``interface``."""
        adjacency = self.paths.get((interface, frame[30:34]))
        if adjacency is not None and self._switch(interface, frame, adjacency):
            return
        if not self.node.interface_is_up(interface):
            return
        for tap in list(self.taps):
            tap(interface, "in", frame)
        self.node.count(interface, "in", frame)
        try:
            eth = pull_ethernet(frame)
        except PacketError:
            self.dropped += 1
            return
        if eth.dst not in (self.mac(interface), BROADCAST_MAC) and not (
                eth.dst[:3] == MULTICAST_MAC_PREFIX and eth.ethertype == EtherType.IPV4):
            return
        if eth.ethertype == EtherType.ARP:
            self._receive_arp(interface, eth.payload)
        elif eth.ethertype == EtherType.IPV4:
            self._receive_ipv4(interface, eth.payload)

    def _switch(self, interface: str, frame: bytes, adj: Adjacency) -> bool:
        """Forward ``frame`` by its adjacency if every check the slow path would make comes
        out as it did when the adjacency was learnt; False (nothing done) otherwise."""
        if (frame[14] != 0x45 or frame[20:22] not in _WHOLE or frame[22] <= 1
                or frame[:6] != adj.in_mac or frame[12:14] != _IPV4_TYPE or self.taps):
            return False
        total = frame[16] << 8 | frame[17]
        if not 20 <= total <= len(frame) - 14 or total > adj.mtu or internet_checksum(
                frame[14:34]):
            return False
        if self.arp.get(adj.next_hop) is not adj.neighbour or self.clock.now > adj.expires or (
                adj.port is not None and adj.port.ledger.floods != adj.floods):
            return False
        count = self.node.count
        count(interface, "in", frame)
        datagram = ipv4_decrement_ttl(frame[14:14 + total])
        if total < ETHERNET_MIN_PAYLOAD:
            datagram += bytes(ETHERNET_MIN_PAYLOAD - total)
        out = adj.header + datagram
        count(adj.out_interface, "out", out)
        self.transmit(adj.out_interface, out)
        return True

    def _learn_path(self, interface: str, packet: Ipv4Packet, datagram: bytes) -> None:
        """``datagram`` (as forwarded) arrived on ``interface`` and left by the slow path:
        keep how, if the next one to its destination can be switched (module docstring of
        ``iosim.net.fast_path``)."""
        if (packet.mf or packet.fragment_offset or len(datagram) < 20 or datagram[0] != 0x45
                or self.taps or not self.node.speaks_arp(interface)):
            return
        res = self.node.routing_table().resolve(packet.dst)
        if res is None or res.is_local or res.interface == NULL_INTERFACE:
            return
        out = res.interface
        if (not self.node.speaks_arp(out) or is_multicast(res.next_hop)
                or self._scoped_hooks != len(self.input_hooks) + len(self.output_hooks)
                or any(acts_on(interface) or acts_on(out) for acts_on in self.hook_scopes)
                or (self.packet_filter is not None and (self.packet_filter.filters(interface)
                                                        or self.packet_filter.filters(out)))
                or not (self.node.interface_is_up(interface) and self.node.interface_is_up(out))):
            return
        entry = self.arp.get(res.next_hop)
        if entry is None or entry.interface != out:
            return
        port = self.ports.get(out)
        mtu = self.interface_mtu(out) if self.interface_mtu is not None else ETHERNET_MTU
        self.paths.keep(interface, datagram[16:20], Adjacency(
            in_mac=self.mac(interface), out_interface=out,
            header=entry.mac + self.mac(out) + _IPV4_TYPE, next_hop=res.next_hop,
            neighbour=entry,
            expires=entry.learnt + ARP_TIMEOUT if entry.learnt is not None else float("inf"),
            mtu=mtu, port=port, floods=port.ledger.floods if port is not None else 0))

    def _receive_arp(self, interface: str, data: bytes) -> None:
        try:
            arp = pull_arp(data)
        except PacketError:
            self.dropped += 1
            return
        addresses = self.node.interface_addresses(interface)
        mine = any(a == arp.tpa for a, _ in addresses)
        entry = self.neighbour(interface, arp.spa)
        known = entry is not None and entry.learnt is not None
        # a gratuitous ARP from a neighbour on a connected subnet is learnt (IOS's default)
        gratuitous = arp.spa == arp.tpa and not mine and any(
            (arp.spa ^ a) >> (32 - length) == 0 for a, length in addresses if length)
        if (mine or known or gratuitous) and arp.spa not in self._own:
            self.arp[arp.spa] = ArpEntry(arp.spa, arp.sha, interface, self.clock.now)
        if mine and arp.op == ArpOperation.REQUEST:
            reply = ArpPacket(ArpOperation.REPLY, self.mac(interface), arp.tpa, arp.sha, arp.spa)
            self._send_frame(interface, arp.sha, EtherType.ARP, push_arp(reply))

    def _receive_ipv4(self, interface: str, data: bytes) -> None:
        if self.packet_filter is not None and not self.packet_filter.permits(
                interface, "in", data):
            self._denied(interface, data)
            return
        if len(data) >= 20 and data[6:8] != b"\0\0" and data[6:8] != b"\x40\0" and (
                self.owns(int.from_bytes(data[16:20], "big")) is not None):
            # a fragment for us: reassemble before the hooks see it, so that ESP and NAT
            # work on whole datagrams (RFC 4303 3.4.1)
            try:
                fragment_packet = pull_ipv4(data)
            except PacketError:
                self.dropped += 1
                return
            whole = self.reassembler.add(fragment_packet, self.clock.now)
            if whole is None:
                return
            data = push_ipv4(whole)
        for hook in self.input_hooks:
            result = hook(interface, data)
            if result is None:
                return
            data = result
        try:
            packet = pull_ipv4(data)
        except PacketError:
            self.dropped += 1
            return
        if (self.owns(packet.dst) is not None or packet.dst == 0xFFFFFFFF
                or packet.dst >> 8 == LINK_LOCAL_MULTICAST):
            if packet.mf or packet.fragment_offset:
                whole = self.reassembler.add(packet, self.clock.now)
                if whole is None:
                    return
                packet, data = whole, push_ipv4(whole)
            self._deliver(packet, data, interface)
        elif is_multicast(packet.dst):
            self.dropped += 1  # no multicast routing: other groups are not forwarded
        elif self.forwarding:
            self._forward(packet, data, interface)
        else:
            self.dropped += 1

    def receive_ip(self, interface: str, datagram: bytes) -> None:
        """A datagram arrived on ``interface`` without an Ethernet frame around it (a tunnel
        decapsulated it): routed, delivered and filtered as any that arrived there."""
        if self.node.interface_is_up(interface):
            self._receive_ipv4(interface, datagram)

    def forward(self, interface: str, datagram: bytes) -> None:
        """Forward a datagram that arrived on ``interface`` (whatever that interface's state:
        a GRE keepalive goes back to its sender this way)."""
        try:
            packet = pull_ipv4(datagram)
        except PacketError:
            self.dropped += 1
            return
        self._forward(packet, datagram, interface)

    def _deliver(self, packet: Ipv4Packet, datagram: bytes, interface: str | None = None
                 ) -> None:
        now = self.clock.now
        if packet.protocol == IpProtocol.ICMP:
            try:
                message = pull_icmp(packet.payload)
            except PacketError:
                self.dropped += 1
                return
            if isinstance(message, IcmpEcho) and not message.reply:
                reply = IcmpEcho(message.identifier, message.sequence_number, message.data,
                                 reply=True)
                self.send(packet.src, IpProtocol.ICMP, push_icmp(reply), src=packet.dst)
                return
            for listener in list(self.icmp_listeners):
                listener(packet.src, message, now)
        elif packet.protocol == IpProtocol.UDP:
            try:
                udp = pull_udp(packet.payload, packet.src, packet.dst)
            except PacketError:
                self.dropped += 1
                return
            handler = self.udp_handlers.get(udp.dst_port)
            if handler is not None:
                handler(packet.src, packet.dst, udp.src_port, udp.dst_port, udp.payload, now)
            else:
                self.icmp_error(datagram, packet.src,
                                IcmpDestinationUnreachable(3, quote_datagram(datagram)))
        else:
            protocol_handler = self.protocol_handlers.get(packet.protocol)
            if protocol_handler is not None:
                protocol_handler(interface, packet, datagram)
            else:
                self.dropped += 1

    def _forward(self, packet: Ipv4Packet, datagram: bytes, interface: str) -> None:
        if packet.ttl <= 1:
            self.icmp_error(datagram, packet.src,
                            IcmpTimeExceeded(TTL_EXCEEDED_IN_TRANSIT, quote_datagram(datagram)))
            return
        forwarded = ipv4_decrement_ttl(datagram[:packet.total_length])
        outer, self._transit = self._transit, interface
        try:
            routed = self.route_out(forwarded, packet.dst)
        finally:
            self._transit = outer
        if not routed:
            self._unreachable(interface, datagram, UNREACHABLE_HOST)
        else:
            self._learn_path(interface, packet, forwarded)

    def _unreachable(self, interface: str, datagram: bytes, code: int) -> None:
        """ICMP Unreachable ``code`` about a datagram that arrived on ``interface``, unless
        ``no ip unreachables`` is set there, the datagram is ours or is an ICMP error."""
        if self.packet_filter is not None and not self.packet_filter.unreachables(interface):
            return
        try:
            packet = pull_ipv4(datagram)
        except PacketError:
            return
        if self.owns(packet.src) is not None or (
                packet.protocol == IpProtocol.ICMP and packet.payload[:1] not in (
                    bytes([IcmpType.ECHO]), bytes([IcmpType.ECHO_REPLY]))):
            return  # never about our own datagrams, never about an ICMP error (RFC 1812)
        self.icmp_error(datagram, packet.src,
                        IcmpDestinationUnreachable(code, quote_datagram(datagram)))

    def _denied(self, interface: str, datagram: bytes) -> None:
        """An interface ACL denied ``datagram`` (which arrived on ``interface``)."""
        self.filtered += 1
        self._unreachable(interface, datagram, UnreachableCode.ADMINISTRATIVELY_PROHIBITED)

    def icmp_error(self, datagram: bytes, to: int, message: IcmpMessage) -> None:
        """Send an ICMP error; unreachables are rate-limited as IOS limits them by default."""
        if isinstance(message, IcmpDestinationUnreachable):
            now = self.clock.now
            if now < self._icmp_quiet_until:
                return
            self._icmp_quiet_until = now + ICMP_ERROR_INTERVAL
        self.send(to, IpProtocol.ICMP, push_icmp(message))

    # ------------------------------------------------------------ send

    def send(self, dst: int, protocol: int, payload: bytes, *, src: int | None = None,
             ttl: int = 255, df: bool = False, interface: str | None = None, tos: int = 0
             ) -> bool:
        """Originate a datagram; False if there is no route (nothing was sent). ``tos``: the
        IP precedence a routing protocol sends with (OSPF's 6, internetwork control)."""
        outer, self._transit = self._transit, None  # ours: no outbound ACL
        try:
            return self._send(dst, protocol, payload, src, ttl, df, interface, tos)
        finally:
            self._transit = outer

    def _send(self, dst: int, protocol: int, payload: bytes, src: int | None, ttl: int,
              df: bool, interface: str | None, tos: int = 0) -> bool:
        if interface is not None and is_multicast(dst):  # a group on that link: no route
            src = src if src is not None else self.source_for(interface)
            if src is None or not self.node.interface_is_up(interface):
                return False
            datagram = push_ipv4(Ipv4Packet(tos=tos, identification=self.next_ident(), df=df,
                                            ttl=ttl, protocol=protocol, src=src, dst=dst,
                                            payload=payload))
            return self._out(interface, dst, datagram)
        if src is None:
            res = self.node.routing_table().resolve(dst)
            if res is None:
                return False
            src = self.source_for(interface or res.interface)
            if src is None and interface is None and res.interface == NULL_INTERFACE:
                src = 0  # dropped on Null0 as it is sent: it needs no address of ours
            if src is None:
                return False
        datagram = push_ipv4(Ipv4Packet(tos=tos, identification=self.next_ident(), df=df,
                                        ttl=ttl, protocol=protocol, src=src, dst=dst,
                                        payload=payload))
        if self.owns(dst) is not None:  # to ourselves
            self._receive_ipv4_local(datagram)
            return True
        return self.route_out(datagram, dst)

    def send_udp(self, dst: int, sport: int, dport: int, payload: bytes, *,
                 src: int | None = None) -> bool:
        """Originate a UDP datagram (IKE uses this)."""
        route = self.node.routing_table().resolve(dst)
        if src is None and route is not None:
            src = self.source_for(route.interface)
        if src is None:
            return False
        return self.send(dst, IpProtocol.UDP, push_udp(UdpDatagram(sport, dport, payload), src,
                                                       dst), src=src)

    def _receive_ipv4_local(self, datagram: bytes) -> None:
        self._deliver(pull_ipv4(datagram), datagram)

    def route_out(self, datagram: bytes, dst: int) -> bool:
        """Route a finished datagram out of its interface; False if unroutable."""
        res = self.node.routing_table().resolve(dst)
        if res is None or res.is_local:
            return False
        if res.interface == NULL_INTERFACE:
            self._discard(datagram)
            return True
        return self._out(res.interface, res.next_hop, datagram)

    def _discard(self, datagram: bytes) -> None:
        """Routed to Null0: counted as its output and dropped; a forwarded datagram is
        answered with ICMP Unreachable unless ``no ip unreachables`` is set on Null0 (or
        on the interface it arrived on)."""
        self.discarded += 1
        self.node.count(NULL_INTERFACE, "out", datagram)
        if self._transit is None:
            return
        if self.packet_filter is not None and not self.packet_filter.unreachables(
                NULL_INTERFACE):
            return
        self._unreachable(self._transit, datagram, UNREACHABLE_HOST)

    def _out(self, interface: str, next_hop: int, datagram: bytes) -> bool:
        """Out of ``interface``: the output hooks, the outbound ACL, the link."""
        for hook in self.output_hooks:
            result = hook(interface, datagram)
            if result is None:
                return True
            datagram = result
        if self._transit is not None and self.packet_filter is not None and (
                not self.packet_filter.permits(interface, "out", datagram)):
            self._denied(self._transit, datagram)
            return True
        self._send_ip(interface, next_hop, datagram)
        return True

    def _send_ip(self, interface: str, next_hop: int, datagram: bytes) -> None:
        if self.virtual_output is not None and not self.node.speaks_arp(interface) and (
                self.virtual_output(interface, next_hop, datagram)):
            return
        mtu = self.interface_mtu(interface) if self.interface_mtu is not None else ETHERNET_MTU
        if is_multicast(next_hop):  # RFC 1112 6.4: the group's Ethernet address, no ARP
            self._send_sized(interface, multicast_mac(next_hop), datagram, mtu)
            return
        entry = self.neighbour(interface, next_hop)
        now = self.clock.now
        if entry is not None and entry.learnt is not None and now > entry.learnt + ARP_TIMEOUT:
            del self.arp[next_hop]
            port = self.ports.get(interface)
            if port is not None:  # what the segment said before now is as old
                self._aged[next_hop] = port.ledger.floods
            entry = None
        if entry is None:
            src = self.source_for(interface)
            if src is not None:
                request = ArpPacket(ArpOperation.REQUEST, self.mac(interface), src,
                                    bytes(6), next_hop)
                self._send_frame(interface, BROADCAST_MAC, EtherType.ARP, push_arp(request))
            return  # the packet that needed the ARP entry is dropped, as on IOS
        self._send_sized(interface, entry.mac, datagram, mtu)

    def _send_sized(self, interface: str, mac: bytes, datagram: bytes, mtu: int) -> None:
        """Onto the Ethernet, fragmented to the interface's MTU (or refused with ICMP 3/4)."""
        if len(datagram) <= mtu:
            self._send_frame(interface, mac, EtherType.IPV4, datagram)
            return
        packet = pull_ipv4(datagram)
        if packet.df:  # too big and may not be fragmented: tell the source (ping prints "M")
            self.icmp_error(datagram, packet.src, IcmpDestinationUnreachable(
                FRAGMENTATION_NEEDED, quote_datagram(datagram), mtu))
            return
        for piece in fragment(packet, mtu):
            self._send_frame(interface, mac, EtherType.IPV4, piece)

    def _send_frame(self, interface: str, dst_mac: bytes, ethertype: int, payload: bytes) -> None:
        if not self.node.interface_is_up(interface):
            return
        frame = push_ethernet(EthernetFrame(dst_mac, self.mac(interface), ethertype, payload),
                              pad=True)
        self.node.count(interface, "out", frame)
        for tap in list(self.taps):
            tap(interface, "out", frame)
        self.transmit(interface, frame)

    def clear_arp(self) -> None:
        """``clear arp-cache``: forget every learnt entry."""
        self.paths.forget()
        for addr in [a for a, e in self.arp.items() if e.learnt is not None]:
            del self.arp[addr]
        self._aged.clear()
        for port in self.ports.values():
            port.came_up()  # what segments said before now is forgotten too
