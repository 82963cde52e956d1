"""NAT in the default lab: real frames through R1, as IOS orders routing, NAT and crypto.

PC1 192.168.1.10 -- Gi0/1 R1 Gi0/0 198.51.100.1 -- ISP 198.51.100.2 / 203.0.113.1 -- R2 -- PC2.
"""

from __future__ import annotations

from pathlib import Path

from iosim.lab.console import Lab, LabConsole
from iosim.net.packets import (
    EtherType,
    IcmpEcho,
    IpProtocol,
    Ipv4Packet,
    format_ip,
    ip_to_int,
    pull_ethernet,
    pull_icmp,
    pull_ipv4,
)
from iosim.net.ping import run_ping

PAT = """\
conf t
interface GigabitEthernet0/1
 ip nat inside
interface GigabitEthernet0/0
 ip nat outside
exit
access-list 1 permit 192.168.1.0 0.0.0.255
ip nat inside source list 1 interface GigabitEthernet0/0 overload
end
"""

VPN_EXEMPT = """\
conf t
interface GigabitEthernet0/1
 ip nat inside
interface GigabitEthernet0/0
 ip nat outside
exit
access-list 101 deny ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255
access-list 101 permit ip 192.168.1.0 0.0.0.255 any
ip nat inside source list 101 interface GigabitEthernet0/0 overload
end
"""

ISP_ROUTES = """\
@ISP
enable
conf t
ip route 192.168.1.0 255.255.255.0 198.51.100.1
ip route 10.0.2.0 255.255.255.0 203.0.113.2
ip route 198.51.100.4 255.255.255.252 198.51.100.1
end
@R1
"""


def _lab(tmp_path: Path, *scripts: str) -> tuple[Lab, LabConsole]:
    lab = Lab.load(nvram_dir=tmp_path)
    console = LabConsole(lab, "R1", paging=False)
    console.feed("enable")
    for script in scripts:
        for line in script.splitlines():
            console.feed(line)
    return lab, console


def _ping_from(lab: Lab, host: str, target: str, repeat: int = 5) -> str:
    stack = lab.hosts[host].stack
    assert stack is not None
    return run_ping(stack, lab.clock, ip_to_int(target), repeat=repeat).marks


#: R1's side of each link of the tests.
_R1_SIDE = {"ISP": "GigabitEthernet0/0", "PC1": "GigabitEthernet0/1"}


def _datagrams(lab: Lab, r1: str, other: str) -> list[Ipv4Packet]:
    """Every IPv4 datagram captured on the link between R1 and ``other``."""
    link = lab.fabric.link_of(r1, _R1_SIDE[other])
    assert link is not None
    out = []
    for _, frame in link.captured:
        eth = pull_ethernet(frame)
        if eth.ethertype == EtherType.IPV4:
            out.append(pull_ipv4(eth.payload))  # raises on a bad header checksum
    return out


def _pairs(packets: list[Ipv4Packet]) -> set[tuple[str, str]]:
    return {(format_ip(p.src), format_ip(p.dst)) for p in packets}


def test_pat_ping_from_pc1_to_the_isp(tmp_path: Path) -> None:
    lab, console = _lab(tmp_path, PAT)
    lab.fabric.capture()
    assert _ping_from(lab, "PC1", "198.51.100.2") == "!!!!!"  # neighbours known since boot
    assert _ping_from(lab, "PC1", "198.51.100.2") == "!!!!!"
    wan = _datagrams(lab, "R1", "ISP")
    assert _pairs(wan) == {("198.51.100.1", "198.51.100.2"), ("198.51.100.2", "198.51.100.1")}
    for packet in wan:
        message = pull_icmp(packet.payload)  # the ICMP checksum is right after translation
        assert isinstance(message, IcmpEcho)
    lan = _datagrams(lab, "R1", "PC1")
    assert _pairs(lan) == {("192.168.1.10", "198.51.100.2"), ("198.51.100.2", "192.168.1.10")}
    assert console.feed("show ip nat translations") == (
        "Pro Inside global      Inside local       Outside local      Outside global\n"
        "icmp 198.51.100.1:1    192.168.1.10:1     198.51.100.2:1     198.51.100.2:1\n")
    # the NAT ACL counts the flows it classified
    assert "permit 192.168.1.0, wildcard bits 0.0.0.255 (1 match)" in console.feed(
        "show access-lists")


def test_without_nat_the_isp_cannot_answer_pc1(tmp_path: Path) -> None:
    lab, _ = _lab(tmp_path)
    assert _ping_from(lab, "PC1", "198.51.100.2") == "....."


def test_translations_time_out_on_the_virtual_clock(tmp_path: Path) -> None:
    lab, console = _lab(tmp_path, PAT)
    _ping_from(lab, "PC1", "198.51.100.2")
    lab.clock.advance(50)
    assert "icmp 198.51.100.1:1" in console.feed("show ip nat translations")
    lab.clock.advance(11)  # 60 s after the last echo reply
    assert console.feed("show ip nat translations") == ""


def test_clear_ip_nat_translation_keeps_static_entries(tmp_path: Path) -> None:
    lab, console = _lab(tmp_path, PAT, "conf t\n"
                        "ip nat inside source static 192.168.1.20 198.51.100.5\nend\n")
    _ping_from(lab, "PC1", "198.51.100.2")
    assert console.feed("show ip nat translations").count("\n") == 3
    assert console.feed("clear ip nat translation *") == ""
    assert console.feed("show ip nat translations") == (
        "Pro Inside global      Inside local       Outside local      Outside global\n"
        "--- 198.51.100.5       192.168.1.20       ---                ---\n")


