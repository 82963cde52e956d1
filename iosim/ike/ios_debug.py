"""What IOS's ``debug crypto isakmp`` says for each thing the IKE engine reports: pure tables
and functions from events (:mod:`iosim.ike.events`) to lines of text.

The words, their spacing and their order are the classic IOS 15 trace's (``ISAKMP:(1001):``,
with a space after the colon where IOS puts one: ``ISAKMP:(1001): processing HASH payload``);
where the classic capture has no such line, the IOS-XE captures' words in IOS 15's layout
(the responder's side, NAT-T, the quick-mode proposal walk, the install callback). A line
that spans several lines of text (an ID payload, ``SA authentication status``) is one string
with newlines: the router stamps its first line only.

``render(event, profiles)`` gives the lines of one event (``profiles``: the names of the
ISAKMP profiles that match the peer, for the lines that list them), or None for an event this
module does not word; ``state_input`` is the ``Input = ...`` of a state transition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iosim.ike.constants import (
    EncapsulationMode,
    IdType,
    IpsecAttributeType,
    LifeType,
    NotifyType,
    ProtocolId,
)
from iosim.ike.events import (
    IdentityPayload,
    IpsecProposalChecked,
    LifetimeAccepted,
    NatDChecked,
    NodeCreated,
    NodeDeleted,
    NodePurged,
    Note,
    NoteKind,
    NotifyProcessed,
    NotifyRejected,
    NotifySent,
    PacketSent,
    PayloadProcessed,
    PeerInserted,
    PeerLocked,
    PortFloated,
    QuickModeRequested,
    SaInserted,
    SaRequestAbandoned,
    VendorIdProcessed,
    VendorIdsMade,
)
from iosim.ike.main_mode import StateChanged
from iosim.ike.payloads import DataAttribute, TransformPayload
from iosim.ike.vendor_ids import vendor_id_words
from iosim.ipsec.transforms import ENCRYPTION_TRANSFORMS, ESP_INTEGRITY_TRANSFORMS

__all__ = ["QM_IDLE", "render", "signed_message_id", "state_input"]

QM_IDLE = "QM_IDLE      "  # IOS pads the state name to 13 columns in these lines

_FROM_PEER_MM = "IKE_MESG_FROM_PEER, IKE_MM_EXCH"
_FROM_PEER_AM = "IKE_MESG_FROM_PEER, IKE_AM_EXCH"
_PROCESS = "IKE_MESG_INTERNAL, IKE_PROCESS_MAIN_MODE"
_COMPLETE = "IKE_MESG_INTERNAL, IKE_PROCESS_COMPLETE"

#: (old state, new state) -> the input IOS names; a state kept is IKE_PROCESS_MAIN_MODE.
_INPUTS = {
    ("IKE_READY", "IKE_I_MM1"): "IKE_MESG_FROM_IPSEC, IKE_SA_REQ_MM",
    ("IKE_READY", "IKE_I_AM1"): "IKE_MESG_FROM_IPSEC, IKE_SA_REQ_AM",
    ("IKE_READY", "IKE_R_MM1"): _FROM_PEER_MM,
    ("IKE_READY", "IKE_R_AM1"): _FROM_PEER_AM,
    ("IKE_I_MM1", "IKE_I_MM2"): _FROM_PEER_MM,
    ("IKE_I_MM2", "IKE_I_MM3"): _COMPLETE,
    ("IKE_I_MM3", "IKE_I_MM4"): _FROM_PEER_MM,
    ("IKE_I_MM4", "IKE_I_MM5"): _COMPLETE,
    ("IKE_I_MM5", "IKE_I_MM6"): _FROM_PEER_MM,
    ("IKE_I_MM6", "IKE_P1_COMPLETE"): _COMPLETE,
    ("IKE_R_MM1", "IKE_R_MM2"): _COMPLETE,
    ("IKE_R_MM2", "IKE_R_MM3"): _FROM_PEER_MM,
    ("IKE_R_MM3", "IKE_R_MM4"): _COMPLETE,
    ("IKE_R_MM4", "IKE_R_MM5"): _FROM_PEER_MM,
    ("IKE_R_MM5", "IKE_P1_COMPLETE"): _COMPLETE,
    ("IKE_I_AM1", "IKE_I_AM2"): _FROM_PEER_AM,
    ("IKE_I_AM2", "IKE_P1_COMPLETE"): _COMPLETE,
    ("IKE_R_AM1", "IKE_R_AM2"): _COMPLETE,
    ("IKE_R_AM2", "IKE_R_AM3"): _FROM_PEER_AM,
    ("IKE_R_AM3", "IKE_P1_COMPLETE"): _COMPLETE,
    ("IKE_P1_COMPLETE", "IKE_P1_COMPLETE"): "IKE_MESG_INTERNAL, IKE_PHASE1_COMPLETE",
    ("IKE_QM_READY", "IKE_QM_I_QM1"): "IKE_MESG_INTERNAL, IKE_INIT_QM",
    ("IKE_QM_I_QM1", "IKE_QM_IPSEC_INSTALL_AWAIT"): "IKE_MESG_FROM_PEER, IKE_QM_EXCH",
    ("IKE_QM_IPSEC_INSTALL_AWAIT", "IKE_QM_PHASE2_COMPLETE"):
        "IKE_MESG_FROM_IPSEC, IPSEC_INSTALL_DONE",
    ("IKE_QM_READY", "IKE_QM_SPI_STARVE"): "IKE_MESG_FROM_PEER, IKE_QM_EXCH",
    ("IKE_QM_SPI_STARVE", "IKE_QM_IPSEC_INSTALL_AWAIT"): "IKE_MESG_INTERNAL, IKE_GOT_SPI",
    ("IKE_QM_IPSEC_INSTALL_AWAIT", "IKE_QM_R_QM2"): "IKE_MESG_FROM_IPSEC, IPSEC_INSTALL_DONE",
    ("IKE_QM_R_QM2", "IKE_QM_PHASE2_COMPLETE"): "IKE_MESG_FROM_PEER, IKE_QM_EXCH",
    ("IKE_QM_READY", "IKE_QM_READY"): "IKE_MESG_FROM_PEER, IKE_QM_EXCH",
}


def state_input(old: str, new: str) -> str | None:
    """The ``Input = ...`` words IOS prints before this transition (None if unknown)."""
    if old == new and ("_MM" in old or "_AM" in old):
        return _PROCESS
    return _INPUTS.get((old, new))


def signed_message_id(message_id: int) -> int:
    """A message ID as IOS's debug prints it: a signed 32-bit number."""
    return message_id - (1 << 32) if message_id >= 1 << 31 else message_id


