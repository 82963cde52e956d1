"""What the IKEv1 engine reports step by step (iosim.ike.events) for debug crypto isakmp:
the vendor IDs IOS puts in each message, only what really happened, in IOS's order; and none
of it built while nobody listens (the engine's ``trace``), with nothing else changed."""

from __future__ import annotations

from collections.abc import Callable

from test_engine import A_ADDR, B_ADDR, OFFER, PROXIES, TICK, Pair, established, make_pair

from iosim.ike.constants import NotifyType
from iosim.ike.dpd import DPD_VID
from iosim.ike.engine import (
    InitialContact,
    Phase2Checked,
    Phase2Established,
    ProxyIdentity,
    StateChanged,
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
    NotifySent,
    PacketSent,
    PayloadProcessed,
    PeerInserted,
    PeerLocked,
    Phase2Keyed,
    PortFloated,
    QuickModeRequested,
    SaInserted,
    VendorIdProcessed,
    VendorIdsMade,
)
from iosim.ike.main_mode import PolicyChecked
from iosim.ike.payloads import IsakmpMessage, VendorIdPayload, pull_message, push_message
from iosim.ike.quick_mode_exchange import QuickModeStarted
from iosim.ike.vendor_ids import MM1_VIDS, MM3_VIDS, MM4_VIDS, RFC3947_VID


def _vids(data: bytes) -> tuple[bytes, ...]:
    return tuple(p.data for p in pull_message(data).get_all(VendorIdPayload))


def _index(events: list[object], test: object) -> int:
    return next(i for i, e in enumerate(events) if test(e))  # type: ignore[operator]


def test_each_main_mode_message_carries_the_vendor_ids_ios_sends() -> None:
    p = make_pair()
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    established(p)
    mm = [data for _, data in p.sent[:6]]
    assert [_vids(d) for d in mm[:4]] == [MM1_VIDS, (RFC3947_VID,), MM3_VIDS, MM4_VIDS]
    assert DPD_VID in MM3_VIDS and DPD_VID in MM4_VIDS  # DPD still agreed on
    assert p.a.isakmp_sas()[0].dpd and p.b.isakmp_sas()[0].dpd
    # and each side reports every vendor ID it received, where it received it
    assert [e.data for e in p.of("b", VendorIdProcessed)] == [*MM1_VIDS, *MM1_VIDS, *MM3_VIDS]
    assert [e.data for e in p.of("a", VendorIdProcessed)] == [RFC3947_VID, RFC3947_VID,
                                                              *MM4_VIDS]
    assert [e.names for e in p.of("a", VendorIdsMade)] == [("rfc3947", "07", "03", "02")]
    assert [e.names for e in p.of("b", VendorIdsMade)] == [("rfc3947",)]
    assert [e.matches for e in p.of("b", NatDChecked)] == [("mine", "his")]
    assert [e.matches for e in p.of("a", NatDChecked)] == [("mine", "his")]


def test_a_peer_without_nat_t_gets_no_nat_t_answer_and_no_nat_d_is_reported() -> None:
    """An MM1 without vendor IDs: no vendor ID line, no NAT-T chosen, no NAT-D anywhere."""
    p = make_pair()
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    (_, mm1), = p.a.datagrams_to_send()
    bare = pull_message(mm1)
    bare = IsakmpMessage(bare.header, tuple(x for x in bare.payloads
                                            if not isinstance(x, VendorIdPayload)))
    p.b.receive_datagram(push_message(bare), A_ADDR, p.now)
    p.sent.append(("a", mm1))
    p.pump()
    established(p)
    assert _vids(p.sent[1][1]) == ()  # MM2: no NAT-T version chosen
    assert [e.data for e in p.of("b", VendorIdProcessed)] == list(MM3_VIDS)
    assert not p.of("b", VendorIdsMade)
    assert not p.of("a", NatDChecked) and not p.of("b", NatDChecked)


