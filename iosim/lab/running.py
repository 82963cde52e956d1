"""A running lab: one virtual clock, the routers and hosts of a topology, their wires.

``Lab.load`` reads a lab directory (:mod:`iosim.lab.labfile`), draws its variables for the
seed, boots every router (from its saved startup-config, else the lab's initial config) and
wires the devices on a :class:`~iosim.net.fabric.Fabric`. Saved configs live under the state
directory, one directory per lab (and per seed, for a lab with variables): a lab's name and
its devices' names are checked to be plain names, so nothing a lab file says can put a file
elsewhere.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING

from iosim.cli.interfaces import match_interface_name
from iosim.cli.replay import boot
from iosim.cli.session import Session
from iosim.clock import VirtualClock
from iosim.ipsec.router_crypto import RouterCrypto
from iosim.lab.host_shell import HostShell
from iosim.lab.labfile import ResolvedLab, find_definition
from iosim.lab.topology import Topology, is_builtin
from iosim.net.acl_filter import InterfaceAcls
from iosim.net.fabric import Fabric
from iosim.net.host import HOST_INTERFACE, Host
from iosim.net.nat import install_nat
from iosim.net.segment import Port
from iosim.net.stack import BurnedInAddresses, IpStack
from iosim.net.tcp_mss import install_mss_clamp
from iosim.net.tunnel import install_tunnels
from iosim.ospf.router_ospf import RouterOspf
from iosim.router import Nvram, Router

if TYPE_CHECKING:
    from iosim.net.udp_bridge import UdpBridge

BOOT_SECONDS = 1.0  # devices boot in the virtual second before the lab starts


def state_dir() -> Path:
    """Where labs keep each device's saved startup-config (NVRAM)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "iosim"


def nvram_directory(resolved: ResolvedLab) -> Path:
    """Where the devices of ``resolved`` save: ``labs/<lab>`` (``labs/<lab>-<hash of its
    path>`` for a lab that is not built in), and for a lab whose variables a seed drew,
    ``.../seeds/<hash of the seed>`` (another student, another lab)."""
    name = resolved.info.name
    if not is_builtin(resolved.definition.path):
        # a lab from elsewhere never shares saved configs with a built-in lab of its name,
        # nor with another folder's lab: its name plus where it lives
        where = str(resolved.definition.path.resolve()).encode("utf-8", "surrogateescape")
        name = f"{name}-{hashlib.sha256(where).hexdigest()[:8]}"
    base = state_dir() / "labs" / name
    if resolved.seed and resolved.definition.variables:
        digest = hashlib.sha256(resolved.seed.encode("utf-8", "surrogatepass")).hexdigest()
        base = base / "seeds" / digest[:16]
    return base


