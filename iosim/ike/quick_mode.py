"""IKEv1 quick mode pieces (RFC 2409 section 5.5): proxy identities, phase-2 offers, the
IPsec SA pair a quick mode produces, and the SA payload codec for ESP, AH and AH+ESP proposals.

Theory of operation
-------------------
A ``Phase2Offer`` is what one crypto map entry allows. The initiator sends it with one
proposal number per transform set (IOS style: proposals 1, 2, ... are alternatives). A set
names one or two protocols (RFC 2408 section 4.2): ``esp-aes 256 esp-sha-hmac`` is an ESP
proposal, ``ah-sha-hmac`` an AH proposal, ``ah-sha-hmac esp-aes 256 esp-sha-hmac`` an AH
proposal *and* an ESP proposal carrying the same number (a logical AND: both or neither), each
with its own SPI. Every protocol proposal has one transform whose attributes carry the
lifetimes, the encapsulation mode, the HMAC, the key length and, with PFS, the group
(``offer_sa_payload``; AH: RFC 2407 4.4.3, ESP: 4.4.4, attributes: 4.5). The responder turns
every received proposal number back into a ``Phase2Offer`` (``offers_from_sa``) and lets the
router choose; the chosen proposal is returned whole (``reply_sa_payload``) with the lower
lifetimes, so both ends install the same ones; the initiator checks the answer against what it
offered (``answered_choice``).

Exchange, with the states of ``QuickModeExchange``::

    initiator                               responder
    QM_I_QM1  -- HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr] -->
              <-- HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr] --   QM_R_QM2
    done      -- HDR*, HASH(3) -->                                 done

KEYMAT for each direction of each protocol is derived with that protocol's SPI that the
*receiving* side chose (RFC 2409 5.5), so our inbound keys use our SPI and our outbound keys
the peer's; an AH+ESP bundle has four KEYMATs.

AH and NAT traversal: AH authenticates the outer IP addresses, so it cannot cross a NAT and
RFC 3947/3948 define no UDP encapsulation for it. Over an ISAKMP SA that floated to UDP 4500,
a transform set with AH is still offered and accepted with the plain Tunnel/Transport modes
(1/2), and the whole bundle (ESP included: AH is the outer header) travels as IP protocol 51
without UDP encapsulation. This is what IOS does: the negotiation succeeds, the SAs show up,
and then the NAT rewrites the addresses under AH's ICV, every packet fails its integrity check
at the peer and nothing gets through ("AH through NAT fails"). ESP-only sets keep using the
UDP-Encapsulated-Tunnel/-Transport modes (3/4) after a float.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from iosim.crypto.dh import DhPrivate
from iosim.ike.constants import (
    EncapsulationMode,
    IdType,
    IpsecAttributeType,
    LifeType,
    ProtocolId,
)
from iosim.ike.payloads import (
    DataAttribute,
    DeletePayload,
    IdPayload,
    ProposalPayload,
    SaPayload,
    TransformPayload,
)
from iosim.ipsec.transforms import (
    AH_TRANSFORMS,
    ENCRYPTION_TRANSFORMS,
    ESP_INTEGRITY_TRANSFORMS,
    EncryptionTransform,
    IntegrityTransform,
    encryption_transform,
    integrity_transform,
)

__all__ = [
    "IpsecSaPair",
    "Phase2Offer",
    "ProposalChoice",
    "ProxyIdentity",
    "QuickModeExchange",
    "TransformSetSuite",
    "ah_transform",
    "answered_choice",
    "canonical_transform_set",
    "delete_payloads",
    "esp_suite",
    "id_payload",
    "offer_protocols",
    "offer_sa_payload",
    "offers_from_sa",
    "pair_deleted_by",
    "proxy_from_ids",
    "reply_sa_payload",
    "transform_set_suite",
    "usable_transform_set",
]

FULL_MASK = 0xFFFFFFFF
_Row = TypeVar("_Row")
_AH = ProtocolId.PROTO_IPSEC_AH
_ESP = ProtocolId.PROTO_IPSEC_ESP


@dataclass(frozen=True, slots=True)
class ProxyIdentity:
    """Quick-mode identities (IDci/IDcr), as seen by one router: local is its own side."""

    local_net: int
    local_mask: int
    remote_net: int
    remote_mask: int
    protocol: int = 0
    local_port: int = 0
    remote_port: int = 0

    def mirrored(self) -> ProxyIdentity:
        """The same identities as the peer sees them."""
        return ProxyIdentity(self.remote_net, self.remote_mask, self.local_net, self.local_mask,
                             self.protocol, self.remote_port, self.local_port)


@dataclass(frozen=True)
class Phase2Offer:
    """What one crypto map entry allows."""

    transform_sets: tuple[tuple[str, ...], ...]  # IOS names: ("esp-aes 256", "esp-sha256-hmac")
    mode: str  # "tunnel" | "transport"
    pfs_group: int | None
    lifetime_seconds: int = 3600
    lifetime_kilobytes: int = 4608000


@dataclass(frozen=True, slots=True)
class IpsecSaPair:
    """The result of one quick mode, from this router's point of view.

    ``protocol`` says which fields are in use:

    - ``"esp"``: ``encryption``/``integrity`` name the ESP transforms, ``spi_in``/``spi_out``
      are the ESP SPIs and ``keys_in``/``keys_out`` their KEYMAT (encryption key (+ salt) ||
      integrity key); the ``ah_*`` fields keep their defaults.
    - ``"ah"``: ``ah_integrity`` names the AH HMAC (``"ah-sha-hmac"``), ``ah_spi_in`` /
      ``ah_spi_out`` / ``ah_keys_in`` / ``ah_keys_out`` hold the AH SPIs and HMAC keys;
      ``encryption`` is ``""``, ``integrity`` None, ``spi_in``/``spi_out`` repeat the AH SPIs
      (the pair is still found by ``spi_in``) and ``keys_in``/``keys_out`` are empty.
    - ``"ah+esp"``: the ESP fields as for ``"esp"`` plus the ``ah_*`` fields as for ``"ah"``;
      on the wire AH is outside ESP (``IPv4 | AH | ESP | ...``).

    ``udp_encap`` is never set for a pair with AH (see the module docstring).
    """

    peer: int
    proxies: ProxyIdentity
    protocol: str  # "esp" | "ah" | "ah+esp"
    encryption: str  # canonical IOS words: "esp-aes 256", "esp-gcm 256", "esp-null"; "" for AH
    integrity: str | None  # "esp-sha256-hmac"; None for combined-mode ciphers and AH only
    mode: str
    spi_in: int
    spi_out: int
    keys_in: bytes = field(repr=False)  # encryption key (+ salt) || integrity key
    keys_out: bytes = field(repr=False)
    lifetime_seconds: int
    lifetime_kilobytes: int
    pfs_group: int | None
    conn_id_in: int
    conn_id_out: int
    udp_encap: bool = False  # ESP in UDP/4500 (RFC 3948): negotiated after a NAT-T float
    ah_integrity: str | None = None  # "ah-sha-hmac" when the pair has AH
    ah_spi_in: int = 0
    ah_spi_out: int = 0
    ah_keys_in: bytes = field(default=b"", repr=False)  # the AH HMAC key, inbound
    ah_keys_out: bytes = field(default=b"", repr=False)


# --- transform sets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TransformSetSuite:
    """The algorithm rows of one transform set: an AH HMAC, an ESP cipher (+ HMAC), or both."""

    ah: IntegrityTransform | None
    enc: EncryptionTransform | None
    esp_integ: IntegrityTransform | None

    @property
    def protocol(self) -> str:
        """``"esp"``, ``"ah"`` or ``"ah+esp"`` as in ``IpsecSaPair.protocol``."""
        if self.ah is None:
            return "esp"
        return "ah" if self.enc is None else "ah+esp"

    @property
    def transform_set(self) -> tuple[str, ...]:
        """Canonical IOS words: the AH HMAC, then the ESP cipher, then the ESP HMAC."""
        return tuple(row.name for row in (self.ah, self.enc, self.esp_integ) if row is not None)


def transform_set_suite(transform_set: tuple[str, ...]) -> TransformSetSuite | None:
    """Classify a transform set's words; None if a word is unknown, repeated in its role, or
    the set protects nothing (no AH and no usable ESP)."""
    return _suite_of_words(tuple(transform_set))


@functools.lru_cache(maxsize=256)  # a router's sets and the table's names: a handful
def _suite_of_words(transform_set: tuple[str, ...]) -> TransformSetSuite | None:
    rows: list[object | None] = [None, None, None]
    for name in transform_set:
        try:
            row: EncryptionTransform | IntegrityTransform
            if name.startswith("ah-"):
                row, slot = integrity_transform(name), 0
                if row.protocol != "ah":
                    return None
            elif name.startswith("esp-") and name.endswith("-hmac"):
                row, slot = integrity_transform(name), 2
            else:
                row, slot = encryption_transform(name), 1
        except (KeyError, ValueError):
            return None
        if rows[slot] is not None:
            return None
        rows[slot] = row
    ah, enc, integ = rows
    assert ah is None or isinstance(ah, IntegrityTransform)
    assert enc is None or isinstance(enc, EncryptionTransform)
    assert integ is None or isinstance(integ, IntegrityTransform)
    if enc is None and integ is not None:
        return None  # an ESP HMAC needs an ESP cipher (esp-null at least)
    if enc is not None and enc.is_combined and integ is not None:
        return None
    if (ah is None and enc is not None and not enc.is_combined and enc.key_size == 0
            and integ is None):
        return None  # esp-null alone protects nothing
    if ah is None and enc is None:
        return None
    return TransformSetSuite(ah, enc, integ)


def usable_transform_set(transform_set: tuple[str, ...]) -> bool:
    """True if quick mode can offer this transform set (ESP, AH or AH+ESP)."""
    return transform_set_suite(transform_set) is not None


def canonical_transform_set(transform_set: tuple[str, ...]) -> tuple[str, ...]:
    """The set's words in the order quick mode reports them (AH, ESP cipher, ESP HMAC), so
    ``("esp-aes", "esp-sha-hmac", "ah-md5-hmac")`` compares equal to what a peer offered;
    unusable sets are returned unchanged."""
    suite = transform_set_suite(transform_set)
    return suite.transform_set if suite is not None else transform_set


def esp_suite(
    transform_set: tuple[str, ...],
) -> tuple[EncryptionTransform, IntegrityTransform | None] | None:
    """The ESP cipher and HMAC rows of a transform set, or None if it is not ESP-only."""
    suite = transform_set_suite(transform_set)
    if suite is None or suite.ah is not None or suite.enc is None:
        return None
    return suite.enc, suite.esp_integ


# --- transforms on the wire --------------------------------------------------------------------


def _mode_value(mode: str, udp_encap: bool = False) -> int:
    if udp_encap:  # RFC 3947 section 5.1
        return (EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT if mode == "transport"
                else EncapsulationMode.UDP_ENCAPSULATED_TUNNEL)
    return EncapsulationMode.TRANSPORT if mode == "transport" else EncapsulationMode.TUNNEL


@functools.lru_cache(maxsize=256)  # immutable, and the same for every SA of a crypto map
def _attributes(mode: str, udp_encap: bool, seconds: int, kilobytes: int,
                integ: IntegrityTransform | None, key_bits: int | None,
                pfs_group: int | None) -> tuple[DataAttribute, ...]:
    """IOS's attribute order (RFC 2407 section 4.5): mode, lifetimes, HMAC, key length, group."""
    attrs = [
        DataAttribute(IpsecAttributeType.ENCAPSULATION_MODE, _mode_value(mode, udp_encap)),
        DataAttribute(IpsecAttributeType.SA_LIFE_TYPE, LifeType.SECONDS),
        DataAttribute.variable(IpsecAttributeType.SA_LIFE_DURATION, seconds),
        DataAttribute(IpsecAttributeType.SA_LIFE_TYPE, LifeType.KILOBYTES),
        DataAttribute(IpsecAttributeType.SA_LIFE_DURATION, kilobytes.to_bytes(4, "big")),
    ]
    if integ is not None:
        attrs.append(DataAttribute(IpsecAttributeType.AUTHENTICATION_ALGORITHM,
                                   integ.auth_algorithm))
    if key_bits is not None:
        attrs.append(DataAttribute(IpsecAttributeType.KEY_LENGTH, key_bits))
    if pfs_group is not None:
        attrs.append(DataAttribute(IpsecAttributeType.GROUP_DESCRIPTION, pfs_group))
    return tuple(attrs)


