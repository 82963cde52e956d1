"""The IKEv2 engine's trace (``PacketSent``, ``PacketReceived``, ``Step``: what ``debug crypto
ikev2`` prints) is built only while someone listens (the engine's ``trace``), with nothing
else changed: the same outcomes, the same bytes on the wire, the same SAs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ikev2_pair import OFFER, PFS_OFFER, PROXIES, A, B, Link, pair_of, settings

from iosim.ike2.engine import Ikev2Engine
from iosim.ike2.events import (
    ChildDeleted,
    ChildUp,
    NegotiationFailed,
    PacketReceived,
    PacketSent,
    SaDown,
    Step,
)
from iosim.ike2.sa import IkeProposal

#: The events that only tell what the engine does: built only while ``trace()``.
TRACE = (PacketSent, PacketReceived, Step)
Listening = Callable[[], bool]


def _link(trace: Listening | None = None, *, b_keys: tuple[bytes, bytes] = (b"cisco123",
                                                                          b"cisco123")) -> Link:
    """A cookie-challenging responder with PFS, a DPD-probing initiator, 600 s IKE SAs; both
    engines asked ``trace`` (default: the engine's own, always listening)."""
    kw: dict[str, object] = {} if trace is None else {"trace": trace}
    return pair_of(a_settings=settings(A, lifetime=600, dpd=(10, 2, True)),
                   b_settings=settings(B, *b_keys, lifetime=600), b_pfs=14,
                   a_kw=kw, b_kw={**kw, "cookie_threshold": lambda: 0})


def _steps(link: Link) -> list[Callable[[], None]]:
    """A tunnel's life: IKE_SA_INIT (cookie) + IKE_AUTH, a PFS child rekey and the replaced
    pair deleted, DPD probes, the IKE SA rekeyed, then cleared."""
    a = link.a.engine

    def initiate(offer: object) -> Callable[[], None]:
        return lambda: a.initiate(B, PROXIES, offer, link.now,  # type: ignore[arg-type]
                                  link.a.settings)  # type: ignore[arg-type]

    return [initiate(OFFER), initiate(PFS_OFFER), lambda: link.run(35),
            lambda: link.run(545), lambda: a.delete_sa(B, link.now)]


def _a_tunnel_s_life(link: Link, before_step: Callable[[int], None] = lambda step: None
                     ) -> list[tuple[int, int]]:
    """Run ``_steps``, each after ``before_step(step)``; how many events each engine had
    reported before each step and at the end."""
    marks = []
    for step, run in enumerate(_steps(link)):
        marks.append((len(link.a.events), len(link.b.events)))
        before_step(step)
        run()
        link.pump()
    marks.append((len(link.a.events), len(link.b.events)))
    return marks


def _outcomes(events: list[object]) -> list[object]:
    return [e for e in events if not isinstance(e, TRACE)]


def _state(engine: Ikev2Engine) -> list[tuple[object, ...]]:
    """What the show commands read of an engine's IKE SAs, and its counters."""
    return [(s.sa_id, s.spi_i, s.spi_r, s.state, s.initiator, s.port, s.keys, s.suite,
             s.next_mid, s.peer_mid, s.lifetime, s.established_at, s.remote_id,
             s.nat_detected, s.fragmentation, s.children) for s in engine.sas.values()
            ] + [(engine.stats, engine.dropped)]  # type: ignore[list-item]


def test_nobody_listening_no_trace_event_is_built_and_nothing_else_changes() -> None:
    listened, unheard = _link(), _link(lambda: False)
    _a_tunnel_s_life(listened)
    _a_tunnel_s_life(unheard)
    for side in ("a", "b"):
        heard, silent = getattr(listened, side), getattr(unheard, side)
        assert sum(isinstance(e, TRACE) for e in heard.events) > 100
        assert not any(isinstance(e, TRACE) for e in silent.events)
        assert silent.events == _outcomes(heard.events)
        assert _state(silent.engine) == _state(heard.engine)
    kinds = {type(e) for e in unheard.a.events}
    assert {ChildUp, ChildDeleted, SaDown} <= kinds  # it all ran: rekeys, deletes
    assert unheard.wire == listened.wire  # the same bytes on the wire


@pytest.mark.parametrize(("keys", "failing"), [((b"wrong", b"wrong"), "b"),
                                               ((b"wrong", b"cisco123"), "a")])
def test_a_failed_authentication_differs_only_by_its_trace(keys: tuple[bytes, bytes],
                                                           failing: str) -> None:
    """The responder refuses the initiator's AUTH, or the initiator the responder's."""
    listened, unheard = _link(b_keys=keys), _link(lambda: False, b_keys=keys)
    for link in (listened, unheard):
        _steps(link)[0]()
        link.pump()
    failed = Step(1, "Verification of peer's authentication data FAILED")
    assert failed in getattr(listened, failing).events
    for side in ("a", "b"):
        heard, silent = getattr(listened, side), getattr(unheard, side)
        assert silent.events == _outcomes(heard.events) != []
    assert NegotiationFailed in {type(e) for e in getattr(unheard, failing).events}
    assert unheard.wire == listened.wire


def test_an_invalid_ke_retry_differs_only_by_its_trace() -> None:
    offered = IkeProposal("A", ("aes-cbc-128",), ("sha1",), (), (19, 14))
    wanted = IkeProposal("B", ("aes-cbc-128",), ("sha1",), (), (14,))
    listened = pair_of(a_props=[offered], b_props=[wanted])
    off = {"trace": lambda: False}
    unheard = pair_of(a_props=[offered], b_props=[wanted], a_kw=off, b_kw=off)
    for link in (listened, unheard):
        link.a.engine.initiate(B, PROXIES, OFFER, 0.0, link.a.settings)  # type: ignore[arg-type]
        link.pump()
    assert any(isinstance(e, Step) and "INVALID_KE_PAYLOAD" in e.text
               for e in listened.a.events)
    for side in ("a", "b"):
        silent, heard = getattr(unheard, side).events, getattr(listened, side).events
        assert silent == _outcomes(heard) and ChildUp in {type(e) for e in silent}
    assert unheard.wire == listened.wire


def test_the_trace_starts_and_stops_with_its_listener_between_two_inputs() -> None:
    """Listening from the child rekey on, and no more from the IKE SA rekey on: the steps
    listened to report exactly what an engine listened to all along reports."""
    listening = [False]
    switched, always = _link(lambda: listening[0]), _link()

    def switch(step: int) -> None:
        listening[0] = step in (1, 2)

    got, want = _a_tunnel_s_life(switched, switch), _a_tunnel_s_life(always)
    for step in range(len(got) - 1):
        for i, side in enumerate("ab"):
            mine = getattr(switched, side).events[got[step][i]:got[step + 1][i]]
            full = getattr(always, side).events[want[step][i]:want[step + 1][i]]
            assert any(isinstance(e, TRACE) for e in full), (step, side)
            assert mine == (full if step in (1, 2) else _outcomes(full)), (step, side)
    assert switched.wire == always.wire
