"""Codec tests for iosim.net.packets: known vectors, round trips, malformed input."""

from __future__ import annotations

import dataclasses
import ipaddress
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iosim.net.packets import (
    BROADCAST_MAC,
    ArpOperation,
    ArpPacket,
    EthernetFrame,
    EtherType,
    IcmpDestinationUnreachable,
    IcmpEcho,
    IcmpTimeExceeded,
    IcmpType,
    IpProtocol,
    Ipv4Packet,
    PacketError,
    TimeExceededCode,
    UdpDatagram,
    UnreachableCode,
    format_ip,
    int_to_ip,
    internet_checksum,
    ip_to_int,
    ipv4_decrement_ttl,
    mac_from_str,
    mac_to_str,
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

MAC_A = bytes.fromhex("aabbcc000100")
MAC_B = bytes.fromhex("aabbcc000200")
IP_A = ip_to_int("192.0.2.1")
IP_B = ip_to_int("192.0.2.2")


def reference_checksum(data: bytes) -> int:
    """RFC 1071 section 4.1 reference algorithm, word by word with end-around carry."""
    if len(data) % 2:
        data += b"\x00"
    total = 0
    for (word,) in struct.iter_unpack("!H", data):
        total += word
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


# -- checksum ------------------------------------------------------------------------------------


def test_checksum_rfc1071_example() -> None:
    # RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 have the one's complement sum ddf2,
    # so the checksum is its complement, 220d.
    assert internet_checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D


def test_checksum_odd_length_pads_with_zero() -> None:
    assert internet_checksum(b"\x01") == internet_checksum(b"\x01\x00") == 0xFEFF


def test_checksum_edge_values() -> None:
    assert internet_checksum(b"") == 0xFFFF
    assert internet_checksum(b"\x00\x00") == 0xFFFF
    assert internet_checksum(b"\xff\xff") == 0x0000  # negative zero sums to 0xFFFF
    assert internet_checksum(b"\xff\xff\xff\xff") == 0x0000


@given(st.binary(max_size=300))
def test_checksum_matches_reference(data: bytes) -> None:
    assert internet_checksum(data) == reference_checksum(data)


@given(st.binary(max_size=300).map(lambda b: b + b"\x00" * (len(b) % 2)))
def test_checksum_verifies_to_zero(data: bytes) -> None:
    checksum = internet_checksum(data)
    assert internet_checksum(data + checksum.to_bytes(2, "big")) == 0


# -- addresses -----------------------------------------------------------------------------------


def test_address_helpers() -> None:
    assert ip_to_int("10.1.2.3") == 0x0A010203
    assert ip_to_int(ipaddress.IPv4Address("10.1.2.3")) == 0x0A010203
    assert ip_to_int(7) == 7
    assert int_to_ip(0x0A010203) == ipaddress.IPv4Address("10.1.2.3")
    assert format_ip(0xC0A800FF) == "192.168.0.255"
    with pytest.raises(PacketError):
        ip_to_int(1 << 32)
    with pytest.raises(ValueError):
        ip_to_int("10.1.2")


def test_mac_helpers() -> None:
    assert mac_from_str("aabb.cc00.0100") == MAC_A
    assert mac_from_str("AA:BB:CC:00:01:00") == MAC_A
    assert mac_from_str("aa-bb-cc-00-01-00") == MAC_A
    assert mac_to_str(MAC_A) == "aabb.cc00.0100"
    for bad in ("aabb.cc00.01", "zzbb.cc00.0100", ""):
        with pytest.raises(PacketError):
            mac_from_str(bad)


# -- Ethernet ------------------------------------------------------------------------------------


def test_ethernet_round_trip_and_layout() -> None:
    frame = EthernetFrame(BROADCAST_MAC, MAC_A, EtherType.ARP, b"xyz")
    data = push_ethernet(frame)
    assert data == BROADCAST_MAC + MAC_A + b"\x08\x06xyz"
    assert pull_ethernet(data) == frame


def test_ethernet_padding_to_minimum() -> None:
    data = push_ethernet(EthernetFrame(MAC_B, MAC_A, EtherType.IPV4, b"abc"), pad=True)
    assert len(data) == 60
    assert data.endswith(b"abc" + bytes(43))
    big = push_ethernet(EthernetFrame(MAC_B, MAC_A, EtherType.IPV4, bytes(100)), pad=True)
    assert len(big) == 114


def test_ethernet_rejects_malformed() -> None:
    with pytest.raises(PacketError, match="too short"):
        pull_ethernet(bytes(13))
    with pytest.raises(PacketError, match="not Ethernet II"):
        pull_ethernet(MAC_B + MAC_A + b"\x00\x2e" + bytes(46))
    with pytest.raises(PacketError):
        push_ethernet(EthernetFrame(b"\x01", MAC_A, EtherType.IPV4))
    with pytest.raises(PacketError):
        push_ethernet(EthernetFrame(MAC_B, MAC_A, 0x05DC))


# -- ARP -----------------------------------------------------------------------------------------

# Who has 192.0.2.2? Tell 192.0.2.1 (RFC 826 layout, written out field by field).
ARP_REQUEST_BYTES = bytes.fromhex(
    "0001"  # ar$hrd Ethernet
    "0800"  # ar$pro IPv4
    "06" "04"  # ar$hln, ar$pln
    "0001"  # ar$op request
    "aabbcc000100" "c0000201"  # sha, spa
    "000000000000" "c0000202"  # tha, tpa
)  # fmt: skip


def test_arp_known_request() -> None:
    packet = ArpPacket(ArpOperation.REQUEST, MAC_A, IP_A, bytes(6), IP_B)
    assert push_arp(packet) == ARP_REQUEST_BYTES
    assert pull_arp(ARP_REQUEST_BYTES) == packet
    assert pull_arp(ARP_REQUEST_BYTES + bytes(18)) == packet  # Ethernet padding ignored


def test_arp_rejects_malformed() -> None:
    with pytest.raises(PacketError, match="too short"):
        pull_arp(ARP_REQUEST_BYTES[:27])
    with pytest.raises(PacketError, match="hardware"):
        pull_arp(b"\x00\x06" + ARP_REQUEST_BYTES[2:])
    with pytest.raises(PacketError, match="protocol"):
        pull_arp(ARP_REQUEST_BYTES[:2] + b"\x86\xdd" + ARP_REQUEST_BYTES[4:])
    with pytest.raises(PacketError, match="opcode"):
        pull_arp(ARP_REQUEST_BYTES[:6] + b"\x00\x03" + ARP_REQUEST_BYTES[8:])
    with pytest.raises(PacketError):
        push_arp(ArpPacket(ArpOperation.REPLY, MAC_A[:5], IP_A, MAC_B, IP_B))
    with pytest.raises(PacketError):
        push_arp(ArpPacket(ArpOperation.REPLY, MAC_A, -1, MAC_B, IP_B))


# -- IPv4 ----------------------------------------------------------------------------------------

# The classic worked example of the IPv4 header checksum (192.168.0.1 -> 192.168.0.199, UDP,
# DF, TTL 64, total length 115). Summing the nine other words by hand: 4500 + 0073 + 0000 +
# 4000 + 4011 + c0a8 + 0001 + c0a8 + 00c7 = 2479c, folded 479e, complemented b861.
IPV4_HEADER = bytes.fromhex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7")


def test_ipv4_known_header_checksum() -> None:
    assert internet_checksum(IPV4_HEADER) == 0
    packet = pull_ipv4(IPV4_HEADER + bytes(95))
    assert packet == Ipv4Packet(
        df=True,
        ttl=64,
        protocol=IpProtocol.UDP,
        src=ip_to_int("192.168.0.1"),
        dst=ip_to_int("192.168.0.199"),
        payload=bytes(95),
    )
    assert packet.total_length == 115 and packet.header_length == 20
    assert push_ipv4(packet)[:20] == IPV4_HEADER


def test_ipv4_fields_and_options_round_trip() -> None:
    packet = Ipv4Packet(
        tos=0xB8,
        identification=0xBEEF,
        mf=True,
        fragment_offset=185,
        ttl=1,
        protocol=IpProtocol.ESP,
        src=IP_A,
        dst=IP_B,
        options=b"\x94\x04\x00\x00",  # Router Alert (RFC 2113)
        payload=b"payload",
    )
    data = push_ipv4(packet)
    assert data[0] == 0x46 and len(data) == 24 + 7
    assert struct.unpack("!H", data[6:8])[0] == 0x2000 | 185
    assert pull_ipv4(data) == packet


def test_ipv4_trailing_padding_is_ignored() -> None:
    data = push_ipv4(Ipv4Packet(protocol=1, src=IP_A, dst=IP_B, payload=b"hi"))
    assert pull_ipv4(data + bytes(24)).payload == b"hi"


def _corrupt(data: bytes, offset: int, value: bytes, fix_checksum: bool = True) -> bytes:
    out = bytearray(data)
    out[offset : offset + len(value)] = value
    if fix_checksum:
        hlen = min((out[0] & 15) * 4, len(out))
        out[10:12] = b"\x00\x00"
        out[10:12] = internet_checksum(bytes(out[:hlen])).to_bytes(2, "big")
    return bytes(out)


@pytest.mark.parametrize(
    ("offset", "value", "fix", "reason"),
    [
        (0, b"\x65", True, "version 6"),
        (0, b"\x44", True, "IHL 4"),
        (2, b"\x00\x10", True, "less than header length"),
        (2, b"\x00\x40", True, "truncated"),
        (8, b"\x3f", False, "checksum"),
        (6, b"\x80\x00", True, "reserved flag"),
    ],
)
def test_ipv4_rejects_malformed(offset: int, value: bytes, fix: bool, reason: str) -> None:
    good = push_ipv4(Ipv4Packet(protocol=17, src=IP_A, dst=IP_B, payload=bytes(12)))
    with pytest.raises(PacketError, match=reason):
        pull_ipv4(_corrupt(good, offset, value, fix))


def test_ipv4_rejects_short_and_bad_objects() -> None:
    with pytest.raises(PacketError, match="too short"):
        pull_ipv4(IPV4_HEADER[:19])
    with pytest.raises(PacketError, match="options"):
        push_ipv4(Ipv4Packet(protocol=1, src=IP_A, dst=IP_B, options=b"\x01"))
    with pytest.raises(PacketError, match="too long"):
        push_ipv4(Ipv4Packet(protocol=1, src=IP_A, dst=IP_B, payload=bytes(65516)))
    with pytest.raises(PacketError, match="fragment offset"):
        push_ipv4(Ipv4Packet(protocol=1, src=IP_A, dst=IP_B, fragment_offset=8192))
    with pytest.raises(PacketError, match="cannot encode"):
        push_ipv4(Ipv4Packet(protocol=1, src=IP_A, dst=IP_B, ttl=256))


ipv4_packets = st.builds(
    Ipv4Packet,
    tos=st.integers(0, 255),
    identification=st.integers(0, 0xFFFF),
    df=st.booleans(),
    mf=st.booleans(),
    fragment_offset=st.integers(0, 0x1FFF),
    ttl=st.integers(0, 255),
    protocol=st.integers(0, 255),
    src=st.integers(0, 0xFFFFFFFF),
    dst=st.integers(0, 0xFFFFFFFF),
    options=st.integers(0, 10).flatmap(lambda n: st.binary(min_size=4 * n, max_size=4 * n)),
    payload=st.binary(max_size=200),
)


@given(ipv4_packets)
def test_ipv4_round_trip(packet: Ipv4Packet) -> None:
    data = push_ipv4(packet)
    assert internet_checksum(data[: packet.header_length]) == 0
    assert pull_ipv4(data) == packet


@given(ipv4_packets.filter(lambda p: p.ttl >= 1))
def test_ttl_decrement_matches_full_recompute(packet: Ipv4Packet) -> None:
    data = push_ipv4(packet)
    lowered = ipv4_decrement_ttl(data)
    assert lowered == push_ipv4(dataclasses.replace(packet, ttl=packet.ttl - 1))
    assert pull_ipv4(lowered).ttl == packet.ttl - 1


def test_ttl_decrement_rejects_zero_ttl() -> None:
    data = push_ipv4(Ipv4Packet(ttl=0, protocol=1, src=IP_A, dst=IP_B))
    with pytest.raises(PacketError, match="TTL"):
        ipv4_decrement_ttl(data)
    with pytest.raises(PacketError, match="too short"):
        ipv4_decrement_ttl(data[:10])


# -- ICMP ----------------------------------------------------------------------------------------

# Windows ping.exe echo request (identifier 1, sequence 1, the 32-byte alphabet payload); the
# checksum 0x4d5a is the one Wireshark shows for this well-known packet.
WINDOWS_PING = bytes.fromhex("08004d5a00010001") + b"abcdefghijklmnopqrstuvwabcdefghi"


def test_icmp_known_echo_request() -> None:
    echo = IcmpEcho(identifier=1, sequence_number=1, data=b"abcdefghijklmnopqrstuvwabcdefghi")
    assert push_icmp(echo) == WINDOWS_PING
    assert pull_icmp(WINDOWS_PING) == echo
    assert reference_checksum(WINDOWS_PING[:2] + b"\0\0" + WINDOWS_PING[4:]) == 0x4D5A


def test_icmp_echo_reply_round_trip() -> None:
    reply = IcmpEcho(0x1234, 7, bytes.fromhex("abcd") * 36, reply=True)
    data = push_icmp(reply)
    assert data[0] == IcmpType.ECHO_REPLY and data[1] == 0
    assert pull_icmp(data) == reply


def _offending_datagram() -> bytes:
    udp = push_udp(UdpDatagram(500, 500, b"ISAKMP header and more"), IP_A, IP_B)
    return push_ipv4(Ipv4Packet(ttl=1, protocol=IpProtocol.UDP, src=IP_A, dst=IP_B, payload=udp))


def test_quote_datagram_is_header_plus_64_bits() -> None:
    datagram = _offending_datagram()
    assert quote_datagram(datagram) == datagram[:28]
    with_options = push_ipv4(
        Ipv4Packet(protocol=17, src=IP_A, dst=IP_B, options=bytes(8), payload=bytes(30))
    )
    assert len(quote_datagram(with_options)) == 28 + 8
    assert quote_datagram(datagram[:24]) == datagram[:24]
    with pytest.raises(PacketError):
        quote_datagram(bytes(10))


def test_icmp_time_exceeded_carries_original() -> None:
    original = quote_datagram(_offending_datagram())
    message = IcmpTimeExceeded(TimeExceededCode.TTL_EXCEEDED_IN_TRANSIT, original)
    data = push_icmp(message)
    assert data[:2] == b"\x0b\x00" and data[4:8] == bytes(4) and data[8:] == original
    decoded = pull_icmp(data)
    assert decoded == message
    assert isinstance(decoded, IcmpTimeExceeded)
    assert pull_ipv4(decoded.original[:20] + bytes(100)).dst == IP_B


def test_icmp_unreachable_codes_and_mtu() -> None:
    original = quote_datagram(_offending_datagram())
    port = IcmpDestinationUnreachable(UnreachableCode.PORT, original)
    assert pull_icmp(push_icmp(port)) == port
    frag = IcmpDestinationUnreachable(UnreachableCode.FRAGMENTATION_NEEDED, original, 1400)
    data = push_icmp(frag)
    assert data[4:8] == b"\x00\x00\x05\x78"
    assert pull_icmp(data) == frag
    with pytest.raises(PacketError, match="code 4"):
        push_icmp(IcmpDestinationUnreachable(UnreachableCode.HOST, original, 1400))


def test_icmp_rejects_malformed() -> None:
    original = quote_datagram(_offending_datagram())
    good = push_icmp(IcmpDestinationUnreachable(UnreachableCode.HOST, original))

    def resum(data: bytes) -> bytes:
        zeroed = data[:2] + b"\0\0" + data[4:]
        return zeroed[:2] + internet_checksum(zeroed).to_bytes(2, "big") + zeroed[4:]

    with pytest.raises(PacketError, match="too short"):
        pull_icmp(good[:7])
    with pytest.raises(PacketError, match="checksum"):
        pull_icmp(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(PacketError, match="unsupported ICMP type 5"):
        pull_icmp(resum(b"\x05" + good[1:]))
    with pytest.raises(PacketError, match="code 16"):
        pull_icmp(resum(good[:1] + b"\x10" + good[2:]))
    with pytest.raises(PacketError, match="code 2"):
        pull_icmp(resum(b"\x0b\x02" + good[2:]))
    with pytest.raises(PacketError, match="echo with code"):
        pull_icmp(resum(b"\x08\x01" + good[2:8]))
    with pytest.raises(PacketError, match="IPv4 header"):
        pull_icmp(resum(good[:8] + b"\x60" + good[9:]))
    with pytest.raises(PacketError, match="IPv4 header"):
        pull_icmp(resum(good[: 8 + 19]))
    with pytest.raises(PacketError, match="truncated"):
        pull_icmp(resum(good[:8] + b"\x4f" + good[9:]))
    with pytest.raises(PacketError):
        push_icmp(IcmpTimeExceeded(0, b"short"))
    with pytest.raises(PacketError, match="cannot encode"):
        push_icmp(IcmpEcho(70000, 1))


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=200), st.booleans())
def test_icmp_echo_round_trip(ident: int, seq: int, data: bytes, reply: bool) -> None:
    echo = IcmpEcho(ident, seq, data, reply)
    assert pull_icmp(push_icmp(echo)) == echo


