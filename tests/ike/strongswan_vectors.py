"""Readers for the strongSwan IKEv1 reference captures in ../shared/reference/strongswan-ikev1/.

- ``ike_datagrams(pcap)``: the ISAKMP messages of a classic pcap (Ethernet or raw IPv4, UDP),
  with the 4-byte non-ESP marker of port 4500 removed and ESP-in-UDP packets left out.
- ``log_bytes(log, line, label)``: a hex dump from a charon level-4 log, cited by its line
  number (1-based, the line that says ``label => N bytes``).
"""

from __future__ import annotations

import ipaddress
import re
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

VECTOR_DIR = (
    Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "strongswan-ikev1"
)

PFS_PCAP = "mm-qm-pfs-ping.pcap"
NOPFS_PCAP = "mm-qm-nopfs.pcap"
PFS_INITIATOR_LOG = "mm-qm-pfs-ping.initiator.log"
PFS_RESPONDER_LOG = "mm-qm-pfs-ping.responder.log"
NOPFS_INITIATOR_LOG = "mm-qm-nopfs.initiator.log"

NAT_T_PORT = 4500
NON_ESP_MARKER = b"\x00\x00\x00\x00"  # RFC 3948 section 2.2


def vector_path(name: str) -> Path:
    """The path of a reference file, or skip the test if the reference set is absent."""
    path = VECTOR_DIR / name
    if not path.is_file():
        pytest.skip(f"strongSwan reference vectors not found at {VECTOR_DIR}")
    return path


@dataclass(frozen=True)
class Datagram:
    """One UDP datagram from a capture."""

    src: ipaddress.IPv4Address
    sport: int
    dst: ipaddress.IPv4Address
    dport: int
    payload: bytes


_LINKTYPE_ETHERNET = 1
_LINKTYPE_RAW = 101
_PCAP_MAGIC = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
               b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}  # fmt: skip


def read_pcap(path: Path) -> list[Datagram]:
    """All IPv4/UDP datagrams of a classic (not pcapng) capture file."""
    data = path.read_bytes()
    endian = _PCAP_MAGIC[data[:4]]
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    out = []
    offset = 24
    while offset < len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[offset : offset + 16])
        frame = data[offset + 16 : offset + 16 + caplen]
        offset += 16 + caplen
        if linktype == _LINKTYPE_ETHERNET:
            if frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
        elif linktype == _LINKTYPE_RAW:
            ip = frame
        else:
            raise ValueError(f"unsupported link type {linktype}")
        if ip[0] >> 4 != 4 or ip[9] != 17:  # IPv4, UDP
            continue
        ihl = (ip[0] & 0x0F) * 4
        sport, dport, udp_length = struct.unpack("!HHH", ip[ihl : ihl + 6])
        out.append(
            Datagram(
                ipaddress.IPv4Address(ip[12:16]),
                sport,
                ipaddress.IPv4Address(ip[16:20]),
                dport,
                ip[ihl + 8 : ihl + udp_length],
            )
        )
    return out


def ike_datagrams(name: str) -> list[Datagram]:
    """The ISAKMP messages of a capture, in order, without the NAT-T marker and without ESP."""
    out = []
    for d in read_pcap(vector_path(name)):
        if NAT_T_PORT in (d.sport, d.dport):
            if d.payload[:4] != NON_ESP_MARKER:
                continue  # ESP in UDP (RFC 3948): a non-zero SPI where the marker would be
            d = Datagram(d.src, d.sport, d.dst, d.dport, d.payload[4:])
        out.append(d)
    return out


@cache
def _log_lines(name: str) -> tuple[str, ...]:
    return tuple(vector_path(name).read_text().splitlines())


_HEADER = re.compile(r"\] (?P<label>.+) => (?P<size>\d+) bytes @ 0x[0-9a-f]+$")
_ROW = re.compile(r"\]\s+(?P<offset>\d+): (?P<hex>(?:[0-9A-F]{2} )+)")


def log_bytes(name: str, line: int, label: str) -> bytes:
    """The hex dump that starts at 1-based ``line`` of a charon log; the line must say
    ``label => N bytes`` (so the citation in a test cannot silently drift)."""
    lines = _log_lines(name)
    header = _HEADER.search(lines[line - 1])
    if header is None or header["label"] != label:
        raise AssertionError(f"{name}:{line} is not a {label!r} dump: {lines[line - 1]!r}")
    size = int(header["size"])
    out = bytearray()
    row = line
    while len(out) < size:
        match = _ROW.search(lines[row])
        if match is None or int(match["offset"]) != len(out):
            raise AssertionError(f"{name}:{row + 1}: broken hex dump")
        out += bytes.fromhex(match["hex"])
        row += 1
    return bytes(out[:size])
