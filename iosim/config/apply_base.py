"""Handlers of the base configuration: system, interfaces, static routes, lines."""

from __future__ import annotations

from ipaddress import IPv4Address

from iosim.cli.errors import CommandRejected, InvalidInput, NotEmulated
from iosim.cli.interfaces import interface_type
from iosim.cli.lines import ios_strip, truncate_bytes
from iosim.cli.matcher import Match, ipv4_address
from iosim.cli.modes import Mode, register
from iosim.config.apply_crypto import isakmp_switch
from iosim.config.apply_null import enter_null
from iosim.config.handlers import ApplyContext, Enter, handles, invalid_at
from iosim.config.model import (
    InterfaceConfig,
    LineConfig,
    StaticRoute,
    UserAccount,
    interface_sort_key,
)
from iosim.config.passwords import md5_crypt, salt_for, type7_decode
from iosim.config.tunnel_model import tunnel_of
from iosim.net.routing import NULL_INTERFACE

# ---------------------------------------------------------------- system


@handles("cfg_hostname")
def _hostname(ctx: ApplyContext, m: Match) -> None:
    name = m.get("HOSTNAME_NAME") or ""
    if not (name.isascii() and name[0].isalpha() and all(c.isalnum() or c == "-" for c in name)):
        raise CommandRejected("% Hostname contains one or more illegal characters.")
    ctx.config.hostname = name[:63]


@handles("cfg_no_hostname")
def _no_hostname(ctx: ApplyContext, m: Match) -> None:
    ctx.config.hostname = "Router"


def _secret_hash(ctx: ApplyContext, m: Match, type_t: str, value_t: str) -> str:
    value = m.get(value_t) or ""
    if m.get(type_t) == "5":
        if not value.startswith("$1$") or value.count("$") != 3:
            raise CommandRejected("ERROR: The secret you entered is not a valid encrypted secret.\n"
                                  "To enter an UNENCRYPTED secret, do not specify type 5 "
                                  "encryption.\nWhen you properly enter an UNENCRYPTED secret, "
                                  "it will be encrypted.")
        return value
    return md5_crypt(value, salt_for(ctx.router.name + value))


def _password(m: Match, type_t: str, value_t: str) -> tuple[str | None, str | None]:
    """(cleartext, type-7 text) of a ``password [0|7] VALUE``."""
    value = m.get(value_t) or ""
    if m.get(type_t) == "7":
        if type7_decode(value) is None:
            raise invalid_at(m, value_t)
        return None, value
    return value, None


@handles("cfg_enable_secret")
def _enable_secret(ctx: ApplyContext, m: Match) -> None:
    ctx.config.enable_secret = _secret_hash(ctx, m, "EN_SECRET_TYPE", "EN_SECRET_VALUE")


@handles("cfg_enable_password")
def _enable_password(ctx: ApplyContext, m: Match) -> None:
    clear, t7 = _password(m, "EN_PASSWORD_TYPE", "EN_PASSWORD_VALUE")
    ctx.config.enable_password, ctx.config.enable_password_type7 = clear, t7


@handles("cfg_no_enable")
def _no_enable(ctx: ApplyContext, m: Match) -> None:
    if m.has("EN_SECRET"):
        ctx.config.enable_secret = None
    else:
        ctx.config.enable_password = ctx.config.enable_password_type7 = None


@handles("cfg_username")
def _username(ctx: ApplyContext, m: Match) -> None:
    name = m.get("USERNAME_NAME") or ""
    level = m.get("USER_PRIV_LEVEL")
    if level is not None and int(level) > 15:
        raise invalid_at(m, "USER_PRIV_LEVEL")
    user = UserAccount(name, int(level) if level is not None else None)
    if m.has("USER_SECRET"):
        user.secret = _secret_hash(ctx, m, "USER_SECRET_TYPE", "USER_SECRET_VALUE")
    else:
        user.password, user.password_type7 = _password(m, "USER_PASSWORD_TYPE",
                                                       "USER_PASSWORD_VALUE")
    ctx.config.users[name] = user


@handles("cfg_no_username")
def _no_username(ctx: ApplyContext, m: Match) -> None:
    ctx.config.users.pop(m.get("USERNAME_NAME") or "", None)


