"""What the IKEv2 engine tells its caller, one event at a time (``Ikev2Engine.next_event``).

The router acts on some (``ChildUp`` installs an SA pair, ``ChildDeleted`` removes one,
``SaUp`` / ``SaDown`` are IOS's ``%IKEV2-5-SA_UP`` / ``SA_DOWN`` syslog, ``PeerDead`` and
``InitialContact`` forget a peer's pairs); ``PacketSent`` / ``PacketReceived`` and ``Step``
are the trace: they exist for ``debug crypto ikev2``, which prints them in the order the
engine emitted them, and the engine builds them only while its ``trace()`` says someone
listens.
"""

from __future__ import annotations

from dataclasses import dataclass

from iosim.ike.quick_mode import IpsecSaPair, ProxyIdentity
from iosim.ike2.payloads import Payload

__all__ = ["ChildDeleted", "ChildFailed", "ChildUp", "InitialContact", "NegotiationFailed",
           "PacketReceived", "PacketSent", "PeerDead", "SaDown", "SaUp", "Step"]


@dataclass(frozen=True, slots=True)
class SaUp:
    """An IKE SA reached READY (``%IKEV2-5-SA_UP``)."""

    peer: int
    sa_id: int
    local: int
    port: int
    initiator: bool


@dataclass(frozen=True, slots=True)
class SaDown:
    """An IKE SA is gone (``%IKEV2-5-SA_DOWN``): deleted, expired, dead or rekeyed."""

    peer: int
    sa_id: int
    local: int
    port: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChildUp:
    """A CHILD_SA is ready: install its pair (``replaces``: the inbound SPI it rekeyed)."""

    sa: IpsecSaPair
    sa_id: int
    replaces: int | None = None


@dataclass(frozen=True, slots=True)
class ChildDeleted:
    """The peer deleted (or we forgot) the pair with inbound SPI ``spi_in``."""

    peer: int
    spi_in: int


@dataclass(frozen=True, slots=True)
class ChildFailed:
    """A CHILD_SA could not be made: ``notify`` is the RFC 7296 reason (TS_UNACCEPTABLE,
    NO_PROPOSAL_CHOSEN, ...), ``sent`` whether we refused it (else the peer did)."""

    peer: int
    sa_id: int
    proxies: ProxyIdentity | None
    notify: str
    sent: bool


@dataclass(frozen=True, slots=True)
class NegotiationFailed:
    """IKE_SA_INIT or IKE_AUTH failed: ``reason`` in IOS's words, ``notify`` the RFC 7296
    notify involved (AUTHENTICATION_FAILED, NO_PROPOSAL_CHOSEN ...) or ""."""

    peer: int
    sa_id: int
    reason: str
    notify: str
    initiator: bool


@dataclass(frozen=True, slots=True)
class PeerDead:
    """DPD had no answer: the IKE SA and its pairs are gone."""

    peer: int
    sa_id: int


@dataclass(frozen=True, slots=True)
class InitialContact:
    """The peer says it has no other SA with us (rebooted): our older SAs with it went."""

    peer: int
    spis: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PacketSent:
    """A message left (``debug crypto ikev2``'s "Sending Packet")."""

    peer: int
    sa_id: int
    local: int
    port: int
    exchange: str
    response: bool
    message_id: int
    spi_i: bytes
    spi_r: bytes
    payloads: tuple[Payload, ...]  # what it held (debug words them only when on)
    retransmission: bool = False


@dataclass(frozen=True, slots=True)
class PacketReceived:
    """A message arrived and was authenticated (or needed none)."""

    peer: int
    sa_id: int
    local: int
    port: int
    exchange: str
    response: bool
    message_id: int
    spi_i: bytes
    spi_r: bytes
    payloads: tuple[Payload, ...]  # what it held (debug words them only when on)


@dataclass(frozen=True, slots=True)
class Step:
    """One step IOS's debug reports (searching a policy, computing DH, verifying AUTH...)."""

    sa_id: int
    text: str
