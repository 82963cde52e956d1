"""Quick mode with AH and AH+ESP transform sets (RFC 2407 4.4.3/4.5, RFC 2408 4.2), its
IOS-internal state transitions and proxy identities with protocol and ports, between two
engines paired as in test_engine.py.

State names and their order: ../shared/reference/ios/debug-crypto-isakmp-main-mode.txt
(initiator) and debug-crypto-ipsec-quick-mode.txt [1] (responder).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from test_engine import (
    A_ADDR,
    A_PRIVATE,
    B_ADDR,
    PROXIES,
    Pair,
    _nat_engines,
    _nat_pump,
    make_pair,
    policy,
)

from iosim.crypto.rand import SeededRandom
from iosim.ike.constants import (
    EncapsulationMode,
    IdType,
    IpsecAttributeType,
    ProtocolId,
)
from iosim.ike.engine import (
    IkeEngine,
    IpsecSaPair,
    Phase1Established,
    Phase2Established,
    Phase2Failed,
    Phase2Offer,
    ProxyIdentity,
)
from iosim.ike.keymat import keymat
from iosim.ike.main_mode import StateChanged
from iosim.ike.payloads import (
    DataAttribute,
    DeletePayload,
    IdPayload,
    ProposalPayload,
    SaPayload,
    TransformPayload,
    pull_payloads,
    push_payloads,
)
from iosim.ike.quick_mode import (
    answered_choice,
    canonical_transform_set,
    delete_payloads,
    esp_suite,
    id_payload,
    offer_sa_payload,
    offers_from_sa,
    pair_deleted_by,
    proxy_from_ids,
    transform_set_suite,
    usable_transform_set,
)
from iosim.ipsec import ah, esp
from iosim.ipsec.ah import AhSa
from iosim.ipsec.esp import AuthenticationError, EspSa, build_ipv4_header
from iosim.ipsec.transforms import AH_TRANSFORMS, encryption_transform, integrity_transform

AH_NAMES = sorted(AH_TRANSFORMS)
ESP_WORDS = ("esp-aes 256", "esp-sha-hmac")
BOOT = Phase2Offer((ESP_WORDS,), "tunnel", None)
BOOT_PROXIES = ProxyIdentity(0x0A010101, 0xFFFFFFFF, 0x0A020202, 0xFFFFFFFF)
_AH = ProtocolId.PROTO_IPSEC_AH
_ESP = ProtocolId.PROTO_IPSEC_ESP


def accept(*sets: tuple[str, ...], mode: str = "tunnel", pfs: int | None = None
           ) -> Callable[[int, ProxyIdentity, list[Phase2Offer]], Phase2Offer | None]:
    """A responder whose crypto map allows ``sets`` (in any word order), like IOS."""
    ours = {canonical_transform_set(ts) for ts in sets + (ESP_WORDS,)}

    def select(_peer: int, _proxies: ProxyIdentity, offers: list[Phase2Offer]
               ) -> Phase2Offer | None:
        for offer in offers:
            if offer.mode == mode and offer.pfs_group == pfs:
                for ts in offer.transform_sets:
                    if canonical_transform_set(ts) in ours:
                        return Phase2Offer((ts,), mode, pfs, 3600, 4608000)
        return None
    return select


def paired(select: Callable[[int, ProxyIdentity, list[Phase2Offer]], Phase2Offer | None],
           pfs: int | None = None, seed: str = "qm", mode: str = "tunnel") -> Pair:
    """Two engines with phase 1 up (through a first ESP quick mode), events cleared."""
    pol = policy()
    a = IkeEngine(A_ADDR, rand=SeededRandom(seed + "a"), policies=lambda: [pol],
                  psk_for=lambda peer: "cisco123" if peer == B_ADDR else None)
    b = IkeEngine(B_ADDR, rand=SeededRandom(seed + "b"), policies=lambda: [pol],
                  psk_for=lambda peer: "cisco123" if peer == A_ADDR else None,
                  select_phase2=select)
    p = Pair(a, b)
    p.a.initiate(B_ADDR, BOOT_PROXIES, Phase2Offer((ESP_WORDS,), mode, pfs), p.now)
    p.pump()
    assert len(p.of("a", Phase2Established)) == 1, p.events
    p.events = {"a": [], "b": []}
    return p


def quick_mode(engine: IkeEngine, peer: int, proxies: ProxyIdentity, offer: Phase2Offer,
               now: float) -> None:
    """Start a quick mode over the established ISAKMP SA with ``peer`` through the mixin's
    entry point (what ``IkeEngine.initiate`` calls once phase 1 is up)."""
    sa = engine._sa_for_peer(peer)
    assert sa is not None and sa.established
    engine._start_quick_mode(sa, proxies, offer, now)


def negotiate(ts: tuple[str, ...], pfs: int | None = None, mode: str = "tunnel",
              proxies: ProxyIdentity = PROXIES) -> tuple[Pair, IpsecSaPair, IpsecSaPair]:
    p = paired(accept(ts, mode=mode, pfs=pfs), pfs, seed="-".join(ts) + str(pfs), mode=mode)
    quick_mode(p.a, B_ADDR, proxies, Phase2Offer((ts,), mode, pfs), p.now)
    p.pump()
    (ea,), (eb,) = p.of("a", Phase2Established), p.of("b", Phase2Established)
    assert p.a.dropped == p.b.dropped == 0
    return p, ea.sa, eb.sa


def assert_ah_agree(a: IpsecSaPair, b: IpsecSaPair, name: str) -> None:
    row = integrity_transform(name)
    assert a.ah_integrity == b.ah_integrity == name
    assert a.ah_spi_out == b.ah_spi_in and a.ah_spi_in == b.ah_spi_out
    assert a.ah_keys_out == b.ah_keys_in and a.ah_keys_in == b.ah_keys_out
    assert len(a.ah_keys_in) == len(a.ah_keys_out) == row.key_size
    assert a.ah_keys_in != a.ah_keys_out
    assert 256 <= a.ah_spi_in and 256 <= b.ah_spi_in


# --- negotiation ------------------------------------------------------------------------------


@pytest.mark.parametrize("pfs", [None, 14])
@pytest.mark.parametrize("name", AH_NAMES)
def test_ah_alone(name: str, pfs: int | None) -> None:
    _, a, b = negotiate((name,), pfs)
    for pair in (a, b):
        assert pair.protocol == "ah" and pair.encryption == "" and pair.integrity is None
        assert pair.keys_in == pair.keys_out == b""
        assert (pair.spi_in, pair.spi_out) == (pair.ah_spi_in, pair.ah_spi_out)
        assert pair.pfs_group == pfs and pair.mode == "tunnel" and not pair.udp_encap
    assert_ah_agree(a, b, name)
    assert a.proxies == PROXIES and b.proxies == PROXIES.mirrored()


@pytest.mark.parametrize("pfs", [None, 5])
@pytest.mark.parametrize("name", AH_NAMES)
def test_ah_with_esp(name: str, pfs: int | None) -> None:
    ts = (name, "esp-aes 256", "esp-sha256-hmac")
    _, a, b = negotiate(ts, pfs, mode="transport")
    for pair in (a, b):
        assert pair.protocol == "ah+esp" and pair.mode == "transport"
        assert pair.encryption == "esp-aes 256" and pair.integrity == "esp-sha256-hmac"
        assert pair.spi_in != pair.ah_spi_in  # one SPI per protocol
        assert len(pair.keys_in) == 32 + 32
        assert pair.pfs_group == pfs
    assert a.spi_out == b.spi_in and a.spi_in == b.spi_out
    assert a.keys_out == b.keys_in and a.keys_in == b.keys_out
    assert_ah_agree(a, b, name)
    assert not {a.keys_in[:16], a.keys_out[:16]} & {a.ah_keys_in[:16], a.ah_keys_out[:16]}


@pytest.mark.parametrize("pfs", [None, 14])
def test_keymat_per_protocol_with_that_protocols_spi(pfs: int | None) -> None:
    """RFC 2409 5.5: KEYMAT = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b), with
    protocol 2 and the AH SPI for AH, 3 and the ESP SPI for ESP (receiver's SPI each)."""
    p, a, _ = negotiate(("ah-sha256-hmac", "esp-aes", "esp-md5-hmac"), pfs)
    sa = p.a._sa_for_peer(B_ADDR)
    assert sa is not None
    suite, keys = sa.require_keys()
    (x,) = [x for x in p.a._qm.values() if x.initiator and x.ah_spi_in == a.ah_spi_in]
    expected = {
        (_AH, a.ah_spi_in, 32): a.ah_keys_in, (_AH, a.ah_spi_out, 32): a.ah_keys_out,
        (_ESP, a.spi_in, 16 + 16): a.keys_in, (_ESP, a.spi_out, 16 + 16): a.keys_out,
    }
    for (protocol, spi, size), got in expected.items():
        plain = keymat(suite.hash, keys.skeyid_d, protocol, spi.to_bytes(4, "big"), x.ni_b,
                       x.nr_b, size)
        if pfs is None:
            assert got == plain
        else:
            assert got != plain and len(got) == size  # g(qm)^xy is mixed in


def test_words_in_any_order_negotiate_the_canonical_bundle() -> None:
    p = paired(accept(("esp-sha-hmac", "ah-md5-hmac", "esp-3des")))
    offer = Phase2Offer((("esp-3des", "esp-sha-hmac", "ah-md5-hmac"),), "tunnel", None)
    quick_mode(p.a, B_ADDR, PROXIES, offer, p.now)
    p.pump()
    (ea,), (eb,) = p.of("a", Phase2Established), p.of("b", Phase2Established)
    assert ea.sa.protocol == eb.sa.protocol == "ah+esp"
    assert ea.sa.ah_integrity == "ah-md5-hmac" and ea.sa.encryption == "esp-3des"


def test_mixed_offer_chooses_the_responders_set() -> None:
    """Proposals 1 (ESP), 2 (AH+ESP), 3 (AH): a responder allowing only AH gets AH."""
    bundle = ("ah-sha-hmac", "esp-aes", "esp-sha-hmac")
    offer = Phase2Offer((("esp-gcm 256",), bundle, ("ah-sha256-hmac",)), "tunnel", None)
    p = paired(accept(("ah-sha256-hmac",)))
    quick_mode(p.a, B_ADDR, PROXIES, offer, p.now)
    p.pump()
    (ea,), (eb,) = p.of("a", Phase2Established), p.of("b", Phase2Established)
    assert ea.sa.protocol == "ah" and ea.sa.ah_integrity == "ah-sha256-hmac"
    assert_ah_agree(ea.sa, eb.sa, "ah-sha256-hmac")
    # the AH SPI the initiator offered is the pair's, not its ESP one
    assert ea.sa.spi_in == ea.sa.ah_spi_in == eb.sa.spi_out


@pytest.mark.parametrize(("offered", "allowed"), [
    (("ah-sha-hmac", "esp-aes 256", "esp-sha-hmac"), ("esp-aes 256", "esp-sha-hmac")),
    (("ah-sha-hmac", "esp-aes 256", "esp-sha-hmac"), ("ah-sha-hmac",)),
    (("ah-sha-hmac", "esp-aes 256", "esp-sha-hmac"), ("ah-md5-hmac", "esp-aes 256",
                                                       "esp-sha-hmac")),
    (("esp-aes 256", "esp-sha256-hmac"), ("ah-sha-hmac", "esp-aes 256", "esp-sha256-hmac")),
    (("ah-sha-hmac",), ("ah-sha-hmac", "esp-aes 256", "esp-sha-hmac")),
])
def test_bundle_mismatch_is_no_proposal_chosen(offered: tuple[str, ...],
                                               allowed: tuple[str, ...]) -> None:
    p = paired(accept(allowed))
    quick_mode(p.a, B_ADDR, PROXIES, Phase2Offer((offered,), "tunnel", None), p.now)
    p.pump()
    assert not p.of("a", Phase2Established) and not p.of("b", Phase2Established)
    (failed,) = p.of("b", Phase2Failed)
    assert failed.reason.startswith("NO_PROPOSAL_CHOSEN")
    assert [(f.peer, f.reason) for f in p.of("a", Phase2Failed)] == [
        (B_ADDR, "NO_PROPOSAL_CHOSEN from peer")]


def test_responder_accepts_only_the_whole_bundle() -> None:
    """An AH+ESP proposal whose ESP half we cannot read is refused whole, not cut to AH."""
    offer = Phase2Offer((("ah-sha-hmac", "esp-aes", "esp-sha-hmac"),), "tunnel", None)
    sa = offer_sa_payload(offer, b"\x00\x00\x10\x01", ah_spi=b"\x00\x00\x20\x02")
    assert [(p.number, p.protocol_id) for p in sa.proposals] == [(1, _AH), (1, _ESP)]
    ah_part, esp_part = sa.proposals
    unknown = TransformPayload(1, 99, esp_part.transforms[0].attributes)
    broken = SaPayload((ah_part, ProposalPayload(1, _ESP, esp_part.spi, (unknown,))))
    assert offers_from_sa(broken) == []
    ipcomp = SaPayload((ah_part, esp_part, ProposalPayload(1, ProtocolId.PROTO_IPCOMP,
                                                           b"\x00\x01", ())))
    assert offers_from_sa(ipcomp) == []
    ((whole, _),) = offers_from_sa(sa)
    assert whole.transform_sets == (("ah-sha-hmac", "esp-aes", "esp-sha-hmac"),)


def test_initiator_refuses_half_a_bundle_in_qm2() -> None:
    offer = Phase2Offer((("ah-sha-hmac", "esp-aes", "esp-sha-hmac"),), "tunnel", None)
    sent = offer_sa_payload(offer, b"\x00\x00\x10\x01", ah_spi=b"\x00\x00\x20\x02")
    ah_part, esp_part = sent.proposals
    assert answered_choice(sent, SaPayload((esp_part,))) is None
    assert answered_choice(sent, SaPayload((ah_part,))) is None
    choice = answered_choice(sent, SaPayload((ah_part, esp_part)))
    assert choice is not None and choice.transform_set == offer.transform_sets[0]
    md5 = offer_sa_payload(Phase2Offer((("ah-md5-hmac", "esp-aes", "esp-sha-hmac"),),
                                       "tunnel", None), bytes(4), ah_spi=bytes(4))
    assert answered_choice(sent, md5) is None  # a transform we did not offer


# --- the SA payload on the wire ----------------------------------------------------------------


def _attrs(t: TransformPayload) -> dict[int, int]:
    return {a.attribute_type: a.as_int() for a in t.attributes
            if a.attribute_type != IpsecAttributeType.SA_LIFE_DURATION}


@pytest.mark.parametrize(("name", "transform_id", "auth"), [
    ("ah-md5-hmac", 2, 1), ("ah-sha-hmac", 3, 2), ("ah-sha256-hmac", 5, 5),
    ("ah-sha384-hmac", 6, 6), ("ah-sha512-hmac", 7, 7)])
def test_ah_proposal_encoding(name: str, transform_id: int, auth: int) -> None:
    """RFC 2407 4.4.3 transform IDs, 4.5 Authentication Algorithm; no Key Length for AH."""
    offer = Phase2Offer(((name,), ("esp-aes", "esp-md5-hmac"), (name, "esp-null", "esp-md5-hmac")),
                        "transport", 14, 1800, 10000)
    sa = offer_sa_payload(offer, b"\x00\x00\x10\x01", ah_spi=b"\x00\x00\x20\x02")
    layout = [(p.number, p.protocol_id, p.spi) for p in sa.proposals]
    assert layout == [(1, _AH, b"\x00\x00\x20\x02"), (2, _ESP, b"\x00\x00\x10\x01"),
                      (3, _AH, b"\x00\x00\x20\x02"), (3, _ESP, b"\x00\x00\x10\x01")]
    t = sa.proposals[0].transforms[0]
    assert t.transform_id == transform_id
    assert _attrs(t) == {IpsecAttributeType.ENCAPSULATION_MODE: EncapsulationMode.TRANSPORT,
                         IpsecAttributeType.SA_LIFE_TYPE: 2,
                         IpsecAttributeType.AUTHENTICATION_ALGORITHM: auth,
                         IpsecAttributeType.GROUP_DESCRIPTION: 14}
    durations = [a.as_int() for a in t.attributes
                 if a.attribute_type == IpsecAttributeType.SA_LIFE_DURATION]
    assert durations == [1800, 10000]
    assert [o.transform_sets for o, _ in offers_from_sa(sa)] == [
        ((name,),), (("esp-aes", "esp-md5-hmac"),), ((name, "esp-null", "esp-md5-hmac"),)]


def test_ah_transform_with_wrong_attributes_is_not_read() -> None:
    good = offer_sa_payload(Phase2Offer((("ah-sha-hmac",),), "tunnel", None), bytes(4))
    prop = good.proposals[0]
    t = prop.transforms[0]
    wrong_auth = tuple(DataAttribute(a.attribute_type, 1) if a.attribute_type
                       == IpsecAttributeType.AUTHENTICATION_ALGORITHM else a
                       for a in t.attributes)
    key_length = t.attributes + (DataAttribute(IpsecAttributeType.KEY_LENGTH, 128),)
    udp = tuple(DataAttribute(a.attribute_type, EncapsulationMode.UDP_ENCAPSULATED_TUNNEL)
                if a.attribute_type == IpsecAttributeType.ENCAPSULATION_MODE else a
                for a in t.attributes)
    for attrs in (wrong_auth, key_length, udp):
        bad = SaPayload((ProposalPayload(1, _AH, prop.spi, (TransformPayload(1, 3, attrs),)),))
        assert offers_from_sa(bad) == []


def test_transform_set_classification() -> None:
    assert usable_transform_set(("ah-sha-hmac",))
    assert usable_transform_set(("ah-sha-hmac", "esp-aes 256", "esp-sha-hmac"))
    assert usable_transform_set(("ah-md5-hmac", "esp-null"))  # AH authenticates, ESP-null
    assert not usable_transform_set(("esp-null",))
    assert not usable_transform_set(("ah-sha-hmac", "ah-md5-hmac"))
    assert not usable_transform_set(("esp-sha-hmac",))
    assert not usable_transform_set(("ah-foo-hmac",))
    assert not usable_transform_set(("esp-gcm", "esp-sha-hmac"))
    suite = transform_set_suite(("esp-aes", "ah-sha-hmac"))
    assert suite is not None and suite.protocol == "ah+esp"
    assert esp_suite(("ah-sha-hmac", "esp-aes")) is None  # not ESP-only
    assert esp_suite(("esp-aes", "esp-sha-hmac")) is not None


# --- keys that work in the data plane ----------------------------------------------------------


def test_negotiated_ah_keys_protect_packets_both_ways() -> None:
    _, a, b = negotiate(("ah-sha512-hmac",), 14)
    row = integrity_transform("ah-sha512-hmac")
    inner = build_ipv4_header("192.168.1.5", "192.168.2.5", 1, 8) + bytes(8)
    a_out, b_in = (AhSa.from_keymat(a.ah_spi_out, row, a.ah_keys_out),
                   AhSa.from_keymat(b.ah_spi_in, row, b.ah_keys_in))
    b_out, a_in = (AhSa.from_keymat(b.ah_spi_out, row, b.ah_keys_out),
                   AhSa.from_keymat(a.ah_spi_in, row, a.ah_keys_in))
    wire = ah.tunnel_encapsulate(a_out, 1, inner, "203.0.113.1", "203.0.113.2")
    assert ah.tunnel_decapsulate(b_in, wire) == (1, inner)
    back = ah.tunnel_encapsulate(b_out, 1, inner, "203.0.113.2", "203.0.113.1")
    assert ah.tunnel_decapsulate(a_in, back) == (1, inner)
    with pytest.raises(AuthenticationError):  # the other direction's key does not verify
        ah.tunnel_decapsulate(AhSa(a_out.spi, row, a.ah_keys_in), wire)


def test_negotiated_bundle_keys_protect_packets() -> None:
    _, a, b = negotiate(("ah-sha-hmac", "esp-aes 256", "esp-sha256-hmac"), None, "transport")
    ah_row = integrity_transform("ah-sha-hmac")
    enc, integ = encryption_transform("esp-aes 256"), integrity_transform("esp-sha256-hmac")
    packet = build_ipv4_header("203.0.113.1", "203.0.113.2", 17, 12) + bytes(12)
    wire = ah.bundle_encapsulate(
        AhSa.from_keymat(a.ah_spi_out, ah_row, a.ah_keys_out), 1,
        EspSa.from_keymat(a.spi_out, enc, integ, a.keys_out), 1, bytes(16), packet)
    assert wire[20] == esp.IPPROTO_ESP and int.from_bytes(wire[24:28]) == b.ah_spi_in
    got = ah.bundle_decapsulate(
        AhSa.from_keymat(b.ah_spi_in, ah_row, b.ah_keys_in),
        EspSa.from_keymat(b.spi_in, enc, integ, b.keys_in), wire, tunnel=False)
    assert got == (1, 1, packet)


# --- AH and NAT traversal ----------------------------------------------------------------------


def test_ah_over_a_floated_sa_is_negotiated_without_udp_encapsulation() -> None:
    """IOS negotiates AH over a NAT-T SA with the plain modes; the NAT then breaks it."""
    ts = ("ah-sha-hmac", "esp-aes 256", "esp-sha-hmac")
    a, b = _nat_engines(Phase2Offer((ESP_WORDS, ts, ("ah-md5-hmac",)), "tunnel", None), True)
    log: list[tuple[str, int, bytes]] = []
    a.initiate(B_ADDR, BOOT_PROXIES, BOOT, 0.0)
    now = _nat_pump(a, b, 0.0, log)
    assert [s.nat_t for s in a.isakmp_sas()] == [True]
    for engine in (a, b):
        while engine.next_event() is not None:
            pass
    results = []
    for offer_ts, proxies in ((ts, PROXIES), (("ah-md5-hmac",), PROXIES.mirrored())):
        quick_mode(a, B_ADDR, proxies, Phase2Offer((offer_ts,), "tunnel", None), now)
        now = _nat_pump(a, b, now, log)
        (ea,) = [e for e in iter(a.next_event, None) if isinstance(e, Phase2Established)]
        (eb,) = [e for e in iter(b.next_event, None) if isinstance(e, Phase2Established)]
        assert not ea.sa.udp_encap and not eb.sa.udp_encap
        assert ea.sa.ah_keys_out == eb.sa.ah_keys_in
        results.append(ea.sa)
    assert [r.protocol for r in results] == ["ah+esp", "ah"]
    assert {port for _, port, _ in log[-6:]} == {4500}  # IKE itself stays floated
    # the SA payload offers Tunnel (1) for both protocols of the bundle over the floated SA
    sa = offer_sa_payload(Phase2Offer((ts, ESP_WORDS), "tunnel", None), bytes(4),
                          udp_encap=True, ah_spi=bytes(4))
    modes = [(p.protocol_id, _attrs(p.transforms[0])[IpsecAttributeType.ENCAPSULATION_MODE])
             for p in sa.proposals]
    assert modes == [(_AH, EncapsulationMode.TUNNEL), (_ESP, EncapsulationMode.TUNNEL),
                     (_ESP, EncapsulationMode.UDP_ENCAPSULATED_TUNNEL)]
    # and the NAT, rewriting A's private source, breaks AH's ICV (RFC 3947 has no AH mode)
    row = integrity_transform("ah-md5-hmac")
    ah_pair = results[1]
    inner = build_ipv4_header("192.168.2.5", "192.168.1.5", 1, 8) + bytes(8)
    wire = bytearray(ah.tunnel_encapsulate(
        AhSa.from_keymat(ah_pair.ah_spi_out, row, ah_pair.ah_keys_out), 1, inner,
        A_PRIVATE.to_bytes(4, "big"), B_ADDR.to_bytes(4, "big")))
    eb_pair = b_pair_for(b, ah_pair)
    receiver = AhSa.from_keymat(eb_pair.ah_spi_in, row, eb_pair.ah_keys_in)
    assert ah.tunnel_decapsulate(receiver, bytes(wire)) == (1, inner)
    wire[12:16] = A_ADDR.to_bytes(4, "big")  # what the NAT does to the outer source
    with pytest.raises(AuthenticationError):
        ah.tunnel_decapsulate(receiver, bytes(wire))


def b_pair_for(b: IkeEngine, a_pair: IpsecSaPair) -> IpsecSaPair:
    return b._pairs[a_pair.spi_out]


# --- deletes -----------------------------------------------------------------------------------


def test_delete_payloads_name_each_protocols_inbound_spi() -> None:
    _, a, b = negotiate(("ah-sha-hmac", "esp-aes 256", "esp-sha-hmac"))
    ah_del, esp_del = delete_payloads(a)
    assert ah_del == DeletePayload(_AH, 4, (a.ah_spi_in.to_bytes(4, "big"),))
    assert esp_del == DeletePayload(_ESP, 4, (a.spi_in.to_bytes(4, "big"),))
    assert pair_deleted_by(b, ah_del) and pair_deleted_by(b, esp_del)
    assert not pair_deleted_by(a, ah_del) and not pair_deleted_by(a, esp_del)  # our own SPIs
    swapped = DeletePayload(_ESP, 4, ah_del.spis)
    assert not pair_deleted_by(b, swapped)
    assert not pair_deleted_by(b, DeletePayload(_AH, 16, ah_del.spis))


def test_deletes_for_ah_only_and_esp_only_pairs() -> None:
    _, a, b = negotiate(("ah-sha256-hmac",))
    (d,) = delete_payloads(a)
    assert d.protocol_id == _AH and d.spis == (a.ah_spi_in.to_bytes(4, "big"),)
    assert pair_deleted_by(b, d)
    assert not pair_deleted_by(b, DeletePayload(_ESP, 4, d.spis))  # same number, other protocol
    _, ea, eb = negotiate(ESP_WORDS)
    (e,) = delete_payloads(ea)
    assert e == DeletePayload(_ESP, 4, (ea.spi_in.to_bytes(4, "big"),))
    assert pair_deleted_by(eb, e) and not pair_deleted_by(eb, DeletePayload(_AH, 4, e.spis))


# --- IOS-internal quick-mode states ------------------------------------------------------------


def _trace(events: list[object]) -> list[object]:
    out: list[object] = []
    for e in events:
        if isinstance(e, StateChanged) and e.new.startswith("IKE_QM"):
            out.append((e.conn_id, e.old, e.new))
        elif isinstance(e, Phase2Established | Phase2Failed):
            out.append(type(e).__name__)
    return out


@pytest.mark.parametrize("ts", [ESP_WORDS, ("ah-sha-hmac",), ("ah-sha-hmac", *ESP_WORDS)])
def test_state_changes_in_ios_order(ts: tuple[str, ...]) -> None:
    p = make_pair(b_select=Phase2Offer((ESP_WORDS,), "tunnel", None))
    p.b._select = accept(ts)
    p.a.initiate(B_ADDR, BOOT_PROXIES, BOOT, p.now)
    p.pump()
    (a1,), (b1,) = p.of("a", Phase1Established), p.of("b", Phase1Established)
    p.events = {"a": [], "b": []}
    quick_mode(p.a, B_ADDR, PROXIES, Phase2Offer((ts,), "tunnel", None), p.now)
    p.pump()
    ca, cb = a1.conn_id, b1.conn_id
    assert _trace(p.events["a"]) == [
        (ca, "IKE_QM_READY", "IKE_QM_I_QM1"),
        (ca, "IKE_QM_I_QM1", "IKE_QM_IPSEC_INSTALL_AWAIT"),
        "Phase2Established",
        (ca, "IKE_QM_IPSEC_INSTALL_AWAIT", "IKE_QM_PHASE2_COMPLETE"),
    ]
    assert _trace(p.events["b"]) == [
        (cb, "IKE_QM_READY", "IKE_QM_SPI_STARVE"),
        (cb, "IKE_QM_SPI_STARVE", "IKE_QM_IPSEC_INSTALL_AWAIT"),
        (cb, "IKE_QM_IPSEC_INSTALL_AWAIT", "IKE_QM_R_QM2"),
        (cb, "IKE_QM_R_QM2", "IKE_QM_PHASE2_COMPLETE"),
        "Phase2Established",
    ]
    assert all(e.peer == B_ADDR for e in p.events["a"] if isinstance(e, StateChanged))


def test_refused_quick_mode_returns_to_ready() -> None:
    """debug-crypto-failures.txt E: "QM rejected", then IKE_QM_READY -> IKE_QM_READY."""
    p = paired(accept())
    quick_mode(p.a, B_ADDR, PROXIES, Phase2Offer((("ah-sha-hmac",),), "tunnel", None), p.now)
    p.pump()
    assert [x for x in _trace(p.events["b"]) if x != "Phase2Established"] == [
        "Phase2Failed", (p.b._sa_for_peer(A_ADDR).conn_id, "IKE_QM_READY", "IKE_QM_READY")]
    assert _trace(p.events["a"])[0][1:] == ("IKE_QM_READY", "IKE_QM_I_QM1")


def test_retransmitted_qm1_does_not_repeat_state_changes() -> None:
    p = paired(accept(("ah-sha-hmac",)))
    p.duplicate = True
    quick_mode(p.a, B_ADDR, PROXIES, Phase2Offer((("ah-sha-hmac",),), "tunnel", None), p.now)
    p.pump()
    assert len(p.of("a", Phase2Established)) == len(p.of("b", Phase2Established)) == 1
    assert len(_trace(p.events["b"])) == 5 and len(_trace(p.events["a"])) == 4


# --- proxy identities with protocol and ports --------------------------------------------------


@pytest.mark.parametrize("proxies", [
    ProxyIdentity(0xC0A80105, 0xFFFFFFFF, 0xC0A80200, 0xFFFFFF00, 1, 0, 0),  # permit icmp
    ProxyIdentity(0xC0A80100, 0xFFFFFF00, 0xC0A80205, 0xFFFFFFFF, 6, 0, 23),  # tcp ... eq 23
    ProxyIdentity(0xC0A80100, 0xFFFFFF00, 0xC0A80200, 0xFFFFFF00, 17, 500, 500),
])
def test_proxy_identities_with_protocol_and_ports(proxies: ProxyIdentity) -> None:
    seen: list[ProxyIdentity] = []
    select = accept(("ah-sha-hmac",))

    def spy(peer: int, prox: ProxyIdentity, offers: list[Phase2Offer]) -> Phase2Offer | None:
        seen.append(prox)
        return select(peer, prox, offers)

    p = paired(spy)
    seen.clear()
    quick_mode(p.a, B_ADDR, proxies, Phase2Offer((("ah-sha-hmac",),), "tunnel", None), p.now)
    p.pump()
    (ea,), (eb,) = p.of("a", Phase2Established), p.of("b", Phase2Established)
    assert seen == [proxies.mirrored()]
    assert ea.sa.proxies == proxies and eb.sa.proxies == proxies.mirrored()
    assert p.a.dropped == p.b.dropped == 0


def test_id_payloads_round_trip_protocol_and_port() -> None:
    ours = ProxyIdentity(0xC0A80100, 0xFFFFFF00, 0xC0A80205, 0xFFFFFFFF, 6, 0, 23)
    idci = id_payload(ours.local_net, ours.local_mask, ours.protocol, ours.local_port)
    idcr = id_payload(ours.remote_net, ours.remote_mask, ours.protocol, ours.remote_port)
    assert idci.id_type == IdType.ID_IPV4_ADDR_SUBNET and idcr.id_type == IdType.ID_IPV4_ADDR
    first, body = push_payloads([idci, idcr])
    wire = [p for p in pull_payloads(first, body, padded=False) if isinstance(p, IdPayload)]
    assert (wire[1].protocol_id, wire[1].port) == (6, 23)
    assert proxy_from_ids(wire[1], wire[0]) == ours.mirrored()
    assert proxy_from_ids(wire[0], wire[1]) == ours
    with pytest.raises(ValueError):
        proxy_from_ids(id_payload(1, 0xFFFFFFFF, 17, 0), id_payload(2, 0xFFFFFFFF, 6, 23))