@handles("cfg_service_pwenc", "cfg_no_service_pwenc")
def _service_pwenc(ctx: ApplyContext, m: Match) -> None:
    ctx.config.service_password_encryption = not m.has("CFG_NO")


@handles("cfg_service_pad")
def _service_pad(ctx: ApplyContext, m: Match) -> None:
    ctx.config.service_pad = not m.has("CFG_NO")


@handles("cfg_service_timestamps")
def _service_timestamps(ctx: ApplyContext, m: Match) -> None:
    if m.has("SVC_TS_DEBUG"):
        ctx.config.timestamps_debug_msec = m.has("SVC_TS_MSEC")
    else:
        ctx.config.timestamps_log_msec = m.has("SVC_TS_MSEC")


@handles("cfg_ip_domain_name", "cfg_no_ip_domain_name")
def _domain_name(ctx: ApplyContext, m: Match) -> None:
    arg = m.arg("IP_DOMAIN_VALUE")
    if arg is not None and not arg.value.isascii():  # a DNS name (and an IKE FQDN identity)
        raise InvalidInput(arg.col + next(i for i, c in enumerate(arg.value) if c > "\x7f"))
    ctx.config.domain_name = None if m.has("CFG_NO") else m.get("IP_DOMAIN_VALUE")


@handles("cfg_ip_domain_lookup", "cfg_no_ip_domain_lookup")
def _domain_lookup(ctx: ApplyContext, m: Match) -> None:
    ctx.config.domain_lookup = not m.has("CFG_NO")


def banner_text(raw: str) -> str | None:
    """The text between the delimiters of ``banner motd ^text^`` (None if unterminated).

    The delimiter is the first character after the blanks (``^C`` counts as one); any
    character may be one, a no-break space or a form feed as well as ``#``.
    """
    raw = ios_strip(raw)
    if not raw:
        return None
    if raw.startswith("^C"):
        delim, body = "^C", raw[2:]
    else:
        delim, body = raw[0], raw[1:]
    end = body.find(delim)
    return None if end < 0 else body[:end]


#: The running-config setting of each banner, by the word that names it.
BANNERS = {"BANNER_EXEC": "banner_exec", "BANNER_LOGIN": "banner_login",
           "BANNER_MOTD": "banner_motd"}


@handles("cfg_banner", "cfg_no_banner")
def _banner(ctx: ApplyContext, m: Match) -> None:
    text = None if m.has("CFG_NO") else banner_text(m.get("BANNER_TEXT") or "")
    if text is None and not m.has("CFG_NO"):
        raise CommandRejected("% Banner text must end with the delimiting character.")
    setting = next(BANNERS[a.terminal] for a in m.args if a.terminal in BANNERS)
    setattr(ctx.config, setting, text)


@handles("cfg_version")
def _version(ctx: ApplyContext, m: Match) -> None:
    """``version 15.8`` in a saved config is informational; IOS keeps its own."""


@handles("cfg_boot_marker")
def _boot_marker(ctx: ApplyContext, m: Match) -> None:
    """The boot markers frame ``boot system`` lines; there are none to keep."""


@handles("cfg_aaa", "cfg_no_aaa")
def _aaa(ctx: ApplyContext, m: Match) -> None:
    ctx.config.aaa_new_model = not m.has("CFG_NO")


@handles("cfg_ip_cef", "cfg_no_ip_cef")
def _ip_cef(ctx: ApplyContext, m: Match) -> None:
    ctx.config.ip_cef = not m.has("CFG_NO")


@handles("cfg_ip_http", "cfg_no_ip_http")
def _ip_http(ctx: ApplyContext, m: Match) -> None:
    on = not m.has("CFG_NO")
    if m.has("IP_HTTP_SERVER"):
        ctx.config.http_server = on
    else:
        ctx.config.http_secure_server = on


@handles("cfg_ip_forward_protocol")
def _forward_protocol(ctx: ApplyContext, m: Match) -> None:
    """``ip forward-protocol nd`` is the IOS default and always shown."""


# ---------------------------------------------------------------- IOSv's own lines

#: The values IOSv's ``mmi`` lines always have (running-config prints them whatever is set).
_MMI_DEFAULTS = {"MMI_POLLING_SECONDS": "60", "MMI_SNMP_SECONDS": "180"}

