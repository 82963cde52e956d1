"""The SSH server's configuration and the router's RSA key pairs, as data.

``features["ssh"]`` holds an :class:`SshConfig`: ``ip ssh version|time-out|
authentication-retries`` and the key pairs ``crypto key generate rsa`` made. The key pairs
are not running-config text (``show running-config`` never prints them): IOS keeps them in
NVRAM's private-config, written with the startup-config (:mod:`iosim.config.private_config`),
and a reload without a save forgets a key made since.

A key pair made by a configuration replayed at boot (a lab's own configuration) is drawn
from a stream seeded with that configuration, its label and its size, so it is the same key
at every boot; one typed at the prompt is drawn from the router's random source. Either is
computed when first needed (:attr:`RsaKeyPair.pem`), so booting a lab costs nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from iosim.crypto.rsa_keygen import derived_key, load_pem

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from iosim.config.model import RunningConfig

__all__ = ["AaaConfig", "RsaKeyPair", "SSH_ALGORITHMS", "SshConfig", "aaa_of", "ssh_of"]

#: What the SSH server offers, in its order of preference (``show ip ssh`` lists them).
SSH_ALGORITHMS: dict[str, tuple[str, ...]] = {
    "kex": ("diffie-hellman-group-exchange-sha256", "diffie-hellman-group14-sha256",
            "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1"),
    "host_key": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
    "cipher": ("aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc",
               "aes256-cbc", "3des-cbc"),
    "mac": ("hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "hmac-sha1-96"),
}


@dataclass
class RsaKeyPair:
    """A general-purpose RSA key pair of the router (``Key name``, ``Key Data``)."""

    label: str
    bits: int
    generated: datetime  # the router's clock when it was made
    seed: str | None = None  # drawn from this seeded stream when first needed ...
    _pem: str | None = field(default=None, repr=False)  # ... or as read from NVRAM
    _key: RSAPrivateKey | None = field(default=None, repr=False, compare=False)

    @property
    def pem(self) -> str:
        """The private key, PKCS#1 PEM (computed on first use for a seeded key)."""
        if self._pem is None:
            assert self.seed is not None
            self._pem = derived_key(self.seed, self.bits)
        return self._pem

    @property
    def private_key(self) -> RSAPrivateKey:
        if self._key is None:
            self._key = load_pem(self.pem)
        return self._key

    @classmethod
    def from_pem(cls, label: str, generated: datetime, pem: str) -> RsaKeyPair:
        """A key read back from private-config; ValueError if the text is no RSA key."""
        key = load_pem(pem)
        return cls(label, key.key_size, generated, None, pem, key)


@dataclass
class SshConfig:
    """``ip ssh ...`` and the RSA key pairs (``features["ssh"]``)."""

    version: int | None = None  # None: 1.99 (both), else 1 or 2
    timeout: int = 120  # seconds to authenticate
    retries: int = 3  # authentication attempts before the connection is closed
    keys: dict[str, RsaKeyPair] = field(default_factory=dict)

    def host_key(self) -> RsaKeyPair | None:
        """The key pair the SSH server presents: the first one made (None: SSH is off)."""
        return next(iter(self.keys.values()), None)

    @property
    def version_text(self) -> str:
        """``1.99`` (versions 1 and 2), ``2.0`` or ``1.5``, as IOS words it."""
        return {None: "1.99", 1: "1.5", 2: "2.0"}[self.version]


@dataclass
class AaaConfig:
    """``aaa authentication login LIST METHOD...`` (``features["aaa"]``)."""

    login_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)


def ssh_of(config: RunningConfig, *, changing: bool = False) -> SshConfig:
    """The router's SSH settings; the defaults if it has none (kept in the config only
    when ``changing``, so that reading them changes nothing)."""
    found = config.features.get("ssh")
    if isinstance(found, SshConfig):
        return found
    found = SshConfig()
    if changing:
        config.features["ssh"] = found
    return found


def aaa_of(config: RunningConfig, *, changing: bool = False) -> AaaConfig:
    """The router's AAA method lists (see :func:`ssh_of`)."""
    found = config.features.get("aaa")
    if isinstance(found, AaaConfig):
        return found
    found = AaaConfig()
    if changing:
        config.features["aaa"] = found
    return found
