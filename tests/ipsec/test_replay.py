"""Anti-replay window (RFC 4303 3.4.3 / Appendix A)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iosim.ipsec.replay import DEFAULT_WINDOW_SIZE, ReplayStatus, ReplayWindow

OK, REPLAY, TOO_OLD = ReplayStatus.OK, ReplayStatus.REPLAY, ReplayStatus.TOO_OLD


def test_default_size_is_ios_64() -> None:
    assert DEFAULT_WINDOW_SIZE == 64
    assert ReplayWindow().size == 64


def test_in_order() -> None:
    w = ReplayWindow()
    for seq in range(1, 200):
        assert w.check(seq) is OK
        w.update(seq)
        assert w.top == seq
    assert w.check(199) is REPLAY


def test_check_does_not_change_the_window() -> None:
    w = ReplayWindow()
    assert w.check(5) is OK
    assert w.check(5) is OK
    assert w.top == 0
    w.update(5)
    assert w.check(5) is REPLAY


def test_out_of_order_within_window() -> None:
    w = ReplayWindow()
    for seq in (10, 3, 7, 1, 9):
        assert w.check(seq) is OK
        w.update(seq)
    assert w.top == 10
    for seq in (2, 4, 5, 6, 8):
        assert w.check(seq) is OK
    for seq in (10, 3, 7, 1, 9):
        assert w.check(seq) is REPLAY


def test_duplicate() -> None:
    w = ReplayWindow()
    w.update(1)
    assert w.check(1) is REPLAY
    w.update(1)  # updating twice is harmless
    assert w.top == 1


def test_too_old_and_window_edge() -> None:
    w = ReplayWindow()
    w.update(100)
    assert w.check(100 - 63) is OK  # the oldest number still inside a 64-wide window
    assert w.check(100 - 64) is TOO_OLD
    assert w.check(1) is TOO_OLD
    w.update(37)
    assert w.check(37) is REPLAY


def test_wrap_at_64_slides_the_bitmap() -> None:
    w = ReplayWindow()
    for seq in range(1, 65):
        w.update(seq)
    assert all(w.check(s) is REPLAY for s in range(1, 65))
    w.update(65)  # seq 1 falls off the left edge
    assert w.check(1) is TOO_OLD
    assert w.check(2) is REPLAY
    w.update(64 + 64)  # jump: 65 is still inside, 64 is not
    assert w.check(65) is REPLAY
    assert w.check(64) is TOO_OLD
    assert w.check(100) is OK


def test_big_jump_clears_the_window() -> None:
    w = ReplayWindow()
    w.update(5)
    w.update(10_000)
    assert w.check(10_000 - 1) is OK
    assert w.check(5) is TOO_OLD
    assert w.check(10_000) is REPLAY


def test_sequence_zero_and_out_of_range_never_pass() -> None:
    w = ReplayWindow()
    assert w.check(0) is TOO_OLD
    assert w.check(2**32) is TOO_OLD
    assert w.check(2**32 - 1) is OK


def test_window_size_1024() -> None:
    w = ReplayWindow(1024)
    w.update(2000)
    assert w.check(2000 - 1023) is OK
    assert w.check(2000 - 1024) is TOO_OLD
    for seq in range(977, 2000):
        w.update(seq)
    assert w.check(977) is REPLAY
    assert w.check(1500) is REPLAY


def test_window_size_one() -> None:
    w = ReplayWindow(1)
    w.update(3)
    assert w.check(3) is REPLAY
    assert w.check(2) is TOO_OLD
    assert w.check(4) is OK


@pytest.mark.parametrize("size", [0, -1, 1025, 4096])
def test_window_size_limits(size: int) -> None:
    with pytest.raises(ValueError):
        ReplayWindow(size)


def test_disabled_accepts_everything_but_tracks_top() -> None:
    w = ReplayWindow(enabled=False)
    for seq in (5, 5, 1, 1000, 3):
        assert w.check(seq) is OK
        w.update(seq)
    assert w.top == 1000
    assert "disabled" in repr(w)


def test_accept_combines_check_and_update() -> None:
    w = ReplayWindow()
    assert w.accept(3) is OK
    assert w.accept(3) is REPLAY
    assert w.top == 3


@given(st.lists(st.integers(min_value=1, max_value=400), max_size=200),
       st.sampled_from([1, 32, 64, 128]))
def test_matches_a_set_model(seqs: list[int], size: int) -> None:
    """Reference model: the set of accepted numbers and the highest one."""
    w = ReplayWindow(size)
    seen: set[int] = set()
    top = 0
    for seq in seqs:
        if seq > top:
            expected = OK
        elif seq <= top - size:
            expected = TOO_OLD
        elif seq in seen:
            expected = REPLAY
        else:
            expected = OK
        assert w.check(seq) is expected
        if expected is OK:
            w.update(seq)
            seen.add(seq)
            top = max(top, seq)
