"""%CRYPTO-4-RECVD_PKT_NOT_IPSEC: cleartext that a crypto map, or a protected tunnel, says
must arrive inside IPsec is dropped and logged, at most once a minute for the router."""

from __future__ import annotations

import re
from pathlib import Path

from labkit import ISP_ROUTES, inject, marks, reload_r2_unsaved, run, seeded
from tunnelkit import PING, R1_WAN, R2_WAN, tunnel_lab

from iosim.ipsec.not_ipsec import LOG_INTERVAL, not_ipsec_message
from iosim.ipsec.router_crypto import RouterCrypto
from iosim.lab.console import LabConsole
from iosim.lab.runner import run_lab
from iosim.net.gre import PROTOCOL_IPV4, GrePacket, push_gre
from iosim.net.packets import (
    IpProtocol,
    Ipv4Packet,
    UdpDatagram,
    ip_to_int,
    push_ipv4,
    push_udp,
)

NOT_IPSEC = "%CRYPTO-4-RECVD_PKT_NOT_IPSEC"
#: R1 forgets its crypto map: its LAN's traffic for R2's LAN leaves in clear, and the ISP
#: (given routes to the LANs) carries it to R2, whose crypto map says it must be ESP.
R1_IN_CLEAR = ISP_ROUTES + "conf t\ninterface GigabitEthernet0/0\nno crypto map MYMAP\nend\n"
ICMP_FROM_R1_LAN = ("%CRYPTO-4-RECVD_PKT_NOT_IPSEC: Rec'd packet not an IPSEC packet. (ip) "
                    "vrf/dest_addr= /10.0.2.10, src_addr= 192.168.1.1, prot= 1")
_STAMP = re.compile(r"^\*\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: ")


def _logged(c: LabConsole, device: str) -> list[str]:
    """The RECVD_PKT_NOT_IPSEC lines ``device`` logged, each with its timestamp checked and
    taken off."""
    lines = [ln for ln in c.lab.routers[device].log_buffer if NOT_IPSEC in ln]
    for ln in lines:
        assert _STAMP.match(ln), ln
    return [_STAMP.sub("", ln) for ln in lines]


def _crypto(c: LabConsole, device: str) -> RouterCrypto:
    plane = c.lab.routers[device].crypto_plane
    assert isinstance(plane, RouterCrypto)
    return plane


def test_the_message_names_the_packet_as_it_arrived() -> None:
    assert not_ipsec_message(ip_to_int("62.25.122.10"), ip_to_int("62.25.122.11"), 132) == (
        "%CRYPTO-4-RECVD_PKT_NOT_IPSEC: Rec'd packet not an IPSEC packet. (ip) "
        "vrf/dest_addr= /62.25.122.10, src_addr= 62.25.122.11, prot= 132")


def test_cleartext_a_crypto_map_requires_encrypted_is_logged_once(tmp_path: Path) -> None:
    c = seeded(tmp_path)
    run(c, R1_IN_CLEAR)
    out = c.feed("ping 10.0.2.10 source 192.168.1.1")
    assert marks(out) == ["....."]  # R2 drops every echo
    # five echoes inside the minute: one message, on R2 only, in show logging
    assert _logged(c, "R2") == [ICMP_FROM_R1_LAN]
    assert _logged(c, "R1") == []
    log = run(c, "@R2\nshow logging")
    assert f": {ICMP_FROM_R1_LAN}\n" in log
    counters = _crypto(c, "R2").datapath.not_ipsec.counters
    assert (counters.packets, counters.logged, counters.quiet) == (5, 1, 4)


def test_the_message_comes_again_only_after_a_minute_whatever_the_flow(tmp_path: Path
                                                                       ) -> None:
    c = seeded(tmp_path)
    run(c, R1_IN_CLEAR)
    c.feed("ping 10.0.2.10 source 192.168.1.1 repeat 1")
    assert _logged(c, "R2") == [ICMP_FROM_R1_LAN]
    # another flow (UDP from another host), before the minute is out: dropped, not logged
    src, dst = ip_to_int("192.168.1.20"), ip_to_int("10.0.2.10")
    udp = push_ipv4(Ipv4Packet(protocol=IpProtocol.UDP, src=src, dst=dst,
                               payload=push_udp(UdpDatagram(40000, 33434, b"probe"), src,
                                                dst)))
    run(c, f"@wait {int(LOG_INTERVAL) - 5}\n")
    inject(c, "R2", udp)  # one second passes
    assert _logged(c, "R2") == [ICMP_FROM_R1_LAN]
    run(c, "@wait 5\n")  # the minute is out
    inject(c, "R2", udp)
    assert _logged(c, "R2") == [ICMP_FROM_R1_LAN, (
        "%CRYPTO-4-RECVD_PKT_NOT_IPSEC: Rec'd packet not an IPSEC packet. (ip) "
        "vrf/dest_addr= /10.0.2.10, src_addr= 192.168.1.20, prot= 17")]
    stamps = [ln[:20] for ln in c.lab.routers["R2"].log_buffer if NOT_IPSEC in ln]
    assert stamps[0] != stamps[1]


