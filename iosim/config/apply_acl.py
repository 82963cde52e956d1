"""Handlers of IP access lists, numbered and named, standard and extended, and of the
interface commands that apply them (``ip access-group``, ``ip unreachables``).

An ACL's entries are an :class:`iosim.config.model.AclEntries`: adding, finding and removing
a line costs O(log n), so a 20,000-line list types and boots as fast per line as a short one.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from iosim.cli.errors import CommandRejected
from iosim.cli.matcher import Match, ipv4_address
from iosim.config.handlers import ApplyContext, Enter, handles, invalid_at
from iosim.config.model import AccessList, AclEntry, AddressMatch, InterfaceConfig, PortMatch

#: IP protocol keywords and numbers (the numbers IOS renders back as keywords).
PROTOCOLS: dict[str, int] = {"ip": 0, "icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50,
                             "ahp": 51}
PROTOCOL_NAMES: dict[int, str] = {v: k for k, v in PROTOCOLS.items()}

#: Port names IOS accepts and renders (ports without a name render as numbers).
TCP_PORTS: dict[str, int] = {"bgp": 179, "domain": 53, "ftp": 21, "ftp-data": 20, "pop3": 110,
                             "smtp": 25, "telnet": 23, "www": 80, "cmd": 514, "whois": 43}
UDP_PORTS: dict[str, int] = {"biff": 512, "bootpc": 68, "bootps": 67, "domain": 53,
                             "isakmp": 500, "non500-isakmp": 4500, "ntp": 123, "snmp": 161,
                             "snmptrap": 162, "syslog": 514, "tftp": 69, "rip": 520}
ICMP_TYPES: dict[str, int] = {"echo-reply": 0, "unreachable": 3, "echo": 8,
                              "time-exceeded": 11, "parameter-problem": 12}

_ZERO = IPv4Address("0.0.0.0")
_ANY = AddressMatch(_ZERO, IPv4Address("255.255.255.255"))


def _address(m: Match, any_t: str, host_t: str, addr_t: str, wild_t: str) -> AddressMatch:
    if m.has(any_t):
        return _ANY
    host = m.get(host_t)
    if host is not None:
        return AddressMatch(ipv4_address(host), _ZERO)
    wildcard = m.ipv4(wild_t, "0.0.0.0")
    addr = IPv4Address(int(m.ipv4(addr_t)) & ~int(wildcard) & 0xFFFFFFFF)
    return AddressMatch(addr, wildcard)


def _port(m: Match, ops: tuple[str, ...], port_t: str, table: dict[str, int]) -> PortMatch | None:
    op = next((a.value for a in m.args if a.terminal in ops), None)
    if op is None:
        return None
    text = m.get(port_t) or ""
    if text.isascii() and text.isdigit():
        if int(text) > 65535:
            raise invalid_at(m, port_t)
        return PortMatch(op, int(text))
    if text not in table:
        raise invalid_at(m, port_t)
    return PortMatch(op, table[text])


def _action(m: Match) -> str:
    return "permit" if m.has("ACE_PERMIT") else "deny"


def standard_entry(m: Match, seq: int) -> AclEntry:
    """The entry a standard ACE line describes."""
    if m.has("STD_ANY"):
        source = _ANY
    elif m.has("STD_HOST"):
        source = AddressMatch(m.ipv4("STD_HOST_ADDR"), _ZERO)
    else:
        wildcard = m.ipv4("STD_WILDCARD", "0.0.0.0")
        addr = m.ipv4("STD_ADDR")
        source = AddressMatch(IPv4Address(int(addr) & ~int(wildcard) & 0xFFFFFFFF), wildcard)
    return AclEntry(seq, _action(m), None, source, log=m.has("ACE_LOG"))


def extended_entry(m: Match, seq: int) -> AclEntry:
    """The entry an extended ACE line describes."""
    proto_word = next(a for a in m.args if a.terminal.startswith("PROTO_"))
    protocol = PROTOCOLS.get(proto_word.value)
    if protocol is None:
        protocol = int(proto_word.value)
        if protocol > 255:
            raise invalid_at(m, proto_word.terminal)
    src = _address(m, "SRC_ANY", "SRC_HOST_ADDR", "SRC_ADDR", "SRC_WILDCARD")
    dst = _address(m, "DST_ANY", "DST_HOST_ADDR", "DST_ADDR", "DST_WILDCARD")
    table = TCP_PORTS if protocol == 6 else UDP_PORTS
    sport = _port(m, ("SRC_EQ", "SRC_NEQ", "SRC_GT", "SRC_LT"), "SRC_PORT", table)
    dport = _port(m, ("DST_EQ", "DST_NEQ", "DST_GT", "DST_LT"), "DST_PORT", table)
    icmp = m.get("ICMP_TYPE")
    icmp_type = None
    if icmp is not None:
        icmp_type = int(icmp) if icmp.isascii() and icmp.isdigit() else ICMP_TYPES.get(icmp)
        if icmp_type is None or icmp_type > 255:
            raise invalid_at(m, "ICMP_TYPE")
    return AclEntry(seq, _action(m), protocol, src, dst, sport, dport, icmp_type,
                    log=m.has("ACE_LOG"))


def _add(acl: AccessList, entry: AclEntry) -> None:
    """Add ``entry`` unless the list already says the same (IOS ignores duplicates)."""
    if acl.entries.get(entry.seq) is not None:
        raise CommandRejected("% Duplicate sequence number")
    acl.entries.add(entry, repeat_ok=False)


def _numbered(ctx: ApplyContext, m: Match, extended: bool) -> AccessList:
    number = m.get("ACL_EXT_NUM" if extended else "ACL_STD_NUM") or ""
    acl = ctx.config.acls.get(number)
    if acl is None:
        acl = AccessList(number, extended, numbered=True)
    return acl


def _store(ctx: ApplyContext, acl: AccessList) -> None:
    ctx.config.acls.setdefault(acl.name, acl)
    ctx.router.acls_changed()


@handles("cfg_acl_std")
def _acl_std(ctx: ApplyContext, m: Match) -> None:
    acl = _numbered(ctx, m, extended=False)
    _add(acl, standard_entry(m, acl.next_seq()))
    _store(ctx, acl)


@handles("cfg_acl_ext")
def _acl_ext(ctx: ApplyContext, m: Match) -> None:
    acl = _numbered(ctx, m, extended=True)
    _add(acl, extended_entry(m, acl.next_seq()))
    _store(ctx, acl)


@handles("cfg_acl_remark")
def _acl_remark(ctx: ApplyContext, m: Match) -> None:
    acl = _numbered(ctx, m, extended=m.has("ACL_EXT_NUM"))
    acl.entries.add(AclEntry(acl.next_seq(), "remark", remark=m.get("ACE_REMARK_TEXT")))
    _store(ctx, acl)


@handles("cfg_no_acl")
def _no_acl(ctx: ApplyContext, m: Match) -> None:
    name = m.get("ACL_EXT_NUM") or m.get("ACL_STD_NUM") or ""
    if ctx.config.acls.pop(name, None) is not None:
        ctx.router.acls_changed()


@handles("cfg_ip_acl")
def _ip_acl(ctx: ApplyContext, m: Match) -> Enter:
    name = m.get("IP_ACL_NAME") or ""
    extended = m.has("IP_ACL_EXTENDED")
    if name.isascii() and name.isdigit():
        n = int(name)
        if extended != (100 <= n <= 199 or 2000 <= n <= 2699) or not (
                extended or 1 <= n <= 99 or 1300 <= n <= 1999):
            raise invalid_at(m, "IP_ACL_NAME")
    acl = ctx.config.acls.get(name)
    if acl is not None and acl.extended != extended:
        raise CommandRejected(f"% A named {'standard' if acl.extended is False else 'extended'}"
                              f" IP access list with this name already exists")
    if acl is None:
        numbered = name.isascii() and name.isdigit()
        ctx.config.acls[name] = AccessList(name, extended, numbered=numbered)
    return Enter("ext_nacl" if extended else "std_nacl", name)


@handles("cfg_no_ip_acl")
def _no_ip_acl(ctx: ApplyContext, m: Match) -> None:
    if ctx.config.acls.pop(m.get("IP_ACL_NAME") or "", None) is not None:
        ctx.router.acls_changed()


def _current(ctx: ApplyContext) -> AccessList:
    return ctx.config.acls[ctx.target]


@handles("std_nacl_entry", "ext_nacl_entry")
def _nacl_entry(ctx: ApplyContext, m: Match) -> None:
    acl = _current(ctx)
    seq_text = m.get("ACE_SEQ")
    seq = int(seq_text) if seq_text else acl.next_seq()
    if seq_text and not 1 <= seq <= 2147483647:
        raise invalid_at(m, "ACE_SEQ")
    entry = extended_entry(m, seq) if acl.extended else standard_entry(m, seq)
    _add(acl, entry)
    ctx.router.acls_changed()


@handles("std_nacl_no_entry", "ext_nacl_no_entry")
def _nacl_no_entry(ctx: ApplyContext, m: Match) -> None:
    acl = _current(ctx)
    probe = extended_entry(m, 0) if acl.extended else standard_entry(m, 0)
    acl.entries.remove_rule(probe)
    ctx.router.acls_changed()


@handles("nacl_no_seq")
def _nacl_no_seq(ctx: ApplyContext, m: Match) -> None:
    acl = _current(ctx)
    acl.entries.remove(int(m.get("ACE_SEQ") or 0))
    ctx.router.acls_changed()


@handles("nacl_remark")
def _nacl_remark(ctx: ApplyContext, m: Match) -> None:
    acl = _current(ctx)
    acl.entries.add(AclEntry(acl.next_seq(), "remark", remark=m.get("ACE_REMARK_TEXT")))


# ---------------------------------------------------------------- interfaces


@handles("if_ip_access_group")
def _ip_access_group(ctx: ApplyContext, m: Match) -> None:
    """``ip access-group N|NAME in|out``: one list per direction (a new one replaces it);
    a list not (yet) defined filters nothing, as on IOS."""
    name = m.get("ACG_ACL_NUM") or m.get("ACG_ACL_EXP") or m.get("ACG_ACL_NAME") or ""
    if m.has("ACG_ACL_NAME") and name.isascii() and name.isdigit():
        raise invalid_at(m, "ACG_ACL_NAME")  # a number outside both ranges
    intf = ctx.config.interfaces[str(ctx.target)]
    if m.has("ACG_IN"):
        intf.access_group_in = name
    else:
        intf.access_group_out = name
    ctx.router.acls_changed()


@handles("if_no_ip_access_group")
def _no_ip_access_group(ctx: ApplyContext, m: Match) -> None:
    intf = ctx.config.interfaces[str(ctx.target)]
    if m.has("ACG_IN"):
        intf.access_group_in = None
    else:
        intf.access_group_out = None
    ctx.router.acls_changed()


@handles("if_ip_unreachables", "if_no_ip_unreachables")
def _ip_unreachables(ctx: ApplyContext, m: Match) -> None:
    ctx.config.interfaces[str(ctx.target)].unreachables = not m.has("IF_NO")
    ctx.router.acls_changed()


def interface_lines(intf: InterfaceConfig) -> list[str]:
    """The interface's filtering lines, as running-config shows them under its addresses."""
    out = [f" ip access-group {name} {way}"
           for name, way in ((intf.access_group_in, "in"), (intf.access_group_out, "out"))
           if name is not None]
    if not intf.unreachables:
        out.append(" no ip unreachables")
    return out


