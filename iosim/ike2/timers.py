"""The IKEv2 engine's IKE SAs and timers: SAs indexed by peer and id, one deadline per peer.

Theory of operation
-------------------
A hub answers thousands of peers, so nothing here scans every IKE SA for one of them.
:class:`SaIndex` keeps the engine's SAs by our SPI (``sas``, what ``show`` lists), by peer (in
the order they were made) and by SA id; every SA enters and leaves through :meth:`SaIndex.add`
and :meth:`SaIndex.remove`.

Every timed thing belongs to one IKE SA, and so to one peer: a request's retransmission
(``resend_at`` of each outstanding request), the lifetime (``expires_at``), the rekey
(``rekey_at``), the next DPD probe (periodic: every interval; on demand: traffic sent to a
peer quiet for the interval), a responder's half-open timeout (30 s after IKE_SA_INIT).
``TimersMixin`` keeps, per peer, the earliest of these in a
:class:`~iosim.deadlines.DeadlineQueue`, as IKEv1's engine does
(:mod:`iosim.ike.engine_timers`):

* whatever the engine does for a peer (a datagram from it, ``initiate``, ``note_traffic``, a
  deletion, an SA made or dropped, a timer of its own) marks the peer dirty
  (``SaIndex.dirty``); before the next ``get_timer`` or ``handle_timer`` only the dirty
  peers' deadlines are recomputed:
  O(SAs of that peer), O(log n) in the heap;
* ``handle_timer`` pops the peers that are due, ends their half-open SAs that timed out, then
  runs the timers of their SAs in the order the SAs were made, as a scan of every SA would;
* every re-armed deadline is :func:`~iosim.deadlines.deadline_after` the instant it ran at,
  so no peer is due again at the instant it was handled.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from iosim.deadlines import DeadlineQueue, deadline_after
from iosim.ike2.constants import ExchangeType, ProtocolId
from iosim.ike2.events import PeerDead, Step
from iosim.ike2.payloads import DeletePayload, Payload
from iosim.ike2.sa import Ikev2Sa, OutstandingRequest

__all__ = ["HALF_OPEN_LIFE", "RETRANSMIT_FIRST", "RETRANSMIT_TRIES", "SaIndex", "TimersMixin"]

RETRANSMIT_FIRST = 2.0
RETRANSMIT_TRIES = 5
HALF_OPEN_LIFE = 30.0


class SaIndex:
    """The engine's IKE SAs: by our SPI, by peer and by SA id (see the module docstring)."""

    __slots__ = ("_by_id", "_by_peer", "by_spi", "dirty")

    def __init__(self) -> None:
        self.by_spi: dict[bytes, Ikev2Sa] = {}
        self._by_peer: dict[int, dict[bytes, Ikev2Sa]] = {}
        self._by_id: dict[int, Ikev2Sa] = {}
        self.dirty: set[int] = set()  # peers whose deadline must be recomputed

    def add(self, sa: Ikev2Sa) -> None:
        spi = sa.local_spi
        self.by_spi[spi] = sa
        self._by_peer.setdefault(sa.peer, {})[spi] = sa
        self._by_id[sa.sa_id] = sa
        self.dirty.add(sa.peer)

    def remove(self, sa: Ikev2Sa) -> None:
        """Forget ``sa`` (nothing if it is not the SA listed under its SPI)."""
        spi = sa.local_spi
        if self.by_spi.get(spi) is not sa:
            return
        del self.by_spi[spi]
        of_peer = self._by_peer[sa.peer]
        del of_peer[spi]
        if not of_peer:
            del self._by_peer[sa.peer]
        if self._by_id.get(sa.sa_id) is sa:
            del self._by_id[sa.sa_id]
        self.dirty.add(sa.peer)

    def of_peer(self, peer: int) -> list[Ikev2Sa]:
        """The SAs with ``peer``, oldest first."""
        of_peer = self._by_peer.get(peer)
        return list(of_peer.values()) if of_peer else []

    def with_id(self, sa_id: int) -> Ikev2Sa | None:
        return self._by_id.get(sa_id)


