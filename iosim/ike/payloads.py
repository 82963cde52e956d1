"""ISAKMP message codec (RFC 2408 section 3, IPsec DOI RFC 2407 section 4.6, NAT-T RFC 3947).

Theory of operation
-------------------
A message is an ``IsakmpHeader`` followed by a chain of payloads; each payload starts with the
generic payload header whose Next Payload field names the type of the *following* payload.
``pull_message(data)`` parses a datagram (without the 4-byte non-ESP marker of port 4500) into an
``IsakmpMessage``. When the header's E flag is set the body is encrypted, so it is returned raw
in ``encrypted_body``: the caller decrypts it and calls
``pull_payloads(header.next_payload, plaintext, exchange_type=...)``.

Payloads are frozen dataclasses named after RFC 2408 section 3 (``SaPayload``, ``KePayload``,
``NoncePayload``, ...). The chain's Next Payload fields and all length fields are derived from
the objects when encoding, never stored, so ``push_message(pull_message(data)) == data`` for any
well-formed input, and a message built in code is always self-consistent.

Parsing is strict: a wrong length, a non-zero RESERVED field, an unknown payload type, a payload
that the exchange does not allow (``ALLOWED_PAYLOADS``), or bytes after the last payload raise
``MalformedPacket`` carrying the RFC 2408 notify type an implementation would answer with. The
only leniency is ``pull_payloads(..., padded=True)`` (the default), which accepts the RFC 2409
section 5.3 padding after the last payload of a decrypted body.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from iosim.ike.constants import (
    DOI,
    ExchangeType,
    IdType,
    IsakmpFlag,
    NotifyType,
    PayloadType,
    Situation,
)

__all__ = [
    "ALLOWED_PAYLOADS",
    "CertPayload",
    "CrPayload",
    "DataAttribute",
    "DeletePayload",
    "HashPayload",
    "IdPayload",
    "IsakmpHeader",
    "IsakmpMessage",
    "KePayload",
    "MalformedPacket",
    "NatDPayload",
    "NatOaPayload",
    "NoncePayload",
    "NotificationPayload",
    "Payload",
    "ProposalPayload",
    "SaPayload",
    "SigPayload",
    "TransformPayload",
    "VendorIdPayload",
    "pull_message",
    "pull_payload_chain",
    "pull_payloads",
    "push_encoded",
    "push_message",
    "push_payload",
    "push_payload_body",
    "push_payloads",
]

ISAKMP_VERSION = 0x10  # major 1, minor 0 (RFC 2408 section 3.1, RFC 2409 section 5)
HEADER_LENGTH = 28
GENERIC_HEADER_LENGTH = 4
MAX_PADDING = 255  # RFC 2409 section 5.3: the pad length fits the last octet


class MalformedPacket(ValueError):
    """A peer sent bytes that are not a valid ISAKMP message.

    ``notify`` is the RFC 2408 notify type a responder would answer with; ``reason`` says what
    exactly was wrong (for logs and debug output).
    """

    def __init__(self, reason: str, notify: NotifyType = NotifyType.PAYLOAD_MALFORMED) -> None:
        super().__init__(reason)
        self.reason = reason
        self.notify = notify


# --- byte helpers ------------------------------------------------------------------------------


_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
# Precompiled layouts of the fixed parts the codec packs and unpacks on every message.
_GENERIC = struct.Struct("!BBH")  # Next Payload, RESERVED, Payload Length
_ATTRIBUTE = struct.Struct("!HH")  # AF + Attribute Type, Length or Value
_TRANSFORM = struct.Struct("!BBH")  # Transform #, Transform-Id, RESERVED2
_PROPOSAL = struct.Struct("!BBBB")  # Proposal #, Protocol-Id, SPI Size, # of Transforms
_DOI_SITUATION = struct.Struct("!II")
_ID = struct.Struct("!BBH")  # ID Type, Protocol ID, Port
_HEADER_REST = struct.Struct("!BBBBII")  # Next Payload .. Length, after the cookies


class _Reader:
    """A cursor over bytes; every short read is the peer's fault."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _short(self, n: int) -> MalformedPacket:
        return MalformedPacket(
            f"{self.what}: need {n} bytes at offset {self.pos}, have {self.remaining()}")

    def take(self, n: int) -> bytes:
        pos = self.pos
        end = pos + n
        if end > len(self.data):
            raise self._short(n)
        self.pos = end
        return self.data[pos:end]

    def rest(self) -> bytes:
        return self.take(self.remaining())

    def uint8(self) -> int:
        pos = self.pos
        if pos >= len(self.data):
            raise self._short(1)
        self.pos = pos + 1
        return self.data[pos]

    def uint16(self) -> int:
        pos = self.pos
        if pos + 2 > len(self.data):
            raise self._short(2)
        self.pos = pos + 2
        return _U16.unpack_from(self.data, pos)[0]  # type: ignore[no-any-return]

    def uint32(self) -> int:
        pos = self.pos
        if pos + 4 > len(self.data):
            raise self._short(4)
        self.pos = pos + 4
        return _U32.unpack_from(self.data, pos)[0]  # type: ignore[no-any-return]


def _check_range(name: str, value: int, bits: int) -> None:
    if not 0 <= value < _LIMITS[bits]:
        raise ValueError(f"{name} {value} does not fit in {bits} bits")


_LIMITS = {bits: 1 << bits for bits in (8, 15, 16, 32)}  # no shift per check


# --- data attributes (RFC 2408 section 3.3) ----------------------------------------------------
#
#                      1                   2                   3
#  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# !A!       Attribute Type        !    AF=0  Attribute Length     !
# !F!                             !    AF=1  Attribute Value      !
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# .                   AF=0  Attribute Value                       .
# .                   AF=1  Not Transmitted                       .
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+


