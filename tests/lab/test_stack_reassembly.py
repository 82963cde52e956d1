"""A router's own reassembly under a flood of first fragments that never complete: it holds
a bounded number of datagrams, drops and counts the rest, and takes fragmented traffic
again once the flood's datagrams time out."""

from __future__ import annotations

from pathlib import Path

import pytest
from labkit import console as lab_console
from labkit import marks, run

from iosim.net.fragments import MAX_REASSEMBLIES, REASSEMBLY_TIMEOUT
from iosim.net.packets import (
    EthernetFrame,
    EtherType,
    Ipv4Packet,
    ip_to_int,
    push_ethernet,
    push_ipv4,
)

R2_OUTSIDE = ip_to_int("203.0.113.2")
WARM = "@R2\nenable\nping 203.0.113.1 repeat 2\n@R1\nping 198.51.100.2 repeat 2\n"


@pytest.mark.parametrize("count", [100, 1000])
def test_a_flood_of_incomplete_datagrams_is_capped_then_forgotten(tmp_path: Path,
                                                                 count: int) -> None:
    console = lab_console(tmp_path)
    run(console, WARM)
    stack = console.lab.routers["R2"].stack
    assert stack is not None
    for i in range(count):  # first fragments from forged sources, never completed
        src = ip_to_int("100.64.0.0") + i
        frame = EthernetFrame(stack.mac("GigabitEthernet0/0"), bytes.fromhex("02aabbccddee"),
                              EtherType.IPV4, push_ipv4(Ipv4Packet(
                                  identification=i & 0xFFFF, mf=True, protocol=17, src=src,
                                  dst=R2_OUTSIDE, payload=bytes(1000))))
        stack.receive("GigabitEthernet0/0", push_ethernet(frame))
    held = stack.reassembler
    assert len(held.partial) == MAX_REASSEMBLIES
    assert held.dropped_reassemblies == count - MAX_REASSEMBLIES
    # R2 takes no new fragmented datagram while the table is full (3 fragments per echo) ...
    assert marks(console.feed("ping 203.0.113.2 size 3000")) == ["....."]
    assert held.dropped_reassemblies == count - MAX_REASSEMBLIES + 5 * 3
    # ... and all of them again once the flood has timed out
    console.feed(f"@wait {REASSEMBLY_TIMEOUT}")
    assert marks(console.feed("ping 203.0.113.2 size 3000")) == ["!!!!!"]
    assert held.timed_out == MAX_REASSEMBLIES and not held.partial