# ---------------------------------------------------------------- rendering


def render_address(a: AddressMatch) -> str:
    """``any``, ``host A`` or ``A WILDCARD``."""
    if a.is_any:
        return "any"
    if a.is_host:
        return f"host {a.address}"
    return f"{a.address} {a.wildcard}"


def render_port(p: PortMatch, protocol: int) -> str:
    table = TCP_PORTS if protocol == 6 else UDP_PORTS
    name = next((k for k, v in table.items() if v == p.port), str(p.port))
    return f"{p.op} {name}"


def render_entry(e: AclEntry) -> str:
    """The body of an entry as running-config shows it (after ``access-list N``)."""
    if e.action == "remark":
        return f"remark {e.remark}"
    log = " log" if e.log else ""
    if e.protocol is None:
        assert e.source is not None
        if e.source.is_any:
            src = "any"
        elif e.source.is_host:
            src = str(e.source.address)
        else:
            src = f"{e.source.address} {e.source.wildcard}"
        return f"{e.action} {src}{log}"
    assert e.source is not None and e.destination is not None
    words = [e.action, PROTOCOL_NAMES.get(e.protocol, str(e.protocol)), render_address(e.source)]
    if e.source_port:
        words.append(render_port(e.source_port, e.protocol))
    words.append(render_address(e.destination))
    if e.destination_port:
        words.append(render_port(e.destination_port, e.protocol))
    if e.icmp_type is not None:
        words.append(next((k for k, v in ICMP_TYPES.items() if v == e.icmp_type),
                          str(e.icmp_type)))
    return " ".join(words) + log


def render_entry_show(e: AclEntry) -> str:
    """The body of an entry as ``show access-lists`` shows it: a standard entry's action is
    padded to the width of ``permit`` (``deny   any``) and a wildcard spelled out."""
    if e.protocol is None and e.action != "remark":
        assert e.source is not None
        log = " log" if e.log else ""
        if e.source.is_any:
            src = "any"
        elif e.source.is_host:
            src = str(e.source.address)
        else:
            src = f"{e.source.address}, wildcard bits {e.source.wildcard}"
        return f"{e.action:<6} {src}{log}"
    return render_entry(e)
