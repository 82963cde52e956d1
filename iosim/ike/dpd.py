"""Dead Peer Detection for IKEv1 (RFC 3706), the ``crypto isakmp keepalive`` of IOS, sans-IO.

Theory of operation
-------------------
Both sides always send the DPD vendor ID (``DPD_VID``), where IOS does: in main mode's third
and fourth messages, in aggressive mode's first two (:mod:`iosim.ike.vendor_ids`); an ISAKMP
SA may run DPD when the peer sent it too (``IsakmpSa.peer_dpd``). Whether we
probe, and how, is the caller's ``dpd_for(peer) -> DpdSettings | None``
(``crypto isakmp keepalive <interval> [<retry>] [periodic|on-demand]``):

- *periodic*: an R-U-THERE every ``interval`` seconds, whatever the traffic;
- *on-demand* (IOS's default): an R-U-THERE only when the caller reports outbound traffic
  (``note_traffic(peer, now, inbound=False)``, once per ESP packet sent) at a moment when
  nothing has come from the peer (``inbound=True``, an R-U-THERE-ACK or an R-U-THERE) for
  ``interval`` seconds: the router doubts the peer when it has something to send to it and
  has not heard from it. Replies sent right after the peer's packets never trigger a probe,
  and neither does an SA idle both ways.

A probe is RFC 3706 section 5: a protected informational exchange carrying a NOTIFY
R-U-THERE (36136) with protocol ISAKMP, SPI = CKY-I | CKY-R and a 4-byte sequence number as its
data. Sequence numbers start at a random value and increase by one per message sent
(retransmissions included); an R-U-THERE-ACK must carry one of the numbers of the probes not yet
answered. Unanswered, the probe is resent every ``retry`` seconds, five times (IOS); when the
fifth retransmission times out too the peer is dead: ``PeerDead`` is emitted and the ISAKMP SA
is deleted locally (no Delete is sent: nobody would hear it). Any R-U-THERE we receive is
answered with an R-U-THERE-ACK carrying the same sequence number.

Only the ISAKMP SA that quick modes currently use (the newest established one with that peer)
probes. ``DpdMixin`` holds the timer arithmetic and the notify handling; ``IkeEngine`` mixes it
in, puts ``dpd_due`` into ``get_timer`` and calls ``_dpd_timer`` from ``handle_timer``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from iosim.deadlines import deadline_after
from iosim.ike.constants import NotifyType, ProtocolId
from iosim.ike.payloads import NotificationPayload

if TYPE_CHECKING:
    from iosim.ike.main_mode import IsakmpSa
    from iosim.ike.payloads import DeletePayload

__all__ = [
    "DPD_RETRANSMITS",
    "DPD_VID",
    "DpdMixin",
    "DpdReceived",
    "DpdSent",
    "DpdSettings",
    "DpdState",
    "PeerDead",
]

DPD_VID = bytes.fromhex("afcad71368a1f1c96b8696fc77570100")  # RFC 3706 section 5.1, v1.0
DPD_RETRANSMITS = 5  # IOS resends an unanswered R-U-THERE five times, then the peer is dead
_SEQ_MOD = 2**32


@dataclass(frozen=True)
class DpdSettings:
    """``crypto isakmp keepalive <interval 10-3600> [<retry 2-60>] [periodic|on-demand]``."""

    interval: int
    retry: int = 2
    periodic: bool = False


@dataclass(slots=True)
class DpdState:
    """The DPD bookkeeping of one ISAKMP SA."""

    next_seq: int | None = None  # None until the first probe draws a random start
    unanswered: list[int] = field(default_factory=list)  # sequence numbers awaiting an ACK
    retry_at: float | None = None  # when the outstanding probe is resent / the peer dies
    last_probe_done: float = 0.0  # periodic: the last time a probe round ended (or SA up)


@dataclass(frozen=True)
class PeerDead:
    """DPD gave up on ``peer``: its ISAKMP SA ``conn_id`` is gone; delete the IPsec SAs."""

    peer: int
    conn_id: int


@dataclass(frozen=True)
class DpdSent:
    """We sent an R-U-THERE (``ack`` False) or an R-U-THERE-ACK (``ack`` True)."""

    peer: int
    conn_id: int
    seq: int
    ack: bool


@dataclass(frozen=True)
class DpdReceived:
    """An authenticated R-U-THERE (``ack`` False) or matching R-U-THERE-ACK came in."""

    peer: int
    conn_id: int
    seq: int
    ack: bool


class DpdMixin:
    """DPD half of ``IkeEngine`` (see the module docstring)."""

    _rand: Callable[[int], bytes]
    _events: list[object]
    _dpd_for: Callable[[int], DpdSettings | None]
    _traffic: dict[int, list[float]]  # peer -> [last outbound, last inbound]
    _dirty: set[int]  # peers whose timer deadline must be recomputed

    if TYPE_CHECKING:  # provided by IkeEngine

        def _send_informational(self, sa: IsakmpSa,
                                payload: NotificationPayload | DeletePayload) -> bytes: ...

        def _sa_for_peer(self, peer: int) -> IsakmpSa | None: ...

        def _peer_dead(self, sa: IsakmpSa, now: float) -> None: ...

    def note_traffic(self, peer: int, now: float, inbound: bool) -> None:
        """An ESP packet was sent to (``inbound`` False) or received from ``peer`` at ``now``:
        what on-demand DPD needs. O(1); call ``get_timer()`` again afterwards."""
        self._dirty.add(peer)
        seen = self._traffic.get(peer)
        if seen is None:
            seen = self._traffic[peer] = [-1.0, -1.0]
        seen[1 if inbound else 0] = now

    def _dpd_settings(self, sa: IsakmpSa) -> DpdSettings | None:
        if not sa.established or not sa.peer_dpd:
            return None
        settings = self._dpd_for(sa.peer)
        if settings is None or self._sa_for_peer(sa.peer) is not sa:
            return None
        return settings

    def dpd_due(self, sa: IsakmpSa) -> float | None:
        """When DPD next needs ``handle_timer`` for this SA, or None."""
        settings = self._dpd_settings(sa)
        if settings is None:
            return None
        state = sa.dpd
        if state.retry_at is not None:
            return state.retry_at
        if settings.periodic:
            return deadline_after(max(state.last_probe_done, sa.established_at),
                                  settings.interval)
        last_out, last_in = self._traffic.get(sa.peer, (-1.0, -1.0))
        quiet_since = max(last_in, sa.established_at, state.last_probe_done)
        if last_out < deadline_after(quiet_since, settings.interval):
            # nothing sent after the peer had been quiet for the interval (a reply to its
            # packet is not a reason to doubt it): no probe until something is
            return None
        return last_out

    def _dpd_timer(self, sa: IsakmpSa, now: float) -> None:
        due = self.dpd_due(sa)
        if due is None or now < due:
            return
        state = sa.dpd
        if state.retry_at is not None and len(state.unanswered) > DPD_RETRANSMITS:
            self._peer_dead(sa, now)
            return
        settings = self._dpd_settings(sa)
        assert settings is not None
        self._probe(sa)
        state.retry_at = deadline_after(now, settings.retry)

    def _probe(self, sa: IsakmpSa) -> None:
        state = sa.dpd
        if state.next_seq is None:
            state.next_seq = int.from_bytes(self._rand(4), "big") & 0x7FFFFFFF
        seq, state.next_seq = state.next_seq, (state.next_seq + 1) % _SEQ_MOD
        state.unanswered.append(seq)
        self._dpd_send(sa, NotifyType.R_U_THERE, seq)
        self._events.append(DpdSent(sa.peer, sa.conn_id, seq, False))

    def _dpd_send(self, sa: IsakmpSa, kind: NotifyType, seq: int) -> None:
        self._send_informational(sa, NotificationPayload(
            kind, ProtocolId.PROTO_ISAKMP, sa.cky_i + sa.cky_r, seq.to_bytes(4, "big")))

    def _dpd_notify(self, sa: IsakmpSa, n: NotificationPayload, now: float) -> bool:
        """Handle an authenticated R-U-THERE / R-U-THERE-ACK; False if ``n`` is neither."""
        if n.notify_type not in (NotifyType.R_U_THERE, NotifyType.R_U_THERE_ACK):
            return False
        if len(n.data) != 4 or (n.spi and n.spi != sa.cky_i + sa.cky_r):
            return True  # malformed or for another SA: ignored
        seq = int.from_bytes(n.data, "big")
        if n.notify_type == NotifyType.R_U_THERE:
            self._alive(sa.peer, now)
            self._events.append(DpdReceived(sa.peer, sa.conn_id, seq, False))
            self._dpd_send(sa, NotifyType.R_U_THERE_ACK, seq)
            self._events.append(DpdSent(sa.peer, sa.conn_id, seq, True))
            return True
        state = sa.dpd
        if seq in state.unanswered:
            state.unanswered.clear()
            state.retry_at = None
            state.last_probe_done = now
            self._alive(sa.peer, now)
            self._events.append(DpdReceived(sa.peer, sa.conn_id, seq, True))
        return True

    def _alive(self, peer: int, now: float) -> None:
        seen = self._traffic.get(peer)
        if seen is not None:
            seen[1] = max(seen[1], now)
