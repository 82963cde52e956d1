"""A vty's terminal as clients drive it: ``show terminal``'s line number."""

from __future__ import annotations

import re

from servekit import Telnet, port

from iosim.serve.server import LabServer

IAC, WILL, WONT, DO, DONT, SB, SE = b"\xff", b"\xfb", b"\xfc", b"\xfd", b"\xfe", b"\xfa", b"\xf0"
ECHO, NAWS = b"\x01", b"\x1f"


def _terminal(t: Telnet) -> tuple[int, int, int]:
    """(line, length, width) that ``show terminal`` prints."""
    shown = t.command("show terminal")
    line = re.search(r"^Line (\d+), ", shown, re.M)
    size = re.search(r"Length: (\d+) lines, Width: (\d+) columns", shown)
    assert line and size, shown
    return int(line.group(1)), int(size.group(1)), int(size.group(2))


def test_show_terminal_names_the_sessions_own_line(server: LabServer) -> None:
    a, b = Telnet(port(server, "R1", "telnet")), Telnet(port(server, "R1", "telnet"))
    a.login()
    b.login()
    assert _terminal(a)[0] == 2 and _terminal(b)[0] == 3  # vty 0 and vty 1
    assert "*  3 vty 1" in b.command("show users")
    a.close()
    b.close()
