"""A vty's terminal as clients drive it: the line ends telnet clients send (CR LF, CR NUL)
at ``--More--`` and at the login prompts, characters typed ahead, and ``show terminal``'s
line number."""

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


def test_a_commands_cr_lf_or_cr_nul_is_one_return_and_more_waits_for_a_key(
        server: LabServer) -> None:
    t = Telnet(port(server, "R1", "telnet"))
    t.login()
    t.command("terminal length 5")
    for end in (b"\r\n", b"\r\0"):
        t.send(b"show running-config" + end)
        first = t.expect(" --More-- ")
        assert first.replace(b"\r\n", b"\n").count(b"\n") == 5  # echo's end, 4 lines
        assert b"R1#" not in t.read_for(0.5)  # no key pressed: --More-- waits
        t.send(b"\r" + end[1:])  # Return (CR LF, CR NUL): one line more, then --More--
        t.expect(" --More-- ")
        assert b"R1#" not in t.read_for(0.5)
        t.send("q")
        t.expect(r"R1#$")
    t.close()


def test_login_keeps_what_is_typed_ahead_after_each_line_end(server: LabServer) -> None:
    for typed in (b"admin\radmin\r", b"admin\nadmin\n", b"admin\r\0admin\r\0",
                  b"admin\r\nadmin\rshow privilege\r"):
        t = Telnet(port(server, "R1", "telnet"))
        t.expect("Username: ")
        t.send(typed)
        t.expect(r"R1#")
        if typed.endswith(b"privilege\r"):
            shown = t.expect(r"R1#$")
            assert b"Current privilege level is 15" in shown and b"% Invalid" not in shown
        else:
            t.line("show privilege")
            t.expect("Current privilege level is 15")
        t.close()


def test_show_terminal_names_the_sessions_own_line(server: LabServer) -> None:
    a, b = Telnet(port(server, "R1", "telnet")), Telnet(port(server, "R1", "telnet"))
    a.login()
    b.login()
    assert _terminal(a)[0] == 2 and _terminal(b)[0] == 3  # vty 0 and vty 1
    assert "*  3 vty 1" in b.command("show users")
    a.close()
    b.close()
