"""Routes added and withdrawn one at a time (reverse route injection) leave the table exactly
as a rebuild from the same candidates would: same installed prefixes, same resolutions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from workcount import work_done

from iosim.net.routing import Route, RoutingTable


def _fresh(candidates: list[Route]) -> RoutingTable:
    table = RoutingTable()
    table.add_many(candidates)
    return table


_hosts = st.sampled_from([0x0A000002, 0x0A000003, 0x0A010001, 0xC0A80101, 0xAC100001,
                          0xAC100101, 0x0A0A0A0A])
_routes = st.builds(
    lambda net, plen, hop: Route.static(net & (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF, plen,
                                        next_hop=hop),
    st.sampled_from([0x0A000000, 0x0A010000, 0xAC100000, 0xAC100100, 0xC0A80100, 0]),
    st.sampled_from([0, 8, 16, 24, 32]), _hosts)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), _routes), max_size=14))
def test_incremental_changes_equal_a_rebuild(steps: list[tuple[bool, Route]]) -> None:
    table = RoutingTable()
    table.add_connected("Gi0/0", "10.0.0.1", 16)
    for add, route in steps:
        if add:
            table.add(route)
        else:
            table.remove(route)
        fresh = _fresh(table.candidates())
        assert table.entries() == fresh.entries()
        for probe in (0x0A000002, 0x0A010005, 0xAC100105, 0xC0A80101, 0x08080808):
            assert table.resolve(probe) == fresh.resolve(probe)


def _injected(n: int) -> RoutingTable:
    table = RoutingTable()
    table.add_connected("Gi0/0", "10.0.0.1", 16)
    for i in range(n):
        table.add(Route.static(0xAC100000 + (i << 8), 24, next_hop=0x0A000002 + i))
    return table


def test_an_injected_route_costs_the_same_with_ten_times_more() -> None:
    costs = []
    for n in (200, 2000):
        table = _injected(n)
        route = Route.static(0xC0000000, 24, next_hop=0x0A00FF00)
        costs.append(work_done(lambda t=table, r=route: (t.add(r), t.remove(r))))
    assert costs[1] <= costs[0] * 1.5, costs
