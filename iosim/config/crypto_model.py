"""The crypto configuration model: IKEv1 (ISAKMP) and IPsec objects as plain dataclasses.

Everything ``crypto ...`` in the running-config lives in one :class:`CryptoConfig`, kept in
``RunningConfig.features["crypto"]``; the crypto map an interface uses is kept in
``InterfaceConfig.features["crypto_map"]``.  Handlers in :mod:`iosim.config.apply_crypto`
change these objects, :mod:`iosim.show.crypto_config` renders them (running-config and the
``show crypto`` commands), and the IKE/IPsec engines read them.

The tables at the top are the IOS names of each algorithm and the words IOS prints for them
in ``show`` output; the names match :mod:`iosim.crypto.algorithms` (phase 1) and
:mod:`iosim.ipsec.transforms` (phase 2), so an engine can look a configured value up there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iosim.config.model import RunningConfig

# ---------------------------------------------------------------- phase 1 (ISAKMP) tables

#: ``show crypto isakmp policy`` text of each encryption (``aes`` by key size).
ISAKMP_ENCRYPTION_TEXT: dict[str, str] = {
    "des": "DES - Data Encryption Standard (56 bit keys).",
    "3des": "Three key triple DES",
    "aes": "AES - Advanced Encryption Standard (128 bit keys).",
    "aes 192": "AES - Advanced Encryption Standard (192 bit keys).",
    "aes 256": "AES - Advanced Encryption Standard (256 bit keys).",
}
ISAKMP_HASH_TEXT: dict[str, str] = {
    "md5": "Message Digest 5",
    "sha": "Secure Hash Standard",
    "sha256": "Secure Hash Standard 2 (256 bit)",
    "sha384": "Secure Hash Standard 2 (384 bit)",
    "sha512": "Secure Hash Standard 2 (512 bit)",
}
ISAKMP_AUTH_TEXT: dict[str, str] = {
    "pre-share": "Pre-Shared Key",
    "rsa-sig": "Rivest-Shamir-Adleman Signature",
    "rsa-encr": "Rivest-Shamir-Adleman Encryption",
}
#: Diffie-Hellman groups IOS offers, with the size ``show`` prints after ``#N``.
DH_GROUP_BITS: dict[int, str] = {
    1: "768 bit", 2: "1024 bit", 5: "1536 bit", 14: "2048 bit", 15: "3072 bit",
    16: "4096 bit", 19: "256 bit", 20: "384 bit", 21: "521 bit",
    24: "2048 bit, 256 bit subgroup",
}

DEFAULT_LIFETIME = 86400


@dataclass
class IsakmpPolicy:
    """``crypto isakmp policy N``: one IKEv1 protection suite (IOS defaults as defaults)."""

    priority: int
    encryption: str = "des"  # "des", "3des", "aes", "aes 192", "aes 256"
    hash: str = "sha"
    authentication: str = "rsa-sig"
    group: int = 1
    lifetime: int = DEFAULT_LIFETIME


#: The suites IOS 15 uses when no policy is configured (``crypto isakmp default policy``).
DEFAULT_POLICIES: tuple[IsakmpPolicy, ...] = tuple(
    IsakmpPolicy(65507 + i, enc, h, auth, grp)
    for i, (enc, h, auth, grp) in enumerate([
        ("aes", "sha", "rsa-sig", 5), ("aes", "sha", "pre-share", 5),
        ("aes", "md5", "rsa-sig", 5), ("aes", "md5", "pre-share", 5),
        ("3des", "sha", "rsa-sig", 2), ("3des", "sha", "pre-share", 2),
        ("3des", "md5", "rsa-sig", 2), ("3des", "md5", "pre-share", 2),
    ])
)

#: The single suite older releases list as ``Default protection suite``.
CLASSIC_DEFAULT_POLICY = IsakmpPolicy(0)

HOST_MASK = IPv4Address("255.255.255.255")
ANY_ADDRESS = IPv4Address("0.0.0.0")


@dataclass
class PresharedKey:
    """A pre-shared key for a peer address (with optional mask) or a peer host name."""

    key: str
    address: IPv4Address | None = None
    mask: IPv4Address | None = None  # None: as typed without a mask
    hostname: str | None = None
    encrypted: bool = False  # typed as type 6
    no_xauth: bool = False

    @property
    def effective_mask(self) -> IPv4Address:
        """The mask IOS matches with: 0.0.0.0 for the wildcard address, else a host."""
        if self.mask is not None:
            return self.mask
        if self.address == ANY_ADDRESS:
            return ANY_ADDRESS
        return HOST_MASK

    @property
    def peer(self) -> tuple[str | int, ...]:
        """Who the key is for: a host name, or (address, effective mask) as integers."""
        if self.hostname is not None:
            return (self.hostname,)
        return (int(self.address or 0), int(self.effective_mask))


@dataclass
class Keyring:
    """``crypto keyring NAME``."""

    name: str
    description: str | None = None
    local_address: str | None = None
    keys: dict[tuple[str | int, ...], PresharedKey] = field(default_factory=dict)  # by peer


@dataclass
class IsakmpProfile:
    """``crypto isakmp profile NAME``."""

    name: str
    description: str | None = None
    keyring: str | None = None
    match_addresses: list[tuple[IPv4Address, IPv4Address]] = field(default_factory=list)
    match_hosts: list[str] = field(default_factory=list)
    self_identity: str | None = None  # "address" or "fqdn"
    local_address: str | None = None
    keepalive: tuple[int, int] | None = None  # (seconds, retry)
    initiate_aggressive: bool = False  # ``initiate mode aggressive``


# ---------------------------------------------------------------- phase 2 (IPsec) tables

#: Transform kinds: at most one of each in a set; GCM/GMAC ("aead") excludes ESP auth.
AH = "ah"
ESP_CIPHER = "esp-cipher"
ESP_AEAD = "esp-aead"
ESP_AUTH = "esp-auth"
COMP = "comp"

#: Every transform keyword and its kind.
TRANSFORM_KINDS: dict[str, str] = {
    "ah-md5-hmac": AH, "ah-sha-hmac": AH, "ah-sha256-hmac": AH, "ah-sha384-hmac": AH,
    "ah-sha512-hmac": AH,
    "esp-des": ESP_CIPHER, "esp-3des": ESP_CIPHER, "esp-aes": ESP_CIPHER,
    "esp-null": ESP_CIPHER,
    "esp-gcm": ESP_AEAD, "esp-gmac": ESP_AEAD,
    "esp-md5-hmac": ESP_AUTH, "esp-sha-hmac": ESP_AUTH, "esp-sha256-hmac": ESP_AUTH,
    "esp-sha384-hmac": ESP_AUTH, "esp-sha512-hmac": ESP_AUTH,
    "comp-lzs": COMP,
}
#: Transforms that take a key size (128 is the default and is not printed).
KEYED_TRANSFORMS = frozenset({"esp-aes", "esp-gcm", "esp-gmac"})


def transform_kind(words: str) -> str:
    """The kind of a canonical transform (``"esp-aes 256"`` -> ``ESP_CIPHER``)."""
    return TRANSFORM_KINDS[words.split()[0]]


def transform_show_name(words: str) -> str:
    """How ``show crypto ipsec transform-set`` prints a transform (``esp-256-aes``)."""
    parts = words.split()
    if parts[0] == "esp-aes" and len(parts) == 2:
        return f"esp-{parts[1]}-aes"
    return words


def transform_conflict(transforms: list[str]) -> int | None:
    """The index of the first transform IOS refuses after the ones before it, or None.

    IOS allows at most one AH transform, one ESP cipher, one ESP authenticator and one
    compression transform; the combined-mode ciphers (GCM, GMAC) carry their own ICV and
    take no ESP authenticator.
    """
    seen: set[str] = set()
    for i, t in enumerate(transforms):
        kind = transform_kind(t)
        cipher_like = {ESP_CIPHER, ESP_AEAD}
        if kind in seen or (kind in cipher_like and seen & cipher_like):
            return i
        if (kind == ESP_AUTH and ESP_AEAD in seen) or (kind == ESP_AEAD and ESP_AUTH in seen):
            return i
        seen.add(kind)
    return None


@dataclass
class IsakmpPeer:
    """``crypto isakmp peer address A``: settings for one peer."""

    address: IPv4Address
    description: str | None = None
    aggressive_password: str | None = None  # ``set aggressive-mode password``: initiate AM
    client_endpoint: IPv4Address | None = None  # ``set aggressive-mode client-endpoint``


@dataclass
class TransformSet:
    """``crypto ipsec transform-set NAME t1 [t2 [t3 [t4]]]`` and its ``mode``."""

    name: str
    transforms: list[str]  # canonical words: "esp-aes 256", "esp-sha-hmac"
    mode: str = "tunnel"  # "tunnel" or "transport"
    require: bool = False  # ``mode transport require``: tunnel mode is never accepted


#: IOS 15's built-in transform set, used by a crypto map entry that names none.
DEFAULT_TRANSFORM_SET = TransformSet("default", ["esp-aes", "esp-sha-hmac"], "transport")

#: ``set pfs`` groups (the word IOS prints) and what a bare ``set pfs`` means.
PFS_GROUPS = ("group1", "group2", "group5", "group14", "group15", "group16", "group19",
              "group20", "group21", "group24")
DEFAULT_PFS = "group1"

DEFAULT_SA_SECONDS = 3600
DEFAULT_SA_KILOBYTES = 4608000
DEFAULT_REPLAY_WINDOW = 64


@dataclass
class SaSettings:
    """What a crypto map entry and an IPsec profile both carry (their ``set`` commands)."""

    description: str | None = None
    transform_sets: list[str] = field(default_factory=list)
    pfs: str | None = None  # "group14" ...
    lifetime_seconds: int | None = None
    lifetime_kilobytes: int | None = None
    isakmp_profile: str | None = None
    ikev2_profile: str | None = None  # ``set ikev2-profile``: negotiate with IKEv2


@dataclass
class CryptoMapEntry(SaSettings):
    """``crypto map NAME SEQ ...`` (or ``crypto dynamic-map NAME SEQ``)."""

    map_name: str = ""
    seq: int = 0
    kind: str = "ipsec-isakmp"  # or "ipsec-manual"
    dynamic_template: str | None = None  # ``ipsec-isakmp dynamic DMAP``
    is_dynamic_map: bool = False  # an entry of a ``crypto dynamic-map``
    peers: list[IPv4Address] = field(default_factory=list)
    match_acl: str | None = None
    reverse_route: bool = False


@dataclass
class CryptoMap:
    """A crypto map (or dynamic map): its entries by sequence number."""

    name: str
    entries: dict[int, CryptoMapEntry] = field(default_factory=dict)
    local_address: str | None = None  # interface name

    def sorted_entries(self) -> list[CryptoMapEntry]:
        return [self.entries[s] for s in sorted(self.entries)]


@dataclass
class IpsecProfile(SaSettings):
    """``crypto ipsec profile NAME`` (used by ``tunnel protection ipsec profile``)."""

    name: str = ""


def builtin_ipsec_profile() -> IpsecProfile:
    """IOS's built-in ``default`` IPsec profile: no settings, the default transform set
    (``show crypto ipsec profile`` lists it first; a tunnel may name it)."""
    return IpsecProfile(name="default")


@dataclass
class CryptoConfig:
    """Every ``crypto`` object of the running-config."""

    policies: dict[int, IsakmpPolicy] = field(default_factory=dict)
    default_policies: bool = True  # ``no crypto isakmp default policy`` clears it
    keys: dict[tuple[str | int, ...], PresharedKey] = field(default_factory=dict)  # by peer
    keepalive: tuple[int, int | None, str | None] | None = None  # (secs, retry, periodic?)
    nat_keepalive: int | None = None
    identity: str = "address"
    aggressive_mode_disabled: bool = False
    invalid_spi_recovery: bool = False
    cac_ike_sa: int | None = None  # crypto call admission limit ike sa N
    cac_in_negotiation: int | None = None  # crypto call admission limit ike in-negotiation-sa N
    keyrings: dict[str, Keyring] = field(default_factory=dict)
    isakmp_profiles: dict[str, IsakmpProfile] = field(default_factory=dict)
    isakmp_peers: dict[IPv4Address, IsakmpPeer] = field(default_factory=dict)
    transform_sets: dict[str, TransformSet] = field(default_factory=dict)
    sa_lifetime_seconds: int = DEFAULT_SA_SECONDS
    sa_lifetime_kilobytes: int = DEFAULT_SA_KILOBYTES
    replay_window: int = DEFAULT_REPLAY_WINDOW
    replay_disabled: bool = False
    ipsec_profiles: dict[str, IpsecProfile] = field(default_factory=dict)
    maps: dict[str, CryptoMap] = field(default_factory=dict)
    dynamic_maps: dict[str, CryptoMap] = field(default_factory=dict)
    isakmp_on: bool = False  # runtime: ISAKMP_ON_OFF already logged

    def ipsec_profile(self, name: str) -> IpsecProfile | None:
        """The IPsec profile ``name``: a configured one, else the built-in ``default``, else
        None (a tunnel's protection naming it protects nothing)."""
        profile = self.ipsec_profiles.get(name)
        if profile is None and name == "default":
            return builtin_ipsec_profile()
        return profile

    def sorted_policies(self) -> list[IsakmpPolicy]:
        return [self.policies[p] for p in sorted(self.policies)]

    def profiles_matching(self, peer: int) -> list[IsakmpProfile]:
        """The ISAKMP profiles (by name) whose ``match identity address`` covers ``peer``."""
        return [p for _, p in sorted(self.isakmp_profiles.items())
                if any((peer & int(mask)) == (int(addr) & int(mask))
                       for addr, mask in p.match_addresses)]

    def effective_policies(self) -> list[IsakmpPolicy]:
        """The suites IKE offers: the configured ones, else the IOS default suites."""
        if self.policies:
            return self.sorted_policies()
        return list(DEFAULT_POLICIES) if self.default_policies else [CLASSIC_DEFAULT_POLICY]

    def is_empty(self) -> bool:
        """Whether nothing crypto is configured (running-config then shows no section)."""
        return self == CryptoConfig(isakmp_on=self.isakmp_on)


def crypto_of(cfg: RunningConfig) -> CryptoConfig:
    """The crypto configuration of ``cfg`` (created empty on first use)."""
    crypto = cfg.features.get("crypto")
    if not isinstance(crypto, CryptoConfig):
        crypto = CryptoConfig()
        cfg.features["crypto"] = crypto
    return crypto


def interfaces_using(cfg: RunningConfig, map_name: str) -> list[str]:
    """The interfaces a crypto map is applied to, in IOS order."""
    return [i.name for i in cfg.sorted_interfaces() if i.features.get("crypto_map") == map_name]
