"""Handlers of the IKEv2 configuration: ``crypto ikev2 proposal|policy|keyring|profile``,
their sub-modes, ``crypto ikev2 cookie-challenge|fragmentation|window`` and
``set ikev2-profile``.

Every handler validates first and changes the model last. Several values per line add to
what a proposal has (``encryption aes-cbc-256 aes-cbc-128``, then ``encryption 3des`` adds
3DES), as IOS does; ``no encryption X`` removes X, ``no encryption`` all of them. Leaving an
incomplete proposal with ``exit`` prints IOS's warning, as does leaving a profile that
lacks an authentication method, a match or a keyring.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import iosim.config.apply_ikev2_show  # noqa: F401  (show crypto ikev2 ..., running-config)
from iosim.cli.errors import CommandRejected
from iosim.cli.lines import truncate_bytes
from iosim.cli.matcher import Match
from iosim.cli.modes import Mode, register
from iosim.config.crypto_model import SaSettings
from iosim.config.handlers import ApplyContext, Enter, handles, invalid_at
from iosim.config.ikev2_model import (
    INCOMPLETE_PROPOSAL,
    MAX_WINDOW,
    WINDOW_SIZE,
    Ikev2Config,
    Ikev2Keyring,
    Ikev2KeyringPeer,
    Ikev2Policy,
    Ikev2Profile,
    Ikev2Proposal,
    ikev2_of,
)

for _mode in (
    Mode("ikev2_proposal", "ikev2_proposal_line", "(config-ikev2-proposal)#", "config"),
    Mode("ikev2_policy", "ikev2_policy_line", "(config-ikev2-policy)#", "config"),
    Mode("ikev2_keyring", "ikev2_keyring_line", "(config-ikev2-keyring)#", "config"),
    Mode("ikev2_keyring_peer", "ikev2_keyring_peer_line", "(config-ikev2-keyring-peer)#",
         "ikev2_keyring"),
    Mode("ikev2_profile", "ikev2_profile_line", "(config-ikev2-profile)#", "config"),
):
    register(_mode)

_CIPHERS = {"V2P_3DES", "V2P_AES_CBC_128", "V2P_AES_CBC_192", "V2P_AES_CBC_256",
            "V2P_AES_GCM_128", "V2P_AES_GCM_256"}
_HASHES = {"V2P_MD5", "V2P_SHA1", "V2P_SHA256", "V2P_SHA384", "V2P_SHA512"}
_GROUPS = {"V2P_G1", "V2P_G2", "V2P_G5", "V2P_G14", "V2P_G15", "V2P_G16", "V2P_G19",
           "V2P_G20", "V2P_G21", "V2P_G24"}


def _v2(ctx: ApplyContext) -> Ikev2Config:
    return ikev2_of(ctx.config)


def _changed(ctx: ApplyContext) -> None:
    ctx.router.config_changed("crypto")


def _words(m: Match, terminals: set[str]) -> list[str]:
    return [a.value for a in m.args if a.terminal in terminals]


# ================================================================ proposals


@handles("cv2_proposal")
def _proposal(ctx: ApplyContext, m: Match) -> Enter:
    name = m.get("CV2_PROPOSAL_NAME") or ""
    v2 = _v2(ctx)
    if name not in v2.proposals:
        if name == "default":  # back in force, to be changed
            v2.default_proposal = True
            fresh = v2.proposal("default")
            assert fresh is not None
            v2.proposals[name] = Ikev2Proposal(name, list(fresh.encryption),
                                               list(fresh.integrity), list(fresh.prf),
                                               list(fresh.groups))
        else:
            v2.proposals[name] = Ikev2Proposal(name)
        _changed(ctx)
    return Enter("ikev2_proposal", name)


#: IOS's answer to ``no crypto ikev2 proposal`` while a policy lists the proposal
PROPOSAL_IN_USE = "% Cannot remove as proposal is in use."


@handles("cv2_no_proposal")
def _no_proposal(ctx: ApplyContext, m: Match) -> None:
    name = m.get("CV2_PROPOSAL_NAME") or ""
    v2 = _v2(ctx)
    if any(name in policy.proposals for policy in v2.policies.values()):
        raise CommandRejected(PROPOSAL_IN_USE)  # a policy naming nothing would be left
    v2.proposals.pop(name, None)
    if name == "default":
        v2.default_proposal = False
    _changed(ctx)


def _proposal_target(ctx: ApplyContext) -> Ikev2Proposal:
    return _v2(ctx).proposals.setdefault(str(ctx.target), Ikev2Proposal(str(ctx.target)))


def _add(values: list, new: list) -> list:  # type: ignore[type-arg]
    return values + [v for v in new if v not in values]


@handles("v2p_encryption")
def _encryption(ctx: ApplyContext, m: Match) -> None:
    p = _proposal_target(ctx)
    p.encryption = _add(p.encryption, _words(m, _CIPHERS))
    _changed(ctx)


@handles("v2p_integrity")
def _integrity(ctx: ApplyContext, m: Match) -> None:
    p = _proposal_target(ctx)
    p.integrity = _add(p.integrity, _words(m, _HASHES))
    _changed(ctx)


@handles("v2p_prf")
def _prf(ctx: ApplyContext, m: Match) -> None:
    p = _proposal_target(ctx)
    p.prf = _add(p.prf, _words(m, _HASHES))
    _changed(ctx)


@handles("v2p_group")
def _group(ctx: ApplyContext, m: Match) -> None:
    p = _proposal_target(ctx)
    p.groups = _add(p.groups, [int(g) for g in _words(m, _GROUPS)])
    _changed(ctx)


@handles("v2p_no")
def _proposal_no(ctx: ApplyContext, m: Match) -> None:
    p = _proposal_target(ctx)
    for terminal, attr, pool in (("V2P_ENCRYPTION", "encryption", _CIPHERS),
                                 ("V2P_INTEGRITY", "integrity", _HASHES),
                                 ("V2P_PRF", "prf", _HASHES), ("V2P_GROUP", "groups", _GROUPS)):
        if not m.has(terminal):
            continue
        gone = _words(m, pool)
        values = [int(g) for g in gone] if attr == "groups" else gone
        setattr(p, attr, [v for v in getattr(p, attr) if values and v not in values])
    _changed(ctx)


@handles("v2p_exit")
def _proposal_exit(ctx: ApplyContext, m: Match) -> Enter:
    if not _proposal_target(ctx).complete():
        ctx.say(INCOMPLETE_PROPOSAL)
    return Enter("config")


# ================================================================ policies


@handles("cv2_policy")
def _policy(ctx: ApplyContext, m: Match) -> Enter:
    name = m.get("CV2_POLICY_NAME") or ""
    v2 = _v2(ctx)
    if name == "default":
        v2.default_policy = True
    if name not in v2.policies:
        v2.policies[name] = Ikev2Policy(name, ["default"] if name == "default" else [],
                                        fvrf="any" if name == "default" else None)
        _changed(ctx)
    return Enter("ikev2_policy", name)


@handles("cv2_no_policy")
def _no_policy(ctx: ApplyContext, m: Match) -> None:
    name = m.get("CV2_POLICY_NAME") or ""
    v2 = _v2(ctx)
    v2.policies.pop(name, None)
    if name == "default":
        v2.default_policy = False
    _changed(ctx)


def _policy_target(ctx: ApplyContext) -> Ikev2Policy:
    return _v2(ctx).policies.setdefault(str(ctx.target), Ikev2Policy(str(ctx.target)))


@handles("v2pol_proposal")
def _policy_proposal(ctx: ApplyContext, m: Match) -> None:
    name = m.get("V2POL_PROPOSAL_NAME") or ""
    if _v2(ctx).proposal(name) is None:
        raise CommandRejected(f"% No Proposal exists with the specified name {name}")
    policy = _policy_target(ctx)
    policy.proposals = _add(policy.proposals, [name])
    _changed(ctx)


@handles("v2pol_match")
def _policy_match(ctx: ApplyContext, m: Match) -> None:
    policy = _policy_target(ctx)
    if m.has("V2POL_ADDRESS"):
        policy.local_addresses = _add(policy.local_addresses, [m.ipv4("V2POL_LOCAL_ADDR")])
    else:
        policy.fvrf = "any" if m.has("V2POL_ANY") else m.get("V2POL_FVRF_NAME")
    _changed(ctx)


@handles("v2pol_no")
def _policy_no(ctx: ApplyContext, m: Match) -> None:
    policy = _policy_target(ctx)
    if m.has("V2POL_PROPOSAL"):
        name = m.get("V2POL_PROPOSAL_NAME")
        policy.proposals = [p for p in policy.proposals if name is not None and p != name]
    elif m.has("V2POL_ADDRESS") or not m.has("V2POL_FVRF"):
        addr = m.get("V2POL_LOCAL_ADDR")
        policy.local_addresses = [a for a in policy.local_addresses
                                  if addr is not None and a != IPv4Address(addr)]
    if m.has("V2POL_FVRF") or not (m.has("V2POL_PROPOSAL") or m.has("V2POL_ADDRESS")):
        if not m.has("V2POL_PROPOSAL"):
            policy.fvrf = None
    _changed(ctx)


@handles("v2pol_exit", "v2kr_exit", "v2pf_exit")
def _exit(ctx: ApplyContext, m: Match) -> Enter:
    if m.command == "v2pf_exit":
        profile = _v2(ctx).profiles.get(str(ctx.target))
        if profile is not None:
            for what in profile.missing():
                ctx.say(f"% IKEv2 profile {profile.name}: {what} not configured")
    return Enter("config")


# ================================================================ keyrings


@handles("cv2_keyring")
def _keyring(ctx: ApplyContext, m: Match) -> Enter:
    name = m.get("CV2_KEYRING_NAME") or ""
    v2 = _v2(ctx)
    if name not in v2.keyrings:
        v2.keyrings[name] = Ikev2Keyring(name)
        _changed(ctx)
    return Enter("ikev2_keyring", name)


@handles("cv2_no_keyring")
def _no_keyring(ctx: ApplyContext, m: Match) -> None:
    """``no crypto ikev2 keyring``, refused while a profile's ``keyring local`` names it, as
    an in-use proposal or profile is."""
    v2, name = _v2(ctx), m.get("CV2_KEYRING_NAME") or ""
    users = [p.name for p in v2.profiles.values() if p.keyring == name]
    if name in v2.keyrings and users:
        raise CommandRejected(
            f"% Cannot remove as keyring is in use by crypto ikev2 profile {users[0]}.")
    if v2.keyrings.pop(name, None) is not None:
        _changed(ctx)


def _keyring_target(ctx: ApplyContext) -> Ikev2Keyring:
    name = str(ctx.target if not isinstance(ctx.target, tuple) else ctx.target[0])
    return _v2(ctx).keyrings.setdefault(name, Ikev2Keyring(name))


@handles("v2kr_peer")
def _keyring_peer(ctx: ApplyContext, m: Match) -> Enter:
    ring = _keyring_target(ctx)
    name = m.get("V2KR_PEER_NAME") or ""
    if name not in ring.peers:
        ring.peers[name] = Ikev2KeyringPeer(name)
        _changed(ctx)
    return Enter("ikev2_keyring_peer", (ring.name, name))


@handles("v2kr_no_peer")
def _keyring_no_peer(ctx: ApplyContext, m: Match) -> None:
    _keyring_target(ctx).peers.pop(m.get("V2KR_PEER_NAME") or "", None)
    _changed(ctx)


def _peer_target(ctx: ApplyContext) -> Ikev2KeyringPeer:
    ring_name, peer_name = ctx.target
    ring = _v2(ctx).keyrings.setdefault(ring_name, Ikev2Keyring(ring_name))
    return ring.peers.setdefault(peer_name, Ikev2KeyringPeer(peer_name))


@handles("v2kp_address")
def _peer_address(ctx: ApplyContext, m: Match) -> None:
    mask = m.ipv4("V2KP_MASK", "255.255.255.255")
    inverted = ~int(mask) & 0xFFFFFFFF
    if inverted & (inverted + 1):
        raise invalid_at(m, "V2KP_MASK")
    _peer_target(ctx).address = (m.ipv4("V2KP_ADDR"), mask)
    _changed(ctx)


@handles("v2kp_identity")
def _peer_identity(ctx: ApplyContext, m: Match) -> None:
    if m.has("V2KP_ID_ADDRESS"):
        ident = ("address", str(m.ipv4("V2KP_ID_ADDR")))
    else:
        ident = ("fqdn" if m.has("V2KP_ID_FQDN") else "email", m.get("V2KP_ID_NAME") or "")
    _peer_target(ctx).identity = ident
    _changed(ctx)


def _key_text(m: Match) -> str:
    arg = m.arg("V2KP_KEY")
    assert arg is not None
    for i, ch in enumerate(arg.value):
        if "\udc80" <= ch <= "\udcff":
            from iosim.cli.errors import InvalidInput

            raise InvalidInput(arg.col + i)
    return arg.value


@handles("v2kp_psk")
def _peer_psk(ctx: ApplyContext, m: Match) -> None:
    key = _key_text(m)
    peer = _peer_target(ctx)
    if m.has("V2KP_LOCAL"):
        peer.psk_local = key
    elif m.has("V2KP_REMOTE"):
        peer.psk_remote = key
    else:  # one key for both directions: it replaces a local or remote key typed before
        peer.psk, peer.psk_local, peer.psk_remote = key, None, None
    _changed(ctx)


@handles("v2kp_description")
def _peer_description(ctx: ApplyContext, m: Match) -> None:
    _peer_target(ctx).description = truncate_bytes(m.get("V2KP_DESCRIPTION_TEXT") or "", 80)
    _changed(ctx)


@handles("v2kp_no")
def _peer_no(ctx: ApplyContext, m: Match) -> None:
    peer = _peer_target(ctx)
    if m.has("V2KP_ADDRESS"):
        peer.address = None
    elif m.has("V2KP_IDENTITY"):
        peer.identity = None
    elif m.has("V2KP_DESCRIPTION"):
        peer.description = None
    elif m.has("V2KP_LOCAL"):
        peer.psk_local = None
    elif m.has("V2KP_REMOTE"):
        peer.psk_remote = None
    else:
        peer.psk = peer.psk_local = peer.psk_remote = None
    _changed(ctx)


@handles("v2kp_exit")
def _peer_exit(ctx: ApplyContext, m: Match) -> Enter:
    return Enter("ikev2_keyring", ctx.target[0])


# ================================================================ profiles


@handles("cv2_profile")
def _profile(ctx: ApplyContext, m: Match) -> Enter:
    name = m.get("CV2_PROFILE_NAME") or ""
    v2 = _v2(ctx)
    if name not in v2.profiles:
        v2.profiles[name] = Ikev2Profile(name)
        _changed(ctx)
    return Enter("ikev2_profile", name)


def _profile_user(ctx: ApplyContext, name: str) -> str | None:
    """What uses IKEv2 profile ``name`` (``set ikev2-profile``), the first found: ``crypto
    map M 10``, ``crypto dynamic-map D 10`` or ``ipsec profile P``; None when nothing does."""
    from iosim.config.crypto_model import CryptoMapEntry, IpsecProfile, crypto_of

    crypto = crypto_of(ctx.config)
    users: list[CryptoMapEntry | IpsecProfile] = list(crypto.ipsec_profiles.values())
    for maps in (crypto.maps, crypto.dynamic_maps):
        for cmap in maps.values():
            users.extend(cmap.entries.values())
    for user in users:
        if user.ikev2_profile != name:
            continue
        if isinstance(user, IpsecProfile):
            return f"ipsec profile {user.name}"
        kind = "dynamic-map" if user.is_dynamic_map else "map"
        return f"crypto {kind} {user.map_name} {user.seq}"
    return None


@handles("cv2_no_profile")
def _no_profile(ctx: ApplyContext, m: Match) -> None:
    """Refused while a crypto map entry or an IPsec profile uses it, as IOS refuses to remove
    a proposal a policy uses: the map would otherwise fall back to IKEv1 unannounced."""
    name = m.get("CV2_PROFILE_NAME") or ""
    v2 = _v2(ctx)
    if name not in v2.profiles:
        return
    user = _profile_user(ctx, name)
    if user is not None:
        raise CommandRejected(f"% Cannot remove as profile is in use by {user}.")
    del v2.profiles[name]
    _changed(ctx)


def _profile_target(ctx: ApplyContext) -> Ikev2Profile:
    return _v2(ctx).profiles.setdefault(str(ctx.target), Ikev2Profile(str(ctx.target)))


def _remote_identity(m: Match) -> tuple[str, object]:
    if m.has("V2PF_ADDRESS"):
        return "address", (m.ipv4("V2PF_ADDR"), m.ipv4("V2PF_MASK", "255.255.255.255"))
    return ("fqdn" if m.has("V2PF_FQDN") else "email"), m.get("V2PF_NAME") or ""


@handles("v2pf_match")
def _profile_match(ctx: ApplyContext, m: Match) -> None:
    profile = _profile_target(ctx)
    kind, value = _remote_identity(m)
    if kind == "address":
        assert isinstance(value, tuple)
        profile.match_addresses = _add(profile.match_addresses, [value])
    elif kind == "fqdn":
        profile.match_fqdns = _add(profile.match_fqdns, [value])
    else:
        profile.match_emails = _add(profile.match_emails, [value])
    _changed(ctx)


@handles("v2pf_identity")
def _profile_identity(ctx: ApplyContext, m: Match) -> None:
    if m.has("V2PF_ADDRESS"):
        ident = ("address", str(m.ipv4("V2PF_ADDR")))
    else:
        ident = ("fqdn" if m.has("V2PF_FQDN") else "email", m.get("V2PF_NAME") or "")
    _profile_target(ctx).local_identity = ident
    _changed(ctx)


@handles("v2pf_auth")
def _profile_auth(ctx: ApplyContext, m: Match) -> None:
    profile = _profile_target(ctx)
    if m.has("V2PF_LOCAL"):
        profile.auth_local = "pre-share"
    else:
        profile.auth_remote = "pre-share"
    _changed(ctx)


@handles("v2pf_keyring")
def _profile_keyring(ctx: ApplyContext, m: Match) -> None:
    _profile_target(ctx).keyring = m.get("V2PF_KR_NAME")
    _changed(ctx)


@handles("v2pf_lifetime")
def _profile_lifetime(ctx: ApplyContext, m: Match) -> None:
    seconds = int(m.get("V2PF_LIFETIME_N") or 86400)
    if not 120 <= seconds <= 86400:
        raise invalid_at(m, "V2PF_LIFETIME_N")
    _profile_target(ctx).lifetime = seconds
    _changed(ctx)


@handles("v2pf_dpd")
def _profile_dpd(ctx: ApplyContext, m: Match) -> None:
    interval = int(m.get("V2PF_DPD_INTERVAL") or 0)
    retry = int(m.get("V2PF_DPD_RETRY") or 0)
    if not 10 <= interval <= 3600:
        raise invalid_at(m, "V2PF_DPD_INTERVAL")
    if not 2 <= retry <= 60:
        raise invalid_at(m, "V2PF_DPD_RETRY")
    _profile_target(ctx).dpd = (interval, retry,
                                "periodic" if m.has("V2PF_PERIODIC") else "on-demand")
    _changed(ctx)


@handles("v2pf_nat")
def _profile_nat(ctx: ApplyContext, m: Match) -> None:
    _profile_target(ctx).nat_keepalive = int(m.get("V2PF_NAT_SECONDS") or 0)
    _changed(ctx)


@handles("v2pf_description")
def _profile_description(ctx: ApplyContext, m: Match) -> None:
    _profile_target(ctx).description = truncate_bytes(m.get("V2PF_DESCRIPTION_TEXT") or "", 80)
    _changed(ctx)


@handles("v2pf_no")
def _profile_no(ctx: ApplyContext, m: Match) -> None:
    p = _profile_target(ctx)
    if m.has("V2PF_MATCH"):
        if not m.has("V2PF_REMOTE"):
            p.match_addresses, p.match_fqdns, p.match_emails = [], [], []
        else:
            kind, value = _remote_identity(m)
            if kind == "address":
                p.match_addresses = [a for a in p.match_addresses if a != value]
            elif kind == "fqdn":
                p.match_fqdns = [a for a in p.match_fqdns if a != value]
            else:
                p.match_emails = [a for a in p.match_emails if a != value]
    elif m.has("V2PF_AUTHENTICATION"):
        if not m.has("V2PF_REMOTE"):
            p.auth_local = None
        if not m.has("V2PF_LOCAL"):
            p.auth_remote = None
    elif m.has("V2PF_IDENTITY"):
        p.local_identity = None
    elif m.has("V2PF_KEYRING"):
        p.keyring = None
    elif m.has("V2PF_LIFETIME"):
        p.lifetime = 86400
    elif m.has("V2PF_DPD"):
        p.dpd = None
    elif m.has("V2PF_NAT"):
        p.nat_keepalive = None
    elif m.has("V2PF_DESCRIPTION"):
        p.description = None
    _changed(ctx)


# ================================================================ globals


@handles("cv2_cookie", "cv2_no_cookie")
def _cookie(ctx: ApplyContext, m: Match) -> None:
    value = m.get("CV2_COOKIE_N")
    if m.command == "cv2_cookie":
        assert value is not None
        if not 1 <= int(value) <= 1000:
            raise invalid_at(m, "CV2_COOKIE_N")
    _v2(ctx).cookie_challenge = None if m.command == "cv2_no_cookie" else int(value or 0)
    _changed(ctx)


@handles("cv2_fragmentation", "cv2_no_fragmentation")
def _fragmentation(ctx: ApplyContext, m: Match) -> None:
    v2 = _v2(ctx)
    mtu = m.get("CV2_FRAG_MTU_N")
    if m.command == "cv2_fragmentation":
        if mtu is not None and not 68 <= int(mtu) <= 1500:
            raise invalid_at(m, "CV2_FRAG_MTU_N")
        v2.fragmentation, v2.fragmentation_mtu = True, int(mtu) if mtu else None
    elif m.has("CV2_FRAG_MTU"):
        v2.fragmentation_mtu = None
    else:
        v2.fragmentation, v2.fragmentation_mtu = False, None
    _changed(ctx)


@handles("cv2_window", "cv2_no_window")
def _window(ctx: ApplyContext, m: Match) -> None:
    """``crypto ikev2 window <1-20>``: the requests the peer may have in flight on a new IKE
    SA (announced with N(SET_WINDOW_SIZE)); the default, 5, is kept as no setting."""
    value = m.get("CV2_WINDOW_N")
    size = None
    if m.command == "cv2_window":
        assert value is not None
        if not 1 <= int(value) <= MAX_WINDOW:
            raise invalid_at(m, "CV2_WINDOW_N")
        size = None if int(value) == WINDOW_SIZE else int(value)
    _v2(ctx).window = size
    _changed(ctx)


# ================================================================ set ikev2-profile


@handles("cset_ikev2_profile")
def _set_profile(ctx: ApplyContext, m: Match) -> None:
    name = m.get("CSET_IKEV2_PROFILE_NAME") or ""
    if name not in _v2(ctx).profiles:
        raise CommandRejected(f"% IKEv2 profile {name} does not exist")
    assert isinstance(ctx.target, SaSettings)
    ctx.target.ikev2_profile = name
    _changed(ctx)


@handles("cset_no_ikev2_profile")
def _no_set_profile(ctx: ApplyContext, m: Match) -> None:
    assert isinstance(ctx.target, SaSettings)
    ctx.target.ikev2_profile = None
    _changed(ctx)
