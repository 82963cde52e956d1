"""Handlers of the SSH server's configuration: ``crypto key generate|zeroize rsa`` (with
IOS's dialogs) and ``ip ssh version|time-out|authentication-retries``; their lines in the
running-config.

A key pair made while a configuration is replayed (a lab's own configuration at boot) asks
nothing and is drawn from a stream seeded with that configuration, so that it is the same
key at every boot (see :mod:`iosim.config.ssh_model`).
"""

from __future__ import annotations

import hashlib

from iosim.cli.errors import CommandRejected
from iosim.cli.matcher import Match
from iosim.config.handlers import ApplyContext, Question, handles, invalid_at
from iosim.config.model import RunningConfig
from iosim.config.render import SECTIONS
from iosim.config.ssh_model import RsaKeyPair, ssh_of
from iosim.crypto.rsa_keygen import MAX_MODULUS, MIN_MODULUS

#: The answer IOS proposes for ``How many bits in the modulus``.
DEFAULT_MODULUS = 512


def default_label(config: RunningConfig) -> str:
    """``R1.lab.local``: the name IOS gives a key pair made without ``label``."""
    return f"{config.hostname}.{config.domain_name}"


def _key_seed(ctx: ApplyContext, label: str, bits: int) -> str:
    """The stream a new key pair is drawn from: the lab's own configuration when it is
    replayed at boot (the same key every boot), else the router's random source."""
    router = ctx.router
    if ctx.replaying:
        text = (router.initial_config or "").encode("utf-8", "surrogateescape")
        return f"rsa/{router.name}/{label}/{bits}/{hashlib.sha256(text).hexdigest()}"
    rand = getattr(router.crypto_plane, "rand", None)
    drawn = rand(32).hex() if rand is not None else hashlib.sha256(
        f"{router.name}/{router.clock.now!r}".encode()).hexdigest()
    return f"rsa/{router.name}/{label}/{bits}/{drawn}"


def _make_key(ctx: ApplyContext, label: str, bits: int) -> None:
    """Make and keep the key pair; ``%SSH-5-ENABLED`` when it is the first."""
    ssh = ssh_of(ctx.config, changing=True)
    first = not ssh.keys
    ssh.keys[label] = RsaKeyPair(label, bits, ctx.router.wall_time(),
                                 seed=_key_seed(ctx, label, bits))
    ctx.router.config_changed("ssh")
    if not ctx.replaying:
        ctx.say(f"% Generating {bits} bit RSA keys, keys will be non-exportable...\n"
                "[OK] (elapsed time was 0 seconds)\n")
    if first:
        ctx.router.log(f"%SSH-5-ENABLED: SSH {ssh.version_text} has been enabled")


def _ask_modulus(ctx: ApplyContext, label: str) -> None:
    ctx.say("Choose the size of the key modulus in the range of 360 to 4096 for your\n"
            "  General Purpose Keys. Choosing a key modulus greater than 512 may take\n"
            "  a few minutes.\n\n")

    def answer(text: str, later: ApplyContext) -> None:
        typed = text.strip() or str(DEFAULT_MODULUS)
        if not typed.isdigit() or not MIN_MODULUS <= int(typed) <= MAX_MODULUS:
            later.say(f"% You must specify a number in the range of {MIN_MODULUS} to "
                      f"{MAX_MODULUS}")
            return
        _make_key(later, label, int(typed))

    ctx.question = Question(f"How many bits in the modulus [{DEFAULT_MODULUS}]: ", answer)


