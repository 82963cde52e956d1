"""What a responder accepts in quick mode, as IOS decides it: PFS offered to an entry without
``set pfs``, a PFS group mismatch, proxies narrower than the responder's ACL line (the "works
only when one side starts it" ticket), and ``mode transport`` as a preference."""

from __future__ import annotations

import re
from pathlib import Path

from labkit import console as lab_console
from labkit import marks, run, seeded
from test_vpn import TRANSPORT

from iosim.lab.console import LabConsole

NO_PFS = {"set pfs group14\n": ""}
CAPTURE = (Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "ios-public"
           / "debug_crypto"
           / "github-id45014605715__tunupgh_IOS15_classic_initiator_PFS_mismatch.txt")


def _values_out(line: str) -> str:
    """A debug line with its addresses, conn-ids and message IDs taken out."""
    return re.sub(r"-?\d+(\.\d+){0,3}", "N", line)


def _debug_lines(out: str) -> list[str]:
    return [ln.split(": ", 1)[1] for ln in out.splitlines() if ln.startswith("*Mar")]


def _logged(console: LabConsole, device: str) -> list[str]:
    """The debug and log lines ``device`` buffered (the console ends on it)."""
    console.feed(f"@{device}")
    return _debug_lines(console.feed("show logging"))


def test_a_responder_without_set_pfs_takes_the_initiators_pfs_group(tmp_path: Path) -> None:
    console = seeded(tmp_path, r2_replace=NO_PFS)
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    assert "     PFS (Y/N): Y, DH group: group14" in console.feed("show crypto ipsec sa")
    console.feed("@R2")
    r2 = console.feed("show crypto ipsec sa")
    assert "     PFS (Y/N): Y, DH group: group14" in r2  # the group the initiator offered
    assert "    #pkts decaps: 4, #pkts decrypt: 4, #pkts verify: 4" in r2


def test_the_side_without_pfs_cannot_start_the_tunnel(tmp_path: Path) -> None:
    """R2 has no ``set pfs``, R1 requires group 14: traffic from R2's LAN starts quick mode
    without PFS and R1 refuses it, blaming PFS and not the transform set; traffic from R1's
    LAN brings the tunnel up, and then R2's traffic uses it."""
    console = seeded(tmp_path, r2_replace=NO_PFS)
    run(console, "debug crypto ipsec\ndebug crypto isakmp\n@R2\n")
    assert marks(console.feed("ping 192.168.1.10 source 10.0.2.1")) == ["....."]
    assert "Status: ACTIVE" not in console.feed("show crypto ipsec sa")
    r1 = _logged(console, "R1")
    assert "ISAKMP:(1001): IPSec policy invalidated proposal with error 256" in r1
    assert not [ln for ln in r1 if "transform proposal not supported" in ln]
    assert ("ISAKMP:(1001): phase 2 SA policy not acceptable! (local 198.51.100.1 remote "
            "203.0.113.2)") in r1
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    console.feed("@R2")
    assert marks(console.feed("ping 192.168.1.10 source 10.0.2.1")) == ["!!!!!"]


def test_a_pfs_group_mismatch_fails_with_ios_words_on_both_sides(tmp_path: Path) -> None:
    console = seeded(tmp_path, r2_replace={"set pfs group14\n": "set pfs group5\n"})
    run(console, "@R2\ndebug crypto ipsec\ndebug crypto isakmp\n@R1\ndebug crypto isakmp\n")
    out = console.feed("ping 10.0.2.10 source 192.168.1.1 repeat 1")
    assert marks(out) == ["."]
    r1 = _debug_lines(out)
    # the classic IOS 15 initiator reads the refusal as the captured trace does
    notify = r1.index("ISAKMP:(1001): processing NOTIFY PROPOSAL_NOT_CHOSEN protocol 3")
    node = r1[notify - 2].split()[4]
    assert r1[notify - 3:notify + 4] == [
        "ISAKMP (0:1001): received packet from 203.0.113.2 dport 500 sport 500 Global (I) "
        "QM_IDLE      ",
        f"ISAKMP: set new node {node} to QM_IDLE      ",
        f"ISAKMP:(1001): processing HASH payload. message ID = {node}",
        "ISAKMP:(1001): processing NOTIFY PROPOSAL_NOT_CHOSEN protocol 3",
        f'ISAKMP:(1001):deleting node {node} error FALSE reason "Informational (in) state 1"',
        "ISAKMP:(1001):Input = IKE_MESG_FROM_PEER, IKE_INFO_NOTIFY",
        "ISAKMP:(1001):Old State = IKE_P1_COMPLETE  New State = IKE_P1_COMPLETE "]
    if CAPTURE.exists():  # the captured IOS 15 initiator's lines, values aside
        want = CAPTURE.read_text().splitlines()
        start = max(i for i, ln in enumerate(want) if "(I) QM_IDLE" in ln and "received" in ln)
        assert [_values_out(ln) for ln in r1[notify - 3:notify + 4]] == [
            _values_out(ln) for ln in want[start:start + 7]]
    r2 = _logged(console, "R2")
    assert "ISAKMP:(1001): IPSec policy invalidated proposal with error 256" in r2
    assert not [ln for ln in r2 if "transform proposal not supported" in ln]
    assert "QM_IDLE" in console.feed("show crypto isakmp sa")
    assert "Status: ACTIVE" not in console.feed("show crypto ipsec sa")


