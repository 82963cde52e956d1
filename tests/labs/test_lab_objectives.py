"""Builds that leave out part of what a lab's task asks, on one router or the other,
lose the points of the objective that asks it (each case a gap found in a lab once):
every lab grades both sides of its tunnel, whichever side starts it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from labkit import run

from iosim.lab.console import LabConsole
from iosim.lab.grading import Grade, grade
from iosim.lab.labfile import load_definition
from iosim.lab.runner import RunResult, run_lab
from iosim.lab.topology import builtin_labs, labs_dir


def _grade_changed(tmp_path: Path, lab: str, changes: dict[str, dict[str, str]]
                   ) -> tuple[int, dict[str, bool]]:
    """The lab's solution with ``changes`` (per router: text -> replacement), graded."""
    result = _run_changed(tmp_path, lab, changes)
    return result.grade.percent, {r.objective.name: r.passed for r in result.grade.results}


def _run_changed(tmp_path: Path, lab: str, changes: dict[str, dict[str, str]],
                 write: Callable[[str], object] | None = None) -> RunResult:
    """The lab's solution with ``changes`` (per router: text -> replacement), run (its
    transcript to ``write``)."""
    d = tmp_path / lab
    shutil.copytree(labs_dir() / lab, d)
    for router, replace in changes.items():
        path = d / "solution" / f"{router}.cfg"
        text = path.read_text()
        for old, new in replace.items():
            assert old in text, (router, old)
            text = text.replace(old, new)
        path.write_text(text)
    result = run_lab(str(d), solution=True, write=write)
    assert result.errors == []
    return result


TM_ACL = "permit ip host {{wan2.2}} host {{wan1.1}}"


@pytest.mark.parametrize("acl", ["permit ip any any", "permit ip host {{wan2.2}} any"])
def test_transport_mode_r2_protecting_more_than_r1_loses_r2_s_objectives(
        tmp_path: Path, acl: str) -> None:
    percent, passed = _grade_changed(tmp_path, "transport-mode", {"R2": {TM_ACL: acl}})
    assert passed["R1's pings to R2 cross the ISP only as ESP"]
    assert passed["Only R1-R2 traffic is protected: the ISP still reaches R1 in clear"]
    assert not passed["...and the ISP still reaches R2 in clear"]
    assert not passed["R2 brings the tunnel up from its side too, and its pings to R1 are "
                      "protected"]
    assert percent == 75


def test_transport_mode_r2_in_tunnel_mode_fails_when_r1_starts(tmp_path: Path) -> None:
    percent, passed = _grade_changed(tmp_path, "transport-mode",
                                     {"R2": {"mode transport": "mode tunnel"}})
    assert not passed["R1's pings to R2 cross the ISP only as ESP"]
    assert not passed["Phase 2 is ESP AES-256 with SHA-384 HMAC in transport mode"]
    assert percent < 100


IKEV2_TUNNEL = "PC1 reaches PC2, and the ISP's links carry only ESP between them"
IKEV2_R1_PFS = "R1's crypto map entry asks for PFS group 14"
IKEV2_R2_PFS = "R2's crypto map entry asks for PFS group 14 too"


@pytest.mark.parametrize("routers", [("R1", "R2"), ("R1",), ("R2",)])
def test_ikev2_pfs_left_out_is_graded_per_router(tmp_path: Path,
                                                 routers: tuple[str, ...]) -> None:
    """The first CHILD_SA comes with IKE_AUTH, without PFS whatever the crypto map asks:
    PFS group 14 is graded on each router's crypto map entry (show crypto map)."""
    percent, passed = _grade_changed(
        tmp_path, "ikev2-site-to-site", {r: {" set pfs group14\n": ""} for r in routers})
    assert passed[IKEV2_TUNNEL]
    assert passed[IKEV2_R1_PFS] == ("R1" not in routers)
    assert passed[IKEV2_R2_PFS] == ("R2" not in routers)
    assert percent == 100 - 5 * len(routers)


def test_ikev2_r2_without_its_profile_cannot_start_the_tunnel(tmp_path: Path) -> None:
    """R2's crypto map entry without set ikev2-profile starts IKEv1 when R2 speaks
    first: R1, IKEv2 only, never answers it."""
    percent, passed = _grade_changed(tmp_path, "ikev2-site-to-site",
                                     {"R2": {" set ikev2-profile PROF\n": ""}})
    assert passed[IKEV2_TUNNEL]
    assert not passed["PC2 brings the tunnel up from its side too, and reaches PC1 through it"]
    assert percent == 80


