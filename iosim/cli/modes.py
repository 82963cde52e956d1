"""CLI modes as data: the grammar start rule, the prompt suffix and the parent mode."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mode:
    """One IOS command mode."""

    name: str
    start: str  # grammar start rule
    suffix: str  # what follows the hostname in the prompt
    parent: str | None  # where 'exit' goes; where a line this mode rejects is tried next
    help_title: str = ""  # the heading of '?' at the start of a line

    @property
    def is_config(self) -> bool:
        return self.suffix.startswith("(")


MODES: dict[str, Mode] = {
    m.name: m
    for m in (
        Mode("user", "user_line", ">", None, "Exec commands:"),
        Mode("exec", "exec_line", "#", None, "Exec commands:"),
        Mode("config", "config_line", "(config)#", None, "Configure commands:"),
        Mode("if", "if_line", "(config-if)#", "config", "Interface configuration commands:"),
        Mode("line", "line_line", "(config-line)#", "config", "Line configuration commands:"),
        Mode("std_nacl", "std_nacl_line", "(config-std-nacl)#", "config",
             "Standard Access List configuration commands:"),
        Mode("ext_nacl", "ext_nacl_line", "(config-ext-nacl)#", "config",
             "Ext Access List configuration commands:"),
    )
}


def register(mode: Mode) -> None:
    """Add a mode (feature packages add theirs: crypto, ...)."""
    MODES[mode.name] = mode
