"""Pure renderers of NAT state: ``show ip nat translations``.

IOS 15 prints five columns that start at fixed positions (0, 4, 23, 42 and 61); a value
longer than its column pushes the rest of the line right, with one space before the next
value (``icmp 198.51.100.1:1``, ``tcp 172.16.233.209:1067 192.168.1.89:1067 ...``).
Static mappings are listed with ``---`` for the protocol and the outside columns.
"""

from __future__ import annotations

from collections.abc import Iterable

from iosim.net.nat import NatConfig, StaticNat, Translation
from iosim.net.packets import format_ip

HEADER = ("Pro", "Inside global", "Inside local", "Outside local", "Outside global")
COLUMNS = (0, 4, 23, 42, 61)

#: Protocol names in the first column; other protocols print their number.
PROTOCOL_NAMES: dict[int, str] = {1: "icmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp"}


def table_row(values: tuple[str, str, str, str, str]) -> str:
    """One line: each value at its column, or one space after the previous one."""
    line = ""
    for value, col in zip(values, COLUMNS, strict=True):
        if line:
            line += " " * max(1, col - len(line))
        line += value
    return line


def _endpoint(address: int, port: int | None, with_port: bool) -> str:
    text = format_ip(address)
    return f"{text}:{port or 0}" if with_port else text


def translation_row(t: Translation) -> tuple[str, str, str, str, str]:
    """The five columns of a live translation."""
    if t.protocol is None:
        return ("---", format_ip(t.inside_global), format_ip(t.inside_local), "---", "---")
    proto = PROTOCOL_NAMES.get(t.protocol, str(t.protocol))
    outside_port = t.global_port if t.protocol == 1 else t.outside_port
    outside = _endpoint(t.outside or 0, outside_port, True)
    return (proto, _endpoint(t.inside_global, t.global_port, True),
            _endpoint(t.inside_local, t.local_port, True), outside, outside)


def static_row(s: StaticNat) -> tuple[str, str, str, str, str]:
    """The five columns of a configured static mapping."""
    if not s.protocol:
        return ("---", format_ip(s.global_address), format_ip(s.local), "---", "---")
    return (PROTOCOL_NAMES.get(s.protocol, str(s.protocol)),
            _endpoint(s.global_address, s.global_port, True),
            _endpoint(s.local, s.local_port, True), "---", "---")


def _sort_key(row: tuple[str, str, str, str, str], age: float) -> tuple[object, ...]:
    address, _, port = row[1].partition(":")
    octets = tuple(int(o) for o in address.split("."))
    return (octets, row[0] == "---", int(port or 0), age)


def show_ip_nat_translations(cfg: NatConfig, live: Iterable[Translation]) -> str:
    """``show ip nat translations``: nothing at all when there is no translation.

    Rows are ordered by inside global address; for one address, extended entries (with
    ports) come before the simple ``---`` ones, then by port, then by age.
    """
    rows = [(translation_row(t), t.created) for t in live]
    rows += [(static_row(s), -1.0) for s in cfg.statics]
    if not rows:
        return ""
    ordered = sorted(rows, key=lambda r: _sort_key(*r))
    return "\n".join([table_row(HEADER), *(table_row(r) for r, _ in ordered)]) + "\n"
