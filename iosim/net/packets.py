"""Wire codecs for the network layer: Ethernet II, ARP, IPv4, ICMP and UDP as real bytes.

Each protocol is a frozen dataclass named as in its RFC plus a ``pull_*(data) -> obj`` decoder
and a ``push_*(obj) -> bytes`` encoder. Decoders are strict: anything malformed (too short,
inconsistent length fields, a bad checksum, a value the RFC forbids) raises :class:`PacketError`
with a human-readable reason, so a router can count and drop it. Encoders compute every length
and checksum themselves; the dataclasses carry no derived fields, so ``pull(push(x)) == x``.

Representation choices, made for forwarding speed:

* IPv4 addresses are plain ``int`` (host order value of the 32-bit address). Longest-prefix
  match is then a mask and a dict lookup, and no :class:`ipaddress.IPv4Address` is built per
  packet. :func:`ip_to_int` / :func:`int_to_ip` / :func:`format_ip` convert at the edges.
* MAC addresses are 6-byte ``bytes``; :func:`mac_from_str` / :func:`mac_to_str` convert.
* Enumerated fields (EtherType, protocol, ICMP type/code) are plain ``int`` in decoded objects;
  the ``IntEnum`` classes below name the values and compare equal to them.
* Layouts are precompiled :class:`struct.Struct` objects; the Internet checksum uses one
  big-integer reduction instead of a Python loop over 16-bit words.

Trailing bytes after an IPv4 datagram's Total Length, or after a 28-byte ARP packet, are
accepted and discarded: they are Ethernet padding up to the 60-byte minimum frame.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

__all__ = [
    "BROADCAST_MAC",
    "ArpOperation",
    "ArpPacket",
    "EtherType",
    "EthernetFrame",
    "IcmpDestinationUnreachable",
    "IcmpEcho",
    "IcmpMessage",
    "IcmpTimeExceeded",
    "IcmpType",
    "IpProtocol",
    "Ipv4Packet",
    "PacketError",
    "TimeExceededCode",
    "UdpDatagram",
    "UnreachableCode",
    "format_ip",
    "int_to_ip",
    "internet_checksum",
    "ip_to_int",
    "ipv4_decrement_ttl",
    "mac_from_str",
    "mac_to_str",
    "pull_arp",
    "pull_ethernet",
    "pull_icmp",
    "pull_ipv4",
    "pull_udp",
    "push_arp",
    "push_ethernet",
    "push_icmp",
    "push_ipv4",
    "push_udp",
    "quote_datagram",
]


class PacketError(ValueError):
    """A packet that cannot be decoded (or an object that cannot be encoded); says why."""


# -- numbers -------------------------------------------------------------------------------------


class EtherType(IntEnum):
    """EtherType values (IEEE 802 numbers registry)."""

    IPV4 = 0x0800
    ARP = 0x0806


class IpProtocol(IntEnum):
    """IPv4 Protocol field values (IANA protocol numbers)."""

    ICMP = 1
    IPIP = 4  # IPv4 in IPv4 (ESP tunnel mode's next header)
    TCP = 6
    UDP = 17
    GRE = 47  # Generic Routing Encapsulation (RFC 2784)
    ESP = 50
    AH = 51


class ArpOperation(IntEnum):
    """ARP ar$op (RFC 826)."""

    REQUEST = 1
    REPLY = 2


class IcmpType(IntEnum):
    """ICMP message types handled here (RFC 792)."""

    ECHO_REPLY = 0
    DESTINATION_UNREACHABLE = 3
    ECHO = 8
    TIME_EXCEEDED = 11


class UnreachableCode(IntEnum):
    """Destination Unreachable codes: 0-5 from RFC 792, 6-12 RFC 1122, 13-15 RFC 1812."""

    NET = 0
    HOST = 1
    PROTOCOL = 2
    PORT = 3
    FRAGMENTATION_NEEDED = 4
    SOURCE_ROUTE_FAILED = 5
    NET_UNKNOWN = 6
    HOST_UNKNOWN = 7
    SOURCE_HOST_ISOLATED = 8
    NET_PROHIBITED = 9
    HOST_PROHIBITED = 10
    NET_TOS = 11
    HOST_TOS = 12
    ADMINISTRATIVELY_PROHIBITED = 13
    HOST_PRECEDENCE_VIOLATION = 14
    PRECEDENCE_CUTOFF = 15


class TimeExceededCode(IntEnum):
    """Time Exceeded codes (RFC 792)."""

    TTL_EXCEEDED_IN_TRANSIT = 0
    FRAGMENT_REASSEMBLY_TIME_EXCEEDED = 1


BROADCAST_MAC = b"\xff" * 6

# -- addresses -----------------------------------------------------------------------------------


def ip_to_int(addr: str | ipaddress.IPv4Address | int) -> int:
    """An IPv4 address (dotted string, IPv4Address or int) as the int used in packets."""
    if isinstance(addr, int):
        if not 0 <= addr <= 0xFFFFFFFF:
            raise PacketError(f"IPv4 address out of range: {addr}")
        return addr
    return int(ipaddress.IPv4Address(addr))


def int_to_ip(value: int) -> ipaddress.IPv4Address:
    """The :class:`ipaddress.IPv4Address` for a packet's int address."""
    return ipaddress.IPv4Address(value)


