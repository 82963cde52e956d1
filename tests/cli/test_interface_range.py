"""``interface range``: ``(config-if-range)#`` applies each command to every interface.

Each line typed in the range is applied to each interface as if typed under each, so
``show running-config`` shows each interface's own config; a line one of them rejects
changes none of them and is reported once; global commands leave the range as they
leave ``(config-if)#``; a range that names what the router lacks is refused with a caret
and leaves the session in ``(config)#``, so the lines after it do not land elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from labkit import console, run

from iosim.cli.replay import boot, replay_config
from iosim.cli.session import Session
from iosim.clock import VirtualClock
from iosim.config.render import interface_config_text, running_config_text
from iosim.router import Router

PORTS = ["GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2",
         "GigabitEthernet0/3"]


def _config_session() -> Session:
    router = Router("R1", PORTS, VirtualClock(), initial_config="hostname R1\n")
    assert boot(router) == []
    return Session(router, mode="config", terminal_length=0)


def _interface(session: Session, name: str) -> str:
    cfg = session.router.config
    return interface_config_text(cfg, cfg.interfaces[name])


def test_the_range_mode_applies_each_command_to_each_interface() -> None:
    s = _config_session()
    assert s.feed("interface range g0/2 - 3") == ""
    assert s.prompt == "R1(config-if-range)#"
    assert s.feed("description uplink") == ""
    assert s.feed("shutdown") == ""
    for name in ("GigabitEthernet0/2", "GigabitEthernet0/3"):
        text = _interface(s, name)
        assert " description uplink\n" in text and " shutdown\n" in text, name
    for name in ("GigabitEthernet0/0", "GigabitEthernet0/1"):
        assert "description" not in _interface(s, name)
    assert s.feed("exit") == ""
    assert s.prompt == "R1(config)#"


def test_parts_separated_by_commas_and_loopbacks_created() -> None:
    s = _config_session()
    assert s.feed("interface range g0/1 - 2 , g0/3 , Loopback1 - 2") == ""
    assert s.feed("bandwidth 5000") == ""
    text = running_config_text(s.router.config)
    for name in ("GigabitEthernet0/1", "GigabitEthernet0/2", "GigabitEthernet0/3",
                 "Loopback1", "Loopback2"):
        assert f"interface {name}\n" in text
        assert " bandwidth 5000\n" in _interface(s, name), name
    assert "bandwidth" not in _interface(s, "GigabitEthernet0/0")


def test_a_line_one_interface_rejects_changes_none_and_is_reported_once() -> None:
    s = _config_session()
    s.feed("interface range g0/0 - 1")
    before = running_config_text(s.router.config)
    out = s.feed("ip address 10.0.0.1 255.255.255.0")
    assert out == "% 10.0.0.0 overlaps with GigabitEthernet0/0\n"
    assert running_config_text(s.router.config) == before
    assert s.prompt == "R1(config-if-range)#"
    assert s.feed("?").startswith("Interface configuration commands:\n")
    caret = s.feed("bogus")
    assert caret.count("% Invalid input") == 1


def test_a_global_command_leaves_the_range_for_config_mode() -> None:
    s = _config_session()
    s.feed("interface range g0/0 - 1")
    assert s.feed("hostname R7") == ""
    assert s.prompt == "R7(config)#"
    assert s.feed("interface range g0/0 - 1") == ""
    assert s.feed("interface g0/3") == ""
    assert s.prompt == "R7(config-if)#"


@pytest.mark.parametrize("line,col", [
    ("interface range g0/7", 16),            # no such port
    ("interface range g0/2 - 9", 16),        # runs past the ports there are
    ("interface range g0/3 - 1", 23),        # backwards
    ("interface range Null0", 16),
    ("interface range g0/1 -", None),        # incomplete
])
def test_a_bad_range_is_refused_and_the_next_lines_stay_in_config_mode(
        line: str, col: int | None) -> None:
    s = _config_session()
    before = running_config_text(s.router.config)
    out = s.feed(line)
    if col is None:
        assert out == "% Incomplete command.\n\n"
    else:
        assert out == " " * (len("R1(config)#") + col) + "^\n" \
            "% Invalid input detected at '^' marker.\n\n"
    assert s.prompt == "R1(config)#"
    assert running_config_text(s.router.config) == before


def test_a_subinterface_range_and_a_macro_are_not_emulated() -> None:
    s = _config_session()
    assert s.feed("interface range g0/0.1 - 3") == (
        '% iosim: "interface GigabitEthernet0/0.1" is not emulated\n')
    assert s.feed("interface range macro UPLINKS") == (
        '% iosim: "interface range macro" is not emulated\n')
    assert s.prompt == "R1(config)#"


def test_help_lists_range_and_its_separators() -> None:
    s = _config_session()
    assert "  range            interface range command\n" in s.feed("interface ?")
    assert s.feed("interface range g0/0 ?") == "  ,  comma\n  -  hyphen\n  <cr>\n\n"


def test_a_replayed_config_with_a_range_sets_each_interface() -> None:
    s = _config_session()
    errors = replay_config(s.router, "interface range g0/2 - 3\n description lab\n"
                                     " shutdown\n!\nhostname R5\n", "startup-config")
    assert errors == []
    assert s.router.config.hostname == "R5"
    for name in ("GigabitEthernet0/2", "GigabitEthernet0/3"):
        text = _interface(s, name)
        assert " description lab\n" in text and " shutdown\n" in text


def test_a_range_beyond_what_a_lab_holds_gets_the_caret_and_creates_nothing() -> None:
    s = _config_session()
    before = running_config_text(s.router.config)
    out = s.feed("interface range Loopback0 - 2147483647")
    assert out.endswith("% Invalid input detected at '^' marker.\n\n")
    assert out.index("^") == len("R1(config)#interface range Loopback0 - ")
    assert running_config_text(s.router.config) == before
    assert s.feed("interface range Loopback1 - 1024") == ""  # 1,024 interfaces: the most
    assert s.prompt == "R1(config-if-range)#"


def test_an_undone_range_line_leaves_ospf_as_the_config_is(tmp_path: Path) -> None:
    """The members' changes are undone, and what followed them (OSPF here) follows back."""
    c = console(tmp_path)
    run(c, "@R1\nenable\nconf t\nrouter ospf 1\nnetwork 10.9.0.0 0.0.255.255 area 0\nexit\n"
           "interface range Loopback1 - 2\n")
    assert "overlaps with Loopback1" in c.feed("ip address 10.9.9.1 255.255.255.0")
    run(c, "end")
    assert "Lo1" not in c.feed("show ip ospf interface brief")
    assert "10.9.9.1" not in c.feed("show ip interface brief")
