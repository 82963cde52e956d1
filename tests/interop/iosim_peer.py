"""iosim's IKE engine on real UDP/500 and /4500 sockets (NAT-T, RFC 3947), as a process (run
inside a network namespace).

    python iosim_peer.py '<json config>'

Config keys: ``local``, ``peer`` (dotted quads), ``psk``, ``policies`` (list of
[priority, encryption, key_bits, hash, group, lifetime]), ``transform_set`` (IOS words),
``pfs_group`` (int or null), ``proxies`` ([local_net, local_prefix, remote_net, remote_prefix]),
``initiate`` (bool), ``duration`` (seconds to run at most).

Prints one JSON object per line on stdout: ``{"event": "ready"}`` once the socket is bound,
then every engine event (``{"event": "Phase2Established", "sa": {...}}`` ...), each flushed
immediately. Runs until ``duration`` passes or it is terminated.

Router mode (``"mode": "router"``): an emulated router R1 (``GigabitEthernet0/0`` outside,
``GigabitEthernet0/1`` inside, host PC1 behind it) boots from ``config`` (a list of IOS config
lines, its startup-config), and its outside interface is bridged (``iosim.net.udp_bridge``)
to real UDP 500/4500 sockets on ``local``, with ``peer`` as the only real neighbour. Virtual
time follows the wall clock. Console lines (``ping 192.168.2.1 source 192.168.1.1``, ``show
crypto ipsec sa``, ``@PC1`` ...) come from ``commands`` (each a line, or ``[seconds, line]`` to
wait that long first) and then from stdin, one per line; each prints
``{"event": "output", "command": LINE, "output": TEXT}``. Optional keys: ``interface`` (the
bridged one), ``pc1`` (PC1's address/prefix), ``duration``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import select
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root

from iosim.ike.engine import IkePolicy, Phase2Offer, ProxyIdentity  # noqa: E402
from iosim.ike.udp_adapter import UdpIkeAdapter  # noqa: E402
from iosim.lab.console import Lab, LabConsole  # noqa: E402
from iosim.net.udp_bridge import UdpBridge  # noqa: E402

OUTSIDE = "GigabitEthernet0/0"
SETTLE = 0.1  # seconds the bridged lab runs before it is ready
LAB_TOML = """\
[lab]
name = "bridged"
description = "R1 with its outside interface on a real UDP socket, PC1 behind it"

[devices.R1]
kind = "router"
interfaces = ["GigabitEthernet0/0", "GigabitEthernet0/1"]
config = "R1.cfg"

[devices.PC1]
kind = "host"
address = "{pc1}"
gateway = "{gateway}"

