"""Handlers of the IKEv1/IPsec configuration: ISAKMP policies and keys, keyrings, ISAKMP
profiles, transform sets, IPsec profiles, crypto maps and ``crypto map`` on interfaces.

Every handler validates first and changes the model last, so a line IOS refuses leaves the
running-config as it was.  References between objects are checked the way IOS checks
them: a transform set or ISAKMP profile must exist before a crypto map names it (IOS
refuses the line), while an access list may be named before it exists (IOS accepts it
and ``show crypto map`` flags the entry as incomplete).
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address
from typing import Any

import iosim.config.apply_crypto_show  # noqa: F401  (show crypto handlers, running-config)
from iosim.cli.errors import CommandRejected, InvalidInput
from iosim.cli.interfaces import interface_type
from iosim.cli.lines import truncate_bytes
from iosim.cli.matcher import Match, ipv4_address
from iosim.cli.modes import Mode, register
from iosim.config.crypto_model import (
    DEFAULT_PFS,
    DEFAULT_REPLAY_WINDOW,
    DEFAULT_SA_KILOBYTES,
    DEFAULT_SA_SECONDS,
    KEYED_TRANSFORMS,
    CryptoConfig,
    CryptoMap,
    CryptoMapEntry,
    IpsecProfile,
    IsakmpPeer,
    IsakmpPolicy,
    IsakmpProfile,
    Keyring,
    PresharedKey,
    SaSettings,
    TransformSet,
    crypto_of,
    transform_conflict,
)
from iosim.config.handlers import ApplyContext, Enter, handles, invalid_at
from iosim.config.tunnel_model import tunnel_of

for _mode in (
    Mode("isakmp", "isakmp_line", "(config-isakmp)#", "config"),
    Mode("crypto_trans", "crypto_trans_line", "(cfg-crypto-trans)#", "config"),
    Mode("crypto_map", "crypto_map_line", "(config-crypto-map)#", "config"),
    Mode("ipsec_profile", "ipsec_profile_line", "(ipsec-profile)#", "config"),
    Mode("keyring", "keyring_line", "(conf-keyring)#", "config"),
    Mode("isaprof", "isaprof_line", "(conf-isa-prof)#", "config"),
    Mode("isakmp_peer", "isakmp_peer_line", "(config-isakmp-peer)#", "config"),
):
    register(_mode)

#: What IOS prints on entering a new crypto map entry (the second line starts with a TAB).
NEW_MAP_NOTE = ("% NOTE: This new crypto map will remain disabled until a peer\n"
                "\tand a valid access list have been configured.")


def _crypto(ctx: ApplyContext) -> CryptoConfig:
    return crypto_of(ctx.config)


def isakmp_switch(ctx: ApplyContext) -> None:
    """``%CRYPTO-6-ISAKMP_ON_OFF`` as IOS logs it: ON when the first crypto map or tunnel
    protection is applied, OFF when the last one is removed."""
    crypto = _crypto(ctx)
    applied = any("crypto_map" in intf.features or tunnel_of(intf).protection is not None
                  for intf in ctx.config.interfaces.values())
    if applied != crypto.isakmp_on:
        crypto.isakmp_on = applied
        ctx.router.log(f"%CRYPTO-6-ISAKMP_ON_OFF: ISAKMP is {'ON' if applied else 'OFF'}")


def _changed(ctx: ApplyContext) -> None:
    ctx.router.config_changed("crypto")


def _first(m: Match, terminals: tuple[str, ...]) -> str | None:
    """The value of the first word that matched one of ``terminals``."""
    return next((a.value for a in m.args if a.terminal in terminals), None)


def _interface(ctx: ApplyContext, m: Match, terminal: str) -> str:
    """An existing interface named by ``terminal`` (a caret under it otherwise)."""
    name = m.get(terminal) or ""
    if interface_type(name) is None or name not in ctx.config.interfaces:
        raise invalid_at(m, terminal)
    return name


# ================================================================ ISAKMP policies

_CIPHERS = ("CISP_DES", "CISP_3DES", "CISP_AES")
_KEY_BITS = ("CISP_AES_128", "CISP_AES_192", "CISP_AES_256")
_HASHES = ("CISP_MD5", "CISP_SHA", "CISP_SHA256", "CISP_SHA384", "CISP_SHA512")
_AUTHS = ("CISP_PRE_SHARE", "CISP_RSA_SIG", "CISP_RSA_ENCR")
_GROUPS = ("CISP_G1", "CISP_G2", "CISP_G5", "CISP_G14", "CISP_G15", "CISP_G16", "CISP_G19",
           "CISP_G20", "CISP_G21", "CISP_G24")


@handles("cis_policy")
def _policy(ctx: ApplyContext, m: Match) -> Enter:
    priority = int(m.get("CIS_PRIORITY") or 0)
    crypto = _crypto(ctx)
    if priority not in crypto.policies:
        crypto.policies[priority] = IsakmpPolicy(priority)
        _changed(ctx)
    return Enter("isakmp", priority)


@handles("cis_no_policy")
def _no_policy(ctx: ApplyContext, m: Match) -> None:
    if _crypto(ctx).policies.pop(int(m.get("CIS_PRIORITY") or 0), None) is not None:
        _changed(ctx)


@handles("cis_default_policy", "cis_no_default_policy")
def _default_policy(ctx: ApplyContext, m: Match) -> None:
    _crypto(ctx).default_policies = not m.has("CFG_NO")
    _changed(ctx)


def _policy_target(ctx: ApplyContext) -> IsakmpPolicy:
    crypto = _crypto(ctx)
    priority = int(ctx.target)
    return crypto.policies.setdefault(priority, IsakmpPolicy(priority))


@handles("cisp_encryption")
def _encryption(ctx: ApplyContext, m: Match) -> None:
    cipher = _first(m, _CIPHERS) or "des"
    bits = _first(m, _KEY_BITS)
    _policy_target(ctx).encryption = f"aes {bits}" if cipher == "aes" and bits not in (
        None, "128") else cipher
    _changed(ctx)


@handles("cisp_hash")
def _hash(ctx: ApplyContext, m: Match) -> None:
    _policy_target(ctx).hash = _first(m, _HASHES) or "sha"
    _changed(ctx)


@handles("cisp_authentication")
def _authentication(ctx: ApplyContext, m: Match) -> None:
    _policy_target(ctx).authentication = _first(m, _AUTHS) or "rsa-sig"
    _changed(ctx)


@handles("cisp_group")
def _group(ctx: ApplyContext, m: Match) -> None:
    _policy_target(ctx).group = int(_first(m, _GROUPS) or 1)
    _changed(ctx)


@handles("cisp_lifetime")
def _lifetime(ctx: ApplyContext, m: Match) -> None:
    _policy_target(ctx).lifetime = int(m.get("CISP_LIFETIME_SECONDS") or 86400)
    _changed(ctx)


@handles("cisp_no", "cisp_default")
def _policy_default(ctx: ApplyContext, m: Match) -> None:
    policy = _policy_target(ctx)
    fresh = IsakmpPolicy(policy.priority)
    for terminal, attr in (("CISP_ENCRYPTION", "encryption"), ("CISP_HASH", "hash"),
                           ("CISP_AUTHENTICATION", "authentication"), ("CISP_GROUP", "group"),
                           ("CISP_LIFETIME", "lifetime")):
        if m.has(terminal):
            setattr(policy, attr, getattr(fresh, attr))
    _changed(ctx)


@handles("cisp_exit", "ctsm_exit", "cmap_exit", "cipp_exit", "ckr_exit", "cip_exit",
         "cipr_exit")
def _crypto_exit(ctx: ApplyContext, m: Match) -> Enter:
    return Enter("config")


# ================================================================ pre-shared keys


def _key_text(m: Match, terminal: str) -> str | None:
    """A pre-shared key or password as the IKE engine takes it: UTF-8 text.  A byte that is
    not UTF-8 (kept as U+DC80..U+DCFF, see ``iosim.cli.lines``) gets the caret."""
    arg = m.arg(terminal)
    if arg is None:
        return None
    for i, ch in enumerate(arg.value):
        if "\udc80" <= ch <= "\udcff":
            raise InvalidInput(arg.col + i)
    return arg.value


def _key_from(m: Match, prefix: str) -> PresharedKey:
    """The key a ``crypto isakmp key`` (CIK) or ``pre-shared-key`` (CKR) line describes."""
    value_t = "CIK_KEY" if prefix == "CIK" else "CKR_KEY_VALUE"
    addr = m.get(f"{prefix}_ADDR")
    mask = m.get(f"{prefix}_MASK")
    return PresharedKey(
        key=_key_text(m, value_t) or "",
        address=ipv4_address(addr) if addr else None,
        mask=ipv4_address(mask) if mask else None,
        hostname=m.get(f"{prefix}_HOST"),
        encrypted=m.has(f"{prefix}_TYPE6"),
        no_xauth=m.has("CIK_NO_XAUTH"),
    )


def _check_mask(m: Match, key: PresharedKey, mask_t: str) -> None:
    """IOS refuses a mask that is not contiguous ones then zeros."""
    if key.mask is not None:
        bits = int(key.mask)
        inverted = ~bits & 0xFFFFFFFF
        if inverted & (inverted + 1):
            raise invalid_at(m, mask_t)


def _store_key(keys: dict[tuple[str | int, ...], PresharedKey], key: PresharedKey) -> None:
    """A key for a peer that has one replaces it (in its place, as IOS lists them)."""
    keys[key.peer] = key


@handles("cis_key")
def _isakmp_key(ctx: ApplyContext, m: Match) -> None:
    key = _key_from(m, "CIK")
    _check_mask(m, key, "CIK_MASK")
    _store_key(_crypto(ctx).keys, key)
    _changed(ctx)


@handles("cis_no_key")
def _no_isakmp_key(ctx: ApplyContext, m: Match) -> None:
    probe = _key_from(m, "CIK")
    crypto = _crypto(ctx)
    crypto.keys.pop(probe.peer, None)
    _changed(ctx)


# ================================================================ global ISAKMP settings


@handles("cis_keepalive")
def _keepalive(ctx: ApplyContext, m: Match) -> None:
    retry = m.get("CIS_KA_RETRY")
    mode = "periodic" if m.has("CIS_KA_PERIODIC") else None
    _crypto(ctx).keepalive = (int(m.get("CIS_KA_SECONDS") or 0),
                              int(retry) if retry else None, mode)
    _changed(ctx)


@handles("cis_no_keepalive")
def _no_keepalive(ctx: ApplyContext, m: Match) -> None:
    _crypto(ctx).keepalive = None
    _changed(ctx)


@handles("cis_nat_keepalive", "cis_no_nat_keepalive")
def _nat_keepalive(ctx: ApplyContext, m: Match) -> None:
    seconds = m.get("CIS_NAT_SECONDS")
    _crypto(ctx).nat_keepalive = None if m.has("CFG_NO") or seconds is None else int(seconds)
    _changed(ctx)


@handles("cis_identity", "cis_no_identity")
def _identity(ctx: ApplyContext, m: Match) -> None:
    _crypto(ctx).identity = ("hostname" if m.has("CIS_ID_HOSTNAME") and not m.has("CFG_NO")
                             else "address")
    _changed(ctx)


@handles("cis_aggressive", "cis_no_aggressive")
def _aggressive(ctx: ApplyContext, m: Match) -> None:
    _crypto(ctx).aggressive_mode_disabled = not m.has("CFG_NO")
    _changed(ctx)


@handles("cis_invalid_spi", "cis_no_invalid_spi")
def _invalid_spi(ctx: ApplyContext, m: Match) -> None:
    _crypto(ctx).invalid_spi_recovery = not m.has("CFG_NO")
    _changed(ctx)


# ================================================================ keyrings


def _enter(ctx: ApplyContext, table: dict[Any, Any], key: Any, make: Callable[[Any], Any],
           mode: str) -> Enter:
    """Enter the sub-mode of a named object (a keyring, a profile ...), creating it first."""
    if key not in table:
        table[key] = make(key)
        _changed(ctx)
    return Enter(mode, str(key))


@handles("cis_keyring")
def _keyring(ctx: ApplyContext, m: Match) -> Enter:
    return _enter(ctx, _crypto(ctx).keyrings, m.get("CKR_NAME") or "", Keyring, "keyring")


@handles("cis_no_keyring")
def _no_keyring(ctx: ApplyContext, m: Match) -> None:
    if _crypto(ctx).keyrings.pop(m.get("CKR_NAME") or "", None) is not None:
        _changed(ctx)


def _keyring_target(ctx: ApplyContext) -> Keyring:
    return _crypto(ctx).keyrings.setdefault(str(ctx.target), Keyring(str(ctx.target)))


@handles("ckr_psk")
def _keyring_psk(ctx: ApplyContext, m: Match) -> None:
    key = _key_from(m, "CKR")
    _check_mask(m, key, "CKR_MASK")
    _store_key(_keyring_target(ctx).keys, key)
    _changed(ctx)


@handles("ckr_no_psk")
def _keyring_no_psk(ctx: ApplyContext, m: Match) -> None:
    ring = _keyring_target(ctx)
    probe = _key_from(m, "CKR")
    ring.keys.pop(probe.peer, None)
    _changed(ctx)


@handles("ckr_description", "ckr_no_description")
def _keyring_description(ctx: ApplyContext, m: Match) -> None:
    ring = _keyring_target(ctx)
    text = m.get("CKR_DESCRIPTION_TEXT") or ""
    ring.description = None if m.has("CKR_NO") else truncate_bytes(text, 80)
    _changed(ctx)


@handles("ckr_local_address", "ckr_no_local_address")
def _keyring_local_address(ctx: ApplyContext, m: Match) -> None:
    name = None if m.has("CKR_NO") else _interface(ctx, m, "CKR_LOCAL_IF")
    _keyring_target(ctx).local_address = name
    _changed(ctx)


# ================================================================ ISAKMP profiles


@handles("cis_profile")
def _isakmp_profile(ctx: ApplyContext, m: Match) -> Enter:
    return _enter(ctx, _crypto(ctx).isakmp_profiles, m.get("CIP_NAME") or "", IsakmpProfile,
                  "isaprof")


@handles("cis_no_profile")
def _no_isakmp_profile(ctx: ApplyContext, m: Match) -> None:
    name = m.get("CIP_NAME") or ""
    crypto = _crypto(ctx)
    if crypto.isakmp_profiles.pop(name, None) is None:
        return
    for settings in _all_settings(crypto):
        if settings.isakmp_profile == name:
            settings.isakmp_profile = None
    _changed(ctx)


def _profile_target(ctx: ApplyContext) -> IsakmpProfile:
    return _crypto(ctx).isakmp_profiles.setdefault(str(ctx.target),
                                                   IsakmpProfile(str(ctx.target)))


@handles("cip_keyring", "cip_no_keyring")
def _profile_keyring(ctx: ApplyContext, m: Match) -> None:
    _profile_target(ctx).keyring = None if m.has("CIP_NO") else m.get("CIP_KEYRING_NAME")
    _changed(ctx)


@handles("cip_match", "cip_no_match")
def _profile_match(ctx: ApplyContext, m: Match) -> None:
    profile = _profile_target(ctx)
    host = m.get("CIP_ID_HOSTNAME")
    if host is not None:
        hosts = [h for h in profile.match_hosts if h != host]
        profile.match_hosts = hosts if m.has("CIP_NO") else [*hosts, host]
    else:
        addr = IPv4Address(m.get("CIP_ID_ADDR") or "0.0.0.0")
        mask = IPv4Address(m.get("CIP_ID_MASK") or "255.255.255.255")
        pairs = [p for p in profile.match_addresses if p != (addr, mask)]
        profile.match_addresses = pairs if m.has("CIP_NO") else [*pairs, (addr, mask)]
    _changed(ctx)


@handles("cip_description", "cip_no_description")
def _profile_description(ctx: ApplyContext, m: Match) -> None:
    profile = _profile_target(ctx)
    text = m.get("CIP_DESCRIPTION_TEXT") or ""
    profile.description = None if m.has("CIP_NO") else truncate_bytes(text, 80)
    _changed(ctx)


@handles("cip_self_identity", "cip_no_self_identity")
def _profile_self_identity(ctx: ApplyContext, m: Match) -> None:
    value = "fqdn" if m.has("CIP_SELF_FQDN") else "address"
    _profile_target(ctx).self_identity = None if m.has("CIP_NO") else value
    _changed(ctx)


@handles("cip_local_address", "cip_no_local_address")
def _profile_local_address(ctx: ApplyContext, m: Match) -> None:
    name = None if m.has("CIP_NO") else _interface(ctx, m, "CIP_LOCAL_IF")
    _profile_target(ctx).local_address = name
    _changed(ctx)


@handles("cip_keepalive", "cip_no_keepalive")
def _profile_keepalive(ctx: ApplyContext, m: Match) -> None:
    value = None if m.has("CIP_NO") else (int(m.get("CIP_KA_SECONDS") or 0),
                                          int(m.get("CIP_KA_RETRY_SECONDS") or 0))
    _profile_target(ctx).keepalive = value
    _changed(ctx)


@handles("cip_initiate", "cip_no_initiate")
def _profile_initiate(ctx: ApplyContext, m: Match) -> None:
    _profile_target(ctx).initiate_aggressive = not m.has("CIP_NO")
    _changed(ctx)


# ================================================================ crypto isakmp peer


@handles("cis_peer")
def _isakmp_peer(ctx: ApplyContext, m: Match) -> Enter:
    return _enter(ctx, _crypto(ctx).isakmp_peers,
                  IPv4Address(m.get("CIS_PEER_ADDR") or "0.0.0.0"), IsakmpPeer, "isakmp_peer")


@handles("cis_no_peer")
def _no_isakmp_peer(ctx: ApplyContext, m: Match) -> None:
    address = IPv4Address(m.get("CIS_PEER_ADDR") or "0.0.0.0")
    if _crypto(ctx).isakmp_peers.pop(address, None) is not None:
        _changed(ctx)


def _peer_target(ctx: ApplyContext) -> IsakmpPeer:
    return _crypto(ctx).isakmp_peers[IPv4Address(ctx.target or "0.0.0.0")]


@handles("cipr_aggressive", "cipr_no_aggressive")
def _peer_aggressive(ctx: ApplyContext, m: Match) -> None:
    peer = _peer_target(ctx)
    no = m.has("CIPR_NO")
    password = _key_text(m, "CIPR_PASSWORD_VALUE")
    if m.has("CIPR_PASSWORD") or no and not m.has("CIPR_CLIENT_ENDPOINT"):
        peer.aggressive_password = None if no else password
    if m.has("CIPR_CLIENT_ENDPOINT") or no and not m.has("CIPR_PASSWORD"):
        endpoint = m.get("CIPR_ENDPOINT")
        peer.client_endpoint = None if no or endpoint is None else IPv4Address(endpoint)
    _changed(ctx)


@handles("cipr_description", "cipr_no_description")
def _peer_description(ctx: ApplyContext, m: Match) -> None:
    _peer_target(ctx).description = None if m.has("CIPR_NO") else m.get("CIPR_DESCRIPTION_TEXT")
    _changed(ctx)


# ================================================================ transform sets

_TRANSFORM_TERMINALS = {
    "CTS_AH_MD5", "CTS_AH_SHA", "CTS_AH_SHA256", "CTS_AH_SHA384", "CTS_AH_SHA512",
    "CTS_ESP_DES", "CTS_ESP_3DES", "CTS_ESP_NULL", "CTS_ESP_AES", "CTS_ESP_GCM", "CTS_ESP_GMAC",
    "CTS_ESP_MD5", "CTS_ESP_SHA", "CTS_ESP_SHA256", "CTS_ESP_SHA384", "CTS_ESP_SHA512",
    "CTS_COMP_LZS",
}
_BITS_TERMINALS = {"CTS_128", "CTS_192", "CTS_256"}


def parse_transforms(m: Match) -> list[tuple[str, int]]:
    """The transforms of a ``crypto ipsec transform-set`` line: (canonical words, column).

    ``esp-aes 128`` is canonically ``esp-aes`` (128 is the default key size).
    """
    out: list[tuple[str, int]] = []
    for a in m.args:
        if a.terminal in _TRANSFORM_TERMINALS:
            out.append((a.value, a.col))
        elif a.terminal in _BITS_TERMINALS and out:
            word, col = out[-1]
            if a.value != "128" and word in KEYED_TRANSFORMS:
                out[-1] = (f"{word} {a.value}", col)
    return out


@handles("cts_transform_set")
def _transform_set(ctx: ApplyContext, m: Match) -> Enter:
    name = m.get("CTS_NAME") or ""
    parsed = parse_transforms(m)
    transforms = [t for t, _ in parsed]
    bad = transform_conflict(transforms)
    if bad is not None:
        raise InvalidInput(parsed[bad][1])
    crypto = _crypto(ctx)
    ts = crypto.transform_sets.get(name)
    if ts is None:
        crypto.transform_sets[name] = TransformSet(name, transforms)
    else:
        ts.transforms = transforms
    _changed(ctx)
    return Enter("crypto_trans", name)


def _all_settings(crypto: CryptoConfig) -> list[SaSettings]:
    """Every crypto map entry, dynamic map entry and IPsec profile."""
    out: list[SaSettings] = list(crypto.ipsec_profiles.values())
    for maps in (crypto.maps, crypto.dynamic_maps):
        for cmap in maps.values():
            out.extend(cmap.entries.values())
    return out


@handles("cts_no_transform_set")
def _no_transform_set(ctx: ApplyContext, m: Match) -> None:
    name = m.get("CTS_NAME") or ""
    crypto = _crypto(ctx)
    if crypto.transform_sets.pop(name, None) is None:
        return
    for settings in _all_settings(crypto):
        settings.transform_sets = [t for t in settings.transform_sets if t != name]
    _changed(ctx)


@handles("ctsm_mode", "ctsm_no_mode", "ctsm_default_mode")
def _transform_mode(ctx: ApplyContext, m: Match) -> None:
    crypto = _crypto(ctx)
    ts = crypto.transform_sets.get(str(ctx.target))
    if ts is None:
        return
    ts.mode = "transport" if m.has("CTSM_TRANSPORT") and m.command == "ctsm_mode" else "tunnel"
    ts.require = ts.mode == "transport" and m.has("CTSM_REQUIRE")
    _changed(ctx)


# ================================================================ global SA settings


@handles("cipsec_sa_lifetime", "cipsec_no_sa_lifetime")
def _sa_lifetime(ctx: ApplyContext, m: Match) -> None:
    crypto = _crypto(ctx)
    no = m.has("CFG_NO")
    if m.has("CIPSEC_SECONDS"):
        value = m.get("CIPSEC_SECONDS_N")
        crypto.sa_lifetime_seconds = DEFAULT_SA_SECONDS if no or value is None else int(value)
    else:
        value = m.get("CIPSEC_KILOBYTES_N")
        crypto.sa_lifetime_kilobytes = (DEFAULT_SA_KILOBYTES if no or value is None
                                        else int(value))
    _changed(ctx)


_WINDOWS = ("CIPSEC_W64", "CIPSEC_W128", "CIPSEC_W256", "CIPSEC_W512", "CIPSEC_W1024")


@handles("cipsec_replay", "cipsec_no_replay")
def _replay(ctx: ApplyContext, m: Match) -> None:
    crypto = _crypto(ctx)
    no = m.has("CFG_NO")
    if m.has("CIPSEC_REPLAY_DISABLE"):
        crypto.replay_disabled = not no
    else:
        window = _first(m, _WINDOWS)
        crypto.replay_window = (DEFAULT_REPLAY_WINDOW if no or window is None
                                else int(window))
    _changed(ctx)


# ================================================================ IPsec profiles


@handles("cipp_profile")
def _ipsec_profile(ctx: ApplyContext, m: Match) -> Enter:
    name = m.get("CIPP_NAME") or ""
    crypto = _crypto(ctx)
    profile = crypto.ipsec_profiles.get(name)
    if profile is None:
        profile = IpsecProfile(name=name)
        crypto.ipsec_profiles[name] = profile
        _changed(ctx)
    return Enter("ipsec_profile", profile)


@handles("cipp_no_profile")
def _no_ipsec_profile(ctx: ApplyContext, m: Match) -> None:
    if _crypto(ctx).ipsec_profiles.pop(m.get("CIPP_NAME") or "", None) is not None:
        _changed(ctx)


# ================================================================ crypto maps


def _new_entry_note(ctx: ApplyContext) -> None:
    ctx.say(NEW_MAP_NOTE)


@handles("cmap_entry")
def _map_entry(ctx: ApplyContext, m: Match) -> Enter:
    name = m.get("CMAP_NAME") or ""
    seq = int(m.get("CMAP_SEQ") or 0)
    if not 1 <= seq <= 65535:
        raise invalid_at(m, "CMAP_SEQ")
    kind = "ipsec-manual" if m.has("CMAP_MANUAL") else "ipsec-isakmp"
    crypto = _crypto(ctx)
    cmap = crypto.maps.get(name)
    entry = cmap.entries.get(seq) if cmap is not None else None
    if entry is not None:
        if entry.dynamic_template is not None or (
                m.has("CMAP_MANUAL") or m.has("CMAP_ISAKMP")) and entry.kind != kind:
            raise CommandRejected(f"% Crypto map entry {name} {seq} is of a different type;"
                                  " remove it first.")
        return Enter("crypto_map", entry)
    entry = CryptoMapEntry(map_name=name, seq=seq, kind=kind)
    crypto.maps.setdefault(name, CryptoMap(name)).entries[seq] = entry
    _new_entry_note(ctx)
    _changed(ctx)
    return Enter("crypto_map", entry)


@handles("cmap_dynamic_entry")
def _map_dynamic_entry(ctx: ApplyContext, m: Match) -> None:
    name = m.get("CMAP_NAME") or ""
    seq = int(m.get("CMAP_SEQ") or 0)
    if not 1 <= seq <= 65535:
        raise invalid_at(m, "CMAP_SEQ")
    template = m.get("CMAP_DYNAMIC_NAME") or ""
    crypto = _crypto(ctx)
    cmap = crypto.maps.get(name)
    entry = cmap.entries.get(seq) if cmap is not None else None
    if entry is not None and entry.dynamic_template is None:
        raise CommandRejected(f"% Crypto map entry {name} {seq} is of a different type;"
                              " remove it first.")
    entry = CryptoMapEntry(map_name=name, seq=seq, dynamic_template=template)
    crypto.maps.setdefault(name, CryptoMap(name)).entries[seq] = entry
    _changed(ctx)


@handles("cmap_no_entry")
def _no_map_entry(ctx: ApplyContext, m: Match) -> None:
    name = m.get("CMAP_NAME") or ""
    crypto = _crypto(ctx)
    cmap = crypto.maps.get(name)
    if cmap is None:
        return
    seq = m.get("CMAP_SEQ")
    if seq is None:
        del crypto.maps[name]
    else:
        cmap.entries.pop(int(seq), None)
        if not cmap.entries and cmap.local_address is None:
            del crypto.maps[name]
    _changed(ctx)


@handles("cmap_local_address", "cmap_no_local_address")
def _map_local_address(ctx: ApplyContext, m: Match) -> None:
    name = m.get("CMAP_NAME") or ""
    crypto = _crypto(ctx)
    if m.has("CFG_NO"):
        cmap = crypto.maps.get(name)
        if cmap is not None:
            cmap.local_address = None
            if not cmap.entries:
                del crypto.maps[name]
    else:
        intf = _interface(ctx, m, "CMAP_LOCAL_IF")
        crypto.maps.setdefault(name, CryptoMap(name)).local_address = intf
    _changed(ctx)


@handles("cdmap_entry")
def _dynamic_map_entry(ctx: ApplyContext, m: Match) -> Enter:
    name = m.get("CDMAP_NAME") or ""
    seq = int(m.get("CDMAP_SEQ") or 0)
    if not 1 <= seq <= 65535:
        raise invalid_at(m, "CDMAP_SEQ")
    crypto = _crypto(ctx)
    dmap = crypto.dynamic_maps.setdefault(name, CryptoMap(name))
    entry = dmap.entries.get(seq)
    if entry is None:
        entry = CryptoMapEntry(map_name=name, seq=seq, is_dynamic_map=True)
        dmap.entries[seq] = entry
        _changed(ctx)
    return Enter("crypto_map", entry)


@handles("cdmap_no_entry")
def _no_dynamic_map_entry(ctx: ApplyContext, m: Match) -> None:
    name = m.get("CDMAP_NAME") or ""
    crypto = _crypto(ctx)
    dmap = crypto.dynamic_maps.get(name)
    if dmap is None:
        return
    seq = m.get("CDMAP_SEQ")
    if seq is not None:
        dmap.entries.pop(int(seq), None)
    if seq is None or not dmap.entries:
        del crypto.dynamic_maps[name]
    _changed(ctx)


# ---------------------------------------------------------------- (config-crypto-map) and
# (ipsec-profile): the target is the CryptoMapEntry or IpsecProfile itself


def _settings(ctx: ApplyContext) -> SaSettings:
    assert isinstance(ctx.target, SaSettings)
    return ctx.target


def _entry(ctx: ApplyContext) -> CryptoMapEntry:
    assert isinstance(ctx.target, CryptoMapEntry)
    return ctx.target


@handles("cset_peer")
def _set_peer(ctx: ApplyContext, m: Match) -> None:
    entry = _entry(ctx)
    peer = m.ipv4("CSET_PEER_ADDR", "0.0.0.0")
    if peer not in entry.peers:
        entry.peers.append(peer)
    _changed(ctx)


@handles("cset_no_peer")
def _no_set_peer(ctx: ApplyContext, m: Match) -> None:
    entry = _entry(ctx)
    peer = m.get("CSET_PEER_ADDR")
    entry.peers = [] if peer is None else [p for p in entry.peers if p != IPv4Address(peer)]
    _changed(ctx)


def transform_set_missing(name: str) -> str:
    """IOS's refusal of a transform set that is not defined."""
    return f'ERROR: transform set with tag "{name}" does not exist.'


