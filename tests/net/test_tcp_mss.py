"""``ip tcp adjust-mss``: the MSS option of a SYN rewritten, the checksum still right."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from iosim.net.packets import IpProtocol, Ipv4Packet, internet_checksum, pull_ipv4, push_ipv4
from iosim.net.tcp_mss import clamp_mss

SRC, DST = 0xC0A8010A, 0x0A00020A


def _segment(flags: int, options: bytes) -> bytes:
    offset = (20 + len(options)) // 4
    return (bytes.fromhex("04d20050" "00000001" "00000000") + bytes([offset << 4, flags])
            + b"\xff\xff" + b"\0\0" + b"\0\0" + options)


def _datagram(segment: bytes, **kw: object) -> bytes:
    return push_ipv4(Ipv4Packet(protocol=IpProtocol.TCP, src=SRC, dst=DST, payload=segment,
                                **kw))  # type: ignore[arg-type]


def _checksum_ok(datagram: bytes) -> bool:
    packet = pull_ipv4(datagram)
    pseudo = (SRC.to_bytes(4, "big") + DST.to_bytes(4, "big") + b"\0\x06"
              + len(packet.payload).to_bytes(2, "big"))
    return internet_checksum(pseudo + packet.payload) == 0


def test_a_syn_announcing_more_is_lowered_after_nops() -> None:
    options = b"\x01\x01\x04\x02" + b"\x02\x04\x05\xb4"  # NOP NOP SACK-permitted MSS 1460
    out = clamp_mss(_datagram(_segment(0x02, options)), 1360)
    assert out is not None
    assert pull_ipv4(out).payload[24:28] == b"\x02\x04\x05\x50"
    assert _checksum_ok(out)


def test_nothing_changes_when_there_is_nothing_to_lower() -> None:
    assert clamp_mss(_datagram(_segment(0x02, b"\x02\x04\x04\x00")), 1360) is None  # 1024
    assert clamp_mss(_datagram(_segment(0x10, b"\x02\x04\x05\xb4")), 1360) is None  # not SYN
    assert clamp_mss(_datagram(_segment(0x02, b"\x00\x00\x00\x00")), 1360) is None  # EOL
    fragment = _datagram(_segment(0x02, b"\x02\x04\x05\xb4"), mf=True)
    assert clamp_mss(fragment, 1360) is None


@given(st.binary(max_size=40), st.integers(0, 255))
def test_any_options_are_read_without_error(options: bytes, flags: int) -> None:
    options = options[: len(options) // 4 * 4]
    out = clamp_mss(_datagram(_segment(flags, options)), 536)
    if out is not None:
        assert _checksum_ok(out)
