"""The interactive prompt driven without a terminal (prompt_toolkit pipe input)."""

from __future__ import annotations

import io
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.vt100 import Vt100_Output

from iosim.cli.prompt import run_interactive
from iosim.lab.console import Lab, LabConsole

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from labkit import ISP_ROUTES, run, seeded  # noqa: E402

_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")


def _screen_text(raw: str) -> str:
    """What prompt_toolkit drew, its escape sequences and carriage returns left out."""
    return _CSI.sub("", raw)


def _drive(keys: list[str], tmp_path: Path, pause: float = 0.0,
           console: LabConsole | None = None) -> tuple[str, LabConsole]:
    """Type ``keys`` (a pause between them lets history load as it does for a person);
    returns what the console printed and what prompt_toolkit drew, one after the other."""
    console = console or LabConsole(Lab.load(nvram_dir=tmp_path))
    out = io.StringIO()
    screen = io.StringIO()
    with create_pipe_input() as inp:

        def typist() -> None:
            for k in keys:
                inp.send_text(k)
                time.sleep(pause)
            inp.close()

        t = threading.Thread(target=typist)
        t.start()
        wall = [0.0]

        def sleep(seconds: float) -> None:  # a command's wait passes at once
            wall[0] += seconds

        run_interactive(console, input=inp,
                        output=Vt100_Output(screen, lambda: Size(rows=40, columns=200),
                                            term="xterm"),
                        write=out.write, wall_clock=lambda: wall[0], sleep=sleep)
        t.join()
    return out.getvalue() + "\n=== screen ===\n" + _screen_text(screen.getvalue()), console


def _timed(console: LabConsole, keys: str, at: dict[float, str],
           sleep_log: list[float] | None = None) -> str:
    """Type ``keys`` at once, then each of ``at``'s texts when the (fake) wall clock a
    command waits on passes its time; returns what the console printed."""
    wall = [0.0]
    out: list[str] = []
    with create_pipe_input() as inp:
        later = sorted(at.items())

        def sleep(seconds: float) -> None:
            wall[0] += seconds
            if sleep_log is not None:
                sleep_log.append(seconds)
            while later and wall[0] >= later[0][0]:
                inp.send_text(later.pop(0)[1])

        inp.send_text(keys)
        feeder = _closer(inp, lambda: not later)
        feeder.start()
        run_interactive(console, input=inp, output=DummyOutput(), write=out.append,
                        wall_clock=lambda: wall[0], sleep=sleep)
        feeder.join()
    return "".join(out)


def _closer(inp: PipeInput, done: Callable[[], bool]) -> threading.Thread:
    """Closes the input (Ctrl-D) once every timed key went in and the console idled."""

    def close() -> None:
        deadline = time.monotonic() + 60
        while not done() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        inp.close()

    return threading.Thread(target=close)


def test_question_mark_answers_without_enter_and_keeps_the_line(tmp_path: Path) -> None:
    # (terminal length 0: the list is longer than IOS's 24 lines, which page it)
    text, console = _drive(["enable\r", "terminal length 0\r", "show ip ?", "route\r"],
                           tmp_path)
    assert "R1#show ip ?\n  access-lists         List IP access lists\n" in text
    assert "Gateway of last resort is 198.51.100.2 to network 0.0.0.0" in text
    assert console.session.history[-1] == "show ip route"


def test_tab_completes_a_unique_keyword(tmp_path: Path) -> None:
    text, console = _drive(["en\t\r", "conf\tt\t\r", "hostn\tTABBED\r"], tmp_path)
    assert console.session.router.config.hostname == "TABBED"
    assert console.session.mode == "config"


def test_ctrl_z_leaves_configuration_mode_and_shows_after_the_prompt(tmp_path: Path) -> None:
    text, console = _drive(["enable\r", "configure terminal\r", "interface lo1\r", "\x1a"],
                           tmp_path)
    assert "R1(config-if)#^Z\n" in text  # on the prompt's line, as IOS shows it
    assert "%SYS-5-CONFIG_I: Configured from console by console" in text
    assert console.session.mode == "exec"


def test_ctrl_z_after_a_command_runs_it_then_ends_configuration(tmp_path: Path) -> None:
    text, console = _drive(["enable\r", "conf t\r", "hostname ZED\x1a", "show clock\r"],
                           tmp_path)
    assert "R1(config)#hostname ZED^Z\n" in text
    assert console.session.router.config.hostname == "ZED"
    assert console.session.mode == "exec"
    assert console.session.histories["config"] == ["hostname ZED"]


