"""IKEv1 tunnels established per second between two engines, against the crypto floor.

Each tunnel is a full main mode + quick mode between two in-memory engines (no network),
for group 14 (MODP 2048) and group 19 (ECP 256), with and without PFS. The floor is the
cryptography the exchange cannot avoid, timed in the same run: for each side one DH key
pair and one shared secret (twice with PFS), the SKEYID family of PRFs, and the CBC work on
the encrypted messages. Targets: within 1.5x of the floor for group 14, 3x for group 19.
Also: a hub with N spokes brings every tunnel up through the lab; time and memory.
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from functools import partial

from iosim.crypto.algorithms import encryption_by_name, hash_by_name
from iosim.crypto.dh import group
from iosim.crypto.rand import SeededRandom
from iosim.ike.engine import (
    IkeEngine,
    IkePolicy,
    Phase2Established,
    Phase2Offer,
    ProxyIdentity,
)
from iosim.ike.keymat import derive_phase1_keys, keymat

A, B = 0x0A000001, 0x0A000002
PROXIES = ProxyIdentity(0xC0A80100, 0xFFFFFF00, 0x0A000200, 0xFFFFFF00)


def tunnel(dh: int, pfs: bool, seed: str) -> None:
    pol = [IkePolicy(10, "aes", 256, "sha256", "pre-share", dh, 86400)]
    offer = Phase2Offer((("esp-aes 256", "esp-sha256-hmac"),), "tunnel", dh if pfs else None,
                        3600, 4608000)
    a = IkeEngine(A, rand=SeededRandom(seed + "a"), policies=lambda: pol,
                  psk_for=lambda p: "cisco123")
    b = IkeEngine(B, rand=SeededRandom(seed + "b"), policies=lambda: pol,
                  psk_for=lambda p: "cisco123", select_phase2=lambda p, x, offers: offers[0])
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


def floor(dh: int, pfs: bool) -> None:
    g = group(dh)
    rand = os.urandom
    for _ in range(2 if pfs else 1):
        x, y = g.generate(rand), g.generate(rand)
        x.shared_secret(y.public_bytes())
        y.shared_secret(x.public_bytes())
    prf = hash_by_name("sha256")
    enc = encryption_by_name("aes 256")
    nonce = bytes(20)
    derive_phase1_keys(prf, enc, b"cisco123", nonce, nonce, bytes(256), bytes(256),
                       bytes(256), bytes(8), bytes(8))
    for _ in range(4):
        keymat(prf, bytes(32), 3, bytes(4), nonce, nonce, 64)
    key = bytes(32)
    for _ in range(12):
        enc.cbc_encrypt(key, bytes(16), bytes(96))


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


def main() -> None:
    print("IKEv1 main + quick mode between two engines (per tunnel, best of 3 runs)")
    for dh, n in ((14, 20), (19, 60)):
        for pfs in (False, True):
            ours = min(timed(partial(_tunnel_n, dh, pfs), n) for _ in range(3))
            base = min(timed(partial(_floor_n, dh, pfs), n) for _ in range(3))
            target = 1.5 if dh == 14 else 3.0
            print(f"  group {dh:2}  PFS {'yes' if pfs else 'no ':3}  {ours * 1000:7.2f} ms  "
                  f"floor {base * 1000:6.2f} ms  ratio {ours / base:4.2f}x  (target {target}x)"
                  f"  {1 / ours:6.0f} tunnels/s")
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
