"""IKEv1 quick mode pieces (RFC 2409 section 5.5): proxy identities, phase-2 offers, the
IPsec SA pair a quick mode produces, and the SA payload codec for ESP proposals.

Theory of operation
-------------------
A ``Phase2Offer`` is what one crypto map entry allows. The initiator sends it as one ESP
proposal per transform set (IOS style: proposals 1, 2, ... are alternatives), each with one
transform whose attributes carry the lifetimes, the encapsulation mode, the HMAC, the key
length and, with PFS, the group (``offer_sa_payload``). The responder turns every received
proposal back into a ``Phase2Offer`` (``offers_from_sa``) and lets the router choose; the
chosen proposal is returned with the lower lifetimes, so both ends install the same ones.

Exchange, with the states of ``QuickModeExchange``::

    initiator                               responder
    QM_I_QM1  -- HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr] -->
              <-- HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr] --   QM_R_QM2
    done      -- HDR*, HASH(3) -->                                 done

KEYMAT for each direction is derived with the SPI the *receiving* side chose (RFC 2409 5.5),
so our inbound keys use our SPI and our outbound keys the peer's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    IdPayload,
    ProposalPayload,
    SaPayload,
    TransformPayload,
)
from iosim.ipsec.transforms import (
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
    "ProxyIdentity",
    "QuickModeExchange",
    "esp_suite",
    "id_payload",
    "offer_sa_payload",
    "offers_from_sa",
    "proxy_from_ids",
]

FULL_MASK = 0xFFFFFFFF


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class IpsecSaPair:
    """The result of one quick mode, from this router's point of view."""

    peer: int
    proxies: ProxyIdentity
    protocol: str  # "esp"
    encryption: str  # canonical IOS words: "esp-aes 256", "esp-gcm 256", "esp-null"
    integrity: str | None  # "esp-sha256-hmac"; None for combined-mode ciphers
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


def esp_suite(
    transform_set: tuple[str, ...],
) -> tuple[EncryptionTransform, IntegrityTransform | None] | None:
    """The ESP cipher and HMAC rows of a transform set, or None if it is not ESP-only."""
    enc: EncryptionTransform | None = None
    integ: IntegrityTransform | None = None
    for name in transform_set:
        try:
            if name.startswith("esp-") and name.endswith("-hmac"):
                integ = integrity_transform(name)
            else:
                enc = encryption_transform(name)
        except KeyError:
            return None
    if enc is None or (enc.is_combined and integ is not None):
        return None
    if not enc.is_combined and enc.key_size == 0 and integ is None:
        return None  # esp-null alone protects nothing
    return enc, integ


def _mode_value(mode: str, udp_encap: bool = False) -> int:
    if udp_encap:  # RFC 3947 section 5.1
        return (EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT if mode == "transport"
                else EncapsulationMode.UDP_ENCAPSULATED_TUNNEL)
    return EncapsulationMode.TRANSPORT if mode == "transport" else EncapsulationMode.TUNNEL


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
    """One ESP transform with IOS's attribute order (RFC 2407 section 4.5); ``udp_encap``
    selects the RFC 3947 UDP-Encapsulated-Tunnel/-Transport mode values."""
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
    if enc.key_length_attribute is not None:
        attrs.append(DataAttribute(IpsecAttributeType.KEY_LENGTH, enc.key_length_attribute))
    if pfs_group is not None:
        attrs.append(DataAttribute(IpsecAttributeType.GROUP_DESCRIPTION, pfs_group))
    return TransformPayload(1, enc.doi_transform_id, tuple(attrs))


def offer_sa_payload(offer: Phase2Offer, spi: bytes, *, udp_encap: bool = False) -> SaPayload:
    """The initiator's SA: one ESP proposal per usable transform set (UDP-encapsulated modes
    after a NAT-T float)."""
    proposals: list[ProposalPayload] = []
    for ts in offer.transform_sets:
        suite = esp_suite(ts)
        if suite is None:
            continue
        t = esp_transform(1, *suite, offer.mode, offer.pfs_group, offer.lifetime_seconds,
                          offer.lifetime_kilobytes, udp_encap=udp_encap)
        proposals.append(ProposalPayload(len(proposals) + 1, ProtocolId.PROTO_IPSEC_ESP, spi,
                                         (t,)))
    if not proposals:
        raise ValueError("no ESP transform set in the offer")
    return SaPayload(tuple(proposals))


@dataclass(frozen=True)
class _Parsed:
    enc: EncryptionTransform
    integ: IntegrityTransform | None
    mode: str
    group: int | None
    seconds: int
    kilobytes: int
    udp_encap: bool = False

    @property
    def transform_set(self) -> tuple[str, ...]:
        return (self.enc.name,) + ((self.integ.name,) if self.integ else ())


def parse_esp_transform(t: TransformPayload) -> _Parsed | None:
    """Read an ESP transform; None if we do not know its algorithms or attributes."""
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
    key_bits = values.get(IpsecAttributeType.KEY_LENGTH)
    enc = next((row for row in ENCRYPTION_TRANSFORMS.values()
                if row.doi_transform_id == t.transform_id
                and row.key_length_attribute == key_bits), None)
    if enc is None:
        return None
    auth = values.get(IpsecAttributeType.AUTHENTICATION_ALGORITHM)
    integ = None
    if auth is not None:
        integ = next((row for row in ESP_INTEGRITY_TRANSFORMS.values()
                      if row.auth_algorithm == auth), None)
        if integ is None:
            return None
    if esp_suite((enc.name,) + ((integ.name,) if integ else ())) is None:
        return None
    mode_value = values.get(IpsecAttributeType.ENCAPSULATION_MODE, EncapsulationMode.TUNNEL)
    if mode_value not in (EncapsulationMode.TUNNEL, EncapsulationMode.TRANSPORT,
                          EncapsulationMode.UDP_ENCAPSULATED_TUNNEL,
                          EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT):
        return None  # the pre-RFC draft values (61443/61444) are not spoken
    mode = "transport" if mode_value in (EncapsulationMode.TRANSPORT,
                                         EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT) else "tunnel"
    udp_encap = mode_value in (EncapsulationMode.UDP_ENCAPSULATED_TUNNEL,
                               EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT)
    return _Parsed(enc, integ, mode, values.get(IpsecAttributeType.GROUP_DESCRIPTION),
                   seconds, kilobytes, udp_encap)


def offers_from_sa(sa: SaPayload) -> list[tuple[ProposalPayload, list[_Parsed], Phase2Offer]]:
    """Responder: every single-protocol ESP proposal as a ``Phase2Offer``."""
    out = []
    for proposal in sa.proposals:
        if proposal.protocol_id != ProtocolId.PROTO_IPSEC_ESP or len(proposal.spi) != 4:
            continue
        if sum(1 for p in sa.proposals if p.number == proposal.number) != 1:
            continue  # an AND of protocols (AH+ESP): not supported
        parsed = [p for p in map(parse_esp_transform, proposal.transforms) if p is not None]
        if not parsed:
            continue
        first = parsed[0]
        offer = Phase2Offer(tuple(p.transform_set for p in parsed), first.mode, first.group,
                            first.seconds, first.kilobytes)
        out.append((proposal, parsed, offer))
    return out


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
    spi_in: int
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
