"""A crypto map entry against a quick-mode offer: IOS's phase-2 choices (RFC 2409 section 5.5).

Theory of operation
-------------------
``Phase2Policy`` is what one crypto map entry allows: its transform sets (each with its own
``mode``), its ``set pfs`` group and its lifetimes. Two questions are asked of it, and the
answers are IOS's, not a strict mirror of the two configurations:

* **What do we propose?** (``initiator_offer``) Every transform set, the entry's PFS group,
  and one encapsulation mode: ``mode transport`` is only a preference, used for traffic
  between the two peers themselves (the proxies are the tunnel endpoints, as for GRE over
  IPsec); for any other traffic the set proposes tunnel mode. ``mode transport require``
  proposes transport whatever the traffic.
* **What do we accept?** (``choose``) The first offered transform set we also have, when
  - its mode is one the set accepts: a ``mode tunnel`` set accepts tunnel only; a ``mode
    transport`` set accepts transport or tunnel between the peers themselves and tunnel
    otherwise; ``mode transport require`` accepts transport only, and only between the peers;
  - its PFS is acceptable: an entry without ``set pfs`` accepts the initiator's offer with or
    without PFS and then uses the group offered (IOS documents this); an entry with ``set pfs
    groupN`` requires PFS with exactly that group, so an offer without PFS, or with another
    group, is refused.
  The lifetimes need not match: the lower of each wins.

When nothing is acceptable the answer is a ``Phase2Refused`` naming why, in the terms IOS's
debug uses: the transform set, the mode (which IOS reports as a transform problem too), or
PFS. Pure functions over frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass

from iosim.ike.quick_mode import FULL_MASK, Phase2Offer, ProxyIdentity

__all__ = [
    "LocalTransformSet",
    "Phase2Policy",
    "Phase2Refused",
    "accepted_modes",
    "between_peers",
    "choose",
    "initiator_offer",
    "proposed_mode",
]

TUNNEL = "tunnel"
TRANSPORT = "transport"


@dataclass(frozen=True)
class LocalTransformSet:
    """One of our transform sets: its canonical words and its ``mode`` line."""

    words: tuple[str, ...]  # ("esp-aes 256", "esp-sha256-hmac")
    mode: str = TUNNEL  # "tunnel" | "transport"
    require: bool = False  # ``mode transport require``


@dataclass(frozen=True)
class Phase2Policy:
    """What one crypto map entry allows in quick mode."""

    transform_sets: tuple[LocalTransformSet, ...]
    pfs_group: int | None = None  # ``set pfs groupN``; None: no ``set pfs``
    lifetime_seconds: int = 3600
    lifetime_kilobytes: int = 4608000


@dataclass(frozen=True)
class Phase2Refused:
    """No offer was acceptable. ``cause`` is ``"transform"`` (no transform set in common),
    ``"mode"`` (a common set, in a mode we do not accept), ``"pfs"`` (a common set, without
    the PFS group we require) or ``"proxies"`` (no crypto map entry for the proxies)."""

    cause: str


def between_peers(proxies: ProxyIdentity, local: int, peer: int) -> bool:
    """Whether the proxies are the two tunnel endpoints themselves (host to host)."""
    return (proxies.local_mask == FULL_MASK and proxies.remote_mask == FULL_MASK
            and proxies.local_net == local and proxies.remote_net == peer)


def proposed_mode(ts: LocalTransformSet, endpoints: bool) -> str:
    """The mode a set proposes: transport only between the peers (or when required)."""
    if ts.mode == TRANSPORT and (endpoints or ts.require):
        return TRANSPORT
    return TUNNEL


def accepted_modes(ts: LocalTransformSet, endpoints: bool) -> frozenset[str]:
    """The offered modes a set accepts (see the module docstring)."""
    if ts.mode != TRANSPORT:
        return frozenset((TUNNEL,))
    if ts.require:
        return frozenset((TRANSPORT,)) if endpoints else frozenset()
    return frozenset((TRANSPORT, TUNNEL)) if endpoints else frozenset((TUNNEL,))


def initiator_offer(policy: Phase2Policy, endpoints: bool) -> Phase2Offer | None:
    """What we propose for traffic between the peers themselves (``endpoints``) or not;
    None without a transform set. One mode for the whole offer: the first set's."""
    if not policy.transform_sets:
        return None
    return Phase2Offer(tuple(ts.words for ts in policy.transform_sets),
                       proposed_mode(policy.transform_sets[0], endpoints), policy.pfs_group,
                       policy.lifetime_seconds, policy.lifetime_kilobytes)


def _pfs_ok(ours: int | None, offered: int | None) -> bool:
    return ours is None or offered == ours


def choose(policy: Phase2Policy, offers: list[Phase2Offer], endpoints: bool
           ) -> Phase2Offer | Phase2Refused:
    """Responder: the first acceptable (offer, transform set), as the answer to send -- the
    offered set, mode and PFS group, the lower lifetimes -- or why none is acceptable."""
    cause = "transform"
    for offer in offers:
        for words in offer.transform_sets:
            ours = next((ts for ts in policy.transform_sets if ts.words == words), None)
            if ours is None:
                continue
            if offer.mode not in accepted_modes(ours, endpoints):
                cause = "mode"
                continue
            if not _pfs_ok(policy.pfs_group, offer.pfs_group):
                cause = "pfs"
                continue
            return Phase2Offer((words,), offer.mode, offer.pfs_group,
                               min(policy.lifetime_seconds, offer.lifetime_seconds),
                               min(policy.lifetime_kilobytes, offer.lifetime_kilobytes))
    return Phase2Refused(cause)
