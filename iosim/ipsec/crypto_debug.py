"""``debug crypto isakmp|ipsec``: the lines a router prints while its crypto works.

Theory of operation
-------------------
``CryptoDebug`` turns what the crypto plane does into IOS's debug text, and nothing else: it
changes no state except its own memory of which ISAKMP SAs already said "SA has been
authenticated". Each line is printed only while its flag is on (``isakmp`` or ``ipsec`` in
``router.debug_flags``). The IKE glue hands it every engine event (:meth:`CryptoDebug.event`)
before acting on it, so IOS's order holds: a state change is printed before the packet it
sends, the reason for deleting SAs before they go.

Conn-ids come from the engines themselves (``IkeEngine.active_sa_state``): a message to or
from a peer is printed with the conn-id of the newest ACTIVE ISAKMP SA with it, 0 before
there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from iosim.ike.engine import (
    DpdReceived,
    DpdSent,
    DuplicateReceived,
    IkeEngine,
    InitialContact,
    IpsecSaPair,
    IsakmpSaState,
    PeerDead,
    Phase1Established,
    Phase1Failed,
    Phase2Failed,
    Phase2Offer,
    ProxyIdentity,
    Retransmitted,
    StateChanged,
)
from iosim.ike.ios_debug import processed_payloads, state_input
from iosim.ike.main_mode import IKE_PORT, PolicyChecked, describe_transform
from iosim.ike.quick_mode_exchange import QuickModeStarted
from iosim.ipsec.sad import OneWaySa, SaBundle
from iosim.net.packets import format_ip

if TYPE_CHECKING:
    from iosim.clock import VirtualClock
    from iosim.router import Router

__all__ = ["CryptoDebug", "signed_message_id"]

_AUTHENTICATED_AT = frozenset({"IKE_I_MM6", "IKE_R_MM5"})  # main mode: the peer's HASH verified
_DIED = "retransmission limit reached in "
_REFUSED = "atts are not acceptable: "


def signed_message_id(message_id: int) -> int:
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


class CryptoDebug:
    """The debug lines of one router's crypto plane (see the module docstring)."""

    def __init__(self, router: Router, clock: VirtualClock,
                 engines: Mapping[int, IkeEngine]) -> None:
        self.router = router
        self.clock = clock
        self.engines = engines  # the IKE glue's engines, by local address (read only)
        self.told_authenticated: set[int] = set()  # conn-ids whose line is out
        self._by_event: dict[type, Callable[[int, object], None]] = {
            Phase1Established: self._phase1_established,
            Phase1Failed: self._phase1_failed,
            PolicyChecked: self._policy_check,
            QuickModeStarted: self._quick_mode_started,
            Retransmitted: self._retransmitted,
            DuplicateReceived: self._duplicate,
            Phase2Failed: self._phase2_failed,
            StateChanged: self._state,
            InitialContact: self._initial_contact,
            PeerDead: self._peer_dead,
            DpdSent: self._dpd,
            DpdReceived: self._dpd,
        }

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

    def event(self, local: int, event: object) -> None:
        """The lines IOS prints for one engine event (before the router acts on it)."""
        handler = self._by_event.get(type(event))
        if handler is not None:
            handler(local, event)

    # ------------------------------------------------------------ ISAKMP messages

    def packet(self, local: int, peer: int, sending: bool, port: int = IKE_PORT) -> None:
        """``sending packet to`` / ``received packet from`` with the SA's role and state."""
        if "isakmp" not in self.router.debug_flags:
            return
        st = self.conn_state(local, peer)
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

    def authenticated(self, conn_id: int, peer: int) -> None:
        self.say("isakmp", f"ISAKMP:({conn_id}):SA has been authenticated with "
                           f"{format_ip(peer)}")

    def _phase1_established(self, local: int, event: object) -> None:
        assert isinstance(event, Phase1Established)
        if event.conn_id not in self.told_authenticated:  # aggressive mode: said here
            self.authenticated(event.conn_id, event.peer)
        self.told_authenticated.discard(event.conn_id)

    def _phase1_failed(self, local: int, event: object) -> None:
        assert isinstance(event, Phase1Failed)
        if event.reason.startswith(_DIED):
            role = "I" if event.initiator else "R"
            self.say("isakmp", f'ISAKMP:({event.conn_id}):deleting SA reason "Death by '
                               f'retransmission P1" state ({role}) '
                               f"{event.reason[len(_DIED):]} (peer {format_ip(event.peer)})")
        elif event.reason.startswith(_REFUSED):  # no policy accepted any offered transform
            self.say("isakmp", "ISAKMP:(0):no offers accepted!")
            self.say("isakmp", f"ISAKMP:(0): {event.reason[len(_REFUSED):]}")
        else:
            self.say("isakmp", f"ISAKMP:(0):{event.reason}")

    def _quick_mode_started(self, local: int, event: object) -> None:
        assert isinstance(event, QuickModeStarted)
        self.say("isakmp", f"ISAKMP:({event.conn_id}):beginning Quick Mode exchange, "
                           f"M-ID of {signed_message_id(event.message_id)}")

    def _retransmitted(self, local: int, event: object) -> None:
        assert isinstance(event, Retransmitted)
        self.say("isakmp", f"ISAKMP:({event.conn_id}): retransmitting phase "
                           f"{event.phase} {event.state}...")
        self.say("isakmp", f"ISAKMP (0:{event.conn_id}): incrementing error counter on "
                           f"sa, attempt {event.attempt} of 5: retransmit phase "
                           f"{event.phase}")

    def _duplicate(self, local: int, event: object) -> None:
        assert isinstance(event, DuplicateReceived)
        self.say("isakmp", f"ISAKMP (0:{event.conn_id}): phase 1 packet is a duplicate "
                           "of a previous packet.")

    def _initial_contact(self, local: int, event: object) -> None:
        assert isinstance(event, InitialContact)
        self.say("isakmp", f"ISAKMP:({event.conn_id}):received INITIAL_CONTACT from "
                           f"{format_ip(event.peer)}: deleting its old SAs")

    def _peer_dead(self, local: int, event: object) -> None:
        assert isinstance(event, PeerDead)
        self.say("isakmp", f"ISAKMP:({event.conn_id}):peer {format_ip(event.peer)} "
                           "not responding!")
        self.say("isakmp", f"ISAKMP:({event.conn_id}):DPD: peer "
                           f"{format_ip(event.peer)} is dead, deleting its SAs")

    def _state(self, local: int, event: object) -> None:
        """IOS's lines around a state change: the payloads processed, the state machine's
        input (with the quick mode's node, signed), then Old State / New State."""
        assert isinstance(event, StateChanged)
        if "isakmp" not in self.router.debug_flags:
            if event.new in _AUTHENTICATED_AT and event.old != event.new:
                self.told_authenticated.add(event.conn_id)
            return
        debug, conn = self.router.debug, event.conn_id
        payloads = [f"ISAKMP:({conn}):processing {name} payload. message ID = 0"
                    for name in processed_payloads(event.old, event.new)]
        authenticated = event.new in _AUTHENTICATED_AT and event.old != event.new
        if authenticated:  # IOS says so as soon as the peer's HASH verified
            for line in payloads:
                debug(line)
            payloads = []
            self.authenticated(conn, event.peer)
            self.told_authenticated.add(conn)
        words = state_input(event.old, event.new)
        if words is not None:
            if event.message_id is not None:
                debug(f"ISAKMP:({conn}):Node {signed_message_id(event.message_id)}, "
                      f"Input = {words}")
            else:
                debug(f"ISAKMP:({conn}):Input = {words}")
        # IOS ends a phase-1 state line with a space and a blank line, a quick-mode one bare
        tail = "" if event.new.startswith("IKE_QM") else " \n"
        debug(f"ISAKMP:({conn}):Old State = {event.old}  New State = {event.new}{tail}")
        for line in payloads:
            debug(line)

    def _policy_check(self, local: int, event: object) -> None:
        """IOS's responder walk over its policies (debug crypto isakmp)."""
        assert isinstance(event, PolicyChecked)
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

    def _phase2_failed(self, local: int, event: object) -> None:
        assert isinstance(event, Phase2Failed)
        conn = event.conn_id or self.conn_id(local, event.peer)
        if event.reason.startswith("NO_PROPOSAL_CHOSEN from peer"):
            self._proposal_not_chosen(conn, event.message_id)
        elif event.reason.startswith("NO_PROPOSAL_CHOSEN"):  # we refused the peer's offer
            self.say("isakmp", f"ISAKMP:({conn}):phase 2 SA policy not acceptable! "
                               f"(local {format_ip(local)} remote {format_ip(event.peer)})")
            self.say("isakmp", f"ISAKMP:({conn}):Sending NOTIFY PROPOSAL_NOT_CHOSEN "
                               "protocol 3")
        else:
            self.say("isakmp", f"ISAKMP:({conn}):phase 2 with {format_ip(event.peer)} "
                               f"failed: {event.reason}")

    def _proposal_not_chosen(self, conn: int, message_id: int | None) -> None:
        """The initiator reads the responder's refusal of its quick mode (an informational
        exchange of its own), in the classic IOS 15 trace's words and order."""
        if "isakmp" not in self.router.debug_flags:
            return
        debug = self.router.debug
        if message_id is None:
            debug(f"ISAKMP:({conn}): processing NOTIFY PROPOSAL_NOT_CHOSEN protocol 3")
            return
        node = signed_message_id(message_id)
        debug(f"ISAKMP: set new node {node} to QM_IDLE      ")
        debug(f"ISAKMP:({conn}): processing HASH payload. message ID = {node}")
        debug(f"ISAKMP:({conn}): processing NOTIFY PROPOSAL_NOT_CHOSEN protocol 3")
        debug(f'ISAKMP:({conn}):deleting node {node} error FALSE reason '
              '"Informational (in) state 1"')
        debug(f"ISAKMP:({conn}):Input = IKE_MESG_FROM_PEER, IKE_INFO_NOTIFY")
        debug(f"ISAKMP:({conn}):Old State = IKE_P1_COMPLETE  New State = IKE_P1_COMPLETE \n")

    def _dpd(self, local: int, event: object) -> None:
        assert isinstance(event, DpdSent | DpdReceived)
        kind = "R_U_THERE_ACK" if event.ack else "R_U_THERE"
        if isinstance(event, DpdSent):
            self.say("isakmp", f"ISAKMP:({event.conn_id}):Sending NOTIFY DPD/{kind} "
                               "protocol 1")
        else:
            self.say("isakmp", f"ISAKMP:({event.conn_id}):DPD/{kind} received from peer "
                               f"{format_ip(event.peer)}, sequence 0x{event.seq:X}")

    # ------------------------------------------------------------ IPsec

    def proposal(self, what: str, direction: str, local: int, peer: int,
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

    def create_sa(self, bundle: SaBundle) -> None:
        """``IPSEC(create_sa): sa created`` for each SA of a new pair, inbound first."""
        if "ipsec" not in self.router.debug_flags:
            return
        pair, p = bundle.pair, bundle.proxies
        proto = p.protocol or 256
        for dest, sa in ((bundle.local, bundle.inbound), (bundle.peer, bundle.outbound)):
            for number, spi, trans in _protocols(pair, sa):
                self._sa_created(bundle, dest, sa, number, spi, trans, proto)

    def _sa_created(self, bundle: SaBundle, dest: int, sa: OneWaySa, number: int, spi: int,
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
