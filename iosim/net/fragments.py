"""IPv4 fragmentation and reassembly (RFC 791 section 3.2, RFC 815 hole bookkeeping).

``fragment`` splits a datagram that is larger than the link MTU into fragments whose data
sizes are multiples of 8 octets; ``Reassembler`` puts fragments addressed to this device
back together, keyed by (source, destination, protocol, identification), and forgets an
incomplete datagram after IOS's reassembly timeout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from iosim.net.packets import IPV4_MIN_HEADER_LEN, Ipv4Packet, PacketError, push_ipv4

ETHERNET_MTU = 1500
REASSEMBLY_TIMEOUT = 30.0  # seconds an incomplete datagram is kept
MAX_DATAGRAM = 65535


def fragment(packet: Ipv4Packet, mtu: int = ETHERNET_MTU) -> list[bytes]:
    """The fragments of ``packet`` for a link of ``mtu`` octets (the packet itself if it fits).

    The caller checks DF first. Options are copied into every fragment (a simplification:
    RFC 791 copies only options with the copied flag; iosim sends none).
    """
    whole = push_ipv4(packet)
    if len(whole) <= mtu:
        return [whole]
    room = (mtu - IPV4_MIN_HEADER_LEN - len(packet.options)) // 8 * 8
    if room <= 0:
        raise PacketError(f"MTU {mtu} too small to fragment")
    data = packet.payload
    out = []
    for start in range(0, len(data), room):
        chunk = data[start:start + room]
        last = start + room >= len(data)
        out.append(push_ipv4(Ipv4Packet(
            tos=packet.tos, identification=packet.identification, df=False,
            mf=packet.mf or not last, fragment_offset=packet.fragment_offset + start // 8,
            ttl=packet.ttl, protocol=packet.protocol, src=packet.src, dst=packet.dst,
            options=packet.options, payload=chunk)))
    return out


@dataclass
class _Partial:
    first_seen: float
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset in octets -> data
    total: int | None = None  # known once the last fragment (MF clear) arrives
    header: Ipv4Packet | None = None  # the first fragment's header fields


@dataclass
class Reassembler:
    """Fragments addressed to us, waiting for the rest of their datagram."""

    partial: dict[tuple[int, int, int, int], _Partial] = field(default_factory=dict)
    timed_out: int = 0

    def add(self, packet: Ipv4Packet, now: float) -> Ipv4Packet | None:
        """Take one fragment; return the whole datagram once it is complete."""
        self._expire(now)
        key = (packet.src, packet.dst, packet.protocol, packet.identification)
        part = self.partial.setdefault(key, _Partial(now))
        offset = packet.fragment_offset * 8
        if offset + len(packet.payload) > MAX_DATAGRAM:
            del self.partial[key]
            return None
        part.pieces[offset] = packet.payload
        if offset == 0:
            part.header = packet
        if not packet.mf:
            part.total = offset + len(packet.payload)
        if part.total is None or part.header is None:
            return None
        data = bytearray()
        for start in sorted(part.pieces):
            if start > len(data):
                return None  # a hole remains
            piece = part.pieces[start]
            data[start:start + len(piece)] = piece
        if len(data) < part.total:
            return None
        del self.partial[key]
        h = part.header
        return Ipv4Packet(tos=h.tos, identification=h.identification, df=h.df, mf=False,
                          fragment_offset=0, ttl=h.ttl, protocol=h.protocol, src=h.src,
                          dst=h.dst, options=h.options, payload=bytes(data[:part.total]))

    def _expire(self, now: float) -> None:
        for key in [k for k, p in self.partial.items() if now - p.first_seen > REASSEMBLY_TIMEOUT]:
            del self.partial[key]
            self.timed_out += 1
