"""The IKEv2 codec and key schedule against real strongSwan exchanges, byte for byte.

Source of every value: ``tests/ike2/vectors/`` (see ``swan_v2.py``): the pcap gives the
messages (nonces, SPIs, KE, the encrypted IKE_AUTH and CREATE_CHILD_SA), the charon logs at
level 4 give the Diffie-Hellman secrets and every derived key.
"""

from __future__ import annotations

import pytest
from swan_v2 import CBC, GCM, INITIATOR, PSK, RESPONDER, dump, dumps, ike_datagrams

from iosim.ike2.constants import ExchangeType, NotifyType, PayloadType, TransformType
from iosim.ike2.keys import (
    CIPHERS,
    INTEGRITIES,
    PRFS,
    child_keymat,
    ike_keys,
    nat_detection_hash,
    psk_auth,
    rekey_skeyseed,
    signed_octets,
    skeyseed,
)
from iosim.ike2.payloads import (
    IdPayload,
    KePayload,
    NoncePayload,
    NotifyPayload,
    SaPayload,
    SkPayload,
    pull_message,
    pull_payloads,
    push_message,
    push_payloads,
)
from iosim.ike2.protect import Direction, IntegrityError, open_sealed, seal

SUITES = {
    CBC: (CIPHERS["aes-cbc-256"], INTEGRITIES["sha256"], PRFS["sha256"], 32, 32),
    GCM: (CIPHERS["aes-gcm-128"], None, PRFS["sha256"], 20, 0),
}


@pytest.mark.parametrize("name", [CBC, GCM])
def test_every_message_round_trips(name: str) -> None:
    """Each datagram parses and encodes back to the same bytes."""
    datagrams = ike_datagrams(name)
    assert len(datagrams) >= 10
    for d in datagrams:
        assert push_message(pull_message(d.payload).header,
                            pull_message(d.payload).payloads) == d.payload


@pytest.mark.parametrize("name", [CBC, GCM])
def test_ike_sa_init_contents(name: str) -> None:
    request, response = (pull_message(d.payload) for d in ike_datagrams(name)[:2])
    assert request.header.exchange_type == ExchangeType.IKE_SA_INIT
    assert request.header.flags == 0x08 and response.header.flags == 0x20
    assert request.header.spi_r == bytes(8) and response.header.spi_r != bytes(8)
    kinds = [p.payload_type for p in request.payloads[:3]]
    assert kinds == [PayloadType.SA, PayloadType.KE, PayloadType.NONCE]
    chosen = response.first(SaPayload)
    assert chosen is not None and len(chosen.proposals) == 1
    types = {t.transform_type for t in chosen.proposals[0].transforms}
    want = {TransformType.ENCR, TransformType.PRF, TransformType.DH}
    assert want <= types and (TransformType.INTEG in types) == (name == CBC)
    ke = request.first(KePayload)
    assert ke is not None and ke.group == (14 if name == CBC else 19)
    # NAT detection (RFC 7296 2.23): charon's own hashes, logged as it built them
    nat = {n.notify_type: n.data for n in request.notifies()}
    spi_i = request.header.spi_i
    src = nat_detection_hash(spi_i, bytes(8), INITIATOR, 500)
    dst = nat_detection_hash(spi_i, bytes(8), RESPONDER, 500)
    assert nat[NotifyType.NAT_DETECTION_DESTINATION_IP] == dst
    # charon's faked NAT: its source hash is of a random address, never of 192.0.2.1:500
    assert nat[NotifyType.NAT_DETECTION_SOURCE_IP] != src


def _init(name: str) -> tuple[bytes, bytes, bytes, bytes, bytes, bytes]:
    """(Ni, Nr, SPIi, SPIr, message 1, message 2) of the first IKE_SA_INIT."""
    d1, d2 = ike_datagrams(name)[:2]
    m1, m2 = pull_message(d1.payload), pull_message(d2.payload)
    ni, nr = m1.first(NoncePayload), m2.first(NoncePayload)
    assert ni is not None and nr is not None
    return ni.data, nr.data, m2.header.spi_i, m2.header.spi_r, d1.payload, d2.payload


