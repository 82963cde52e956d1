"""Mistakes an instructor makes writing a lab: each is one load error naming the file and the
key, not an objective that always passes, a file silently ignored or a wrong grade."""

from __future__ import annotations

from pathlib import Path

import pytest
from labfiles import TWO_PCS, write_lab

from iosim.lab.console import Lab
from iosim.lab.schema import LabError


def _replace(old: str, new: str) -> str:
    assert old in TWO_PCS, old
    return TWO_PCS.replace(old, new)


_OUTPUT = 'contains = "hostname R1"'

MISTAKES = [
    # an output objective with nothing to look for passes whatever the router shows
    (_replace(_OUTPUT, ""),
     "objectives[1] (R1 has a hostname): an output check needs contains, lacks or regex"),
    (_replace(_OUTPUT, "contains = []"),
     "objectives[1] (R1 has a hostname): an output check needs contains, lacks or regex"),
    (_replace(_OUTPUT, 'contains = ["hostname R1", ""]'),
     "objectives[1].contains: an empty text is in every output"),
    (_replace(_OUTPUT, 'lacks = ""'), "objectives[1].lacks: an empty text is in every output"),
    (_replace(_OUTPUT, 'regex = ""'), "objectives[1].regex: an empty pattern matches every output"),
    # a command that is not a show command would change the lab while it is graded
    (_replace('command = "show running-config | include hostname"', 'command = "conf t"'),
     "objectives[1].command: an output check runs a show command, not 'conf t'"),
    (_replace('command = "show running-config | include hostname"',
              'command = "clear crypto sa"'),
     "objectives[1].command: an output check runs a show command, not 'clear crypto sa'"),
    # a route objective's network with host bits would silently match another prefix
    (_replace('[[objectives]]\nname = "R1 has a hostname"',
              '[[objectives]]\nname = "R1 routes the LAN"\ncheck = "route"\ndevice = "R1"\n'
              'network = "{{lan.1}}"\nprefix = 24\n\n'
              '[[objectives]]\nname = "R1 has a hostname"'),
     "objectives[1].network: 192.168.1.1/24 has host bits set (the network is 192.168.1.0)"),
    (_replace('[[objectives]]\nname = "R1 has a hostname"',
              '[[objectives]]\nname = "R1 has a default route"\ncheck = "route"\n'
              'device = "R1"\nnetwork = "10.0.0.0"\nprefix = 0\n\n'
              '[[objectives]]\nname = "R1 has a hostname"'),
     "objectives[1].network: 10.0.0.0/0 has host bits set (the network is 0.0.0.0)"),
    # names: requires and reports tell objectives apart by name
    (_replace('name = "R1 has a hostname"', 'name = "PC1 reaches PC2"'),
     "objectives[1].name: 'PC1 reaches PC2' is the name of an earlier objective"),
    (_replace('name = "R1 has a hostname"', 'name = "  "'),
     "objectives[1].name: must not be empty"),
    # hosts that could never send a packet
    (_replace('address = "172.16.0.10/24"', 'address = "172.16.0.10"'),
     "devices.PC2.address: '172.16.0.10' needs its prefix length (172.16.0.10/24)"),
    (_replace('gateway = "172.16.0.1"', 'gateway = "172.16.1.1"'),
     "devices.PC2.gateway: 172.16.1.1 is not in PC2's subnet 172.16.0.0/24"),
    (_replace('gateway = "172.16.0.1"', 'gateway = "172.16.0.10"'),
     "devices.PC2.gateway: 172.16.0.10 is PC2's own address"),
    (_replace('[[links]]\nendpoints = ["R1 Gi0/1", "PC2 eth0"]\n', ""),
     "devices.PC2: no link or segment connects it"),
    # a key documented for tickets only
    (_replace('kind = "build"', 'kind = "build"\nsymptom = "It broke."'),
     "lab.symptom: only a ticket (kind = \"ticket\") has a symptom"),
    # a graded lab with nothing to grade
    (TWO_PCS.split("[[objectives]]")[0],
     "lab.kind: a build lab needs objectives ([[objectives]] tables) to grade"),
]


@pytest.mark.parametrize("toml, message", MISTAKES, ids=[m for _, m in MISTAKES])
def test_an_authoring_mistake_is_one_clear_error(tmp_path: Path, toml: str, message: str) -> None:
    d = write_lab(tmp_path / "lab", toml)
    with pytest.raises(LabError) as err:
        Lab.load(str(d), nvram_dir=tmp_path / "state")
    assert message in str(err.value)
    assert str(d / "lab.toml") in str(err.value)


def test_a_solution_for_a_device_the_lab_lacks_is_an_error(tmp_path: Path) -> None:
    """solution/r1.cfg or solution/R3.cfg would be left out of `iosim run --solution` without
    a word, and the run would fail on objectives instead of naming the file."""
    for name in ("R3.cfg", "r1.cfg", "R1.txt"):
        d = write_lab(tmp_path / name, files={f"solution/{name}": "hostname X\n"})
        with pytest.raises(LabError) as err:
            Lab.load(str(d), nvram_dir=tmp_path / "state")
        assert f"solution/{name}: not the solution of a router of this lab" in str(err.value)
        assert "solution/R1.cfg" in str(err.value)


def test_a_missing_config_file_names_the_key(tmp_path: Path) -> None:
    d = write_lab(tmp_path / "lab", _replace('config = "R1.cfg"', 'config = "R1-start.cfg"'))
    with pytest.raises(LabError) as err:
        Lab.load(str(d), nvram_dir=tmp_path / "state")
    assert str(err.value) == (f"{d / 'lab.toml'}: devices.R1.config: 'R1-start.cfg' does not "
                              "exist in the lab's directory")


def test_the_sane_lab_still_loads(tmp_path: Path) -> None:
    d = write_lab(tmp_path / "lab")
    lab = Lab.load(str(d), nvram_dir=tmp_path / "state")
    assert [o.name for o in lab.resolved.objectives] == ["PC1 reaches PC2", "R1 has a hostname"]


def test_a_demo_lab_may_have_no_objectives(tmp_path: Path) -> None:
    toml = TWO_PCS.split("[[objectives]]")[0].replace('kind = "build"', 'kind = "demo"')
    d = write_lab(tmp_path / "lab", toml)
    assert Lab.load(str(d), nvram_dir=tmp_path / "state").resolved.objectives == []
