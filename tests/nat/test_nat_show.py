"""show ip nat statistics and show ip nat translations verbose on R1 of the default lab:
the counters of what NAT really did to PC1's datagrams (IOS 15 layout)."""

from __future__ import annotations

import re
from pathlib import Path

from labkit import console as lab_console
from labkit import run

from iosim.lab.console import LabConsole

PAT = """\
conf t
interface GigabitEthernet0/1
 ip nat inside
interface GigabitEthernet0/0
 ip nat outside
exit
access-list 1 permit 192.168.1.0 0.0.0.255
ip nat inside source list 1 interface GigabitEthernet0/0 overload
end
"""


def _stat(c: LabConsole, pattern: str) -> str:
    found = re.search(pattern, c.feed("show ip nat statistics"))
    assert found is not None, pattern
    return found[1]


def test_hits_punts_and_expiry(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    run(c, PAT + "@PC1\nping 203.0.113.2 repeat 4\n@R1\n")
    # 4 echoes out and 4 replies back translated; the first made the entry (punted)
    assert _stat(c, r"(Hits: \d+  Misses: \d+)") == "Hits: 8  Misses: 0"
    assert _stat(c, r"(CEF Translated packets: \d+, CEF Punted packets: \d+)") == (
        "CEF Translated packets: 7, CEF Punted packets: 1")
    assert _stat(c, r"(Total active translations: .*)") == (
        "Total active translations: 1 (0 static, 1 dynamic; 1 extended)")
    assert _stat(c, r"(\[Id: 1\] .*)") == (
        "[Id: 1] access-list 1 interface GigabitEthernet0/0 refcount 1")
    c.feed("@wait 61")  # icmp-timeout 60
    assert _stat(c, r"Expired translations: (\d+)") == "1"
    assert _stat(c, r"(Peak translations: .*)") == "Peak translations: 1, occurred 00:01:01 ago"
    assert _stat(c, r"refcount (\d+)") == "0"
    run(c, "reload\nno\n\n\nenable\n")  # a reload starts the statistics again
    assert _stat(c, r"(Hits: \d+  Misses: \d+)") == "Hits: 0  Misses: 0"


def test_a_datagram_nat_cannot_translate_is_a_miss(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    # without overload the interface address goes to one host, and a static holds it
    run(c, PAT.replace(" overload", "").replace(
        "end\n", "ip nat inside source static 192.168.1.20 198.51.100.1\nend\n"))
    out = run(c, "@PC1\nping 203.0.113.2 repeat 2\n@R1\n")
    assert "Success rate is 0 percent (0/2)" in out
    assert _stat(c, r"(Hits: \d+  Misses: \d+)") == "Hits: 0  Misses: 2"
    assert _stat(c, r"(Total active translations: .*)") == (
        "Total active translations: 1 (1 static, 0 dynamic; 0 extended)")


def test_verbose_ages_and_timeouts(tmp_path: Path) -> None:
    c = lab_console(tmp_path)
    run(c, PAT + "conf t\nip nat translation icmp-timeout 120\nend\n"
                 "@PC1\nping 203.0.113.2 repeat 1\n@R1\n@wait 30\n")
    lines = c.feed("show ip nat translations verbose").splitlines()
    assert lines[0] == "Pro Inside global      Inside local       Outside local      Outside global"
    assert lines[1] == "icmp 198.51.100.1:1    192.168.1.10:1     203.0.113.2:1      203.0.113.2:1"
    assert re.fullmatch(r"    create 00:00:30, use 00:00:30 timeout:120000, left 00:01:(29|30), "
                        r"Map-Id\(In\): 1, ", lines[2])
    assert lines[3:] == ["    flags: ", "extended, use_count: 0, entry-id: 1, lc_entries: 0"]
    assert c.feed("show ip nat translations verbose | include create").count("create") == 1
