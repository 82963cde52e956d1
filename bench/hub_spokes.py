"""A hub with N spokes (default 1,000) brings every tunnel up through the lab; time, memory.

Run: ``python bench/hub_spokes.py [N] [--ikev2] [--json]``. The lab comes from
``iosim.lab.hub_and_spoke``: one shared segment, a hub with a dynamic crypto map, N spokes
with static crypto maps. Each spoke pings the hub's LAN from its own (``.!``: the first echo
starts IKE and is dropped, as on IOS); then the hub's ``show crypto isakmp sa`` must list N
``QM_IDLE`` SAs, ``show ip route`` N injected routes, and the hub pings every spoke's LAN back
through them.

Measured in a fresh process (``python -m bench`` starts one per size, so that no run
inherits another's heap): the time to load and boot the lab per router and the tunnels
brought up per second; then, in a second run of the same lab under ``tracemalloc``, the
memory the lab holds per router once every tunnel is up (after a collection). ``--json``
prints the figures as one JSON object.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from iosim.lab.console import Lab, LabConsole  # noqa: E402
from iosim.lab.hub_and_spoke import HUB_LAN, spoke_lan, write_lab  # noqa: E402

HUB_HOST = HUB_LAN[:-1] + "1"
# A spoke's bring-up takes about 1 s of the lab's clock (its first echo starts IKE and times
# out after ``timeout 1``), so 10,000 of them take nearly 3 hours: longer than IOS's default
# IPsec SA lifetime of one hour, after which the first tunnels expire, as on IOS. Every size
# runs with a day. The 1 s timeout also keeps the whole run inside the 4-hour ARP timeout:
# with IOS's 2 s, the last spokes' ARP entries for the hub have aged, their first IKE
# message is lost to ARP and a 2-echo ping fails (as it would on IOS).
LIFETIME = 86400
PING = "repeat 2 timeout 1"
_SHOW_SA = {False: "show crypto isakmp sa", True: "show crypto ikev2 sa"}
_UP = {False: "QM_IDLE", True: "READY"}


def _warm_up(directory: Path, ikev2: bool) -> LabConsole:
    """One spoke's tunnel, so that what a process does once (imports, the grammar's
    parser, the first bignum) is not counted as the first routers' cost. The caller keeps
    it alive: its freed memory would otherwise be reused and hide the lab's."""
    path = write_lab(directory / "lab", 1, LIFETIME, ikev2)
    lab = Lab.load(str(path.parent), nvram_dir=directory / "nv")
    console = LabConsole(lab, "S1", paging=False)
    console.feed("enable")
    console.feed(f"ping {HUB_HOST} source {spoke_lan(1)[:-1]}1 {PING}")
    console.feed(_SHOW_SA[ikev2])
    console.feed("show ip route")
    return console


def measure(spokes: int, memory: bool = False, ikev2: bool = False) -> dict[str, float]:
    """Boot and tunnel figures of a hub with ``spokes`` spokes, checked end to end; with
    ``memory``, the bytes the lab holds once every tunnel is up, traced by ``tracemalloc``
    (which slows the run: its times are not the figures)."""
    with tempfile.TemporaryDirectory() as tmp:
        warm = _warm_up(Path(tmp) / "warm", ikev2)
        path = write_lab(Path(tmp) / "lab", spokes, LIFETIME, ikev2)
        gc.collect()
        if memory:
            tracemalloc.start()
        t0 = time.perf_counter()
        lab = Lab.load(str(path.parent), nvram_dir=Path(tmp) / "nv")
        console = LabConsole(lab, "HUB", paging=False)
        boot = time.perf_counter() - t0
        failed = 0
        t0 = time.perf_counter()
        for n in range(1, spokes + 1):
            console.feed(f"@S{n}")
            console.feed("enable")
            out = console.feed(f"ping {HUB_HOST} source {spoke_lan(n)[:-1]}1 {PING}")
            failed += ".!" not in out
        up = time.perf_counter() - t0
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] / 1024 if memory else 0.0
        tracemalloc.stop()
        qm_idle = injected = back = 0
        if not memory:  # the timed run checks the hub's view and every tunnel both ways
            console.feed("@HUB")
            console.feed("enable")
            qm_idle = console.feed(_SHOW_SA[ikev2]).count(_UP[ikev2])
            injected = console.feed("show ip route").count("[1/0] via 10.0.")
            back = sum("!!" not in console.feed(f"ping {spoke_lan(n)[:-1]}1 source "
                                                f"{HUB_HOST} {PING}")
                       for n in range(1, spokes + 1))
        del console, lab, warm
    routers = spokes + 1
    return {"spokes": spokes, "boot_s": boot, "boot_per_router": boot / routers,
            "up_s": up, "rate": spokes / up, "kib_per_router": held / routers,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "qm_idle": qm_idle, "injected": injected, "failed": failed, "back_failed": back,
            "all_up": float(not failed and qm_idle == spokes and injected == spokes
                            and not back)}


def main(argv: list[str]) -> int:
    spokes = int(argv[0]) if argv and argv[0].isdigit() else 1000
    ikev2 = "--ikev2" in argv
    m = measure(spokes, ikev2=ikev2)
    m["kib_per_router"] = measure(spokes, memory=True, ikev2=ikev2)["kib_per_router"]
    if "--json" in argv:
        print(json.dumps(m))
        return 0 if m["all_up"] else 1
    print(f"hub and {spokes} spokes{' (IKEv2)' if ikev2 else ''}")
    print(f"  load + boot {spokes + 1} routers   {m['boot_s']:8.2f} s "
          f"({m['boot_per_router'] * 1e3:.2f} ms a router)")
    print(f"  bring every tunnel up         {m['up_s']:8.2f} s  ({m['rate']:.0f} tunnels/s)")
    print(f"  hub: {_UP[ikev2]} {m['qm_idle']}/{spokes}, injected routes {m['injected']}/{spokes}, "
          f"{m['failed']} spokes failed, {m['back_failed']} pings back failed")
    print(f"  memory                        {m['kib_per_router']:8.1f} KiB a router "
          f"(peak RSS {m['peak_mib']:.0f} MiB)")
    print("  every tunnel up" if m["all_up"] else "  FAILED")
    return 0 if m["all_up"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
