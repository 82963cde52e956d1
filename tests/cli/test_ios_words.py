"""IOS 15's top-level command sets: the words iosim does not emulate, and the ones it does.

Every word of ``grammar/ios_words.lark`` must answer ``% iosim: "..." is not emulated`` and
change nothing; a feature's keyword of the same spelling must still run the feature; a
typo in a sub-mode must keep its caret; ``?`` must wrap as IOS wraps; ``configure`` alone
must ask where from; the README and ``@help commands`` must list what the grammar emulates.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iosim.cli.ios_words import emulated_commands
from iosim.cli.matcher import Arg, not_emulated, not_emulated_words, parse, roots
from iosim.cli.replay import boot, replay_config
from iosim.cli.session import Session
from iosim.clock import VirtualClock
from iosim.config.render import running_config_text
from iosim.router import Nvram, Router

README = Path(__file__).resolve().parents[2] / "README.md"


def _session(mode: str = "exec", tmp_path: Path | None = None) -> Session:
    """A console on a booted R1 with two interfaces, its NVRAM a file under ``tmp_path``."""
    nvram = Nvram(tmp_path / "startup-config") if tmp_path is not None else None
    router = Router("R1", ["GigabitEthernet0/0", "GigabitEthernet0/1"], VirtualClock(),
                    nvram=nvram, initial_config="hostname R1\n")
    assert boot(router) == []
    return Session(router, mode=mode, terminal_length=0)


def _not_emulated_roots() -> list[tuple[str, str]]:
    """(start rule, keyword) of every not-emulated word at the start of a mode's line (a
    word a feature emulates there too is the feature's: see the next tests)."""
    out = []
    for start in ("user_line", "exec_line", "config_line"):
        node = roots().root(start)
        for spec in node.keywords:
            if not_emulated(spec.name) and node.exact[spec.keyword or ""] is spec:
                out.append((start, spec.keyword or ""))
    return out


_MODE_OF = {"user_line": "user", "exec_line": "exec", "config_line": "config"}


@pytest.mark.parametrize("start,word", _not_emulated_roots())
def test_every_not_emulated_word_says_so_and_changes_nothing(start: str, word: str) -> None:
    session = _session(_MODE_OF[start])
    before = running_config_text(session.router.config)
    out = session.feed(f"{word} 1 2 3")
    assert out == f'% iosim: "{word}" is not emulated\n'
    assert session.mode == _MODE_OF[start]
    assert running_config_text(session.router.config) == before


def test_the_words_named_are_the_command_words_not_its_arguments() -> None:
    def words(*args: tuple[str, str]) -> str | None:
        return not_emulated_words([Arg(t, v, i) for i, (t, v) in enumerate(args)])

    assert words(("ROUTER", "router"), ("NE_R_EIGRP", "eigrp"),
                 ("NE_REST", "100")) == "router eigrp"
    assert words(("SHOW", "show"), ("NE_S_CDP", "cdp"), ("PIPE", "|"),
                 ("PIPE_INCLUDE", "include"), ("PIPE_REGEX", "x")) == "show cdp"
    assert words(("CFG_NO", "no"), ("NE_C_CDP", "cdp"), ("NE_REST", "run")) == "no cdp"
    assert words(("NE_X_SESSION", "5"),) == "resume"
    assert words(("SHOW", "show"), ("SHOW_VERSION", "version")) is None


def test_abbreviations_are_ambiguous_where_ios_s_are() -> None:
    exec_ = _session("exec")
    assert exec_.feed("s") == '% Ambiguous command:  "s"\n'
    assert exec_.feed("con") == '% Ambiguous command:  "con"\n'
    assert exec_.feed("co?") == "configure  connect  copy  \n\n"
    config = _session("config")
    assert config.feed("log buffered") == '% Ambiguous command:  "log buffered"\n'
    assert config.feed("li con 0") == '% Ambiguous command:  "li con 0"\n'
    # what stays unique stays accepted
    assert config.feed("logg buffered 8192") == ""
    assert config.feed("lin con 0") == "" and config.mode == "line"


