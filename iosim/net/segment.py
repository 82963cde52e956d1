"""What a shared segment's ARP broadcasts teach its ports, kept once instead of per port.

Theory of operation
-------------------
On a segment of N routers every router announces its addresses with a gratuitous ARP when
they come up, and every ARP request is a broadcast: handing each of those frames to every
port is N^2 deliveries (a million at 1,000 routers) and N^2 ARP entries, though almost every
port only counts the frame and, for a gratuitous ARP from its subnet, learns the sender (IOS
does). The segment's :class:`ArpLedger` keeps the effect instead of the deliveries:

* Each ARP broadcast is recorded once (``record``): the sender's address, MAC and time in
  ``heard`` (the last one per address, with the index of its last gratuitous ARP), and the
  frame's size in the running totals. It is delivered at once only to the ports that must
  act on it -- the owners of the target address (who answer) and the ports whose device has
  a capture running -- and those ports are counted apart (``skipped``), as is the sender.
* A port's ARP view (:meth:`Port.neighbour`) reads ``heard`` when its stack looks an address
  up: the port would have learnt the sender from a gratuitous ARP of its subnet, or
  refreshed an entry it already had, at the time the ledger says; broadcasts from before
  the port's ``epoch`` (it came up, or ``clear arp-cache`` ran, after them) are not its.
* A port's counters (:meth:`Port.settle`) take the frames recorded since it last settled,
  less those it sent or was handed itself: packets, octets, broadcasts, the last input and
  the five-minute rates (decaying sums add up linearly). A router settles its ports
  whenever its counters are read and whenever an interface changes state, so frames that
  arrived while a port was down are never counted.

Everything a port would have done with such a frame is therefore done in O(1) when the port
looks, and a segment of N routers costs O(N) to boot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import exp

__all__ = ["ARP_BROADCAST", "ArpLedger", "Heard", "Port", "arp_fields"]

Endpoint = tuple[str, str]  # (device, interface)
LOAD_INTERVAL = 300.0  # seconds: IOS's five-minute rates (iosim.router.RateMeter)
ARP_BROADCAST = b"\xff" * 6

#: (frames, octets, bits/s, packets/s, last input time) handed to a port's counters
CountFloods = Callable[[str, int, int, float, float, float], None]


def arp_fields(frame: bytes) -> tuple[bytes, int, int] | None:
    """(sender MAC, sender address, target address) of an Ethernet ARP broadcast for IPv4
    over Ethernet, or None for any other frame (which is then flooded as usual)."""
    if (len(frame) < 42 or frame[:6] != ARP_BROADCAST or frame[12:14] != b"\x08\x06"
            or frame[14:20] != b"\x00\x01\x08\x00\x06\x04"):
        return None
    return (frame[22:28], int.from_bytes(frame[28:32], "big"),
            int.from_bytes(frame[38:42], "big"))


@dataclass(slots=True)
class _Tally:
    """Frames counted: how many, their octets, and decaying sums as IOS's rates keep them."""

    frames: int = 0
    octets: int = 0
    bits: float = 0.0  # bits per second as of ``at``
    packets: float = 0.0
    at: float = 0.0

    def add(self, now: float, size: int) -> None:
        self._decay(now)
        self.frames += 1
        self.octets += size
        self.bits += size * 8 / LOAD_INTERVAL
        self.packets += 1 / LOAD_INTERVAL

    def rates(self, now: float) -> tuple[float, float]:
        factor = exp(-max(0.0, now - self.at) / LOAD_INTERVAL)
        return self.bits * factor, self.packets * factor

    def _decay(self, now: float) -> None:
        if now > self.at:
            self.bits, self.packets = self.rates(now)
            self.at = now

    def copy(self) -> _Tally:
        return _Tally(self.frames, self.octets, self.bits, self.packets, self.at)


@dataclass(frozen=True)
class Heard:
    """The last ARP broadcast from one address on the segment."""

    mac: bytes
    at: float
    index: int  # its place among the segment's ARP broadcasts
    sender: Endpoint
    last_gratuitous: int  # index of the address's last gratuitous ARP, -1 if none


