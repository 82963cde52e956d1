"""Network address translation (NAT and PAT) of IPv4 datagrams, in IOS's order of operations.

Theory of operation
-------------------
Interfaces are ``ip nat inside`` or ``ip nat outside``; only inside source translation is
modelled (``ip nat inside source list ACL interface IF [overload]`` and ``ip nat inside source
static [tcp|udp] ...``). The engine is driven by the router's IP stack through two hooks:

* inside -> outside: IOS routes first, then translates. The *output* hook sees the datagram
  after routing with its exit interface; when that is an outside interface and the datagram
  arrived on an inside one, its source is translated (inside local -> inside global). The hook is
  put first among the stack's output hooks, so a crypto map on the same interface sees the
  translated datagram: without a ``deny`` for the VPN traffic in the NAT ACL, NAT "grabs" it.
* outside -> inside: IOS translates before routing. The *input* hook (last among the input
  hooks, so after decryption) translates the destination of what arrives on an outside
  interface back (inside global -> inside local); the route lookup then sees the inside local.

The stack does not tell an output hook where a datagram came in, so the input hook notes the
identity of each arrival (addresses, identification, protocol, virtual time) and the output hook
compares: forwarding happens at the same instant and changes only TTL and header checksum.

A translation is looked up, in order: in the table of live translations (extended entries, with
ports: ``icmp 198.51.100.1:1 192.168.1.10:1 ...``); in the static mappings (port mappings first),
which create an extended child entry per flow; in the dynamic rules, whose ACL must permit the
flow (a ``deny`` exempts it: it leaves untranslated). With ``overload`` (PAT) the inside global
port is the inside local port if it is free on that address, else the first free one of the
same IOS port range (1-511, 512-1023, 1024-65535; ICMP identifiers from 1024); one inside
local address and port keeps one global port whatever the destination (the outside address is
part of the entry's key, as on IOS). Without overload an inside host gets the interface address
to itself (a simple ``---`` entry) while its translation lives.

The table of live translations (lookups by either side, PAT ports, expiry, statistics) is
:mod:`iosim.net.nat_table`'s. Entries time out after a period without traffic, as ``ip nat
translation ...-timeout`` sets (defaults: 86400 s TCP and simple entries, 300 s UDP, 60 s
ICMP, DNS and TCP after FIN/RST), on the lab's virtual clock: due entries leave the table the
next time the engine looks at it.

Checksums: the IPv4 header checksum is recomputed; TCP, UDP (unless it carries no checksum) and
ICMP echo checksums are updated incrementally (RFC 1624, eqn. 3) for the changed address and
port words, which is right even for a first fragment whose checksum covers bytes we do not
have. A non-first fragment carries no ports: it is translated by address with the entry of the
same inside host and peer. ICMP errors quoting a translated datagram are translated too (outer
address and the quoted header and ports), so ping's ``U`` and traceroute work through NAT.
"""

from __future__ import annotations

import struct
import weakref
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from iosim.net.flow import Flow, acl_permits, flow_of
from iosim.net.nat_table import NatTable, Translation
from iosim.net.packets import (
    IcmpType,
    IpProtocol,
    Ipv4Packet,
    PacketError,
    internet_checksum,
    pull_ipv4,
    push_ipv4,
)

if TYPE_CHECKING:
    from iosim.config.model import RunningConfig
    from iosim.router import Router

# ================================================================ configuration model

#: ``ip nat translation KIND SECONDS`` defaults (IOS 15); ``never`` is stored as None.
DEFAULT_TIMEOUTS: dict[str, int | None] = {
    "timeout": 86400,
    "tcp-timeout": 86400,
    "udp-timeout": 300,
    "dns-timeout": 60,
    "icmp-timeout": 60,
    "finrst-timeout": 60,
}


