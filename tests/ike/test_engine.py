"""The IKEv1 engine: two engines paired over an in-memory link, time advancing by TICK.

Vectors for the strongSwan interop check: ../shared/reference/strongswan-ikev1/mm-qm-nopfs.pcap
(strongSwan 5.x initiator, main mode + quick mode, PSK), read through strongswan_vectors.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strongswan_vectors import NOPFS_PCAP, ike_datagrams

from iosim.crypto.rand import SeededRandom
from iosim.ike.constants import ExchangeType, IkeAttributeType
from iosim.ike.engine import (
    IkeEngine,
    IkePolicy,
    IpsecSaPair,
    IsakmpSaDeleted,
    LocalProtocolError,
    Phase1Established,
    Phase1Failed,
    Phase2Deleted,
    Phase2Established,
    Phase2Failed,
    Phase2Offer,
    ProxyIdentity,
)
from iosim.ike.events import NotifyRejected
from iosim.ike.payloads import SaPayload, VendorIdPayload, pull_message
from iosim.ike.phase2_policy import LocalTransformSet, Phase2Policy, Phase2Refused, choose

TICK = 0.01
A_ADDR = 0xCB007101  # 203.0.113.1
B_ADDR = 0xCB007102  # 203.0.113.2
PROXIES = ProxyIdentity(0xC0A80100, 0xFFFFFF00, 0xC0A80200, 0xFFFFFF00)  # A's view
OFFER = Phase2Offer((("esp-aes 256", "esp-sha256-hmac"),), "tunnel", None, 3600, 4608000)


def policy(enc: str = "aes", bits: int | None = 256, hash_: str = "sha256", group: int = 14,
           lifetime: int = 86400, priority: int = 10) -> IkePolicy:
    return IkePolicy(priority, enc, bits, hash_, "pre-share", group, lifetime)


def ios_select(ours: Phase2Offer) -> Callable[[int, ProxyIdentity, list[Phase2Offer]],
                                              Phase2Offer | Phase2Refused]:
    """A responder that judges offers as IOS does (``phase2_policy.choose``) against one crypto
    map entry with ``ours``'s transform sets, mode and PFS, for the peers' own traffic (so a
    transport set accepts transport)."""
    policy = Phase2Policy(tuple(LocalTransformSet(ts, ours.mode) for ts in ours.transform_sets),
                          ours.pfs_group, ours.lifetime_seconds, ours.lifetime_kilobytes)

    def select(_peer: int, _proxies: ProxyIdentity, offers: list[Phase2Offer]
               ) -> Phase2Offer | Phase2Refused:
        return choose(policy, offers, endpoints=True)
    return select


@dataclass
class Pair:
    """Two engines and a fake link; ``drop`` decides per datagram (index, sender, bytes)."""

    a: IkeEngine
    b: IkeEngine
    now: float = 0.0
    sent: list[tuple[str, bytes]] = field(default_factory=list)
    events: dict[str, list[object]] = field(default_factory=lambda: {"a": [], "b": []})
    drop: Callable[[int, str, bytes], bool] = lambda i, who, d: False
    duplicate: bool = False

    def pump(self) -> None:
        for _ in range(200):
            self.now += TICK
            moved = False
            for who, src, dst, dst_addr in (("a", self.a, self.b, A_ADDR),
                                            ("b", self.b, self.a, B_ADDR)):
                for _peer, data in src.datagrams_to_send():
                    moved = True
                    index = len(self.sent)
                    self.sent.append((who, data))
                    if self.drop(index, who, data):
                        continue
                    dst.receive_datagram(data, dst_addr, self.now)
                    if self.duplicate:
                        dst.receive_datagram(data, dst_addr, self.now)
            self.collect()
            if not moved:
                return

    def collect(self) -> None:
        for name, engine in (("a", self.a), ("b", self.b)):
            while (event := engine.next_event()) is not None:
                self.events[name].append(event)

    def advance(self, seconds: float) -> None:
        """Run timers up to now + seconds, pumping after each one."""
        end = self.now + seconds
        while True:
            timers = [t for t in (self.a.get_timer(), self.b.get_timer()) if t is not None]
            if not timers or min(timers) > end:
                break
            self.now = max(self.now, min(timers))
            self.a.handle_timer(self.now)
            self.b.handle_timer(self.now)
            self.pump()
        self.now = end

    def of(self, name: str, kind: type) -> list:
        return [e for e in self.events[name] if isinstance(e, kind)]


def make_pair(a_policies: list[IkePolicy] | None = None, b_policies: list[IkePolicy] | None = None,
              a_psk: str = "cisco123", b_psk: str = "cisco123",
              b_select: Phase2Offer | None = None, seed: str = "t",
              trace: Callable[[], bool] = lambda: True) -> Pair:
    ap = a_policies or [policy()]
    bp = b_policies or [policy()]
    a = IkeEngine(A_ADDR, rand=SeededRandom(seed + "a"), policies=lambda: ap,
                  psk_for=lambda peer: a_psk if peer == B_ADDR else None, trace=trace)
    b = IkeEngine(B_ADDR, rand=SeededRandom(seed + "b"), policies=lambda: bp,
                  psk_for=lambda peer: b_psk if peer == A_ADDR else None,
                  select_phase2=ios_select(b_select) if b_select else None, trace=trace)
    return Pair(a, b)


def established(p: Pair) -> tuple[IpsecSaPair, IpsecSaPair]:
    a2, b2 = p.of("a", Phase2Established), p.of("b", Phase2Established)
    assert len(a2) == 1 and len(b2) == 1, p.events
    return a2[0].sa, b2[0].sa


def assert_agree(sa_a: IpsecSaPair, sa_b: IpsecSaPair) -> None:
    assert sa_a.spi_out == sa_b.spi_in and sa_a.spi_in == sa_b.spi_out
    assert sa_a.keys_out == sa_b.keys_in and sa_a.keys_in == sa_b.keys_out
    assert sa_a.keys_in != sa_a.keys_out
    assert sa_a.proxies == PROXIES and sa_b.proxies == PROXIES.mirrored()
    for name in ("encryption", "integrity", "mode", "lifetime_seconds", "lifetime_kilobytes",
                 "pfs_group", "protocol"):
        assert getattr(sa_a, name) == getattr(sa_b, name), name
    assert sa_a.peer == B_ADDR and sa_b.peer == A_ADDR


SUITES = [
    (policy("aes", 256, "sha256", 14), ("esp-aes 256", "esp-sha256-hmac"), 32 + 32),
    (policy("aes", 128, "sha", 5), ("esp-aes", "esp-sha-hmac"), 16 + 20),
    (policy("3des", None, "md5", 2), ("esp-3des", "esp-md5-hmac"), 24 + 16),
    (policy("aes", 128, "sha256", 19), ("esp-gcm 256",), 36),
    (policy("aes", 256, "sha384", 20), ("esp-aes 192", "esp-sha512-hmac"), 24 + 64),
]


@pytest.mark.parametrize("pfs", [False, True], ids=["nopfs", "pfs"])
@pytest.mark.parametrize(("pol", "ts", "keylen"), SUITES, ids=lambda v: str(v)[:30])
def test_main_and_quick_mode_complete(pol: IkePolicy, ts: tuple[str, ...], keylen: int,
                                      pfs: bool) -> None:
    offer = Phase2Offer((ts,), "tunnel", pol.group if pfs else None)
    p = make_pair([pol], [pol], b_select=offer)
    p.a.initiate(B_ADDR, PROXIES, offer, p.now)
    p.pump()
    assert p.of("a", Phase1Established) == [Phase1Established(B_ADDR, 1001)]
    assert p.of("b", Phase1Established) == [Phase1Established(A_ADDR, 1001)]
    sa_a, sa_b = established(p)
    assert_agree(sa_a, sa_b)
    assert sa_a.encryption == ts[0] and len(sa_a.keys_in) == keylen
    assert sa_a.pfs_group == (pol.group if pfs else None)
    assert (sa_a.conn_id_in, sa_a.conn_id_out) == (2001, 2002)
    assert len(p.sent) == 9  # 6 main mode + 3 quick mode
    for engine, initiator in ((p.a, True), (p.b, False)):
        (state,) = engine.isakmp_sas()
        assert (state.state, state.conn_id, state.status) == ("QM_IDLE", 1001, "ACTIVE")
        assert (state.dst, state.src, state.initiator) == (B_ADDR, A_ADDR, initiator)
        assert state.group == pol.group and state.auth == "psk"
    assert p.a.dropped == p.b.dropped == 0


def test_initiator_offers_all_policies_responder_picks_by_its_priority() -> None:
    a_pols = [policy("aes", 256, "sha", 14, priority=10), policy("3des", None, "md5", 2,
                                                                 priority=20)]
    b_pols = [policy("des", None, "sha", 1, priority=5), policy("3des", None, "md5", 2,
                                                                priority=30)]
    p = make_pair(a_pols, b_pols)
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    mm1 = pull_message(p.a.datagrams_to_send()[0][1])
    sa = mm1.get(SaPayload)
    assert sa is not None and len(sa.proposals) == 1 and len(sa.proposals[0].transforms) == 2
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)  # already running: nothing new
    assert p.a.datagrams_to_send() == []
    p.a.delete_isakmp(None, p.now)
    p.collect()
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    established(p)
    assert {s.encryption for s in p.a.isakmp_sas() + p.b.isakmp_sas()} == {"3des"}


def test_no_common_policy_fails_on_both_sides() -> None:
    """The responder refuses each MM1 with an unprotected NO_PROPOSAL_CHOSEN; the initiator
    acts on no notify nothing authenticates (as IOS: "Notify has no hash. Rejected."), so it
    retransmits MM1 until phase 1 gives up."""
    p = make_pair([policy("aes", 256, "sha", 14)], [policy("aes", 256, "sha", 5)])
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    (fb,) = p.of("b", Phase1Failed)
    assert "atts are not acceptable" in fb.reason and "policy not acceptable" in fb.reason
    assert p.of("a", Phase1Failed) == []
    (rejected,) = p.of("a", NotifyRejected)
    assert rejected == NotifyRejected(B_ADDR, 0, "IKE_I_MM1")
    assert p.b.isakmp_sas() == []
    assert [(s.state, s.status) for s in p.a.isakmp_sas()] == [("MM_NO_STATE", "ACTIVE")]
    p.advance(700)  # five retransmissions (10 s, doubling), each refused and its answer
    # rejected, then 320 s more without an answer that counts
    assert len(p.of("b", Phase1Failed)) == 6 and len(p.of("a", NotifyRejected)) == 6
    (fa,) = p.of("a", Phase1Failed)
    assert "retransmission limit reached" in fa.reason
    p.advance(120)
    assert p.a.isakmp_sas() == []


def test_no_pre_shared_key_and_unsupported_auth() -> None:
    p = make_pair()
    p.a.initiate(0x01020304, PROXIES, OFFER, p.now)
    p.collect()
    assert p.of("a", Phase1Failed) == [Phase1Failed(0x01020304, "No pre-shared key with 1.2.3.4!")]
    rsa = IkePolicy(10, "aes", 256, "sha", "rsa-sig", 14, 86400)
    q = make_pair([rsa], [policy()])
    q.a.initiate(B_ADDR, PROXIES, OFFER, q.now)
    q.collect()
    assert q.of("a", Phase1Failed) == [Phase1Failed(B_ADDR, "auth method not supported")]


def test_wrong_psk_fails_mm5_and_initiator_gives_up_after_retransmits() -> None:
    p = make_pair(a_psk="cisco123", b_psk="wrong")
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    (fb,) = p.of("b", Phase1Failed)
    assert fb.reason.startswith("IKMP_BAD_MESSAGE") and "203.0.113.1" in fb.reason
    assert [s.state for s in p.a.isakmp_sas()] == ["MM_KEY_EXCH"]
    assert [s.state for s in p.b.isakmp_sas()] == ["MM_KEY_EXCH"]
    assert p.a.get_timer() == pytest.approx(p.now + 10 - TICK, abs=0.1)
    start = len(p.sent)
    p.advance(300)
    assert not p.of("a", Phase1Failed)
    assert [s.state for s in p.a.isakmp_sas()] == ["MM_KEY_EXCH"]
    p.advance(400)
    assert len(p.sent) - start == 5  # five retransmissions of MM5
    (fa,) = p.of("a", Phase1Failed)
    assert "retransmission limit" in fa.reason
    assert len(p.of("b", Phase1Failed)) == 1  # reported once, retransmits only counted
    assert p.b.dropped == 6
    assert not p.of("a", Phase2Established)


@pytest.mark.parametrize(("a_ts", "b_ts"), [
    (("esp-aes 256", "esp-sha256-hmac"), ("esp-3des", "esp-sha-hmac")),
    (("esp-aes 256", "esp-sha256-hmac"), ("esp-aes", "esp-sha256-hmac")),
])
def test_transform_set_mismatch_no_proposal_chosen(a_ts: tuple[str, ...],
                                                   b_ts: tuple[str, ...]) -> None:
    p = make_pair(b_select=Phase2Offer((b_ts,), "tunnel", None))
    p.a.initiate(B_ADDR, PROXIES, Phase2Offer((a_ts,), "tunnel", None), p.now)
    p.pump()
    assert len(p.of("a", Phase1Established)) == 1
    (fb,) = p.of("b", Phase2Failed)
    assert fb.reason.startswith("NO_PROPOSAL_CHOSEN")
    (fa,) = p.of("a", Phase2Failed)
    assert "NO_PROPOSAL_CHOSEN" in fa.reason
    timer = p.a.get_timer()
    assert timer is not None and timer > 1000  # no QM retransmit left, only the lifetime


def test_second_transform_set_chosen() -> None:
    offer = Phase2Offer((("esp-3des", "esp-md5-hmac"), ("esp-aes", "esp-sha-hmac")), "tunnel",
                        None)
    p = make_pair(b_select=Phase2Offer((("esp-aes", "esp-sha-hmac"),), "tunnel", None))
    p.a.initiate(B_ADDR, PROXIES, offer, p.now)
    p.pump()
    sa_a, sa_b = established(p)
    assert_agree(sa_a, sa_b)
    assert (sa_a.encryption, sa_a.integrity) == ("esp-aes", "esp-sha-hmac")


@pytest.mark.parametrize(("a_pfs", "b_pfs", "cause"), [(None, 14, "pfs"), (14, 5, "pfs"),
                                                       (5, 14, "pfs")])
def test_pfs_mismatch_fails(a_pfs: int | None, b_pfs: int | None, cause: str) -> None:
    """A responder with ``set pfs groupN`` refuses an offer without PFS or with another
    group, and says it is PFS (not the transform set) that it refuses."""
    ts = (("esp-aes 256", "esp-sha256-hmac"),)
    p = make_pair(b_select=Phase2Offer(ts, "tunnel", b_pfs))
    p.a.initiate(B_ADDR, PROXIES, Phase2Offer(ts, "tunnel", a_pfs), p.now)
    p.pump()
    (fb,) = p.of("b", Phase2Failed)
    assert fb.cause == cause and fb.proxies == PROXIES.mirrored()
    assert p.of("a", Phase2Failed)
    assert not p.of("a", Phase2Established) and not p.of("b", Phase2Established)


def test_responder_without_pfs_accepts_the_initiators_pfs_group() -> None:
    """IOS: a crypto map entry without ``set pfs`` accepts the initiator's PFS offer and
    uses the group offered; both ends then run the quick-mode Diffie-Hellman."""
    ts = (("esp-aes 256", "esp-sha256-hmac"),)
    p = make_pair(b_select=Phase2Offer(ts, "tunnel", None))
    p.a.initiate(B_ADDR, PROXIES, Phase2Offer(ts, "tunnel", 14), p.now)
    p.pump()
    sa_a, sa_b = established(p)
    assert_agree(sa_a, sa_b)
    assert sa_a.pfs_group == sa_b.pfs_group == 14


def test_lifetimes_lower_wins() -> None:
    p = make_pair([policy(lifetime=86400)], [policy(lifetime=3600)],
                  b_select=Phase2Offer(OFFER.transform_sets, "tunnel", None, 1800, 100000))
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    sa_a, sa_b = established(p)
    assert (sa_a.lifetime_seconds, sa_a.lifetime_kilobytes) == (1800, 100000)
    assert_agree(sa_a, sa_b)
    for engine in (p.a, p.b):
        assert 3590 < engine.isakmp_sas()[0].lifetime_left <= 3600
    p.advance(3600)
    assert p.of("a", IsakmpSaDeleted) and p.of("b", IsakmpSaDeleted)


@pytest.mark.parametrize("lost", range(9), ids=[f"MM{i}" for i in range(1, 7)]
                         + [f"QM{i}" for i in range(1, 4)])
def test_each_lost_message_is_recovered(lost: int) -> None:
    p = make_pair(a_policies=[policy("aes", 128, "sha", 2)], b_policies=[policy("aes", 128,
                                                                                "sha", 2)])
    p.drop = lambda i, who, d: i == lost
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    p.advance(60)
    sa_a, sa_b = established(p)
    assert_agree(sa_a, sa_b)
    assert len(p.of("a", Phase1Established)) == len(p.of("b", Phase1Established)) == 1
    assert [s.state for s in p.a.isakmp_sas() + p.b.isakmp_sas()] == ["QM_IDLE"] * 2


def test_duplicated_datagrams() -> None:
    p = make_pair()
    p.duplicate = True
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    p.advance(100)
    sa_a, sa_b = established(p)
    assert_agree(sa_a, sa_b)
    assert len(p.of("a", Phase1Established)) == 1


def test_second_quick_mode_reuses_isakmp_sa() -> None:
    p = make_pair()
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    other = ProxyIdentity(0x0A000001, 0xFFFFFFFF, 0x0A000002, 0xFFFFFFFF)
    p.a.initiate(B_ADDR, other, OFFER, p.now)
    before = len(p.sent)
    p.pump()
    assert len(p.sent) - before == 3
    second = [e.sa for e in p.of("b", Phase2Established)][1]
    assert second.proxies == other.mirrored()
    assert p.b.isakmp_sas()[0].conn_id == 1001 and len(p.b.isakmp_sas()) == 1


def test_delete_isakmp_and_ipsec_both_ways() -> None:
    p = make_pair()
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    sa_a, sa_b = established(p)
    p.b.delete_ipsec(A_ADDR, [sa_b.spi_in], p.now)
    p.pump()
    assert p.of("a", Phase2Deleted) == [Phase2Deleted(B_ADDR, sa_a.spi_in)]
    p.a.delete_ipsec(None, [sa_a.spi_in], p.now)
    p.pump()
    assert p.of("b", Phase2Deleted) == []  # B had already removed its side
    p.a.delete_isakmp(B_ADDR, p.now)
    p.pump()
    assert p.a.isakmp_sas() == []
    assert p.of("b", IsakmpSaDeleted) == [IsakmpSaDeleted(A_ADDR, 1001)]
    assert [s.status for s in p.b.isakmp_sas()] == ["ACTIVE (deleted)"]
    # a new negotiation starts from main mode again, initiated by the other side
    p.b.initiate(A_ADDR, PROXIES.mirrored(), OFFER, p.now)
    p.pump()
    assert [s.conn_id for s in p.a.isakmp_sas()] == [1002]
    assert len(p.of("a", Phase2Established)) == 2


def test_api_misuse_raises_local_error_and_garbage_is_dropped() -> None:
    p = make_pair()
    with pytest.raises(LocalProtocolError):
        p.a.initiate(B_ADDR, PROXIES, "not an offer", p.now)  # type: ignore[arg-type]
    for junk in (b"", b"\x00" * 27, b"\xff" * 100):
        p.b.receive_datagram(junk, A_ADDR, p.now)
    assert p.b.dropped == 3
    p.a.initiate(B_ADDR, PROXIES, Phase2Offer((("esp-null",),), "tunnel", None), p.now)
    p.collect()
    assert p.of("a", Phase2Failed)


def test_our_mm1_and_strongswan_mm1_share_the_codec() -> None:
    """strongSwan's MM1 (mm-qm-nopfs.pcap, first datagram) is answered by our responder."""
    theirs = pull_message(ike_datagrams(NOPFS_PCAP)[0].payload)
    assert theirs.header.exchange_type == ExchangeType.IDENTITY_PROTECTION
    transform = theirs.get(SaPayload).proposals[0].transforms[0]  # type: ignore[union-attr]

    def value(kind: IkeAttributeType) -> int:
        attr = transform.attribute(kind)
        assert attr is not None
        return attr.as_int()

    names = {1: "des", 5: "3des", 7: "aes"}
    hashes = {1: "md5", 2: "sha", 4: "sha256", 5: "sha384", 6: "sha512"}
    bits = transform.attribute(IkeAttributeType.KEY_LENGTH)
    pol = IkePolicy(10, names[value(IkeAttributeType.ENCRYPTION_ALGORITHM)],
                    bits.as_int() if bits else None,
                    hashes[value(IkeAttributeType.HASH_ALGORITHM)], "pre-share",
                    value(IkeAttributeType.GROUP_DESCRIPTION), 86400)
    p = make_pair([pol], [pol])
    p.b.receive_datagram(push_back(theirs), A_ADDR, 0.0)
    ((_, mm2),) = p.b.datagrams_to_send()
    reply = pull_message(mm2)
    assert reply.header.initiator_cookie == theirs.header.initiator_cookie
    assert reply.get(SaPayload) is not None and reply.get(VendorIdPayload) is not None
    p.a.initiate(B_ADDR, PROXIES, OFFER, 0.0)
    ours = pull_message(p.a.datagrams_to_send()[0][1])
    assert [type(x) for x in ours.payloads][:1] == [type(x) for x in theirs.payloads][:1]


