"""A lab's objectives: what the student must achieve, with a weight and a hint each.

In ``lab.toml``, one ``[[objectives]]`` table per objective::

    [[objectives]]
    name = "Phase 1 is up between R1 and R2"      # what is checked, in the student's words
    weight = 20                                   # points (default 1)
    hint = "Concepts 7.1: both peers need a matching ISAKMP policy and the same key."
    check = "isakmp_sa"                           # a check of iosim.lab.checks.CHECKS
    device = "R1"
    peer = "{{r2_outside.2}}"
    encryption = "aes 256"
    group = 14

``requires = ["name of an earlier objective"]`` counts an objective only when those passed:
"the ping fails once NAT is on" is worth nothing in a lab where nothing was built.

``guard = true`` marks a regression guard: behaviour that already works (in a ticket, in
the broken starting state) and must keep working ("PAT to the Internet still works"). A
guard is checked like any objective, but its points count only once every objective that
is not a guard passes: a student who changes nothing earns nothing, and a fix that breaks
what worked loses the guard's points. A lab needs at least one objective that is not a
guard.

A hint points at the concept to revisit (a section of ``labs/concepts.md``), never at the
answer. The check's own parameters are typed and validated when the lab loads, so a typo
in a lab file is an error that names the file and the key, not a wrong grade.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any

from iosim.lab.check_params import read_params
from iosim.lab.checks import CHECKS, known_check
from iosim.lab.schema import LabError, Table

MAX_OBJECTIVES = 100
_COMMON = frozenset({"name", "weight", "hint", "check", "requires", "guard"})


@dataclass(frozen=True)
class Objective:
    """One graded behaviour."""

    name: str
    check: str
    weight: int
    hint: str
    params: Mapping[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()  # earlier objectives that must pass for this one to count
    guard: bool = False  # counts only once every objective that is not a guard passes


def parse_objectives(tables: list[Table], devices: Mapping[str, str],
                     sub: Callable[[str, str], str]) -> list[Objective]:
    """The ``[[objectives]]`` of a lab; ``devices`` maps each device name to its kind."""
    if len(tables) > MAX_OBJECTIVES:
        raise LabError(f"{tables[0].where}: more than {MAX_OBJECTIVES} objectives")
    out: list[Objective] = []
    for spec in tables:
        check = known_check(spec.text("check", required=True, max_len=32), f"{spec.where}.check")
        params = read_params(CHECKS[check].params, check, spec, devices, sub, _COMMON)
        name = sub(spec.text("name", required=True, max_len=200), f"{spec.where}.name")
        earlier = {o.name for o in out}
        if not name.strip():
            raise spec.error("name", "must not be empty (it is what the student and the "
                                     "reports see)")
        if name in earlier:
            raise spec.error("name", f"{name!r} is the name of an earlier objective (requires "
                                     "and the reports tell objectives apart by name)")
        _check_meaning(check, params, spec, name)
        requires = tuple(sub(r, f"{spec.where}.requires") for r in spec.text_list("requires"))
        for required in requires:
            if required not in earlier:
                raise spec.error("requires", f"{required!r} is not the name of an earlier "
                                             "objective")
        out.append(Objective(
            name=name,
            check=check,
            weight=spec.integer("weight", default=1, low=1, high=1000),
            hint=sub(spec.text("hint", "", max_len=1000), f"{spec.where}.hint"),
            params=params,
            requires=requires,
            guard=spec.flag("guard", False)))
    if out and all(o.guard for o in out):
        raise tables[-1].error("guard", "every objective is a guard: a guard counts once "
                                        "the objectives that are not guards pass, so at "
                                        "least one must not be one")
    return out


def _is_show(command: str) -> bool:
    words = command.split()
    return bool(words) and len(words[0]) >= 2 and "show".startswith(words[0].lower())


def _check_meaning(check: str, params: Mapping[str, Any], spec: Table, name: str) -> None:
    """Refuse an objective whose parameters are each valid but which cannot grade anything:
    one that passes whatever the student does, or changes the lab while it is graded."""
    if check == "output":
        command = str(params["command"])
        if not _is_show(command):
            raise spec.error("command", f"an output check runs a show command, not "
                                        f"{command!r} (grading must not change the lab)")
        for key in ("contains", "lacks"):
            if any(not text for text in params.get(key, ())):
                raise spec.error(key, "an empty text is in every output")
        regex = params.get("regex")
        if (regex is not None and regex.search("") is not None
                and regex.search("\x01") is not None):
            raise spec.error("regex", "an empty pattern matches every output (so does one "
                                      "that matches an empty text anywhere)")
        if not params.get("contains") and not params.get("lacks") and regex is None:
            raise LabError(f"{spec.where} ({name}): an output check needs contains, lacks or "
                           "regex, or it passes whatever the router shows")
    elif check == "route":
        network, prefix = int(params["network"]), int(params.get("prefix", 24))
        mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
        if network & mask != network:
            shown = IPv4Address(network)
            raise spec.error("network", f"{shown}/{prefix} has host bits set (the network is "
                                        f"{IPv4Address(network & mask)})")


__all__ = ["CHECKS", "Objective", "parse_objectives"]
