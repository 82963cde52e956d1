"""Two IKEv2 engines in memory: every exchange of RFC 7296 both ways, failures as IOS fails."""

from __future__ import annotations

from ikev2_pair import (
    DEFAULT,
    OFFER,
    PFS_OFFER,
    PROXIES,
    TS,
    A,
    B,
    Link,
    pair_of,
    settings,
)

from iosim.ike.quick_mode import IpsecSaPair, Phase2Offer, ProxyIdentity
from iosim.ike2.engine import NAT_T_PORT
from iosim.ike2.events import (
    ChildDeleted,
    ChildFailed,
    ChildUp,
    InitialContact,
    NegotiationFailed,
    PacketSent,
    PeerDead,
    SaDown,
    SaUp,
)
from iosim.ike2.payloads import pull_header, pull_message
from iosim.ike2.sa import IkeProposal


def _up(link: Link, offer: Phase2Offer = OFFER) -> tuple[IpsecSaPair, IpsecSaPair]:
    link.a.engine.initiate(B, PROXIES, offer, link.now, link.a.settings)  # type: ignore[arg-type]
    link.pump()
    mine = [e.sa for e in link.a.of(ChildUp)]  # type: ignore[attr-defined]
    theirs = [e.sa for e in link.b.of(ChildUp)]  # type: ignore[attr-defined]
    assert mine and theirs, (link.a.events, link.b.events)
    return mine[-1], theirs[-1]


def _mirror(a: IpsecSaPair, b: IpsecSaPair) -> None:
    assert (a.spi_in, a.spi_out) == (b.spi_out, b.spi_in)
    assert (a.keys_in, a.keys_out) == (b.keys_out, b.keys_in)
    assert a.proxies == b.proxies.mirrored()
    assert (a.encryption, a.integrity) == (b.encryption, b.integrity) == TS


def test_four_messages_bring_up_ike_sa_and_first_child() -> None:
    link = pair_of()
    a, b = _up(link)
    _mirror(a, b)
    assert len(link.wire) == 4  # IKE_SA_INIT and IKE_AUTH, request and response each
    assert [type(e) for e in link.a.events if isinstance(e, SaUp)] == [SaUp]
    assert link.b.of(SaUp) and not link.a.of(NegotiationFailed)
    assert a.pfs_group is None and not a.udp_encap
    exchanges = [pull_header(d).exchange_type for _, d, _ in link.wire]
    assert exchanges == [34, 34, 35, 35]


def test_gcm_ike_sa() -> None:
    gcm = IkeProposal("G", ("aes-gcm-256",), (), ("sha384",), (20,))
    link = pair_of(a_props=[gcm], b_props=[gcm])
    _mirror(*_up(link))
    sa = link.a.engine.sa_for(B)
    assert sa is not None and sa.suite is not None and sa.suite.cipher.aead
    assert sa.keys is not None and sa.keys.sk_ai == b"" and len(sa.keys.sk_ei) == 36


def test_asymmetric_keys_work_and_a_wrong_key_fails_with_authentication_failed() -> None:
    link = pair_of(a_settings=settings(A, b"left", b"right"),
                   b_settings=settings(B, b"right", b"left"))
    _mirror(*_up(link))
    bad = pair_of(a_settings=settings(A, b"left", b"right"),
                  b_settings=settings(B, b"right", b"wrong"))
    bad.a.engine.initiate(B, PROXIES, OFFER, 0.0, bad.a.settings)  # type: ignore[arg-type]
    bad.pump()
    assert not bad.a.of(ChildUp) and not bad.b.of(ChildUp)
    fails = bad.a.of(NegotiationFailed) + bad.b.of(NegotiationFailed)
    assert {f.notify for f in fails} == {"AUTHENTICATION_FAILED"}  # type: ignore[attr-defined]
    assert not bad.a.engine.sas and not bad.b.engine.sas


def test_no_proposal_chosen() -> None:
    link = pair_of(b_props=[IkeProposal("X", ("3des",), ("md5",), (), (2,))])
    link.a.engine.initiate(B, PROXIES, OFFER, 0.0, link.a.settings)  # type: ignore[arg-type]
    link.pump()
    fail = link.a.of(NegotiationFailed)
    assert fail and fail[0].notify == "NO_PROPOSAL_CHOSEN"  # type: ignore[attr-defined]
    assert link.b.of(NegotiationFailed)


def test_invalid_ke_payload_and_the_retry_with_the_group_asked_for() -> None:
    a = IkeProposal("A", ("aes-cbc-128",), ("sha1",), (), (19, 14))
    b = IkeProposal("B", ("aes-cbc-128",), ("sha1",), (), (14,))
    link = pair_of(a_props=[a], b_props=[b])
    _mirror(*_up(link))
    assert len(link.wire) == 6
    first_answer = pull_message(link.wire[1][1])
    assert first_answer.notifies()[0].notify_type == 17  # INVALID_KE_PAYLOAD
    assert first_answer.notifies()[0].data == (14).to_bytes(2, "big")


