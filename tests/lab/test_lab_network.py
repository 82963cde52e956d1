"""The default lab's network: real frames on the virtual clock, as a user sees them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from labkit import ISP_ROUTES
from labkit import console as _console
from labkit import marks as _marks
from labkit import run as _run

from iosim.lab.console import Lab, LabConsole
from iosim.net.packets import (
    EtherType,
    IcmpEcho,
    IpProtocol,
    ip_to_int,
    pull_ethernet,
    pull_icmp,
    pull_ipv4,
    push_icmp,
)
from iosim.net.pcap import read_pcap
from iosim.net.ping import run_ping


def test_neighbours_announce_themselves_at_boot(tmp_path: Path) -> None:
    console = _console(tmp_path)
    assert "Internet  198.51.100.2            0   " in console.feed("show arp")  # its GARP
    assert _marks(console.feed("ping 198.51.100.2")) == ["!!!!!"]


def test_first_ping_to_a_new_neighbour_loses_one_packet_to_arp(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("clear arp-cache")
    first = console.feed("ping 198.51.100.2")
    assert first.splitlines() == [
        "Type escape sequence to abort.",
        "Sending 5, 100-byte ICMP Echos to 198.51.100.2, timeout is 2 seconds:",
        ".!!!!",
        "Success rate is 80 percent (4/5), round-trip min/avg/max = 10/10/10 ms",
    ]
    second = console.feed("ping 198.51.100.2")
    assert _marks(second) == ["!!!!!"]
    arp = console.feed("show arp")
    assert "Internet  198.51.100.2            0   " in arp
    assert "Internet  198.51.100.1            -   " in arp


def test_end_to_end_ping_needs_the_isp_routes(tmp_path: Path) -> None:
    console = _console(tmp_path)
    before = console.feed("ping 10.0.2.10 source 192.168.1.1")
    assert _marks(before) == ["....."]
    assert "Success rate is 0 percent (0/5)\n" in before
    _run(console, ISP_ROUTES)
    after = console.feed("ping 10.0.2.10 source 192.168.1.1")
    assert "Packet sent with a source address of 192.168.1.1\n" in after
    # every neighbour announced itself at boot: nothing is lost to ARP
    assert _marks(after) == ["!!!!!"]
    assert _marks(console.feed("ping 10.0.2.10 source GigabitEthernet0/1 repeat 10")) == [
        "!" * 10]


def test_unreachable_is_rate_limited_into_u_dot_u(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("ping 198.51.100.2")  # resolve ARP first
    out = console.feed("ping 1.2.3.4")
    assert _marks(out) == ["U.U.U"]
    assert out.endswith("Success rate is 0 percent (0/5)\n")


def test_ttl_expiry_comes_back_as_time_exceeded(tmp_path: Path) -> None:
    lab = Lab.load(nvram_dir=tmp_path)
    r1 = lab.routers["R1"]
    assert r1.stack is not None
    run_ping(r1.stack, lab.clock, ip_to_int("198.51.100.2"), repeat=1)  # ARP
    seen: list[object] = []
    r1.stack.icmp_listeners.append(lambda src, msg, now: seen.append(msg))
    r1.stack.send(ip_to_int("203.0.113.2"), IpProtocol.ICMP, push_icmp(IcmpEcho(7, 1)), ttl=1)
    lab.clock.run_until_idle()
    assert [type(m).__name__ for m in seen] == ["IcmpTimeExceeded"]


def test_shutting_an_interface_stops_traffic_and_the_far_end_goes_down(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("ping 198.51.100.2")
    out = _run(console, "conf t\ninterface g0/0\nshutdown\nend\n")
    assert "%LINK-5-CHANGED: Interface GigabitEthernet0/0, changed state to administratively down" in out
    assert _marks(console.feed("ping 198.51.100.2")) == ["....."]
    isp = console.lab.routers["ISP"]
    assert isp.interface_up("GigabitEthernet0/0") == ("down", "down")
    assert any("Line protocol on Interface GigabitEthernet0/0, changed state to down" in ln
               for ln in isp.log_buffer)
    _run(console, "conf t\ninterface g0/0\nno shutdown\nend\n")
    assert isp.interface_up("GigabitEthernet0/0") == ("up", "up")
    assert _marks(console.feed("ping 198.51.100.2")) == ["!!!!!"]


def test_interface_counters_count_real_frames(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("clear arp-cache")
    st = console.lab.routers["R1"].state["GigabitEthernet0/0"].counters
    before = (st.output_packets, st.input_packets)
    console.feed("ping 198.51.100.2 repeat 3")
    st.output_packets -= before[0]
    st.input_packets -= before[1]
    # ARP request + 3 echoes out; ARP reply + 2 replies in (the first echo was dropped)
    assert (st.output_packets, st.input_packets) == (3, 3)
    assert "3 packets input" in console.feed("show interfaces GigabitEthernet0/0")


def _capture_run(tmp_path: Path, name: str) -> bytes:
    lab = Lab.load(nvram_dir=tmp_path / name)
    console = LabConsole(lab, paging=False)
    lab.fabric.capture()
    _run(console, "enable\n" + ISP_ROUTES + "ping 10.0.2.10 source 192.168.1.1\n")
    paths = lab.fabric.write_pcaps(tmp_path / name / "pcap")
    return b"".join(p.read_bytes() for p in sorted(paths))


def test_the_same_lab_twice_gives_the_same_capture_bytes(tmp_path: Path) -> None:
    assert _capture_run(tmp_path, "a") == _capture_run(tmp_path, "b")


def test_capture_is_real_ethernet_ipv4_icmp(tmp_path: Path) -> None:
    lab = Lab.load(nvram_dir=tmp_path)
    lab.fabric.capture()
    _run(LabConsole(lab, paging=False), "enable\nclear arp-cache\nping 198.51.100.2\n")
    path = lab.fabric.write_pcaps(tmp_path / "pcap")[0]
    capture = read_pcap(path)
    assert capture.linktype == 1
    frames = [pull_ethernet(r.data) for r in capture.records]
    kinds = [f.ethertype for f in frames]
    assert kinds == [EtherType.ARP] * 2 + [EtherType.IPV4] * 8  # ARP, then 4 echoes, 4 replies
    echoes = [pull_icmp(pull_ipv4(f.payload).payload) for f in frames[2:]]
    assert [(e.reply, e.sequence_number) for e in echoes if isinstance(e, IcmpEcho)] == [
        (reply, seq) for seq in range(1, 5) for reply in (False, True)]


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not on PATH")
def test_tshark_dissects_the_capture_without_errors(tmp_path: Path) -> None:
    lab = Lab.load(nvram_dir=tmp_path)
    lab.fabric.capture()
    _run(LabConsole(lab, paging=False), "enable\n" + ISP_ROUTES + "ping 10.0.2.10 source 192.168.1.1\nping 1.2.3.4\n"
         "ping 10.0.2.10 size 4000\n")
    for path in lab.fabric.write_pcaps(tmp_path / "pcap"):
        text = subprocess.run(["tshark", "-r", str(path), "-V"], capture_output=True,
                              text=True, timeout=60).stdout
        assert "Malformed" not in text
        expert = subprocess.run(["tshark", "-r", str(path), "-z", "expert", "-q"],
                                capture_output=True, text=True, timeout=60).stdout
        assert "Error" not in expert and "Warning" not in expert, expert


def test_a_host_console_pings_and_shows_its_address(tmp_path: Path) -> None:
    console = LabConsole(Lab.load(nvram_dir=tmp_path), paging=False)
    assert console.feed("@PC1") == ""
    assert console.prompt == "PC1>"
    assert "Default gateway.: 192.168.1.1" in console.feed("ipconfig")
    assert _marks(console.feed("ping 192.168.1.1")) == ["!!!!!"]
    assert _marks(console.feed("ping 10.0.2.10")) == ["....."]  # the ISP cannot route back
    _run(console, ISP_ROUTES.replace("@R1", "@PC1"))
    assert _marks(console.feed("ping 10.0.2.10 repeat 8")) == ["!!!!!!!!"]
    assert console.feed("ping x") == "% Usage: ping A.B.C.D [repeat N]\n"
    assert "(attached)" in console.feed("@devices")


def test_big_pings_are_fragmented_and_df_gives_m(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("ping 198.51.100.2")  # ARP
    assert _marks(console.feed("ping 198.51.100.2 size 3000")) == ["!!!!!"]
    out = console.feed("ping 198.51.100.2 size 1600 df-bit")
    assert "Packet sent with the DF bit set\n" in out
    assert _marks(out) == ["M.M.M"]
    assert _marks(console.feed("ping 198.51.100.2 size 1500 df-bit")) == ["!!!!!"]


def test_more_than_seventy_marks_wrap_as_ios_prints_them(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("ping 198.51.100.2")
    assert _marks(console.feed("ping 198.51.100.2 repeat 100")) == ["!" * 70, "!" * 30]