@pytest.mark.parametrize("name", [CBC, GCM])
def test_skeyseed_and_sk_keys(name: str) -> None:
    """RFC 7296 2.14 from Ni, Nr, the SPIs (pcap) and g^ir (log): SKEYSEED and every SK_*
    equal what both charons logged ("SKEYSEED", "Sk_d secret" ...)."""
    cipher, integ, prf, _, _ = SUITES[name]
    ni, nr, spi_i, spi_r, _, _ = _init(name)
    for role in ("initiator", "responder"):
        shared = dump(name, role, "shared Diffie Hellman secret")
        seed = skeyseed(prf, ni, nr, shared)
        assert seed == dump(name, role, "SKEYSEED")
        keys = ike_keys(prf, seed, ni, nr, spi_i, spi_r, cipher, integ)
        assert keys.sk_d == dump(name, role, "Sk_d secret")
        assert keys.sk_ei == dump(name, role, "Sk_ei secret")
        assert keys.sk_er == dump(name, role, "Sk_er secret")
        assert keys.sk_pi == dump(name, role, "Sk_pi secret")
        assert keys.sk_pr == dump(name, role, "Sk_pr secret")
        if integ is not None:
            assert keys.sk_ai == dump(name, role, "Sk_ai secret")
            assert keys.sk_ar == dump(name, role, "Sk_ar secret")
        else:
            assert keys.sk_ai == keys.sk_ar == b""


def _sa_keys(name: str) -> tuple[Direction, Direction, bytes, bytes]:
    cipher, integ, prf, _, _ = SUITES[name]
    ni, nr, spi_i, spi_r, _, _ = _init(name)
    seed = skeyseed(prf, ni, nr, dump(name, "initiator", "shared Diffie Hellman secret"))
    k = ike_keys(prf, seed, ni, nr, spi_i, spi_r, cipher, integ)
    return (Direction(cipher, integ, k.sk_ei, k.sk_ai), Direction(cipher, integ, k.sk_er, k.sk_ar),
            k.sk_pi, k.sk_d)


def _open(name: str, index: int, keys: Direction) -> tuple[object, bytes]:
    data = ike_datagrams(name)[index].payload
    msg = pull_message(data)
    sk = msg.payloads[-1]
    assert isinstance(sk, SkPayload)
    return msg, open_sealed(data, sk.data, keys)


@pytest.mark.parametrize("name", [CBC, GCM])
def test_ike_auth_decrypts_and_reseals(name: str) -> None:
    """The IKE_AUTH request opens under SK_ei/SK_ai; its payloads re-encode to the same
    plaintext, and sealing them again with the same IV gives the captured datagram."""
    out, back, sk_pi, _ = _sa_keys(name)
    data = ike_datagrams(name)[2].payload
    msg, plaintext = _open(name, 2, out)
    sk = msg.payloads[-1]  # type: ignore[attr-defined]
    inner = pull_payloads(sk.first, plaintext)
    assert push_payloads(inner) == plaintext
    kinds = [p.payload_type for p in inner]
    assert kinds[0] == PayloadType.IDi and PayloadType.AUTH in kinds
    assert PayloadType.TSi in kinds and PayloadType.TSr in kinds
    iv = sk.data[:out.cipher.iv_size]
    resealed = seal(msg.header, b"", PayloadType.SK, sk.first, plaintext, out, iv)  # type: ignore[attr-defined]
    if name == GCM:
        assert resealed == data
    else:  # charon's CBC padding octets are random (RFC 7296 3.14); ours are zeros
        assert len(resealed) == len(data)
        assert open_sealed(resealed, pull_message(resealed).payloads[-1].body(), out) == plaintext
    # a flipped bit anywhere fails the integrity check
    broken = data[:40] + bytes((data[40] ^ 1,)) + data[41:]
    with pytest.raises(IntegrityError):
        open_sealed(broken, pull_message(broken).payloads[-1].body(), out)
    # and the response opens under the responder's keys
    _open(name, 3, back)


@pytest.mark.parametrize("name", [CBC, GCM])
def test_psk_auth_matches_charon(name: str) -> None:
    """RFC 7296 2.15: the initiator's signed octets and AUTH value as charon logged them."""
    out, _, sk_pi, _ = _sa_keys(name)
    _, _, prf, _, _ = SUITES[name]
    ni, nr, _, _, m1, _ = _init(name)
    msg, plaintext = _open(name, 2, out)
    inner = pull_payloads(msg.payloads[-1].first, plaintext)  # type: ignore[attr-defined]
    idi = next(p for p in inner if isinstance(p, IdPayload))
    octets = signed_octets(m1, nr, prf, sk_pi, idi.body())
    assert octets == dump(name, "initiator", "octets = message + nonce + prf(Sk_px, IDx')")
    auth = psk_auth(prf, PSK, octets)
    assert auth == dump(name, "initiator", "AUTH = prf(prf(secret, keypad), octets)")
    assert auth == next(p for p in inner if p.payload_type == PayloadType.AUTH).data  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", [CBC, GCM])
