"""``debug crypto isakmp|ipsec``: the lines a router prints while its crypto works.

Theory of operation
-------------------
``CryptoDebug`` turns what the crypto plane does into IOS's debug text, and nothing else: it
changes no state. Each line is printed only while its flag is on (``isakmp`` or ``ipsec`` in
``router.debug_flags``). The IKE glue hands it every engine event (:meth:`CryptoDebug.event`)
in the order the engine emitted them, before acting on it, so IOS's order holds: what a
message says, then the state change, the packet sent, the next state. Most events are worded
by :mod:`iosim.ike.ios_debug` (pure tables); the rest here, with what only the router knows:
the ISAKMP profiles that match a peer, the conn-id of the SA a message went over, the crypto
map and interface an SA pair belongs to.

``debug crypto ipsec`` speaks for the IPsec side: the SA request that starts IKE, the
validation of a peer's proposal against the crypto map (``Crypto mapdb : proxy_match``), the
IPsec SAs created while IKE waits for the install (``IPSEC(create_sa)``), and the outbound SA
enabled when the responder's quick mode ends.

Conn-ids come from the engines themselves (``IkeEngine.active_sa_state``): a message to or
from a peer is printed with the conn-id of the newest ACTIVE ISAKMP SA with it, 0 before
there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from iosim.config.crypto_model import crypto_of
from iosim.ike.engine import (
    DpdReceived,
    DuplicateReceived,
    IkeEngine,
    InitialContact,
    IpsecSaPair,
    IsakmpSaState,
    PeerDead,
    Phase1Failed,
    Phase2Failed,
    Phase2Offer,
    ProxyIdentity,
    Retransmitted,
)
from iosim.ike.events import IdentityPayload, Note, NoteKind
from iosim.ike.ios_debug import QM_IDLE, peer_struct_text, render, signed_message_id
from iosim.ike.main_mode import IKE_PORT, NAT_T_PORT, PolicyChecked, describe_transform
from iosim.ike.quick_mode_exchange import QuickModeStarted
from iosim.ipsec.sad import OneWaySa, SaBundle
from iosim.net.packets import format_ip

if TYPE_CHECKING:
    from iosim.clock import VirtualClock
    from iosim.router import Router

__all__ = ["CryptoDebug", "signed_message_id"]

_DIED = "retransmission limit reached in "
_REFUSED = "atts are not acceptable: "
_SYSLOG = "IKMP_BAD_MESSAGE"  # a failure the router logs as %CRYPTO-4-IKMP_BAD_MESSAGE


def _protocols(pair: IpsecSaPair, sa: OneWaySa) -> list[tuple[int, int, str]]:
    """(IP protocol, SPI, transform words) of each SA of one direction: ESP 50, AH 51."""
    out = []
    if sa.esp is not None:
        out.append((50, sa.esp.spi, " ".join(w for w in (pair.encryption, pair.integrity)
                                              if w)))
    if sa.ah is not None and pair.ah_integrity:
        out.append((51, sa.ah.spi, pair.ah_integrity))
    return out


def _proxy_match(proxies: ProxyIdentity, protocol: int) -> str:
    """IOS's crypto map lookup of a pair of proxies (its own debug message)."""
    return ("Crypto mapdb : proxy_match\n"
            f"        src addr     : {format_ip(proxies.local_net)}\n"
            f"        dst addr     : {format_ip(proxies.remote_net)}\n"
            f"        protocol     : {protocol}\n"
            f"        src port     : {proxies.local_port}\n"
            f"        dst port     : {proxies.remote_port}")


