"""One emulated router: its running-config, NVRAM, interfaces, clock and log.

``Router`` is the adapter between the configuration model and the engines (network,
IKE, IPsec): config handlers tell it what changed (``interface_changed`` ...), and
it owns the runtime state and counters that show commands render.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from math import exp
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from iosim.atomic import WriteError, write_atomic
from iosim.cli.interfaces import interface_type
from iosim.cli.lines import from_bytes, output_lines, to_bytes
from iosim.cli.terminal_lines import TerminalLines
from iosim.config.model import InterfaceConfig, RunningConfig, message_severity
from iosim.net.routing import NULL_INTERFACE, Route, RoutingTable

if TYPE_CHECKING:
    from iosim.net.stack import IpStack

#: Virtual time 0 of every lab: a router whose clock was never set starts here.
EPOCH = datetime(1993, 3, 1, 0, 0, 0, tzinfo=UTC)


@lru_cache(maxsize=64)
def _timestamp(now: float, msec: bool) -> str:
    """The log timestamp of virtual time ``now`` (many messages share one instant)."""
    t = EPOCH + timedelta(seconds=now)
    text = f"*{t.strftime('%b')} {t.day:2d} {t.strftime('%H:%M:%S')}"
    if msec:
        text += f".{t.microsecond // 1000:03d}"
    return text


@lru_cache(maxsize=4)
def _wall_time(now: float) -> datetime:
    """The software clock's reading ``now`` seconds after :data:`EPOCH` (a replayed config
    marks its change at one instant line after line)."""
    return EPOCH + timedelta(seconds=now)


class Clock(Protocol):
    """The lab's virtual clock, as the router sees it."""

    @property
    def now(self) -> float: ...


#: Bytes of NVRAM an IOSv router has for its startup-config (``show startup-config``).
NVRAM_SIZE = 262144


class NvramError(Exception):
    """NVRAM that cannot be read or written; ``str()`` is IOS's message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @classmethod
    def from_os(cls, verb: str, error: OSError) -> NvramError:
        """``%Error opening|writing nvram:startup-config (No space left on device)``."""
        reason = error.strerror or (os.strerror(error.errno) if error.errno else "I/O error")
        return cls(f"%Error {verb} nvram:startup-config ({reason})")

    def __str__(self) -> str:
        return self.message


class Nvram:
    """The startup-config, kept in a file and written atomically.

    ``None`` from ``read()`` means the device has never saved (the lab's own config is
    used); an empty string means NVRAM was erased.  The file holds the bytes typed (see
    ``iosim.cli.lines``): any byte is read back as it was saved.  A file that cannot be
    read, or a write that fails, raises :class:`NvramError` with IOS's message; a failed
    write leaves the old startup-config whole.
    """

    def __init__(self, path: Path | None, size: int = NVRAM_SIZE) -> None:
        self.path = path
        self.size = size
        self._memory: str | None = None
        self._private_memory: str | None = None

    @property
    def private_path(self) -> Path | None:
        """Where the private-config (the RSA key pairs) is kept, beside the startup-config."""
        return None if self.path is None else self.path.with_suffix(".private-config")

    def read_private(self) -> str | None:
        """The private-config written with the last save (None: none); NvramError if it
        cannot be read."""
        path = self.private_path
        if path is None:
            return self._private_memory
        try:
            return from_bytes(path.read_bytes())
        except FileNotFoundError:
            return None
        except OSError as e:
            raise NvramError.from_os("opening", e) from e

    def write_private(self, text: str) -> None:
        """Replace the private-config (atomically), or remove it for empty ``text``."""
        path = self.private_path
        if path is None:
            self._private_memory = text or None
            return
        if not text:
            try:
                path.unlink(missing_ok=True)
            except OSError as e:
                raise NvramError.from_os("writing", e) from e
            return
        try:
            write_atomic(path, to_bytes(text))
        except WriteError as e:
            raise NvramError.from_os(e.stage, e) from e

    def read(self) -> str | None:
        if self.path is None:
            return self._memory
        try:
            with self.path.open("rb") as f:
                data = f.read(self.size + 1)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise NvramError.from_os("opening", e) from e
        if len(data) > self.size:
            raise NvramError("%Error opening nvram:startup-config (File too large)")
        return from_bytes(data)

    def write(self, text: str) -> None:
        """Replace the startup-config; refused (the old one kept) if it does not fit."""
        data = to_bytes(text)
        if len(data) > self.size:
            raise NvramError(_overflow_message(text, self.size))
        if self.path is None:
            self._memory = text
            return
        try:
            write_atomic(self.path, data)
        except WriteError as e:
            raise NvramError.from_os(e.stage, e) from e

    def erase(self) -> None:
        """``erase startup-config``: the startup-config and the private-config go."""
        self.write("")
        self.write_private("")

    def forget(self) -> None:
        """As if never saved: the lab's own config is booted again."""
        self._memory = self._private_memory = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            private = self.private_path
            if private is not None:
                private.unlink(missing_ok=True)


