"""The interactive prompt driven without a terminal (prompt_toolkit pipe input)."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from iosim.cli.prompt import run_interactive
from iosim.lab.console import Lab, LabConsole


def _drive(keys: list[str], tmp_path: Path, pause: float = 0.0) -> tuple[str, LabConsole]:
    """Type ``keys`` (a pause between them lets history load as it does for a person)."""
    console = LabConsole(Lab.load(nvram_dir=tmp_path))
    out = io.StringIO()
    with create_pipe_input() as inp:

        def typist() -> None:
            for k in keys:
                inp.send_text(k)
                time.sleep(pause)
            inp.close()

        t = threading.Thread(target=typist)
        t.start()
        run_interactive(console, input=inp, output=DummyOutput(), write=out.write,
                        wall_clock=lambda: 0.0, sleep=lambda s: None)
        t.join()
    return out.getvalue(), console


def test_question_mark_answers_without_enter_and_keeps_the_line(tmp_path: Path) -> None:
    text, console = _drive(["enable\r", "show ip ?", "route\r"], tmp_path)
    assert "R1#show ip ?\n  access-lists  List IP access lists\n" in text
    assert "Gateway of last resort is 198.51.100.2 to network 0.0.0.0" in text
    assert console.session.history[-1] == "show ip route"


def test_tab_completes_a_unique_keyword(tmp_path: Path) -> None:
    text, console = _drive(["en\t\r", "conf\tt\t\r", "hostn\tTABBED\r"], tmp_path)
    assert console.session.router.config.hostname == "TABBED"
    assert console.session.mode == "config"


def test_ctrl_z_leaves_configuration_mode(tmp_path: Path) -> None:
    text, console = _drive(["enable\r", "configure terminal\r", "interface lo1\r", "\x1a"],
                           tmp_path)
    assert "^Z" in text
    assert "%SYS-5-CONFIG_I: Configured from console by console" in text
    assert console.session.mode == "exec"


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


def test_ctrl_c_while_a_command_waits_stops_that_command_only(tmp_path: Path) -> None:
    """At the prompt virtual time follows the wall clock, so ``@wait 3600`` really waits;
    Ctrl-C (KeyboardInterrupt out of the wait) stops it and the console carries on."""
    console = LabConsole(Lab.load(nvram_dir=tmp_path))
    out = io.StringIO()

    def interrupted_sleep(seconds: float) -> None:
        raise KeyboardInterrupt

    with create_pipe_input() as inp:
        inp.send_text("enable\r@wait 3600\rshow clock\r")
        inp.close()
        status = run_interactive(console, input=inp, output=DummyOutput(), write=out.write,
                                 wall_clock=lambda: 0.0, sleep=interrupted_sleep)
    assert status == 0
    assert "*00:00:00.000 UTC Mon Mar 1 1993" in out.getvalue()  # show clock ran
    assert console.session.mode == "exec"


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
