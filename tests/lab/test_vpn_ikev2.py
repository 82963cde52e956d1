"""The seed's site-to-site VPN with IKEv2 (FlexVPN-style profiles), end to end in the lab."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from labkit import WARM_ARP, console, debug_messages, marks, run

from iosim.ike2 import ios_debug
from iosim.ike2.events import ChildUp, PacketReceived, PacketSent, Step
from iosim.ipsec.router_crypto import RouterCrypto
from iosim.lab.console import LabConsole

R1 = ("192.168.1.0", "203.0.113.2", "10.0.2.0")
R2 = ("10.0.2.0", "198.51.100.1", "192.168.1.0")


def ikev2_config(me_lan: str, peer: str, peer_lan: str, *, keys: str = "pre-shared-key K3Y",
                 proposal: str = "encryption aes-cbc-256\nintegrity sha256\ngroup 14",
                 extra_map: str = "", profile_extra: str = "",
                 acl: str | None = None) -> str:
    """A router's IKEv2 site-to-site configuration (privileged EXEC to privileged EXEC)."""
    return f"""conf t
crypto ikev2 proposal PROP
{proposal}
exit
crypto ikev2 policy POL
proposal PROP
exit
crypto ikev2 keyring KR
peer PEER
address {peer}
{keys}
exit
exit
crypto ikev2 profile PROF
match identity remote address {peer} 255.255.255.255
authentication remote pre-share
authentication local pre-share
keyring local KR
{profile_extra}
exit
crypto ipsec transform-set MYSET esp-aes 256 esp-sha256-hmac
mode tunnel
exit
ip access-list extended VPN_TRAFFIC
{acl or f"permit ip {me_lan} 0.0.0.255 {peer_lan} 0.0.0.255"}
exit
crypto map MYMAP 10 ipsec-isakmp
set peer {peer}
set transform-set MYSET
set ikev2-profile PROF
{extra_map}
match address VPN_TRAFFIC
exit
interface GigabitEthernet0/0
crypto map MYMAP
end
"""


def lab(tmp_path: Path, r1: dict[str, str] | None = None, r2: dict[str, str] | None = None
        ) -> LabConsole:
    c = console(tmp_path)
    out = run(c, "@R1\nenable\n" + ikev2_config(*R1, **(r1 or {})))
    out += run(c, "@R2\nenable\n" + ikev2_config(*R2, **(r2 or {})))
    assert "Invalid" not in out and "not emulated" not in out, out
    run(c, WARM_ARP)
    return c


def test_ikev2_site_to_site(tmp_path: Path) -> None:
    c = lab(tmp_path)
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]
    sa = c.feed("show crypto ikev2 sa").splitlines()
    assert sa[3].split() == ["1", "198.51.100.1/500", "203.0.113.2/500", "none/none", "READY"]
    assert sa[4] == ("      Encr: AES-CBC, keysize: 256, PRF: SHA256, Hash: SHA256, DH Grp:14, "
                     "Auth sign: PSK, Auth verify: PSK")
    ipsec = c.feed("show crypto ipsec sa")
    assert "    #pkts encaps: 9, #pkts encrypt: 9, #pkts digest: 9" in ipsec
    session = c.feed("show crypto session")
    assert "  IKEv2 SA: local 198.51.100.1/500 remote 203.0.113.2/500 Active " in session
    assert "Session status: UP-ACTIVE" in session
    log = c.feed("show logging")
    assert "%IKEV2-5-SA_UP: SA UP" in log and "%IKEV2-5-OSAL_INITIATE_TUNNEL" in log
    c.feed("@R2")
    r2 = c.feed("show crypto ipsec sa")
    assert "    #pkts decaps: 9, #pkts decrypt: 9, #pkts verify: 9" in r2
    out_spi = ipsec.split("current outbound spi: ")[1].split()[0]
    assert f"      spi: {out_spi}" in r2.split("inbound esp sas:")[1]
    detailed = c.feed("show crypto ikev2 sa detailed")
    assert "Initiator of SA : No" in detailed
    assert c.feed("show crypto ikev2 sa detail") == detailed  # an abbreviation of "detailed"
    assert "Initiator of SA : No" in c.feed("show crypto ikev2 session detailed")
    assert "CHILD count:1" in c.feed("show crypto ikev2 session")
    assert "Incoming IKEv2 Requests: 1 " in c.feed("show crypto ikev2 stats")


def test_crypto_session_names_the_ikev2_profile(tmp_path: Path) -> None:
    """IOS prints the session's profile under its interface (show crypto session and its
    detail), as the IKEv2 captures in the reference show ("Profile: IKEV2_PFL_AES_GCM256")."""
    c = lab(tmp_path)
    c.feed("ping 10.0.2.10 source 192.168.1.1")
    brief = c.feed("show crypto session").splitlines()
    at = brief.index("Interface: GigabitEthernet0/0")
    assert brief[at + 1:at + 3] == ["Profile: PROF", "Session status: UP-ACTIVE     "], brief
    detail = c.feed("show crypto session detail").splitlines()
    at = detail.index("Interface: GigabitEthernet0/0")
    assert detail[at + 1] == "Profile: PROF", detail
    assert detail[at + 2].startswith("Uptime: "), detail
    c.feed("clear crypto session")
    down = c.feed("show crypto session")
    assert "Profile:" not in down and "Session status: DOWN" in down, down


