"""The OSPFv2 packet codec (RFC 2328 appendix A): pull and push functions over frozen
dataclasses named as in the RFC, with the authentication of appendix D and the Link-Local
Signaling block of RFC 5613 that IOS appends to its hellos and DBDs.

Theory of operation
-------------------
An OSPF packet is the 24-octet header (A.3.1) and one of five bodies; :func:`pull_packet`
checks the version, the length, the type and (for AuType 0 and 1) the checksum, and returns
an :class:`OspfPacket`; :func:`push_packet` computes the length and the checksum, or, with
a key, appends the keyed MD5 digest (D.4.3). Whether a received digest is right is the
receiver's decision (:func:`md5_digest_ok`): the codec cannot know the key.

An LSA travels as its bytes (:class:`Lsa`: the parsed 20-octet header and the raw octets),
because flooding re-sends it unchanged but for its age, and the Fletcher checksum
(:func:`lsa_checksum`, RFC 905 annex B) covers everything but the age. The body is parsed
on demand by :func:`pull_lsa_body` (a table by LS type) and built by :func:`push_lsa`.

Every integer address (router ID, area ID, mask, link ID) is an ``int``, as in
:mod:`iosim.net.packets`; LS sequence numbers are signed (RFC 2328 12.1.6).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from operator import mul
from typing import Any

from iosim.net.packets import PacketError, internet_checksum

IP_PROTOCOL_OSPF = 89
OSPF_VERSION = 2
ALL_SPF_ROUTERS = 0xE0000005  # 224.0.0.5
ALL_D_ROUTERS = 0xE0000006  # 224.0.0.6
#: IOS sends OSPF with IP precedence 6 (internetwork control).
OSPF_TOS = 0xC0

HEADER_LEN = 24
LSA_HEADER_LEN = 20
MD5_DIGEST_LEN = 16


class OspfError(PacketError):
    """A malformed OSPF packet or LSA."""


class PacketType(IntEnum):
    """The Type field of the OSPF header (A.3.1)."""

    HELLO = 1
    DATABASE_DESCRIPTION = 2
    LINK_STATE_REQUEST = 3
    LINK_STATE_UPDATE = 4
    LINK_STATE_ACK = 5


class AuType(IntEnum):
    """Authentication types (appendix D)."""

    NULL = 0
    SIMPLE_PASSWORD = 1
    CRYPTOGRAPHIC = 2


class LsType(IntEnum):
    """LS types (A.4.1)."""

    ROUTER = 1
    NETWORK = 2
    SUMMARY_NETWORK = 3
    SUMMARY_ASBR = 4
    AS_EXTERNAL = 5


class LinkType(IntEnum):
    """Router-LSA link types (A.4.2)."""

    POINT_TO_POINT = 1
    TRANSIT = 2
    STUB = 3
    VIRTUAL = 4


# Options (A.2)
OPTION_E = 0x02  # AS-external-LSAs are flooded (not a stub area)
OPTION_MC = 0x04
OPTION_NP = 0x08
OPTION_L = 0x10  # an LLS data block follows (RFC 5613)
OPTION_DC = 0x20  # demand circuits
OPTION_O = 0x40  # opaque LSAs (RFC 5250)

# Database Description flags (A.3.3)
DD_MASTER = 0x01  # MS
DD_MORE = 0x02  # M
DD_INIT = 0x04  # I

# Router-LSA flags (A.4.2)
ROUTER_B = 0x01  # area border router
ROUTER_E = 0x02  # AS boundary router
ROUTER_V = 0x04  # virtual link endpoint

# LLS (RFC 5613): the Extended Options TLV and its LR bit (RFC 4811)
LLS_EXTENDED_OPTIONS = 1
LLS_LR = 0x00000001

LsaKey = tuple[int, int, int]  # (LS type, Link State ID, Advertising Router)

_HEADER = struct.Struct("!BBHIIHH")  # version, type, length, router ID, area ID, cksum, autype
_CRYPTO = struct.Struct("!HBBI")  # 0, key ID, auth data length, crypto sequence number
_HELLO = struct.Struct("!IHBBIII")
_DBD = struct.Struct("!HBBI")
_LSR = struct.Struct("!III")
_LSA_HEADER = struct.Struct("!HBBIIiHH")
_LINK = struct.Struct("!IIBBH")
_U32 = struct.Struct("!I")
_LLS = struct.Struct("!HH")
_TLV = struct.Struct("!HH")


# ============================================================================ the header
#
#  0                   1                   2                   3
#  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |   Version #   |     Type      |         Packet length         |
# |                          Router ID                            |
# |                           Area ID                             |
# |           Checksum            |             AuType            |
# |                       Authentication (64 bits)                |


@dataclass(frozen=True, slots=True)
class OspfHeader:
    """The OSPF packet header (A.3.1). ``authentication`` is the simple password's 8 octets
    (AuType 1); ``key_id`` and ``crypto_sequence`` are AuType 2's (D.3)."""

    packet_type: int
    router_id: int
    area_id: int
    autype: int = AuType.NULL
    authentication: bytes = bytes(8)
    key_id: int = 0
    crypto_sequence: int = 0


