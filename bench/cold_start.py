"""Cold start: ``iosim --version`` and the first prompt of ``iosim``, as ratios to a bare
``python3 -c pass`` measured in the same run. Targets: --version under 0.1 s, first prompt
under 0.5 s."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def timed(args: list[str], stdin: str = "", runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(args, input=stdin, text=True, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    py = sys.executable
    base = timed([py, "-c", "pass"])
    version = timed([py, "-m", "iosim", "--version"])
    prompt = timed([py, "-m", "iosim", "console", "--reset"], stdin="")
    print(f"python3 -c pass          {base * 1000:7.1f} ms  (baseline)")
    print(f"iosim --version          {version * 1000:7.1f} ms  {version / base:5.2f}x baseline"
          f"  (target < 100 ms)")
    print(f"iosim first prompt       {prompt * 1000:7.1f} ms  {prompt / base:5.2f}x baseline"
          f"  (target < 500 ms)")


if __name__ == "__main__":
    main()
