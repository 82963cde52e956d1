"""Tunnel protection between R1 and R2: GRE over IPsec (transport or tunnel mode, proxies the
GRE endpoints) and the VTI (tunnel mode, any to any), IKE started by the tunnel coming up,
and what show crypto map / ipsec sa / session print for them."""

from __future__ import annotations

from pathlib import Path

import pytest
from labkit import captured_ipv4, inject, marks, run
from tunnelkit import PING, R1_WAN, R2_WAN, SIDES, crypto_lines, tunnel_lab

from iosim.ipsec.router_crypto import RouterCrypto
from iosim.lab.console import Lab, LabConsole
from iosim.net.gre import PROTOCOL_IPV4, GrePacket, pull_gre, push_gre
from iosim.net.packets import (
    IpProtocol,
    Ipv4Packet,
    internet_checksum,
    ip_to_int,
    pull_ipv4,
    push_ipv4,
)
from iosim.net.tunnel import TunnelPlane


def _plane(c: object, device: str = "R1") -> RouterCrypto:
    plane = c.lab.routers[device].crypto_plane  # type: ignore[attr-defined]
    assert isinstance(plane, RouterCrypto)
    return plane


def _tunnels(c: object, device: str = "R1") -> TunnelPlane:
    plane = c.lab.routers[device].tunnel_plane  # type: ignore[attr-defined]
    assert isinstance(plane, TunnelPlane)
    return plane


def test_ike_starts_when_the_tunnel_comes_up_without_traffic(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, protect=True)
    run(c, "@wait 5\n")
    sas = run(c, "show crypto isakmp sa")
    assert f"{R1_WAN}" in sas and "QM_IDLE" in sas
    assert sas.count("QM_IDLE") == 1  # one side initiated, the other answered
    (bundle,) = _plane(c).sad.bundles
    assert bundle.interface == "Tunnel0" and bundle.map_name == "Tunnel0-head-0"
    p = bundle.proxies
    assert (p.local_net, p.local_mask, p.remote_net, p.remote_mask, p.protocol) == (
        ip_to_int(R1_WAN), 0xFFFFFFFF, ip_to_int(R2_WAN), 0xFFFFFFFF, 47)
    assert bundle.pair.mode == "transport"


def test_gre_over_ipsec_crosses_the_isp_as_esp_in_transport_mode(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, protect=True, capture=True)
    run(c, "@wait 5\n")
    assert marks(run(c, PING)) == ["!!!!!"]
    wire = [p for _, p in captured_ipv4(c, "R1")]
    assert not [p for p in wire if p.protocol == IpProtocol.GRE]  # no GRE in clear
    esp = [p for p in wire if p.protocol == IpProtocol.ESP]
    assert len(esp) >= 10
    assert {(p.src, p.dst) for p in esp} == {(ip_to_int(R1_WAN), ip_to_int(R2_WAN)),
                                             (ip_to_int(R2_WAN), ip_to_int(R1_WAN))}
    sa = run(c, "show crypto ipsec sa interface Tunnel0")
    assert "interface: Tunnel0" in sa
    assert f"Crypto map tag: Tunnel0-head-0, local addr {R1_WAN}" in sa
    assert f"local  ident (addr/mask/prot/port): ({R1_WAN}/255.255.255.255/47/0)" in sa
    assert f"remote ident (addr/mask/prot/port): ({R2_WAN}/255.255.255.255/47/0)" in sa
    assert "in use settings ={Transport, }" in sa
    assert "ip mtu idb GigabitEthernet0/0" in sa
    assert "#pkts encaps: 5, #pkts encrypt: 5" in sa
    assert run(c, "show crypto ipsec sa interface GigabitEthernet0/0").strip() == ""
    session = run(c, "show crypto session")
    assert "Interface: Tunnel0" in session and "UP-ACTIVE" in session
    assert f"IPSEC FLOW: permit 47 host {R1_WAN} host {R2_WAN}" in session
    # the tunnel's MTU leaves room for ESP: 1438 in the SA, less the GRE header
    assert "Tunnel transport MTU 1414 bytes" in run(c, "show interfaces Tunnel0")
    assert 'Tunnel protection via IPSec (profile "PROF")' in run(c, "show interfaces Tunnel0")


