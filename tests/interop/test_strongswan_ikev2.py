"""IKEv2 between an emulated IOS router (FlexVPN-style profile) and a real strongSwan.

The namespaces, charon and the router peer are those of ``test_strongswan.py`` and
``test_strongswan_esp.py``; charon here speaks IKEv2 (``version = 2``). R1 is configured
with ``crypto ikev2 proposal|policy|keyring|profile`` and a crypto map with
``set ikev2-profile``; its outside interface is bridged to real UDP 500/4500. Each test
brings the tunnel up one way (iosim or strongSwan initiating), pings both ways through
ESP-in-UDP (kernel-libipsec: charon fakes a NAT, both sides float to 4500, which is also
iosim's NAT detection at work), and compares strongSwan's CHILD_SA counters with iosim's
``show crypto ipsec sa``. strongSwan's own rekeys (``swanctl --rekey --child|--ike``) make
iosim answer CREATE_CHILD_SA as responder; short lifetimes (120 s on the IKEv2 profile and
the crypto map) make iosim itself rekey the CHILD_SA (with PFS) and the IKE SA at 90 %; a
profile with ``dpd 10 2 periodic`` makes it send liveness checks that charon answers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from labkit import marks
from test_strongswan import IOSIM_ADDR, PSK, SWAN_ADDR, Charon, Lab, running
from test_strongswan import pytestmark as _swan_mark
from test_strongswan_esp import (
    IOSIM_INSIDE,
    SWAN_INSIDE,
    RouterPeer,
    iosim_counters,
    swan_counters,
    swan_ping,
)

pytestmark = _swan_mark

SWANCTL_V2 = """\
connections {{
  iosim {{
    version = 2
    local_addrs = {swan}
    remote_addrs = {iosim}
    proposals = {ike}
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
        local_ts = 192.168.2.0/24
        remote_ts = 192.168.1.0/24
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


def router_config(*, proposal: list[str], pfs: str | None, dpd: bool = False,
                  lifetime: int | None = None) -> list[str]:
    """R1: an IKEv2 profile and a crypto map toward strongSwan."""
    return [
        "hostname R1",
        "crypto ikev2 proposal PROP", *[f" {line}" for line in proposal],
        "crypto ikev2 policy POL", " proposal PROP",
        "crypto ikev2 keyring KR", " peer SWAN", f"  address {SWAN_ADDR}",
        f"  pre-shared-key {PSK}",
        "crypto ikev2 profile PROF",
        f" match identity remote address {SWAN_ADDR} 255.255.255.255",
        " authentication remote pre-share", " authentication local pre-share",
        " keyring local KR", *([" dpd 10 2 periodic"] if dpd else []),
        *([f" lifetime {lifetime}"] if lifetime else []),
        "crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac", " mode tunnel",
        "crypto ipsec transform-set GCM esp-gcm 256", " mode tunnel",
        "access-list 101 permit ip 192.168.1.0 0.0.0.255 192.168.2.0 0.0.0.255",
        "crypto map CMAP 10 ipsec-isakmp", f" set peer {SWAN_ADDR}",
        " set transform-set TS GCM", " set ikev2-profile PROF",
        *([f" set pfs {pfs}"] if pfs else []), " match address 101",
        *([f" set security-association lifetime seconds {lifetime}"] if lifetime else []),
        "interface GigabitEthernet0/0", f" ip address {IOSIM_ADDR} 255.255.255.0",
        " crypto map CMAP", " no shutdown",
        "interface GigabitEthernet0/1", f" ip address {IOSIM_INSIDE} 255.255.255.0",
        " no shutdown",
        f"ip route 0.0.0.0 0.0.0.0 {SWAN_ADDR}",
    ]


CBC = (["encryption aes-cbc-256", "integrity sha256", "group 14"], "aes256-sha256-modp2048",
       "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048")
GCM19 = (["encryption aes-gcm-128", "prf sha256", "group 19"], "aes128gcm16-prfsha256-ecp256",
         "AES_GCM_16-128/PRF_HMAC_SHA2_256/ECP_256")
GCM20 = (["encryption aes-gcm-256", "prf sha384", "group 20"], "aes256gcm16-prfsha384-ecp384",
         "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384")


@pytest.fixture
def v2_lab(tmp_path: Path) -> Iterator[tuple[Lab, Charon, RouterPeer]]:
    with running(tmp_path, RouterPeer) as parts:
        yield parts


def _start(lab: Lab, charon: Charon, peer: RouterPeer, suite: tuple[list[str], str, str], *,
           esp: str, pfs: str | None, dpd: bool = False, lifetime: int | None = None) -> None:
    if lab.kernel_esp:
        pytest.skip("this host has kernel ESP: charon would not use kernel-libipsec")
    charon.start(ike=suite[1], esp=esp, psk=PSK)
    (charon.dir / "swanctl.conf").write_text(SWANCTL_V2.format(
        swan=SWAN_ADDR, iosim=IOSIM_ADDR, ike=suite[1], esp=esp, psk=PSK))
    out = charon.swanctl("--load-all", "--file", str(charon.dir / "swanctl.conf"))
    assert "successfully loaded 1 connections" in out, out
    lab.ip(lab.ns_swan, "route", "add", "192.168.1.0/24", "dev", "ipsec0", "src", SWAN_INSIDE)
    peer.start_router(router_config(proposal=suite[0], pfs=pfs, dpd=dpd, lifetime=lifetime),
                      duration=300 if lifetime else 120)


def _established(charon: Charon, ike_text: str) -> str:
    sas = charon.list_sas()
    assert re.search(r"iosim: #\d+, ESTABLISHED, IKEv2", sas), (sas, charon.log[-4000:])
    assert ike_text in sas, sas
    assert re.search(r"net: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP", sas), sas
    return sas


def _agree(peer: RouterPeer, charon: Charon, base: tuple[int, int] = (0, 0)) -> int:
    """strongSwan's current CHILD_SA counters equal what iosim counted since ``base``."""
    enc, dec = iosim_counters(peer)
    swan_in, swan_out = swan_counters(charon)
    assert (swan_in, swan_out) == (enc - base[0], dec - base[1]), \
        (swan_in, swan_out, enc, dec, base, charon.log[-3000:])
    return swan_in


def _marks(output: str) -> str:
    return "".join(marks(output))


@pytest.mark.parametrize(("suite", "esp", "pfs"), [
    pytest.param(CBC, "aes256-sha256-modp2048", "group14", id="cbc-g14-pfs"),
    pytest.param(GCM20, "aes256gcm16", None, id="gcm-g20-nopfs"),
])
def test_iosim_initiates(v2_lab: tuple[Lab, Charon, RouterPeer],
                         suite: tuple[list[str], str, str], esp: str, pfs: str | None) -> None:
    lab, charon, peer = v2_lab
    _start(lab, charon, peer, suite, esp=esp, pfs=pfs)
    out = peer.console(f"ping {SWAN_INSIDE} source {IOSIM_INSIDE} repeat 5")
    assert _marks(out) == ".!!!!", (out, charon.log[-4000:])
    _established(charon, suite[2])
    assert _agree(peer, charon) == 4
    assert swan_ping(lab, IOSIM_INSIDE) == "!!!!!"
    assert _agree(peer, charon) == 9
    sa = peer.console("show crypto ikev2 sa")
    assert re.search(rf"{IOSIM_ADDR}/4500\s+{SWAN_ADDR}/4500\s+none/none\s+READY", sa), sa
    assert "IKEv2 SA: local" in peer.console("show crypto session")
    # strongSwan announces no window (N(SET_WINDOW_SIZE)): the RFC's one, as IOS shows it
    assert "Local window:      5              Remote window:      1 " in peer.console(
        "show crypto ikev2 sa detailed")


@pytest.mark.parametrize(("suite", "esp", "pfs"), [
    pytest.param(GCM19, "aes256gcm16-ecp256", None, id="gcm-g19"),
    pytest.param(CBC, "aes256-sha256", None, id="cbc-g14-nopfs"),
])
def test_strongswan_initiates_and_rekeys(v2_lab: tuple[Lab, Charon, RouterPeer],
                                         suite: tuple[list[str], str, str], esp: str,
                                         pfs: str | None) -> None:
    lab, charon, peer = v2_lab
    _start(lab, charon, peer, suite, esp=esp, pfs=pfs)
    out = charon.swanctl("--initiate", "--child", "net", "--timeout", "20", check=False)
    assert "initiate completed successfully" in out, (out, charon.log[-4000:])
    _established(charon, suite[2])
    assert swan_ping(lab, IOSIM_INSIDE) == "!!!!!"
    assert _agree(peer, charon) == 5
    out = peer.console(f"ping {SWAN_INSIDE} source GigabitEthernet0/1 repeat 5")
    assert _marks(out) == "!!!!!", out
    assert _agree(peer, charon) == 10
    # a CHILD_SA rekey (CREATE_CHILD_SA with N(REKEY_SA)), iosim answering
    base = (10, 10)  # what both counted so far (asked again, the output would not change)
    out = charon.swanctl("--rekey", "--child", "net", check=False)
    assert "rekey completed successfully" in out, (out, charon.log[-4000:])
    time.sleep(1)
    assert swan_ping(lab, IOSIM_INSIDE, count=3) == "!!!"
    assert _agree(peer, charon, base) == 3  # the new CHILD_SA carried them, both ways
    # an IKE SA rekey: the children carry on under the new IKE SA
    out = charon.swanctl("--rekey", "--ike", "iosim", check=False)
    assert "rekey completed successfully" in out, (out, charon.log[-4000:])
    time.sleep(1)
    assert swan_ping(lab, IOSIM_INSIDE, count=3) == "!!!"
    sa = peer.console("show crypto ikev2 sa")
    assert sa.count("READY") == 1, sa
    assert "Remote window:      1 " in peer.console("show crypto ikev2 sa detailed")
    assert "CHILD count:1" in peer.console("show crypto ikev2 session") or \
        "CHILD count:2" in peer.console("show crypto ikev2 session")


def test_dpd_liveness_checks_answered(v2_lab: tuple[Lab, Charon, RouterPeer]) -> None:
    lab, charon, peer = v2_lab
    _start(lab, charon, peer, CBC, esp="aes256-sha256", pfs=None, dpd=True)
    out = peer.console(f"ping {SWAN_INSIDE} source {IOSIM_INSIDE} repeat 5")
    assert _marks(out) == ".!!!!", (out, charon.log[-4000:])
    peer.console("@wait 12", timeout=30)
    time.sleep(12)
    assert "parsed INFORMATIONAL request" in charon.log, charon.log[-4000:]
    assert "READY" in peer.console("show crypto ikev2 sa")
    assert swan_ping(lab, IOSIM_INSIDE, count=2) == "!!"


def test_short_lifetimes_make_iosim_rekey_the_child_with_pfs_and_the_ike_sa(
        v2_lab: tuple[Lab, Charon, RouterPeer]) -> None:
    lab, charon, peer = v2_lab
    _start(lab, charon, peer, CBC, esp="aes256-sha256-modp2048", pfs="group14", lifetime=120)
    out = peer.console(f"ping {SWAN_INSIDE} source {IOSIM_INSIDE} repeat 5")
    assert _marks(out) == ".!!!!", (out, charon.log[-4000:])
    first = re.search(r"iosim: #(\d+), ESTABLISHED, IKEv2", _established(charon, CBC[2]))
    assert first is not None and _agree(peer, charon) == 4
    time.sleep(95)  # traffic shortly before 90 % of 120 s: IOS renews only SAs in use
    out = peer.console(f"ping {SWAN_INSIDE} source {IOSIM_INSIDE} repeat 2")
    assert _marks(out) == "!!", (out, charon.log[-4000:])
    base = iosim_counters(peer)
    assert base == (6, 6), base
    time.sleep(20)  # past 108 s: iosim's CREATE_CHILD_SA exchanges have run
    log = charon.log
    # the CHILD_SA rekey carries a KE payload (PFS), the IKE SA rekey an SA with no TS
    # ... and, as IOS's, says the child takes no TFC padding and carries non-first fragments
    assert re.search(r"parsed CREATE_CHILD_SA request \d+ \[ N\(REKEY_SA\) SA No KE TSi TSr "
                     r"N\(ESP_TFC_PAD_N\) N\(NON_FIRST_FRAG\) \]",
                     log), log[-6000:]
    assert re.search(r"parsed CREATE_CHILD_SA request \d+ \[ SA No KE \]", log), log[-6000:]
    sas = _established(charon, CBC[2])
    second = re.search(r"iosim: #(\d+), ESTABLISHED, IKEv2", sas)
    assert second is not None and second.group(1) != first.group(1), sas  # a new IKE SA
    assert swan_ping(lab, IOSIM_INSIDE, count=3) == "!!!"
    out = peer.console(f"ping {SWAN_INSIDE} source {IOSIM_INSIDE} repeat 2")
    assert _marks(out) == "!!", out
    assert _agree(peer, charon, base) == 5  # the new CHILD_SA carried them, both ways
    assert peer.console("show crypto ikev2 sa").count("READY") == 1