@handles("cfg_crypto_key_generate")
def _crypto_key_generate(ctx: ApplyContext, m: Match) -> None:
    cfg = ctx.config
    bits_text = m.get("CKEY_MODULUS_BITS")
    if bits_text is not None and not MIN_MODULUS <= int(bits_text) <= MAX_MODULUS:
        raise invalid_at(m, "CKEY_MODULUS_BITS")
    if cfg.hostname == "Router":
        raise CommandRejected("% Please define a hostname other than Router.")
    if cfg.domain_name is None and m.get("CKEY_LABEL_NAME") is None:
        raise CommandRejected("% Please define a domain-name first.")
    label = m.get("CKEY_LABEL_NAME") or default_label(cfg)
    bits = int(bits_text) if bits_text is not None else None
    if ctx.replaying:  # nobody to answer: IOS's default answers
        _make_key(ctx, label, bits or DEFAULT_MODULUS)
        return

    def go_on(later: ApplyContext) -> None:
        later.say(f"The name for the keys will be: {label}")
        if bits is None:
            _ask_modulus(later, label)
            return
        later.say(f"\n% The key modulus size is {bits} bits")
        _make_key(later, label, bits)

    if label in ssh_of(cfg).keys:
        ctx.say(f"% You already have RSA keys defined named {label}.")

        def replace(text: str, later: ApplyContext) -> None:
            word = text.strip().lower()
            if word in ("yes", "y"):
                go_on(later)
            elif word not in ("no", "n"):
                later.say("% Please answer 'yes' or 'no'.")
                later.question = Question("% Do you really want to replace them? [yes/no]: ",
                                          replace)

        ctx.question = Question("% Do you really want to replace them? [yes/no]: ", replace)
        return
    go_on(ctx)


@handles("cfg_crypto_key_zeroize")
def _crypto_key_zeroize(ctx: ApplyContext, m: Match) -> None:
    ssh = ssh_of(ctx.config)
    label = m.get("CKEY_ZLABEL")
    if label is not None and label not in ssh.keys:
        raise CommandRejected(f"% No Signature RSA Keys found in configuration named {label}.")
    if not ssh.keys:
        raise CommandRejected("% No Signature RSA Keys found in configuration.")
    doomed = [label] if label is not None else list(ssh.keys)

    def remove(later: ApplyContext) -> None:
        live = ssh_of(later.config, changing=True)
        for name in doomed:
            live.keys.pop(name, None)
        later.router.config_changed("ssh")
        if not live.keys:
            later.router.log(f"%SSH-5-DISABLED: SSH {live.version_text} has been disabled")

    if ctx.replaying:
        remove(ctx)
        return
    ctx.say("% All keys will be removed." if label is None else
            f"% Keys to be removed are named '{label}'.")
    ctx.say("% All router certs issued using these keys will also be removed.")

    def answer(text: str, later: ApplyContext) -> None:
        if text.strip().lower() in ("yes", "y"):
            remove(later)

    ctx.question = Question("Do you really want to remove these keys? [yes/no]: ", answer)


#: ``ip ssh`` settings: (terminal of the value, attribute, lowest, highest, default).
_SSH_SETTINGS = {
    "SSH_VERSION": ("SSH_VERSION_N", "version", 1, 2, None),
    "SSH_TIME_OUT": ("SSH_TIME_OUT_SECS", "timeout", 1, 120, 120),
    "SSH_RETRIES": ("SSH_RETRIES_N", "retries", 0, 5, 3),
}


@handles("cfg_ip_ssh", "cfg_no_ip_ssh")
def _ip_ssh(ctx: ApplyContext, m: Match) -> None:
    keyword = next(k for k in _SSH_SETTINGS if m.has(k))
    terminal, attribute, low, high, default = _SSH_SETTINGS[keyword]
    value: int | None = default
    if not m.has("CFG_NO"):
        value = int(m.get(terminal) or 0)
        if not low <= value <= high:
            raise invalid_at(m, terminal)
    setattr(ssh_of(ctx.config, changing=True), attribute, value)
    ctx.router.config_changed("ssh")


def _ssh_lines(cfg: RunningConfig) -> list[str]:
    """``ip ssh ...`` as IOS prints the settings that differ from the defaults."""
    ssh = ssh_of(cfg)
    out = []
    if ssh.timeout != 120:
        out.append(f"ip ssh time-out {ssh.timeout}")
    if ssh.retries != 3:
        out.append(f"ip ssh authentication-retries {ssh.retries}")
    if ssh.version is not None:
        out.append(f"ip ssh version {ssh.version}")
    return out


SECTIONS["before-interfaces"].insert(0, _ssh_lines)
