"""The IOS commands iosim knows by name only: one answer for all, and what iosim emulates.

``grammar/ios_words.lark`` holds every top-level word IOS 15 lists for ``?`` in user and
privileged EXEC, global configuration and ``show`` that no feature emulates, and
``grammar/ios_words_nested.lark`` the words IOS lists beneath emulated commands (``show ip
cef``, ``show running-config all``, ``show ... | redirect``).  Whatever
follows such a word, the command is answered here, in one line that says so rather than
blaming a typo, and nothing changes::

    R1(config)#router eigrp 100
    % iosim: "router eigrp" is not emulated

:func:`emulated_commands` lists the other words, the ones iosim does emulate, mode by
mode, read from the grammar itself (the console's ``@help commands``): it cannot list a
command the parser would refuse, nor forget one a feature adds.
"""

from __future__ import annotations

from iosim.cli.errors import NotEmulated
from iosim.cli.matcher import Match, Node, not_emulated, not_emulated_words, roots
from iosim.cli.modes import MODES
from iosim.cli.session import Session, exec_handler
from iosim.config.handlers import ApplyContext, Enter, handles

#: The grammar rules of ``grammar/ios_words.lark``, by the mode family that parses them.
EXEC_RULES = ("ios_word_exec", "ios_word_priv", "ios_word_configure", "ios_word_show",
              "ios_word_show_priv",
              # grammar/ios_words_nested.lark: words beneath emulated commands
              "ios_word_show_ip", "ios_word_show_ip_ospf", "ios_word_show_ip_ospf_neighbor",
              "ios_word_show_crypto", "ios_word_show_crypto_isakmp",
              "ios_word_show_crypto_ipsec", "ios_word_show_running")
CONFIG_RULES = ("ios_word_config", "ios_word_router",
                # grammar/ios_words_nested.lark
                "ios_word_service", "ios_word_banner", "ios_word_interface_range",
                "ios_word_if_tunnel", "ios_word_if_tunnel_mode")


def _not_emulated(m: Match) -> NotEmulated:
    return NotEmulated(not_emulated_words(m.args) or m.args[0].value)


@exec_handler(*EXEC_RULES)
def _exec_word(session: Session, m: Match) -> str:
    raise _not_emulated(m)


@handles(*CONFIG_RULES)
def _config_word(ctx: ApplyContext, m: Match) -> Enter | None:
    raise _not_emulated(m)


# ---------------------------------------------------------------- what is emulated

#: The sections of ``@help commands``: title, start rule, words that lead to the section
#: (``show`` is a section of its own) and whether each word's next words are listed.
_SECTIONS: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("User EXEC (R1>)", "user_line", (), False),
    ("Privileged EXEC (R1#)", "exec_line", (), True),
    ("show (R1>show, R1#show)", "exec_line", ("SHOW",), True),
    ("Global configuration (R1(config)#)", "config_line", (), True),
)


def _keywords(node: Node) -> list[str]:
    """The emulated keywords that may come next at ``node``, each once, sorted (an output
    modifier, ``|``, is not a command word)."""
    return sorted({s.keyword for s in node.keywords
                   if s.keyword and s.keyword != "|" and not s.hidden
                   and not not_emulated(s.name)})


def _emulated_terminals(node: Node) -> list[tuple[str, str]]:
    """(keyword, terminal) of the emulated keywords at ``node``, each keyword once."""
    seen: dict[str, str] = {}
    for s in node.keywords:
        if s.keyword and not s.hidden and not not_emulated(s.name):
            seen.setdefault(s.keyword, s.name)
    return sorted(seen.items())


def _fill(prefix: str, words: list[str], width: int) -> list[str]:
    """``words`` after ``prefix``, two spaces apart, wrapped under the first one."""
    lines = [prefix]
    for word in words:
        if len(lines[-1]) > len(prefix) and len(lines[-1]) + 2 + len(word) >= width:
            lines.append(" " * len(prefix))
        sep = "" if len(lines[-1]) == len(prefix) else "  "
        lines[-1] += sep + word
    return [line.rstrip() for line in lines]


def emulated_commands(width: int = 80) -> str:
    """What iosim emulates of IOS, mode by mode: the ``@help commands`` text.

    Each emulated top-level word of EXEC, ``show`` and global configuration comes with the
    emulated words that may follow it; every configuration sub-mode lists its words.
    """
    out = ["IOS commands iosim emulates; every other command IOS lists for '?' answers",
           '"% iosim: ... is not emulated". Type "?" anywhere for what may follow.', ""]
    for title, start, path, nested in _SECTIONS:
        node = roots().root(start)
        for terminal in path:
            node = node.child(terminal)
        out.append(title)
        pairs = _emulated_terminals(node)
        label = max((len(k) for k, _ in pairs), default=0) + 4
        for keyword, terminal in pairs:
            prefix = f"  {keyword}".ljust(label)
            following = _keywords(node.child(terminal)) if nested else []
            if path == () and keyword == "show":
                following = ["(below)"]
            out += _fill(prefix, following, width) if following else [f"  {keyword}"]
        out.append("")
    submodes = [m for m in MODES.values() if m.parent is not None]
    out.append("Configuration sub-modes")
    label = max(len(m.suffix) for m in submodes) + 4
    for mode in submodes:
        out += _fill(f"  {mode.suffix}".ljust(label), _keywords(roots().root(mode.start)), width)
    return "\n".join(out) + "\n"
