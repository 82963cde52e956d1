"""tshark reads the tunnels' packets from a lab capture: GRE (with its key and keepalives)
dissected field by field, and GRE over IPsec and the VTI decrypted with the keys ``@keys``
writes -- none of it malformed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from labkit import marks, run
from tunnelkit import PING, R1_WAN, R2_WAN, tunnel_lab

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not on PATH")


def _tshark(pcap: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(["tshark", "-r", str(pcap), *args], capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _r1_pcap(c: object, directory: Path) -> Path:
    pcaps = c.lab.fabric.write_pcaps(directory)  # type: ignore[attr-defined]
    return next(p for p in pcaps if p.name.startswith("R1_GigabitEthernet0-0"))


def test_tshark_dissects_gre_with_key_and_keepalives(tmp_path: Path) -> None:
    c = tunnel_lab(tmp_path, capture=True, r1="tunnel key 4660\nkeepalive 5 3",
                   r2="tunnel key 4660")
    assert marks(run(c, PING)) == ["!!!!!"]
    run(c, "@wait 12\n")
    pcap = _r1_pcap(c, tmp_path / "pcap")
    assert _tshark(pcap, "-Y", "_ws.malformed || _ws.expert.severity >= error") == ""
    fields = _tshark(pcap, "-Y", "gre", "-T", "fields", "-e", "ip.src", "-e", "gre.proto",
                     "-e", "gre.key", "-e", "icmp.type", "-E", "occurrence=a")
    rows = [[value.split(",") for value in line.split("\t")] for line in fields.splitlines()]
    echoes = [r for r in rows if r[3] == ["8"]]
    assert len(echoes) == 5
    assert all(r[0] == [R1_WAN, "192.168.1.1"] and r[1] == ["0x0800"]
               and r[2] == ["0x00001234"] for r in echoes)  # 4660 = 0x1234
    # R1's keepalives (GRE in GRE, the inner one of protocol type 0 and from R2 back to R1)
    sent = [r for r in rows if r[1] == ["0x0800", "0x0000"]]
    assert len(sent) >= 2 and all(r[0] == [R1_WAN, R2_WAN] and r[2] == ["0x00001234"] * 2
                                  for r in sent)
    answered = [r for r in rows if r[1] == ["0x0000"]]  # ... and R2 sending them back
    assert answered and all(r[0] == [R2_WAN] for r in answered)


@pytest.mark.parametrize(("mode", "inside"), [("gre", "esp:gre:ip:icmp"),
                                              ("ipsec", "esp:ip:icmp")])
def test_tshark_decrypts_the_protected_tunnels_with_the_exported_keys(
        tmp_path: Path, mode: str, inside: str) -> None:
    c = tunnel_lab(tmp_path, mode=mode, protect=True, capture=True)
    run(c, "@wait 5\n")
    assert marks(run(c, PING)) == ["!!!!!"]
    config = tmp_path / "config"
    profile = config / "wireshark"
    profile.mkdir(parents=True)
    run(c, f"@keys {profile}\n")
    pcap = _r1_pcap(c, tmp_path / "pcap")
    env = dict(os.environ, XDG_CONFIG_HOME=str(config), HOME=str(tmp_path))
    decode = ("-o", "esp.enable_encryption_decode:TRUE")
    assert _tshark(pcap, *decode, "-Y", "_ws.malformed || _ws.expert.severity >= error",
                   env=env) == ""
    layers = _tshark(pcap, *decode, "-Y", "esp && icmp", "-T", "fields", "-e",
                     "frame.protocols", env=env).splitlines()
    assert len(layers) == 10
    assert all(inside in line for line in layers), layers
