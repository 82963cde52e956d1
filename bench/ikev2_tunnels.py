"""IKEv2 tunnels established per second between two engines, against the crypto floor, and
the virtual time IKEv2 and IKEv1 take to bring a tunnel up, side by side.

Each tunnel is IKE_SA_INIT + IKE_AUTH (four messages, the first CHILD_SA included) between two
in-memory :class:`~iosim.ike2.engine.Ikev2Engine` (no network), for AES-CBC-256/SHA-256 with
group 14 (MODP 2048) and AES-GCM-256 with group 19 (ECP 256), as on routers with no ``debug
crypto ikev2`` on (the engines build no trace events). The floor is the cryptography
the exchange cannot avoid, timed in the same run: the Diffie-Hellman exchange on the fastest
implementation here (``ike_tunnels._dh_exchange``: GMP or OpenSSL for MODP, OpenSSL for ECP),
on each side SKEYSEED and the seven SK_* (RFC 7296 2.14), both AUTH payloads made and checked
(2.15), the NAT detection hashes (2.23), the KEYMAT of the first CHILD_SA (2.17), and the
cipher and integrity work of the two protected IKE_AUTH messages, sealed and opened. Medians
of rounds; target: within 1.5x of the floor.

The virtual time of a setup is measured on the same engines with every datagram delayed by
the one-way delay of the reference lab's path (R1 - ISP - R2: 5 ms + 5 ms): from the
initiator's first packet until both ends hold the IPsec SA pair. IKEv1 needs main mode's six
messages and quick mode's three; IKEv2 needs four.
"""

from __future__ import annotations

import gc
import heapq
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ike_tunnels  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

from iosim.crypto.dh import group  # noqa: E402
from iosim.crypto.rand import SeededRandom  # noqa: E402
from iosim.ike.engine import IkeEngine, IkePolicy, Phase2Established  # noqa: E402
from iosim.ike.phase2_policy import (  # noqa: E402
    LocalTransformSet,
    Phase2Policy,
    Phase2Refused,
    choose,
)
from iosim.ike.quick_mode import Phase2Offer, ProxyIdentity  # noqa: E402
from iosim.ike2.constants import IdType  # noqa: E402
from iosim.ike2.engine import Ikev2Engine  # noqa: E402
from iosim.ike2.events import ChildUp  # noqa: E402
from iosim.ike2.keys import (  # noqa: E402
    CIPHERS,
    INTEGRITIES,
    PRFS,
    child_keymat,
    ike_keys,
    nat_detection_hash,
    psk_auth,
    signed_octets,
    skeyseed,
)
from iosim.ike2.sa import IkeProposal, Ikev2Settings  # noqa: E402

A, B = 0x0A000001, 0x0A000002
PROXIES = ProxyIdentity(0xC0A80100, 0xFFFFFF00, 0x0A000200, 0xFFFFFF00)
TS = ("esp-aes 256", "esp-sha256-hmac")
OFFER = Phase2Offer((TS,), "tunnel", None, 3600, 4608000)
PSK = b"cisco123"

#: case name -> (IKEv2 proposal, DH group)
CASES: dict[str, IkeProposal] = {
    "AES-CBC-256 SHA-256 group 14": IkeProposal("P", ("aes-cbc-256",), ("sha256",), (), (14,)),
    "AES-GCM-256 group 19": IkeProposal("P", ("aes-gcm-256",), (), ("sha256",), (19,)),
}



def _engine(local: int, seed: str, proposal: IkeProposal) -> Ikev2Engine:
    policy = Phase2Policy((LocalTransformSet(TS, "tunnel"),), None, 3600, 4608000)
    settings = Ikev2Settings("PROF", (IdType.ID_IPV4_ADDR, local.to_bytes(4, "big")), PSK, PSK)

    def select(peer: int, proxies: ProxyIdentity, offers: list[Phase2Offer], in_auth: bool
               ) -> tuple[Phase2Offer, ProxyIdentity] | Phase2Refused:
        answer = choose(policy, offers, False)
        return answer if isinstance(answer, Phase2Refused) else (answer, proxies)

    return Ikev2Engine(local, rand=SeededRandom(seed), proposals=lambda: [proposal],
                       settings_for=lambda peer, ident: settings, select_child=select,
                       trace=ike_tunnels._debug_off)


def _settings(local: int) -> Ikev2Settings:
    return Ikev2Settings("PROF", (IdType.ID_IPV4_ADDR, local.to_bytes(4, "big")), PSK, PSK)


