"""NAT configuration: handlers of ``ip nat ...``, its running-config lines, and the EXEC
commands ``show ip nat translations [verbose]``, ``show ip nat statistics`` and ``clear ip
nat translation *``.

The configuration lives in ``RunningConfig.features["nat"]`` (a :class:`NatConfig`) and, per
interface, in ``InterfaceConfig.features["nat"]`` (``"inside"`` or ``"outside"``); the
translation engine (:mod:`iosim.net.nat`) reads both at every datagram, so a change applies
at once. Every handler validates first and changes the model last.
"""

from __future__ import annotations

from iosim.cli.errors import CommandRejected
from iosim.cli.exec_commands import _output
from iosim.cli.matcher import Match
from iosim.cli.session import Session, exec_handler
from iosim.config.handlers import ApplyContext, handles, invalid_at
from iosim.config.model import InterfaceConfig, RunningConfig
from iosim.config.render import INTERFACE_LINES, SECTIONS
from iosim.net.nat import DEFAULT_TIMEOUTS, DynamicNat, NatConfig, StaticNat, nat_config, nat_engine
from iosim.net.packets import format_ip
from iosim.router import Router
from iosim.show.nat import (
    NatView,
    show_ip_nat_statistics,
    show_ip_nat_translations,
    show_ip_nat_translations_verbose,
)

#: ``ip nat translation KIND``: the terminal of each kind, in running-config order.
TIMEOUT_TERMINALS: dict[str, str] = {
    "NAT_TIMEOUT": "timeout",
    "NAT_TCP_TIMEOUT": "tcp-timeout",
    "NAT_UDP_TIMEOUT": "udp-timeout",
    "NAT_FINRST_TIMEOUT": "finrst-timeout",
    "NAT_ICMP_TIMEOUT": "icmp-timeout",
    "NAT_DNS_TIMEOUT": "dns-timeout",
}
_STATIC_PROTOCOLS: dict[str, int] = {"NAT_TCP": 6, "NAT_UDP": 17}
_PROTOCOL_WORDS: dict[int, str] = {6: "tcp", 17: "udp"}

#: What IOS logs the first time an interface takes part in NAT (the NAT virtual interface).
NVI_UP = "%LINEPROTO-5-UPDOWN: Line protocol on Interface NVI0, changed state to up"


def _changed(ctx: ApplyContext) -> None:
    ctx.router.config_changed("nat")


# ================================================================ interfaces


@handles("if_ip_nat")
def _if_nat(ctx: ApplyContext, m: Match) -> None:
    intf = ctx.config.interfaces[str(ctx.target)]
    nat = nat_config(ctx.config, create=True)
    intf.features["nat"] = "inside" if m.has("IF_NAT_INSIDE") else "outside"
    if not nat.nvi_up:
        nat.nvi_up = True
        ctx.router.log(NVI_UP)
    _changed(ctx)


@handles("if_no_ip_nat")
def _if_no_nat(ctx: ApplyContext, m: Match) -> None:
    intf = ctx.config.interfaces[str(ctx.target)]
    role = "inside" if m.has("IF_NAT_INSIDE") else "outside"
    if intf.features.get("nat") == role:
        del intf.features["nat"]
        _changed(ctx)


# ================================================================ ip nat inside source list


def _acl_name(m: Match) -> str:
    return m.get("NAT_LIST_NUM") or m.get("NAT_LIST_NAME") or ""


@handles("cfg_ip_nat_source_list")
def _source_list(ctx: ApplyContext, m: Match) -> None:
    interface = m.get("NAT_IF_NAME") or ""
    if interface not in ctx.config.interfaces:
        raise invalid_at(m, "NAT_IF_NAME")
    rule = DynamicNat(_acl_name(m), interface, m.has("NAT_OVERLOAD"))
    nat = nat_config(ctx.config, create=True)
    old = nat.dynamic.get(rule.acl)
    if old == rule:
        return
    if old is not None and nat_engine(ctx.router).in_use(old.origin):
        raise CommandRejected("%Dynamic mapping in use, cannot change")
    nat.dynamic[rule.acl] = rule
    _changed(ctx)


@handles("cfg_no_ip_nat_source_list")
def _no_source_list(ctx: ApplyContext, m: Match) -> None:
    nat = nat_config(ctx.config)
    rule = nat.dynamic.get(_acl_name(m))
    interface = m.get("NAT_IF_NAME")
    if rule is None or (interface is not None and interface != rule.interface):
        raise CommandRejected("%Dynamic mapping not found")
    del nat.dynamic[rule.acl]
    nat_engine(ctx.router).forget(rule.origin)
    _changed(ctx)


# ================================================================ ip nat inside source static


def _static(m: Match) -> StaticNat:
    protocol = next((p for t, p in _STATIC_PROTOCOLS.items() if m.has(t)), 0)
    local = int(m.ipv4("NAT_LOCAL_ADDR"))
    glob = int(m.ipv4("NAT_GLOBAL_ADDR"))
    if not protocol:
        return StaticNat(local, glob, extendable=m.has("NAT_EXTENDABLE"))
    # IOS adds "extendable" to every static port translation by itself
    return StaticNat(local, glob, protocol, int(m.get("NAT_LOCAL_PORT") or 0),
                     int(m.get("NAT_GLOBAL_PORT") or 0), extendable=True)


def _same_mapping(a: StaticNat, b: StaticNat) -> bool:
    return (a.protocol, a.local, a.local_port, a.global_address, a.global_port) == (
        b.protocol, b.local, b.local_port, b.global_address, b.global_port)