@dataclass(frozen=True, slots=True)
class StaticNat:
    """``ip nat inside source static [tcp|udp] LOCAL [LPORT] GLOBAL [GPORT] [extendable]``.

    ``protocol`` 0 is an address mapping; 6 or 17 a port mapping with both ports set.
    """

    local: int
    global_address: int
    protocol: int = 0
    local_port: int = 0
    global_port: int = 0
    extendable: bool = False

    @property
    def origin(self) -> str:
        """The tag of the extended entries this mapping creates."""
        return f"static {self.protocol} {self.local}:{self.local_port} " \
               f"{self.global_address}:{self.global_port}"


@dataclass(frozen=True, slots=True)
class DynamicNat:
    """``ip nat inside source list ACL interface IF [overload]``."""

    acl: str
    interface: str
    overload: bool

    @property
    def origin(self) -> str:
        return f"list {self.acl}"


@dataclass
class NatConfig:
    """The global NAT configuration of a router (``RunningConfig.features["nat"]``)."""

    statics: list[StaticNat] = field(default_factory=list)
    dynamic: dict[str, DynamicNat] = field(default_factory=dict)  # by ACL name
    timeouts: dict[str, int | None] = field(default_factory=dict)  # non-default only
    nvi_up: bool = False  # NVI0 came up (IOS logs it once, at the first "ip nat" interface)
    # when each static mapping was configured (its entry's age in show ... verbose)
    static_since: dict[StaticNat, float] = field(default_factory=dict, compare=False)

    def timeout(self, kind: str) -> float | None:
        value = self.timeouts.get(kind, DEFAULT_TIMEOUTS[kind])
        return None if value is None else float(value)


_NO_NAT = NatConfig()


def nat_config(cfg: RunningConfig, create: bool = False) -> NatConfig:
    """The router's NAT configuration (an empty one, not stored, unless ``create``)."""
    found = cfg.features.get("nat")
    if isinstance(found, NatConfig):
        return found
    if not create:
        return _NO_NAT
    made = NatConfig()
    cfg.features["nat"] = made
    return made


# ================================================================ flows and rewriting


_ECHO_TYPES = frozenset((IcmpType.ECHO, IcmpType.ECHO_REPLY))
_ERROR_TYPES = frozenset((IcmpType.DESTINATION_UNREACHABLE, IcmpType.TIME_EXCEEDED, 12))
_TCP_FIN_RST = 0x01 | 0x04
_PORTS = struct.Struct("!HH")
_ADDRS = struct.Struct("!II")


@dataclass(frozen=True, slots=True)
class _L4Layout:
    """Where a transport header keeps its ports and checksum."""

    sport: int
    dport: int
    checksum: int
    min_len: int
    pseudo_header: bool  # the checksum covers the IP addresses
    optional: bool  # a zero checksum means "none" (UDP)


#: Per protocol; for ICMP echo the "ports" are both the identifier (offset 4).
_LAYOUTS: dict[int, _L4Layout] = {
    IpProtocol.TCP: _L4Layout(0, 2, 16, 20, True, False),
    IpProtocol.UDP: _L4Layout(0, 2, 6, 8, True, True),
    IpProtocol.ICMP: _L4Layout(4, 4, 2, 8, False, False),
}


def checksum_adjust(checksum: int, old: bytes, new: bytes) -> int:
    """RFC 1624 eqn. 3: ``HC' = ~(~HC + ~m + m')`` over the 16-bit words that changed."""
    total = ~checksum & 0xFFFF
    for i in range(0, len(old), 2):
        total += (~int.from_bytes(old[i:i + 2], "big") & 0xFFFF) + int.from_bytes(
            new[i:i + 2], "big")
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _rewrite_l4(protocol: int, segment: bytes, old_addrs: tuple[int, int],
                new_addrs: tuple[int, int], sport: int | None, dport: int | None) -> bytes:
    """The transport header with new ports and its checksum updated for every change."""
    layout = _LAYOUTS.get(protocol)
    if layout is None or len(segment) < layout.min_len:
        return segment
    if protocol == IpProtocol.ICMP and segment[0] not in _ECHO_TYPES:
        return segment  # no ports, and the ICMP checksum does not cover the addresses
    buf = bytearray(segment)
    old = bytearray(_ADDRS.pack(*old_addrs)) if layout.pseudo_header else bytearray()
    new = bytearray(_ADDRS.pack(*new_addrs)) if layout.pseudo_header else bytearray()
    for offset, value in ((layout.sport, sport), (layout.dport, dport)):
        if value is not None:
            old += buf[offset:offset + 2]
            buf[offset:offset + 2] = value.to_bytes(2, "big")
            new += buf[offset:offset + 2]
    c = layout.checksum
    checksum = int.from_bytes(buf[c:c + 2], "big")
    if layout.optional and checksum == 0:
        return bytes(buf)
    checksum = checksum_adjust(checksum, bytes(old), bytes(new))
    if layout.optional and checksum == 0:
        checksum = 0xFFFF
    buf[c:c + 2] = checksum.to_bytes(2, "big")
    return bytes(buf)


