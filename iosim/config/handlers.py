"""The table from grammar rule to the function that applies a parsed command.

A handler validates first and changes the model last, so a rejected line (it raises a
``CliError``) leaves the running-config exactly as it was.  A handler that enters a
sub-mode returns ``Enter(mode, target)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iosim.cli.errors import InvalidInput
from iosim.cli.matcher import Match
from iosim.config.model import RunningConfig

if TYPE_CHECKING:
    from iosim.router import Router


@dataclass(frozen=True)
class Enter:
    """Switch the session to ``mode``, editing ``target`` (an interface name, an ACL ...)."""

    mode: str
    target: Any = None


@dataclass(frozen=True)
class EachOf:
    """The target of a sub-mode that edits several objects at once (``interface range``):
    each command typed there is applied to each member in turn, as if typed in the
    member's own mode; one member's rejection undoes the line for all, reported once."""

    members: tuple[Any, ...]


@dataclass(frozen=True)
class Question:
    """A question a configuration command asks (``How many bits in the modulus [512]:``);
    the next line typed is the answer, given to ``answer`` with a fresh context (which may
    ask the next question)."""

    prompt: str
    answer: Callable[[str, ApplyContext], None]


@dataclass(slots=True)
class ApplyContext:
    """What a config handler may see and touch."""

    router: Router
    target: Any = None  # the object of the current sub-mode
    out: list[str] = field(default_factory=list)
    #: a configuration replayed (boot, copy): nobody is there to answer a question
    replaying: bool = False
    question: Question | None = None  # set by a handler that asks one

    @property
    def config(self) -> RunningConfig:
        return self.router.config

    def say(self, text: str) -> None:
        """Print ``text`` (a line IOS prints in reply to the command)."""
        self.out.append(text if text.endswith("\n") else text + "\n")


Handler = Callable[[ApplyContext, Match], "Enter | None"]
HANDLERS: dict[str, Handler] = {}


def handles(*rules: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more grammar rules."""

    def register(fn: Handler) -> Handler:
        for rule in rules:
            HANDLERS[rule] = fn
        return fn

    return register


def invalid_at(m: Match, terminal: str) -> InvalidInput:
    """``% Invalid input`` with the caret under the word that matched ``terminal``."""
    a = m.arg(terminal)
    return InvalidInput(a.col if a else 0)


def find_handler(m: Match) -> Handler | None:
    """The handler of the outermost rule of ``m`` that has one."""
    for rule in m.rules:
        fn = HANDLERS.get(rule)
        if fn is not None:
            return fn
    return None