def _ip(address: int) -> str:
    return f"{address >> 24 & 255}.{address >> 16 & 255}.{address >> 8 & 255}.{address & 255}"


# --- where IOS keeps things: the numbers it prints as addresses ---------------------------------


def _struct_address(handle: int) -> int:
    """The "address" of peer struct ``handle`` (IOS prints its pointer)."""
    return 0x66440000 + 0x1A0 * handle


def _sa_address(handle: int) -> int:
    return 0x66820000 + 0x2C8 * handle


def peer_struct_text(handle: int) -> str:
    """A peer struct as ``IPSEC(get_old_outbound_sa_for_peer)`` names it."""
    return f"{_struct_address(handle):X}"


# --- one function per event ----------------------------------------------------------------------


def _state(e: StateChanged) -> list[str]:
    """The state machine's input (with the quick mode's node, signed), then Old/New State;
    IOS ends a phase-1 state line with a space and a blank line, a quick-mode one bare."""
    out = []
    words = e.input or state_input(e.old, e.new)
    if words is not None:
        node = f"Node {signed_message_id(e.message_id)}, " if e.message_id is not None else ""
        out.append(f"ISAKMP:({e.conn_id}):{node}Input = {words}")
    tail = "" if e.new.startswith("IKE_QM") else " \n"
    out.append(f"ISAKMP:({e.conn_id}):Old State = {e.old}  New State = {e.new}{tail}")
    return out