@pytest.mark.parametrize("lab, router, line, objective", [
    ("pfs-rekey", "R2", " set pfs group19\n",
     "R2's crypto map entry asks for PFS group 19 and 300-second SAs too"),
    ("pfs-rekey", "R2", " set security-association lifetime seconds 300\n",
     "R2's crypto map entry asks for PFS group 19 and 300-second SAs too"),
    ("vti", "R2", " set pfs group14\n", "R2's IPsec profile asks for PFS group 14 too"),
    ("nat-exemption", "HQ", " set pfs group14\n",
     "HQ's crypto map entry asks for PFS group 14 too"),
    ("aggressive-mode", "HUB", " set pfs group14\n",
     "HUB's dynamic crypto map entry asks for PFS group 14 too"),
])
def test_the_responder_s_own_phase_2_settings_are_graded(
        tmp_path: Path, lab: str, router: str, line: str, objective: str) -> None:
    """The responder accepts the initiator's PFS group and a shorter lifetime than its own
    (as IOS does), so the tunnel works; the task asks them on both routers."""
    percent, passed = _grade_changed(tmp_path, lab, {router: {line: ""}})
    assert not passed[objective]
    assert [name for name, ok in passed.items() if not ok] == [objective]
    assert percent < 100


def test_ospf_over_gre_r2_sending_hellos_on_its_lan_is_graded(tmp_path: Path) -> None:
    """The task: no hellos on the LANs (both routers' GigabitEthernet0/1 passive)."""
    percent, passed = _grade_changed(
        tmp_path, "ospf-over-gre", {"R2": {" passive-interface GigabitEthernet0/1\n": ""}})
    assert [name for name, ok in passed.items() if not ok] == [
        "...and R2 sends no hellos on Site 2's LAN either"]
    assert percent == 95


PFS_REKEY = "The tunnel rekeyed under traffic: a second SA pair for the same flow"


@pytest.mark.parametrize("how", [
    "clear crypto sa\n",  # the pair goes at once: the next one is a new negotiation
    "clear crypto session\n",  # phase 1 too
    "@wait 200\nclear crypto sa\n",
])
def test_pfs_rekey_a_pair_negotiated_anew_is_no_rekey(tmp_path: Path, how: str) -> None:
    d = tmp_path / "pfs-rekey"
    shutil.copytree(labs_dir() / "pfs-rekey", d)
    (d / "steps.txt").write_text("@PC1\nping {{lan2.10}}\n@R1\nenable\n" + how +
                                 "ping {{lan2.10}} source {{lan1.1}}\n")
    result = run_lab(str(d), solution=True)
    assert result.errors == []
    passed = {r.objective.name: r.passed for r in result.grade.results}
    assert not passed[PFS_REKEY]
    assert result.grade.percent == 80


GRE_UP = "Tunnel0 on R1 is a GRE tunnel to R2, up and protected"
GRE_TRAFFIC = "PC1 reaches PC2, and the ISP's links carry only ESP between the sites"
GRE_PROTECTION = " tunnel protection ipsec profile GRE_PROTECT\n"


def _outcomes(graded: Grade) -> dict[str, tuple[bool, str, str]]:
    return {r.objective.name: (r.passed, r.detail, r.objective.hint) for r in graded.results}


@pytest.mark.parametrize("change, missing", [
    ({GRE_PROTECTION: " tunnel protection ipsec profile NOPE\n"}, "NOPE"),
    ({"crypto ipsec profile GRE_PROTECT\n": "crypto ipsec profile GRE_PROTECTION\n"},
     "GRE_PROTECT"),
])
def test_gre_over_ipsec_a_tunnel_naming_a_missing_profile_is_not_protected(
        tmp_path: Path, change: dict[str, str], missing: str) -> None:
    """IOS accepts a tunnel protection naming a profile the router lacks, and show
    interfaces still prints its "Tunnel protection via IPSec" line; the tunnel protects
    nothing all the same, and the objective that says it is protected fails, pointing at
    the profile."""
    transcript: list[str] = []
    result = _run_changed(tmp_path, "gre-over-ipsec", {"R1": change}, transcript.append)
    assert "internal error" not in "".join(transcript)
    outcomes = _outcomes(result.grade)
    passed, detail, hint = outcomes[GRE_UP]
    assert not passed
    assert detail == (f"R1's Tunnel0 names IPsec profile \"{missing}\", which R1 does not "
                      "have: nothing protects the tunnel (no crypto map is made for it, no "
                      "IPsec SA negotiated)")
    assert "only a profile the router has protects it" in hint
    passed, detail, _ = outcomes[GRE_TRAFFIC]
    assert not passed
    assert f'R1: Tunnel0 names IPsec profile "{missing}", which R1 does not have' in detail
    c = LabConsole(result.lab, paging=False)
    show = run(c, "@R1\nenable\nshow interfaces Tunnel0\n")
    assert "Tunnel0 is up, line protocol is up" in show
    assert f'Tunnel protection via IPSec (profile "{missing}")' in show
    assert run(c, "show crypto ipsec sa\n").strip() == ""  # no SA at all
    assert result.grade.percent == 5  # only R1's route to Site 2's LAN


