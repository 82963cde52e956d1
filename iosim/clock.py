"""One deterministic virtual clock and event scheduler for a whole lab.

Theory of operation
-------------------
Every timer in a lab (IKE retransmissions, DPD, SA lifetimes, ping timeouts, ARP ageing) is an
event on one :class:`VirtualClock`. Nothing reads the wall clock: time only moves when a driver
calls :meth:`VirtualClock.advance` (lab scripts, tests) or :meth:`WallClockSync.sync`
(interactive use). ``wait 3600`` in a lab therefore costs as much as the events it fires, not an
hour.

Events live in a binary heap of ``(when, seq, handle)`` entries, so scheduling and popping are
O(log n). ``seq`` is a per-clock counter: events due at the same instant run in the order they
were scheduled, which makes every run reproducible. Cancelling only marks the handle (O(1)); dead
entries are skipped when they reach the top, and the heap is compacted when more than half of it
is dead so a storm of cancelled retransmission timers cannot make it grow without bound.

While an event runs, :attr:`VirtualClock.now` equals the event's deadline; callbacks may schedule
or cancel other events, and anything they schedule inside the window being advanced also runs
during the same :meth:`~VirtualClock.advance` call. Advancing from inside a callback is refused
(:class:`ClockError`): time has one driver. An exception raised by a callback propagates to the
driver; the clock stays consistent (the failed event is consumed, ``now`` is its deadline) and a
later ``advance`` carries on with the remaining events.

A runaway timer -- one that keeps re-arming itself at the instant it runs, so that virtual
time never moves -- would make ``advance`` spin for ever at 100 % CPU. The clock counts the
events run since time last moved; when ``stall_limit`` of them (1,000,000 by default) have
run at one instant, the next event due at that instant is dropped unrun and
:class:`ClockError` names its callback. Timers compute their deadlines so that this cannot
happen (:mod:`iosim.deadlines`); the guard turns a bug into an error instead of a hang.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable
from typing import Any

__all__ = ["CTRL_C", "ESCAPE", "ClockError", "Interrupted", "TimerHandle", "VirtualClock",
           "WallClockSync"]


class ClockError(RuntimeError):
    """Misuse of the clock: re-entrant advance, time going backwards, a run that never idles."""


class Interrupted(KeyboardInterrupt):
    """Raised by a pacer to stop an advance between two events: the user pressed IOS's
    escape sequence (Ctrl-^) or Ctrl-C at an interactive console. The event due next stays
    queued and ``now`` stays where the clock got to. A ``KeyboardInterrupt``, so that a
    ping or traceroute stops as on an interrupt, and no ``except Exception`` swallows it.
    ``key`` names what was pressed: :data:`ESCAPE` or :data:`CTRL_C`."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


ESCAPE = "escape"  # Ctrl-^ (Ctrl-Shift-6): IOS's escape sequence, which aborts a ping
CTRL_C = "ctrl-c"


