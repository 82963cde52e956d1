"""CHILD_SA pieces of IKEv2 (RFC 7296 2.9, 2.17, 3.3, 3.13): ESP proposals from a crypto map
entry's offer, traffic selectors from and to proxy identities, and the SA pair they make.

Theory of operation
-------------------
A crypto map entry's ``Phase2Offer`` (the IKEv1 quick-mode type: the data plane is shared)
becomes one ESP proposal per usable ESP-only transform set: ENCR (the cipher's IKEv2 ID and
key length), INTEG unless the cipher is combined (GCM), DH when the child needs PFS, and ESN
"no" (``esp_sa_payload``). A received SA payload goes back to offers the SPD judges as it
judges quick mode (``offers_from_sa``); IKEv2 negotiates no lifetimes, so each side keeps its
own. Transport mode is the USE_TRANSPORT_MODE notify (2.10).

Traffic selectors: a proxy identity (ACL line) is one IPv4 range per side; a received range
must be a CIDR block to be one again (``proxies_from_ts``): IOS's crypto ACLs name subnets.
``pair`` derives KEYMAT (2.17) and makes the ``IpsecSaPair`` the SAD installs.
"""

from __future__ import annotations

from dataclasses import dataclass

from iosim.ike.quick_mode import IpsecSaPair, Phase2Offer, ProxyIdentity, esp_suite
from iosim.ike2.constants import NotifyType, ProtocolId, TransformType
from iosim.ike2.keys import IkePrf, child_keymat
from iosim.ike2.payloads import (
    NotifyPayload,
    Proposal,
    SaPayload,
    TrafficSelector,
    Transform,
    TsPayload,
)
from iosim.ipsec.transforms import (
    ENCRYPTION_TRANSFORMS,
    ESP_INTEGRITY_TRANSFORMS,
    EncryptionTransform,
    IntegrityTransform,
)

__all__ = ["CHILD_NOTIFIES", "ChildChoice", "esp_sa_payload", "offers_from_sa", "pair",
           "proxies_from_ts", "ts_payloads"]

FAR_FUTURE = 10 ** 9  # IKEv2 carries no lifetime: an offer's is "no limit", ours wins


#: What IOS says of every CHILD_SA it offers or accepts (RFC 7296 3.10.1), after the traffic
#: selectors: it sends no TFC padding-dependent traffic and wants none, and non-first
#: fragments travel on the SA too.
CHILD_NOTIFIES: tuple[NotifyPayload, ...] = (
    NotifyPayload(NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED),
    NotifyPayload(NotifyType.NON_FIRST_FRAGMENTS_ALSO),
)

def _esp_transforms(enc: EncryptionTransform, integ: IntegrityTransform | None,
                    group: int | None) -> tuple[Transform, ...]:
    out = [Transform(TransformType.ENCR, enc.ikev2_transform_id, enc.key_length_attribute)]
    if integ is not None:
        out.append(Transform(TransformType.INTEG, integ.ikev2_transform_id))
    if group is not None:
        out.append(Transform(TransformType.DH, group))
    out.append(Transform(TransformType.ESN, 0))
    return tuple(out)


def esp_sa_payload(offer: Phase2Offer, spi: bytes, pfs: bool) -> SaPayload | None:
    """One ESP proposal per ESP-only transform set of the offer (None if there is none);
    ``pfs`` adds the offer's DH group (CREATE_CHILD_SA only: IKE_AUTH's child has none)."""
    proposals: list[Proposal] = []
    for words in offer.transform_sets:
        suite = esp_suite(words)
        if suite is None:
            continue
        enc, integ = suite
        group = offer.pfs_group if pfs else None
        proposals.append(Proposal(len(proposals) + 1, ProtocolId.ESP, spi,
                                  _esp_transforms(enc, integ, group)))
    return SaPayload(tuple(proposals)) if proposals else None


@dataclass(frozen=True)
class ChildChoice:
    """A received ESP proposal read as IOS transform-set words."""

    proposal: Proposal
    words: tuple[str, ...]
    group: int | None


_ENC_BY_ID = {(r.ikev2_transform_id, r.key_length_attribute): r
              for r in ENCRYPTION_TRANSFORMS.values() if r.name.startswith(("esp-aes", "esp-gcm",
                                                                            "esp-3des",
                                                                            "esp-des"))}
_INTEG_BY_ID = {r.ikev2_transform_id: r for r in ESP_INTEGRITY_TRANSFORMS.values()}


def _choices(p: Proposal) -> list[ChildChoice]:
    """Every (cipher, integrity, group) combination of one proposal that we know."""
    encs = [e for t in p.of_type(TransformType.ENCR)
            if (e := _ENC_BY_ID.get((t.transform_id, t.key_length))) is not None]
    integs: list[IntegrityTransform | None] = [
        i for t in p.of_type(TransformType.INTEG)
        if (i := _INTEG_BY_ID.get(t.transform_id)) is not None]
    groups: list[int | None] = [t.transform_id for t in p.of_type(TransformType.DH)
                                if t.transform_id != 0] or [None]
    if any(t.transform_id not in (0,) for t in p.of_type(TransformType.ESN)) and not any(
            t.transform_id == 0 for t in p.of_type(TransformType.ESN)):
        return []  # extended sequence numbers only: not spoken
    out = []
    for enc in encs:
        for integ in ([None] if enc.is_combined else integs):
            words = (enc.name,) if integ is None else (enc.name, integ.name)
            for group in groups:
                out.append(ChildChoice(p, words, group))
    return out


