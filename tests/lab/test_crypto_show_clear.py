"""The remaining ``show crypto`` / ``clear crypto`` variants on the seed's VPN: ipsec sa
detail / address / interface, crypto session detail / remote, clear crypto isakmp CONN-ID,
clear crypto session."""

from __future__ import annotations

import re
from pathlib import Path

from labkit import captured_ipv4, inject, marks, run, seeded

from iosim.lab.console import LabConsole
from iosim.net.packets import (
    IpProtocol,
    Ipv4Packet,
    ip_to_int,
    pull_ipv4,
    push_ipv4,
)

PING = "ping 10.0.2.10 source 192.168.1.1"

#: The ISP as a second peer of R1: R1 protects 192.168.1.1 -> 198.51.100.2 with it.
ISP_PEER = """\
@ISP
enable
conf t
ip route 192.168.1.0 255.255.255.0 198.51.100.1
crypto isakmp policy 10
encryption aes 256
hash sha256
authentication pre-share
group 14
exit
crypto isakmp key ISPKEY address 198.51.100.1
crypto ipsec transform-set MYSET esp-aes 256 esp-sha256-hmac
exit
ip access-list extended TO_R1
permit ip host 198.51.100.2 host 192.168.1.1
exit
crypto map ISPMAP 10 ipsec-isakmp
set peer 198.51.100.1
set transform-set MYSET
match address TO_R1
exit
interface GigabitEthernet0/0
crypto map ISPMAP
end
@R1
conf t
crypto isakmp key ISPKEY address 198.51.100.2
ip access-list extended TO_ISP
permit ip host 192.168.1.1 host 198.51.100.2
exit
crypto map MYMAP 20 ipsec-isakmp
set peer 198.51.100.2
set transform-set MYSET
match address TO_ISP
end
"""


def _seed(tmp_path: Path, capture: bool = False, r1_extra: str = "") -> LabConsole:
    """R1 and R2 configured as the seed has them, neighbours' ARP warm, R1 attached."""
    return seeded(tmp_path, capture=capture, r1_extra=r1_extra)


def _r2_inject(console: LabConsole, datagram: bytes) -> None:
    inject(console, "R2", datagram)


def _esp_to_r2(console: LabConsole) -> list[bytes]:
    """The ESP datagrams R1 sent towards R2 (from the capture of R1's outside link)."""
    return [push_ipv4(ip) for _, ip in captured_ipv4(console, "R1")
            if ip.protocol == IpProtocol.ESP and ip.dst == ip_to_int("203.0.113.2")]


def _counter(text: str, label: str) -> int:
    found = re.search(re.escape(label) + r":? (\d+)", text)
    assert found is not None, label
    return int(found.group(1))


# ------------------------------------------------------------ show crypto ipsec sa detail


def test_ipsec_sa_detail_counts_verify_and_replay_failures(tmp_path: Path) -> None:
    console = _seed(tmp_path, capture=True)
    assert marks(console.feed(PING)) == [".!!!!"]
    console.feed("@R2")
    clean = console.feed("show crypto ipsec sa detail")
    assert "    #pkts no sa (send) 0, #pkts invalid sa (rcv) 0\n" in clean
    assert "    #pkts encaps failed (send) 0, #pkts decaps failed (rcv) 0\n" in clean
    assert "    #pkts invalid prot (recv) 0, #pkts verify failed: 0\n" in clean
    assert "    ##pkts replay failed (rcv): 0\n" in clean
    assert "    #pkts internal err (send): 0, #pkts internal err (recv) 0\n" in clean
    assert "#send errors" not in clean  # detail spells the errors out instead
    assert "        replay detection support: Y  replay window size: 64\n" in clean
    # a packet R1 really sent, replayed; then the same packet with its ICV broken
    sent = _esp_to_r2(console)
    assert sent
    _r2_inject(console, sent[-1])
    broken = bytearray(sent[-1])
    broken[-1] ^= 0xFF
    bundle = console.lab.routers["R2"].crypto_plane.sad.bundles[0]  # type: ignore[union-attr]
    # a fresh sequence number, so that only the ICV check can refuse it
    packet = pull_ipv4(bytes(broken))
    esp = bytearray(packet.payload)
    esp[4:8] = (bundle.inbound.replay.top + 1).to_bytes(4, "big")
    _r2_inject(console, push_ipv4(Ipv4Packet(protocol=IpProtocol.ESP, src=packet.src,
                                             dst=packet.dst, payload=bytes(esp))))
    after = console.feed("show crypto ipsec sa detail")
    assert _counter(after, "##pkts replay failed (rcv)") == 1
    assert _counter(after, "#pkts verify failed") == 1
    assert _counter(after, "#pkts decaps failed (rcv)") == 0
    assert _counter(after, "#pkts decaps") == 4  # neither counted as decapsulated
    plain = console.feed("show crypto ipsec sa")
    assert "    #send errors 0, #recv errors 1\n" in plain
    assert "#pkts verify failed" not in plain
    assert "        replay detection support: Y\n" in plain


