"""``debug crypto isakmp`` / ``ipsec`` of the seed's tunnel setup, line by line against IOS's.

The seed's VPN comes up (PC1's LAN pings PC2's) with the debugs on. R1's trace (the
initiator) and R2's (the responder) are reduced to the shapes of their lines
(``tests/debugshapes.py``: values, and the prefix layout that differs between IOS releases,
dropped) and compared, every line and in order, with traces captured on real routers and
reduced the same way:

* R1 with the IOS-XE 17 initiator of ``debug-crypto-isakmp-main-mode.txt`` [1] (the trace
  of ``ios-public/debug_crypto/github-id20666743554__...``, whole);
* R2 with the IOS-XE 16 responder of ``ios-public/debug_crypto/github-id1475816033__...``
  for main mode, and the IOS-XE responder of ``ios-public/debug_crypto/
  github-id45804448848__...`` (debug crypto isakmp and ipsec) for quick mode; through the
  ISP's NAT, R2 with the IOS-XE 16 trace whole (it is a NAT-T responder);
* R1's words and layout, space for space, with the classic IOS 15 initiator of
  ``ios-public/debug_crypto/github-id45014605715__...`` (a PFS mismatch): every line of it
  is in R1's trace, in its order, when R1 offers no PFS to an R2 that requires it;
* a refused quick mode, both sides, with section E of ``debug-crypto-failures.txt`` (an
  ACL that does not mirror the peer's).

Each expectation (``debug_expectations.py``) is its captures' shapes with the edits the
seed's configuration calls for -- each group of edits says why (``XE_ONLY``, ``PFS``, ...);
everything else must be equal. ``DERIVATIONS`` says how; when the captures are at hand
(``../shared/reference``) the expectations are derived from them again, and an edit that
changes nothing in its capture fails.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import debug_expectations
import pytest
from debug_expectations import (
    CLASSIC,
    INITIATOR,
    REFUSED_INITIATOR,
    REFUSING_RESPONDER,
    RESPONDER,
    RESPONDER_THROUGH_NAT,
)
from debugshapes import classic, records, shapes
from labkit import ISP_NAT, WARM_ARP, configure_seed, debug_messages, marks, run, seeded
from labkit import console as lab_console

from iosim.ike.engine import (
    InitialContact,
    IsakmpSaDeleted,
    Phase1Established,
    Phase2Deleted,
    Phase2Established,
)
from iosim.ike.events import Phase2Keyed
from iosim.ipsec.router_crypto import RouterCrypto
from iosim.lab.console import LabConsole

PING = "ping 10.0.2.10 source 192.168.1.1"
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
XE17_INITIATOR = ("ios/debug-crypto-isakmp-main-mode.txt", "[1]", "[2]")
XE16_RESPONDER = ("ios-public/debug_crypto/github-id1475816033__HQ_IOSXE16_responder_NAT-T.txt",
                  "", "")
XE_QUICK_MODE = ("ios-public/debug_crypto/github-id45804448848__ce2_IOSXE_responder_quick_mode"
                 ".txt", "", "")
CLASSIC_INITIATOR = ("ios-public/debug_crypto/github-id45014605715__tunupgh_IOS15_classic_"
                     "initiator_PFS_mismatch.txt", "", "")
FAILURES = ("ios/debug-crypto-failures.txt", "E. Proxy-identity", "F. PFS mismatch")


def capture(source: tuple[str, str, str]) -> list[str] | None:
    """The records of a capture (between its markers), None if the reference is absent."""
    path = REFERENCE / source[0]
    if not path.exists():
        return None
    text = path.read_text()
    if source[1]:
        text = text.split(source[1], 1)[1]
    if source[2]:
        text = text.split(source[2], 1)[0]
    return records(text)


# --- the edits: what the seed's configuration makes different from the captured routers ------

Edit = tuple[tuple[str, ...], tuple[str, ...]]  # captured lines -> the seed's

#: Lines only IOS-XE prints, or prints so.
XE_ONLY: tuple[Edit, ...] = (
    # its ISAKMP-ERROR about its peer index table (no IOS 15 trace has it)
    (("ISAKMP Failed to find peer index node to update peer_info_list",), ()),
    # it adds the notify's SPI and node on a second line
    (("ISAKMP processing NOTIFY INITIAL_CONTACT protocol N spi N, message ID = N, sa = N",),
     ("ISAKMP processing NOTIFY INITIAL_CONTACT protocol N",)),
    # the capture's ping marks, printed at the end of the last line
    (("ISAKMP Old State = IKE_QM_IPSEC_INSTALL_AWAIT New State = IKE_QM_PHASE2_COMPLETE.....",),
     ("ISAKMP Old State = IKE_QM_IPSEC_INSTALL_AWAIT New State = IKE_QM_PHASE2_COMPLETE",)),
)
#: The captured responder's ISAKMP profile VPN (with keyring RA) matched its peer; the seed has
#: no profile and a global ``crypto isakmp key``.
NO_PROFILE: tuple[Edit, ...] = (
    (("ISAKMP Scanning profiles for xauth ... VPN",), ("ISAKMP Scanning profiles for xauth ...",)),
    (("ISAKMP peer matches VPN profile", "ISAKMP Found ADDRESS key in keyring RA"),
     ("ISAKMP peer matches *none* of the profiles",)),
)
#: The captured initiator sent the XAUTH vendor ID (IOS reads garbage for its "major"); the
#: seed's routers do no xauth and send none.
NO_XAUTH: tuple[Edit, ...] = (
    (("ISAKMP processing vendor id payload",
      "ISAKMP vendor ID seems Unity/DPD but major N mismatch", "ISAKMP vendor ID is XAUTH"), ()),
)
#: No NAT between the seed's routers: the second NAT-D is the peer's hash, so IOS finds no
#: NAT, and no port floats.
NO_NAT: tuple[Edit, ...] = (
    (("ISAKMP received payload type N", "ISAKMP His hash no match - this node outside NAT",
      "ISAKMP received payload type N", "ISAKMP His hash no match - this node outside NAT"),
     ("ISAKMP received payload type N", "ISAKMP His hash no match - this node outside NAT",
      "ISAKMP received payload type N", "ISAKMP No NAT Found for self or peer")),
    (("ISAKMP Detected port floating to port = N",), ()),
)
#: The captured initiator offered 6000 s (a short attribute); the seed's 86400 s take four bytes.
LONG_LIFETIME: tuple[Edit, ...] = (
    (("ISAKMP Basic life_in_seconds:N",),
     ("ISAKMP Fill atts in sa vpi_length:N", "ISAKMP Fill atts in sa life_in_seconds:N")),
)
#: The seed uses AES-256 in both phases where the NAT-T capture used 3DES: a key length
#: follows the cipher (ISAKMP) and the authenticator (IPsec).
AES_256: tuple[Edit, ...] = (
    (("ISAKMP encryption V", "ISAKMP hash V"),
     ("ISAKMP encryption V", "ISAKMP keylength of N", "ISAKMP hash V")),
)
AES_256_IPSEC: tuple[Edit, ...] = (
    (("ISAKMP authenticator is V", "ISAKMP atts are acceptable."),
     ("ISAKMP authenticator is V", "ISAKMP key length is N", "ISAKMP atts are acceptable.")),
)
#: The seed's crypto maps set PFS group 14 (the captured routers had none): the group in each
#: quick-mode transform, a KE payload after the nonce.
PFS: tuple[Edit, ...] = (
    (("ISAKMP key length is N", "ISAKMP atts are acceptable."),
     ("ISAKMP key length is N", "ISAKMP group is N", "ISAKMP atts are acceptable.")),
    (("ISAKMP processing NONCE payload. message ID = N",
      "ISAKMP processing ID payload. message ID = N"),
     ("ISAKMP processing NONCE payload. message ID = N",
      "ISAKMP processing KE payload. message ID = N",
      "ISAKMP processing ID payload. message ID = N")),
)


#: A refused quick mode as IOS-XE tells it: the notify's SPI and node on a second line; on
#: the initiator the refused node deleted at once ("Delete Larval": the classic IOS 15 trace
#: of the same refusal has neither); the nodes purged 20 and 50 s later (after the ping).
XE_REFUSAL: tuple[Edit, ...] = (
    (("ISAKMP processing NOTIFY PROPOSAL_NOT_CHOSEN protocol N spi N, message ID = N, sa = N",),
     ("ISAKMP processing NOTIFY PROPOSAL_NOT_CHOSEN protocol N",)),
    (("ISAKMP Sending NOTIFY PROPOSAL_NOT_CHOSEN protocol N spi N, message ID = N",),
     ("ISAKMP Sending NOTIFY PROPOSAL_NOT_CHOSEN protocol N",)),
    (("ISAKMP deleting spi N message ID = N",
      'ISAKMP deleting node N error TRUE reason "Delete Larval"'), ()),
    (("ISAKMP purging node N", "ISAKMP purging node N"), ()),
)


def edited(lines: list[str], *edits: tuple[Edit, ...]) -> list[str]:
    """``lines`` with every occurrence of each edit's captured lines replaced, group after
    group; a group that changes nothing is a mistake."""
    for group in edits:
        before = lines
        for old, new in group:
            out: list[str] = []
            i = 0
            while i < len(lines):
                if tuple(lines[i:i + len(old)]) == old:
                    out += new
                    i += len(old)
                else:
                    out.append(lines[i])
                    i += 1
            lines = out
        assert lines != before, group
    return lines

_UNKNOWN_VID = ("ISAKMP:(N): processing vendor id payload",
                "ISAKMP:(N): vendor ID seems Unity/DPD but major N mismatch")
_POLICY = ("ISAKMP:      encryption V", "ISAKMP:      hash V", "ISAKMP:      default group N",
           "ISAKMP:      auth pre-share", "ISAKMP:      life type in seconds",
           "ISAKMP:      life duration (VPI) of  N N N N ")
_ID = ("ISAKMP (N:N): ID payload \n\tnext-payload : N\n\ttype         : N \n\taddress      : A "
       "\n\tprotocol     : N{} \n\tport         : N \n\tlength       : N")
#: The classic capture's lines that its peer (not an IOS 15 router like the seed's R2), its
#: second policy or its author put there.
CLASSIC_PEER: tuple[Edit, ...] = (
    # the peer's second vendor ID in MM2, unknown to IOS (read twice, as IOS reads them)
    ((*_UNKNOWN_VID, "ISAKMP:(N):found peer pre-shared key matching A"),
     ("ISAKMP:(N):found peer pre-shared key matching A",)),
    ((*_UNKNOWN_VID, "ISAKMP:(N):Input = IKE_MESG_INTERNAL, IKE_PROCESS_MAIN_MODE"),
     ("ISAKMP:(N):Input = IKE_MESG_INTERNAL, IKE_PROCESS_MAIN_MODE",)),
    # the captured router's first policy (priority 3, 3DES against the peer's AES); the
    # seed's R1 has one
    (("ISAKMP:(N):Checking ISAKMP transform N against priority N policy", *_POLICY,
      "ISAKMP:(N):Encryption algorithm offered does not match policy!",
      "ISAKMP:(N):atts are not acceptable. Next payload is N"), ()),
    # the author's typos
    (("ISAKMP:(N):Old State = .IKE_I_MM2  New State = IKE_I_MM3 ",),
     ("ISAKMP:(N):Old State = IKE_I_MM2  New State = IKE_I_MM3 ",)),
    ((_ID.format("."),), (_ID.format(""),)),
    # the peer's vendor IDs in MM4 beyond Unity, DPD and IOS's: XAUTH and an unknown one
    (("ISAKMP:(N): vendor ID seems Unity/DPD but major N mismatch",
      "ISAKMP:(N): vendor ID is XAUTH"), ()),
    (("ISAKMP:(N): processing vendor id payload",
      "ISAKMP:(N):vendor ID seems Unity/DPD but hash mismatch"), ()),
    # the peer's MM6 carried a payload of type 17 and its DPD vendor ID
    (("ISAKMP:received payload type N", "ISAKMP:(N): processing vendor id payload",
      "ISAKMP:(N): vendor ID is DPD", "ISAKMP:(N):SA authentication status:\tauthenticated"),
     ("ISAKMP:(N):SA authentication status:\tauthenticated",)),
    # then told R1 its shorter phase-1 lifetime (RESPONDER_LIFETIME); the seed's agree
    (("ISAKMP (N:N): received packet from A dport N sport N Global (I) MM_KEY_EXCH",
      "ISAKMP: set new node N to QM_IDLE      ",
      "ISAKMP:(N): processing NOTIFY RESPONDER_LIFETIME protocol N",
      "ISAKMP:(N):SA authentication status:\tauthenticated",
      "ISAKMP:(N): processing responder lifetime",
      "ISAKMP:(N): start processing isakmp responder lifetime",
      "ISAKMP:(N): restart ike sa timer to N secs",
      'ISAKMP:(N):deleting node N error FALSE reason "Informational (in) state N"',
      "ISAKMP:(N):Input = IKE_MESG_FROM_PEER, IKE_INFO_NOTIFY",
      "ISAKMP:(N):Old State = IKE_I_MM6  New State = IKE_I_MM6 "), ()),
)


def _main_mode(messages: list[str]) -> list[str]:
    """The messages before the first quick-mode message arrives."""
    return messages[:next(i for i, m in enumerate(messages)
                          if "received packet" in m and "QM_IDLE" in m)]


def _whole(messages: list[str]) -> list[str]:
    return messages


def _initiator_part(messages: list[str]) -> list[str]:
    """Section E: spoke2's messages (before the hub's prompt)."""
    return messages[:next(i for i, m in enumerate(messages) if "(R) QM_IDLE" in m)]


def _responder_part(messages: list[str]) -> list[str]:
    return messages[next(i for i, m in enumerate(messages) if "(R) QM_IDLE" in m):]


Part = tuple[tuple[str, str, str], Callable[[list[str]], list[str]], tuple[tuple[Edit, ...], ...]]

#: How each expectation derives from the captures: (capture, the messages taken, edits).
DERIVATIONS: dict[str, tuple[Part, ...]] = {
    "INITIATOR": ((XE17_INITIATOR, _whole, (XE_ONLY, PFS)),),
    "RESPONDER": (
        (XE16_RESPONDER, _main_mode,
         (XE_ONLY, NO_PROFILE, NO_XAUTH, NO_NAT, LONG_LIFETIME, AES_256)),
        (XE_QUICK_MODE, _whole, (XE_ONLY, PFS))),
    "RESPONDER_THROUGH_NAT": (
        (XE16_RESPONDER, _whole, (XE_ONLY, NO_PROFILE, NO_XAUTH, AES_256, AES_256_IPSEC, PFS)),),
    "REFUSED_INITIATOR": ((FAILURES, _initiator_part, (XE_REFUSAL,)),),
    "REFUSING_RESPONDER": ((FAILURES, _responder_part, (XE_REFUSAL, PFS)),),
}


def derived(name: str) -> list[str] | None:
    """The expectation ``name`` derived from the captures, None without them."""
    out: list[str] = []
    for source, part, edits in DERIVATIONS[name]:
        found = capture(source)
        if found is None:
            return None
        out += edited(shapes(part(found)), *edits)
    return out


def _seed(tmp_path: Path, *, r1: str = "isakmp", r2: str = "isakmp", nat: bool = False,
          r1_extra: str = "", r1_replace: dict[str, str] | None = None,
          r2_replace: dict[str, str] | None = None
          ) -> tuple[LabConsole, list[str], list[str]]:
    """The seed's lab (R1 behind the ISP's NAT with ``nat``), ARP warm, the debugs on (``r1``
    and ``r2``: "isakmp" or "isakmp ipsec"); every debug message of R1 and R2 from then."""
    console = lab_console(tmp_path)
    if nat:
        run(console, ISP_NAT)
        r2_replace = {**(r2_replace or {}), "198.51.100.1": "203.0.113.1"}  # R1 as R2 sees it
    configure_seed(console, r1_extra=r1_extra, r1_replace=r1_replace, r2_replace=r2_replace)
    run(console, WARM_ARP)
    run(console, "@R2\n" + "".join(f"debug crypto {flag}\n" for flag in r2.split())
                 + "@R1\n" + "".join(f"debug crypto {flag}\n" for flag in r1.split()))
    return console, debug_messages(console, "R1"), debug_messages(console, "R2")


def in_order(wanted: list[str], got: list[str]) -> list[str]:
    """The lines of ``wanted`` missing from ``got`` in that order ([] if all are there)."""
    missing, at = [], 0
    for line in wanted:
        found = next((i for i in range(at, len(got)) if got[i] == line), None)
        if found is None:
            missing.append(line)
        else:
            at = found + 1
    return missing


# --- the seed's tunnel setup -------------------------------------------------------------------


def test_the_seed_s_initiator_prints_ios_s_trace_line_for_line(tmp_path: Path) -> None:
    console, r1, _ = _seed(tmp_path)
    assert "".join(marks(console.feed(PING))) == ".!!!!"
    assert shapes(r1) == INITIATOR


def test_the_seed_s_responder_prints_ios_s_trace_line_for_line(tmp_path: Path) -> None:
    console, _, r2 = _seed(tmp_path, r2="isakmp ipsec")
    assert "".join(marks(console.feed(PING))) == ".!!!!"
    assert shapes(r2) == RESPONDER


def test_a_responder_reached_through_a_nat_prints_ios_s_nat_t_trace(tmp_path: Path) -> None:
    """R1 behind the ISP's PAT, offering 6000 s as the captured initiator did: R2 sees both
    NAT-D hashes fail and the peer's port float to 4500."""
    console, _, r2 = _seed(tmp_path, nat=True,
                           r1_extra="crypto isakmp policy 10\nlifetime 6000\nexit\n")
    assert "".join(marks(console.feed(PING))) == ".!!!!"
    assert shapes(r2) == RESPONDER_THROUGH_NAT


