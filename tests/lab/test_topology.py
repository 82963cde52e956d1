"""Lab topology files: links, shared segments, and the errors a hand-edited file can have."""

from __future__ import annotations

from pathlib import Path

import pytest

from iosim.lab.console import Lab, LabConsole
from iosim.lab.labfile import load_topology
from iosim.lab.schema import LabError

LAN_LAB = """\
[lab]
name = "lan"

[devices.R1]
kind = "router"
interfaces = ["Gi0/0", "Gi0/1"]
config = "R1.cfg"

[devices.PC1]
kind = "host"
address = "192.168.1.10/24"
gateway = "192.168.1.1"

[devices.PC3]
kind = "host"
address = "192.168.1.30/24"
gateway = "192.168.1.1"

[[segments]]
name = "LAN1"
endpoints = ["R1 Gi0/1", "PC1 eth0", "PC3 eth0"]
"""


def _lab_dir(tmp_path: Path, toml: str) -> Path:
    d = tmp_path / "lab"
    d.mkdir()
    (d / "lab.toml").write_text(toml)
    (d / "R1.cfg").write_text("hostname R1\ninterface GigabitEthernet0/1\n"
                              " ip address 192.168.1.1 255.255.255.0\n")
    return d


def test_hosts_on_a_shared_segment_reach_each_other_and_the_router(tmp_path: Path) -> None:
    lab = Lab.load(str(_lab_dir(tmp_path, LAN_LAB)), nvram_dir=tmp_path / "nv")
    console = LabConsole(lab, "PC3", paging=False)
    # everyone announced themselves when their interfaces came up (gratuitous ARP)
    assert "!!!!!" in console.feed("ping 192.168.1.10").splitlines()
    assert "!!!!!" in console.feed("ping 192.168.1.1").splitlines()
    console.feed("@R1")
    console.feed("enable")
    brief = console.feed("show ip interface brief")
    assert "GigabitEthernet0/1         192.168.1.1     YES NVRAM  up                    up" in brief
    arp = console.feed("show arp")
    assert "192.168.1.30" in arp  # learnt from PC3's request


@pytest.mark.parametrize("toml, message", [
    ("[devices.R1]\nkind = 'switch'\n", "kind must be 'router' or 'host'"),
    ("[lab]\nname='x'\n", "no [devices.NAME] tables"),
    (LAN_LAB + '\n[[links]]\nendpoints = ["R1 Gi0/1", "PC1 eth0"]\n', "already connected"),
    (LAN_LAB.replace('"R1 Gi0/1", ', '"R1 Gi0/7", '), "R1 has no interface 'Gi0/7'"),
    (LAN_LAB.replace('name = "LAN1"\n', ""), "a segment has a name"),
    ("[devices.PC9]\nkind = 'host'\naddress = '300.1.1.1/24'\n", "devices.PC9"),
    ("[devices.R1\n", "lab.toml"),
])
def test_bad_lab_files_are_reported_with_where_and_why(tmp_path: Path, toml: str,
                                                       message: str) -> None:
    d = _lab_dir(tmp_path, toml)
    with pytest.raises(LabError) as err:
        load_topology(d / "lab.toml")
    assert message in str(err.value)
