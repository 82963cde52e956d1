"""Point-to-point tunnel interfaces of one router: GRE (RFC 2784/2890) and the IPsec VTI.

Theory of operation
-------------------
A ``TunnelPlane`` is the link layer of a router's ``TunnelN`` interfaces. It plugs into the
router's IP stack in three places: what is routed out of a tunnel comes to :meth:`output`
(the stack's ``virtual_output``); GRE addressed to the router comes to :meth:`receive`
(``protocol_handlers[47]``); what it decapsulates goes back into the stack with
``receive_ip`` as if it had arrived on the tunnel, so routing, ACLs, NAT, ping and a routing
protocol see the tunnel as any other interface.

**Line protocol**, decided as IOS decides it for a point-to-point tunnel (Cisco's "GRE Tunnel
Interface States and What Impacts Them") and kept as state, because the routing table depends
on it and it on the routing table:

* the tunnel is not shut down; its source is an interface that is up/up with an address, or
  an address of such an interface; it has a destination, and a route to it that is not
  through the tunnel itself;
* with ``keepalive P R``, the far end answered one of the last R keepalives;
* a VTI (``tunnel mode ipsec ipv4``) also needs its IPsec SA pair: it comes up when IKE has
  built one and goes down when the pair is gone.

:meth:`evaluate` runs after every change of addresses, routes or interfaces (the router's
``network_watchers``): it recomputes every tunnel against the routing table, tells the router
of each change (``%LINEPROTO-5-UPDOWN``, listeners, routes again) and repeats until nothing
changes. A destination routed through the tunnel itself is recursive routing: the tunnel
logs ``%TUN-5-RECURDOWN`` and stays down for :data:`RECURSION_HOLDDOWN` seconds, then tries
again -- so a static route that sends the destination into the tunnel makes it flap, as on
IOS.

**GRE keepalives**, as IOS sends them: every P seconds the router sends the far end a GRE
packet whose payload is an IPv4 packet from the far end back to itself, carrying a GRE
header of protocol type 0. The far end decapsulates it and routes the inner packet back --
it needs no keepalive of its own, only a matching tunnel that is not shut down -- and that
returning packet resets the count of unanswered keepalives.

**MTU**: the tunnel's IP MTU is ``ip mtu``, else its transport MTU: the path MTU less the GRE
and outer IPv4 headers (24 octets, 28 with a key), and with tunnel protection less what its
IPsec SA adds (the SA's plaintext MTU). A larger datagram is fragmented before
encapsulation, or refused with ICMP 3/4 when DF is set.

**Protection** (``tunnel protection ipsec profile``) is the crypto plane's
(:mod:`iosim.ipsec.tunnel_protection`), which registers itself as the plane's
:class:`Protection`: GRE leaving the router between a protected tunnel's endpoints is
encrypted on its way out, and what its SA decrypts comes back through
:meth:`receive_protected`; a VTI hands every datagram to :meth:`Protection.send`. GRE
between a protected tunnel's endpoints that arrives in clear is dropped (the tunnel takes
only what its SA decrypted) and reported to :meth:`Protection.received_in_clear`, which logs
``%CRYPTO-4-RECVD_PKT_NOT_IPSEC`` as IOS does. A tunnel is protected only while the
profile it names exists (:meth:`Protection.protects`): one naming a missing profile is plain
GRE, in clear both ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from iosim.config.tunnel_model import (
    GRE,
    IPSEC,
    TunnelConfig,
    ip_mtu_setting,
    is_tunnel,
    keepalive_of,
    tunnel_of,
)
from iosim.deadlines import deadline_after
from iosim.net.fragments import ETHERNET_MTU, fragment
from iosim.net.gre import GRE_KEEPALIVE, PROTOCOL_IPV4, GrePacket, pull_gre, push_gre
from iosim.net.packets import (
    IcmpDestinationUnreachable,
    IpProtocol,
    Ipv4Packet,
    PacketError,
    UnreachableCode,
    format_ip,
    pull_ipv4,
    push_ipv4,
    quote_datagram,
)
from iosim.net.routing import RoutingTable

if TYPE_CHECKING:
    from iosim.clock import TimerHandle, VirtualClock
    from iosim.net.stack import IpStack
    from iosim.router import Router

__all__ = ["RECURSION_HOLDDOWN", "Protection", "TunnelPlane", "TunnelRuntime",
           "install_tunnels"]

#: Seconds a tunnel stays down after recursive routing was found (IOS: "temporarily
#: disabled"; Cisco documents "a few" and an unfixed misconfiguration oscillates).
RECURSION_HOLDDOWN = 60.0
TUNNEL_TTL = 255
GRE_OVERHEAD = 24  # outer IPv4 header and the basic GRE header
GRE_KEY_OCTETS = 4
VTI_OVERHEAD = 20  # the outer IPv4 header of ESP tunnel mode, before ESP's own
TUNNEL_INTERFACE_MTU = 17916  # "MTU 17916 bytes" of IOS 15's GRE tunnel interface
MAX_ROUNDS = 16  # evaluation rounds before giving up on a routing table that keeps changing

#: Why a tunnel's line protocol is down, as ``show interfaces`` words it.
TRANSPORT_DOWN = "transport reg down"
KEEPALIVE_DOWN = "keepalive down"


class Protection(Protocol):
    """What the tunnels ask of the crypto plane (``tunnel protection ipsec profile``)."""

    def protects(self, tunnel: str) -> bool:
        """Whether the protection ``tunnel`` names is in force (its IPsec profile exists)."""
        ...

    def sa_up(self, tunnel: str) -> bool:
        """Whether an IPsec SA pair protects ``tunnel`` now."""
        ...

    def tunnel_ready(self, tunnel: str, ready: bool) -> None:
        """The tunnel's transport came up (``ready``: start IKE) or went down."""
        ...

    def send(self, tunnel: str, datagram: bytes) -> None:
        """A VTI's datagram: encrypt it into the tunnel's SA (or start IKE and drop it)."""
        ...

    def plaintext_mtu(self, tunnel: str) -> int | None:
        """The largest packet the tunnel's SA carries on a 1500-octet path (None: the
        tunnel is not protected)."""
        ...

    def received_in_clear(self, tunnel: str, packet: Ipv4Packet) -> None:
        """GRE for ``tunnel``, which is protected, arrived unprotected (already dropped)."""
        ...


