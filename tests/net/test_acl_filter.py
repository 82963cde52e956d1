"""Interface ACL verdicts (``iosim.net.acl_filter``): first match, implicit deny, counters,
standard lists, a list applied but not defined, and non-first fragments as IOS judges them."""

from __future__ import annotations

from ipaddress import IPv4Address
from types import SimpleNamespace

from iosim.clock import VirtualClock
from iosim.config.apply_acl import PROTOCOLS
from iosim.config.model import AccessList, AclEntry, AddressMatch, InterfaceConfig, PortMatch
from iosim.net.acl_filter import InterfaceAcls
from iosim.net.packets import IpProtocol, Ipv4Packet, UdpDatagram, ip_to_int, push_ipv4, push_udp

ANY = AddressMatch(IPv4Address("0.0.0.0"), IPv4Address("255.255.255.255"))
SRC, DST = "192.168.1.10", "10.0.2.10"


def _host(a: str) -> AddressMatch:
    return AddressMatch(IPv4Address(a), IPv4Address("0.0.0.0"))


def _router(acls: list[AccessList], group_in: str | None = None,
            group_out: str | None = None) -> InterfaceAcls:
    intf = InterfaceConfig("GigabitEthernet0/0", access_group_in=group_in,
                           access_group_out=group_out)
    config = SimpleNamespace(interfaces={intf.name: intf}, acls={a.name: a for a in acls})
    return InterfaceAcls(SimpleNamespace(config=config), VirtualClock())  # type: ignore[arg-type]


def _udp(dport: int, *, offset: int = 0, source: str = SRC) -> bytes:
    src, dst = ip_to_int(source), ip_to_int(DST)
    payload = push_udp(UdpDatagram(40000, dport, b"x" * 16), src, dst)
    return push_ipv4(Ipv4Packet(identification=7, protocol=IpProtocol.UDP, src=src, dst=dst,
                                payload=payload, fragment_offset=offset))


def test_nothing_applied_or_not_defined_filters_nothing() -> None:
    assert _router([]).permits("GigabitEthernet0/0", "in", _udp(53))
    assert _router([], group_in="150").permits("GigabitEthernet0/0", "in", _udp(53))
    assert _router([], group_in="150").permits("GigabitEthernet0/1", "in", _udp(53))


def test_first_match_wins_counts_and_the_end_denies() -> None:
    acl = AccessList("101", extended=True, numbered=True, entries=[
        AclEntry(10, "deny", PROTOCOLS["udp"], ANY, _host(DST),
                 destination_port=PortMatch("eq", 53)),
        AclEntry(20, "permit", PROTOCOLS["udp"], _host(SRC), ANY)])
    f = _router([acl], group_out="101")
    assert not f.permits("GigabitEthernet0/0", "out", _udp(53))
    assert f.permits("GigabitEthernet0/0", "out", _udp(123))
    assert f.permits("GigabitEthernet0/0", "in", _udp(53))  # applied out only
    assert [e.matches for e in acl.entries] == [1, 1]
    other = _udp(123, source="192.168.1.11")
    assert not f.permits("GigabitEthernet0/0", "out", other)  # matched by no line: denied
    assert [e.matches for e in acl.entries] == [1, 1]  # the implicit deny counts nothing


def test_a_standard_list_looks_at_the_source_only() -> None:
    acl = AccessList("5", extended=False, numbered=True, entries=[
        AclEntry(10, "deny", None, _host(SRC)), AclEntry(20, "permit", None, ANY)])
    f = _router([acl], group_in="5")
    assert not f.permits("GigabitEthernet0/0", "in", _udp(53))
    assert [e.matches for e in acl.entries] == [1, 0]


def test_non_first_fragments_match_a_permit_on_addresses_and_skip_a_deny() -> None:
    """A non-first fragment carries no ports: a ``permit`` with ports matches it on its
    addresses and protocol, a ``deny`` with ports does not apply to it."""
    permit_dns = AccessList("110", extended=True, numbered=True, entries=[
        AclEntry(10, "permit", PROTOCOLS["udp"], ANY, _host(DST),
                 destination_port=PortMatch("eq", 53))])
    assert _router([permit_dns], group_in="110").permits(
        "GigabitEthernet0/0", "in", _udp(53, offset=185))
    deny_dns = AccessList("111", extended=True, numbered=True, entries=[
        AclEntry(10, "deny", PROTOCOLS["udp"], ANY, _host(DST),
                 destination_port=PortMatch("eq", 53)),
        AclEntry(20, "permit", 0, ANY, ANY)])
    f = _router([deny_dns], group_in="111")
    assert f.permits("GigabitEthernet0/0", "in", _udp(53, offset=185))
    assert [e.matches for e in deny_dns.entries] == [0, 1]
    assert not f.permits("GigabitEthernet0/0", "in", _udp(53))  # the first fragment: denied
