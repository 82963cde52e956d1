"""Forwarding speed and scale of the simulated network (pure Python, no crypto).

1. Packets forwarded per second across a 3-router path (PC1 - R1 - ISP - R2 - PC2 in the
   default lab): echo requests and replies, timed per delivered packet, against the least
   work a hop must do per frame (:func:`switch_floor`) measured in the same run.
2. A chain of N routers built, booted and pinged end to end: time and peak memory.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

from iosim.lab.console import Lab, LabConsole
from iosim.net.packets import (
    EthernetFrame,
    IcmpEcho,
    IpProtocol,
    Ipv4Packet,
    internet_checksum,
    ip_to_int,
    ipv4_decrement_ttl,
    push_ethernet,
    push_icmp,
    push_ipv4,
)
from iosim.net.ping import run_ping

ISP_ROUTES = ["@ISP", "enable", "conf t", "ip route 192.168.1.0 255.255.255.0 198.51.100.1",
              "ip route 10.0.2.0 255.255.255.0 203.0.113.2", "end", "@R1"]


def three_router_path(echoes: int) -> tuple[float, int]:
    """(seconds the routers spent, frames they forwarded) for ``echoes`` echo requests from
    PC1 to PC2 and their replies. Only the routers' work is timed: each router's receive
    function (which forwards and transmits) is wrapped in a timer, so the PCs' own work
    (building, sending and answering the echoes) and the clock between events are not in
    the figure."""
    with TemporaryDirectory() as tmp:
        lab = Lab.load(nvram_dir=Path(tmp))
        console = LabConsole(lab, paging=False)
        for line in ISP_ROUTES:
            console.feed(line)
        pc1 = lab.hosts["PC1"].stack
        assert pc1 is not None
        dst = ip_to_int("10.0.2.10")
        run_ping(pc1, lab.clock, dst, repeat=5, identifier=7)  # ARP at every hop
        frames_before = sum(r.state[i].counters.output_packets
                            for r in lab.routers.values() for i in r.state)
        spent = [0.0]
        receivers = lab.fabric.receivers
        for name in lab.routers:
            receivers[name] = _timed(receivers[name], spent)
        gc.collect()
        out = run_ping(pc1, lab.clock, dst, repeat=echoes, timeout=2.0, identifier=8)
        assert out.marks == "!" * echoes, out.marks
        forwarded = sum(r.state[i].counters.output_packets
                        for r in lab.routers.values() for i in r.state) - frames_before
        return spent[0], forwarded


def _timed(receive: Callable[[str, bytes], None],
           spent: list[float]) -> Callable[[str, bytes], None]:
    """``receive``, adding the time each call takes to ``spent[0]``."""
    clock = time.perf_counter

    def timed(interface: str, frame: bytes) -> None:
        t0 = clock()
        receive(interface, frame)
        spent[0] += clock() - t0

    return timed


def switch_floor(n: int) -> float:
    """The least work a hop must do per frame, written as lean as Python allows: check the
    frame is IPv4 for us, the header sound (no options, not a fragment, checksum, TTL, length),
    decrement the TTL with the checksum updated incrementally, and put the next hop's
    Ethernet header in front. Counting, the routing decision and handing the frame to the
    link are not in it: what the routers' figure spends beyond this is theirs."""
    payload = push_icmp(IcmpEcho(1, 1, bytes(72)))
    dgram = push_ipv4(Ipv4Packet(protocol=IpProtocol.ICMP, src=1, dst=2, payload=payload))
    mine = b"\x01" * 6
    frame = push_ethernet(EthernetFrame(mine, b"\x02" * 6, 0x0800, dgram))
    header = b"\x03" * 6 + b"\x04" * 6 + b"\x08\x00"
    whole = (b"\0\0", b"\x40\0")
    t0 = time.perf_counter()
    for _ in range(n):
        if (frame[:6] != mine or frame[12:14] != b"\x08\x00" or frame[14] != 0x45
                or frame[20:22] not in whole or frame[22] <= 1):
            raise AssertionError("the floor's frame is forwardable")
        total = frame[16] << 8 | frame[17]
        if not 20 <= total <= len(frame) - 14 or internet_checksum(frame[14:34]):
            raise AssertionError("the floor's frame is sound")
        header + ipv4_decrement_ttl(frame[14:14 + total])
    return time.perf_counter() - t0


def chain_lab(n: int, directory: Path) -> Path:
    """A lab of ``n`` routers in a line, each with static routes both ways."""
    lines = ['[lab]', f'name = "chain{n}"']
    for i in range(n):
        lines += [f"[devices.R{i}]", 'kind = "router"',
                  'interfaces = ["GigabitEthernet0/0", "GigabitEthernet0/1"]',
                  f'config = "R{i}.cfg"']
        cfg = [f"hostname R{i}"]
        if i > 0:  # Gi0/0 towards R(i-1): link i-1 is 10.(i-1)/x.y.0/30
            a = _link_net(i - 1)
            cfg += ["interface GigabitEthernet0/0", f" ip address {_plus(a, 2)} 255.255.255.252"]
            if i > 1:  # back toward R0's link, whose address sources the pings
                cfg.append(f"ip route {_link_net(0)} 255.255.255.252 {_plus(a, 1)}")
        if i < n - 1:
            b = _link_net(i)
            cfg += ["interface GigabitEthernet0/1", f" ip address {_plus(b, 1)} 255.255.255.252"]
            cfg.append(f"ip route 10.128.0.0 255.128.0.0 {_plus(b, 2)}")  # onward
        (directory / f"R{i}.cfg").write_text("\n".join(cfg) + "\n")
    for i in range(n - 1):
        lines += ["[[links]]", f'endpoints = ["R{i} GigabitEthernet0/1", '
                  f'"R{i + 1} GigabitEthernet0/0"]', "delay_ms = 1"]
    (directory / "lab.toml").write_text("\n".join(lines) + "\n")
    return directory


