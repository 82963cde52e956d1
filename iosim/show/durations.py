"""How IOS prints a span of time in its show commands."""

from __future__ import annotations


def hms(seconds: float) -> str:
    """``hh:mm:ss``, the hours padded to two digits (``00:04:12``, ``23:59:59``, ``36:00:00``)."""
    s = max(0, int(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def elapsed(seconds: float) -> str:
    """A time span as IOS's ages and uptimes print it: ``00:04:12`` within a day,
    ``3d18h`` (``1d02h``) within a week, ``7w0d`` beyond."""
    s = max(0, int(seconds))
    days, hours = s // 86400, s % 86400 // 3600
    if days >= 7:
        return f"{days // 7}w{days % 7}d"
    if days:
        return f"{days}d{hours:02d}h"
    return hms(s)


def since(now: float, then: float | None) -> str:
    """How long ago ``then`` was (``elapsed``), or ``never``."""
    return "never" if then is None else elapsed(now - then)