def test_a_feature_keyword_wins_over_a_not_emulated_word_of_the_same_spelling() -> None:
    # "clear" is emulated in privileged EXEC only; user EXEC knows it by name only
    assert parse("exec_line", "clear logging").command != "ios_word_exec"
    user = _session("user")
    assert user.feed("clear logging") == '% iosim: "clear" is not emulated\n'
    node = roots().root("exec_line")
    clears = [s for s in node.keywords if s.keyword == "clear"]
    assert len(clears) == 2 and not not_emulated(clears[0].name)
    assert node.exact["clear"] is clears[0]
    listing = _session("exec").feed("?")
    assert listing.count("\n  clear ") == 1


def test_a_sub_mode_typo_keeps_its_caret_and_a_sub_mode_stays_put() -> None:
    session = _session("config")
    session.feed("crypto isakmp policy 10")
    # "authentication" is a global command IOS 15 knows; the sub-mode's caret still wins
    caret = " " * len(session.prompt + "authentication pre-shar") + "^\n"
    assert session.feed("authentication pre-shark") == (
        caret + "% Invalid input detected at '^' marker.\n\n")
    assert session.mode == "isakmp"
    session.feed("exit")
    session.feed("interface GigabitEthernet0/0")
    assert session.feed("standby 1 ip 192.168.1.254") == '% iosim: "standby" is not emulated\n'
    assert session.feed("no cdp enable") == '% iosim: "no cdp" is not emulated\n'
    assert session.mode == "if" and session.target == "GigabitEthernet0/0"


def test_help_after_a_not_emulated_command_says_so_and_lists_what_leads_to_one() -> None:
    session = _session("config")
    assert session.feed("cdp ?") == '% iosim: "cdp" is not emulated\n'
    assert session.feed("router eigrp 1 ar?") == '% iosim: "router eigrp" is not emulated\n'
    listing = session.feed("router ?")
    assert "  eigrp     Enhanced Interior Gateway Routing Protocol (EIGRP)\n" in listing
    assert "<cr>" not in listing  # "router" alone is incomplete
    exec_ = _session("exec")
    assert exec_.feed("show cdp ?") == '% iosim: "show cdp" is not emulated\n'
    assert exec_.feed("do-exec show ?") == '% iosim: "do-exec" is not emulated\n'


def test_do_is_hidden_and_global_configuration_lists_do_exec() -> None:
    session = _session("config")
    top = session.feed("?")
    assert "  do-exec                     To run exec commands in config mode\n" in top
    assert "\n  do " not in top
    assert session.feed("do-exec show privilege") == "Current privilege level is 15\n"
    session.feed("interface GigabitEthernet0/0")
    assert "do" not in session.feed("?").split()
    assert session.feed("do show privilege") == "Current privilege level is 15\n"


def test_help_wraps_at_the_terminal_width() -> None:
    session = _session("user")
    listing = session.feed("?")
    assert ("  mrinfo           Request neighbor and version information from a multicast\n"
            "                   router\n") in listing
    assert max(len(line) for line in listing.splitlines()) < 80
    session.feed("terminal width 120")
    assert ("  mrinfo           Request neighbor and version information from a multicast"
            " router\n") in session.feed("?")
    # help text with padding of its own keeps it when it fits
    config = _session("config")
    assert "Immediate action needed           (severity=1)" in config.feed("logging console ?")


def test_show_alone_points_at_its_help() -> None:
    for mode in ("user", "exec"):
        session = _session(mode)
        assert session.feed("show") == '% Type "show ?" for a list of subcommands\n'
        assert session.feed("sh") == '% Type "show ?" for a list of subcommands\n'
    config = _session("config")
    assert config.feed("do sh") == '% Type "show ?" for a list of subcommands\n'


def test_configure_alone_asks_where_from(tmp_path: Path) -> None:
    session = _session("exec", tmp_path)
    prompt = "Configuring from terminal, memory, or network [terminal]? "
    assert session.feed("configure") == "" and session.prompt == prompt
    assert session.feed("yes") == '?Must be "terminal", "memory" or "network"\n'
    assert session.mode == "exec"
    session.feed("conf")
    assert session.feed("n") == '% iosim: "configure network" is not emulated\n'
    session.feed("configure")
    assert session.feed("") == "Enter configuration commands, one per line.  End with CNTL/Z.\n"
    assert session.mode == "config"
    session.feed("end")
    session.feed("configure")
    session.feed("t")
    assert session.mode == "config"


