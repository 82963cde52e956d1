"""``show ip ospf database [TYPE [LSID]] [adv-router A.B.C.D|self-originate]`` on converged
labs: each LSA of the type in detail, as IOS 15 prints it, every field read from the LSA
the engine holds (age, sequence number, checksum, length, links, metrics), the routing bit
on the LSAs the routes came from, the mark on those of routers no longer reached, and the
filters, on the detail and on the one-line summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from labkit import console, run
from test_ospf_lab import ospf_tunnel_lab

from iosim.lab.console import LabConsole
from iosim.net.packets import format_ip
from iosim.ospf.engine import OspfEngine
from iosim.ospf.lsdb import LsdbEntry
from iosim.ospf.packets import (
    AsExternalLsa,
    LinkType,
    LsType,
    NetworkLsa,
    RouterLsa,
    SummaryLsa,
)

ROUTING_BIT = "  Routing Bit Set on this LSA in topology Base with MTID 0"
NOT_REACHABLE = "  Adv Router is not-reachable in topology Base with MTID 0"
LINK_TEXT = {LinkType.POINT_TO_POINT: ("another Router (point-to-point)",
                                       "Neighboring Router ID", "Router Interface address"),
             LinkType.TRANSIT: ("a Transit Network", "Designated Router address",
                                "Router Interface address"),
             LinkType.STUB: ("a Stub Network", "Network/subnet number", "Network Mask")}


@pytest.fixture(scope="module")
def abr_lab(tmp_path_factory: pytest.TempPathFactory) -> LabConsole:
    """R1, an ABR (area 0 on its Ethernet to the ISP, area 1 on a loopback) and an ASBR;
    the ISP an ASBR in area 0: router, network, summary, ASBR-summary and external LSAs."""
    c = console(tmp_path_factory.mktemp("ospfdb"))
    run(c, "@R1\nenable\nconf t\ninterface Loopback1\nip address 10.1.1.1 255.255.255.0\n"
           "ip ospf network point-to-point\nexit\nrouter ospf 1\nrouter-id 1.1.1.1\n"
           "network 198.51.100.0 0.0.0.3 area 0\nnetwork 10.1.1.0 0.0.0.255 area 1\n"
           "default-information originate always\nend\n"
           "@ISP\nenable\nconf t\nrouter ospf 1\nnetwork 198.51.100.0 0.0.0.3 area 0\n"
           "default-information originate always\nend\n@wait 60\n")
    run(c, "@R1\n\n@ISP\n\n")  # the consoles' pending log messages out of the way
    return c


def engine(c: LabConsole, device: str) -> OspfEngine:
    return c.lab.routers[device].ospf_plane.engines[1]  # type: ignore[union-attr]


def header_lines(entry: LsdbEntry, now: float) -> list[str]:
    """What IOS prints of an LSA's header, from the LSA itself."""
    h = entry.header
    return [f"  LS age: {entry.age(now)}",
            f"  Advertising Router: {format_ip(h.advertising_router)}",
            f"  LS Seq Number: {h.ls_sequence_number & 0xFFFFFFFF:08X}",
            f"  Checksum: 0x{h.ls_checksum:X}", f"  Length: {h.length}"]


def blocks(output: str) -> list[str]:
    """The output's LSAs, one text each (its routing bit or not-reachable line, if any, with
    it)."""
    starts = [m.start() for m in re.finditer(
        r"^(  (Routing Bit Set|Adv Router is not-reachable).*\n)?  LS age: ", output, re.M)]
    out = []
    for a, b in zip(starts, [*starts[1:], len(output)], strict=True):
        text = output[a:b]
        heading = text.find("\n\t\t")  # the next area's section: not the LSA's
        out.append(text if heading < 0 else text[:heading])
    return out


def section(output: str, heading: str) -> str:
    """The part of the output under one area's (or the externals') heading."""
    start = output.index(f"\t\t{heading}\n")
    end = output.find("\n\t\t", start + 1)
    return output[start:] if end < 0 else output[start:end + 1]


def block_of(output: str, entry: LsdbEntry) -> str:
    h = entry.header
    found = [b for b in blocks(output)
             if f"Link State ID: {format_ip(h.link_state_id)}" in b
             and f"Advertising Router: {format_ip(h.advertising_router)}\n" in b]
    assert len(found) == 1, output
    return found[0]


def assert_header(block: str, entry: LsdbEntry, now: float) -> None:
    for line in header_lines(entry, now):
        assert line + "\n" in block, (line, block)