def test_the_initiator_s_lines_are_classic_ios_15_s_space_for_space(tmp_path: Path) -> None:
    """R1 offers no PFS to an R2 that requires it, as in the classic capture: each of its
    lines (values aside) is in R1's trace, in order, with IOS 15's prefixes and spacing."""
    console, r1, _ = _seed(tmp_path, r1_replace={"set pfs group14\n": ""})
    assert "".join(marks(console.feed(PING))) == "....."
    assert in_order(CLASSIC, classic(r1)) == []


def test_a_non_mirrored_acl_is_refused_as_ios_tells_it(tmp_path: Path) -> None:
    """debug-crypto-failures.txt E: R2's ACL names another network; both sides' quick mode,
    the second time R1 asks (its ISAKMP SA is up by then)."""
    console, r1, r2 = _seed(tmp_path, r2_replace={
        "permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255":
            "permit ip 10.0.2.0 0.0.0.255 192.168.2.0 0.0.0.255"})
    assert "".join(marks(console.feed(PING))) == "....."
    start = next(i for i, m in enumerate(r1) if "SA has outstanding requests" in m) - 1
    end = next(i for i in range(start, len(r1)) if "IKE_INFO_NOTIFY" in r1[i]) + 2
    assert shapes(r1[start:end]) == REFUSED_INITIATOR
    start = next(i for i, m in enumerate(r2) if "(R) QM_IDLE" in m)
    end = next(i for i in range(start, len(r2)) if "New State = IKE_QM_READY" in r2[i]) + 1
    assert shapes(r2[start:end]) == REFUSING_RESPONDER