@dataclass(frozen=True, slots=True)
class DataAttribute:
    """One SA attribute. ``value`` is an int for the basic (TV, AF=1) format and bytes for the
    variable (TLV, AF=0) format, so the wire form round-trips exactly."""

    attribute_type: int
    value: int | bytes

    @classmethod
    def variable(cls, attribute_type: int, value: int) -> DataAttribute:
        """An attribute whose RFC format is "Variable" (e.g. Life Duration): basic if the value
        fits 16 bits, otherwise a 4-byte variable-length value."""
        if value < 0x10000:
            return cls(attribute_type, value)
        size = max(4, (value.bit_length() + 31) // 32 * 4)
        return cls(attribute_type, value.to_bytes(size, "big"))

    def as_int(self) -> int:
        """The value as an unsigned integer, whichever format carried it."""
        if isinstance(self.value, int):
            return self.value
        return int.from_bytes(self.value, "big")


#: Basic attributes by their 4 bytes on the wire. A peer sends the same few (cipher, hash,
#: group, life type...) in every offer and attributes are immutable, so each is built once;
#: the table stops growing at ``_BASIC_CACHE_SIZE`` (odd values are built every time).
_BASIC_ATTRIBUTES: dict[int, DataAttribute] = {}
_BASIC_CACHE_SIZE = 1024


def _basic_attribute(both: int) -> DataAttribute:
    """The basic (TV) attribute whose AF bit, type and value are the 32-bit ``both``."""
    attribute = _BASIC_ATTRIBUTES.get(both)
    if attribute is None:
        attribute = DataAttribute((both >> 16) & 0x7FFF, both & 0xFFFF)
        if len(_BASIC_ATTRIBUTES) < _BASIC_CACHE_SIZE:
            _BASIC_ATTRIBUTES[both] = attribute
    return attribute


def _pull_attributes(reader: _Reader) -> tuple[DataAttribute, ...]:
    attributes = []
    data, end = reader.data, len(reader.data)
    while reader.pos + 4 <= end:  # the common case: a whole type/value word pair is there
        (both,) = _U32.unpack_from(data, reader.pos)
        if not both & 0x80000000:
            break  # a variable-length value: read it the careful way below
        reader.pos += 4
        attributes.append(_basic_attribute(both))
    while reader.remaining():
        word = reader.uint16()
        attribute_type = word & 0x7FFF
        if word & 0x8000:
            attributes.append(DataAttribute(attribute_type, reader.uint16()))
        else:
            attributes.append(DataAttribute(attribute_type, reader.take(reader.uint16())))
    return tuple(attributes)


def _push_attribute(attribute: DataAttribute) -> bytes:
    kind, value = attribute.attribute_type, attribute.value
    # one comparison chain for the usual in-range case; the checks then name the bad field
    if isinstance(value, int):
        if not (0 <= kind < 0x8000 and 0 <= value < 0x10000):
            _check_range("attribute type", kind, 15)
            _check_range("basic attribute value", value, 16)
        return _ATTRIBUTE.pack(0x8000 | kind, value)
    _check_range("attribute type", kind, 15)
    _check_range("attribute length", len(value), 16)
    return _ATTRIBUTE.pack(kind, len(value)) + value


# --- payload dataclasses -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransformPayload:
    """RFC 2408 section 3.6.

    ```
    ! Next Payload  !   RESERVED    !         Payload Length        !
    !  Transform #  !  Transform-Id !           RESERVED2           !
    ~                        SA Attributes                          ~
    ```
    """

    payload_type: ClassVar[PayloadType] = PayloadType.T
    number: int
    transform_id: int
    attributes: tuple[DataAttribute, ...] = ()
    # Transforms key the codec's tables and the parsers' caches on every negotiation: the
    # hash over all their attributes is computed once.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.number, self.transform_id,
                                                self.attributes)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[TransformPayload], tuple[Any, ...]]:
        # rebuilt from its fields: a hash over bytes values differs from process to process
        return TransformPayload, (self.number, self.transform_id, self.attributes)

    def attribute(self, attribute_type: int) -> DataAttribute | None:
        """The first attribute of the given type, if present."""
        for a in self.attributes:  # a plain loop: cheaper than next() over a generator
            if a.attribute_type == attribute_type:
                return a
        return None


@dataclass(frozen=True, slots=True)
class ProposalPayload:
    """RFC 2408 section 3.5.

    ```
    ! Next Payload  !   RESERVED    !         Payload Length        !
    !  Proposal #   !  Protocol-Id  !    SPI Size   !# of Transforms!
    ~                        SPI (variable)                         ~
    ```
    followed by the transform payloads.
    """

    payload_type: ClassVar[PayloadType] = PayloadType.P
    number: int
    protocol_id: int
    spi: bytes
    transforms: tuple[TransformPayload, ...]


@dataclass(frozen=True, slots=True)
class SaPayload:
    """RFC 2408 section 3.4 with the IPsec DOI situation (RFC 2407 section 4.6.1).

    ```
    ! Next Payload  !   RESERVED    !         Payload Length        !
    !              Domain of Interpretation  (DOI)                  !
    !                           Situation                           !
    ```
    followed by the proposal payloads.
    """

    payload_type: ClassVar[PayloadType] = PayloadType.SA
    proposals: tuple[ProposalPayload, ...]
    doi: int = DOI.IPSEC
    situation: int = Situation.SIT_IDENTITY_ONLY


@dataclass(frozen=True, slots=True)
class KePayload:
    """RFC 2408 section 3.7: ``! generic header ! Key Exchange Data ~``."""

    payload_type: ClassVar[PayloadType] = PayloadType.KE
    key_exchange_data: bytes


@dataclass(frozen=True, slots=True)
class IdPayload:
    """IPsec DOI Identification payload (RFC 2407 section 4.6.2, RFC 2408 section 3.8).

    ```
    ! Next Payload  !   RESERVED    !        Payload Length         !
    !   ID Type     !  Protocol ID  !             Port              !
    ~                     Identification Data                       ~
    ```
    """

    payload_type: ClassVar[PayloadType] = PayloadType.ID
    id_type: int
    data: bytes
    protocol_id: int = 0
    port: int = 0

    @classmethod
    def ipv4_address(
        cls, address: str | ipaddress.IPv4Address, protocol_id: int = 0, port: int = 0
    ) -> IdPayload:
        """ID_IPV4_ADDR."""
        return cls(IdType.ID_IPV4_ADDR, ipaddress.IPv4Address(address).packed, protocol_id, port)

    @classmethod
    def ipv4_subnet(
        cls, network: str | ipaddress.IPv4Network, protocol_id: int = 0, port: int = 0
    ) -> IdPayload:
        """ID_IPV4_ADDR_SUBNET: address then mask."""
        net = ipaddress.IPv4Network(network)
        data = net.network_address.packed + net.netmask.packed
        return cls(IdType.ID_IPV4_ADDR_SUBNET, data, protocol_id, port)

    @classmethod
    def ipv4_range(
        cls,
        first: str | ipaddress.IPv4Address,
        last: str | ipaddress.IPv4Address,
        protocol_id: int = 0,
        port: int = 0,
    ) -> IdPayload:
        """ID_IPV4_ADDR_RANGE: first then last address."""
        data = ipaddress.IPv4Address(first).packed + ipaddress.IPv4Address(last).packed
        return cls(IdType.ID_IPV4_ADDR_RANGE, data, protocol_id, port)

    @classmethod
    def fqdn(cls, name: str, protocol_id: int = 0, port: int = 0) -> IdPayload:
        """ID_FQDN (ASCII, no terminator)."""
        return cls(IdType.ID_FQDN, name.encode("ascii"), protocol_id, port)

    @property
    def ip_address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """The address of an ID_IPV4_ADDR / ID_IPV6_ADDR."""
        if self.id_type not in (IdType.ID_IPV4_ADDR, IdType.ID_IPV6_ADDR):
            raise ValueError(f"ID type {self.id_type} is not a single address")
        return ipaddress.ip_address(self.data)

    @property
    def ip_network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        """The network of an ID_IPV4_ADDR_SUBNET / ID_IPV6_ADDR_SUBNET."""
        if self.id_type not in (IdType.ID_IPV4_ADDR_SUBNET, IdType.ID_IPV6_ADDR_SUBNET):
            raise ValueError(f"ID type {self.id_type} is not a subnet")
        half = len(self.data) // 2
        address = ipaddress.ip_address(self.data[:half])
        prefix = _prefix_length(self.data[half:])
        if prefix is None:
            raise ValueError("non-contiguous netmask")
        return ipaddress.ip_network((address, prefix), strict=False)


