"""The Security Association Database of one router: SA pairs made by quick mode.

An ``SaBundle`` is what ``show crypto ipsec sa`` lists under one pair of proxy identities:
the inbound and outbound ESP SAs, the crypto map entry and interface they belong to, and
the counters of the packets that really crossed them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from iosim.ike.engine import IpsecSaPair, ProxyIdentity
from iosim.ipsec.esp import EspSa
from iosim.ipsec.replay import ReplayWindow


@dataclass
class SaCounters:
    """The ``#pkts`` lines of ``show crypto ipsec sa``."""

    encaps: int = 0
    decaps: int = 0
    send_errors: int = 0
    recv_errors: int = 0
    replay_failures: int = 0
    verify_failures: int = 0


@dataclass
class OneWaySa:
    """One direction: the ESP SA, its conn id, lifetime accounting, sequence or replay state."""

    esp: EspSa
    conn_id: int
    created: float
    lifetime_seconds: int
    lifetime_kilobytes: int
    octets: int = 0
    seq: int = 0  # outbound: last sequence number sent
    replay: ReplayWindow | None = None  # inbound


@dataclass
class SaBundle:
    """An inbound/outbound SA pair for one peer and one pair of proxy identities."""

    pair: IpsecSaPair
    local: int  # our tunnel endpoint
    interface: str
    map_name: str
    map_seq: int
    inbound: OneWaySa
    outbound: OneWaySa
    counters: SaCounters = field(default_factory=SaCounters)  # shared by its flow
    rekeyed: bool = False  # a successor has been asked for

    @property
    def peer(self) -> int:
        return self.pair.peer

    @property
    def proxies(self) -> ProxyIdentity:
        return self.pair.proxies


@dataclass(frozen=True)
class FlowView:
    """One protected flow (a permit line of a crypto map entry's ACL) and its SA pairs."""

    interface: str
    map_name: str
    local: int
    peer: int
    proxies: ProxyIdentity
    counters: SaCounters
    bundles: tuple[SaBundle, ...]  # newest last; empty until IKE has made one


def covers(proxies: ProxyIdentity, local: int, remote: int) -> bool:
    """Whether a packet from ``local`` to ``remote`` lies within the proxy identities."""
    return (local & proxies.local_mask) == proxies.local_net and (
        remote & proxies.remote_mask) == proxies.remote_net


@dataclass
class Sad:
    """Every SA pair of a router, findable by inbound SPI and by traffic."""

    bundles: list[SaBundle] = field(default_factory=list)
    by_spi: dict[int, SaBundle] = field(default_factory=dict)

    def add(self, bundle: SaBundle) -> None:
        self.bundles.append(bundle)
        self.by_spi[bundle.inbound.esp.spi] = bundle

    def remove(self, bundle: SaBundle) -> None:
        if bundle in self.bundles:
            self.bundles.remove(bundle)
        self.by_spi.pop(bundle.inbound.esp.spi, None)

    def outbound_for(self, peer: int, local: int, remote: int) -> SaBundle | None:
        """The newest SA pair to ``peer`` whose proxies cover this packet."""
        for bundle in reversed(self.bundles):
            if bundle.peer == peer and covers(bundle.proxies, local, remote):
                return bundle
        return None