@pytest.mark.parametrize("name", [*DERIVATIONS, "CLASSIC"])
def test_each_expectation_is_its_capture_with_the_seed_s_edits(name: str) -> None:
    if name == "CLASSIC":
        found = capture(CLASSIC_INITIATOR)
        again = None if found is None else edited(classic(found), CLASSIC_PEER)
    else:
        again = derived(name)
    if again is None:
        pytest.skip("the reference captures are not at hand")
    assert again == getattr(debug_expectations, name)


# --- the engines' trace only while debug crypto isakmp is on -------------------------------------

AGAIN = "clear crypto isakmp\nclear crypto sa\n"  # the next ping negotiates from scratch
#: What the IKE engines report whether or not anybody debugs: what the router acts on.
OUTCOMES = (Phase1Established, Phase2Keyed, Phase2Established, InitialContact,
            IsakmpSaDeleted, Phase2Deleted)


def engine_events(console: LabConsole, device: str) -> list[object]:
    """Every IKEv1 engine event ``device``'s crypto plane handles from now on."""
    plane = console.lab.routers[device].crypto_plane
    assert isinstance(plane, RouterCrypto)
    seen: list[object] = []
    worded = plane.debug.event

    def event(local: int, e: object) -> None:
        seen.append(e)
        worded(local, e)

    plane.debug.event = event  # type: ignore[method-assign]
    return seen


