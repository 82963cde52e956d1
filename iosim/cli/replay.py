"""Config text replayed through the same engine as typed lines: boot, copy, lab scripts."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from iosim.cli.lines import ios_split, ios_strip, split_lines
from iosim.cli.modes import MODES

if TYPE_CHECKING:
    from iosim.cli.session import Session
    from iosim.router import Router


def replay_config(router: Router, text: str, source: str) -> list[str]:
    """Apply configuration ``text`` in global config mode; return IOS errors, one per bad line.

    Each error names the source and the line number, then shows the line and IOS's
    message.  A line IOS rejects changes nothing; the lines after it still apply (as after a
    line that fails inside iosim, which is reported the same way).
    """
    from iosim.cli.session import Session

    session = Session(router, mode="config", terminal_length=0, undo_on_error=False,
                      replaying=True)
    errors: list[str] = []
    # A replay allocates many small objects and frees few: the cyclic collector would
    # scan the growing heap again and again for nothing, so it waits until the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _replay_lines(session, text, source, errors)
    finally:
        if collecting:
            gc.enable()
    return errors


def _replay_lines(session: Session, text: str, source: str, errors: list[str]) -> None:
    lines = split_lines(text)
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = ios_strip(line)
        if stripped == "end":
            break
        if stripped.startswith("banner ") and not banner_closed(line):
            while i < len(lines) and not banner_closed(line):
                line += "\n" + lines[i]
                i += 1
        if not stripped or stripped.startswith("!"):
            continue
        # the prompt the line was typed at, put together only for a line that fails
        pending, hostname, mode = session.pending, session.router.config.hostname, session.mode
        out = session.execute(line)
        if session.last_error is not None:
            prompt = pending.prompt if pending is not None else hostname + MODES[mode].suffix
            errors.append(f"{source}, line {i}:\n{prompt}{line}\n{out}")


def banner_closed(text: str) -> bool:
    """Whether a ``banner motd|login|exec <d>...<d>`` line has its closing delimiter."""
    words = ios_split(text, 2)
    if len(words) < 3:
        return True
    body = words[2]
    delim = "^C" if body.startswith("^C") else body[:1]
    return body.find(delim, len(delim)) >= 0


def boot(router: Router) -> list[str]:
    """(Re)start ``router`` from its startup-config; return what went wrong: NVRAM that
    cannot be read (the router then boots the lab's own config, as if it had never saved)
    and the errors of the replay, one per bad line."""
    from iosim.router import NvramError

    errors: list[str] = []
    try:
        text, source = router.startup_source()
    except NvramError as e:
        errors.append(f"{router.name}: {e}\n")
        text, source = router.initial_config or None, router.initial_source
    nvram_read = not errors
    # Until the boot is over, the far ends of the cables see nothing of it: the fresh
    # configuration and each replayed line are steps on the way, not states of the link
    # (an interface the startup-config shuts is never up to them, even for an instant).
    router.booting = True
    sinks, router.log_sinks = router.log_sinks, []  # boot-time messages stay in the buffer
    try:
        router.config = router.fresh_config(booting_from_config=text is not None)
        router.reset_state()
        if text:
            errors += replay_config(router, text, source)
        if nvram_read:  # the key pairs saved with the startup-config
            from iosim.config.private_config import restore

            errors += restore(router)
    finally:
        router.log_sinks = sinks
        router.booting = False
    router.settle_state()
    router.saved_since_change = True
    router.booted()
    return errors