def _overflow_message(text: str, size: int) -> str:
    """What IOS says when a config does not fit NVRAM: the first command that did not fit."""
    used = 0
    line = ""
    for line in output_lines(text):
        used += len(to_bytes(line)) + 1
        if used > size:
            break
    return (f"% Configuration buffer full, can't add command: {line}\n"
            "%Aborting Save. Compress the config.")


#: IOS's load interval: ``show interfaces`` averages its rates over five minutes.
LOAD_INTERVAL = 300.0
_BROADCAST_MAC = b"\xff" * 6
_ETHERTYPE_IPV4 = b"\x08\x00"
_SPOKEN_ETHERTYPES = frozenset((_ETHERTYPE_IPV4, b"\x08\x06"))  # IPv4 and ARP


@dataclass(slots=True)
class RateMeter:
    """A rate averaged as IOS averages ``5 minute input rate``: every frame adds to an
    exponentially decaying sum with a time constant of ``LOAD_INTERVAL``, so a steady
    stream of R bits per second reads R after a few intervals and decays once it stops."""

    bits: float = 0.0  # bits per second, as of ``at``
    packets: float = 0.0  # packets per second, as of ``at``
    at: float = 0.0

    def add(self, now: float, size: int) -> None:
        """A frame of ``size`` bytes crossed at ``now`` (every frame: the decay inline)."""
        if now > self.at:
            factor = exp((self.at - now) / LOAD_INTERVAL)
            self.bits *= factor
            self.packets *= factor
            self.at = now
        self.bits += size * 8 / LOAD_INTERVAL
        self.packets += 1 / LOAD_INTERVAL

    def rates(self, now: float) -> tuple[float, float]:
        """(bits per second, packets per second) as of ``now``."""
        factor = exp(-max(0.0, now - self.at) / LOAD_INTERVAL)
        return self.bits * factor, self.packets * factor

    def _decay(self, now: float) -> None:
        if now > self.at:
            self.bits, self.packets = self.rates(now)
            self.at = now


@dataclass(slots=True)
class InterfaceCounters:
    """The counters of one interface (``show interfaces``), all of frames that really
    crossed it; ``clear counters`` starts them again."""

    input_packets: int = 0
    input_bytes: int = 0
    output_packets: int = 0
    output_bytes: int = 0
    input_errors: int = 0
    output_drops: int = 0
    broadcasts: int = 0  # frames received for the broadcast or a multicast address
    ip_multicasts: int = 0  # ... of them IPv4 multicast
    multicasts: int = 0  # frames received for a multicast (not the broadcast) address
    unknown_protocol: int = 0  # frames received for us in an EtherType we do not speak
    interface_resets: int = 0  # the interface was shut down or brought up
    input_rate: RateMeter = field(default_factory=RateMeter)
    output_rate: RateMeter = field(default_factory=RateMeter)

    def received(self, frame: bytes, now: float) -> None:
        """Count a frame that arrived."""
        self.input_packets += 1
        self.input_bytes += len(frame)
        self.input_rate.add(now, len(frame))
        dst = frame[:6]
        if dst[:1] and dst[0] & 1:  # the group bit: broadcast or multicast
            self.broadcasts += 1
            if dst == _BROADCAST_MAC:
                return
            self.multicasts += 1
            if dst[:3] == b"\x01\x00\x5e" and frame[12:14] == _ETHERTYPE_IPV4:
                self.ip_multicasts += 1
        elif frame[12:14] not in _SPOKEN_ETHERTYPES:
            self.unknown_protocol += 1

    def sent(self, frame: bytes, now: float) -> None:
        """Count a frame that left."""
        self.output_packets += 1
        self.output_bytes += len(frame)
        self.output_rate.add(now, len(frame))

    def received_datagram(self, datagram: bytes, now: float) -> None:
        """Count an IP datagram that arrived on an interface without Ethernet (a tunnel)."""
        self.input_packets += 1
        self.input_bytes += len(datagram)
        self.input_rate.add(now, len(datagram))
        if len(datagram) >= 20 and datagram[16] >> 4 == 0xE:  # to a multicast group
            self.broadcasts += 1
            self.ip_multicasts += 1


