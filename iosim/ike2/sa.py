"""One IKEv2 SA and what configures it: proposals, the profile's settings, the SA's state.

Theory of operation
-------------------
``IkeProposal`` is one ``crypto ikev2 proposal``: several ciphers, integrity algorithms,
PRFs and groups, which become one RFC 7296 proposal with several transforms of each type
(``proposal``); the responder picks the first of ours (IOS walks its own proposals in policy
order) with one transform of each type the peer offered (``choose``). ``Ikev2Settings`` is
what an IKEv2 profile (with its keyring) says for one peer: identities, the local and the
remote pre-shared key (IOS allows them to differ), lifetime, DPD, fragmentation.

``Ikev2Sa`` is the state of one IKE SA: SPIs, nonces, keys, the message-ID windows (RFC
7296 2.3: ours, announced with N(SET_WINDOW_SIZE), bounds the peer's requests we accept and
the responses we keep for their retransmissions; the peer's bounds the requests of ours
outstanding, each an ``OutstandingRequest`` with its own timer and context), timers and the
CHILD_SAs it made. States are IOS's words for ``show crypto
ikev2 sa``: ``IN-NEG`` while IKE_SA_INIT/IKE_AUTH run, ``READY``, ``DELETE``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from iosim.crypto.dh import DhPrivate
from iosim.ike.quick_mode import IpsecSaPair, Phase2Offer, ProxyIdentity
from iosim.ike2.constants import ProtocolId, TransformType
from iosim.ike2.keys import (
    CIPHER_BY_ID,
    CIPHERS,
    INTEG_BY_ID,
    INTEGRITIES,
    PRF_BY_ID,
    PRFS,
    IkeCipher,
    IkeIntegrity,
    IkeKeys,
    IkePrf,
)
from iosim.ike2.payloads import Proposal, SaPayload, Transform
from iosim.ike2.protect import Direction

#: The window we announce with N(SET_WINDOW_SIZE) (RFC 7296 2.3): the peer's requests we
#: accept at once and whose responses we keep. IOS's default is 5.
WINDOW_SIZE = 5
#: The window of a peer that announces none (and of everyone until IKE_AUTH completes).
DEFAULT_WINDOW = 1

__all__ = ["DEFAULT_WINDOW", "WINDOW_SIZE", "Ikev2Sa", "Ikev2Settings", "IkeProposal",
           "OutstandingRequest", "Suite", "choose", "proposal_payload"]


@dataclass(frozen=True)
class IkeProposal:
    """A ``crypto ikev2 proposal``: IOS keywords, in the order configured."""

    name: str
    encryption: tuple[str, ...]
    integrity: tuple[str, ...]
    prf: tuple[str, ...]
    groups: tuple[int, ...]

    def transforms(self) -> tuple[Transform, ...]:
        out = [Transform(TransformType.ENCR, CIPHERS[c].transform_id, CIPHERS[c].key_bits)
               for c in self.encryption]
        aead = all(CIPHERS[c].aead for c in self.encryption)
        # IOS: the PRF is the integrity algorithm's unless ``prf`` says otherwise
        prfs = self.prf or tuple(i for i in self.integrity if i in PRFS)
        out += [Transform(TransformType.PRF, PRFS[p].transform_id) for p in prfs]
        if not aead:
            out += [Transform(TransformType.INTEG, INTEGRITIES[i].transform_id)
                    for i in self.integrity]
        out += [Transform(TransformType.DH, g) for g in self.groups]
        return tuple(out)


def proposal_payload(proposals: list[IkeProposal], spi: bytes = b"") -> SaPayload:
    """The initiator's SA payload: one RFC proposal per IOS proposal."""
    return SaPayload(tuple(Proposal(i + 1, ProtocolId.IKE, spi, p.transforms())
                           for i, p in enumerate(proposals)))


