"""IKE on one router: an ``IkeEngine`` per local tunnel address, pumped on the lab's clock.

Theory of operation
-------------------
The engines are sans-IO; ``IkeGlue`` is their I/O on the router's IP stack:

* it creates one engine per local address the first time IKE is needed there, giving it the
  router's configuration as callables read at each use: ISAKMP policies, the pre-shared key
  for a peer (global keys, keyrings, ISAKMP profiles), whether to start aggressive mode, the
  DPD settings (``crypto isakmp keepalive`` or a profile's ``keepalive``), and the SPD's
  choice of a phase-2 offer;
* it takes UDP 500 and, after a NAT-T float, UDP 4500 (behind the non-ESP marker) off the
  stack and feeds the engine (:meth:`udp`, :meth:`udp_nat_t`);
* after every input it *pumps* the engine (:meth:`pump`): engine events first, in the order
  the engine emitted them (each datagram it queued has its ``PacketSent`` among them, so the
  debug says what was sent where IOS says it), then the datagrams themselves, then one clock
  timer per engine, re-armed at the engine's ``get_timer()``;
* it turns events into SAD changes: a pair keyed is created (``Phase2Keyed``), one
  established is installed, one the peer deleted (or lost with a rebooted or dead peer)
  removed. Every event first goes to :class:`~iosim.ipsec.crypto_debug.CryptoDebug` for its
  debug lines. The engine's step-by-step trace events feed nothing but ``debug crypto
  isakmp``: the engine builds them only while it is on (its ``trace``, asked at each one, so
  ``debug`` / ``undebug`` take effect at once). The SPD's choice of a phase-2 offer (the
  engine's ``select_phase2``) prints its own lines, so the events the engine emitted before it
  asked are handled first.

It is the SA lifecycle's :class:`~iosim.ipsec.sa_lifecycle.Negotiator`: rekeys start here
and expiries are told to the peer from here. IKEv2 (:mod:`iosim.ipsec.ikev2_glue`) sits
beside it: an entry with ``set ikev2-profile``, the pairs IKEv2 made and every datagram whose
header says version 2 are handed to ``v2``. It also holds the router's call admission
control (:class:`~iosim.ike.admission.CallAdmission`, ``crypto call admission limit``),
which all its engines consult before they create an ISAKMP SA; a reload starts it afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from iosim.config.crypto_model import CryptoConfig, IsakmpProfile, Keyring, PresharedKey
from iosim.ike.admission import AdmissionLimits, CallAdmission
from iosim.ike.engine import (
    DpdSettings,
    IkeEngine,
    IkePolicy,
    InitialContact,
    PeerDead,
    Phase1Failed,
    Phase2Deleted,
    Phase2Established,
    Phase2Offer,
    ProxyIdentity,
)
from iosim.ike.events import NotifyRejected, Phase2Keyed
from iosim.ike.main_mode import NAT_T_PORT
from iosim.ike.phase2_policy import Phase2Refused
from iosim.ipsec.crypto_debug import CryptoDebug
from iosim.ipsec.engine_driver import NON_ESP_MARKER, EngineDriver
from iosim.ipsec.ikev2_glue import Ikev2Glue, is_ikev2
from iosim.ipsec.sa_lifecycle import SaLifecycle
from iosim.ipsec.sad import SaBundle
from iosim.ipsec.spd import Intent, MapEntry, Spd, ike_policy
from iosim.net.packets import format_ip

if TYPE_CHECKING:
    from iosim.clock import TimerHandle, VirtualClock
    from iosim.router import Router

__all__ = ["NON_ESP_MARKER", "IkeGlue"]


class IkeGlue(EngineDriver[IkeEngine]):
    """The IKE engines of one router and their I/O (see the module docstring)."""

    def __init__(self, router: Router, clock: VirtualClock, rand: Callable[[int], bytes],
                 spd: Spd, lifecycle: SaLifecycle, debug: CryptoDebug,
                 engines: dict[int, IkeEngine]) -> None:
        assert router.stack is not None
        self.router = router
        self.stack = router.stack
        self.clock = clock
        self.rand = rand
        self.spd = spd
        self.sa = lifecycle
        self.debug = debug
        self.engines = engines
        self._timers: dict[int, TimerHandle] = {}
        self.admission = CallAdmission(self._admission_limits)  # shared by the engines
        # engines with an on-demand DPD check armed, as dict keys (an empty dict is a
        # quarter of the size of an empty set, and most routers have none armed)
        self._dpd_checks: dict[int, None] = {}
        self.v2: Ikev2Glue | None = None  # IKEv2 beside us (RouterCrypto sets it)

    def reset(self) -> None:
        """A reload: every negotiation and ISAKMP SA is forgotten."""
        self.cancel_timers()
        self.engines.clear()
        self._dpd_checks.clear()
        self.admission = CallAdmission(self._admission_limits)

    @property
    def crypto(self) -> CryptoConfig:
        return self.spd.crypto

    def _admission_limits(self) -> AdmissionLimits:
        """``crypto call admission limit ike sa|in-negotiation-sa`` as configured now."""
        crypto = self.crypto
        return AdmissionLimits(crypto.cac_ike_sa, crypto.cac_in_negotiation)

    # ------------------------------------------------------------ engines and their inputs

    def engine(self, local: int) -> IkeEngine:
        """The engine on ``local``, created on first use."""
        engine = self.engines.get(local)
        if engine is None:
            # bound methods and partials: a third of the size of closures (one engine a router)
            engine = IkeEngine(
                local, rand=self.rand, nat_traversal=True,
                policies=self._ike_policies,
                psk_for=partial(self._psk_for, local),
                select_phase2=partial(self._select, local),
                aggressive_mode_disabled=self._aggressive_mode_disabled,
                aggressive_for=self.aggressive_for, dpd_for=self.dpd_for,
                admission=self.admission, spi_in_use=self.sa.spi_in_use,
                trace=partial(self.debug.on, "isakmp"))  # its only reader: debug crypto isakmp
            self.engines[local] = engine
        return engine

    def _ike_policies(self) -> list[IkePolicy]:
        """The ISAKMP policies the engines offer and accept, as configured now."""
        return [ike_policy(p) for p in self.crypto.effective_policies()]

    def _aggressive_mode_disabled(self) -> bool:
        return self.crypto.aggressive_mode_disabled

    def _select(self, local: int, peer: int, proxies: ProxyIdentity,
                offers: list[Phase2Offer]) -> Phase2Offer | Phase2Refused | None:
        """The SPD's choice for a peer's quick mode; what the engine reported of the message
        so far is said first (the SPD's debug lines follow IOS's proposal walk)."""
        self._events(local)
        return self.spd.select(local, peer, proxies, offers)

    def _profiles_for(self, peer: int) -> list[IsakmpProfile]:
        """The ISAKMP profiles whose ``match identity address`` covers ``peer``."""
        return self.crypto.profiles_matching(peer)

    def _keyring_applies(self, ring: Keyring, local: int) -> bool:
        """A keyring with ``local-address`` serves only IKE on that interface's address."""
        where = ring.local_address
        if where is None:
            return True
        if where in self.router.config.interfaces:
            return self.spd.local_address(where) == local
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

    def aggressive_for(self, peer: int) -> bool:
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
        profiles = crypto.isakmp_profiles
        named = {e.isakmp_profile for m in crypto.maps.values()
                 for e in m.entries.values() if any(int(a) == peer for a in e.peers)}
        return (any(p.initiate_aggressive for p in self._profiles_for(peer))
                or any(profiles[n].initiate_aggressive for n in named if n in profiles))

    def dpd_for(self, peer: int) -> DpdSettings | None:
        """``keepalive`` of a matching ISAKMP profile, else ``crypto isakmp keepalive``."""
        for profile in self._profiles_for(peer):
            if profile.keepalive is not None:
                return DpdSettings(profile.keepalive[0], profile.keepalive[1])
        ka = self.crypto.keepalive
        if ka is None:
            return None
        seconds, retry, mode = ka
        return DpdSettings(seconds, retry or 2, mode == "periodic")

    def note_traffic(self, bundle: SaBundle, inbound: bool) -> None:
        """ESP/AH to or from a peer: what on-demand DPD watches. An outbound packet arms one
        check of that engine's timers ``interval`` seconds on (when a probe may be due)."""
        if self.v2 is not None and self.v2.owns(bundle):
            self.v2.note_traffic(bundle, inbound)
            return
        engine = self.engines.get(bundle.local)
        if engine is None:
            return
        now = self.clock.now
        engine.note_traffic(bundle.peer, now, inbound)
        if inbound or bundle.local in self._dpd_checks or not self._dpd_configured():
            return
        settings = self.dpd_for(bundle.peer)
        if settings is not None and not settings.periodic:
            self._dpd_checks[bundle.local] = None
            self.clock.call_later(settings.interval, self._dpd_check, bundle.local)

    def _dpd_configured(self) -> bool:
        crypto = self.crypto
        return crypto.keepalive is not None or any(
            p.keepalive is not None for p in crypto.isakmp_profiles.values())

    def _dpd_check(self, local: int) -> None:
        self._dpd_checks.pop(local, None)
        if local in self.engines:
            self._timer(local)

    def udp(self, src: int, dst: int, sport: int, dport: int, payload: bytes,
            now: float) -> None:
        """IKE on UDP 500 (the stack's handler)."""
        if not self.spd.any_applied():
            return  # ISAKMP is off: no crypto map applied anywhere
        if self.v2 is not None and is_ikev2(payload):
            self.v2.receive(src, dst, payload, dport)
            return
        self.debug.packet(dst, src, payload, sport, dport)
        self.engine(dst).receive_datagram(payload, src, now)
        self.pump(dst)

    def udp_nat_t(self, src: int, dst: int, sport: int, dport: int, payload: bytes,
                  now: float) -> None:
        """IKE on UDP 4500 after a NAT-T float: behind the 4-byte non-ESP marker."""
        if self.v2 is not None and payload[:4] == NON_ESP_MARKER and is_ikev2(payload[4:]):
            self.v2.receive(src, dst, payload[4:], NAT_T_PORT)
            return
        if payload[:4] != NON_ESP_MARKER or dst not in self.engines:
            return  # a NAT keepalive, or nothing we negotiated
        self.debug.packet(dst, src, payload[4:], sport, dport)
        self.engines[dst].receive_datagram(payload[4:], src, now, port=NAT_T_PORT)
        self.pump(dst)

    # ------------------------------------------------------------ the Negotiator side

    def start(self, where: MapEntry, local: int, peer: int, proxies: ProxyIdentity) -> None:
        """Negotiate a pair for ``proxies`` with ``peer`` under the map entry ``where``."""
        if where.entry.ikev2_profile is not None and self.v2 is not None:
            self.v2.start(where, local, peer, proxies)
            return
        offer = self.spd.offer(where.entry, local, peer, proxies)
        if offer is None:
            return
        engine = self.engine(local)
        if engine.requested(peer, proxies):
            return  # IPsec asked IKE already: the packet is dropped, nothing asked again
        intents = self.spd.intents
        previous = intents.get((peer, proxies))
        intents[(peer, proxies)] = Intent(
            where, previous.initiated if previous is not None else True)
        debug = self.debug
        debug.proposal("sa_request): ", "OUTBOUND", local, peer, proxies, offer, 500)
        if debug.conn_state(local, peer) is None:  # IKE is asked for a new ISAKMP SA
            profile = where.entry.isakmp_profile or "(NULL)"
            debug.say("isakmp", f"ISAKMP:(0): SA request profile is {profile}")
        engine.initiate(peer, proxies, offer, self.clock.now)
        self.pump(local)

    def tell_deleted(self, bundle: SaBundle) -> None:
        """The pair dies: a Delete to the peer over its ISAKMP SA, sent at once."""
        if self.v2 is not None and self.v2.owns(bundle):
            self.v2.tell_deleted(bundle)
            return
        engine = self.engines.get(bundle.local)
        if engine is not None:
            engine.delete_ipsec(bundle.peer, [bundle.pair.spi_in], self.clock.now)
            self.pump(bundle.local)

    def forget(self, bundle: SaBundle) -> None:
        if self.v2 is not None and self.v2.owns(bundle):
            self.v2.forget(bundle)
            return
        engine = self.engines.get(bundle.local)
        if engine is not None:
            engine.forget_ipsec(bundle.pair.spi_in)

    # ------------------------------------------------------------ pumping

    def _events(self, local: int) -> None:
        engine = self.engines[local]
        while (event := engine.next_event()) is not None:
            self.debug.event(local, event)
            handler = _GLUE_BY_EVENT.get(type(event))
            if handler is not None:
                handler(self, local, event)

    # ------------------------------------------------------------ events -> SAD

    def _phase2_keyed(self, local: int, event: object) -> None:
        assert isinstance(event, Phase2Keyed)
        self.sa.prepare(local, event.sa)

    def _phase2_established(self, local: int, event: object) -> None:
        assert isinstance(event, Phase2Established)
        self.sa.install(local, event.sa)

    def _phase2_deleted(self, local: int, event: object) -> None:
        """The peer deleted the pair: so do we."""
        assert isinstance(event, Phase2Deleted)
        self.sa.remove_spi(event.peer, event.spi_in)

    def _phase1_failed(self, local: int, event: object) -> None:
        assert isinstance(event, Phase1Failed)
        if event.reason.startswith("IKMP_BAD_MESSAGE"):  # typically a key mismatch
            self.router.log(f"%CRYPTO-4-{event.reason}")
        elif event.reason.startswith("atts are not acceptable") and not event.initiator:
            # the peer's first message offered no transform our policies accept
            self.router.log(f"%CRYPTO-6-IKMP_MODE_FAILURE: Processing of {event.mode} failed "
                            f"with peer at {format_ip(event.peer)}")

    def _notify_rejected(self, local: int, event: object) -> None:
        """An unprotected notify during phase 1 (a policy mismatch's NO_PROPOSAL_CHOSEN):
        rejected, and said so whether or not debug is on."""
        assert isinstance(event, NotifyRejected)
        self.router.log("%CRYPTO-6-IKMP_MODE_FAILURE: Processing of Informational mode "
                        f"failed with peer at {format_ip(event.peer)}")

    def _initial_contact(self, local: int, event: object) -> None:
        """The peer rebooted: the pairs the engine forgot with it are stale."""
        assert isinstance(event, InitialContact)
        for spi in event.spis:
            self.sa.remove_spi(event.peer, spi)

    def _peer_dead(self, local: int, event: object) -> None:
        assert isinstance(event, PeerDead)
        self.sa.drop_peer(event.peer)


#: What the router does on an engine's event, by event type (one table for every router,
#: not bound methods in each).
_GLUE_BY_EVENT: dict[type, Callable[[IkeGlue, int, object], None]] = {
    Phase2Keyed: IkeGlue._phase2_keyed,
    Phase2Established: IkeGlue._phase2_established,
    Phase2Deleted: IkeGlue._phase2_deleted,
    Phase1Failed: IkeGlue._phase1_failed,
    NotifyRejected: IkeGlue._notify_rejected,
    InitialContact: IkeGlue._initial_contact,
    PeerDead: IkeGlue._peer_dead,
}
