"""How IOS prints a span of time: hh:mm:ss with the hours padded, 1d02h, 7w0d, never."""

from __future__ import annotations

from iosim.show.durations import elapsed, hms, since


def test_hms_pads_the_hours() -> None:
    assert hms(0) == "00:00:00"
    assert hms(3599.9) == "00:59:59"
    assert hms(86399) == "23:59:59"
    assert hms(36 * 3600) == "36:00:00"
    assert hms(-5) == "00:00:00"


def test_elapsed_switches_to_days_and_weeks() -> None:
    assert elapsed(252) == "00:04:12"
    assert elapsed(86400 + 2 * 3600 + 59) == "1d02h"
    assert elapsed(3 * 86400 + 18 * 3600) == "3d18h"
    assert elapsed(7 * 86400) == "1w0d"
    assert elapsed(50 * 86400) == "7w1d"


def test_since_says_never_for_nothing() -> None:
    assert since(100.0, None) == "never"
    assert since(100.0, 40.0) == "00:01:00"
