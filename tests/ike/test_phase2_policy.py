"""IOS's phase-2 choices as pure rules: the mode a transform set proposes and accepts, PFS
taken from the initiator unless the entry requires a group, the lower lifetimes, and why
a proposal is refused."""

from __future__ import annotations

import pytest

from iosim.ike.phase2_policy import (
    LocalTransformSet,
    Phase2Policy,
    Phase2Refused,
    accepted_modes,
    between_peers,
    choose,
    initiator_offer,
    proposed_mode,
)
from iosim.ike.quick_mode import FULL_MASK, Phase2Offer, ProxyIdentity

AES = ("esp-aes 256", "esp-sha256-hmac")
DES = ("esp-3des", "esp-md5-hmac")
LOCAL, PEER = 0xC6336401, 0xCB007102  # 198.51.100.1, 203.0.113.2


def _policy(*sets: LocalTransformSet, pfs: int | None = None) -> Phase2Policy:
    return Phase2Policy(sets or (LocalTransformSet(AES),), pfs, 3600, 4608000)


def test_between_peers_means_the_two_endpoints_as_hosts() -> None:
    assert between_peers(ProxyIdentity(LOCAL, FULL_MASK, PEER, FULL_MASK, 1), LOCAL, PEER)
    assert not between_peers(ProxyIdentity(LOCAL, FULL_MASK, PEER, FULL_MASK), PEER, LOCAL)
    assert not between_peers(ProxyIdentity(LOCAL, 0xFFFFFF00, PEER, FULL_MASK), LOCAL, PEER)


@pytest.mark.parametrize(("mode", "require", "endpoints", "proposes", "accepts"), [
    ("tunnel", False, True, "tunnel", {"tunnel"}),
    ("tunnel", False, False, "tunnel", {"tunnel"}),
    ("transport", False, True, "transport", {"transport", "tunnel"}),
    ("transport", False, False, "tunnel", {"tunnel"}),
    ("transport", True, True, "transport", {"transport"}),
    ("transport", True, False, "transport", set()),
])
def test_the_mode_a_set_proposes_and_accepts(mode: str, require: bool, endpoints: bool,
                                            proposes: str, accepts: set[str]) -> None:
    ts = LocalTransformSet(AES, mode, require)
    assert proposed_mode(ts, endpoints) == proposes
    assert accepted_modes(ts, endpoints) == accepts


def test_the_initiator_offers_every_set_its_pfs_and_lifetimes() -> None:
    policy = Phase2Policy((LocalTransformSet(AES, "transport"), LocalTransformSet(DES)), 14,
                          1800, 100000)
    assert initiator_offer(policy, endpoints=True) == Phase2Offer((AES, DES), "transport", 14,
                                                                  1800, 100000)
    assert initiator_offer(policy, endpoints=False) == Phase2Offer((AES, DES), "tunnel", 14,
                                                                   1800, 100000)
    assert initiator_offer(Phase2Policy(()), endpoints=False) is None


@pytest.mark.parametrize(("ours", "offered", "answer"), [
    (None, None, None), (None, 14, 14), (None, 5, 5),  # no set pfs: the initiator's choice
    (14, 14, 14), (14, None, "pfs"), (14, 5, "pfs"),  # set pfs group14: exactly group 14
])
def test_pfs(ours: int | None, offered: int | None, answer: int | str | None) -> None:
    got = choose(_policy(pfs=ours), [Phase2Offer((AES,), "tunnel", offered)], endpoints=False)
    if isinstance(answer, str):
        assert got == Phase2Refused(answer)
    else:
        assert isinstance(got, Phase2Offer) and got.pfs_group == answer


def test_the_answer_is_the_offered_set_with_the_lower_lifetimes() -> None:
    policy = Phase2Policy((LocalTransformSet(DES), LocalTransformSet(AES)), None, 3600, 100000)
    offers = [Phase2Offer((("esp-gcm 256",),), "tunnel", None),
              Phase2Offer((AES, DES), "tunnel", None, 1800, 4608000)]
    assert choose(policy, offers, endpoints=False) == Phase2Offer((AES,), "tunnel", None,
                                                                  1800, 100000)


def test_a_refusal_names_its_cause() -> None:
    assert choose(_policy(), [Phase2Offer((DES,), "tunnel", None)], False) == Phase2Refused(
        "transform")
    assert choose(_policy(), [Phase2Offer((AES,), "transport", None)], True) == Phase2Refused(
        "mode")
    require = _policy(LocalTransformSet(AES, "transport", require=True))
    assert choose(require, [Phase2Offer((AES,), "tunnel", None)], True) == Phase2Refused("mode")
    assert choose(require, [Phase2Offer((AES,), "transport", None)], False) == Phase2Refused(
        "mode")
    # a later offer that fits wins over an earlier refusal
    prefer = _policy(LocalTransformSet(AES, "transport"))
    got = choose(prefer, [Phase2Offer((DES,), "transport", None),
                          Phase2Offer((AES,), "tunnel", None)], True)
    assert got == Phase2Offer((AES,), "tunnel", None, 3600, 4608000)
