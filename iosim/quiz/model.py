"""A quiz question and how a reply to it is judged.

A ``Question`` is text to show (prose, and router output shown as it is), a topic, an
``Answer`` and the explanation shown after the reply. An ``Answer`` judges a reply:
``Verdict(correct, note)``, or None when it could not read the reply at all (an empty line,
a letter that is no choice, a word where a number was asked), which the runner asks again
once. Three kinds of answer are here:

* ``ChoiceAnswer``: multiple choice, A-D; ``a``, ``B)``, ``(c)`` or a choice's own text;
* ``ValueAnswer``: a value read off the output (a count, an SPI, an address, a lifetime),
  each kind with its own reader (``VALUE_KINDS``);
* the fill-in-the-command answer lives with its bank in ``iosim.quiz.commands``, since it
  needs the command matcher.

A ``QuestionSource`` makes a question from a random generator (choices shuffled, values
drawn) and a lab seed (for questions that run a lab): the same two give the same question.
"""

from __future__ import annotations

import random
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address
from typing import NamedTuple, Protocol

LETTERS = "ABCD"


class Verdict(NamedTuple):
    """Whether a reply is right; ``note`` says what the reply was read as, when that helps."""

    correct: bool
    note: str = ""


class Answer(Protocol):
    """What a reply to a question must be."""

    @property
    def hint(self) -> str:
        """How to answer, shown under the question."""
        ...

    @property
    def retry(self) -> str:
        """Said before asking again, when a reply could not be read."""
        ...

    def listing(self) -> str:
        """What to show between the question and the prompt (the choices), or ""."""
        ...

    def judge(self, reply: str) -> Verdict | None:
        """The verdict on ``reply``, or None if it is no answer at all."""
        ...

    def solution(self) -> str:
        """The right answer, as ``Incorrect. The answer is ...`` says it."""
        ...


_VERBATIM = "    "


def cite(line: str) -> str:
    """``line`` of router output set apart in prose, so that ``wrap`` leaves it whole."""
    return f"\n{_VERBATIM}{line.strip()}\n"


def wrap(text: str, width: int = 79) -> str:
    """Prose filled to ``width``, line by line; cited output lines are left as they are."""
    return "\n".join(line if line.startswith(_VERBATIM) else
                     textwrap.fill(line.strip(), width, break_long_words=False,
                                   break_on_hyphens=False)
                     for line in text.split("\n"))


@dataclass(frozen=True)
class Question:
    """One question, ready to ask: ``setting`` (prose), ``shown`` (router output, printed
    as is), then ``text``, the question itself (prose)."""

    topic: str
    text: str
    answer: Answer
    explanation: str  # why the answer is right (prose, with ``cite``d output lines)
    setting: str = ""
    shown: str = ""


class QuestionSource(Protocol):
    """Something that makes a question: a fact, a command to type, a lab scenario."""

    @property
    def key(self) -> str:
        """A name unique in the quiz: the question's random draws are seeded with it."""
        ...

    @property
    def topic(self) -> str:
        ...

    def make(self, rng: random.Random, lab_seed: str) -> Question:
        """The question, its choices shuffled and its values drawn from ``rng``; a lab it
        runs uses ``lab_seed``."""
        ...


# ------------------------------------------------------------------ multiple choice

_LETTER_REPLY = re.compile(r"\(?([a-z])\s*[).:]?", re.IGNORECASE)


