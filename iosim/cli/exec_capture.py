"""Embedded Packet Capture: ``monitor capture CAP ...`` and ``show monitor capture``.

Theory of operation
-------------------
A capture point is EXEC state (never in the running-config), kept per router. It names
one interface and a direction, a filter (``match any`` or an inline IPv4 filter: protocol,
source and destination each ``any`` or ``host A.B.C.D``) and a buffer (linear: it stops
taking packets when full; circular: it drops the oldest). ``start`` puts a tap on the
router's stack (``IpStack.taps``), which sees every Ethernet frame as it crosses an
interface: inbound before the stack looks at it, outbound as it is handed to the wire.
So the buffer holds the real bytes, ESP-protected when a crypto map protected them.

``export flash:FILE`` writes the buffer as a classic pcap file (LINKTYPE_ETHERNET,
stamped with the router's clock) into the router's flash directory, atomically.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from iosim.cli.errors import CommandRejected
from iosim.cli.exec_commands import _output
from iosim.cli.matcher import Match
from iosim.cli.session import Pending, Session, exec_handler
from iosim.config.handlers import invalid_at
from iosim.net.packets import (
    EtherType,
    IpProtocol,
    PacketError,
    format_ip,
    pull_arp,
    pull_ethernet,
    pull_ipv4,
)
from iosim.net.pcap import LINKTYPE_ETHERNET, PcapWriter
from iosim.router import EPOCH, Router

DEFAULT_BUFFER_MB = 10
MEGABYTE = 1024 * 1024
DIRECTIONS = {"MCAP_BOTH": "both", "MCAP_IN": "in", "MCAP_OUT": "out"}
_DIRECTION_SHOWN = {"both": "both", "in": "IN", "out": "OUT"}  # as show monitor capture
_PROTOCOL_TERMINALS = {"MCAP_ICMP": IpProtocol.ICMP, "MCAP_TCP": IpProtocol.TCP,
                       "MCAP_UDP": IpProtocol.UDP}
PROTOCOL_NAMES: dict[int, str] = {IpProtocol.ICMP: "icmp", IpProtocol.TCP: "tcp",
                                  IpProtocol.UDP: "udp", IpProtocol.ESP: "esp",
                                  IpProtocol.AH: "ahp"}
DSCP_NAMES = {0: "BE", 8: "CS1", 10: "AF11", 12: "AF12", 14: "AF13", 16: "CS2", 18: "AF21",
              20: "AF22", 22: "AF23", 24: "CS3", 26: "AF31", 28: "AF32", 30: "AF33",
              32: "CS4", 34: "AF41", 36: "AF42", 38: "AF43", 40: "CS5", 46: "EF", 48: "CS6",
              56: "CS7"}
FLASH_PREFIXES = ("flash:", "flash0:")


@dataclass(frozen=True)
class Ipv4Filter:
    """``match ipv4 [protocol P] SRC DST``: None matches anything."""

    protocol: int | None = None
    src: int | None = None
    dst: int | None = None

    def matches(self, frame: bytes) -> bool:
        try:
            eth = pull_ethernet(frame)
            if eth.ethertype != EtherType.IPV4:
                return False
            packet = pull_ipv4(eth.payload)
        except PacketError:
            return False
        return ((self.protocol is None or packet.protocol == self.protocol)
                and (self.src is None or packet.src == self.src)
                and (self.dst is None or packet.dst == self.dst))


MatchAny = None  # the filter of ``match any``: every frame
Filter = Ipv4Filter | None


@dataclass
class Capture:
    """One capture point: what it watches, how it filters, and what it holds."""

    name: str
    interface: str | None = None
    direction: str = "both"
    has_filter: bool = False
    filter: Filter = MatchAny
    buffer_mb: int = DEFAULT_BUFFER_MB
    buffer_set: bool = False
    circular: bool = False
    active: bool = False
    started: bool = False  # once started, show lists the defaults it runs with
    packets: deque[tuple[float, bytes]] = field(default_factory=deque)
    held: int = 0  # bytes in the buffer
    tap: Callable[[str, str, bytes], None] | None = None

    def wants(self, interface: str, direction: str, frame: bytes) -> bool:
        if interface != self.interface or self.direction not in ("both", direction):
            return False
        return self.filter is None or self.filter.matches(frame)

    def store(self, now: float, frame: bytes) -> None:
        limit = self.buffer_mb * MEGABYTE
        if self.circular:
            while self.packets and self.held + len(frame) > limit:
                self.held -= len(self.packets.popleft()[1])
        elif self.held + len(frame) > limit:
            return  # a linear buffer stops taking packets once full
        self.packets.append((now, bytes(frame)))
        self.held += len(frame)

    def clear(self) -> None:
        self.packets.clear()
        self.held = 0


_CAPTURES: weakref.WeakKeyDictionary[Router, dict[str, Capture]] = \
    weakref.WeakKeyDictionary()
_TEMP_FLASH: weakref.WeakKeyDictionary[Router, Path] = weakref.WeakKeyDictionary()


def captures_of(router: Router) -> dict[str, Capture]:
    """The capture points of ``router`` by name (created empty on first use)."""
    return _CAPTURES.setdefault(router, {})


def flash_dir(router: Router) -> Path:
    """The router's ``flash:``: a directory next to its NVRAM file, or a temporary one."""
    if router.nvram.path is not None:
        path = router.nvram.path.parent / f"{router.name}-flash"
    else:
        found = _TEMP_FLASH.get(router)
        if found is None:
            found = Path(tempfile.mkdtemp(prefix=f"iosim-{router.name}-flash-"))
            _TEMP_FLASH[router] = found
            # a router without NVRAM on disk (a graded run) leaves no flash behind
            weakref.finalize(router, shutil.rmtree, found, True)
        path = found
    path.mkdir(parents=True, exist_ok=True)
    return path


