"""ESP with unknown SPIs from a hostile network: R2 answers only a source that has an
ISAKMP SA with it, keeps its INVALID-SPI bookkeeping bounded and O(1) per packet, and with
``crypto isakmp invalid-spi-recovery`` starts only a few phase 1s toward unknown sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from labkit import captured_ipv4, marks, run, seeded
from workcount import mean_work

from iosim.ike.admission import PER_PEER_IN_NEGOTIATION
from iosim.ike.main_mode import GIVE_UP_AFTER
from iosim.ipsec.invalid_spi import RECOVERY_BURST, RECOVERY_WINDOW, TABLE_SIZE
from iosim.ipsec.router_crypto import RouterCrypto
from iosim.lab.console import LabConsole
from iosim.net.packets import (
    EthernetFrame,
    EtherType,
    IpProtocol,
    Ipv4Packet,
    ip_to_int,
    push_ethernet,
    push_ipv4,
)

R1_OUT, R2_OUT = ip_to_int("198.51.100.1"), ip_to_int("203.0.113.2")
FORGED = ip_to_int("100.64.0.0")
PING = "ping 10.0.2.10 source 192.168.1.1"
#: recovery, and a wildcard key (as a hub has): R2 can start phase 1 toward any address
RECOVERY = ("crypto isakmp invalid-spi-recovery\n"
            "crypto isakmp key SECRETKEY123 address 0.0.0.0 0.0.0.0\n")


def _plane(console: LabConsole, name: str) -> RouterCrypto:
    plane = console.lab.routers[name].crypto_plane
    assert isinstance(plane, RouterCrypto)
    return plane


class EspSender:
    """Puts ESP packets with chosen sources and SPIs on R2's outside wire."""

    def __init__(self, console: LabConsole) -> None:
        stack = console.lab.routers["R2"].stack
        assert stack is not None
        self.stack = stack

    def send(self, src: int, spi: int) -> None:
        esp = spi.to_bytes(4, "big") + (1).to_bytes(4, "big") + bytes(48)
        frame = EthernetFrame(self.stack.mac("GigabitEthernet0/0"),
                              bytes.fromhex("02aabbccddee"), EtherType.IPV4,
                              push_ipv4(Ipv4Packet(protocol=IpProtocol.ESP, src=src, dst=R2_OUT,
                                                   payload=esp)))
        self.stack.receive("GigabitEthernet0/0", push_ethernet(frame))


def _ike_to_forged(console: LabConsole) -> list[tuple[float, int]]:
    """(time, destination) of every IKE datagram R2 sent toward the forged addresses."""
    return [(when, ip.dst) for when, ip in captured_ipv4(console, "R2")
            if ip.protocol == IpProtocol.UDP and ip.src == R2_OUT
            and ip.dst >> 16 == FORGED >> 16]


def _lab(tmp_path: Path, r2_extra: str = "") -> tuple[LabConsole, EspSender]:
    console = seeded(tmp_path, capture=True, r2_extra=r2_extra)
    assert marks(console.feed(PING)) == [".!!!!"]
    return console, EspSender(console)


def test_esp_from_sources_without_an_isakmp_sa_is_never_answered(tmp_path: Path) -> None:
    console, esp = _lab(tmp_path)
    for i in range(500):
        esp.send(FORGED + i, 0x1000 + i)
    console.lab.clock.advance(2)
    assert _ike_to_forged(console) == []  # nothing reflected toward forged addresses
    counters = _plane(console, "R2").datapath.invalid_spi.counters
    assert (counters.packets, counters.unanswered, counters.notified) == (500, 500, 0)
    assert "%CRYPTO-4-RECVD_PKT_INV_SPI" in console.feed("@R2")  # logged (rate-limited)
    run(console, "@R1\n")
    assert marks(console.feed(PING)) == ["!!!!!"]


