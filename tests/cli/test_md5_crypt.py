"""Type 5 secrets: MD5-crypt as ``openssl passwd -1`` computes it (the vectors below), through
CPython's own MD5 where it exists and through hashlib's otherwise."""

from __future__ import annotations

import hashlib

import pytest

from iosim.config import passwords
from iosim.config.passwords import md5_crypt

# (password, salt, openssl passwd -1 -salt SALT PASSWORD): passwords shorter than, equal to
# and longer than one MD5 block of 16 bytes, salts of 1, 4 (IOS's) and 8 characters
VECTORS = [
    ("", "x", "$1$x$fwjfZtMwarkdetsjiQreU1"),
    ("", "saltstri", "$1$saltstri$ciR2otLVXV8I9sOPWbLTc1"),
    ("a", "abcd", "$1$abcd$PW3wSi4KQlwQXwfAbb9UA/"),
    ("cisco", "x", "$1$x$AO9KyefAIsRdbtjb3qWg./"),
    ("cisco", "abcd", "$1$abcd$2hDGYdE0UrwK2pqoiF6BB1"),
    ("password", "saltstri", "$1$saltstri$qQY4WxjABChYG1ccLpfkz/"),
    ("0123456789abcdef", "abcd", "$1$abcd$eoH0nHVMa5STp.IoRjCTf0"),
    ("0123456789abcdefg", "saltstri", "$1$saltstri$tf7rVn6/rsndDE8Rfy2D8."),
    ("a much longer password of thirty+ bytes", "abcd", "$1$abcd$sHlB4UhMVpSfuqlAQae/m1"),
]


@pytest.mark.parametrize("md5", ["fast", "hashlib"])
@pytest.mark.parametrize(("password", "salt", "expected"), VECTORS)
def test_md5_crypt_matches_openssl(password: str, salt: str, expected: str, md5: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if md5 == "hashlib":
        monkeypatch.setattr(passwords, "_MD5", hashlib.md5)
    assert md5_crypt(password, salt) == expected
