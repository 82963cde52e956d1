"""IOS password encodings: type 5 (MD5-crypt) secrets and type 7 (reversible) passwords.

Both work on the password's bytes (``iosim.cli.lines``), as IOS does: any byte may be in a
password, and a type 7 password decodes to the bytes that were typed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from iosim.cli.lines import from_bytes, to_bytes

try:  # CPython's own MD5: on the short inputs of MD5-crypt's 1,000 rounds, about three times
    # faster than OpenSSL's through hashlib (whose per-call set-up dominates there)
    from _md5 import md5 as _short_md5  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # another Python: the same digest through hashlib
    _short_md5 = hashlib.md5
_MD5: Callable[[bytes], Any] = _short_md5

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# The fixed key of the type 7 encoding (published with the algorithm).
_XLAT = b"dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"


def _to64(value: int, n: int) -> str:
    out = []
    for _ in range(n):
        out.append(_ITOA64[value & 0x3F])
        value >>= 6
    return "".join(out)


def md5_crypt(password: str, salt: str) -> str:
    """The ``$1$salt$hash`` MD5-crypt of ``password`` (what ``enable secret`` stores)."""
    pw = to_bytes(password)
    s = to_bytes(salt)[:8]
    alt = hashlib.md5(pw + s + pw).digest()
    ctx = hashlib.md5(pw + b"$1$" + s)
    n = len(pw)
    while n > 0:
        ctx.update(alt[: min(16, n)])
        n -= 16
    i = len(pw)
    while i:
        ctx.update(b"\0" if i & 1 else pw[:1])
        i >>= 1
    final = ctx.digest()
    # Round r hashes (pw or final) + (salt unless r % 3 == 0) + (pw unless r % 7 == 0) +
    # (final or pw): the constant part around ``final`` repeats every 42 rounds, so each
    # round is one concatenation and one hash call.
    around = [((s if r % 3 else b"") + (pw if r % 7 else b"")) for r in range(42)]
    before = [pw + mid for mid in around]  # odd rounds: pw ... final
    after = [mid + pw for mid in around]  # even rounds: final ... pw
    md5 = _MD5
    for r in range(1000):
        final = (md5(before[r % 42] + final) if r & 1 else md5(final + after[r % 42])).digest()
    f = final
    text = "".join(
        _to64((f[a] << 16) | (f[b] << 8) | f[c], 4)
        for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5))
    ) + _to64(f[11], 2)
    return f"$1${salt}${text}"


def salt_for(seed: str) -> str:
    """A deterministic 4-character salt (IOS uses 4) derived from ``seed``."""
    digest = hashlib.sha256(to_bytes(seed)).digest()
    return "".join(_ITOA64[b & 0x3F] for b in digest[:4])


def type7_encode(password: str, offset: int = 2) -> str:
    """The type 7 form of ``password`` (two decimal digits of key offset, then hex)."""
    out = [f"{offset:02d}"]
    for i, ch in enumerate(to_bytes(password)):
        out.append(f"{ch ^ _XLAT[(offset + i) % len(_XLAT)]:02X}")
    return "".join(out)


def type7_decode(text: str) -> str | None:
    """Decode a type 7 string, or None if it is not one."""
    if len(text) < 4 or len(text) % 2 or not (text[:2].isascii() and text[:2].isdigit()):
        return None
    offset = int(text[:2])
    try:
        raw = bytes.fromhex(text[2:])
    except ValueError:
        return None
    return from_bytes(bytes(b ^ _XLAT[(offset + i) % len(_XLAT)] for i, b in enumerate(raw)))
