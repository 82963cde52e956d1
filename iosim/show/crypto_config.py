"""Pure renderers of the crypto configuration: running-config text and ``show crypto`` output.

Each function takes the running-config (and nothing else) and returns IOS's exact text.
Layouts follow IOS 15.x captures: ``show crypto isakmp policy`` and ``show crypto map``
indent with TAB characters, ``show crypto ipsec transform-set`` keeps IOS's trailing
spaces, and running-config keeps the trailing spaces IOS writes after a transform-set
line, a crypto map header and a ``set transform-set`` line, and pads a pre-shared key's
peer address to 15 characters.
"""

from __future__ import annotations

from iosim.config.apply_acl import render_entry
from iosim.config.crypto_model import (
    DEFAULT_POLICIES,
    DEFAULT_REPLAY_WINDOW,
    DEFAULT_SA_KILOBYTES,
    DEFAULT_SA_SECONDS,
    DEFAULT_TRANSFORM_SET,
    DH_GROUP_BITS,
    HOST_MASK,
    ISAKMP_AUTH_TEXT,
    ISAKMP_ENCRYPTION_TEXT,
    ISAKMP_HASH_TEXT,
    CryptoConfig,
    CryptoMap,
    CryptoMapEntry,
    IsakmpPolicy,
    PresharedKey,
    SaSettings,
    TransformSet,
    builtin_ipsec_profile,
    interfaces_using,
    transform_show_name,
)
from iosim.config.model import InterfaceConfig, RunningConfig

# ================================================================ running-config


def _crypto(cfg: RunningConfig) -> CryptoConfig | None:
    crypto = cfg.features.get("crypto")
    return crypto if isinstance(crypto, CryptoConfig) else None


def policy_lines(p: IsakmpPolicy) -> list[str]:
    """``crypto isakmp policy N`` and its non-default settings (IOS 15 writes ``encr``)."""
    out = [f"crypto isakmp policy {p.priority}"]
    if p.encryption != "des":
        out.append(f" encr {p.encryption}")
    if p.hash != "sha":
        out.append(f" hash {p.hash}")
    if p.authentication != "rsa-sig":
        out.append(f" authentication {p.authentication}")
    if p.group != 1:
        out.append(f" group {p.group}")
    if p.lifetime != 86400:
        out.append(f" lifetime {p.lifetime}")
    return out


def key_line(k: PresharedKey) -> str:
    """``crypto isakmp key ...``: the address padded to 15 characters, as IOS writes it."""
    words = "crypto isakmp key " + ("6 " if k.encrypted else "") + k.key
    if k.hostname is not None:
        return f"{words} hostname {k.hostname}"
    line = f"{words} address {str(k.address):<15}"
    if k.mask is not None:
        line += f" {k.mask}"
    if k.no_xauth:
        line += " no-xauth"
    return line


def _call_admission_lines(crypto: CryptoConfig) -> list[str]:
    """``crypto call admission limit ike ...``: the first crypto lines, as IOS writes them."""
    out: list[str] = []
    if crypto.cac_in_negotiation is not None:
        out.append(f"crypto call admission limit ike in-negotiation-sa {crypto.cac_in_negotiation}")
    if crypto.cac_ike_sa is not None:
        out.append(f"crypto call admission limit ike sa {crypto.cac_ike_sa}")
    return out


def _keyring_lines(crypto: CryptoConfig) -> list[str]:
    out: list[str] = []
    for ring in crypto.keyrings.values():
        out.append(f"crypto keyring {ring.name}")
        if ring.description is not None:
            out.append(f"  description {ring.description}")
        if ring.local_address is not None:
            out.append(f"  local-address {ring.local_address}")
        for k in ring.keys.values():
            key = ("6 " if k.encrypted else "") + k.key
            if k.hostname is not None:
                out.append(f"  pre-shared-key hostname {k.hostname} key {key}")
            else:
                mask = f" {k.mask}" if k.mask is not None else ""
                out.append(f"  pre-shared-key address {k.address}{mask} key {key}")
        out.append("!")
    return out


