"""IKEv1 key derivation for pre-shared keys (RFC 2409), one function per formula.

Notation as in RFC 2409 section 3.2: ``prf`` is the HMAC of the negotiated hash, ``|`` is
concatenation, ``g^xy`` the Diffie-Hellman shared secret, ``CKY-I``/``CKY-R`` the cookies,
``Ni_b``/``Nr_b`` the nonce payload bodies, ``SAi_b`` the body of the initiator's SA payload and
``IDii_b``/``IDir_b`` the bodies of the identification payloads (bodies exclude the generic
header: see ``iosim.ike.payloads.push_payload_body``). Message IDs are 4-byte big-endian.

``derive_phase1_keys`` chains the phase-1 formulas; the single-formula functions are public so an
engine can compute exactly what it needs and tests can check each one against a vector.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from iosim.crypto.algorithms import EncryptionAlgorithm, HashAlgorithm

__all__ = [
    "Phase1Keys",
    "derive_phase1_keys",
    "encryption_key",
    "hash_i",
    "hash_r",
    "informational_hash",
    "keymat",
    "nat_d_hash",
    "phase1_iv",
    "phase2_iv",
    "quick_mode_hash_1",
    "quick_mode_hash_2",
    "quick_mode_hash_3",
    "skeyid_a",
    "skeyid_d",
    "skeyid_e",
    "skeyid_psk",
]


def _mid(message_id: int) -> bytes:
    return message_id.to_bytes(4, "big")


# --- phase 1 (RFC 2409 section 5) ---------------------------------------------------------------


def skeyid_psk(prf: HashAlgorithm, pre_shared_key: bytes, ni_b: bytes, nr_b: bytes) -> bytes:
    """RFC 2409 5: for pre-shared keys: SKEYID = prf(pre-shared-key, Ni_b | Nr_b)"""
    return prf.prf(pre_shared_key, ni_b + nr_b)


def skeyid_d(prf: HashAlgorithm, skeyid: bytes, g_xy: bytes, cky_i: bytes, cky_r: bytes) -> bytes:
    """RFC 2409 5: SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)"""
    return prf.prf(skeyid, g_xy + cky_i + cky_r + b"\x00")


def skeyid_a(
    prf: HashAlgorithm, skeyid: bytes, skeyid_d: bytes, g_xy: bytes, cky_i: bytes, cky_r: bytes
) -> bytes:
    """RFC 2409 5: SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)"""
    return prf.prf(skeyid, skeyid_d + g_xy + cky_i + cky_r + b"\x01")


def skeyid_e(
    prf: HashAlgorithm, skeyid: bytes, skeyid_a: bytes, g_xy: bytes, cky_i: bytes, cky_r: bytes
) -> bytes:
    """RFC 2409 5: SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)"""
    return prf.prf(skeyid, skeyid_a + g_xy + cky_i + cky_r + b"\x02")


def encryption_key(prf: HashAlgorithm, skeyid_e: bytes, key_length: int) -> bytes:
    """RFC 2409 Appendix B: the encryption key Ka.

    If SKEYID_e is long enough, Ka is its first ``key_length`` bytes; otherwise
        Ka = K1 | K2 | K3 ...   where K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1),
        K3 = prf(SKEYID_e, K2), ...  ("0" is a single zero octet)
    truncated to ``key_length``.
    """
    if len(skeyid_e) >= key_length:
        return skeyid_e[:key_length]
    blocks = [prf.prf(skeyid_e, b"\x00")]
    while sum(map(len, blocks)) < key_length:
        blocks.append(prf.prf(skeyid_e, blocks[-1]))
    return b"".join(blocks)[:key_length]


def phase1_iv(hash_alg: HashAlgorithm, g_xi: bytes, g_xr: bytes, block_size: int) -> bytes:
    """RFC 2409 Appendix B: IV = hash(g^xi | g^xr), truncated to the cipher's block size."""
    return hash_alg.hash(g_xi + g_xr)[:block_size]


def hash_i(
    prf: HashAlgorithm,
    skeyid: bytes,
    g_xi: bytes,
    g_xr: bytes,
    cky_i: bytes,
    cky_r: bytes,
    sai_b: bytes,
    idii_b: bytes,
) -> bytes:
    """RFC 2409 5: HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)"""
    return prf.prf(skeyid, g_xi + g_xr + cky_i + cky_r + sai_b + idii_b)


def hash_r(
    prf: HashAlgorithm,
    skeyid: bytes,
    g_xi: bytes,
    g_xr: bytes,
    cky_i: bytes,
    cky_r: bytes,
    sai_b: bytes,
    idir_b: bytes,
) -> bytes:
    """RFC 2409 5: HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)"""
    return prf.prf(skeyid, g_xr + g_xi + cky_r + cky_i + sai_b + idir_b)


# --- phase 2 and informational (RFC 2409 sections 5.5, 5.7, Appendix B) -------------------------


def phase2_iv(
    hash_alg: HashAlgorithm, last_phase1_block: bytes, message_id: int, block_size: int
) -> bytes:
    """RFC 2409 Appendix B: IV = hash(last phase-1 CBC output block | M-ID), truncated to the
    block size. Used for each Quick Mode and each Informational exchange."""
    return hash_alg.hash(last_phase1_block + _mid(message_id))[:block_size]


