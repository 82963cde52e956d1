"""The fact bank and the fill-in-the-command bank: well formed, and judged as IOS reads."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from iosim.quiz.commands import ASKS, Ask, CommandAnswer
from iosim.quiz.facts import FACTS
from iosim.quiz.model import ChoiceAnswer, ValueAnswer, shuffled
from iosim.quiz.runner import every_source
from iosim.quiz.topics import TOPICS


def test_keys_are_unique_and_topics_known() -> None:
    keys = [s.key for s in every_source()]
    assert len(keys) == len(set(keys))
    assert {s.topic for s in every_source()} == set(TOPICS)
    assert len(FACTS) >= 40


@pytest.mark.parametrize("fact", FACTS, ids=lambda f: f.key)
def test_every_fact_has_one_right_choice_and_an_explanation(fact) -> None:  # type: ignore[no-untyped-def]
    q = fact.make(random.Random(fact.key))
    assert isinstance(q.answer, ChoiceAnswer)
    choices = q.answer.choices
    assert len(choices) == 4 and len(set(choices)) == 4
    assert choices.count(fact.right) == 1 and choices[q.answer.correct] == fact.right
    right = [i for i in range(4) if q.answer.judge("ABCD"[i]) == (True, "")]
    assert right == [q.answer.correct]
    assert len(q.explanation) > 40 and q.text.endswith("?")


def test_choices_are_shuffled_per_seed() -> None:
    fact = FACTS[0]
    positions = Counter(fact.make(random.Random(seed)).answer.correct  # type: ignore[attr-defined]
                        for seed in range(40))
    assert len(positions) == 4
    assert fact.make(random.Random("x")) == fact.make(random.Random("x"))


def test_message_counts_are_right_where_study_guides_get_them_wrong() -> None:
    by_key = {f.key: f for f in FACTS}
    assert by_key["main-mode-messages"].right == "6"
    assert "9" in by_key["main-mode-messages"].wrong
    assert "RFC 2409 says 6" in by_key["main-mode-messages"].explanation
    assert by_key["aggressive-mode-messages"].right == "3"
    assert by_key["quick-mode-messages"].right == "3"


@pytest.mark.parametrize("reply,index", [("a", 0), ("A", 0), ("B)", 1), ("(c)", 2), ("d.", 3),
                                          (" b ", 1), ("fifty", 2)])
def test_a_choice_is_read_by_letter_or_text(reply: str, index: int) -> None:
    answer = ChoiceAnswer(("ten", "twenty", "fifty", "one"), 2)
    assert answer.chosen(reply) == index
    assert answer.judge(reply) == (index == 2, "")


@pytest.mark.parametrize("reply", ["", "e", "AB", "maybe", "1"])
def test_a_reply_that_is_no_choice_is_not_judged(reply: str) -> None:
    assert ChoiceAnswer(("w", "x", "y", "z"), 0).judge(reply) is None


def test_fewer_choices_say_so() -> None:
    answer = shuffled(random.Random(1), "aes", ["3des", "des"])
    assert len(answer.choices) == 3 and answer.retry == "Please answer A, B or C."
    assert answer.judge("d") is None


@pytest.mark.parametrize("kind,value,right,wrong,unread", [
    ("number", 12, ["12", " 12 ", "1,2"], ["13", "0"], ["", "twelve", "-12"]),
    ("spi", 0x3772C41A, ["0x3772C41A", "0x3772c41a", "3772C41A", "930268186"], ["0x3772C41B"],
     ["", "0xZZ", "spi?"]),
    ("address", 0xCB007101, ["203.0.113.1"], ["203.0.113.2"], ["", "203.0.113", "peer"]),
    ("duration", 86397, ["23:59:57", "86397"], ["23:59:58"], ["", "1:2:3:4", "soon"]),
])
def test_values_are_read_as_ios_prints_them(kind: str, value: int, right: list[str],
                                            wrong: list[str], unread: list[str]) -> None:
    answer = ValueAnswer(kind, value)
    assert all(answer.judge(r) == (True, "") for r in right)
    assert all(answer.judge(r) == (False, "") for r in wrong)
    assert all(answer.judge(r) is None for r in unread)


# ------------------------------------------------------------------ fill in the command


@pytest.mark.parametrize("ask", ASKS, ids=lambda a: a.key)
def test_every_model_answer_is_accepted_in_its_mode(ask: Ask) -> None:
    for _, model in ask.variants:
        verdict = ask.answer(model).judge(model)
        assert verdict is not None and verdict.correct, (model, verdict)


def _by_key(key: str, variant: int = 0) -> CommandAnswer:
    ask = next(a for a in ASKS if a.key == key)
    return ask.answer(ask.variants[variant][1])


@pytest.mark.parametrize("key,variant,reply", [
    ("cmd-show-ipsec-sa", 0, "sh cry ips sa"),
    ("cmd-show-ipsec-sa", 0, "show crypto ipsec sa detail"),
    ("cmd-show-ipsec-sa", 0, "sh cry ipsec sa | inc encaps"),
    ("cmd-show-isakmp-sa", 0, "sh cry isa sa"),
    ("cmd-show-isakmp-sa-detail", 0, "sh cry isa sa det"),
    ("cmd-show-engine", 0, "sh cry eng conn act"),
    ("cmd-debug-isakmp", 0, "deb cry isa"),
    ("cmd-clear-sa", 0, "clea cry sa"),
    ("cmd-isakmp-key", 0, "crypto isakmp key MyOwnKey address 203.0.113.2"),
    ("cmd-isakmp-key", 0, "cry isa key 0 k3y addr 203.0.113.2 255.255.255.255"),
    ("cmd-transform-set", 0, "cry ips transform-set MYSET esp-sha256-hmac esp-aes 256"),
    ("cmd-isakmp-encryption", 0, "encr aes 256"),
    ("cmd-set-pfs", 0, "set pfs group14"),
    ("cmd-apply-map", 0, "cry map MYMAP"),
    ("cmd-acl-line", 0, "perm ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255"),
])
def test_abbreviations_and_equivalent_forms_count(key: str, variant: int, reply: str) -> None:
    verdict = _by_key(key, variant).judge(reply)
    assert verdict is not None and verdict.correct, verdict


@pytest.mark.parametrize("key,variant,reply,says", [
    ("cmd-show-ipsec-sa", 0, "show crypto isakmp sa", "reads as: show crypto isakmp sa"),
    ("cmd-show-ipsec-sa", 0, "sh cry ipsex sa", "% Invalid input detected at '^' marker."),
    ("cmd-show-ipsec-sa", 0, "sh cry ips", "% Incomplete command."),
    ("cmd-show-isakmp-sa-detail", 0, "show crypto isakmp sa", "reads as"),
    ("cmd-debug-isakmp", 0, "debug crypto ipsec", "reads as: debug crypto ipsec"),
    ("cmd-clear-isakmp", 0, "clear crypto sa", "reads as"),
    ("cmd-isakmp-key", 0, "crypto isakmp key SECRETKEY123 address 203.0.113.9", "reads as"),
    ("cmd-isakmp-key", 0, "cry isa k SECRETKEY123 address 203.0.113.2", "% Ambiguous command"),
    ("cmd-transform-set", 0, "crypto ipsec transform-set MYSET esp-aes esp-sha256-hmac",
     "reads as"),
    ("cmd-transform-set", 0, "crypto ipsec transform-set OTHER esp-aes 256 esp-sha256-hmac",
     "reads as"),
    ("cmd-isakmp-encryption", 0, "encryption aes", "reads as"),
    ("cmd-apply-map", 0, "crypto map OTHERMAP", "reads as"),
    ("cmd-acl-line", 0, "permit ip any any", "reads as"),
])
def test_wrong_commands_are_marked_wrong_and_say_why(key: str, variant: int, reply: str,
                                                     says: str) -> None:
    verdict = _by_key(key, variant).judge(reply)
    assert verdict is not None and not verdict.correct
    assert says in verdict.note


def test_the_caret_stands_under_the_first_bad_character() -> None:
    verdict = _by_key("cmd-show-ipsec-sa").judge("show crypto ipsex sa")
    assert verdict is not None
    lines = verdict.note.splitlines()
    typed = next(ln for ln in lines if ln.startswith("R1#"))
    caret = lines[lines.index(typed) + 1]
    assert typed[caret.index("^"):] == "x sa"  # "ipse" still fits "ipsec", as IOS marks it


def test_an_empty_command_is_no_answer() -> None:
    assert _by_key("cmd-show-ipsec-sa").judge("   ") is None


def test_a_reply_may_spell_out_ios_defaults_and_number_an_acl_line() -> None:
    from iosim.quiz.commands import ASKS

    asks = {a.key: a for a in ASKS}
    aes128 = asks["cmd-transform-set"].answer(
        "crypto ipsec transform-set TS1 esp-aes esp-sha-hmac")
    for reply, right in (("crypto ipsec transform-set TS1 esp-aes 128 esp-sha-hmac", True),
                         ("crypto ipsec transform-set TS1 esp-aes 256 esp-sha-hmac", False),
                         ("cry ips transform-set TS1 esp-sha-hmac esp-aes", True)):
        verdict = aes128.judge(reply)
        assert verdict is not None and verdict.correct is right, reply
    line = asks["cmd-acl-line"].answer("permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255")
    numbered = line.judge("10 permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255")
    assert numbered is not None and numbered.correct
    wrong = line.judge("permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.254")
    assert wrong is not None and not wrong.correct
