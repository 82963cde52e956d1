"""The extended ping dialog: IOS's questions, one answer per line, then a real ping."""

from __future__ import annotations

from pathlib import Path

from labkit import ISP_ROUTES
from labkit import console as _console

from iosim.lab.console import Lab, LabConsole
from iosim.net.packets import EtherType, IpProtocol, pull_ethernet, pull_ipv4


def _transcript(console: LabConsole, answers: list[str]) -> list[str]:
    """What the screen shows: each prompt with the answer typed after it, then output."""
    text = ""
    for line in answers:
        text += console.prompt + line + "\n" + console.feed(line)
    return (text + console.prompt).splitlines()


def test_defaults_ping_as_the_one_line_command_does(tmp_path: Path) -> None:
    console = _console(tmp_path)
    lines = _transcript(console, ["ping", "", "198.51.100.2", "", "", "", "", ""])
    assert lines == [
        "R1#ping",
        "Protocol [ip]: ",
        "Target IP address: 198.51.100.2",
        "Repeat count [5]: ",
        "Datagram size [100]: ",
        "Timeout in seconds [2]: ",
        "Extended commands [n]: ",
        "Sweep range of sizes [n]: ",
        "Type escape sequence to abort.",
        "Sending 5, 100-byte ICMP Echos to 198.51.100.2, timeout is 2 seconds:",
        "!!!!!",
        "Success rate is 100 percent (5/5), round-trip min/avg/max = 10/10/10 ms",
        "R1#",
    ]


def test_extended_commands_set_the_source_and_the_df_bit(tmp_path: Path) -> None:
    console = _console(tmp_path)
    for line in ISP_ROUTES.splitlines():
        console.feed(line)
    console.feed("ping 10.0.2.10 source 192.168.1.1")  # ARP along the path
    lab = console.lab
    lab.fabric.capture()
    lines = _transcript(console, ["ping", "ip", "10.0.2.10", "3", "200", "1", "y", "",
                                  "GigabitEthernet0/1", "", "yes", "", "", "", ""])
    assert lines[7:] == [
        "Ingress ping [n]: ",
        "Source address or interface: GigabitEthernet0/1",
        "Type of service [0]: ",
        "Set DF bit in IP header? [no]: yes",
        "Validate reply data? [no]: ",
        "Data pattern [0x0000ABCD]: ",
        "Loose, Strict, Record, Timestamp, Verbose[none]: ",
        "Sweep range of sizes [n]: ",
        "Type escape sequence to abort.",
        "Sending 3, 200-byte ICMP Echos to 10.0.2.10, timeout is 1 seconds:",
        "Packet sent with a source address of 192.168.1.1",
        "Packet sent with the DF bit set",
        "!!!",
        "Success rate is 100 percent (3/3), round-trip min/avg/max = 22/22/22 ms",
        "R1#",
    ]
    link = lab.fabric.link_of("R1", "GigabitEthernet0/0")
    assert link is not None
    sent = [pull_ipv4(pull_ethernet(f).payload) for _, f in link.captured
            if pull_ethernet(f).ethertype == EtherType.IPV4]
    echoes = [p for p in sent if p.protocol == IpProtocol.ICMP and p.dst != p.src
              and p.src == 0xC0A80101]
    assert len(echoes) == 3
    assert all(p.df and len(p.payload) + 20 == 200 for p in echoes)


def test_a_sweep_sends_every_size_and_wraps_at_70_marks(tmp_path: Path) -> None:
    console = _console(tmp_path)
    console.feed("ping 198.51.100.2")
    lines = _transcript(console, ["ping", "", "198.51.100.2", "1", "", "", "", "y", "36",
                                  "135", ""])
    assert lines[8:] == [
        "Sweep min size [36]: 36",
        "Sweep max size [18024]: 135",
        "Sweep interval [1]: ",
        "Type escape sequence to abort.",
        "Sending 100, [36..135]-byte ICMP Echos to 198.51.100.2, timeout is 2 seconds:",
        "!" * 70,
        "!" * 30,
        "Success rate is 100 percent (100/100), round-trip min/avg/max = 10/10/10 ms",
        "R1#",
    ]


def test_bad_answers_are_answered_as_ios_does(tmp_path: Path) -> None:
    console = _console(tmp_path)
    assert _transcript(console, ["ping", "appletalk"])[2:] == [
        '% Unknown protocol - "appletalk", type "ping ?" for help', "R1#"]
    assert _transcript(console, ["ping", "", "10.0.2"])[3:] == ["% Bad IP address", "R1#"]
    assert _transcript(console, ["ping", "", "10.0.2.10", "0"])[4:] == [
        "% A decimal number between 1 and 2147483647.", "R1#"]
    assert _transcript(console, ["ping", "", "10.0.2.10", "", "20"])[5:] == [
        "% A decimal number between 36 and 18024.", "R1#"]
    assert _transcript(console, ["ping", "", "10.0.2.10", "", "", "4000"])[6:] == [
        "% A decimal number between 0 and 3600.", "R1#"]
    # a yes/no question is asked again
    assert _transcript(console, ["ping", "", "10.0.2.10", "", "", "", "maybe"])[7:] == [
        "% Please answer 'yes' or 'no'.", "Extended commands [n]: "]
    console.feed("n")
    assert console.prompt == "Sweep range of sizes [n]: "
    console.feed("n")  # pings (and fails: no route back from the ISP)
    assert _transcript(console, ["ping", "", "10.0.2.10", "", "", "", "y", "",
                                 "Serial9/9"])[9:] == [
        "% Invalid source. Must use same-VRF IP address or full interface name without "
        "spaces (e.g. Serial0/1)", "R1#"]
    lines = _transcript(console, ["ping", "", "10.0.2.10", "", "", "", "y", "", "", "", "",
                                  "", "", "bogus"])
    # IOS prints the question again right after the message, on the same line
    assert lines[-1] == (
        '% No such option - "bogus"Loose, Strict, Record, Timestamp, Verbose[none]: ')
    assert console.prompt == "Loose, Strict, Record, Timestamp, Verbose[none]: "


def test_user_exec_has_no_dialog(tmp_path: Path) -> None:
    console = LabConsole(Lab.load(nvram_dir=tmp_path), paging=False)
    assert console.feed("ping") == "% Incomplete command.\n\n"
    assert console.session.pending is None
