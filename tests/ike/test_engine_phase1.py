"""Phase-1 features of the IKEv1 engine: aggressive mode, DPD, INITIAL-CONTACT, phase-1 rekey
and IOS's internal state transitions. Two engines paired over test_engine's in-memory link."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from test_engine import (
    A_ADDR,
    B_ADDR,
    OFFER,
    PROXIES,
    TICK,
    Pair,
    assert_agree,
    established,
    ios_select,
    policy,
)

from iosim.crypto.rand import SeededRandom
from iosim.ike.constants import ExchangeType, NotifyType
from iosim.ike.dpd import DPD_VID
from iosim.ike.engine import (
    DpdReceived,
    DpdSent,
    DpdSettings,
    IkeEngine,
    IkePolicy,
    InitialContact,
    IsakmpSaDeleted,
    PeerDead,
    Phase1Established,
    Phase1Failed,
    Phase2Established,
    Phase2Offer,
    ProxyIdentity,
    StateChanged,
)
from iosim.ike.main_mode import RFC3947_VID
from iosim.ike.payloads import (
    IdPayload,
    KePayload,
    NatDPayload,
    SaPayload,
    VendorIdPayload,
    pull_message,
)

A_PRIVATE = 0x0A000001  # 10.0.0.1: A behind a NAT that shows it as A_ADDR
OTHER_PROXIES = ProxyIdentity(0xC0A80300, 0xFFFFFF00, 0xC0A80200, 0xFFFFFF00)


def engine(local: int, peer: int, seed: str, policies: list[IkePolicy] | None = None,
           psk: str = "cisco123", **kw: object) -> IkeEngine:
    pols = policies or [policy()]
    return IkeEngine(local, rand=SeededRandom(seed), policies=lambda: pols,
                     psk_for=lambda p: psk if p == peer else None, **kw)  # type: ignore[arg-type]


def pair(a_kw: dict[str, object] | None = None, b_kw: dict[str, object] | None = None,
         seed: str = "p1") -> Pair:
    a = engine(A_ADDR, B_ADDR, seed + "a", **(a_kw or {}))
    b_args: dict[str, object] = {"select_phase2": ios_select(OFFER), **(b_kw or {})}
    b = engine(B_ADDR, A_ADDR, seed + "b", **b_args)
    return Pair(a, b)


def aggressive() -> dict[str, object]:
    return {"aggressive_for": lambda peer: peer == B_ADDR}


def states(p: Pair, who: str) -> list[tuple[int, str, str]]:
    """Phase-1 transitions (quick mode has its own, IKE_QM_*)."""
    return [(e.conn_id, e.old, e.new) for e in p.of(who, StateChanged)
            if not e.new.startswith("IKE_QM")]


def up(p: Pair, proxies: ProxyIdentity = PROXIES) -> None:
    p.a.initiate(B_ADDR, proxies, OFFER, p.now)
    p.pump()


# --- aggressive mode ----------------------------------------------------------------------------


def test_aggressive_mode_three_messages_then_quick_mode() -> None:
    p = pair(aggressive())
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    assert [(s.state, s.aggressive) for s in p.a.isakmp_sas()] == [("AG_INIT_EXCH", True)]
    (_, am1), = p.a.datagrams_to_send()
    p.b.receive_datagram(am1, A_ADDR, p.now)
    assert [(s.state, s.aggressive) for s in p.b.isakmp_sas()] == [("AG_INIT_EXCH", True)]
    p.sent.append(("a", am1))
    p.pump()
    msgs = [pull_message(d) for _, d in p.sent]
    assert [m.header.exchange_type for m in msgs] == [ExchangeType.AGGRESSIVE] * 3 + [
        ExchangeType.QUICK_MODE] * 3
    m1, m2, m3 = msgs[:3]
    assert m1.get(IdPayload) is not None and m1.get(KePayload) is not None
    assert {v.data for v in m1.get_all(VendorIdPayload)} == {RFC3947_VID, DPD_VID}
    assert m2.get(IdPayload) is not None and len(m2.get_all(NatDPayload)) == 2
    assert m3.encrypted_body is not None and m3.payloads == ()  # HASH_I travels encrypted
    assert p.of("a", Phase1Established) == [Phase1Established(B_ADDR, 1001)]
    assert p.of("b", Phase1Established) == [Phase1Established(A_ADDR, 1001)]
    assert_agree(*established(p))
    for e, initiator in ((p.a, True), (p.b, False)):
        (s,) = e.isakmp_sas()
        assert (s.state, s.aggressive, s.initiator, s.dpd) == ("QM_IDLE", True, initiator, True)
    assert p.a.dropped == p.b.dropped == 0


def test_aggressive_mode_offers_only_the_group_of_the_first_policy() -> None:
    a_pols = [policy("aes", 256, "sha", 14, priority=10), policy("3des", None, "md5", 14,
                                                                 priority=20),
              policy("aes", 128, "sha", 5, priority=30)]
    b_pols = [policy("3des", None, "md5", 14, priority=5)]
    p = pair({**aggressive(), "policies": a_pols}, {"policies": b_pols})
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    (_, am1), = p.a.datagrams_to_send()
    sa = pull_message(am1).get(SaPayload)
    assert sa is not None and len(sa.proposals[0].transforms) == 2
    ke = pull_message(am1).get(KePayload)
    assert ke is not None and len(ke.key_exchange_data) == 256  # group 14
    p.b.receive_datagram(am1, A_ADDR, p.now)
    p.pump()
    established(p)
    assert {s.encryption for s in p.a.isakmp_sas() + p.b.isakmp_sas()} == {"3des"}


def test_aggressive_mode_disabled_responder_drops_and_reports() -> None:
    p = pair(aggressive(), {"aggressive_mode_disabled": lambda: True})
    up(p)
    assert p.of("a", Phase1Established) == p.of("b", Phase1Established) == []
    (fail,) = p.of("b", Phase1Failed)
    assert "Aggressive mode is disabled" in fail.reason and "203.0.113.1" in fail.reason
    assert p.b.dropped == 1 and p.b.isakmp_sas() == []
    p.advance(700)  # the initiator retransmits AM1 five times, then gives up
    assert p.b.dropped == 6
    assert "retransmission limit reached in AG_INIT_EXCH" in p.of("a", Phase1Failed)[0].reason
    # main mode still works against that responder
    p.a._aggressive_for = lambda peer: False
    up(p)
    established(p)


def test_aggressive_mode_wrong_psk_fails_hash_r() -> None:
    p = pair(aggressive(), {"psk": "other"})
    up(p)
    (fail,) = p.of("a", Phase1Failed)
    assert fail.reason.startswith("IKMP_BAD_MESSAGE")
    assert p.of("a", Phase1Established) == p.of("b", Phase1Established) == []


@pytest.mark.parametrize("lost", range(3), ids=["AM1", "AM2", "AM3"])
def test_aggressive_mode_lost_message_is_recovered(lost: int) -> None:
    p = pair(aggressive())
    p.drop = lambda i, who, d: i == lost
    up(p)
    p.advance(60)
    assert_agree(*established(p))
    assert len(p.of("a", Phase1Established)) == len(p.of("b", Phase1Established)) == 1


def test_aggressive_mode_duplicates() -> None:
    p = pair(aggressive())
    p.duplicate = True
    up(p)
    p.advance(60)
    assert_agree(*established(p))
    assert len(p.of("a", Phase1Established)) == len(p.of("b", Phase1Established)) == 1


def test_aggressive_mode_nat_t_floats_with_am3() -> None:
    a = engine(A_PRIVATE, B_ADDR, "nat-a", nat_traversal=True, **aggressive())
    b = engine(B_ADDR, A_ADDR, "nat-b", nat_traversal=True, select_phase2=ios_select(OFFER))
    a.initiate(B_ADDR, PROXIES, OFFER, 0.0)
    log: list[tuple[str, int]] = []
    now = 0.0
    for _ in range(50):
        now += TICK
        moved = False
        for who, src, dst, seen_as in (("a", a, b, A_ADDR), ("b", b, a, B_ADDR)):
            for _peer, data, port in src.datagrams_with_ports():
                moved = True
                log.append((who, port))
                dst.receive_datagram(data, seen_as, now, port)
        if not moved:
            break
    assert log == [("a", 500), ("b", 500), ("a", 4500), ("a", 4500), ("b", 4500), ("a", 4500)]
    assert [s.nat_t for s in a.isakmp_sas()] == [s.nat_t for s in b.isakmp_sas()] == [True]
    pairs = [e.sa for e in iter(b.next_event, None) if isinstance(e, Phase2Established)]
    assert len(pairs) == 1 and pairs[0].udp_encap
    assert a.dropped == b.dropped == 0


# --- IOS internal states ------------------------------------------------------------------------


def test_main_mode_state_changes_as_ios_prints_them() -> None:
    p = pair()
    up(p)
    established(p)
    assert states(p, "a") == [
        (0, "IKE_READY", "IKE_I_MM1"),
        (0, "IKE_I_MM1", "IKE_I_MM2"), (0, "IKE_I_MM2", "IKE_I_MM2"),
        (0, "IKE_I_MM2", "IKE_I_MM3"),
        (0, "IKE_I_MM3", "IKE_I_MM4"), (1001, "IKE_I_MM4", "IKE_I_MM4"),
        (1001, "IKE_I_MM4", "IKE_I_MM5"),
        (1001, "IKE_I_MM5", "IKE_I_MM6"), (1001, "IKE_I_MM6", "IKE_I_MM6"),
        (1001, "IKE_I_MM6", "IKE_P1_COMPLETE"), (1001, "IKE_P1_COMPLETE", "IKE_P1_COMPLETE")]
    assert states(p, "b") == [
        (0, "IKE_READY", "IKE_R_MM1"), (0, "IKE_R_MM1", "IKE_R_MM1"),
        (0, "IKE_R_MM1", "IKE_R_MM2"),
        (0, "IKE_R_MM2", "IKE_R_MM3"), (1001, "IKE_R_MM3", "IKE_R_MM3"),
        (1001, "IKE_R_MM3", "IKE_R_MM4"),
        (1001, "IKE_R_MM4", "IKE_R_MM5"), (1001, "IKE_R_MM5", "IKE_R_MM5"),
        (1001, "IKE_R_MM5", "IKE_P1_COMPLETE"), (1001, "IKE_P1_COMPLETE", "IKE_P1_COMPLETE")]
    # the Phase1Established event follows the last transition
    events = p.events["a"]
    assert events.index(Phase1Established(B_ADDR, 1001)) > max(
        i for i, e in enumerate(events) if isinstance(e, StateChanged) and e.old == "IKE_I_MM6")


def test_aggressive_mode_state_changes() -> None:
    p = pair(aggressive())
    up(p)
    assert [s[2] for s in states(p, "a")] == [
        "IKE_I_AM1", "IKE_I_AM2", "IKE_I_AM2", "IKE_P1_COMPLETE", "IKE_P1_COMPLETE"]
    assert [s[2] for s in states(p, "b")] == [
        "IKE_R_AM1", "IKE_R_AM1", "IKE_R_AM2", "IKE_R_AM3", "IKE_R_AM3", "IKE_P1_COMPLETE",
        "IKE_P1_COMPLETE"]
    assert states(p, "b")[0] == (0, "IKE_READY", "IKE_R_AM1")
    assert states(p, "b")[1][0] == 1001


def test_bad_message_leaves_state_unchanged() -> None:
    p = pair()
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    (_, mm1), = p.a.datagrams_to_send()
    p.b.receive_datagram(mm1[:-3], A_ADDR, p.now)  # truncated: dropped
    assert p.b.dropped == 1 and p.b.next_event() is None


# --- INITIAL-CONTACT ----------------------------------------------------------------------------


def test_initial_contact_after_reboot_clears_old_sas() -> None:
    p = pair()
    up(p)
    established(p)
    assert p.of("b", InitialContact) == [InitialContact(A_ADDR, 1001)]  # first contact too
    assert len(p.b._pairs) == 1
    (old_spi,) = p.b._pairs
    # A reboots: a fresh engine (new cookies, no memory) negotiates again
    p.a = engine(A_ADDR, B_ADDR, "rebooted")
    p.events["a"].clear()
    p.events["b"].clear()
    up(p)
    # the event names the pair it took with it, for the caller to drop too
    assert p.of("b", InitialContact) == [InitialContact(A_ADDR, 1002, (old_spi,))]
    assert IsakmpSaDeleted(A_ADDR, 1001) in p.of("b", IsakmpSaDeleted)
    assert [s.conn_id for s in p.b.isakmp_sas()] == [1002]
    (new,) = p.of("b", Phase2Established)
    assert list(p.b._pairs) == [new.sa.spi_in]  # the pair from before the reboot is gone
    # InitialContact comes before Phase1Established of the new SA
    ev = p.events["b"]
    assert ev.index(InitialContact(A_ADDR, 1002, (old_spi,))) < ev.index(
        Phase1Established(A_ADDR, 1002))


def test_initial_contact_in_aggressive_mode() -> None:
    p = pair(aggressive())
    up(p)
    assert p.of("b", InitialContact) == [InitialContact(A_ADDR, 1001)]


def test_initial_contact_as_informational_is_honoured() -> None:
    p = pair()
    up(p)
    (sa,) = [s for s in p.a._sas.values()]
    p.events["b"].clear()
    pairs = tuple(p.b._pairs)
    assert pairs
    from iosim.ike.payloads import NotificationPayload
    p.a._send_informational(sa, NotificationPayload(NotifyType.INITIAL_CONTACT, 1,
                                                    sa.cky_i + sa.cky_r))
    p.pump()
    assert p.of("b", InitialContact) == [InitialContact(A_ADDR, 1001, pairs)]
    assert p.b._pairs == {}


# --- DPD ----------------------------------------------------------------------------------------


def test_dpd_periodic_probe_and_ack() -> None:
    p = pair({"dpd_for": lambda peer: DpdSettings(10, 2, True)})
    up(p)
    established(p)
    start = p.now
    assert p.a.get_timer() is not None and p.a.get_timer() <= start + 10  # type: ignore[operator]
    p.advance(10.5)
    (sent,) = p.of("a", DpdSent)
    assert not sent.ack and sent.conn_id == 1001
    assert p.of("b", DpdReceived) == [DpdReceived(A_ADDR, 1001, sent.seq, False)]
    assert p.of("b", DpdSent) == [DpdSent(A_ADDR, 1001, sent.seq, True)]
    assert p.of("a", DpdReceived) == [DpdReceived(B_ADDR, 1001, sent.seq, True)]
    p.advance(10)
    seqs = [e.seq for e in p.of("a", DpdSent)]
    assert seqs == [sent.seq, sent.seq + 1]
    assert p.of("b", DpdSent) == [DpdSent(A_ADDR, 1001, s, True) for s in seqs]
    # B has no keepalive configured: it answers but never asks
    assert all(e.ack for e in p.of("b", DpdSent))
    assert p.a.dropped == p.b.dropped == 0 and p.of("a", PeerDead) == []


def test_dpd_unanswered_five_retransmissions_then_peer_dead() -> None:
    p = pair({"dpd_for": lambda peer: DpdSettings(10, 2, True)})
    up(p)
    established(p)
    start = p.now
    p.drop = lambda i, who, d: True  # B vanished
    p.advance(11.5)
    assert len(p.of("a", DpdSent)) == 1
    p.advance(11)  # probe at +10, retransmissions at +12 .. +20, dead at +22
    sent = p.of("a", DpdSent)
    assert [e.seq for e in sent] == [sent[0].seq + i for i in range(6)]
    assert p.of("a", PeerDead) == [PeerDead(B_ADDR, 1001)]
    assert p.of("a", IsakmpSaDeleted) == [IsakmpSaDeleted(B_ADDR, 1001)]
    assert [s.status for s in p.a.isakmp_sas()] == ["ACTIVE (deleted)"]
    assert p.a._pairs == {}
    assert p.now - start > 22 - 1e-6
    p.advance(100)
    assert len(p.of("a", DpdSent)) == 6  # no more probes


def test_dpd_late_ack_after_retransmission_is_accepted() -> None:
    p = pair({"dpd_for": lambda peer: DpdSettings(10, 3, True)})
    up(p)
    first = len(p.sent)
    p.drop = lambda i, who, d: i == first  # the first R-U-THERE is lost
    p.advance(14)
    sent = p.of("a", DpdSent)
    assert len(sent) == 2 and sent[1].seq == sent[0].seq + 1
    assert p.of("a", DpdReceived) == [DpdReceived(B_ADDR, 1001, sent[1].seq, True)]
    p.advance(60)
    assert p.of("a", PeerDead) == []


def test_dpd_on_demand_only_when_sending_after_the_peer_was_quiet() -> None:
    p = pair({"dpd_for": lambda peer: DpdSettings(10)})
    up(p)
    established(p)
    p.advance(100)
    assert p.of("a", DpdSent) == []  # idle: no probe
    for _ in range(10):  # two-way traffic: the peer is alive
        p.a.note_traffic(B_ADDR, p.now, inbound=False)
        p.a.note_traffic(B_ADDR, p.now + 0.01, inbound=True)
        p.advance(4)
    assert p.of("a", DpdSent) == []
    p.a.note_traffic(B_ADDR, p.now, inbound=True)  # the peer's packet, and our reply
    p.a.note_traffic(B_ADDR, p.now, inbound=False)
    p.advance(100)
    assert p.of("a", DpdSent) == []  # a reply is no reason to doubt the peer
    p.a.note_traffic(B_ADDR, p.now, inbound=True)
    for _ in range(3):  # outbound only, the peer heard from less than 10 s before
        p.advance(3)
        p.a.note_traffic(B_ADDR, p.now, inbound=False)
    p.advance(30)
    assert p.of("a", DpdSent) == []
    p.a.note_traffic(B_ADDR, p.now, inbound=False)  # sent after 39 s without a word
    p.advance(0.5)
    (sent,) = p.of("a", DpdSent)
    assert p.of("a", DpdReceived) == [DpdReceived(B_ADDR, 1001, sent.seq, True)]
    p.advance(60)
    assert len(p.of("a", DpdSent)) == 1  # the ACK proved it alive; no traffic since


def test_dpd_r_u_there_with_wrong_spi_is_ignored() -> None:
    p = pair()
    up(p)
    (sa,) = list(p.a._sas.values())
    from iosim.ike.payloads import NotificationPayload
    p.a._send_informational(sa, NotificationPayload(NotifyType.R_U_THERE, 1, bytes(16),
                                                    (7).to_bytes(4, "big")))
    p.pump()
    assert p.of("b", DpdSent) == []


# --- phase-1 rekey ------------------------------------------------------------------------------


def short(lifetime: int = 600) -> list[IkePolicy]:
    return [policy(lifetime=lifetime)]


@pytest.mark.parametrize("mode", ["main", "aggressive"])
def test_phase1_rekey_before_expiry_keeps_a_working_isakmp_sa(mode: str) -> None:
    a_kw: dict[str, object] = {"policies": short()}
    if mode == "aggressive":
        a_kw.update(aggressive())
    p = pair(a_kw, {"policies": short()})
    up(p)
    established(p)
    p.advance(545)  # 90 % of 600 s: A renews in the background
    assert p.a.dropped == p.b.dropped == 0
    assert [(s.conn_id, s.state) for s in p.a.isakmp_sas()] == [(1001, "QM_IDLE"),
                                                                (1002, "QM_IDLE")]
    assert p.a._sa_for_peer(B_ADDR).conn_id == 1002  # type: ignore[union-attr]
    assert p.b._sa_for_peer(A_ADDR).conn_id == 1002  # type: ignore[union-attr]
    assert p.of("b", InitialContact) == [InitialContact(A_ADDR, 1001)]  # none on a rekey
    p.advance(100)  # past the old SA's lifetime: it is deleted, the new one stays
    for who, engine_ in (("a", p.a), ("b", p.b)):
        assert IsakmpSaDeleted(B_ADDR if who == "a" else A_ADDR, 1001) in p.of(who,
                                                                               IsakmpSaDeleted)
        live = [s for s in engine_.isakmp_sas() if s.status == "ACTIVE"]
        assert [(s.conn_id, s.state) for s in live] == [(1002, "QM_IDLE")]
    # quick mode now runs over the new SA
    p.a.initiate(B_ADDR, OTHER_PROXIES, OFFER, p.now)
    p.pump()
    assert len(p.of("a", Phase2Established)) == len(p.of("b", Phase2Established)) == 2
    new = next(s for s in p.a._sas.values() if s.conn_id == 1002)
    assert pull_message(p.sent[-1][1]).header.initiator_cookie == new.cky_i


def test_idle_isakmp_sa_is_not_rekeyed() -> None:
    reject: Callable[[int, ProxyIdentity, list[Phase2Offer]], Phase2Offer | None] = \
        lambda *_: None  # noqa: E731
    p = pair({"policies": short()}, {"policies": short(), "select_phase2": reject})
    up(p)
    assert len(p.of("a", Phase1Established)) == 1 and p.a._pairs == {}
    p.advance(700)
    assert [(s.conn_id, s.status) for s in p.a.isakmp_sas()] == [(1001, "ACTIVE (deleted)")] \
        or p.a.isakmp_sas() == []
    assert len(p.of("a", Phase1Established)) == 1


def test_simultaneous_initiation_keeps_both_sides_sas() -> None:
    """Both routers start phase 1 at once: each SA carries INITIAL-CONTACT, but neither SA is
    a leftover of a reboot, so nothing is forgotten."""
    p = pair({"select_phase2": ios_select(OFFER)})
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.b.initiate(A_ADDR, PROXIES.mirrored(), OFFER, p.now)
    p.pump()
    assert len(p.of("a", InitialContact)) == len(p.of("b", InitialContact)) == 1
    assert p.of("a", IsakmpSaDeleted) == p.of("b", IsakmpSaDeleted) == []
    assert [s.state for s in p.a.isakmp_sas()] == ["QM_IDLE", "QM_IDLE"]
    installed_a = {e.sa.spi_in for e in p.of("a", Phase2Established)}
    installed_b = {e.sa.spi_in for e in p.of("b", Phase2Established)}
    assert installed_a and set(p.a._pairs) == installed_a
    assert installed_b and set(p.b._pairs) == installed_b


@pytest.mark.parametrize("kind", ["ENCRYPTION_ALGORITHM", "KEY_LENGTH", "GROUP_DESCRIPTION",
                                  "AUTHENTICATION_METHOD", "LIFE_DURATION"])
def test_a_hostile_transform_is_refused_and_the_good_one_beside_it_accepted(kind: str) -> None:
    from dataclasses import replace

    from iosim.ike.constants import IkeAttributeType
    from iosim.ike.main_mode import describe_transform, policy_checks
    from iosim.ike.payloads import (
        DataAttribute,
        IsakmpMessage,
        SaPayload,
        TransformPayload,
        pull_message,
        push_message,
    )

    p = pair()
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    ((_, mm1, _),) = p.a.datagrams_with_ports()
    msg = pull_message(mm1)
    sa = msg.get(SaPayload)
    assert sa is not None
    proposal = sa.proposals[0]
    good = proposal.transforms[0]
    attr = getattr(IkeAttributeType, kind)
    huge = DataAttribute(attr, b"\x01" * 2000)  # a 16,000-bit number
    bad = TransformPayload(1, good.transform_id,
                           tuple(a for a in good.attributes if a.attribute_type != attr) + (huge,))
    # the debug text of the hostile transform is short and raises nothing
    assert all(len(line) < 120 for line in describe_transform(bad))
    offered = (bad, TransformPayload(2, good.transform_id, good.attributes))
    checks = policy_checks(A_ADDR, offered, [policy()])
    # a huge lifetime is no mismatch (the lower one wins); anything else is
    assert checks[-1].mismatch is None
    assert checks[-1].number == (1 if kind == "LIFE_DURATION" else 2)
    new_sa = replace(sa, proposals=(replace(proposal, transforms=offered),))
    hostile = IsakmpMessage(msg.header, tuple(new_sa if x is sa else x for x in msg.payloads))
    p.b.receive_datagram(push_message(hostile), A_ADDR, p.now)
    assert p.b.dropped == 0
    assert len(p.b.datagrams_with_ports()) == 1  # MM2 answers with the good transform
