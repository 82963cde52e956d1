"""The IKE engine's timers: one deadline per peer in a heap, nothing rescanned per query.

Theory of operation
-------------------
Every timed thing of the engine belongs to one peer: an ISAKMP SA's retransmission
(``resend_at``), a responder's half-open timeout (``give_up_at``), its lifetime
(``expires_at``), an initiator's rekey at 90 % (``rekey_at``), DPD's next probe or retry
(``dpd_due``), a deleted SA's end of listing (``purge_at``); a quick mode's retransmission
and its linger after completion. ``TimersMixin`` keeps, per peer, the earliest of these in a
:class:`~iosim.deadlines.DeadlineQueue`:

* whatever the engine does for a peer (a datagram from it, ``initiate``, ``note_traffic``,
  a timer of its own) marks the peer *dirty* (``_dirty``); before the next
  :meth:`~TimersMixin.get_timer` or :meth:`~TimersMixin.handle_timer`, only the dirty peers'
  deadlines are recomputed -- O(SAs of that peer), O(log n) in the heap;
* :meth:`~TimersMixin.handle_timer` pops the peers that are due and runs the timers of their
  SAs, then of their quick modes, each in creation order, as a scan of every SA would have;
* every re-armed deadline is :func:`~iosim.deadlines.deadline_after` the instant it ran at
  (strictly later), and a deleted SA keeps only ``purge_at`` -- so no peer is ever due again
  at the instant it was handled.

The ``crypto isakmp keepalive`` settings (``dpd_for``) are read when a peer's deadline is
recomputed: a change of them applies to a peer at its next event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from iosim.deadlines import DeadlineQueue, deadline_after
from iosim.ike.events import IsakmpSaDeleted, NodePurged, Retransmitted
from iosim.ike.main_mode import RETRANSMIT_BASE, RETRANSMIT_LIMIT, IsakmpSa
from iosim.ike.quick_mode import QuickModeExchange
from iosim.ike.quick_mode_exchange import Phase2Failed
from iosim.ike.sa_table import QmTable, SaTable

__all__ = ["DELETED_LINGER", "QM_LINGER", "TimersMixin"]

DELETED_LINGER = 60.0  # a failed/deleted ISAKMP SA stays listed as "ACTIVE (deleted)"
QM_LINGER = 60.0  # a finished quick mode keeps answering duplicates this long (its node)


class TimersMixin:
    """The timer half of ``IkeEngine`` (see the module docstring)."""

    _sas: SaTable[IsakmpSa]
    _qm: QmTable[QuickModeExchange]
    _deadlines: DeadlineQueue[int]
    _dirty: set[int]
    _events: list[object]
    _trace: Callable[[], bool]  # whether the step-by-step trace events are wanted
    _now: float

    if TYPE_CHECKING:  # provided by IkeEngine and its other mixins

        def _forget(self, key: tuple[int, bytes]) -> None: ...

        def _fail_phase1(self, sa: IsakmpSa, reason: str, now: float) -> None: ...

        def _mark_deleted(self, sa: IsakmpSa, now: float) -> None: ...

        def _rekey(self, sa: IsakmpSa, now: float) -> None: ...

        def _send_isakmp_delete(self, sa: IsakmpSa) -> None: ...

        def _dpd_timer(self, sa: IsakmpSa, now: float) -> None: ...

        def _transmit(self, sa: IsakmpSa, data: bytes, state: str | None = None) -> None: ...

        def dpd_due(self, sa: IsakmpSa) -> float | None: ...

    def get_timer(self) -> float | None:
        """When ``handle_timer`` must next be called, or None. O(log n) in the number of
        peers with SAs: only the peers something happened to since the last call are
        looked at again."""
        self._flush_deadlines()
        return self._deadlines.next()

    def handle_timer(self, now: float) -> None:
        """Retransmit, give up, expire, rekey, probe (DPD) and purge whatever is due at
        ``now``: the SAs and quick modes of the peers whose deadline came, oldest first."""
        self._now = now
        self._flush_deadlines()
        peers = self._deadlines.pop_due(now)
        if not peers:
            return
        self._dirty.update(peers)
        sas = sorted(((key, sa) for p in peers for key in self._sas.keys_of_peer(p)
                      if (sa := self._sas.get(key)) is not None),
                     key=lambda item: self._sas.serial(item[0]))
        for key, sa in sas:
            self._sa_timer(key, sa, now)
        qms = sorted(((k, x) for p in peers for key in self._sas.keys_of_peer(p)
                      for k, x in self._qm.of_sa(key)), key=lambda item: self._qm.serial(item[0]))
        for key3, x in qms:
            self._qm_timer(key3, x, now)

    def _sa_timer(self, key: tuple[int, bytes], sa: IsakmpSa, now: float) -> None:
        if sa.purge_at is not None and now >= sa.purge_at:
            self._forget(key)
            return
        if sa.deleted:
            return
        if sa.resend_at is not None and now >= sa.resend_at:
            if sa.retransmits >= RETRANSMIT_LIMIT:
                self._fail_phase1(sa, f"retransmission limit reached in {sa.state}", now)
                return
            sa.retransmits += 1
            sa.resend_at = deadline_after(now, RETRANSMIT_BASE * 2**sa.retransmits)
            self._events.append(Retransmitted(sa.peer, sa.conn_id, 1, sa.state,
                                              sa.retransmits))
            self._transmit(sa, sa.last_sent)
        if sa.give_up_at is not None and now >= sa.give_up_at:
            self._mark_deleted(sa, now)
        if sa.rekey_at is not None and now >= sa.rekey_at:
            sa.rekey_at = None
            self._rekey(sa, now)
        if sa.expires_at is not None and now >= sa.expires_at:
            self._send_isakmp_delete(sa)
            self._mark_deleted(sa, now)
            self._events.append(IsakmpSaDeleted(sa.peer, sa.conn_id))
        elif sa.established:
            self._dpd_timer(sa, now)

    def _qm_timer(self, key3: tuple[int, bytes, int], x: QuickModeExchange, now: float) -> None:
        if key3 not in self._qm:
            return
        if x.done_at is not None and now >= deadline_after(x.done_at, QM_LINGER):
            del self._qm[key3]
            if self._trace():
                owner = self._sas.get((key3[0], key3[1]))
                self._events.append(NodePurged(key3[0], owner.conn_id if owner else 0,
                                               key3[2]))
        elif x.resend_at is not None and now >= x.resend_at:
            if x.retransmits >= RETRANSMIT_LIMIT:
                del self._qm[key3]
                self._events.append(Phase2Failed(key3[0], "retransmission limit reached"))
                return
            x.retransmits += 1
            x.resend_at = deadline_after(now, RETRANSMIT_BASE * 2**x.retransmits)
            owner = self._sas.get((key3[0], key3[1]))
            if owner is None:  # its ISAKMP SA is gone: nothing to carry it
                del self._qm[key3]
                return
            self._events.append(Retransmitted(key3[0], owner.conn_id, 2, "QM_IDLE",
                                              x.retransmits))
            self._transmit(owner, x.last_sent)

    def _flush_deadlines(self) -> None:
        """Recompute the deadline of every peer something happened to."""
        dirty, self._dirty = self._dirty, set()
        for peer in dirty:
            self._deadlines.set(peer, self._peer_deadline(peer))

    def _peer_deadline(self, peer: int) -> float | None:
        """The earliest deadline of the SAs and quick modes with ``peer``."""
        times: list[float] = []
        for key in self._sas.keys_of_peer(peer):
            sa = self._sas.get(key)
            assert sa is not None
            if sa.deleted:
                if sa.purge_at is not None:
                    times.append(sa.purge_at)
            else:
                times += [t for t in (sa.resend_at, sa.give_up_at, sa.expires_at,
                                      sa.rekey_at, self.dpd_due(sa)) if t is not None]
            for _, x in self._qm.of_sa(key):
                if x.resend_at is not None:
                    times.append(x.resend_at)
                if x.done_at is not None:
                    times.append(deadline_after(x.done_at, QM_LINGER))
        return min(times) if times else None
