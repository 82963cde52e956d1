"""Building long access lists: typing and booting 1,000 / 10,000 / 20,000-line ACLs.

Run: ``python bench/acl_build.py [ROUNDS]``. Each size is built ``ROUNDS`` times (median
kept) three ways, all in the same run:

* baseline: the bare parse of every line (``iosim.cli.matcher.parse``, cache cleared), the
  floor any way of applying the lines pays;
* typed: every line fed to a console session in ``(config-ext-nacl)`` mode, as typed or
  pasted, the undo checkpoint of each command included;
* boot: the same ACL replayed from a startup-config (``replay_config``).

Printed: per-line microseconds, the ratio of typed and boot to the baseline, and the growth
of the per-line cost from 1,000 to 20,000 lines (1.0x is O(1) per line; the list used to
cost O(n) per line). Targets: 20,000 lines type in seconds and boot in under a second.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from iosim.cli import matcher  # noqa: E402
from iosim.cli.replay import replay_config  # noqa: E402
from iosim.cli.session import Session  # noqa: E402
from iosim.clock import VirtualClock  # noqa: E402
from iosim.router import Router  # noqa: E402

SIZES = (1000, 10000, 20000)


def acl_lines(n: int) -> list[str]:
    """``n`` different extended ACEs, as a long hand-written list looks."""
    return [f"permit tcp 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} 0.0.0.0 "
            f"host 192.0.2.{i % 250 + 1} eq {1 + i % 60000}" for i in range(n)]


def _router() -> Router:
    return Router("R1", ["GigabitEthernet0/0"], VirtualClock())


def parse_only(lines: list[str]) -> float:
    matcher._PARSED.clear()
    gc.collect()
    t0 = time.perf_counter()
    for line in lines:
        matcher.parse("ext_nacl_line", line)
    return time.perf_counter() - t0


def typed(lines: list[str]) -> float:
    matcher._PARSED.clear()
    session = Session(_router(), mode="config", terminal_length=0)
    session.feed("ip access-list extended BIG")
    gc.collect()
    t0 = time.perf_counter()
    for line in lines:
        session.feed(line)
    elapsed = time.perf_counter() - t0
    assert len(session.router.config.acls["BIG"].entries) == len(lines)
    return elapsed


def boot(lines: list[str]) -> float:
    matcher._PARSED.clear()
    text = "ip access-list extended BIG\n" + "".join(f" {ln}\n" for ln in lines)
    router = _router()
    gc.collect()
    t0 = time.perf_counter()
    errors = replay_config(router, text, "startup-config")
    elapsed = time.perf_counter() - t0
    assert not errors and len(router.config.acls["BIG"].entries) == len(lines)
    return elapsed


def median(fn: Callable[[list[str]], float], lines: list[str], rounds: int) -> float:
    return statistics.median(fn(lines) for _ in range(rounds))


def main(rounds: int) -> int:
    print(f"ACL build, median of {rounds} rounds (microseconds per line)")
    print(f"{'lines':>7} {'parse':>8} {'typed':>8} {'boot':>8} {'typed/parse':>12} "
          f"{'boot/parse':>11} {'typed s':>8} {'boot s':>7}")
    per_line: dict[int, tuple[float, float, float]] = {}
    totals: dict[int, tuple[float, float]] = {}
    for n in SIZES:
        lines = acl_lines(n)
        p, t, b = (median(fn, lines, rounds) for fn in (parse_only, typed, boot))
        per_line[n] = (p / n * 1e6, t / n * 1e6, b / n * 1e6)
        totals[n] = (t, b)
        pu, tu, bu = per_line[n]
        print(f"{n:>7} {pu:>8.1f} {tu:>8.1f} {bu:>8.1f} {tu / pu:>11.2f}x {bu / pu:>10.2f}x "
              f"{t:>8.2f} {b:>7.2f}")
    small, large = per_line[SIZES[0]], per_line[SIZES[-1]]
    print(f"growth of the per-line cost, {SIZES[0]} -> {SIZES[-1]} lines: "
          f"parse {large[0] / small[0]:.2f}x, typed {large[1] / small[1]:.2f}x, "
          f"boot {large[2] / small[2]:.2f}x (1.00x: O(1) per line)")
    t20, b20 = totals[SIZES[-1]]
    print(f"{SIZES[-1]} lines: typed in {t20:.2f} s, booted in {b20:.2f} s "
          f"(targets: seconds, under 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
