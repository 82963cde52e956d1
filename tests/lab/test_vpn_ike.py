"""IKE features between the seed's routers: aggressive mode, dead peer detection,
INITIAL-CONTACT after a reboot, and phase-1 rekey under traffic."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from labkit import configure_seed, marks, reload_r2_unsaved, run, seeded
from labkit import console as lab_console
from workcount import mean_work

from iosim.lab.console import LabConsole

PING = "ping 10.0.2.10 source 192.168.1.1"


def _seed(tmp_path: Path, r1_extra: str = "", r2_extra: str = "") -> LabConsole:
    return seeded(tmp_path, r1_extra=r1_extra, r2_extra=r2_extra)


def _reconfigure_r2_after_reload(console: LabConsole, extra: str = "") -> None:
    reload_r2_unsaved(console, extra=extra)


AGGRESSIVE = ("crypto isakmp profile TO_R2\nmatch identity address 203.0.113.2 "
              "255.255.255.255\ninitiate mode aggressive\nexit\n")


def test_an_isakmp_profile_initiates_aggressive_mode(tmp_path: Path) -> None:
    console = _seed(tmp_path, r1_extra=AGGRESSIVE)
    console.feed("debug crypto isakmp")
    out = console.feed(PING)
    assert marks(out) == [".!!!!"]
    assert "ISAKMP:(0): beginning Aggressive Mode exchange" in out
    assert "Old State = IKE_READY  New State = IKE_I_AM1" in out
    assert "QM_IDLE" in console.feed("show crypto isakmp sa")
    assert marks(console.feed(PING)) == ["!!!!!"]


def test_aggressive_mode_disabled_on_the_responder_refuses_it(tmp_path: Path) -> None:
    console = _seed(tmp_path, r1_extra=AGGRESSIVE,
                    r2_extra="crypto isakmp aggressive-mode disable\n")
    assert marks(console.feed(PING)) == ["....."]
    states = console.feed("show crypto isakmp sa")
    assert "AG_INIT_EXCH" in states and "QM_IDLE" not in states
    # main mode still works: take the profile's aggressive mode away
    run(console, "conf t\ncrypto isakmp profile TO_R2\nno initiate mode aggressive\nend\n"
                 "clear crypto isakmp\n")
    console.feed(PING)
    assert marks(console.feed(PING)) == ["!!!!!"]


def test_dpd_finds_the_rebooted_peer_dead_and_the_tunnel_is_rebuilt(tmp_path: Path) -> None:
    console = _seed(tmp_path, r1_extra="crypto isakmp keepalive 10\n")
    assert marks(console.feed(PING)) == [".!!!!"]
    assert "psk  14 23:59:" in console.feed("show crypto isakmp sa detail")
    detail = console.feed("show crypto isakmp sa detail")
    assert " D   \n" in detail  # Cap.: Dead Peer Detection
    _reconfigure_r2_after_reload(console)  # R2 forgets its SAs (and its unsaved config)
    # R1 still encrypts with the old SAs: R2 drops them as invalid SPIs
    assert marks(console.feed(PING)) == ["....."]
    console.feed("debug crypto isakmp")
    out = console.feed("@wait 40")
    assert "Sending NOTIFY DPD/R_U_THERE protocol 1" in out
    assert "ISAKMP:(1001):peer 203.0.113.2 not responding!" in out
    assert "Status: ACTIVE" not in console.feed("show crypto ipsec sa")
    console.feed("undebug all")
    assert marks(console.feed(PING)) == [".!!!!"]
    assert marks(console.feed(PING)) == ["!!!!!"]


def test_periodic_dpd_probes_an_idle_tunnel_and_the_peer_acknowledges(tmp_path: Path) -> None:
    console = _seed(tmp_path, r1_extra="crypto isakmp keepalive 10 3 periodic\n")
    console.feed(PING)
    console.feed("debug crypto isakmp")
    out = console.feed("@wait 25")
    assert out.count("Sending NOTIFY DPD/R_U_THERE protocol 1") == 2
    assert out.count("DPD/R_U_THERE_ACK received from peer 203.0.113.2") == 2
    assert "QM_IDLE" in console.feed("show crypto isakmp sa")


def test_initial_contact_clears_the_peer_s_stale_sas_after_a_reboot(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    assert marks(console.feed(PING)) == [".!!!!"]
    run(console, "write memory\nreload\n\n\nenable\n")  # R1 reboots with its config
    run(console, "ping 198.51.100.2 repeat 2\nping 192.168.1.10 repeat 2\n")  # its ARP cache
    console.feed("@R2")
    assert "Status: ACTIVE" in console.feed("show crypto ipsec sa")  # stale, from before
    console.feed("debug crypto isakmp")
    console.feed("@R1")
    assert marks(console.feed(PING)) == [".!!!!"]
    console.feed("@R2")
    ipsec = console.feed("show crypto ipsec sa")
    inbound = ipsec.split("inbound esp sas:")[1].split("inbound ah sas:")[0]
    assert inbound.count("spi: 0x") == 1  # only the new pair: INITIAL-CONTACT removed the old


def test_phase1_rekeys_before_it_expires_without_losing_a_ping(tmp_path: Path) -> None:
    console = _seed(tmp_path, r1_extra="crypto isakmp policy 10\nlifetime 300\nexit\n",
                    r2_extra="crypto isakmp policy 10\nlifetime 300\nexit\n")
    assert marks(console.feed(PING)) == [".!!!!"]
    assert "1001 ACTIVE" in console.feed("show crypto isakmp sa")
    lost = 0
    for _ in range(40):  # 40 x (5 pings + 10 s) spans the 300 s lifetime
        out = console.feed(PING)
        lost += marks(out)[0].count(".")
        console.feed("@wait 10")
    assert lost == 0
    states = console.feed("show crypto isakmp sa")
    assert "1002 ACTIVE" in states and "1001 ACTIVE\n" not in states




def test_a_lost_delete_is_repaired_by_an_invalid_spi_notify(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    assert marks(console.feed(PING)) == [".!!!!"]
    # R2 clears its SAs while its outside interface is down: R1 never hears of it
    run(console, "@R2\nconfigure terminal\ninterface GigabitEthernet0/0\nshutdown\nend\n"
                 "clear crypto sa\nconfigure terminal\ninterface GigabitEthernet0/0\n"
                 "no shutdown\nend\nping 203.0.113.1 repeat 2\ndebug crypto isakmp\n@R1\n")
    assert "Status: ACTIVE" in console.feed("show crypto ipsec sa")  # R1's stale pair
    out = console.feed(PING)
    assert marks(out) == ["..!!!"], out
    assert "%CRYPTO-4-RECVD_PKT_INV_SPI" in console.feed("@R2")  # its console's log
    console.feed("@R1")
    assert marks(console.feed(PING)) == ["!!!!!"]


def test_invalid_spi_recovery_rebuilds_the_tunnel_after_the_peer_reboots(tmp_path: Path
                                                                          ) -> None:
    console = _seed(tmp_path)
    assert marks(console.feed(PING)) == [".!!!!"]
    _reconfigure_r2_after_reload(console, "crypto isakmp invalid-spi-recovery\n")
    # R2 has no ISAKMP SA: it starts one to tell R1, whose INITIAL-CONTACT clears R1's pair
    assert marks(console.feed(PING)) == ["..!!!"]
    assert "QM_IDLE" in console.feed("show crypto isakmp sa")


def test_without_invalid_spi_recovery_the_stale_tunnel_stays_broken(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    assert marks(console.feed(PING)) == [".!!!!"]
    _reconfigure_r2_after_reload(console)
    assert marks(console.feed(PING)) == ["....."]
    assert marks(console.feed(PING)) == ["....."]


def test_debug_lines_interleave_with_the_ping_marks_as_they_happen(tmp_path: Path) -> None:
    console = _seed(tmp_path)
    console.feed("debug crypto isakmp")
    lines = console.feed(PING).splitlines()
    header = lines.index("Packet sent with a source address of 192.168.1.1")
    summary = next(i for i, ln in enumerate(lines) if ln.startswith("Success rate"))
    # as IOS prints a message during a ping (reference ping.txt [3]): a new line, the
    # message, and the marks go on after its text, not on a line of their own
    assert lines[header + 1] == ""
    assert lines[header + 2].startswith("*Mar  1 00:00:")
    assert lines[header + 2].endswith("ISAKMP:(0): SA request profile is (NULL)")
    between = lines[header + 2:summary]
    assert any(ln.endswith("ISAKMP:(0):Can not start Aggressive mode, trying Main mode.")
               for ln in between)
    assert any("SA has been authenticated with 203.0.113.2" in ln for ln in between)
    assert lines[summary - 1].startswith("*Mar  1 00:00:") and lines[summary - 1].endswith(
        "New State = IKE_QM_PHASE2_COMPLETE.!!!!")  # the last debug line, then the marks
    assert ".!!!!" not in lines and marks("\n".join(lines)) == [".!!!!"]
    assert lines[summary].startswith("Success rate is 80 percent (4/5)")
    # a command that takes no time prints its output first, its messages after
    out = console.feed("clear crypto isakmp")
    assert out == "" or out.startswith("*Mar")


def _debug_r2(tmp_path: Path, r2_change: tuple[str, str]) -> str:
    """R2's debug output when R1's first ping meets R2 with ``r2_change`` made to the seed."""
    console = lab_console(tmp_path)
    configure_seed(console, r2_replace=dict([r2_change]))
    run(console, "@R2\ndebug crypto isakmp\ndebug crypto ipsec\n@R1\ndebug crypto isakmp\n")
    r1 = console.feed(PING)
    assert "".join(marks(r1)) == "....."  # debug lines come between the marks
    assert "ISAKMP:(1001): processing NOTIFY PROPOSAL_NOT_CHOSEN protocol 3" in r1
    return console.feed("@R2")


def test_a_non_mirrored_acl_fails_with_ios_s_proxy_identity_messages(tmp_path: Path) -> None:
    out = _debug_r2(tmp_path, ("permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255",
                               "permit ip 10.0.2.0 0.0.0.255 192.168.2.0 0.0.0.255"))
    assert "IPSEC(validate_proposal_request): proposal part #1," in out
    assert "map_db_find_best did not find matching map" in out
    assert "IPSEC(ipsec_process_proposal): proxy identities not supported" in out
    assert "ISAKMP:(1001): IPSec policy invalidated proposal with error 32" in out
    assert ("ISAKMP:(1001): phase 2 SA policy not acceptable! (local 203.0.113.2 remote "
            "198.51.100.1)") in out


def test_a_transform_set_mismatch_fails_with_ios_s_error_256(tmp_path: Path) -> None:
    out = _debug_r2(tmp_path, ("esp-aes 256 esp-sha256-hmac", "esp-3des esp-md5-hmac"))
    assert ("IPSEC(ipsec_process_proposal): transform proposal not supported for identity: "
            "{esp-aes 256 esp-sha256-hmac }") in out
    assert "ISAKMP:(1001): IPSec policy invalidated proposal with error 256" in out
    assert "ISAKMP:(1001):Sending NOTIFY PROPOSAL_NOT_CHOSEN protocol 3" in out
    assert "error 32" not in out


def test_a_phase1_policy_mismatch_shows_ios_s_policy_walk(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    configure_seed(console, r2_replace={"encryption aes 256": "encryption aes 128"},
                   r2_extra="logging buffered 64000\n")  # R2's lines wait while R1 pings
    run(console, "@R2\ndebug crypto isakmp\n@R1\n")
    console.feed(PING)
    out = console.feed("@R2")
    lines = [ln.split(": ", 1)[1] for ln in out.splitlines() if ln.startswith("*Mar")]
    first = lines.index("ISAKMP:(0):Checking ISAKMP transform 1 against priority 10 policy")
    # IOS enters IKE_R_MM1 before it reads the SA payload, then finds the key, then walks
    assert lines[first - 3:first] == ["ISAKMP:(0):found peer pre-shared key matching "
                                      "198.51.100.1", "ISAKMP:(0): local preshared key found",
                                      "ISAKMP : Scanning profiles for xauth ..."]
    payload = lines.index("ISAKMP:(0): processing SA payload. message ID = 0")
    assert lines[payload - 1] == "ISAKMP:(0):Old State = IKE_READY  New State = IKE_R_MM1 "
    assert lines[0].endswith("Global (N) NEW SA") and payload < first
    assert lines[first + 1:first + 3] == ["ISAKMP:      encryption AES-CBC",
                                          "ISAKMP:      keylength of 256"]
    assert "ISAKMP:      life duration (VPI) of  0x0 0x1 0x51 0x80 " in lines
    assert "ISAKMP:(0):Proposed key length does not match policy" in lines
    assert "ISAKMP:(0):atts are not acceptable. Next payload is 0" in lines
    assert "ISAKMP:(0):no offers accepted!" in lines
    assert ("ISAKMP:(0): phase 1 SA policy not acceptable! (local 203.0.113.2 remote "
            "198.51.100.1)") in lines


def test_a_wrong_key_shows_the_retransmissions_until_death(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    configure_seed(console, r2_replace={"SECRETKEY123": "WRONGKEY"})
    console.feed("debug crypto isakmp")
    console.feed(PING)
    assert "MM_KEY_EXCH" in console.feed("show crypto isakmp sa")
    out = console.feed("@wait 700")
    assert "ISAKMP:(1001): retransmitting phase 1 MM_KEY_EXCH..." in out
    assert ("ISAKMP (0:1001): incrementing error counter on sa, attempt 5 of 5: retransmit "
            "phase 1") in out
    assert ('ISAKMP:(1001):deleting SA reason "Death by retransmission P1" state (I) '
            "MM_KEY_EXCH (peer 203.0.113.2)") in out
    assert "%CRYPTO-4-IKMP_BAD_MESSAGE: IKE message from 198.51.100.1" in console.feed("@R2")


def test_an_isakmp_peer_with_an_aggressive_mode_password_initiates_aggressive_mode(
        tmp_path: Path) -> None:
    peer = ("crypto isakmp peer address 203.0.113.2\n"
            "set aggressive-mode password SECRETKEY123\nexit\n"
            "no crypto isakmp key SECRETKEY123 address 203.0.113.2\n")
    console = _seed(tmp_path, r1_extra=peer)
    assert console.feed("show running-config | section isakmp peer") == (
        "crypto isakmp peer address 203.0.113.2\n set aggressive-mode password SECRETKEY123\n")
    console.feed("debug crypto isakmp")
    out = console.feed(PING)
    assert "ISAKMP:(0): beginning Aggressive Mode exchange" in out
    assert "".join(marks(out)) == ".!!!!"
    # aggressive-mode disable blocks it both ways: R1 falls back to main mode, which needs
    # the pre-shared key the password stood for
    run(console, "conf t\ncrypto isakmp aggressive-mode disable\n"
                 "crypto isakmp key SECRETKEY123 address 203.0.113.2\nend\nclear crypto session\n")
    out = console.feed(PING)
    assert "beginning Main Mode exchange" in out and "".join(marks(out)) == ".!!!!"


def test_quick_mode_draws_no_inbound_spi_the_router_already_uses(tmp_path: Path) -> None:
    """The router's IKE engines ask its SAD: an SPI an installed SA receives on is taken."""
    console = _seed(tmp_path)
    assert marks(console.feed(PING)) == [".!!!!"]
    crypto = console.lab.routers["R1"].crypto_plane
    (bundle,) = crypto.lifecycle.sad.bundles
    (engine,) = crypto.ike.engines.values()
    assert engine._spi_in_use(bundle.inbound.spi)
    assert not engine._spi_in_use(bundle.outbound.spi)  # the peer receives on that one


def test_a_crypto_map_pair_installed_costs_the_tunnel_protection_no_scan(tmp_path: Path
                                                                          ) -> None:
    """Tunnel protection looks again at the SAD after every change, but only at the pairs of
    tunnel interfaces: a crypto map's pairs (a hub's thousands) are not rescanned for each
    one installed (that made a 10,000-spoke hub's bring-up quadratic)."""
    console = _seed(tmp_path)
    assert marks(console.feed(PING)) == [".!!!!"]
    crypto = console.lab.routers["R1"].crypto_plane
    (bundle,) = crypto.lifecycle.sad.bundles

    def work_with(pairs: int) -> float:
        sad = crypto.lifecycle.sad
        for _ in range(pairs):
            sad.add(replace(bundle))  # more pairs of the crypto map's interface
        return mean_work(crypto.tunnels._sad_changed, 3)

    small, large = work_with(100), work_with(900)  # then 1,000 pairs in all
    assert large <= small * 1.05, (small, large)
