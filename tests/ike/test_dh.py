"""Diffie-Hellman groups: agreement, the RFC parameters, RFC 5903 vectors, peer validation."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from iosim.crypto import bignum
from iosim.crypto.dh import (
    GROUPS,
    DhGroup,
    EcpGroup,
    InvalidPublicValue,
    ModpGroup,
    ModpPrivate,
    UnsupportedGroup,
    group,
)


def seeded(seed: int) -> Callable[[int], bytes]:
    """A reproducible random source: rand(n) -> n bytes."""
    rng = random.Random(seed)
    return rng.randbytes


@pytest.mark.parametrize("number", sorted(GROUPS))
def test_two_parties_agree(number: int) -> None:
    g = group(number)
    alice, bob = g.generate(seeded(1)), g.generate(seeded(2))
    a_pub, b_pub = alice.public_bytes(), bob.public_bytes()
    assert len(a_pub) == len(b_pub) == g.public_length
    secret = alice.shared_secret(b_pub)
    assert secret == bob.shared_secret(a_pub)
    assert len(secret) == g.secret_length
    assert a_pub != b_pub
    g.validate_public(a_pub)


@pytest.mark.parametrize(
    ("number", "public_length", "secret_length"),
    [(1, 96, 96), (2, 128, 128), (5, 192, 192), (14, 256, 256), (15, 384, 384), (16, 512, 512),
     (24, 256, 256), (19, 64, 32), (20, 96, 48), (21, 132, 66)],
)  # fmt: skip
def test_lengths(number: int, public_length: int, secret_length: int) -> None:
    assert (group(number).public_length, group(number).secret_length) == (
        public_length,
        secret_length,
    )


@pytest.mark.parametrize("number", sorted(GROUPS))
def test_randomness_is_injected_and_reproducible(
    number: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    def no_os_random(n: int) -> bytes:
        raise AssertionError("os.urandom must not be used")

    monkeypatch.setattr(os, "urandom", no_os_random)
    g = group(number)
    requested: list[int] = []

    def rand(n: int) -> bytes:
        requested.append(n)
        return seeded(7)(n)

    first = g.generate(rand).public_bytes()
    assert requested and g.generate(seeded(7)).public_bytes() == first
    assert g.generate(seeded(8)).public_bytes() != first


def test_private_values_are_not_printed() -> None:
    modp = group(14).generate(seeded(3))
    assert isinstance(modp, ModpPrivate)
    assert "exponent=" not in repr(modp) and str(modp.exponent) not in repr(modp)
    assert "key=" not in repr(group(19).generate(seeded(3)))


# --- the parameters -----------------------------------------------------------------------------


def _pi_fixed(bits: int) -> int:
    """floor(pi * 2^bits) by Machin's formula in integer arithmetic (64 guard bits)."""

    def arctan_inv(x: int, one: int) -> int:
        total = term = one // x
        n, sign = 1, -1
        while term:
            term //= x * x
            n += 2
            total += sign * (term // n)
            sign = -sign
        return total

    one = 1 << (bits + 64)
    return (4 * (4 * arctan_inv(5, one) - arctan_inv(239, one))) >> 64


# RFC 2409 6.1/6.2 and RFC 3526: p = 2^N - 2^(N-64) - 1 + 2^64 * ( [2^(N-130) pi] + k )
_MODP_FORMULA = {1: (768, 149686), 2: (1024, 129093), 5: (1536, 741804),
                 14: (2048, 124476), 15: (3072, 1690314), 16: (4096, 240904)}  # fmt: skip


@pytest.mark.parametrize("number", sorted(_MODP_FORMULA))
def test_modp_primes_follow_the_rfc_formula(number: int) -> None:
    bits, k = _MODP_FORMULA[number]
    g = group(number)
    assert isinstance(g, ModpGroup)
    expected = 2**bits - 2 ** (bits - 64) - 1 + 2**64 * (_pi_fixed(bits - 130) + k)
    assert g.prime == expected
    assert g.generator == 2 and g.subgroup_order is None


def _probably_prime(n: int, rounds: int = 4) -> bool:
    if n % 2 == 0:
        return n == 2
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    rng = random.Random(n)
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


@pytest.mark.parametrize("number", sorted(_MODP_FORMULA))
def test_modp_primes_are_safe_primes(number: int) -> None:
    g = group(number)
    assert isinstance(g, ModpGroup)
    assert _probably_prime(g.prime) and _probably_prime((g.prime - 1) // 2)


def test_rfc5114_group_24() -> None:
    g = group(24)
    assert isinstance(g, ModpGroup) and g.subgroup_order is not None
    p, q = g.prime, g.subgroup_order
    assert p.bit_length() == 2048 and q.bit_length() == 256
    assert (p - 1) % q == 0
    assert _probably_prime(p) and _probably_prime(q)
    assert g.generator != 1 and pow(g.generator, q, p) == 1
    # Leading and trailing words as printed in RFC 5114 section 2.3.
    assert f"{p:X}".startswith("87A8E61DB4B6663C") and f"{p:X}".endswith("DB094AE91E1A1597")
    assert f"{g.generator:X}".startswith("3FB32C9B73134D0B")
    assert f"{q:X}" == "8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3"


@pytest.mark.parametrize("number", [19, 20, 21])
def test_ecp_orders(number: int) -> None:
    # (n-1)·G = -G: same x, other y.
    g = group(number)
    assert isinstance(g, EcpGroup)
    one = ec.derive_private_key(1, g.curve()).public_key().public_numbers()
    minus_one = ec.derive_private_key(g.order - 1, g.curve()).public_key().public_numbers()
    assert (one.x, one.y) != (minus_one.x, minus_one.y) and one.x == minus_one.x


def test_rfc5903_p256_vector() -> None:
    """RFC 5903 section 8.1: i, g^i, r, g^r, g^ir (the shared secret is the x coordinate)."""
    i = int("C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433", 16)
    gi = bytes.fromhex(
        "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
        "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3"
    )
    r = int("C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53", 16)
    gr = bytes.fromhex(
        "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
        "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB"
    )
    gir_x = bytes.fromhex("D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE")
    g = group(19)

    def scalar_source(d: int) -> Callable[[int], bytes]:
        # generate() maps the drawn integer v to v mod (n-1) + 1, so draw d-1.
        return lambda n: (d - 1).to_bytes(n, "big")

    initiator, responder = g.generate(scalar_source(i)), g.generate(scalar_source(r))
    assert initiator.public_bytes() == gi
    assert responder.public_bytes() == gr
    assert initiator.shared_secret(gr) == gir_x == responder.shared_secret(gi)


# --- peer validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("number", [1, 2, 5, 14, 15, 16, 24])
def test_modp_rejects_bad_peer_values(number: int) -> None:
    g = group(number)
    assert isinstance(g, ModpGroup)
    private = g.generate(seeded(5))
    n = g.public_length
    bad = [
        (0).to_bytes(n, "big"),
        (1).to_bytes(n, "big"),
        (g.prime - 1).to_bytes(n, "big"),
        g.prime.to_bytes(n, "big"),
        b"\xff" * n,
        b"\x02",  # not padded to the length of p
        (2).to_bytes(n + 1, "big"),
        b"",
    ]
    for value in bad:
        with pytest.raises(InvalidPublicValue):
            private.shared_secret(value)
        with pytest.raises(ValueError):
            g.validate_public(value)


def test_group24_rejects_values_outside_the_subgroup() -> None:
    g = group(24)
    y = (2).to_bytes(g.public_length, "big")  # 2 does not lie in the order-q subgroup
    with pytest.raises(InvalidPublicValue):
        g.generate(seeded(1)).shared_secret(y)
    group(14).validate_public((2).to_bytes(256, "big"))  # fine in a safe-prime group


@pytest.mark.parametrize("number", [19, 20, 21])
def test_ecp_rejects_bad_peer_values(number: int) -> None:
    g = group(number)
    private = g.generate(seeded(5))
    good = g.generate(seeded(6)).public_bytes()
    off_curve = good[:-1] + bytes([good[-1] ^ 1])
    bad = [off_curve, bytes(g.public_length), b"\x04" + good, good[:-1], b""]
    for value in bad:
        with pytest.raises(InvalidPublicValue):
            private.shared_secret(value)


def test_unknown_groups() -> None:
    for number in (0, 3, 4, 17, 18, 22, 23, 25, 31):
        with pytest.raises(UnsupportedGroup):
            group(number)
    with pytest.raises(ValueError):
        group(99)


@settings(max_examples=25, deadline=None)
@given(seed_a=st.integers(0, 2**64), seed_b=st.integers(0, 2**64), number=st.sampled_from([2, 19]))
def test_agreement_property(seed_a: int, seed_b: int, number: int) -> None:
    g: DhGroup = group(number)
    a, b = g.generate(seeded(seed_a)), g.generate(seeded(seed_b))
    assert a.shared_secret(b.public_bytes()) == b.shared_secret(a.public_bytes())


# --- the bignum backends ------------------------------------------------------------------------


@pytest.fixture(params=sorted(bignum.BACKENDS))
def backend(request: pytest.FixtureRequest) -> object:
    """Run a test once on each modular-exponentiation backend importable here."""
    before = bignum.backend_name()
    bignum.use_backend(request.param)
    yield request.param
    bignum.use_backend(before)


def test_gmp_backend_is_present_and_preferred() -> None:
    # gmpy2 is a dependency: without it the groups fall back to pow(), about 8x slower.
    assert "gmp" in bignum.BACKENDS and "python" in bignum.BACKENDS
    assert list(bignum.BACKENDS)[0] == "gmp"


@pytest.mark.parametrize("number", [1, 2, 5, 14, 15, 16, 24])
def test_backends_agree_byte_for_byte(number: int, backend: str) -> None:
    """Public values and shared secrets are the same bytes on every backend as on pow()."""
    g = group(number)
    assert isinstance(g, ModpGroup)
    for seed in range(3):
        a, b = g.generate(seeded(seed)), g.generate(seeded(seed + 100))
        assert isinstance(a, ModpPrivate) and isinstance(b, ModpPrivate)
        a_pub = a.public_bytes()
        assert a_pub == pow(g.generator, a.exponent, g.prime).to_bytes(g.public_length, "big")
        secret = b.shared_secret(a_pub)
        expected = pow(int.from_bytes(a_pub, "big"), b.exponent, g.prime)
        assert secret == expected.to_bytes(g.secret_length, "big")
        assert a.shared_secret(b.public_bytes()) == secret


def test_backends_return_ints_and_pad(backend: str) -> None:
    # A result with leading zero bytes keeps the length of p; the value is a plain int.
    p = group(14).prime  # type: ignore[attr-defined]
    value = bignum.powmod(2, 5, p)
    assert type(value) is int and value == 32
    assert bignum.powmod(p - 1, 2, p) == 1 and bignum.powmod(3, 0, p) == 1


def test_group24_subgroup_check_on_each_backend(backend: str) -> None:
    g = group(24)
    with pytest.raises(InvalidPublicValue):
        g.validate_public((2).to_bytes(g.public_length, "big"))
    g.validate_public(g.generate(seeded(4)).public_bytes())

