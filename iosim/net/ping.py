"""Ping on the virtual clock: send ICMP echoes one after another, wait for each answer.

Each echo waits for its reply (``!``), an ICMP error about it (``U``, ``Q``, ``M``, ``&``)
or the timeout (``.``), advancing the lab's clock through whatever the network does
meanwhile (ARP, forwarding, IKE ...). The next echo leaves as soon as the previous one is
answered, as IOS sends them.

An interrupt (IOS's escape sequence, raised by the clock's pacer as a ``KeyboardInterrupt``)
stops the ping where it is: the echo in flight is given up as a timeout (``.``) and counted
as sent, as IOS's summary counts it (``!!!!.`` then ``Success rate is 80 percent (4/5)``).

Nothing is built per echo ahead of time: the sizes come from an iterable that may be a
generator, the sequence number wraps at 16 bits as IOS's does (echo 65536 is sequence 0
again), and only the marks a caller asks to keep are kept, so ``repeat 2147483647`` starts
at once and runs in constant memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import repeat as repeated

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
_SEQUENCE_MASK = 0xFFFF  # the ICMP sequence number is 16 bits


@dataclass
class PingOutcome:
    """What a ping printed: one mark per echo, and the round trips of the answered ones.

    The counts and round-trip figures (IOS's whole milliseconds) are always kept; the
    marks and the exact round trips only when the caller asked for them (``keep_marks``).
    """

    sent: int = 0  # echoes that got their mark
    received: int = 0
    aborted: bool = False  # interrupted before the last echo
    kept: list[str] = field(default_factory=list)
    rtts: list[float] = field(default_factory=list)  # seconds, when marks are kept
    rtt_min_ms: int = 0
    rtt_max_ms: int = 0
    rtt_sum_ms: int = 0

    @property
    def marks(self) -> str:
        return "".join(self.kept)

    @property
    def success_rate(self) -> int:
        return 100 * self.received // self.sent if self.sent else 0

    def round_trip(self) -> tuple[int, int, int] | None:
        """(min, avg, max) in milliseconds as IOS prints them, or None if nothing came back."""
        if not self.received:
            return None
        return self.rtt_min_ms, self.rtt_sum_ms // self.received, self.rtt_max_ms

    def _answered(self, seconds: float) -> None:
        ms = max(1, round(seconds * 1000))
        first = not self.received
        self.received += 1
        self.rtt_min_ms = ms if first else min(self.rtt_min_ms, ms)
        self.rtt_max_ms = max(self.rtt_max_ms, ms)
        self.rtt_sum_ms += ms


def _quoted_echo(original: bytes) -> tuple[int, int] | None:
    """(identifier, sequence) of the echo quoted in an ICMP error, if it was one."""
    if len(original) < 20:
        return None
    ihl = (original[0] & 0x0F) * 4
    if len(original) < ihl + 8 or original[9] != IpProtocol.ICMP or original[ihl] != 8:
        return None
    return (int.from_bytes(original[ihl + 4:ihl + 6]), int.from_bytes(original[ihl + 6:ihl + 8]))


def run_ping(stack: IpStack, clock: VirtualClock, dst: int, *, repeat: int = 5,
             size: int = 100, sizes: Iterable[int] | None = None, timeout: float = 2.0,
             source: int | None = None, df: bool = False, identifier: int = 1,
             on_mark: Callable[[str], None] | None = None,
             keep_marks: bool = True) -> PingOutcome:
    """Send ``repeat`` echoes of ``size`` bytes (IP datagram) to ``dst``, or one echo per
    item of ``sizes`` (a size sweep); see the module doc.

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

    def record(mark: str, rtt: float) -> None:
        outcome.sent += 1
        if keep_marks:
            outcome.kept.append(mark)
        if on_mark is not None:
            on_mark(mark)
        if mark == "!":
            outcome._answered(rtt)
            if keep_marks:
                outcome.rtts.append(rtt)

    echo_sizes = repeated(size, repeat) if sizes is None else sizes
    in_flight = False
    stack.icmp_listeners.append(listen)
    try:
        for size_now in echo_sizes:
            seq = outcome.sent & _SEQUENCE_MASK
            answer.clear()  # late answers to earlier echoes (and 65536 echoes ago) are stale
            sent = clock.now
            data = _PATTERN[: max(0, size_now - 28)]
            stack.send(dst, IpProtocol.ICMP, push_icmp(IcmpEcho(identifier, seq, data)),
                       src=source, df=df)
            in_flight = True
            deadline = sent + timeout
            while seq not in answer:
                due = clock.next_deadline()
                if due is None or due > deadline:
                    clock.advance_to(max(deadline, clock.now))
                    break
                clock.advance_to(due)
            in_flight = False
            mark, when = answer.get(seq, (".", deadline))
            record(mark, when - sent)
    except KeyboardInterrupt:  # IOS's escape sequence: the echo in flight is a timeout
        outcome.aborted = True
        if in_flight:
            record(".", 0.0)
    finally:
        stack.icmp_listeners.remove(listen)
    return outcome
