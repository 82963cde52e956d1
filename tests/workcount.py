"""Counting work, not time: how many bytecode instructions of iosim run while a function
does its job.

Resource tests feed N and then 10N items and compare the work per item: a structure whose
cost grows with its size (a rescan of every entry) shows up as ten times the instructions,
while timings would only add noise. The count covers the Python code of the ``iosim``
package, comprehensions and generator expressions included (every iteration runs
instructions); C code such as ``heapq`` or a ``dict`` lookup counts as the one instruction
that calls it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import iosim

_PACKAGE = str(Path(iosim.__file__).resolve().parent)


def work_done(fn: Callable[[], Any]) -> int:
    """How many bytecode instructions of ``iosim`` code run while ``fn()`` runs."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> object:
        nonlocal count
        if event == "opcode":
            count += 1
        return local

    def calls(frame: FrameType, event: str, arg: object) -> object:
        if event == "call" and frame.f_code.co_filename.startswith(_PACKAGE):
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
            return local
        return None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return count


def mean_work(fn: Callable[[], Any], times: int) -> float:
    """The mean of :func:`work_done` over ``times`` calls of ``fn``."""
    return sum(work_done(fn) for _ in range(times)) / times
