"""strongSwan (charon 5.9, IKEv1 aggressive mode, pre-shared key) initiating to iosim's engine
as responder, over real UDP sockets in two network namespaces.

The lab is test_strongswan.py's (namespaces, veth, a private charon with kernel-libipsec or the
kernel's XFRM); only the connection says ``aggressive = yes``. The iosim side is this file run
as a script inside the iosim namespace (``python test_strongswan_aggressive.py '<json>'``): an
``IkeEngine`` on a ``UdpIkeAdapter``, created with the ``aggressive_mode_disabled`` flag of the
test (``crypto isakmp aggressive-mode disable``), printing its events as JSON lines like
iosim_peer.py.

Checks: strongSwan lists the IKE SA ESTABLISHED and the CHILD_SA INSTALLED, with the same SPIs
and keys as iosim's pair; iosim saw AM1..AM3 (its ISAKMP SA is flagged aggressive); with
aggressive mode disabled nothing is established on either side and iosim reports why.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_strongswan import (
    _REASON,
    G14,
    IOSIM_NET,
    PSK,
    SWAN_NET,
    TIMEOUT,
    Charon,
    IosimPeer,
    Lab,
    Suite,
    _check_pair,
    _esp,
    _established,
    running,
)

pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")

FAIL_WAIT = 6.0


class AggressivePeer(IosimPeer):
    """This file, as a script, in the iosim namespace."""

    def start_responder(self, suite: Suite, *, aggressive_disabled: bool) -> None:
        from test_strongswan import IOSIM_ADDR, SWAN_ADDR
        cfg = {
            "local": IOSIM_ADDR, "peer": SWAN_ADDR, "psk": PSK,
            "policies": [list(suite.policy)], "transform_set": list(suite.transform_set),
            "pfs_group": None, "proxies": [*IOSIM_NET, *SWAN_NET], "duration": 120,
            "aggressive_mode_disabled": aggressive_disabled,
        }
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.lab.ns_iosim, sys.executable, str(Path(__file__)),
             json.dumps(cfg)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.wait_for(lambda e: e["event"] == "ready", 15)


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[tuple[Lab, Charon, AggressivePeer]]:
    import test_strongswan
    conf = test_strongswan.SWANCTL_CONF
    assert "aggressive = no" in conf
    monkeypatch.setattr(test_strongswan, "SWANCTL_CONF",
                        conf.replace("aggressive = no", "aggressive = yes"))
    with running(tmp_path, AggressivePeer) as parts:
        yield parts


def test_strongswan_aggressive_initiator(lab: tuple[Lab, Charon, AggressivePeer]) -> None:
    _, charon, peer = lab
    charon.start(ike=G14.ike, esp=_esp(G14, False), psk=PSK)
    peer.start_responder(G14, aggressive_disabled=False)
    out = charon.swanctl("--initiate", "--child", "net", "--timeout", "20", check=False)
    ev = peer.wait_for(_established, TIMEOUT)
    assert ev is not None, (peer.events, out, charon.log)
    assert "initiating Aggressive Mode IKE_SA" in charon.log, charon.log
    (p1,) = [e for e in peer.events if e["event"] == "Phase1Established"]
    states = [e["new"] for e in peer.events if e["event"] == "StateChanged"]
    assert states[:3] == ["IKE_R_AM1", "IKE_R_AM1", "IKE_R_AM2"], states
    assert "IKE_P1_COMPLETE" in states
    sas = charon.list_sas()
    assert re.search(r"iosim: #\d+, ESTABLISHED, IKEv1", sas), (sas, charon.log)
    assert G14.swan_ike_text in sas, sas
    _check_pair(ev, charon, G14, False, iosim_initiated=False)
    assert "initiate completed successfully" in out, out
    assert p1["conn_id"] == 1001


def test_strongswan_aggressive_refused_when_disabled(
        lab: tuple[Lab, Charon, AggressivePeer]) -> None:
    _, charon, peer = lab
    charon.start(ike=G14.ike, esp=_esp(G14, False), psk=PSK)
    peer.start_responder(G14, aggressive_disabled=True)
    out = charon.swanctl("--initiate", "--child", "net", "--timeout", str(int(FAIL_WAIT)),
                         check=False)
    ev = peer.wait_for(lambda e: e["event"] in ("Phase1Established", "Phase2Established",
                                                 "Phase1Failed"), FAIL_WAIT)
    assert ev is not None and ev["event"] == "Phase1Failed", (peer.events, out, charon.log)
    assert "Aggressive mode is disabled" in str(ev["reason"])
    assert "initiate completed successfully" not in out, out
    sas = charon.list_sas()
    assert "ESTABLISHED" not in sas and "INSTALLED" not in sas, sas


# --- the iosim side, run inside its namespace ---------------------------------------------------


def _serve(argv: list[str]) -> int:
    import os
    import time

    from iosim_peer import _emit, _event_json  # also puts the project root on sys.path

    from iosim.ike.engine import IkeEngine, IkePolicy, Phase2Offer, ProxyIdentity
    from iosim.ike.udp_adapter import UdpIkeAdapter, address_int

    cfg = json.loads(argv[1])
    policies = [IkePolicy(p[0], p[1], p[2], p[3], "pre-share", p[4], p[5])
                for p in cfg["policies"]]
    offer = Phase2Offer((tuple(cfg["transform_set"]),), "tunnel", cfg["pfs_group"], 3600,
                        4608000)

    def select(_peer: int, _proxies: ProxyIdentity, offers: list[Phase2Offer]
               ) -> Phase2Offer | None:
        for o in offers:
            if offer.transform_sets[0] in o.transform_sets \
                    and o.mode == offer.mode and o.pfs_group == offer.pfs_group:
                return Phase2Offer(offer.transform_sets, offer.mode, offer.pfs_group,
                                   min(o.lifetime_seconds, offer.lifetime_seconds),
                                   min(o.lifetime_kilobytes, offer.lifetime_kilobytes))
        return None

    peer = address_int(cfg["peer"])
    disabled = bool(cfg["aggressive_mode_disabled"])
    engine = IkeEngine(address_int(cfg["local"]), rand=os.urandom, policies=lambda: policies,
                       psk_for=lambda p: cfg["psk"] if p == peer else None,
                       select_phase2=select, nat_traversal=True,
                       aggressive_mode_disabled=lambda: disabled)
    with UdpIkeAdapter(engine, cfg["local"]) as adapter:
        _emit({"event": "ready"})
        deadline = time.monotonic() + float(cfg["duration"])
        while (left := deadline - time.monotonic()) > 0:
            for event in adapter.poll(min(left, 1.0)):
                _emit(_event_json(event))
        _emit({"event": "exit", "dropped": engine.dropped})
    return 0


if __name__ == "__main__":
    sys.exit(_serve(sys.argv))