class TimersMixin:
    """The timer half of ``Ikev2Engine`` (see the module docstring)."""

    _index: SaIndex
    _half_open: dict[tuple[int, bytes], Ikev2Sa]
    _deadlines: DeadlineQueue[int]
    _events: deque[object]
    _trace: Callable[[], bool]
    _traffic: dict[int, list[float]]

    if TYPE_CHECKING:  # provided by Ikev2Engine and its other mixins

        def _send_request(self, sa: Ikev2Sa, exchange: int, payloads: list[Payload],
                          what: str, now: float, *, force: bool = False,
                          context: dict[str, object] | None = None) -> None: ...

        def _gone(self, sa: Ikev2Sa, reason: str, now: float) -> None: ...

        def _fail(self, sa: Ikev2Sa, reason: str, notify: str, now: float) -> None: ...

        def _kick(self, sa: Ikev2Sa, now: float) -> None: ...

        def _transmit(self, sa: Ikev2Sa, data: bytes) -> None: ...

    def get_timer(self) -> float | None:
        """When ``handle_timer`` must next be called, or None: O(log n) in the number of
        peers, only the peers something happened to since the last call looked at again."""
        self._flush_deadlines()
        return self._deadlines.next()

    def handle_timer(self, now: float) -> None:
        """Retransmit, give up, expire, rekey and probe (DPD) whatever is due at ``now``."""
        self._flush_deadlines()
        peers = self._deadlines.pop_due(now)
        if not peers:
            return
        index = self._index
        index.dirty.update(peers)
        sas = sorted((sa for peer in peers for sa in index.of_peer(peer)),
                     key=lambda sa: sa.sa_id)
        for sa in sas:
            key = (sa.peer, sa.spi_i)
            if self._half_open.get(key) is sa and now >= sa.created_at + HALF_OPEN_LIFE:
                del self._half_open[key]
                if sa.state == "IN-NEG":
                    index.remove(sa)
        for sa in sas:
            if index.by_spi.get(sa.local_spi) is sa:
                self._sa_timer(sa, now)

    def _flush_deadlines(self) -> None:
        """Recompute the deadline of every peer something happened to."""
        dirty = self._index.dirty
        if not dirty:
            return
        self._index.dirty = set()
        for peer in dirty:
            self._deadlines.set(peer, self._peer_deadline(peer))

    def _peer_deadline(self, peer: int) -> float | None:
        """The earliest deadline of the IKE SAs with ``peer``."""
        times: list[float] = []
        half_open = self._half_open
        for sa in self._index.of_peer(peer):
            times += [t for t in (sa.next_resend(), sa.expires_at, sa.rekey_at,
                                  self._dpd_deadline(sa)) if t is not None]
            if half_open.get((peer, sa.spi_i)) is sa:
                times.append(sa.created_at + HALF_OPEN_LIFE)
        return min(times) if times else None

    def _sa_timer(self, sa: Ikev2Sa, now: float) -> None:
        resend = [r for r in sa.outstanding.values() if r.resend_at is not None
                  and now >= r.resend_at]
        for request in sorted(resend, key=lambda r: r.mid):
            if sa.state == "DELETE":
                return
            self._retransmit(sa, request, now)
        if sa.state == "DELETE" or self._index.by_spi.get(sa.local_spi) is not sa:
            return
        if sa.expires_at is not None and now >= sa.expires_at:
            self._send_request(sa, ExchangeType.INFORMATIONAL,
                               [DeletePayload(ProtocolId.IKE)], "delete_ike", now, force=True)
            self._gone(sa, "Lifetime Expired", now)
            return
        if sa.rekey_at is not None and now >= sa.rekey_at:
            sa.rekey_at = None
            if sa.children:  # an idle SA just expires, as on IOS
                sa.queue.append(("rekey_ike",))
                self._kick(sa, now)
        due = self._dpd_deadline(sa)
        if due is not None and now >= due:
            self._dpd_due(sa, now)

    def _retransmit(self, sa: Ikev2Sa, request: OutstandingRequest, now: float) -> None:
        """Send one outstanding request again (the others keep their own schedules), or
        give up on the SA after the last try."""
        if request.retries >= RETRANSMIT_TRIES:
            request.resend_at = None
            what = request.what
            if sa.state == "IN-NEG":
                self._fail(sa, "Negotiation aborted due to ERROR: Maximum number of "
                               "retransmissions reached", "", now)
            elif what == "dpd":
                self._events.append(PeerDead(sa.peer, sa.sa_id))
                self._gone(sa, "Peer not responding (DPD)", now)
            else:
                self._gone(sa, "Maximum number of retransmissions reached", now)
            return
        request.retries += 1
        for data in request.datagrams:
            self._transmit(sa, data)
        if self._trace():
            self._events.append(Step(sa.sa_id, f"Retransmitting packet (retry "
                                               f"{request.retries}), message id {request.mid}"))
        request.resend_at = deadline_after(now, self._resend_interval(sa, request.what,
                                                                      request.retries))

    @staticmethod
    def _resend_interval(sa: Ikev2Sa, what: str, retries: int) -> float:
        """2 s doubling per retry; a DPD probe is retried every ``dpd ... R`` seconds."""
        settings = sa.settings
        if what == "dpd" and settings is not None and settings.dpd is not None:
            return float(settings.dpd[1])
        return RETRANSMIT_FIRST * 2 ** retries

    def _dpd_deadline(self, sa: Ikev2Sa) -> float | None:
        """When ``sa`` (DPD armed: ``dpd_at`` set when it came up) next probes its peer.

        Periodic: every interval (``dpd_at``). On demand (IOS's default): as soon as traffic
        is sent to the peer when nothing has come from it for the interval -- never for a
        reply sent right after the peer's packet, never for an SA idle both ways, and not
        while a request is outstanding (its answer tells whether the peer lives)."""
        settings = sa.settings
        if sa.dpd_at is None or settings is None or settings.dpd is None or not sa.established:
            return None
        interval, _, periodic = settings.dpd
        if periodic:
            return sa.dpd_at
        seen = self._traffic.get(sa.peer)
        if seen is None or sa.outstanding:
            return None
        last_out = seen[0]
        return last_out if last_out >= deadline_after(max(seen[1], sa.last_in), interval) \
            else None

    def _dpd_due(self, sa: Ikev2Sa, now: float) -> None:
        settings = sa.settings
        assert settings is not None and settings.dpd is not None
        interval, _, periodic = settings.dpd
        if not sa.outstanding:  # a request in flight already tells whether it lives
            self._send_request(sa, ExchangeType.INFORMATIONAL, [], "dpd", now)
        if periodic:
            sa.dpd_at = deadline_after(now, interval)
