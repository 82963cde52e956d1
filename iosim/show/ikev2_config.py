"""Pure renderers of the IKEv2 configuration: its running-config lines and ``show crypto
ikev2 proposal|policy|profile`` (IOS 15 layouts; the references are in
``../shared/reference/ios/show-crypto-ikev2.txt``)."""

from __future__ import annotations

from iosim.config.crypto_model import CryptoConfig
from iosim.config.ikev2_model import DH_GROUP_TEXT, Ikev2Config, Ikev2Profile, Ikev2Proposal
from iosim.config.model import RunningConfig
from iosim.ike2.keys import CIPHERS, INTEGRITIES, PRFS

__all__ = ["running_config_section", "show_policy", "show_profile", "show_proposal"]


def _v2(cfg: RunningConfig) -> Ikev2Config | None:
    v2 = cfg.features.get("ikev2")
    return v2 if isinstance(v2, Ikev2Config) else None


# ================================================================ running-config


def _proposal_lines(p: Ikev2Proposal) -> list[str]:
    out = [f"crypto ikev2 proposal {p.name} "]
    if p.encryption:
        out.append(f" encryption {' '.join(p.encryption)}")
    if p.integrity:
        out.append(f" integrity {' '.join(p.integrity)}")
    if p.prf:
        out.append(f" prf {' '.join(p.prf)}")
    if p.groups:
        out.append(f" group {' '.join(map(str, p.groups))}")
    return out


def _profile_lines(p: Ikev2Profile) -> list[str]:
    out = [f"crypto ikev2 profile {p.name}"]
    if p.description is not None:
        out.append(f" description {p.description}")
    out += [f" match identity remote address {a} {m} " for a, m in p.match_addresses]
    out += [f" match identity remote fqdn {n}" for n in p.match_fqdns]
    out += [f" match identity remote email {n}" for n in p.match_emails]
    if p.local_identity is not None:
        out.append(f" identity local {p.local_identity[0]} {p.local_identity[1]}")
    if p.auth_remote is not None:
        out.append(f" authentication remote {p.auth_remote}")
    if p.auth_local is not None:
        out.append(f" authentication local {p.auth_local}")
    if p.keyring is not None:
        out.append(f" keyring local {p.keyring}")
    if p.lifetime != 86400:
        out.append(f" lifetime {p.lifetime}")
    if p.dpd is not None:
        out.append(f" dpd {p.dpd[0]} {p.dpd[1]} {p.dpd[2]}")
    if p.nat_keepalive is not None:
        out.append(f" nat keepalive {p.nat_keepalive}")
    return out


def running_config_section(cfg: RunningConfig) -> list[str]:
    """The ``crypto ikev2`` lines, before the ISAKMP ones, as IOS orders them."""
    v2 = _v2(cfg)
    if v2 is None or v2.is_empty():
        return []
    out: list[str] = []
    if v2.cookie_challenge is not None:
        out.append(f"crypto ikev2 cookie-challenge {v2.cookie_challenge}")
    if not v2.default_proposal:
        out.append("no crypto ikev2 proposal default")
    for p in v2.proposals.values():
        out += [*_proposal_lines(p), "!"]
    if not v2.default_policy:
        out.append("no crypto ikev2 policy default")
    for pol in v2.policies.values():
        out.append(f"crypto ikev2 policy {pol.name} ")
        out += [f" match fvrf {pol.fvrf}"] if pol.fvrf not in (None, "any") or (
            pol.fvrf == "any" and pol.name != "default") else []
        out += [f" match address local {a}" for a in pol.local_addresses]
        out += [f" proposal {n}" for n in pol.proposals]
        out.append("!")
    for ring in v2.keyrings.values():
        out.append(f"crypto ikev2 keyring {ring.name}")
        for peer in ring.peers.values():
            out.append(f" peer {peer.name}")
            if peer.description is not None:
                out.append(f"  description {peer.description}")
            if peer.address is not None:
                addr, mask = peer.address
                out.append(f"  address {addr}" + ("" if int(mask) == 0xFFFFFFFF
                                                  else f" {mask}"))
            if peer.identity is not None:
                out.append(f"  identity {peer.identity[0]} {peer.identity[1]}")
            if peer.psk is not None:
                out.append(f"  pre-shared-key {peer.psk}")
            if peer.psk_local is not None:
                out.append(f"  pre-shared-key local {peer.psk_local}")
            if peer.psk_remote is not None:
                out.append(f"  pre-shared-key remote {peer.psk_remote}")
            out.append(" !")
        out += ["!", "!"]
    for prof in v2.profiles.values():
        out += [*_profile_lines(prof), "!"]
    if v2.fragmentation:
        mtu = f" mtu {v2.fragmentation_mtu}" if v2.fragmentation_mtu else ""
        out += [f"crypto ikev2 fragmentation{mtu}", "!"]
    if v2.window is not None:
        out += [f"crypto ikev2 window {v2.window}", "!"]
    crypto = cfg.features.get("crypto")
    if isinstance(crypto, CryptoConfig) and not crypto.is_empty():
        out.append("!")  # the ISAKMP lines follow, after IOS's "!" pair
    return out