def test_static_nat_in_both_directions(tmp_path: Path) -> None:
    lab, console = _lab(tmp_path, "conf t\ninterface GigabitEthernet0/1\n ip nat inside\n"
                        "interface GigabitEthernet0/0\n ip nat outside\nexit\n"
                        "ip nat inside source static 192.168.1.10 198.51.100.5\nend\n",
                        ISP_ROUTES)
    lab.fabric.capture()
    # outside -> inside: the ISP reaches PC1 at its global address
    out = console.feed("@ISP") + console.feed("ping 198.51.100.5 repeat 10")
    assert "!!!!!!!!" in out and "Success rate is" in out
    console.feed("@R1")
    wan = _pairs(_datagrams(lab, "R1", "ISP"))
    assert ("198.51.100.2", "198.51.100.5") in wan and ("198.51.100.5", "198.51.100.2") in wan
    assert ("198.51.100.2", "192.168.1.10") in _pairs(_datagrams(lab, "R1", "PC1"))
    # inside -> outside: PC1's own traffic leaves as 198.51.100.5
    assert _ping_from(lab, "PC1", "203.0.113.1") == "!!!!!"
    assert ("198.51.100.5", "203.0.113.1") in _pairs(_datagrams(lab, "R1", "ISP"))
    table = console.feed("show ip nat translations")
    assert "--- 198.51.100.5       192.168.1.10       ---                ---\n" in table
    assert "icmp 198.51.100.5:" in table


def test_nat_grabs_the_vpn_traffic_unless_the_acl_denies_it(tmp_path: Path) -> None:
    # the classic fault: list 1 permits the whole LAN, so traffic for 10.0.2.0/24 is
    # translated before crypto could see 192.168.1.0/24 -> 10.0.2.0/24
    lab, console = _lab(tmp_path, PAT, ISP_ROUTES)
    lab.fabric.capture()
    _ping_from(lab, "PC1", "10.0.2.10")
    assert ("198.51.100.1", "10.0.2.10") in _pairs(_datagrams(lab, "R1", "ISP"))
    assert "10.0.2.10:1" in console.feed("show ip nat translations")

    # the fix: deny the VPN traffic in the NAT ACL
    lab, console = _lab(tmp_path / "fixed", VPN_EXEMPT, ISP_ROUTES)
    lab.fabric.capture()
    assert _ping_from(lab, "PC1", "10.0.2.10") == "!!!!!"  # neighbours known since boot
    assert _ping_from(lab, "PC1", "10.0.2.10") == "!!!!!"
    assert _ping_from(lab, "PC1", "198.51.100.2") == "!!!!!"
    wan = _pairs(_datagrams(lab, "R1", "ISP"))
    assert ("192.168.1.10", "10.0.2.10") in wan  # untranslated: the crypto ACL would match
    assert ("198.51.100.1", "198.51.100.2") in wan  # internet traffic still translated
    assert all(src != "192.168.1.10" or dst == "10.0.2.10" for src, dst in wan)
    table = console.feed("show ip nat translations")
    assert "10.0.2.10" not in table and "198.51.100.2:1" in table
    acl = console.feed("show access-lists 101")
    assert "10 deny ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255 (" in acl


def test_router_pings_sourced_from_the_inside_interface_are_translated(tmp_path: Path) -> None:
    lab, console = _lab(tmp_path, PAT)
    console.feed("ping 198.51.100.2")  # ARP first
    out = console.feed("ping 198.51.100.2 source GigabitEthernet0/1")
    assert "!!!!!" in out
    assert "192.168.1.1:" in console.feed("show ip nat translations")
    # sourced from the outside interface: not translated, no new entry
    console.feed("clear ip nat translation *")
    assert "!!!!!" in console.feed("ping 198.51.100.2")
    assert console.feed("show ip nat translations") == ""


def test_removing_the_inside_marking_stops_translation(tmp_path: Path) -> None:
    lab, console = _lab(tmp_path, PAT)
    assert _ping_from(lab, "PC1", "198.51.100.2").endswith("!!!")
    for line in ("conf t", "interface GigabitEthernet0/1", "no ip nat inside", "end"):
        console.feed(line)
    console.feed("clear ip nat translation *")
    lab.fabric.capture()
    assert _ping_from(lab, "PC1", "198.51.100.2") == "....."
    assert _pairs(_datagrams(lab, "R1", "ISP")) == {("192.168.1.10", "198.51.100.2")}


def test_udp_through_pat_keeps_a_valid_checksum(tmp_path: Path) -> None:
    lab, console = _lab(tmp_path, PAT)
    _ping_from(lab, "PC1", "198.51.100.2")  # resolve ARP on both links
    lab.fabric.capture()
    pc1 = lab.hosts["PC1"].stack
    assert pc1 is not None
    pc1.send_udp(ip_to_int("198.51.100.2"), 5060, 5060, b"INVITE")
    lab.clock.advance(1)
    wan = [p for p in _datagrams(lab, "R1", "ISP") if p.protocol == IpProtocol.UDP]
    assert [(format_ip(p.src), format_ip(p.dst)) for p in wan[:1]] == [
        ("198.51.100.1", "198.51.100.2")]
    from iosim.net.packets import pull_udp

    udp = pull_udp(wan[0].payload, wan[0].src, wan[0].dst)  # verifies the pseudo-header sum
    assert (udp.src_port, udp.payload) == (5060, b"INVITE")
    assert "udp 198.51.100.1:5060  192.168.1.10:5060  198.51.100.2:5060  198.51.100.2:5060" \
        in console.feed("show ip nat translations")