register(Mode("red", "red_line", "(config-red)#", "config"))
register(Mode("cp", "cp_line", "(config-cp)#", "config"))


@handles("cfg_mmi")
def _mmi(ctx: ApplyContext, m: Match) -> None:
    """IOSv's ``mmi`` defaults (in every running-config it prints) are accepted; other
    values are not emulated."""
    for terminal, default in _MMI_DEFAULTS.items():
        value = m.get(terminal)
        if value is not None and value != default:
            words = " ".join(a.value for a in m.args)
            raise CommandRejected(f'% iosim: "{words}" is not emulated')


@handles("cfg_no_ipv6_cef", "cfg_multilink_bundle", "cfg_ipv6_ioam", "cfg_no_scheduler_allocate")
def _iosv_defaults(ctx: ApplyContext, m: Match) -> None:
    """Lines IOSv prints in every running-config, as its defaults: nothing to change."""


@handles("cfg_redundancy")
def _redundancy(ctx: ApplyContext, m: Match) -> Enter:
    return Enter("red")


@handles("cfg_control_plane")
def _control_plane(ctx: ApplyContext, m: Match) -> Enter:
    return Enter("cp")


# ---------------------------------------------------------------- interfaces


def refuse_subinterface(ctx: ApplyContext, name: str) -> None:
    """A subinterface of a port the router has (``g0/0.100``): not emulated (IOS would make
    it); a subinterface of a port it lacks is the caller's typo to report."""
    t = interface_type(name)
    parent, dot, _ = name.partition(".")
    if dot and t is not None and not t.virtual and parent in ctx.config.interfaces:
        raise NotEmulated(f"interface {name}")


def _check_interface(ctx: ApplyContext, m: Match, terminal: str) -> str:
    name = m.get(terminal) or ""
    t = interface_type(name)
    if t is None:
        raise invalid_at(m, terminal)
    refuse_subinterface(ctx, name)
    if not t.virtual and name not in ctx.config.interfaces and name != NULL_INTERFACE:
        raise invalid_at(m, terminal)
    return name


@handles("cfg_interface")
def _interface(ctx: ApplyContext, m: Match) -> Enter:
    name = _check_interface(ctx, m, "INTERFACE_NAME")
    if name == NULL_INTERFACE:
        return enter_null()
    if name not in ctx.config.interfaces:
        ctx.config.interfaces[name] = InterfaceConfig(name)
        ctx.router.interface_created(name)
    return Enter("if", name)


@handles("cfg_no_interface")
def _no_interface(ctx: ApplyContext, m: Match) -> None:
    name = _check_interface(ctx, m, "INTERFACE_NAME")
    t = interface_type(name)
    if t is None or not t.virtual:
        raise CommandRejected("% Removal of physical interfaces is not permitted.")
    intf = ctx.config.interfaces.get(name)
    if intf is not None:
        crypto = "crypto_map" in intf.features or tunnel_of(intf).protection is not None
        del ctx.config.interfaces[name]
        ctx.config.reindex_interface(name)
        if crypto:  # the last crypto map or protection may have gone with it
            isakmp_switch(ctx)
        ctx.router.interface_removed(name)


def _mask_ok(mask: IPv4Address) -> bool:
    v = int(mask)
    inv = (~v) & 0xFFFFFFFF
    return (inv & (inv + 1)) == 0


@handles("if_ip_address")
def _if_ip_address(ctx: ApplyContext, m: Match) -> None:
    intf = ctx.config.interfaces[ctx.target]
    addr = m.ipv4("IP_ADDRESS_VALUE")
    mask = m.ipv4("IP_ADDRESS_MASK")
    if not _mask_ok(mask) or int(mask) == 0:
        raise CommandRejected(f"Bad mask 0x{int(mask):X} for address {addr}")
    a, mk = int(addr), int(mask)
    prefixlen = bin(mk).count("1")
    if prefixlen < 31 and (a & ~mk & 0xFFFFFFFF) in (0, ~mk & 0xFFFFFFFF):
        raise CommandRejected(f"Bad mask /{prefixlen} for address {addr}")
    for name in sorted(ctx.config.address_index.overlapping(a, prefixlen),
                       key=interface_sort_key):
        if name != intf.name and not ctx.config.interfaces[name].shutdown:
            raise CommandRejected(f"% {IPv4Address(a & mk)} overlaps with {name}")
    if m.has("IP_ADDRESS_SECONDARY"):
        if (addr, mask) not in intf.secondaries:
            intf.secondaries.append((addr, mask))
    else:
        intf.address, intf.mask = addr, mask
    ctx.config.reindex_interface(intf.name)
    ctx.router.interface_changed(intf.name)


