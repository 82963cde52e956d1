"""Pure renderers of NAT state: ``show ip nat translations [verbose]`` and ``show ip nat
statistics``.

IOS 15 prints five columns that start at fixed positions (0, 4, 23, 42 and 61); a value
longer than its column pushes the rest of the line right, with one space before the next
value (``icmp 198.51.100.1:1``, ``tcp 172.16.233.209:1067 192.168.1.89:1067 ...``).
Static mappings are listed with ``---`` for the protocol and the outside columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from iosim.net.nat import NatConfig, StaticNat
from iosim.net.nat_table import NatTable, Translation
from iosim.net.packets import format_ip
from iosim.show.durations import elapsed, hms

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


# ---------------------------------------------------------------- verbose


@dataclass(frozen=True)
class NatView:
    """What the NAT show commands read: the configuration, the live table, the time, the
    interfaces on each side."""

    cfg: NatConfig
    table: NatTable
    now: float
    inside: tuple[str, ...]
    outside: tuple[str, ...]

    def map_id(self, origin: str) -> int | None:
        """``[Id: N]`` of the dynamic mapping that made entries of ``origin``."""
        for i, rule in enumerate(self.cfg.dynamic.values(), 1):
            if rule.origin == origin:
                return i
        return None

    def children(self, local: int) -> int:
        """How many extended entries an inside local address has (a simple or static
        entry's ``use_count``)."""
        return sum(1 for t in self.table.entries()
                   if t.protocol is not None and t.inside_local == local)


def _verbose_translation(view: NatView, t: Translation) -> list[str]:
    now = view.now
    timeout = t.timeout if t.timeout is not None else 0.0
    line = (f"    create {elapsed(now - t.created)}, use {elapsed(now - t.last_used)} "
            f"timeout:{int(timeout * 1000)}, ")
    if t.timeout is not None:
        line += f"left {hms(t.expires - now)}, "
    map_id = view.map_id(t.origin)
    if map_id is not None:
        line += f"Map-Id(In): {map_id}, "
    flags = "extended" if t.protocol is not None else "none"
    use = view.children(t.inside_local) if t.protocol is None else 0
    return [table_row(translation_row(t)), line, "    flags: ",
            f"{flags}, use_count: {use}, entry-id: {t.entry_id}, lc_entries: 0"]


def _verbose_static(view: NatView, s: StaticNat) -> list[str]:
    since = view.cfg.static_since.get(s, 0.0)
    age = elapsed(view.now - since)
    flags = "static, extended, extendable" if s.protocol else "static" + (
        ", extendable" if s.extendable else "")
    use = view.children(s.local) if not s.protocol else 0
    return [table_row(static_row(s)), f"    create {age}, use {age} timeout:0, ",
            "    flags: ",
            f"{flags}, use_count: {use}, entry-id: {view.table.static_id(s)}, lc_entries: 0"]


def show_ip_nat_translations_verbose(view: NatView) -> str:
    """``show ip nat translations verbose``: each entry with its age, idle time, timeout
    (milliseconds) and time left, the mapping that made it, its flags and entry id."""
    rows = [((translation_row(t), t.created), _verbose_translation(view, t))
            for t in view.table.entries()]
    rows += [((static_row(s), -1.0), _verbose_static(view, s)) for s in view.cfg.statics]
    if not rows:
        return ""
    ordered = sorted(rows, key=lambda r: _sort_key(*r[0]))
    return "\n".join([table_row(HEADER), *(ln for _, block in ordered for ln in block)]) + "\n"


# ---------------------------------------------------------------- statistics


def _interface_list(names: tuple[str, ...]) -> list[str]:
    return [f"  {', '.join(names)}"] if names else []


def show_ip_nat_statistics(view: NatView) -> str:
    """``show ip nat statistics``: the table's size and peak, the interfaces on each side,
    the datagrams translated (Hits; those that made an entry were punted to the process
    path, the rest CEF-translated), those a mapping could not translate (Misses), the
    entries that timed out, and each dynamic mapping with the entries it holds."""
    table, cfg = view.table, view.cfg
    live = table.entries()
    extended = sum(1 for t in live if t.protocol is not None) + sum(
        1 for s in cfg.statics if s.protocol)
    total = len(live) + len(cfg.statics)
    most = max(table.peak + len(cfg.statics), total)  # the table's peak, and the statics
    peak = f"Peak translations: {most}"
    if most:
        peak += f", occurred {elapsed(view.now - table.peak_at)} ago"
    out = [f"Total active translations: {total} ({len(cfg.statics)} static, {len(live)} "
           f"dynamic; {extended} extended)", peak,
           "Outside interfaces:", *_interface_list(view.outside),
           "Inside interfaces: ", *_interface_list(view.inside),
           f"Hits: {table.hits}  Misses: {table.misses}",
           f"CEF Translated packets: {table.hits - table.punted}, "
           f"CEF Punted packets: {table.punted}",
           f"Expired translations: {table.expired}", "Dynamic mappings:"]
    if cfg.dynamic:
        out.append("-- Inside Source")
    for i, rule in enumerate(cfg.dynamic.values(), 1):
        refs = sum(1 for t in live if t.origin == rule.origin)
        out.append(f"[Id: {i}] access-list {rule.acl} interface {rule.interface} "
                   f"refcount {refs}")
    out += ["", "Total doors: 0", "Appl doors: 0", "Normal doors: 0", "Queued Packets: 0"]
    return "\n".join(out) + "\n"
