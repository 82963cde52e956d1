"""Lab topology files: ``labs/<name>/lab.toml`` with devices, links and configs.

Format (TOML, edited by hand; the whole lab format is in ``labs/README.md``)::

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

A lab file is untrusted input: every value is type-checked (:mod:`iosim.lab.schema`), device
names are safe file names, and config files must lie inside the lab's directory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any

from iosim.cli.interfaces import match_interface_name
from iosim.lab.schema import (
    DEVICE_NAME,
    LAB_NAME,
    MAX_DEVICES,
    LabError,
    Table,
    check_name,
    inside,
    read_text,
)

__all__ = ["DEFAULT_LAB", "LabError", "Topology", "find_lab", "labs_dir", "topology_from"]

DEFAULT_LAB = "site-to-site"
MAX_INTERFACES = 64  # per router
MAX_DELAY_MS = 10_000.0

#: Substitutes lab variables into a text; ``where`` names the text in errors.
Substitute = Callable[[str, str], str]


def _verbatim(text: str, where: str) -> str:
    return text


@dataclass(frozen=True)
class RouterSpec:
    name: str
    interfaces: tuple[str, ...]
    config: str | None  # config text
    config_file: str | None = None  # where it came from, for error messages
    position: tuple[float, float] | None = None  # where a drawing puts it (x, y)


@dataclass(frozen=True)
class HostSpec:
    name: str
    address: IPv4Interface
    gateway: IPv4Address | None
    position: tuple[float, float] | None = None


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
        return self.cabling().get(device, set())

    def cabling(self) -> dict[str, set[str]]:
        """Every device's cabled interfaces, in one pass over the links (a segment has an
        end per device: asking each device of a hub to scan them all would be quadratic)."""
        out: dict[str, set[str]] = {}
        for link in self.links:
            for dev, intf in link.ends:
                out.setdefault(dev, set()).add(intf)
        return out

    @property
    def devices(self) -> list[str]:
        """Every device, routers first, in the file's order."""
        return [*self.routers, *self.hosts]


