"""IPsec transform tables: IOS transform-set keywords mapped to their RFC numbers and primitives.

Theory of operation
-------------------
Every algorithm the data plane knows is one row of data.  A row says what IOS calls the
transform (``esp-aes 256``, ``esp-sha256-hmac``), how IKE numbers it (the IPsec DOI values of
RFC 2407 section 4.4 and 4.5 plus their RFC 4868 / RFC 4106 / RFC 4543 extensions, and the IKEv2
transform IDs of RFC 7296 section 3.3.2), the sizes the ESP/AH codecs need (key, salt, IV,
block, ICV) and how to build the keyed primitive from the ``cryptography`` package or
:mod:`hashlib`.  The codecs in :mod:`iosim.ipsec.esp` and :mod:`iosim.ipsec.ah` never test an
algorithm name: they read these fields, so a new algorithm is a new row, never a new branch.

Encryption rows are of one of four :class:`CipherMode` kinds (a block cipher in CBC mode, an
AEAD such as AES-GCM, the integrity-only GMAC, or no cipher at all); the kind selects which
codec class serves the SA.  Integrity rows are all HMACs truncated to ``icv_size`` bytes.

The Wireshark names are the strings of Wireshark's ``esp_sa`` UAT table, so a later key export
can write ``"AES-CBC [RFC3602]"`` / ``"HMAC-SHA-256-128 [RFC4868]"`` lines directly.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm
from cryptography.hazmat.primitives.ciphers.algorithms import AES

__all__ = [
    "AH_TRANSFORMS",
    "ENCRYPTION_TRANSFORMS",
    "ESP_INTEGRITY_TRANSFORMS",
    "INTEGRITY_TRANSFORMS",
    "CipherMode",
    "EncryptionTransform",
    "IntegrityTransform",
    "KeyedMac",
    "encryption_transform",
    "integrity_transform",
]


class CipherMode(enum.Enum):
    """How an ESP encryption transform protects the payload."""

    NULL = "null"  # RFC 2410: no confidentiality; integrity comes from an HMAC transform
    CBC = "cbc"  # RFC 2405 / 2451 / 3602: explicit IV, block padding, separate HMAC
    AEAD = "aead"  # RFC 4106: AES-GCM, confidentiality and the ICV in one primitive
    GMAC = "gmac"  # RFC 4543: AES-GMAC, integrity only, payload travels in clear


def _des(key: bytes) -> BlockCipherAlgorithm:
    """Single DES as 3DES-EDE with K1 = K2 = K3 (E(D(E(x))) collapses to one DES pass)."""
    return TripleDES(key * 3)


@dataclass(frozen=True, slots=True)
class EncryptionTransform:
    """One ESP encryption transform as IOS names it and RFCs number it.

    ``key_size`` is the cipher key in bytes; ``salt_size`` the extra keying material RFC 4106
    section 8.1 / RFC 4543 section 5 take from the end of KEYMAT; ``keymat_size`` their sum.
    ``block_size`` is what the plaintext (payload, padding, pad length, next header) must be a
    multiple of: the cipher block for CBC, 4 for stream-like and null transforms (RFC 4303 2.4).
    ``icv_size`` is non-zero only for combined-mode transforms that carry their own ICV.
    """

    name: str
    """Canonical IOS transform-set words, e.g. ``"esp-aes 256"`` (``"esp-aes"`` means 128)."""
    keyword: str
    """The IOS keyword alone (``"esp-aes"``)."""
    show_name: str
    """How ``show crypto ipsec transform-set`` prints it (``"esp-256-aes"``)."""
    debug_name: str
    """The name ``debug crypto isakmp`` prints for the proposal (``"ESP_AES"``)."""
    mode: CipherMode
    doi_transform_id: int
    """IPsec DOI ESP transform identifier (RFC 2407 4.4.4, RFC 3602, RFC 4106, RFC 4543)."""
    ikev2_transform_id: int
    """IKEv2 transform type 1 identifier (RFC 7296 3.3.2, RFC 4106, RFC 4543)."""
    key_length_attribute: int | None
    """Value of the Key Length SA attribute (bits), None for fixed-key ciphers."""
    key_size: int
    salt_size: int
    iv_size: int
    block_size: int
    icv_size: int
    wireshark_name: str
    """Wireshark ``esp_sa`` encryption algorithm string."""
    algorithm: Callable[[bytes], Any] | None
    """Builds the keyed primitive: a block cipher algorithm (CBC) or an AEAD object."""

    @property
    def keymat_size(self) -> int:
        """Bytes of KEYMAT this transform consumes (cipher key plus salt)."""
        return self.key_size + self.salt_size

    @property
    def is_combined(self) -> bool:
        """True when the transform computes its own ICV (no separate integrity transform)."""
        return self.icv_size > 0


def _aesgcm(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def _enc_rows() -> list[EncryptionTransform]:
    rows = [
        EncryptionTransform(
            "esp-des", "esp-des", "esp-des", "ESP_DES", CipherMode.CBC, 2, 2, None,
            8, 0, 8, 8, 0, "DES-CBC [RFC2405]", _des,
        ),
        EncryptionTransform(
            "esp-3des", "esp-3des", "esp-3des", "ESP_3DES", CipherMode.CBC, 3, 3, None,
            24, 0, 8, 8, 0, "TripleDES-CBC [RFC2451]", TripleDES,
        ),
        EncryptionTransform(
            "esp-null", "esp-null", "esp-null", "ESP_NULL", CipherMode.NULL, 11, 11, None,
            0, 0, 0, 4, 0, "NULL", None,
        ),
    ]
    for bits in (128, 192, 256):
        suffix = "" if bits == 128 else f" {bits}"
        rows += [
            EncryptionTransform(
                f"esp-aes{suffix}", "esp-aes",
                "esp-aes" if bits == 128 else f"esp-{bits}-aes", "ESP_AES", CipherMode.CBC,
                12, 12, bits, bits // 8, 0, 16, 16, 0, "AES-CBC [RFC3602]", AES,
            ),
            # RFC 4106: 16-octet ICV variant, 4-octet salt after the key, 8-octet explicit IV.
            EncryptionTransform(
                f"esp-gcm{suffix}", "esp-gcm", f"esp-gcm{suffix}", "ESP_GCM", CipherMode.AEAD,
                20, 20, bits, bits // 8, 4, 8, 4, 16,
                "AES-GCM with 16 octet ICV [RFC4106]", _aesgcm,
            ),
            # RFC 4543: ENCR_NULL_AUTH_AES_GMAC, IPsec DOI 23, IKEv2 21.  Wireshark cannot
            # check a GMAC ICV; the payload is clear, so "NULL" lets it dissect the packet.
            EncryptionTransform(
                f"esp-gmac{suffix}", "esp-gmac", f"esp-gmac{suffix}", "ESP_GMAC",
                CipherMode.GMAC, 23, 21, bits, bits // 8, 4, 8, 4, 16, "NULL", _aesgcm,
            ),
        ]
    return rows


ENCRYPTION_TRANSFORMS: dict[str, EncryptionTransform] = {row.name: row for row in _enc_rows()}
"""ESP encryption transforms keyed by canonical IOS words (``"esp-aes 256"``)."""


class KeyedMac:
    """HMAC (RFC 2104) with the key schedule done once, truncated to ``icv_size`` bytes.

    The inner and outer hash states after absorbing ``K xor ipad`` / ``K xor opad`` are kept;
    each message then costs two state copies and two hash finalisations.
    """

    __slots__ = ("_inner", "_outer", "icv_size")

    def __init__(self, hash_ctor: Callable[[], Any], key: bytes, icv_size: int) -> None:
        inner, outer = hash_ctor(), hash_ctor()
        block = inner.block_size
        if len(key) > block:
            key = _digest(hash_ctor, key)
        key = key.ljust(block, b"\0")
        inner.update(bytes(b ^ 0x36 for b in key))
        outer.update(bytes(b ^ 0x5C for b in key))
        self._inner = inner
        self._outer = outer
        self.icv_size = icv_size

    def __call__(self, data: bytes) -> bytes:
        """Return the truncated ICV of ``data``."""
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[: self.icv_size]

    def full(self, data: bytes) -> bytes:
        """Return the untruncated HMAC of ``data`` (for tests and PRF use)."""
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return bytes(outer.digest())


def _digest(hash_ctor: Callable[[], Any], data: bytes) -> bytes:
    h = hash_ctor()
    h.update(data)
    return bytes(h.digest())


@dataclass(frozen=True, slots=True)
class IntegrityTransform:
    """One HMAC integrity transform, for ESP (``esp-*-hmac``) or AH (``ah-*-hmac``).

    ``auth_algorithm`` is the IPsec DOI Authentication Algorithm attribute (RFC 2407 4.5,
    class 5; values 5/6/7 from RFC 4868 section 4 / IANA).  For AH rows ``ah_transform_id`` is
    the IPsec DOI AH transform identifier (RFC 2407 4.4.3, RFC 4868).
    """

    name: str
    protocol: str
    """``"esp"`` or ``"ah"``."""
    debug_name: str
    """What ``debug crypto isakmp`` prints after "authenticator is"."""
    auth_algorithm: int
    ah_transform_id: int | None
    ikev2_transform_id: int
    """IKEv2 transform type 3 identifier (RFC 7296 3.3.2, RFC 4868)."""
    key_size: int
    icv_size: int
    wireshark_name: str
    """Wireshark ``esp_sa`` authentication algorithm string."""
    hash_ctor: Callable[..., Any]

    def new_mac(self, key: bytes) -> KeyedMac:
        """Key the HMAC once for a Security Association."""
        if len(key) != self.key_size:
            raise ValueError(f"{self.name}: key is {len(key)} bytes, expected {self.key_size}")
        return KeyedMac(self.hash_ctor, key, self.icv_size)


def _integ_rows() -> list[IntegrityTransform]:
    algs = [
        # short, debug name, DOI auth alg, AH id, IKEv2 id, key, ICV, wireshark, hash
        ("md5", "HMAC-MD5", 1, 2, 1, 16, 12, "HMAC-MD5-96 [RFC2403]", hashlib.md5),
        ("sha", "HMAC-SHA", 2, 3, 2, 20, 12, "HMAC-SHA-1-96 [RFC2404]", hashlib.sha1),
        ("sha256", "HMAC-SHA256", 5, 5, 12, 32, 16, "HMAC-SHA-256-128 [RFC4868]",
         hashlib.sha256),
        ("sha384", "HMAC-SHA384", 6, 6, 13, 48, 24, "HMAC-SHA-384-192 [RFC4868]",
         hashlib.sha384),
        ("sha512", "HMAC-SHA512", 7, 7, 14, 64, 32, "HMAC-SHA-512-256 [RFC4868]",
         hashlib.sha512),
    ]
    rows = []
    for short, debug, auth, ah_id, v2, key, icv, ws, ctor in algs:
        for proto in ("esp", "ah"):
            rows.append(
                IntegrityTransform(
                    f"{proto}-{short}-hmac", proto, debug, auth,
                    ah_id if proto == "ah" else None, v2, key, icv, ws, ctor,
                )
            )
    return rows


INTEGRITY_TRANSFORMS: dict[str, IntegrityTransform] = {r.name: r for r in _integ_rows()}
"""All HMAC transforms keyed by IOS keyword (``"esp-sha256-hmac"``, ``"ah-sha-hmac"``)."""

ESP_INTEGRITY_TRANSFORMS: dict[str, IntegrityTransform] = {
    k: v for k, v in INTEGRITY_TRANSFORMS.items() if v.protocol == "esp"
}
"""The ``esp-*-hmac`` rows."""

AH_TRANSFORMS: dict[str, IntegrityTransform] = {
    k: v for k, v in INTEGRITY_TRANSFORMS.items() if v.protocol == "ah"
}
"""The ``ah-*-hmac`` rows."""


def encryption_transform(keyword: str, key_bits: int | None = None) -> EncryptionTransform:
    """Look up an encryption row by IOS keyword and optional key size.

    ``encryption_transform("esp-aes")``, ``("esp-aes", 256)`` and ``("esp-aes 256")`` all work;
    128 is the default key size, as in IOS.  Raises :class:`KeyError` for unknown transforms.
    """
    words = keyword.split()
    if len(words) == 2:
        keyword, key_bits = words[0], int(words[1])
    name = keyword if key_bits in (None, 128) else f"{keyword} {key_bits}"
    row = ENCRYPTION_TRANSFORMS.get(name)
    if row is None or (key_bits is not None and row.key_length_attribute is None):
        raise KeyError(f"unknown ESP encryption transform {keyword!r} {key_bits or ''}".strip())
    return row


def integrity_transform(keyword: str) -> IntegrityTransform:
    """Look up an HMAC row by IOS keyword; raises :class:`KeyError` if unknown."""
    try:
        return INTEGRITY_TRANSFORMS[keyword]
    except KeyError:
        raise KeyError(f"unknown integrity transform {keyword!r}") from None
