"""Diffie-Hellman groups for IKE, as a table: MODP (RFC 2409, 3526, 5114) and ECP (RFC 5903).

Theory of operation
-------------------
``group(n)`` returns the row for IKE group number ``n`` (the RFC 2409 "Group Description"
attribute, the IOS ``group n`` keyword). ``DhGroup.generate(rand)`` draws a private value from an
injected random source ``rand(n) -> n bytes`` (never from the OS directly, so tests and labs are
reproducible) and returns a ``DhPrivate``; ``public_bytes()`` is the KE payload data and
``shared_secret(peer)`` is g^xy, both as fixed-length byte strings:

- MODP: g^x mod p, left-padded with zeros to the length of p (RFC 2409 section 5 / 6.1); the
  shared secret is likewise padded to the length of p. The exponentiations run on GMP where
  ``gmpy2`` is installed, else on Python's ``pow()`` (``iosim.crypto.bignum``).
- ECP (RFC 5903 section 7): the public value is x || y, each coordinate the field size, without
  the 0x04 point-format octet; the shared secret is the x coordinate of the shared point only.

Peer public values are validated (RFC 2409 leaves it open; SP 800-56A section 5.6.2.3 is the
model): a MODP value must be exactly the group's length and 1 < y < p-1; for the RFC 5114 group
with a prime-order subgroup also y^q = 1 mod p; an ECP value must be a point on the curve. A bad
value raises ``InvalidPublicValue`` (a ``ValueError``), which an engine turns into a dropped
packet or an INVALID-KEY-INFORMATION notification.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from iosim.crypto import bignum

__all__ = [
    "GROUPS",
    "DhError",
    "DhGroup",
    "DhPrivate",
    "EcpGroup",
    "InvalidPublicValue",
    "ModpGroup",
    "RandomSource",
    "UnsupportedGroup",
    "group",
]

#: rand(n) returns n random bytes; injected by the caller (seeded in tests).
RandomSource = Callable[[int], bytes]


class DhError(ValueError):
    """Base class of Diffie-Hellman errors."""


class UnsupportedGroup(DhError):
    """A group number with no row in the table."""


class InvalidPublicValue(DhError):
    """A peer's public value that is malformed, out of range or not on the curve."""


# --- the primes, copied from the RFC text ----------------------------------------------------
# Each RFC 2409 / 3526 prime is p = 2^N - 2^(N-64) - 1 + 2^64 * ( [2^(N-130) pi] + k ), with
# generator 2; tests/ike/test_dh.py recomputes them from that formula.

_MODP_768 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A3620FFFFFFFFFFFFFFFF",
    16,
)
_MODP_1024 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)
_MODP_1536 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF",
    16,
)
_MODP_2048 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
    16,
)
_MODP_3072 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
_MODP_4096 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF",
    16,
)

# RFC 5114 section 2.3 (p, g).
_RFC5114_2048_256_P = int(
    "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00"
    "E00DF8F1D61957D4FAF7DF4561B2AA3016C3D91134096FAA3BF4296D830E9A7C"
    "209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B"
    "6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76"
    "B63ACAE1CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8E"
    "F6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026"
    "C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103"
    "A4B54330C198AF126116D2276E11715F693877FAD7EF09CADB094AE91E1A1597",
    16,
)
_RFC5114_2048_256_G = int(
    "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA125"
    "10DBC15077BE463FFF4FED4AAC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62"
    "901228F8C28CBB18A55AE31341000A650196F931C77A57F2DDF463E5E9EC144B"
    "777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193"
    "B5045AF2767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0A"
    "DB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915"
    "B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D1DB246C3"
    "2F63078490F00EF8D647D148D47954515E2327CFEF98C582664B4C0F6CC41659",
    16,
)

# RFC 5114 section 2.3: 2048-bit MODP group with 256-bit prime order subgroup.
_RFC5114_2048_256_Q = int("8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3", 16)


def _int_from(data: bytes) -> int:
    return int.from_bytes(data, "big")