#: The fixed lines of each ``Note`` ({c}: conn-id, {peer}: the peer's address).
NOTES: dict[NoteKind, tuple[str, ...]] = {
    NoteKind.MAIN_MODE_INSTEAD: ("ISAKMP:({c}):Can not start Aggressive mode, trying Main mode.",),
    NoteKind.BEGIN_MAIN: ("ISAKMP:({c}): beginning Main Mode exchange",),
    NoteKind.BEGIN_AGGRESSIVE: ("ISAKMP:({c}): beginning Aggressive Mode exchange",),
    NoteKind.PSK_FOUND: ("ISAKMP:({c}):found peer pre-shared key matching {peer}",),
    NoteKind.PSK_LOCAL: ("ISAKMP:({c}):found peer pre-shared key matching {peer}",
                         "ISAKMP:({c}): local preshared key found",
                         "ISAKMP : Scanning profiles for xauth ...{profiles}"),
    NoteKind.PSK_MISSING: ("ISAKMP:({c}):No pre-shared key with {peer}!",),
    NoteKind.SEND_INITIAL_CONTACT: ("ISAKMP:({c}):Send initial contact",),
    NoteKind.AUTHENTICATED: ("ISAKMP:({c}):SA authentication status:\tauthenticated",
                             "ISAKMP:({c}):SA has been authenticated with {peer}"),
    NoteKind.QM_INITIATOR_SPI: ("ISAKMP:({c}):QM Initiator gets spi",),
    NoteKind.QM_RESPONDER_SPI: ("ISAKMP:({c}):QM Responder gets spi",),
}


def _note(e: Note, profiles: tuple[str, ...]) -> list[str]:
    names = "".join(f" {name}" for name in profiles)
    return [line.format(c=e.conn_id, peer=_ip(e.peer), profiles=names)
            for line in NOTES[e.kind]]


def _peer_locked(e: PeerLocked) -> list[str]:
    address = _struct_address(e.handle)
    if e.refcount == 1:
        out = [f"ISAKMP: Created a peer struct for {_ip(e.peer)}, peer port {e.port}",
               f"ISAKMP: New peer created peer = 0x{address:X} "
               f"peer_handle = 0x{0x80000001 + e.handle:X}"]
    else:
        out = [f"ISAKMP: Found a peer struct for {_ip(e.peer)}, peer port {e.port}"]
    who = "isakmp_initiator" if e.initiator else "crypto_isakmp_process_block"
    return out + [f"ISAKMP: Locking peer struct 0x{address:X}, refcount {e.refcount} for {who}",
                  f"ISAKMP: local port 500, remote port {e.port}"]


def _sa_inserted(e: SaInserted) -> list[str]:
    node = [f"ISAKMP: set new node 0 to {QM_IDLE}"] if e.initiator else []
    return node + [f"ISAKMP:(0):insert sa successfully sa = {_sa_address(e.handle):X}"]


def _sa_request_abandoned(e: SaRequestAbandoned) -> list[str]:
    """No key to start main mode with (after "No pre-shared key with A!"): the initial
    message is not built, the SA is purged, its peer struct let go, and IPsec's SA request
    fails (debug-crypto-failures.txt A, in IOS 15's prefixes)."""
    address = _struct_address(e.struct)
    out = ["ISAKMP:(0):No Cert or pre-shared address key. ",
           "ISAKMP:(0):construct_initial_message: Can not start Main mode",
           f"ISAKMP: Unlocking peer struct 0x{address:X} for isadb_unlock_peer_delete_sa(), "
           f"count {e.refcount}"]
    if e.refcount == 0:
        out.append(f"ISAKMP: Deleting peer node by peer_reap for {_ip(e.peer)}: {address:X}")
    sa = _sa_address(e.handle)
    return out + [f"ISAKMP:(0):purging SA., sa={sa:X}, delme={sa:X}",
                  "ISAKMP:(0):Error while processing SA request: Failed to initialize SA",
                  "ISAKMP:(0):Error while processing KMI message 0, error 2"]


