"""Pure renderers of the base show commands: router state in, IOS text out."""

from __future__ import annotations

import hashlib
from collections import Counter
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from iosim.cli.interfaces import interface_type
from iosim.cli.lines import byte_length
from iosim.config.apply_acl import render_entry_show
from iosim.config.render import config_lines
from iosim.net.packets import format_ip
from iosim.net.routing import RibEntry, Route
from iosim.router import NvramError

if TYPE_CHECKING:
    from iosim.router import Router

_EXPORT_NOTICE = """\
This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use. Delivery of Cisco cryptographic products does not imply
third-party authority to import, export, distribute or use encryption.
Importers, exporters, distributors and users are responsible for
compliance with U.S. and local country laws. By using this product you
agree to comply with applicable laws and regulations. If you are unable
to comply with U.S. and local laws, return this product immediately.

A summary of U.S. laws governing Cisco cryptographic products may be found at:
http://www.cisco.com/wwl/export/crypto/tool/stqrg.html

If you require further assistance please contact us by sending email to
export@cisco.com.
"""

_TYPE_WORDS = {"GigabitEthernet": "Gigabit Ethernet", "FastEthernet": "FastEthernet"}


def uptime_text(seconds: float) -> str:
    """``1 week, 3 days, 16 hours, 11 minutes`` (minutes always shown)."""
    minutes = int(seconds // 60)
    parts = []
    for unit, size in (("year", 525600), ("week", 10080), ("day", 1440), ("hour", 60)):
        n, minutes = divmod(minutes, size)
        if n:
            parts.append(f"{n} {unit}{'s' if n != 1 else ''}")
    parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return ", ".join(parts)


def board_id(name: str) -> str:
    """A processor board ID, stable for a device name."""
    digest = hashlib.sha256(name.encode()).hexdigest().upper()
    return "9" + "".join(c for c in digest if c.isalnum())[:19]


def show_version(router: Router) -> str:
    counts = Counter(t.name for t in (interface_type(n) for n in router.physical) if t)
    hw = "".join(f"{n} {_TYPE_WORDS.get(k, k)} interfaces\n" for k, n in sorted(counts.items()))
    return (
        "Cisco IOS Software, IOSv Software (VIOS-ADVENTERPRISEK9-M), Version 15.8(3)M2, "
        "RELEASE SOFTWARE (fc2)\n"
        "Technical Support: http://www.cisco.com/techsupport\n"
        "Copyright (c) 1986-2019 by Cisco Systems, Inc.\n"
        "Compiled Thu 28-Mar-19 14:06 by prod_rel_team\n\n\n"
        "ROM: Bootstrap program is IOSv\n\n"
        f"{router.config.hostname} uptime is {uptime_text(router.clock.now - router.boot_time)}\n"
        "System returned to ROM by reload\n"
        'System image file is "flash0:/vios-adventerprisek9-m"\n'
        f"Last reload reason: {router.reload_reason}\n\n\n\n"
        f"{_EXPORT_NOTICE}\n"
        "Cisco IOSv (revision 1.0) with  with 460137K/62464K bytes of memory.\n"
        f"Processor board ID {board_id(router.name)}\n"
        f"{hw}"
        "DRAM configuration is 72 bits wide with parity disabled.\n"
        "256K bytes of non-volatile configuration memory.\n"
        "2097152K bytes of ATA System CompactFlash 0 (Read/Write)\n"
        "0K bytes of ATA CompactFlash 1 (Read/Write)\n"
        "11217K bytes of ATA CompactFlash 2 (Read/Write)\n"
        "0K bytes of ATA CompactFlash 3 (Read/Write)\n\n\n\n"
        "Configuration register is 0x0\n"
    )


def show_clock(router: Router) -> str:
    t = router.wall_time()
    return (f"*{t.strftime('%H:%M:%S')}.{t.microsecond // 1000:03d} UTC "
            f"{t.strftime('%a %b')} {t.day} {t.year}\n")


def show_ip_interface_brief(router: Router) -> str:
    out = ["Interface                  IP-Address      OK? Method Status                Protocol"]
    for intf in router.config.sorted_interfaces():
        status, proto = router.interface_up(intf.name)
        st = router.state.get(intf.name)
        method = "unset" if intf.address is None else (st.method if st else "NVRAM")
        if intf.address is None and st is not None and st.method == "NVRAM":
            method = "NVRAM"
        addr = str(intf.address) if intf.address else "unassigned"
        out.append(f"{intf.name:<27}{addr:<16}YES {method:<7}{status:<22}{proto}")
    return "\n".join(out) + "\n"


def _mac(router: Router, name: str) -> str:
    digest = hashlib.sha256(f"{router.name}/{name}".encode()).digest()
    mac = bytes([0x52, 0x54, 0x00]) + digest[:3]
    h = mac.hex()
    return f"{h[0:4]}.{h[4:8]}.{h[8:12]}"


def show_interfaces(router: Router, only: str | None = None) -> str:
    out: list[str] = []
    for intf in router.config.sorted_interfaces():
        if only is not None and intf.name != only:
            continue
        status, proto = router.interface_up(intf.name)
        t = interface_type(intf.name)
        st = router.state.get(intf.name)
        c = st.counters if st else None
        out.append(f"{intf.name} is {status}, line protocol is {proto} ")
        if t is not None and t.name == "Loopback":
            out.append("  Hardware is Loopback")
        elif t is not None and t.name == "Tunnel":
            out.append("  Hardware is Tunnel")
        else:
            mac = _mac(router, intf.name)
            out.append(f"  Hardware is iGbE, address is {mac} (bia {mac})")
        if intf.description is not None:
            out.append(f"  Description: {intf.description}")
        if intf.network is not None:
            out.append(f"  Internet address is {intf.address}/{intf.network.prefixlen}")
        loop = t is not None and t.name == "Loopback"
        mtu, bw, dly = (1514, 8000000, 5000) if loop else (1500, 1000000, 10)
        out.append(f"  MTU {mtu} bytes, BW {bw} Kbit/sec, DLY {dly} usec, ")
        out.append("     reliability 255/255, txload 1/255, rxload 1/255")
        out.append("  Encapsulation LOOPBACK, loopback not set" if loop
                   else "  Encapsulation ARPA, loopback not set")
        out.append("  Keepalive set (10 sec)")
        if c is not None:
            out.append(f"     {c.input_packets} packets input, {c.input_bytes} bytes, 0 no buffer")
            out.append(f"     {c.input_errors} input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored")
            out.append(f"     {c.output_packets} packets output, {c.output_bytes} bytes, "
                       "0 underruns")
            out.append("     0 output errors, 0 collisions, 0 interface resets")
            out.append(f"     {c.output_drops} output drops")
    return "\n".join(out) + "\n" if out else ""


# The second line ends with a space, as IOS prints it.
_LEGEND = """\
Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP
       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area\x20
       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2
       E1 - OSPF external type 1, E2 - OSPF external type 2
       i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2
       ia - IS-IS inter area, * - candidate default, U - per-user static route
       o - ODR, P - periodic downloaded static route, H - NHRP, l - LISP
       a - application route
       + - replicated route, % - next hop override, p - overrides from PfR
"""


def _path_text(r: Route) -> str:
    """``[1/0] via 198.51.100.2`` or ``is directly connected, Gi0/0``."""
    if r.next_hop is None:
        return f"is directly connected, {r.interface}"
    via = f"via {format_ip(r.next_hop)}" + (f", {r.interface}" if r.interface else "")
    return f"[{r.distance}/{r.metric}] {via}"


def _entry_lines(entry: RibEntry, width: int, with_length: bool = True) -> list[str]:
    """An installed prefix; under "is subnetted" (one mask) IOS leaves the length out."""
    best = entry.best
    prefix = format_ip(entry.network) + (f"/{entry.prefix_len}" if with_length else "")
    lines = [f"{best.code:<{width}}{prefix} {_path_text(best)}"]
    pad = " " * (width + len(prefix) + 1)
    lines += [f"{pad}{_path_text(p)}" for p in entry.paths[1:]]
    return lines


def show_ip_route(router: Router, codes: frozenset[str] | None = None) -> str:
    """``show ip route``; with ``codes`` (``show ip route static``) only routes of those codes,
    under the same subnetting headers (which count every subnet of the network, as IOS does)."""
    table = router.routing_table()
    gateway = table.gateway_of_last_resort()
    out = [_LEGEND, "\n"]
    if gateway is None:
        out.append("Gateway of last resort is not set\n\n")
    else:
        out.append(f"Gateway of last resort is {format_ip(gateway)} to network 0.0.0.0\n\n")
    for group in table.groups():
        shown = [e for e in group.entries if codes is None or e.best.type.value in codes]
        if not shown:
            continue
        if not group.header:
            out.extend(ln + "\n" for ln in _entry_lines(group.entries[0], 6))
            continue
        head = f"      {format_ip(group.network)}/{group.header_len} is "
        if group.variably_subnetted:
            head += f"variably subnetted, {group.subnets} subnets, {group.masks} masks"
        else:
            head += f"subnetted, {group.subnets} subnets"
        out.append(head + "\n")
        for entry in shown:
            out.extend(ln + "\n" for ln in _entry_lines(entry, 9, group.variably_subnetted))
    return "".join(out)


def show_access_lists(router: Router, only: str | None = None, ip_only: bool = False) -> str:
    acls = list(router.config.acls.values())
    acls.sort(key=lambda a: (not a.numbered, int(a.name) if a.numbered else 0, a.name))
    out: list[str] = []
    for acl in acls:
        if only is not None and acl.name != only:
            continue
        kind = "Extended" if acl.extended else "Standard"
        out.append(f"{kind} IP access list {acl.name}")
        for e in acl.entries:
            if e.action == "remark":
                continue
            hits = f" ({e.matches} match{'es' if e.matches != 1 else ''})" if e.matches else ""
            out.append(f"    {e.seq} {render_entry_show(e)}{hits}")
    return "".join(ln + "\n" for ln in out)


def show_startup_config(router: Router) -> str:
    """``show startup-config``: NVRAM's bytes and how many of them are used."""
    try:
        text = router.nvram.read()
    except NvramError as e:
        return f"{e}\n"
    if text is None:
        text = router.initial_config
    if not text:
        return "startup-config is not present\n"
    return f"Using {byte_length(text)} out of {router.nvram.size} bytes\n{text}"


def startup_text_of(router: Router) -> str:
    """What ``write memory`` stores: the running-config body."""
    return "\n".join(config_lines(router.config)) + "\n"


def network_of(addr: IPv4Address, mask: IPv4Address) -> IPv4Network:
    return IPv4Network(f"{addr}/{mask}", strict=False)
