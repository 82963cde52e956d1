"""Write the running-config model back as IOS text, in IOS's order, defaults hidden.

Feature packages add their sections through ``SECTIONS``: a list of
``(anchor, renderer)`` pairs, the renderer returning the lines of its section; the
anchor names where in IOS's order the section goes.
"""

from __future__ import annotations

from collections.abc import Callable

from iosim.cli.interfaces import interface_type
from iosim.config.apply_acl import interface_lines as acl_interface_lines
from iosim.config.apply_acl import render_entry
from iosim.config.apply_null import null_interface_lines
from iosim.config.model import InterfaceConfig, LineConfig, RunningConfig, StaticRoute
from iosim.config.passwords import type7_encode
from iosim.net.routing import NULL_INTERFACE

SectionRenderer = Callable[[RunningConfig], list[str]]
#: Sections contributed by features, by where IOS puts them: "after-boot" (``logging
#: buffered`` comes before ``enable secret``), "after-aaa" (``aaa authentication``, after
#: ``aaa new-model``), "before-interfaces" (``ip ssh``, crypto, after ``redundancy``),
#: "after-interfaces" (``router ospf``, after the last interface), "before-routes" (``ip
#: nat`` rules come just before ``ip route``), "after-routes" (``logging host``, after the
#: named access lists and just before ``ipv6 ioam timestamp``).
SECTIONS: dict[str, list[SectionRenderer]] = {
    "after-boot": [], "after-aaa": [], "before-interfaces": [], "after-interfaces": [],
    "before-routes": [], "after-routes": []}
InterfaceRenderer = Callable[[RunningConfig, InterfaceConfig], list[str]]
#: Lines inside an interface block before its addresses (``bandwidth``) ...
INTERFACE_HEAD_LINES: list[InterfaceRenderer] = []
#: ... right after its addresses (``ip nat inside``) ...
INTERFACE_LINES: list[InterfaceRenderer] = []
#: ... and at its end, after duplex and speed (``crypto map``).
INTERFACE_TAIL_LINES: list[InterfaceRenderer] = []


def _password_words(clear: str | None, t7: str | None, encrypt: bool) -> str | None:
    if t7 is not None:
        return f"7 {t7}"
    if clear is None:
        return None
    return f"7 {type7_encode(clear)}" if encrypt else clear


def render_interface(cfg: RunningConfig, intf: InterfaceConfig) -> list[str]:
    """The ``interface`` block of one interface (without the ``!`` that follows it)."""
    out = [f"interface {intf.name}"]
    if intf.description is not None:
        out.append(f" description {intf.description}")
    for extra in INTERFACE_HEAD_LINES:
        out.extend(extra(cfg, intf))
    if intf.address is None:
        out.append(" no ip address")
    else:
        for addr, mask in intf.secondaries:
            out.append(f" ip address {addr} {mask} secondary")
        out.append(f" ip address {intf.address} {intf.mask}")
    out.extend(acl_interface_lines(intf))
    for extra in INTERFACE_LINES:
        out.extend(extra(cfg, intf))
    if intf.shutdown:
        out.append(" shutdown")
    t = interface_type(intf.name)
    if t is not None and not t.virtual:
        out.append(f" duplex {intf.duplex or 'auto'}")
        out.append(f" speed {intf.speed or 'auto'}")
        if t.name == "GigabitEthernet":
            out.append(" media-type rj45")
    for extra in INTERFACE_TAIL_LINES:
        out.extend(extra(cfg, intf))
    return out


def _render_line(cfg: RunningConfig, line: LineConfig) -> list[str]:
    head = f"line {line.kind} {line.first}"
    if line.last != line.first:
        head += f" {line.last}"
    out = [head]
    if line.exec_timeout is not None:
        out.append(f" exec-timeout {line.exec_timeout[0]} {line.exec_timeout[1]}")
    if line.logging_synchronous:
        out.append(" logging synchronous")
    pw = _password_words(line.password, line.password_type7, cfg.service_password_encryption)
    if pw is not None:
        out.append(f" password {pw}")
    if line.login == "local":
        out.append(" login local")
    elif line.login == "login":
        out.append(" login")
    if line.transport_input is not None and line.kind != "con":
        out.append(f" transport input {' '.join(line.transport_input)}")
    return out


#: What IOSv always prints, whatever is configured: the mmi defaults ...
_MMI_DEFAULTS = ["mmi polling-interval 60", "no mmi auto-configure", "no mmi pvc",
                 "mmi snmp-timeout 180"]


def _head_lines(cfg: RunningConfig) -> list[str]:
    """From ``version`` to ``boot-end-marker``."""
    return ["!", f"version {cfg.version}", *(["service pad"] if cfg.service_pad else []),
            "service timestamps debug datetime" + (" msec" if cfg.timestamps_debug_msec else ""),
            "service timestamps log datetime" + (" msec" if cfg.timestamps_log_msec else ""),
            ("" if cfg.service_password_encryption else "no ") + "service password-encryption",
            "!", f"hostname {cfg.hostname}", "!", "boot-start-marker", "boot-end-marker"]


def _enable_lines(cfg: RunningConfig) -> list[str]:
    out = []
    if cfg.enable_secret is not None:
        out.append(f"enable secret 5 {cfg.enable_secret}")
    pw = _password_words(cfg.enable_password, cfg.enable_password_type7,
                         cfg.service_password_encryption)
    if pw is not None:
        out.append(f"enable password {pw}")
    return out


