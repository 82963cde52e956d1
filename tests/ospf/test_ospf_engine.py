"""Two and more OSPF engines in memory: adjacencies, DR election, flooding, SPF, on the
virtual clock with IOS's timers."""

from __future__ import annotations

from dataclasses import replace

from iosim.net.packets import ip_to_int
from iosim.ospf.interface import InterfaceState, NetworkType
from iosim.ospf.memnet import Net
from iosim.ospf.spf import PathType


def ip(text: str) -> int:
    return ip_to_int(text)


def states(engine, interface: str) -> list[str]:
    return sorted(n.state.ios for n in engine.interfaces[interface].neighbors.values())


def test_point_to_point_pair_goes_full_within_one_hello_interval() -> None:
    net = Net()
    r1 = net.router("R1", "1.1.1.1")
    r2 = net.router("R2", "2.2.2.2")
    p2p = NetworkType.POINT_TO_POINT
    net.link("l1", "R1", "Gi0/0", "10.0.12.1/30", network_type=p2p)
    net.link("l1", "R2", "Gi0/0", "10.0.12.2/30", network_type=p2p)
    net.link("lan1", "R1", "Gi0/1", "192.168.1.1/24")
    net.link("lan2", "R2", "Gi0/1", "192.168.2.1/24")
    net.start()
    net.run(9.9)
    assert states(r1, "Gi0/0") == ["INIT"]
    net.run(0.2)
    assert states(r1, "Gi0/0") == ["FULL"] and states(r2, "Gi0/0") == ["FULL"]
    assert "%OSPF-5-ADJCHG: Process 1, Nbr 2.2.2.2 on Gi0/0 from LOADING to FULL, Loading Done" in net.nodes["R1"].logs
    net.run(20)
    route = r1.table[(ip("192.168.2.0"), ip("255.255.255.0"))]
    assert route.cost == 2 and route.next_hops == (("Gi0/0", ip("10.0.12.2")),)
    assert route.path_type is PathType.INTRA_AREA


def test_broadcast_segment_waits_then_elects_dr_and_bdr() -> None:
    net = Net()
    engines = [net.router(f"R{i}", f"{i}.{i}.{i}.{i}") for i in (1, 2, 3)]
    for i in (1, 2, 3):
        net.link("lan", f"R{i}", "Gi0/0", f"10.0.0.{i}/24")
    net.start()
    net.run(39)
    assert all(e.interfaces["Gi0/0"].state is InterfaceState.WAITING for e in engines)
    net.run(10)
    r1, r2, r3 = engines
    assert r3.interfaces["Gi0/0"].state is InterfaceState.DR
    assert r2.interfaces["Gi0/0"].state is InterfaceState.BACKUP
    assert r1.interfaces["Gi0/0"].state is InterfaceState.DROTHER
    assert states(r1, "Gi0/0") == ["FULL", "FULL"]
    assert states(r3, "Gi0/0") == ["FULL", "FULL"]
    net.run(30)
    assert all(len(e.areas[0].lsdb) == 4 for e in engines)  # three routers, one network


def _chain(n: int = 3) -> tuple[Net, list]:
    """R1 - R2 - ... - Rn over point-to-point links, each with a /32 loopback."""
    net = Net()
    engines = [net.router(f"R{i}", f"{i}.{i}.{i}.{i}") for i in range(1, n + 1)]
    p2p = NetworkType.POINT_TO_POINT
    for i in range(1, n + 1):
        net.link(f"lo{i}", f"R{i}", "Lo0", f"10.255.0.{i}/32", network_type=NetworkType.LOOPBACK)
    for i in range(1, n):
        net.link(f"l{i}", f"R{i}", "Gi0/1", f"10.0.{i}.1/30", network_type=p2p)
        net.link(f"l{i}", f"R{i + 1}", "Gi0/0", f"10.0.{i}.2/30", network_type=p2p)
    net.start()
    return net, engines


def test_own_lsas_are_refreshed_every_30_minutes_and_never_reach_max_age() -> None:
    net, engines = _chain()
    net.run(60)
    r1 = engines[0]
    key = (1, ip("1.1.1.1"), ip("1.1.1.1"))  # (router-LSA, link state ID, advertising router)
    first = r1.areas[0].lsdb.get(key)
    assert first is not None
    sequence = first.header.ls_sequence_number
    net.run(1800)
    again = engines[2].areas[0].lsdb.get(key)  # the refresh reached the far end
    assert again is not None and again.header.ls_sequence_number == sequence + 1
    assert again.age(net.clock.now) < 60
    net.run(3700)  # two refreshes more, never MaxAge: the routes stay
    assert (ip("10.255.0.1"), 0xFFFFFFFF) in engines[2].table
    assert engines[2].areas[0].lsdb.get(key).header.ls_sequence_number == sequence + 3


def test_a_router_that_goes_away_is_dead_after_40_seconds_and_its_routes_go() -> None:
    net, engines = _chain()
    net.run(60)
    assert (ip("10.255.0.3"), 0xFFFFFFFF) in engines[0].table
    net.set_interface("R3", None, "Gi0/0")  # R3 stops talking to R2
    net.run(39)
    assert states(engines[1], "Gi0/1") == ["FULL"]  # R2 still waits for R3's hellos
    net.run(2)
    assert states(engines[1], "Gi0/1") in ([], ["DOWN"])
    assert any("Dead timer expired" in line for line in net.nodes["R2"].logs)
    net.run(15)  # the new router-LSAs flood, SPF runs after its delay
    assert (ip("10.255.0.3"), 0xFFFFFFFF) not in engines[0].table
    assert (ip("10.255.0.2"), 0xFFFFFFFF) in engines[0].table


def test_a_lost_update_is_retransmitted_until_acknowledged() -> None:
    net, engines = _chain(2)
    net.run(60)
    lost: list[object] = []
    deliver = net._deliver

    def lossy(m, src, t):  # the first LSU from R1 after the change is lost
        if not lost and m.router == "R2" and t.payload[1] == 4:
            lost.append(t)
            return
        deliver(m, src, t)

    net._deliver = lossy  # type: ignore[method-assign]
    settings = net.nodes["R1"].settings["Lo0"]
    net.set_interface("R1", replace(settings, cost=9))
    net.run(4)
    assert lost and net.nodes["R1"].engine.interfaces["Gi0/1"].neighbors
    nbr = next(iter(net.nodes["R1"].engine.interfaces["Gi0/1"].neighbors.values()))
    assert nbr.retransmit  # still waiting for R2's acknowledgment
    net.run(5)  # RxmtInterval 5 s
    assert not nbr.retransmit
    key = (1, ip("1.1.1.1"), ip("1.1.1.1"))
    assert (engines[1].areas[0].lsdb.get(key).header.ls_sequence_number
            == engines[0].areas[0].lsdb.get(key).header.ls_sequence_number)
