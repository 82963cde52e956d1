"""IKEv1 tunnels established per second between two engines, against the crypto floor.

Each tunnel is a full main mode + quick mode between two in-memory engines (no network),
for group 14 (MODP 2048) and group 19 (ECP 256), with and without PFS, as on routers with
no ``debug crypto isakmp`` on (the engines build no trace events). The floor is the
cryptography the exchange cannot avoid, timed in the same run (``floor``): the DH exchange on
the fastest implementation here (GMP or OpenSSL, whichever is faster for the group, measured;
OpenSSL for ECP), the SKEYID family, HASH_I/R and HASH(1)-(3) made and checked on each side,
the keying material, the CBC work of the encrypted messages. Medians of rounds. Targets:
within 1.5x of the floor for group 14, 2.5x for group 19.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from iosim.crypto import bignum
from iosim.crypto.algorithms import encryption_by_name, hash_by_name
from iosim.crypto.dh import ModpGroup, group
from iosim.crypto.rand import SeededRandom
from iosim.ike.engine import (
    IkeEngine,
    IkePolicy,
    Phase2Established,
    Phase2Offer,
    ProxyIdentity,
)
from iosim.ike.keymat import (
    derive_phase1_keys,
    hash_i,
    hash_r,
    keymat,
    nat_d_hash,
    phase2_iv,
    quick_mode_hash_1,
    quick_mode_hash_2,
    quick_mode_hash_3,
)

A, B = 0x0A000001, 0x0A000002
PROXIES = ProxyIdentity(0xC0A80100, 0xFFFFFF00, 0x0A000200, 0xFFFFFF00)


def _debug_off() -> bool:
    """The engines' ``trace`` on a router with ``debug crypto isakmp`` off (the IKE glue asks
    its debug flags): nobody listens to the step-by-step trace events."""
    return False


def tunnel(dh: int, pfs: bool, seed: str) -> None:
    pol = [IkePolicy(10, "aes", 256, "sha256", "pre-share", dh, 86400)]
    offer = Phase2Offer((("esp-aes 256", "esp-sha256-hmac"),), "tunnel", dh if pfs else None,
                        3600, 4608000)
    a = IkeEngine(A, rand=SeededRandom(seed + "a"), policies=lambda: pol,
                  psk_for=lambda p: "cisco123", trace=_debug_off)
    b = IkeEngine(B, rand=SeededRandom(seed + "b"), policies=lambda: pol,
                  psk_for=lambda p: "cisco123", select_phase2=lambda p, x, offers: offers[0],
                  trace=_debug_off)
    a.initiate(B, PROXIES, offer, 0.0)
    done = 0
    while done < 2:
        moved = False
        for src, dst, addr in ((a, b, A), (b, a, B)):
            for _, data in src.datagrams_to_send():
                moved = True
                dst.receive_datagram(data, addr, 0.0)
        for e in (a, b):
            while (ev := e.next_event()) is not None:
                done += isinstance(ev, Phase2Established)
        if not moved and done < 2:
            raise RuntimeError("tunnel did not come up")


def _modp_openssl(dh: int) -> Callable[[int, int], int] | None:
    """y^x mod p on OpenSSL (cryptography's DH), with the parameters loaded once; None where
    that API is missing."""
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from cryptography.hazmat.primitives.asymmetric import dh as ossl
            g = group(dh)
            assert isinstance(g, ModpGroup)
            numbers = ossl.DHParameterNumbers(g.prime, g.generator)
            numbers.parameters()
    except Exception:  # noqa: BLE001 - no usable OpenSSL DH here: GMP is the floor
        return None
    length = g.public_length

    def powmod(base: int, exponent: int) -> int:
        key = ossl.DHPrivateNumbers(exponent, ossl.DHPublicNumbers(2, numbers)).private_key()
        peer = ossl.DHPublicNumbers(base, numbers).public_key()
        return int.from_bytes(key.exchange(peer), "big") if length else 0

    return powmod


def _modp_floor(dh: int) -> Callable[[], None]:
    """Four exponentiations of one MODP exchange (g^x and y^x on each side) on the faster of
    GMP and OpenSSL, measured here."""
    g = group(dh)
    assert isinstance(g, ModpGroup)
    p, gen = g.prime, g.generator
    x1, x2 = (int.from_bytes(os.urandom(g.exponent_bits // 8), "big") for _ in range(2))

    def with_gmp() -> None:
        y1, y2 = bignum.BACKENDS[_FAST](gen, x1, p), bignum.BACKENDS[_FAST](gen, x2, p)
        bignum.BACKENDS[_FAST](y2, x1, p)
        bignum.BACKENDS[_FAST](y1, x2, p)

    ossl = _modp_openssl(dh)
    if ossl is None:
        return with_gmp

    def with_openssl() -> None:
        y1, y2 = ossl(gen, x1), ossl(gen, x2)
        ossl(y2, x1)
        ossl(y1, x2)

    times = {fn: statistics.median(_once(fn) for _ in range(7)) for fn in (with_gmp,
                                                                           with_openssl)}
    return min(times, key=lambda fn: times[fn])


def _once(fn: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


_FAST = next(iter(bignum.BACKENDS))
_DH_FLOORS: dict[int, Callable[[], None]] = {}


def _dh_exchange(dh: int) -> None:
    """One Diffie-Hellman exchange, both sides, on the fastest implementation here."""
    if group(dh).number in (19, 20, 21):
        g = group(dh)
        x, y = g.generate(os.urandom), g.generate(os.urandom)
        x.shared_secret(y.public_bytes())
        y.shared_secret(x.public_bytes())
        return
    if dh not in _DH_FLOORS:
        _DH_FLOORS[dh] = _modp_floor(dh)
    _DH_FLOORS[dh]()


def floor(dh: int, pfs: bool) -> None:
    """The cryptography one main mode + quick mode cannot avoid, for both sides: the DH
    exchange (twice with PFS), the random cookies, nonces and SPIs (from the operating
    system, the fastest source here), SKEYID and its family on each side, HASH_I and HASH_R
    made and checked, the NAT-D hashes (RFC 3947: two sent and two checked per side), the
    quick mode IV, HASH(1)-(3) made and checked, the keying material of two SAs per side,
    and the CBC work of the five encrypted messages, encrypted and decrypted."""
    for _ in range(2 if pfs else 1):
        _dh_exchange(dh)
    for size in (8, 8, 20, 20, 20, 20, 4, 4, 4):  # cookies, nonces (both phases), SPIs
        os.urandom(size)
    prf = hash_by_name("sha256")
    enc = encryption_by_name("aes 256")
    g = group(dh)
    nonce, ke, secret = bytes(20), bytes(g.public_length), bytes(g.secret_length)
    sa_b, id_b = bytes(60), bytes(12)
    for _ in range(2):  # each side
        keys = derive_phase1_keys(prf, enc, b"cisco123", nonce, nonce, secret, ke, ke,
                                  bytes(8), bytes(8))
        skeyid = keys.skeyid
        hash_i(prf, skeyid, ke, ke, bytes(8), bytes(8), sa_b, id_b)
        hash_r(prf, skeyid, ke, ke, bytes(8), bytes(8), sa_b, id_b)
        for _ in range(4):
            nat_d_hash(prf, bytes(8), bytes(8), bytes(4), 500)
        phase2_iv(prf, bytes(16), 1, enc.block_size)
        quick_mode_hash_1(prf, keys.skeyid_a, 1, bytes(300))
        quick_mode_hash_2(prf, keys.skeyid_a, 1, nonce, bytes(300))
        quick_mode_hash_3(prf, keys.skeyid_a, 1, nonce, nonce)
        for _ in range(2):
            keymat(prf, keys.skeyid_d, 3, bytes(4), nonce, nonce, 64)
    key = bytes(32)
    for size in (96, 96, 352, 352, 64):  # MM5, MM6, QM1, QM2, QM3
        body = enc.cbc_encrypt(key, bytes(16), bytes(size))
        enc.cbc_decrypt(key, bytes(16), body)


def _tunnel_n(dh: int, pfs: bool, i: int) -> None:
    tunnel(dh, pfs, f"{dh}{pfs}{i}")


def _floor_n(dh: int, pfs: bool, i: int) -> None:
    floor(dh, pfs)


def timed(fn: object, n: int) -> float:
    gc.collect()
    t0 = time.perf_counter()
    for i in range(n):
        fn(i)  # type: ignore[operator]
    return (time.perf_counter() - t0) / n


def ratios(rounds: int = 5, per_round: int = 10) -> dict[str, tuple[float, float]]:
    """(seconds per tunnel, floor seconds) per case, medians of rounds run interleaved."""
    out = {}
    for dh in (14, 19):
        for pfs in (False, True):
            floor(dh, pfs)
            ours, base = [], []
            for _ in range(rounds):
                ours.append(timed(partial(_tunnel_n, dh, pfs), per_round))
                base.append(timed(partial(_floor_n, dh, pfs), per_round))
            out[f"group {dh} PFS {'yes' if pfs else 'no'}"] = (statistics.median(ours),
                                                               statistics.median(base))
    return out


def main() -> None:
    print("IKEv1 main + quick mode between two engines (per tunnel, medians of 7 rounds)")
    for name, (ours, base) in ratios(7, 10).items():
        target = 1.5 if "14" in name else 2.5
        print(f"  {name:17} {ours * 1000:7.2f} ms  floor {base * 1000:6.2f} ms  "
              f"ratio {ours / base:4.2f}x  (target {target}x)  {1 / ours:6.0f} tunnels/s")
    tracemalloc.start()
    t0 = time.perf_counter()
    for i in range(200):
        tunnel(19, False, f"hub{i}")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"200 tunnels (group 19) one after another: {time.perf_counter() - t0:.2f} s, "
          f"peak memory {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