def tunnel(proposal: IkeProposal, seed: str) -> None:
    """One IKEv2 tunnel, IKE_SA_INIT + IKE_AUTH, between two fresh engines."""
    a, b = _engine(A, seed + "a", proposal), _engine(B, seed + "b", proposal)
    a.initiate(B, PROXIES, OFFER, 0.0, _settings(A))
    done = 0
    while done < 2:
        moved = False
        for src, dst, addr in ((a, b, A), (b, a, B)):
            for _, data, port in src.datagrams_with_ports():
                moved = True
                dst.receive_datagram(data, addr, 0.0, port)
        for e in (a, b):
            while (ev := e.next_event()) is not None:
                done += isinstance(ev, ChildUp)
        if not moved and done < 2:
            raise RuntimeError("IKEv2 tunnel did not come up")


def _protect_floor(cipher_name: str, integ_name: str | None) -> Callable[[int], None]:
    """Seal and open one protected message of ``size`` bytes (CBC + HMAC, or GCM)."""
    cipher = CIPHERS[cipher_name]
    key, iv = os.urandom(cipher.key_size), os.urandom(cipher.iv_size)
    if cipher.aead:
        gcm = AESGCM(key)
        nonce = os.urandom(4) + iv

        def sealed_gcm(size: int) -> None:
            gcm.decrypt(nonce, gcm.encrypt(nonce, bytes(size), bytes(32)), bytes(32))

        return sealed_gcm
    assert integ_name is not None
    integ = INTEGRITIES[integ_name]
    mac_key = os.urandom(integ.key_size)

    def sealed_cbc(size: int) -> None:
        plain = bytes(size + (-size) % 16)
        enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        body = enc.update(plain) + enc.finalize()
        integ.mac(mac_key, body)
        integ.mac(mac_key, body)  # checked on the other side
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        dec.update(body) + dec.finalize()

    return sealed_cbc


_PROTECT: dict[str, Callable[[int], None]] = {}


def floor(proposal: IkeProposal) -> None:
    """The cryptography IKE_SA_INIT + IKE_AUTH cannot avoid, for both sides."""
    dh = proposal.groups[0]
    ike_tunnels._dh_exchange(dh)
    cipher = CIPHERS[proposal.encryption[0]]
    integ = INTEGRITIES[proposal.integrity[0]] if proposal.integrity else None
    prf = PRFS[(proposal.prf or proposal.integrity)[0]]
    g = group(dh)
    ni, nr, secret, spi = bytes(32), bytes(32), bytes(g.secret_length), bytes(8)
    message, id_body = bytes(300 + g.public_length), bytes(8)
    for _ in range(2):  # each side
        keys = ike_keys(prf, skeyseed(prf, ni, nr, secret), ni, nr, spi, spi, cipher, integ)
        for sk_p in (keys.sk_pi, keys.sk_pr):  # its own AUTH made, the peer's checked
            psk_auth(prf, PSK, signed_octets(message, nr, prf, sk_p, id_body))
        for port in (500, 500, 500, 500):  # NAT_DETECTION_SOURCE/DESTINATION, sent and seen
            nat_detection_hash(spi, spi, A, port)
        child_keymat(prf, keys.sk_d, ni, nr, 32, 32)
    name = proposal.encryption[0] + str(proposal.integrity)
    if name not in _PROTECT:
        _PROTECT[name] = _protect_floor(proposal.encryption[0],
                                        proposal.integrity[0] if proposal.integrity else None)
    for size in (250, 230):  # IKE_AUTH request and response: IDs, AUTH, SA, TSi/TSr
        _PROTECT[name](size)


def _tunnel_n(proposal: IkeProposal, i: int) -> None:
    tunnel(proposal, f"v2{proposal.groups}{i}")


def _floor_n(proposal: IkeProposal, i: int) -> None:
    floor(proposal)


def ratios(rounds: int = 5, per_round: int = 10) -> dict[str, tuple[float, float]]:
    """(seconds per tunnel, floor seconds) per case, medians of rounds run interleaved."""
    out = {}
    for name, proposal in CASES.items():
        floor(proposal)
        tunnel(proposal, "warm")
        ours, base = [], []
        for _ in range(rounds):
            ours.append(ike_tunnels.timed(partial(_tunnel_n, proposal), per_round))
            base.append(ike_tunnels.timed(partial(_floor_n, proposal), per_round))
        out[name] = (statistics.median(ours), statistics.median(base))
    return out


