"""iosim.deadlines: re-armed deadlines are always later than now; the deadline heap returns
what is due, in order, and stays small however often deadlines move."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from iosim.deadlines import DeadlineQueue, deadline_after

#: start times of the kind that broke timers: decimals with no exact binary form, thirds,
#: large offsets whose low digits round away
AWKWARD_TIMES = st.one_of(
    st.sampled_from([0.1, 0.3, 1 / 3, 2 / 3, 5.0003, 1e9 + 0.7, 2.0**40 + 0.1, 1e15 + 0.3]),
    st.floats(min_value=0.0, max_value=1e16, allow_nan=False, allow_infinity=False))
DELAYS = st.one_of(st.sampled_from([0.1, 1 / 3, 0.5, 2.0, 10.0, 20.0, 60.0, 630.0]),
                   st.floats(min_value=1e-9, max_value=1e6, allow_nan=False))


@given(AWKWARD_TIMES, DELAYS)
def test_a_deadline_after_a_positive_delay_is_strictly_later(now: float, delay: float) -> None:
    assert deadline_after(now, delay) > now
    assert deadline_after(now, delay) >= now + delay


def test_a_delay_lost_in_the_precision_of_now_still_moves_time() -> None:
    assert 1e17 + 1.0 == 1e17  # the trap
    assert deadline_after(1e17, 1.0) == math.nextafter(1e17, math.inf)
    assert deadline_after(5.0, 0.0) == 5.0


def test_due_keys_come_out_earliest_first_ties_in_the_order_set() -> None:
    q: DeadlineQueue[str] = DeadlineQueue()
    for key, when in [("c", 3.0), ("a", 1.0), ("b1", 2.0), ("b2", 2.0), ("later", 9.0)]:
        q.set(key, when)
    assert q.next() == 1.0 and len(q) == 5
    assert q.pop_due(2.0) == ["a", "b1", "b2"]
    assert q.next() == 3.0 and "a" not in q and q.get("c") == 3.0
    q.set("c", 10.0)  # moved later: not due at 3 any more
    q.set("later", 0.5)  # moved earlier than now: due at once
    assert q.pop_due(3.0) == ["later"]
    q.set("c", None)
    assert q.next() is None and q.pop_due(100.0) == []


def test_moving_deadlines_back_and_forth_keeps_the_heap_small() -> None:
    """A key re-set many times leaves stale heap entries; they are compacted, so the heap
    stays within a constant factor of the live keys, for N and 10N moves alike."""
    def heap_after(moves: int) -> int:
        q: DeadlineQueue[int] = DeadlineQueue()
        for key in range(10):
            q.set(key, 1.0)
        for i in range(moves):
            q.set(i % 10, 2.0 + i % 2)  # back and forth between two values
        assert len(q) == 10
        return len(q._heap)

    assert heap_after(1_000) <= 2 * 10 + 64 + 1
    assert heap_after(10_000) <= 2 * 10 + 64 + 1
