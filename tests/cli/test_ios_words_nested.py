"""IOS words beneath the emulated commands (``grammar/ios_words_nested.lark``).

A real IOS 15 command iosim does not build answers ``% iosim: "..." is not emulated`` at
the second and third word as at the first, ``?`` lists those words beside the emulated
ones, and nothing changes; ``interface TYPE ?`` lists the type's numbers.
"""

from __future__ import annotations

import pytest

from iosim.cli.matcher import not_emulated, roots
from iosim.config.render import running_config_text
from tests.cli.test_ios_words import _session

NESTED = [
    ("show ip ospf neighbor detail", "show ip ospf neighbor detail"),
    ("show ip ospf 1 neighbor g0/0 detail", "show ip ospf neighbor detail"),
    ("show ip ospf border-routers", "show ip ospf border-routers"),
    ("show ip ospf 1 border-routers", "show ip ospf border-routers"),
    ("show crypto isakmp profile", "show crypto isakmp profile"),
    ("show crypto pki certificates", "show crypto pki"),
    ("show crypto socket", "show crypto socket"),
    ("show ip cef", "show ip cef"),
    ("show ip cef 10.0.0.0 255.0.0.0 detail", "show ip cef"),
    ("show ip traffic", "show ip traffic"),
    ("show ip dhcp binding", "show ip dhcp"),
    ("sh ip dhcp bind", "show ip dhcp"),
    ("show running-config all", "show running-config all"),
    ("show running-config linenum", "show running-config linenum"),
    ("show running-config brief", "show running-config brief"),
    ("show run | redirect flash:x", "show running-config | redirect"),
    ("show run | append flash:x", "show running-config | append"),
    ("show run | tee flash:x", "show running-config | tee"),
    ("show run | format flash:x", "show running-config | format"),
    ("show ip interface brief | redirect flash:x", "show ip interface brief | redirect"),
]


@pytest.mark.parametrize("line,named", NESTED)
def test_a_real_ios_word_beneath_an_emulated_one_says_not_emulated(line: str,
                                                                    named: str) -> None:
    session = _session("exec")
    before = running_config_text(session.router.config)
    assert session.feed(line) == f'% iosim: "{named}" is not emulated\n'
    assert running_config_text(session.router.config) == before


def test_do_in_configuration_says_so_too() -> None:
    assert _session("config").feed("do show ip cef") == '% iosim: "show ip cef" is not emulated\n'


def test_user_exec_knows_show_ip_words_but_not_privileged_ones() -> None:
    user = _session("user")
    assert user.feed("show ip traffic") == '% iosim: "show ip traffic" is not emulated\n'
    assert "Invalid input" in user.feed("show running-config all")


def test_the_pipe_lists_what_ios_15_lists() -> None:
    listing = _session("exec").feed("show run | ?")
    words = [line.split()[0] for line in listing.splitlines() if line.startswith("  ")
             and not line.startswith("   ")]
    assert words == ["append", "begin", "count", "exclude", "format", "include", "redirect",
                     "section", "tee"]
    assert "  redirect  Redirect output to URL\n" in listing


@pytest.mark.parametrize("line,word,help_text", [
    ("show ip ?", "cef", "Cisco Express Forwarding"),
    ("show ip ?", "traffic", "IP protocol statistics"),
    ("show ip ?", "ospf", "OSPF information"),
    ("show ip ospf ?", "border-routers", "Border and Boundary Router Information"),
    ("show ip ospf ?", "neighbor", "Neighbor list"),
    ("show ip ospf neighbor ?", "detail", "detail of all neighbors"),
    ("show crypto ?", "pki", "Public Key Infrastructure related commands"),
    ("show crypto isakmp ?", "profile", "Show ISAKMP profiles"),
    ("show running-config ?", "linenum", "Display line numbers in output"),
    ("show running-config ?", "interface", "Show interface configuration"),
])
def test_help_lists_the_not_emulated_words_beside_the_emulated(line: str, word: str,
                                                               help_text: str) -> None:
    listing = _session("exec").feed(line)
    rows = {r.split()[0]: " ".join(r.split()[1:]) for r in listing.splitlines() if r.strip()}
    assert rows[word] == help_text


