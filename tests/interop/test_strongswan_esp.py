"""ESP traffic between an emulated IOS router and a real strongSwan, counters compared.

The namespaces, charon and its configuration are those of ``test_strongswan.py``. In the
iosim namespace, ``iosim_peer.py`` runs in router mode: an emulated R1 configured with IOS
commands (ISAKMP policy aes 256 / sha256 / group 14, a transform set, crypto ACL 101 and a
crypto map on GigabitEthernet0/0, the LAN 192.168.1.0/24 on GigabitEthernet0/1) whose
outside interface is bridged (``iosim.net.udp_bridge``) to the namespace's real address
10.99.0.1, UDP 500/4500. charon's kernel-libipsec carries the inner traffic on its TUN
device ``ipsec0``: the test routes iosim's LAN through it (charon runs with
``install_routes = no``) with 192.168.2.1, on charon's loopback, as the source.

Pings go both ways through ESP in UDP 4500 (RFC 3948), and afterwards strongSwan's CHILD_SA
packet counters (``swanctl --list-sas --raw``) must equal iosim's ``#pkts encaps`` /
``#pkts decaps`` of ``show crypto ipsec sa`` exactly. The first echo of a ping that triggers
IKE is dropped by iosim before any SA exists (``.!!!!``), so it is counted on neither side.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_strongswan import (
    G14,
    IOSIM_ADDR,
    PEER_SCRIPT,
    PSK,
    SWAN_ADDR,
    Charon,
    IosimPeer,
    Lab,
    running,
)
from test_strongswan import pytestmark as _swan_mark

pytestmark = _swan_mark

SWAN_INSIDE = "192.168.2.1"  # on charon's loopback
IOSIM_INSIDE = "192.168.1.1"  # R1 GigabitEthernet0/1
PC1 = "192.168.1.10"
COMMAND_TIMEOUT = 30.0


def router_config(*, pfs: bool) -> list[str]:
    """R1's startup-config: a site-to-site crypto map toward strongSwan."""
    return [
        "hostname R1",
        "crypto isakmp policy 10",
        " encr aes 256",
        " hash sha256",
        " authentication pre-share",
        " group 14",
        f"crypto isakmp key {PSK} address {SWAN_ADDR}",
        "crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac",
        " mode tunnel",
        "access-list 101 permit ip 192.168.1.0 0.0.0.255 192.168.2.0 0.0.0.255",
        "crypto map CMAP 10 ipsec-isakmp",
        f" set peer {SWAN_ADDR}",
        " set transform-set TS",
        *([" set pfs group14"] if pfs else []),
        " match address 101",
        "interface GigabitEthernet0/0",
        f" ip address {IOSIM_ADDR} 255.255.255.0",
        " crypto map CMAP",
        " no shutdown",
        "interface GigabitEthernet0/1",
        f" ip address {IOSIM_INSIDE} 255.255.255.0",
        " no shutdown",
        f"ip route 0.0.0.0 0.0.0.0 {SWAN_ADDR}",
    ]


@dataclass
class RouterPeer(IosimPeer):
    """``iosim_peer.py`` in router mode: console lines in on stdin, JSON output lines out."""

    def start_router(self, config: list[str], duration: float = 120) -> None:
        cfg = {"mode": "router", "local": IOSIM_ADDR, "peer": SWAN_ADDR, "config": config,
               "duration": duration}
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.lab.ns_iosim, sys.executable, str(PEER_SCRIPT),
             json.dumps(cfg)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ready = self.wait_for(lambda e: e["event"] in ("ready", "boot_errors"), 15)
        assert ready is not None and ready["event"] == "ready", (ready, self.events)

    def console(self, line: str, timeout: float = COMMAND_TIMEOUT) -> str:
        """Run one console line on the emulated lab; its output."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        seen = len(self.events)

        def answered(e: dict[str, object]) -> bool:
            # by identity: an earlier answer to the same line may be equal, word for word
            return e["event"] == "output" and e["command"] == line \
                and any(e is later for later in self.events[seen:])

        out = self.wait_for(answered, timeout)
        assert out is not None, (line, self.events)
        return str(out["output"])


# A ping from a given source address, with Python's raw ICMP socket (iputils may be absent).
PINGER = r"""
import json, os, socket, struct, sys, time
src, dst, count, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF); s += s >> 16
    return ~s & 0xFFFF
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock.bind((src, 0))
ident, marks, data = os.getpid() & 0xFFFF, "", b"iosim-strongswan" * 3 + b"abcdefgh"
for seq in range(count):
    echo = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    sock.sendto(echo[:2] + struct.pack("!H", checksum(echo)) + echo[4:], (dst, 0))
    deadline, mark = time.monotonic() + timeout, "."
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            reply, (host, _) = sock.recvfrom(4096)
        except socket.timeout:
            break
        at = (reply[0] & 15) * 4
        kind, _, _, rid, rseq = struct.unpack_from("!BBHHH", reply, at)
        if host == dst and kind == 0 and (rid, rseq) == (ident, seq):
            mark = "!"
            break
    marks += mark
print(json.dumps({"marks": marks}))
"""


def swan_ping(lab: Lab, dst: str, count: int = 5, timeout: float = 2.0) -> str:
    """Ping ``dst`` from strongSwan's inside address; one mark per echo (``!`` or ``.``)."""
    r = subprocess.run(["ip", "netns", "exec", lab.ns_swan, sys.executable, "-c", PINGER,
                        SWAN_INSIDE, dst, str(count), str(timeout)],
                       capture_output=True, text=True, timeout=count * timeout + 15)
    assert r.returncode == 0, r.stderr
    return str(json.loads(r.stdout)["marks"])


