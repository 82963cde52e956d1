"""``iosim serve [LAB]``: the command line of the lab server."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

__all__ = ["add_parser", "run"]

DEFAULT_TELNET_BASE = 5000
DEFAULT_SSH_BASE = 6000


def add_parser(sub: Any) -> None:
    """The ``serve`` subcommand."""
    p = sub.add_parser("serve", help="serve a lab's routers on telnet and SSH ports",
                       description="Serve every router of a lab on a telnet port and an SSH "
                                   "port (consecutive, in topology order); the lab runs in "
                                   "real time until Ctrl-C or SIGTERM.")
    p.add_argument("lab", nargs="?", default=None, help="built-in lab name or lab directory")
    p.add_argument("--telnet-base", type=_port, default=DEFAULT_TELNET_BASE, metavar="PORT",
                   help=f"the first router's telnet port (default {DEFAULT_TELNET_BASE})")
    p.add_argument("--ssh-base", type=_port, default=DEFAULT_SSH_BASE, metavar="PORT",
                   help=f"the first router's SSH port (default {DEFAULT_SSH_BASE})")
    p.add_argument("--listen", default="127.0.0.1", metavar="ADDRESS",
                   help="the address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--seed", default="", help="vary the lab's random numbers (as console)")
    p.add_argument("--reset", action="store_true",
                   help="forget the devices' saved startup-configs before starting")


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is 1 to 65535")
    return value


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM; the exit status."""
    from iosim.cli.lines import argument_text
    from iosim.lab.running import BOOT_SECONDS, Lab
    from iosim.lab.schema import LabError
    from iosim.serve.runtime import ServedClock
    from iosim.serve.server import LabServer, port_table

    try:
        lab = Lab.load(args.lab, reset=args.reset, seed=argument_text(args.seed),
                       clock=ServedClock(start=-BOOT_SECONDS))
    except LabError as e:
        print(f"iosim: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"iosim: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 2
    last = len(lab.routers) - 1
    if max(args.telnet_base, args.ssh_base) + last > 65535:
        print("iosim: the ports of the last routers would pass 65535", file=sys.stderr)
        return 2
    for err in lab.boot_errors:
        sys.stderr.write(err)
    server = LabServer(lab, args.telnet_base, args.ssh_base, args.listen)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server.start()
        except OSError as e:
            print(f"iosim: cannot listen on {args.listen}: {e.strerror or e}",
                  file=sys.stderr)
            server.stop()
            return 2
        sys.stdout.write(f"iosim serve {lab.resolved.info.name}: the lab runs in real time; "
                         "Ctrl-C stops it (saved configurations are kept, unsaved ones "
                         "are lost, as at a power-off).\n\n")
        sys.stdout.write(port_table(server.ports, args.listen))
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    print("iosim serve: stopped.")
    return 0
