"""Every benchmark ratio in one run: ``python -m bench [--quick] [--record]``.

Each figure is a ratio against a floor measured in the same run (medians of rounds), so it
means the same on any machine: IKE tunnels (IKEv1 and IKEv2, and the virtual time each
takes to set one up) against the cryptography they cannot avoid, ESP per packet (replay
window included) against the leanest complete ESP round trip, forwarding
against the least work of each hop, config replay against ciscoconfparse2, the first
prompt against a bare ``python3 -c pass``, the hub-and-spoke growth table (boot, memory
per router and tunnels per second at 10, 100, 1,000 and, without ``--quick``, 10,000
routers) as ratios to the figures at 100, and OSPF's convergence of an area of 100 and
1,000 routers (25 and 100 with ``--quick``), one flood's cost per router as the ratio.

``--quick`` (what CI runs) uses fewer rounds and hubs of up to 1,000 spokes, and compares each
ratio with ``bench/baseline.json``: it fails only when a ratio is more than twice the
recorded one (a gross regression, never noise). ``--record`` writes the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import cold_start  # noqa: E402
import config_replay  # noqa: E402
import esp_throughput  # noqa: E402
import forwarding  # noqa: E402
import ike_tunnels  # noqa: E402
import ikev2_tunnels  # noqa: E402
import ospf_convergence  # noqa: E402

from iosim.crypto import bignum  # noqa: E402
from iosim.ipsec import esp  # noqa: E402
from iosim.ipsec.replay import ReplayWindow  # noqa: E402
from iosim.ipsec.transforms import encryption_transform, integrity_transform  # noqa: E402

BASELINE = HERE / "baseline.json"
GROSS = 2.0  # a quick run fails only beyond twice the recorded ratio

ESP_CASES = [("AES-CBC+SHA256", "esp-aes 256", "esp-sha256-hmac"),
             ("AES-CBC+SHA1", "esp-aes", "esp-sha-hmac"),
             ("3DES+SHA1", "esp-3des", "esp-sha-hmac"),
             ("AES-GCM", "esp-gcm 256", None),
             ("AES-GMAC", "esp-gmac 256", None)]


def _interleaved_ratio(base: Callable[[int], object], ours: Callable[[int], object],
                       rounds: int) -> float:
    """Median over rounds of base packets/s over ours; a round is five short slices of each,
    interleaved, so that a burst of load elsewhere hits both."""
    ratio = []
    for _ in range(rounds):
        slices = [(esp_throughput.run_for(base, 0.02), esp_throughput.run_for(ours, 0.02))
                  for _ in range(5)]
        ratio.append(sum(b for b, _ in slices) / sum(o for _, o in slices))
    return statistics.median(ratio)


def esp_ratios(rounds: int) -> dict[str, tuple[float, float]]:
    """iosim's time per packet (one encapsulate + decapsulate, the replay window both ways:
    the routers always use it) over the floor's, and over the cipher calls' alone.

    The floor (``esp_throughput.esp_floor``) is the leanest complete ESP round trip: the work
    ESP demands of each packet (header, fresh IV, trailer, cipher, ICV, the packet put
    together, its header read back and the packet taken apart), with the same replay
    window. The cipher calls alone (the same calls on the same bytes, no ESP around them)
    are a lower bound no ESP implementation reaches; they are reported beside it."""
    out = {}
    for label, enc_name, integ_name in ESP_CASES:
        enc = encryption_transform(enc_name)
        integ = integrity_transform(integ_name) if integ_name else None
        for size in (100, 1400):
            packet = esp_throughput.inner_packet(size)
            keymat = os.urandom(enc.keymat_size + (integ.key_size if integ else 0))
            out_sa = esp.EspSa.from_keymat(0x1000, enc, integ, keymat)
            in_sa = esp.EspSa.from_keymat(0x1000, enc, integ, keymat)
            rand = None if enc.is_combined else esp_throughput.buffered_random()
            window = [ReplayWindow()]

            def ours(seq: int, o: esp.EspSa = out_sa, i: esp.EspSa = in_sa,
                     r: esp.IvSource = rand, w: list[ReplayWindow] = window,
                     p: bytes = packet) -> object:
                if seq == 1:  # each timed run counts from 1: a fresh SA's window
                    w[0] = ReplayWindow()
                return esp.decapsulate(i, esp.encapsulate(o, seq, r, p, 4), w[0])

            floor = _with_replay(esp_throughput.esp_floor(enc, integ, packet))
            cipher = _with_replay(_cipher_calls(enc, integ, packet))
            out[f"esp {label} {size} B"] = (_interleaved_ratio(floor, ours, rounds),
                                            _interleaved_ratio(cipher, ours, rounds))
    return out


def _cipher_calls(enc: object, integ: object, packet: bytes) -> Callable[[int], object]:
    """esp_throughput's cipher/HMAC calls alone (no ESP framing, the same nonce each time)."""
    if getattr(enc, "block_size", 16) == 8:  # 3DES: the same calls on TripleDES
        return _tdes_floor(integ, packet)
    minimal, _ = esp_throughput.floor_steps(enc, integ, packet)  # type: ignore[arg-type]
    return minimal