def test_router_lsas_in_detail_with_their_links(abr_lab: LabConsole) -> None:
    c = abr_lab
    out = run(c, "@R1\nshow ip ospf database router\n")
    e = engine(c, "R1")
    now = c.lab.clock.now
    assert out.startswith("\n            OSPF Router with ID (1.1.1.1) (Process ID 1)\n\n"
                          "\t\tRouter Link States (Area 0)\n\n")
    assert out.index("Router Link States (Area 0)") < out.index("Router Link States (Area 1)")
    assert "Summary" not in out and "Net Link" not in out and "ADV Router" not in out
    count = 0
    for area in e.areas.values():
        for entry in area.lsdb.of_type(LsType.ROUTER):
            count += 1
            block = block_of(section(out, f"Router Link States (Area {area.text})"), entry)
            assert_header(block, entry, now)
            body = entry.body()
            assert isinstance(body, RouterLsa)
            assert "  Options: (No TOS-capability, DC)\n  LS Type: Router Links\n" in block
            expected = f"  Number of Links: {len(body.links)}\n\n"
            for link in body.links:
                what, link_id, link_data = LINK_TEXT[LinkType(link.link_type)]
                expected += (f"    Link connected to: {what}\n"
                             f"     (Link ID) {link_id}: {format_ip(link.link_id)}\n"
                             f"     (Link Data) {link_data}: {format_ip(link.link_data)}\n"
                             "      Number of MTID metrics: 0\n"
                             f"       TOS 0 Metrics: {link.metric}\n\n")
            assert expected + "\n" in block, block
            # R1 is an ABR and an ASBR; the ISP an ASBR, reached: the routing bit is set
            # on the border routers' LSAs the router reached, never its own
            if entry.header.advertising_router == e.router_id:
                assert "  Area Border Router\n  AS Boundary Router\n  Number of Links" in block
                assert ROUTING_BIT not in block
            else:
                assert "  Options" in block and "Area Border Router" not in block
                assert "  AS Boundary Router\n  Number of Links: 1\n" in block
                assert block.startswith(ROUTING_BIT + "\n  LS age: ")
    assert count == len(blocks(out)) == 3
    assert "     (Link ID) Network/subnet number: 10.1.1.0\n" \
           "     (Link Data) Network Mask: 255.255.255.0\n" in out


def test_network_lsa_in_detail(abr_lab: LabConsole) -> None:
    c = abr_lab
    out = run(c, "@R1\nshow ip ospf database network\n")
    (entry,) = engine(c, "R1").areas[0].lsdb.of_type(LsType.NETWORK)
    body = entry.body()
    assert isinstance(body, NetworkLsa)
    block = block_of(out, entry)
    assert_header(block, entry, c.lab.clock.now)
    assert block.startswith(ROUTING_BIT + "\n")  # the segment is in the routing table
    dr = format_ip(entry.header.link_state_id)
    assert (f"  LS Type: Network Links\n  Link State ID: {dr} (address of Designated Router)\n"
            in block)
    attached = "".join(f"        Attached Router: {format_ip(r)}\n"
                       for r in body.attached_routers)
    assert block.endswith("  Network Mask: /30\n" + attached + "\n"), block
    assert "\t\tNet Link States (Area 0)\n\n" in out


def test_summary_and_asbr_summary_lsas_in_detail(abr_lab: LabConsole) -> None:
    c = abr_lab
    now = c.lab.clock.now
    for device, ls_type, keyword in (("R1", LsType.SUMMARY_NETWORK, "summary"),
                                     ("ISP", LsType.SUMMARY_NETWORK, "summary"),
                                     ("R1", LsType.SUMMARY_ASBR, "asbr-summary")):
        out = run(c, f"@{device}\nshow ip ospf database {keyword}\n")
        e = engine(c, device)
        entries = [x for a in e.areas.values() for x in a.lsdb.of_type(ls_type)]
        assert entries and len(blocks(out)) == len(entries)
        for entry in entries:
            body = entry.body()
            assert isinstance(body, SummaryLsa)
            block = block_of(out, entry)  # the ABR's summaries differ from area to area
            assert_header(block, entry, now)
            assert "  Options: (No TOS-capability, DC, Upward)\n" in block
            bits = bin(body.network_mask).count("1")
            assert block.endswith(f"  Network Mask: /{bits}\n"
                                  f"        MTID: 0         Metric: {body.metric} \n\n")
            # the ISP's route to R1's loopback came from R1's summary; R1's own carry none
            assert block.startswith(ROUTING_BIT) == (device == "ISP"), block
    out = run(c, "@R1\nshow ip ospf database asbr-summary\n")
    assert "\t\tSummary ASB Link States (Area 1)\n\n" in out
    assert ("  LS Type: Summary Links(AS Boundary Router)\n"
            "  Link State ID: 203.0.113.1 (AS Boundary Router address)\n") in out
    out = run(c, "@ISP\nshow ip ospf database summary\n")
    assert "  Link State ID: 10.1.1.0 (summary Network Number)\n" in out