def _conflict(new: StaticNat, old: StaticNat) -> str | None:
    """IOS's complaint about ``new`` given the existing mapping ``old``, if any."""
    if new.protocol != old.protocol:
        return None
    local_side = (new.local, new.local_port) == (old.local, old.local_port)
    global_side = (new.global_address, new.global_port) == (old.global_address, old.global_port)
    if local_side and not global_side and not (new.extendable and old.extendable):
        return (f"% {format_ip(new.local)} already mapped ({format_ip(old.local)} -> "
                f"{format_ip(old.global_address)})")
    if global_side and not local_side:
        return (f"% similar static entry ({format_ip(old.local)} -> "
                f"{format_ip(old.global_address)}) already exists")
    return None


@handles("cfg_ip_nat_source_static")
def _source_static(ctx: ApplyContext, m: Match) -> None:
    new = _static(m)
    nat = nat_config(ctx.config)
    for i, old in enumerate(nat.statics):
        if _same_mapping(new, old):
            if old.extendable != new.extendable:
                nat.statics[i] = new
                nat.static_since[new] = nat.static_since.pop(old, ctx.router.clock.now)
                _changed(ctx)
            return
        problem = _conflict(new, old)
        if problem is not None:
            raise CommandRejected(problem)
    nat = nat_config(ctx.config, create=True)
    nat.statics.append(new)
    nat.static_since[new] = ctx.router.clock.now
    _changed(ctx)


@handles("cfg_no_ip_nat_source_static")
def _no_source_static(ctx: ApplyContext, m: Match) -> None:
    probe = _static(m)
    nat = nat_config(ctx.config)
    gone = [s for s in nat.statics if _same_mapping(s, probe)]
    if not gone:
        return
    nat.statics = [s for s in nat.statics if not _same_mapping(s, probe)]
    for mapping in gone:
        nat.static_since.pop(mapping, None)
    nat_engine(ctx.router).forget(gone[0].origin)
    _changed(ctx)


# ================================================================ ip nat translation ... timeout


@handles("cfg_ip_nat_translation", "cfg_no_ip_nat_translation")
def _translation_timeout(ctx: ApplyContext, m: Match) -> None:
    kind = next(k for t, k in TIMEOUT_TERMINALS.items() if m.has(t))
    value: int | None = None if m.has("NAT_NEVER") else int(m.get("NAT_SECONDS") or 0)
    nat = nat_config(ctx.config, create=True)
    if m.has("CFG_NO") or value == DEFAULT_TIMEOUTS[kind]:
        nat.timeouts.pop(kind, None)
    else:
        nat.timeouts[kind] = value
    _changed(ctx)


# ================================================================ running-config


def _static_line(s: StaticNat) -> str:
    words = ["ip nat inside source static"]
    if s.protocol:
        words += [_PROTOCOL_WORDS.get(s.protocol, str(s.protocol)), format_ip(s.local),
                  str(s.local_port), format_ip(s.global_address), str(s.global_port)]
    else:
        words += [format_ip(s.local), format_ip(s.global_address)]
    if s.extendable:
        words.append("extendable")
    return " ".join(words)


def nat_lines(cfg: NatConfig) -> list[str]:
    """The global ``ip nat`` lines: timeouts, dynamic rules, then static mappings."""
    out = []
    for kind in TIMEOUT_TERMINALS.values():
        if kind in cfg.timeouts:
            value = cfg.timeouts[kind]
            out.append(f"ip nat translation {kind} {'never' if value is None else value}")
    for rule in cfg.dynamic.values():
        out.append(f"ip nat inside source list {rule.acl} interface {rule.interface}"
                   + (" overload" if rule.overload else ""))
    statics = sorted(cfg.statics, key=lambda s: (s.local, s.protocol, s.local_port,
                                                 s.global_address, s.global_port))
    out.extend(_static_line(s) for s in statics)
    return out


def running_config_section(cfg: RunningConfig) -> list[str]:
    """The NAT section of ``show running-config`` (with the ``!`` that closes it)."""
    lines = nat_lines(nat_config(cfg))
    return lines


def interface_lines(cfg: RunningConfig, intf: InterfaceConfig) -> list[str]:
    """`` ip nat inside`` / `` ip nat outside`` in an interface block."""
    role = intf.features.get("nat")
    return [f" ip nat {role}"] if isinstance(role, str) else []


if running_config_section not in SECTIONS["before-routes"]:
    SECTIONS["before-routes"].append(running_config_section)  # just before "ip route"
if interface_lines not in INTERFACE_LINES:
    INTERFACE_LINES.append(interface_lines)  # right under the addresses


# ================================================================ EXEC


def _view(router: Router) -> NatView:
    """The router's NAT as its show commands see it (entries past their timeout gone)."""
    engine = nat_engine(router)
    now = router.clock.now
    engine.table.expire(now)
    intfs = router.config.sorted_interfaces()
    return NatView(nat_config(router.config), engine.table, now,
                   tuple(i.name for i in intfs if i.features.get("nat") == "inside"),
                   tuple(i.name for i in intfs if i.features.get("nat") == "outside"))


@exec_handler("show_ip_nat_translations")
def _show_translations(session: Session, m: Match) -> str:
    view = _view(session.router)
    if m.has("SHOW_NAT_VERBOSE"):
        return _output(session, m, show_ip_nat_translations_verbose(view))
    return _output(session, m, show_ip_nat_translations(view.cfg, view.table.entries()))


@exec_handler("show_ip_nat_statistics")
def _show_statistics(session: Session, m: Match) -> str:
    return _output(session, m, show_ip_nat_statistics(_view(session.router)))


@exec_handler("exec_clear_nat")
def _clear_translations(session: Session, m: Match) -> str:
    nat_engine(session.router).clear_dynamic()
    return ""