def test_cookie_challenge_when_half_open_sas_exceed_the_threshold() -> None:
    link = pair_of(b_kw={"cookie_threshold": lambda: 0})
    _mirror(*_up(link))
    assert len(link.wire) == 6
    challenge = pull_message(link.wire[1][1])
    assert challenge.notifies()[0].notify_type == 16390  # COOKIE
    retry = pull_message(link.wire[2][1])
    assert retry.notifies()[0].notify_type == 16390
    assert link.b.engine.stats["cookie_challenged"] == 1
    assert link.b.engine.stats["cookie_accepted"] == 1


def test_nat_detected_floats_to_4500_and_children_are_udp_encapsulated() -> None:
    link = pair_of()
    link.nat = 0xCB007101  # the ISP's outside address
    link.b.engine.local = B
    a, b = _up(link)
    assert a.udp_encap and b.udp_encap
    assert [port for _, _, port in link.wire] == [500, 500, NAT_T_PORT, NAT_T_PORT]


def test_child_rekey_with_pfs_then_delete() -> None:
    link = pair_of(b_pfs=14)
    a1, b1 = _up(link, PFS_OFFER)
    a2, b2 = _up(link, PFS_OFFER)  # a second request for the same proxies: a rekey
    _mirror(a2, b2)
    assert a2.pfs_group == 14 and a2.spi_in != a1.spi_in
    assert a2.keys_out != a1.keys_out
    rekey = link.b.of(ChildUp)[-1]
    assert rekey.replaces == b1.spi_in  # type: ignore[attr-defined]
    link.pump()  # RFC 7296 2.8: the rekey's initiator deletes the pair it replaced
    assert [e.spi_in for e in link.a.of(ChildDeleted)] == [a1.spi_in]  # type: ignore[attr-defined]
    assert [e.spi_in for e in link.b.of(ChildDeleted)] == [b1.spi_in]  # type: ignore[attr-defined]
    link.a.engine.delete_child(B, a2.spi_in, link.now)
    link.pump()
    assert [e.spi_in for e in link.b.of(ChildDeleted)] == [  # type: ignore[attr-defined]
        b1.spi_in, b2.spi_in]


def test_pfs_required_by_the_responder_refuses_a_child_without() -> None:
    link = pair_of(b_pfs=14)
    _up(link)  # IKE_AUTH's child never has PFS: accepted
    link.a.engine.initiate(B, PROXIES, OFFER, link.now, link.a.settings)  # type: ignore[arg-type]
    link.pump()
    refused = link.b.of(ChildFailed)
    assert refused and refused[0].notify == "NO_PROPOSAL_CHOSEN"  # type: ignore[attr-defined]
    assert link.a.of(ChildFailed)


def test_ts_unacceptable_for_a_crypto_acl_that_does_not_match() -> None:
    other = ProxyIdentity(0x0A000300, 0xFFFFFF00, 0xC0A80100, 0xFFFFFF00)
    link = pair_of(b_acl=other)
    link.a.engine.initiate(B, PROXIES, OFFER, 0.0, link.a.settings)  # type: ignore[arg-type]
    link.pump()
    assert link.a.of(SaUp) and link.b.of(SaUp)  # the IKE SA comes up, the child does not
    assert [e.notify for e in link.a.of(ChildFailed)] == ["TS_UNACCEPTABLE"]  # type: ignore[attr-defined]


def test_ike_sa_rekey_keeps_the_children_and_deletes_the_old_sa() -> None:
    link = pair_of(a_settings=settings(A, lifetime=600), b_settings=settings(B, lifetime=600))
    a, b = _up(link)
    old_a = link.a.engine.sa_for(B)
    assert old_a is not None
    link.run(541)  # 90 % of the lifetime
    new_a, new_b = link.a.engine.sa_for(B), link.b.engine.sa_for(A)
    assert new_a is not None and new_b is not None and new_a is not old_a
    assert new_a.spi_i != old_a.spi_i and (new_a.spi_i, new_a.spi_r) == (new_b.spi_i, new_b.spi_r)
    assert new_a.keys == new_b.keys and a.spi_in in new_a.children
    assert len(link.a.engine.sas) == len(link.b.engine.sas) == 1
    assert not link.a.of(ChildDeleted)
    # the session goes on: no SA down or up on either side, one session id throughout
    assert not link.a.of(SaDown) and not link.b.of(SaDown)
    assert len(link.a.of(SaUp)) == len(link.b.of(SaUp)) == 1
    assert new_a.session_id == old_a.sa_id != new_a.sa_id
    # the new SA carries CREATE_CHILD_SA and INFORMATIONAL on
    _mirror(*_up(link))


