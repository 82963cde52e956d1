"""Match typed words against the grammar: abbreviation, ambiguity, caret column, help.

Theory of operation
-------------------
A typed line is split into words.  Starting from a mode's start rule we ask the LALR
parser which terminals it accepts next; the word is matched against them the way
IOS matches:

* a keyword typed in full wins;
* otherwise the keywords the word is a prefix of: one is a match, several distinct
  ones are ``% Ambiguous command``;
* otherwise an argument terminal whose value the word is (``<1-10000>``, ``A.B.C.D``,
  ``WORD`` ...);
* otherwise ``% Invalid input`` with the caret under the first character where the
  word stops matching every acceptable keyword.

When the words run out the parser must accept the end of the line, or the command is
``% Incomplete``.  Parser states are memoised in a trie keyed by the terminals fed so
far, so after warm-up a line costs a few dictionary look-ups per word: config replay
never touches Lark's parser for a command shape it has already seen.

IOS commands iosim does not emulate are grammar too (terminals named ``NE_...``, in
``grammar/ios_words.lark``), so they abbreviate and clash as on IOS; where a feature's
keyword and such a word are the same word, the feature's keyword is the one matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address
from typing import NamedTuple, TypeVar

from lark import Token

from iosim.cli.errors import AmbiguousCommand, CliError, IncompleteCommand, InvalidInput
from iosim.cli.interfaces import match_interface_name
from iosim.cli.lines import BLANKS, ascii_lower
from iosim.config.grammar import Grammar, TerminalSpec, load


@lru_cache(maxsize=4096)
def ipv4_address(text: str) -> IPv4Address:
    """``IPv4Address(text)``, remembered: configs repeat masks and peers.  A dotted quad the
    matcher accepted is built from its number (a third of the cost of parsing it again)."""
    if _CANONICAL_IPV4.fullmatch(text) is None:
        return IPv4Address(text)
    a, b, c, d = text.split(".")
    return IPv4Address((int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d))


class Word(NamedTuple):
    """One word of a typed line and the column it starts at."""

    text: str
    col: int


class Arg(NamedTuple):
    """A matched word: the terminal it matched and its canonical value."""

    terminal: str
    value: str
    col: int


@dataclass(frozen=True, slots=True)
class Match:
    """A complete command: the grammar rule it is and the words it matched."""

    command: str
    args: tuple[Arg, ...]
    rules: tuple[str, ...] = ()  # every grammar rule of the parse, outermost first

    def get(self, terminal: str, default: str | None = None) -> str | None:
        """The value of the first word that matched ``terminal``."""
        for a in self.args:
            if a.terminal == terminal:
                return a.value
        return default

    def all(self, terminal: str) -> list[str]:
        """The values of every word that matched ``terminal``, in order."""
        return [a.value for a in self.args if a.terminal == terminal]

    def ipv4(self, terminal: str, default: str | None = None) -> IPv4Address:
        """The address a word matched ``terminal`` with (``default`` if none did)."""
        value = self.get(terminal, default)
        if value is None:
            raise LookupError(terminal)
        return ipv4_address(value)

    def has(self, terminal: str) -> bool:
        """Whether a word matched ``terminal``."""
        # a line has a handful of words: a scan costs less than a set built per line
        for a in self.args:
            if a.terminal == terminal:
                return True
        return False

    def arg(self, terminal: str) -> Arg | None:
        """The first matched word of ``terminal`` with its column."""
        for a in self.args:
            if a.terminal == terminal:
                return a
        return None


#: Terminals of the IOS commands iosim does not emulate start with this ...
NOT_EMULATED = "NE_"
#: ... and this one takes whatever follows such a command's words.
NOT_EMULATED_REST = "NE_REST"
#: The argument that stands for a session number at the EXEC prompt (``R1>1``).
NOT_EMULATED_SESSION = "NE_X_SESSION"


def not_emulated(terminal: str) -> bool:
    """Whether ``terminal`` is a word of an IOS command that iosim does not emulate."""
    return terminal.startswith(NOT_EMULATED) and terminal != NOT_EMULATED_REST


def not_emulated_words(args: tuple[Arg, ...] | list[Arg]) -> str | None:
    """The words that name a not-emulated command in a matched line (``router eigrp`` of
    ``router eigrp 100``, ``show cdp`` of ``show cdp neighbors``, ``show ip ospf
    border-routers`` of ``show ip ospf 1 border-routers``), or None if it is none: its
    keywords up to the last one iosim does not emulate, not the arguments between them.

    A session number typed alone (IOS resumes that connection) names ``resume``.
    """
    last = max((i for i, a in enumerate(args) if not_emulated(a.terminal)), default=-1)
    if last < 0:
        return None
    if args[last].terminal == NOT_EMULATED_SESSION:
        return "resume"
    terminals = roots().grammar.terminals
    return " ".join(a.value for a in args[: last + 1]
                    if (spec := terminals.get(a.terminal)) is None or spec.keyword is not None)


_WORD_RE = re.compile(r"[^ \t]+")


def split_words(line: str) -> list[Word]:
    """Split a line into words (at spaces and tabs, as IOS does), remembering each word's
    column."""
    return [Word(m[0], m.start()) for m in _WORD_RE.finditer(line)]


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_LOOSE_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")


def _ipv4_value(text: str) -> str | None:
    """``text`` as a dotted quad in canonical form (``010.1.1.1`` is ``10.1.1.1``), or None."""
    if _CANONICAL_IPV4.fullmatch(text):
        return text
    if not _LOOSE_IPV4.fullmatch(text):
        return None
    octets = [int(p) for p in text.split(".")]
    if max(octets) > 255:
        return None
    return ".".join(map(str, octets))


def _arg_value(spec: TerminalSpec, text: str) -> str | None:
    """The canonical value of ``text`` as an argument of ``spec``, or None."""
    if spec.interface:
        return match_interface_name(text)
    if spec.low is not None and spec.high is not None and text.isascii() \
            and text.isdigit():
        v = int(text)
        if not spec.low <= v <= spec.high:
            return None
        return str(v) if spec.regex is None or spec.regex.fullmatch(text) else None
    if spec.ipv4:
        return _ipv4_value(text)
    if spec.regex is not None and spec.regex.fullmatch(text) is None:
        return None
    return text


# Argument kinds tried most specific first: an interface, a number, an address, a word.
def _arg_rank(spec: TerminalSpec) -> int:
    if spec.interface:
        return 0
    if spec.low is not None:
        return 1
    if spec.ipv4:
        return 2
    if spec.rest_of_line:
        return 9
    return 5


class Node:
    """A parser state reached by feeding a sequence of terminals, with what fits next."""

    __slots__ = ("_ip", "keywords", "exact", "args", "end_ok", "command", "children",
                 "_grammar", "rest_of_line", "rules", "keyword_memo", "first_chars")

    def __init__(self, grammar: Grammar, ip: object) -> None:
        self._grammar = grammar
        self._ip = ip
        accepts: set[str] = ip.accepts()  # type: ignore[attr-defined]
        specs = [grammar.terminals[t] for t in accepts if t in grammar.terminals]
        # a word that both a feature and the not-emulated set know is the feature's
        self.keywords: list[TerminalSpec] = sorted(
            (s for s in specs if s.keyword is not None),
            key=lambda s: (s.keyword or "", not_emulated(s.name)),
        )
        self.exact: dict[str, TerminalSpec] = {}
        self.first_chars = frozenset((s.keyword or " ")[0] for s in self.keywords)
        for s in self.keywords:
            self.exact.setdefault(s.keyword or "", s)
        self.args: list[TerminalSpec] = sorted(
            (s for s in specs if s.keyword is None), key=_arg_rank
        )
        self.rest_of_line = any(s.rest_of_line for s in self.args)
        self.end_ok = "$END" in accepts
        self.command: str | None = None
        self.rules: tuple[str, ...] = ()
        if self.end_ok:
            tree = ip.copy().feed_eof()  # type: ignore[attr-defined]
            self.command = str(tree.children[0].data)
            self.rules = tuple(str(t.data) for t in tree.children[0].iter_subtrees_topdown())
        self.children: dict[str, Node] = {}
        # word -> the keyword it abbreviates here (only unambiguous keyword matches)
        self.keyword_memo: dict[str, TerminalSpec] = {}

    def child(self, terminal: str) -> Node:
        """The state after this one has accepted ``terminal``."""
        node = self.children.get(terminal)
        if node is None:
            ip = self._ip.copy()  # type: ignore[attr-defined]
            ip.feed_token(Token(terminal, "x"))
            node = Node(self._grammar, ip)
            self.children[terminal] = node
        return node

    def keyword_matches(self, prefix: str) -> list[TerminalSpec]:
        """The keywords that ``prefix`` abbreviates, one per distinct word."""
        out: list[TerminalSpec] = []
        if prefix and prefix[0] not in self.first_chars:
            return out
        seen: set[str] = set()
        for s in self.keywords:
            kw = s.keyword or ""
            if kw.startswith(prefix) and kw not in seen:
                seen.add(kw)
                out.append(s)
        return out

    def caret_offset(self, text: str) -> int:
        """How many characters of ``text`` still match some acceptable keyword."""
        best = 0
        for s in self.keywords:
            best = max(best, _common_prefix(text, s.keyword or ""))
        return best


@dataclass
class _Roots:
    grammar: Grammar
    nodes: dict[str, Node] = field(default_factory=dict)

    def root(self, start: str) -> Node:
        node = self.nodes.get(start)
        if node is None:
            ip = self.grammar.parser.parse_interactive(start=start)
            node = Node(self.grammar, ip)
            self.nodes[start] = node
        return node


_roots: _Roots | None = None


def roots() -> _Roots:
    """The memoised parser states of every mode (built on first use)."""
    global _roots
    if _roots is None:
        _roots = _Roots(load())
    return _roots


def _match_word(node: Node, word: str, text: str, col: int, line: str
                ) -> tuple[TerminalSpec, str]:
    """Match a word (at column ``col``; ``text`` is it in lower case) that is not a keyword
    known at ``node`` (see ``walk``)."""
    kws = node.keyword_matches(text)
    if len(kws) == 1:
        node.keyword_memo[text] = kws[0]
        return kws[0], kws[0].keyword or text
    if len(kws) > 1:
        raise AmbiguousCommand(line)
    for spec in node.args:
        if spec.rest_of_line:
            return spec, line[col:].rstrip(BLANKS)
        value = _arg_value(spec, word)
        if value is not None:
            return spec, value
    raise InvalidInput(col + node.caret_offset(text))


# Arg(...) goes through a Python-level __new__; the tuple's own is half the cost, and walk
# builds one per word of every line replayed.
_new_arg = tuple.__new__


def walk(start: str, line: str, words: list[Word] | None = None) -> tuple[Node, list[Arg]]:
    """Feed every word of ``line`` in mode ``start``; return the state reached.

    Raises ``InvalidInput`` / ``AmbiguousCommand`` at the first word that does not fit.
    """
    # (text, column) pairs: the Word tuples of ``words``, or plain ones built cheaper
    pairs: list[tuple[str, int]] | list[Word] = (
        [(m[0], m.start()) for m in _WORD_RE.finditer(line)] if words is None else words)
    node = roots().root(start)
    args: list[Arg] = []
    i = 0
    n = len(pairs)
    while i < n:
        word, col = pairs[i]
        text = word.lower() if word.isascii() else ascii_lower(word)
        spec = node.exact.get(text) or node.keyword_memo.get(text)
        if spec is not None:  # a keyword, typed in full or abbreviated before: the usual case
            args.append(_new_arg(Arg, (spec.name, spec.keyword or text, col)))
            node = node.children.get(spec.name) or node.child(spec.name)
            i += 1
            continue
        if word.startswith("!") and not node.rest_of_line:
            break  # the rest of the line is a comment
        spec, value = _match_word(node, word, text, col, line)
        if spec.rest_of_line:
            args.append(_new_arg(Arg, (spec.name, value, col)))
            return node.child(spec.name), args
        if spec.interface:
            if value is None:
                raise InvalidInput(col)
            if value.isalpha():
                # "interface GigabitEthernet 0/0": the number as a second word
                if i + 1 >= n:
                    raise IncompleteCommand()
                second, second_col = pairs[i + 1]
                joined = match_interface_name(word + second)
                if joined is None:
                    raise InvalidInput(second_col)
                value = joined
                i += 1
        args.append(_new_arg(Arg, (spec.name, value, col)))
        node = node.child(spec.name)
        i += 1
    return node, args


_FIRST_WORD: dict[tuple[str, str], int | None] = {}
_Key = TypeVar("_Key", tuple[str, str], tuple[str, str, str])


def first_word_caret(start: str, word: str) -> int | None:
    """A cheap pre-check of a line's first word in mode ``start``, before any parse.

    None if some command of the mode may begin with ``word`` (only a parse tells more).
    Otherwise every line that begins with it fails there, and this is how far into the
    word the caret of that error goes (``InvalidInput`` at the word's column plus this):
    the first word matches no keyword of the mode and none of its first arguments.
    """
    key = (start, word)
    if key in _FIRST_WORD:
        return _FIRST_WORD[key]
    node = roots().root(start)
    text = ascii_lower(word)
    caret = None if _starts_a_command(node, word, text) else node.caret_offset(text)
    return _remember(_FIRST_WORD, key, caret)


_SECOND_WORD: dict[tuple[str, str, str], int | None] = {}


def _remember(store: dict[_Key, int | None], key: _Key, caret: int | None) -> int | None:
    """``caret`` kept under ``key`` in a word pre-check's cache, emptied when it is full."""
    if len(store) >= _PARSED_MAX:
        store.clear()
    store[key] = caret
    return caret


def second_word_caret(start: str, first: str, second: str) -> int | None:
    """The pre-check of ``first_word_caret`` one word further, for a first word the mode
    knows (``crypto`` in ``(config-if)#``, where ``crypto isakmp ...`` still fails).

    None if ``first`` is not exactly one keyword of mode ``start`` (an ambiguous word, an
    argument or a comment: only a parse tells) or if some command of the mode may go on
    with ``second`` after it. Otherwise every line that begins with the two words fails at
    the second, and this is how far into it the caret goes, as the parse would put it.
    """
    key = (start, first, second)
    if key in _SECOND_WORD:
        return _SECOND_WORD[key]
    node = roots().root(start)
    after = _after_keyword(node, ascii_lower(first))
    caret: int | None = None
    if after is not None:
        text = ascii_lower(second)
        if not _starts_a_command(after, second, text):
            caret = after.caret_offset(text)
    return _remember(_SECOND_WORD, key, caret)


def _after_keyword(node: Node, text: str) -> Node | None:
    """The state ``walk`` reaches from ``node`` by the word ``text`` (in lower case) when
    that word is one keyword there, typed in full or abbreviated; None otherwise."""
    spec = node.exact.get(text)
    if spec is None:
        found = node.keyword_matches(text)
        if len(found) != 1:
            return None
        spec = found[0]
    return node.child(spec.name)


def _starts_a_command(node: Node, word: str, text: str) -> bool:
    """Whether ``walk`` would get past ``word`` (``text`` in lower case) at ``node``: a
    keyword (or several: ambiguous), an argument, or a comment, all left to the parse."""
    if text in node.exact or node.keyword_matches(text) or word.startswith("!"):
        return True
    return any(s.rest_of_line or _arg_value(s, word) is not None for s in node.args)


def starts_with_argument(start: str) -> bool:
    """Whether a command of mode ``start`` may begin with an argument (not a keyword)."""
    return bool(roots().root(start).args)


_PARSED: dict[tuple[str, str], Match | CliError] = {}
_PARSED_MAX = 8192


def parse(start: str, line: str) -> Match:
    """Parse a whole command line in mode ``start``.

    Raises ``InvalidInput``, ``AmbiguousCommand`` or ``IncompleteCommand``.  Parsing is a
    pure function of (mode, line), and configs repeat lines (`` hash sha256``, ``!``), so
    recent results are kept.
    """
    key = (start, line)
    found = _PARSED.get(key)
    if found is None:
        try:
            node, args = walk(start, line)
            if not node.end_ok or node.command is None:
                raise IncompleteCommand()
            found = Match(node.command, tuple(args), node.rules)
        except CliError as e:
            found = e.with_traceback(None)  # kept: not the frames it was raised through
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = found
    if isinstance(found, CliError):
        raise found.with_traceback(None)  # a cached error must not collect tracebacks
    return found
