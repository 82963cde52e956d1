"""iosim's IKEv1 engine against a real strongSwan (charon 5.9, IKEv1 main mode + quick mode,
pre-shared key) over real UDP sockets.

Two network namespaces joined by a veth pair: iosim (``iosim_peer.py`` running
``iosim.ike.udp_adapter`` over ``IkeEngine``) in namespace A at 10.99.0.1, charon in namespace
B at 10.99.0.2 with a private /run (``unshare -m`` + bind mount), its own strongswan.conf and
vici socket, and the kernel-libipsec backend (the kernel's XFRM is not needed). Each test starts
a fresh charon and a fresh iosim process, and removes both (by PID) and the namespaces after.

kernel-libipsec installs only UDP-encapsulated CHILD_SAs (RFC 3948), so without kernel ESP
charon "fakes a NAT situation" (NAT-D hashes that do not match): iosim's engine (created by
``UdpIkeAdapter.open`` with ``nat_traversal=True``) detects it, both sides float to UDP 4500
(RFC 3947) and quick mode negotiates UDP-Encapsulated-Tunnel; charon lists the CHILD_SA as
``INSTALLED, TUNNEL-in-UDP``. libipsec routes the remote subnet through its TUN device with a
source address from the local traffic selector, hence 192.168.2.1 on charon's loopback.

Needs root, iproute2 with ``ip netns``, util-linux ``unshare`` and strongSwan
(``/usr/lib/ipsec/charon``, ``swanctl``); the module is skipped otherwise.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

CHARON = Path("/usr/lib/ipsec/charon")
SWANCTL = shutil.which("swanctl") or "/usr/sbin/swanctl"
PEER_SCRIPT = Path(__file__).with_name("iosim_peer.py")
IOSIM_ADDR = "10.99.0.1"
SWAN_ADDR = "10.99.0.2"
IOSIM_NET = ("192.168.1.0", 24)  # behind iosim
SWAN_NET = ("192.168.2.0", 24)  # behind strongSwan
PSK = "cisco123"
TIMEOUT = 15.0  # seconds for an exchange that should succeed
FAIL_WAIT = 6.0  # seconds during which an exchange that should fail must not establish


def _skip_reason() -> str | None:
    if not sys.platform.startswith("linux"):
        return "needs Linux network namespaces"
    if os.geteuid() != 0:
        return "needs root (ip netns, veth, bind mounts)"
    if shutil.which("ip") is None or shutil.which("unshare") is None:
        return "needs iproute2 (ip) and util-linux (unshare)"
    if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        return "`ip netns` is not available"
    if not CHARON.exists() or not Path(SWANCTL).exists():
        return ("strongSwan is not installed (apt-get install strongswan-charon "
                "strongswan-swanctl libstrongswan-standard-plugins libcharon-extra-plugins)")
    return None


_REASON = _skip_reason()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


# --- suites -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suite:
    name: str
    ike: str  # strongSwan proposal
    policy: tuple[int, str, int, str, int, int]  # iosim IkePolicy fields (no auth)
    esp: str  # strongSwan esp proposal without the DH group
    transform_set: tuple[str, ...]  # iosim transform set
    group: int
    modp: str
    swan_ike_text: str  # how `swanctl --list-sas` prints the IKE algorithms
    swan_esp_text: str


G14 = Suite("aes256-sha256-modp2048", "aes256-sha256-modp2048",
            (10, "aes", 256, "sha256", 14, 86400), "aes256-sha256",
            ("esp-aes 256", "esp-sha256-hmac"), 14, "modp2048",
            "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048",
            "AES_CBC-256/HMAC_SHA2_256_128")
G5 = Suite("aes128-sha1-modp1536", "aes128-sha1-modp1536",
           (10, "aes", 128, "sha", 5, 86400), "aes128-sha1",
           ("esp-aes", "esp-sha-hmac"), 5, "modp1536",
           "AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1536",
           "AES_CBC-128/HMAC_SHA1_96")


# --- the lab ------------------------------------------------------------------------------------


def _run(*cmd: str, check: bool = True, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check, timeout=timeout)


@dataclass
class Lab:
    """The two namespaces and the veth pair between them."""

    ns_iosim: str
    ns_swan: str
    kernel_esp: bool = False  # the kernel takes ESP states (XFRM); else charon uses libipsec

    @classmethod
    def create(cls) -> Lab:
        tag = f"{os.getpid() % 100000}"
        lab = cls(f"iosimA-{tag}", f"iosimB-{tag}")
        veth_a, veth_b = f"isv{tag}a", f"isv{tag}b"
        try:
            _run("ip", "netns", "add", lab.ns_iosim)
            _run("ip", "netns", "add", lab.ns_swan)
            _run("ip", "link", "add", veth_a, "netns", lab.ns_iosim, "type", "veth",
                 "peer", "name", veth_b, "netns", lab.ns_swan)
            for ns, dev, addr in ((lab.ns_iosim, veth_a, IOSIM_ADDR),
                                  (lab.ns_swan, veth_b, SWAN_ADDR)):
                lab.ip(ns, "addr", "add", f"{addr}/24", "dev", dev)
                lab.ip(ns, "link", "set", dev, "up")
                lab.ip(ns, "link", "set", "lo", "up")
            # kernel-libipsec routes the remote subnet through its TUN device with a source
            # address inside the local traffic selector: give charon one (or it refuses the SPD)
            lab.ip(lab.ns_swan, "addr", "add", f"{SWAN_NET[0][:-1]}1/32", "dev", "lo")
            lab.kernel_esp = _run(
                "ip", "-n", lab.ns_swan, "xfrm", "state", "add", "src", IOSIM_ADDR, "dst",
                SWAN_ADDR, "proto", "esp", "spi", "0x100", "mode", "tunnel",
                "enc", "cbc(aes)", "0x" + "11" * 16,
                "auth-trunc", "hmac(sha256)", "0x" + "22" * 32, "128", check=False,
            ).returncode == 0
            lab.ip(lab.ns_swan, "xfrm", "state", "flush")
        except BaseException:
            lab.destroy()
            raise
        return lab

    def ip(self, ns: str, *args: str) -> None:
        _run("ip", "-n", ns, *args)

    def destroy(self) -> None:
        for ns in (self.ns_iosim, self.ns_swan):  # deleting a namespace deletes its veth end
            _run("ip", "netns", "delete", ns, check=False)


def _stop(proc: subprocess.Popen[str] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


STRONGSWAN_CONF = """\
charon {{
  load = random nonce openssl aes sha1 sha2 hmac gmp kdf pem pkcs1 x509 pubkey {backend} socket-default vici updown
  port = 500
  port_nat_t = 4500
  install_routes = no
  retransmit_timeout = 1.0
  retransmit_base = 1.4
  retransmit_tries = 3
  plugins {{
    vici {{ socket = unix://{dir}/charon.vici }}
  }}
  filelog {{
    charon {{
      path = {dir}/charon.log
      time_format = %H:%M:%S
      default = 1
      ike = 2
      cfg = 1
      enc = 1
      chd = 4
      flush_line = yes
    }}
  }}
  syslog {{ daemon {{ default = -1 }} }}
}}
"""

SWANCTL_CONF = """\
connections {{
  iosim {{
    version = 1
    aggressive = no
    local_addrs = {swan}
    remote_addrs = {iosim}
    proposals = {ike}
    encap = no
    mobike = no
    dpd_delay = 0
    rekey_time = 86400s
    reauth_time = 0
    local {{
      auth = psk
      id = {swan}
    }}
    remote {{
      auth = psk
      id = {iosim}
    }}
    children {{
      net {{
        mode = tunnel
        local_ts = {swan_net}
        remote_ts = {iosim_net}
        esp_proposals = {esp}
        life_time = 3600s
        rekey_time = 3300s
        start_action = none
      }}
    }}
  }}
}}
secrets {{
  ike-iosim {{
    id-a = {swan}
    id-b = {iosim}
    secret = "{psk}"
  }}
}}
"""


@dataclass
class Charon:
    """One charon in the strongSwan namespace, with its own /run, config and vici socket."""

    lab: Lab
    dir: Path
    proc: subprocess.Popen[str] | None = None

    @property
    def uri(self) -> str:
        return f"unix://{self.dir}/charon.vici"

    @property
    def log(self) -> str:
        path = self.dir / "charon.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, *, ike: str, esp: str, psk: str) -> None:
        (self.dir / "run").mkdir(parents=True, exist_ok=True)
        conf = self.dir / "strongswan.conf"
        # kernel-libipsec must come before kernel-netlink to be the IPsec backend
        backend = "kernel-netlink" if self.lab.kernel_esp else "kernel-libipsec kernel-netlink"
        conf.write_text(STRONGSWAN_CONF.format(dir=self.dir, backend=backend))
        (self.dir / "swanctl.conf").write_text(SWANCTL_CONF.format(
            swan=SWAN_ADDR, iosim=IOSIM_ADDR, ike=ike, esp=esp, psk=psk,
            swan_net="/".join(map(str, SWAN_NET)), iosim_net="/".join(map(str, IOSIM_NET))))
        env = {**os.environ, "STRONGSWAN_CONF": str(conf)}
        # ip netns exec, unshare and sh all exec: the PID we get is charon's.
        with open(self.dir / "charon.stderr", "w") as err:  # charon keeps its own copy
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.lab.ns_swan, "unshare", "-m", "--propagation",
                 "private", "sh", "-c", f'mount --bind "{self.dir}/run" /run && exec "{CHARON}"'],
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                text=True)
        deadline = time.monotonic() + 15
        while not (self.dir / "charon.vici").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"charon did not start:\n{self.log}\n"
                                   f"{(self.dir / 'charon.stderr').read_text()}")
            time.sleep(0.05)
        out = self.swanctl("--load-all", "--file", str(self.dir / "swanctl.conf"))
        assert "successfully loaded 1 connections" in out, out

    def swanctl(self, *args: str, check: bool = True, timeout: float = 30.0) -> str:
        env = {**os.environ, "STRONGSWAN_CONF": str(self.dir / "strongswan.conf")}
        r = subprocess.run(["ip", "netns", "exec", self.lab.ns_swan, SWANCTL, *args,
                            "--uri", self.uri],
                           capture_output=True, text=True, env=env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"swanctl {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
        return r.stdout + r.stderr

    def list_sas(self) -> str:
        return self.swanctl("--list-sas")

    def stop(self) -> None:
        _stop(self.proc)


@dataclass
class IosimPeer:
    """``iosim_peer.py`` in the iosim namespace; events arrive as JSON lines."""

    lab: Lab
    proc: subprocess.Popen[str] | None = None
    events: list[dict[str, object]] = field(default_factory=list)
    _buf: bytes = b""

    def start(self, suite: Suite, *, psk: str, pfs: bool, initiate: bool,
              policy: tuple[int, str, int, str, int, int] | None = None) -> None:
        p = policy or suite.policy
        cfg = {
            "local": IOSIM_ADDR, "peer": SWAN_ADDR, "psk": psk,
            "policies": [list(p)], "transform_set": list(suite.transform_set),
            "pfs_group": suite.group if pfs else None,
            "proxies": [*IOSIM_NET, *SWAN_NET], "initiate": initiate, "duration": 120,
        }
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.lab.ns_iosim, sys.executable, str(PEER_SCRIPT),
             json.dumps(cfg)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.wait_for(lambda e: e["event"] == "ready", 15)

    def wait_for(self, done: object, timeout: float) -> dict[str, object] | None:
        """Read events until ``done(event)`` or ``timeout``; returns the matching event."""
        assert self.proc is not None and self.proc.stdout is not None
        for e in self.events:
            if done(e):  # type: ignore[operator]
                return e
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                if not sel.select(left):
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    err = self.proc.stderr.read() if self.proc.stderr else b""
                    raise AssertionError(f"iosim peer exited: {err.decode(errors='replace')}")
                self._buf += chunk
                while b"\n" in self._buf:
                    line, self._buf = self._buf.split(b"\n", 1)
                    e = json.loads(line)
                    self.events.append(e)
                    if done(e):  # type: ignore[operator]
                        return e
        finally:
            sel.close()
        return None

    def names(self) -> list[str]:
        return [str(e["event"]) for e in self.events]

    def stop(self) -> None:
        _stop(self.proc)


class _Stoppable(Protocol):
    def stop(self) -> None: ...


P = TypeVar("P", bound=_Stoppable)


@contextmanager
def running(tmp_path: Path, make_peer: Callable[[Lab], P]) -> Iterator[tuple[Lab, Charon, P]]:
    """Two fresh namespaces, a charon in one and an iosim peer in the other; everything
    stopped (by PID) and removed afterwards."""
    net = Lab.create()
    charon = Charon(net, tmp_path / "swan")
    peer = make_peer(net)
    try:
        yield net, charon, peer
    finally:
        try:
            peer.stop()
            charon.stop()
        finally:
            net.destroy()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[Lab, Charon, IosimPeer]]:
    with running(tmp_path, IosimPeer) as parts:
        yield parts


# --- checks -------------------------------------------------------------------------------------


def _established(e: dict[str, object]) -> bool:
    """The end of a negotiation, either way."""
    return e["event"] in ("Phase2Established", "Phase1Failed", "Phase2Failed")


LIBIPSEC_UDP_ONLY = "IPsec SA: only UDP encapsulation is supported"


def _charon_child_keys(log: str) -> tuple[int, int, dict[str, bytes]]:
    """From a charon log at ``chd = 4``: strongSwan's inbound SPI, outbound SPI and the ESP keys
    ("encryption initiator key" protects initiator -> responder traffic) of the last quick mode.
    """
    keys: dict[str, bytes] = {}
    lines = log.splitlines()
    for i, line in enumerate(lines):
        m = re.search(r"\[CHD\] (encryption|integrity) (initiator|responder) key => (\d+) bytes",
                      line)
        if not m:
            continue
        data = b""
        for dump in lines[i + 1:]:
            d = re.search(r"\[CHD\]\s+\d+: ((?:[0-9A-F]{2} )+)", dump)
            if not d:
                break
            data += bytes.fromhex(d.group(1))
        assert len(data) == int(m.group(3)), line
        keys[f"{m.group(1)} {m.group(2)}"] = data
    spi_in = re.findall(r"adding inbound ESP SA\n.*SPI 0x([0-9a-f]{8})", log)
    spi_out = re.findall(r"adding outbound ESP SA\n.*SPI 0x([0-9a-f]{8})", log)
    assert spi_in and spi_out and len(keys) == 4, log
    return int(spi_in[-1], 16), int(spi_out[-1], 16), keys


def _swan_installed(charon: Charon, want_esp: str, udp_encap: bool, *, timeout: float = 5.0
                    ) -> tuple[int, int]:
    """Wait until strongSwan lists the CHILD_SA INSTALLED (``TUNNEL-in-UDP`` when ESP is
    UDP-encapsulated); returns its (inbound, outbound) SPIs as ``swanctl --list-sas`` prints
    them."""
    deadline = time.monotonic() + timeout
    while True:
        out = charon.list_sas()
        child = re.search(r"net: #\d+, reqid \d+, INSTALLED, TUNNEL(-in-UDP)?, ESP:(\S+)", out)
        spis = re.search(r"\bin\s+([0-9a-f]{8}),.*\n\s+out\s+([0-9a-f]{8})", out)
        if child and spis:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"strongSwan has no installed CHILD_SA:\n{out}\n{charon.log}")
        time.sleep(0.1)
    assert re.search(r"iosim: #\d+, ESTABLISHED, IKEv1", out), out
    assert child.group(2) == want_esp, out
    assert bool(child.group(1)) == udp_encap, out
    return int(spis.group(1), 16), int(spis.group(2), 16)


def _check_phase1(charon: Charon, peer: IosimPeer, suite: Suite) -> None:
    assert "Phase1Established" in peer.names(), (peer.events, charon.log)
    out = charon.list_sas()
    assert re.search(r"iosim: #\d+, ESTABLISHED, IKEv1", out), (out, charon.log)
    assert suite.swan_ike_text in out, out


def _check_pair(ev: dict[str, object], charon: Charon, suite: Suite, pfs: bool,
                iosim_initiated: bool) -> None:
    """iosim's SA pair against strongSwan's CHILD_SA: algorithms, SPIs, keys, installation."""
    assert ev["event"] == "Phase2Established", (ev, charon.log)
    sa = ev["sa"]
    assert isinstance(sa, dict)
    assert sa["pfs_group"] == (suite.group if pfs else None)
    assert (sa["encryption"], sa["integrity"], sa["mode"]) == (*suite.transform_set, "tunnel")
    # Without kernel ESP, charon's kernel-libipsec takes only UDP-encapsulated SAs, so charon
    # fakes a NAT (NAT-D mismatch): both sides float to 4500 and negotiate
    # UDP-Encapsulated-Tunnel (RFC 3947). With kernel ESP there is no NAT and plain tunnel mode.
    assert sa["udp_encap"] is (not charon.lab.kernel_esp), (sa, charon.log)
    want_esp = suite.swan_esp_text + (f"/MODP_{suite.modp[4:]}" if pfs else "")
    assert f"selected proposal: ESP:{want_esp.replace('-', '_')}/NO_EXT_SEQ" in charon.log, \
        charon.log
    # strongSwan's inbound SPI is iosim's outbound one, and the keys agree byte for byte
    swan_in, swan_out, keys = _charon_child_keys(charon.log)
    assert (swan_in, swan_out) == (sa["spi_out"], sa["spi_in"]), (hex(swan_in), sa)
    i_to_r = keys["encryption initiator"] + keys["integrity initiator"]
    r_to_i = keys["encryption responder"] + keys["integrity responder"]
    mine_out, mine_in = bytes.fromhex(str(sa["keys_out"])), bytes.fromhex(str(sa["keys_in"]))
    assert (mine_out, mine_in) == ((i_to_r, r_to_i) if iosim_initiated else (r_to_i, i_to_r))
    assert LIBIPSEC_UDP_ONLY not in charon.log, charon.log
    assert (swan_in, swan_out) == _swan_installed(charon, want_esp, bool(sa["udp_encap"]))


CASES = [pytest.param(s, pfs, id=f"{s.name}-{'pfs' if pfs else 'nopfs'}")
         for s in (G14, G5) for pfs in (True, False)]


def _esp(suite: Suite, pfs: bool) -> str:
    return f"{suite.esp}-{suite.modp}" if pfs else suite.esp


# --- iosim initiates ----------------------------------------------------------------------------


@pytest.mark.parametrize(("suite", "pfs"), CASES)
def test_iosim_initiator(lab: tuple[Lab, Charon, IosimPeer], suite: Suite, pfs: bool) -> None:
    _, charon, peer = lab
    charon.start(ike=suite.ike, esp=_esp(suite, pfs), psk=PSK)
    peer.start(suite, psk=PSK, pfs=pfs, initiate=True)
    ev = peer.wait_for(_established, TIMEOUT)
    assert ev is not None, (peer.events, charon.log)
    _check_phase1(charon, peer, suite)
    if not charon.lab.kernel_esp:  # iosim floated to 4500 with MM5 (charon's faked NAT)
        assert "[4500]" in charon.log, charon.log
    _check_pair(ev, charon, suite, pfs, iosim_initiated=True)


# --- strongSwan initiates -----------------------------------------------------------------------


@pytest.mark.parametrize(("suite", "pfs"), CASES)
def test_iosim_responder(lab: tuple[Lab, Charon, IosimPeer], suite: Suite, pfs: bool) -> None:
    _, charon, peer = lab
    charon.start(ike=suite.ike, esp=_esp(suite, pfs), psk=PSK)
    peer.start(suite, psk=PSK, pfs=pfs, initiate=False)
    out = charon.swanctl("--initiate", "--child", "net", "--timeout", "20", check=False)
    ev = peer.wait_for(_established, TIMEOUT)
    assert ev is not None, (peer.events, out, charon.log)
    _check_phase1(charon, peer, suite)
    if not charon.lab.kernel_esp:  # charon floated to 4500 after MM4 (faked NAT)
        assert "[4500]" in charon.log, charon.log
    _check_pair(ev, charon, suite, pfs, iosim_initiated=False)
    assert "initiate completed successfully" in out, out


# --- failures -----------------------------------------------------------------------------------


def _assert_swan_not_established(charon: Charon) -> None:
    out = charon.list_sas()
    assert "ESTABLISHED" not in out and "INSTALLED" not in out, out


def test_wrong_psk_iosim_initiator(lab: tuple[Lab, Charon, IosimPeer]) -> None:
    _, charon, peer = lab
    charon.start(ike=G14.ike, esp=_esp(G14, False), psk=PSK)
    peer.start(G14, psk="wrong-key", pfs=False, initiate=True)
    ev = peer.wait_for(lambda e: e["event"] in ("Phase1Established", "Phase2Established",
                                                 "Phase1Failed"), FAIL_WAIT)
    assert ev is None or ev["event"] == "Phase1Failed", (peer.events, charon.log)
    _assert_swan_not_established(charon)
    # strongSwan saw HASH_I fail (or could not decrypt MM5 under its key)
    assert re.search(r"(integrity check failed|invalid HASH_V1|could not decrypt|"
                     r"message verification failed|AUTHENTICATION_FAILED|INVALID_HASH)",
                     charon.log), charon.log


def test_wrong_psk_iosim_responder(lab: tuple[Lab, Charon, IosimPeer]) -> None:
    _, charon, peer = lab
    charon.start(ike=G14.ike, esp=_esp(G14, False), psk=PSK)
    peer.start(G14, psk="wrong-key", pfs=False, initiate=False)
    out = charon.swanctl("--initiate", "--child", "net", "--timeout", str(int(FAIL_WAIT)),
                         check=False)
    ev = peer.wait_for(lambda e: e["event"] in ("Phase1Established", "Phase2Established",
                                                 "Phase1Failed"), FAIL_WAIT)
    assert ev is not None and ev["event"] == "Phase1Failed", (peer.events, out, charon.log)
    assert "initiate completed successfully" not in out, out
    _assert_swan_not_established(charon)


def test_proposal_mismatch_iosim_initiator(lab: tuple[Lab, Charon, IosimPeer]) -> None:
    """charon refuses iosim's MM1 with an unprotected NO_PROPOSAL_CHOSEN; iosim, as IOS,
    acts on no notify nothing authenticates: it rejects it and phase 1 goes on (its MM1
    retransmitted later), never established."""
    _, charon, peer = lab
    charon.start(ike=G14.ike, esp=_esp(G14, False), psk=PSK)
    peer.start(G14, psk=PSK, pfs=False, initiate=True, policy=G5.policy)
    ev = peer.wait_for(lambda e: e["event"] in ("Phase1Established", "Phase2Established",
                                                 "Phase1Failed", "NotifyRejected"), FAIL_WAIT)
    assert ev is not None and ev["event"] == "NotifyRejected", (peer.events, charon.log)
    assert ev["state"] == "IKE_I_MM1"
    assert "no proposal found" in charon.log or "NO_PROPOSAL_CHOSEN" in charon.log, charon.log
    _assert_swan_not_established(charon)


def test_proposal_mismatch_iosim_responder(lab: tuple[Lab, Charon, IosimPeer]) -> None:
    _, charon, peer = lab
    charon.start(ike=G14.ike, esp=_esp(G14, False), psk=PSK)
    peer.start(G14, psk=PSK, pfs=False, initiate=False, policy=G5.policy)
    out = charon.swanctl("--initiate", "--child", "net", "--timeout", str(int(FAIL_WAIT)),
                         check=False)
    ev = peer.wait_for(lambda e: e["event"] in ("Phase1Established", "Phase2Established",
                                                 "Phase1Failed"), FAIL_WAIT)
    assert ev is not None and ev["event"] == "Phase1Failed", (peer.events, out, charon.log)
    assert "not acceptable" in str(ev["reason"])
    assert "NO_PROPOSAL_CHOSEN" in charon.log, charon.log
    assert "initiate completed successfully" not in out, out
    _assert_swan_not_established(charon)
