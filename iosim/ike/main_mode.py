"""IKEv1 main mode pieces (RFC 2409 section 5, pre-shared keys): policies, the ISAKMP SA state
and the phase-1 encryption.

Theory of operation
-------------------
``IkePolicy`` is one ``crypto isakmp policy N``. The initiator offers all its pre-share policies
as the transforms of one ISAKMP proposal, in priority order (as IOS does); the responder walks
its own policies in priority order and, for each, the offered transforms in order, and takes
the first match on encryption, key length, hash, authentication method and group
(``choose_policy``; IOS's "Checking ISAKMP transform 1 against priority 10 policy"). Lifetimes
need not match: the lower one wins, and the responder returns the chosen transform with that
lower lifetime so the initiator learns it.

``IsakmpSa`` is the state of one phase-1 SA, and of its negotiation while main mode runs::

    initiator                               responder
    MM_NO_STATE   -- MM1 HDR, SA, VID -->
                  <-- MM2 HDR, SA, VID --   MM_SA_SETUP
    MM_SA_SETUP   -- MM3 HDR, KE, Ni, NAT-D, NAT-D -->
                  <-- MM4 HDR, KE, Nr, NAT-D, NAT-D --   MM_KEY_EXCH
    MM_KEY_EXCH   -- MM5 HDR*, IDii, HASH_I -->         (to UDP 4500 if NAT-D found a NAT)
                  <-- MM6 HDR*, IDir, HASH_R --   QM_IDLE
    QM_IDLE

The state names are IOS's, so ``show crypto isakmp sa`` prints them directly. The SA keeps the
CBC chaining value of the main-mode exchange (``iv``), frozen at the last block of MM6 once
phase 1 is complete (``last_block``: the input of the RFC 2409 Appendix B phase-2 IV).
Nonces are 20 bytes, as IOS sends them.

``MainModeMixin`` holds the six main-mode handlers and the SA-level message helpers (seal /
open an encrypted message); ``iosim.ike.engine.IkeEngine`` mixes it in and dispatches to it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from iosim.crypto.algorithms import (
    EncryptionAlgorithm,
    HashAlgorithm,
    UnsupportedAlgorithm,
    encryption_by_attribute,
    encryption_by_name,
    hash_by_attribute,
    hash_by_name,
)
from iosim.crypto.dh import DhPrivate
from iosim.crypto.dh import group as dh_group
from iosim.ike.constants import (
    AuthenticationMethod,
    ExchangeType,
    IkeAttributeType,
    IsakmpFlag,
    IsakmpTransformId,
    LifeType,
    NotifyType,
    ProtocolId,
)
from iosim.ike.keymat import (
    Phase1Keys,
    derive_phase1_keys,
    hash_i,
    hash_r,
    nat_d_hash,
    phase2_iv,
)
from iosim.ike.payloads import (
    DataAttribute,
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
    pull_payloads,
    push_message,
    push_payload_body,
    push_payloads,
)
from iosim.ike.quick_mode import FULL_MASK, id_payload

if TYPE_CHECKING:
    from iosim.ike.quick_mode import Phase2Offer, ProxyIdentity

__all__ = [
    "NONCE_SIZE",
    "IkePolicy",
    "IsakmpSa",
    "LocalProtocolError",
    "MainModeMixin",
    "Phase1Established",
    "Phase1Failed",
    "RemoteProtocolError",
    "Phase1Suite",
    "StateChanged",
    "choose_policy",
    "decrypt_body",
    "encrypt_body",
    "isakmp_sa_payload",
    "policy_transform",
]

NONCE_SIZE = 20  # bytes; IOS sends 20-byte nonces in main and quick mode
IKE_PORT = 500
NAT_T_PORT = 4500  # RFC 3947 section 4: IKE after floating (non-ESP marker added by the I/O)
RFC3947_VID = bytes.fromhex("4a131c81070358455c5728f20e95452f")  # MD5("RFC 3947")


@dataclass(frozen=True)
class IkePolicy:
    """One ``crypto isakmp policy N``."""

    priority: int
    encryption: str  # "des" | "3des" | "aes"
    key_bits: int | None  # 128/192/256 for aes, else None
    hash: str  # "md5" | "sha" | "sha256" | "sha384" | "sha512"
    authentication: str  # "pre-share" (the only method this engine runs)
    group: int
    lifetime: int  # seconds

    @property
    def cipher_name(self) -> str:
        """The row name in :mod:`iosim.crypto.algorithms` (``"aes 256"``, ``"aes"``, ``"3des"``)."""
        if self.encryption == "aes" and self.key_bits not in (None, 128):
            return f"aes {self.key_bits}"
        return self.encryption


@dataclass(frozen=True)
class Phase1Suite:
    """The algorithms of a negotiated phase-1 SA."""

    cipher: EncryptionAlgorithm
    hash: HashAlgorithm
    group: int
    lifetime: int


def policy_transform(number: int, policy: IkePolicy) -> TransformPayload:
    """An ISAKMP transform for a policy (RFC 2409 Appendix A attributes, in IOS's order)."""
    cipher = encryption_by_name(policy.cipher_name)
    attrs = [DataAttribute(IkeAttributeType.ENCRYPTION_ALGORITHM, cipher.attribute)]
    if cipher.key_length_attribute is not None:
        attrs.append(DataAttribute(IkeAttributeType.KEY_LENGTH, cipher.key_length_attribute))
    attrs += [
        DataAttribute(IkeAttributeType.HASH_ALGORITHM, hash_by_name(policy.hash).attribute),
        DataAttribute(IkeAttributeType.AUTHENTICATION_METHOD, AuthenticationMethod.PRE_SHARED_KEY),
        DataAttribute(IkeAttributeType.GROUP_DESCRIPTION, policy.group),
        DataAttribute(IkeAttributeType.LIFE_TYPE, LifeType.SECONDS),
        DataAttribute.variable(IkeAttributeType.LIFE_DURATION, policy.lifetime),
    ]
    return TransformPayload(number, IsakmpTransformId.KEY_IKE, tuple(attrs))


def isakmp_sa_payload(transforms: tuple[TransformPayload, ...]) -> SaPayload:
    """One ISAKMP proposal (no SPI) carrying the given transforms."""
    return SaPayload((ProposalPayload(1, ProtocolId.PROTO_ISAKMP, b"", transforms),))


def _value(t: TransformPayload, kind: IkeAttributeType) -> int | None:
    attr = t.attribute(kind)
    return None if attr is None else attr.as_int()


def _offered_lifetime(t: TransformPayload) -> int | None:
    """The seconds lifetime of a transform (None if absent; RFC 2409 default is 8 hours)."""
    life_type = None
    for attr in t.attributes:
        if attr.attribute_type == IkeAttributeType.LIFE_TYPE:
            life_type = attr.as_int()
        elif attr.attribute_type == IkeAttributeType.LIFE_DURATION and life_type == 1:
            return attr.as_int()
    return None


def transform_matches(t: TransformPayload, policy: IkePolicy) -> bool:
    """Whether an offered transform has the policy's encryption, hash, auth and group."""
    if t.transform_id != IsakmpTransformId.KEY_IKE or policy.authentication != "pre-share":
        return False
    try:
        cipher = encryption_by_attribute(
            _value(t, IkeAttributeType.ENCRYPTION_ALGORITHM) or 0,
            _value(t, IkeAttributeType.KEY_LENGTH),
        )
        hash_alg = hash_by_attribute(_value(t, IkeAttributeType.HASH_ALGORITHM) or 0)
        ours = encryption_by_name(policy.cipher_name)
    except UnsupportedAlgorithm:
        return False
    return (
        cipher == ours
        and hash_alg.name == policy.hash
        and _value(t, IkeAttributeType.AUTHENTICATION_METHOD) == AuthenticationMethod.PRE_SHARED_KEY
        and _value(t, IkeAttributeType.GROUP_DESCRIPTION) == policy.group
    )


def choose_policy(
    offered: tuple[TransformPayload, ...], policies: list[IkePolicy]
) -> tuple[TransformPayload, IkePolicy, int] | None:
    """IOS's responder check: our policies by priority, each against every offered transform.

    Returns the offered transform, our policy and the lifetime to use (the lower one wins).
    """
    for policy in sorted(policies, key=lambda p: p.priority):
        for t in offered:
            if transform_matches(t, policy):
                theirs = _offered_lifetime(t) or 28800
                return t, policy, min(theirs, policy.lifetime)
    return None


def suite_of(policy: IkePolicy, lifetime: int) -> Phase1Suite:
    """The algorithms of a policy with the negotiated lifetime."""
    return Phase1Suite(
        encryption_by_name(policy.cipher_name), hash_by_name(policy.hash), policy.group, lifetime
    )


def with_lifetime(t: TransformPayload, lifetime: int) -> TransformPayload:
    """The same transform with its seconds lifetime replaced (or added)."""
    life = (IkeAttributeType.LIFE_TYPE, IkeAttributeType.LIFE_DURATION)
    attrs = [a for a in t.attributes if a.attribute_type not in life]
    attrs += [DataAttribute(IkeAttributeType.LIFE_TYPE, LifeType.SECONDS),
              DataAttribute.variable(IkeAttributeType.LIFE_DURATION, lifetime)]
    return TransformPayload(t.number, t.transform_id, tuple(attrs))


def returned_lifetime(t: TransformPayload) -> int | None:
    """The lifetime in the responder's chosen transform."""
    return _offered_lifetime(t)


# --- phase-1 encryption (RFC 2409 section 5.3, Appendix B) ------------------------------------


def encrypt_body(cipher: EncryptionAlgorithm, key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """CBC-encrypt a payload chain, zero-padded to the block size (RFC 2409 5.3)."""
    pad = -len(plaintext) % cipher.block_size
    return cipher.cbc_encrypt(key, iv, plaintext + b"\0" * pad)


def decrypt_body(cipher: EncryptionAlgorithm, key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """CBC-decrypt; raises ValueError for a body that is not whole blocks."""
    if not ciphertext or len(ciphertext) % cipher.block_size:
        raise ValueError("encrypted body is not a whole number of blocks")
    return cipher.cbc_decrypt(key, iv, ciphertext)


@dataclass
class IsakmpSa:
    """One ISAKMP SA and, until QM_IDLE, its main-mode negotiation."""

    peer: int
    local: int
    initiator: bool
    cky_i: bytes
    cky_r: bytes
    psk: bytes = field(repr=False)
    state: str = "MM_NO_STATE"
    conn_id: int = 0
    deleted: bool = False
    suite: Phase1Suite | None = None
    policy: IkePolicy | None = None
    sai_b: bytes = field(default=b"", repr=False)
    dh: DhPrivate | None = field(default=None, repr=False)
    g_xi: bytes = field(default=b"", repr=False)
    g_xr: bytes = field(default=b"", repr=False)
    ni_b: bytes = field(default=b"", repr=False)
    nr_b: bytes = field(default=b"", repr=False)
    keys: Phase1Keys | None = field(default=None, repr=False)
    iv: bytes = field(default=b"", repr=False)  # CBC chaining value of main mode
    last_block: bytes = field(default=b"", repr=False)  # last CBC block of MM6
    nat_detected: bool = False
    peer_nat_t: bool = False  # the peer sent the RFC 3947 vendor ID
    floated: bool = False  # RFC 3947 4: IKE moved to UDP 4500; quick mode UDP-encapsulates
    # retransmission of our last message / duplicate detection
    last_sent: bytes = field(default=b"", repr=False)
    last_received: bytes = field(default=b"", repr=False)
    retransmits: int = 0
    resend_at: float | None = None  # only while we wait for an answer
    give_up_at: float | None = None  # responder: half-open negotiation timeout
    expires_at: float | None = None  # lifetime of an established SA
    purge_at: float | None = None  # a deleted SA stays listed until then
    failure_reported: bool = False
    established_at: float = 0.0

    @property
    def established(self) -> bool:
        return self.state == "QM_IDLE" and not self.deleted

    @property
    def dst(self) -> int:
        """IOS prints the responder as dst."""
        return self.local if not self.initiator else self.peer

    @property
    def src(self) -> int:
        """IOS prints the initiator as src."""
        return self.local if self.initiator else self.peer

    @property
    def port(self) -> int:
        """The UDP port this SA's IKE messages go to: 4500 once floated, else 500."""
        return NAT_T_PORT if self.floated else IKE_PORT

    def require_keys(self) -> tuple[Phase1Suite, Phase1Keys]:
        if self.suite is None or self.keys is None:
            raise ValueError("no phase-1 keys yet")
        return self.suite, self.keys

    def phase2_iv(self, message_id: int) -> bytes:
        """RFC 2409 Appendix B: IV of a quick-mode or informational exchange."""
        suite, _ = self.require_keys()
        return phase2_iv(suite.hash, self.last_block, message_id, suite.cipher.block_size)

    def encrypt(self, iv: bytes, plaintext: bytes) -> bytes:
        suite, keys = self.require_keys()
        return encrypt_body(suite.cipher, keys.encryption_key, iv, plaintext)

    def decrypt(self, iv: bytes, ciphertext: bytes) -> bytes:
        suite, keys = self.require_keys()
        return decrypt_body(suite.cipher, keys.encryption_key, iv, ciphertext)

    def block(self) -> int:
        suite, _ = self.require_keys()
        return suite.cipher.block_size


# --- the main-mode half of the engine ---------------------------------------------------------

RETRANSMIT_BASE = 10.0  # seconds before the first retransmission; doubles each time
RETRANSMIT_LIMIT = 5
GIVE_UP_AFTER = sum(RETRANSMIT_BASE * 2**n for n in range(RETRANSMIT_LIMIT + 1))  # 630 s
ZERO_COOKIE = bytes(8)
_MM = ExchangeType.IDENTITY_PROTECTION
_INFO = ExchangeType.INFORMATIONAL


class LocalProtocolError(Exception):
    """The caller used the engine wrongly."""


class RemoteProtocolError(Exception):
    """The peer sent something we cannot accept (the datagram is dropped)."""


@dataclass(frozen=True)
class Phase1Established:
    """Main mode completed: the ISAKMP SA with ``peer`` is QM_IDLE."""

    peer: int
    conn_id: int


@dataclass(frozen=True)
class Phase1Failed:
    """Main mode with ``peer`` failed (IOS-like reason)."""

    peer: int
    reason: str


@dataclass(frozen=True)
class StateChanged:
    """An IOS-internal state transition, for ``debug crypto isakmp``'s ``Old State = X  New
    State = Y`` lines (``IKE_READY``, ``IKE_I_MM1`` ... ``IKE_P1_COMPLETE``, ``IKE_QM_READY``,
    ``IKE_QM_I_QM1`` ... ``IKE_QM_PHASE2_COMPLETE``); ``conn_id`` is 0 until keys exist."""

    peer: int
    conn_id: int
    old: str
    new: str


def ip_text(address: int) -> str:
    """Dotted-quad text of an IPv4 address held as an int."""
    return ".".join(str(b) for b in address.to_bytes(4, "big"))


class MainModeMixin:
    """Main mode handlers and the SA-level message helpers of ``IkeEngine``.

    Each ``_mmN`` handler processes message N-1 and sends message N; it mutates the SA only
    after everything it needs from the message has been parsed, computed and checked.
    """

    local: int
    _rand: Callable[[int], bytes]
    _policies: Callable[[], list[IkePolicy]]
    _psk_for: Callable[[int], str | None]
    _sas: dict[tuple[int, bytes], IsakmpSa]
    _pending: dict[tuple[int, bytes], list[tuple[ProxyIdentity, Phase2Offer]]]
    _outbox: list[tuple[int, bytes, int]]  # (peer, datagram, destination port)
    _events: deque[object]
    _next_conn_id: int
    _nat_traversal: bool

    def _send(self, sa: IsakmpSa, data: bytes, now: float, *, wait: bool) -> None:
        self._outbox.append((sa.peer, data, sa.port))
        sa.last_sent = data
        sa.retransmits = 0
        sa.resend_at = now + RETRANSMIT_BASE if wait else None

    def _header(self, sa: IsakmpSa, exchange: ExchangeType, mid: int = 0,
                first: Payload | None = None) -> IsakmpHeader:
        if first is None:
            return IsakmpHeader(sa.cky_i, sa.cky_r, exchange, IsakmpFlag.NONE, mid)
        return IsakmpHeader(sa.cky_i, sa.cky_r, exchange, IsakmpFlag.E, mid, first.payload_type)

    def _seal(self, sa: IsakmpSa, exchange: ExchangeType, mid: int, payloads: list[Payload],
              iv: bytes) -> tuple[bytes, bytes]:
        """Encrypt a payload chain: (datagram, last ciphertext block = next IV)."""
        _, plain = push_payloads(payloads)
        body = sa.encrypt(iv, plain)
        header = self._header(sa, exchange, mid, payloads[0])
        return push_message(IsakmpMessage(header, (), body)), body[-sa.block():]

    def _open(self, sa: IsakmpSa, msg: IsakmpMessage, iv: bytes
              ) -> tuple[tuple[Payload, ...], bytes]:
        """Decrypt and parse: (payloads, last ciphertext block = next IV)."""
        if msg.encrypted_body is None:
            raise RemoteProtocolError("expected an encrypted message")
        plain = sa.decrypt(iv, msg.encrypted_body)
        payloads = pull_payloads(msg.header.next_payload, plain,
                                 exchange_type=msg.header.exchange_type)
        return payloads, msg.encrypted_body[-sa.block():]

    def _start_main_mode(self, peer: int, proxies: ProxyIdentity, offer: Phase2Offer,
                         now: float) -> None:
        psk = self._psk_for(peer)
        if psk is None:
            self._events.append(Phase1Failed(peer, f"No pre-shared key with {ip_text(peer)}!"))
            return
        policies = sorted(self._policies(), key=lambda p: p.priority)
        usable = [p for p in policies if p.authentication == "pre-share"]
        if not usable:
            self._events.append(Phase1Failed(peer, "auth method not supported"))
            return
        sa_payload = isakmp_sa_payload(tuple(policy_transform(i + 1, p)
                                             for i, p in enumerate(usable)))
        sa = IsakmpSa(peer, self.local, True, self._rand(8), ZERO_COOKIE, psk.encode())
        sa.sai_b = push_payload_body(sa_payload)
        self._sas[(peer, sa.cky_i)] = sa
        self._pending[(peer, sa.cky_i)] = [(proxies, offer)]
        mm1 = IsakmpMessage(self._header(sa, _MM), (sa_payload, VendorIdPayload(RFC3947_VID)))
        self._send(sa, push_message(mm1), now, wait=True)

    def _mm1(self, msg: IsakmpMessage, data: bytes, peer: int, now: float) -> None:
        sa_payload = msg.get(SaPayload)
        if sa_payload is None or len(sa_payload.proposals) != 1:
            raise RemoteProtocolError("MM1 needs one SA proposal")
        proposal = sa_payload.proposals[0]
        if proposal.protocol_id != ProtocolId.PROTO_ISAKMP:
            raise RemoteProtocolError("MM1 proposal is not ISAKMP")
        psk = self._psk_for(peer)
        if psk is None:
            self._events.append(Phase1Failed(peer, f"No pre-shared key with {ip_text(peer)}!"))
            raise RemoteProtocolError("no pre-shared key")
        choice = choose_policy(proposal.transforms, self._policies())
        cky_r = self._rand(8)
        if choice is None:
            self._events.append(Phase1Failed(
                peer, f"atts are not acceptable: phase 1 SA policy not acceptable! "
                      f"(local {ip_text(self.local)} remote {ip_text(peer)})"))
            n = NotificationPayload(NotifyType.NO_PROPOSAL_CHOSEN, ProtocolId.PROTO_ISAKMP)
            header = IsakmpHeader(msg.header.initiator_cookie, cky_r, _INFO)
            self._outbox.append((peer, push_message(IsakmpMessage(header, (n,))), IKE_PORT))
            return
        transform, policy, lifetime = choice
        sa = IsakmpSa(peer, self.local, False, msg.header.initiator_cookie, cky_r, psk.encode())
        sa.policy, sa.suite = policy, suite_of(policy, lifetime)
        sa.sai_b = push_payload_body(sa_payload)
        sa.peer_nat_t = any(v.data == RFC3947_VID for v in msg.get_all(VendorIdPayload))
        sa.state, sa.last_received = "MM_SA_SETUP", data
        sa.give_up_at = now + GIVE_UP_AFTER
        self._sas[(peer, sa.cky_i)] = sa
        chosen = ProposalPayload(proposal.number, proposal.protocol_id, b"",
                                 (with_lifetime(transform, lifetime),))
        mm2 = IsakmpMessage(self._header(sa, _MM),
                            (SaPayload((chosen,)), VendorIdPayload(RFC3947_VID)))
        self._send(sa, push_message(mm2), now, wait=False)

    def _nat_d(self, sa: IsakmpSa) -> list[Payload]:
        if not sa.peer_nat_t or sa.suite is None:
            return []
        h = sa.suite.hash
        return [NatDPayload(nat_d_hash(h, sa.cky_i, sa.cky_r, sa.peer.to_bytes(4, "big"),
                                       IKE_PORT)),
                NatDPayload(nat_d_hash(h, sa.cky_i, sa.cky_r, self.local.to_bytes(4, "big"),
                                       IKE_PORT))]

    def _check_nat_d(self, sa: IsakmpSa, msg: IsakmpMessage) -> bool:
        """RFC 3947 3.2: whether either NAT-D hash shows an address (or port) rewritten."""
        hashes = [p.hash for p in msg.get_all(NatDPayload)]
        if not hashes or sa.suite is None:
            return False
        h = sa.suite.hash
        me = nat_d_hash(h, sa.cky_i, sa.cky_r, self.local.to_bytes(4, "big"), IKE_PORT)
        them = nat_d_hash(h, sa.cky_i, sa.cky_r, sa.peer.to_bytes(4, "big"), IKE_PORT)
        return hashes[0] != me or them not in hashes[1:]

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

    def _mm2(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        sa_payload = msg.get(SaPayload)
        if (sa_payload is None or len(sa_payload.proposals) != 1
                or len(sa_payload.proposals[0].transforms) != 1):
            raise RemoteProtocolError("MM2 needs exactly one transform")
        transform = sa_payload.proposals[0].transforms[0]
        offered = [p for p in self._policies() if p.authentication == "pre-share"]
        policy = next((p for p in sorted(offered, key=lambda p: p.priority)
                       if transform_matches(transform, p)), None)
        if policy is None:
            raise RemoteProtocolError("MM2 chose a transform we did not offer")
        lifetime = min(policy.lifetime, returned_lifetime(transform) or policy.lifetime)
        suite = suite_of(policy, lifetime)
        dh = dh_group(suite.group).generate(self._rand)
        sa.cky_r = msg.header.responder_cookie
        sa.policy, sa.suite, sa.dh = policy, suite, dh
        sa.g_xi, sa.ni_b = dh.public_bytes(), self._rand(NONCE_SIZE)
        sa.peer_nat_t = any(v.data == RFC3947_VID for v in msg.get_all(VendorIdPayload))
        sa.state, sa.last_received = "MM_SA_SETUP", data
        payloads: list[Payload] = [KePayload(sa.g_xi), NoncePayload(sa.ni_b), *self._nat_d(sa)]
        self._send(sa, push_message(IsakmpMessage(self._header(sa, _MM), tuple(payloads))),
                   now, wait=True)

    def _mm3(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        assert sa.suite is not None
        g_xi, ni_b = self._ke_nonce(msg)
        dh = dh_group(sa.suite.group).generate(self._rand)
        g_xy = dh.shared_secret(g_xi)  # validates the peer's value
        sa.dh, sa.g_xi, sa.ni_b = dh, g_xi, ni_b
        sa.g_xr, sa.nr_b = dh.public_bytes(), self._rand(NONCE_SIZE)
        self._derive(sa, g_xy)
        sa.nat_detected = self._check_nat_d(sa, msg)
        sa.state, sa.last_received = "MM_KEY_EXCH", data
        payloads: list[Payload] = [KePayload(sa.g_xr), NoncePayload(sa.nr_b), *self._nat_d(sa)]
        self._send(sa, push_message(IsakmpMessage(self._header(sa, _MM), tuple(payloads))),
                   now, wait=False)

    def _mm4(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        assert sa.suite is not None and sa.dh is not None
        g_xr, nr_b = self._ke_nonce(msg)
        g_xy = sa.dh.shared_secret(g_xr)
        sa.g_xr, sa.nr_b = g_xr, nr_b
        self._derive(sa, g_xy)
        sa.nat_detected = self._check_nat_d(sa, msg)
        suite, keys = sa.require_keys()
        my_id = self._my_id()
        h = hash_i(suite.hash, keys.skeyid, sa.g_xi, sa.g_xr, sa.cky_i, sa.cky_r, sa.sai_b,
                   push_payload_body(my_id))
        mm5, sa.iv = self._seal(sa, _MM, 0, [my_id, HashPayload(h)], sa.iv)
        sa.state, sa.last_received = "MM_KEY_EXCH", data
        # RFC 3947 4: a NAT is in the way and both sides speak RFC 3947: float to 4500 with MM5
        sa.floated = self._nat_traversal and sa.nat_detected and sa.peer_nat_t
        self._send(sa, mm5, now, wait=True)

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
        self._established(sa, now)
        self._send(sa, mm6, now, wait=False)

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
        self._established(sa, now)

    def _established(self, sa: IsakmpSa, now: float) -> None:
        assert sa.suite is not None
        sa.state, sa.give_up_at = "QM_IDLE", None
        sa.established_at, sa.expires_at = now, now + sa.suite.lifetime
        sa.dh = None
        self._events.append(Phase1Established(sa.peer, sa.conn_id))

