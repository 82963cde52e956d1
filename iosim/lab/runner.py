"""``iosim run LAB``: boot a lab, type its solution, run its steps, grade it.

The run is what a student's session would be, typed by iosim: every router boots from the
lab's initial config (or from a hand-in's startup-configs), ``--solution`` types each
device's solution in global configuration mode, the lab's steps (``steps.txt``: console
lines such as ``@PC1``, ``ping 10.0.2.10``, ``@wait 400``) run next, and the objectives are
checked on the live state. Nothing is saved: NVRAM stays in memory.

A line the router rejects in a config, a solution or the steps is a script error that names
the file and the line; a run with script errors fails whatever its grade.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from iosim.cli.session import Session
from iosim.lab.console import LabConsole
from iosim.lab.grading import Grade, grade
from iosim.lab.running import Lab

Write = Callable[[str], object]


@dataclass
class RunResult:
    """What a run printed, its script errors and its grade."""

    lab: Lab
    grade: Grade
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.grade.passed and not self.errors


def _iosim_error(output: str) -> bool:
    return output.startswith("% ")


def _scripted_at_line_allowed(line: str, console: LabConsole) -> bool:
    """A lab's own files are untrusted: of iosim's ``@`` lines they may attach to a device
    and wait, nothing that writes files or grades (``@keys``, ``@submit`` ...)."""
    words = line.strip()[1:].split()
    return bool(words) and (words[0] in console.lab.sessions or words[0] == "wait")


def type_lines(console: LabConsole, lines: list[str], source: Path | str, first_line: int,
               write: Write, errors: list[str], *, numbered: bool = True) -> None:
    """Type ``lines`` at the console as a student would, writing the transcript; a line
    the device (or iosim) rejects becomes an error naming ``source`` and its line."""
    for offset, line in enumerate(lines):
        session = console.session
        echo = session.pending is None or session.pending.echo
        prompt = console.prompt
        write(prompt + (line if echo else "") + "\n")
        at_line = line.strip().startswith("@") and (session.pending is None
                                                    or session.pending.echo)
        if numbered and at_line and not _scripted_at_line_allowed(line, console):
            output = "% A lab's steps may attach to a device (@R1) and @wait, nothing else\n"
            write(output)
            errors.append(f"{source}, line {first_line + offset}:\n{prompt}{line}\n{output}")
            continue
        output = console.feed(line)
        write(output)
        if not numbered:
            continue
        rejected = (isinstance(session, Session) and session.last_error is not None
                    and session.pending is None)
        if line.strip().startswith("@") or not isinstance(session, Session):
            rejected = _iosim_error(output)
        if rejected:
            errors.append(f"{source}, line {first_line + offset}:\n{prompt}{line}\n{output}")
        if console.finished:
            return


def _type_solution(console: LabConsole, device: str, text: str, source: Path,
                   write: Write, errors: list[str]) -> None:
    console.feed("@" + device)
    session = console.session
    assert isinstance(session, Session)
    session.mode, session.target, session.pending = "exec", None, None
    type_lines(console, ["configure terminal"], source, 0, write, errors, numbered=False)
    lines = text.splitlines()
    # a solution's own "end" or "exit" lines are typed as they are
    type_lines(console, lines, source, 1, write, errors)
    if session.mode_info.is_config:
        type_lines(console, ["end"], source, 0, write, errors, numbered=False)


def run_lab(name_or_path: str | None, *, solution: bool = False, seed: str = "",
            startup: dict[str, str] | None = None, write: Write | None = None) -> RunResult:
    """Boot, type the solution (``solution``), run the steps, grade. ``write`` hears the
    transcript as it is made."""
    out: Write = write if write is not None else (lambda text: None)
    lab = Lab.load(name_or_path, seed=seed, memory=True, startup=startup)
    errors = [e if e.endswith("\n") else e + "\n" for e in lab.boot_errors]
    console = LabConsole(lab, paging=False)
    resolved = lab.resolved
    if solution:
        for device, text in resolved.solutions.items():
            _type_solution(console, device, text, resolved.solution_files[device], out, errors)
    if resolved.steps is not None:
        assert resolved.steps_file is not None
        first = next(iter(lab.routers))
        if console.device != first:
            console.feed("@" + first)
        type_lines(console, resolved.steps.splitlines(), resolved.steps_file, 1, out, errors)
    out(console.prompt + "\n")
    return RunResult(lab, grade(lab), errors)