def quick_mode_hash_1(prf: HashAlgorithm, skeyid_a: bytes, message_id: int, rest: bytes) -> bytes:
    """RFC 2409 5.5: HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr ] )

    ``rest`` is every payload after HASH(1), generic headers included, as sent.
    """
    return prf.prf(skeyid_a, _mid(message_id) + rest)


def quick_mode_hash_2(
    prf: HashAlgorithm, skeyid_a: bytes, message_id: int, ni_b: bytes, rest: bytes
) -> bytes:
    """RFC 2409 5.5: HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [ | KE ] [ | IDci | IDcr ] )

    ``ni_b`` is the initiator's nonce body; ``rest`` every payload after HASH(2), as sent.
    """
    return prf.prf(skeyid_a, _mid(message_id) + ni_b + rest)


def quick_mode_hash_3(
    prf: HashAlgorithm, skeyid_a: bytes, message_id: int, ni_b: bytes, nr_b: bytes
) -> bytes:
    """RFC 2409 5.5: HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)"""
    return prf.prf(skeyid_a, b"\x00" + _mid(message_id) + ni_b + nr_b)


def informational_hash(
    prf: HashAlgorithm, skeyid_a: bytes, message_id: int, payloads: bytes
) -> bytes:
    """RFC 2409 5.7: HASH(1) = prf(SKEYID_a, M-ID | N/D)

    ``payloads`` is the Notification or Delete payload after the hash, generic header included.
    """
    return prf.prf(skeyid_a, _mid(message_id) + payloads)


def keymat(
    prf: HashAlgorithm,
    skeyid_d: bytes,
    protocol: int,
    spi: bytes,
    ni_b: bytes,
    nr_b: bytes,
    length: int,
    g_qm_xy: bytes = b"",
) -> bytes:
    """RFC 2409 5.5: KEYMAT for one direction of one SA, ``length`` bytes.

        KEYMAT = prf(SKEYID_d, [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)
    expanded as
        KEYMAT = K1 | K2 | K3 | ...
        where K1 = prf(SKEYID_d, [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)
              K2 = prf(SKEYID_d, K1 | [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)
              K3 = prf(SKEYID_d, K2 | [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)

    ``g_qm_xy`` is the Quick Mode Diffie-Hellman secret (PFS) or empty; ``spi`` is the SPI the
    receiving side of this direction chose. The caller splits the result into the encryption key
    followed by the authentication key (RFC 2407 section 4.5 / RFC 2409 5.5).
    """
    seed = g_qm_xy + bytes([protocol]) + spi + ni_b + nr_b
    blocks = [prf.prf(skeyid_d, seed)]
    while sum(map(len, blocks)) < length:
        blocks.append(prf.prf(skeyid_d, blocks[-1] + seed))
    return b"".join(blocks)[:length]


# --- NAT traversal (RFC 3947 section 3.2) --------------------------------------------------------


def nat_d_hash(
    hash_alg: HashAlgorithm, cky_i: bytes, cky_r: bytes, ip_address: bytes, port: int
) -> bytes:
    """RFC 3947 3.2: HASH = HASH(CKY-I | CKY-R | IP | Port), with the negotiated hash.

    ``ip_address`` is the packed 4- or 16-byte address; the port is 2 bytes, network order.
    """
    return hash_alg.hash(cky_i + cky_r + ip_address + port.to_bytes(2, "big"))


# --- all of phase 1 at once ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phase1Keys:
    """The keying state an IKEv1 SA keeps after main mode message 3/4."""

    skeyid: bytes = field(repr=False)
    skeyid_d: bytes = field(repr=False)
    skeyid_a: bytes = field(repr=False)
    skeyid_e: bytes = field(repr=False)
    encryption_key: bytes = field(repr=False)  # Ka
    iv: bytes  # the initial phase-1 IV


def derive_phase1_keys(
    prf: HashAlgorithm,
    cipher: EncryptionAlgorithm,
    pre_shared_key: bytes,
    ni_b: bytes,
    nr_b: bytes,
    g_xy: bytes,
    g_xi: bytes,
    g_xr: bytes,
    cky_i: bytes,
    cky_r: bytes,
) -> Phase1Keys:
    """SKEYID, SKEYID_d/a/e, Ka and the initial IV for pre-shared-key authentication."""
    skeyid = skeyid_psk(prf, pre_shared_key, ni_b, nr_b)
    d = skeyid_d(prf, skeyid, g_xy, cky_i, cky_r)
    a = skeyid_a(prf, skeyid, d, g_xy, cky_i, cky_r)
    e = skeyid_e(prf, skeyid, a, g_xy, cky_i, cky_r)
    return Phase1Keys(
        skeyid=skeyid,
        skeyid_d=d,
        skeyid_a=a,
        skeyid_e=e,
        encryption_key=encryption_key(prf, e, cipher.key_length),
        iv=phase1_iv(prf, g_xi, g_xr, cipher.block_size),
    )
