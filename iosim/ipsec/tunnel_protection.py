"""Tunnel protection: ``tunnel protection ipsec profile NAME [shared]`` on GRE tunnels and VTIs.

Theory of operation
-------------------
IOS turns each protected tunnel into a crypto map of its own, ``Tunnel0-head-0`` (for a
``shared`` profile, ``PROFILE-head-0``): entry 65536 is the IPsec profile as a template and
entry 65537 its *profile instance* for the tunnel's peer, whose access list is generated:

* a GRE tunnel protects ``gre host SOURCE host DESTINATION`` -- the proxy identities are the
  tunnel endpoints themselves, so a transform set in ``mode transport`` negotiates transport
  mode (IOS's preference for traffic between the peers) and ``mode tunnel`` tunnel mode;
* a VTI (``tunnel mode ipsec ipv4``) protects ``ip any any`` in tunnel mode: every datagram
  routed into the tunnel is encrypted whole, with the tunnel's endpoints outside.

``TunnelProtection`` gives the SPD those instances (``Spd.tunnel_entries``: the responder
accepts exactly those proxies from exactly that peer, at the tunnel's source address) and
does what interesting traffic does for a crypto map: IKE starts when the tunnel's transport
comes up (not when a packet needs it), again when a packet finds no SA, and for a VTI, whose
line protocol waits for its SA, every :data:`VTI_RETRY` seconds until one is up. The first
attempt waits a moment of its own (under :data:`START_SPREAD` seconds, fixed per router and
tunnel, the time the router takes to open the tunnel's crypto socket), and none is made while
a phase 1 with the peer is under way: two routers whose tunnels come up together then
negotiate one ISAKMP SA and one pair, not one each.

An IPsec profile with ``set ikev2-profile`` makes the instance an IKEv2 entry: its
negotiations go to IKEv2 (:mod:`iosim.ipsec.ikev2_glue`, as for a crypto map entry with that
``set``), with the same proxies, and "a phase 1 under way" is an IKE SA not yet READY.

On the wire (the crypto data path does the ESP): GRE leaving the router between a protected
tunnel's endpoints -- the tunnel's own packets and keepalives, and a keepalive being sent
back -- is encrypted by this module's output hook; a VTI's datagrams come from the tunnel
plane (:meth:`TunnelProtection.send`); what a tunnel's SA decrypts is handed to the tunnel
plane (:meth:`TunnelProtection.claim`), which drops clear GRE for a protected tunnel and
reports it back (:meth:`TunnelProtection.received_in_clear`): the router logs
``%CRYPTO-4-RECVD_PKT_NOT_IPSEC`` as for cleartext a crypto map refuses, through the same
rate limit (:mod:`iosim.ipsec.not_ipsec`).

A ``tunnel protection ipsec profile`` naming a profile the router does not have is accepted
and kept, as IOS keeps it (``show running-config``, and ``show interfaces`` prints its
"Tunnel protection via IPSec" line), but it protects nothing (:meth:`TunnelProtection.protects`):
IOS makes no crypto map of it (``show crypto map`` lists none, no IKE starts, no SA is ever
negotiated for the tunnel), so the tunnel is a plain GRE tunnel, its packets leave and are
taken in clear -- as a crypto map entry without a peer or an access list stays disabled and
leaves the traffic it would match in clear. Once the profile is configured, the tunnel is
protected and negotiates at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from iosim.cli.interfaces import interface_type
from iosim.config.crypto_model import (
    DEFAULT_TRANSFORM_SET,
    CryptoMapEntry,
    IpsecProfile,
    crypto_of,
)
from iosim.config.tunnel_model import IPSEC, TunnelConfig, is_tunnel, tunnel_of
from iosim.ike.quick_mode import FULL_MASK, ProxyIdentity
from iosim.ipsec.crypto_datapath import CryptoDataPath
from iosim.ipsec.ike_glue import IkeGlue
from iosim.ipsec.sa_lifecycle import SaLifecycle
from iosim.ipsec.sad import PATH_MTU, FlowView, SaBundle, SaCounters, transform_set_mtu
from iosim.ipsec.spd import MapEntry, Spd
from iosim.net.packets import IpProtocol, Ipv4Packet
from iosim.net.tunnel import TunnelPlane

if TYPE_CHECKING:
    from iosim.clock import TimerHandle, VirtualClock
    from iosim.router import Router

__all__ = ["HEAD_SEQ", "INSTANCE_SEQ", "VTI_RETRY", "HeadMap", "TunnelProtection",
           "head_map_name", "head_maps", "tunnel_proxies"]

HEAD_SEQ = 65536  # the profile's entry of the head map
INSTANCE_SEQ = 65537  # the profile instance for the tunnel's peer
VTI_RETRY = 10.0  # seconds between IKE attempts of a VTI waiting for its SA
START_SPREAD = 2.0  # the first attempt after the tunnel came up waits less than this
ANY = ProxyIdentity(0, 0, 0, 0)


def head_map_name(tunnel: str, t: TunnelConfig) -> str:
    """IOS's name of the crypto map a protected tunnel makes."""
    return f"{t.protection}-head-0" if t.shared else f"{tunnel}-head-0"


