"""Lab topology files: ``labs/<name>/lab.toml`` with devices, links and configs.

Format (TOML, edited by hand)::

    [lab]
    name = "site-to-site"
    description = "..."

    [devices.R1]
    kind = "router"
    interfaces = ["GigabitEthernet0/0", "GigabitEthernet0/1"]
    config = "R1.cfg"            # the device's config, relative to the lab directory

    [devices.PC1]
    kind = "host"
    address = "192.168.1.10/24"
    gateway = "192.168.1.1"

    [[links]]
    endpoints = ["R1 GigabitEthernet0/1", "PC1 eth0"]
    delay_ms = 1

    [[segments]]                  # a shared Ethernet segment (a switch)
    name = "LAN2"
    endpoints = ["R2 GigabitEthernet0/1", "PC2 eth0", "PC3 eth0"]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

from iosim.cli.interfaces import match_interface_name

DEFAULT_LAB = "site-to-site"


class LabError(ValueError):
    """A lab file that cannot be loaded; the message says where and why."""


@dataclass(frozen=True)
class RouterSpec:
    name: str
    interfaces: tuple[str, ...]
    config: str | None  # config text


@dataclass(frozen=True)
class HostSpec:
    name: str
    address: IPv4Interface
    gateway: IPv4Address | None


@dataclass(frozen=True)
class LinkSpec:
    """A cable between two interfaces, or a shared Ethernet segment (a switch) joining many."""

    ends: tuple[tuple[str, str], ...]  # (device, interface)
    delay: float  # seconds, one way
    name: str | None = None  # segments are named


@dataclass
class Topology:
    name: str
    description: str
    directory: Path
    routers: dict[str, RouterSpec] = field(default_factory=dict)
    hosts: dict[str, HostSpec] = field(default_factory=dict)
    links: list[LinkSpec] = field(default_factory=list)

    def cabled(self, device: str) -> set[str]:
        """The interfaces of ``device`` that a link connects."""
        out = set()
        for link in self.links:
            for dev, intf in link.ends:
                if dev == device:
                    out.add(intf)
        return out


def labs_dir() -> Path:
    """The built-in labs: the source tree's ``labs/``, or ``iosim/labs`` when installed."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "labs", package / "labs"):
        if (candidate / DEFAULT_LAB / "lab.toml").is_file():
            return candidate
    raise FileNotFoundError("the iosim built-in labs are missing from this installation")


def find_lab(name_or_path: str | None) -> Path:
    """The ``lab.toml`` of a built-in lab name, a lab directory or a file."""
    if name_or_path is None:
        name_or_path = DEFAULT_LAB
    p = Path(name_or_path)
    if p.is_file():
        return p
    if (p / "lab.toml").is_file():
        return p / "lab.toml"
    builtin = labs_dir() / name_or_path / "lab.toml"
    if builtin.is_file():
        return builtin
    known = ", ".join(sorted(d.name for d in labs_dir().iterdir() if (d / "lab.toml").is_file()))
    raise LabError(f"no lab named {name_or_path!r} (built-in labs: {known})")


def _endpoint(text: object, where: str, devices: dict[str, object]) -> tuple[str, str]:
    if not isinstance(text, str) or len(text.split()) != 2:
        raise LabError(f"{where}: an endpoint is 'DEVICE INTERFACE', not {text!r}")
    dev, intf = text.split()
    if dev not in devices:
        raise LabError(f"{where}: unknown device {dev!r}")
    return dev, intf


def load_topology(path: Path) -> Topology:
    """Read and check a ``lab.toml``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise LabError(f"{path}: {e}") from None
    lab = data.get("lab", {})
    topo = Topology(lab.get("name", path.parent.name), lab.get("description", ""), path.parent)
    devices = data.get("devices", {})
    if not isinstance(devices, dict) or not devices:
        raise LabError(f"{path}: no [devices.NAME] tables")
    for name, spec in devices.items():
        where = f"{path}: devices.{name}"
        kind = spec.get("kind", "router")
        if kind == "router":
            names = []
            for raw in spec.get("interfaces", []):
                full = match_interface_name(raw)
                if full is None or full.isalpha():
                    raise LabError(f"{where}: bad interface name {raw!r}")
                names.append(full)
            config = None
            if "config" in spec:
                cfg_path = path.parent / spec["config"]
                try:
                    config = cfg_path.read_text(encoding="utf-8")
                except OSError as e:
                    raise LabError(f"{where}: {e}") from None
            topo.routers[name] = RouterSpec(name, tuple(names), config)
        elif kind == "host":
            try:
                addr = IPv4Interface(spec["address"])
                gw = IPv4Address(spec["gateway"]) if "gateway" in spec else None
            except (KeyError, ValueError) as e:
                raise LabError(f"{where}: {e}") from None
            topo.hosts[name] = HostSpec(name, addr, gw)
        else:
            raise LabError(f"{where}: kind must be 'router' or 'host', not {kind!r}")
    all_devices: dict[str, object] = {**topo.routers, **topo.hosts}
    wires = [("links", i, w) for i, w in enumerate(data.get("links", []))]
    wires += [("segments", i, w) for i, w in enumerate(data.get("segments", []))]
    used: set[tuple[str, str]] = set()
    for table, i, link in wires:
        where = f"{path}: {table}[{i}]"
        ends = link.get("endpoints", [])
        if table == "links" and len(ends) != 2:
            raise LabError(f"{where}: a link has two endpoints")
        if table == "segments" and (len(ends) < 2 or "name" not in link):
            raise LabError(f"{where}: a segment has a name and two or more endpoints")
        fixed = []
        for dev, intf in (_endpoint(e, where, all_devices) for e in ends):
            if dev in topo.routers:
                full = match_interface_name(intf)
                if full not in topo.routers[dev].interfaces:
                    raise LabError(f"{where}: {dev} has no interface {intf!r}")
                intf = full
            if (dev, intf) in used:
                raise LabError(f"{where}: {dev} {intf} is already connected")
            used.add((dev, intf))
            fixed.append((dev, intf))
        topo.links.append(LinkSpec(tuple(fixed), float(link.get("delay_ms", 1)) / 1000,
                                   link.get("name")))
    return topo
