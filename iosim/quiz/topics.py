"""The quiz's topics, in the order the score lists them (kept free of imports: ``iosim quiz
--help`` lists them without loading the grammar or a lab)."""

from __future__ import annotations

TOPICS: dict[str, str] = {
    "protocols": "ESP, AH, IKE: protocol numbers, ports, what each provides, AH and NAT",
    "modes": "tunnel mode and transport mode",
    "ike": "phase 1 and 2, main/aggressive/quick mode, Diffie-Hellman, PFS, lifetimes",
    "sa": "security associations: one per direction, SPI, SAD and SPD",
    "verify": "which command verifies what, and what IOS's states mean",
    "commands": "type the IOS command (any valid abbreviation counts)",
    "output": "read live output of a working VPN: counters, SPIs, peers, lifetimes, NAT-T",
    "troubleshoot": "read live output of a broken VPN: which phase failed and why",
}

#: The seed a quiz uses when none is given, so that every run without --seed is the same.
DEFAULT_SEED = "ccna"