# --------------------------------------------------------------------------- virtual time


def _delayed(ends: dict[int, object], pull: Callable[[object], list[tuple[int, bytes, int]]],
             deliver: Callable[[object, bytes, int, float, int], None],
             is_up: Callable[[object], bool], delay: float) -> float:
    """Run two engines with every datagram ``delay`` seconds on the wire; the virtual time at
    which both report an IPsec SA pair."""
    wire: list[tuple[float, int, int, bytes, int]] = []
    seq = 0
    now = 0.0
    up: dict[int, float] = {}
    while True:
        for addr, engine in ends.items():
            for _, data, port in pull(engine):
                seq += 1
                heapq.heappush(wire, (now + delay, seq, addr, data, port))
            if addr not in up and is_up(engine):
                up[addr] = now
        if len(up) == 2:
            return max(up.values())
        if not wire:
            raise RuntimeError("the exchange stalled")
        now, _, src, data, port = heapq.heappop(wire)
        dst = B if src == A else A
        deliver(ends[dst], data, src, now, port)


def _any_event(kind: type) -> Callable[[object], bool]:
    def seen(engine: object) -> bool:
        found = False
        while (ev := engine.next_event()) is not None:  # type: ignore[attr-defined]
            found = found or isinstance(ev, kind)
        return found
    return seen


def setup_virtual_ms(delay: float = 0.010) -> dict[str, float]:
    """Virtual milliseconds from the first packet to both ends holding the IPsec SA pair."""
    proposal = CASES["AES-CBC-256 SHA-256 group 14"]
    a2, b2 = _engine(A, "va", proposal), _engine(B, "vb", proposal)
    a2.initiate(B, PROXIES, OFFER, 0.0, _settings(A))
    seen2 = _any_event(ChildUp)
    up2: dict[int, bool] = {}

    def is_up2(e: object) -> bool:
        up2[id(e)] = up2.get(id(e), False) or seen2(e)
        return up2[id(e)]

    v2 = _delayed({A: a2, B: b2}, lambda e: e.datagrams_with_ports(),  # type: ignore[attr-defined]
                  lambda e, d, s, t, p: e.receive_datagram(d, s, t, p),  # type: ignore[attr-defined]
                  is_up2, delay)

    pol = [IkePolicy(10, "aes", 256, "sha256", "pre-share", 14, 86400)]
    a1 = IkeEngine(A, rand=SeededRandom("v1a"), policies=lambda: pol, psk_for=lambda p: "cisco123")
    b1 = IkeEngine(B, rand=SeededRandom("v1b"), policies=lambda: pol, psk_for=lambda p: "cisco123",
                   select_phase2=lambda p, x, offers: offers[0])
    a1.initiate(B, PROXIES, OFFER, 0.0)
    seen1 = _any_event(Phase2Established)
    up1: dict[int, bool] = {}

    def is_up1(e: object) -> bool:
        up1[id(e)] = up1.get(id(e), False) or seen1(e)
        return up1[id(e)]

    v1 = _delayed({A: a1, B: b1},
                  lambda e: [(p, d, 500) for p, d in e.datagrams_to_send()],  # type: ignore[attr-defined]
                  lambda e, d, s, t, p: e.receive_datagram(d, s, t),  # type: ignore[attr-defined]
                  is_up1, delay)
    return {"IKEv1 main + quick mode": v1 * 1000, "IKEv2 IKE_SA_INIT + IKE_AUTH": v2 * 1000}


def main() -> None:
    print("IKEv2 IKE_SA_INIT + IKE_AUTH between two engines (per tunnel, medians of 7 rounds)")
    for name, (ours, base) in ratios(7, 40).items():
        print(f"  {name:29} {ours * 1000:7.2f} ms  floor {base * 1000:6.2f} ms  "
              f"ratio {ours / base:4.2f}x  (target 1.5x)  {1 / ours:6.0f} tunnels/s")
    print("Setup in virtual time, 10 ms one way (the reference lab's R1 - ISP - R2):")
    for name, ms in setup_virtual_ms().items():
        print(f"  {name:29} {ms:6.0f} ms")
    gc.collect()
    t0 = time.perf_counter()
    for i in range(200):
        tunnel(CASES["AES-GCM-256 group 19"], f"many{i}")
    print(f"200 IKEv2 tunnels (group 19) one after another: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
