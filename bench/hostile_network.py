"""What a hostile network costs a router, and that the cost stays flat as state grows.

1. A flood of forged main-mode first messages (one address and cookie each): the time an
   engine takes per message -- parsed, policy-checked, answered, its timer re-read -- with
   N and then 10N half-open SAs already held (call admission control raised out of the
   way). Target: the 10N time within 1.2x of the N time (medians of rounds, same run).
2. Fragments of datagrams that never complete: the time per fragment with N and 10N
   datagrams waiting in reassembly (caps raised out of the way). Same target.
Also the memory one half-open ISAKMP SA costs. The engines are those of routers with no
``debug crypto isakmp`` on: they build no trace events.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable

from iosim.crypto.rand import SeededRandom
from iosim.ike.admission import AdmissionLimits, CallAdmission
from iosim.ike.engine import IkeEngine, IkePolicy, Phase2Offer, ProxyIdentity
from iosim.net.fragments import Reassembler
from iosim.net.packets import Ipv4Packet

A, B, FORGED = 0xCB007101, 0xCB007102, 0x64400000
POLICY = IkePolicy(10, "aes", 256, "sha256", "pre-share", 14, 86400)
ROUNDS, PER_ROUND = 7, 200


def _debug_off() -> bool:
    """The engines' ``trace`` on a router with ``debug crypto isakmp`` off."""
    return False


def _mm1() -> bytes:
    a = IkeEngine(A, rand=SeededRandom("a"), policies=lambda: [POLICY], psk_for=lambda p: "k",
                  trace=_debug_off)
    a.initiate(B, ProxyIdentity(0, 0, 0, 0),
               Phase2Offer((("esp-aes 256", "esp-sha256-hmac"),), "tunnel", None, 3600,
                           4608000), 0.0)
    ((_, data),) = a.datagrams_to_send()
    return data


MM1 = _mm1()


def _responder() -> IkeEngine:
    return IkeEngine(B, rand=SeededRandom("b"), policies=lambda: [POLICY],
                     psk_for=lambda p: "k",
                     admission=CallAdmission(lambda: AdmissionLimits(in_negotiation=10**9)),
                     trace=_debug_off)


def _first_message(b: IkeEngine, i: int) -> None:
    b.receive_datagram((0xF0000000 + i).to_bytes(8, "big") + MM1[8:], FORGED + i, 1.0)
    b.datagrams_to_send()
    while b.next_event() is not None:
        pass
    b.get_timer()


def _median_per_item(step: Callable[[int], None], start: int) -> float:
    """Median over rounds of the seconds per call of ``step`` (items numbered from
    ``start``, fresh each time)."""
    times, n = [], start
    for _ in range(ROUNDS):
        gc.collect()
        t0 = time.perf_counter()
        for i in range(n, n + PER_ROUND):
            step(i)
        times.append((time.perf_counter() - t0) / PER_ROUND)
        n += PER_ROUND
    return statistics.median(times)


def ike_flood(held: int) -> float:
    b = _responder()
    for i in range(held):
        _first_message(b, i)
    return _median_per_item(lambda i: _first_message(b, i), held)


def reassembly(held: int) -> float:
    r = Reassembler(max_reassemblies=10**9, max_octets=1 << 40)

    def fragment(i: int) -> None:
        r.add(Ipv4Packet(identification=i & 0xFFFF, protocol=17, src=0x0A000000 + (i >> 16),
                         dst=0x0A000002, mf=True, payload=bytes(8)), 1.0)

    for i in range(held):
        fragment(i)
    return _median_per_item(fragment, held)


def half_open_memory(count: int) -> float:
    """Bytes per half-open ISAKMP SA (tracemalloc, the engine's state after ``count``)."""
    b = _responder()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(count):
        _first_message(b, i)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / count


def main() -> None:
    for name, measure, n in (("forged MM1 per message", ike_flood, 1000),
                             ("fragment per fragment", reassembly, 1000)):
        small, large = measure(n), measure(10 * n)
        verdict = "ok" if large <= 1.2 * small else "OVER TARGET"
        print(f"{name}: {small * 1e6:.1f} us with {n} held, {large * 1e6:.1f} us with "
              f"{10 * n} held: {large / small:.2f}x (target <= 1.2x) {verdict}")
    print(f"memory per half-open ISAKMP SA: {half_open_memory(2000) / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
