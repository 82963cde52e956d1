"""Crypto maps on the wire: the output and input hooks of one router's IP stack.

Theory of operation
-------------------
* Outbound (an output hook, after NAT): a datagram leaving an interface that has a crypto
  map is checked against the map's entries in sequence order. The first entry whose ACL
  *permits* it protects it (a ``deny`` only means "not this entry"). With an SA pair for the
  peer whose proxy identities cover the packet, the packet is encapsulated in ESP and/or AH
  (tunnel mode, outer addresses = the interface and the peer; ESP in UDP 4500 after a NAT-T
  float) and routed again; without one, IKE is started and the packet dropped, as IOS drops
  it: the first ping over a new tunnel is ``.!!!!``. A packet larger than the pair's
  plaintext MTU is fragmented first, or refused with ICMP 3/4 when DF is set.
* Inbound (an input hook, before NAT): ESP/AH for one of our addresses is looked up by SPI,
  checked against the replay window before its ICV (advanced only after), decrypted, checked
  against the pair's proxy identities, and the inner packet continues as if it had arrived
  on the interface. Replays and bad ICVs are dropped, counted and logged as IOS logs them;
  unknown SPIs go to :mod:`iosim.ipsec.invalid_spi`; cleartext the map says must arrive
  encrypted is dropped, except IKE (UDP 500/4500) addressed to this router, and reported
  with ``%CRYPTO-4-RECVD_PKT_NOT_IPSEC`` (:mod:`iosim.ipsec.not_ipsec`, which the tunnels'
  clear GRE shares).
* What the crypto itself sends (ESP/AH it made, IKE, NAT keepalives) is never looked up in
  the map again (``Spd.send_own``), so an ACL that permits all IP between the peers
  themselves (transport mode) protects their other traffic and leaves IKE and ESP alone.
* A pair of a protected tunnel is the tunnel's: what it decrypts goes to ``claim`` (the
  tunnel protection), not back into the stack on the physical interface; the tunnel
  protection encrypts with :meth:`CryptoDataPath.protect`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from iosim.ike.main_mode import IKE_PORT
from iosim.ipsec import ah
from iosim.ipsec.crypto_debug import CryptoDebug
from iosim.ipsec.esp import (
    AuthenticationError,
    IpsecError,
    ReplayError,
    UnknownSpiError,
    decapsulate,
    rewrite_ipv4_header,
    transport_encapsulate,
    tunnel_encapsulate,
)
from iosim.ipsec.ike_glue import NON_ESP_MARKER, IkeGlue
from iosim.ipsec.invalid_spi import InvalidSpiResponder
from iosim.ipsec.not_ipsec import NotIpsecLog
from iosim.ipsec.sa_lifecycle import NAT_T_PORT, SaLifecycle
from iosim.ipsec.sad import OneWaySa, SaBundle, SaCounters, covers
from iosim.ipsec.spd import Spd, proxies_of
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

if TYPE_CHECKING:
    from iosim.clock import VirtualClock
    from iosim.router import Router

__all__ = ["CryptoDataPath"]

NAT_T_BYTES = NAT_T_PORT.to_bytes(2, "big")


class CryptoDataPath:
    """ESP/AH in and out of one router's interfaces (see the module docstring)."""

    def __init__(self, router: Router, clock: VirtualClock, rand: Callable[[int], bytes],
                 spd: Spd, lifecycle: SaLifecycle, ike: IkeGlue, debug: CryptoDebug) -> None:
        assert router.stack is not None
        self.router = router
        self.stack = router.stack
        self.clock = clock
        self.rand = rand
        self.spd = spd
        self.sa = lifecycle
        self.ike = ike
        self.debug = debug
        self.invalid_spi = InvalidSpiResponder(router, clock, ike)
        self.not_ipsec = NotIpsecLog(router, clock)
        # takes what a tunnel's pair decrypted (True), or leaves it to the stack (False)
        self.claim: Callable[[SaBundle, bytes], bool] | None = None

    def reset(self) -> None:
        """A reload forgets which INVALID-SPI notifies went out, and when cleartext was
        last reported."""
        self.invalid_spi.reset()
        self.not_ipsec.reset()

    def output(self, interface: str, datagram: bytes) -> bytes | None:
        """The output hook: protect what a crypto map entry permits (or start IKE for it)."""
        entries = self.spd.entries(interface)
        if not entries or self.spd.sending_own:
            return datagram
        try:
            packet = pull_ipv4(datagram)
        except PacketError:
            return datagram
        flow = flow_of(packet)
        local = self.spd.local_address(interface)
        acls = self.router.config.acls
        for where in entries:
            entry = where.entry
            acl = acls.get(entry.match_acl) if entry.match_acl else None
            if where.dynamic:
                # a dynamic entry protects what its peers negotiated, and never starts IKE:
                # traffic its ACL permits but no SA covers is dropped
                bundle = self.sa.sad.outbound_for(None, flow.src, flow.dst, flow.protocol,
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
            bundle = self.sa.sad.outbound_for(peer, flow.src, flow.dst, flow.protocol,
                                              flow.sport, flow.dport)
            if bundle is None:
                proxies = proxies_of(ace)
                assert proxies is not None
                counters = self.sa.flow_counters.setdefault(
                    (where.interface, where.map_name, where.seq, proxies), SaCounters())
                counters.dropped_for_want_of_sa()
                self.ike.start(where, local, peer, proxies)
                return None  # dropped while IKE negotiates, as on IOS
            self._protect(bundle, packet, datagram)
            return None
        return datagram

    def protect(self, bundle: SaBundle, datagram: bytes) -> None:
        """Encrypt ``datagram`` into ``bundle`` and send it (a protected tunnel's traffic)."""
        try:
            packet = pull_ipv4(datagram)
        except PacketError:
            bundle.counters.send_errors += 1
            return
        self._protect(bundle, packet, datagram)

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
        out.packets += 1
        if bundle.authenticated:
            bundle.counters.digest += 1
        bundle.last_out = self.clock.now
        self.ike.note_traffic(bundle, False)
        self.spd.send_own(self.stack.route_out, outer, bundle.peer)
        self.sa.count_octets(bundle, out, len(inner))

    def input(self, interface: str, datagram: bytes) -> bytes | None:
        """The input hook: open ESP/AH for us; drop cleartext that should have been."""
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
        bundle = self.sa.sad.by_spi.get(spi)
        if bundle is None and esp_at != ihl and self._nat_interface(interface):
            return datagram  # UDP 4500 for a NAT to pass on, not ours to decrypt
        src = int.from_bytes(datagram[12:16], "big")
        if bundle is None:
            self.invalid_spi.packet(spi, dst, src, interface,
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
        inb.packets += 1
        if bundle.authenticated:
            bundle.counters.verify += 1
        self.ike.note_traffic(bundle, True)
        self.sa.count_octets(bundle, inb, len(inner))
        if self.claim is not None and self.claim(bundle, inner):
            return None
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
        """Cleartext that the crypto map says must arrive encrypted is dropped and reported,
        as IOS does: the message names the packet as it came (its destination, its source,
        its IP protocol), while the ACL reads it as the mirror image of our traffic."""
        entries = self.spd.entries(interface)
        if not entries:
            return datagram
        try:
            packet = pull_ipv4(datagram)
        except PacketError:
            return datagram
        flow = mirrored(flow_of(packet))
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
                self.not_ipsec.packet(packet.dst, packet.src, packet.protocol)
                return None
        return datagram
