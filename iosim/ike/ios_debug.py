"""What IOS's ``debug crypto isakmp`` says around a state change, as pure tables.

IOS prints an ``Input = ...`` line (the event that drove its state machine) before each
``Old State = X  New State = Y`` line, and ``processing ... payload`` lines for the payloads of
the message that caused it. The engine reports the transitions (``StateChanged``); these
tables give the words, from the captures of main mode, quick mode and the failures.
"""

from __future__ import annotations

__all__ = ["state_input", "processed_payloads"]

_FROM_PEER_MM = "IKE_MESG_FROM_PEER, IKE_MM_EXCH"
_FROM_PEER_AM = "IKE_MESG_FROM_PEER, IKE_AM_EXCH"
_PROCESS = "IKE_MESG_INTERNAL, IKE_PROCESS_MAIN_MODE"
_COMPLETE = "IKE_MESG_INTERNAL, IKE_PROCESS_COMPLETE"

#: (old state, new state) -> the input IOS names; a state kept is IKE_PROCESS_MAIN_MODE.
_INPUTS = {
    ("IKE_READY", "IKE_I_MM1"): "IKE_MESG_FROM_IPSEC, IKE_SA_REQ_MM",
    ("IKE_READY", "IKE_I_AM1"): "IKE_MESG_FROM_IPSEC, IKE_SA_REQ_AM",
    ("IKE_READY", "IKE_R_MM1"): _FROM_PEER_MM,
    ("IKE_READY", "IKE_R_AM1"): _FROM_PEER_AM,
    ("IKE_I_MM1", "IKE_I_MM2"): _FROM_PEER_MM,
    ("IKE_I_MM2", "IKE_I_MM3"): _COMPLETE,
    ("IKE_I_MM3", "IKE_I_MM4"): _FROM_PEER_MM,
    ("IKE_I_MM4", "IKE_I_MM5"): _COMPLETE,
    ("IKE_I_MM5", "IKE_I_MM6"): _FROM_PEER_MM,
    ("IKE_I_MM6", "IKE_P1_COMPLETE"): _COMPLETE,
    ("IKE_R_MM1", "IKE_R_MM2"): _COMPLETE,
    ("IKE_R_MM2", "IKE_R_MM3"): _FROM_PEER_MM,
    ("IKE_R_MM3", "IKE_R_MM4"): _COMPLETE,
    ("IKE_R_MM4", "IKE_R_MM5"): _FROM_PEER_MM,
    ("IKE_R_MM5", "IKE_P1_COMPLETE"): _COMPLETE,
    ("IKE_I_AM1", "IKE_I_AM2"): _FROM_PEER_AM,
    ("IKE_I_AM2", "IKE_P1_COMPLETE"): _COMPLETE,
    ("IKE_R_AM1", "IKE_R_AM2"): _COMPLETE,
    ("IKE_R_AM2", "IKE_R_AM3"): _FROM_PEER_AM,
    ("IKE_R_AM3", "IKE_P1_COMPLETE"): _COMPLETE,
    ("IKE_P1_COMPLETE", "IKE_P1_COMPLETE"): "IKE_MESG_INTERNAL, IKE_PHASE1_COMPLETE",
    ("IKE_QM_READY", "IKE_QM_I_QM1"): "IKE_MESG_INTERNAL, IKE_INIT_QM",
    ("IKE_QM_I_QM1", "IKE_QM_IPSEC_INSTALL_AWAIT"): "IKE_MESG_FROM_PEER, IKE_QM_EXCH",
    ("IKE_QM_IPSEC_INSTALL_AWAIT", "IKE_QM_PHASE2_COMPLETE"):
        "IKE_MESG_FROM_IPSEC, IPSEC_INSTALL_DONE",
    ("IKE_QM_READY", "IKE_QM_SPI_STARVE"): "IKE_MESG_FROM_PEER, IKE_QM_EXCH",
    ("IKE_QM_SPI_STARVE", "IKE_QM_IPSEC_INSTALL_AWAIT"): "IKE_MESG_INTERNAL, IKE_GOT_SPI",
    ("IKE_QM_IPSEC_INSTALL_AWAIT", "IKE_QM_R_QM2"): "IKE_MESG_FROM_IPSEC, IPSEC_INSTALL_DONE",
    ("IKE_QM_R_QM2", "IKE_QM_PHASE2_COMPLETE"): "IKE_MESG_FROM_PEER, IKE_QM_EXCH",
    ("IKE_QM_READY", "IKE_QM_READY"): "IKE_MESG_FROM_PEER, IKE_QM_EXCH",
}

#: The payloads IOS reports processing for the message behind a transition (main mode).
_PAYLOADS = {
    ("IKE_I_MM1", "IKE_I_MM2"): ("SA",),
    ("IKE_R_MM2", "IKE_R_MM3"): ("KE", "NONCE"),
    ("IKE_I_MM3", "IKE_I_MM4"): ("KE", "NONCE"),
    ("IKE_R_MM4", "IKE_R_MM5"): ("ID", "HASH"),
    ("IKE_I_MM5", "IKE_I_MM6"): ("ID", "HASH"),
}


def state_input(old: str, new: str) -> str | None:
    """The ``Input = ...`` words IOS prints before this transition (None if unknown)."""
    if old == new and ("_MM" in old or "_AM" in old):
        return _PROCESS
    return _INPUTS.get((old, new))


def processed_payloads(old: str, new: str) -> tuple[str, ...]:
    """The payloads whose ``processing X payload. message ID = 0`` lines go with it."""
    return _PAYLOADS.get((old, new), ())
