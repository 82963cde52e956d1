"""EXEC commands of the base system: enable, configure, terminal, write, copy, reload, show."""

from __future__ import annotations

from collections.abc import Callable

from iosim.cli.errors import NotEmulated
from iosim.cli.lines import ios_strip
from iosim.cli.matcher import Match
from iosim.cli.replay import boot
from iosim.cli.session import (
    TERMINAL_MAX,
    Pending,
    Session,
    apply_pipe,
    exec_banners,
    exec_handler,
)
from iosim.config import private_config
from iosim.config.handlers import invalid_at
from iosim.config.passwords import md5_crypt, type7_decode
from iosim.config.render import interface_config_text, null_config_text, running_config_text
from iosim.net.routing import NULL_INTERFACE
from iosim.router import NvramError
from iosim.show import interfaces, routing
from iosim.show import system as show

_PIPES = ("PIPE_INCLUDE", "PIPE_EXCLUDE", "PIPE_BEGIN", "PIPE_SECTION", "PIPE_COUNT")


def _output(session: Session, m: Match, text: str) -> str:
    """Apply ``| filter`` and paging to a show command's output."""
    kind = next((a.value for a in m.args if a.terminal in _PIPES), None)
    if kind is not None:
        text = apply_pipe(text, kind, m.get("PIPE_REGEX") or "")
    return session.page(text)


# ---------------------------------------------------------------- privilege


def _secret_ok(session: Session, typed: str) -> bool:
    cfg = session.router.config
    if cfg.enable_secret is not None:
        salt = cfg.enable_secret.split("$")[2]
        return md5_crypt(typed, salt) == cfg.enable_secret
    if cfg.enable_password_type7 is not None:
        return type7_decode(cfg.enable_password_type7) == typed
    return cfg.enable_password == typed


@exec_handler("user_enable")
def _enable(session: Session, m: Match) -> str:
    if session.privileged:
        return ""
    cfg = session.router.config
    if cfg.enable_secret is None and cfg.enable_password is None and (
            cfg.enable_password_type7 is None):
        if session.line_name.startswith("vty"):  # IOS lets no one in unchecked remotely
            return "% No password set\n"
        session.mode = "exec"
        return ""
    tries = [0]

    def answer(typed: str) -> str:
        if _secret_ok(session, typed):
            session.mode = "exec"
            return ""
        tries[0] += 1
        if cfg.aaa_new_model:  # AAA's enable method: one try
            return "% Access denied\n\n"
        if tries[0] >= 3:
            return "% Bad secrets\n\n"
        session.pending = Pending("Password: ", answer, echo=False)
        return ""

    session.pending = Pending("Password: ", answer, echo=False)
    return ""


@exec_handler("exec_disable")
def _disable(session: Session, m: Match) -> str:
    session.mode = "user"
    return ""


@exec_handler("exec_exit", "exec_logout")
def _exit(session: Session, m: Match) -> str:
    session.mode, session.target = "user", None
    if session.hangup is not None:  # a vty: the connection ends
        session.hangup()
        return ""

    def restart(_: str) -> str:
        return _motd(session)

    session.pending = Pending("", restart)
    return (f"\n{session.router.config.hostname} con0 is now available\n\n\n\n\n\n"
            "Press RETURN to get started.\n\n\n")


def _motd(session: Session) -> str:
    """The EXEC starts again on the console: its banners, or the one blank line."""
    return exec_banners(session.router.config) or "\n"


def _configure_terminal(session: Session) -> str:
    session.mode, session.target = "config", None
    return "Enter configuration commands, one per line.  End with CNTL/Z.\n"


def _configure_memory(session: Session) -> str:
    """The startup-config merged into the running one, as ``copy startup-config
    running-config`` does; what IOS prints is what the lines print."""
    try:
        text = session.router.startup_text() or ""
    except NvramError as e:
        return f"{e}\n"
    from iosim.cli.replay import replay_config

    errors = replay_config(session.router, text, "startup-config")
    session.router.log("%SYS-5-CONFIG_I: Configured from memory by console")
    return "".join(errors)


#: ``configure`` alone asks where from: each answer (any abbreviation of it) and what it does.
_CONFIGURE_FROM: dict[str, Callable[[Session], str]] = {
    "terminal": _configure_terminal,
    "memory": _configure_memory,
    "network": lambda session: NotEmulated("configure network").render(0),
}


@exec_handler("exec_configure")
def _configure(session: Session, m: Match) -> str:
    if m.has("CONF_TERMINAL"):
        return _configure_terminal(session)
    if m.has("CONF_MEMORY"):
        return _configure_memory(session)

    def answer(text: str) -> str:
        word = text.strip().lower() or "terminal"
        source = next((s for s in _CONFIGURE_FROM if s.startswith(word)), None)
        if source is None:
            return '?Must be "terminal", "memory" or "network"\n'
        return _CONFIGURE_FROM[source](session)

    session.pending = Pending("Configuring from terminal, memory, or network [terminal]? ",
                              answer)
    return ""


