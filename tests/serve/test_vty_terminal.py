"""A vty's terminal as clients drive it: the line ends telnet clients send (CR LF, CR NUL)
at ``--More--`` and at the login prompts, characters typed ahead, the window size (telnet
NAWS, SSH window changes) against ``terminal length``, ``show terminal``'s line number and
telnet's ECHO option (IOS answers ``DONT ECHO`` and echoes on)."""

from __future__ import annotations

import asyncio
import re
import time

import asyncssh
from servekit import LOOPBACK, Telnet, port

from iosim.serve.server import LabServer

IAC, WILL, WONT, DO, DONT, SB, SE = b"\xff", b"\xfb", b"\xfc", b"\xfd", b"\xfe", b"\xfa", b"\xf0"
ECHO, NAWS = b"\x01", b"\x1f"


def _naws(width: int, height: int) -> bytes:
    size = width.to_bytes(2, "big") + height.to_bytes(2, "big")
    return IAC + SB + NAWS + size + IAC + SE


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


def test_a_long_help_list_pages_and_gives_the_typed_line_back(server: LabServer) -> None:
    t = Telnet(port(server, "R1", "telnet"))
    t.login()
    t.command("terminal length 8")
    t.send(b"show ?")
    first = t.expect(" --More-- ")
    assert first.replace(b"\r\n", b"\n").count(b"\n") == 8  # '?', the heading, 7 lines
    t.send(b" ")
    t.expect(" --More-- ")
    t.send(b"q")
    t.expect(r"R1#show $")  # the list stopped: the line as typed
    t.send(b"clock\r")
    t.expect(r"\*?\d\d:\d\d:\d\d.*\r\nR1#$")
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


def test_telnet_naws_sets_length_and_width_and_terminal_length_0_stays(
        server: LabServer) -> None:
    t = Telnet(port(server, "R1", "telnet"))
    t.send(IAC + WILL + NAWS + _naws(132, 50))  # in the first packet, before the login
    t.login()
    assert _terminal(t)[1:] == (50, 132)
    t.send(_naws(100, 8))  # the window changes later
    assert _terminal(t)[1:] == (8, 100)
    t.line("show running-config")
    page = t.expect(" --More-- ")
    assert page.replace(b"\r\n", b"\n").count(b"\n") == 8  # echo's end, 7 lines
    t.send("q")
    t.expect(r"R1#$")
    t.command("terminal length 0")
    t.send(_naws(90, 40))
    assert _terminal(t)[1:] == (0, 90)  # the typed length stays; the width follows
    t.command("terminal width 120")
    t.send(_naws(70, 30))
    assert _terminal(t)[1:] == (0, 120)
    t.close()


def test_ssh_window_changes_after_the_pty_set_length_and_width(server: LabServer) -> None:
    async def session() -> list[str]:
        async with asyncssh.connect(LOOPBACK, port(server, "R1", "ssh"), username="admin",
                                    password="admin", known_hosts=None) as conn:
            proc = await conn.create_process(term_type="vt100", term_size=(80, 10))
            seen: list[str] = []

            async def show_terminal() -> None:
                proc.stdin.write("show terminal\r")
                text = ""
                while not re.search(r"Status:.*\r?\n.*R1#$", text, re.S):
                    text += await asyncio.wait_for(proc.stdout.read(4096), 10)
                seen.append(text)

            await show_terminal()
            proc.change_terminal_size(100, 30)
            time.sleep(0.2)
            await show_terminal()
            proc.stdin.write("terminal length 0\r")
            proc.change_terminal_size(110, 40)
            time.sleep(0.2)
            await show_terminal()
            proc.stdin.write("quit\r")
            await asyncio.wait_for(proc.wait_closed(), 10)
            return seen

    shown = asyncio.run(session())
    assert "Length: 10 lines, Width: 80 columns" in shown[0]
    assert "Length: 30 lines, Width: 100 columns" in shown[1]
    assert "Length: 0 lines, Width: 110 columns" in shown[2]


def test_dont_echo_is_answered_wont_echo_and_the_vty_echoes_on_as_ios_does(
        server: LabServer) -> None:
    t = Telnet(port(server, "R1", "telnet"))
    t.login()
    t.send(IAC + DONT + ECHO)
    t.expect(re.escape(IAC + WONT + ECHO))
    t.line("show privilege")  # netmiko's telnet refuses ECHO and waits for this echo
    assert t.expect(r"R1#$").startswith(b"show privilege\r\nCurrent privilege level is 15")
    t.send(IAC + DO + ECHO)
    t.expect(re.escape(IAC + WILL + ECHO))
    t.line("show privilege")
    assert t.expect(r"R1#$").startswith(b"show privilege\r\n")
    t.close()
