"""Embedded Packet Capture on a lab router: real frames in, a real pcap out."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from labkit import console as _console
from labkit import run as _run

from iosim.cli.exec_capture import Capture, Ipv4Filter, captures_of
from iosim.net.packets import (
    BROADCAST_MAC,
    EtherType,
    IcmpEcho,
    IpProtocol,
    format_ip,
    pull_ethernet,
    pull_icmp,
    pull_ipv4,
    pull_udp,
)
from iosim.net.pcap import LINKTYPE_ETHERNET, read_pcap
from iosim.net.stack import interface_mac

SETUP = """\
monitor capture CAP interface GigabitEthernet0/0 both
monitor capture CAP match ipv4 any any
monitor capture CAP start
"""






def _ipv4(frame: bytes) -> tuple[str, str, int]:
    packet = pull_ipv4(pull_ethernet(frame).payload)
    return format_ip(packet.src), format_ip(packet.dst), packet.protocol


def test_a_ping_is_captured_both_ways_and_shown_brief(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("ping 198.51.100.2")  # ARP first: the capture then holds 10 echo frames
    out = _run(console, SETUP)
    assert "%BUFCAP-6-ENABLE: Capture Point CAP enabled." in out
    console.feed("ping 198.51.100.2")
    assert console.feed("monitor capture CAP stop").startswith("Stopped capture point : CAP\n")
    cap = captures_of(console.lab.routers["R1"])["CAP"]
    frames = [frame for _, frame in cap.packets]
    assert [_ipv4(f)[:2] for f in frames] == [
        ("198.51.100.1", "198.51.100.2"), ("198.51.100.2", "198.51.100.1")] * 5
    echoes = [pull_icmp(pull_ipv4(pull_ethernet(f).payload).payload) for f in frames]
    assert [(e.reply, e.sequence_number) for e in echoes if isinstance(e, IcmpEcho)] == [
        (reply, seq) for seq in range(5) for reply in (False, True)]
    brief = console.feed("show monitor capture CAP buffer brief").splitlines()
    assert brief[:3] == [" " + "-" * 76,
                         " #   size   timestamp     source             destination      dscp"
                         "    protocol",
                         " " + "-" * 76]
    assert brief[3] == ("   0  114    0.000000   198.51.100.1     ->  198.51.100.2     "
                        "0  BE   ICMP")
    assert brief[4] == ("   1  114    0.010000   198.51.100.2     ->  198.51.100.1     "
                        "0  BE   ICMP")
    assert len(brief) == 3 + 10


def test_nothing_is_captured_before_start_or_after_stop(tmp_path: Path) -> None:
    console = _console(tmp_path)
    _run(console, SETUP.replace("monitor capture CAP start\n", ""))
    console.feed("ping 198.51.100.2")
    cap = captures_of(console.lab.routers["R1"])["CAP"]
    assert not cap.packets
    _run(console, "monitor capture CAP start\nping 198.51.100.2 repeat 1\n"
                  "monitor capture CAP stop\n")
    assert len(cap.packets) == 2
    console.feed("ping 198.51.100.2")
    assert len(cap.packets) == 2
    assert console.lab.routers["R1"].stack.taps == []  # type: ignore[union-attr]


def test_direction_in_and_an_inline_filter(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("ping 198.51.100.2")
    _run(console, "monitor capture IN interface GigabitEthernet0/0 in\n"
                  "monitor capture IN match any\nmonitor capture IN start\n"
                  "monitor capture UDP interface GigabitEthernet0/0 both\n"
                  "monitor capture UDP match ipv4 protocol udp host 198.51.100.1 any\n"
                  "monitor capture UDP start\n")
    console.feed("ping 198.51.100.2 repeat 2")
    console.feed("traceroute 198.51.100.2 probe 2")
    caps = captures_of(console.lab.routers["R1"])
    own_mac = interface_mac("R1", "GigabitEthernet0/0")
    assert caps["IN"].packets
    assert all(pull_ethernet(f).dst in (own_mac, BROADCAST_MAC) for _, f in caps["IN"].packets)
    udp = [_ipv4(f) for _, f in caps["UDP"].packets]
    assert udp == [("198.51.100.1", "198.51.100.2", IpProtocol.UDP)] * 2
    status = console.feed("show monitor capture UDP")
    assert "    Source IP:  host 198.51.100.1\n    Destination IP:  any\n   Protocol: udp\n" \
        in status
    assert " Interface: GigabitEthernet0/0, Direction: IN\n" in console.feed(
        "show monitor capture IN")


def test_export_writes_a_real_pcap_to_flash(tmp_path: Path) -> None:
    console = _console(tmp_path)
    _run(console, SETUP)
    console.feed("ping 198.51.100.2")
    console.feed("traceroute 198.51.100.2")
    console.feed("monitor capture CAP stop")
    assert console.feed("monitor capture CAP export flash:cap.pcap") == "Exported Successfully\n"
    path = tmp_path / "R1-flash" / "cap.pcap"
    capture = read_pcap(path)
    cap = captures_of(console.lab.routers["R1"])["CAP"]
    assert capture.linktype == LINKTYPE_ETHERNET
    assert [r.data for r in capture.records] == [f for _, f in cap.packets]
    assert len(capture.records) > 8
    kinds = set()
    for record in capture.records:
        eth = pull_ethernet(record.data)
        assert eth.ethertype == EtherType.IPV4
        packet = pull_ipv4(eth.payload)
        if packet.protocol == IpProtocol.UDP:
            kinds.add(("udp", pull_udp(packet.payload, packet.src, packet.dst).dst_port))
        else:
            kinds.add((type(pull_icmp(packet.payload)).__name__, 0))
    assert {("IcmpEcho", 0), ("udp", 33434), ("IcmpDestinationUnreachable", 0)} <= kinds
    stamps = [r.timestamp for r in capture.records]
    assert stamps == sorted(stamps) and stamps[0] > 7.3e8  # dated on the router's clock
    if shutil.which("tshark") is not None:
        text = subprocess.run(["tshark", "-r", str(path), "-V"], capture_output=True,
                              text=True, timeout=60).stdout
        assert "Internet Control Message Protocol" in text and "Malformed" not in text
        expert = subprocess.run(["tshark", "-r", str(path), "-z", "expert", "-q"],
                                capture_output=True, text=True, timeout=60).stdout
        assert "Error" not in expert and "Warning" not in expert, expert


@pytest.mark.parametrize("location", ["tftp://10.0.0.1/x.pcap", "flash:", "flash:a/b.pcap"])
def test_export_refuses_what_is_not_a_flash_file(tmp_path: Path, location: str) -> None:
    console = _console(tmp_path)
    _run(console, SETUP)
    assert console.feed(f"monitor capture CAP export {location}") == (
        f"%Error opening {location} (Invalid argument)\n")


def test_status_clear_replace_and_delete(tmp_path: Path) -> None:
    console = _console(tmp_path)
    assert console.feed("monitor capture X start") == (
        "Failed to start capture : Interface not attached\n")
    console.feed("monitor capture CAP match any")
    status = console.feed("show monitor capture")
    assert status.startswith("\nStatus Information for Capture X\n")
    assert ("Status Information for Capture CAP\n  Target Type: \n   Interface unattached \n"
            "   Status : Inactive\n  Filter Details: \n    Capture all packets\n") in status
    _run(console, "monitor capture CAP interface Gi0/0 out\nmonitor capture CAP start\n"
                  "ping 198.51.100.2 repeat 2\n")
    assert console.feed("monitor capture CAP match ipv4 any any") == ""
    assert console.prompt.startswith("A filter is already attached to the capture .")
    console.feed("")
    cap = captures_of(console.lab.routers["R1"])["CAP"]
    assert cap.filter == Ipv4Filter()
    assert cap.packets
    console.feed("monitor capture CAP clear")
    assert console.prompt == "Captured data will be deleted [clear]?[confirm]"
    assert console.feed("") == "cleared buffer : CAP\n"
    assert not cap.packets
    assert console.feed("show monitor capture CAP parameter") == (
        "   monitor capture CAP interface GigabitEthernet0/0 OUT\n"
        "   monitor capture CAP match ipv4 any any\n"
        "   monitor capture CAP buffer size 10\n"
        "   monitor capture CAP limit pps 1000\n")
    out = console.feed("no monitor capture CAP")
    assert "%BUFCAP-6-DISABLE: Capture Point CAP disabled." in out
    assert "CAP" not in captures_of(console.lab.routers["R1"])
    assert console.lab.routers["R1"].stack.taps == []  # type: ignore[union-attr]


def test_linear_buffers_stop_and_circular_ones_wrap() -> None:
    frame = bytes(600_000)
    linear = Capture("L", buffer_mb=1)
    circular = Capture("C", buffer_mb=1, circular=True)
    for n in range(3):
        linear.store(float(n), frame)
        circular.store(float(n), frame)
    assert [t for t, _ in linear.packets] == [0.0]
    assert [t for t, _ in circular.packets] == [2.0]
