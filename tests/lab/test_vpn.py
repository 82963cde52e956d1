"""The seed's site-to-site VPN end to end: real IKE, real ESP, counters that count."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from labkit import ISP_NAT, captured_ipv4, configure_seed, marks, run, seeded
from labkit import console as lab_console

from iosim.lab.console import LabConsole
from iosim.lab.keys import tshark_options
from iosim.net.packets import (
    EtherType,
    IcmpEcho,
    IpProtocol,
    Ipv4Packet,
    ip_to_int,
    pull_ethernet,
    pull_ipv4,
    push_icmp,
    push_ipv4,
)

HERE = Path(__file__).resolve().parents[1] / "crypto_config" / "transcripts"


def _seed(tmp_path: Path, capture: bool = False) -> LabConsole:
    """R1 and R2 configured as in the seed (section 10 and its mirror), neighbours' ARP warm."""
    return seeded(tmp_path, capture=capture)


def test_the_first_interesting_ping_brings_the_tunnel_up(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    first = console.feed("ping 10.0.2.10 source 192.168.1.1")
    assert marks(first) == [".!!!!"], first
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]
    isakmp = console.feed("show crypto isakmp sa").splitlines()
    assert isakmp[:3] == ["IPv4 Crypto ISAKMP SA",
                          "dst             src             state          conn-id status",
                          "203.0.113.2     198.51.100.1    QM_IDLE           1001 ACTIVE"]
    ipsec = console.feed("show crypto ipsec sa")
    assert "    #pkts encaps: 9, #pkts encrypt: 9, #pkts digest: 9" in ipsec
    assert "    #pkts decaps: 9, #pkts decrypt: 9, #pkts verify: 9" in ipsec
    assert "   local  ident (addr/mask/prot/port): (192.168.1.0/255.255.255.0/0/0)" in ipsec
    assert "     PFS (Y/N): Y, DH group: group14" in ipsec
    assert "        transform: esp-256-aes esp-sha256-hmac ," in ipsec
    console.feed("@R2")
    r2 = console.feed("show crypto ipsec sa")
    assert "    #pkts decaps: 9, #pkts decrypt: 9, #pkts verify: 9" in r2
    # the SPIs agree: R1's outbound is R2's inbound
    out_spi = ipsec.split("current outbound spi: ")[1].split()[0]
    assert f"      spi: {out_spi}" in r2.split("inbound esp sas:")[1]


def test_the_isp_sees_only_esp_between_the_routers(tmp_path: Path) -> None:
    console = _seed(tmp_path, capture=True)
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    link = console.lab.fabric.link_of("R1", "GigabitEthernet0/0")
    assert link is not None
    protocols = []
    for _, frame in link.captured:
        eth = pull_ethernet(frame)
        if eth.ethertype == EtherType.IPV4:
            p = pull_ipv4(eth.payload)
            protocols.append(p.protocol)
            assert not (p.protocol == IpProtocol.ICMP and p.dst == 0x0A00020A)
    assert IpProtocol.ESP in protocols and IpProtocol.UDP in protocols


