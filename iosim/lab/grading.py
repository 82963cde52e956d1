"""Grading: every objective of a lab checked on the running lab, a score, every miss explained.

:func:`grade` evaluates the objectives in the lab file's order (an objective that sends
traffic, like ``protected``, therefore brings a tunnel up for the ones after it, as an
instructor's test ping would). The virtual clock jumps through the probes (no wall-clock
pacing). A check that fails for a reason of its own (a bug, not the student's) fails its
objective with that reason; grading never stops half-way.

A guard (``guard = true``: what already worked must keep working) is checked like any
objective, but its points wait until every objective that is not a guard passes: a ticket
left as it was scores nothing, though its guards hold; the report shows such a guard as
passed and not counted yet.

:func:`render_text` prints Packet Tracer's "Check Results" in iosim's words; :func:`as_json`
is the same for programs (``iosim run --json``, exam reports).
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from iosim.lab.checks import CHECKS, Outcome
from iosim.lab.objectives import Objective

if TYPE_CHECKING:
    from iosim.lab.console import Lab


@dataclass(frozen=True)
class Result:
    """One objective's verdict."""

    objective: Objective
    passed: bool
    detail: str
    counted: bool = True  # False: an objective it requires failed, so it was not checked
    withheld: bool = False  # a guard that held while an objective that is not a guard failed

    @property
    def earned(self) -> int:
        """The points this objective adds to the score."""
        return self.objective.weight if self.passed and not self.withheld else 0


@dataclass(frozen=True)
class Grade:
    """Every objective's result, and the score."""

    lab: str
    seed: str
    results: tuple[Result, ...]

    @property
    def points(self) -> int:
        return sum(r.earned for r in self.results)

    @property
    def max_points(self) -> int:
        return sum(r.objective.weight for r in self.results)

    @property
    def percent(self) -> int:
        """The score in whole percent, rounded down (100 only when everything passed)."""
        return 100 * self.points // self.max_points if self.max_points else 100

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


@contextlib.contextmanager
def fast_forward(lab: Lab) -> Iterator[None]:
    """Let virtual time run ahead of the wall clock while grading (no pacing)."""
    pacer, lab.clock.pacer = lab.clock.pacer, None
    try:
        yield
    finally:
        lab.clock.pacer = pacer
        if lab.time_jumped is not None:
            lab.time_jumped()


def _evaluate(lab: Lab, objective: Objective) -> Outcome:
    try:
        return CHECKS[objective.check].run(lab, objective.params)
    except Exception as e:  # noqa: BLE001 - one broken check must not stop the grading
        return Outcome(False, f"the check could not run ({type(e).__name__}: {e})")


def grade(lab: Lab, objectives: list[Objective] | None = None) -> Grade:
    """Check every objective of ``lab`` (or those given) on its live state."""
    resolved = lab.resolved
    chosen = resolved.objectives if objectives is None else objectives
    results: list[Result] = []
    passed: dict[str, bool] = {}
    with fast_forward(lab):
        for objective in chosen:
            missing = [r for r in objective.requires if not passed.get(r, False)]
            outcome = (Outcome(False, "not counted: it needs " + ", ".join(
                           repr(r) for r in missing) + " first")
                       if missing else _evaluate(lab, objective))
            passed[objective.name] = outcome.passed
            results.append(Result(objective, outcome.passed, outcome.detail, not missing))
    if not all(r.passed for r in results if not r.objective.guard):
        results = [replace(r, withheld=True)
                   if r.objective.guard and r.passed else r for r in results]
    return Grade(resolved.info.name, resolved.seed, tuple(results))


GUARD_NOTE = ("Not counted yet: a guard checks that what already worked still works; it "
              "counts once every objective that is not a guard passes.")


def render_text(g: Grade, *, hints: bool = True, details: bool = True) -> str:
    """The check results: the score, then each objective passed or failed, with what was
    seen and (outside exams) the hint of each failed one; a guard that held while another
    objective failed is marked not counted yet, and a last line says why."""
    if not g.results:
        return "This lab has no objectives to check.\n"
    lines = [f"Score: {g.percent}% ({g.points} of {g.max_points} points)"
             + ("  -- every objective met" if g.passed else "")]
    for r in g.results:
        mark = "PASS" if r.passed else "FAIL"
        lines.append(f"  [{mark}] {r.objective.name} ({r.objective.weight} "
                     f"point{'s' if r.objective.weight != 1 else ''}"
                     + (", a guard, not counted yet)" if r.withheld else ")"))
        if details and not r.passed:
            lines.append(_wrapped("seen: ", r.detail))
            if hints and r.objective.hint and r.counted:
                lines.append(_wrapped("hint: ", r.objective.hint))
    if any(r.withheld for r in g.results):
        lines.append(textwrap.fill(GUARD_NOTE, width=79, initial_indent="  ",
                                   subsequent_indent="  "))
    return "\n".join(lines) + "\n"


def _wrapped(label: str, text: str) -> str:
    """``seen:``/``hint:`` text wrapped for an 80-column console, aligned under itself."""
    return textwrap.fill(text, width=79, initial_indent=" " * 9 + label,
                         subsequent_indent=" " * (9 + len(label)), break_long_words=False,
                         break_on_hyphens=False)


def as_json(g: Grade, *, hints: bool = True) -> dict[str, Any]:
    """The grade as plain data."""
    return {
        "lab": g.lab,
        "seed": g.seed,
        "score": g.percent,
        "points": g.points,
        "max_points": g.max_points,
        "passed": g.passed,
        "objectives": [
            {"name": r.objective.name, "check": r.objective.check,
             "weight": r.objective.weight, "guard": r.objective.guard,
             "passed": r.passed, "points": r.earned, "seen": r.detail,
             **({"hint": r.objective.hint} if hints and not r.passed else {})}
            for r in g.results],
    }
