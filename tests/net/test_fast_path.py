"""Transit switching by adjacency (``iosim.net.fast_path``): invisible but for its speed.

Each scenario is played twice on the default lab, once as the routers run and once with
adjacencies never learnt (every datagram takes the slow path). Every frame on every link,
with its time, and everything the console printed must be the same; and the first run must
really have switched frames, or the comparison proves nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from labkit import ISP_ROUTES, console, run, seed_config

from iosim.lab.console import Lab, LabConsole
from iosim.net import fast_path
from iosim.net.packets import (
    ArpOperation,
    ArpPacket,
    EthernetFrame,
    EtherType,
    IcmpEcho,
    IpProtocol,
    Ipv4Packet,
    ip_to_int,
    push_arp,
    push_ethernet,
    push_icmp,
    push_ipv4,
)
from iosim.net.stack import ARP_TIMEOUT, IpStack

Played = tuple[str, dict[str, list[tuple[float, bytes]]], int]

# R1's own echoes cross the ISP; PC1's cross R1, the ISP and R2
PINGS = ("@R1\nping 10.0.2.10 repeat 20\nping 10.0.2.10 size 1400 repeat 5\n"
         "@PC1\nping 10.0.2.10 repeat 20\n")

SCENARIOS = {
    "plain": ISP_ROUTES + PINGS + "ping 10.0.2.10 size 36 repeat 3\n"
    "show interfaces GigabitEthernet0/0\n@ISP\nshow interfaces GigabitEthernet0/1\n",
    # ISP's Gi0/1 MTU below the echoes: fragmented, or refused with DF ("M")
    "mtu": ISP_ROUTES + PINGS + "@ISP\nconf t\ninterface GigabitEthernet0/1\nip mtu 576\n"
    "end\n" + PINGS + "ping 10.0.2.10 size 1000 df-bit repeat 3\n",
    # TTL 1 at the ISP (traceroute) between switched echoes
    "ttl": ISP_ROUTES + PINGS + "traceroute 10.0.2.10 probe 1 timeout 1\n" + PINGS,
    # an access group applied on the ISP after the path is switched: its denial and counters
    "acl": ISP_ROUTES + PINGS + "@ISP\nconf t\naccess-list 101 deny icmp any host 10.0.2.10\n"
    "access-list 101 permit ip any any\ninterface GigabitEthernet0/0\n"
    "ip access-group 101 in\nend\n" + PINGS + "@ISP\nshow access-lists\nconf t\n"
    "interface GigabitEthernet0/0\nno ip access-group 101 in\nend\n" + PINGS,
    # a route changed, then the next hop's interface shut and brought back
    "routes": ISP_ROUTES + PINGS + "@ISP\nconf t\nip route 10.0.2.0 255.255.255.0 Null0\n"
    "no ip route 10.0.2.0 255.255.255.0 203.0.113.2\nend\n" + PINGS + "@ISP\nconf t\n"
    "no ip route 10.0.2.0 255.255.255.0 Null0\nip route 10.0.2.0 255.255.255.0 203.0.113.2\n"
    "end\n" + PINGS + "@R2\nenable\nconf t\ninterface GigabitEthernet0/0\nshutdown\nend\n" + PINGS
    + "@R2\nconf t\ninterface GigabitEthernet0/0\nno shutdown\nend\n" + PINGS,
    # ARP: cleared, then aged out (four hours) while the path was switched
    "arp": ISP_ROUTES + PINGS + "@ISP\nclear arp-cache\n" + PINGS + "@wait 14500\n" + PINGS
    + "@ISP\nshow arp\n",
    # the seed's VPN configured while the ISP switches the cleartext: then ESP crosses it
    "crypto": ISP_ROUTES + PINGS + seed_config("seed_r1") + seed_config("seed_r2")
    + PINGS + "@R1\nshow crypto ipsec sa\n",
    # the ISP translates R1's address: NAT's hooks act from the moment it is configured
    "nat": ISP_ROUTES + PINGS + "@ISP\nconf t\ninterface GigabitEthernet0/0\nip nat inside\n"
    "interface GigabitEthernet0/1\nip nat outside\nexit\n"
    "access-list 1 permit 198.51.100.0 0.0.0.3\n"
    "ip nat inside source list 1 interface GigabitEthernet0/1 overload\nend\n" + PINGS
    + "@ISP\nshow ip nat translations\n",
    # a capture started on the ISP sees every frame the switched path carries
    "capture": ISP_ROUTES + PINGS + "@ISP\nmonitor capture CAP interface GigabitEthernet0/1 "
    "both\nmonitor capture CAP match ipv4 any any\nmonitor capture CAP start\n" + PINGS
    + "@ISP\nmonitor capture CAP stop\nshow monitor capture CAP buffer brief\n" + PINGS,
    # R2 reloads while the ISP switches toward it
    "reload": ISP_ROUTES + PINGS + "@R2\nreload\nno\n\n\n@R1\n" + PINGS,
    # R1's way to R2's LAN is a GRE tunnel with keepalives (a floating static via the ISP
    # behind it): R2 shuts its end, R1's keepalives fail and its tunnel goes down at run
    # time, R1 switches toward the ISP; R2's end comes back and R1's echoes take the tunnel
    "keepalive": ISP_ROUTES + PINGS + "@R1\nconf t\ninterface Tunnel0\n"
    "ip address 172.16.0.1 255.255.255.252\ntunnel source GigabitEthernet0/0\n"
    "tunnel destination 203.0.113.2\nkeepalive 2 3\nexit\n"
    "ip route 10.0.2.0 255.255.255.0 Tunnel0\nend\n@R2\nenable\nconf t\ninterface Tunnel0\n"
    "ip address 172.16.0.2 255.255.255.252\ntunnel source GigabitEthernet0/0\n"
    "tunnel destination 198.51.100.1\nkeepalive 2 3\nexit\n"
    "ip route 192.168.1.0 255.255.255.0 Tunnel0\nend\n@wait 10\n" + PINGS
    + "@R2\nconf t\ninterface Tunnel0\nshutdown\nend\n@wait 10\n" + PINGS
    + "@R2\nconf t\ninterface Tunnel0\nno shutdown\nend\n@wait 10\n" + PINGS
    + "@R1\nshow interfaces Tunnel0\n",
    # the ISP learns R2's LAN by OSPF; R2 stops its hellos, the ISP's dead timer withdraws
    # the route at run time, then the adjacency and the route come back
    "ospf": "@ISP\nenable\nconf t\nip route 192.168.1.0 255.255.255.0 198.51.100.1\n"
    "router ospf 1\nnetwork 203.0.113.0 0.0.0.3 area 0\nend\n@R2\nenable\nconf t\n"
    "router ospf 1\nnetwork 203.0.113.0 0.0.0.3 area 0\nnetwork 10.0.2.0 0.0.0.255 area 0\n"
    "end\n@wait 60\n" + PINGS + "@R2\nconf t\nrouter ospf 1\n"
    "passive-interface GigabitEthernet0/0\nend\n@wait 45\n" + PINGS + "@R2\nconf t\n"
    "router ospf 1\nno passive-interface GigabitEthernet0/0\nend\n@wait 60\n" + PINGS
    + "@ISP\nshow ip route\n",
    # R2 shut toward the ISP, then put back by a lab reset while the ISP's path is forgotten
    "reset": ISP_ROUTES + PINGS + "@R2\nenable\nconf t\ninterface GigabitEthernet0/0\n"
    "shutdown\nend\n" + PINGS + "@reset R2\n" + PINGS + "@ISP\nshow ip route\n",
    # R2's NVRAM erased, then reloaded: it boots with every interface shut, which the ISP's
    # Gi0/1 (the far end of its cable) sees at once, as any change of R2's interfaces
    "erase": ISP_ROUTES + PINGS + "@R2\nenable\nwrite erase\n\nreload\n\n\n\n" + PINGS
    + "@ISP\nshow ip route\nshow interfaces GigabitEthernet0/1\n",
}


def _play(tmp_path: Path, script: str, switching: bool,
          monkeypatch: pytest.MonkeyPatch) -> Played:
    """(the console's output, every link's frames, how many frames were switched)."""
    switched = [0]
    with monkeypatch.context() as patch:
        if switching:
            real = IpStack._switch

            def counted(self: IpStack, interface: str, frame: bytes, adj: object) -> bool:
                done = real(self, interface, frame, adj)  # type: ignore[arg-type]
                switched[0] += done
                return done

            patch.setattr(IpStack, "_switch", counted)
        else:
            patch.setattr(IpStack, "_learn_path", lambda *args: None)
        c = console(tmp_path)
        c.lab.fabric.capture()
        out = run(c, script)
        frames = {link.name: list(link.captured) for link in c.lab.fabric.links}
    return out, frames, switched[0]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_switching_changes_nothing_anyone_can_see(name: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    script = SCENARIOS[name]
    fast_out, fast_frames, switched = _play(tmp_path / "fast", script, True, monkeypatch)
    slow_out, slow_frames, _ = _play(tmp_path / "slow", script, False, monkeypatch)
    assert "% Invalid" not in fast_out
    assert switched > 20, "the scenario never used an adjacency"
    assert fast_out == slow_out
    assert fast_frames.keys() == slow_frames.keys()
    for link in fast_frames:
        assert fast_frames[link] == slow_frames[link], link


def test_a_neighbour_booting_without_a_config_takes_the_link_down(tmp_path: Path) -> None:
    """R2 boots with no startup-config: every interface shut. The ISP sees its Gi0/1 go
    down at once (the far end of the cable), its connected route goes, and nothing more is
    sent toward R2."""
    c = console(tmp_path)
    run(c, ISP_ROUTES + PINGS)
    out = run(c, "@R2\nenable\nwrite erase\n\nreload\n\n\n\n@ISP\n")
    assert ("%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/1, changed "
            "state to down") in out
    routes = run(c, "show ip route\n")
    assert "203.0.113.0/30 is directly connected" not in routes
    link = c.lab.fabric.link_of("ISP", "GigabitEthernet0/1")
    assert link is not None
    link.capturing = True
    out = run(c, "@PC1\nping 10.0.2.10 repeat 3\n")
    assert "Success rate is 0 percent (0/3)" in out
    assert link.captured == []


def _isp(c: LabConsole) -> IpStack:
    stack = c.lab.routers["ISP"].stack
    assert stack is not None
    return stack


def _echo_frame(stack: IpStack, ttl: int = 64) -> bytes:
    """An echo request from R1's outside address to PC2, as R1 would put it on the wire."""
    payload = push_icmp(IcmpEcho(9, 1, bytes(56)))
    datagram = push_ipv4(Ipv4Packet(protocol=IpProtocol.ICMP, src=ip_to_int("198.51.100.1"),
                                    dst=ip_to_int("10.0.2.10"), ttl=ttl, payload=payload))
    return push_ethernet(EthernetFrame(stack.mac("GigabitEthernet0/0"), b"\x02" * 6,
                                       EtherType.IPV4, datagram))


