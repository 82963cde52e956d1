"""Every transform pair across two routers: each IOS transform set R1 and R2 can agree on
brings the seed's tunnel up, carries pings both ways and counts them, AH included."""

from __future__ import annotations

from pathlib import Path

import pytest
from labkit import ISP_NAT, configure_seed, marks, run, seeded
from labkit import console as lab_console

from iosim.lab.console import LabConsole

SEED_SET = "crypto ipsec transform-set MYSET esp-aes 256 esp-sha256-hmac"
HMACS = ("esp-md5-hmac", "esp-sha-hmac", "esp-sha256-hmac", "esp-sha384-hmac",
         "esp-sha512-hmac")
CBC = ("esp-des", "esp-3des", "esp-aes", "esp-aes 192", "esp-aes 256")
AH = ("ah-md5-hmac", "ah-sha-hmac", "ah-sha256-hmac", "ah-sha384-hmac", "ah-sha512-hmac")

SETS = (
    [f"{c} {h}" for c in CBC for h in HMACS]  # every CBC cipher with every HMAC
    + list(CBC)  # confidentiality only
    + [f"esp-null {h}" for h in HMACS]
    + [f"esp-gcm {bits}" for bits in (128, 192, 256)]
    + [f"esp-gmac {bits}" for bits in (128, 192, 256)]
    + list(AH)
    + ["ah-sha-hmac esp-aes 256 esp-sha256-hmac", "ah-sha256-hmac esp-gcm 256",
       "ah-md5-hmac esp-3des esp-md5-hmac", "esp-aes esp-sha-hmac ah-sha512-hmac",
       "esp-aes 256 esp-sha-hmac comp-lzs"]  # IPComp itself is not negotiated
)


def _lab(tmp_path: Path, words: str) -> LabConsole:
    change = {SEED_SET: f"crypto ipsec transform-set MYSET {words}"}
    return seeded(tmp_path, r1_replace=change, r2_replace=change)


def _counter(text: str, name: str) -> int:
    return int(text.split(f"#pkts {name}: ")[1].split(",")[0].split()[0])


@pytest.mark.parametrize("words", SETS)
def test_the_tunnel_comes_up_and_counts_with(tmp_path: Path, words: str) -> None:
    console = _lab(tmp_path, words)
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    console.feed("@R2")
    assert marks(console.feed("ping 192.168.1.10 source 10.0.2.1")) == ["!!!!!"]
    r2 = console.feed("show crypto ipsec sa")
    assert _counter(r2, "encaps") == 9 and _counter(r2, "decaps") == 9, r2
    console.feed("@R1")
    r1 = console.feed("show crypto ipsec sa")
    assert _counter(r1, "encaps") == 9 and _counter(r1, "decaps") == 9, r1
    authenticated = "hmac" in words or "gcm" in words or "gmac" in words
    assert _counter(r1, "digest") == (9 if authenticated else 0)
    has_ah, has_esp = "ah-" in words, "esp-" in words
    inbound_ah = r1.split("inbound ah sas:")[1].split("inbound pcp sas:")[0]
    inbound_esp = r1.split("inbound esp sas:")[1].split("inbound ah sas:")[0]
    assert ("spi: 0x" in inbound_ah) == has_ah
    assert ("spi: 0x" in inbound_esp) == has_esp
    assert r1.count("Status: ACTIVE") == 2 * (int(has_ah) + int(has_esp))


def test_a_transform_set_mismatch_fails(tmp_path: Path) -> None:
    console = _lab(tmp_path, "ah-sha-hmac")
    run(console, "@R2\nconfigure terminal\n"
                 "crypto ipsec transform-set MYSET ah-sha256-hmac\nend\n@R1\n")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["....."]
    assert "QM_IDLE" in console.feed("show crypto isakmp sa")
    assert "Status: ACTIVE" not in console.feed("show crypto ipsec sa")


def test_ah_through_nat_fails_as_it_must(tmp_path: Path) -> None:
    """AH authenticates the outer addresses, which the ISP's PAT rewrites: the SAs come up
    (IKE itself floats to UDP 4500) and every AH packet fails its check at R2."""
    console = lab_console(tmp_path)
    run(console, ISP_NAT)
    ah = {SEED_SET: "crypto ipsec transform-set MYSET ah-sha-hmac"}
    configure_seed(console, r1_replace=ah, r2_replace={**ah, "198.51.100.1": "203.0.113.1"})
    console.feed("ping 10.0.2.10 source 192.168.1.1")
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == ["....."]
    assert "QM_IDLE" in console.feed("show crypto isakmp sa")
    r1 = console.feed("show crypto ipsec sa")
    assert _counter(r1, "encaps") >= 5 and _counter(r1, "decaps") == 0
    console.feed("@R2")
    r2 = console.feed("show crypto ipsec sa")
    assert "Status: ACTIVE" in r2 and _counter(r2, "decaps") == 0
