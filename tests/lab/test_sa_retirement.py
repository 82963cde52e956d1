"""Pairs whose policy is removed go: the crypto map entry, its peer or ACL line, the map on the
interface, a tunnel's protection, or the tunnel itself. The peer is told (a Delete), nothing
keeps decrypting out of sight, and the next packet negotiates new SAs with new SPIs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from labkit import marks, run, seeded
from tunnelkit import PING, tunnel_lab

from iosim.ipsec.router_crypto import RouterCrypto
from iosim.lab.console import LabConsole

SEED_PING = "ping 10.0.2.10 source 192.168.1.1"
ACL_LINE = "permit ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255"


def _pairs(c: LabConsole, device: str) -> int:
    plane = c.lab.routers[device].crypto_plane
    assert isinstance(plane, RouterCrypto)
    return len(plane.sad.bundles)


def _spis(c: LabConsole) -> set[str]:
    return set(re.findall(r"spi: (0x[0-9A-F]+)", run(c, "show crypto ipsec sa")))


#: (what is removed, what puts it back), typed on R1 of the seeded lab
CRYPTO_MAP_CHANGES = {
    "acl": ("conf t\nno ip access-list extended VPN_TRAFFIC\nend",
            f"conf t\nip access-list extended VPN_TRAFFIC\n{ACL_LINE}\nend"),
    "entry": ("conf t\nno crypto map MYMAP 10\nend",
              "conf t\ncrypto map MYMAP 10 ipsec-isakmp\nset peer 203.0.113.2\n"
              "set transform-set MYSET\nset pfs group14\nmatch address VPN_TRAFFIC\nend"),
    "interface": ("conf t\ninterface g0/0\nno crypto map MYMAP\nend",
                  "conf t\ninterface g0/0\ncrypto map MYMAP\nend"),
    "peer": ("conf t\ncrypto map MYMAP 10\nno set peer 203.0.113.2\nend",
             "conf t\ncrypto map MYMAP 10\nset peer 203.0.113.2\nend"),
}


@pytest.mark.parametrize("change", sorted(CRYPTO_MAP_CHANGES))
def test_a_removed_crypto_map_policy_deletes_its_pairs_on_both_routers(
        tmp_path: Path, change: str) -> None:
    removal, restore = CRYPTO_MAP_CHANGES[change]
    c = seeded(tmp_path)
    assert marks(c.feed(SEED_PING)) == [".!!!!"]
    before = _spis(c)
    assert _pairs(c, "R1") == _pairs(c, "R2") == 1
    run(c, removal + "\n@wait 1")
    assert _pairs(c, "R1") == 0
    assert "IPsec" not in run(c, "show crypto engine connections active")
    assert _pairs(c, "R2") == 0  # told by R1's Delete
    assert " UI" in run(c, "@R2\nshow crypto session brief\n@R1")
    run(c, restore)
    assert marks(c.feed(SEED_PING)) == [".!!!!"]  # negotiated anew
    after = _spis(c)
    assert after and not after & before


def test_changing_what_an_entry_is_set_to_keeps_its_pairs(tmp_path: Path) -> None:
    c = seeded(tmp_path)
    c.feed(SEED_PING)
    run(c, "conf t\ncrypto map MYMAP 10\nset transform-set MYSET\nno set pfs\n"
           "set security-association lifetime seconds 1800\nend\n@wait 1")
    assert _pairs(c, "R1") == _pairs(c, "R2") == 1
    assert marks(c.feed(SEED_PING)) == ["!!!!!"]


def test_an_acl_line_that_no_longer_covers_the_flow_deletes_its_pair(tmp_path: Path) -> None:
    c = seeded(tmp_path)
    c.feed(SEED_PING)
    run(c, "conf t\nip access-list extended VPN_TRAFFIC\n"
           "permit ip 192.168.1.0 0.0.0.255 10.0.3.0 0.0.0.255\nend")
    assert _pairs(c, "R1") == 1  # another line added: the flow is still covered
    run(c, f"conf t\nip access-list extended VPN_TRAFFIC\nno {ACL_LINE}\nend")
    assert _pairs(c, "R1") == 0


#: (what is removed, what puts it back, whether R1's Delete can reach R2)
TUNNEL_CHANGES = {
    "tunnel shut": ("conf t\ninterface Tunnel0\nshutdown\nend",
                    "conf t\ninterface Tunnel0\nno shutdown\nend", True),
    "protection removed": ("conf t\ninterface Tunnel0\nno tunnel protection ipsec profile PROF"
                           "\nend",
                           "conf t\ninterface Tunnel0\ntunnel protection ipsec profile PROF\n"
                           "end", True),
    "source shut": ("conf t\ninterface g0/0\nshutdown\nend",  # the Delete cannot leave
                    "conf t\ninterface g0/0\nno shutdown\nend", False),
}


@pytest.mark.parametrize("change", sorted(TUNNEL_CHANGES))
def test_a_tunnel_that_loses_its_protection_deletes_its_pairs(tmp_path: Path,
                                                              change: str) -> None:
    removal, restore, told = TUNNEL_CHANGES[change]
    c = tunnel_lab(tmp_path, protect=True)
    c.feed(PING)
    assert marks(c.feed(PING)) == ["!!!!!"]
    before = _spis(c)
    assert _pairs(c, "R1") == 1
    run(c, removal + "\n@wait 1")
    assert _pairs(c, "R1") == 0
    assert "IPsec" not in run(c, "show crypto engine connections active")
    assert _pairs(c, "R2") == (0 if told else 1)
    run(c, restore + "\n@wait 30")
    c.feed(PING)
    assert marks(c.feed(PING)) == ["!!!!!"]
    after = _spis(c)
    assert after and not after & before


def test_isakmp_goes_off_with_the_last_crypto_map_and_on_with_the_next(tmp_path: Path) -> None:
    c = seeded(tmp_path)
    removal, restore = CRYPTO_MAP_CHANGES["interface"]
    out = run(c, removal + "\n" + restore)
    assert re.findall(r"%CRYPTO-6-ISAKMP_ON_OFF: ISAKMP is (\w+)", out) == ["OFF", "ON"]
    logged = run(c, "show logging | include ISAKMP_ON_OFF")
    assert re.findall(r"ISAKMP is (\w+)", logged) == ["ON", "OFF", "ON"]


def test_a_pair_whose_policy_went_while_it_was_negotiated_is_not_installed(
        tmp_path: Path) -> None:
    c = seeded(tmp_path)
    run(c, "ping 10.0.2.10 source 192.168.1.1 repeat 1 timeout 0")  # quick mode under way
    run(c, f"conf t\nip access-list extended VPN_TRAFFIC\nno {ACL_LINE}\nend\n@wait 5")
    assert _pairs(c, "R1") == _pairs(c, "R2") == 0  # R2's was deleted with R1's Delete
    assert "spi:" not in run(c, "show crypto ipsec sa")


def test_removing_the_only_protected_tunnel_turns_isakmp_off(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, protect=True)
    out = run(c, "conf t\nno interface Tunnel0\nend")
    assert "%CRYPTO-6-ISAKMP_ON_OFF: ISAKMP is OFF" in out
