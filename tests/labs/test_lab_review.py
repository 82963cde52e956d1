"""A lab from someone else cannot read or write outside its place, blow up, crash or be
graded wrong: the holes a review found, each closed and kept closed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from labfiles import TWO_PCS, write_lab
from labkit import configure_seed

from iosim.lab.console import Lab, LabConsole
from iosim.lab.grading import grade
from iosim.lab.labfile import load_definition
from iosim.lab.runner import run_lab
from iosim.lab.schema import LabError
from iosim.lab.topology import labs_dir

ROOT = Path(__file__).resolve().parents[2]


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(labs_dir() / name, target)
    return target


def test_a_solution_file_that_links_outside_the_lab_is_refused(tmp_path: Path) -> None:
    d = _copy("site-to-site", tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0\n")
    (d / "solution" / "R2.cfg").unlink()
    os.symlink(secret, d / "solution" / "R2.cfg")
    with pytest.raises(LabError, match="lies outside the lab's directory"):
        Lab.load(str(d), memory=True)


@pytest.mark.parametrize("line", ["@keys {out}", "@submit", "@reset", "@solution",
                                  "@check", "@task"])
def test_a_lab_s_steps_cannot_run_iosim_s_other_lines(tmp_path: Path, line: str) -> None:
    out = tmp_path / "outside" / "x"
    d = write_lab(tmp_path / "lab", files={"steps.txt": "@PC1\n" + line.format(out=out) + "\n"
                                                        "@wait 5\n"})
    result = run_lab(str(d), solution=True)
    assert not out.exists() and not (tmp_path / "outside").exists()
    assert len(result.errors) == 1 and "line 2:" in result.errors[0]
    assert "may attach to a device (@R1) and @wait, nothing else" in result.errors[0]


@pytest.mark.parametrize("change, message", [
    (('default = "192.168.1.0/24" }', 'default = "192.168.1.0/24" }\n'
      'c = { kind = "choice", choices = ["' + "x" * 5000 + '"] }'),
     "variables.c.choices: an item is longer than 64 characters"),
    (('address = "{{lan.10}}/24"', 'address = "{{lan.' + "9" * 5000 + '}}/24"'),
     "unknown variable"),
    (('to = "172.16.0.10"', 'to = "172.16.0.10"\nrepeat = "\u00b2"'),
     "objectives[0].repeat: must be a whole number between 1 and 100"),
    (('contains = "hostname R1"', 'regex = "a{4294967296}"'),
     "objectives[1].regex: not a regular expression"),
    (('contains = "hostname R1"', 'regex = "(.|.)*Z"'), "objectives[1].regex: too complex"),
    (('contains = "hostname R1"', 'regex = "(a+)+$"'), "objectives[1].regex: too complex"),
    (('default = "192.168.1.0/24" }', 'default = "192.168.1.0/24" }\n'
      'lan2 = { kind = "subnet", within = "192.168.0.0/16", prefix = 25, '
      'default = "192.168.1.128/25" }'),
     "variables.lan2: default 192.168.1.128/25 overlaps the default of lan (192.168.1.0/24)"),
    (('name = "PC1 reaches PC2"', 'name = "PC1 \\u001b[31mreaches PC2"'),
     "objectives[0].name: contains a control character"),
    (('name = "PC1 reaches PC2"', 'name = "PC1 \x1b[31mreaches PC2"'),
     "lab.toml: contains control character '\\x1b' (line 30)"),
    (('check = "ping"', 'check = "ping"\nrequires = ["R1 has a hostname"]'),
     "objectives[0].requires: 'R1 has a hostname' is not the name of an earlier objective"),
])
def test_hostile_values_are_refused_not_crashed_on(tmp_path: Path, change: tuple[str, str],
                                                   message: str) -> None:
    old, new = change
    assert old in TWO_PCS
    d = write_lab(tmp_path / "lab", TWO_PCS.replace(old, new, 1))
    with pytest.raises(LabError) as err:
        Lab.load(str(d), memory=True)
    assert message in str(err.value)


@pytest.mark.parametrize("old, new, message", [
    ('group = 14\n\n[[objectives]]\nname = "Phase 2', 'group = 14\nstate = "MM_NOSTATE"\n\n'
     '[[objectives]]\nname = "Phase 2', "state: must be one of 'MM_NO_STATE'"),
    ('encryption = "aes 256"', 'encryption = "AES 256"', "encryption: must be one of 'des'"),
    ('encryption = "esp-aes 256"', 'encryption = "esp-aes256"',
     "encryption: must be one of 'esp-des'"),
    ('integrity = "esp-sha256-hmac"', 'integrity = "esp-sha256"',
     "integrity: must be one of 'esp-md5-hmac'"),
])
def test_a_typo_in_an_objective_is_a_load_error_not_a_wrong_grade(
        tmp_path: Path, old: str, new: str, message: str) -> None:
    d = _copy("site-to-site", tmp_path)
    text = (d / "lab.toml").read_text()
    assert old in text
    (d / "lab.toml").write_text(text.replace(old, new, 1))
    with pytest.raises(LabError, match=message):
        load_definition(d / "lab.toml").resolve()


def test_a_text_too_big_once_filled_in_is_refused(tmp_path: Path) -> None:
    toml = TWO_PCS.replace('default = "192.168.1.0/24" }', 'default = "192.168.1.0/24" }\n'
                           'w = { kind = "word", default = "' + "W" * 64 + '" }')
    d = write_lab(tmp_path / "lab", toml, files={"task.md": "{{w}}" * 100_000})
    with pytest.raises(LabError, match="task.md: longer than 4194304 characters once"):
        load_definition(d / "lab.toml").resolve()


def test_esp_null_is_protected_but_not_encrypted(tmp_path: Path) -> None:
    c = LabConsole(Lab.load("site-to-site", nvram_dir=tmp_path), paging=False)
    c.feed("enable")
    change = {"esp-aes 256 esp-sha256-hmac": "esp-null esp-sha256-hmac"}
    configure_seed(c, r1_replace=change, r2_replace=change)
    results = {r.objective.name: r for r in grade(c.lab).results}
    first = results["PC1 reaches PC2, and the ISP's links carry only ESP between them"]
    assert not first.passed
    assert "carried ESP-NULL: integrity only, the payload crosses in clear" in first.detail
    from iosim.lab.checks import check_protected

    lab = c.lab
    protected = check_protected(lab, {"from": "PC1", "to": 0x0A00020A, "through": ("ISP",)})
    assert protected.passed  # ESP-NULL does protect (integrity): only encryption is missing


def test_a_typed_route_is_not_a_reverse_route(tmp_path: Path) -> None:
    d = _copy("aggressive-mode", tmp_path)
    hub = (d / "solution" / "HUB.cfg").read_text()
    assert " reverse-route\n" in hub
    (d / "solution" / "HUB.cfg").write_text(
        hub.replace(" reverse-route\n", "") + "ip route {{lan1.network}} 255.255.255.0 "
                                              "{{home.1}}\n")
    result = run_lab(str(d), solution=True)
    miss = [r for r in result.grade.results if not r.passed]
    assert [r.objective.check for r in miss] == ["route"]
    assert "has a typed route to" in miss[0].detail


def _iosim(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    return subprocess.run([sys.executable, "-m", "iosim", *args], input=stdin, text=True,
                          capture_output=True, env=env, timeout=120, cwd=ROOT)


def test_one_seed_is_one_lab_in_every_command(tmp_path: Path) -> None:
    """A seed that is not UTF-8 draws the same lab at the console and in lab show."""
    seed = os.fsdecode(b"stud\xffent")
    shown = _iosim(["lab", "show", "site-to-site", "--seed", seed], tmp_path).stdout
    console = _iosim(["console", "site-to-site", "--seed", seed], tmp_path, "@task\n").stdout
    line = next(x for x in shown.splitlines() if x.strip().startswith("Site 1 LAN 1"))
    assert line in console


def test_lab_check_can_require_the_student_s_seed(tmp_path: Path) -> None:
    _iosim(["lab", "export", "site-to-site", str(tmp_path / "h.json"), "--seed", "alice"],
           tmp_path)
    wrong = _iosim(["lab", "check", "site-to-site", "--from", str(tmp_path / "h.json"),
                    "--seed", "bob"], tmp_path)
    assert wrong.returncode == 2 and "was drawn with seed 'alice', not 'bob'" in wrong.stderr
    right = _iosim(["lab", "check", "site-to-site", "--from", str(tmp_path / "h.json"),
                    "--seed", "alice"], tmp_path)
    assert right.returncode == 1 and "Lab site-to-site, seed 'alice'" in right.stdout


def test_keys_into_a_path_with_a_nul_is_an_error_line(tmp_path: Path) -> None:
    c = LabConsole(Lab.load("site-to-site", memory=True), paging=False)
    assert c.feed("@keys a\x00b").startswith("% @keys a\x00b: no such directory")


def test_a_required_objective_that_failed_makes_the_next_one_count_nothing() -> None:
    result = run_lab("nat-exemption")
    assert result.grade.percent == 0
    details = [r.detail for r in result.grade.results]
    assert sum(d.startswith("not counted: it needs") for d in details) == 4


def test_a_run_without_nvram_leaves_no_flash_behind(tmp_path: Path) -> None:
    """``monitor capture ... export flash:`` in a graded run (NVRAM in memory) writes into a
    temporary flash that goes when the run ends."""
    code = ("from iosim.lab.console import Lab, LabConsole\n"
            "c = LabConsole(Lab.load('site-to-site', memory=True), paging=False)\n"
            "for line in ['enable', 'monitor capture CAP interface GigabitEthernet0/0 both',\n"
            "             'monitor capture CAP match any', 'monitor capture CAP start',\n"
            "             'ping 198.51.100.2', 'monitor capture CAP stop',\n"
            "             'monitor capture CAP export flash:c.pcap']:\n"
            "    out = c.feed(line)\n"
            "assert 'Exported Successfully' in out, out\n"
            "from iosim.cli.exec_capture import flash_dir\n"
            "print(flash_dir(c.lab.routers['R1']))\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    flash = Path(r.stdout.strip())
    assert flash.parent == tmp_path and not flash.exists()


def test_a_fresh_probe_builds_its_tunnel_from_its_own_side() -> None:
    """shop-tills: HQ's PFS offer is accepted by the shop, so a ping from the payment server
    brings the tunnel up unfixed; the till's graded probe clears the sessions first, and
    fails until the shop offers PFS itself."""
    lab = Lab.load("shop-tills", memory=True)
    c = LabConsole(lab, paging=False)
    c.feed("@PAYMENT")
    assert ".!!!!" in c.feed(f"ping {lab.topology.hosts['TILL'].address.ip}")
    results = grade(lab).results
    assert not results[0].passed and results[0].objective.params.get("fresh")
    assert "nothing got through" in results[0].detail
