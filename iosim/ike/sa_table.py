"""The IKE engine's tables: ISAKMP SAs and quick modes, indexed so that nothing is rescanned.

Theory of operation
-------------------
An engine facing a hostile network may hold many SAs (a flood of first messages from forged
addresses leaves one half-open SA each). Every lookup the engine makes while handling one
datagram or one timer is therefore by key or by peer, never over every SA:

* :class:`SaTable` holds the ISAKMP SAs by ``(peer, CKY-I)`` and by peer, in the order they
  were created (each gets a ``serial``), and keeps count of those *negotiating* (half-open:
  not yet QM_IDLE, not deleted) and *active* (established) -- overall and per peer -- so
  call admission control (:mod:`iosim.ike.admission`) is O(1). The engine reports each SA's
  transitions: :meth:`SaTable.add` (a new negotiation), :meth:`SaTable.mark_established`,
  :meth:`SaTable.mark_deleted`, :meth:`SaTable.remove`.
* :class:`QmTable` holds the quick modes by ``(peer, CKY-I, message ID)``, grouped by their
  ISAKMP SA, each with a serial of its own.
* :class:`PairTable` holds the IPsec SA pairs by inbound SPI and by peer, so what the engine
  does for one peer (INITIAL-CONTACT, DPD, a Delete, a rekey's check) looks at that peer's
  pairs only, however many tunnels a hub holds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

from iosim.grouped import Grouped

__all__ = ["PairTable", "QmKey", "QmTable", "SaKey", "SaTable"]

SaKey = tuple[int, bytes]  # (peer, initiator cookie)
QmKey = tuple[int, bytes, int]  # (peer, initiator cookie, message ID)

_NEGOTIATING, _ACTIVE, _DELETED = "negotiating", "active", "deleted"


class _Sa(Protocol):
    """What the table needs of an ISAKMP SA (``iosim.ike.main_mode.IsakmpSa``)."""

    peer: int
    cky_i: bytes
    deleted: bool

    @property
    def established(self) -> bool: ...


class _Pair(Protocol):
    """What the pair table needs of an IPsec SA pair (``iosim.ike.quick_mode.IpsecSaPair``)."""

    @property
    def peer(self) -> int: ...


S = TypeVar("S", bound=_Sa)
X = TypeVar("X")
P = TypeVar("P", bound=_Pair)


class SaTable(Generic[S]):
    """ISAKMP SAs by key and by peer, with negotiating/active counts (module docstring).

    ``on_change(negotiating, active)`` hears every change of the two counts, as deltas.
    """

    def __init__(self, on_change: Callable[[int, int], None] | None = None) -> None:
        self._by_key: dict[SaKey, S] = {}
        self._by_peer: Grouped[int, SaKey, S] = Grouped()
        self._phase: dict[SaKey, str] = {}
        self._serial: dict[SaKey, int] = {}
        self._serials = itertools.count()
        self._peer_negotiating: dict[int, int] = {}
        self.negotiating = 0
        self.active = 0
        self._on_change = on_change

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def get(self, key: SaKey) -> S | None:
        return self._by_key.get(key)

    def values(self) -> Iterator[S]:
        """Every SA, oldest first."""
        return iter(list(self._by_key.values()))

    def items(self) -> list[tuple[SaKey, S]]:
        """(key, SA) of every SA, oldest first."""
        return list(self._by_key.items())

    def of_peer(self, peer: int) -> list[S]:
        """The SAs with ``peer``, oldest first."""
        return self._by_peer.values(peer)

    def keys_of_peer(self, peer: int) -> list[SaKey]:
        return self._by_peer.keys(peer)

    def serial(self, key: SaKey) -> int:
        """Creation order: SAs created earlier have smaller serials."""
        return self._serial[key]

    def negotiating_with(self, peer: int) -> int:
        """How many half-open SAs with ``peer`` exist."""
        return self._peer_negotiating.get(peer, 0)

    # ------------------------------------------------------------ changes

    def add(self, sa: S) -> None:
        """A new SA (its negotiation just started), under ``(sa.peer, sa.cky_i)``."""
        key = (sa.peer, sa.cky_i)
        if key in self._by_key:
            self.remove(key)
        self._by_key[key] = sa
        self._by_peer.add(sa.peer, key, sa)
        self._serial[key] = next(self._serials)
        phase = _DELETED if sa.deleted else _ACTIVE if sa.established else _NEGOTIATING
        self._set_phase(key, sa.peer, phase)

    def mark_established(self, sa: S) -> None:
        """``sa`` reached QM_IDLE."""
        key = (sa.peer, sa.cky_i)
        if self._by_key.get(key) is sa:
            self._set_phase(key, sa.peer, _ACTIVE)

    def mark_deleted(self, sa: S) -> None:
        """``sa`` is deleted (still listed until it is removed)."""
        key = (sa.peer, sa.cky_i)
        if self._by_key.get(key) is sa:
            self._set_phase(key, sa.peer, _DELETED)

    def remove(self, key: SaKey) -> S | None:
        """Forget the SA under ``key`` (if any); returns it."""
        sa = self._by_key.pop(key, None)
        if sa is None:
            return None
        self._set_phase(key, sa.peer, None)
        self._serial.pop(key, None)
        self._by_peer.discard(sa.peer, key)
        return sa

    def _set_phase(self, key: SaKey, peer: int, phase: str | None) -> None:
        old = self._phase.pop(key, None)
        if phase is not None:
            self._phase[key] = phase
        if old == phase:
            return
        negotiating = (phase == _NEGOTIATING) - (old == _NEGOTIATING)
        active = (phase == _ACTIVE) - (old == _ACTIVE)
        self.negotiating += negotiating
        self.active += active
        if negotiating:
            left = self._peer_negotiating.get(peer, 0) + negotiating
            if left:
                self._peer_negotiating[peer] = left
            else:
                self._peer_negotiating.pop(peer, None)
        if self._on_change is not None and (negotiating or active):
            self._on_change(negotiating, active)


class QmTable(Generic[X]):
    """Quick modes by ``(peer, CKY-I, message ID)``, grouped by ISAKMP SA (module docstring)."""

    def __init__(self) -> None:
        self._by_sa: Grouped[SaKey, int, X] = Grouped()
        self._serial: dict[QmKey, int] = {}
        self._serials = itertools.count()

    def __len__(self) -> int:
        return len(self._serial)

    def __contains__(self, key: object) -> bool:
        return key in self._serial

    def get(self, key: QmKey) -> X | None:
        return self._by_sa.get((key[0], key[1]), key[2])

    def __setitem__(self, key: QmKey, x: X) -> None:
        if key not in self._serial:
            self._serial[key] = next(self._serials)
        self._by_sa.add((key[0], key[1]), key[2], x)

    def __delitem__(self, key: QmKey) -> None:
        del self._serial[key]
        self._by_sa.discard((key[0], key[1]), key[2])

    def serial(self, key: QmKey) -> int:
        return self._serial[key]

    def of_sa(self, sa_key: SaKey) -> list[tuple[QmKey, X]]:
        """The quick modes of one ISAKMP SA, oldest first."""
        peer, cky_i = sa_key
        return [((peer, cky_i, mid), x) for mid, x in self._by_sa.items(sa_key)]

    def remove_sa(self, sa_key: SaKey) -> None:
        """Forget every quick mode of one ISAKMP SA."""
        for key, _ in self.of_sa(sa_key):
            del self[key]

    def values(self) -> list[X]:
        return [x for sa_key in self._by_sa.groups() for x in self._by_sa.values(sa_key)]


class PairTable(dict[int, P]):
    """IPsec SA pairs by inbound SPI (a dict), also indexed by peer (module docstring)."""

    __slots__ = ("_by_peer",)  # no __dict__ of its own: an engine has one of these

    def __init__(self) -> None:
        super().__init__()
        self._by_peer: Grouped[int, int, None] = Grouped()  # peer -> inbound SPIs, in order

    def __setitem__(self, spi_in: int, pair: P) -> None:
        old = self.get(spi_in)
        if old is not None:
            self._unindex(spi_in, old)
        super().__setitem__(spi_in, pair)
        self._by_peer.add(pair.peer, spi_in, None)

    def __delitem__(self, spi_in: int) -> None:
        self._unindex(spi_in, self[spi_in])
        super().__delitem__(spi_in)

    def pop(self, spi_in: int, *default: P | None) -> P | None:  # type: ignore[override]
        if spi_in in self:
            pair = self[spi_in]
            del self[spi_in]
            return pair
        if default:
            return default[0]
        raise KeyError(spi_in)

    def of_peer(self, peer: int) -> list[int]:
        """The inbound SPIs of the pairs with ``peer``, oldest first."""
        return self._by_peer.keys(peer)

    def has_peer(self, peer: int) -> bool:
        """Whether a pair with ``peer`` exists."""
        return peer in self._by_peer

    def _unindex(self, spi_in: int, pair: P) -> None:
        self._by_peer.discard(pair.peer, spi_in)
