"""Handlers of the OSPF configuration: ``router ospf N`` and its (config-router) mode, the
interfaces' ``ip ospf ...`` lines, and how the running-config shows them.

The settings live in :class:`iosim.ospf.config.OspfConfig` (``features["ospf"]`` of the
running-config) and :class:`iosim.ospf.config.OspfInterfaceConfig` (of each interface);
every handler validates first and changes the model last, then tells the router
(``config_changed("ospf")``), whose OSPF glue brings the running processes in line.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from iosim.cli.errors import CommandRejected
from iosim.cli.matcher import Match
from iosim.cli.modes import Mode, register
from iosim.config.handlers import ApplyContext, Enter, handles, invalid_at
from iosim.config.model import InterfaceConfig, RunningConfig
from iosim.config.passwords import type7_encode
from iosim.config.render import INTERFACE_LINES, SECTIONS
from iosim.ospf.config import (
    DEFAULT_REFERENCE_MBPS,
    DefaultInformation,
    Md5Key,
    OspfInterfaceConfig,
    OspfNetwork,
    OspfProcess,
    area_text,
    interface_ospf,
    ospf_config,
)
from iosim.ospf.packets import AuType

register(Mode("router", "router_line", "(config-router)#", "config",
              "Router configuration commands:"))

#: What IOS says when a new router ID cannot replace the one a running process uses.
ROUTER_ID_LATER = ('% OSPF: Reload or use "clear ip ospf process" command, for this to '
                   "take effect")
MAX_AREA = 0xFFFFFFFF


def _changed(ctx: ApplyContext) -> None:
    ctx.router.config_changed("ospf")


def _pid(m: Match, terminal: str) -> int:
    value = int(m.get(terminal) or 0)
    if not 1 <= value <= 65535:
        raise invalid_at(m, terminal)
    return value


def _area(m: Match, number: str, dotted: str) -> tuple[int, str]:
    if m.has(dotted):
        value = int(IPv4Address(m.get(dotted) or "0.0.0.0"))
        return value, area_text(value, True)
    value = int(m.get(number) or 0)
    if value > MAX_AREA:
        raise invalid_at(m, number)
    return value, str(value)


# ================================================================ router ospf N


def _process(ctx: ApplyContext, pid: int) -> OspfProcess:
    config = ospf_config(ctx.config, create=True)
    process = config.processes.get(pid)
    if process is None:
        process = config.processes[pid] = OspfProcess(pid)
    return process


@handles("cfg_router_ospf")
def _router_ospf(ctx: ApplyContext, m: Match) -> Enter:
    pid = _pid(m, "OSPF_PID")
    if pid not in ospf_config(ctx.config).processes:
        _process(ctx, pid)
        _changed(ctx)
    return Enter("router", pid)


@handles("cfg_no_router_ospf")
def _no_router_ospf(ctx: ApplyContext, m: Match) -> None:
    pid = _pid(m, "OSPF_PID")
    if ospf_config(ctx.config).processes.pop(pid, None) is not None:
        for intf in ctx.config.interfaces.values():
            o = interface_ospf(intf)
            if o.process == pid:
                o.process = o.area = None
                o.area_text = ""
        _changed(ctx)


def _target(ctx: ApplyContext) -> OspfProcess:
    return _process(ctx, int(ctx.target))


@handles("rtr_exit")
def _router_exit(ctx: ApplyContext, m: Match) -> Enter:
    return Enter("config")


@handles("rtr_router_id")
def _router_id(ctx: ApplyContext, m: Match) -> None:
    process = _target(ctx)
    value = m.ipv4("RTR_ROUTER_ID_VALUE")
    if int(value) == 0 or int(value) >> 28 == 0xE:
        raise invalid_at(m, "RTR_ROUTER_ID_VALUE")
    if process.router_id == value:
        return
    process.router_id = value
    plane = ctx.router.ospf_plane
    if plane is not None and not plane.take_router_id(process.process_id):  # type: ignore[attr-defined]
        ctx.say(ROUTER_ID_LATER)
    _changed(ctx)


@handles("rtr_no_router_id")
def _no_router_id(ctx: ApplyContext, m: Match) -> None:
    process = _target(ctx)
    if process.router_id is not None:
        process.router_id = None
        plane = ctx.router.ospf_plane
        if plane is not None and not plane.take_router_id(process.process_id):  # type: ignore[attr-defined]
            ctx.say(ROUTER_ID_LATER)
        _changed(ctx)


def _network(m: Match) -> OspfNetwork:
    address = int(m.ipv4("RTR_NET_ADDRESS"))
    wildcard = int(m.ipv4("RTR_NET_WILDCARD"))
    area, text = _area(m, "RTR_AREA_NUM", "RTR_AREA_IP")
    return OspfNetwork(address & ~wildcard & 0xFFFFFFFF, wildcard, area, text)


@handles("rtr_network")
def _network_add(ctx: ApplyContext, m: Match) -> None:
    process = _target(ctx)
    net = _network(m)
    for known in process.networks:
        if (known.address, known.wildcard) == (net.address, net.wildcard):
            if known.area != net.area:
                raise CommandRejected(
                    f"% OSPF: \"network {IPv4Address(net.address)} "
                    f"{IPv4Address(net.wildcard)}\" is already defined in area "
                    f"{known.area_text}")
            return
    process.networks.append(net)
    _changed(ctx)


@handles("rtr_no_network")
def _network_remove(ctx: ApplyContext, m: Match) -> None:
    process = _target(ctx)
    net = _network(m)
    kept = [n for n in process.networks if (n.address, n.wildcard, n.area) != (
        net.address, net.wildcard, net.area)]
    if len(kept) != len(process.networks):
        process.networks = kept
        _changed(ctx)


def _passive_interface(ctx: ApplyContext, m: Match) -> str | None:
    if m.has("RTR_PASSIVE_DEFAULT"):
        return None
    name = m.get("RTR_PASSIVE_IF") or ""
    if name not in ctx.config.interfaces:
        raise invalid_at(m, "RTR_PASSIVE_IF")
    return name


@handles("rtr_passive", "rtr_no_passive")
def _passive(ctx: ApplyContext, m: Match) -> None:
    process = _target(ctx)
    name = _passive_interface(ctx, m)
    on = not m.has("RTR_NO")
    if name is None:
        process.passive_default = on
        process.passive.clear()
        process.not_passive.clear()
    elif process.passive_default:
        if on and name in process.not_passive:
            process.not_passive.remove(name)
        elif not on and name not in process.not_passive:
            process.not_passive.append(name)
    elif on and name not in process.passive:
        process.passive.append(name)
    elif not on and name in process.passive:
        process.passive.remove(name)
    _changed(ctx)


@handles("rtr_default_information")
def _default_information(ctx: ApplyContext, m: Match) -> None:
    metric = m.get("RTR_METRIC_VALUE")
    if metric is not None and int(metric) > 16777214:
        raise invalid_at(m, "RTR_METRIC_VALUE")
    kind = m.get("RTR_METRIC_TYPE_VALUE")
    if kind is not None and kind not in ("1", "2"):
        raise invalid_at(m, "RTR_METRIC_TYPE_VALUE")
    _target(ctx).default_information = DefaultInformation(
        m.has("RTR_ALWAYS"), int(metric) if metric is not None else None,
        int(kind) if kind is not None else None)
    _changed(ctx)


@handles("rtr_no_default_information")
def _no_default_information(ctx: ApplyContext, m: Match) -> None:
    process = _target(ctx)
    if process.default_information is not None:
        process.default_information = None
        _changed(ctx)


@handles("rtr_auto_cost", "rtr_no_auto_cost")
def _auto_cost(ctx: ApplyContext, m: Match) -> None:
    mbps = DEFAULT_REFERENCE_MBPS
    if not m.has("RTR_NO"):
        mbps = int(m.get("RTR_REFERENCE_MBPS") or 0)
        if not 1 <= mbps <= 4294967:
            raise invalid_at(m, "RTR_REFERENCE_MBPS")
    process = _target(ctx)
    if process.reference_mbps != mbps:
        process.reference_mbps = mbps
        if not m.has("RTR_NO"):
            ctx.say("% OSPF: Reference bandwidth is changed.\n"
                    "        Please ensure reference bandwidth is consistent across all "
                    "routers.")
        _changed(ctx)


@handles("rtr_area_authentication", "rtr_no_area_authentication")
def _area_authentication(ctx: ApplyContext, m: Match) -> None:
    area, text = _area(m, "RTR_AREA_NUM", "RTR_AREA_IP")
    process = _target(ctx)
    if m.has("RTR_NO"):
        process.area_authentication.pop(area, None)
    else:
        kind = AuType.CRYPTOGRAPHIC if m.has("RTR_MESSAGE_DIGEST") else AuType.SIMPLE_PASSWORD
        process.area_authentication[area] = (text, kind)
    _changed(ctx)


@handles("rtr_log_adjacency", "rtr_no_log_adjacency")
def _log_adjacency(ctx: ApplyContext, m: Match) -> None:
    process = _target(ctx)
    if m.has("RTR_NO"):
        process.log_adjacency = "brief" if m.has("RTR_LOG_DETAIL") else "off"
    else:
        process.log_adjacency = "detail" if m.has("RTR_LOG_DETAIL") else "brief"
    _changed(ctx)


# ================================================================ interfaces


def _if(ctx: ApplyContext) -> tuple[InterfaceConfig, OspfInterfaceConfig]:
    intf = ctx.config.interfaces[str(ctx.target)]
    return intf, interface_ospf(intf, create=True)


def _if_done(ctx: ApplyContext, intf: InterfaceConfig) -> None:
    if interface_ospf(intf).empty():
        intf.features.pop("ospf", None)
    _changed(ctx)


@handles("if_ip_ospf_area")
def _if_area(ctx: ApplyContext, m: Match) -> None:
    pid = _pid(m, "IF_OSPF_PID")
    area, text = _area(m, "IF_OSPF_AREA_NUM", "IF_OSPF_AREA_IP")
    _process(ctx, pid)  # IOS starts the process the interface names
    intf, o = _if(ctx)
    o.process, o.area, o.area_text = pid, area, text
    _if_done(ctx, intf)


@handles("if_no_ip_ospf_area")
def _if_no_area(ctx: ApplyContext, m: Match) -> None:
    intf, o = _if(ctx)
    if o.process == _pid(m, "IF_OSPF_PID"):
        o.process = o.area = None
        o.area_text = ""
    _if_done(ctx, intf)


def _number(m: Match, terminal: str, low: int, high: int) -> int:
    value = int(m.get(terminal) or 0)
    if not low <= value <= high:
        raise invalid_at(m, terminal)
    return value


@handles("if_ip_ospf_cost", "if_no_ip_ospf_cost")
def _if_cost(ctx: ApplyContext, m: Match) -> None:
    value = None if m.has("IF_NO") else _number(m, "IF_OSPF_COST_VALUE", 1, 65535)
    intf, o = _if(ctx)
    o.cost = value
    _if_done(ctx, intf)


@handles("if_ip_ospf_hello", "if_no_ip_ospf_hello")
def _if_hello(ctx: ApplyContext, m: Match) -> None:
    value = None if m.has("IF_NO") else _number(m, "IF_OSPF_SECONDS", 1, 65535)
    intf, o = _if(ctx)
    o.hello = value
    _if_done(ctx, intf)


@handles("if_ip_ospf_dead", "if_no_ip_ospf_dead")
def _if_dead(ctx: ApplyContext, m: Match) -> None:
    value = None if m.has("IF_NO") else _number(m, "IF_OSPF_SECONDS", 1, 65535)
    intf, o = _if(ctx)
    o.dead = value
    _if_done(ctx, intf)


@handles("if_ip_ospf_network", "if_no_ip_ospf_network")
def _if_network(ctx: ApplyContext, m: Match) -> None:
    value = None
    if not m.has("IF_NO"):
        value = "point-to-point" if m.has("IF_OSPF_POINT_TO_POINT") else "broadcast"
    intf, o = _if(ctx)
    o.network = value
    _if_done(ctx, intf)


@handles("if_ip_ospf_priority", "if_no_ip_ospf_priority")
def _if_priority(ctx: ApplyContext, m: Match) -> None:
    value = None if m.has("IF_NO") else _number(m, "IF_OSPF_PRIORITY_VALUE", 0, 255)
    intf, o = _if(ctx)
    o.priority = value
    _if_done(ctx, intf)


@handles("if_ip_ospf_authentication", "if_no_ip_ospf_authentication")
def _if_authentication(ctx: ApplyContext, m: Match) -> None:
    value = None
    if not m.has("IF_NO"):
        value = ("message-digest" if m.has("IF_OSPF_MESSAGE_DIGEST")
                 else "null" if m.has("IF_OSPF_NULL") else "")
    intf, o = _if(ctx)
    o.authentication = value
    _if_done(ctx, intf)


def _key(m: Match) -> tuple[str | None, str | None]:
    """(clear text, type 7 text) of a typed key."""
    text = m.get("IF_OSPF_KEY") or ""
    if m.get("IF_OSPF_KEY_ENCRYPTION") == "7":
        from iosim.config.passwords import type7_decode

        if type7_decode(text) is None:
            raise invalid_at(m, "IF_OSPF_KEY")
        return None, text
    return text, None


@handles("if_ip_ospf_authentication_key", "if_no_ip_ospf_authentication_key")
def _if_authentication_key(ctx: ApplyContext, m: Match) -> None:
    clear, type7 = (None, None) if m.has("IF_NO") else _key(m)
    intf, o = _if(ctx)
    o.auth_key, o.auth_key_type7 = clear, type7
    _if_done(ctx, intf)


@handles("if_ip_ospf_md5_key")
def _if_md5_key(ctx: ApplyContext, m: Match) -> None:
    key_id = _number(m, "IF_OSPF_KEY_ID", 1, 255)
    clear, type7 = _key(m)
    intf, o = _if(ctx)
    if any(k.key_id == key_id for k in o.md5_keys):
        raise CommandRejected(f"OSPF: Key {key_id} already exists")
    o.md5_keys.append(Md5Key(key_id, clear, type7))
    _if_done(ctx, intf)


@handles("if_no_ip_ospf_md5_key")
def _if_no_md5_key(ctx: ApplyContext, m: Match) -> None:
    key_id = _number(m, "IF_OSPF_KEY_ID", 1, 255)
    intf, o = _if(ctx)
    o.md5_keys = [k for k in o.md5_keys if k.key_id != key_id]
    _if_done(ctx, intf)


@handles("if_ip_ospf_mtu_ignore", "if_no_ip_ospf_mtu_ignore")
def _if_mtu_ignore(ctx: ApplyContext, m: Match) -> None:
    intf, o = _if(ctx)
    o.mtu_ignore = not m.has("IF_NO")
    _if_done(ctx, intf)


# ================================================================ running-config


def _key_words(cfg: RunningConfig, clear: str | None, type7: str | None) -> str:
    if type7 is not None:
        return f"7 {type7}"
    if cfg.service_password_encryption:
        return f"7 {type7_encode(clear or '')}"
    return clear or ""


def interface_lines(cfg: RunningConfig, intf: InterfaceConfig) -> list[str]:
    """The interface's `` ip ospf ...`` lines, in IOS's order."""
    o = interface_ospf(intf)
    out = []
    if o.authentication is not None:
        out.append(" ip ospf authentication" + (f" {o.authentication}" if o.authentication
                                                else ""))
    if o.auth_key is not None or o.auth_key_type7 is not None:
        out.append(f" ip ospf authentication-key {_key_words(cfg, o.auth_key, o.auth_key_type7)}")
    out += [f" ip ospf message-digest-key {k.key_id} md5 "
            f"{_key_words(cfg, k.key, k.key_type7)}" for k in o.md5_keys]
    if o.network is not None:
        out.append(f" ip ospf network {o.network}")
    if o.hello is not None:
        out.append(f" ip ospf hello-interval {o.hello}")
    if o.dead is not None:
        out.append(f" ip ospf dead-interval {o.dead}")
    if o.priority is not None:
        out.append(f" ip ospf priority {o.priority}")
    if o.mtu_ignore:
        out.append(" ip ospf mtu-ignore")
    if o.process is not None:
        out.append(f" ip ospf {o.process} area {o.area_text}")
    if o.cost is not None:
        out.append(f" ip ospf cost {o.cost}")
    return out


def router_lines(cfg: RunningConfig) -> list[str]:
    """Each ``router ospf N`` block, then ``!``."""
    out: list[str] = []
    for pid in sorted(ospf_config(cfg).processes):
        p = ospf_config(cfg).processes[pid]
        out.append(f"router ospf {pid}")
        if p.router_id is not None:
            out.append(f" router-id {p.router_id}")
        if p.log_adjacency == "detail":
            out.append(" log-adjacency-changes detail")
        elif p.log_adjacency == "off":
            out.append(" no log-adjacency-changes")
        if p.reference_mbps != DEFAULT_REFERENCE_MBPS:
            out.append(f" auto-cost reference-bandwidth {p.reference_mbps}")
        for area in sorted(p.area_authentication):
            text, kind = p.area_authentication[area]
            out.append(f" area {text} authentication"
                       + (" message-digest" if kind == AuType.CRYPTOGRAPHIC else ""))
        if p.passive_default:
            out.append(" passive-interface default")
            out += [f" no passive-interface {name}" for name in p.not_passive]
        else:
            out += [f" passive-interface {name}" for name in p.passive]
        out += [f" network {IPv4Address(n.address)} {IPv4Address(n.wildcard)} area "
                f"{n.area_text}" for n in p.networks]
        d = p.default_information
        if d is not None:
            words = " default-information originate" + (" always" if d.always else "")
            if d.metric is not None:
                words += f" metric {d.metric}"
            if d.metric_type is not None:
                words += f" metric-type {d.metric_type}"
            out.append(words)
        out.append("!")
    return out


if interface_lines not in INTERFACE_LINES:
    INTERFACE_LINES.append(interface_lines)
if router_lines not in SECTIONS["after-interfaces"]:
    SECTIONS["after-interfaces"].append(router_lines)
