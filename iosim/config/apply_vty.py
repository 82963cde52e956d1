"""Handlers of AAA's login lists: ``aaa authentication login default|LIST METHOD...`` and
``aaa session-id common``, and their lines in the running-config.

IOS takes ``aaa authentication`` only after ``aaa new-model`` (before it, ``aaa`` knows
no other word); ``no aaa new-model`` forgets the lists.
"""

from __future__ import annotations

from iosim.cli.errors import InvalidInput
from iosim.cli.matcher import Match
from iosim.config.handlers import ApplyContext, handles
from iosim.config.model import RunningConfig
from iosim.config.render import SECTIONS
from iosim.config.ssh_model import aaa_of

#: The method keywords, in the words IOS prints them.
_METHODS = {"AAA_M_LOCAL": "local", "AAA_M_LOCAL_CASE": "local-case",
            "AAA_M_ENABLE": "enable", "AAA_M_LINE": "line", "AAA_M_NONE": "none"}


def _needs_new_model(ctx: ApplyContext, m: Match) -> None:
    if not ctx.config.aaa_new_model:
        arg = m.arg("AAA_AUTHENTICATION") or m.arg("AAA_SESSION_ID")
        raise InvalidInput(arg.col if arg is not None else 0)


@handles("cfg_aaa_authentication_login", "cfg_no_aaa_authentication_login")
def _aaa_login(ctx: ApplyContext, m: Match) -> None:
    _needs_new_model(ctx, m)
    name = "default" if m.has("AAA_LIST_DEFAULT") else (m.get("AAA_LIST_NAME") or "")
    if len(name) > 31:
        raise InvalidInput(m.arg("AAA_LIST_NAME").col)  # type: ignore[union-attr]
    lists = aaa_of(ctx.config, changing=True).login_lists
    if m.has("CFG_NO"):
        lists.pop(name, None)
        return
    methods = tuple(_METHODS[a.terminal] for a in m.args if a.terminal in _METHODS)
    lists[name] = methods


@handles("cfg_aaa_session_id")
def _aaa_session_id(ctx: ApplyContext, m: Match) -> None:
    """``aaa session-id common`` is IOS's default under ``aaa new-model``."""
    _needs_new_model(ctx, m)


def login_methods(config: RunningConfig) -> tuple[str, ...] | None:
    """The methods of the default login list under ``aaa new-model`` (``local`` when
    none is configured, as IOS uses the local database then); None without AAA."""
    if not config.aaa_new_model:
        return None
    return aaa_of(config).login_lists.get("default", ("local",))


def _aaa_lines(cfg: RunningConfig) -> list[str]:
    if not cfg.aaa_new_model:
        return []
    lists = aaa_of(cfg).login_lists
    out = ["!", "!"]
    out += [f"aaa authentication login {name} {' '.join(methods)}"
            for name, methods in lists.items()]
    return [*out, "!", "!", "!", "!", "!", "aaa session-id common"]


SECTIONS["after-aaa"].append(_aaa_lines)
