"""Modular exponentiation for the MODP Diffie-Hellman groups, on the fastest backend present.

Theory of operation
-------------------
A MODP exchange is four exponentiations of 2048 bits or more per tunnel (g^x and y^x on each
side, twice with PFS); everything else IKE does costs less than one of them. ``powmod(b, e, m)``
computes ``b^e mod m`` with the backend chosen once at import time, as a table:

- ``gmp``: GMP's ``mpz_powm`` through ``gmpy2``, about 8x Python's ``pow()`` at 2048 bits. It is
  a maintained binding of the library strongSwan's ``gmp`` plugin also uses. OpenSSL's DH through
  ``cryptography`` was measured as well: as fast at 2048 bits once a key object exists, but
  loading a key checks the primality of a group OpenSSL does not know by name (20-35 ms for
  groups 1 and 2), a key has to be built from its public value before it can compute that
  value, and finite-field DH is deprecated in ``cryptography`` 48 (support to be removed).
- ``python``: the built-in ``pow()``, always there; the fallback when ``gmpy2`` is absent.

Both return a Python ``int`` and agree on every input (``tests/ike/test_dh.py`` checks them
against each other for every group). ``IOSIM_BIGNUM=python`` selects the fallback.
"""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["BACKENDS", "backend_name", "powmod", "use_backend"]

PowMod = Callable[[int, int, int], int]


def _gmp() -> PowMod | None:
    try:
        import gmpy2  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    gmp_powmod = gmpy2.powmod

    def powmod(base: int, exponent: int, modulus: int) -> int:
        return int(gmp_powmod(base, exponent, modulus))

    return powmod


#: name -> b^e mod m; only the backends importable here. ``python`` is always present.
BACKENDS: dict[str, PowMod] = {
    name: fn
    for name, fn in (("gmp", _gmp()), ("python", pow))
    if fn is not None
}

_preferred = os.environ.get("IOSIM_BIGNUM", "")
_name = _preferred if _preferred in BACKENDS else next(iter(BACKENDS))

#: b^e mod m on the selected backend.
powmod: PowMod = BACKENDS[_name]


def backend_name() -> str:
    """The name of the backend ``powmod`` runs on (``gmp`` or ``python``)."""
    return _name


def use_backend(name: str) -> None:
    """Select a backend by name (a ``KeyError`` if it is not importable here)."""
    global powmod, _name
    powmod = BACKENDS[name]
    _name = name