def test_with_the_debugs_off_the_engines_build_no_trace_events(tmp_path: Path) -> None:
    on, *_ = _seed(tmp_path / "on")
    off = seeded(tmp_path / "off")
    traced = {device: engine_events(on, device) for device in ("R1", "R2")}
    untraced = {device: engine_events(off, device) for device in ("R1", "R2")}
    for console in (on, off):
        assert "".join(marks(console.feed(PING))) == ".!!!!"
    for device in ("R1", "R2"):
        assert len(traced[device]) > 50  # debugging: the step-by-step trace
        assert all(isinstance(e, OUTCOMES) for e in untraced[device])
        assert untraced[device] == [e for e in traced[device] if isinstance(e, OUTCOMES)]
    assert [type(e) for e in untraced["R1"]] == [Phase1Established, Phase2Keyed,
                                                 Phase2Established]


def test_debug_typed_mid_lab_prints_what_debugging_all_along_prints(tmp_path: Path) -> None:
    """The same negotiation, on a router debugging since the start and on one whose debugs
    were turned on just before: the same lines, to the byte."""
    along, r1_along, r2_along = _seed(tmp_path / "along", r2="isakmp ipsec")
    late = seeded(tmp_path / "late")
    r1_late, r2_late = debug_messages(late, "R1"), debug_messages(late, "R2")
    for console in (along, late):
        assert "".join(marks(console.feed(PING))) == ".!!!!"
        run(console, AGAIN)
    since = len(r1_along), len(r2_along)
    assert r1_late == [] and r2_late == []
    run(late, "@R2\ndebug crypto isakmp\ndebug crypto ipsec\n@R1\ndebug crypto isakmp\n")
    for console in (along, late):
        assert "".join(marks(console.feed(PING))) == ".!!!!"
    assert r1_late == r1_along[since[0]:] and r2_late == r2_along[since[1]:]
    assert "ISAKMP:(0): beginning Main Mode exchange" in r1_late  # main and quick mode
    assert any("IPSEC(create_sa)" in m for m in r2_late)


