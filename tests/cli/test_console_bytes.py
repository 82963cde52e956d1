"""Any byte, any character, any locale: the console never raises, a line IOS would reject
gets the caret, and a line IOS accepts is stored, saved and booted again byte for byte."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from labkit import console as _console
from labkit import run, seeded

from iosim.cli.lines import (
    byte_console,
    ios_split,
    output_lines,
    split_lines,
    to_bytes,
    truncate_bytes,
)
from iosim.config.passwords import type7_decode
from iosim.lab.console import Lab, LabConsole, run_transcript

INTERNAL = "internal error"


# ---------------------------------------------------------------- the text rules


def test_lines_end_at_cr_and_lf_only_and_words_at_spaces_and_tabs() -> None:
    text = "a\x0bb\x0cc\u2028d\x1ce\x85f\r\ng\rh\ni\n"
    assert split_lines(text) == ["a\x0bb\x0cc\u2028d\x1ce\x85f", "g", "h", "i"]
    assert ios_split(" banner\tmotd \xa0x\xa0 y ", 2) == ["banner", "motd", "\xa0x\xa0 y "]
    assert output_lines("x\x0by\nz\n") == ["x\x0by", "z"]
    assert truncate_bytes("ab\u00e9", 3) == "ab\udcc3"  # IOS cuts bytes; the half stays a byte
    assert to_bytes(truncate_bytes("ab\u00e9", 3)) == b"ab\xc3"


# ---------------------------------------------------------------- banners


@pytest.mark.parametrize("delim", ["\xa0", "\x0b", "\x0c", "\u2028", "\x1c", "\x85"])
def test_a_banner_delimited_by_any_character(tmp_path: Path, delim: str) -> None:
    c = _console(tmp_path)
    c.feed("conf t")
    assert c.feed(f"banner motd {delim}") == (
        f"Enter TEXT message.  End with the character '{delim}'.\n")
    assert c.feed(f"Welcome{delim}") == ""
    assert c.prompt == "R1(config)#"
    assert c.lab.routers["R1"].config.banner_motd == "\nWelcome"
    c.feed("end")
    assert "[OK]" in c.feed("write memory")
    again = _console(tmp_path)  # boots from what was saved
    assert again.lab.routers["R1"].config.banner_motd == "\nWelcome"


def test_a_one_line_banner_with_separators_python_would_split_at(tmp_path: Path) -> None:
    c = _console(tmp_path)
    run(c, "conf t\nbanner motd #one\u2028two\x0bthree#\nend\nwrite memory\n")
    assert c.lab.routers["R1"].config.banner_motd == "one\u2028two\x0bthree"
    assert _console(tmp_path).lab.routers["R1"].config.banner_motd == "one\u2028two\x0bthree"


# ---------------------------------------------------------------- what IOS refuses


def _caret(col: int, prompt: str = "R1(config)#") -> str:
    return " " * (len(prompt) + col) + "^\n% Invalid input detected at '^' marker.\n\n"


def test_non_ascii_where_ios_wants_keywords_or_a_hostname(tmp_path: Path) -> None:
    c = _console(tmp_path)
    c.feed("conf t")
    assert c.feed("host\u00e9name R9") == _caret(4)  # under the first byte that is not ASCII
    assert c.feed("hostname R\u00e9") == "% Hostname contains one or more illegal characters.\n"
    assert c.feed("banner motd\xa0#x#") == _caret(11)  # a no-break space separates nothing
    assert c.feed("hostname A\ud800") == _caret(10)  # a character no byte sequence gives
    assert c.prompt == "R1(config)#"


def test_a_line_end_inside_a_line_makes_two_lines(tmp_path: Path) -> None:
    c = _console(tmp_path)
    c.feed("conf t")
    c.feed("hostname A\rhostname B\nhostname C")
    assert c.prompt == "C(config)#"


# ---------------------------------------------------------------- secrets and passwords


def test_secrets_and_passwords_of_any_bytes(tmp_path: Path) -> None:
    secret = "caf\u00e9\udce9\x0b!"
    c = _console(tmp_path)
    run(c, f"conf t\nenable secret {secret}\nservice password-encryption\n"
           f"line vty 0 4\npassword {secret}\nend\nwrite memory\n")
    shown = c.feed("show running-config | include password")
    assert " password 7 " in shown and secret not in shown
    c.feed("disable")
    c.feed("enable")
    assert c.prompt == "Password: "
    c.feed(secret)
    assert c.prompt == "R1#"
    booted = LabConsole(Lab.load(nvram_dir=tmp_path), paging=False)
    vty = booted.lab.routers["R1"].config.lines[2]
    assert vty.password_type7 is not None
    assert type7_decode(vty.password_type7) == secret  # the saved type 7 gives the same bytes
    booted.feed("enable")
    booted.feed(secret)
    assert booted.prompt == "R1#"


# ---------------------------------------------------------------- arbitrary input


_ANY_CHAR = st.characters(exclude_categories=())  # every category, surrogates included
_PREFIXES = st.sampled_from([
    "", "banner motd ", "banner motd", "ban mot ", "description ", "hostname ",
    "enable secret ", "enable password ", "username u secret ", "interface ", "remark ",
    "permit ip ", "ip access-list extended ", "do show ", "crypto isakmp key ",
    "show running-config | include ", "@", "ping ", "!", "password ",
])
_LINES = st.builds(lambda p, t: p + t, _PREFIXES, st.text(_ANY_CHAR, max_size=12))
_ENTER = {"exec": [], "config": ["conf t"], "if": ["conf t", "interface Gi0/1"],
          "ext_nacl": ["conf t", "ip access-list extended X"], "line": ["conf t", "line con 0"]}


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(sorted(_ENTER)), lines=st.lists(_LINES, min_size=1, max_size=3))
def test_any_text_never_raises(mode: str, lines: list[str], tmp_path: Path) -> None:
    c = _console(tmp_path)
    for enter in _ENTER[mode]:
        c.feed(enter)
    for line in lines:
        out = c.feed(line)
        assert INTERNAL not in out, (line, out)
    out = run(c, "\x1a\nwrite memory\nshow running-config\nshow startup-config\n")
    assert INTERNAL not in out


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.binary(max_size=24), min_size=1, max_size=6))
def test_any_bytes_through_a_piped_console_never_raise(lines: list[bytes],
                                                       tmp_path: Path) -> None:
    data = b"enable\nconf t\n" + b"\n".join(lines) + b"\nend\nwrite memory\n"
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="latin-1")
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="ascii")
    byte_console(stdin, stdout)  # what the command line does with its standard streams
    run_transcript(LabConsole(Lab.load(nvram_dir=tmp_path), paging=False), stdin, stdout)
    stdout.flush()
    assert INTERNAL.encode() not in raw.getvalue()


# ---------------------------------------------------------------- the command line


_SCRIPT = (b"enable\nconf t\ninterface GigabitEthernet0/1\n"
           b"description caf\xe9 \xc3\xa9 \xe2\x80\xa8 \x0bend \xff\n"
           b"exit\nbanner motd \xc2\xa0Hello \xe9\xc2\xa0\nend\nwrite memory\n")
_DESCRIPTION = b" description caf\xe9 \xc3\xa9 \xe2\x80\xa8 \x0bend \xff\n"


@pytest.mark.parametrize("env", [
    {"LC_ALL": "C"}, {"LC_ALL": "C.UTF-8"}, {"PYTHONIOENCODING": "latin-1"},
    {"LC_ALL": "C", "PYTHONIOENCODING": "latin-1"}, {},
], ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()) or "default")
def test_bytes_are_echoed_saved_and_booted_again_unchanged(tmp_path: Path,
                                                           env: dict[str, str]) -> None:
    base = {k: v for k, v in os.environ.items()
            if k not in ("LC_ALL", "LANG", "PYTHONIOENCODING")}
    base.update(env, XDG_STATE_HOME=str(tmp_path))
    first = subprocess.run([sys.executable, "-m", "iosim", "console"], input=_SCRIPT,
                           capture_output=True, env=base, timeout=60)
    assert first.returncode == 0 and b"Traceback" not in first.stderr, first.stderr
    assert b"R1(config-if)#description caf\xe9 \xc3\xa9 \xe2\x80\xa8 \x0bend \xff\n" \
        in first.stdout
    assert b"[OK]" in first.stdout
    saved = (tmp_path / "iosim" / "labs" / "site-to-site" / "R1.startup-config").read_bytes()
    assert _DESCRIPTION in saved
    assert b"banner motd ^CHello \xe9^C\n" in saved  # saved with IOS's own delimiter
    again = subprocess.run([sys.executable, "-m", "iosim", "console"],
                           input=b"enable\nshow running-config\n",
                           capture_output=True, env=base, timeout=60)
    assert again.returncode == 0, again.stderr
    assert _DESCRIPTION in again.stdout and b"banner motd ^CHello \xe9^C\n" in again.stdout


def test_a_seed_of_any_bytes(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path), LC_ALL="C")
    runs = [subprocess.run([sys.executable, "-m", "iosim", "console", "--seed", seed],
                           input=b"enable\n", capture_output=True, env=env, timeout=60)
            for seed in (b"\xe9t\xe9", "\u00e9t\u00e9".encode(), b"\xff")]
    for r in runs:
        assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr
    lab = Lab.load(nvram_dir=tmp_path / "api", seed="\udce9\ud800")  # from Python, too
    assert lab.routers["R1"].crypto_plane is not None


def test_keys_go_to_ike_as_utf_8(tmp_path: Path) -> None:
    """A key of any UTF-8 text negotiates; a byte that is not UTF-8 gets the caret, since the
    IKE engine takes keys as UTF-8 text; so does a domain name that is not ASCII."""
    key = "SECRET\u00e9\u2028"
    c = seeded(tmp_path, r1_replace={"SECRETKEY123": key}, r2_replace={"SECRETKEY123": key})
    assert c.feed("ping 10.0.2.10 source 192.168.1.1").endswith("(4/5), round-trip "
                                                                 "min/avg/max = 22/22/22 ms\n")
    assert "QM_IDLE" in c.feed("show crypto isakmp sa")
    c.feed("conf t")
    assert c.feed("crypto isakmp key AB\udce9C address 192.0.2.1") == _caret(20)
    assert c.feed("ip domain name caf\u00e9.example") == _caret(18)
    c.feed("crypto isakmp peer address 192.0.2.1")
    assert c.feed("set aggressive-mode password x\udcffy") == _caret(30, c.prompt)