class DhPrivate(ABC):
    """One side's Diffie-Hellman private value (never printed by repr)."""

    group: DhGroup

    @abstractmethod
    def public_bytes(self) -> bytes:
        """The public value as carried in the KE payload."""

    @abstractmethod
    def shared_secret(self, peer_public: bytes) -> bytes:
        """g^xy from the peer's public value; raises ``InvalidPublicValue`` if it is bad."""


class DhGroup(ABC):
    """One IKE Diffie-Hellman group (a row of ``GROUPS``)."""

    number: int
    name: str

    @property
    @abstractmethod
    def public_length(self) -> int:
        """Length in bytes of a public value (KE payload data)."""

    @property
    @abstractmethod
    def secret_length(self) -> int:
        """Length in bytes of the shared secret g^xy."""

    @abstractmethod
    def generate(self, rand: RandomSource) -> DhPrivate:
        """A fresh private value drawn from ``rand``."""

    @abstractmethod
    def validate_public(self, peer_public: bytes) -> None:
        """Raise ``InvalidPublicValue`` unless ``peer_public`` is acceptable."""


@dataclass(frozen=True)
class ModpGroup(DhGroup):
    """A MODP group: prime p, generator g, optional prime subgroup order q."""

    number: int
    name: str
    prime: int = field(repr=False)
    generator: int = field(repr=False)
    exponent_bits: int  # private exponent size (RFC 3526 section 8 guidance)
    subgroup_order: int | None = field(default=None, repr=False)  # q (RFC 5114); None: safe p

    @property
    def public_length(self) -> int:
        return (self.prime.bit_length() + 7) // 8

    @property
    def secret_length(self) -> int:
        return self.public_length

    def generate(self, rand: RandomSource) -> ModpPrivate:
        nbytes = (self.exponent_bits + 7) // 8 + 8  # 64 extra bits make the reduction unbiased
        raw = _int_from(rand(nbytes))
        if self.subgroup_order is not None:
            exponent = raw % (self.subgroup_order - 1) + 1  # 1 <= x <= q-1
        else:
            exponent = raw % ((1 << self.exponent_bits) - 2) + 2  # 2 <= x < 2^bits
        return ModpPrivate(self, exponent)

    def validate_public(self, peer_public: bytes) -> None:
        self._peer_value(peer_public)

    def _peer_value(self, peer_public: bytes) -> int:
        if len(peer_public) != self.public_length:
            raise InvalidPublicValue(
                f"group {self.number}: public value is {len(peer_public)} bytes, "
                f"need {self.public_length}"
            )
        y = _int_from(peer_public)
        if not 1 < y < self.prime - 1:
            raise InvalidPublicValue(f"group {self.number}: public value not in 1 < y < p-1")
        if self.subgroup_order is not None and bignum.powmod(y, self.subgroup_order,
                                                             self.prime) != 1:
            raise InvalidPublicValue(f"group {self.number}: public value not in the subgroup")
        return y


@dataclass(frozen=True)
class ModpPrivate(DhPrivate):
    """A MODP private exponent x."""

    group: ModpGroup
    exponent: int = field(repr=False)

    def public_bytes(self) -> bytes:
        g = self.group
        return bignum.powmod(g.generator, self.exponent, g.prime).to_bytes(g.public_length, "big")

    def shared_secret(self, peer_public: bytes) -> bytes:
        g = self.group
        y = g._peer_value(peer_public)
        secret = bignum.powmod(y, self.exponent, g.prime)
        if secret in (0, 1, g.prime - 1):
            raise InvalidPublicValue(f"group {g.number}: degenerate shared secret")
        return secret.to_bytes(g.secret_length, "big")


