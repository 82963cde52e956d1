"""Readers for the project's own strongSwan IKEv2 recordings in ``tests/ike2/vectors/``.

Each recording (``record.sh`` made them: two charon 5.9.8 in two network namespaces, IKEv2
with a pre-shared key, ``ike = 4`` / ``chd = 4`` logs, dumpcap on the veth) has a pcap and
the initiator's and responder's logs:

- ``cbc-sha256-modp2048``: IKE aes256-sha256-modp2048, ESP aes256-sha256-modp2048 (PFS),
  then a CHILD_SA rekey (CREATE_CHILD_SA with KE) and an IKE_SA rekey, then the delete;
- ``gcm-prfsha256-ecp256``: IKE aes128gcm16-prfsha256-ecp256 (RFC 5282), ESP
  aes128gcm16-ecp256, the same rekeys and delete.

kernel-libipsec takes UDP-encapsulated SAs only, so charon fakes a NAT: IKE_AUTH and what
follows travel on UDP 4500 behind the non-ESP marker, which ``ike_datagrams`` removes.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

VECTORS = Path(__file__).with_name("vectors")
CBC = "cbc-sha256-modp2048"
GCM = "gcm-prfsha256-ecp256"
PSK = b"cisco123"
INITIATOR, RESPONDER = 0xC0000201, 0xC0000202  # 192.0.2.1, 192.0.2.2


@dataclass(frozen=True)
class Datagram:
    src: int
    sport: int
    dst: int
    dport: int
    payload: bytes


def ike_datagrams(name: str) -> list[Datagram]:
    """The IKE messages of a recording in order (non-ESP marker removed, ESP left out)."""
    data = (VECTORS / f"{name}.pcap").read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    out = []
    at = 24
    while at < len(data):
        caplen = struct.unpack(endian + "I", data[at + 8:at + 12])[0]
        frame = data[at + 16:at + 16 + caplen]
        at += 16 + caplen
        ip = frame[14:] if linktype == 1 else frame
        if linktype == 1 and frame[12:14] != b"\x08\x00":
            continue
        if ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        sport, dport, length = struct.unpack("!HHH", ip[ihl:ihl + 6])
        payload = ip[ihl + 8:ihl + length]
        if 4500 in (sport, dport):
            if payload[:4] != bytes(4):
                continue
            payload = payload[4:]
        out.append(Datagram(int.from_bytes(ip[12:16], "big"), sport,
                            int.from_bytes(ip[16:20], "big"), dport, payload))
    return out


@cache
def _lines(name: str, role: str) -> tuple[str, ...]:
    return tuple((VECTORS / f"{name}.{role}.log").read_text().splitlines())


_HEAD = re.compile(r"\] (?P<label>.+) => (?P<size>\d+) bytes @ 0x[0-9a-f]+$")
_ROW = re.compile(r"\]\s+(?P<offset>\d+): (?P<hex>(?:[0-9A-F]{2} )+)")


def dumps(name: str, role: str, label: str) -> list[tuple[int, bytes]]:
    """Every ``label => N bytes`` hex dump of a log, as (1-based line, bytes), in order."""
    lines = _lines(name, role)
    out = []
    for i, line in enumerate(lines):
        head = _HEAD.search(line)
        if head is None or head["label"] != label:
            continue
        size, data, row = int(head["size"]), bytearray(), i + 1
        while len(data) < size:
            m = _ROW.search(lines[row])
            assert m is not None and int(m["offset"]) == len(data), (name, row)
            data += bytes.fromhex(m["hex"])
            row += 1
        out.append((i + 1, bytes(data[:size])))
    return out


def dump(name: str, role: str, label: str, nth: int = 0) -> bytes:
    """The ``nth`` dump with that label."""
    return dumps(name, role, label)[nth][1]
