"""A real UDP/500 socket pumping an :class:`~iosim.ike.engine.IkeEngine` (select loop).

Theory of operation
-------------------
The engine is sans-IO; this adapter is the small piece that connects it to the operating
system so that it can negotiate with a real IKE peer (e.g. strongSwan). It owns one UDP socket
bound to ``local_address:port`` and a wall clock (``time.monotonic`` unless another is given):

- a datagram read from the socket goes to ``receive_datagram(data, peer, now)``;
- after every call into the engine, ``datagrams_with_ports()`` is drained onto the socket, to
  ``(peer, port)``: the engine's 4500 means the SA floated (RFC 3947 section 4: the engine
  initiator floats with MM5 when NAT-D found a NAT; only an engine created with
  ``nat_traversal=True`` does, as ``open`` creates it when ``nat_t_port`` is set), so the
  message leaves from and goes to ``nat_t_port`` with the 4-byte non-ESP marker in front;
- a second socket on ``nat_t_port`` (4500; None for none) takes IKE messages from a peer that
  moved there because it believes a NAT is in the way (RFC 3947 section 4): the 4-byte non-ESP
  marker is stripped before the engine sees the message, and from then on that peer's messages
  leave from and go to 4500 with the marker. Anything else on 4500 (ESP in UDP, NAT-keepalives)
  is not IKE and is ignored: this adapter carries IKE only. Datagrams from an unexpected source
  port are ignored;
- ``handle_timer(now)`` runs whenever ``get_timer()`` is due; the select timeout is the time to
  the engine's next timer, capped by the caller's deadline;
- the engine's events are collected in order and returned by ``poll`` / ``run_until``.

The adapter adds no protocol logic and no threads; ``engine`` stays available for inspection
(``isakmp_sas()``, ``decryption_keys()``) between calls. Randomness is the engine's business:
create it with ``rand=os.urandom`` when talking to a real peer.
"""

from __future__ import annotations

import ipaddress
import os
import select
import socket
import time
from collections.abc import Callable

from iosim.ike.engine import IkeEngine, IkePolicy, Phase2Offer, ProxyIdentity
from iosim.ike.main_mode import NAT_T_PORT as ENGINE_NAT_T_PORT

__all__ = ["IKE_PORT", "NAT_T_PORT", "UdpIkeAdapter", "address_int", "address_text"]

IKE_PORT = 500
NAT_T_PORT = 4500
NON_ESP_MARKER = bytes(4)
MAX_DATAGRAM = 65535


def address_int(text: str) -> int:
    """``"10.0.0.1"`` -> the int form the engine uses."""
    return int(ipaddress.IPv4Address(text))


def address_text(value: int) -> str:
    """The engine's int address -> dotted quad."""
    return str(ipaddress.IPv4Address(value))


class UdpIkeAdapter:
    """One IKE endpoint on a real socket: ``UdpIkeAdapter(engine, "10.0.0.1")``."""

    def __init__(self, engine: IkeEngine, local_address: str, *, port: int = IKE_PORT,
                 nat_t_port: int | None = NAT_T_PORT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if address_int(local_address) != engine.local:
            raise ValueError("the engine's local address differs from the socket's")
        self.engine = engine
        self.port = port
        self.nat_t_port = nat_t_port
        self._clock = clock
        self._socks: dict[int, socket.socket] = {}
        try:
            for p in (port, nat_t_port):
                if p is None:
                    continue
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self._socks[p] = sock
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((local_address, p))
                sock.setblocking(False)
        except OSError:
            self.close()
            raise
        self.sock = self._socks[port]
        self._peer_port: dict[int, int] = {}  # peers that floated to nat_t_port
        self.sent = 0
        self.received = 0

    @classmethod
    def open(cls, local_address: str, *, policies: list[IkePolicy], psk: dict[str, str],
             port: int = IKE_PORT, nat_t_port: int | None = NAT_T_PORT,
             select_phase2: Callable[[int, ProxyIdentity, list[Phase2Offer]],
                                     Phase2Offer | None] | None = None,
             rand: Callable[[int], bytes] = os.urandom) -> UdpIkeAdapter:
        """An engine with fixed policies and per-peer keys (``{"10.0.0.2": "secret"}``), on a
        socket bound to ``local_address:port``."""
        keys = {address_int(peer): key for peer, key in psk.items()}
        engine = IkeEngine(address_int(local_address), rand=rand,
                           policies=lambda: list(policies), psk_for=keys.get,
                           select_phase2=select_phase2, nat_traversal=nat_t_port is not None)
        return cls(engine, local_address, port=port, nat_t_port=nat_t_port)

    # ------------------------------------------------------------------ driving

    def now(self) -> float:
        return self._clock()

    def initiate(self, peer: str, proxies: ProxyIdentity, offer: Phase2Offer) -> list[object]:
        """Start negotiating with ``peer``; returns the events produced immediately."""
        self.engine.initiate(address_int(peer), proxies, offer, self.now())
        return self._flush()

    def poll(self, timeout: float) -> list[object]:
        """Wait at most ``timeout`` seconds for datagrams or timers; process what is due."""
        deadline = self.now() + max(0.0, timeout)
        while True:
            now = self.now()
            timer = self.engine.get_timer()
            wait = deadline - now
            if timer is not None:
                wait = min(wait, timer - now)
            readable, _, _ = select.select(list(self._socks.values()), [], [], max(0.0, wait))
            for sock in readable:
                self._read_all(sock)
            timer = self.engine.get_timer()
            if timer is not None and self.now() >= timer:
                self.engine.handle_timer(self.now())
            events = self._flush()
            if events or self.now() >= deadline:
                return events

    def run_until(self, done: Callable[[object], bool], timeout: float) -> list[object]:
        """Pump until an event satisfies ``done`` or ``timeout`` seconds pass; every event seen
        is returned (the satisfying one last)."""
        seen: list[object] = []
        deadline = self.now() + timeout
        while True:
            left = deadline - self.now()
            if left <= 0:
                return seen
            for event in self.poll(left):
                seen.append(event)
                if done(event):
                    return seen

    def close(self) -> None:
        for sock in self._socks.values():
            sock.close()

    def __enter__(self) -> UdpIkeAdapter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _read_all(self, sock: socket.socket) -> None:
        local_port = sock.getsockname()[1]
        for _ in range(64):  # then let timers run
            try:
                data, (host, port) = sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. ICMP port unreachable reported on a later read
                continue
            if port != local_port:
                continue
            peer = address_int(host)
            engine_port = IKE_PORT
            if local_port == self.nat_t_port:
                if not data.startswith(NON_ESP_MARKER):
                    continue  # ESP in UDP or a NAT-keepalive
                data = data[len(NON_ESP_MARKER):]
                self._peer_port[peer] = local_port
                engine_port = ENGINE_NAT_T_PORT
            self.received += 1
            self.engine.receive_datagram(data, peer, self.now(), engine_port)

    def _flush(self) -> list[object]:
        for peer, data, engine_port in self.engine.datagrams_with_ports():
            port = self._peer_port.get(peer, self.port)
            if engine_port == ENGINE_NAT_T_PORT and self.nat_t_port is not None:
                port = self._peer_port[peer] = self.nat_t_port
            if port != self.port:
                data = NON_ESP_MARKER + data
            try:
                self._socks[port].sendto(data, (address_text(peer), port))
                self.sent += 1
            except OSError:
                pass  # unreachable peer: the engine's retransmission timer handles it
        events = []
        while (event := self.engine.next_event()) is not None:
            events.append(event)
        return events
