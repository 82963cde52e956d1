"""IKEv1 phase-1 algorithm tables: IOS keyword <-> RFC 2409 attribute <-> primitive.

One row of data per algorithm. A new cipher or hash is a new row, never a new ``if``.

Encryption rows carry the RFC 2409 Appendix A "Encryption Algorithm" attribute value (plus the
"Key Length" attribute for variable-length ciphers, RFC 3602 / IANA), the key length and block
size in bytes, and the ``cryptography`` block cipher. ``cbc_encrypt`` / ``cbc_decrypt`` are
raw CBC over whole blocks: padding is the caller's business (RFC 2409 section 5.3).

Hash rows carry the RFC 2409 Appendix A "Hash Algorithm" attribute value (SHA-2 values from
RFC 4868 / IANA), the digest size, and ``hash`` / ``prf`` functions. IKEv1 negotiates no separate
PRF in practice, so the PRF is the HMAC of the negotiated hash (RFC 2409 section 5).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, Cipher, algorithms, modes

__all__ = [
    "ENCRYPTION_ALGORITHMS",
    "HASH_ALGORITHMS",
    "EncryptionAlgorithm",
    "HashAlgorithm",
    "UnsupportedAlgorithm",
    "encryption_by_attribute",
    "encryption_by_name",
    "hash_by_attribute",
    "hash_by_name",
]


def short_number(value: int | None) -> str:
    """A peer-supplied number for a message or debug line: decimal, or hex cut short when
    it is huge (no giant strings from a hostile attribute)."""
    return str(value) if value is None or value < 1 << 32 else f"0x{value:x}"[:20] + "..."


class UnsupportedAlgorithm(ValueError):
    """An algorithm attribute or name that no table row describes."""


def _des(key: bytes) -> BlockCipherAlgorithm:
    # Single DES is 3DES with K1 = K2 = K3 (FIPS 46-3 keying option 3).
    return TripleDES(key * 3)


def _3des(key: bytes) -> BlockCipherAlgorithm:
    return TripleDES(key)


def _aes(key: bytes) -> BlockCipherAlgorithm:
    return algorithms.AES(key)


@dataclass(frozen=True)
class EncryptionAlgorithm:
    """One IKEv1 phase-1 cipher (always CBC mode in IKEv1)."""

    name: str  # the words after `encryption` / `encr` in an IOS isakmp policy
    attribute: int  # RFC 2409 App. A "Encryption Algorithm" value
    key_length: int  # bytes
    block_size: int  # bytes; also the IV size
    key_length_attribute: int | None  # "Key Length" attribute in bits; None for fixed-size keys
    primitive: Callable[[bytes], BlockCipherAlgorithm]

    def _cipher(self, key: bytes, iv: bytes) -> Cipher[modes.CBC]:
        if len(key) != self.key_length:
            raise ValueError(f"{self.name}: key is {len(key)} bytes, need {self.key_length}")
        if len(iv) != self.block_size:
            raise ValueError(f"{self.name}: IV is {len(iv)} bytes, need {self.block_size}")
        return Cipher(self.primitive(key), modes.CBC(iv))

    def _check_blocks(self, data: bytes) -> None:
        if len(data) % self.block_size:
            raise ValueError(
                f"{self.name}: {len(data)} bytes is not a multiple of the "
                f"{self.block_size}-byte block"
            )

    def cbc_encrypt(self, key: bytes, iv: bytes, plaintext: bytes) -> bytes:
        """CBC-encrypt whole blocks (no padding is added)."""
        self._check_blocks(plaintext)
        enc = self._cipher(key, iv).encryptor()
        return enc.update(plaintext) + enc.finalize()

    def cbc_decrypt(self, key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
        """CBC-decrypt whole blocks (no padding is removed)."""
        self._check_blocks(ciphertext)
        dec = self._cipher(key, iv).decryptor()
        return dec.update(ciphertext) + dec.finalize()


#: RFC 2409 Appendix A: DES-CBC 1, 3DES-CBC 5; AES-CBC 7 (RFC 3602 section 5.1 / IANA).
ENCRYPTION_ALGORITHMS: tuple[EncryptionAlgorithm, ...] = (
    #                   name       attr  key  block  key-length attr  primitive
    EncryptionAlgorithm("des",      1,   8,   8,     None,            _des),
    EncryptionAlgorithm("3des",     5,   24,  8,     None,            _3des),
    EncryptionAlgorithm("aes",      7,   16,  16,    128,             _aes),
    EncryptionAlgorithm("aes 192",  7,   24,  16,    192,             _aes),
    EncryptionAlgorithm("aes 256",  7,   32,  16,    256,             _aes),
)  # fmt: skip


@dataclass(frozen=True)
class HashAlgorithm:
    """One IKEv1 hash; its HMAC is the phase-1 PRF."""

    name: str  # the word after `hash` in an IOS isakmp policy
    attribute: int  # RFC 2409 App. A "Hash Algorithm" value
    digest_size: int  # bytes
    hashlib_name: str

    def hash(self, data: bytes) -> bytes:
        """The plain hash, e.g. for the phase-1 IV and NAT-D."""
        return hashlib.new(self.hashlib_name, data).digest()

    def prf(self, key: bytes, data: bytes) -> bytes:
        """prf(key, data) = HMAC-hash(key, data) (RFC 2409 section 5, RFC 2104)."""
        return hmac.digest(key, data, self.hashlib_name)  # OpenSSL's one-shot HMAC


#: RFC 2409 Appendix A: MD5 1, SHA 2; SHA2-256 4, SHA2-384 5, SHA2-512 6 (RFC 4868 / IANA).
HASH_ALGORITHMS: tuple[HashAlgorithm, ...] = (
    #             name      attr  digest  hashlib
    HashAlgorithm("md5",    1,    16,     "md5"),
    HashAlgorithm("sha",    2,    20,     "sha1"),
    HashAlgorithm("sha256", 4,    32,     "sha256"),
    HashAlgorithm("sha384", 5,    48,     "sha384"),
    HashAlgorithm("sha512", 6,    64,     "sha512"),
)  # fmt: skip

_ENCR_BY_NAME = {row.name: row for row in ENCRYPTION_ALGORITHMS}
_ENCR_BY_ATTR = {(row.attribute, row.key_length_attribute): row for row in ENCRYPTION_ALGORITHMS}
_HASH_BY_NAME = {row.name: row for row in HASH_ALGORITHMS}
_HASH_BY_ATTR = {row.attribute: row for row in HASH_ALGORITHMS}


def encryption_by_attribute(
    attribute: int, key_length_bits: int | None = None
) -> EncryptionAlgorithm:
    """The cipher for an "Encryption Algorithm" value and optional "Key Length" (bits).

    AES without a Key Length attribute is refused: RFC 3602 section 5.1 makes it mandatory.
    """
    try:
        return _ENCR_BY_ATTR[(attribute, key_length_bits)]
    except KeyError:
        raise UnsupportedAlgorithm(
            f"encryption algorithm {short_number(attribute)} with key length "
            f"{short_number(key_length_bits)}"
        ) from None


def encryption_by_name(name: str) -> EncryptionAlgorithm:
    """The cipher for an IOS keyword such as ``"aes 256"`` or ``"3des"``."""
    try:
        return _ENCR_BY_NAME[name]
    except KeyError:
        raise UnsupportedAlgorithm(f"encryption {name!r}") from None


def hash_by_attribute(attribute: int) -> HashAlgorithm:
    """The hash for a "Hash Algorithm" attribute value."""
    try:
        return _HASH_BY_ATTR[attribute]
    except KeyError:
        raise UnsupportedAlgorithm(f"hash algorithm {short_number(attribute)}") from None


def hash_by_name(name: str) -> HashAlgorithm:
    """The hash for an IOS keyword such as ``"sha256"``."""
    try:
        return _HASH_BY_NAME[name]
    except KeyError:
        raise UnsupportedAlgorithm(f"hash {name!r}") from None