@dataclass(frozen=True)
class ChoiceAnswer:
    """Multiple choice: ``choices`` in the order shown, ``correct`` the index of the right one."""

    choices: tuple[str, ...]
    correct: int

    @property
    def hint(self) -> str:
        return ""

    @property
    def retry(self) -> str:
        return f"Please answer {', '.join(LETTERS[:len(self.choices) - 1])} or " \
               f"{LETTERS[len(self.choices) - 1]}."

    def listing(self) -> str:
        return "".join(f"  {LETTERS[i]}) {c}\n" for i, c in enumerate(self.choices))

    def chosen(self, reply: str) -> int | None:
        """The index of the choice ``reply`` picks, or None."""
        text = reply.strip()
        m = _LETTER_REPLY.fullmatch(text)
        if m is not None:
            index = LETTERS.find(m[1].upper())
            return index if 0 <= index < len(self.choices) else None
        for i, choice in enumerate(self.choices):
            if text and text.casefold() == choice.casefold():
                return i
        return None

    def judge(self, reply: str) -> Verdict | None:
        index = self.chosen(reply)
        return None if index is None else Verdict(index == self.correct)

    def solution(self) -> str:
        return f"{LETTERS[self.correct]}) {self.choices[self.correct]}"


def shuffled(rng: random.Random, correct: str, distractors: Sequence[str]) -> ChoiceAnswer:
    """The right choice and up to three distractors, in an order drawn from ``rng``."""
    choices = [correct, *distractors[:len(LETTERS) - 1]]
    rng.shuffle(choices)
    return ChoiceAnswer(tuple(choices), choices.index(correct))


# ------------------------------------------------------------------ values read off output


def _read_number(text: str) -> int | None:
    digits = text.replace(",", "")
    return int(digits) if digits.isascii() and digits.isdigit() else None


def _read_spi(text: str) -> int | None:
    """``0x3772C41A``, ``3772C41A`` (hex with a letter) or ``930268186``, as IOS prints both."""
    t = text.lower()
    try:
        if t.startswith("0x"):
            return int(t[2:], 16)
        if t.isascii() and t.isdigit():
            return int(t)
        return int(t, 16) if t.isascii() and t.isalnum() else None
    except ValueError:
        return None


def _read_address(text: str) -> int | None:
    try:
        return int(IPv4Address(text))
    except AddressValueError:
        return None


def _read_duration(text: str) -> int | None:
    """``23:59:57`` (as ``show crypto isakmp sa detail`` prints) or seconds."""
    parts = text.split(":")
    if not all(p.isascii() and p.isdigit() for p in parts) or len(parts) > 3:
        return None
    seconds = 0
    for p in parts:
        seconds = seconds * 60 + int(p)
    return seconds


def _hms(seconds: int) -> str:
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d} ({seconds} seconds)"


@dataclass(frozen=True)
class ValueKind:
    """How a kind of value is asked for, read from a reply, and written."""

    hint: str
    retry: str
    read: Callable[[str], int | None]
    write: Callable[[int], str]


VALUE_KINDS: dict[str, ValueKind] = {
    "number": ValueKind("(type a number)", "Please type a number, e.g. 12.", _read_number, str),
    "spi": ValueKind("(type the SPI, in hex as 0x... or in decimal)",
                     "Please type an SPI, e.g. 0x1A2B3C4D.", _read_spi,
                     lambda v: f"0x{v:X} ({v})"),
    "address": ValueKind("(type an IPv4 address)", "Please type an address, e.g. 192.0.2.1.",
                         _read_address, lambda v: str(IPv4Address(v))),
    "duration": ValueKind("(type H:MM:SS or a number of seconds)",
                          "Please type a time, e.g. 23:59:59 or 86399.", _read_duration, _hms),
}


@dataclass(frozen=True)
class ValueAnswer:
    """A value of ``kind`` (see ``VALUE_KINDS``), read off the output the question shows."""

    kind: str
    value: int

    @property
    def hint(self) -> str:
        return VALUE_KINDS[self.kind].hint

    @property
    def retry(self) -> str:
        return VALUE_KINDS[self.kind].retry

    def listing(self) -> str:
        return ""

    def judge(self, reply: str) -> Verdict | None:
        value = VALUE_KINDS[self.kind].read(reply.strip())
        return None if value is None else Verdict(value == self.value)

    def solution(self) -> str:
        return VALUE_KINDS[self.kind].write(self.value)