def test_every_datagram_is_reported_before_the_state_it_leads_to() -> None:
    p = make_pair()
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    established(p)
    for who in ("a", "b"):
        assert len(p.of(who, PacketSent)) == sum(1 for w, _ in p.sent if w == who)
    a = p.events["a"]
    mm3 = _index(a, lambda e: isinstance(e, StateChanged) and e.new == "IKE_I_MM3")
    assert isinstance(a[mm3 - 1], PacketSent) and a[mm3 - 1].state == "MM_SA_SETUP"
    b = p.events["b"]
    mm6 = _index(b, lambda e: isinstance(e, StateChanged) and e.old == "IKE_R_MM5"
                 and e.new == "IKE_P1_COMPLETE")
    assert b[mm6 - 1] == PacketSent(A_ADDR, 1001, 500, False, "MM_KEY_EXCH")  # as IOS says


def test_the_responder_enters_r_mm1_then_reads_the_sa_then_walks_its_policies() -> None:
    p = make_pair()
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    b = p.events["b"]
    assert isinstance(b[0], PeerLocked) and b[0].refcount == 1
    entered = _index(b, lambda e: isinstance(e, StateChanged) and e.new == "IKE_R_MM1")
    read = _index(b, lambda e: e == PayloadProcessed(A_ADDR, 0, "SA"))
    key = _index(b, lambda e: e == Note(A_ADDR, 0, NoteKind.PSK_LOCAL))
    walk = _index(b, lambda e: isinstance(e, PolicyChecked))
    assert entered < read < key < walk


def test_initial_contact_is_processed_after_authentication_before_the_peer_is_filed() -> None:
    p = make_pair()
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    b = p.events["b"]
    notify = _index(b, lambda e: isinstance(e, NotifyProcessed)
                    and e.notify == NotifyType.INITIAL_CONTACT)
    authenticated = _index(b, lambda e: e == Note(A_ADDR, 1001, NoteKind.AUTHENTICATED))
    honoured = _index(b, lambda e: isinstance(e, InitialContact))
    filed = _index(b, lambda e: isinstance(e, PeerInserted))
    assert notify < authenticated < honoured < filed
    sent = _index(p.events["a"], lambda e: e == Note(B_ADDR, 1001,
                                                     NoteKind.SEND_INITIAL_CONTACT))
    assert sent < _index(p.events["a"], lambda e: isinstance(e, PacketSent)
                         and e.state == "MM_KEY_EXCH")


def test_the_responder_keys_its_pair_before_qm2_and_installs_it_after_qm3() -> None:
    p = make_pair(b_select=OFFER)
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    b = p.events["b"]
    keyed = _index(b, lambda e: isinstance(e, Phase2Keyed))
    qm2 = _index(b, lambda e: isinstance(e, PacketSent) and e.state == "QM_IDLE")
    r_qm2 = _index(b, lambda e: isinstance(e, StateChanged) and e.new == "IKE_QM_R_QM2")
    done = _index(b, lambda e: isinstance(e, Phase2Established))
    assert keyed < qm2 < r_qm2 < done
    pair = b[done]
    assert isinstance(pair, Phase2Established) and b[keyed] == Phase2Keyed(pair.sa)
    a = p.events["a"]  # the initiator: keyed, then QM3 sent, then installed
    qm3 = max(i for i, e in enumerate(a) if isinstance(e, PacketSent))
    assert (_index(a, lambda e: isinstance(e, Phase2Keyed)) < qm3
            < _index(a, lambda e: isinstance(e, Phase2Established)))


def test_a_finished_quick_mode_node_is_purged_when_it_stops_answering() -> None:
    p: Pair = make_pair(b_select=OFFER)
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    before = len(p.events["a"])
    p.advance(61 + TICK)
    purged = [e for e in p.events["a"][before:] if isinstance(e, NodePurged)]
    assert len(purged) == 1 and purged[0].conn_id == 1001