def test_a_transform_set_in_tunnel_mode_wraps_the_gre_packet_whole(tmp_path: Path) -> None:
    crypto = tuple(crypto_lines(s, mode="tunnel") for s in SIDES)
    c = tunnel_lab(tmp_path, protect=True, crypto=(crypto[0], crypto[1]))
    assert marks(run(c, "@wait 5\n" + PING)) == ["!!!!!"]
    assert "in use settings ={Tunnel, }" in run(c, "show crypto ipsec sa")


def test_show_crypto_map_lists_the_tunnel_head_map(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, protect=True)
    run(c, "@wait 5\n")
    text = run(c, "show crypto map")
    assert text == (
        f'Crypto Map: "Tunnel0-head-0" idb: GigabitEthernet0/0 local address: {R1_WAN}\n\n'
        'Crypto Map IPv4 "Tunnel0-head-0" 65536 ipsec-isakmp\n'
        "\tProfile name: PROF\n"
        "\tSecurity association lifetime: 4608000 kilobytes/3600 seconds\n"
        "\tResponder-Only (Y/N): N\n\tPFS (Y/N): N\n\tMixed-mode : Disabled\n"
        "\tTransform sets={\n\t\tTS:  { esp-256-aes esp-sha256-hmac  } ,\n\t}\n\n"
        'Crypto Map IPv4 "Tunnel0-head-0" 65537 ipsec-isakmp\n'
        "\tMap is a PROFILE INSTANCE.\n"
        f"\tPeer = {R2_WAN}\n"
        "\tExtended IP access list \n"
        f"\t    access-list  permit gre host {R1_WAN} host {R2_WAN}\n"
        f"\tCurrent peer: {R2_WAN}\n"
        "\tSecurity association lifetime: 4608000 kilobytes/3600 seconds\n"
        "\tResponder-Only (Y/N): N\n\tPFS (Y/N): N\n\tMixed-mode : Disabled\n"
        "\tTransform sets={\n\t\tTS:  { esp-256-aes esp-sha256-hmac  } ,\n\t}\n"
        "\tInterfaces using crypto map Tunnel0-head-0:\n\t\tTunnel0\n\n")
    assert run(c, "show crypto map interface Tunnel0") == text
    assert run(c, "show crypto map tag Tunnel0-head-0") == text
    assert run(c, "show crypto map interface GigabitEthernet0/0") == ""


def test_clear_gre_for_a_protected_tunnel_is_dropped(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, protect=True)
    run(c, "@wait 5\n")
    inner = push_ipv4(Ipv4Packet(protocol=IpProtocol.ICMP, src=ip_to_int("10.0.2.10"),
                                 dst=ip_to_int("192.168.1.1"), payload=b"\x08" + bytes(7)))
    forged = push_ipv4(Ipv4Packet(protocol=IpProtocol.GRE, src=ip_to_int(R2_WAN),
                                  dst=ip_to_int(R1_WAN),
                                  payload=push_gre(GrePacket(PROTOCOL_IPV4, inner))))
    before = c.lab.routers["R1"].state["Tunnel0"].counters.input_packets
    inject(c, "R1", forged)
    assert _tunnels(c).not_protected == 1
    assert c.lab.routers["R1"].state["Tunnel0"].counters.input_packets == before


def _misnamed(side: object) -> str:
    """Phase 1 and a transform set as usual, but the profile is OTHER: the tunnel's
    ``tunnel protection ipsec profile PROF`` names one the router does not have."""
    return crypto_lines(side).replace("crypto ipsec profile PROF",  # type: ignore[arg-type]
                                      "crypto ipsec profile OTHER")