def push_back(message: object) -> bytes:
    from iosim.ike.payloads import IsakmpMessage, push_message

    assert isinstance(message, IsakmpMessage)
    return push_message(message)


def _established_pair(seed: str) -> Pair:
    pol = policy("aes", 128, "sha", 2)
    p = make_pair([pol], [pol], seed=seed)
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    established(p)
    return p


_CAPTURE = _established_pair("fuzz")
_MESSAGES = [d for who, d in _CAPTURE.sent if who == "a"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, len(_MESSAGES) - 1),
       edits=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=4),
       cut=st.integers(0, 2000), extend=st.binary(max_size=8))
def test_fuzzed_messages_never_break_the_responder(which: int, edits: list[tuple[int, int]],
                                                   cut: int, extend: bytes) -> None:
    p = _established_pair("fuzz")
    data = bytearray(_MESSAGES[which])
    for pos, val in edits:
        if data:
            data[pos % len(data)] = val
    mutated = bytes(data[: max(cut, 28)]) + extend
    for _ in range(2):
        p.b.receive_datagram(mutated, A_ADDR, p.now)
    p.pump()
    p.advance(30)
    other = ProxyIdentity(0x0A000001, 0xFFFFFFFF, 0x0A000002, 0xFFFFFFFF)
    p.a.initiate(B_ADDR, other, OFFER, p.now)
    p.pump()
    assert any(e.sa.proxies == other.mirrored() for e in p.of("b", Phase2Established))


