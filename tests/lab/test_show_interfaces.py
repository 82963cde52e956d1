"""show interfaces / show interfaces description / show ip interface / show [ip] arp /
show ip route A.B.C.D / clear counters on R1 of the default lab: IOS 15's layouts, with the
numbers of what really crossed the interfaces.

The layouts are those of the IOS 15 captures (an IOSv ``show interfaces`` for the first
lines, an ISR G2 one for the rest, ``show ip route A.B.C.D`` and ``show interfaces
description`` from IOS 15 routers); the counters are checked against the frames sent.
"""

from __future__ import annotations

import re
from pathlib import Path

from labkit import console as lab_console
from labkit import run

from iosim.lab.console import LabConsole
from iosim.net.packets import EthernetFrame, push_ethernet
from iosim.router import LOAD_INTERVAL, RateMeter

#: IOS 15's block for an Ethernet interface, a regex per line (N: a number).
_N = r"\d+"
GIGABIT_LAYOUT = [
    r"GigabitEthernet0/0 is up, line protocol is up ",
    r"  Hardware is iGbE, address is [0-9a-f.]{14} \(bia [0-9a-f.]{14}\)",
    r"  Description: Link to ISP",
    r"  Internet address is 198\.51\.100\.1/30",
    r"  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec, ",
    r"     reliability 255/255, txload 1/255, rxload 1/255",
    r"  Encapsulation ARPA, loopback not set",
    r"  Keepalive set \(10 sec\)",
    r"  Auto Duplex, Auto Speed, link type is auto, media type is RJ45",
    r"  output flow-control is unsupported, input flow-control is unsupported",
    r"  ARP type: ARPA, ARP Timeout 04:00:00",
    r"  Last input (never|\d\d:\d\d:\d\d), output (never|\d\d:\d\d:\d\d), output hang never",
    r'  Last clearing of "show interface" counters (never|\d\d:\d\d:\d\d)',
    rf"  Input queue: 0/75/0/0 \(size/max/drops/flushes\); Total output drops: {_N}",
    r"  Queueing strategy: fifo",
    r"  Output queue: 0/40 \(size/max\)",
    rf"  5 minute input rate {_N} bits/sec, {_N} packets/sec",
    rf"  5 minute output rate {_N} bits/sec, {_N} packets/sec",
    rf"     {_N} packets input, {_N} bytes, 0 no buffer",
    rf"     Received {_N} broadcasts \({_N} IP multicasts\)",
    r"     0 runts, 0 giants, 0 throttles ",
    rf"     {_N} input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored",
    rf"     0 watchdog, {_N} multicast, 0 pause input",
    rf"     {_N} packets output, {_N} bytes, 0 underruns",
    rf"     0 output errors, 0 collisions, {_N} interface resets",
    rf"     {_N} unknown protocol drops",
    r"     0 babbles, 0 late collision, 0 deferred",
    r"     0 lost carrier, 0 no carrier, 0 pause output",
    r"     0 output buffer failures, 0 output buffers swapped out",
]


def _counter(text: str, pattern: str) -> int:
    found = re.search(pattern, text)
    assert found is not None, pattern
    return int(found[1])


def _packets(c: LabConsole, interface: str = "GigabitEthernet0/0") -> tuple[int, int, int, int]:
    """(packets in, bytes in, packets out, bytes out) of ``show interfaces``."""
    text = c.feed(f"show interfaces {interface}")
    return (_counter(text, r"(\d+) packets input"), _counter(text, r"input, (\d+) bytes"),
            _counter(text, r"(\d+) packets output"), _counter(text, r"output, (\d+) bytes"))


