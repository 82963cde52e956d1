"""The IKEv2 engine's timers with many peers: each peer's retransmissions, half-open timeouts
and DPD run at their own instants, and an event for one peer makes the engine look again at
that peer only (one deadline per peer, not a scan of every IKE SA on each query)."""

from __future__ import annotations

from ikev2_pair import DEFAULT, OFFER, PROXIES, A, B, pair_of, settings, side

from iosim.ike2.engine import Ikev2Engine
from iosim.ike2.events import PeerDead
from iosim.ike2.timers import HALF_OPEN_LIFE, RETRANSMIT_FIRST

PEERS = 40


def _initiator(n: int) -> Ikev2Engine:
    return side(A + n, f"i{n}", [DEFAULT], settings(A + n), PROXIES).engine


def test_each_peer_retransmits_at_its_own_time() -> None:
    a = side(A, "a", [DEFAULT], settings(A), PROXIES).engine
    for n in range(PEERS):  # one IKE_SA_INIT to a silent peer every 0.1 s
        a.initiate(B + n, PROXIES, OFFER, n / 10, settings(A))
    assert len(a.datagrams_with_ports()) == PEERS
    assert a.get_timer() == RETRANSMIT_FIRST  # the first peer's, 2 s after it was asked
    sent: list[tuple[float, int]] = []
    now = 0.0
    while (when := a.get_timer()) is not None and when < RETRANSMIT_FIRST + PEERS / 10:
        assert when > now
        now = when
        a.handle_timer(now)
        sent += [(now, peer) for peer, _, _ in a.datagrams_with_ports()]
    # one retransmission per peer, in the order they were asked, 2 s after each
    assert [peer for _, peer in sent] == [B + n for n in range(PEERS)]
    assert [round(t - n / 10, 9) for n, (t, _) in enumerate(sent)] == [RETRANSMIT_FIRST] * PEERS


def test_half_open_sas_time_out_one_by_one() -> None:
    b = side(B, "b", [DEFAULT], settings(B), PROXIES.mirrored()).engine
    for n in range(PEERS):
        i = _initiator(n)
        i.initiate(B, PROXIES, OFFER, n, settings(A + n))
        (_, data, port), = i.datagrams_with_ports()
        b.receive_datagram(data, A + n, float(n), port)
    assert len(b.sas) == PEERS and b.datagrams_with_ports()
    left = []
    while (when := b.get_timer()) is not None:
        b.handle_timer(when)
        left.append((when, len(b.sas)))
    assert left == [(HALF_OPEN_LIFE + n, PEERS - 1 - n) for n in range(PEERS)]


def test_an_event_for_one_peer_recomputes_that_peer_only() -> None:
    a = side(A, "a", [DEFAULT], settings(A), PROXIES).engine
    for n in range(PEERS):
        a.initiate(B + n, PROXIES, OFFER, 0.0, settings(A))
    a.get_timer()
    looked_at: list[int] = []
    recompute = a._peer_deadline

    def spy(peer: int) -> float | None:
        looked_at.append(peer)
        return recompute(peer)

    a._peer_deadline = spy  # type: ignore[method-assign]
    a.receive_datagram(b"\0" * 40, B + 7, 1.0)  # garbage from one peer: dropped
    assert a.get_timer() == RETRANSMIT_FIRST
    assert looked_at == [B + 7]
    assert a.get_timer() == RETRANSMIT_FIRST and looked_at == [B + 7]  # nothing new


def test_dpd_and_lifetimes_still_run_with_the_index() -> None:
    """A pair up with DPD: the probe leaves after each interval, and the IKE SA is rekeyed
    at 90 % of its lifetime (the deadlines of an established SA)."""
    mine = settings(A, dpd=(10, 2, True), lifetime=600)
    link = pair_of(a_settings=mine)
    link.a.engine.initiate(B, PROXIES, OFFER, 0.0, mine)
    link.run(1.0)
    (first,) = link.a.engine.sas.values()
    probes = len(link.wire)
    link.run(10.5)
    assert len(link.wire) == probes + 2  # one empty INFORMATIONAL and its answer
    link.run(539.0)
    assert list(link.a.engine.sas.values()) == [first]
    link.run(541.0)
    (second,) = link.a.engine.sas.values()
    assert second is not first and second.session_id == first.sa_id


def _informational(link: object) -> int:
    from iosim.ike2.payloads import pull_header

    return sum(1 for name, d, _ in link.wire  # type: ignore[attr-defined]
               if name == "a" and pull_header(d).exchange_type == 37)


def test_on_demand_dpd_probes_only_traffic_sent_to_a_quiet_peer() -> None:
    mine = settings(A, dpd=(10, 2, False))
    link = pair_of(a_settings=mine)
    link.a.engine.initiate(B, PROXIES, OFFER, 0.0, mine)
    link.run(1.0)
    a = link.a.engine
    link.run(100.0)
    assert _informational(link) == 0  # idle both ways: nothing to doubt
    a.note_traffic(B, link.now, inbound=True)  # the peer's packet and our reply
    a.note_traffic(B, link.now, inbound=False)
    link.run(200.0)
    assert _informational(link) == 0
    a.note_traffic(B, link.now, inbound=True)
    for _ in range(3):  # sending, the peer heard from less than 10 s before
        link.run(link.now + 3)
        a.note_traffic(B, link.now, inbound=False)
    link.run(link.now + 30)
    assert _informational(link) == 0
    sent_at = link.now
    a.note_traffic(B, sent_at, inbound=False)  # sending after 39 s without a word
    assert a.get_timer() == sent_at  # the probe leaves with it
    link.run(sent_at + 0.5)
    assert _informational(link) == 1  # answered: the peer lives, no more probes
    link.run(sent_at + 100)
    assert _informational(link) == 1 and a.sa_for(B) is not None


def test_on_demand_dpd_finds_a_dead_peer_with_traffic_one_way() -> None:
    mine = settings(A, dpd=(10, 2, False))
    link = pair_of(a_settings=mine)
    link.a.engine.initiate(B, PROXIES, OFFER, 0.0, mine)
    link.run(1.0)
    link.lost = 10 ** 6  # the peer goes away
    start = link.now
    while link.now < start + 40:
        link.a.engine.note_traffic(B, link.now, inbound=False)
        link.run(link.now + 1)
    assert link.a.of(PeerDead) and not link.a.engine.sas
    assert _informational(link) == 6  # the probe and five retries
