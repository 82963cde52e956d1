"""IKEv2 message codec (RFC 7296 section 3, fragments RFC 7383 section 2.5), sans-IO.

Theory of operation
-------------------
A message is an ``IkeHeader`` and a chain of payloads; each payload's generic header names the
type of the payload that follows it (RFC 7296 3.2)::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    | Next Payload  |C|  RESERVED   |         Payload Length        |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

``pull_message(data)`` parses a datagram (without the non-ESP marker of port 4500) into an
``IkeMessage``; an Encrypted payload (``SkPayload``, RFC 7296 3.14) or an Encrypted Fragment
(``SkfPayload``) stays opaque until :mod:`iosim.ike2.protect` opens it and
``pull_payloads(first_type, plaintext)`` reads what was inside. ``push_message`` and
``push_payloads`` are their inverses: next-payload and length fields are derived, never stored,
so ``push_message(pull_message(d)) == d`` for every well-formed message.

Payloads are frozen dataclasses named as in RFC 7296 (``SaPayload`` with ``Proposal`` and
``Transform``, ``KePayload``, ``IdPayload``, ``AuthPayload``, ``NoncePayload``,
``NotifyPayload``, ``DeletePayload``, ``VendorIdPayload``, ``TsPayload`` with
``TrafficSelector``). An unknown payload without the critical bit is kept as
``UnknownPayload`` and ignored by the engine (3.2); with it, parsing fails with
UNSUPPORTED_CRITICAL_PAYLOAD. Every length is checked: ``MalformedMessage`` carries the
notify a responder answers with (INVALID_SYNTAX unless said otherwise).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from iosim.ike2.constants import (
    IKEV2_VERSION,
    KEY_LENGTH_ATTRIBUTE,
    NotifyType,
    PayloadType,
    TsType,
)

__all__ = [
    "HEADER_LENGTH",
    "AuthPayload",
    "DeletePayload",
    "IdPayload",
    "IkeHeader",
    "IkeMessage",
    "KePayload",
    "MalformedMessage",
    "NoncePayload",
    "NotifyPayload",
    "Payload",
    "Proposal",
    "SaPayload",
    "SkPayload",
    "SkfPayload",
    "TrafficSelector",
    "Transform",
    "TsPayload",
    "UnknownPayload",
    "VendorIdPayload",
    "pull_header",
    "pull_message",
    "pull_payloads",
    "push_header",
    "push_message",
    "push_payloads",
]

HEADER_LENGTH = 28
GENERIC_LENGTH = 4
MAX_MESSAGE = 65535
P = TypeVar("P", bound="Payload")


class MalformedMessage(ValueError):
    """Bytes that are not a valid IKEv2 message; ``notify`` is what a responder answers."""

    def __init__(self, reason: str, notify: int = NotifyType.INVALID_SYNTAX) -> None:
        super().__init__(reason)
        self.reason = reason
        self.notify = notify


# --------------------------------------------------------------------------- header


@dataclass(frozen=True, slots=True)
class IkeHeader:
    """RFC 7296 3.1::

        |                       IKE SA Initiator's SPI                  |
        |                       IKE SA Responder's SPI                  |
        |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
        |                          Message ID                           |
        |                            Length                             |
    """

    spi_i: bytes
    spi_r: bytes
    next_payload: int
    exchange_type: int
    flags: int
    message_id: int
    length: int = 0  # as received; push_header writes the real one

    @property
    def is_response(self) -> bool:
        return bool(self.flags & 0x20)

    @property
    def from_initiator(self) -> bool:
        """The I flag: sent by the original initiator of the IKE SA."""
        return bool(self.flags & 0x08)


def pull_header(data: bytes) -> IkeHeader:
    """The fixed header of a message; checks the version and the length field."""
    if len(data) < HEADER_LENGTH:
        raise MalformedMessage("shorter than an IKE header")
    spi_i, spi_r, nxt, version, exch, flags, mid, length = struct.unpack(
        "!8s8sBBBBII", data[:HEADER_LENGTH])
    if version >> 4 != IKEV2_VERSION >> 4:
        raise MalformedMessage(f"major version {version >> 4}", NotifyType.INVALID_MAJOR_VERSION)
    if length != len(data):
        raise MalformedMessage(f"length field {length} but {len(data)} bytes")
    return IkeHeader(spi_i, spi_r, nxt, exch, flags, mid, length)


def push_header(h: IkeHeader, body_length: int) -> bytes:
    """The header for a body of ``body_length`` bytes."""
    return struct.pack("!8s8sBBBBII", h.spi_i, h.spi_r, h.next_payload, IKEV2_VERSION,
                       h.exchange_type, h.flags, h.message_id, HEADER_LENGTH + body_length)


# --------------------------------------------------------------------------- payloads


@dataclass(frozen=True, slots=True)
class Payload:
    """Base of every payload; ``TYPE`` is its RFC 7296 payload type."""

    TYPE: ClassVar[int] = 0

    @property
    def payload_type(self) -> int:
        return self.TYPE

    def body(self) -> bytes:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Transform:
    """RFC 7296 3.3.2: type, ID and the Key Length attribute (3.3.5) of one transform."""

    transform_type: int
    transform_id: int
    key_length: int | None = None

    def encode(self, last: bool) -> bytes:
        attrs = b"" if self.key_length is None else struct.pack(
            "!HH", 0x8000 | KEY_LENGTH_ATTRIBUTE, self.key_length)
        return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs),
                           self.transform_type, 0, self.transform_id) + attrs


@dataclass(frozen=True, slots=True)
class Proposal:
    """RFC 7296 3.3.1: a proposal number, protocol (IKE 1, AH 2, ESP 3), SPI, transforms."""

    number: int
    protocol_id: int
    spi: bytes
    transforms: tuple[Transform, ...]

    def encode(self, last: bool) -> bytes:
        body = b"".join(t.encode(i == len(self.transforms) - 1)
                        for i, t in enumerate(self.transforms))
        return struct.pack("!BBHBBBB", 0 if last else 2, 0, 8 + len(self.spi) + len(body),
                           self.number, self.protocol_id, len(self.spi),
                           len(self.transforms)) + self.spi + body

    def of_type(self, transform_type: int) -> list[Transform]:
        return [t for t in self.transforms if t.transform_type == transform_type]


@dataclass(frozen=True, slots=True)
class SaPayload(Payload):
    """RFC 7296 3.3: the proposals, most preferred first."""

    TYPE: ClassVar[int] = PayloadType.SA
    proposals: tuple[Proposal, ...]

    def body(self) -> bytes:
        return b"".join(p.encode(i == len(self.proposals) - 1)
                        for i, p in enumerate(self.proposals))


@dataclass(frozen=True, slots=True)
class KePayload(Payload):
    """RFC 7296 3.4: Diffie-Hellman group number and public value."""

    TYPE: ClassVar[int] = PayloadType.KE
    group: int
    data: bytes

    def body(self) -> bytes:
        return struct.pack("!HH", self.group, 0) + self.data


@dataclass(frozen=True, slots=True)
class IdPayload(Payload):
    """RFC 7296 3.5: IDi (``responder`` False) or IDr."""

    id_type: int
    data: bytes
    responder: bool = False

    @property
    def payload_type(self) -> int:
        return PayloadType.IDr if self.responder else PayloadType.IDi

    def body(self) -> bytes:
        """The "RestOfIDPayload" AUTH covers (RFC 7296 2.15): ID type, RESERVED, data."""
        return bytes((self.id_type, 0, 0, 0)) + self.data


@dataclass(frozen=True, slots=True)
class AuthPayload(Payload):
    """RFC 7296 3.8."""

    TYPE: ClassVar[int] = PayloadType.AUTH
    method: int
    data: bytes

    def body(self) -> bytes:
        return bytes((self.method, 0, 0, 0)) + self.data


@dataclass(frozen=True, slots=True)
class NoncePayload(Payload):
    """RFC 7296 3.9: 16 to 256 octets."""

    TYPE: ClassVar[int] = PayloadType.NONCE
    data: bytes

    def body(self) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class NotifyPayload(Payload):
    """RFC 7296 3.10."""

    TYPE: ClassVar[int] = PayloadType.N
    notify_type: int
    data: bytes = b""
    protocol_id: int = 0
    spi: bytes = b""

    def body(self) -> bytes:
        return struct.pack("!BBH", self.protocol_id, len(self.spi),
                           self.notify_type) + self.spi + self.data


@dataclass(frozen=True, slots=True)
class DeletePayload(Payload):
    """RFC 7296 3.11: the IKE SA itself (protocol 1, no SPI) or child SAs by inbound SPI."""

    TYPE: ClassVar[int] = PayloadType.D
    protocol_id: int
    spis: tuple[bytes, ...] = ()

    def body(self) -> bytes:
        size = len(self.spis[0]) if self.spis else 0
        return struct.pack("!BBH", self.protocol_id, size, len(self.spis)) + b"".join(self.spis)


@dataclass(frozen=True, slots=True)
class VendorIdPayload(Payload):
    """RFC 7296 3.12."""

    TYPE: ClassVar[int] = PayloadType.V
    data: bytes

    def body(self) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class TrafficSelector:
    """RFC 7296 3.13.1, IPv4 address range: protocol (0 any), port range, address range."""

    ip_protocol: int
    start_port: int
    end_port: int
    start_address: int
    end_address: int

    def encode(self) -> bytes:
        return struct.pack("!BBHHHII", TsType.TS_IPV4_ADDR_RANGE, self.ip_protocol, 16,
                           self.start_port, self.end_port, self.start_address,
                           self.end_address)


@dataclass(frozen=True, slots=True)
class TsPayload(Payload):
    """RFC 7296 3.13: TSi (``responder`` False) or TSr."""

    selectors: tuple[TrafficSelector, ...]
    responder: bool = False

    @property
    def payload_type(self) -> int:
        return PayloadType.TSr if self.responder else PayloadType.TSi

    def body(self) -> bytes:
        return (bytes((len(self.selectors), 0, 0, 0))
                + b"".join(s.encode() for s in self.selectors))


@dataclass(frozen=True, slots=True)
class SkPayload(Payload):
    """RFC 7296 3.14: IV, ciphertext, ICV, opaque until decrypted; ``first`` is the type
    of the first payload inside (the generic header's Next Payload)."""

    TYPE: ClassVar[int] = PayloadType.SK
    first: int
    data: bytes

    def body(self) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class SkfPayload(Payload):
    """RFC 7383 2.5: one Encrypted Fragment; ``first`` is meaningful in fragment 1 only."""

    TYPE: ClassVar[int] = PayloadType.SKF
    first: int
    number: int
    total: int
    data: bytes

    def body(self) -> bytes:
        return struct.pack("!HH", self.number, self.total) + self.data


@dataclass(frozen=True, slots=True)
class UnknownPayload(Payload):
    """A payload type this codec does not know, without the critical bit (ignored)."""

    kind: int
    data: bytes

    @property
    def payload_type(self) -> int:
        return self.kind

    def body(self) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class IkeMessage:
    """A parsed message: its header and its payloads in order."""

    header: IkeHeader
    payloads: tuple[Payload, ...]

    def first(self, kind: type[P]) -> P | None:
        return next((p for p in self.payloads if isinstance(p, kind)), None)

    def notifies(self) -> list[NotifyPayload]:
        return [p for p in self.payloads if isinstance(p, NotifyPayload)]


# --------------------------------------------------------------------------- pull


def _u8(body: bytes, at: int) -> int:
    return body[at]


#: Received transforms by (type, ID, key length). Peers offer the same few in every
#: SA payload and transforms are immutable, so each is built once; the table stops growing
#: at ``_TRANSFORM_CACHE_SIZE`` (odd ones are built every time).
_TRANSFORMS: dict[tuple[int, int, int | None], Transform] = {}
_TRANSFORM_CACHE_SIZE = 1024


def _transform(transform_type: int, transform_id: int, key_length: int | None) -> Transform:
    key = (transform_type, transform_id, key_length)
    transform = _TRANSFORMS.get(key)
    if transform is None:
        transform = Transform(transform_type, transform_id, key_length)
        if len(_TRANSFORMS) < _TRANSFORM_CACHE_SIZE:
            _TRANSFORMS[key] = transform
    return transform


def _transforms(data: bytes, count: int) -> tuple[Transform, ...]:
    out: list[Transform] = []
    at = 0
    for i in range(count):
        if len(data) - at < 8:
            raise MalformedMessage("truncated transform")
        last, _, length, ttype, _, tid = struct.unpack_from("!BBHBBH", data, at)
        if length < 8 or at + length > len(data) or last != (0 if i == count - 1 else 3):
            raise MalformedMessage("bad transform substructure")
        attrs = data[at + 8:at + length]
        key_length = None
        while attrs:
            if len(attrs) < 4:
                raise MalformedMessage("truncated transform attribute")
            kind, value = struct.unpack_from("!HH", attrs)
            if kind & 0x8000:
                if kind & 0x7FFF == KEY_LENGTH_ATTRIBUTE:
                    key_length = value
                attrs = attrs[4:]
            else:  # TLV: no IKEv2 transform attribute uses it; skip its value
                if len(attrs) < 4 + value:
                    raise MalformedMessage("truncated transform attribute")
                attrs = attrs[4 + value:]
        out.append(_transform(ttype, tid, key_length))
        at += length
    if at != len(data):
        raise MalformedMessage("bytes after the last transform")
    return tuple(out)


def _sa(body: bytes) -> SaPayload:
    proposals: list[Proposal] = []
    at = 0
    while at < len(body):
        if len(body) - at < 8:
            raise MalformedMessage("truncated proposal")
        last, _, length, number, proto, spi_size, count = struct.unpack_from(
            "!BBHBBBB", body, at)
        if length < 8 + spi_size or at + length > len(body) or last not in (0, 2):
            raise MalformedMessage("bad proposal substructure")
        spi = body[at + 8:at + 8 + spi_size]
        proposals.append(Proposal(number, proto, spi,
                                  _transforms(body[at + 8 + spi_size:at + length], count)))
        at += length
        if last == 0 and at != len(body):
            raise MalformedMessage("bytes after the last proposal")
    if not proposals:
        raise MalformedMessage("SA payload without a proposal")
    return SaPayload(tuple(proposals))


def _need(body: bytes, n: int, what: str) -> None:
    if len(body) < n:
        raise MalformedMessage(f"{what} payload too short")


def _ke(body: bytes) -> KePayload:
    _need(body, 4, "KE")
    return KePayload(struct.unpack_from("!H", body)[0], body[4:])


def _id(responder: bool) -> object:
    def pull(body: bytes) -> IdPayload:
        _need(body, 4, "ID")
        return IdPayload(body[0], body[4:], responder)
    return pull


def _auth(body: bytes) -> AuthPayload:
    _need(body, 4, "AUTH")
    return AuthPayload(body[0], body[4:])


def _nonce(body: bytes) -> NoncePayload:
    if not 16 <= len(body) <= 256:
        raise MalformedMessage("nonce of a bad length")
    return NoncePayload(body)


def _notify(body: bytes) -> NotifyPayload:
    _need(body, 4, "Notify")
    proto, spi_size, kind = struct.unpack_from("!BBH", body)
    _need(body, 4 + spi_size, "Notify")
    return NotifyPayload(kind, body[4 + spi_size:], proto, body[4:4 + spi_size])


def _delete(body: bytes) -> DeletePayload:
    _need(body, 4, "Delete")
    proto, size, count = struct.unpack_from("!BBH", body)
    if len(body) != 4 + size * count:
        raise MalformedMessage("Delete payload length does not match its SPIs")
    return DeletePayload(proto, tuple(body[4 + i * size:4 + (i + 1) * size]
                                      for i in range(count)))


def _ts(responder: bool) -> object:
    def pull(body: bytes) -> TsPayload:
        _need(body, 4, "TS")
        count = body[0]
        at = 4
        selectors: list[TrafficSelector] = []
        for _ in range(count):
            if len(body) - at < 4:
                raise MalformedMessage("truncated traffic selector")
            kind, proto, length = struct.unpack_from("!BBH", body, at)
            if length < 8 or at + length > len(body):
                raise MalformedMessage("bad traffic selector length")
            if kind == TsType.TS_IPV4_ADDR_RANGE:
                if length != 16:
                    raise MalformedMessage("bad IPv4 traffic selector length")
                sp, ep, sa, ea = struct.unpack_from("!HHII", body, at + 4)
                selectors.append(TrafficSelector(proto, sp, ep, sa, ea))
            at += length  # IPv6 selectors: not spoken, skipped
        if at != len(body):
            raise MalformedMessage("bytes after the last traffic selector")
        return TsPayload(tuple(selectors), responder)
    return pull


_PULL: dict[int, object] = {
    PayloadType.SA: _sa,
    PayloadType.KE: _ke,
    PayloadType.IDi: _id(False),
    PayloadType.IDr: _id(True),
    PayloadType.AUTH: _auth,
    PayloadType.NONCE: _nonce,
    PayloadType.N: _notify,
    PayloadType.D: _delete,
    PayloadType.V: lambda body: VendorIdPayload(body),
    PayloadType.TSi: _ts(False),
    PayloadType.TSr: _ts(True),
}


def pull_payloads(first: int, data: bytes) -> tuple[Payload, ...]:
    """The payload chain starting with type ``first`` (the header's or SK's Next Payload).
    An SK or SKF payload ends the chain (RFC 7296 3.14: it must be the last)."""
    out: list[Payload] = []
    kind, at = first, 0
    while kind != PayloadType.NONE:
        if len(data) - at < GENERIC_LENGTH:
            raise MalformedMessage("truncated payload header")
        nxt, flags, length = struct.unpack_from("!BBH", data, at)
        if length < GENERIC_LENGTH or at + length > len(data):
            raise MalformedMessage(f"payload {kind} has a bad length")
        body = data[at + GENERIC_LENGTH:at + length]
        pull = _PULL.get(kind)
        if kind == PayloadType.SK:
            out.append(SkPayload(nxt, body))
            nxt = PayloadType.NONE
        elif kind == PayloadType.SKF:
            _need(body, 4, "SKF")
            number, total = struct.unpack_from("!HH", body)
            if not 1 <= number <= total:
                raise MalformedMessage("bad fragment number")
            out.append(SkfPayload(nxt, number, total, body[4:]))
            nxt = PayloadType.NONE
        elif pull is not None:
            out.append(pull(body))  # type: ignore[operator]
        elif flags & 0x80:
            raise MalformedMessage(f"unknown critical payload {kind}",
                                   NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD)
        else:
            out.append(UnknownPayload(kind, body))
        at += length
        kind = nxt
        if kind == PayloadType.NONE and at != len(data):
            raise MalformedMessage("bytes after the last payload")
    if at != len(data):
        raise MalformedMessage("bytes after the last payload")
    return tuple(out)


def pull_message(data: bytes, header: IkeHeader | None = None) -> IkeMessage:
    """Parse one datagram (no non-ESP marker). Raises ``MalformedMessage``. ``header`` is
    ``pull_header(data)`` when the caller already has it (not parsed twice)."""
    if header is None:
        header = pull_header(data)
    return IkeMessage(header, pull_payloads(header.next_payload, data[HEADER_LENGTH:]))


# --------------------------------------------------------------------------- push


def _generic(nxt: int, body: bytes) -> bytes:
    return struct.pack("!BBH", nxt, 0, GENERIC_LENGTH + len(body)) + body


def push_payloads(payloads: tuple[Payload, ...] | list[Payload]) -> bytes:
    """The payload chain (each payload's Next Payload is the type of the one after it)."""
    out = []
    for i, p in enumerate(payloads):
        if isinstance(p, (SkPayload, SkfPayload)):
            nxt = p.first
        else:
            nxt = payloads[i + 1].payload_type if i + 1 < len(payloads) else PayloadType.NONE
        out.append(_generic(nxt, p.body()))
    return b"".join(out)


def push_message(header: IkeHeader, payloads: tuple[Payload, ...] | list[Payload]) -> bytes:
    """A whole datagram; the header's Next Payload is the first payload's type."""
    body = push_payloads(payloads)
    first = payloads[0].payload_type if payloads else PayloadType.NONE
    h = IkeHeader(header.spi_i, header.spi_r, first, header.exchange_type, header.flags,
                  header.message_id)
    return push_header(h, len(body)) + body


def payload_names(payloads: tuple[Payload, ...] | list[Payload]) -> str:
    """IOS's "Payload contents" words: ``SA KE N NOTIFY(NAT_DETECTION_SOURCE_IP) ...``."""
    words = []
    for p in payloads:
        if isinstance(p, NotifyPayload):
            name = _IOS_NOTIFY_NAMES.get(p.notify_type) or NotifyType.name_of(p.notify_type)
            words.append(f"NOTIFY({name})")
        elif isinstance(p, SkPayload):
            words.append("ENCR")
        else:
            words.append(_IOS_NAMES.get(p.payload_type, str(p.payload_type)))
    return " ".join(words)


#: Notifies IOS names otherwise than the RFC does.
_IOS_NOTIFY_NAMES: dict[int, str] = {
    NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED: "ESP_TFC_NO_SUPPORT",
    NotifyType.NON_FIRST_FRAGMENTS_ALSO: "NON_FIRST_FRAGS",
}

_IOS_NAMES: dict[int, str] = {PayloadType.SA: "SA", PayloadType.KE: "KE", PayloadType.NONCE: "N",
              PayloadType.IDi: "IDi", PayloadType.IDr: "IDr", PayloadType.AUTH: "AUTH",
              PayloadType.TSi: "TSi", PayloadType.TSr: "TSr", PayloadType.D: "DELETE",
              PayloadType.V: "VID", PayloadType.CERTREQ: "CERTREQ", PayloadType.CP: "CFG",
              PayloadType.SKF: "SKF"}
