"""A lab directory as a whole: topology, task, solutions, steps, objectives, variables.

::

    labs/site-to-site/
        lab.toml          [lab] metadata, [variables], [devices.*], [[links]], [[objectives]]
        task.md           what the student reads (may say {{variables}})
        topology.txt      the ASCII drawing of the network (optional)
        R1.cfg ...        each device's initial config (named by devices.X.config)
        solution/R1.cfg   what to type on R1, in global configuration mode (optional)
        steps.txt         console lines run after the configs: @R1, ping ..., @wait N (optional)

:func:`load_definition` reads and checks ``lab.toml``; :meth:`LabDefinition.resolve` draws the
variables for a seed and gives a :class:`ResolvedLab`: every text with the values in place,
the topology, the objectives. The file format is documented in ``labs/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iosim.lab.objectives import Objective, parse_objectives
from iosim.lab.schema import LAB_NAME, LabError, Table, check_name, inside, load_toml, read_text
from iosim.lab.topology import Topology, find_lab, topology_from
from iosim.lab.variables import Substitution, Value, Variable, draw, parse_variables

KINDS = ("build", "ticket", "demo")
DIFFICULTIES = ("easy", "medium", "hard")
_TOP_KEYS = frozenset({"lab", "variables", "devices", "links", "segments", "objectives"})
_LAB_KEYS = frozenset({"name", "title", "description", "kind", "difficulty", "minutes",
                       "number", "symptom", "task", "drawing", "steps", "solution"})


@dataclass(frozen=True)
class LabInfo:
    """The ``[lab]`` table: what ``iosim lab list`` shows."""

    name: str
    title: str
    description: str
    kind: str  # build | ticket | demo
    difficulty: str
    minutes: int
    number: int  # the order of the lab list
    symptom: str  # a ticket's help-desk statement


@dataclass
class ResolvedLab:
    """A lab with its variables drawn for one seed: what a run boots and grades."""

    definition: LabDefinition
    seed: str
    values: dict[str, Value]
    topology: Topology
    task: str
    drawing: str
    solutions: dict[str, str]  # device -> config lines
    solution_files: dict[str, Path]
    steps: str | None
    steps_file: Path | None
    objectives: list[Objective] = field(default_factory=list)

    @property
    def info(self) -> LabInfo:
        return self.definition.info


@dataclass
class LabDefinition:
    """A lab directory, checked but with its variables not yet drawn."""

    path: Path  # the lab.toml
    info: LabInfo
    data: dict[str, Any]
    variables: list[Variable]
    task_file: Path | None
    drawing_file: Path | None
    steps_file: Path | None
    solution_dir: Path | None

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def graded(self) -> bool:
        return bool(self.data.get("objectives"))

    def resolve(self, seed: str = "") -> ResolvedLab:
        """Draw the variables for ``seed`` ("" = their defaults) and fill every text."""
        values = draw(self.variables, self.info.name, seed, str(self.path))
        sub = Substitution(values)
        topo = topology_from(self.data, self.path, self.info.name,
                             sub(self.info.description, f"{self.path}: lab.description"), sub)
        task = self._text(self.task_file, sub)
        drawing = self._text(self.drawing_file, sub)
        solutions: dict[str, str] = {}
        solution_files: dict[str, Path] = {}
        if self.solution_dir is not None:
            _check_solution_files(self.solution_dir, topo)
            for name in topo.routers:
                path = self.solution_dir / f"{name}.cfg"
                if path.is_file() or path.is_symlink():
                    # a solution is a lab file too: never one outside the lab's directory
                    inside(self.solution_dir, f"{name}.cfg", f"{path}")
                    solutions[name] = sub(read_text(path), str(path))
                    solution_files[name] = path
        steps = self._text(self.steps_file, sub) if self.steps_file is not None else None
        devices = {**{n: "router" for n in topo.routers}, **{n: "host" for n in topo.hosts}}
        objectives = parse_objectives(Table.root(self.data, self.path).tables("objectives"),
                                      devices, sub)
        return ResolvedLab(self, seed, values, topo, task, drawing, solutions, solution_files,
                           steps, self.steps_file, objectives)

    @staticmethod
    def _text(path: Path | None, sub: Substitution) -> str:
        if path is None:
            return ""
        return sub(read_text(path), str(path))


def _check_solution_files(directory: Path, topo: Topology) -> None:
    """Every file of the solution directory is a router's solution (``R1.cfg``): another one
    (``r1.cfg``, a host's, a device the lab lacks) would be left out of a run unseen. Hidden
    files and editors' ``~`` backups are let be."""
    try:
        names = sorted(p.name for p in directory.iterdir())
    except OSError as e:
        raise LabError(f"{directory}: {e.strerror or e}") from None
    expected = {f"{router}.cfg" for router in topo.routers}
    for name in names:
        if name.startswith(".") or name.endswith("~") or name in expected:
            continue
        wanted = ", ".join(f"{directory.name}/{e}" for e in sorted(expected))
        raise LabError(f"{directory / name}: not the solution of a router of this lab (a "
                       f"solution file is named after its router: {wanted})")


def _optional_file(lab: Table, key: str, default: str, directory: Path,
                   *, is_dir: bool = False) -> Path | None:
    name = lab.text(key, default, max_len=1000)
    path = inside(directory, name, f"{lab.where}.{key}")
    exists = path.is_dir() if is_dir else path.is_file()
    if not exists:
        if key in lab:
            raise lab.error(key, f"{name!r} does not exist in the lab's directory")
        return None
    return path


def load_definition(path: Path) -> LabDefinition:
    """Read and check a ``lab.toml`` (errors are :class:`LabError` naming file and key)."""
    data = load_toml(path)
    root = Table.root(data, path)
    root.unknown(_TOP_KEYS)
    lab = root.table("lab")
    lab.unknown(_LAB_KEYS)
    name = lab.text("name", path.resolve().parent.name, max_len=64)
    check_name(name, LAB_NAME, f"{lab.where}.name", "lab name")
    info = LabInfo(
        name=name,
        title=lab.text("title", name, max_len=200),
        description=lab.text("description", "", max_len=2000),
        kind=lab.choice("kind", KINDS, "demo"),
        difficulty=lab.choice("difficulty", DIFFICULTIES, "easy"),
        minutes=lab.integer("minutes", default=0, low=0, high=600),
        number=lab.integer("number", default=999, low=0, high=999),
        symptom=lab.text("symptom", "", max_len=2000))
    directory = path.parent
    definition = LabDefinition(
        path=path, info=info, data=data,
        variables=parse_variables(root.table("variables")),
        task_file=_optional_file(lab, "task", "task.md", directory),
        drawing_file=_optional_file(lab, "drawing", "topology.txt", directory),
        steps_file=_optional_file(lab, "steps", "steps.txt", directory),
        solution_dir=_optional_file(lab, "solution", "solution", directory, is_dir=True))
    if info.kind == "ticket" and not info.symptom:
        raise lab.error("symptom", "a ticket needs the symptom a help desk would write")
    if info.kind != "ticket" and "symptom" in lab:
        raise lab.error("symptom", 'only a ticket (kind = "ticket") has a symptom')
    if info.kind != "demo" and not root.tables("objectives"):
        raise lab.error("kind", f"a {info.kind} lab needs objectives ([[objectives]] tables) "
                                "to grade; a lab without them is a demo (kind = \"demo\")")
    return definition


def find_definition(name_or_path: str | None) -> LabDefinition:
    """The lab named (built-in) or at a path."""
    return load_definition(find_lab(name_or_path))


def load_topology(path: Path) -> Topology:
    """Read and check a ``lab.toml``'s topology (variables at their defaults)."""
    return load_definition(path).resolve("").topology


__all__ = ["LabDefinition", "LabError", "LabInfo", "ResolvedLab", "find_definition",
           "load_definition", "load_topology"]