@exec_handler("exec_terminal")
def _terminal(session: Session, m: Match) -> str:
    length = m.get("TERM_LENGTH_N")
    width = m.get("TERM_WIDTH_N")
    if length is not None:
        if int(length) > TERMINAL_MAX:
            raise invalid_at(m, "TERM_LENGTH_N")
        session.terminal_length, session.length_typed = int(length), True
    elif width is not None:
        if int(width) > TERMINAL_MAX:
            raise invalid_at(m, "TERM_WIDTH_N")
        session.terminal_width, session.width_typed = int(width), True
    else:
        session.monitor = not m.has("TERM_NO")
    return ""


# ---------------------------------------------------------------- NVRAM


def _save(session: Session) -> str:
    """Write the running-config to NVRAM; when that fails (NVRAM full, the disk full or
    read-only), IOS's message, the old startup-config kept, the change still unsaved."""
    try:
        session.router.nvram.write(show.startup_text_of(session.router))
        private_config.save(session.router)  # the RSA key pairs, as IOS keeps them
    except NvramError as e:
        return f"Building configuration...\n{e}\n"
    session.router.mark_saved()
    return "Building configuration...\n[OK]\n"


@exec_handler("exec_write")
def _write(session: Session, m: Match) -> str:
    if m.has("WRITE_TERMINAL"):
        router = session.router
        return session.page(running_config_text(router.config, show.config_history(router)))
    if m.has("WRITE_ERASE"):
        return _erase(session, m)
    return _save(session)


@exec_handler("exec_copy")
def _copy(session: Session, m: Match) -> str:
    if m.has("COPY_START"):
        def merge(answer: str) -> str:
            try:
                text = session.router.startup_text() or ""
            except NvramError as e:
                return f"{e}\n"
            from iosim.cli.replay import replay_config

            errors = replay_config(session.router, text, "startup-config")
            n = len(text)
            return "".join(errors) + f"\n{n} bytes copied in 0.012 secs ({n * 83} bytes/sec)\n"

        session.pending = Pending("Destination filename [running-config]? ", merge)
        return ""

    def answer(text: str) -> str:
        if text.strip() not in ("", "startup-config"):
            return "%Error opening nvram:" + text.strip() + " (Permission denied)\n"
        return _save(session)

    session.pending = Pending("Destination filename [startup-config]? ", answer)
    return ""


@exec_handler("exec_erase")
def _erase(session: Session, m: Match) -> str:
    def answer(text: str) -> str:
        if text.strip().lower() not in ("", "y", "yes"):
            return ""
        try:
            session.router.nvram.erase()
        except NvramError as e:
            return f"{e}\n"
        session.router.log("%SYS-7-NV_BLOCK_INIT: Initialized the geometry of nvram")
        return "[OK]\nErase of nvram: complete\n"

    session.pending = Pending(
        "Erasing the nvram filesystem will remove all configuration files! Continue? [confirm]",
        answer)
    return ""


@exec_handler("exec_reload")
def _reload(session: Session, m: Match) -> str:
    def proceed(text: str) -> str:
        if text.strip().lower() not in ("", "y", "yes"):
            return ""
        session.router.log("%SYS-5-RELOAD: Reload requested by console. "
                           "Reload Reason: Reload Command.")
        session.router.reload_reason = "Reload Command"
        prefix = f"{session.router.name}: "
        unreadable = "".join(e.removeprefix(prefix) for e in boot(session.router)
                             if e.startswith(prefix))  # NVRAM that could not be read
        session.mode, session.target = "user", None
        session.pending = Pending("", lambda _: _motd(session))
        return ("\n\nSystem Bootstrap, Version 15.8(3)M2, RELEASE SOFTWARE (fc2)\n"
                f"{unreadable}{session.router.config.hostname} restarted by reload\n\n\n"
                "Press RETURN to get started!\n\n\n")

    def save_first(text: str) -> str:
        word = text.strip().lower()
        if word not in ("yes", "y", "no", "n"):
            session.pending = Pending("System configuration has been modified. Save? [yes/no]: ",
                                      save_first)
            return "% Please answer 'yes' or 'no'.\n"
        out = _save(session) if word.startswith("y") else ""
        session.pending = Pending("Proceed with reload? [confirm]", proceed)
        return out

    if not session.router.saved_since_change:
        session.pending = Pending("System configuration has been modified. Save? [yes/no]: ",
                                  save_first)
    else:
        session.pending = Pending("Proceed with reload? [confirm]", proceed)
    return ""


# ---------------------------------------------------------------- show


def _interface_arg(m: Match, terminal: str) -> str | None:
    return m.get(terminal)


@exec_handler("show_version")
def _show_version(session: Session, m: Match) -> str:
    return _output(session, m, show.show_version(session.router))


