"""The OSPF interface: its settings, its state machine (RFC 2328 9.1-9.3) as a table, and
the Designated Router election (9.4) as a pure function.

Theory of operation
-------------------
:class:`InterfaceSettings` is what the router's configuration makes of one interface
(address, area, network type, cost, timers, priority, passive, authentication); the glue
recomputes it whenever the configuration or the link changes and the engine compares.
:data:`IF_TRANSITIONS` maps (state, event) to (action, next state): the engine runs
``if_<action>`` (an action may decide the next state itself: the election picks DR,
Backup or DROther). :func:`elect_designated_router` is the two-pass election of 9.4 over
the router itself and its neighbours in state 2-Way or higher; it also returns the steps
``debug ip ospf adj`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from iosim.ospf.neighbor import Neighbor


class NetworkType(Enum):
    """OSPF network types; the value is IOS's name (``show ip ospf interface``)."""

    BROADCAST = "BROADCAST"
    POINT_TO_POINT = "POINT_TO_POINT"
    LOOPBACK = "LOOPBACK"


class InterfaceState(Enum):
    """Interface states (9.1); the value is IOS's name, ``brief`` its short form."""

    DOWN = "DOWN"
    LOOPBACK = "LOOPBACK"
    WAITING = "WAITING"
    POINT_TO_POINT = "POINT_TO_POINT"
    DROTHER = "DROTHER"
    BACKUP = "BDR"
    DR = "DR"

    @property
    def brief(self) -> str:
        """``show ip ospf interface brief``'s State column."""
        return _BRIEF.get(self, self.value)


_BRIEF = {InterfaceState.LOOPBACK: "LOOP", InterfaceState.WAITING: "WAIT",
          InterfaceState.POINT_TO_POINT: "P2P", InterfaceState.DROTHER: "DROTH"}


class InterfaceEvent(Enum):
    """Interface events (9.2)."""

    INTERFACE_UP = "InterfaceUp"
    WAIT_TIMER = "WaitTimer"
    BACKUP_SEEN = "BackupSeen"
    NEIGHBOR_CHANGE = "NeighborChange"
    INTERFACE_DOWN = "InterfaceDown"


I = InterfaceState  # noqa: E741
IE = InterfaceEvent
IF_TRANSITIONS: dict[tuple[InterfaceState, InterfaceEvent], tuple[str, InterfaceState | None]] = {
    (I.DOWN, IE.INTERFACE_UP): ("come_up", None),
    (I.WAITING, IE.BACKUP_SEEN): ("elect", None),
    (I.WAITING, IE.WAIT_TIMER): ("elect", None),
    (I.DROTHER, IE.NEIGHBOR_CHANGE): ("elect", None),
    (I.BACKUP, IE.NEIGHBOR_CHANGE): ("elect", None),
    (I.DR, IE.NEIGHBOR_CHANGE): ("elect", None),
    **{(state, IE.INTERFACE_DOWN): ("go_down", I.DOWN) for state in I if state is not I.DOWN},
}


@dataclass(frozen=True)
class AuthSettings:
    """An interface's OSPF authentication: AuType 0 (none), 1 (a simple password) or 2
    (keyed MD5, ``keys`` in the order configured: the last is the youngest, used to send)."""

    autype: int = 0
    password: bytes = b""
    keys: tuple[tuple[int, bytes], ...] = ()

    def key(self, key_id: int) -> bytes | None:
        return next((k for i, k in self.keys if i == key_id), None)


@dataclass(frozen=True)
class InterfaceSettings:
    """What the configuration makes of one OSPF interface."""

    name: str
    short: str  # the name debug lines use (Gi0/0)
    address: int
    mask: int
    area: int
    area_text: str  # as typed: "0" or "0.0.0.0" (show ip ospf prints it so)
    network_type: NetworkType
    cost: int
    hello_interval: int = 10
    dead_interval: int = 40
    priority: int = 1
    passive: bool = False
    mtu: int = 1500
    mtu_ignore: bool = False
    auth: AuthSettings = AuthSettings()
    by_interface: bool = False  # "ip ospf N area A" rather than a network statement
    retransmit_interval: int = 5
    transmit_delay: int = 1

    @property
    def network(self) -> int:
        return self.address & self.mask