def attach_capture(router: Router, cap: Capture) -> None:
    """Start feeding ``cap`` from the router's stack."""
    stack = router.stack
    if stack is None or cap.tap is not None:
        return
    clock = router.clock

    def tap(interface: str, direction: str, frame: bytes) -> None:
        if cap.wants(interface, direction, frame):
            cap.store(clock.now, frame)

    cap.tap = tap
    stack.watch(tap)


def detach_capture(router: Router, cap: Capture) -> None:
    """Stop feeding ``cap``."""
    if cap.tap is not None and router.stack is not None:
        router.stack.unwatch(cap.tap)
    cap.tap = None


def export_capture(router: Router, cap: Capture, location: str) -> Path:
    """Write ``cap``'s buffer to ``flash:FILE`` as a pcap file; return its path."""
    prefix = next((p for p in FLASH_PREFIXES if location.lower().startswith(p)), None)
    name = location[len(prefix):].lstrip("/") if prefix is not None else ""
    if not name or "/" in name or name in (".", ".."):
        raise CommandRejected(f"%Error opening {location} (Invalid argument)")
    path = flash_dir(router) / name
    with PcapWriter(path, linktype=LINKTYPE_ETHERNET, epoch=EPOCH.timestamp()) as writer:
        for stamp, frame in cap.packets:
            writer.write(stamp, frame)
    return path


# ---------------------------------------------------------------- monitor capture CAP ...


def _capture(session: Session, m: Match) -> Capture:
    name = m.get("MCAP_NAME") or ""
    return captures_of(session.router).setdefault(name, Capture(name))


def _filter_of(m: Match) -> Filter:
    if m.has("MCAP_ANY"):
        return MatchAny
    protocol: int | None = next((p for t, p in _PROTOCOL_TERMINALS.items() if m.has(t)),
                                None)
    if m.has("MCAP_PROTO_N"):
        protocol = int(m.get("MCAP_PROTO_N") or 0)
    src = m.get("MCAP_SRC_ADDR")
    dst = m.get("MCAP_DST_ADDR")
    return Ipv4Filter(protocol, int(m.ipv4("MCAP_SRC_ADDR")) if src else None,
                      int(m.ipv4("MCAP_DST_ADDR")) if dst else None)


