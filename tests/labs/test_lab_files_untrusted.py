"""Lab files are untrusted input: every mistake or hostile value is one clear error naming the
file and the key, nothing is read from outside the lab's directory and nothing is written
outside the state directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from labfiles import R1_CFG, TWO_PCS, write_lab

from iosim.lab.console import Lab
from iosim.lab.labfile import load_definition
from iosim.lab.schema import LabError


def _replace(old: str, new: str) -> str:
    assert old in TWO_PCS, old
    return TWO_PCS.replace(old, new)


HOSTILE = [
    # names that would reach outside the state directory
    (_replace('name = "tiny"', 'name = "../../x"'), "lab.name: lab name '../../x' is not allowed"),
    (_replace('name = "tiny"', 'name = "/etc"'), "lab.name: lab name '/etc' is not allowed"),
    (_replace('name = "tiny"', 'name = ".."'), "lab name '..' is not allowed"),
    (_replace('name = "tiny"', 'name = ""'), "lab name '' is not allowed"),
    (_replace('name = "tiny"', 'name = "a\\u0000b"'), "contains a control character"),
    (_replace("[devices.PC2]", '[devices."PC/2"]').replace("PC2 eth0", "PC/2 eth0"),
     "devices.PC/2: device name 'PC/2' is not allowed"),
    (_replace("[devices.PC2]", '[devices."../PC2"]').replace('"R1 Gi0/1", "PC2 eth0"',
                                                              '"R1 Gi0/1", "../PC2 eth0"'),
     "device name '../PC2' is not allowed"),
    (_replace("[devices.PC2]", "[devices.check]").replace("PC2 eth0", "check eth0"),
     "device name 'check' is taken by the console's @check"),
    # files outside the lab's directory
    (_replace('config = "R1.cfg"', 'config = "/etc/passwd"'),
     "devices.R1.config: '/etc/passwd' must be a file inside the lab's directory"),
    (_replace('config = "R1.cfg"', 'config = "../../../../etc/passwd"'),
     "lies outside the lab's directory"),
    (_replace('[lab]\n', '[lab]\ntask = "/etc/passwd"\n'),
     "lab.task: '/etc/passwd' must be a file inside the lab's directory"),
    (_replace('[lab]\n', '[lab]\nsteps = "missing.txt"\n'),
     "lab.steps: 'missing.txt' does not exist"),
    # wrong types and values
    (TWO_PCS.replace('[[links]]\nendpoints = ["R1 Gi0/0", "PC1 eth0"]\n',
                     '[[links]]\nendpoints = ["R1 Gi0/0", "PC1 eth0"]\ndelay_ms = inf\n'),
     "links[0].delay_ms: must be a number of milliseconds between 0 and 10000, not inf"),
    (TWO_PCS.replace('[[links]]\nendpoints = ["R1 Gi0/0", "PC1 eth0"]\n',
                     '[[links]]\nendpoints = ["R1 Gi0/0", "PC1 eth0"]\ndelay_ms = nan\n'),
     "links[0].delay_ms: must be a number of milliseconds between 0 and 10000, not nan"),
    (TWO_PCS.replace('[[links]]\nendpoints = ["R1 Gi0/0", "PC1 eth0"]\n',
                     '[[links]]\nendpoints = ["R1 Gi0/0", "PC1 eth0"]\ndelay_ms = -5\n'),
     "links[0].delay_ms: must be a number of milliseconds between 0 and 10000, not -5"),
    (TWO_PCS.replace('[[links]]\nendpoints = ["R1 Gi0/0", "PC1 eth0"]\n',
                     '[[links]]\nendpoints = ["R1 Gi0/0", "PC1 eth0"]\ndelay_ms = "fast"\n'),
     "links[0].delay_ms: must be a number of milliseconds between 0 and 10000, not 'fast'"),
    (TWO_PCS.replace('[[links]]\nendpoints = ["R1 Gi0/0", "PC1 eth0"]\n',
                     '[[links]]\nendpoints = ["R1 Gi0/0", "PC1 eth0"]\ndelay_ms = true\n'),
     "links[0].delay_ms: must be a number of milliseconds"),
    ('[lab]\nname = "x"\n[devices]\nR1 = "router"\n', "devices.R1: must be a table, not 'router'"),
    ('devices = 3\n[lab]\nname = "x"\n', "lab.toml: devices: must be a table, not 3"),
    ('[lab]\nname = "x"\n[devices.PC1]\nkind = "host"\naddress = "10.0.0.1/24"\n',
     "a lab needs at least one router"),
    ('[lab]\nname = "x"\n', "no [devices.NAME] tables"),
    (_replace('interfaces = ["Gi0/0", "Gi0/1"]', 'interfaces = "Gi0/0"'),
     "devices.R1.interfaces: must be a list of texts"),
    (_replace('interfaces = ["Gi0/0", "Gi0/1"]', 'interfaces = ["Gi0/0", 7]'),
     "devices.R1.interfaces: must be a list of texts"),
    (_replace('kind = "host"\naddress = "{{lan.10}}/24"', 'kind = "host"\naddress = 17'),
     "devices.PC1.address: must be text, not 17"),
    (_replace('[lab]\n', '[lab]\nminutes = "long"\n'), "lab.minutes: must be a whole number"),
    (_replace('kind = "build"', 'kind = "exam"'), "lab.kind: must be one of"),
    (_replace('[lab]\n', '[lab]\ncolour = "red"\n'), "lab.colour: unknown key"),
    ("[surprise]\nx = 1\n" + TWO_PCS, "surprise: unknown key"),
    ("[lab]\n" + "x = " + "[" * 40 + "]" * 40 + "\n", "nested deeper than"),
    # variables and objectives
    (_replace('prefix = 24, default = "192.168.1.0/24"', 'prefix = 24, default = "192.168.9.0/25"'),
     "variables.lan.default: 192.168.9.0/25 must be a /24 inside 192.168.0.0/16"),
    (_replace('kind = "subnet"', 'kind = "colour"'), "variables.lan.kind: must be one of"),
    (_replace('address = "{{lan.10}}/24"', 'address = "{{nope}}/24"'),
     "unknown variable {{nope}}"),
    (_replace('address = "{{lan.10}}/24"', 'address = "{{lan.300}}/24"'),
     "unknown variable {{lan.300}}"),
    (_replace('check = "ping"', 'check = "vibes"'), "objectives[0].check: unknown check 'vibes'"),
    (_replace('from = "PC1"', 'from = "PC9"'), "objectives[0].from: no device named 'PC9'"),
    (_replace('to = "172.16.0.10"', 'to = "172.16.0.300"'),
     "objectives[0].to: '172.16.0.300' is not an IPv4 address"),
    (_replace('device = "R1"\ncommand', 'device = "PC1"\ncommand'),
     "objectives[1].device: no router named 'PC1'"),
    (_replace('contains = "hostname R1"', 'regex = "(unclosed"'),
     "objectives[1].regex: not a regular expression"),
    (_replace('weight = 3', 'weight = 0'), "objectives[0].weight: must be between 1 and 1000"),
    (_replace('to = "172.16.0.10"', 'to = "172.16.0.10"\nrepeat = "{{lan.prefixlen}}0"'),
     "objectives[0].repeat: must be a whole number between 1 and 100, not '240'"),
    (_replace('to = "172.16.0.10"', 'to = "172.16.0.10"\nrepeat = "five"'),
     "objectives[0].repeat: must be a whole number between 1 and 100, not 'five'"),
    (_replace('check = "ping"', 'check = "ping"\ncolour = 1'), "objectives[0].colour: unknown key"),
    (_replace('check = "output"', 'check = "output"\nsource = "x"'),
     "objectives[1].source: unknown key"),
    (_replace('check = "output"\ndevice = "R1"\ncommand = "show running-config | include '
              'hostname"\ncontains = "hostname R1"',
              'check = "tunnel_protection"\ndevice = "R1"\ninterface = "Gi0/0"'),
     "objectives[1].interface: 'Gi0/0' is not a tunnel interface"),
    (_replace('check = "output"\ndevice = "R1"\ncommand = "show running-config | include '
              'hostname"\ncontains = "hostname R1"',
              'check = "tunnel_protection"\ndevice = "R1"\ninterface = "Tunnel 0 x"'),
     "objectives[1].interface: 'Tunnel 0 x' is not a tunnel interface"),
    (_replace('check = "output"\ndevice = "R1"\ncommand = "show running-config | include '
              'hostname"\ncontains = "hostname R1"',
              'check = "tunnel_protection"\ndevice = "R1"\ninterface = "Tu0"\nmode = "dmvpn"'),
     "objectives[1].mode: must be one of 'gre', 'ipsec', not 'dmvpn'"),
    (_replace('check = "output"\ndevice = "R1"\ncommand = "show running-config | include '
              'hostname"\ncontains = "hostname R1"',
              'check = "tunnel_protection"\ndevice = "R1"'),
     "objectives[1].interface: missing (the tunnel_protection check needs it)"),
]


@pytest.mark.parametrize("toml, message", HOSTILE)
def test_a_hostile_or_broken_lab_file_is_one_clear_error(tmp_path: Path, toml: str,
                                                         message: str) -> None:
    d = write_lab(tmp_path / "lab", toml)
    state = tmp_path / "state"
    with pytest.raises(LabError) as err:
        Lab.load(str(d), nvram_dir=state)
    assert message in str(err.value)
    assert str(d / "lab.toml") in str(err.value) or "R1.cfg" in str(err.value)
    assert not state.exists()  # nothing was written


@pytest.mark.parametrize("data, message", [
    (b"[lab]\nname = \"x\"\n\xff\xfe\n", "not UTF-8 text (byte 17)"),
    (b"[lab]\nname = \"x\"\n\x00\n", "contains a NUL byte (line 3)"),
])
def test_bytes_that_are_not_text_are_refused(tmp_path: Path, data: bytes, message: str) -> None:
    d = write_lab(tmp_path / "lab")
    (d / "lab.toml").write_bytes(data)
    with pytest.raises(LabError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_definition(d / "lab.toml")


def test_a_config_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    d = write_lab(tmp_path / "lab")
    (d / "R1.cfg").write_bytes(b"hostname R1\n\xc3\x28\n")
    with pytest.raises(LabError, match=r"R1.cfg: not UTF-8 text \(byte 12\)"):
        Lab.load(str(d), nvram_dir=tmp_path / "nv")
    (d / "R1.cfg").unlink()
    (d / "R1.cfg").mkdir()
    with pytest.raises(LabError, match="R1.cfg: not a file"):
        Lab.load(str(d), nvram_dir=tmp_path / "nv")


def test_a_symlink_out_of_the_lab_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.cfg"
    secret.write_text("hostname STOLEN\n")
    d = write_lab(tmp_path / "lab")
    (d / "R1.cfg").unlink()
    os.symlink(secret, d / "R1.cfg")
    with pytest.raises(LabError, match="lies outside the lab's directory"):
        Lab.load(str(d), nvram_dir=tmp_path / "nv")


def test_a_sane_lab_file_loads_and_its_names_stay_in_the_state_directory(tmp_path: Path) -> None:
    d = write_lab(tmp_path / "lab")
    lab = Lab.load(str(d))
    nvram = lab.routers["R1"].nvram.path
    assert nvram is not None
    labs = Path(os.environ["XDG_STATE_HOME"]) / "iosim" / "labs"
    # a lab from elsewhere saves apart from any built-in lab of its name: name-<path hash>
    assert nvram.parent.parent == labs and nvram.name == "R1.startup-config"
    assert nvram.parent.name.startswith("tiny-") and len(nvram.parent.name) == 13
    other = write_lab(tmp_path / "elsewhere")
    assert Lab.load(str(other)).routers["R1"].nvram.path != nvram


def test_the_command_line_says_iosim_and_exits_2_without_a_traceback(tmp_path: Path) -> None:
    bad = write_lab(tmp_path / "lab", _replace('name = "tiny"', 'name = "../../x"'))
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    for args in (["console", str(bad)], ["run", str(bad)], ["lab", "show", str(bad)],
                 ["lab", "show", "nonexistent\x01lab"]):
        r = subprocess.run([sys.executable, "-m", "iosim", *args], input="", text=True,
                           capture_output=True, env=env, timeout=60)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith("iosim: ") and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "state").exists()


def test_a_lab_with_many_devices_is_refused_before_it_boots(tmp_path: Path) -> None:
    from iosim.lab.schema import MAX_DEVICES

    lines = ['[lab]\nname = "big"\n']
    lines += [f'[devices.H{i}]\nkind = "host"\naddress = "10.0.0.1/8"\n'
              for i in range(MAX_DEVICES + 1)]
    d = write_lab(tmp_path / "lab", "".join(lines), config=R1_CFG)
    with pytest.raises(LabError, match=f"more than {MAX_DEVICES} devices"):
        load_definition(d / "lab.toml").resolve()
