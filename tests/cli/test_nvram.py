"""NVRAM on a real disk: a save that fails (full, read-only, over the size limit, larger than
NVRAM) says so as IOS does and loses nothing; a startup-config that cannot be read boots
the lab's config and says why; the command line reports unwritable places without a
traceback."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from labkit import console as _console
from labkit import run

from iosim.lab.console import Lab, LabConsole

R1_FILE = "R1.startup-config"


def _saved(tmp_path: Path, text: str = "hostname OLD\nend\n") -> Path:
    """An old startup-config of R1 in an NVRAM directory."""
    path = tmp_path / R1_FILE
    path.write_text(text)
    return path


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def _fail(monkeypatch: pytest.MonkeyPatch, name: str, code: int) -> None:
    def failing(*args: object, **kwargs: object) -> object:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, name, failing)


@pytest.mark.parametrize(("call", "code", "message"), [
    ("write", errno.ENOSPC, "%Error writing nvram:startup-config (No space left on device)"),
    ("write", errno.EFBIG, "%Error writing nvram:startup-config (File too large)"),
    ("fsync", errno.EIO, "%Error writing nvram:startup-config (Input/output error)"),
    ("replace", errno.EROFS, "%Error writing nvram:startup-config (Read-only file system)"),
    ("open", errno.EACCES, "%Error opening nvram:startup-config (Permission denied)"),
])
def test_a_failed_save_keeps_the_old_startup_config_and_the_change_unsaved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str, code: int,
        message: str) -> None:
    path = _saved(tmp_path)
    c = _console(tmp_path)
    run(c, "conf t\nhostname NEW\nend\n")
    with monkeypatch.context() as m:
        _fail(m, call, code)  # "open": mkstemp cannot create the temporary file
        assert c.feed("write memory") == f"Building configuration...\n{message}\n"
        c.feed("copy running-config startup-config")
        assert c.feed("") == f"Building configuration...\n{message}\n"
        router = c.lab.routers["R1"]
        assert router.saved_since_change is False
        c.feed("reload")
        assert c.prompt == "System configuration has been modified. Save? [yes/no]: "
        assert c.feed("yes") == f"Building configuration...\n{message}\n"
        assert c.prompt == "Proceed with reload? [confirm]"
        c.feed("n")
    assert path.read_text() == "hostname OLD\nend\n"
    assert _leftovers(tmp_path) == []
    assert c.prompt == "NEW#"
    assert "hostname NEW" in c.feed("show running-config | include hostname")
    assert c.feed("write memory") == "Building configuration...\n[OK]\n"  # the disk is back
    assert "hostname NEW" in path.read_text()


def test_a_config_larger_than_nvram_is_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    c = _console(tmp_path)
    remark = "x" * 95
    script = "conf t\nip access-list extended BIG\n" + f"remark {remark}\n" * 2600 + "end\n"
    run(c, script)
    out = c.feed("write memory")
    lines = out.splitlines()
    assert lines[0] == "Building configuration..."
    assert lines[1] == f"% Configuration buffer full, can't add command:  remark {remark}"
    assert lines[2:] == ["%Aborting Save. Compress the config."]
    assert path.read_text() == "hostname OLD\nend\n"
    assert c.lab.routers["R1"].saved_since_change is False
    c.feed("conf t")
    c.feed("no ip access-list extended BIG")
    c.feed("end")
    assert c.feed("write memory").endswith("[OK]\n")
    assert c.feed("show startup-config").startswith(
        f"Using {path.stat().st_size} out of 262144 bytes\n")


def test_show_startup_config_counts_bytes(tmp_path: Path) -> None:
    _saved(tmp_path, "hostname OLD\ninterface GigabitEthernet0/1\n description caf\u00e9\nend\n")
    c = _console(tmp_path)
    # 64 characters, 65 bytes: NVRAM holds bytes
    assert c.feed("show startup-config").splitlines()[0] == "Using 65 out of 262144 bytes"


# ---------------------------------------------------------------- unreadable NVRAM


def test_a_startup_config_that_is_not_utf8_boots_byte_for_byte(tmp_path: Path) -> None:
    raw = (b"hostname OLD\ninterface GigabitEthernet0/1\n description caf\xe9 \xff\n"
           b" ip address 192.168.1.1 255.255.255.0\n no shutdown\nint\xe9rface Loopback0\n"
           b"end\n")
    (tmp_path / R1_FILE).write_bytes(raw)
    lab = Lab.load(nvram_dir=tmp_path)
    assert lab.boot_errors == [  # the one line IOS cannot read, the rest booted
        "startup-config, line 6:\nOLD(config-if)#int\udce9rface Loopback0\n"
        "                ^\n% Invalid input detected at '^' marker.\n\n"]
    c = LabConsole(lab, paging=False)
    c.feed("enable")
    assert c.feed("write memory").endswith("[OK]\n")
    assert b" description caf\xe9 \xff\n" in (tmp_path / R1_FILE).read_bytes()


def test_a_directory_for_a_startup_config(tmp_path: Path) -> None:
    (tmp_path / R1_FILE).mkdir()
    lab = Lab.load(nvram_dir=tmp_path)
    assert lab.boot_errors == ["R1: %Error opening nvram:startup-config (Is a directory)\n"]
    c = LabConsole(lab, paging=False)
    c.feed("enable")
    assert c.prompt == "R1#"  # the lab's own config: R1 works
    assert "Success rate is 100 percent" in c.feed("ping 198.51.100.2")
    error = "%Error opening nvram:startup-config (Is a directory)\n"
    assert c.feed("show startup-config") == error
    c.feed("copy startup-config running-config")
    assert c.feed("") == error
    assert c.feed("write memory").startswith("Building configuration...\n%Error writing "
                                             "nvram:startup-config (Is a directory)")
    c.feed("reload")
    out = c.feed("")  # confirm
    assert error in out and "R1 restarted by reload" in out
    c.feed("@R2")
    c.feed("enable")
    assert "Success rate is 100 percent" in c.feed("ping 203.0.113.1")  # the others: as ever


def test_a_file_where_the_lab_directory_should_be(tmp_path: Path) -> None:
    blocker = tmp_path / "labs"
    blocker.write_text("not a directory")
    lab = Lab.load(nvram_dir=blocker / "site-to-site")
    assert lab.boot_errors == [
        f"{name}: %Error opening nvram:startup-config (Not a directory)\n"
        for name in lab.routers]
    c = LabConsole(lab, paging=False)
    c.feed("enable")
    assert c.feed("write memory") == ("Building configuration...\n%Error opening "
                                      "nvram:startup-config (Not a directory)\n")
    assert blocker.read_text() == "not a directory"


def test_a_startup_config_larger_than_nvram_is_not_booted(tmp_path: Path) -> None:
    (tmp_path / R1_FILE).write_text("hostname HUGE\n" + "!\n" * 140000)
    lab = Lab.load(nvram_dir=tmp_path)
    assert lab.boot_errors == ["R1: %Error opening nvram:startup-config (File too large)\n"]
    assert lab.routers["R1"].config.hostname == "R1"


# ---------------------------------------------------------------- the real thing


def _iosim(args: list[str], stdin: str, state: Path, **kwargs: object
           ) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_STATE_HOME=str(state), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "iosim", *args], input=stdin, text=True,
                          capture_output=True, env=env, timeout=60, **kwargs)  # type: ignore


_SAVE = "enable\nconf t\nhostname NEW\nend\nwrite memory\nshow startup-config | include host\n"


def test_a_file_size_limit_does_not_kill_the_console(tmp_path: Path) -> None:
    nvram = tmp_path / "iosim" / "labs" / "site-to-site"
    nvram.mkdir(parents=True)
    _saved(nvram)

    def limit() -> None:  # SIGXFSZ left as it is: iosim itself must not die of it
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))

    r = _iosim([], _SAVE, tmp_path, preexec_fn=limit)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "%Error writing nvram:startup-config (File too large)" in r.stdout
    assert r.stdout.endswith("hostname OLD\nNEW#\n")
    assert (nvram / R1_FILE).read_text() == "hostname OLD\nend\n"
    assert _leftovers(nvram) == []


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="mounting a small tmpfs needs root and unshare")
def test_a_full_disk_on_a_small_tmpfs(tmp_path: Path) -> None:
    """A 64 KiB tmpfs in a private mount namespace (gone when the namespace ends)."""
    state = tmp_path / "state"
    state.mkdir()
    nvram = state / "iosim" / "labs" / "site-to-site"
    script = f"""