def test_emulated_commands_still_run() -> None:
    session = _session("exec")
    assert "hostname R1" in session.feed("show running-config")
    assert session.feed("show run | include hostname") == "hostname R1\n"
    assert "Interface" in session.feed("show ip interface brief")
    assert session.feed("show ip ospf neighbor") == ""


def test_abbreviations_clash_with_the_not_emulated_words_as_on_ios() -> None:
    session = _session("exec")
    # "show ip ospf s" could be sham-links, statistics or summary-address
    assert session.feed("show ip ospf s") == '% Ambiguous command:  "show ip ospf s"\n'
    # "show run | re" is redirect only: no emulated modifier begins so
    assert session.feed("show run | re x") == '% iosim: "show running-config | redirect" is not emulated\n'


def test_every_nested_word_is_a_not_emulated_terminal() -> None:
    node = roots().root("exec_line").child("SHOW").child("SHOW_IP")
    assert not_emulated(node.exact["cef"].name)
    assert not not_emulated(node.exact["ospf"].name)


def test_a_subinterface_is_not_emulated_and_changes_nothing() -> None:
    session = _session("config")
    before = running_config_text(session.router.config)
    expected = '% iosim: "interface GigabitEthernet0/0.100" is not emulated\n'
    assert session.feed("interface g0/0.100") == expected
    assert session.mode == "config"
    assert session.feed("no interface GigabitEthernet0/0.100") == expected
    assert running_config_text(session.router.config) == before
    # a subinterface of an interface the router does not have is a typo, as on IOS
    assert "Invalid input" in session.feed("interface g0/7.100")


@pytest.mark.parametrize("line,row", [
    ("interface Tunnel ?", "<0-2147483647>  Tunnel interface number"),
    ("interface tu ?", "<0-2147483647>  Tunnel interface number"),
    ("interface Loopback ?", "<0-2147483647>  Loopback interface number"),
    ("interface GigabitEthernet ?", "<0-0>  GigabitEthernet interface number"),
    ("interface Null ?", "<0-0>  Null interface number"),
    ("do show interfaces Tunnel ?", "<0-2147483647>  Tunnel interface number"),
])
def test_an_interface_type_lists_its_numbers(line: str, row: str) -> None:
    assert _session("config").feed(line) == f"  {row}\n\n"


@pytest.mark.parametrize("line,named", [
    ("tunnel path-mtu-discovery", "tunnel path-mtu-discovery"),
    ("no tunnel path-mtu-discovery", "no tunnel path-mtu-discovery"),
    ("tunnel ttl 64", "tunnel ttl"),
    ("tunnel vrf BLUE", "tunnel vrf"),
    # the transports IOS lists beside IPv4 for a GRE tunnel and a VTI (DMVPN's mGRE)
    ("tunnel mode gre multipoint", "tunnel mode gre multipoint"),
    ("tunnel mode gre mult", "tunnel mode gre multipoint"),
    ("tunnel mode gre ipv6", "tunnel mode gre ipv6"),
    ("tunnel mode ipsec ipv6", "tunnel mode ipsec ipv6"),
    ("no tunnel mode gre multipoint", "no tunnel mode gre multipoint"),
])
def test_tunnel_words_ios_lists_under_a_tunnel_are_not_emulated(line: str, named: str) -> None:
    session = _session("config")
    session.feed("interface Tunnel0")
    before = running_config_text(session.router.config)
    assert session.feed(line) == f'% iosim: "{named}" is not emulated\n'
    assert running_config_text(session.router.config) == before
    assert session.mode == "if"  # still under the tunnel


def test_a_misspelt_tunnel_transport_is_still_a_typo() -> None:
    session = _session("config")
    session.feed("interface Tunnel0")
    out = session.feed("tunnel mode gre mutlipoint")
    assert "% Invalid input detected at '^' marker." in out and "iosim" not in out
    assert session.feed("tunnel mode gre i") == '% Ambiguous command:  "tunnel mode gre i"\n'
