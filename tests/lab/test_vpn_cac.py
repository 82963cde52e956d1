"""A flood of forged main-mode first messages against R2 (the ISP side of the seed's VPN):
call admission control caps the half-open ISAKMP SAs, ``show crypto call admission
statistics`` counts the refusals, the tunnel with R1 keeps carrying traffic, and the work R2
does per datagram stays the same with N and 10N SAs in its table."""

from __future__ import annotations

from pathlib import Path

import pytest
from labkit import marks, run, seeded
from workcount import mean_work

from iosim.crypto.rand import SeededRandom
from iosim.ike.engine import IkeEngine, IkePolicy, Phase2Offer, ProxyIdentity
from iosim.lab.console import LabConsole
from iosim.net.packets import (
    EthernetFrame,
    EtherType,
    IpProtocol,
    Ipv4Packet,
    UdpDatagram,
    ip_to_int,
    push_ethernet,
    push_ipv4,
    push_udp,
)

R2 = ip_to_int("203.0.113.2")
FORGED = ip_to_int("100.64.0.0")
WILDCARD_KEY = "crypto isakmp key SECRETKEY123 address 0.0.0.0 0.0.0.0\n"


def _mm1() -> bytes:
    """A real MM1 for R2's policy (AES-256, SHA-256, PSK, group 14)."""
    engine = IkeEngine(FORGED, rand=SeededRandom("forger"), psk_for=lambda peer: "x",
                       policies=lambda: [IkePolicy(10, "aes", 256, "sha256", "pre-share", 14,
                                                   86400)])
    engine.initiate(R2, ProxyIdentity(0, 0, 0, 0),
                    Phase2Offer((("esp-aes 256", "esp-sha256-hmac"),), "tunnel", None, 3600,
                                4608000), 0.0)
    ((_, data),) = engine.datagrams_to_send()
    return data


MM1 = _mm1()


class Forger:
    """Puts forged MM1s on R2's outside wire, each from its own address and cookie."""

    def __init__(self, console: LabConsole) -> None:
        stack = console.lab.routers["R2"].stack
        assert stack is not None
        self.stack = stack
        self.sent = 0

    def one(self) -> None:
        i, self.sent = self.sent, self.sent + 1
        src = FORGED + i
        payload = (0xF0000000 + i).to_bytes(8, "big") + MM1[8:]
        datagram = push_ipv4(Ipv4Packet(identification=i & 0xFFFF, ttl=60,
                                        protocol=IpProtocol.UDP, src=src, dst=R2,
                                        payload=push_udp(UdpDatagram(500, 500, payload),
                                                         src, R2)))
        frame = EthernetFrame(self.stack.mac("GigabitEthernet0/0"),
                              bytes.fromhex("02aabbccddee"), EtherType.IPV4, datagram)
        self.stack.receive("GigabitEthernet0/0", push_ethernet(frame))

    def many(self, count: int) -> None:
        for _ in range(count):
            self.one()


def _lab(tmp_path: Path, limit: str = "") -> tuple[LabConsole, Forger]:
    console = seeded(tmp_path, r2_extra=WILDCARD_KEY + limit)
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    return console, Forger(console)


def _stats(console: LabConsole) -> str:
    return console.feed("@R2") + console.feed("show crypto call admission statistics")


@pytest.mark.parametrize("count", [100, 1000])
def test_the_half_open_table_stops_at_the_cap_and_the_tunnel_keeps_working(
        tmp_path: Path, count: int) -> None:
    console, forger = _lab(tmp_path, "crypto call admission limit ike in-negotiation-sa 50\n")
    forger.many(count)
    console.lab.clock.advance(1)
    stats = _stats(console)
    assert "Max IKE SAs:     0 Max in nego:    50" in stats
    assert "Total IKE SA Count:          51 active:          1 negotiating:    50" in stats
    rejected = count - 50  # R1's request, the tunnel's, came first and was accepted
    assert (f"Incoming IKE Requests:{count + 1:>9} accepted:       51 "
            f"rejected:{rejected:>9}") in stats
    assert f"Rejected IKE Requests:{rejected:>9} rsrc low:        0 Active SA limit: 0" in stats
    assert f"\n{' ' * 51}In-neg SA limit: {rejected}\n" in stats
    table = console.feed("show crypto isakmp sa")
    assert table.count("MM_SA_SETUP") == 50
    assert "QM_IDLE           1001 ACTIVE" in table  # the tunnel's SA, untouched
    run(console, "@R1\n")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]
    console.feed("@R2")
    assert "#pkts decaps: 9" in console.feed("show crypto ipsec sa")


def test_without_a_configured_limit_the_default_cap_applies(tmp_path: Path) -> None:
    console, forger = _lab(tmp_path)
    forger.many(1100)
    console.lab.clock.advance(1)
    stats = _stats(console)
    assert "Max in nego:  1000" in stats
    assert "negotiating:  1000" in stats and "rejected:      100" in stats
    run(console, "clear crypto call admission statistics\n")
    assert "Incoming IKE Requests:        0" in _stats(console)
    run(console, "@R1\n")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]


def _work_per_datagram(tmp_path: Path, sas: int) -> float:
    console, forger = _lab(tmp_path, "crypto call admission limit ike in-negotiation-sa 99999\n")
    forger.many(sas)
    return mean_work(forger.one, 20)


def test_r2s_work_per_forged_datagram_stays_flat_from_n_to_10n_sas(tmp_path: Path) -> None:
    small = _work_per_datagram(tmp_path / "n", 100)
    large = _work_per_datagram(tmp_path / "10n", 1000)
    assert large <= small * 1.05, (small, large)
