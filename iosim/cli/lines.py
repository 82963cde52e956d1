"""Text as IOS reads it: bytes, line ends and the blanks between words.

IOS reads bytes.  A line ends at a carriage return or a line feed (CR LF is one end); the
words of a line are separated by spaces and tabs only, so anything else (a no-break space,
a vertical tab, a form feed, U+2028) is part of a word or of a ``LINE`` argument.  Python's
``str.split()``, ``str.strip()`` and ``str.splitlines()`` know many more separators, so
console input, replayed configs and saved files go through these helpers instead.

iosim holds lines as ``str``: bytes that are UTF-8 decode as text, any other byte as a lone
surrogate (Python's ``surrogateescape``), so a line typed, saved to NVRAM and booted again
is the same bytes.  A string no byte sequence gives (a surrogate outside U+DC80..U+DCFF,
possible only through the Python API) is refused at the console as IOS refuses a bad
character: with the caret under it.
"""

from __future__ import annotations

import io
import os
import re
from typing import TextIO

#: What separates words on an IOS command line.
BLANKS = " \t"
ENCODING = "utf-8"
ERRORS = "surrogateescape"  # a byte that is not UTF-8 is kept as U+DC80..U+DCFF

_LINE_END = re.compile(r"\r\n|\r|\n")
_WORD = re.compile(r"[^ \t]+")
_NOT_A_BYTE = re.compile("[\ud800-\udc7f\udd00-\udfff]")
_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ios_strip(text: str) -> str:
    """``text`` without the spaces and tabs around it."""
    return text.strip(BLANKS)


def ios_split(text: str, maxsplit: int = -1) -> list[str]:
    """The words of ``text`` (separated by spaces and tabs); with ``maxsplit``, the last
    item is the rest of the line from its first word on, as ``str.split`` gives it."""
    if maxsplit < 0:
        return _WORD.findall(text)
    words: list[str] = []
    for m in _WORD.finditer(text):
        if len(words) == maxsplit:
            words.append(text[m.start():])
            break
        words.append(m[0])
    return words


def first_word(text: str) -> str:
    """The first word of ``text`` (words end at spaces and tabs), or "" if it has none."""
    m = _WORD.search(text)
    return m[0] if m is not None else ""


def ascii_lower(text: str) -> str:
    """``text`` with A-Z in lower case: IOS ignores the case of ASCII letters only."""
    return text.lower() if text.isascii() else text.translate(_UPPER)


def split_lines(text: str) -> list[str]:
    """The lines of a config or script: they end at CR, LF or CR LF, nowhere else (a final
    line end starts no empty line)."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def output_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of what a command printed: they end at LF only (a CR or a vertical tab
    inside a description is part of its line)."""
    lines = text.split("\n")
    last = lines.pop()
    if keepends:
        lines = [ln + "\n" for ln in lines]
    if last:
        lines.append(last)
    return lines


def to_bytes(text: str) -> bytes:
    """The bytes that ``text`` stands for (see the module doc)."""
    return text.encode(ENCODING, ERRORS)


def from_bytes(data: bytes) -> str:
    """Bytes as iosim's text: UTF-8, any other byte kept as a lone surrogate."""
    return data.decode(ENCODING, ERRORS)


def byte_length(text: str) -> int:
    """How many bytes ``text`` takes in NVRAM or on the wire."""
    return len(text) if text.isascii() else len(to_bytes(text))


def truncate_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes, as IOS cuts a long argument (a character
    cut in two keeps its first bytes)."""
    if len(text) <= limit and text.isascii():
        return text
    return from_bytes(to_bytes(text)[:limit])


def bad_character(line: str) -> int | None:
    """The column of the first character that no byte sequence gives, or None."""
    if line.isascii():
        return None
    m = _NOT_A_BYTE.search(line)
    return m.start() if m else None


def argument_text(arg: str) -> str:
    """A command-line argument (``--seed``) as UTF-8 text whatever the locale: its bytes
    decoded as UTF-8, a byte that is not UTF-8 spelt ``\\xNN``."""
    try:
        raw = os.fsencode(arg)
    except UnicodeEncodeError:
        raw = arg.encode(ENCODING, "backslashreplace")
    return raw.decode(ENCODING, "backslashreplace")


def byte_console(stdin: TextIO, stdout: TextIO) -> None:
    """Make piped standard input and output carry bytes, as a router's console line does.

    Whatever the locale or ``PYTHONIOENCODING``: lines end at CR or LF, UTF-8 reads as
    text, and every other byte is read, echoed and saved unchanged.
    """
    if isinstance(stdin, io.TextIOWrapper):
        stdin.reconfigure(encoding=ENCODING, errors=ERRORS, newline=None)
    if isinstance(stdout, io.TextIOWrapper):
        stdout.reconfigure(encoding=ENCODING, errors=ERRORS)
