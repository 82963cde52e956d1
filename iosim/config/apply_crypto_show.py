"""The ``show crypto`` EXEC handlers and the running-config hooks of the crypto configuration.

The text itself comes from the pure renderers of :mod:`iosim.show.crypto_config`; this
module only checks the command's arguments and applies ``| filters`` and paging.
"""

from __future__ import annotations

from iosim.cli.exec_commands import _output
from iosim.cli.matcher import Match
from iosim.cli.session import Session, exec_handler
from iosim.config.crypto_model import crypto_of
from iosim.config.handlers import invalid_at
from iosim.config.render import INTERFACE_TAIL_LINES, SECTIONS
from iosim.net.packets import format_ip
from iosim.show import crypto_config as show

if show.running_config_section not in SECTIONS["before-interfaces"]:
    SECTIONS["before-interfaces"].append(show.running_config_section)
if show.interface_lines not in INTERFACE_TAIL_LINES:
    INTERFACE_TAIL_LINES.append(show.interface_lines)


@exec_handler("show_crypto_isakmp_policy")
def _show_isakmp_policy(session: Session, m: Match) -> str:
    return _output(session, m, show.show_isakmp_policy(session.router.config))


@exec_handler("show_crypto_isakmp_default_policy")
def _show_isakmp_default_policy(session: Session, m: Match) -> str:
    return _output(session, m, show.show_isakmp_default_policy(session.router.config))


@exec_handler("show_crypto_isakmp_key")
def _show_isakmp_key(session: Session, m: Match) -> str:
    return _output(session, m, show.show_isakmp_key(session.router.config))


@exec_handler("show_crypto_ipsec_transform_set")
def _show_transform_set(session: Session, m: Match) -> str:
    return _output(session, m, show.show_transform_set(session.router.config,
                                                       m.get("SCRY_TS_NAME")))


@exec_handler("show_crypto_ipsec_sa_lifetime")
def _show_sa_lifetime(session: Session, m: Match) -> str:
    return _output(session, m, show.show_sa_lifetime(session.router.config))


@exec_handler("show_crypto_ipsec_profile")
def _show_ipsec_profile(session: Session, m: Match) -> str:
    return _output(session, m, show.show_ipsec_profile(session.router.config,
                                                       m.get("SCRY_PROFILE_NAME")))


@exec_handler("show_crypto_map")
def _show_crypto_map(session: Session, m: Match) -> str:
    cfg = session.router.config
    interface = m.get("SCRY_MAP_IF")
    if interface is not None and interface not in cfg.interfaces:
        raise invalid_at(m, "SCRY_MAP_IF")
    plane = session.router.crypto_plane
    bundles = getattr(getattr(plane, "sad", None), "bundles", [])
    peers = {(b.map_name, b.map_seq): format_ip(b.peer) for b in bundles}
    tag = m.get("SCRY_MAP_NAME")
    text = show.show_crypto_map(cfg, interface, tag, peers)
    # imported here: the tunnel data plane is not needed to apply or render a config, and
    # importing it (and the IKE engines it drives) is a fifth of a cold config replay
    from iosim.ipsec.tunnel_protection import head_maps
    from iosim.show.crypto_tunnels import show_tunnel_maps

    heads = head_maps(session.router)
    if heads:  # the maps protected tunnels make, after the configured ones
        text += show_tunnel_maps(crypto_of(cfg), heads, interface, tag, peers)
    return _output(session, m, text)


@exec_handler("show_crypto_dynamic_map")
def _show_dynamic_map(session: Session, m: Match) -> str:
    return _output(session, m, show.show_dynamic_map(session.router.config,
                                                     m.get("SCRY_DMAP_NAME")))
