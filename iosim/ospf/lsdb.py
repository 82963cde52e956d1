"""The link-state database of one OSPF area (or of the AS-external scope): LSAs by key,
their age on the virtual clock, and which of two instances is newer (RFC 2328 13.1).

Theory of operation
-------------------
An LSA's age is not rewritten every second: an entry keeps the age it had when installed
and the instant it was installed, and :meth:`LsdbEntry.age` adds the seconds since,
capped at MaxAge. The entry keeps the LSA's octets as received (the age field as it came),
and its body is parsed once, on first use. Lookups are one dict probe by
``(LS type, Link State ID, Advertising Router)``; the LSAs of one type are kept apart too,
so ``show ip ospf database`` and the SPF calculation walk only what they need.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from iosim.ospf.packets import Lsa, LsaBody, LsaHeader, LsaKey, pull_lsa_body, with_age

MAX_AGE = 3600  # seconds (appendix B)
LS_REFRESH_TIME = 1800
MAX_AGE_DIFF = 900
MIN_LS_INTERVAL = 5.0
MIN_LS_ARRIVAL = 1.0
INF_TRANS_DELAY = 1
LS_INFINITY = 0xFFFFFF
INITIAL_SEQUENCE = -0x7FFFFFFF  # 0x80000001
MAX_SEQUENCE = 0x7FFFFFFF


@dataclass(eq=False)
class LsdbEntry:
    """One LSA in the database."""

    lsa: Lsa
    installed: float  # virtual time of installation
    received: float  # when this instance arrived (MinLSArrival), = installed
    self_originated: bool = False
    _body: LsaBody | None = field(default=None, repr=False)

    @property
    def header(self) -> LsaHeader:
        return self.lsa.header

    @property
    def key(self) -> LsaKey:
        return self.lsa.header.key

    def age(self, now: float) -> int:
        """The LS age now (12.1.1), at most MaxAge."""
        return min(MAX_AGE, self.lsa.header.ls_age + int(now - self.installed))

    def at_max_age(self, now: float) -> bool:
        return self.age(now) >= MAX_AGE

    def max_age_at(self) -> float:
        """The virtual instant the LSA reaches MaxAge."""
        return self.installed + (MAX_AGE - self.lsa.header.ls_age)

    def body(self) -> LsaBody:
        """The parsed body (parsed once)."""
        if self._body is None:
            self._body = pull_lsa_body(self.lsa)
        return self._body

    def current(self, now: float, extra: int = 0) -> Lsa:
        """The LSA as it is sent now: its age brought up to date (plus ``extra``, the
        InfTransDelay of flooding), at most MaxAge."""
        return with_age(self.lsa, min(MAX_AGE, self.age(now) + extra))


def newer(a: LsaHeader, a_age: int, b: LsaHeader, b_age: int) -> int:
    """Which of two instances of an LSA is more recent (13.1): 1 if ``a``, -1 if ``b``, 0
    if they are the same instance. ``a_age``/``b_age`` are their ages now."""
    if a.ls_sequence_number != b.ls_sequence_number:
        return 1 if a.ls_sequence_number > b.ls_sequence_number else -1
    if a.ls_checksum != b.ls_checksum:
        return 1 if a.ls_checksum > b.ls_checksum else -1
    if (a_age >= MAX_AGE) != (b_age >= MAX_AGE):
        return 1 if a_age >= MAX_AGE else -1
    if abs(a_age - b_age) > MAX_AGE_DIFF:
        return 1 if a_age < b_age else -1
    return 0


class Lsdb:
    """The LSAs of one flooding scope."""

    def __init__(self) -> None:
        self._entries: dict[LsaKey, LsdbEntry] = {}
        self._by_type: dict[int, dict[LsaKey, LsdbEntry]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: LsaKey) -> LsdbEntry | None:
        return self._entries.get(key)

    def install(self, lsa: Lsa, now: float, self_originated: bool = False) -> LsdbEntry:
        """Put ``lsa`` in the database, replacing any older instance (13.2)."""
        entry = LsdbEntry(lsa, now, now, self_originated)
        key = lsa.header.key
        self._entries[key] = entry
        self._by_type.setdefault(lsa.header.ls_type, {})[key] = entry
        return entry

    def remove(self, key: LsaKey) -> LsdbEntry | None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            del self._by_type[key[0]][key]
        return entry

    def of_type(self, ls_type: int) -> Iterator[LsdbEntry]:
        """The LSAs of one type (in no particular order)."""
        return iter(list(self._by_type.get(ls_type, {}).values()))

    def entries(self) -> Iterator[LsdbEntry]:
        return iter(list(self._entries.values()))

    def checksum_sum(self) -> int:
        """The sum of the LS checksums (``show ip ospf``'s "Checksum Sum")."""
        return sum(e.header.ls_checksum for e in self._entries.values())
