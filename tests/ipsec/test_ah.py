"""AH codec for IPv4 (RFC 4302): ICV coverage, mutable fields, tunnel/transport, AH+ESP."""

from __future__ import annotations

import hmac

import pytest

from iosim.ipsec import ah, esp
from iosim.ipsec.ah import AhSa
from iosim.ipsec.esp import (
    AuthenticationError,
    EspSa,
    MalformedPacketError,
    ReplayError,
    UnknownSpiError,
    build_ipv4_header,
)
from iosim.ipsec.replay import ReplayWindow
from iosim.ipsec.transforms import AH_TRANSFORMS, encryption_transform, integrity_transform
from iosim.net.packets import internet_checksum

SHA1 = integrity_transform("ah-sha-hmac")
KEY = bytes(range(20))


def udp_packet(ttl: int = 64, tos: int = 0, options: bytes = b"") -> bytes:
    payload = bytes.fromhex("04d2162e000c0000") + b"data"
    ihl = 5 + len(options) // 4
    header = bytearray(build_ipv4_header("10.1.1.1", "10.2.2.2", 17, len(payload) + len(options),
                                         ident=0x1234, ttl=ttl, tos=tos))
    header[0] = 0x40 | ihl
    header = header + options
    header[10:12] = b"\0\0"
    header[10:12] = internet_checksum(bytes(header)).to_bytes(2)
    return bytes(header) + payload


def refresh_checksum(packet: bytearray) -> bytes:
    ihl = (packet[0] & 0x0F) * 4
    packet[10:12] = b"\0\0"
    packet[10:12] = internet_checksum(bytes(packet[:ihl])).to_bytes(2)
    return bytes(packet)


@pytest.mark.parametrize("name", sorted(AH_TRANSFORMS))
def test_transport_round_trip_and_layout(name: str) -> None:
    row = AH_TRANSFORMS[name]
    sa = AhSa(0x2001, row, bytes(row.key_size))
    packet = udp_packet()
    wire = ah.transport_encapsulate(sa, 1, packet)
    assert wire[9] == ah.IPPROTO_AH
    assert int.from_bytes(wire[2:4]) == len(wire) == len(packet) + 12 + row.icv_size
    assert internet_checksum(wire[:20]) == 0
    assert wire[20] == 17  # AH next header: the original protocol
    assert wire[21] == (12 + row.icv_size) // 4 - 2  # Payload Len (RFC 4302 2.2)
    assert wire[22:24] == b"\0\0"
    assert wire[24:28] == (0x2001).to_bytes(4) and wire[28:32] == (1).to_bytes(4)
    assert ah.transport_decapsulate(sa, wire) == (1, packet)


def test_icv_matches_an_independent_computation() -> None:
    """Recompute the RFC 4302 3.3.3.1 ICV input by hand and HMAC it with the stdlib."""
    sa = AhSa(0x2001, SHA1, KEY)
    packet = udp_packet(ttl=9, tos=0x28)
    wire = ah.transport_encapsulate(sa, 7, packet)
    header = bytearray(wire[:20])
    header[1] = 0  # TOS
    header[6:8] = b"\0\0"  # flags + fragment offset
    header[8] = 0  # TTL
    header[10:12] = b"\0\0"  # checksum
    icv_input = bytes(header) + wire[20:32] + bytes(12) + wire[44:]
    expected = hmac.new(KEY, icv_input, "sha1").digest()[:12]
    assert wire[32:44] == expected


def test_mutable_fields_do_not_break_the_icv() -> None:
    sa = AhSa(0x2001, SHA1, KEY)
    wire = ah.transport_encapsulate(sa, 1, udp_packet())
    for offset, value in ((8, 3), (1, 0xB8), (6, 0x40)):  # TTL, TOS/DSCP, DF flag
        changed = bytearray(wire)
        changed[offset] = value
        seq, restored = ah.transport_decapsulate(sa, refresh_checksum(changed))
        assert seq == 1 and restored[20:] == udp_packet()[20:]


@pytest.mark.parametrize(
    ("offset", "what"),
    [(12, "source address"), (16, "destination address"), (4, "identification"),
     (9, "protocol"), (28, "sequence number"), (36, "ICV"), (50, "payload")],
)
def test_immutable_fields_break_the_icv(offset: int, what: str) -> None:
    sa = AhSa(0x2001, SHA1, KEY)
    changed = bytearray(ah.transport_encapsulate(sa, 1, udp_packet()))
    changed[offset] ^= 0x01
    expected = MalformedPacketError if what == "protocol" else AuthenticationError
    with pytest.raises(expected):
        ah.transport_decapsulate(sa, refresh_checksum(changed))


