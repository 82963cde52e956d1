"""``@keys DIR``: the two Wireshark tables a user's Wireshark loads as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from labkit import seeded

from iosim.lab.console import LabConsole

PING = "ping 10.0.2.10 source 192.168.1.1"


def _tunnel(tmp_path: Path, capture: bool = False) -> LabConsole:
    console = seeded(tmp_path / "nv", capture=capture)
    console.feed(PING)
    return console


def test_the_ikev1_table_holds_the_cookie_and_key_as_bare_hex(tmp_path: Path) -> None:
    console = _tunnel(tmp_path)
    keys = tmp_path / "profile"
    keys.mkdir()
    assert console.feed(f"@keys {keys}") == (f"Wrote {keys / 'esp_sa'}\n"
                                             f"Wrote {keys / 'ikev1_decryption_table'}\n"
                                             f"Wrote {keys / 'ikev2_decryption_table'}\n")
    assert (keys / "ikev2_decryption_table").read_text().splitlines()[1:] == []  # IKEv1 only
    lines = (keys / "ikev1_decryption_table").read_text().splitlines()
    assert lines[0].startswith("#") and len(lines) == 2
    # a byte field: hex digits without quotes, the initiator cookie 8 octets
    assert re.fullmatch(r"[0-9a-f]{16},[0-9a-f]{64}", lines[1]), lines[1]
    engine = next(iter(console.lab.routers["R1"].crypto_plane.engines.values()))  # type: ignore[union-attr]
    (cookie, key), = engine.decryption_keys()
    assert lines[1] == f"{cookie.hex()},{key.hex()}"
    esp = (keys / "esp_sa").read_text().splitlines()[1:]
    assert len(esp) == 2 and all(re.fullmatch(
        r'"IPv4","[\d.]+","[\d.]+","0x[0-9a-f]{8}","AES-CBC \[RFC3602\]","0x[0-9a-f]{64}",'
        r'"HMAC-SHA-256-128 \[RFC4868\]","0x[0-9a-f]{64}"', row) for row in esp), esp


def test_keys_into_a_directory_that_does_not_exist_makes_none(tmp_path: Path) -> None:
    console = _tunnel(tmp_path)
    missing = tmp_path / "no" / "such"
    assert console.feed(f"@keys {missing}") == (
        f"% @keys {missing}: no such directory (@keys writes into a directory that "
        "exists, and makes none)\n")
    assert not (tmp_path / "no").exists()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert console.feed(f"@keys {a_file}") == f"% @keys {a_file}: not a directory\n"
    assert a_file.read_text() == "x"


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not on PATH")
def test_tshark_loads_both_tables_from_a_profile_and_decrypts(tmp_path: Path) -> None:
    """The files as written, in a Wireshark configuration directory: no table refused,
    quick mode and the ESP inside decrypted."""
    console = _tunnel(tmp_path, capture=True)
    config = tmp_path / "config"
    profile = config / "wireshark"
    profile.mkdir(parents=True)
    console.feed(f"@keys {profile}")
    pcap = next(p for p in console.lab.fabric.write_pcaps(tmp_path / "pcap")
                if p.name.startswith("R1_GigabitEthernet0-0"))
    env = dict(os.environ, XDG_CONFIG_HOME=str(config), HOME=str(tmp_path))
    run = subprocess.run(["tshark", "-r", str(pcap), "-o", "esp.enable_encryption_decode:TRUE",
                          "-Y", "isakmp or icmp", "-V"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert "Error loading table" not in run.stderr, run.stderr
    quick = run.stdout.split("Exchange type: Quick Mode (32)")[1]
    assert "Payload: Hash (8)" in quick and "Payload: Nonce (10)" in quick  # IKE decrypted
    assert "Internet Control Message Protocol" in run.stdout.split(
        "Encapsulating Security Payload")[1]  # the echo inside ESP


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not on PATH")
@pytest.mark.parametrize("proposal", ["encryption aes-cbc-256\nintegrity sha256\ngroup 14",
                                      "encryption aes-gcm-128\nprf sha256\ngroup 19"])
def test_tshark_decrypts_the_ikev2_auth_exchange(tmp_path: Path, proposal: str) -> None:
    """The IKEv2 SA's keys in ``ikev2_decryption_table``: tshark opens IKE_AUTH (CBC+HMAC
    and AES-GCM alike) and finds IDi, AUTH and the traffic selectors inside."""
    from test_vpn_ikev2 import lab

    console = lab(tmp_path / "nv", {"proposal": proposal}, {"proposal": proposal})
    console.lab.fabric.capture()
    console.feed(PING)
    profile = tmp_path / "config" / "wireshark"
    profile.mkdir(parents=True)
    console.feed(f"@keys {profile}")
    row = (profile / "ikev2_decryption_table").read_text().splitlines()[1]
    assert re.fullmatch(r'[0-9a-f]{16},[0-9a-f]{16},[0-9a-f]+,[0-9a-f]+,"[^"]+",[0-9a-f]*,'
                        r'[0-9a-f]*,"[^"]+"', row), row
    pcap = next(p for p in console.lab.fabric.write_pcaps(tmp_path / "pcap")
                if p.name.startswith("R1_GigabitEthernet0-0"))
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    run = subprocess.run(["tshark", "-r", str(pcap), "-Y", "isakmp", "-V"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert "Error loading table" not in run.stderr, run.stderr
    auth = run.stdout.split("Exchange type: IKE_AUTH (35)")[1]
    assert "Decrypted Data" in auth
    assert "Payload: Identification - Initiator (35)" in auth
    assert "Payload: Authentication (39)" in auth
    assert "Payload: Traffic Selector - Initiator (44)" in auth
