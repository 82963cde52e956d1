"""The OSPF part of the running-config: ``router ospf N`` and each interface's
``ip ospf ...`` settings, as plain data.

``RunningConfig.features["ospf"]`` holds an :class:`OspfConfig` (the processes by ID) and
``InterfaceConfig.features["ospf"]`` an :class:`OspfInterfaceConfig`. What they make of an
interface (its area, network type, cost from bandwidth, timers, authentication) is
:func:`interface_plan`'s, which the router's OSPF glue calls whenever the configuration
changes: the config says what was typed, the plan what OSPF does with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

from iosim.cli.interfaces import interface_type, short_name
from iosim.config.model import InterfaceConfig, RunningConfig
from iosim.config.passwords import type7_decode
from iosim.config.tunnel_model import bandwidth_of
from iosim.ospf.interface import AuthSettings, InterfaceSettings, NetworkType
from iosim.ospf.packets import AuType

DEFAULT_REFERENCE_MBPS = 100
DEFAULT_HELLO = 10


def area_text(area: int, dotted: bool) -> str:
    """An area as typed: decimal (``0``) or dotted (``0.0.0.0``)."""
    return str(IPv4Address(area)) if dotted else str(area)


@dataclass(frozen=True)
class OspfNetwork:
    """``network ADDRESS WILDCARD area AREA``."""

    address: int
    wildcard: int
    area: int
    area_text: str

    def matches(self, address: int) -> bool:
        keep = ~self.wildcard & 0xFFFFFFFF
        return address & keep == self.address & keep


@dataclass(frozen=True)
class DefaultInformation:
    """``default-information originate [always] [metric M] [metric-type T]``."""

    always: bool = False
    metric: int | None = None
    metric_type: int | None = None


@dataclass
class OspfProcess:
    """``router ospf N`` and its (config-router) lines."""

    process_id: int
    router_id: IPv4Address | None = None
    networks: list[OspfNetwork] = field(default_factory=list)
    passive_default: bool = False
    passive: list[str] = field(default_factory=list)  # passive-interface X
    not_passive: list[str] = field(default_factory=list)  # no passive-interface X (default)
    default_information: DefaultInformation | None = None
    reference_mbps: int = DEFAULT_REFERENCE_MBPS
    area_authentication: dict[int, tuple[str, int]] = field(default_factory=dict)  # text, type
    log_adjacency: str = "brief"  # brief (the default), detail, off

    def is_passive(self, interface: str) -> bool:
        if self.passive_default:
            return interface not in self.not_passive
        return interface in self.passive


@dataclass
class OspfConfig:
    """Every ``router ospf`` of the router."""

    processes: dict[int, OspfProcess] = field(default_factory=dict)


@dataclass
class Md5Key:
    """``ip ospf message-digest-key ID md5 [0|7] KEY``."""

    key_id: int
    key: str | None = None  # typed in clear
    key_type7: str | None = None  # typed already encrypted

    def secret(self) -> bytes:
        text = self.key if self.key is not None else type7_decode(self.key_type7 or "")
        return (text or "").encode("latin-1", "replace")[:16]


@dataclass
class OspfInterfaceConfig:
    """An interface's ``ip ospf ...`` lines (None: not configured)."""

    process: int | None = None  # ip ospf N area A
    area: int | None = None
    area_text: str = ""
    cost: int | None = None
    hello: int | None = None
    dead: int | None = None
    network: str | None = None  # "point-to-point" | "broadcast"
    priority: int | None = None
    authentication: str | None = None  # "" (simple), "message-digest", "null"
    auth_key: str | None = None
    auth_key_type7: str | None = None
    md5_keys: list[Md5Key] = field(default_factory=list)
    mtu_ignore: bool = False

    def empty(self) -> bool:
        return self == OspfInterfaceConfig()


def ospf_config(cfg: RunningConfig, create: bool = False) -> OspfConfig:
    """The router's OSPF processes (an empty set, not stored, unless ``create``)."""
    found = cfg.features.get("ospf")
    if isinstance(found, OspfConfig):
        return found
    made = OspfConfig()
    if create:
        cfg.features["ospf"] = made
    return made


