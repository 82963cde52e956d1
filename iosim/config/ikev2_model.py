"""The IKEv2 configuration model: proposals, policies, keyrings and profiles (FlexVPN-style).

Everything ``crypto ikev2 ...`` lives in one :class:`Ikev2Config`, kept in
``RunningConfig.features["ikev2"]``; a crypto map entry or IPsec profile names its profile
with ``set ikev2-profile`` (``SaSettings.ikev2_profile``). Handlers in
:mod:`iosim.config.apply_ikev2` change these objects, :mod:`iosim.show.ikev2_config`
renders them, and the router's IKEv2 glue reads them at every use.

IOS 15's smart defaults are data here: the ``default`` proposal (AES-CBC 256/192/128,
SHA-512 down to MD5, groups 5 and 2) and the ``default`` policy that uses it, both in force
until ``no crypto ikev2 proposal default`` / ``no crypto ikev2 policy default``; a configured
policy replaces the default policy. A proposal of the user's counts only once a policy
names it, as on IOS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from iosim.ike2.keys import CIPHERS
from iosim.ike2.sa import WINDOW_SIZE

if TYPE_CHECKING:
    from iosim.config.model import RunningConfig
    from iosim.ike2.sa import IkeProposal

__all__ = ["DEFAULT_PROPOSAL", "MAX_WINDOW", "WINDOW_SIZE", "Ikev2Config", "Ikev2KeyringPeer",
           "Ikev2Keyring", "Ikev2Policy", "Ikev2Profile", "Ikev2Proposal", "ikev2_of"]

#: ``show crypto ikev2 proposal`` names of the DH groups.
DH_GROUP_TEXT: dict[int, str] = {
    1: "DH_GROUP_768_MODP/Group 1", 2: "DH_GROUP_1024_MODP/Group 2",
    5: "DH_GROUP_1536_MODP/Group 5", 14: "DH_GROUP_2048_MODP/Group 14",
    15: "DH_GROUP_3072_MODP/Group 15", 16: "DH_GROUP_4096_MODP/Group 16",
    19: "DH_GROUP_256_ECP/Group 19", 20: "DH_GROUP_384_ECP/Group 20",
    21: "DH_GROUP_521_ECP/Group 21", 24: "DH_GROUP_2048_256_MODP/Group 24",
}


@dataclass
class Ikev2Proposal:
    """``crypto ikev2 proposal NAME``: algorithms in the order typed."""

    name: str
    encryption: list[str] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)
    prf: list[str] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)

    def complete(self) -> bool:
        """IOS's rule: a cipher, an integrity (a PRF instead for AES-GCM) and a group."""
        if not self.encryption or not self.groups:
            return False
        aead = all(CIPHERS[c].aead for c in self.encryption)
        return bool(self.prf) if aead else bool(self.integrity)

    def engine_view(self) -> IkeProposal:
        # imported here: the IKEv2 engine is not needed to hold or render the config
        from iosim.ike2.sa import IkeProposal

        return IkeProposal(self.name, tuple(self.encryption), tuple(self.integrity),
                           tuple(self.prf), tuple(self.groups))


def _default_proposal() -> Ikev2Proposal:
    return Ikev2Proposal("default", ["aes-cbc-256", "aes-cbc-192", "aes-cbc-128"],
                         ["sha512", "sha384", "sha256", "sha1", "md5"],
                         ["sha512", "sha384", "sha256", "sha1", "md5"], [5, 2])


DEFAULT_PROPOSAL = _default_proposal()

INCOMPLETE_PROPOSAL = (
    "IKEv2 proposal MUST either have a set of an encryption algorithm other than aes-gcm, "
    "an integrity algorithm and a DH group configured or \n encryption algorithm aes-gcm, "
    "a prf algorithm and a DH group configured")


@dataclass
class Ikev2Policy:
    """``crypto ikev2 policy NAME``."""

    name: str
    proposals: list[str] = field(default_factory=list)
    local_addresses: list[IPv4Address] = field(default_factory=list)
    fvrf: str | None = None  # None: global; "any"


@dataclass
class Ikev2KeyringPeer:
    """``peer NAME`` in an IKEv2 keyring."""

    name: str
    description: str | None = None
    address: tuple[IPv4Address, IPv4Address] | None = None  # (address, mask)
    identity: tuple[str, str] | None = None  # ("address"|"fqdn"|"email", value)
    psk: str | None = None  # ``pre-shared-key KEY``: both directions
    psk_local: str | None = None
    psk_remote: str | None = None

    @property
    def local_key(self) -> str | None:
        return self.psk_local if self.psk_local is not None else self.psk

    @property
    def remote_key(self) -> str | None:
        return self.psk_remote if self.psk_remote is not None else self.psk

    def covers(self, peer: int) -> bool:
        if self.address is None:
            return False
        addr, mask = (int(a) for a in self.address)
        return (peer & mask) == (addr & mask)