# ============================================================================ LSAs
#
# |            LS age             |    Options    |    LS type    |
# |                        Link State ID                          |
# |                     Advertising Router                        |
# |                     LS sequence number                        |
# |         LS checksum           |             length            |


@dataclass(frozen=True, slots=True)
class LsaHeader:
    """The LSA header (A.4.1); ``ls_sequence_number`` is signed."""

    ls_age: int
    options: int
    ls_type: int
    link_state_id: int
    advertising_router: int
    ls_sequence_number: int
    ls_checksum: int
    length: int

    @property
    def key(self) -> LsaKey:
        """What identifies the LSA (12.1): type, Link State ID, Advertising Router."""
        return (self.ls_type, self.link_state_id, self.advertising_router)


@dataclass(frozen=True, slots=True)
class Lsa:
    """One LSA as it travels: its header and its octets (header included)."""

    header: LsaHeader
    raw: bytes


@dataclass(frozen=True, slots=True)
class RouterLink:
    """One link of a router-LSA (A.4.2): TOS 0 only, as IOS advertises."""

    link_id: int
    link_data: int
    link_type: int
    metric: int


@dataclass(frozen=True, slots=True)
class RouterLsa:
    """A router-LSA's body (A.4.2): the V, E and B bits and the router's links."""

    flags: int
    links: tuple[RouterLink, ...]


@dataclass(frozen=True, slots=True)
class NetworkLsa:
    """A network-LSA's body (A.4.3): the network's mask and the routers attached to it."""

    network_mask: int
    attached_routers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SummaryLsa:
    """A summary-LSA's body (A.4.4), type 3 or 4 (the mask of a type 4 is 0)."""

    network_mask: int
    metric: int


@dataclass(frozen=True, slots=True)
class AsExternalLsa:
    """An AS-external-LSA's body (A.4.5); ``type2`` is its E bit."""

    network_mask: int
    type2: bool
    metric: int
    forwarding_address: int = 0
    external_route_tag: int = 0


LsaBody = RouterLsa | NetworkLsa | SummaryLsa | AsExternalLsa


def packet_length(data: bytes) -> int:
    """The length field of an encoded packet's header (A.3.1): what debug prints on either
    end, without the MD5 digest or LLS block that follow the packet."""
    return int.from_bytes(data[2:4], "big")


def dbd_options(data: bytes) -> int:
    """The options a Database Description packet carries (A.3.3), as encoded: without the
    L bit when MD5 authentication leaves out the LLS block."""
    return data[_HEADER.size + 8 + 2]


def lsa_checksum(raw: bytes) -> int:
    """The LS checksum (12.1.7) of an LSA: the Fletcher checksum of RFC 905 annex B over all
    its octets but the age, with the checksum field (octets 16-17) taken as zero."""
    data = raw[2:16] + b"\0\0" + raw[18:]
    n = len(data)
    c0 = sum(data) % 255
    c1 = sum(map(mul, data, range(n, 0, -1))) % 255
    x = ((n - 15) * c0 - c1) % 255  # the field is at octet 14 of what is summed
    if x <= 0:
        x += 255
    y = 510 - c0 - x
    if y > 255:
        y -= 255
    return (x << 8) | y


