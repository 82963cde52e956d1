"""Grading checks behaviour on the live lab and explains every miss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labfiles import write_lab
from labkit import ISP_NAT, ISP_ROUTES, configure_seed, seed_config

from iosim.lab.console import Lab, LabConsole
from iosim.lab.grading import as_json, grade, render_text
from iosim.lab.runner import run_lab


def _console(tmp_path: Path, lab: str = "site-to-site") -> LabConsole:
    c = LabConsole(Lab.load(lab, nvram_dir=tmp_path), paging=False)
    c.feed("enable")
    return c


def _results(c: LabConsole) -> dict[str, tuple[bool, str]]:
    g = grade(c.lab)
    return {r.objective.name: (r.passed, r.detail) for r in g.results}


def test_the_seed_configuration_typed_at_the_console_scores_100(tmp_path: Path) -> None:
    c = _console(tmp_path)
    configure_seed(c)
    g = grade(c.lab)
    assert g.percent == 100 and g.passed, render_text(g)
    text = render_text(g)
    assert text.startswith("Score: 100% (100 of 100 points)  -- every objective met\n")
    assert "hint:" not in text


def test_an_empty_lab_fails_and_every_miss_is_explained(tmp_path: Path) -> None:
    g = grade(_console(tmp_path).lab)
    assert g.percent == 0  # the clear-text objectives count only once the tunnel works
    details = [r.detail for r in g.results]
    assert details[0] == ("ping from PC1 to 10.0.2.10: ..... (0 percent); nothing got through "
                          "(no router started IKE: did the traffic match a crypto map entry?)")
    assert details[1] == "R1 has no ISAKMP SA with 203.0.113.2 in QM_IDLE (ISAKMP SAs: none)"
    for clear in g.results[6:]:  # R1's and R2's clear-text objectives need the tunnel
        assert not clear.counted and clear.detail.startswith("not counted: it needs")
    text = render_text(g)
    assert "         seen: ping from PC1 to 10.0.2.10: ..... (0 percent); nothing got\n" in text
    assert "hint: Concepts 7.1" in text
    assert render_text(g, hints=False).count("hint:") == 0


def test_traffic_in_clear_text_is_caught_on_the_isp_links(tmp_path: Path) -> None:
    """With routes on the ISP and no crypto, PC1 reaches PC2, but in clear text: the
    encrypted objective fails and says where it saw the packet."""
    c = _console(tmp_path)
    for line in ISP_ROUTES.splitlines():
        c.feed(line)
    passed, detail = _results(c)[
        "PC1 reaches PC2, and the ISP's links carry only ESP between them"]
    assert not passed
    assert "!!!!! (100 percent), but in clear text: 192.168.1.10 -> 10.0.2.10 on R1_" in detail


def test_wrong_phase_1_attributes_are_named(tmp_path: Path) -> None:
    c = _console(tmp_path)
    change = {"encryption aes 256\n": "encryption aes 192\n"}
    configure_seed(c, r1_replace=change, r2_replace=change)
    results = _results(c)
    passed, detail = results["Phase 1 between R1 and R2 uses AES-256, SHA-256 and DH group 14"]
    assert not passed
    assert detail == ("the ISAKMP SA of R1 with 203.0.113.2: encryption is aes 192, "
                      "the lab asks for aes 256")
    # the tunnel itself works: behaviour objectives pass
    assert results["PC1 reaches PC2, and the ISP's links carry only ESP between them"][0]


def test_a_missing_pfs_and_transform_are_named(tmp_path: Path) -> None:
    c = _console(tmp_path)
    change = {"set pfs group14\n": "", "esp-aes 256 esp-sha256-hmac": "esp-aes esp-sha-hmac"}
    configure_seed(c, r1_replace=change, r2_replace=change)
    passed, detail = _results(c)[
        "Phase 2 is ESP AES-256 with SHA-256 HMAC in tunnel mode, with PFS group 14"]
    assert not passed
    assert "encryption is esp-aes, the lab asks for esp-aes 256" in detail
    assert "integrity is esp-sha-hmac, the lab asks for esp-sha256-hmac" in detail
    assert "pfs is none, the lab asks for 14" in detail


def test_a_crypto_acl_to_any_fails_the_clear_text_objective(tmp_path: Path) -> None:
    """LAN to "any" on R1 (and its mirror on R2) carries PC1 to PC2 fine, but also takes
    PC1's internet traffic into the tunnel: the lab says only the LANs' traffic."""
    c = _console(tmp_path)
    configure_seed(c, r1_replace={"permit ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255":
                                  "permit ip 192.168.1.0 0.0.0.255 any"},
                   r2_replace={"permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255":
                               "permit ip any 192.168.1.0 0.0.0.255"})
    results = _results(c)
    assert results["PC1 reaches PC2, and the ISP's links carry only ESP between them"][0]
    passed, detail = results["...and PC1's traffic to the internet leaves R1 unencrypted"]
    assert not passed
    assert detail == ("ping from PC1 to 203.0.113.1 was carried by ESP: the VPN protects "
                      "traffic it should leave alone")


def test_r2_crypto_acl_to_any_fails_r2s_clear_text_objectives(tmp_path: Path) -> None:
    """R1 right and R2 encrypting "any to any": PC1 still reaches PC2 (R1 starts the
    tunnel), but R2 pulls its own and PC2's internet traffic into the tunnel, and R1
    refuses R2's quick mode offer for any to any. The lab says nothing else is encrypted,
    on R2 as on R1."""
    c = _console(tmp_path)
    configure_seed(c, r2_replace={"permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255":
                                  "permit ip any any"})
    results = _results(c)
    assert results["PC1 reaches PC2, and the ISP's links carry only ESP between them"][0]
    assert results["...and PC1's traffic to the internet leaves R1 unencrypted"][0]
    assert not results["PC2 brings the tunnel up from its side too, and reaches PC1 "
                       "through it"][0]
    assert results["R2 still reaches the ISP in clear too"] == (
        False, "ping from R2 to 198.51.100.2: ..... (0 percent)")
    passed, detail = results["...and PC2's traffic to the internet leaves R2 unencrypted"]
    assert not passed and detail.startswith("ping from PC2 to 198.51.100.2: ")
    assert grade(c.lab).percent == 65


@pytest.mark.parametrize("without", ["R1", "R2"])
def test_pfs_on_one_router_only_fails_whichever_side_lacks_it(
        tmp_path: Path, without: str) -> None:
    """The task asks PFS group 14 on both routers. A responder without "set pfs" accepts
    the initiator's PFS (as IOS does), so each side is graded on the pair it starts."""
    c = _console(tmp_path)
    drop = {"set pfs group14\n": ""}
    configure_seed(c, r1_replace=drop if without == "R1" else None,
                   r2_replace=drop if without == "R2" else None)
    results = _results(c)
    r1_side = ["PC1 reaches PC2, and the ISP's links carry only ESP between them",
               "Phase 2 is ESP AES-256 with SHA-256 HMAC in tunnel mode, with PFS group 14"]
    r2_side = ["PC2 brings the tunnel up from its side too, and reaches PC1 through it",
               "R2's side of the tunnel asks for PFS group 14 too"]
    failing, passing = (r1_side, r2_side) if without == "R1" else (r2_side, r1_side)
    assert [results[name][0] for name in failing] == [False, False]
    assert [results[name][0] for name in passing] == [True, True]
    assert grade(c.lab).percent < 100


