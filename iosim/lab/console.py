"""The lab console: one keyboard, every router of a lab, ``@`` lines for iosim itself.

A line that starts with ``@`` is for iosim, never for a router (no IOS command starts
with ``@``): ``@R2`` attaches the console to R2 (every device keeps its mode and
state), ``@wait SECONDS`` advances the lab's virtual clock, ``@devices`` lists the
devices, ``@help`` lists these.  Every other line goes to the attached router.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from iosim.cli.interfaces import match_interface_name
from iosim.cli.replay import boot
from iosim.cli.session import Session
from iosim.clock import VirtualClock
from iosim.ipsec.router_crypto import RouterCrypto
from iosim.lab.host_shell import HostShell
from iosim.lab.topology import Topology, find_lab, load_topology
from iosim.net.fabric import Fabric
from iosim.net.host import HOST_INTERFACE, Host
from iosim.net.nat import install_nat
from iosim.net.stack import IpStack
from iosim.router import Nvram, Router

if TYPE_CHECKING:
    from iosim.net.udp_bridge import UdpBridge

BOOT_SECONDS = 1.0  # devices boot in the virtual second before the lab starts

_HELP = """\
iosim console commands (lines that start with '@'):
  @DEVICE          attach the console to DEVICE (e.g. @R2); each keeps its state
  @devices         list the lab's devices
  @wait SECONDS    advance the lab's virtual clock (timers, lifetimes, show clock)
  @keys DIR        write the lab's ESP and IKE keys for Wireshark (esp_sa,
                   ikev1_decryption_table) into DIR, to open captures decrypted
  @help            this list
"""


def state_dir() -> Path:
    """Where labs keep each device's saved startup-config (NVRAM)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "iosim"


@dataclass
class Lab:
    """A running lab: its clock, routers and their console sessions."""

    topology: Topology
    clock: VirtualClock
    fabric: Fabric = field(init=False)
    routers: dict[str, Router] = field(default_factory=dict)
    hosts: dict[str, Host] = field(default_factory=dict)
    sessions: dict[str, Session | HostShell] = field(default_factory=dict)
    boot_errors: list[str] = field(default_factory=list)
    seed: str = ""  # varies every random draw (cookies, nonces, SPIs, keys); "" = the default

    def __post_init__(self) -> None:
        self.fabric = Fabric(self.clock)

    @classmethod
    def load(cls, name_or_path: str | None = None, *, reset: bool = False,
             nvram_dir: Path | None = None, seed: str = "") -> Lab:
        """Load a lab and boot every router (from its saved NVRAM if any). The same ``seed``
        gives the same run, byte for byte; another seed other SPIs, nonces and keys."""
        topo = load_topology(find_lab(name_or_path))
        lab = cls(topo, VirtualClock(start=-BOOT_SECONDS), seed=seed)
        nv_base = nvram_dir or state_dir() / "labs" / topo.name
        for name, spec in topo.routers.items():
            nvram = Nvram(nv_base / f"{name}.startup-config")
            if reset and nvram.path is not None and nvram.path.exists():
                nvram.path.unlink()
            router = Router(name, list(spec.interfaces), lab.clock, nvram, spec.config,
                            topo.cabled(name))
            lab.boot_errors.extend(boot(router))
            lab.routers[name] = router
            lab.sessions[name] = Session(router)
        for name, hspec in topo.hosts.items():
            lab.hosts[name] = Host(name, hspec.address, hspec.gateway)
        lab._wire()
        return lab

    def _wire(self) -> None:
        """Put every device on the fabric: stacks, links, far-end state."""
        fabric = self.fabric
        for link in self.topology.links:
            fabric.connect(link.ends, link.delay, link.name)
        for name, router in self.routers.items():
            stack = IpStack(router, self.clock, fabric.transmitter(name))
            router.stack = stack
            install_nat(router)  # NAT's hooks first: IOS translates before it encrypts
            router.crypto_plane = RouterCrypto(
                router, self.clock, f"{self.topology.name}/{name}" + (f"/{self.seed}"
                                                                      if self.seed else ""))
            fabric.attach(name, stack.receive, router.interface_enabled)
            router.peer_enabled = partial(fabric.peer_admin_up, name)
            router.listeners.append(partial(self._tell_far_end, name))
        for name, host in self.hosts.items():
            hstack = IpStack(host, self.clock, fabric.transmitter(name), forwarding=False)
            host.stack = hstack
            self.sessions[name] = HostShell(host, self.clock)
            fabric.attach(name, hstack.receive, host.interface_is_up)
        for router in self.routers.values():
            router.settle_state()
        for host in self.hosts.values():  # once every device listens, PCs announce themselves
            assert host.stack is not None
            host.stack.refresh_own_entries([HOST_INTERFACE])
        # Interfaces coming up announce themselves (gratuitous ARP): the devices boot in the
        # second before time 0 and that settles, as on a lab that booted before anyone typed.
        # (Up to time 0, not "until idle": on a big segment that is a million deliveries, and
        # a periodic timer of a saved config never goes idle.)
        self.clock.advance_to(0.0)
        for router in self.routers.values():
            router.boot_time = router.clock_base = 0.0

    def bridge(self, spec: str) -> UdpBridge:
        """``DEVICE:INTERFACE:ADDRESS:PEER``: bind a router interface the lab leaves uncabled
        to real UDP 500/4500 sockets on the host's ``ADDRESS``, towards the real IKE peer at
        ``PEER`` (see :mod:`iosim.net.udp_bridge`); the router then draws its randomness from
        the operating system. Raises ValueError (or OSError from the sockets) with a message
        for the user."""
        parts = spec.split(":")
        if len(parts) != 4:
            raise ValueError("expected DEVICE:INTERFACE:ADDRESS:PEER, e.g. "
                             "R1:Gi0/2:10.99.0.1:10.99.0.2")
        device, typed, address, peer = parts
        router = self.routers.get(device)
        interface = match_interface_name(typed)
        if router is None:
            raise ValueError(f"no router {device!r} in this lab")
        if interface not in router.physical:
            raise ValueError(f"{device} has no interface {typed!r}")
        for text in (address, peer):
            IPv4Address(text)  # ValueError for a bad address
        from iosim.net.udp_bridge import UdpBridge  # real sockets only for who asks

        bridge = UdpBridge.attach(self.fabric, router, interface, host_address=address,
                                  peer_address=peer)
        # what this router sends to a real peer must not be predictable from the lab's seed
        # (cookies, nonces, DH privates, SPIs, IVs): the operating system's randomness
        if isinstance(router.crypto_plane, RouterCrypto):
            router.crypto_plane.rand.use_os_randomness()
        return bridge

    def _tell_far_end(self, device: str, event: str, interface: str) -> None:
        """An interface of ``device`` changed: the router at the other end sees it too."""
        if event != "interface":
            return
        link = self.fabric.link_of(device, interface)
        if link is None or link.shared:
            return
        peer_dev, peer_if = link.peer((device, interface))
        peer = self.routers.get(peer_dev)
        if peer is not None:
            peer.far_end_changed(peer_if)