def format_ip(value: int) -> str:
    """Dotted-quad text for an int address (faster than ``str(IPv4Address(value))``)."""
    return f"{value >> 24 & 255}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"


_HEX = frozenset("0123456789abcdefABCDEF")


def mac_from_str(text: str) -> bytes:
    """Parse ``aabb.ccdd.eeff`` (IOS), ``aa:bb:cc:dd:ee:ff`` or ``aa-bb-cc-dd-ee-ff``."""
    digits = text.replace(".", "").replace(":", "").replace("-", "")
    if len(digits) != 12 or not _HEX.issuperset(digits):
        raise PacketError(f"not a MAC address: {text!r}")
    return bytes.fromhex(digits)


def mac_to_str(mac: bytes) -> str:
    """A MAC address the way IOS prints it: ``aabb.ccdd.eeff``."""
    h = mac.hex()
    return f"{h[0:4]}.{h[4:8]}.{h[8:12]}"


# -- Internet checksum (RFC 1071) ----------------------------------------------------------------


def internet_checksum(data: bytes) -> int:
    """The 16-bit one's complement of the one's complement sum of ``data`` (RFC 1071).

    An odd trailing byte is padded with a zero byte. Since 2**16 = 1 (mod 2**16 - 1), the
    one's complement sum of the 16-bit words equals the whole buffer read as one big-endian
    integer, reduced mod 0xFFFF; the only care needed is that a non-zero sum congruent to 0
    is 0xFFFF ("negative zero"), which end-around-carry addition produces. Verifying a buffer
    that contains its own correct checksum gives 0.
    """
    if len(data) & 1:
        data = bytes(data) + b"\x00"
    total = int.from_bytes(data, "big")
    folded = total % 0xFFFF
    if folded == 0 and total:
        folded = 0xFFFF
    return 0xFFFF - folded


# -- Ethernet II ---------------------------------------------------------------------------------
#
#   0                   6                   12      14
#  +-------------------+-------------------+-------+----------------------------+
#  | Destination MAC   | Source MAC        | Type  | Payload (46-1500 octets)   |
#  +-------------------+-------------------+-------+----------------------------+
#  (preamble and FCS are not part of the frame as captured or simulated)

_ETHERNET = struct.Struct("!6s6sH")
ETHERNET_HEADER_LEN = 14
ETHERNET_MIN_PAYLOAD = 46


@dataclass(frozen=True, slots=True)
class EthernetFrame:
    """An Ethernet II (DIX) frame without preamble and FCS. ``ethertype`` >= 0x0600."""

    dst: bytes
    src: bytes
    ethertype: int
    payload: bytes = b""


def pull_ethernet(data: bytes) -> EthernetFrame:
    """Decode an Ethernet II frame; 802.3 length-field frames are rejected."""
    if len(data) < ETHERNET_HEADER_LEN:
        raise PacketError(f"Ethernet frame too short: {len(data)} bytes")
    dst, src, ethertype = _ETHERNET.unpack_from(data)
    if ethertype < 0x0600:
        raise PacketError(f"not Ethernet II: type/length field {ethertype:#06x} is a length")
    return EthernetFrame(dst, src, ethertype, data[ETHERNET_HEADER_LEN:])