@dataclass(slots=True)
class InterfaceState:
    """Runtime state of one interface: cabling, counters, when it last saw traffic."""

    cabled: bool = False  # a link in the lab connects it to something
    counters: InterfaceCounters = field(default_factory=InterfaceCounters)
    method: str = "NVRAM"  # how the address was set: NVRAM, manual, unset
    last_status: tuple[str, str] | None = None  # (Status, Protocol) when last looked at
    last_input: float | None = None  # virtual time of the last frame received
    last_output: float | None = None  # ... and sent
    cleared_at: float | None = None  # the last "clear counters" (None: never)


LogSink = Callable[[str], None]


class InterfaceStates(dict[str, InterfaceState]):
    """A router's interface states by name. Reading them brings the counters up to date
    with what the router's segments kept for it (``iosim.net.segment``) first."""

    __slots__ = ("_settle",)  # no __dict__ of its own: a router has one of these

    def __init__(self, settle: Callable[[], None], states: dict[str, InterfaceState]) -> None:
        super().__init__(states)
        self._settle = settle

    def __getitem__(self, name: str) -> InterfaceState:
        self._settle()
        return super().__getitem__(name)

    def get(self, name: str, default: InterfaceState | None = None  # type: ignore[override]
            ) -> InterfaceState | None:
        self._settle()
        return super().get(name, default)

    def items(self):  # type: ignore[no-untyped-def]
        self._settle()
        return super().items()

    def values(self):  # type: ignore[no-untyped-def]
        self._settle()
        return super().values()