def tunnel_proxies(t: TunnelConfig, local: int) -> ProxyIdentity:
    """What the tunnel protects: GRE between its endpoints, or any to any (a VTI)."""
    if t.mode == IPSEC or t.destination is None:
        return ANY
    return ProxyIdentity(local, FULL_MASK, int(t.destination), FULL_MASK, IpProtocol.GRE)


@dataclass(frozen=True)
class HeadMap:
    """A protected tunnel's crypto map, as ``show crypto map`` lists it."""

    name: str
    tunnel: str
    profile: IpsecProfile
    source_interface: str | None  # the ``idb`` of its header line
    local: int | None
    peer: int | None
    vti: bool


def head_maps(router: Router) -> list[HeadMap]:
    """The crypto maps of the protected tunnels, from the running-config (a tunnel whose
    profile does not exist has none)."""
    cfg = router.config
    crypto = crypto_of(cfg)
    out = []
    for intf in cfg.sorted_interfaces():
        t = tunnel_of(intf)
        if not is_tunnel(intf.name) or t.protection is None:
            continue
        profile = crypto.ipsec_profile(t.protection)
        if profile is None:
            continue
        local = _configured_source(router, t)
        out.append(HeadMap(head_map_name(intf.name, t), intf.name, profile,
                           t.source_interface, local,
                           int(t.destination) if t.destination is not None else None,
                           t.mode == IPSEC))
    return out


def _configured_source(router: Router, t: TunnelConfig) -> int | None:
    if t.source_interface is None:
        return int(t.source) if t.source is not None else None  # type: ignore[arg-type]
    source = router.config.interfaces.get(t.source_interface)
    return int(source.address) if source is not None and source.address is not None else None