def _prefix_length(mask: bytes) -> int | None:
    value = int.from_bytes(mask, "big")
    bits = len(mask) * 8
    prefix = bits - (~value & ((1 << bits) - 1)).bit_length()
    return prefix if value == ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1) else None


@dataclass(frozen=True, slots=True)
class CertPayload:
    """RFC 2408 section 3.9: ``! generic header ! Cert Encoding ! Certificate Data ~``."""

    payload_type: ClassVar[PayloadType] = PayloadType.CERT
    encoding: int
    data: bytes


@dataclass(frozen=True, slots=True)
class CrPayload:
    """RFC 2408 section 3.10: ``! generic header ! Cert. Type ! Certificate Authority ~``."""

    payload_type: ClassVar[PayloadType] = PayloadType.CR
    cert_type: int
    authority: bytes = b""


@dataclass(frozen=True, slots=True)
class HashPayload:
    """RFC 2408 section 3.11: ``! generic header ! Hash Data ~``."""

    payload_type: ClassVar[PayloadType] = PayloadType.HASH
    data: bytes


@dataclass(frozen=True, slots=True)
class SigPayload:
    """RFC 2408 section 3.12: ``! generic header ! Signature Data ~``."""

    payload_type: ClassVar[PayloadType] = PayloadType.SIG
    data: bytes


@dataclass(frozen=True, slots=True)
class NoncePayload:
    """RFC 2408 section 3.13: ``! generic header ! Nonce Data ~`` (8..256 bytes, RFC 2409 5)."""

    payload_type: ClassVar[PayloadType] = PayloadType.NONCE
    data: bytes


@dataclass(frozen=True, slots=True)
class NotificationPayload:
    """RFC 2408 section 3.14.

    ```
    ! Next Payload  !   RESERVED    !         Payload Length        !
    !              Domain of Interpretation  (DOI)                  !
    !  Protocol-ID  !   SPI Size    !      Notify Message Type      !
    ~                Security Parameter Index (SPI)                 ~
    ~                       Notification Data                       ~
    ```
    """

    payload_type: ClassVar[PayloadType] = PayloadType.N
    notify_type: int
    protocol_id: int = 0
    spi: bytes = b""
    data: bytes = b""
    doi: int = DOI.IPSEC


@dataclass(frozen=True, slots=True)
class DeletePayload:
    """RFC 2408 section 3.15.

    ```
    ! Next Payload  !   RESERVED    !         Payload Length        !
    !              Domain of Interpretation  (DOI)                  !
    !  Protocol-Id  !   SPI Size    !           # of SPIs           !
    ~               Security Parameter Index(es) (SPI)              ~
    ```
    """

    payload_type: ClassVar[PayloadType] = PayloadType.D
    protocol_id: int
    spi_size: int
    spis: tuple[bytes, ...]
    doi: int = DOI.IPSEC


@dataclass(frozen=True, slots=True)
class VendorIdPayload:
    """RFC 2408 section 3.16: ``! generic header ! Vendor ID (VID) ~``."""

    payload_type: ClassVar[PayloadType] = PayloadType.VID
    data: bytes


@dataclass(frozen=True, slots=True)
class NatDPayload:
    """NAT-D, RFC 3947 section 3.2 (type 20; 130 in the drafts).

    ``! generic header ! HASH of the address and port ~``
    """

    hash: bytes
    payload_type: PayloadType = PayloadType.NAT_D


@dataclass(frozen=True, slots=True)
class NatOaPayload:
    """NAT-OA, RFC 3947 section 5.2 (type 21; 131 in the drafts).

    ```
    ! Next Payload  !   RESERVED    !        Payload length         !
    !   ID Type     !   RESERVED    !            RESERVED           !
    !         IPv4 (4 octets) or IPv6 address (16 octets)           !
    ```
    """

    id_type: int
    address: bytes
    payload_type: PayloadType = PayloadType.NAT_OA


Payload = (
    SaPayload
    | KePayload
    | IdPayload
    | CertPayload
    | CrPayload
    | HashPayload
    | SigPayload
    | NoncePayload
    | NotificationPayload
    | DeletePayload
    | VendorIdPayload
    | NatDPayload
    | NatOaPayload
)

P = TypeVar("P", bound=Payload)


# --- the header (RFC 2408 section 3.1) ---------------------------------------------------------
#
#                      1                   2                   3
#  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# !                          Initiator                            !
# !                            Cookie                             !
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# !                          Responder                            !
# !                            Cookie                             !
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# !  Next Payload ! MjVer ! MnVer ! Exchange Type !     Flags     !
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# !                          Message ID                           !
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# !                            Length                             !
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+


@dataclass(frozen=True, slots=True)
class IsakmpHeader:
    """The ISAKMP header. Version is always 1.0 and Length is derived when encoding.

    ``next_payload`` matters only for encrypted messages (the type of the first payload inside
    the ciphertext); for a plaintext message ``push_message`` derives it from the payload list.
    """

    initiator_cookie: bytes
    responder_cookie: bytes
    exchange_type: ExchangeType
    flags: IsakmpFlag = IsakmpFlag.NONE
    message_id: int = 0
    next_payload: PayloadType = PayloadType.NONE


