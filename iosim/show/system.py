"""Pure renderers of the base show commands: router state in, IOS text out."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from iosim.cli.interfaces import interface_type
from iosim.cli.lines import byte_length
from iosim.config.apply_acl import render_entry_show
from iosim.config.render import config_lines
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


def config_time(t: datetime) -> str:
    """How running-config's comments stamp a time: ``18:40:55 UTC Wed Apr 30 2025``."""
    return f"{t.strftime('%H:%M:%S')} UTC {t.strftime('%a %b')} {t.day} {t.year}"


def config_history(router: Router) -> list[str]:
    """The comment lines at the top of ``show running-config``: when the configuration last
    changed (or that it has not since the router booted) and when it was last saved. The
    console asks for no username, so, as IOS does for such a line, no ``by USER`` follows."""
    if router.last_change is None:
        out = ["! No configuration change since last restart"]
    else:
        out = [f"! Last configuration change at {config_time(router.last_change)}"]
    if router.nvram_updated is not None:
        out.append(f"! NVRAM config last updated at {config_time(router.nvram_updated)}")
    return out


def show_clock(router: Router) -> str:
    t = router.wall_time()
    return (f"*{t.strftime('%H:%M:%S')}.{t.microsecond // 1000:03d} UTC "
            f"{t.strftime('%a %b')} {t.day} {t.year}\n")


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