@handles("cset_transform_set")
def _set_transform_set(ctx: ApplyContext, m: Match) -> None:
    names = m.all("CSET_TS_NAME")
    crypto = _crypto(ctx)
    for name in names:
        if name not in crypto.transform_sets:
            raise CommandRejected(transform_set_missing(name))
    unique = list(dict.fromkeys(names))
    _settings(ctx).transform_sets = unique
    _changed(ctx)


@handles("cset_no_transform_set")
def _no_set_transform_set(ctx: ApplyContext, m: Match) -> None:
    settings = _settings(ctx)
    names = set(m.all("CSET_TS_NAME"))
    settings.transform_sets = ([] if not names
                               else [t for t in settings.transform_sets if t not in names])
    _changed(ctx)


_PFS = ("CSET_GROUP1", "CSET_GROUP2", "CSET_GROUP5", "CSET_GROUP14", "CSET_GROUP15",
        "CSET_GROUP16", "CSET_GROUP19", "CSET_GROUP20", "CSET_GROUP21", "CSET_GROUP24")


@handles("cset_pfs", "cset_no_pfs")
def _set_pfs(ctx: ApplyContext, m: Match) -> None:
    _settings(ctx).pfs = None if m.has("CSET_NO") else (_first(m, _PFS) or DEFAULT_PFS)
    _changed(ctx)


