"""Tests for iosim.net.routing: LPM, route selection, recursion, show-ip-route grouping."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iosim.net.packets import ip_to_int
from iosim.net.routing import (
    Route,
    RouteType,
    RoutingTable,
    classful_length,
    prefix_mask,
)


def ip(text: str) -> int:
    return ip_to_int(text)


def hub() -> RoutingTable:
    """The Hub-RTR table of ../shared/reference/ios/show-ip-route.txt [1]."""
    table = RoutingTable()
    table.add_connected("Ethernet0/1", "192.168.0.1", 24)
    table.add_connected("Ethernet0/0", "203.0.113.1", 24)
    table.add(Route.static("192.168.1.0", 24, next_hop="203.0.113.10"))
    return table


def test_prefix_helpers() -> None:
    assert prefix_mask(0) == 0 and prefix_mask(24) == 0xFFFFFF00 and prefix_mask(32) == 0xFFFFFFFF
    with pytest.raises(ValueError):
        prefix_mask(33)
    assert [classful_length(ip(a)) for a in ("10.0.0.0", "172.16.0.0", "192.168.1.0")] == [
        8,
        16,
        24,
    ]
    assert classful_length(ip("224.0.0.5")) == 32


def test_route_validation_and_properties() -> None:
    with pytest.raises(ValueError, match="host bits"):
        Route(RouteType.STATIC, ip("10.0.0.1"), 24, next_hop=1)
    with pytest.raises(ValueError, match="next hop or an interface"):
        Route(RouteType.STATIC, ip("10.0.0.0"), 24)
    with pytest.raises(ValueError, match="needs an interface"):
        Route(RouteType.CONNECTED, ip("10.0.0.0"), 24)
    with pytest.raises(ValueError, match="distance"):
        Route.static("10.0.0.0", 8, next_hop="1.1.1.1", distance=256)
    default = Route.static("0.0.0.0", 0, next_hop="192.0.2.1")
    assert default.code == "S*" and default.candidate_default and default.distance == 1
    assert default.prefix == ipaddress.IPv4Network("0.0.0.0/0")
    connected = Route.connected("10.1.2.3", 24, "Gi0/0")
    assert connected.network == ip("10.1.2.0") and connected.code == "C"
    assert connected.distance == 0 and connected.mask == 0xFFFFFF00
    assert Route.local("10.1.2.3", "Gi0/0").code == "L"


def test_longest_prefix_match() -> None:
    table = RoutingTable()
    table.add_connected("Gi0/0", "192.0.2.1", 24)
    routes = {
        "default": Route.static("0.0.0.0", 0, next_hop="192.0.2.254"),
        "/8": Route.static("10.0.0.0", 8, next_hop="192.0.2.8"),
        "/16": Route.static("10.1.0.0", 16, next_hop="192.0.2.16"),
        "/24": Route.static("10.1.2.0", 24, next_hop="192.0.2.24"),
        "/32": Route.static("10.1.2.3", 32, next_hop="192.0.2.32"),
    }
    for route in routes.values():
        table.add(route)
    expect = {
        "10.1.2.3": "/32",
        "10.1.2.4": "/24",
        "10.1.3.1": "/16",
        "10.2.0.0": "/8",
        "11.0.0.1": "default",
        "10.255.255.255": "/8",
    }
    for dst, name in expect.items():
        assert table.lookup(ip(dst)) is routes[name], dst
    assert table.lookup(ip("192.0.2.77")).type is RouteType.CONNECTED  # type: ignore[union-attr]
    assert table.lookup(ip("192.0.2.1")).type is RouteType.LOCAL  # type: ignore[union-attr]


def test_no_route() -> None:
    table = hub()
    assert table.lookup(ip("8.8.8.8")) is None
    assert table.resolve(ip("8.8.8.8")) is None
    assert table.lookup_all(ip("8.8.8.8")) == ()
    assert table.gateway_of_last_resort() is None


def test_resolve_connected_local_and_static() -> None:
    table = hub()
    direct = table.resolve(ip("192.168.0.50"))
    assert direct is not None
    assert (direct.next_hop, direct.interface, direct.is_local) == (
        ip("192.168.0.50"),
        "Ethernet0/1",
        False,
    )
    mine = table.resolve(ip("203.0.113.1"))
    assert mine is not None and mine.is_local and mine.interface == "Ethernet0/0"
    remote = table.resolve(ip("192.168.1.1"))
    assert remote is not None and remote.route.type is RouteType.STATIC
    assert (remote.next_hop, remote.interface) == (ip("203.0.113.10"), "Ethernet0/0")


def test_static_via_interface_and_via_both() -> None:
    table = RoutingTable()
    table.add(Route.static("0.0.0.0", 0, interface="Tunnel0"))
    table.add(Route.static("172.16.0.0", 12, next_hop="198.51.100.1", interface="Gi0/1"))
    via_if = table.resolve(ip("8.8.8.8"))
    assert via_if is not None and (via_if.next_hop, via_if.interface) == (ip("8.8.8.8"), "Tunnel0")
    both = table.resolve(ip("172.20.0.1"))
    assert both is not None and (both.next_hop, both.interface) == (ip("198.51.100.1"), "Gi0/1")
    assert table.gateway_of_last_resort() == 0


def test_administrative_distance_and_floating_static() -> None:
    table = RoutingTable()
    table.add_connected("Gi0/0", "192.0.2.1", 24)
    table.add_connected("Gi0/1", "198.51.100.1", 24)
    primary = Route.static("10.0.0.0", 8, next_hop="192.0.2.2")
    backup = Route.static("10.0.0.0", 8, next_hop="198.51.100.2", distance=200)
    table.add(backup)
    table.add(primary)
    assert table.lookup(ip("10.9.9.9")) is primary
    assert table.candidates() == table.candidates() and backup in table.candidates()
    # A static to a connected prefix loses to the connected route (AD 0 < 1).
    detour = Route.static("192.0.2.0", 24, next_hop="198.51.100.9")
    table.add(detour)
    assert table.lookup(ip("192.0.2.9")).type is RouteType.CONNECTED  # type: ignore[union-attr]
    # Gi0/0 goes down: the primary's next hop now resolves recursively through the detour.
    removed = table.remove_interface("Gi0/0")
    assert {r.type for r in removed} == {RouteType.CONNECTED, RouteType.LOCAL}
    assert table.lookup(ip("192.0.2.9")) is detour
    assert table.lookup(ip("10.9.9.9")) is primary
    via = table.resolve(ip("10.9.9.9"))
    assert via is not None and (via.next_hop, via.interface) == (ip("198.51.100.9"), "Gi0/1")
    # Without the detour the primary is unresolvable and the floating static takes over.
    table.remove(detour)
    assert table.lookup(ip("10.9.9.9")) is backup
    table.add_connected("Gi0/0", "192.0.2.1", 24)
    assert table.lookup(ip("10.9.9.9")) is primary
    assert table.remove(primary) and not table.remove(primary)
    assert table.lookup(ip("10.9.9.9")) is backup


def test_unresolvable_static_is_not_installed_until_next_hop_is_reachable() -> None:
    table = RoutingTable()
    route = Route.static("10.0.0.0", 8, next_hop="192.0.2.2")
    assert table.add(route) and not table.add(route)
    assert table.lookup(ip("10.0.0.1")) is None and len(table) == 0
    table.add_connected("Gi0/0", "192.0.2.1", 24)
    assert table.lookup(ip("10.0.0.1")) is route and len(table) == 3


def test_recursive_static_resolves_to_innermost_gateway() -> None:
    table = RoutingTable()
    table.add_connected("Gi0/0", "192.0.2.1", 24)
    # Added in the "wrong" order on purpose: the outer route waits for the inner one.
    outer = Route.static("10.0.0.0", 8, next_hop="1.1.1.1")
    table.add(outer)
    table.add(Route.static("1.1.1.1", 32, next_hop="192.0.2.2"))
    found = table.resolve(ip("10.1.1.1"))
    assert found is not None and found.route is outer
    assert (found.next_hop, found.interface) == (ip("192.0.2.2"), "Gi0/0")


def test_statics_resolving_only_through_each_other_are_not_installed() -> None:
    table = RoutingTable()
    table.add(Route.static("10.0.0.0", 8, next_hop="172.16.0.1"))
    table.add(Route.static("172.16.0.0", 16, next_hop="10.0.0.1"))
    assert len(table) == 0 and len(table.candidates()) == 2


def test_next_hop_that_is_our_own_address_is_not_installed() -> None:
    table = RoutingTable()
    table.add_connected("Gi0/0", "192.0.2.1", 24)
    table.add(Route.static("10.0.0.0", 8, next_hop="192.0.2.1"))
    assert table.lookup(ip("10.0.0.1")) is None


def test_static_whose_next_hop_resolves_only_through_itself_is_withdrawn() -> None:
    table = RoutingTable()
    table.add_connected("Gi0/0", "192.0.2.1", 24)
    table.add(Route.static("0.0.0.0", 0, next_hop="192.0.2.2"))
    # 10.1.1.1 resolves through the default route at first, then through this route itself.
    table.add(Route.static("10.0.0.0", 8, next_hop="10.1.1.1"))
    found = table.lookup(ip("10.5.5.5"))
    assert found is not None and found.prefix_len == 0


def test_recursion_depth_is_bounded() -> None:
    table = RoutingTable()
    table.add_connected("Gi0/0", "192.0.2.1", 24)
    # 10.0.0.n/32 via 10.0.0.(n+1), ending at a connected next hop: a chain n levels deep.
    for n in range(12):
        hop = "192.0.2.2" if n == 11 else f"10.0.0.{n + 1}"
        table.add(Route.static(f"10.0.0.{n}", 32, next_hop=hop))
    shallow = table.resolve(ip("10.0.0.10"))
    assert shallow is not None and shallow.next_hop == ip("192.0.2.2")
    assert table.resolve(ip("10.0.0.0")) is None  # 12 levels: deeper than MAX_RECURSION


def test_repeated_interface_changes_are_harmless() -> None:
    table = hub()
    before = table.entries()
    table.add_connected("Ethernet0/1", "192.168.0.1", 24)
    assert table.entries() == before
    assert table.remove_interface("Serial0/0") == []
    assert table.entries() == before


def test_equal_cost_paths() -> None:
    table = RoutingTable()
    table.add_connected("Gi0/0", "192.0.2.1", 24)
    first = Route.static("1.1.1.1", 32, next_hop="192.0.2.10")
    second = Route.static("1.1.1.1", 32, next_hop="192.0.2.20")
    table.add(first)
    table.add(second)
    assert table.lookup_all(ip("1.1.1.1")) == (first, second)
    assert table.lookup(ip("1.1.1.1")) is first
    entry = next(e for e in table.entries() if e.network == ip("1.1.1.1"))
    assert entry.paths == (first, second) and entry.best is first


def test_clear() -> None:
    table = hub()
    table.clear(RouteType.STATIC)
    assert table.lookup(ip("192.168.1.1")) is None and len(table) == 4
    table.clear()
    assert len(table) == 0 and table.candidates() == []


def test_show_ip_route_data_matches_reference_layout() -> None:
    # Hub-RTR#show ip route (reference [1]):
    #       192.168.0.0/24 is variably subnetted, 2 subnets, 2 masks
    # C        192.168.0.0/24 is directly connected, Ethernet0/1
    # L        192.168.0.1/32 is directly connected, Ethernet0/1
    # S     192.168.1.0/24 [1/0] via 203.0.113.10
    #       203.0.113.0/24 is variably subnetted, 2 subnets, 2 masks
    # C        203.0.113.0/24 is directly connected, Ethernet0/0
    # L        203.0.113.1/32 is directly connected, Ethernet0/0
    table = hub()
    assert table.gateway_of_last_resort() is None
    groups = table.groups()
    summary = [
        (
            str(ipaddress.IPv4Address(g.network)),
            g.header_len,
            g.header,
            g.variably_subnetted,
            g.subnets,
            g.masks,
            [(e.best.code, e.prefix_len) for e in g.entries],
        )
        for g in groups
    ]
    assert summary == [
        ("192.168.0.0", 24, True, True, 2, 2, [("C", 24), ("L", 32)]),
        ("192.168.1.0", 24, False, False, 1, 1, [("S", 24)]),
        ("203.0.113.0", 24, True, True, 2, 2, [("C", 24), ("L", 32)]),
    ]
    static = groups[1].entries[0].best
    assert (static.distance, static.metric, static.next_hop) == (1, 0, ip("203.0.113.10"))


def test_show_ip_route_subnetted_and_supernet_groups() -> None:
    # "1.0.0.0/32 is subnetted, 1 subnets" and "S*    0.0.0.0/0 [1/0] via ..." (reference [3]).
    table = RoutingTable()
    table.add_connected("Gi0/0", "194.0.0.1", 24)
    table.add(Route.static("0.0.0.0", 0, next_hop="194.0.0.2"))
    table.add(Route.static("1.1.1.1", 32, next_hop="194.0.0.9"))
    table.add(Route.static("10.1.0.0", 16, next_hop="194.0.0.9"))
    table.add(Route.static("10.2.0.0", 16, next_hop="194.0.0.9"))
    assert table.gateway_of_last_resort() == ip("194.0.0.2")
    groups = table.groups()
    first = groups[0]
    assert first.network == 0 and not first.header and first.entries[0].best.code == "S*"
    one = groups[1]
    assert (one.network, one.header_len, one.header, one.variably_subnetted, one.subnets) == (
        ip("1.0.0.0"),
        32,
        True,
        False,
        1,
    )
    ten = groups[2]
    assert (ten.header_len, ten.variably_subnetted, ten.subnets, ten.masks) == (16, False, 2, 1)


routes_strategy = st.lists(
    st.tuples(st.integers(0, 0xFFFFFFFF), st.integers(0, 32), st.integers(1, 254)),
    max_size=40,
)


@given(routes_strategy, st.lists(st.integers(0, 0xFFFFFFFF), min_size=1, max_size=20))
def test_lookup_matches_brute_force(spec: list[tuple[int, int, int]], probes: list[int]) -> None:
    table = RoutingTable()
    routes = []
    for address, plen, distance in spec:
        route = Route.static(
            address & prefix_mask(plen), plen, interface="Gi0/0", distance=distance
        )
        table.add(route)
        routes.append(route)
    for dst in probes + [r.network for r in routes]:
        matching = [r for r in routes if dst & r.mask == r.network]
        found = table.lookup(dst)
        if not matching:
            assert found is None
            continue
        longest = max(r.prefix_len for r in matching)
        best = min(r.preference for r in matching if r.prefix_len == longest)
        assert found is not None and found.prefix_len == longest and found.preference == best
