"""``interface range``: one ``(config-if-range)#`` mode for several interfaces.

``interface range GigabitEthernet0/1 - 3 , Loopback1`` names GigabitEthernet0/1, 0/2, 0/3
and Loopback1; the mode's commands are those of ``(config-if)#``, each applied to every
interface of the range in turn as if typed under each (``EachOf``: the session applies the
line to each member, all or nothing), so ``show running-config`` shows each interface's
own resulting config.  A loopback or tunnel of the range is created as ``interface`` would
create it; a physical interface the router lacks, a range that runs backwards or names more
than ``MAX_MEMBERS`` interfaces, or Null0 is refused with the caret under the part at fault,
and nothing changes.
"""

from __future__ import annotations

import re

from iosim.cli.errors import InvalidInput
from iosim.cli.interfaces import interface_type
from iosim.cli.matcher import Arg, Match
from iosim.cli.modes import MODES, Mode, register
from iosim.config.apply_base import refuse_subinterface
from iosim.config.handlers import ApplyContext, EachOf, Enter, handles
from iosim.config.model import InterfaceConfig
from iosim.net.routing import NULL_INTERFACE

register(Mode("if_range", "if_line", "(config-if-range)#", "config",
              MODES["if"].help_title))

#: A name's last number: the one a range's ``- N`` counts up to.
_LAST_NUMBER = re.compile(r"^(.*?)(\d+)$", re.ASCII)
#: The most interfaces one range may name: a lab's physical ports are far fewer, and a
#: loopback or tunnel range this long is a slip of the finger (its caret, not a frozen lab).
MAX_MEMBERS = 1024


def _part_names(first: Arg, last: Arg | None) -> list[str]:
    """The interfaces one part of the range names: ``first``, or ``first - last``."""
    if last is None:
        return [first.value]
    m = _LAST_NUMBER.match(first.value)
    if m is None or not 0 <= int(last.value) - int(m.group(2)) < MAX_MEMBERS:
        raise InvalidInput(last.col)
    return [m.group(1) + str(n) for n in range(int(m.group(2)), int(last.value) + 1)]


def _checked(ctx: ApplyContext, name: str, col: int) -> str:
    """``name`` if the range may hold it (raises the error IOS gives otherwise)."""
    t = interface_type(name)
    if t is None or name == NULL_INTERFACE:
        raise InvalidInput(col)
    refuse_subinterface(ctx, name)
    if not t.virtual and name not in ctx.config.interfaces:
        raise InvalidInput(col)
    if not t.slotted and int(name[len(t.name):].split(".")[0]) > t.max_unit:
        raise InvalidInput(col)
    return name


def range_members(ctx: ApplyContext, m: Match) -> list[str]:
    """Every interface the range names, in the order typed, each once."""
    parts: list[tuple[Arg, Arg | None]] = []
    for a in m.args:
        if a.terminal == "IF_RANGE_FIRST":
            parts.append((a, None))
        elif a.terminal == "IF_RANGE_LAST":
            parts[-1] = (parts[-1][0], a)
    names: dict[str, None] = {}
    for first, last in parts:
        for name in _part_names(first, last):
            names[_checked(ctx, name, first.col)] = None
        if len(names) > MAX_MEMBERS:
            raise InvalidInput((last or first).col)
    return list(names)


@handles("cfg_interface_range")
def _interface_range(ctx: ApplyContext, m: Match) -> Enter:
    members = range_members(ctx, m)
    for name in members:
        if name not in ctx.config.interfaces:
            ctx.config.interfaces[name] = InterfaceConfig(name)
            ctx.router.interface_created(name)
    return Enter("if_range", EachOf(tuple(members)))