# --- NAT traversal (RFC 3947) ------------------------------------------------------------------

A_PRIVATE = 0x0A000001  # 10.0.0.1: A's own address behind a NAT that shows it as A_ADDR


def _nat_pump(a: IkeEngine, b: IkeEngine, now: float, log: list[tuple[str, int, bytes]]
              ) -> float:
    """Deliver until quiet; A's datagrams reach B from A_ADDR (the NAT's public address)."""
    for _ in range(200):
        now += TICK
        moved = False
        for who, src, dst, seen_as in (("a", a, b, A_ADDR), ("b", b, a, B_ADDR)):
            for _peer, data, port in src.datagrams_with_ports():
                moved = True
                log.append((who, port, data))
                dst.receive_datagram(data, seen_as, now, port)
        if not moved:
            break
    return now


def _nat_engines(offer: Phase2Offer, nat_traversal: bool) -> tuple[IkeEngine, IkeEngine]:
    pol = policy()
    a = IkeEngine(A_PRIVATE, rand=SeededRandom("nat-a"), policies=lambda: [pol],
                  psk_for=lambda peer: "cisco123" if peer == B_ADDR else None,
                  nat_traversal=nat_traversal)
    b = IkeEngine(B_ADDR, rand=SeededRandom("nat-b"), policies=lambda: [pol],
                  psk_for=lambda peer: "cisco123" if peer == A_ADDR else None,
                  select_phase2=ios_select(offer), nat_traversal=nat_traversal)
    return a, b