class LabConsole:
    """Routes console lines to the attached router and writes the transcript."""

    def __init__(self, lab: Lab, device: str | None = None, *, paging: bool = True) -> None:
        self.lab = lab
        first = device or next(iter(lab.routers))
        if first not in lab.sessions:
            raise KeyError(first)
        self.device = first
        self._logs: dict[str, list[str]] = {name: [] for name in lab.sessions}
        # while a command streams its output (ping, traceroute), the attached router's
        # messages interleave with it as they happen, as on a console; otherwise they wait
        # until the command's output is complete
        self._emit: Callable[[str], None] | None = None
        self._column0 = True
        self._streamed = 0
        for name, router in lab.routers.items():
            router.log_sinks.append(partial(self._log, name))
            session = lab.sessions[name]
            if not paging and isinstance(session, Session):
                session.terminal_length = 0

    @property
    def session(self) -> Session | HostShell:
        return self.lab.sessions[self.device]

    @property
    def prompt(self) -> str:
        return self.session.prompt

    def _log(self, device: str, line: str) -> None:
        if device == self.device and self._emit is not None and self._streamed:
            self._emit(("" if self._column0 else "\n") + line + "\n")
        else:
            self._logs[device].append(line)

    def pending_logs(self) -> str:
        """Log lines the attached router printed since last asked."""
        logs = self._logs[self.device]
        text = "".join(line + "\n" for line in logs)
        logs.clear()
        return text

    def feed(self, line: str) -> str:
        """One input line; the output (logs that happened meanwhile included)."""
        stripped = line.strip()
        pending = self.session.pending
        if stripped.startswith("@") and (pending is None or pending.echo and not pending.text):
            # the emulator's own lines work even while a router asks a question (not while it
            # reads a password or banner text, which may begin with "@")
            return self._iosim_command(stripped[1:])
        session = self.session
        if not isinstance(session, Session):
            return session.feed(line) + self.pending_logs()
        outer = session.stream
        shown: list[str] = []

        def emit(text: str) -> None:
            if not text:
                return
            self._streamed += 1
            self._column0 = text.endswith("\n")
            if outer is not None:
                outer(text)
            else:
                shown.append(text)

        session.stream, self._emit, self._streamed = emit, emit, 0
        try:
            out = session.feed(line)
        finally:
            session.stream, self._emit, self._column0 = outer, None, True
        return "".join(shown) + out + self.pending_logs()

    def _iosim_command(self, text: str) -> str:
        words = text.split()
        if not words or words[0] == "help":
            return _HELP
        cmd = words[0]
        if cmd == "devices":
            rows = [f"  {n:<10} router  {'(attached)' if n == self.device else ''}".rstrip()
                    for n in self.lab.routers]
            rows += [f"  {n:<10} host    {h.address}{'  (attached)' if n == self.device else ''}"
                     for n, h in self.lab.topology.hosts.items()]
            return "\n".join(rows) + "\n"
        if cmd == "wait":
            try:
                seconds = float(words[1])
                if seconds < 0 or seconds != seconds:
                    raise ValueError
            except (IndexError, ValueError):
                return "% @wait needs a number of seconds, e.g. @wait 30\n"
            self.lab.clock.advance(seconds)
            return self.pending_logs()
        if cmd == "keys":
            if len(words) != 2:
                return "% @keys needs a directory, e.g. @keys /tmp/lab-keys\n"
            from iosim.lab.keys import write_wireshark_keys

            try:
                paths = write_wireshark_keys(self.lab, Path(words[1]))
            except OSError as e:
                return f"% Cannot write the keys: {e.strerror}\n"
            return "".join(f"Wrote {p}\n" for p in paths)
        if cmd in self.lab.sessions:
            self.device = cmd
            return self.pending_logs()
        return f"% Unknown iosim command or device '@{cmd}' (try @help)\n"


def run_transcript(console: LabConsole, lines: Iterable[str], out: TextIO) -> None:
    """Feed lines and write what a console shows: prompt, echoed line, output."""
    for raw in lines:
        line = raw.rstrip("\r\n")
        session = console.session
        echo = session.pending is None or session.pending.echo
        shown = line.replace("\x1a", "^Z") if echo else ""
        out.write(console.prompt + shown + "\n")
        out.write(console.feed(line))
    out.write(console.prompt + "\n")
