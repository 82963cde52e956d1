"""Interface names: IOS types, abbreviations (``g0/0``, ``lo0``) and canonical forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class InterfaceType:
    """One interface type as IOS lists it under ``interface ?``."""

    name: str  # canonical name, e.g. "GigabitEthernet"
    help: str
    short: str  # as in "show ip interface brief"-style short names (Gi, Fa, Lo, Tu)
    slotted: bool  # "0/0" numbering rather than a plain unit number
    virtual: bool  # created by configuring it (Loopback, Tunnel)
    max_unit: int = 2147483647
    listed: bool = True  # in ``?`` listings


INTERFACE_TYPES: tuple[InterfaceType, ...] = (
    InterfaceType("FastEthernet", "FastEthernet IEEE 802.3", "Fa", True, False),
    InterfaceType("GigabitEthernet", "GigabitEthernet IEEE 802.3z", "Gi", True, False),
    InterfaceType("Loopback", "Loopback interface", "Lo", False, True),
    InterfaceType("Tunnel", "Tunnel interface", "Tu", False, True),
    # always there, never created, removed or cabled: what a discard route points at
    InterfaceType("Null", "Null interface", "Nu", False, False, max_unit=0),
)

_NUMBER = re.compile(r"^(\d+)(/\d+)*(\.\d+)?$", re.ASCII)
_SPLIT = re.compile(r"^([A-Za-z-]+)\s*(.*)$")


@lru_cache(maxsize=4096)
def interface_type(name: str) -> InterfaceType | None:
    """The type of a canonical interface name (cached: every frame's interface asks)."""
    for t in INTERFACE_TYPES:
        if name.startswith(t.name) and name[len(t.name):len(t.name) + 1] in "0123456789":
            return t
    return None


def types_named(prefix: str) -> list[InterfaceType]:
    """The interface types whose names begin with ``prefix`` (any case)."""
    low = prefix.lower()
    return [t for t in INTERFACE_TYPES if t.name.lower().startswith(low)]


def match_interface_name(text: str) -> str | None:
    """Canonical interface name for what a user typed, or None.

    ``g0/0``, ``gi0/0``, ``GigabitEthernet0/0`` give ``GigabitEthernet0/0``; a bare type
    (``gig``) gives the type name alone, for ``interface GigabitEthernet 0/0``.
    """
    m = _SPLIT.match(text)
    if not m:
        return None
    prefix, number = m.group(1), m.group(2)
    found = types_named(prefix)
    if len(found) != 1:
        return None
    t = found[0]
    if not number:
        return t.name
    if not _NUMBER.match(number):
        return None
    if t.slotted != ("/" in number.split(".")[0]):
        return None
    if not t.slotted and int(number.split(".")[0]) > t.max_unit:
        return None
    return t.name + number


def short_name(name: str) -> str:
    """``GigabitEthernet0/0`` -> ``Gi0/0``."""
    t = interface_type(name)
    return t.short + name[len(t.name):] if t else name
