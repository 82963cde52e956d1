"""The IKEv2 engine (RFC 7296, both roles, pre-shared keys), sans-IO.

Theory of operation
-------------------
``Ikev2Engine`` is one router's IKEv2 endpoint on one local address. Like the IKEv1 engine
it never touches a socket, a clock or the OS random source: datagrams come in through
``receive_datagram(data, peer, now, port)`` and go out through ``datagrams_with_ports()``;
time is ``now``; randomness (SPIs, nonces, DH privates, IVs) comes from ``rand``; what
happened comes out of ``next_event()`` (:mod:`iosim.ike2.events`).

A message is routed by the SPI we chose (the responder's for the original initiator's
messages, the initiator's otherwise), then by exchange, role and state:

===============  =====  ================  =============================================
exchange         role   state             action
===============  =====  ================  =============================================
IKE_SA_INIT req  R      (no SA)           cookie wanted? -> N(COOKIE); no proposal ->
                                          N(NO_PROPOSAL_CHOSEN); other group ->
                                          N(INVALID_KE_PAYLOAD); else SA KE Nr (IN-NEG)
IKE_SA_INIT rsp  I      IN-NEG, mid 0     N(COOKIE) / N(INVALID_KE_PAYLOAD) -> again;
                                          else keys, NAT-D, IKE_AUTH request
IKE_AUTH req     R      IN-NEG            profile by IDi, verify AUTH (remote key), child
                                          by the SPD, IDr AUTH SA TSi TSr -> READY
IKE_AUTH rsp     I      IN-NEG            verify AUTH, child -> READY
CREATE_CHILD_SA  R      READY             IKE proposal: IKE SA rekey (2.18); else a
                                          child, with KE if PFS (2.17)
INFORMATIONAL    R      READY             D(IKE) -> gone; D(ESP) -> pairs gone, ours
                                          answered; empty -> liveness (DPD)
responses        I      READY             completes the request outstanding
===============  =====  ================  =============================================

Message IDs (2.3): each side announces its window in IKE_AUTH with N(SET_WINDOW_SIZE) (ours is
``crypto ikev2 window``, 5 by default, taken as an IKE SA is made); a peer that announces none,
or a malformed value, has a window of one, and so has everyone until IKE_AUTH is done. We keep
up to the peer's window of requests outstanding at once (the rest wait in the SA's queue; an
IKE SA rekey goes alone), each with its own retransmission schedule and its own context for the
response, which is matched by message ID. We accept any request within our window above the
lowest one not yet answered, answer it and keep the last ``window`` responses: a repeated
request gets its response again; an ID outside the window, or answered and forgotten, is
dropped. Before a request on a READY SA the trace says ``Checking if request will fit in peer
window``. Retransmission: 2 s after sending, then 4, 8, 16, 32; 64 s after the fifth the
exchange is abandoned (an IKE SA being negotiated fails; an established one whose DPD probe
went unanswered is dead).

NAT traversal (2.23): both sides send NAT_DETECTION_*_IP; on a mismatch the initiator moves
to UDP 4500 for IKE_AUTH, the responder follows when a message arrives there, and every
CHILD_SA is UDP-encapsulated. Cookies (2.6): when more half-open SAs than
``cookie_threshold()`` exist, an IKE_SA_INIT without a valid N(COOKIE) is answered with one.
Fragmentation (RFC 7383): when both sides announce it and ``fragmentation_mtu`` is set, an
encrypted message larger than the MTU leaves as SKF fragments; fragments received are
reassembled before anything is decrypted further.

Two kinds of events come out (:mod:`iosim.ike2.events`). Outcomes -- SAs up and down,
children up, failed and deleted, INITIAL_CONTACT, dead peers -- are always reported: callers
act on them. The trace of a negotiation (``PacketSent``, ``PacketReceived``, ``Step``: the
messages sent and received and the steps IOS's ``debug crypto ikev2`` names) only describes
what the engine does: it is built, with the words and copies only it needs, only while
``trace()`` says someone listens. The caller supplies that callable (the router: ``debug
crypto ikev2`` is on), asked each time a trace event would be built, so switching it takes
effect at once; by default it always says yes, and a bare engine reports everything.

Against a hostile network: nothing changes before a message parsed, decrypted and (for
IKE_AUTH) authenticated; bad input is counted in ``dropped``. At most ``MAX_HALF_OPEN``
half-open SAs exist; the responder answers a repeated IKE_SA_INIT from its half-open table.

This module holds the API, sending, IKE_SA_INIT, receiving and INFORMATIONAL; the IKE_AUTH
handlers are :mod:`iosim.ike2.auth_exchange`, the CHILD_SA and IKE SA rekey handlers
:mod:`iosim.ike2.create_child`, the SA index and the timers (one deadline per peer)
:mod:`iosim.ike2.timers` (mixins, as IKEv1's engine has them).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable

from iosim.crypto.dh import DhError, group
from iosim.deadlines import DeadlineQueue, deadline_after
from iosim.ike.quick_mode import Phase2Offer, ProxyIdentity
from iosim.ike2.auth_exchange import AuthExchangeMixin
from iosim.ike2.constants import (
    ExchangeType,
    Flag,
    NotifyType,
    PayloadType,
    ProtocolId,
)
from iosim.ike2.create_child import NONCE_SIZE, Drop, SelectChild
from iosim.ike2.events import (
    ChildDeleted,
    NegotiationFailed,
    PacketReceived,
    PacketSent,
    SaDown,
    Step,
)
from iosim.ike2.keys import (
    ike_keys,
    nat_detection_hash,
    skeyseed,
)
from iosim.ike2.payloads import (
    DeletePayload,
    IkeHeader,
    IkeMessage,
    KePayload,
    MalformedMessage,
    NoncePayload,
    NotifyPayload,
    Payload,
    SaPayload,
    SkfPayload,
    SkPayload,
    VendorIdPayload,
    pull_header,
    pull_message,
    pull_payloads,
    push_message,
    push_payloads,
)
from iosim.ike2.protect import open_sealed, seal
from iosim.ike2.sa import (
    WINDOW_SIZE,
    IkeProposal,
    Ikev2Sa,
    Ikev2Settings,
    OutstandingRequest,
    PendingChild,
    Suite,
    answered_suite,
    choose,
    proposal_payload,
)
from iosim.ike2.timers import RETRANSMIT_FIRST, SaIndex, TimersMixin

__all__ = ["IKE_PORT", "NAT_T_PORT", "Ikev2Engine", "SelectChild"]

IKE_PORT, NAT_T_PORT = 500, 4500
#: The vendor IDs IOS puts in both IKE_SA_INIT messages, after the nonce: it sends and reads
#: a reason in its Deletes, and it speaks FlexVPN.
CISCO_VENDOR_IDS = (VendorIdPayload(b"CISCO-DELETE-REASON"),
                    VendorIdPayload(b"FLEXVPN-SUPPORTED"))
MAX_HALF_OPEN = 1000

_EXCHANGE = {34: "IKE_SA_INIT", 35: "IKE_AUTH", 36: "CREATE_CHILD_SA", 37: "INFORMATIONAL"}
_I_FLAG, _R_FLAG = int(Flag.INITIATOR), int(Flag.RESPONSE)


def _always() -> bool:
    return True


class Ikev2Engine(AuthExchangeMixin, TimersMixin):
    """IKEv2 endpoint for one local address (see the module docstring)."""

    def __init__(self, local: int, *, rand: Callable[[int], bytes],
                 proposals: Callable[[], list[IkeProposal]],
                 settings_for: Callable[[int, tuple[int, bytes] | None],
                                        Ikev2Settings | None],
                 select_child: SelectChild,
                 nat_traversal: bool = True,
                 cookie_threshold: Callable[[], int | None] = lambda: None,
                 fragmentation_mtu: Callable[[], int | None] = lambda: None,
                 window: Callable[[], int] = lambda: WINDOW_SIZE,
                 spi_in_use: Callable[[int], bool] = lambda spi: False,
                 trace: Callable[[], bool] = _always) -> None:
        self.local = local
        # whether anyone listens to the trace events (see the module docstring)
        self._trace = trace
        self._rand = rand
        # an inbound SPI the device already receives on, in any SA (its other engines' too)
        self._spi_in_use = spi_in_use
        self._proposals = proposals
        self._settings_for = settings_for
        self._select = select_child
        self._nat_traversal = nat_traversal
        self._cookie_threshold = cookie_threshold
        self._fragmentation_mtu = fragmentation_mtu  # crypto ikev2 fragmentation [mtu N]
        self._window = window  # crypto ikev2 window: what a new IKE SA announces
        self._cookie_secret = rand(16)
        self._index = SaIndex()
        self.sas: dict[bytes, Ikev2Sa] = self._index.by_spi  # by our SPI (read only)
        self._deadlines: DeadlineQueue[int] = DeadlineQueue()  # one per peer: TimersMixin
        self._half_open: dict[tuple[int, bytes], Ikev2Sa] = {}  # responder, by (peer, SPIi)
        self._outbox: list[tuple[int, bytes, int]] = []
        self._events: deque[object] = deque()
        self._traffic: dict[int, list[float]] = {}
        self._next_sa_id = 1
        self._conn_ids = 0
        self.dropped = 0
        self.stats = {"in_requests": 0, "in_accepted": 0, "in_rejected": 0,
                      "out_requests": 0, "out_accepted": 0, "out_rejected": 0,
                      "cookie_challenged": 0, "cookie_accepted": 0, "cookie_rejected": 0}

    # ================================================================== public API

    def initiate(self, peer: int, proxies: ProxyIdentity, offer: Phase2Offer, now: float,
                 settings: Ikev2Settings) -> None:
        """Bring up a CHILD_SA for ``proxies`` with ``peer``: over its READY IKE SA
        (CREATE_CHILD_SA, with N(REKEY_SA) when a pair for those proxies exists), after the
        one being negotiated, or with a new IKE SA (IKE_SA_INIT)."""
        want = PendingChild(proxies, offer)
        self._index.dirty.add(peer)
        sa = self.sa_for(peer)
        if sa is not None and sa.established:
            old = [spi for spi, p in sa.children.items() if p.proxies == proxies]
            want.rekey_spi = old[-1] if old else None
            if any(isinstance(q, PendingChild) and q.proxies == proxies for q in sa.queue) \
                    or any(r.context.get("proxies") == proxies
                           for r in sa.outstanding.values()):
                return
            sa.queue.append(want)
            self._kick(sa, now)
            return
        if sa is not None:
            if all(p.proxies != proxies for p in sa.pending):
                sa.pending.append(want)
            return
        self._start(peer, [want], settings, now)

    def sa_for(self, peer: int) -> Ikev2Sa | None:
        """The newest live IKE SA with ``peer`` (READY preferred)."""
        live = [s for s in self._index.of_peer(peer) if s.state != "DELETE"]
        ready = [s for s in live if s.established]
        pool = ready or live
        return max(pool, key=lambda s: s.created_at) if pool else None

    def delete_child(self, peer: int, spi_in: int, now: float) -> None:
        """Tell the peer the pair with our inbound SPI ``spi_in`` is gone (D(ESP))."""
        for sa in self._index.of_peer(peer):
            if spi_in in sa.children and sa.established:
                self._index.dirty.add(peer)
                del sa.children[spi_in]
                sa.queue.append(("delete_child", spi_in))
                self._kick(sa, now)
                return

    def forget_child(self, peer: int, spi_in: int) -> None:
        """The pair with ``peer`` is gone without telling anyone."""
        for sa in self._index.of_peer(peer):
            sa.children.pop(spi_in, None)

    def delete_sa(self, peer: int | None, now: float, sa_id: int | None = None) -> None:
        """``clear crypto ikev2 sa [remote A] [fvrf]``: delete IKE SAs (D(IKE) to the peer)
        and their pairs."""
        for sa in list(self.sas.values()) if peer is None else self._index.of_peer(peer):
            if sa_id is not None and sa.sa_id != sa_id:
                continue
            if sa.established:
                self._send_request(sa, ExchangeType.INFORMATIONAL,
                                   [DeletePayload(ProtocolId.IKE)], "delete_ike", now,
                                   force=True)
            self._gone(sa, "Delete", now)

    def note_traffic(self, peer: int, now: float, inbound: bool) -> bool:
        """ESP with ``peer``: what on-demand DPD watches. True when this packet, sent to a
        peer quiet for the interval, makes a probe due now: the caller runs the timers."""
        seen = self._traffic.get(peer)
        if seen is None:
            seen = self._traffic[peer] = [0.0, 0.0]
        seen[1 if inbound else 0] = now
        self._index.dirty.add(peer)  # on-demand DPD may now be due
        if inbound:
            return False
        return any(due is not None and due <= now
                   for due in map(self._dpd_deadline, self._index.of_peer(peer)))

    def receive_datagram(self, data: bytes, peer: int, now: float,
                         port: int = IKE_PORT) -> None:
        """Process one IKEv2 message from ``peer`` (non-ESP marker already removed)."""
        self._index.dirty.add(peer)
        try:
            self._receive(data, peer, now, port)
        except (MalformedMessage, Drop, DhError, ValueError):
            self.dropped += 1

    def datagrams_with_ports(self) -> list[tuple[int, bytes, int]]:
        out, self._outbox = self._outbox, []
        return out

    def next_event(self) -> object | None:
        return self._events.popleft() if self._events else None

    def decryption_keys(self) -> list[tuple[bytes, bytes, bytes, bytes, str, bytes, bytes, str]]:
        """(SPIi, SPIr, SK_ei, SK_er, cipher, SK_ai, SK_ar, integrity) of each keyed IKE SA,
        the algorithms named as Wireshark's ``ikev2_decryption_table`` names them."""
        out = []
        for sa in self.sas.values():
            if sa.keys is None or sa.suite is None or sa.spi_r == bytes(8):
                continue
            k, s = sa.keys, sa.suite
            integ = s.integ.wireshark if s.integ is not None else "NONE [RFC4306]"
            out.append((sa.spi_i, sa.spi_r, k.sk_ei, k.sk_er, s.cipher.wireshark, k.sk_ai,
                        k.sk_ar, integ))
        return out

    def next_conn_ids(self) -> tuple[int, int]:
        self._conn_ids += 2
        return self._conn_ids - 1, self._conn_ids

    # ================================================================== sending

    def _header(self, sa: Ikev2Sa, exchange: int, mid: int, response: bool) -> IkeHeader:
        flags = (_I_FLAG if sa.initiator else 0) | (_R_FLAG if response else 0)  # ints: no
        return IkeHeader(sa.spi_i, sa.spi_r, 0, exchange, flags, mid)  # enum.Flag arithmetic

    def _transmit(self, sa: Ikev2Sa, data: bytes) -> None:
        self._outbox.append((sa.peer, data, sa.port))

    def _protected(self, sa: Ikev2Sa, exchange: int, mid: int, response: bool,
                   payloads: list[Payload]) -> tuple[bytes, ...]:
        """The datagram(s) of an encrypted message: one SK, or SKF fragments (RFC 7383)."""
        out_keys, _ = sa.directions()
        header = self._header(sa, exchange, mid, response)
        inner = push_payloads(payloads)
        first = payloads[0].payload_type if payloads else PayloadType.NONE
        iv_size = out_keys.cipher.iv_size
        whole = seal(header, b"", PayloadType.SK, first, inner, out_keys, self._rand(iv_size))
        mtu = self._fragmentation_mtu()
        if not (sa.fragmentation and mtu and len(whole) + 28 > mtu
                and exchange != ExchangeType.IKE_SA_INIT):
            return (whole,)
        room = max(64, mtu - 28 - 28 - 8 - out_keys.overhead())
        pieces = [inner[i:i + room] for i in range(0, len(inner), room)] or [b""]
        return tuple(seal(header, b"", PayloadType.SKF, first if n == 0 else 0, piece,
                          out_keys, self._rand(iv_size), (n + 1, len(pieces)))
                     for n, piece in enumerate(pieces))

    def _send_request(self, sa: Ikev2Sa, exchange: int, payloads: list[Payload], what: str,
                      now: float, *, force: bool = False,
                      context: dict[str, object] | None = None) -> None:
        """Send a protected request, or queue it while the peer's window is full (``force``:
        send it anyway: a Delete of the whole IKE SA, IKE_AUTH)."""
        if sa.established and self._trace():
            self._events.append(Step(sa.sa_id, "Checking if request will fit in peer window"))
        if not force and not self._fits(sa):
            sa.queue.append(("raw", exchange, payloads, what, context))
            return
        mid = sa.next_mid
        sa.next_mid += 1
        datagrams = self._protected(sa, exchange, mid, False, payloads)
        sa.outstanding[mid] = OutstandingRequest(
            mid, datagrams, what, deadline_after(now, self._resend_interval(sa, what, 0)),
            context or {})
        self._sent(sa, exchange, False, mid, payloads)
        for data in datagrams:
            self._transmit(sa, data)

    @staticmethod
    def _fits(sa: Ikev2Sa) -> bool:
        """Whether our next request fits in the peer's window (2.3): request X waits for the
        responses to every request up through X - window, so the oldest one unanswered
        holds the window back, however many after it were answered. An IKE SA rekey goes
        alone, nothing joins it (its successor takes over what waits)."""
        if not sa.outstanding:
            return True
        if any(r.what == "rekey_ike" for r in sa.outstanding.values()):
            return False
        return sa.next_mid < min(sa.outstanding) + sa.send_window()

    def _respond(self, sa: Ikev2Sa, exchange: int, mid: int, payloads: list[Payload]) -> None:
        datagrams = self._protected(sa, exchange, mid, True, payloads)
        self._keep_response(sa, mid, datagrams)
        self._sent(sa, exchange, True, mid, payloads)
        for data in datagrams:
            self._transmit(sa, data)

    @staticmethod
    def _keep_response(sa: Ikev2Sa, mid: int, datagrams: tuple[bytes, ...]) -> None:
        """Keep a response for retransmitted requests; the lowest request not answered
        moves past every one answered; responses older than our window are forgotten."""
        sa.responses[mid] = datagrams
        while sa.peer_mid in sa.responses:
            sa.peer_mid += 1
        for old in [m for m in sa.responses if m < sa.peer_mid - sa.window]:
            del sa.responses[old]

    def _sent(self, sa: Ikev2Sa, exchange: int, response: bool, mid: int,
              payloads: list[Payload]) -> None:
        if self._trace():
            self._events.append(PacketSent(sa.peer, sa.sa_id, self.local, sa.port,
                                           _EXCHANGE[exchange], response, mid, sa.spi_i,
                                           sa.spi_r, tuple(payloads)))

    def _fits_next(self, sa: Ikev2Sa) -> bool:
        """Whether the head of the queue may go now: an IKE SA rekey waits for the peer to
        answer everything outstanding."""
        if not self._fits(sa):
            return False
        return not (sa.queue[0] == ("rekey_ike",) and sa.outstanding)

    def _kick(self, sa: Ikev2Sa, now: float) -> None:
        """Send queued requests while they fit in the peer's window."""
        while sa.queue and sa.established and self._fits_next(sa):
            item = sa.queue.popleft()
            if isinstance(item, PendingChild):
                self._request_child(sa, item, now)
            elif item[0] == "raw":  # type: ignore[index]
                raw: tuple[str, int, list[Payload], str, dict[str, object] | None] = \
                    item  # type: ignore[assignment]
                self._send_request(sa, raw[1], raw[2], raw[3], now, context=raw[4])
            elif item[0] == "delete_child":  # type: ignore[index]
                spi = item[1]  # type: ignore[index]
                self._send_request(sa, ExchangeType.INFORMATIONAL, [DeletePayload(
                    ProtocolId.ESP, (spi.to_bytes(4, "big"),))], "delete_child", now)
            elif item[0] == "rekey_ike":  # type: ignore[index]
                self._request_ike_rekey(sa, now)

    def session_of(self, sa_id: int) -> int:
        """The session an SA carries on (its own id for a first SA; 0 when it is gone)."""
        sa = self._index.with_id(sa_id)
        return sa.session_id if sa is not None else 0

    # ================================================================== IKE_SA_INIT

    def _new_sa(self, peer: int, initiator: bool, spi_i: bytes, now: float) -> Ikev2Sa:
        spi = self._rand(8)
        sa = Ikev2Sa(peer, initiator, spi_i if not initiator else spi,
                     bytes(8) if initiator else spi, self._next_sa_id, now,
                     session_id=self._next_sa_id)
        sa.window = self._window()
        self._next_sa_id += 1
        self._index.add(sa)
        return sa

    def _start(self, peer: int, wants: list[PendingChild], settings: Ikev2Settings,
               now: float) -> None:
        proposals = self._proposals()
        if not proposals:
            self._events.append(NegotiationFailed(peer, 0, "no IKEv2 proposal", "", True))
            return
        sa = self._new_sa(peer, True, b"", now)
        sa.settings = settings
        sa.pending = list(wants)
        sa.ni = self._rand(NONCE_SIZE)
        sa.group = proposals[0].groups[0]
        self.stats["out_requests"] += 1
        if self._trace():
            self._events.append(Step(sa.sa_id, f"Searching Policy with fvrf 0, local address "
                                               f"{_ip(self.local)}"))
            self._events.append(Step(sa.sa_id, f"Computing DH public key, DH Group {sa.group}"))
        self._send_init(sa, now)

    def _send_init(self, sa: Ikev2Sa, now: float) -> None:
        sa.dh = group(sa.group).generate(self._rand)
        sa.offered = proposal_payload(self._proposals())
        payloads: list[Payload] = []
        if sa.cookie:
            payloads.append(NotifyPayload(NotifyType.COOKIE, sa.cookie))
        payloads += [sa.offered, KePayload(sa.group, sa.dh.public_bytes()), NoncePayload(sa.ni),
                     *CISCO_VENDOR_IDS, *self._nat_notifies(sa, sa.peer, IKE_PORT)]
        if self._fragmentation_mtu():
            payloads.append(NotifyPayload(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED))
        data = push_message(self._header(sa, ExchangeType.IKE_SA_INIT, 0, False), payloads)
        sa.init_request = data
        sa.outstanding = {0: OutstandingRequest(0, (data,), "init",
                                                deadline_after(now, RETRANSMIT_FIRST))}
        if self._trace():
            self._events.append(Step(sa.sa_id, "Generating IKE_SA_INIT message"))
        self._sent(sa, ExchangeType.IKE_SA_INIT, False, 0, payloads)
        self._transmit(sa, data)

    def _nat_notifies(self, sa: Ikev2Sa, peer: int, port: int) -> list[NotifyPayload]:
        return [NotifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP,
                              nat_detection_hash(sa.spi_i, sa.spi_r, self.local, port)),
                NotifyPayload(NotifyType.NAT_DETECTION_DESTINATION_IP,
                              nat_detection_hash(sa.spi_i, sa.spi_r, peer, port))]

    def _check_nat(self, sa: Ikev2Sa, msg: IkeMessage, port: int) -> None:
        """NAT detection (2.23): the peer's hash of our address, and of its own."""
        found = {n.notify_type: n.data for n in msg.notifies()}
        src = found.get(NotifyType.NAT_DETECTION_SOURCE_IP)
        dst = found.get(NotifyType.NAT_DETECTION_DESTINATION_IP)
        if src is None or dst is None:
            return
        spi_r = msg.header.spi_r
        them = nat_detection_hash(sa.spi_i, spi_r, sa.peer, port)
        us = nat_detection_hash(sa.spi_i, spi_r, self.local, port)
        sa.nat_local = dst != us
        sa.nat_detected = src != them or dst != us
        if self._trace():
            text = "NAT detected" if sa.nat_detected else "NAT not found"
            self._events.append(Step(sa.sa_id, f"Processing nat detect {text}"))

    def _cookie(self, peer: int, ni: bytes, spi_i: bytes) -> bytes:
        """RFC 7296 2.6: Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>)."""
        return b"\x00" + hashlib.sha256(ni + peer.to_bytes(4, "big") + spi_i
                                        + self._cookie_secret).digest()

    def _answer_unprotected(self, peer: int, h: IkeHeader, notify: NotifyPayload,
                            port: int) -> None:
        header = IkeHeader(h.spi_i, bytes(8), 0, ExchangeType.IKE_SA_INIT, int(Flag.RESPONSE),
                           0)
        self._outbox.append((peer, push_message(header, [notify]), port))
        if self._trace():
            self._events.append(PacketSent(peer, 0, self.local, port, "IKE_SA_INIT", True, 0,
                                           h.spi_i, bytes(8), (notify,)))

    def _init_request(self, msg: IkeMessage, data: bytes, peer: int, now: float,
                      port: int) -> None:
        h = msg.header
        if h.message_id != 0 or h.is_response or not h.from_initiator:
            raise Drop("not an IKE_SA_INIT request")
        known = self._half_open.get((peer, h.spi_i))
        if known is not None:
            if known.init_request == data:
                for d in known.responses.get(0, ()):
                    self._outbox.append((peer, d, port))
            return
        offered, ke, ni = msg.first(SaPayload), msg.first(KePayload), msg.first(NoncePayload)
        if offered is None or ke is None or ni is None:
            raise Drop("IKE_SA_INIT without SA, KE or Ni")
        self.stats["in_requests"] += 1
        threshold = self._cookie_threshold()
        if threshold is not None and len(self._half_open) >= threshold:
            cookie = self._cookie(peer, ni.data, h.spi_i)
            got = next((n.data for n in msg.notifies() if n.notify_type == NotifyType.COOKIE),
                       None)
            if got != cookie:
                self.stats["cookie_challenged"] += 1
                if got is not None:
                    self.stats["cookie_rejected"] += 1
                self._answer_unprotected(peer, h, NotifyPayload(NotifyType.COOKIE, cookie), port)
                return
            self.stats["cookie_accepted"] += 1
        if len(self._half_open) >= MAX_HALF_OPEN:
            self.stats["in_rejected"] += 1
            raise Drop("too many half-open SAs")
        chosen = choose(self._proposals(), offered)
        if chosen is None:
            self.stats["in_rejected"] += 1
            self._events.append(NegotiationFailed(peer, 0, "Failed to find a matching policy",
                                                  "NO_PROPOSAL_CHOSEN", False))
            self._answer_unprotected(peer, h, NotifyPayload(NotifyType.NO_PROPOSAL_CHOSEN), port)
            return
        suite, number = chosen
        if ke.group != suite.group:
            if self._trace():
                self._events.append(Step(0, f"Sending invalid ke notification, peer sent "
                                            f"group {ke.group}, local policy requires group "
                                            f"{suite.group}"))
            self._answer_unprotected(peer, h, NotifyPayload(
                NotifyType.INVALID_KE_PAYLOAD, suite.group.to_bytes(2, "big")), port)
            return
        dh = group(suite.group).generate(self._rand)
        shared = dh.shared_secret(ke.data)  # a bad public value: dropped, nothing kept
        sa = self._new_sa(peer, False, h.spi_i, now)
        sa.port = port
        sa.suite, sa.group, sa.dh, sa.ni, sa.nr = suite, suite.group, dh, ni.data, \
            self._rand(NONCE_SIZE)
        sa.init_request = data
        sa.peer_mid = 1
        self._half_open[(peer, h.spi_i)] = sa
        if self._trace():
            self._events.append(Step(sa.sa_id, f"Received Policies: {_suite_words(suite)}"))
        self._check_nat(sa, msg, port)
        sa.fragmentation = bool(self._fragmentation_mtu()) and any(
            n.notify_type == NotifyType.IKEV2_FRAGMENTATION_SUPPORTED for n in msg.notifies())
        self._keys(sa, skeyseed(suite.prf, sa.ni, sa.nr, shared))
        payloads: list[Payload] = [suite.reply(number), KePayload(suite.group, dh.public_bytes()),
                                   NoncePayload(sa.nr), *CISCO_VENDOR_IDS,
                                   *self._nat_notifies(sa, peer, port)]
        if sa.fragmentation:
            payloads.append(NotifyPayload(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED))
        header = self._header(sa, ExchangeType.IKE_SA_INIT, 0, True)
        sa.init_response = push_message(header, payloads)
        sa.responses[0] = (sa.init_response,)
        if self._trace():
            self._events.append(Step(sa.sa_id, "Generating IKE_SA_INIT message"))
        self._sent(sa, ExchangeType.IKE_SA_INIT, True, 0, payloads)
        self._transmit(sa, sa.init_response)

    def _keys(self, sa: Ikev2Sa, seed: bytes) -> None:
        s = sa.suite
        assert s is not None
        sa.keys = ike_keys(s.prf, seed, sa.ni, sa.nr, sa.spi_i, sa.spi_r, s.cipher, s.integ)

    def _init_response(self, sa: Ikev2Sa, msg: IkeMessage, data: bytes, now: float) -> None:
        request = sa.outstanding.get(0)
        if sa.initiator is False or sa.state != "IN-NEG" or request is None \
                or request.what != "init":
            raise Drop("unexpected IKE_SA_INIT response")
        notes = {n.notify_type: n.data for n in msg.notifies()}
        if NotifyType.COOKIE in notes:
            sa.cookie = notes[NotifyType.COOKIE]
            if self._trace():
                self._events.append(Step(sa.sa_id, "Received COOKIE, resending IKE_SA_INIT"))
            self._send_init(sa, now)
            return
        if NotifyType.INVALID_KE_PAYLOAD in notes:
            wanted = int.from_bytes(notes[NotifyType.INVALID_KE_PAYLOAD][:2], "big")
            ours = [g for p in self._proposals() for g in p.groups]
            if wanted not in ours or wanted == sa.group:
                self._fail(sa, "INVALID_KE_PAYLOAD for a group we do not offer",
                           "INVALID_KE_PAYLOAD", now)
                return
            if self._trace():
                self._events.append(Step(sa.sa_id, f"Processing IKE_SA_INIT message: "
                                                   f"INVALID_KE_PAYLOAD, retrying with DH group "
                                                   f"{wanted}"))
            sa.group = wanted
            self._send_init(sa, now)
            return
        if NotifyType.NO_PROPOSAL_CHOSEN in notes:
            self._fail(sa, "Received notify: NO_PROPOSAL_CHOSEN", "NO_PROPOSAL_CHOSEN", now)
            return
        answer, ke, nr = msg.first(SaPayload), msg.first(KePayload), msg.first(NoncePayload)
        if answer is None or ke is None or nr is None or sa.offered is None or sa.dh is None:
            raise Drop("IKE_SA_INIT response without SA, KE or Nr")
        suite = answered_suite(sa.offered, answer)
        if suite is None or suite.group != ke.group or ke.group != sa.group:
            raise Drop("responder chose what we did not offer")
        shared = sa.dh.shared_secret(ke.data)
        sa.spi_r = msg.header.spi_r
        sa.suite, sa.nr, sa.init_response = suite, nr.data, data
        del sa.outstanding[0]
        sa.fragmentation = NotifyType.IKEV2_FRAGMENTATION_SUPPORTED in notes
        self._keys(sa, skeyseed(suite.prf, sa.ni, sa.nr, shared))
        self._check_nat(sa, msg, sa.port)
        if sa.nat_detected and self._nat_traversal:
            sa.port = NAT_T_PORT
        sa.next_mid = 1
        self._send_auth(sa, now)

    # ================================================================== receiving

    def _receive(self, data: bytes, peer: int, now: float, port: int) -> None:
        h = pull_header(data)
        if h.exchange_type == ExchangeType.IKE_SA_INIT and not h.is_response:
            msg = pull_message(data, h)
            self._received(0, msg, peer, port)
            self._init_request(msg, data, peer, now, port)
            return
        mine = h.spi_r if h.from_initiator else h.spi_i
        sa = self.sas.get(mine)
        if sa is None or sa.peer != peer or sa.state == "DELETE":
            raise Drop("no IKE SA for these SPIs")
        msg = pull_message(data, h)
        if h.exchange_type == ExchangeType.IKE_SA_INIT:
            self._received(sa.sa_id, msg, peer, port)
            self._init_response(sa, msg, data, now)
            return
        if sa.keys is None or sa.suite is None:
            raise Drop("encrypted message before keys")
        inner = self._decrypt(sa, msg, data)
        if inner is None:
            return  # a fragment: waiting for the rest
        if port == NAT_T_PORT and sa.port != NAT_T_PORT and self._nat_traversal:
            sa.port = NAT_T_PORT  # the peer floated (2.23)
        sa.last_in = now
        if self._trace():
            self._events.append(PacketReceived(peer, sa.sa_id, self.local, port,
                                               _EXCHANGE.get(h.exchange_type, "?"),
                                               h.is_response, h.message_id, h.spi_i, h.spi_r,
                                               tuple(inner)))
        if h.is_response:
            self._response(sa, msg, inner, now)
        else:
            self._request(sa, msg, inner, now)

    def _received(self, sa_id: int, msg: IkeMessage, peer: int, port: int) -> None:
        """The trace of an IKE_SA_INIT message received (before it is acted on)."""
        if not self._trace():
            return
        h = msg.header
        self._events.append(PacketReceived(peer, sa_id, self.local, port, "IKE_SA_INIT",
                                           h.is_response, h.message_id, h.spi_i, h.spi_r,
                                           tuple(msg.payloads)))

    def _decrypt(self, sa: Ikev2Sa, msg: IkeMessage, data: bytes) -> tuple[Payload, ...] | None:
        _, in_keys = sa.directions()
        last = msg.payloads[-1] if msg.payloads else None
        if isinstance(last, SkPayload):
            return pull_payloads(last.first, open_sealed(data, last.data, in_keys))
        if not isinstance(last, SkfPayload) or last.total > 64:
            raise Drop("no encrypted payload")
        piece = open_sealed(data, last.data, in_keys)
        mid = msg.header.message_id
        got = sa.fragments.setdefault(mid, {})
        got[last.number] = piece
        if last.number == 1:
            got[0] = bytes((last.first,))
        if len(got) < last.total + 1:
            return None
        del sa.fragments[mid]
        return pull_payloads(got[0][0], b"".join(got[n] for n in range(1, last.total + 1)))

    def _request(self, sa: Ikev2Sa, msg: IkeMessage, inner: tuple[Payload, ...],
                 now: float) -> None:
        mid = msg.header.message_id
        kept = sa.responses.get(mid)
        if kept is not None:  # a retransmission: the same answer again
            for d in kept:
                self._transmit(sa, d)
            return
        if not sa.peer_mid <= mid < sa.peer_mid + sa.receive_window():
            raise Drop(f"message id {mid} outside the window from {sa.peer_mid}")
        kind = msg.header.exchange_type
        if kind == ExchangeType.IKE_AUTH:
            self._auth_request(sa, msg, inner, now)
        elif not sa.established and sa.rekeyed_by is None:
            raise Drop("request before the IKE SA is ready")
        elif kind == ExchangeType.CREATE_CHILD_SA:
            self._create_child_request(sa, mid, inner, now)
        elif kind == ExchangeType.INFORMATIONAL:
            self._informational(sa, mid, inner, now)

    def _informational(self, sa: Ikev2Sa, mid: int, inner: tuple[Payload, ...],
                       now: float) -> None:
        answer: list[Payload] = []
        ike_gone = False
        for p in inner:
            if isinstance(p, DeletePayload) and p.protocol_id == ProtocolId.IKE:
                ike_gone = True
            elif isinstance(p, DeletePayload) and p.protocol_id == ProtocolId.ESP:
                mine = []
                for raw in p.spis:
                    spi = int.from_bytes(raw, "big")
                    for spi_in, pair in list(sa.children.items()):
                        if pair.spi_out == spi:
                            del sa.children[spi_in]
                            mine.append(spi_in.to_bytes(4, "big"))
                            self._events.append(ChildDeleted(sa.peer, spi_in))
                if mine:
                    answer.append(DeletePayload(ProtocolId.ESP, tuple(mine)))
        if not inner and self._trace():
            self._events.append(Step(sa.sa_id, "Received DPD/liveness query"))
        self._respond(sa, ExchangeType.INFORMATIONAL, mid, answer)
        if ike_gone:
            self._gone(sa, "Received DELETE", now)

    def _response(self, sa: Ikev2Sa, msg: IkeMessage, inner: tuple[Payload, ...],
                  now: float) -> None:
        request = sa.outstanding.pop(msg.header.message_id, None)
        if request is None:
            raise Drop("response to nothing outstanding")
        what, context = request.what, request.context
        if what == "auth":
            self._auth_response(sa, inner, context, now)
        elif what == "child":
            ke = next((p for p in inner if isinstance(p, KePayload)), None)
            nr = next((p for p in inner if isinstance(p, NoncePayload)), None)
            nonces = context.get("nonces")
            if isinstance(nonces, tuple) and nr is not None:
                context["nonces"] = (nonces[0], nr.data)
            self._child_done(sa, inner, ke, context)
        elif what == "rekey_ike":
            self._ike_rekey_done(sa, inner, context, now)
        elif what == "delete_ike":
            self._gone(sa, "Delete", now)
        if sa.local_spi in self.sas and sa.state != "DELETE":
            self._kick(sa, now)

    # ================================================================== endings

    def _fail(self, sa: Ikev2Sa, reason: str, notify: str, now: float) -> None:
        if sa.initiator:
            self.stats["out_rejected"] += 1
        self._events.append(NegotiationFailed(sa.peer, sa.sa_id, reason, notify, sa.initiator))
        self._drop_sa(sa)

    def _gone(self, sa: Ikev2Sa, reason: str, now: float) -> None:
        """The SA ends: its pairs go too (unless a rekey took them over)."""
        if sa.local_spi not in self.sas:
            return
        was_ready = sa.established
        for spi in list(sa.children):
            self._events.append(ChildDeleted(sa.peer, spi))
        sa.children.clear()
        if was_ready and sa.rekeyed_by is None:
            self._events.append(SaDown(sa.peer, sa.sa_id, self.local, sa.port, reason))
        self._drop_sa(sa)

    def _drop_sa(self, sa: Ikev2Sa) -> None:
        sa.state = "DELETE"
        sa.expires_at = sa.rekey_at = sa.dpd_at = None
        sa.outstanding.clear()
        self._forget_sa(sa)

    def _forget_sa(self, sa: Ikev2Sa) -> None:
        """``sa`` leaves the engine's tables (half-open included)."""
        self._index.remove(sa)
        key = (sa.peer, sa.spi_i)
        if self._half_open.get(key) is sa:
            del self._half_open[key]


def _ip(value: int) -> str:
    return ".".join(str(value >> s & 255) for s in (24, 16, 8, 0))


def _suite_words(s: Suite) -> str:
    integ = s.integ.show if s.integ else "None"
    return (f"Proposal 1: {s.cipher.show} {integ} {s.prf.show} "
            f"DH_GROUP_{s.group}")

