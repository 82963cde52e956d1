"""IKEv2 algorithms and key schedule (RFC 7296 sections 2.13 to 2.18, AEAD RFC 5282).

Theory of operation
-------------------
Three tables, one row per algorithm, name the IKEv2 transforms IOS configures in a
``crypto ikev2 proposal``: ciphers (``encryption aes-cbc-256`` ...), PRFs (``prf sha256``)
and integrity algorithms (``integrity sha1`` ...), with their RFC 7296 transform IDs, sizes,
and the words ``show crypto ikev2 ...`` prints for them. The functions below are the RFC's
formulas, each with the formula as its comment; they take and return bytes only.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

__all__ = [
    "CIPHERS",
    "INTEGRITIES",
    "PRFS",
    "IkeCipher",
    "IkeIntegrity",
    "IkeKeys",
    "IkePrf",
    "child_keymat",
    "ike_keys",
    "nat_detection_hash",
    "prf_plus",
    "psk_auth",
    "rekey_skeyseed",
    "signed_octets",
    "skeyseed",
]


@dataclass(frozen=True)
class IkeCipher:
    """An IKEv2 encryption transform (type 1)."""

    name: str  # IOS keyword: "aes-cbc-256", "aes-gcm-128", "3des"
    transform_id: int  # RFC 7296 3.3.2 / RFC 5282: 3 3DES, 12 AES-CBC, 20 AES-GCM-16
    key_bits: int | None  # the Key Length attribute (None for 3DES)
    key_size: int  # bytes of cipher key
    salt_size: int  # AEAD: the 4-octet salt taken after the key (RFC 5282 7.1)
    iv_size: int
    block_size: int  # what the plaintext is padded to (1: no alignment, RFC 5282 3)
    icv_size: int  # AEAD: the tag; 0 for a cipher that needs an integrity transform
    show: str  # "AES-CBC-256"
    family: str  # "AES-CBC" as "Encr:" of show crypto ikev2 sa prints it
    wireshark: str  # the "Encryption algorithm" of Wireshark's ikev2_decryption_table

    @property
    def aead(self) -> bool:
        return self.icv_size > 0

    @property
    def keymat_size(self) -> int:
        return self.key_size + self.salt_size


@dataclass(frozen=True)
class IkePrf:
    """An IKEv2 pseudo-random function (type 2): HMAC of a hash."""

    name: str  # IOS keyword: "sha256"
    transform_id: int
    hashlib_name: str
    size: int  # output (and preferred key) size
    show: str  # "SHA256"

    def __call__(self, key: bytes, data: bytes) -> bytes:
        return hmac.digest(key, data, self.hashlib_name)  # one-shot: OpenSSL's HMAC at once


@dataclass(frozen=True)
class IkeIntegrity:
    """An IKEv2 integrity algorithm (type 3): truncated HMAC."""

    name: str  # IOS keyword: "sha1"
    transform_id: int
    hashlib_name: str
    key_size: int
    icv_size: int
    show: str  # "SHA96"
    wireshark: str

    def mac(self, key: bytes, data: bytes) -> bytes:
        return hmac.digest(key, data, self.hashlib_name)[:self.icv_size]


def _ciphers() -> dict[str, IkeCipher]:
    rows = [IkeCipher("3des", 3, None, 24, 0, 8, 8, 0, "3DES", "3DES",
                      "3DES [RFC2451]")]
    for bits in (128, 192, 256):
        rows.append(IkeCipher(f"aes-cbc-{bits}", 12, bits, bits // 8, 0, 16, 16, 0,
                              f"AES-CBC-{bits}", "AES-CBC",
                              f"AES-CBC-{bits} [RFC3602]"))
    for bits in (128, 256):
        rows.append(IkeCipher(f"aes-gcm-{bits}", 20, bits, bits // 8, 4, 8, 1, 16,
                              f"AES-GCM-{bits}", "AES-GCM",
                              f"AES-GCM-{bits} with 16 octet ICV [RFC5282]"))
    return {r.name: r for r in rows}


#: ``encryption`` keywords of a ``crypto ikev2 proposal``.
CIPHERS: dict[str, IkeCipher] = _ciphers()

#: ``prf`` keywords: HMAC_MD5 1, HMAC_SHA1 2, HMAC_SHA2_256/384/512 5/6/7 (RFC 7296, 4868).
PRFS: dict[str, IkePrf] = {r.name: r for r in (
    IkePrf("md5", 1, "md5", 16, "MD5"),
    IkePrf("sha1", 2, "sha1", 20, "SHA1"),
    IkePrf("sha256", 5, "sha256", 32, "SHA256"),
    IkePrf("sha384", 6, "sha384", 48, "SHA384"),
    IkePrf("sha512", 7, "sha512", 64, "SHA512"),
)}

#: ``integrity`` keywords: HMAC_MD5_96 1, HMAC_SHA1_96 2, HMAC_SHA2_*_ 12/13/14 (RFC 4868).
INTEGRITIES: dict[str, IkeIntegrity] = {r.name: r for r in (
    IkeIntegrity("md5", 1, "md5", 16, 12, "MD596", "HMAC_MD5_96 [RFC2403]"),
    IkeIntegrity("sha1", 2, "sha1", 20, 12, "SHA96", "HMAC_SHA1_96 [RFC2404]"),
    IkeIntegrity("sha256", 12, "sha256", 32, 16, "SHA256", "HMAC_SHA2_256_128 [RFC4868]"),
    IkeIntegrity("sha384", 13, "sha384", 48, 24, "SHA384", "HMAC_SHA2_384_192 [RFC4868]"),
    IkeIntegrity("sha512", 14, "sha512", 64, 32, "SHA512", "HMAC_SHA2_512_256 [RFC4868]"),
)}

CIPHER_BY_ID = {(r.transform_id, r.key_bits): r for r in CIPHERS.values()}
PRF_BY_ID = {r.transform_id: r for r in PRFS.values()}
INTEG_BY_ID = {r.transform_id: r for r in INTEGRITIES.values()}


# --------------------------------------------------------------------------- the formulas


def prf_plus(prf: IkePrf, key: bytes, seed: bytes, length: int) -> bytes:
    """RFC 7296 2.13: prf+ (K,S) = T1 | T2 | T3 | T4 | ... where
    T1 = prf (K, S | 0x01), T2 = prf (K, T1 | S | 0x02), ..."""
    out, t, n = b"", b"", 1
    while len(out) < length:
        t = prf(key, t + seed + bytes((n,)))
        out += t
        n += 1
    return out[:length]


def skeyseed(prf: IkePrf, ni: bytes, nr: bytes, shared: bytes) -> bytes:
    """RFC 7296 2.14: SKEYSEED = prf(Ni | Nr, g^ir)."""
    return prf(ni + nr, shared)


def rekey_skeyseed(prf: IkePrf, old_sk_d: bytes, shared: bytes, ni: bytes, nr: bytes) -> bytes:
    """RFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)."""
    return prf(old_sk_d, shared + ni + nr)


@dataclass(frozen=True)
class IkeKeys:
    """SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr of one IKE SA."""

    sk_d: bytes
    sk_ai: bytes
    sk_ar: bytes
    sk_ei: bytes
    sk_er: bytes
    sk_pi: bytes
    sk_pr: bytes


def ike_keys(prf: IkePrf, seed: bytes, ni: bytes, nr: bytes, spi_i: bytes, spi_r: bytes,
             cipher: IkeCipher, integ: IkeIntegrity | None) -> IkeKeys:
    """RFC 7296 2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
    = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr); with an AEAD cipher SK_ai/SK_ar are empty and
    SK_ei/SK_er carry the salt after the key (RFC 5282 7.1)."""
    a = 0 if integ is None else integ.key_size
    e = cipher.keymat_size
    p = prf.size
    sizes = (p, a, a, e, e, p, p)
    stream = prf_plus(prf, seed, ni + nr + spi_i + spi_r, sum(sizes))
    parts, at = [], 0
    for size in sizes:
        parts.append(stream[at:at + size])
        at += size
    return IkeKeys(*parts)


def child_keymat(prf: IkePrf, sk_d: bytes, ni: bytes, nr: bytes, enc_size: int,
                 integ_size: int, shared: bytes | None = None) -> tuple[bytes, bytes]:
    """RFC 7296 2.17: KEYMAT = prf+(SK_d, Ni | Nr), or with PFS
    KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr); the initiator-to-responder keys (encryption
    then integrity) come first, then the responder-to-initiator ones. Returns both
    directions as (encryption key (+ salt) || integrity key)."""
    one = enc_size + integ_size
    seed = (shared or b"") + ni + nr
    stream = prf_plus(prf, sk_d, seed, 2 * one)
    return stream[:one], stream[one:]


KEY_PAD = b"Key Pad for IKEv2"


def signed_octets(message: bytes, peer_nonce: bytes, prf: IkePrf, sk_p: bytes,
                  id_body: bytes) -> bytes:
    """RFC 7296 2.15: InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI with
    MACedIDForI = prf(SK_pi, RestOfInitIDPayload) (the responder's likewise, with its own
    message, the initiator's nonce and SK_pr)."""
    return message + peer_nonce + prf(sk_p, id_body)


def psk_auth(prf: IkePrf, psk: bytes, octets: bytes) -> bytes:
    """RFC 7296 2.15: AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)."""
    return prf(prf(psk, KEY_PAD), octets)


def nat_detection_hash(spi_i: bytes, spi_r: bytes, address: int, port: int) -> bytes:
    """RFC 7296 2.23: SHA-1 ( SPIs | source (or destination) IP address | port )."""
    return hashlib.sha1(spi_i + spi_r + address.to_bytes(4, "big")
                        + port.to_bytes(2, "big")).digest()
