"""Inbound SPIs are unique on the device: quick mode never picks one that an SA of the
router (any engine's, IKEv1 or IKEv2) or a pair of its own already receives on."""

from __future__ import annotations

from collections.abc import Callable

from test_engine import A_ADDR, B_ADDR, PROXIES, Pair, policy

from iosim.crypto.rand import SeededRandom
from iosim.ike.engine import IkeEngine, IpsecSaPair, Phase2Established, Phase2Offer

ESP = ("esp-aes 256", "esp-sha256-hmac")


def _tunnel(spi_in_use: Callable[[int], bool]) -> tuple[IpsecSaPair, IpsecSaPair]:
    """Main mode and quick mode from A to B, the same random draws each time; A's engine
    told which SPIs its device already uses."""
    pol = policy()
    a = IkeEngine(A_ADDR, rand=SeededRandom("spi-a"), policies=lambda: [pol],
                  psk_for=lambda peer: "cisco123", spi_in_use=spi_in_use)
    b = IkeEngine(B_ADDR, rand=SeededRandom("spi-b"), policies=lambda: [pol],
                  psk_for=lambda peer: "cisco123",
                  select_phase2=lambda peer, proxies, offers: offers[0])
    p = Pair(a, b)
    a.initiate(B_ADDR, PROXIES, Phase2Offer((ESP,), "tunnel", None), p.now)
    p.pump()
    (ours,), (theirs,) = p.of("a", Phase2Established), p.of("b", Phase2Established)
    return ours.sa, theirs.sa


def test_an_spi_the_device_receives_on_is_drawn_again() -> None:
    first, _ = _tunnel(lambda spi: False)
    asked: list[int] = []

    def in_use(spi: int) -> bool:
        asked.append(spi)
        return spi == first.spi_in

    ours, theirs = _tunnel(in_use)
    assert asked[0] == first.spi_in  # the same draw, found taken ...
    assert ours.spi_in not in (first.spi_in, *range(256))  # ... so another one
    assert theirs.spi_out == ours.spi_in and theirs.spi_in == ours.spi_out