def test_a_reload_starts_the_minute_afresh(tmp_path: Path) -> None:
    c = seeded(tmp_path)
    run(c, R1_IN_CLEAR)
    c.feed("ping 10.0.2.10 source 192.168.1.1 repeat 1")
    assert _logged(c, "R2") == [ICMP_FROM_R1_LAN]
    reload_r2_unsaved(c)
    before = len(_logged(c, "R2"))
    c.feed("ping 10.0.2.10 source 192.168.1.1 repeat 1")
    assert _logged(c, "R2")[before:] == [ICMP_FROM_R1_LAN]


def test_protected_traffic_and_ike_are_never_reported(tmp_path: Path) -> None:
    c = seeded(tmp_path)
    run(c, ISP_ROUTES)
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]
    # traffic the crypto ACL does not cover crosses in clear without a word
    assert marks(c.feed("ping 203.0.113.2")) == ["!!!!!"]
    for device in ("R1", "R2"):
        assert _logged(c, device) == []
        assert _crypto(c, device).datapath.not_ipsec.counters.packets == 0


def test_it_goes_through_the_routers_logging_levels(tmp_path: Path) -> None:
    c = seeded(tmp_path)
    run(c, R1_IN_CLEAR)
    ping = "@R1\nping 10.0.2.10 source 192.168.1.1 repeat 1\n"
    # R2's console shows it when the console comes back to R2 (messages wait for it)
    run(c, ping)
    assert ICMP_FROM_R1_LAN in c.feed("@R2")
    # severity 4: hidden from a console at errors (3), kept by a buffer at warnings (4)
    run(c, "conf t\nlogging console errors\nlogging buffered 8192 warnings\nend\n"
           "@wait 60\n" + ping)
    assert NOT_IPSEC not in c.feed("@R2")
    assert f": {ICMP_FROM_R1_LAN}\n" in c.feed("show logging")
    # a buffer at errors takes no more of them (it keeps the one it has)
    run(c, "conf t\nlogging buffered 8192 errors\nlogging console warnings\nend\n"
           "@wait 60\n" + ping)
    assert ICMP_FROM_R1_LAN in c.feed("@R2")
    assert c.feed("show logging").split("Log Buffer", 1)[1].count(NOT_IPSEC) == 1
    # no logging console: never on the console, still counted
    run(c, "conf t\nno logging console\nend\n@wait 60\n" + ping)
    assert NOT_IPSEC not in c.feed("@R2")
    assert _crypto(c, "R2").datapath.not_ipsec.counters.logged == 4


def test_clear_gre_for_a_protected_tunnel_is_logged(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, protect=True)
    run(c, "@wait 5\n")
    assert marks(run(c, PING)) == ["!!!!!"]
    assert _logged(c, "R1") == [] and _logged(c, "R2") == []  # protected GRE: no word
    inner = push_ipv4(Ipv4Packet(protocol=IpProtocol.ICMP, src=ip_to_int("10.0.2.10"),
                                 dst=ip_to_int("192.168.1.1"), payload=b"\x08" + bytes(7)))
    forged = push_ipv4(Ipv4Packet(protocol=IpProtocol.GRE, src=ip_to_int(R2_WAN),
                                  dst=ip_to_int(R1_WAN),
                                  payload=push_gre(GrePacket(PROTOCOL_IPV4, inner))))
    inject(c, "R1", forged)
    inject(c, "R1", forged)
    assert _logged(c, "R1") == [
        "%CRYPTO-4-RECVD_PKT_NOT_IPSEC: Rec'd packet not an IPSEC packet. (ip) "
        f"vrf/dest_addr= /{R1_WAN}, src_addr= {R2_WAN}, prot= 47"]
    assert _crypto(c, "R1").datapath.not_ipsec.counters.packets == 2


def test_gre_over_ipsec_with_protection_removed_on_one_side() -> None:
    """The gre-over-ipsec lab, solved, then R1 loses its tunnel protection: R2 drops R1's
    clear GRE and says so, once a minute however much comes."""
    result = run_lab("gre-over-ipsec", solution=True)
    c = LabConsole(result.lab, paging=False)
    run(c, "@R1\nenable\nconf t\ninterface Tunnel0\n"
           "no tunnel protection ipsec profile GRE_PROTECT\nend\n@wait 5\n")
    line = ("%CRYPTO-4-RECVD_PKT_NOT_IPSEC: Rec'd packet not an IPSEC packet. (ip) "
            "vrf/dest_addr= /203.0.113.2, src_addr= 198.51.100.1, prot= 47")
    assert marks(run(c, "@PC1\nping 10.0.2.10\n")) == ["....."]
    assert _logged(c, "R2") == [line]
    assert marks(run(c, "@wait 30\nping 10.0.2.10\n")) == ["....."]
    assert _logged(c, "R2") == [line]  # 40 s after the first: still quiet
    run(c, "@wait 40\nping 10.0.2.10\n")
    assert _logged(c, "R2") == [line, line]
    assert _logged(c, "R1") == []
