"""A hub with a dynamic crypto map and many spokes, built by ``iosim.lab.hub_and_spoke``."""

from __future__ import annotations

import re
from pathlib import Path

from labkit import marks

from iosim.lab.console import Lab, LabConsole
from iosim.lab.hub_and_spoke import HUB_LAN, main, spoke_address, spoke_lan, write_lab
from iosim.net.packets import mac_to_str
from iosim.net.stack import interface_mac

SPOKES = 20
GI0 = "GigabitEthernet0/0"


def _hub_host() -> str:
    return HUB_LAN.rsplit(".", 1)[0] + ".1"


def _ping_hub_from(console: LabConsole, spokes: list[str], lans: list[int] | None = None
                   ) -> None:
    """Each spoke (spoke n's LAN, or ``lans``) pings the hub's LAN: ``.!!``, its tunnel up;
    then the console is on the hub, privileged."""
    for name, n in zip(spokes, lans or [int(s[1:]) for s in spokes], strict=True):
        console.feed(f"@{name}")
        console.feed("enable")
        out = console.feed(f"ping {_hub_host()} source {spoke_lan(n)[:-1]}1 repeat 3")
        assert marks(out) == [".!!"], (name, out)
    console.feed("@HUB")
    console.feed("enable")


def test_every_spoke_brings_its_tunnel_up_and_the_hub_reaches_each(tmp_path: Path) -> None:
    lab = Lab.load(str(write_lab(tmp_path / "lab", SPOKES).parent), nvram_dir=tmp_path / "nv")
    console = LabConsole(lab, "HUB", paging=False)
    _ping_hub_from(console, [f"S{n}" for n in range(1, SPOKES + 1)])
    isakmp = console.feed("show crypto isakmp sa")
    assert isakmp.count("QM_IDLE") == SPOKES
    assert all(spoke_address(n) in isakmp for n in range(1, SPOKES + 1))
    routes = console.feed("show ip route")
    assert routes.count("[1/0] via 10.0.") == SPOKES  # one injected route per spoke
    for n in (1, SPOKES // 2, SPOKES):
        out = console.feed(f"ping {spoke_lan(n)[:-1]}1 source {_hub_host()}")
        assert marks(out) == ["!!!!!"], (n, out)
    ipsec = console.feed("show crypto ipsec sa")
    assert ipsec.count("Crypto map tag: VPN") == 1
    assert ipsec.count("current_peer 10.0.") == SPOKES
    assert ipsec.count("#pkts encaps: 2,") == SPOKES - 3  # the echo replies of the spokes' pings
    assert ipsec.count("#pkts encaps: 7,") == 3  # and five pings more


def test_an_ikev2_hub_answers_every_spoke_with_its_wildcard_profile(tmp_path: Path) -> None:
    spokes = 6
    lab = Lab.load(str(write_lab(tmp_path / "lab", spokes, ikev2=True).parent),
                   nvram_dir=tmp_path / "nv")
    console = LabConsole(lab, "HUB", paging=False)
    _ping_hub_from(console, [f"S{n}" for n in range(1, spokes + 1)])
    sas = console.feed("show crypto ikev2 sa")
    assert sas.count("READY") == spokes
    assert all(f"{spoke_address(n)}/500" in sas for n in range(1, spokes + 1))
    assert "QM_IDLE" not in console.feed("show crypto isakmp sa")
    assert console.feed("show ip route").count("[1/0] via 10.0.") == spokes
    out = console.feed(f"ping {spoke_lan(spokes)[:-1]}1 source {_hub_host()}")
    assert marks(out) == ["!!!!!"], out


def test_the_shipped_lab_is_the_generator_s_output(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "labs" / "hub-and-spoke"
    assert main(["hub_and_spoke", str(tmp_path), "3"]) == 0
    for path in sorted(shipped.iterdir()):
        assert path.read_text() == (tmp_path / path.name).read_text(), path.name
    assert main(["hub_and_spoke"]) == 2


def test_spokes_whose_derived_macs_clash_get_distinct_ones(tmp_path: Path) -> None:
    """Every interface's MAC is derived from its device and interface name in 24 bits, so
    some clash in a large lab (S208 and S4191 of a 10,000-spoke hub do). Real interfaces
    never share a burned-in address: the second is derived again, and both spokes reach and
    are reached by the hub (with one MAC, the segment delivered S208's frames to S4191)."""
    clashing = {"S1": "S208", "S2": "S4191"}
    assert interface_mac("S208", GI0) == interface_mac("S4191", GI0)
    directory = tmp_path / "lab"
    write_lab(directory, 2)
    for path in directory.iterdir():
        text = re.sub(r"\bS([12])\b", lambda m: clashing[m.group(0)], path.read_text())
        path.write_text(text)
        if path.stem in clashing:
            path.rename(directory / f"{clashing[path.stem]}.cfg")
    lab = Lab.load(str(directory), nvram_dir=tmp_path / "nv")
    first, second = (lab.routers[name].stack for name in ("S208", "S4191"))
    assert first is not None and second is not None
    assert first.mac(GI0) == interface_mac("S208", GI0)  # the first keeps the plain one
    assert second.mac(GI0) != first.mac(GI0)
    console = LabConsole(lab, "HUB", paging=False)
    console.feed("@S4191")
    console.feed("enable")
    shown = console.feed(f"show interfaces {GI0}")
    assert f"address is {mac_to_str(second.mac(GI0))}" in shown
    _ping_hub_from(console, [clashing["S1"], clashing["S2"]], lans=[1, 2])
    for n in (1, 2):
        out = console.feed(f"ping {spoke_lan(n)[:-1]}1 source {_hub_host()}")
        assert marks(out) == ["!!!!!"], (n, out)