def test_configure_memory_merges_the_startup_config(tmp_path: Path) -> None:
    session = _session("exec", tmp_path)
    session.feed("configure terminal")
    session.feed("hostname SAVED")
    session.feed("end")
    assert session.feed("write memory") == "Building configuration...\n[OK]\n"
    session.feed("configure terminal")
    session.feed("hostname CHANGED")
    session.feed("logging buffered 8192")
    session.feed("end")
    session.feed("configure")
    assert session.feed("memory") == ""
    assert session.router.config.hostname == "SAVED"
    assert session.router.config.logging.buffer_size == 8192  # merged, not replaced
    assert session.router.log_buffer[-1].endswith(
        "%SYS-5-CONFIG_I: Configured from memory by console")
    session.feed("configure terminal")
    session.feed("hostname AGAIN")
    session.feed("end")
    assert session.feed("configure memory") == ""
    assert session.router.config.hostname == "SAVED"


def test_a_replayed_config_reports_a_not_emulated_line_and_applies_the_others() -> None:
    router = Router("R1", ["GigabitEthernet0/0"], VirtualClock())
    errors = replay_config(router, "cdp run\nhostname R9\nrouter eigrp 1\n", "startup-config")
    assert router.config.hostname == "R9"
    assert [e.splitlines()[-1] for e in errors] == ['% iosim: "cdp" is not emulated',
                                                    '% iosim: "router eigrp" is not emulated']


def test_user_exec_has_disable_and_traceroute_as_ios_does() -> None:
    session = _session("user")
    assert session.feed("disable") == "" and session.mode == "user"
    assert "traceroute       Trace route to destination" in session.feed("?")


# ---------------------------------------------------------------- what is emulated


def _emulated_top(start: str, path: tuple[str, ...] = ()) -> set[str]:
    node = roots().root(start)
    for terminal in path:
        node = node.child(terminal)
    return {s.keyword or "" for s in node.keywords
            if not s.hidden and not not_emulated(s.name) and s.keyword != "|"}


_README_ROWS = {
    "user EXEC (R1>):": ("user_line", ()),
    "privileged EXEC (R1#):": ("exec_line", ()),
    "show:": ("exec_line", ("SHOW",)),
    "configuration:": ("config_line", ()),
}


def _readme_lists() -> dict[str, set[str]]:
    text = README.read_text(encoding="utf-8")
    block = text.split("These are emulated", 1)[1].split("\n\n", 2)[1]
    lists: dict[str, set[str]] = {}
    current = ""
    for line in block.splitlines():
        head = next((h for h in _README_ROWS if line.strip().startswith(h)), None)
        if head is not None:
            current = head
            line = line.strip()[len(head):]
        lists.setdefault(current, set()).update(line.split())
    return lists


def test_the_readme_lists_exactly_what_the_grammar_emulates() -> None:
    lists = _readme_lists()
    assert set(lists) == set(_README_ROWS)
    for head, (start, path) in _README_ROWS.items():
        assert lists[head] == _emulated_top(start, path), head


def test_help_commands_lists_every_emulated_word_with_what_may_follow() -> None:
    text = emulated_commands()
    assert max(len(line) for line in text.splitlines()) < 80
    sections = dict(re.findall(r"^(\S.*)\n((?:  .*\n)+)", text, re.MULTILINE))
    privileged = sections["Privileged EXEC (R1#)"]
    firsts = {line.split()[0] for line in privileged.splitlines() if line[2] != " "}
    assert firsts == _emulated_top("exec_line")
    assert re.search(r"^  configure +memory  terminal$", privileged, re.MULTILINE)
    assert "  crypto" in sections["show (R1>show, R1#show)"]
    assert "telnet" not in text and "cdp" not in text
    assert "(config-isakmp)#" in sections["Configuration sub-modes"]
