"""Timers that once stopped virtual time: each scenario must let ``@wait`` return, and the
periodic work it does must really happen on the wire, on schedule."""

from __future__ import annotations

from pathlib import Path

from labkit import ISP_NAT, captured_ipv4, configure_seed, marks, run, seeded
from labkit import console as lab_console

from iosim.lab.console import LabConsole
from iosim.net.packets import IpProtocol, ip_to_int

KEEPALIVE = "crypto isakmp nat keepalive 20\n"


def _keepalives(console: LabConsole, device: str, to: str) -> list[float]:
    """When a one-octet 0xFF UDP 4500 datagram (RFC 3948 2.3) to ``to`` crossed the link of
    ``device``'s GigabitEthernet0/0, in virtual time."""
    return [when for when, ip in captured_ipv4(console, device)
            if ip.protocol == IpProtocol.UDP and ip.dst == ip_to_int(to)
            and ip.payload[2:4] == (4500).to_bytes(2, "big") and ip.payload[8:] == b"\xff"]


def test_an_idle_nat_t_tunnel_with_keepalives_on_both_routers_lets_time_pass(
        tmp_path: Path) -> None:
    """The README's NAT-T set-up with ``crypto isakmp nat keepalive 20`` on both routers: the
    keepalive deadline once came out of a float difference that rounded below 20, re-armed
    at the same instant for ever, and ``@wait 600`` never returned."""
    console = lab_console(tmp_path)
    console.lab.fabric.capture()
    run(console, ISP_NAT)
    configure_seed(console, r1_extra=KEEPALIVE, r2_extra=KEEPALIVE,
                   r2_replace={"198.51.100.1": "203.0.113.1"})
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    start = console.lab.clock.now
    console.feed("@wait 600")
    assert console.lab.clock.now == start + 600
    # R1 (behind the PAT) to R2, seen on R2's link; R2 to R1's translated address
    for device, to in (("R2", "203.0.113.2"), ("R2", "203.0.113.1")):
        times = [t for t in _keepalives(console, device, to) if t > start]
        assert len(times) in (29, 30), (to, times)  # one per idle 20 s
        assert {round(b - a, 6) for a, b in zip(times, times[1:], strict=False)} == {20.0}
    # and the tunnel still carries traffic
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]


def test_an_isakmp_sa_the_peer_deleted_before_its_rekey_lets_time_pass(
        tmp_path: Path) -> None:
    """R1's ISAKMP SA (lifetime 60 s: rekey due at 54 s) is deleted by R2 at once: the
    deleted SA, listed for another 60 s, once kept its rekey deadline, which handle_timer
    skips for deleted SAs -- due for ever at 54 s, and time stood still there."""
    short = {"lifetime 86400": "lifetime 60"}
    console = seeded(tmp_path, r1_replace=short, r2_replace=short)
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    run(console, "@R2\nclear crypto isakmp\n@R1\n@wait 5\n")
    assert "MM_NO_STATE       1001 ACTIVE (deleted)" in console.feed("show crypto isakmp sa")
    start = console.lab.clock.now
    console.feed("@wait 100")
    assert console.lab.clock.now == start + 100
    listed = console.feed("show crypto isakmp sa")
    assert "203.0.113.2" not in listed  # the deleted SA's listing ran out