def esp_transform(
    number: int,
    enc: EncryptionTransform,
    integ: IntegrityTransform | None,
    mode: str,
    pfs_group: int | None,
    seconds: int,
    kilobytes: int,
    *,
    udp_encap: bool = False,
) -> TransformPayload:
    """One ESP transform (RFC 2407 section 4.4.4); ``udp_encap`` selects the RFC 3947
    UDP-Encapsulated-Tunnel/-Transport mode values."""
    return TransformPayload(number, enc.doi_transform_id, _attributes(
        mode, udp_encap, seconds, kilobytes, integ, enc.key_length_attribute, pfs_group))


def ah_transform(
    number: int,
    integ: IntegrityTransform,
    mode: str,
    pfs_group: int | None,
    seconds: int,
    kilobytes: int,
) -> TransformPayload:
    """One AH transform (RFC 2407 section 4.4.3): transform ID AH_MD5 (2), AH_SHA (3),
    AH_SHA2_256/384/512 (5/6/7) with the matching Authentication Algorithm attribute; the mode
    is always plain Tunnel/Transport (AH is never UDP-encapsulated)."""
    assert integ.ah_transform_id is not None
    return TransformPayload(number, integ.ah_transform_id, _attributes(
        mode, False, seconds, kilobytes, integ, None, pfs_group))


