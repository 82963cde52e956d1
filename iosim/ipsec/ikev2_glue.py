"""IKEv2 on one router: an ``Ikev2Engine`` per local tunnel address, beside IKEv1's engines,
sharing the SPD, the SAD and the data plane.

Theory of operation
-------------------
A crypto map entry with ``set ikev2-profile`` (or a protected tunnel's instance of an IPsec
profile with it) negotiates with IKEv2: the IKEv1 glue hands such an entry's ``start``
(and the deletes and forgets of the pairs IKEv2 made) to :class:`Ikev2Glue`, and every
datagram on UDP 500/4500 whose header says version 2. The engines read the configuration
through callables, at each use:

* the proposals of the IKEv2 policies that match the local address
  (:meth:`~iosim.config.ikev2_model.Ikev2Config.proposals_for`, the smart defaults
  included);
* a profile's settings for a peer (``settings``): as initiator the entry's profile, as
  responder the first profile whose ``match identity remote`` matches the peer's IDi; the
  pre-shared keys from the profile's keyring (``pre-shared-key local|remote`` may differ);
* the SPD's judgement of a child's traffic selectors and transforms (``_select``): a
  proposal within an ACL line is accepted as proposed, a wider one narrowed to the first
  ACL line inside it (RFC 7296 2.9), anything else refused with TS_UNACCEPTABLE; a
  tunnel's instance accepts exactly its proxies. IKE_AUTH's child has no PFS: a ``set pfs``
  of a map entry or an IPsec profile judges its rekeys only.

Engine events become SAD changes (``ChildUp`` installs through the SA lifecycle, which then
rekeys and expires the pair as for IKEv1), syslog (``%IKEV2-5-SA_UP``/``SA_DOWN``) and the
``debug crypto ikev2`` lines (:mod:`iosim.ike2.ios_debug`). The engine's trace events
(packets sent and received, steps) feed nothing but ``debug crypto ikev2``: the engine builds
them only while it is on (its ``trace``, asked at each one, so ``debug`` / ``undebug`` take
effect at once).
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from iosim.config.crypto_model import SaSettings, crypto_of
from iosim.config.ikev2_model import Ikev2Config, Ikev2Profile, ikev2_of
from iosim.ike.events import IsakmpSaState
from iosim.ike.phase2_policy import Phase2Refused
from iosim.ike.quick_mode import Phase2Offer, ProxyIdentity
from iosim.ike2 import ios_debug
from iosim.ike2.constants import IdType
from iosim.ike2.engine import NAT_T_PORT, Ikev2Engine
from iosim.ike2.events import (
    ChildDeleted,
    ChildFailed,
    ChildUp,
    InitialContact,
    NegotiationFailed,
    SaDown,
    SaUp,
)
from iosim.ike2.sa import WINDOW_SIZE, Ikev2Settings
from iosim.ipsec.engine_driver import EngineDriver
from iosim.ipsec.sa_lifecycle import SaLifecycle
from iosim.ipsec.sad import SaBundle
from iosim.ipsec.spd import Intent, MapEntry, Spd, proxies_of
from iosim.show.ikev2_runtime import Ikev2SaView, Ikev2Stats

if TYPE_CHECKING:
    from collections.abc import Callable

    from iosim.clock import TimerHandle, VirtualClock
    from iosim.router import Router

__all__ = ["Ikev2Glue", "is_ikev2"]

_ID_KIND = {IdType.ID_IPV4_ADDR: "address", IdType.ID_FQDN: "fqdn",
            IdType.ID_RFC822_ADDR: "email"}
_KIND_ID = {"address": IdType.ID_IPV4_ADDR, "fqdn": IdType.ID_FQDN,
            "email": IdType.ID_RFC822_ADDR}


#: debug flag -> the level of IKEv2 debug lines it turns on
_DEBUG_LEVELS = (("ikev2", ios_debug.DEFAULT), ("ikev2-packet", ios_debug.PACKET),
                 ("ikev2-error", ios_debug.ERROR))


def is_ikev2(message: bytes) -> bool:
    """Whether an IKE message's header says major version 2 (RFC 7296 3.1)."""
    return len(message) >= 28 and message[17] >> 4 == 2


