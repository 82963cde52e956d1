"""``iosim``: the command-line entry point.

Kept free of heavy imports so that ``iosim --version`` and ``--help`` answer at once;
the grammar, the lab and prompt_toolkit are imported only when a console starts.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

from iosim import __version__
from iosim.quiz import cli as quiz_cli

_EPILOG = """\
commands:
  iosim                      open the default lab's R1 prompt
  iosim console [LAB]        open a lab's console (LAB: a built-in lab name or a directory)
  iosim lab list             the labs: builds, troubleshooting tickets, demos
  iosim lab show LAB         what a lab asks you to build, and its topology
  iosim run LAB [--solution] replay a lab (and its solution), run its steps, grade it
  iosim lab export LAB FILE  hand in your saved configs; 'iosim lab check' grades them
  iosim quiz                 CCNA practice questions, some on live router output
  iosim serve [LAB]          every router on a telnet and an SSH port (netmiko, PuTTY...)

Lines starting with '@' speak to iosim: @R2 attaches to R2, @wait 60 advances the
lab's virtual clock, @task shows the task, @check grades it, @help lists them. With
standard input not a terminal, the console reads command lines from it and writes the
console transcript.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="iosim",
        description="Cisco IOS router emulator for IPsec VPN labs.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"iosim {__version__}")
    sub = p.add_subparsers(dest="command")
    c = sub.add_parser("console", help="open a lab's console")
    c.add_argument("lab", nargs="?", default=None, help="built-in lab name or lab directory")
    c.add_argument("--device", default=None, help="device to attach first (default: the first)")
    c.add_argument("--reset", action="store_true",
                   help="forget the devices' saved startup-configs before starting")
    c.add_argument("--seed", default="",
                   help="vary the lab's random numbers (SPIs, nonces, keys); the same seed "
                        "replays the same run")
    c.add_argument("--bridge", metavar="DEVICE:INTERFACE:ADDRESS:PEER", default=None,
                   help="bind a router's uncabled INTERFACE to real UDP 500/4500 sockets on "
                        "this host's ADDRESS, towards a real IKE peer at PEER (e.g. "
                        "strongSwan); the lab then runs in real time")
    c.add_argument("--capture", metavar="DIR", default=None,
                   help="record every link of the lab and write one pcap per link to DIR "
                        "when the console ends")
    c.add_argument("--exam", nargs="?", type=float, const=60.0, default=None,
                   metavar="MINUTES",
                   help="exam mode: a time limit (default 60 minutes), no hints or "
                        "solutions, graded on @submit or at the end")
    c.add_argument("--report", metavar="DIR", default=None,
                   help="where exam mode writes its report (default: reports/ in the "
                        "state directory)")
    from iosim.lab.cli import add_parsers
    from iosim.serve import cli as serve_cli

    add_parsers(sub)
    quiz_cli.add_parser(sub)
    serve_cli.add_parser(sub)
    return p


def capture_dir(name: str) -> Path:
    """The ``--capture`` directory, made if need be; OSError if pcaps cannot go there."""
    directory = Path(name)
    directory.mkdir(parents=True, exist_ok=True)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
    return directory


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("lab", "run"):
        from iosim.lab import cli

        return cli.lab_command(args) if args.command == "lab" else cli.run_command(args)
    if args.command == "quiz":
        return quiz_cli.run(args)
    if args.command == "serve":
        from iosim.serve import cli as serve_cli

        return serve_cli.run(args)
    lab_name = getattr(args, "lab", None)
    device = getattr(args, "device", None)
    reset = getattr(args, "reset", False)
    capture = getattr(args, "capture", None)
    bridge_spec = getattr(args, "bridge", None)

    from iosim.atomic import survive_file_size_limit
    from iosim.cli.lines import argument_text, byte_console
    from iosim.lab.console import Lab, LabConsole, run_transcript
    from iosim.lab.schema import LabError

    seed = argument_text(getattr(args, "seed", ""))
    byte_console(sys.stdin, sys.stdout)  # any byte in, the same byte echoed and saved
    survive_file_size_limit()
    exam = None
    minutes = getattr(args, "exam", None)
    if minutes is not None:
        from iosim.lab.exam import Exam
        from iosim.lab.running import state_dir

        if not 0 < minutes <= 24 * 60:
            print("iosim: --exam takes 1 to 1440 minutes", file=sys.stderr)
            return 2
        report = getattr(args, "report", None)
        exam = Exam(minutes, Path(report) if report else state_dir() / "reports")
    try:
        lab = Lab.load(lab_name, reset=reset, seed=seed)
        console = LabConsole(lab, device, paging=sys.stdin.isatty(), exam=exam)
    except LabError as e:
        print(f"iosim: {e}", file=sys.stderr)
        return 2
    except KeyError as e:
        print(f"iosim: no device {e.args[0]!r} in this lab", file=sys.stderr)
        return 2
    except OSError as e:  # --reset where the saved configs cannot be removed
        where = f"{e.filename}: " if e.filename else ""
        print(f"iosim: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    if capture is not None:
        try:
            capture_dir(capture)
        except OSError as e:
            print(f"iosim: --capture {capture}: {e.strerror or e}", file=sys.stderr)
            return 2
    for err in lab.boot_errors:
        sys.stderr.write(err)
    bridge = None
    if bridge_spec is not None:
        try:
            bridge = lab.bridge(bridge_spec)
        except (ValueError, OSError) as e:
            print(f"iosim: --bridge {bridge_spec}: {e}", file=sys.stderr)
            return 2
        bridge.start()
    if capture is not None:
        lab.fabric.capture()
    if exam is not None:
        sys.stdout.write(exam.banner(lab))
    _stop_on_hangup()
    try:
        if sys.stdin.isatty() and sys.stdout.isatty():
            from iosim.cli.prompt import run_interactive

            return run_interactive(console)
        run_transcript(console, sys.stdin, sys.stdout)
        return 0
    except SystemExit:  # the terminal went away (SIGHUP) or iosim was told to stop
        if exam is not None and not console.finished:
            _last_words(console.close("the console was closed"))
        raise
    finally:
        if bridge is not None:
            bridge.close()
        if capture is not None:
            from iosim.router import EPOCH

            try:
                for path in lab.fabric.write_pcaps(capture_dir(capture),
                                                   epoch=EPOCH.timestamp()):
                    print(f"iosim: wrote {path}", file=sys.stderr)
            except OSError as e:
                print(f"iosim: --capture {capture}: {e.strerror or e}", file=sys.stderr)


def _stop_on_hangup() -> None:
    """A closed terminal (SIGHUP) or ``kill`` (SIGTERM) ends the console through the same
    path as the end of input: an exam is handed in, captures are written."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    for name in ("SIGHUP", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


def _last_words(text: str) -> None:
    """Print what an ending console says, if anyone is still there to read it."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
