"""Who may log in on a vty, and with what privilege: IOS's rules, as pure functions.

Without ``aaa new-model`` the ``line vty`` block decides: ``login local`` checks a
``username`` and its secret or password, ``login`` checks the line's ``password`` (and a
line with ``login`` but no password lets no one in: ``Password required, but none set``),
no ``login`` asks nothing. With ``aaa new-model`` the default login list decides, method
after method (``local``, ``line``, ``enable``, ``none``), the local database when no list
is configured. A user logs in at the privilege of its ``username`` (15 opens privileged
EXEC at once), everyone else at level 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from iosim.config.apply_vty import login_methods
from iosim.config.model import LineConfig, RunningConfig
from iosim.config.passwords import md5_crypt, type7_decode

__all__ = ["LoginPlan", "Verdict", "authenticate", "login_plan"]

#: How many failed logins end the connection, and the wall seconds a failure waits.
MAX_FAILURES = 3
FAILURE_DELAY = 1.0
#: Wall seconds a login prompt waits for an answer (IOS: ``timeout expired``).
LOGIN_TIMEOUT = 30.0


@dataclass(frozen=True)
class LoginPlan:
    """What a vty asks before the prompt."""

    methods: tuple[str, ...]  # "local", "line", "enable", "none", tried in order
    aaa: bool  # under aaa new-model (its failure message)

    @property
    def asks_username(self) -> bool:
        return any(m in ("local", "local-case") for m in self.methods)

    @property
    def asks_nothing(self) -> bool:
        return self.methods[:1] == ("none",)

    @property
    def failure_message(self) -> str:
        if self.aaa:
            return "% Authentication failed"
        return "% Login invalid" if self.asks_username else "% Bad passwords"


@dataclass(frozen=True)
class Verdict:
    """The outcome of a login attempt: the privilege level reached, or None."""

    privilege: int | None

    @property
    def ok(self) -> bool:
        return self.privilege is not None


def login_plan(config: RunningConfig, line: LineConfig) -> LoginPlan:
    """How ``line`` authenticates under ``config``."""
    methods = login_methods(config)
    if methods is not None:
        return LoginPlan(methods, aaa=True)
    if line.login == "local":
        return LoginPlan(("local",), aaa=False)
    if line.login == "login":
        return LoginPlan(("line",), aaa=False)
    return LoginPlan(("none",), aaa=False)


def line_password_set(line: LineConfig) -> bool:
    return line.password is not None or line.password_type7 is not None


def _line_ok(line: LineConfig, password: str) -> bool:
    if line.password_type7 is not None:
        return type7_decode(line.password_type7) == password
    return line.password is not None and line.password == password


def _enable_ok(config: RunningConfig, password: str) -> bool:
    if config.enable_secret is not None:
        salt = config.enable_secret.split("$")[2] if config.enable_secret.count("$") >= 3 else ""
        return md5_crypt(password, salt) == config.enable_secret
    if config.enable_password_type7 is not None:
        return type7_decode(config.enable_password_type7) == password
    return config.enable_password is not None and config.enable_password == password


def _local(config: RunningConfig, username: str, password: str, fold: bool) -> bool:
    user = config.users.get(username)
    if user is None and fold:
        user = next((u for n, u in config.users.items() if n.lower() == username.lower()),
                    None)
    if user is None:
        return False
    if user.secret is not None:
        salt = user.secret.split("$")[2] if user.secret.count("$") >= 3 else ""
        return md5_crypt(password, salt) == user.secret
    if user.password_type7 is not None:
        return type7_decode(user.password_type7) == password
    return user.password is not None and user.password == password


def authenticate(config: RunningConfig, line: LineConfig, username: str,
                 password: str) -> Verdict:
    """Check a login against the plan of ``line``: the privilege reached, or None."""
    plan = login_plan(config, line)
    for method in plan.methods:
        if method in ("local", "local-case"):
            if not config.users:
                continue  # an empty local database passes the login to the next method
            if not _local(config, username, password, fold=method == "local"):
                return Verdict(None)
            user = config.users.get(username) or next(
                u for n, u in config.users.items() if n.lower() == username.lower())
            return Verdict(user.privilege if user.privilege is not None else 1)
        if method == "line":
            return Verdict(1 if _line_ok(line, password) else None)
        if method == "enable":
            return Verdict(1 if _enable_ok(config, password) else None)
        if method == "none":
            return Verdict(1)
    return Verdict(None)
