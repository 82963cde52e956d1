"""Transform table rows and the keyed primitives they build, checked against RFC vectors."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from iosim.ipsec.transforms import (
    AH_TRANSFORMS,
    ENCRYPTION_TRANSFORMS,
    ESP_INTEGRITY_TRANSFORMS,
    INTEGRITY_TRANSFORMS,
    CipherMode,
    encryption_transform,
    integrity_transform,
)


def hx(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


def test_every_ios_transform_is_present() -> None:
    assert set(ENCRYPTION_TRANSFORMS) == {
        "esp-des", "esp-3des", "esp-null",
        "esp-aes", "esp-aes 192", "esp-aes 256",
        "esp-gcm", "esp-gcm 192", "esp-gcm 256",
        "esp-gmac", "esp-gmac 192", "esp-gmac 256",
    }
    assert set(ESP_INTEGRITY_TRANSFORMS) == {
        "esp-md5-hmac", "esp-sha-hmac", "esp-sha256-hmac", "esp-sha384-hmac", "esp-sha512-hmac",
    }
    assert set(AH_TRANSFORMS) == {
        "ah-md5-hmac", "ah-sha-hmac", "ah-sha256-hmac", "ah-sha384-hmac", "ah-sha512-hmac",
    }
    assert len(INTEGRITY_TRANSFORMS) == 10


@pytest.mark.parametrize(
    ("name", "doi", "ikev2", "key", "salt", "iv", "block", "icv", "keylen_attr", "wireshark"),
    [
        ("esp-des", 2, 2, 8, 0, 8, 8, 0, None, "DES-CBC [RFC2405]"),
        ("esp-3des", 3, 3, 24, 0, 8, 8, 0, None, "TripleDES-CBC [RFC2451]"),
        ("esp-null", 11, 11, 0, 0, 0, 4, 0, None, "NULL"),
        ("esp-aes", 12, 12, 16, 0, 16, 16, 0, 128, "AES-CBC [RFC3602]"),
        ("esp-aes 192", 12, 12, 24, 0, 16, 16, 0, 192, "AES-CBC [RFC3602]"),
        ("esp-aes 256", 12, 12, 32, 0, 16, 16, 0, 256, "AES-CBC [RFC3602]"),
        ("esp-gcm", 20, 20, 16, 4, 8, 4, 16, 128, "AES-GCM with 16 octet ICV [RFC4106]"),
        ("esp-gcm 256", 20, 20, 32, 4, 8, 4, 16, 256, "AES-GCM with 16 octet ICV [RFC4106]"),
        ("esp-gmac 192", 23, 21, 24, 4, 8, 4, 16, 192, "NULL"),
    ],
)
def test_encryption_rows(
    name: str, doi: int, ikev2: int, key: int, salt: int, iv: int, block: int, icv: int,
    keylen_attr: int | None, wireshark: str,
) -> None:
    row = ENCRYPTION_TRANSFORMS[name]
    assert (row.doi_transform_id, row.ikev2_transform_id) == (doi, ikev2)
    assert (row.key_size, row.salt_size, row.iv_size, row.block_size, row.icv_size) == (
        key, salt, iv, block, icv)
    assert row.keymat_size == key + salt
    assert row.key_length_attribute == keylen_attr
    assert row.wireshark_name == wireshark
    assert row.is_combined == (icv > 0)


def test_show_and_debug_names_follow_ios() -> None:
    assert encryption_transform("esp-aes 256").show_name == "esp-256-aes"
    assert encryption_transform("esp-aes 192").show_name == "esp-192-aes"
    assert encryption_transform("esp-aes").show_name == "esp-aes"
    assert encryption_transform("esp-gcm 256").show_name == "esp-gcm 256"
    assert encryption_transform("esp-aes 256").debug_name == "ESP_AES"
    assert integrity_transform("esp-sha-hmac").debug_name == "HMAC-SHA"
    assert integrity_transform("esp-sha512-hmac").debug_name == "HMAC-SHA512"


@pytest.mark.parametrize(
    ("name", "auth", "ah_id", "ikev2", "key", "icv", "wireshark"),
    [
        ("esp-md5-hmac", 1, None, 1, 16, 12, "HMAC-MD5-96 [RFC2403]"),
        ("esp-sha-hmac", 2, None, 2, 20, 12, "HMAC-SHA-1-96 [RFC2404]"),
        ("esp-sha256-hmac", 5, None, 12, 32, 16, "HMAC-SHA-256-128 [RFC4868]"),
        ("esp-sha384-hmac", 6, None, 13, 48, 24, "HMAC-SHA-384-192 [RFC4868]"),
        ("esp-sha512-hmac", 7, None, 14, 64, 32, "HMAC-SHA-512-256 [RFC4868]"),
        ("ah-md5-hmac", 1, 2, 1, 16, 12, "HMAC-MD5-96 [RFC2403]"),
        ("ah-sha-hmac", 2, 3, 2, 20, 12, "HMAC-SHA-1-96 [RFC2404]"),
        ("ah-sha256-hmac", 5, 5, 12, 32, 16, "HMAC-SHA-256-128 [RFC4868]"),
        ("ah-sha384-hmac", 6, 6, 13, 48, 24, "HMAC-SHA-384-192 [RFC4868]"),
        ("ah-sha512-hmac", 7, 7, 14, 64, 32, "HMAC-SHA-512-256 [RFC4868]"),
    ],
)
def test_integrity_rows(
    name: str, auth: int, ah_id: int | None, ikev2: int, key: int, icv: int, wireshark: str
) -> None:
    row = INTEGRITY_TRANSFORMS[name]
    assert row.auth_algorithm == auth
    assert row.ah_transform_id == ah_id
    assert row.ikev2_transform_id == ikev2
    assert (row.key_size, row.icv_size) == (key, icv)
    assert row.wireshark_name == wireshark
    assert row.protocol == name.split("-")[0]


def test_lookup_spellings() -> None:
    aes = encryption_transform("esp-aes")
    assert encryption_transform("esp-aes", 128) is aes
    assert encryption_transform("esp-aes 128") is aes
    assert encryption_transform("esp-aes", 256) is ENCRYPTION_TRANSFORMS["esp-aes 256"]
    assert encryption_transform("esp-gcm 192").mode is CipherMode.AEAD
    assert encryption_transform("esp-gmac").mode is CipherMode.GMAC
    with pytest.raises(KeyError):
        encryption_transform("esp-blowfish")
    with pytest.raises(KeyError):
        encryption_transform("esp-3des", 256)
    with pytest.raises(KeyError):
        encryption_transform("esp-aes", 512)
    with pytest.raises(KeyError):
        integrity_transform("esp-sha3-hmac")


# RFC 4868 section 2.7.2: authenticator test vectors, key length = hash output length,
# ICV = the HMAC truncated to half the hash output.
RFC4868_AUTH = [
    # AUTH256-1
    ("esp-sha256-hmac", b"\x0b" * 32, b"Hi There",
     "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"),
    # AUTH256-2
    ("esp-sha256-hmac", b"Jefe" * 8, b"what do ya want for nothing?",
     "167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d81621a2a40c6"),
    # AUTH256-3
    ("esp-sha256-hmac", b"\xaa" * 32, b"\xdd" * 50,
     "cdcb1220d1ecccea91e53aba3092f962e549fe6ce9ed7fdc43191fbde45c30b0"),
    # AUTH256-4
    ("esp-sha256-hmac", bytes(range(1, 33)), b"\xcd" * 50,
     "372efcf9b40b35c2115b1346903d2ef42fced46f0846e7257bb156d3d7b30d3f"),
    # AUTH384-1
    ("ah-sha384-hmac", b"\x0b" * 48, b"Hi There",
     "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973"
     "7a959796489bddbc4c5df61d5b3297b4fb68dab9f1b582c2"),
    # AUTH384-2
    ("esp-sha384-hmac", b"Jefe" * 12, b"what do ya want for nothing?",
     "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d"
     "a86a368e9b8e16f5349524ca4e82400cbde0686d403371c9"),
    # AUTH512-1
    ("esp-sha512-hmac", b"\x0b" * 64, b"Hi There",
     "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"
     "ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65aea45fd464e89f8f5b"),
]


@pytest.mark.parametrize(("name", "key", "data", "full"), RFC4868_AUTH)
def test_rfc4868_authenticator_vectors(name: str, key: bytes, data: bytes, full: str) -> None:
    row = integrity_transform(name)
    mac = row.new_mac(key)
    assert mac.full(data) == hx(full)
    assert mac(data) == hx(full)[: row.icv_size]
    assert len(mac(data)) * 2 == len(hx(full))  # RFC 4868: truncate to half the output


def test_rfc2403_rfc2404_truncated_vectors() -> None:
    # RFC 2202 test case 5 ("Test With Truncation"), the 96-bit truncations of RFC 2403/2404.
    md5 = integrity_transform("esp-md5-hmac").new_mac(b"\x0c" * 16)
    assert md5(b"Test With Truncation") == hx("56461ef2342edc00f9bab995")
    sha1 = integrity_transform("ah-sha-hmac").new_mac(b"\x0c" * 20)
    assert sha1(b"Test With Truncation") == hx("4c1a03424b55e07fe7f27be1")


def test_keyed_mac_matches_stdlib_for_all_rows() -> None:
    for row in INTEGRITY_TRANSFORMS.values():
        key = bytes(range(row.key_size))
        data = bytes(range(200))
        expected = hmac.new(key, data, row.hash_ctor).digest()[: row.icv_size]
        assert row.new_mac(key)(data) == expected


def test_keyed_mac_long_key_is_hashed_first() -> None:
    row = integrity_transform("esp-sha256-hmac")
    from iosim.ipsec.transforms import KeyedMac

    mac = KeyedMac(hashlib.sha256, b"k" * 100, 16)
    assert mac(b"x") == hmac.new(b"k" * 100, b"x", "sha256").digest()[:16]
    with pytest.raises(ValueError):
        row.new_mac(b"short")


def test_des_cbc_fips81_vector() -> None:
    # FIPS 81 Appendix C, CBC mode example ("Now is the time for all ").
    row = encryption_transform("esp-des")
    assert row.algorithm is not None
    enc = Cipher(row.algorithm(hx("0123456789abcdef")), modes.CBC(hx("1234567890abcdef")))
    ct = enc.encryptor().update(b"Now is the time for all ")
    assert ct == hx("e5c7cdde872bf27c 43e934008c389c0f 683788499a7c05f6")


def test_rfc3602_case1_aes_cbc_primitive() -> None:
    # RFC 3602 section 4, case #1: one block with a 128-bit key.
    row = encryption_transform("esp-aes")
    assert row.algorithm is not None
    enc = Cipher(row.algorithm(hx("06a9214036b8a15b512e03d534120006")),
                 modes.CBC(hx("3dafba429d9eb430b422da802c9fac41")))
    ct = enc.encryptor().update(b"Single block msg")
    assert ct == hx("e353779c1079aeb82708942dbe77181a")