def _suite_proposals(number: int, suite: TransformSetSuite, mode: str, pfs: int | None,
                     seconds: int, kilobytes: int, spis: dict[int, bytes], udp_encap: bool
                     ) -> list[ProposalPayload]:
    """The protocol proposals of one transform set, AH first (the outer header)."""
    out = []
    if suite.ah is not None:
        out.append(ProposalPayload(number, _AH, spis[_AH], (
            ah_transform(1, suite.ah, mode, pfs, seconds, kilobytes),)))
    if suite.enc is not None:
        encap = udp_encap and suite.ah is None
        out.append(ProposalPayload(number, _ESP, spis[_ESP], (
            esp_transform(1, suite.enc, suite.esp_integ, mode, pfs, seconds, kilobytes,
                          udp_encap=encap),)))
    return out


def offer_sa_payload(offer: Phase2Offer, spi: bytes, *, udp_encap: bool = False,
                     ah_spi: bytes | None = None) -> SaPayload:
    """The initiator's SA: one proposal number per usable transform set; ``spi`` is our ESP
    SPI, ``ah_spi`` our AH SPI (defaults to ``spi``). After a NAT-T float (``udp_encap``)
    ESP-only sets use the UDP-encapsulated modes, sets with AH the plain ones."""
    spis: dict[int, bytes] = {_ESP: spi, _AH: spi if ah_spi is None else ah_spi}
    proposals: list[ProposalPayload] = []
    number = 0
    for ts in offer.transform_sets:
        suite = transform_set_suite(ts)
        if suite is None:
            continue
        number += 1
        proposals += _suite_proposals(number, suite, offer.mode, offer.pfs_group,
                                      offer.lifetime_seconds, offer.lifetime_kilobytes, spis,
                                      udp_encap)
    if not proposals:
        raise ValueError("no usable transform set in the offer")
    return SaPayload(tuple(proposals))


