"""ESP packet codec (RFC 4303) with IPv4 tunnel/transport helpers and ESP-in-UDP (RFC 3948).

Theory of operation
-------------------
An :class:`EspSa` holds what one direction of an IPsec SA needs to protect packets: the SPI, the
two transform rows from :mod:`iosim.ipsec.transforms` and the keys, turned once into keyed
primitives (an expanded cipher, a keyed HMAC) so that each packet costs a handful of C calls.
Everything that changes per packet -- the outbound sequence counter, the inbound replay window,
byte and packet counters, lifetimes -- belongs to the caller (the SAD); :func:`encapsulate` and
:func:`decapsulate` are pure transformations apart from the cipher contexts they reuse.

Packet layout (RFC 4303 section 2)::

    0                   1                   2                   3
    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
   |               Security Parameters Index (SPI)                 | ^Int.
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
   |                      Sequence Number                          | |ered
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ----
   |                    IV (explicit, per transform)               | |   ^
   ~                    Payload Data* (variable)                   ~ |   |
   +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Conf.
   |               |     Padding (0-255 bytes)                     | |Cov-
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |ered*
   |                               |  Pad Length   | Next Header   | v   v
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
   |         Integrity Check Value-ICV   (variable)                |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

Inbound order follows strongSwan's libipsec: parse the header, consult the replay window
(:meth:`~iosim.ipsec.replay.ReplayWindow.check`), verify the ICV, decrypt and strip the padding,
and only then advance the window (:meth:`~iosim.ipsec.replay.ReplayWindow.update`).

Each encryption mode (:class:`~iosim.ipsec.transforms.CipherMode`) has a pair of codec
classes, one to ``seal`` and one to ``open``; the SA picks them from a table and keeps the codec
it builds, so the per-packet path has no algorithm branches.
A direction is built on its first packet: an outbound SA never opens and an inbound one never
seals, so each holds the keyed primitives of its own direction only (a hub holds thousands).

CBC uses long-lived cipher contexts instead of one context per packet (building a context costs
ten times the encryption of a 1400-byte packet).  Decryption feeds ``IV || ciphertext`` to a
running CBC decryptor and drops the first output block: every later block only depends on the
ciphertext block before it.  Encryption feeds ``D(IV) xor C_prev`` as the first block to a
running CBC encryptor whose chaining value is ``C_prev``, so that block comes out as exactly the
requested IV and the rest is ordinary CBC under that IV.  The contexts make an SA unsafe to use
from two threads at once; the emulator runs each router on one event loop.

IVs come from the caller: explicit bytes, or a random source ``n -> bytes`` injected by the
engine (never :func:`os.urandom` here).  With explicit bytes the packet carries exactly that IV
(the RFC test vectors need it).  With a random source a CBC SA feeds the random block ``R`` as
the first block, so the IV on the wire is ``E_K(R xor C_prev)``: an unpredictable IV made by
encrypting a nonce under the SA key, the method of NIST SP 800-38A Appendix C, at the price of
one cipher call instead of two.  For GCM and GMAC ``None`` selects the sequence number
as the 8-byte IV, which RFC 4106 section 3.1 allows (the IV only has to be unique per key).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from hmac import compare_digest
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from iosim.ipsec.replay import ReplayStatus, ReplayWindow
from iosim.ipsec.transforms import CipherMode, EncryptionTransform, IntegrityTransform
from iosim.net.packets import internet_checksum

__all__ = [
    "IPPROTO_ESP",
    "IPPROTO_IPIP",
    "IPPROTO_UDP",
    "NATT_PORT",
    "AuthenticationError",
    "EspSa",
    "IpsecError",
    "IvSource",
    "MalformedPacketError",
    "NotEspError",
    "PaddingError",
    "RandomSource",
    "ReplayError",
    "UnknownSpiError",
    "build_ipv4_header",
    "decapsulate",
    "encapsulate",
    "parse_ipv4_header",
    "rewrite_ipv4_header",
    "transport_decapsulate",
    "transport_encapsulate",
    "tunnel_decapsulate",
    "tunnel_encapsulate",
    "unwrap_udp",
    "wrap_udp",
]

IPPROTO_IPIP = 4
IPPROTO_UDP = 17
IPPROTO_ESP = 50
NATT_PORT = 4500

RandomSource = Callable[[int], bytes]
"""Injected randomness: returns ``n`` random bytes."""

IvSource = bytes | RandomSource | None
"""An explicit IV, a random source to draw one from, or None (counter IV, AEAD/GMAC only)."""


# --- errors: every way an inbound packet is refused --------------------------------------------


class IpsecError(Exception):
    """An inbound packet was refused; the router drops and counts it (the peer's fault)."""


class MalformedPacketError(IpsecError):
    """Truncated or structurally impossible packet (lengths, alignment, headers)."""


class UnknownSpiError(IpsecError):
    """The packet's SPI is not the one of the SA it was handed to."""

    def __init__(self, spi: int) -> None:
        super().__init__(f"no SA for SPI 0x{spi:08x}")
        self.spi = spi


class AuthenticationError(IpsecError):
    """ICV mismatch: the packet was altered or keys differ (IOS: ``#pkts verify failed``)."""


class PaddingError(IpsecError):
    """Authentic packet with an impossible pad length or non-default padding bytes."""


class ReplayError(IpsecError):
    """Sequence number already seen or left of the window (IOS: ``#pkts replay failed``)."""

    def __init__(self, seq: int, status: ReplayStatus) -> None:
        super().__init__(f"sequence number {seq}: {status.value}")
        self.seq = seq
        self.status = status


class NotEspError(IpsecError):
    """A UDP 4500 datagram that is not ESP: IKE (non-ESP marker) or a NAT-keepalive."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"not an ESP packet: {kind}")
        self.kind = kind


# --- shared constants ----------------------------------------------------------------------------

_HDR = struct.Struct(">II")  # SPI, sequence number
_HDR_IV = struct.Struct(">IIQ")  # SPI, sequence number, 8-byte IV (GCM/GMAC)
_NONCE = struct.Struct(">IQ")  # RFC 4106 4: salt || IV, as two integers
_PAD = bytes(range(1, 256))  # RFC 4303 2.4 default padding: 1, 2, 3, ...
_PADS = [_PAD[:n] for n in range(256)]
# _TRAILERS[pad_length][next_header] == padding + pad length + next header
_TRAILERS: list[list[bytes]] = [
    [_PAD[:pad] + bytes((pad, nh)) for nh in range(256)] for pad in range(16)
]


@cache
def _trailers(block: int) -> tuple[list[bytes], ...]:
    """Trailer rows by ``len(payload) & (block - 1)``: ``(payload + trailer) % block == 0``.
    One table per block size, shared by every SA.

    Block sizes are powers of two (4, 8, 16), so the residue is a mask, not a modulo.
    """
    return tuple(_TRAILERS[-(n + 2) % block] for n in range(block))


def _iv(source: IvSource, size: int) -> bytes:
    if source.__class__ is bytes:
        iv: Any = source
    elif source is None:
        raise ValueError("this transform needs an explicit IV or a random source")
    else:
        iv = source(size)  # type: ignore[operator]
    if len(iv) != size:
        raise ValueError(f"IV must be {size} bytes, got {len(iv)}")
    return bytes(iv)


_IPAD = bytes(b ^ 0x36 for b in range(256))  # RFC 2104: K xor ipad, byte by byte
_OPAD = bytes(b ^ 0x5C for b in range(256))


def _hmac_pads(integ: IntegrityTransform, key: bytes) -> tuple[Any, Any]:
    """Return hash states after ``K xor ipad`` and ``K xor opad`` (RFC 2104 section 2)."""
    inner, outer = integ.hash_ctor(), integ.hash_ctor()
    block = inner.block_size
    if len(key) > block:
        key = integ.hash_ctor(key).digest()
    key = key.ljust(block, b"\0")
    inner.update(key.translate(_IPAD))
    outer.update(key.translate(_OPAD))
    return inner, outer


def _check_replay(window: ReplayWindow, seq: int) -> None:
    """Consult (never advance) the window before any ICV work (RFC 4303 3.4.3). The codecs
    call it only for ``seq <= window.top``: a sequence number past the top (1 .. 2**32-1, as
    the 32-bit field holds) is always new, the common case, decided without a call."""
    status = window.check(seq)
    if status is not ReplayStatus.OK:
        raise ReplayError(seq, status)


def _malformed(data: bytes) -> MalformedPacketError:
    return MalformedPacketError(f"ESP packet of {len(data)} bytes: bad length")


def _icv_mismatch(spi: int, seq: int) -> AuthenticationError:
    return AuthenticationError(f"ESP ICV mismatch, SPI 0x{spi:08x} seq {seq}")


def _bad_padding(spi: int, seq: int, pad: int) -> PaddingError:
    return PaddingError(f"ESP pad length {pad} invalid, SPI 0x{spi:08x} seq {seq}")


class Codec:
    """One direction of an SA's packet transformation, keyed (a pair of codecs per
    CipherMode, below)."""

    __slots__ = ()

    def seal(self, seq: int, iv: IvSource, payload: bytes, nh: int) -> bytes:
        """``seal(seq, iv_or_rand, payload, next_header) -> packet`` (arguments already
        range-checked)."""
        raise NotImplementedError("an inbound codec does not seal")

    def open(self, data: bytes, window: ReplayWindow | None) -> tuple[int, int, bytes]:
        """``open(packet, window) -> (seq, next_header, payload)``."""
        raise NotImplementedError("an outbound codec does not open")


# --- codecs, one pair per CipherMode -------------------------------------------------------------
#
# Each codec is a small object whose slots hold the keyed primitives, the SPI and the tables,
# bound once, so a packet costs the cryptographic calls plus a few bytecodes.  Slots rather
# than closures: a closure keeps each value in a cell of its own (56 bytes each, a dozen per
# codec) and a hub holds a codec for each of thousands of SAs.  Inbound, every codec follows
# the same order: length, SPI, replay window (checked only), ICV, padding, replay window
# (advanced).  The pad length must leave the payload within the packet; in strict mode the
# padding must also be the default (1, 2, 3, ...), compared as one slice.

_pack_hdr = _HDR.pack
_unpack_hdr = _HDR.unpack_from
_pack_hdr_iv = _HDR_IV.pack
_unpack_hdr_iv = _HDR_IV.unpack_from
_pack_nonce = _NONCE.pack
_TRAILERS_4 = _trailers(4)


@cache
def _zero_iv_cbc(block: int) -> modes.CBC:
    """CBC mode under an IV of zeros: every running context starts from it (a mode is a
    value; one per block size serves every SA's contexts)."""
    return modes.CBC(bytes(block))


def _cbc_cipher(sa: EspSa) -> tuple[Any, int, bytes]:
    """The keyed block cipher of a CBC SA, its block size and a block of zeros."""
    enc = sa.encryption
    assert enc.algorithm is not None and enc.iv_size == enc.block_size
    return enc.algorithm(sa.encryption_key), enc.block_size, bytes(enc.block_size)


def _explicit_first(iv: Any, bs: int, iv_decrypt: Any, last: bytes) -> bytes:
    """D(IV) xor C_prev, for an explicit ``iv``: fed first, the running encryptor whose last
    output was ``last`` emits IV, then CBC under it (``iv_decrypt``: a running decryptor)."""
    if iv is None:
        raise ValueError("CBC transforms need an explicit IV or a random source")
    iv = bytes(iv)
    if len(iv) != bs:
        raise ValueError(f"IV must be {bs} bytes, got {len(iv)}")
    return iv_decrypt.update(last[-bs:] + iv)[bs:]


def _hmac_states(sa: EspSa) -> tuple[Any, Any]:
    """The HMAC's inner and outer hash states, keyed, to copy for each packet (None, None
    without integrity)."""
    if sa.integrity is None:
        return None, None
    return _hmac_pads(sa.integrity, sa.integrity_key)


class _CbcSeal(Codec):
    """Block cipher in CBC mode with an explicit IV, plus HMAC (RFC 2405, 2451, 3602, 2104):
    the sending half."""

    __slots__ = ("_encryptor", "_iv_decryptor", "_last", "_bs", "_mask", "_spi",
                 "_trailers", "_icv", "_inner", "_outer")

    def __init__(self, sa: EspSa) -> None:
        algorithm, bs, zero = _cbc_cipher(sa)
        self._encryptor = Cipher(algorithm, _zero_iv_cbc(bs)).encryptor()
        self._iv_decryptor = Cipher(algorithm, _zero_iv_cbc(bs)).decryptor()
        self._last = zero  # ends with the chaining value of the running encryptor
        self._bs, self._mask, self._spi, self._trailers = bs, bs - 1, sa.spi, _trailers(bs)
        self._icv = sa.integrity.icv_size if sa.integrity is not None else 0
        self._inner, self._outer = _hmac_states(sa)

    def seal(self, seq: int, iv: IvSource, payload: bytes, nh: int) -> bytes:
        bs = self._bs
        try:
            # R (random): the IV on the wire is E_K(R xor C_prev), a nonce encrypted under the
            # SA key as NIST SP 800-38A Appendix C recommends.
            first = iv(bs)  # type: ignore[operator,misc]
        except TypeError:
            if callable(iv):
                raise
            first = _explicit_first(iv, bs, self._iv_decryptor, self._last)
        if len(first) != bs:
            raise ValueError(f"random source returned {len(first)} bytes, not {bs}")
        hdr = _pack_hdr(self._spi, seq)
        out = self._last = self._encryptor.update(
            b"".join((first, payload, self._trailers[len(payload) & self._mask][nh])))
        icv = self._icv
        if not icv:
            return hdr + out
        h = self._inner.copy()
        h.update(hdr)
        h.update(out)
        o = self._outer.copy()
        o.update(h.digest())
        return b"".join((hdr, out, o.digest()[:icv]))


class _CbcOpen(Codec):
    """The receiving half of :class:`_CbcSeal`."""

    __slots__ = ("_decryptor", "_bs", "_mask", "_minimum", "_spi", "_strict", "_icv",
                 "_inner", "_outer")

    def __init__(self, sa: EspSa) -> None:
        algorithm, bs, _ = _cbc_cipher(sa)
        self._decryptor = Cipher(algorithm, _zero_iv_cbc(bs)).decryptor()
        self._bs, self._mask, self._spi, self._strict = bs, bs - 1, sa.spi, sa.strict_padding
        self._minimum = 8 + 2 * bs  # header, IV, one block holding at least the trailer
        self._icv = sa.integrity.icv_size if sa.integrity is not None else 0
        self._inner, self._outer = _hmac_states(sa)

    def open(self, data: bytes, window: ReplayWindow | None) -> tuple[int, int, bytes]:
        icv, spi = self._icv, self._spi
        end = len(data) - icv
        if end < self._minimum or (end - 8) & self._mask:
            raise _malformed(data)
        rspi, seq = _unpack_hdr(data)
        if rspi != spi:
            raise UnknownSpiError(rspi)
        if window is not None and seq <= window.top and window.enabled:
            _check_replay(window, seq)
        if icv:
            h = self._inner.copy()
            h.update(data[:end])
            o = self._outer.copy()
            o.update(h.digest())
            if not compare_digest(o.digest()[:icv], data[end:]):
                raise _icv_mismatch(spi, seq)
        # IV || ciphertext through the running decryptor; block 0 of the output is discarded.
        out = self._decryptor.update(data[8:end])
        pad = out[-2]
        bs = self._bs
        stop = len(out) - 2 - pad
        if stop < bs or self._strict and out[stop:-2] != _PADS[pad]:
            raise _bad_padding(spi, seq, pad)
        if window is not None:
            window.update(seq)
        return seq, out[-1], out[bs:stop]


class _NullSeal(Codec):
    """ESP_NULL (RFC 2410): payload in clear, 4-byte alignment, integrity from the HMAC."""

    __slots__ = ("_spi", "_trailers", "_icv", "_inner", "_outer")

    def __init__(self, sa: EspSa) -> None:
        assert sa.integrity is not None
        self._spi, self._trailers, self._icv = sa.spi, _trailers(4), sa.integrity.icv_size
        self._inner, self._outer = _hmac_states(sa)

    def seal(self, seq: int, iv: IvSource, payload: bytes, nh: int) -> bytes:
        covered = b"".join((_pack_hdr(self._spi, seq), payload,
                            self._trailers[len(payload) & 3][nh]))
        h = self._inner.copy()
        h.update(covered)
        o = self._outer.copy()
        o.update(h.digest())
        return covered + o.digest()[:self._icv]


class _NullOpen(Codec):
    """The receiving half of :class:`_NullSeal`."""

    __slots__ = ("_spi", "_strict", "_icv", "_inner", "_outer")

    def __init__(self, sa: EspSa) -> None:
        assert sa.integrity is not None
        self._spi, self._strict, self._icv = sa.spi, sa.strict_padding, sa.integrity.icv_size
        self._inner, self._outer = _hmac_states(sa)

    def open(self, data: bytes, window: ReplayWindow | None) -> tuple[int, int, bytes]:
        icv, spi = self._icv, self._spi
        end = len(data) - icv
        if end < 8 + 2:
            raise _malformed(data)
        rspi, seq = _unpack_hdr(data)
        if rspi != spi:
            raise UnknownSpiError(rspi)
        if window is not None and seq <= window.top and window.enabled:
            _check_replay(window, seq)
        h = self._inner.copy()
        h.update(data[:end])
        o = self._outer.copy()
        o.update(h.digest())
        if not compare_digest(o.digest()[:icv], data[end:]):
            raise _icv_mismatch(spi, seq)
        pad = data[end - 2]
        stop = end - 2 - pad
        if stop < 8 or self._strict and data[stop : end - 2] != _PADS[pad]:
            raise _bad_padding(spi, seq, pad)
        if window is not None:
            window.update(seq)
        return seq, data[end - 1], data[8:stop]


def _aes_aead_keys(sa: EspSa) -> tuple[Any, bytes, int]:
    """The AEAD object, the salt (last 4 bytes of the keymat, RFC 4106 8.1) and it as a number."""
    enc = sa.encryption
    assert enc.algorithm is not None and enc.salt_size == 4 and enc.icv_size == 16
    salt = sa.encryption_key[enc.key_size :]
    return enc.algorithm(sa.encryption_key[: enc.key_size]), salt, int.from_bytes(salt)


class _AeadCodec(Codec):
    """What the AES-GCM and AES-GMAC codecs of both directions hold."""

    __slots__ = ("_aead", "_salt", "_salt_n", "_spi", "_strict")

    def __init__(self, sa: EspSa) -> None:
        self._aead, self._salt, self._salt_n = _aes_aead_keys(sa)
        self._spi, self._strict = sa.spi, sa.strict_padding


class _GcmSeal(_AeadCodec):
    """AES-GCM for ESP (RFC 4106): nonce = salt || IV, AAD = SPI || sequence number.

    Layout (RFC 4106 section 3)::

        SPI (4) | Sequence Number (4) | IV (8) | ciphertext of payload+trailer | ICV (16)

    The 32-bit sequence number alone is the AAD (RFC 4106 section 5, no extended sequence
    numbers); the plaintext is padded to a 4-byte boundary (RFC 4106 section 3.2).
    """

    __slots__ = ()

    def seal(self, seq: int, iv: IvSource, payload: bytes, nh: int) -> bytes:
        spi = self._spi
        plain = payload + _TRAILERS_4[len(payload) & 3][nh]
        if iv is None:  # counter IV = sequence number (RFC 4106 3.1: unique per key suffices)
            return _pack_hdr_iv(spi, seq, seq) + self._aead.encrypt(
                _pack_nonce(self._salt_n, seq), plain, _pack_hdr(spi, seq))
        iv = _iv(iv, 8)
        hdr = _pack_hdr(spi, seq)
        return b"".join((hdr, iv, self._aead.encrypt(self._salt + iv, plain, hdr)))


class _GcmOpen(_AeadCodec):
    """The receiving half of :class:`_GcmSeal`."""

    __slots__ = ()

    def open(self, data: bytes, window: ReplayWindow | None) -> tuple[int, int, bytes]:
        if len(data) < 8 + 8 + 2 + 16:
            raise _malformed(data)
        rspi, seq, iv = _unpack_hdr_iv(data)
        spi = self._spi
        if rspi != spi:
            raise UnknownSpiError(rspi)
        if window is not None and seq <= window.top and window.enabled:
            _check_replay(window, seq)
        try:
            out = self._aead.decrypt(_pack_nonce(self._salt_n, iv), data[16:], data[:8])
        except InvalidTag:
            raise _icv_mismatch(spi, seq) from None
        pad = out[-2]
        stop = len(out) - 2 - pad
        if stop < 0 or self._strict and out[stop:-2] != _PADS[pad]:
            raise _bad_padding(spi, seq, pad)
        if window is not None:
            window.update(seq)
        return seq, out[-1], out[:stop]


class _GmacSeal(_AeadCodec):
    """AES-GMAC for ESP (RFC 4543): clear payload, nothing encrypted.

    RFC 4543 section 3.2/3.3: the AAD is SPI || sequence number || IV || payload || padding ||
    pad length || next header, the GCM plaintext is empty and the 16-byte GCM tag is the ICV;
    the nonce is salt || IV as in RFC 4106.
    """

    __slots__ = ()

    def seal(self, seq: int, iv: IvSource, payload: bytes, nh: int) -> bytes:
        trailer = _TRAILERS_4[len(payload) & 3][nh]
        if iv is None:
            covered = b"".join((_pack_hdr_iv(self._spi, seq, seq), payload, trailer))
            return covered + self._aead.encrypt(_pack_nonce(self._salt_n, seq), b"", covered)
        iv = _iv(iv, 8)
        covered = b"".join((_pack_hdr(self._spi, seq), iv, payload, trailer))
        return covered + self._aead.encrypt(self._salt + iv, b"", covered)


class _GmacOpen(_AeadCodec):
    """The receiving half of :class:`_GmacSeal`."""

    __slots__ = ()

    def open(self, data: bytes, window: ReplayWindow | None) -> tuple[int, int, bytes]:
        end = len(data) - 16
        if end < 8 + 8 + 2:
            raise _malformed(data)
        rspi, seq, iv = _unpack_hdr_iv(data)
        spi = self._spi
        if rspi != spi:
            raise UnknownSpiError(rspi)
        if window is not None and seq <= window.top and window.enabled:
            _check_replay(window, seq)
        try:
            self._aead.decrypt(_pack_nonce(self._salt_n, iv), data[end:], data[:end])
        except InvalidTag:
            raise _icv_mismatch(spi, seq) from None
        pad = data[end - 2]
        stop = end - 2 - pad
        if stop < 16 or self._strict and data[stop : end - 2] != _PADS[pad]:
            raise _bad_padding(spi, seq, pad)
        if window is not None:
            window.update(seq)
        return seq, data[end - 1], data[16:stop]


_SEALERS: dict[CipherMode, Callable[[EspSa], Codec]] = {
    CipherMode.CBC: _CbcSeal,
    CipherMode.NULL: _NullSeal,
    CipherMode.AEAD: _GcmSeal,
    CipherMode.GMAC: _GmacSeal,
}
_OPENERS: dict[CipherMode, Callable[[EspSa], Codec]] = {
    CipherMode.CBC: _CbcOpen,
    CipherMode.NULL: _NullOpen,
    CipherMode.AEAD: _GcmOpen,
    CipherMode.GMAC: _GmacOpen,
}


# --- the SA ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class EspSa:
    """One direction of an ESP Security Association: SPI, transforms and keys.

    ``encryption_key`` is the encryption part of KEYMAT including any salt (RFC 4106 8.1: the
    last 4 bytes for GCM/GMAC); ``integrity_key`` is empty for combined-mode transforms.
    ``strict_padding`` makes :func:`decapsulate` insist on the RFC 4303 2.4 default padding.
    Keyed primitives are built once, for each direction on its first packet; see the module
    docstring on thread safety.
    """

    spi: int
    encryption: EncryptionTransform
    integrity: IntegrityTransform | None
    encryption_key: bytes
    integrity_key: bytes = b""
    strict_padding: bool = True
    _seal: Codec | None = field(init=False, repr=False)  # built by sealer()
    _open: Codec | None = field(init=False, repr=False)  # built by opener()

    def __post_init__(self) -> None:
        enc, integ = self.encryption, self.integrity
        if not 256 <= self.spi <= 0xFFFFFFFF:
            raise ValueError(f"SPI 0x{self.spi:x} is reserved or out of range (RFC 4303 2.1)")
        if len(self.encryption_key) != enc.keymat_size:
            raise ValueError(
                f"{enc.name}: key is {len(self.encryption_key)} bytes, expected {enc.keymat_size}"
            )
        if enc.is_combined and integ is not None:
            raise ValueError(f"{enc.name} carries its own ICV; {integ.name} cannot be added")
        if enc.mode is CipherMode.NULL and integ is None:
            raise ValueError("ESP with neither encryption nor integrity (RFC 4303 3.2)")
        if integ is not None:
            if integ.protocol != "esp":
                raise ValueError(f"{integ.name} is an AH transform")
            if len(self.integrity_key) != integ.key_size:
                raise ValueError(
                    f"{integ.name}: key is {len(self.integrity_key)} bytes, "
                    f"expected {integ.key_size}"
                )
        object.__setattr__(self, "_seal", None)
        object.__setattr__(self, "_open", None)

    def sealer(self) -> Codec:
        """The codec that seals this SA's packets (built on first use)."""
        seal = self._seal
        if seal is None:
            seal = _SEALERS[self.encryption.mode](self)
            object.__setattr__(self, "_seal", seal)
        return seal

    def opener(self) -> Codec:
        """The codec that opens this SA's packets (built on first use)."""
        open_ = self._open
        if open_ is None:
            open_ = _OPENERS[self.encryption.mode](self)
            object.__setattr__(self, "_open", open_)
        return open_

    @classmethod
    def from_keymat(
        cls,
        spi: int,
        encryption: EncryptionTransform,
        integrity: IntegrityTransform | None,
        keymat: bytes,
    ) -> EspSa:
        """Split KEYMAT as IKE derives it: encryption key (and salt) first, then integrity key."""
        n = encryption.keymat_size
        need = n + (integrity.key_size if integrity else 0)
        if len(keymat) < need:
            raise ValueError(f"KEYMAT is {len(keymat)} bytes, {need} needed")
        return cls(spi, encryption, integrity, keymat[:n], keymat[n:need])

    @property
    def icv_size(self) -> int:
        """Bytes of ICV at the end of each packet."""
        return self.encryption.icv_size or (self.integrity.icv_size if self.integrity else 0)

    def overhead(self, payload_len: int) -> int:
        """ESP bytes added around a payload of ``payload_len`` (header, IV, trailer, ICV)."""
        enc = self.encryption
        return 8 + enc.iv_size + 2 + (-(payload_len + 2) % enc.block_size) + self.icv_size


# --- the codec entry points ----------------------------------------------------------------------


def encapsulate(
    sa: EspSa, seq: int, iv_or_rand: IvSource, payload: bytes, next_header: int
) -> bytes:
    """Build an ESP packet (header, IV, encrypted payload + padding + trailer, ICV).

    ``seq`` is the sequence number to send (1 .. 2**32-1, the caller's counter);
    ``iv_or_rand`` an explicit IV, a random source, or None for a counter IV (GCM/GMAC only);
    ``next_header`` the protocol of ``payload`` (4 for a tunnelled IPv4 packet).
    """
    if not (0 < seq <= 0xFFFFFFFF and 0 <= next_header <= 255):
        raise ValueError(f"sequence number {seq} or next header {next_header} out of range")
    return (sa._seal or sa.sealer()).seal(seq, iv_or_rand, payload, next_header)


def decapsulate(
    sa: EspSa, data: bytes, replay: ReplayWindow | None = None
) -> tuple[int, int, bytes]:
    """Verify and decrypt an ESP packet; return ``(seq, next_header, payload)``.

    With ``replay`` the window is checked before the ICV and advanced only after the packet
    authenticated and its padding parsed.  Raises :class:`MalformedPacketError`,
    :class:`UnknownSpiError`, :class:`ReplayError`, :class:`AuthenticationError` or
    :class:`PaddingError`.
    """
    if data.__class__ is not bytes:
        data = bytes(data)
    return (sa._open or sa.opener()).open(data, replay)


# --- IPv4 helpers --------------------------------------------------------------------------------

_IPV4 = struct.Struct(">BBHHHBBH4s4s")
_UDP = struct.Struct(">HHHH")
_DF = 0x4000

Address = str | bytes | ipaddress.IPv4Address


def _packed(addr: Address) -> bytes:
    if addr.__class__ is bytes:
        if len(addr) != 4:
            raise ValueError("IPv4 address must be 4 bytes")
        return addr  # type: ignore[return-value]
    return _packed_text(addr)


@lru_cache(maxsize=4096)
def _packed_text(addr: str | ipaddress.IPv4Address) -> bytes:
    return ipaddress.IPv4Address(addr).packed


def build_ipv4_header(
    src: Address,
    dst: Address,
    protocol: int,
    payload_len: int,
    *,
    ident: int = 0,
    ttl: int = 64,
    tos: int = 0,
    df: bool = False,
) -> bytes:
    """A 20-byte IPv4 header (no options) with a correct header checksum."""
    fields = [0x45, tos, 20 + payload_len, ident, _DF if df else 0, ttl, protocol, 0,
              _packed(src), _packed(dst)]
    header = _IPV4.pack(*fields)
    fields[7] = internet_checksum(header)
    return _IPV4.pack(*fields)


def parse_ipv4_header(packet: bytes) -> tuple[int, int, int]:
    """Validate an IPv4 packet; return ``(header_length, protocol, total_length)``."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        raise MalformedPacketError("not an IPv4 packet")
    ihl = (packet[0] & 0x0F) * 4
    total = int.from_bytes(packet[2:4])
    if ihl < 20 or total < ihl or total > len(packet):
        raise MalformedPacketError("IPv4 header length fields inconsistent")
    return ihl, packet[9], total


def rewrite_ipv4_header(header: bytes, protocol: int, total: int) -> bytes:
    """Copy of an IPv4 header with a new protocol and total length, checksum recomputed."""
    h = bytearray(header)
    h[2:4] = total.to_bytes(2)
    h[9] = protocol
    h[10:12] = b"\0\0"
    h[10:12] = internet_checksum(bytes(h)).to_bytes(2)
    return bytes(h)


def wrap_udp(
    esp: bytes,
    sport: int = NATT_PORT,
    dport: int = NATT_PORT,
    checksum_addrs: tuple[Address, Address] | None = None,
) -> bytes:
    """ESP-in-UDP (RFC 3948 2.1): UDP header, then the ESP packet.

    The UDP checksum is zero (RFC 3948 2.1 allows it) unless ``checksum_addrs=(src, dst)`` asks
    for the real one over the IPv4 pseudo-header (RFC 768), as a kernel UDP socket sends it.
    """
    length = 8 + len(esp)
    if checksum_addrs is None:
        return _UDP.pack(sport, dport, length, 0) + esp
    src, dst = checksum_addrs
    pseudo = _packed(src) + _packed(dst) + struct.pack(">BBH", 0, IPPROTO_UDP, length)
    checksum = internet_checksum(pseudo + _UDP.pack(sport, dport, length, 0) + esp) or 0xFFFF
    return _UDP.pack(sport, dport, length, checksum) + esp


def unwrap_udp(segment: bytes) -> bytes:
    """Return the ESP packet in a UDP-encapsulated datagram (UDP header included in input).

    Raises :class:`NotEspError` for an IKE message (non-ESP marker, RFC 3948 2.2) or a
    NAT-keepalive (a single 0xFF byte, RFC 3948 2.3).  The UDP checksum is not verified, as RFC
    3948 3.1.2 permits.
    """
    if len(segment) < 8:
        raise MalformedPacketError("truncated UDP header")
    length = int.from_bytes(segment[4:6])
    if length < 8 or length > len(segment):
        raise MalformedPacketError("UDP length field inconsistent")
    payload = segment[8:length]
    if payload == b"\xff":
        raise NotEspError("NAT-keepalive")
    if len(payload) >= 4 and payload[:4] == b"\0\0\0\0":
        raise NotEspError("IKE (non-ESP marker)")
    return payload


def tunnel_encapsulate(
    sa: EspSa,
    seq: int,
    iv_or_rand: IvSource,
    inner: bytes,
    src: Address,
    dst: Address,
    *,
    ident: int = 0,
    ttl: int = 64,
    df: bool | None = None,
    udp_ports: tuple[int, int] | None = None,
    udp_checksum: bool = False,
) -> bytes:
    """Tunnel mode: new outer IPv4 header, ESP with next header 4, the whole inner packet.

    The outer TOS and (unless ``df`` is given) the DF bit are copied from the inner header, as
    IOS does by default (RFC 4301 5.1.2.1).  ``udp_ports=(sport, dport)`` puts the ESP packet in
    UDP (NAT-T, RFC 3948), with a zero UDP checksum unless ``udp_checksum`` is set.
    """
    parse_ipv4_header(inner)
    esp = encapsulate(sa, seq, iv_or_rand, inner, IPPROTO_IPIP)
    protocol = IPPROTO_ESP
    if udp_ports is not None:
        esp = wrap_udp(esp, *udp_ports, checksum_addrs=(src, dst) if udp_checksum else None)
        protocol = IPPROTO_UDP
    if df is None:
        df = bool(int.from_bytes(inner[6:8]) & _DF)
    outer = build_ipv4_header(
        src, dst, protocol, len(esp), ident=ident, ttl=ttl, tos=inner[1], df=df
    )
    return outer + esp


def _esp_of(packet: bytes) -> tuple[bytes, bytes]:
    """Split an IPv4 packet carrying ESP (directly or in UDP) into (IP header, ESP packet)."""
    ihl, protocol, total = parse_ipv4_header(packet)
    if protocol == IPPROTO_ESP:
        return packet[:ihl], packet[ihl:total]
    if protocol == IPPROTO_UDP:
        return packet[:ihl], unwrap_udp(packet[ihl:total])
    raise MalformedPacketError(f"IP protocol {protocol} is not ESP")


def tunnel_decapsulate(
    sa: EspSa, packet: bytes, replay: ReplayWindow | None = None
) -> tuple[int, bytes]:
    """Undo :func:`tunnel_encapsulate`; return ``(seq, inner IPv4 packet)``."""
    _, esp = _esp_of(packet)
    seq, nh, inner = decapsulate(sa, esp, replay)
    if nh != IPPROTO_IPIP:
        raise MalformedPacketError(f"tunnel-mode ESP carries next header {nh}, not IPv4")
    parse_ipv4_header(inner)
    return seq, inner


def transport_encapsulate(
    sa: EspSa,
    seq: int,
    iv_or_rand: IvSource,
    packet: bytes,
    *,
    udp_ports: tuple[int, int] | None = None,
) -> bytes:
    """Transport mode: keep the IPv4 header, insert ESP after it, fix protocol/length/checksum.

    Fragments are refused (RFC 4303 3.1.1: transport mode applies to whole datagrams).
    """
    ihl, protocol, total = parse_ipv4_header(packet)
    if int.from_bytes(packet[6:8]) & 0x3FFF:
        raise ValueError("transport-mode ESP cannot be applied to an IP fragment")
    esp = encapsulate(sa, seq, iv_or_rand, packet[ihl:total], protocol)
    outer_protocol = IPPROTO_ESP
    if udp_ports is not None:
        esp = wrap_udp(esp, *udp_ports)
        outer_protocol = IPPROTO_UDP
    return rewrite_ipv4_header(packet[:ihl], outer_protocol, ihl + len(esp)) + esp


def transport_decapsulate(
    sa: EspSa, packet: bytes, replay: ReplayWindow | None = None
) -> tuple[int, bytes]:
    """Undo :func:`transport_encapsulate`; return ``(seq, original IPv4 packet)``."""
    header, esp = _esp_of(packet)
    seq, nh, payload = decapsulate(sa, esp, replay)
    return seq, rewrite_ipv4_header(header, nh, len(header) + len(payload)) + payload
