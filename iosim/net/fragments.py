"""IPv4 fragmentation and reassembly (RFC 791 section 3.2, RFC 815 hole bookkeeping).

``fragment`` splits a datagram that is larger than the link MTU into fragments whose data
sizes are multiples of 8 octets; ``Reassembler`` puts fragments addressed to this device
back together, keyed by (source, destination, protocol, identification), and forgets an
incomplete datagram after the reassembly timeout.

Reassembly is what a hostile sender attacks first: every first fragment of a datagram that
never completes costs memory until its timeout. So the reassembler is bounded, as IOS's
``ip virtual-reassembly`` is (its defaults: 16 reassemblies, 32 fragments each, 3 s):

* at most :data:`MAX_REASSEMBLIES` datagrams in reassembly at once (IOS's 16 is for one
  interface's virtual reassembly; this one serves every datagram for the router, the
  fragmented ESP of all its peers included);
* at most :data:`MAX_FRAGMENTS` fragments per datagram (IOS's 32 would refuse a legal
  datagram sent over a small MTU; 256 covers 64 KB in 256-octet pieces);
* at most :data:`MAX_REASSEMBLY_OCTETS` octets held over all of them.

A fragment beyond a cap is dropped and counted (``dropped_reassemblies`` for one of a
datagram the full table could not take, ``dropped_fragments`` for every fragment refused);
a datagram that would exceed 64 KB is dropped whole. Expiry costs nothing per fragment:
every datagram gets the same timeout, so their deadlines come in the order they started,
and the oldest are looked at first -- only those that go.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from iosim.net.packets import IPV4_MIN_HEADER_LEN, Ipv4Packet, PacketError, push_ipv4

ETHERNET_MTU = 1500
REASSEMBLY_TIMEOUT = 30.0  # seconds an incomplete datagram is kept
MAX_DATAGRAM = 65535
MAX_REASSEMBLIES = 64  # datagrams in reassembly at once
MAX_FRAGMENTS = 256  # fragments of one datagram
MAX_REASSEMBLY_OCTETS = 512 * 1024  # octets held in reassembly, all datagrams together


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
    deadline: float  # forgotten once now passes it (first fragment + REASSEMBLY_TIMEOUT)
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset in octets -> data
    held: int = 0  # octets in ``pieces``
    total: int | None = None  # known once the last fragment (MF clear) arrives
    header: Ipv4Packet | None = None  # the first fragment's header fields


@dataclass
class Reassembler:
    """Fragments addressed to us, waiting for the rest of their datagram (bounded: see the
    module docstring)."""

    partial: OrderedDict[tuple[int, int, int, int], _Partial] = field(
        default_factory=OrderedDict)  # oldest (earliest deadline) first
    held: int = 0  # octets held in all partial datagrams
    timed_out: int = 0  # incomplete datagrams forgotten at their deadline
    dropped_reassemblies: int = 0  # fragments of a datagram not held, refused: table full
    dropped_fragments: int = 0  # fragments refused: too many, too many octets, too large
    max_reassemblies: int = MAX_REASSEMBLIES
    max_fragments: int = MAX_FRAGMENTS
    max_octets: int = MAX_REASSEMBLY_OCTETS

    def add(self, packet: Ipv4Packet, now: float) -> Ipv4Packet | None:
        """Take one fragment; return the whole datagram once it is complete."""
        self._expire(now)
        key = (packet.src, packet.dst, packet.protocol, packet.identification)
        offset = packet.fragment_offset * 8
        size = len(packet.payload)
        part = self.partial.get(key)
        if offset + size > MAX_DATAGRAM:
            self.dropped_fragments += 1
            if part is not None:
                self._drop(key, part)
            return None
        if part is None:
            if len(self.partial) >= self.max_reassemblies:
                self.dropped_reassemblies += 1
                self.dropped_fragments += 1
                return None
            part = self.partial[key] = _Partial(now + REASSEMBLY_TIMEOUT)
        replaced = len(part.pieces.get(offset, b""))
        if (offset not in part.pieces and len(part.pieces) >= self.max_fragments) or (
                self.held - replaced + size > self.max_octets):
            self.dropped_fragments += 1
            if not part.pieces:
                del self.partial[key]
            return None
        part.pieces[offset] = packet.payload
        part.held += size - replaced
        self.held += size - replaced
        if offset == 0:
            part.header = packet
        if not packet.mf:
            part.total = offset + size
        if part.total is None or part.header is None or part.held < part.total:
            return None  # something is missing (overlaps only make it hold more)
        data = bytearray()
        for start in sorted(part.pieces):
            if start > len(data):
                return None  # a hole remains
            piece = part.pieces[start]
            data[start:start + len(piece)] = piece
        if len(data) < part.total:
            return None
        self._drop(key, part)
        h = part.header
        return Ipv4Packet(tos=h.tos, identification=h.identification, df=h.df, mf=False,
                          fragment_offset=0, ttl=h.ttl, protocol=h.protocol, src=h.src,
                          dst=h.dst, options=h.options, payload=bytes(data[:part.total]))

    def _drop(self, key: tuple[int, int, int, int], part: _Partial) -> None:
        del self.partial[key]
        self.held -= part.held

    def _expire(self, now: float) -> None:
        """Forget the datagrams past their deadline: the oldest first, so this looks only at
        those that go (and one more)."""
        partial = self.partial
        while partial:
            key, part = next(iter(partial.items()))
            if now <= part.deadline:
                return
            self._drop(key, part)
            self.timed_out += 1
