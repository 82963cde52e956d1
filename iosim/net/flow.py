"""What a packet filter looks at: a datagram's flow, and the first ACL entry it matches.

Crypto maps (which traffic to protect), NAT (which traffic to translate) and interface
filters all ask the same questions of the same access lists.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from iosim.config.model import AccessList, AclEntry
from iosim.net.packets import IcmpType, IpProtocol, Ipv4Packet

_ECHO_TYPES = frozenset((IcmpType.ECHO, IcmpType.ECHO_REPLY))
_PORTS = struct.Struct("!HH")


@dataclass(frozen=True, slots=True)
class Flow:
    """What NAT looks at in a datagram: protocol, addresses and ports.

    For an ICMP echo (request or reply) both ports are its identifier. ``fragment`` is set for
    a non-first fragment, which carries no transport header.
    """

    protocol: int
    src: int
    dst: int
    sport: int | None = None
    dport: int | None = None
    icmp_type: int | None = None
    tcp_flags: int = 0
    fragment: bool = False



def flow_of(packet: Ipv4Packet) -> Flow:
    """The :class:`Flow` of a decoded datagram."""
    proto, seg = packet.protocol, packet.payload
    if packet.fragment_offset:
        return Flow(proto, packet.src, packet.dst, fragment=True)
    if proto in (IpProtocol.TCP, IpProtocol.UDP) and len(seg) >= 4:
        sport, dport = _PORTS.unpack_from(seg)
        flags = seg[13] if proto == IpProtocol.TCP and len(seg) >= 14 else 0
        return Flow(proto, packet.src, packet.dst, sport, dport, tcp_flags=flags)
    if proto == IpProtocol.ICMP and len(seg) >= 8:
        if seg[0] in _ECHO_TYPES:
            ident = int.from_bytes(seg[4:6], "big")
            return Flow(proto, packet.src, packet.dst, ident, ident, icmp_type=seg[0])
        return Flow(proto, packet.src, packet.dst, icmp_type=seg[0])
    return Flow(proto, packet.src, packet.dst)


def mirrored(flow: Flow) -> Flow:
    """The same flow seen from the other end (addresses and ports swapped)."""
    return Flow(flow.protocol, flow.dst, flow.src, flow.dport, flow.sport, flow.icmp_type,
                flow.tcp_flags, flow.fragment)


def _layer4(entry: AclEntry) -> bool:
    """Whether an entry looks past the IP header (ports, an ICMP type)."""
    return (entry.source_port is not None or entry.destination_port is not None
            or entry.icmp_type is not None)


def first_match(acl: AccessList, flow: Flow, count: bool = True,
                fragments: bool = False) -> AclEntry | None:
    """The first entry of ``acl`` that matches ``flow`` (its counter goes up), or None.

    With ``fragments`` a non-first fragment (no transport header) is judged as an interface
    ACL judges it on IOS: a ``permit`` with ports or an ICMP type matches it on its addresses
    and protocol alone, a ``deny`` with them is skipped."""
    for entry in acl.entries:
        if entry.action == "remark" or entry.source is None:
            continue
        if not _address_match(entry.source.address, entry.source.wildcard, flow.src):
            continue
        if entry.protocol is not None:
            if entry.protocol and entry.protocol != flow.protocol:
                continue
            d = entry.destination
            if d is not None and not _address_match(d.address, d.wildcard, flow.dst):
                continue
            if fragments and flow.fragment and _layer4(entry):
                if entry.action != "permit":
                    continue
                if count:
                    entry.matches += 1
                return entry
            if entry.source_port is not None and (
                    flow.sport is None or not entry.source_port.matches(flow.sport)):
                continue
            if entry.destination_port is not None and (
                    flow.dport is None or not entry.destination_port.matches(flow.dport)):
                continue
            if entry.icmp_type is not None and entry.icmp_type != flow.icmp_type:
                continue
        if count:
            entry.matches += 1
        return entry
    return None


def acl_permits(acl: AccessList, flow: Flow) -> bool:
    """Whether ``acl`` permits ``flow`` (first matching entry; implicit deny at the end)."""
    entry = first_match(acl, flow)
    return entry is not None and entry.action == "permit"


def _address_match(address: object, wildcard: object, value: int) -> bool:
    w = int(wildcard)  # type: ignore[call-overload]
    return (value & ~w) == (int(address) & ~w)  # type: ignore[call-overload]