@dataclass(frozen=True, slots=True)
class IsakmpMessage:
    """A header plus either the parsed payloads or, with the E flag, the raw ciphertext."""

    header: IsakmpHeader
    payloads: tuple[Payload, ...] = ()
    encrypted_body: bytes | None = field(default=None, repr=False)

    def get_all(self, kind: type[P]) -> list[P]:
        """All payloads of one class, in order."""
        return [p for p in self.payloads if isinstance(p, kind)]

    def get(self, kind: type[P]) -> P | None:
        """The first payload of one class, if any."""
        for p in self.payloads:  # a plain loop: cheaper than next() over a generator
            if isinstance(p, kind):
                return p
        return None


#: Which payloads each exchange may carry (RFC 2409 sections 5, 5.5, 5.6, 5.7; RFC 3947).
ALLOWED_PAYLOADS: Mapping[ExchangeType, frozenset[PayloadType]] = {
    ExchangeType.IDENTITY_PROTECTION: frozenset({
        PayloadType.SA, PayloadType.KE, PayloadType.NONCE, PayloadType.ID, PayloadType.HASH,
        PayloadType.SIG, PayloadType.CERT, PayloadType.CR, PayloadType.N, PayloadType.VID,
        PayloadType.NAT_D, PayloadType.NAT_D_DRAFT,
    }),
    ExchangeType.AGGRESSIVE: frozenset({
        PayloadType.SA, PayloadType.KE, PayloadType.NONCE, PayloadType.ID, PayloadType.HASH,
        PayloadType.SIG, PayloadType.CERT, PayloadType.CR, PayloadType.N, PayloadType.VID,
        PayloadType.NAT_D, PayloadType.NAT_D_DRAFT,
    }),
    ExchangeType.QUICK_MODE: frozenset({
        PayloadType.HASH, PayloadType.SA, PayloadType.NONCE, PayloadType.KE, PayloadType.ID,
        PayloadType.N, PayloadType.NAT_OA, PayloadType.NAT_OA_DRAFT,
    }),
    ExchangeType.INFORMATIONAL: frozenset({PayloadType.HASH, PayloadType.N, PayloadType.D}),
    ExchangeType.NEW_GROUP_MODE: frozenset({PayloadType.HASH, PayloadType.SA}),
}  # fmt: skip


# --- payload bodies: pull ----------------------------------------------------------------------


def _pull_generic_header(reader: _Reader, what: str) -> tuple[int, bytes]:
    """Read one generic payload header and its body: (next payload, body)."""
    pos = reader.pos
    if pos + GENERIC_HEADER_LENGTH <= len(reader.data):  # one unpack for the usual case
        next_payload, reserved, length = _GENERIC.unpack_from(reader.data, pos)
        end = pos + length
        if not reserved and GENERIC_HEADER_LENGTH <= length and end <= len(reader.data):
            reader.pos = end
            return next_payload, reader.data[pos + GENERIC_HEADER_LENGTH:end]
    # short or wrong: field by field, so the error names the first bad one
    next_payload = reader.uint8()
    if reader.uint8() != 0:
        raise MalformedPacket(f"{what}: RESERVED is not zero")
    length = reader.uint16()
    if length < GENERIC_HEADER_LENGTH:
        raise MalformedPacket(f"{what}: payload length {length} is shorter than its header")
    if length - GENERIC_HEADER_LENGTH > reader.remaining():
        raise MalformedPacket(
            f"{what}: payload length {length} exceeds the {reader.remaining() + 4} bytes left",
            NotifyType.UNEQUAL_PAYLOAD_LENGTHS,
        )
    return next_payload, reader.take(length - GENERIC_HEADER_LENGTH)


#: Transforms by their bytes on the wire, both ways. A peer offers the same few transforms
#: (its policies, its transform sets) in every negotiation and transforms are immutable, so
#: each is read and written once; the tables stop growing at ``_BASIC_CACHE_SIZE``.
_TRANSFORMS_READ: dict[bytes, TransformPayload] = {}
_TRANSFORMS_WRITTEN: dict[TransformPayload, bytes] = {}
#: The same for a peer's vendor IDs and identities: the same bytes in every negotiation with
#: it (an ID is checked once, when first read).
_VENDOR_IDS_READ: dict[bytes, VendorIdPayload] = {}
_IDS_READ: dict[bytes, IdPayload] = {}
#: Bodies longer than this are read afresh each time, never remembered: the tables hold
#: what any sender puts in the clear (MM1, AM1), and real transforms, vendor IDs and
#: identities are a few dozen bytes.
_CACHED_BODY_MAX = 64


_In = TypeVar("_In")
_Out = TypeVar("_Out")


def _once(table: dict[_In, _Out], key: _In, make: Callable[[_In], _Out]) -> _Out:
    """``make(key)``, remembered in ``table`` while it has room (what ``make`` refuses is
    never remembered: it raises)."""
    known = table.get(key)
    if known is None:
        known = make(key)
        if len(table) < _BASIC_CACHE_SIZE:
            table[key] = known
    return known


def _read_once(table: dict[bytes, _Out], body: bytes, make: Callable[[bytes], _Out]) -> _Out:
    """``make(body)``, remembered in ``table`` if ``body`` is short bytes (see
    ``_CACHED_BODY_MAX``; a bytearray or memoryview is never a key)."""
    if body.__class__ is not bytes or len(body) > _CACHED_BODY_MAX:
        return make(body)
    return _once(table, body, make)


def _pull_transform(body: bytes) -> TransformPayload:
    return _read_once(_TRANSFORMS_READ, body, _read_transform)


def _read_transform(body: bytes) -> TransformPayload:
    r = _Reader(body, "transform")
    if len(body) < _TRANSFORM.size:
        number, transform_id, reserved = r.uint8(), r.uint8(), r.uint16()  # raises: too short
    number, transform_id, reserved = _TRANSFORM.unpack_from(body)
    r.pos = _TRANSFORM.size
    if reserved != 0:
        raise MalformedPacket("transform: RESERVED2 is not zero")
    return TransformPayload(number, transform_id, _pull_attributes(r))


