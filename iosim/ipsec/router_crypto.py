"""Crypto maps at work on one router: SPD from the config, IKE on UDP 500, ESP on the wire.

Theory of operation
-------------------
* Outbound (an output hook, after NAT): a datagram leaving an interface that has a crypto
  map is checked against the map's entries in sequence order. The first entry whose ACL
  *permits* it protects it (a ``deny`` only means "not this entry"). With an SA pair for the
  peer whose proxy identities cover the packet, the packet is encapsulated in ESP (tunnel
  mode, outer addresses = the interface and the peer) and routed again; without one, IKE is
  started and the packet dropped, as IOS drops it: the first ping over a new tunnel is
  ``.!!!!``. What the crypto itself sends (ESP/AH it made, IKE, NAT keepalives) is never
  looked up in the map again, so an ACL that permits all IP between the peers themselves
  (transport mode) protects their other traffic and leaves IKE and ESP alone, as on IOS.
* Inbound (an input hook, before NAT): ESP for one of our addresses is looked up by SPI,
  checked against the replay window before its ICV (advanced only after), decrypted, and the
  inner packet continues as if it had arrived on the interface. Unknown SPIs, replays and
  bad ICVs are dropped, counted and logged as IOS logs them. Cleartext the map says must
  arrive encrypted is dropped, except IKE (UDP 500/4500) addressed to this router.
* IKE: one ``IkeEngine`` per local tunnel address, pumped whenever it gets a datagram, a
  timer fires or a packet needs a tunnel; its events install and remove SA pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from iosim.config.crypto_model import (
    CryptoConfig,
    CryptoMapEntry,
    IsakmpPolicy,
    IsakmpProfile,
    Keyring,
    PresharedKey,
    crypto_of,
)
from iosim.config.model import AclEntry, PortMatch
from iosim.crypto.rand import SeededRandom
from iosim.ike.engine import (
    DpdReceived,
    DpdSent,
    DpdSettings,
    DuplicateReceived,
    IkeEngine,
    IkePolicy,
    InitialContact,
    IpsecSaPair,
    IsakmpSaState,
    PeerDead,
    Phase1Established,
    Phase1Failed,
    Phase2Deleted,
    Phase2Established,
    Phase2Failed,
    Phase2Offer,
    ProxyIdentity,
    Retransmitted,
    StateChanged,
)
from iosim.ike.ios_debug import processed_payloads, state_input
from iosim.ike.main_mode import PolicyChecked, describe_transform
from iosim.ike.quick_mode import canonical_transform_set
from iosim.ike.quick_mode_exchange import QuickModeStarted
from iosim.ipsec import ah
from iosim.ipsec.ah import AhSa
from iosim.ipsec.esp import (
    AuthenticationError,
    EspSa,
    IpsecError,
    ReplayError,
    UnknownSpiError,
    decapsulate,
    rewrite_ipv4_header,
    transport_encapsulate,
    tunnel_encapsulate,
)
from iosim.ipsec.replay import ReplayWindow
from iosim.ipsec.sad import (
    PATH_MTU,
    FlowView,
    OneWaySa,
    SaBundle,
    SaCounters,
    Sad,
    covers,
    transform_set_mtu,
)
from iosim.ipsec.transforms import encryption_transform, integrity_transform
from iosim.net.flow import first_match, flow_of, mirrored
from iosim.net.fragments import fragment
from iosim.net.packets import (
    IcmpDestinationUnreachable,
    IpProtocol,
    Ipv4Packet,
    PacketError,
    UnreachableCode,
    format_ip,
    pull_ipv4,
    quote_datagram,
)
from iosim.net.routing import Route

if TYPE_CHECKING:
    from iosim.clock import TimerHandle, VirtualClock
    from iosim.router import Router

IKE_PORT = 500
NAT_T_PORT = 4500
NAT_T_BYTES = NAT_T_PORT.to_bytes(2, "big")
NON_ESP_MARKER = bytes(4)  # RFC 3948: IKE on 4500 starts with four zero octets
NAT_KEEPALIVE = b"\xff"  # RFC 3948 section 2.3
REKEY_AT = 0.9  # fraction of a lifetime (seconds or kilobytes) after which a pair is renewed
_INVALID_SPI_LOG_INTERVAL = 1.0
INVALID_SPI_NOTIFY_INTERVAL = 10.0  # seconds between INVALID-SPI notifies for one SPI
_AUTHENTICATED_AT = frozenset({"IKE_I_MM6", "IKE_R_MM5"})  # main mode: the peer's HASH verified
_IKE_PROTOCOL: dict[int, int] = {IpProtocol.ESP: 3, IpProtocol.AH: 2}  # IP -> ISAKMP protocol


def ike_policy(p: IsakmpPolicy) -> IkePolicy:
    """A ``crypto isakmp policy`` as the engine takes it."""
    words = p.encryption.split()
    bits = int(words[1]) if len(words) > 1 else (128 if words[0] == "aes" else None)
    return IkePolicy(p.priority, words[0], bits, p.hash, p.authentication, p.group, p.lifetime)


def _mask(wildcard: int) -> int:
    return ~wildcard & 0xFFFFFFFF


def _port(match: PortMatch | None) -> int:
    return match.port if match is not None and match.op == "eq" else 0


def proxies_of(ace: AclEntry) -> ProxyIdentity | None:
    """The proxy identities a crypto ACL ``permit`` line stands for (None for other lines):
    ``permit icmp`` gives protocol 1, ``permit tcp ... eq 23`` protocol 6 and port 23, as IOS
    sends them in IDci/IDcr."""
    if ace.action != "permit" or ace.source is None or ace.destination is None:
        return None
    return ProxyIdentity(int(ace.source.address), _mask(int(ace.source.wildcard)),
                         int(ace.destination.address), _mask(int(ace.destination.wildcard)),
                         ace.protocol or 0, _port(ace.source_port), _port(ace.destination_port))


def _within(inner: ProxyIdentity, outer: ProxyIdentity) -> bool:
    """Whether every packet of ``inner`` is also one of ``outer``."""
    return ((inner.local_net & outer.local_mask) == outer.local_net
            and inner.local_mask & outer.local_mask == outer.local_mask
            and (inner.remote_net & outer.remote_mask) == outer.remote_net
            and inner.remote_mask & outer.remote_mask == outer.remote_mask
            and outer.protocol in (0, inner.protocol)
            and outer.local_port in (0, inner.local_port)
            and outer.remote_port in (0, inner.remote_port))


def _signed(message_id: int) -> int:
    """A message ID as IOS's debug prints it: a signed 32-bit number."""
    return message_id - (1 << 32) if message_id >= 1 << 31 else message_id


def _protocols(pair: IpsecSaPair, sa: OneWaySa) -> list[tuple[int, int, str]]:
    """(IP protocol, SPI, transform words) of each SA of one direction: ESP 50, AH 51."""
    out = []
    if sa.esp is not None:
        out.append((50, sa.esp.spi, " ".join(w for w in (pair.encryption, pair.integrity)
                                              if w)))
    if sa.ah is not None and pair.ah_integrity:
        out.append((51, sa.ah.spi, pair.ah_integrity))
    return out


