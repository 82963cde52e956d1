"""IOS's words for the engine's events (iosim.ike.ios_debug, iosim.ike.vendor_ids), against
the lines of the captured traces they come from (reference ``debug_crypto`` captures)."""

from __future__ import annotations

import pytest

from iosim.ike.constants import IpsecAttributeType, LifeType, NotifyType, ProtocolId
from iosim.ike.dpd import DPD_VID
from iosim.ike.events import (
    IdentityPayload,
    IpsecProposalChecked,
    LifetimeAccepted,
    NatDChecked,
    NodeCreated,
    NodeDeleted,
    Note,
    NoteKind,
    NotifyProcessed,
    PacketSent,
    PeerLocked,
    SaInserted,
    VendorIdsMade,
)
from iosim.ike.ios_debug import render
from iosim.ike.main_mode import StateChanged
from iosim.ike.payloads import DataAttribute, TransformPayload
from iosim.ike.vendor_ids import (
    IOS_VID,
    MM1_VIDS,
    NAT_T_VIDS,
    UNITY_VID,
    XAUTH_VID,
    vendor_id_words,
)

PEER = 0xCB007101  # 203.0.113.1


@pytest.mark.parametrize(("vid", "words"), [
    # ios-public/debug_crypto/...IOSXE16_responder_NAT-T: the four NAT-T IDs of an IOS MM1
    (NAT_T_VIDS["rfc3947"], [" vendor ID seems Unity/DPD but major 69 mismatch",
                             " vendor ID is NAT-T RFC 3947"]),
    (NAT_T_VIDS["07"], [" vendor ID seems Unity/DPD but major 245 mismatch",
                        " vendor ID is NAT-T v7"]),
    (NAT_T_VIDS["03"], [" vendor ID seems Unity/DPD but major 157 mismatch",
                        " vendor ID is NAT-T v3"]),
    (NAT_T_VIDS["02"], [" vendor ID seems Unity/DPD but major 123 mismatch",
                        " vendor ID is NAT-T v2"]),
    # ...IOSXE17_initiator: what an IOS responder puts in MM4
    (UNITY_VID, [" vendor ID is Unity"]),
    (DPD_VID, [" vendor ID is DPD"]),
    (IOS_VID, [" speaking to another IOS box!"]),
    # the classic trace: an unknown 16-byte ID with the right major (no leading space there)
    (bytes(14) + b"\x01\x00", ["vendor ID seems Unity/DPD but hash mismatch"]),
    # strongSwan's: byte 14 is 0x5b
    (bytes.fromhex("882fe56d6fd20dbc2251613b2ebe5beb"),
     [" vendor ID seems Unity/DPD but major 91 mismatch"]),
    (XAUTH_VID, [" vendor ID is XAUTH"]),
    (b"short", []),
])
def test_a_vendor_id_is_read_as_ios_reads_it(vid: bytes, words: list[str]) -> None:
    assert vendor_id_words(vid) == words


def test_an_ios_mm1_offers_the_nat_t_versions_ios_constructs() -> None:
    assert render(VendorIdsMade(PEER, 0, tuple(NAT_T_VIDS))) == [
        "ISAKMP:(0): constructed NAT-T vendor-rfc3947 ID",
        "ISAKMP:(0): constructed NAT-T vendor-07 ID",
        "ISAKMP:(0): constructed NAT-T vendor-03 ID",
        "ISAKMP:(0): constructed NAT-T vendor-02 ID"]
    assert MM1_VIDS == tuple(NAT_T_VIDS.values())


NO_NAT = "ISAKMP (0:1001): No NAT Found for self or peer"
HIS = "ISAKMP (0:1001): His hash no match - this node outside NAT"
MINE = "ISAKMP (0:1001): My hash no match - this node inside NAT"
TYPE_20 = "ISAKMP:received payload type 20"


@pytest.mark.parametrize(("matches", "lines"), [
    # ...IOSXE17_initiator: no NAT between the peers
    (("mine", "his"), [TYPE_20, HIS, TYPE_20, NO_NAT]),
    # ...IOSXE16_responder_NAT-T: the peer behind a NAT, we outside it
    (("mine", "none"), [TYPE_20, HIS, TYPE_20, HIS]),
    # we behind the NAT: our address as the peer saw it is not ours
    (("none", "his"), [TYPE_20, MINE, TYPE_20]),
])
def test_nat_d_results_in_ios_s_words(matches: tuple[str, ...], lines: list[str]) -> None:
    assert render(NatDChecked(PEER, 1001, matches)) == lines


