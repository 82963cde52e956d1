"""The KE payload of a CREATE_CHILD_SA response must match the request (RFC 7296 2.17,
1.3.1): a KEr exactly when we sent a KEi, in the group we offered. A peer that answers
otherwise gets its child refused, never an exception out of the engine nor a pair whose
keys the two sides derived differently."""

from __future__ import annotations

from collections.abc import Callable

from ikev2_pair import OFFER, PFS_OFFER, PROXIES, B, Link, pair_of

from iosim.ike.quick_mode import Phase2Offer, ProxyIdentity
from iosim.ike2.engine import Ikev2Engine
from iosim.ike2.events import ChildFailed, ChildUp
from iosim.ike2.payloads import KePayload, Payload

OTHER = ProxyIdentity(0xC0A80100, 0xFFFFFF80, 0x0A000200, 0xFFFFFF00)  # within B's ACL


def _answers_changed(engine: Ikev2Engine,
                     change: Callable[[list[Payload]], list[Payload]]) -> None:
    """``engine`` answers every CREATE_CHILD_SA for a child with ``change`` applied."""
    original = engine._child_answer

    def answer(sa, inner, *, pfs, ke, nonces=None):  # type: ignore[no-untyped-def]
        out = original(sa, inner, pfs=pfs, ke=ke, nonces=nonces)
        return change(out) if nonces is not None else out

    engine._child_answer = answer  # type: ignore[method-assign]


def _second_child(link: Link, offer: Phase2Offer) -> None:
    link.a.engine.initiate(B, PROXIES, offer, link.now, link.a.settings)  # type: ignore[arg-type]
    link.pump()
    assert len(link.a.of(ChildUp)) == 1
    link.a.engine.initiate(B, OTHER, offer, link.now, link.a.settings)  # type: ignore[arg-type]
    link.pump()


def test_a_ke_in_the_answer_to_a_request_without_pfs_fails_the_child() -> None:
    link = pair_of()
    _answers_changed(link.b.engine, lambda out: [*out, KePayload(14, bytes(256))])
    _second_child(link, OFFER)  # raised AssertionError out of receive_datagram before
    assert len(link.a.of(ChildUp)) == 1
    failed = link.a.of(ChildFailed)
    assert [(e.proxies, e.notify) for e in failed] == [  # type: ignore[attr-defined]
        (OTHER, "INVALID_SYNTAX")]
    assert link.a.engine.sa_for(B) is not None


def test_an_answer_without_ke_to_a_pfs_request_fails_the_child() -> None:
    link = pair_of(b_pfs=14)
    _answers_changed(link.b.engine,
                     lambda out: [p for p in out if not isinstance(p, KePayload)])
    _second_child(link, PFS_OFFER)  # was installed without PFS, unlike the peer's pair
    assert len(link.a.of(ChildUp)) == 1
    failed = link.a.of(ChildFailed)
    assert [(e.proxies, e.notify) for e in failed] == [  # type: ignore[attr-defined]
        (OTHER, "INVALID_SYNTAX")]
