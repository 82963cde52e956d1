"""Anti-replay window for inbound ESP and AH SAs (RFC 4303 3.4.3 and Appendix A, RFC 4302 3.4.3).

Theory of operation
-------------------
The receiver remembers the highest authenticated sequence number (``top``) and a bitmap of the
``size`` numbers ending at it: bit *i* set means ``top - i`` has been received.  Processing an
inbound packet is split in two, as strongSwan's libipsec does (``verify_seqno`` /
``set_authenticated_seqno``):

1. :meth:`ReplayWindow.check` runs on the sequence number from the *unauthenticated* header,
   before the ICV is computed, so duplicates and stale packets are dropped cheaply;
2. :meth:`ReplayWindow.update` runs only after the ICV verified, so a forged packet with a huge
   sequence number can never slide the window and lock the genuine sender out.

IOS sizes the window with ``crypto ipsec security-association replay window-size`` (64, the
default, up to 1024) and turns it off with ``... replay disable``; both are modelled.  Sequence
number 0 is never sent (RFC 4303 3.3.3: the first packet carries 1), so it always fails.
Extended (64-bit) sequence numbers are not modelled.
"""

from __future__ import annotations

import enum

__all__ = ["DEFAULT_WINDOW_SIZE", "MAX_WINDOW_SIZE", "ReplayStatus", "ReplayWindow"]

DEFAULT_WINDOW_SIZE = 64
"""IOS default anti-replay window (packets)."""

MAX_WINDOW_SIZE = 1024
"""Largest window IOS accepts."""

_SEQ_MAX = 0xFFFFFFFF


class ReplayStatus(enum.Enum):
    """Outcome of :meth:`ReplayWindow.check`."""

    OK = "ok"
    """New: to the right of the window, or inside it and not seen yet."""
    REPLAY = "replay"
    """Inside the window and already received."""
    TOO_OLD = "too old"
    """Left of the window (or the never-valid sequence number 0)."""


class ReplayWindow:
    """Sliding anti-replay window of ``size`` packets; ``enabled=False`` accepts everything.

    The object is the receive-side state of one SA; the ESP/AH codecs consult it but do not own
    it.  ``top`` is the highest sequence number that passed :meth:`update`.
    """

    __slots__ = ("_bitmap", "_mask", "enabled", "size", "top")

    def __init__(self, size: int = DEFAULT_WINDOW_SIZE, enabled: bool = True) -> None:
        if not 1 <= size <= MAX_WINDOW_SIZE:
            raise ValueError(f"replay window size must be 1..{MAX_WINDOW_SIZE}, not {size}")
        self.size = size
        self.enabled = enabled
        self.top = 0
        self._bitmap = 1  # bit 0 stands for `top`; sequence number 0 counts as seen
        self._mask = (1 << size) - 1

    def check(self, seq: int) -> ReplayStatus:
        """Classify ``seq`` without changing the window (call before verifying the ICV)."""
        if not self.enabled:
            return ReplayStatus.OK
        if not 0 < seq <= _SEQ_MAX:
            return ReplayStatus.TOO_OLD
        top = self.top
        if seq > top:
            return ReplayStatus.OK
        offset = top - seq
        if offset >= self.size:
            return ReplayStatus.TOO_OLD
        if self._bitmap >> offset & 1:
            return ReplayStatus.REPLAY
        return ReplayStatus.OK

    def update(self, seq: int) -> None:
        """Mark ``seq`` received, sliding the window right if needed.

        Call only after the packet's ICV verified.  With the window disabled only ``top`` is
        tracked (``show crypto ipsec sa`` still has a highest sequence number to show).
        """
        top = self.top
        if seq > top:
            shift = seq - top
            self._bitmap = ((self._bitmap << shift) | 1) & self._mask if shift < self.size else 1
            self.top = seq
        elif self.enabled:
            offset = top - seq
            if offset < self.size:
                self._bitmap |= 1 << offset

    def accept(self, seq: int) -> ReplayStatus:
        """:meth:`check` then :meth:`update` in one step, for packets already authenticated."""
        status = self.check(seq)
        if status is ReplayStatus.OK:
            self.update(seq)
        return status

    def __repr__(self) -> str:
        state = "enabled" if self.enabled else "disabled"
        return f"ReplayWindow(size={self.size}, top={self.top}, {state})"