def test_the_lifetime_lines_say_what_was_offered_and_what_is_used() -> None:
    # ...IOSXE17_initiator: both sides 86400 s, four bytes on the wire
    assert render(LifetimeAccepted(PEER, 0, 86400, 86400, 86400, False)) == [
        "ISAKMP:(0):Acceptable atts:actual life: 0", "ISAKMP:(0):Acceptable atts:life: 0",
        "ISAKMP:(0):Fill atts in sa vpi_length:4",
        "ISAKMP:(0):Fill atts in sa life_in_seconds:86400",
        "ISAKMP:(0):Returning Actual lifetime: 86400",
        "ISAKMP:(0)::Started lifetime timer: 86400.\n"]
    # debug-crypto-failures.txt H: 1200 s offered, 600 s ours: the lower one wins
    assert render(LifetimeAccepted(PEER, 0, 1200, 600, 600, True)) == [
        "ISAKMP:(0):Acceptable atts:actual life: 600", "ISAKMP:(0):Acceptable atts:life: 0",
        "ISAKMP:(0):Basic life_in_seconds:1200", "ISAKMP:(0):Returning Actual lifetime: 600",
        "ISAKMP:(0)::Started lifetime timer: 600.\n"]


def _esp_aes_256(*extra: DataAttribute) -> TransformPayload:
    return TransformPayload(1, 12, (
        DataAttribute(IpsecAttributeType.ENCAPSULATION_MODE, 1),
        DataAttribute(IpsecAttributeType.SA_LIFE_TYPE, LifeType.SECONDS),
        DataAttribute.variable(IpsecAttributeType.SA_LIFE_DURATION, 3600),
        DataAttribute(IpsecAttributeType.SA_LIFE_TYPE, LifeType.KILOBYTES),
        DataAttribute(IpsecAttributeType.SA_LIFE_DURATION, (4608000).to_bytes(4, "big")),
        DataAttribute(IpsecAttributeType.AUTHENTICATION_ALGORITHM, 2),
        DataAttribute(IpsecAttributeType.KEY_LENGTH, 256), *extra))


def test_the_ipsec_proposal_walk_lists_each_attribute_as_it_came() -> None:
    # ...IOSXE17_initiator, quick mode (classic layout: attributes under "ISAKMP:")
    event = IpsecProposalChecked(PEER, 1001, 1, ProtocolId.PROTO_IPSEC_ESP,
                                 ((_esp_aes_256(), True),))
    assert render(event) == [
        "ISAKMP:(1001):Checking IPSec proposal 1",
        "ISAKMP: transform 1, ESP_AES ",
        "ISAKMP:   attributes in transform:",
        "ISAKMP:      encaps is 1 (Tunnel)",
        "ISAKMP:      SA life type in seconds",
        "ISAKMP:      SA life duration (basic) of 3600",
        "ISAKMP:      SA life type in kilobytes",
        "ISAKMP:      SA life duration (VPI) of  0x0 0x46 0x50 0x0 ",
        "ISAKMP:      authenticator is HMAC-SHA",
        "ISAKMP:      key length is 256",
        "ISAKMP:(1001):atts are acceptable."]
    pfs = render(IpsecProposalChecked(PEER, 1001, 1, ProtocolId.PROTO_IPSEC_ESP, (
        (_esp_aes_256(DataAttribute(IpsecAttributeType.GROUP_DESCRIPTION, 14)), False),)))
    assert pfs is not None and pfs[-2:] == ["ISAKMP:      group is 14",
                                            "ISAKMP:(1001):atts are not acceptable."]
    ah = render(IpsecProposalChecked(PEER, 1001, 2, ProtocolId.PROTO_IPSEC_AH, (
        (TransformPayload(1, 3, ()), True),)))
    assert ah is not None and ah[:2] == ["ISAKMP:(1001):Checking IPSec proposal 2",
                                         "ISAKMP: transform 1, AH_SHA "]