def rewrite(packet: Ipv4Packet, *, src: int | None = None, dst: int | None = None,
            sport: int | None = None, dport: int | None = None) -> bytes:
    """The datagram with new addresses and ports; every checksum still right."""
    new_src = packet.src if src is None else src
    new_dst = packet.dst if dst is None else dst
    payload = packet.payload
    if not packet.fragment_offset:
        payload = _rewrite_l4(packet.protocol, payload, (packet.src, packet.dst),
                              (new_src, new_dst), sport, dport)
    return push_ipv4(replace(packet, src=new_src, dst=new_dst, payload=payload))


@dataclass(frozen=True, slots=True)
class _Quoted:
    """The datagram an ICMP error quotes: its header and first eight bytes of data."""

    flow: Flow
    ihl: int


def _quoted(segment: bytes) -> _Quoted | None:
    data = segment[8:]
    if len(data) < 20 or data[0] >> 4 != 4:
        return None
    ihl = (data[0] & 0x0F) * 4
    if ihl < 20 or len(data) < ihl:
        return None
    proto = data[9]
    src, dst = _ADDRS.unpack_from(data, 12)
    body = data[ihl:]
    frag = int.from_bytes(data[6:8], "big") & 0x1FFF
    if frag or len(body) < 8:
        return _Quoted(Flow(proto, src, dst, fragment=bool(frag)), ihl)
    if proto in (IpProtocol.TCP, IpProtocol.UDP):
        sport, dport = _PORTS.unpack_from(body)
        return _Quoted(Flow(proto, src, dst, sport, dport), ihl)
    if proto == IpProtocol.ICMP and body[0] in _ECHO_TYPES:
        ident = int.from_bytes(body[4:6], "big")
        return _Quoted(Flow(proto, src, dst, ident, ident, icmp_type=body[0]), ihl)
    return _Quoted(Flow(proto, src, dst), ihl)


def rewrite_icmp_error(packet: Ipv4Packet, quoted: _Quoted, *, outer_src: int | None = None,
                       outer_dst: int | None = None, q_src: int | None = None,
                       q_dst: int | None = None, q_sport: int | None = None,
                       q_dport: int | None = None) -> bytes:
    """An ICMP error with its outer and quoted addresses (and quoted ports) translated."""
    seg = packet.payload
    data = bytearray(seg[8:])
    ihl = quoted.ihl
    f = quoted.flow
    new_src = f.src if q_src is None else q_src
    new_dst = f.dst if q_dst is None else q_dst
    header = bytearray(data[:ihl])
    header[12:20] = _ADDRS.pack(new_src, new_dst)
    header[10:12] = b"\x00\x00"
    header[10:12] = internet_checksum(bytes(header)).to_bytes(2, "big")
    body = bytes(data[ihl:])
    layout = _LAYOUTS.get(f.protocol)
    if layout is not None and len(body) >= layout.checksum + 2 and not f.fragment:
        body = _rewrite_l4(f.protocol, body, (f.src, f.dst), (new_src, new_dst), q_sport,
                           q_dport)
    elif layout is not None and len(body) >= 4 and not f.fragment and f.protocol != 1:
        # the quote ends before the checksum (TCP): rewrite the ports only
        b = bytearray(body)
        for off, value in ((layout.sport, q_sport), (layout.dport, q_dport)):
            if value is not None:
                b[off:off + 2] = value.to_bytes(2, "big")
        body = bytes(b)
    message = bytearray(seg[:8]) + header + body
    message[2:4] = b"\x00\x00"
    message[2:4] = internet_checksum(bytes(message)).to_bytes(2, "big")
    return push_ipv4(replace(packet, src=packet.src if outer_src is None else outer_src,
                             dst=packet.dst if outer_dst is None else outer_dst,
                             payload=bytes(message)))