def test_show_interfaces_prints_every_line_of_ios15(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    lines = c.feed("show interfaces GigabitEthernet0/0").splitlines()
    assert len(lines) == len(GIGABIT_LAYOUT)
    for line, pattern in zip(lines, GIGABIT_LAYOUT, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)
    assert "output drops\n" not in c.feed("show interfaces")  # no invented line


def test_counters_count_the_frames_that_crossed(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    before = _packets(c)
    c.feed("ping 198.51.100.2 repeat 10")  # ISP's address is in the ARP cache already
    after = _packets(c)
    # 10 echoes out, 10 replies in: 100-byte datagrams in 14-byte Ethernet headers
    assert [a - b for a, b in zip(after, before, strict=True)] == [10, 1140, 10, 1140]
    assert _packets(c, "GigabitEthernet0/2") == (0, 0, 0, 0)  # shut down: nothing crossed


def test_received_broadcasts_count_the_arp_requests(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    text = c.feed("show interfaces GigabitEthernet0/0")
    broadcasts = _counter(text, r"Received (\d+) broadcasts")
    run(c, "@ISP\nenable\nclear arp-cache\nping 198.51.100.1 repeat 1\n@R1\n")
    text = c.feed("show interfaces GigabitEthernet0/0")
    assert _counter(text, r"Received (\d+) broadcasts") == broadcasts + 1  # ISP's ARP request
    assert _counter(text, r"(\d+) multicast, 0 pause input") == 0


def test_unknown_protocol_drops_count_frames_of_another_ethertype(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    stack = c.lab.routers["R1"].stack
    assert stack is not None
    ipv6 = EthernetFrame(stack.mac("GigabitEthernet0/0"), bytes.fromhex("02aabbccddee"),
                         0x86DD, bytes(60))
    stack.receive("GigabitEthernet0/0", push_ethernet(ipv6))
    text = c.feed("show interfaces GigabitEthernet0/0")
    assert "     1 unknown protocol drops\n" in text


def test_last_input_and_output_age_on_the_virtual_clock(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    c.feed("ping 198.51.100.2 repeat 1")
    c.feed("@wait 125")
    text = c.feed("show interfaces GigabitEthernet0/0")
    assert "  Last input 00:02:05, output 00:02:05, output hang never\n" in text
    assert "  Last input never, output never, output hang never\n" in c.feed(
        "show interfaces GigabitEthernet0/3")
    c.feed("@wait 86400")
    assert "  Last input 1d00h, output 1d00h," in c.feed("show interfaces GigabitEthernet0/0")


def test_rate_meter_reads_a_steady_rate_and_decays() -> None:
    meter = RateMeter()
    t = 0.0
    while t < 6 * LOAD_INTERVAL:  # 1250 bytes every 10 ms: 1,000,000 bits/sec, 100 pkt/s
        meter.add(t, 1250)
        t += 0.01
    bits, packets = meter.rates(t)
    assert abs(bits - 1_000_000) < 10_000 and abs(packets - 100) < 1
    bits_later, _ = meter.rates(t + LOAD_INTERVAL)  # five quiet minutes: down to 1/e
    assert abs(bits_later - bits / 2.718281828) < 1000


def test_rates_follow_the_traffic(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    c.feed("ping 198.51.100.2 repeat 500 size 1500")
    text = c.feed("show interfaces GigabitEthernet0/0")
    # 500 frames of 1514 bytes in a few seconds: 6,056,000 bits over a 300 s average
    assert "  5 minute input rate 20000 bits/sec, 2 packets/sec\n" in text
    c.feed("@wait 3000")
    assert "  5 minute input rate 0 bits/sec, 0 packets/sec\n" in c.feed(
        "show interfaces GigabitEthernet0/0")


def test_clear_counters_asks_and_restarts_the_counters(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    c.feed("ping 198.51.100.2 repeat 3")
    assert c.feed("clear counters GigabitEthernet0/0") == ""
    assert c.prompt == 'Clear "show interface" counters on this interface [confirm]'
    c.feed("n")  # anything but y or RETURN keeps them
    assert _packets(c)[0] > 0
    c.feed("clear counters GigabitEthernet0/0")
    out = c.feed("")
    assert "%CLEAR-5-COUNTERS: Clear counter on interface GigabitEthernet0/0 by console" in out
    assert _packets(c) == (0, 0, 0, 0)
    assert _packets(c, "GigabitEthernet0/1")[0] > 0  # only the one named
    c.feed("@wait 7")
    assert '  Last clearing of "show interface" counters 00:00:07\n' in c.feed(
        "show interfaces GigabitEthernet0/0")
    assert '  Last clearing of "show interface" counters never\n' in c.feed(
        "show interfaces GigabitEthernet0/1")
    c.feed("clear counters")
    assert c.prompt == 'Clear "show interface" counters on all interfaces [confirm]'
    out = c.feed("y")
    assert "%CLEAR-5-COUNTERS: Clear counter on all interfaces by console" in out
    assert _packets(c, "GigabitEthernet0/1") == (0, 0, 0, 0)
    for bad in ("clear counters GigabitEthernet0/9", "clear counters Foo0"):
        out = c.feed(bad)
        assert "% Invalid input detected at '^' marker." in out and "[confirm]" not in out


def test_interface_resets_count_shutdown_and_no_shutdown(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    run(c, "conf t\ninterface GigabitEthernet0/3\nno shutdown\nshutdown\nend\n")
    assert "     0 output errors, 0 collisions, 2 interface resets\n" in c.feed(
        "show interfaces GigabitEthernet0/3")


def test_show_interfaces_description(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    run(c, "conf t\ninterface Loopback5\ndescription Management loopback\n"
           "interface GigabitEthernet0/3\nno shutdown\nend\n")
    assert c.feed("show interfaces description") == (
        "Interface                      Status         Protocol Description\n"
        "Gi0/0                          up             up       Link to ISP\n"
        "Gi0/1                          up             up       LAN 192.168.1.0/24\n"
        "Gi0/2                          admin down     down     \n"
        "Gi0/3                          down           down     \n"
        "Lo5                            up             up       Management loopback\n")


def test_a_loopback_has_no_arp_entry_and_announces_nothing(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    run(c, "conf t\ninterface Loopback0\nip address 10.1.1.1 255.255.255.255\nend\n")
    for command in ("show arp", "show ip arp"):
        text = c.feed(command)
        assert "10.1.1.1" not in text and "Loopback0" not in text
        assert "Internet  198.51.100.1            -   " in text
    assert "     0 packets output, 0 bytes, 0 underruns\n" in c.feed("show interfaces Loopback0")
    assert c.feed("show ip arp") == c.feed("show arp")


# ------------------------------------------------------------ show ip interface


def test_show_ip_interface_reads_the_live_config(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    intf = c.lab.routers["R1"].config.interfaces["GigabitEthernet0/0"]
    text = c.feed("show ip interface GigabitEthernet0/0")
    assert "  Outgoing access list is not set\n  Inbound Common access list is not set \n" \
           "  Inbound  access list is not set\n" in text
    assert "  Address determined by non-volatile memory\n" in text
    # what "ip access-group 101 in", "ip access-group OUTSIDE_OUT out" and "no ip
    # unreachables" leave on the interface
    intf.access_group_in, intf.access_group_out = "101", "OUTSIDE_OUT"  # type: ignore[attr-defined]
    intf.unreachables = False  # type: ignore[attr-defined]
    text = c.feed("show ip interface GigabitEthernet0/0")
    assert "  Outgoing access list is OUTSIDE_OUT\n" in text
    assert "  Inbound  access list is 101\n" in text
    assert "  Input features: Access List, MCI Check\n" in text
    assert "  ICMP unreachables are never sent\n" in text
    run(c, "conf t\ninterface GigabitEthernet0/0\nip nat outside\n"
           "ip address 198.51.100.1 255.255.255.252\nshutdown\nend\n")
    text = c.feed("show ip interface GigabitEthernet0/0")
    assert text.startswith("GigabitEthernet0/0 is administratively down, line protocol is "
                           "down\n  Internet address is 198.51.100.1/30\n")
    assert "  Address determined by setup command\n" in text
    assert "  Network address translation is enabled, interface in domain outside\n" in text
    assert '        Topology "base", operation state is DOWN\n' in text
    assert c.feed("show ip interface GigabitEthernet0/2") == (
        "GigabitEthernet0/2 is administratively down, line protocol is down\n"
        "  Internet protocol processing disabled\n")
    every = c.feed("show ip interface")
    assert [ln for ln in every.splitlines() if not ln.startswith(" ")] == [
        f"GigabitEthernet0/{n} is {'up' if n == 1 else 'administratively down'}, "
        f"line protocol is {'up' if n == 1 else 'down'}" for n in range(4)]


# ------------------------------------------------------------ show ip route A.B.C.D


def test_show_ip_route_address_equal_cost_paths_and_interface_routes(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    run(c, "conf t\nip route 172.16.0.0 255.255.0.0 198.51.100.2\n"
           "ip route 172.16.0.0 255.255.0.0 192.168.1.10\n"
           "ip route 172.20.1.0 255.255.255.0 GigabitEthernet0/1\n"
           "ip route 10.8.0.0 255.255.0.0 GigabitEthernet0/0 198.51.100.2\nend\n")
    assert c.feed("show ip route 172.16.9.9") == (
        "Routing entry for 172.16.0.0/16\n"
        '  Known via "static", distance 1, metric 0\n'
        "  Routing Descriptor Blocks:\n"
        "  * 198.51.100.2\n"
        "      Route metric is 0, traffic share count is 1\n"
        "    192.168.1.10\n"
        "      Route metric is 0, traffic share count is 1\n\n")
    assert c.feed("show ip route 172.20.1.1") == (
        "Routing entry for 172.20.1.0/24\n"
        '  Known via "static", distance 1, metric 0 (connected)\n'
        "  Routing Descriptor Blocks:\n"
        "  * directly connected, via GigabitEthernet0/1\n"
        "      Route metric is 0, traffic share count is 1\n\n")
    assert "  * 198.51.100.2, via GigabitEthernet0/0\n" in c.feed("show ip route 10.8.1.1")
    assert c.feed("show ip route 172.20.2.1") == "% Subnet not in table\n"
    assert c.feed("show ip route 9.9.9.9") == "% Network not in table\n"
    out = c.feed("show ip route 300.1.1.1")
    assert "% Invalid input detected at '^' marker." in out
