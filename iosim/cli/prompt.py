"""The interactive router prompt (prompt_toolkit): IOS's keys, on a lab that keeps running.

Theory of operation
-------------------
One thread does everything. While prompt_toolkit waits for a line, a background task of its
event loop (:meth:`InteractiveConsole._tick`) moves the lab's virtual clock on with the wall
clock (:class:`~iosim.cli.realtime.WallTime`), so DPD, rekeys, expiries and a real peer's
packets (``--bridge``) happen while the student reads. What the attached router logs
meanwhile is printed above the prompt, then the prompt comes back with the line typed so
far, as IOS's ``logging synchronous`` does. A line typed runs to completion in the same
thread, the terminal in raw mode and :class:`~iosim.cli.realtime.KeyWatch` as the clock's
pacer (it waits for each event in real time and reads the keyboard meanwhile); then the
next prompt starts. The lab is never run from two threads.

Keys, as on IOS:

* ``?`` prints the help for the text typed so far without Enter; the typed text stays.
* Tab completes a unique keyword; Up/Down recall the history of the mode (EXEC and
  configuration mode each keep their own).
* Ctrl-Z in configuration mode shows ``^Z`` after the prompt, runs the line typed (if any)
  and ends configuration mode.
* Ctrl-C abandons the line in EXEC; in configuration mode it shows ``^C`` and ends it;
  it drops a question the router asked (a dialog, a ``[confirm]``) and stops ``--More--``.
  While a command runs it stops iosim's own ``@wait``; IOS's ping and traceroute ignore it.
* Ctrl-Shift-6 (Ctrl-^, IOS's escape character) aborts a ping or traceroute, and ``@wait``.
* ``--More--`` takes a single key: space for the next page, Enter for the next line,
  anything else stops.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from types import FrameType
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app, get_app_or_none, run_in_terminal
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import History
from prompt_toolkit.input import Input, create_input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.output import Output, create_output

from iosim.cli.incidents import internal_error
from iosim.cli.realtime import KeyWatch, WallTime
from iosim.cli.session import Session, exec_banners
from iosim.clock import Interrupted
from iosim.lab.console import LabConsole, LiveTerminal
from iosim.lab.exam import Exam

__all__ = ["InteractiveConsole", "run_interactive"]

_MORE = " --More-- "
_CTRL_D = "\x04"
_LEAVING = "% Ctrl-D does not end a router's console: @quit leaves iosim\n"
_CTRL_Z = "\x1a"
_CTRL_C = "\x03"  # what the prompt returns for Ctrl-C (a key never inserted in the line)
_HELP_PAGED = "\x00?"  # what it returns for a '?' list longer than a page (never typed)
#: Longest sleep of the idle clock (wall seconds): a message falls due at most this late.
TICK_MAX = 0.25
TICK_MIN = 0.001


class _ModeHistory(History):
    """Up/Down recall the lines of the attached console's mode (its EXEC or configuration
    history, kept by :class:`~iosim.cli.session.Session`), read afresh at every prompt."""

    def __init__(self, lines: Callable[[], list[str]]) -> None:
        super().__init__()
        self._lines = lines

    async def load(self) -> AsyncGenerator[str, None]:
        for line in reversed(self._lines()):
            yield line

    def load_history_strings(self) -> Iterator[str]:
        return reversed(self._lines())

    def append_string(self, string: str) -> None:
        pass  # Session.feed keeps the history (of the mode the line was typed in)

    def store_string(self, string: str) -> None:
        pass


def _countdown(exam: Exam) -> str:
    """The exam's bottom line; when the time is up, the prompt ends and the lab is handed in
    (the console's next line submits it)."""
    if exam.expired():
        app = get_app()
        asyncio.get_running_loop().call_soon(lambda: app.exit(result=""))
    return f" {exam.countdown()}   @submit hands the lab in "


class InteractiveConsole:
    """A lab console at a terminal (see the module docstring); :meth:`run` until Ctrl-D.

    ``input``/``output`` are prompt_toolkit's (a terminal by default); ``write`` prints
    (standard output by default); ``wall_clock`` and ``sleep`` stand for real time (tests
    pass their own: ``sleep`` then replaces the wait for keys while a command waits).
    """

    def __init__(self, console: LabConsole, *, input: Input | None = None,
                 output: Output | None = None, write: Callable[[str], object] | None = None,
                 wall_clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.console = console
        self.input = input or create_input()
        self.output = output or create_output()
        self._write = write
        self.wall = WallTime(console.lab.clock, wall_clock)
        self.watch = KeyWatch(self.wall, self.input, sleep)
        exam = console.exam
        self.line_session: PromptSession[str] = PromptSession(
            history=_ModeHistory(self._history), key_bindings=self._line_bindings(),
            input=self.input, output=self.output,
            bottom_toolbar=(lambda: _countdown(exam)) if exam is not None else None,
            refresh_interval=1.0 if exam is not None else 0)
        self.more_session: PromptSession[str] = PromptSession(
            key_bindings=_more_bindings(), input=self.input, output=self.output,
            erase_when_done=True)
        self._help_page = ""  # a '?' list's first page, printed once the prompt has left
        self._retype = ""  # the line typed before a paged '?': back at the next prompt

    # ------------------------------------------------------------ output

    def out(self, text: str) -> None:
        """Print ``text`` at once."""
        if not text:
            return
        if self._write is not None:
            self._write(text)
            return
        sys.stdout.write(text)
        sys.stdout.flush()

    def _history(self) -> list[str]:
        session = self.console.session
        return session.history if isinstance(session, Session) else []

    # ------------------------------------------------------------ keys at the prompt

    def _line_bindings(self) -> KeyBindings:
        kb = KeyBindings()
        console = self.console

        def config_mode() -> bool:
            session = console.session
            return (isinstance(session, Session) and session.pending is None
                    and session.mode_info.is_config)

        @kb.add("?")
        def _help(event: KeyPressEvent) -> None:
            buf = event.app.current_buffer
            text = buf.document.text_before_cursor
            session = console.session
            if session.pending is not None:
                buf.insert_text("?")
                return
            listing = session.help(text)
            if isinstance(session, Session):
                listing = session.page(listing)
            more = session.pending
            if more is not None and more.prompt == _MORE:  # a page at a time, as IOS
                self._help_page, self._retype = listing, buf.text
                buf.text += "?"  # the line stays on the screen as typed
                event.app.exit(result=_HELP_PAGED)
                return
            shown = f"{console.prompt}{text}?\n{listing}"
            run_in_terminal(lambda: self.out(shown))

        @kb.add("tab")
        def _tab(event: KeyPressEvent) -> None:
            buf = event.app.current_buffer
            done = console.session.complete(buf.document.text_before_cursor)
            if done is not None:
                buf.text = done + buf.document.text_after_cursor
                buf.cursor_position = len(done)

        @kb.add("c-z", filter=Condition(config_mode))
        def _ctrl_z(event: KeyPressEvent) -> None:
            buf = event.app.current_buffer
            typed = buf.text
            buf.text = typed + "^Z"  # IOS: R1(config-if)#^Z
            event.app.exit(result=typed + _CTRL_Z)

        @kb.add("c-z", filter=~Condition(config_mode))
        def _ctrl_z_exec(event: KeyPressEvent) -> None:
            pass  # nothing to end in EXEC

        @kb.add("c-c")
        @kb.add(Keys.SIGINT)
        def _ctrl_c(event: KeyPressEvent) -> None:
            if config_mode():
                buf = event.app.current_buffer
                buf.text += "^C"
            event.app.exit(result=_CTRL_C)

        @kb.add("c-d")
        def _ctrl_d(event: KeyPressEvent) -> None:
            buf = event.app.current_buffer
            if buf.text:  # IOS: Ctrl-D deletes the character under the cursor
                buf.delete()
                return
            event.app.exit(result=_CTRL_D)

        @kb.add("x", filter=Condition(self._escape_x))
        @kb.add("X", filter=Condition(self._escape_x))
        def _escape_end(event: KeyPressEvent) -> None:
            pass  # the x of Ctrl-^ x, after a ping was aborted

        return kb

    def _escape_x(self) -> bool:
        app = get_app_or_none()
        typed = app.current_buffer.text if app is not None else ""
        return self.watch.swallow_x(typed)

    # ------------------------------------------------------------ the clock while idle

    def _start_ticker(self) -> None:
        get_app().create_background_task(self._tick())

    async def _tick(self) -> None:
        """While the prompt waits: the clock follows the wall, messages go above the
        prompt when they happen."""
        clock = self.console.lab.clock
        while True:
            due = clock.next_deadline()
            delay = TICK_MAX if due is None else self.wall.delay(due)
            await asyncio.sleep(min(TICK_MAX, max(TICK_MIN, delay)))
            try:
                self.wall.catch_up()
            except Exception as exc:  # a bug in iosim: say so once, the lab carries on
                error = internal_error("(the clock, at an idle prompt)", exc,
                                       device=self.console.device)
                self.wall.rebase()
                await run_in_terminal(partial(self.out, error.render(0)))
            logs = self.console.pending_logs()
            if logs:
                await run_in_terminal(partial(self._above_prompt, logs))

    def _above_prompt(self, logs: str) -> None:
        """Messages while the user types (``logging synchronous``): the prompt line as it
        was, the messages, then the prompt comes back with the typed text."""
        app = get_app_or_none()
        session = self.console.session
        pending = session.pending
        if pending is not None and pending.prompt == _MORE:
            self.out(logs)
            return
        typed = app.current_buffer.text if app is not None else ""
        if pending is not None and not pending.echo:
            typed = ""
        self.out(f"{self.console.prompt}{typed}\n{logs}")

    # ------------------------------------------------------------ a command

    @contextmanager
    def _command(self, text: str) -> Iterator[None]:
        """While a command runs: raw keys, real-time pacing, what it prints written as it
        goes (ping marks), ``@wait``'s live terminal."""
        clock = self.console.lab.clock
        session = self.console.session  # the device the line is for (router or PC)
        self.watch.ctrl_c_stops = text.lstrip(" \t").startswith("@")
        clock.pacer = self.watch.pace
        session.stream = self.out
        self.console.live = LiveTerminal(self.out, self.watch.poll, self.wall.wall_clock)
        try:
            with self.input.raw_mode():  # Ctrl-C and Ctrl-^ arrive as keys
                yield
        finally:
            clock.pacer = None
            session.stream = None
            self.console.live = None

    def _run_line(self, text: str) -> None:
        if text == _CTRL_C:
            self.out(self.console.interrupt())
            return
        if text == _CTRL_D:  # an empty line's Ctrl-D: the lab stays (unsaved work too)
            self.out(_LEAVING)
            return
        if text == _HELP_PAGED:
            page, self._help_page = self._help_page, ""
            self.out(page)
            return
        try:
            with self._command(text):
                self.out(self.console.feed(text))
        except Interrupted:  # a command that waited stopped where it was
            self.out("\n")

    def _read_line(self) -> str:
        session = self.console.session
        pending = session.pending
        try:
            if pending is not None and pending.prompt == _MORE:
                return self.more_session.prompt(_MORE, pre_run=self._start_ticker,
                                                handle_sigint=False)
            retype, self._retype = self._retype, ""
            return self.line_session.prompt(
                self.console.prompt, is_password=pending is not None and not pending.echo,
                default=retype if pending is None else "", pre_run=self._start_ticker,
                handle_sigint=False)
        except KeyboardInterrupt:
            return _CTRL_C

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        """SIGINT from outside: Ctrl-C at the prompt, or for the command running."""
        app = get_app_or_none()
        loop = getattr(app, "loop", None)
        if app is not None and app.is_running and loop is not None:
            loop.call_soon_threadsafe(app.key_processor.send_sigint)
        else:
            self.watch.signal()

    # ------------------------------------------------------------ the loop

    def run(self) -> int:
        """Prompt, run, print until end of input (Ctrl-D); returns the exit status."""
        console = self.console
        lab = console.lab
        lab.time_jumped = self.wall.rebase
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, self._on_sigint) if in_main else None
        router = lab.routers.get(console.device)
        if router is not None:  # the motd and the exec banner, as the console's EXEC starts
            self.out(exec_banners(router.config))
        self.out(console.greeting())
        try:
            while True:
                self.wall.catch_up()  # what fell due while the last command printed
                self.out(console.pending_logs())
                try:
                    text = self._read_line()
                except EOFError:
                    self.out("\n" + console.close())
                    return 0
                self._run_line(text)
                if console.finished:  # the exam was handed in
                    return 0
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
            lab.time_jumped = None
            lab.clock.pacer = None
            self.watch.close()


#: Keys the line editor binds itself (Ctrl-U, the arrows ...): the pager binds them too, so
#: that they end --More-- like any other key instead of editing an empty line and leaving
#: the pager to take the key after them. Terminal reports (cursor position, mouse, paste)
#: are not keys a person typed and stay with prompt_toolkit.
_PAGER_KEYS: tuple[str, ...] = tuple(
    key.value for key in Keys
    if key.value.startswith(("c-", "s-", "f")) and key not in (Keys.ControlM, Keys.ControlJ)
) + ("up", "down", "left", "right", "home", "end", "pageup", "pagedown", "delete",
     "insert", "escape", "c-m", "c-j")


def _more_bindings() -> KeyBindings:
    kb = KeyBindings()

    def _any(event: KeyPressEvent) -> None:
        key = event.key_sequence[0].key
        if key == " ":
            event.app.exit(result=" ")
        else:
            event.app.exit(result="" if key in (Keys.ControlM, Keys.ControlJ) else "q")

    for key in ("<any>", Keys.SIGINT, *_PAGER_KEYS):
        kb.add(key)(_any)
    return kb


def run_interactive(console: LabConsole, *, input: Any = None, output: Any = None,
                    write: Callable[[str], object] | None = None,
                    wall_clock: Callable[[], float] = time.monotonic,
                    sleep: Callable[[float], None] | None = None) -> int:
    """Run the prompt until end of input (Ctrl-D); return the exit status (see
    :class:`InteractiveConsole`)."""
    return InteractiveConsole(console, input=input, output=output, write=write,
                              wall_clock=wall_clock, sleep=sleep).run()