def _user_lines(cfg: RunningConfig) -> list[str]:
    out = []
    for user in cfg.users.values():
        words = [f"username {user.name}"]
        if user.privilege is not None:
            words.append(f"privilege {user.privilege}")
        if user.secret is not None:
            words.append(f"secret 5 {user.secret}")
        else:
            upw = _password_words(user.password, user.password_type7,
                                  cfg.service_password_encryption)
            shown = upw if upw and upw.startswith("7 ") else f"0 {upw or ''}"
            words.append(f"password {shown}")
        out.append(" ".join(words))
    return out


def _route_line(r: StaticRoute) -> str:
    words = [f"ip route {r.prefix} {r.mask}"]
    if r.interface:
        words.append(r.interface)
    if r.next_hop:
        words.append(str(r.next_hop))
    if r.distance != 1:
        words.append(str(r.distance))
    if r.name:
        words.append(f"name {r.name}")
    if r.permanent:
        words.append("permanent")
    return " ".join(words)


def _named_acl_lines(cfg: RunningConfig) -> list[str]:
    out = []
    for acl in cfg.acls.values():
        if not acl.numbered:
            out.append(f"ip access-list {'extended' if acl.extended else 'standard'} {acl.name}")
            out.extend(f" {render_entry(e)}" for e in acl.entries)
    return out


def _numbered_acl_lines(cfg: RunningConfig) -> list[str]:
    numbered = sorted((a for a in cfg.acls.values() if a.numbered), key=lambda a: int(a.name))
    return [f"access-list {acl.name} {render_entry(e)}" for acl in numbered
            for e in acl.entries]


def _sections(where: str, cfg: RunningConfig) -> list[str]:
    return [line for section in SECTIONS[where] for line in section(cfg)]


def _closed(lines: list[str]) -> list[str]:
    """A block of lines and the ``!`` after it; nothing for no lines."""
    return [*lines, "!"] if lines else []


def config_lines(cfg: RunningConfig) -> list[str]:
    """Every line of the running-config body, from the first ``!`` to ``end``, in IOSv's
    order with the lines IOSv always prints (``mmi``, ``no ipv6 cef``, ``multilink
    bundle-name authenticated``, ``redundancy``, ``ipv6 ioam timestamp``, ``control-plane``,
    ``no scheduler allocate``) and its runs of ``!``."""
    out = _head_lines(cfg)
    out += ["!", "!", *_sections("after-boot", cfg), *_enable_lines(cfg), "!"]
    out += ["aaa new-model" if cfg.aaa_new_model else "no aaa new-model",
            *_sections("after-aaa", cfg), "!", "!", "!"]
    out += [*_MMI_DEFAULTS, "!", ""]
    if not cfg.domain_lookup:
        out.append("no ip domain lookup")
    if cfg.domain_name is not None:
        out.append(f"ip domain name {cfg.domain_name}")
    out += ["ip cef" if cfg.ip_cef else "no ip cef", "no ipv6 cef", "!"]
    out += ["multilink bundle-name authenticated", "!", "!", *_user_lines(cfg), "!"]
    out += ["redundancy", "!", "!", "!", *_closed(_sections("before-interfaces", cfg))]
    out += _closed(null_interface_lines(cfg.null0))
    for intf in cfg.sorted_interfaces():
        out += [*render_interface(cfg, intf), "!"]
    out += _sections("after-interfaces", cfg)
    out += ["ip forward-protocol nd", "!", "!"]
    out.append("ip http server" if cfg.http_server else "no ip http server")
    if cfg.http_secure_server:
        out.append("ip http secure-server")
    out += _sections("before-routes", cfg)
    out += [_route_line(r) for r in cfg.sorted_routes()]
    out += ["!", *_closed(_named_acl_lines(cfg)), *_sections("after-routes", cfg)]
    out += ["ipv6 ioam timestamp", "!", "!", *_numbered_acl_lines(cfg), "!"]
    out += ["control-plane", "!"]
    out += [f"banner {kind} ^C{text}^C" for kind, text in
            (("exec", cfg.banner_exec), ("login", cfg.banner_login), ("motd", cfg.banner_motd))
            if text is not None]
    out.append("!")
    for line in cfg.lines:
        out.extend(_render_line(cfg, line))
    out += ["!", "no scheduler allocate", "!", "end"]
    return out


def running_config_text(cfg: RunningConfig, history: list[str] | tuple[str, ...] = ()) -> str:
    """``show running-config``: the header and the whole configuration; ``history`` are
    the comment lines IOS puts first (``! Last configuration change at ...``)."""
    lines = config_lines(cfg)
    if history:
        lines = ["!", *history, *lines]
    body = "\n".join(lines) + "\n"
    return f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n{body}"


def interface_config_text(cfg: RunningConfig, intf: InterfaceConfig) -> str:
    """``show running-config interface NAME``."""
    return _block_text(render_interface(cfg, intf))


def null_config_text(cfg: RunningConfig) -> str:
    """``show running-config interface Null0``: its block, the bare ``interface Null0`` line
    when it holds only defaults."""
    return _block_text(null_interface_lines(cfg.null0) or [f"interface {NULL_INTERFACE}"])


def _block_text(block: list[str]) -> str:
    body = "\n".join(["!", *block, "end"]) + "\n"
    return f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n{body}"
