"""``bandwidth`` and ``ip mtu`` on an interface: what it tells the protocols above it.

``bandwidth KBPS`` sets the bandwidth a routing protocol's metric uses (OSPF's cost is its
reference bandwidth divided by it) and ``show interfaces`` prints; ``ip mtu BYTES`` the
largest datagram the interface sends whole (the stack fragments above it, and OSPF puts it
in its Database Description packets). Both live in ``InterfaceConfig.features``
(``"bandwidth"``, ``"ip_mtu"``), absent while the interface type's default applies
(:func:`bandwidth_of`, :func:`ip_mtu_of`).
"""

from __future__ import annotations

from iosim.cli.matcher import Match
from iosim.config.handlers import ApplyContext, handles, invalid_at
from iosim.config.model import InterfaceConfig, RunningConfig
from iosim.config.render import INTERFACE_HEAD_LINES, INTERFACE_LINES
from iosim.show.interfaces import hardware_of

BANDWIDTH_RANGE = (1, 10_000_000)
IP_MTU_RANGE = (68, 1500)


def bandwidth_of(intf: InterfaceConfig) -> int:
    """The interface's bandwidth in Kbit/s: ``bandwidth``, else its type's."""
    value = intf.features.get("bandwidth")
    return int(value) if value else hardware_of(intf.name).bandwidth


def ip_mtu_of(intf: InterfaceConfig) -> int:
    """The interface's IP MTU in bytes: ``ip mtu``, else its type's."""
    value = intf.features.get("ip_mtu")
    return int(value) if value else hardware_of(intf.name).ip_mtu


def _set(ctx: ApplyContext, key: str, value: int | None) -> None:
    intf = ctx.config.interfaces[str(ctx.target)]
    if intf.features.get(key) == value:
        return
    if value is None:
        intf.features.pop(key, None)
    else:
        intf.features[key] = value
    ctx.router.config_changed("interface")


@handles("if_bandwidth")
def _bandwidth(ctx: ApplyContext, m: Match) -> None:
    kbps = int(m.get("IF_BANDWIDTH_KBPS") or 0)
    if not BANDWIDTH_RANGE[0] <= kbps <= BANDWIDTH_RANGE[1]:
        raise invalid_at(m, "IF_BANDWIDTH_KBPS")
    _set(ctx, "bandwidth", kbps)


@handles("if_no_bandwidth")
def _no_bandwidth(ctx: ApplyContext, m: Match) -> None:
    _set(ctx, "bandwidth", None)


@handles("if_ip_mtu")
def _ip_mtu(ctx: ApplyContext, m: Match) -> None:
    size = int(m.get("IF_MTU_BYTES") or 0)
    if not IP_MTU_RANGE[0] <= size <= IP_MTU_RANGE[1]:
        raise invalid_at(m, "IF_MTU_BYTES")
    # the type's own MTU is the default: IOS does not keep it as a setting
    _set(ctx, "ip_mtu", None if size == hardware_of(str(ctx.target)).ip_mtu else size)


@handles("if_no_ip_mtu")
def _no_ip_mtu(ctx: ApplyContext, m: Match) -> None:
    _set(ctx, "ip_mtu", None)


def head_lines(cfg: RunningConfig, intf: InterfaceConfig) -> list[str]:
    """`` bandwidth N`` (IOS puts it before the addresses)."""
    value = intf.features.get("bandwidth")
    return [f" bandwidth {value}"] if value else []


def mtu_lines(cfg: RunningConfig, intf: InterfaceConfig) -> list[str]:
    """`` ip mtu N`` (right under the addresses)."""
    value = intf.features.get("ip_mtu")
    return [f" ip mtu {value}"] if value else []


if head_lines not in INTERFACE_HEAD_LINES:
    INTERFACE_HEAD_LINES.append(head_lines)
if mtu_lines not in INTERFACE_LINES:
    INTERFACE_LINES.insert(0, mtu_lines)
