"""``interface Null0``: its one command on the data plane (``no ip unreachables`` turns
the ``U`` of a ping into ``.``), its counters, and its block surviving a reload."""

from __future__ import annotations

from pathlib import Path

from labkit import console as lab_console
from labkit import marks, run

from iosim.lab.console import LabConsole

DISCARD = "@R1\nconf t\nip route 172.16.0.0 255.240.0.0 Null0\nend\n"
QUIET = "@R1\nconf t\ninterface Null0\nno ip unreachables\nend\n"


def _discarding(tmp_path: Path) -> LabConsole:
    console = lab_console(tmp_path)
    run(console, DISCARD)
    return console


def _packets_output(console: LabConsole) -> int:
    console.feed("@R1")
    text = console.feed("show interfaces Null0")
    line = next(row for row in text.splitlines() if "packets output" in row)
    return int(line.split()[0])


def test_ip_unreachables_answers_and_no_ip_unreachables_drops_quietly(tmp_path: Path) -> None:
    console = _discarding(tmp_path)
    assert marks(run(console, "@PC1\nping 172.16.1.1\n")) == ["U.U.U"]
    run(console, QUIET)
    assert marks(run(console, "@PC1\nping 172.16.1.1\n")) == ["....."]
    run(console, "@R1\nconf t\nint nu0\nip unreachables\nend\n")
    assert marks(run(console, "@PC1\nping 172.16.1.1\n")) == ["U.U.U"]


def test_null0_counts_what_it_discards_and_clear_counters_restarts(tmp_path: Path) -> None:
    console = _discarding(tmp_path)
    assert _packets_output(console) == 0
    run(console, "@PC1\nping 172.16.1.1 repeat 7\n")
    assert _packets_output(console) == 7
    run(console, "@R1\nclear counters Null0\n\n")
    assert _packets_output(console) == 0


def test_the_routers_own_packets_to_null0_are_dropped_and_counted(tmp_path: Path) -> None:
    console = _discarding(tmp_path)
    # no source given: Null0 has no address, and the echoes are dropped as they are sent
    assert marks(run(console, "@R1\nping 172.16.1.1 repeat 3\n")) == ["..."]
    assert _packets_output(console) == 3
    assert marks(run(console, "@R1\nping 172.16.1.1 source 192.168.1.1 repeat 2\n")) == [".."]
    assert _packets_output(console) == 5


def test_the_null0_block_is_saved_and_comes_back_after_a_reload(tmp_path: Path) -> None:
    console = _discarding(tmp_path)
    run(console, QUIET)
    run(console, "@R1\nwrite memory\nreload\n\n\nenable\n")
    console.feed("@R1")
    assert console.feed("show running-config interface Null0").endswith(
        "!\ninterface Null0\n no ip unreachables\nend\n")
    assert marks(run(console, "@PC1\nping 172.16.1.1\n")) == ["....."]


def test_null0_is_left_out_of_the_full_listings(tmp_path: Path) -> None:
    """IOS lists Null0 only when it is named: not in ``show interfaces``, ``show ip
    interface brief`` or a running-config where it has only its defaults."""
    console = _discarding(tmp_path)
    console.feed("@R1")
    for command in ("show interfaces", "show ip interface brief", "show ip interface",
                    "show running-config", "show interfaces description"):
        assert "Null0 is" not in console.feed(command)
    assert "interface Null0" not in console.feed("show running-config")
    assert console.feed("show ip interface Null0") == (
        "Null0 is up, line protocol is up\n  Internet protocol processing disabled\n")