def _isakmp_global_lines(crypto: CryptoConfig) -> list[str]:
    out: list[str] = []
    if not crypto.default_policies:
        out.append("no crypto isakmp default policy")
    for p in crypto.sorted_policies():
        out.extend(policy_lines(p))
    out.extend(key_line(k) for k in crypto.keys.values())
    if crypto.keepalive is not None:
        seconds, retry, mode = crypto.keepalive
        line = f"crypto isakmp keepalive {seconds}"
        if retry is not None:
            line += f" {retry}"
        if mode is not None:
            line += f" {mode}"
        out.append(line)
    if crypto.nat_keepalive is not None:
        out.append(f"crypto isakmp nat keepalive {crypto.nat_keepalive}")
    if crypto.identity != "address":
        out.append(f"crypto isakmp identity {crypto.identity}")
    if crypto.aggressive_mode_disabled:
        out.append("crypto isakmp aggressive-mode disable")
    if crypto.invalid_spi_recovery:
        out.append("crypto isakmp invalid-spi-recovery")
    for peer in sorted(crypto.isakmp_peers.values(), key=lambda p: p.address):
        out.append(f"crypto isakmp peer address {peer.address}")
        if peer.description is not None:
            out.append(f" description {peer.description}")
        if peer.aggressive_password is not None:
            out.append(f" set aggressive-mode password {peer.aggressive_password}")
        if peer.client_endpoint is not None:
            out.append(f" set aggressive-mode client-endpoint ipv4-address {peer.client_endpoint}")
        out.append("!")
    for prof in crypto.isakmp_profiles.values():
        out.append(f"crypto isakmp profile {prof.name}")
        if prof.description is not None:
            out.append(f"   description {prof.description}")
        if prof.keyring is not None:
            out.append(f"   keyring {prof.keyring}")
        if prof.self_identity is not None:
            out.append(f"   self-identity {prof.self_identity}")
        out.extend(f"   match identity address {a} {m} " for a, m in prof.match_addresses)
        out.extend(f"   match identity host {h}" for h in prof.match_hosts)
        if prof.local_address is not None:
            out.append(f"   local-address {prof.local_address}")
        if prof.keepalive is not None:
            out.append(f"   keepalive {prof.keepalive[0]} retry {prof.keepalive[1]}")
        if prof.initiate_aggressive:
            out.append("   initiate mode aggressive")
    return out


def _settings_lines(s: SaSettings, peers: list[str]) -> list[str]:
    out: list[str] = []
    if s.description is not None:
        out.append(f" description {s.description}")
    out.extend(f" set peer {p}" for p in peers)
    if s.lifetime_seconds is not None:
        out.append(f" set security-association lifetime seconds {s.lifetime_seconds}")
    if s.lifetime_kilobytes is not None:
        out.append(f" set security-association lifetime kilobytes {s.lifetime_kilobytes}")
    if s.transform_sets:
        out.append(f" set transform-set {' '.join(s.transform_sets)} ")
    if s.pfs is not None:
        out.append(f" set pfs {s.pfs}")
    if s.isakmp_profile is not None:
        out.append(f" set isakmp-profile {s.isakmp_profile}")
    if s.ikev2_profile is not None:
        out.append(f" set ikev2-profile {s.ikev2_profile}")
    return out


def _entry_lines(entry: CryptoMapEntry) -> list[str]:
    if entry.is_dynamic_map:
        out = [f"crypto dynamic-map {entry.map_name} {entry.seq}"]
    elif entry.dynamic_template is not None:
        return [f"crypto map {entry.map_name} {entry.seq} ipsec-isakmp dynamic "
                f"{entry.dynamic_template} "]
    else:
        out = [f"crypto map {entry.map_name} {entry.seq} {entry.kind} "]
    out.extend(_settings_lines(entry, [str(p) for p in entry.peers]))
    if entry.match_acl is not None:
        out.append(f" match address {entry.match_acl}")
    if entry.reverse_route:
        out.append(" reverse-route")
    return out