def test_dpd_declares_a_silent_peer_dead() -> None:
    link = pair_of(a_settings=settings(A, dpd=(10, 2, True)))
    _up(link)
    link.lost = 10 ** 6  # the peer goes away
    link.run(60)
    dead = link.a.of(PeerDead)
    assert dead and link.a.of(ChildDeleted) and not link.a.engine.sas
    probes = [d for name, d, _ in link.wire if name == "a" and pull_header(d).exchange_type == 37]
    assert len(probes) == 6  # the probe and five retries, two seconds apart


def test_dpd_answered_keeps_the_sa() -> None:
    link = pair_of(a_settings=settings(A, dpd=(10, 2, True)))
    _up(link)
    link.run(100)
    assert not link.a.of(PeerDead) and link.a.engine.sa_for(B) is not None
    assert sum(1 for _, d, _ in link.wire if pull_header(d).exchange_type == 37) >= 18


def test_retransmission_then_give_up() -> None:
    link = pair_of()
    link.lost = 10 ** 6
    link.a.engine.initiate(B, PROXIES, OFFER, 0.0, link.a.settings)  # type: ignore[arg-type]
    link.run(200)
    sent = [e for e in link.a.events if isinstance(e, PacketSent)]
    assert len(sent) == 1 and len(link.wire) == 6
    assert "retransmissions" in link.a.of(NegotiationFailed)[0].reason  # type: ignore[attr-defined]


def test_a_lost_response_is_answered_again_from_the_window() -> None:
    link = pair_of()
    link.a.engine.initiate(B, PROXIES, OFFER, 0.0, link.a.settings)  # type: ignore[arg-type]
    link.pump()
    link.a.engine.delete_child(B, link.a.of(ChildUp)[0].sa.spi_in, 0.0)  # type: ignore[attr-defined]
    link.b.events.clear()
    # lose B's response to the delete: A retransmits, B answers from its window once more
    for _peer, data, port in link.a.engine.datagrams_with_ports():
        link.b.engine.receive_datagram(data, A, 0.0, port)
    link.b.engine.datagrams_with_ports()
    link.run(3)
    assert len(link.b.of(ChildDeleted)) == 1 and link.a.engine.sa_for(B) is not None
    assert not link.a.engine.sa_for(B).outstanding  # type: ignore[union-attr]


def test_initial_contact_forgets_a_rebooted_peers_sas() -> None:
    link = pair_of()
    a, b = _up(link)
    from ikev2_pair import side

    link.a = side(A, "a-again", [DEFAULT], settings(A), PROXIES)  # A reboots
    _up(link)
    assert link.b.of(InitialContact)[-1].spis == (b.spi_in,)  # type: ignore[attr-defined]
    assert len(link.b.engine.sas) == 1


def test_fragmentation_splits_and_reassembles() -> None:
    link = pair_of(a_kw={"fragmentation_mtu": lambda: 300},
                   b_kw={"fragmentation_mtu": lambda: 300})
    big = Phase2Offer(tuple((TS,) * 1) + tuple(
        (f"esp-aes {b}", h) for b in (192, 256) for h in
        ("esp-sha-hmac", "esp-sha384-hmac", "esp-sha512-hmac", "esp-md5-hmac")), "tunnel", None)
    a, b = _up(link, big)
    _mirror(a, b)
    kinds = [pull_message(d).payloads[-1].payload_type for _, d, _ in link.wire[2:]]
    assert kinds.count(53) >= 2  # SKF


def test_garbage_is_dropped_and_counted() -> None:
    link = pair_of()
    _up(link)
    for junk in (b"", b"\x00" * 28, bytes(range(256)), link.wire[2][1][:-1]):
        link.b.engine.receive_datagram(junk, A, 1.0)
    tampered = bytearray(link.wire[2][1])
    tampered[-1] ^= 1
    link.b.engine.receive_datagram(bytes(tampered), A, 1.0)
    assert link.b.engine.dropped >= 5 and link.b.engine.sa_for(A) is not None


def test_a_child_spi_the_device_receives_on_is_drawn_again() -> None:
    """The same draws each time; the second time A's device already receives on the SPI A
    chose the first time, so A draws another (the receiver tells SAs apart by SPI alone)."""
    first, _ = _up(pair_of())
    asked: list[int] = []

    def in_use(spi: int) -> bool:
        asked.append(spi)
        return spi == first.spi_in

    a, b = _up(pair_of(a_kw={"spi_in_use": in_use}))
    assert asked[0] == first.spi_in
    assert a.spi_in != first.spi_in and a.spi_in >= 256
    _mirror(a, b)