def push_ethernet(frame: EthernetFrame, pad: bool = False) -> bytes:
    """Encode ``frame``; with ``pad`` the payload is zero-padded to the 46-octet minimum."""
    if len(frame.dst) != 6 or len(frame.src) != 6:
        raise PacketError("MAC addresses must be 6 bytes")
    if not 0x0600 <= frame.ethertype <= 0xFFFF:
        raise PacketError(f"bad EtherType {frame.ethertype:#x}")
    payload = frame.payload
    if pad and len(payload) < ETHERNET_MIN_PAYLOAD:
        payload = payload + bytes(ETHERNET_MIN_PAYLOAD - len(payload))
    return _ETHERNET.pack(frame.dst, frame.src, frame.ethertype) + payload


# -- ARP (RFC 826), Ethernet hardware and IPv4 protocol addresses only ---------------------------
#
#   ar$hrd (16) | ar$pro (16) | ar$hln (8) | ar$pln (8) | ar$op (16)
#   ar$sha (6 octets) | ar$spa (4) | ar$tha (6) | ar$tpa (4)          = 28 octets

_ARP = struct.Struct("!HHBBH6sI6sI")
ARP_LEN = 28
_ARP_HRD_ETHERNET = 1


@dataclass(frozen=True, slots=True)
class ArpPacket:
    """An ARP request or reply for IPv4 over Ethernet; field names are RFC 826's."""

    op: int
    sha: bytes
    spa: int
    tha: bytes
    tpa: int


def pull_arp(data: bytes) -> ArpPacket:
    """Decode an ARP packet (trailing Ethernet padding is ignored)."""
    if len(data) < ARP_LEN:
        raise PacketError(f"ARP packet too short: {len(data)} bytes")
    hrd, pro, hln, pln, op, sha, spa, tha, tpa = _ARP.unpack_from(data)
    if hrd != _ARP_HRD_ETHERNET or hln != 6:
        raise PacketError(f"unsupported ARP hardware type {hrd} / length {hln}")
    if pro != EtherType.IPV4 or pln != 4:
        raise PacketError(f"unsupported ARP protocol type {pro:#06x} / length {pln}")
    if op not in (ArpOperation.REQUEST, ArpOperation.REPLY):
        raise PacketError(f"unsupported ARP opcode {op}")
    return ArpPacket(op, sha, spa, tha, tpa)


def push_arp(packet: ArpPacket) -> bytes:
    """Encode an ARP packet (28 bytes)."""
    if len(packet.sha) != 6 or len(packet.tha) != 6:
        raise PacketError("ARP hardware addresses must be 6 bytes")
    try:
        return _ARP.pack(
            _ARP_HRD_ETHERNET, EtherType.IPV4, 6, 4,
            packet.op, packet.sha, packet.spa, packet.tha, packet.tpa,
        )  # fmt: skip
    except struct.error as exc:
        raise PacketError(f"cannot encode ARP packet: {exc}") from exc


# -- IPv4 (RFC 791) ------------------------------------------------------------------------------
#
#   0                   1                   2                   3
#   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
#  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#  |Version|  IHL  |Type of Service|          Total Length         |
#  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#  |         Identification        |Flags|      Fragment Offset    |
#  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#  |  Time to Live |    Protocol   |         Header Checksum       |
#  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#  |                       Source Address                          |
#  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#  |                    Destination Address                        |
#  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#  |                    Options                    |    Padding    |
#  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#  Flags: bit 0 reserved (must be zero), bit 1 DF, bit 2 MF.

_IPV4 = struct.Struct("!BBHHHBBHII")
IPV4_MIN_HEADER_LEN = 20
IPV4_MAX_OPTIONS_LEN = 40
_FLAG_RESERVED = 0x8000
_FLAG_DF = 0x4000
_FLAG_MF = 0x2000
_OFFSET_MASK = 0x1FFF


@dataclass(frozen=True, slots=True, kw_only=True)
class Ipv4Packet:
    """An IPv4 datagram. Version, IHL, Total Length and Header Checksum are derived.

    ``fragment_offset`` is the raw 13-bit field, in units of 8 octets (RFC 791).
    ``options`` are the raw option bytes including padding (a multiple of 4, at most 40).
    """

    tos: int = 0
    identification: int = 0
    df: bool = False
    mf: bool = False
    fragment_offset: int = 0
    ttl: int = 255
    protocol: int
    src: int
    dst: int
    options: bytes = b""
    payload: bytes = b""

    @property
    def header_length(self) -> int:
        """Header length in octets (IHL * 4)."""
        return IPV4_MIN_HEADER_LEN + len(self.options)

    @property
    def total_length(self) -> int:
        """Total Length field value: header plus payload, in octets."""
        return IPV4_MIN_HEADER_LEN + len(self.options) + len(self.payload)