class Router:
    """An emulated IOS router."""

    # What __init__ sets, in slots: past 29 attributes an instance's dict stops sharing its
    # keys with the other routers' and costs 1.6 KiB instead of 0.3 (a lab holds thousands).
    # A __dict__ is still there for anything else (a test's stand-in for a method).
    __slots__ = (
        "name", "physical", "clock", "nvram", "initial_config", "initial_source", "cabled",
        "log_sinks", "monitor_sinks", "terminals", "log_buffer", "boot_time", "clock_base",
        "reload_reason", "config", "state", "saved_since_change", "last_change",
        "nvram_updated", "debug_flags", "listeners", "peer_enabled", "stack", "crypto_plane",
        "ospf_plane", "_rib", "injected_routes", "tunnel_plane", "virtual_lines",
        "network_watchers", "booting", "__dict__", "__weakref__"
    )

    def __init__(self, name: str, physical: list[str], clock: Clock,
                 nvram: Nvram | None = None, initial_config: str | None = None,
                 cabled: set[str] | None = None, initial_source: str = "startup-config"
                 ) -> None:
        self.name = name
        self.physical = list(physical)
        self.clock = clock
        self.nvram = nvram or Nvram(None)
        self.initial_config = initial_config
        self.initial_source = initial_source  # what boot errors call the lab's own config
        self.cabled = set(cabled or ())
        self.log_sinks: list[LogSink] = []
        #: the vty sessions' sinks: every message with its severity, so that each line
        #: shows what ``terminal monitor`` and ``logging monitor`` let through
        self.monitor_sinks: list[Callable[[str, int], None]] = []
        self.terminals = TerminalLines()  # the vtys in use
        self.log_buffer: list[str] = []
        self.boot_time = clock.now
        self.clock_base = 0.0  # lab time at which its software clock read *Mar 1 00:00:00
        self.reload_reason = "Unknown reason"  # show version's "Last reload reason"
        self.config = RunningConfig()
        self.state: dict[str, InterfaceState] = InterfaceStates(
            self._settle_floods, {NULL_INTERFACE: InterfaceState()})
        self.saved_since_change = True
        # the running-config's history, as its "! Last configuration change" lines tell it:
        # when it last changed since boot (None: not since) and when it was last saved
        self.last_change: datetime | None = None
        self.nvram_updated: datetime | None = None
        # the debug flags on, as the keys of a dict: an empty set costs 216 bytes, an empty
        # dict 64, and nearly every router of a lab has none on
        self.debug_flags: dict[str, None] = {}
        self.listeners: list[Callable[[str, str], None]] = []  # (event, detail)
        # whether the far end of a cabled interface is enabled (set by the lab's fabric)
        self.peer_enabled: Callable[[str], bool] | None = None
        self.stack: IpStack | None = None  # set when the router joins a lab's network
        self.crypto_plane: object | None = None  # its RouterCrypto, likewise
        self.ospf_plane: object | None = None  # its RouterOspf, likewise
        self._rib: RoutingTable | None = None
        # routes that protocols put in the table (reverse route injection), by their owner's key
        self.injected_routes: dict[object, Route] = {}
        self.tunnel_plane: object | None = None  # its TunnelPlane, once on a lab's network
        # the line protocol of the virtual interfaces an engine runs (tunnels): True/False,
        # None for an interface it does not run
        self.virtual_lines: Callable[[str], bool | None] | None = None
        # called after every change of addresses, routes or interface state
        self.network_watchers: list[Callable[[], None]] = []
        #: a boot is replaying the startup-config (:func:`iosim.cli.replay.boot`): what
        #: changes on the way is not the state the boot ends with, and is not the outside's
        #: to see (the far ends of the cables look once it is over: :meth:`booted`)
        self.booting = False

    # ------------------------------------------------------------ boot

    def startup_text(self) -> str | None:
        """The config the router boots from: NVRAM, else the lab's, else nothing.

        Raises :class:`NvramError` when NVRAM holds something that cannot be read.
        """
        return self.startup_source()[0]

    def startup_source(self) -> tuple[str | None, str]:
        """(the config the router boots from, what to call it in error messages); raises
        :class:`NvramError` when NVRAM holds something that cannot be read."""
        text = self.nvram.read()
        if text is None:
            return self.initial_config or None, self.initial_source
        return text or None, "startup-config"

    def fresh_config(self, booting_from_config: bool) -> RunningConfig:
        """Factory defaults: every physical interface, shut unless a config is loaded."""
        cfg = RunningConfig()
        for name in self.physical:
            cfg.interfaces[name] = InterfaceConfig(name, shutdown=not booting_from_config)
        return cfg

    def reset_state(self) -> None:
        """A (re)boot: fresh interface state; everything learnt at run time is forgotten. The
        software clock starts again at *Mar 1 00:00:00, as on a router without a calendar."""
        self.clock_base = self.clock.now
        self.state = InterfaceStates(self._settle_floods, {
            name: InterfaceState(cabled=name in self.cabled) for name in self.config.interfaces})
        self.state[NULL_INTERFACE] = InterfaceState()  # always there: what routes discard
        if self.stack is not None:
            self.stack.clear_arp()
        for listener in list(self.listeners):
            listener("reboot", "")

    def settle_state(self) -> None:
        """Take the current state of every interface as known (after boot)."""
        for name, st in self.state.items():
            st.last_status = self.interface_up(name)
            st.method = "NVRAM"
        self.network_changed()
        self.boot_time = self.clock.now
        self.saved_since_change = True
        self.last_change = None

    def booted(self) -> None:
        """A boot (``reload``, a lab reset) is over: those who follow this router's
        interfaces from outside (the far ends of its cables) look again."""
        self._emit("booted", "", network=False)

    # ------------------------------------------------------------ time and log

    def wall_time(self) -> datetime:
        return _wall_time(self.clock.now - self.clock_base)

    def timestamp(self, msec: bool = True) -> str:
        """IOS log timestamp: ``*Mar  1 00:00:05.123`` (``*``: clock never set)."""
        return _timestamp(self.clock.now - self.clock_base, msec)

    def log(self, message: str) -> None:
        """Emit a syslog message (``%FAC-SEV-MNEMONIC: text``) with its timestamp."""
        line = f"{self.timestamp(self.config.timestamps_log_msec)}: {message}"
        self.log_buffer.append(line)
        del self.log_buffer[:-4096]
        severity = message_severity(message)
        # counted for show logging; below the console's logging level it is not shown
        shown = self.config.logging.message(line, severity)
        for monitor in list(self.monitor_sinks):
            monitor(line, severity)
        if not shown:
            return
        for sink in list(self.log_sinks):
            sink(line)

    def debug(self, message: str) -> None:
        """Emit a debug message (``debug crypto ...``) with the debug timestamp."""
        line = f"{self.timestamp(self.config.timestamps_debug_msec)}: {message}"
        # severity 7: buffered at the default level, hidden by "no logging console"
        shown = self.config.logging.message(line, 7)
        for monitor in list(self.monitor_sinks):
            monitor(line, 7)
        if not shown:
            return
        for sink in list(self.log_sinks):
            sink(line)

    # ------------------------------------------------------------ interfaces

    def interface_up(self, name: str) -> tuple[str, str]:
        """(Status, Protocol) as ``show ip interface brief`` prints them."""
        if name == NULL_INTERFACE:
            return ("up", "up")
        intf = self.config.interfaces.get(name)
        if intf is None:
            return ("deleted", "down")
        if intf.shutdown:
            return ("administratively down", "down")
        t = interface_type(name)
        if t is not None and t.name == "Loopback":
            return ("up", "up")
        if t is not None and t.name == "Tunnel":
            line = self.virtual_lines(name) if self.virtual_lines is not None else None
            return ("up", "up" if line else "down")
        st = dict.get(self.state, name)
        if st is not None and st.cabled and (self.peer_enabled is None
                                             or self.peer_enabled(name)):
            return ("up", "up")
        return ("down", "down")

    def interface_created(self, name: str) -> None:
        st = self.state.setdefault(name, InterfaceState(cabled=name in self.cabled,
                                                        method="unset"))
        st.last_status = ("down", "down")
        self._log_link_change(name, st)
        self._changed()
        self._emit("interface", name)

    def interface_removed(self, name: str) -> None:
        self.state.pop(name, None)
        self._changed()
        self._emit("interface", name)

    def interface_changed(self, name: str, addressing: bool = True) -> None:
        st = self.state.setdefault(name, InterfaceState(cabled=name in self.cabled))
        if addressing:
            st.method = "manual" if self.config.interfaces[name].address else "unset"
        self._log_link_change(name, st)
        self._changed()
        self._emit("interface", name)

    def _log_link_change(self, name: str, st: InterfaceState) -> None:
        """IOS's %LINK / %LINEPROTO messages when an interface changes state."""
        before = st.last_status
        after = self.interface_up(name)
        st.last_status = after
        if before is None or before == after:
            return
        if after[0] != before[0]:
            if "administratively down" in (before[0], after[0]):
                st.counters.interface_resets += 1  # shutdown and no shutdown reset it
            if after[0] == "administratively down":
                self.log(f"%LINK-5-CHANGED: Interface {name}, changed state to "
                         "administratively down")
            else:
                self.log(f"%LINK-3-UPDOWN: Interface {name}, changed state to {after[0]}")
        if after[1] != before[1]:
            self.log(f"%LINEPROTO-5-UPDOWN: Line protocol on Interface {name}, "
                     f"changed state to {after[1]}")

    def routes_changed(self) -> None:
        self._changed()
        self._emit("routes", "")

    def acls_changed(self) -> None:
        """An access list changed: what filters by ACLs looks again (addresses and routes
        do not depend on them, so the routing table stays)."""
        self._changed()
        self._emit("acls", "", network=False)

    def config_changed(self, what: str = "") -> None:
        """A feature's configuration changed (crypto, NAT ...)."""
        self._changed()
        self._emit("config", what)

    def _changed(self) -> None:
        self.mark_changed()

    def mark_changed(self) -> None:
        """The running-config changed: it differs from NVRAM's, as of now (and what
        forwarding learnt may no longer hold)."""
        if self.stack is not None:
            self.stack.forget_paths()
        self.saved_since_change = False
        self.last_change = self.wall_time()

    def mark_saved(self) -> None:
        """The running-config was written to NVRAM."""
        self.saved_since_change = True
        self.nvram_updated = self.wall_time()

    def interface_enabled(self, interface: str) -> bool:
        """Not shut down (what the far end of a cable sees)."""
        intf = self.config.interfaces.get(interface)
        return intf is not None and not intf.shutdown

    def line_state_changed(self, interface: str) -> None:
        """The line protocol of ``interface`` changed at run time (a tunnel's route to its
        destination, its keepalives, its IPsec SA): IOS's messages, and whatever depends on
        the interface looks again; the running-config is unchanged."""
        st = self.state.get(interface)
        if st is not None:
            self._log_link_change(interface, st)
        self._emit("interface", interface)

    def far_end_changed(self, interface: str) -> None:
        """The device at the other end of ``interface``'s cable changed state: the line
        protocol may have changed, which those who run on the interface hear as a ``link``
        event (the far end is not told again: it is the one that changed)."""
        st = self.state.get(interface)
        before = st.last_status if st is not None else None
        if st is not None:
            self._log_link_change(interface, st)
        self.network_changed()
        if st is not None and st.last_status != before:
            for listener in list(self.listeners):
                listener("link", interface)

    # ------------------------------------------------------------ the stack's view (Node)

    def interface_is_up(self, interface: str) -> bool:
        return self.interface_up(interface) == ("up", "up")

    def speaks_arp(self, interface: str) -> bool:
        """Whether ``interface`` is on an Ethernet (a loopback or tunnel has no ARP)."""
        t = interface_type(interface)
        return t is None or not t.virtual

    def interface_addresses(self, interface: str) -> list[tuple[int, int]]:
        intf = self.config.interfaces.get(interface)
        if intf is None:
            return []
        pairs = [(intf.address, intf.mask)] if intf.address is not None else []
        pairs += intf.secondaries
        return [(int(a), bin(int(m)).count("1")) for a, m in pairs if a is not None and m]

    def routing_table(self) -> RoutingTable:
        """The current routing table (rebuilt after a change of interfaces or routes)."""
        if self._rib is None:
            from iosim.net.rib import build_rib

            self._rib = build_rib(self)
        return self._rib

    def inject_route(self, key: object, route: Route) -> None:
        """A protocol's route (reverse route injection) into the table, without rebuilding
        it: O(1) per route however many a hub holds (``iosim.net.routing``)."""
        self.injected_routes[key] = route
        if self._rib is not None:
            self._rib.add(route)
        self._notify_watchers()

    def withdraw_route(self, key: object) -> None:
        """Take the protocol route under ``key`` out of the table again."""
        route = self.injected_routes.pop(key, None)
        if route is None:
            return
        if self._rib is None:
            pass
        elif route in self.injected_routes.values() or any(
                Route.static(s.prefix, s.network.prefixlen, s.next_hop, s.interface, s.distance)
                == route for s in self.config.static_routes.values()):
            self._rib = None  # the same route from another source stays: rebuild
        else:
            self._rib.remove(route)
        self._notify_watchers()

    def _settle_floods(self) -> None:
        if self.stack is not None and self.stack.ports:
            self.stack.settle_floods()

    def count_floods(self, interface: str, frames: int, octets: int, bits: float,
                     packets: float, last: float) -> None:
        """Broadcasts a segment kept for ``interface`` (``iosim.net.segment``): counted as
        received, as if each had been handed over on its arrival."""
        st = dict.get(self.state, interface)
        if st is None:
            return
        c = st.counters
        c.input_packets += frames
        c.input_bytes += octets
        c.broadcasts += frames
        c.input_rate._decay(self.clock.now)
        c.input_rate.bits += bits
        c.input_rate.packets += packets
        if st.last_input is None or last > st.last_input:
            st.last_input = last

    def count(self, interface: str, direction: str, frame: bytes) -> None:
        """A frame crossed ``interface`` (``direction`` "in" or "out")."""
        st = dict.get(self.state, interface)
        if st is None:
            return
        now = self.clock.now
        if direction == "in":
            st.counters.received(frame, now)
            st.last_input = now
        else:
            st.counters.sent(frame, now)
            st.last_output = now

    def count_datagram(self, interface: str, direction: str, datagram: bytes) -> None:
        """An IP datagram crossed ``interface``, a tunnel (``direction`` "in" or "out")."""
        st = self.state.get(interface)
        if st is None:
            return
        now = self.clock.now
        if direction == "in":
            st.counters.received_datagram(datagram, now)
            st.last_input = now
        else:
            st.counters.sent(datagram, now)
            st.last_output = now

    def clear_counters(self, interface: str | None = None) -> None:
        """``clear counters [INTERFACE]``: the interface counters start again from zero."""
        now = self.clock.now
        for name, st in self.state.items():
            if interface is None or name == interface:
                st.counters = InterfaceCounters()
                st.cleared_at = now

    def network_changed(self) -> None:
        """Interfaces, addresses or routes changed: rebuild what depends on them."""
        self._rib = None
        if self.stack is not None:
            self.stack.refresh_own_entries(list(self.config.interfaces))
        self._notify_watchers()  # forgets the stack's adjacencies too

    def _notify_watchers(self) -> None:
        """What follows the routing table (a tunnel's line protocol) looks again."""
        if self.stack is not None:
            self.stack.forget_paths()
        for watcher in list(self.network_watchers):
            watcher()

    def _emit(self, event: str, detail: str, network: bool = True) -> None:
        if network:
            self.network_changed()
        for listener in list(self.listeners):
            listener(event, detail)
