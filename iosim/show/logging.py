"""``show logging``: the syslog settings, the counts since boot, then the log buffer.

The layout is IOS 15.x's: the ``Syslog logging: enabled (...)`` line, the console, monitor
and buffer destinations with their levels and counts, the trap level with one block per
``logging host``, and ``Log Buffer (N bytes):`` followed by the buffered messages, oldest
first.  The buffer is a ring of N bytes: once it has wrapped, its oldest message may show
only its tail, as on IOS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iosim.config.model import SEVERITY_NAMES, LoggingConfig

if TYPE_CHECKING:
    from iosim.router import Router

_HEADER = """\
Syslog logging: enabled (0 messages dropped, 0 messages rate-limited, 0 flushes, \
0 overruns, xml disabled, filtering disabled)

No Active Message Discriminator.



No Inactive Message Discriminator.


"""


def _destination(name: str, enabled: bool, level: int, count: int, indent: int) -> str:
    head = f"    {name} logging: "
    if not enabled:
        return head + "disabled\n"
    return (f"{head}level {SEVERITY_NAMES[level]}, {count} messages logged, xml disabled,\n"
            f"{' ' * indent}filtering disabled\n")


def _buffer_line(log: LoggingConfig) -> str:
    if not log.buffered:
        return "    Buffer logging:  disabled, xml disabled,\n" + " " * 20 + "filtering disabled\n"
    return (f"    Buffer logging:  level {SEVERITY_NAMES[log.buffer_level]}, "
            f"{log.buffer_count} messages logged, xml disabled,\n"
            + " " * 20 + "filtering disabled\n")


def _host_block(log: LoggingConfig) -> str:
    out = []
    for host in log.hosts:
        out.append(f"        Logging to {host}  (udp port 514, audit disabled,\n"
                   "              link up),\n"
                   f"              {log.host_counts.get(host, 0)} message lines logged,\n"
                   "              0 message lines rate-limited,\n"
                   "              0 message lines dropped-by-MD,\n"
                   "              xml disabled, sequence number disabled\n"
                   "              filtering disabled\n")
    return "".join(out)


def buffer_text(log: LoggingConfig) -> str:
    """What the log buffer holds: the last ``buffer_size`` bytes of what was buffered."""
    text = "".join(line + "\n" for line in log.buffer)
    if not log.buffer_wrapped:
        text = "\n" + text
    return text[-log.buffer_size:]


def show_logging(router: Router) -> str:
    """``show logging`` rendered from the router's logging settings and counters."""
    log = router.config.logging
    out = [_HEADER,
           _destination("Console", log.console, log.console_level, log.console_count, 21),
           # no terminal here is a monitor (vty) line, so nothing was logged to one
           _destination("Monitor", log.monitor, log.monitor_level, 0, 21),
           _buffer_line(log),
           "    Exception Logging: size (4096 bytes)\n",
           "    Count and timestamp logging messages: disabled\n",
           "    Persistent logging: disabled\n\n",
           "No active filter modules.\n\n",
           f"    Trap logging: level {SEVERITY_NAMES[log.trap_level]}, "
           f"{log.trap_count} message lines logged\n",
           _host_block(log),
           "        Logging Source-Interface:       VRF Name:\n"]
    if log.buffered:
        out.append(f"\nLog Buffer ({log.buffer_size} bytes):\n")
        out.append(buffer_text(log))
    return "".join(out)
