"""Entries grouped by an owner (a peer, an ISAKMP SA, an interface), in insertion order.

Theory of operation
-------------------
The SA tables index their entries by peer so that what is done for one peer looks at that
peer's entries only, however many peers a hub has. A dict of dicts does that, but most
groups hold one entry (a spoke has one peer; a hub one ISAKMP SA and one pair per spoke),
and a dict of one entry costs 240 bytes where a (key, value) tuple costs 72: in a lab of
thousands of routers the inner dicts were a few percent of all the memory held.

:class:`Grouped` therefore holds a group of one entry as its ``(key, value)`` tuple, and a
group of two or more as a dict (``_Many``) that keeps them in insertion order; a group that
shrinks back to one entry goes back to a tuple, and an empty group is dropped. Reading a
group returns its entries oldest first, as the dict of dicts did; replacing an entry's value
keeps its place, as a dict does.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["Grouped"]

G = TypeVar("G", bound=Hashable)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Many(dict[K, V]):
    """A group of two or more entries (a dict; the class tells it from a single entry)."""

    __slots__ = ()


class Grouped(Generic[G, K, V]):
    """``group -> {key: value}`` in insertion order, a group of one entry held compactly
    (module docstring)."""

    __slots__ = ("_groups",)

    def __init__(self) -> None:
        self._groups: dict[G, tuple[K, V] | _Many[K, V]] = {}

    def __contains__(self, group: object) -> bool:
        return group in self._groups

    def __len__(self) -> int:
        """How many groups have entries."""
        return len(self._groups)

    def groups(self) -> list[G]:
        """The groups that have entries, in the order they got their first."""
        return list(self._groups)

    def add(self, group: G, key: K, value: V) -> None:
        """``group[key] = value``: a new key goes last, an existing one keeps its place."""
        held = self._groups.get(group)
        if held is None:
            self._groups[group] = (key, value)
        elif isinstance(held, _Many):
            held[key] = value
        elif held[0] == key:
            self._groups[group] = (key, value)
        else:
            self._groups[group] = _Many((held, (key, value)))

    def discard(self, group: G, key: K) -> None:
        """Forget ``key`` of ``group`` (nothing if it is not there)."""
        held = self._groups.get(group)
        if held is None:
            return
        if not isinstance(held, _Many):
            if held[0] == key:
                del self._groups[group]
            return
        held.pop(key, None)
        if len(held) == 1:  # a _Many holds two or more: one left goes back to a tuple
            self._groups[group] = next(iter(held.items()))

    def items(self, group: G) -> list[tuple[K, V]]:
        """(key, value) of every entry of ``group``, oldest first (a copy)."""
        held = self._groups.get(group)
        if held is None:
            return []
        if isinstance(held, _Many):
            return list(held.items())
        return [held]

    def keys(self, group: G) -> list[K]:
        """The keys of ``group``, oldest first (a copy)."""
        return [key for key, _ in self.items(group)]

    def values(self, group: G) -> list[V]:
        """The values of ``group``, oldest first (a copy)."""
        return [value for _, value in self.items(group)]

    def get(self, group: G, key: K) -> V | None:
        """The value of ``key`` in ``group``, or None."""
        held = self._groups.get(group)
        if held is None:
            return None
        if isinstance(held, _Many):
            return held.get(key)
        return held[1] if held[0] == key else None

    def iter_values(self, group: G) -> Iterator[V]:
        """The values of ``group``, oldest first, without a copy (the group must not change
        while they are read)."""
        held = self._groups.get(group)
        if held is None:
            return iter(())
        if isinstance(held, _Many):
            return iter(held.values())
        return iter((held[1],))
