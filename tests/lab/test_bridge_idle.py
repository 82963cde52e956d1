"""A bridged router at an idle prompt: a real peer's IKE message is read, answered and
shown while the student types nothing (the prompt's clock runs between keys)."""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import time
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from labkit import run, vpn_toward_bridge
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from iosim.cli.prompt import run_interactive
from iosim.crypto.rand import SeededRandom
from iosim.ike.engine import IkeEngine, IkePolicy, Phase2Offer, ProxyIdentity
from iosim.lab.console import Lab, LabConsole

HOST, PEER = "127.78.0.1", "127.78.0.2"  # loopback only: the real peer is this test
R1 = vpn_toward_bridge(HOST, PEER, "10.78.0.0") + "debug crypto isakmp\n"


def _first_message() -> bytes:
    """Main mode's first message from a peer with R1's policy and key."""
    peer = IkeEngine(int(IPv4Address(PEER)), rand=SeededRandom("peer"),
                     policies=lambda: [IkePolicy(10, "aes", 256, "sha256", "pre-share", 14,
                                                 86400)],
                     psk_for=lambda address: "SECRETKEY123")
    peer.initiate(int(IPv4Address(HOST)),
                  ProxyIdentity(0x0A4E0000, 0xFFFFFF00, 0xC0A80100, 0xFFFFFF00),  # the mirror,
                  Phase2Offer((("esp-aes 256", "esp-sha256-hmac"),), "tunnel", None, 3600,
                              4608000), 0.0)
    ((_, data),) = peer.datagrams_to_send()
    return data


@pytest.mark.skipif(os.geteuid() != 0, reason="binding UDP 500 needs root")
def test_a_real_peers_message_is_answered_while_the_prompt_is_idle(tmp_path: Path) -> None:
    lab = Lab.load(nvram_dir=tmp_path)
    console = LabConsole(lab, paging=False)
    run(console, R1)
    mm1 = _first_message()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((PEER, 500))
    sock.settimeout(10)
    bridge = lab.bridge(f"R1:Gi0/2:{HOST}:{PEER}")
    bridge.start()
    answer: list[tuple[bytes, tuple[str, int], float]] = []
    out = io.StringIO()
    try:
        with create_pipe_input() as inp:

            def peer() -> None:
                try:
                    time.sleep(0.5)  # the prompt is up; nobody types
                    sock.sendto(mm1, (HOST, 500))
                    data, source = sock.recvfrom(4096)
                    answer.append((data, source, time.monotonic()))
                    time.sleep(0.5)  # time for the debug lines to reach the screen
                finally:
                    inp.close()

            sent = time.monotonic()
            t = threading.Thread(target=peer)
            t.start()
            run_interactive(console, input=inp, output=DummyOutput(), write=out.write)
            t.join()
    finally:
        bridge.close()
        sock.close()
    assert answer, "R1 did not answer while idle"
    data, source, when = answer[0]
    assert source == (HOST, 500)
    assert data[:8] == mm1[:8]  # main mode's second message, for the peer's cookie
    assert when - sent < 5
    assert bridge.received == 1 and bridge.sent >= 1
    # R1's debug of the exchange went to the screen while the prompt waited
    shown = out.getvalue()
    assert f"received packet from {PEER} dport 500 sport 500" in shown, shown
    # ...above the prompt: the prompt's line as it was, then the messages
    assert re.search(r"R1#\n(\*Mar  1 .*\n|\n)*\*Mar  1 .*received packet from", shown), shown
