"""Tunnel protection with an IPsec profile that names an IKEv2 profile (FlexVPN style): the
VTI and GRE over IPsec negotiate their SA pair with IKEv2, with the proxies the IKEv1 path
uses, and the show commands list the IKEv2 SA."""

from __future__ import annotations

from pathlib import Path

from labkit import captured_ipv4, marks, run
from tunnelkit import PING, R1_WAN, R2_WAN, SIDES, Side, tunnel_lab

from iosim.ipsec.router_crypto import RouterCrypto
from iosim.net.packets import IpProtocol, ip_to_int


def ikev2_lines(side: Side, *, mode: str = "tunnel", pfs: str | None = None,
                key: str = "TUNNELKEY") -> str:
    """An IKEv2 profile for the peer and an IPsec profile PROF naming it."""
    pfs_line = f"set pfs {pfs}\n" if pfs else ""
    return f"""\
crypto ikev2 proposal V2PROP
encryption aes-cbc-256
integrity sha256
group 14
exit
crypto ikev2 policy V2POL
proposal V2PROP
exit
crypto ikev2 keyring V2KR
peer PEER
address {side.peer_wan}
pre-shared-key {key}
exit
exit
crypto ikev2 profile V2PROF
match identity remote address {side.peer_wan} 255.255.255.255
authentication remote pre-share
authentication local pre-share
keyring local V2KR
exit
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
mode {mode}
exit
crypto ipsec profile PROF
set transform-set TS
{pfs_line}set ikev2-profile V2PROF
exit
"""


def _plane(c: object, device: str = "R1") -> RouterCrypto:
    plane = c.lab.routers[device].crypto_plane  # type: ignore[attr-defined]
    assert isinstance(plane, RouterCrypto)
    return plane


def test_a_vti_with_an_ikev2_profile_comes_up_and_follows_its_ikev2_sa(tmp_path: Path
                                                                      ) -> None:
    c = tunnel_lab(tmp_path, mode="ipsec", protect=True, capture=True,
                   crypto=(ikev2_lines(SIDES[0], pfs="group14"),
                           ikev2_lines(SIDES[1], pfs="group14")))
    assert c.lab.routers["R1"].interface_up("Tunnel0") == ("up", "down")
    out = run(c, "@wait 5\n")
    assert "%IKEV2-5-SA_UP: SA UP" in out
    assert "Line protocol on Interface Tunnel0, changed state to up" in out
    assert marks(run(c, PING)) == ["!!!!!"]
    (bundle,) = _plane(c).sad.bundles
    assert _plane(c).ikev2.owns(bundle)
    assert bundle.interface == "Tunnel0" and bundle.map_name == "Tunnel0-head-0"
    assert bundle.pair.mode == "tunnel" and bundle.proxies.local_mask == 0
    assert bundle.proxies.remote_mask == 0
    v2 = run(c, "show crypto ikev2 sa").splitlines()
    assert v2[3].split() == ["1", f"{R1_WAN}/500", f"{R2_WAN}/500", "none/none", "READY"]
    assert "QM_IDLE" not in run(c, "show crypto isakmp sa")  # no IKEv1 at all
    sa = run(c, "show crypto ipsec sa interface Tunnel0")
    assert f"Crypto map tag: Tunnel0-head-0, local addr {R1_WAN}" in sa
    assert "local  ident (addr/mask/prot/port): (0.0.0.0/0.0.0.0/0/0)" in sa
    assert "remote ident (addr/mask/prot/port): (0.0.0.0/0.0.0.0/0/0)" in sa
    assert "#pkts encaps: 5, #pkts encrypt: 5" in sa
    session = run(c, "show crypto session")
    assert "Interface: Tunnel0" in session and "Session status: UP-ACTIVE" in session
    assert f"  IKEv2 SA: local {R1_WAN}/500 remote {R2_WAN}/500 Active " in session
    assert "IPSEC FLOW: permit ip 0.0.0.0/0.0.0.0 0.0.0.0/0.0.0.0" in session
    wire = [p for _, p in captured_ipv4(c, "R1")]
    assert not [p for p in wire if p.protocol == IpProtocol.ICMP
                and ip_to_int("10.0.2.10") in (p.src, p.dst)]
    assert [p for p in wire if p.protocol == IpProtocol.ESP]
    # the peer clears its IKEv2 SA: its Delete takes the pair with it, the VTI goes down
    # and at once negotiates a new IKE SA, which brings it back up
    run(c, "@R2\nclear crypto ikev2 sa\n@R1\n")
    out = run(c, "@wait 1\n")
    down = out.index("Line protocol on Interface Tunnel0, changed state to down")
    assert out.index("%IKEV2-5-SA_DOWN: SA DOWN") >= down
    assert out.index("Line protocol on Interface Tunnel0, changed state to up") > down
    assert out.index("%IKEV2-5-SA_UP: SA UP") > down
    assert c.lab.routers["R1"].interface_up("Tunnel0") == ("up", "up")
    v2 = run(c, "show crypto ikev2 sa").splitlines()
    assert v2[3].split() == ["2", f"{R1_WAN}/500", f"{R2_WAN}/500", "none/none", "READY"]
    (renewed,) = _plane(c).sad.bundles
    assert renewed.pair.spi_in != bundle.pair.spi_in
    assert marks(run(c, PING)) == ["!!!!!"]

