"""The crypto half of a router: crypto maps, IKE and the SAD, behind one small facade.

Theory of operation
-------------------
``RouterCrypto`` wires together the parts of a router's crypto plane, each in its own module:

* :mod:`iosim.ipsec.spd` -- the policy: crypto map entries, ACL lines as proxy identities,
  the offer for an entry, the responder's choice;
* :mod:`iosim.ipsec.sa_lifecycle` -- the SAD and each pair's life: install, rekey, expiry,
  removal, NAT keepalives, reverse route injection, octet counting;
* :mod:`iosim.ipsec.ike_glue` -- one ``IkeEngine`` per local address, PSK/keyring/profile
  lookup, pumping datagrams and timers, engine events into SAD changes;
* :mod:`iosim.ipsec.ikev2_glue` -- the same for IKEv2 (``Ikev2Engine``), for the crypto map
  entries with ``set ikev2-profile``;
* :mod:`iosim.ipsec.crypto_datapath` -- the stack's output and input hooks (ESP/AH);
* :mod:`iosim.ipsec.crypto_debug` -- ``debug crypto isakmp|ipsec``;
* :mod:`iosim.ipsec.tunnel_protection` -- ``tunnel protection ipsec profile``: the
  ``Tunnel0-head-0`` entries, IKE when a tunnel comes up, the tunnels' SAs.

The router, the show commands and the tests talk to this facade only: ``sad``, ``engines``,
``rand`` and ``clock`` for reading, :meth:`RouterCrypto.isakmp_states` and
:meth:`RouterCrypto.flows` for the show commands, and the ``clear crypto`` commands. A reload
(the router's ``reboot`` event) forgets every SA and negotiation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from iosim.config.crypto_model import CryptoMapEntry
from iosim.crypto.rand import RandomSource
from iosim.ike.engine import IkeEngine, IsakmpSaState, ProxyIdentity
from iosim.ike.main_mode import IKE_PORT, NAT_T_PORT
from iosim.ipsec.crypto_datapath import CryptoDataPath
from iosim.ipsec.crypto_debug import CryptoDebug
from iosim.ipsec.ike_glue import IkeGlue
from iosim.ipsec.ikev2_glue import Ikev2Glue
from iosim.ipsec.sa_lifecycle import SaLifecycle
from iosim.ipsec.sad import PATH_MTU, FlowView, SaBundle, SaCounters, Sad, transform_set_mtu
from iosim.ipsec.spd import MapEntry, Spd, ike_policy, proxies_of
from iosim.ipsec.tunnel_protection import TunnelProtection

if TYPE_CHECKING:
    from iosim.clock import VirtualClock
    from iosim.router import Router

__all__ = ["MapEntry", "RouterCrypto", "ike_policy", "proxies_of"]


class RouterCrypto:
    """The crypto half of a router's data plane and its IKE endpoints."""

    def __init__(self, router: Router, clock: VirtualClock, seed: str) -> None:
        assert router.stack is not None
        self.router = router
        self.clock = clock
        self.rand = RandomSource(seed)  # seeded; the OS's once bridged to real sockets
        self.engines: dict[int, IkeEngine] = {}
        self.debug = CryptoDebug(router, clock, self.engines)
        self.spd = Spd(router, self.debug)
        self.lifecycle = SaLifecycle(router, clock, self.spd, self.debug)
        self.ike = IkeGlue(router, clock, self.rand, self.spd, self.lifecycle, self.debug,
                           self.engines)
        self.ikev2 = Ikev2Glue(router, clock, self.rand, self.spd, self.lifecycle)
        self.ike.v2 = self.ikev2  # IKEv2 entries, pairs and datagrams go there
        self.lifecycle.bind(self.ike)
        self.datapath = CryptoDataPath(router, clock, self.rand, self.spd, self.lifecycle,
                                       self.ike, self.debug)
        stack = router.stack
        stack.add_hooks(self._has_crypto_map, input_hook=self.datapath.input,
                        output_hook=self.datapath.output, input_first=True)
        stack.udp_handlers[IKE_PORT] = self.ike.udp
        stack.udp_handlers[NAT_T_PORT] = self.ike.udp_nat_t
        router.listeners.append(self._router_event)
        self.tunnels = TunnelProtection(router, clock, self.spd, self.lifecycle, self.ike,
                                        self.datapath)

    @property
    def sad(self) -> Sad:
        """The SA pairs in use."""
        return self.lifecycle.sad

    def _has_crypto_map(self, interface: str) -> bool:
        """Whether a crypto map is applied on ``interface`` (the data path's hooks act only
        there on what they do not own: ESP for another router passes untouched)."""
        intf = self.router.config.interfaces.get(interface)
        return intf is not None and intf.features.get("crypto_map") is not None

    def _router_event(self, event: str, detail: str) -> None:
        """A reload forgets every SA and IKE negotiation, as a rebooted router has none; a
        changed configuration (crypto, ACLs, an interface) retires the pairs it no longer
        asks for."""
        if event in ("config", "acls"):
            self.lifecycle.retire()
        elif event == "interface":
            self.lifecycle.retire(detail)
        if event != "reboot":
            return
        self.ike.reset()
        self.ikev2.reset()
        self.lifecycle.reset()
        self.spd.intents.clear()
        self.datapath.reset()

    # ------------------------------------------------------------ for show commands

    def _flow_mtu(self, entry: CryptoMapEntry, bundles: tuple[SaBundle, ...]) -> int:
        """The current pair's plaintext MTU, else what the entry's transform set will give."""
        if bundles:
            return bundles[-1].plaintext_mtu
        offer = self.spd.offer(entry)
        try:
            return transform_set_mtu(offer.transform_sets[0]) if offer else PATH_MTU
        except KeyError:  # a word no cipher table knows: nothing to subtract
            return PATH_MTU

    def isakmp_states(self) -> list[IsakmpSaState]:
        """Every ISAKMP SA of every engine; ``dpd`` (Cap. ``D``) only where the peer does
        DPD and a keepalive is configured for it."""
        now = self.clock.now
        dpd_for = self.ike.dpd_for
        return [replace(s, dpd=s.dpd and dpd_for(s.dst if s.initiator else s.src) is not None)
                for engine in self.engines.values() for s in engine.isakmp_sas(now)]

    def flows(self) -> list[FlowView]:
        """Every protected flow of every applied crypto map, with its SA pairs: a static
        entry's flows are its ACL's permit lines; a dynamic entry's are what peers
        negotiated with it."""
        views: list[FlowView] = []
        grouped: dict[tuple[str, str, int, ProxyIdentity], list[SaBundle]] = {}
        for b in self.sad.bundles:
            grouped.setdefault((b.interface, b.map_name, b.map_seq, b.proxies), []).append(b)
        counters = self.lifecycle.flow_counters
        for intf in self.router.config.sorted_interfaces():
            local = self.spd.local_address(intf.name)
            if local is None:
                continue
            for where in self.spd.entries(intf.name):
                listed: set[ProxyIdentity] = set()
                if not where.dynamic:
                    acl = self.router.config.acls[where.entry.match_acl or ""]
                    peer = int(where.entry.peers[0])
                    for ace in acl.entries:
                        proxies = proxies_of(ace)
                        if proxies is None or proxies in listed:
                            continue
                        listed.add(proxies)
                        key = (intf.name, where.map_name, where.seq, proxies)
                        bundles = tuple(grouped.get(key, ()))
                        views.append(FlowView(intf.name, where.map_name, local, peer, proxies,
                                              counters.get(key, SaCounters()), bundles,
                                              mtu=self._flow_mtu(where.entry, bundles)))
                # what peers negotiated: every flow of a dynamic entry; for a static one, the
                # narrower proxies a peer proposed within one of its ACL lines
                keys = sorted((k for k in grouped if k[:3] == (intf.name, where.map_name,
                                                                where.seq)
                               and k[3] not in listed),
                              key=lambda k: (k[3].remote_net, k[3].local_net))
                for key in keys:
                    bundles = tuple(grouped[key])
                    views.append(FlowView(intf.name, where.map_name, local, bundles[-1].peer,
                                          key[3], counters.get(key, SaCounters()), bundles,
                                          dynamic=where.dynamic,
                                          mtu=bundles[-1].plaintext_mtu))
        return views + self.tunnels.flows()

    # ------------------------------------------------------------ clear commands

    def clear_sa(self, peer: int | None = None) -> None:
        """``clear crypto sa [peer A]``: delete the SA pairs (and tell the peers)."""
        for bundle in list(self.sad.bundles):
            if peer is not None and bundle.peer != peer:
                continue
            if self.ikev2.owns(bundle):
                self.ikev2.tell_deleted(bundle)
                self.lifecycle.remove(bundle)
                continue
            engine = self.engines.get(bundle.local)
            if engine is not None:
                engine.delete_ipsec(bundle.peer, [bundle.pair.spi_in], self.clock.now)
            self.lifecycle.remove(bundle)
        self.ike.pump_all()

    def clear_sa_counters(self) -> None:
        """``clear crypto sa counters``: every flow's packet counters, and each SA's own
        (the engine connection's Encrypt and Decrypt), start again from zero (the SAs
        stay)."""
        for counters in self.lifecycle.flow_counters.values():
            counters.reset()
        for bundle in self.sad.bundles:
            bundle.inbound.packets = bundle.outbound.packets = 0

    def clear_isakmp(self, conn_id: int | None = None) -> None:
        """``clear crypto isakmp [CONN-ID]``: delete every ISAKMP SA, or the one with that
        conn-id (an unknown one deletes nothing), telling the peer; IPsec SAs stay until
        they expire."""
        now = self.clock.now
        for local, engine in self.engines.items():
            engine.delete_isakmp(None, now, conn_id)
            self.ike.pump(local)

    def clear_session(self, peer: int | None = None) -> None:
        """``clear crypto session [remote A]``: the IPsec SAs, then the ISAKMP SAs, of every
        peer or of ``peer``; each deletion is told to the peer (Delete notifications)."""
        self.clear_sa(peer)
        now = self.clock.now
        for local, engine in self.engines.items():
            engine.delete_isakmp(peer, now)
            self.ike.pump(local)
        self.ikev2.clear(peer)