@dataclass
class Port:
    """One interface on the segment, as its stack sees the ledger."""

    end: Endpoint
    ledger: ArpLedger
    up: bool = False  # as of the last settle
    epoch: int = 0  # ARP broadcasts before this index are not this port's to learn from
    skipped: _Tally = field(default_factory=_Tally)  # sent by it, or handed to it at once
    _seen_total: _Tally = field(default_factory=_Tally)
    _seen_skipped: _Tally = field(default_factory=_Tally)

    def neighbour(self, address: int, subnets: list[tuple[int, int]], learnt: float | None,
                  floor: int = 0) -> Heard | None:
        """What the segment's broadcasts taught this port about ``address``: the last one
        from it, if the port learnt it (a gratuitous ARP from one of ``subnets``) or had an
        entry for it already (``learnt``, when it was made); None otherwise. Broadcasts
        before index ``floor`` (the entry aged out after them) do not count."""
        heard = self.ledger.heard.get(address)
        start = max(self.epoch, floor)
        if heard is None or heard.index < start or heard.sender == self.end:
            return None
        if learnt is not None and learnt <= heard.at:
            return heard
        if heard.last_gratuitous >= start and any(
                (address ^ net) >> (32 - length) == 0 for net, length in subnets if length):
            return heard if learnt is None or heard.at >= learnt else None
        return None

    def settle(self, now: float, count: CountFloods) -> None:
        """Hand the counters what arrived since the last settle (if the port was up)."""
        ledger = self.ledger
        total, skipped = ledger.total, self.skipped
        frames = (total.frames - self._seen_total.frames) - (
            skipped.frames - self._seen_skipped.frames)
        if self.up and frames > 0:
            octets = (total.octets - self._seen_total.octets) - (
                skipped.octets - self._seen_skipped.octets)
            t_bits, t_pkts = total.rates(now)
            o_bits, o_pkts = self._seen_total.rates(now)
            s_bits, s_pkts = skipped.rates(now)
            p_bits, p_pkts = self._seen_skipped.rates(now)
            last = ledger.last_at if ledger.last_from != self.end else ledger.other_at
            count(self.end[1], frames, octets, max(0.0, (t_bits - o_bits) - (s_bits - p_bits)),
                  max(0.0, (t_pkts - o_pkts) - (s_pkts - p_pkts)), last)
        self._seen_total = total.copy()
        self._seen_skipped = skipped.copy()

    def came_up(self) -> None:
        """The interface came up: only broadcasts from now on are its to learn from."""
        self.epoch = self.ledger.floods


@dataclass
class ArpLedger:
    """The ARP broadcasts of one segment (module docstring)."""

    floods: int = 0  # ARP broadcasts recorded so far
    total: _Tally = field(default_factory=_Tally)
    heard: dict[int, Heard] = field(default_factory=dict)
    owners: dict[int, dict[Endpoint, None]] = field(default_factory=dict)
    watchers: dict[Endpoint, None] = field(default_factory=dict)  # ports with a capture
    ports: dict[Endpoint, Port] = field(default_factory=dict)
    last_at: float = 0.0  # arrival of the last broadcast ...
    last_from: Endpoint | None = None  # ... and its sender
    other_at: float = 0.0  # arrival of the last one from another sender than last_from

    def port(self, end: Endpoint) -> Port:
        """The port of ``end`` (made on first use)."""
        found = self.ports.get(end)
        if found is None:
            found = self.ports[end] = Port(end, self)
        return found

    def own(self, end: Endpoint, before: set[int], after: set[int]) -> None:
        """``end`` now has the addresses ``after`` (had ``before``): ARP requests for them
        are handed to it at once."""
        for address in before - after:
            mine = self.owners.get(address)
            if mine is not None:
                mine.pop(end, None)
                if not mine:
                    del self.owners[address]
        for address in after - before:
            self.owners.setdefault(address, {})[end] = None

    def record(self, sender: Endpoint, frame: bytes, fields: tuple[bytes, int, int],
               now: float) -> list[Endpoint]:
        """An ARP broadcast from ``sender`` arrived at ``now``: keep its effect, and return
        the ports it must be handed to at once (they are counted apart)."""
        sha, spa, tpa = fields
        index = self.floods
        self.floods += 1
        size = len(frame)
        self.total.add(now, size)
        if self.last_from != sender:
            self.other_at = self.last_at
        self.last_at, self.last_from = now, sender
        self.port(sender).skipped.add(now, size)
        if spa:
            old = self.heard.get(spa)
            gratuitous = index if spa == tpa else (old.last_gratuitous if old else -1)
            self.heard[spa] = Heard(sha, now, index, sender, gratuitous)
        now_ends = [e for e in (*self.owners.get(tpa, ()), *self.watchers) if e != sender]
        for end in dict.fromkeys(now_ends):
            self.port(end).skipped.add(now, size)
        return list(dict.fromkeys(now_ends))