@pytest.mark.parametrize("mode", ["tunnel", "transport"])
def test_nat_detected_both_float_to_4500_and_udp_encapsulate(mode: str) -> None:
    offer = Phase2Offer((("esp-aes 256", "esp-sha256-hmac"),), mode, None)
    a, b = _nat_engines(offer, nat_traversal=True)
    log: list[tuple[str, int, bytes]] = []
    a.initiate(B_ADDR, PROXIES, offer, 0.0)
    _nat_pump(a, b, 0.0, log)
    # MM1-MM4 on 500; the initiator floats with MM5, the responder follows; QM on 4500 too
    assert [(who, port) for who, port, _ in log] == [
        ("a", 500), ("b", 500), ("a", 500), ("b", 500),
        ("a", 4500), ("b", 4500), ("a", 4500), ("b", 4500), ("a", 4500)]
    assert a.datagram_port(B_ADDR) == b.datagram_port(A_ADDR) == 4500
    assert [s.nat_t for s in a.isakmp_sas()] == [s.nat_t for s in b.isakmp_sas()] == [True]
    events_a = [e for e in iter(a.next_event, None) if isinstance(e, Phase2Established)]
    events_b = [e for e in iter(b.next_event, None) if isinstance(e, Phase2Established)]
    assert len(events_a) == len(events_b) == 1
    sa_a, sa_b = events_a[0].sa, events_b[0].sa
    assert sa_a.udp_encap and sa_b.udp_encap
    assert sa_a.mode == sa_b.mode == mode
    assert sa_a.spi_out == sa_b.spi_in and sa_a.keys_out == sa_b.keys_in
    assert sa_a.peer == B_ADDR and sa_b.peer == A_ADDR
    assert a.dropped == b.dropped == 0


