"""A hub with N spokes (default 1,000) brings every tunnel up through the lab; time, memory.

Run: ``python bench/hub_spokes.py [N]``. The lab comes from ``iosim.lab.hub_and_spoke``: one
shared segment, a hub with a dynamic crypto map, N spokes with static crypto maps. Each spoke
pings the hub's LAN from its own (``.!!``: the first echo starts IKE and is dropped, as on
IOS); then the hub's ``show crypto isakmp sa`` must list N ``QM_IDLE`` SAs and the hub pings
every spoke's LAN back through the injected routes.

Printed: the time to load and boot the lab, the time to bring all tunnels up (per tunnel and
as a ratio to the cryptographic floor of one group-14 tunnel, timed in the same run by
``bench/ike_tunnels.py``'s ``floor``), the hub's show commands, and the peak resident memory
growth per spoke router.
"""

from __future__ import annotations

import gc
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ike_tunnels import floor  # noqa: E402

from iosim.lab.console import Lab, LabConsole  # noqa: E402
from iosim.lab.hub_and_spoke import HUB_LAN, spoke_lan, write_lab  # noqa: E402


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(spokes: int) -> int:
    floor(14, False)
    t0 = time.perf_counter()
    for _ in range(20):
        floor(14, False)
    floor_s = (time.perf_counter() - t0) / 20
    hub_host = HUB_LAN[:-1] + "1"
    with tempfile.TemporaryDirectory() as tmp:
        rss0 = _rss_mib()
        path = write_lab(Path(tmp) / "lab", spokes)
        gc.collect()
        t0 = time.perf_counter()
        lab = Lab.load(str(path.parent), nvram_dir=Path(tmp) / "nv")
        console = LabConsole(lab, "HUB", paging=False)
        load_s = time.perf_counter() - t0
        failed = []
        t0 = time.perf_counter()
        for n in range(1, spokes + 1):
            console.feed(f"@S{n}")
            console.feed("enable")
            out = console.feed(f"ping {hub_host} source {spoke_lan(n)[:-1]}1 repeat 2")
            if ".!" not in out:
                failed.append(n)
        up_s = time.perf_counter() - t0
        console.feed("@HUB")
        console.feed("enable")
        t0 = time.perf_counter()
        qm_idle = console.feed("show crypto isakmp sa").count("QM_IDLE")
        injected = console.feed("show ip route").count("[1/0] via 10.0.")
        show_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        back = sum("!!" not in console.feed(f"ping {spoke_lan(n)[:-1]}1 source {hub_host} "
                                            "repeat 2")
                   for n in range(1, spokes + 1))
        back_s = time.perf_counter() - t0
        rss = _rss_mib() - rss0
    print(f"hub and {spokes} spokes")
    print(f"  load + boot {spokes + 1} routers   {load_s:8.2f} s")
    print(f"  bring every tunnel up         {up_s:8.2f} s  ({up_s / spokes * 1000:.2f} ms a "
          f"tunnel, {up_s / spokes / floor_s:.1f}x the group-14 crypto floor of "
          f"{floor_s * 1000:.2f} ms)")
    print(f"  hub: QM_IDLE {qm_idle}/{spokes}, injected routes {injected}/{spokes}, "
          f"show commands {show_s:.2f} s")
    print(f"  hub pings every spoke back    {back_s:8.2f} s  ({back} failed)")
    print(f"  peak memory growth            {rss:8.1f} MiB  ({rss * 1024 / (spokes + 1):.0f} "
          "KiB a router)")
    ok = not failed and qm_idle == spokes and injected == spokes and not back
    print("  every tunnel up" if ok else f"  FAILED spokes: {failed[:10]}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
