"""Property tests: random and mutated lines in every mode never raise (nor fail inside iosim,
which the session would report as an internal error), and a rejected line never changes the
running-config."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iosim.cli.modes import MODES
from iosim.cli.session import Session
from iosim.config.render import config_lines
from iosim.lab.console import Lab

# Lines that enter each mode from global configuration.
ENTER = {
    "config": [],
    "if": ["interface GigabitEthernet0/1"],
    "line": ["line vty 0 4"],
    "std_nacl": ["ip access-list standard MGMT"],
    "ext_nacl": ["ip access-list extended VPN_TRAFFIC"],
}

SEEDS = [
    "hostname R9", "interface GigabitEthernet0/2", "ip address 10.1.1.1 255.255.255.0",
    "no shutdown", "ip route 10.0.0.0 255.0.0.0 198.51.100.2", "access-list 101 permit ip any any",
    "permit ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255", "deny udp any host 1.2.3.4 eq isakmp",
    "remark hello", "password cisco", "login local", "transport input ssh telnet",
    "description uplink", "enable secret class", "username bob privilege 15 secret x",
    "banner motd #hi#", "no ip domain-lookup", "service password-encryption", "exit",
    "show running-config | include ip", "do show ip route", "crypto isakmp policy 10",
    "crypto map MYMAP 10 ipsec-isakmp", "set peer 203.0.113.2", "encryption aes 256",
]
WORDS = st.sampled_from(
    [w for line in SEEDS for w in line.split()] + ["?", "|", "!", "0", "999999", "-1", "\t",
                                                   "1.2.3", "256.1.1.1", "g0/9", "lo", "ñ"])


def _mutate(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(SEEDS)).split()
    ops = draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10), WORDS), max_size=4))
    for op, i, w in ops:
        i = i % (len(base) + 1)
        if op == 0:
            base.insert(i, w)
        elif op == 1 and base:
            base.pop(i % len(base))
        elif op == 2 and base:
            base[i % len(base)] = w
        elif op == 3 and base:
            word = base[i % len(base)]
            base[i % len(base)] = word[: max(1, len(word) // 2)]
    return " ".join(base)


_LAB = Lab.load(nvram_dir=Path("/nonexistent-iosim-nvram"))  # read-only use: nothing saved
mutated = st.composite(_mutate)()
random_lines = st.one_of(mutated, st.text(max_size=40), st.lists(WORDS, max_size=8).map(" ".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(sorted(ENTER)), line=random_lines)
def test_config_modes_never_crash_and_rejections_change_nothing(
        mode: str, line: str, tmp_path: Path) -> None:
    lab = Lab.load(nvram_dir=tmp_path)
    session = Session(lab.routers["R1"], mode="config", terminal_length=0)
    for enter in ENTER[mode]:
        session.execute(enter)
    assert session.mode == mode
    before = config_lines(session.router.config)
    out = session.feed(line)
    assert "internal error" not in out  # the guard would hide a crash: a crash fails here
    if session.last_error is not None:
        assert config_lines(session.router.config) == before
        # Ctrl-Z ends configuration mode even after a line IOS rejected
        assert session.mode == mode or "\x1a" in line


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=random_lines, privileged=st.booleans())
def test_exec_modes_never_crash(line: str, privileged: bool, tmp_path: Path) -> None:
    lab = Lab.load(nvram_dir=tmp_path)
    session = Session(lab.routers["R1"], mode="exec" if privileged else "user",
                      terminal_length=0)
    before = config_lines(session.router.config)
    out = session.feed(line)
    assert "internal error" not in out
    assert session.mode in MODES
    if session.mode in ("user", "exec"):
        assert config_lines(session.router.config) == before


@settings(max_examples=200, deadline=None)
@given(line=random_lines)
def test_help_and_completion_never_crash(line: str) -> None:
    lab = _LAB
    for mode in ("user", "exec", "config"):
        session = Session(lab.routers["R1"], mode=mode, terminal_length=0)
        assert isinstance(session.help(line), str)
        session.complete(line)
        session.candidates(line)