def test_an_unanswered_ike_sa_init_has_agreed_on_nothing(tmp_path: Path) -> None:
    """While the peer has not answered IKE_SA_INIT nothing is agreed: IOS prints the
    algorithms, group and authentication methods as unknown (captures of SAs stuck IN-NEG
    towards a peer that never answers)."""
    c = console(tmp_path)
    out = run(c, "@R1\nenable\n" + ikev2_config(*R1))
    assert "Invalid" not in out, out
    run(c, WARM_ARP)
    c.feed("ping 10.0.2.10 source 192.168.1.1 repeat 1")  # R2 has no IKEv2: no answer
    sa = c.feed("show crypto ikev2 sa").splitlines()
    assert sa[3].split()[-1] == "IN-NEG", sa
    assert sa[4] == ("      Encr: Unknown - 0, PRF: Unknown - 0, Hash: None, DH Grp:0, "
                     "Auth sign: Unknown - 0, Auth verify: Unknown - 0"), sa
    assert sa[5] == "      Life/Active Time: 86400/0 sec", sa


def test_ikev2_needs_four_messages_where_ikev1_needs_nine(tmp_path: Path) -> None:
    c = lab(tmp_path)
    c.lab.fabric.capture()
    c.feed("ping 10.0.2.10 source 192.168.1.1")
    link = c.lab.fabric.link_of("R1", "GigabitEthernet0/0")
    assert link is not None
    ike = [f for _, f in link.captured if b"\x01\xf4\x01\xf4" in f[34:38]]  # UDP 500 -> 500
    assert len(ike) == 4
    for init in ike[:2]:  # both IKE_SA_INIT messages carry IOS's two vendor IDs
        assert b"CISCO-DELETE-REASON" in init and b"FLEXVPN-SUPPORTED" in init
    c.feed("clear crypto ikev2 sa")
    c.feed("@wait 1")
    c.feed("debug crypto ikev2")
    out = c.feed("ping 10.0.2.10 source 192.168.1.1 repeat 1")
    contents = re.findall(r"IKEv2 (\w+) Exchange (REQUEST|RESPONSE) \nPayload contents: \n (.*) ",
                          out)
    assert contents == [
        ("IKE_SA_INIT", "REQUEST", "SA KE N VID VID NOTIFY(NAT_DETECTION_SOURCE_IP) "
                                   "NOTIFY(NAT_DETECTION_DESTINATION_IP)"),
        ("IKE_SA_INIT", "RESPONSE", "SA KE N VID VID NOTIFY(NAT_DETECTION_SOURCE_IP) "
                                    "NOTIFY(NAT_DETECTION_DESTINATION_IP)"),
        # sent encrypted: the packet is one Encrypted payload, its plaintext listed before
        ("IKE_AUTH", "REQUEST", "ENCR"),
        ("IKE_AUTH", "RESPONSE", "IDr AUTH SA TSi TSr NOTIFY(SET_WINDOW_SIZE) "
                                 "NOTIFY(ESP_TFC_NO_SUPPORT) NOTIFY(NON_FIRST_FRAGS)")], out
    # a real IOS-XE 16.7 sends VID IDi AUTH CFG SA TSi TSr NOTIFY(INITIAL_CONTACT)
    # NOTIFY(USE_TRANSPORT_MODE) NOTIFY(SET_WINDOW_SIZE) NOTIFY(ESP_TFC_NO_SUPPORT)
    # NOTIFY(NON_FIRST_FRAGS): iosim sends no VID or CFG, and this child is in tunnel mode
    assert re.findall(r"Building packet for encryption.  \nPayload contents: \n (.*) ", out) == [
        "IDi AUTH SA TSi TSr NOTIFY(INITIAL_CONTACT) NOTIFY(SET_WINDOW_SIZE) "
        "NOTIFY(ESP_TFC_NO_SUPPORT) NOTIFY(NON_FIRST_FRAGS)"], out


def test_asymmetric_keys_and_a_wrong_remote_key(tmp_path: Path) -> None:
    c = lab(tmp_path, {"keys": "pre-shared-key local LEFT\npre-shared-key remote RIGHT"},
            {"keys": "pre-shared-key local RIGHT\npre-shared-key remote LEFT"})
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    bad = lab(tmp_path / "bad", {"keys": "pre-shared-key local LEFT\npre-shared-key remote X"},
              {"keys": "pre-shared-key local RIGHT\npre-shared-key remote LEFT"})
    bad.feed("debug crypto ikev2")
    out = bad.feed("ping 10.0.2.10 source 192.168.1.1")
    assert "".join(marks(out)) == "....."
    assert "Verification of peer's authentication data FAILED" in out
    assert "READY" not in bad.feed("show crypto ikev2 sa")
    bad.feed("@R2")
    bad.feed("debug crypto ikev2")
    out = bad.feed("@R1")
    out = bad.feed("ping 10.0.2.10 source 192.168.1.1")
    assert "READY" not in bad.feed("show crypto ikev2 sa")