def offer_protocols(offer: Phase2Offer) -> frozenset[int]:
    """The IPsec protocols (AH 2, ESP 3) the offer's usable transform sets use."""
    found: set[int] = set()
    for ts in offer.transform_sets:
        suite = transform_set_suite(ts)
        if suite is not None:
            found |= {p for p, row in ((_AH, suite.ah), (_ESP, suite.enc)) if row is not None}
    return frozenset(found)


@dataclass(frozen=True)
class _Parsed:
    """One received transform of one protocol; ``enc`` is None for AH."""

    protocol: int
    enc: EncryptionTransform | None
    integ: IntegrityTransform | None
    mode: str
    group: int | None
    seconds: int
    kilobytes: int
    udp_encap: bool = False

    @property
    def transform_set(self) -> tuple[str, ...]:
        return tuple(row.name for row in (self.enc, self.integ) if row is not None)


_MODES: dict[int, tuple[str, bool]] = {
    EncapsulationMode.TUNNEL: ("tunnel", False),
    EncapsulationMode.TRANSPORT: ("transport", False),
    EncapsulationMode.UDP_ENCAPSULATED_TUNNEL: ("tunnel", True),
    EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT: ("transport", True),
}  # the pre-RFC draft values (61443/61444) are not spoken


def _first_by(rows: Iterable[_Row], key: Callable[[_Row], Hashable]) -> dict[Hashable, _Row]:
    """Index table rows by ``key``; the first row wins, as a scan of the table would find."""
    out: dict[Hashable, _Row] = {}
    for row in rows:
        out.setdefault(key(row), row)
    return out


