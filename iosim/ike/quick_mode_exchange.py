"""The quick-mode half of the IKEv1 engine (RFC 2409 section 5.5), sans-IO.

``QuickModeMixin`` holds the three quick-mode handlers (``_qm1`` as responder, ``_qm2`` and
``_qm3``) and starting a quick mode as initiator; ``iosim.ike.engine.IkeEngine`` mixes it in
with :class:`iosim.ike.main_mode.MainModeMixin` and dispatches to it. The exchange, its states
and its payload codecs are described in :mod:`iosim.ike.quick_mode`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from iosim.crypto.dh import group as dh_group
from iosim.ike.constants import ExchangeType, NotifyType, ProtocolId
from iosim.ike.keymat import keymat, quick_mode_hash_1, quick_mode_hash_2, quick_mode_hash_3
from iosim.ike.main_mode import (
    NONCE_SIZE,
    RETRANSMIT_BASE,
    IsakmpSa,
    MainModeMixin,
    RemoteProtocolError,
    ip_text,
)
from iosim.ike.payloads import (
    DeletePayload,
    HashPayload,
    IdPayload,
    IsakmpMessage,
    KePayload,
    NoncePayload,
    NotificationPayload,
    Payload,
    ProposalPayload,
    SaPayload,
    push_payload_body,
    push_payloads,
)
from iosim.ike.quick_mode import (
    FULL_MASK,
    IpsecSaPair,
    Phase2Offer,
    ProxyIdentity,
    QuickModeExchange,
    esp_suite,
    esp_transform,
    id_payload,
    offer_sa_payload,
    offers_from_sa,
    parse_esp_transform,
    proxy_from_ids,
)

__all__ = ["Phase2Established", "Phase2Failed", "QuickModeMixin"]

_ESP = ProtocolId.PROTO_IPSEC_ESP
_QM = ExchangeType.QUICK_MODE


@dataclass(frozen=True)
class Phase2Established:
    """Quick mode completed: install ``sa``."""

    sa: IpsecSaPair


@dataclass(frozen=True)
class Phase2Failed:
    """Quick mode with ``peer`` failed (e.g. ``NO_PROPOSAL_CHOSEN``)."""

    peer: int
    reason: str


class QuickModeMixin(MainModeMixin):
    """Quick-mode handlers of ``IkeEngine``; each mutates state only after its message has
    been decrypted, authenticated and checked."""

    local: int
    _rand: Callable[[int], bytes]
    _select: Callable[[int, ProxyIdentity, list[Phase2Offer]], Phase2Offer | None]
    _qm: dict[tuple[int, bytes, int], QuickModeExchange]
    _pairs: dict[int, IpsecSaPair]
    _outbox: list[tuple[int, bytes, int]]
    _events: deque[object]
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

    def _start_quick_mode(self, sa: IsakmpSa, proxies: ProxyIdentity, offer: Phase2Offer,
                          now: float) -> None:
        suite, keys = sa.require_keys()
        mid = self._new_message_id(sa)
        spi_in = self._random_int(4, 256)
        sa_payload = offer_sa_payload(offer, spi_in.to_bytes(4, "big"), udp_encap=sa.floated)
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
        h1 = quick_mode_hash_1(suite.hash, keys.skeyid_a, mid, push_payloads(body)[1])
        data, iv = self._seal(sa, _QM, mid, [HashPayload(h1), *body], sa.phase2_iv(mid))
        x = QuickModeExchange(mid, True, proxies, offer, spi_in, ni_b, dh=dh,
                              sa_payload=sa_payload, iv=iv, last_sent=data,
                              resend_at=now + RETRANSMIT_BASE)
        self._qm[(sa.peer, sa.cky_i, mid)] = x
        self._outbox.append((sa.peer, data, sa.port))

    def _verify_hash(self, payloads: tuple[Payload, ...], want: Callable[[bytes], bytes]
                     ) -> tuple[Payload, ...]:
        if not payloads or not isinstance(payloads[0], HashPayload):
            raise RemoteProtocolError("HASH must be the first payload")
        rest = payloads[1:]
        if payloads[0].data != want(push_payloads(rest)[1]):
            raise RemoteProtocolError("HASH does not verify")
        return rest

    def _quick_mode(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        mid = msg.header.message_id
        x = self._qm.get((sa.peer, sa.cky_i, mid))
        if x is not None and data == x.last_received:
            if x.last_sent and (x.initiator or x.state != "done"):
                self._outbox.append((sa.peer, x.last_sent, sa.port))
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

    def _keys(self, sa: IsakmpSa, spi: int, ni_b: bytes, nr_b: bytes, size: int,
              g_qm: bytes) -> bytes:
        suite, keys = sa.require_keys()
        return keymat(suite.hash, keys.skeyid_d, _ESP, spi.to_bytes(4, "big"), ni_b, nr_b, size,
                      g_qm)

    def _pair(self, sa: IsakmpSa, x: QuickModeExchange, spi_out: int, chosen: tuple[str, ...],
              mode: str, pfs: int | None, seconds: int, kilobytes: int, g_qm: bytes,
              udp_encap: bool) -> IpsecSaPair:
        suite = esp_suite(chosen)
        assert suite is not None
        enc, integ = suite
        size = enc.keymat_size + (integ.key_size if integ else 0)
        conn = self._next_ipsec_conn_id
        self._next_ipsec_conn_id += 2
        return IpsecSaPair(
            sa.peer, x.proxies, "esp", enc.name, integ.name if integ else None, mode,
            x.spi_in, spi_out,
            self._keys(sa, x.spi_in, x.ni_b, x.nr_b, size, g_qm),
            self._keys(sa, spi_out, x.ni_b, x.nr_b, size, g_qm),
            seconds, kilobytes, pfs, conn, conn + 1, udp_encap)

    def _qm1(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        suite, keys = sa.require_keys()
        mid = msg.header.message_id
        payloads, iv = self._open(sa, msg, sa.phase2_iv(mid))
        rest = self._verify_hash(
            payloads, lambda b: quick_mode_hash_1(suite.hash, keys.skeyid_a, mid, b))
        sa_payload, ni_b, ke, ids = self._qm_parts(rest)
        if ids:
            proxies = proxy_from_ids(ids[1], ids[0])
        else:
            proxies = ProxyIdentity(self.local, FULL_MASK, sa.peer, FULL_MASK)
        offers = offers_from_sa(sa_payload)
        chosen = self._select(sa.peer, proxies, [o for _, _, o in offers]) if offers else None
        match = None
        if chosen is not None and chosen.transform_sets:
            for proposal, parsed, _ in offers:
                for t, p in zip(proposal.transforms, (parse_esp_transform(t) for t in
                                                      proposal.transforms), strict=True):
                    if (p is not None and p in parsed and match is None
                            and p.transform_set == chosen.transform_sets[0]
                            and p.mode == chosen.mode and p.group == chosen.pfs_group
                            and (sa.floated or not p.udp_encap)
                            and (ke is not None) == (p.group is not None)):
                        match = (proposal, t, p)
        x = QuickModeExchange(mid, False, proxies, None, self._random_int(4, 256), ni_b,
                              last_received=data, state="QM_REJECTED", done_at=now)
        if match is None or chosen is None:
            spi = sa_payload.proposals[0].spi if sa_payload.proposals else b""
            reason = "NO_PROPOSAL_CHOSEN: phase 2 SA policy not acceptable! " \
                     f"(local {ip_text(self.local)} remote {ip_text(sa.peer)})"
            self._events.append(Phase2Failed(sa.peer, reason))
            x.last_sent = self._send_informational(
                sa, NotificationPayload(NotifyType.NO_PROPOSAL_CHOSEN, _ESP, spi))
            self._qm[(sa.peer, sa.cky_i, mid)] = x
            return
        proposal, t, p = match
        seconds = min(p.seconds, chosen.lifetime_seconds)
        kilobytes = min(p.kilobytes, chosen.lifetime_kilobytes)
        g_qm, my_ke = b"", None
        if p.group is not None and ke is not None:
            dh = dh_group(p.group).generate(self._rand)
            g_qm, my_ke = dh.shared_secret(ke.key_exchange_data), KePayload(dh.public_bytes())
        x.nr_b = self._rand(NONCE_SIZE)
        reply_sa = SaPayload((ProposalPayload(
            proposal.number, _ESP, x.spi_in.to_bytes(4, "big"),
            (esp_transform(t.number, p.enc, p.integ, p.mode, p.group, seconds, kilobytes,
                           udp_encap=p.udp_encap),)),))
        body: list[Payload] = [reply_sa, NoncePayload(x.nr_b), *([my_ke] if my_ke else []),
                               *ids]
        h2 = quick_mode_hash_2(suite.hash, keys.skeyid_a, mid, ni_b, push_payloads(body)[1])
        reply, x.iv = self._seal(sa, _QM, mid, [HashPayload(h2), *body], iv)
        x.result = self._pair(sa, x, int.from_bytes(proposal.spi, "big"), p.transform_set,
                              p.mode, p.group, seconds, kilobytes, g_qm, p.udp_encap)
        x.state, x.done_at, x.last_sent = "QM_R_QM2", None, reply
        x.resend_at = now + RETRANSMIT_BASE
        self._qm[(sa.peer, sa.cky_i, mid)] = x
        self._outbox.append((sa.peer, reply, sa.port))

    def _qm2(self, sa: IsakmpSa, x: QuickModeExchange, msg: IsakmpMessage, data: bytes,
             now: float) -> None:
        suite, keys = sa.require_keys()
        assert x.offer is not None and x.sa_payload is not None
        payloads, iv = self._open(sa, msg, x.iv)
        rest = self._verify_hash(
            payloads, lambda b: quick_mode_hash_2(suite.hash, keys.skeyid_a, x.message_id,
                                                  x.ni_b, b))
        sa_payload, nr_b, ke, ids = self._qm_parts(rest)
        if len(sa_payload.proposals) != 1 or len(sa_payload.proposals[0].transforms) != 1:
            raise RemoteProtocolError("QM2 must choose one transform")
        answer = sa_payload.proposals[0]
        ours = next((p for p in x.sa_payload.proposals if p.number == answer.number), None)
        got = parse_esp_transform(answer.transforms[0])
        mine = parse_esp_transform(ours.transforms[0]) if ours else None
        if (got is None or mine is None or len(answer.spi) != 4 or answer.protocol_id != _ESP
                or (got.enc, got.integ, got.mode, got.group, got.udp_encap)
                != (mine.enc, mine.integ, mine.mode, mine.group, mine.udp_encap)):
            raise RemoteProtocolError("QM2 chose a proposal we did not offer")
        if (ke is None) != (x.dh is None):
            raise RemoteProtocolError("PFS KE payload mismatch")
        q = x.proxies
        sent_ids = [push_payload_body(id_payload(q.local_net, q.local_mask, q.protocol,
                                                 q.local_port)),
                    push_payload_body(id_payload(q.remote_net, q.remote_mask, q.protocol,
                                                 q.remote_port))]
        if ids and [push_payload_body(i) for i in ids] != sent_ids:
            raise RemoteProtocolError("QM2 IDs differ from ours")
        g_qm = x.dh.shared_secret(ke.key_exchange_data) if x.dh and ke else b""
        x.nr_b = nr_b
        h3 = quick_mode_hash_3(suite.hash, keys.skeyid_a, x.message_id, x.ni_b, x.nr_b)
        qm3, x.iv = self._seal(sa, _QM, x.message_id, [HashPayload(h3)], iv)
        pair = self._pair(sa, x, int.from_bytes(answer.spi, "big"), got.transform_set, got.mode,
                          got.group, min(got.seconds, x.offer.lifetime_seconds),
                          min(got.kilobytes, x.offer.lifetime_kilobytes), g_qm, got.udp_encap)
        x.state, x.resend_at, x.done_at = "done", None, now
        x.last_received, x.last_sent, x.dh = data, qm3, None
        self._pairs[pair.spi_in] = pair
        self._outbox.append((sa.peer, qm3, sa.port))
        self._events.append(Phase2Established(pair))

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
        self._pairs[x.result.spi_in] = x.result
        self._events.append(Phase2Established(x.result))