def test_external_lsas_in_detail_and_the_routing_bit_on_the_route_used(
        abr_lab: LabConsole) -> None:
    c = abr_lab
    now = c.lab.clock.now
    for device in ("R1", "ISP"):
        out = run(c, f"@{device}\nshow ip ospf database external\n")
        e = engine(c, device)
        assert "\t\tType-5 AS External Link States\n\n" in out and "(Area" not in out
        entries = list(e.external.of_type(LsType.AS_EXTERNAL))
        assert len(entries) == len(blocks(out)) == 2
        for entry in entries:
            body = entry.body()
            assert isinstance(body, AsExternalLsa)
            block = block_of(out, entry)
            assert_header(block, entry, now)
            assert ("  LS Type: AS External Link\n"
                    "  Link State ID: 0.0.0.0 (External Network Number )\n") in block
            assert block.endswith(
                "  Network Mask: /0\n"
                "        Metric Type: 2 (Larger than any link state path)\n"
                f"        MTID: 0 \n        Metric: {body.metric} \n"
                f"        Forward Address: {format_ip(body.forwarding_address)}\n"
                f"        External Route Tag: {body.external_route_tag}\n\n"), block
            # the installed default route came from the other router's LSA
            used = entry.header.advertising_router != e.router_id and (0, 0) in e.table
            assert block.startswith(ROUTING_BIT) == used


def test_link_state_id_adv_router_and_self_originate_filters(abr_lab: LabConsole) -> None:
    c = abr_lab
    mine = run(c, "@R1\nshow ip ospf database router self-originate\n")
    assert len(blocks(mine)) == 2  # R1's router-LSA in each of its areas
    assert "Advertising Router: 203.0.113.1" not in mine
    assert run(c, "show ip ospf database router adv-router 1.1.1.1\n") == mine
    assert run(c, "show ip ospf database router 1.1.1.1\n") == mine
    assert run(c, "show ip ospf database router 1.1.1.1 self-originate\n") == mine
    isp = run(c, "show ip ospf database router 203.0.113.1\n")
    assert len(blocks(isp)) == 1 and "Advertising Router: 203.0.113.1\n" in isp
    assert "Router Link States (Area 1)" not in isp
    assert run(c, "show ip ospf database router 203.0.113.1 adv-router 203.0.113.1\n") == isp
    # nothing kept: the process's heading alone
    none = run(c, "show ip ospf database router 203.0.113.1 self-originate\n")
    assert none == "\n            OSPF Router with ID (1.1.1.1) (Process ID 1)\n"
    theirs = run(c, "show ip ospf database external adv-router 203.0.113.1\n")
    assert len(blocks(theirs)) == 1 and "Advertising Router: 1.1.1.1" not in theirs
    assert run(c, "show ip ospf 1 database summary 10.1.1.0\n").count("LS age") == 1


def test_the_help_and_errors_after_the_type(abr_lab: LabConsole) -> None:
    c = abr_lab
    run(c, "@R1\n")
    help_text = run(c, "show ip ospf database router ?")
    assert "A.B.C.D         Link state ID (as an IP address)" in help_text
    assert "adv-router      Advertising Router link states" in help_text
    assert "self-originate  Self-originated link states" in help_text
    run(c, "\x15")  # ^U: drop the line
    assert "A.B.C.D  Advertising Router (as an IP address)" in run(
        c, "show ip ospf database network adv-router ?")
    run(c, "\x15")
    assert "% Incomplete command." in run(c, "\nshow ip ospf database router adv-router\n")
    assert "% Invalid input detected at '^' marker." in run(
        c, "show ip ospf database router self-originate 1.1.1.1\n")


def test_the_plain_database_summary_is_unchanged(abr_lab: LabConsole) -> None:
    c = abr_lab
    out = run(c, "@R1\nshow ip ospf database\n")
    e = engine(c, "R1")
    now = c.lab.clock.now
    assert "LS age" not in out and out.endswith("\n\n")
    lines = out.split("\n")
    assert lines[:5] == ["", "            OSPF Router with ID (1.1.1.1) (Process ID 1)", "",
                         "\t\tRouter Link States (Area 0)", ""]
    assert lines[5] == "Link ID         ADV Router      Age         Seq#       Checksum Link count"
    for entry in sorted(e.areas[0].lsdb.of_type(LsType.ROUTER),
                        key=lambda x: x.header.link_state_id):
        h = entry.header
        row = (f"{format_ip(h.link_state_id):<15} {format_ip(h.advertising_router):<15} "
               f"{entry.age(now):<11} 0x{h.ls_sequence_number & 0xFFFFFFFF:08X} "
               f"0x{h.ls_checksum:06X} 1")
        assert row in lines
    assert "\t\tType-5 AS External Link States" in out


