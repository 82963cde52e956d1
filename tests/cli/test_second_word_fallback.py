"""A sub-mode line whose first two words no command of the sub-mode starts with is not
parsed there (``crypto isakmp policy 10`` in ``(config-if)#``): it goes straight to the
parent modes, with the error the parse would have raised kept for the caret. What the
console prints, the mode it ends in and the running-config must be what the full parse
gave: each line below runs twice, once with that parse forced, and the two must agree."""

from __future__ import annotations

import pytest

import iosim.cli.session as session_module
from iosim.cli.errors import InvalidInput
from iosim.cli.matcher import second_word_caret
from iosim.cli.replay import boot
from iosim.cli.session import Session
from iosim.clock import VirtualClock
from iosim.router import Router

#: How each sub-mode is entered from (config)#.
SUB_MODES = {
    "if": "interface GigabitEthernet0/0",
    "isakmp": "crypto isakmp policy 1",
    "crypto-map": "crypto map CM 10 ipsec-isakmp",
    "ext-nacl": "ip access-list extended ACL",  # its commands may start with a number
    "router": "router ospf 1",
}

#: Lines typed in each sub-mode: global commands, sub-mode commands, typos, abbreviations,
#: help, odd spacing and case, comments, Ctrl-Z.
LINES = [
    "crypto isakmp policy 10",
    "cry isa pol 20",
    "CRYPTO ISAKMP POLICY 50",
    "   crypto   isakmp\tpolicy   30",
    "crypto isakmp key SECRET address 10.0.0.2",
    "crypto ipsec transform-set TS esp-aes esp-sha-hmac",
    "crypto map MYMAP",
    "crypto map CM 20 ipsec-isakmp",
    "crypto ?",
    "crypto isakmp ?",
    "cry isa ?",
    "crypto isa",
    "crypto i",
    "crypto",
    "crypto isakmpx policy 1",
    "crypto isakmp polic",
    "crypto isakmp policy",
    "crypto bogus 1",
    "crypto !comment",
    "crypto map",
    "ip address 10.1.1.1 255.255.255.0",
    "ip route 10.0.0.0 255.0.0.0 10.1.1.2",
    "ip rout 10.0.0.0 255.0.0.0 10.1.1.2",
    "ip access-list extended OTHER",
    "ip bogus",
    "ip ospf cost 5",
    "no crypto isakmp policy 20",
    "no ip route 10.0.0.0 255.0.0.0 10.1.1.2",
    "no bogus",
    "no shutdown",
    "description crypto isakmp",
    "set peer 10.0.0.2",
    "set bogus",
    "encryption aes 256",
    "permit ip any any",
    "10 permit ip any any",
    "network 10.0.0.0 0.255.255.255 area 0",
    "hostname R9",
    "username bob password x",
    "do show ip interface brief | include Gig",
    "do bogus",
    "exit now",
    "crypto isakmp policy 60\x1a",
]


def _session() -> Session:
    router = Router("R1", ["GigabitEthernet0/0", "GigabitEthernet0/1"], VirtualClock(),
                    initial_config="hostname R1\n")
    assert boot(router) == []
    return Session(router, mode="exec", terminal_length=0)


def _typed(entry: str) -> list[tuple[str, str, str]]:
    """(line, what it printed, the prompt after it) for each line typed in the sub-mode
    ``entry`` enters, then the running-config."""
    session = _session()
    seen = []
    for line in LINES:
        for setup in ("end", "configure terminal", entry):
            session.feed(setup)
        seen.append((line, session.feed(line), session.prompt))
    session.feed("end")
    seen.append(("show running-config", session.feed("show running-config"), session.prompt))
    return seen


@pytest.mark.parametrize("mode", SUB_MODES)
def test_a_line_the_sub_mode_cannot_go_on_with_behaves_as_after_a_full_parse(
        mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = session_module._second_word_error
    skipped: list[str] = []

    def counted(start: str, line: str) -> InvalidInput | None:
        error = real(start, line)
        if error is not None:
            skipped.append(line)
        return error

    with monkeypatch.context() as counting:
        counting.setattr(session_module, "_second_word_error", counted)
        checked = _typed(SUB_MODES[mode])
    assert skipped  # some lines did skip the sub-mode's parse
    if mode == "if":
        assert {"crypto isakmp policy 10", "cry isa pol 20", "ip route 10.0.0.0 255.0.0.0 "
                "10.1.1.2", "crypto isakmpx policy 1"} <= set(skipped)
    with monkeypatch.context() as forced:  # every line parsed in the sub-mode first
        forced.setattr(session_module, "_second_word_error", lambda start, line: None)
        parsed = _typed(SUB_MODES[mode])
    for (line, out, prompt), (_, want_out, want_prompt) in zip(checked, parsed, strict=True):
        assert (out, prompt) == (want_out, want_prompt), line


def test_the_check_decides_on_the_second_word_only_where_the_first_is_one_keyword() -> None:
    assert second_word_caret("if_line", "crypto", "isakmp") == 0
    assert second_word_caret("if_line", "cry", "isakmpx") == 0
    assert second_word_caret("if_line", "crypto", "map") is None
    assert second_word_caret("if_line", "crypto", "m") is None  # map: only a parse tells
    assert second_word_caret("if_line", "ip", "route") == 0
    assert second_word_caret("if_line", "ip", "address") is None
    assert second_word_caret("if_line", "ip", "!x") is None  # a comment
    assert second_word_caret("if_line", "d", "route") is None  # ambiguous: description, do, duplex