def _id_text(ident: tuple[int, bytes]) -> str:
    kind, data = ident
    if kind == IdType.ID_IPV4_ADDR and len(data) == 4:
        return str(IPv4Address(data))
    return data.decode("utf-8", "replace")


def _within(inner: ProxyIdentity, outer: ProxyIdentity) -> bool:
    return ((inner.local_net & outer.local_mask) == outer.local_net
            and inner.local_mask & outer.local_mask == outer.local_mask
            and (inner.remote_net & outer.remote_mask) == outer.remote_net
            and inner.remote_mask & outer.remote_mask == outer.remote_mask
            and outer.protocol in (0, inner.protocol))


class Ikev2Glue(EngineDriver[Ikev2Engine]):
    """The IKEv2 engines of one router and their I/O (see the module docstring)."""

    def __init__(self, router: Router, clock: VirtualClock, rand: Callable[[int], bytes],
                 spd: Spd, lifecycle: SaLifecycle) -> None:
        assert router.stack is not None
        self.router = router
        self.stack = router.stack
        self.clock = clock
        self.rand = rand
        self.spd = spd
        self.sa = lifecycle
        self.engines: dict[int, Ikev2Engine] = {}
        self._timers: dict[int, TimerHandle] = {}
        # inbound SPIs of the pairs IKEv2 made, as dict keys (an empty dict is a quarter of
        # the size of an empty set, and most routers run no IKEv2)
        self.spis: dict[int, None] = {}
        #: peer -> the last failure with it, as a sentence (what a lab's diagnosis quotes)
        self.failures: dict[int, str] = {}

    @property
    def config(self) -> Ikev2Config:
        return ikev2_of(self.router.config)

    def reset(self) -> None:
        """A reload: every IKEv2 SA and negotiation is forgotten."""
        self.cancel_timers()
        self.engines.clear()
        self.spis.clear()
        self.failures.clear()

    def engine(self, local: int) -> Ikev2Engine:
        engine = self.engines.get(local)
        if engine is None:
            engine = Ikev2Engine(
                local, rand=self.rand,
                proposals=lambda: self.config.proposals_for(local),
                settings_for=lambda peer, ident: self.settings(local, peer, ident, None),
                select_child=lambda peer, proxies, offers, in_auth: self._select(
                    local, peer, proxies, offers, in_auth),
                cookie_threshold=lambda: self.config.cookie_challenge,
                fragmentation_mtu=lambda: (self.config.fragmentation_mtu or 576)
                if self.config.fragmentation else None,
                window=lambda: self.config.window or WINDOW_SIZE,
                spi_in_use=self.sa.spi_in_use,
                trace=self.debugging)  # the trace's only reader: debug crypto ikev2
            self.engines[local] = engine
        return engine

    # ------------------------------------------------------------ configuration

    def _profile(self, peer: int, ident: tuple[str, str] | None, name: str | None
                 ) -> Ikev2Profile | None:
        profiles = self.config.profiles
        if name is not None:
            return profiles.get(name)
        return next((p for p in profiles.values() if p.matches(peer, ident)), None)

    def settings(self, local: int, peer: int, ident: tuple[int, bytes] | None,
                 profile_name: str | None) -> Ikev2Settings | None:
        """What the profile (named, or matching the peer's identity) says for ``peer``;
        None when no profile matches or it lacks its keys."""
        seen: tuple[str, str] | None = None
        if ident is not None:
            kind = _ID_KIND.get(IdType(ident[0])) if ident[0] in _ID_KIND else None
            if kind is None:
                return None
            value = (str(IPv4Address(ident[1])) if kind == "address" and len(ident[1]) == 4
                     else ident[1].decode("utf-8", "replace"))
            seen = (kind, value)
        profile = self._profile(peer, seen, profile_name)
        if profile is None or profile.keyring is None:
            return None
        ring = self.config.keyrings.get(profile.keyring)
        entry = ring.peer_for(peer, seen) if ring is not None else None
        if entry is None:
            return None
        kind, value = profile.local_identity or ("address", str(IPv4Address(local)))
        data = IPv4Address(value).packed if kind == "address" else value.encode()
        dpd = None
        if profile.dpd is not None:
            dpd = (profile.dpd[0], profile.dpd[1], profile.dpd[2] == "periodic")
        local_key, remote_key = entry.local_key, entry.remote_key
        return Ikev2Settings(
            profile.name, (_KIND_ID[kind], data),
            local_key.encode() if local_key is not None and profile.auth_local else None,
            remote_key.encode() if remote_key is not None and profile.auth_remote else None,
            profile.lifetime, dpd, profile.nat_keepalive)

    def _select(self, local: int, peer: int, proxies: ProxyIdentity,
                offers: list[Phase2Offer], in_auth: bool
                ) -> tuple[Phase2Offer, ProxyIdentity] | Phase2Refused:
        """The SPD's choice for a child, with IOS's narrowing (module docstring)."""
        self._events(local)
        answer = self._judge(local, peer, proxies, offers, in_auth)
        if isinstance(answer, Phase2Refused) and answer.cause == "proxies":
            narrowed = self._narrow(local, peer, proxies)
            if narrowed is not None:
                answer = self._judge(local, peer, narrowed, offers, in_auth)
                if not isinstance(answer, Phase2Refused):
                    return answer[0], narrowed
        return answer

    def _judge(self, local: int, peer: int, proxies: ProxyIdentity,
               offers: list[Phase2Offer], in_auth: bool
               ) -> tuple[Phase2Offer, ProxyIdentity] | Phase2Refused:
        answer = self.spd.select(local, peer, proxies, offers)
        if isinstance(answer, Phase2Refused) and answer.cause == "pfs" and in_auth:
            # IKE_AUTH's child has no PFS of its own: a "set pfs" judges its rekeys only
            crypto = crypto_of(self.router.config)
            settings: list[SaSettings] = [e for m in crypto.maps.values()
                                          for e in m.entries.values()]
            settings += crypto.ipsec_profiles.values()
            groups = sorted({int(s.pfs[5:]) for s in settings if s.pfs})
            for g in groups:
                answer = self.spd.select(local, peer, proxies,
                                         [replace(o, pfs_group=g) for o in offers])
                if not isinstance(answer, Phase2Refused):
                    return replace(answer, pfs_group=None), proxies
        if isinstance(answer, Phase2Refused):
            return answer
        return answer, proxies

    def _narrow(self, local: int, peer: int, proxies: ProxyIdentity) -> ProxyIdentity | None:
        """The first ACL line of a static entry toward ``peer`` inside the proposal."""
        acls = self.router.config.acls
        for interface in self.router.config.interfaces:
            if self.spd.local_address(interface) != local:
                continue
            for where in self.spd.entries(interface):
                entry = where.entry
                if where.dynamic or not any(int(p) == peer for p in entry.peers):
                    continue
                acl = acls.get(entry.match_acl or "")
                for ace in acl.entries if acl is not None else ():
                    line = proxies_of(ace)
                    if line is not None and _within(line, proxies):
                        return line
        return None

    # ------------------------------------------------------------ the Negotiator side

    def start(self, where: MapEntry, local: int, peer: int, proxies: ProxyIdentity) -> None:
        """Negotiate a pair for ``proxies`` with ``peer`` under ``where`` (IKEv2)."""
        offer = self.spd.offer(where.entry, local, peer, proxies)
        if offer is None:
            return
        intents = self.spd.intents
        previous = intents.get((peer, proxies))
        intents[(peer, proxies)] = Intent(where, previous.initiated if previous else True)
        settings = self.settings(local, peer, None, where.entry.ikev2_profile)
        engine = self.engine(local)
        if settings is None:
            self._say(f"IKEv2:% Profile {where.entry.ikev2_profile} is incomplete: "
                      "no keyring, key or authentication method for the peer")
            return
        if engine.sa_for(peer) is None:
            self.router.log(ios_debug.initiate_tunnel(proxies))
        engine.initiate(peer, proxies, offer, self.clock.now, settings)
        self.pump(local)

    def negotiating(self, local: int, peer: int) -> bool:
        """Whether an IKE SA with ``peer`` is being negotiated (by either side)."""
        engine = self.engines.get(local)
        sa = engine.sa_for(peer) if engine is not None else None
        return sa is not None and not sa.established

    def owns(self, bundle: SaBundle) -> bool:
        return bundle.pair.spi_in in self.spis

    def tell_deleted(self, bundle: SaBundle) -> None:
        engine = self.engines.get(bundle.local)
        if engine is not None:
            engine.delete_child(bundle.peer, bundle.pair.spi_in, self.clock.now)
            self.pump(bundle.local)

    def forget(self, bundle: SaBundle) -> None:
        self.spis.pop(bundle.pair.spi_in, None)
        engine = self.engines.get(bundle.local)
        if engine is not None:
            engine.forget_child(bundle.peer, bundle.pair.spi_in)

    def note_traffic(self, bundle: SaBundle, inbound: bool) -> None:
        """ESP to or from a peer; when it makes an on-demand DPD probe due, it leaves now."""
        engine = self.engines.get(bundle.local)
        if engine is not None and engine.note_traffic(bundle.peer, self.clock.now, inbound):
            self.pump(bundle.local)

    # ------------------------------------------------------------ datagrams and pumping

    def receive(self, src: int, dst: int, payload: bytes, port: int) -> None:
        """An IKEv2 message for ``dst`` (non-ESP marker already removed)."""
        self.engine(dst).receive_datagram(payload, src, self.clock.now, port)
        self.pump(dst)

    def debugging(self) -> bool:
        """Whether a debug that prints the engine's trace is on: ``debug crypto ikev2`` or
        ``debug crypto ikev2 packet`` (``error`` prints failures, which are events anyway)."""
        flags = self.router.debug_flags
        return "ikev2" in flags or "ikev2-packet" in flags

    def _levels(self) -> list[str]:
        """The debug levels turned on (:func:`iosim.ike2.ios_debug.render_for`)."""
        flags = self.router.debug_flags
        return [level for flag, level in _DEBUG_LEVELS if flag in flags]

    def _say(self, text: str) -> None:
        if "ikev2" in self.router.debug_flags:
            self.router.debug(text)

    def _events(self, local: int) -> None:
        engine = self.engines[local]
        router = self.router
        levels = self._levels()
        while (event := engine.next_event()) is not None:
            if levels:  # the text is made only for a listener
                for line in ios_debug.render_for(event, levels, engine.session_of(
                        getattr(event, "sa_id", 0))):
                    router.debug(line)
            if isinstance(event, ChildUp):
                self.spis[event.sa.spi_in] = None
                self.sa.install(local, event.sa)
                self.failures.pop(event.sa.peer, None)
            elif isinstance(event, NegotiationFailed):
                self.failures[event.peer] = event.reason + (
                    f" ({event.notify})" if event.notify and event.notify not in event.reason
                    else "")
            elif isinstance(event, ChildFailed):
                self.failures[event.peer] = (
                    f"{'refused' if event.sent else 'the peer refused'} the IPsec SA pair "
                    f"({event.notify})")
            elif isinstance(event, ChildDeleted):
                self.sa.remove_spi(event.peer, event.spi_in)
            elif isinstance(event, InitialContact):
                for spi in event.spis:
                    self.sa.remove_spi(event.peer, spi)
            elif isinstance(event, (SaUp, SaDown)):
                message = ios_debug.syslog(event, local, event.port)
                if message is not None:
                    self.router.log(message)

    # ------------------------------------------------------------ for show commands

    def views(self) -> list[Ikev2SaView]:
        """Every IKE SA of every engine, oldest first."""
        now = self.clock.now
        out = []
        for local, engine in self.engines.items():
            for sa in sorted(engine.sas.values(), key=lambda s: s.sa_id):
                suite = sa.suite
                settings = sa.settings
                out.append(Ikev2SaView(
                    sa.sa_id, local, sa.peer, sa.port, sa.state,
                    suite.cipher.family if suite else "None",
                    (suite.cipher.key_bits or 192) if suite else 0,
                    suite.prf.show if suite else "None",
                    suite.integ.show if suite and suite.integ else "None",
                    sa.group, sa.lifetime,
                    int(now - sa.established_at) if sa.established_at is not None else 0,
                    sa.local_spi, sa.remote_spi,
                    _id_text(settings.local_id) if settings else "",
                    _id_text(sa.remote_id) if sa.remote_id else "",
                    sa.next_mid, sa.peer_mid - sa.ready_peer_mid,
                    sa.window, sa.peer_window,
                    (settings.dpd[0], settings.dpd[1]) if settings and settings.dpd else None,
                    sa.fragmentation, sa.nat_detected, sa.initiator,
                    tuple(sa.children.values()),
                    (suite.cipher.name, suite.prf.name,
                     suite.integ.name if suite.integ else "") if suite else ("", "", ""),
                    sa.session_id, settings.profile if settings else "", suite is not None))
        return out

    def session_states(self) -> list[IsakmpSaState]:
        """The IKE SAs as ``show crypto session`` lists them (``IKEv2 SA`` lines)."""
        now = self.clock.now
        out = []
        for v in self.views():
            src, dst = (v.local, v.remote) if v.initiator else (v.remote, v.local)
            up = v.status == "READY"
            started = now - v.active if up else None
            out.append(IsakmpSaState(
                dst, src, "READY" if up else "IN-NEG", v.sa_id, "ACTIVE", v.cipher, v.hash,
                "psk", v.group, max(0, v.lifetime - v.active) if up else 0, v.initiator,
                nat_t=v.port == NAT_T_PORT, established_at=started, lifetime=v.lifetime,
                version=2, dpd=v.dpd is not None, session=v.session_id, profile=v.profile))
        return out

    def stats(self) -> Ikev2Stats:
        totals: dict[str, int] = {}
        for engine in self.engines.values():
            for key, value in engine.stats.items():
                totals[key] = totals.get(key, 0) + value
        views = self.views()
        ins = [v for v in views if not v.initiator]
        outs = [v for v in views if v.initiator]
        return Ikev2Stats(
            len(ins), sum(v.status == "READY" for v in ins),
            sum(v.status == "IN-NEG" for v in ins), len(outs),
            sum(v.status == "READY" for v in outs), sum(v.status == "IN-NEG" for v in outs),
            totals.get("in_requests", 0), totals.get("in_accepted", 0),
            totals.get("in_rejected", 0), totals.get("out_requests", 0),
            totals.get("out_accepted", 0), totals.get("out_rejected", 0),
            sum(e.dropped for e in self.engines.values()),
            totals.get("cookie_challenged", 0), totals.get("cookie_accepted", 0),
            totals.get("cookie_rejected", 0))

    # ------------------------------------------------------------ clear crypto ikev2 sa

    def clear(self, peer: int | None = None, local: int | None = None) -> None:
        """``clear crypto ikev2 sa [local A | remote A]``: delete the IKE SAs (with ``peer``,
        or on the engine of the local address ``local``) and their pairs, telling the peer."""
        now = self.clock.now
        for address, engine in list(self.engines.items()):
            if local is not None and address != local:
                continue
            engine.delete_sa(peer, now)
            self.pump(address)
