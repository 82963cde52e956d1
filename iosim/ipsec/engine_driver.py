"""What both IKE glues (``ike_glue`` for IKEv1, ``ikev2_glue`` for IKEv2) do with their
sans-IO engines, one per local address: send the datagrams an engine queued (behind the
non-ESP marker once it floated to 4500), hand its events to the glue before and after, keep
its one timer armed on the virtual clock, and feed the timer's expiry back to it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from iosim.ike.isakmp_sa import NAT_T_PORT

if TYPE_CHECKING:
    from iosim.clock import TimerHandle, VirtualClock
    from iosim.ipsec.spd import Spd
    from iosim.net.stack import IpStack

NON_ESP_MARKER = bytes(4)  # RFC 3948: IKE on 4500 starts with four zero octets


class SansIoEngine(Protocol):
    """The I/O face of an IKE engine (``IkeEngine``, ``Ikev2Engine``)."""

    def datagrams_with_ports(self) -> Iterable[tuple[int, bytes, int]]: ...
    def get_timer(self) -> float | None: ...
    def handle_timer(self, now: float) -> None: ...


E = TypeVar("E", bound=SansIoEngine)


class EngineDriver(Generic[E]):
    """The engines of one router keyed by local address, and their timers."""

    engines: dict[int, E]
    _timers: dict[int, TimerHandle]
    clock: VirtualClock
    spd: Spd
    stack: IpStack

    def _events(self, local: int) -> None:
        """Handle what the engine of ``local`` reported (the glue's own job)."""
        raise NotImplementedError

    def cancel_timers(self) -> None:
        """A reload: no engine's timer fires any more."""
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    def pump(self, local: int) -> None:
        """Handle the engine's events (IOS prints a state change before the packet it
        sends), send its datagrams, re-arm its timer."""
        engine = self.engines[local]
        self._events(local)
        for peer, data, port in engine.datagrams_with_ports():
            if port == NAT_T_PORT:
                data = NON_ESP_MARKER + data
            self.spd.send_own(self.stack.send_udp, peer, port, port, data, src=local)
        self._events(local)
        when = engine.get_timer()
        old = self._timers.pop(local, None)
        if old is not None:
            old.cancel()
        if when is not None:
            self._timers[local] = self.clock.call_at(max(when, self.clock.now), self._timer,
                                                     local)

    def pump_all(self) -> None:
        for local in list(self.engines):
            self.pump(local)

    def _timer(self, local: int) -> None:
        self._timers.pop(local, None)
        if local in self.engines:
            self.engines[local].handle_timer(self.clock.now)
            self.pump(local)
