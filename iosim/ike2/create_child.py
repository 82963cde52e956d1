"""CREATE_CHILD_SA of :class:`~iosim.ike2.engine.Ikev2Engine` (RFC 7296 1.3, 2.8, 2.17,
2.18): the CHILD_SA a request asks for judged and answered (also IKE_AUTH's first one), the
answer to one we asked for, child rekeys with or without PFS (the rekey's initiator deletes
the pair it replaced), and the IKE SA rekey with its successor SA."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from iosim.crypto.dh import group
from iosim.ike.phase2_policy import Phase2Refused
from iosim.ike.quick_mode import Phase2Offer, ProxyIdentity
from iosim.ike2 import child
from iosim.ike2.constants import ExchangeType, NotifyType, ProtocolId
from iosim.ike2.events import ChildDeleted, ChildFailed, ChildUp
from iosim.ike2.keys import ike_keys, rekey_skeyseed
from iosim.ike2.payloads import (
    DeletePayload,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    SaPayload,
    TsPayload,
)
from iosim.ike2.sa import IkeProposal, Ikev2Sa, PendingChild, Suite, answered_suite, choose
from iosim.ike2.timers import SaIndex

__all__ = ["NONCE_SIZE", "CreateChildMixin", "Drop", "SelectChild"]

NONCE_SIZE = 32

#: The SPD's judgement of a child: (peer, proposed proxies, offers, in IKE_AUTH) -> the
#: offer and (possibly narrowed) proxies, or why not. IKE_AUTH's child has no PFS of its
#: own (RFC 7296 1.2): a ``set pfs`` there must not refuse it.
SelectChild = Callable[[int, ProxyIdentity, list[Phase2Offer], bool],
                       "tuple[Phase2Offer, ProxyIdentity] | Phase2Refused"]


class Drop(Exception):
    """A message to drop and count (it changes nothing)."""


class CreateChildMixin:
    """The CHILD_SA and IKE SA rekey handlers of ``Ikev2Engine``."""

    local: int
    sas: dict[bytes, Ikev2Sa]
    _index: SaIndex
    _events: deque[object]
    _trace: Callable[[], bool]  # whether anyone listens to the trace events
    _rand: Callable[[int], bytes]
    _select: SelectChild
    _proposals: Callable[[], list[IkeProposal]]
    _nat_traversal: bool
    _next_sa_id: int

    if TYPE_CHECKING:  # provided by Ikev2Engine

        def next_conn_ids(self) -> tuple[int, int]: ...

        def _spi(self) -> int: ...

        def _child_offer(self, sa: Ikev2Sa, want: PendingChild, *, pfs: bool,
                         context: dict[str, object]) -> list[Payload]: ...

        def _send_request(self, sa: Ikev2Sa, exchange: int, payloads: list[Payload],
                          what: str, now: float, *, force: bool = False,
                          context: dict[str, object] | None = None) -> None: ...

        def _respond(self, sa: Ikev2Sa, exchange: int, mid: int,
                     payloads: list[Payload]) -> None: ...

        def _established(self, sa: Ikev2Sa, now: float, rekey: bool = False) -> None: ...

        def _kick(self, sa: Ikev2Sa, now: float) -> None: ...

    def _child_answer(self, sa: Ikev2Sa, inner: tuple[Payload, ...], *, pfs: bool,
                      ke: KePayload | None,
                      nonces: tuple[bytes, bytes] | None = None) -> list[Payload]:
        """Responder: judge the child a request asks for; the payloads of the answer
        (``nonces``: CREATE_CHILD_SA's own, else IKE_AUTH's child uses the IKE SA's)."""
        offered = next((p for p in inner if isinstance(p, SaPayload)), None)
        tsi = next((p for p in inner if isinstance(p, TsPayload) and not p.responder), None)
        tsr = next((p for p in inner if isinstance(p, TsPayload) and p.responder), None)
        if offered is None or tsi is None or tsr is None:
            return []
        transport = any(isinstance(p, NotifyPayload)
                        and p.notify_type == NotifyType.USE_TRANSPORT_MODE for p in inner)
        proxies = child.proxies_from_ts(tsi, tsr, False)
        if proxies is None:
            self._events.append(ChildFailed(sa.peer, sa.sa_id, None, "TS_UNACCEPTABLE", True))
            return [NotifyPayload(NotifyType.TS_UNACCEPTABLE)]
        offers = child.offers_from_sa(offered, transport, pfs)
        answer = self._select(sa.peer, proxies, [o for o, _ in offers], not pfs)
        if isinstance(answer, Phase2Refused):
            notify = "TS_UNACCEPTABLE" if answer.cause == "proxies" else "NO_PROPOSAL_CHOSEN"
            self._events.append(ChildFailed(sa.peer, sa.sa_id, proxies, notify, True))
            return [NotifyPayload(NotifyType[notify])]
        chosen_offer, narrowed = answer
        choice = next(c for o, c in offers if o.transform_sets == chosen_offer.transform_sets
                      and (not pfs or o.pfs_group == chosen_offer.pfs_group))
        shared: bytes | None = None
        out: list[Payload] = []
        if choice.group is not None:
            if ke is None or ke.group != choice.group:
                self._events.append(ChildFailed(sa.peer, sa.sa_id, proxies,
                                                "INVALID_KE_PAYLOAD", True))
                return [NotifyPayload(NotifyType.INVALID_KE_PAYLOAD,
                                      choice.group.to_bytes(2, "big"))]
            dh = group(choice.group).generate(self._rand)
            shared = dh.shared_secret(ke.data)
        spi_in = self._spi()
        ni, nr = nonces if nonces is not None else (sa.ni, sa.nr)
        if shared is not None:
            out_ke: list[Payload] = [KePayload(choice.group or 0, dh.public_bytes())]
        else:
            out_ke = []
        spi_out = int.from_bytes(choice.proposal.spi, "big")
        self._install(sa, choice, ni, nr, shared, initiator=False, proxies=narrowed,
                      mode=chosen_offer.mode, spi_in=spi_in, spi_out=spi_out,
                      seconds=chosen_offer.lifetime_seconds,
                      kilobytes=chosen_offer.lifetime_kilobytes,
                      replaces=self._rekeyed(sa, inner))
        tsi2, tsr2 = child.ts_payloads(narrowed, False)
        out += [child.reply_sa_payload(choice, spi_in.to_bytes(4, "big"))]
        if nonces is not None:
            out.append(NoncePayload(nr))
        out += out_ke + [tsi2, tsr2]
        if chosen_offer.mode == "transport":
            out.append(NotifyPayload(NotifyType.USE_TRANSPORT_MODE))
        return out + list(child.CHILD_NOTIFIES)

    @staticmethod
    def _rekeyed(sa: Ikev2Sa, inner: tuple[Payload, ...]) -> int | None:
        """The inbound SPI of our pair a REKEY_SA notify names (it carries the peer's
        inbound SPI, our outbound one)."""
        note = next((p for p in inner if isinstance(p, NotifyPayload)
                     and p.notify_type == NotifyType.REKEY_SA and len(p.spi) == 4), None)
        if note is None:
            return None
        theirs = int.from_bytes(note.spi, "big")
        return next((spi for spi, p in sa.children.items() if p.spi_out == theirs), None)

    def _install(self, sa: Ikev2Sa, choice: child.ChildChoice, ni: bytes, nr: bytes,
                 shared: bytes | None, *, initiator: bool, proxies: ProxyIdentity, mode: str,
                 spi_in: int, spi_out: int, seconds: int, kilobytes: int,
                 replaces: int | None) -> None:
        s, k = sa.suite, sa.keys
        assert s is not None and k is not None
        pair = child.pair(s.prf, k.sk_d, ni, nr, shared, choice, initiator, peer=sa.peer,
                          proxies=proxies, mode=mode, spi_in=spi_in, spi_out=spi_out,
                          seconds=seconds, kilobytes=kilobytes,
                          udp_encap=sa.nat_detected and self._nat_traversal,
                          conn_ids=self.next_conn_ids())
        owner = sa  # a child made on an IKE SA rekeyed meanwhile belongs to its successor
        while owner.rekeyed_by is not None:
            owner = owner.rekeyed_by
        owner.children[spi_in] = pair
        self._events.append(ChildUp(pair, owner.sa_id, replaces))

    def _child_done(self, sa: Ikev2Sa, inner: tuple[Payload, ...], ke: KePayload | None,
                    ctx: dict[str, object]) -> None:
        """Initiator: the response to a child we asked for (IKE_AUTH or CREATE_CHILD_SA),
        with what we kept of that request."""
        proxies = ctx.get("proxies")
        if not isinstance(proxies, ProxyIdentity):
            return
        notes = [p for p in inner if isinstance(p, NotifyPayload) and p.notify_type < 16384]
        answer = next((p for p in inner if isinstance(p, SaPayload)), None)
        tsi = next((p for p in inner if isinstance(p, TsPayload) and not p.responder), None)
        tsr = next((p for p in inner if isinstance(p, TsPayload) and p.responder), None)
        offered, offer = ctx.get("sa"), ctx.get("offer")
        if notes or answer is None or tsi is None or tsr is None:
            notify = NotifyType.name_of(notes[0].notify_type) if notes else "INVALID_SYNTAX"
            self._events.append(ChildFailed(sa.peer, sa.sa_id, proxies, notify, False))
            return
        assert isinstance(offered, SaPayload) and isinstance(offer, Phase2Offer)
        dh = ctx.get("dh")  # we sent KEi: PFS asked for (2.17)
        if (dh is None) != (ke is None):  # a KEr exactly when we sent KEi
            self._events.append(ChildFailed(sa.peer, sa.sa_id, proxies, "INVALID_SYNTAX",
                                            False))
            return
        pfs = dh is not None
        choice = child.answered(offered, answer, pfs)
        narrowed = child.proxies_from_ts(tsi, tsr, True)
        if choice is None or narrowed is None or (pfs and (  # the group we offered, no other
                ke is None or choice.group != offer.pfs_group or ke.group != choice.group)):
            self._events.append(ChildFailed(sa.peer, sa.sa_id, proxies, "NO_PROPOSAL_CHOSEN",
                                            False))
            return
        shared = None
        if pfs and ke is not None:
            shared = dh.shared_secret(ke.data)  # type: ignore[attr-defined]
        nonces = ctx.get("nonces")
        ni, nr = nonces if isinstance(nonces, tuple) else (sa.ni, sa.nr)
        transport = any(isinstance(p, NotifyPayload)
                        and p.notify_type == NotifyType.USE_TRANSPORT_MODE for p in inner)
        rekey = ctx.get("rekey")
        self._install(sa, choice, ni, nr, shared, initiator=True, proxies=narrowed,
                      mode="transport" if transport else "tunnel", spi_in=int(ctx["spi"]),  # type: ignore[call-overload]
                      spi_out=int.from_bytes(answer.proposals[0].spi, "big"),
                      seconds=offer.lifetime_seconds, kilobytes=offer.lifetime_kilobytes,
                      replaces=rekey if isinstance(rekey, int) else None)
        if isinstance(rekey, int) and rekey in sa.children:
            # RFC 7296 2.8: the initiator of the rekey deletes the replaced CHILD_SA (a
            # responder such as strongSwan keeps sending on it until that Delete arrives)
            del sa.children[rekey]
            sa.queue.append(("delete_child", rekey))
            self._events.append(ChildDeleted(sa.peer, rekey))

    def _request_child(self, sa: Ikev2Sa, want: PendingChild, now: float) -> None:
        """CREATE_CHILD_SA for a new or rekeyed child (2.17), with KE for PFS."""
        payloads: list[Payload] = []
        if want.rekey_spi is not None and want.rekey_spi in sa.children:
            payloads.append(NotifyPayload(NotifyType.REKEY_SA, protocol_id=ProtocolId.ESP,
                                          spi=want.rekey_spi.to_bytes(4, "big")))
        context: dict[str, object] = {}
        offer_payloads = self._child_offer(sa, want, pfs=True, context=context)
        if not offer_payloads:
            return
        ni = self._rand(NONCE_SIZE)
        sa_payload, *ts = offer_payloads
        payloads += [sa_payload, NoncePayload(ni)]
        if want.offer.pfs_group is not None:
            dh = group(want.offer.pfs_group).generate(self._rand)
            context["dh"] = dh
            payloads.append(KePayload(want.offer.pfs_group, dh.public_bytes()))
        payloads += ts
        context["nonces"] = (ni, b"")
        self._send_request(sa, ExchangeType.CREATE_CHILD_SA, payloads, "child", now,
                           context=context)

    def _request_ike_rekey(self, sa: Ikev2Sa, now: float) -> None:
        """CREATE_CHILD_SA for the IKE SA itself (2.18): new SPI, Ni, KE."""
        assert sa.suite is not None
        spi = self._rand(8)
        ni = self._rand(NONCE_SIZE)
        dh = group(sa.suite.group).generate(self._rand)
        offered = sa.suite.reply(1, spi)
        self._send_request(sa, ExchangeType.CREATE_CHILD_SA,
                           [offered, NoncePayload(ni), KePayload(sa.suite.group,
                                                                 dh.public_bytes())],
                           "rekey_ike", now, context={"ike_rekey": (spi, ni, dh, offered)})

    def _create_child_request(self, sa: Ikev2Sa, mid: int, inner: tuple[Payload, ...],
                              now: float) -> None:
        offered = next((p for p in inner if isinstance(p, SaPayload)), None)
        ni = next((p for p in inner if isinstance(p, NoncePayload)), None)
        ke = next((p for p in inner if isinstance(p, KePayload)), None)
        if offered is None or ni is None:
            raise Drop("CREATE_CHILD_SA without SA or Ni")
        if offered.proposals[0].protocol_id == ProtocolId.IKE:
            self._ike_rekey_request(sa, mid, offered, ni.data, ke, now)
            return
        nr = self._rand(NONCE_SIZE)
        payloads = self._child_answer(sa, inner, pfs=True, ke=ke, nonces=(ni.data, nr))
        if not payloads:
            payloads = [NotifyPayload(NotifyType.NO_PROPOSAL_CHOSEN)]
        self._respond(sa, ExchangeType.CREATE_CHILD_SA, mid, payloads)

    def _ike_rekey_request(self, sa: Ikev2Sa, mid: int, offered: SaPayload, ni: bytes,
                           ke: KePayload | None, now: float) -> None:
        assert sa.suite is not None and sa.keys is not None
        chosen = choose(self._proposals(), offered)
        if chosen is None or ke is None or chosen[0].group != ke.group \
                or len(offered.proposals[0].spi) != 8:
            self._respond(sa, ExchangeType.CREATE_CHILD_SA, mid,
                          [NotifyPayload(NotifyType.NO_PROPOSAL_CHOSEN)])
            return
        suite, number = chosen
        spi_i = next(p.spi for p in offered.proposals if p.number == number)
        dh = group(suite.group).generate(self._rand)
        shared = dh.shared_secret(ke.data)
        nr = self._rand(NONCE_SIZE)
        new = self._successor(sa, False, spi_i, self._rand(8), suite, ni, nr, shared, now)
        self._respond(sa, ExchangeType.CREATE_CHILD_SA, mid,
                      [suite.reply(number, new.spi_r), NoncePayload(nr),
                       KePayload(suite.group, dh.public_bytes())])
        self._hand_over_queue(sa, new)
        self._kick(new, now)

    def _successor(self, old: Ikev2Sa, initiator: bool, spi_i: bytes, spi_r: bytes,
                   suite: Suite | None, ni: bytes, nr: bytes, shared: bytes, now: float) -> Ikev2Sa:
        """The IKE SA a rekey made: new SPIs and keys, the old SA's children and settings."""
        assert old.keys is not None and old.suite is not None
        new = Ikev2Sa(old.peer, initiator, spi_i, spi_r, self._next_sa_id, now,
                      session_id=old.session_id or old.sa_id, port=old.port,
                      nat_detected=old.nat_detected, nat_local=old.nat_local)
        self._next_sa_id += 1
        new.suite, new.ni, new.nr, new.group = old.suite, ni, nr, old.suite.group
        new.settings, new.remote_id, new.fragmentation = old.settings, old.remote_id, \
            old.fragmentation
        new.window, new.peer_window = old.window, old.peer_window  # announced once, kept
        new.keys = ike_keys(old.suite.prf, rekey_skeyseed(old.suite.prf, old.keys.sk_d, shared,
                                                          ni, nr),
                            ni, nr, spi_i, spi_r, old.suite.cipher, old.suite.integ)
        new.children, old.children = old.children, {}
        self._index.add(new)
        self._established(new, now, rekey=True)  # the session goes on: no SA UP, no DOWN
        old.rekeyed_by = new
        old.expires_at = old.rekey_at = old.dpd_at = None
        return new

    @staticmethod
    def _hand_over_queue(old: Ikev2Sa, new: Ikev2Sa) -> None:
        """What waits on a rekeyed IKE SA goes on its successor, on either side of the rekey
        (a rekey of the old SA it held is moot)."""
        new.queue = deque(q for q in old.queue if q != ("rekey_ike",))
        old.queue = deque()

    def _ike_rekey_done(self, sa: Ikev2Sa, inner: tuple[Payload, ...],
                        context: dict[str, object], now: float) -> None:
        ctx = context.get("ike_rekey")
        answer = next((p for p in inner if isinstance(p, SaPayload)), None)
        nr = next((p for p in inner if isinstance(p, NoncePayload)), None)
        ke = next((p for p in inner if isinstance(p, KePayload)), None)
        if not isinstance(ctx, tuple) or answer is None or nr is None or ke is None:
            return
        spi, ni, dh, offered = ctx
        if answered_suite(offered, answer) is None or len(answer.proposals[0].spi) != 8:
            return
        new = self._successor(sa, True, spi, answer.proposals[0].spi, sa.suite, ni, nr.data,
                              dh.shared_secret(ke.data), now)
        self._hand_over_queue(sa, new)  # before the Delete, which must go on the old SA
        self._send_request(sa, ExchangeType.INFORMATIONAL, [DeletePayload(ProtocolId.IKE)],
                           "delete_ike", now)
        self._kick(new, now)  # what was queued on the old SA (a Delete, a child) goes now
