"""The console's lab lines (@task @check @reset @topology @solution) and exam mode."""

from __future__ import annotations

import io
import json
from pathlib import Path

from labkit import configure_seed

from iosim.lab.console import Lab, LabConsole, run_transcript
from iosim.lab.exam import Exam


def _console(tmp_path: Path, **kwargs: object) -> LabConsole:
    return LabConsole(Lab.load("site-to-site", nvram_dir=tmp_path / "nv"), paging=False,
                      **kwargs)  # type: ignore[arg-type]


def test_task_and_topology_describe_the_lab(tmp_path: Path) -> None:
    c = _console(tmp_path)
    task = c.feed("@task")
    assert task.startswith("Site-to-site IPsec VPN (the reference lab)  [build, easy, "
                           "about 30 minutes]\n")
    assert "The pre-shared key is  SECRETKEY123  for the peer's public address." in task
    assert "  - Phase 1 between R1 and R2 uses AES-256, SHA-256 and DH group 14 (15 points)" \
        in task
    topo = c.feed("@topology")
    assert "| PC1 |-------|  R1  |" in topo
    assert "link 1  R1 GigabitEthernet0/0   198.51.100.1/30\n" in topo
    assert "        ISP GigabitEthernet0/0  198.51.100.2/30\n" in topo
    # addresses are live: a change on R1 shows
    for line in ("enable", "conf t", "int g0/0", "ip address 198.51.100.5 255.255.255.252",
                 "end"):
        c.feed(line)
    assert "R1 GigabitEthernet0/0   198.51.100.5/30" in c.feed("@topology")


def test_check_grades_the_live_lab(tmp_path: Path) -> None:
    c = _console(tmp_path)
    before = c.feed("@check")
    assert before.startswith("Score: 0% (0 of 100 points)\n")
    assert before.count("[FAIL]") == 10 and "hint: Concepts 7.1" in before
    c.feed("enable")
    configure_seed(c)
    after = c.feed("@check")
    assert after.startswith("Score: 100% (100 of 100 points)  -- every objective met\n")
    # grading sent real traffic through the student's tunnel: the counters show it
    c.feed("@R1")
    assert "#pkts encaps: " in c.feed("show crypto ipsec sa")


def test_reset_puts_devices_back_to_the_lab(tmp_path: Path) -> None:
    c = _console(tmp_path)
    c.feed("enable")
    configure_seed(c)
    c.feed("@R1")
    c.feed("write memory")
    assert "Reset R1 to the lab's initial configuration (saved startup-configs erased).\n" == c.feed("@reset R1")
    assert c.prompt == "R1>"
    c.feed("enable")
    assert "crypto map" not in c.feed("show running-config")
    assert c.lab.routers["R1"].nvram.read() is None  # the saved config is gone too
    c.feed("@R2")
    c.feed("enable")
    assert "crypto map MYMAP" in c.feed("show running-config")  # R2 kept its config
    assert c.feed("@reset") == ("Reset every device to the lab's initial configuration (saved "
                                "startup-configs erased).\n")
    c.feed("enable")
    assert "crypto map" not in c.feed("show running-config")
    assert c.feed("@reset R9") == "% No device 'R9' in this lab (see @devices)\n"


def test_solution_prints_what_to_type(tmp_path: Path) -> None:
    c = _console(tmp_path)
    out = c.feed("@solution R2")
    assert out.startswith("! R2: in global configuration mode\ncrypto isakmp policy 10\n")
    assert "crypto isakmp key SECRETKEY123 address 198.51.100.1" in out
    assert "! R1:" in c.feed("@solution") and "! R2:" in c.feed("@solution")
    assert c.feed("@solution PC1").startswith("% No solution for 'PC1'")


def test_a_sandbox_lab_has_nothing_to_check(tmp_path: Path) -> None:
    c = LabConsole(Lab.load("hub-and-spoke", nvram_dir=tmp_path), paging=False)
    assert c.feed("@check") == "% This lab has no objectives to check (it is a sandbox).\n"
    assert c.feed("@solution") == "% This lab has no solution configuration.\n"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_exam_mode_closes_hints_and_hands_in_a_report(tmp_path: Path) -> None:
    clock = FakeTime()
    exam = Exam(45, tmp_path / "reports", time_source=clock)
    c = _console(tmp_path, exam=exam)
    assert c.feed("@check").startswith("% @check is not available in exam mode")
    assert c.feed("@solution").startswith("% @solution is not available in exam mode")
    # the task's last line says what an exam offers, not the @check it has closed
    task = c.feed("@task")
    assert "Type @check" not in task
    assert task.endswith("Exam: @check is closed (where the task says @check, verify with pings "
                         "and show\ncommands); @time shows the time left, @submit hands the "
                         "lab in.\n")
    assert _console(tmp_path / "practice").feed("@task").endswith(
        "\nType @check to see how you are doing.\n")
    assert c.feed("@time") == "Exam: 45:00 left of 45 minutes\n"
    clock.now += 61
    assert c.feed("@time") == "Exam: 43:59 left of 45 minutes\n"
    c.feed("enable")
    configure_seed(c)
    clock.now += 600
    out = c.feed("@submit")
    assert "Exam handed in (submitted)." in out and "Score: 100%" in out
    assert "hint:" not in out
    assert c.finished and c.feed("show version") == ""
    report = json.loads((tmp_path / "reports" / "site-to-site-20270115-080000.json")
                        .read_text())
    assert report["grade"]["score"] == 100 and report["time_taken_seconds"] == 661
    assert report["reason"] == "submitted" and report["time_limit_seconds"] == 2700
    text = (tmp_path / "reports" / "site-to-site-20270115-080000.txt").read_text()
    assert "Time taken: 11 min 1 s of 45 min" in text


