"""A PC's ping prints as a router's does: on an interactive console the header goes out
before the first echo leaves, each mark as its echo is answered or times out, and the
summary comes last; a script gets the same text at once."""

from __future__ import annotations

from pathlib import Path

from labkit import interrupt_after
from labkit import marks as _marks

from iosim.lab.console import Lab, LabConsole

GATEWAY = "192.168.1.1"  # R1, on PC1's LAN: answers
SILENT = "10.0.2.10"  # PC2: the ISP has no route back to PC1, nothing answers


def _header(target: str, repeat: int) -> str:
    return ("Type escape sequence to abort.\n"
            f"Sending {repeat}, 100-byte ICMP Echos to {target}, timeout is 2 seconds:\n")


def _pc1(tmp_path: Path) -> LabConsole:
    console = LabConsole(Lab.load(nvram_dir=tmp_path), paging=False)
    assert console.feed("@PC1") == ""
    return console


def _streamed(console: LabConsole, line: str) -> tuple[list[tuple[float, str]], str]:
    """Feed ``line`` with the PC's output streamed as on an interactive console: each
    piece written with the virtual time (from the start) it was written at, and what the
    command returned at the end."""
    clock = console.lab.clock
    start = clock.now
    shown: list[tuple[float, str]] = []
    session = console.session
    session.stream = lambda text: shown.append((round(clock.now - start, 3), text))
    try:
        out = console.feed(line)
    finally:
        session.stream = None
    return shown, out


def test_a_pc_ping_that_is_answered_streams_its_header_then_each_mark(
        tmp_path: Path) -> None:
    shown, out = _streamed(_pc1(tmp_path), f"ping {GATEWAY} repeat 3")
    assert shown == [(0.0, _header(GATEWAY, 3)), (0.002, "!"), (0.004, "!"), (0.006, "!")]
    assert out == "\nSuccess rate is 100 percent (3/3), round-trip min/avg/max = 2/2/2 ms\n"


def test_a_pc_ping_that_times_out_streams_each_dot_when_its_echo_times_out(
        tmp_path: Path) -> None:
    shown, out = _streamed(_pc1(tmp_path), f"ping {SILENT} repeat 3")
    assert shown == [(0.0, _header(SILENT, 3)), (2.0, "."), (4.0, "."), (6.0, ".")]
    assert out == "\nSuccess rate is 0 percent (0/3)\n"


def test_a_script_gets_the_same_text_at_once_seventy_marks_to_a_line(tmp_path: Path) -> None:
    console = _pc1(tmp_path)
    shown, out = _streamed(console, f"ping {GATEWAY} repeat 100")
    streamed = "".join(text for _, text in shown) + out
    assert shown[71] == (0.142, "\n") and shown[72] == (0.142, "!")  # a new line of marks
    at_once = console.feed(f"ping {GATEWAY} repeat 100")
    assert at_once == streamed
    assert at_once.startswith(_header(GATEWAY, 100))
    assert _marks(at_once) == ["!" * 70, "!" * 30]
    assert at_once.endswith("\nSuccess rate is 100 percent (100/100), "
                            "round-trip min/avg/max = 2/2/2 ms\n")


def test_the_escape_sequence_stops_a_pc_ping_with_the_echo_in_flight_counted(
        tmp_path: Path) -> None:
    console = _pc1(tmp_path)
    interrupt_after(console, 5.0)
    try:
        shown, out = _streamed(console, f"ping {SILENT} repeat 100000")
    finally:
        console.lab.clock.pacer = None
    # the third echo was in flight when the user stopped the ping: a timeout, at once
    assert shown[:3] == [(0.0, _header(SILENT, 100000)), (2.0, "."), (4.0, ".")]
    assert shown[3][1] == "." and 4.0 < shown[3][0] <= 5.0 and len(shown) == 4
    assert out == "\nSuccess rate is 0 percent (0/3)\n"
    assert console.prompt == "PC1>"
    assert _marks(console.feed(f"ping {GATEWAY}")) == ["!!!!!"]  # the PC carries on


def test_a_router_message_during_a_pc_ping_waits_for_its_router(tmp_path: Path) -> None:
    """A PC logs nothing; what a router logs meanwhile is not the PC's to print: it waits
    in the router's buffer and shows when the console attaches to it."""
    console = _pc1(tmp_path)
    r1 = console.lab.routers["R1"]
    console.lab.clock.call_later(3.0, r1.log, "%SYS-5-CONFIG_I: Configured from console")
    shown, out = _streamed(console, f"ping {SILENT} repeat 3")
    assert shown == [(0.0, _header(SILENT, 3)), (2.0, "."), (4.0, "."), (6.0, ".")]
    assert out == "\nSuccess rate is 0 percent (0/3)\n"
    assert console.feed("@R1") == "*Mar  1 00:00:03.000: %SYS-5-CONFIG_I: Configured from console\n"
