"""A hub with a dynamic crypto map and many spokes, built by ``iosim.lab.hub_and_spoke``."""

from __future__ import annotations

from pathlib import Path

from labkit import marks

from iosim.lab.console import Lab, LabConsole
from iosim.lab.hub_and_spoke import HUB_LAN, main, spoke_address, spoke_lan, write_lab

SPOKES = 20


def _hub_host() -> str:
    return HUB_LAN.rsplit(".", 1)[0] + ".1"


def test_every_spoke_brings_its_tunnel_up_and_the_hub_reaches_each(tmp_path: Path) -> None:
    lab = Lab.load(str(write_lab(tmp_path / "lab", SPOKES).parent), nvram_dir=tmp_path / "nv")
    console = LabConsole(lab, "HUB", paging=False)
    for n in range(1, SPOKES + 1):
        console.feed(f"@S{n}")
        console.feed("enable")
        lan_host = spoke_lan(n)[:-1] + "1"
        out = console.feed(f"ping {_hub_host()} source {lan_host} repeat 3")
        assert marks(out) == [".!!"], (n, out)
    console.feed("@HUB")
    console.feed("enable")
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


def test_the_shipped_lab_is_the_generator_s_output(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "labs" / "hub-and-spoke"
    assert main(["hub_and_spoke", str(tmp_path), "3"]) == 0
    for path in sorted(shipped.iterdir()):
        assert path.read_text() == (tmp_path / path.name).read_text(), path.name
    assert main(["hub_and_spoke"]) == 2
