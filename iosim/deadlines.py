"""Exact deadline arithmetic, and a keyed deadline heap, for every timer in iosim.

Theory of operation
-------------------
Virtual time is a float, and float differences lie: with ``last = 0.1`` and ``interval = 20``,
``(last + interval) - last`` is not ``interval``. A timer armed at ``last + interval`` that
then asks "``now - last >= interval``?" can answer False at the very instant it was armed
for, re-arm at that same instant, and spin there for ever (virtual time never moves). So
iosim never decides a timer from a difference:

* a timer is armed at an absolute deadline and, when it fires, compares ``now`` with that
  same deadline (``now >= deadline``), computed by the same expression from the same values
  (floating-point arithmetic is deterministic: the same sum gives the same float);
* a periodic timer re-arms at :func:`deadline_after` ``(now, period)``, which is strictly
  later than ``now`` even when the period is too small to register at ``now``'s magnitude
  (``1e17 + 1.0 == 1e17``): then it is one ulp later.

:class:`DeadlineQueue` keeps one deadline per key (a peer, a datagram being reassembled) in
a binary heap with lazy deletion: setting, clearing or moving a key's deadline is O(log n),
the next deadline O(1) amortised, and :meth:`DeadlineQueue.pop_due` returns only the keys
that are due -- nothing is rescanned on each query, so the cost of a timer does not grow
with the number of keys.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["DeadlineQueue", "deadline_after"]

K = TypeVar("K", bound=Hashable)


def deadline_after(now: float, delay: float) -> float:
    """``now + delay``, but strictly later than ``now`` for any ``delay`` > 0 (one ulp
    later when ``delay`` is lost in ``now``'s precision); ``now`` itself for ``delay`` <= 0."""
    when = now + delay
    if delay > 0 and not when > now:
        return math.nextafter(now, math.inf)
    return when


class DeadlineQueue(Generic[K]):
    """One deadline per key; the earliest first (see the module docstring)."""

    def __init__(self) -> None:
        self._at: dict[K, float] = {}
        self._heap: list[tuple[float, int, K]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        """How many keys have a deadline."""
        return len(self._at)

    def __contains__(self, key: object) -> bool:
        return key in self._at

    def get(self, key: K) -> float | None:
        """The deadline of ``key``, or None."""
        return self._at.get(key)

    def set(self, key: K, when: float | None) -> None:
        """Give ``key`` the deadline ``when`` (None: no deadline). O(log n)."""
        if when is None:
            self._at.pop(key, None)
            return
        if self._at.get(key) == when:
            return
        self._at[key] = when
        heapq.heappush(self._heap, (when, next(self._seq), key))
        if len(self._heap) > 2 * len(self._at) + 64:
            self._compact()

    def discard(self, key: K) -> None:
        """Forget ``key``'s deadline (if any)."""
        self._at.pop(key, None)

    def next(self) -> float | None:
        """The earliest deadline, or None."""
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> list[K]:
        """The keys whose deadline is ``now`` or earlier, earliest first (ties in the order
        they were set); their deadlines are removed."""
        due: list[K] = []
        heap, at = self._heap, self._at
        while heap and heap[0][0] <= now:
            when, _, key = heapq.heappop(heap)
            if at.get(key) == when:
                del at[key]
                due.append(key)
        return due

    def _drop_stale(self) -> None:
        heap, at = self._heap, self._at
        while heap and at.get(heap[0][2]) != heap[0][0]:
            heapq.heappop(heap)

    def _compact(self) -> None:
        """Keep one live entry per key (the one set last), so a key whose deadline moves
        back and forth cannot grow the heap."""
        live: dict[K, tuple[float, int, K]] = {}
        for entry in self._heap:
            when, seq, key = entry
            if self._at.get(key) == when and (key not in live or live[key][1] < seq):
                live[key] = entry
        self._heap = list(live.values())
        heapq.heapify(self._heap)
