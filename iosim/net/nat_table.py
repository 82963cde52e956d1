"""The translation table of the NAT engine (:mod:`iosim.net.nat`): live translations found by
either side in one dict probe, PAT port bindings, idle timeouts on a heap, and the
numbers ``show ip nat statistics`` prints.

Theory of operation
-------------------
An entry is kept under its inside key (protocol, inside local address and port, outside
address and port) and its outside key (the same with the inside global side), so both
directions of a flow find it at once; a simple entry (addresses only) is kept by each of
its two addresses. PAT bindings remember which inside local port owns each global port and
how many entries use it, so a port is handed out again only when its last entry goes.
Every entry is pushed on a heap by its expiry time; ``expire(now)`` pops what is due and
puts back what was used since (an entry's expiry only moves later, or is pushed again when
it moves earlier), so expiry costs O(log n) per entry, not a pass over the table.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from iosim.net.packets import IpProtocol

_NEVER = float("inf")
_PORT_RANGES = ((0, 511), (512, 1023), (1024, 65535))
_ICMP_RANGES = ((1024, 65535), (1, 1023))


@dataclass(eq=False)
class Translation:
    """One entry of ``show ip nat translations``.

    ``protocol`` None is a simple entry (addresses only, shown with ``---``). ``outside`` is
    the peer's address (outside local = outside global: no outside translation);
    ``outside_port`` its TCP/UDP port (for ICMP the outside columns show the global
    identifier).
    """

    protocol: int | None
    inside_local: int
    inside_global: int
    local_port: int | None = None
    global_port: int | None = None
    outside: int | None = None
    outside_port: int | None = None
    origin: str = ""  # the mapping that made it: "list ACL" or a static's tag
    created: float = 0.0
    last_used: float = 0.0
    timeout: float | None = None
    entry_id: int = 0  # numbered by the table as entries come (show ... verbose)

    @property
    def expires(self) -> float:
        return _NEVER if self.timeout is None else self.last_used + self.timeout

    def inside_key(self) -> tuple[object, ...]:
        return (self.protocol, self.inside_local, self.local_port, self.outside,
                self.outside_port)

    def outside_key(self) -> tuple[object, ...]:
        return (self.protocol, self.inside_global, self.global_port, self.outside,
                self.outside_port)


class NatTable:
    """Live translations, found by either side, with PAT port bindings and timeouts."""

    def __init__(self) -> None:
        self._live: set[Translation] = set()
        self._inside: dict[tuple[object, ...], Translation] = {}
        self._outside: dict[tuple[object, ...], Translation] = {}
        self._simple_local: dict[int, Translation] = {}
        self._simple_global: dict[int, Translation] = {}
        # PAT: (protocol, global, global port) -> [inside local, local port, users]
        self._ports: dict[tuple[int, int, int], list[int]] = {}
        self._bound: dict[tuple[int, int, int, int], int] = {}  # (proto, local, lport, global)
        self._heap: list[tuple[float, int, Translation]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._static_ids: dict[Hashable, int] = {}
        # show ip nat statistics: translated datagrams (hits), those a mapping could not
        # translate (misses), those that made a new entry (punted to the process path),
        # entries gone by timeout, and the most entries at once and when
        self.hits = 0
        self.misses = 0
        self.punted = 0
        self.expired = 0
        self.peak = 0
        self.peak_at = 0.0

    def __len__(self) -> int:
        return len(self._live)

    def entries(self) -> list[Translation]:
        return list(self._live)

    # ------------------------------------------------------------ lookups

    def by_inside(self, key: tuple[object, ...]) -> Translation | None:
        return self._inside.get(key)

    def by_outside(self, key: tuple[object, ...]) -> Translation | None:
        return self._outside.get(key)

    def simple_for_local(self, address: int) -> Translation | None:
        return self._simple_local.get(address)

    def simple_for_global(self, address: int) -> Translation | None:
        return self._simple_global.get(address)

    def find(self, test: Callable[[Translation], bool]) -> Translation | None:
        """The most recently used entry that passes ``test`` (for fragments)."""
        return max((t for t in self._live if test(t)), key=lambda t: t.last_used,
                   default=None)

    # ------------------------------------------------------------ PAT ports

    def bound_port(self, protocol: int, local: int, lport: int, global_address: int) -> int | None:
        """The global port this inside local port already has on ``global_address``."""
        return self._bound.get((protocol, local, lport, global_address))

    def allocate_port(self, protocol: int, local: int, lport: int, global_address: int,
                      reserved: Callable[[int, int, int], bool]) -> int | None:
        """A global port for (local, lport): its own if free, else the first free of its range."""
        bound = self.bound_port(protocol, local, lport, global_address)
        if bound is not None:
            return bound

        def free(port: int) -> bool:
            return (protocol, global_address, port) not in self._ports and not reserved(
                protocol, global_address, port)

        if free(lport):
            return lport
        if protocol == IpProtocol.ICMP:
            ranges: Iterable[tuple[int, int]] = _ICMP_RANGES
        else:
            ranges = [r for r in _PORT_RANGES if r[0] <= lport <= r[1]]
        for lo, hi in ranges:
            for port in range(max(lo, 1), hi + 1):
                if free(port):
                    return port
        return None

    # ------------------------------------------------------------ changes

    def static_id(self, mapping: Hashable) -> int:
        """The entry id of a static mapping's entry (numbered as the table first sees it)."""
        found = self._static_ids.get(mapping)
        if found is None:
            found = self._static_ids[mapping] = next(self._ids)
        return found

    def add(self, t: Translation) -> Translation:
        t.entry_id = next(self._ids)
        self._live.add(t)
        if len(self._live) > self.peak:
            self.peak, self.peak_at = len(self._live), t.created
        if t.protocol is None:
            self._simple_local[t.inside_local] = t
            self._simple_global[t.inside_global] = t
        else:
            self._inside[t.inside_key()] = t
            self._outside[t.outside_key()] = t
            if t.global_port is not None and t.local_port is not None:
                pkey = (t.protocol, t.inside_global, t.global_port)
                binding = self._ports.setdefault(pkey, [t.inside_local, t.local_port, 0])
                binding[2] += 1
                self._bound[(t.protocol, t.inside_local, t.local_port, t.inside_global)] = \
                    t.global_port
        heapq.heappush(self._heap, (t.expires, next(self._seq), t))
        return t

    def remove(self, t: Translation) -> None:
        if t not in self._live:
            return
        self._live.discard(t)
        if t.protocol is None:
            if self._simple_local.get(t.inside_local) is t:
                del self._simple_local[t.inside_local]
            if self._simple_global.get(t.inside_global) is t:
                del self._simple_global[t.inside_global]
            return
        if self._inside.get(t.inside_key()) is t:
            del self._inside[t.inside_key()]
        if self._outside.get(t.outside_key()) is t:
            del self._outside[t.outside_key()]
        if t.global_port is not None and t.local_port is not None:
            pkey = (t.protocol, t.inside_global, t.global_port)
            binding = self._ports.get(pkey)
            if binding is not None:
                binding[2] -= 1
                if binding[2] <= 0:
                    del self._ports[pkey]
                    self._bound.pop((t.protocol, t.inside_local, t.local_port,
                                     t.inside_global), None)

    def touch(self, t: Translation, now: float, timeout: float | None) -> None:
        """Traffic used ``t``: its idle timer starts again."""
        before = t.expires
        t.last_used = now
        t.timeout = timeout
        if t.expires < before and t in self._live:  # sooner than the heap expects it
            heapq.heappush(self._heap, (t.expires, next(self._seq), t))

    def expire(self, now: float) -> None:
        """Drop every entry idle for longer than its timeout."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, t = heapq.heappop(heap)
            if t not in self._live:
                continue
            if t.expires <= now:
                self.remove(t)
                self.expired += 1
            else:
                heapq.heappush(heap, (t.expires, next(self._seq), t))
        if len(heap) > 4 * len(self._live) + 64:
            self._heap = [(t.expires, next(self._seq), t) for t in self._live]
            heapq.heapify(self._heap)

    def clear(self, test: Callable[[Translation], bool] = lambda t: True) -> int:
        """Remove the entries that pass ``test``; how many went."""
        gone = [t for t in self._live if test(t)]
        for t in gone:
            self.remove(t)
        return len(gone)