def test_a_static_map_accepts_proxies_within_its_acl_line(tmp_path: Path) -> None:
    """The classic ticket: R2's crypto ACL covers all of 192.168.0.0/16, R1's only
    192.168.1.0/24. R1's proposal lies within R2's line: accepted, and the SA is made for
    R1's narrower proxies. R2's own proposal (the /16) lies within none of R1's lines:
    refused, so the tunnel comes up only when R1's side starts it."""
    console = seeded(tmp_path, r2_replace={
        "permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255":
        "permit ip 10.0.2.0 0.0.0.255 192.168.0.0 0.0.255.255"})
    run(console, "debug crypto ipsec\ndebug crypto isakmp\n@R2\n")
    assert marks(console.feed("ping 192.168.1.10 source 10.0.2.1")) == ["....."]
    r1 = _logged(console, "R1")
    assert "IPSEC(ipsec_process_proposal): proxy identities not supported" in r1
    assert "ISAKMP:(1001): IPSec policy invalidated proposal with error 32" in r1
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    console.feed("@R2")
    r2 = console.feed("show crypto ipsec sa")
    flows = r2.split("   protected vrf: (none)\n")[1:]
    assert len(flows) == 2  # the ACL line (no SA), then the narrower flow R1 proposed
    assert "   remote ident (addr/mask/prot/port): (192.168.0.0/255.255.0.0/0/0)" in flows[0]
    assert "current outbound spi: 0x0(0)" in flows[0]
    assert "   remote ident (addr/mask/prot/port): (192.168.1.0/255.255.255.0/0/0)" in flows[1]
    assert "    #pkts decaps: 4, #pkts decrypt: 4, #pkts verify: 4" in flows[1]
    # R2's traffic for R1's LAN now rides that SA (4 replies, then 5 echoes encrypted)
    assert marks(console.feed("ping 192.168.1.10 source 10.0.2.1")) == ["!!!!!"]
    assert "    #pkts encaps: 9, #pkts encrypt: 9, #pkts digest: 9" in console.feed(
        "show crypto ipsec sa")


def _host_to_host(console: LabConsole, r1_mode: str, r2_mode: str) -> None:
    for dev, me, peer, mode in (("@R1", "198.51.100.1", "203.0.113.2", r1_mode),
                                ("@R2", "203.0.113.2", "198.51.100.1", r2_mode)):
        script = TRANSPORT.format(dev=dev, me=me, peer=peer).replace(
            "mode transport\n", f"mode {mode}\n")
        assert "% Invalid" not in run(console, script)


def test_mode_transport_prefers_transport_and_accepts_tunnel(tmp_path: Path) -> None:
    """R1's set says ``mode transport``, R2's ``mode tunnel``: R1 proposes transport, which
    R2 refuses (a tunnel-mode set accepts tunnel only); R2 proposes tunnel, which R1 accepts,
    and the pair runs in tunnel mode."""
    console = lab_console(tmp_path)
    _host_to_host(console, "transport", "tunnel")
    run(console, "@R2\ndebug crypto ipsec\n@R1\n")
    assert marks(console.feed("ping 203.0.113.2")) == ["....."]
    assert ("IPSEC(ipsec_process_proposal): transform proposal not supported for identity: "
            "{esp-aes esp-sha-hmac }") in _logged(console, "R2")
    assert marks(console.feed("ping 198.51.100.1")) == [".!!!!"]
    assert "in use settings ={Tunnel, }" in console.feed("show crypto ipsec sa")
    console.feed("@R1")
    assert "in use settings ={Tunnel, }" in console.feed("show crypto ipsec sa")


def test_mode_transport_require_refuses_tunnel(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    _host_to_host(console, "transport require", "tunnel")
    console.feed("@R1")
    assert " mode transport require\n" in console.feed("show running-config | section "
                                                       "transform-set")
    console.feed("@R2")
    assert marks(console.feed("ping 198.51.100.1")) == ["....."]
    assert "QM_IDLE" in console.feed("show crypto isakmp sa")
    assert "Status: ACTIVE" not in console.feed("show crypto ipsec sa")
    # both requiring transport between the peers themselves: transport
    run(console, "conf t\ncrypto ipsec transform-set HOST esp-aes esp-sha-hmac\n"
                 "mode transport require\nend\nclear crypto sa\n")
    assert marks(console.feed("ping 198.51.100.1")) == [".!!!!"]
    assert "in use settings ={Transport, }" in console.feed("show crypto ipsec sa")


def test_mode_transport_between_lans_negotiates_tunnel(tmp_path: Path) -> None:
    """``mode transport`` on both ends of the seed's site-to-site VPN: the traffic is not the
    peers' own, so the setting is ignored and tunnel mode is negotiated."""
    to_transport = {"mode tunnel\n": "mode transport\n"}
    console = seeded(tmp_path, r1_replace=to_transport, r2_replace=to_transport)
    assert marks(console.feed("ping 10.0.2.10 source 192.168.1.1")) == [".!!!!"]
    assert "in use settings ={Tunnel, }" in console.feed("show crypto ipsec sa")
    console.feed("@R2")
    assert "in use settings ={Tunnel, }" in console.feed("show crypto ipsec sa")
