"""NAT on the command line: the config lines, IOS's errors, running-config and its replay,
and the layout of ``show ip nat translations``."""

from __future__ import annotations

from pathlib import Path

from iosim.cli.replay import boot, replay_config
from iosim.clock import VirtualClock
from iosim.config.render import config_lines, running_config_text
from iosim.lab.console import Lab, LabConsole
from iosim.net.nat import StaticNat, Translation, nat_config
from iosim.net.packets import ip_to_int
from iosim.net.ping import run_ping
from iosim.router import Router
from iosim.show.nat import show_ip_nat_translations, table_row

PHYSICAL = ["GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2"]

NAT_CONFIG = """\
interface GigabitEthernet0/0
 ip address 198.51.100.1 255.255.255.252
 ip nat outside
 no shutdown
interface GigabitEthernet0/1
 ip address 192.168.1.1 255.255.255.0
 ip nat inside
 no shutdown
ip route 0.0.0.0 0.0.0.0 198.51.100.2
access-list 101 deny ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255
access-list 101 permit ip 192.168.1.0 0.0.0.255 any
ip nat inside source list 101 interface GigabitEthernet0/0 overload
ip nat inside source static 192.168.1.20 198.51.100.5
ip nat inside source static tcp 192.168.1.30 80 198.51.100.1 8080
ip nat inside source list NATLIST interface GigabitEthernet0/0
ip nat translation udp-timeout 120
ip nat translation icmp-timeout never
ip access-list standard NATLIST
 permit 192.168.2.0 0.0.0.255
"""


def _router(text: str | None = None) -> Router:
    router = Router("R1", PHYSICAL, VirtualClock(), initial_config=text,
                    cabled={"GigabitEthernet0/0"})
    assert boot(router) == []
    return router


def _console(tmp_path: Path) -> LabConsole:
    console = LabConsole(Lab.load(nvram_dir=tmp_path), "R1", paging=False)
    console.feed("enable")
    console.feed("conf t")
    return console


def test_running_config_places_nat_lines_and_replays_to_the_same_config() -> None:
    first = _router()
    assert replay_config(first, NAT_CONFIG, "test") == []
    lines = config_lines(first.config)
    text = "\n".join(lines) + "\n"
    gi0 = lines.index("interface GigabitEthernet0/0")
    assert lines[gi0 + 1:gi0 + 3] == [" ip address 198.51.100.1 255.255.255.252",
                                      " ip nat outside"]
    gi1 = lines.index("interface GigabitEthernet0/1")
    assert lines[gi1 + 2] == " ip nat inside"
    start = lines.index("ip nat translation udp-timeout 120")
    assert lines[start:start + 7] == [
        "ip nat translation udp-timeout 120",
        "ip nat translation icmp-timeout never",
        "ip nat inside source list 101 interface GigabitEthernet0/0 overload",
        "ip nat inside source list NATLIST interface GigabitEthernet0/0",
        "ip nat inside source static 192.168.1.20 198.51.100.5",
        "ip nat inside source static tcp 192.168.1.30 80 198.51.100.1 8080 extendable",
        "ip route 0.0.0.0 0.0.0.0 198.51.100.2",  # IOS puts the NAT rules just before routes
    ]
    assert lines[start - 1] == "no ip http server"  # IOSv 15.9 prints no secure-server line
    assert start < lines.index("access-list 101 deny ip 192.168.1.0 0.0.0.255 10.0.2.0 "
                               "0.0.0.255")
    second = _router(text)
    assert "\n".join(config_lines(second.config)) + "\n" == text


def test_no_forms_remove_what_they_name(tmp_path: Path) -> None:
    first = _router()
    assert replay_config(first, NAT_CONFIG + """\
no ip nat inside source static 192.168.1.20 198.51.100.5
no ip nat inside source static tcp 192.168.1.30 80 198.51.100.1 8080
no ip nat inside source list NATLIST interface GigabitEthernet0/0
no ip nat translation udp-timeout
ip nat translation icmp-timeout 60
interface GigabitEthernet0/1
 no ip nat outside
 no ip nat inside
""", "test") == []
    nat = nat_config(first.config)
    assert nat.statics == [] and list(nat.dynamic) == ["101"] and nat.timeouts == {}
    assert "nat" not in first.config.interfaces["GigabitEthernet0/1"].features
    assert " ip nat inside" not in running_config_text(first.config)
    assert not any(line.startswith("ip nat translation")
                   for line in config_lines(first.config))


def test_outside_replaces_inside_on_an_interface(tmp_path: Path) -> None:
    router = _router()
    replay_config(router, "interface GigabitEthernet0/2\n ip nat inside\n ip nat outside\n",
                  "t")
    assert router.config.interfaces["GigabitEthernet0/2"].features["nat"] == "outside"


