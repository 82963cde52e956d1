"""The console while a router asks a question: the emulator's own lines still work."""

from __future__ import annotations

from pathlib import Path

from labkit import console as lab_console
from labkit import run


def test_at_lines_work_while_a_router_waits_for_an_answer(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    console.feed("@wait 300")
    run(console, "conf t\nhostname R1-NEW\nend\nreload\n")
    assert "Save? [yes/no]" in console.session.pending.prompt  # type: ignore[union-attr]
    out = console.feed("")
    assert "% Please answer 'yes' or 'no'." in out
    console.feed("@R2")  # not swallowed by the question
    assert console.device == "R2"
    console.feed("@R1")
    assert console.feed("no") == ""
    assert "restarted by reload" in console.feed("")
    console.feed("")  # Press RETURN to get started
    console.feed("enable")
    version = console.feed("show version")
    assert "Last reload reason: Reload Command" in version
    assert "R1 uptime is 0 minutes" in version  # the unsaved hostname is gone
    assert console.feed("show clock").startswith("*00:00:0")  # no calendar: it restarts
    console.feed("@R2")
    assert console.feed("show clock").startswith("*00:05:")  # R2 kept running


def test_a_password_prompt_takes_a_line_starting_with_at(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    run(console, "conf t\nenable secret @secret\nend\ndisable\n")
    console.feed("enable")
    console.feed("@secret")
    assert console.prompt == "R1#"


def test_a_banner_delimited_by_at_is_banner_text(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    run(console, "conf t\nbanner motd @\nAuthorized only\n@\nend\n")
    assert "Authorized only" in console.feed("show running-config | include Authorized")
    assert console.device == "R1"
