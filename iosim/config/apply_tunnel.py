"""Handlers of the tunnel commands and of the interface settings routing needs, and their
running-config lines.

``tunnel source|destination|mode|key|protection`` exist on tunnel interfaces only (elsewhere
the caret goes under ``tunnel``, as IOS's parser has no such command there); ``bandwidth``,
``ip mtu``, ``ip tcp adjust-mss`` and ``keepalive`` on any interface. Each handler validates,
then replaces the interface's :class:`~iosim.config.tunnel_model.TunnelConfig` (or setting)
whole and tells the router, so the tunnel's line protocol is evaluated again at once.

Running-config, in IOS's order within the interface block: ``bandwidth`` before the
addresses; ``ip mtu`` after them (before ``ip nat``), ``ip tcp adjust-mss`` and
``keepalive`` after ``ip nat``; the ``tunnel`` lines last (source, destination, mode, key,
protection).
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address

from iosim.cli.errors import InvalidInput
from iosim.cli.interfaces import interface_type
from iosim.cli.matcher import Match
from iosim.config.apply_crypto import isakmp_switch
from iosim.config.handlers import ApplyContext, handles, invalid_at
from iosim.config.model import InterfaceConfig, RunningConfig
from iosim.config.render import INTERFACE_HEAD_LINES, INTERFACE_LINES, INTERFACE_TAIL_LINES
from iosim.config.tunnel_model import (
    DEFAULT_KEEPALIVE_PERIOD,
    DEFAULT_KEEPALIVE_RETRIES,
    GRE,
    IPSEC,
    TunnelConfig,
    is_tunnel,
    keepalive_of,
    max_ip_mtu,
    tunnel_of,
)

# ---------------------------------------------------------------- tunnel commands


def _interface(ctx: ApplyContext) -> InterfaceConfig:
    return ctx.config.interfaces[str(ctx.target)]


def _tunnel_only(ctx: ApplyContext, m: Match) -> InterfaceConfig:
    """The tunnel interface being configured; on any other the caret goes under ``tunnel``."""
    intf = _interface(ctx)
    if not is_tunnel(intf.name):
        raise invalid_at(m, "IF_TUNNEL")
    return intf


def _set_tunnel(ctx: ApplyContext, intf: InterfaceConfig, tunnel: TunnelConfig) -> None:
    if tunnel == TunnelConfig():
        intf.features.pop("tunnel", None)
    else:
        intf.features["tunnel"] = tunnel
    ctx.router.interface_changed(intf.name, addressing=False)


@handles("if_tunnel_source")
def _tunnel_source(ctx: ApplyContext, m: Match) -> None:
    intf = _tunnel_only(ctx, m)
    source: str | IPv4Address
    if m.has("TUN_SOURCE_ADDR"):
        source = m.ipv4("TUN_SOURCE_ADDR")
    else:
        name = m.get("TUN_SOURCE_IF") or ""
        if interface_type(name) is None or name not in ctx.config.interfaces:
            raise invalid_at(m, "TUN_SOURCE_IF")
        source = name
    _set_tunnel(ctx, intf, replace(tunnel_of(intf), source=source))


@handles("if_no_tunnel_source")
def _no_tunnel_source(ctx: ApplyContext, m: Match) -> None:
    intf = _tunnel_only(ctx, m)
    _set_tunnel(ctx, intf, replace(tunnel_of(intf), source=None))


@handles("if_tunnel_destination", "if_no_tunnel_destination")
def _tunnel_destination(ctx: ApplyContext, m: Match) -> None:
    intf = _tunnel_only(ctx, m)
    destination = None if m.has("IF_NO") else m.ipv4("TUN_DEST_ADDR")
    _set_tunnel(ctx, intf, replace(tunnel_of(intf), destination=destination))


@handles("if_tunnel_mode", "if_no_tunnel_mode")
def _tunnel_mode(ctx: ApplyContext, m: Match) -> None:
    intf = _tunnel_only(ctx, m)
    mode = IPSEC if m.has("TUN_IPSEC") and not m.has("IF_NO") else GRE
    _set_tunnel(ctx, intf, replace(tunnel_of(intf), mode=mode))


@handles("if_tunnel_key", "if_no_tunnel_key")
def _tunnel_key(ctx: ApplyContext, m: Match) -> None:
    intf = _tunnel_only(ctx, m)
    key = None if m.has("IF_NO") else int(m.get("TUN_KEY_VALUE") or 0)
    _set_tunnel(ctx, intf, replace(tunnel_of(intf), key=key))


@handles("if_tunnel_protection")
def _tunnel_protection(ctx: ApplyContext, m: Match) -> None:
    intf = _tunnel_only(ctx, m)
    profile = m.get("TUN_PROFILE_NAME") or ""
    _set_tunnel(ctx, intf, replace(tunnel_of(intf), protection=profile,
                                   shared=m.has("TUN_SHARED")))
    isakmp_switch(ctx)
    ctx.router.config_changed("crypto")


@handles("if_no_tunnel_protection")
def _no_tunnel_protection(ctx: ApplyContext, m: Match) -> None:
    intf = _tunnel_only(ctx, m)
    tunnel = tunnel_of(intf)
    name = m.get("TUN_PROFILE_NAME")
    if name is None or name == tunnel.protection:
        _set_tunnel(ctx, intf, replace(tunnel, protection=None, shared=False))
        isakmp_switch(ctx)
        ctx.router.config_changed("crypto")


# ---------------------------------------------------------------- interface settings


@handles("if_keepalive")
def _keepalive(ctx: ApplyContext, m: Match) -> None:
    intf = _interface(ctx)
    period = int(m.get("KA_PERIOD") or DEFAULT_KEEPALIVE_PERIOD)
    retries = int(m.get("KA_RETRIES") or DEFAULT_KEEPALIVE_RETRIES)
    intf.features["keepalive"] = (period, retries) if period else False
    ctx.router.interface_changed(intf.name, addressing=False)


@handles("if_no_keepalive")
def _no_keepalive(ctx: ApplyContext, m: Match) -> None:
    intf = _interface(ctx)
    intf.features["keepalive"] = False
    ctx.router.interface_changed(intf.name, addressing=False)


@handles("if_bandwidth", "if_no_bandwidth")
def _bandwidth(ctx: ApplyContext, m: Match) -> None:
    intf = _interface(ctx)
    if m.has("IF_NO"):
        intf.features.pop("bandwidth", None)
    else:
        intf.features["bandwidth"] = int(m.get("BW_KBPS") or 0)
    ctx.router.interface_changed(intf.name, addressing=False)


@handles("if_ip_mtu", "if_no_ip_mtu")
def _ip_mtu(ctx: ApplyContext, m: Match) -> None:
    intf = _interface(ctx)
    if m.has("IF_NO"):
        intf.features.pop("ip_mtu", None)
    else:
        value = int(m.get("MTU_BYTES") or 0)
        if value > max_ip_mtu(intf.name):
            arg = m.arg("MTU_BYTES")
            raise InvalidInput(arg.col if arg is not None else 0)
        intf.features["ip_mtu"] = value
    ctx.router.interface_changed(intf.name, addressing=False)


@handles("if_ip_tcp_mss", "if_no_ip_tcp_mss")
def _tcp_mss(ctx: ApplyContext, m: Match) -> None:
    intf = _interface(ctx)
    if m.has("IF_NO"):
        intf.features.pop("tcp_mss", None)
    else:
        intf.features["tcp_mss"] = int(m.get("MSS_BYTES") or 0)
    ctx.router.config_changed("interface")


# ---------------------------------------------------------------- running-config


def head_lines(cfg: RunningConfig, intf: InterfaceConfig) -> list[str]:
    """`` bandwidth N`` (before the addresses)."""
    value = intf.features.get("bandwidth")
    return [f" bandwidth {value}"] if isinstance(value, int) else []


def mtu_lines(cfg: RunningConfig, intf: InterfaceConfig) -> list[str]:
    """`` ip mtu N`` (after the addresses and access groups, before ``ip nat``)."""
    value = intf.features.get("ip_mtu")
    return [f" ip mtu {value}"] if isinstance(value, int) else []


def _keepalive_line(intf: InterfaceConfig) -> list[str]:
    setting = intf.features.get("keepalive")
    if setting is None:
        return []
    current = keepalive_of(intf)
    if current is None:
        return [] if is_tunnel(intf.name) else [" no keepalive"]
    period, retries = current
    if is_tunnel(intf.name):
        return [f" keepalive {period} {retries}"]
    return [] if period == DEFAULT_KEEPALIVE_PERIOD else [f" keepalive {period}"]


def after_nat_lines(cfg: RunningConfig, intf: InterfaceConfig) -> list[str]:
    """`` ip tcp adjust-mss N`` and `` keepalive ...`` (after ``ip nat``, before
    ``shutdown``)."""
    mss = intf.features.get("tcp_mss")
    out = [f" ip tcp adjust-mss {mss}"] if isinstance(mss, int) else []
    return out + _keepalive_line(intf)


def tunnel_lines(cfg: RunningConfig, intf: InterfaceConfig) -> list[str]:
    """The `` tunnel ...`` lines at the end of a tunnel's block."""
    if not is_tunnel(intf.name):
        return []
    t = tunnel_of(intf)
    out = []
    if t.source is not None:
        out.append(f" tunnel source {t.source}")
    if t.destination is not None:
        out.append(f" tunnel destination {t.destination}")
    if t.mode != GRE:
        out.append(f" tunnel mode {t.mode}")
    if t.key is not None:
        out.append(f" tunnel key {t.key}")
    if t.protection is not None:
        out.append(f" tunnel protection ipsec profile {t.protection}"
                   + (" shared" if t.shared else ""))
    return out


if head_lines not in INTERFACE_HEAD_LINES:
    INTERFACE_HEAD_LINES.append(head_lines)
if mtu_lines not in INTERFACE_LINES:
    INTERFACE_LINES.insert(0, mtu_lines)
if after_nat_lines not in INTERFACE_LINES:
    INTERFACE_LINES.append(after_nat_lines)
if tunnel_lines not in INTERFACE_TAIL_LINES:
    INTERFACE_TAIL_LINES.append(tunnel_lines)
