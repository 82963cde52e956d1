"""The step-by-step events (:mod:`iosim.ike.events`) the engine reports for the payloads of a
message, built from the payloads themselves: pure functions, so a line of ``debug crypto
isakmp`` exists only for a payload that was there.

* ``vendor_ids`` -- one ``VendorIdProcessed`` per vendor ID payload, in message order;
* ``identity`` -- the phase-1 ID payload we send or received;
* ``quick_mode_arrival`` -- a quick-mode message's node (the responder opens one), its HASH
  and SA payloads and the proposal walk: each proposal with its transforms, and whether their
  attributes can be read (``parse_esp_transform`` / ``parse_ah_transform``);
* ``quick_mode_payloads`` -- the NONCE, KE (PFS) and ID payloads processed after the SA.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from iosim.ike.constants import ProtocolId
from iosim.ike.events import (
    IdentityPayload,
    IpsecProposalChecked,
    NodeCreated,
    PayloadProcessed,
    VendorIdProcessed,
)
from iosim.ike.payloads import IdPayload, Payload, SaPayload, TransformPayload, VendorIdPayload
from iosim.ike.quick_mode import parse_ah_transform, parse_esp_transform

__all__ = ["identity", "quick_mode_arrival", "quick_mode_payloads", "vendor_ids"]

_PARSE: dict[int, Callable[[TransformPayload], object]] = {
    ProtocolId.PROTO_IPSEC_ESP: parse_esp_transform, ProtocolId.PROTO_IPSEC_AH: parse_ah_transform}


def vendor_ids(peer: int, conn_id: int, payloads: Sequence[Payload]) -> list[VendorIdProcessed]:
    """A ``VendorIdProcessed`` for each vendor ID payload of a message."""
    return [VendorIdProcessed(peer, conn_id, p.data) for p in payloads
            if isinstance(p, VendorIdPayload)]


def identity(peer: int, conn_id: int, payloads: Sequence[Payload], *, sent: bool
             ) -> IdentityPayload | None:
    """The first ID payload of a phase-1 message: its type, IPv4 address (0 for other
    types), protocol and port, its length on the wire and the type of the payload after it."""
    for i, p in enumerate(payloads):
        if isinstance(p, IdPayload):
            after = payloads[i + 1].payload_type if i + 1 < len(payloads) else 0
            address = int.from_bytes(p.data, "big") if len(p.data) == 4 else 0
            return IdentityPayload(peer, conn_id, sent, p.id_type, address, p.protocol_id,
                                   p.port, 8 + len(p.data), int(after))
    return None


def quick_mode_arrival(peer: int, conn_id: int, message_id: int, sa: SaPayload, *,
                       new_node: bool) -> list[object]:
    """A quick-mode message with an SA payload arrived: the node it opens (``new_node``, the
    responder's QM1), HASH and SA processed, then each proposal checked."""
    out: list[object] = [NodeCreated(peer, conn_id, message_id)] if new_node else []
    out += [PayloadProcessed(peer, conn_id, "HASH", message_id),
            PayloadProcessed(peer, conn_id, "SA", message_id)]
    for proposal in sa.proposals:
        parse = _PARSE.get(proposal.protocol_id)
        out.append(IpsecProposalChecked(
            peer, conn_id, proposal.number, proposal.protocol_id,
            tuple((t, parse is not None and parse(t) is not None)
                  for t in proposal.transforms)))
    return out


def quick_mode_payloads(peer: int, conn_id: int, message_id: int, *, pfs: bool, ids: int
                        ) -> list[PayloadProcessed]:
    """The payloads after the SA: NONCE, KE with PFS, and the identities."""
    names = ["NONCE", *(["KE"] if pfs else []), *["ID"] * ids]
    return [PayloadProcessed(peer, conn_id, name, message_id) for name in names]
