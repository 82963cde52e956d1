"""``iosim quiz [--topic T] [-n N] [--seed WORD]``: the subcommand's arguments and its run.

Only argparse and the topic names are imported here, so that building ``iosim``'s parser
stays cheap; the questions, the grammar and the labs are imported when the quiz runs.
"""

from __future__ import annotations

import argparse
import os
import sys

from iosim.quiz.topics import DEFAULT_SEED, TOPICS

_DESCRIPTION = """\
CCNA practice questions on IPsec: multiple choice on the facts, commands to type
(checked by the router's own parser, so abbreviations count), and questions on
router output produced at that moment by a lab run (ping, then read show crypto
ipsec sa; find out why a broken VPN does not come up). Every answer is explained.
Answers are read from standard input, one per line, so a file or a pipe can
answer too.
"""


def _epilog() -> str:
    return "topics:\n" + "".join(f"  {name:<14}{about}\n" for name, about in TOPICS.items())


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number of questions (1 or more), "
                                         f"not {text!r}")
    return n


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``quiz`` to ``iosim``'s subcommands."""
    p = subparsers.add_parser("quiz", help="CCNA practice questions, some on live router output",
                              description=_DESCRIPTION, epilog=_epilog(),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--topic", metavar="T", choices=tuple(TOPICS), default=None,
                   help="ask only about topic T (see the list below; default: all)")
    p.add_argument("-n", metavar="N", type=_count, default=10,
                   help="how many questions (default: 10)")
    p.add_argument("--seed", metavar="WORD", default=DEFAULT_SEED,
                   help="which questions, in which order, with which live values: the same "
                        f"seed asks the same quiz again (default: {DEFAULT_SEED})")


def run(args: argparse.Namespace) -> int:
    """Run the quiz on standard input and output; 0 however it ends."""
    try:
        from iosim.quiz.runner import run_quiz

        run_quiz(sys.stdin, sys.stdout, n=args.n, seed=args.seed, topic=args.topic,
                 echo=not sys.stdin.isatty())
    except KeyboardInterrupt:  # before the first question (loading): end quietly
        sys.stdout.write("\n")
    except BrokenPipeError:  # the reader of our output went away (| head): nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