# ================================================================ the engine


class NatPolicy(Protocol):
    """What the engine asks of the router it runs on; read at every datagram."""

    def config(self) -> NatConfig: ...

    def role(self, interface: str) -> str | None: ...  # "inside", "outside" or None

    def role_of_address(self, address: int) -> str | None: ...  # of the interface that has it

    def permits(self, acl: str, flow: Flow) -> bool: ...

    def interface_address(self, interface: str) -> int | None: ...


class Clock(Protocol):
    @property
    def now(self) -> float: ...


def _arrival_key(data: bytes) -> tuple[bytes, bytes]:
    """Identification, protocol and addresses: what forwarding leaves as it was."""
    return (data[4:6], data[9:10] + data[12:20])


def _timeout_kind(protocol: int | None, flow: Flow, remote_port: int | None) -> str:
    if protocol == IpProtocol.TCP:
        return "finrst-timeout" if flow.tcp_flags & _TCP_FIN_RST else "tcp-timeout"
    if protocol == IpProtocol.UDP:
        return "dns-timeout" if remote_port == 53 else "udp-timeout"
    if protocol == IpProtocol.ICMP:
        return "icmp-timeout"
    return "timeout"


class _Drop:
    """The answer "a mapping applies but cannot translate": IOS drops the datagram."""


DROP = _Drop()


def _has_ports(flow: Flow) -> bool:
    return flow.sport is not None and flow.dport is not None