def _notify_rejected(e: NotifyRejected) -> list[str]:
    """An unprotected notify during phase 1: rejected, the state machine does not move."""
    c = e.conn_id
    return [f"ISAKMP:({c}):Notify has no hash. Rejected.",
            f"ISAKMP (0:{c}): Unknown Input IKE_MESG_FROM_PEER, IKE_INFO_NOTIFY:  "
            f"state = {e.state}",
            *_state(StateChanged(e.peer, c, e.state, e.state,
                                 input="IKE_MESG_FROM_PEER, IKE_INFO_NOTIFY"))]


def _peer_inserted(e: PeerInserted) -> list[str]:
    return [f"ISAKMP: Trying to insert a peer {_ip(e.local)}/{_ip(e.peer)}/{e.port}/,  "
            f"and inserted successfully {_struct_address(e.handle):X}."]


def _payload(e: PayloadProcessed) -> list[str]:
    return [f"ISAKMP:({e.conn_id}): processing {e.payload} payload. message ID = "
            f"{signed_message_id(e.message_id)}"]


def _vendor_id(e: VendorIdProcessed) -> list[str]:
    return [f"ISAKMP:({e.conn_id}): processing vendor id payload",
            *(f"ISAKMP:({e.conn_id}):{words}" for words in vendor_id_words(e.data))]


def _vendor_ids_made(e: VendorIdsMade) -> list[str]:
    return [f"ISAKMP:({e.conn_id}): constructed NAT-T vendor-{name} ID" for name in e.names]


def _nat_d(e: NatDChecked) -> list[str]:
    """IOS's words for each NAT-D payload (captures: no NAT, and a peer behind one): a hash
    that is the peer's says nothing; our own, or a peer's that a NAT rewrote, "His hash no
    match"; the first one not ours, "My hash no match" (we are behind a NAT). Once both
    hashes were found: no NAT."""
    out: list[str] = []
    prefix = f"ISAKMP (0:{e.conn_id}): "
    seen: set[str] = set()
    for i, match in enumerate(e.matches):
        out.append("ISAKMP:received payload type 20")
        if match == "his":
            pass
        elif i == 0 and match != "mine":
            out.append(prefix + "My hash no match - this node inside NAT")
        else:
            out.append(prefix + "His hash no match - this node outside NAT")
        if match not in seen and match != "none" and seen | {match} == {"mine", "his"}:
            out.append(prefix + "No NAT Found for self or peer")
        seen.add(match)
    return out


def _lifetime(e: LifetimeAccepted) -> list[str]:
    """The lifetime lines after "atts are acceptable": the actual life is 0 when both
    sides' lifetimes agree; a duration that needed four bytes is "filled" in."""
    c = e.conn_id
    actual = 0 if e.offered == e.own else e.lifetime
    out = [f"ISAKMP:({c}):Acceptable atts:actual life: {actual}",
           f"ISAKMP:({c}):Acceptable atts:life: 0"]
    if e.basic:
        out.append(f"ISAKMP:({c}):Basic life_in_seconds:{e.offered}")
    else:
        out += [f"ISAKMP:({c}):Fill atts in sa vpi_length:4",
                f"ISAKMP:({c}):Fill atts in sa life_in_seconds:{e.offered}"]
    return out + [f"ISAKMP:({c}):Returning Actual lifetime: {e.lifetime}",
                  f"ISAKMP:({c})::Started lifetime timer: {e.lifetime}.\n"]


_ID_TYPES: dict[int, str] = {IdType.ID_IPV4_ADDR: "ID_IPV4_ADDR", IdType.ID_FQDN: "ID_FQDN",
             IdType.ID_USER_FQDN: "ID_USER_FQDN", IdType.ID_KEY_ID: "ID_KEY_ID"}


