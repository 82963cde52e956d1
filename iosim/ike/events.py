"""What the IKE engine tells its caller, one event at a time (``IkeEngine.next_event()``),
and the rows of ``show crypto isakmp sa`` it lists. Frozen dataclasses; the events of a
phase are defined with the phase (``Phase1Established`` in :mod:`iosim.ike.main_mode`,
``Phase2Established`` in :mod:`iosim.ike.quick_mode_exchange`, DPD's in :mod:`iosim.ike.dpd`,
``AdmissionDenied`` in :mod:`iosim.ike.admission`); these are the engine's own.

Besides the events the router acts on, the engine reports what it does step by step, in the
order it does it, so that ``debug crypto isakmp`` can say so in IOS's words and order
(:mod:`iosim.ike.ios_debug` has the words): the peer struct and the SA it creates
(``PeerLocked``, ``SaInserted``), each payload it processes (``PayloadProcessed``,
``VendorIdProcessed``, ``NatDChecked``, ``IdentityPayload``, ``NotifyProcessed``,
``IpsecProposalChecked``), the lifetime it settles on (``LifetimeAccepted``), each message it
sends (``PacketSent``, ``NotifySent``), the quick-mode and informational nodes it opens and
closes (``NodeCreated``, ``NodeDeleted``, ``NodePurged``), the IPsec SAs a quick mode keyed
(``Phase2Keyed``), and fixed facts (``Note``). Each is emitted where the thing happens, never
for something that did not: a vendor ID line needs a received vendor ID payload, a NAT line
a NAT-D comparison. These step-by-step events, except ``Phase2Keyed`` (the router creates
the pair's SAs on it), are built only while the engine's ``trace()`` says someone listens
(:mod:`iosim.ike.engine`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iosim.ike.payloads import TransformPayload
    from iosim.ike.quick_mode import IpsecSaPair

__all__ = [
    "DuplicateReceived",
    "IdentityPayload",
    "InitialContact",
    "IpsecProposalChecked",
    "IsakmpSaDeleted",
    "IsakmpSaState",
    "LifetimeAccepted",
    "NatDChecked",
    "NodeCreated",
    "NodeDeleted",
    "NodePurged",
    "Note",
    "NoteKind",
    "NotifyProcessed",
    "NotifyRejected",
    "NotifySent",
    "PacketSent",
    "PayloadProcessed",
    "PeerInserted",
    "PeerLocked",
    "Phase2Deleted",
    "Phase2Keyed",
    "PortFloated",
    "QuickModeRequested",
    "Retransmitted",
    "SaInserted",
    "SaRequestAbandoned",
    "VendorIdProcessed",
    "VendorIdsMade",
]


@dataclass(frozen=True, slots=True)
class Retransmitted:
    """Our last message of phase ``phase`` (1 or 2) went out again, ``attempt`` of 5."""

    peer: int
    conn_id: int
    phase: int
    state: str
    attempt: int


@dataclass(frozen=True, slots=True)
class DuplicateReceived:
    """A phase-1 message identical to the last one arrived: the peer retransmitted."""

    peer: int
    conn_id: int
    state: str


@dataclass(frozen=True, slots=True)
class IsakmpSaDeleted:
    """The ISAKMP SA with ``peer`` is gone (deleted by either side or expired)."""

    peer: int
    conn_id: int


@dataclass(frozen=True, slots=True)
class InitialContact:
    """``peer`` sent INITIAL-CONTACT (RFC 2407 4.6.3.3) with the new ISAKMP SA ``conn_id``: it
    rebooted. Its older ISAKMP SAs are gone (no Delete sent); delete the IPsec SAs with it
    that are older than this SA."""

    peer: int
    conn_id: int
    spis: tuple[int, ...] = ()  # inbound SPIs of the IPsec pairs forgotten with it


@dataclass(frozen=True, slots=True)
class Phase2Deleted:
    """The peer deleted the IPsec SA pair whose inbound SPI is ``spi_in``."""

    peer: int
    spi_in: int


@dataclass(frozen=True, slots=True)
class IsakmpSaState:
    """One row of ``show crypto isakmp sa [detail]``; dst is the responder, src the initiator."""

    dst: int
    src: int
    state: str
    conn_id: int
    status: str
    encryption: str
    hash: str
    auth: str
    group: int
    lifetime_left: float
    initiator: bool
    nat_t: bool = False  # NAT detected and IKE floated to UDP 4500 (RFC 3947)
    aggressive: bool = False  # negotiated in aggressive mode (RFC 2409 5.4), not main mode
    dpd: bool = False  # both sides sent the DPD vendor ID: R-U-THERE usable (RFC 3706)
    established_at: float | None = None  # when it reached QM_IDLE (None before, or deleted)
    lifetime: int = 0  # the negotiated lifetime in seconds (0 before phase 1 agreed on one)
    version: int = 1  # 2: an IKEv2 SA (show crypto session lists both)
    session: int = 0  # IKEv2: the session the SA carries on (0: its own conn id)
    profile: str = ""  # IKEv2: the IKEv2 profile that matched the peer


# --- step by step, for debug crypto isakmp ------------------------------------------------------


class NoteKind(StrEnum):
    """Facts ``debug crypto isakmp`` states in fixed words (``ios_debug.NOTES``)."""

    MAIN_MODE_INSTEAD = "main mode instead"  # no aggressive mode configured for the peer
    BEGIN_MAIN = "begin main"
    BEGIN_AGGRESSIVE = "begin aggressive"
    PSK_FOUND = "psk found"  # the pre-shared key for the peer was looked up and found
    PSK_LOCAL = "psk local"  # ... while checking the peer's SA payload
    PSK_MISSING = "psk missing"  # ... and not found: no pre-share transform can be accepted
    SEND_INITIAL_CONTACT = "send initial contact"
    AUTHENTICATED = "authenticated"  # the peer's HASH verified
    QM_INITIATOR_SPI = "qm initiator spi"
    QM_RESPONDER_SPI = "qm responder spi"


@dataclass(frozen=True, slots=True)
class Note:
    """A fact about the negotiation with ``peer`` (see ``NoteKind``)."""

    peer: int
    conn_id: int
    kind: NoteKind


@dataclass(frozen=True, slots=True)
class PeerLocked:
    """A new ISAKMP SA with ``peer`` locks the peer's struct: the first SA with the peer
    creates it (``refcount`` 1), later ones find it. ``handle`` numbers the struct (IOS prints
    its address); ``initiator``: we start the SA (else a peer's first message did)."""

    peer: int
    port: int
    handle: int
    refcount: int
    initiator: bool


@dataclass(frozen=True, slots=True)
class NotifyRejected:
    """A notify came unprotected (no HASH: nothing authenticates it) while phase 1 with
    ``peer`` was under way, as a responder's NO_PROPOSAL_CHOSEN does. IOS acts on no such
    notify -- anyone could send one to end a negotiation -- and says so (``Notify has no
    hash. Rejected.``, ``%CRYPTO-6-IKMP_MODE_FAILURE: Processing of Informational mode
    failed``); the SA stays in ``state`` (IOS's internal one) and goes on retransmitting.
    Always reported: the syslog message does not need debug."""

    peer: int
    conn_id: int
    state: str


@dataclass(frozen=True, slots=True)
class SaInserted:
    """The new ISAKMP SA numbered ``handle`` is in the SA database (the initiator's also
    opens its phase-1 node 0)."""

    peer: int
    handle: int
    initiator: bool


@dataclass(frozen=True, slots=True)
class SaRequestAbandoned:
    """The SA numbered ``handle``, just inserted to start main mode with ``peer``, cannot send
    its first message (no pre-shared key for the peer): it is purged and the peer's struct
    ``struct`` unlocked, ``refcount`` locks left (none: the struct is reaped)."""

    peer: int
    handle: int
    struct: int
    refcount: int


@dataclass(frozen=True, slots=True)
class PeerInserted:
    """Authenticated: the peer's struct ``handle`` is filed under local/peer/port."""

    peer: int
    conn_id: int
    local: int
    port: int
    handle: int


@dataclass(frozen=True, slots=True)
class PayloadProcessed:
    """A payload of a received message was processed (``payload``: IOS's name, ``SA``,
    ``KE``, ``NONCE``, ``ID``, ``HASH``, ``DELETE``)."""

    peer: int
    conn_id: int
    payload: str
    message_id: int = 0


@dataclass(frozen=True, slots=True)
class VendorIdProcessed:
    """A received vendor ID payload."""

    peer: int
    conn_id: int
    data: bytes


@dataclass(frozen=True, slots=True)
class VendorIdsMade:
    """NAT-T vendor IDs put into a message we send (``names``: ``rfc3947``, ``07``, ...)."""

    peer: int
    conn_id: int
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NatDChecked:
    """The NAT-D payloads of a message (RFC 3947 3.2), in order, each compared with the
    hashes of our address (``"mine"``), the peer's (``"his"``) or neither (``"none"``)."""

    peer: int
    conn_id: int
    matches: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LifetimeAccepted:
    """The phase-1 lifetime settled while accepting a transform: the peer's ``offered``
    seconds (``basic``: in the short attribute form), ours, and the one used."""

    peer: int
    conn_id: int
    offered: int
    own: int
    lifetime: int
    basic: bool


@dataclass(frozen=True, slots=True)
class IdentityPayload:
    """A phase-1 ID payload (RFC 2407 4.6.2) we send (``sent``) or received: type, the
    address (ID_IPV4_ADDR), protocol, port, payload length and the next payload's type."""

    peer: int
    conn_id: int
    sent: bool
    id_type: int
    address: int
    protocol: int
    port: int
    length: int
    next_payload: int


@dataclass(frozen=True, slots=True)
class NotifyProcessed:
    """A received NOTIFY payload (``notify`` type, ``protocol`` id) was processed."""

    peer: int
    conn_id: int
    notify: int
    protocol: int


@dataclass(frozen=True, slots=True)
class NotifySent:
    """A NOTIFY payload goes out in an informational exchange."""

    peer: int
    conn_id: int
    notify: int
    protocol: int


@dataclass(frozen=True, slots=True)
class PortFloated:
    """The peer's messages moved to ``port`` (RFC 3947 4): the SA answers there from now."""

    peer: int
    conn_id: int
    port: int


@dataclass(frozen=True, slots=True)
class PacketSent:
    """A message went to ``peer`` (UDP ``port``), sent by the SA in ``state`` (IOS's
    phase-1 state name); ``initiator`` is its role, None without an SA (a refusal)."""

    peer: int
    conn_id: int
    port: int
    initiator: bool | None
    state: str


@dataclass(frozen=True, slots=True)
class NodeCreated:
    """A quick-mode or informational exchange (IOS: a node) ``message_id`` opened."""

    peer: int
    conn_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class NodeDeleted:
    """The node ``message_id`` is done (``error``: it failed), for ``reason``."""

    peer: int
    conn_id: int
    message_id: int
    reason: str
    error: bool = False


@dataclass(frozen=True, slots=True)
class NodePurged:
    """The node of an informational exchange we sent is forgotten at once."""

    peer: int
    conn_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class QuickModeRequested:
    """IPsec asked for SAs while the ISAKMP SA with ``peer`` sits in QM_IDLE: quick mode
    starts at once (``local``/``port``: our end and the IKE port)."""

    peer: int
    conn_id: int
    local: int
    port: int


@dataclass(frozen=True, slots=True)
class IpsecProposalChecked:
    """A received quick-mode proposal (``number``, protocol ``protocol_id``): each of its
    transforms and whether its attributes are acceptable (understood and consistent)."""

    peer: int
    conn_id: int
    number: int
    protocol_id: int
    transforms: tuple[tuple[TransformPayload, bool], ...]


@dataclass(frozen=True, slots=True)
class Phase2Keyed:
    """Quick mode derived the keys of ``sa``: its IPsec SAs can be created (IOS's
    IKE_QM_IPSEC_INSTALL_AWAIT). It is installed with ``Phase2Established``."""

    sa: IpsecSaPair