@dataclass(frozen=True)
class Suite:
    """The negotiated algorithms of an IKE SA."""

    cipher: IkeCipher
    integ: IkeIntegrity | None
    prf: IkePrf
    group: int

    def reply(self, number: int, spi: bytes = b"") -> SaPayload:
        ts = [Transform(TransformType.ENCR, self.cipher.transform_id, self.cipher.key_bits),
              Transform(TransformType.PRF, self.prf.transform_id)]
        if self.integ is not None:
            ts.append(Transform(TransformType.INTEG, self.integ.transform_id))
        ts.append(Transform(TransformType.DH, self.group))
        return SaPayload((Proposal(number, ProtocolId.IKE, spi, tuple(ts)),))


def _suite_of(p: Proposal) -> list[Suite]:
    """Every suite a received proposal allows, in its own transform order."""
    ciphers = [c for t in p.of_type(TransformType.ENCR)
               if (c := CIPHER_BY_ID.get((t.transform_id, t.key_length))) is not None]
    prfs = [r for t in p.of_type(TransformType.PRF)
            if (r := PRF_BY_ID.get(t.transform_id)) is not None]
    integs = [i for t in p.of_type(TransformType.INTEG)
              if (i := INTEG_BY_ID.get(t.transform_id)) is not None]
    groups = [t.transform_id for t in p.of_type(TransformType.DH)]
    out = []
    for c in ciphers:
        for integ in ([None] if c.aead else integs):
            for r in prfs:
                for g in groups:
                    out.append(Suite(c, integ, r, g))
    return out


def choose(ours: list[IkeProposal], offered: SaPayload) -> tuple[Suite, int] | None:
    """Responder: the first of our proposals (in order) that one offered proposal fits, as
    (suite, the offered proposal's number); None: NO_PROPOSAL_CHOSEN."""
    for mine in ours:
        allowed = _suite_of(Proposal(1, ProtocolId.IKE, b"", mine.transforms()))
        for p in offered.proposals:
            if p.protocol_id != ProtocolId.IKE:
                continue
            for s in _suite_of(p):
                if s in allowed:
                    return s, p.number
    return None


def groups_of(ours: list[IkeProposal], offered: SaPayload) -> list[int]:
    """Groups we would accept with the offered algorithms (for INVALID_KE_PAYLOAD)."""
    found = choose(ours, offered)
    return [found[0].group] if found else []


def answered_suite(offered: SaPayload, answer: SaPayload) -> Suite | None:
    """The initiator checks the responder's choice: one proposal, one transform of each
    type, all of them offered."""
    if len(answer.proposals) != 1:
        return None
    got = answer.proposals[0]
    suites = _suite_of(got)
    mine = next((p for p in offered.proposals if p.number == got.number), None)
    if len(suites) != 1 or mine is None or not set(got.transforms) <= set(mine.transforms):
        return None
    return suites[0]


@dataclass(frozen=True)
class Ikev2Settings:
    """What the IKEv2 profile matching a peer says (the engine's view of the config)."""

    profile: str
    local_id: tuple[int, bytes]  # (ID type, data)
    local_psk: bytes | None
    remote_psk: bytes | None
    lifetime: int = 86400
    dpd: tuple[int, int, bool] | None = None  # (interval, retry, periodic)
    nat_keepalive: int | None = None


@dataclass
class PendingChild:
    """A CHILD_SA we want: for these proxies, with this offer (rekeying ``rekey_spi``)."""

    proxies: ProxyIdentity
    offer: Phase2Offer
    rekey_spi: int | None = None


@dataclass
class OutstandingRequest:
    """A request of ours awaiting its response: what it was for, the datagram(s) sent again
    on each retransmission, its schedule and what handling the response needs."""

    mid: int
    datagrams: tuple[bytes, ...]
    what: str  # "init", "auth", "child", "rekey_ike", "dpd", "delete_child", "delete_ike"
    resend_at: float | None
    context: dict[str, object] = field(default_factory=dict)
    retries: int = 0


