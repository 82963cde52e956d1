"""Long access lists: a line costs the same at line 10,000 as at line 1,000 (counted, not
timed), with IOS's numbering, duplicates, ``no SEQ`` and remarks as they always were."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from labkit import console as _console
from labkit import run

from iosim.cli import matcher
from iosim.cli.session import Session
from iosim.clock import VirtualClock
from iosim.config import handlers
from iosim.config.model import AclEntries, AclEntry
from iosim.config.render import running_config_text
from iosim.router import Router


def _ace(i: int) -> str:
    return (f"permit tcp 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} 0.0.0.0 "
            f"host 192.0.2.{i % 250 + 1} eq {1 + i % 60000}")


def _session_with(n: int) -> Session:
    session = Session(Router("R1", ["GigabitEthernet0/0"], VirtualClock()), mode="config",
                      terminal_length=0)
    session.feed("ip access-list extended BIG")
    for i in range(n):
        session.feed(_ace(i))
    return session


def _operations(run_lines: Callable[[], None]) -> int:
    """Python-level function calls, builtin calls included (comparisons in a ``sorted`` key,
    ``any()`` over the entries, list copies made by comprehensions all show up)."""
    calls = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profile)
    try:
        run_lines()
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("what", ["append", "insert", "no SEQ", "duplicate", "no rule"])
def test_the_work_per_line_stays_flat_from_n_to_10n(what: str) -> None:
    def work(n: int) -> int:
        session = _session_with(n)
        lines = {
            "append": [_ace(n + k) for k in range(20)],
            "insert": [f"{10 * (n // 2 + k) + 5} {_ace(n + k)}" for k in range(20)],
            "no SEQ": [f"no {10 * (n // 2 + k)}" for k in range(20)],
            "duplicate": [_ace(n // 2 + k) for k in range(20)],
            "no rule": [f"no {_ace(n // 2 + k)}" for k in range(20)],
        }[what]
        # every measured line parsed afresh in both runs: whether the process-wide parse
        # cache still held it would depend on what ran before in the process
        matcher._PARSED.clear()
        count = _operations(lambda: [session.feed(line) for line in lines])
        assert session.last_error is None
        return count

    small, large = work(1000), work(10000)
    assert large <= small * 1.02, (small, large)  # the old list did ~N more per line


def test_numbering_duplicates_and_removals_as_ios_does(tmp_path: Path) -> None:
    c = _console(tmp_path)
    run(c, "conf t\nip access-list extended X\npermit ip any host 10.0.0.1\n"
           "permit ip any host 10.0.0.2\n25 permit ip any host 10.0.0.3\n"
           "15 permit ip any host 10.0.0.4\nremark next\npermit ip any host 10.0.0.1\n")
    assert c.feed("25 deny ip any any") == "% Duplicate sequence number\n"
    run(c, "permit ip any host 10.0.0.1 log\n")  # the same rule, log aside: ignored
    run(c, "no 20\nno permit ip any host 10.0.0.4\npermit ip any host 10.0.0.5\nend\n")
    assert c.feed("show access-lists X") == (
        "Extended IP access list X\n"
        "    10 permit ip any host 10.0.0.1\n"
        "    25 permit ip any host 10.0.0.3\n"
        "    30 permit ip any host 10.0.0.5\n")  # filed under the remark's number
    assert c.feed("show running-config | section access-list") == (
        "ip access-list extended X\n"
        " permit ip any host 10.0.0.1\n"
        " permit ip any host 10.0.0.3\n"
        " remark next\n"
        " permit ip any host 10.0.0.5\n")
    run(c, "conf t\nip access-list extended X\nno 30\nend\n")  # the entry and its remark
    assert c.feed("show running-config | section access-list") == (
        "ip access-list extended X\n"
        " permit ip any host 10.0.0.1\n"
        " permit ip any host 10.0.0.3\n")


def test_a_failed_ace_command_is_undone_from_the_undo_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = _console(tmp_path)
    run(c, "conf t\nip access-list extended X\n" + "".join(f"{_ace(i)}\n" for i in range(50)))
    config = c.lab.routers["R1"].config
    before = running_config_text(config)
    for rule, line in (("ext_nacl_entry", "5 permit ip any any"), ("nacl_no_seq", "no 250"),
                       ("ext_nacl_no_entry", f"no {_ace(7)}")):
        original = handlers.HANDLERS[rule]

        def failing(*args: object, original: handlers.Handler = original) -> None:
            original(*args)  # type: ignore[arg-type]
            raise RuntimeError

        monkeypatch.setitem(handlers.HANDLERS, rule, failing)
        assert "internal error" in c.feed(line)
        assert running_config_text(config) == before
    assert [e.seq for e in config.acls["X"].entries] == list(range(10, 510, 10))


def test_the_undo_log_of_nested_commands() -> None:
    entries = AclEntries(AclEntry(s, "permit", 0) for s in (10, 20))
    outer_restore, outer_close = entries.checkpoint()
    entries.add(AclEntry(30, "deny", 0))
    inner_restore, inner_close = entries.checkpoint()
    entries.remove(10)
    inner_restore()
    assert [e.seq for e in entries] == [10, 20, 30]
    entries.add(AclEntry(5, "deny", 1))
    outer_restore()
    assert [e.seq for e in entries] == [10, 20]
    inner_close()
    outer_close()
    entries.add(AclEntry(40, "permit", 6))  # recorded nowhere now
    assert [e.seq for e in entries] == [10, 20, 40]