def lsa_checksum_ok(raw: bytes) -> bool:
    """Whether an LSA's checksum is right: both Fletcher sums of its octets (age aside) are
    zero, modulo 255."""
    data = raw[2:]
    n = len(data)
    return (sum(data) % 255 == 0 and sum(map(mul, data, range(n, 0, -1))) % 255 == 0
            and raw[16:18] != b"\0\0")


def pull_lsa_header(data: bytes, offset: int = 0) -> LsaHeader:
    """The LSA header at ``offset``."""
    if len(data) < offset + LSA_HEADER_LEN:
        raise OspfError("truncated LSA header")
    return LsaHeader(*_LSA_HEADER.unpack_from(data, offset))


def push_lsa_header(header: LsaHeader) -> bytes:
    return _LSA_HEADER.pack(header.ls_age, header.options, header.ls_type,
                            header.link_state_id, header.advertising_router,
                            header.ls_sequence_number, header.ls_checksum, header.length)


def pull_lsa(data: bytes, offset: int = 0) -> Lsa:
    """The LSA at ``offset`` (its length from its header)."""
    header = pull_lsa_header(data, offset)
    if header.length < LSA_HEADER_LEN or offset + header.length > len(data):
        raise OspfError(f"LSA length {header.length} does not fit")
    return Lsa(header, bytes(data[offset:offset + header.length]))


def with_age(lsa: Lsa, age: int) -> Lsa:
    """The same LSA with another LS age (the checksum does not cover it)."""
    header = lsa.header
    return Lsa(LsaHeader(age, header.options, header.ls_type, header.link_state_id,
                         header.advertising_router, header.ls_sequence_number,
                         header.ls_checksum, header.length),
               age.to_bytes(2, "big") + lsa.raw[2:])


def _pull_router(body: bytes) -> RouterLsa:
    if len(body) < 4:
        raise OspfError("router-LSA too short")
    flags, count = body[0], int.from_bytes(body[2:4], "big")
    links = []
    at = 4
    for _ in range(count):
        if at + 12 > len(body):
            raise OspfError("router-LSA link truncated")
        link_id, link_data, link_type, tos_count, metric = _LINK.unpack_from(body, at)
        links.append(RouterLink(link_id, link_data, link_type, metric))
        at += 12 + 4 * tos_count
    return RouterLsa(flags, tuple(links))


def _push_router(b: Any) -> bytes:
    out = [bytes([b.flags, 0]), len(b.links).to_bytes(2, "big")]
    out += [_LINK.pack(k.link_id, k.link_data, k.link_type, 0, k.metric) for k in b.links]
    return b"".join(out)


def _pull_network(body: bytes) -> NetworkLsa:
    if len(body) < 4 or len(body) % 4:
        raise OspfError("network-LSA length")
    words = struct.unpack(f"!{len(body) // 4}I", body)
    return NetworkLsa(words[0], tuple(words[1:]))


def _push_network(b: Any) -> bytes:
    return struct.pack(f"!{1 + len(b.attached_routers)}I", b.network_mask, *b.attached_routers)


def _pull_summary(body: bytes) -> SummaryLsa:
    if len(body) < 8:
        raise OspfError("summary-LSA too short")
    mask, metric = _U32.unpack_from(body)[0], int.from_bytes(body[5:8], "big")
    return SummaryLsa(mask, metric)


def _push_summary(b: Any) -> bytes:
    return _U32.pack(b.network_mask) + b.metric.to_bytes(4, "big")


def _pull_external(body: bytes) -> AsExternalLsa:
    if len(body) < 16:
        raise OspfError("AS-external-LSA too short")
    mask, flags_metric, forwarding, tag = struct.unpack_from("!IIII", body)
    return AsExternalLsa(mask, bool(flags_metric & 0x80000000), flags_metric & 0xFFFFFF,
                         forwarding, tag)