@dataclass
class Ikev2Keyring:
    """``crypto ikev2 keyring NAME``: its peers in the order configured."""

    name: str
    peers: dict[str, Ikev2KeyringPeer] = field(default_factory=dict)

    def peer_for(self, peer: int, identity: tuple[str, str] | None = None
                 ) -> Ikev2KeyringPeer | None:
        """The most specific address match (an identity match first, as IOS looks up)."""
        if identity is not None:
            for p in self.peers.values():
                if p.identity == identity:
                    return p
        best: tuple[int, Ikev2KeyringPeer] | None = None
        for p in self.peers.values():
            if p.covers(peer):
                assert p.address is not None
                length = bin(int(p.address[1])).count("1")
                if best is None or length > best[0]:
                    best = (length, p)
        return best[1] if best else None


@dataclass
class Ikev2Profile:
    """``crypto ikev2 profile NAME``."""

    name: str
    description: str | None = None
    match_addresses: list[tuple[IPv4Address, IPv4Address]] = field(default_factory=list)
    match_fqdns: list[str] = field(default_factory=list)
    match_emails: list[str] = field(default_factory=list)
    local_identity: tuple[str, str] | None = None  # ("address"|"fqdn"|"email", value)
    auth_local: str | None = None  # "pre-share"
    auth_remote: str | None = None
    keyring: str | None = None
    lifetime: int = 86400
    dpd: tuple[int, int, str] | None = None  # (interval, retry, "on-demand"|"periodic")
    nat_keepalive: int | None = None

    def matches(self, peer: int, identity: tuple[str, str] | None) -> bool:
        """``match identity remote``: the peer's identity (or, without one, its address)."""
        kind, value = identity if identity is not None else ("address", _ip(peer))
        if kind == "address":
            addr = int(IPv4Address(value))
            return any((addr & int(m)) == (int(a) & int(m)) for a, m in self.match_addresses)
        if kind == "fqdn":
            return value in self.match_fqdns
        return kind == "email" and value in self.match_emails

    def missing(self) -> list[str]:
        """What IOS says an incomplete profile lacks."""
        out = []
        if self.auth_local is None:
            out.append("local authentication method")
        if self.auth_remote is None:
            out.append("remote authentication method")
        if not (self.match_addresses or self.match_fqdns or self.match_emails):
            out.append("match identity")
        if self.keyring is None:
            out.append("keyring")
        return out


#: The largest ``crypto ikev2 window`` IOS accepts.
MAX_WINDOW = 20


@dataclass
class Ikev2Config:
    """Every ``crypto ikev2`` object of the running-config."""

    proposals: dict[str, Ikev2Proposal] = field(default_factory=dict)
    policies: dict[str, Ikev2Policy] = field(default_factory=dict)
    keyrings: dict[str, Ikev2Keyring] = field(default_factory=dict)
    profiles: dict[str, Ikev2Profile] = field(default_factory=dict)
    default_proposal: bool = True  # ``no crypto ikev2 proposal default`` clears it
    default_policy: bool = True
    cookie_challenge: int | None = None
    fragmentation: bool = False
    fragmentation_mtu: int | None = None
    window: int | None = None  # crypto ikev2 window; None: IOS's default, WINDOW_SIZE

    def proposal(self, name: str) -> Ikev2Proposal | None:
        if name == "default":
            return self.proposals.get("default") or (
                DEFAULT_PROPOSAL if self.default_proposal else None)
        return self.proposals.get(name)

    def all_proposals(self) -> list[Ikev2Proposal]:
        """As ``show crypto ikev2 proposal`` lists them: the default first."""
        out = []
        default = self.proposal("default")
        if default is not None:
            out.append(default)
        out += [p for n, p in self.proposals.items() if n != "default"]
        return out

    def effective_policies(self) -> list[Ikev2Policy]:
        """The configured policies, else the default policy (when enabled)."""
        if self.policies:
            return list(self.policies.values())
        return [Ikev2Policy("default", ["default"], [], "any")] if self.default_policy else []

    def proposals_for(self, local: int) -> list[IkeProposal]:
        """The proposals IKE offers and accepts on ``local``: those of the policies that
        match the local address (else of those without ``match address local``), complete
        ones only, in policy order."""
        policies = self.effective_policies()
        mine = [p for p in policies if any(int(a) == local for a in p.local_addresses)]
        chosen = mine or [p for p in policies if not p.local_addresses]
        out: list[IkeProposal] = []
        for policy in chosen:
            for name in policy.proposals:
                prop = self.proposal(name)
                if prop is not None and prop.complete():
                    view = prop.engine_view()
                    if view not in out:
                        out.append(view)
        return out

    def is_empty(self) -> bool:
        return self == Ikev2Config()


def ikev2_of(cfg: RunningConfig) -> Ikev2Config:
    """The IKEv2 configuration of ``cfg`` (created empty on first use)."""
    v2 = cfg.features.get("ikev2")
    if not isinstance(v2, Ikev2Config):
        v2 = Ikev2Config()
        cfg.features["ikev2"] = v2
    return v2


def _ip(value: int) -> str:
    return str(IPv4Address(value))
