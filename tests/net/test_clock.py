"""Tests for iosim.clock: deterministic ordering, advancing, cancelling, wall-clock mapping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iosim.clock import ClockError, TimerHandle, VirtualClock, WallClockSync


def test_events_run_in_time_order_with_ties_in_insertion_order() -> None:
    clock = VirtualClock()
    log: list[tuple[float, str]] = []
    for when, name in [(3.0, "c"), (1.0, "a"), (2.0, "b1"), (2.0, "b2"), (2.0, "b3")]:
        clock.call_at(when, lambda n=name: log.append((clock.now, n)))
    assert clock.advance(10) == 5
    assert log == [(1.0, "a"), (2.0, "b1"), (2.0, "b2"), (2.0, "b3"), (3.0, "c")]
    assert clock.now == 10.0


def test_advance_stops_at_window_and_keeps_later_events() -> None:
    clock = VirtualClock(start=100.0)
    ran: list[str] = []
    clock.call_later(5, ran.append, "due")
    clock.call_later(5.000001, ran.append, "later")
    assert clock.advance(5) == 1
    assert ran == ["due"] and clock.now == 105.0
    assert clock.next_deadline() == pytest.approx(105.000001)
    assert len(clock) == 1


def test_callbacks_scheduling_inside_the_window_run_in_same_advance() -> None:
    clock = VirtualClock()
    log: list[tuple[float, str]] = []

    def retransmit(n: int) -> None:
        log.append((clock.now, f"tx{n}"))
        if n < 5:
            clock.call_later(1.0, retransmit, n + 1)

    clock.call_at(0.5, retransmit, 1)
    clock.call_at(2.5, lambda: log.append((clock.now, "other")))
    clock.advance(3.0)
    assert log == [(0.5, "tx1"), (1.5, "tx2"), (2.5, "other"), (2.5, "tx3")]
    clock.advance(10)
    assert [name for _, name in log][-2:] == ["tx4", "tx5"]
    assert clock.next_deadline() is None


def test_call_soon_runs_after_already_due_events_at_same_instant() -> None:
    clock = VirtualClock()
    order: list[str] = []

    def first() -> None:
        order.append("first")
        clock.call_soon(order.append, "soon")

    clock.call_at(1, first)
    clock.call_at(1, order.append, "second")
    clock.advance(1)
    assert order == ["first", "second", "soon"]


def test_past_deadline_runs_without_moving_time_back() -> None:
    clock = VirtualClock()
    clock.advance(10)
    seen: list[float] = []
    clock.call_at(3, lambda: seen.append(clock.now))
    clock.advance(0)
    assert seen == [10.0] and clock.now == 10.0


def test_cancel() -> None:
    clock = VirtualClock()
    ran: list[str] = []
    keep = clock.call_at(1, ran.append, "keep")
    drop = clock.call_at(1, ran.append, "drop")
    assert isinstance(drop, TimerHandle) and drop.pending
    drop.cancel()
    clock.cancel(drop)  # idempotent
    assert drop.cancelled and not drop.pending and len(clock) == 1
    clock.advance(2)
    assert ran == ["keep"] and keep.done and not keep.cancelled
    keep.cancel()  # after it ran: no effect
    assert keep.done and not keep.cancelled and len(clock) == 0
    assert "done" in repr(keep) and "cancelled" in repr(drop)


def test_callback_can_cancel_a_later_event_in_the_same_window() -> None:
    clock = VirtualClock()
    ran: list[str] = []
    victim = clock.call_at(2, ran.append, "victim")
    clock.call_at(1, victim.cancel)
    clock.advance(5)
    assert ran == [] and victim.cancelled


def test_next_deadline_skips_cancelled_events() -> None:
    clock = VirtualClock()
    assert clock.next_deadline() is None
    early = clock.call_at(1, lambda: None)
    clock.call_at(7, lambda: None)
    early.cancel()
    assert clock.next_deadline() == 7.0


def test_mass_cancellation_during_advance_compacts_safely() -> None:
    clock = VirtualClock()
    ran: list[int] = []
    handles = [clock.call_at(10 + i, ran.append, i) for i in range(500)]

    def cancel_most() -> None:
        for handle in handles[:-3]:
            handle.cancel()

    clock.call_at(5, cancel_most)
    clock.advance(1000)
    assert ran == [497, 498, 499]
    assert len(clock) == 0 and clock.next_deadline() is None


def test_run_until_idle_jumps_between_deadlines() -> None:
    clock = VirtualClock()
    seen: list[float] = []
    clock.call_at(3600, lambda: seen.append(clock.now))
    clock.call_at(86400, lambda: seen.append(clock.now))
    assert clock.run_until_idle() == 2
    assert seen == [3600.0, 86400.0] and clock.now == 86400.0


def test_run_until_idle_refuses_to_spin_forever() -> None:
    clock = VirtualClock()

    def keepalive() -> None:
        clock.call_later(10, keepalive)

    clock.call_later(10, keepalive)
    with pytest.raises(ClockError, match="not idle after 50 events"):
        clock.run_until_idle(limit=50)
    assert clock.now == 500.0 and len(clock) == 1


def test_reentrant_advance_is_refused() -> None:
    clock = VirtualClock()
    errors: list[Exception] = []

    def bad() -> None:
        try:
            clock.advance(1)
        except ClockError as exc:
            errors.append(exc)

    clock.call_at(1, bad)
    clock.advance(1)
    assert len(errors) == 1
    clock.advance(1)  # the clock is usable afterwards
    assert clock.now == 2.0


def test_exception_in_callback_propagates_and_clock_stays_consistent() -> None:
    clock = VirtualClock()
    ran: list[str] = []

    def boom() -> None:
        raise RuntimeError("boom")

    clock.call_at(1, boom)
    clock.call_at(2, ran.append, "after")
    with pytest.raises(RuntimeError, match="boom"):
        clock.advance(5)
    assert clock.now == 1.0 and len(clock) == 1
    clock.advance(4)
    assert ran == ["after"] and clock.now == 5.0


@pytest.mark.parametrize(
    "action",
    [
        lambda c: c.advance(-1),
        lambda c: c.advance(float("nan")),
        lambda c: c.advance_to(-5),
        lambda c: c.call_later(-0.1, print),
        lambda c: c.call_at(float("inf"), print),
        lambda c: c.run_until_idle(limit=-1),
        lambda c: VirtualClock().cancel(c.call_at(1, print)),
        lambda c: VirtualClock(start=float("nan")),
    ],
)
def test_misuse_is_rejected(action: object) -> None:
    clock = VirtualClock()
    with pytest.raises(ClockError):
        action(clock)  # type: ignore[operator]


def test_advance_to_absolute_time() -> None:
    clock = VirtualClock()
    seen: list[float] = []
    clock.call_at(4, lambda: seen.append(clock.now))
    assert clock.advance_to(4) == 1
    assert seen == [4.0] and clock.now == 4.0


@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), max_size=60), st.integers(0, 25))
def test_order_is_sorted_by_deadline_then_insertion(
    plan: list[tuple[int, bool]], window: int
) -> None:
    clock = VirtualClock()
    ran: list[int] = []
    handles = [clock.call_at(when / 2, ran.append, i) for i, (when, _) in enumerate(plan)]
    for handle, (_, cancel) in zip(handles, plan, strict=True):
        if cancel:
            handle.cancel()
    clock.advance(window / 2)
    expected = sorted(
        (i for i, (when, cancel) in enumerate(plan) if not cancel and when <= window),
        key=lambda i: (plan[i][0], i),
    )
    assert ran == expected
    assert len(clock) == sum(1 for when, cancel in plan if not cancel and when > window)


class FakeWall:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_wall_clock_sync_maps_elapsed_time_with_speed() -> None:
    clock = VirtualClock()
    wall = FakeWall()
    sync = WallClockSync(clock, speed=10.0, time_source=wall)
    fired: list[float] = []
    clock.call_at(30, lambda: fired.append(clock.now))
    assert sync.seconds_until_due() == pytest.approx(3.0)
    wall.t += 1.0
    assert sync.seconds_until_due() == pytest.approx(2.0)
    assert sync.sync() == 0 and clock.now == pytest.approx(10.0)
    wall.t += 2.5
    assert sync.sync() == 1 and fired == [30.0] and clock.now == pytest.approx(35.0)
    assert sync.seconds_until_due() is None
    wall.t -= 5  # a wall clock going backwards never moves virtual time back
    sync.sync()
    assert clock.now == pytest.approx(35.0)
    with pytest.raises(ClockError):
        WallClockSync(clock, speed=0)


# --- the runaway guard --------------------------------------------------------------------------


def _rearm_at_once(clock: VirtualClock) -> None:
    """A broken periodic timer: re-arms at the instant it runs, so time never moves."""
    clock.call_at(clock.now, _rearm_at_once, clock)


def test_a_timer_that_keeps_time_still_is_stopped_and_named() -> None:
    clock = VirtualClock(start=5.0)
    clock.call_at(7.5, _rearm_at_once, clock)
    clock.call_at(8.0, lambda: None)
    with pytest.raises(ClockError, match=r"1000000 events ran at virtual time 7\.5 .*"
                                         r"dropped _rearm_at_once"):
        clock.advance(10)
    # the runaway is gone (dropped, not re-armed); time and the rest of the queue carry on
    assert clock.now == 7.5 and len(clock) == 1
    assert clock.advance(10) == 1 and clock.now == 17.5


def test_many_events_at_one_instant_are_fine_below_the_limit() -> None:
    """The guard counts events since time last moved: a burst at one instant and time
    moving in between never trips it."""
    clock = VirtualClock(stall_limit=1_000)
    ran: list[float] = []
    for _ in range(1_000):
        clock.call_at(1.0, lambda: ran.append(clock.now))
    for i in range(3):
        clock.call_at(2.0 + i, lambda: ran.append(clock.now))
    clock.advance(10)
    assert len(ran) == 1_003
    clock.call_soon(lambda: None)
    clock.call_at(clock.now, lambda: None)
    assert clock.advance(0) == 2  # after time moved, the count starts again


def test_a_stall_limit_must_be_positive() -> None:
    with pytest.raises(ClockError):
        VirtualClock(stall_limit=0)


def test_a_pacer_interrupted_while_waiting_loses_no_event() -> None:
    from iosim.clock import VirtualClock

    clock = VirtualClock()
    fired: list[float] = []
    clock.call_at(5.0, lambda: fired.append(clock.now))

    def impatient(when: float) -> None:
        raise KeyboardInterrupt

    clock.pacer = impatient
    try:
        clock.advance(10)
    except KeyboardInterrupt:
        pass
    clock.pacer = None
    assert fired == [] and len(clock) == 1  # still due
    clock.advance(10)
    assert fired == [5.0]
