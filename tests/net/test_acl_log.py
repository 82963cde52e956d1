"""Access-list logging (``iosim.net.acl_log``): the message of each kind of flow, the first
packet logged at once, the rest counted and reported every five minutes, quiet flows
forgotten, nothing logged by entries without ``log``, a reboot forgetting the flows."""

from __future__ import annotations

from pathlib import Path

from labkit import ISP_ROUTES, marks, run
from labkit import console as lab_console

from iosim.lab.console import LabConsole
from iosim.net.acl_log import LOG_INTERVAL, flow_text
from iosim.net.packets import IpProtocol, Ipv4Packet, ip_to_int

SRC, DST = ip_to_int("10.1.1.1"), ip_to_int("10.2.2.2")


def _packet(protocol: int, payload: bytes, offset: int = 0) -> Ipv4Packet:
    return Ipv4Packet(protocol=protocol, src=SRC, dst=DST, payload=payload,
                      fragment_offset=offset)


def test_each_kind_of_flow_has_its_message() -> None:
    tcp = _packet(IpProtocol.TCP, bytes.fromhex("2af80017") + bytes(16))  # 11000 -> 23
    assert flow_text(tcp, standard=False) == (
        "IPACCESSLOGP", "tcp 10.1.1.1(11000) -> 10.2.2.2(23)")
    udp = _packet(IpProtocol.UDP, bytes.fromhex("01f401f4") + bytes(4))  # 500 -> 500
    assert flow_text(udp, standard=False) == (
        "IPACCESSLOGP", "udp 10.1.1.1(500) -> 10.2.2.2(500)")
    unreachable = _packet(IpProtocol.ICMP, bytes((3, 13)) + bytes(6))
    assert flow_text(unreachable, standard=False) == (
        "IPACCESSLOGDP", "icmp 10.1.1.1 -> 10.2.2.2 (3/13)")
    esp = _packet(50, bytes(40))
    assert flow_text(esp, standard=False) == ("IPACCESSLOGNP", "50 10.1.1.1 -> 10.2.2.2")
    # a non-first fragment has no ports; a standard list logs protocol 0
    assert flow_text(_packet(IpProtocol.UDP, bytes(8), offset=10), standard=False) == (
        "IPACCESSLOGNP", "17 10.1.1.1 -> 10.2.2.2")
    assert flow_text(tcp, standard=True) == ("IPACCESSLOGNP", "0 10.1.1.1 -> 10.2.2.2")
    # a transport header too short for ports is logged by protocol number
    assert flow_text(_packet(IpProtocol.TCP, b"\x2a"), standard=False) == (
        "IPACCESSLOGNP", "6 10.1.1.1 -> 10.2.2.2")


LOGGED = """\
@ISP
configure terminal
access-list 101 deny icmp any host 10.0.2.10 echo log
access-list 101 permit icmp any any echo
access-list 101 permit ip any any log
interface GigabitEthernet0/0
ip access-group 101 in
end
"""


def _sec(console: LabConsole) -> list[str]:
    """The access-list messages in the ISP's log, without their timestamps."""
    console.feed("@ISP")
    return [line.split(": ", 1)[1] for line in console.feed("show logging").splitlines()
            if "%SEC-6-IPACCESSLOG" in line]


def test_first_packet_at_once_the_rest_every_five_minutes(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    run(console, ISP_ROUTES)
    run(console, LOGGED)
    assert marks(run(console, "@PC1\nping 10.0.2.10\n")) == ["U.U.U"]
    denied = "%SEC-6-IPACCESSLOGDP: list 101 denied icmp 192.168.1.10 -> 10.0.2.10 (8/0)"
    assert _sec(console) == [f"{denied}, 1 packet"]
    # an echo to 10.0.2.1 matches the entry without log: nothing more is logged
    assert marks(run(console, "@PC1\nping 10.0.2.1\n")) == ["!!!!!"]
    assert _sec(console) == [f"{denied}, 1 packet"]
    run(console, f"@wait {LOG_INTERVAL:.0f}\n")
    assert _sec(console) == [f"{denied}, 1 packet", f"{denied}, 4 packets"]
    # a quiet interval: nothing to report, and the flow is forgotten
    run(console, f"@wait {LOG_INTERVAL:.0f}\n")
    assert len(_sec(console)) == 2
    run(console, f"@wait {LOG_INTERVAL:.0f}\n")
    assert marks(run(console, "@PC1\nping 10.0.2.10 repeat 1\n")) == ["U"]
    assert _sec(console)[2:] == [f"{denied}, 1 packet"]
    # a reboot forgets the flow: the first packet after it is logged at once
    run(console, "@ISP\ncopy running-config startup-config\n\nreload\n\n@wait 60\n\nenable\n")
    run(console, "@PC1\nping 10.0.2.10 repeat 2\n")
    assert _sec(console) == [f"{denied}, 1 packet"]  # the log buffer starts again too


def test_a_permit_with_log_reports_other_protocols_by_number(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    run(console, ISP_ROUTES)
    run(console, LOGGED)
    run(console, "@R1\nconfigure terminal\ninterface Tunnel0\nip address 172.16.0.1 "
                 "255.255.255.252\ntunnel source GigabitEthernet0/0\n"
                 "tunnel destination 10.0.2.1\nkeepalive 5 3\nend\n@wait 11\n")
    gre = [m for m in _sec(console) if "IPACCESSLOGNP" in m]
    assert gre[0] == ("%SEC-6-IPACCESSLOGNP: list 101 permitted 47 198.51.100.1 -> 10.0.2.1, "
                      "1 packet")
