"""Config replay speed: parse + apply + render of a 10,000-line crypto config.

Compared in the same run with ciscoconfparse2 parsing and querying the same text
(install with ``pip install -e '.[bench]'``). Prints lines/second and the ratio.
Targets: at least 2x ciscoconfparse2 as a median of rounds, and at least 1.5x on a cold
start: a fresh process that imports what it needs and replays (or parses) a config it has
never seen, timed from its start to its exit.
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


from iosim.cli.replay import replay_config  # noqa: E402
from iosim.clock import VirtualClock  # noqa: E402
from iosim.config.render import config_lines  # noqa: E402
from iosim.router import Router  # noqa: E402


def crypto_config(n_lines: int) -> str:
    """A realistic hub config: interfaces, crypto ACLs, keys, policies and map entries."""
    out: list[str] = ["hostname HUB", "no ip domain-lookup"]
    i = 0
    while len(out) < n_lines:
        a, b = divmod(i, 250)
        out += [
            f"crypto isakmp policy {i % 10000 + 1}",
            " encryption aes 256",
            " hash sha256",
            " authentication pre-share",
            " group 14",
            f"crypto isakmp key KEY{i} address 203.{a % 250}.{b}.2",
            f"crypto ipsec transform-set TS{i} esp-aes 256 esp-sha256-hmac",
            " mode tunnel",
            f"ip access-list extended VPN{i}",
            f" permit ip 192.168.{b}.0 0.0.0.255 10.{a % 250}.{b}.0 0.0.0.255",
            f"crypto map MYMAP {i % 65535 + 1} ipsec-isakmp",
            f" set peer 203.{a % 250}.{b}.2",
            f" set transform-set TS{i}",
            f" match address VPN{i}",
            f"ip route 10.{a % 250}.{b}.0 255.255.255.0 198.51.100.2",
            f"interface Loopback{i}",
            f" description tunnel {i}",
            f" ip address 172.{16 + a % 16}.{b}.1 255.255.255.255",
        ]
        i += 1
    return "\n".join(out[:n_lines]) + "\n"


def iosim_replay(text: str, collect: bool = True) -> tuple[float, int]:
    router = Router("HUB", ["GigabitEthernet0/0"], VirtualClock())
    if collect:
        gc.collect()
    t0 = time.perf_counter()
    errors = replay_config(router, text, "bench")
    config_lines(router.config)
    return time.perf_counter() - t0, len(errors)


def ccp_parse_and_query(text: str, collect: bool = True) -> float | None:
    try:
        from ciscoconfparse2 import CiscoConfParse
    except ImportError:
        return None
    if collect:
        gc.collect()
    t0 = time.perf_counter()
    parse = CiscoConfParse(text.splitlines(), syntax="ios")
    maps = parse.find_parent_objects(["^crypto map"])
    peers = [c.text for m in maps for c in m.children if "set peer" in c.text]
    assert peers
    return time.perf_counter() - t0


def crypto_config_variant(n_lines: int, salt: int) -> str:
    """``crypto_config`` with its hostname, keys and descriptions made unique by ``salt``:
    a config no earlier run has seen (nothing a parser kept can match it)."""
    return (crypto_config(n_lines).replace("hostname HUB", f"hostname HUB{salt}")
            .replace(" KEY", f" K{salt}Y").replace("description tunnel", f"description t{salt}"))


def cold(tool: str, rounds: int, n_lines: int = 10_000) -> float:
    """Median seconds of a fresh process (``tool``: ``iosim`` or ``ccp``) that starts,
    imports what it needs, reads a config it has never seen and parses it (iosim: replays,
    applies and renders it; ciscoconfparse2: parses it and finds the crypto map peers)."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            path = Path(tmp) / f"{tool}{r}.cfg"
            path.write_text(crypto_config_variant(n_lines, r + 1000 * (tool == "ccp")))
            t0 = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--cold", tool, str(path)], check=True,
                           cwd=HERE.parent)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _cold_child(tool: str, path: str) -> None:
    text = Path(path).read_text()
    if tool == "iosim":
        _, errors = iosim_replay(text, collect=False)
        assert errors == 0
    else:
        assert ccp_parse_and_query(text, collect=False) is not None


def main() -> None:
    n = 10_000
    text = crypto_config(n)
    iosim_replay(crypto_config(2000))  # warm the parser-state memo as any second use would
    rounds = [iosim_replay(text) for _ in range(5)]
    ours, errors = statistics.median(t for t, _ in rounds), rounds[0][1]
    theirs = [ccp_parse_and_query(text) for _ in range(5)]
    print(f"config replay of {n} lines (parse + apply + render), median of 5")
    print(f"  iosim:           {ours * 1000:8.1f} ms  {n / ours:10.0f} lines/s"
          f"  ({errors} lines rejected)")
    if theirs[0] is None:
        print("  ciscoconfparse2: not installed (pip install -e '.[bench]')")
        return
    median_theirs = statistics.median(t for t in theirs if t is not None)
    print(f"  ciscoconfparse2: {median_theirs * 1000:8.1f} ms  {n / median_theirs:10.0f} lines/s")
    print(f"  ratio: iosim is {median_theirs / ours:.2f}x ciscoconfparse2 (target >= 2x)")
    ours_cold, theirs_cold = cold("iosim", 5), cold("ccp", 5)
    print(f"  cold start (fresh process, unseen config): iosim {ours_cold * 1000:.0f} ms, "
          f"ciscoconfparse2 {theirs_cold * 1000:.0f} ms: {theirs_cold / ours_cold:.2f}x "
          "(target >= 1.5x)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cold"]:
        _cold_child(sys.argv[2], sys.argv[3])
    else:
        main()
