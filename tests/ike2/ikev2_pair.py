"""Two IKEv2 engines joined by a fake link, driven by a fake clock (tests only)."""

from __future__ import annotations

from dataclasses import dataclass, field

from iosim.crypto.rand import SeededRandom
from iosim.ike.phase2_policy import LocalTransformSet, Phase2Policy, Phase2Refused, choose
from iosim.ike.quick_mode import Phase2Offer, ProxyIdentity
from iosim.ike2.constants import IdType
from iosim.ike2.engine import Ikev2Engine
from iosim.ike2.sa import IkeProposal, Ikev2Settings

A, B = 0xC6336401, 0xCB007102  # 198.51.100.1, 203.0.113.2
PROXIES = ProxyIdentity(0xC0A80100, 0xFFFFFF00, 0x0A000200, 0xFFFFFF00)
TS = ("esp-aes 256", "esp-sha256-hmac")
OFFER = Phase2Offer((TS,), "tunnel", None)
PFS_OFFER = Phase2Offer((TS,), "tunnel", 14)
DEFAULT = IkeProposal("P", ("aes-cbc-256",), ("sha256",), (), (14,))


def settings(local: int, psk: bytes | None = b"cisco123", remote: bytes | None = None,
             **kw: object) -> Ikev2Settings:
    return Ikev2Settings("PROF", (IdType.ID_IPV4_ADDR, local.to_bytes(4, "big")), psk,
                         remote if remote is not None else psk, **kw)  # type: ignore[arg-type]


@dataclass
class Side:
    engine: Ikev2Engine
    proposals: list[IkeProposal]
    settings: Ikev2Settings | None
    policy: Phase2Policy
    acl: ProxyIdentity
    events: list[object] = field(default_factory=list)

    def of(self, kind: type) -> list[object]:
        return [e for e in self.events if isinstance(e, kind)]


def side(local: int, seed: str, proposals: list[IkeProposal], s: Ikev2Settings | None,
         acl: ProxyIdentity, pfs: int | None = None, **kw: object) -> Side:
    holder: list[Side] = []

    def select(peer: int, proxies: ProxyIdentity, offers: list[Phase2Offer], in_auth: bool
               ) -> tuple[Phase2Offer, ProxyIdentity] | Phase2Refused:
        me = holder[0]
        a = me.acl
        within = ((proxies.local_net & a.local_mask) == a.local_net
                  and (proxies.remote_net & a.remote_mask) == a.remote_net
                  and proxies.local_mask & a.local_mask == a.local_mask
                  and proxies.remote_mask & a.remote_mask == a.remote_mask)
        if not within:
            return Phase2Refused("proxies")
        if in_auth:  # IKE_AUTH's child has no PFS of its own
            offers = [Phase2Offer(o.transform_sets, o.mode, me.policy.pfs_group,
                                  o.lifetime_seconds, o.lifetime_kilobytes) for o in offers]
        answer = choose(me.policy, offers, False)
        return answer if isinstance(answer, Phase2Refused) else (answer, proxies)

    engine = Ikev2Engine(local, rand=SeededRandom(seed), proposals=lambda: holder[0].proposals,
                         settings_for=lambda peer, ident: holder[0].settings,
                         select_child=select, **kw)  # type: ignore[arg-type]
    me = Side(engine, proposals, s,
              Phase2Policy((LocalTransformSet(TS, "tunnel"),), pfs, 3600, 4608000), acl)
    holder.append(me)
    return me


@dataclass
class Link:
    """Carries datagrams between the two engines; ``nat`` rewrites A's source address."""

    a: Side
    b: Side
    now: float = 0.0
    nat: int | None = None
    lost: int = 0  # drop the next N datagrams
    wire: list[tuple[str, bytes, int]] = field(default_factory=list)

    def pump(self) -> None:
        for _ in range(200):
            moved = False
            for me, other, name in ((self.a, self.b, "a"), (self.b, self.a, "b")):
                for _peer, data, port in me.engine.datagrams_with_ports():
                    moved = True
                    self.wire.append((name, data, port))
                    if self.lost:
                        self.lost -= 1
                        continue
                    src = me.engine.local
                    if name == "a" and self.nat is not None:
                        src = self.nat
                    other.engine.receive_datagram(data, src, self.now, port)
                while (e := me.engine.next_event()) is not None:
                    me.events.append(e)
            if not moved:
                return

    def run(self, until: float) -> None:
        """Advance the clock to ``until``, firing timers on the way."""
        while True:
            self.pump()
            when = [t for t in (self.a.engine.get_timer(), self.b.engine.get_timer())
                    if t is not None and t <= until]
            if not when:
                self.now = until
                self.pump()
                return
            self.now = max(self.now, min(when))
            for s in (self.a, self.b):
                t = s.engine.get_timer()
                if t is not None and t <= self.now:
                    s.engine.handle_timer(self.now)


def pair_of(*, a_props: list[IkeProposal] | None = None, b_props: list[IkeProposal] | None = None,
            a_settings: Ikev2Settings | None = None, b_settings: Ikev2Settings | None = None,
            b_acl: ProxyIdentity | None = None, b_pfs: int | None = None,
            b_kw: dict[str, object] | None = None, a_kw: dict[str, object] | None = None
            ) -> Link:
    a = side(A, "a", a_props or [DEFAULT], a_settings or settings(A), PROXIES, **(a_kw or {}))
    b = side(B, "b", b_props or [DEFAULT], b_settings or settings(B), b_acl or PROXIES.mirrored(),
             b_pfs, **(b_kw or {}))
    return Link(a, b)