def _interface(session: Session, m: Match, cap: Capture) -> str:
    name = m.get("MCAP_IF") or ""
    if name not in session.router.config.interfaces:
        raise invalid_at(m, "MCAP_IF")
    cap.interface = name
    cap.direction = next(d for t, d in DIRECTIONS.items() if m.has(t))
    return ""


def _match(session: Session, m: Match, cap: Capture) -> str:
    new = _filter_of(m)

    def replace(answer: str) -> str:
        if answer.strip().lower() in ("", "y", "yes"):
            cap.filter, cap.has_filter = new, True
        return ""

    if cap.has_filter:
        session.pending = Pending("A filter is already attached to the capture . "
                                  "Replace with specified filter?[confirm]", replace)
        return ""
    return replace("")


def _buffer(session: Session, m: Match, cap: Capture) -> str:
    if m.has("MCAP_CIRCULAR"):
        cap.circular = True
    else:
        cap.buffer_mb, cap.buffer_set = int(m.get("MCAP_SIZE_N") or DEFAULT_BUFFER_MB), True
    return ""


def _start(session: Session, m: Match, cap: Capture) -> str:
    if cap.interface is None:
        raise CommandRejected("Failed to start capture : Interface not attached")
    if not cap.has_filter:
        raise CommandRejected("Failed to start capture : Filter not attached")
    if not cap.active:
        attach_capture(session.router, cap)
        cap.active = cap.started = True
        session.router.log(f"%BUFCAP-6-ENABLE: Capture Point {cap.name} enabled.")
    return ""


def _stop(session: Session, m: Match, cap: Capture) -> str:
    if not cap.active:
        return ""
    detach_capture(session.router, cap)
    cap.active = False
    session.router.log(f"%BUFCAP-6-DISABLE: Capture Point {cap.name} disabled.")
    return f"Stopped capture point : {cap.name}\n"


def _clear(session: Session, m: Match, cap: Capture) -> str:
    def confirm(answer: str) -> str:
        if answer.strip().lower() not in ("", "y", "yes"):
            return ""
        cap.clear()
        return f"cleared buffer : {cap.name}\n"

    session.pending = Pending("Captured data will be deleted [clear]?[confirm]", confirm)
    return ""


def _export(session: Session, m: Match, cap: Capture) -> str:
    export_capture(session.router, cap, m.get("MCAP_FILE") or "")
    return "Exported Successfully\n"


_ACTIONS: dict[str, Callable[[Session, Match, Capture], str]] = {
    "mcap_interface": _interface,
    "mcap_match": _match,
    "mcap_buffer": _buffer,
    "mcap_start": _start,
    "mcap_stop": _stop,
    "mcap_clear": _clear,
    "mcap_export": _export,
}


@exec_handler("exec_monitor_capture")
def _monitor_capture(session: Session, m: Match) -> str:
    if session.router.stack is None:
        raise CommandRejected("% This router is not connected to a lab network")
    action = next(_ACTIONS[r] for r in m.rules if r in _ACTIONS)
    return action(session, m, _capture(session, m))


@exec_handler("exec_no_monitor_capture")
def _no_monitor_capture(session: Session, m: Match) -> str:
    cap = captures_of(session.router).pop(m.get("MCAP_NAME") or "", None)
    if cap is not None:
        if cap.active:
            session.router.log(f"%BUFCAP-6-DISABLE: Capture Point {cap.name} disabled.")
        detach_capture(session.router, cap)
    return ""


# ---------------------------------------------------------------- show monitor capture


def _address_text(address: int | None) -> str:
    return "any" if address is None else f"host {format_ip(address)}"


