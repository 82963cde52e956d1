"""IPv4 fragmentation and reassembly (RFC 791)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from workcount import mean_work

from iosim.net.fragments import (
    MAX_FRAGMENTS,
    MAX_REASSEMBLIES,
    MAX_REASSEMBLY_OCTETS,
    REASSEMBLY_TIMEOUT,
    Reassembler,
    fragment,
)
from iosim.net.packets import Ipv4Packet, pull_ipv4


def _packet(size: int) -> Ipv4Packet:
    return Ipv4Packet(identification=77, protocol=1, src=0x0A000001, dst=0x0A000002,
                      payload=bytes(i % 251 for i in range(size)))


def test_a_small_datagram_is_left_whole() -> None:
    assert len(fragment(_packet(1480))) == 1


def test_fragments_fit_the_mtu_and_carry_offsets_in_eight_octet_units() -> None:
    pieces = [pull_ipv4(p) for p in fragment(_packet(3000), 1500)]
    assert [len(p.payload) for p in pieces] == [1480, 1480, 40]
    assert [p.fragment_offset for p in pieces] == [0, 185, 370]
    assert [p.mf for p in pieces] == [True, True, False]
    assert all(p.total_length <= 1500 for p in pieces)


@given(size=st.integers(0, 9000), mtu=st.integers(68, 1500), order=st.randoms())
def test_any_order_of_fragments_reassembles_to_the_original(size: int, mtu: int,
                                                            order: object) -> None:
    original = _packet(size)
    pieces = [pull_ipv4(p) for p in fragment(original, mtu)]
    order.shuffle(pieces)  # type: ignore[attr-defined]
    r = Reassembler()
    results = [r.add(p, 0.0) for p in pieces] if len(pieces) > 1 else [original]
    done = [x for x in results if x is not None]
    assert len(done) == 1
    assert done[0].payload == original.payload and done[0].identification == 77


def test_an_incomplete_datagram_is_forgotten_after_the_timeout() -> None:
    pieces = [pull_ipv4(p) for p in fragment(_packet(3000))]
    r = Reassembler()
    assert r.add(pieces[0], 0.0) is None
    assert r.add(pieces[2], REASSEMBLY_TIMEOUT + 1) is None  # the first one expired
    assert r.timed_out == 1
    assert r.add(pieces[1], REASSEMBLY_TIMEOUT + 2) is None  # still missing offset 0


# --- bounded reassembly -------------------------------------------------------------------------


def _first_fragment(ident: int, size: int = 1480, src: int = 0x0A000001) -> Ipv4Packet:
    """The first fragment of a datagram whose other fragments never come."""
    return Ipv4Packet(identification=ident & 0xFFFF, protocol=17, src=src + (ident >> 16),
                      dst=0x0A000002, mf=True, payload=bytes(size))


@pytest.mark.parametrize("count", [100, 1000])
def test_incomplete_datagrams_beyond_the_cap_are_dropped_and_counted(count: int) -> None:
    r = Reassembler()
    for i in range(count):
        assert r.add(_first_fragment(i), 1.0) is None
    assert len(r.partial) == MAX_REASSEMBLIES
    assert r.dropped_reassemblies == r.dropped_fragments == count - MAX_REASSEMBLIES
    assert r.held == MAX_REASSEMBLIES * 1480


def test_the_octets_held_are_capped_over_all_datagrams() -> None:
    r = Reassembler(max_reassemblies=10_000)
    for i in range(2_000):
        r.add(_first_fragment(i, size=1480), 1.0)
    assert r.held <= MAX_REASSEMBLY_OCTETS
    assert len(r.partial) == MAX_REASSEMBLY_OCTETS // 1480
    assert r.dropped_fragments == 2_000 - len(r.partial) and r.dropped_reassemblies == 0


def test_a_datagram_of_too_many_fragments_is_refused_beyond_the_cap() -> None:
    r = Reassembler()
    for n in range(MAX_FRAGMENTS + 10):  # 8-octet pieces, the last never sent
        r.add(Ipv4Packet(identification=9, protocol=17, src=1, dst=2, mf=True,
                         fragment_offset=n, payload=bytes(8)), 1.0)
    assert len(r.partial[(1, 2, 17, 9)].pieces) == MAX_FRAGMENTS
    assert r.dropped_fragments == 10
    # a fragment resent at an offset already held replaces it: no new piece, not refused
    r.add(Ipv4Packet(identification=9, protocol=17, src=1, dst=2, mf=True,
                     fragment_offset=3, payload=bytes(8)), 1.0)
    assert r.dropped_fragments == 10


def test_expired_datagrams_free_their_places_and_octets() -> None:
    r = Reassembler()
    for i in range(200):
        r.add(_first_fragment(i), 1.0)
    assert r.add(_first_fragment(500), 1.0 + REASSEMBLY_TIMEOUT) is None
    assert r.dropped_reassemblies == 200 - MAX_REASSEMBLIES + 1  # still within the timeout
    complete = fragment(_packet(3000))
    whole = [r.add(pull_ipv4(p), 1.0 + REASSEMBLY_TIMEOUT + 0.5) for p in complete]
    assert r.timed_out == MAX_REASSEMBLIES and whole[-1] is not None
    assert whole[-1].payload == _packet(3000).payload
    assert not r.partial and r.held == 0


def _work_per_fragment(held: int) -> float:
    """Instructions run per fragment with ``held`` incomplete datagrams waiting."""
    r = Reassembler(max_reassemblies=1_000_000, max_octets=1 << 40)
    for i in range(held):  # all within the timeout: none expires while measured
        r.add(_first_fragment(i, size=8), 1.0 + i / 1e6)
    assert len(r.partial) == held
    n = iter(range(held, held + 100))
    return mean_work(lambda: r.add(_first_fragment(next(n), size=8), 2.0), 50)


def test_the_work_per_fragment_does_not_grow_with_the_datagrams_waiting() -> None:
    small, large = _work_per_fragment(500), _work_per_fragment(5000)
    assert large <= small * 1.05, (small, large)