def test_invalid_spi_recovery_toward_unknown_sources_is_rate_limited(tmp_path: Path) -> None:
    console, esp = _lab(tmp_path, r2_extra=RECOVERY)
    for i in range(300):  # many forged sources at once ...
        esp.send(FORGED + i, 0x1000 + i)
    for i in range(30):  # ... and one source with many SPIs
        esp.send(FORGED + 1000, 0x9000 + i)
    console.lab.clock.advance(1)
    first = {dst for _, dst in _ike_to_forged(console)}
    assert len(first) == RECOVERY_BURST  # one main mode each, toward the first ten only
    counters = _plane(console, "R2").datapath.invalid_spi.counters
    assert counters.recoveries == RECOVERY_BURST
    assert counters.recoveries_refused + counters.rate_limited == 330 - RECOVERY_BURST
    # the next window allows another burst, and each attempt is a half-open SA that call
    # admission control counts
    console.lab.clock.advance(RECOVERY_WINDOW)
    for i in range(300, 600):
        esp.send(FORGED + i, 0x1000 + i)
    console.lab.clock.advance(1)
    assert len({dst for _, dst in _ike_to_forged(console)}) == 2 * RECOVERY_BURST
    cac = _plane(console, "R2").ike.admission
    assert cac.counters.outgoing == 2 * RECOVERY_BURST and cac.negotiating == 2 * RECOVERY_BURST
    run(console, "@R1\n")
    assert marks(console.feed(PING)) == ["!!!!!"]


def test_a_source_gets_one_recovery_negotiation_at_a_time(tmp_path: Path) -> None:
    console, esp = _lab(tmp_path, r2_extra=RECOVERY)
    source = FORGED + 7
    for _ in range(PER_PEER_IN_NEGOTIATION + 5):  # one recovery per NOTIFY_INTERVAL
        esp.send(source, 0x4242)
        console.lab.clock.advance(11)
    cac = _plane(console, "R2").ike.admission
    # the first attempt's SA is still negotiating (retransmitting): a source gets one at a
    # time, since a recovery only starts when no ISAKMP SA with it exists
    assert cac.negotiating == 1 and cac.counters.outgoing == 1
    console.lab.clock.advance(GIVE_UP_AFTER)  # it gave up: the next packet may try again
    esp.send(source, 0x4242)
    assert cac.counters.outgoing == 2


def _notifies_to_r1(console: LabConsole) -> int:
    """ISAKMP informationals R2 sent to R1 (INVALID-SPI notifies, here)."""
    return sum(1 for _, ip in captured_ipv4(console, "R2")
               if ip.protocol == IpProtocol.UDP and ip.src == R2_OUT and ip.dst == R1_OUT
               and ip.payload[8 + 18] == 5)  # ISAKMP exchange type 5: informational


@pytest.mark.parametrize("spis", [200, 2000])
def test_the_peer_is_told_once_per_spi_and_the_table_stays_bounded(tmp_path: Path,
                                                                   spis: int) -> None:
    console, esp = _lab(tmp_path)
    before = _notifies_to_r1(console)
    for spi in range(0x5000, 0x5000 + spis):
        esp.send(R1_OUT, spi)
        esp.send(R1_OUT, spi)  # the same SPI again within 10 s: no second notify
    console.lab.clock.advance(1)
    responder = _plane(console, "R2").datapath.invalid_spi
    assert responder.counters.notified == spis and responder.counters.rate_limited == spis
    assert _notifies_to_r1(console) - before == spis
    assert len(responder._told) == min(spis, TABLE_SIZE)
    run(console, "@R1\n")
    assert marks(console.feed(PING)) == ["!!!!!"]  # R1 keeps its good pair


def _work_per_packet(tmp_path: Path, spis: int) -> float:
    console, esp = _lab(tmp_path)
    for spi in range(0x5000, 0x5000 + spis):
        esp.send(R1_OUT, spi)
    more = iter(range(0x5000 + spis, 0x5000 + spis + 100))
    return mean_work(lambda: esp.send(R1_OUT, next(more)), 20)


def test_the_work_per_unknown_spi_stays_flat_from_n_to_10n(tmp_path: Path) -> None:
    small = _work_per_packet(tmp_path / "n", 200)
    large = _work_per_packet(tmp_path / "10n", 2000)
    assert large <= small * 1.05, (small, large)
