"""``banner exec|login|motd`` and ``[no] service pad``: what automation templates send.

Each banner is kept and listed as IOS lists them (``banner exec``, ``banner login``,
``banner motd``, each between ``^C``), multi-line ones too, typed or replayed from a saved
config; the console prints the motd then the exec banner as its EXEC starts.  ``service
pad`` is off by default and then not listed; on, it is the first service line.  The other
``service`` and ``banner`` words IOS offers answer not emulated.
"""

from __future__ import annotations

from pathlib import Path

from labkit import console as lab_console
from labkit import run

from iosim.cli.replay import replay_config
from iosim.config.render import running_config_text
from tests.cli.test_ios_words import _session


def _service_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "service" in line]


def test_service_pad_is_off_and_unlisted_by_default_and_first_when_on() -> None:
    session = _session("config")
    cfg = session.router.config
    assert session.feed("no service pad") == ""
    assert _service_lines(running_config_text(cfg)) == [
        "service timestamps debug datetime msec", "service timestamps log datetime msec",
        "no service password-encryption"]
    assert session.feed("service pad") == ""
    assert _service_lines(running_config_text(cfg))[:2] == [
        "service pad", "service timestamps debug datetime msec"]
    assert session.feed("no service pad") == ""
    assert "service pad" not in running_config_text(cfg)


def test_other_service_words_are_not_emulated_and_change_nothing() -> None:
    session = _session("config")
    before = running_config_text(session.router.config)
    for line, named in (("service tcp-keepalives-in", "service tcp-keepalives-in"),
                        ("no service dhcp", "no service dhcp"),
                        ("service sequence-numbers", "service sequence-numbers")):
        assert session.feed(line) == f'% iosim: "{named}" is not emulated\n'
    assert running_config_text(session.router.config) == before
    listing = session.feed("service ?")
    assert "  pad " in listing and "  tcp-keepalives-in " in listing


def test_banner_help_lists_exec_login_and_motd() -> None:
    listing = _session("config").feed("banner ?")
    words = [line.split()[0] for line in listing.splitlines() if line.strip()]
    assert {"exec", "login", "motd"} <= set(words)
    assert "  exec            Set EXEC process creation banner\n" in listing
    assert "  login           Set login banner\n" in listing


def test_banners_are_listed_in_ios_order_and_removed_by_no() -> None:
    session = _session("config")
    for line in ("banner motd #Motd#", "banner login ^C Login ^C", "banner exec X Exec X"):
        assert session.feed(line) == ""
    text = running_config_text(session.router.config)
    assert ("control-plane\n!\nbanner exec ^C Exec ^C\nbanner login ^C Login ^C\n"
            "banner motd ^CMotd^C\n!\nline con 0\n") in text
    assert session.feed("no banner login") == ""
    text = running_config_text(session.router.config)
    assert "banner login" not in text and "banner exec ^C Exec ^C\nbanner motd" in text
    assert session.feed("banner exec #unterminated") == (
        "Enter TEXT message.  End with the character '#'.\n")


def test_a_multi_line_login_banner_typed_and_replayed() -> None:
    session = _session("config")
    assert session.feed("banner login #") == "Enter TEXT message.  End with the character '#'.\n"
    assert session.feed("Authorised") == ""
    assert session.feed("access only#") == ""
    assert session.router.config.banner_login == "\nAuthorised\naccess only"
    shown = running_config_text(session.router.config)
    saved = shown[shown.index("\n!\n"):]  # as saved: without show's header lines
    other = _session("config").router
    assert replay_config(other, "banner exec ^C\nHello\n^C\nbanner login ^C\nAuthorised\n"
                                "access only\n^C\nhostname R9\n", "startup-config") == []
    assert other.config.banner_exec == "\nHello\n"
    assert other.config.banner_login == "\nAuthorised\naccess only\n"
    assert other.config.hostname == "R9"
    assert replay_config(other, saved, "startup-config") == []
    assert other.config.banner_login == "\nAuthorised\naccess only"


def test_a_bad_banner_changes_nothing() -> None:
    session = _session("config")
    session.feed("banner exec #kept#")
    assert session.feed("banner exec") == "% Incomplete command.\n\n"
    assert session.feed("banner bogus #x#").endswith("% Invalid input detected at '^' marker.\n\n")
    assert session.router.config.banner_exec == "kept"


def test_the_console_prints_the_motd_then_the_exec_banner_when_its_exec_starts() -> None:
    session = _session("config")
    session.feed("banner motd #Motd#")
    session.feed("banner exec #Exec#")
    session.feed("banner login #Login#")
    session.feed("end")
    assert "Press RETURN to get started." in session.feed("exit")
    assert session.feed("") == "\nMotd\n\nExec\n\n"


def test_the_exec_banner_alone_and_no_banner() -> None:
    session = _session("config")
    session.feed("banner exec #Exec#")
    session.feed("end")
    session.feed("exit")
    assert session.feed("") == "\nExec\n\n"
    bare = _session("exec")
    bare.feed("exit")
    assert bare.feed("") == "\n"


def test_a_lab_console_keeps_banners_across_write_and_reload(tmp_path: Path) -> None:
    console = lab_console(tmp_path)
    run(console, "conf t\nbanner exec @\nWelcome\n@\nservice pad\nend\nwrite memory\n")
    again = lab_console(tmp_path)
    text = again.feed("show running-config")
    assert "banner exec ^C\nWelcome\n^C\n" in text
    assert "service pad\nservice timestamps" in text
