"""The ``iosim lab ...`` and ``iosim run`` commands: list, show, export and check labs, run one.

Exit status: 0 when everything asked for holds (a run or a check whose objectives all pass),
1 when a run or check completes with objectives failed or script errors, 2 for a usage or
lab file error (with one ``iosim: ...`` line on standard error).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from iosim.lab.runner import RunResult

# Only the argument parser is built at start-up: everything else is imported by the command
# that needs it, so that "iosim --version" stays instant.


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``lab`` and ``run`` subcommands."""
    lab = sub.add_parser("lab", help="list, show, export and check labs")
    lab_sub = lab.add_subparsers(dest="lab_command", required=True)
    lab_sub.add_parser("list", help="the labs, one line each")
    concepts = lab_sub.add_parser("concepts", help="the IPsec concepts the labs refer to")
    concepts.add_argument("section", nargs="?", help="a section number, e.g. 7.1")
    show = lab_sub.add_parser("show", help="a lab's task text and topology drawing")
    show.add_argument("lab")
    show.add_argument("--seed", default="", help="the lab as this seed draws it")
    show.add_argument("--svg", metavar="FILE", help="write the topology as an SVG picture")
    export = lab_sub.add_parser("export", help="write your saved configs of LAB to FILE, "
                                               "to hand in")
    export.add_argument("lab")
    export.add_argument("file")
    export.add_argument("--seed", default="", help="the seed your lab was drawn with")
    check = lab_sub.add_parser("check", help="grade a hand-in: boot it and run the "
                                             "objectives")
    check.add_argument("lab")
    check.add_argument("--from", dest="handin", required=True, metavar="FILE")
    check.add_argument("--json", action="store_true", help="print the grade as JSON")
    check.add_argument("--transcript", action="store_true",
                       help="also print the steps' transcript")
    check.add_argument("--seed", default=None,
                       help="the seed this student was given: a hand-in drawn with another "
                            "seed is refused")

    run = sub.add_parser("run", help="boot a lab, replay its configs (and solutions), run "
                                     "its steps, grade it")
    run.add_argument("lab")
    run.add_argument("--solution", action="store_true", help="type the solution configs")
    run.add_argument("--seed", default="", help="draw the lab's variables with this seed")
    run.add_argument("--json", action="store_true",
                     help="print the grade as JSON (no transcript)")


def _error(message: str) -> int:
    print(f"iosim: {message}", file=sys.stderr)
    return 2


def _seed_text(args: argparse.Namespace) -> None:
    """``--seed`` as the console reads it (the same bytes draw the same lab everywhere)."""
    from iosim.cli.lines import argument_text

    if getattr(args, "seed", None) is not None:
        args.seed = argument_text(args.seed)


def _report(result: RunResult, as_data: bool, out: TextIO, extra: dict[str, object]) -> int:
    from iosim.lab.grading import as_json, render_text

    if as_data:
        data = {**as_json(result.grade), **extra, "errors": result.errors}
        out.write(json.dumps(data, indent=2) + "\n")
    else:
        for error in result.errors:
            sys.stderr.write(f"iosim: script error in {error}")
        g = result.grade
        out.write(f"\nLab {g.lab}" + (f", seed {g.seed!r}" if g.seed else ", no seed") + "\n"
                  + render_text(g))
    return 0 if result.passed else 1


def run_command(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """``iosim run``."""
    from iosim.lab.runner import run_lab
    from iosim.lab.schema import LabError

    _seed_text(args)
    try:
        result = run_lab(args.lab, solution=args.solution, seed=args.seed,
                         write=None if args.json else out.write)
    except LabError as e:
        return _error(str(e))
    return _report(result, args.json, out, {"solution": args.solution})


def lab_command(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """``iosim lab list|show|export|check``."""
    from iosim.lab.schema import LabError

    _seed_text(args)
    try:
        return _LAB_COMMANDS[args.lab_command](args, out)
    except LabError as e:
        return _error(str(e))


def _list(args: argparse.Namespace, out: TextIO) -> int:
    from iosim.lab.views import lab_list_rows, lab_list_text

    definitions, errors = lab_list_rows()
    out.write(lab_list_text(definitions))
    for error in errors:
        print(f"iosim: {error}", file=sys.stderr)
    return 0


def _concepts(args: argparse.Namespace, out: TextIO) -> int:
    from iosim.lab.concepts import everything, section

    if args.section is None:
        out.write(everything())
        return 0
    found = section(args.section)
    if found is None:
        return _error(f"no section {args.section!r} in the concepts (iosim lab concepts)")
    out.write(found)
    return 0


def _show(args: argparse.Namespace, out: TextIO) -> int:
    from iosim.atomic import write_atomic
    from iosim.lab.labfile import find_definition
    from iosim.lab.running import Lab
    from iosim.lab.views import task_text

    resolved = find_definition(args.lab).resolve(args.seed)
    out.write(task_text(resolved))
    if args.svg:
        from iosim.lab.svg import topology_svg

        lab = Lab.load(args.lab, seed=args.seed, memory=True)  # its live addresses
        try:
            write_atomic(Path(args.svg), topology_svg(lab))
        except OSError as e:
            return _error(f"cannot write {args.svg}: {e.strerror or e}")
        print(f"iosim: wrote {args.svg}", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace, out: TextIO) -> int:
    from iosim.lab.handin import export_handin

    try:
        handin = export_handin(args.lab, Path(args.file), args.seed)
    except OSError as e:
        return _error(f"cannot write {args.file}: {e.strerror or e}")
    saved = ", ".join(handin.startup) or "none"
    out.write(f"Wrote {args.file}: lab {handin.lab}"
              + (f", seed {handin.seed!r}" if handin.seed else "")
              + f", saved configs of {saved}\n")
    if not handin.startup:
        out.write("Nothing was saved yet: use 'write memory' on each router first.\n")
    return 0


def _check(args: argparse.Namespace, out: TextIO) -> int:
    from iosim.lab.handin import handin_for, read_handin
    from iosim.lab.runner import run_lab

    path = Path(args.handin)
    handin = read_handin(path)
    if args.seed is not None and args.seed != handin.seed:
        return _error(f"{path} was drawn with seed {handin.seed!r}, not {args.seed!r}: "
                      "not this student's lab")
    for warning in handin_for(args.lab, handin, path):
        print(warning, file=sys.stderr)
    write = out.write if args.transcript and not args.json else None
    result = run_lab(args.lab, seed=handin.seed, startup=handin.startup, write=write)
    return _report(result, args.json, out, {"handin": str(path),
                                            "exported": handin.exported})


_LAB_COMMANDS = {"list": _list, "concepts": _concepts, "show": _show, "export": _export,
                 "check": _check}