@handles("cset_lifetime", "cset_no_lifetime")
def _set_lifetime(ctx: ApplyContext, m: Match) -> None:
    settings = _settings(ctx)
    no = m.has("CSET_NO")
    if m.has("CSET_SECONDS"):
        value = m.get("CSET_SECONDS_N")
        settings.lifetime_seconds = None if no or value is None else int(value)
    else:
        value = m.get("CSET_KILOBYTES_N")
        settings.lifetime_kilobytes = None if no or value is None else int(value)
    _changed(ctx)


@handles("cset_isakmp_profile")
def _set_isakmp_profile(ctx: ApplyContext, m: Match) -> None:
    name = m.get("CSET_ISAKMP_PROFILE_NAME") or ""
    if name not in _crypto(ctx).isakmp_profiles:
        raise CommandRejected(f"% ISAKMP profile {name} does not exist.")
    _settings(ctx).isakmp_profile = name
    _changed(ctx)


@handles("cset_no_isakmp_profile")
def _no_set_isakmp_profile(ctx: ApplyContext, m: Match) -> None:
    _settings(ctx).isakmp_profile = None
    _changed(ctx)


@handles("cset_description", "cset_no_description")
def _set_description(ctx: ApplyContext, m: Match) -> None:
    text = m.get("CSET_DESCRIPTION_TEXT")
    _settings(ctx).description = (None if m.has("CSET_NO") or text is None
                                  else truncate_bytes(text, 80))
    _changed(ctx)


