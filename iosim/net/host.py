"""A lab host (a PC): one Ethernet interface, one address, a default gateway.

It answers pings and can originate them; its stack does not forward.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface

from iosim.net.routing import Route, RoutingTable
from iosim.net.stack import IpStack

HOST_INTERFACE = "eth0"


class Host:
    """A PC on a LAN segment."""

    def __init__(self, name: str, address: IPv4Interface, gateway: IPv4Address | None) -> None:
        self.name = name
        self.address = address
        self.gateway = gateway
        self.stack: IpStack | None = None
        self.counters: dict[str, int] = {"in": 0, "out": 0}
        table = RoutingTable()
        table.add_connected(HOST_INTERFACE, int(address.ip), address.network.prefixlen)
        if gateway is not None:
            table.add(Route.static(0, 0, int(gateway)))
        self._table = table

    def interface_is_up(self, interface: str) -> bool:
        return interface == HOST_INTERFACE

    def speaks_arp(self, interface: str) -> bool:
        return interface == HOST_INTERFACE

    def interface_addresses(self, interface: str) -> list[tuple[int, int]]:
        if interface != HOST_INTERFACE:
            return []
        return [(int(self.address.ip), self.address.network.prefixlen)]

    def routing_table(self) -> RoutingTable:
        return self._table

    def count(self, interface: str, direction: str, frame: bytes) -> None:
        self.counters[direction] += 1

    def count_floods(self, interface: str, frames: int, octets: int, bits: float,
                     packets: float, last: float) -> None:
        """Broadcasts a segment kept for the host's interface, counted as received."""
        self.counters["in"] += frames
