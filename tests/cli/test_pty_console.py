"""``iosim console`` on a real pseudo-terminal: the keys a student presses, in real time.

The test is the terminal: it reads what iosim draws, answers prompt_toolkit's cursor
position requests (``ESC [6n``) as a terminal does, and types keys. Only a pty on this
machine is used; no network.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pytest
from labkit import configure_seed

from iosim.lab.console import Lab, LabConsole

ROOT = Path(__file__).resolve().parents[2]
_CPR = b"\x1b[6n"
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")
#: The peer's DPD on R1, so that the lab has timers running while it is idle.
DPD = "crypto isakmp keepalive 10 2 periodic\n"
PING = "ping 10.0.2.10 source 192.168.1.1"

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pty")


class Terminal:
    """``python3 -m iosim console ARGS`` on a pty that this object reads and types into."""

    def __init__(self, args: list[str], state: Path, *, cpr_delay: float = 0.0) -> None:
        env = {**os.environ, "XDG_STATE_HOME": str(state), "TERM": "xterm",
               "PYTHONPATH": str(ROOT), "COLUMNS": "200", "LINES": "50"}
        self.cpr_delay = cpr_delay
        self.cpr_due: list[float] = []  # when each pending cursor request is answered
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: iosim on the pty
            os.chdir(ROOT)
            os.execve(sys.executable, [sys.executable, "-m", "iosim", "console", *args], env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.raw = b""
        self.mark = 0  # what expect() looked at already

    @property
    def text(self) -> str:
        """Everything drawn so far, escape sequences and carriage returns left out."""
        return _ESCAPES.sub("", self.raw.decode("utf-8", "replace")).replace("\r", "")

    def _pump(self, timeout: float) -> None:
        now = time.monotonic()
        while self.cpr_due and self.cpr_due[0] <= now:
            self.cpr_due.pop(0)
            os.write(self.fd, b"\x1b[1;1R")
        wait = min([timeout] + [d - now for d in self.cpr_due])
        ready, _, _ = select.select([self.fd], [], [], max(0.0, wait))
        if not ready:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # the child ended
            raise EOFError from None
        if not data:
            raise EOFError
        self.cpr_due += [time.monotonic() + self.cpr_delay] * data.count(_CPR)
        self.raw += data.replace(_CPR, b"")

    def expect(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """Wait until ``pattern`` shows up after what was expected before; the match."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            found = regex.search(self.text, self.mark)
            if found:
                self.mark = found.end()
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} not seen; the screen ends:\n"
                                     f"{self.text[-1500:]}")
            self._pump(min(left, 0.05))

    def settle(self, seconds: float) -> None:
        """Keep reading (and answering) for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self._pump(0.02)
            except EOFError:
                return

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def line(self, command: str, prompt: str = r"\S+[>#]") -> None:
        """Type a command and wait for the next prompt after it."""
        self.type(command + "\r")
        self.expect(re.escape(command) + r"\n(?:.*\n)*?" + prompt)

    def close(self) -> int:
        """@quit (twice: the configs are unsaved); the exit status (the child is killed if
        it does not end)."""
        try:
            self.type("q")  # ends a --More-- (elsewhere Ctrl-U erases it)
            self.settle(0.3)
            for _ in range(2):  # the second @quit leaves whatever was left unsaved
                self.type("\x15@quit\r")
                self.settle(0.5)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    return os.waitstatus_to_exitcode(status)
                self.settle(0.1)
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            return -1
        finally:
            os.close(self.fd)


def _saved_seed_lab(state: Path) -> None:
    """R1 and R2 configured as in the seed (R1 with periodic DPD) and saved, so that the
    console boots them (typing the seed on the pty would take a while)."""
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(state)
    try:
        console = LabConsole(Lab.load(reset=True), paging=False)
        configure_seed(console, r1_extra=DPD)
        for device in ("R1", "R2"):
            console.feed(f"@{device}")
            assert "[OK]" in console.feed("write memory")
    finally:
        if old is None:
            del os.environ["XDG_STATE_HOME"]
        else:
            os.environ["XDG_STATE_HOME"] = old


def test_ctrl_c_and_ctrl_shift_6_during_a_ping_and_an_at_wait(tmp_path: Path) -> None:
    """Ctrl-C never ends iosim: during a ping IOS ignores it (the marks go on) and Ctrl-^
    stops the ping; during @wait either stops the clock where it got to. The lab carries on:
    the tunnel still carries a ping afterwards."""
    _saved_seed_lab(tmp_path)
    term = Terminal([], tmp_path)
    try:
        term.expect(r"R1>")
        term.line("enable")
        term.line(PING)  # the tunnel comes up
        term.type("ping 198.51.100.2 repeat 100000\r")
        term.expect(r"timeout is 2 seconds:\n!!!!!")
        term.type("\x03")  # ignored by the ping, as on IOS
        before = term.text.count("!")
        term.settle(0.5)
        assert term.text.count("!") > before + 10  # still pinging
        term.type("\x1e")  # Ctrl-Shift-6
        found = term.expect(r"(!+\.)\nSuccess rate is \d+ percent \((\d+)/(\d+)\).*\nR1#")
        assert int(found.group(2)) == int(found.group(3)) - 1 < 100000  # the . in flight
        for key in ("\x03", "\x1e"):
            term.type("@wait 604800\r")
            term.expect(r"@wait: \d\d:\d\d:\d\d of 168:00:00 \(Ctrl-C stops\)")
            term.type(key)
            term.expect(r"% @wait stopped: [\d.]+ of 604800 seconds waited; the lab's clock "
                        r"stays there\n(?:.*\n)*?R1#")
        # SIGINT from outside is Ctrl-C too: the same wait stops, iosim stays
        term.type("@wait 604800\r")
        term.expect(r"@wait: \d\d:\d\d:\d\d of 168:00:00")
        os.kill(term.pid, signal.SIGINT)
        term.expect(r"% @wait stopped: ")
        term.type("\x03")  # at the prompt in EXEC: a new line, nothing else
        term.type("show version")
        term.settle(0.3)
        os.kill(term.pid, signal.SIGINT)  # at the prompt: Ctrl-C, the line abandoned
        term.settle(0.3)
        term.line("show clock")
        assert "Cisco IOS Software" not in term.text
        term.line(PING)
        assert re.search(r"Success rate is (80|100) percent", term.text[term.mark - 300:])
    finally:
        assert term.close() == 0


def test_a_pc_ping_prints_its_marks_as_they_come_and_ctrl_shift_6_x_stops_it(
        tmp_path: Path) -> None:
    """A PC pings as a router does: the header, then the marks in real time (a long ping
    shows marks long before it could end), Ctrl-^ x stops it with the echo in flight
    counted, and the x is not typed at the next prompt."""
    term = Terminal(["--reset"], tmp_path)
    try:
        term.expect(r"R1>")
        term.line("@PC1", r"PC1>")
        term.type("ping 192.168.1.1 repeat 100000\r")  # 200 s of echoes
        term.expect(r"Sending 100000, 100-byte ICMP Echos to 192.168.1.1, timeout is 2 "
                    r"seconds:\n!!!!!")
        term.type("\x1ex")
        found = term.expect(r"(!+\.)\nSuccess rate is \d+ percent \((\d+)/(\d+)\).*\nPC1>")
        assert int(found.group(2)) == int(found.group(3)) - 1 < 100000  # the . in flight
        term.line("ipconfig", r"PC1>")
        assert "Default gateway.: 192.168.1.1" in term.text
        assert "Unknown command" not in term.text
    finally:
        assert term.close() == 0


def test_a_router_reset_by_at_reset_still_streams_its_ping(tmp_path: Path) -> None:
    """@reset gives the router a new console session: its ping marks still come as they
    happen (the interactive console lends its writer to the session of each line)."""
    term = Terminal(["--reset"], tmp_path)
    try:
        term.expect(r"R1>")
        term.line("@reset R1", r"R1>")
        term.line("enable", r"R1#")
        term.type("ping 198.51.100.2 repeat 100000\r")
        term.expect(r"timeout is 2 seconds:\n\.?!!!!!")
        term.type("\x1ex")
        term.expect(r"Success rate is \d+ percent .*\nR1#")
    finally:
        assert term.close() == 0


def test_a_dpd_message_appears_at_an_idle_prompt_within_a_second(tmp_path: Path) -> None:
    """R2 goes away; R1 sits at its prompt with a half-typed line. DPD declares the peer
    dead while nobody types: the message shows at once above the prompt, which comes back
    with the typed text, and Enter then runs that text."""
    _saved_seed_lab(tmp_path)
    term = Terminal([], tmp_path)
    try:
        term.expect(r"R1>")
        term.line("enable")
        term.line(PING)
        term.line("debug crypto isakmp")
        for command in ("@R2", "enable", "conf t", "interface GigabitEthernet0/0",
                        "shutdown", "end", "@R1"):
            term.line(command)
        term.line("@wait 12")  # the first R-U-THERE went unanswered; the rest in real time
        term.type("show clock\r")
        clock = term.expect(r"\*(\d\d):(\d\d):(\d\d\.\d+) UTC Mon Mar 1 1993\n")
        wall0 = time.monotonic()
        virt0 = int(clock.group(1)) * 3600 + int(clock.group(2)) * 60 + float(clock.group(3))
        term.expect(r"R1#")
        term.type("show vers")  # typed, not entered
        dead = term.expect(r"\*Mar  1 (\d\d):(\d\d):(\d\d\.\d+): ISAKMP:\(\d+\):DPD: peer "
                           r"203\.0\.113\.2 is dead", timeout=30)
        wall1 = time.monotonic()
        virt1 = int(dead.group(1)) * 3600 + int(dead.group(2)) * 60 + float(dead.group(3))
        late = (wall1 - wall0) - (virt1 - virt0)
        assert late < 1.0, late
        # logging synchronous: the line as it was, the messages, then the prompt again
        # with the typed text
        assert re.search(r"R1#show vers\n(?:\*Mar.*\n)+", term.text)
        term.expect(r"R1#show vers")
        term.type("ion\r")
        term.expect(r"Cisco IOS Software")
    finally:
        assert term.close() == 0


@pytest.mark.parametrize("cpr_delay", [0.0, 0.3])
def test_a_line_typed_after_log_output_is_never_lost(tmp_path: Path, cpr_delay: float) -> None:
    """``interface lo8`` prints two log lines; ``end`` typed at once must still end
    configuration mode, whether the terminal answers the cursor position request at once or
    late (as a terminal multiplexer may). (Seen in tmux, the lost ``end`` was tmux's
    ``send-keys end``, which names the End key: the line was never typed.)"""
    term = Terminal(["--reset"], tmp_path, cpr_delay=cpr_delay)
    try:
        term.expect(r"R1>")
        term.line("enable")
        term.line("conf t", r"R1\(config\)#")
        term.type("interface lo8\r")
        term.type("end\r")
        term.expect(r"%LINEPROTO-5-UPDOWN: Line protocol on Interface Loopback8, changed "
                    r"state to up\n(?:.*\n)*?R1\(config-if\)#end(?:.*\n)*?"
                    r".*%SYS-5-CONFIG_I: Configured from console by console\n(?:.*\n)*?R1#")
        term.type("\x1a")  # Ctrl-Z in EXEC: nothing
        term.line("show history")
        assert "  enable\n  conf t\n  show history\n" in term.text
    finally:
        assert term.close() == 0


def test_ctrl_d_does_not_end_the_console(tmp_path: Path) -> None:
    """IOS deletes a character with Ctrl-D; on an empty line iosim says how to leave, and the
    lab (with its unsaved configuration) stays."""
    term = Terminal(["--reset"], tmp_path)
    try:
        term.expect(r"@quit leaves")
        term.expect(r"R1>")
        term.line("enable")
        term.line("conf t", r"R1\(config\)#")
        term.line("hostname KEPT", r"KEPT\(config\)#")
        term.type("\x04")
        term.expect(r"% Ctrl-D does not end a router's console: @quit leaves iosim")
        term.type("do show run | include hostname\r")
        term.expect(r"hostname KEPT")
        term.type("@quit\r")
        term.expect(r"% Unsaved configuration on R1")
    finally:
        assert term.close() == 0
