"""Traceroute on the virtual clock: UDP probes with growing TTL, answered by ICMP errors.

Theory of operation
-------------------
For each TTL from ``ttl_min`` to ``ttl_max`` the router sends ``probes`` UDP datagrams,
one after another, to ports 33434, 33435, ... of the destination (one new port per
probe, as IOS and Van Jacobson's traceroute do). Each probe waits for the ICMP error it
provokes, recognised by the UDP ports quoted in the error (RFC 792: the offending
datagram's header plus its first 64 bits, which are the UDP ports):

* Time Exceeded from a router on the way: that router is the hop, the time is printed;
* Port Unreachable: the destination itself answered; the trace is complete;
* another Destination Unreachable: ``!H``, ``!N``, ``!P``, ``!A`` (see ``UNREACHABLE_MARKS``);
  the trace stops after that hop;
* nothing within ``timeout`` seconds: ``*``.

The next probe leaves as soon as the previous one is answered (or timed out), so a
router that rate-limits its ICMP errors (IOS: one per 500 ms) answers only the first of
two probes that arrive close together: the second shows ``*``. Everything runs on the
lab's virtual clock through the stack's public interface; nothing here prints (``on_probe``
and ``on_hop`` hear each result as it is known).

An interrupt (IOS's escape sequence, a ``KeyboardInterrupt`` raised by the clock's pacer)
ends the trace where it is: the hops so far are returned, the last one possibly partial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from iosim.clock import VirtualClock
from iosim.net.packets import (
    IcmpDestinationUnreachable,
    IcmpMessage,
    IcmpTimeExceeded,
    IpProtocol,
    UdpDatagram,
    UnreachableCode,
    push_udp,
)
from iosim.net.stack import IpStack

BASE_PORT = 33434  # the first destination port probed
SOURCE_PORT_BASE = 49152  # probes leave from an ephemeral port (RFC 6335 dynamic range)
DEFAULT_PROBES = 3
DEFAULT_TTL_MIN = 1
DEFAULT_TTL_MAX = 30
DEFAULT_TIMEOUT = 3.0

#: What IOS prints for a Destination Unreachable other than Port Unreachable.
UNREACHABLE_MARKS: dict[int, str] = {
    UnreachableCode.NET: "!N",
    UnreachableCode.NET_UNKNOWN: "!N",
    UnreachableCode.NET_PROHIBITED: "!N",
    UnreachableCode.NET_TOS: "!N",
    UnreachableCode.HOST: "!H",
    UnreachableCode.HOST_UNKNOWN: "!H",
    UnreachableCode.HOST_PROHIBITED: "!H",
    UnreachableCode.HOST_TOS: "!H",
    UnreachableCode.SOURCE_HOST_ISOLATED: "!H",
    UnreachableCode.PROTOCOL: "!P",
    UnreachableCode.ADMINISTRATIVELY_PROHIBITED: "!A",
}
UNKNOWN_MARK = "?"  # an ICMP error IOS has no letter for
TIMEOUT_MARK = "*"


@dataclass(frozen=True, slots=True)
class Probe:
    """The fate of one probe.

    ``responder`` is who sent the ICMP error (None: no answer); ``rtt`` the round trip in
    seconds when a time is printed; ``mark`` is ``""`` for a timed answer, ``*`` for none,
    or an unreachable mark such as ``!H``.
    """

    responder: int | None
    rtt: float | None
    mark: str
    reached: bool = False  # Port Unreachable: the destination itself answered


@dataclass
class Hop:
    """One TTL's probes, in the order they were sent."""

    ttl: int
    probes: list[Probe] = field(default_factory=list)

    @property
    def final(self) -> bool:
        """Whether the trace ends here: the destination answered, or it is unreachable."""
        return any(p.reached or p.mark not in ("", TIMEOUT_MARK) for p in self.probes)


def _quoted_ports(original: bytes) -> tuple[int, int, int] | None:
    """(destination address, source port, destination port) of a quoted UDP datagram."""
    if len(original) < 20:
        return None
    ihl = (original[0] & 0x0F) * 4
    if len(original) < ihl + 4 or original[9] != IpProtocol.UDP:
        return None
    return (int.from_bytes(original[16:20]), int.from_bytes(original[ihl:ihl + 2]),
            int.from_bytes(original[ihl + 2:ihl + 4]))


ErrorMessage = IcmpTimeExceeded | IcmpDestinationUnreachable


def _classify(message: ErrorMessage) -> tuple[str, bool]:
    """(mark, reached) for an ICMP error about a probe."""
    if isinstance(message, IcmpTimeExceeded):
        return "", False
    if message.code == UnreachableCode.PORT:
        return "", True
    return UNREACHABLE_MARKS.get(message.code, UNKNOWN_MARK), False


def probe_source(stack: IpStack, dst: int) -> int | None:
    """The address a probe to ``dst`` leaves from: that of the outgoing interface."""
    route = stack.node.routing_table().resolve(dst)
    if route is None:
        return None
    return stack.source_for(route.interface)


def run_traceroute(stack: IpStack, clock: VirtualClock, dst: int, *,
                   source: int | None = None, probes: int = DEFAULT_PROBES,
                   ttl_min: int = DEFAULT_TTL_MIN, ttl_max: int = DEFAULT_TTL_MAX,
                   timeout: float = DEFAULT_TIMEOUT,
                   on_hop: Callable[[Hop], None] | None = None,
                   on_probe: Callable[[Hop], None] | None = None) -> list[Hop]:
    """Trace the path to ``dst`` (see the module docstring); ``on_probe`` sees the hop
    when it starts and after each of its probes, ``on_hop`` each finished hop."""
    src = source if source is not None else probe_source(stack, dst)
    sport = SOURCE_PORT_BASE + stack.next_ident() % 16384
    waiting: dict[str, float] = {}  # the probe in flight: its port and when it left
    answer: list[Probe] = []

    def listen(responder: int, message: IcmpMessage, now: float) -> None:
        if answer or not isinstance(message, IcmpTimeExceeded | IcmpDestinationUnreachable):
            return
        quoted = _quoted_ports(message.original)
        if quoted is None or quoted != (dst, sport, int(waiting["port"])):
            return  # not about the probe in flight (or a late answer to an earlier one)
        mark, reached = _classify(message)
        rtt = now - waiting["sent"] if mark == "" else None
        answer.append(Probe(responder, rtt, mark, reached))

    hops: list[Hop] = []
    dport = BASE_PORT
    stack.icmp_listeners.append(listen)
    try:
        for ttl in range(ttl_min, ttl_max + 1):
            hop = Hop(ttl)
            hops.append(hop)
            if on_probe is not None:
                on_probe(hop)
            for _ in range(probes):
                answer.clear()
                waiting.update(port=dport, sent=clock.now)
                if src is not None:
                    udp = push_udp(UdpDatagram(sport, dport, b""), src, dst)
                    stack.send(dst, IpProtocol.UDP, udp, src=src, ttl=ttl)
                deadline = waiting["sent"] + timeout
                while not answer:
                    due = clock.next_deadline()
                    if due is None or due > deadline:
                        clock.advance_to(max(deadline, clock.now))
                        break
                    clock.advance_to(due)
                hop.probes.append(answer[0] if answer else Probe(None, None, TIMEOUT_MARK))
                if on_probe is not None:
                    on_probe(hop)
                dport = dport + 1 if dport < 0xFFFF else BASE_PORT
            if on_hop is not None:
                on_hop(hop)
            if hop.final:
                break
    except KeyboardInterrupt:  # IOS's escape sequence: the trace ends here
        pass
    finally:
        stack.icmp_listeners.remove(listen)
    return hops
