"""GRE tunnels between R1 and R2 of the default lab: line protocol by IOS's rules, GRE in
real bytes on the ISP's links, keys, keepalives, recursive routing, MTU and fragmentation,
and what a routing protocol needs from a tunnel (events, multicast, bandwidth)."""

from __future__ import annotations

from pathlib import Path

from labkit import captured_ipv4, console, marks, run
from tunnelkit import PING, R1_TUNNEL, R1_WAN, R2_TUNNEL, R2_WAN, SIDES, tunnel_lab, tunnel_script

from iosim.config.tunnel_model import bandwidth_of
from iosim.net.gre import GRE_KEEPALIVE, PROTOCOL_IPV4, pull_gre
from iosim.net.packets import IcmpEcho, IpProtocol, ip_to_int, pull_icmp, pull_ipv4
from iosim.net.tunnel import RECURSION_HOLDDOWN, TunnelPlane


def _plane(c: object, device: str = "R1") -> TunnelPlane:
    plane = c.lab.routers[device].tunnel_plane  # type: ignore[attr-defined]
    assert isinstance(plane, TunnelPlane)
    return plane


def _status(c: object, device: str = "R1") -> tuple[str, str]:
    return c.lab.routers[device].interface_up("Tunnel0")  # type: ignore[attr-defined,no-any-return]


def test_a_new_tunnel_is_up_down_until_source_destination_and_route(tmp_path: Path) -> None:
    c = console(tmp_path)
    out = run(c, "conf t\ninterface Tunnel0\n")
    assert "%LINK-3-UPDOWN: Interface Tunnel0, changed state to up" in out
    assert _status(c) == ("up", "down")
    run(c, "ip address 172.16.0.1 255.255.255.252\ntunnel destination 203.0.113.2\n")
    assert _status(c) == ("up", "down")  # no source yet
    out = run(c, "tunnel source GigabitEthernet0/0\n")
    assert ("%LINEPROTO-5-UPDOWN: Line protocol on Interface Tunnel0, changed state to up"
            in out)
    assert _status(c) == ("up", "up")
    out = run(c, "exit\nno ip route 0.0.0.0 0.0.0.0 198.51.100.2\n")  # no route to 203.0.113.2
    assert "Interface Tunnel0, changed state to down" in out
    assert _status(c) == ("up", "down")
    show = run(c, "do show interfaces Tunnel0\n")
    assert "Tunnel linestate evaluation down - transport reg down" in show
    run(c, "ip route 203.0.113.0 255.255.255.252 198.51.100.2\n")  # a specific route will do
    assert _status(c) == ("up", "up")
    run(c, "interface GigabitEthernet0/0\nshutdown\n")  # the source goes down
    assert _status(c) == ("up", "down")
    run(c, "no shutdown\ninterface Tunnel0\nshutdown\n")
    assert _status(c) == ("administratively down", "down")


def test_a_source_address_must_belong_to_an_interface_that_is_up(tmp_path: Path) -> None:
    c = console(tmp_path)
    run(c, "conf t\ninterface Tunnel0\ntunnel destination 203.0.113.2\n"
           "tunnel source 198.51.100.99\n")
    assert _status(c) == ("up", "down")
    run(c, f"tunnel source {R1_WAN}\n")
    assert _status(c) == ("up", "up")
    assert f"Tunnel source {R1_WAN}, destination {R2_WAN}" in run(
        c, "do show interfaces Tunnel0\n")


def test_pings_cross_in_gre_with_the_tunnel_endpoints_outside(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, capture=True)
    assert marks(run(c, PING)) == ["!!!!!"]
    r1 = c.lab.routers["R1"]
    counters = r1.state["Tunnel0"].counters
    assert (counters.output_packets, counters.input_packets) == (5, 5)
    assert counters.output_bytes == 5 * 100  # the datagrams the tunnel carried
    gre = [p for _, p in captured_ipv4(c, "R1") if p.protocol == IpProtocol.GRE]
    assert len(gre) == 10
    out = gre[-2] if gre[-2].src == ip_to_int(R1_WAN) else gre[-1]
    assert (out.src, out.dst, out.ttl) == (ip_to_int(R1_WAN), ip_to_int(R2_WAN), 255)
    assert out.payload[:4] == b"\x00\x00\x08\x00"  # RFC 2784: no options, IPv4
    inner = pull_ipv4(pull_gre(out.payload).payload)
    assert (inner.src, inner.dst) == (ip_to_int("192.168.1.1"), ip_to_int("10.0.2.10"))
    assert isinstance(pull_icmp(inner.payload), IcmpEcho)
    # nothing but GRE between the LANs crossed the ISP
    assert not [p for _, p in captured_ipv4(c, "R1") if p.protocol == IpProtocol.ICMP
                and ip_to_int("10.0.2.10") in (p.src, p.dst)]