def test_output_nat_and_counter_checks(tmp_path: Path) -> None:
    from iosim.lab.checks import check_counters, check_nat, check_output

    c = _console(tmp_path)
    for line in ISP_NAT.splitlines():
        c.feed(line)
    c.feed("@R1")
    c.feed("ping 203.0.113.2")
    lab = c.lab
    isp_global, r1 = 0xCB007101, 0xC6336401  # 203.0.113.1, 198.51.100.1
    ok = check_nat(lab, {"device": "ISP", "inside_local": r1, "inside_global": isp_global})
    assert ok.passed and ok.detail.startswith("ISP translates inside local 198.51.100.1")
    gone = check_nat(lab, {"device": "ISP", "inside_local": r1, "present": False})
    assert not gone.passed and "-> inside global 203.0.113.1" in gone.detail
    out = check_output(lab, {"device": "ISP", "command": "show ip nat translations",
                             "contains": ("icmp 203.0.113.1",), "lacks": ("tcp",)})
    assert out.passed
    bad = check_output(lab, {"device": "ISP", "command": "show ip nat translatoins"})
    assert not bad.passed and "rejected 'show ip nat translatoins'" in bad.detail
    moved = check_counters(lab, {"device": "R2", "from": "R1", "to": 0x0A00020A,
                                 "source": 0xC0A80101})
    assert not moved.passed and "encaps went 0 -> 0" in moved.detail


def test_json_grade_has_every_objective(tmp_path: Path) -> None:
    data = as_json(grade(_console(tmp_path).lab))
    json.dumps(data)
    assert data["lab"] == "site-to-site" and data["score"] == 0 and not data["passed"]
    assert [o["weight"] for o in data["objectives"]] == [25, 15, 15, 10, 10, 5, 5, 5, 5, 5]
    assert all("hint" in o for o in data["objectives"] if not o["passed"])


def test_a_broken_check_fails_its_objective_and_grading_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from iosim.lab import checks

    def explode(lab: object, params: object) -> checks.Outcome:
        raise RuntimeError("boom")

    monkeypatch.setitem(checks.CHECKS, "isakmp_sa",
                        checks.CheckKind(checks.CHECKS["isakmp_sa"].params, explode))
    g = grade(_console(tmp_path).lab)
    broken = [r for r in g.results if r.objective.check == "isakmp_sa"]
    assert broken and broken[0].detail == "the check could not run (RuntimeError: boom)"
    assert len(g.results) == 10


