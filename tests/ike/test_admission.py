"""Call admission control and the engine's cost under a flood of first messages.

A responder receives main-mode first messages (MM1) from many forged addresses and cookies:
each admitted one leaves a half-open ISAKMP SA. The SA table must stop at the cap, refusals
must be counted, established SAs must keep working, and the work per datagram and per timer
must not grow with the number of SAs (counted in instructions run, for N and 10N SAs)."""

from __future__ import annotations

import pytest
from test_engine import A_ADDR, B_ADDR, OFFER, PROXIES, Pair, ios_select, policy
from workcount import mean_work

from iosim.crypto.rand import SeededRandom
from iosim.ike.admission import (
    DEFAULT_IN_NEGOTIATION,
    IN_NEGOTIATION_LIMIT,
    PER_PEER_IN_NEGOTIATION,
    SA_LIMIT,
    AdmissionDenied,
    AdmissionLimits,
    CallAdmission,
)
from iosim.ike.engine import IkeEngine, Phase2Established, ProxyIdentity
from iosim.ike.main_mode import GIVE_UP_AFTER

FORGED = 0x64400000  # 100.64.0.0: forged sources, one address per message
OTHER = ProxyIdentity(0xC0A80300, 0xFFFFFF00, 0xC0A80400, 0xFFFFFF00)


def _mm1() -> bytes:
    """A genuine first main-mode message (its cookie is rewritten per forged copy)."""
    a = IkeEngine(A_ADDR, rand=SeededRandom("mm1"), policies=lambda: [policy()],
                  psk_for=lambda peer: "cisco123")
    a.initiate(B_ADDR, PROXIES, OFFER, 0.0)
    ((_, data),) = a.datagrams_to_send()
    return data


MM1 = _mm1()


def forged(i: int) -> bytes:
    return (0xF0000000 + i).to_bytes(8, "big") + MM1[8:]


def responder(admission: CallAdmission | None = None) -> IkeEngine:
    """A responder with a wildcard key (``crypto isakmp key ... address 0.0.0.0``): every
    forged first message it admits costs it an SA."""
    return IkeEngine(B_ADDR, rand=SeededRandom("b"), policies=lambda: [policy()],
                     psk_for=lambda peer: "cisco123", select_phase2=ios_select(OFFER),
                     admission=admission)


def flood(b: IkeEngine, count: int, *, first: int = 0, now: float = 1.0,
          same_source: bool = False) -> None:
    for i in range(first, first + count):
        b.receive_datagram(forged(i), FORGED if same_source else FORGED + i, now)
        b.datagrams_to_send()
    b.get_timer()


def drain(b: IkeEngine) -> list[object]:
    events = []
    while (e := b.next_event()) is not None:
        events.append(e)
    return events


def half_open(b: IkeEngine) -> int:
    return sum(s.state == "MM_SA_SETUP" and s.status == "ACTIVE" for s in b.isakmp_sas())


def test_the_default_in_negotiation_cap_holds_the_table_at_a_thousand() -> None:
    b = responder()
    flood(b, DEFAULT_IN_NEGOTIATION + 500)
    assert half_open(b) == DEFAULT_IN_NEGOTIATION == b.admission.negotiating
    c = b.admission.counters
    assert (c.incoming, c.incoming_rejected, c.rejected_in_negotiation) == (1500, 500, 500)
    denied = [e for e in drain(b) if isinstance(e, AdmissionDenied)]
    assert len(denied) == 500 and denied[0] == AdmissionDenied(
        FORGED + DEFAULT_IN_NEGOTIATION, False, IN_NEGOTIATION_LIMIT)


@pytest.mark.parametrize("count", [50, 500])
def test_a_configured_limit_caps_n_and_10n_alike(count: int) -> None:
    b = responder(CallAdmission(lambda: AdmissionLimits(in_negotiation=20)))
    flood(b, count)
    assert half_open(b) == 20
    assert b.admission.counters.incoming_rejected == count - 20


