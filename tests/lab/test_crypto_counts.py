"""show crypto isakmp sa count, show crypto ipsec sa count, clear crypto sa counters and
the session states of show crypto session, on the seed's VPN (IOS 15 layouts)."""

from __future__ import annotations

import re
from pathlib import Path

from labkit import marks, run, seeded
from tunnelkit import SIDES, crypto_lines, tunnel_lab

from iosim.ike.events import IsakmpSaState
from iosim.ipsec.router_crypto import RouterCrypto
from iosim.lab.console import LabConsole
from iosim.show.crypto_runtime import show_isakmp_sa_count

PING = "ping 10.0.2.10 source 192.168.1.1"


def _plane(c: LabConsole, name: str = "R1") -> RouterCrypto:
    plane = c.lab.routers[name].crypto_plane
    assert isinstance(plane, RouterCrypto)
    return plane


def _state(state: str, status: str = "ACTIVE") -> IsakmpSaState:
    return IsakmpSaState(1, 2, state, 1001, status, "aes", "sha", "psk", 14, 0.0, True)


def test_isakmp_count_sorts_the_sas_by_their_state() -> None:
    states = [_state("QM_IDLE"), _state("QM_IDLE"), _state("MM_KEY_EXCH"),
              _state("MM_NO_STATE", "ACTIVE (deleted)")]
    assert show_isakmp_sa_count(states) == (
        "\nActive ISAKMP SA's: 2\nStandby ISAKMP SA's: 0\n"
        "Currently being negotiated ISAKMP SA's: 1\nDead ISAKMP SA's: 1\n")


def test_counts_follow_the_tunnel(tmp_path: Path) -> None:
    c = seeded(tmp_path)
    assert c.feed("show crypto ipsec sa count") == (
        "IPsec SA total: 0, active: 0, rekeying: 0, unused: 0, invalid: 0\n\n")
    assert marks(c.feed(PING)) == [".!!!!"]
    assert "Active ISAKMP SA's: 1\n" in c.feed("show crypto isakmp sa count")
    assert c.feed("show crypto ipsec sa count") == (
        "IPsec SA total: 2, active: 2, rekeying: 0, unused: 0, invalid: 0\n\n")
    _plane(c).sad.bundles[0].rekeyed = True  # as when its successor has been asked for
    assert c.feed("show crypto ipsec sa count") == (
        "IPsec SA total: 2, active: 0, rekeying: 2, unused: 0, invalid: 0\n\n")


def test_ah_and_esp_sas_count_one_each(tmp_path: Path) -> None:
    c = seeded(tmp_path, r1_replace={"esp-aes 256 esp-sha256-hmac":
                                     "ah-sha-hmac esp-aes 256 esp-sha256-hmac"},
               r2_replace={"esp-aes 256 esp-sha256-hmac":
                           "ah-sha-hmac esp-aes 256 esp-sha256-hmac"})
    assert marks(c.feed(PING)) == [".!!!!"]
    assert c.feed("show crypto ipsec sa count").startswith("IPsec SA total: 4, active: 4,")
    # each of the four SAs has a conn id and an engine connection of its own
    sa = c.feed("show crypto ipsec sa")
    assert re.findall(r"conn id: (\d+)", sa) == ["1", "3", "2", "4"]  # ESP in, AH in, out
    engine = c.feed("show crypto engine connections active")
    rows = re.findall(r"^ +(\d) +IPsec +(\S+) +(\d+) +(\d+) +(\d+)", engine, re.M)
    assert rows == [("1", "AES256+SHA256", "0", "4", "4"), ("2", "AES256+SHA256", "4", "0", "0"),
                    ("3", "SHA", "0", "4", "4"), ("4", "SHA", "4", "0", "0")], engine
    assert "Active SAs: 4, origin: crypto map" in c.feed("show crypto session detail")


def test_ah_alone_shows_its_last_sequence_number(tmp_path: Path) -> None:
    c = seeded(tmp_path, r1_replace={"esp-aes 256 esp-sha256-hmac": "ah-sha256-hmac"},
               r2_replace={"esp-aes 256 esp-sha256-hmac": "ah-sha256-hmac"})
    assert marks(c.feed(PING)) == [".!!!!"]
    engine = c.feed("show crypto engine connections active")
    rows = re.findall(r"^ +(\d) +IPsec +(\S+) +(\d+) +(\d+) +(\d+)", engine, re.M)
    # the inbound AH SA's replay window has seen sequence number 4, as ESP's would
    assert rows == [("1", "SHA256", "0", "4", "4"), ("2", "SHA256", "4", "0", "0")], engine


def test_clear_crypto_sa_counters_keeps_the_sas(tmp_path: Path) -> None:
    c = seeded(tmp_path)
    c.feed(PING)
    pairs = _plane(c).flows()[0].counters.pairs
    assert c.feed("clear crypto sa counters") == ""
    text = c.feed("show crypto ipsec sa")
    assert "    #pkts encaps: 0, #pkts encrypt: 0, #pkts digest: 0\n" in text
    assert "    #pkts decaps: 0, #pkts decrypt: 0, #pkts verify: 0\n" in text
    assert "        Status: ACTIVE(ACTIVE)" in text  # the SAs stay
    assert _plane(c).flows()[0].counters.pairs == pairs
    assert marks(c.feed(PING)) == ["!!!!!"]  # no new phase 1 or quick mode
    assert "    #pkts encaps: 5, #pkts encrypt: 5, #pkts digest: 5\n" in c.feed(
        "show crypto ipsec sa")
    c.feed("@R2")
    assert "    #pkts decaps: 9, " in c.feed("show crypto ipsec sa")  # R2's own stay


