"""The GRE codec (RFC 2784, RFC 2890): bytes as the RFCs lay them out, the discard rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iosim.net.gre import (
    GRE_KEEPALIVE,
    PROTOCOL_IPV4,
    GrePacket,
    gre_header_length,
    pull_gre,
    push_gre,
)
from iosim.net.packets import PacketError, internet_checksum


def test_the_basic_header_is_four_octets_flags_clear_and_the_ethertype() -> None:
    # RFC 2784 2.1: C=0, Reserved0=0, Ver=0, Protocol Type 0x0800 for IPv4
    assert push_gre(GrePacket(PROTOCOL_IPV4, b"\x45payload")) == b"\x00\x00\x08\x00\x45payload"
    assert pull_gre(b"\x00\x00\x08\x00abc") == GrePacket(0x0800, b"abc")


def test_the_key_and_sequence_follow_the_checksum_in_rfc_2890_order() -> None:
    packet = GrePacket(PROTOCOL_IPV4, b"x", checksum=True, key=0x64, sequence=7)
    data = push_gre(packet)
    assert data[:2] == b"\xb0\x00"  # C, K and S set
    assert data[6:8] == b"\x00\x00"  # Reserved1, after the checksum
    assert data[8:12] == (0x64).to_bytes(4, "big")
    assert data[12:16] == (7).to_bytes(4, "big")
    assert data[16:] == b"x"
    assert internet_checksum(data) == 0  # the checksum covers header and payload
    assert pull_gre(data) == packet
    assert len(data) - 1 == gre_header_length(True, True, True) == 16


def test_a_key_alone_sits_right_after_the_first_word() -> None:
    data = push_gre(GrePacket(PROTOCOL_IPV4, b"", key=0xDEADBEEF))
    assert data == b"\x20\x00\x08\x00\xde\xad\xbe\xef"


def test_a_keepalive_is_protocol_type_zero_without_payload() -> None:
    assert push_gre(GrePacket(GRE_KEEPALIVE)) == bytes(4)


@pytest.mark.parametrize("flags", [0x4000, 0x0800, 0x0100, 0x0400])
def test_rfc_1701_options_are_discarded(flags: int) -> None:
    # RFC 2784 2.3: routing present (bit 1), strict source route (bit 4), recursion (5-7)
    with pytest.raises(PacketError, match="RFC 1701"):
        pull_gre(flags.to_bytes(2, "big") + b"\x08\x00")


def test_reserved_bits_6_to_12_are_ignored_but_a_version_is_not() -> None:
    assert pull_gre(b"\x00\xf8\x08\x00").protocol_type == PROTOCOL_IPV4
    with pytest.raises(PacketError, match="version 1"):
        pull_gre(b"\x00\x01\x08\x00")


def test_a_bad_checksum_or_a_short_header_is_refused() -> None:
    data = bytearray(push_gre(GrePacket(PROTOCOL_IPV4, b"data", checksum=True)))
    data[-1] ^= 1
    with pytest.raises(PacketError, match="checksum"):
        pull_gre(bytes(data))
    with pytest.raises(PacketError, match="truncated"):
        pull_gre(b"\x20\x00\x08\x00\x00\x00")  # K set, no key
    with pytest.raises(PacketError, match="too short"):
        pull_gre(b"\x00\x00")


def test_values_out_of_range_are_not_encoded() -> None:
    with pytest.raises(PacketError):
        push_gre(GrePacket(0x10000))
    with pytest.raises(PacketError):
        push_gre(GrePacket(PROTOCOL_IPV4, key=1 << 32))


@given(st.integers(0, 0xFFFF), st.binary(max_size=64), st.booleans(),
       st.none() | st.integers(0, 0xFFFFFFFF), st.none() | st.integers(0, 0xFFFFFFFF))
def test_pull_undoes_push(protocol: int, payload: bytes, checksum: bool, key: int | None,
                          sequence: int | None) -> None:
    packet = GrePacket(protocol, payload, checksum, key, sequence)
    assert pull_gre(push_gre(packet)) == packet


@given(st.binary(max_size=40))
def test_any_bytes_decode_or_raise_packet_error(data: bytes) -> None:
    try:
        packet = pull_gre(data)
    except PacketError:
        return
    assert data.endswith(packet.payload)
    assert len(data) - len(packet.payload) == gre_header_length(
        packet.checksum, packet.key is not None, packet.sequence is not None)
