"""Two and more OSPF engines in memory: adjacencies, DR election, flooding, SPF, on the
virtual clock with IOS's timers."""

from __future__ import annotations

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
