"""Helpers of the crypto configuration tests: a booted router and a config session."""

from __future__ import annotations

import iosim.lab.console  # noqa: F401  (registers every handler)
from iosim.cli.replay import boot
from iosim.cli.session import Session
from iosim.clock import VirtualClock
from iosim.router import Router

INTERFACES = ["GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2",
              "GigabitEthernet0/3"]
BASE_CONFIG = """\
hostname R1
interface GigabitEthernet0/0
 ip address 198.51.100.1 255.255.255.252
interface GigabitEthernet0/1
 ip address 192.168.1.1 255.255.255.0
"""


def new_router(config: str = BASE_CONFIG) -> Router:
    """A booted router with four interfaces and ``config`` as its startup-config."""
    router = Router("R1", INTERFACES, VirtualClock(), initial_config=config)
    assert boot(router) == []
    return router


def config_session(router: Router) -> Session:
    """A console session on ``router`` in global configuration mode, no paging."""
    return Session(router, mode="config", terminal_length=0)
