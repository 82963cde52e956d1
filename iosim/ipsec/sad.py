"""The Security Association Database of one router: SA pairs made by quick mode.

An ``SaBundle`` is what ``show crypto ipsec sa`` lists under one pair of proxy identities:
the inbound and outbound ESP and/or AH SAs, the crypto map entry and interface they belong to, and
the counters of the packets that really crossed them.

``Sad`` finds a bundle by inbound SPI (a dict) and by traffic: bundles are indexed by their
remote proxy network, so a lookup costs one dict probe per distinct remote mask, not one
test per bundle -- a hub with a thousand spokes stays as fast as a router with one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property

from iosim.grouped import Grouped
from iosim.ike.engine import IpsecSaPair, ProxyIdentity
from iosim.ipsec.ah import AhSa
from iosim.ipsec.esp import EspSa
from iosim.ipsec.replay import ReplayWindow
from iosim.ipsec.transforms import encryption_transform, integrity_transform


@dataclass(slots=True)
class SaCounters:
    """The ``#pkts`` lines of ``show crypto ipsec sa``."""

    encaps: int = 0
    decaps: int = 0
    send_errors: int = 0
    recv_errors: int = 0
    replay_failures: int = 0
    verify_failures: int = 0
    invalid_identity: int = 0  # decrypted, but outside the SA's proxies (also a recv error)
    digest: int = 0  # packets sent with an ICV (ESP HMAC, GCM/GMAC or AH)
    verify: int = 0  # packets received whose ICV verified
    no_sa_send: int = 0  # to protect, but no SA yet: dropped while IKE negotiates
    # ... of those, the ones after the packet that asked for a pair, while no pair has come
    # (IOS's SA request stays pending): what IOS 15 counts among the #send errors
    no_sa_waiting: int = 0
    asked: bool = False  # a packet has asked for a pair since the flow's last one came
    # SA pairs of the flow's current run: the pair IKE installed while the flow had none,
    # then one per rekey that took over from a live pair
    pairs: int = 0

    def dropped_for_want_of_sa(self) -> None:
        """A packet to protect found no pair: dropped, and IKE asked for one. The first such
        packet is the one that asks; the ones after it, until a pair comes, wait on that
        request and are send errors."""
        self.no_sa_send += 1
        self.no_sa_waiting += self.asked
        self.asked = True

    @property
    def send_errors_shown(self) -> int:
        """``#send errors``: packets whose encapsulation failed, and packets that waited on
        a pending request for a pair."""
        return self.send_errors + self.no_sa_waiting

    def reset(self) -> None:
        """``clear crypto sa counters``: the packet counters start again (the count of the
        pairs IKE installed is history, not a packet counter, and stays)."""
        for f in fields(self):
            if f.name not in ("pairs", "asked"):
                setattr(self, f.name, f.default)


@dataclass(slots=True)
class OneWaySa:
    """One direction: its ESP and/or AH SA, its conn id, lifetime accounting, sequence or
    replay state. AH and ESP of one bundle advance their sequence numbers together; inbound,
    each keeps its own replay window."""

    esp: EspSa | None
    conn_id: int
    created: float
    lifetime_seconds: int
    lifetime_kilobytes: int
    octets: int = 0
    packets: int = 0  # encrypted (outbound) or decrypted (inbound) through this very SA
    seq: int = 0  # outbound: last sequence number sent
    replay: ReplayWindow | None = None  # inbound, ESP
    ah: AhSa | None = None
    ah_replay: ReplayWindow | None = None  # inbound, AH
    ah_conn_id: int = 0  # AH's own conn id beside ESP (an AH-only SA has ``conn_id``)

    @property
    def spi(self) -> int:
        """The SPI IKE knows the pair by: ESP's, or AH's for an AH-only pair."""
        if self.esp is not None:
            return self.esp.spi
        assert self.ah is not None
        return self.ah.spi

    @property
    def spis(self) -> tuple[int, ...]:
        return tuple(sa.spi for sa in (self.esp, self.ah) if sa is not None)

    @property
    def ah_id(self) -> int:
        """The conn id of the AH SA."""
        return self.ah_conn_id or self.conn_id


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
    last_out: float = 0.0  # when a packet last left through it (NAT keepalives)

    @cached_property
    def plaintext_mtu(self) -> int:
        """The largest inner packet that fits a 1500-byte path once encapsulated."""
        out = self.outbound
        esp = out.esp
        return plaintext_mtu(
            out.ah.header_size if out.ah is not None else 0,
            None if esp is None else (esp.encryption.iv_size, esp.icv_size,
                                      esp.encryption.block_size),
            self.pair.udp_encap)

    @cached_property
    def authenticated(self) -> bool:
        """Whether its packets carry an ICV (what ``#pkts digest/verify`` count)."""
        out = self.outbound
        return out.ah is not None or (out.esp is not None and out.esp.icv_size > 0)

    @property
    def peer(self) -> int:
        return self.pair.peer

    @property
    def proxies(self) -> ProxyIdentity:
        return self.pair.proxies


PATH_MTU = 1500  # Ethernet; the interfaces of a lab have no other MTU


def plaintext_mtu(ah_header: int, esp: tuple[int, int, int] | None, udp_encap: bool = False
                  ) -> int:
    """IOS's plaintext MTU: the largest inner packet that fits the path once encapsulated --
    outer IPv4 header, AH (``ah_header`` bytes, 0 without AH), [UDP,] ESP header, IV and ICV
    (``esp`` = (IV size, ICV size, block size), None without ESP), padded to the block."""
    room = PATH_MTU - 20 - ah_header
    if esp is None:
        return room
    iv, icv, block = esp
    room -= (8 if udp_encap else 0) + 8 + iv + icv
    block = max(block, 4)
    return room // block * block - 2