def test_run_types_the_solution_and_steps_and_names_script_errors(tmp_path: Path) -> None:
    d = write_lab(tmp_path / "lab", solution="interface GigabitEthernet0/1\n no shutdown\n"
                                             " ip adress 1.2.3.4\n",
                  files={"steps.txt": "@PC1\nping 172.16.0.10\n@PC1\nfrobnicate\n@nowhere\n"})
    lines: list[str] = []
    result = run_lab(str(d), solution=True, write=lines.append)
    transcript = "".join(lines)
    assert "R1(config-if)# no shutdown\n" in transcript
    assert "PC1>ping 172.16.0.10\n" in transcript and "\n.!!!!\n" in transcript
    assert result.grade.passed and not result.passed
    assert [e.splitlines()[0] for e in result.errors] == [
        f"{d / 'solution' / 'R1.cfg'}, line 3:",
        f"{d / 'steps.txt'}, line 4:",
        f"{d / 'steps.txt'}, line 5:"]
    assert "% Invalid input detected at '^' marker." in result.errors[0]
    unsolved = run_lab(str(d))
    assert not unsolved.grade.passed and unsolved.grade.percent == 25


def test_a_lab_config_error_names_the_lab_file(tmp_path: Path) -> None:
    d = write_lab(tmp_path / "lab", config="hostname R1\ninterface GigabitEthernet0/0\n"
                                           " ip address 10.0.0.1 255.255.255.0\n bogus\n")
    result = run_lab(str(d), solution=True)
    assert result.errors and result.errors[0].startswith(f"{d / 'R1.cfg'}, line 4:")


def test_the_seed_r2_script_is_what_the_lab_grades(tmp_path: Path) -> None:
    """The site-to-site solution is Concepts 10: the same lines the seed scripts
    type (comments aside)."""
    r2 = seed_config("seed_r2")
    from iosim.lab.labfile import find_definition

    solution = find_definition("site-to-site").resolve().solutions["R2"]
    typed = [line.strip() for line in r2.splitlines()
             if line.strip() and not line.startswith(("!", "@", "enable", "configure", "end"))]
    assert [line.strip() for line in solution.splitlines()] == typed


def _tunnels_without_crypto(c: LabConsole, protection: str) -> None:
    """GRE over IPsec's Tunnel0 on both routers, each LAN routed into it, no crypto but the
    ``protection`` line under the tunnel (if any)."""
    for device, address, peer, lan, far in (
            ("R1", "172.16.0.1", "203.0.113.2", "10.0.2.0", "172.16.0.2"),
            ("R2", "172.16.0.2", "198.51.100.1", "192.168.1.0", "172.16.0.1")):
        for line in (f"@{device}", "enable", "conf t", "interface Tunnel0",
                     f"ip address {address} 255.255.255.252",
                     "tunnel source GigabitEthernet0/0", f"tunnel destination {peer}",
                     *([protection] if protection else []), "exit",
                     f"ip route {lan} 255.255.255.0 {far}", "end"):
            c.feed(line)


def test_a_tunnel_lab_that_started_no_ike_points_at_the_tunnel_not_a_crypto_map(
        tmp_path: Path) -> None:
    """GRE over IPsec with Tunnel0 on both routers, but the LANs routed into it only on R1:
    nothing comes back, no IKE starts, and the miss speaks of tunnels (the lab has no crypto
    map to match)."""
    c = _console(tmp_path, "gre-over-ipsec")
    _tunnels_without_crypto(c, "")
    c.feed("@R2")
    c.feed("conf t")
    c.feed("no ip route 192.168.1.0 255.255.255.0 172.16.0.1")
    c.feed("end")
    passed, detail = _results(c)[
        "PC1 reaches PC2, and the ISP's links carry only ESP between the sites"]
    assert not passed
    assert detail.endswith("nothing got through (no router started IKE: was the traffic "
                           "routed into a tunnel whose protection names an IPsec profile, "
                           "on both routers?)"), detail


def test_tunnels_whose_profile_nobody_created_carry_the_lans_in_clear_gre(
        tmp_path: Path) -> None:
    """Both tunnels' protection names an IPsec profile nobody created: IOS keeps the line
    and protects nothing, so the pings cross the ISP in clear GRE, and the misses say so:
    the traffic seen inside the GRE, and the profile the router lacks."""
    c = _console(tmp_path, "gre-over-ipsec")
    _tunnels_without_crypto(c, "tunnel protection ipsec profile GRE_PROTECT")
    results = _results(c)
    passed, detail = results[
        "PC1 reaches PC2, and the ISP's links carry only ESP between the sites"]
    assert not passed
    assert detail.startswith("ping from PC1 to 10.0.2.10: !!!!! (100 percent), but in clear "
                             "text: 192.168.1.10 -> 10.0.2.10 in GRE 198.51.100.1 -> "
                             "203.0.113.2 on "), detail
    passed, detail = results["Tunnel0 on R1 is a GRE tunnel to R2, up and protected"]
    assert not passed
    assert detail.startswith('R1\'s Tunnel0 names IPsec profile "GRE_PROTECT", which R1 '
                             "does not have"), detail