def test_clear_crypto_sa_renegotiates_with_fresh_spis(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    before = console.feed("show crypto ipsec sa").split("current outbound spi: ")[1].split()[0]
    console.feed("clear crypto sa")
    again = console.feed("ping 10.0.2.10 source 192.168.1.1")
    assert marks(again) == [".!!!!"]  # phase 1 is still up: only quick mode runs
    after = console.feed("show crypto ipsec sa").split("current outbound spi: ")[1].split()[0]
    assert after != before


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not on PATH")
def test_tshark_decrypts_the_capture_with_the_exported_keys(tmp_path: Path) -> None:
    console = _seed(tmp_path, capture=True)
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    (tmp_path / "keys").mkdir()
    out = console.feed(f"@keys {tmp_path / 'keys'}")
    assert "esp_sa" in out and "ikev1_decryption_table" in out
    assert (tmp_path / "keys" / "esp_sa").read_text().count('"IPv4"') == 2
    path = next(p for p in console.lab.fabric.write_pcaps(tmp_path / "pcap")
                if p.name.startswith("R1_GigabitEthernet0-0"))
    base = ["tshark", "-r", str(path), *tshark_options(console.lab)]
    esp = subprocess.run(base + ["-Y", "esp", "-T", "fields", "-e", "esp.icv_good",
                                 "-e", "icmp.type"], capture_output=True, text=True,
                         timeout=60).stdout.split("\n")
    rows = [r.split("\t") for r in esp if r]
    assert rows and all(good == "1" for good, _ in rows)  # every ICV verified
    assert sorted({icmp for _, icmp in rows}) == ["0", "8"]  # inner echo and reply visible
    ike = subprocess.run(base + ["-Y", "isakmp", "-V"], capture_output=True,
                         text=True, timeout=60).stdout
    quick = ike.split("Exchange type: Quick Mode (32)")[1]
    assert "Payload: Hash (8)" in quick and "Payload: Nonce (10)" in quick  # decrypted
    assert "Malformed" not in ike


def test_a_wrong_pre_shared_key_fails_as_ios_fails(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    configure_seed(console, r2_replace={"SECRETKEY123": "WRONGKEY"})
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["....."]
    row = console.feed("show crypto isakmp sa").splitlines()[2]
    assert row.startswith("203.0.113.2     198.51.100.1    MM_KEY_EXCH")
    console.feed("@R2")
    assert any("%CRYPTO-4-IKMP_BAD_MESSAGE: IKE message from 198.51.100.1 failed its sanity "
               "check or is malformed" in ln for ln in console.lab.routers["R2"].log_buffer)
    assert "Session status: DOWN" in console.feed("show crypto session")


def test_tampered_and_unknown_spi_esp_is_dropped_and_the_tunnel_keeps_working(
        tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    r2 = console.lab.routers["R2"]
    assert r2.stack is not None
    bundle = r2.crypto_plane.sad.bundles[0]  # type: ignore[union-attr]
    # an ESP packet for an SPI nobody has, then one with a broken ICV
    for spi, body in ((0x1234, bytes(64)), (bundle.inbound.esp.spi, bytes(64))):
        dgram = push_ipv4(Ipv4Packet(protocol=50, src=ip_to_int("198.51.100.1"),
                                     dst=ip_to_int("203.0.113.2"),
                                     payload=spi.to_bytes(4, "big") + (1000).to_bytes(4, "big")
                                     + body))
        r2.stack._receive_ipv4("GigabitEthernet0/0", dgram)
    assert any("%CRYPTO-4-RECVD_PKT_INV_SPI: decaps: rec'd IPSEC packet has invalid spi for "
               "destaddr=203.0.113.2, prot=50, spi=0x1234(4660), srcaddr=198.51.100.1, "
               "input interface=GigabitEthernet0/0" in ln for ln in r2.log_buffer)
    assert bundle.counters.recv_errors == 1
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]


def test_rekey_under_a_continuous_ping_loses_nothing(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    for router in ("@R1", "@R2"):
        run(console, f"{router}\nconf t\ncrypto map MYMAP 10 ipsec-isakmp\n"
                     "set security-association lifetime seconds 120\nend\n")
    console.feed("@R1")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    first_spi = console.feed("show crypto ipsec sa").split("current outbound spi: ")[1].split()[0]
    # 6,000 echoes at 22 ms take 132 s: past the rekey at 108 s and the old pair's end at 120 s
    out = console.feed("ping 10.0.2.10 source 192.168.1.1 repeat 6000")
    assert "Success rate is 100 percent (6000/6000)" in out
    ipsec = console.feed("show crypto ipsec sa")
    assert ipsec.split("current outbound spi: ")[1].split()[0] != first_spi
    assert ipsec.count("      spi: ") == 2  # only the new pair is left
    assert "    #pkts encaps: 6004, #pkts encrypt: 6004" in ipsec  # the flow's count goes on
    inbound, outbound = (row for row in _engine_rows(console).values() if row[0] == "IPsec")
    decrypted, last_seq = int(inbound[3]), int(inbound[4])
    assert 0 < decrypted == last_seq < 6004  # the new pair's own count, not the flow's
    assert int(outbound[2]) == decrypted  # every echo it sent was answered through it


def test_the_other_crypto_show_commands_tell_the_same_story(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    console.feed("@wait 100")
    detail = console.feed("show crypto isakmp sa detail").splitlines()
    row = detail.index("       Engine-id:Conn-id =  SW:1") - 1
    assert detail[row].startswith(
        "1001  198.51.100.1    203.0.113.2            ACTIVE aes  sha256 psk  14 23:58:")
    assert console.feed("show crypto isakmp peers") == (
        "Peer: 203.0.113.2 Port: 500 Local: 198.51.100.1\n Phase1 id: 203.0.113.2\n")
    session = console.feed("show crypto session")
    assert "Session status: UP-ACTIVE     \n" in session and "Active SAs: 2" in session
    assert "\tCurrent peer: 203.0.113.2\n\tSecurity association lifetime" in console.feed(
        "show crypto map")
    engine = console.feed("show crypto engine connections active").splitlines()
    assert engine[3:6] == [
        "    1  IPsec   AES256+SHA256             0        4        4 198.51.100.1",
        "    2  IPsec   AES256+SHA256             4        0        0 198.51.100.1",
        " 1001  IKE     SHA256+AES256             0        0        0 198.51.100.1"]



def _engine_rows(console: LabConsole) -> dict[int, list[str]]:
    """``show crypto engine connections active``'s rows by conn-id (their other columns)."""
    rows = console.feed("show crypto engine connections active").splitlines()[3:]
    return {int(row.split()[0]): row.split()[1:] for row in rows if row.strip()}


def test_each_engine_connection_counts_the_packets_of_its_own_sa(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]
    console.feed("clear crypto sa")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    rows = _engine_rows(console)
    # the new pair (conn-ids 3 and 4) carried the last ping's 4 echoes and 4 replies
    assert rows[3] == ["IPsec", "AES256+SHA256", "0", "4", "4", "198.51.100.1"]
    assert rows[4] == ["IPsec", "AES256+SHA256", "4", "0", "0", "198.51.100.1"]
    # while the flow's #pkts count every packet it ever protected
    ipsec = console.feed("show crypto ipsec sa")
    assert "    #pkts encaps: 13, #pkts encrypt: 13, #pkts digest: 13" in ipsec
    assert "    #pkts decaps: 13, #pkts decrypt: 13, #pkts verify: 13" in ipsec
    console.feed("@R2")
    rows = _engine_rows(console)
    assert rows[3][2:5] == ["0", "4", "4"] and rows[4][2:5] == ["4", "0", "0"]


def test_cleartext_that_should_have_been_encrypted_is_dropped(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed("ping 10.0.2.10 source 192.168.1.1")  # the tunnel is up
    r2 = console.lab.routers["R2"]
    assert r2.stack is not None
    bundle = r2.crypto_plane.sad.bundles[0]  # type: ignore[union-attr]
    # an echo from R1's LAN to R2's LAN address, in the clear on R2's crypto interface
    echo = push_ipv4(Ipv4Packet(protocol=IpProtocol.ICMP, src=ip_to_int("192.168.1.1"),
                                dst=ip_to_int("10.0.2.1"), payload=push_icmp(IcmpEcho(9, 1))))
    before = bundle.counters.encaps
    r2.stack._receive_ipv4("GigabitEthernet0/0", echo)
    console.lab.clock.advance(1)
    assert bundle.counters.encaps == before  # no reply was sent: the request was dropped
    # the same echo inside the tunnel is answered (and the reply encrypted)
    assert marks(console.feed("ping 10.0.2.1 source 192.168.1.1")) == ["!!!!!"]
    assert bundle.counters.encaps == before + 5


TRANSPORT = """\
{dev}
enable
conf t
crypto isakmp policy 10
encryption aes
hash sha
authentication pre-share
group 14
crypto isakmp key HOSTKEY address {peer}
crypto ipsec transform-set HOST esp-aes esp-sha-hmac
mode transport
ip access-list extended HOST_TRAFFIC
permit icmp host {me} host {peer}
crypto map HOSTMAP 10 ipsec-isakmp
set peer {peer}
set transform-set HOST
match address HOST_TRAFFIC
interface GigabitEthernet0/0
crypto map HOSTMAP
end
"""


def test_transport_mode_between_the_routers_themselves(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    console.lab.fabric.capture()
    # R1 and R2's outside addresses are reachable through the ISP's connected routes
    run(console, TRANSPORT.format(dev="@R1", me="198.51.100.1", peer="203.0.113.2"))
    run(console, TRANSPORT.format(dev="@R2", me="203.0.113.2", peer="198.51.100.1"))
    console.feed("@R1")
    assert marks(console.feed("ping 203.0.113.2")) == [".!!!!"]
    assert "in use settings ={Transport, }" in console.feed("show crypto ipsec sa")
    link = console.lab.fabric.link_of("R1", "GigabitEthernet0/0")
    assert link is not None
    esp = [pull_ipv4(pull_ethernet(f).payload) for _, f in link.captured
           if pull_ethernet(f).ethertype == EtherType.IPV4
           and pull_ipv4(pull_ethernet(f).payload).protocol == IpProtocol.ESP]
    # transport mode: no second IP header, the original addresses outside, 20 bytes smaller
    assert esp and all((p.src, p.dst) in ((ip_to_int("198.51.100.1"), ip_to_int("203.0.113.2")),
                                         (ip_to_int("203.0.113.2"), ip_to_int("198.51.100.1")))
                       for p in esp)
    # 20 IP + 8 ESP + 16 IV + the 80-byte ICMP message padded to 96 + 12 ICV = 152
    # (tunnel mode would carry the whole 100-byte packet: 168)
    assert {p.total_length for p in esp} == {152}



def test_an_acl_for_all_ip_between_the_peers_leaves_ike_and_esp_alone(tmp_path: Path) -> None:
    """``permit ip host A host B`` between the peers themselves: IKE goes out and is taken
    in past the map, the ESP the router made is not protected again, and the rest of their
    traffic (here the routers' own pings) travels in transport-mode ESP."""
    console = lab_console(tmp_path)
    console.lab.fabric.capture()
    all_ip = {"permit icmp host": "permit ip host"}
    for dev, me, peer in (("@R1", "198.51.100.1", "203.0.113.2"),
                          ("@R2", "203.0.113.2", "198.51.100.1")):
        script = TRANSPORT.format(dev=dev, me=me, peer=peer)
        for old, new in all_ip.items():
            script = script.replace(old, new)
        assert "% Invalid" not in run(console, script)
    console.feed("@R1")
    assert marks(console.feed("ping 203.0.113.2")) == [".!!!!"]
    assert marks(console.feed("ping 203.0.113.2")) == ["!!!!!"]
    assert "in use settings ={Transport, }" in console.feed("show crypto ipsec sa")
    seen = {p.protocol for _, p in captured_ipv4(console, "R1")}
    assert seen == {IpProtocol.UDP, IpProtocol.ESP}  # IKE in clear, the echoes in ESP
    console.feed("@R2")
    assert marks(console.feed("ping 198.51.100.1")) == ["!!!!!"]

def test_debug_crypto_shows_the_exchange_as_it_happens(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    assert console.feed("debug crypto isakmp") == "Crypto ISAKMP debugging is on\n"
    assert console.feed("debug crypto ipsec") == "Crypto IPSEC debugging is on\n"
    assert console.feed("show debugging") == ("Cryptographic Subsystem:\n"
                                              "  Crypto ISAKMP debugging is on\n"
                                              "  Crypto IPSEC debugging is on\n\n")
    out = console.feed("ping 10.0.2.10 source 192.168.1.1")
    lines = [ln.split(": ", 1)[1] for ln in out.splitlines() if ln.startswith("*Mar")]
    start = lines.index("ISAKMP:(0):Can not start Aggressive mode, trying Main mode.")
    assert lines[0] == "IPSEC(sa_request): ,"  # IPsec asks IKE for SAs (debug crypto ipsec)
    assert lines[1] == "ISAKMP:(0): SA request profile is (NULL)"
    assert lines[start + 6:start + 12] == [
        "ISAKMP:(0):Input = IKE_MESG_FROM_IPSEC, IKE_SA_REQ_MM",
        "ISAKMP:(0):Old State = IKE_READY  New State = IKE_I_MM1 ",
        "ISAKMP:(0): beginning Main Mode exchange",
        "ISAKMP:(0): sending packet to 203.0.113.2 my_port 500 peer_port 500 (I) MM_NO_STATE",
        "ISAKMP:(0):Sending an IKE IPv4 Packet.",
        "ISAKMP (0:0): received packet from 203.0.113.2 dport 500 sport 500 Global (I) "
        "MM_NO_STATE"]
    assert "ISAKMP:(1001):Old State = IKE_I_MM6  New State = IKE_P1_COMPLETE " in lines
    assert "ISAKMP:(1001):Old State = IKE_QM_I_QM1  New State = IKE_QM_IPSEC_INSTALL_AWAIT" \
        in lines
    authenticated = lines.index("ISAKMP:(1001):SA has been authenticated with 203.0.113.2")
    assert lines[authenticated - 5:authenticated + 4] == [  # IOS's order
        "ISAKMP:(1001): processing ID payload. message ID = 0",
        "ISAKMP (0:1001): ID payload ",
        "ISAKMP:(0):: peer matches *none* of the profiles",
        "ISAKMP:(1001): processing HASH payload. message ID = 0",
        "ISAKMP:(1001):SA authentication status:\tauthenticated",
        "ISAKMP:(1001):SA has been authenticated with 203.0.113.2",
        "ISAKMP: Trying to insert a peer 198.51.100.1/203.0.113.2/500/,  and inserted "
        "successfully 664401A0.",
        "ISAKMP:(1001):Input = IKE_MESG_FROM_PEER, IKE_MM_EXCH",
        "ISAKMP:(1001):Old State = IKE_I_MM5  New State = IKE_I_MM6 "]
    # the state machine walks as the captured IOS initiator does, input for input
    machine = re.compile(r"Input = (\w+, \w+)|Old State = (\w+)  New State = (\w+)")
    reference = (Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "ios"
                 / "debug-crypto-isakmp-main-mode.txt")
    if reference.exists():
        captured = reference.read_text().split("[2]")[0]
        want = [m.groups() for m in machine.finditer(captured)]
        got = [m.groups() for m in machine.finditer("\n".join(lines))]
        assert got[:len(want)] == want
    assert any(ln.startswith("ISAKMP:(1001):beginning Quick Mode exchange, M-ID of ")
               for ln in lines)
    assert lines.count("IPSEC(create_sa): sa created,") == 2
    spi = console.feed("show crypto ipsec sa").split("current outbound spi: ")[1].split()[0]
    assert f"    sa_spi= {spi}, " in out  # the outbound SA the debug announced is the one in use
    assert console.feed("undebug all") == "All possible debugging has been turned off\n"
    assert not [ln for ln in console.feed("clear crypto sa").splitlines() if "IPSEC(" in ln]


def test_a_reload_forgets_the_tunnel_and_the_next_ping_builds_it_again(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    run(console, "write memory\nreload\n\n\nenable\n")  # save, confirm, press RETURN
    assert "QM_IDLE" not in console.feed("show crypto isakmp sa")
    assert "    #pkts encaps: 0," in console.feed("show crypto ipsec sa")
    assert "198.51.100.2" not in console.feed("show arp")  # the ARP cache went with the reload
    console.feed("ping 198.51.100.2")
    # R2 still holds the old SAs: R1's fresh IKE negotiation replaces them
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]




def _behind_nat(tmp_path: Path) -> LabConsole:
    """The seed's VPN with R1 behind the ISP's PAT; the fabric captures."""
    console = lab_console(tmp_path)
    console.lab.fabric.capture()
    run(console, ISP_NAT)
    # R2 knows R1 by the address the NAT gives it
    configure_seed(console, r2_replace={"198.51.100.1": "203.0.113.1"})
    return console


def test_nat_traversal_when_r1_sits_behind_the_isps_nat(tmp_path: Path) -> None:
    """R1's outside address is translated to the ISP's 203.0.113.1: IKE floats to 4500 and
    ESP travels in UDP (RFC 3947/3948); R2 sees its peer as the NAT's address."""
    console = _behind_nat(tmp_path)
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]
    console.feed("@R2")
    ipsec = console.feed("show crypto ipsec sa")
    assert "    #pkts decaps: 9, #pkts decrypt: 9, #pkts verify: 9" in ipsec
    assert "   current_peer 203.0.113.1 port 4500" in ipsec
    assert "        in use settings ={Tunnel UDP-Encaps, }" in ipsec
    # between the ISP and R2 the ESP is inside UDP 4500; no bare ESP crosses the NAT
    protocols = {ip.protocol for _, ip in captured_ipv4(console, "R2")}
    assert IpProtocol.ESP not in protocols and IpProtocol.UDP in protocols


def _nat_keepalives(console: LabConsole) -> list[float]:
    """When R2 received a one-octet UDP 4500 datagram 0xFF (RFC 3948 2.3), in virtual time."""
    return [when for when, ip in captured_ipv4(console, "R2")
            if ip.protocol == IpProtocol.UDP and ip.dst == ip_to_int("203.0.113.2")
            and ip.payload[2:4] == (4500).to_bytes(2, "big") and ip.payload[8:] == b"\xff"]


def test_nat_keepalives_flow_while_the_tunnel_is_idle(tmp_path: Path) -> None:
    console = _behind_nat(tmp_path)
    run(console, "conf t\ncrypto isakmp nat keepalive 20\nend\n")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    console.feed("@wait 30")
    assert len(_nat_keepalives(console)) == 1
    console.feed("ping 10.0.2.10 source 192.168.1.1 repeat 2")
    console.feed("@wait 70")
    times = _nat_keepalives(console)
    assert len(times) == 4
    assert [round(b - a) for a, b in zip(times[1:], times[2:], strict=False)] == [20, 20]
    # without the command, an idle tunnel sends nothing
    run(console, "conf t\nno crypto isakmp nat keepalive\nend\n@wait 60\n")
    assert len(_nat_keepalives(console)) == 4


def test_a_nat_keepalive_falls_due_whatever_the_rounding_of_its_deadline(tmp_path: Path
                                                                         ) -> None:
    """The keepalive armed for last_out + 20 runs at that instant even where the float
    ``(last_out + 20) - last_out`` comes out a hair under 20 (it once rescheduled itself for
    the same instant forever)."""
    console = _behind_nat(tmp_path)
    run(console, "conf t\ncrypto isakmp nat keepalive 20\nend\n")
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    crypto = console.lab.routers["R1"].crypto_plane
    bundle = crypto.sad.bundles[0]  # type: ignore[union-attr]
    last_out = console.lab.clock.now
    while (last_out + 20) - last_out >= 20:  # a last send whose deadline rounds down
        last_out += 0.001
    bundle.last_out = last_out
    crypto.lifecycle._nat_keepalive(bundle)  # type: ignore[union-attr]

    def stuck(signum: int, frame: object) -> None:
        raise TimeoutError("the keepalive timer keeps firing at one instant")

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(20)
    try:
        console.feed("@wait 30")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    # sent at last_out + 20; R2's link sees it after the two links' delays
    assert any(0 <= when - (last_out + 20) < 0.1 for when in _nat_keepalives(console))


def test_a_request_under_way_is_not_asked_again(tmp_path: Path) -> None:
    """IPsec asks IKE once: while phase 1 stalls (here on a wrong pre-shared key, R1 waiting
    for MM6), the next echoes are dropped without another IPSEC(sa_request)."""
    console = _seed(tmp_path)
    console.feed("@R2")
    run(console, "configure terminal\ncrypto isakmp key WRONGKEY address 198.51.100.1\nend")
    console.feed("@R1")
    console.feed("debug crypto ipsec")
    console.feed("debug crypto isakmp")
    out = console.feed("ping 10.0.2.10 source 192.168.1.1")
    assert marks(out) == ["....."]
    assert out.count("IPSEC(sa_request): ,") == 1
    assert out.count("SA request profile is") == 1
    assert "198.51.100.1    MM_KEY_EXCH       1001 ACTIVE" in console.feed(
        "show crypto isakmp sa")  # phase 1 still under way
