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
from iosim.config.model import InterfaceConfig, LineConfig, RunningConfig
from iosim.config.passwords import type7_encode

SectionRenderer = Callable[[RunningConfig], list[str]]
#: Sections contributed by features, by where IOS puts them: "after-boot" (``logging
#: buffered`` comes before ``enable secret``), "before-interfaces" (crypto), "before-routes"
#: (``ip nat`` rules come just before ``ip route``), "after-routes".
SECTIONS: dict[str, list[SectionRenderer]] = {
    "after-boot": [], "before-interfaces": [], "before-routes": [], "after-routes": []}
InterfaceRenderer = Callable[[RunningConfig, InterfaceConfig], list[str]]
#: Lines inside an interface block right after its addresses (``ip nat inside``) ...
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


def config_lines(cfg: RunningConfig) -> list[str]:
    """Every line of the running-config body, from the first ``!`` to ``end``."""
    out: list[str] = ["!", f"version {cfg.version}"]
    out.append("service timestamps debug datetime" + (" msec" if cfg.timestamps_debug_msec else ""))
    out.append("service timestamps log datetime" + (" msec" if cfg.timestamps_log_msec else ""))
    out.append(("" if cfg.service_password_encryption else "no ") + "service password-encryption")
    out += ["!", f"hostname {cfg.hostname}", "!", "boot-start-marker", "boot-end-marker", "!",
            "!"]
    for section in SECTIONS["after-boot"]:
        out.extend(section(cfg))
    if cfg.enable_secret is not None:
        out.append(f"enable secret 5 {cfg.enable_secret}")
    pw = _password_words(cfg.enable_password, cfg.enable_password_type7,
                         cfg.service_password_encryption)
    if pw is not None:
        out.append(f"enable password {pw}")
    out += ["!", "aaa new-model" if cfg.aaa_new_model else "no aaa new-model", "!", "!", "!"]
    if not cfg.domain_lookup:
        out.append("no ip domain lookup")
    if cfg.domain_name is not None:
        out.append(f"ip domain name {cfg.domain_name}")
    out.append("ip cef" if cfg.ip_cef else "no ip cef")
    out.append("!")
    if cfg.users:
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
        out.append("!")
    for section in SECTIONS["before-interfaces"]:
        out.extend(section(cfg))
    out.append("!")
    for intf in cfg.sorted_interfaces():
        out.extend(render_interface(cfg, intf))
        out.append("!")
    out.append("ip forward-protocol nd")
    out.append("!")
    out.append("ip http server" if cfg.http_server else "no ip http server")
    out.append("ip http secure-server" if cfg.http_secure_server else "no ip http secure-server")
    for section in SECTIONS["before-routes"]:
        out.extend(section(cfg))
    for r in cfg.sorted_routes():
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
        out.append(" ".join(words))
    out.append("!")
    for acl in cfg.acls.values():
        if acl.numbered:
            continue
        out.append(f"ip access-list {'extended' if acl.extended else 'standard'} {acl.name}")
        out.extend(f" {render_entry(e)}" for e in acl.entries)
    if any(not a.numbered for a in cfg.acls.values()):
        out.append("!")
    for section in SECTIONS["after-routes"]:
        out.extend(section(cfg))
    numbered = [a for a in cfg.acls.values() if a.numbered]
    for acl in sorted(numbered, key=lambda a: int(a.name)):
        out.extend(f"access-list {acl.name} {render_entry(e)}" for e in acl.entries)
    if numbered:
        out.append("!")
    if cfg.banner_motd is not None:
        out.append(f"banner motd ^C{cfg.banner_motd}^C")
    out.append("!")
    for line in cfg.lines:
        out.extend(_render_line(cfg, line))
    out += ["!", "end"]
    return out


def running_config_text(cfg: RunningConfig) -> str:
    """``show running-config``: the header and the whole configuration."""
    body = "\n".join(config_lines(cfg)) + "\n"
    return f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n{body}"


def interface_config_text(cfg: RunningConfig, intf: InterfaceConfig) -> str:
    """``show running-config interface NAME``."""
    body = "\n".join(["!", *render_interface(cfg, intf), "end"]) + "\n"
    return f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n{body}"
