"""``debug crypto ikev2`` and IKEv2 syslog in IOS 15's words, from engine events (pure).

``render(event)`` gives the debug lines of one event (none for an event IOS says nothing
about); ``render_for(event, levels)`` those of the levels asked for: ``debug crypto ikev2``
turns on every line ("default"), ``debug crypto ikev2 packet`` the packets sent and received
alone ("packet"), ``debug crypto ikev2 error`` the failures alone ("error"). ``syslog(event,
...)`` is the ``%IKEV2-5-...`` message, if any. A debug message is prefixed with
``IKEv2:(SESSION ID = n,SA ID = n):`` as IOS does once the SA exists, an error's with
``IKEv2-ERROR:``.
"""

from __future__ import annotations

from collections.abc import Collection

from iosim.ike.quick_mode import ProxyIdentity
from iosim.ike2.events import (
    ChildFailed,
    NegotiationFailed,
    PacketReceived,
    PacketSent,
    SaDown,
    SaUp,
    Step,
)
from iosim.ike2.payloads import payload_names

__all__ = ["DEFAULT", "ERROR", "PACKET", "initiate_tunnel", "render", "render_for", "syslog"]

#: the levels of a debug line: every line is "default"; packets and errors are also their own
DEFAULT, PACKET, ERROR = "default", "packet", "error"


def _ip(value: int) -> str:
    return ".".join(str(value >> s & 255) for s in (24, 16, 8, 0))


def _prefix(sa_id: int, session: int = 0, tag: str = "IKEv2") -> str:
    """``IKEv2:(SESSION ID = s,SA ID = a):``; an SA a rekey made carries on its session.
    ``tag``: ``IKEv2-ERROR`` for an error's line."""
    if not sa_id:
        return f"{tag}:"
    return f"{tag}:(SESSION ID = {session or sa_id},SA ID = {sa_id}):"


def _packet(e: PacketSent | PacketReceived, contents: str, session: int) -> str:
    here = f"{_ip(e.local)}:{e.port}"
    there = f"{_ip(e.peer)}:{e.port}"
    if isinstance(e, PacketSent):
        head = f"Sending Packet [To {there}/From {here}/VRF i0:f0] "
    else:
        head = f"Received Packet [From {there}/To {here}/VRF i0:f0] "
    kind = "RESPONSE" if e.response else "REQUEST"
    return (f"{_prefix(e.sa_id, session)}{head}\n"
            f"Initiator SPI : {e.spi_i.hex().upper()} - Responder SPI : "
            f"{e.spi_r.hex().upper()} Message id: {e.message_id}\n"
            f"IKEv2 {e.exchange} Exchange {kind} \n"
            f"Payload contents: \n {contents} ")


def _sent(e: PacketSent, session: int) -> list[tuple[str, str]]:
    """A message sent: every exchange after IKE_SA_INIT is encrypted, so IOS lists its
    payloads as it builds the plaintext and the packet as the one Encrypted payload."""
    if e.exchange == "IKE_SA_INIT":
        return [(PACKET, _packet(e, payload_names(e.payloads), session))]
    return [(DEFAULT, f"{_prefix(e.sa_id, session)}Building packet for encryption.  \n"
                      f"Payload contents: \n {payload_names(e.payloads)} "),
            (PACKET, _packet(e, "ENCR", session))]


def _levelled(event: object, session: int) -> list[tuple[str, str]]:
    """The debug lines of one engine event, each with its level."""
    if isinstance(event, PacketSent):
        return _sent(event, session)
    if isinstance(event, PacketReceived):  # decrypted: IOS lists what the peer sent inside
        return [(PACKET, _packet(event, payload_names(event.payloads), session))]
    if isinstance(event, Step):
        return [(DEFAULT, f"{_prefix(event.sa_id, session)}{event.text}")]
    if isinstance(event, NegotiationFailed):
        # the initiator's reason names the notify it received; the responder's debug said
        # which notify it sent before the packet that carried it
        return [(ERROR, f"{_prefix(event.sa_id, session, 'IKEv2-ERROR')}{event.reason}"),
                (DEFAULT, f"{_prefix(event.sa_id, session)}Negotiation aborted due to ERROR: "
                          f"{event.reason}")]
    if isinstance(event, ChildFailed):
        how = "Sending" if event.sent else "Received"
        return [(DEFAULT, f"{_prefix(event.sa_id, session)}{how} notify: {event.notify}"),
                (ERROR, f"{_prefix(event.sa_id, session, 'IKEv2-ERROR')}"
                        "Create child exchange failed")]
    if isinstance(event, SaUp):
        return [(DEFAULT, f"{_prefix(event.sa_id, session)}Session with IKE ID PAIR "
                          f"({_ip(event.local)}, {_ip(event.peer)}) is UP")]
    return []


def render(event: object, session: int = 0) -> list[str]:
    """The debug lines IOS prints for one engine event under ``debug crypto ikev2``;
    ``session``: the session its SA carries on (0: the SA's own id)."""
    return [line for _, line in _levelled(event, session)]


def render_for(event: object, levels: Collection[str], session: int = 0) -> list[str]:
    """The lines of one engine event that the debug ``levels`` turned on print ("default":
    all of them; "packet": the packets sent and received; "error": the failures)."""
    if DEFAULT in levels:
        return render(event, session)
    return [line for level, line in _levelled(event, session) if level in levels]


def syslog(event: object, local: int, port: int) -> str | None:
    """``%IKEV2-5-SA_UP`` / ``SA_DOWN`` as IOS 15 logs them."""
    if isinstance(event, SaUp):
        return "%IKEV2-5-SA_UP: SA UP"
    if isinstance(event, SaDown):
        return "%IKEV2-5-SA_DOWN: SA DOWN"
    return None


def _range(net: int, mask: int, protocol: int, port: int) -> str:
    high = net | (~mask & 0xFFFFFFFF)
    ports = f"{port}-{port}" if port else "0-65535"
    return (f"Address Range: {_ip(net)}-{_ip(high)} Protocol: {protocol or 256} "
            f"Port Range: {ports}")


def initiate_tunnel(p: ProxyIdentity) -> str:
    """``%IKEV2-5-OSAL_INITIATE_TUNNEL``: traffic asked for a tunnel."""
    local = _range(p.local_net, p.local_mask, p.protocol, p.local_port)
    remote = _range(p.remote_net, p.remote_mask, p.protocol, p.remote_port)
    return ("%IKEV2-5-OSAL_INITIATE_TUNNEL: Received request to establish an IPsec tunnel; "
            f"local traffic selector = {local} ; remote traffic selector = {remote}")