def test_wrong_key_on_the_responder_is_authentication_failed(tmp_path: Path) -> None:
    c = lab(tmp_path, None, {"keys": "pre-shared-key WRONG"})
    c.feed("@R2")
    c.feed("debug crypto ikev2")
    c.feed("@R1")
    c.feed("debug crypto ikev2")
    out = c.feed("ping 10.0.2.10 source 192.168.1.1")
    assert "".join(marks(out)) == "....."
    assert "Received notify: AUTHENTICATION_FAILED" in out or \
        "NOTIFY(AUTHENTICATION_FAILED)" in out, out


def test_the_responder_that_refuses_the_key_says_it_sends_the_notify(tmp_path: Path) -> None:
    """The responder sends AUTHENTICATION_FAILED: its debug says so before the packet that
    carries it, and never that it received the notify it sent."""
    c = lab(tmp_path, None, {"keys": "pre-shared-key WRONG"})
    c.feed("@R2")
    c.feed("debug crypto ikev2")
    c.feed("@R1")
    c.feed("ping 10.0.2.10 source 192.168.1.1 repeat 1")
    r2 = [line.split("):", 1)[1] for line in c.feed("@R2").splitlines()
          if "SESSION ID = 1," in line]
    assert "Received notify: AUTHENTICATION_FAILED" not in r2, r2
    failed = r2.index("Verification of peer's authentication data FAILED")
    assert r2[failed + 1:failed + 5] == [
        "Sending notify: AUTHENTICATION_FAILED",
        "Building packet for encryption.  ",
        "Sending Packet [To 198.51.100.1:500/From 203.0.113.2:500/VRF i0:f0] ",
        "Auth exchange failed"], r2
    assert r2[failed + 5] == "Negotiation aborted due to ERROR: Auth exchange failed", r2


def test_proposal_mismatch_is_no_proposal_chosen(tmp_path: Path) -> None:
    c = lab(tmp_path, None, {"proposal": "encryption 3des\nintegrity md5\ngroup 2"})
    c.feed("debug crypto ikev2")
    out = c.feed("ping 10.0.2.10 source 192.168.1.1")
    assert "".join(marks(out)) == "....."
    assert "NOTIFY(NO_PROPOSAL_CHOSEN)" in out, out


def test_ts_unacceptable_for_acls_that_do_not_match(tmp_path: Path) -> None:
    c = lab(tmp_path, None, {"acl": "permit ip 10.0.3.0 0.0.0.255 192.168.1.0 0.0.0.255"})
    c.feed("debug crypto ikev2")
    out = c.feed("ping 10.0.2.10 source 192.168.1.1")
    assert "Received notify: TS_UNACCEPTABLE" in out, out
    assert "READY" in c.feed("show crypto ikev2 sa")  # the IKE SA is up, no child
    assert "CHILD count:0" in c.feed("show crypto ikev2 session")


def test_gcm_proposal_and_pfs_rekey_under_a_short_lifetime(tmp_path: Path) -> None:
    gcm = "encryption aes-gcm-256\nprf sha384\ngroup 20"
    c = lab(tmp_path, {"proposal": gcm, "extra_map": "set pfs group20\n"
                       "set security-association lifetime seconds 300"},
            {"proposal": gcm, "extra_map": "set pfs group20"})
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    sa = c.feed("show crypto ikev2 sa")
    assert "Encr: AES-GCM, keysize: 256, PRF: SHA384, Hash: None, DH Grp:20" in sa
    assert "PFS (Y/N): N" in c.feed("show crypto ipsec sa")  # IKE_AUTH's child: no PFS
    c.feed("@wait 280")
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1 repeat 20")) == ["!" * 20]
    ipsec = c.feed("show crypto ipsec sa")
    assert "PFS (Y/N): Y, DH group: group20" in ipsec  # the rekey: CREATE_CHILD_SA with KE
    assert re.search(r"#pkts encaps: 24,", ipsec), ipsec


def test_clear_crypto_ikev2_sa_and_running_config(tmp_path: Path) -> None:
    c = lab(tmp_path)
    c.feed("ping 10.0.2.10 source 192.168.1.1")
    c.feed("clear crypto ikev2 sa")
    assert "READY" not in c.feed("show crypto ikev2 sa")
    assert "%IKEV2-5-SA_DOWN: SA DOWN" in c.feed("show logging")
    c.feed("@wait 1")
    c.feed("@R2")
    assert "READY" not in c.feed("show crypto ikev2 sa")  # told with a Delete
    c.feed("@R1")
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    text = c.feed("show running-config | section crypto ikev2")
    assert "crypto ikev2 profile PROF" in text and " keyring local KR" in text
    assert " match identity remote address 203.0.113.2 255.255.255.255 " in text
    cmap = c.feed("show crypto map")
    assert "\tPeer = 203.0.113.2\n\tIKEv2 Profile: PROF\n\tExtended IP access list" in cmap
    run(c, "conf t\ncrypto ipsec profile VTI\nset transform-set MYSET\nset ikev2-profile PROF\n"
           "end\n")
    assert "IPSEC profile VTI\n\tIKEv2 Profile: PROF\n\tSecurity association" in c.feed(
        "show crypto ipsec profile")


