"""Exam mode: a time limit on the wall clock, no hints, a report handed in at the end.

``iosim console LAB --exam [MINUTES]`` starts one. The student sees the time left (the
interactive prompt's bottom line, or ``@time``); ``@check`` and ``@solution`` are closed;
``@submit``, the end of the time or the end of the console hands the lab in: it is graded on
its live state and the result is written as a report, JSON for programs and text for people,
in the report directory (``--report DIR``, by default ``reports/`` in the state directory).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iosim.atomic import write_atomic
from iosim.lab.grading import Grade, as_json, grade, render_text

if TYPE_CHECKING:
    from iosim.lab.running import Lab

DEFAULT_MINUTES = 60.0


def _minutes(n: float) -> str:
    return f"{n:g} minute{'' if n == 1 else 's'}"


def _clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


@dataclass
class Exam:
    """One exam sitting: the lab's time limit and where its report goes."""

    minutes: float
    report_dir: Path
    time_source: Callable[[], float] = time.time
    started: float = field(default=0.0)
    report_paths: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.started:
            self.started = self.time_source()

    @property
    def deadline(self) -> float:
        return self.started + self.minutes * 60

    def remaining(self) -> float:
        return self.deadline - self.time_source()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def countdown(self) -> str:
        """``Exam: 42:17 left of 60 minutes``."""
        left = self.remaining()
        if left <= 0:
            return "Exam: time is up"
        return f"Exam: {_clock_text(left)} left of {_minutes(self.minutes)}"

    def banner(self, lab: Lab) -> str:
        info = lab.resolved.info
        return (f"Exam: {info.title} ({info.name}), {_minutes(self.minutes)}.\n"
                "@task shows the task, @time the time left, @submit hands the lab in.\n"
                "@check and @solution are closed during the exam.\n\n")

    def report(self, lab: Lab, g: Grade, reason: str) -> dict[str, Any]:
        finished = self.time_source()
        info = lab.resolved.info
        return {
            "format": "iosim-exam-report/1",
            "lab": info.name,
            "title": info.title,
            "seed": lab.resolved.seed,
            "reason": reason,
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(),
            "finished": datetime.fromtimestamp(finished, UTC).isoformat(),
            "time_limit_seconds": round(self.minutes * 60),
            "time_taken_seconds": round(min(finished, self.deadline) - self.started),
            "grade": as_json(g, hints=False),
        }

    def submit(self, lab: Lab, reason: str) -> str:
        """Grade the lab, write the report files; the text the student sees."""
        g = grade(lab)
        data = self.report(lab, g, reason)
        stamp = datetime.fromtimestamp(self.started, UTC).strftime("%Y%m%d-%H%M%S")
        seed = _file_word(str(data["seed"]))
        stem = f"{data['lab']}-{seed}-{stamp}" if seed else f"{data['lab']}-{stamp}"
        text = report_text(data, g)
        out = [f"\nExam handed in ({reason}).\n", text]
        json_path: Path | None = None
        try:
            json_path = _claim(self.report_dir, stem)
            txt_path = json_path.with_suffix(".txt")
            write_atomic(json_path, json.dumps(data, indent=2) + "\n")
            write_atomic(txt_path, text)
        except OSError as e:
            if json_path is not None:
                with contextlib.suppress(OSError):
                    json_path.unlink()
            out.append(f"% Cannot write the exam report into {self.report_dir}: "
                       f"{e.strerror or e}\n")
        else:
            self.report_paths = [json_path, txt_path]
            out.append("".join(f"Report written to {p}\n" for p in self.report_paths))
        return "".join(out)


def _file_word(seed: str) -> str:
    """A seed as a part of a file name: letters, digits, '-' and '_' (at most 32)."""
    word = re.sub(r"[^A-Za-z0-9-]+", "_", seed).strip("_-")
    return word[:32].strip("_-")


def _claim(directory: Path, stem: str) -> Path:
    """A report's JSON path that no other report holds: ``stem.json``, else ``stem-2.json``
    ... A class that starts together hands in into one directory in the same second; the
    name is created exclusively, so two students never write over each other's report."""
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        path = directory / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
        if path.with_suffix(".txt").exists():
            continue
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "too many reports of this lab started in this second")


def report_text(data: dict[str, Any], g: Grade) -> str:
    """The exam report for people."""
    minutes, seconds = divmod(int(data["time_taken_seconds"]), 60)
    head = [f"Lab:        {data['title']} ({data['lab']})",
            f"Seed:       {data['seed'] or '(none)'}",
            f"Started:    {data['started']}",
            f"Time taken: {minutes} min {seconds} s of {data['time_limit_seconds'] // 60} min",
            f"Handed in:  {data['reason']}", ""]
    return "\n".join(head) + render_text(g, hints=False)