def test_a_profile_the_router_lacks_protects_nothing_the_gre_crosses_in_clear(
        tmp_path: Path) -> None:
    """IOS keeps a protection naming a missing profile (running-config, show interfaces)
    but makes no crypto map of it: no IKE, no SA, and the tunnel is plain GRE, as a crypto
    map entry without a peer or an ACL leaves its traffic in clear. Once the profile is
    configured the tunnel is protected and negotiates at once."""
    c = tunnel_lab(tmp_path, protect=True, capture=True,
                   crypto=(_misnamed(SIDES[0]), _misnamed(SIDES[1])))
    out = run(c, "@wait 10\n")
    assert "Traceback" not in out and "internal error" not in out
    assert " tunnel protection ipsec profile PROF\n" in run(
        c, "show running-config interface Tunnel0")
    show = run(c, "show interfaces Tunnel0")
    assert 'Tunnel protection via IPSec (profile "PROF")' in show
    assert "Tunnel transport MTU 1476 bytes" in show  # no room kept for ESP
    assert marks(run(c, PING)) == ["!!!!!"]
    wire = [p for _, p in captured_ipv4(c, "R1")]
    assert [p for p in wire if p.protocol == IpProtocol.GRE]  # in clear, both ways
    assert not [p for p in wire if p.protocol == IpProtocol.ESP]
    for device in ("R1", "R2"):
        assert not _plane(c, device).sad.bundles
        assert not _plane(c, device).isakmp_states()
        assert _tunnels(c, device).not_protected == 0
    assert run(c, "show crypto map") == ""
    assert run(c, "show crypto ipsec sa").strip() == ""
    assert "Tunnel0" not in run(c, "show crypto session")
    assert "RECVD_PKT_NOT_IPSEC" not in "\n".join(c.lab.routers["R2"].log_buffer)
    for device in ("R1", "R2"):
        run(c, f"@{device}\nconf t\ncrypto ipsec profile PROF\nset transform-set TS\nend\n")
    run(c, "@R1\n@wait 5\n")
    assert marks(run(c, PING)) == ["!!!!!"]
    assert len(_plane(c).sad.bundles) == 1
    assert "Interface: Tunnel0" in run(c, "show crypto session")
    before = len(captured_ipv4(c, "R1"))
    run(c, PING)
    assert {p.protocol for _, p in captured_ipv4(c, "R1")[before:]} == {IpProtocol.ESP}


def test_a_profile_missing_on_one_side_leaves_the_other_refusing_its_clear_gre(
        tmp_path: Path) -> None:
    """R1's protection names a missing profile, R2's a good one: R1 sends GRE in clear, R2
    takes only what its SA decrypted, so nothing gets through, R2 says why, and no SA is
    negotiated (R1 has no crypto map for R2's tunnel proxies)."""
    c = tunnel_lab(tmp_path, protect=True, crypto=(_misnamed(SIDES[0]), None))
    out = run(c, "@wait 10\n")
    assert "Traceback" not in out and "internal error" not in out
    assert marks(run(c, PING))[0].count("!") == 0
    assert _tunnels(c, "R2").not_protected >= 1
    assert any("RECVD_PKT_NOT_IPSEC" in line for line in c.lab.routers["R2"].log_buffer)
    assert not _plane(c, "R1").sad.bundles and not _plane(c, "R2").sad.bundles
    assert run(c, "show crypto ipsec sa").strip() == ""


def test_the_built_in_default_profile_protects_with_the_default_transform_set(
        tmp_path: Path) -> None:
    """``default`` is a profile every router has (show crypto ipsec profile lists it):
    naming it protects the tunnel, with the default transform set."""
    c = tunnel_lab(tmp_path, protect=True, capture=True,
                   crypto=(_misnamed(SIDES[0]), _misnamed(SIDES[1])))
    for device in ("R1", "R2"):
        run(c, f"@{device}\nconf t\ninterface Tunnel0\n"
               "tunnel protection ipsec profile default\nend\n")
    run(c, "@R1\n@wait 5\n")
    assert marks(run(c, PING)) == ["!!!!!"]
    (bundle,) = _plane(c).sad.bundles
    assert (bundle.pair.encryption, bundle.pair.integrity, bundle.pair.mode) == (
        "esp-aes", "esp-sha-hmac", "transport")
    assert "Profile name: default" in run(c, "show crypto map")
    before = len(captured_ipv4(c, "R1"))
    run(c, PING)
    assert {p.protocol for _, p in captured_ipv4(c, "R1")[before:]} == {IpProtocol.ESP}


