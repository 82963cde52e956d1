"""``debug crypto isakmp`` of the classic failures, against the captures of
``debug-crypto-failures.txt`` (``../shared/reference/ios``).

Each scenario is the seed's VPN with one fault; the debugs are turned on on both routers and
PC1's LAN pings PC2's. A trace is reduced to the shapes of its lines
(``tests/debugshapes.py``) and compared with the capture's, reduced the same way, with the
edits the seed calls for (each says why); when the captures are at hand, the expectation is
derived from them again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from debug_expectations import INITIATOR
from debugshapes import records, shapes
from labkit import WARM_ARP, configure_seed, debug_messages, run
from labkit import console as lab_console

from iosim.lab.console import LabConsole

PING = "ping 10.0.2.10 source 192.168.1.1"
FAILURES = (Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "ios"
            / "debug-crypto-failures.txt")
R1_KEY = "crypto isakmp key SECRETKEY123 address 203.0.113.2\n"


def _lab(tmp_path: Path, *, r1_replace: dict[str, str] | None = None,
         r2_replace: dict[str, str] | None = None
         ) -> tuple[LabConsole, list[str], list[str]]:
    """The seed's lab with those changes, ARP warm, ``debug crypto isakmp`` on R1 and R2;
    every debug message of R1 and R2 from then on."""
    console = lab_console(tmp_path)
    configure_seed(console, r1_replace=r1_replace, r2_replace=r2_replace)
    run(console, WARM_ARP)
    run(console, "@R2\ndebug crypto isakmp\n@R1\ndebug crypto isakmp\n")
    return console, debug_messages(console, "R1"), debug_messages(console, "R2")


def _section(start: str, end: str) -> str | None:
    """A section of the failures capture (None if the reference is absent)."""
    if not FAILURES.exists():
        return None
    return FAILURES.read_text().split(start, 1)[1].split(end, 1)[0]


# --- A. no pre-shared key for the peer -----------------------------------------------------------

#: debug-crypto-failures.txt A (IOS-XE 17, debug crypto isakmp, the first echo's SA request),
#: shaped, with the seed's edit: IOS-XE's "purging node" of a node it never named is left out
#: (the SA's only node is node 0, "set new node 0").
NO_KEY_INITIATOR = INITIATOR[:8] + [  # the SA request as any initiator's, then no key
    "ISAKMP No pre-shared key with A!",
    "ISAKMP No Cert or pre-shared address key.",
    "ISAKMP construct_initial_message: Can not start Main mode",
    "ISAKMP Unlocking peer struct N for isadb_unlock_peer_delete_sa(), count N",
    "ISAKMP Deleting peer node by peer_reap for A: N",
    "ISAKMP purging SA., sa=N, delme=N",
    "ISAKMP Error while processing SA request: Failed to initialize SA",
    "ISAKMP Error while processing KMI message N, error N",
]


def test_no_key_for_the_peer_is_the_captured_initiator_s_trace(tmp_path: Path) -> None:
    console, r1, r2 = _lab(tmp_path, r1_replace={R1_KEY: ""})
    # (not ``marks``: "No pre-shared key with A!" ends as a ping mark does)
    assert "Success rate is 0 percent (0/5)" in console.feed(PING)
    first = r1[:r1.index(next(m for m in r1 if "error 2" in m)) + 1]
    assert shapes(first) == NO_KEY_INITIATOR
    # each echo asks again, and the SA is purged each time: nothing is left, nothing sent
    assert sum("construct_initial_message" in m for m in r1) == 5
    assert r2 == []
    assert "MM_NO_STATE" not in console.feed("show crypto isakmp sa")
    # IOS 15's layout: the errors under the SA's conn-id 0, the peer struct's without one
    assert first[9:13] == ["ISAKMP:(0):No Cert or pre-shared address key. ",
                           "ISAKMP:(0):construct_initial_message: Can not start Main mode",
                           "ISAKMP: Unlocking peer struct 0x664401A0 for "
                           "isadb_unlock_peer_delete_sa(), count 0",
                           "ISAKMP: Deleting peer node by peer_reap for 203.0.113.2: 664401A0"]
    assert first[13] == "ISAKMP:(0):purging SA., sa=668202C8, delme=668202C8"
    assert first[6] == "ISAKMP:(0):insert sa successfully sa = 668202C8"


def test_the_no_key_expectation_is_the_capture_with_the_seed_s_edit() -> None:
    text = _section("spoke1#ping 192.168.0.1", "Success rate")
    if text is None:
        pytest.skip("the reference captures are not at hand")
    text = text.replace(" <-- This is the error", "").replace("error 2......", "error 2")
    captured = [s for s in shapes(records(text)) if s != "ISAKMP purging node N"]
    assert len(captured) == len(shapes(records(text))) - 1
    assert captured == NO_KEY_INITIATOR


# --- B3 / C. no matching ISAKMP policy -------------------------------------------------------

#: debug-crypto-failures.txt C2 (IOSv 15, the responder R2, transcribed, "attrs" read as
#: IOS's "atts"): the shapes of its lines after the policy walk, in order.
NO_POLICY_RESPONDER = [
    "ISAKMP Proposed key length does not match policy",
    "ISAKMP atts are not acceptable. Next payload is N",
    "ISAKMP no offers accepted!",
    "ISAKMP phase N SA policy not acceptable! (local A remote A)",
]
MODE_FAILURE = ("%CRYPTO-6-IKMP_MODE_FAILURE: Processing of Main Mode failed with peer at "
                "198.51.100.1")


@pytest.mark.parametrize(("old", "new", "words"), [
    ("encryption aes 256\n", "encryption aes 128\n", "Proposed key length does not match policy"),
    ("encryption aes 256\n", "encryption 3des\n",
     "Encryption algorithm offered does not match policy!"),
    ("hash sha256\n", "hash sha\n", "Hash algorithm offered does not match policy!"),
    ("group 14\n", "group 5\n", "Diffie-Hellman group offered does not match policy!"),
])
def test_no_matching_policy_the_responder_says_which_attribute_and_logs_the_failure(
        tmp_path: Path, old: str, new: str, words: str) -> None:
    console, _, r2 = _lab(tmp_path, r2_replace={old: new})
    assert "Success rate is 0 percent (0/5)" in console.feed(PING)
    walk = r2[r2.index("ISAKMP:(0):Checking ISAKMP transform 1 against priority 10 policy"):]
    assert walk[8:12] == [f"ISAKMP:(0):{words}",
                          "ISAKMP:(0):atts are not acceptable. Next payload is 0",
                          "ISAKMP:(0):no offers accepted!",
                          "ISAKMP:(0): phase 1 SA policy not acceptable! (local 203.0.113.2 "
                          "remote 198.51.100.1)"]
    if new.startswith("encryption aes"):
        assert shapes(walk[8:12]) == NO_POLICY_RESPONDER
    # the syslog message after the refusal, before the NOTIFY goes out, at each MM1 (R1
    # rejects the unprotected NOTIFY and retransmits MM1 10 s later)
    logged = [m.split(": ", 1)[1] for m in _logging(console, "R2").splitlines()
              if "IKMP_MODE_FAILURE" in m]
    assert logged and logged == [MODE_FAILURE] * len(logged)
    assert walk[12] == "ISAKMP:(0): sending packet to 198.51.100.1 my_port 500 peer_port 500 " \
                       "(R) MM_NO_STATE"


def _logging(console: LabConsole, device: str) -> str:
    """``show logging`` on ``device`` (attached first: what it printed meanwhile is not part
    of the answer)."""
    console.feed(f"@{device}")
    return console.feed("show logging")


INFO_FAILURE = ("%CRYPTO-6-IKMP_MODE_FAILURE: Processing of Informational mode failed with "
                "peer at 203.0.113.2")


def test_the_mode_failures_are_logged_without_any_debug_on_both_sides(tmp_path: Path) -> None:
    """R2 refuses each MM1 (Main Mode failed); R1 rejects each unprotected NOTIFY that says
    so (Informational mode failed) and retransmits MM1 until phase 1 gives up."""
    console = lab_console(tmp_path)
    configure_seed(console, r2_replace={"group 14\n": "group 5\n"})
    run(console, WARM_ARP)
    out = console.feed(PING)
    assert "Success rate is 0 percent (0/5)" in out and MODE_FAILURE not in out
    assert INFO_FAILURE in out  # R1's console shows its own message as it comes
    r2 = _logging(console, "R2")
    refused = r2.count(MODE_FAILURE)
    assert refused >= 1 and "ISAKMP:" not in r2
    r1 = _logging(console, "R1")
    assert r1.count(INFO_FAILURE) == refused and MODE_FAILURE not in r1
    sas = console.feed("show crypto isakmp sa")
    assert "203.0.113.2     198.51.100.1    MM_NO_STATE" in sas and "(deleted)" not in sas
    console.feed("@wait 700")  # retransmissions at 10, 30, 70, 150 and 310 s, then it ends
    assert _logging(console, "R1").count(INFO_FAILURE) == 6
    assert _logging(console, "R2").count(MODE_FAILURE) == 6
    assert "MM_NO_STATE" not in console.feed("show crypto isakmp sa").replace(
        "ACTIVE (deleted)", "")


def test_the_no_policy_expectation_is_the_capture_s_lines() -> None:
    text = _section("R2# \n", "=====")
    if text is None:
        pytest.skip("the reference captures are not at hand")
    captured = shapes(records(text.replace("attrs are", "atts are")))
    assert captured[-4:] == NO_POLICY_RESPONDER


def test_a_responder_without_a_key_for_the_peer_walks_its_policies_and_refuses(
        tmp_path: Path) -> None:
    """No ``crypto isakmp key`` for R1 on R2: IOS still walks its policies, and without a
    key no pre-share transform is acceptable; the refusal is the usual one (NO_PROPOSAL
    CHOSEN, IKMP_MODE_FAILURE), so R1 rejects its unprotected notify and retransmits."""
    console = lab_console(tmp_path)
    configure_seed(console)
    run(console, WARM_ARP)
    run(console, "@R2\nconfigure terminal\nno crypto isakmp key SECRETKEY123 address "
                 "198.51.100.1\nend\ndebug crypto isakmp\n@R1\n")
    r2 = debug_messages(console, "R2")
    assert "Success rate is 0 percent (0/1)" in console.feed(f"{PING} repeat 1")
    at = r2.index("ISAKMP:(0):No pre-shared key with 198.51.100.1!")
    assert r2[at + 1] == "ISAKMP:(0):Checking ISAKMP transform 1 against priority 10 policy"
    walk = r2[at + 1:]
    assert walk[walk.index("ISAKMP:      auth pre-share") + 3:][:4] == [
        "ISAKMP:(0):Preshared authentication offered but does not match policy!",
        "ISAKMP:(0):atts are not acceptable. Next payload is 0",
        "ISAKMP:(0):no offers accepted!",
        "ISAKMP:(0): phase 1 SA policy not acceptable! (local 203.0.113.2 remote "
        "198.51.100.1)"]
    assert _logging(console, "R2").count(MODE_FAILURE) == 1
    assert _logging(console, "R1").count(INFO_FAILURE) == 1
