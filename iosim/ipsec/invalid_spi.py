"""ESP or AH with an SPI the router does not know: log it, tell the sender, within bounds.

Theory of operation
-------------------
A packet for one of our addresses whose SPI names no inbound SA (the peer still uses a pair
we lost: we rebooted, or its Delete never came) is dropped, and:

* ``%CRYPTO-4-RECVD_PKT_INV_SPI`` is logged, at most once a second for the router;
* the sender is told with an INVALID-SPI notify (RFC 2408 3.14.1), so that it deletes the
  dead pair and negotiates a new one -- but only over an ISAKMP SA with it, which proves
  who it is (the notify is protected by that SA). An ESP packet proves nothing about its
  source address: answering a source with no ISAKMP SA would reflect traffic toward
  whatever address a flood forged;
* with ``crypto isakmp invalid-spi-recovery`` and no ISAKMP SA with the sender, IOS starts a
  phase 1 toward it to carry the notify (the notify goes only once that SA is up, that is,
  authenticated). Each such attempt sends a main mode toward an address nobody vouched for,
  so attempts are rate-limited -- one per source per :data:`NOTIFY_INTERVAL`, and at most
  :data:`RECOVERY_BURST` in any :data:`RECOVERY_WINDOW` seconds for the router -- and each
  counts, as any negotiation of ours, against call admission control's half-open caps.

One notify per (source, SPI) per :data:`NOTIFY_INTERVAL`. The bookkeeping is bounded and
O(1) per packet: the per-(source, SPI) and per-source tables keep at most
:data:`TABLE_SIZE` entries each, in the order they were last used, and the oldest is evicted
to make room (it is the one closest to the end of its quiet interval anyway). Every
decision compares ``now`` with a stored deadline, never a difference of times.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from iosim.ipsec.ike_glue import IkeGlue
from iosim.net.packets import IpProtocol, format_ip

if TYPE_CHECKING:
    from iosim.clock import VirtualClock
    from iosim.router import Router

__all__ = [
    "LOG_INTERVAL",
    "NOTIFY_INTERVAL",
    "RECOVERY_BURST",
    "RECOVERY_WINDOW",
    "TABLE_SIZE",
    "InvalidSpiCounters",
    "InvalidSpiResponder",
]

LOG_INTERVAL = 1.0  # seconds between RECVD_PKT_INV_SPI logs
NOTIFY_INTERVAL = 10.0  # seconds between INVALID-SPI notifies for one SPI from one source
RECOVERY_WINDOW = 10.0  # invalid-spi-recovery: at most RECOVERY_BURST phase 1s in this window
RECOVERY_BURST = 10
TABLE_SIZE = 1024  # entries in each rate-limit table
_IKE_PROTOCOL: dict[int, int] = {IpProtocol.ESP: 3, IpProtocol.AH: 2}  # IP -> ISAKMP protocol

K = TypeVar("K", bound=Hashable)


@dataclass
class InvalidSpiCounters:
    """What became of the packets with an unknown SPI."""

    packets: int = 0  # every such packet
    notified: int = 0  # an INVALID-SPI notify was sent (over an ISAKMP SA) or queued
    unanswered: int = 0  # no ISAKMP SA with the source (and no recovery): nothing sent
    rate_limited: int = 0  # within the quiet interval of its SPI or source
    recoveries: int = 0  # phase 1s started by invalid-spi-recovery
    recoveries_refused: int = 0  # recovery over its rate, or refused by call admission


class _QuietTable(OrderedDict[K, float]):
    """Key -> the end of its quiet interval, at most ``size`` keys, least recently set first."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def quiet(self, key: K, now: float) -> bool:
        until = self.get(key)
        return until is not None and now < until

    def hush(self, key: K, until: float) -> None:
        self[key] = until
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class InvalidSpiResponder:
    """The router's answer to unknown SPIs (see the module docstring)."""

    def __init__(self, router: Router, clock: VirtualClock, ike: IkeGlue, *,
                 table_size: int = TABLE_SIZE) -> None:
        self.router = router
        self.clock = clock
        self.ike = ike
        self.counters = InvalidSpiCounters()
        self._table_size = table_size
        self._log_quiet_until = -1e9
        # who was told of which SPI (src, spi), and which sources a recovery went to: made
        # on the first invalid SPI (most routers never see one)
        self._told_table: _QuietTable[tuple[int, int]] | None = None
        self._recovered_table: _QuietTable[int] | None = None
        # when each recent recovery may be forgotten (at most RECOVERY_BURST: a list, not a
        # deque, whose first block alone is ten times the size)
        self._recoveries: list[float] = []

    def reset(self) -> None:
        """A reload forgets which notifies went out."""
        self._told_table = self._recovered_table = None
        self._recoveries.clear()

    @property
    def _told(self) -> _QuietTable[tuple[int, int]]:
        if self._told_table is None:
            self._told_table = _QuietTable(self._table_size)
        return self._told_table

    @property
    def _recovered(self) -> _QuietTable[int]:
        if self._recovered_table is None:
            self._recovered_table = _QuietTable(self._table_size)
        return self._recovered_table

    def packet(self, spi: int, dst: int, src: int, interface: str, protocol: int) -> None:
        """An ESP (``protocol`` 50) or AH (51) packet from ``src`` to our ``dst`` carried
        ``spi``, which names no SA of ours; the packet itself is already dropped."""
        now = self.clock.now
        self.counters.packets += 1
        if now >= self._log_quiet_until:
            self._log_quiet_until = now + LOG_INTERVAL
            self.router.log(
                f"%CRYPTO-4-RECVD_PKT_INV_SPI: decaps: rec'd IPSEC packet has invalid spi for "
                f"destaddr={format_ip(dst)}, prot={protocol}, spi=0x{spi:X}({spi}), "
                f"srcaddr={format_ip(src)}, input interface={interface}")
        if spi < 256:
            return  # a reserved SPI names no SA (RFC 4303 2.1): nothing to tell
        if self._told.quiet((src, spi), now):
            self.counters.rate_limited += 1
            return
        engine = self.ike.engines.get(dst)
        recover = self.ike.crypto.invalid_spi_recovery
        unknown = engine is None or not engine.has_isakmp_sa(src)
        if unknown:  # nobody vouched for this source
            if not recover:
                self.counters.unanswered += 1
                return
            if not self._may_recover(src, now):
                return
        self._told.hush((src, spi), now + NOTIFY_INTERVAL)
        engine = self.ike.engine(dst)
        if engine.notify_invalid_spi(src, spi, _IKE_PROTOCOL[protocol], now, recover=recover):
            # sent over the ISAKMP SA, or waiting for it (the engine's NotifySent says so)
            self.counters.notified += 1
        elif unknown:
            self.counters.recoveries_refused += 1  # call admission control said no
        else:
            self.counters.unanswered += 1  # its ISAKMP SA is still negotiating
        self.ike.pump(dst)

    def _may_recover(self, src: int, now: float) -> bool:
        """Whether a recovery phase 1 toward ``src`` may start now (and count it if so)."""
        if self._recovered.quiet(src, now):
            self.counters.rate_limited += 1
            return False
        recent = self._recoveries
        while recent and now >= recent[0]:
            recent.pop(0)
        if len(recent) >= RECOVERY_BURST:
            self.counters.recoveries_refused += 1
            return False
        recent.append(now + RECOVERY_WINDOW)
        self._recovered.hush(src, now + NOTIFY_INTERVAL)
        self.counters.recoveries += 1
        return True
