"""Call admission control for IKE (IOS ``crypto call admission limit ike ...``), sans-IO.

Theory of operation
-------------------
Every new ISAKMP SA costs state (and, from the second message on, a Diffie-Hellman
computation), and the first message of main or aggressive mode is unauthenticated: a flood of
them from forged addresses and cookies would otherwise grow a responder without bound. Before
an engine creates an ISAKMP SA -- for a peer's first message (an *incoming* request) or for a
negotiation of its own (an *outgoing* one) -- it asks the router's :class:`CallAdmission`,
shared by all the router's engines, which refuses it when

* ``crypto call admission limit ike sa N`` is configured and N ISAKMP SAs (active and
  negotiating) exist -- the *SA limit*;
* the in-negotiation limit is reached: ``crypto call admission limit ike in-negotiation-sa
  N``, else :data:`DEFAULT_IN_NEGOTIATION` (IOS has no default; iosim needs one to stay
  bounded) -- or the peer alone already has :data:`PER_PEER_IN_NEGOTIATION` half-open SAs
  (no legitimate peer needs more than two or three: one each way, one rekey).

A refused request creates nothing and sends nothing (IOS drops it); it is counted as IOS's
``show crypto call admission statistics`` counts it, and the engine emits
:class:`AdmissionDenied` for the router's log. Existing SAs are never touched: CAC only
decides about new ones, as on IOS. The counts of negotiating and active SAs are kept by the
engines' :class:`~iosim.ike.sa_table.SaTable` through :meth:`CallAdmission.changed`, so a
decision is O(1).

Quick modes are not limited (IOS's IPsec limits are not emulated) but are counted, for the
IPsec half of the statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

__all__ = [
    "DEFAULT_IN_NEGOTIATION",
    "PER_PEER_IN_NEGOTIATION",
    "AdmissionCounters",
    "AdmissionDenied",
    "AdmissionLimits",
    "CallAdmission",
]

DEFAULT_IN_NEGOTIATION = 1000  # half-open ISAKMP SAs per router when no limit is configured
PER_PEER_IN_NEGOTIATION = 10  # half-open ISAKMP SAs per peer address, always

SA_LIMIT = "SA limit"
IN_NEGOTIATION_LIMIT = "in-negotiation SA limit"


@dataclass(frozen=True)
class AdmissionLimits:
    """The configured limits (None: not configured)."""

    ike_sa: int | None = None  # crypto call admission limit ike sa N
    in_negotiation: int | None = None  # crypto call admission limit ike in-negotiation-sa N


@dataclass
class AdmissionCounters:
    """What ``show crypto call admission statistics`` counts (``clear crypto call admission
    statistics`` zeroes them)."""

    incoming: int = 0  # first messages of peers that would create an ISAKMP SA
    incoming_rejected: int = 0
    outgoing: int = 0  # phase 1 negotiations of ours
    outgoing_rejected: int = 0
    rejected_sa_limit: int = 0
    rejected_in_negotiation: int = 0
    ipsec_incoming: int = 0  # quick modes a peer started
    ipsec_outgoing: int = 0  # quick modes we started

    def clear(self) -> None:
        for f in fields(self):
            setattr(self, f.name, 0)


@dataclass(frozen=True)
class AdmissionDenied:
    """A new ISAKMP SA with ``peer`` was refused: ours (``initiator``) or the peer's."""

    peer: int
    initiator: bool
    reason: str  # SA_LIMIT or IN_NEGOTIATION_LIMIT


class CallAdmission:
    """IKE call admission control of one router (see the module docstring)."""

    def __init__(self, limits: Callable[[], AdmissionLimits] = AdmissionLimits,
                 per_peer: int = PER_PEER_IN_NEGOTIATION) -> None:
        self.limits = limits
        self.per_peer = per_peer
        self.negotiating = 0
        self.active = 0
        self.counters = AdmissionCounters()

    def changed(self, negotiating: int, active: int) -> None:
        """An engine's counts of negotiating and active ISAKMP SAs moved by these deltas."""
        self.negotiating += negotiating
        self.active += active

    def in_negotiation_limit(self) -> int:
        """The in-negotiation limit in force (configured, else the default)."""
        configured = self.limits().in_negotiation
        return DEFAULT_IN_NEGOTIATION if configured is None else configured

    def admit(self, peer_negotiating: int, *, initiator: bool) -> str | None:
        """Whether a new ISAKMP SA may be created, with ``peer_negotiating`` half-open SAs
        already there with that peer: None if admitted, else why not. Counted either way."""
        limits = self.limits()
        in_negotiation = (DEFAULT_IN_NEGOTIATION if limits.in_negotiation is None
                          else limits.in_negotiation)
        reason = None
        if limits.ike_sa is not None and self.negotiating + self.active >= limits.ike_sa:
            reason = SA_LIMIT
        elif self.negotiating >= in_negotiation or peer_negotiating >= self.per_peer:
            reason = IN_NEGOTIATION_LIMIT
        c = self.counters
        if initiator:
            c.outgoing += 1
            c.outgoing_rejected += reason is not None
        else:
            c.incoming += 1
            c.incoming_rejected += reason is not None
        c.rejected_sa_limit += reason == SA_LIMIT
        c.rejected_in_negotiation += reason == IN_NEGOTIATION_LIMIT
        return reason
