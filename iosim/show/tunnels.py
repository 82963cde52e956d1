"""Pure renderers of what tunnels and the interface settings add to ``show interfaces`` and
``show ip interface``: the MTU, bandwidth and keepalive lines of any interface, and the
tunnel block of IOS 15 (line state evaluation, source and destination with the source
tracking subblock, protocol/transport, key, TTL, transport MTU, bandwidths, protection).

Live numbers come from the router's :class:`~iosim.net.tunnel.TunnelPlane` (line state,
transport MTU from the path and the tunnel's IPsec SA); without one (a router off any lab
network) the tunnel is described from its configuration alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iosim.config.model import InterfaceConfig
from iosim.config.tunnel_model import (
    GRE,
    IPSEC,
    TRANSPORT_NAMES,
    bandwidth_of,
    ip_mtu_setting,
    is_tunnel,
    keepalive_of,
    tunnel_of,
)
from iosim.net.tunnel import (
    GRE_KEY_OCTETS,
    GRE_OVERHEAD,
    TUNNEL_INTERFACE_MTU,
    VTI_OVERHEAD,
    TunnelPlane,
)

if TYPE_CHECKING:
    from iosim.router import Router

__all__ = ["bandwidth_kbit", "interface_mtu", "ip_mtu", "keepalive_line", "tunnel_lines"]

TRANSMIT_BANDWIDTH = 8000  # kbit/s: IOS's "Tunnel transmit/receive bandwidth"


def _plane(router: Router) -> TunnelPlane | None:
    plane = router.tunnel_plane
    return plane if isinstance(plane, TunnelPlane) else None


def interface_mtu(intf: InterfaceConfig, default: int) -> int:
    """``MTU N bytes`` of ``show interfaces``: a GRE tunnel's shrinks by its key."""
    if not is_tunnel(intf.name):
        return default
    t = tunnel_of(intf)
    return TUNNEL_INTERFACE_MTU - (GRE_KEY_OCTETS if t.mode == GRE and t.key is not None
                                   else 0)


def bandwidth_kbit(intf: InterfaceConfig) -> int:
    """``BW N Kbit/sec``: ``bandwidth``, else the interface type's."""
    return bandwidth_of(intf)


def keepalive_line(intf: InterfaceConfig) -> str:
    """``Keepalive set (10 sec)`` (a tunnel adds its retries), or ``Keepalive not set``."""
    setting = keepalive_of(intf)
    if setting is None:
        return "Keepalive not set"
    period, retries = setting
    if is_tunnel(intf.name):
        return f"Keepalive set ({period} sec), retries {retries}"
    return f"Keepalive set ({period} sec)"


def ip_mtu(router: Router, intf: InterfaceConfig, default: int) -> int:
    """``MTU is N bytes`` of ``show ip interface``: ``ip mtu``, else a tunnel's transport MTU
    or the interface type's."""
    configured = ip_mtu_setting(intf)
    if configured is not None:
        return configured
    if not is_tunnel(intf.name):
        return default
    plane = _plane(router)
    if plane is not None:
        return plane.transport_mtu(intf.name)
    t = tunnel_of(intf)
    if t.mode == IPSEC:
        return 1500 - VTI_OVERHEAD
    return 1500 - GRE_OVERHEAD - (GRE_KEY_OCTETS if t.key is not None else 0)


def _linestate(router: Router, intf: InterfaceConfig) -> str:
    plane = _plane(router)
    rt = plane.runtime.get(intf.name) if plane is not None else None
    if rt is not None and rt.up:
        return "  Tunnel linestate evaluation up"
    reason = rt.reason if rt is not None else "transport reg down"
    return "  Tunnel linestate evaluation down" + (f" - {reason}" if reason else "")


def _source_lines(router: Router, intf: InterfaceConfig) -> list[str]:
    t = tunnel_of(intf)
    plane = _plane(router)
    if plane is not None:
        source = plane.source_text(intf.name)
    elif t.source_interface is not None:
        src_intf = router.config.interfaces.get(t.source_interface)
        address = src_intf.address if src_intf is not None else None
        source = f"{address or 'UNKNOWN'} ({t.source_interface})"
    else:
        source = str(t.source) if t.source is not None else "UNKNOWN"
    destination = str(t.destination) if t.destination is not None else "UNKNOWN"
    out = [f"  Tunnel source {source}, destination {destination}"]
    if t.source_interface is None:
        return out
    members = sum(1 for other in router.config.interfaces.values()
                  if is_tunnel(other.name)
                  and tunnel_of(other).source_interface == t.source_interface)
    state = "OK" if router.interface_is_up(t.source_interface) else "DOWN"
    out += ["   Tunnel Subblocks:",
            "      src-track:",
            f"         {intf.name} source tracking subblock associated with "
            f"{t.source_interface}",
            f"          Set of tunnels with source {t.source_interface}, {members} "
            f"member{'s' if members != 1 else ''} (includes iterators), on interface "
            f"<{state}>"]
    return out


def tunnel_lines(router: Router, intf: InterfaceConfig) -> list[str]:
    """The tunnel block of ``show interfaces TunnelN``, between the keepalive line and
    ``Last input``."""
    if not is_tunnel(intf.name):
        return []
    t = tunnel_of(intf)
    out = [_linestate(router, intf), *_source_lines(router, intf),
           f"  Tunnel protocol/transport {TRANSPORT_NAMES[t.mode]}"]
    if t.mode == GRE:
        key = "disabled" if t.key is None else f"0x{t.key:X}"
        out += [f"    Key {key}, sequencing disabled", "    Checksumming of packets disabled",
                "  Tunnel TTL 255, Fast tunneling enabled"]
    else:
        out.append("  Tunnel TTL 255")
    plane = _plane(router)
    transport = plane.transport_mtu(intf.name) if plane is not None else ip_mtu(
        router, intf, 1500)
    out += [f"  Tunnel transport MTU {transport} bytes",
            f"  Tunnel transmit bandwidth {TRANSMIT_BANDWIDTH} (kbps)",
            f"  Tunnel receive bandwidth {TRANSMIT_BANDWIDTH} (kbps)"]
    if t.protection is not None:
        out.append(f'  Tunnel protection via IPSec (profile "{t.protection}")')
    return out
