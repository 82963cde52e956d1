"""NVRAM's private-config: the RSA key pairs, saved and booted with the startup-config.

IOS never prints its key pairs in a configuration; ``write memory`` stores them in the
private part of NVRAM and a reload reads them back, so a key made and saved survives a
restart (and a client's ``known_hosts`` with it) while an unsaved one does not. The text
is one block per key pair: a ``! rsa-key LABEL GENERATED`` line, then the PEM of the
private key.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from iosim.config.ssh_model import RsaKeyPair, ssh_of

if TYPE_CHECKING:
    from iosim.router import Router

_HEAD = "! rsa-key "


def private_text(router: Router) -> str:
    """What ``write memory`` stores in the private-config ("" when there are no keys)."""
    keys = ssh_of(router.config).keys.values()
    return "".join(f"{_HEAD}{k.label} {k.generated.isoformat()}\n{k.pem}" for k in keys)


def parse(text: str) -> list[RsaKeyPair]:
    """The key pairs of a private-config; ValueError for text this module did not write."""
    keys: list[RsaKeyPair] = []
    for block in text.split(_HEAD)[1:]:
        head, _, pem = block.partition("\n")
        label, _, when = head.rpartition(" ")
        if not label:
            raise ValueError("a key without a label")
        keys.append(RsaKeyPair.from_pem(label, datetime.fromisoformat(when), pem))
    return keys


def save(router: Router) -> None:
    """Store the router's key pairs with its startup-config (NvramError if it fails)."""
    router.nvram.write_private(private_text(router))


def restore(router: Router) -> list[str]:
    """Give a router booted from its startup-config the key pairs saved with it; returns
    what went wrong (NVRAM that cannot be read, a damaged private-config)."""
    from iosim.router import NvramError

    try:
        text = router.nvram.read_private()
        keys = parse(text) if text else []
    except NvramError as e:
        return [f"{router.name}: {e}\n"]
    except ValueError as e:
        return [f"{router.name}: %Error reading nvram:private-config ({e})\n"]
    if keys:
        ssh = ssh_of(router.config, changing=True)
        ssh.keys = {k.label: k for k in keys}
    return []
