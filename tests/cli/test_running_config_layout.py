"""show running-config as IOSv prints it: its history comments, the lines IOSv always
prints and their runs of ``!``, in IOSv's order; and such a config boots again.

``IOSV_15_9`` is the layout of a whole IOSv 15.9 running-config (a public capture, see
``ios-public/show_running-config``) with what that router had configured and we do not
emulate taken out (its ``router bgp`` block and ``mac-address`` lines) and the ``--More--``
residue of its terminal removed; R1's interfaces, addresses and routes then take the place
of that router's.
"""

from __future__ import annotations

import re
from pathlib import Path

from labkit import console as lab_console
from labkit import run

IOSV_15_9 = """\
!
! No configuration change since last restart
!
version 15.8
service timestamps debug datetime msec
service timestamps log datetime msec
no service password-encryption
!
hostname R1
!
boot-start-marker
boot-end-marker
!
!
!
no aaa new-model
!
!
!
mmi polling-interval 60
no mmi auto-configure
no mmi pvc
mmi snmp-timeout 180
!

no ip domain lookup
ip domain name lab.local
ip cef
no ipv6 cef
!
multilink bundle-name authenticated
!
!
username admin privilege 15 secret 5 $1$yiDz$KxTQzRzTi/3HEizFbgeYU0
!
redundancy
!
!
!
interface GigabitEthernet0/0
 description Link to ISP
 ip address 198.51.100.1 255.255.255.252
 duplex auto
 speed auto
 media-type rj45
!
interface GigabitEthernet0/1
 description LAN 192.168.1.0/24
 ip address 192.168.1.1 255.255.255.0
 duplex auto
 speed auto
 media-type rj45
!
interface GigabitEthernet0/2
 no ip address
 shutdown
 duplex auto
 speed auto
 media-type rj45
!
interface GigabitEthernet0/3
 no ip address
 shutdown
 duplex auto
 speed auto
 media-type rj45
!
ip forward-protocol nd
!
!
no ip http server
ip route 0.0.0.0 0.0.0.0 198.51.100.2
!
ipv6 ioam timestamp
!
!
!
control-plane
!
!
line con 0
 logging synchronous
line aux 0
line vty 0 4
 login local
 transport input all
!
no scheduler allocate
!
end
"""


def _body(text: str) -> str:
    """What follows the ``Current configuration : N bytes`` line; checks N."""
    head, body = text.split("\n", 3)[2:]
    assert head == f"Current configuration : {len(body)} bytes"
    return body


def test_running_config_has_iosv_lines_in_iosv_order(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    text = c.feed("show running-config")
    assert text.startswith("Building configuration...\n\n")
    assert _body(text) == IOSV_15_9


def test_history_lines_tell_when_the_config_changed_and_was_saved(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    c.feed("@wait 3725")  # 01:02:05 after the router's clock started
    run(c, "conf t\nhostname EDGE\nend\n")
    lines = c.feed("show running-config").splitlines()
    assert lines[3:6] == ["!", "! Last configuration change at 01:02:05 UTC Mon Mar 1 1993",
                          "!"]
    c.feed("@wait 60")
    c.feed("write memory")
    lines = c.feed("show running-config").splitlines()
    assert lines[4:7] == ["! Last configuration change at 01:02:05 UTC Mon Mar 1 1993",
                          "! NVRAM config last updated at 01:03:05 UTC Mon Mar 1 1993", "!"]
    c.feed("show ip route")  # a show command changes nothing
    assert c.feed("show running-config").splitlines()[4:7] == lines[4:7]
    run(c, "reload\n\n\nenable\n")
    lines = c.feed("show running-config").splitlines()
    assert lines[4:7] == ["! No configuration change since last restart",
                          "! NVRAM config last updated at 01:03:05 UTC Mon Mar 1 1993", "!"]


def test_sections_land_where_iosv_puts_them(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    run(c, "conf t\nusername admin secret cisco\nlogging host 192.0.2.9\n"
           "access-list 10 permit 192.168.1.0 0.0.0.255\nbanner motd #Authorised only#\n"
           "crypto isakmp policy 10\nexit\nip http secure-server\nend\n")
    body = _body(c.feed("show running-config"))
    assert re.search(r"multilink bundle-name authenticated\n!\n!\nusername admin secret 5 "
                     r"\S+\n!\nredundancy\n!\n!\n!\ncrypto isakmp policy 10\n!\ninterface "
                     r"GigabitEthernet0/0\n", body)
    assert "no ip http server\nip http secure-server\nip route 0.0.0.0" in body
    assert ("ip route 0.0.0.0 0.0.0.0 198.51.100.2\n!\nlogging host 192.0.2.9\n"
            "ipv6 ioam timestamp\n!\n!\naccess-list 10 permit 192.168.1.0 0.0.0.255\n!\n"
            "control-plane\n!\nbanner motd ^CAuthorised only^C\n!\nline con 0\n") in body


def test_a_saved_iosv_config_boots_without_an_error(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    run(c, "conf t\nhostname SAVED\nend\n")
    before = _body(c.feed("show running-config")).split("!\nversion", 1)[1]
    c.feed("write memory")
    out = run(c, "reload\n\n\nenable\n")
    assert "% Invalid" not in out and "not emulated" not in out, out
    assert _body(c.feed("show running-config")).split("!\nversion", 1)[1] == before


def test_iosv_lines_typed_at_the_prompt(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    out = run(c, "conf t\nredundancy\n")
    assert c.prompt == "R1(config-red)#"
    run(c, "exit\ncontrol-plane\n")
    assert c.prompt == "R1(config-cp)#"
    run(c, "interface GigabitEthernet0/3\n")  # a global command leaves the mode, as on IOS
    assert c.prompt == "R1(config-if)#"
    run(c, "exit\n")
    for line in ("mmi polling-interval 60", "no mmi auto-configure", "no mmi pvc",
                 "mmi snmp-timeout 180", "no ipv6 cef", "multilink bundle-name authenticated",
                 "ipv6 ioam timestamp", "no scheduler allocate"):
        out = c.feed(line)
        assert out == "", (line, out)
    assert c.feed("mmi polling-interval 30") == (
        '% iosim: "mmi polling-interval 30" is not emulated\n')
    assert "mmi polling-interval 60\n" in c.feed("do show running-config")
