"""The NAT engine on hand-made datagrams: translation, PAT ports, checksums, ICMP errors,
fragments and timeouts, without a lab around it."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from ipaddress import IPv4Address

from hypothesis import given
from hypothesis import strategies as st

from iosim.config.model import AccessList, AclEntry, AddressMatch
from iosim.net.nat import (
    DynamicNat,
    Flow,
    NatConfig,
    NatEngine,
    StaticNat,
    acl_permits,
    checksum_adjust,
    flow_of,
    rewrite,
)
from iosim.net.packets import (
    IcmpDestinationUnreachable,
    IcmpEcho,
    IcmpTimeExceeded,
    IpProtocol,
    Ipv4Packet,
    UdpDatagram,
    internet_checksum,
    ip_to_int,
    pull_icmp,
    pull_ipv4,
    pull_udp,
    push_icmp,
    push_ipv4,
    push_udp,
    quote_datagram,
)

PC1 = ip_to_int("192.168.1.10")
PC3 = ip_to_int("192.168.1.11")
SERVER = ip_to_int("192.168.1.20")
PUBLIC = ip_to_int("198.51.100.1")
STATIC_GLOBAL = ip_to_int("198.51.100.5")
REMOTE = ip_to_int("203.0.113.50")
OTHER_REMOTE = ip_to_int("203.0.113.51")
VPN_PEER_LAN = ip_to_int("10.0.2.10")


def _wild(addr: str, wildcard: str) -> AddressMatch:
    return AddressMatch(IPv4Address(addr), IPv4Address(wildcard))


ANY = _wild("0.0.0.0", "255.255.255.255")
LAN = _wild("192.168.1.0", "0.0.0.255")


def _vpn_exempt_acl() -> AccessList:
    """access-list 101 deny ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255 / permit ... any"""
    return AccessList("101", extended=True, numbered=True, entries=[
        AclEntry(10, "deny", 0, LAN, _wild("10.0.2.0", "0.0.0.255")),
        AclEntry(20, "permit", 0, LAN, ANY),
    ])


@dataclass
class Clock:
    now: float = 0.0


@dataclass
class Policy:
    """A router with Gi0/1 inside (192.168.1.1) and Gi0/0 outside (198.51.100.1)."""

    cfg: NatConfig = field(default_factory=NatConfig)
    acls: dict[str, AccessList] = field(default_factory=dict)
    up: bool = True

    def config(self) -> NatConfig:
        return self.cfg

    def role(self, interface: str) -> str | None:
        return {"Gi0/1": "inside", "Gi0/0": "outside"}.get(interface)

    def role_of_address(self, address: int) -> str | None:
        return {ip_to_int("192.168.1.1"): "inside", PUBLIC: "outside"}.get(address)

    def permits(self, acl: str, flow: Flow) -> bool:
        found = self.acls.get(acl)
        return found is not None and acl_permits(found, flow)

    def interface_address(self, interface: str) -> int | None:
        return PUBLIC if self.up and interface == "Gi0/0" else None


def _pat_engine(acl: AccessList | None = None) -> tuple[NatEngine, Policy, Clock]:
    acl = acl or AccessList("1", extended=False, numbered=True,
                            entries=[AclEntry(10, "permit", None, LAN)])
    policy = Policy(NatConfig(dynamic={acl.name: DynamicNat(acl.name, "Gi0/0", True)}),
                    {acl.name: acl})
    clock = Clock()
    return NatEngine(policy, clock), policy, clock


def _echo(src: int, dst: int, ident: int = 1, seq: int = 0, reply: bool = False) -> bytes:
    return push_ipv4(Ipv4Packet(identification=seq + 1, ttl=64, protocol=IpProtocol.ICMP,
                                src=src, dst=dst,
                                payload=push_icmp(IcmpEcho(ident, seq, b"abcd" * 8, reply))))


def _udp(src: int, dst: int, sport: int, dport: int, payload: bytes = b"hello") -> bytes:
    return push_ipv4(Ipv4Packet(identification=7, ttl=64, protocol=IpProtocol.UDP, src=src,
                                dst=dst,
                                payload=push_udp(UdpDatagram(sport, dport, payload), src, dst)))


def _tcp_segment(src: int, dst: int, sport: int, dport: int, flags: int = 0x02,
                 data: bytes = b"") -> bytes:
    header = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, flags, 65535, 0, 0)
    segment = header + data
    pseudo = struct.pack("!IIBBH", src, dst, 0, IpProtocol.TCP, len(segment))
    checksum = internet_checksum(pseudo + segment)
    return segment[:16] + checksum.to_bytes(2, "big") + segment[18:]


def _tcp(src: int, dst: int, sport: int, dport: int, flags: int = 0x02,
         data: bytes = b"") -> bytes:
    return push_ipv4(Ipv4Packet(identification=9, ttl=64, protocol=IpProtocol.TCP, src=src,
                                dst=dst, payload=_tcp_segment(src, dst, sport, dport, flags,
                                                              data)))


def _tcp_checksum_ok(datagram: bytes) -> bool:
    p = pull_ipv4(datagram)
    pseudo = struct.pack("!IIBBH", p.src, p.dst, 0, IpProtocol.TCP, len(p.payload))
    return internet_checksum(pseudo + p.payload) == 0


# ---------------------------------------------------------------- PAT


def test_pat_translates_the_source_and_back_with_valid_checksums() -> None:
    engine, _, _ = _pat_engine()
    out = engine.outbound(_echo(PC1, REMOTE, ident=1))
    assert out is not None
    packet = pull_ipv4(out)  # verifies the header checksum
    assert (packet.src, packet.dst) == (PUBLIC, REMOTE)
    echo = pull_icmp(packet.payload)  # verifies the ICMP checksum
    assert isinstance(echo, IcmpEcho) and echo.identifier == 1

    back = pull_ipv4(engine.inbound(_echo(REMOTE, PUBLIC, ident=1, reply=True)))
    assert (back.src, back.dst) == (REMOTE, PC1)
    assert isinstance(pull_icmp(back.payload), IcmpEcho)


def test_pat_keeps_the_port_when_free_and_picks_another_when_taken() -> None:
    engine, _, _ = _pat_engine()
    first = pull_ipv4(engine.outbound(_udp(PC1, REMOTE, 5000, 53)) or b"")
    second = pull_ipv4(engine.outbound(_udp(PC3, REMOTE, 5000, 53)) or b"")
    u1 = pull_udp(first.payload, first.src, first.dst)
    u2 = pull_udp(second.payload, second.src, second.dst)
    assert (first.src, u1.src_port) == (PUBLIC, 5000)
    assert second.src == PUBLIC and u2.src_port == 1024  # first free port of 1024-65535
    # the answers find their own inside host
    r1 = pull_ipv4(engine.inbound(_udp(REMOTE, PUBLIC, 53, 5000)))
    r2 = pull_ipv4(engine.inbound(_udp(REMOTE, PUBLIC, 53, 1024)))
    assert r1.dst == PC1 and pull_udp(r1.payload, r1.src, r1.dst).dst_port == 5000
    assert r2.dst == PC3 and pull_udp(r2.payload, r2.src, r2.dst).dst_port == 5000


def test_pat_port_ranges_and_icmp_identifiers() -> None:
    engine, _, _ = _pat_engine()
    assert engine.outbound(_udp(PC1, REMOTE, 500, 500)) is not None
    low = pull_ipv4(engine.outbound(_udp(PC3, REMOTE, 500, 500)) or b"")
    assert pull_udp(low.payload, low.src, low.dst).src_port == 1  # same range: 1-511
    engine.outbound(_echo(PC1, REMOTE, ident=1))
    other = pull_ipv4(engine.outbound(_echo(PC3, REMOTE, ident=1)) or b"")
    message = pull_icmp(other.payload)
    assert isinstance(message, IcmpEcho) and message.identifier == 1024


def test_one_inside_port_keeps_its_global_port_for_every_destination() -> None:
    engine, _, _ = _pat_engine()
    engine.outbound(_udp(PC1, REMOTE, 5000, 53))
    engine.outbound(_udp(PC3, REMOTE, 5000, 53))  # PC3 takes 1024
    again = pull_ipv4(engine.outbound(_udp(PC3, OTHER_REMOTE, 5000, 53)) or b"")
    assert pull_udp(again.payload, again.src, again.dst).src_port == 1024
    assert len(engine.table) == 3


def test_unsolicited_inbound_traffic_is_left_alone() -> None:
    engine, _, _ = _pat_engine()
    datagram = _udp(REMOTE, PUBLIC, 53, 7777)
    assert engine.inbound(datagram) == datagram


def test_acl_deny_exempts_vpn_traffic_from_nat() -> None:
    acl = _vpn_exempt_acl()
    engine, _, _ = _pat_engine(acl)
    vpn = _echo(PC1, VPN_PEER_LAN)
    assert engine.outbound(vpn) == vpn
    assert len(engine.table) == 0
    internet = pull_ipv4(engine.outbound(_echo(PC1, REMOTE)) or b"")
    assert internet.src == PUBLIC
    assert [e.matches for e in acl.entries] == [1, 1]


def test_an_undefined_acl_translates_nothing() -> None:
    engine, policy, _ = _pat_engine()
    policy.acls.clear()
    datagram = _echo(PC1, REMOTE)
    assert engine.outbound(datagram) == datagram


def test_outside_interface_without_address_drops_what_must_be_translated() -> None:
    engine, policy, _ = _pat_engine()
    policy.up = False
    assert engine.outbound(_echo(PC1, REMOTE)) is None
    assert engine.table.misses == 1


def test_without_overload_the_address_belongs_to_one_host() -> None:
    engine, policy, _ = _pat_engine()
    policy.cfg.dynamic["1"] = DynamicNat("1", "Gi0/0", overload=False)
    first = pull_ipv4(engine.outbound(_udp(PC1, REMOTE, 5000, 53)) or b"")
    assert first.src == PUBLIC
    assert pull_udp(first.payload, first.src, first.dst).src_port == 5000
    assert engine.outbound(_udp(PC3, REMOTE, 5000, 53)) is None  # address in use
    kinds = sorted(str(t.protocol) for t in engine.table.entries())
    assert kinds == ["17", "None"]  # a simple entry and its extended child


# ---------------------------------------------------------------- static


def test_static_nat_both_directions_and_ports_unchanged() -> None:
    policy = Policy(NatConfig(statics=[StaticNat(SERVER, STATIC_GLOBAL)]))
    engine = NatEngine(policy, Clock())
    inbound = pull_ipv4(engine.inbound(_tcp(REMOTE, STATIC_GLOBAL, 40000, 80)))
    assert inbound.dst == SERVER and _tcp_checksum_ok(push_ipv4(inbound))
    reply = pull_ipv4(engine.outbound(_tcp(SERVER, REMOTE, 80, 40000, flags=0x12)) or b"")
    assert reply.src == STATIC_GLOBAL and reply.payload[:4] == struct.pack("!HH", 80, 40000)
    assert _tcp_checksum_ok(push_ipv4(reply))
    # a protocol without ports (ESP) is translated by address, without a table entry
    esp = push_ipv4(Ipv4Packet(protocol=IpProtocol.ESP, src=SERVER, dst=REMOTE,
                               payload=bytes(24)))
    assert pull_ipv4(engine.outbound(esp) or b"").src == STATIC_GLOBAL
    assert len(engine.table) == 1


def test_static_port_forwarding() -> None:
    policy = Policy(NatConfig(statics=[StaticNat(SERVER, PUBLIC, IpProtocol.UDP, 4500, 4501,
                                                 extendable=True)]))
    engine = NatEngine(policy, Clock())
    inbound = pull_ipv4(engine.inbound(_udp(REMOTE, PUBLIC, 4500, 4501)))
    udp = pull_udp(inbound.payload, inbound.src, inbound.dst)
    assert (inbound.dst, udp.dst_port) == (SERVER, 4500)
    out = pull_ipv4(engine.outbound(_udp(SERVER, REMOTE, 4500, 4500)) or b"")
    assert (out.src, pull_udp(out.payload, out.src, out.dst).src_port) == (PUBLIC, 4501)


def test_pat_does_not_hand_out_a_port_a_static_mapping_owns() -> None:
    engine, policy, _ = _pat_engine()
    policy.cfg.statics.append(StaticNat(SERVER, PUBLIC, IpProtocol.UDP, 500, 500, True))
    out = pull_ipv4(engine.outbound(_udp(PC1, REMOTE, 500, 500)) or b"")
    assert pull_udp(out.payload, out.src, out.dst).src_port == 1


# ---------------------------------------------------------------- ICMP errors, fragments


def test_icmp_errors_about_translated_datagrams_are_translated_back() -> None:
    engine, _, _ = _pat_engine()
    engine.outbound(_udp(PC1, REMOTE, 5000, 33434))
    engine.outbound(_udp(PC3, REMOTE, 5000, 33434))  # global port 1024
    sent = _udp(PUBLIC, REMOTE, 1024, 33434)  # as it left the router
    error = push_ipv4(Ipv4Packet(protocol=IpProtocol.ICMP, src=REMOTE, dst=PUBLIC,
                                 payload=push_icmp(IcmpDestinationUnreachable(
                                     3, quote_datagram(sent)))))
    back = pull_ipv4(engine.inbound(error))
    assert back.dst == PC3
    message = pull_icmp(back.payload)  # outer checksum right
    assert isinstance(message, IcmpDestinationUnreachable)
    quoted = message.original
    assert internet_checksum(quoted[:20]) == 0  # quoted header checksum right
    assert struct.unpack("!II", quoted[12:20]) == (PC3, REMOTE)
    assert struct.unpack("!HH", quoted[20:24]) == (5000, 33434)


def test_icmp_error_quoting_an_echo_reaches_the_pinging_host() -> None:
    engine, _, _ = _pat_engine()
    engine.outbound(_echo(PC1, REMOTE, ident=1))
    engine.outbound(_echo(PC3, REMOTE, ident=1))  # identifier 1024 outside
    sent = _echo(PUBLIC, REMOTE, ident=1024)
    error = push_ipv4(Ipv4Packet(protocol=IpProtocol.ICMP, src=OTHER_REMOTE, dst=PUBLIC,
                                 payload=push_icmp(IcmpTimeExceeded(0, quote_datagram(sent)))))
    back = pull_ipv4(engine.inbound(error))
    message = pull_icmp(back.payload)
    assert back.dst == PC3 and isinstance(message, IcmpTimeExceeded)
    assert int.from_bytes(message.original[24:26], "big") == 1  # the host's own identifier


def test_non_first_fragments_follow_their_flow_by_address() -> None:
    engine, _, _ = _pat_engine()
    engine.outbound(_udp(PC1, REMOTE, 5000, 53))
    fragment = push_ipv4(Ipv4Packet(identification=7, fragment_offset=100, ttl=64,
                                    protocol=IpProtocol.UDP, src=PC1, dst=REMOTE,
                                    payload=b"x" * 40))
    out = pull_ipv4(engine.outbound(fragment) or b"")
    assert out.src == PUBLIC and out.payload == b"x" * 40
    back = push_ipv4(Ipv4Packet(fragment_offset=100, protocol=IpProtocol.UDP, src=REMOTE,
                                dst=PUBLIC, payload=b"y" * 16))
    assert pull_ipv4(engine.inbound(back)).dst == PC1


# ---------------------------------------------------------------- timeouts


def test_timeouts_per_protocol_on_the_virtual_clock() -> None:
    engine, policy, clock = _pat_engine()
    engine.outbound(_echo(PC1, REMOTE))
    engine.outbound(_udp(PC1, REMOTE, 5000, 5000))
    engine.outbound(_udp(PC1, REMOTE, 5001, 53))
    engine.outbound(_tcp(PC1, REMOTE, 40000, 80))
    clock.now = 59.0
    engine.table.expire(clock.now)
    assert len(engine.table) == 4
    clock.now = 61.0
    engine.table.expire(clock.now)  # ICMP and DNS: 60 s
    assert sorted(t.protocol or 0 for t in engine.table.entries()) == [6, 17]
    clock.now = 301.0
    engine.table.expire(clock.now)  # UDP: 300 s
    assert [t.protocol for t in engine.table.entries()] == [6]
    # FIN or RST: the TCP entry has 60 s left
    engine.outbound(_tcp(PC1, REMOTE, 40000, 80, flags=0x11))
    clock.now = 362.0
    engine.table.expire(clock.now)
    assert len(engine.table) == 0


def test_traffic_restarts_the_idle_timer_and_configured_timeouts_apply() -> None:
    engine, policy, clock = _pat_engine()
    policy.cfg.timeouts["icmp-timeout"] = 10
    engine.outbound(_echo(PC1, REMOTE))
    clock.now = 8.0
    engine.inbound(_echo(REMOTE, PUBLIC, reply=True))
    clock.now = 17.0
    engine.table.expire(clock.now)
    assert len(engine.table) == 1
    clock.now = 18.5
    engine.table.expire(clock.now)
    assert len(engine.table) == 0
    policy.cfg.timeouts["icmp-timeout"] = None  # never
    engine.outbound(_echo(PC1, REMOTE))
    clock.now = 10 ** 9
    engine.table.expire(clock.now)
    assert len(engine.table) == 1


# ---------------------------------------------------------------- checksums


def test_checksum_adjust_is_rfc_1624_equation_3() -> None:
    data = bytearray(b"\x12\x34\x56\x78\x9a\xbc\xde\xf0")
    before = internet_checksum(bytes(data))
    data[2:4] = b"\xff\xfe"
    assert checksum_adjust(before, b"\x56\x78", b"\xff\xfe") == internet_checksum(bytes(data))


addresses = st.integers(min_value=1, max_value=0xDFFFFFFF)
ports = st.integers(min_value=1, max_value=65535)


@given(addresses, addresses, ports, ports, addresses, ports, st.binary(max_size=64))
def test_rewritten_udp_and_tcp_checksums_verify(src: int, dst: int, sport: int, dport: int,
                                                new_src: int, new_sport: int,
                                                data: bytes) -> None:
    udp = pull_ipv4(_udp(src, dst, sport, dport, data))
    out = pull_ipv4(rewrite(udp, src=new_src, sport=new_sport))
    u = pull_udp(out.payload, out.src, out.dst)  # raises on a bad checksum
    assert (out.src, u.src_port, u.payload) == (new_src, new_sport, data)
    tcp = pull_ipv4(_tcp(src, dst, sport, dport, data=data))
    moved = rewrite(tcp, dst=new_src, dport=new_sport)
    assert _tcp_checksum_ok(moved)
    assert flow_of(pull_ipv4(moved)).dport == new_sport


def test_udp_without_checksum_stays_without() -> None:
    raw = struct.pack("!HHHH", 1000, 53, 12, 0) + b"abcd"
    packet = Ipv4Packet(protocol=IpProtocol.UDP, src=PC1, dst=REMOTE, payload=raw)
    out = pull_ipv4(rewrite(packet, src=PUBLIC, sport=2000))
    assert out.payload[6:8] == b"\x00\x00"
    assert pull_udp(out.payload, out.src, out.dst).src_port == 2000


@given(st.binary(min_size=0, max_size=120), st.integers(min_value=0, max_value=3))
def test_malformed_datagrams_never_break_the_engine(noise: bytes, kind: int) -> None:
    engine, _, _ = _pat_engine()
    engine.outbound(_echo(PC1, REMOTE))
    # a valid header around random transport bytes, or random bytes outright
    protocol = (IpProtocol.ICMP, IpProtocol.UDP, IpProtocol.TCP, 0)[kind]
    framed = push_ipv4(Ipv4Packet(protocol=protocol, src=REMOTE, dst=PUBLIC, payload=noise))
    error_in = push_ipv4(Ipv4Packet(protocol=IpProtocol.ICMP, src=REMOTE, dst=PUBLIC,
                                    payload=bytes((3, 1)) + bytes(6) + noise))
    error_out = push_ipv4(Ipv4Packet(protocol=IpProtocol.ICMP, src=PC1, dst=REMOTE,
                                     payload=bytes((11, 0)) + bytes(6) + noise))
    for datagram in (framed, noise, _echo(PUBLIC, REMOTE) + noise, error_in, error_out):
        engine.inbound(datagram)
        engine.outbound(datagram)
        engine.input_hook("Gi0/0", datagram)
        engine.output_hook("Gi0/0", datagram)
