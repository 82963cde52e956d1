"""A lab on the wall clock, shared by many terminal sessions at once.

Theory of operation
-------------------
The lab's code is single-threaded: one *baton* (a re-entrant lock under a condition) is held
by whoever runs it. Three kinds of thread take turns with it:

* the *ticker* moves the lab's virtual clock on with the wall clock (as the interactive
  console's idle task does), so DPD, rekeys and lifetimes happen on time while nobody types;
* each connection's *vty process* (:mod:`iosim.serve.vty`) runs what its user types, as a
  router runs one EXEC process per line;
* the network's event loop only moves bytes and never touches the lab.

A command that waits (``ping``, ``traceroute``) advances the clock itself, as at the
console. :class:`ServedClock` makes that safe with many sessions: while one thread is
advancing the clock its *pacer* holds each event until its wall-clock instant and, while it
waits, hands the baton back, so another session's ``show`` or configuration command runs at
once, between two of the lab's events. A second thread that wants to advance the clock
meanwhile (another session's ping) waits, baton released, until the first is done; the
network events that happen meanwhile (its echo's reply) are recorded by their listeners
at their own virtual instant, so its marks and round trips come out as if it had driven
the clock itself. Only one thread ever runs inside the clock.

A session that presses IOS's escape sequence (Ctrl-^) while its command waits sets its
interrupt flag; the pacer raises :class:`~iosim.clock.Interrupted` in that session's thread
between two events, so a ping stops at a consistent point.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, TypeVar

from iosim.cli.incidents import internal_error
from iosim.cli.realtime import WallTime
from iosim.clock import ESCAPE, Interrupted, VirtualClock

if TYPE_CHECKING:
    from iosim.lab.running import Lab

__all__ = ["LabRuntime", "ServedClock", "Waiter"]

#: Longest sleep of the ticker (wall seconds): a message falls due at most this late.
TICK_MAX = 0.25
T = TypeVar("T")


class Waiter(Protocol):
    """What the pacer asks of the session whose thread is advancing the clock."""

    def interrupted(self) -> bool:
        """Whether the user pressed the escape sequence (cleared by reading it)."""

    def while_waiting(self) -> None:
        """Write what became due for the session (its messages) before the wait."""


class ServedClock(VirtualClock):
    """A lab clock that several threads may ask to advance, one at a time (see the module
    docstring). Every call is made holding the runtime's baton."""

    def __init__(self, start: float = 0.0) -> None:
        super().__init__(start)
        self.baton = threading.Condition(threading.RLock())
        self.wall = WallTime(self, time.monotonic)
        self._owner: int | None = None
        self._depth = 0
        self._local = threading.local()

    def follow_wall(self) -> None:
        """From now on virtual time follows the wall clock, and events wait for it (a lab
        boots at full speed first)."""
        self.wall.rebase()
        self.pacer = self._pace

    # -- who drives -------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a thread is advancing the clock (the ticker then leaves it alone)."""
        return self._owner is not None

    @contextmanager
    def _driving(self) -> Iterator[None]:
        me = threading.get_ident()
        with self.baton:
            while self._owner not in (None, me):
                self.baton.wait()
            self._owner = me
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if not self._depth:
                    self._owner = None
                    self.baton.notify_all()

    def advance(self, seconds: float) -> int:
        with self._driving():
            return super().advance(max(0.0, seconds))

    def advance_to(self, when: float) -> int:
        with self._driving():  # another thread may have moved time past ``when`` meanwhile
            return super().advance_to(max(when, self.now))

    # -- pacing -----------------------------------------------------------------------------

    def set_waiter(self, waiter: Waiter | None) -> None:
        """The session whose commands this thread runs (None: the ticker)."""
        self._local.waiter = waiter

    def _pace(self, when: float) -> None:
        """Before an event: wait for its wall instant, baton released, watching the escape
        sequence of the session that waits."""
        waiter: Waiter | None = getattr(self._local, "waiter", None)
        while True:
            if waiter is not None:
                if waiter.interrupted():
                    raise Interrupted(ESCAPE)
                waiter.while_waiting()
            delay = self.wall.delay(when)
            if delay <= 0:
                return
            self.baton.wait(min(delay, TICK_MAX))

    def wake(self) -> None:
        """Wake whoever waits on the baton (a key was pressed, a command ended)."""
        with self.baton:
            self.baton.notify_all()


class LabRuntime:
    """A loaded lab (its clock a :class:`ServedClock`) kept on the wall clock by a ticker
    thread until :meth:`stop`."""

    def __init__(self, lab: Lab) -> None:
        if not isinstance(lab.clock, ServedClock):
            raise TypeError("a served lab runs on a ServedClock")
        self.lab = lab
        self.clock: ServedClock = lab.clock
        self.clock.follow_wall()
        self._stopped = False
        self._ticker = threading.Thread(target=self._tick, name="iosim-clock", daemon=True)
        self.errors: list[str] = []  # internal errors of the clock (kept for the log)

    @property
    def baton(self) -> threading.Condition:
        return self.clock.baton

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        """Stop the ticker (the lab stays as it is, for a last look)."""
        with self.baton:
            self._stopped = True
            self.baton.notify_all()
        if self._ticker.is_alive() and self._ticker is not threading.current_thread():
            self._ticker.join(timeout=5)

    def run(self, job: Callable[[], T]) -> T:
        """``job()`` holding the baton, the clock first brought up to the wall."""
        with self.baton:
            self.catch_up()
            try:
                return job()
            finally:
                self.baton.notify_all()

    def catch_up(self) -> None:
        """Run what fell due by now (unless a thread is advancing the clock already)."""
        if self.clock.busy:
            return
        try:
            self.clock.set_waiter(None)
            target = self.clock.wall.now()
            if target > self.clock.now:
                self.clock.advance_to(target)
        except Exception as exc:  # a bug in iosim: say so once, the lab carries on
            self.errors.append(internal_error("(the clock, in a served lab)", exc).render(0))
            self.clock.wall.rebase()

    def _tick(self) -> None:
        with self.baton:
            while not self._stopped:
                self.catch_up()
                due = self.clock.next_deadline()
                delay = TICK_MAX if due is None else self.clock.wall.delay(due)
                self.baton.wait(min(TICK_MAX, max(0.001, delay)))