def _with_replay(minimal: Callable[[int], object]) -> Callable[[int], object]:
    """``minimal`` with the replay window's own work around it (check before, update after:
    a bitmap shift), the fastest way Python offers."""
    state = [0, 0]  # top, bitmap

    def step(seq: int) -> object:
        if seq == 1:  # each timed run counts from 1: a fresh SA's window
            state[0] = state[1] = 0
        top, bits = state
        if seq <= top and (top - seq >= 64 or bits >> (top - seq) & 1):
            raise AssertionError("replayed")
        result = minimal(seq)
        if seq > top:
            state[0], state[1] = seq, ((bits << (seq - top)) | 1) & ((1 << 64) - 1)
        else:
            state[1] = bits | 1 << (top - seq)
        return result

    return step


def _tdes_floor(integ: object, packet: bytes) -> Callable[[int], object]:
    from hmac import compare_digest

    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    iv = os.urandom(8)
    algorithm = TripleDES(os.urandom(24))
    encrypt = Cipher(algorithm, modes.CBC(iv)).encryptor().update
    decrypt = Cipher(algorithm, modes.CBC(iv)).decryptor().update
    inner, outer = esp_throughput.hmac_states(integ, os.urandom(20))  # type: ignore[arg-type]
    plain = iv + packet + bytes(-(len(packet) + 2) % 8 + 2)
    hdr = bytes(8)

    def step(seq: int) -> object:
        body = encrypt(plain)
        icvs = []
        for _ in range(2):
            h = inner.copy()
            h.update(hdr)
            h.update(body)
            o = outer.copy()
            o.update(h.digest())
            icvs.append(o.digest()[:12])
        compare_digest(icvs[0], icvs[1])
        return decrypt(body)

    return step


