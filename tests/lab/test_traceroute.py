"""traceroute across the default lab: real probes, real ICMP answers, IOS's hop lines."""

from __future__ import annotations

import re
from pathlib import Path

from labkit import ISP_ROUTES
from labkit import console as _console
from labkit import run as _run

from iosim.cli.exec_trace import hop_text
from iosim.lab.console import Lab, LabConsole
from iosim.net.packets import (
    EtherType,
    IpProtocol,
    format_ip,
    ip_to_int,
    pull_ethernet,
    pull_ipv4,
    pull_udp,
)
from iosim.net.traceroute import Hop, Probe, run_traceroute

HEADER = ["Type escape sequence to abort.", "Tracing the route to 10.0.2.10",
          "VRF info: (vrf in name/id, vrf out name/id)"]
# one probe's result: a time, a timeout, or an unreachable mark
_PROBE = r"(?: \d+ msec| \* | ![HNPA] )"






def _warm(console: LabConsole) -> None:
    """Routes on the ISP, every ARP entry on the path learnt, rate limits expired."""
    _run(console, ISP_ROUTES)
    console.feed("ping 10.0.2.10")
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    console.feed("@wait 2")


def test_traceroute_walks_the_real_path_and_the_destination_rate_limits(
        tmp_path: Path) -> None:
    console = _console(tmp_path)
    _warm(console)
    clock = console.lab.clock
    before = clock.now
    lines = console.feed("traceroute 10.0.2.10").splitlines()
    assert lines[:3] == HEADER
    assert len(lines) == 6
    # Each router answers one probe in 500 ms: the hop lines name the real routers in order
    assert re.fullmatch(rf"  1 198\.51\.100\.2 10 msec{_PROBE}{_PROBE}", lines[3]), lines[3]
    assert re.fullmatch(rf"  2 203\.0\.113\.2 20 msec{_PROBE}{_PROBE}", lines[4]), lines[4]
    # PC2's port unreachable for the second probe is rate-limited: '*' after 3 s
    assert lines[5] == "  3 10.0.2.10 22 msec *  22 msec"
    assert clock.now - before >= 3.0


def test_an_unroutable_destination_ends_the_trace_with_bang_h(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("ping 198.51.100.2")  # ARP
    console.feed("@wait 1")
    lines = console.feed("traceroute 10.0.2.10").splitlines()
    # hop 1: the ISP's time exceeded (not rate-limited on IOS);
    # hop 2: the ISP has no route to 10.0.2.0: !H, the second one meets the 500 ms
    # unreachable rate limit, and the trace stops there
    assert lines[3:] == ["  1 198.51.100.2 10 msec 10 msec 10 msec",
                         "  2 198.51.100.2 !H  *  !H "]


def test_a_first_probe_lost_to_arp_puts_the_address_on_its_own_line(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("clear arp-cache")
    out = console.feed("traceroute 198.51.100.2 probe 2")
    # R1 has no ARP entry any more: probe 1 is dropped, probe 2 is answered by the ISP itself
    assert out.splitlines()[3:] == ["  1  * ", "    198.51.100.2 10 msec"]


def test_options_shape_the_probes(tmp_path: Path) -> None:
    console = _console(tmp_path)
    _warm(console)
    lab = console.lab
    lab.fabric.capture()
    out = console.feed("traceroute 10.0.2.10 source GigabitEthernet0/1 probe 1 ttl 2 3 "
                       "timeout 1 numeric")
    assert out.splitlines()[3:] == ["  2 203.0.113.2 20 msec", "  3 10.0.2.10 22 msec"]
    link = lab.fabric.link_of("R1", "GigabitEthernet0/0")
    assert link is not None
    probes = []
    for _, frame in link.captured:
        eth = pull_ethernet(frame)
        if eth.ethertype != EtherType.IPV4:
            continue
        packet = pull_ipv4(eth.payload)
        if packet.protocol == IpProtocol.UDP:
            udp = pull_udp(packet.payload, packet.src, packet.dst)
            probes.append((format_ip(packet.src), packet.ttl, udp.dst_port))
    assert probes == [("192.168.1.1", 2, 33434), ("192.168.1.1", 3, 33435)]


def test_bad_options_are_refused(tmp_path: Path) -> None:
    console = _console(tmp_path)
    assert "Tracing the route to 198.51.100.2" in console.feed("traceroute ip 198.51.100.2")
    assert console.feed("traceroute 10.0.2.10 source 1.1.1.1") == (
        "% Invalid source address- IP address not on any of our up interfaces\n")
    assert "% Invalid input detected at '^' marker." in console.feed(
        "traceroute 10.0.2.10 ttl 5 2")


def test_the_probe_logic_alone(tmp_path: Path) -> None:
    lab = Lab.load(nvram_dir=tmp_path)
    r1 = lab.routers["R1"]
    assert r1.stack is not None
    hops = run_traceroute(r1.stack, lab.clock, ip_to_int("203.0.113.2"), probes=1,
                          ttl_max=5, timeout=1.0)
    # the neighbours announced themselves at boot: the ISP answers hop 1, R2 itself hop 2
    assert [(h.ttl, [p.mark for p in h.probes]) for h in hops] == [(1, [""]), (2, [""])]
    assert hops[0].probes[0].responder == ip_to_int("198.51.100.2")
    assert hops[-1].probes[0].reached
    assert hops[-1].probes[0].responder == ip_to_int("203.0.113.2")
    assert r1.stack.icmp_listeners == []


def test_hop_lines_follow_ios_spacing() -> None:
    a, b = ip_to_int("10.1.1.1"), ip_to_int("10.1.1.2")
    assert hop_text(Hop(4, [Probe(None, None, "*")] * 3)) == "  4  *  *  * \n"
    assert hop_text(Hop(12, [Probe(a, 0.0014, ""), Probe(b, 0.002, ""), Probe(b, 0.0, "")])) \
        == " 12 10.1.1.1 1 msec\n    10.1.1.2 2 msec 0 msec\n"
    assert hop_text(Hop(6, [Probe(a, None, "!H"), Probe(None, None, "*"),
                            Probe(a, None, "!H")])) == "  6 10.1.1.1 !H  *  !H \n"