@dataclass
class Ikev2Sa:
    """One IKE SA (see the module docstring)."""

    peer: int
    initiator: bool
    spi_i: bytes
    spi_r: bytes
    sa_id: int  # IOS's tunnel-id
    created_at: float
    session_id: int = 0  # IOS's session: the first SA's id, kept by the SAs its rekeys make
    state: str = "IN-NEG"
    port: int = 500
    nat_detected: bool = False
    nat_local: bool = False  # our own address was translated (we are behind the NAT)
    group: int = 0
    dh: DhPrivate | None = None
    ni: bytes = b""
    nr: bytes = b""
    suite: Suite | None = None
    keys: IkeKeys | None = None
    settings: Ikev2Settings | None = None
    remote_id: tuple[int, bytes] | None = None
    init_request: bytes = b""  # IKE_SA_INIT request and response: AUTH signs them
    init_response: bytes = b""
    cookie: bytes = b""
    offered: SaPayload | None = None
    fragmentation: bool = False  # both sides sent IKEV2_FRAGMENTATION_SUPPORTED
    established_at: float | None = None
    lifetime: int = 86400
    expires_at: float | None = None
    rekey_at: float | None = None
    # message IDs (RFC 7296 2.3): ours go up by one per request we send
    next_mid: int = 0
    peer_mid: int = 0  # the lowest of the peer's requests not answered yet
    # peer_mid when the SA became READY. show crypto ikev2 sa detailed counts our requests
    # from message ID 0 (an initiator's IKE_SA_INIT and IKE_AUTH among them: 2 on a new SA)
    # and the peer's from here (a responder does not count the initiator's two), as IOS 15.4
    ready_peer_mid: int = 0
    window: int = WINDOW_SIZE  # ours, announced in IKE_AUTH
    peer_window: int = DEFAULT_WINDOW  # the peer's N(SET_WINDOW_SIZE), 1 without one
    outstanding: dict[int, OutstandingRequest] = field(default_factory=dict)  # by mid
    responses: dict[int, tuple[bytes, ...]] = field(default_factory=dict)  # kept, by mid
    queue: deque[object] = field(default_factory=deque)  # requests waiting their turn
    children: dict[int, IpsecSaPair] = field(default_factory=dict)  # by inbound SPI
    pending: list[PendingChild] = field(default_factory=list)
    fragments: dict[int, dict[int, bytes]] = field(default_factory=dict)  # mid -> number
    last_in: float = 0.0  # last authenticated message from the peer (DPD)
    dpd_at: float | None = None  # DPD armed: periodic, the next probe (on demand: see timers)
    rekeyed_by: Ikev2Sa | None = None

    @property
    def established(self) -> bool:
        return self.state == "READY"

    def send_window(self) -> int:
        """Requests of ours that may be outstanding at once: one until IKE_AUTH is done."""
        return self.peer_window if self.established else DEFAULT_WINDOW

    def receive_window(self) -> int:
        """The peer's requests we accept at once: one until IKE_AUTH is done."""
        return self.window if self.established else DEFAULT_WINDOW

    def next_resend(self) -> float | None:
        """The earliest retransmission due of the requests outstanding."""
        due = [r.resend_at for r in self.outstanding.values() if r.resend_at is not None]
        return min(due) if due else None

    @property
    def local_spi(self) -> bytes:
        return self.spi_i if self.initiator else self.spi_r

    @property
    def remote_spi(self) -> bytes:
        return self.spi_r if self.initiator else self.spi_i

    def directions(self) -> tuple[Direction, Direction]:
        """(outbound, inbound) protection keys."""
        assert self.suite is not None and self.keys is not None
        s, k = self.suite, self.keys
        i_to_r = Direction(s.cipher, s.integ, k.sk_ei, k.sk_ai)
        r_to_i = Direction(s.cipher, s.integ, k.sk_er, k.sk_ar)
        return (i_to_r, r_to_i) if self.initiator else (r_to_i, i_to_r)