def test_a_point_to_point_link_over_gre(tmp_path: Path) -> None:
    c = ospf_tunnel_lab(tmp_path)
    run(c, "@wait 30\n")
    out = run(c, "@R1\nshow ip ospf database router adv-router 1.1.1.1\n")
    (entry,) = [x for x in engine(c, "R1").areas[0].lsdb.of_type(LsType.ROUTER)
                if x.header.advertising_router == 0x01010101]
    body = entry.body()
    assert isinstance(body, RouterLsa)
    p2p = [k for k in body.links if k.link_type == LinkType.POINT_TO_POINT]
    assert p2p
    for link in p2p:
        assert ("    Link connected to: another Router (point-to-point)\n"
                f"     (Link ID) Neighboring Router ID: {format_ip(link.link_id)}\n"
                f"     (Link Data) Router Interface address: {format_ip(link.link_data)}\n"
                f"      Number of MTID metrics: 0\n       TOS 0 Metrics: {link.metric}\n"
                ) in out
    assert_header(block_of(out, entry), entry, c.lab.clock.now)
    # a router that is neither ABR nor ASBR: no routing bit on its LSA
    assert ROUTING_BIT not in run(c, "show ip ospf database router\n")


def _rows(out: str) -> list[tuple[str, str]]:
    """(section heading, table row) of each LSA in the one-line-per-LSA summary."""
    rows, section = [], ""
    for line in out.split("\n"):
        if line.startswith("\t\t"):
            section = line
        elif re.match(r"\d+\.\d+\.\d+\.\d+ ", line):
            rows.append((section, line))
    return rows


def test_the_summary_filtered_by_advertising_router(abr_lab: LabConsole) -> None:
    c = abr_lab
    run(c, "@R1\n")
    every = _rows(run(c, "show ip ospf database\n"))
    for adv, command in (("1.1.1.1", "self-originate"), ("1.1.1.1", "adv-router 1.1.1.1"),
                         ("203.0.113.1", "adv-router 203.0.113.1")):
        out = run(c, f"show ip ospf database {command}\n")
        assert "LS age" not in out and out.endswith("\n\n")
        kept = [(s, row) for s, row in every if row.split()[1] == adv]
        assert _rows(out) == kept and kept
        # a section with none of its LSAs is left out, heading and all
        assert out.count("\t\t") == len({s for s, _ in kept})
    assert run(c, "show ip ospf database adv-router 192.0.2.99\n") == (
        "\n            OSPF Router with ID (1.1.1.1) (Process ID 1)\n\n")


def test_the_lsas_of_a_router_no_longer_reached(tmp_path: Path) -> None:
    """R2 leaves the area (its link to the ISP shut): R1 keeps R2's LSAs until they age
    out, and marks them, not the LSAs of the routers it still reaches."""
    c = console(tmp_path)
    run(c, "@R1\nenable\nconf t\nrouter ospf 1\nrouter-id 1.1.1.1\n"
           "network 198.51.100.0 0.0.0.3 area 0\nend\n"
           "@ISP\nenable\nconf t\nrouter ospf 1\nrouter-id 3.3.3.3\n"
           "network 0.0.0.0 255.255.255.255 area 0\nend\n"
           "@R2\nenable\nconf t\nrouter ospf 1\nrouter-id 2.2.2.2\n"
           "network 203.0.113.0 0.0.0.3 area 0\ndefault-information originate always\n"
           "end\n@wait 60\n")
    reached = run(c, "@R1\n\nshow ip ospf database router adv-router 2.2.2.2\n")
    assert "not-reachable" not in reached and "Advertising Router: 2.2.2.2" in reached
    run(c, "@R2\nconf t\ninterface GigabitEthernet0/0\nshutdown\nend\n@wait 60\n@R1\n\n")
    gone = run(c, "show ip ospf database router adv-router 2.2.2.2\n")
    assert blocks(gone) and all(b.startswith(NOT_REACHABLE) for b in blocks(gone))
    external = run(c, "show ip ospf database external\n")
    assert blocks(external) and all(b.startswith(NOT_REACHABLE) for b in blocks(external))
    for still in ("1.1.1.1", "3.3.3.3"):
        out = run(c, f"show ip ospf database router adv-router {still}\n")
        assert blocks(out) and "not-reachable" not in out
