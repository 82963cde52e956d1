"""The OSPF neighbour state machine (RFC 2328 10.1-10.3) as a table, and a neighbour's data.

Theory of operation
-------------------
:data:`TRANSITIONS` maps (state, event) to (action, next state). The engine runs the
action (a method named ``nbr_<action>``) and moves the neighbour to the next state; an
action may return the state itself where the RFC decides at run time (whether an
adjacency should form, whether Loading is needed). A (state, event) pair that is not in
the table leaves the neighbour as it is, as the RFC's "no action" rows do.

States carry IOS's names (``2WAY``, ``EXSTART``), which ``show ip ospf neighbor`` and
``%OSPF-5-ADJCHG`` print; events carry the words IOS gives as the reason of a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum

from iosim.ospf.lsdb import LsdbEntry
from iosim.ospf.packets import LsaHeader, LsaKey


class NeighborState(IntEnum):
    """Neighbour states (10.1), in the order of an adjacency's progress."""

    DOWN = 0
    ATTEMPT = 1
    INIT = 2
    TWO_WAY = 3
    EXSTART = 4
    EXCHANGE = 5
    LOADING = 6
    FULL = 7

    @property
    def ios(self) -> str:
        """The name IOS prints (``2WAY``, ``EXSTART`` ...)."""
        return "2WAY" if self is NeighborState.TWO_WAY else self.name


class NeighborEvent(Enum):
    """Neighbour events (10.2); the value is IOS's wording of the reason."""

    HELLO_RECEIVED = "Received Hello"
    TWO_WAY_RECEIVED = "2-Way Received"
    NEGOTIATION_DONE = "Negotiation Done"
    EXCHANGE_DONE = "Exchange Done"
    BAD_LS_REQ = "BadLSReq"
    LOADING_DONE = "Loading Done"
    ADJ_OK = "AdjOK?"
    SEQ_NUMBER_MISMATCH = "SeqNumberMismatch"
    ONE_WAY = "1-Way"
    KILL_NBR = "Neighbor Down: Adjacency forced to reset"
    INACTIVITY_TIMER = "Neighbor Down: Dead timer expired"
    LL_DOWN = "Neighbor Down: Interface down or detached"
    TOO_MANY_RETRANSMISSIONS = "Neighbor Down: Too many retransmissions"


S = NeighborState
E = NeighborEvent
_DOWN_EVENTS = (E.KILL_NBR, E.INACTIVITY_TIMER, E.LL_DOWN, E.TOO_MANY_RETRANSMISSIONS)


def _table() -> dict[tuple[NeighborState, NeighborEvent], tuple[str, NeighborState | None]]:
    """(state, event) -> (action, next state; None: the action decides or nothing moves)."""
    t: dict[tuple[NeighborState, NeighborEvent], tuple[str, NeighborState | None]] = {
        (S.DOWN, E.HELLO_RECEIVED): ("start_inactivity", S.INIT),
        (S.INIT, E.TWO_WAY_RECEIVED): ("decide_adjacency", None),
        (S.EXSTART, E.NEGOTIATION_DONE): ("summary_list", S.EXCHANGE),
        (S.EXCHANGE, E.EXCHANGE_DONE): ("exchange_done", None),
        (S.LOADING, E.LOADING_DONE): ("loading_done", S.FULL),
        (S.TWO_WAY, E.ADJ_OK): ("decide_adjacency", None),
    }
    for state in S:
        if state >= S.INIT:
            t[(state, E.HELLO_RECEIVED)] = ("start_inactivity", None)
        if state >= S.EXSTART:
            t[(state, E.ADJ_OK)] = ("keep_adjacency", None)
        if state >= S.EXCHANGE:
            t[(state, E.SEQ_NUMBER_MISMATCH)] = ("restart_exchange", S.EXSTART)
            t[(state, E.BAD_LS_REQ)] = ("restart_exchange", S.EXSTART)
        if state >= S.TWO_WAY:
            t[(state, E.ONE_WAY)] = ("clear_lists", S.INIT)
        if state > S.DOWN:
            for event in _DOWN_EVENTS:
                t[(state, event)] = ("kill", S.DOWN)
    return t


TRANSITIONS = _table()


@dataclass(eq=False)
class Neighbor:
    """What a router knows of one neighbour on one interface (10)."""

    interface: str
    router_id: int
    address: int
    priority: int = 0
    options: int = 0
    dr: int = 0  # the Designated Router its hellos declare (an interface address)
    bdr: int = 0
    state: NeighborState = NeighborState.DOWN
    dead_at: float = 0.0  # when the inactivity timer fires
    # database exchange (10.6-10.8)
    master: bool = False  # whether *we* are the master
    dd_sequence: int = 0
    last_received: tuple[int, int, int] | None = None  # (flags, options, sequence)
    last_sent: bytes | None = None  # the last DBD sent, as encoded (a slave resends it)
    last_sent_more: bool = False  # ... and whether its M bit was set
    summary: list[LsaHeader] = field(default_factory=list)  # the Database summary list
    requests: dict[LsaKey, LsaHeader] = field(default_factory=dict)  # Link state request list
    retransmit: dict[LsaKey, LsdbEntry] = field(default_factory=dict)  # retransmission list
    retransmissions: int = 0  # retransmissions since the neighbour last answered
    crypto_sequence: int = 0  # the highest cryptographic sequence number seen (D.5.2)
    mtu_mismatch: bool = False  # its DBDs were refused for their MTU (debug once)

    def clear_lists(self) -> None:
        """Empty the summary, request and retransmission lists (10.3, kill and 1-Way)."""
        self.summary.clear()
        self.requests.clear()
        self.retransmit.clear()
        self.last_sent = None
        self.last_sent_more = False
        self.last_received = None
        self.retransmissions = 0
