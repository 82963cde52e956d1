"""ISAKMP policies against an offer: IOS's phase-1 policy walk (RFC 2409 section 5).

``IkePolicy`` is one ``crypto isakmp policy N``. The initiator offers all its pre-share
policies as the transforms of one ISAKMP proposal, in priority order (``policy_transform``,
``isakmp_sa_payload``), as IOS does; the responder walks its own policies in priority order
and, for each, the offered transforms in order, and takes the first match on encryption, key
length, hash, authentication method and group (``choose_policy``; IOS's "Checking ISAKMP
transform 1 against priority 10 policy", one ``PolicyChecked`` per check, with what did not
match). Lifetimes need not match: the lower one wins, and the responder returns the chosen
transform with that lower lifetime (``with_lifetime``) so the initiator learns it
(``returned_lifetime``). ``describe_transform`` gives the attribute lines
``debug crypto isakmp`` prints. Pure functions over frozen dataclasses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from iosim.crypto.algorithms import (
    EncryptionAlgorithm,
    HashAlgorithm,
    UnsupportedAlgorithm,
    encryption_by_attribute,
    encryption_by_name,
    hash_by_attribute,
    hash_by_name,
    short_number,
)
from iosim.ike.constants import (
    AuthenticationMethod,
    IkeAttributeType,
    IsakmpTransformId,
    LifeType,
    ProtocolId,
)
from iosim.ike.payloads import (
    DataAttribute,
    ProposalPayload,
    SaPayload,
    TransformPayload,
    push_payload_body,
)

__all__ = [
    "IkePolicy",
    "Phase1Suite",
    "PolicyChecked",
    "choose_policy",
    "describe_transform",
    "isakmp_sa_payload",
    "offer_sa_payload",
    "offered_lifetime",
    "policy_checks",
    "policy_transform",
    "returned_lifetime",
    "suite_of",
    "transform_matches",
    "transform_mismatch",
    "with_lifetime",
]


@dataclass(frozen=True)
class IkePolicy:
    """One ``crypto isakmp policy N``."""

    priority: int
    encryption: str  # "des" | "3des" | "aes"
    key_bits: int | None  # 128/192/256 for aes, else None
    hash: str  # "md5" | "sha" | "sha256" | "sha384" | "sha512"
    authentication: str  # "pre-share" (the only method this engine runs)
    group: int
    lifetime: int  # seconds

    @property
    def cipher_name(self) -> str:
        """The row name in :mod:`iosim.crypto.algorithms` (``"aes 256"``, ``"aes"``, ``"3des"``)."""
        if self.encryption == "aes" and self.key_bits not in (None, 128):
            return f"aes {self.key_bits}"
        return self.encryption


@dataclass(frozen=True)
class Phase1Suite:
    """The algorithms of a negotiated phase-1 SA."""

    cipher: EncryptionAlgorithm
    hash: HashAlgorithm
    group: int
    lifetime: int


def policy_transform(number: int, policy: IkePolicy) -> TransformPayload:
    """An ISAKMP transform for a policy (RFC 2409 Appendix A attributes, in IOS's order)."""
    cipher = encryption_by_name(policy.cipher_name)
    attrs = [DataAttribute(IkeAttributeType.ENCRYPTION_ALGORITHM, cipher.attribute)]
    if cipher.key_length_attribute is not None:
        attrs.append(DataAttribute(IkeAttributeType.KEY_LENGTH, cipher.key_length_attribute))
    attrs += [
        DataAttribute(IkeAttributeType.HASH_ALGORITHM, hash_by_name(policy.hash).attribute),
        DataAttribute(IkeAttributeType.AUTHENTICATION_METHOD, AuthenticationMethod.PRE_SHARED_KEY),
        DataAttribute(IkeAttributeType.GROUP_DESCRIPTION, policy.group),
        DataAttribute(IkeAttributeType.LIFE_TYPE, LifeType.SECONDS),
        DataAttribute.variable(IkeAttributeType.LIFE_DURATION, policy.lifetime),
    ]
    return TransformPayload(number, IsakmpTransformId.KEY_IKE, tuple(attrs))


def isakmp_sa_payload(transforms: tuple[TransformPayload, ...]) -> SaPayload:
    """One ISAKMP proposal (no SPI) carrying the given transforms."""
    return SaPayload((ProposalPayload(1, ProtocolId.PROTO_ISAKMP, b"", transforms),))


@functools.lru_cache(maxsize=64)  # keyed by the (frozen) policies: a few per router config
def offer_sa_payload(policies: tuple[IkePolicy, ...]) -> tuple[SaPayload, bytes]:
    """The initiator's SA payload offering ``policies`` as transforms 1, 2, ... and its body
    (SAi_b): the same for every SA that offers them, so built and encoded once."""
    sa_payload = isakmp_sa_payload(tuple(policy_transform(i + 1, p)
                                         for i, p in enumerate(policies)))
    return sa_payload, push_payload_body(sa_payload)


def _value(t: TransformPayload, kind: IkeAttributeType) -> int | None:
    attr = t.attribute(kind)
    return None if attr is None else attr.as_int()


def offered_lifetime(t: TransformPayload) -> tuple[int, bool] | None:
    """The seconds lifetime of a transform and whether it came in the short (basic)
    attribute form; None if absent (RFC 2409's default is 8 hours)."""
    life_type = None
    for attr in t.attributes:
        if attr.attribute_type == IkeAttributeType.LIFE_TYPE:
            life_type = attr.as_int()
        elif attr.attribute_type == IkeAttributeType.LIFE_DURATION and life_type == 1:
            return attr.as_int(), isinstance(attr.value, int)
    return None


def _offered_lifetime(t: TransformPayload) -> int | None:
    """The seconds lifetime of a transform (None if absent; RFC 2409 default is 8 hours)."""
    offered = offered_lifetime(t)
    return offered[0] if offered is not None else None


# Both sides judge the same offered transform against the same policies several times
# (the walk IOS prints, the choice, the mismatch reasons); both are frozen, so each verdict
# is worked out once.
@functools.lru_cache(maxsize=256)
def transform_matches(t: TransformPayload, policy: IkePolicy) -> bool:
    """Whether an offered transform has the policy's encryption, hash, auth and group."""
    if t.transform_id != IsakmpTransformId.KEY_IKE or policy.authentication != "pre-share":
        return False
    try:
        cipher = encryption_by_attribute(
            _value(t, IkeAttributeType.ENCRYPTION_ALGORITHM) or 0,
            _value(t, IkeAttributeType.KEY_LENGTH),
        )
        hash_alg = hash_by_attribute(_value(t, IkeAttributeType.HASH_ALGORITHM) or 0)
        ours = encryption_by_name(policy.cipher_name)
    except UnsupportedAlgorithm:
        return False
    return (
        cipher == ours
        and hash_alg.name == policy.hash
        and _value(t, IkeAttributeType.AUTHENTICATION_METHOD) == AuthenticationMethod.PRE_SHARED_KEY
        and _value(t, IkeAttributeType.GROUP_DESCRIPTION) == policy.group
    )


_ENCRYPTION_TEXT = {1: "DES-CBC", 5: "3DES-CBC", 7: "AES-CBC"}
_HASH_TEXT = {1: "MD5", 2: "SHA", 4: "SHA256", 5: "SHA384", 6: "SHA512"}
_AUTH_TEXT = {1: "pre-share", 3: "RSA sig", 4: "RSA encr"}


def _life_duration(attr: DataAttribute) -> str:
    """``life duration (basic) of 1200`` for the short form, the bytes of the long one."""
    if isinstance(attr.value, int):
        return f"life duration (basic) of {attr.value}"
    return "life duration (VPI) of  " + " ".join(f"0x{b:x}" for b in attr.value[:16]) + " "


_ATTRIBUTE_TEXT: dict[int, Callable[[int], str]] = {
    IkeAttributeType.ENCRYPTION_ALGORITHM:
        lambda v: f"encryption {_ENCRYPTION_TEXT.get(v) or short_number(v)}",
    IkeAttributeType.KEY_LENGTH: lambda v: f"keylength of {short_number(v)}",
    IkeAttributeType.HASH_ALGORITHM: lambda v: f"hash {_HASH_TEXT.get(v) or short_number(v)}",
    IkeAttributeType.GROUP_DESCRIPTION: lambda v: f"default group {short_number(v)}",
    IkeAttributeType.AUTHENTICATION_METHOD:
        lambda v: f"auth {_AUTH_TEXT.get(v) or short_number(v)}",
    IkeAttributeType.LIFE_TYPE: lambda v: ("life type in seconds" if v == 1
                                           else "life type in kilobytes"),
}
#: The order IOS prints a transform's attributes in (whatever order they came in).
_ATTRIBUTE_ORDER = (IkeAttributeType.ENCRYPTION_ALGORITHM, IkeAttributeType.KEY_LENGTH,
                    IkeAttributeType.HASH_ALGORITHM, IkeAttributeType.GROUP_DESCRIPTION,
                    IkeAttributeType.AUTHENTICATION_METHOD)


def describe_transform(t: TransformPayload) -> tuple[str, ...]:
    """The attribute lines ``debug crypto isakmp`` prints under "Checking ISAKMP transform"
    (``encryption AES-CBC``, ``keylength of 256``, ``hash SHA``, ``default group 14``,
    ``auth pre-share``, then the life type/duration pairs as they came)."""
    lines = []
    for kind in _ATTRIBUTE_ORDER:
        attr = t.attribute(kind)
        if attr is not None:
            lines.append(_ATTRIBUTE_TEXT[kind](attr.as_int()))
    for attr in t.attributes:
        if attr.attribute_type == IkeAttributeType.LIFE_TYPE:
            lines.append(_ATTRIBUTE_TEXT[IkeAttributeType.LIFE_TYPE](attr.as_int()))
        elif attr.attribute_type == IkeAttributeType.LIFE_DURATION:
            lines.append(_life_duration(attr))
    return tuple(lines)


@functools.lru_cache(maxsize=256)  # see transform_matches
def transform_mismatch(t: TransformPayload, policy: IkePolicy, psk: bool = True) -> str | None:
    """Why an offered transform does not match a policy, in IOS's words (checked in IOS's
    order: encryption, key length, hash, authentication, group); None when it matches.
    Without a pre-shared key for the peer (``psk`` False) no pre-share transform can."""
    enc = _value(t, IkeAttributeType.ENCRYPTION_ALGORITHM)
    ours = encryption_by_name(policy.cipher_name)
    if enc != ours.attribute:
        return "Encryption algorithm offered does not match policy!"
    if _value(t, IkeAttributeType.KEY_LENGTH) != ours.key_length_attribute:
        return "Proposed key length does not match policy"
    hash_value = _value(t, IkeAttributeType.HASH_ALGORITHM)
    if hash_value != hash_by_name(policy.hash).attribute:
        return "Hash algorithm offered does not match policy!"
    if (policy.authentication != "pre-share" or _value(t, IkeAttributeType.AUTHENTICATION_METHOD)
            != AuthenticationMethod.PRE_SHARED_KEY):
        return "Authentication method offered does not match policy!"
    if not psk:
        return "Preshared authentication offered but does not match policy!"
    if _value(t, IkeAttributeType.GROUP_DESCRIPTION) != policy.group:
        return "Diffie-Hellman group offered does not match policy!"
    if not transform_matches(t, policy):
        return "atts are not acceptable."
    return None


@dataclass(frozen=True)
class PolicyChecked:
    """The responder checked offered transform ``number`` against its policy ``priority``
    (``debug crypto isakmp``: "Checking ISAKMP transform 1 against priority 10 policy");
    ``mismatch`` is IOS's reason, None when the transform was accepted."""

    peer: int
    number: int
    priority: int
    transform: TransformPayload  # the offered transform (``describe_transform`` prints it)
    mismatch: str | None
    first: bool = False  # the walk's first check (IOS first says it processes the SA payload)
    initiator: bool = False  # the initiator checking the transform the responder chose


def policy_checks(peer: int, offered: tuple[TransformPayload, ...], policies: list[IkePolicy],
                  *, initiator: bool = False, psk: bool = True) -> list[PolicyChecked]:
    """What IOS's check prints: each policy by priority against the offered transforms (the
    responder), or against the one the responder chose (the initiator), up to the first
    that is accepted (``psk`` False: no pre-shared key for the peer, none is)."""
    out: list[PolicyChecked] = []
    for policy in sorted(policies, key=lambda p: p.priority):
        for t in offered:
            mismatch = transform_mismatch(t, policy, psk)
            out.append(PolicyChecked(peer, t.number, policy.priority, t, mismatch, not out,
                                     initiator))
            if mismatch is None:
                return out
    return out


def choose_policy(
    offered: tuple[TransformPayload, ...], policies: list[IkePolicy]
) -> tuple[TransformPayload, IkePolicy, int] | None:
    """IOS's responder check: our policies by priority, each against every offered transform.

    Returns the offered transform, our policy and the lifetime to use (the lower one wins).
    """
    for policy in sorted(policies, key=lambda p: p.priority):
        for t in offered:
            if transform_matches(t, policy):
                theirs = _offered_lifetime(t) or 28800
                return t, policy, min(theirs, policy.lifetime)
    return None


# A suite is a value: the SAs of every router that negotiated the same one share it (a hub's
# thousands of SAs would otherwise hold as many equal copies).
@functools.lru_cache(maxsize=256)
def suite_of(policy: IkePolicy, lifetime: int) -> Phase1Suite:
    """The algorithms of a policy with the negotiated lifetime."""
    return Phase1Suite(
        encryption_by_name(policy.cipher_name), hash_by_name(policy.hash), policy.group, lifetime
    )


def with_lifetime(t: TransformPayload, lifetime: int) -> TransformPayload:
    """The same transform with its seconds lifetime replaced (or added)."""
    life = (IkeAttributeType.LIFE_TYPE, IkeAttributeType.LIFE_DURATION)
    attrs = [a for a in t.attributes if a.attribute_type not in life]
    attrs += [DataAttribute(IkeAttributeType.LIFE_TYPE, LifeType.SECONDS),
              DataAttribute.variable(IkeAttributeType.LIFE_DURATION, lifetime)]
    return TransformPayload(t.number, t.transform_id, tuple(attrs))


def returned_lifetime(t: TransformPayload) -> int | None:
    """The lifetime in the responder's chosen transform."""
    return _offered_lifetime(t)