def test_first_child_keymat(name: str) -> None:
    """RFC 7296 2.17: KEYMAT = prf+(SK_d, Ni | Nr) for the CHILD_SA of IKE_AUTH."""
    _, _, prf, enc, auth = SUITES[name]
    ni, nr, _, _, _, _ = _init(name)
    _, _, _, sk_d = _sa_keys(name)
    i_to_r, r_to_i = child_keymat(prf, sk_d, ni, nr, enc, auth)
    assert i_to_r[:enc] == dump(name, "initiator", "encryption initiator key")
    assert r_to_i[:enc] == dump(name, "initiator", "encryption responder key")
    if auth:
        assert i_to_r[enc:] == dump(name, "initiator", "integrity initiator key")
        assert r_to_i[enc:] == dump(name, "initiator", "integrity responder key")


def _exchange(name: str, exchange: int, nth: int) -> tuple[list[object], list[object]]:
    """The decrypted payloads of the ``nth`` request/response pair of ``exchange``."""
    out, back, _, _ = _sa_keys(name)
    pairs = []
    for i, d in enumerate(ike_datagrams(name)):
        msg = pull_message(d.payload)
        if msg.header.exchange_type == exchange and not msg.header.is_response:
            pairs.append(i)
    i = pairs[nth]
    req, plain_req = _open(name, i, out)
    resp, plain_resp = _open(name, i + 1, back)
    return (list(pull_payloads(req.payloads[-1].first, plain_req)),  # type: ignore[attr-defined]
            list(pull_payloads(resp.payloads[-1].first, plain_resp)))  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", [CBC, GCM])
def test_child_rekey_with_pfs(name: str) -> None:
    """CREATE_CHILD_SA with N(REKEY_SA) and KE: KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr)."""
    _, _, prf, enc, auth = SUITES[name]
    _, _, _, sk_d = _sa_keys(name)
    req, resp = _exchange(name, ExchangeType.CREATE_CHILD_SA, 0)
    assert any(isinstance(p, NotifyPayload) and p.notify_type == NotifyType.REKEY_SA
               for p in req)
    ni = next(p for p in req if isinstance(p, NoncePayload)).data
    nr = next(p for p in resp if isinstance(p, NoncePayload)).data
    shared = dump(name, "initiator", "DH secret")
    i_to_r, r_to_i = child_keymat(prf, sk_d, ni, nr, enc, auth, shared)
    assert i_to_r[:enc] == dump(name, "initiator", "encryption initiator key", 1)
    assert r_to_i[:enc] == dump(name, "initiator", "encryption responder key", 1)


@pytest.mark.parametrize("name", [CBC, GCM])
def test_ike_rekey(name: str) -> None:
    """CREATE_CHILD_SA for the IKE SA: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr),
    the new SPIs from the proposals' 8-octet SPI fields (RFC 7296 2.18)."""
    cipher, integ, prf, _, _ = SUITES[name]
    _, _, _, sk_d = _sa_keys(name)
    req, resp = _exchange(name, ExchangeType.CREATE_CHILD_SA, 1)
    sa_req = next(p for p in req if isinstance(p, SaPayload))
    sa_resp = next(p for p in resp if isinstance(p, SaPayload))
    assert sa_req.proposals[0].protocol_id == 1 and len(sa_req.proposals[0].spi) == 8
    ni = next(p for p in req if isinstance(p, NoncePayload)).data
    nr = next(p for p in resp if isinstance(p, NoncePayload)).data
    shared = dumps(name, "initiator", "shared Diffie Hellman secret")[1][1]
    seed = rekey_skeyseed(prf, sk_d, shared, ni, nr)
    assert seed == dumps(name, "initiator", "SKEYSEED")[1][1]
    keys = ike_keys(prf, seed, ni, nr, sa_req.proposals[0].spi, sa_resp.proposals[0].spi,
                    cipher, integ)
    assert keys.sk_d == dumps(name, "initiator", "Sk_d secret")[1][1]
    assert keys.sk_pr == dumps(name, "initiator", "Sk_pr secret")[1][1]