def transform_set_mtu(words: tuple[str, ...]) -> int:
    """The plaintext MTU a transform set will give (before any SA exists); compression
    (``comp-lzs``) changes nothing, a set of unknown words gives the path MTU."""
    ah_header, esp_enc, esp_icv = 0, None, 0
    for word in words:
        if word.startswith("comp-"):
            continue
        if word.startswith("ah-"):
            ah_header = 12 + integrity_transform(word).icv_size
        elif word.endswith("-hmac"):
            esp_icv = integrity_transform(word).icv_size
        else:
            esp_enc = encryption_transform(word)
    if esp_enc is None:
        return plaintext_mtu(ah_header, None)
    return plaintext_mtu(ah_header, (esp_enc.iv_size, esp_icv + esp_enc.icv_size,
                                     esp_enc.block_size))


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
    dynamic: bool = False  # of a dynamic crypto map entry
    mtu: int = PATH_MTU  # plaintext MTU: the current pair's, else its transform set's
    mtu_idb: str | None = None  # the interface whose MTU is the path's, if not ``interface``


def covers(proxies: ProxyIdentity, local: int, remote: int, protocol: int = 0,
           local_port: int | None = None, remote_port: int | None = None) -> bool:
    """Whether a packet from ``local`` to ``remote`` lies within the proxy identities (a
    protocol or port of 0 in the identities stands for any)."""
    return ((local & proxies.local_mask) == proxies.local_net
            and (remote & proxies.remote_mask) == proxies.remote_net
            and proxies.protocol in (0, protocol)
            and proxies.local_port in (0, local_port)
            and proxies.remote_port in (0, remote_port))


@dataclass
class Sad:
    """Every SA pair of a router, findable by inbound SPI, by peer and by traffic; whether
    a pair is still installed is one dict probe, so timers of many pairs cost no scans."""

    by_spi: dict[int, SaBundle] = field(default_factory=dict)
    _bundles: dict[int, SaBundle] = field(default_factory=dict)  # id -> pair, oldest first
    # these three by id(bundle): most groups hold one pair, which Grouped keeps compact
    _by_peer: Grouped[int, int, SaBundle] = field(default_factory=Grouped)
    _flows: dict[tuple[int, ProxyIdentity], int] = field(default_factory=dict)  # pair counts
    _by_remote: Grouped[tuple[int, int], int, SaBundle] = field(default_factory=Grouped)
    _masks: dict[int, int] = field(default_factory=dict)  # remote mask -> bundles using it
    _by_interface: Grouped[str, int, SaBundle] = field(default_factory=Grouped)

    @property
    def bundles(self) -> list[SaBundle]:
        """Every pair, oldest first (a copy)."""
        return list(self._bundles.values())

    def holds(self, bundle: SaBundle) -> bool:
        """Whether ``bundle`` is installed (not yet removed)."""
        return self._bundles.get(id(bundle)) is bundle

    def interfaces(self) -> list[str]:
        """The interfaces that have pairs (their crypto map's or their tunnel's)."""
        return self._by_interface.groups()

    def on_interface(self, interface: str) -> list[SaBundle]:
        """The pairs of ``interface``, oldest first."""
        return self._by_interface.values(interface)

    def of_peer(self, peer: int) -> list[SaBundle]:
        """The pairs with ``peer``, oldest first."""
        return self._by_peer.values(peer)

    def protects(self, peer: int, proxies: ProxyIdentity) -> bool:
        """Whether a pair with ``peer`` for ``proxies`` is installed."""
        return (peer, proxies) in self._flows

    def add(self, bundle: SaBundle) -> None:
        self._bundles[id(bundle)] = bundle
        self._by_peer.add(bundle.peer, id(bundle), bundle)
        self._by_interface.add(bundle.interface, id(bundle), bundle)
        flow = (bundle.peer, bundle.proxies)
        self._flows[flow] = self._flows.get(flow, 0) + 1
        for spi in bundle.inbound.spis:
            self.by_spi[spi] = bundle
        p = bundle.proxies
        self._by_remote.add((p.remote_net, p.remote_mask), id(bundle), bundle)
        self._masks[p.remote_mask] = self._masks.get(p.remote_mask, 0) + 1

    def remove(self, bundle: SaBundle) -> None:
        if not self.holds(bundle):
            return
        del self._bundles[id(bundle)]
        self._by_peer.discard(bundle.peer, id(bundle))
        self._by_interface.discard(bundle.interface, id(bundle))
        flow = (bundle.peer, bundle.proxies)
        self._flows[flow] -= 1
        if not self._flows[flow]:
            del self._flows[flow]
        for spi in bundle.inbound.spis:
            self.by_spi.pop(spi, None)
        p = bundle.proxies
        self._by_remote.discard((p.remote_net, p.remote_mask), id(bundle))
        self._masks[p.remote_mask] -= 1
        if not self._masks[p.remote_mask]:
            del self._masks[p.remote_mask]

    def outbound_for(self, peer: int | None, local: int, remote: int, protocol: int = 0,
                     local_port: int | None = None, remote_port: int | None = None,
                     where: tuple[str, int] | None = None) -> SaBundle | None:
        """The newest SA pair whose proxies cover this packet: to ``peer`` (any peer for
        None) and, with ``where``, of that crypto map name and sequence number."""
        best: SaBundle | None = None
        for mask in self._masks:
            for bundle in self._by_remote.iter_values((remote & mask, mask)):
                if ((peer is None or bundle.peer == peer)
                        and (where is None or (bundle.map_name, bundle.map_seq) == where)
                        and covers(bundle.proxies, local, remote, protocol, local_port,
                                   remote_port)
                        and (best is None or bundle.inbound.created >= best.inbound.created)):
                    best = bundle
        return best