def test_nat_detected_without_nat_traversal_only_detects() -> None:
    """The default (routers, whose stack sends IKE to 500 only): no float, plain ESP."""
    a, b = _nat_engines(OFFER, nat_traversal=False)
    log: list[tuple[str, int, bytes]] = []
    a.initiate(B_ADDR, PROXIES, OFFER, 0.0)
    _nat_pump(a, b, 0.0, log)
    assert {port for _, port, _ in log} == {500} and len(log) == 9
    assert all(sa.nat_detected for e in (a, b) for sa in e._sas.values())
    (ev_a,) = [e for e in iter(a.next_event, None) if isinstance(e, Phase2Established)]
    (ev_b,) = [e for e in iter(b.next_event, None) if isinstance(e, Phase2Established)]
    assert not ev_a.sa.udp_encap and not ev_b.sa.udp_encap
    assert [s.nat_t for s in a.isakmp_sas()] == [False]


def test_no_nat_stays_on_500_and_plain_esp() -> None:
    p = make_pair(b_select=OFFER)
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    sa_a, sa_b = established(p)
    assert not sa_a.udp_encap and not sa_b.udp_encap
    assert p.a.datagram_port(B_ADDR) == p.b.datagram_port(A_ADDR) == 500
    assert [s.nat_t for s in p.a.isakmp_sas()] == [False]


