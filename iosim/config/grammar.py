"""The IOS command grammar: every ``grammar/*.lark`` file composed into one LALR parser.

Theory of operation
-------------------
Each ``.lark`` file describes one feature.  ``base.lark`` declares one start rule per
CLI mode (``exec_line``, ``config_line``, ``if_line`` ...); the other files add their
commands to those start rules with ``%extend``.  Every word a user may type is a
*named terminal* defined next to the rule that uses it, with its ``?`` help as a
trailing comment::

    CIS_HASH: "hash"                 // Set hash algorithm for protection suite
    CIS_PRIORITY: INT                // <1-10000>  Priority of protection suite

A terminal whose pattern is a plain string is a keyword (matched by unique prefix).
Any other terminal is an argument: its help comment starts with the IOS label shown
by ``?`` (``<1-10000>``, ``A.B.C.D``, ``WORD``, ``LINE``), then two spaces and the
description.  The label also constrains the value: ``<a-b>`` is an integer range,
``LINE`` takes the rest of the line, ``{interface}`` is an interface name.  A help of
``-`` (``// -`` for a keyword, ``// LINE  -`` for an argument) hides the terminal from
``?`` and completion: IOS accepts it without listing it.

We never let Lark lex: the CLI matcher (``iosim.cli.matcher``) turns each typed word
into a token of the terminal it matches among those the LALR parser can accept at
that point, so parsing, help, completion, abbreviation and the caret column all come
from this one grammar.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token
from lark.lexer import Lexer

_TERMINAL_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)\s*:\s*(.*?)\s*(?://\s*(.*))?$")
_RANGE = re.compile(r"^<(-?\d+)-(-?\d+)>$")

_START_RULE = re.compile(r"^(\w+_line)\s*:", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class TerminalSpec:
    """What the CLI needs to know about one grammar terminal."""

    name: str
    keyword: str | None  # the literal word, for keyword terminals
    label: str  # what '?' prints in the left column
    help: str  # what '?' prints in the right column
    regex: re.Pattern[str] | None  # for argument terminals
    low: int | None = None  # integer range, from a '<low-high>' label
    high: int | None = None
    rest_of_line: bool = False  # LINE: takes everything up to the end of the line
    interface: bool = False  # {interface}: an interface name, possibly two words
    hidden: bool = False  # accepted but not listed by '?' (help comment "-")
    ipv4: bool = False  # an A.B.C.D argument


class _NoLexer(Lexer):
    """Placeholder lexer: the CLI matcher feeds tokens to the parser itself."""

    def __init__(self, lexer_conf: object) -> None:
        pass

    def lex(self, lexer_state: object, parser_state: object) -> Iterator[Token]:  # pragma: no cover
        raise NotImplementedError("iosim feeds tokens word by word")


def grammar_dir() -> Path:
    """Where the ``.lark`` files are: the source tree's ``grammar/``, or ``iosim/grammar``
    of an installed package (the wheel maps one onto the other)."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "grammar", package / "grammar"):
        if (candidate / "base.lark").is_file():
            return candidate
    raise FileNotFoundError("the iosim grammar files are missing from this installation")


#: Files that define the rules others extend: loaded first, in this order.
CORE_FILES = ("base.lark", "exec.lark")


def grammar_files() -> list[Path]:
    """The core files first (they declare the start rules), then the features by name."""
    files = sorted(grammar_dir().glob("*.lark"))
    order = {name: i for i, name in enumerate(CORE_FILES)}
    files.sort(key=lambda p: (order.get(p.name, len(order)), p.name))
    return files


@dataclass(frozen=True)
class Grammar:
    """The composed parser and the table of its terminals."""

    parser: Lark
    terminals: dict[str, TerminalSpec]
    starts: frozenset[str]


def _help_comments(text: str) -> dict[str, str]:
    comments: dict[str, str] = {}
    for line in text.splitlines():
        m = _TERMINAL_LINE.match(line.strip())
        if m and m.group(3) is not None:
            comments[m.group(1)] = m.group(3).strip()
    return comments


def _spec(name: str, pattern_kind: str, value: str, comment: str) -> TerminalSpec:
    if pattern_kind == "PatternStr":
        return TerminalSpec(name, value, value, comment, None, hidden=comment == "-")
    label, _, text = comment.partition("  ")
    label = label.strip() or "WORD"
    text = text.strip()
    low = high = None
    m = _RANGE.match(label)
    if m:
        low, high = int(m.group(1)), int(m.group(2))
    return TerminalSpec(
        name,
        None,
        label,
        text,
        re.compile(value, re.ASCII),
        low,
        high,
        rest_of_line=label == "LINE",
        interface=label == "{interface}",
        hidden=text == "-",
        ipv4=label.startswith(("A.B.C.D", "X.X.X.X")),
    )


@lru_cache(maxsize=1)
def load() -> Grammar:
    """Build (once per process) the parser for every mode from ``grammar/*.lark``."""
    texts = [p.read_text(encoding="utf-8") for p in grammar_files()]
    source = "\n".join(texts)
    comments: dict[str, str] = {}
    for text in texts:
        comments.update(_help_comments(text))
    parser = Lark(
        source,
        parser="lalr",
        lexer=_NoLexer,
        start=sorted(set(_START_RULE.findall(source))),
        maybe_placeholders=False,
        keep_all_tokens=True,
        cache=True,
    )
    terminals = {
        t.name: _spec(t.name, type(t.pattern).__name__, t.pattern.value, comments.get(t.name, ""))
        for t in parser.terminals
    }
    return Grammar(parser, terminals, frozenset(_START_RULE.findall(source)))
