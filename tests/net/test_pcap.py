"""Tests for iosim.net.pcap: file layout, round trips, atomic writes, and a tshark check."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iosim.net.packets import (
    BROADCAST_MAC,
    ArpOperation,
    ArpPacket,
    EthernetFrame,
    EtherType,
    IcmpEcho,
    IpProtocol,
    Ipv4Packet,
    UdpDatagram,
    ip_to_int,
    push_arp,
    push_ethernet,
    push_icmp,
    push_ipv4,
    push_udp,
)
from iosim.net.pcap import (
    LINKTYPE_ETHERNET,
    LINKTYPE_RAW,
    PcapError,
    PcapRecord,
    PcapWriter,
    parse_pcap,
    pcap_bytes,
    read_pcap,
    write_pcap,
)

MAC_A = bytes.fromhex("aabbcc000100")
MAC_B = bytes.fromhex("aabbcc000200")
IP_A = ip_to_int("192.0.2.1")
IP_B = ip_to_int("192.0.2.2")


def test_global_header_and_record_layout() -> None:
    data = pcap_bytes([(1.5, b"\x01\x02\x03")], LINKTYPE_RAW)
    # magic, version 2.4, thiszone 0, sigfigs 0, snaplen 262144, LINKTYPE_RAW (little-endian)
    assert data[:24] == bytes.fromhex("d4c3b2a1 0200 0400 00000000 00000000 00000400 65000000")
    assert data[24:40] == struct.pack("<IIII", 1, 500000, 3, 3)
    assert data[40:] == b"\x01\x02\x03"


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    path = tmp_path / "cap.pcap"
    records = [(0.0, b"a" * 60), (1.000001, b"b" * 70), (3600.25, b"c" * 1514)]
    assert write_pcap(path, records) == 3
    capture = read_pcap(path)
    assert capture.linktype == LINKTYPE_ETHERNET and not capture.nanosecond
    assert [(r.timestamp, r.data, r.original_length) for r in capture.records] == [
        (0.0, b"a" * 60, 60),
        (pytest.approx(1.000001), b"b" * 70, 70),
        (3600.25, b"c" * 1514, 1514),
    ]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_snaplen_truncates_and_keeps_original_length() -> None:
    capture = parse_pcap(pcap_bytes([(0, bytes(range(100)))], snaplen=64))
    assert capture.snaplen == 64
    assert capture.records == (PcapRecord(0.0, bytes(range(64)), 100),)


def test_nanosecond_stamps_and_epoch(tmp_path: Path) -> None:
    path = tmp_path / "ns.pcap"
    with PcapWriter(path, LINKTYPE_RAW, nanosecond=True, epoch=1_700_000_000) as writer:
        writer.write(0.123456789, b"x")
    raw = path.read_bytes()
    assert raw[:4] == bytes.fromhex("4d3cb2a1")
    assert struct.unpack_from("<II", raw, 24) == (1_700_000_000, 123456789)
    capture = parse_pcap(raw)
    assert capture.nanosecond and capture.linktype == LINKTYPE_RAW
    assert capture.records[0].timestamp == pytest.approx(1_700_000_000.123456789)


def test_reads_big_endian_files() -> None:
    raw = struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    raw += struct.pack(">IIII", 7, 250000, 2, 2) + b"hi"
    capture = parse_pcap(raw)
    assert capture.snaplen == 65535
    assert capture.records == (PcapRecord(7.25, b"hi", 2),)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xd4\xc3\xb2", "too short"),
        (b"\x00" * 24, "not a classic pcap"),
        (struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 3, 0, 0, 65535, 1), "version 2.3"),
        (pcap_bytes([(0, b"abcd")])[:-1], "truncated record data"),
        (pcap_bytes([(0, b"abcd")]) + b"\x00" * 5, "truncated record header"),
        (pcap_bytes([]) + struct.pack("<IIII", 0, 1_000_000, 0, 0), "sub-second"),
        (pcap_bytes([]) + struct.pack("<IIII", 0, 0, 5, 4) + bytes(5), "exceeds"),
    ],
)
def test_reader_rejects_malformed_files(raw: bytes, reason: str) -> None:
    with pytest.raises(PcapError, match=reason):
        parse_pcap(raw)


def test_writer_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(PcapError, match="link type"):
        PcapWriter(tmp_path / "x.pcap", linktype=105)
    with pytest.raises(PcapError, match="snap length"):
        pcap_bytes([], snaplen=0)
    with pytest.raises(PcapError, match="timestamp"):
        pcap_bytes([(-1.0, b"")])
    with pytest.raises(PcapError, match="timestamp"):
        pcap_bytes([(float("nan"), b"")])
    with pytest.raises(PcapError, match="2106"):
        pcap_bytes([(2.0**32, b"")])
    assert list(tmp_path.iterdir()) == []


def test_failed_capture_leaves_previous_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "lab.pcap"
    write_pcap(path, [(0, b"old")])
    before = path.read_bytes()
    with pytest.raises(RuntimeError), PcapWriter(path) as writer:
        writer.write(1, b"new")
        assert path.read_bytes() == before  # nothing visible until close
        raise RuntimeError("crash mid-capture")
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_close_is_idempotent_and_write_after_close_fails(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    writer = PcapWriter(path)
    writer.write(0, b"frame")
    assert not path.exists() and not writer.closed
    writer.close()
    writer.close()
    assert writer.closed and len(read_pcap(path).records) == 1
    with pytest.raises(PcapError, match="closed"):
        writer.write(1, b"late")
    writer.abort()  # after close: the published file stays
    assert path.exists()


def test_failed_publish_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()  # a directory cannot be replaced by a file
    writer = PcapWriter(target)
    writer.write(0, b"x")
    with pytest.raises(OSError):
        writer.close()
    assert writer.closed and list(tmp_path.iterdir()) == [target]


def test_negative_epoch_before_1970_is_rejected(tmp_path: Path) -> None:
    with PcapWriter(tmp_path / "e.pcap", epoch=-10.0) as writer:
        writer.write(10.0, b"ok")
        with pytest.raises(PcapError, match="1970"):
            writer.write(9.0, b"too early")
    assert read_pcap(tmp_path / "e.pcap").records == (PcapRecord(0.0, b"ok", 2),)


def test_abort_discards(tmp_path: Path) -> None:
    writer = PcapWriter(tmp_path / "gone.pcap")
    writer.write(0, b"x")
    writer.abort()
    assert list(tmp_path.iterdir()) == []


@given(st.lists(st.tuples(st.integers(0, 10**9), st.binary(max_size=100)), max_size=20))
def test_in_memory_round_trip(records: list[tuple[int, bytes]]) -> None:
    stamps = [(us / 1_000_000, data) for us, data in records]
    capture = parse_pcap(pcap_bytes(stamps))
    assert [r.data for r in capture.records] == [data for _, data in records]
    assert [round(r.timestamp * 1_000_000) for r in capture.records] == [us for us, _ in records]


# -- validity as judged by Wireshark -------------------------------------------------------------


def lab_frames() -> list[tuple[float, bytes]]:
    """An ARP exchange, an ICMP echo and its reply over Ethernet, and an IKE (UDP/500) datagram."""
    arp_request = ArpPacket(ArpOperation.REQUEST, MAC_A, IP_A, bytes(6), IP_B)
    arp_reply = ArpPacket(ArpOperation.REPLY, MAC_B, IP_B, MAC_A, IP_A)

    def ether(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> bytes:
        return push_ethernet(EthernetFrame(dst, src, ethertype, payload), pad=True)

    def ipv4(src: int, dst: int, proto: int, payload: bytes, ident: int) -> bytes:
        return push_ipv4(
            Ipv4Packet(identification=ident, protocol=proto, src=src, dst=dst, payload=payload)
        )

    data = bytes.fromhex("abcd") * 36  # IOS ping payload pattern, 100-byte datagram
    echo = push_icmp(IcmpEcho(0x0001, 0, data))
    reply = push_icmp(IcmpEcho(0x0001, 0, data, reply=True))
    # An ISAKMP header (RFC 2408): cookies, no next payload, version 1.0, Main Mode, length 28.
    isakmp = bytes.fromhex("1122334455667788 0000000000000000 00100200 00000000 0000001c")
    ike = push_udp(UdpDatagram(500, 500, isakmp), IP_A, IP_B)
    return [
        (0.0, ether(BROADCAST_MAC, MAC_A, EtherType.ARP, push_arp(arp_request))),
        (0.001, ether(MAC_A, MAC_B, EtherType.ARP, push_arp(arp_reply))),
        (0.002, ether(MAC_B, MAC_A, EtherType.IPV4, ipv4(IP_A, IP_B, IpProtocol.ICMP, echo, 1))),
        (0.003, ether(MAC_A, MAC_B, EtherType.IPV4, ipv4(IP_B, IP_A, IpProtocol.ICMP, reply, 2))),
        (0.004, ether(MAC_B, MAC_A, EtherType.IPV4, ipv4(IP_A, IP_B, IpProtocol.UDP, ike, 3))),
    ]


TSHARK = shutil.which("tshark")


def _tshark(*args: str) -> str:
    assert TSHARK is not None
    result = subprocess.run(
        [TSHARK, "-n", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def _expert_problems(expert: str) -> list[str]:
    """The severity headings of ``tshark -z expert`` output worse than notes."""
    return [word for word in ("Errors (", "Warns (", "Malformed") if word in expert]


@pytest.mark.skipif(TSHARK is None, reason="tshark not on PATH (apt-get install tshark)")
def test_tshark_expert_check_catches_broken_packets(tmp_path: Path) -> None:
    # Control for the test below: the same check must fire on a bad checksum and a truncation.
    frames = lab_frames()
    corrupt = bytearray(frames[4][1])
    corrupt[24] ^= 1  # IPv4 header checksum
    path = tmp_path / "broken.pcap"
    write_pcap(path, [(0, bytes(corrupt)), (1, frames[2][1][:40])])
    expert = _tshark("-r", str(path), "-q", "-z", "expert")
    assert _expert_problems(expert) == ["Errors (", "Warns (", "Malformed"]


@pytest.mark.skipif(TSHARK is None, reason="tshark not on PATH (apt-get install tshark)")
def test_tshark_dissects_capture_without_errors(tmp_path: Path) -> None:
    path = tmp_path / "lab.pcap"
    write_pcap(path, lab_frames())
    detail = _tshark("-r", str(path), "-V")
    assert "Malformed" not in detail
    assert detail.count("Address Resolution Protocol (request)") == 1
    assert detail.count("Address Resolution Protocol (reply)") == 1
    assert "Echo (ping) request" in detail and "Echo (ping) reply" in detail
    assert "Internet Security Association and Key Management Protocol" in detail
    assert "Header checksum status: Good" in detail
    assert "[Checksum Status: Good]" in detail
    assert "Bad" not in detail
    expert = _tshark("-r", str(path), "-q", "-z", "expert")
    assert not _expert_problems(expert), expert
    fields = _tshark("-r", str(path), "-T", "fields", "-e", "frame.protocols")
    assert fields.split() == [
        "eth:ethertype:arp",
        "eth:ethertype:arp",
        "eth:ethertype:ip:icmp:data",
        "eth:ethertype:ip:icmp:data",
        "eth:ethertype:ip:udp:isakmp",
    ]


@pytest.mark.skipif(TSHARK is None, reason="tshark not on PATH (apt-get install tshark)")
def test_tshark_reads_raw_ip_capture(tmp_path: Path) -> None:
    path = tmp_path / "raw.pcap"
    ip_only = [(ts, frame[14:]) for ts, frame in lab_frames()[2:]]
    write_pcap(path, ip_only, linktype=LINKTYPE_RAW)
    fields = _tshark("-r", str(path), "-T", "fields", "-e", "frame.protocols")
    assert fields.split() == ["raw:ip:icmp:data", "raw:ip:icmp:data", "raw:ip:udp:isakmp"]
    expert = _tshark("-r", str(path), "-q", "-z", "expert")
    assert not _expert_problems(expert), expert
