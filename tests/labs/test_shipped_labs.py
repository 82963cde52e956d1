"""Every lab iosim ships: it loads, its solution grades 100 % with no script error, and
without the solution it scores 0 % (a ticket fails its traffic objective before the fix,
and its guards, which hold there, are not counted yet).
A lab with variables grades 100 % with its solution under another seed too, with other
addresses."""

from __future__ import annotations

import re

import pytest

from iosim.lab.concepts import section
from iosim.lab.labfile import load_definition
from iosim.lab.runner import run_lab
from iosim.lab.topology import builtin_labs
from iosim.lab.views import lab_list_rows, task_text

DEFINITIONS = {p.parent.name: load_definition(p) for p in builtin_labs()}
GRADED = sorted(name for name, d in DEFINITIONS.items() if d.graded)
SEEDED = sorted(name for name in GRADED if DEFINITIONS[name].variables)


def test_the_labs_ship_in_order() -> None:
    definitions, errors = lab_list_rows()
    assert errors == []
    numbered = [d for d in definitions if d.info.kind != "demo"]
    assert [d.info.number for d in numbered] == list(range(1, len(numbered) + 1))
    # the crypto-map labs first, eight builds and eight tickets, then the route-based ones
    assert [d.info.kind for d in numbered[:16]] == ["build"] * 8 + ["ticket"] * 8
    names = [d.info.name for d in numbered]
    assert names[16:20] == ["gre-over-ipsec", "vti", "gre-hub-spokes", "branch-vti"]
    assert [d.info.kind for d in numbered[16:20]] == ["build"] * 3 + ["ticket"]
    # then OSPF across the tunnel: a build and its ticket
    assert names[20:22] == ["ospf-over-gre", "ospf-hello-mismatch"]
    assert [d.info.kind for d in numbered[20:22]] == ["build", "ticket"]
    # then IKEv2: the site-to-site VPN again, and its ticket
    assert names[22:24] == ["ikev2-site-to-site", "ikev2-wrong-remote-key"]
    assert [d.info.kind for d in numbered[22:24]] == ["build", "ticket"]
    assert len(SEEDED) >= 3
    for d in numbered:
        assert d.info.name == d.directory.name and d.info.minutes > 0
        resolved = d.resolve()
        assert sum(o.weight for o in resolved.objectives) == 100, d.info.name
        assert all(o.hint for o in resolved.objectives), d.info.name
        assert resolved.solutions and resolved.drawing and resolved.task
        assert max(len(line) for line in task_text(resolved).splitlines()) <= 92
        cited = [resolved.task] + [o.hint for o in resolved.objectives]
        for ref in re.findall(r"Concepts (\d+(?:\.\d+)?(?:(?:, | and )\d+(?:\.\d+)?)*)",
                              "\n".join(cited)):
            for number in re.findall(r"\d+(?:\.\d+)?", ref):
                assert section(number) is not None, (d.info.name, number)


@pytest.mark.parametrize("name", GRADED)
def test_the_solution_grades_100_and_without_it_the_lab_fails(name: str) -> None:
    solved = run_lab(name, solution=True)
    assert solved.errors == [], solved.errors
    failed = [(r.objective.name, r.detail) for r in solved.grade.results if not r.passed]
    assert solved.grade.percent == 100 and solved.passed, failed
    unsolved = run_lab(name)
    assert unsolved.errors == []
    assert not unsolved.grade.passed
    # an empty build, or a ticket left as it was handed out, earns nothing
    earned = [r.objective.name for r in unsolved.grade.results if r.earned]
    assert unsolved.grade.percent == 0 and unsolved.grade.points == 0, earned
    if DEFINITIONS[name].info.kind == "ticket":
        first = unsolved.grade.results[0]
        assert not first.passed, f"{name}: the ticket's first objective holds before the fix"
        # a guard guards what works in the broken lab: it holds there, not counted yet
        broken_guards = [r.objective.name for r in unsolved.grade.results
                         if r.objective.guard and not (r.passed and r.withheld)]
        assert broken_guards == [], f"{name}: guards that do not hold before the fix"


@pytest.mark.parametrize("name", SEEDED)
def test_another_seed_draws_another_lab_that_grades_100(name: str) -> None:
    default = DEFINITIONS[name].resolve("")
    drawn = DEFINITIONS[name].resolve("student-1")
    assert drawn.values != default.values
    assert drawn.task != default.task or drawn.drawing != default.drawing
    solved = run_lab(name, solution=True, seed="student-1")
    assert solved.errors == [] and solved.grade.percent == 100, [
        (r.objective.name, r.detail) for r in solved.grade.results if not r.passed]
    unsolved = run_lab(name, seed="student-1")
    assert unsolved.errors == [] and unsolved.grade.percent == 0, [
        r.objective.name for r in unsolved.grade.results if r.earned]