@dataclass(frozen=True)
class EcpGroup(DhGroup):
    """An ECP group over a NIST prime curve (RFC 5903)."""

    number: int
    name: str
    curve: Callable[[], ec.EllipticCurve]
    coordinate_length: int  # bytes of one field element
    order: int = field(repr=False)  # n, the order of the base point

    @property
    def public_length(self) -> int:
        return 2 * self.coordinate_length

    @property
    def secret_length(self) -> int:
        return self.coordinate_length

    def generate(self, rand: RandomSource) -> EcpPrivate:
        raw = _int_from(rand(self.coordinate_length + 8))
        scalar = raw % (self.order - 1) + 1  # 1 <= d <= n-1
        return EcpPrivate(self, ec.derive_private_key(scalar, self.curve()))

    def validate_public(self, peer_public: bytes) -> None:
        self._peer_key(peer_public)

    def _peer_key(self, peer_public: bytes) -> ec.EllipticCurvePublicKey:
        if len(peer_public) != self.public_length:
            raise InvalidPublicValue(
                f"group {self.number}: public value is {len(peer_public)} bytes, "
                f"need {self.public_length}"
            )
        try:
            # RFC 5903 section 7: x || y; the SEC 1 encoding adds the 0x04 octet.
            return ec.EllipticCurvePublicKey.from_encoded_point(self.curve(), b"\x04" + peer_public)
        except ValueError as exc:
            raise InvalidPublicValue(f"group {self.number}: point not on the curve") from exc


@dataclass(frozen=True)
class EcpPrivate(DhPrivate):
    """An ECP private scalar d."""

    group: EcpGroup
    key: ec.EllipticCurvePrivateKey = field(repr=False)

    def public_bytes(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        n = self.group.coordinate_length
        return numbers.x.to_bytes(n, "big") + numbers.y.to_bytes(n, "big")

    def shared_secret(self, peer_public: bytes) -> bytes:
        peer = self.group._peer_key(peer_public)
        # RFC 5903 section 7: the shared secret is the x coordinate, field-size bytes.
        return self.key.exchange(ec.ECDH(), peer)


# Curve orders n (FIPS 186-4 App. D.1.2 / RFC 5903 section 3).
_P256_N = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)
_P384_N = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
    "581A0DB248B0A77AECEC196ACCC52973",
    16,
)
_P521_N = int(
    "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F"
    "709A5D03BB5C9B8899C47AEBB6FB71E91386409",
    16,
)

#: The table: IKE group number -> group. One row per group.
GROUPS: dict[int, DhGroup] = {
    row.number: row
    for row in (
        #         no  name                                  prime               g  exponent bits
        ModpGroup(1,  "768-bit MODP (RFC 2409 6.1)",        _MODP_768,          2, 256),
        ModpGroup(2,  "1024-bit MODP (RFC 2409 6.2)",       _MODP_1024,         2, 256),
        ModpGroup(5,  "1536-bit MODP (RFC 3526 2)",         _MODP_1536,         2, 256),
        ModpGroup(14, "2048-bit MODP (RFC 3526 3)",         _MODP_2048,         2, 320),
        ModpGroup(15, "3072-bit MODP (RFC 3526 4)",         _MODP_3072,         2, 420),
        ModpGroup(16, "4096-bit MODP (RFC 3526 5)",         _MODP_4096,         2, 480),
        ModpGroup(24, "2048-bit MODP, 256-bit subgroup (RFC 5114 2.3)",
                  _RFC5114_2048_256_P, _RFC5114_2048_256_G, 256, _RFC5114_2048_256_Q),
        #        no  name                        curve           coord  order
        EcpGroup(19, "256-bit random ECP (RFC 5903 3.1)", ec.SECP256R1, 32, _P256_N),
        EcpGroup(20, "384-bit random ECP (RFC 5903 3.2)", ec.SECP384R1, 48, _P384_N),
        EcpGroup(21, "521-bit random ECP (RFC 5903 3.3)", ec.SECP521R1, 66, _P521_N),
    )
}  # fmt: skip


def group(number: int) -> DhGroup:
    """The Diffie-Hellman group with IKE group number ``number``."""
    try:
        return GROUPS[number]
    except KeyError:
        raise UnsupportedGroup(f"Diffie-Hellman group {number} is not supported") from None
