"""The lab console: one keyboard, every device of a lab, ``@`` lines for iosim itself.

A line that starts with ``@`` is for iosim, never for a router (no IOS command starts with
``@``): ``@R2`` attaches the console to R2 (every device keeps its mode and state), ``@wait
SECONDS`` advances the lab's virtual clock, ``@task`` shows what to build, ``@check`` grades
it, ``@help`` lists the rest (:data:`_HELP`). Every other line goes to the attached device.

Messages a device logs while the console is attached elsewhere wait for the student in a
buffer bounded like the router's own logging buffer; the oldest go first. The attached
router's messages are written as they happen while a command streams its output: during a
ping each starts a new line and the marks go on after its text, as on an IOS console.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TextIO

from iosim.cli.ios_words import emulated_commands
from iosim.cli.session import Session
from iosim.clock import Interrupted
from iosim.lab.exam import Exam
from iosim.lab.grading import grade, render_text
from iosim.lab.host_shell import HostShell
from iosim.lab.running import BOOT_SECONDS, Lab, state_dir
from iosim.lab.views import links_table, task_text

__all__ = ["BOOT_SECONDS", "Lab", "LabConsole", "LiveTerminal", "run_transcript",
           "state_dir"]

#: Longest ``@wait``: a year of virtual time at a time (timestamps end in year 9999, and a
#: periodic timer fires for every period of the wait).
MAX_WAIT = 365 * 24 * 3600
#: What a router that is not attached keeps of its console output, at least (its own
#: ``logging buffered`` size when larger): the newest lines, shown on the next ``@device``.
_MIN_PENDING_BYTES = 256 * 1024

#: An interactive @wait at least this long (virtual seconds) shows how far it got.
PROGRESS_AFTER = 60.0
#: An interactive @wait reads the keyboard (and redraws its progress) at most this often,
#: in wall seconds.
POLL_EVERY = 0.05


@dataclass
class LiveTerminal:
    """What an interactive prompt lends the console while a command runs: ``write`` prints
    at once, ``poll`` reads the keyboard (raising :class:`~iosim.clock.Interrupted` when the
    user stops the command), ``wall_clock`` is the wall time in seconds."""

    write: Callable[[str], None]
    poll: Callable[[], None]
    wall_clock: Callable[[], float]


class WaitProgress:
    """The one line an interactive ``@wait`` keeps up to date: how far it got."""

    def __init__(self, total: float, write: Callable[[str], None]) -> None:
        self.total = total
        self.write = write
        self.shown = False

    def show(self, done: float) -> None:
        self.write(f"\r@wait: {_hms(done)} of {_hms(self.total)} (Ctrl-C stops)")
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.write("\r\x1b[K")  # back to the start of the line, erased
            self.shown = False


def _hms(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


_HELP = """\
iosim console commands (lines that start with '@'):
  @DEVICE          attach the console to DEVICE (e.g. @R2); each keeps its state
  @devices         list the lab's devices
  @wait SECONDS    advance the lab's virtual clock (timers, lifetimes, show clock)
                   at once, messages shown as they happen; Ctrl-C stops it
  @task            what this lab asks you to build (or the ticket to solve)
  @topology        the lab's drawing and its links, with live addresses
  @check           grade the lab now: score, each objective passed or failed, hints
  @reset [DEVICE]  back to the lab's initial configs (every device, or DEVICE);
                   erases what write memory saved
  @solution [DEV]  the solution's configuration (not in exam mode)
  @concepts [N]    the IPsec concepts the tasks and hints refer to (section N)
  @submit          exam mode: hand in now and see the result
  @time            exam mode: the time left
  @keys DIR        write the lab's ESP and IKE keys for Wireshark (esp_sa,
                   ikev1_decryption_table) into DIR, to open captures decrypted
  @quit            leave iosim (twice when configurations are unsaved)
  @help            this list
  @help commands   the IOS commands iosim emulates (the others say they are not)
