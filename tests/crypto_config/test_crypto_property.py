"""Random and mutated lines in every crypto mode: never a Python exception, and a line the
router rejects never changes the running-config (help and Tab completion never raise)."""

from __future__ import annotations

from crypto_helpers import config_session, new_router
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iosim.config.render import running_config_text

#: (line that enters the mode, valid lines of that mode); None: global config itself.
MODES: list[tuple[str | None, list[str]]] = [
    (None, [
        "crypto isakmp policy 10", "crypto isakmp key cisco address 10.0.0.1 255.255.255.0",
        "crypto isakmp key 6 abc hostname peer", "crypto isakmp keepalive 10 3 periodic",
        "crypto isakmp nat keepalive 20", "crypto isakmp identity hostname",
        "crypto isakmp aggressive-mode disable", "crypto isakmp invalid-spi-recovery",
        "no crypto isakmp default policy", "crypto ipsec transform-set T esp-aes 256 esp-sha-hmac",
        "crypto ipsec transform-set T2 ah-sha-hmac esp-gcm 192 comp-lzs",
        "crypto ipsec security-association lifetime seconds 1800",
        "crypto ipsec security-association replay window-size 128",
        "crypto map M 10 ipsec-isakmp", "crypto map M 20 ipsec-isakmp dynamic D",
        "crypto map M local-address GigabitEthernet0/0", "crypto dynamic-map D 10",
        "crypto ipsec profile P", "crypto keyring K", "crypto isakmp profile IP",
        "no crypto map M 10", "no crypto ipsec transform-set T",
    ]),
    ("crypto isakmp policy 10", [
        "encryption aes 256", "hash sha512", "authentication pre-share", "group 24",
        "lifetime 3600", "no encryption", "default group", "exit",
    ]),
    ("crypto ipsec transform-set T esp-3des esp-md5-hmac", [
        "mode transport", "mode tunnel", "no mode", "default mode",
    ]),
    ("crypto map M 10 ipsec-isakmp", [
        "set peer 10.1.1.1", "set transform-set T", "set pfs group14", "match address 101",
        "set security-association lifetime seconds 900", "reverse-route", "description x y",
        "set isakmp-profile IP", "no set peer", "no match address", "no set pfs",
    ]),
    ("crypto ipsec profile P", [
        "set transform-set T", "set pfs", "set security-association lifetime kilobytes 9999",
        "no set transform-set", "description tunnel profile",
    ]),
    ("crypto keyring K", [
        "pre-shared-key address 10.0.0.1 key abc", "pre-shared-key hostname h key 6 xyz",
        "no pre-shared-key address 10.0.0.1", "local-address GigabitEthernet0/1",
    ]),
    ("crypto isakmp profile IP", [
        "keyring K", "match identity address 1.2.3.4 255.255.255.0", "match identity host h",
        "self-identity fqdn", "keepalive 10 retry 2", "no keyring",
    ]),
    ("interface GigabitEthernet0/0", ["crypto map M", "no crypto map", "no crypto map M"]),
]

SETUP = """\
crypto ipsec transform-set T esp-aes esp-sha-hmac
exit
crypto isakmp profile IP
exit
crypto keyring K
exit
"""

VOCAB = ["crypto", "isakmp", "ipsec", "map", "policy", "key", "address", "hostname", "set",
         "peer", "transform-set", "esp-aes", "esp-gcm", "esp-sha-hmac", "ah-md5-hmac", "256",
         "128", "0", "6", "65536", "10001", "-1", "1.2.3", "999.1.1.1", "10.0.0.1", "no",
         "default", "group", "group99", "lifetime", "seconds", "kilobytes", "4294967296",
         "dynamic", "ipsec-isakmp", "?", "!", "|", "exit", "do", "show", "match", "mode",
         "pre-shared-key", "x" * 300, "\t", "é", "GigabitEthernet0/9", "Gi0/0"]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str | None, str]:
    enter, lines = draw(st.sampled_from(MODES))
    words = draw(st.sampled_from(lines)).split()
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["drop", "insert", "replace", "truncate", "swap"]))
        if op == "drop" and words:
            del words[draw(st.integers(0, len(words) - 1))]
        elif op == "insert":
            words.insert(draw(st.integers(0, len(words))), draw(st.sampled_from(VOCAB)))
        elif op == "replace" and words:
            words[draw(st.integers(0, len(words) - 1))] = draw(
                st.sampled_from(VOCAB) | st.text(min_size=1, max_size=6))
        elif op == "truncate" and words:
            i = draw(st.integers(0, len(words) - 1))
            words[i] = words[i][: draw(st.integers(1, max(1, len(words[i]))))]
        elif op == "swap" and len(words) > 1:
            i = draw(st.integers(0, len(words) - 2))
            words[i], words[i + 1] = words[i + 1], words[i]
    return enter, " ".join(words)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated(), min_size=1, max_size=4))
def test_mutated_lines_never_crash_and_rejections_change_nothing(
        cases: list[tuple[str | None, str]]) -> None:
    router = new_router()
    session = config_session(router)
    for line in SETUP.splitlines():
        session.execute(line)
    for enter, line in cases:
        session.mode, session.target = "config", None
        if enter is not None:
            session.execute(enter)
            assert session.last_error is None
        session.help(line)
        session.help(line + " ")
        session.complete(line)
        before = running_config_text(router.config)
        session.execute(line)
        if session.last_error is not None:
            assert running_config_text(router.config) == before, line
