"""Pure renderer of the crypto maps that protected tunnels make, as ``show crypto map`` lists
them after the configured maps: ``Crypto Map: "Tunnel0-head-0" idb: ...``, the profile's
entry 65536, and the profile instance 65537 with its generated access list (``permit gre
host SOURCE host DESTINATION`` for GRE, ``permit ip any any`` for a VTI), the peer, and the
tunnel as the interface using it; the IPsec profile's ISAKMP or IKEv2 profile in both
entries. Lines are TAB-indented, as the other crypto map blocks.
"""

from __future__ import annotations

from iosim.config.crypto_model import CryptoConfig
from iosim.ipsec.tunnel_protection import HEAD_SEQ, INSTANCE_SEQ, HeadMap
from iosim.net.packets import format_ip
from iosim.show.crypto_config import set_lines

__all__ = ["show_tunnel_maps"]


def _access_list(head: HeadMap) -> str:
    if head.vti or head.local is None or head.peer is None:
        return "\t    access-list  permit ip any any"
    return (f"\t    access-list  permit gre host {format_ip(head.local)} "
            f"host {format_ip(head.peer)}")


def _ike_profile_lines(head: HeadMap) -> list[str]:
    """The ISAKMP or IKEv2 profile the IPsec profile names, as a crypto map entry's."""
    profile = head.profile
    out = []
    if profile.isakmp_profile is not None:
        out.append(f"\tISAKMP Profile: {profile.isakmp_profile}")
    if profile.ikev2_profile is not None:
        out.append(f"\tIKEv2 Profile: {profile.ikev2_profile}")
    return out


def _blocks(crypto: CryptoConfig, head: HeadMap, current_peer: str | None) -> list[str]:
    profile = head.profile
    local = format_ip(head.local) if head.local is not None else "0.0.0.0"
    idb = head.source_interface or "(none)"
    blocks = [f'Crypto Map: "{head.name}" idb: {idb} local address: {local}\n']
    template = [f'Crypto Map IPv4 "{head.name}" {HEAD_SEQ} ipsec-isakmp',
                f"\tProfile name: {profile.name}"]
    template += _ike_profile_lines(head)
    blocks.append("\n".join(template + set_lines(crypto, profile)) + "\n")
    if head.peer is None:
        return blocks
    instance = [f'Crypto Map IPv4 "{head.name}" {INSTANCE_SEQ} ipsec-isakmp',
                "\tMap is a PROFILE INSTANCE.", f"\tPeer = {format_ip(head.peer)}"]
    instance += _ike_profile_lines(head)
    instance += ["\tExtended IP access list ", _access_list(head)]
    if current_peer is not None:
        instance.append(f"\tCurrent peer: {current_peer}")
    instance += set_lines(crypto, profile)
    instance += [f"\tInterfaces using crypto map {head.name}:", f"\t\t{head.tunnel}"]
    blocks.append("\n".join(instance) + "\n")
    return blocks


def show_tunnel_maps(crypto: CryptoConfig, heads: list[HeadMap], interface: str | None = None,
                     tag: str | None = None,
                     current_peers: dict[tuple[str, int], str] | None = None) -> str:
    """The head maps of the protected tunnels (only those of ``interface`` or named ``tag``
    when given), each block followed by a blank line as ``show crypto map`` prints them."""
    blocks: list[str] = []
    for head in heads:
        if interface is not None and head.tunnel != interface:
            continue
        if tag is not None and head.name != tag:
            continue
        peer = (current_peers or {}).get((head.name, INSTANCE_SEQ))
        blocks.extend(_blocks(crypto, head, peer))
    return "".join(b + "\n" for b in blocks)
