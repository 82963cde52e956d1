"""render(parse(config)) == config: running-config text replays to the same model."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iosim.cli.replay import boot, replay_config
from iosim.clock import VirtualClock
from iosim.config.render import config_lines
from iosim.router import Router

PHYSICAL = ["GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2"]


def _router(text: str | None) -> Router:
    r = Router("R1", PHYSICAL, VirtualClock(), initial_config=text, cabled={"GigabitEthernet0/0"})
    assert boot(r) == []
    return r


def _roundtrip(commands: str) -> None:
    first = _router(None)
    errors = replay_config(first, commands, "test")
    assert errors == []
    text = "\n".join(config_lines(first.config)) + "\n"
    second = _router(text)
    assert "\n".join(config_lines(second.config)) + "\n" == text


CANONICAL = """\
hostname BRANCH-1
service password-encryption
enable secret class
username admin privilege 15 secret cisco
username guest password guest
no ip domain-lookup
ip domain-name lab.example
aaa new-model
interface Loopback0
 ip address 10.255.0.1 255.255.255.255
interface GigabitEthernet0/0
 description Link to ISP
 ip address 198.51.100.1 255.255.255.252
 no shutdown
interface GigabitEthernet0/1
 ip address 192.168.1.1 255.255.255.0
 ip address 192.168.2.1 255.255.255.0 secondary
 shutdown
ip route 0.0.0.0 0.0.0.0 198.51.100.2
ip route 10.0.0.0 255.0.0.0 GigabitEthernet0/0 198.51.100.2 250 name backup
ip access-list extended VPN_TRAFFIC
 remark interesting traffic
 permit ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255
 permit udp any host 203.0.113.2 eq isakmp
ip access-list standard MGMT
 permit 192.168.1.0 0.0.0.255
access-list 1 permit any
access-list 110 deny icmp any any echo log
banner motd #Authorized
access only#
line con 0
 password cisco
 login
 logging synchronous
line vty 0 4
 exec-timeout 5 0
 login local
 transport input ssh
"""


def test_canonical_config_round_trips() -> None:
    _roundtrip(CANONICAL)


octet = st.integers(1, 223)
names = st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True)


@st.composite
def base_configs(draw: st.DrawFn) -> str:
    lines = [f"hostname {draw(st.from_regex(r'[A-Z][A-Za-z0-9-]{0,12}', fullmatch=True))}"]
    if draw(st.booleans()):
        lines.append("service password-encryption")
    used: set[int] = set()
    for i, name in enumerate(PHYSICAL):
        lines.append(f"interface {name}")
        net = draw(octet.filter(lambda o: o not in used and o != 127))
        used.add(net)
        lines.append(f" ip address {net}.{i}.0.1 255.255.255.0")
        if draw(st.booleans()):
            lines.append(" shutdown")
        if draw(st.booleans()):
            lines.append(f" description {draw(st.from_regex(r'[a-z][a-z ]{0,20}[a-z]', fullmatch=True))}")
    for _ in range(draw(st.integers(0, 4))):
        lines.append(f"ip route {draw(octet)}.0.0.0 255.0.0.0 {sorted(used)[0]}.0.0.2")
    for _ in range(draw(st.integers(0, 3))):
        name = draw(names)
        lines.append(f"ip access-list extended {name}")
        for _ in range(draw(st.integers(1, 4))):
            proto = draw(st.sampled_from(["ip", "tcp", "udp", "icmp", "esp", "gre"]))
            src = draw(st.sampled_from(["any", "host 10.1.1.1", "192.168.0.0 0.0.255.255"]))
            dst = draw(st.sampled_from(["any", "host 10.2.2.2", "10.0.0.0 0.255.255.255"]))
            port = " eq 500" if proto == "udp" and draw(st.booleans()) else ""
            lines.append(f" {draw(st.sampled_from(['permit', 'deny']))} {proto} {src} {dst}{port}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base_configs())
def test_generated_configs_round_trip(text: str) -> None:
    _roundtrip(text)


def test_replay_error_names_file_and_line(tmp_path: Path) -> None:
    r = _router(None)
    errors = replay_config(r, "hostname A\nip rout 1.1.1.1\nhostname B\n", "lab.cfg")
    assert errors == ["lab.cfg, line 2:\nA(config)#ip rout 1.1.1.1\n% Incomplete command.\n\n"]
    assert r.config.hostname == "B"