def test_our_identity_and_the_peer_s_in_the_classic_layout() -> None:
    """The classic trace's ID payload block: tabs, and a space after most values."""
    mine = IdentityPayload(PEER, 9577, True, 1, 0x7A7A7A7A, 17, 500, 12, 8)
    assert render(mine) == [
        "ISAKMP:(9577):SA is doing pre-shared key authentication using id type ID_IPV4_ADDR",
        "ISAKMP (0:9577): ID payload \n\tnext-payload : 8\n\ttype         : 1 \n"
        "\taddress      : 122.122.122.122 \n\tprotocol     : 17 \n\tport         : 500 \n"
        "\tlength       : 12",
        "ISAKMP:(9577):Total payload length: 12"]
    theirs = IdentityPayload(PEER, 9577, False, 1, 0x4D4D4D4D, 17, 0, 12, 8)
    lines = render(theirs)
    assert lines is not None and lines[-1] == "ISAKMP:(0):: peer matches *none* of the profiles"
    assert render(theirs, ("VPN",))[-1] == "ISAKMP:(0):: peer matches VPN profile"  # type: ignore[index]


def test_packets_nodes_and_states_in_the_classic_layout() -> None:
    assert render(PacketSent(PEER, 1001, 500, True, "QM_IDLE")) == [
        "ISAKMP:(1001): sending packet to 203.0.113.1 my_port 500 peer_port 500 (I) "
        "QM_IDLE      ", "ISAKMP:(1001):Sending an IKE IPv4 Packet."]
    assert render(PacketSent(PEER, 0, 500, None, "MM_NO_STATE"))[0].endswith(  # type: ignore[index]
        "(R) MM_NO_STATE")
    # the classic trace's M-ID: IOS prints message IDs signed
    assert render(NodeCreated(PEER, 1001, (1 << 32) - 889293300)) == [
        "ISAKMP: set new node -889293300 to QM_IDLE      "]
    assert render(NodeDeleted(PEER, 1001, 1, "QM rejected", True)) == [
        'ISAKMP:(1001):deleting node 1 error TRUE reason "QM rejected"']
    # a phase-1 state line ends with a space and a blank line, a quick-mode one bare
    assert render(StateChanged(PEER, 0, "IKE_I_MM1", "IKE_I_MM2")) == [
        "ISAKMP:(0):Input = IKE_MESG_FROM_PEER, IKE_MM_EXCH",
        "ISAKMP:(0):Old State = IKE_I_MM1  New State = IKE_I_MM2 \n"]
    assert render(StateChanged(PEER, 1001, "IKE_P1_COMPLETE", "IKE_P1_COMPLETE",
                               input="IKE_MESG_FROM_PEER, IKE_INFO_NOTIFY"))[0] == (  # type: ignore[index]
        "ISAKMP:(1001):Input = IKE_MESG_FROM_PEER, IKE_INFO_NOTIFY")
    assert render(StateChanged(PEER, 1001, "IKE_QM_READY", "IKE_QM_I_QM1", 5))[-1] == (  # type: ignore[index]
        "ISAKMP:(1001):Old State = IKE_QM_READY  New State = IKE_QM_I_QM1")


def test_peer_structs_sa_insertion_notifies_and_notes() -> None:
    created = render(PeerLocked(PEER, 500, 1, 1, True))
    assert created is not None and created[0] == (
        "ISAKMP: Created a peer struct for 203.0.113.1, peer port 500")
    assert created[2].endswith(", refcount 1 for isakmp_initiator")
    assert created[3] == "ISAKMP: local port 500, remote port 500"
    found = render(PeerLocked(PEER, 500, 1, 2, False))
    assert found is not None and found[0].startswith("ISAKMP: Found a peer struct for")
    assert found[1].endswith(", refcount 2 for crypto_isakmp_process_block")
    assert render(SaInserted(PEER, 1, True))[0] == "ISAKMP: set new node 0 to QM_IDLE      "  # type: ignore[index]
    assert len(render(SaInserted(PEER, 1, False)) or ()) == 1  # the responder opens no node
    assert render(NotifyProcessed(PEER, 9577, NotifyType.NO_PROPOSAL_CHOSEN, 3)) == [
        "ISAKMP:(9577): processing NOTIFY PROPOSAL_NOT_CHOSEN protocol 3"]
    assert render(Note(PEER, 0, NoteKind.PSK_LOCAL), ("VPN",)) == [
        "ISAKMP:(0):found peer pre-shared key matching 203.0.113.1",
        "ISAKMP:(0): local preshared key found",
        "ISAKMP : Scanning profiles for xauth ... VPN"]
    assert render(Note(PEER, 9577, NoteKind.AUTHENTICATED)) == [
        "ISAKMP:(9577):SA authentication status:\tauthenticated",
        "ISAKMP:(9577):SA has been authenticated with 203.0.113.1"]
    assert render(object()) is None