def _ipsec_lines(crypto: CryptoConfig) -> list[str]:
    out: list[str] = []
    if crypto.sa_lifetime_seconds != DEFAULT_SA_SECONDS:
        out.append(f"crypto ipsec security-association lifetime seconds "
                   f"{crypto.sa_lifetime_seconds}")
    if crypto.sa_lifetime_kilobytes != DEFAULT_SA_KILOBYTES:
        out.append(f"crypto ipsec security-association lifetime kilobytes "
                   f"{crypto.sa_lifetime_kilobytes}")
    if crypto.replay_window != DEFAULT_REPLAY_WINDOW:
        out.append(f"crypto ipsec security-association replay window-size "
                   f"{crypto.replay_window}")
    if crypto.replay_disabled:
        out.append("crypto ipsec security-association replay disable")
    if out:
        out.append("!")
    for ts in crypto.transform_sets.values():
        out.append(f"crypto ipsec transform-set {ts.name} {' '.join(ts.transforms)} ")
        out.append(f" mode {ts.mode}" + (" require" if ts.require else ""))
        out.append("!")
    for prof in crypto.ipsec_profiles.values():
        out.append(f"crypto ipsec profile {prof.name}")
        out.extend(_settings_lines(prof, []))
        out.append("!")
    return out


def _map_lines(crypto: CryptoConfig) -> list[str]:
    blocks: list[list[str]] = []
    for dmap in crypto.dynamic_maps.values():
        blocks.extend(_entry_lines(e) for e in dmap.sorted_entries())
    for cmap in crypto.maps.values():
        entries = [_entry_lines(e) for e in cmap.sorted_entries()]
        if cmap.local_address is not None:
            head = [f"crypto map {cmap.name} local-address {cmap.local_address}"]
            entries = [head + entries[0], *entries[1:]] if entries else [head]
        blocks.extend(entries)
    out: list[str] = []
    for i, block in enumerate(blocks):
        if i:
            out.append("!")
        out.extend(block)
    return out


def running_config_section(cfg: RunningConfig) -> list[str]:
    """The crypto part of running-config (between the users and the interfaces)."""
    crypto = _crypto(cfg)
    if crypto is None or crypto.is_empty():
        return []
    groups = [_call_admission_lines(crypto),
              _keyring_lines(crypto) + _isakmp_global_lines(crypto), _ipsec_lines(crypto),
              _map_lines(crypto)]
    out: list[str] = []
    for group in groups:
        if not group:
            continue
        if out:
            out += ["!", "!"]
        out.extend(group)
    while out and out[-1] == "!":
        out.pop()
    return out


def interface_lines(cfg: RunningConfig, intf: InterfaceConfig) -> list[str]:
    """`` crypto map NAME`` inside an interface block."""
    name = intf.features.get("crypto_map")
    return [f" crypto map {name}"] if name else []


# ================================================================ show crypto isakmp


def _suite_lines(p: IsakmpPolicy) -> list[str]:
    return [
        f"\tencryption algorithm:\t{ISAKMP_ENCRYPTION_TEXT[p.encryption]}",
        f"\thash algorithm:\t\t{ISAKMP_HASH_TEXT[p.hash]}",
        f"\tauthentication method:\t{ISAKMP_AUTH_TEXT[p.authentication]}",
        f"\tDiffie-Hellman group:\t#{p.group} ({DH_GROUP_BITS[p.group]})",
        f"\tlifetime:\t\t{p.lifetime} seconds, no volume limit",
    ]


def show_isakmp_policy(cfg: RunningConfig) -> str:
    """``show crypto isakmp policy``."""
    crypto = _crypto(cfg) or CryptoConfig()
    out = [""]
    if crypto.policies:
        out.append("Global IKE policy")
        for p in crypto.sorted_policies():
            out.append(f"Protection suite of priority {p.priority}")
            out.extend(_suite_lines(p))
    elif crypto.default_policies:
        out.append("Default IKE policy")
        for p in DEFAULT_POLICIES:
            out.append(f"Protection suite of priority {p.priority}")
            out.extend(_suite_lines(p))
    else:
        out.append("Global IKE policy")
        out.append("Default protection suite")
        out.extend(_suite_lines(IsakmpPolicy(0)))
    return "\n".join(out) + "\n"


def show_isakmp_default_policy(cfg: RunningConfig) -> str:
    """``show crypto isakmp default policy``."""
    crypto = _crypto(cfg) or CryptoConfig()
    if not crypto.default_policies:
        return ""
    out = [""]
    for p in DEFAULT_POLICIES:
        out.append(f"Default protection suite of priority {p.priority}")
        out.extend(_suite_lines(p))
    return "\n".join(out) + "\n"


def _key_target(k: PresharedKey) -> str:
    if k.hostname is not None:
        return k.hostname
    mask = k.effective_mask
    if mask == HOST_MASK:
        return str(k.address)
    return f"{str(k.address):<15}[{str(mask):<15}]"