@dataclass(eq=False)
class OspfInterface:
    """An OSPF interface's runtime state (9)."""

    settings: InterfaceSettings
    state: InterfaceState = InterfaceState.DOWN
    dr: int = 0  # interface addresses of the DR and Backup DR
    bdr: int = 0
    dr_id: int = 0  # ... and their router IDs
    bdr_id: int = 0
    neighbors: dict[int, Neighbor] = field(default_factory=dict)  # by interface address
    wait_until: float | None = None
    flood_queue: list[object] = field(default_factory=list)  # LSAs to send at the batch's end
    ack_queue: list[object] = field(default_factory=list)  # LSA headers to acknowledge
    paced_until: float = -1.0  # no flood or acknowledgment leaves before then (pacing)
    up_since: float = 0.0

    @property
    def name(self) -> str:
        return self.settings.name

    def adjacent_to_dr(self) -> bool:
        """Whether we are fully adjacent to the DR (or are the DR with a full neighbour)."""
        from iosim.ospf.neighbor import NeighborState

        if self.state is InterfaceState.DR:
            return any(n.state is NeighborState.FULL for n in self.neighbors.values())
        return any(n.state is NeighborState.FULL and n.address == self.dr
                   for n in self.neighbors.values())


@dataclass(frozen=True)
class Candidate:
    """One router in the election: itself or a neighbour in state 2-Way or higher."""

    router_id: int
    address: int
    priority: int
    declared_dr: int
    declared_bdr: int


def _best(pool: list[Candidate]) -> Candidate | None:
    return max(pool, key=lambda c: (c.priority, c.router_id), default=None)


def _round(routers: list[Candidate]) -> tuple[Candidate | None, Candidate | None]:
    """Steps 2 and 3 of 9.4: the Backup, then the DR."""
    eligible = [c for c in routers if c.priority > 0]
    not_dr = [c for c in eligible if c.declared_dr != c.address]
    claims = [c for c in not_dr if c.declared_bdr == c.address]
    bdr = _best(claims or not_dr)
    dr = _best([c for c in eligible if c.declared_dr == c.address]) or bdr
    return dr, bdr


def elect_designated_router(me: Candidate, others: list[Candidate]
                            ) -> tuple[Candidate | None, Candidate | None, list[str]]:
    """The election of 9.4: (DR, Backup DR, the lines ``debug ip ospf adj`` prints)."""
    lines = ["DR/BDR election"]
    dr, bdr = _round([me, *others])
    lines += [f"Elect BDR {_rid(bdr)}", f"Elect DR {_rid(dr)}"]
    was_dr, was_bdr = me.declared_dr == me.address, me.declared_bdr == me.address
    is_dr, is_bdr = dr is not None and dr.address == me.address, (
        bdr is not None and bdr.address == me.address)
    if (is_dr, is_bdr) != (was_dr, was_bdr):
        # step 4: the router's own role changed: run again with its new declarations
        me = Candidate(me.router_id, me.address, me.priority,
                       me.address if is_dr else (dr.address if dr else 0),
                       me.address if is_bdr else (bdr.address if bdr else 0))
        dr, bdr = _round([me, *others])
        lines += [f"Elect BDR {_rid(bdr)}", f"Elect DR {_rid(dr)}"]
    lines += [f"DR: {_rid(dr)} (Id)", "   BDR: " + (f"{_rid(bdr)} (Id)" if bdr else "none")]
    return dr, bdr, lines


def _rid(c: Candidate | None) -> str:
    from iosim.net.packets import format_ip

    return format_ip(c.router_id) if c is not None else "0.0.0.0"
