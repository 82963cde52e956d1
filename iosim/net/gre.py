"""Generic Routing Encapsulation as real bytes: RFC 2784, with the key and sequence number
extensions of RFC 2890.

The GRE header sits between the delivery (outer) IPv4 header, protocol 47, and the payload
packet::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |C| |K|S| Reserved0       | Ver |         Protocol Type         |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |      Checksum (optional)      |       Reserved1 (Optional)    |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                         Key (optional)                        |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                 Sequence Number (Optional)                    |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

* C (bit 0): the Checksum and Reserved1 fields are present; the checksum is the Internet
  checksum of the GRE header and the payload (RFC 2784 2.5).
* K (bit 2) and S (bit 3): the Key and Sequence Number fields are present (RFC 2890 2.1).
* Bits 1, 4 and 5 belong to RFC 1701's routing and strict source route options: a receiver
  that does not implement RFC 1701 MUST discard a packet with any of them set (RFC 2784
  2.3). Bits 6-12 MUST be ignored on receipt, and Ver must be 0 (2.3.1).
* Protocol Type is an EtherType: 0x0800 for IPv4. Cisco's GRE keepalive is a GRE packet
  of Protocol Type 0 with no payload, carried inside GRE to the far end, which sends it
  back as it is (see :mod:`iosim.net.tunnel`).

``pull_gre`` is strict (:class:`~iosim.net.packets.PacketError` for anything RFC 2784 tells
a receiver to discard, or a bad checksum); ``push_gre`` derives the flags and the checksum,
so ``pull_gre(push_gre(x)) == x``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from iosim.net.packets import PacketError, internet_checksum

__all__ = ["GRE_KEEPALIVE", "PROTOCOL_IPV4", "GrePacket", "gre_header_length", "pull_gre",
           "push_gre"]

PROTOCOL_IPV4 = 0x0800
GRE_KEEPALIVE = 0x0000  # the Protocol Type of a Cisco GRE keepalive

_BASE = struct.Struct("!HH")
_FLAG_C = 0x8000
_FLAG_R = 0x4000  # RFC 1701 routing present: RFC 2784 receivers discard
_FLAG_K = 0x2000
_FLAG_S = 0x1000
_FLAG_SSR = 0x0800  # RFC 1701 strict source route: discard
_RECUR = 0x0700  # RFC 1701 recursion control: discard when non-zero
_VERSION = 0x0007
_DISCARD = _FLAG_R | _FLAG_SSR | _RECUR


@dataclass(frozen=True, slots=True)
class GrePacket:
    """A GRE header and what it carries. ``checksum``: the C bit (its value is derived);
    ``key`` and ``sequence``: the RFC 2890 fields, None when absent."""

    protocol_type: int
    payload: bytes = b""
    checksum: bool = False
    key: int | None = None
    sequence: int | None = None


def gre_header_length(checksum: bool = False, key: bool = False, sequence: bool = False) -> int:
    """Octets of a GRE header with those optional fields (4 to 16)."""
    return 4 + 4 * (checksum + key + sequence)


def pull_gre(data: bytes) -> GrePacket:
    """Decode a GRE packet (the payload of an IPv4 datagram of protocol 47)."""
    if len(data) < 4:
        raise PacketError(f"GRE packet too short: {len(data)} bytes")
    flags, protocol_type = _BASE.unpack_from(data)
    if flags & _DISCARD:
        raise PacketError(f"GRE flags {flags >> 8:#04x} ask for RFC 1701 options")
    if flags & _VERSION:
        raise PacketError(f"GRE version {flags & _VERSION}, expected 0")
    checksum, key, sequence = bool(flags & _FLAG_C), bool(flags & _FLAG_K), bool(flags & _FLAG_S)
    at = gre_header_length(checksum, key, sequence)
    if len(data) < at:
        raise PacketError(f"GRE header of {at} bytes truncated to {len(data)}")
    if checksum and internet_checksum(data):
        raise PacketError("bad GRE checksum")
    offset = 8 if checksum else 4
    key_value = None
    if key:
        key_value = int.from_bytes(data[offset:offset + 4], "big")
        offset += 4
    sequence_value = int.from_bytes(data[offset:offset + 4], "big") if sequence else None
    return GrePacket(protocol_type, bytes(data[at:]), checksum, key_value, sequence_value)


def push_gre(packet: GrePacket) -> bytes:
    """Encode ``packet``: the flags from the fields present, the checksum computed."""
    if not 0 <= packet.protocol_type <= 0xFFFF:
        raise PacketError(f"GRE protocol type {packet.protocol_type} out of range")
    flags = ((_FLAG_C if packet.checksum else 0) | (_FLAG_K if packet.key is not None else 0)
             | (_FLAG_S if packet.sequence is not None else 0))
    optional = b""
    for value, name in ((packet.key, "key"), (packet.sequence, "sequence number")):
        if value is not None:
            if not 0 <= value <= 0xFFFFFFFF:
                raise PacketError(f"GRE {name} {value} out of range")
            optional += value.to_bytes(4, "big")
    head = _BASE.pack(flags, packet.protocol_type)
    if not packet.checksum:
        return head + optional + packet.payload
    body = optional + packet.payload
    checksum = internet_checksum(head + bytes(4) + body)
    return head + checksum.to_bytes(2, "big") + bytes(2) + body