def iosim_counters(peer: RouterPeer) -> tuple[int, int]:
    """(#pkts encaps, #pkts decaps) of R1's ``show crypto ipsec sa``."""
    out = peer.console("show crypto ipsec sa")
    enc = re.findall(r"#pkts encaps: (\d+), #pkts encrypt: (\d+), #pkts digest: (\d+)", out)
    dec = re.findall(r"#pkts decaps: (\d+), #pkts decrypt: (\d+), #pkts verify: (\d+)", out)
    assert len(enc) == len(dec) == 1, out
    assert len(set(enc[0])) == len(set(dec[0])) == 1, out  # every stage counted each packet
    return int(enc[0][0]), int(dec[0][0])


def swan_counters(charon: Charon) -> tuple[int, int]:
    """(packets-in, packets-out) of strongSwan's CHILD_SA ``net``."""
    out = charon.swanctl("--list-sas", "--raw")
    child = re.findall(r"net-\d+ \{name=net [^}]*state=INSTALLED[^}]*\}", out)
    assert len(child) == 1, out
    pin = re.search(r"\bpackets-in=(\d+)", child[0])
    pout = re.search(r"\bpackets-out=(\d+)", child[0])
    assert pin and pout and "encap=yes" in child[0], out
    return int(pin.group(1)), int(pout.group(1))


def assert_counters_agree(peer: RouterPeer, charon: Charon, packets: int) -> None:
    """strongSwan's in = iosim's encaps, strongSwan's out = iosim's decaps, = ``packets``."""
    encaps, decaps = iosim_counters(peer)
    swan_in, swan_out = swan_counters(charon)
    assert (swan_in, swan_out) == (encaps, decaps) == (packets, packets), \
        (swan_in, swan_out, encaps, decaps, charon.log[-3000:])


@pytest.fixture
def esp_lab(tmp_path: Path) -> Iterator[tuple[Lab, Charon, RouterPeer]]:
    with running(tmp_path, RouterPeer) as parts:
        yield parts


def _start(lab: Lab, charon: Charon, peer: RouterPeer, *, pfs: bool) -> None:
    if lab.kernel_esp:
        pytest.skip("this host has kernel ESP: charon would not use kernel-libipsec")
    esp = f"{G14.esp}-{G14.modp}" if pfs else G14.esp
    charon.start(ike=G14.ike, esp=esp, psk=PSK)
    # kernel-libipsec's TUN device carries the inner packets; charon installs no routes here
    lab.ip(lab.ns_swan, "route", "add", "192.168.1.0/24", "dev", "ipsec0", "src", SWAN_INSIDE)
    peer.start_router(router_config(pfs=pfs))


def _marks(output: str) -> str:
    lines = [ln for ln in output.splitlines() if ln and set(ln) <= set("!.UQM&")]
    assert len(lines) == 1, output
    return lines[0]


def test_iosim_initiates_then_both_ping(esp_lab: tuple[Lab, Charon, RouterPeer]) -> None:
    """R1's ping triggers IKE (first echo lost), then ESP-in-UDP both ways, counters agree."""
    lab, charon, peer = esp_lab
    _start(lab, charon, peer, pfs=True)
    out = peer.console(f"ping {SWAN_INSIDE} source {IOSIM_INSIDE} repeat 5")
    assert _marks(out) == ".!!!!", (out, charon.log[-3000:])
    assert "Success rate is 80 percent (4/5)" in out, out
    sas = charon.list_sas()
    assert re.search(r"net: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP, "
                     r"ESP:AES_CBC-256/HMAC_SHA2_256_128/MODP_2048", sas), sas
    assert_counters_agree(peer, charon, 4)
    # strongSwan's inside pings R1's inside address, answered through the same SA pair
    assert swan_ping(lab, IOSIM_INSIDE) == "!!!!!"
    assert_counters_agree(peer, charon, 4 + 5)
    # and a host behind R1: the inner packets are forwarded, not only answered by R1
    assert swan_ping(lab, PC1, count=3) == "!!!"
    assert_counters_agree(peer, charon, 4 + 5 + 3)


def test_strongswan_initiates_then_both_ping(esp_lab: tuple[Lab, Charon, RouterPeer]) -> None:
    """strongSwan brings the tunnel up; its pings and R1's are all answered, counters agree."""
    lab, charon, peer = esp_lab
    _start(lab, charon, peer, pfs=False)
    out = charon.swanctl("--initiate", "--child", "net", "--timeout", "20", check=False)
    assert "initiate completed successfully" in out, (out, charon.log[-3000:])
    assert swan_ping(lab, IOSIM_INSIDE) == "!!!!!"  # no packet lost: the SA pair is up
    assert_counters_agree(peer, charon, 5)
    out = peer.console(f"ping {SWAN_INSIDE} source GigabitEthernet0/1 repeat 10")
    assert _marks(out) == "!" * 10, out
    assert_counters_agree(peer, charon, 5 + 10)
    # PC1, a host behind R1, pings too: R1 forwards its packets into the tunnel
    peer.console("@PC1")
    out = peer.console(f"ping {SWAN_INSIDE} repeat 3")
    assert _marks(out) == "!!!", out
    peer.console("@R1")
    assert_counters_agree(peer, charon, 5 + 10 + 3)
    isakmp = peer.console("show crypto isakmp sa")  # R1 responded: dst is R1 itself
    assert re.search(rf"{IOSIM_ADDR}\s+{SWAN_ADDR}\s+QM_IDLE\s+\d+ ACTIVE", isakmp), isakmp
