"""What the lab tests share: a privileged console on the default lab, scripts, ping marks."""

from __future__ import annotations

from pathlib import Path

from iosim.lab.console import Lab, LabConsole

#: Routes on the ISP to both LANs (the default lab has none), then back to R1.
ISP_ROUTES = ("@ISP\nenable\nconf t\nip route 192.168.1.0 255.255.255.0 198.51.100.1\n"
              "ip route 10.0.2.0 255.255.255.0 203.0.113.2\nend\n@R1\n")


#: The ISP translates R1's outside address (198.51.100.1) to its own 203.0.113.1 (PAT).
ISP_NAT = """\
@ISP
enable
conf t
interface GigabitEthernet0/0
ip nat inside
interface GigabitEthernet0/1
ip nat outside
exit
access-list 1 permit 198.51.100.0 0.0.0.3
ip nat inside source list 1 interface GigabitEthernet0/1 overload
end
"""


def console(tmp_path: Path) -> LabConsole:
    """R1 of the default lab, privileged, no paging, NVRAM under ``tmp_path``."""
    c = LabConsole(Lab.load(nvram_dir=tmp_path), paging=False)
    c.feed("enable")
    return c


def run(c: LabConsole, script: str) -> str:
    """Feed every line of ``script``; return all the output."""
    return "".join(c.feed(line) for line in script.splitlines())


def marks(output: str) -> list[str]:
    """The lines of ping marks in ``output``."""
    return [ln for ln in output.splitlines() if ln and set(ln) <= set("!.UQM&")]