def _identity(e: IdentityPayload, profiles: tuple[str, ...]) -> list[str]:
    """An ID payload's block; ours with the authentication it serves and its length, the
    peer's with the ISAKMP profiles it matches."""
    block = (f"ISAKMP (0:{e.conn_id}): ID payload \n"
             f"\tnext-payload : {e.next_payload}\n"
             f"\ttype         : {e.id_type} \n"
             f"\taddress      : {_ip(e.address)} \n"
             f"\tprotocol     : {e.protocol} \n"
             f"\tport         : {e.port} \n"
             f"\tlength       : {e.length}")
    if e.sent:
        kind = _ID_TYPES.get(e.id_type, str(e.id_type))
        return [f"ISAKMP:({e.conn_id}):SA is doing pre-shared key authentication using id "
                f"type {kind}", block, f"ISAKMP:({e.conn_id}):Total payload length: {e.length}"]
    matched = (f"peer matches {profiles[0]} profile" if profiles
               else "peer matches *none* of the profiles")
    return [block, f"ISAKMP:(0):: {matched}"]


#: IOS's name of a notify (RFC 2408 3.14.1 / RFC 3706), where it is not the RFC's.
_NOTIFY_NAMES: dict[int, str] = {NotifyType.NO_PROPOSAL_CHOSEN: "PROPOSAL_NOT_CHOSEN",
                 NotifyType.R_U_THERE: "DPD/R_U_THERE",
                 NotifyType.R_U_THERE_ACK: "DPD/R_U_THERE_ACK"}


def notify_name(notify: int) -> str:
    """A notify type as ``debug crypto isakmp`` names it."""
    if notify in _NOTIFY_NAMES:
        return _NOTIFY_NAMES[notify]
    try:
        return NotifyType(notify).name
    except ValueError:
        return str(notify)


def _notify_processed(e: NotifyProcessed) -> list[str]:
    return [f"ISAKMP:({e.conn_id}): processing NOTIFY {notify_name(e.notify)} protocol "
            f"{e.protocol}"]


def _notify_sent(e: NotifySent) -> list[str]:
    return [f"ISAKMP:({e.conn_id}):Sending NOTIFY {notify_name(e.notify)} protocol "
            f"{e.protocol}"]


def _packet_sent(e: PacketSent) -> list[str]:
    role = "I" if e.initiator else "R"
    state = QM_IDLE if e.state == "QM_IDLE" else e.state
    return [f"ISAKMP:({e.conn_id}): sending packet to {_ip(e.peer)} my_port {e.port} "
            f"peer_port {e.port} ({role}) {state}",
            f"ISAKMP:({e.conn_id}):Sending an IKE IPv4 Packet."]


def _node_created(e: NodeCreated) -> list[str]:
    return [f"ISAKMP: set new node {signed_message_id(e.message_id)} to {QM_IDLE}"]


def _node_deleted(e: NodeDeleted) -> list[str]:
    return [f"ISAKMP:({e.conn_id}):deleting node {signed_message_id(e.message_id)} error "
            f'{"TRUE" if e.error else "FALSE"} reason "{e.reason}"']


def _node_purged(e: NodePurged) -> list[str]:
    return [f"ISAKMP:({e.conn_id}):purging node {signed_message_id(e.message_id)}"]


def _port_floated(e: PortFloated) -> list[str]:
    return [f"ISAKMP:({e.conn_id}):Detected port floating to port = {e.port}"]


def _quick_mode_requested(e: QuickModeRequested) -> list[str]:
    return [f"ISAKMP:({e.conn_id}):SA has outstanding requests  (local {_ip(e.local)} port "
            f"{e.port}, remote {_ip(e.peer)} port {e.port})",
            f"ISAKMP:({e.conn_id}):sitting IDLE. Starting QM immediately ({QM_IDLE})"]


# --- the quick-mode proposal walk ----------------------------------------------------------------

#: RFC 2407 4.4.3 / RFC 4868 names of the AH transform IDs; ESP's and the HMACs' debug names
#: are the transform tables' (``debug_name``)
_AH_NAMES = {2: "AH_MD5", 3: "AH_SHA", 5: "AH_SHA256", 6: "AH_SHA384", 7: "AH_SHA512"}
_ESP_NAMES = {row.doi_transform_id: row.debug_name for row in ENCRYPTION_TRANSFORMS.values()}
_AUTH_NAMES = {row.auth_algorithm: row.debug_name for row in ESP_INTEGRITY_TRANSFORMS.values()}
_MODE_NAMES: dict[int, str] = {
    EncapsulationMode.TUNNEL: "Tunnel", EncapsulationMode.TRANSPORT: "Transport",
    EncapsulationMode.UDP_ENCAPSULATED_TUNNEL: "Tunnel-UDP",
    EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT: "Transport-UDP"}


