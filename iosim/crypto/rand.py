"""Reproducible randomness for a lab: every cookie, nonce, SPI, DH private and IV of a
device comes from a SHA-256 counter-mode stream seeded with the lab and device names, so
the same lab run twice gives the same bytes on every wire."""

from __future__ import annotations

import hashlib


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
