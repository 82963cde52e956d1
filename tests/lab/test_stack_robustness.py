"""Bad frames from the wire are dropped and counted; the router keeps working."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iosim.lab.console import Lab, LabConsole
from iosim.net.packets import (
    EthernetFrame,
    Ipv4Packet,
    ip_to_int,
    push_ethernet,
    push_ipv4,
)
from iosim.net.ping import run_ping
from iosim.net.stack import ARP_TIMEOUT, interface_mac

_LAB = Lab.load(nvram_dir=Path("/nonexistent-iosim-nvram"))  # nothing is saved
_R1 = _LAB.routers["R1"]
_MAC = interface_mac("R1", "GigabitEthernet0/0")


def _valid_frame(payload: bytes, protocol: int) -> bytes:
    dgram = push_ipv4(Ipv4Packet(protocol=protocol, src=ip_to_int("198.51.100.2"),
                                 dst=ip_to_int("198.51.100.1"), payload=payload))
    return push_ethernet(EthernetFrame(_MAC, b"\x02" * 6, 0x0800, dgram))


frames = st.one_of(
    st.binary(max_size=200),
    st.binary(max_size=120).map(lambda b: _MAC + b"\x02" * 6 + b"\x08\x00" + b),
    st.binary(max_size=120).map(lambda b: _MAC + b"\x02" * 6 + b"\x08\x06" + b),
    st.tuples(st.binary(max_size=80), st.sampled_from([1, 17, 50, 51, 6])).map(
        lambda t: _valid_frame(*t)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_any_frame_is_dropped_or_handled_never_raises(frame: bytes) -> None:
    assert _R1.stack is not None
    _R1.stack.receive("GigabitEthernet0/0", frame)
    _LAB.clock.run_until_idle()


def test_router_still_forwards_after_garbage(tmp_path: Path) -> None:
    lab = Lab.load(nvram_dir=tmp_path)
    r1 = lab.routers["R1"]
    assert r1.stack is not None
    before = r1.stack.dropped
    for junk in (b"", b"\x00" * 13, _MAC + b"\x02" * 6 + b"\x08\x00" + b"\x45" + b"\x00" * 30):
        r1.stack.receive("GigabitEthernet0/0", junk)
    assert r1.stack.dropped > before
    out = run_ping(r1.stack, lab.clock, ip_to_int("198.51.100.2"))
    assert out.marks == "!!!!!"


def test_arp_entries_age_out_and_clear_arp_cache_forgets_them(tmp_path: Path) -> None:
    lab = Lab.load(nvram_dir=tmp_path)
    console = LabConsole(lab, paging=False)
    console.feed("enable")
    console.feed("ping 198.51.100.2")
    assert "Internet  198.51.100.2            0   " in console.feed("show arp")
    console.feed(f"@wait {ARP_TIMEOUT - 60}")
    assert "Internet  198.51.100.2          239   " in console.feed("show arp")
    assert console.feed("ping 198.51.100.2").count("!!!!!") == 1
    console.feed("clear arp-cache")
    assert "198.51.100.2" not in console.feed("show arp")
    assert ".!!!!" in console.feed("ping 198.51.100.2")