def labs_dir() -> Path:
    """The built-in labs: the source tree's ``labs/``, or ``iosim/labs`` when installed."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "labs", package / "labs"):
        if (candidate / DEFAULT_LAB / "lab.toml").is_file():
            return candidate
    raise FileNotFoundError("the iosim built-in labs are missing from this installation")


def is_builtin(lab_toml: Path) -> bool:
    """Whether ``lab_toml`` is one of the labs iosim ships."""
    try:
        return lab_toml.resolve().parent.parent == labs_dir().resolve()
    except OSError:
        return False


def builtin_labs() -> list[Path]:
    """The ``lab.toml`` of every built-in lab."""
    return sorted(d / "lab.toml" for d in labs_dir().iterdir() if (d / "lab.toml").is_file())


def find_lab(name_or_path: str | None) -> Path:
    """The ``lab.toml`` of a built-in lab name, a lab directory or a file."""
    if name_or_path is None:
        name_or_path = DEFAULT_LAB
    if "\x00" in name_or_path:
        raise LabError("a lab name cannot contain a NUL character")
    # a bare name is a built-in lab first (a folder of that name in the current directory
    # does not replace it: say ./NAME for that)
    if LAB_NAME.fullmatch(name_or_path):
        builtin = labs_dir() / name_or_path / "lab.toml"
        if builtin.is_file():
            return builtin
    p = Path(name_or_path)
    try:
        if p.is_file():
            return p
        if (p / "lab.toml").is_file():
            return p / "lab.toml"
    except OSError as e:
        raise LabError(f"{name_or_path}: {e.strerror or e}") from None
    known = ", ".join(p.parent.name for p in builtin_labs())
    raise LabError(f"no lab named {name_or_path!r} (built-in labs: {known})")


_ROUTER_KEYS = frozenset({"kind", "interfaces", "config", "position"})
_HOST_KEYS = frozenset({"kind", "address", "gateway", "position"})
_LINK_KEYS = frozenset({"endpoints", "delay_ms"})
_SEGMENT_KEYS = frozenset({"endpoints", "delay_ms", "name"})


def _position(spec: Table) -> tuple[float, float] | None:
    raw = spec.raw("position")
    if raw is None:
        return None
    if not (isinstance(raw, list) and len(raw) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool)
                    and -10_000 <= v <= 10_000 for v in raw)):
        raise spec.error("position", f"must be [x, y] with numbers, not {raw!r}"[:120])
    x, y = raw
    return float(x), float(y)


class _ConfigFiles:
    """Config files read once each, with a budget on what one lab may read in all."""

    BUDGET = 64 * 1024 * 1024

    def __init__(self) -> None:
        self._texts: dict[Path, str] = {}
        self._read = 0

    def text(self, path: Path, label: str) -> str:
        found = self._texts.get(path)
        if found is None:
            found = self._texts[path] = read_text(path, label)
        return found

    def charge(self, text: str, label: str) -> str:
        """Count a router's config (variables filled in) against the lab's budget."""
        self._read += len(text)
        if self._read > self.BUDGET:
            raise LabError(f"{label}: the lab's router configs hold more than "
                           f"{self.BUDGET // (1024 * 1024)} MiB in all")
        return text


def _router(name: str, spec: Table, directory: Path, sub: Substitute,
            files: _ConfigFiles) -> RouterSpec:
    spec.unknown(_ROUTER_KEYS)
    names = []
    raw_names = spec.text_list("interfaces")
    if len(raw_names) > MAX_INTERFACES:
        raise spec.error("interfaces", f"more than {MAX_INTERFACES} interfaces")
    for raw in raw_names:
        full = match_interface_name(raw)
        if full is None or full.isalpha():
            raise spec.error("interfaces", f"bad interface name {raw!r}")
        if full in names:
            raise spec.error("interfaces", f"{full} is listed twice")
        names.append(full)
    config = config_file = None
    if "config" in spec:
        config_file = spec.text("config", max_len=1000)
        where = f"{spec.where}.config"
        path = inside(directory, config_file, where)
        label = str(directory / config_file)
        if not path.exists() and not path.is_symlink():
            raise spec.error("config", f"{config_file!r} does not exist in the lab's directory")
        config = files.charge(sub(files.text(path, label), label), label)
    return RouterSpec(name, tuple(names), config, config_file, _position(spec))


def _host(name: str, spec: Table, sub: Substitute) -> HostSpec:
    spec.unknown(_HOST_KEYS)
    text = sub(spec.text("address", required=True), f"{spec.where}.address")
    try:
        addr = IPv4Interface(text)
    except ValueError as e:
        raise spec.error("address", str(e)) from None
    if "/" not in text:  # IPv4Interface would take it as a /32: a host cut off from its LAN
        raise spec.error("address", f"{text!r} needs its prefix length ({text}/24)")
    gateway = None
    if "gateway" in spec:
        try:
            gateway = IPv4Address(sub(spec.text("gateway"), f"{spec.where}.gateway"))
        except ValueError as e:
            raise spec.error("gateway", str(e)) from None
        if gateway == addr.ip:
            raise spec.error("gateway", f"{gateway} is {name}'s own address")
        if gateway not in addr.network:
            raise spec.error("gateway", f"{gateway} is not in {name}'s subnet {addr.network}")
    return HostSpec(name, addr, gateway, _position(spec))


def _endpoint(text: str, where: str, topo: Topology) -> tuple[str, str]:
    parts = text.split()
    if len(parts) != 2:
        raise LabError(f"{where}: an endpoint is 'DEVICE INTERFACE', not {text!r}")
    dev, intf = parts
    if dev in topo.routers:
        full = match_interface_name(intf)
        if full not in topo.routers[dev].interfaces:
            raise LabError(f"{where}: {dev} has no interface {intf!r}")
        return dev, full
    if dev in topo.hosts:
        if intf != "eth0":
            raise LabError(f"{where}: a host's interface is eth0, not {intf!r}")
        return dev, intf
    raise LabError(f"{where}: unknown device {dev!r}")


def topology_from(data: dict[str, Any], path: Path, name: str, description: str,
                  sub: Substitute = _verbatim) -> Topology:
    """The devices, links and segments of a parsed ``lab.toml``."""
    root = Table.root(data, path)
    topo = Topology(name, description, path.parent)
    devices = root.table("devices")
    if not devices.keys():
        raise LabError(f"{path}: no [devices.NAME] tables")
    if len(devices.keys()) > MAX_DEVICES:
        raise LabError(f"{path}: more than {MAX_DEVICES} devices")
    files = _ConfigFiles()
    for dev_name in devices.keys():
        spec = devices.table(dev_name)
        check_name(dev_name, DEVICE_NAME, spec.where, "device name")
        kind = spec.raw("kind", "router")
        if kind == "router":
            topo.routers[dev_name] = _router(dev_name, spec, path.parent, sub, files)
        elif kind == "host":
            topo.hosts[dev_name] = _host(dev_name, spec, sub)
        else:
            raise spec.error("kind", f"kind must be 'router' or 'host', not {kind!r}"[:120])
    if not topo.routers:
        raise LabError(f"{path}: a lab needs at least one router")
    lower = {d.lower() for d in topo.devices}
    if len(lower) != len(topo.devices):
        raise LabError(f"{path}: two devices have the same name in different case")
    wires = [("links", t) for t in root.tables("links")]
    wires += [("segments", t) for t in root.tables("segments")]
    used: set[tuple[str, str]] = set()
    for kind, link in wires:
        link.unknown(_LINK_KEYS if kind == "links" else _SEGMENT_KEYS)
        # a segment may join every device of the lab (a hub and its spokes)
        ends = link.text_list("endpoints", required=True, max_items=MAX_DEVICES)
        if kind == "links" and len(ends) != 2:
            raise LabError(f"{link.where}: a link has two endpoints")
        if kind == "segments" and (len(ends) < 2 or "name" not in link):
            raise LabError(f"{link.where}: a segment has a name and two or more endpoints")
        label = link.text("name", max_len=64) if kind == "segments" else None
        fixed = []
        for end in ends:
            dev, intf = _endpoint(end, link.where, topo)
            if (dev, intf) in used:
                raise LabError(f"{link.where}: {dev} {intf} is already connected")
            used.add((dev, intf))
            fixed.append((dev, intf))
        delay = link.number("delay_ms", 1.0, high=MAX_DELAY_MS,
                            what="a number of milliseconds") / 1000
        topo.links.append(LinkSpec(tuple(fixed), delay, label))
    for host in topo.hosts:
        if (host, "eth0") not in used:
            raise LabError(f"{devices.where}.{host}: no link or segment connects it (a host "
                           "sends only through its eth0)")
    return topo
