"""Ping on the virtual clock: send ICMP echoes one after another, wait for each answer.

Each echo waits for its reply (``!``), an ICMP error about it (``U``, ``Q``, ``M``, ``&``)
or the timeout (``.``), advancing the lab's clock through whatever the network does
meanwhile (ARP, forwarding, IKE ...). The next echo leaves as soon as the previous one is
answered, as IOS sends them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from iosim.clock import VirtualClock
from iosim.net.packets import (
    IcmpDestinationUnreachable,
    IcmpEcho,
    IcmpMessage,
    IcmpTimeExceeded,
    IpProtocol,
    push_icmp,
)
from iosim.net.stack import IpStack

_PATTERN = bytes.fromhex("abcd") * 9000
_UNREACHABLE_MARK = {4: "M"}  # fragmentation needed; every other code is "U"


@dataclass
class PingOutcome:
    """What a ping printed: one mark per echo, and the round trips of the answered ones."""

    marks: str = ""
    rtts: list[float] = field(default_factory=list)

    @property
    def success_rate(self) -> int:
        return 100 * len(self.rtts) // len(self.marks) if self.marks else 0


def _quoted_echo(original: bytes) -> tuple[int, int] | None:
    """(identifier, sequence) of the echo quoted in an ICMP error, if it was one."""
    if len(original) < 20:
        return None
    ihl = (original[0] & 0x0F) * 4
    if len(original) < ihl + 8 or original[9] != IpProtocol.ICMP or original[ihl] != 8:
        return None
    return (int.from_bytes(original[ihl + 4:ihl + 6]), int.from_bytes(original[ihl + 6:ihl + 8]))


def run_ping(stack: IpStack, clock: VirtualClock, dst: int, *, repeat: int = 5,
             size: int = 100, timeout: float = 2.0, source: int | None = None,
             df: bool = False, identifier: int = 1,
             on_mark: Callable[[str], None] | None = None) -> PingOutcome:
    """Send ``repeat`` echoes of ``size`` bytes (IP datagram) to ``dst``; see the module doc.

    ``on_mark`` hears each mark as soon as it is known (a console prints it at once).
    """
    outcome = PingOutcome()
    answer: dict[int, tuple[str, float]] = {}

    def listen(src: int, message: IcmpMessage, now: float) -> None:
        if isinstance(message, IcmpEcho):
            if message.reply and message.identifier == identifier and src == dst:
                answer.setdefault(message.sequence_number, ("!", now))
            return
        quoted = _quoted_echo(message.original)
        if quoted is None or quoted[0] != identifier:
            return
        if isinstance(message, IcmpDestinationUnreachable):
            mark = _UNREACHABLE_MARK.get(message.code, "U")
        elif isinstance(message, IcmpTimeExceeded):
            mark = "&"
        else:  # pragma: no cover - the codec knows no other ICMP errors
            return
        answer.setdefault(quoted[1], (mark, now))

    stack.icmp_listeners.append(listen)
    try:
        data = _PATTERN[: max(0, size - 28)]
        for seq in range(repeat):
            sent = clock.now
            echo = push_icmp(IcmpEcho(identifier, seq, data))
            stack.send(dst, IpProtocol.ICMP, echo, src=source, df=df)
            deadline = sent + timeout
            while seq not in answer:
                due = clock.next_deadline()
                if due is None or due > deadline:
                    clock.advance_to(max(deadline, clock.now))
                    break
                clock.advance_to(due)
            mark, when = answer.get(seq, (".", deadline))
            outcome.marks += mark
            if on_mark is not None:
                on_mark(mark)
            if mark == "!":
                outcome.rtts.append(when - sent)
    finally:
        stack.icmp_listeners.remove(listen)
    return outcome
