"""The configuration of tunnels and of the interface settings routing needs, as plain data.

``interface TunnelN`` keeps its ``tunnel ...`` commands in one frozen :class:`TunnelConfig`
(``InterfaceConfig.features["tunnel"]``), replaced whole by each command so that the
session's checkpoint undoes a failed one. The settings any interface may have -- ``bandwidth``,
``ip mtu``, ``ip tcp adjust-mss``, ``keepalive`` -- are kept in the interface's ``features``
under their own keys, and read through the functions here, which know each interface
type's IOS default (a tunnel's bandwidth is 100 kbit/s, an Ethernet's its line rate; an
Ethernet sends keepalives every 10 seconds, a tunnel none).

Handlers: :mod:`iosim.config.apply_tunnel`; the runtime that reads this:
:mod:`iosim.net.tunnel` and :mod:`iosim.ipsec.tunnel_protection`.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from iosim.cli.interfaces import interface_type
from iosim.config.model import InterfaceConfig

__all__ = [
    "DEFAULT_KEEPALIVE_RETRIES",
    "GRE",
    "IPSEC",
    "TRANSPORT_NAMES",
    "TunnelConfig",
    "bandwidth_of",
    "default_bandwidth",
    "ip_mtu_setting",
    "is_tunnel",
    "keepalive_of",
    "max_ip_mtu",
    "tcp_mss_of",
    "tunnel_of",
]

GRE = "gre ip"  # ``tunnel mode gre ip``, the default
IPSEC = "ipsec ipv4"  # ``tunnel mode ipsec ipv4``: a static virtual tunnel interface (VTI)
#: What ``show interfaces`` calls each mode ("Tunnel protocol/transport GRE/IP").
TRANSPORT_NAMES = {GRE: "GRE/IP", IPSEC: "IPSEC/IP"}

DEFAULT_KEEPALIVE_PERIOD = 10
DEFAULT_KEEPALIVE_RETRIES = 3  # a tunnel's ``keepalive`` without retries: 3 (IOS's default)

#: ``BW ... Kbit/sec`` of each interface type until ``bandwidth`` says otherwise.
_DEFAULT_BANDWIDTH = {"GigabitEthernet": 1000000, "FastEthernet": 100000,
                      "Loopback": 8000000, "Tunnel": 100}
#: The largest ``ip mtu`` each interface type takes (its interface MTU).
_MAX_IP_MTU = {"Loopback": 1514, "Tunnel": 17916}


@dataclass(frozen=True)
class TunnelConfig:
    """The ``tunnel ...`` commands of one tunnel interface.

    ``source`` is an interface name (``tunnel source GigabitEthernet0/0``) or an address
    (``tunnel source 198.51.100.1``); ``protection`` the IPsec profile of ``tunnel protection
    ipsec profile NAME [shared]``."""

    source: str | IPv4Address | None = None
    destination: IPv4Address | None = None
    mode: str = GRE
    key: int | None = None
    protection: str | None = None
    shared: bool = False

    @property
    def source_interface(self) -> str | None:
        """The source when it names an interface."""
        return self.source if isinstance(self.source, str) else None


def is_tunnel(name: str) -> bool:
    """Whether ``name`` is a tunnel interface (``Tunnel0``)."""
    t = interface_type(name)
    return t is not None and t.name == "Tunnel"


def tunnel_of(intf: InterfaceConfig) -> TunnelConfig:
    """The tunnel settings of ``intf`` (the defaults when none were typed)."""
    found = intf.features.get("tunnel")
    return found if isinstance(found, TunnelConfig) else TunnelConfig()


def default_bandwidth(name: str) -> int:
    """The bandwidth (kbit/s) of an interface type before ``bandwidth`` changes it."""
    t = interface_type(name)
    return _DEFAULT_BANDWIDTH.get(t.name if t is not None else "", 1000000)


def bandwidth_of(intf: InterfaceConfig) -> int:
    """``bandwidth`` in kbit/s, else the type's default: what a routing protocol's cost and
    ``show interfaces`` (BW) read."""
    value = intf.features.get("bandwidth")
    return value if isinstance(value, int) else default_bandwidth(intf.name)


def max_ip_mtu(name: str) -> int:
    """The largest ``ip mtu`` the interface takes."""
    t = interface_type(name)
    return _MAX_IP_MTU.get(t.name if t is not None else "", 1500)


def ip_mtu_setting(intf: InterfaceConfig) -> int | None:
    """``ip mtu N`` as typed (None: the interface's own)."""
    value = intf.features.get("ip_mtu")
    return value if isinstance(value, int) else None


def tcp_mss_of(intf: InterfaceConfig) -> int | None:
    """``ip tcp adjust-mss N`` (None: TCP SYNs cross unchanged)."""
    value = intf.features.get("tcp_mss")
    return value if isinstance(value, int) else None


def keepalive_of(intf: InterfaceConfig) -> tuple[int, int] | None:
    """(period, retries) of the interface's keepalives, None when it sends none: a tunnel
    sends none until ``keepalive``, an Ethernet every 10 seconds until ``no keepalive``."""
    value = intf.features.get("keepalive")
    if isinstance(value, tuple):
        return value
    if value is False or is_tunnel(intf.name):
        return None
    t = interface_type(intf.name)
    if t is not None and t.virtual and t.name != "Loopback":
        return None
    return (DEFAULT_KEEPALIVE_PERIOD, DEFAULT_KEEPALIVE_RETRIES)