def test_one_address_gets_a_few_half_open_sas_whatever_its_cookies() -> None:
    b = responder()
    flood(b, 50, same_source=True)
    assert half_open(b) == PER_PEER_IN_NEGOTIATION
    assert b.admission.counters.rejected_in_negotiation == 50 - PER_PEER_IN_NEGOTIATION
    flood(b, 5, first=100)  # other addresses are still welcome
    assert half_open(b) == PER_PEER_IN_NEGOTIATION + 5


def test_half_open_sas_give_up_and_free_their_slots() -> None:
    b = responder(CallAdmission(lambda: AdmissionLimits(in_negotiation=10)))
    flood(b, 30)
    assert half_open(b) == 10
    when = b.get_timer()
    assert when is not None and when == pytest.approx(1.0 + GIVE_UP_AFTER)
    b.handle_timer(when)
    assert b.admission.negotiating == 0
    flood(b, 10, first=1000, now=when)
    assert half_open(b) == 10 and b.admission.counters.incoming_rejected == 20


def test_an_established_tunnel_keeps_working_under_the_flood_and_counts_as_active() -> None:
    cac = CallAdmission(lambda: AdmissionLimits(ike_sa=40, in_negotiation=20))
    p = Pair(IkeEngine(A_ADDR, rand=SeededRandom("a"), policies=lambda: [policy()],
                       psk_for=lambda peer: "cisco123"), responder(cac))
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    assert cac.active == 1 and cac.negotiating == 0
    flood(p.b, 100, now=p.now)
    assert (cac.active, cac.negotiating) == (1, 20)
    p.collect()
    p.a.initiate(B_ADDR, OTHER, OFFER, p.now)  # a second quick mode over the old SA
    p.pump()
    assert len(p.of("b", Phase2Established)) == 2
    # the SA limit counts active and negotiating SAs
    cac.limits = lambda: AdmissionLimits(ike_sa=21, in_negotiation=100)
    flood(p.b, 1, first=500, now=p.now)
    assert cac.counters.rejected_sa_limit == 1
    assert [e for e in p.b._events if isinstance(e, AdmissionDenied)][-1].reason == SA_LIMIT


def test_our_own_negotiation_is_refused_at_the_cap_and_counted_as_outgoing() -> None:
    cac = CallAdmission(lambda: AdmissionLimits(in_negotiation=10))
    b = responder(cac)
    flood(b, 10)
    b.initiate(A_ADDR, PROXIES, OFFER, 2.0)
    assert b.datagrams_to_send() == []
    assert (cac.counters.outgoing, cac.counters.outgoing_rejected) == (1, 1)
    assert AdmissionDenied(A_ADDR, True, IN_NEGOTIATION_LIMIT) in drain(b)


def _work_per_first_message(sas: int) -> float:
    """Instructions run per forged MM1 (processed, answered, timer re-read) once ``sas`` half-open
    SAs exist."""
    b = responder(CallAdmission(lambda: AdmissionLimits(in_negotiation=99999)))
    flood(b, sas)
    drain(b)
    n = iter(range(sas, sas + 1000))

    def one() -> None:
        i = next(n)
        b.receive_datagram(forged(i), FORGED + i, 2.0)
        b.datagrams_to_send()
        drain(b)
        b.get_timer()

    return mean_work(one, 20)


def test_the_work_per_datagram_does_not_grow_with_the_number_of_sas() -> None:
    small, large = _work_per_first_message(200), _work_per_first_message(2000)
    assert large <= small * 1.05, (small, large)


def _work_per_timer(sas: int) -> float:
    """Instructions run by one timer (one peer's half-open SA gives up) among ``sas`` SAs."""
    b = responder(CallAdmission(lambda: AdmissionLimits(in_negotiation=99999)))
    for i in range(sas):  # one per millisecond: their give-up times differ
        b.receive_datagram(forged(i), FORGED + i, 1.0 + i / 1000)
        b.datagrams_to_send()
    drain(b)
    b.get_timer()

    def one() -> None:
        when = b.get_timer()
        assert when is not None
        b.handle_timer(when)
        drain(b)
        b.get_timer()

    return mean_work(one, 20)


def test_the_work_per_timer_does_not_grow_with_the_number_of_sas() -> None:
    small, large = _work_per_timer(200), _work_per_timer(2000)
    assert large <= small * 1.05, (small, large)
