"""Counting work, not time: how many lines of iosim run while a function does its job.

Resource tests feed N and then 10N items and compare the work per item: a structure whose
cost grows with its size (a rescan of every entry) shows up as ten times the lines, while
timings would only add noise. The count covers Python lines in the ``iosim`` package (C
code such as ``heapq`` or ``dict`` lookups counts as the one line that calls it)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import iosim

_PACKAGE = str(Path(iosim.__file__).resolve().parent)


def lines_run(fn: Callable[[], Any]) -> int:
    """How many lines of ``iosim`` code run while ``fn()`` runs."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> object:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame: FrameType, event: str, arg: object) -> object:
        if event == "call" and frame.f_code.co_filename.startswith(_PACKAGE):
            return local
        return None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return count


def mean_lines(fn: Callable[[], Any], times: int) -> float:
    """The mean of :func:`lines_run` over ``times`` calls of ``fn``."""
    return sum(lines_run(fn) for _ in range(times)) / times
