"""The IOS command-line errors, as exceptions carrying what IOS prints."""

from __future__ import annotations


class CliError(Exception):
    """A rejected command line; ``render(prompt)`` gives IOS's exact text."""

    def render(self, prompt_len: int) -> str:
        raise NotImplementedError


class InvalidInput(CliError):
    """``% Invalid input detected at '^' marker.`` with the caret at ``col``."""

    def __init__(self, col: int) -> None:
        super().__init__(col)
        self.col = col

    def render(self, prompt_len: int) -> str:
        return " " * (prompt_len + self.col) + "^\n% Invalid input detected at '^' marker.\n\n"


class IncompleteCommand(CliError):
    """``% Incomplete command.``"""

    def render(self, prompt_len: int) -> str:
        return "% Incomplete command.\n\n"


class AmbiguousCommand(CliError):
    """``% Ambiguous command:  "line"``"""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line

    def render(self, prompt_len: int) -> str:
        return f'% Ambiguous command:  "{self.line.strip()}"\n'


class CommandRejected(CliError):
    """A parsed command that IOS refuses with a message of its own."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def render(self, prompt_len: int) -> str:
        return self.message if self.message.endswith("\n") else self.message + "\n"


class NotEmulated(CliError):
    """An IOS command that iosim knows by name but does not emulate.

    ``% iosim: "router eigrp" is not emulated``: one line, unlike a typo's caret, and the
    running-config is unchanged.
    """

    def __init__(self, words: str) -> None:
        super().__init__(words)
        self.words = words

    def render(self, prompt_len: int) -> str:
        return f'% iosim: "{self.words}" is not emulated\n'
