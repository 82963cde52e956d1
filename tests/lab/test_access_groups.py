"""Interface access lists (``ip access-group``) on the data plane, in IOS 15's order relative
to NAT and crypto, ``ip unreachables``, and discard routes to Null0."""

from __future__ import annotations

from pathlib import Path

from labkit import ISP_NAT, ISP_ROUTES, captured_ipv4, marks, run, seeded
from labkit import console as lab_console

from iosim.lab.console import LabConsole
from iosim.net.packets import (
    IcmpDestinationUnreachable,
    IpProtocol,
    UnreachableCode,
    ip_to_int,
    pull_icmp,
)

NO_ECHO_TO_PC2 = """\
@ISP
configure terminal
access-list 101 deny icmp any host 10.0.2.10 echo
access-list 101 permit ip any any
interface GigabitEthernet0/0
ip access-group 101 in
end
"""


def _routed(tmp_path: Path) -> LabConsole:
    console = lab_console(tmp_path)
    run(console, ISP_ROUTES)
    return console


def _count(console: LabConsole, device: str, line: str) -> int:
    """The match count ``show access-lists`` prints for ``line`` on ``device`` (0: none)."""
    console.feed(f"@{device}")
    for row in console.feed("show access-lists").splitlines():
        if row.strip().split(" ", 1)[-1].startswith(line):
            return int(row.rsplit("(", 1)[1].split()[0]) if "match" in row else 0
    raise AssertionError(f"{line!r} not in the access lists of {device}")


def test_an_inbound_acl_drops_counts_and_answers_administratively_prohibited(
        tmp_path: Path) -> None:
    console = _routed(tmp_path)
    console.lab.fabric.capture()
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == ["!!!!!"]
    run(console, NO_ECHO_TO_PC2)
    # denied: ICMP unreachable code 13, rate-limited as every IOS unreachable
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == ["U.U.U"]
    assert marks(run(console, "@PC1\nping 10.0.2.1\n")) == ["!!!!!"]  # the permit line
    assert _count(console, "ISP", "deny icmp any host 10.0.2.10 echo") == 5
    assert _count(console, "ISP", "permit ip any any") == 5
    unreachables = [pull_icmp(p.payload) for _, p in captured_ipv4(console, "R1")
                    if p.protocol == IpProtocol.ICMP and p.src == ip_to_int("198.51.100.2")
                    and p.payload[0] == 3]
    assert unreachables and all(isinstance(m, IcmpDestinationUnreachable)
                                and m.code == UnreachableCode.ADMINISTRATIVELY_PROHIBITED
                                for m in unreachables)
    assert " ip access-group 101 in\n" in console.feed(
        "show running-config interface GigabitEthernet0/0")
    # removed: the traffic passes again and the counters stay as they were
    run(console, "configure terminal\ninterface GigabitEthernet0/0\n"
                 "no ip access-group 101 in\nend\n")
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == ["!!!!!"]
    assert _count(console, "ISP", "deny icmp any host 10.0.2.10 echo") == 5


def test_no_ip_unreachables_drops_silently(tmp_path: Path) -> None:
    console = _routed(tmp_path)
    run(console, NO_ECHO_TO_PC2)
    run(console, "configure terminal\ninterface GigabitEthernet0/0\nno ip unreachables\nend\n")
    assert " no ip unreachables\n" in console.feed(
        "show running-config interface GigabitEthernet0/0")
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == ["....."]
    assert _count(console, "ISP", "deny icmp any host 10.0.2.10 echo") == 5


def test_an_outbound_named_standard_acl_filters_forwarded_traffic_only(tmp_path: Path
                                                                       ) -> None:
    """A standard list looks at the source; out on the ISP's link to R2 it stops what the ISP
    forwards from R1's LAN, never what the ISP sends itself (IOS does not filter a router's
    own traffic with its outbound ACLs)."""
    console = _routed(tmp_path)
    run(console, "@ISP\nconfigure terminal\nip access-list standard NOT_BRANCH1\n"
                 "deny 192.168.1.0 0.0.0.255\npermit any\nexit\n"
                 "interface GigabitEthernet0/1\nip access-group NOT_BRANCH1 out\nend\n")
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == ["U.U.U"]
    assert marks(run(console, "@R1\nping 10.0.2.10\n")) == ["!!!!!"]  # from 198.51.100.1
    assert marks(run(console, "@ISP\nping 10.0.2.10\n")) == ["!!!!!"]
    assert _count(console, "ISP", "deny   192.168.1.0, wildcard bits 0.0.0.255") == 5
    assert _count(console, "ISP", "permit any") == 5  # R1's echoes; the ISP's own not


def test_an_acl_applied_but_not_defined_filters_nothing(tmp_path: Path) -> None:
    console = _routed(tmp_path)
    run(console, "@ISP\nconfigure terminal\ninterface GigabitEthernet0/0\n"
                 "ip access-group 150 in\nend\n")
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == ["!!!!!"]
    run(console, "@ISP\nconfigure terminal\naccess-list 150 permit icmp any any echo-reply\nend\n")
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == ["U.U.U"]  # implicit deny