def test_options_mutable_zeroed_immutable_covered() -> None:
    sa = AhSa(0x2001, SHA1, KEY)
    # Record Route (7, mutable) then Router Alert (148, immutable), padded to 12 bytes.
    options = bytes([7, 7, 4, 0, 0, 0, 0]) + bytes([148, 4, 0, 0]) + b"\0"
    packet = udp_packet(options=options)
    wire = ah.transport_encapsulate(sa, 1, packet)
    assert ah.transport_decapsulate(sa, wire) == (1, packet)
    record_route = bytearray(wire)
    record_route[23:27] = bytes([10, 9, 9, 9])  # a router recorded its address
    record_route[22] = 8
    assert ah.transport_decapsulate(sa, refresh_checksum(record_route))[0] == 1
    router_alert = bytearray(wire)
    router_alert[29] = 1
    with pytest.raises(AuthenticationError):
        ah.transport_decapsulate(sa, refresh_checksum(router_alert))
    broken = bytearray(wire)
    broken[21] = 40  # option length runs past the header
    with pytest.raises(MalformedPacketError):
        ah.transport_decapsulate(sa, refresh_checksum(broken))


def test_tunnel_mode() -> None:
    sa = AhSa(0x2001, integrity_transform("ah-sha256-hmac"), bytes(32))
    inner = udp_packet(tos=0x20)
    wire = ah.tunnel_encapsulate(sa, 5, inner, "192.0.2.1", "192.0.2.2", ident=3)
    assert wire[9] == ah.IPPROTO_AH and wire[1] == 0x20 and wire[12:16] == bytes([192, 0, 2, 1])
    assert wire[20] == 4  # next header: IPv4
    assert ah.tunnel_decapsulate(sa, wire) == (5, inner)
    changed = bytearray(wire)
    changed[-1] ^= 0xFF  # inner payload
    with pytest.raises(AuthenticationError):
        ah.tunnel_decapsulate(sa, bytes(changed))
    transport = ah.transport_encapsulate(sa, 6, inner)
    with pytest.raises(MalformedPacketError):
        ah.tunnel_decapsulate(sa, transport)  # next header 17, not a tunnelled packet


@pytest.mark.parametrize("tunnel", [False, True])
def test_ah_outside_esp(tunnel: bool) -> None:
    ah_out = AhSa(0x2001, SHA1, KEY)
    ah_in = AhSa(0x2001, SHA1, KEY)
    enc, integ = encryption_transform("esp-aes 256"), integrity_transform("esp-sha-hmac")
    esp_out = EspSa(0x3001, enc, integ, bytes(32), bytes(20))
    esp_in = EspSa(0x3001, enc, integ, bytes(32), bytes(20))
    packet = udp_packet()
    ends = ("192.0.2.1", "192.0.2.2") if tunnel else None
    wire = ah.bundle_encapsulate(ah_out, 1, esp_out, 1, bytes(16), packet, tunnel=ends)
    assert wire[9] == ah.IPPROTO_AH and wire[20] == esp.IPPROTO_ESP  # IPv4 | AH | ESP
    assert wire[32 + 12 : 32 + 16] == (0x3001).to_bytes(4)
    windows = (ReplayWindow(), ReplayWindow())
    got = ah.bundle_decapsulate(ah_in, esp_in, wire, tunnel=tunnel,
                                ah_replay=windows[0], esp_replay=windows[1])
    assert got == (1, 1, packet)
    tampered = bytearray(wire)
    tampered[-1] ^= 1  # inside ESP's ICV: AH, outermost, refuses it first
    with pytest.raises(AuthenticationError, match="AH"):
        ah.bundle_decapsulate(ah_in, esp_in, bytes(tampered), tunnel=tunnel)
    with pytest.raises(ReplayError):
        ah.bundle_decapsulate(ah_in, esp_in, wire, tunnel=tunnel,
                              ah_replay=windows[0], esp_replay=windows[1])


def test_replay_window_and_forgery() -> None:
    sa = AhSa(0x2001, SHA1, KEY)
    window = ReplayWindow()
    wire = ah.transport_encapsulate(sa, 1, udp_packet())
    ah.transport_decapsulate(sa, wire, window)
    with pytest.raises(ReplayError):
        ah.transport_decapsulate(sa, wire, window)
    forged = bytearray(ah.transport_encapsulate(sa, 2, udp_packet()))
    forged[28:32] = (500).to_bytes(4)
    with pytest.raises(AuthenticationError):
        ah.transport_decapsulate(sa, bytes(forged), window)
    assert window.top == 1


