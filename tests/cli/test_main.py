"""The ``iosim`` command: --version, --help, a piped console transcript, lab errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from iosim import __version__


def _run(args: list[str], stdin: str = "", tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if tmp is not None:
        env["XDG_STATE_HOME"] = str(tmp)
    return subprocess.run([sys.executable, "-m", "iosim", *args], input=stdin, text=True,
                          capture_output=True, env=env, timeout=60)


def test_version() -> None:
    r = _run(["--version"])
    assert r.returncode == 0 and r.stdout.strip() == f"iosim {__version__}"


def test_help_mentions_console_and_at_commands() -> None:
    r = _run(["--help"])
    assert r.returncode == 0 and "console" in r.stdout and "@wait" in r.stdout


def test_piped_console_writes_a_transcript_and_exits_zero(tmp_path: Path) -> None:
    r = _run([], "enable\nshow ip interface brief | include 0/0\n@R2\nshow clock\n@wait 3600\nshow clock\n",
             tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "R1>enable",
        "R1#show ip interface brief | include 0/0",
        "GigabitEthernet0/0         198.51.100.1    YES NVRAM  up                    up",
        "R1#@R2",
        "R2>show clock",
        "*00:00:00.000 UTC Mon Mar 1 1993",
        "R2>@wait 3600",
        "R2>show clock",
        "*01:00:00.000 UTC Mon Mar 1 1993",
        "R2>",
    ]


def test_console_device_option_and_saved_state(tmp_path: Path) -> None:
    r = _run(["console", "site-to-site", "--device", "R2"],
             "enable\nconf t\nhostname SAVED2\nend\nwrite memory\n", tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("R2>")
    again = _run(["console", "--device", "R2"], "enable\nshow running-config | include hostname\n", tmp_path)
    assert "hostname SAVED2" in again.stdout
    fresh = _run(["console", "--device", "R2", "--reset"], "", tmp_path)
    assert fresh.stdout.startswith("R2>")


def test_unknown_lab_and_device_are_reported(tmp_path: Path) -> None:
    r = _run(["console", "no-such-lab"], "", tmp_path)
    assert r.returncode == 2 and "no lab named 'no-such-lab'" in r.stderr
    r = _run(["console", "--device", "R9"], "", tmp_path)
    assert r.returncode == 2 and "no device 'R9'" in r.stderr


def test_at_commands(tmp_path: Path) -> None:
    r = _run([], "@help\n@devices\n@PC1\n@wait x\n@nope\n", tmp_path)
    assert "@wait SECONDS" in r.stdout
    assert "  R1         router  (attached)" in r.stdout
    assert "% @wait needs a number of seconds" in r.stdout
    assert "% Unknown iosim command or device '@nope'" in r.stdout


def test_at_device_with_a_command_types_it_there(tmp_path: Path) -> None:
    r = _run([], "@R2 show running-config\n@R2 enable\n@R2 show running-config | i host\n"
                 "@R1\nenable\nshow running-config | include hostname\n", tmp_path)
    # typed at R2's user EXEC prompt: IOS's caret under the word, on R2's own line
    assert "R2>show running-config\n        ^\n% Invalid input detected" in r.stdout
    assert "R2#show running-config | i host\nhostname R2\n" in r.stdout
    assert r.stdout.index("hostname R2") < r.stdout.index("hostname R1")


def test_a_seed_varies_the_keys_and_the_same_seed_replays_them(tmp_path: Path) -> None:
    from iosim.lab.console import Lab

    def spis(seed: str) -> list[int]:
        lab = Lab.load(nvram_dir=tmp_path / seed, seed=seed)
        plane = lab.routers["R1"].crypto_plane
        assert plane is not None
        return [int.from_bytes(plane.rand(4), "big") for _ in range(3)]  # type: ignore[attr-defined]

    assert spis("") == spis("")
    assert spis("student7") == spis("student7") != spis("")


def test_bridge_option_cables_an_interface_to_real_sockets(tmp_path: Path) -> None:
    """--bridge binds UDP 500/4500 on a loopback address; the router sees a cabled interface
    and the peer announcing itself (nothing is sent: no IKE peer is configured)."""
    import pytest

    if os.geteuid() != 0:
        pytest.skip("binding UDP 500 needs root")
    script = ("enable\nconf t\ninterface GigabitEthernet0/2\nip address 10.99.0.1 255.255.255.0\n"
              "no shutdown\nend\nshow ip interface brief | include 0/2\n"
              "ping 10.99.0.2 repeat 1 timeout 1\nshow arp\n")  # ICMP stays in the lab
    r = _run(["console", "--bridge", "R1:g0/2:127.0.0.7:10.99.0.2"], script, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "GigabitEthernet0/2         10.99.0.1       YES manual up                    up" \
        in r.stdout
    assert "Internet  10.99.0.2" in r.stdout  # the bridge answered ARP for its peer
    bad = _run(["console", "--bridge", "R1:g0/0:127.0.0.7:10.99.0.2"], "", tmp_path)
    assert bad.returncode == 2 and "already connected" in bad.stderr
    bad = _run(["console", "--bridge", "R1:g0/2"], "", tmp_path)
    assert bad.returncode == 2 and "DEVICE:INTERFACE:ADDRESS:PEER" in bad.stderr