def test_a_switched_path_is_kept_and_forgotten_on_change(tmp_path: Path) -> None:
    c = console(tmp_path)
    run(c, ISP_ROUTES + PINGS)
    isp = _isp(c)
    key = ("GigabitEthernet0/0", bytes([10, 0, 2, 10]))
    adjacency = isp.paths[key]
    assert adjacency.out_interface == "GigabitEthernet0/1"
    assert adjacency.header[6:12] == isp.mac("GigabitEthernet0/1")
    run(c, "@ISP\nconf t\nhostname ISP\nend\n")  # any configuration command
    assert key not in isp.paths


def test_a_damaged_header_is_not_switched(tmp_path: Path) -> None:
    """A bad checksum, a TTL of 1: the slow path drops or answers, the adjacency stays."""
    c = console(tmp_path)
    run(c, ISP_ROUTES + PINGS)
    isp = _isp(c)
    link = c.lab.fabric.link_of("ISP", "GigabitEthernet0/1")
    assert link is not None
    link.capturing = True
    good = _echo_frame(isp)
    damaged = bytearray(good)
    damaged[24] ^= 0xFF  # the header checksum
    dropped = isp.dropped
    isp.receive("GigabitEthernet0/0", bytes(damaged))
    assert isp.dropped == dropped + 1
    isp.receive("GigabitEthernet0/0", _echo_frame(isp, ttl=1))  # answered: Time Exceeded
    c.lab.clock.advance(1)
    assert link.captured == []  # neither went on toward R2
    isp.receive("GigabitEthernet0/0", good)
    c.lab.clock.advance(1)
    assert [frame[14 + 8] for _, frame in link.captured[:1]] == [63]  # TTL 64 - 1