def growth(script: str, *args: str) -> dict[str, float]:
    """The JSON figures of ``bench/<script> args``, run in a fresh process (no heap left by
    an earlier size, nothing warmed by it)."""
    out = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True,
                         text=True, check=False)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
    except (ValueError, IndexError):
        print(out.stdout + out.stderr)
        return {}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="CI: fewer rounds, check ratios")
    parser.add_argument("--record", action="store_true", help="write bench/baseline.json")
    args = parser.parse_args(argv)
    quick = args.quick
    rounds = 3 if quick else 7
    ratios: dict[str, float] = {}
    print(f"iosim benchmarks on {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, bignum backend {bignum.backend_name()}"
          f"{' (quick)' if quick else ''}; medians of {rounds} rounds ({3 * rounds} for "
          "the tunnels)\n")

    print("IKEv1 main + quick mode, per tunnel, against the floor (targets 1.5x g14, 2.5x g19)")
    # a tunnel takes milliseconds: three times the rounds cost seconds and steady the medians
    # (a median of 7 short rounds moved by 0.1 from one run to the next on a shared machine)
    for name, (ours, base) in ike_tunnels.ratios(3 * rounds, 4 if quick else 10).items():
        ratios[f"ike {name}"] = ours / base
        print(f"  {name:17} {ours * 1e3:7.2f} ms  floor {base * 1e3:6.2f} ms  "
              f"{ours / base:5.2f}x")

    print("\nIKEv2 IKE_SA_INIT + IKE_AUTH, per tunnel, against the floor (target 1.5x)")
    for name, (ours, base) in ikev2_tunnels.ratios(3 * rounds, 20 if quick else 40).items():
        ratios[f"ikev2 {name}"] = ours / base
        print(f"  {name:29} {ours * 1e3:7.2f} ms  floor {base * 1e3:6.2f} ms  "
              f"{ours / base:5.2f}x  {1 / ours:5.0f} tunnels/s")
    print("  setup in virtual time, 10 ms one way: " + ", ".join(
        f"{name} {ms:.0f} ms" for name, ms in ikev2_tunnels.setup_virtual_ms().items()))

    print("\nESP per packet, replay window included: iosim's time over the floor's (the leanest "
          "complete ESP\nround trip; targets 1.8x 100 B, 1.3x 1400 B), and over the cipher "
          "calls' alone")
    for name, (value, cipher) in esp_ratios(rounds).items():
        ratios[name] = value
        ratios[f"{name} / cipher calls"] = cipher
        print(f"  {name:28} {value:5.2f}x   cipher calls alone {cipher:5.2f}x")

    print("\nForwarding on the 3-router path, the routers' own time (the PCs' work is not in "
          "it)")
    pers, fwd_ratios = [], []
    for _ in range(rounds):  # each round's floor is timed beside it
        elapsed, frames = forwarding.three_router_path(500 if quick else 2000)
        pers.append(elapsed / frames)
        fwd_ratios.append(pers[-1] / (forwarding.switch_floor(frames) / frames))
    per = statistics.median(pers)
    ratios["forwarding per frame / switching floor"] = statistics.median(fwd_ratios)
    print(f"  {1 / per:,.0f} frames/s (target 44,000); "
          f"{ratios['forwarding per frame / switching floor']:.2f}x the switching floor")

    print("\nConfig replay of 10,000 lines against ciscoconfparse2")
    text = config_replay.crypto_config(10_000)
    config_replay.iosim_replay(config_replay.crypto_config(2000))
    ours_t = statistics.median(config_replay.iosim_replay(text)[0] for _ in range(rounds))
    theirs = [config_replay.ccp_parse_and_query(text) for _ in range(rounds)]
    if theirs[0] is not None:
        ccp = statistics.median(t for t in theirs if t is not None)
        ratios["config replay iosim / ciscoconfparse2"] = ours_t / ccp
        print(f"  iosim {ours_t * 1e3:.0f} ms, ciscoconfparse2 {ccp * 1e3:.0f} ms: "
              f"{ccp / ours_t:.2f}x faster (target 2x)")
        cold_ours = config_replay.cold("iosim", rounds)
        cold_theirs = config_replay.cold("ccp", rounds)
        ratios["cold replay iosim / ciscoconfparse2"] = cold_ours / cold_theirs
        print(f"  cold start (fresh process, unseen config): iosim {cold_ours * 1e3:.0f} ms, "
              f"ciscoconfparse2 {cold_theirs * 1e3:.0f} ms: {cold_theirs / cold_ours:.2f}x "
              "faster (target 1.5x)")
    else:
        print("  ciscoconfparse2 not installed (pip install -e '.[bench]')")
    base = cold_start.timed([sys.executable, "-c", "pass"], runs=rounds)
    prompt = cold_start.timed([sys.executable, "-m", "iosim", "console", "--reset"],
                              runs=rounds)
    ratios["first prompt / python -c pass"] = prompt / base
    print(f"  cold start: first prompt {prompt * 1e3:.0f} ms, {prompt / base:.2f}x a bare "
          "python3")

    sizes = (10, 100, 1000) if quick else (10, 100, 1000, 10_000)
    print("\nHub and spokes on one segment, each size in a fresh process (targets: boot and "
          "memory per router\nand tunnels/s within 20 % from 100 to 10,000; 10,000 spokes "
          "load in < 30 s, < 60 KiB a router)")
    print(f"  {'routers':>8} {'load s':>7} {'boot ms/router':>15} {'KiB/router':>11} "
          f"{'tunnels/s':>10} {'all up':>7}")
    table = {}
    for n in sizes:
        row = table[n] = growth("hub_spokes.py", str(n), "--json")
        if not row:
            continue
        print(f"  {n + 1:>8} {row['boot_s']:>7.2f} {row['boot_per_router'] * 1e3:>15.2f} "
              f"{row['kib_per_router']:>11.1f} {row['rate']:>10.0f} "
              f"{'yes' if row['all_up'] else 'NO':>7}")
    ok = all(row and row["all_up"] for row in table.values())
    for top in (n for n in sizes if n >= 1000 and table[n] and table[100]):  # CI checks 1000
        growth_row = []
        for key, label, invert in (("boot_per_router", "boot per router", False),
                                   ("kib_per_router", "memory per router", False),
                                   ("rate", "time per tunnel", True)):
            ratio = table[top][key] / table[100][key]
            ratios[f"hub {label} {top} / 100"] = 1 / ratio if invert else ratio
            growth_row.append(f"{label} {ratios[f'hub {label} {top} / 100']:.2f}x")
        print(f"  growth 100 -> {top}: {', '.join(growth_row)}")

    print("\n  The same hub with IKEv2 (IKE_SA_INIT + IKE_AUTH, DPD on the spokes)")
    v2 = {n: growth("hub_spokes.py", str(n), "--ikev2", "--json") for n in (100, 1000)}
    for n, row in v2.items():
        if row:
            print(f"  {n + 1:>8} {row['boot_s']:>7.2f} {row['boot_per_router'] * 1e3:>15.2f} "
                  f"{row['kib_per_router']:>11.1f} {row['rate']:>10.0f} "
                  f"{'yes' if row['all_up'] else 'NO':>7}")
    ok = ok and all(row and row["all_up"] for row in v2.values())
    if all(v2.values()):
        ratios["hub ikev2 time per tunnel 1000 / 100"] = v2[100]["rate"] / v2[1000]["rate"]
        ratios["hub ikev2 memory per router 1000 / 100"] = (v2[1000]["kib_per_router"]
                                                           / v2[100]["kib_per_router"])
        print(f"  growth 100 -> 1000: memory per router "
              f"{ratios['hub ikev2 memory per router 1000 / 100']:.2f}x, time per tunnel "
              f"{ratios['hub ikev2 time per tunnel 1000 / 100']:.2f}x")

    print("\n  Chain of routers, each size in a fresh process (target: flat from 100 to 1,000)")
    print(f"  {'routers':>8} {'boot ms/router':>15} {'KiB/router':>11} {'pinged':>7}")
    chains = {}
    for n in (10, 100, 1000):
        row = chains[n] = growth("forwarding.py", "chain", str(n))
        if not row:
            ok = False
            continue
        ok = ok and bool(row["reached"])
        print(f"  {n:>8} {row['boot_per_router'] * 1e3:>15.2f} {row['kib_per_router']:>11.1f} "
              f"{'yes' if row['reached'] else 'NO':>7}")
    if all(chains.values()):
        ratios["chain boot per router 1000 / 100"] = (chains[1000]["boot_per_router"]
                                                      / chains[100]["boot_per_router"])
        ratios["chain memory per router 1000 / 100"] = (chains[1000]["kib_per_router"]
                                                        / chains[100]["kib_per_router"])
        print(f"  growth 100 -> 1000: boot per router "
              f"{ratios['chain boot per router 1000 / 100']:.2f}x, memory per router "
              f"{ratios['chain memory per router 1000 / 100']:.2f}x")

    small, large = (25, 100) if quick else (100, 1000)
    print(f"\nOSPF: one area of {small} and {large} routers converging, then one LSA "
          "flooded alone")
    results = [ospf_convergence.measure(n) for n in (small, large)]
    print("  " + ospf_convergence.table(results).replace("\n", "\n  "))
    flood_growth = ((results[1].flood_wall / large) / (results[0].flood_wall / small))
    copies_growth = ((results[1].flood_copies / large) / (results[0].flood_copies / small))
    # the packets are counted, not timed: a flood that turned quadratic fails the quick run
    # without the noise of a shared machine
    ratios[f"ospf flood packets per router {large} / {small}"] = copies_growth
    print(f"  growth {small} -> {large}: packets per router of one flood {copies_growth:.2f}x "
          f"(linear flooding: 1x), its time per router {flood_growth:.2f}x (SPF is N log N "
          "per router)")

    if args.record:
        BASELINE.write_text(json.dumps({k: round(v, 3) for k, v in ratios.items()}, indent=1)
                            + "\n")
        print(f"\nrecorded {BASELINE}")
    if quick and BASELINE.exists():
        recorded = json.loads(BASELINE.read_text())
        gross = [(k, v, recorded[k]) for k, v in ratios.items()
                 if k in recorded and v > GROSS * recorded[k]]
        for k, v, r in gross:
            print(f"GROSS REGRESSION: {k}: {v:.2f}x, recorded {r:.2f}x")
        ok = ok and not gross
    print("\nok" if ok else "\nFAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
