"""AH packet codec for IPv4 (RFC 4302): transport and tunnel mode, alone or outside ESP.

Theory of operation
-------------------
AH authenticates the IP header as well as the payload, so the ICV cannot cover fields that
routers change in flight.  For IPv4 (RFC 4302 3.3.3.1.1) those mutable fields -- TOS, flags and
fragment offset, TTL, header checksum -- and every mutable option are replaced by zeros in the
copy the ICV is computed over; everything else (version, lengths, identification, protocol,
addresses, immutable options) is covered, so changing the TTL leaves the ICV valid while
changing an address breaks it.  The ICV field itself is zero during the computation.

AH header (RFC 4302 section 2)::

    0                   1                   2                   3
    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   | Next Header   |  Payload Len  |          RESERVED             |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |                 Security Parameters Index (SPI)               |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |                    Sequence Number Field                      |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |                Integrity Check Value-ICV (variable)           |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

Payload Len is the AH length in 32-bit words minus 2.  All HMAC transforms here have ICVs that
are multiples of 4 bytes, so no ICV padding is needed for IPv4.

Transport mode inserts AH between the IPv4 header and its payload; tunnel mode builds a new
outer header and carries the whole inner packet (next header 4).  An AH+ESP transform set
(``ah-sha-hmac esp-aes``) applies ESP first and AH outside it: the packet on the wire is
``IPv4 | AH | ESP | ...`` with one IP header, which is what the ``bundle_*`` helpers build.
Inbound processing checks the replay window before the ICV and advances it only after the ICV
verified, as for ESP.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from hmac import compare_digest
from typing import Any

from iosim.ipsec import esp
from iosim.ipsec.esp import (
    IPPROTO_IPIP,
    Address,
    AuthenticationError,
    EspSa,
    IvSource,
    MalformedPacketError,
    ReplayError,
    UnknownSpiError,
    build_ipv4_header,
    parse_ipv4_header,
    rewrite_ipv4_header,
)
from iosim.ipsec.replay import ReplayStatus, ReplayWindow
from iosim.ipsec.transforms import IntegrityTransform

__all__ = [
    "IPPROTO_AH",
    "AhSa",
    "bundle_decapsulate",
    "bundle_encapsulate",
    "transport_decapsulate",
    "transport_encapsulate",
    "tunnel_decapsulate",
    "tunnel_encapsulate",
]

IPPROTO_AH = 51

_AH = struct.Struct(">BBHII")  # next header, payload len, reserved, SPI, sequence number

# RFC 4302 Appendix A.1: IPv4 options that are immutable and therefore covered by the ICV.
# 0 End of Options List, 1 No Operation, 130 Security, 133 Extended Security,
# 134 Commercial Security, 148 Router Alert, 149 Sender Directed Multi-Destination Delivery.
_IMMUTABLE_OPTIONS = frozenset({0, 1, 130, 133, 134, 148, 149})


@dataclass(frozen=True, slots=True, eq=False)
class AhSa:
    """One direction of an AH Security Association: SPI, HMAC transform and key."""

    spi: int
    integrity: IntegrityTransform
    key: bytes
    _pads: tuple[Any, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 256 <= self.spi <= 0xFFFFFFFF:
            raise ValueError(f"SPI 0x{self.spi:x} is reserved or out of range (RFC 4302 2.4)")
        if self.integrity.protocol != "ah":
            raise ValueError(f"{self.integrity.name} is not an AH transform")
        mac = self.integrity.new_mac(self.key)
        object.__setattr__(self, "_pads", (mac._inner, mac._outer))

    @classmethod
    def from_keymat(cls, spi: int, integrity: IntegrityTransform, keymat: bytes) -> AhSa:
        """Take the HMAC key from KEYMAT as IKE derives it for AH (RFC 2409 5.5: the first
        ``integrity.key_size`` bytes of the KEYMAT computed with protocol AH and ``spi``)."""
        if len(keymat) < integrity.key_size:
            raise ValueError(f"KEYMAT is {len(keymat)} bytes, {integrity.key_size} needed")
        return cls(spi, integrity, keymat[: integrity.key_size])

    @property
    def header_size(self) -> int:
        """Bytes of AH header including the ICV."""
        return 12 + self.integrity.icv_size

    def icv(self, data: bytes) -> bytes:
        """Truncated HMAC over the ICV input built by the packet functions."""
        inner_pad, outer_pad = self._pads
        inner = inner_pad.copy()
        inner.update(data)
        outer = outer_pad.copy()
        outer.update(inner.digest())
        return bytes(outer.digest()[: self.integrity.icv_size])


def _zero_mutable(header: bytes) -> bytes:
    """The IPv4 header as the ICV sees it: mutable fields and mutable options zeroed."""
    h = bytearray(header)
    h[1] = 0  # TOS (DSCP/ECN)
    h[6:8] = b"\0\0"  # flags and fragment offset
    h[8] = 0  # TTL
    h[10:12] = b"\0\0"  # header checksum
    i = 20
    while i < len(h):
        kind = h[i]
        if kind == 0:  # end of option list: the rest is padding
            break
        if kind == 1:
            i += 1
            continue
        length = h[i + 1] if i + 1 < len(h) else 0
        if length < 2 or i + length > len(h):
            raise MalformedPacketError("malformed IPv4 option")
        if kind not in _IMMUTABLE_OPTIONS:
            h[i : i + length] = bytes(length)
        i += length
    return bytes(h)


def _ah_packet(sa: AhSa, seq: int, header: bytes, nh: int, payload: bytes) -> bytes:
    """Insert AH after ``header`` (already the final outer header) and fill in the ICV."""
    if not 0 < seq <= 0xFFFFFFFF:
        raise ValueError(f"AH sequence number {seq} out of range")
    size = sa.header_size
    new_header = rewrite_ipv4_header(header, IPPROTO_AH, len(header) + size + len(payload))
    ah_fixed = _AH.pack(nh, size // 4 - 2, 0, sa.spi, seq)
    icv = sa.icv(
        b"".join((_zero_mutable(new_header), ah_fixed, bytes(size - 12), payload))
    )
    return b"".join((new_header, ah_fixed, icv, payload))


def _ah_open(
    sa: AhSa, packet: bytes, replay: ReplayWindow | None
) -> tuple[int, bytes, int, bytes]:
    """Verify an IPv4+AH packet; return ``(seq, ip header, next header, payload)``."""
    ihl, protocol, total = parse_ipv4_header(packet)
    if protocol != IPPROTO_AH:
        raise MalformedPacketError(f"IP protocol {protocol} is not AH")
    size = sa.header_size
    if total < ihl + 12:
        raise MalformedPacketError("truncated AH header")
    nh, plen, _, spi, seq = _AH.unpack_from(packet, ihl)
    if (plen + 2) * 4 != size or total < ihl + size:
        raise MalformedPacketError(f"AH payload length {plen} does not fit the SA")
    if spi != sa.spi:
        raise UnknownSpiError(spi)
    if replay is not None and replay.enabled:
        status = replay.check(seq)
        if status is not ReplayStatus.OK:
            raise ReplayError(seq, status)
    header = packet[:ihl]
    icv_at = ihl + 12
    payload = packet[ihl + size : total]
    expected = sa.icv(
        b"".join((_zero_mutable(header), packet[ihl:icv_at], bytes(size - 12), payload))
    )
    if not compare_digest(expected, packet[icv_at : ihl + size]):
        raise AuthenticationError(f"AH ICV mismatch, SPI 0x{spi:08x} seq {seq}")
    if replay is not None:
        replay.update(seq)
    return seq, header, nh, payload


def transport_encapsulate(sa: AhSa, seq: int, packet: bytes) -> bytes:
    """Transport mode: ``IPv4 | AH | original payload`` with protocol 51 in the IP header."""
    ihl, protocol, total = parse_ipv4_header(packet)
    if int.from_bytes(packet[6:8]) & 0x3FFF:
        raise ValueError("transport-mode AH cannot be applied to an IP fragment")
    return _ah_packet(sa, seq, packet[:ihl], protocol, packet[ihl:total])


def transport_decapsulate(
    sa: AhSa, packet: bytes, replay: ReplayWindow | None = None
) -> tuple[int, bytes]:
    """Verify and strip transport-mode AH; return ``(seq, the IPv4 packet without AH)``."""
    seq, header, nh, payload = _ah_open(sa, packet, replay)
    return seq, rewrite_ipv4_header(header, nh, len(header) + len(payload)) + payload


def tunnel_encapsulate(
    sa: AhSa,
    seq: int,
    inner: bytes,
    src: Address,
    dst: Address,
    *,
    ident: int = 0,
    ttl: int = 64,
    df: bool | None = None,
) -> bytes:
    """Tunnel mode: ``outer IPv4 | AH (next header 4) | inner IPv4 packet``.

    TOS and (unless ``df`` is given) DF are copied from the inner header.
    """
    parse_ipv4_header(inner)
    if df is None:
        df = bool(inner[6] & 0x40)
    outer = build_ipv4_header(src, dst, IPPROTO_AH, 0, ident=ident, ttl=ttl,
                              tos=inner[1], df=df)
    return _ah_packet(sa, seq, outer, IPPROTO_IPIP, inner)


def tunnel_decapsulate(
    sa: AhSa, packet: bytes, replay: ReplayWindow | None = None
) -> tuple[int, bytes]:
    """Verify and strip tunnel-mode AH; return ``(seq, inner IPv4 packet)``."""
    seq, _, nh, inner = _ah_open(sa, packet, replay)
    if nh != IPPROTO_IPIP:
        raise MalformedPacketError(f"tunnel-mode AH carries next header {nh}, not IPv4")
    parse_ipv4_header(inner)
    return seq, inner


def bundle_encapsulate(
    ah_sa: AhSa,
    ah_seq: int,
    esp_sa: EspSa,
    esp_seq: int,
    iv_or_rand: IvSource,
    packet: bytes,
    *,
    tunnel: tuple[Address, Address] | None = None,
    ident: int = 0,
    ttl: int = 64,
) -> bytes:
    """AH outside ESP: ``IPv4 | AH | ESP | payload`` (transport) or ``... | ESP | inner IPv4``.

    ``tunnel=(src, dst)`` selects tunnel mode with that outer header; otherwise transport mode.
    ESP is applied first, then AH authenticates the result including the outer header.
    """
    if tunnel is None:
        protected = esp.transport_encapsulate(esp_sa, esp_seq, iv_or_rand, packet)
    else:
        src, dst = tunnel
        protected = esp.tunnel_encapsulate(
            esp_sa, esp_seq, iv_or_rand, packet, src, dst, ident=ident, ttl=ttl
        )
    return transport_encapsulate(ah_sa, ah_seq, protected)


def bundle_decapsulate(
    ah_sa: AhSa,
    esp_sa: EspSa,
    packet: bytes,
    *,
    tunnel: bool,
    ah_replay: ReplayWindow | None = None,
    esp_replay: ReplayWindow | None = None,
) -> tuple[int, int, bytes]:
    """Undo :func:`bundle_encapsulate` (AH verified first); return ``(ah_seq, esp_seq, packet)``.

    In tunnel mode the result is the inner packet, in transport mode the original packet.
    """
    ah_seq, inner = transport_decapsulate(ah_sa, packet, ah_replay)
    if tunnel:
        esp_seq, result = esp.tunnel_decapsulate(esp_sa, inner, esp_replay)
    else:
        esp_seq, result = esp.transport_decapsulate(esp_sa, inner, esp_replay)
    return ah_seq, esp_seq, result
