"""The quick-mode half of the IKEv1 engine (RFC 2409 section 5.5), sans-IO.

``QuickModeMixin`` holds the three quick-mode handlers (``_qm1`` as responder, ``_qm2`` and
``_qm3``) and starting a quick mode as initiator; ``iosim.ike.engine.IkeEngine`` mixes it in
with :class:`iosim.ike.main_mode.MainModeMixin` and dispatches to it. The exchange, its states
and its payload codecs are described in :mod:`iosim.ike.quick_mode`.

The responder judges a proposal with the router's choice (``select_phase2``: a
``Phase2Offer`` to answer, or a :class:`~iosim.ike.phase2_policy.Phase2Refused` saying why
not) and reports it as ``Phase2Checked`` before it answers. Besides ``Phase2Established`` /
``Phase2Failed`` the handlers emit ``StateChanged`` events with
the node states IOS's ``debug crypto isakmp`` prints (``conn_id`` is the ISAKMP SA's), in the
order IOS prints them relative to the SA installation:

=========  ===========================================================  ===================
role       Old State -> New State                                       when
=========  ===========================================================  ===================
initiator  IKE_QM_READY -> IKE_QM_I_QM1                                 QM1 sent
initiator  IKE_QM_I_QM1 -> IKE_QM_IPSEC_INSTALL_AWAIT                   QM2 accepted
initiator  (Phase2Established) then
           IKE_QM_IPSEC_INSTALL_AWAIT -> IKE_QM_PHASE2_COMPLETE         QM3 sent
responder  IKE_QM_READY -> IKE_QM_SPI_STARVE,
           IKE_QM_SPI_STARVE -> IKE_QM_IPSEC_INSTALL_AWAIT,
           IKE_QM_IPSEC_INSTALL_AWAIT -> IKE_QM_R_QM2                   QM1 accepted, QM2 sent
responder  IKE_QM_R_QM2 -> IKE_QM_PHASE2_COMPLETE then
           (Phase2Established: the outbound SA is enabled)              QM3 verified
responder  IKE_QM_READY -> IKE_QM_READY (after Phase2Failed)            QM1 refused
=========  ===========================================================  ===================

Each side emits ``Phase2Keyed`` once the pair's keys exist, in IKE_QM_IPSEC_INSTALL_AWAIT
before it sends QM2 or QM3 (IOS creates the IPsec SAs then), and reports what it processes
(:mod:`iosim.ike.trace`) for ``debug crypto isakmp``. That trace -- the processing, the
``StateChanged`` and ``Phase2Checked`` events -- is built only while the engine's ``trace()``
wants it; ``Phase2Keyed``, ``Phase2Established`` and ``Phase2Failed`` always are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from iosim.crypto.dh import group as dh_group
from iosim.deadlines import deadline_after
from iosim.ike import trace
from iosim.ike.constants import ExchangeType, NotifyType, ProtocolId
from iosim.ike.events import NodeDeleted, NoteKind, Phase2Keyed
from iosim.ike.keymat import keymat, quick_mode_hash_1, quick_mode_hash_2, quick_mode_hash_3
from iosim.ike.main_mode import (
    NONCE_SIZE,
    RETRANSMIT_BASE,
    IsakmpSa,
    MainModeMixin,
    RemoteProtocolError,
    StateChanged,
    ip_text,
)
from iosim.ike.payloads import (
    GENERIC_HEADER_LENGTH,
    DeletePayload,
    HashPayload,
    IdPayload,
    IsakmpMessage,
    KePayload,
    NoncePayload,
    NotificationPayload,
    Payload,
    SaPayload,
    push_payloads,
)
from iosim.ike.phase2_policy import Phase2Refused
from iosim.ike.quick_mode import (
    FULL_MASK,
    IpsecSaPair,
    Phase2Offer,
    ProposalChoice,
    ProxyIdentity,
    QuickModeExchange,
    answered_choice,
    canonical_transform_set,
    id_payload,
    offer_protocols,
    offer_sa_payload,
    offers_from_sa,
    proxy_from_ids,
    reply_sa_payload,
)
from iosim.ike.sa_table import PairTable, QmTable

__all__ = ["Phase2Checked", "Phase2Established", "Phase2Failed", "QuickModeMixin",
           "QuickModeStarted"]

_ESP = ProtocolId.PROTO_IPSEC_ESP
_AH = ProtocolId.PROTO_IPSEC_AH
_QM = ExchangeType.QUICK_MODE


@dataclass(frozen=True, slots=True)
class Phase2Established:
    """Quick mode completed: install ``sa``."""

    sa: IpsecSaPair


@dataclass(frozen=True, slots=True)
class QuickModeStarted:
    """We began quick mode over ISAKMP SA ``conn_id`` with message ID ``message_id``."""

    peer: int
    conn_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class Phase2Failed:
    """Quick mode with ``peer`` failed (e.g. ``NO_PROPOSAL_CHOSEN``). When we refused the
    peer's proposal, ``cause`` says why (``"proxies"``, ``"transform"``, ``"mode"``,
    ``"pfs"``, see :class:`~iosim.ike.phase2_policy.Phase2Refused`; ``"proposal"`` for one we
    could not use at all) and ``proxies`` are the proposed ones (our side local). ``message_id``