set -e
mount -t tmpfs -o size=64k iosim-test {state}
mkdir -p {nvram}
printf 'hostname OLD\\nend\\n' > {nvram}/{R1_FILE}
dd if=/dev/zero of={state}/filler bs=1k count=128 2>/dev/null || true
{sys.executable} -m iosim console
echo "--- saved:"; cat {nvram}/{R1_FILE}; echo "--- left:"; ls -a {nvram}
"""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace here")
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], input=_SAVE + "reload\nyes\nn\n",
                       text=True, capture_output=True, timeout=60,
                       env=dict(os.environ, XDG_STATE_HOME=str(state)))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    out = r.stdout
    assert out.count("%Error writing nvram:startup-config (No space left on device)") == 2
    assert "Proceed with reload? [confirm]" in out
    assert out.endswith("--- saved:\nhostname OLD\nend\n--- left:\n.\n..\nR1.startup-config\n")


def test_reset_and_capture_into_places_that_cannot_be_written(tmp_path: Path) -> None:
    nvram = tmp_path / "iosim" / "labs" / "site-to-site"
    (nvram / R1_FILE).mkdir(parents=True)  # --reset cannot remove a directory
    r = _iosim(["console", "--reset"], "", tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr == f"iosim: {nvram / R1_FILE}: Is a directory\n"
    blocker = Path(tempfile.mkdtemp(dir=tmp_path)) / "file"
    blocker.write_text("")
    r = _iosim(["console", "--capture", str(blocker / "pcaps")], "enable\n", tmp_path / "x")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr == f"iosim: --capture {blocker / 'pcaps'}: Not a directory\n"
    r = _iosim(["console", "--capture", str(blocker)], "enable\n", tmp_path / "x")
    assert r.returncode == 2 and r.stderr == f"iosim: --capture {blocker}: File exists\n"


def test_pcaps_that_cannot_be_written_at_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The disk fills while the lab runs: the transcript is whole, the error one line."""
    import io

    from iosim.__main__ import main
    from iosim.net.fabric import Fabric

    def full(self: Fabric, directory: Path, epoch: float = 0.0) -> list[Path]:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Fabric, "write_pcaps", full)
    monkeypatch.setattr(sys, "stdin", io.StringIO("enable\nping 198.51.100.2\n"))
    pcaps = tmp_path / "pcaps"
    assert main(["console", "--capture", str(pcaps)]) == 0
    out, err = capsys.readouterr()
    assert "Success rate is 100 percent (5/5)" in out
    assert err == f"iosim: --capture {pcaps}: No space left on device\n"
