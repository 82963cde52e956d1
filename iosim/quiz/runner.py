"""Run a quiz: pick the questions, ask each, read the reply, say why, keep the score.

The questions are picked from every bank (facts, commands, live output, troubleshooting) by
the seed alone: the topics take turns, so that ten questions cover most of them, and the
picked ones are shuffled. Each question is made only when it is asked (a live one boots its
lab then), from a generator seeded with the quiz seed and the question's key: the same seed
gives the same questions, in the same order, with the same choices and the same live values.

A reply is read from a line of input. One that cannot be read at all (empty, a letter that is
no choice, a word where a number is wanted) is asked again once, then counted wrong. End of
input, or Ctrl-C, ends the quiz with the score so far.
"""

from __future__ import annotations

import random
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from iosim.quiz.commands import ASKS
from iosim.quiz.facts import FACTS
from iosim.quiz.lab_run import ScenarioError
from iosim.quiz.live_faults import LIVE_FAULTS
from iosim.quiz.live_output import LIVE_OUTPUT
from iosim.quiz.model import Question, QuestionSource, Verdict, wrap
from iosim.quiz.topics import TOPICS

PROMPT = "Answer: "


def every_source() -> list[QuestionSource]:
    """Every question the quiz knows, bank by bank."""
    return [*FACTS, *ASKS, *LIVE_OUTPUT, *LIVE_FAULTS]


def pick(sources: Sequence[QuestionSource], n: int, seed: str) -> list[QuestionSource]:
    """``n`` of ``sources`` (all of them if fewer), drawn by ``seed``: the topics take turns,
    then the picked questions are shuffled."""
    rng = random.Random(f"iosim quiz {seed}")
    by_topic: dict[str, list[QuestionSource]] = {}
    for source in sources:
        by_topic.setdefault(source.topic, []).append(source)
    for group in by_topic.values():
        rng.shuffle(group)
    turns = sorted(by_topic)
    rng.shuffle(turns)
    chosen: list[QuestionSource] = []
    while len(chosen) < n and any(by_topic.values()):
        for topic in turns:
            if by_topic[topic] and len(chosen) < n:
                chosen.append(by_topic[topic].pop())
    rng.shuffle(chosen)
    return chosen


def make(source: QuestionSource, seed: str) -> Question:
    """The question ``source`` makes for quiz ``seed``."""
    return source.make(random.Random(f"{seed}/{source.key}"), f"quiz/{seed}/{source.key}")


@dataclass
class Score:
    """Right answers out of questions answered, in all and per topic."""

    right: int = 0
    asked: int = 0
    topics: dict[str, list[int]] = field(default_factory=dict)  # topic -> [right, asked]

    def add(self, topic: str, correct: bool) -> None:
        counts = self.topics.setdefault(topic, [0, 0])
        counts[0] += correct
        counts[1] += 1
        self.right += correct
        self.asked += 1

    def report(self) -> str:
        """``Score: 7/10 (70%)`` and a line per topic asked."""
        percent = round(100 * self.right / self.asked) if self.asked else 0
        lines = [f"Score: {self.right}/{self.asked} ({percent}%)"]
        for topic in TOPICS:
            if topic in self.topics:
                right, asked = self.topics[topic]
                lines.append(f"  {topic:<13} {right}/{asked}")
        return "\n".join(lines) + "\n"


class Quiz:
    """Asks questions on ``out`` and reads the replies from ``inp`` (``echo``: write each
    reply after the prompt, as a terminal would have shown it)."""

    def __init__(self, inp: TextIO, out: TextIO, *, echo: bool = False) -> None:
        self.inp = inp
        self.out = out
        self.echo = echo
        self.score = Score()

    def _read(self) -> str | None:
        """A reply, or None at end of input."""
        self.out.write(PROMPT)
        self.out.flush()
        line = self.inp.readline()
        if not line:
            self.out.write("\n")
            return None
        reply = line.rstrip("\r\n")
        if self.echo:
            self.out.write(reply + "\n")
        return reply

    def ask(self, number: int, total: int, q: Question) -> bool:
        """Ask ``q``; False if the input ended before it was answered."""
        parts = [f"\nQuestion {number} of {total}  [{q.topic}]"]
        if q.setting:
            parts.append(wrap(q.setting) + "\n")
        if q.shown:
            parts.append(q.shown.rstrip("\n") + "\n")
        parts.append(wrap(q.text))
        self.out.write("\n".join(parts) + "\n" + q.answer.listing())
        if q.answer.hint:
            self.out.write(q.answer.hint + "\n")
        verdict: Verdict | None = None
        for attempt in range(2):
            reply = self._read()
            if reply is None:
                return False
            verdict = q.answer.judge(reply)
            if verdict is not None:
                break
            if attempt == 0:
                self.out.write(q.answer.retry + "\n")
        verdict = verdict or Verdict(False)
        self.score.add(q.topic, verdict.correct)
        if verdict.correct:
            self.out.write("Correct.\n")
        else:
            self.out.write(wrap(f"Incorrect. The answer is {q.answer.solution()}.") + "\n")
            if verdict.note:
                self.out.write(verdict.note + "\n")
        self.out.write(wrap(q.explanation) + "\n")
        return True

    def run(self, sources: Sequence[QuestionSource], seed: str) -> Score:
        """Ask every question of ``sources`` in turn until they or the input run out."""
        try:
            for number, source in enumerate(sources, 1):
                try:
                    q = make(source, seed)
                except ScenarioError as e:  # a lab that went wrong: say so, go on
                    self.out.write(f"\nQuestion {number} of {len(sources)}: the lab run for "
                                   f"it failed ({e}); skipped.\n")
                    continue
                if not self.ask(number, len(sources), q):
                    break
        except KeyboardInterrupt:
            self.out.write("\n")
        return self.score


def header(count: int, topic: str | None, seed: str) -> str:
    """The first lines: what is asked, and how to be asked the same again."""
    replay = ["iosim", "quiz", "--seed", seed, "-n", str(count)]
    if topic is not None:
        replay += ["--topic", topic]
    about = f"topic {topic}" if topic is not None else "all topics"
    return (f"iosim quiz: {count} question{'s' if count != 1 else ''} on {about}, seed "
            f"{seed!r}\n(the same again: {shlex.join(replay)})\n")


def run_quiz(inp: TextIO, out: TextIO, *, n: int, seed: str, topic: str | None = None,
             echo: bool = False) -> Score:
    """Pick ``n`` questions (of ``topic``, or all) for ``seed``, ask them, print the score."""
    sources = [s for s in every_source() if topic is None or s.topic == topic]
    chosen = pick(sources, n, seed)
    out.write(header(len(chosen), topic, seed))
    if len(chosen) < n:
        out.write(f"(topic {topic} has {len(chosen)} question"
                  f"{'s' if len(chosen) != 1 else ''}, not {n})\n")
    quiz = Quiz(inp, out, echo=echo)
    score = quiz.run(chosen, seed)
    out.write("\n" + score.report())
    out.flush()
    return score