def test_the_cache_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_path, "MAX_ADJACENCIES", 3)
    c = console(tmp_path)
    run(c, ISP_ROUTES + PINGS)
    isp = _isp(c)
    for host in range(11, 19):  # no such hosts: R2's ARP fails, the ISP switches still
        run(c, f"@R1\nping 10.0.2.{host} repeat 2 timeout 1\n")
    assert 0 < len(isp.paths) <= 3


def test_a_new_mac_for_the_next_hop_is_used_at_once(tmp_path: Path) -> None:
    """R2 answers ARP from another MAC (its card was swapped): the ISP learns it, and the
    echoes it switches toward R2 carry it from the next frame on."""
    c = console(tmp_path)
    run(c, ISP_ROUTES + PINGS)
    isp = _isp(c)
    new_mac = bytes.fromhex("02000000beef")
    reply = ArpPacket(ArpOperation.REPLY, new_mac, ip_to_int("203.0.113.2"),
                      isp.mac("GigabitEthernet0/1"), ip_to_int("203.0.113.1"))
    isp.receive("GigabitEthernet0/1", push_ethernet(EthernetFrame(
        isp.mac("GigabitEthernet0/1"), new_mac, EtherType.ARP, push_arp(reply))))
    link = c.lab.fabric.link_of("ISP", "GigabitEthernet0/1")
    assert link is not None
    link.capturing = True
    isp.receive("GigabitEthernet0/0", _echo_frame(isp))
    c.lab.clock.advance(1)
    assert [frame[:6] for _, frame in link.captured] == [new_mac]


