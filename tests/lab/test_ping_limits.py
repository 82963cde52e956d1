"""Ping at IOS's limits: the 16-bit sequence number wraps, ``repeat 2147483647`` starts at
once and keeps nothing per echo, and an interrupt stops it with the echoes it sent."""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

from labkit import captured_ipv4, interrupt_after
from labkit import console as _console

from iosim.clock import VirtualClock
from iosim.lab.console import LabConsole
from iosim.net.packets import IcmpEcho, IcmpMessage, pull_icmp
from iosim.net.ping import run_ping
from iosim.net.stack import IcmpListener

PEER = 0xC6336402  # 198.51.100.2, the ISP: answers R1's echoes
SILENT = 0x0A00020A  # 10.0.2.10: the ISP has no route back, nothing answers


@dataclass
class EchoingStack:
    """A stack that answers every echo at once and remembers the sequence numbers sent."""

    clock: VirtualClock
    icmp_listeners: list[IcmpListener] = field(default_factory=list)
    sequences: list[int] = field(default_factory=list)

    def send(self, dst: int, protocol: int, payload: bytes, **_: object) -> bool:
        echo = pull_icmp(payload)
        assert isinstance(echo, IcmpEcho)
        self.sequences.append(echo.sequence_number)
        reply: IcmpMessage = IcmpEcho(echo.identifier, echo.sequence_number, echo.data, True)
        self.clock.call_later(0.001, self._deliver, dst, reply)
        return True

    def _deliver(self, src: int, message: IcmpMessage) -> None:
        for listener in list(self.icmp_listeners):
            listener(src, message, self.clock.now)


def test_the_sequence_number_wraps_at_16_bits_and_late_replies_do_not_count() -> None:
    clock = VirtualClock()
    stack = EchoingStack(clock)
    outcome = run_ping(stack, clock, PEER, repeat=65538, timeout=1.0,  # type: ignore[arg-type]
                       keep_marks=False)
    assert stack.sequences[:2] == [0, 1]
    assert stack.sequences[65534:] == [65534, 65535, 0, 1]  # echo 65536 is sequence 0 again
    assert (outcome.sent, outcome.received) == (65538, 65538)
    assert outcome.round_trip() == (1, 1, 1)
    assert outcome.kept == [] and outcome.rtts == []  # nothing kept per echo when asked not to


def test_ping_repeat_past_65535_on_the_console(tmp_path: Path) -> None:
    """The line that used to end the console with a traceback (sequence 65536); R1 pings
    its own address, which answers without a trip over the wire."""
    console = _console(tmp_path)
    out = console.feed("ping 198.51.100.1 repeat 65537")
    assert out.splitlines()[-1] == ("Success rate is 100 percent (65537/65537), "
                                    "round-trip min/avg/max = 1/1/1 ms")
    assert console.prompt == "R1#"


def _dialog(console: LabConsole, repeat: str, *, sweep: bool = False) -> list[str]:
    answers = ["ping", "", "10.0.2.10", repeat, "", "", ""]
    answers += ["y", "36", "18024", ""] if sweep else ["n"]
    for line in answers[:-1]:
        console.feed(line)
    return answers


def test_a_dialog_ping_of_2147483647_echoes_prints_at_once_and_keeps_nothing_per_echo(
        tmp_path: Path) -> None:
    console = _console(tmp_path)
    session = console.session
    clock = console.lab.clock
    shown: list[tuple[float, str]] = []
    session.stream = lambda text: shown.append((clock.now, text))  # an interactive console
    last = _dialog(console, "2147483647")[-1]
    interrupt_after(console, 5.0)  # Ctrl-C five seconds in
    start = clock.now
    tracemalloc.start()
    try:
        out = console.feed(last)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        clock.pacer = None
    # the header went out before the first echo left, each mark as its echo was answered
    # (the ISP's unreachables, rate-limited as IOS limits them) or timed out
    assert shown[0] == (start, "Type escape sequence to abort.\nSending 2147483647, "
                               "100-byte ICMP Echos to 10.0.2.10, timeout is 2 seconds:\n")
    assert [(round(when - start, 3), text) for when, text in shown[1:]] == [
        (0.01, "U"), (2.01, "."), (2.02, "U"), (4.02, "."), (4.03, "U"), (4.035, ".")]
    # the echo in flight when the user interrupted is a timeout, and counts, as on IOS
    assert out == "\nSuccess rate is 0 percent (0/6)\n"
    assert peak < 1_000_000  # a list of 2**31 sizes would be 16 GiB
    assert console.prompt == "R1#"


def test_a_sweep_of_2147483647_rounds_is_made_as_it_goes(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.lab.fabric.capture()
    last = _dialog(console, "2147483647", sweep=True)[-1]
    interrupt_after(console, 5.0)
    tracemalloc.start()
    try:
        out = console.feed(last)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        console.lab.clock.pacer = None
    lines = out.splitlines()
    rounds, sizes = 2147483647, 18024 - 36 + 1
    assert lines[1] == (f"Sending {rounds * sizes}, [36..18024]-byte ICMP Echos to 10.0.2.10, "
                        "timeout is 2 seconds:")
    assert lines[2:] == ["U.U.U.", "Success rate is 0 percent (0/6)"]
    assert peak < 1_000_000
    echoes = [p for _, p in captured_ipv4(console, "R1") if p.dst == SILENT]
    # one size after the other; the sixth echo was in flight when the user stopped it (it
    # counts as a timeout, as on IOS)
    assert [len(p.payload) + 20 for p in echoes] == [36, 37, 38, 39, 40, 41]


def test_a_one_line_ping_interrupted_reports_what_it_sent(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("ping 198.51.100.2 repeat 3")  # ARP first
    interrupt_after(console, 0.035)  # three answered echoes of 10 ms, stopped in the fourth
    try:
        out = console.feed("ping 198.51.100.2 repeat 1000000")
    finally:
        console.lab.clock.pacer = None
    # the fourth echo, in flight, is given up as a timeout and counted (IOS: "!!!!.",
    # "Success rate is 99 percent (344/346)" after Ctrl-Shift-6)
    assert out.splitlines()[-2:] == [
        "!!!.", "Success rate is 75 percent (3/4), round-trip min/avg/max = 10/10/10 ms"]
    assert "Success rate is 100 percent (5/5)" in console.feed("ping 198.51.100.2")