#: The ESP cipher of a (Transform ID, Key Length attribute) pair, the ESP HMAC of an
#: Authentication Algorithm value and the AH HMAC of a Transform ID (RFC 2407 4.4.3-4.5).
_ESP_CIPHER_BY_ID: dict[Hashable, EncryptionTransform] = _first_by(
    ENCRYPTION_TRANSFORMS.values(), lambda row: (row.doi_transform_id, row.key_length_attribute))
_ESP_HMAC_BY_AUTH: dict[Hashable, IntegrityTransform] = _first_by(
    ESP_INTEGRITY_TRANSFORMS.values(), lambda row: row.auth_algorithm)
_AH_BY_ID: dict[Hashable, IntegrityTransform] = _first_by(
    AH_TRANSFORMS.values(), lambda row: row.ah_transform_id)


def _read_attributes(t: TransformPayload) -> tuple[dict[int, int], int, int] | None:
    """(other attributes, seconds, kilobytes); None for a lifetime we cannot read."""
    values: dict[int, int] = {}
    seconds, kilobytes = 28800, 4608000  # RFC 2407 4.5 default; IOS default volume
    life_type = None
    for attr in t.attributes:
        kind = attr.attribute_type
        if kind == IpsecAttributeType.SA_LIFE_TYPE:
            life_type = attr.as_int()
        elif kind == IpsecAttributeType.SA_LIFE_DURATION:
            if life_type == LifeType.SECONDS:
                seconds = attr.as_int()
            elif life_type == LifeType.KILOBYTES:
                kilobytes = attr.as_int()
            else:
                return None
        else:
            values[kind] = attr.as_int()
    return values, seconds, kilobytes


