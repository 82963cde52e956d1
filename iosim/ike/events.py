"""What the IKE engine tells its caller, one event at a time (``IkeEngine.next_event()``),
and the rows of ``show crypto isakmp sa`` it lists. Frozen dataclasses; the events of a
phase are defined with the phase (``Phase1Established`` in :mod:`iosim.ike.main_mode`,
``Phase2Established`` in :mod:`iosim.ike.quick_mode_exchange`, DPD's in :mod:`iosim.ike.dpd`,
``AdmissionDenied`` in :mod:`iosim.ike.admission`); these are the engine's own."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DuplicateReceived",
    "InitialContact",
    "IsakmpSaDeleted",
    "IsakmpSaState",
    "Phase2Deleted",
    "Retransmitted",
]


@dataclass(frozen=True)
class Retransmitted:
    """Our last message of phase ``phase`` (1 or 2) went out again, ``attempt`` of 5."""

    peer: int
    conn_id: int
    phase: int
    state: str
    attempt: int


@dataclass(frozen=True)
class DuplicateReceived:
    """A phase-1 message identical to the last one arrived: the peer retransmitted."""

    peer: int
    conn_id: int
    state: str


@dataclass(frozen=True)
class IsakmpSaDeleted:
    """The ISAKMP SA with ``peer`` is gone (deleted by either side or expired)."""

    peer: int
    conn_id: int


@dataclass(frozen=True)
class InitialContact:
    """``peer`` sent INITIAL-CONTACT (RFC 2407 4.6.3.3) with the new ISAKMP SA ``conn_id``: it
    rebooted. Its older ISAKMP SAs are gone (no Delete sent); delete the IPsec SAs with it
    that are older than this SA."""

    peer: int
    conn_id: int
    spis: tuple[int, ...] = ()  # inbound SPIs of the IPsec pairs forgotten with it


@dataclass(frozen=True)
class Phase2Deleted:
    """The peer deleted the IPsec SA pair whose inbound SPI is ``spi_in``."""

    peer: int
    spi_in: int


@dataclass(frozen=True)
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
