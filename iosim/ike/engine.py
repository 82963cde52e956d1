"""The IKEv1 engine (RFC 2409 main, aggressive and quick mode, pre-shared keys), sans-IO.

Theory of operation
-------------------
``IkeEngine`` is one router's IKE endpoint on one local address. It never touches a socket, a
clock or the OS random source: datagrams come in through ``receive_datagram(data, peer, now)``
and go out through ``datagrams_to_send()``; time comes in as ``now`` (``handle_timer(now)`` when
``get_timer()`` says so); randomness (cookies, nonces, SPIs, message IDs, DH privates) comes
from the injected ``rand``; what happened comes out of ``next_event()`` one event at a time
(``Phase1Established``, ``Phase2Established``, ``Phase1Failed``, ``StateChanged``,
``InitialContact``, ``PeerDead``, ``DpdSent`` / ``DpdReceived``, ...).

Phase 1 runs in :mod:`iosim.ike.main_mode` terms (``IsakmpSa``, IOS state names) or, when the
caller's ``aggressive_for(peer)`` says so, in :mod:`iosim.ike.aggressive_mode` terms; phase 2
in :mod:`iosim.ike.quick_mode` terms (``QuickModeExchange``). A datagram is routed by its
cookies to an ISAKMP SA, then by exchange type and message ID:

==================  =================  ==========================================
exchange            our role / state   action
==================  =================  ==========================================
MAIN_MODE, no SA    responder          MM1 -> choose policy, send MM2
MAIN_MODE           I  MM_NO_STATE     MM2 -> send MM3            (MM_SA_SETUP)
MAIN_MODE           R  MM_SA_SETUP     MM3 -> send MM4            (MM_KEY_EXCH)
MAIN_MODE           I  MM_SA_SETUP     MM4 -> send MM5            (MM_KEY_EXCH)
MAIN_MODE           R  MM_KEY_EXCH     MM5 -> verify, send MM6    (QM_IDLE)
MAIN_MODE           I  MM_KEY_EXCH     MM6 -> verify              (QM_IDLE)
AGGRESSIVE, no SA   responder          AM1 -> choose policy, send AM2 (AG_INIT_EXCH);
                                       dropped + Phase1Failed if aggressive_mode_disabled()
AGGRESSIVE          I  AG_INIT_EXCH    AM2 -> verify, send AM3    (QM_IDLE)
AGGRESSIVE          R  AG_INIT_EXCH    AM3 -> verify              (QM_IDLE)
QUICK_MODE          R  new message ID  QM1 -> select offer, send QM2
QUICK_MODE          I  QM_I_QM1        QM2 -> verify, send QM3, SA pair established
QUICK_MODE          R  QM_R_QM2        QM3 -> verify, SA pair established
INFORMATIONAL       any (QM_IDLE)      DELETE / NO_PROPOSAL_CHOSEN / INITIAL-CONTACT /
                                       R-U-THERE (-> ACK) / R-U-THERE-ACK /
                                       INVALID-SPI (-> the pair using that SPI dies)
==================  =================  ==========================================

Two kinds of events come out. Outcomes and anomalies -- phase 1 and 2 established, keyed,
failed or deleted, INITIAL-CONTACT, DPD, retransmissions, duplicates, call admission refusals
-- are always reported: callers act on them. The step-by-step trace of a negotiation
(``StateChanged``, ``PolicyChecked``, ``QuickModeStarted``, ``Phase2Checked`` and the events of
:mod:`iosim.ike.events` that exist for ``debug crypto isakmp``: payloads processed, packets
sent, nodes, notes) only describes what the engine does, and costs as much to build as the
rest of a negotiation's Python work: it is built only while ``trace()`` says someone listens.
The caller supplies that callable (the router: ``debug crypto isakmp`` is on), asked each
time a trace event would be built, so switching it takes effect at once; by default it always
says yes, and a bare engine reports everything.

``notify_invalid_spi()`` is the other side of INVALID-SPI: the caller got ESP/AH with an SPI
it does not know; the peer is told over the ISAKMP SA, or, with ``recover`` (IOS
``crypto isakmp invalid-spi-recovery``), over a phase 1 started for the purpose.

Anything else is the peer's mistake (``RemoteProtocolError`` or ``MalformedPacket``): the
datagram is dropped and counted in ``dropped``; state changes only after a message has been
fully parsed, decrypted and authenticated, so garbage never harms an SA. ``LocalProtocolError``
is raised only when the caller misuses the API.

NAT traversal (RFC 3947), when the engine is created with ``nat_traversal=True`` (the caller
can send to and receive on UDP 4500; ``UdpIkeAdapter`` does): both sides send the RFC 3947
vendor ID and, in MM3/MM4 (AM2/AM3), the NAT-D hashes of the addresses they see. When a hash
does not match (``IsakmpSa.nat_detected``) and the peer sent the vendor ID, the initiator
floats: MM5 (AM3) and everything after go to UDP 4500 (``datagrams_with_ports()`` says so per
datagram; ``datagram_port(peer)`` per peer; the I/O layer adds the 4-byte non-ESP marker). The
responder floats when a message of the SA arrives on 4500 (``receive_datagram(...,
port=NAT_T_PORT)``). A floated SA's quick modes offer and accept the UDP-Encapsulated-Tunnel/
-Transport modes (3/4) and yield ``IpsecSaPair.udp_encap``. Without NAT, or with
``nat_traversal=False`` (the default: a NAT is then only detected), nothing changes: every
datagram goes to port 500 and ``datagrams_to_send()`` suffices.

Retransmission: the side that waits for an answer (the initiator in main, aggressive and quick
mode, the responder waiting for AM3 or QM3) resends its last message 10 s after sending it,
then after 20, 40, 80 and 160 s (five retransmissions); when 320 s more pass without an answer
the negotiation is abandoned (``Phase1Failed`` / ``Phase2Failed`` "retransmission limit
reached"). A received datagram identical to the last one we processed is a retransmission: we
resend our answer.

Several ISAKMP SAs with one peer may coexist; quick modes use the newest established one
(``_sa_for_peer``). INITIAL-CONTACT (RFC 2407 4.6.3.3): the initiator of an SA sends it, inside
MM5 / AM3, when it has no other SA with the peer; the receiver forgets every other established
SA with that peer and its IPsec pairs, and emits ``InitialContact`` for the router.

Phase-1 rekey: an SA we initiated is renewed at 90 % of its lifetime (``IsakmpSa.rekey_at``) if
IPsec SA pairs with the peer still exist (an idle SA just expires, as on IOS): a new phase 1
(fresh cookies, main or aggressive mode as configured, no INITIAL-CONTACT) runs in the
background; the old SA keeps serving until the new one is QM_IDLE and is deleted (Delete sent,
``IsakmpSaDeleted``) at its own expiry.

DPD (RFC 3706, :mod:`iosim.ike.dpd`): ``dpd_for(peer)`` gives the ``crypto isakmp keepalive``
settings; the caller reports ESP traffic with ``note_traffic(peer, now, inbound)`` for on-demand
DPD. Probes, their retransmissions and the ``PeerDead`` verdict run off ``get_timer()``.

Against a hostile network: no new ISAKMP SA is created -- for a peer's first message or for a
negotiation of ours -- without the consent of call admission control (``admission``, the
router's :class:`~iosim.ike.admission.CallAdmission`, shared by its engines; a refusal emits
``AdmissionDenied`` and creates and sends nothing). SAs and quick modes are indexed by peer
(:mod:`iosim.ike.sa_table`) and the timers keep one deadline per peer in a heap
(:mod:`iosim.ike.engine_timers`), so the work per datagram and per timer does not grow with
the number of SAs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

from iosim.deadlines import DeadlineQueue, deadline_after
from iosim.ike.admission import AdmissionDenied, CallAdmission
from iosim.ike.aggressive_mode import AggressiveModeMixin
from iosim.ike.constants import (
    DOI,
    ExchangeType,
    NotifyType,
    ProtocolId,
)
from iosim.ike.dpd import DpdMixin, DpdReceived, DpdSent, DpdSettings, PeerDead
from iosim.ike.engine_timers import DELETED_LINGER, TimersMixin
from iosim.ike.events import (
    DuplicateReceived,
    InitialContact,
    IsakmpSaDeleted,
    IsakmpSaState,
    NodeCreated,
    NodeDeleted,
    NodePurged,
    NotifyProcessed,
    NotifyRejected,
    NotifySent,
    PayloadProcessed,
    Phase2Deleted,
    QuickModeRequested,
    Retransmitted,
)
from iosim.ike.keymat import (
    informational_hash,
)
from iosim.ike.main_mode import (
    IKE_PORT,
    NAT_T_PORT,
    ZERO_COOKIE,
    IkePolicy,
    IsakmpSa,
    LocalProtocolError,
    Phase1Established,
    Phase1Failed,
    RemoteProtocolError,
    StateChanged,
    ip_text,
)
from iosim.ike.payloads import (
    DeletePayload,
    HashPayload,
    IsakmpMessage,
    MalformedPacket,
    NotificationPayload,
    Payload,
    pull_message,
    push_payload,
)
from iosim.ike.phase2_policy import Phase2Refused
from iosim.ike.quick_mode import (
    IpsecSaPair,
    Phase2Offer,
    ProxyIdentity,
    QuickModeExchange,
    delete_payloads,
    pair_deleted_by,
    usable_transform_set,
)
from iosim.ike.quick_mode_exchange import (
    Phase2Checked,
    Phase2Established,
    Phase2Failed,
    QuickModeMixin,
)
from iosim.ike.sa_table import PairTable, QmTable, SaTable

__all__ = [
    "AdmissionDenied",
    "CallAdmission",
    "DpdReceived",
    "DpdSent",
    "DpdSettings",
    "IkeEngine",
    "IkePolicy",
    "InitialContact",
    "IpsecSaPair",
    "IsakmpSaDeleted",
    "IsakmpSaState",
    "LocalProtocolError",
    "PeerDead",
    "Phase1Established",
    "Phase1Failed",
    "Phase2Checked",
    "Phase2Deleted",
    "Phase2Established",
    "Phase2Failed",
    "Phase2Offer",
    "Phase2Refused",
    "ProxyIdentity",
    "RemoteProtocolError",
    "DuplicateReceived",
    "Retransmitted",
    "StateChanged",
]

_MM = ExchangeType.IDENTITY_PROTECTION
_AM = ExchangeType.AGGRESSIVE
_QM = ExchangeType.QUICK_MODE
_INFO = ExchangeType.INFORMATIONAL
_ESP = ProtocolId.PROTO_IPSEC_ESP
_AH = ProtocolId.PROTO_IPSEC_AH
BAD_MESSAGE = "IKMP_BAD_MESSAGE: IKE message from {} failed its sanity check or is malformed"


def _first_select(_peer: int, _p: ProxyIdentity, offers: list[Phase2Offer]) -> Phase2Offer | None:
    return offers[0] if offers else None


def _always() -> bool:
    return True


class IkeEngine(AggressiveModeMixin, DpdMixin, QuickModeMixin, TimersMixin):
    """IKEv1 endpoint for one local address (see the module docstring)."""

    def __init__(
        self,
        local_address: int,
        *,
        rand: Callable[[int], bytes],
        policies: Callable[[], list[IkePolicy]],
        psk_for: Callable[[int], str | None],
        select_phase2: Callable[[int, ProxyIdentity, list[Phase2Offer]],
                                Phase2Offer | Phase2Refused | None] | None = None,
        aggressive_mode_disabled: Callable[[], bool] = lambda: False,
        nat_traversal: bool = False,
        aggressive_for: Callable[[int], bool] = lambda peer: False,
        dpd_for: Callable[[int], DpdSettings | None] = lambda peer: None,
        admission: CallAdmission | None = None,
        spi_in_use: Callable[[int], bool] = lambda spi: False,
        trace: Callable[[], bool] = _always,
    ) -> None:
        self.local = local_address
        # whether anyone listens to the step-by-step trace events (see the module docstring)
        self._trace = trace
        self._rand = rand
        # an inbound SPI the device already receives on, in any SA (its other engines' too)
        self._spi_in_use = spi_in_use
        self._policies = policies
        self._psk_for = psk_for
        self._select = select_phase2 or _first_select
        self._aggressive_mode_disabled = aggressive_mode_disabled  # refuse AM1 as responder
        self._aggressive_for = aggressive_for  # initiate aggressive mode with this peer
        self._dpd_for = dpd_for  # crypto isakmp keepalive (None: no probes of ours)
        self._traffic: dict[int, list[float]] = {}  # on-demand DPD: [last out, last in]
        # float to 4500 / UDP-encapsulate (RFC 3947) only for a caller that can send there
        self._nat_traversal = nat_traversal
        # call admission control: the router's, shared by its engines, else one of our own
        self.admission = admission if admission is not None else CallAdmission()
        self._sas: SaTable[IsakmpSa] = SaTable(self.admission.changed)
        self._qm: QmTable[QuickModeExchange] = QmTable()
        # timers: one deadline per peer (its SAs' and quick modes' earliest), in a heap;
        # peers whose deadline may have moved are recomputed before the next timer query
        self._deadlines: DeadlineQueue[int] = DeadlineQueue()
        self._dirty: set[int] = set()
        self._pending: dict[tuple[int, bytes], list[tuple[ProxyIdentity, Phase2Offer]]] = {}
        # (peer, proxies) waiting in _pending -> the IPsec connection id next when asked
        self._asked: dict[tuple[int, ProxyIdentity], int] = {}
        self._pairs: PairTable[IpsecSaPair] = PairTable()  # by inbound SPI and by peer
        # INVALID-SPI notifies waiting for the phase 1 started to carry them
        self._notify_later: dict[tuple[int, bytes], list[NotificationPayload]] = {}
        self._outbox: list[tuple[int, bytes, int]] = []  # (peer, datagram, port)
        # a short FIFO, drained after every message: a list costs a tenth of a deque's block
        self._events: list[object] = []
        self._next_conn_id = 1001
        self._next_sa_handle = 1  # ISAKMP SAs and peer structs, as numbered for debug
        self._next_ipsec_conn_id = 2001
        self._now = 0.0
        self.dropped = 0

    # ------------------------------------------------------------------ public API

    def initiate(self, peer: int, proxies: ProxyIdentity, offer: Phase2Offer, now: float) -> None:
        """Start phase 1 with ``peer`` (main mode, or aggressive mode when
        ``aggressive_for(peer)``), or quick mode over its newest established ISAKMP SA."""
        self._now = now
        if not isinstance(offer, Phase2Offer) or not isinstance(proxies, ProxyIdentity):
            raise LocalProtocolError("initiate() needs a ProxyIdentity and a Phase2Offer")
        if not any(usable_transform_set(ts) for ts in offer.transform_sets):
            self._events.append(Phase2Failed(peer, "no usable transform set to offer"))
            return
        self._dirty.add(peer)
        if self.requested(peer, proxies):
            return
        sa = self._sa_for_peer(peer)
        if sa is not None and sa.established:
            if self._trace():
                self._events.append(NodeCreated(peer, sa.conn_id, 0))
                self._events.append(QuickModeRequested(peer, sa.conn_id, self.local, sa.port))
            self._start_quick_mode(sa, proxies, offer, now)
            return
        if sa is not None:
            self._pending.setdefault((peer, sa.cky_i), []).append((proxies, offer))
            self._asked.setdefault((peer, proxies), self._next_ipsec_conn_id)
            return
        self._asked[(peer, proxies)] = self._next_ipsec_conn_id
        self._start_phase1(peer, [(proxies, offer)], now)

    def requested(self, peer: int, proxies: ProxyIdentity) -> bool:
        """Whether a request for ``proxies`` with ``peer`` is under way already: our quick
        mode for them waits for its answer, or they wait for a phase 1 in progress. Asking
        again then changes nothing (:meth:`initiate` returns at once)."""
        for key in self._sas.keys_of_peer(peer):
            for _, x in self._qm.of_sa(key):
                if x.initiator and x.state == "QM_I_QM1" and x.proxies == proxies:
                    return True
        sa = self._sa_for_peer(peer)
        if sa is None or sa.established:
            return False
        return any(p == proxies for p, _ in self._pending.get((peer, sa.cky_i), ()))

    def notify_invalid_spi(self, peer: int, spi: int, protocol: int, now: float, *,
                           recover: bool = False) -> bool:
        """An ESP (``protocol`` 3) or AH (2) packet from ``peer`` carried ``spi``, which we do
        not have: tell the peer with an INVALID-SPI notify (RFC 2408 3.14.1) over its
        established ISAKMP SA, so it deletes the pair and negotiates a new one. Without an
        ISAKMP SA, ``recover`` (IOS ``crypto isakmp invalid-spi-recovery``) starts phase 1
        first. Returns whether a notify was sent or queued."""
        self._now = now
        self._dirty.add(peer)
        notify = NotificationPayload(NotifyType.INVALID_SPI, ProtocolId(protocol),
                                     spi.to_bytes(4, "big"))
        sa = self._sa_for_peer(peer)
        if sa is not None and sa.established:
            self._send_informational(sa, notify)
            return True
        if not recover:
            return False
        if sa is None:
            self._start_phase1(peer, [], now)
            sa = self._sa_for_peer(peer)
            if sa is None:
                return False
        waiting = self._notify_later.setdefault((peer, sa.cky_i), [])
        if notify not in waiting:
            waiting.append(notify)
        return True

    def receive_datagram(self, data: bytes, peer: int, now: float, port: int = IKE_PORT
                         ) -> None:
        """Process one IKE message from ``peer``; bad input is dropped and counted. ``port`` is
        the UDP port it arrived on: 4500 (``NAT_T_PORT``, non-ESP marker already stripped)
        makes the SA float there, as RFC 3947 section 4 asks of the responder."""
        self._now = now
        self._dirty.add(peer)
        try:
            self._receive(bytes(data), peer, now, port)
        except (RemoteProtocolError, MalformedPacket, ValueError, KeyError, IndexError,
                struct.error):
            self.dropped += 1

    def datagrams_to_send(self) -> list[tuple[int, bytes]]:
        """(peer, UDP payload) pairs to send, drained. Without NAT traversal they all go to
        port 500; a caller that supports NAT-T uses ``datagrams_with_ports()`` instead."""
        return [(peer, data) for peer, data, _ in self.datagrams_with_ports()]

    def datagrams_with_ports(self) -> list[tuple[int, bytes, int]]:
        """(peer, IKE message, destination port) triples, drained. Port 4500 means the SA has
        floated (RFC 3947): the sender must prefix the 4-byte non-ESP marker."""
        out, self._outbox = self._outbox, []
        return out

    def has_isakmp_sa(self, peer: int) -> bool:
        """Whether an ISAKMP SA with ``peer`` exists (established or negotiating, not
        deleted)."""
        return self._sa_for_peer(peer) is not None

    def peer_struct(self, peer: int) -> int | None:
        """The number of the peer struct IOS keeps for ``peer`` while SAs with it exist."""
        sa = self._sa_for_peer(peer)
        return sa.peer_struct if sa is not None else None

    def datagram_port(self, peer: int) -> int:
        """The port IKE messages to ``peer`` currently go to (4500 after a NAT-T float)."""
        sa = self._sa_for_peer(peer)
        return sa.port if sa is not None else IKE_PORT

    def next_event(self) -> object | None:
        """The next event, or None."""
        return self._events.pop(0) if self._events else None

    def isakmp_sas(self, now: float | None = None) -> list[IsakmpSaState]:
        """Every ISAKMP SA, for ``show crypto isakmp sa [detail]`` (lifetime left as of
        ``now``, or of the last time the engine saw)."""
        return self._rows(self._sas.values(), now)

    def active_sa_state(self, peer: int, now: float) -> IsakmpSaState | None:
        """The last ``ACTIVE`` row with ``peer`` of ``show crypto isakmp sa``: the SA whose
        conn-id ``debug crypto isakmp`` prints for a message to or from ``peer``. Looks at
        that peer's SAs only."""
        states = [s for s in self._rows(self._sas.of_peer(peer), now) if s.status == "ACTIVE"]
        return states[-1] if states else None

    def message_sa_state(self, peer: int, data: bytes, now: float) -> IsakmpSaState | None:
        """The row of ``show crypto isakmp sa`` of the SA a datagram from ``peer`` belongs
        to, found by its initiator cookie as :meth:`receive_datagram` finds it (None: a
        first message, or too short to say): what ``debug crypto isakmp`` prints for
        ``received packet`` before the engine reads it."""
        sa = self._sas.get((peer, data[:8])) if len(data) >= 8 else None
        return self._rows([sa], now)[0] if sa is not None else None

    def _rows(self, sas: Iterable[IsakmpSa], now: float | None) -> list[IsakmpSaState]:
        if now is not None:
            self._now = max(self._now, now)
        out = []
        for sa in sorted(sas, key=lambda s: (s.conn_id == 0, s.conn_id)):
            policy, suite = sa.policy, sa.suite
            if sa.expires_at is not None and not sa.deleted:
                left = max(0.0, sa.expires_at - self._now)
            else:
                left = float(suite.lifetime) if suite else 0.0
            out.append(IsakmpSaState(
                sa.dst, sa.src, sa.state, sa.conn_id,
                "ACTIVE (deleted)" if sa.deleted else "ACTIVE",
                policy.cipher_name if policy else "", policy.hash if policy else "",
                "psk", policy.group if policy else 0, left, sa.initiator, sa.floated,
                sa.aggressive, sa.peer_dpd, sa.established_at if sa.established else None,
                suite.lifetime if suite else 0))
        return out

    def quick_modes_negotiating(self) -> int:
        """How many quick modes wait for their last message (ours or the peer's)."""
        return sum(x.state in ("QM_I_QM1", "QM_R_QM2") for x in self._qm.values())

    def decryption_keys(self) -> list[tuple[bytes, bytes]]:
        """(initiator cookie, encryption key Ka) of each keyed ISAKMP SA: what Wireshark's
        ``ikev1_decryption_table`` needs to show the encrypted IKE messages of a capture."""
        return [(sa.cky_i, sa.keys.encryption_key) for sa in self._sas.values()
                if sa.keys is not None]

    def delete_isakmp(self, peer: int | None, now: float, conn_id: int | None = None) -> None:
        """``clear crypto isakmp [CONN-ID]``: send DELETE for each ISAKMP SA (with ``peer``,
        or the one numbered ``conn_id``) and forget it."""
        self._now = now
        keys = self._sas.keys_of_peer(peer) if peer is not None else [k for k, _ in
                                                                       self._sas.items()]
        for key in keys:
            sa = self._sas.get(key)
            if sa is None or (conn_id is not None and sa.conn_id != conn_id):
                continue
            self._dirty.add(sa.peer)
            if sa.established:
                self._send_isakmp_delete(sa)
            if not sa.deleted and sa.conn_id:
                self._events.append(IsakmpSaDeleted(sa.peer, sa.conn_id))
            self._forget(key)

    def forget_ipsec(self, spi_in: int) -> None:
        """The caller dropped the pair with inbound ``spi_in`` on its own (expiry, a dead or
        rebooted peer): forget it without telling the peer."""
        self._pairs.pop(spi_in, None)

    def delete_ipsec(self, peer: int | None, spis: list[int], now: float) -> None:
        """``clear crypto sa``: tell the peer (over its ISAKMP SA) that these inbound SPIs die."""
        self._now = now
        by_peer: dict[int, list[DeletePayload]] = {}
        for spi in spis:
            pair = self._pairs.get(spi)
            owner = pair.peer if pair is not None else peer
            if owner is None or (peer is not None and owner != peer):
                continue
            self._pairs.pop(spi, None)
            payloads = (delete_payloads(pair) if pair is not None
                        else [DeletePayload(_ESP, 4, (spi.to_bytes(4, "big"),))])
            by_peer.setdefault(owner, []).extend(payloads)
        for owner, owned in by_peer.items():
            sa = self._sa_for_peer(owner)
            if sa is not None and sa.established:
                for d in owned:
                    self._send_informational(sa, d)

    # ------------------------------------------------------------------ bookkeeping

    def _sa_for_peer(self, peer: int) -> IsakmpSa | None:
        """The ISAKMP SA quick modes use: the newest established one, else one negotiating."""
        live = [sa for sa in self._sas.of_peer(peer) if not sa.deleted]
        live.sort(key=lambda s: (not s.established, -s.established_at, -s.conn_id))
        return live[0] if live else None

    def _pair_since(self, peer: int, proxies: ProxyIdentity, conn_id: int) -> bool:
        """Whether an IPsec SA pair with ``peer`` for exactly ``proxies`` made since the
        connection id ``conn_id`` was next exists (an older one, being renewed, does not
        count)."""
        for spi in self._pairs.of_peer(peer):
            pair = self._pairs[spi]
            if pair.proxies == proxies and pair.conn_id_in >= conn_id:
                return True
        return False

    def _start_phase1(self, peer: int, pending: list[tuple[ProxyIdentity, Phase2Offer]],
                      now: float, *, rekey: bool = False) -> None:
        if self._aggressive_for(peer):
            self._start_aggressive_mode(peer, pending, now, rekey=rekey)
        else:
            self._start_main_mode(peer, pending, now, rekey=rekey)

    def _rekey(self, sa: IsakmpSa, now: float) -> None:
        """90 % of the lifetime of an SA we initiated: renew it in the background if IPsec SAs
        with the peer still exist (an idle SA simply expires, as on IOS). The old SA serves
        until its expiry; quick modes move to the new one as soon as it is QM_IDLE."""
        if not sa.established or not self._pairs.has_peer(sa.peer):
            return
        if any(o.initiator and not o.deleted and not o.established
               for o in self._sas.of_peer(sa.peer)):
            return  # a negotiation with the peer is already running
        self._start_phase1(sa.peer, [], now, rekey=True)

    def _peer_rebooted(self, sa: IsakmpSa, now: float) -> None:
        """INITIAL-CONTACT arrived over the new SA ``sa``: forget every other ISAKMP SA with
        the peer established before ``sa`` began (no Delete: nobody there remembers it) and
        the IPsec pairs with it. An SA that came up while ``sa`` was negotiating (both sides
        initiated at once, each with INITIAL-CONTACT) is no leftover of a reboot: it stays,
        and so do the pairs while it does."""
        forgot = False
        for other in self._sas.of_peer(sa.peer):
            key = (other.peer, other.cky_i)
            if (other is not sa and other.established
                    and other.established_at <= sa.created_at):
                self._forget(key)
                self._events.append(IsakmpSaDeleted(other.peer, other.conn_id))
                forgot = True
        alone = not any(o is not sa and not o.deleted for o in self._sas.of_peer(sa.peer))
        gone: list[int] = []
        if forgot or alone:
            gone = self._pairs.of_peer(sa.peer)
            for spi_in in gone:
                del self._pairs[spi_in]
        self._events.append(InitialContact(sa.peer, sa.conn_id, tuple(gone)))

    def _peer_dead(self, sa: IsakmpSa, now: float) -> None:
        """DPD gave up: delete the SA locally (no Delete sent) and the engine's IPsec pairs."""
        self._events.append(PeerDead(sa.peer, sa.conn_id))
        self._mark_deleted(sa, now)
        self._events.append(IsakmpSaDeleted(sa.peer, sa.conn_id))
        for spi_in in self._pairs.of_peer(sa.peer):
            del self._pairs[spi_in]
        self._traffic.pop(sa.peer, None)

    def _forget(self, key: tuple[int, bytes]) -> None:
        self._sas.remove(key)
        self._drop_pending(key)
        self._notify_later.pop(key, None)
        self._qm.remove_sa(key)

    def _drop_pending(self, key: tuple[int, bytes]) -> None:
        """The quick modes the ISAKMP SA ``key`` was to run are given up."""
        for proxies, _ in self._pending.pop(key, []):
            self._asked.pop((key[0], proxies), None)

    def _mark_deleted(self, sa: IsakmpSa, now: float) -> None:
        sa.deleted = True
        # every deadline of a live SA goes: one left behind (a rekey) would be due for ever
        # while handle_timer skips deleted SAs
        sa.resend_at = sa.give_up_at = sa.expires_at = sa.rekey_at = None
        sa.purge_at = deadline_after(now, DELETED_LINGER)
        self._sas.mark_deleted(sa)
        self._drop_pending((sa.peer, sa.cky_i))
        self._notify_later.pop((sa.peer, sa.cky_i), None)
        self._qm.remove_sa((sa.peer, sa.cky_i))

    def _fail_phase1(self, sa: IsakmpSa, reason: str, now: float) -> None:
        self._mark_deleted(sa, now)
        self._events.append(Phase1Failed(sa.peer, reason, sa.conn_id, sa.initiator))

    def _random_int(self, size: int, low: int) -> int:
        while True:
            value = int.from_bytes(self._rand(size), "big")
            if value >= low:
                return value

    # ------------------------------------------------------------------ receive

    def _receive(self, data: bytes, peer: int, now: float, port: int) -> None:
        msg = pull_message(data)
        h = msg.header
        sa = self._sas.get((peer, h.initiator_cookie))
        if (self._nat_traversal and sa is not None and port == NAT_T_PORT and not sa.floated
                and not sa.deleted):
            # the peer moved to 4500 (RFC 3947 4): answer there; undone if the message is bad
            sa.floated = True
            try:
                self._dispatch(sa, msg, data, peer, now)
            except BaseException:
                sa.floated = False
                raise
            return
        self._dispatch(sa, msg, data, peer, now)

    def _dispatch(self, sa: IsakmpSa | None, msg: IsakmpMessage, data: bytes, peer: int,
                  now: float) -> None:
        h = msg.header
        if h.exchange_type == _MM:
            if sa is None:
                if h.responder_cookie != ZERO_COOKIE or msg.encrypted_body is not None:
                    raise RemoteProtocolError("main mode message for an unknown SA")
                self._mm1(msg, data, peer, now)
                return
            if sa.deleted:
                raise RemoteProtocolError("SA is deleted")
            if data == sa.last_received:
                self._events.append(DuplicateReceived(peer, sa.conn_id, sa.state))
                if sa.last_sent and not sa.initiator:
                    self._transmit(sa, sa.last_sent)
                return
            self._check_cookies(sa, msg)
            if sa.aggressive:
                raise RemoteProtocolError("main mode message for an aggressive-mode SA")
            self._main_mode(sa, msg, data, now)
            return
        if h.exchange_type == _AM:
            self._dispatch_aggressive(sa, msg, data, peer, now)
            return
        if sa is None or sa.deleted:
            raise RemoteProtocolError("no ISAKMP SA for these cookies")
        self._check_cookies(sa, msg)
        if h.exchange_type == _QM:
            if not sa.established:
                raise RemoteProtocolError("quick mode before phase 1 completed")
            self._quick_mode(sa, msg, data, now)
        elif h.exchange_type == _INFO:
            self._informational(sa, msg, now)
        else:
            raise RemoteProtocolError(f"exchange {h.exchange_type.name} not supported")

    @staticmethod
    def _check_cookies(sa: IsakmpSa, msg: IsakmpMessage) -> None:
        """The responder cookie must be the SA's, except in the initiator's first answer."""
        if msg.header.responder_cookie != sa.cky_r and not (sa.initiator
                                                            and sa.cky_r == ZERO_COOKIE):
            raise RemoteProtocolError("responder cookie mismatch")

    def _report_bad_auth(self, sa: IsakmpSa, handler: Callable[[], None]) -> None:
        """Run the handler of an authenticating message; report its failure once."""
        try:
            handler()
        except (RemoteProtocolError, MalformedPacket, ValueError):
            if not sa.failure_reported:
                sa.failure_reported = True
                self._events.append(Phase1Failed(sa.peer, BAD_MESSAGE.format(ip_text(sa.peer))))
            raise

    # ------------------------------------------------------------------ aggressive mode

    def _dispatch_aggressive(self, sa: IsakmpSa | None, msg: IsakmpMessage, data: bytes,
                             peer: int, now: float) -> None:
        if sa is None:
            if msg.header.responder_cookie != ZERO_COOKIE or msg.encrypted_body is not None:
                raise RemoteProtocolError("aggressive mode message for an unknown SA")
            self._am1(msg, data, peer, now)
            return
        if sa.deleted or not sa.aggressive:
            raise RemoteProtocolError("no aggressive-mode SA for these cookies")
        if data == sa.last_received:
            # the peer did not get our answer: the initiator resends AM3, the responder AM2
            if sa.last_sent and (sa.initiator or not sa.established):
                self._transmit(sa, sa.last_sent)
            return
        self._check_cookies(sa, msg)
        if sa.established:
            raise RemoteProtocolError("aggressive mode already complete")
        if sa.initiator:
            self._report_bad_auth(sa, lambda: self._am2(sa, msg, data, now))
            self._phase1_done(sa, now)
        else:
            self._report_bad_auth(sa, lambda: self._am3(sa, msg, data, now))

    # ------------------------------------------------------------------ main mode

    def _main_mode(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        if sa.initiator and sa.state == "MM_NO_STATE":
            self._mm2(sa, msg, data, now)
        elif not sa.initiator and sa.state == "MM_SA_SETUP":
            self._mm3(sa, msg, data, now)
        elif sa.initiator and sa.state == "MM_SA_SETUP":
            self._mm4(sa, msg, data, now)
        elif not sa.initiator and sa.state == "MM_KEY_EXCH":
            self._report_bad_auth(sa, lambda: self._mm5(sa, msg, data, now))
        elif sa.initiator and sa.state == "MM_KEY_EXCH":
            self._mm6(sa, msg, data, now)
            self._phase1_done(sa, now)
        else:
            raise RemoteProtocolError(f"unexpected main mode message in {sa.state}")

    def _phase1_done(self, sa: IsakmpSa, now: float) -> None:
        """Our phase 1 completed: run the quick modes and send the notifies it waited for.
        A flow that got its pair meanwhile (the peer's own phase 1 and quick mode finished
        first, while ours waited for a retransmission) asks for none: it has one."""
        for proxies, offer in self._pending.pop((sa.peer, sa.cky_i), []):
            asked_at = self._asked.pop((sa.peer, proxies), None)
            if asked_at is None or not self._pair_since(sa.peer, proxies, asked_at):
                self._start_quick_mode(sa, proxies, offer, now)
        if self._trace():
            self._events.append(StateChanged(sa.peer, sa.conn_id, "IKE_P1_COMPLETE",
                                             "IKE_P1_COMPLETE"))
        for notify in self._notify_later.pop((sa.peer, sa.cky_i), []):
            self._send_informational(sa, notify)

    # ------------------------------------------------------------------ informational

    def _send_informational(self, sa: IsakmpSa, payload: NotificationPayload | DeletePayload
                            ) -> bytes:
        """RFC 2409 5.7: HDR*, HASH(1), N/D over the ISAKMP SA; returns the datagram. IOS
        opens a node for it, sends and forgets the node at once."""
        suite, keys = sa.require_keys()
        mid = self._new_message_id(sa)
        h = informational_hash(suite.hash, keys.skeyid_a, mid, push_payload(payload))
        data, _ = self._seal(sa, _INFO, mid, [HashPayload(h), payload], sa.phase2_iv(mid))
        trace = self._trace()
        if trace:
            self._events.append(NodeCreated(sa.peer, sa.conn_id, mid))
            if isinstance(payload, NotificationPayload):
                self._events.append(NotifySent(sa.peer, sa.conn_id, payload.notify_type,
                                               payload.protocol_id))
        self._transmit(sa, data)
        if trace:
            self._events.append(NodePurged(sa.peer, sa.conn_id, mid))
        return data

    def _send_isakmp_delete(self, sa: IsakmpSa) -> None:
        if sa.established:
            self._send_informational(
                sa, DeletePayload(ProtocolId.PROTO_ISAKMP, 16, (sa.cky_i + sa.cky_r,), DOI.IPSEC))

    def _informational(self, sa: IsakmpSa, msg: IsakmpMessage, now: float) -> None:
        if msg.encrypted_body is None:
            if msg.get(NotificationPayload) is not None and not sa.established:
                # a notify nothing authenticates (the peer's NO_PROPOSAL_CHOSEN to our
                # first message, or anyone's): IOS rejects it and phase 1 goes on
                # retransmitting until it gives up (NotifyRejected)
                self._events.append(NotifyRejected(sa.peer, sa.conn_id, sa.ike_state))
                return
            raise RemoteProtocolError("unprotected informational ignored")
        if not sa.established:
            raise RemoteProtocolError("informational before phase 1 completed")
        suite, keys = sa.require_keys()
        mid = msg.header.message_id
        rest, _ = self._open_hashed(
            sa, msg, sa.phase2_iv(mid),
            lambda b: informational_hash(suite.hash, keys.skeyid_a, mid, b))
        trace = self._trace()
        if trace:
            self._events.append(NodeCreated(sa.peer, sa.conn_id, mid))
            self._events.append(PayloadProcessed(sa.peer, sa.conn_id, "HASH", mid))
        for p in rest:
            if trace:
                self._trace_informational_payload(sa, p, mid)
            self._informational_payload(sa, p, now, mid)
        if not trace:
            return
        self._events.append(NodeDeleted(sa.peer, sa.conn_id, mid,
                                        "Informational (in) state 1"))
        if not sa.deleted:
            words = ("IKE_MESG_FROM_PEER, IKE_INFO_DELETE"
                     if any(isinstance(p, DeletePayload) for p in rest)
                     else "IKE_MESG_FROM_PEER, IKE_INFO_NOTIFY")
            self._events.append(StateChanged(sa.peer, sa.conn_id, "IKE_P1_COMPLETE",
                                             "IKE_P1_COMPLETE", input=words))

    def _trace_informational_payload(self, sa: IsakmpSa, p: Payload, mid: int) -> None:
        """The trace of one payload of an informational exchange, before it is acted on."""
        if isinstance(p, DeletePayload):
            self._events.append(PayloadProcessed(sa.peer, sa.conn_id, "DELETE", mid))
        elif isinstance(p, NotificationPayload):
            self._events.append(NotifyProcessed(sa.peer, sa.conn_id, p.notify_type,
                                                p.protocol_id))

    def _informational_payload(self, sa: IsakmpSa, p: Payload, now: float, mid: int) -> None:
        """Act on one payload of an authenticated informational exchange."""
        if isinstance(p, DeletePayload):
            self._peer_delete(sa, p, now)
        elif not isinstance(p, NotificationPayload) or self._dpd_notify(sa, p, now):
            return
        elif p.notify_type == NotifyType.INVALID_SPI and len(p.spi) == 4:
            self._invalid_spi(sa, p.protocol_id, int.from_bytes(p.spi, "big"))
        elif p.notify_type == NotifyType.INITIAL_CONTACT:
            self._peer_rebooted(sa, now)
        elif p.notify_type == NotifyType.NO_PROPOSAL_CHOSEN:
            for key, x in self._qm.of_sa((sa.peer, sa.cky_i)):
                if (x.initiator and x.state == "QM_I_QM1"
                        and p.spi in (x.spi_in.to_bytes(4, "big"),
                                      x.ah_spi_in.to_bytes(4, "big"))):
                    del self._qm[key]
                    self._events.append(Phase2Failed(
                        sa.peer, "NO_PROPOSAL_CHOSEN from peer", proxies=x.proxies,
                        conn_id=sa.conn_id, message_id=mid))

    def _invalid_spi(self, sa: IsakmpSa, protocol: int, spi: int) -> None:
        """The peer has no SA for ``spi``, one of our outbound ESP or AH SPIs (per
        ``protocol``): that pair is dead. Reserved SPIs (below 256) name nothing."""
        if spi < 256:
            return
        for spi_in in self._pairs.of_peer(sa.peer):
            pair = self._pairs[spi_in]
            esp_out = pair.spi_out if pair.protocol != "ah" else None
            ah_out = pair.ah_spi_out if pair.ah_integrity else None
            mine = esp_out if protocol == _ESP else ah_out if protocol == _AH else None
            if spi == mine:
                del self._pairs[spi_in]
                self._events.append(Phase2Deleted(sa.peer, spi_in))

    def _peer_delete(self, sa: IsakmpSa, d: DeletePayload, now: float) -> None:
        if d.protocol_id == ProtocolId.PROTO_ISAKMP:
            if sa.cky_i + sa.cky_r in d.spis and not sa.deleted:
                self._mark_deleted(sa, now)
                sa.state = "MM_NO_STATE"
                self._events.append(IsakmpSaDeleted(sa.peer, sa.conn_id))
        elif d.protocol_id in (_ESP, ProtocolId.PROTO_IPSEC_AH):
            for spi_in in self._pairs.of_peer(sa.peer):
                if pair_deleted_by(self._pairs[spi_in], d):
                    del self._pairs[spi_in]
                    self._events.append(Phase2Deleted(sa.peer, spi_in))