def test_gre_over_ipsec_with_an_ikev2_profile_protects_the_gre_endpoints(tmp_path: Path
                                                                        ) -> None:
    c = tunnel_lab(tmp_path, protect=True, capture=True,
                   crypto=(ikev2_lines(SIDES[0], mode="transport"),
                           ikev2_lines(SIDES[1], mode="transport")))
    run(c, "@wait 5\n")  # IKE starts when the tunnel comes up, without traffic
    assert "READY" in run(c, "show crypto ikev2 sa")
    (bundle,) = _plane(c).sad.bundles
    assert _plane(c).ikev2.owns(bundle)
    p = bundle.proxies
    assert (p.local_net, p.local_mask, p.remote_net, p.remote_mask, p.protocol) == (
        ip_to_int(R1_WAN), 0xFFFFFFFF, ip_to_int(R2_WAN), 0xFFFFFFFF, 47)
    assert bundle.pair.mode == "transport"
    assert marks(run(c, PING)) == ["!!!!!"]
    wire = [p for _, p in captured_ipv4(c, "R1")]
    assert not [p for p in wire if p.protocol == IpProtocol.GRE]  # no GRE in clear
    assert len([p for p in wire if p.protocol == IpProtocol.ESP]) >= 10
    sa = run(c, "show crypto ipsec sa interface Tunnel0")
    assert f"local  ident (addr/mask/prot/port): ({R1_WAN}/255.255.255.255/47/0)" in sa
    assert f"remote ident (addr/mask/prot/port): ({R2_WAN}/255.255.255.255/47/0)" in sa
    assert "in use settings ={Transport, }" in sa
    session = run(c, "show crypto session")
    assert "Interface: Tunnel0" in session and "IKEv2 SA: local" in session
    assert f"IPSEC FLOW: permit 47 host {R1_WAN} host {R2_WAN}" in session
    cmap = run(c, "show crypto map")
    assert "\tProfile name: PROF\n\tIKEv2 Profile: V2PROF\n" in cmap
    assert f"\tPeer = {R2_WAN}\n\tIKEv2 Profile: V2PROF\n\tExtended IP access list" in cmap
    c.feed("@R2")
    r2 = run(c, "show crypto ipsec sa interface Tunnel0")
    assert f"local  ident (addr/mask/prot/port): ({R2_WAN}/255.255.255.255/47/0)" in r2
    assert "#pkts decaps: 5, #pkts decrypt: 5" in r2


def test_a_wrong_ikev2_key_keeps_the_vti_down_until_the_key_is_fixed(tmp_path: Path
                                                                     ) -> None:
    c = tunnel_lab(tmp_path, mode="ipsec", protect=True,
                   crypto=(ikev2_lines(SIDES[0]), ikev2_lines(SIDES[1], key="OTHERKEY")))
    run(c, "@wait 30\n")
    assert c.lab.routers["R1"].interface_up("Tunnel0") == ("up", "down")
    assert not _plane(c).sad.bundles and "READY" not in run(c, "show crypto ikev2 sa")
    assert "QM_IDLE" not in run(c, "show crypto isakmp sa")
    # the VTI kept asking IKEv2, which the peer refused on the key
    assert ip_to_int(R2_WAN) in _plane(c).ikev2.failures
    assert "Outgoing IKEv2 Requests: 0 " not in run(c, "show crypto ikev2 stats")
    out = run(c, "@R2\nconf t\ncrypto ikev2 keyring V2KR\npeer PEER\n"
                 "pre-shared-key TUNNELKEY\nend\n@R1\n")
    assert "Invalid" not in out
    out = run(c, "@wait 12\n")
    assert "Line protocol on Interface Tunnel0, changed state to up" in out
    assert marks(run(c, PING)) == ["!!!!!"]