def offers_from_sa(sa: SaPayload, transport: bool, pfs: bool
                   ) -> list[tuple[Phase2Offer, ChildChoice]]:
    """The ESP proposals as offers for the SPD (lifetimes: ours will win); without ``pfs``
    (IKE_AUTH) a DH transform is ignored (RFC 7296 1.2)."""
    out = []
    for p in sa.proposals:
        if p.protocol_id != ProtocolId.ESP or len(p.spi) != 4:
            continue
        for c in _choices(p):
            group = c.group if pfs else None
            out.append((Phase2Offer((c.words,), "transport" if transport else "tunnel", group,
                                    FAR_FUTURE, FAR_FUTURE),
                        ChildChoice(c.proposal, c.words, group)))
    return out


def reply_sa_payload(choice: ChildChoice, spi: bytes) -> SaPayload:
    """The responder's answer: the chosen proposal (its number) with one transform each."""
    suite = esp_suite(choice.words)
    assert suite is not None
    return SaPayload((Proposal(choice.proposal.number, ProtocolId.ESP, spi,
                               _esp_transforms(*suite, choice.group)),))


def answered(offered: SaPayload, answer: SaPayload, pfs: bool) -> ChildChoice | None:
    """The initiator checks the answer: one proposal, one of ours, transforms we offered."""
    if len(answer.proposals) != 1 or len(answer.proposals[0].spi) != 4:
        return None
    got = answer.proposals[0]
    choices = _choices(got)
    if len(choices) != 1:
        return None
    mine = next((p for p in offered.proposals if p.number == got.number), None)
    if mine is None or not set(got.transforms) <= set(mine.transforms):
        return None
    c = choices[0]
    return ChildChoice(got, c.words, c.group if pfs else None)


# --------------------------------------------------------------------------- selectors


def _range(net: int, mask: int) -> tuple[int, int]:
    return net & mask, (net & mask) | (~mask & 0xFFFFFFFF)


def _selector(net: int, mask: int, protocol: int, port: int) -> TrafficSelector:
    low, high = _range(net, mask)
    ports = (port, port) if port else (0, 65535)
    return TrafficSelector(protocol, *ports, low, high)


def ts_payloads(proxies: ProxyIdentity, initiator: bool) -> tuple[TsPayload, TsPayload]:
    """TSi and TSr for proxies seen from our side: TSi is the initiator's network."""
    p = proxies
    mine = _selector(p.local_net, p.local_mask, p.protocol, p.local_port)
    theirs = _selector(p.remote_net, p.remote_mask, p.protocol, p.remote_port)
    tsi, tsr = (mine, theirs) if initiator else (theirs, mine)
    return TsPayload((tsi,)), TsPayload((tsr,), responder=True)


def _cidr(ts: TrafficSelector) -> tuple[int, int, int] | None:
    """(net, mask, port) of a selector that is one subnet and one port (or all ports)."""
    size = ts.end_address - ts.start_address + 1
    if size <= 0 or size & (size - 1) or ts.start_address % size:
        return None
    if (ts.start_port, ts.end_port) == (0, 65535):
        port = 0
    elif ts.start_port == ts.end_port:
        port = ts.start_port
    else:
        return None
    return ts.start_address, ~(size - 1) & 0xFFFFFFFF, port


def proxies_from_ts(tsi: TsPayload, tsr: TsPayload, initiator: bool
                    ) -> ProxyIdentity | None:
    """Our proxy identities from the first selector of each payload (None if one is not a
    subnet, or the protocols differ)."""
    if not tsi.selectors or not tsr.selectors:
        return None
    a, b = tsi.selectors[0], tsr.selectors[0]
    if a.ip_protocol != b.ip_protocol:
        return None
    ci, cr = _cidr(a), _cidr(b)
    if ci is None or cr is None:
        return None
    local, remote = (ci, cr) if initiator else (cr, ci)
    return ProxyIdentity(local[0], local[1], remote[0], remote[1], a.ip_protocol,
                         local[2], remote[2])


# --------------------------------------------------------------------------- the pair


def pair(prf: IkePrf, sk_d: bytes, ni: bytes, nr: bytes, shared: bytes | None,
         choice: ChildChoice, initiator: bool, *, peer: int, proxies: ProxyIdentity,
         mode: str, spi_in: int, spi_out: int, seconds: int, kilobytes: int,
         udp_encap: bool, conn_ids: tuple[int, int]) -> IpsecSaPair:
    """The SA pair of a CHILD_SA: KEYMAT per RFC 7296 2.17 split into our inbound and
    outbound keys (the initiator-to-responder keys come first)."""
    suite = esp_suite(choice.words)
    assert suite is not None
    enc, integ = suite
    i_to_r, r_to_i = child_keymat(prf, sk_d, ni, nr, enc.keymat_size,
                                  integ.key_size if integ else 0, shared)
    keys_out, keys_in = (i_to_r, r_to_i) if initiator else (r_to_i, i_to_r)
    return IpsecSaPair(peer, proxies, "esp", enc.name, integ.name if integ else None, mode,
                       spi_in, spi_out, keys_in, keys_out, seconds, kilobytes,
                       choice.group, conn_ids[0], conn_ids[1], udp_encap=udp_encap)
