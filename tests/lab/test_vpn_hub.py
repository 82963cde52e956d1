"""Dynamic crypto maps, keyrings, ISAKMP profiles, reverse route injection, proxy identities
with a protocol, and what happens to packets too big for the tunnel."""

from __future__ import annotations

from pathlib import Path

from labkit import WARM_ARP, marks, run, seed_config, seeded
from labkit import console as lab_console

from iosim.lab.console import LabConsole

R1_ACL = "permit ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255"  # the seed's crypto ACL lines
R2_ACL = "permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255"


R2_HUB = """@R2
enable
configure terminal
crypto isakmp policy 10
encryption aes 256
hash sha256
authentication pre-share
group 14
exit
crypto keyring SPOKES
pre-shared-key address 0.0.0.0 0.0.0.0 key SECRETKEY123
exit
crypto ipsec transform-set MYSET esp-aes 256 esp-sha256-hmac
exit
ip access-list extended FROM_SPOKES
permit ip 10.0.2.0 0.0.0.255 192.168.0.0 0.0.255.255
exit
crypto dynamic-map DYN 10
set transform-set MYSET
set pfs group14
match address FROM_SPOKES
reverse-route
exit
crypto map MYMAP 65535 ipsec-isakmp dynamic DYN
interface GigabitEthernet0/0
crypto map MYMAP
end
"""


def _hub(tmp_path: Path) -> LabConsole:
    console = lab_console(tmp_path)
    run(console, seed_config("seed_r1"))
    run(console, R2_HUB)
    run(console, WARM_ARP)
    return console


def test_a_dynamic_crypto_map_answers_any_peer_and_injects_the_route(tmp_path: Path) -> None:
    console = _hub(tmp_path)
    console.feed("@R2")
    before = console.feed("show ip route")
    assert "192.168.1.0" not in before
    console.feed("@R1")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]
    console.feed("@R2")
    route = console.feed("show ip route")
    assert "S     192.168.1.0/24 [1/0] via 198.51.100.1" in route, route
    ipsec = console.feed("show crypto ipsec sa")
    assert "   local  ident (addr/mask/prot/port): (10.0.2.0/255.255.255.0/0/0)" in ipsec
    assert "   remote ident (addr/mask/prot/port): (192.168.1.0/255.255.255.0/0/0)" in ipsec
    assert "   current_peer 198.51.100.1 port 500" in ipsec
    assert "    #pkts encaps: 9, #pkts encrypt: 9, #pkts digest: 9" in ipsec
    session = console.feed("show crypto session")
    assert "origin: dynamic crypto map" in session
    # clearing the SAs withdraws the injected route
    console.feed("clear crypto sa")
    assert "192.168.1.0" not in console.feed("show ip route")


def test_a_dynamic_entry_never_starts_ike_and_drops_what_its_acl_permits(tmp_path: Path
                                                                          ) -> None:
    console = _hub(tmp_path)
    console.feed("@R2")
    out = console.feed("ping 192.168.1.10 source 10.0.2.1")
    assert marks(out) == ["....."]
    assert "QM_IDLE" not in console.feed("show crypto isakmp sa")
    # the spoke brings the tunnel up; then the hub's traffic rides it
    console.feed("@R1")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    console.feed("@R2")
    assert marks(console.feed("ping 192.168.1.10 source 10.0.2.1")) == ["!!!!!"]


def test_an_isakmp_profile_takes_its_keys_from_its_keyring_only(tmp_path: Path) -> None:
    console = _hub(tmp_path)
    run(console, "@R2\nconfigure terminal\ncrypto keyring OTHER\n"
                 "pre-shared-key address 198.51.100.1 key WRONGKEY\nexit\n"
                 "crypto isakmp profile SITE1\nkeyring OTHER\n"
                 "match identity address 198.51.100.1 255.255.255.255\nend\n")
    console.feed("@R1")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["....."]
    assert "QM_IDLE" not in console.feed("show crypto isakmp sa")
    # the keyring's key corrected: the profile's peer comes up
    run(console, "@R2\nconfigure terminal\ncrypto keyring OTHER\n"
                 "pre-shared-key address 198.51.100.1 key SECRETKEY123\nend\n"
                 "clear crypto isakmp\n@R1\nclear crypto isakmp\n")
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]


