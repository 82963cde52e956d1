"""Builds that leave out part of what a lab's task asks, on one router or the other,
lose the points of the objective that asks it (each case a gap found in a lab once):
every lab grades both sides of its tunnel, whichever side starts it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iosim.lab.runner import run_lab
from iosim.lab.topology import labs_dir


def _grade_changed(tmp_path: Path, lab: str, changes: dict[str, dict[str, str]]
                   ) -> tuple[int, dict[str, bool]]:
    """The lab's solution with ``changes`` (per router: text -> replacement), graded."""
    d = tmp_path / lab
    shutil.copytree(labs_dir() / lab, d)
    for router, replace in changes.items():
        path = d / "solution" / f"{router}.cfg"
        text = path.read_text()
        for old, new in replace.items():
            assert old in text, (router, old)
            text = text.replace(old, new)
        path.write_text(text)
    result = run_lab(str(d), solution=True)
    assert result.errors == []
    return result.grade.percent, {r.objective.name: r.passed for r in result.grade.results}


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