def _substructures(data: bytes, pos: int, kind: PayloadType, what: str, owner: str,
                   where: str) -> Iterator[bytes]:
    """The bodies of the chain of ``kind`` substructures (proposals of an SA, transforms of a
    proposal) that fills ``data`` from ``pos``: each but the last names ``kind`` as the next,
    the last names NONE. ``owner`` and ``where`` name the container in errors. Each body is
    yielded before its chaining is checked: the caller parses it first, so that of two faults
    the first in the packet is the one reported."""
    size = len(data)
    expected = kind
    while expected == kind:
        if pos + GENERIC_HEADER_LENGTH <= size:  # the usual case: one unpack, no reader
            after, reserved, length = _GENERIC.unpack_from(data, pos)
            end = pos + length
            if reserved or length < GENERIC_HEADER_LENGTH or end > size:
                end = -1
        else:
            end = -1
        if end < 0:  # short or wrong: the reader names the fault
            r = _Reader(data, owner)
            r.pos = pos
            after, body = _pull_generic_header(r, what)
            end = r.pos
            yield body
        else:
            yield data[pos + GENERIC_HEADER_LENGTH:end]
        pos = end
        expected = kind if pos < size else PayloadType.NONE
        if after != expected:
            raise MalformedPacket(
                f"{where}: {what} chained to {after}, expected {expected}",
                NotifyType.BAD_PROPOSAL_SYNTAX,
            )


def _pull_proposal(body: bytes) -> ProposalPayload:
    size = _PROPOSAL.size
    if len(body) < size:
        r = _Reader(body, "proposal")
        r.uint8(), r.uint8(), r.uint8(), r.uint8()  # raises: too short
    number, protocol_id, spi_size, count = _PROPOSAL.unpack_from(body)
    if size + spi_size > len(body):
        r = _Reader(body, "proposal")
        r.pos = size
        r.take(spi_size)  # raises: too short
    spi = body[size:size + spi_size]
    transforms = [_pull_transform(t) for t in _substructures(
        body, size + spi_size, PayloadType.T, "transform", "proposal", f"proposal {number}")]
    if len(transforms) != count:
        raise MalformedPacket(
            f"proposal {number}: says {count} transforms, carries {len(transforms)}",
            NotifyType.BAD_PROPOSAL_SYNTAX,
        )
    return ProposalPayload(number, protocol_id, spi, tuple(transforms))


_LABELED = int(Situation.SIT_SECRECY | Situation.SIT_INTEGRITY)  # an int: no Flag arithmetic


def _pull_sa(body: bytes, _: PayloadType) -> SaPayload:
    r = _Reader(body, "SA")
    doi = r.uint32()
    if doi != DOI.IPSEC:
        raise MalformedPacket(f"SA: DOI {doi} is not the IPsec DOI", NotifyType.DOI_NOT_SUPPORTED)
    situation = r.uint32()
    if situation & _LABELED:
        raise MalformedPacket(
            f"SA: situation {situation:#x} (labeled)", NotifyType.SITUATION_NOT_SUPPORTED
        )
    proposals = [_pull_proposal(p) for p in _substructures(body, r.pos, PayloadType.P,
                                                            "proposal", "SA", "SA")]
    return SaPayload(tuple(proposals), doi, situation)


def _pull_ke(body: bytes, _: PayloadType) -> KePayload:
    if not body:
        raise MalformedPacket("KE: empty key exchange data", NotifyType.INVALID_KEY_INFORMATION)
    return KePayload(body)


# RFC 2407 section 4.6.2.1: the fixed sizes of address-type identification data.
_ID_DATA_LENGTHS: Mapping[int, int | None] = {
    IdType.ID_IPV4_ADDR: 4,
    IdType.ID_IPV4_ADDR_SUBNET: 8,
    IdType.ID_IPV4_ADDR_RANGE: 8,
    IdType.ID_IPV6_ADDR: 16,
    IdType.ID_IPV6_ADDR_SUBNET: 32,
    IdType.ID_IPV6_ADDR_RANGE: 32,
    IdType.ID_FQDN: None,
    IdType.ID_USER_FQDN: None,
    IdType.ID_DER_ASN1_DN: None,
    IdType.ID_DER_ASN1_GN: None,
    IdType.ID_KEY_ID: None,
}


def _pull_id(body: bytes, _: PayloadType) -> IdPayload:
    return _read_once(_IDS_READ, body, _read_id)