def test_ipsec_sa_detail_of_a_peer_and_with_replay_detection_off(tmp_path: Path) -> None:
    console = _seed(tmp_path, r1_extra="crypto ipsec security-association replay disable\n")
    console.feed(PING)
    detail = console.feed("show crypto ipsec sa peer 203.0.113.2 detail")
    assert "interface: GigabitEthernet0/0" in detail and "#pkts verify failed: 0" in detail
    assert detail.count("        replay detection support: N\n") == 2
    assert console.feed("show crypto ipsec sa peer 203.0.113.9 detail").strip() == ""


# ------------------------------------------------------------ address, interface


def test_ipsec_sa_address_groups_the_sas_by_destination(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed(PING)
    full = console.feed("show crypto ipsec sa")
    inbound = full.split("inbound esp sas:\n")[1].split("\n")[0]
    outbound = full.split("outbound esp sas:\n")[1].split("\n")[0]
    assert inbound != outbound
    text = console.feed("show crypto ipsec sa address")
    lines = text.splitlines()
    # lowest destination first: ours (the inbound SA), then the peer's (the outbound one)
    ours = lines.index("dest address: 198.51.100.1")
    theirs = lines.index("dest address: 203.0.113.2")
    assert lines[0] == "" and ours == 1 and theirs > ours
    assert lines[ours + 1:ours + 3] == ["   protocol: ESP", inbound]
    assert lines[theirs + 1:theirs + 3] == ["   protocol: ESP", outbound]
    assert "        conn id: 1, flow_id: SW:1, sibling_flags 80000040, crypto map: MYMAP" \
        in lines[ours:theirs]
    assert "        conn id: 2, flow_id: SW:2, sibling_flags 80000040, crypto map: MYMAP" \
        in lines[theirs:]
    assert text.count("        Status: ACTIVE(ACTIVE)") == 2
    assert "#pkts" not in text and "interface:" not in text


def test_ipsec_sa_interface_shows_only_that_interface(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed(PING)
    full = console.feed("show crypto ipsec sa")
    assert console.feed("show crypto ipsec sa interface GigabitEthernet0/0") == full
    assert console.feed("show crypto ipsec sa int gi0/0") == full
    assert "interface:" not in console.feed("show crypto ipsec sa interface gi0/1")
    detail = console.feed("show crypto ipsec sa interface gi0/0 detail")
    assert "interface: GigabitEthernet0/0" in detail and "##pkts replay failed" in detail
    for bad in ("show crypto ipsec sa interface Foo0/9",
                "show crypto ipsec sa interface GigabitEthernet9/9",
                "show crypto ipsec sa interface"):
        out = console.feed(bad)
        assert out.strip().startswith(("^", "%")) and "Traceback" not in out, out
        assert "% Invalid input" in out or "% Incomplete command." in out


def test_help_lists_the_new_keywords(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    sa = console.feed("show crypto ipsec sa ?")
    for line in ("  address    Display IPSEC SAs sorted by address",
                 "  detail     detailed error counters",
                 "  interface  Display IPSEC SAs on an interface",
                 "  peer       Display IPSEC SAs for a peer"):
        assert line in sa.splitlines()
    session = console.feed("show crypto session ?").splitlines()
    assert "  detail  Crypto Session Detail Info" in session
    assert "  remote  Remote IKE Address" in session
    assert "  session  Clear crypto sessions (tunnels)" in console.feed(
        "clear crypto ?").splitlines()
    assert "  A.B.C.D  IP address of remote crypto endpoint" in console.feed(
        "clear crypto session remote ?").splitlines()


# ------------------------------------------------------------ show crypto session detail


def test_session_detail_before_the_tunnel_is_up(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    text = console.feed("show crypto session detail")
    assert text.startswith("Crypto session current status\n\n"
                           "Code: C - IKE Configuration mode, D - Dead Peer Detection     \n")
    block = text.split("Interface: GigabitEthernet0/0\n")[1]
    assert block.splitlines()[:4] == [
        "Session status: DOWN          ",
        "Peer: 203.0.113.2 port 500 fvrf: (none) ivrf: (none)",
        "      Desc: (none)",
        "      Phase1_id: (none)"]
    assert "Uptime:" not in text and "IKEv1 SA" not in text
    assert "        Inbound:  #pkts dec'ed 0 drop 0 life (KB/Sec) 0/0\n" in block
    assert "        Outbound: #pkts enc'ed 0 drop 0 life (KB/Sec) 0/0\n" in block


def test_session_detail_reports_live_state(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed(PING)
    console.feed("@wait 100")
    console.feed(PING)
    text = console.feed("show crypto session detail")
    lines = text.split("Interface: GigabitEthernet0/0\n")[1].splitlines()
    uptime = re.fullmatch(r"Uptime: 00:(\d\d):(\d\d)", lines[0])
    assert uptime is not None, lines[0]
    up = int(uptime.group(1)) * 60 + int(uptime.group(2))
    assert 100 <= up <= 110
    assert lines[1:7] == [
        "Session status: UP-ACTIVE     ",
        "Peer: 203.0.113.2 port 500 fvrf: (none) ivrf: (none)",
        "      Phase1_id: 203.0.113.2",
        "      Desc: (none)",
        "  Session ID: 0  ",
        "  IKEv1 SA: local 198.51.100.1/500 remote 203.0.113.2/500 Active "]
    caps = re.fullmatch(r"          Capabilities:\(none\) connid:1001 lifetime:23:(\d\d):(\d\d)",
                        lines[7])
    assert caps is not None, lines[7]
    # uptime and lifetime left add up to the policy's 24 hours (each rounded down)
    left = 23 * 3600 + int(caps.group(1)) * 60 + int(caps.group(2))
    assert up + left in (86399, 86400)
    assert lines[8:10] == [
        "  IPSEC FLOW: permit ip 192.168.1.0/255.255.255.0 10.0.2.0/255.255.255.0 ",
        "        Active SAs: 2, origin: crypto map"]
    inbound = re.fullmatch(r"        Inbound:  #pkts dec'ed 9 drop 0 life \(KB/Sec\) "
                           r"(\d+)/(\d+)", lines[10])
    outbound = re.fullmatch(r"        Outbound: #pkts enc'ed 9 drop 0 life \(KB/Sec\) "
                            r"(\d+)/(\d+)", lines[11])
    assert inbound is not None and outbound is not None, lines[10:12]
    # nine 100-byte echoes: under one kilobyte, and a started kilobyte counts as used
    assert int(inbound.group(1)) == 4607999 and 3480 <= int(inbound.group(2)) <= 3500


def test_session_detail_shows_dpd_capability(tmp_path: Path) -> None:
    console = _seed(tmp_path, r1_extra="crypto isakmp keepalive 10\n")
    console.feed(PING)
    assert re.search(r"\n          Capabilities:D connid:1001 lifetime:23:59:\d\d\n",
                     console.feed("show crypto session detail"))


def test_session_remote_shows_only_that_peer(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed(PING)
    assert console.feed("show crypto session remote 203.0.113.2") == console.feed(
        "show crypto session")
    assert "Interface:" not in console.feed("show crypto session remote 203.0.113.9")
    detail = console.feed("show crypto session remote 203.0.113.2 detail")
    assert "Phase1_id: 203.0.113.2" in detail
    assert "Interface:" not in console.feed("show crypto session remote 203.0.113.9 detail")


# ------------------------------------------------------------ show crypto session brief

_BRIEF_HEAD = [
    "Status: A- Active, U - Up, D - Down, I - Idle, S - Standby, N - Negotiating ",
    "        K - No IKE",
    "ivrf = (none)",
    "Peer            I/F          Username        Group/Phase1_id          Uptime   Status"]


def test_session_brief_follows_the_tunnel(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    assert console.feed("show crypto session brief").splitlines() == [
        *_BRIEF_HEAD,
        "203.0.113.2     Gi0/0                                                          D"]
    console.feed(PING)
    console.feed("@wait 100")
    lines = console.feed("show crypto session brief").splitlines()
    assert lines[:4] == _BRIEF_HEAD
    row = re.fullmatch(r"203\.0\.113\.2     Gi0/0 {24}203\.0\.113\.2 {14}00:01:(\d\d) UA",
                       lines[4])
    assert row is not None and 40 <= int(row.group(1)) <= 50, lines[4]
    assert len(lines) == 5
    console.feed("clear crypto sa")  # phase 1 stays: up, no IPsec SA left
    assert console.feed("show crypto session brief").splitlines()[4].endswith(" UI")


# ------------------------------------------------------------ clear crypto isakmp CONN-ID


def test_clear_crypto_isakmp_conn_id_clears_only_that_sa(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    run(console, ISP_PEER)
    assert marks(console.feed(PING)) == [".!!!!"]
    assert marks(console.feed("ping 198.51.100.2 source 192.168.1.1")) == [".!!!!"]
    table = console.feed("show crypto isakmp sa")
    assert "203.0.113.2     198.51.100.1    QM_IDLE           1001 ACTIVE" in table
    assert "198.51.100.2    198.51.100.1    QM_IDLE           1002 ACTIVE" in table
    assert console.feed("clear crypto isakmp 77") == ""  # no such SA: nothing happens
    assert console.feed("show crypto isakmp sa") == table
    assert console.feed("clear crypto isakmp 1002") == ""
    console.feed("@wait 1")
    table = console.feed("show crypto isakmp sa")
    assert "1001 ACTIVE" in table and "1002" not in table
    # the ISP was told: its ISAKMP SA with R1 is deleted
    console.feed("@ISP")
    assert "QM_IDLE" not in console.feed("show crypto isakmp sa")
    console.feed("@R1")
    # the IPsec SAs outlive their ISAKMP SA
    assert marks(console.feed("ping 198.51.100.2 source 192.168.1.1")) == ["!!!!!"]
    assert marks(console.feed(PING)) == ["!!!!!"]


# ------------------------------------------------------------ clear crypto session


def test_clear_crypto_session_tears_down_both_sides(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    assert marks(console.feed(PING)) == [".!!!!"]
    assert console.feed("clear crypto session") == ""
    console.feed("@wait 1")
    assert "QM_IDLE" not in console.feed("show crypto isakmp sa")
    assert "Session status: DOWN" in console.feed("show crypto session")
    console.feed("@R2")  # the peer got the Delete notifications
    assert "QM_IDLE" not in console.feed("show crypto isakmp sa")
    session = console.feed("show crypto session")
    assert "Session status: DOWN" in session and "Active SAs: 0" in session
    console.feed("@R1")
    assert marks(console.feed(PING)) == [".!!!!"]  # phase 1 and quick mode again
    assert marks(console.feed(PING)) == ["!!!!!"]


def test_clear_crypto_session_remote_spares_the_other_peers(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    run(console, ISP_PEER)
    console.feed(PING)
    console.feed("ping 198.51.100.2 source 192.168.1.1")
    assert console.feed("clear crypto session remote 203.0.113.9") == ""
    assert console.feed("show crypto session").count("Session status: UP-ACTIVE") == 2
    console.feed("clear crypto session remote 203.0.113.2")
    console.feed("@wait 1")
    session = console.feed("show crypto session")
    assert "Peer: 203.0.113.2 port 500 \n  IPSEC FLOW" in session  # no IKE SA left
    assert ("Peer: 198.51.100.2 port 500 \n"
            "  Session ID: 0  \n"
            "  IKEv1 SA: local 198.51.100.1/500 remote 198.51.100.2/500 Active \n"
            "  IPSEC FLOW: permit ip host 192.168.1.1 host 198.51.100.2 \n"
            "        Active SAs: 2, origin: crypto map") in session
    assert marks(console.feed("ping 198.51.100.2 source 192.168.1.1")) == ["!!!!!"]
    assert marks(console.feed(PING)) == [".!!!!"]


def test_after_clear_crypto_sa_the_flow_keeps_its_counts_and_mtu(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    before = console.feed("show crypto ipsec sa")
    assert "     plaintext mtu 1438, path mtu 1500" in before  # from the transform set
    assert "     inbound esp sas:\n\n     inbound ah sas:\n\n" in before
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    console.feed("clear crypto sa")
    after = console.feed("show crypto ipsec sa")
    assert "    #pkts encaps: 4, #pkts encrypt: 4, #pkts digest: 4" in after
    assert "    #pkts decaps: 4, #pkts decrypt: 4, #pkts verify: 4" in after
    assert "     plaintext mtu 1438, path mtu 1500" in after
    assert "     current outbound spi: 0x0(0)" in after
    assert "     outbound esp sas:\n\n     outbound ah sas:\n\n     outbound pcp sas:" in after