def test_gre_over_ipsec_the_profile_named_right_is_protected() -> None:
    result = run_lab("gre-over-ipsec", solution=True)
    passed, detail, _ = _outcomes(result.grade)[GRE_UP]
    assert passed
    assert detail == ("R1's Tunnel0 is up (GRE/IP to 203.0.113.2), protected by IPsec "
                      "profile \"GRE_PROTECT\", with an IPsec SA pair (esp, esp-aes 256, "
                      "transport mode)")


def test_gre_over_ipsec_both_profiles_missing_carry_the_lans_in_clear_gre(
        tmp_path: Path) -> None:
    """Both tunnels name a missing profile: they are plain GRE, the pings get through in
    clear, and the traffic objective says so, looking inside the GRE."""
    nope = {GRE_PROTECTION: " tunnel protection ipsec profile NOPE\n"}
    result = _run_changed(tmp_path, "gre-over-ipsec", {"R1": nope, "R2": nope})
    outcomes = _outcomes(result.grade)
    passed, detail, _ = outcomes[GRE_TRAFFIC]
    assert not passed
    assert detail.startswith("ping from PC1 to 10.0.2.10: !!!!! (100 percent), but in clear "
                             "text: 192.168.1.10 -> 10.0.2.10 in GRE 198.51.100.1 -> "
                             "203.0.113.2 on "), detail
    assert not outcomes[GRE_UP][0]
    assert result.grade.percent == 5


def test_gre_over_ipsec_a_profile_without_its_sa_is_not_protected_either(
        tmp_path: Path) -> None:
    """R1's profile exists, but R2's key is not R1's: no SA, so the tunnel's traffic is
    not protected and the objective fails for that."""
    result = _run_changed(tmp_path, "gre-over-ipsec", {"R2": {
        "crypto isakmp key {{key}}": "crypto isakmp key NOT{{key}}"}})
    passed, detail, _ = _outcomes(result.grade)[GRE_UP]
    assert not passed
    assert detail == ("R1's Tunnel0 is up (GRE/IP to 203.0.113.2), protected by IPsec "
                      "profile \"GRE_PROTECT\", but no IPsec SA pair protects its traffic: "
                      "phase 2 has not completed")


TUNNEL_OBJECTIVES = sorted(
    (name, o.name, str(o.params["device"]), str(o.params["interface"]))
    for name, d in ((p.parent.name, load_definition(p)) for p in builtin_labs())
    for o in d.resolve().objectives if o.check == "tunnel_protection")


def test_every_lab_judges_tunnel_protection_on_the_live_state() -> None:
    """The route-based labs grade "up and protected" with the tunnel_protection check, and
    none by the "Tunnel protection via IPSec" line of show interfaces, which IOS prints
    for a profile that does not exist too."""
    assert {lab for lab, *_ in TUNNEL_OBJECTIVES} == {
        "gre-over-ipsec", "vti", "gre-hub-spokes", "branch-vti"}
    for p in builtin_labs():
        for o in load_definition(p).resolve().objectives:
            texts = [*o.params.get("contains", ()), *o.params.get("lacks", ())]
            assert not any("Tunnel protection" in t for t in texts), (p.parent.name, o.name)


@pytest.mark.parametrize("lab, objective, device, tunnel", TUNNEL_OBJECTIVES)
def test_a_tunnel_protection_renamed_to_a_missing_profile_fails_its_objective(
        lab: str, objective: str, device: str, tunnel: str) -> None:
    result = run_lab(lab, solution=True)
    assert _outcomes(result.grade)[objective][0]
    c = LabConsole(result.lab, paging=False)
    out = run(c, f"@{device}\nenable\nconf t\ninterface {tunnel}\n"
                 "tunnel protection ipsec profile NOPE\nend\n@wait 15\n")
    assert not [line for line in out.splitlines() if line.startswith("% ")], out
    passed, detail, hint = _outcomes(grade(result.lab))[objective]
    assert not passed
    assert detail.startswith(f"{device}'s {tunnel} names IPsec profile \"NOPE\", which "
                             f"{device} does not have"), detail
    assert "profile" in hint