def test_the_tunnel_addresses_answer_and_routes_show_the_tunnel(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path)
    assert marks(run(c, f"ping {R2_TUNNEL}")) == ["!!!!!"]
    routes = run(c, "show ip route")
    assert "C        172.16.0.0/30 is directly connected, Tunnel0" in routes
    assert "S        10.0.2.0 [1/0] via 172.16.0.2" in routes
    brief = run(c, "show ip interface brief")
    assert f"Tunnel0                    {R1_TUNNEL}      YES manual up                    up" \
        in brief


def test_keys_must_match(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, capture=True, r1="tunnel key 100", r2="tunnel key 100")
    assert marks(run(c, PING)) == ["!!!!!"]
    gre = [p for _, p in captured_ipv4(c, "R1") if p.protocol == IpProtocol.GRE]
    assert gre[-1].payload[:8] == b"\x20\x00\x08\x00" + (100).to_bytes(4, "big")
    assert "Key 0x64, sequencing disabled" in run(c, "show interfaces Tunnel0")
    assert "MTU 17912 bytes" in run(c, "show interfaces Tunnel0")
    assert "Tunnel transport MTU 1472 bytes" in run(c, "show interfaces Tunnel0")
    run(c, "@R2\nconf t\ninterface Tunnel0\ntunnel key 200\nend\n@R1\n")
    assert marks(run(c, PING)) == ["....."]
    assert _plane(c, "R2").unmatched >= 5  # R2 takes no GRE keyed 100


def test_keepalives_bring_the_line_down_when_the_far_end_stops_answering(tmp_path: Path
                                                                        ) -> None:
    c = tunnel_lab(tmp_path, capture=True, r1="keepalive 5 3")
    assert "Keepalive set (5 sec), retries 3" in run(c, "show interfaces Tunnel0")
    out = run(c, "@wait 20\n")
    assert "changed state to down" not in out  # R2 answers, with no keepalive of its own
    kas = [p for _, p in captured_ipv4(c, "R1") if p.protocol == IpProtocol.GRE
           and p.src == ip_to_int(R1_WAN) and pull_gre(p.payload).protocol_type
           == PROTOCOL_IPV4 and pull_ipv4(pull_gre(p.payload).payload).protocol == 47]
    assert len(kas) >= 3
    inner = pull_ipv4(pull_gre(kas[0].payload).payload)
    assert (inner.src, inner.dst) == (ip_to_int(R2_WAN), ip_to_int(R1_WAN))  # back to R1
    assert pull_gre(inner.payload).protocol_type == GRE_KEEPALIVE
    answers = [p for _, p in captured_ipv4(c, "R1") if p.protocol == IpProtocol.GRE
               and p.src == ip_to_int(R2_WAN) and pull_gre(p.payload).protocol_type
               == GRE_KEEPALIVE]
    assert answers  # R2 routed them back as plain GRE of protocol type 0
    run(c, "@R2\nconf t\ninterface Tunnel0\nshutdown\nend\n@R1\n")
    out = run(c, "@wait 25\n")
    assert ("%LINEPROTO-5-UPDOWN: Line protocol on Interface Tunnel0, changed state to down"
            in out)
    assert "Tunnel linestate evaluation down - keepalive down" in run(
        c, "show interfaces Tunnel0")
    run(c, "@R2\nconf t\ninterface Tunnel0\nno shutdown\nend\n@R1\n")
    out = run(c, "@wait 6\n")
    assert "Interface Tunnel0, changed state to up" in out
    assert _status(c) == ("up", "up")


def test_a_destination_routed_into_the_tunnel_is_recursive_routing(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path)
    out = run(c, f"conf t\nip route {R2_WAN} 255.255.255.255 Tunnel0\nend\n")
    assert "%TUN-5-RECURDOWN: Tunnel0 temporarily disabled due to recursive routing" in out
    assert "Interface Tunnel0, changed state to down" in out
    assert _status(c) == ("up", "down")
    # the static route went with the tunnel; after the hold-down it comes back, and again
    out = run(c, f"@wait {int(RECURSION_HOLDDOWN) + 1}\n")
    assert out.count("%TUN-5-RECURDOWN") == 1
    assert "changed state to up" in out and "changed state to down" in out
    run(c, f"conf t\nno ip route {R2_WAN} 255.255.255.255 Tunnel0\nend\n")
    run(c, f"@wait {int(RECURSION_HOLDDOWN) + 1}\n")
    assert _status(c) == ("up", "up")
    assert marks(run(c, PING)) == ["!!!!!"]


