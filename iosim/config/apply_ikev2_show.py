"""``show crypto ikev2 ...`` and ``clear crypto ikev2 sa``, and the running-config hook of
the IKEv2 configuration. The text comes from the pure renderers of
:mod:`iosim.show.ikev2_config` and :mod:`iosim.show.ikev2_runtime`."""

from __future__ import annotations

from iosim.cli.errors import CommandRejected
from iosim.cli.exec_commands import _output
from iosim.cli.matcher import Match
from iosim.cli.session import Session, exec_handler
from iosim.config.crypto_model import SaSettings, crypto_of
from iosim.config.render import SECTIONS
from iosim.net.packets import ip_to_int
from iosim.show import crypto_config, ikev2_config, ikev2_runtime
from iosim.show.ikev2_runtime import Ikev2SaView

_CRYPTO = SECTIONS["before-interfaces"]
if ikev2_config.running_config_section not in _CRYPTO:
    # IOS writes the crypto ikev2 lines before the ISAKMP ones
    at = (_CRYPTO.index(crypto_config.running_config_section)
          if crypto_config.running_config_section in _CRYPTO else len(_CRYPTO))
    _CRYPTO.insert(at, ikev2_config.running_config_section)


def _plane(session: Session) -> object:
    plane = session.router.crypto_plane
    if plane is None or not hasattr(plane, "ikev2"):
        raise CommandRejected("% This router is not connected to a lab network")
    return plane


def _refs(session: Session) -> dict[str, int]:
    """How many crypto map entries and IPsec profiles name each IKEv2 profile."""
    crypto = crypto_of(session.router.config)
    refs: dict[str, int] = {}
    settings: list[SaSettings] = [e for m in crypto.maps.values() for e in m.entries.values()]
    settings += list(crypto.ipsec_profiles.values())
    for s in settings:
        if s.ikev2_profile is not None:
            refs[s.ikev2_profile] = refs.get(s.ikev2_profile, 0) + 1
    return refs


@exec_handler("show_crypto_ikev2")
def _show_ikev2(session: Session, m: Match) -> str:
    cfg = session.router.config
    if m.has("SV2_PROPOSAL"):
        return _output(session, m, ikev2_config.show_proposal(cfg, m.get("SV2_PROPOSAL_NAME")))
    if m.has("SV2_POLICY"):
        return _output(session, m, ikev2_config.show_policy(cfg, m.get("SV2_POLICY_NAME")))
    if m.has("SV2_PROFILE"):
        return _output(session, m, ikev2_config.show_profile(cfg, m.get("SV2_PROFILE_NAME"),
                                                             _refs(session)))
    glue = _plane(session).ikev2  # type: ignore[attr-defined]
    if m.has("SV2_STATS"):
        return _output(session, m, ikev2_runtime.show_ikev2_stats(glue.stats()))
    detail = m.has("SV2_DETAIL")
    if m.has("SV2_SESSION"):
        return _output(session, m, ikev2_runtime.show_ikev2_session(glue.views(), detail))
    views: list[Ikev2SaView] = glue.views()
    if m.has("SV2_FVRF"):
        # iosim routes in the global table only and knows no VRF by name: every SA is in
        # the global table (fvrf "none"), so no SA is in the named front-door VRF
        return _output(session, m, ikev2_runtime.show_ikev2_sa_matching([], detail))
    local, remote = m.get("SV2_LOCAL_ADDR"), m.get("SV2_REMOTE_ADDR")
    if local is not None or remote is not None:
        want_local = ip_to_int(local) if local is not None else None
        want_remote = ip_to_int(remote) if remote is not None else None
        kept = [v for v in views
                if want_local in (None, v.local) and want_remote in (None, v.remote)]
        return _output(session, m, ikev2_runtime.show_ikev2_sa_matching(kept, detail))
    return _output(session, m, ikev2_runtime.show_ikev2_sa(views, detail))


@exec_handler("exec_clear_crypto_ikev2")
def _clear_ikev2(session: Session, m: Match) -> str:
    peer, local = m.get("CLV2_REMOTE_ADDR"), m.get("CLV2_LOCAL_ADDR")
    _plane(session).ikev2.clear(  # type: ignore[attr-defined]
        ip_to_int(peer) if peer else None, ip_to_int(local) if local else None)
    return ""
