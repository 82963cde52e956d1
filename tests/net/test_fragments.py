"""IPv4 fragmentation and reassembly (RFC 791)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from iosim.net.fragments import REASSEMBLY_TIMEOUT, Reassembler, fragment
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