def _push_external(b: Any) -> bytes:
    return struct.pack("!IIII", b.network_mask, (0x80000000 if b.type2 else 0) | b.metric,
                       b.forwarding_address, b.external_route_tag)


_BODY_CODECS: dict[int, tuple[Callable[[bytes], LsaBody], Callable[[Any], bytes]]] = {
    LsType.ROUTER: (_pull_router, _push_router),
    LsType.NETWORK: (_pull_network, _push_network),
    LsType.SUMMARY_NETWORK: (_pull_summary, _push_summary),
    LsType.SUMMARY_ASBR: (_pull_summary, _push_summary),
    LsType.AS_EXTERNAL: (_pull_external, _push_external),
}


def known_ls_type(ls_type: int) -> bool:
    return ls_type in _BODY_CODECS


def pull_lsa_body(lsa: Lsa) -> LsaBody:
    """The parsed body of ``lsa`` (OspfError for an unknown type or a malformed body)."""
    codec = _BODY_CODECS.get(lsa.header.ls_type)
    if codec is None:
        raise OspfError(f"unknown LS type {lsa.header.ls_type}")
    return codec[0](lsa.raw[LSA_HEADER_LEN:])


def push_lsa(ls_type: int, link_state_id: int, advertising_router: int, sequence: int,
             body: LsaBody, *, options: int, ls_age: int = 0) -> Lsa:
    """Build an LSA: its length and checksum computed."""
    payload = _BODY_CODECS[ls_type][1](body)
    length = LSA_HEADER_LEN + len(payload)
    raw = push_lsa_header(LsaHeader(ls_age, options, ls_type, link_state_id,
                                    advertising_router, sequence, 0, length)) + payload
    checksum = lsa_checksum(raw)
    raw = raw[:16] + checksum.to_bytes(2, "big") + raw[18:]
    return Lsa(LsaHeader(ls_age, options, ls_type, link_state_id, advertising_router,
                         sequence, checksum, length), raw)


# ============================================================================ packets