def pull_ipv4(data: bytes) -> Ipv4Packet:
    """Decode an IPv4 datagram, verifying lengths and the header checksum."""
    size = len(data)
    if size < IPV4_MIN_HEADER_LEN:
        raise PacketError(f"IPv4 datagram too short: {size} bytes")
    vihl, tos, total, ident, frag, ttl, proto, _, src, dst = _IPV4.unpack_from(data)
    if vihl >> 4 != 4:
        raise PacketError(f"IP version {vihl >> 4}, expected 4")
    hlen = (vihl & 0x0F) * 4
    if hlen < IPV4_MIN_HEADER_LEN:
        raise PacketError(f"IPv4 IHL {hlen // 4} is below 5")
    if total < hlen:
        raise PacketError(f"IPv4 total length {total} is less than header length {hlen}")
    if total > size:
        raise PacketError(f"IPv4 datagram truncated: total length {total}, have {size}")
    if internet_checksum(data[:hlen]):
        raise PacketError("bad IPv4 header checksum")
    if frag & _FLAG_RESERVED:
        raise PacketError("IPv4 reserved flag bit set")
    return Ipv4Packet(
        tos=tos,
        identification=ident,
        df=bool(frag & _FLAG_DF),
        mf=bool(frag & _FLAG_MF),
        fragment_offset=frag & _OFFSET_MASK,
        ttl=ttl,
        protocol=proto,
        src=src,
        dst=dst,
        options=data[IPV4_MIN_HEADER_LEN:hlen],
        payload=data[hlen:total],
    )


def push_ipv4(packet: Ipv4Packet) -> bytes:
    """Encode ``packet``, computing IHL, Total Length and the header checksum."""
    options = packet.options
    if len(options) % 4 or len(options) > IPV4_MAX_OPTIONS_LEN:
        raise PacketError(f"IPv4 options length {len(options)} not a multiple of 4 up to 40")
    hlen = IPV4_MIN_HEADER_LEN + len(options)
    total = hlen + len(packet.payload)
    if total > 0xFFFF:
        raise PacketError(f"IPv4 datagram too long: {total} bytes")
    if not 0 <= packet.fragment_offset <= _OFFSET_MASK:
        raise PacketError(f"fragment offset {packet.fragment_offset} out of range")
    frag = packet.fragment_offset | (_FLAG_DF if packet.df else 0) | (_FLAG_MF if packet.mf else 0)
    fields = (
        0x40 | hlen // 4, packet.tos, total, packet.identification, frag,
        packet.ttl, packet.protocol,
    )  # fmt: skip
    try:
        header = _IPV4.pack(*fields, 0, packet.src, packet.dst) + options
        checksum = internet_checksum(header)
        header = _IPV4.pack(*fields, checksum, packet.src, packet.dst) + options
    except struct.error as exc:
        raise PacketError(f"cannot encode IPv4 header: {exc}") from exc
    return header + packet.payload


def ipv4_decrement_ttl(datagram: bytes) -> bytes:
    """The datagram with TTL one lower and the checksum updated incrementally (RFC 1624 eqn 3).

    ``HC' = ~(~HC + ~m + m')`` where ``m`` is the 16-bit word holding TTL and Protocol. This is
    the forwarding fast path: no decode, no full checksum. The caller decides what a TTL of 1
    or 0 means (ICMP Time Exceeded); a TTL already at 0 raises :class:`PacketError`.
    """
    if len(datagram) < IPV4_MIN_HEADER_LEN:
        raise PacketError(f"IPv4 datagram too short: {len(datagram)} bytes")
    ttl = datagram[8]
    if ttl == 0:
        raise PacketError("IPv4 TTL is already 0")
    old_word = ttl << 8 | datagram[9]
    old_checksum = datagram[10] << 8 | datagram[11]
    total = (~old_checksum & 0xFFFF) + (~old_word & 0xFFFF) + (old_word - 0x100)
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    checksum = ~total & 0xFFFF
    return b"".join(
        (datagram[:8], bytes((ttl - 1, datagram[9], checksum >> 8, checksum & 0xFF)), datagram[12:])
    )


