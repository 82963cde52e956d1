"""The life of an IPsec SA pair on one router: installed, used, renewed, expired, removed.

Theory of operation
-------------------
Quick mode hands the router an ``IpsecSaPair`` (keys, SPIs, lifetimes); ``SaLifecycle.install``
turns it into an ``SaBundle`` in the SAD under the crypto map entry the negotiation was for
(``Spd.intents``) and arms its timers on the lab's clock:

* rekey at 90 % of the lifetime in seconds (or kilobytes, counted from real bytes by
  :meth:`SaLifecycle.count_octets`) -- only by the side that negotiated the pair, only for a
  pair that carried traffic, and only while the crypto map still asks for it; the old pair
  serves until the new one is up;
* expiry at 100 %: a Delete goes to the peer and the pair goes;
* retirement when the configuration no longer asks for the pair (:meth:`SaLifecycle.retire`:
  its crypto map entry, peer or ACL line removed, the map taken off the interface, the
  tunnel shut down or its protection removed): a Delete goes to the peer and the pair goes,
  as IOS tears down what it no longer has a policy for; the next packet negotiates anew;
* ``crypto isakmp nat keepalive N`` for an ESP-in-UDP pair: one 0xFF octet to UDP 4500
  whenever the pair has sent nothing for N seconds (RFC 3948 2.3).

A pair installed for a ``reverse-route`` entry puts a static route to the remote proxy network
via the peer into ``router.injected_routes``, there while some pair protects that network.

Telling the peer (Delete) and starting a rekey are IKE's business: the IKE glue registers
itself as the :class:`Negotiator` (``bind``), so this module needs nothing of IKE's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from iosim.deadlines import deadline_after
from iosim.ike.engine import IpsecSaPair, ProxyIdentity
from iosim.ipsec.ah import AhSa
from iosim.ipsec.crypto_debug import CryptoDebug
from iosim.ipsec.esp import EspSa
from iosim.ipsec.replay import ReplayWindow
from iosim.ipsec.sad import OneWaySa, SaBundle, SaCounters, Sad
from iosim.ipsec.spd import MapEntry, Spd
from iosim.ipsec.transforms import encryption_transform, integrity_transform
from iosim.net.routing import Route

if TYPE_CHECKING:
    from iosim.clock import VirtualClock
    from iosim.router import Router

__all__ = ["NAT_KEEPALIVE", "NAT_T_PORT", "REKEY_AT", "Negotiator", "SaLifecycle",
           "nat_keepalive_step"]

NAT_T_PORT = 4500
NAT_KEEPALIVE = b"\xff"  # RFC 3948 section 2.3
REKEY_AT = 0.9  # fraction of a lifetime (seconds or kilobytes) after which a pair is renewed
MAX_PREPARED = 256  # pairs created but not installed yet (their quick mode may never end)

FlowKey = tuple[str, str, int, ProxyIdentity]  # (interface, map, seq, proxies)


def nat_keepalive_step(now: float, last_out: float, interval: float) -> tuple[bool, float]:
    """The NAT-keepalive timer of a pair that last sent at ``last_out``, firing at ``now``:
    whether a keepalive is due, and when to look again (always later than ``now``).

    Due means ``now`` reached ``last_out + interval`` -- the very sum the timer was armed
    with, so the instant it was armed for always qualifies (a difference ``now - last_out``
    may round below ``interval`` there and re-arm the timer at ``now`` for ever)."""
    due = last_out + interval
    if now >= due:
        return True, deadline_after(now, interval)
    return False, due


class Negotiator(Protocol):
    """What the SA lifecycle asks of IKE."""

    def start(self, where: MapEntry, local: int, peer: int, proxies: ProxyIdentity) -> None:
        """Negotiate a (new) pair for ``proxies`` with ``peer``."""

    def tell_deleted(self, bundle: SaBundle) -> None:
        """Send the peer a Delete for the pair (over its ISAKMP SA, if any)."""

    def forget(self, bundle: SaBundle) -> None:
        """The pair is gone without telling anyone: IKE forgets it too."""


class SaLifecycle:
    """The SAD of one router and the timers of its pairs (see the module docstring)."""

    def __init__(self, router: Router, clock: VirtualClock, spd: Spd,
                 debug: CryptoDebug) -> None:
        self.router = router
        self.clock = clock
        self.spd = spd
        self.debug = debug
        self.sad = Sad()
        # per protected flow (interface, map, seq, proxies): counters that outlive rekeys
        self.flow_counters: dict[FlowKey, SaCounters] = {}
        # pairs whose SAs are created while IKE awaits the install, by (local, inbound SPI)
        self._prepared: dict[tuple[int, int], SaBundle] = {}
        self._conn_ids = 0
        self._ike: Negotiator | None = None
        # told after a pair was installed or removed (a VTI's line protocol follows them)
        self.watchers: list[Callable[[], None]] = []
        self._retiring = False
        self._retire_asked: list[str | None] = []  # passes asked for (None: every interface)

    def bind(self, ike: Negotiator) -> None:
        """Register the IKE side (done once, by the crypto plane that owns both)."""
        self._ike = ike

    @property
    def ike(self) -> Negotiator:
        assert self._ike is not None, "SaLifecycle used before bind()"
        return self._ike

    def reset(self) -> None:
        """A reload: no SA survives, nor any route they injected."""
        self.sad = Sad()
        self.router.injected_routes.clear()
        self.flow_counters.clear()
        self._prepared.clear()
        self._changed()

    def _changed(self) -> None:
        for watcher in list(self.watchers):
            watcher()

    def prepare(self, local: int, pair: IpsecSaPair) -> SaBundle | None:
        """Quick mode keyed a pair: its IPsec SAs are created (numbered, ready), as IOS
        creates them while IKE awaits the install, but not yet in the SAD. None when no
        crypto map entry asked for it."""
        key = (local, pair.spi_in)
        bundle = self._prepared.get(key)
        if bundle is not None:
            return bundle
        intent = self.spd.intents.get((pair.peer, pair.proxies))
        if intent is None:
            return None
        now = self.clock.now
        crypto = self.spd.crypto

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
        beside = esp_in is not None and ah_in is not None  # AH outside ESP
        first = self._conn_ids + 1  # each SA its own conn id: ESP in and out, then AH's
        self._conn_ids += 4 if beside else 2
        inbound = OneWaySa(esp_in, first, now, pair.lifetime_seconds,
                           pair.lifetime_kilobytes, replay=window() if esp_in else None,
                           ah=ah_in, ah_replay=window() if ah_in else None,
                           ah_conn_id=first + 2 if beside else 0)
        outbound = OneWaySa(esp_out, first + 1, now, pair.lifetime_seconds,
                            pair.lifetime_kilobytes, ah=ah_out,
                            ah_conn_id=first + 3 if beside else 0)
        where = intent.where
        counters = self.flow_counters.setdefault(
            (where.interface, where.map_name, where.seq, pair.proxies), SaCounters())
        bundle = SaBundle(pair, local, where.interface, where.map_name, where.seq, inbound,
                          outbound, counters)
        self._prepared[key] = bundle
        while len(self._prepared) > MAX_PREPARED:  # quick modes that never finished
            del self._prepared[next(iter(self._prepared))]
        self.debug.created(bundle, bool(self.sad.of_peer(pair.peer)))
        return bundle

    def install(self, local: int, pair: IpsecSaPair) -> None:
        """A pair quick mode established: into the SAD, with its lifetimes armed."""
        bundle = self.prepare(local, pair)
        self._prepared.pop((local, pair.spi_in), None)
        intent = self.spd.intents.get((pair.peer, pair.proxies))
        if bundle is None or intent is None:
            return
        if not self.spd.owners().want(bundle.interface, bundle.map_name, bundle.map_seq,
                                      bundle.peer, bundle.proxies):
            # its policy went while it was negotiated: the peer is told, nothing installed
            self.ike.tell_deleted(bundle)
            self.ike.forget(bundle)
            return
        crypto = self.spd.crypto
        # a rekey takes over from a live pair of the flow; a pair negotiated while the flow
        # had none (the first, or after a clear or an idle pair's expiry) starts the count
        live = self.sad.protects(bundle.peer, bundle.proxies)
        bundle.counters.pairs = bundle.counters.pairs + 1 if live else 1
        bundle.counters.asked = False  # the request is answered
        self.sad.add(bundle)
        if intent.where.entry.reverse_route:
            self._inject_route(bundle)
        if not intent.initiated:
            self.debug.outbound_enabled()
        # Lifetimes: the side that negotiated the pair renegotiates it before it runs out
        # (no packet is lost: the old pair serves until the new one is up); at the end of
        # its life a pair is deleted.
        if intent.initiated:
            self.clock.call_later(pair.lifetime_seconds * REKEY_AT, self.rekey, bundle)
        self.clock.call_later(pair.lifetime_seconds, self.expire, bundle)
        if pair.udp_encap and crypto.nat_keepalive:
            self.clock.call_later(crypto.nat_keepalive, self._nat_keepalive, bundle)
        self._changed()

    def _nat_keepalive(self, bundle: SaBundle) -> None:
        """``crypto isakmp nat keepalive N``: an ESP-in-UDP pair that sent nothing for N
        seconds sends a NAT-keepalive (RFC 3948 2.3: one 0xFF octet, UDP 4500 to 4500) so
        that the NAT keeps its translation."""
        interval = self.spd.crypto.nat_keepalive
        if not self.sad.holds(bundle) or not interval:
            return
        now = self.clock.now
        send, due = nat_keepalive_step(now, bundle.last_out, interval)
        if send:
            stack = self.router.stack
            assert stack is not None
            self.spd.send_own(stack.send_udp, bundle.peer, NAT_T_PORT, NAT_T_PORT,
                              NAT_KEEPALIVE, src=bundle.local)
            bundle.last_out = now
        self.clock.call_at(due, self._nat_keepalive, bundle)

    def rekey(self, bundle: SaBundle) -> None:
        """Renew a pair before it runs out: only one that carried traffic (an idle pair just
        expires) and only while the crypto map still asks for it (peer, ACL, entry)."""
        if not self.sad.holds(bundle) or bundle.rekeyed:
            return
        if not bundle.inbound.octets and not bundle.outbound.octets:
            return
        bundle.rekeyed = True
        intent = self.spd.intents.get((bundle.peer, bundle.proxies))
        if intent is not None and self.spd.still_configured(intent.where, bundle.peer,
                                                            bundle.proxies):
            self.ike.start(intent.where, bundle.local, bundle.peer, bundle.proxies)

    def expire(self, bundle: SaBundle) -> None:
        """The end of a pair's life: tell the peer (Delete) and drop it."""
        if not self.sad.holds(bundle):
            return
        self.ike.tell_deleted(bundle)
        self.remove(bundle)

    def retire(self, interface: str | None = None) -> None:
        """The configuration changed: every pair it no longer asks for (on ``interface``, or
        anywhere) is deleted and its peer told. Removing one may change a tunnel's state,
        which asks again: that question waits for the pass under way, then gets its own."""
        self._retire_asked.append(interface)
        if self._retiring:
            return
        self._retiring = True
        try:
            while self._retire_asked:
                where = self._retire_asked.pop(0)
                owners = self.spd.owners()
                bundles = self.sad.bundles if where is None else self.sad.on_interface(where)
                for b in bundles:
                    if self.sad.holds(b) and not owners.want(b.interface, b.map_name,
                                                             b.map_seq, b.peer, b.proxies):
                        self.expire(b)
        finally:
            self._retiring = False
            self._retire_asked.clear()

    def remove(self, bundle: SaBundle) -> None:
        """Delete a pair from the SAD (and IKE's memory of it), and its reverse route once
        no pair needs it."""
        if not self.sad.holds(bundle):
            return
        self.sad.remove(bundle)
        self.ike.forget(bundle)
        key = (bundle.peer, bundle.proxies)
        if key in self.router.injected_routes and not self.sad.protects(*key):
            self.router.withdraw_route(key)
        self._changed()

    def spi_in_use(self, spi: int) -> bool:
        """Whether an installed SA already receives on ``spi`` (IKE draws new SPIs apart)."""
        return spi in self.sad.by_spi

    def remove_spi(self, peer: int, spi_in: int) -> None:
        """Remove the pair whose inbound SPI is ``spi_in``, if it is one with ``peer``."""
        bundle = self.sad.by_spi.get(spi_in)
        if bundle is not None and bundle.peer == peer:
            self.remove(bundle)

    def drop_peer(self, peer: int) -> None:
        """Delete, without telling anyone, every SA pair with ``peer``."""
        for bundle in self.sad.of_peer(peer):
            self.remove(bundle)

    def _inject_route(self, bundle: SaBundle) -> None:
        """Reverse route injection: a static route to the remote proxy network via the peer
        (``S 10.0.2.0/24 [1/0] via 203.0.113.2``), there while an SA pair protects it."""
        p = bundle.proxies
        key = (bundle.peer, p)
        if key in self.router.injected_routes:
            return
        self.router.inject_route(key, Route.static(
            p.remote_net, bin(p.remote_mask).count("1"), bundle.peer))

    def count_octets(self, bundle: SaBundle, sa: OneWaySa, size: int) -> None:
        """Kilobyte lifetimes count real bytes: renegotiate at 90 %, delete at 100 %."""
        sa.octets += size
        used = sa.octets / 1024
        if used >= sa.lifetime_kilobytes:
            self.expire(bundle)
        elif used >= sa.lifetime_kilobytes * REKEY_AT and not bundle.rekeyed:
            intent = self.spd.intents.get((bundle.peer, bundle.proxies))
            if intent is not None and intent.initiated:
                self.rekey(bundle)