[[links]]
endpoints = ["R1 GigabitEthernet0/1", "PC1 eth0"]
delay_ms = 1
"""


def _net(text: str, prefix: int) -> tuple[int, int]:
    net = ipaddress.IPv4Network(f"{text}/{prefix}")
    return int(net.network_address), int(net.netmask)


def _emit(obj: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(obj, default=lambda b: b.hex()) + "\n")
    sys.stdout.flush()


def _public(items: list[tuple[str, object]]) -> dict[str, object]:
    """A dataclass as a dict without its private fields (a transform's cached hash)."""
    return {k: v for k, v in items if not k.startswith("_")}


def _event_json(event: object) -> dict[str, object]:
    body = (dataclasses.asdict(event, dict_factory=_public)  # type: ignore[arg-type]
            if dataclasses.is_dataclass(event) else {})
    return {"event": type(event).__name__, **body}


class _StdinLines:
    """Complete lines from stdin, read without blocking (select, then os.read)."""

    def __init__(self) -> None:
        self.fd = sys.stdin.fileno()
        self.buf = b""
        self.eof = False
        self.lines: list[str] = []

    def ready(self) -> bool:
        """Whether a complete line is waiting (reads what stdin has)."""
        while not self.eof and select.select([self.fd], [], [], 0)[0]:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.eof = True
                break
            self.buf += chunk
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self.lines.append(line.decode().rstrip("\r"))
        return bool(self.lines)


def main_router(cfg: dict[str, object]) -> int:
    """Router mode (see the module docstring)."""
    pc1 = ipaddress.IPv4Interface(str(cfg.get("pc1", "192.168.1.10/24")))
    config = cfg["config"]
    assert isinstance(config, list)
    with tempfile.TemporaryDirectory(prefix="iosim-peer-") as tmp:
        lab_dir = Path(tmp)
        (lab_dir / "lab.toml").write_text(LAB_TOML.format(
            pc1=pc1, gateway=next(pc1.network.hosts())))
        (lab_dir / "R1.cfg").write_text("".join(f"{line}\n" for line in config))
        lab = Lab.load(str(lab_dir), nvram_dir=lab_dir / "nvram")
        if lab.boot_errors:
            _emit({"event": "boot_errors", "errors": lab.boot_errors})
        with UdpBridge.attach(lab.fabric, lab.routers["R1"], str(cfg.get("interface", OUTSIDE)),
                              host_address=str(cfg["local"]),
                              peer_address=str(cfg["peer"])) as bridge:
            console = LabConsole(lab, "R1", paging=False)
            console.feed("enable")
            bridge.run_until(time.monotonic() + SETTLE)  # the peer's gratuitous ARP lands
            _emit({"event": "ready"})
            stdin = _StdinLines()
            deadline = time.monotonic() + float(str(cfg.get("duration", 120)))
            scripted = cfg.get("commands", [])
            assert isinstance(scripted, list)
            while True:
                if scripted:
                    item = scripted.pop(0)
                    if isinstance(item, list):
                        bridge.run_until(time.monotonic() + float(item[0]))
                        item = item[1]
                    line = str(item)
                elif bridge.run_until(deadline, until=stdin.ready):
                    line = stdin.lines.pop(0)
                else:
                    break
                _emit({"event": "output", "command": line, "output": console.feed(line)})
            _emit({"event": "exit", "sent": bridge.sent, "received": bridge.received,
                   "dropped": bridge.dropped})
    return 0


def main(argv: list[str]) -> int:
    cfg = json.loads(argv[1])
    if cfg.get("mode") == "router":
        return main_router(cfg)
    policies = [IkePolicy(p[0], p[1], p[2], p[3], "pre-share", p[4], p[5])
                for p in cfg["policies"]]
    offer = Phase2Offer((tuple(cfg["transform_set"]),), "tunnel", cfg["pfs_group"], 3600,
                        4608000)
    ln, lm = _net(cfg["proxies"][0], cfg["proxies"][1])
    rn, rm = _net(cfg["proxies"][2], cfg["proxies"][3])
    proxies = ProxyIdentity(ln, lm, rn, rm)

    def select(_peer: int, _proxies: ProxyIdentity, offers: list[Phase2Offer]
               ) -> Phase2Offer | None:
        """Like an IOS crypto map: the first offer with our transform set, mode and PFS."""
        for o in offers:
            if offer.transform_sets[0] in o.transform_sets and o.mode == offer.mode \
                    and o.pfs_group == offer.pfs_group:
                return Phase2Offer(offer.transform_sets, offer.mode, offer.pfs_group,
                                   min(o.lifetime_seconds, offer.lifetime_seconds),
                                   min(o.lifetime_kilobytes, offer.lifetime_kilobytes))
        return None

    adapter = UdpIkeAdapter.open(cfg["local"], policies=policies, psk={cfg["peer"]: cfg["psk"]},
                                 select_phase2=select, rand=os.urandom)
    with adapter:
        _emit({"event": "ready"})
        events = adapter.initiate(cfg["peer"], proxies, offer) if cfg["initiate"] else []
        deadline = time.monotonic() + float(cfg["duration"])
        while True:
            for event in events:
                _emit(_event_json(event))
            left = deadline - time.monotonic()
            if left <= 0:
                break
            events = adapter.poll(min(left, 1.0))
        _emit({"event": "exit", "dropped": adapter.engine.dropped,
               "sent": adapter.sent, "received": adapter.received})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