def _read_id(body: bytes) -> IdPayload:
    if len(body) < _ID.size:  # raises: short, naming the field
        r = _Reader(body, "ID")
        r.uint8(), r.uint8(), r.uint16()
    id_type, protocol_id, port = _ID.unpack_from(body)
    data = body[_ID.size:]
    if id_type not in _ID_DATA_LENGTHS:
        raise MalformedPacket(f"ID: unknown ID type {id_type}", NotifyType.INVALID_ID_INFORMATION)
    size = _ID_DATA_LENGTHS[id_type]
    if (size is None and not data) or (size is not None and len(data) != size):
        raise MalformedPacket(
            f"ID: {IdType(id_type).name} with {len(data)} bytes of data",
            NotifyType.INVALID_ID_INFORMATION,
        )
    if id_type in _SUBNET_ID_TYPES:
        if _prefix_length(data[len(data) // 2 :]) is None:
            raise MalformedPacket("ID: non-contiguous netmask", NotifyType.INVALID_ID_INFORMATION)
    return IdPayload(id_type, data, protocol_id, port)


_SUBNET_ID_TYPES = frozenset({int(IdType.ID_IPV4_ADDR_SUBNET), int(IdType.ID_IPV6_ADDR_SUBNET)})


def _pull_cert(body: bytes, _: PayloadType) -> CertPayload:
    r = _Reader(body, "CERT")
    return CertPayload(r.uint8(), r.rest())


def _pull_cr(body: bytes, _: PayloadType) -> CrPayload:
    r = _Reader(body, "CR")
    return CrPayload(r.uint8(), r.rest())


def _pull_hash(body: bytes, _: PayloadType) -> HashPayload:
    if not body:
        raise MalformedPacket("HASH: empty", NotifyType.INVALID_HASH_INFORMATION)
    return HashPayload(body)


def _pull_sig(body: bytes, _: PayloadType) -> SigPayload:
    if not body:
        raise MalformedPacket("SIG: empty", NotifyType.INVALID_SIGNATURE)
    return SigPayload(body)


def _pull_nonce(body: bytes, _: PayloadType) -> NoncePayload:
    # RFC 2409 section 5: "The length of nonce payload MUST be between 8 and 256 bytes".
    if not 8 <= len(body) <= 256:
        raise MalformedPacket(f"NONCE: {len(body)} bytes, outside 8..256")
    return NoncePayload(body)


def _pull_doi(r: _Reader, what: str) -> int:
    doi = r.uint32()
    if doi not in (DOI.ISAKMP, DOI.IPSEC):
        raise MalformedPacket(f"{what}: DOI {doi}", NotifyType.DOI_NOT_SUPPORTED)
    return doi


def _pull_notification(body: bytes, _: PayloadType) -> NotificationPayload:
    r = _Reader(body, "N")
    doi = _pull_doi(r, "N")
    protocol_id, spi_size, notify_type = r.uint8(), r.uint8(), r.uint16()
    spi = r.take(spi_size)
    return NotificationPayload(notify_type, protocol_id, spi, r.rest(), doi)


def _pull_delete(body: bytes, _: PayloadType) -> DeletePayload:
    r = _Reader(body, "D")
    doi = _pull_doi(r, "D")
    protocol_id, spi_size, count = r.uint8(), r.uint8(), r.uint16()
    if spi_size * count != r.remaining():
        raise MalformedPacket(
            f"D: {count} SPIs of {spi_size} bytes in {r.remaining()} bytes", NotifyType.INVALID_SPI
        )
    return DeletePayload(protocol_id, spi_size, tuple(r.take(spi_size) for _ in range(count)), doi)


def _pull_vid(body: bytes, _: PayloadType) -> VendorIdPayload:
    return _read_once(_VENDOR_IDS_READ, body, VendorIdPayload)


def _pull_nat_d(body: bytes, payload_type: PayloadType) -> NatDPayload:
    if not body:
        raise MalformedPacket("NAT-D: empty hash")
    return NatDPayload(body, payload_type)


_NAT_OA_ADDRESS_LENGTHS: Mapping[int, int] = {IdType.ID_IPV4_ADDR: 4, IdType.ID_IPV6_ADDR: 16}


def _pull_nat_oa(body: bytes, payload_type: PayloadType) -> NatOaPayload:
    r = _Reader(body, "NAT-OA")
    id_type = r.uint8()
    if r.take(3) != b"\0\0\0":
        raise MalformedPacket("NAT-OA: RESERVED is not zero")
    address = r.rest()
    if _NAT_OA_ADDRESS_LENGTHS.get(id_type) != len(address):
        raise MalformedPacket(
            f"NAT-OA: ID type {id_type} with a {len(address)}-byte address",
            NotifyType.INVALID_ID_INFORMATION,
        )
    return NatOaPayload(id_type, address, payload_type)


# --- payload bodies: push ----------------------------------------------------------------------


def _push_generic(next_payload: int, body: bytes) -> bytes:
    length = GENERIC_HEADER_LENGTH + len(body)
    if length >= 0x10000:  # never negative: only the upper bound can fail
        _check_range("payload length", length, 16)
    return _GENERIC.pack(next_payload, 0, length) + body


def _push_transform(t: TransformPayload) -> bytes:
    return _once(_TRANSFORMS_WRITTEN, t, _write_transform)


def _write_transform(t: TransformPayload) -> bytes:
    _check_range("transform number", t.number, 8)
    _check_range("transform id", t.transform_id, 8)
    return _TRANSFORM.pack(t.number, t.transform_id, 0) + b"".join(
        [_push_attribute(a) for a in t.attributes])


def _push_proposal(p: ProposalPayload) -> bytes:
    if not p.transforms:
        raise ValueError("a proposal needs at least one transform")
    if not (0 <= p.number < 0x100 and 0 <= p.protocol_id < 0x100 and len(p.spi) < 0x100
            and len(p.transforms) < 0x100):
        _check_range("proposal number", p.number, 8)  # one of them raises, naming the field
        _check_range("protocol id", p.protocol_id, 8)
        _check_range("SPI size", len(p.spi), 8)
        _check_range("transform count", len(p.transforms), 8)
    out = [_PROPOSAL.pack(p.number, p.protocol_id, len(p.spi), len(p.transforms)), p.spi]
    last = len(p.transforms) - 1
    for i, t in enumerate(p.transforms):
        out.append(_push_generic(_NONE if i == last else _T, _push_transform(t)))
    return b"".join(out)


def _push_sa(p: SaPayload) -> bytes:
    if not p.proposals:
        raise ValueError("an SA needs at least one proposal")
    out = [_DOI_SITUATION.pack(p.doi, p.situation)]
    last = len(p.proposals) - 1
    for i, proposal in enumerate(p.proposals):
        out.append(_push_generic(_NONE if i == last else _P, _push_proposal(proposal)))
    return b"".join(out)


def _push_ke(p: KePayload) -> bytes:
    return p.key_exchange_data


def _push_id(p: IdPayload) -> bytes:
    if not (0 <= p.id_type < 0x100 and 0 <= p.protocol_id < 0x100 and 0 <= p.port < 0x10000):
        _check_range("ID type", p.id_type, 8)  # one of them raises, naming the field
        _check_range("ID protocol", p.protocol_id, 8)
        _check_range("ID port", p.port, 16)
    return _ID.pack(p.id_type, p.protocol_id, p.port) + p.data


def _push_cert(p: CertPayload) -> bytes:
    _check_range("certificate encoding", p.encoding, 8)
    return bytes([p.encoding]) + p.data


def _push_cr(p: CrPayload) -> bytes:
    _check_range("certificate type", p.cert_type, 8)
    return bytes([p.cert_type]) + p.authority


def _push_data(p: HashPayload | SigPayload | NoncePayload | VendorIdPayload) -> bytes:
    return p.data


def _push_notification(p: NotificationPayload) -> bytes:
    _check_range("protocol id", p.protocol_id, 8)
    _check_range("SPI size", len(p.spi), 8)
    _check_range("notify type", p.notify_type, 16)
    return struct.pack("!IBBH", p.doi, p.protocol_id, len(p.spi), p.notify_type) + p.spi + p.data


def _push_delete(p: DeletePayload) -> bytes:
    if any(len(spi) != p.spi_size for spi in p.spis):
        raise ValueError(f"every SPI of a Delete payload must be {p.spi_size} bytes")
    _check_range("SPI count", len(p.spis), 16)
    header = struct.pack("!IBBH", p.doi, p.protocol_id, p.spi_size, len(p.spis))
    return header + b"".join(p.spis)


def _push_nat_d(p: NatDPayload) -> bytes:
    if p.payload_type not in _NAT_D_TYPES:
        raise ValueError(f"NAT-D payload with type {p.payload_type}")
    return p.hash


def _push_nat_oa(p: NatOaPayload) -> bytes:
    if p.payload_type not in _NAT_OA_TYPES:
        raise ValueError(f"NAT-OA payload with type {p.payload_type}")
    return bytes([p.id_type, 0, 0, 0]) + p.address


# The codec table: payload type -> (pull body, push body). Types absent here are unknown.
_PULL: Mapping[PayloadType, Callable[[bytes, PayloadType], Payload]] = {
    PayloadType.SA: _pull_sa,
    PayloadType.KE: _pull_ke,
    PayloadType.ID: _pull_id,
    PayloadType.CERT: _pull_cert,
    PayloadType.CR: _pull_cr,
    PayloadType.HASH: _pull_hash,
    PayloadType.SIG: _pull_sig,
    PayloadType.NONCE: _pull_nonce,
    PayloadType.N: _pull_notification,
    PayloadType.D: _pull_delete,
    PayloadType.VID: _pull_vid,
    PayloadType.NAT_D: _pull_nat_d,
    PayloadType.NAT_D_DRAFT: _pull_nat_d,
    PayloadType.NAT_OA: _pull_nat_oa,
    PayloadType.NAT_OA_DRAFT: _pull_nat_oa,
}

_PUSH: Mapping[type[Any], Callable[[Any], bytes]] = {
    SaPayload: _push_sa,
    KePayload: _push_ke,
    IdPayload: _push_id,
    CertPayload: _push_cert,
    CrPayload: _push_cr,
    HashPayload: _push_data,
    SigPayload: _push_data,
    NoncePayload: _push_data,
    NotificationPayload: _push_notification,
    DeletePayload: _push_delete,
    VendorIdPayload: _push_data,
    NatDPayload: _push_nat_d,
    NatOaPayload: _push_nat_oa,
}

_NAT_D_TYPES = frozenset({PayloadType.NAT_D, PayloadType.NAT_D_DRAFT})
_NONE, _T, _P = PayloadType.NONE, PayloadType.T, PayloadType.P
_NAT_OA_TYPES = frozenset({PayloadType.NAT_OA, PayloadType.NAT_OA_DRAFT})


#: Per exchange (None: no exchange given), the payload types that pass every check of
#: ``_known_payload_type``: one set lookup for the usual case.
_ALWAYS_ALLOWED: Mapping[ExchangeType | None, frozenset[PayloadType]] = {
    None: frozenset(_PULL),
    **{exchange: frozenset(_PULL) & allowed for exchange, allowed in ALLOWED_PAYLOADS.items()},
}
_NOTHING: frozenset[PayloadType] = frozenset()
_Readers = Mapping[int, tuple[PayloadType, Callable[[bytes, PayloadType], Payload]]]
#: The same per exchange as wire value -> (payload type, its pull function): one dictionary
#: lookup per payload of a chain.
_READERS: Mapping[ExchangeType | None, _Readers] = {
    exchange: {int(t): (t, _PULL[t]) for t in allowed}
    for exchange, allowed in _ALWAYS_ALLOWED.items()
}
_NO_READERS: _Readers = {}


# --- payload chains and messages ---------------------------------------------------------------


# Wire values to enum members by dictionary: the enum's own constructor costs far more.
_PAYLOAD_TYPES: Mapping[int, PayloadType] = {int(t): t for t in PayloadType}
_EXCHANGE_TYPES: Mapping[int, ExchangeType] = {int(t): t for t in ExchangeType}
_PAYLOAD_NAMES: Mapping[PayloadType, str] = {t: t.name for t in PayloadType}  # for errors
_E = int(IsakmpFlag.E)
#: Every valid header Flags value (E, C and A combined) and its enum member.
_FLAGS: Mapping[int, IsakmpFlag] = {
    value: IsakmpFlag(value) for value in range(int(IsakmpFlag.E | IsakmpFlag.C | IsakmpFlag.A)
                                                + 1)}


def _known_payload_type(value: int, exchange_type: ExchangeType | None) -> PayloadType:
    payload_type = _PAYLOAD_TYPES.get(value)
    if payload_type is not None and payload_type in _ALWAYS_ALLOWED.get(exchange_type, _NOTHING):
        return payload_type
    if payload_type is None:
        raise MalformedPacket(f"unknown payload type {value}", NotifyType.INVALID_PAYLOAD_TYPE)
    if payload_type not in _PULL:
        raise MalformedPacket(
            f"payload type {payload_type.name} cannot appear at top level",
            NotifyType.INVALID_PAYLOAD_TYPE,
        )
    if exchange_type is not None and payload_type not in ALLOWED_PAYLOADS[exchange_type]:
        raise MalformedPacket(
            f"{payload_type.name} payload not allowed in {exchange_type.name}",
            NotifyType.INVALID_PAYLOAD_TYPE,
        )
    return payload_type


def pull_payloads(
    first_payload_type: int,
    data: bytes,
    *,
    exchange_type: ExchangeType | None = None,
    padded: bool = True,
) -> tuple[Payload, ...]:
    """Parse a payload chain starting with a payload of type ``first_payload_type``.

    Use it on the decrypted body of an encrypted message (``header.next_payload`` is the first
    type). With ``padded`` (the default) up to 255 bytes after the last payload are taken as the
    RFC 2409 section 5.3 padding; with ``padded=False`` any trailing byte is an error. With
    ``exchange_type`` every payload is checked against ``ALLOWED_PAYLOADS``.
    """
    return pull_payload_chain(first_payload_type, data, exchange_type=exchange_type,
                              padded=padded)[0]


def pull_payload_chain(
    first_payload_type: int,
    data: bytes,
    *,
    exchange_type: ExchangeType | None = None,
    padded: bool = True,
) -> tuple[tuple[Payload, ...], int]:
    """``pull_payloads``, and the length of the chain in ``data`` (where any padding begins):
    ``data[:length]`` are the payloads exactly as the peer sent them."""
    payloads: list[Payload] = []
    readers = _READERS.get(exchange_type, _NO_READERS)
    next_type = first_payload_type
    pos, size = 0, len(data)
    while next_type != PayloadType.NONE:
        known = readers.get(next_type)
        if known is None:  # raises, naming what is wrong
            known = _READERS[None][_known_payload_type(next_type, exchange_type)]
        payload_type, pull = known
        if pos + GENERIC_HEADER_LENGTH <= size:  # the usual case: one unpack, no reader
            after, reserved, length = _GENERIC.unpack_from(data, pos)
            end = pos + length
            if not reserved and GENERIC_HEADER_LENGTH <= length and end <= size:
                payloads.append(pull(data[pos + GENERIC_HEADER_LENGTH:end], payload_type))
                pos, next_type = end, after
                continue
        reader = _Reader(data, "payloads")  # short or wrong: the reader names the fault
        reader.pos = pos
        next_type, body = _pull_generic_header(reader, _PAYLOAD_NAMES[payload_type])
        payloads.append(pull(body, payload_type))
        pos = reader.pos
    trailing = size - pos
    if trailing and not (padded and trailing <= MAX_PADDING):
        raise MalformedPacket(
            f"{trailing} bytes after the last payload", NotifyType.UNEQUAL_PAYLOAD_LENGTHS
        )
    return tuple(payloads), pos


def pull_message(data: bytes) -> IsakmpMessage:
    """Parse one ISAKMP message; strict (see the module docstring).

    Raises ``MalformedPacket``. With the E flag set, ``encrypted_body`` holds the ciphertext and
    ``payloads`` is empty.
    """
    if len(data) < HEADER_LENGTH:  # raises: short, naming the first field missing
        r = _Reader(data, "ISAKMP header")
        r.take(8), r.take(8), r.uint8(), r.uint8(), r.uint8(), r.uint8(), r.uint32(), r.uint32()
    next_payload, version, exchange, flags, message_id, length = _HEADER_REST.unpack_from(
        data, 16)
    if version >> 4 != ISAKMP_VERSION >> 4:
        raise MalformedPacket(f"major version {version >> 4}", NotifyType.INVALID_MAJOR_VERSION)
    if version & 0x0F != ISAKMP_VERSION & 0x0F:
        raise MalformedPacket(f"minor version {version & 0x0F}", NotifyType.INVALID_MINOR_VERSION)
    if length != len(data):
        raise MalformedPacket(
            f"header length {length}, datagram {len(data)} bytes",
            NotifyType.UNEQUAL_PAYLOAD_LENGTHS,
        )
    exchange_type = _EXCHANGE_TYPES.get(exchange)
    if exchange_type is None:
        raise MalformedPacket(f"exchange type {exchange}", NotifyType.INVALID_EXCHANGE_TYPE)
    if exchange_type not in ALLOWED_PAYLOADS:
        raise MalformedPacket(
            f"exchange {exchange_type.name} is not supported", NotifyType.UNSUPPORTED_EXCHANGE_TYPE
        )
    if flags not in _FLAGS:
        raise MalformedPacket(f"flags {flags:#04x}", NotifyType.INVALID_FLAGS)
    first = _known_payload_type(next_payload, exchange_type) if next_payload else PayloadType.NONE
    header = IsakmpHeader(data[:8], data[8:16], exchange_type, _FLAGS[flags], message_id, first)
    body = data[HEADER_LENGTH:]
    if flags & _E:
        if not body or first == PayloadType.NONE:
            raise MalformedPacket("encrypted message without a body")
        return IsakmpMessage(header, (), body)
    payloads = pull_payloads(first, body, exchange_type=exchange_type, padded=False)
    return IsakmpMessage(header, payloads)


def push_payload_body(payload: Payload) -> bytes:
    """A payload's body without the generic header (e.g. SAi_b, IDii_b of RFC 2409 5)."""
    return _PUSH[type(payload)](payload)


def push_payload(payload: Payload, next_payload: int = PayloadType.NONE) -> bytes:
    """One payload with its generic header (e.g. the "N/D" input of RFC 2409 section 5.7)."""
    return _push_generic(next_payload, push_payload_body(payload))


def push_payloads(payloads: Iterable[Payload]) -> tuple[PayloadType, bytes]:
    """Encode a chain: (type of the first payload, bytes). Next Payload fields are derived."""
    items = list(payloads)
    if not items:
        return PayloadType.NONE, b""
    bodies = []
    for payload in items:  # in order: the first bad payload is the one that raises
        body = _PUSH[type(payload)](payload)
        if len(body) >= 0x10000 - GENERIC_HEADER_LENGTH:
            _check_range("payload length", GENERIC_HEADER_LENGTH + len(body), 16)
        bodies.append(body)
    out = []
    pack = _GENERIC.pack
    after = PayloadType.NONE
    for payload, body in zip(reversed(items), reversed(bodies), strict=True):
        length = GENERIC_HEADER_LENGTH + len(body)  # each header names the payload after it
        out.append(body)
        out.append(pack(after, 0, length))
        after = payload.payload_type
    out.reverse()
    return after, b"".join(out)


def push_message(message: IsakmpMessage) -> bytes:
    """Encode a message. A plaintext message's header Next Payload comes from its payloads; an
    encrypted one (``encrypted_body`` set, E flag required) keeps ``header.next_payload``."""
    h = message.header
    if len(h.initiator_cookie) != 8 or len(h.responder_cookie) != 8:
        raise ValueError("cookies are 8 bytes")
    _check_range("message id", h.message_id, 32)
    flags = int(h.flags)
    if message.encrypted_body is not None:
        if not flags & _E:
            raise ValueError("an encrypted body needs the E flag")
        if message.payloads:
            raise ValueError("a message has either payloads or an encrypted body")
        first, body = h.next_payload, message.encrypted_body
    else:
        if flags & _E:
            raise ValueError("the E flag needs an encrypted body")
        first, body = push_payloads(message.payloads)
    return _pack_message(h, first, flags, body)


def push_encoded(header: IsakmpHeader, first: int, body: bytes) -> bytes:
    """A message from its header and a body encoded already: a payload chain whose first
    payload is of type ``first`` (``push_payloads``), or with the E flag the ciphertext of
    one. Next Payload is ``first``, Length is derived; no message object is built."""
    if len(header.initiator_cookie) != 8 or len(header.responder_cookie) != 8:
        raise ValueError("cookies are 8 bytes")
    _check_range("message id", header.message_id, 32)
    return _pack_message(header, first, int(header.flags), body)


def _pack_message(h: IsakmpHeader, first: int, flags: int, body: bytes) -> bytes:
    length = HEADER_LENGTH + len(body)
    _check_range("message length", length, 32)
    fixed = _HEADER_REST.pack(first, ISAKMP_VERSION, h.exchange_type, flags, h.message_id,
                              length)
    return h.initiator_cookie + h.responder_cookie + fixed + body