class TimerHandle:
    """A scheduled callback; returned by :meth:`VirtualClock.call_at` and friends.

    ``when`` is the virtual deadline in seconds. ``cancel()`` is idempotent and harmless after
    the event has run.
    """

    __slots__ = ("when", "callback", "args", "_clock", "_cancelled", "_done")

    def __init__(
        self,
        when: float,
        callback: Callable[..., Any],
        args: tuple[Any, ...],
        clock: VirtualClock,
    ) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self._clock = clock
        self._cancelled = False
        self._done = False

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called before the event ran."""
        return self._cancelled

    @property
    def done(self) -> bool:
        """True once the callback has been called."""
        return self._done

    @property
    def pending(self) -> bool:
        """True while the event is still waiting to run."""
        return not (self._cancelled or self._done)

    def cancel(self) -> None:
        """Stop the event from running (no effect if it already ran or was cancelled)."""
        self._clock.cancel(self)

    def __repr__(self) -> str:
        state = "cancelled" if self._cancelled else "done" if self._done else "pending"
        name = getattr(self.callback, "__qualname__", repr(self.callback))
        return f"<TimerHandle when={self.when:.6f} {name} {state}>"


_HeapEntry = tuple[float, int, TimerHandle]

STALL_LIMIT = 1_000_000  # events at one virtual instant before the clock calls it a runaway


class VirtualClock:
    """A virtual clock plus a deterministic event queue (see the module docstring).

    ``start`` is the initial value of :attr:`now` in seconds (default 0.0); ``stall_limit``
    how many events may run at one instant before the clock gives up on a runaway timer.
    """

    def __init__(self, start: float = 0.0, *, stall_limit: int = STALL_LIMIT) -> None:
        if not math.isfinite(start):
            raise ClockError(f"start time must be finite, got {start!r}")
        if stall_limit < 1:
            raise ClockError(f"stall_limit must be >= 1, got {stall_limit!r}")
        self._now = float(start)
        self.stall_limit = stall_limit
        self._stalled = 0  # events run since virtual time last moved
        self._heap: list[_HeapEntry] = []
        self._seq = itertools.count()
        self._live = 0
        self._running = False
        # Interactive use: called with each virtual instant before time moves there, so a
        # console can hold virtual time to the wall clock (sleep until it is due).
        self.pacer: Callable[[float], None] | None = None

    # -- reading -----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Current virtual time in seconds."""
        return self._now

    def __len__(self) -> int:
        """Number of pending (not cancelled, not yet run) events."""
        return self._live

    def next_deadline(self) -> float | None:
        """Deadline of the earliest pending event, or None when nothing is scheduled."""
        self._drop_dead_top()
        return self._heap[0][0] if self._heap else None

    # -- scheduling --------------------------------------------------------------------------

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        """Run ``callback(*args)`` at virtual time ``when``.

        A deadline in the past is allowed and means "as soon as time is next advanced"; the
        event then runs with ``now`` unchanged (time never goes backwards).
        """
        if not math.isfinite(when):
            raise ClockError(f"deadline must be finite, got {when!r}")
        handle = TimerHandle(float(when), callback, args, self)
        heapq.heappush(self._heap, (handle.when, next(self._seq), handle))
        self._live += 1
        return handle

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        """Run ``callback(*args)`` ``delay`` seconds from now (``delay`` >= 0)."""
        if not delay >= 0:  # also rejects NaN
            raise ClockError(f"delay must be >= 0, got {delay!r}")
        return self.call_at(self._now + delay, callback, *args)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        """Run ``callback(*args)`` at the current instant, after events already due now."""
        return self.call_at(self._now, callback, *args)

    def cancel(self, handle: TimerHandle) -> None:
        """Cancel ``handle`` (idempotent; no effect on an event that already ran)."""
        if handle._clock is not self:
            raise ClockError("handle belongs to another clock")
        if handle.pending:
            handle._cancelled = True
            self._live -= 1
            if len(self._heap) > 64 and self._live < len(self._heap) // 2:
                self._compact()

    # -- driving -----------------------------------------------------------------------------

    def advance(self, seconds: float) -> int:
        """Move time forward by ``seconds``, running every event that falls due, in order.

        Events scheduled by callbacks during the advance also run if they are due by the end
        of the window. Returns the number of callbacks run; ``now`` ends at the old ``now``
        plus ``seconds``.
        """
        if not seconds >= 0:
            raise ClockError(f"cannot advance by {seconds!r}")
        return self._run(self._now + seconds, None)

    def advance_to(self, when: float) -> int:
        """Like :meth:`advance` but to an absolute time ``when`` (>= ``now``)."""
        if not when >= self._now:
            raise ClockError(f"cannot go back from {self._now!r} to {when!r}")
        return self._run(float(when), None)

    def run_until_idle(self, limit: int = 100_000) -> int:
        """Run events in deadline order, jumping time to each, until none is pending.

        ``limit`` bounds the number of callbacks: a lab with a periodic timer (DPD, keepalives)
        never goes idle, and :class:`ClockError` is raised once ``limit`` callbacks have run
        with events still pending. Returns the number of callbacks run.
        """
        if limit < 0:
            raise ClockError(f"limit must be >= 0, got {limit!r}")
        ran = self._run(math.inf, limit)
        if self._live:
            raise ClockError(f"not idle after {ran} events; next at {self.next_deadline()!r}")
        return ran

    # -- internals ---------------------------------------------------------------------------

    def _run(self, until: float, limit: int | None) -> int:
        if self._running:
            raise ClockError("clock advanced from inside one of its own callbacks")
        self._running = True
        ran = 0
        heap = self._heap
        try:
            while heap and heap[0][0] <= until:
                when, _, handle = heap[0]
                if handle._cancelled:
                    heapq.heappop(heap)
                    continue
                if limit is not None and ran >= limit:
                    break
                if when > self._now and self.pacer is not None:
                    # before the event leaves the queue: a pacer interrupted while it waits
                    # (Ctrl-C) loses no event
                    self.pacer(when)
                heapq.heappop(heap)
                if when > self._now:
                    self._now = when
                    self._stalled = 0
                elif self._stalled >= self.stall_limit:
                    self._stalled = 0
                    handle._cancelled = True
                    self._live -= 1
                    name = getattr(handle.callback, "__qualname__", repr(handle.callback))
                    raise ClockError(f"{self.stall_limit} events ran at virtual time "
                                     f"{self._now!r} without time moving; dropped {name}")
                self._stalled += 1
                handle._done = True
                self._live -= 1
                ran += 1
                handle.callback(*handle.args)
        finally:
            self._running = False
        if until != math.inf and until > self._now:
            if self.pacer is not None:
                self.pacer(until)
            self._now = until
            self._stalled = 0
        return ran

    def _drop_dead_top(self) -> None:
        """Pop cancelled entries off the top of the heap."""
        heap = self._heap
        while heap and heap[0][2]._cancelled:
            heapq.heappop(heap)

    def _compact(self) -> None:
        # In place: a running advance() holds a reference to this very list.
        self._heap[:] = [entry for entry in self._heap if not entry[2]._cancelled]
        heapq.heapify(self._heap)


class WallClockSync:
    """Maps wall time onto a :class:`VirtualClock` for interactive sessions.

    Each :meth:`sync` advances the virtual clock by the wall time elapsed since the previous
    sync, multiplied by ``speed`` (1.0 = real time). ``time_source`` returns monotonic seconds
    and is injectable for tests; it defaults to :func:`time.monotonic`. :meth:`seconds_until_due`
    tells an event loop how long it may sleep before the next virtual event.
    """

    def __init__(
        self,
        clock: VirtualClock,
        speed: float = 1.0,
        time_source: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ClockError(f"speed must be a positive number, got {speed!r}")
        self.clock = clock
        self.speed = speed
        self._time = time_source
        self._last = time_source()

    def sync(self) -> int:
        """Advance the virtual clock by the scaled wall time elapsed; return events run."""
        wall = self._time()
        elapsed = max(0.0, wall - self._last)
        self._last = wall
        return self.clock.advance(elapsed * self.speed)

    def seconds_until_due(self) -> float | None:
        """Wall seconds until the next virtual event is due (0.0 if overdue), or None."""
        deadline = self.clock.next_deadline()
        if deadline is None:
            return None
        pending_wall = max(0.0, self._time() - self._last)
        virtual_gap = deadline - self.clock.now
        return max(0.0, virtual_gap / self.speed - pending_wall)
