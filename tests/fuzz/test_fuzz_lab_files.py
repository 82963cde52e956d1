"""Fuzz: mutated lab files either load or are refused with a LabError, never anything else.

Two mutators start from the shipped labs: one changes the parsed TOML (a value replaced by
another type, a hostile string, a huge number; a key dropped or added) and writes it back;
one flips and cuts bytes of the file. A lab that loads is then booted and its @task,
@topology and @check run.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import tomllib
from copy import deepcopy
from pathlib import Path
from typing import Any

from budget import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from iosim.lab.console import Lab, LabConsole
from iosim.lab.schema import LabError
from iosim.lab.topology import builtin_labs

LABS = [p.parent for p in builtin_labs() if p.parent.name != "hub-and-spoke"]

HOSTILE_VALUES = st.one_of(
    st.sampled_from(["../../etc/passwd", "/etc/passwd", "..", "", "a/b", "R1", "PC1",
                     "R1 GigabitEthernet0/0", "{{nope}}", "{{lan1.999}}", "\u2028", "x" * 300,
                     "300.1.1.1/24", "10.0.0.1/33", "check", "output", "ping", "encrypted",
                     "aes 256", "GigabitEthernet9/9", "Gi0/0"]),
    st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.text(max_size=20),
    st.lists(st.text(max_size=8), max_size=3), st.just({}), st.just([{}]))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                             for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _toml_key(key: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                         for c in key) + '"'


def _dump(data: dict[str, Any]) -> str:
    """Everything as inline values under the top-level keys (valid TOML for any tree)."""
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in data.items())


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _set(data: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    for step in path[:-1]:
        data = data[step]
    if delete:
        del data[path[-1]]
    else:
        data[path[-1]] = value


def _boot(directory: Path) -> None:
    try:
        lab = Lab.load(str(directory), memory=True)
    except LabError:
        return
    console = LabConsole(lab, paging=False)
    for line in ("@task", "@topology", "@check", "@solution"):
        assert isinstance(console.feed(line), str)


@FUZZ
@given(lab=st.sampled_from(LABS), data=st.data())
def test_mutated_lab_tables_load_or_are_refused(lab: Path, data: st.DataObject) -> None:
    tree = tomllib.loads((lab / "lab.toml").read_text())
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(tree)
        path = data.draw(st.sampled_from(paths))
        delete = data.draw(st.booleans()) and not isinstance(path[-1], int)
        # a copy: st.just() hands out one object, which a later mutation could nest in itself
        _set(tree, path, deepcopy(data.draw(HOSTILE_VALUES)), delete)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / lab.name
        shutil.copytree(lab, copy)
        (copy / "lab.toml").write_text(_dump(tree))
        _boot(copy)


@FUZZ
@given(lab=st.sampled_from(LABS), data=st.data())
def test_lab_files_with_flipped_bytes_load_or_are_refused(lab: Path, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / lab.name
        shutil.copytree(lab, copy)
        files = sorted(p for p in copy.rglob("*") if p.is_file())
        target = data.draw(st.sampled_from(files))
        raw = bytearray(target.read_bytes())
        for _ in range(data.draw(st.integers(1, 4))):
            if not raw:
                break
            i = data.draw(st.integers(0, len(raw) - 1))
            op = data.draw(st.integers(0, 2))
            if op == 0:
                raw[i] = data.draw(st.integers(0, 255))
            elif op == 1:
                del raw[i:i + data.draw(st.integers(1, 40))]
            else:
                raw[i:i] = data.draw(st.binary(max_size=8))
        target.write_bytes(bytes(raw))
        _boot(copy)