def test_undebug_stops_the_trace_and_the_events_behind_it(tmp_path: Path) -> None:
    console, r1, r2 = _seed(tmp_path, r2="isakmp ipsec")
    assert "".join(marks(console.feed(PING))) == ".!!!!"
    run(console, "@R2\nundebug all\n@R1\nno debug crypto isakmp\n" + AGAIN)
    since = len(r1), len(r2)
    events = {device: engine_events(console, device) for device in ("R1", "R2")}
    assert "".join(marks(console.feed(PING))) == ".!!!!"
    assert r1[since[0]:] == [] and r2[since[1]:] == []
    for device in ("R1", "R2"):
        assert Phase2Established in {type(e) for e in events[device]}
        assert all(isinstance(e, OUTCOMES) for e in events[device]), events[device]


def test_received_packet_names_the_sa_the_message_belongs_to(tmp_path: Path) -> None:
    """R2 has a main mode of its own with R1 still unanswered (R1's crypto map was off) when
    R1 starts one: R2's ``received packet`` lines name R1's SA (a new one, then R2 as its
    responder), not R2's waiting initiator SA."""
    console = seeded(tmp_path)
    run(console, "conf t\ninterface GigabitEthernet0/0\nno crypto map MYMAP\nend\n")
    run(console, "@R2\nping 192.168.1.10 source 10.0.2.1 repeat 1\n")
    assert "MM_NO_STATE" in console.feed("show crypto isakmp sa")  # R2's, unanswered
    r2 = debug_messages(console, "R2")
    run(console, "debug crypto isakmp\n@R1\nconf t\ninterface GigabitEthernet0/0\n"
                 "crypto map MYMAP\nend\n")
    assert "!" in "".join(marks(console.feed(PING)))
    received = [m.split(" Global ")[1] for m in r2 if "received packet from" in m]
    assert received[:5] == ["(N) NEW SA", "(R) MM_SA_SETUP", "(R) MM_KEY_EXCH",
                            "(R) QM_IDLE      ", "(R) QM_IDLE      "], received