def status_text(cap: Capture) -> str:
    """One capture's block of ``show monitor capture``."""
    out = ["", f"Status Information for Capture {cap.name}", "  Target Type: "]
    if cap.interface is None:
        out.append("   Interface unattached ")
    else:
        out.append(f" Interface: {cap.interface}, Direction: "
                   f"{_DIRECTION_SHOWN[cap.direction]}")
    out += [f"   Status : {'Active' if cap.active else 'Inactive'}", "  Filter Details: "]
    if not cap.has_filter:
        out.append("   Filter not attached ")
    elif cap.filter is None:
        out.append("    Capture all packets")
    else:
        f = cap.filter
        protocol = "any" if f.protocol is None else PROTOCOL_NAMES.get(f.protocol,
                                                                        str(f.protocol))
        out += ["   IPv4 ", f"    Source IP:  {_address_text(f.src)}",
                f"    Destination IP:  {_address_text(f.dst)}", f"   Protocol: {protocol}"]
    out += ["  Buffer Details: ",
            f"   Buffer Type: {'CIRCULAR' if cap.circular else 'LINEAR (default)'}"]
    if cap.started or cap.buffer_set:
        out.append(f"   Buffer Size (in MB): {cap.buffer_mb}")
    out += ["  Limit Details: ", "   Number of Packets to capture: 0 (no limit)",
            "   Packet Capture duration: 0 (no limit)", "   Packet Size to capture: 0 (no limit)"]
    if cap.started:
        out.append("   Maximum number of packets to capture per second: 1000")
    out.append("   Packet sampling rate: 0 (no sampling)")
    return "\n".join(out) + "\n"


def parameter_text(cap: Capture) -> str:
    """``show monitor capture CAP parameter``: the commands that made the capture."""
    out = []
    if cap.interface is not None:
        out.append(f"monitor capture {cap.name} interface {cap.interface} "
                   f"{_DIRECTION_SHOWN[cap.direction]}")
    if cap.has_filter:
        if cap.filter is None:
            out.append(f"monitor capture {cap.name} match any")
        else:
            f = cap.filter
            proto = "" if f.protocol is None else \
                f"protocol {PROTOCOL_NAMES.get(f.protocol, str(f.protocol))} "
            out.append(f"monitor capture {cap.name} match ipv4 {proto}{_address_text(f.src)} "
                       f"{_address_text(f.dst)}")
    out.append(f"monitor capture {cap.name} buffer size {cap.buffer_mb}")
    if cap.circular:
        out.append(f"monitor capture {cap.name} buffer circular")
    out.append(f"monitor capture {cap.name} limit pps 1000")
    return "".join(f"   {line}\n" for line in out)


BRIEF_RULE = " " + "-" * 76
BRIEF_HEADER = " #   size   timestamp     source             destination      dscp    protocol"


def _brief_fields(frame: bytes) -> tuple[str, str, str, str]:
    """(source, destination, dscp column, protocol) of one captured frame."""
    try:
        eth = pull_ethernet(frame)
        if eth.ethertype == EtherType.ARP:
            arp = pull_arp(eth.payload)
            return format_ip(arp.spa), format_ip(arp.tpa), "       ", "ARP"
        packet = pull_ipv4(eth.payload)
    except PacketError:
        return "-", "-", "       ", "-"
    dscp = packet.tos >> 2
    try:
        protocol = IpProtocol(packet.protocol).name
    except ValueError:
        protocol = str(packet.protocol)
    return (format_ip(packet.src), format_ip(packet.dst),
            f"{dscp:<2} {DSCP_NAMES.get(dscp, ''):<4}", protocol)


def brief_text(cap: Capture) -> str:
    """``show monitor capture CAP buffer brief``."""
    rows = [BRIEF_RULE, BRIEF_HEADER, BRIEF_RULE]
    first = cap.packets[0][0] if cap.packets else 0.0
    for n, (stamp, frame) in enumerate(cap.packets):
        src, dst, dscp, protocol = _brief_fields(frame)
        rows.append(f"{n:4d} {len(frame):4d} {stamp - first:11.6f}   {src:<16} ->  "
                    f"{dst:<16} {dscp} {protocol}")
    return "\n".join(rows) + "\n"


@exec_handler("show_monitor_capture")
def _show_monitor_capture(session: Session, m: Match) -> str:
    caps = captures_of(session.router)
    name = m.get("SMON_NAME")
    if name is None:
        return _output(session, m, "".join(status_text(c) for c in caps.values()))
    cap = caps.get(name)
    if cap is None:
        return _output(session, m, "")
    if m.has("SMON_BUFFER"):
        return _output(session, m, brief_text(cap))
    if m.has("SMON_PARAMETER"):
        return _output(session, m, parameter_text(cap))
    return _output(session, m, status_text(cap))