def test_an_exam_ends_when_time_is_up_and_at_end_of_input(tmp_path: Path) -> None:
    clock = FakeTime()
    c = _console(tmp_path, exam=Exam(1, tmp_path / "r1", time_source=clock))
    c.feed("enable")
    clock.now += 60
    out = c.feed("show clock")
    assert "Exam handed in (time is up)." in out and "Score: 0%" in out
    report = json.loads(next((tmp_path / "r1").glob("*.json")).read_text())
    assert report["time_taken_seconds"] == 60
    # piped: the end of the script hands the exam in
    c2 = _console(tmp_path / "b", exam=Exam(30, tmp_path / "r2", time_source=FakeTime()))
    out2 = io.StringIO()
    run_transcript(c2, ["enable\n", "show clock\n"], out2)
    assert "Exam handed in (end of input)." in out2.getvalue()
    assert len(list((tmp_path / "r2").glob("*"))) == 2


def test_a_report_that_cannot_be_written_is_said_and_the_grade_shown(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    c = _console(tmp_path, exam=Exam(30, blocker / "reports", time_source=FakeTime()))
    out = c.feed("@submit")
    assert "Score: 0%" in out and "% Cannot write the exam report into" in out


def test_pending_logs_of_other_devices_are_bounded(tmp_path: Path) -> None:
    """Messages of a device the console is not attached to wait in a bounded buffer (256
    KiB, or the router's logging buffer if larger): the newest are kept."""
    c = _console(tmp_path)
    r2 = c.lab.routers["R2"]
    for i in range(20_000):
        r2.log(f"%SYS-5-CONFIG_I: message {i}")
    pending = c._logs["R2"]
    assert 256 * 1024 - 100 <= pending.size <= 256 * 1024 and len(pending.lines) < 10_000
    shown = c.feed("@R2")
    assert "message 19999\n" in shown and "message 0\n" not in shown


def test_a_wait_beyond_what_the_clock_holds_is_refused_and_changes_nothing(
        tmp_path: Path) -> None:
    c = _console(tmp_path)
    before = c.lab.clock.now
    for text in ("1e12", "31536001", "1e400"):
        assert c.feed(f"@wait {text}") == (
            f"% @wait {text}: at most 31536000 seconds (one year) at a time; the lab's "
            "clock is unchanged\n")
    for text in ("inf", "-inf", "nan", "-1", "x", ""):
        assert c.feed(f"@wait {text}") == "% @wait needs a number of seconds, e.g. @wait 30\n"
    assert c.lab.clock.now == before
    assert c.feed("@wait 31536000") == ""  # a whole year, with DPD-free routers: instant
    assert c.lab.clock.now == before + 31536000


def test_an_exam_whose_terminal_closes_is_handed_in(tmp_path: Path) -> None:
    """SIGHUP (the window closed, the SSH link dropped) hands the exam in, as the end of
    input does: the report is written."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    proc = subprocess.Popen([sys.executable, "-m", "iosim", "console", "site-to-site",
                             "--exam", "30", "--report", str(tmp_path / "r")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdin is not None
        proc.stdin.write("enable\n")
        proc.stdin.flush()
        time.sleep(3)  # booted and waiting for the next line
        proc.send_signal(signal.SIGHUP)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in err, err
    assert "Exam handed in (the console was closed)." in out
    reports = list((tmp_path / "r").glob("site-to-site-*.json"))
    assert len(reports) == 1
    assert json.loads(reports[0].read_text())["reason"] == "the console was closed"


def test_exam_reports_of_a_class_never_overwrite_each_other(tmp_path: Path) -> None:
    """A class starts together and hands in into one shared directory: reports started in
    the same second keep apart, and each file name says whose lab (the seed) it is."""
    shared = tmp_path / "class"
    paths = []
    for i, seed in enumerate(["alice", "alice", "", "", "../../bob x"]):
        lab = Lab.load("site-to-site", seed=seed, nvram_dir=tmp_path / f"nv{i}")
        c = LabConsole(lab, paging=False, exam=Exam(30, shared, time_source=FakeTime()))
        c.feed("@submit")
        paths += c.exam.report_paths if c.exam is not None else []
    names = sorted(p.name for p in paths)
    assert len(set(names)) == 10 and all(p.parent == shared for p in paths)
    assert names[:4] == ["site-to-site-20270115-080000-2.json", "site-to-site-20270115-080000-2.txt",
                         "site-to-site-20270115-080000.json", "site-to-site-20270115-080000.txt"]
    assert "site-to-site-alice-20270115-080000.json" in names
    assert "site-to-site-alice-20270115-080000-2.json" in names
    assert "site-to-site-bob_x-20270115-080000.json" in names
    seeds = {json.loads(p.read_text())["seed"] for p in paths if p.suffix == ".json"}
    assert seeds == {"alice", "", "../../bob x"}
    assert sorted(p.name for p in shared.iterdir()) == names  # nothing else left behind