# -- UDP -----------------------------------------------------------------------------------------

# Frame 9 of ../shared/reference/strongswan-ikev1/mm-qm-pfs-ping.pcap (strongSwan 5.9.8, IKEv1
# quick mode over NAT-T, 192.0.2.1:4500 -> 192.0.2.2:4500), Ethernet II.  The UDP checksum field
# holds only the pseudo-header sum (checksum offload on the capturing veth), not a checksum.
STRONGSWAN_FRAME = bytes.fromhex(
    "4e41a7fe758fb6714273803008004500006c126240004011a41bc0000201c0000202119411940058846d"
    "00000000af7395994370928b902a0b6c66eb622b081020011383d7830000004c89be3715c95a6816ce86"
    "bfee41bae66eedcc900537652e890f88d4075575016179820f52a6304902da12f624f75a984a"
)


def test_udp_real_capture_decodes() -> None:
    frame = pull_ethernet(STRONGSWAN_FRAME)
    assert frame.ethertype == EtherType.IPV4
    assert mac_to_str(frame.src) == "b671.4273.8030"
    packet = pull_ipv4(frame.payload)
    assert (packet.src, packet.dst, packet.ttl, packet.df) == (IP_A, IP_B, 64, True)
    assert packet.identification == 0x1262 and packet.total_length == 0x6C
    assert push_ipv4(packet) == frame.payload  # header re-encodes byte for byte
    with pytest.raises(PacketError, match="bad UDP checksum"):
        pull_udp(packet.payload, packet.src, packet.dst)
    datagram = pull_udp(packet.payload, packet.src, packet.dst, verify_checksum=False)
    assert (datagram.src_port, datagram.dst_port) == (4500, 4500)
    assert datagram.payload[:4] == bytes(4)  # non-ESP marker (RFC 3948)
    # The offloaded field is the folded one's complement sum of the pseudo-header.
    pseudo = struct.pack("!IIBBH", IP_A, IP_B, 0, 17, len(packet.payload))
    assert packet.payload[6:8] == (0xFFFF - internet_checksum(pseudo)).to_bytes(2, "big")
    fixed = push_udp(datagram, packet.src, packet.dst)
    assert fixed[:6] == packet.payload[:6] and fixed[8:] == packet.payload[8:]
    assert pull_udp(fixed, packet.src, packet.dst) == datagram