def test_session_negotiating_while_phase_one_fails(tmp_path: Path) -> None:
    c = seeded(tmp_path, r2_replace={"SECRETKEY123": "OTHERKEY999"})
    assert marks(c.feed(PING)) == ["....."]
    session = c.feed("show crypto session")
    assert ("Session status: DOWN-NEGOTIATING\n"
            "Peer: 203.0.113.2 port 500 \n"
            "  Session ID: 0  \n"
            "  IKEv1 SA: local 198.51.100.1/500 remote 203.0.113.2/500 Inactive \n"
            "  IPSEC FLOW: permit ip 192.168.1.0/255.255.255.0 10.0.2.0/255.255.255.0 \n"
            "        Active SAs: 0, origin: crypto map\n") in session
    detail = c.feed("show crypto session detail")
    assert ("      Desc: (none)\n      Phase1_id: (none)\n  Session ID: 0  \n"
            "  IKEv1 SA: local 198.51.100.1/500 remote 203.0.113.2/500 Inactive \n"
            "          Capabilities:(none) connid:0 lifetime:0\n") in detail
    assert "Currently being negotiated ISAKMP SA's: 1\n" in c.feed(
        "show crypto isakmp sa count")
    run(c, "@R2\nconf t\ncrypto isakmp key SECRETKEY123 address 198.51.100.1\nend\n@R1\n"
           "clear crypto isakmp\n")
    assert "Session status: DOWN          \n" in c.feed("show crypto session")
    assert marks(c.feed(PING)) == [".!!!!"]
    assert "Session status: UP-ACTIVE     \n" in c.feed("show crypto session")


def test_packets_dropped_for_want_of_an_sa_are_send_errors(tmp_path: Path) -> None:
    """While phase 1 fails, each packet the map would protect is dropped: IOS 15 counts in
    ``#send errors`` those that find IKE already at work (debug-crypto-failures.txt B2: 4,
    outbound spi 0x0(0)), not the one that started it (show-crypto-ipsec-sa.txt [4a]: the
    first echo of a tunnel that comes up is no send error); detail names them all "no sa"."""
    c = seeded(tmp_path)
    assert marks(c.feed(PING)) == [".!!!!"]
    assert "    #send errors 0, #recv errors 0\n" in c.feed("show crypto ipsec sa")
    c = seeded(tmp_path / "failing", r2_replace={"SECRETKEY123": "OTHERKEY999"})
    assert marks(c.feed(PING)) == ["....."]
    plain = c.feed("show crypto ipsec sa")
    assert "    #pkts encaps: 0, #pkts encrypt: 0, #pkts digest: 0\n" in plain
    assert "    #send errors 4, #recv errors 0\n" in plain
    assert "     current outbound spi: 0x0(0)\n" in plain
    detail = c.feed("show crypto ipsec sa detail")
    assert "    #pkts no sa (send) 5, #pkts invalid sa (rcv) 0\n" in detail
    assert "    #pkts encaps failed (send) 0, #pkts decaps failed (rcv) 0\n" in detail
    assert c.feed("clear crypto sa counters") == ""
    assert "    #send errors 0, #recv errors 0\n" in c.feed("show crypto ipsec sa")


def test_debug_names_each_ah_and_esp_sa_by_its_own_conn_id(tmp_path: Path) -> None:
    both = "ah-sha-hmac esp-aes 256 esp-sha256-hmac"
    c = seeded(tmp_path, r1_replace={"esp-aes 256 esp-sha256-hmac": both},
               r2_replace={"esp-aes 256 esp-sha256-hmac": both})
    c.feed("debug crypto ipsec")
    out = c.feed(PING)
    created = re.findall(r"sa_proto= (\d+), \n.*\n.*sa_conn_id= (\d+)", out)
    assert sorted(created) == [("50", "1"), ("50", "2"), ("51", "3"), ("51", "4")], created


def test_a_refused_phase_2_keeps_the_send_errors_climbing(tmp_path: Path) -> None:
    """Quick mode refused (transform sets that do not match): the request for a pair stays
    pending and every packet after the first is a send error, as IOS 15 counts them while
    phase 2 is refused (show-crypto-ipsec-sa.txt [4c])."""
    c = seeded(tmp_path, r2_replace={"esp-aes 256 esp-sha256-hmac": "esp-3des esp-sha-hmac"})
    assert marks(c.feed(PING)) == ["....."]
    assert "    #send errors 4, #recv errors 0\n" in c.feed("show crypto ipsec sa")
    assert marks(c.feed(PING)) == ["....."]
    assert "    #send errors 9, #recv errors 0\n" in c.feed("show crypto ipsec sa")


def test_a_protected_tunnel_s_own_request_makes_every_dropped_packet_wait(
        tmp_path: Path) -> None:
    """A GRE tunnel asks IKE for its pair when it comes up; with the peer refusing its
    transform set, every packet routed into it after that is a send error."""
    other = crypto_lines(SIDES[1], transforms="esp-3des esp-sha-hmac")
    c = tunnel_lab(tmp_path, protect=True, crypto=(None, other))
    run(c, "@wait 5\n")
    assert marks(c.feed(PING)) == ["....."]
    text = c.feed("show crypto ipsec sa interface Tunnel0")
    assert "     current outbound spi: 0x0(0)\n" in text
    assert "    #send errors 5, #recv errors 0\n" in text
    assert "    #pkts no sa (send) 5, " in c.feed("show crypto ipsec sa detail")
