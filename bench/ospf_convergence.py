"""OSPF convergence of one area of N routers: ``python bench/ospf_convergence.py [N ...]``.

The routers are OSPF engines wired in memory (``iosim.ospf.memnet``) in a grid of
point-to-point links (each router to its right and lower neighbours), each with a
loopback. All start at once on the virtual clock; the area has converged when every
router has a route to every loopback. Then one router's loopback changes cost: that one
LSA's flood and the SPF runs it causes are measured on their own.

Figures per size: the virtual seconds to converge (IOS's timers: the first hellos, the
database exchanges, SPF's 5 s initial delay and 10 s hold), SPF runs, packets sent, the
wall time, and for the single change the copies of the LSA delivered and the wall time.
Growth is reported per router (``per router`` columns) and as ratios against the smallest
size: a flood that costs more than linearly in the routers it reaches would show as a
``flood wall/router`` ratio growing with N.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from iosim.ospf.interface import NetworkType  # noqa: E402
from iosim.ospf.memnet import Net  # noqa: E402

LIMIT = 600.0  # virtual seconds before a run is declared not converged


@dataclass(frozen=True)
class Convergence:
    """What one size measured."""

    routers: int
    virtual: float  # virtual seconds until every router routes every loopback
    spf_runs: int
    packets: int
    wall: float
    flood_copies: int  # packets the one changed LSA's flood delivered (LSUs and LSAcks)
    flood_wall: float
    flood_spf_runs: int


def _rid(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def _loopback(i: int) -> str:
    return f"172.{16 + ((i >> 16) & 15)}.{(i >> 8) & 255}.{i & 255}/32"


def _link_address(link: int, offset: int) -> str:
    """Address ``offset`` (1 or 2) of point-to-point link ``link``'s /30 in 100.0.0.0/6."""
    value = (100 << 24) + link * 4 + offset
    return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


def build(n: int) -> Net:
    """``n`` routers in a grid of point-to-point links, each with a loopback."""
    net = Net()
    cols = max(1, math.isqrt(n))
    for i in range(n):
        net.router(f"R{i}", _rid(i + 1))
        net.link(f"lo{i}", f"R{i}", "Loopback0", _loopback(i + 1),
                 network_type=NetworkType.LOOPBACK)
    link = 0
    for i in range(n):
        for j in (i + 1 if (i + 1) % cols and i + 1 < n else None,
                  i + cols if i + cols < n else None):
            if j is None:
                continue
            for router, offset in ((i, 1), (j, 2)):
                net.link(f"p{link}", f"R{router}", f"Gi{link}",
                         _link_address(link, offset) + "/30",
                         network_type=NetworkType.POINT_TO_POINT)
            link += 1
    return net


def _converged(net: Net, n: int) -> bool:
    loopback_mask = 0xFFFFFFFF
    return all(sum(1 for (_, mask) in node.engine.table if mask == loopback_mask) >= n
               for node in net.nodes.values())


def _spf_runs(net: Net) -> int:
    return sum(a.spf_runs for node in net.nodes.values() for a in node.engine.areas.values())


def measure(n: int) -> Convergence:
    """Converge an area of ``n`` routers, then flood one changed LSA."""
    net = build(n)
    started = time.perf_counter()
    net.start()
    while not _converged(net, n):
        if net.clock.now > LIMIT:
            raise RuntimeError(f"{n} routers did not converge in {LIMIT} virtual seconds")
        net.run(1.0)
    wall = time.perf_counter() - started
    virtual, spf, packets = net.clock.now, _spf_runs(net), net.sent
    net.run(30.0)  # let the last SPF holds pass
    # 30 quiet seconds (hellos only), then 30 with one changed LSA: the difference is its
    # flood, its acknowledgments and the SPF runs it causes
    before_copies, started = net.delivered, time.perf_counter()
    net.run(30.0)
    quiet_copies, quiet_wall = net.delivered - before_copies, time.perf_counter() - started
    before_copies, before_spf = net.delivered, _spf_runs(net)
    node = net.nodes["R0"]
    changed = replace(node.settings["Loopback0"], cost=5)
    started = time.perf_counter()
    net.set_interface("R0", changed)
    net.run(30.0)
    flood_wall = time.perf_counter() - started - quiet_wall
    far = net.nodes[f"R{n - 1}"].engine
    assert any(p.cost >= 5 for (_, mask), p in far.table.items() if mask == 0xFFFFFFFF
               and p.origin == node.engine.router_id), "the change did not reach the far end"
    return Convergence(n, virtual, spf, packets, wall,
                       net.delivered - before_copies - quiet_copies, max(flood_wall, 0.0),
                       _spf_runs(net) - before_spf)


def table(results: list[Convergence]) -> str:
    """The figures and their growth per router, against the smallest size."""
    first = results[0]
    head = (f"{'routers':>8} {'virtual s':>9} {'SPF runs':>9} {'packets':>9} {'wall s':>8} "
            f"{'wall/router ms':>15} {'flood copies/router':>19} {'flood SPF runs':>14} "
            f"{'flood wall/router us':>21} {'ratio':>6}")
    lines = [head]
    per_first = first.flood_wall / first.routers
    for r in results:
        per = r.flood_wall / r.routers
        lines.append(f"{r.routers:>8} {r.virtual:>9.0f} {r.spf_runs:>9} {r.packets:>9} "
                     f"{r.wall:>8.2f} {1000 * r.wall / r.routers:>15.2f} "
                     f"{r.flood_copies / r.routers:>19.2f} {r.flood_spf_runs:>14} "
                     f"{1e6 * per:>21.1f} {per / per_first:>6.2f}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [100, 1000]
    results = [measure(n) for n in sizes]
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
