"""``iosim quiz``: picking by seed, asking, reading replies, scoring, and the command line."""

from __future__ import annotations

import io
import os
import random
import select
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from iosim.quiz.lab_run import ScenarioError
from iosim.quiz.model import ChoiceAnswer, Question
from iosim.quiz.runner import PROMPT, Quiz, Score, every_source, make, pick, run_quiz

ROOT = Path(__file__).resolve().parents[2]


def _cli(args: list[str], stdin: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_STATE_HOME=str(tmp), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "iosim", *args], input=stdin, text=True,
                          capture_output=True, env=env, cwd=ROOT, timeout=120)


def _run(replies: str, **kwargs: object) -> str:
    out = io.StringIO()
    run_quiz(io.StringIO(replies), out, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def test_the_same_seed_asks_the_same_quiz_and_another_seed_another() -> None:
    first = _run("", n=10, seed="alpha")
    assert _run("", n=10, seed="alpha") == first
    assert _run("", n=10, seed="beta") != first
    assert [s.key for s in pick(every_source(), 10, "alpha")] != \
        [s.key for s in pick(every_source(), 10, "beta")]


def test_live_values_are_the_same_for_the_same_seed_only() -> None:
    live = [s for s in every_source() if s.key == "live-inbound-spi"]
    assert make(live[0], "one").shown == make(live[0], "one").shown
    assert make(live[0], "one").shown != make(live[0], "two").shown


def test_ten_questions_cover_most_topics() -> None:
    for seed in ("a", "b", "c"):
        topics = {s.topic for s in pick(every_source(), 10, seed)}
        assert len(topics) == 8


def test_a_topic_limits_the_questions_and_n_is_capped_by_what_there_is() -> None:
    text = _run("a\n" * 3, n=50, seed="x", topic="troubleshoot")
    assert text.startswith("iosim quiz: 3 questions on topic troubleshoot, seed 'x'\n")
    assert text.count("[troubleshoot]") == 3 and "Question 3 of 3  [troubleshoot]" in text


def _first_fact(seed: str) -> ChoiceAnswer:
    q = make(pick([s for s in every_source() if s.topic == "protocols"], 1, seed)[0], seed)
    assert isinstance(q.answer, ChoiceAnswer)
    return q.answer


def test_a_right_answer_a_wrong_answer_and_the_score() -> None:
    answer = _first_fact("s")
    right = "ABCD"[answer.correct]
    text = _run(f"{right.lower()})\n", n=1, seed="s", topic="protocols")
    assert "Question 1 of 1  [protocols]\n" in text and PROMPT in text
    assert f"{PROMPT}Correct.\n" in text and text.endswith("Score: 1/1 (100%)\n  protocols     1/1\n")
    wrong = "ABCD"[(answer.correct + 1) % 4]
    text = _run(f"{wrong}\n", n=1, seed="s", topic="protocols")
    solution = f"{right}) {answer.choices[answer.correct]}"
    assert f"Incorrect. The answer is {solution}" in text.replace("\n", " ")
    assert "Score: 0/1 (0%)" in text


def test_an_unreadable_answer_is_asked_again_once_then_counted_wrong() -> None:
    answer = _first_fact("r")
    right = "ABCD"[answer.correct]
    text = _run(f"\n{right}\n", n=1, seed="r", topic="protocols")
    assert text.count("Please answer A, B, C or D.") == 1 and "Correct." in text
    text = _run("maybe\nz\nA\n", n=1, seed="r", topic="protocols")
    assert text.count("Please answer A, B, C or D.") == 1 and text.count(PROMPT) == 2
    assert "Incorrect." in text and "Score: 0/1 (0%)" in text


def test_end_of_input_ends_with_the_score_so_far() -> None:
    answer = _first_fact("e")
    text = _run(f"{'ABCD'[answer.correct]}\n", n=2, seed="e", topic="protocols")
    assert "Question 2 of 2" in text and text.endswith(
        f"{PROMPT}\n\nScore: 1/1 (100%)\n  protocols     1/1\n")


def test_a_lab_run_that_fails_skips_its_question_and_the_quiz_goes_on() -> None:
    @dataclass(frozen=True)
    class Broken:
        key: str = "broken"
        topic: str = "output"

        def make(self, rng: random.Random, lab_seed: str) -> Question:
            raise ScenarioError("R1 rejected 'x'")

    fact = next(s for s in every_source() if s.topic == "modes")
    out = io.StringIO()
    score = Quiz(io.StringIO("a\n"), out).run([Broken(), fact], "s")
    assert "Question 1 of 2: the lab run for it failed (R1 rejected 'x'); skipped." in \
        out.getvalue()
    assert "Question 2 of 2  [modes]" in out.getvalue() and score.asked == 1


def test_score_lines() -> None:
    score = Score()
    for topic, ok in [("ike", True), ("output", False), ("ike", True), ("protocols", True)]:
        score.add(topic, ok)
    assert score.report() == ("Score: 3/4 (75%)\n  protocols     1/1\n  ike           2/2\n"
                              "  output        0/1\n")
    assert Score().report() == "Score: 0/0 (0%)\n"


# ------------------------------------------------------------------ the command line


def test_the_default_seed_is_fixed_and_printed(tmp_path: Path) -> None:
    r = _cli(["quiz", "-n", "3"], "", tmp_path)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("iosim quiz: 3 questions on all topics, seed 'ccna'\n"
                               "(the same again: iosim quiz --seed ccna -n 3)\n")
    assert r.stdout == _run("", n=3, seed="ccna")


def test_piped_answers_are_echoed_and_the_exit_code_is_zero(tmp_path: Path) -> None:
    r = _cli(["quiz", "-n", "2", "--seed", "echo", "--topic", "commands"],
             "sh cry ips sa\nshow crypto isakmp sa\n", tmp_path)
    assert r.returncode == 0 and r.stderr == ""
    assert f"{PROMPT}sh cry ips sa\n" in r.stdout and "Score: " in r.stdout


def test_help_lists_the_topics_and_a_bad_topic_exits_2(tmp_path: Path) -> None:
    r = _cli(["quiz", "--help"], "", tmp_path)
    assert r.returncode == 0
    for topic in ("protocols", "modes", "ike", "sa", "verify", "commands", "output",
                  "troubleshoot"):
        assert f"\n  {topic} " in r.stdout
    bad = _cli(["quiz", "--topic", "bgp"], "", tmp_path)
    assert bad.returncode == 2 and "invalid choice: 'bgp'" in bad.stderr
    assert "troubleshoot" in bad.stderr and "Traceback" not in bad.stderr
    zero = _cli(["quiz", "-n", "0"], "", tmp_path)
    assert zero.returncode == 2 and "1 or more" in zero.stderr


def test_ctrl_c_ends_the_quiz_without_a_traceback(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "iosim", "quiz", "--seed", "int"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT, env=env)
    assert proc.stdout is not None and proc.stdin is not None
    seen = b""
    while not seen.endswith(PROMPT.encode()):
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready
        seen += os.read(proc.stdout.fileno(), 65536)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert b"Traceback" not in err and err == b""
    assert (seen + out).endswith(b"Score: 0/0 (0%)\n")


def test_version_does_not_load_the_quiz() -> None:
    code = ("import sys, iosim.__main__ as m; m._parser(); "
            "print(sorted(n for n in ('iosim.quiz.runner', 'lark', 'iosim.lab.console') "
            "if n in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert r.stdout.strip() == "[]", r.stderr