# A quick mode reads each transform several times (the trace, the offers, the answer):
# transforms are frozen, so each distinct one is parsed once.
@functools.lru_cache(maxsize=256)
def parse_esp_transform(t: TransformPayload) -> _Parsed | None:
    """Read an ESP transform; None if we do not know its algorithms or attributes."""
    read = _read_attributes(t)
    if read is None:
        return None
    values, seconds, kilobytes = read
    key_bits = values.get(IpsecAttributeType.KEY_LENGTH)
    enc = _ESP_CIPHER_BY_ID.get((t.transform_id, key_bits))
    if enc is None:
        return None
    auth = values.get(IpsecAttributeType.AUTHENTICATION_ALGORITHM)
    integ = None
    if auth is not None:
        integ = _ESP_HMAC_BY_AUTH.get(auth)
        if integ is None:
            return None
    if esp_suite((enc.name,) + ((integ.name,) if integ else ())) is None:
        return None
    mode = _MODES.get(values.get(IpsecAttributeType.ENCAPSULATION_MODE,
                                 EncapsulationMode.TUNNEL))
    if mode is None:
        return None
    return _Parsed(_ESP, enc, integ, mode[0], values.get(IpsecAttributeType.GROUP_DESCRIPTION),
                   seconds, kilobytes, mode[1])


@functools.lru_cache(maxsize=256)  # see parse_esp_transform
def parse_ah_transform(t: TransformPayload) -> _Parsed | None:
    """Read an AH transform: the transform ID and the Authentication Algorithm attribute must
    name the same HMAC (RFC 2407 4.4.3 / 4.5); no key length; plain modes only."""
    read = _read_attributes(t)
    if read is None:
        return None
    values, seconds, kilobytes = read
    integ = _AH_BY_ID.get(t.transform_id)
    if (integ is None or IpsecAttributeType.KEY_LENGTH in values
            or values.get(IpsecAttributeType.AUTHENTICATION_ALGORITHM) != integ.auth_algorithm):
        return None
    mode = _MODES.get(values.get(IpsecAttributeType.ENCAPSULATION_MODE,
                                 EncapsulationMode.TUNNEL))
    if mode is None or mode[1]:
        return None  # AH cannot be UDP-encapsulated
    return _Parsed(_AH, None, integ, mode[0], values.get(IpsecAttributeType.GROUP_DESCRIPTION),
                   seconds, kilobytes)


_PARSERS: dict[int, Callable[[TransformPayload], _Parsed | None]] = {
    _AH: parse_ah_transform, _ESP: parse_esp_transform}


@dataclass(frozen=True)
class ProposalChoice:
    """One acceptable way to answer a proposal number: one transform per protocol, AH first.

    ``parts`` holds (protocol proposal as received, its transform, that transform parsed).
    """

    number: int
    parts: tuple[tuple[ProposalPayload, TransformPayload, _Parsed], ...]

    @property
    def transform_set(self) -> tuple[str, ...]:
        """Canonical IOS words of the whole bundle."""
        return tuple(name for _, _, p in self.parts for name in p.transform_set)

    @property
    def protocols(self) -> tuple[int, ...]:
        return tuple(p.protocol for _, _, p in self.parts)

    @property
    def mode(self) -> str:
        return self.parts[0][2].mode

    @property
    def group(self) -> int | None:
        return self.parts[0][2].group

    @property
    def udp_encap(self) -> bool:
        return self.parts[0][2].udp_encap

    @property
    def seconds(self) -> int:
        return min(p.seconds for _, _, p in self.parts)

    @property
    def kilobytes(self) -> int:
        return min(p.kilobytes for _, _, p in self.parts)

    def part(self, protocol: int) -> tuple[ProposalPayload, TransformPayload, _Parsed] | None:
        """The part of ``protocol`` (AH 2, ESP 3), if the bundle has one."""
        return next((part for part in self.parts if part[2].protocol == protocol), None)

    @property
    def suite(self) -> TransformSetSuite:
        ah, esp = self.part(_AH), self.part(_ESP)
        return TransformSetSuite(ah[2].integ if ah else None, esp[2].enc if esp else None,
                                 esp[2].integ if esp else None)