@handles("if_no_ip_address")
def _if_no_ip_address(ctx: ApplyContext, m: Match) -> None:
    intf = ctx.config.interfaces[ctx.target]
    if m.has("IP_ADDRESS_SECONDARY"):
        pair = (m.ipv4("IP_ADDRESS_VALUE"), m.ipv4("IP_ADDRESS_MASK"))
        if pair in intf.secondaries:
            intf.secondaries.remove(pair)
    else:
        intf.address = intf.mask = None
        intf.secondaries.clear()
    ctx.config.reindex_interface(intf.name)
    ctx.router.interface_changed(intf.name)


@handles("if_description", "if_no_description")
def _if_description(ctx: ApplyContext, m: Match) -> None:
    text = None if m.has("IF_NO") else truncate_bytes(m.get("IF_DESCRIPTION_TEXT") or "", 240)
    ctx.config.interfaces[ctx.target].description = text


@handles("if_shutdown", "if_no_shutdown")
def _if_shutdown(ctx: ApplyContext, m: Match) -> None:
    intf = ctx.config.interfaces[ctx.target]
    down = not m.has("IF_NO")
    if intf.shutdown != down:
        intf.shutdown = down
        ctx.router.interface_changed(intf.name, addressing=False)


@handles("if_duplex", "if_no_duplex")
def _if_duplex(ctx: ApplyContext, m: Match) -> None:
    _physical_only(ctx, m)
    value = None if m.has("IF_NO") else next(
        a.value for a in m.args if a.terminal in ("IF_AUTO", "IF_FULL", "IF_HALF"))
    ctx.config.interfaces[ctx.target].duplex = None if value == "auto" else value


@handles("if_speed", "if_no_speed")
def _if_speed(ctx: ApplyContext, m: Match) -> None:
    _physical_only(ctx, m)
    value = None if m.has("IF_NO") else (m.get("IF_SPEED_VALUE") or "auto")
    ctx.config.interfaces[ctx.target].speed = None if value == "auto" else value


@handles("if_media_type")
def _if_media_type(ctx: ApplyContext, m: Match) -> None:
    _physical_only(ctx, m)


def _physical_only(ctx: ApplyContext, m: Match) -> None:
    t = interface_type(ctx.target)
    if t is None or t.virtual:
        raise InvalidInput(m.args[1 if m.has("IF_NO") else 0].col)


# ---------------------------------------------------------------- static routes


@handles("cfg_ip_route")
def _ip_route(ctx: ApplyContext, m: Match) -> None:
    route = _route_from(ctx, m)
    ctx.config.static_routes[route.key()] = route  # the same route again replaces its options
    ctx.router.routes_changed()


@handles("cfg_no_ip_route")
def _no_ip_route(ctx: ApplyContext, m: Match) -> None:
    prefix = m.ipv4("ROUTE_PREFIX")
    mask = m.ipv4("ROUTE_MASK")
    has_target = m.has("ROUTE_NEXT_HOP") or m.has("ROUTE_INTERFACE")
    key = _route_from(ctx, m).key() if has_target else None
    doomed = [k for k, r in ctx.config.static_routes.items()
              if r.prefix == prefix and r.mask == mask and (key is None or k == key)]
    if not doomed:
        raise CommandRejected("%No matching route to delete")
    for k in doomed:
        del ctx.config.static_routes[k]
    ctx.router.routes_changed()