# ================================================================ show crypto ikev2 ...


def _proposal_block(p: Ikev2Proposal) -> list[str]:
    integ = " ".join(INTEGRITIES[i].show for i in p.integrity)
    prfs = p.prf or [i for i in p.integrity if i in PRFS]
    return [f"IKEv2 proposal: {p.name}",
            f"     Encryption : {' '.join(CIPHERS[c].show for c in p.encryption)}",
            f"     Integrity  : {integ or 'none'}",
            f"     PRF        : {' '.join(PRFS[r].show for r in prfs)}",
            f"     DH Group   : {' '.join(DH_GROUP_TEXT[g] for g in p.groups)}"]


def show_proposal(cfg: RunningConfig, name: str | None = None) -> str:
    """``show crypto ikev2 proposal [NAME]``: the default proposal first."""
    v2 = _v2(cfg) or Ikev2Config()
    out: list[str] = []
    for p in v2.all_proposals():
        if name is None or p.name == name:
            out += _proposal_block(p)
    return "".join(line + "\n" for line in out)


def show_policy(cfg: RunningConfig, name: str | None = None) -> str:
    """``show crypto ikev2 policy [NAME]``."""
    v2 = _v2(cfg) or Ikev2Config()
    out: list[str] = []
    for pol in v2.effective_policies():
        if name is not None and pol.name != name:
            continue
        local = " ".join(map(str, pol.local_addresses)) or "any"
        fvrf = "any" if pol.fvrf == "any" else "global"
        out += ["", f" IKEv2 policy : {pol.name}",
                f"      Match fvrf : {fvrf}" if pol.name == "default"
                else f"      Match fvrf  : {fvrf}",
                f"      Match address local : {local}"]
        out += [f"      Proposal    : {p}" for p in pol.proposals] or ["      Proposal    : "]
    return "".join(line + "\n" for line in out[1:]) + ("\n" if out else "")


def show_profile(cfg: RunningConfig, name: str | None = None, refs: dict[str, int] | None = None
                 ) -> str:
    """``show crypto ikev2 profile [NAME]`` (``refs``: crypto map entries naming each)."""
    v2 = _v2(cfg) or Ikev2Config()
    out: list[str] = []
    for p in v2.profiles.values():
        if name is not None and p.name != name:
            continue
        idents = [f"   address {a} {m}" for a, m in p.match_addresses]
        idents += [f"   fqdn {n}" for n in p.match_fqdns]
        idents += [f"   email {n}" for n in p.match_emails]
        local_id = (f"{p.local_identity[0]} {p.local_identity[1]}" if p.local_identity
                    else "none")
        if p.dpd is not None:
            dpd = f"interval {p.dpd[0]}, retry-interval {p.dpd[1]}, {p.dpd[2]}"
        else:
            dpd = "disabled"
        nat = f"{p.nat_keepalive} seconds" if p.nat_keepalive else "disabled"
        out += ["", f"IKEv2 profile: {p.name}", " Shutdown : No",
                f" Ref Count: {(refs or {}).get(p.name, 0)}", " Match criteria:",
                "  Fvrf: global", "  Local address/interface: none", "  Identities:",
                *(idents or ["   none"]), "  Certificate maps: none",
                f" Local identity: {local_id}", " Remote identity: none",
                f" Local authentication method: {p.auth_local or 'none'}",
                f" Remote authentication method(s): {p.auth_remote or 'none'}",
                " EAP options: none", f" Keyring: {p.keyring or 'none'}",
                " Trustpoint(s): none", f" Lifetime: {p.lifetime} seconds", f" DPD: {dpd}",
                f" NAT-keepalive: {nat}", " Ivrf: none", " Virtual-template: none",
                " AAA EAP authentication mlist: none", " AAA Accounting: none",
                " AAA group authorization: none", " AAA user authorization: none"]
    return "".join(line + "\n" for line in out)