def test_a_vti_whose_profile_is_missing_stays_down(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, mode="ipsec", protect=True,
                   crypto=(_misnamed(SIDES[0]), _misnamed(SIDES[1])))
    out = run(c, "@wait 30\n")
    assert "Traceback" not in out and "changed state to up" not in out
    assert c.lab.routers["R1"].interface_up("Tunnel0") == ("up", "down")
    assert 'Tunnel protection via IPSec (profile "PROF")' in run(c, "show interfaces Tunnel0")
    assert not _plane(c).sad.bundles
    assert marks(run(c, PING))[0].count("!") == 0


def test_a_vti_comes_up_with_its_sa_and_protects_everything_in_tunnel_mode(tmp_path: Path
                                                                          ) -> None:
    c = tunnel_lab(tmp_path, mode="ipsec", protect=True, capture=True)
    r1 = c.lab.routers["R1"]
    assert r1.interface_up("Tunnel0") == ("up", "down")  # no SA yet: line protocol down
    out = run(c, "@wait 5\n")
    assert ("%LINEPROTO-5-UPDOWN: Line protocol on Interface Tunnel0, changed state to up"
            in out)
    assert marks(run(c, PING)) == ["!!!!!"]
    (bundle,) = _plane(c).sad.bundles
    assert bundle.pair.mode == "tunnel" and bundle.proxies.local_mask == 0
    sa = run(c, "show crypto ipsec sa")
    assert "local  ident (addr/mask/prot/port): (0.0.0.0/0.0.0.0/0/0)" in sa
    assert "in use settings ={Tunnel, }" in sa
    show = run(c, "show interfaces Tunnel0")
    assert "Tunnel protocol/transport IPSEC/IP" in show
    assert "Tunnel transport MTU 1438 bytes" in show  # the SA's plaintext MTU
    assert "access-list  permit ip any any" in run(c, "show crypto map")
    assert "IPSEC FLOW: permit ip 0.0.0.0/0.0.0.0 0.0.0.0/0.0.0.0" in run(
        c, "show crypto session")
    wire = [p for _, p in captured_ipv4(c, "R1")]
    assert not [p for p in wire if p.protocol in (IpProtocol.GRE, IpProtocol.ICMP)
                and ip_to_int("10.0.2.10") in (p.src, p.dst)]
    # without its SA the VTI goes down, and negotiates again at once
    out = run(c, "clear crypto session\n")
    assert "Interface Tunnel0, changed state to down" in out
    out = run(c, "@wait 5\n")
    assert "Interface Tunnel0, changed state to up" in out
    assert marks(run(c, PING)) == ["!!!!!"]


def test_a_vti_whose_peer_refuses_the_transform_set_stays_down(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, mode="ipsec", protect=True, crypto=(
        crypto_lines(SIDES[0]), crypto_lines(SIDES[1], transforms="esp-3des esp-md5-hmac")))
    out = run(c, "@wait 30\n")
    assert "changed state to up" not in out
    assert c.lab.routers["R1"].interface_up("Tunnel0") == ("up", "down")
    assert "QM_IDLE" in run(c, "show crypto isakmp sa")  # phase 1 is fine; phase 2 is not
    assert not _plane(c).sad.bundles
    assert marks(run(c, PING))[0].count("!") == 0


