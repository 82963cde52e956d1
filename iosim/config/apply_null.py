"""``interface Null0``: the discard interface, its one command and its running-config block.

Null0 always exists: ``interface Null0`` enters its own ``(config-if)#`` mode, whose only
command is ``[no] ip unreachables`` (``ip unreachables``, the default, answers a datagram
routed to Null0 with ICMP Unreachable, rate-limited like every IOS unreachable;
``no ip unreachables`` drops it quietly). ``no interface Null0`` is refused like the removal
of any interface the router did not create from its configuration.

Running-config shows the block only when it holds something other than the defaults,
first among the interfaces (IOS created Null0 before any other).
"""

from __future__ import annotations

from iosim.cli.matcher import Match
from iosim.cli.modes import Mode, register
from iosim.config.handlers import ApplyContext, Enter, handles
from iosim.config.model import NullInterfaceConfig
from iosim.net.routing import NULL_INTERFACE

register(Mode("null_if", "null_if_line", "(config-if)#", "config",
              "Interface configuration commands:"))


def enter_null() -> Enter:
    """What ``interface Null0`` does: the Null0 sub-mode."""
    return Enter("null_if", NULL_INTERFACE)


@handles("null_ip_unreachables", "null_no_ip_unreachables")
def _null_unreachables(ctx: ApplyContext, m: Match) -> None:
    ctx.config.null0.unreachables = not m.has("IF_NO")


def null_interface_lines(null0: NullInterfaceConfig) -> list[str]:
    """The ``interface Null0`` block (without the ``!`` after it), or nothing when Null0
    has only its defaults."""
    body = [] if null0.unreachables else [" no ip unreachables"]
    return [f"interface {NULL_INTERFACE}", *body] if body else []
