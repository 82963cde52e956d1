"""Debug traces reduced to the shape of their lines, to compare iosim's with captured IOS ones.

A trace is a list of debug messages (records): a stamped first line and the lines that
continue it (an ID payload block, ``SA authentication status:`` and its word, ``Crypto mapdb
: proxy_match`` and its fields). ``records`` cuts a captured trace into them (timestamps,
prompts and ping output dropped); iosim's are taken from the router as it prints them.

``shape`` keeps what a trace's reader sees -- the words and their order -- and drops what
differs from one run, router or release to the next:

* the values: addresses, conn-ids, message IDs, cookies, SPIs, pointers, lifetimes, port
  numbers, algorithm and map names (``hash SHA`` and ``hash SHA256`` are one shape);
* the prefix's layout, which IOS releases print differently: ``ISAKMP:(1001):``,
  ``ISAKMP: (1001):``, ``ISAKMP-PAK: (1001):``, ``ISAKMP (0:1001):`` are all ``ISAKMP``;
* the way IOS-XE splits one message over several stamped lines (``SA is doing`` /
  ``pre-shared key authentication ...``, an ID payload's ``address`` and ``protocol``,
  ``Trying to insert a peer`` / ``and inserted successfully``): joined as IOS 15 prints them.

``classic`` is the milder reduction for comparing with the classic IOS 15 trace: values
only, every space and tab kept, so that IOS 15's layout (``ISAKMP:(1001): processing ...``
with its space, the tabs of an ID payload, the padded ``QM_IDLE``) must be exactly there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["classic", "records", "shape", "shapes"]

_STAMP = re.compile(r"^\*?[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d(?:\.\d+)?: ")
_START = re.compile(r"^(?:ISAKMP|IPSEC|Crypto mapdb|\(ipsec_process_proposal\))")
_CONTINUED = re.compile(r"^(?:\s+\S|bring down )")


def records(text: str) -> list[str]:
    """The debug messages of a captured trace, each with its continuation lines."""
    out: list[str] = []
    joinable = False
    for raw in text.splitlines():
        line = _STAMP.sub("", raw)
        if _START.match(line):
            out.append(line)
            joinable = True
        elif joinable and _CONTINUED.match(line):
            out[-1] += "\n" + line
        else:
            joinable = False  # a prompt, ping output, a blank line: not debug
    return out


_IP = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_NUMBER = re.compile(r"(?<![\w])-?(?:0x[0-9A-Fa-f]+|[0-9A-Fa-f]*\d[0-9A-Fa-f]*)(?![\w])")
_PREFIX = re.compile(r"^ISAKMP(?:-PAK|-ERROR)?\s*:?\s*(?:\(\d+(?::\d+)?\))?:*\s*")
#: Values that are words: (pattern, replacement) on a shaped line.
_WORDS = (
    (re.compile(r"^ISAKMP (encryption|hash|authenticator is|encaps is N) .*"), r"ISAKMP \1 V"),
    (re.compile(r"^ISAKMP (SA )?life duration .*"), r"ISAKMP \1life duration V"),
    (re.compile(r"^ISAKMP transform N, .*"), "ISAKMP transform N, V"),
    (re.compile(r"vendor ID is NAT-T .*"), "vendor ID is NAT-T V"),
    (re.compile(r"Map (Accepted|found):? \S+, N"), r"Map \1 V, N"),
    (re.compile(r" on \S+$"), " on V"),
    (re.compile(r"transform= [^(]*\("), "transform= V ("),
    (re.compile(r"sa_trans= [^,]*,"), "sa_trans= V,"),
)
_CLASSIC_WORDS = ((re.compile(r"^(ISAKMP:\s+)(encryption|hash) \S+"), r"\1\2 V"),
                  (re.compile(r"vendor ID is NAT-T .*"), "vendor ID is NAT-T V"))
_JOIN_NEXT = ("ISAKMP SA is doing",)
_JOIN_PREVIOUS = ("ISAKMP and inserted successfully", "ISAKMP address :", "ISAKMP protocol :")


def _values(text: str) -> str:
    return _NUMBER.sub("N", _IP.sub("A", text))


def shape(record: str) -> str:
    """One message reduced to its shape (see the module docstring)."""
    text = " ".join(record.split())
    if text.startswith("ISAKMP"):
        text = "ISAKMP " + _PREFIX.sub("", text)
    text = _values(text).rstrip()
    for pattern, replacement in _WORDS:
        text = pattern.sub(replacement, text)
    return text


def shapes(messages: Iterable[str]) -> list[str]:
    """The shapes of a trace's messages, IOS-XE's split messages joined."""
    out: list[str] = []
    pending = ""
    for message in messages:
        s = shape(message)
        if pending:
            s, pending = pending + " " + s[len("ISAKMP "):], ""
        if s in _JOIN_NEXT:
            pending = s
        elif out and s.startswith(_JOIN_PREVIOUS):
            out[-1] += " " + s[len("ISAKMP "):]
        else:
            out.append(s)
    return out


def classic(messages: Iterable[str]) -> list[str]:
    """Messages with their values reduced and their layout kept, space for space (a
    message's trailing newlines, IOS's blank line after it, dropped)."""
    out = []
    for message in messages:
        text = _values(message.rstrip("\n"))
        for pattern, replacement in _CLASSIC_WORDS:
            text = pattern.sub(replacement, text)
        out.append(text)
    return out
