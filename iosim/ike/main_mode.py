"""IKEv1 main mode pieces (RFC 2409 section 5, pre-shared keys): the ISAKMP SA state and the
phase-1 encryption; the policies it negotiates with are :mod:`iosim.ike.phase1_policy`'s.

Theory of operation
-------------------
The initiator offers all its pre-share ``IkePolicy``s as the transforms of one ISAKMP
proposal; the responder takes the first match of its own (``choose_policy``, IOS's policy
walk, in :mod:`iosim.ike.phase1_policy`).

``IsakmpSa`` is the state of one phase-1 SA, and of its negotiation while main mode runs::

    initiator                               responder
    MM_NO_STATE   -- MM1 HDR, SA, VID(NAT-T x4) -->
                  <-- MM2 HDR, SA [, VID(RFC 3947)] --   MM_SA_SETUP
    MM_SA_SETUP   -- MM3 HDR, KE, Ni, VID(DPD), VID(IOS) [, NAT-D, NAT-D] -->
                  <-- MM4 HDR, KE, Nr, VID(Unity), VID(DPD), VID(IOS) [, NAT-D, NAT-D] --
                                                                     MM_KEY_EXCH
    MM_KEY_EXCH   -- MM5 HDR*, IDii, HASH_I [, N(INITIAL-CONTACT)] -->   (to 4500 if NAT)
                  <-- MM6 HDR*, IDir, HASH_R --   QM_IDLE
    QM_IDLE

The state names are IOS's, so ``show crypto isakmp sa`` prints them directly. The SA keeps the
CBC chaining value of the main-mode exchange (``iv``), frozen at the last block of MM6 once
phase 1 is complete (``last_block``: the input of the RFC 2409 Appendix B phase-2 IV).
Nonces are 20 bytes, as IOS sends them.

Each message carries the vendor IDs IOS puts there (:mod:`iosim.ike.vendor_ids`: the NAT-T
versions in MM1, the chosen one in MM2, DPD and Cisco's in MM3/MM4); ``IsakmpSa.peer_nat_t`` /
``peer_dpd`` record the peer's. The initiator adds INITIAL-CONTACT (RFC 2407 4.6.3.3,
protected, after ID and HASH as IOS does) to MM5 when it has no other SA with the peer and the
SA is not a rekey; the responder, once MM5 has authenticated, lets the engine forget every
older SA with that peer (``_peer_rebooted``).

What ``debug crypto isakmp`` prints comes from the events each handler emits, in the order IOS
prints them (captured IOS 15 and IOS-XE traces, initiator and responder). Alongside the SA's
show state each SA walks IOS's *internal* states (``IKE_READY``, ``IKE_I_MM1`` ...
``IKE_P1_COMPLETE``), reported as ``StateChanged``; the repeated ``X -> X`` transitions are
IOS's ``IKE_PROCESS_MAIN_MODE`` / ``IKE_PHASE1_COMPLETE`` inputs. Per message::

    arrival     the responder enters the new state first, the initiator of MM2/MM4 too
                (``Old State = IKE_I_MM1  New State = IKE_I_MM2``), then processes payloads:
                SA (vendor IDs, pre-shared key, policy walk, lifetime, vendor IDs again),
                KE/NONCE (pre-shared key, keys derived: the conn-id is no longer 0, vendor
                IDs, NAT-D), ID/HASH (identity, authenticated); the initiator's MM6 is
                processed before its state changes
    answer      X -> X (IKE_PROCESS_MAIN_MODE), what the answer says about us (initial
                contact, our identity), the packet sent, then X -> next (IKE_PROCESS_COMPLETE)

The initiator's ``IKE_P1_COMPLETE -> IKE_P1_COMPLETE`` comes once its waiting quick modes
have started (``IkeEngine._phase1_done``), as IOS prints it. These trace events, and what only
they need (the policy walk, the lifetime lines, the vendor IDs read), are built only while the
engine's ``trace()`` says someone listens; the SA's states move the same either way.

``MainModeMixin`` holds the six main-mode handlers, the SA-level message helpers (seal / open
an encrypted message) and what aggressive mode (:mod:`iosim.ike.aggressive_mode`) shares with
them; ``iosim.ike.engine.IkeEngine`` mixes it in and dispatches to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from iosim.crypto.dh import group as dh_group
from iosim.deadlines import deadline_after
from iosim.ike import trace
from iosim.ike.admission import AdmissionDenied, CallAdmission
from iosim.ike.constants import (
    ExchangeType,
    IsakmpFlag,
    NotifyType,
    PayloadType,
    ProtocolId,
)
from iosim.ike.dpd import DPD_VID
from iosim.ike.events import (
    LifetimeAccepted,
    NatDChecked,
    Note,
    NoteKind,
    NotifyProcessed,
    PacketSent,
    PayloadProcessed,
    PeerInserted,
    PeerLocked,
    PortFloated,
    SaInserted,
    SaRequestAbandoned,
    VendorIdsMade,
)
from iosim.ike.isakmp_sa import (
    IKE_PORT,
    NAT_T_PORT,
    NONCE_SIZE,
    IsakmpSa,
    decrypt_body,
    encrypt_body,
)
from iosim.ike.keymat import (
    derive_phase1_keys,
    hash_i,
    hash_r,
    nat_d_hash,
)
from iosim.ike.payloads import (
    HashPayload,
    IdPayload,
    IsakmpHeader,
    IsakmpMessage,
    KePayload,
    NatDPayload,
    NoncePayload,
    NotificationPayload,
    Payload,
    ProposalPayload,
    SaPayload,
    TransformPayload,
    VendorIdPayload,
    pull_payload_chain,
    push_encoded,
    push_message,
    push_payload,
    push_payload_body,
    push_payloads,
)
from iosim.ike.phase1_policy import (
    IkePolicy,
    Phase1Suite,
    PolicyChecked,
    choose_policy,
    describe_transform,
    isakmp_sa_payload,
    offer_sa_payload,
    offered_lifetime,
    policy_checks,
    policy_transform,
    returned_lifetime,
    suite_of,
    transform_matches,
    transform_mismatch,
    with_lifetime,
)
from iosim.ike.quick_mode import FULL_MASK, id_payload
from iosim.ike.sa_table import PairTable, SaTable
from iosim.ike.vendor_ids import MM1_VIDS, MM3_VIDS, MM4_VIDS, NAT_T_VIDS, RFC3947_VID

if TYPE_CHECKING:
    from iosim.ike.quick_mode import IpsecSaPair, Phase2Offer, ProxyIdentity

__all__ = [  # with isakmp_sa's and phase1_policy's names: main mode's vocabulary before
    "IKE_PORT",  # those splits
    "NAT_T_PORT",
    "NONCE_SIZE",
    "IkePolicy",
    "IsakmpSa",
    "LocalProtocolError",
    "MainModeMixin",
    "Phase1Established",
    "Phase1Failed",
    "RemoteProtocolError",
    "Phase1Suite",
    "PolicyChecked",
    "StateChanged",
    "choose_policy",
    "decrypt_body",
    "describe_transform",
    "encrypt_body",
    "isakmp_sa_payload",
    "policy_checks",
    "policy_transform",
    "returned_lifetime",
    "suite_of",
    "transform_matches",
    "transform_mismatch",
    "with_lifetime",
]

# --- the main-mode half of the engine ---------------------------------------------------------

RETRANSMIT_BASE = 10.0  # seconds before the first retransmission; doubles each time
RETRANSMIT_LIMIT = 5
GIVE_UP_AFTER = sum(RETRANSMIT_BASE * 2**n for n in range(RETRANSMIT_LIMIT + 1))  # 630 s
ZERO_COOKIE = bytes(8)
_MM = ExchangeType.IDENTITY_PROTECTION
_INFO = ExchangeType.INFORMATIONAL
# The vendor ID payloads of each message (payloads are immutable: built once, sent by all).
_MM1_VID_PAYLOADS = tuple(map(VendorIdPayload, MM1_VIDS))
_MM2_VID_PAYLOADS = (VendorIdPayload(RFC3947_VID),)
_MM3_VID_PAYLOADS = tuple(map(VendorIdPayload, MM3_VIDS))
_MM4_VID_PAYLOADS = tuple(map(VendorIdPayload, MM4_VIDS))
_AM_VID_PAYLOADS = (VendorIdPayload(RFC3947_VID), VendorIdPayload(DPD_VID))


@functools.lru_cache(maxsize=64)  # keyed by the (frozen) policies, as offer_sa_payload
def _mm1_payloads(policies: tuple[IkePolicy, ...]) -> tuple[bytes, PayloadType, bytes]:
    """MM1's payloads offering ``policies``: (SAi_b, the type of the first payload, the
    encoded chain of the SA and the NAT-T vendor IDs), the same for every SA offering them."""
    sa_payload, sai_b = offer_sa_payload(policies)
    first, chain = push_payloads((sa_payload, *_MM1_VID_PAYLOADS))
    return sai_b, first, chain


class LocalProtocolError(Exception):
    """The caller used the engine wrongly."""


class RemoteProtocolError(Exception):
    """The peer sent something we cannot accept (the datagram is dropped)."""


@dataclass(frozen=True, slots=True)
class Phase1Established:
    """Main mode completed: the ISAKMP SA with ``peer`` is QM_IDLE."""

    peer: int
    conn_id: int


@dataclass(frozen=True, slots=True)
class Phase1Failed:
    """Main mode with ``peer`` failed (IOS-like reason)."""

    peer: int
    reason: str
    conn_id: int = 0  # the failed SA's, when it had one
    initiator: bool = True
    mode: str = "Main Mode"  # the exchange that failed, as %CRYPTO-6-IKMP_MODE_FAILURE names it


@dataclass(frozen=True, slots=True)
class StateChanged:
    """An IOS-internal state transition, for ``debug crypto isakmp``'s ``Old State = X  New
    State = Y`` lines (``IKE_READY``, ``IKE_I_MM1`` ... ``IKE_P1_COMPLETE``, ``IKE_QM_READY``,
    ``IKE_QM_I_QM1`` ... ``IKE_QM_PHASE2_COMPLETE``); ``conn_id`` is 0 until keys exist."""

    peer: int
    conn_id: int
    old: str
    new: str
    message_id: int | None = None  # quick mode: the exchange's (IOS's "Node")
    input: str | None = None  # IOS's words for what drove it, when not the usual ones


#: The payload of the IOS Phase1Failed reason when an aggressive-mode offer meets
#: ``crypto isakmp aggressive-mode disable``.
AGGRESSIVE_DISABLED = ("Aggressive mode is disabled (crypto isakmp aggressive-mode disable): "
                       "dropping AG_INIT_EXCH packet from {}")


def ip_text(address: int) -> str:
    """Dotted-quad text of an IPv4 address held as an int."""
    return ".".join(str(b) for b in address.to_bytes(4, "big"))


class _PolicyWalk(NamedTuple):
    """IOS's check of a received SA payload against our policies, as its trace tells it: the
    ``offered`` transforms against ``policies`` (``policy_checks``), and the transform, policy
    and lifetime ``accepted`` (None: none was). It keeps the inputs: the checks and the
    lifetime lines are worked out only when someone listens."""

    offered: tuple[TransformPayload, ...]
    policies: list[IkePolicy]
    accepted: tuple[TransformPayload, IkePolicy, int] | None
    initiator: bool = False
    psk: bool = True  # a pre-shared key for the peer exists (else no transform can match)


def _lifetime_accepted(peer: int, transform: TransformPayload, policy: IkePolicy,
                       lifetime: int) -> LifetimeAccepted:
    """The lifetime IOS settles on when it accepts ``transform`` for ``policy``: the
    transform's (RFC 2409's eight hours when it has none), ours, and the lower one."""
    offered, basic = offered_lifetime(transform) or (28800, True)
    return LifetimeAccepted(peer, 0, offered, policy.lifetime, lifetime, basic)


class MainModeMixin:
    """Main mode handlers and the SA-level message helpers of ``IkeEngine``.

    Each ``_mmN`` handler processes message N-1 and sends message N; it mutates the SA only
    after everything it needs from the message has been parsed, computed and checked, and
    reports its steps (events) only then, in IOS's order (see the module docstring).
    """

    local: int
    _rand: Callable[[int], bytes]
    _policies: Callable[[], list[IkePolicy]]
    _psk_for: Callable[[int], str | None]
    _sas: SaTable[IsakmpSa]
    admission: CallAdmission
    _pairs: PairTable[IpsecSaPair]  # IPsec pairs by inbound SPI and by peer
    _pending: dict[tuple[int, bytes], list[tuple[ProxyIdentity, Phase2Offer]]]
    _outbox: list[tuple[int, bytes, int]]  # (peer, datagram, destination port)
    _events: list[object]
    _trace: Callable[[], bool]  # whether the step-by-step trace events are wanted
    _next_conn_id: int
    _next_sa_handle: int
    _nat_traversal: bool

    if TYPE_CHECKING:  # provided by IkeEngine

        def _peer_rebooted(self, sa: IsakmpSa, now: float) -> None: ...

    # ------------------------------------------------------------ reporting

    def _enter(self, sa: IsakmpSa, new: str, conn_id: int | None = None) -> None:
        """IOS's internal state ``new`` (``StateChanged``, with ``conn_id`` if not the SA's)."""
        if self._trace():
            conn = sa.conn_id if conn_id is None else conn_id
            self._events.append(StateChanged(sa.peer, conn, sa.ike_state, new))
        sa.ike_state = new

    def _note(self, sa: IsakmpSa, kind: NoteKind, conn_id: int | None = None) -> None:
        if self._trace():
            self._events.append(Note(sa.peer, sa.conn_id if conn_id is None else conn_id,
                                     kind))

    def _lock_peer(self, peer: int, initiator: bool) -> tuple[int, int]:
        """A new ISAKMP SA with ``peer``: IOS creates the peer's struct (or finds the one its
        other live SAs lock; a deleted SA has let go of it) and inserts the SA. Returns (SA
        handle, peer struct handle)."""
        handle = self._next_sa_handle
        self._next_sa_handle += 1
        others = [sa for sa in self._sas.of_peer(peer) if not sa.deleted]  # deleted: unlocked
        struct = others[0].peer_struct if others else handle
        if self._trace():
            self._events.append(PeerLocked(peer, IKE_PORT, struct, len(others) + 1,
                                           initiator))
            self._events.append(SaInserted(peer, handle, initiator))
        return handle, struct

    def _payloads_processed(self, sa: IsakmpSa, names: tuple[str, ...],
                            conn_id: int | None = None) -> None:
        if self._trace():
            conn = sa.conn_id if conn_id is None else conn_id
            self._events.extend(PayloadProcessed(sa.peer, conn, name) for name in names)

    def _notifies_processed(self, sa: IsakmpSa, payloads: Iterable[Payload]) -> None:
        """``processing NOTIFY X protocol N`` for each notification of a message."""
        if self._trace():
            self._events.extend(NotifyProcessed(sa.peer, sa.conn_id, p.notify_type,
                                                p.protocol_id)
                                for p in payloads if isinstance(p, NotificationPayload))

    def _sa_checked(self, sa: IsakmpSa, msg: IsakmpMessage, walk: _PolicyWalk) -> None:
        """IOS on the SA payload of MM1/MM2 (conn-id 0): the vendor IDs, the pre-shared key,
        the policy walk, and once a transform is accepted its lifetime and the vendor IDs
        once more."""
        if not self._trace():
            return
        vids = trace.vendor_ids(sa.peer, 0, msg.payloads)
        self._events.append(PayloadProcessed(sa.peer, 0, "SA"))
        self._events.extend(vids)
        self._note(sa, NoteKind.PSK_LOCAL if walk.psk else NoteKind.PSK_MISSING, 0)
        self._events.extend(policy_checks(sa.peer, walk.offered, walk.policies,
                                          initiator=walk.initiator, psk=walk.psk))
        if walk.accepted is not None:  # IOS reads the vendor IDs again
            self._events.append(_lifetime_accepted(sa.peer, *walk.accepted))
            self._events.extend(vids)

    def _keys_made(self, sa: IsakmpSa, msg: IsakmpMessage, g_xy: bytes) -> None:
        """MM3/MM4: KE and NONCE processed with the pre-shared key (conn-id 0), the keys
        derived (the SA gets its conn-id), then the vendor IDs and the NAT-D comparison."""
        self._payloads_processed(sa, ("KE", "NONCE"), 0)
        self._note(sa, NoteKind.PSK_FOUND, 0)
        self._derive(sa, g_xy)
        matches = self._nat_d_matches(sa, msg.payloads)
        if self._trace():
            self._events.extend(trace.vendor_ids(sa.peer, sa.conn_id, msg.payloads))
            if matches:
                self._events.append(NatDChecked(sa.peer, sa.conn_id, matches))
        sa.nat_detected = bool(matches) and (matches[0] != "mine" or "his" not in matches[1:])

    def _peer_identified(self, sa: IsakmpSa, payloads: tuple[Payload, ...]) -> None:
        """MM5/MM6: the peer's ID payload, then its HASH (and INITIAL-CONTACT) processed."""
        self._payloads_processed(sa, ("ID",))
        if self._trace():
            ident = trace.identity(sa.peer, sa.conn_id, payloads, sent=False)
            if ident is not None:
                self._events.append(ident)
        self._payloads_processed(sa, ("HASH",))
        self._notifies_processed(sa, payloads)
        self._note(sa, NoteKind.AUTHENTICATED)

    def _identity_sent(self, sa: IsakmpSa, payloads: list[Payload]) -> None:
        if self._trace():
            ident = trace.identity(sa.peer, sa.conn_id, payloads, sent=True)
            if ident is not None:
                self._events.append(ident)

    def _peer_inserted(self, sa: IsakmpSa) -> None:
        if self._trace():
            self._events.append(PeerInserted(sa.peer, sa.conn_id, self.local, sa.port,
                                             sa.peer_struct))

    def _transmit(self, sa: IsakmpSa, data: bytes, state: str | None = None) -> None:
        """Queue ``data`` for the SA's peer and report it, with the SA's (or ``state``)."""
        self._outbox.append((sa.peer, data, sa.port))
        if self._trace():
            self._events.append(PacketSent(sa.peer, sa.conn_id, sa.port, sa.initiator,
                                           state or sa.state))

    # ------------------------------------------------------------ vendor IDs, keys

    @staticmethod
    def _note_vendor_ids(sa: IsakmpSa, payloads: tuple[Payload, ...] | list[Payload]) -> None:
        vids = {p.data for p in payloads if isinstance(p, VendorIdPayload)}
        sa.peer_nat_t = sa.peer_nat_t or RFC3947_VID in vids
        sa.peer_dpd = sa.peer_dpd or DPD_VID in vids

    def _has_other_sa(self, sa: IsakmpSa) -> bool:
        """Whether another established ISAKMP SA, or an IPsec pair, with the peer exists:
        then the peer did not reboot as far as we know, and gets no INITIAL-CONTACT (it
        would delete pairs that still carry traffic)."""
        return any(o is not sa and o.established
                   for o in self._sas.of_peer(sa.peer)) or self._pairs.has_peer(sa.peer)

    def _initial_contact(self, sa: IsakmpSa) -> list[Payload]:
        """RFC 2407 4.6.3.3: INITIAL-CONTACT in the initiator's authenticated message (after
        ID and HASH, as IOS sends it in MM5) when no other SA with the peer exists."""
        if sa.rekey or self._has_other_sa(sa):
            return []
        return [NotificationPayload(NotifyType.INITIAL_CONTACT, ProtocolId.PROTO_ISAKMP,
                                    sa.cky_i + sa.cky_r)]

    @staticmethod
    def _got_initial_contact(sa: IsakmpSa, payloads: tuple[Payload, ...]) -> bool:
        return any(isinstance(p, NotificationPayload)
                   and p.notify_type == NotifyType.INITIAL_CONTACT for p in payloads)

    def _phase1_offer(self, peer: int, aggressive: bool
                      ) -> tuple[str, list[IkePolicy]] | None:
        """The pre-shared key and the policies to offer; None (and Phase1Failed) if none.

        Aggressive mode sends its KE in the first message, so it can offer only one DH group:
        the group of our highest-priority policy, with every policy sharing that group."""
        psk = self._psk_for(peer)
        if psk is None:
            self._events.append(Phase1Failed(peer, f"No pre-shared key with {ip_text(peer)}!"))
            return None
        policies = sorted(self._policies(), key=lambda p: p.priority)
        usable = [p for p in policies if p.authentication == "pre-share"]
        if not usable:
            self._events.append(Phase1Failed(peer, "auth method not supported"))
            return None
        if aggressive:
            usable = [p for p in usable if p.group == usable[0].group]
        return psk, usable

    def _send(self, sa: IsakmpSa, data: bytes, now: float, *, wait: bool,
              state: str | None = None) -> None:
        self._transmit(sa, data, state)
        sa.last_sent = data
        sa.retransmits = 0
        sa.resend_at = deadline_after(now, RETRANSMIT_BASE) if wait else None

    def _header(self, sa: IsakmpSa, exchange: ExchangeType, mid: int = 0,
                first: Payload | None = None) -> IsakmpHeader:
        if first is None:
            return IsakmpHeader(sa.cky_i, sa.cky_r, exchange, IsakmpFlag.NONE, mid)
        return IsakmpHeader(sa.cky_i, sa.cky_r, exchange, IsakmpFlag.E, mid, first.payload_type)

    def _seal(self, sa: IsakmpSa, exchange: ExchangeType, mid: int, payloads: list[Payload],
              iv: bytes) -> tuple[bytes, bytes]:
        """Encrypt a payload chain: (datagram, last ciphertext block = next IV)."""
        first, plain = push_payloads(payloads)
        return self._seal_encoded(sa, exchange, mid, first, plain, iv)

    def _seal_hashed(self, sa: IsakmpSa, exchange: ExchangeType, mid: int, digest: bytes,
                     rest: tuple[PayloadType, bytes], iv: bytes) -> tuple[bytes, bytes]:
        """``_seal`` of HASH(``digest``) followed by a chain already encoded (``rest``, as
        ``push_payloads`` returns it, the bytes the hash covers): encoded once, not twice."""
        first, chain = rest
        plain = push_payload(HashPayload(digest), first) + chain
        return self._seal_encoded(sa, exchange, mid, PayloadType.HASH, plain, iv)

    def _seal_encoded(self, sa: IsakmpSa, exchange: ExchangeType, mid: int,
                      first: PayloadType, plain: bytes, iv: bytes) -> tuple[bytes, bytes]:
        body = sa.encrypt(iv, plain)
        header = IsakmpHeader(sa.cky_i, sa.cky_r, exchange, IsakmpFlag.E, mid, first)
        return push_encoded(header, first, body), body[-sa.block():]

    def _open(self, sa: IsakmpSa, msg: IsakmpMessage, iv: bytes
              ) -> tuple[tuple[Payload, ...], bytes]:
        """Decrypt and parse: (payloads, last ciphertext block = next IV)."""
        payloads, _, next_iv = self._open_chain(sa, msg, iv)
        return payloads, next_iv

    def _open_chain(self, sa: IsakmpSa, msg: IsakmpMessage, iv: bytes
                    ) -> tuple[tuple[Payload, ...], bytes, bytes]:
        """Decrypt and parse: (payloads, their bytes as received without the padding, last
        ciphertext block = next IV)."""
        if msg.encrypted_body is None:
            raise RemoteProtocolError("expected an encrypted message")
        plain = sa.decrypt(iv, msg.encrypted_body)
        payloads, length = pull_payload_chain(msg.header.next_payload, plain,
                                              exchange_type=msg.header.exchange_type)
        return payloads, plain[:length], msg.encrypted_body[-sa.block():]

    def _cannot_start(self, peer: int) -> None:
        """No pre-shared key for ``peer``: IOS still creates the SA to start main mode with
        (the peer's struct locked), finds no key for its first message, and purges it."""
        handle, struct = self._lock_peer(peer, initiator=True)
        if self._trace():
            self._events.append(Note(peer, 0, NoteKind.MAIN_MODE_INSTEAD))
        self._events.append(Phase1Failed(peer, f"No pre-shared key with {ip_text(peer)}!"))
        if self._trace():
            left = sum(1 for sa in self._sas.of_peer(peer) if not sa.deleted)
            self._events.append(SaRequestAbandoned(peer, handle, struct, left))

    def _start_main_mode(self, peer: int, pending: list[tuple[ProxyIdentity, Phase2Offer]],
                         now: float, *, rekey: bool = False) -> None:
        if self._psk_for(peer) is None:
            self._cannot_start(peer)
            return
        offer = self._phase1_offer(peer, aggressive=False)
        if offer is None:
            return
        psk, usable = offer
        if not self._admitted(peer, initiator=True):
            return
        sai_b, mm1_first, mm1_chain = _mm1_payloads(tuple(usable))
        sa = IsakmpSa(peer, self.local, True, self._rand(8), ZERO_COOKIE, psk.encode())
        sa.sai_b, sa.rekey, sa.created_at = sai_b, rekey, now
        sa.handle, sa.peer_struct = self._lock_peer(peer, initiator=True)
        self._sas.add(sa)
        self._pending[(peer, sa.cky_i)] = list(pending)
        self._note(sa, NoteKind.MAIN_MODE_INSTEAD)
        self._note(sa, NoteKind.PSK_FOUND)
        if self._trace():
            self._events.append(VendorIdsMade(peer, 0, tuple(NAT_T_VIDS)))
        self._enter(sa, "IKE_I_MM1")
        self._note(sa, NoteKind.BEGIN_MAIN)
        self._send(sa, push_encoded(self._header(sa, _MM), mm1_first, mm1_chain), now,
                   wait=True)

    @staticmethod
    def _my_vendor_ids() -> tuple[VendorIdPayload, ...]:
        """RFC 3947 NAT-T and RFC 3706 DPD: aggressive mode's first two messages."""
        return _AM_VID_PAYLOADS

    def _responder_choice(self, msg: IsakmpMessage, peer: int, arrival: str
                          ) -> tuple[IsakmpSa, ProposalPayload, TransformPayload] | None:
        """The first message's SA offer against our policies: a new responder SA (not yet
        stored, in IOS state ``arrival``), the proposal and the chosen transform; None after
        answering NO_PROPOSAL_CHOSEN. IOS inserts the SA, enters ``arrival``, then checks
        the SA payload (``_sa_checked``)."""
        sa_payload = msg.get(SaPayload)
        if sa_payload is None or len(sa_payload.proposals) != 1:
            raise RemoteProtocolError("the first message needs one SA proposal")
        proposal = sa_payload.proposals[0]
        if proposal.protocol_id != ProtocolId.PROTO_ISAKMP:
            raise RemoteProtocolError("the phase-1 proposal is not ISAKMP")
        handle, struct = self._lock_peer(peer, initiator=False)
        tracing = self._trace()
        if tracing:
            self._events.append(StateChanged(peer, 0, "IKE_READY", arrival))
        psk = self._psk_for(peer)
        policies = self._policies()
        # without a key for the peer, IOS walks its policies all the same and accepts none
        choice = choose_policy(proposal.transforms, policies) if psk is not None else None
        walk = _PolicyWalk(proposal.transforms, policies, choice, psk=psk is not None)
        cky_r = self._rand(8)
        sa = IsakmpSa(peer, self.local, False, msg.header.initiator_cookie, cky_r,
                      (psk or "").encode())
        sa.handle, sa.peer_struct, sa.ike_state = handle, struct, arrival
        if choice is None:
            self._sa_checked(sa, msg, walk)
            self._events.append(Phase1Failed(
                peer, f"atts are not acceptable: phase 1 SA policy not acceptable! "
                      f"(local {ip_text(self.local)} remote {ip_text(peer)})",
                initiator=False,
                mode="Aggressive Mode" if arrival == "IKE_R_AM1" else "Main Mode"))
            n = NotificationPayload(NotifyType.NO_PROPOSAL_CHOSEN, ProtocolId.PROTO_ISAKMP)
            header = IsakmpHeader(msg.header.initiator_cookie, cky_r, _INFO)
            self._outbox.append((peer, push_message(IsakmpMessage(header, (n,))), IKE_PORT))
            if tracing:
                self._events.append(PacketSent(peer, 0, IKE_PORT, None, "MM_NO_STATE"))
            return None
        transform, policy, lifetime = choice
        self._sa_checked(sa, msg, walk)
        sa.policy, sa.suite = policy, suite_of(policy, lifetime)
        sa.sai_b = push_payload_body(sa_payload)
        return sa, proposal, with_lifetime(transform, lifetime)

    def _admitted(self, peer: int, *, initiator: bool) -> bool:
        """Call admission control: may a new ISAKMP SA with ``peer`` be created? A refusal
        is counted and reported (``AdmissionDenied``); nothing is created or sent."""
        reason = self.admission.admit(self._sas.negotiating_with(peer), initiator=initiator)
        if reason is None:
            return True
        self._events.append(AdmissionDenied(peer, initiator, reason))
        return False

    def _mm1(self, msg: IsakmpMessage, data: bytes, peer: int, now: float) -> None:
        if not self._admitted(peer, initiator=False):
            return
        answer = self._responder_choice(msg, peer, "IKE_R_MM1")
        if answer is None:
            return
        sa, proposal, transform = answer
        sa.created_at = now
        self._note_vendor_ids(sa, msg.payloads)
        sa.state, sa.last_received = "MM_SA_SETUP", data
        sa.give_up_at = deadline_after(now, GIVE_UP_AFTER)
        self._sas.add(sa)
        chosen = ProposalPayload(proposal.number, proposal.protocol_id, b"", (transform,))
        # the NAT-T version we speak, if the peer offered it (IOS answers with the best one)
        nat_t = _MM2_VID_PAYLOADS if sa.peer_nat_t else ()
        mm2 = IsakmpMessage(self._header(sa, _MM), (SaPayload((chosen,)), *nat_t))
        self._enter(sa, "IKE_R_MM1")
        if nat_t and self._trace():
            self._events.append(VendorIdsMade(peer, 0, ("rfc3947",)))
        self._send(sa, push_message(mm2), now, wait=False)
        self._enter(sa, "IKE_R_MM2")

    def _nat_d(self, sa: IsakmpSa) -> list[Payload]:
        if not sa.peer_nat_t or sa.suite is None:
            return []
        h = sa.suite.hash
        return [NatDPayload(nat_d_hash(h, sa.cky_i, sa.cky_r, sa.peer.to_bytes(4, "big"),
                                       IKE_PORT)),
                NatDPayload(nat_d_hash(h, sa.cky_i, sa.cky_r, self.local.to_bytes(4, "big"),
                                       IKE_PORT))]

    def _nat_d_matches(self, sa: IsakmpSa, payloads: tuple[Payload, ...]
                       ) -> tuple[str, ...]:
        """RFC 3947 3.2: each NAT-D hash received, in order, against our address (``mine``),
        the peer's (``his``) or neither (``none``); () without NAT-D."""
        hashes = [p.hash for p in payloads if isinstance(p, NatDPayload)]
        if not hashes or sa.suite is None:
            return ()
        h = sa.suite.hash
        me = nat_d_hash(h, sa.cky_i, sa.cky_r, self.local.to_bytes(4, "big"), IKE_PORT)
        them = nat_d_hash(h, sa.cky_i, sa.cky_r, sa.peer.to_bytes(4, "big"), IKE_PORT)
        return tuple("mine" if x == me else "his" if x == them else "none" for x in hashes)

    def _check_nat_d(self, sa: IsakmpSa, payloads: tuple[Payload, ...]) -> bool:
        """Whether a NAT rewrote an address (or port): our hash is not the first, or the
        peer's is not among the others. Reported as ``NatDChecked``."""
        matches = self._nat_d_matches(sa, payloads)
        if matches and self._trace():
            self._events.append(NatDChecked(sa.peer, sa.conn_id, matches))
        return bool(matches) and (matches[0] != "mine" or "his" not in matches[1:])

    def _ke_nonce(self, msg: IsakmpMessage) -> tuple[bytes, bytes]:
        ke, nonce = msg.get(KePayload), msg.get(NoncePayload)
        if ke is None or nonce is None:
            raise RemoteProtocolError("KE and NONCE required")
        return ke.key_exchange_data, nonce.data

    def _derive(self, sa: IsakmpSa, g_xy: bytes) -> None:
        assert sa.suite is not None
        sa.keys = derive_phase1_keys(sa.suite.hash, sa.suite.cipher, sa.psk, sa.ni_b, sa.nr_b,
                                     g_xy, sa.g_xi, sa.g_xr, sa.cky_i, sa.cky_r)
        sa.iv = sa.keys.iv
        sa.conn_id = self._next_conn_id
        self._next_conn_id += 1

    def _my_id(self) -> IdPayload:
        return id_payload(self.local, FULL_MASK, 17, IKE_PORT)  # IOS: UDP/500 in the ID

    def _initiator_choice(self, msg: IsakmpMessage) -> tuple[IkePolicy, Phase1Suite,
                                                               _PolicyWalk]:
        """The responder's chosen transform: our policy, the suite with the lower lifetime,
        and the walk IOS prints while finding it (with the lifetime it settles on)."""
        sa_payload = msg.get(SaPayload)
        if (sa_payload is None or len(sa_payload.proposals) != 1
                or len(sa_payload.proposals[0].transforms) != 1):
            raise RemoteProtocolError("the answer needs exactly one transform")
        transform = sa_payload.proposals[0].transforms[0]
        offered = [p for p in self._policies() if p.authentication == "pre-share"]
        policy = next((p for p in sorted(offered, key=lambda p: p.priority)
                       if transform_matches(transform, p)), None)
        if policy is None:
            raise RemoteProtocolError("the peer chose a transform we did not offer")
        lifetime = min(policy.lifetime, returned_lifetime(transform) or policy.lifetime)
        walk = _PolicyWalk((transform,), offered, (transform, policy, lifetime), initiator=True)
        return policy, suite_of(policy, lifetime), walk

    def _mm2(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        policy, suite, walk = self._initiator_choice(msg)
        dh = dh_group(suite.group).generate(self._rand)
        sa.cky_r = msg.header.responder_cookie
        sa.policy, sa.suite, sa.dh = policy, suite, dh
        sa.g_xi, sa.ni_b = dh.public_bytes(), self._rand(NONCE_SIZE)
        self._note_vendor_ids(sa, msg.payloads)
        sa.state, sa.last_received = "MM_SA_SETUP", data
        payloads: list[Payload] = [KePayload(sa.g_xi), NoncePayload(sa.ni_b),
                                   *_MM3_VID_PAYLOADS, *self._nat_d(sa)]
        self._enter(sa, "IKE_I_MM2")
        self._sa_checked(sa, msg, walk)
        self._enter(sa, "IKE_I_MM2")
        self._send(sa, push_message(IsakmpMessage(self._header(sa, _MM), tuple(payloads))),
                   now, wait=True)
        self._enter(sa, "IKE_I_MM3")

    def _mm3(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        assert sa.suite is not None
        g_xi, ni_b = self._ke_nonce(msg)
        dh = dh_group(sa.suite.group).generate(self._rand)
        g_xy = dh.shared_secret(g_xi)  # validates the peer's value
        sa.dh, sa.g_xi, sa.ni_b = dh, g_xi, ni_b
        sa.g_xr, sa.nr_b = dh.public_bytes(), self._rand(NONCE_SIZE)
        self._enter(sa, "IKE_R_MM3")
        self._keys_made(sa, msg, g_xy)
        self._note_vendor_ids(sa, msg.payloads)
        sa.state, sa.last_received = "MM_KEY_EXCH", data
        payloads: list[Payload] = [KePayload(sa.g_xr), NoncePayload(sa.nr_b),
                                   *_MM4_VID_PAYLOADS, *self._nat_d(sa)]
        self._enter(sa, "IKE_R_MM3")
        self._send(sa, push_message(IsakmpMessage(self._header(sa, _MM), tuple(payloads))),
                   now, wait=False)
        self._enter(sa, "IKE_R_MM4")

    def _mm4(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        assert sa.suite is not None and sa.dh is not None
        g_xr, nr_b = self._ke_nonce(msg)
        g_xy = sa.dh.shared_secret(g_xr)
        sa.g_xr, sa.nr_b = g_xr, nr_b
        self._enter(sa, "IKE_I_MM4")
        self._keys_made(sa, msg, g_xy)
        suite, keys = sa.require_keys()
        my_id = self._my_id()
        h = hash_i(suite.hash, keys.skeyid, sa.g_xi, sa.g_xr, sa.cky_i, sa.cky_r, sa.sai_b,
                   push_payload_body(my_id))
        contact = self._initial_contact(sa)
        mm5 = [my_id, HashPayload(h), *contact]
        sealed, sa.iv = self._seal(sa, _MM, 0, mm5, sa.iv)
        self._note_vendor_ids(sa, msg.payloads)
        sa.state, sa.last_received = "MM_KEY_EXCH", data
        # RFC 3947 4: a NAT is in the way and both sides speak RFC 3947: float to 4500 with MM5
        sa.floated = self._nat_traversal and sa.nat_detected and sa.peer_nat_t
        self._enter(sa, "IKE_I_MM4")
        if contact:
            self._note(sa, NoteKind.SEND_INITIAL_CONTACT)
        self._identity_sent(sa, mm5)
        self._send(sa, sealed, now, wait=True)
        self._enter(sa, "IKE_I_MM5")

    def _id_and_hash(self, payloads: tuple[Payload, ...]) -> tuple[IdPayload, bytes]:
        ident = next((p for p in payloads if isinstance(p, IdPayload)), None)
        got = next((p for p in payloads if isinstance(p, HashPayload)), None)
        if ident is None or got is None:
            raise RemoteProtocolError("ID and HASH required")
        return ident, got.data

    def _mm5(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        suite, keys = sa.require_keys()
        payloads, iv = self._open(sa, msg, sa.iv)
        ident, got = self._id_and_hash(payloads)
        want = hash_i(suite.hash, keys.skeyid, sa.g_xi, sa.g_xr, sa.cky_i, sa.cky_r, sa.sai_b,
                      push_payload_body(ident))
        if got != want:
            raise RemoteProtocolError("HASH_I does not verify")
        my_id = self._my_id()
        h = hash_r(suite.hash, keys.skeyid, sa.g_xi, sa.g_xr, sa.cky_i, sa.cky_r, sa.sai_b,
                   push_payload_body(my_id))
        mm6, sa.iv = self._seal(sa, _MM, 0, [my_id, HashPayload(h)], iv)
        sa.last_block, sa.last_received = sa.iv, data
        self._note_vendor_ids(sa, payloads)
        self._enter(sa, "IKE_R_MM5")
        self._peer_identified(sa, payloads)
        self._authenticated(sa, payloads, now)
        self._enter(sa, "IKE_R_MM5")
        self._identity_sent(sa, [my_id, HashPayload(h)])
        self._send(sa, mm6, now, wait=False)  # IOS sends MM6 still in MM_KEY_EXCH
        self._enter(sa, "IKE_P1_COMPLETE")
        self._enter(sa, "IKE_P1_COMPLETE")
        self._established(sa, now)

    def _authenticated(self, sa: IsakmpSa, payloads: tuple[Payload, ...], now: float) -> None:
        """The responder's peer proved itself (MM5, AM3): its port floated to 4500 if its
        message came there, INITIAL-CONTACT honoured, its peer struct filed."""
        if sa.floated and self._trace():
            self._events.append(PortFloated(sa.peer, sa.conn_id, sa.port))
        if self._got_initial_contact(sa, payloads):
            self._peer_rebooted(sa, now)
        self._peer_inserted(sa)

    def _mm6(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        suite, keys = sa.require_keys()
        payloads, iv = self._open(sa, msg, sa.iv)
        ident, got = self._id_and_hash(payloads)
        want = hash_r(suite.hash, keys.skeyid, sa.g_xi, sa.g_xr, sa.cky_i, sa.cky_r, sa.sai_b,
                      push_payload_body(ident))
        if got != want:
            raise RemoteProtocolError("HASH_R does not verify")
        sa.iv = sa.last_block = iv
        sa.last_received, sa.resend_at = data, None
        self._note_vendor_ids(sa, payloads)
        self._peer_identified(sa, payloads)
        self._peer_inserted(sa)
        self._enter(sa, "IKE_I_MM6")
        self._enter(sa, "IKE_I_MM6")
        self._enter(sa, "IKE_P1_COMPLETE")
        self._established(sa, now)

    def _established(self, sa: IsakmpSa, now: float) -> None:
        assert sa.suite is not None
        sa.state, sa.give_up_at = "QM_IDLE", None
        self._sas.mark_established(sa)
        sa.established_at = now
        sa.expires_at = deadline_after(now, sa.suite.lifetime)
        if sa.initiator:  # IOS renews an SA it initiated at 90 % of its lifetime
            sa.rekey_at = deadline_after(now, 0.9 * sa.suite.lifetime)
        sa.drop_negotiation()
        self._events.append(Phase1Established(sa.peer, sa.conn_id))
