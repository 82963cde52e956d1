"""``ip tcp adjust-mss N``: the MSS option of TCP SYNs crossing an interface, lowered to N.

A tunnel's IP MTU is smaller than the LANs' (1476 for GRE, less again under IPsec), and a TCP
connection whose ends announce an MSS of 1460 would send segments the tunnel must fragment.
IOS rewrites the Maximum Segment Size option (RFC 9293 3.7.1, kind 2, length 4) of every SYN
that enters or leaves an interface with ``ip tcp adjust-mss`` to at most N, and fixes the TCP
checksum (RFC 1624's incremental update would do; the whole sum is recomputed here).

:func:`clamp_mss` is the pure rewrite; :func:`install_mss_clamp` makes it an output hook (first,
before NAT and crypto see the datagram) and an input hook (last, after decryption) of a
router's stack, reading the interface's setting at each packet.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from iosim.config.tunnel_model import tcp_mss_of
from iosim.net.packets import IpProtocol, internet_checksum

if TYPE_CHECKING:
    from iosim.router import Router

__all__ = ["clamp_mss", "install_mss_clamp"]

_SYN = 0x02
_MSS_KIND = 2
_PSEUDO = struct.Struct("!4s4sBBH")


def clamp_mss(datagram: bytes, limit: int) -> bytes | None:
    """``datagram`` with the MSS of its TCP SYN lowered to ``limit``, or None when nothing
    changes (not an unfragmented TCP SYN, no MSS option, or one already small enough)."""
    if len(datagram) < 20 or datagram[9] != IpProtocol.TCP:
        return None
    ihl = (datagram[0] & 0x0F) * 4
    total = int.from_bytes(datagram[2:4], "big")
    if datagram[6:8] not in (b"\0\0", b"\x40\0") or total > len(datagram):
        return None  # a fragment (or a truncated datagram): not ours to read
    segment = datagram[ihl:total]
    if len(segment) < 20 or not segment[13] & _SYN:
        return None
    data_offset = (segment[12] >> 4) * 4
    if data_offset < 20 or data_offset > len(segment):
        return None
    at = 20
    while at < data_offset:
        kind = segment[at]
        if kind == 0:  # end of option list
            return None
        if kind == 1:  # no-operation
            at += 1
            continue
        if at + 1 >= data_offset or segment[at + 1] < 2:
            return None
        length = segment[at + 1]
        if kind == _MSS_KIND and length == 4 and at + 4 <= data_offset:
            mss = int.from_bytes(segment[at + 2:at + 4], "big")
            if mss <= limit:
                return None
            body = bytearray(segment)
            body[at + 2:at + 4] = limit.to_bytes(2, "big")
            body[16:18] = b"\0\0"
            pseudo = _PSEUDO.pack(datagram[12:16], datagram[16:20], 0, IpProtocol.TCP,
                                  len(body))
            body[16:18] = internet_checksum(pseudo + bytes(body)).to_bytes(2, "big")
            return datagram[:ihl] + bytes(body) + datagram[total:]
        at += length
    return None


def install_mss_clamp(router: Router) -> None:
    """``ip tcp adjust-mss`` on the interfaces of ``router`` (on a lab's network)."""
    stack = router.stack
    assert stack is not None

    def hook(interface: str, datagram: bytes) -> bytes | None:
        if len(datagram) < 20 or datagram[9] != IpProtocol.TCP:
            return datagram
        intf = router.config.interfaces.get(interface)
        limit = tcp_mss_of(intf) if intf is not None else None
        if limit is None:
            return datagram
        return clamp_mss(datagram, limit) or datagram

    def acts_on(interface: str) -> bool:
        intf = router.config.interfaces.get(interface)
        return intf is not None and tcp_mss_of(intf) is not None

    stack.add_hooks(acts_on, input_hook=hook, output_hook=hook, output_first=True)