def _link_net(i: int) -> str:
    """10.x.y.z/30 for link i, in 10.128.0.0/9 for routes toward the end of the chain."""
    base = (10 << 24) | (128 << 16) | (i * 4)
    return ".".join(str((base >> s) & 255) for s in (24, 16, 8)) + f".{base & 255}"


def _plus(net: str, host: int) -> str:
    parts = net.split(".")
    return ".".join(parts[:3] + [str(int(parts[3]) + host)])


def chain(n: int, memory: bool = False) -> dict[str, float]:
    """Load and boot a chain of ``n`` routers, then ping across it (up to 254 hops, IPv4's
    TTL bound) until every hop has ARP; boot time per router, and with ``memory`` the bytes
    the lab holds per router afterwards (traced by ``tracemalloc``, which slows the run)."""
    with TemporaryDirectory() as tmp:
        for sub in ("warm", "lab"):
            (Path(tmp) / sub).mkdir()
        # what a process does once (imports, the grammar's parser) is not the routers' cost;
        # the warm-up lab stays alive so that its freed memory does not hide the chain's
        warm = Lab.load(str(chain_lab(3, Path(tmp) / "warm")), nvram_dir=Path(tmp) / "nvw")
        d = chain_lab(n, Path(tmp) / "lab")
        gc.collect()
        if memory:
            tracemalloc.start()
        t0 = time.perf_counter()
        lab = Lab.load(str(d), nvram_dir=Path(tmp) / "nv")
        boot = time.perf_counter() - t0
        first = lab.routers["R0"].stack
        assert first is not None
        reach = min(n - 1, 254)
        far = ip_to_int(_plus(_link_net(reach - 1), 2))
        t0 = time.perf_counter()
        run_ping(first, lab.clock, far, repeat=reach + 5, identifier=1)
        out = run_ping(first, lab.clock, far, repeat=5, identifier=2)
        pinged = time.perf_counter() - t0
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] / 1024 if memory else 0.0
        tracemalloc.stop()
        del lab, warm
    return {"routers": n, "boot_per_router": boot / n, "ping_s": pinged,
            "kib_per_router": held / n, "reached": float(out.marks == "!!!!!")}


def main() -> None:
    echoes = 2000
    elapsed, forwarded = three_router_path(echoes)
    floor = switch_floor(forwarded) / forwarded
    per = elapsed / forwarded
    print(f"3-router path: {forwarded} frames sent by routers in {elapsed * 1000:.0f} ms "
          f"= {forwarded / elapsed:,.0f} frames/s ({echoes} echoes + replies)")
    print(f"  per frame {per * 1e6:.1f} us; the least work of a hop {floor * 1e6:.1f} us "
          f"({per / floor:.1f}x the switching floor)")
    for n in (100, 1000):
        with TemporaryDirectory() as tmp:
            d = chain_lab(n, Path(tmp))
            tracemalloc.start()
            t0 = time.perf_counter()
            lab = Lab.load(str(d), nvram_dir=Path(tmp) / "nv")
            loaded = time.perf_counter() - t0
            first = lab.routers["R0"].stack
            assert first is not None
            # IPv4's TTL (255 at most) bounds a path: the farthest router a ping can reach is
            # 254 hops away; beyond it the echo comes back as Time Exceeded ("&").
            reach = min(n - 1, 254)
            far = ip_to_int(_plus(_link_net(reach - 1), 2))
            t1 = time.perf_counter()
            # each hop's first packet is lost to ARP, as on IOS: the first ping fills the caches
            warm = run_ping(first, lab.clock, far, repeat=reach + 5, identifier=1)
            out = run_ping(first, lab.clock, far, repeat=5, identifier=2)
            pinged = time.perf_counter() - t1
            line = (f"{n}-router chain: loaded and booted in {loaded:.2f} s; ping across "
                    f"{reach} hops: {warm.marks.count('.')} of {len(warm.marks)} echoes lost "
                    f"filling ARP caches, then {out.marks}, in {pinged:.2f} s")
            if n - 1 > reach:
                end = run_ping(first, lab.clock, ip_to_int(_plus(_link_net(n - 2), 2)),
                               repeat=5, identifier=3)
                line += f"; to the far end ({n - 1} hops): {end.marks} (TTL exceeded)"
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"{line}; peak memory {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    if sys.argv[1:2] == ["chain"]:  # python bench/forwarding.py chain N: JSON, one size
        size = int(sys.argv[2])
        figures = chain(size)
        figures["kib_per_router"] = chain(size, memory=True)["kib_per_router"]
        print(json.dumps(figures))
    else:
        main()