def test_smart_defaults_and_incomplete_configuration(tmp_path: Path) -> None:
    c = console(tmp_path)
    out = c.feed("show crypto ikev2 proposal default")
    assert out.splitlines()[1] == "     Encryption : AES-CBC-256 AES-CBC-192 AES-CBC-128"
    assert "Proposal    : default" in c.feed("show crypto ikev2 policy")
    run(c, "conf t\nno crypto ikev2 proposal default\nend\n")
    assert c.feed("show crypto ikev2 proposal") == ""
    assert "no crypto ikev2 proposal default" in c.feed("show running-config")
    out = run(c, "conf t\ncrypto ikev2 proposal HALF\nencryption aes-cbc-128\nexit\n")
    assert "IKEv2 proposal MUST either have a set of an encryption algorithm" in out
    out = run(c, "crypto ikev2 profile P\nexit\n")
    assert "local authentication method not configured" in out
    out = run(c, "crypto map M 10 ipsec-isakmp\nset ikev2-profile NOPE\n")
    assert "% IKEv2 profile NOPE does not exist" in out
    out = run(c, "exit\ncrypto ikev2 policy P2\nproposal NOPE\nexit\n")
    assert "% No Proposal exists with the specified name NOPE" in out
    assert "set ikev2-profile NOPE" not in c.feed("do show running-config")
    out = c.feed("crypto ikev2 proposal X\nencryption aes-cbc-999")
    assert "Invalid input" in out



def _settled(config: str) -> list[str]:
    """A running-config without its header's times."""
    return [line for line in config.splitlines() if not line.startswith("! Last ")]


def test_ikev2_objects_in_use_cannot_be_removed(tmp_path: Path) -> None:
    c = lab(tmp_path)
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    before = c.feed("show running-config")
    run(c, "conf t")
    # IOS's refusal while a policy lists the proposal; nothing changes
    assert c.feed("no crypto ikev2 proposal PROP") == "% Cannot remove as proposal is in use.\n"
    assert c.feed("no crypto ikev2 profile PROF") == (
        "% Cannot remove as profile is in use by crypto map MYMAP 10.\n")
    assert c.feed("no crypto ikev2 keyring KR") == (
        "% Cannot remove as keyring is in use by crypto ikev2 profile PROF.\n")
    run(c, "crypto ipsec profile VTI\nset ikev2-profile PROF\nexit\ncrypto map MYMAP 10\n"
           "no set ikev2-profile\nexit")
    assert c.feed("no crypto ikev2 profile PROF") == (
        "% Cannot remove as profile is in use by ipsec profile VTI.\n")
    run(c, "crypto map MYMAP 10\nset ikev2-profile PROF\nexit\nno crypto ipsec profile VTI\nend")
    assert _settled(c.feed("show running-config")) == _settled(before)
    assert "Proposal    : PROP" in c.feed("show crypto ikev2 policy")
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == ["!!!!!"]
    assert "READY" in c.feed("show crypto ikev2 sa")
    # once nothing uses them they go, the policy before its proposal
    run(c, "conf t\ncrypto map MYMAP 10\nno set ikev2-profile\nexit\nno crypto ikev2 profile PROF\n"
           "no crypto ikev2 policy POL\nno crypto ikev2 proposal PROP\n"
           "no crypto ikev2 keyring KR\nend")
    config = c.feed("show running-config")
    assert "crypto ikev2 profile PROF" not in config and "ikev2 proposal PROP" not in config
    assert "crypto ikev2 keyring KR" not in config


def test_a_dynamic_map_entry_holds_its_ikev2_profile_too(tmp_path: Path) -> None:
    c = console(tmp_path)
    run(c, "@R2\nenable\nconf t\ncrypto ikev2 profile PROF\nexit\n"
           "crypto dynamic-map DYN 10\nset ikev2-profile PROF\nexit")
    assert c.feed("no crypto ikev2 profile PROF") == (
        "% Cannot remove as profile is in use by crypto dynamic-map DYN 10.\n")
    run(c, "no crypto dynamic-map DYN 10")
    assert c.feed("no crypto ikev2 profile PROF") == ""
    assert "ikev2 profile" not in c.feed("do show running-config")


def test_short_lifetimes_rekey_child_and_ike_sa_together_and_delete_the_old(
        tmp_path: Path) -> None:
    short = {"extra_map": "set pfs group14\nset security-association lifetime seconds 120",
             "profile_extra": "lifetime 120"}
    c = lab(tmp_path, short, {"extra_map": "set pfs group14", "profile_extra": "lifetime 120"})
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    spis = set(re.findall(r"^ +spi: (0x[0-9A-F]+)", c.feed("show crypto ipsec sa"), re.M))
    c.feed("@wait 115")  # past 90 %: CREATE_CHILD_SA for the pair (PFS) and for the IKE SA
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1 repeat 5")) == ["!!!!!"]
    assert "Tunnel-id Local" in (sa := c.feed("show crypto ikev2 sa"))
    assert re.search(r"^2\s+198\.51\.100\.1/500\s+203\.0\.113\.2/500.*READY", sa, re.M), sa
    for router in ("R1", "R2"):  # RFC 7296 2.8: the replaced pair is deleted on both sides
        c.feed(f"@{router}")
        ipsec = c.feed("show crypto ipsec sa")
        now = re.findall(r"^ +spi: (0x[0-9A-F]+)", ipsec, re.M)
        assert len(now) == 2 and not spis & set(now), ipsec
        assert "PFS (Y/N): Y, DH group: group14" in ipsec
        # the IKE SA rekey carries the session on: same session, one SA UP, no SA DOWN
        assert "Session-id:1, Status:UP-ACTIVE, IKE count:1" in c.feed(
            "show crypto ikev2 session")
        assert "  Session ID: 1  \n  IKEv2 SA: " in c.feed("show crypto session detail")
        logged = c.feed("show logging")
        assert logged.count("%IKEV2-5-SA_UP") == 1 and "%IKEV2-5-SA_DOWN" not in logged
    c.feed("debug crypto ikev2")  # the new SA's debug carries the session's id
    assert "IKEv2:(SESSION ID = 1,SA ID = 2):Sending Packet" in c.feed("clear crypto sa")