def test_udp_round_trip_and_checksum() -> None:
    datagram = UdpDatagram(500, 500, b"\x01" * 28)
    data = push_udp(datagram, IP_A, IP_B)
    assert struct.unpack("!HHH", data[:6]) == (500, 500, 36)
    pseudo = struct.pack("!IIBBH", IP_A, IP_B, 0, 17, 36)
    assert reference_checksum(pseudo + data) == 0
    assert pull_udp(data, IP_A, IP_B) == datagram
    with pytest.raises(PacketError, match="bad UDP checksum"):
        pull_udp(data, IP_A, IP_B + 1)  # the pseudo-header covers the addresses


def test_udp_zero_checksum_means_none_and_computed_zero_is_sent_as_ffff() -> None:
    data = push_udp(UdpDatagram(1, 2, b"\x00\x00"), IP_A, IP_B)
    unsent = data[:6] + b"\x00\x00" + data[8:]
    assert pull_udp(unsent, IP_A, IP_B) == UdpDatagram(1, 2, b"\x00\x00")
    # Choose the payload word that makes the computed checksum 0.
    word = struct.unpack("!H", data[6:8])[0]
    zero_sum = push_udp(UdpDatagram(1, 2, word.to_bytes(2, "big")), IP_A, IP_B)
    assert zero_sum[6:8] == b"\xff\xff"
    assert pull_udp(zero_sum, IP_A, IP_B).payload == word.to_bytes(2, "big")