@dataclass
class Lab:
    """A running lab: its clock, routers and their console sessions."""

    resolved: ResolvedLab
    clock: VirtualClock
    fabric: Fabric = field(init=False)
    routers: dict[str, Router] = field(default_factory=dict)
    hosts: dict[str, Host] = field(default_factory=dict)
    sessions: dict[str, Session | HostShell] = field(default_factory=dict)
    boot_errors: list[str] = field(default_factory=list)
    seed: str = ""  # varies every random draw (cookies, nonces, SPIs, keys); "" = the default
    #: called after virtual time jumped ahead of the wall clock (grading), so an interactive
    #: console can take the new instant as "now"
    time_jumped: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.fabric = Fabric(self.clock)
        self.macs = BurnedInAddresses()

    @property
    def topology(self) -> Topology:
        return self.resolved.topology

    @classmethod
    def load(cls, name_or_path: str | None = None, *, reset: bool = False,
             nvram_dir: Path | None = None, seed: str = "", memory: bool = False,
             startup: dict[str, str] | None = None,
             clock: VirtualClock | None = None) -> Lab:
        """Load a lab and boot every router (from its saved NVRAM if any). The same ``seed``
        gives the same run, byte for byte; another seed other SPIs, nonces and keys, and for
        a lab with variables other addresses, keys and names.

        ``memory``: NVRAM kept in memory only (a graded run leaves no file behind);
        ``startup``: the startup-configs to boot from (a hand-in), in memory too;
        ``clock``: the lab's clock, made at ``-BOOT_SECONDS`` (a served lab's runs on the
        wall clock); a new :class:`VirtualClock` by default.
        """
        resolved = find_definition(name_or_path).resolve(seed)
        # Booting makes long-lived objects by the hundred thousand and no garbage cycles:
        # the cyclic collector would traverse the growing lab again and again (most of a
        # 10,000-router boot), so it waits until the lab is up.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return cls._boot(resolved, reset, nvram_dir, seed, memory, startup, clock)
        finally:
            if collecting:
                gc.enable()

    @classmethod
    def _boot(cls, resolved: ResolvedLab, reset: bool, nvram_dir: Path | None, seed: str,
              memory: bool, startup: dict[str, str] | None,
              clock: VirtualClock | None = None) -> Lab:
        lab = cls(resolved, clock if clock is not None else VirtualClock(start=-BOOT_SECONDS),
                  seed=seed)
        nv_base = None if memory or startup is not None else (
            nvram_dir or nvram_directory(resolved))
        topo = resolved.topology
        cabling = topo.cabling()
        for name, spec in topo.routers.items():
            nvram = Nvram(None if nv_base is None else nv_base / f"{name}.startup-config")
            if startup is not None and name in startup:
                nvram.write(startup[name])
            if reset:
                nvram.forget()
            source = (str(topo.directory / spec.config_file) if spec.config_file
                      else "startup-config")
            router = Router(name, list(spec.interfaces), lab.clock, nvram, spec.config,
                            cabling.get(name, set()), initial_source=source)
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
            stack = IpStack(router, self.clock, fabric.transmitter(name),
                            packet_filter=InterfaceAcls(router, self.clock), mac_source=self.macs)
            router.stack = stack
            stack.ports = self._ports(name, router.physical)
            for interface in router.physical:  # in topology order: see BurnedInAddresses
                stack.mac(interface)
            install_nat(router)  # NAT's hooks first: IOS translates before it encrypts
            install_mss_clamp(router)
            install_tunnels(router, self.clock)  # before the crypto, which protects them
            router.crypto_plane = RouterCrypto(
                router, self.clock, f"{self.topology.name}/{name}" + (f"/{self.seed}"
                                                                      if self.seed else ""))
            RouterOspf(router, self.clock)  # becomes router.ospf_plane
            fabric.attach(name, stack.receive, router.interface_enabled)
            router.peer_enabled = partial(fabric.peer_admin_up, name)
            router.listeners.append(partial(self._tell_far_end, name))
        for name, host in self.hosts.items():
            hstack = IpStack(host, self.clock, fabric.transmitter(name), forwarding=False,
                             mac_source=self.macs)
            host.stack = hstack
            hstack.mac(HOST_INTERFACE)
            hstack.ports = self._ports(name, [HOST_INTERFACE])
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

    def _ports(self, device: str, interfaces: list[str]) -> dict[str, Port]:
        """The segment ports of a device's interfaces (cables have none)."""
        found = {name: self.fabric.port_of(device, name) for name in interfaces}
        return {name: port for name, port in found.items() if port is not None}

    def reset_device(self, name: str) -> list[str]:
        """Back to the lab's initial state: forget the saved config, reboot from the lab's.
        Returns the boot's config errors."""
        router = self.routers.get(name)
        if router is None:
            host = self.hosts[name]
            assert host.stack is not None
            host.stack.clear_arp()
            host.stack.refresh_own_entries([HOST_INTERFACE])
            return []
        router.nvram.forget()
        router.reload_reason = "Reload Command"
        errors = boot(router)
        old = self.sessions[name]
        length = old.terminal_length if isinstance(old, Session) else 24
        self.sessions[name] = Session(router, terminal_length=length)
        return errors

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
        """An interface of ``device`` changed: the router at the other end sees it too.
        While ``device`` boots, its far ends hear nothing: it starts from a fresh
        configuration (every interface up, or every one shut when there is no
        startup-config) and replays its config line by line, so an interface may pass
        through states it does not end in (up from the fresh configuration until the
        replayed ``shutdown``). Once the boot is over each far end looks again and sees
        only the state the boot ended with, as a real neighbour does."""
        router = self.routers[device]
        if event == "booted":
            for name in router.physical:
                self._tell_far_end(device, "interface", name)
            return
        if event != "interface" or router.booting:
            return
        link = self.fabric.link_of(device, interface)
        if link is None or link.shared:
            return
        peer_dev, peer_if = link.peer((device, interface))
        peer = self.routers.get(peer_dev)
        if peer is not None:
            peer.far_end_changed(peer_if)