def _duration(attr: DataAttribute) -> str:
    if isinstance(attr.value, int):
        return f"SA life duration (basic) of {attr.value}"
    return "SA life duration (VPI) of  " + " ".join(f"0x{b:x}" for b in attr.value[:16]) + " "


_IPSEC_ATTRIBUTES: dict[int, Callable[[DataAttribute], str]] = {
    IpsecAttributeType.ENCAPSULATION_MODE:
        lambda a: f"encaps is {a.as_int()} ({_MODE_NAMES.get(a.as_int(), 'unknown')})",
    IpsecAttributeType.SA_LIFE_TYPE:
        lambda a: ("SA life type in seconds" if a.as_int() == LifeType.SECONDS
                   else "SA life type in kilobytes"),
    IpsecAttributeType.SA_LIFE_DURATION: _duration,
    IpsecAttributeType.AUTHENTICATION_ALGORITHM:
        lambda a: f"authenticator is {_AUTH_NAMES.get(a.as_int(), str(a.as_int()))}",
    IpsecAttributeType.KEY_LENGTH: lambda a: f"key length is {a.as_int()}",
    IpsecAttributeType.GROUP_DESCRIPTION: lambda a: f"group is {a.as_int()}",
}


def _transform(protocol_id: int, t: TransformPayload) -> list[str]:
    """``transform 1, ESP_AES`` and its attributes in the order they came."""
    names = _AH_NAMES if protocol_id == ProtocolId.PROTO_IPSEC_AH else _ESP_NAMES
    out = [f"ISAKMP: transform {t.number}, {names.get(t.transform_id, str(t.transform_id))} ",
           "ISAKMP:   attributes in transform:"]
    for attr in t.attributes:
        word = _IPSEC_ATTRIBUTES.get(attr.attribute_type)
        text = (word(attr) if word is not None
                else f"attribute {attr.attribute_type} = {attr.as_int()}")
        out.append(f"ISAKMP:      {text}")
    return out


def _proposal(e: IpsecProposalChecked) -> list[str]:
    out = [f"ISAKMP:({e.conn_id}):Checking IPSec proposal {e.number}"]
    for t, acceptable in e.transforms:
        out += _transform(e.protocol_id, t)
        out.append(f"ISAKMP:({e.conn_id}):atts are {'' if acceptable else 'not '}acceptable.")
    return out


_RENDER: dict[type, Callable[[Any], list[str]]] = {
    StateChanged: _state,
    PeerLocked: _peer_locked,
    SaInserted: _sa_inserted,
    SaRequestAbandoned: _sa_request_abandoned,
    NotifyRejected: _notify_rejected,
    PeerInserted: _peer_inserted,
    PayloadProcessed: _payload,
    VendorIdProcessed: _vendor_id,
    VendorIdsMade: _vendor_ids_made,
    NatDChecked: _nat_d,
    LifetimeAccepted: _lifetime,
    NotifyProcessed: _notify_processed,
    NotifySent: _notify_sent,
    PacketSent: _packet_sent,
    NodeCreated: _node_created,
    NodeDeleted: _node_deleted,
    NodePurged: _node_purged,
    PortFloated: _port_floated,
    QuickModeRequested: _quick_mode_requested,
    IpsecProposalChecked: _proposal,
}


def render(event: object, profiles: tuple[str, ...] = ()) -> list[str] | None:
    """The ``debug crypto isakmp`` lines of ``event`` (``profiles``: the ISAKMP profiles
    matching the peer), or None for an event worded elsewhere."""
    if isinstance(event, Note):
        return _note(event, profiles)
    if isinstance(event, IdentityPayload):
        return _identity(event, profiles)
    renderer = _RENDER.get(type(event))
    return renderer(event) if renderer is not None else None