# -- ICMP (RFC 792) ------------------------------------------------------------------------------
#
#   0                   1                   2                   3
#  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#  |     Type      |     Code      |          Checksum             |
#  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#  | Echo: Identifier | Sequence Number;  Unreachable/Time Exceeded: |
#  | unused (Unreachable code 4: unused | Next-Hop MTU, RFC 1191)     |
#  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#  | Echo: Data ...;  errors: Internet Header + 64 bits of Data     |
#  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#  Checksum: over the whole ICMP message, with the checksum field as zero.

_ICMP = struct.Struct("!BBHHH")
ICMP_HEADER_LEN = 8


@dataclass(frozen=True, slots=True)
class IcmpEcho:
    """Echo (type 8) or, with ``reply``, Echo Reply (type 0)."""

    identifier: int
    sequence_number: int
    data: bytes = b""
    reply: bool = False


@dataclass(frozen=True, slots=True)
class IcmpDestinationUnreachable:
    """Destination Unreachable (type 3).

    ``original`` is the offending datagram's Internet header plus at least its first 64 bits
    of data (see :func:`quote_datagram`). ``next_hop_mtu`` is only meaningful for code 4.
    """

    code: int
    original: bytes
    next_hop_mtu: int = 0


@dataclass(frozen=True, slots=True)
class IcmpTimeExceeded:
    """Time Exceeded (type 11); ``original`` as for Destination Unreachable."""

    code: int
    original: bytes


IcmpMessage = IcmpEcho | IcmpDestinationUnreachable | IcmpTimeExceeded


def quote_datagram(datagram: bytes) -> bytes:
    """The part of a datagram an ICMP error carries: its header plus 64 bits of data."""
    if len(datagram) < IPV4_MIN_HEADER_LEN:
        raise PacketError(f"IPv4 datagram too short to quote: {len(datagram)} bytes")
    return datagram[: (datagram[0] & 0x0F) * 4 + 8]


def _check_original(original: bytes) -> None:
    if len(original) < IPV4_MIN_HEADER_LEN or original[0] >> 4 != 4:
        raise PacketError("ICMP error does not carry an IPv4 header")
    if len(original) < (original[0] & 0x0F) * 4:
        raise PacketError("ICMP error carries a truncated IPv4 header")


def _pull_echo(icmp_type: int, code: int, rest: int, data: bytes) -> IcmpMessage:
    if code != 0:
        raise PacketError(f"ICMP echo with code {code}")
    return IcmpEcho(rest >> 16, rest & 0xFFFF, data, icmp_type == IcmpType.ECHO_REPLY)


def _pull_unreachable(icmp_type: int, code: int, rest: int, data: bytes) -> IcmpMessage:
    if code > max(UnreachableCode):
        raise PacketError(f"unknown Destination Unreachable code {code}")
    _check_original(data)
    mtu = rest & 0xFFFF if code == UnreachableCode.FRAGMENTATION_NEEDED else 0
    return IcmpDestinationUnreachable(code, data, mtu)


def _pull_time_exceeded(icmp_type: int, code: int, rest: int, data: bytes) -> IcmpMessage:
    if code > max(TimeExceededCode):
        raise PacketError(f"unknown Time Exceeded code {code}")
    _check_original(data)
    return IcmpTimeExceeded(code, data)


_ICMP_DECODERS: dict[int, Callable[[int, int, int, bytes], IcmpMessage]] = {
    IcmpType.ECHO_REPLY: _pull_echo,
    IcmpType.ECHO: _pull_echo,
    IcmpType.DESTINATION_UNREACHABLE: _pull_unreachable,
    IcmpType.TIME_EXCEEDED: _pull_time_exceeded,
}


def pull_icmp(data: bytes) -> IcmpMessage:
    """Decode an ICMP message (the IPv4 payload), verifying its checksum."""
    if len(data) < ICMP_HEADER_LEN:
        raise PacketError(f"ICMP message too short: {len(data)} bytes")
    icmp_type, code, _, rest_hi, rest_lo = _ICMP.unpack_from(data)
    decoder = _ICMP_DECODERS.get(icmp_type)
    if decoder is None:
        raise PacketError(f"unsupported ICMP type {icmp_type}")
    if internet_checksum(data):
        raise PacketError("bad ICMP checksum")
    return decoder(icmp_type, code, rest_hi << 16 | rest_lo, data[ICMP_HEADER_LEN:])


def _push_echo(msg: Any) -> tuple[int, int, int, int, bytes]:
    icmp_type = IcmpType.ECHO_REPLY if msg.reply else IcmpType.ECHO
    return icmp_type, 0, msg.identifier, msg.sequence_number, msg.data