def test_udp_rejects_malformed() -> None:
    data = push_udp(UdpDatagram(500, 500, b"abc"), IP_A, IP_B)
    with pytest.raises(PacketError, match="too short"):
        pull_udp(data[:7], IP_A, IP_B)
    with pytest.raises(PacketError, match="does not match"):
        pull_udp(data + b"x", IP_A, IP_B)
    with pytest.raises(PacketError, match="does not match"):
        pull_udp(data[:4] + b"\x00\x07" + data[6:], IP_A, IP_B)
    with pytest.raises(PacketError, match="bad UDP checksum"):
        pull_udp(data[:-1] + b"d", IP_A, IP_B)
    with pytest.raises(PacketError, match="cannot encode"):
        push_udp(UdpDatagram(65536, 1), IP_A, IP_B)
    with pytest.raises(PacketError, match="too long"):
        push_udp(UdpDatagram(1, 1, bytes(65528)), IP_A, IP_B)


@given(
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.binary(max_size=300),
    st.integers(0, 0xFFFFFFFF),
    st.integers(0, 0xFFFFFFFF),
)
def test_udp_round_trip(sport: int, dport: int, payload: bytes, src: int, dst: int) -> None:
    datagram = UdpDatagram(sport, dport, payload)
    data = push_udp(datagram, src, dst)
    assert data[6:8] != b"\x00\x00"
    assert pull_udp(data, src, dst) == datagram


