"""The interactive router prompt (prompt_toolkit): ``?`` at once, Tab, history, Ctrl-Z.

``?`` prints the help for the text typed so far without Enter, and the typed text
stays on the new prompt line, as on IOS.  Tab completes a unique keyword; Up/Down walk
the history; Ctrl-Z (and Ctrl-C) leave configuration mode; ``--More--`` takes a single
key: space for the next page, Enter for the next line, anything else stops.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app, run_in_terminal
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from iosim.cli.session import Session
from iosim.lab.console import LabConsole
from iosim.lab.exam import Exam

_MORE = " --More-- "
_CTRL_Z = "\x1a"


def _line_bindings(console: LabConsole, write: Callable[[str], object]) -> KeyBindings:
    kb = KeyBindings()

    @kb.add("?")
    def _help(event: KeyPressEvent) -> None:
        buf = event.app.current_buffer
        text = buf.document.text_before_cursor
        session = console.session
        if session.pending is not None:
            buf.insert_text("?")
            return
        out = session.help(text)
        prompt = console.prompt

        def show() -> None:
            write(f"{prompt}{text}?\n{out}")

        run_in_terminal(show)

    @kb.add("tab")
    def _tab(event: KeyPressEvent) -> None:
        buf = event.app.current_buffer
        done = console.session.complete(buf.document.text_before_cursor)
        if done is not None:
            buf.text = done + buf.document.text_after_cursor
            buf.cursor_position = len(done)

    @kb.add("c-z")
    def _ctrl_z(event: KeyPressEvent) -> None:
        event.app.exit(result=_CTRL_Z)

    @kb.add("c-c")
    def _ctrl_c(event: KeyPressEvent) -> None:
        event.app.exit(result=_CTRL_Z if console.session.mode_info.is_config else "")

    return kb


def _more_bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("<any>")
    def _any(event: KeyPressEvent) -> None:
        key = event.key_sequence[0].key
        event.app.exit(result={" ": " ", "c-m": "", "c-j": ""}.get(str(key), "q"))

    return kb


def _countdown(exam: Exam) -> str:
    """The exam's bottom line; when the time is up, the prompt ends and the lab is handed in
    (the console's next line submits it)."""
    if exam.expired():
        app = get_app()
        asyncio.get_running_loop().call_soon(lambda: app.exit(result=""))
    return f" {exam.countdown()}   @submit hands the lab in "


def run_interactive(console: LabConsole, *, input: Any = None, output: Any = None,
                    write: Callable[[str], object] | None = None,
                    wall_clock: Callable[[], float] = time.monotonic,
                    sleep: Callable[[float], None] = time.sleep) -> int:
    """Run the prompt until end of input (Ctrl-D); return the exit status.

    Virtual time is held to the wall clock: it advances while the user reads or types, and
    a command that waits (a ping's two-second timeouts) waits for real, printing as it goes.
    """
    out: Callable[[str], object] = write or sys.stdout.write
    exam = console.exam
    line_session: PromptSession[str] = PromptSession(
        history=InMemoryHistory(), key_bindings=_line_bindings(console, out),
        input=input, output=output,
        bottom_toolbar=(lambda: _countdown(exam)) if exam is not None else None,
        refresh_interval=1.0 if exam is not None else 0)
    more_session: PromptSession[str] = PromptSession(
        key_bindings=_more_bindings(), input=input, output=output, erase_when_done=True)
    clock = console.lab.clock
    wall0, virt0 = wall_clock(), clock.now

    def rebase() -> None:
        """Virtual time jumped ahead (grading): from now on it follows the wall from there."""
        nonlocal wall0, virt0
        wall0, virt0 = wall_clock(), clock.now

    console.lab.time_jumped = rebase

    def pace(when: float) -> None:
        delay = wall0 + (when - virt0) - wall_clock()
        if delay > 0:
            sleep(delay)

    def stream(text: str) -> None:
        out(text)
        flush = getattr(sys.stdout, "flush", None)
        if write is None and flush is not None:
            flush()

    for session in console.lab.sessions.values():
        if isinstance(session, Session):
            session.stream = stream
    router = console.lab.routers.get(console.device)
    motd = router.config.banner_motd if router is not None else None
    if motd:
        out(f"\n{motd}\n\n")
    clock.pacer = pace
    try:
        while True:
            target = virt0 + (wall_clock() - wall0)
            if target > clock.now:
                clock.advance_to(target)  # time passed while the user read and typed
            logs = console.pending_logs()
            if logs:
                out(logs)
            pending = console.session.pending
            try:
                if pending is not None and pending.prompt == _MORE:
                    text = more_session.prompt(_MORE)
                else:
                    text = line_session.prompt(
                        console.prompt, is_password=pending is not None and not pending.echo)
            except EOFError:
                out("\n" + console.close())
                return 0
            except KeyboardInterrupt:
                text = ""
            if text == _CTRL_Z:
                out("^Z\n")
            try:
                out(console.feed(text))
            except KeyboardInterrupt:  # Ctrl-C while a command waits (@wait): it stops there
                out("\n")
            if console.finished:  # the exam was handed in
                return 0
    finally:
        clock.pacer = None
        console.lab.time_jumped = None
        for session in console.lab.sessions.values():
            if isinstance(session, Session):
                session.stream = None
