"""The live questions, answered by reading the output they show: in process and through a pipe.

A student (``quiz_reader``) reads each question's text as printed (the ping marks, the
``#pkts encaps`` line, the state column, R2's debug) and answers from it; the quiz must mark
every such answer right, and every answer the output shows to be wrong, wrong.
"""

from __future__ import annotations

import io
import os
import random
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from quiz_reader import answer, wrong

from iosim.quiz.lab_run import Scenario, boot
from iosim.quiz.live_faults import FAULTS, diagnose, observe
from iosim.quiz.live_output import LIVE_OUTPUT
from iosim.quiz.runner import PROMPT, make, run_quiz

ROOT = Path(__file__).resolve().parents[2]


class Reader(io.StringIO):
    """Standard input whose every line is the reply of ``student`` to the question the quiz
    has just printed on ``screen``."""

    def __init__(self, screen: io.StringIO, student: Callable[[str], str]) -> None:
        super().__init__()
        self.screen = screen
        self.student = student
        self.replies: list[str] = []

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        text = self.screen.getvalue()
        block = text[text.rindex("\nQuestion "):]
        assert block.endswith(PROMPT)
        reply = self.student(block)
        self.replies.append(reply)
        return reply + "\n"


def _quiz(topic: str, seed: str, student: Callable[[str], str], n: int = 10) -> tuple[str, str]:
    screen = io.StringIO()
    reader = Reader(screen, student)
    run_quiz(reader, screen, n=n, seed=seed, topic=topic)
    text = screen.getvalue()
    return text, text[text.rindex("Score: "):].splitlines()[0]


@pytest.mark.parametrize("seed", ["ccna", "student-7"])
@pytest.mark.parametrize("topic", ["output", "troubleshoot"])
def test_reading_the_output_answers_every_live_question(topic: str, seed: str) -> None:
    """100%, and each explanation cites lines of the output it shows."""
    text, score = _quiz(topic, seed, answer)
    asked = text.count("\nQuestion ")
    assert asked == {"output": 7, "troubleshoot": 3}[topic]
    assert score == f"Score: {asked}/{asked} (100%)", text
    assert text.count("Correct.") == asked and "Incorrect" not in text
    for block in text.split("\nQuestion ")[1:]:
        shown, explained = block.split("Correct.\n", 1)
        cited = [line.strip() for line in explained.splitlines() if line.startswith("    ")]
        assert cited and all(line in shown for line in cited), block


@pytest.mark.parametrize("topic", ["output", "troubleshoot"])
def test_answers_the_output_contradicts_are_marked_wrong(topic: str) -> None:
    text, score = _quiz(topic, "ccna", wrong)
    asked = text.count("\nQuestion ")
    assert score == f"Score: 0/{asked} (0%)"
    assert text.count("Incorrect. The answer is ") == asked


def test_live_values_come_from_the_run_and_vary_with_the_seed() -> None:
    """The packet count and the SPI follow the drawn pings and the lab's seed: over a few
    seeds the answers differ, and each one is the number the shown output holds."""
    packets = next(s for s in LIVE_OUTPUT if s.key == "live-packets")
    spis = next(s for s in LIVE_OUTPUT if s.key == "live-inbound-spi")
    counts, spi_values = set(), set()
    for seed in ("a", "b", "c", "d", "e"):
        q = make(packets, seed)
        counts.add(q.answer.solution())
        assert f"#pkts encaps: {q.answer.solution()}" in q.shown or "decaps" in q.text
        s = make(spis, seed)
        spi_values.add(s.answer.solution())
        assert s.answer.solution().split()[0] in s.shown
    assert len(counts) > 1 and len(spi_values) > 1


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_diagnosis_of_the_live_state_names_the_fault_set_up(fault: str) -> None:
    for draw in range(3):
        rng = random.Random(f"{fault}{draw}")
        with boot(FAULTS[fault](rng), f"diag{draw}") as live:
            live.shown("R1", live.addressing.ping("R1", 2))
            assert diagnose(observe(live, live.logs("R2"))) == fault


def test_a_silent_peer_is_diagnosed_as_unreachable() -> None:
    """R2's outside interface is shut: R1's main mode gets no answer (MM_NO_STATE) and
    nobody refuses anything."""
    with boot(Scenario(), "silent") as live:
        live.hidden("R2", "configure terminal\ninterface GigabitEthernet0/0\nshutdown\nend\n")
        live.shown("R1", live.addressing.ping("R1", 2))
        assert diagnose(observe(live, live.logs("R2"))) == "unreachable"


# ------------------------------------------------------------------ through a pipe


class Dialog:
    """``python3 -m iosim quiz ...`` in a subprocess, answered prompt by prompt."""

    def __init__(self, args: list[str], tmp: Path) -> None:
        env = dict(os.environ, XDG_STATE_HOME=str(tmp), PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-m", "iosim", "quiz", *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=ROOT, env=env)
        self.text = ""

    def until_prompt(self, timeout: float = 60) -> bool:
        """Read until the quiz asks (True) or ends (False)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while not self.text.endswith(PROMPT):
            ready, _, _ = select.select([fd], [], [], timeout)
            assert ready, "the quiz went silent:\n" + self.text
            chunk = os.read(fd, 65536)
            if not chunk:
                return False
            self.text += chunk.decode()
        return True

    def reply(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        self.text += "\n"  # this prompt is answered: wait for the next one

    def close(self) -> tuple[int, str]:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        while self.until_prompt():
            pass
        assert self.proc.stderr is not None
        err = self.proc.stderr.read().decode()
        return self.proc.wait(timeout=60), err


@pytest.mark.parametrize("topic,n", [("output", 7), ("troubleshoot", 3)])
def test_a_piped_quiz_is_answered_from_its_own_output(topic: str, n: int, tmp_path: Path) -> None:
    dialog = Dialog(["--topic", topic, "-n", str(n), "--seed", "pipe"], tmp_path)
    asked = 0
    while dialog.until_prompt():
        block = dialog.text[dialog.text.rindex("\nQuestion "):]
        dialog.reply(answer(block))
        asked += 1
        if asked == n:
            break
    code, err = dialog.close()
    assert code == 0 and err == ""
    assert asked == n
    assert f"Score: {n}/{n} (100%)" in dialog.text
