"""A router bridged to real sockets draws from the operating system's randomness: two
bridged runs of the same lab and seed send different cookies; a lab without a bridge
replays the same cookies, keys and SPIs for the same seed, as before."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from labkit import marks, run, vpn_toward_bridge

from iosim.ipsec.router_crypto import RouterCrypto
from iosim.lab.console import Lab, LabConsole

HOST, PEER = "127.77.0.1", "127.77.0.2"  # loopback only: the "real" peer is this test
TOWARD_PEER = (vpn_toward_bridge(HOST, PEER, "10.77.0.0")
               + f"ping {PEER} repeat 1 timeout 1\n"
               "ping 10.77.0.1 source 192.168.1.1 repeat 1 timeout 1\n")


def _plane(lab: Lab, name: str) -> RouterCrypto:
    plane = lab.routers[name].crypto_plane
    assert isinstance(plane, RouterCrypto)
    return plane


def _bridged_first_message(tmp_path: Path) -> tuple[bytes, Lab]:
    """The first IKE message R1 sends to the real peer, the lab seeded as always."""
    lab = Lab.load(nvram_dir=tmp_path)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        peer.bind((PEER, 500))
        peer.settimeout(5)
        bridge = lab.bridge(f"R1:Gi0/2:{HOST}:{PEER}")
        try:
            run(LabConsole(lab, paging=False), TOWARD_PEER)
            data, (source, port) = peer.recvfrom(4096)
        finally:
            bridge.close()
    finally:
        peer.close()
    assert (source, port) == (HOST, 500)
    return data, lab


@pytest.mark.skipif(os.geteuid() != 0, reason="binding UDP 500 needs root")
def test_two_bridged_runs_send_different_cookies(tmp_path: Path) -> None:
    first, lab1 = _bridged_first_message(tmp_path / "1")
    second, lab2 = _bridged_first_message(tmp_path / "2")
    assert first[:8] != second[:8]  # the initiator cookies (RFC 2408 3.1)
    assert first[8:16] == second[8:16] == bytes(8)  # both first messages: no responder cookie
    for lab in (lab1, lab2):
        assert not _plane(lab, "R1").rand.seeded
        assert _plane(lab, "R2").rand.seeded  # the routers inside stay reproducible
    assert _plane(lab1, "R1").rand(16) != _plane(lab2, "R1").rand(16)


def _unbridged_run(tmp_path: Path, seed: str) -> tuple[object, ...]:
    lab = Lab.load(nvram_dir=tmp_path, seed=seed)  # the seed draws addresses and keys too
    console = LabConsole(lab, paging=False)
    for device, solution in lab.resolved.solutions.items():  # the seed's VPN, as drawn
        run(console, f"@{device}\nenable\nconfigure terminal\n{solution}end\n")
    console.feed("@PC1")
    pc2 = lab.topology.hosts["PC2"].address.ip
    assert marks(console.feed(f"ping {pc2}")) == [".!!!!"]
    r1 = _plane(lab, "R1")
    assert r1.rand.seeded
    bundle = r1.sad.bundles[0]
    return (tuple(k for e in r1.engines.values() for k in e.decryption_keys()),
            bundle.inbound.spis, bundle.outbound.spis)


def test_unbridged_runs_with_the_same_seed_are_identical(tmp_path: Path) -> None:
    first = _unbridged_run(tmp_path / "1", "student7")
    assert first == _unbridged_run(tmp_path / "2", "student7")
    assert first != _unbridged_run(tmp_path / "3", "student8")
