"""Cleartext that had to arrive protected: ``%CRYPTO-4-RECVD_PKT_NOT_IPSEC``.

Theory of operation
-------------------
Two places drop a packet that arrived in clear although the router's crypto configuration
says it must arrive inside IPsec, and both report it here:

* the crypto data path's inbound check: on an interface with a crypto map, a packet (not
  ESP, AH or IKE for the router) that an entry's ACL permits (read as the mirror image, as
  the peer's traffic is read);
* the tunnel plane: GRE between a protected tunnel's endpoints (``tunnel protection``) that
  no SA of the tunnel decrypted -- the far end sends its tunnel's GRE unprotected. IOS sees
  this through the tunnel's crypto map (``Tunnel0-head-0``, ``permit gre host SOURCE host
  DESTINATION``), so the message is the same.

The message names the packet as it arrived: its destination, its source and its IP protocol
number (``prot= 47`` for GRE, ``1`` for ICMP). The ``vrf/`` field is empty, as iosim routes
in the global table:

    %CRYPTO-4-RECVD_PKT_NOT_IPSEC: Rec'd packet not an IPSEC packet. (ip) vrf/dest_addr=
    /203.0.113.2, src_addr= 198.51.100.2, prot= 47

(one line on IOS). **Rate**: at most one message every :data:`LOG_INTERVAL` seconds for the
router, whatever the flow; the packets in between are dropped and counted without a word.
The evidence: a DMVPN hub's log recorded on real IOS while a spoke, its tunnel protection
removed, kept sending the hub clear GRE (its EIGRP hellos every five seconds -- the hub's
neighbours showed a 15 s hold time -- and its NHRP registrations) shows the message at
07:17:18.037 and next at 07:18:19.217, 61 s later, with nothing between, although the hub's
own tunnel went down and up in that minute; notes written over such tickets on real routers
describe it as "about once a minute". One flow cannot tell a limit per flow from one per
router; IOS's logger limits a message definition as a whole (one limiter per message, the
slowest of its standard rates being one minute), and a limit for the router is the least
noisy reading: cleartext from many (perhaps forged) sources costs one line a minute, as
``%CRYPTO-4-RECVD_PKT_INV_SPI`` is limited for the router (:mod:`iosim.ipsec.invalid_spi`).
A reload starts afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from iosim.net.packets import format_ip

if TYPE_CHECKING:
    from iosim.clock import VirtualClock
    from iosim.router import Router

__all__ = ["LOG_INTERVAL", "NotIpsecCounters", "NotIpsecLog", "not_ipsec_message"]

LOG_INTERVAL = 60.0  # seconds between RECVD_PKT_NOT_IPSEC messages of one router


def not_ipsec_message(dst: int, src: int, protocol: int) -> str:
    """The message for a packet from ``src`` to ``dst`` of IP protocol ``protocol``."""
    return ("%CRYPTO-4-RECVD_PKT_NOT_IPSEC: Rec'd packet not an IPSEC packet. (ip) "
            f"vrf/dest_addr= /{format_ip(dst)}, src_addr= {format_ip(src)}, "
            f"prot= {protocol}")


@dataclass
class NotIpsecCounters:
    """The cleartext packets dropped for want of IPsec, and how many were logged."""

    packets: int = 0
    logged: int = 0
    quiet: int = 0  # within the quiet interval after a message: dropped without one


class NotIpsecLog:
    """The router's report of cleartext it required protected (see the module docstring)."""

    def __init__(self, router: Router, clock: VirtualClock) -> None:
        self.router = router
        self.clock = clock
        self.counters = NotIpsecCounters()
        self._quiet_until: float | None = None

    def reset(self) -> None:
        """A reload forgets when the last message was logged."""
        self._quiet_until = None

    def packet(self, dst: int, src: int, protocol: int) -> None:
        """A packet from ``src`` to ``dst`` (IP protocol ``protocol``) arrived in clear where
        it had to be protected; it is already dropped."""
        now = self.clock.now
        self.counters.packets += 1
        if self._quiet_until is not None and now < self._quiet_until:
            self.counters.quiet += 1
            return
        self._quiet_until = now + LOG_INTERVAL
        self.counters.logged += 1
        self.router.log(not_ipsec_message(dst, src, protocol))
