"""A command that fails inside iosim ends with one ``%`` line, never the console: what it
changed is undone, the traceback goes to the error log, the lab and unsaved configs carry on."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from labkit import console as _console
from labkit import run

from iosim.cli import session as session_module
from iosim.cli.incidents import error_log_path
from iosim.cli.matcher import Match
from iosim.config import handlers
from iosim.config.handlers import ApplyContext
from iosim.config.render import running_config_text


class Boom(Exception):
    """What a buggy handler raises."""


def _after(original: Callable[..., object]) -> Callable[..., object]:
    """A handler that does all its work, then fails (the worst case: half a command)."""

    def handler(*args: object) -> object:
        original(*args)
        raise Boom("a bug")

    return handler


def test_a_config_handler_that_fails_changes_nothing_and_the_console_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = _console(tmp_path)
    run(c, "conf t\nhostname EDGE\ninterface GigabitEthernet0/2\n")  # unsaved changes
    before = running_config_text(c.lab.routers["R1"].config)
    original = handlers.HANDLERS["if_ip_address"]
    monkeypatch.setitem(handlers.HANDLERS, "if_ip_address", _after(original))
    out = c.feed("ip address 10.9.9.1 255.255.255.0 secondary")
    assert out == ('% iosim: internal error in "ip address 10.9.9.1 255.255.255.0 secondary": '
                   "Boom; the lab continues\n")
    router = c.lab.routers["R1"]
    assert running_config_text(router.config) == before
    assert router.config.address_index.overlapping(0x0A090901, 24) == []
    assert c.prompt == "EDGE(config-if)#"  # same mode, same interface
    monkeypatch.setitem(handlers.HANDLERS, "if_ip_address", original)
    assert c.feed("ip address 10.9.9.1 255.255.255.0") == ""
    assert " ip address 10.9.9.1 255.255.255.0" in c.feed("do show running-config")
    log = error_log_path().read_text()
    assert "command 'ip address 10.9.9.1 255.255.255.0 secondary'" in log
    assert "Traceback (most recent call last)" in log and "Boom: a bug" in log


def test_global_and_feature_tables_are_put_back(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    c = _console(tmp_path)
    c.feed("conf t")
    config = c.lab.routers["R1"].config
    before = running_config_text(config)
    for rule, line in (("cfg_hostname", "hostname BROKEN"),
                       ("cfg_ip_route", "ip route 10.7.0.0 255.255.0.0 198.51.100.2"),
                       ("cis_key", "crypto isakmp key K address 192.0.2.9"),
                       ("cfg_banner", "banner motd #new#")):
        handler = handlers.HANDLERS[rule]
        monkeypatch.setitem(handlers.HANDLERS, rule, _after(handler))
        assert "internal error" in c.feed(line), rule
        assert running_config_text(config) == before, rule
    assert c.prompt == "R1(config)#"


def test_a_failing_show_command_keeps_the_lab(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    c = _console(tmp_path)
    run(c, "conf t\nhostname UNSAVED\nend\n")

    def broken(session: session_module.Session, m: Match) -> str:
        raise KeyError("entry")

    monkeypatch.setitem(session_module.EXEC_HANDLERS, "show_crypto_map", broken)
    assert c.feed("show crypto map") == (
        '% iosim: internal error in "show crypto map": KeyError; the lab continues\n')
    assert c.prompt == "UNSAVED#"
    assert c.feed("ping 198.51.100.2").endswith("(5/5), round-trip min/avg/max = 10/10/10 ms\n")
    assert c.lab.routers["R1"].saved_since_change is False  # reload would still offer to save


def test_a_failing_answer_to_a_question_ends_the_dialog_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from iosim.cli import exec_commands

    c = _console(tmp_path)
    c.feed("conf t")
    c.feed("hostname KEPT")
    c.feed("end")

    def broken_save(session: session_module.Session) -> str:
        raise OSError("disk on fire")

    monkeypatch.setattr(exec_commands, "_save", broken_save)
    assert c.feed("copy running-config startup-config") == ""
    out = c.feed("")  # Destination filename [startup-config]?
    assert out == ('% iosim: internal error in "copy running-config startup-config": OSError; '
                   "the lab continues\n")
    assert c.prompt == "KEPT#" and c.session.pending is None


def test_keyboard_interrupt_is_not_an_internal_error(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    c = _console(tmp_path)

    def interrupted(session: session_module.Session, m: Match) -> str:
        raise KeyboardInterrupt

    monkeypatch.setitem(session_module.EXEC_HANDLERS, "show_version", interrupted)
    with pytest.raises(KeyboardInterrupt):
        c.feed("show version")


def test_an_unwritable_error_log_does_not_matter(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "state-is-a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    c = _console(tmp_path / "nvram")

    def broken(ctx: ApplyContext, m: Match) -> None:
        raise ValueError

    monkeypatch.setitem(handlers.HANDLERS, "cfg_hostname", broken)
    c.feed("conf t")
    assert "internal error" in c.feed("hostname X")
    assert c.prompt == "R1(config)#"


def test_the_traceback_goes_to_stderr_when_asked(tmp_path: Path) -> None:
    """Through the real command line: a handler broken in a sitecustomize-like preamble."""
    script = ("import sys, runpy\n"
              "from iosim.cli import session\n"
              "import iosim.cli.exec_commands\n"
              "def broken(s, m):\n"
              "    return {}['missing']\n"
              "session.EXEC_HANDLERS['show_clock'] = broken\n"
              "sys.argv = ['iosim', 'console']\n"
              "runpy.run_module('iosim', run_name='__main__')\n")
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path), IOSIM_TRACEBACK="1")
    r = subprocess.run([sys.executable, "-c", script], input="show clock\nshow version\n",
                       text=True, capture_output=True, env=env, timeout=60)
    assert r.returncode == 0
    assert '% iosim: internal error in "show clock": KeyError; the lab continues' in r.stdout
    assert "Cisco IOS Software" in r.stdout  # the next command ran
    assert "Traceback (most recent call last)" in r.stderr and "KeyError" in r.stderr
    assert "KeyError: 'missing'" in (tmp_path / "iosim" / "iosim-errors.log").read_text()
