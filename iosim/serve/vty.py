"""One vty: the EXEC process of a telnet or SSH connection to a served router.

Theory of operation
-------------------
Each connection gets a :class:`VtyProcess`, a thread of its own, as IOS runs one EXEC
process per line. The network's event loop hands it what arrives (:meth:`receive`, never
blocking and never touching the lab); the thread takes the lab's baton
(:class:`~iosim.serve.runtime.LabRuntime`) to log in, edit the line (echo, ``?``, Tab,
history, IOS's control keys, through :class:`~iosim.serve.line_editor.LineEditor`) and run
commands in its own :class:`~iosim.cli.session.Session`, and writes the replies through its
:class:`Link`. Sessions on one router share the router: what one configures the others see.

Backpressure keeps every resource bounded. Input waits in a buffer that stops the link's
reading past :data:`INBOX_HIGH` bytes; output is produced only while the link can take it
(:meth:`Link.wait_writable`, waited for without the baton), so a client that never reads
stops only its own vty. Messages for the terminal (``terminal monitor``) wait in a bounded
queue; the oldest go first. Everything a connection did on the router is undone when it
ends, however it ends (``exit``, ``clear line``, ``exec-timeout``, the client gone).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from iosim.cli.incidents import internal_error
from iosim.cli.lines import from_bytes, to_bytes
from iosim.cli.session import Session
from iosim.cli.terminal_lines import Terminal, vty_config
from iosim.clock import Interrupted
from iosim.config.model import LineConfig
from iosim.router import Router
from iosim.serve.line_editor import LineEditor
from iosim.serve.login import (
    FAILURE_DELAY,
    LOGIN_TIMEOUT,
    MAX_FAILURES,
    authenticate,
    line_password_set,
    login_plan,
)
from iosim.serve.runtime import LabRuntime

__all__ = ["INBOX_HIGH", "Link", "VtyProcess"]

#: Input kept waiting before the link stops reading, and where it reads again.
INBOX_HIGH = 65536
INBOX_LOW = 16384
#: Messages kept for a terminal that is not reading them.
MONITOR_QUEUE = 512
_MORE = " --More-- "
_MORE_ERASE = b"\b" * 9 + b" " * 9 + b"\b" * 9
#: IOS's default exec-timeout (10 minutes), in seconds.
DEFAULT_EXEC_TIMEOUT = 600.0


class Link(Protocol):
    """The network side of a vty; every method may be called from any thread."""

    protocol: str  # "telnet" or "ssh"
    peer: str  # the client's address

    def send(self, data: bytes) -> None:
        """Queue ``data`` for the client (dropped once the connection is gone)."""

    def hangup(self) -> None:
        """Close the connection."""

    def wait_writable(self, timeout: float) -> bool:
        """Block until the client has read enough of what was sent (False: timed out)."""

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


class _Closed(Exception):
    """The connection ended (the client left, ``exit``, ``clear line``, a timeout)."""


class VtyProcess:
    """The EXEC process of one connection (see the module docstring).

    ``user`` and ``privilege`` are those an SSH login already established (None: the vty
    asks, as on telnet); ``window`` is the client's terminal size; ``command`` is an SSH
    ``exec`` request (run, then the connection ends).
    """

    def __init__(self, runtime: LabRuntime, router: Router, link: Link, *,
                 user: str | None = None, privilege: int | None = None,
                 window: tuple[int, int] | None = None, command: str | None = None,
                 ssh_cipher: tuple[str, str] = ("", "")) -> None:
        self.runtime = runtime
        self.router = router
        self.link = link
        self.user = user
        self.privilege = privilege
        self.window = window
        self._resized = window is not None  # a window size the session has not taken yet
        self.command = command
        self.ssh_cipher = ssh_cipher
        self.editor = LineEditor()
        self.session: Session | None = None
        self.terminal: Terminal | None = None
        self._cv = threading.Condition()
        self._inbox = bytearray()
        self._paused = False
        self._closed = False
        self._escape = False  # Ctrl-^ while a command waits
        self._logs: deque[str] = deque(maxlen=MONITOR_QUEUE)
        self._streaming = False
        self._history_at: int | None = None
        self._escaped = False  # the key before was Ctrl-^
        self._more_escape = 0  # an arrow's escape sequence ended --More--: 1 after ESC, 2 in it
        self._last_input = time.monotonic()
        self.thread = threading.Thread(target=self.run, name=f"iosim-vty-{router.name}",
                                       daemon=True)

    # ------------------------------------------------------------ from the network

    def start(self) -> None:
        self.thread.start()

    def receive(self, data: bytes) -> None:
        """Bytes from the client (the event loop's thread)."""
        with self._cv:
            if self._closed:
                return
            if 0x1E in data:  # IOS's escape sequence stops a waiting command at once
                self._escape = True
            self._inbox += data
            if len(self._inbox) > INBOX_HIGH and not self._paused:
                self._paused = True
                self.link.pause_reading()
            self._cv.notify_all()

    def resize(self, width: int, height: int) -> None:
        """The client's window changed (NAWS, an SSH window-change): the session takes
        it before the next keys (:meth:`_take_window`)."""
        with self._cv:
            self.window = (width, height)
            self._resized = True
            self._cv.notify_all()

    def lost(self) -> None:
        """The connection is gone: the command running stops, the vty ends."""
        with self._cv:
            self._closed = True
            self._escape = True
            self._cv.notify_all()

    def hangup(self) -> None:
        """End the connection (``exit``, ``clear line``, a reload); any thread."""
        self.lost()
        self.link.hangup()

    # ------------------------------------------------------------ the pacer's questions

    def interrupted(self) -> bool:
        with self._cv:
            hit, self._escape = self._escape, False
            return hit

    def while_waiting(self) -> None:
        self._flush_logs_inline()

    # ------------------------------------------------------------ output

    def _send(self, data: bytes) -> None:
        if data:
            self.link.send(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    def _write(self, text: str) -> None:
        self._send(to_bytes(text))

    def _prompt(self) -> None:
        session = self.session
        assert session is not None
        pending = session.pending
        if pending is not None and pending.prompt == _MORE:
            self._write(_MORE)
            return
        self._write(session.prompt)

    def _monitor(self, line: str, severity: int) -> None:
        """A router message (any thread, baton held): queued if this terminal monitors."""
        session = self.session
        logging = self.router.config.logging
        if session is None or not session.monitor or not logging.monitor or (
                severity > logging.monitor_level):
            return
        with self._cv:
            self._logs.append(line)
            self._cv.notify_all()

    def _take_logs(self) -> list[str]:
        with self._cv:
            lines = list(self._logs)
            self._logs.clear()
        return lines

    def _flush_logs_inline(self) -> None:
        """During a command: each message on a line of its own, the output goes on."""
        for line in self._take_logs():
            self._write("\n" + line)

    def _flush_logs_idle(self) -> None:
        """At the prompt: the messages, then (``logging synchronous``) the prompt again
        with what was typed."""
        lines = self._take_logs()
        if not lines or self.session is None:
            return
        self._write("\n" + "".join(line + "\n" for line in lines))
        line = self._line_config()
        if line is not None and line.logging_synchronous:
            self._prompt()
            if self.editor.echo:
                self._send(self.editor.text)

    # ------------------------------------------------------------ input

    def _next_input(self, timeout: float | None) -> bytes:
        """The bytes up to and including the next line end (all there is without one), a
        CR's LF or NUL with it when it is there already; what follows stays for the next
        call (typed ahead). Raises _Closed when the connection ends or ``timeout`` wall
        seconds pass idle."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while not self._inbox and not self._logs:
                if self._closed:
                    raise _Closed()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise _Closed()
                self._cv.wait(left)
            chunk = bytes(self._inbox[:_line_end(self._inbox)])
            del self._inbox[:len(chunk)]
            if self._paused and len(self._inbox) < INBOX_LOW:
                self._paused = False
                self.link.resume_reading()
        if chunk:
            self._last_input = time.monotonic()
        return chunk

    def _read_line(self, prompt: str, echo: bool) -> str:
        """A login answer: the line typed after ``prompt`` (echoed or not)."""
        self._write(prompt)
        self.editor.echo = echo
        try:
            while True:
                line: bytes | None = None
                for b in self._next_input(LOGIN_TIMEOUT):  # nothing after its line end
                    key = self.editor.key(b)
                    self._send(key.echo)
                    if key.action == "enter":
                        line = self.editor.take()
                    if key.action == "help" and echo:
                        self.editor.buf.append(b)
                        self._send(b"?")
                if line is not None:
                    self._write("\n")
                    return from_bytes(line)
        except _Closed:
            if not self._closed:
                word = prompt.strip().rstrip(":")
                self._write(f"\n% {word}:  timeout expired!\n")
            raise
        finally:
            self.editor.echo = True

    # ------------------------------------------------------------ the process

    def run(self) -> None:
        """The thread: log in, then run what is typed until the connection ends."""
        try:
            self._serve()
        except _Closed:
            pass
        except Exception as exc:  # a bug in iosim: this vty ends, the lab carries on
            error = internal_error("(a vty)", exc, device=self.router.name)
            self._write("\n" + error.render(0))
        finally:
            self.runtime.run(self._release)
            self.link.hangup()

    def _release(self) -> None:
        if self._monitor in self.router.monitor_sinks:
            self.router.monitor_sinks.remove(self._monitor)
        if self._on_router_event in self.router.listeners:
            self.router.listeners.remove(self._on_router_event)
        if self.terminal is not None and self.router.terminals.vtys.get(
                self.terminal.vty) is self.terminal:
            self.router.terminals.close(self.terminal.vty)

    def _on_router_event(self, event: str, detail: str) -> None:
        if event == "reboot":  # a reload ends every vty
            self.hangup()

    def _line_config(self) -> LineConfig | None:
        if self.terminal is None:
            return None
        return vty_config(self.router.config, self.terminal.vty)

    def _open_line(self) -> LineConfig | None:
        """Take a free vty that lets this protocol in (None: refused)."""
        router = self.router
        vty = router.terminals.free_vty(router.config, self.link.protocol)
        if vty is None:
            return None
        session = Session(router, line_name=f"vty {vty}", hangup=self.hangup)
        self.session = session
        self._take_window()
        self.terminal = Terminal(vty, session, self.link.peer, self.link.protocol,
                                 last_input=router.clock.now, hangup=self.hangup,
                                 cipher=self.ssh_cipher[0], mac=self.ssh_cipher[1])
        router.terminals.open(self.terminal)
        router.monitor_sinks.append(self._monitor)
        router.listeners.append(self._on_router_event)
        return vty_config(router.config, vty)

    def _take_window(self) -> None:
        """Baton held: the window size the client reported last, if new, to the session
        (which keeps a ``terminal length`` or ``width`` typed in it)."""
        with self._cv:
            window, self._resized = (self.window if self._resized else None), False
        if window is not None and self.session is not None:
            self.session.window_changed(*window)

    def _serve(self) -> None:
        line = self.runtime.run(self._open_line)
        if line is None:
            return  # no vty free for this protocol: IOS refuses the connection
        motd = self.runtime.run(lambda: self.router.config.banner_motd)
        if motd:
            self._write(f"\n{motd}\n")
        if self.privilege is None:
            self._login(line)
        self.runtime.run(self._logged_in)
        if self.command is not None:
            self._exec_request(self.command)
            return
        banner = self.runtime.run(lambda: self.router.config.banner_exec)
        if banner:  # IOS prints it as the EXEC starts, before the first prompt
            self._write(f"\n{banner}\n")
        self.runtime.run(self._prompt)
        self._exec_loop()

    def _login(self, line: LineConfig) -> None:
        """IOS's login dialog on the vty: three tries, a delay after each failure."""
        plan = self.runtime.run(lambda: login_plan(self.router.config, line))
        if plan.asks_nothing:
            self.privilege = 1
            return
        if not plan.asks_username and plan.methods[0] == "line" and not (
                line_password_set(line)):
            self._write("\nPassword required, but none set\n")
            raise _Closed()
        banner = self.runtime.run(lambda: self.router.config.banner_login)
        if banner:  # before the dialog only (an SSH client sees it as its auth banner)
            self._write(f"\n{banner}\n")
        self._write("\n\nUser Access Verification\n\n")
        for _ in range(MAX_FAILURES):
            user = self._read_line("Username: ", echo=True) if plan.asks_username else ""
            password = self._read_line("Password: ", echo=False)
            verdict = self.runtime.run(lambda u=user, p=password: authenticate(  # type: ignore[misc]
                self.router.config, line, u, p))
            if verdict.ok:
                self.user, self.privilege = user or None, verdict.privilege
                return
            time.sleep(FAILURE_DELAY)
            if plan.asks_username or plan.aaa:
                self._write(f"{plan.failure_message}\n\n")
        if not (plan.asks_username or plan.aaa):
            self._write(f"{plan.failure_message}\n")
        raise _Closed()

    def _logged_in(self) -> None:
        session, terminal = self.session, self.terminal
        assert session is not None and terminal is not None
        terminal.user = self.user or ""
        terminal.last_input = self.router.clock.now
        session.mode = "exec" if (self.privilege or 1) >= 15 else "user"
        who = f"{self.user} on " if self.user else ""
        session.configured_by = f"{who}vty{terminal.vty} ({self.link.peer})"

    def _exec_request(self, command: str) -> None:
        """``ssh router show version``: the command runs, its output comes, then the end."""
        self._write(self.runtime.run(lambda: self._run_command(command)))

    def _exec_timeout(self) -> float | None:
        line = self.runtime.run(self._line_config)
        if line is None or line.exec_timeout is None:
            return DEFAULT_EXEC_TIMEOUT
        seconds = line.exec_timeout[0] * 60 + line.exec_timeout[1]
        return None if seconds == 0 else float(seconds)

    def _exec_loop(self) -> None:
        while True:
            self.link.wait_writable(1.0)
            chunk = self._next_input(self._exec_timeout())
            self.runtime.run(lambda c=chunk: self._keys(c))  # type: ignore[misc]

    # ------------------------------------------------------------ keys (baton held)

    def _keys(self, chunk: bytes) -> None:
        self._take_window()
        self._flush_logs_idle()
        session, terminal = self.session, self.terminal
        assert session is not None and terminal is not None
        if chunk:
            terminal.last_input = self.router.clock.now
        for b in chunk:
            if self._closed:
                raise _Closed()
            if self._more_escape and self._rest_of_escape(b):
                continue
            pending = session.pending
            if pending is not None and pending.prompt == _MORE:
                if not self.editor.ends_line_end(b):  # a CR's LF is no key at --More--
                    self._more_key(b)
                continue
            if self._escaped and b in (ord("x"), ord("X")) and not self.editor.buf:
                self._escaped = False  # Ctrl-^ x: IOS's escape sequence, nothing to run
                continue
            self.editor.echo = pending is None or pending.echo
            key = self.editor.key(b)
            self._escaped = key.action == "escape"
            self._send(key.echo)
            action = _ACTIONS.get(key.action)
            if action is not None:
                action(self)

    def _more_key(self, b: int) -> None:
        """One key at ``--More--``: space a page, Return a line, anything else stops."""
        session = self.session
        assert session is not None
        self._more_escape = 1 if b == 0x1B else 0  # an arrow: the rest of it is eaten too
        answer = " " if b == 0x20 else "" if b in (0x0D, 0x0A) else "q"
        self._send(_MORE_ERASE)
        self._write(session.feed(answer))
        self._prompt()
        if session.pending is None:  # the end of a paged '?' list: the line typed comes back
            self._send(self.editor.text)

    def _rest_of_escape(self, b: int) -> bool:
        """Whether ``b`` belongs to the escape sequence whose ESC ended ``--More--``."""
        if self._more_escape == 1:
            self._more_escape = 2 if b in (ord("["), ord("O")) else 0
            return self._more_escape == 2
        if 0x30 <= b <= 0x3F:  # parameters: digits, ';'
            return True
        self._more_escape = 0
        return 0x40 <= b <= 0x7E  # the final byte (A-D for the arrows)

    def _run_command(self, text: str) -> str:
        """Feed a line to the session: its output, what it streamed written already."""
        session = self.session
        assert session is not None
        self.runtime.clock.set_waiter(self)
        with self._cv:
            self._escape = False
        session.stream = self._stream
        self._streaming = True
        try:
            return session.feed(text)
        except Interrupted:
            return "\n"
        finally:
            self._streaming = False
            session.stream = None
            self.runtime.clock.set_waiter(None)

    def _stream(self, text: str) -> None:
        self._flush_logs_inline()
        self._write(text)

    def _enter(self) -> None:
        session = self.session
        assert session is not None
        self._history_at = None
        line = from_bytes(self.editor.take())
        self._write("\n")
        out = self._run_command(line)
        self._flush_logs_inline()
        self._write(out)
        self._write("".join(line + "\n" for line in self._take_logs()))
        if self._closed:
            raise _Closed()
        self._prompt()

    def _help(self) -> None:
        session = self.session
        assert session is not None
        if session.pending is not None:
            self.editor.buf.append(ord("?"))
            self._send(b"?" if self.editor.echo else b"")
            return
        typed = from_bytes(self.editor.text)
        self._write("?\n" + session.page(session.help(typed)))
        self._prompt()
        if session.pending is None:  # else at the end of the list (``_more_key``)
            self._send(self.editor.text)

    def _complete(self) -> None:
        session = self.session
        assert session is not None
        if session.pending is not None:
            return
        done = session.complete(from_bytes(self.editor.text))
        if done is not None:
            self._send(self.editor.replace(to_bytes(done)))

    def _interrupt(self) -> None:
        """Ctrl-C: the line is abandoned; in configuration mode it ends (``^C``); a
        question is dropped."""
        session = self.session
        assert session is not None
        self.editor.take()
        config = session.pending is None and session.mode_info.is_config
        self._write(("^C" if config else "") + "\n" + session.interrupt())
        self._prompt()

    def _end(self) -> None:
        """Ctrl-Z: in configuration mode, the line typed runs and configuration ends."""
        session = self.session
        assert session is not None
        if session.pending is not None or not session.mode_info.is_config:
            return
        typed = from_bytes(self.editor.take())
        self._write("^Z\n")
        self._write(self._run_command(typed + "\x1a"))
        self._prompt()

    def _recall(self, step: int) -> None:
        session = self.session
        assert session is not None
        if session.pending is not None:
            return
        history = session.history
        if not history:
            return
        at = len(history) if self._history_at is None else self._history_at
        at = max(0, min(len(history), at + step))
        self._history_at = at
        text = to_bytes(history[at]) if at < len(history) else b""
        self._send(self.editor.replace(text))

    def _up(self) -> None:
        self._recall(-1)

    def _down(self) -> None:
        self._recall(1)


def _line_end(inbox: bytearray) -> int:
    """How many bytes of ``inbox`` make its first line: up to its CR or LF, and the LF or
    NUL of a CR LF or CR NUL (all of it when no line end has come)."""
    ends = [i for i in (inbox.find(b"\r"), inbox.find(b"\n")) if i >= 0]
    if not ends:
        return len(inbox)
    end = min(ends) + 1
    if inbox[end - 1] == 0x0D and inbox[end:end + 1] in (b"\n", b"\0"):
        end += 1
    return end


#: What each editing action does to the session.
_ACTIONS: dict[str, Callable[[VtyProcess], None]] = {
    "enter": VtyProcess._enter,
    "help": VtyProcess._help,
    "complete": VtyProcess._complete,
    "interrupt": VtyProcess._interrupt,
    "end": VtyProcess._end,
    "up": VtyProcess._up,
    "down": VtyProcess._down,
}
