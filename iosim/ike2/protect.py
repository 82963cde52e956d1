"""The Encrypted payload (RFC 7296 3.14), AEAD (RFC 5282) and fragments (RFC 7383).

Theory of operation
-------------------
``seal`` builds a whole protected datagram: the IKE header, any clear payloads, then the SK
(or SKF) payload holding IV, ciphertext and ICV::

    | IKE header | SK hdr | IV | E( payloads | padding | pad length ) | ICV |

With a CBC cipher the plaintext is padded to the cipher block and the ICV is the truncated
HMAC (SK_ai or SK_ar) of everything before it, from the first octet of the IKE header. With
AES-GCM (RFC 5282) the nonce is the 4-octet salt after SK_e's key and the 8-octet IV; the
associated data is everything from the IKE header up to (not including) the IV; there is no
alignment, the tag is the ICV. ``open_sealed`` reverses it and raises ``IntegrityError`` for a
wrong ICV or tag, so a forged or corrupted message never reaches the engine's state.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from iosim.ike2.keys import IkeCipher, IkeIntegrity
from iosim.ike2.payloads import (
    GENERIC_LENGTH,
    HEADER_LENGTH,
    IkeHeader,
    MalformedMessage,
    push_header,
)

__all__ = ["Direction", "IntegrityError", "open_sealed", "seal"]


class IntegrityError(MalformedMessage):
    """The ICV (or GCM tag) of an encrypted payload did not verify."""


@dataclass(frozen=True)
class Direction:
    """The keys protecting one direction of an IKE SA: SK_e (+ salt) and SK_a."""

    cipher: IkeCipher
    integ: IkeIntegrity | None
    enc_key: bytes
    auth_key: bytes

    @property
    def icv_size(self) -> int:
        return self.cipher.icv_size if self.cipher.aead else (
            self.integ.icv_size if self.integ else 0)

    def overhead(self) -> int:
        """Bytes SK adds around the plaintext at most: IV, worst padding, pad length, ICV."""
        return self.cipher.iv_size + self.cipher.block_size + self.icv_size


def _cbc(cipher: IkeCipher, key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    algorithm = TripleDES(key) if cipher.transform_id == 3 else algorithms.AES(key)
    return Cipher(algorithm, modes.CBC(iv))


def seal(header: IkeHeader, clear: bytes, kind: int, first: int, inner: bytes,
         keys: Direction, iv: bytes, fragment: tuple[int, int] | None = None) -> bytes:
    """The datagram: ``header``, ``clear`` payload bytes (whose last Next Payload must name
    ``kind``), then an SK (``kind`` 46) or, with ``fragment`` (number, total), an SKF
    payload around ``inner`` (payload bytes, the first of type ``first``)."""
    c = keys.cipher
    if len(iv) != c.iv_size:
        raise ValueError(f"IV of {len(iv)} bytes, need {c.iv_size}")
    pad = (-(len(inner) + 1)) % c.block_size
    plaintext = inner + bytes(pad) + bytes((pad,))
    extra = b"" if fragment is None else struct.pack("!HH", *fragment)
    sk_length = GENERIC_LENGTH + len(extra) + len(iv) + len(plaintext) + keys.icv_size
    h = IkeHeader(header.spi_i, header.spi_r, header.next_payload if clear else kind,
                  header.exchange_type, header.flags, header.message_id)
    head = (push_header(h, len(clear) + sk_length) + clear
            + struct.pack("!BBH", first, 0, sk_length) + extra)
    if c.aead:
        nonce = keys.enc_key[c.key_size:] + iv
        sealed = AESGCM(keys.enc_key[:c.key_size]).encrypt(nonce, plaintext, head)
        return head + iv + sealed
    enc = _cbc(c, keys.enc_key, iv).encryptor()
    body = head + iv + enc.update(plaintext) + enc.finalize()
    assert keys.integ is not None
    return body + keys.integ.mac(keys.auth_key, body)


def open_sealed(data: bytes, sealed: bytes, keys: Direction) -> bytes:
    """The payload bytes inside the SK/SKF payload whose IV|ciphertext|ICV is ``sealed``
    (the last payload of the datagram ``data``), padding removed."""
    c = keys.cipher
    icv = keys.icv_size
    if len(sealed) < c.iv_size + icv + 1:
        raise MalformedMessage("encrypted payload too short")
    head = data[:len(data) - len(sealed)]
    if len(head) < HEADER_LENGTH + GENERIC_LENGTH:
        raise MalformedMessage("encrypted payload outside a message")
    iv, body = sealed[:c.iv_size], sealed[c.iv_size:]
    if c.aead:
        try:
            plaintext = AESGCM(keys.enc_key[:c.key_size]).decrypt(
                keys.enc_key[c.key_size:] + iv, body, head)
        except InvalidTag:
            raise IntegrityError("GCM tag did not verify") from None
    else:
        assert keys.integ is not None
        ciphertext, tag = body[:len(body) - icv], body[len(body) - icv:]
        expected = keys.integ.mac(keys.auth_key, data[:len(data) - icv])
        if not _equal(tag, expected):
            raise IntegrityError("ICV did not verify")
        if not ciphertext or len(ciphertext) % c.block_size:
            raise MalformedMessage("ciphertext is not whole blocks")
        dec = _cbc(c, keys.enc_key, iv).decryptor()
        plaintext = dec.update(ciphertext) + dec.finalize()
    if not plaintext:
        raise MalformedMessage("empty plaintext")
    pad = plaintext[-1]
    if pad + 1 > len(plaintext):
        raise MalformedMessage("pad length beyond the plaintext")
    return plaintext[:len(plaintext) - 1 - pad]


def _equal(a: bytes, b: bytes) -> bool:
    import hmac

    return hmac.compare_digest(a, b)
