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
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root

from iosim.ike.engine import IkePolicy, Phase2Offer, ProxyIdentity  # noqa: E402
from iosim.ike.udp_adapter import UdpIkeAdapter  # noqa: E402


def _net(text: str, prefix: int) -> tuple[int, int]:
    net = ipaddress.IPv4Network(f"{text}/{prefix}")
    return int(net.network_address), int(net.netmask)


def _emit(obj: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(obj, default=lambda b: b.hex()) + "\n")
    sys.stdout.flush()


def _event_json(event: object) -> dict[str, object]:
    body = dataclasses.asdict(event) if dataclasses.is_dataclass(event) else {}  # type: ignore[arg-type]
    return {"event": type(event).__name__, **body}


def main(argv: list[str]) -> int:
    cfg = json.loads(argv[1])
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