def test_rejections() -> None:
    sa = AhSa(0x2001, SHA1, KEY)
    other = AhSa(0x2002, SHA1, KEY)
    wire = ah.transport_encapsulate(sa, 1, udp_packet())
    with pytest.raises(UnknownSpiError):
        ah.transport_decapsulate(other, wire)
    with pytest.raises(MalformedPacketError):
        ah.transport_decapsulate(sa, udp_packet())  # not AH
    short = bytearray(wire[:28])
    short[2:4] = (28).to_bytes(2)
    with pytest.raises(MalformedPacketError):
        ah.transport_decapsulate(sa, refresh_checksum(short))
    bigger = AhSa(0x2001, integrity_transform("ah-sha512-hmac"), bytes(64))
    with pytest.raises(MalformedPacketError):  # Payload Len does not fit a 32-byte ICV
        ah.transport_decapsulate(bigger, wire)
    with pytest.raises(ValueError):
        ah.transport_encapsulate(sa, 0, udp_packet())
    fragment = bytearray(udp_packet())
    fragment[7] = 1
    with pytest.raises(ValueError):
        ah.transport_encapsulate(sa, 1, refresh_checksum(fragment))
    with pytest.raises(ValueError):
        AhSa(0x2001, integrity_transform("esp-sha-hmac"), KEY)
    with pytest.raises(ValueError):
        AhSa(0x10, SHA1, KEY)
    with pytest.raises(ValueError):
        AhSa(0x2001, SHA1, bytes(16))


# RFC 2403 (HMAC-MD5-96), RFC 2404 (HMAC-SHA-1-96), RFC 4868 2.1/2.3 (HMAC-SHA-256-128,
# -384-192, -512-256): key length and truncated ICV length of each AH transform.
RFC_SIZES = {
    "ah-md5-hmac": ("md5", 16, 12),
    "ah-sha-hmac": ("sha1", 20, 12),
    "ah-sha256-hmac": ("sha256", 32, 16),
    "ah-sha384-hmac": ("sha384", 48, 24),
    "ah-sha512-hmac": ("sha512", 64, 32),
}


def test_every_ah_transform_has_its_rfc_sizes() -> None:
    assert set(AH_TRANSFORMS) == set(RFC_SIZES)


@pytest.mark.parametrize("name", sorted(RFC_SIZES))
def test_icv_length_and_value_per_rfc(name: str) -> None:
    digest, key_size, icv_size = RFC_SIZES[name]
    row = integrity_transform(name)
    key = bytes(range(1, key_size + 1))
    sa = AhSa(0x2001, row, key)
    packet = udp_packet(ttl=30)
    wire = ah.transport_encapsulate(sa, 3, packet)
    assert len(wire) == len(packet) + 12 + icv_size
    header = bytearray(wire[:20])
    header[8] = 0
    header[10:12] = b"\0\0"
    icv_input = bytes(header) + wire[20:32] + bytes(icv_size) + wire[32 + icv_size:]
    assert wire[32 : 32 + icv_size] == hmac.new(key, icv_input, digest).digest()[:icv_size]


@pytest.mark.parametrize("name", sorted(RFC_SIZES))
def test_from_keymat_takes_the_hmac_key_from_the_front(name: str) -> None:
    row = integrity_transform(name)
    keymat = bytes(range(200, 256)) + bytes(range(40))  # longer than any key
    sa = AhSa.from_keymat(0x2001, row, keymat)
    assert sa.key == keymat[: row.key_size]
    direct = AhSa(0x2001, row, keymat[: row.key_size])
    packet = udp_packet()
    assert ah.transport_encapsulate(sa, 1, packet) == ah.transport_encapsulate(direct, 1, packet)
    with pytest.raises(ValueError):
        AhSa.from_keymat(0x2001, row, keymat[: row.key_size - 1])


def test_replay_is_checked_before_the_icv() -> None:
    """A replayed sequence number is refused as a replay even when its ICV is also bad, and a
    forged packet never moves the window (RFC 4302 3.4.3 before 3.4.4)."""
    sa = AhSa(0x2001, SHA1, KEY)
    window = ReplayWindow()
    first = ah.transport_encapsulate(sa, 1, udp_packet())
    ah.transport_decapsulate(sa, first, window)
    bad_icv = bytearray(first)
    bad_icv[40] ^= 0xFF
    with pytest.raises(ReplayError):
        ah.transport_decapsulate(sa, bytes(bad_icv), window)
    future = bytearray(ah.transport_encapsulate(sa, 90, udp_packet()))
    future[40] ^= 0xFF
    with pytest.raises(AuthenticationError):
        ah.transport_decapsulate(sa, bytes(future), window)
    assert window.top == 1
    assert ah.transport_decapsulate(sa, ah.transport_encapsulate(sa, 2, udp_packet()),
                                    window)[0] == 2
    assert window.top == 2


def test_tunnel_outer_ttl_change_passes_address_change_fails() -> None:
    sa = AhSa(0x2001, integrity_transform("ah-md5-hmac"), bytes(16))
    inner = udp_packet()
    wire = ah.tunnel_encapsulate(sa, 1, inner, "192.0.2.1", "192.0.2.2", ttl=255)
    hop = bytearray(wire)
    hop[8] = 254  # a router on the way decremented the outer TTL
    assert ah.tunnel_decapsulate(sa, refresh_checksum(hop)) == (1, inner)
    natted = bytearray(wire)
    natted[12:16] = bytes([198, 51, 100, 7])  # a NAT rewrote the outer source
    with pytest.raises(AuthenticationError):
        ah.tunnel_decapsulate(sa, refresh_checksum(natted))
