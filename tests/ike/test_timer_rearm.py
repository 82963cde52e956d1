"""No periodic timer can re-arm at the instant it runs: retransmissions, DPD probes and their
retries, NAT keepalives. Start times and intervals are floats of the kind that round
(0.1, 1/3, 1e9 + 0.7 ...); each deadline a timer re-arms at must be strictly later than the
instant it ran at, or virtual time would stand still (the clock would spin for ever)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import A_ADDR, B_ADDR, OFFER, PROXIES, Pair, policy
from test_engine_phase1 import engine, pair, up

from iosim.deadlines import deadline_after
from iosim.ike.engine import DpdSent, DpdSettings, PeerDead, Phase1Failed
from iosim.ipsec.sa_lifecycle import nat_keepalive_step

START = st.one_of(
    st.sampled_from([0.1, 1 / 3, 5.0003, 77.7, 1e9 + 0.7, 2.0**40 + 0.1, 1e12 + 0.3,
                     2.0**60]),  # the last: a retransmission interval is below its ulp
    st.floats(min_value=0.0, max_value=1e18, allow_nan=False, allow_infinity=False))
#: where a second still shows: traffic one tick after an SA came up is later than it
LAB_START = START.filter(lambda t: t < 1e12)


def _run_timers(p_engine_now: list[float], get_timer, handle_timer, limit: int) -> int:  # type: ignore[no-untyped-def]
    """Fire the engine's timer until it has none; every re-armed deadline must be later
    than the instant its timer ran at. Returns how many times it fired."""
    fired = 0
    while (when := get_timer()) is not None:
        assert when > p_engine_now[0], (when, p_engine_now[0])
        p_engine_now[0] = when
        handle_timer(when)
        fired += 1
        assert fired <= limit, "a timer that never ends"
    return fired


@settings(max_examples=60, deadline=None)
@given(START)
def test_retransmissions_and_giving_up_always_move_time_forward(start: float) -> None:
    a = engine(A_ADDR, B_ADDR, "rt")
    a.initiate(B_ADDR, PROXIES, OFFER, start)
    a.datagrams_to_send()
    now = [start]
    fired = _run_timers(now, a.get_timer, a.handle_timer, 20)
    # five retransmissions, giving up, then the deleted SA's listing runs out
    assert fired == 7
    events = []
    while (e := a.next_event()) is not None:
        events.append(e)
    assert [e for e in events if isinstance(e, Phase1Failed)]
    assert len(a.datagrams_to_send()) == 5


def _dpd_pair(start: float, settings_: DpdSettings) -> Pair:
    small = [policy(group=2)]  # a small DH group: fast examples
    p = pair({"dpd_for": lambda peer: settings_, "policies": small}, {"policies": small},
             seed="rearm")
    p.now = start
    up(p)
    return p


@settings(max_examples=25, deadline=None)
@given(LAB_START, st.integers(10, 3600), st.integers(2, 60), st.booleans())
def test_dpd_probes_and_retries_always_move_time_forward(start: float, interval: int,
                                                         retry: int, periodic: bool) -> None:
    p = _dpd_pair(start, DpdSettings(interval, retry, periodic))
    p.drop = lambda i, who, d: True  # the peer vanishes
    now = [p.now]

    def handle(when: float) -> None:
        p.a.handle_timer(when)
        p.now = when
        p.pump()

    if not periodic:  # on-demand probes only for traffic sent after a quiet interval
        p.now = now[0] = deadline_after(p.now, interval)
        p.a.note_traffic(B_ADDR, p.now, inbound=False)
        assert p.a.get_timer() <= p.now  # the probe leaves with it, not later
        handle(p.now)
    _run_timers(now, p.a.get_timer, handle, 40)
    assert len(p.of("a", DpdSent)) == 6  # a probe and five retries
    assert p.of("a", PeerDead)


@given(START, st.sampled_from([5, 10, 20, 1 / 3, 0.1, 3600]),
       st.lists(st.floats(min_value=0.0, max_value=50.0, allow_nan=False), max_size=8))
def test_nat_keepalives_always_move_time_forward(start: float, interval: float,
                                                 traffic: list[float]) -> None:
    """The keepalive timer of a pair installed at ``start``, with ESP sent now and then:
    it fires, re-arms strictly later, and sends once per quiet interval."""
    last_out = start
    armed = start + interval  # install: call_later(interval)
    sends = 0
    pending = sorted(start + t for t in traffic)
    for _ in range(30):
        while pending and pending[0] < armed:  # traffic before the timer fires
            last_out = max(last_out, pending.pop(0))
        now = armed
        send, armed = nat_keepalive_step(now, last_out, interval)
        assert armed > now
        if send:
            sends += 1
            assert now >= last_out + interval
            last_out = now
    assert sends >= 1
