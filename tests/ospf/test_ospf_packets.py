"""The OSPF codec against another implementation's packets (tests/ospf/holo_vectors.py),
and its own round trips and refusals."""

from __future__ import annotations

import holo_vectors as v
import pytest
from hypothesis import given
from hypothesis import strategies as st

from iosim.net.packets import ip_to_int
from iosim.ospf.packets import (
    AuType,
    DatabaseDescription,
    HelloPacket,
    LinkStateAck,
    LinkStateRequest,
    LinkStateUpdate,
    LinkType,
    LsType,
    OspfError,
    OspfHeader,
    OspfPacket,
    PacketType,
    RouterLsa,
    SummaryLsa,
    lsa_checksum,
    lsa_checksum_ok,
    md5_digest_ok,
    pull_lsa_body,
    pull_packet,
    push_lsa,
    push_packet,
)


def ip(text: str) -> int:
    return ip_to_int(text)


def test_hello_decodes_and_encodes_as_the_other_implementation_does() -> None:
    packet = pull_packet(v.HELLO1)
    assert packet.header == OspfHeader(PacketType.HELLO, ip("2.2.2.2"), ip("0.0.0.1"))
    assert packet.body == HelloPacket(ip("255.255.255.0"), 3, 0x02, 1, 36, 0, 0,
                                      (ip("1.1.1.1"),))
    assert packet.lls_options is None
    assert push_packet(packet) == v.HELLO1


def test_md5_hello_digest_and_sequence() -> None:
    packet = pull_packet(v.HELLO1_MD5)
    h = packet.header
    assert (h.autype, h.key_id, h.crypto_sequence) == (AuType.CRYPTOGRAPHIC, 1,
                                                        v.HELLO1_MD5_SEQUENCE)
    assert packet.body.neighbors == (ip("2.2.2.2"), ip("3.3.3.3"))
    assert packet.body.designated_router == ip("10.0.1.3")
    assert md5_digest_ok(v.HELLO1_MD5, packet, v.HELLO1_MD5_KEY)
    assert not md5_digest_ok(v.HELLO1_MD5, packet, b"HOLA")
    assert push_packet(packet, md5_key=v.HELLO1_MD5_KEY) == v.HELLO1_MD5


def test_database_description() -> None:
    packet = pull_packet(v.DBDESC1)
    body = packet.body
    assert isinstance(body, DatabaseDescription)
    assert (body.interface_mtu, body.options, body.flags, body.dd_sequence_number) == (
        1500, 0x42, 0, 1320718126)
    assert [(h.ls_age, h.ls_type, h.link_state_id, h.ls_sequence_number & 0xFFFFFFFF,
             h.ls_checksum, h.length) for h in body.lsa_headers] == [
        (3, LsType.ROUTER, ip("1.1.1.1"), 0x80000002, 0x48D6, 48),
        (3, LsType.AS_EXTERNAL, ip("172.16.1.0"), 0x80000001, 0xFCFF, 36)]
    assert push_packet(packet) == v.DBDESC1


def test_link_state_request() -> None:
    packet = pull_packet(v.LSREQUEST1)
    assert packet.body == LinkStateRequest(((1, ip("1.1.1.1"), ip("1.1.1.1")),
                                            (5, ip("172.16.1.0"), ip("1.1.1.1"))))
    assert push_packet(packet) == v.LSREQUEST1


def test_link_state_update_bodies_and_checksums() -> None:
    packet = pull_packet(v.LSUPDATE1)
    assert isinstance(packet.body, LinkStateUpdate)
    router, host, net = packet.body.lsas
    assert all(lsa_checksum_ok(lsa.raw) for lsa in packet.body.lsas)
    assert [lsa_checksum(lsa.raw) for lsa in packet.body.lsas] == [0x37F4, 0xD27A, 0xFA44]
    body = pull_lsa_body(router)
    assert isinstance(body, RouterLsa) and body.flags == 0x01  # the B bit
    assert [(k.link_type, k.link_id, k.link_data, k.metric) for k in body.links] == [
        (LinkType.STUB, ip("10.0.1.0"), ip("255.255.255.0"), 10)]
    assert pull_lsa_body(host) == SummaryLsa(ip("255.255.255.255"), 0)
    assert pull_lsa_body(net) == SummaryLsa(ip("255.255.255.0"), 10)
    assert push_packet(packet) == v.LSUPDATE1
    rebuilt = push_lsa(LsType.ROUTER, ip("2.2.2.2"), ip("2.2.2.2"), -0x7FFFFFFE, body,
                       options=0x02, ls_age=49)
    assert rebuilt.raw == v.LSA1


def test_link_state_ack() -> None:
    packet = pull_packet(v.LSACK1)
    assert isinstance(packet.body, LinkStateAck)
    assert [h.ls_checksum for h in packet.body.lsa_headers] == [0x0936, 0x54DF, 0x49E9]
    assert push_packet(packet) == v.LSACK1


def test_corrupt_packets_are_refused() -> None:
    broken = bytearray(v.HELLO1)
    broken[30] ^= 0xFF  # a bit of the body: the checksum no longer matches
    with pytest.raises(OspfError):
        pull_packet(bytes(broken))
    with pytest.raises(OspfError):
        pull_packet(v.HELLO1[:20])
    lsa = bytearray(v.LSA1)
    lsa[25] ^= 1
    assert not lsa_checksum_ok(bytes(lsa))


def test_lls_block_round_trip() -> None:
    hello = OspfPacket(OspfHeader(PacketType.HELLO, ip("1.1.1.1"), 0),
                       HelloPacket(ip("255.255.255.0"), 10, 0x12, 1, 40), 1)
    data = push_packet(hello)
    assert len(data) == 44 + 12
    assert pull_packet(data).lls_options == 1


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_anything_but_ospf_errors(data: bytes) -> None:
    try:
        packet = pull_packet(data)
    except OspfError:
        return
    if isinstance(packet.body, LinkStateUpdate):
        for lsa in packet.body.lsas:
            try:
                pull_lsa_body(lsa)
            except OspfError:
                pass
