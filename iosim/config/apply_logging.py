"""Syslog configuration: ``logging buffered|console|monitor|trap|host`` and their ``no``
forms, and the running-config lines that show them.

The settings live in ``RunningConfig.logging`` (a :class:`LoggingConfig`), which
``Router.log`` consults for every message: what reaches the console, what the buffer keeps
and what each destination counted.  A level is stored as its number and written back by
name, as IOS does (``logging console 6`` shows as ``logging console informational``).
"""

from __future__ import annotations

from ipaddress import IPv4Address

from iosim.cli.matcher import Match
from iosim.config.handlers import ApplyContext, handles, invalid_at
from iosim.config.model import SEVERITY_NAMES, LoggingConfig, RunningConfig
from iosim.config.render import SECTIONS

DEFAULT_BUFFER_SIZE = 4096
DEFAULT_TRAP_LEVEL = 6  # informational; every other destination defaults to debugging

#: The level keywords, by terminal.
_LEVEL_TERMINALS = {f"LOG_{name.upper()}": n for n, name in enumerate(SEVERITY_NAMES)}


def _level(m: Match, default: int) -> int:
    """The level the command names (a number or a keyword), else ``default``."""
    number = m.get("LOG_LEVEL_N")
    if number is not None:
        return int(number)
    for terminal, level in _LEVEL_TERMINALS.items():
        if m.has(terminal):
            return level
    return default


def _host(m: Match) -> IPv4Address:
    terminal = "LOG_HOST_ADDR" if m.has("LOG_HOST_ADDR") else "LOG_ADDR"
    octets = [int(p) for p in (m.get(terminal) or "").split(".")]
    if len(octets) != 4 or max(octets) > 255:
        raise invalid_at(m, terminal)
    return IPv4Address(".".join(map(str, octets)))


def _changed(ctx: ApplyContext) -> None:
    ctx.router.config_changed("logging")


@handles("cfg_logging_buffered")
def _buffered(ctx: ApplyContext, m: Match) -> None:
    log = ctx.config.logging
    # what the command leaves out stays as it was (IOS keeps a size given before)
    size = int(m.get("LOG_BUF_SIZE") or log.buffer_size)
    if not log.buffered or size != log.buffer_size:
        log.clear_buffer()  # a buffer of a new size starts empty
    log.buffered, log.buffer_size = True, size
    log.buffer_level = _level(m, log.buffer_level)
    _changed(ctx)


@handles("cfg_no_logging_buffered")
def _no_buffered(ctx: ApplyContext, m: Match) -> None:
    log = ctx.config.logging
    log.clear_buffer()
    log.buffered, log.buffer_size, log.buffer_level = False, DEFAULT_BUFFER_SIZE, 7
    _changed(ctx)


#: ``logging console|monitor``: the terminal and the (enabled, level) attributes it sets.
_DESTINATIONS = {"LOG_CONSOLE": ("console", "console_level"),
                 "LOG_MONITOR": ("monitor", "monitor_level")}


@handles("cfg_logging_console", "cfg_no_logging_console", "cfg_logging_monitor",
         "cfg_no_logging_monitor")
def _console_or_monitor(ctx: ApplyContext, m: Match) -> None:
    log = ctx.config.logging
    on = not m.has("CFG_NO")
    for terminal, (enabled, level) in _DESTINATIONS.items():
        if m.has(terminal):
            setattr(log, enabled, on)
            setattr(log, level, _level(m, 7) if on else 7)
    _changed(ctx)


@handles("cfg_logging_trap")
def _trap(ctx: ApplyContext, m: Match) -> None:
    ctx.config.logging.trap_level = _level(m, DEFAULT_TRAP_LEVEL)
    _changed(ctx)


@handles("cfg_logging_host")
def _logging_host(ctx: ApplyContext, m: Match) -> None:
    host = _host(m)
    log = ctx.config.logging
    if host not in log.hosts:
        log.hosts.append(host)
        log.host_counts[host] = 0
    _changed(ctx)


@handles("cfg_no_logging_host")
def _no_logging_host(ctx: ApplyContext, m: Match) -> None:
    host = _host(m)
    log = ctx.config.logging
    if host in log.hosts:
        log.hosts.remove(host)
        log.host_counts.pop(host, None)
    _changed(ctx)


# ================================================================ running-config


def _with_level(words: str, level: int, default: int) -> str:
    return words if level == default else f"{words} {SEVERITY_NAMES[level]}"


def destination_lines(cfg: RunningConfig) -> list[str]:
    """``logging buffered``, ``logging console``, ``logging monitor``: after the boot markers."""
    log: LoggingConfig = cfg.logging
    out: list[str] = []
    if not log.buffered:
        out.append("no logging buffered")
    elif log.buffer_size != DEFAULT_BUFFER_SIZE or log.buffer_level != 7:
        size = f" {log.buffer_size}" if log.buffer_size != DEFAULT_BUFFER_SIZE else ""
        out.append(_with_level(f"logging buffered{size}", log.buffer_level, 7))
    if not log.console:
        out.append("no logging console")
    elif log.console_level != 7:
        out.append(_with_level("logging console", log.console_level, 7))
    if not log.monitor:
        out.append("no logging monitor")
    elif log.monitor_level != 7:
        out.append(_with_level("logging monitor", log.monitor_level, 7))
    return out


def server_lines(cfg: RunningConfig) -> list[str]:
    """``logging trap`` and ``logging host``: after the routes and named access lists, just
    before ``ipv6 ioam timestamp``."""
    log = cfg.logging
    out = []
    if log.trap_level != DEFAULT_TRAP_LEVEL:
        out.append(f"logging trap {SEVERITY_NAMES[log.trap_level]}")
    out.extend(f"logging host {host}" for host in log.hosts)
    return out


if destination_lines not in SECTIONS["after-boot"]:
    SECTIONS["after-boot"].append(destination_lines)
if server_lines not in SECTIONS["after-routes"]:
    SECTIONS["after-routes"].append(server_lines)