def test_a_protocol_in_the_crypto_acl_is_a_protocol_in_the_proxy_identities(tmp_path: Path
                                                                             ) -> None:
    console = seeded(tmp_path, r1_replace={R1_ACL: R1_ACL.replace("permit ip", "permit icmp")},
                     r2_replace={R2_ACL: R2_ACL.replace("permit ip", "permit icmp")})
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    ipsec = console.feed("show crypto ipsec sa")
    assert "   local  ident (addr/mask/prot/port): (192.168.1.0/255.255.255.0/1/0)" in ipsec
    assert "   remote ident (addr/mask/prot/port): (10.0.2.0/255.255.255.0/1/0)" in ipsec
    assert "    #pkts encaps: 4, #pkts encrypt: 4, #pkts digest: 4" in ipsec
    assert "IPSEC FLOW: permit 1 192.168.1.0/255.255.255.0 10.0.2.0/255.255.255.0 " in \
        console.feed("show crypto session")
    # the responder's line for all IP covers the ICMP proposal: accepted (IOS asks that the
    # proposal lie within a line), and the SA is made for the ICMP proxies proposed
    run(console, "@R2\nconfigure terminal\nip access-list extended VPN_TRAFFIC\n"
                 "no permit icmp 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255\n"
                 "permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255\nend\n"
                 "clear crypto sa\n@R1\nclear crypto sa\n")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    console.feed("@R2")
    r2 = console.feed("show crypto ipsec sa")
    assert "   local  ident (addr/mask/prot/port): (10.0.2.0/255.255.255.0/1/0)" in r2
    assert "   local  ident (addr/mask/prot/port): (10.0.2.0/255.255.255.0/0/0)" in r2
    # the other way round, an all-IP proposal does not lie within an ICMP-only line: refused
    run(console, "configure terminal\nip access-list extended VPN_TRAFFIC\n"
                 "no permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255\n"
                 "permit icmp 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255\nend\n"
                 "clear crypto sa\n@R1\nconfigure terminal\nip access-list extended VPN_TRAFFIC\n"
                 "no permit icmp 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255\n"
                 "permit ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255\nend\nclear crypto sa\n")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["....."]
    assert "QM_IDLE" in console.feed("show crypto isakmp sa")
    assert "Status: ACTIVE" not in console.feed("show crypto ipsec sa")


def test_too_big_for_the_tunnel_fragments_before_encryption_or_answers_m(tmp_path: Path
                                                                          ) -> None:
    console = seeded(tmp_path)
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    mtu_line = next(ln for ln in console.feed("show crypto ipsec sa").splitlines()
                    if "plaintext mtu" in ln)
    plaintext = int(mtu_line.split("plaintext mtu ")[1].split(",")[0])
    assert plaintext == 1438  # AES-CBC + SHA-256: 1500 - 20 - 8 - 16 - 16, to the block, - 2
    out = console.feed(f"ping 10.0.2.10 source 192.168.1.1 size {plaintext + 1} df-bit")
    assert marks(out) and set(marks(out)[0]) <= {"M", "."}, out
    assert "M" in marks(out)[0]
    out = console.feed(f"ping 10.0.2.10 source 192.168.1.1 size {plaintext} df-bit")
    assert marks(out) == ["!!!!!"]
    before = console.feed("show crypto ipsec sa")
    out = console.feed("ping 10.0.2.10 source 192.168.1.1 size 1500")
    assert marks(out) == ["!!!!!"]
    after = console.feed("show crypto ipsec sa")

    def encaps(text: str) -> int:
        return int(text.split("#pkts encaps: ")[1].split(",")[0])

    assert encaps(after) - encaps(before) == 10  # each 1500-byte ping went as two fragments