@dataclass(frozen=True)
class MapEntry:
    """A crypto map entry as the data plane walks it. ``dynamic`` entries come from the
    ``crypto dynamic-map`` an ``ipsec-isakmp dynamic`` entry names: they carry the parent's
    name and sequence number (what ``show crypto ipsec sa`` prints), never start IKE, accept
    any peer (or those of their ``set peer``) and need no ACL."""

    interface: str
    map_name: str
    seq: int
    entry: CryptoMapEntry  # the static entry, or the dynamic-map entry
    dynamic: bool = False


@dataclass
class _Intent:
    """Where a negotiation for a peer and proxies will land: interface and map entry."""

    where: MapEntry
    initiated: bool  # we started it: we also start its rekeys


class RouterCrypto:
    """The crypto half of a router's data plane and its IKE endpoints."""

    def __init__(self, router: Router, clock: VirtualClock, seed: str) -> None:
        assert router.stack is not None
        self.router = router
        self.stack = router.stack
        self.clock = clock
        self.rand = SeededRandom(seed)
        self.sad = Sad()
        self.engines: dict[int, IkeEngine] = {}
        self.intents: dict[tuple[int, ProxyIdentity], _Intent] = {}
        self._timers: dict[int, TimerHandle] = {}
        # per protected flow (interface, map, seq, proxies): counters that outlive rekeys
        self.flow_counters: dict[tuple[str, str, int, ProxyIdentity], SaCounters] = {}
        self._conn_ids = 0
        self._last_invalid_spi_log = -1e9
        self._dpd_checks: set[int] = set()  # engines with an on-demand DPD check armed
        self._invalid_spi_told: dict[tuple[int, int], float] = {}  # (peer, spi) -> when
        self._told_authenticated: set[int] = set()  # conn-ids whose debug line is out
        self._sending_own = False  # the crypto is sending what it made: not for the map
        self.stack.output_hooks.append(self._output)
        self.stack.input_hooks.insert(0, self._input)
        self.stack.udp_handlers[IKE_PORT] = self._udp
        self.stack.udp_handlers[NAT_T_PORT] = self._udp_nat_t
        router.listeners.append(self._router_event)

    def _router_event(self, event: str, detail: str) -> None:
        """A reload forgets every SA and IKE negotiation, as a rebooted router has none."""
        if event != "reboot":
            return
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self.engines.clear()
        self.sad = Sad()
        self.router.injected_routes.clear()
        self.intents.clear()
        self._dpd_checks.clear()
        self._invalid_spi_told.clear()
        self.flow_counters.clear()

    # ------------------------------------------------------------ configuration view

    @property
    def crypto(self) -> CryptoConfig:
        return crypto_of(self.router.config)

    def _entries(self, interface: str) -> list[MapEntry]:
        """The usable entries of the crypto map on ``interface``, in sequence order: complete
        static entries, and each ``dynamic`` entry expanded into its dynamic map's entries
        that have a transform set (IOS ignores an incomplete one)."""
        intf = self.router.config.interfaces.get(interface)
        name = intf.features.get("crypto_map") if intf is not None else None
        crypto = self.crypto
        cmap = crypto.maps.get(name) if isinstance(name, str) else None
        if cmap is None:
            return []
        acls = self.router.config.acls
        out: list[MapEntry] = []
        for seq, e in sorted(cmap.entries.items()):
            if e.dynamic_template is not None:
                dmap = crypto.dynamic_maps.get(e.dynamic_template)
                for _, d in sorted(dmap.entries.items()) if dmap is not None else ():
                    if d.transform_sets and (d.match_acl is None or d.match_acl in acls):
                        out.append(MapEntry(interface, cmap.name, seq, d, dynamic=True))
            elif (e.peers and e.match_acl and e.match_acl in acls
                  and e.kind == "ipsec-isakmp"):
                out.append(MapEntry(interface, cmap.name, seq, e))
        return out

    def _local_address(self, interface: str) -> int | None:
        return self.stack.source_for(interface)

    def _offer(self, entry: CryptoMapEntry) -> Phase2Offer | None:
        sets = [self.crypto.transform_sets[n] for n in entry.transform_sets
                if n in self.crypto.transform_sets]
        if not sets:
            return None
        pfs = int(entry.pfs[5:]) if entry.pfs else None
        return Phase2Offer(
            # IPComp (comp-lzs) is not negotiated: the set's AH/ESP part is
            tuple(canonical_transform_set(tuple(w for w in ts.transforms
                                                if not w.startswith("comp-")))
                  for ts in sets), sets[0].mode,
            pfs,
            entry.lifetime_seconds or self.crypto.sa_lifetime_seconds,
            entry.lifetime_kilobytes or self.crypto.sa_lifetime_kilobytes)

    def _profiles_for(self, peer: int) -> list[IsakmpProfile]:
        """The ISAKMP profiles whose ``match identity address`` covers ``peer``."""
        return [p for _, p in sorted(self.crypto.isakmp_profiles.items())
                if any((peer & int(mask)) == (int(addr) & int(mask))
                       for addr, mask in p.match_addresses)]

    def _keyring_applies(self, ring: Keyring, local: int) -> bool:
        """A keyring with ``local-address`` serves only IKE on that interface's address."""
        where = ring.local_address
        if where is None:
            return True
        if where in self.router.config.interfaces:
            return self._local_address(where) == local
        return where == format_ip(local)

    def _psk_for(self, local: int, peer: int) -> str | None:
        """The pre-shared key for ``peer``, the most specific address match. A peer that an
        ISAKMP profile with a keyring matches takes its keys from that keyring only; any
        other peer from the global ``crypto isakmp key``s and every keyring that serves
        ``local``."""
        crypto = self.crypto
        settings = crypto.isakmp_peers.get(IPv4Address(peer))
        if settings is not None and settings.aggressive_password is not None:
            return settings.aggressive_password  # the tunnel password is the key
        named = [p.keyring for p in self._profiles_for(peer) if p.keyring is not None]
        rings = [crypto.keyrings[n] for n in named if n in crypto.keyrings]
        keys: list[PresharedKey] = []
        if named:
            for ring in rings:
                keys += ring.keys.values()
        else:
            keys += crypto.keys.values()
            for ring in crypto.keyrings.values():
                if self._keyring_applies(ring, local):
                    keys += ring.keys.values()
        best: tuple[int, str] | None = None
        for key in keys:
            if key.address is None:
                continue
            mask = int(key.effective_mask)
            if (peer & mask) == (int(key.address) & mask):
                length = bin(mask).count("1")
                if best is None or length > best[0]:
                    best = (length, key.key)
        return best[1] if best else None

    def _engine(self, local: int) -> IkeEngine:
        engine = self.engines.get(local)
        if engine is None:
            engine = IkeEngine(
                local, rand=self.rand, nat_traversal=True,
                policies=lambda: [ike_policy(p) for p in self.crypto.effective_policies()],
                psk_for=lambda peer: self._psk_for(local, peer),
                select_phase2=lambda peer, proxies, offers: self._select(local, peer, proxies,
                                                                         offers),
                aggressive_mode_disabled=lambda: self.crypto.aggressive_mode_disabled,
                aggressive_for=self._aggressive_for, dpd_for=self._dpd_for)
            self.engines[local] = engine
        return engine

    def _aggressive_for(self, peer: int) -> bool:
        """Whether we start aggressive mode with ``peer``: ``crypto isakmp peer address`` with
        ``set aggressive-mode password|client-endpoint``, or ``initiate mode aggressive`` in an
        ISAKMP profile that matches the peer or that a crypto map entry toward it names --
        unless ``crypto isakmp aggressive-mode disable`` blocks it both ways."""
        crypto = self.crypto
        if crypto.aggressive_mode_disabled:
            return False
        settings = crypto.isakmp_peers.get(IPv4Address(peer))
        if settings is not None and (settings.aggressive_password is not None
                                     or settings.client_endpoint is not None):
            return True
        profiles = self.crypto.isakmp_profiles
        named = {e.isakmp_profile for m in self.crypto.maps.values()
                 for e in m.entries.values() if any(int(a) == peer for a in e.peers)}
        return (any(p.initiate_aggressive for p in self._profiles_for(peer))
                or any(profiles[n].initiate_aggressive for n in named if n in profiles))

    def _dpd_for(self, peer: int) -> DpdSettings | None:
        """``keepalive`` of a matching ISAKMP profile, else ``crypto isakmp keepalive``."""
        for profile in self._profiles_for(peer):
            if profile.keepalive is not None:
                return DpdSettings(profile.keepalive[0], profile.keepalive[1])
        ka = self.crypto.keepalive
        if ka is None:
            return None
        seconds, retry, mode = ka
        return DpdSettings(seconds, retry or 2, mode == "periodic")

    def _note_traffic(self, bundle: SaBundle, inbound: bool) -> None:
        """ESP/AH to or from a peer: what on-demand DPD watches. An outbound packet arms one
        check of that engine's timers ``interval`` seconds on (when a probe may be due)."""
        engine = self.engines.get(bundle.local)
        if engine is None:
            return
        now = self.clock.now
        engine.note_traffic(bundle.peer, now, inbound)
        if inbound or bundle.local in self._dpd_checks or not self._dpd_configured():
            return
        settings = self._dpd_for(bundle.peer)
        if settings is not None and not settings.periodic:
            self._dpd_checks.add(bundle.local)
            self.clock.call_later(settings.interval, self._dpd_check, bundle.local)

    def _dpd_configured(self) -> bool:
        crypto = self.crypto
        return crypto.keepalive is not None or any(
            p.keepalive is not None for p in crypto.isakmp_profiles.values())

    def _dpd_check(self, local: int) -> None:
        self._dpd_checks.discard(local)
        if local in self.engines:
            self._timer(local)

    def _select(self, local: int, peer: int, proxies: ProxyIdentity,
                offers: list[Phase2Offer]) -> Phase2Offer | None:
        """Responder: the offer our crypto map accepts for these proxies, if any. A static
        entry needs the peer and an ACL line that mirrors the proxies exactly; a dynamic one
        any peer (or one of its own) and, with an ACL, proxies within one of its lines.
        ``debug crypto ipsec|isakmp`` tell why an offer is refused, as IOS does: no entry for
        these proxies is error 32, an entry whose transform sets or PFS differ error 256."""
        for offer in offers:
            self._debug_proposal("validate_proposal_request): proposal part #1", "INBOUND",
                                 local, peer, proxies, offer, 0)
        found = False
        for interface in self.router.config.interfaces:
            if self._local_address(interface) != local:
                continue
            for where in self._entries(interface):
                entry = where.entry
                if entry.peers or not where.dynamic:
                    if not any(int(p) == peer for p in entry.peers):
                        continue
                if not self._acl_allows(entry, proxies, exact=not where.dynamic):
                    continue
                found = True
                ours = self._offer(entry)
                if ours is None:
                    continue
                for offer in offers:
                    if offer.mode != ours.mode or offer.pfs_group != ours.pfs_group:
                        continue
                    chosen = next((ts for ts in offer.transform_sets
                                   if ts in ours.transform_sets), None)
                    if chosen is None:
                        continue
                    self.intents[(peer, proxies)] = _Intent(where, False)
                    self._debug("ipsec", f"(ipsec_process_proposal)Map Accepted: "
                                         f"{where.map_name}, {where.seq}")
                    return Phase2Offer((chosen,), ours.mode, ours.pfs_group,
                                       min(ours.lifetime_seconds, offer.lifetime_seconds),
                                       min(ours.lifetime_kilobytes, offer.lifetime_kilobytes))
        state = self._isakmp_state(local, peer)
        conn = state.conn_id if state is not None else 0
        if not found:
            self._debug("ipsec", "map_db_find_best did not find matching map")
            self._debug("ipsec", "IPSEC(ipsec_process_proposal): proxy identities not supported")
            self._debug("isakmp", f"ISAKMP:({conn}):IPSec policy invalidated proposal with "
                                  "error 32")
        else:
            for offer in offers[:1]:
                words = " ".join(offer.transform_sets[0]) if offer.transform_sets else ""
                self._debug("ipsec", "IPSEC(ipsec_process_proposal): transform proposal not "
                                     f"supported for identity: {{{words} }}")
            self._debug("isakmp", f"ISAKMP:({conn}):IPSec policy invalidated proposal with "
                                  "error 256")
        return None

    def _debug_proposal(self, what: str, direction: str, local: int, peer: int,
                        proxies: ProxyIdentity, offer: Phase2Offer, port: int) -> None:
        """``debug crypto ipsec``'s IPSEC(sa_request) / IPSEC(validate_proposal_request)."""
        if "ipsec" not in self.router.debug_flags:
            return
        proto = proxies.protocol or 256
        for words in offer.transform_sets[:1] if direction == "INBOUND" else offer.transform_sets:
            protocol = "AH" if all(w.startswith("ah-") for w in words) else "ESP"
            bits = next((w.split()[1] for w in words if w.startswith("esp-") and " " in w),
                        "128" if any(w.split()[0] in ("esp-aes", "esp-gcm", "esp-gmac")
                                     for w in words) else "0")
            life = (f"{offer.lifetime_seconds}s and {offer.lifetime_kilobytes}kb"
                    if direction == "OUTBOUND" else "0s and 0kb")
            inbound = direction == "INBOUND"
            match = ("\nCrypto mapdb : proxy_match\n"
                     f"        src addr     : {format_ip(proxies.local_net)}\n"
                     f"        dst addr     : {format_ip(proxies.remote_net)}\n"
                     f"        protocol     : {proxies.protocol}\n"
                     f"        src port     : {proxies.local_port}\n"
                     f"        dst port     : {proxies.remote_port}") if inbound else ""
            if inbound:
                self.router.debug(f"IPSEC({what}")
            self.router.debug(
                f"IPSEC({what},\n"
                f"  (key eng. msg.) {direction} "
                f"local= {format_ip(local)}:{port}, remote= {format_ip(peer)}:{port},\n"
                f"    local_proxy= {format_ip(proxies.local_net)}/"
                f"{format_ip(proxies.local_mask)}/{proto}/{proxies.local_port},\n"
                f"    remote_proxy= {format_ip(proxies.remote_net)}/"
                f"{format_ip(proxies.remote_mask)}/{proto}/{proxies.remote_port},\n"
                f"    protocol= {protocol}, transform= {' '.join(words)}  "
                f"({offer.mode.capitalize()}), \n"
                f"    lifedur= {life}, \n"
                f"    spi= 0x0(0), conn_id= 0, keysize= {bits}, flags= 0x0{match}")

    def _acl_allows(self, entry: CryptoMapEntry, proxies: ProxyIdentity, *, exact: bool
                    ) -> bool:
        """Whether a permit of the entry's ACL is these proxies (our side local): exactly,
        or (``exact`` false, a dynamic entry) as a superset; no ACL allows anything."""
        if entry.match_acl is None:
            return not exact
        acl = self.router.config.acls.get(entry.match_acl)
        if acl is None:
            return False
        lines = [p for p in map(proxies_of, acl.entries) if p is not None]
        if exact:
            return proxies in lines
        return any(_within(proxies, line) for line in lines)

    # ------------------------------------------------------------ packets

    def _send_own(self, send: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Send what the crypto made (ESP/AH, IKE, a NAT keepalive) past the crypto map."""
        self._sending_own = True
        try:
            send(*args, **kwargs)
        finally:
            self._sending_own = False

    def _output(self, interface: str, datagram: bytes) -> bytes | None:
        entries = self._entries(interface)
        if not entries or self._sending_own:
            return datagram
        try:
            packet = pull_ipv4(datagram)
        except PacketError:
            return datagram
        flow = flow_of(packet)
        local = self._local_address(interface)
        acls = self.router.config.acls
        for where in entries:
            entry = where.entry
            acl = acls.get(entry.match_acl) if entry.match_acl else None
            if where.dynamic:
                # a dynamic entry protects what its peers negotiated, and never starts IKE:
                # traffic its ACL permits but no SA covers is dropped
                bundle = self.sad.outbound_for(None, flow.src, flow.dst, flow.protocol,
                                               flow.sport, flow.dport,
                                               where=(where.map_name, where.seq))
                if bundle is not None:
                    self._protect(bundle, packet, datagram)
                    return None
                ace = first_match(acl, flow) if acl is not None else None
                if ace is not None and ace.action == "permit":
                    return None
                continue
            assert acl is not None
            ace = first_match(acl, flow)
            if ace is None or ace.action != "permit":
                continue
            peer = int(entry.peers[0])
            if local is None:
                return None
            bundle = self.sad.outbound_for(peer, flow.src, flow.dst, flow.protocol,
                                           flow.sport, flow.dport)
            if bundle is None:
                proxies = proxies_of(ace)
                assert proxies is not None
                self.flow_counters.setdefault(
                    (where.interface, where.map_name, where.seq, proxies), SaCounters()
                ).no_sa_send += 1
                self._start(where, local, peer, proxies)
                return None  # dropped while IKE negotiates, as on IOS
            self._protect(bundle, packet, datagram)
            return None
        return datagram

    def _protect(self, bundle: SaBundle, packet: Ipv4Packet, datagram: bytes) -> None:
        try:
            self._fragment_and_encapsulate(bundle, packet, datagram)
        except (ValueError, IpsecError):  # a datagram the codecs refuse: a send error
            bundle.counters.send_errors += 1

    def _fragment_and_encapsulate(self, bundle: SaBundle, packet: Ipv4Packet,
                                  datagram: bytes) -> None:
        """Encapsulate, first fragmenting what would not fit the path once encapsulated
        (IOS's default ``crypto ipsec fragmentation before-encryption``); with DF set the
        source is told the plaintext MTU instead (ICMP 3/4), as ``crypto ipsec df-bit copy``
        has it."""
        mtu = bundle.plaintext_mtu
        if len(datagram) <= mtu:
            self._encapsulate(bundle, datagram)
            return
        if packet.df:
            self.stack.icmp_error(datagram, packet.src, IcmpDestinationUnreachable(
                UnreachableCode.FRAGMENTATION_NEEDED, quote_datagram(datagram), mtu))
            return
        for piece in fragment(packet, mtu):
            self._encapsulate(bundle, piece)

    def _encapsulate(self, bundle: SaBundle, inner: bytes) -> None:
        out = bundle.outbound
        out.seq += 1
        src, dst = int.from_bytes(inner[12:16], "big"), int.from_bytes(inner[16:20], "big")
        # transport mode protects traffic between the tunnel endpoints themselves; for
        # anything else IOS falls back to tunnel mode, and so does this
        transport = (bundle.pair.mode == "transport" and (src, dst) == (bundle.local, bundle.peer)
                     and not int.from_bytes(inner[6:8], "big") & 0x3FFF)  # not a fragment
        ends = (bundle.local.to_bytes(4, "big"), bundle.peer.to_bytes(4, "big"))
        ident = self.stack.next_ident()
        if out.esp is None:  # AH alone: the outer (or the original) header is authenticated
            assert out.ah is not None
            outer = (ah.transport_encapsulate(out.ah, out.seq, inner) if transport
                     else ah.tunnel_encapsulate(out.ah, out.seq, inner, *ends, ident=ident,
                                                ttl=255))
        elif out.ah is not None:  # ESP first, AH outside it
            outer = ah.bundle_encapsulate(out.ah, out.seq, out.esp, out.seq, self.rand, inner,
                                          tunnel=None if transport else ends, ident=ident,
                                          ttl=255)
        else:
            udp = (NAT_T_PORT, NAT_T_PORT) if bundle.pair.udp_encap else None
            outer = (transport_encapsulate(out.esp, out.seq, self.rand, inner, udp_ports=udp)
                     if transport
                     else tunnel_encapsulate(out.esp, out.seq, self.rand, inner, *ends,
                                             ident=ident, ttl=255, udp_ports=udp))
        bundle.counters.encaps += 1
        if bundle.authenticated:
            bundle.counters.digest += 1
        bundle.last_out = self.clock.now
        self._note_traffic(bundle, False)
        self._send_own(self.stack.route_out, outer, bundle.peer)
        self._count_octets(bundle, out, len(inner))

    def _input(self, interface: str, datagram: bytes) -> bytes | None:
        if len(datagram) < 28:
            return datagram
        ihl = (datagram[0] & 0x0F) * 4
        total = int.from_bytes(datagram[2:4], "big")
        if ihl < 20 or not ihl + 8 <= total <= len(datagram):
            return datagram  # not a sound IPv4 header: the stack drops and counts it
        protocol = datagram[9]
        esp_at = ihl
        if protocol == IpProtocol.UDP and datagram[ihl + 2:ihl + 4] == NAT_T_BYTES:
            esp_at = ihl + 8  # ESP in UDP 4500 (RFC 3948), unless it is IKE or a keepalive
            if total - esp_at < 8 or datagram[esp_at:esp_at + 4] == NON_ESP_MARKER:
                return datagram
        elif protocol not in (IpProtocol.ESP, IpProtocol.AH):
            return self._inbound_check(interface, datagram)
        dst = int.from_bytes(datagram[16:20], "big")
        if self.stack.owns(dst) is None:
            return datagram
        spi_at = esp_at + 4 if protocol == IpProtocol.AH else esp_at
        spi = int.from_bytes(datagram[spi_at:spi_at + 4], "big")
        bundle = self.sad.by_spi.get(spi)
        if bundle is None and esp_at != ihl and self._nat_interface(interface):
            return datagram  # UDP 4500 for a NAT to pass on, not ours to decrypt
        src = int.from_bytes(datagram[12:16], "big")
        if bundle is None:
            self._invalid_spi(spi, dst, src, interface,
                              IpProtocol.ESP if esp_at != ihl else protocol)
            return None
        inb = bundle.inbound
        try:
            inner = self._open(inb, datagram[:total], ihl, esp_at, protocol)
            flow = mirrored(flow_of(pull_ipv4(inner)))
        except ReplayError as e:
            bundle.counters.replay_failures += 1
            self.router.log(f"%CRYPTO-4-PKT_REPLAY_ERR: decrypt: replay check failed\n"
                            f"        connection id={inb.conn_id}, sequence number={e.seq}")
            return None
        except AuthenticationError:
            bundle.counters.verify_failures += 1
            bundle.counters.recv_errors += 1
            return None
        except (UnknownSpiError, IpsecError, ValueError):
            bundle.counters.recv_errors += 1
            return None
        if not covers(bundle.proxies, flow.src, flow.dst, flow.protocol, flow.sport,
                      flow.dport):
            # RFC 4301 5.2: what came out of the SA must be what the SA was made for
            bundle.counters.recv_errors += 1
            bundle.counters.invalid_identity += 1
            self.router.log(
                "%CRYPTO-4-RECVD_PKT_INV_IDENTITY_ACL: ipsec check access: identity not "
                f"allowed by ACL policy.  (ip) vrf/dest_addr= /{format_ip(flow.src)}, "
                f"src_addr= {format_ip(flow.dst)}, prot= {flow.protocol}")
            return None
        bundle.counters.decaps += 1
        if bundle.authenticated:
            bundle.counters.verify += 1
        self._note_traffic(bundle, True)
        self._count_octets(bundle, inb, len(inner))
        return inner

    def _nat_interface(self, interface: str) -> bool:
        intf = self.router.config.interfaces.get(interface)
        return intf is not None and intf.features.get("nat") is not None

    @staticmethod
    def _open(inb: OneWaySa, packet: bytes, ihl: int, esp_at: int, protocol: int) -> bytes:
        """Verify (and decrypt) one inbound packet of a bundle; the inner packet, or the
        original one without its AH/ESP in transport mode. Raises the codecs' errors."""
        if protocol == IpProtocol.AH:
            if inb.ah is None:
                raise UnknownSpiError(int.from_bytes(packet[ihl + 4:ihl + 8], "big"))
            _, packet = ah.transport_decapsulate(inb.ah, packet, inb.ah_replay)
            if packet[9] == IpProtocol.IPIP and inb.esp is None:  # AH tunnel mode
                return packet[ihl:]
            if inb.esp is None or packet[9] != IpProtocol.ESP:
                if inb.esp is not None:  # a bundle's AH must carry its ESP
                    raise IpsecError("AH of an AH+ESP bundle without ESP inside")
                return packet
        elif inb.ah is not None or inb.esp is None:
            raise IpsecError("ESP without the AH its bundle requires")
        _, next_header, payload = decapsulate(inb.esp, packet[esp_at:], inb.replay)
        if next_header == IpProtocol.IPIP:  # tunnel mode: the payload is the whole packet
            return payload
        # transport mode: the original header comes back with its protocol
        return rewrite_ipv4_header(packet[:ihl], next_header, ihl + len(payload)) + payload

    def _inbound_check(self, interface: str, datagram: bytes) -> bytes | None:
        """Cleartext that the crypto map says must arrive encrypted is dropped, as IOS does."""
        entries = self._entries(interface)
        if not entries:
            return datagram
        try:
            flow = mirrored(flow_of(pull_ipv4(datagram)))
        except PacketError:
            return datagram
        if (flow.protocol == IpProtocol.UDP and flow.sport in (IKE_PORT, NAT_T_PORT)
                and self.stack.owns(flow.src) is not None):
            return datagram  # IKE for us (the flow is mirrored: its source is our address)
        acls = self.router.config.acls
        for where in entries:
            acl = acls.get(where.entry.match_acl) if where.entry.match_acl else None
            if acl is None:
                continue
            ace = first_match(acl, flow, count=False)
            if ace is not None and ace.action == "permit":
                return None
        return datagram

    def _invalid_spi(self, spi: int, dst: int, src: int, interface: str, protocol: int
                     ) -> None:
        now = self.clock.now
        if now - self._last_invalid_spi_log >= _INVALID_SPI_LOG_INTERVAL:
            self._last_invalid_spi_log = now
            self.router.log(
                f"%CRYPTO-4-RECVD_PKT_INV_SPI: decaps: rec'd IPSEC packet has invalid spi for "
                f"destaddr={format_ip(dst)}, prot={protocol}, spi=0x{spi:X}({spi}), "
                f"srcaddr={format_ip(src)}, input interface={interface}")
        # tell the sender (INVALID-SPI) so it drops the dead pair and negotiates anew: over
        # an existing ISAKMP SA always, and with invalid-spi-recovery by starting one
        if spi < 256 or (now - self._invalid_spi_told.get((src, spi), -1e9)
                         < INVALID_SPI_NOTIFY_INTERVAL):
            return  # a reserved SPI names no SA (RFC 4303 2.1); one notify per interval
        if len(self._invalid_spi_told) >= 1024:  # forget what is past its interval
            self._invalid_spi_told = {k: t for k, t in self._invalid_spi_told.items()
                                      if now - t < INVALID_SPI_NOTIFY_INTERVAL}
        recover = self.crypto.invalid_spi_recovery
        engine = self._engine(dst) if recover else self.engines.get(dst)
        if engine is None:
            return
        self._invalid_spi_told[(src, spi)] = now
        proto = _IKE_PROTOCOL[protocol]
        if engine.notify_invalid_spi(src, spi, proto, now, recover=recover):
            self._debug("isakmp", f"ISAKMP: sending INVALID_SPI notify for spi 0x{spi:X} "
                                  f"to {format_ip(src)}")
        self._pump(dst)

    # ------------------------------------------------------------ IKE

    def _start(self, where: MapEntry, local: int, peer: int, proxies: ProxyIdentity) -> None:
        offer = self._offer(where.entry)
        if offer is None:
            return
        previous = self.intents.get((peer, proxies))
        self.intents[(peer, proxies)] = _Intent(
            where, previous.initiated if previous is not None else True)
        engine = self._engine(local)
        fresh = self._isakmp_state(local, peer) is None
        aggressive = fresh and self._aggressive_for(peer)
        self._debug_proposal("sa_request): ", "OUTBOUND", local, peer, proxies, offer, 500)
        if fresh and not aggressive:
            self._debug("isakmp", "ISAKMP:(0):Can not start Aggressive mode, trying Main mode.")
        engine.initiate(peer, proxies, offer, self.clock.now)
        self._events(local)
        if fresh and self._isakmp_state(local, peer) is not None:
            mode = "Aggressive" if aggressive else "Main"
            self._debug("isakmp", f"ISAKMP:(0): beginning {mode} Mode exchange")
        self._pump(local)

    # ------------------------------------------------------------ debug crypto isakmp|ipsec

    def _debug(self, flag: str, text: str) -> None:
        if flag in self.router.debug_flags:
            self.router.debug(text)

    def _isakmp_state(self, local: int, peer: int) -> IsakmpSaState | None:
        engine = self.engines.get(local)
        if engine is None:
            return None
        states = [s for s in engine.isakmp_sas(self.clock.now)
                  if peer in (s.src, s.dst) and s.status == "ACTIVE"]
        return states[-1] if states else None

    def _debug_packet(self, local: int, peer: int, sending: bool, port: int = IKE_PORT) -> None:
        if "isakmp" not in self.router.debug_flags:
            return
        st = self._isakmp_state(local, peer)
        conn = st.conn_id if st is not None else 0
        if st is None:  # a first message from the peer, or our answer refusing it
            role, state = ("R", "MM_NO_STATE") if sending else ("N", "NEW SA")
        else:
            role = "I" if st.initiator else "R"
            state = "QM_IDLE      " if st.state == "QM_IDLE" else st.state  # IOS pads it
        if sending:
            self.router.debug(f"ISAKMP:({conn}): sending packet to {format_ip(peer)} "
                              f"my_port {port} peer_port {port} ({role}) {state}")
        else:
            self.router.debug(f"ISAKMP (0:{conn}): received packet from {format_ip(peer)} "
                              f"dport {port} sport {port} Global ({role}) {state}")

    def _debug_create_sa(self, bundle: SaBundle) -> None:
        if "ipsec" not in self.router.debug_flags:
            return
        pair, p = bundle.pair, bundle.proxies
        proto = p.protocol or 256
        for dest, sa in ((bundle.local, bundle.inbound), (bundle.peer, bundle.outbound)):
            for number, spi, trans in _protocols(pair, sa):
                self._debug_sa(bundle, dest, sa, number, spi, trans, proto)

    def _debug_sa(self, bundle: SaBundle, dest: int, sa: OneWaySa, number: int, spi: int,
                  trans: str, proto: int) -> None:
        p = bundle.proxies
        self.router.debug(
            "IPSEC(create_sa): sa created,\n"
            f"  (sa) sa_dest= {format_ip(dest)}, sa_proto= {number}, \n"
            f"    sa_spi= 0x{spi:X}({spi}), \n"
            f"    sa_trans= {trans} , sa_conn_id= {sa.conn_id}\n"
            f"    sa_lifetime(k/sec)= ({sa.lifetime_kilobytes}/{sa.lifetime_seconds}),\n"
            f"  (identity) local= {format_ip(bundle.local)}:0, "
            f"remote= {format_ip(bundle.peer)}:0,\n"
            f"    local_proxy= {format_ip(p.local_net)}/{format_ip(p.local_mask)}/"
            f"{proto}/{p.local_port},\n"
            f"    remote_proxy= {format_ip(p.remote_net)}/{format_ip(p.remote_mask)}/"
            f"{proto}/{p.remote_port}")

    def _udp(self, src: int, dst: int, sport: int, dport: int, payload: bytes,
             now: float) -> None:
        if not any(self._entries(i) for i in self.router.config.interfaces):
            return  # ISAKMP is off: no crypto map applied anywhere
        self._debug_packet(dst, src, sending=False)
        self._engine(dst).receive_datagram(payload, src, now)
        self._pump(dst)

    def _udp_nat_t(self, src: int, dst: int, sport: int, dport: int, payload: bytes,
                   now: float) -> None:
        """IKE on UDP 4500 after a NAT-T float: behind the 4-byte non-ESP marker."""
        if payload[:4] != NON_ESP_MARKER or dst not in self.engines:
            return  # a NAT keepalive, or nothing we negotiated
        self._debug_packet(dst, src, sending=False, port=NAT_T_PORT)
        self.engines[dst].receive_datagram(payload[4:], src, now, port=NAT_T_PORT)
        self._pump(dst)

    def _pump(self, local: int) -> None:
        """Handle the engine's events (IOS prints a state change before the packet it
        sends), send its datagrams, re-arm its timer."""
        engine = self.engines[local]
        self._events(local)
        for peer, data, port in engine.datagrams_with_ports():
            self._debug_packet(local, peer, sending=True, port=port)
            if port == NAT_T_PORT:
                data = NON_ESP_MARKER + data
            self._send_own(self.stack.send_udp, peer, port, port, data, src=local)
        self._events(local)
        when = engine.get_timer()
        old = self._timers.pop(local, None)
        if old is not None:
            old.cancel()
        if when is not None:
            self._timers[local] = self.clock.call_at(max(when, self.clock.now), self._timer,
                                                     local)

    def _events(self, local: int) -> None:
        engine = self.engines[local]
        while (event := engine.next_event()) is not None:
            self._on_event(local, event)

    def _timer(self, local: int) -> None:
        self._timers.pop(local, None)
        self.engines[local].handle_timer(self.clock.now)
        self._pump(local)

    def _on_event(self, local: int, event: object) -> None:
        if isinstance(event, Phase2Established):
            self._install(local, event.sa)
        elif isinstance(event, Phase2Deleted):  # the peer deleted the pair: so do we
            bundle = self.sad.by_spi.get(event.spi_in)
            if bundle is not None and bundle.peer == event.peer:
                self._remove(bundle)
        elif isinstance(event, Phase1Established):
            if event.conn_id not in self._told_authenticated:  # aggressive mode: said here
                self._debug_authenticated(event.conn_id, event.peer)
            self._told_authenticated.discard(event.conn_id)
        elif isinstance(event, Phase1Failed):
            refused, died = "atts are not acceptable: ", "retransmission limit reached in "
            if event.reason.startswith(died):
                role = "I" if event.initiator else "R"
                self._debug("isakmp", f'ISAKMP:({event.conn_id}):deleting SA reason "Death by '
                                      f'retransmission P1" state ({role}) '
                                      f"{event.reason[len(died):]} (peer {format_ip(event.peer)})")
            elif event.reason.startswith(refused):  # no policy accepted any offered transform
                self._debug("isakmp", "ISAKMP:(0):no offers accepted!")
                self._debug("isakmp", f"ISAKMP:(0): {event.reason[len(refused):]}")
            else:
                self._debug("isakmp", f"ISAKMP:(0):{event.reason}")
            if event.reason.startswith("IKMP_BAD_MESSAGE"):  # typically a key mismatch
                self.router.log(f"%CRYPTO-4-{event.reason}")
        elif isinstance(event, PolicyChecked):
            self._debug_policy_check(event)
        elif isinstance(event, QuickModeStarted):
            self._debug("isakmp", f"ISAKMP:({event.conn_id}):beginning Quick Mode exchange, "
                                  f"M-ID of {_signed(event.message_id)}")
        elif isinstance(event, Retransmitted):
            self._debug("isakmp", f"ISAKMP:({event.conn_id}): retransmitting phase "
                                  f"{event.phase} {event.state}...")
            self._debug("isakmp", f"ISAKMP (0:{event.conn_id}): incrementing error counter on "
                                  f"sa, attempt {event.attempt} of 5: retransmit phase "
                                  f"{event.phase}")
        elif isinstance(event, DuplicateReceived):
            self._debug("isakmp", f"ISAKMP (0:{event.conn_id}): phase 1 packet is a duplicate "
                                  "of a previous packet.")
        elif isinstance(event, Phase2Failed):
            self._debug_phase2_failed(local, event)
        elif isinstance(event, StateChanged):
            self._debug_state(event)
        elif isinstance(event, InitialContact):
            # the peer rebooted: the pairs the engine forgot with it are stale
            self._debug("isakmp", f"ISAKMP:({event.conn_id}):received INITIAL_CONTACT from "
                                  f"{format_ip(event.peer)}: deleting its old SAs")
            for spi in event.spis:
                bundle = self.sad.by_spi.get(spi)
                if bundle is not None and bundle.peer == event.peer:
                    self._remove(bundle)
        elif isinstance(event, PeerDead):
            self._debug("isakmp", f"ISAKMP:({event.conn_id}):peer {format_ip(event.peer)} "
                                  "not responding!")
            self._debug("isakmp", f"ISAKMP:({event.conn_id}):DPD: peer "
                                  f"{format_ip(event.peer)} is dead, deleting its SAs")
            self._drop_peer(event.peer)
        elif isinstance(event, DpdSent | DpdReceived):
            self._debug_dpd(event)

    def _debug_state(self, event: StateChanged) -> None:
        """IOS's lines around a state change: the payloads processed, the state machine's
        input (with the quick mode's node, signed), then Old State / New State."""
        if "isakmp" not in self.router.debug_flags:
            if event.new in _AUTHENTICATED_AT and event.old != event.new:
                self._told_authenticated.add(event.conn_id)
            return
        debug, conn = self.router.debug, event.conn_id
        payloads = [f"ISAKMP:({conn}):processing {name} payload. message ID = 0"
                    for name in processed_payloads(event.old, event.new)]
        authenticated = event.new in _AUTHENTICATED_AT and event.old != event.new
        if authenticated:  # IOS says so as soon as the peer's HASH verified
            for line in payloads:
                debug(line)
            payloads = []
            self._debug_authenticated(conn, event.peer)
            self._told_authenticated.add(conn)
        words = state_input(event.old, event.new)
        if words is not None:
            if event.message_id is not None:
                debug(f"ISAKMP:({conn}):Node {_signed(event.message_id)}, Input = {words}")
            else:
                debug(f"ISAKMP:({conn}):Input = {words}")
        # IOS ends a phase-1 state line with a space and a blank line, a quick-mode one bare
        tail = "" if event.new.startswith("IKE_QM") else " \n"
        debug(f"ISAKMP:({conn}):Old State = {event.old}  New State = {event.new}{tail}")
        for line in payloads:
            debug(line)

    def _debug_authenticated(self, conn_id: int, peer: int) -> None:
        self._debug("isakmp", f"ISAKMP:({conn_id}):SA has been authenticated with "
                              f"{format_ip(peer)}")

    def _debug_policy_check(self, event: PolicyChecked) -> None:
        """IOS's responder walk over its policies (debug crypto isakmp)."""
        if "isakmp" not in self.router.debug_flags:
            return
        debug = self.router.debug
        if event.first and not event.initiator:  # the initiator said so with its state line
            debug("ISAKMP:(0):processing SA payload. message ID = 0")
        debug(f"ISAKMP:(0):Checking ISAKMP transform {event.number} against priority "
              f"{event.priority} policy")
        for line in describe_transform(event.transform):
            debug(f"ISAKMP:      {line}")
        if event.mismatch is None:
            debug("ISAKMP:(0):atts are acceptable. Next payload is 0")
            return
        if event.mismatch != "atts are not acceptable.":
            debug(f"ISAKMP:(0):{event.mismatch}")
        debug("ISAKMP:(0):atts are not acceptable. Next payload is 0")

    def _debug_phase2_failed(self, local: int, event: Phase2Failed) -> None:
        state = self._isakmp_state(local, event.peer)
        conn = state.conn_id if state is not None else 0
        if event.reason.startswith("NO_PROPOSAL_CHOSEN from peer"):
            self._debug("isakmp", f"ISAKMP:({conn}):processing NOTIFY PROPOSAL_NOT_CHOSEN "
                                  "protocol 3")
        elif event.reason.startswith("NO_PROPOSAL_CHOSEN"):  # we refused the peer's offer
            self._debug("isakmp", f"ISAKMP:({conn}):phase 2 SA policy not acceptable! "
                                  f"(local {format_ip(local)} remote {format_ip(event.peer)})")
            self._debug("isakmp", f"ISAKMP:({conn}):Sending NOTIFY PROPOSAL_NOT_CHOSEN "
                                  "protocol 3")
        else:
            self._debug("isakmp", f"ISAKMP:({conn}):phase 2 with {format_ip(event.peer)} "
                                  f"failed: {event.reason}")

    def _debug_dpd(self, event: DpdSent | DpdReceived) -> None:
        kind = "R_U_THERE_ACK" if event.ack else "R_U_THERE"
        if isinstance(event, DpdSent):
            self._debug("isakmp", f"ISAKMP:({event.conn_id}):Sending NOTIFY DPD/{kind} "
                                  "protocol 1")
        else:
            self._debug("isakmp", f"ISAKMP:({event.conn_id}):DPD/{kind} received from peer "
                                  f"{format_ip(event.peer)}, sequence 0x{event.seq:X}")

    def _drop_peer(self, peer: int) -> None:
        """Delete, without telling anyone, every SA pair with ``peer``."""
        for bundle in [b for b in self.sad.bundles if b.peer == peer]:
            self._remove(bundle)

    def _install(self, local: int, pair: IpsecSaPair) -> None:
        intent = self.intents.get((pair.peer, pair.proxies))
        if intent is None:
            return
        now = self.clock.now
        crypto = self.crypto

        def window() -> ReplayWindow | None:
            return None if crypto.replay_disabled else ReplayWindow(crypto.replay_window)

        esp_in = esp_out = ah_in = ah_out = None
        if pair.protocol != "ah":
            enc = encryption_transform(pair.encryption)
            integ = integrity_transform(pair.integrity) if pair.integrity else None
            esp_in = EspSa.from_keymat(pair.spi_in, enc, integ, pair.keys_in)
            esp_out = EspSa.from_keymat(pair.spi_out, enc, integ, pair.keys_out)
        if pair.ah_integrity:
            hmac = integrity_transform(pair.ah_integrity)
            ah_in = AhSa.from_keymat(pair.ah_spi_in, hmac, pair.ah_keys_in)
            ah_out = AhSa.from_keymat(pair.ah_spi_out, hmac, pair.ah_keys_out)
        self._conn_ids += 2
        inbound = OneWaySa(esp_in, self._conn_ids - 1, now, pair.lifetime_seconds,
                           pair.lifetime_kilobytes, replay=window() if esp_in else None,
                           ah=ah_in, ah_replay=window() if ah_in else None)
        outbound = OneWaySa(esp_out, self._conn_ids, now, pair.lifetime_seconds,
                            pair.lifetime_kilobytes, ah=ah_out)
        where = intent.where
        key = (where.interface, where.map_name, where.seq, pair.proxies)
        counters = self.flow_counters.setdefault(key, SaCounters())
        counters.pairs += 1
        bundle = SaBundle(pair, local, where.interface, where.map_name, where.seq, inbound,
                          outbound, counters)
        self.sad.add(bundle)
        if where.entry.reverse_route:
            self._inject_route(bundle)
        self._debug_create_sa(bundle)
        # Lifetimes: the side that negotiated the pair renegotiates it before it runs out
        # (no packet is lost: the old pair serves until the new one is up); at the end of
        # its life a pair is deleted.
        if intent.initiated:
            self.clock.call_later(pair.lifetime_seconds * REKEY_AT, self._rekey, bundle)
        self.clock.call_later(pair.lifetime_seconds, self._expire, bundle)
        if pair.udp_encap and crypto.nat_keepalive:
            self.clock.call_later(crypto.nat_keepalive, self._nat_keepalive, bundle)

    def _nat_keepalive(self, bundle: SaBundle) -> None:
        """``crypto isakmp nat keepalive N``: an ESP-in-UDP pair that sent nothing for N
        seconds sends a NAT-keepalive (RFC 3948 2.3: one 0xFF octet, UDP 4500 to 4500) so
        that the NAT keeps its translation."""
        interval = self.crypto.nat_keepalive
        if bundle not in self.sad.bundles or not interval:
            return
        now = self.clock.now
        due = bundle.last_out + interval  # the deadline armed, computed the same way
        if now >= due:
            self._send_own(self.stack.send_udp, bundle.peer, NAT_T_PORT, NAT_T_PORT,
                           NAT_KEEPALIVE, src=bundle.local)
            bundle.last_out = now
            due = now + interval
        self.clock.call_at(due, self._nat_keepalive, bundle)

    def _rekey(self, bundle: SaBundle) -> None:
        """Renew a pair before it runs out: only one that carried traffic (an idle pair just
        expires) and only while the crypto map still asks for it (peer, ACL, entry)."""
        if bundle not in self.sad.bundles or bundle.rekeyed:
            return
        if not bundle.inbound.octets and not bundle.outbound.octets:
            return
        bundle.rekeyed = True
        intent = self.intents.get((bundle.peer, bundle.proxies))
        if intent is not None and self._still_configured(intent.where, bundle):
            self._start(intent.where, bundle.local, bundle.peer, bundle.proxies)

    def _still_configured(self, where: MapEntry, bundle: SaBundle) -> bool:
        entry = where.entry
        return (where in self._entries(where.interface)
                and (where.dynamic or any(int(p) == bundle.peer for p in entry.peers))
                and self._acl_allows(entry, bundle.proxies, exact=not where.dynamic))

    def _expire(self, bundle: SaBundle) -> None:
        """The end of a pair's life: tell the peer (Delete) and drop it."""
        if bundle not in self.sad.bundles:
            return
        engine = self.engines.get(bundle.local)
        if engine is not None:
            engine.delete_ipsec(bundle.peer, [bundle.pair.spi_in], self.clock.now)
            self._pump(bundle.local)
        self._remove(bundle)

    def _remove(self, bundle: SaBundle) -> None:
        """Delete a pair from the SAD (and the engine's memory of it), and its reverse route
        once no pair needs it."""
        if bundle not in self.sad.bundles:
            return
        self.sad.remove(bundle)
        engine = self.engines.get(bundle.local)
        if engine is not None:
            engine.forget_ipsec(bundle.pair.spi_in)
        key = (bundle.peer, bundle.proxies)
        if key in self.router.injected_routes and not any(
                (b.peer, b.proxies) == key for b in self.sad.bundles):
            del self.router.injected_routes[key]
            self.router.network_changed()

    def _inject_route(self, bundle: SaBundle) -> None:
        """Reverse route injection: a static route to the remote proxy network via the peer
        (``S 10.0.2.0/24 [1/0] via 203.0.113.2``), there while an SA pair protects it."""
        p = bundle.proxies
        key = (bundle.peer, p)
        if key in self.router.injected_routes:
            return
        self.router.injected_routes[key] = Route.static(
            p.remote_net, bin(p.remote_mask).count("1"), bundle.peer)
        self.router.network_changed()

    def _count_octets(self, bundle: SaBundle, sa: OneWaySa, size: int) -> None:
        """Kilobyte lifetimes count real bytes: renegotiate at 90 %, delete at 100 %."""
        sa.octets += size
        used = sa.octets / 1024
        if used >= sa.lifetime_kilobytes:
            self._expire(bundle)
        elif used >= sa.lifetime_kilobytes * REKEY_AT and not bundle.rekeyed:
            intent = self.intents.get((bundle.peer, bundle.proxies))
            if intent is not None and intent.initiated:
                self._rekey(bundle)

    # ------------------------------------------------------------ for show commands

    def _flow_mtu(self, entry: CryptoMapEntry, bundles: tuple[SaBundle, ...]) -> int:
        """The current pair's plaintext MTU, else what the entry's transform set will give."""
        if bundles:
            return bundles[-1].plaintext_mtu
        offer = self._offer(entry)
        try:
            return transform_set_mtu(offer.transform_sets[0]) if offer else PATH_MTU
        except KeyError:  # a word no cipher table knows: nothing to subtract
            return PATH_MTU

    def isakmp_states(self) -> list[IsakmpSaState]:
        """Every ISAKMP SA of every engine; ``dpd`` (Cap. ``D``) only where the peer does
        DPD and a keepalive is configured for it."""
        now = self.clock.now
        return [replace(s, dpd=s.dpd and self._dpd_for(s.dst if s.initiator else s.src)
                        is not None)
                for engine in self.engines.values() for s in engine.isakmp_sas(now)]

    def flows(self) -> list[FlowView]:
        """Every protected flow of every applied crypto map, with its SA pairs: a static
        entry's flows are its ACL's permit lines; a dynamic entry's are what peers
        negotiated with it."""
        views: list[FlowView] = []
        grouped: dict[tuple[str, str, int, ProxyIdentity], list[SaBundle]] = {}
        for b in self.sad.bundles:
            grouped.setdefault((b.interface, b.map_name, b.map_seq, b.proxies), []).append(b)
        for intf in self.router.config.sorted_interfaces():
            local = self._local_address(intf.name)
            if local is None:
                continue
            for where in self._entries(intf.name):
                if where.dynamic:
                    keys = sorted((k for k in grouped if k[:3] == (intf.name, where.map_name,
                                                                    where.seq)),
                                  key=lambda k: (k[3].remote_net, k[3].local_net))
                    for key in keys:
                        bundles = tuple(grouped[key])
                        views.append(FlowView(intf.name, where.map_name, local,
                                              bundles[-1].peer, key[3],
                                              self.flow_counters.get(key, SaCounters()),
                                              bundles, dynamic=True,
                                              mtu=bundles[-1].plaintext_mtu))
                    continue
                acl = self.router.config.acls[where.entry.match_acl or ""]
                peer = int(where.entry.peers[0])
                for ace in acl.entries:
                    proxies = proxies_of(ace)
                    if proxies is None:
                        continue
                    key = (intf.name, where.map_name, where.seq, proxies)
                    bundles = tuple(grouped.get(key, ()))
                    views.append(FlowView(intf.name, where.map_name, local, peer, proxies,
                                          self.flow_counters.get(key, SaCounters()),
                                          bundles, mtu=self._flow_mtu(where.entry, bundles)))
        return views

    # ------------------------------------------------------------ clear commands

    def clear_sa(self, peer: int | None = None) -> None:
        """``clear crypto sa [peer A]``: delete the SA pairs (and tell the peers)."""
        for bundle in list(self.sad.bundles):
            if peer is not None and bundle.peer != peer:
                continue
            engine = self.engines.get(bundle.local)
            if engine is not None:
                engine.delete_ipsec(bundle.peer, [bundle.pair.spi_in], self.clock.now)
            self._remove(bundle)
        for local in list(self.engines):
            self._pump(local)

    def clear_isakmp(self, conn_id: int | None = None) -> None:
        """``clear crypto isakmp [CONN-ID]``: delete every ISAKMP SA, or the one with that
        conn-id (an unknown one deletes nothing), telling the peer; IPsec SAs stay until
        they expire."""
        now = self.clock.now
        for local, engine in self.engines.items():
            engine.delete_isakmp(None, now, conn_id)
            self._pump(local)

    def clear_session(self, peer: int | None = None) -> None:
        """``clear crypto session [remote A]``: the IPsec SAs, then the ISAKMP SAs, of every
        peer or of ``peer``; each deletion is told to the peer (Delete notifications)."""
        self.clear_sa(peer)
        now = self.clock.now
        for local, engine in self.engines.items():
            engine.delete_isakmp(peer, now)
            self._pump(local)