def _push_unreachable(msg: Any) -> tuple[int, int, int, int, bytes]:
    if msg.next_hop_mtu and msg.code != UnreachableCode.FRAGMENTATION_NEEDED:
        raise PacketError("next_hop_mtu is only sent with code 4 (fragmentation needed)")
    _check_original(msg.original)
    return IcmpType.DESTINATION_UNREACHABLE, msg.code, 0, msg.next_hop_mtu, msg.original


def _push_time_exceeded(msg: Any) -> tuple[int, int, int, int, bytes]:
    _check_original(msg.original)
    return IcmpType.TIME_EXCEEDED, msg.code, 0, 0, msg.original


_ICMP_ENCODERS: dict[type, Callable[[Any], tuple[int, int, int, int, bytes]]] = {
    IcmpEcho: _push_echo,
    IcmpDestinationUnreachable: _push_unreachable,
    IcmpTimeExceeded: _push_time_exceeded,
}


def push_icmp(message: IcmpMessage) -> bytes:
    """Encode an ICMP message, computing its checksum."""
    icmp_type, code, rest_hi, rest_lo, body = _ICMP_ENCODERS[type(message)](message)
    try:
        unsummed = _ICMP.pack(icmp_type, code, 0, rest_hi, rest_lo) + body
    except struct.error as exc:
        raise PacketError(f"cannot encode ICMP message: {exc}") from exc
    checksum = internet_checksum(unsummed)
    return b"".join((unsummed[:2], checksum.to_bytes(2, "big"), unsummed[4:]))


# -- UDP (RFC 768) -------------------------------------------------------------------------------
#
#   0      7 8     15 16    23 24    31
#  +--------+--------+--------+--------+
#  |     Source      |   Destination   |
#  |      Port       |      Port       |
#  +--------+--------+--------+--------+
#  |     Length      |    Checksum     |
#  +--------+--------+--------+--------+
#  Checksum: over the pseudo-header (source address, destination address, zero, protocol 17,
#  UDP length), the header and the data. A transmitted 0 means "no checksum"; a computed 0 is
#  sent as 0xFFFF.

_UDP = struct.Struct("!HHHH")
_PSEUDO = struct.Struct("!IIBBH")
UDP_HEADER_LEN = 8


@dataclass(frozen=True, slots=True)
class UdpDatagram:
    """A UDP datagram; Length and Checksum are derived."""

    src_port: int
    dst_port: int
    payload: bytes = b""


def pull_udp(data: bytes, src: int, dst: int, verify_checksum: bool = True) -> UdpDatagram:
    """Decode the UDP datagram carried in an IPv4 datagram from ``src`` to ``dst``.

    The Length field must match the IPv4 payload exactly. A non-zero checksum is verified
    against the pseudo-header unless ``verify_checksum`` is false (captures with checksum
    offload carry partial checksums).
    """
    if len(data) < UDP_HEADER_LEN:
        raise PacketError(f"UDP datagram too short: {len(data)} bytes")
    src_port, dst_port, length, checksum = _UDP.unpack_from(data)
    if length != len(data):
        raise PacketError(f"UDP length {length} does not match {len(data)} bytes of payload")
    if checksum and verify_checksum:
        if internet_checksum(_PSEUDO.pack(src, dst, 0, IpProtocol.UDP, length) + data):
            raise PacketError("bad UDP checksum")
    return UdpDatagram(src_port, dst_port, data[UDP_HEADER_LEN:])


def push_udp(datagram: UdpDatagram, src: int, dst: int) -> bytes:
    """Encode ``datagram`` for an IPv4 datagram from ``src`` to ``dst``, with its checksum."""
    length = UDP_HEADER_LEN + len(datagram.payload)
    if length > 0xFFFF:
        raise PacketError(f"UDP datagram too long: {length} bytes")
    try:
        header = _UDP.pack(datagram.src_port, datagram.dst_port, length, 0)
        pseudo = _PSEUDO.pack(src, dst, 0, IpProtocol.UDP, length)
    except struct.error as exc:
        raise PacketError(f"cannot encode UDP datagram: {exc}") from exc
    checksum = internet_checksum(pseudo + header + datagram.payload) or 0xFFFF
    return header[:6] + checksum.to_bytes(2, "big") + datagram.payload