def test_ip_tcp_adjust_mss_rewrites_syns_into_the_tunnel(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, r1="ip tcp adjust-mss 1360", capture=True)
    syn = bytes.fromhex("04d2005000000001000000006002ffff00000000" "020405b4")
    datagram = push_ipv4(Ipv4Packet(protocol=IpProtocol.TCP, src=ip_to_int("192.168.1.10"),
                                    dst=ip_to_int("10.0.2.10"), payload=syn))
    inject(c, "R1", datagram, "GigabitEthernet0/1")
    sent = [pull_ipv4(pull_gre(p.payload).payload) for _, p in captured_ipv4(c, "R1")
            if p.protocol == IpProtocol.GRE and p.src == ip_to_int(R1_WAN)]
    tcp = [p for p in sent if p.protocol == IpProtocol.TCP]
    assert len(tcp) == 1
    assert tcp[0].payload[20:24] == bytes.fromhex("02040550")  # MSS 1460 -> 1360
    pseudo = (tcp[0].src.to_bytes(4, "big") + tcp[0].dst.to_bytes(4, "big") + b"\x00\x06"
              + len(tcp[0].payload).to_bytes(2, "big"))
    assert internet_checksum(pseudo + tcp[0].payload) == 0


def test_fixing_the_refused_transform_set_brings_the_vti_up_without_waiting(tmp_path: Path
                                                                           ) -> None:
    c = tunnel_lab(tmp_path, mode="ipsec", protect=True, crypto=(
        crypto_lines(SIDES[0]), crypto_lines(SIDES[1], transforms="esp-3des esp-md5-hmac")))
    run(c, "@wait 22\n")  # both routers retried just before (every 10 s)
    assert c.lab.routers["R2"].interface_up("Tunnel0") == ("up", "down")
    # the changed crypto configuration is tried at once, not at the next 10-second retry
    out = run(c, "@R2\nconf t\ncrypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac\n"
                 "end\n@wait 2\n")
    assert "Interface Tunnel0, changed state to up" in out
    assert c.lab.routers["R1"].interface_up("Tunnel0") == ("up", "up")
    assert marks(run(c, "@R1\n" + PING)) == ["!!!!!"]


@pytest.mark.parametrize("mode", ["gre", "ipsec"])
def test_link_local_multicast_crosses_a_protected_tunnel_encrypted(tmp_path: Path, mode: str
                                                                   ) -> None:
    """What a routing protocol sends to 224.0.0.5 out of a protected tunnel (GRE over IPsec
    or a VTI) reaches the far router on its tunnel, and only as ESP on the ISP's links."""
    c = tunnel_lab(tmp_path, mode=mode, protect=True, capture=True)
    run(c, "@wait 5\n")
    r1, r2 = c.lab.routers["R1"], c.lab.routers["R2"]
    assert r1.stack is not None and r2.stack is not None
    heard: list[tuple[str | None, int, bytes]] = []
    r2.stack.protocol_handlers[89] = lambda interface, packet, data: heard.append(
        (interface, packet.dst, packet.payload))
    before = len(captured_ipv4(c, "R1"))
    assert r1.stack.send(ip_to_int("224.0.0.5"), 89, b"hello", ttl=1, interface="Tunnel0")
    c.lab.clock.advance(1)
    assert heard == [("Tunnel0", ip_to_int("224.0.0.5"), b"hello")]
    assert [p.protocol for _, p in captured_ipv4(c, "R1")[before:]] == [IpProtocol.ESP]
    assert "#pkts encaps: 1, #pkts encrypt: 1" in run(c, "show crypto ipsec sa")


def test_a_phase_1_that_completes_late_asks_for_no_second_pair(tmp_path: Path) -> None:
    """Both tunnels of ospf-over-gre come up at boot: R2's first main mode message is lost
    (its ARP), R1's phase 1 and quick mode give the tunnel its pair, and R2's own phase 1
    completes at its retransmission ten seconds later. The flow R2 asked for has its pair
    by then: R2's phase 1 runs no quick mode, and each router holds one pair, not two."""
    c = LabConsole(Lab.load("ospf-over-gre", nvram_dir=tmp_path, reset=True), paging=False)
    c.feed("enable")
    run(c, "@wait 30\n")
    for device in ("R1", "R2"):
        (bundle,) = _plane(c, device).sad.bundles
        assert bundle.interface == "Tunnel0"
    session = run(c, "show crypto session")
    assert "Active SAs: 2," in session, session
    assert marks(run(c, "ping 172.16.0.2")) == ["!!!!!"]