def _router(name: str, *interfaces: str) -> str:
    """A router of a lab file, with its config file."""
    quoted = ", ".join(f'"{i}"' for i in interfaces)
    return (f'[devices.{name}]\nkind = "router"\ninterfaces = [{quoted}]\n'
            f'config = "{name}.cfg"\n')


SEGMENT_LAB = ('[lab]\nname = "segment"\n' + _router("R1", "GigabitEthernet0/0")
               + _router("R2", "GigabitEthernet0/0", "GigabitEthernet0/1")
               + _router("R3", "GigabitEthernet0/0") + _router("R4", "GigabitEthernet0/0")
               + '[[links]]\nendpoints = ["R1 GigabitEthernet0/0", "R2 GigabitEthernet0/0"]\n'
               '[[segments]]\nname = "LAN"\nendpoints = ["R2 GigabitEthernet0/1", '
               '"R3 GigabitEthernet0/0", "R4 GigabitEthernet0/0"]\n')


SEGMENT_CONFIGS = {
    "R1": "interface GigabitEthernet0/0\n ip address 10.1.0.1 255.255.255.0\n no shutdown\n"
          "ip route 0.0.0.0 0.0.0.0 10.1.0.2\n",
    "R2": "interface GigabitEthernet0/0\n ip address 10.1.0.2 255.255.255.0\n no shutdown\n"
          "interface GigabitEthernet0/1\n ip address 10.9.0.2 255.255.255.0\n no shutdown\n",
    "R3": "interface GigabitEthernet0/0\n ip address 10.9.0.3 255.255.255.0\n no shutdown\n"
          "ip route 0.0.0.0 0.0.0.0 10.9.0.2\n",
    "R4": "interface GigabitEthernet0/0\n ip address 10.9.0.4 255.255.255.0\n no shutdown\n"
          "ip route 0.0.0.0 0.0.0.0 10.9.0.2\n",
}

# R1 pings 10.9.0.3 through R2, whose way out is the segment; then R3 leaves and R4 takes
# its address, announcing it with a gratuitous ARP that R2's cache learns only when asked
TAKEOVER = ("@R1\nenable\nping 10.9.0.3 repeat 20\n@R3\nenable\nconf t\n"
            "interface GigabitEthernet0/0\nshutdown\nend\n@R4\nenable\nconf t\n"
            "interface GigabitEthernet0/0\nip address 10.9.0.3 255.255.255.0\nend\n"
            "@R1\nping 10.9.0.3 repeat 20\n@R2\nenable\nshow arp\n")


def test_a_broadcast_on_the_segment_is_heard_before_switching(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = []
    for switching in (True, False):
        directory = tmp_path / str(switching)
        directory.mkdir()
        (directory / "lab.toml").write_text(SEGMENT_LAB)
        for name, config in SEGMENT_CONFIGS.items():
            (directory / f"{name}.cfg").write_text(f"hostname {name}\n{config}")
        with monkeypatch.context() as patch:
            if not switching:
                patch.setattr(IpStack, "_learn_path", lambda *args: None)
            lab = Lab.load(str(directory), nvram_dir=directory / "nv")
            runs.append(run(LabConsole(lab, "R1", paging=False), TAKEOVER))
    fast, slow = runs
    assert fast == slow
    assert fast.count("Success rate is 100 percent (20/20)") == 2  # R3, then R4 answers
    macs = dict(re.findall(r"Internet  (10\.9\.0\.[34]) +\d+ +(\S+)", fast))
    assert macs["10.9.0.3"] == macs["10.9.0.4"]  # R2 sends to R4's card


def test_an_aged_out_neighbour_is_asked_again(tmp_path: Path) -> None:
    """Four hours on, the ARP entry the adjacency was made from has aged out: the next
    echo is not switched but dropped for a new ARP request, as the slow path does."""
    c = console(tmp_path)
    run(c, ISP_ROUTES + PINGS)
    isp = _isp(c)
    link = c.lab.fabric.link_of("ISP", "GigabitEthernet0/1")
    assert link is not None
    c.lab.clock.advance(ARP_TIMEOUT + 60)
    assert ("GigabitEthernet0/0", bytes([10, 0, 2, 10])) in isp.paths  # still kept
    link.capturing = True
    isp.receive("GigabitEthernet0/0", _echo_frame(isp))
    c.lab.clock.advance(1)
    assert [frame[12:14] for _, frame in link.captured][:1] == [b"\x08\x06"]  # ARP