def _route_from(ctx: ApplyContext, m: Match) -> StaticRoute:
    prefix = m.ipv4("ROUTE_PREFIX")
    mask = m.ipv4("ROUTE_MASK")
    if not _mask_ok(mask):
        raise invalid_at(m, "ROUTE_MASK")
    if int(prefix) & ~int(mask) & 0xFFFFFFFF:
        raise CommandRejected("%Inconsistent address and mask")
    interface = m.get("ROUTE_INTERFACE")
    if interface is not None and interface not in ctx.config.interfaces and (
            interface != NULL_INTERFACE):
        raise invalid_at(m, "ROUTE_INTERFACE")
    hop = m.get("ROUTE_NEXT_HOP") or m.get("ROUTE_IF_NEXT_HOP")
    distance = m.get("ROUTE_DISTANCE")
    return StaticRoute(
        prefix, mask, ipv4_address(hop) if hop else None, interface,
        int(distance) if distance else 1, m.get("ROUTE_NAME_VALUE"), m.has("ROUTE_PERMANENT"),
    )


# ---------------------------------------------------------------- lines


@handles("cfg_line_cmd")
def _line(ctx: ApplyContext, m: Match) -> Enter:
    if m.has("LINE_CON"):
        kind, first, last = "con", int(m.get("LINE_CON_N") or 0), None
    elif m.has("LINE_AUX"):
        kind, first, last = "aux", int(m.get("LINE_AUX_N") or 0), None
    else:
        kind, first = "vty", int(m.get("LINE_VTY_FIRST") or 0)
        last = int(m.get("LINE_VTY_LAST") or first)
        if last < first:
            raise invalid_at(m, "LINE_VTY_LAST")
    last = first if last is None else last
    if kind != "vty" and first != 0:
        raise invalid_at(m, "LINE_CON_N" if kind == "con" else "LINE_AUX_N")
    for i, line in enumerate(ctx.config.lines):
        if (line.kind, line.first, line.last) == (kind, first, last):
            return Enter("line", i)
    ctx.config.lines.append(LineConfig(kind, first, last))
    ctx.config.lines.sort(key=lambda c: (("con", "aux", "vty").index(c.kind), c.first))
    for i, line in enumerate(ctx.config.lines):
        if (line.kind, line.first, line.last) == (kind, first, last):
            return Enter("line", i)
    raise AssertionError("line just added")  # pragma: no cover


@handles("line_password", "line_no_password")
def _line_password(ctx: ApplyContext, m: Match) -> None:
    line = ctx.config.lines[ctx.target]
    if m.has("LINE_NO"):
        line.password = line.password_type7 = None
    else:
        line.password, line.password_type7 = _password(m, "LINE_PASSWORD_TYPE",
                                                       "LINE_PASSWORD_VALUE")


@handles("line_login", "line_no_login")
def _line_login(ctx: ApplyContext, m: Match) -> None:
    line = ctx.config.lines[ctx.target]
    if m.has("LINE_NO"):
        line.login = None
    else:
        line.login = "local" if m.has("LINE_LOGIN_LOCAL") else "login"


@handles("line_transport", "line_no_transport")
def _line_transport(ctx: ApplyContext, m: Match) -> None:
    line = ctx.config.lines[ctx.target]
    if m.has("LINE_NO"):
        line.transport_input = None
        return
    protocols = [a.value for a in m.args
                 if a.terminal in ("LINE_T_ALL", "LINE_T_NONE", "LINE_T_SSH", "LINE_T_TELNET")]
    line.transport_input = tuple(sorted(set(protocols), key=protocols.index))


@handles("line_exec_timeout", "line_no_exec_timeout")
def _line_exec_timeout(ctx: ApplyContext, m: Match) -> None:
    line = ctx.config.lines[ctx.target]
    if m.has("LINE_NO"):
        line.exec_timeout = None
        return
    minutes, seconds = int(m.get("LINE_ET_MIN") or 0), int(m.get("LINE_ET_SEC") or 0)
    line.exec_timeout = None if (minutes, seconds) == (10, 0) else (minutes, seconds)


@handles("line_logging_sync", "line_no_logging_sync")
def _line_logging_sync(ctx: ApplyContext, m: Match) -> None:
    ctx.config.lines[ctx.target].logging_synchronous = not m.has("LINE_NO")


# ---------------------------------------------------------------- mode exits


@handles("cfg_exit", "cfg_end")
def _config_exit(ctx: ApplyContext, m: Match) -> Enter:
    return Enter("exec")


@handles("if_exit", "line_exit", "nacl_exit", "red_exit", "cp_exit")
def _sub_exit(ctx: ApplyContext, m: Match) -> Enter:
    return Enter("config")
