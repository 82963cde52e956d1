"""A segment's ARP ledger keeps the behaviour of handing every broadcast to every port: the
same ARP tables, interface counters and pings as a lab whose every router captures (and so
gets every broadcast at once), and a boot that costs O(N) deliveries, not O(N^2)."""

from __future__ import annotations

import re
from pathlib import Path

from iosim.lab.console import Lab, LabConsole
from iosim.lab.hub_and_spoke import HUB_LAN, spoke_lan, write_lab

SPOKES = 12


def _run(tmp: Path, eager: bool) -> dict[str, str]:
    lab = Lab.load(str(write_lab(tmp / "lab", SPOKES).parent), nvram_dir=tmp / "nv")
    if eager:  # a capture on every router: every broadcast is handed over on arrival
        for router in lab.routers.values():
            assert router.stack is not None
            router.stack.watch(lambda interface, direction, frame: None)
    console = LabConsole(lab, "HUB", paging=False)
    seen: dict[str, str] = {}
    hub = HUB_LAN[:-1] + "1"
    for n in (1, 5, 9):
        console.feed(f"@S{n}")
        console.feed("enable")
        seen[f"ping S{n}"] = console.feed(f"ping {hub} source {spoke_lan(n)[:-1]}1")
    console.feed("@S5")
    for line in ("conf t", "interface GigabitEthernet0/0", "shutdown", "end"):
        console.feed(line)
    console.feed("@wait 30")
    console.feed("@S3")
    console.feed("enable")
    seen["S3 ping S7"] = console.feed("ping 10.0.0.8")
    console.feed("clear arp-cache")
    console.feed("@S5")
    for line in ("conf t", "interface GigabitEthernet0/0", "no shutdown", "end"):
        console.feed(line)
    console.feed("@wait 400")
    for name in ("HUB", "S1", "S3", "S5", "S12"):
        console.feed(f"@{name}")
        console.feed("enable")
        seen[f"{name} arp"] = console.feed("show arp")
        seen[f"{name} interface"] = console.feed("show interfaces GigabitEthernet0/0")
    return seen


def test_the_ledger_behaves_as_handing_every_broadcast_to_every_port(tmp_path: Path) -> None:
    lazy, eager = _run(tmp_path / "lazy", False), _run(tmp_path / "eager", True)
    assert lazy.keys() == eager.keys()
    for key in lazy:
        assert lazy[key] == eager[key], key
    # the spokes learnt one another from their gratuitous ARPs, as IOS does
    assert len(re.findall(r"Internet  10\.0\.", lazy["S12 arp"])) == SPOKES + 1
    assert re.search(r"Received \d+ broadcasts", lazy["S12 interface"])
    assert "!!!!" in lazy["ping S1"]


def test_a_segment_boots_with_a_delivery_per_router(tmp_path: Path) -> None:
    counts = []
    for n in (50, 500):
        lab = Lab.load(str(write_lab(tmp_path / f"lab{n}", n).parent),
                       nvram_dir=tmp_path / f"nv{n}")
        stack = lab.routers["HUB"].stack
        assert stack is not None
        counts.append(lab.routers["HUB"].state["GigabitEthernet0/0"].counters.broadcasts)
        delivered = sum(r.state["GigabitEthernet0/0"].counters.input_packets
                        for r in lab.routers.values())
        assert delivered == n * n + n  # every router counts every other's announcement ...
        link = lab.fabric.link_of("HUB", "GigabitEthernet0/0")
        assert link is not None and link.ledger.floods == n + 1  # ... kept once each
    assert counts == [50, 500]
