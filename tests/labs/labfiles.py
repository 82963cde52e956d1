"""Small lab directories written by tests: a router, two hosts, variables, objectives."""

from __future__ import annotations

from pathlib import Path

TWO_PCS = """\
[lab]
name = "tiny"
kind = "build"

[variables]
lan = { kind = "subnet", within = "192.168.0.0/16", prefix = 24, default = "192.168.1.0/24" }

[devices.R1]
kind = "router"
interfaces = ["Gi0/0", "Gi0/1"]
config = "R1.cfg"

[devices.PC1]
kind = "host"
address = "{{lan.10}}/24"
gateway = "{{lan.1}}"

[devices.PC2]
kind = "host"
address = "172.16.0.10/24"
gateway = "172.16.0.1"

[[links]]
endpoints = ["R1 Gi0/0", "PC1 eth0"]

[[links]]
endpoints = ["R1 Gi0/1", "PC2 eth0"]

[[objectives]]
name = "PC1 reaches PC2"
weight = 3
hint = "Look at the interfaces."
check = "ping"
from = "PC1"
to = "172.16.0.10"

[[objectives]]
name = "R1 has a hostname"
check = "output"
device = "R1"
command = "show running-config | include hostname"
contains = "hostname R1"
"""

R1_CFG = """\
hostname R1
interface GigabitEthernet0/0
 ip address {{lan.1}} {{lan.mask}}
interface GigabitEthernet0/1
 ip address 172.16.0.1 255.255.255.0
 shutdown
"""

R1_SOLUTION = "interface GigabitEthernet0/1\n no shutdown\n"


def write_lab(directory: Path, toml: str = TWO_PCS, config: str = R1_CFG,
              solution: str | None = R1_SOLUTION, files: dict[str, str] | None = None
              ) -> Path:
    """A lab directory with ``lab.toml``, ``R1.cfg`` and (optionally) a solution."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "lab.toml").write_text(toml)
    (directory / "R1.cfg").write_text(config)
    if solution is not None:
        (directory / "solution").mkdir(exist_ok=True)
        (directory / "solution" / "R1.cfg").write_text(solution)
    for name, text in (files or {}).items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory
