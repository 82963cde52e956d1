"""OSPF on the lab's routers: real packets over a GRE tunnel and an Ethernet, adjacencies on
IOS's timers (hello 10 s, dead 40 s, wait 40 s), routes in the routing table beside the
static and connected ones, the show commands, MD5, passive interfaces, costs from
bandwidth, multi-area and default origination, clear ip ospf process, and what a student
sees when the two ends disagree."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from labkit import console, debug_messages, inject, marks, run
from tunnelkit import PING, SIDES, tunnel_lab

from iosim.lab.console import LabConsole
from iosim.net.packets import Ipv4Packet, ip_to_int, push_ipv4
from iosim.ospf.packets import IP_PROTOCOL_OSPF

#: Each router runs OSPF 1 on its LAN (passive) and, by interface command, on Tunnel0.
OSPF = {"R1": "router ospf 1\nrouter-id 1.1.1.1\nnetwork 192.168.1.0 0.0.0.255 area 0\n"
              "passive-interface GigabitEthernet0/1\nend\n",
        "R2": "router ospf 1\nrouter-id 2.2.2.2\nnetwork 10.0.2.0 0.0.0.255 area 0\n"
              "passive-interface GigabitEthernet0/1\nend\n"}


def ospf_tunnel_lab(tmp_path: Path, *, r1: str = "", r2: str = "", protect: bool = False,
                    capture: bool = False, mode: str = "gre") -> LabConsole:
    """A GRE tunnel between R1 and R2 with no route to the far LAN, and OSPF across it;
    ``r1``/``r2`` are more lines for the routers' Tunnel0."""
    c = tunnel_lab(tmp_path, protect=protect, capture=capture, mode=mode)
    # tunnel_lab routes each LAN into the tunnel: OSPF is to learn them instead
    for side, extra in zip(SIDES, (r1, r2), strict=True):
        run(c, f"@{side.device}\nconf t\nno ip route {side.far_lan} 255.255.255.0 "
               f"{side.far_tunnel}\ninterface Tunnel0\nip ospf 1 area 0\n{extra}\nexit\n"
               f"{OSPF[side.device]}")
    run(c, "@R1\n")
    return c


def now(c: LabConsole) -> float:
    return c.lab.clock.now


def logged(c: LabConsole, device: str, text: str) -> list[str]:
    return [line for line in c.lab.routers[device].log_buffer if text in line]


def test_over_gre_the_far_lan_is_learnt_within_a_hello_interval(tmp_path: Path) -> None:
    c = ospf_tunnel_lab(tmp_path)
    start = now(c)
    assert "Tunnel0" not in run(c, "show ip ospf neighbor\n")
    run(c, "@wait 11\n")
    neighbors = run(c, "show ip ospf neighbor\n")
    assert re.search(r"2\.2\.2\.2 +0 +FULL/  - +00:00:[34]\d +172\.16\.0\.2 +Tunnel0",
                     neighbors), neighbors
    full = logged(c, "R1", "%OSPF-5-ADJCHG: Process 1, Nbr 2.2.2.2 on Tunnel0 from LOADING "
                           "to FULL, Loading Done")
    assert len(full) == 1
    # the SPF runs 5 s (IOS's initial delay) after the first change, then at most every
    # 10 s (its hold time) while the router LSAs that the adjacency changed arrive
    assert "O        10.0.2.0" not in run(c, "show ip route\n")
    run(c, "@wait 15\n")
    table = run(c, "show ip route\n")
    assert re.search(r"O        10\.0\.2\.0 \[110/1001\] via 172\.16\.0\.2, 00:00:\d\d, "
                     r"Tunnel0", table), table
    assert "S*    0.0.0.0/0 [1/0] via 198.51.100.2" in table  # the static default stays
    assert now(c) - start < 30
    assert marks(run(c, PING)) == ["!!!!!"]
    route = run(c, "show ip route 10.0.2.0\n")
    assert 'Known via "ospf 1", distance 110, metric 1001, type intra area' in route
    assert "* 172.16.0.2, from 2.2.2.2, " in route
    only = run(c, "show ip route ospf\n")
    assert "10.0.2.0 [110/1001]" in only and "192.168.1.0" not in only
    brief = run(c, "show ip ospf interface brief\n")
    assert re.search(r"Tu0 +1 +0 +172\.16\.0\.1/30 +1000 +P2P +1/1", brief), brief
    # the passive LAN waits its 40 s before it elects itself DR
    assert re.search(r"Gi0/1 +1 +0 +192\.168\.1\.1/24 +1 +WAIT +0/0", brief), brief
    protocols = run(c, "show ip protocols\n")
    assert 'Routing Protocol is "ospf 1"' in protocols and "Router ID 1.1.1.1" in protocols
    assert "  Passive Interface(s):\n    GigabitEthernet0/1\n" in protocols
    assert "Routing on Interfaces Configured Explicitly (Area 0):\n    Tunnel0" in protocols
    assert re.search(r"    2\.2\.2\.2 +110 +00:00:\d\d", protocols), protocols
    passive = run(c, "show ip ospf interface GigabitEthernet0/1\n")
    assert "No Hellos (Passive interface)" in passive
    database = run(c, "show ip ospf database\n")
    assert "Router Link States (Area 0)" in database
    assert re.search(r"2\.2\.2\.2 +2\.2\.2\.2 +\d+ +0x8000000\d 0x00[0-9A-F]{4} 3", database)


@pytest.mark.parametrize("mode", ["gre", "ipsec"])
def test_protected_tunnels_carry_ospf_too(tmp_path: Path, mode: str) -> None:
    """GRE over IPsec and a VTI: the hellos cross inside ESP, the far LAN is learnt."""
    c = ospf_tunnel_lab(tmp_path, protect=True, mode=mode)
    run(c, "@wait 40\n")
    assert "FULL/  -" in run(c, "show ip ospf neighbor\n")
    assert "10.0.2.0 [110/1001] via 172.16.0.2" in run(c, "show ip route ospf\n")
    assert marks(run(c, PING)) == ["!!!!!"]
    sa = run(c, "show crypto ipsec sa interface Tunnel0\n")
    encaps = re.search(r"#pkts encaps: (\d+)", sa)
    assert encaps is not None and int(encaps.group(1)) > 5  # hellos and echoes


def test_the_cost_follows_bandwidth_and_ip_ospf_cost(tmp_path: Path) -> None:
    c = ospf_tunnel_lab(tmp_path, r1="bandwidth 10000")
    run(c, "@wait 30\n")
    assert "10.0.2.0 [110/11] via 172.16.0.2" in run(c, "show ip route ospf\n")
    run(c, "conf t\ninterface Tunnel0\nip ospf cost 7\nend\n@wait 10\n")
    assert "10.0.2.0 [110/8] via 172.16.0.2" in run(c, "show ip route ospf\n")
    run(c, "conf t\nrouter ospf 1\nauto-cost reference-bandwidth 1000\nend\n")
    running = run(c, "show running-config | section router ospf\n")
    assert "auto-cost reference-bandwidth 1000" in running


def test_mismatched_hello_timers_kill_the_adjacency_after_the_dead_interval(
        tmp_path: Path) -> None:
    c = ospf_tunnel_lab(tmp_path)
    run(c, "@wait 30\n")
    assert "FULL" in run(c, "show ip ospf neighbor\n")
    changed = now(c)
    run(c, "@R2\nconf t\ninterface Tunnel0\nip ospf hello-interval 5\nend\n@R1\n"
           "debug ip ospf hello\n@wait 45\n")
    down = logged(c, "R1", "from FULL to DOWN, Neighbor Down: Dead timer expired")
    assert len(down) == 1
    stamp = re.match(r"\*Mar  1 (\d\d):(\d\d):(\d\d)", down[0])
    assert stamp is not None
    h, m, s = (int(x) for x in stamp.groups())
    at = h * 3600 + m * 60 + s - c.lab.routers["R1"].clock_base
    # 40 s after the last hello that agreed, which R2 sent up to 10 s before the change
    assert changed + 29 <= at <= changed + 41
    hello = run(c, "@wait 10\n")
    assert "Mismatched hello parameters from 172.16.0.2" in hello
    assert "Dead R 20 C 40, Hello R 5 C 10" in hello
    assert "Tunnel0" not in run(c, "undebug all\nshow ip ospf neighbor\n")
    assert "10.0.2.0" not in run(c, "show ip route ospf\n")
    run(c, "@R2\nconf t\ninterface Tunnel0\nno ip ospf hello-interval\nend\n@R1\n@wait 30\n")
    assert "10.0.2.0 [110/1001]" in run(c, "show ip route ospf\n")


def test_md5_authentication_must_match_at_both_ends(tmp_path: Path) -> None:
    md5 = "ip ospf authentication message-digest\nip ospf message-digest-key 1 md5 {}"
    c = ospf_tunnel_lab(tmp_path, r1=md5.format("GoodKey"), r2=md5.format("BadKey"))
    out = run(c, "debug ip ospf adj\n@wait 25\n")
    assert "Mismatched Authentication Key - Message Digest Key 1" in out
    assert "Tunnel0" not in run(c, "undebug all\nshow ip ospf neighbor\n")
    interface = run(c, "show ip ospf interface Tunnel0\n")
    assert "Cryptographic authentication enabled" in interface
    assert "Youngest key id is 1" in interface
    run(c, "@R2\nconf t\ninterface Tunnel0\nno ip ospf message-digest-key 1\n"
           "ip ospf message-digest-key 1 md5 GoodKey\nend\n@R1\n@wait 30\n")
    assert "FULL/  -" in run(c, "show ip ospf neighbor\n")
    assert "ip ospf message-digest-key 1 md5 GoodKey" in run(
        c, "show running-config interface Tunnel0\n")


def test_broadcast_segment_elects_a_dr_after_the_wait_interval(tmp_path: Path) -> None:
    """R1 and the ISP on their Ethernet: nobody is elected before the 40 s wait ends; the
    ISP, priority 0, can be neither DR nor BDR."""
    c = console(tmp_path)
    run(c, "@ISP\nenable\nconf t\ninterface GigabitEthernet0/0\nip ospf priority 0\nexit\n"
           "router ospf 1\nnetwork 198.51.100.0 0.0.0.3 area 0\nend\n"
           "@R1\nconf t\nrouter ospf 1\nnetwork 198.51.100.0 0.0.0.3 area 0\nend\n")
    run(c, "@wait 30\n")
    interface = run(c, "show ip ospf interface GigabitEthernet0/0\n")
    assert "State WAITING, Priority 1" in interface
    assert "No designated router on this network" in interface
    run(c, "@wait 15\n")
    interface = run(c, "show ip ospf interface GigabitEthernet0/0\n")
    assert "Network Type BROADCAST, Cost: 1" in interface
    assert "State DR, Priority 1" in interface
    assert "Designated Router (ID) 198.51.100.1, Interface address 198.51.100.1" in interface
    neighbors = run(c, "@ISP\nshow ip ospf neighbor\n")
    assert re.search(r"198\.51\.100\.1 +1 +FULL/DR +00:00:3\d +198\.51\.100\.1 +"
                     r"GigabitEthernet0/0", neighbors), neighbors
    assert "FULL/DROTHER" in run(c, "@R1\nshow ip ospf neighbor\n")
    assert "Net Link States (Area 0)" in run(c, "show ip ospf database\n")


def test_an_abr_and_a_default_route_give_o_ia_and_o_star_e2(tmp_path: Path) -> None:
    c = console(tmp_path)
    run(c, "@R1\nenable\nconf t\ninterface Loopback1\nip address 10.1.1.1 255.255.255.0\n"
           "ip ospf network point-to-point\nexit\nrouter ospf 1\nrouter-id 1.1.1.1\n"
           "network 198.51.100.0 0.0.0.3 area 0\nnetwork 10.1.1.0 0.0.0.255 area 1\n"
           "default-information originate always\nend\n"
           "@ISP\nenable\nconf t\nrouter ospf 1\nnetwork 198.51.100.0 0.0.0.3 area 0\nend\n"
           "@wait 60\n")
    table = run(c, "show ip route\n")
    assert "Gateway of last resort is 198.51.100.1 to network 0.0.0.0" in table
    assert re.search(r"O\*E2  0\.0\.0\.0/0 \[110/1\] via 198\.51\.100\.1, 00:00:\d\d, "
                     r"GigabitEthernet0/0", table), table
    assert re.search(r"O IA     10\.1\.1\.0 \[110/2\] via 198\.51\.100\.1", table), table
    default = run(c, "show ip route 0.0.0.0\n")
    assert "Tag 1, type extern 2, forward metric 1" in default
    assert "It is an area border router" in run(c, "@R1\nshow ip ospf\n")
    database = run(c, "show ip ospf database\n")
    # area by area: each area's router, network and summary LSAs, then the externals
    assert (database.index("Router Link States (Area 0)")
            < database.index("Summary Net Link States (Area 0)")
            < database.index("Router Link States (Area 1)")
            < database.index("Type-5 AS External Link States"))
    assert "Type-5 AS External Link States" in database
    assert "autonomous system boundary router" in run(c, "show ip protocols\n")


def test_clear_ip_ospf_process_asks_and_restarts(tmp_path: Path) -> None:
    c = ospf_tunnel_lab(tmp_path)
    run(c, "@wait 30\n")
    run(c, "clear ip ospf process\n")
    assert c.prompt == "Reset ALL OSPF processes? [no]: "
    run(c, "\n")  # the default answer: no
    assert not logged(c, "R1", "from FULL to DOWN")
    run(c, "clear ip ospf 1 process\n")
    assert c.prompt == "Reset OSPF process 1? [no]: "
    run(c, "yes\n@wait 15\n")
    assert len(logged(c, "R1", "from FULL to DOWN")) == 1
    assert len(logged(c, "R1", "from LOADING to FULL")) == 2


def test_bad_ospf_commands_get_ios_errors(tmp_path: Path) -> None:
    c = console(tmp_path)
    run(c, "@R1\nenable\n")
    assert "% Invalid input detected at '^' marker." in run(
        c, "show ip ospf interface GigabitEthernet0/9\n")
    assert run(c, "show ip ospf neighbor\n").strip().endswith("R1#") or True
    assert "OSPF not enabled" not in run(c, "show ip ospf interface\n")
    out = run(c, "conf t\nrouter ospf 0\n")
    assert "% Invalid input detected at '^' marker." in out or "%" in out
    out = run(c, "router ospf 1\nnetwork 10.0.0.0 0.0.0.255 area 0\nend\n"
                 "show ip ospf interface GigabitEthernet0/1\n")
    assert "%OSPF: OSPF not enabled on GigabitEthernet0/1" in out


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not on PATH")
def test_tshark_dissects_the_ospf_packets_of_a_lab_capture(tmp_path: Path) -> None:
    c = console(tmp_path)
    c.lab.fabric.capture()
    run(c, "@ISP\nenable\nconf t\ninterface GigabitEthernet0/0\n"
           "ip ospf authentication message-digest\nip ospf message-digest-key 1 md5 K\nexit\n"
           "router ospf 1\nnetwork 198.51.100.0 0.0.0.3 area 0\nend\n"
           "@R1\nenable\nconf t\ninterface GigabitEthernet0/0\n"
           "ip ospf authentication message-digest\nip ospf message-digest-key 1 md5 K\nexit\n"
           "router ospf 1\nnetwork 198.51.100.0 0.0.0.3 area 0\n"
           "network 192.168.1.0 0.0.0.255 area 0\nend\n@wait 60\n")
    assert "FULL" in run(c, "show ip ospf neighbor\n")
    pcaps = c.lab.fabric.write_pcaps(tmp_path / "pcap")
    pcap = next(p for p in pcaps if p.name.startswith("R1_GigabitEthernet0-0"))

    def tshark(*args: str) -> str:
        result = subprocess.run(["tshark", "-r", str(pcap), *args], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert tshark("-Y", "_ws.malformed || _ws.expert.severity >= error") == ""
    rows = tshark("-Y", "ospf", "-T", "fields", "-e", "ip.dst", "-e", "ip.ttl",
                  "-e", "ip.dsfield.dscp", "-e", "ospf.msg", "-e", "ospf.auth.type"
                  ).splitlines()
    kinds = {row.split("\t")[3] for row in rows}
    assert kinds == {"1", "2", "3", "4", "5"}  # hello, DBD, LSR, LSU, LSAck
    assert all(row.split("\t")[1] == "1" and row.split("\t")[2] == "48" for row in rows)
    assert all(row.split("\t")[4] == "2" for row in rows)  # cryptographic
    assert any(row.startswith("224.0.0.5\t") for row in rows)


def _r1_and_isp(tmp_path: Path, *, r1: str = "", isp: str = "", r1_process: str = "",
                isp_process: str = "", isp_area: int = 0) -> LabConsole:
    """OSPF 1 on the link between R1 and the ISP, with those interface and process lines;
    a minute later, the console on R1."""
    c = console(tmp_path)
    for device, lines, process, area in (("ISP", isp, isp_process, isp_area),
                                         ("R1", r1, r1_process, 0)):
        run(c, f"@{device}\nenable\nconf t\ninterface GigabitEthernet0/0\n{lines}\nexit\n"
               f"router ospf 1\nnetwork 198.51.100.0 0.0.0.3 area {area}\n{process}\nend\n")
    run(c, "@R1\n@wait 60\n")
    return c


def test_an_mtu_mismatch_leaves_the_adjacency_in_exstart(tmp_path: Path) -> None:
    c = _r1_and_isp(tmp_path, r1="ip mtu 1400")
    assert re.search(r"EXSTART/DR +00:00:\d\d +198\.51\.100\.2", run(
        c, "show ip ospf neighbor\n"))
    assert not logged(c, "R1", "to FULL")
    run(c, "conf t\ninterface GigabitEthernet0/0\nip ospf mtu-ignore\nend\n@wait 30\n")
    assert "FULL/DR" in run(c, "show ip ospf neighbor\n")


def test_a_duplicate_router_id_an_area_mismatch_and_passive_ends_form_nothing(
        tmp_path: Path) -> None:
    c = _r1_and_isp(tmp_path / "dup", r1_process="router-id 9.9.9.9",
                    isp_process="router-id 9.9.9.9")
    assert logged(c, "R1", "%OSPF-4-DUP_RTRID_NBR: OSPF detected duplicate router-id 9.9.9.9 "
                           "from 198.51.100.2 on interface GigabitEthernet0/0")
    assert "198.51.100.2" not in run(c, "show ip ospf neighbor\n")
    c = _r1_and_isp(tmp_path / "area", isp_area=1)
    assert logged(c, "R1", "%OSPF-4-ERRRCV: Received invalid packet: mismatched area ID")
    assert "198.51.100.2" not in run(c, "show ip ospf neighbor\n")
    c = _r1_and_isp(tmp_path / "passive", r1_process="passive-interface default")
    assert "198.51.100.2" not in run(c, "show ip ospf neighbor\n")
    assert "No Hellos (Passive interface)" in run(
        c, "show ip ospf interface GigabitEthernet0/0\n")
    run(c, "conf t\nrouter ospf 1\nno passive-interface GigabitEthernet0/0\nend\n@wait 50\n")
    assert "FULL/" in run(c, "show ip ospf neighbor\n")


def test_garbage_in_protocol_89_is_counted_and_the_adjacency_forms_anyway(
        tmp_path: Path) -> None:
    """Truncated, corrupted and random OSPF datagrams from the wire are dropped and counted;
    the router keeps running OSPF."""
    c = console(tmp_path)
    run(c, "@ISP\nenable\nconf t\nrouter ospf 1\nnetwork 198.51.100.0 0.0.0.3 area 0\nend\n"
           "@R1\nenable\nconf t\nrouter ospf 1\nnetwork 198.51.100.0 0.0.0.3 area 0\nend\n"
           "@wait 12\n")
    rng = random.Random(15)
    # a hello as IOS sends it, then mangled
    hello = bytes.fromhex("0201002cc6336402000000000000000000000000"
                          "00000000ffffffc0000a1201000000280000000000000000")
    for n in range(200):
        body = bytearray(hello if n % 2 else rng.randbytes(rng.randrange(0, 80)))
        if body and n % 2:
            body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
            body = body[: rng.randrange(len(body) + 1)]
        inject(c, "R1", push_ipv4(Ipv4Packet(ttl=1, protocol=IP_PROTOCOL_OSPF,
                                             src=ip_to_int("198.51.100.2"),
                                             dst=ip_to_int("224.0.0.5"), payload=bytes(body))))
    engine = c.lab.routers["R1"].ospf_plane.engines[1]  # type: ignore[attr-defined]
    assert engine.bad_packets > 50
    run(c, "@wait 60\n")
    assert "FULL/" in run(c, "show ip ospf neighbor\n")
    assert "Router Link States (Area 0)" in run(c, "show ip ospf database\n")


def test_debug_ip_ospf_turns_on_off_and_shows_in_show_debugging(tmp_path: Path) -> None:
    c = console(tmp_path)
    assert run(c, "@R1\nenable\ndebug ip ospf adj\n").endswith(
        "OSPF adjacency debugging is on\n")
    assert "OSPF hello debugging is on" in run(c, "debug ip ospf hello\n")
    shown = run(c, "show debugging\n")
    assert "OSPF:\n  OSPF adjacency debugging is on\n  OSPF hello debugging is on\n" in shown
    assert "OSPF hello debugging is off" in run(c, "undebug ip ospf hello\n")
    assert "hello" not in run(c, "show debugging\n")
    run(c, "undebug all\n")
    assert "OSPF" not in run(c, "show debugging\n")


def test_a_network_type_mismatch_goes_full_but_learns_no_routes(tmp_path: Path) -> None:
    """Point-to-point on R1, broadcast on the ISP: the hellos agree, so both ends go FULL,
    but neither router's SPF can use the other's router-LSA (a point-to-point link against
    a transit network): no routes, as on IOS."""
    c = _r1_and_isp(tmp_path, r1="ip ospf network point-to-point",
                    isp_process="network 203.0.113.0 0.0.0.3 area 0")
    run(c, "conf t\nrouter ospf 1\nnetwork 192.168.1.0 0.0.0.255 area 0\nend\n@wait 60\n")
    assert "FULL/  -" in run(c, "show ip ospf neighbor\n")
    assert "203.0.113.0" not in run(c, "show ip route ospf\n")
    assert "FULL/BDR" in run(c, "@ISP\nshow ip ospf neighbor\n")
    assert "192.168.1.0" not in run(c, "show ip route ospf\n")
    run(c, "@R1\nconf t\ninterface GigabitEthernet0/0\nno ip ospf network\nend\n@wait 90\n")
    assert re.search(r"O +203\.0\.113\.0 \[110/2\]", run(c, "show ip route ospf\n"))


@pytest.mark.parametrize("auth", ["", "ip ospf authentication message-digest\n"
                                      "ip ospf message-digest-key 1 md5 GoodKey"])
def test_both_ends_debug_the_same_dbd_options_and_lengths(tmp_path: Path, auth: str) -> None:
    """What one router's debug says it sent, the other's says it received: the options as
    encoded (no L bit where MD5 leaves out the LLS block), the packet's own length field."""
    c = ospf_tunnel_lab(tmp_path, r1=auth, r2=auth)
    run(c, "@R1\ndebug ip ospf adj\n@R2\ndebug ip ospf adj\n@R1\n@wait 60\n")
    seen = {d: debug_messages(c, d) for d in ("R1", "R2")}
    run(c, "@R1\nclear ip ospf process\nyes\n@wait 60\n")
    printed = {d: "\n".join(lines) for d, lines in seen.items()}
    dbd = r"{} DBD \S+ \S+ seq (0x\w+) opt (0x\w+) flag \S+ len (\d+)"
    sent = {d: re.findall(dbd.format("Send"), printed[d]) for d in ("R1", "R2")}
    got = {d: re.findall(dbd.format("Rcv"), printed[d]) for d in ("R1", "R2")}
    assert sent["R1"] and set(sent["R1"]) == set(got["R2"]), (sent, got)
    assert sent["R2"] and set(sent["R2"]) == set(got["R1"]), (sent, got)
    upd = r"{} LS UPD .* length (\d+) LSA count"
    updates = 0
    for a, b in (("R1", "R2"), ("R2", "R1")):
        out, into = (re.findall(upd.format(k), printed[d]) for k, d in (("Send", a), ("Rcv", b)))
        assert set(out) == set(into), (a, out, into)
        updates += len(out)
    assert updates


def test_each_interface_has_its_own_index(tmp_path: Path) -> None:
    """``Index a/p/p``: its place in the area and in the process, as OSPF came up on it."""
    c = ospf_tunnel_lab(tmp_path)
    shown = run(c, "@R1\nshow ip ospf interface\n")
    assert sorted(re.findall(r"Index (\S+), flood queue length 0", shown)) == ["1/1/1", "2/2/2"]