class TunnelProtection:
    """The tunnels' side of the crypto plane (see the module docstring)."""

    def __init__(self, router: Router, clock: VirtualClock, spd: Spd, lifecycle: SaLifecycle,
                 ike: IkeGlue, datapath: CryptoDataPath) -> None:
        assert router.stack is not None
        self.router = router
        self.clock = clock
        self.spd = spd
        self.sa = lifecycle
        self.ike = ike
        self.datapath = datapath
        self._retries: dict[str, TimerHandle] = {}
        self._by_tunnel: dict[str, list[SaBundle]] = {}
        spd.tunnel_entries = self.entries
        spd.tunnel_entry = self.entry
        datapath.claim = self.claim
        lifecycle.watchers.append(self._sad_changed)
        router.stack.add_hooks(self._protects_any, output_hook=self.output)
        router.listeners.append(self._router_event)
        plane = router.tunnel_plane
        if isinstance(plane, TunnelPlane):
            plane.attach_protection(self)

    @property
    def plane(self) -> TunnelPlane | None:
        plane = self.router.tunnel_plane
        return plane if isinstance(plane, TunnelPlane) else None

    # ------------------------------------------------------------ the SPD's view

    def entry(self, tunnel: str) -> MapEntry | None:
        """The profile instance of ``tunnel`` (None: not protected, not configured enough,
        or its source is not usable)."""
        plane = self.plane
        intf = self.router.config.interfaces.get(tunnel)
        if plane is None or intf is None or intf.shutdown:
            return None
        t = tunnel_of(intf)
        if t.protection is None or t.destination is None:
            return None
        profile = crypto_of(self.router.config).ipsec_profile(t.protection)
        local = plane.source_address(tunnel)
        if profile is None or local is None:
            return None
        settings = CryptoMapEntry(
            map_name=head_map_name(tunnel, t), seq=INSTANCE_SEQ,
            transform_sets=list(profile.transform_sets) or [DEFAULT_TRANSFORM_SET.name],
            pfs=profile.pfs, lifetime_seconds=profile.lifetime_seconds,
            lifetime_kilobytes=profile.lifetime_kilobytes,
            isakmp_profile=profile.isakmp_profile, ikev2_profile=profile.ikev2_profile,
            peers=[t.destination])
        return MapEntry(tunnel, settings.map_name, INSTANCE_SEQ, settings, tunnel=True,
                        local=local, proxies=tunnel_proxies(t, local))

    def entries(self) -> list[MapEntry]:
        """Every protected tunnel's profile instance (``Spd.tunnel_entries``)."""
        plane = self.plane
        if plane is None:
            return []
        return [e for e in map(self.entry, plane.tunnels()) if e is not None]

    def tunnel_of_bundle(self, bundle: SaBundle) -> str | None:
        """The tunnel a pair protects, if it is a tunnel's."""
        name = bundle.interface
        t = interface_type(name)
        if t is None or t.name != "Tunnel" or bundle.map_seq != INSTANCE_SEQ:
            return None
        intf = self.router.config.interfaces.get(name)
        if intf is None or bundle.map_name != head_map_name(name, tunnel_of(intf)):
            return None
        return name

    # ------------------------------------------------------------ the tunnels' Protection

    def protects(self, tunnel: str) -> bool:
        """Whether the protection of ``tunnel`` is in force: it names an IPsec profile the
        router has (a missing one protects nothing: see the module docstring)."""
        intf = self.router.config.interfaces.get(tunnel)
        if intf is None:
            return False
        name = tunnel_of(intf).protection
        return name is not None and crypto_of(self.router.config).ipsec_profile(
            name) is not None

    def sa_up(self, tunnel: str) -> bool:
        return bool(self._by_tunnel.get(tunnel))

    def tunnel_ready(self, tunnel: str, ready: bool) -> None:
        """The tunnel's transport came up: negotiate (at the next instant, once the change
        that made it ready is done); a VTI keeps trying while it has no SA."""
        handle = self._retries.pop(tunnel, None)
        if handle is not None:
            handle.cancel()
        if ready:
            self._retries[tunnel] = self.clock.call_later(self.start_delay(tunnel),
                                                          self._attempt, tunnel)

    def start_delay(self, tunnel: str) -> float:
        """How long after its transport came up the tunnel first asks IKE for its SA: the
        same for a router and tunnel each time, under :data:`START_SPREAD` seconds."""
        digest = hashlib.sha256(f"{self.router.name}/{tunnel}".encode()).digest()
        return int.from_bytes(digest[:2], "big") / 0x10000 * START_SPREAD

    def _attempt(self, tunnel: str) -> None:
        self._retries.pop(tunnel, None)
        plane = self.plane
        rt = plane.runtime.get(tunnel) if plane is not None else None
        if rt is None or not rt.ready or self.sa_up(tunnel):
            return
        where = self.entry(tunnel)
        if where is not None and not self._phase1_under_way(where):
            assert where.proxies is not None
            # the tunnel's own request for a pair: packets that find none wait on it
            self.sa.flow_counters.setdefault(
                (tunnel, where.map_name, where.seq, where.proxies), SaCounters()
            ).asked = True
            self._negotiate(where)
        if plane is not None and plane.config(tunnel).mode == IPSEC:
            self._retries[tunnel] = self.clock.call_later(VTI_RETRY, self._attempt, tunnel)

    def _phase1_under_way(self, where: MapEntry) -> bool:
        """Whether a phase 1 (an IKE SA, for an IKEv2 profile) with the entry's peer is
        being negotiated (by either side)."""
        if where.entry.ikev2_profile is not None and self.ike.v2 is not None:
            return self.ike.v2.negotiating(where.local or 0, int(where.entry.peers[0]))
        engine = self.ike.engines.get(where.local or 0)
        if engine is None:
            return False
        state = engine.active_sa_state(int(where.entry.peers[0]), self.clock.now)
        return state is not None and state.state != "QM_IDLE"

    def _negotiate(self, where: MapEntry) -> None:
        assert where.local is not None and where.proxies is not None
        self.ike.start(where, where.local, int(where.entry.peers[0]), where.proxies)

    def plaintext_mtu(self, tunnel: str) -> int | None:
        """The current pair's plaintext MTU, else what the profile's transform set gives."""
        bundles = self._by_tunnel.get(tunnel)
        if bundles:
            return bundles[-1].plaintext_mtu
        if not self.protects(tunnel):
            return None
        where = self.entry(tunnel)
        if where is None:
            return PATH_MTU
        policy = self.spd.policy(where.entry)
        if policy is None:
            return PATH_MTU
        try:
            return transform_set_mtu(policy.transform_sets[0].words)
        except KeyError:
            return PATH_MTU

    def send(self, tunnel: str, datagram: bytes) -> None:
        """A VTI's datagram into its SA (none yet: IKE is started, the datagram dropped)."""
        self._protect(tunnel, datagram)

    def _protect(self, tunnel: str, datagram: bytes) -> None:
        where = self.entry(tunnel)
        if where is None:
            return
        bundles = self._by_tunnel.get(tunnel)
        if not bundles:
            assert where.proxies is not None
            self.sa.flow_counters.setdefault(
                (tunnel, where.map_name, where.seq, where.proxies), SaCounters()
            ).dropped_for_want_of_sa()
            if not self._phase1_under_way(where):
                self._negotiate(where)
            return
        self.datapath.protect(bundles[-1], datagram)

    def output(self, interface: str, datagram: bytes) -> bytes | None:
        """The output hook: GRE between a protected tunnel's endpoints leaves encrypted (a
        tunnel whose profile does not exist is not protected: its GRE leaves in clear)."""
        plane = self.plane
        if (plane is None or len(datagram) < 24 or datagram[9] != IpProtocol.GRE
                or self.spd.sending_own):
            return datagram
        src = int.from_bytes(datagram[12:16], "big")
        dst = int.from_bytes(datagram[16:20], "big")
        for (local, remote, _), tunnel in plane.gre_endpoints().items():
            if (local, remote) == (src, dst) and self.protects(tunnel):
                self._protect(tunnel, datagram)
                return None
        return datagram

    def received_in_clear(self, tunnel: str, packet: Ipv4Packet) -> None:
        """The tunnel plane dropped clear GRE for a protected tunnel: IOS's tunnel crypto
        map (``permit gre host SOURCE host DESTINATION``) refused it, and says so."""
        self.datapath.not_ipsec.packet(packet.dst, packet.src, packet.protocol)

    def claim(self, bundle: SaBundle, inner: bytes) -> bool:
        """The data path's ``claim``: what a tunnel's pair decrypted goes to the tunnel."""
        tunnel = self.tunnel_of_bundle(bundle)
        plane = self.plane
        if tunnel is None or plane is None:
            return False
        plane.receive_protected(tunnel, inner)
        return True

    # ------------------------------------------------------------ SAs and show commands

    def _sad_changed(self) -> None:
        """The SAD changed: which tunnel each of the tunnel interfaces' pairs protects (only
        those: a crypto map's thousands of pairs are not looked at for each one installed)."""
        by_tunnel: dict[str, list[SaBundle]] = {}
        sad = self.sa.sad
        for name in sad.interfaces():
            t = interface_type(name)
            if t is None or t.name != "Tunnel":
                continue
            for bundle in sad.on_interface(name):
                tunnel = self.tunnel_of_bundle(bundle)
                if tunnel is not None:
                    by_tunnel.setdefault(tunnel, []).append(bundle)
        before = {t for t, b in self._by_tunnel.items() if b}
        self._by_tunnel = by_tunnel
        plane = self.plane
        if plane is None:
            return
        if before != {t for t, b in by_tunnel.items() if b}:
            plane.evaluate()
        for tunnel in before - set(by_tunnel):  # a VTI that lost its SA negotiates again
            rt = plane.runtime.get(tunnel)
            if rt is not None and rt.ready and tunnel not in self._retries:
                self._retries[tunnel] = self.clock.call_soon(self._attempt, tunnel)

    def _protects_any(self, _interface: str) -> bool:
        """Whether any tunnel is protected: its GRE may leave by any interface."""
        return any(is_tunnel(name) and self.protects(name)
                   for name in self.router.config.interfaces)

    def _router_event(self, event: str, detail: str) -> None:
        """A changed crypto configuration (a profile, a transform set, a key) is tried at
        once by the tunnels still waiting for an SA; a reload forgets the attempts."""
        plane = self.plane
        if event == "config" and detail == "crypto" and plane is not None:
            for tunnel, rt in plane.runtime.items():
                if rt.ready and not self.sa_up(tunnel):
                    self.tunnel_ready(tunnel, True)
        if event == "reboot":
            for handle in self._retries.values():
                handle.cancel()
            self._retries.clear()
            self._by_tunnel.clear()

    def flows(self) -> list[FlowView]:
        """``show crypto ipsec sa`` and ``show crypto session`` of the protected tunnels."""
        plane = self.plane
        counters = self.sa.flow_counters
        views = []
        for where in self.entries():
            assert where.local is not None and where.proxies is not None
            key = (where.interface, where.map_name, where.seq, where.proxies)
            bundles = tuple(b for b in self._by_tunnel.get(where.interface, ())
                            if b.proxies == where.proxies)
            mtu = self.plaintext_mtu(where.interface) or PATH_MTU
            views.append(FlowView(where.interface, where.map_name, where.local,
                                  int(where.entry.peers[0]), where.proxies,
                                  counters.get(key, SaCounters()), bundles, mtu=mtu,
                                  mtu_idb=plane.exit_interface(where.interface)
                                  if plane is not None else None))
        return views