@handles("cmap_match", "cmap_no_match")
def _match_address(ctx: ApplyContext, m: Match) -> None:
    entry = _entry(ctx)
    if m.has("CSET_NO"):
        entry.match_acl = None
    else:
        entry.match_acl = _first(m, ("CMAP_ACL_NUM", "CMAP_ACL_EXP", "CMAP_ACL_NAME"))
    _changed(ctx)


@handles("cmap_reverse_route", "cmap_no_reverse_route")
def _reverse_route(ctx: ApplyContext, m: Match) -> None:
    _entry(ctx).reverse_route = not m.has("CSET_NO")
    _changed(ctx)


# ================================================================ interfaces


@handles("if_crypto_map")
def _if_crypto_map(ctx: ApplyContext, m: Match) -> None:
    name = m.get("IF_CRYPTO_MAP_NAME") or ""
    intf = ctx.config.interfaces[str(ctx.target)]
    intf.features["crypto_map"] = name
    isakmp_switch(ctx)
    _changed(ctx)


@handles("if_no_crypto_map")
def _if_no_crypto_map(ctx: ApplyContext, m: Match) -> None:
    intf = ctx.config.interfaces[str(ctx.target)]
    name = m.get("IF_CRYPTO_MAP_NAME")
    if name is None or intf.features.get("crypto_map") == name:
        intf.features.pop("crypto_map", None)
    isakmp_switch(ctx)
    _changed(ctx)