is the refused quick mode's when we refused it, the peer's NO_PROPOSAL_CHOSEN
informational's when the peer refused ours."""

    peer: int
    reason: str
    cause: str = ""
    proxies: ProxyIdentity | None = None
    conn_id: int = 0  # the ISAKMP SA's (0: not known)
    message_id: int | None = None  # the exchange that carried the refusal (see above)


@dataclass(frozen=True, slots=True)
class Phase2Checked:
    """Responder: the peer's quick-mode proposal was judged against our crypto map.
    ``offers`` are its proposals as we read them, ``chosen`` the answer (None if refused,
    then ``cause`` says why), ``proxies`` the proposed identities (our side local): what
    ``debug crypto isakmp|ipsec`` walks through."""

    peer: int
    conn_id: int
    message_id: int
    proxies: ProxyIdentity
    offers: tuple[Phase2Offer, ...]
    chosen: Phase2Offer | None
    cause: str = ""


class QuickModeMixin(MainModeMixin):
    """Quick-mode handlers of ``IkeEngine``; each mutates state only after its message has
    been decrypted, authenticated and checked."""

    local: int
    _rand: Callable[[int], bytes]
    _select: Callable[[int, ProxyIdentity, list[Phase2Offer]],
                      Phase2Offer | Phase2Refused | None]
    _qm: QmTable[QuickModeExchange]
    _pairs: PairTable[IpsecSaPair]
    _spi_in_use: Callable[[int], bool]
    _events: list[object]
    _trace: Callable[[], bool]  # whether the step-by-step trace events are wanted
    _next_ipsec_conn_id: int

    if TYPE_CHECKING:  # provided by IkeEngine

        def _random_int(self, size: int, low: int) -> int: ...

        def _send_informational(self, sa: IsakmpSa,
                                payload: NotificationPayload | DeletePayload) -> bytes: ...

    def _new_message_id(self, sa: IsakmpSa) -> int:
        while True:
            mid = self._random_int(4, 1)
            if (sa.peer, sa.cky_i, mid) not in self._qm:
                return mid

    def _new_spi(self, *taken: int) -> int:
        """A fresh inbound SPI: 256 and up (RFC 4303 2.1 reserves the rest), and none that a
        pair of ours or any other SA of the device already receives on (the receiver tells
        its SAs apart by SPI alone)."""
        while True:
            spi = self._random_int(4, 256)
            if spi not in taken and spi not in self._pairs and not self._spi_in_use(spi):
                return spi

    def _state(self, sa: IsakmpSa, old: str, new: str, mid: int) -> None:
        if self._trace():
            self._events.append(StateChanged(sa.peer, sa.conn_id, old, new, mid))

    def _start_quick_mode(self, sa: IsakmpSa, proxies: ProxyIdentity, offer: Phase2Offer,
                          now: float) -> None:
        suite, keys = sa.require_keys()
        mid = self._new_message_id(sa)
        protocols = offer_protocols(offer)
        spi_in = self._new_spi()
        ah_spi = 0
        if _AH in protocols:  # AH alone: the AH SPI is the exchange's SPI
            ah_spi = self._new_spi(spi_in) if _ESP in protocols else spi_in
        sa_payload = offer_sa_payload(offer, spi_in.to_bytes(4, "big"), udp_encap=sa.floated,
                                      ah_spi=ah_spi.to_bytes(4, "big") if ah_spi else None)
        ni_b = self._rand(NONCE_SIZE)
        body: list[Payload] = [sa_payload, NoncePayload(ni_b)]
        dh = None
        if offer.pfs_group is not None:
            dh = dh_group(offer.pfs_group).generate(self._rand)
            body.append(KePayload(dh.public_bytes()))
        body += [id_payload(proxies.local_net, proxies.local_mask, proxies.protocol,
                            proxies.local_port),
                 id_payload(proxies.remote_net, proxies.remote_mask, proxies.protocol,
                            proxies.remote_port)]
        encoded = push_payloads(body)
        h1 = quick_mode_hash_1(suite.hash, keys.skeyid_a, mid, encoded[1])
        data, iv = self._seal_hashed(sa, _QM, mid, h1, encoded, sa.phase2_iv(mid))
        x = QuickModeExchange(mid, True, proxies, offer, spi_in, ni_b, dh=dh,
                              sa_payload=sa_payload, iv=iv, last_sent=data,
                              resend_at=deadline_after(now, RETRANSMIT_BASE),
                              ah_spi_in=ah_spi)
        self._qm[(sa.peer, sa.cky_i, mid)] = x
        self.admission.counters.ipsec_outgoing += 1
        if self._trace():
            self._events.append(QuickModeStarted(sa.peer, sa.conn_id, mid))
        self._note(sa, NoteKind.QM_INITIATOR_SPI)
        self._transmit(sa, data)
        self._state(sa, "IKE_QM_READY", "IKE_QM_I_QM1", mid)

    def _open_hashed(self, sa: IsakmpSa, msg: IsakmpMessage, iv: bytes,
                     want: Callable[[bytes], bytes]) -> tuple[tuple[Payload, ...], bytes]:
        """Decrypt and parse a message that starts with a HASH and check it: ``want`` of the
        payloads after the HASH, as received (the strict codec re-encodes them to the same
        bytes), must be its data. Returns (the payloads after the HASH, next IV)."""
        payloads, chain, next_iv = self._open_chain(sa, msg, iv)
        if not payloads or not isinstance(payloads[0], HashPayload):
            raise RemoteProtocolError("HASH must be the first payload")
        if payloads[0].data != want(chain[GENERIC_HEADER_LENGTH + len(payloads[0].data):]):
            raise RemoteProtocolError("HASH does not verify")
        return payloads[1:], next_iv

    def _quick_mode(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        mid = msg.header.message_id
        x = self._qm.get((sa.peer, sa.cky_i, mid))
        if x is not None and data == x.last_received:
            if x.last_sent and (x.initiator or x.state != "done"):
                self._transmit(sa, x.last_sent)
            return
        if x is None:
            self._qm1(sa, msg, data, now)
        elif x.initiator and x.state == "QM_I_QM1":
            self._qm2(sa, x, msg, data, now)
        elif not x.initiator and x.state == "QM_R_QM2":
            self._qm3(sa, x, msg, data, now)
        else:
            raise RemoteProtocolError("unexpected quick mode message")

    @staticmethod
    def _qm_parts(rest: tuple[Payload, ...]
                  ) -> tuple[SaPayload, bytes, KePayload | None, list[IdPayload]]:
        sa_p = [p for p in rest if isinstance(p, SaPayload)]
        nonce = [p for p in rest if isinstance(p, NoncePayload)]
        kes = [p for p in rest if isinstance(p, KePayload)]
        ids = [p for p in rest if isinstance(p, IdPayload)]
        if len(sa_p) != 1 or len(nonce) != 1 or len(kes) > 1 or len(ids) not in (0, 2):
            raise RemoteProtocolError("quick mode needs one SA, one nonce, 0 or 2 IDs")
        return sa_p[0], nonce[0].data, kes[0] if kes else None, ids

    def _keys(self, sa: IsakmpSa, protocol: int, spi: int, x: QuickModeExchange, size: int,
              g_qm: bytes) -> bytes:
        """RFC 2409 5.5 KEYMAT of one direction of one protocol (``spi`` is the receiver's)."""
        suite, keys = sa.require_keys()
        return keymat(suite.hash, keys.skeyid_d, protocol, spi.to_bytes(4, "big"), x.ni_b,
                      x.nr_b, size, g_qm)

    def _pair(self, sa: IsakmpSa, x: QuickModeExchange, choice: ProposalChoice,
              seconds: int, kilobytes: int, g_qm: bytes) -> IpsecSaPair:
        """The SA pair of ``choice``: per protocol, our SPI from ``x`` and the peer's from the
        SA payload the peer sent (its proposal when we respond, its answer when we initiate)."""
        suite = choice.suite
        spi_out = {p.protocol: int.from_bytes(proposal.spi, "big")
                   for proposal, _, p in choice.parts}
        conn = self._next_ipsec_conn_id
        self._next_ipsec_conn_id += 2
        ah_name, ah_out, ah_keys_in, ah_keys_out = None, 0, b"", b""
        if suite.ah is not None:
            size = suite.ah.key_size
            ah_name, ah_out = suite.ah.name, spi_out[_AH]
            ah_keys_in = self._keys(sa, _AH, x.ah_spi_in, x, size, g_qm)
            ah_keys_out = self._keys(sa, _AH, ah_out, x, size, g_qm)
        if suite.enc is None:  # AH alone: the AH SPIs stand for the pair
            return IpsecSaPair(
                sa.peer, x.proxies, "ah", "", None, choice.mode, x.ah_spi_in, ah_out, b"", b"",
                seconds, kilobytes, choice.group, conn, conn + 1, False,
                ah_name, x.ah_spi_in, ah_out, ah_keys_in, ah_keys_out)
        enc, integ = suite.enc, suite.esp_integ
        size = enc.keymat_size + (integ.key_size if integ else 0)
        return IpsecSaPair(
            sa.peer, x.proxies, suite.protocol, enc.name, integ.name if integ else None,
            choice.mode, x.spi_in, spi_out[_ESP],
            self._keys(sa, _ESP, x.spi_in, x, size, g_qm),
            self._keys(sa, _ESP, spi_out[_ESP], x, size, g_qm),
            seconds, kilobytes, choice.group, conn, conn + 1, choice.udp_encap,
            ah_name, x.ah_spi_in if ah_name else 0, ah_out, ah_keys_in, ah_keys_out)

    def _qm1(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        suite, keys = sa.require_keys()
        mid = msg.header.message_id
        rest, iv = self._open_hashed(
            sa, msg, sa.phase2_iv(mid),
            lambda b: quick_mode_hash_1(suite.hash, keys.skeyid_a, mid, b))
        sa_payload, ni_b, ke, ids = self._qm_parts(rest)
        if ids:
            proxies = proxy_from_ids(ids[1], ids[0])
        else:
            proxies = ProxyIdentity(self.local, FULL_MASK, sa.peer, FULL_MASK)
        tracing = self._trace()
        if tracing:
            self._events.extend(trace.quick_mode_arrival(sa.peer, sa.conn_id, mid, sa_payload,
                                                         new_node=True))
        offers = offers_from_sa(sa_payload)
        answer = self._select(sa.peer, proxies, [o for o, _ in offers]) if offers else None
        chosen = answer if isinstance(answer, Phase2Offer) else None
        cause = answer.cause if isinstance(answer, Phase2Refused) else ""
        match = None
        if chosen is not None and chosen.transform_sets:
            want = canonical_transform_set(chosen.transform_sets[0])
            match = next((c for _, choices in offers for c in choices
                          if c.transform_set == want and c.mode == chosen.mode
                          and c.group == chosen.pfs_group
                          and (sa.floated or not c.udp_encap)
                          and (ke is not None) == (c.group is not None)), None)
        if match is None and not cause:
            cause = "proposal"  # nothing we could read, or an offer that contradicts itself
        if tracing:
            self._events.append(Phase2Checked(sa.peer, sa.conn_id, mid, proxies,
                                              tuple(o for o, _ in offers),
                                              chosen if match is not None else None, cause))
        x = QuickModeExchange(mid, False, proxies, None, self._new_spi(), ni_b,
                              last_received=data, state="QM_REJECTED", done_at=now)
        self.admission.counters.ipsec_incoming += 1
        if match is None or chosen is None:
            # the SPI of the first ESP proposal (else the first proposal): what the
            # initiator knows its exchange by
            first = next((p for p in sa_payload.proposals if p.protocol_id == _ESP),
                         sa_payload.proposals[0] if sa_payload.proposals else None)
            reason = "NO_PROPOSAL_CHOSEN: phase 2 SA policy not acceptable! " \
                     f"(local {ip_text(self.local)} remote {ip_text(sa.peer)})"
            self._events.append(Phase2Failed(sa.peer, reason, cause, proxies, sa.conn_id, mid))
            x.last_sent = self._send_informational(sa, NotificationPayload(
                NotifyType.NO_PROPOSAL_CHOSEN, first.protocol_id if first else _ESP,
                first.spi if first else b""))
            self._qm[(sa.peer, sa.cky_i, mid)] = x
            if tracing:
                self._events.append(NodeDeleted(sa.peer, sa.conn_id, mid, "QM rejected", True))
            self._state(sa, "IKE_QM_READY", "IKE_QM_READY", mid)
            return
        if match.part(_AH) is not None:
            x.ah_spi_in = self._new_spi(x.spi_in) if match.part(_ESP) else x.spi_in
        seconds = min(match.seconds, chosen.lifetime_seconds)
        kilobytes = min(match.kilobytes, chosen.lifetime_kilobytes)
        g_qm, my_ke = b"", None
        if match.group is not None and ke is not None:
            dh = dh_group(match.group).generate(self._rand)
            g_qm, my_ke = dh.shared_secret(ke.key_exchange_data), KePayload(dh.public_bytes())
        x.nr_b = self._rand(NONCE_SIZE)
        reply_sa = reply_sa_payload(match, {_ESP: x.spi_in.to_bytes(4, "big"),
                                            _AH: x.ah_spi_in.to_bytes(4, "big")},
                                    seconds, kilobytes)
        body: list[Payload] = [reply_sa, NoncePayload(x.nr_b), *([my_ke] if my_ke else []),
                               *ids]
        encoded = push_payloads(body)
        h2 = quick_mode_hash_2(suite.hash, keys.skeyid_a, mid, ni_b, encoded[1])
        if tracing:
            self._events.extend(trace.quick_mode_payloads(sa.peer, sa.conn_id, mid,
                                                          pfs=ke is not None, ids=len(ids)))
        self._note(sa, NoteKind.QM_RESPONDER_SPI)
        self._state(sa, "IKE_QM_READY", "IKE_QM_SPI_STARVE", mid)
        self._state(sa, "IKE_QM_SPI_STARVE", "IKE_QM_IPSEC_INSTALL_AWAIT", mid)
        reply, x.iv = self._seal_hashed(sa, _QM, mid, h2, encoded, iv)
        x.result = self._pair(sa, x, match, seconds, kilobytes, g_qm)
        x.state, x.done_at, x.last_sent = "QM_R_QM2", None, reply
        x.resend_at = deadline_after(now, RETRANSMIT_BASE)
        self._qm[(sa.peer, sa.cky_i, mid)] = x
        self._events.append(Phase2Keyed(x.result))
        self._transmit(sa, reply)
        self._state(sa, "IKE_QM_IPSEC_INSTALL_AWAIT", "IKE_QM_R_QM2", mid)

    def _qm2(self, sa: IsakmpSa, x: QuickModeExchange, msg: IsakmpMessage, data: bytes,
             now: float) -> None:
        suite, keys = sa.require_keys()
        assert x.offer is not None and x.sa_payload is not None
        rest, iv = self._open_hashed(
            sa, msg, x.iv, lambda b: quick_mode_hash_2(suite.hash, keys.skeyid_a,
                                                       x.message_id, x.ni_b, b))
        sa_payload, nr_b, ke, ids = self._qm_parts(rest)
        choice = answered_choice(x.sa_payload, sa_payload)
        if choice is None:
            raise RemoteProtocolError("QM2 chose a proposal we did not offer")
        if (ke is None) != (x.dh is None):
            raise RemoteProtocolError("PFS KE payload mismatch")
        q = x.proxies
        # the same fields encode to the same bytes: compared as payloads, not re-encoded
        sent_ids = [id_payload(q.local_net, q.local_mask, q.protocol, q.local_port),
                    id_payload(q.remote_net, q.remote_mask, q.protocol, q.remote_port)]
        if ids and ids != sent_ids:
            raise RemoteProtocolError("QM2 IDs differ from ours")
        g_qm = x.dh.shared_secret(ke.key_exchange_data) if x.dh and ke else b""
        x.nr_b = nr_b
        tracing = self._trace()
        if tracing:
            self._events.extend(trace.quick_mode_arrival(sa.peer, sa.conn_id, x.message_id,
                                                         sa_payload, new_node=False))
            self._events.extend(trace.quick_mode_payloads(sa.peer, sa.conn_id, x.message_id,
                                                          pfs=ke is not None, ids=len(ids)))
        self._state(sa, "IKE_QM_I_QM1", "IKE_QM_IPSEC_INSTALL_AWAIT", x.message_id)
        h3 = quick_mode_hash_3(suite.hash, keys.skeyid_a, x.message_id, x.ni_b, x.nr_b)
        qm3, x.iv = self._seal(sa, _QM, x.message_id, [HashPayload(h3)], iv)
        pair = self._pair(sa, x, choice, min(choice.seconds, x.offer.lifetime_seconds),
                          min(choice.kilobytes, x.offer.lifetime_kilobytes), g_qm)
        x.state, x.resend_at, x.done_at = "done", None, now
        x.last_received, x.last_sent, x.dh = data, qm3, None
        self._pairs[pair.spi_in] = pair
        self._events.append(Phase2Keyed(pair))
        self._transmit(sa, qm3)
        if tracing:
            self._events.append(NodeDeleted(sa.peer, sa.conn_id, x.message_id, "No Error"))
        self._events.append(Phase2Established(pair))
        self._state(sa, "IKE_QM_IPSEC_INSTALL_AWAIT", "IKE_QM_PHASE2_COMPLETE", x.message_id)

    def _qm3(self, sa: IsakmpSa, x: QuickModeExchange, msg: IsakmpMessage, data: bytes,
             now: float) -> None:
        suite, keys = sa.require_keys()
        payloads, _ = self._open(sa, msg, x.iv)
        if len(payloads) != 1 or not isinstance(payloads[0], HashPayload):
            raise RemoteProtocolError("QM3 carries HASH(3) only")
        if payloads[0].data != quick_mode_hash_3(suite.hash, keys.skeyid_a, x.message_id,
                                                 x.ni_b, x.nr_b):
            raise RemoteProtocolError("HASH(3) does not verify")
        assert x.result is not None
        x.state, x.resend_at, x.done_at = "done", None, now
        x.last_received, x.last_sent = data, b""
        if self._trace():
            self._events.append(NodeDeleted(sa.peer, sa.conn_id, x.message_id,
                                            "QM done (await)"))
        self._pairs[x.result.spi_in] = x.result
        self._state(sa, "IKE_QM_R_QM2", "IKE_QM_PHASE2_COMPLETE", x.message_id)
        self._events.append(Phase2Established(x.result))
