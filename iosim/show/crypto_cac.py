"""``show crypto call admission statistics``: IKE call admission control, as IOS 15 prints it.

A pure renderer of :class:`CallAdmissionView` (built from the router's live
:class:`~iosim.ike.admission.CallAdmission`, its engines and its SAD). Each counter line has
three fields: a label with its number right-aligned to column 31, then two more of 18
columns each (a number too wide for its field pushes the line right by what it needs). The
system resource limit, "rsrc low", packets dropped at dispatch and phase 1.5 (XAUTH/mode
config) are not emulated and count 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from iosim.ike.admission import AdmissionCounters

__all__ = ["CallAdmissionView", "show_call_admission_statistics"]

_RULE = "-" * 59


@dataclass(frozen=True)
class CallAdmissionView:
    """What the statistics show."""

    max_ike_sas: int  # crypto call admission limit ike sa N, else 0 (no limit)
    max_in_negotiation: int  # the in-negotiation limit in force
    ike_active: int
    ike_negotiating: int
    counters: AdmissionCounters
    ipsec_active: int  # IPsec SAs (one per direction and protocol) in the SAD
    ipsec_negotiating: int  # quick modes waiting for their last message


def _field(label: str, number: int, width: int) -> str:
    """``label`` and ``number`` right-aligned to ``width`` columns (a space between, always)."""
    digits = str(number)
    return label + digits.rjust(max(width - len(label), len(digits) + 1))


def _line(first: tuple[str, int], second: tuple[str, int], third: tuple[str, int]) -> str:
    return f"{_field(*first, 31)} {_field(*second, 18)} {_field(*third, 18)}"


def show_call_admission_statistics(v: CallAdmissionView) -> str:
    """The whole output of ``show crypto call admission statistics``."""
    c = v.counters
    rejected = c.incoming_rejected + c.outgoing_rejected
    lines = [
        _RULE,
        "             Crypto Call Admission Control Statistics",
        _RULE,
        _line(("System Resource Limit:", 0), ("Max IKE SAs:", v.max_ike_sas),
              ("Max in nego:", v.max_in_negotiation)),
        _line(("Total IKE SA Count:", v.ike_active + v.ike_negotiating),
              ("active:", v.ike_active), ("negotiating:", v.ike_negotiating)),
        _line(("Incoming IKE Requests:", c.incoming),
              ("accepted:", c.incoming - c.incoming_rejected),
              ("rejected:", c.incoming_rejected)),
        _line(("Outgoing IKE Requests:", c.outgoing),
              ("accepted:", c.outgoing - c.outgoing_rejected),
              ("rejected:", c.outgoing_rejected)),
        _line(("Rejected IKE Requests:", rejected), ("rsrc low:", 0),
              ("Active SA limit:", c.rejected_sa_limit)),
        " " * 51 + _field("In-neg SA limit:", c.rejected_in_negotiation, 18),
        _field("IKE packets dropped at dispatch:", 0, 41),
        "",
        _field("Max IPsec SAs:", 0, 20),
        _line(("Total IPsec SA Count:", v.ipsec_active + v.ipsec_negotiating),
              ("active:", v.ipsec_active), ("negotiating:", v.ipsec_negotiating)),
        _line(("Incoming IPsec Requests:", c.ipsec_incoming),
              ("accepted:", c.ipsec_incoming), ("rejected:", 0)),
        _line(("Outgoing IPsec Requests:", c.ipsec_outgoing),
              ("accepted:", c.ipsec_outgoing), ("rejected:", 0)),
        "",
        _field("Phase1.5 SAs under negotiation:", 0, 41),
    ]
    return "\n".join(lines) + "\n"