class CryptoDebug:
    """The debug lines of one router's crypto plane (see the module docstring)."""

    def __init__(self, router: Router, clock: VirtualClock,
                 engines: Mapping[int, IkeEngine]) -> None:
        self.router = router
        self.clock = clock
        self.engines = engines  # the IKE glue's engines, by local address (read only)

    def on(self, flag: str) -> bool:
        """Whether ``debug crypto <flag>`` is on."""
        return flag in self.router.debug_flags

    def say(self, flag: str, text: str) -> None:
        """Print ``text`` if ``debug crypto <flag>`` is on."""
        if flag in self.router.debug_flags:
            self.router.debug(text)

    def conn_state(self, local: int, peer: int) -> IsakmpSaState | None:
        """The ISAKMP SA with ``peer`` whose conn-id the lines print, if any."""
        engine = self.engines.get(local)
        return engine.active_sa_state(peer, self.clock.now) if engine is not None else None

    def conn_id(self, local: int, peer: int) -> int:
        state = self.conn_state(local, peer)
        return state.conn_id if state is not None else 0

    def _profiles(self, peer: int) -> tuple[str, ...]:
        """The names of the ISAKMP profiles that match ``peer``."""
        return tuple(p.name for p in crypto_of(self.router.config).profiles_matching(peer))

    def event(self, local: int, event: object) -> None:
        """The lines IOS prints for one engine event (before the router acts on it)."""
        if "isakmp" not in self.router.debug_flags:
            return
        handler = _DEBUG_BY_EVENT.get(type(event))
        if handler is not None:
            handler(self, local, event)
            return
        listed = ((isinstance(event, Note) and event.kind == NoteKind.PSK_LOCAL)
                  or (isinstance(event, IdentityPayload) and not event.sent))
        peer = getattr(event, "peer", 0)
        for text in render(event, self._profiles(peer) if listed else ()) or ():
            self.router.debug(text)

    # ------------------------------------------------------------ ISAKMP messages

    def packet(self, local: int, peer: int, data: bytes, sport: int = IKE_PORT,
               dport: int = IKE_PORT) -> None:
        """``received packet from`` with the role and state of the SA the message belongs
        to (by its cookies, before it is processed): another SA with the same peer, such
        as one of ours still waiting for an answer, is not the one named."""
        if "isakmp" not in self.router.debug_flags:
            return
        engine = self.engines.get(local)
        st = engine.message_sa_state(peer, data, self.clock.now) if engine is not None else None
        conn = st.conn_id if st is not None else 0
        if st is None:  # a first message from the peer
            role, state = "N", "NEW SA"
        else:
            role = "I" if st.initiator else "R"
            state = QM_IDLE if st.state == "QM_IDLE" else st.state
        self.router.debug(f"ISAKMP (0:{conn}): received packet from {format_ip(peer)} "
                          f"dport {dport} sport {sport} Global ({role}) {state}")

    def _phase1_failed(self, local: int, event: object) -> None:
        assert isinstance(event, Phase1Failed)
        if event.reason.startswith(_DIED):
            role = "I" if event.initiator else "R"
            self.router.debug(f'ISAKMP:({event.conn_id}):deleting SA reason "Death by '
                              f'retransmission P1" state ({role}) '
                              f"{event.reason[len(_DIED):]} (peer {format_ip(event.peer)})")
        elif event.reason.startswith(_REFUSED):  # no policy accepted any offered transform
            self.router.debug("ISAKMP:(0):no offers accepted!")
            self.router.debug(f"ISAKMP:(0): {event.reason[len(_REFUSED):]}")
        elif not event.reason.startswith(_SYSLOG):  # that one is said by its syslog message
            self.router.debug(f"ISAKMP:(0):{event.reason}")

    def _quick_mode_started(self, local: int, event: object) -> None:
        assert isinstance(event, QuickModeStarted)
        self.router.debug(f"ISAKMP:({event.conn_id}):beginning Quick Mode exchange, "
                          f"M-ID of {signed_message_id(event.message_id)}")

    def _retransmitted(self, local: int, event: object) -> None:
        assert isinstance(event, Retransmitted)
        self.router.debug(f"ISAKMP:({event.conn_id}): retransmitting phase "
                          f"{event.phase} {event.state}...")
        self.router.debug(f"ISAKMP (0:{event.conn_id}): incrementing error counter on "
                          f"sa, attempt {event.attempt} of 5: retransmit phase "
                          f"{event.phase}")

    def _duplicate(self, local: int, event: object) -> None:
        assert isinstance(event, DuplicateReceived)
        self.router.debug(f"ISAKMP (0:{event.conn_id}): phase 1 packet is a duplicate "
                          "of a previous packet.")

    def _initial_contact(self, local: int, event: object) -> None:
        """INITIAL-CONTACT honoured: IOS looks for the peer's old SAs and brings them down."""
        assert isinstance(event, InitialContact)
        conn, me, peer = event.conn_id, format_ip(local), format_ip(event.peer)
        state = self.conn_state(local, event.peer)
        port = NAT_T_PORT if state is not None and state.nat_t else IKE_PORT
        self.router.debug(f"ISAKMP:({conn}):Trying to find existing peer {me}/{peer}/{port}/")
        self.router.debug(f"ISAKMP:({conn}):SA authentication status:\tauthenticated")
        self.router.debug(f"ISAKMP:({conn}):Process initial contact,\n"
                          f"bring down existing phase 1 and 2 SA's with local {me} remote "
                          f"{peer} remote port {port}")

    def _peer_dead(self, local: int, event: object) -> None:
        assert isinstance(event, PeerDead)
        self.router.debug(f"ISAKMP:({event.conn_id}):peer {format_ip(event.peer)} "
                          "not responding!")
        self.router.debug(f"ISAKMP:({event.conn_id}):DPD: peer "
                          f"{format_ip(event.peer)} is dead, deleting its SAs")

    def _policy_check(self, local: int, event: object) -> None:
        """IOS's walk over its policies."""
        assert isinstance(event, PolicyChecked)
        debug = self.router.debug
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

    def _phase2_failed(self, local: int, event: object) -> None:
        """Our refusal of the peer's proposal (its NOTIFY is worded as it goes out); a
        refusal from the peer was said by its NOTIFY's processing."""
        assert isinstance(event, Phase2Failed)
        if event.reason.startswith("NO_PROPOSAL_CHOSEN from peer"):
            return
        conn = self.conn_id(local, event.peer)
        if event.reason.startswith("NO_PROPOSAL_CHOSEN"):  # we refused the peer's offer
            self.router.debug(f"ISAKMP:({conn}): phase 2 SA policy not acceptable! "
                              f"(local {format_ip(local)} remote {format_ip(event.peer)})")
        else:
            self.router.debug(f"ISAKMP:({conn}):phase 2 with {format_ip(event.peer)} "
                              f"failed: {event.reason}")

    def _dpd_received(self, local: int, event: object) -> None:
        assert isinstance(event, DpdReceived)
        kind = "R_U_THERE_ACK" if event.ack else "R_U_THERE"
        self.router.debug(f"ISAKMP:({event.conn_id}):DPD/{kind} received from peer "
                          f"{format_ip(event.peer)}, sequence 0x{event.seq:X}")

    # ------------------------------------------------------------ IPsec

    def proposal(self, what: str, direction: str, local: int, peer: int,
                 proxies: ProxyIdentity, offer: Phase2Offer, port: int) -> None:
        """``debug crypto ipsec``'s IPSEC(sa_request) / IPSEC(validate_proposal_request); a
        proposal to validate is then looked up in the crypto map (``proxy_match``)."""
        if "ipsec" not in self.router.debug_flags:
            return
        proto = proxies.protocol or 256
        inbound = direction == "INBOUND"
        for words in offer.transform_sets[:1] if inbound else offer.transform_sets:
            protocol = "AH" if all(w.startswith("ah-") for w in words) else "ESP"
            bits = next((w.split()[1] for w in words if w.startswith("esp-") and " " in w),
                        "128" if any(w.split()[0] in ("esp-aes", "esp-gcm", "esp-gmac")
                                     for w in words) else "0")
            life = (f"{offer.lifetime_seconds}s and {offer.lifetime_kilobytes}kb"
                    if direction == "OUTBOUND" else "0s and 0kb")
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
                f"    spi= 0x0(0), conn_id= 0, keysize= {bits}, flags= 0x0")
            if inbound:
                self.router.debug(_proxy_match(proxies, proxies.protocol))

    def created(self, bundle: SaBundle, replaces: bool) -> None:
        """A pair's IPsec SAs created while IKE awaits the install: IPsec finds the map
        entry (``replaces``: an outbound SA with the peer already exists), creates each SA,
        inbound first; IKE hears back that they are installed."""
        pair, p = bundle.pair, bundle.proxies
        proto = p.protocol or 256
        if "ipsec" in self.router.debug_flags:
            debug = self.router.debug
            debug("IPSEC(key_engine): got a queue event with 1 KMI message(s)")
            debug(_proxy_match(p, proto))
            debug(f"IPSEC(crypto_ipsec_create_ipsec_sas): Map found {bundle.map_name}, "
                  f"{bundle.map_seq}")
            engine = self.engines.get(bundle.local)
            struct = engine.peer_struct(bundle.peer) if engine is not None else None
            if not replaces and struct is not None:
                debug("IPSEC(get_old_outbound_sa_for_peer): No outbound SA found for peer "
                      f"{peer_struct_text(struct)}")
            for dest, sa in ((bundle.local, bundle.inbound), (bundle.peer, bundle.outbound)):
                for number, spi, trans in _protocols(pair, sa):
                    self._sa_created(bundle, dest, sa, number, spi, trans, proto)
        conn = self.conn_id(bundle.local, bundle.peer)
        self.say("isakmp", f"ISAKMP:({conn}):Received IPSec Install callback... proceeding "
                           "with the negotiation")
        self.say("isakmp", f"ISAKMP:({conn}):Successfully installed IPSEC SA "
                           f"(SPI:0x{pair.spi_in:X}) on {bundle.interface}")

    def outbound_enabled(self) -> None:
        """The responder's quick mode ended: IKE tells IPsec to use the outbound SA."""
        self.say("ipsec", "IPSEC(key_engine): got a queue event with 1 KMI message(s)")
        self.say("ipsec", "IPSEC(key_engine_enable_outbound): rec'd enable notify from ISAKMP")

    def _sa_created(self, bundle: SaBundle, dest: int, sa: OneWaySa, number: int, spi: int,
                    trans: str, proto: int) -> None:
        p = bundle.proxies
        self.router.debug(
            "IPSEC(create_sa): sa created,\n"
            f"  (sa) sa_dest= {format_ip(dest)}, sa_proto= {number}, \n"
            f"    sa_spi= 0x{spi:X}({spi}), \n"
            f"    sa_trans= {trans} , sa_conn_id= {sa.ah_id if number == 51 else sa.conn_id}\n"
            f"    sa_lifetime(k/sec)= ({sa.lifetime_kilobytes}/{sa.lifetime_seconds}),\n"
            f"  (identity) local= {format_ip(bundle.local)}:0, "
            f"remote= {format_ip(bundle.peer)}:0,\n"
            f"    local_proxy= {format_ip(p.local_net)}/{format_ip(p.local_mask)}/"
            f"{proto}/{p.local_port},\n"
            f"    remote_proxy= {format_ip(p.remote_net)}/{format_ip(p.remote_mask)}/"
            f"{proto}/{p.remote_port}")


#: The lines of the events that print more than their own rendering, by event type (one
#: table for every router, not bound methods in each).
_DEBUG_BY_EVENT: dict[type, Callable[[CryptoDebug, int, object], None]] = {
    Phase1Failed: CryptoDebug._phase1_failed,
    PolicyChecked: CryptoDebug._policy_check,
    QuickModeStarted: CryptoDebug._quick_mode_started,
    Retransmitted: CryptoDebug._retransmitted,
    DuplicateReceived: CryptoDebug._duplicate,
    Phase2Failed: CryptoDebug._phase2_failed,
    InitialContact: CryptoDebug._initial_contact,
    PeerDead: CryptoDebug._peer_dead,
    DpdReceived: CryptoDebug._dpd_received,
}