def show_isakmp_key(cfg: RunningConfig) -> str:
    """``show crypto isakmp key``: the default keyring, then each ``crypto keyring``."""
    crypto = _crypto(cfg) or CryptoConfig()
    rows = ["Keyring      Hostname/Address                            Preshared Key", ""]
    rings = [("default", crypto.keys)] + [(r.name, r.keys) for r in crypto.keyrings.values()]
    rows.extend(f"{ring:<13}{_key_target(k):<44}{k.key}"
                for ring, keys in rings for k in keys.values())
    return "\n".join(rows) + "\n"


# ================================================================ show crypto ipsec


def _transform_words(ts: TransformSet) -> str:
    return " ".join(transform_show_name(t) for t in ts.transforms)


def _transform_set_block(ts: TransformSet) -> str:
    return (f"Transform set {ts.name}: {{ {_transform_words(ts)}  }} \n"
            f"   will negotiate = {{ {ts.mode.capitalize()},  }}, \n")


def show_transform_set(cfg: RunningConfig, tag: str | None = None) -> str:
    """``show crypto ipsec transform-set [tag NAME]`` (the built-in ``default`` first)."""
    crypto = _crypto(cfg) or CryptoConfig()
    sets = [DEFAULT_TRANSFORM_SET, *crypto.transform_sets.values()]
    if tag is not None:
        sets = [ts for ts in sets if ts.name == tag]
    if not sets:
        return ""
    return "   \n".join(_transform_set_block(ts) for ts in sets) + "\n"


def sa_lifetime_text(kilobytes: int, seconds: int) -> str:
    return f"Security association lifetime: {kilobytes} kilobytes/{seconds} seconds"


def show_sa_lifetime(cfg: RunningConfig) -> str:
    """``show crypto ipsec security-association [lifetime]``."""
    crypto = _crypto(cfg) or CryptoConfig()
    return sa_lifetime_text(crypto.sa_lifetime_kilobytes, crypto.sa_lifetime_seconds) + "\n\n"


def set_lines(crypto: CryptoConfig, s: SaSettings) -> list[str]:
    """Lifetime, PFS and transform-set lines shared by crypto maps and IPsec profiles."""
    out = [
        "\t" + sa_lifetime_text(s.lifetime_kilobytes or crypto.sa_lifetime_kilobytes,
                                s.lifetime_seconds or crypto.sa_lifetime_seconds),
        "\tResponder-Only (Y/N): N",
    ]
    if s.pfs is not None:
        out += ["\tPFS (Y/N): Y", f"\tDH group:  {s.pfs}"]
    else:
        out.append("\tPFS (Y/N): N")
    out += ["\tMixed-mode : Disabled", "\tTransform sets={"]
    names = s.transform_sets or ["default"]
    for name in names:
        ts = DEFAULT_TRANSFORM_SET if name == "default" else crypto.transform_sets.get(name)
        if ts is not None:
            out.append(f"\t\t{ts.name}:  {{ {_transform_words(ts)}  }} ,")
    out.append("\t}")
    return out


def show_ipsec_profile(cfg: RunningConfig, name: str | None = None) -> str:
    """``show crypto ipsec profile [NAME]`` (the built-in ``default`` profile first)."""
    crypto = _crypto(cfg) or CryptoConfig()
    profiles = [builtin_ipsec_profile(), *crypto.ipsec_profiles.values()]
    if name is not None:
        profiles = [p for p in profiles if p.name == name]
    blocks = []
    for prof in profiles:
        lines = [f"IPSEC profile {prof.name}"]
        if prof.isakmp_profile is not None:
            lines.append(f"\tISAKMP Profile: {prof.isakmp_profile}")
        if prof.ikev2_profile is not None:
            lines.append(f"\tIKEv2 Profile: {prof.ikev2_profile}")
        lines += set_lines(crypto, prof)
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks) + ("\n" if blocks else "")


# ================================================================ show crypto map


def entry_incomplete(cfg: RunningConfig, entry: CryptoMapEntry) -> bool:
    """IOS's test for ``WARNING: This crypto map is in an incomplete state!``."""
    if entry.dynamic_template is not None or entry.is_dynamic_map:
        return False
    return not entry.peers or entry.match_acl is None or cfg.acl(entry.match_acl) is None