def interface_ospf(intf: InterfaceConfig, create: bool = False) -> OspfInterfaceConfig:
    """An interface's OSPF settings (empty ones, not stored, unless ``create``)."""
    found = intf.features.get("ospf")
    if isinstance(found, OspfInterfaceConfig):
        return found
    made = OspfInterfaceConfig()
    if create:
        intf.features["ospf"] = made
    return made


# ---------------------------------------------------------------- what OSPF makes of it

#: The network type of each interface type when ``ip ospf network`` does not say.
DEFAULT_NETWORK_TYPE = {"Loopback": NetworkType.LOOPBACK, "Tunnel": NetworkType.POINT_TO_POINT}


def network_type(intf: InterfaceConfig) -> NetworkType:
    configured = interface_ospf(intf).network
    t = interface_type(intf.name)
    if t is not None and t.name == "Loopback" and configured != "point-to-point":
        return NetworkType.LOOPBACK
    if configured == "point-to-point":
        return NetworkType.POINT_TO_POINT
    if configured == "broadcast":
        return NetworkType.BROADCAST
    return DEFAULT_NETWORK_TYPE.get(t.name if t else "", NetworkType.BROADCAST)


def cost_of(intf: InterfaceConfig, process: OspfProcess) -> int:
    """``ip ospf cost``, else the reference bandwidth over the interface's (at least 1)."""
    configured = interface_ospf(intf).cost
    if configured is not None:
        return configured
    return max(1, min(65535, process.reference_mbps * 1000 // max(1, bandwidth_of(intf))))


def _auth(intf: InterfaceConfig, process: OspfProcess, area: int) -> AuthSettings:
    o = interface_ospf(intf)
    mode = o.authentication
    if mode is None:
        area_auth = process.area_authentication.get(area)
        autype = area_auth[1] if area_auth else AuType.NULL
    else:
        autype = {"": AuType.SIMPLE_PASSWORD, "message-digest": AuType.CRYPTOGRAPHIC,
                  "null": AuType.NULL}[mode]
    password = o.auth_key if o.auth_key is not None else type7_decode(o.auth_key_type7 or "")
    return AuthSettings(autype, (password or "").encode("latin-1", "replace")[:8],
                        tuple((k.key_id, k.secret()) for k in o.md5_keys))


def attachment(intf: InterfaceConfig, processes: dict[int, OspfProcess]
               ) -> tuple[OspfProcess, int, str, bool] | None:
    """(process, area, area as typed, by interface command) that runs on ``intf``: its
    ``ip ospf N area A``, else the first network statement (processes in ID order) that
    covers its primary address."""
    o = interface_ospf(intf)
    if o.process is not None and o.area is not None and o.process in processes:
        return processes[o.process], o.area, o.area_text, True
    if intf.address is None:
        return None
    address = int(intf.address)
    for pid in sorted(processes):
        process = processes[pid]
        for net in process.networks:
            if net.matches(address):
                return process, net.area, net.area_text, False
    return None


def interface_plan(intf: InterfaceConfig, process: OspfProcess, area: int, text: str,
                   by_interface: bool, mtu: int) -> InterfaceSettings:
    """The engine's settings for an interface that runs OSPF (``mtu``: its IP MTU, which
    its Database Description packets carry)."""
    o = interface_ospf(intf)
    assert intf.address is not None and intf.mask is not None
    kind = network_type(intf)
    hello = o.hello if o.hello is not None else DEFAULT_HELLO
    dead = o.dead if o.dead is not None else 4 * hello
    mask = int(intf.mask)
    return InterfaceSettings(
        name=intf.name, short=short_name(intf.name), address=int(intf.address), mask=mask,
        area=area, area_text=text, network_type=kind, cost=cost_of(intf, process),
        hello_interval=hello, dead_interval=dead,
        priority=o.priority if o.priority is not None else 1,
        passive=process.is_passive(intf.name), mtu=mtu, mtu_ignore=o.mtu_ignore,
        auth=_auth(intf, process, area), by_interface=by_interface)