@dataclass
class TunnelRuntime:
    """What one tunnel knows at run time (``show interfaces`` reads it)."""

    up: bool = False  # line protocol
    reason: str = TRANSPORT_DOWN  # why it is down
    ready: bool = False  # its transport is up: source, destination, route
    missed: int = 0  # keepalives sent since the far end last answered one
    keepalive_down: bool = False
    keepalive_period: int | None = None  # what the armed keepalive timer was armed with
    keepalive_timer: TimerHandle | None = None
    disabled_until: float | None = None  # recursive routing: down until then
    holddown_timer: TimerHandle | None = None
    drops: int = field(default=0)  # datagrams it could not send ("Total output drops")


def install_tunnels(router: Router, clock: VirtualClock) -> TunnelPlane:
    """Give ``router`` (on a lab's network) its tunnels."""
    plane = TunnelPlane(router, clock)
    router.tunnel_plane = plane
    return plane


class TunnelPlane:
    """The tunnel interfaces of one router (see the module docstring)."""

    def __init__(self, router: Router, clock: VirtualClock) -> None:
        assert router.stack is not None
        self.router = router
        self.stack: IpStack = router.stack
        self.clock = clock
        self.runtime: dict[str, TunnelRuntime] = {}
        self.protection: Protection | None = None
        self.unmatched = 0  # GRE for us that no tunnel takes
        self.malformed = 0  # GRE that does not decode
        self.not_protected = 0  # clear GRE for a tunnel that must be protected
        self._endpoints: dict[tuple[int, int, int | None], str] = {}
        self._evaluating = False
        self._again = False
        # tunnels sending now (a dict as a set: an empty set is 216 bytes, a dict 64)
        self._sending: dict[str, None] = {}
        stack = self.stack
        stack.virtual_output = self.output
        stack.protocol_handlers[IpProtocol.GRE] = self.receive
        stack.interface_mtu = self.interface_mtu
        router.virtual_lines = self.line_up
        router.network_watchers.append(self.evaluate)
        router.listeners.append(self._router_event)
        self.evaluate()

    # ------------------------------------------------------------ configuration views

    def tunnels(self) -> list[str]:
        """The tunnel interfaces configured, in IOS order."""
        return [i.name for i in self.router.config.sorted_interfaces() if is_tunnel(i.name)]

    def config(self, name: str) -> TunnelConfig:
        intf = self.router.config.interfaces.get(name)
        return tunnel_of(intf) if intf is not None else TunnelConfig()

    def protected(self, name: str) -> bool:
        """Whether ``name``'s tunnel protection is in force (without a crypto plane to ask,
        whether it is configured)."""
        if self.config(name).protection is None:
            return False
        return self.protection is None or self.protection.protects(name)

    def line_up(self, name: str) -> bool | None:
        """The router's ``virtual_lines``: a tunnel's line protocol."""
        rt = self.runtime.get(name)
        return rt.up if rt is not None else (False if is_tunnel(name) else None)

    def source_address(self, name: str) -> int | None:
        """The tunnel's source address, if its source is usable: an interface up/up with an
        address, or one of the addresses of such an interface."""
        t = self.config(name)
        router = self.router
        if t.source_interface is not None:
            if not router.interface_is_up(t.source_interface):
                return None
            return self.stack.source_for(t.source_interface)
        if t.source is None:
            return None
        address = int(t.source)  # type: ignore[arg-type]
        owner = self.stack.owns(address)
        return address if owner is not None and owner != name else None

    def source_text(self, name: str) -> str:
        """``Tunnel source ...`` as ``show interfaces`` words it."""
        t = self.config(name)
        if t.source_interface is not None:
            address = self.stack.source_for(t.source_interface)
            shown = "UNKNOWN" if address is None else format_ip(address)
            return f"{shown} ({t.source_interface})"
        return "UNKNOWN" if t.source is None else str(t.source)

    def exit_interface(self, name: str) -> str | None:
        """The interface the tunnel's packets leave by (the route to its destination)."""
        t = self.config(name)
        if t.destination is None:
            return None
        res = self.router.routing_table().resolve(int(t.destination))
        return res.interface if res is not None and not res.is_local else None

    # ------------------------------------------------------------ MTU

    def transport_mtu(self, name: str) -> int:
        """``Tunnel transport MTU``: what fits the path once encapsulated (and protected)."""
        t = self.config(name)
        path = ETHERNET_MTU
        exit_if = self.exit_interface(name)
        if exit_if is not None:
            path = self.interface_mtu(exit_if)
        protected = (self.protection.plaintext_mtu(name)
                     if self.protection is not None and self.protected(name) else None)
        if t.mode == IPSEC:
            return protected if protected is not None else path - VTI_OVERHEAD
        overhead = GRE_OVERHEAD + (GRE_KEY_OCTETS if t.key is not None else 0)
        if protected is not None:
            return min(path, protected) - overhead
        return path - overhead

    def ip_mtu(self, name: str) -> int:
        """The tunnel's IP MTU: ``ip mtu``, else its transport MTU."""
        intf = self.router.config.interfaces.get(name)
        configured = ip_mtu_setting(intf) if intf is not None else None
        return configured if configured is not None else self.transport_mtu(name)

    def interface_mtu(self, interface: str) -> int:
        """The stack's ``interface_mtu``: ``ip mtu`` of an interface, else 1500 (Ethernet)."""
        intf = self.router.config.interfaces.get(interface)
        configured = ip_mtu_setting(intf) if intf is not None else None
        return configured if configured is not None else ETHERNET_MTU

    # ------------------------------------------------------------ line protocol

    def evaluate(self) -> None:
        """Every tunnel's line protocol against the current routing table, until stable."""
        if self._evaluating:
            self._again = True
            return
        if not self.runtime and not any(is_tunnel(n) for n in self.router.config.interfaces):
            return
        self._evaluating = True
        try:
            for _ in range(MAX_ROUNDS):
                self._again = False
                names = self.tunnels()
                self._forget_removed(names)
                self._index(names)
                rib = self.router.routing_table()
                changed = [name for name in names if self._update(name, rib)]
                for name in changed:
                    self.router.line_state_changed(name)
                for name in names:
                    self._sync_keepalive(name)
                if not changed and not self._again:
                    break
        finally:
            self._evaluating = False

    def _forget_removed(self, names: list[str]) -> None:
        for name in [n for n in self.runtime if n not in names]:
            rt = self.runtime.pop(name)
            for handle in (rt.keepalive_timer, rt.holddown_timer):
                if handle is not None:
                    handle.cancel()
            if rt.ready and self.protection is not None:
                self.protection.tunnel_ready(name, False)

    def _index(self, names: list[str]) -> None:
        """The GRE tunnels by (local address, remote address, key): who takes a packet."""
        index: dict[tuple[int, int, int | None], str] = {}
        for name in names:
            t = self.config(name)
            local = self.source_address(name)
            if t.mode == GRE and local is not None and t.destination is not None:
                index.setdefault((local, int(t.destination), t.key), name)
        self._endpoints = index

    def gre_endpoints(self) -> dict[tuple[int, int, int | None], str]:
        """(local, remote, key) -> tunnel, for each GRE tunnel with a usable source."""
        return self._endpoints

    def _update(self, name: str, rib: RoutingTable) -> bool:
        """Recompute one tunnel; whether its line protocol changed."""
        rt = self.runtime.setdefault(name, TunnelRuntime())
        ready = self._transport_ready(name, rib)
        if ready != rt.ready:
            rt.ready = ready
            if self.protection is not None:
                self.protection.tunnel_ready(name, ready)
        t = self.config(name)
        up, reason = ready, "" if ready else TRANSPORT_DOWN
        if up and t.mode == IPSEC:
            up = self.protection is not None and self.protected(name) and (
                self.protection.sa_up(name))
            reason = ""  # waiting for IKE
        elif up and rt.keepalive_down:
            up, reason = False, KEEPALIVE_DOWN
        rt.reason = reason
        if up == rt.up:
            return False
        rt.up = up
        return True

    def _transport_ready(self, name: str, rib: RoutingTable) -> bool:
        """Source, destination and a route to it that does not loop through a tunnel."""
        intf = self.router.config.interfaces.get(name)
        rt = self.runtime[name]
        if intf is None or intf.shutdown:
            return False
        if rt.disabled_until is not None:
            if self.clock.now < rt.disabled_until:
                return False
            rt.disabled_until = None
        t = tunnel_of(intf)
        if t.destination is None or self.source_address(name) is None:
            return False
        res = rib.resolve(int(t.destination))
        if res is None or res.is_local:
            return False
        if self._recursive(name, res.interface, rib):
            self.disable(name)
            return False
        return True

    def _recursive(self, name: str, interface: str, rib: RoutingTable) -> bool:
        """Whether the way to ``name``'s destination (out of ``interface``) leads back into
        ``name``, directly or through other tunnels."""
        seen = {name}
        while is_tunnel(interface):
            if interface in seen:
                return True
            seen.add(interface)
            destination = self.config(interface).destination
            res = rib.resolve(int(destination)) if destination is not None else None
            if res is None or res.is_local:
                return False
            interface = res.interface
        return False

    def disable(self, name: str) -> None:
        """Recursive routing: down for :data:`RECURSION_HOLDDOWN` seconds, then again."""
        rt = self.runtime.setdefault(name, TunnelRuntime())
        if rt.disabled_until is not None and self.clock.now < rt.disabled_until:
            return
        self.router.log(f"%TUN-5-RECURDOWN: {name} temporarily disabled due to recursive "
                        "routing")
        rt.disabled_until = self.clock.now + RECURSION_HOLDDOWN
        if rt.holddown_timer is not None:
            rt.holddown_timer.cancel()
        rt.holddown_timer = self.clock.call_at(rt.disabled_until, self._holddown_over, name)

    def _holddown_over(self, name: str) -> None:
        rt = self.runtime.get(name)
        if rt is not None:
            rt.holddown_timer = None
        self.router.network_changed()

    def _router_event(self, event: str, detail: str) -> None:
        if event == "reboot":
            for rt in self.runtime.values():
                for handle in (rt.keepalive_timer, rt.holddown_timer):
                    if handle is not None:
                        handle.cancel()
            self.runtime.clear()
            self._endpoints = {}

    def attach_protection(self, protection: Protection) -> None:
        """The crypto plane protects tunnels from now on; those ready start IKE."""
        self.protection = protection
        for name, rt in self.runtime.items():
            if rt.ready:
                protection.tunnel_ready(name, True)
        self.evaluate()

    # ------------------------------------------------------------ keepalives

    def _sync_keepalive(self, name: str) -> None:
        """Arm, re-arm or stop the keepalive timer as the configuration now says."""
        rt = self.runtime[name]
        intf = self.router.config.interfaces.get(name)
        setting = keepalive_of(intf) if intf is not None and not intf.shutdown else None
        if self.config(name).mode != GRE:
            setting = None
        period = setting[0] if setting is not None else None
        if period == rt.keepalive_period and (period is None or rt.keepalive_timer is not None):
            return
        if rt.keepalive_timer is not None:
            rt.keepalive_timer.cancel()
            rt.keepalive_timer = None
        rt.keepalive_period = period
        if period is None:
            rt.missed = 0
            if rt.keepalive_down:
                rt.keepalive_down = False
                self._again = True
            return
        rt.keepalive_timer = self.clock.call_at(deadline_after(self.clock.now, period),
                                                self._keepalive_tick, name)

    def _keepalive_tick(self, name: str) -> None:
        rt = self.runtime.get(name)
        if rt is None:
            return
        rt.keepalive_timer = None
        intf = self.router.config.interfaces.get(name)
        setting = keepalive_of(intf) if intf is not None else None
        if setting is None or rt.keepalive_period is None:
            return
        period, retries = setting
        if rt.missed >= retries and not rt.keepalive_down:
            rt.keepalive_down = True
            self.evaluate()
        if self._send_keepalive(name):
            rt.missed += 1
        rt.keepalive_timer = self.clock.call_at(deadline_after(self.clock.now, period),
                                                self._keepalive_tick, name)

    def _send_keepalive(self, name: str) -> bool:
        """A keepalive to the far end: an IPv4 packet from it back to us, GRE of protocol
        type 0 inside, in the tunnel's own GRE; whether it could be sent."""
        t = self.config(name)
        local = self.source_address(name)
        if local is None or t.destination is None:
            return False
        remote = int(t.destination)
        back = push_ipv4(Ipv4Packet(identification=self.stack.next_ident(), ttl=TUNNEL_TTL,
                                    protocol=IpProtocol.GRE, src=remote, dst=local,
                                    payload=push_gre(GrePacket(GRE_KEEPALIVE, key=t.key))))
        return self._send_gre(name, t, local, back)

    def _keepalive_answered(self, name: str) -> None:
        rt = self.runtime.get(name)
        if rt is None:
            return
        rt.missed = 0
        if rt.keepalive_down:
            rt.keepalive_down = False
            self.evaluate()

    # ------------------------------------------------------------ data path out

    def output(self, interface: str, next_hop: int, datagram: bytes) -> bool:
        """The stack's ``virtual_output``: encapsulate what was routed out of a tunnel."""
        if not is_tunnel(interface):
            return False
        rt = self.runtime.get(interface)
        if rt is None or not rt.up:
            if rt is not None:
                rt.drops += 1
            return True
        try:
            packet = pull_ipv4(datagram)
        except PacketError:
            rt.drops += 1
            return True
        mtu = self.ip_mtu(interface)
        pieces = [datagram]
        if len(datagram) > mtu:
            if packet.df:  # the source learns the tunnel's MTU (ping prints "M")
                self.stack.icmp_error(datagram, packet.src, IcmpDestinationUnreachable(
                    UnreachableCode.FRAGMENTATION_NEEDED, quote_datagram(datagram), mtu))
                rt.drops += 1
                return True
            try:
                pieces = fragment(packet, mtu)
            except PacketError:
                rt.drops += 1
                return True
        t = self.config(interface)
        for piece in pieces:
            self.router.count_datagram(interface, "out", piece)
            if t.mode == IPSEC:
                if self.protection is not None:
                    self.protection.send(interface, piece)
                continue
            local = self.source_address(interface)
            if local is None or not self._send_gre(interface, t, local, piece):
                rt.drops += 1
        return True

    def _send_gre(self, name: str, t: TunnelConfig, local: int, inner: bytes) -> bool:
        """``inner`` in GRE from the tunnel's source to its destination, routed; whether it
        left. A packet that comes back into the same tunnel on its way is recursive routing."""
        if name in self._sending:
            self.disable(name)
            self.router.network_changed()
            return False
        assert t.destination is not None
        gre = push_gre(GrePacket(PROTOCOL_IPV4, inner, key=t.key))
        self._sending[name] = None
        try:
            return self.stack.send(int(t.destination), IpProtocol.GRE, gre, src=local,
                                   ttl=TUNNEL_TTL)
        finally:
            self._sending.pop(name, None)

    # ------------------------------------------------------------ data path in

    def receive(self, interface: str | None, packet: Ipv4Packet, datagram: bytes) -> None:
        """The stack's handler of IP protocol 47: GRE for one of our addresses."""
        self._take_gre(packet, None)

    def receive_protected(self, tunnel: str, inner: bytes) -> None:
        """What the IPsec SA of ``tunnel`` decrypted: GRE between its endpoints, or (a VTI)
        the datagram itself."""
        if self.config(tunnel).mode == IPSEC:
            self._deliver(tunnel, inner)
            return
        try:
            packet = pull_ipv4(inner)
        except PacketError:
            self.malformed += 1
            return
        if packet.protocol != IpProtocol.GRE:
            self.not_protected += 1
            return
        self._take_gre(packet, tunnel)

    def _take_gre(self, packet: Ipv4Packet, protected_by: str | None) -> None:
        try:
            gre = pull_gre(packet.payload)
        except PacketError:
            self.malformed += 1
            return
        name = self._endpoints.get((packet.dst, packet.src, gre.key))
        intf = self.router.config.interfaces.get(name) if name is not None else None
        if name is None or intf is None or intf.shutdown:
            self.unmatched += 1
            return
        if self.protected(name) and protected_by != name:
            self.not_protected += 1  # the tunnel takes only what its SA decrypted
            if protected_by is None and self.protection is not None:
                self.protection.received_in_clear(name, packet)
            return
        if gre.protocol_type == GRE_KEEPALIVE:
            self._keepalive_answered(name)
            return
        st = self.router.state.get(name)
        if gre.protocol_type != PROTOCOL_IPV4:
            if st is not None:
                st.counters.unknown_protocol += 1
            return
        rt = self.runtime.get(name)
        if rt is not None and rt.up:
            self._deliver(name, gre.payload)
        elif _keepalive_request(gre.payload):
            self.stack.forward(name, gre.payload)  # answered whatever our line state

    def _deliver(self, name: str, inner: bytes) -> None:
        rt = self.runtime.get(name)
        if rt is None or not rt.up:
            return
        self.router.count_datagram(name, "in", inner)
        self.stack.receive_ip(name, inner)


def _keepalive_request(inner: bytes) -> bool:
    """Whether a decapsulated datagram is a far end's GRE keepalive (GRE of protocol type 0
    inside, to be routed back to its sender)."""
    return (len(inner) >= 24 and inner[9] == IpProtocol.GRE
            and inner[(inner[0] & 0x0F) * 4 + 2:(inner[0] & 0x0F) * 4 + 4] == b"\0\0")