def test_ctrl_z_in_exec_does_nothing(tmp_path: Path) -> None:
    text, console = _drive(["enable\r", "\x1a", "show clock\r"], tmp_path)
    assert "^Z" not in text and "CONFIG_I" not in text
    assert console.session.histories["exec"] == ["enable", "show clock"]


def test_ctrl_c_abandons_the_line_in_exec_and_ends_configuration_mode(tmp_path: Path) -> None:
    text, console = _drive(["enable\r", "show version\x03", "conf t\r", "hostname X\x03",
                            "show clock\r"], tmp_path)
    assert "Cisco IOS Software" not in text  # the abandoned line did not run
    assert "R1(config)#hostname X^C\n" in text  # config mode shows ^C, as ^Z
    assert console.session.router.config.hostname == "R1"  # ...and drops the line
    assert "%SYS-5-CONFIG_I: Configured from console by console" in text
    assert console.session.mode == "exec"
    assert console.session.histories["exec"] == ["enable", "conf t", "show clock"]


def test_ctrl_c_drops_a_question_the_router_asked(tmp_path: Path) -> None:
    """The extended ping's questions and reload's confirm: Ctrl-C ends the dialog, and
    nothing is pinged or reloaded."""
    text, console = _drive(["enable\r", "ping\r", "\r", "\x03", "show clock\r",
                            "conf t\r", "hostname UNSAVED\r", "end\r", "reload\r", "\x03",
                            "show clock\r"], tmp_path)
    assert "Sending" not in text and "Target IP address" in text
    assert "restarted by reload" not in text
    assert console.session.pending is None
    assert console.session.router.config.hostname == "UNSAVED"  # not reloaded
    assert text.count("*00:00:00.000 UTC Mon Mar 1 1993") == 2  # both show clocks ran


def test_each_mode_keeps_its_own_history(tmp_path: Path) -> None:
    """Up in configuration mode recalls the configuration lines, in EXEC the EXEC lines;
    show history lists the mode's own."""
    text, console = _drive(["enable\r", "show clock\r", "conf t\r", "hostname H1\r",
                            "\x1b[A", "\r", "end\r", "\x1b[A", "\r", "do show history\r",
                            "end\r", "show history\r"], tmp_path, pause=0.3)
    session = console.session
    assert session.histories["config"] == ["hostname H1", "hostname H1", "end",
                                           "do show history", "end"]
    # Up in EXEC recalled "conf t", not the configuration mode's "end"
    assert session.histories["exec"] == ["enable", "show clock", "conf t", "conf t",
                                         "show history"]
    assert "  enable\n  show clock\n  conf t\n  conf t\n  show history\n" in text


def test_up_arrow_recalls_history(tmp_path: Path) -> None:
    _, console = _drive(["enable\r", "show clock\r", "\x1b[A", "\r"], tmp_path, pause=0.3)
    assert console.session.history[-2:] == ["show clock", "show clock"]


def test_more_takes_a_single_key(tmp_path: Path) -> None:
    text, console = _drive(["enable\r", "terminal length 5\r", "show running-config\r", "q",
                            "show clock\r"], tmp_path)
    assert " --More-- " not in text  # the pager prompt is drawn by prompt_toolkit, not written
    assert "Building configuration..." in text
    assert "line vty 0 4" not in text  # 'q' stopped the pager
    assert console.session.history[-1] == "show clock"


def test_a_long_help_list_is_paged_and_the_line_typed_comes_back(tmp_path: Path) -> None:
    """``show ?`` lists more than a screen: --More-- after the first page, as IOS does, and
    when the list ends the prompt comes back with ``show `` typed, ready to go on."""
    text, console = _drive(["enable\r", "terminal length 10\r", "show ?", " ", "q",
                            "ip interface brief\r"], tmp_path, pause=0.2)
    listing = text.split("=== screen ===")[0]
    assert "  aaa " in listing and "  version " not in listing  # two pages, then 'q'
    assert console.session.history[-1] == "show ip interface brief"
    assert "GigabitEthernet0/0" in listing and console.session.pending is None


def test_ctrl_c_at_more_stops_the_output(tmp_path: Path) -> None:
    text, console = _drive(["enable\r", "terminal length 5\r", "show running-config\r",
                            "\x03", "show clock\r"], tmp_path)
    assert "Building configuration..." in text and "line vty 0 4" not in text
    assert console.session.pending is None
    assert console.session.history[-1] == "show clock"