@exec_handler("show_clock")
def _show_clock(session: Session, m: Match) -> str:
    text = show.show_clock(session.router)
    if m.has("SHOW_CLOCK_DETAIL"):
        text += "No time source\n"
    return _output(session, m, text)


@exec_handler("show_history")
def _show_history(session: Session, m: Match) -> str:
    return _output(session, m, "".join(f"  {h}\n" for h in session.history))


@exec_handler("show_privilege")
def _show_privilege(session: Session, m: Match) -> str:
    return _output(session, m, f"Current privilege level is {15 if session.privileged else 1}\n")


@exec_handler("show_terminal")
def _show_terminal(session: Session, m: Match) -> str:
    """The session's line: its absolute number (a vty's as ``show users`` prints it, 0 on
    the console), its length and width, and whether it monitors."""
    terminal = session.router.terminals.of(session)
    number = 0 if terminal is None else terminal.absolute
    text = (f"Line {number}, Location: \"\", Type: \"\"\n"
            f"Length: {session.terminal_length} lines, Width: {session.terminal_width} columns\n"
            "Baud rate (TX/RX) is 9600/9600, no parity, 2 stopbits, 8 databits\n"
            f"Status: PSI Enabled, Ready, Active{', Monitor' if session.monitor else ''}\n")
    return _output(session, m, text)


def _known_interface(session: Session, m: Match, terminal: str) -> str | None:
    """The interface a command names (None if it names none); one the router does not
    have gets the caret under it."""
    name = _interface_arg(m, terminal)
    if name is not None and name not in session.router.config.interfaces and (
            name != NULL_INTERFACE):
        raise invalid_at(m, terminal)
    return name


@exec_handler("show_interfaces")
def _show_interfaces(session: Session, m: Match) -> str:
    if m.has("SHOW_IF_DESCRIPTION"):
        return _output(session, m, interfaces.show_interfaces_description(session.router))
    name = _known_interface(session, m, "SHOW_IF_NAME")
    return _output(session, m, interfaces.show_interfaces(session.router, name))


@exec_handler("show_ip_interface")
def _show_ip_interface(session: Session, m: Match) -> str:
    if m.has("SHOW_IP_INT_BRIEF"):
        return _output(session, m, interfaces.show_ip_interface_brief(session.router))
    name = _known_interface(session, m, "SHOW_IP_INT_NAME")
    return _output(session, m, interfaces.show_ip_interface(session.router, name))


@exec_handler("exec_clear_counters")
def _clear_counters(session: Session, m: Match) -> str:
    """``clear counters [IF]``: after IOS's confirmation, the interface counters restart."""
    name = _known_interface(session, m, "CLEAR_COUNTERS_IF")
    router = session.router

    def answer(text: str) -> str:
        if ios_strip(text).lower() not in ("", "y", "yes"):
            return ""
        router.clear_counters(name)
        where = "all interfaces" if name is None else f"interface {name}"
        router.log(f"%CLEAR-5-COUNTERS: Clear counter on {where} by console")
        return ""

    scope = "all interfaces" if name is None else "this interface"
    session.pending = Pending(f'Clear "show interface" counters on {scope} [confirm]', answer)
    return ""


#: ``show ip route static|connected``: the route codes each keyword selects.
_ROUTE_CODES = {"SHOW_ROUTE_STATIC": frozenset("S"), "SHOW_ROUTE_CONNECTED": frozenset("CL")}


@exec_handler("show_ip_route", "show_ip_route_type")
def _show_ip_route(session: Session, m: Match) -> str:
    codes = next((c for t, c in _ROUTE_CODES.items() if m.has(t)), None)
    return _output(session, m, routing.show_ip_route(session.router, codes))


@exec_handler("show_ip_route_address")
def _show_ip_route_address(session: Session, m: Match) -> str:
    address = int(m.ipv4("SHOW_ROUTE_ADDRESS"))
    return _output(session, m, routing.show_ip_route_address(session.router, address))


@exec_handler("show_access_lists", "show_ip_access_lists")
def _show_access_lists(session: Session, m: Match) -> str:
    return _output(session, m, show.show_access_lists(session.router, m.get("SHOW_ACL_NAME")))


@exec_handler("show_running")
def _show_running(session: Session, m: Match) -> str:
    name = _interface_arg(m, "SHOW_RUN_IF_NAME")
    if name == NULL_INTERFACE:
        return _output(session, m, null_config_text(session.router.config))
    if name is not None:
        intf = session.router.config.interfaces.get(name)
        if intf is None:
            raise invalid_at(m, "SHOW_RUN_IF_NAME")
        return _output(session, m, interface_config_text(session.router.config, intf))
    router = session.router
    return _output(session, m, running_config_text(router.config, show.config_history(router)))


@exec_handler("show_startup")
def _show_startup(session: Session, m: Match) -> str:
    return _output(session, m, show.show_startup_config(session.router))