def test_the_outside_acl_sees_ike_and_esp_not_the_decrypted_traffic(tmp_path: Path) -> None:
    """IOS 15 (crypto access check, 12.3(8)T on): R1's inbound ACL on its outside interface
    is checked on ISAKMP and ESP; what comes out of the ESP is not checked against it again,
    so permitting the peer's IKE and ESP is enough for the tunnel's traffic."""
    console = seeded(tmp_path)
    run(console, "configure terminal\nip access-list extended OUTSIDE_IN\n"
                 "permit udp host 203.0.113.2 host 198.51.100.1 eq isakmp\n"
                 "permit esp host 203.0.113.2 host 198.51.100.1\nexit\n"
                 "interface GigabitEthernet0/0\nip access-group OUTSIDE_IN in\nend\n")
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == [".!!!!"]
    assert _count(console, "R1", "permit esp host 203.0.113.2 host 198.51.100.1") == 4
    assert _count(console, "R1", "permit udp host 203.0.113.2 host 198.51.100.1 eq isakmp") > 0
    # cleartext from outside is denied (and the decrypted replies above were not)
    assert marks(run(console, "@R2\nping 198.51.100.1\n")) == ["U.U.U"]
    # without the ISAKMP line the peer's IKE is denied: no new tunnel comes up
    run(console, "@R1\nconfigure terminal\nip access-list extended OUTSIDE_IN\n"
                 "no permit udp host 203.0.113.2 host 198.51.100.1 eq isakmp\nend\n"
                 "clear crypto session\n")
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == ["....."]
    console.feed("@R1")
    assert "QM_IDLE" not in console.feed("show crypto isakmp sa")


def test_the_outside_outbound_acl_sees_the_esp_not_the_cleartext(tmp_path: Path) -> None:
    """Out on R1's outside interface only ESP is permitted: the LAN's traffic to R2's LAN
    leaves encrypted and passes (the ACL sees the ESP), R1's own IKE is never filtered,
    and the LAN's cleartext to anywhere else is denied."""
    console = seeded(tmp_path)
    run(console, "configure terminal\nip access-list extended OUTSIDE_OUT\n"
                 "permit esp host 198.51.100.1 host 203.0.113.2\nexit\n"
                 "interface GigabitEthernet0/0\nip access-group OUTSIDE_OUT out\nend\n")
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == [".!!!!"]
    assert _count(console, "R1", "permit esp host 198.51.100.1 host 203.0.113.2") == 4
    assert marks(run(console, "@PC1\nping 203.0.113.1\n")) == ["U.U.U"]


def test_the_outbound_acl_sees_the_translated_source_and_inbound_the_global_one(
        tmp_path: Path) -> None:
    """NAT inside->outside comes before the outbound ACL, and the inbound ACL before NAT
    outside->inside: on the ISP's outside interface both see R1's global address only."""
    console = lab_console(tmp_path)
    run(console, ISP_NAT)
    run(console, "@ISP\nconfigure terminal\n"
                 "access-list 120 permit icmp host 203.0.113.1 host 203.0.113.2\n"
                 "access-list 121 permit icmp host 203.0.113.2 host 203.0.113.1\n"
                 "interface GigabitEthernet0/1\nip access-group 120 out\n"
                 "ip access-group 121 in\nend\n")
    assert marks(run(console, "@R1\nping 203.0.113.2\n")) == ["!!!!!"]
    assert _count(console, "ISP", "permit icmp host 203.0.113.1 host 203.0.113.2") == 5
    assert _count(console, "ISP", "permit icmp host 203.0.113.2 host 203.0.113.1") == 5


def test_a_route_to_null0_discards(tmp_path: Path) -> None:
    console = _routed(tmp_path)
    run(console, "@R1\nconfigure terminal\nip route 172.16.0.0 255.240.0.0 Null0\nend\n")
    assert "S     172.16.0.0/12 is directly connected, Null0\n" in console.feed("show ip route")
    assert "ip route 172.16.0.0 255.240.0.0 Null0\n" in console.feed(
        "show running-config | include ip route")
    stack = console.lab.routers["R1"].stack
    assert stack is not None
    before = stack.discarded
    # without the route, R1 would send it to its default route, the ISP
    assert marks(run(console, "@PC1\nping 172.16.1.1\n")) == ["U.U.U"]
    assert stack.discarded == before + 5
    # the discard route is more specific than the default only where it covers
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == ["!!!!!"]
    run(console, "@R1\nconfigure terminal\nno ip route 172.16.0.0 255.240.0.0 Null0\nend\n")
    assert "Null0" not in console.feed("show ip route")
    assert marks(run(console, "@PC1\nping 172.16.1.1\n")) == ["U.U.U"]  # the ISP's, now
    assert stack.discarded == before + 5