@pytest.mark.parametrize("key", ["\x15", "\x17", "\x0b", "\x01", "\x05", "\x1b[A"])
def test_an_editing_key_at_more_stops_the_output_like_any_other(tmp_path: Path,
                                                                  key: str) -> None:
    """IOS ends --More-- on any key but space and Return; an editing key (Ctrl-U, Ctrl-W,
    an arrow) must not be eaten by the line editor and take the next key with it."""
    text, console = _drive(["enable\r", "terminal length 5\r", "show running-config\r",
                            key, "show clock\r"], tmp_path, pause=0.2)
    assert "Building configuration..." in text and "line vty 0 4" not in text
    assert console.session.history[-1] == "show clock"


def test_interactive_ping_waits_for_real_time_and_prints_as_it_goes(tmp_path: Path) -> None:
    console = LabConsole(Lab.load(nvram_dir=tmp_path))
    wall = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        wall[0] += seconds

    out: list[str] = []
    with create_pipe_input() as inp:
        inp.send_text("enable\rclear arp-cache\rping 198.51.100.2\r")
        inp.close()
        run_interactive(console, input=inp, output=DummyOutput(), write=out.append,
                        wall_clock=lambda: wall[0], sleep=sleep)
    # the header, then each mark on its own write, then the summary
    marks = [w for w in out if w in ("!", ".")]
    assert marks == [".", "!", "!", "!", "!"]
    assert out[out.index(".") - 1].startswith("Type escape sequence to abort.")
    # the first echo's 2 s timeout and four 10 ms round trips passed on the wall clock
    assert abs(sum(slept) - 2.04) < 0.01
    assert console.lab.clock.now == wall[0]


def test_ctrl_shift_6_aborts_a_ping_as_ios_does_and_ctrl_c_does_not(tmp_path: Path) -> None:
    """Ctrl-C during a ping is ignored (IOS's escape is Ctrl-^); Ctrl-^ stops it: the echo
    in flight is a timeout and counts as sent; the x of Ctrl-^ x is not typed, and what is
    typed after it waits for the next prompt."""
    console = LabConsole(Lab.load(nvram_dir=tmp_path))
    out = _timed(console, "enable\rping 198.51.100.2 repeat 1000\r",
                 {0.5: "\x03", 1.0: "\x1exshow clock\r"})
    summary = re.search(r"\n([!.\n]+)\nSuccess rate is (\d+) percent \((\d+)/(\d+)\)", out)
    assert summary is not None, out
    lines, _, received, sent = summary.groups()
    assert all(len(line) == 70 for line in lines.split("\n")[:-1])  # 70 marks a line
    marks = lines.replace("\n", "")
    assert marks.endswith("!.") and marks.count(".") == 1  # the echo in flight
    assert int(sent) == len(marks) < 1000 and int(received) == len(marks) - 1
    assert console.lab.clock.now < 1.2  # stopped at the escape, not at Ctrl-C
    assert "UTC Mon Mar 1 1993" in out.split("Success rate")[1]  # show clock, not xshow
    assert console.session.histories["exec"][-1] == "show clock"


def test_ctrl_shift_6_aborts_a_traceroute(tmp_path: Path) -> None:
    """Hop by hop, probe by probe as IOS prints them; the escape ends the partial hop's
    line (IOS: ``  3  *  *  * `` then ``  4 ``) and the prompt comes back."""
    console = LabConsole(Lab.load(nvram_dir=tmp_path))
    run(console, ISP_ROUTES)
    out = _timed(console, "enable\rtraceroute 10.0.2.99\r", {10.0: "\x1e"})
    out = out.removeprefix(console.greeting())
    assert out.startswith("Type escape sequence to abort.\nTracing the route to 10.0.2.99\n"
                          "VRF info: (vrf in name/id, vrf out name/id)\n"
                          "  1 198.51.100.2 10 msec 10 msec 10 msec\n"
                          "  2 203.0.113.2 20 msec 20 msec 20 msec\n"
                          "  3  *  *  * \n"
                          "  4 \n"), out
    assert "  5 " not in out and console.prompt == "R1#"


