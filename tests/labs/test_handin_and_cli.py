"""Hand-ins graded on another machine, and the lab commands as a student types them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from labkit import configure_seed

from iosim.lab.console import Lab, LabConsole
from iosim.lab.handin import export_handin, handin_for, read_handin
from iosim.lab.runner import run_lab
from iosim.lab.schema import LabError


def _iosim(args: list[str], tmp_path: Path, stdin: str = "", state: Path | None = None
           ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state or tmp_path / "state")}
    return subprocess.run([sys.executable, "-m", "iosim", *args], input=stdin, text=True,
                          capture_output=True, env=env, timeout=120, cwd=tmp_path)


def _student(seed: str = "") -> None:
    """A student builds the lab at the console and saves both routers."""
    c = LabConsole(Lab.load("site-to-site", seed=seed), paging=False)
    c.feed("enable")
    if seed:
        resolved = c.lab.resolved
        for device in ("R1", "R2"):
            c.feed(f"@{device}")
            c.feed("enable")
            c.feed("configure terminal")
            for line in resolved.solutions[device].splitlines():
                c.feed(line)
            c.feed("end")
    else:
        configure_seed(c)
    for device in ("R1", "R2"):
        c.feed(f"@{device}")
        c.feed("enable")
        assert "[OK]" in c.feed("write memory")


@pytest.mark.parametrize("seed", ["", "student-42"])
def test_an_exported_handin_grades_the_same_on_another_state_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: str) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "student"))
    _student(seed)
    handin_file = tmp_path / "alice.json"
    handin = export_handin("site-to-site", handin_file, seed)
    assert set(handin.startup) == {"R1", "R2"}
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "instructor"))
    read = read_handin(handin_file)
    assert read.seed == seed
    warnings = handin_for("site-to-site", read, handin_file)
    assert warnings[-1] == (f"iosim: {handin_file}: nothing saved on ISP: it boots the lab's "
                            "initial config")
    assert len(warnings) == (2 if not seed else 1)  # no seed: graded on the published lab
    result = run_lab("site-to-site", seed=read.seed, startup=read.startup)
    assert result.grade.percent == 100 and result.passed
    assert not (tmp_path / "instructor").exists()  # grading writes nothing
    # the same through the command line, on a third state directory
    r = _iosim(["lab", "check", "site-to-site", "--from", str(handin_file), "--json"], tmp_path,
               state=tmp_path / "third")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["score"] == 100 and data["seed"] == seed and data["errors"] == []


def test_an_unsaved_lab_exports_nothing_and_grades_as_the_lab_starts(tmp_path: Path) -> None:
    r = _iosim(["lab", "export", "site-to-site", str(tmp_path / "h.json")], tmp_path)
    assert r.returncode == 0 and "Nothing was saved yet" in r.stdout
    r = _iosim(["lab", "check", "site-to-site", "--from", str(tmp_path / "h.json")], tmp_path)
    assert r.returncode == 1 and "Score: 0%" in r.stdout
    assert "nothing saved on R1, ISP, R2: they boot the lab's initial config" in r.stderr


@pytest.mark.parametrize("content, message", [
    (b"not json", "not a hand-in file"),
    (b'{"format": "something-else"}', "format iosim-handin/1 expected"),
    (b'{"format": "iosim-handin/1", "startup_configs": []}', "startup_configs must be a table"),
    (b'{"format": "iosim-handin/1", "lab": "site-to-site", "seed": "", "lab_digest": "",'
     b' "exported": "", "startup_configs": {"R1": 7}}', "startup_configs.R1 must be config"),
    (b'{"format": "iosim-handin/1", "lab": "site-to-site", "seed": "", "lab_digest": "",'
     b' "exported": "", "startup_configs": {"R1": "' + b"x" * 300_000 + b'"}}',
     "larger than a router's NVRAM"),
    (b'{"format": "iosim-handin/1", "lab": 3}', "startup_configs must be a table"),
    (b"\xff\xfe\x00", "not a hand-in file"),
    (b"[" * 100_000, "not a hand-in file"),
])
def test_a_hostile_handin_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "h.json"
    path.write_bytes(content)
    with pytest.raises(LabError, match=message):
        read_handin(path)


def test_a_handin_for_another_lab_or_device_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    base = {"format": "iosim-handin/1", "lab": "site-to-site", "seed": "", "lab_digest": "x",
            "exported": "now", "startup_configs": {"R7": "hostname R7\n"}}
    path.write_text(json.dumps(base))
    with pytest.raises(LabError, match="names 'R7', which is not a router of site-to-site"):
        handin_for("site-to-site", read_handin(path), path)
    path.write_text(json.dumps({**base, "lab": "other", "startup_configs": {}}))
    with pytest.raises(LabError, match="this hand-in is for lab 'other'"):
        handin_for("site-to-site", read_handin(path), path)
    path.write_text(json.dumps({**base, "startup_configs": {}}))
    warnings = handin_for("site-to-site", read_handin(path), path)
    assert any("the lab file changed since this hand-in was exported" in w for w in warnings)


def test_lab_list_show_and_run_from_the_command_line(tmp_path: Path) -> None:
    r = _iosim(["lab", "list"], tmp_path)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["Lab", "Kind", "Level", "Time", "Title"]
    assert lines[1].split()[:5] == ["site-to-site", "build", "easy", "30", "min"]
    assert any(line.startswith("hub-and-spoke ") and " demo " in line for line in lines)
    r = _iosim(["lab", "show", "site-to-site", "--seed", "bob", "--svg", "t.svg"], tmp_path)
    assert r.returncode == 0 and "(your lab: seed 'bob')" in r.stdout
    root = ET.fromstring((tmp_path / "t.svg").read_text())
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for name in ("R1", "R2", "ISP", "PC1", "PC2", "Gi0/0", "Gi0/1"):
        assert name in texts
    bob = Lab.load("site-to-site", seed="bob", memory=True)
    r1_wan = bob.routers["R1"].config.interfaces["GigabitEthernet0/0"].address
    assert f"{r1_wan}/30" in texts  # the seed's own addresses
    solved = _iosim(["run", "site-to-site", "--solution"], tmp_path)
    assert solved.returncode == 0 and "Score: 100% (100 of 100 points)" in solved.stdout
    assert "R1(config)#crypto isakmp policy 10" in solved.stdout  # the transcript
    unsolved = _iosim(["run", "site-to-site", "--json"], tmp_path)
    assert unsolved.returncode == 1
    assert json.loads(unsolved.stdout)["score"] == 0
    assert not (tmp_path / "state").exists()  # runs save nothing
    missing = _iosim(["run", "no-such-lab"], tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("iosim: no lab named")


def test_the_svg_of_a_hub_draws_the_segment(tmp_path: Path) -> None:
    from iosim.lab.svg import topology_svg

    svg = topology_svg(Lab.load("hub-and-spoke", memory=True))
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "INTERNET" in texts and "10.0.0.1/16" in texts
    boxes = [(r.get("x"), r.get("y")) for r in root.iter("{http://www.w3.org/2000/svg}rect")
             if r.get("width") == "96"]
    assert len(boxes) == len(set(boxes)) == 5  # HUB, S1-S3, the segment: none on another


def test_exam_from_the_command_line_writes_a_report(tmp_path: Path) -> None:
    r = _iosim(["console", "site-to-site", "--exam", "20", "--report", "out"], tmp_path,
               stdin="@check\n@time\n@submit\nshow version\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Exam: Site-to-site IPsec VPN (the reference lab) (site-to-site), "
                               "20 minutes.\n")
    assert "% @check is not available in exam mode" in r.stdout
    assert "left of 20 minutes" in r.stdout and "Exam handed in (submitted)." in r.stdout
    assert "show version" not in r.stdout.split("Exam handed in")[1]
    assert len(list((tmp_path / "out").glob("site-to-site-*.json"))) == 1
    bad = _iosim(["console", "--exam", "0"], tmp_path)
    assert bad.returncode == 2 and "--exam takes 1 to 1440 minutes" in bad.stderr


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    """An exported hand-in, an SVG, a report: readable like any file the user makes."""
    from iosim.atomic import write_atomic

    mask = os.umask(0o022)
    os.umask(mask)
    write_atomic(tmp_path / "x.json", "{}")
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_handin_carries_bytes_that_are_not_utf8(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from iosim.cli.lines import from_bytes

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    lab = Lab.load("site-to-site")
    text = from_bytes(b"hostname R1\ninterface GigabitEthernet0/0\n description caf\xe9\n")
    lab.routers["R1"].nvram.write(text)
    export_handin("site-to-site", tmp_path / "h.json")
    assert read_handin(tmp_path / "h.json").startup["R1"] == text


def test_exporting_a_seeded_lab_without_its_seed_says_so(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    _student("alice")
    with pytest.raises(LabError, match="export with the --seed you were given"):
        export_handin("site-to-site", tmp_path / "h.json")
    assert not (tmp_path / "h.json").exists()
    assert set(export_handin("site-to-site", tmp_path / "h.json", "alice").startup) == {
        "R1", "R2"}
