"""Randomness for a lab: reproducible by default, the operating system's where it matters.

Every cookie, nonce, SPI, DH private and IV of a device comes from its :class:`RandomSource`,
a ``rand(n) -> bytes`` callable the engines and codecs take. By default it draws from a
:class:`SeededRandom` stream (SHA-256 in counter mode, seeded with the lab and device
names), so the same lab run twice gives the same bytes on every wire -- what tests, graded
labs and captures to compare need. A router bound to real sockets (``iosim console
--bridge``) talks to a real peer over a real network, where a predictable cookie, nonce or
DH private would let a listener test pre-shared-key guesses offline: its source is switched
to the operating system's (:func:`os_random`, ``secrets``) with
:meth:`RandomSource.use_os_randomness`, for everything it draws from then on.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

__all__ = ["RandomSource", "SeededRandom", "os_random"]


class SeededRandom:
    """``rand(n) -> bytes``: a deterministic byte stream (not for secrets outside a lab)."""

    def __init__(self, seed: str) -> None:
        self._key = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).digest()
        self._counter = 0
        self._buffer = b""

    def __call__(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            self._buffer += block
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out


def os_random(n: int) -> bytes:
    """``n`` bytes from the operating system's cryptographic random source."""
    return secrets.token_bytes(n)


class RandomSource:
    """A device's ``rand(n) -> bytes``: seeded until told to use the OS (module docstring)."""

    def __init__(self, seed: str) -> None:
        self._draw: Callable[[int], bytes] = SeededRandom(seed)
        self.seeded = True

    def __call__(self, n: int) -> bytes:
        return self._draw(n)

    def use_os_randomness(self) -> None:
        """Draw from the operating system from now on (no way back: a reproducible stream
        after real traffic would only mislead)."""
        self._draw = os_random
        self.seeded = False