def test_udp_encapsulated_modes_codec_and_refusal_without_float() -> None:
    from iosim.ike.constants import EncapsulationMode, IpsecAttributeType
    from iosim.ike.quick_mode import offer_sa_payload, parse_esp_transform

    for mode, value in (("tunnel", EncapsulationMode.UDP_ENCAPSULATED_TUNNEL),
                        ("transport", EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT)):
        sa = offer_sa_payload(Phase2Offer(OFFER.transform_sets, mode, None), bytes(4),
                              udp_encap=True)
        t = sa.proposals[0].transforms[0]
        attr = next(x for x in t.attributes
                    if x.attribute_type == IpsecAttributeType.ENCAPSULATION_MODE)
        assert attr.as_int() == value
        parsed = parse_esp_transform(t)
        assert parsed is not None and parsed.udp_encap and parsed.mode == mode
    # a responder whose SA did not float refuses UDP-Encapsulated modes (as before NAT-T)
    p = make_pair(b_select=OFFER)
    p.a.initiate(B_ADDR, PROXIES, OFFER, p.now)
    p.pump()
    established(p)
    for sa in p.a._sas.values():  # test hook: A alone believes it floated
        sa.floated = True
    other = ProxyIdentity(0xC0A80300, 0xFFFFFF00, 0xC0A80400, 0xFFFFFF00)
    p.a.initiate(B_ADDR, other, OFFER, p.now)
    p.pump()
    (failed,) = p.of("b", Phase2Failed)
    assert "NO_PROPOSAL_CHOSEN" in failed.reason
    assert [(f.peer, f.reason) for f in p.of("a", Phase2Failed)] == [
        (B_ADDR, "NO_PROPOSAL_CHOSEN from peer")]