def test_at_wait_fast_forwards_the_clock_and_shows_messages_as_they_happen(
        tmp_path: Path) -> None:
    """@wait at the prompt runs the clock ahead without waiting for the wall: the DPD
    messages appear in order with their times, and the clock follows the wall from there."""
    console = seeded(tmp_path, r1_extra="crypto isakmp keepalive 10 2 periodic\n")
    console.feed("debug crypto isakmp")
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    start = console.lab.clock.now
    slept: list[float] = []
    out = _timed(console, "@wait 3600\rshow clock\r", {}, slept)
    assert console.lab.clock.now >= start + 3600
    assert sum(slept) < 1  # fast-forwarded, not waited
    stamps = re.findall(r"\*Mar  1 (\d\d):(\d\d):(\d\d\.\d+): ISAKMP:\(1001\):Sending "
                        r"NOTIFY DPD/R_U_THERE protocol 1\n", out)
    times = [int(h) * 3600 + int(m) * 60 + float(sec) for h, m, sec in stamps]
    assert len(times) > 300 and times == sorted(times)
    assert "\r@wait: " in out and "of 01:00:00 (Ctrl-C stops)" in out  # the progress line


def test_ctrl_c_stops_at_wait_where_it_got_to(tmp_path: Path) -> None:
    console = seeded(tmp_path, r1_extra="crypto isakmp keepalive 10 2 periodic\n")
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    start = console.lab.clock.now
    wall = [0.0]
    polls = [0]
    out: list[str] = []
    with create_pipe_input() as inp:

        def wall_clock() -> float:
            wall[0] += 0.01  # each look at the wall: 10 ms of work went by
            if console.lab.clock.now > start + 18000 and not polls[0]:
                polls[0] = 1  # five hours into the wait, the user presses Ctrl-C
                inp.send_text("\x03")
            return wall[0]

        def sleep(seconds: float) -> None:
            wall[0] += seconds

        inp.send_text("@wait 604800\r")
        feeder = _closer(inp, lambda: bool(polls[0]))
        feeder.start()
        run_interactive(console, input=inp, output=DummyOutput(), write=out.append,
                        wall_clock=wall_clock, sleep=sleep)
        feeder.join()
    text = "".join(out)
    stopped = re.search(r"% @wait stopped: ([\d.]+) of 604800 seconds waited; the lab's "
                        r"clock stays there\n", text)
    assert stopped is not None, text[-500:]
    assert start + 18000 < console.lab.clock.now < start + 19000
    assert console.lab.clock.now - start - float(stopped.group(1)) < 2  # ...and stays there
    assert "\r\x1b[K" in text  # the progress line was erased


def test_after_check_jumps_virtual_time_a_ping_does_not_wait_for_the_jump(
        tmp_path: Path) -> None:
    """@check runs its probes ahead of the wall clock; the prompt then takes that instant
    as now, so the next ping waits only its own round trips."""
    console = LabConsole(Lab.load(nvram_dir=tmp_path))
    wall = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        wall[0] += seconds

    with create_pipe_input() as inp:
        inp.send_text("@check\renable\rping 198.51.100.2\r")
        inp.close()
        run_interactive(console, input=inp, output=DummyOutput(), write=lambda s: None,
                        wall_clock=lambda: wall[0], sleep=sleep)
    assert console.lab.clock.now > 20  # the grader's failing pings took virtual seconds
    assert sum(slept) < 0.1  # ...which the ping after them did not wait for again


def test_an_exam_shows_its_countdown_and_hands_in_when_time_is_up(tmp_path: Path) -> None:
    """The bottom line counts down; when the time is up the prompt ends by itself (the
    student typed nothing more) and the lab is graded."""
    from iosim.lab.exam import Exam

    now = [1_800_000_000.0]
    exam = Exam(10, tmp_path / "reports", time_source=lambda: now[0])
    console = LabConsole(Lab.load(nvram_dir=tmp_path / "nv"), exam=exam)
    out = io.StringIO()
    done = threading.Event()
    with create_pipe_input() as inp:

        def student() -> None:
            inp.send_text("enable\r")
            time.sleep(0.5)
            now[0] += 601  # ten minutes and a second later, the student still thinking
            done.wait(10)
            inp.close()

        t = threading.Thread(target=student)
        t.start()
        run_interactive(console, input=inp, output=DummyOutput(), write=out.write,
                        wall_clock=lambda: 0.0, sleep=lambda s: None)
        done.set()
        t.join()
    assert "Exam handed in (time is up)." in out.getvalue()
    assert console.finished and len(list((tmp_path / "reports").glob("*.json"))) == 1
    from iosim.cli.prompt import _countdown

    assert _countdown(Exam(10, tmp_path, time_source=lambda: 1_800_000_000.0)) == (
        " Exam: 10:00 left of 10 minutes   @submit hands the lab in ")