def _choices(number: int, group: list[ProposalPayload]) -> list[ProposalChoice]:
    """Every consistent combination of one transform per protocol of a proposal number."""
    protocols = sorted(p.protocol_id for p in group)
    if protocols not in ([_ESP], [_AH], [_AH, _ESP]) or any(len(p.spi) != 4 for p in group):
        return []  # IPCOMP, repeated protocols, odd SPIs: the whole bundle is refused
    per_protocol = []
    for proposal in sorted(group, key=lambda p: p.protocol_id):
        parser = _PARSERS[proposal.protocol_id]
        parsed = [(proposal, t, p) for t in proposal.transforms
                  if (p := parser(t)) is not None]
        if not parsed:
            return []
        per_protocol.append(parsed)
    out = []
    for combo in itertools.product(*per_protocol):
        first = combo[0][2]
        if any((p.mode, p.group) != (first.mode, first.group) for _, _, p in combo):
            continue
        if len(combo) > 1 and any(p.udp_encap for _, _, p in combo):
            continue  # AH outside ESP: never UDP-encapsulated
        out.append(ProposalChoice(number, tuple(combo)))
    return out


def offers_from_sa(sa: SaPayload) -> list[tuple[Phase2Offer, list[ProposalChoice]]]:
    """Responder: every proposal number we can read, as a ``Phase2Offer`` whose transform sets
    are its alternatives (canonical words), with the choices they stand for."""
    out = []
    numbers = list(dict.fromkeys(p.number for p in sa.proposals))
    for number in numbers:
        choices = _choices(number, [p for p in sa.proposals if p.number == number])
        if not choices:
            continue
        first = choices[0]
        offer = Phase2Offer(tuple(dict.fromkeys(c.transform_set for c in choices)), first.mode,
                            first.group, first.seconds, first.kilobytes)
        out.append((offer, choices))
    return out


def reply_sa_payload(choice: ProposalChoice, spis: dict[int, bytes], seconds: int,
                     kilobytes: int) -> SaPayload:
    """Responder: the chosen proposal number with our SPI per protocol (``spis`` by protocol
    ID) and the agreed lifetimes, one transform per protocol (RFC 2409 5.5)."""
    proposals = []
    for proposal, t, p in choice.parts:
        if p.protocol == _AH:
            assert p.integ is not None
            out = ah_transform(t.number, p.integ, p.mode, p.group, seconds, kilobytes)
        else:
            assert p.enc is not None
            out = esp_transform(t.number, p.enc, p.integ, p.mode, p.group, seconds, kilobytes,
                                udp_encap=p.udp_encap)
        proposals.append(ProposalPayload(proposal.number, p.protocol, spis[p.protocol], (out,)))
    return SaPayload(tuple(proposals))


def answered_choice(offered: SaPayload, answer: SaPayload) -> ProposalChoice | None:
    """Initiator: the responder's answer read as a choice, or None unless it is exactly one
    proposal number we offered, with every protocol of it, one transform each, that transform
    being the one we offered (lifetimes may be lower)."""
    numbers = {p.number for p in answer.proposals}
    if len(numbers) != 1 or any(len(p.transforms) != 1 for p in answer.proposals):
        return None
    number = numbers.pop()
    got = _choices(number, list(answer.proposals))
    ours = _choices(number, [p for p in offered.proposals if p.number == number])
    if len(got) != 1 or len(ours) != 1:
        return None
    key = [(p.protocol, p.enc, p.integ, p.mode, p.group, p.udp_encap) for _, _, p in got[0].parts]
    if key != [(p.protocol, p.enc, p.integ, p.mode, p.group, p.udp_encap)
               for _, _, p in ours[0].parts]:
        return None
    return got[0]