# -- whole frames --------------------------------------------------------------------------------


@given(
    st.binary(min_size=6, max_size=6),
    st.binary(min_size=6, max_size=6),
    st.binary(max_size=100),
    st.integers(0, 0xFFFF),
)
def test_ethernet_ipv4_udp_stack_round_trip(
    dst: bytes, src: bytes, body: bytes, ident: int
) -> None:
    udp = push_udp(UdpDatagram(500, 500, body), IP_A, IP_B)
    ip = push_ipv4(
        Ipv4Packet(identification=ident, protocol=IpProtocol.UDP, src=IP_A, dst=IP_B, payload=udp)
    )
    wire = push_ethernet(EthernetFrame(dst, src, EtherType.IPV4, ip), pad=True)
    frame = pull_ethernet(wire)
    packet = pull_ipv4(frame.payload)  # padding beyond Total Length is dropped here
    assert pull_udp(packet.payload, packet.src, packet.dst) == UdpDatagram(500, 500, body)
    assert (frame.dst, frame.src, packet.identification) == (dst, src, ident)


@given(st.binary(max_size=80))
def test_decoders_never_crash_on_garbage(data: bytes) -> None:
    for pull in (pull_ethernet, pull_arp, pull_ipv4, pull_icmp):
        try:
            pull(data)
        except PacketError:
            pass
    try:
        pull_udp(data, IP_A, IP_B)
    except PacketError:
        pass
