"""Tunnel configurations written by running-config boot back to the same configuration."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iosim.cli.replay import boot, replay_config
from iosim.clock import VirtualClock
from iosim.config.render import config_lines
from iosim.config.tunnel_model import IPSEC, tunnel_of
from iosim.router import Router

PHYSICAL = ["GigabitEthernet0/0", "GigabitEthernet0/1"]

CANONICAL = """\
crypto ipsec transform-set TS esp-aes 256 esp-sha-hmac
 mode transport
crypto ipsec profile PROF
 set transform-set TS
interface Tunnel7
 description to the hub
 bandwidth 2000
 ip address 10.9.9.1 255.255.255.252
 ip mtu 1400
 ip tcp adjust-mss 1360
 keepalive 5 4
 tunnel source GigabitEthernet0/0
 tunnel destination 203.0.113.2
 tunnel mode ipsec ipv4
 tunnel key 7
 tunnel protection ipsec profile PROF shared
interface GigabitEthernet0/0
 ip address 198.51.100.1 255.255.255.252
 no keepalive
"""


def _router(text: str | None) -> Router:
    r = Router("R1", PHYSICAL, VirtualClock(), initial_config=text)
    assert boot(r) == []
    return r


def _roundtrip(commands: str) -> Router:
    first = _router(None)
    assert replay_config(first, commands, "test") == []
    text = "\n".join(config_lines(first.config)) + "\n"
    second = _router(text)
    assert "\n".join(config_lines(second.config)) + "\n" == text
    return second


def test_every_tunnel_setting_round_trips() -> None:
    router = _roundtrip(CANONICAL)
    t = tunnel_of(router.config.interfaces["Tunnel7"])
    assert (t.source, str(t.destination), t.mode, t.key, t.protection, t.shared) == (
        "GigabitEthernet0/0", "203.0.113.2", IPSEC, 7, "PROF", True)
    assert router.config.interfaces["Tunnel7"].features["keepalive"] == (5, 4)


tunnel_lines = st.lists(st.sampled_from([
    " tunnel source GigabitEthernet0/1", " tunnel source 192.0.2.1",
    " tunnel destination 198.51.100.9", " tunnel mode ipsec ipv4", " tunnel mode gre ip",
    " tunnel key 0", " tunnel key 4294967295", " keepalive", " keepalive 3", " no keepalive",
    " keepalive 1 255", " ip mtu 68", " ip mtu 17916", " bandwidth 1", " bandwidth 10000000",
    " ip tcp adjust-mss 500", " no tunnel key", " no tunnel source", " shutdown",
    " tunnel protection ipsec profile P", " no tunnel protection ipsec profile",
]), max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tunnel_lines)
def test_any_sequence_of_tunnel_commands_round_trips(lines: list[str]) -> None:
    _roundtrip("interface Tunnel0\n" + "\n".join(lines) + "\n")