def test_the_first_nat_interface_brings_nvi0_up_once(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("interface g0/1")
    first = console.feed("ip nat inside")
    assert first.endswith(": %LINEPROTO-5-UPDOWN: Line protocol on Interface NVI0, "
                          "changed state to up\n")
    console.feed("interface g0/0")
    assert console.feed("ip nat outside") == ""


def test_ios_errors_and_a_rejected_line_changes_nothing(tmp_path: Path) -> None:
    console = _console(tmp_path)
    before = console.feed("do show running-config")
    out = console.feed("ip nat inside source list 1 interface GigabitEthernet0/7 overload")
    assert out == (" " * 49 + "^\n% Invalid input detected at '^' marker.\n\n")
    out = console.feed("ip nat inside source static 192.168.1.20 300.1.1.1")
    assert out.endswith("^\n% Invalid input detected at '^' marker.\n\n")
    assert out.index("^") == len("R1(config)#ip nat inside source static 192.168.1.20 ")
    assert console.feed("ip nat inside source static tcp 192.168.1.20 0 1.1.1.1 80").endswith(
        "% Invalid input detected at '^' marker.\n\n")
    assert console.feed("ip nat inside source") == "% Incomplete command.\n\n"
    assert console.feed("ip nat translation udp-timeout 536871").endswith(
        "% Invalid input detected at '^' marker.\n\n")
    assert console.feed("no ip nat inside source list 7") == "%Dynamic mapping not found\n"
    assert console.feed("do show running-config") == before

    assert console.feed("ip nat inside source static 192.168.1.20 198.51.100.5") == ""
    assert console.feed("ip nat inside source static 192.168.1.20 198.51.100.6") == (
        "% 192.168.1.20 already mapped (192.168.1.20 -> 198.51.100.5)\n")
    assert console.feed("ip nat inside source static 192.168.1.21 198.51.100.5") == (
        "% similar static entry (192.168.1.20 -> 198.51.100.5) already exists\n")
    assert console.feed("ip nat inside source static 192.168.1.20 198.51.100.5") == ""
    static_lines = [ln for ln in console.feed("do show running-config").splitlines()
                    if ln.startswith("ip nat inside source static")]
    assert static_lines == ["ip nat inside source static 192.168.1.20 198.51.100.5"]


def test_extendable_static_mappings_may_share_an_inside_address(tmp_path: Path) -> None:
    console = _console(tmp_path)
    assert console.feed("ip nat inside source static 192.168.1.20 198.51.100.5 extendable") \
        == ""
    assert console.feed("ip nat inside source static 192.168.1.20 198.51.100.6 extendable") \
        == ""


def test_a_mapping_in_use_cannot_change(tmp_path: Path) -> None:
    console = _console(tmp_path)
    for line in ("interface g0/1", "ip nat inside", "interface g0/0", "ip nat outside", "exit",
                 "access-list 1 permit 192.168.1.0 0.0.0.255",
                 "ip nat inside source list 1 interface g0/0 overload", "end"):
        console.feed(line)
    stack = console.lab.hosts["PC1"].stack
    assert stack is not None
    run_ping(stack, console.lab.clock, ip_to_int("198.51.100.2"))
    console.feed("conf t")
    assert console.feed("ip nat inside source list 1 interface g0/1 overload") == (
        "%Dynamic mapping in use, cannot change\n")
    # removing it takes its translations away with it
    assert console.feed("no ip nat inside source list 1 interface g0/0 overload") == ""
    assert console.feed("do show ip nat translations") == ""


def test_help_lists_the_nat_words(tmp_path: Path) -> None:
    console = _console(tmp_path)
    assert console.feed("ip nat inside source ?") == (
        "  list    Specify access list describing local addresses\n"
        "  static  Specify static local->global mapping\n\n")
    assert console.feed("ip nat inside source list ?") == (
        "  <1-2699>  Access list number for local addresses\n"
        "  WORD      Access list name for local addresses\n\n")
    assert "overload  Overload an address translation" in console.feed(
        "ip nat inside source list 1 interface g0/0 ?")
    console.feed("end")
    assert console.feed("show ip nat ?") == ("  statistics    Translation statistics\n"
                                             "  translations  Translation entries\n\n")
    assert console.feed("clear ip nat translation ?") == (
        "  *  Delete all dynamic translations\n\n")


# ---------------------------------------------------------------- show layout


def test_columns_start_at_ios_positions_and_long_values_push_right() -> None:
    assert table_row(("Pro", "Inside global", "Inside local", "Outside local",
                      "Outside global")) == (
        "Pro Inside global      Inside local       Outside local      Outside global")
    # Cisco's own example of values longer than their column
    assert table_row(("tcp", "172.16.233.209:11012", "192.168.1.95:11012", "171.69.2.132:23",
                      "171.69.2.132:23")) == (
        "tcp 172.16.233.209:11012 192.168.1.95:11012 171.69.2.132:23  171.69.2.132:23")


def test_show_orders_by_inside_global_with_extended_entries_first() -> None:
    cfg = nat_config(_router().config, create=True)
    cfg.statics.append(StaticNat(ip_to_int("192.168.1.20"), ip_to_int("198.51.100.5")))
    live = [
        Translation(1, ip_to_int("192.168.1.20"), ip_to_int("198.51.100.5"), 7, 7,
                    ip_to_int("10.0.2.10"), None, created=2.0),
        Translation(1, ip_to_int("192.168.1.10"), ip_to_int("198.51.100.1"), 1, 1,
                    ip_to_int("10.0.2.10"), None, created=1.0),
        Translation(6, ip_to_int("192.168.1.11"), ip_to_int("198.51.100.1"), 40000, 1024,
                    ip_to_int("203.0.113.9"), 443, created=3.0),
    ]
    assert show_ip_nat_translations(cfg, live) == (
        "Pro Inside global      Inside local       Outside local      Outside global\n"
        "icmp 198.51.100.1:1    192.168.1.10:1     10.0.2.10:1        10.0.2.10:1\n"
        "tcp 198.51.100.1:1024  192.168.1.11:40000 203.0.113.9:443    203.0.113.9:443\n"
        "icmp 198.51.100.5:7    192.168.1.20:7     10.0.2.10:7        10.0.2.10:7\n"
        "--- 198.51.100.5       192.168.1.20       ---                ---\n")