# --- deletes -----------------------------------------------------------------------------------


def delete_payloads(pair: IpsecSaPair) -> list[DeletePayload]:
    """The Delete payloads (RFC 2408 3.15) that tell the peer ``pair`` is gone: our inbound
    SPI per protocol, protocol AH (2) for the AH SA, ESP (3) for the ESP SA."""
    out = []
    if pair.ah_integrity is not None:
        out.append(DeletePayload(_AH, 4, (pair.ah_spi_in.to_bytes(4, "big"),)))
    if pair.protocol != "ah":
        out.append(DeletePayload(_ESP, 4, (pair.spi_in.to_bytes(4, "big"),)))
    return out


def pair_deleted_by(pair: IpsecSaPair, delete: DeletePayload) -> bool:
    """True if the peer's Delete names one of the pair's outbound SPIs under its protocol
    (either SA of an AH+ESP bundle takes the whole pair down)."""
    if delete.spi_size != 4:
        return False
    spis = set(delete.spis)
    if delete.protocol_id == _AH and pair.ah_integrity is not None:
        return pair.ah_spi_out.to_bytes(4, "big") in spis
    if delete.protocol_id == _ESP and pair.protocol != "ah":
        return pair.spi_out.to_bytes(4, "big") in spis
    return False


# --- identities --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)  # the same proxies in every negotiation of a flow
def id_payload(net: int, mask: int, protocol: int, port: int) -> IdPayload:
    """ID_IPV4_ADDR for a host, ID_IPV4_ADDR_SUBNET otherwise (RFC 2407 4.6.2)."""
    if mask == FULL_MASK:
        return IdPayload(IdType.ID_IPV4_ADDR, net.to_bytes(4, "big"), protocol, port)
    data = net.to_bytes(4, "big") + mask.to_bytes(4, "big")
    return IdPayload(IdType.ID_IPV4_ADDR_SUBNET, data, protocol, port)


def _net_of(p: IdPayload) -> tuple[int, int]:
    if p.id_type == IdType.ID_IPV4_ADDR:
        return int.from_bytes(p.data, "big"), FULL_MASK
    if p.id_type == IdType.ID_IPV4_ADDR_SUBNET:
        return int.from_bytes(p.data[:4], "big"), int.from_bytes(p.data[4:], "big")
    raise ValueError(f"ID type {p.id_type} not supported in quick mode")


def proxy_from_ids(local: IdPayload, remote: IdPayload) -> ProxyIdentity:
    """Proxies from our-side and their-side ID payloads."""
    if local.protocol_id != remote.protocol_id:
        raise ValueError("IDci and IDcr disagree on the protocol")
    ln, lm = _net_of(local)
    rn, rm = _net_of(remote)
    return ProxyIdentity(ln, lm, rn, rm, local.protocol_id, local.port, remote.port)


@dataclass
class QuickModeExchange:
    """One quick mode in flight over an ISAKMP SA."""

    message_id: int
    initiator: bool
    proxies: ProxyIdentity  # as seen by this router
    offer: Phase2Offer | None  # initiator: what we offered
    spi_in: int  # our ESP SPI; the AH SPI when only AH is offered or chosen
    ni_b: bytes = field(repr=False)
    nr_b: bytes = field(default=b"", repr=False)
    dh: DhPrivate | None = field(default=None, repr=False)
    sa_payload: SaPayload | None = None  # initiator: what we sent
    iv: bytes = field(default=b"", repr=False)
    state: str = "QM_I_QM1"
    result: IpsecSaPair | None = None  # responder: installed when HASH(3) arrives
    last_sent: bytes = field(default=b"", repr=False)
    last_received: bytes = field(default=b"", repr=False)
    retransmits: int = 0
    resend_at: float | None = None
    done_at: float | None = None  # finished exchanges linger to answer duplicates
    ah_spi_in: int = 0  # our AH SPI (0 without AH)
