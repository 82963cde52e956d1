"""Guards (``guard = true``): what already worked must keep working. A guard is checked like
any objective, but its points count only once every objective that is not a guard passes:
a ticket left as it was handed out scores 0 %, and a fix that breaks what worked loses the
guard's points."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from labfiles import R1_CFG, R1_SOLUTION, TWO_PCS, write_lab

from iosim.lab.console import Lab, LabConsole
from iosim.lab.grading import as_json, render_text
from iosim.lab.labfile import load_definition
from iosim.lab.runner import run_lab
from iosim.lab.schema import LabError
from iosim.lab.topology import labs_dir
from iosim.lab.views import task_text

HOSTNAME = 'name = "R1 has a hostname"\n'
GUARDED = TWO_PCS.replace(HOSTNAME, HOSTNAME + "guard = true\n")
NOTE = ("  Not counted yet: a guard checks that what already worked still works; it\n"
        "  counts once every objective that is not a guard passes.\n")


def test_a_guard_that_holds_before_the_fix_is_not_counted_yet(tmp_path: Path) -> None:
    # without the flag the hostname objective earns its point in the broken lab
    assert run_lab(str(write_lab(tmp_path / "plain"))).grade.percent == 25
    g = run_lab(str(write_lab(tmp_path / "lab", GUARDED))).grade
    ping, hostname = g.results
    assert not ping.passed and not ping.withheld
    assert hostname.passed and hostname.withheld and hostname.earned == 0
    assert (g.percent, g.points, g.max_points, g.passed) == (0, 0, 4, False)
    text = render_text(g)
    assert text.startswith("Score: 0% (0 of 4 points)\n  [FAIL] PC1 reaches PC2 (3 points)\n")
    assert "  [PASS] R1 has a hostname (1 point, a guard, not counted yet)\n" in text
    assert text.endswith(NOTE)
    data = as_json(g)
    assert data["score"] == 0 and data["points"] == 0
    assert data["objectives"][1] == {
        "name": "R1 has a hostname", "check": "output", "weight": 1, "guard": True,
        "passed": True, "points": 0, "seen": hostname.detail}
    assert data["objectives"][0]["guard"] is False and data["objectives"][0]["points"] == 0


def test_a_guard_counts_once_every_other_objective_passes(tmp_path: Path) -> None:
    result = run_lab(str(write_lab(tmp_path / "lab", GUARDED)), solution=True)
    assert result.errors == [] and result.passed
    g = result.grade
    assert g.percent == 100 and not any(r.withheld for r in g.results)
    text = render_text(g)
    assert "  [PASS] R1 has a hostname (1 point)\n" in text and "not counted" not in text
    assert [o["points"] for o in as_json(g)["objectives"]] == [3, 1]


def test_a_fix_that_breaks_a_guard_loses_its_points(tmp_path: Path) -> None:
    d = write_lab(tmp_path / "lab", GUARDED, solution=R1_SOLUTION + "hostname EDGE\n")
    result = run_lab(str(d), solution=True)
    assert result.errors == [] and not result.passed
    g = result.grade
    ping, hostname = g.results
    assert ping.passed and not hostname.passed and not hostname.withheld
    assert g.percent == 75
    text = render_text(g)
    assert "  [FAIL] R1 has a hostname (1 point)\n" in text and "not counted" not in text
    assert "seen: " in text


def test_a_guard_broken_before_the_fix_fails_with_its_hint(tmp_path: Path) -> None:
    d = write_lab(tmp_path / "lab", GUARDED.replace(
        HOSTNAME, HOSTNAME + 'hint = "Keep the name."\n'),
        config=R1_CFG.replace("hostname R1", "hostname R7"))
    g = run_lab(str(d)).grade
    hostname = g.results[1]
    assert not hostname.passed and not hostname.withheld and g.percent == 0
    text = render_text(g)
    assert "  [FAIL] R1 has a hostname (1 point)\n" in text
    assert "hint: Keep the name." in text and "Not counted yet" not in text


def test_the_task_and_check_name_the_guards(tmp_path: Path) -> None:
    d = write_lab(tmp_path / "lab", GUARDED)
    task = task_text(load_definition(d / "lab.toml").resolve())
    assert "  - PC1 reaches PC2 (3 points)\n  - R1 has a hostname (1 point, a guard)\n" in task
    assert ("A guard checks that what already worked still works: it counts once every\n"
            "objective that is not a guard passes.\n") in task
    assert "a guard" not in task_text(load_definition(
        write_lab(tmp_path / "plain") / "lab.toml").resolve())
    c = LabConsole(Lab.load(str(d), memory=True), paging=False)
    checked = c.feed("@check")
    assert checked.startswith("Score: 0% (0 of 4 points)\n") and NOTE in checked


@pytest.mark.parametrize("change, message", [
    ((HOSTNAME, HOSTNAME + 'guard = "yes"\n'),
     "objectives[1].guard: must be true or false, not 'yes'"),
    ((HOSTNAME, HOSTNAME + "guard = 1\n"), "objectives[1].guard: must be true or false"),
    ((HOSTNAME, HOSTNAME + "guard = true\n"),  # then the first objective too
     "objectives[1].guard: every objective is a guard"),
])
def test_a_bad_guard_is_a_load_error(tmp_path: Path, change: tuple[str, str],
                                     message: str) -> None:
    toml = TWO_PCS.replace(*change)
    if "every objective" in message:
        toml = toml.replace('name = "PC1 reaches PC2"\n', 'name = "PC1 reaches PC2"\n'
                                                          "guard = true\n")
    d = write_lab(tmp_path / "lab", toml)
    with pytest.raises(LabError) as err:
        Lab.load(str(d), memory=True)
    assert message in str(err.value)


PAT_GUARDS = ["The branch PC still reaches the Internet (the web site WEB)",
              "BRANCH translates the PC's Internet traffic to its public address (PAT)"]


def test_a_ticket_fixed_by_breaking_what_worked_loses_the_guards(tmp_path: Path) -> None:
    """branch-internet: the fix (the NAT ACL's deny line) with the PAT rule taken away
    mends the VPN but loses the branch's Internet access, which the guards grade."""
    d = tmp_path / "branch-internet"
    shutil.copytree(labs_dir() / "branch-internet", d)
    solution = d / "solution" / "BRANCH.cfg"
    solution.write_text(solution.read_text()
                        + "no ip nat inside source list NAT interface GigabitEthernet0/0 "
                          "overload\n")
    result = run_lab(str(d), solution=True)
    assert result.errors == []
    g = result.grade
    failed = {r.objective.name for r in g.results if not r.passed}
    assert failed == set(PAT_GUARDS)
    assert all(r.objective.guard for r in g.results if r.objective.name in PAT_GUARDS)
    assert not any(r.withheld for r in g.results)
    assert g.percent == 80 and not result.passed
    text = render_text(g)
    for name in PAT_GUARDS:
        assert f"  [FAIL] {name} (10 points)\n" in text
    assert "The Internet access worked this morning" in text


def test_a_ticket_fixed_on_the_wrong_router_loses_its_guard(tmp_path: Path) -> None:
    """ikev2-wrong-remote-key: making R1 sign with the contractor's key brings the tunnel up
    too, but against the ticket (do not change the company's key): the guard says so."""
    d = tmp_path / "ikev2-wrong-remote-key"
    shutil.copytree(labs_dir() / "ikev2-wrong-remote-key", d)
    shutil.rmtree(d / "solution")
    (d / "solution").mkdir()
    (d / "solution" / "R1.cfg").write_text(
        "crypto ikev2 keyring KR\n peer SITE2\n  pre-shared-key local {{old_key}}\n")
    result = run_lab(str(d), solution=True)
    assert result.errors == []
    g = result.grade
    failed = [r.objective.name for r in g.results if not r.passed]
    assert failed == ["R1 still uses the company's key, and not the contractor's"]
    assert g.percent == 90 and not result.passed