def test_the_tunnel_mtu_fragments_before_encapsulation_or_refuses_df(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, capture=True)
    assert "MTU is 1476 bytes" in run(c, "show ip interface Tunnel0")
    assert marks(run(c, f"{PING} size 1476 df-bit")) == ["!!!!!"]
    assert marks(run(c, f"{PING} size 1477 df-bit")) == ["M.M.M"]
    captured = len(c.lab.fabric.link_of("R1", "GigabitEthernet0/0").captured)  # type: ignore[union-attr]
    assert marks(run(c, f"{PING} size 1600 repeat 1")) == ["!"]
    link = c.lab.fabric.link_of("R1", "GigabitEthernet0/0")
    assert link is not None
    new = [pull_ipv4(frame[14:]) for _, frame in link.captured[captured:]
           if frame[12:14] == b"\x08\x00"]
    gre = [p for p in new if p.protocol == IpProtocol.GRE and p.src == ip_to_int(R1_WAN)]
    # the inner datagram was cut in two, each piece in its own whole GRE packet
    assert len(gre) == 2 and all(not p.mf and not p.fragment_offset for p in gre)
    assert all(len(p.payload) - 4 <= 1476 for p in gre)
    run(c, "conf t\ninterface Tunnel0\nip mtu 1400\nend\n@wait 1\n")  # ICMP rate limit
    assert "MTU is 1400 bytes" in run(c, "show ip interface Tunnel0")
    assert marks(run(c, f"{PING} size 1401 df-bit repeat 1")) == ["M"]


def test_routing_protocols_see_tunnel_events_multicast_and_bandwidth(tmp_path: Path) -> None:
    c = console(tmp_path)
    r1, r2 = c.lab.routers["R1"], c.lab.routers["R2"]
    events: list[tuple[str, str]] = []
    r1.listeners.append(lambda event, detail: events.append((event, detail)))
    run(c, tunnel_script(SIDES[0]) + tunnel_script(SIDES[1]) + "@R1\n")
    assert ("interface", "Tunnel0") in events
    heard: list[tuple[str | None, int, bytes]] = []
    assert r2.stack is not None and r1.stack is not None
    r2.stack.protocol_handlers[89] = lambda interface, packet, data: heard.append(
        (interface, packet.dst, packet.payload))
    assert r1.stack.send(ip_to_int("224.0.0.5"), 89, b"hello", ttl=1, interface="Tunnel0")
    c.lab.clock.advance(1)
    assert heard == [("Tunnel0", ip_to_int("224.0.0.5"), b"hello")]
    assert r2.state["Tunnel0"].counters.ip_multicasts == 1
    assert bandwidth_of(r1.config.interfaces["Tunnel0"]) == 100
    run(c, "conf t\ninterface Tunnel0\nbandwidth 2000\nend\n")
    assert bandwidth_of(r1.config.interfaces["Tunnel0"]) == 2000
    assert "BW 2000 Kbit/sec" in run(c, "show interfaces Tunnel0")
    events.clear()
    run(c, "conf t\ninterface GigabitEthernet0/0\nshutdown\nend\n")
    assert ("interface", "Tunnel0") in events  # the tunnel went down with its source
    assert not r1.stack.send(ip_to_int("224.0.0.5"), 89, b"hello", ttl=1, interface="Tunnel0")


def test_show_interfaces_prints_the_tunnel_block(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path)
    lines = run(c, "show interfaces Tunnel0").splitlines()
    start = lines.index("  Keepalive not set")
    assert lines[start + 1:lines.index("  Tunnel transmit bandwidth 8000 (kbps)")] == [
        "  Tunnel linestate evaluation up",
        f"  Tunnel source {R1_WAN} (GigabitEthernet0/0), destination {R2_WAN}",
        "   Tunnel Subblocks:",
        "      src-track:",
        "         Tunnel0 source tracking subblock associated with GigabitEthernet0/0",
        "          Set of tunnels with source GigabitEthernet0/0, 1 member (includes "
        "iterators), on interface <OK>",
        "  Tunnel protocol/transport GRE/IP",
        "    Key disabled, sequencing disabled",
        "    Checksumming of packets disabled",
        "  Tunnel TTL 255, Fast tunneling enabled",
        "  Tunnel transport MTU 1476 bytes",
    ]
    assert lines[1:4] == ["  Hardware is Tunnel", f"  Internet address is {R1_TUNNEL}/30",
                          "  MTU 17916 bytes, BW 100 Kbit/sec, DLY 50000 usec, "]