@dataclass(frozen=True, slots=True)
class HelloPacket:
    """The Hello packet (A.3.2)."""

    network_mask: int
    hello_interval: int
    options: int
    router_priority: int
    router_dead_interval: int
    designated_router: int = 0
    backup_designated_router: int = 0
    neighbors: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class DatabaseDescription:
    """The Database Description packet (A.3.3)."""

    interface_mtu: int
    options: int
    flags: int
    dd_sequence_number: int
    lsa_headers: tuple[LsaHeader, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkStateRequest:
    """The Link State Request packet (A.3.4): the LSAs asked for."""

    requests: tuple[LsaKey, ...]


@dataclass(frozen=True, slots=True)
class LinkStateUpdate:
    """The Link State Update packet (A.3.5)."""

    lsas: tuple[Lsa, ...]


@dataclass(frozen=True, slots=True)
class LinkStateAck:
    """The Link State Acknowledgment packet (A.3.6)."""

    lsa_headers: tuple[LsaHeader, ...]


OspfBody = HelloPacket | DatabaseDescription | LinkStateRequest | LinkStateUpdate | LinkStateAck


@dataclass(frozen=True, slots=True)
class OspfPacket:
    """A whole OSPF packet; ``lls_options`` is the Extended Options TLV of the LLS block
    after it (None: no block). ``length`` is the Packet length field (the digest and the
    LLS block come after it)."""

    header: OspfHeader
    body: OspfBody
    lls_options: int | None = None
    length: int = 0


def _pull_hello(body: bytes) -> HelloPacket:
    if len(body) < 20 or len(body) % 4:
        raise OspfError("hello length")
    mask, hello, options, priority, dead, dr, bdr = _HELLO.unpack_from(body)
    neighbors = struct.unpack_from(f"!{(len(body) - 20) // 4}I", body, 20)
    return HelloPacket(mask, hello, options, priority, dead, dr, bdr, neighbors)


def _push_hello(b: Any) -> bytes:
    return (_HELLO.pack(b.network_mask, b.hello_interval, b.options, b.router_priority,
                        b.router_dead_interval, b.designated_router,
                        b.backup_designated_router)
            + struct.pack(f"!{len(b.neighbors)}I", *b.neighbors))


def _lsa_headers(data: bytes) -> tuple[LsaHeader, ...]:
    if len(data) % LSA_HEADER_LEN:
        raise OspfError("LSA header list length")
    return tuple(LsaHeader(*_LSA_HEADER.unpack_from(data, at))
                 for at in range(0, len(data), LSA_HEADER_LEN))


def _pull_dbd(body: bytes) -> DatabaseDescription:
    if len(body) < 8:
        raise OspfError("database description too short")
    mtu, options, flags, sequence = _DBD.unpack_from(body)
    return DatabaseDescription(mtu, options, flags, sequence, _lsa_headers(body[8:]))


def _push_dbd(b: Any) -> bytes:
    return (_DBD.pack(b.interface_mtu, b.options, b.flags, b.dd_sequence_number)
            + b"".join(push_lsa_header(h) for h in b.lsa_headers))


def _pull_lsr(body: bytes) -> LinkStateRequest:
    if len(body) % 12:
        raise OspfError("link state request length")
    return LinkStateRequest(tuple(_LSR.unpack_from(body, at) for at in range(0, len(body), 12)))


def _push_lsr(b: Any) -> bytes:
    return b"".join(_LSR.pack(*key) for key in b.requests)


def _pull_lsu(body: bytes) -> LinkStateUpdate:
    if len(body) < 4:
        raise OspfError("link state update too short")
    count = _U32.unpack_from(body)[0]
    lsas = []
    at = 4
    for _ in range(count):
        lsa = pull_lsa(body, at)
        lsas.append(lsa)
        at += lsa.header.length
    return LinkStateUpdate(tuple(lsas))


def _push_lsu(b: Any) -> bytes:
    return _U32.pack(len(b.lsas)) + b"".join(lsa.raw for lsa in b.lsas)


def _pull_ack(body: bytes) -> LinkStateAck:
    return LinkStateAck(_lsa_headers(body))


def _push_ack(b: Any) -> bytes:
    return b"".join(push_lsa_header(h) for h in b.lsa_headers)


#: The body codec of each packet type, and its type number.
_PACKET_CODECS: dict[int, tuple[Callable[[bytes], OspfBody], Callable[[Any], bytes]]] = {
    PacketType.HELLO: (_pull_hello, _push_hello),
    PacketType.DATABASE_DESCRIPTION: (_pull_dbd, _push_dbd),
    PacketType.LINK_STATE_REQUEST: (_pull_lsr, _push_lsr),
    PacketType.LINK_STATE_UPDATE: (_pull_lsu, _push_lsu),
    PacketType.LINK_STATE_ACK: (_pull_ack, _push_ack),
}
_TYPE_OF: dict[type, int] = {HelloPacket: PacketType.HELLO,
                             DatabaseDescription: PacketType.DATABASE_DESCRIPTION,
                             LinkStateRequest: PacketType.LINK_STATE_REQUEST,
                             LinkStateUpdate: PacketType.LINK_STATE_UPDATE,
                             LinkStateAck: PacketType.LINK_STATE_ACK}


def _pull_lls(data: bytes) -> int | None:
    """The Extended Options of an LLS data block (RFC 5613 2.2), 0 if it has none."""
    if len(data) < 4:
        raise OspfError("LLS block truncated")
    _, words = _LLS.unpack_from(data)
    end = 4 * words
    if end < 4 or end > len(data):
        raise OspfError("LLS block length")
    at, options = 4, 0
    while at + 4 <= end:
        tlv_type, length = _TLV.unpack_from(data, at)
        if at + 4 + length > end:
            raise OspfError("LLS TLV length")
        if tlv_type == LLS_EXTENDED_OPTIONS and length == 4:
            options = _U32.unpack_from(data, at + 4)[0]
        at += 4 + (length + 3) // 4 * 4
    return options


def _push_lls(options: int) -> bytes:
    tlvs = _TLV.pack(LLS_EXTENDED_OPTIONS, 4) + _U32.pack(options)
    block = _LLS.pack(0, 1 + len(tlvs) // 4) + tlvs
    return _LLS.pack(internet_checksum(block), 1 + len(tlvs) // 4) + tlvs


def pull_packet(data: bytes) -> OspfPacket:
    """Decode an OSPF packet (the payload of an IP datagram of protocol 89). The checksum is
    verified for AuType 0 and 1; a cryptographic digest is the receiver's to check."""
    if len(data) < HEADER_LEN:
        raise OspfError(f"OSPF packet too short: {len(data)} bytes")
    version, ptype, length, router_id, area_id, checksum, autype = _HEADER.unpack_from(data)
    if version != OSPF_VERSION:
        raise OspfError(f"OSPF version {version}")
    if length < HEADER_LEN or length > len(data):
        raise OspfError(f"OSPF packet length {length}")
    codec = _PACKET_CODECS.get(ptype)
    if codec is None:
        raise OspfError(f"OSPF packet type {ptype}")
    auth = bytes(data[16:24])
    trailer = length
    if autype == AuType.CRYPTOGRAPHIC:
        _, key_id, auth_len, sequence = _CRYPTO.unpack(auth)
        if auth_len != MD5_DIGEST_LEN or length + auth_len > len(data):
            raise OspfError("cryptographic authentication data missing")
        header = OspfHeader(ptype, router_id, area_id, autype, bytes(8), key_id, sequence)
        trailer += auth_len
    else:
        summed = bytes(data[:16]) + bytes(8) + bytes(data[24:length])
        if internet_checksum(summed[:12] + b"\0\0" + summed[14:]) != checksum:
            raise OspfError("OSPF checksum")
        header = OspfHeader(ptype, router_id, area_id, autype, auth)
    body = codec[0](bytes(data[HEADER_LEN:length]))
    lls = None
    if isinstance(body, HelloPacket | DatabaseDescription) and body.options & OPTION_L:
        lls = _pull_lls(bytes(data[trailer:]))
    return OspfPacket(header, body, lls, length)


def push_packet(packet: OspfPacket, md5_key: bytes | None = None) -> bytes:
    """Encode ``packet``: the length and checksum computed (AuType 0 and 1), or with
    ``md5_key`` the keyed MD5 digest appended (AuType 2, D.4.3); then the LLS block if
    ``lls_options`` is set."""
    h = packet.header
    body = _PACKET_CODECS[_TYPE_OF[type(packet.body)]][1](packet.body)
    length = HEADER_LEN + len(body)
    ptype = _TYPE_OF[type(packet.body)]
    if h.autype == AuType.CRYPTOGRAPHIC:
        auth = _CRYPTO.pack(0, h.key_id, MD5_DIGEST_LEN, h.crypto_sequence)
        data = _HEADER.pack(OSPF_VERSION, ptype, length, h.router_id, h.area_id, 0,
                            h.autype) + auth + body
        key = (md5_key or b"")[:16].ljust(16, b"\0")
        data += hashlib.md5(data + key).digest()
    else:
        zeroed = _HEADER.pack(OSPF_VERSION, ptype, length, h.router_id, h.area_id, 0,
                              h.autype) + bytes(8) + body
        checksum = internet_checksum(zeroed)
        data = (_HEADER.pack(OSPF_VERSION, ptype, length, h.router_id, h.area_id, checksum,
                             h.autype) + h.authentication[:8].ljust(8, b"\0") + body)
    if packet.lls_options is not None:
        data += _push_lls(packet.lls_options)
    return data


def md5_digest_ok(data: bytes, packet: OspfPacket, key: bytes) -> bool:
    """Whether the keyed MD5 digest after ``packet`` (its bytes ``data``) is the one
    ``key`` gives (D.4.3)."""
    signed = data[:packet.length]
    digest = data[packet.length:packet.length + MD5_DIGEST_LEN]
    return hashlib.md5(signed + key[:16].ljust(16, b"\0")).digest() == digest