def _acl_lines(cfg: RunningConfig, entry: CryptoMapEntry) -> list[str]:
    if entry.match_acl is None:
        return ["\tNo matching address list set."]
    acl = cfg.acl(entry.match_acl)
    kind = "Standard" if acl is not None and not acl.extended else "Extended"
    out = [f"\t{kind} IP access list {entry.match_acl}"]
    if acl is not None:
        out.extend(f"\t    access-list {acl.name} {render_entry(e)}"
                   for e in acl.entries if e.action != "remark")
    return out


def _entry_block(cfg: RunningConfig, crypto: CryptoConfig, entry: CryptoMapEntry,
                 current_peer: str | None = None) -> list[str]:
    if entry.is_dynamic_map:
        out = [f'Crypto Map Template"{entry.map_name}" {entry.seq}']
    else:
        out = [f'Crypto Map IPv4 "{entry.map_name}" {entry.seq} {entry.kind}']
    if entry.description is not None:
        out.append(f"\tDescription: {entry.description}")
    if entry.dynamic_template is not None:
        out.append(f"\tDynamic map template tag: {entry.dynamic_template}")
    else:
        if entry_incomplete(cfg, entry):
            out += ["\tWARNING: This crypto map is in an incomplete state!",
                    "\t\t(missing peer or access-list definitions)"]
        out.extend(f"\tPeer = {p}" for p in entry.peers)
        if entry.isakmp_profile is not None:
            out.append(f"\tISAKMP Profile: {entry.isakmp_profile}")
        if entry.ikev2_profile is not None:
            out.append(f"\tIKEv2 Profile: {entry.ikev2_profile}")
        out += _acl_lines(cfg, entry)
        if current_peer is not None:
            out.append(f"\tCurrent peer: {current_peer}")
        out += set_lines(crypto, entry)
        if entry.reverse_route:
            out.append("\tReverse Route Injection Enabled")
    if not entry.is_dynamic_map:
        out.append(f"\tInterfaces using crypto map {entry.map_name}:")
        out.extend(f"\t\t{name}" for name in interfaces_using(cfg, entry.map_name))
    return out


def _map_blocks(cfg: RunningConfig, crypto: CryptoConfig, cmap: CryptoMap,
                current_peers: dict[tuple[str, int], str]) -> list[str]:
    blocks: list[str] = []
    if cmap.local_address is not None:
        intf = cfg.interfaces.get(cmap.local_address)
        addr = intf.address if intf is not None and intf.address is not None else None
        blocks.append(f'Crypto Map: "{cmap.name}" idb: {cmap.local_address} local address: '
                      f'{addr if addr is not None else "0.0.0.0"}\n')
    for entry in cmap.sorted_entries():
        peer = current_peers.get((cmap.name, entry.seq))
        blocks.append("\n".join(_entry_block(cfg, crypto, entry, peer)) + "\n")
    return blocks


def show_crypto_map(cfg: RunningConfig, interface: str | None = None,
                    tag: str | None = None,
                    current_peers: dict[tuple[str, int], str] | None = None) -> str:
    """``show crypto map [interface IF | tag NAME]``: one block per entry, a blank line after.

    ``current_peers`` maps (map, sequence) to the peer an SA is up with (``Current peer:``).
    """
    crypto = _crypto(cfg) or CryptoConfig()
    maps = list(crypto.maps.values())
    if interface is not None:
        intf = cfg.interfaces.get(interface)
        applied = intf.features.get("crypto_map") if intf is not None else None
        maps = [m for m in maps if m.name == applied]
    if tag is not None:
        maps = [m for m in maps if m.name == tag]
    blocks: list[str] = []
    for cmap in maps:
        blocks.extend(_map_blocks(cfg, crypto, cmap, current_peers or {}))
    return "".join(b + "\n" for b in blocks)


def show_dynamic_map(cfg: RunningConfig, tag: str | None = None) -> str:
    """``show crypto dynamic-map [tag NAME]``."""
    crypto = _crypto(cfg) or CryptoConfig()
    blocks: list[str] = []
    for dmap in crypto.dynamic_maps.values():
        if tag is not None and dmap.name != tag:
            continue
        blocks.extend("\n".join(_entry_block(cfg, crypto, e)) + "\n"
                      for e in dmap.sorted_entries())
    return "".join(b + "\n" for b in blocks)