"""


@dataclass
class _Pending:
    """Log lines a device printed while the console looked elsewhere (bounded)."""

    lines: deque[str]
    size: int = 0

    def add(self, line: str, budget: int) -> None:
        self.lines.append(line)
        self.size += len(line) + 1
        while self.size > budget and len(self.lines) > 1:
            self.size -= len(self.lines.popleft()) + 1

    def take(self) -> str:
        text = "".join(line + "\n" for line in self.lines)
        self.lines.clear()
        self.size = 0
        return text


class LabConsole:
    """Routes console lines to the attached device and writes the transcript."""

    def __init__(self, lab: Lab, device: str | None = None, *, paging: bool = True,
                 exam: Exam | None = None) -> None:
        self.lab = lab
        first = device or next(iter(lab.routers))
        if first not in lab.sessions:
            raise KeyError(first)
        self.device = first
        self.paging = paging
        self.exam = exam
        self.finished = False  # an exam was handed in, or @quit: the console ends
        self._quit_warned = False
        # the lines waiting, of the devices that have some (most have none: a lab of
        # thousands would hold as many empty buffers)
        self._logs: dict[str, _Pending] = {}
        # while a command streams its output (ping, traceroute, an interactive @wait), the
        # attached router's messages are written as they happen, as on a console; otherwise
        # they wait until the command's output is complete
        self._live_log: Callable[[str], None] | None = None
        #: The interactive terminal (set by :mod:`iosim.cli.prompt`), or None for a script
        self.live: LiveTerminal | None = None
        for name, router in lab.routers.items():
            router.log_sinks.append(partial(self._log, name))
        self._terminal_settings()

    def _terminal_settings(self) -> None:
        for session in self.lab.sessions.values():
            if not self.paging and isinstance(session, Session):
                session.terminal_length = 0

    @property
    def session(self) -> Session | HostShell:
        return self.lab.sessions[self.device]

    @property
    def prompt(self) -> str:
        return self.session.prompt

    def _log(self, device: str, line: str) -> None:
        if device == self.device and self._live_log is not None:
            self._live_log(line)
            return
        router = self.lab.routers.get(device)
        budget = max(_MIN_PENDING_BYTES,
                     router.config.logging.buffer_size if router is not None else 0)
        pending = self._logs.get(device)
        if pending is None:
            pending = self._logs[device] = _Pending(deque())
        pending.add(line, budget)

    def pending_logs(self) -> str:
        """Log lines the attached router printed since last asked."""
        pending = self._logs.pop(self.device, None)
        return pending.take() if pending is not None else ""

    def feed(self, line: str) -> str:
        """One input line; the output (logs that happened meanwhile included)."""
        if self.finished:
            return ""
        if self.exam is not None and self.exam.expired():
            return self._submit("time is up")
        stripped = line.strip()
        pending = self.session.pending
        if stripped.startswith("@") and (pending is None or pending.echo and not pending.text):
            # the emulator's own lines work even while a router asks a question (not while it
            # reads a password or banner text, which may begin with "@")
            return self._iosim_command(stripped[1:])
        session = self.session
        outer = session.stream
        shown: list[str] = []

        def emit(text: str) -> None:
            if not text:
                return
            if outer is not None:
                outer(text)
            else:
                shown.append(text)
            # once the command printed something (a ping's header), a message goes out as
            # IOS writes one on its console: a new line, then its text, and what the command
            # prints next (the ping's marks) goes on after that text
            self._live_log = log_line

        def log_line(line: str) -> None:
            emit("\n" + line)

        session.stream = emit
        try:
            out = session.feed(line)
        finally:
            session.stream, self._live_log = outer, None
        return "".join(shown) + out + self.pending_logs()

    def interrupt(self) -> str:
        """Ctrl-C at the prompt (see :meth:`Session.interrupt`); what the router prints."""
        session = self.session
        out = session.interrupt() if isinstance(session, Session) else ""
        return out + self.pending_logs()

    # ------------------------------------------------------------ @ commands

    def _iosim_command(self, text: str) -> str:
        words = text.split()
        if not words:
            return _HELP
        handler = _COMMANDS.get(words[0].lower())
        if handler is not None:
            return handler(self, words[1:])
        if words[0] in self.lab.sessions:
            self.device = words[0]
            attached = self.pending_logs()
            command = text.lstrip()[len(words[0]):].strip()
            if not command:
                return attached
            # the line as the device's prompt shows it, then its answer (a caret lines up)
            return f"{attached}{self.prompt}{command}\n{self.feed(command)}"
        return f"% Unknown iosim command or device '@{words[0]}' (try @help)\n"

    def _help(self, args: list[str]) -> str:
        if args and "commands".startswith(args[0].lower()):
            return emulated_commands()
        return _HELP

    def _devices(self, args: list[str]) -> str:
        rows = [f"  {n:<10} router  {'(attached)' if n == self.device else ''}".rstrip()
                for n in self.lab.routers]
        rows += [f"  {n:<10} host    {h.address}{'  (attached)' if n == self.device else ''}"
                 for n, h in self.lab.topology.hosts.items()]
        return "\n".join(rows) + "\n"

    def _wait(self, args: list[str]) -> str:
        try:
            seconds = float(args[0]) if len(args) == 1 else math.nan
        except ValueError:
            seconds = math.nan
        too_big = seconds == math.inf and args[0].lstrip("+").lower()[:3] != "inf"  # 1e400
        if not (math.isfinite(seconds) and seconds >= 0) and not too_big:
            return "% @wait needs a number of seconds, e.g. @wait 30\n"
        if too_big or seconds > MAX_WAIT:
            return (f"% @wait {args[0]}: at most {MAX_WAIT} seconds (one year) at a time; "
                    "the lab's clock is unchanged\n")
        if self.live is None:
            return self._piped_wait(seconds)
        return self._live_wait(seconds, self.live)

    def _piped_wait(self, seconds: float) -> str:
        """``@wait`` in a replayed script: every message the attached router printed while
        the clock ran is the wait's output, none dropped, as a console shows them all."""
        printed: list[str] = [self.pending_logs()]
        self._live_log = lambda line: printed.append(line + "\n")
        try:
            self.lab.clock.advance(seconds)
        finally:
            self._live_log = None
        return "".join(printed)

    def _live_wait(self, seconds: float, live: LiveTerminal) -> str:
        """``@wait`` at an interactive prompt: the clock runs ahead as fast as its events
        go (not in real time); the attached router's messages are printed as they happen,
        a long wait shows how far it got on one line that updates, and Ctrl-C (or the
        escape sequence) stops the clock where it got to. Afterwards virtual time follows
        the wall clock from the new instant."""
        clock = self.lab.clock
        start, end = clock.now, clock.now + seconds
        progress = WaitProgress(seconds, live.write) if seconds >= PROGRESS_AFTER else None
        last_poll = [-math.inf]

        def pace(when: float) -> None:
            wall = live.wall_clock()
            if wall - last_poll[0] >= POLL_EVERY:
                last_poll[0] = wall
                live.poll()  # raises Interrupted: the clock stops before this event
                if progress is not None:
                    progress.show(when - start)

        def log_line(line: str) -> None:
            if progress is not None:
                progress.clear()
            live.write(line + "\n")

        pacer, clock.pacer = clock.pacer, pace
        self._live_log = log_line
        stopped = ""
        try:
            clock.advance_to(end)
        except Interrupted:
            stopped = (f"% @wait stopped: {clock.now - start:.3f} of {seconds:g} seconds "
                       "waited; the lab's clock stays there\n")
        finally:
            clock.pacer, self._live_log = pacer, None
            if progress is not None:
                progress.clear()
            if self.lab.time_jumped is not None:
                self.lab.time_jumped()
        return self.pending_logs() + stopped

    def _keys(self, args: list[str]) -> str:
        if len(args) != 1:
            return "% @keys needs a directory, e.g. @keys /tmp/lab-keys\n"
        from iosim.lab.keys import write_wireshark_keys

        try:
            paths = write_wireshark_keys(self.lab, Path(args[0]))
        except FileNotFoundError:
            return (f"% @keys {args[0]}: no such directory (@keys writes into a directory "
                    "that exists, and makes none)\n")
        except NotADirectoryError:
            return f"% @keys {args[0]}: not a directory\n"
        except (OSError, ValueError) as e:  # ValueError: a NUL in the path
            return f"% Cannot write the keys: {getattr(e, 'strerror', None) or e}\n"
        return "".join(f"Wrote {p}\n" for p in paths)

    def _task(self, args: list[str]) -> str:
        return task_text(self.lab.resolved, exam=self.exam is not None)

    def _topology(self, args: list[str]) -> str:
        drawing = self.lab.resolved.drawing
        return (drawing.rstrip("\n") + "\n\n" if drawing else "") + links_table(self.lab)

    def _check(self, args: list[str]) -> str:
        if self.exam is not None:
            return ("% @check is not available in exam mode: @submit hands the lab in and "
                    "grades it\n")
        if not self.lab.resolved.objectives:
            return "% This lab has no objectives to check (it is a sandbox).\n"
        return render_text(grade(self.lab)) + self.pending_logs()

    def _reset(self, args: list[str]) -> str:
        names = list(self.lab.sessions) if not args else args[:1]
        if names[0] not in self.lab.sessions:
            return f"% No device '{names[0]}' in this lab (see @devices)\n"
        errors: list[str] = []
        for name in names:
            try:
                errors += self.lab.reset_device(name)
            except OSError as e:  # the saved config cannot be removed: nothing is reset
                return (f"% Cannot forget {name}'s saved configuration: "
                        f"{e.strerror or e}\n")
        self._terminal_settings()
        for name in names:
            self._logs.pop(name, None)
        which = "every device" if not args else names[0]
        return "".join(errors) + (f"Reset {which} to the lab's initial configuration (saved "
                                  "startup-configs erased).\n")

    def _solution(self, args: list[str]) -> str:
        if self.exam is not None:
            return "% @solution is not available in exam mode\n"
        solutions = self.lab.resolved.solutions
        if not solutions:
            return "% This lab has no solution configuration.\n"
        names = args[:1] or list(solutions)
        out = []
        for name in names:
            if name not in solutions:
                return f"% No solution for '{name}' (solutions: {', '.join(solutions)})\n"
            out.append(f"! {name}: in global configuration mode\n{solutions[name].rstrip()}\n")
        return "\n".join(out)

    def _concepts(self, args: list[str]) -> str:
        from iosim.lab.concepts import contents, section

        if not args:
            return contents()
        found = section(args[0])
        return found if found is not None else (
            f"% No section {args[0]!r} (@concepts lists them)\n")

    def _submit(self, reason: str = "submitted") -> str:
        if self.exam is None:
            return "% @submit hands in an exam: start one with iosim console LAB --exam\n"
        text = self.exam.submit(self.lab, reason)
        self.finished = True
        return text

    def _submit_command(self, args: list[str]) -> str:
        return self._submit("submitted")

    def _time(self, args: list[str]) -> str:
        if self.exam is None:
            return "% @time shows an exam's time left: start one with --exam\n"
        return self.exam.countdown() + "\n"

    def greeting(self) -> str:
        """The interactive console's first line: what iosim's own lines are for."""
        info = self.lab.resolved.info
        what = ("@task shows what to build, @check grades it, "
                if self.lab.resolved.objectives else "")
        return f"iosim lab {info.name}: {what}@help lists iosim's lines, @quit leaves.\n\n"

    def _quit(self, args: list[str]) -> str:
        """``@quit``: leave iosim (an exam is handed in). Unsaved configurations would be
        lost: the first ``@quit`` says so, a second one leaves."""
        unsaved = [name for name, r in self.lab.routers.items() if not r.saved_since_change]
        if unsaved and not self._quit_warned and self.exam is None:
            self._quit_warned = True
            return (f"% Unsaved configuration on {', '.join(unsaved)} (write memory saves "
                    "it): @quit again to leave anyway\n")
        self.finished = True
        return self.close("the student left") if self.exam is not None else "Bye.\n"

    def close(self, reason: str = "end of input") -> str:
        """The console ends: an exam not yet handed in is graded now."""
        if self.exam is not None and not self.finished:
            return self._submit(reason)
        return ""


_COMMANDS: dict[str, Callable[[LabConsole, list[str]], str]] = {
    "help": LabConsole._help,
    "devices": LabConsole._devices,
    "wait": LabConsole._wait,
    "keys": LabConsole._keys,
    "task": LabConsole._task,
    "topology": LabConsole._topology,
    "check": LabConsole._check,
    "reset": LabConsole._reset,
    "solution": LabConsole._solution,
    "concepts": LabConsole._concepts,
    "submit": LabConsole._submit_command,
    "time": LabConsole._time,
    "quit": LabConsole._quit,
    "exit": LabConsole._quit,
}


def run_transcript(console: LabConsole, lines: Iterable[str], out: TextIO) -> None:
    """Feed lines and write what a console shows: prompt, echoed line, output."""
    for raw in lines:
        line = raw.rstrip("\r\n")
        session = console.session
        echo = session.pending is None or session.pending.echo
        shown = line.replace("\x1a", "^Z") if echo else ""
        out.write(console.prompt + shown + "\n")
        out.write(console.feed(line))
        if console.finished:
            return
    out.write(console.prompt + "\n")
    out.write(console.close())