class NatEngine:
    """The translation engine of one router: its table and the two stack hooks."""

    def __init__(self, policy: NatPolicy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock
        self._table: NatTable | None = None
        self._arrival: tuple[float, str, tuple[bytes, bytes]] | None = None

    @property
    def table(self) -> NatTable:
        """The live translations and their statistics, made when first needed (most
        routers of a lab never translate, and an empty table is most of a kilobyte)."""
        table = self._table
        if table is None:
            table = self._table = NatTable()
        return table

    def restart(self) -> None:
        """A reload: the table and its statistics start again (empty, made when needed)."""
        self._table = None

    # ------------------------------------------------------------ hooks

    def input_hook(self, interface: str, datagram: bytes) -> bytes | None:
        """Outside -> inside: translate the destination back, before routing."""
        if self.policy.role(interface) == "outside":
            datagram = self.inbound(datagram)
        if len(datagram) >= 20:
            self._arrival = (self.clock.now, interface, _arrival_key(datagram))
        return datagram

    def output_hook(self, interface: str, datagram: bytes) -> bytes | None:
        """Inside -> outside: translate the source, after routing and before crypto."""
        if self.policy.role(interface) != "outside" or len(datagram) < 20:
            return datagram
        arrival = self._arrival
        if arrival is not None and arrival[0] == self.clock.now and arrival[2] == _arrival_key(
                datagram):
            came_in = self.policy.role(arrival[1])
        else:  # originated here: inside if sourced from an inside interface's address
            came_in = self.policy.role_of_address(int.from_bytes(datagram[12:16], "big"))
        return self.outbound(datagram) if came_in == "inside" else datagram

    # ------------------------------------------------------------ inside -> outside

    def outbound(self, datagram: bytes) -> bytes | None:
        """Translate the source of a datagram going from inside to outside (None: drop)."""
        try:
            packet = pull_ipv4(datagram)
        except PacketError:
            return datagram
        now = self.clock.now
        self.table.expire(now)
        flow = flow_of(packet)
        if flow.protocol == IpProtocol.ICMP and flow.icmp_type in _ERROR_TYPES:
            return self._outbound_error(packet, datagram)
        if flow.fragment:
            peer = self.table.find(lambda e: e.protocol == flow.protocol
                                   and e.inside_local == flow.src and e.outside == flow.dst)
            return rewrite(packet, src=peer.inside_global) if peer is not None else datagram
        cfg = self.policy.config()
        remote = None if flow.protocol == IpProtocol.ICMP else flow.dport
        key = (flow.protocol, flow.src, flow.sport, flow.dst, remote)
        t: Translation | StaticNat | _Drop | None = self.table.by_inside(key)
        if t is None:
            t = self._create_outbound(flow, cfg, remote, now)
            self.table.punted += isinstance(t, Translation)  # a new entry: the slow path
        if t is None:
            return datagram  # no mapping applies: it leaves untranslated
        if isinstance(t, _Drop):
            self.table.misses += 1
            return None  # a mapping applies but cannot translate: IOS drops it
        self._use(t, flow, remote, cfg, now)
        if isinstance(t, StaticNat):
            return rewrite(packet, src=t.global_address)
        gport = t.global_port if flow.sport is not None else None
        return rewrite(packet, src=t.inside_global, sport=gport)

    def _create_outbound(self, flow: Flow, cfg: NatConfig, remote: int | None,
                         now: float) -> Translation | StaticNat | _Drop | None:
        for s in cfg.statics:
            if s.protocol and s.protocol == flow.protocol and s.local == flow.src \
                    and s.local_port == flow.sport:
                return self._child(flow.protocol, flow.src, s.global_address, flow.sport,
                                   s.global_port, flow.dst, remote, s.origin, now)
        for s in cfg.statics:
            if not s.protocol and s.local == flow.src:
                if not _has_ports(flow):
                    return s
                return self._child(flow.protocol, flow.src, s.global_address, flow.sport,
                                   flow.sport, flow.dst, remote, s.origin, now)
        simple = self.table.simple_for_local(flow.src)
        if simple is not None:
            if not _has_ports(flow):
                return StaticNat(flow.src, simple.inside_global)
            return self._child(flow.protocol, flow.src, simple.inside_global, flow.sport,
                               flow.sport, flow.dst, remote, simple.origin, now)
        for rule in cfg.dynamic.values():
            if not self.policy.permits(rule.acl, flow):
                continue
            address = self.policy.interface_address(rule.interface)
            if address is None:
                return DROP
            if rule.overload:
                gport = None
                if _has_ports(flow):
                    assert flow.sport is not None
                    gport = self.table.allocate_port(flow.protocol, flow.src, flow.sport,
                                                     address, self._reserved)
                    if gport is None:
                        return DROP
                elif self.table.by_outside((flow.protocol, address, None, flow.dst, None)):
                    return DROP  # a port-less protocol: one inside host per peer
                return self._child(flow.protocol, flow.src, address, flow.sport, gport,
                                   flow.dst, remote, rule.origin, now)
            holder = self.table.simple_for_global(address)
            if holder is not None or self._static_global(address):
                return DROP  # the one address is taken
            self.table.add(Translation(None, flow.src, address, origin=rule.origin,
                                       created=now, last_used=now,
                                       timeout=cfg.timeout("timeout")))
            if not _has_ports(flow):
                return StaticNat(flow.src, address)
            return self._child(flow.protocol, flow.src, address, flow.sport, flow.sport,
                               flow.dst, remote, rule.origin, now)
        return None

    def _outbound_error(self, packet: Ipv4Packet, datagram: bytes) -> bytes | None:
        """An ICMP error from an inside host about a datagram that came from outside."""
        q = _quoted(packet.payload)
        if q is None:
            return datagram
        f = q.flow
        remote = None if f.protocol == IpProtocol.ICMP else f.sport
        t = self.table.by_inside((f.protocol, f.dst, f.dport, f.src, remote))
        if t is not None:
            return rewrite_icmp_error(packet, q, outer_src=t.inside_global, q_dst=t.inside_global,
                                      q_dport=t.global_port if f.dport is not None else None)
        glob = self._global_for(packet.src)
        return rewrite_icmp_error(packet, q, outer_src=glob, q_dst=glob) if glob else datagram

    # ------------------------------------------------------------ outside -> inside

    def inbound(self, datagram: bytes) -> bytes:
        """Translate the destination of a datagram arriving on an outside interface."""
        try:
            packet = pull_ipv4(datagram)
        except PacketError:
            return datagram
        now = self.clock.now
        self.table.expire(now)
        flow = flow_of(packet)
        if flow.protocol == IpProtocol.ICMP and flow.icmp_type in _ERROR_TYPES:
            return self._inbound_error(packet, datagram)
        if flow.fragment:
            peer = self.table.find(lambda e: e.protocol == flow.protocol
                                   and e.inside_global == flow.dst and e.outside == flow.src)
            return rewrite(packet, dst=peer.inside_local) if peer is not None else datagram
        cfg = self.policy.config()
        remote = None if flow.protocol == IpProtocol.ICMP else flow.sport
        t: Translation | StaticNat | None = self.table.by_outside(
            (flow.protocol, flow.dst, flow.dport, flow.src, remote))
        if t is None:
            t = self._create_inbound(flow, cfg, remote, now)
            self.table.punted += isinstance(t, Translation)
        if t is None:
            return datagram
        self._use(t, flow, remote, cfg, now)
        if isinstance(t, StaticNat):
            return rewrite(packet, dst=t.local)
        return rewrite(packet, dst=t.inside_local,
                       dport=t.local_port if flow.dport is not None else None)

    def _create_inbound(self, flow: Flow, cfg: NatConfig, remote: int | None,
                        now: float) -> Translation | StaticNat | None:
        for s in cfg.statics:
            if s.protocol and s.protocol == flow.protocol and s.global_address == flow.dst \
                    and s.global_port == flow.dport:
                return self._child(flow.protocol, s.local, flow.dst, s.local_port, flow.dport,
                                   flow.src, remote, s.origin, now)
        for s in cfg.statics:
            if not s.protocol and s.global_address == flow.dst:
                if not _has_ports(flow):
                    return s
                return self._child(flow.protocol, s.local, flow.dst, flow.dport, flow.dport,
                                   flow.src, remote, s.origin, now)
        simple = self.table.simple_for_global(flow.dst)
        if simple is not None:
            if not _has_ports(flow):
                return StaticNat(simple.inside_local, flow.dst)
            return self._child(flow.protocol, simple.inside_local, flow.dst, flow.dport,
                               flow.dport, flow.src, remote, simple.origin, now)
        return None

    def _inbound_error(self, packet: Ipv4Packet, datagram: bytes) -> bytes:
        """An ICMP error about a datagram we translated on its way out."""
        q = _quoted(packet.payload)
        if q is None:
            return datagram
        f = q.flow
        remote = None if f.protocol == IpProtocol.ICMP else f.dport
        t = self.table.by_outside((f.protocol, f.src, f.sport, f.dst, remote))
        if t is not None:
            return rewrite_icmp_error(packet, q, outer_dst=t.inside_local, q_src=t.inside_local,
                                      q_sport=t.local_port if f.sport is not None else None)
        local = self._local_for(packet.dst)
        return rewrite_icmp_error(packet, q, outer_dst=local, q_src=local) if local else datagram

    # ------------------------------------------------------------ helpers

    def _child(self, protocol: int, local: int, glob: int, lport: int | None,
               gport: int | None, outside: int, remote: int | None, origin: str,
               now: float) -> Translation:
        return self.table.add(Translation(protocol, local, glob, lport, gport, outside, remote,
                                          origin, created=now, last_used=now))

    def _use(self, t: Translation | StaticNat, flow: Flow, remote: int | None, cfg: NatConfig,
             now: float) -> None:
        self.table.hits += 1
        local = t.local if isinstance(t, StaticNat) else t.inside_local
        if isinstance(t, Translation):
            self.table.touch(t, now, cfg.timeout(_timeout_kind(t.protocol, flow, remote)))
        parent = self.table.simple_for_local(local)
        if parent is not None:
            self.table.touch(parent, now, cfg.timeout("timeout"))

    def _reserved(self, protocol: int, address: int, port: int) -> bool:
        """Whether a static port mapping owns ``address:port``."""
        return any(s.protocol == protocol and s.global_address == address
                   and s.global_port == port for s in self.policy.config().statics)

    def _static_global(self, address: int) -> bool:
        return any(s.global_address == address and not s.protocol
                   for s in self.policy.config().statics)

    def _global_for(self, local: int) -> int | None:
        for s in self.policy.config().statics:
            if not s.protocol and s.local == local:
                return s.global_address
        simple = self.table.simple_for_local(local)
        return simple.inside_global if simple is not None else None

    def _local_for(self, glob: int) -> int | None:
        for s in self.policy.config().statics:
            if not s.protocol and s.global_address == glob:
                return s.local
        simple = self.table.simple_for_global(glob)
        return simple.inside_local if simple is not None else None

    # ------------------------------------------------------------ EXEC

    def clear_dynamic(self) -> int:
        """``clear ip nat translation *``: every entry made by traffic goes."""
        return self.table.clear()

    def forget(self, origin: str) -> int:
        """The mapping ``origin`` was removed: its entries go with it."""
        return self.table.clear(lambda t: t.origin == origin)

    def in_use(self, origin: str) -> bool:
        self.table.expire(self.clock.now)
        return any(t.origin == origin for t in self.table.entries())


# ================================================================ the router adapter


class _RouterPolicy:
    """A router's current configuration, as the engine asks about it."""

    def __init__(self, router: Router) -> None:
        self._router = weakref.ref(router)

    def _r(self) -> Router:
        router = self._router()
        assert router is not None
        return router

    def config(self) -> NatConfig:
        return nat_config(self._r().config)

    def role(self, interface: str) -> str | None:
        intf = self._r().config.interfaces.get(interface)
        if intf is None:
            return None
        role = intf.features.get("nat")
        return role if isinstance(role, str) else None

    def role_of_address(self, address: int) -> str | None:
        router = self._r()
        for name in router.config.interfaces:
            if any(a == address for a, _ in router.interface_addresses(name)):
                return self.role(name)
        return None

    def permits(self, acl: str, flow: Flow) -> bool:
        found = self._r().config.acls.get(acl)
        return found is not None and acl_permits(found, flow)

    def interface_address(self, interface: str) -> int | None:
        router = self._r()
        if not router.interface_is_up(interface):
            return None
        addrs = router.interface_addresses(interface)
        return addrs[0][0] if addrs else None


_ENGINES: weakref.WeakKeyDictionary[Router, tuple[NatEngine, float]] = \
    weakref.WeakKeyDictionary()


def nat_engine(router: Router) -> NatEngine:
    """The NAT engine of ``router`` (made on first use; emptied when the router reloads)."""
    found = _ENGINES.get(router)
    if found is not None and found[1] == router.boot_time:
        return found[0]
    if found is not None:
        found[0].restart()  # a reload starts the table and its statistics again
        _ENGINES[router] = (found[0], router.boot_time)
        return found[0]
    engine = NatEngine(_RouterPolicy(router), router.clock)
    _ENGINES[router] = (engine, router.boot_time)
    return engine


def install_nat(router: Router) -> NatEngine:
    """Put NAT on ``router``'s stack: first of the output hooks, last of the input hooks."""
    stack = router.stack
    if stack is None:
        raise ValueError(f"{router.name} is not on a network")
    engine = nat_engine(router)

    def output_hook(interface: str, datagram: bytes) -> bytes | None:
        return nat_engine(router).output_hook(interface, datagram)

    def input_hook(interface: str, datagram: bytes) -> bytes | None:
        return nat_engine(router).input_hook(interface, datagram)

    def acts_on(interface: str) -> bool:
        return nat_engine(router).policy.role(interface) is not None

    stack.add_hooks(acts_on, input_hook=input_hook, output_hook=output_hook,
                    output_first=True)
    return engine
