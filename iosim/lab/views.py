"""Texts about a lab for the student: the task, the topology's links, the list of labs.

Pure functions of a lab's definition or of its running state; nothing here changes a lab.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from iosim.lab.labfile import LabDefinition, ResolvedLab, load_definition
from iosim.lab.schema import LabError
from iosim.lab.topology import builtin_labs

if TYPE_CHECKING:
    from iosim.lab.running import Lab


def task_text(resolved: ResolvedLab, *, exam: bool = False) -> str:
    """What ``@task`` and ``iosim lab show`` print: title, ticket, drawing, task text. In
    exam mode (``exam``) the last line names what an exam offers instead of ``@check``,
    which is closed there."""
    info = resolved.info
    facts = f"[{info.kind}, {info.difficulty}"
    facts += f", about {info.minutes} minutes]" if info.minutes else "]"
    head = f"{info.title}  {facts}"
    if len(head) > 78:
        parts = [info.title, facts, "=" * min(len(info.title), 78)]
    else:
        parts = [head, "=" * len(head)]
    if resolved.seed and resolved.definition.variables:
        parts.append(f"(your lab: seed {resolved.seed!r})")
    if info.kind == "ticket":
        parts.append(textwrap.fill(f"Ticket: \"{' '.join(info.symptom.split())}\"", width=78,
                                   subsequent_indent="        "))
    parts.append("")
    if resolved.drawing:
        parts.append(resolved.drawing.rstrip("\n"))
        parts.append("")
    body = resolved.task.strip("\n") or info.description or "(this lab has no task text)"
    parts.append(body)
    if resolved.objectives:
        parts.append("")
        parts.append("Graded on:")
        parts.extend(textwrap.fill(f"- {o.name} ({o.weight} point{'s' if o.weight != 1 else ''}"
                                   + (", a guard)" if o.guard else ")"),
                                   width=88, initial_indent="  ", subsequent_indent="    ")
                     for o in resolved.objectives)
        if any(o.guard for o in resolved.objectives):
            parts.append(textwrap.fill(
                "A guard checks that what already worked still works: it counts once every "
                "objective that is not a guard passes.", width=78))
        parts.append("")
        if exam:
            parts.append(textwrap.fill(
                "Exam: @check is closed (where the task says @check, verify with pings and "
                "show commands); @time shows the time left, @submit hands the lab in.",
                width=78))
        else:
            parts.append("Type @check to see how you are doing.")
    return "\n".join(parts) + "\n"


def interface_address(lab: Lab, device: str, interface: str) -> str:
    """``A.B.C.D/N`` of a device's interface in the running lab ("" when unassigned)."""
    router = lab.routers.get(device)
    if router is not None:
        intf = router.config.interfaces.get(interface)
        if intf is None or intf.address is None or intf.mask is None:
            return ""
        return f"{intf.address}/{bin(int(intf.mask)).count('1')}"
    return str(lab.hosts[device].address)


def links_table(lab: Lab) -> str:
    """Every link and segment of the running lab with each end's live address."""
    rows: list[tuple[str, str, str]] = []
    for number, spec in enumerate(lab.topology.links, 1):
        label = spec.name or f"link {number}"
        for i, (dev, intf) in enumerate(spec.ends):
            address = interface_address(lab, dev, intf) or "unassigned"
            rows.append((label if i == 0 else "", f"{dev} {intf}", address))
    w1 = max([len(r[0]) for r in rows] + [4])
    w2 = max([len(r[1]) for r in rows] + [9])
    lines = [f"{'Link':<{w1}}  {'Interface':<{w2}}  Address"]
    lines += [f"{label:<{w1}}  {end:<{w2}}  {addr}" for label, end, addr in rows]
    return "\n".join(lines) + "\n"


def lab_list_rows(paths: list[Path] | None = None) -> tuple[list[LabDefinition], list[str]]:
    """Every built-in lab's definition, in their list order; and the errors of labs that do
    not load (a broken lab does not hide the others)."""
    definitions: list[LabDefinition] = []
    errors: list[str] = []
    for path in paths if paths is not None else builtin_labs():
        try:
            definitions.append(load_definition(path))
        except LabError as e:
            errors.append(str(e))
    definitions.sort(key=lambda d: (d.info.number, d.info.name))
    return definitions, errors


def lab_list_text(definitions: list[LabDefinition]) -> str:
    """``iosim lab list``: one line per lab."""
    rows = [(d.info.name, d.info.kind, d.info.difficulty,
             f"{d.info.minutes} min" if d.info.minutes else "-", d.info.title)
            for d in definitions]
    widths = [max([len(r[i]) for r in rows] + [len(h)])
              for i, h in enumerate(("Lab", "Kind", "Level", "Time"))]
    head = (f"{'Lab':<{widths[0]}}  {'Kind':<{widths[1]}}  {'Level':<{widths[2]}}  "
            f"{'Time':>{widths[3]}}  Title")
    lines = [head]
    lines += [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  "
              f"{r[3]:>{widths[3]}}  {r[4]}" for r in rows]
    return "\n".join(lines) + "\n"
