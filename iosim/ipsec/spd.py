"""The Security Policy Database of one router, read from its running-config every time.

Theory of operation
-------------------
IOS keeps no SPD apart from the configuration: the crypto map applied to an interface *is*
the policy. ``Spd`` therefore derives everything from the running-config when asked, so a
change applies at once:

* :meth:`Spd.entries` -- the usable entries of an interface's crypto map in sequence order
  (complete static entries; a ``dynamic`` entry expanded into its dynamic map's entries);
* :func:`proxies_of` -- the proxy identities an ACL ``permit`` line stands for (what IOS sends
  in IDci/IDcr);
* :meth:`Spd.policy` / :meth:`Spd.offer` -- what an entry allows in phase 2 (transform sets
  with their modes, PFS, lifetimes), and what we propose for given proxies (IOS's choices,
  :mod:`iosim.ike.phase2_policy`: ``mode transport`` only between the peers themselves);
* :meth:`Spd.select` -- as responder, the entry and the offer our map accepts for a peer's
  proxies: a static entry whose ACL has a line the proposed proxies lie within (not only
  its exact mirror: the SA is then made for the narrower proxies proposed), an offer its
  transform sets, modes and PFS accept (no ``set pfs`` accepts the initiator's PFS group);
  ``debug crypto ipsec|isakmp`` say why one is refused;
* ``intents`` -- for each (peer, proxies) being negotiated, the entry the pair will belong to
  and whether we initiated it (the initiator renews it before it expires);
* :meth:`Spd.owners` -- whether the configuration still asks for an installed pair: when its
  entry, peer, ACL line or protected tunnel goes, so does the pair.

Tunnel protection (``tunnel protection ipsec profile``) adds entries of its own
(``tunnel_entries``, from :mod:`iosim.ipsec.tunnel_protection`): one per protected tunnel,
with a fixed local address (the tunnel's source) and fixed proxies (the GRE endpoints, or
any to any for a VTI) instead of an ACL. The responder tries them after the crypto maps, and
accepts only exactly those proxies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from iosim.config.crypto_model import (
    DEFAULT_TRANSFORM_SET,
    CryptoConfig,
    CryptoMapEntry,
    IsakmpPolicy,
    crypto_of,
)
from iosim.config.model import AclEntry, PortMatch
from iosim.ike.engine import IkePolicy, Phase2Offer, Phase2Refused, ProxyIdentity
from iosim.ike.phase2_policy import (
    LocalTransformSet,
    Phase2Policy,
    between_peers,
    choose,
    initiator_offer,
)
from iosim.ike.quick_mode import canonical_transform_set
from iosim.ipsec.crypto_debug import CryptoDebug

if TYPE_CHECKING:
    from iosim.router import Router

__all__ = ["Intent", "MapEntry", "Owners", "Spd", "ike_policy", "proxies_of"]


def ike_policy(p: IsakmpPolicy) -> IkePolicy:
    """A ``crypto isakmp policy`` as the engine takes it."""
    return _ike_policy(p.priority, p.encryption, p.hash, p.authentication, p.group, p.lifetime)


# An IkePolicy is a value: the SAs of every router with the same policy share one (each SA
# keeps the policy it negotiated, and a hub holds thousands of SAs).
@lru_cache(maxsize=256)
def _ike_policy(priority: int, encryption: str, hash_name: str, authentication: str,
                group: int, lifetime: int) -> IkePolicy:
    words = encryption.split()
    bits = int(words[1]) if len(words) > 1 else (128 if words[0] == "aes" else None)
    return IkePolicy(priority, words[0], bits, hash_name, authentication, group, lifetime)


def _mask(wildcard: int) -> int:
    return ~wildcard & 0xFFFFFFFF


def _port(match: PortMatch | None) -> int:
    return match.port if match is not None and match.op == "eq" else 0


def proxies_of(ace: AclEntry) -> ProxyIdentity | None:
    """The proxy identities a crypto ACL ``permit`` line stands for (None for other lines):
    ``permit icmp`` gives protocol 1, ``permit tcp ... eq 23`` protocol 6 and port 23, as IOS
    sends them in IDci/IDcr."""
    if ace.action != "permit" or ace.source is None or ace.destination is None:
        return None
    return ProxyIdentity(int(ace.source.address), _mask(int(ace.source.wildcard)),
                         int(ace.destination.address), _mask(int(ace.destination.wildcard)),
                         ace.protocol or 0, _port(ace.source_port), _port(ace.destination_port))


def _within(inner: ProxyIdentity, outer: ProxyIdentity) -> bool:
    """Whether every packet of ``inner`` is also one of ``outer``."""
    return ((inner.local_net & outer.local_mask) == outer.local_net
            and inner.local_mask & outer.local_mask == outer.local_mask
            and (inner.remote_net & outer.remote_mask) == outer.remote_net
            and inner.remote_mask & outer.remote_mask == outer.remote_mask
            and outer.protocol in (0, inner.protocol)
            and outer.local_port in (0, inner.local_port)
            and outer.remote_port in (0, inner.remote_port))


@dataclass(frozen=True, slots=True)
class MapEntry:
    """A crypto map entry as the data plane walks it. ``dynamic`` entries come from the
    ``crypto dynamic-map`` an ``ipsec-isakmp dynamic`` entry names: they carry the parent's
    name and sequence number (what ``show crypto ipsec sa`` prints), never start IKE, accept
    any peer (or those of their ``set peer``) and need no ACL."""

    interface: str
    map_name: str
    seq: int
    entry: CryptoMapEntry  # the static entry, or the dynamic-map entry
    dynamic: bool = False
    # tunnel protection: the entry of a tunnel (its interface), with the local address and
    # the proxies it negotiates instead of an ACL
    tunnel: bool = False
    local: int | None = None
    proxies: ProxyIdentity | None = None


@dataclass(slots=True)
class Intent:
    """Where a negotiation for a peer and proxies will land: interface and map entry."""

    where: MapEntry
    initiated: bool  # we started it: we also start its rekeys


class Owners:
    """Whether one moment's configuration still asks for pairs made at (interface, map,
    sequence number) with a peer for proxies. Each interface's entries and each tunnel's
    profile instance are looked up once, when a pair of theirs is first judged."""

    def __init__(self, spd: Spd) -> None:
        self._spd = spd
        self._entries: dict[str, list[MapEntry]] = {}

    def _of(self, interface: str) -> list[MapEntry]:
        entries = self._entries.get(interface)
        if entries is None:
            tunnel = self._spd.tunnel_entry(interface)
            entries = self._entries[interface] = (
                [tunnel] if tunnel is not None else []) + self._spd.entries(interface)
        return entries

    def want(self, interface: str, map_name: str, seq: int, peer: int,
             proxies: ProxyIdentity) -> bool:
        """The entry is still there (its crypto map applied to the interface, or the tunnel
        still up and protected), the peer still one of its own (any, for a dynamic entry)
        and the proxies still covered (an ACL line; a tunnel's own proxies). What the entry
        is set to (transform sets, PFS, lifetimes) does not matter: that applies from the
        next negotiation."""
        for where in self._of(interface):
            if (where.map_name, where.seq) != (map_name, seq):
                continue
            peers = [int(p) for p in where.entry.peers]
            if where.tunnel:
                if where.proxies == proxies and peer in peers:
                    return True
            elif (where.dynamic or peer in peers) and self._spd.acl_allows(where.entry,
                                                                            proxies):
                return True
        return False


class Spd:
    """Crypto map lookups of one router (see the module docstring)."""

    def __init__(self, router: Router, debug: CryptoDebug) -> None:
        self.router = router
        self.debug = debug
        self.intents: dict[tuple[int, ProxyIdentity], Intent] = {}
        # the entries of the protected tunnels, and one tunnel's (set by the tunnel
        # protection)
        self.tunnel_entries: Callable[[], list[MapEntry]] = list
        self.tunnel_entry: Callable[[str], MapEntry | None] = lambda tunnel: None
        # True while the crypto sends what it made itself (ESP/AH, IKE, NAT keepalives):
        # that is never looked up in the crypto map again, so an ACL that permits all IP
        # between the peers themselves leaves IKE and ESP alone, as on IOS
        self.sending_own = False

    def send_own(self, send: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Send what the crypto made past the crypto map."""
        self.sending_own = True
        try:
            send(*args, **kwargs)
        finally:
            self.sending_own = False

    @property
    def crypto(self) -> CryptoConfig:
        return crypto_of(self.router.config)

    def entries(self, interface: str) -> list[MapEntry]:
        """The usable entries of the crypto map on ``interface``, in sequence order: complete
        static entries, and each ``dynamic`` entry expanded into its dynamic map's entries
        that have a transform set (IOS ignores an incomplete one)."""
        intf = self.router.config.interfaces.get(interface)
        name = intf.features.get("crypto_map") if intf is not None else None
        if not isinstance(name, str):  # no crypto map here: every packet asks, so first
            return []
        crypto = self.crypto
        cmap = crypto.maps.get(name)
        if cmap is None:
            return []
        acls = self.router.config.acls
        out: list[MapEntry] = []
        for seq, e in sorted(cmap.entries.items()):
            if e.dynamic_template is not None:
                dmap = crypto.dynamic_maps.get(e.dynamic_template)
                for _, d in sorted(dmap.entries.items()) if dmap is not None else ():
                    if d.transform_sets and (d.match_acl is None or d.match_acl in acls):
                        out.append(MapEntry(interface, cmap.name, seq, d, dynamic=True))
            elif (e.peers and e.match_acl and e.match_acl in acls
                  and e.kind == "ipsec-isakmp"):
                out.append(MapEntry(interface, cmap.name, seq, e))
        return out

    def any_applied(self) -> bool:
        """Whether a crypto map or a tunnel protection is applied anywhere (else ISAKMP is
        off)."""
        return (any(self.entries(i) for i in self.router.config.interfaces)
                or bool(self.tunnel_entries()))

    def local_address(self, interface: str) -> int | None:
        stack = self.router.stack
        return stack.source_for(interface) if stack is not None else None

    def policy(self, entry: CryptoMapEntry) -> Phase2Policy | None:
        """What ``entry`` allows in quick mode (None without a known transform set)."""
        crypto = self.crypto
        sets = [crypto.transform_sets[n] if n in crypto.transform_sets else DEFAULT_TRANSFORM_SET
                for n in entry.transform_sets
                if n in crypto.transform_sets or n == DEFAULT_TRANSFORM_SET.name]
        if not sets:
            return None
        return Phase2Policy(
            # IPComp (comp-lzs) is not negotiated: the set's AH/ESP part is
            tuple(LocalTransformSet(canonical_transform_set(
                tuple(w for w in ts.transforms if not w.startswith("comp-"))),
                ts.mode, ts.require) for ts in sets),
            int(entry.pfs[5:]) if entry.pfs else None,
            entry.lifetime_seconds or crypto.sa_lifetime_seconds,
            entry.lifetime_kilobytes or crypto.sa_lifetime_kilobytes)

    def offer(self, entry: CryptoMapEntry, local: int | None = None, peer: int | None = None,
              proxies: ProxyIdentity | None = None) -> Phase2Offer | None:
        """What we propose in quick mode for ``entry`` (None without a known transform set);
        transport mode only for proxies that are ``local`` and ``peer`` themselves."""
        policy = self.policy(entry)
        if policy is None:
            return None
        endpoints = (proxies is not None and local is not None and peer is not None
                     and between_peers(proxies, local, peer))
        return initiator_offer(policy, endpoints)

    def acl_allows(self, entry: CryptoMapEntry, proxies: ProxyIdentity) -> bool:
        """Whether the proxies (our side local) lie within a permit line of the entry's ACL,
        as IOS asks of a responder's static and dynamic entries alike (an exact mirror is
        the simplest case); an entry without an ACL (dynamic) allows anything."""
        if entry.match_acl is None:
            return True
        acl = self.router.config.acls.get(entry.match_acl)
        if acl is None:
            return False
        return any(line is not None and _within(proxies, line)
                   for line in map(proxies_of, acl.entries))

    def still_configured(self, where: MapEntry, peer: int, proxies: ProxyIdentity) -> bool:
        """Whether the crypto map still asks for a pair with ``peer`` for ``proxies`` at
        ``where`` (entry, peer and an ACL line covering them all still there)."""
        entry = where.entry
        listed = self.tunnel_entries() if where.tunnel else self.entries(where.interface)
        return (where in listed
                and (where.dynamic or any(int(p) == peer for p in entry.peers))
                and self.acl_allows(entry, proxies))

    def owners(self) -> Owners:
        """A judge of installed pairs against the configuration as it is now."""
        return Owners(self)

    def select(self, local: int, peer: int, proxies: ProxyIdentity,
               offers: list[Phase2Offer]) -> Phase2Offer | Phase2Refused:
        """Responder: the offer our crypto map accepts for these proxies, or why none. The
        entries are tried in sequence order: a static one needs the peer and an ACL line
        the proxies lie within; a dynamic one any peer (or one of its own) and, with an
        ACL, likewise. Its transform sets, modes and PFS then judge the offers
        (:func:`iosim.ike.phase2_policy.choose`). ``debug crypto ipsec|isakmp`` tell why an
        offer is refused, as IOS does: no entry for these proxies is error 32, an entry
        whose transform sets, modes or PFS refuse them error 256."""
        debug = self.debug
        for offer in offers:
            debug.proposal("validate_proposal_request): proposal part #1", "INBOUND",
                           local, peer, proxies, offer, 0)
        endpoints = between_peers(proxies, local, peer)
        refused: Phase2Refused | None = None
        candidates = [where for interface in self.router.config.interfaces
                      if self.local_address(interface) == local
                      for where in self.entries(interface)]
        candidates += [where for where in self.tunnel_entries()
                       if where.local == local and where.proxies == proxies]
        for where in candidates:
            entry = where.entry
            if entry.peers or not where.dynamic:
                if not any(int(p) == peer for p in entry.peers):
                    continue
            if not self.acl_allows(entry, proxies):
                continue
            policy = self.policy(entry)
            answer = choose(policy, offers, endpoints) if policy is not None else (
                Phase2Refused("transform"))
            if isinstance(answer, Phase2Refused):
                refused = refused or answer
                continue
            self.intents[(peer, proxies)] = Intent(where, False)
            debug.say("ipsec", f"(ipsec_process_proposal)Map Accepted: "
                               f"{where.map_name}, {where.seq}")
            return answer
        self._refusal_lines(local, peer, offers, refused)
        return refused or Phase2Refused("proxies")

    def _refusal_lines(self, local: int, peer: int, offers: list[Phase2Offer],
                       refused: Phase2Refused | None) -> None:
        """IOS's words for a refused proposal: no entry for the proxies (error 32); a
        transform set or mode the entry does not accept (its transform named, error 256);
        PFS the entry does not accept (error 256, no transform blamed). IOS 15 puts a space
        after the conn-id of these ISAKMP lines, as before "phase 1 SA policy not acceptable!"."""
        debug = self.debug
        conn = debug.conn_id(local, peer)
        if refused is None:
            debug.say("ipsec", "map_db_find_best did not find matching map")
            debug.say("ipsec", "IPSEC(ipsec_process_proposal): proxy identities not supported")
            debug.say("isakmp", f"ISAKMP:({conn}): IPSec policy invalidated proposal with "
                                "error 32")
            return
        if refused.cause in ("transform", "mode"):
            for offer in offers[:1]:
                words = " ".join(offer.transform_sets[0]) if offer.transform_sets else ""
                debug.say("ipsec", "IPSEC(ipsec_process_proposal): transform proposal not "
                                   f"supported for identity: {{{words} }}")
        debug.say("isakmp", f"ISAKMP:({conn}): IPSec policy invalidated proposal with "
                            "error 256")
