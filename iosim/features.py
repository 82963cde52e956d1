"""The modules that register config and EXEC handlers, loaded once before any command.

A feature adds its handler modules here; ``load()`` imports them all, so whoever
creates a ``Session`` gets every command without importing features by hand.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

HANDLER_MODULES = (
    "iosim.config.apply_base",
    "iosim.config.apply_acl",
    "iosim.config.apply_null",
    "iosim.config.apply_interface_range",
    "iosim.cli.exec_commands",
    "iosim.config.apply_crypto",
    "iosim.config.apply_crypto_cac",
    "iosim.config.apply_ikev2",
    "iosim.cli.exec_net",
    "iosim.config.apply_nat",
    "iosim.config.apply_tunnel",
    "iosim.cli.exec_trace",
    "iosim.cli.exec_capture",
    "iosim.cli.exec_crypto",
    "iosim.cli.exec_debug",
    "iosim.config.apply_logging",
    "iosim.cli.exec_logging",
    "iosim.config.apply_ssh",
    "iosim.config.apply_vty",
    "iosim.cli.exec_vty",
    "iosim.cli.ios_words",
    "iosim.config.apply_ospf",
    "iosim.cli.exec_ospf",
)


@lru_cache(maxsize=1)
def load() -> None:
    """Import every handler module (once)."""
    for name in HANDLER_MODULES:
        importlib.import_module(name)