# --- the trace only while someone listens ------------------------------------------------------

#: The events that only tell what the engine does, step by step: built only while ``trace()``.
TRACE = (StateChanged, PolicyChecked, QuickModeStarted, Phase2Checked, Note, PeerLocked,
         SaInserted, PeerInserted, PayloadProcessed, VendorIdProcessed, VendorIdsMade,
         NatDChecked, LifetimeAccepted, IdentityPayload, NotifyProcessed, NotifySent,
         PortFloated, PacketSent, NodeCreated, NodeDeleted, NodePurged, QuickModeRequested,
         IpsecProposalChecked)
OTHER_PROXIES = ProxyIdentity(0xC0A80300, 0xFFFFFF00, 0xC0A80400, 0xFFFFFF00)


def _a_tunnel_s_life(p: Pair, before_step: Callable[[int], None] = lambda step: None
                     ) -> list[tuple[int, int]]:
    """Main + quick mode, a second quick mode over the ISAKMP SA, the first pair deleted
    (an informational exchange), the quick-mode nodes purged, the ISAKMP SA cleared; each
    step after ``before_step(step)``. Returns how many events each engine had reported
    before each step and at the end."""
    def first_pair_deleted() -> None:
        spi = p.of("a", Phase2Established)[0].sa.spi_in
        p.a.delete_ipsec(B_ADDR, [spi], p.now)

    steps: list[Callable[[], None]] = [
        lambda: p.a.initiate(B_ADDR, PROXIES, OFFER, p.now),
        lambda: p.a.initiate(B_ADDR, OTHER_PROXIES, OFFER, p.now),
        first_pair_deleted,
        lambda: p.advance(61 + TICK),
        lambda: p.a.delete_isakmp(B_ADDR, p.now),
    ]
    marks = []
    for step, run in enumerate(steps):
        marks.append((len(p.events["a"]), len(p.events["b"])))
        before_step(step)
        run()
        p.pump()
    marks.append((len(p.events["a"]), len(p.events["b"])))
    return marks


def _outcomes(events: list[object]) -> list[object]:
    return [e for e in events if not isinstance(e, TRACE)]


def test_nobody_listening_no_trace_event_is_built_and_nothing_else_changes() -> None:
    listened, unheard = make_pair(), make_pair(trace=lambda: False)
    _a_tunnel_s_life(listened)
    _a_tunnel_s_life(unheard)
    for side in ("a", "b"):
        built = sum(isinstance(e, TRACE) for e in listened.events[side])
        assert built > 50  # what a tunnel's life costs in trace events, per side
        assert not any(isinstance(e, TRACE) for e in unheard.events[side])
        assert unheard.events[side] == _outcomes(listened.events[side])
    assert [e for side in "ab" for e in unheard.of(side, Phase2Established)]  # it all ran
    assert unheard.sent == listened.sent  # the same bytes on the wire
    assert unheard.a.isakmp_sas(unheard.now) == listened.a.isakmp_sas(listened.now)
    assert unheard.b.isakmp_sas(unheard.now) == listened.b.isakmp_sas(listened.now)


def test_the_trace_starts_and_stops_with_its_listener_between_two_inputs() -> None:
    """Listening from the second quick mode on, and no more from the nodes' purge on: the
    steps listened to report exactly what an engine listened to all along reports."""
    listening = [False]
    switched, always = make_pair(trace=lambda: listening[0]), make_pair()

    def switch(step: int) -> None:
        listening[0] = step in (1, 2)

    got, want = _a_tunnel_s_life(switched, switch), _a_tunnel_s_life(always)
    for step in range(5):
        for i, side in enumerate("ab"):
            mine = switched.events[side][got[step][i]:got[step + 1][i]]
            full = always.events[side][want[step][i]:want[step + 1][i]]
            assert mine == (full if step in (1, 2) else _outcomes(full)), (step, side)
    assert switched.sent == always.sent
