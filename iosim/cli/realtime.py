"""Virtual time held to the wall clock at an interactive console, and the keyboard watched
while a command runs.

Theory of operation
-------------------
:class:`WallTime` maps the wall clock onto the lab's virtual clock: virtual time is the
instant it was last based at plus the wall seconds elapsed since. It is based again
whenever virtual time jumps ahead of the wall (``@wait``, ``@check``), so the wall clock
carries on from the new instant.

:class:`KeyWatch` is the clock's pacer while a typed command runs. Before each event it
waits until the event's wall instant, reading the keyboard meanwhile (the terminal is in
raw mode, so Ctrl-C is a key, not a signal). IOS's escape character, Ctrl-^ (what
Ctrl-Shift-6 sends), raises :class:`~iosim.clock.Interrupted`: a ping or traceroute stops
as on IOS. Ctrl-C raises it too when the command takes it (iosim's own ``@`` commands);
IOS's ping and traceroute ignore Ctrl-C, so it is dropped there. Every other key is
type-ahead: it is handed to the next prompt, as IOS reads ahead. Because the interrupt is
raised only here, between two events, a command stops at a consistent point and the clock
loses no event.

A SIGINT from outside (``kill -INT``) counts as Ctrl-C: the handler only records it and
wakes the wait (:meth:`KeyWatch.signal`), so no ``KeyboardInterrupt`` ever lands in the
middle of the lab's code.
"""

from __future__ import annotations

import os
import select
from collections.abc import Callable

from prompt_toolkit.input import Input
from prompt_toolkit.input.typeahead import get_typeahead, store_typeahead
from prompt_toolkit.key_binding import KeyPress
from prompt_toolkit.keys import Keys

from iosim.clock import CTRL_C, ESCAPE, Interrupted, VirtualClock

__all__ = ["ESCAPE_X_WINDOW", "KeyWatch", "WallTime"]

#: After an escape, an ``x`` typed at once at the next (empty) prompt is the rest of IOS's
#: two-key escape sequence (Ctrl-^ x), not the start of a command.
ESCAPE_X_WINDOW = 2.0
_INTERRUPTS: dict[str, str] = {Keys.ControlCircumflex: ESCAPE, Keys.ControlC: CTRL_C,
                               Keys.SIGINT: CTRL_C}


class WallTime:
    """The lab's virtual clock held to ``wall_clock`` (monotonic seconds)."""

    def __init__(self, clock: VirtualClock, wall_clock: Callable[[], float]) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self._wall0 = self._virt0 = 0.0
        self.rebase()

    def rebase(self) -> None:
        """Virtual time jumped ahead: from now on it follows the wall from there."""
        self._wall0, self._virt0 = self.wall_clock(), self.clock.now

    def now(self) -> float:
        """The virtual instant the wall clock says it is."""
        return self._virt0 + (self.wall_clock() - self._wall0)

    def delay(self, when: float) -> float:
        """Wall seconds until virtual instant ``when`` (negative once it is past)."""
        return self._wall0 + (when - self._virt0) - self.wall_clock()

    def catch_up(self) -> int:
        """Run what fell due while nobody drove the clock (the user reading or typing);
        returns the number of events run."""
        target = self.now()
        return self.clock.advance_to(target) if target > self.clock.now else 0


def _select_wait(fds: list[int]) -> Callable[[float], None]:
    def wait(seconds: float) -> None:
        select.select(fds, [], [], max(0.0, seconds))

    return wait


class KeyWatch:
    """The pacer of a command at an interactive prompt (see the module docstring).

    ``wait(seconds)`` blocks until the time is up or a key (or a signal) may be waiting;
    by default it selects on the terminal and on a wake-up pipe.
    """

    def __init__(self, wall: WallTime, input: Input,
                 wait: Callable[[float], None] | None = None) -> None:
        self.wall = wall
        self.input = input
        self.ctrl_c_stops = False  # the running command is iosim's own (@wait)
        self.escaped_at: float | None = None  # wall time of the last escape
        self._signalled = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        try:
            fds = [input.fileno(), self._wake_r]
        except NotImplementedError:  # an input without a file descriptor
            fds = [self._wake_r]
        self.wait = wait or _select_wait(fds)

    def close(self) -> None:
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def signal(self) -> None:
        """SIGINT arrived (called from the signal handler): Ctrl-C, seen at the next poll."""
        self._signalled = True
        try:
            os.write(self._wake_w, b"\0")
        except OSError:  # the pipe is full: a wake-up is already waiting
            pass

    def pace(self, when: float) -> None:
        """The clock's pacer: virtual ``when`` is not reached before its wall instant."""
        while True:
            delay = self.wall.delay(when)
            if delay <= 0:
                return
            self.wait(delay)
            self.poll()

    def poll(self) -> None:
        """Read the keys typed so far: an interrupt raises, the rest is type-ahead."""
        try:
            os.read(self._wake_r, 512)
        except BlockingIOError:
            pass
        keys = get_typeahead(self.input) + self.input.read_keys()
        if self._signalled:
            self._signalled = False
            keys.append(KeyPress(Keys.SIGINT))
        kept: list[KeyPress] = []
        stop: str | None = None
        escaped = False  # the key before was the escape: an x now completes Ctrl-^ x
        for key in keys:
            what = _INTERRUPTS.get(key.key)
            if what == ESCAPE or (what == CTRL_C and self.ctrl_c_stops):
                stop = stop or what
            elif what is None and not (escaped and key.data in ("x", "X")):
                kept.append(key)  # Ctrl-C during a ping is dropped, as IOS drops it
            escaped = what == ESCAPE
        store_typeahead(self.input, kept)
        if stop is not None:
            if stop == ESCAPE:
                self.escaped_at = self.wall.wall_clock()
            raise Interrupted(stop)

    def swallow_x(self, typed: str) -> bool:
        """Whether an ``x`` typed now at a prompt holding ``typed`` ends IOS's escape
        sequence (it came right after an escape, on an empty line)."""
        if self.escaped_at is None or typed:
            return False
        recent = self.wall.wall_clock() - self.escaped_at < ESCAPE_X_WINDOW
        self.escaped_at = None
        return recent