def test_ike_fragmentation_when_configured_splits_ike_auth(tmp_path: Path) -> None:
    c = lab(tmp_path)
    for router in ("R1", "R2"):
        run(c, f"@{router}\nconf t\ncrypto ikev2 fragmentation mtu 200\nend\n")
    c.lab.fabric.capture()
    c.feed("@R1")
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    link = c.lab.fabric.link_of("R1", "GigabitEthernet0/0")
    assert link is not None
    ike = [f[42:] for _, f in link.captured if f[34:38] == b"\x01\xf4\x01\xf4"]
    skf = [m for m in ike if m[16] == 53]  # the first payload is SKF (RFC 7383)
    assert len(ike) > 4 and len(skf) == len(ike) - 2, [len(m) for m in ike]
    assert all(len(m) + 28 <= 200 for m in skf), [len(m) for m in skf]  # IP + UDP + IKE
    assert "Fragmentation configured." in c.feed("show crypto ikev2 sa detail")
    assert "crypto ikev2 fragmentation mtu 200" in c.feed("show running-config")


def test_debug_text_is_made_only_while_debug_crypto_ikev2_is_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[object] = []
    real = ios_debug.render

    def counting(event: object, session: int = 0) -> list[str]:
        rendered.append(event)
        return real(event, session)

    monkeypatch.setattr(ios_debug, "render", counting)
    c = lab(tmp_path)
    assert marks(c.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    assert rendered == []  # the tunnel came up with nobody listening
    c.feed("clear crypto ikev2 sa")
    c.feed("@wait 1")
    c.feed("debug crypto ikev2")
    out = c.feed("ping 10.0.2.10 source 192.168.1.1 repeat 1")
    assert rendered and "Session with IKE ID PAIR" in out


def _request_counts(detail: str) -> list[str]:
    """The message-ID and window lines of ``show crypto ikev2 sa detailed``."""
    return [line for line in detail.splitlines()
            if line.lstrip().startswith(("Local req", "Local next", "Local window"))]


def test_sa_detail_counts_each_sides_requests_after_ike_auth(tmp_path: Path) -> None:
    # as IOS 15.4 prints them: the initiator of a new SA reads 2 local (its IKE_SA_INIT and
    # IKE_AUTH), the responder 0 and 0; then each side's requests
    c = lab(tmp_path)
    c.feed("ping 10.0.2.10 source 192.168.1.1")
    fresh = ["      Local req msg id:  {}              Remote req msg id:  0         ",
             "      Local next msg id: {}              Remote next msg id: 0         ",
             "      Local req queued:  {}              Remote req queued:  0         ",
             "      Local window:      5              Remote window:      5         "]
    assert _request_counts(c.feed("show crypto ikev2 sa detailed")) == [
        line.format(2) for line in fresh]
    c.feed("@R2")
    assert _request_counts(c.feed("show crypto ikev2 sa detailed")) == [
        line.format(0) for line in fresh]
    c.feed("@R1")
    c.feed("clear crypto sa")  # R1 asks R2 to delete the CHILD_SA: one request of R1's
    c.feed("@wait 1")
    assert _request_counts(c.feed("show crypto ikev2 sa detailed"))[0] == \
        "      Local req msg id:  3              Remote req msg id:  0         "
    c.feed("@R2")
    assert _request_counts(c.feed("show crypto ikev2 sa detailed"))[0] == \
        "      Local req msg id:  0              Remote req msg id:  1         "


# --- the engines' trace only while debug crypto ikev2 is on --------------------------------------

PING = "ping 10.0.2.10 source 192.168.1.1"
AGAIN = "clear crypto ikev2 sa\n@wait 1\n"  # the next ping negotiates from scratch
#: What the IKEv2 engines report whether or not anybody debugs: what the router acts on.
TRACE = (PacketSent, PacketReceived, Step)


def engine_events(c: LabConsole, device: str) -> list[object]:
    """Every event ``device``'s IKEv2 engines report from now on (they exist already)."""
    plane = c.lab.routers[device].crypto_plane
    assert isinstance(plane, RouterCrypto) and plane.ikev2.engines
    seen: list[object] = []
    for engine in plane.ikev2.engines.values():
        pull = engine.next_event

        def next_event(pull: Callable[[], object | None] = pull) -> object | None:
            event = pull()
            if event is not None:
                seen.append(event)
            return event

        engine.next_event = next_event  # type: ignore[method-assign]
    return seen


def test_debug_crypto_ikev2_typed_mid_lab_prints_what_debugging_all_along_prints(
        tmp_path: Path) -> None:
    """The same negotiation, on routers debugging since the start and on routers whose debug
    was turned on just before: the same lines, to the byte, and the same SAs."""
    along, late = lab(tmp_path / "along"), lab(tmp_path / "late")
    run(along, "@R2\ndebug crypto ikev2\n@R1\ndebug crypto ikev2\n")
    printed = {c: {d: debug_messages(c, d) for d in ("R1", "R2")} for c in (along, late)}
    for c in (along, late):
        assert marks(c.feed(PING)) == [".!!!!"]
        run(c, AGAIN)
    since = {d: len(printed[along][d]) for d in ("R1", "R2")}
    assert since["R1"] > 10 and printed[late] == {"R1": [], "R2": []}
    run(late, "@R2\ndebug crypto ikev2\n@R1\ndebug crypto ikev2\n")
    for c in (along, late):
        assert marks(c.feed(PING)) == [".!!!!"]
    for d in ("R1", "R2"):
        assert printed[late][d] == printed[along][d][since[d]:]
    assert any("Sending Packet" in m for m in printed[late]["R1"])
    for d in ("R1", "R2"):
        for c in (along, late):
            run(c, f"@{d}\n")  # what was printed meanwhile is out of the way
        for show in ("show crypto ikev2 sa detail", "show crypto ikev2 stats",
                     "show crypto ipsec sa"):
            shown = late.feed(show)
            assert shown == along.feed(show) and "Invalid" not in shown
        assert "READY" in late.feed("show crypto ikev2 sa")


def test_undebug_all_stops_the_lines_and_the_trace_events_behind_them(tmp_path: Path) -> None:
    c = lab(tmp_path)
    run(c, "@R2\ndebug crypto ikev2\n@R1\ndebug crypto ikev2\n")
    printed = {d: debug_messages(c, d) for d in ("R1", "R2")}
    assert marks(c.feed(PING)) == [".!!!!"]
    traced = {d: engine_events(c, d) for d in ("R1", "R2")}
    run(c, AGAIN)
    assert all(any(isinstance(e, TRACE) for e in traced[d]) for d in ("R1", "R2"))
    run(c, "@R2\nundebug all\n@R1\nundebug all\n" + AGAIN)
    since = {d: len(printed[d]) for d in ("R1", "R2")}
    events = {d: engine_events(c, d) for d in ("R1", "R2")}
    assert marks(c.feed(PING)) == [".!!!!"]
    for d in ("R1", "R2"):
        assert printed[d][since[d]:] == []
        assert ChildUp in {type(e) for e in events[d]}
        assert not any(isinstance(e, TRACE) for e in events[d]), events[d]


# --- the message-ID window (RFC 7296 2.3) -------------------------------------------------------

#: Two ACL lines, so two CHILD_SAs: R2's LAN split in halves.
HALVES_R1 = ("permit ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.127\n"
             "permit ip 192.168.1.0 0.0.0.255 10.0.2.128 0.0.0.127")
HALVES_R2 = ("permit ip 10.0.2.0 0.0.0.127 192.168.1.0 0.0.0.255\n"
             "permit ip 10.0.2.128 0.0.0.127 192.168.1.0 0.0.0.255")
_IKE_AT = 14 + 20 + 8  # the IKE header in an untagged IPv4 UDP 500 frame


def _two_children(tmp_path: Path) -> LabConsole:
    c = lab(tmp_path, {"acl": HALVES_R1}, {"acl": HALVES_R2})
    assert marks(c.feed(PING)) == [".!!!!"]
    c.feed("ping 10.0.2.200 source 192.168.1.1 repeat 1")  # brings the second child up
    assert c.feed("show crypto ikev2 session").count("CHILD count:2") == 1
    return c


def _lose(c: LabConsole, device: str, wanted: Callable[[int, bool], bool]) -> list[int]:
    """Drop the first IKEv2 message ``device`` would receive for which ``wanted(message
    id, is response)`` holds; returns the IDs of what it was handed afterwards."""
    fabric = c.lab.fabric
    receive = fabric.receivers[device]
    lost: list[int] = []
    seen: list[int] = []

    def lossy(interface: str, frame: bytes) -> None:
        if frame[_IKE_AT - 8:_IKE_AT - 4] == b"\x01\xf4\x01\xf4" and len(frame) > _IKE_AT + 28:
            mid = int.from_bytes(frame[_IKE_AT + 20:_IKE_AT + 24], "big")
            response = bool(frame[_IKE_AT + 19] & 0x20)
            if not lost and wanted(mid, response):
                lost.append(mid)
                return
            seen.append(mid)
        receive(interface, frame)

    fabric.receivers[device] = lossy
    return seen


def _sent_and_received(out: str) -> list[tuple[str, str, str]]:
    """(Sending|Received, message id, REQUEST|RESPONSE) of each INFORMATIONAL in a trace."""
    return re.findall(r"(Sending|Received) Packet .*\nInitiator SPI : \w+ - Responder SPI : "
                      r"\w+ Message id: (\d+)\nIKEv2 INFORMATIONAL Exchange (REQUEST|RESPONSE)",
                      out)


def test_both_routers_announce_a_window_of_five(tmp_path: Path) -> None:
    c = lab(tmp_path)
    c.feed("debug crypto ikev2")
    out = c.feed(PING)
    assert out.count("NOTIFY(SET_WINDOW_SIZE)") == 2  # in IKE_AUTH, request and response
    assert "Local window:      5              Remote window:      5" in c.feed(
        "show crypto ikev2 sa detailed")


def test_two_deletes_go_out_together_within_the_peers_window(tmp_path: Path) -> None:
    c = _two_children(tmp_path)
    c.feed("debug crypto ikev2")
    out = c.feed("clear crypto sa") + c.feed("@wait 1")
    assert _sent_and_received(out) == [("Sending", "3", "REQUEST"), ("Sending", "4", "REQUEST"),
                                       ("Received", "3", "RESPONSE"),
                                       ("Received", "4", "RESPONSE")], out
    assert out.count("Checking if request will fit in peer window") == 2
    c.feed("@R2")  # CREATE_CHILD_SA for the second child, then the two Deletes
    assert "Remote req msg id:  3 " in c.feed("show crypto ikev2 sa detailed")


def test_a_lost_delete_is_retransmitted_alone(tmp_path: Path) -> None:
    c = _two_children(tmp_path)
    handed = _lose(c, "R2", lambda mid, response: not response and mid == 3)
    c.feed("debug crypto ikev2")
    out = c.feed("clear crypto sa") + c.feed("@wait 3")
    assert re.findall(r"Retransmitting packet \(retry \d\), message id \d+", out) == [
        "Retransmitting packet (retry 1), message id 3"], out
    assert handed == [4, 3]  # R2 took 4 first, then 3 when it came again
    assert "Local req msg id:  5 " in c.feed("show crypto ikev2 sa detailed")
    c.feed("@R2")
    assert "Remote req msg id:  3 " in c.feed("show crypto ikev2 sa detailed")
    assert "CHILD count:0" in c.feed("show crypto ikev2 session")


def test_a_lost_answer_is_given_again_from_the_responders_window(tmp_path: Path) -> None:
    c = _two_children(tmp_path)
    _lose(c, "R1", lambda mid, response: response and mid == 4)
    c.feed("@R2")
    c.feed("debug crypto ikev2")
    printed = debug_messages(c, "R2")
    c.feed("@R1")
    c.feed("debug crypto ikev2")
    out = c.feed("clear crypto sa") + c.feed("@wait 10")
    # R1 sends 4 once more (and only 4), and gets its answer: no second retry
    assert re.findall(r"Retransmitting packet \(retry \d\), message id \d+", out) == [
        "Retransmitting packet (retry 1), message id 4"], out
    assert _sent_and_received(out)[-1] == ("Received", "4", "RESPONSE"), out
    # R2 answers the repeat with the response it kept: nothing made or done again
    trace = _sent_and_received("\n".join(printed))
    assert trace == [("Received", "3", "REQUEST"), ("Sending", "3", "RESPONSE"),
                     ("Received", "4", "REQUEST"), ("Sending", "4", "RESPONSE"),
                     ("Received", "4", "REQUEST")], trace
    assert sum("Building packet for encryption" in m for m in printed) == 2
    c.feed("@R2")
    assert "Remote req msg id:  3 " in c.feed("show crypto ikev2 sa detailed")


def _windows(tmp_path: Path, r1: int, r2: int) -> LabConsole:
    """Two children up between routers whose ``crypto ikev2 window`` is ``r1`` and ``r2``."""
    c = lab(tmp_path, {"acl": HALVES_R1}, {"acl": HALVES_R2})
    out = run(c, f"@R1\nconf t\ncrypto ikev2 window {r1}\nend\n"
                 f"@R2\nconf t\ncrypto ikev2 window {r2}\nend\n@R1\n")
    assert "Invalid" not in out, out
    assert marks(c.feed(PING)) == [".!!!!"]
    c.feed("ping 10.0.2.200 source 192.168.1.1 repeat 1")
    return c


def test_crypto_ikev2_window_is_what_each_router_announces_and_honours(tmp_path: Path) -> None:
    c = _windows(tmp_path, 10, 1)
    assert "Local window:      10             Remote window:      1 " in c.feed(
        "show crypto ikev2 sa detailed")
    c.feed("debug crypto ikev2")
    out = c.feed("clear crypto sa") + c.feed("@wait 1")
    # R2 keeps one request at a time: R1's second Delete waits for the first one's answer
    assert _sent_and_received(out) == [("Sending", "3", "REQUEST"), ("Received", "3", "RESPONSE"),
                                       ("Sending", "4", "REQUEST"),
                                       ("Received", "4", "RESPONSE")], out
    c.feed("@R2")
    assert "Local window:      1              Remote window:      10 " in c.feed(
        "show crypto ikev2 sa detailed")


def test_a_changed_window_applies_to_the_next_ike_sa(tmp_path: Path) -> None:
    c = _windows(tmp_path, 3, 5)
    run(c, "conf t\ncrypto ikev2 window 7\nend")
    assert "Local window:      3 " in c.feed("show crypto ikev2 sa detailed")
    run(c, AGAIN)
    c.feed(PING)
    assert "Local window:      7 " in c.feed("show crypto ikev2 sa detailed")
    run(c, "conf t\nno crypto ikev2 window\nend\n" + AGAIN)
    c.feed(PING)
    assert "Local window:      5 " in c.feed("show crypto ikev2 sa detailed")


def test_crypto_ikev2_window_at_the_prompt(tmp_path: Path) -> None:
    c = console(tmp_path)
    run(c, "@R1\nenable\nconf t")
    assert "<1-20>  Specify window size" in c.feed("crypto ikev2 window ?")
    for bad in ("21", "0"):
        out = c.feed(f"crypto ikev2 window {bad}")
        assert out.strip("\n").splitlines() == [" " * 31 + "^",
                                                 "% Invalid input detected at '^' marker."], out
    assert "ikev2" not in c.feed("do show running-config")
    c.feed("crypto ikev2 window 12")
    assert "crypto ikev2 window 12\n!" in c.feed("do show running-config")
    c.feed("crypto ikev2 window 5")  # IOS's default: not listed
    assert "window" not in c.feed("do show running-config")
    c.feed("crypto ikev2 window 9")
    c.feed("no crypto ikev2 window 3")  # any number, or none, removes it
    assert "window" not in c.feed("do show running-config")


def test_one_key_for_both_directions_replaces_a_local_and_remote_pair(tmp_path: Path) -> None:
    """A wrong remote key fixed the other way: one ``pre-shared-key`` for both directions."""
    c = lab(tmp_path, {"keys": "pre-shared-key local K3Y\npre-shared-key remote WRONG"})
    assert "".join(marks(c.feed(PING))) == "....."
    run(c, "conf t\ncrypto ikev2 keyring KR\npeer PEER\npre-shared-key K3Y\nend\n"
           "clear crypto ikev2 sa\n@wait 1")
    ring = c.feed("show running-config | section crypto ikev2 keyring")
    assert "  pre-shared-key K3Y" in ring and "local" not in ring and "remote" not in ring
    c.feed(PING)
    assert marks(c.feed(PING)) == ["!!!!!"]


def test_show_crypto_ikev2_sa_has_ios_15_headings(tmp_path: Path) -> None:
    """IOS 15.4's layout (an IOS-XE router writes "IPv4 Crypto IKEv2 SA " and "not  configured")."""
    c = lab(tmp_path)
    c.feed(PING)
    brief = c.feed("show crypto ikev2 sa")
    assert brief.startswith(" IPv4 Crypto IKEv2  SA\n\nTunnel-id Local ")
    assert brief.endswith(" sec\n\n IPv6 Crypto IKEv2  SA\n\n")
    detail = c.feed("show crypto ikev2 sa detailed")
    assert "\n      Fragmentation not configured.\n" in detail
    run(c, "@ISP\nenable")  # no IKEv2 SA: the table's head, a blank line, the IPv6 heading
    assert c.feed("show crypto ikev2 sa").endswith(" Status \n\n IPv6 Crypto IKEv2  SA\n\n")
    c.feed("@R1")
    assert detail.endswith("      Initiator of SA : Yes\n\n IPv6 Crypto IKEv2  SA\n\n")


def test_session_detail_lists_dpd_among_the_ikev2_sas_capabilities(tmp_path: Path) -> None:
    c = lab(tmp_path, {"profile_extra": "dpd 10 3 on-demand"})
    c.feed(PING)
    assert re.search(r"IKEv2 SA: local 198\.51\.100\.1/500 remote 203\.0\.113\.2/500 Active ?\n"
                     r" +Capabilities:D connid:", c.feed("show crypto session detail"))
    c.feed("@R2")  # no dpd in R2's profile
    assert "Capabilities:(none) connid:" in c.feed("show crypto session detail")


def test_on_demand_dpd_probes_when_r1_sends_to_a_silent_peer(tmp_path: Path) -> None:
    """dpd 10 2 on-demand on R1: replies to R2's traffic never make R1 doubt R2; once R2's
    WAN goes down, R1's next echo after 10 s of silence sends the probe, and after the retries
    the IKE SA is declared dead."""
    c = lab(tmp_path, {"profile_extra": "dpd 10 2 on-demand"})
    c.feed(PING)
    c.feed("debug crypto ikev2")
    c.feed("@R2")
    c.feed("ping 192.168.1.10 source 10.0.2.1 repeat 3")  # R1 only answers
    c.feed("@R1")
    out = c.feed("@wait 60")
    assert "liveness" not in out.lower() and "SA DOWN" not in out
    c.feed("@R2")
    c.feed("configure terminal")
    c.feed("interface GigabitEthernet0/0")
    c.feed("shutdown")
    c.feed("end")
    c.feed("@R1")
    c.feed("@wait 15")
    out = c.feed(f"{PING} timeout 1") + c.feed("@wait 30")
    assert "%IKEV2-5-SA_DOWN" in out or "SA DOWN" in out.upper(), out
    assert "READY" not in c.feed("show crypto ikev2 sa")
