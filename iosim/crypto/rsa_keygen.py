"""RSA key pairs as a router makes them: drawn from a byte stream, so a lab's keys repeat.

Theory of operation
-------------------
``crypto key generate rsa`` on IOS draws its primes from the router's random source. In a
lab that source is seeded (:mod:`iosim.crypto.rand`), so the key a lab's configuration
generates at boot is the same at every boot, and an SSH client's ``known_hosts`` stays valid
across restarts even before the key was saved. :func:`generate` turns ``rand(n) -> bytes``
into a key pair: each prime candidate is drawn with its two top bits set (so that the
modulus has exactly the size asked for) and its low bit set, sieved by the small primes,
then accepted after a base-2 Fermat test and Miller-Rabin with 20 fixed bases (the error
bound is far below 2**-80 for candidates of 180 bits and more); e = 65537 as IOS uses.

A key of 2048 bits takes a few tenths of a second in Python: :func:`derived_key` caches
the keys of a seed, so that a test suite booting the same lab many times pays once.

The encodings are those IOS prints: ``show crypto key mypubkey rsa`` dumps the public key's
DER ``SubjectPublicKeyInfo`` in hex words (:func:`key_data_lines`), ``show ip ssh`` its
OpenSSH line (:func:`openssh_public_line`); the private key is kept as PKCS#1 PEM text.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import cache, lru_cache
from math import gcd
from typing import TYPE_CHECKING

from iosim.crypto.rand import SeededRandom

# ``cryptography`` is imported by the functions that use it: a router that never makes or
# shows a key pair (a config replay) does not pay for loading it.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["MAX_MODULUS", "MIN_MODULUS", "PUBLIC_EXPONENT", "derived_key", "generate",
           "key_data_lines", "load_pem", "openssh_public_line", "private_pem"]

#: The modulus sizes IOS 15 accepts (``How many bits in the modulus``).
MIN_MODULUS = 360
MAX_MODULUS = 4096
PUBLIC_EXPONENT = 65537

_MR_BASES = (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73)


def _probably_prime(n: int) -> bool:
    """Miller-Rabin with fixed bases, after a base-2 Fermat test."""
    if pow(2, n - 1, n) != 1:
        return False
    d, s = n - 1, 0
    while not d & 1:
        d >>= 1
        s += 1
    for a in _MR_BASES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


@cache
def _small_primes_product() -> int:
    """The product of the odd primes below 2000 (a candidate sharing one is not prime);
    computed at the first key pair, not at import."""
    product = 1
    for p in range(3, 2000):
        if all(p % q for q in range(2, int(p ** 0.5) + 1)):
            product *= p
    return product


def _prime(bits: int, rand: Callable[[int], bytes]) -> int:
    """A prime of exactly ``bits`` bits (top two set), with p - 1 coprime to e."""
    nbytes = (bits + 7) // 8
    while True:
        n = int.from_bytes(rand(nbytes), "big") >> (nbytes * 8 - bits)
        n |= (3 << (bits - 2)) | 1
        if gcd(n, _small_primes_product()) != 1 or (n - 1) % PUBLIC_EXPONENT == 0:
            continue
        if _probably_prime(n):
            return n


def generate(bits: int, rand: Callable[[int], bytes]) -> rsa.RSAPrivateKey:
    """An RSA key pair with a modulus of ``bits`` bits, every prime drawn from ``rand``."""
    if not MIN_MODULUS <= bits <= MAX_MODULUS:
        raise ValueError(f"modulus of {bits} bits (IOS takes {MIN_MODULUS} to {MAX_MODULUS})")
    from cryptography.hazmat.primitives.asymmetric import rsa

    half = bits // 2
    while True:
        p = _prime(bits - half, rand)
        q = _prime(half, rand)
        if p == q or (p * q).bit_length() != bits:
            continue
        if p < q:
            p, q = q, p
        phi = (p - 1) * (q - 1)
        d = pow(PUBLIC_EXPONENT, -1, phi)
        public = rsa.RSAPublicNumbers(PUBLIC_EXPONENT, p * q)
        numbers = rsa.RSAPrivateNumbers(
            p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
            public)
        return numbers.private_key()


@lru_cache(maxsize=64)
def derived_key(seed: str, bits: int) -> str:
    """The PEM of the key pair drawn from the seeded stream ``seed`` (cached)."""
    return private_pem(generate(bits, SeededRandom(seed)))


def private_pem(key: rsa.RSAPrivateKey) -> str:
    """PKCS#1 PEM text of a private key."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode("ascii")


def load_pem(text: str) -> rsa.RSAPrivateKey:
    """The private key of PEM ``text``; ValueError if it is not an RSA key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA key")
    return key


def openssh_public_line(key: rsa.RSAPrivateKey) -> str:
    """``ssh-rsa AAAA...``: the public key as OpenSSH writes it (no comment)."""
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode("ascii")


def ssh_public_blob(key: rsa.RSAPrivateKey) -> bytes:
    """The SSH wire form of the public key (what a known_hosts line base64-encodes)."""
    return base64.b64decode(openssh_public_line(key).split()[1])


def key_data_lines(key: rsa.RSAPrivateKey) -> list[str]:
    """The DER ``SubjectPublicKeyInfo`` as ``show crypto key mypubkey rsa`` dumps it:
    upper-case hex in words of 8 digits, 8 words to a line (the last word may be shorter)."""
    from cryptography.hazmat.primitives import serialization

    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    digits = der.hex().upper()
    words = [digits[i:i + 8] for i in range(0, len(digits), 8)]
    return [" ".join(words[i:i + 8]) for i in range(0, len(words), 8)]
