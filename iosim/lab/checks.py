"""The checks a lab's objectives name: behaviour read off a running lab, never config text.

Each check kind is a row of :data:`CHECKS`: the parameters it takes (typed, validated when
the lab is loaded) and the function that evaluates it on a live :class:`~iosim.lab.console.Lab`.
A check returns an :class:`Outcome`: passed or not, and a sentence saying what it saw, so a
miss is always explained ("R1 has an ISAKMP SA with 203.0.113.2 in MM_KEY_EXCH, not QM_IDLE").

Checks that need traffic send it, as an instructor would at the student's desk: ``ping`` and
``protected`` send ICMP echoes from a device; ``counters`` sends a probe and compares the
counters before and after. Everything else reads live state (the IKE engines' SAs, the SAD's
pairs and counters, the NAT table, a show command's output) without changing it.

| check       | passes when                                                                  |
|-------------|------------------------------------------------------------------------------|
| output      | a command's output on a router contains / lacks texts, matches a regex       |
| ping        | echoes from a device to an address succeed (or fail, ``expect = "failure"``)  |
| protected   | echoes get through and, on the watched links, only ESP/AH/ESP-in-UDP carried  |
|             | them (``encrypted`` is the same with ESP required: AH does not encrypt); in   |
|             | clear GRE (a tunnel that protects nothing) they are clear text                |
| cleartext   | the probe's packets cross the watched links in clear (traffic the VPN must     |
|             | leave alone)                                                                  |
| tunnel      | a router has an ISAKMP SA in QM_IDLE and an IPsec SA pair with a peer         |
| isakmp_sa   | an ISAKMP SA with the given state and negotiated attributes (or none)         |
| ikev2_sa    | an IKEv2 SA in READY (or another status) with the given algorithms (or none)  |
| ipsec_sa    | an IPsec SA pair with the given transforms, mode, PFS, lifetimes, counters    |
| counters    | a probe makes a flow's #pkts encaps/decaps move                               |
| nat         | a NAT translation matching the given addresses exists (or does not)           |
| route       | a router's routing table has a route to a network (of a kind: static,         |
|             | connected, reverse-route injected, learnt by OSPF)                            |
| tunnel_     | a tunnel interface is up and its protection is in force: the IPsec profile it |
| protection  | names exists with a transform set, and an IPsec SA pair protects it now       |

The parameters of each check are read and validated by :mod:`iosim.lab.check_params`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iosim.config.crypto_model import crypto_of
from iosim.config.tunnel_model import GRE, IPSEC, TRANSPORT_NAMES, is_tunnel, tunnel_of
from iosim.ike2.keys import CIPHERS, INTEGRITIES, PRFS
from iosim.ipsec.router_crypto import RouterCrypto
from iosim.ipsec.transforms import (
    AH_TRANSFORMS,
    ENCRYPTION_TRANSFORMS,
    ESP_INTEGRITY_TRANSFORMS,
    CipherMode,
)
from iosim.lab.check_params import ISAKMP_STATES, Param
from iosim.lab.schema import LabError
from iosim.net.gre import PROTOCOL_IPV4, pull_gre
from iosim.net.packets import (
    EtherType,
    IpProtocol,
    PacketError,
    format_ip,
    pull_ipv4,
)
from iosim.net.routing import OSPF_TYPES

if TYPE_CHECKING:
    from iosim.ike.engine import IpsecSaPair, IsakmpSaState
    from iosim.ipsec.sad import FlowView
    from iosim.lab.console import Lab
    from iosim.net.fabric import Link
    from iosim.net.stack import IpStack
    from iosim.router import Router

Params = Mapping[str, Any]


@dataclass(frozen=True)
class Outcome:
    """A check's verdict and what it saw."""

    passed: bool
    detail: str


# ---------------------------------------------------------------- helpers


def _router(lab: Lab, name: str) -> Router:
    return lab.routers[name]


def _peer_of(state: IsakmpSaState) -> int:
    return state.dst if state.initiator else state.src


def _plane(router: Router) -> RouterCrypto:
    plane = router.crypto_plane
    assert isinstance(plane, RouterCrypto)  # every router of a running lab has one
    return plane


def _isakmp_states(router: Router) -> list[IsakmpSaState]:
    return _plane(router).isakmp_states()


def _flows(router: Router) -> list[FlowView]:
    return _plane(router).flows()


def _stack_of(lab: Lab, device: str) -> IpStack:
    router = lab.routers.get(device)
    stack = router.stack if router is not None else lab.hosts[device].stack
    assert stack is not None
    return stack


def _source_address(lab: Lab, device: str, params: Params) -> int | None:
    if "source" in params:
        return int(params["source"])
    host = lab.hosts.get(device)
    return int(host.address.ip) if host is not None else None


def _marks_text(marks: str) -> str:
    rate = 100 * marks.count("!") // len(marks) if marks else 0
    return f"{marks} ({rate} percent)"


def _probe(lab: Lab, device: str, params: Params, repeat: int) -> str:
    """Send ``repeat`` echoes from ``device`` to ``params['to']``; the marks."""
    from iosim.net.ping import run_ping

    stack = _stack_of(lab, device)
    source = int(params["source"]) if "source" in params else None
    if source is not None and stack.owns(source) is None:
        return "?" * repeat
    outcome = run_ping(stack, lab.clock, int(params["to"]), repeat=repeat, source=source,
                       identifier=stack.next_ident())
    return outcome.marks


# ---------------------------------------------------------------- the checks


def check_output(lab: Lab, p: Params) -> Outcome:
    from iosim.cli.session import Session

    router = _router(lab, p["device"])
    session = Session(router, mode="exec", terminal_length=0)
    text = session.execute(str(p["command"]))
    where = f"'{p['command']}' on {p['device']}"
    if session.last_error is not None:
        return Outcome(False, f"{p['device']} rejected '{p['command']}': "
                              f"{text.strip().splitlines()[-1]}")
    for wanted in p.get("contains", ()):
        if wanted not in text:
            return Outcome(False, f"{where} does not show {wanted!r}")
    for unwanted in p.get("lacks", ()):
        if unwanted in text:
            return Outcome(False, f"{where} shows {unwanted!r}")
    regex = p.get("regex")
    if regex is not None and not regex.search(text):
        return Outcome(False, f"{where} has no line matching /{regex.pattern}/")
    return Outcome(True, f"{where} shows what was asked")


def check_ping(lab: Lab, p: Params) -> Outcome:
    repeat = int(p.get("repeat", 5))
    marks = _probe(lab, p["from"], p, repeat)
    target = format_ip(int(p["to"]))
    if "?" in marks:
        return Outcome(False, f"{p['from']} has no address {format_ip(int(p['source']))}")
    shown = f"ping from {p['from']} to {target}: {_marks_text(marks)}"
    if p.get("expect", "success") == "failure":
        return Outcome("!" not in marks, shown)
    need = int(p.get("min_percent", 60))
    return Outcome(100 * marks.count("!") >= need * len(marks), shown)


NAT_T_PORT = (4500).to_bytes(2, "big")
IKE_PORT = (500).to_bytes(2, "big")


@dataclass(frozen=True)
class _Carried:
    """What one IPv4 datagram on a wire was: its kind, ends and (for ESP) its SPI."""

    kind: str  # esp | ah | ah+esp | esp-udp | clear
    src: int
    dst: int
    spi: int | None = None  # the ESP SPI: the receiver's inbound SA
    inner: tuple[int, int] | None = None  # clear GRE: the source and destination it carries


def _classify(datagram: bytes) -> _Carried | None:
    """What a datagram carries; None for IKE, NAT keepalives and what does not parse."""
    try:
        packet = pull_ipv4(datagram)
    except PacketError:
        return None
    proto, body = packet.protocol, packet.payload
    if proto == IpProtocol.AH:
        if len(body) >= 2 and body[0] == IpProtocol.ESP:
            at = (body[1] + 2) * 4
            return _Carried("ah+esp", packet.src, packet.dst,
                            int.from_bytes(body[at:at + 4]) if len(body) >= at + 4 else None)
        return _Carried("ah", packet.src, packet.dst)
    if proto == IpProtocol.ESP:
        return _Carried("esp", packet.src, packet.dst,
                        int.from_bytes(body[:4]) if len(body) >= 4 else None)
    if proto == IpProtocol.UDP and len(body) >= 8:
        if NAT_T_PORT in (body[0:2], body[2:4]):
            if len(body) <= 9 or body[8:12] == bytes(4):
                return None  # a NAT keepalive, or IKE behind the non-ESP marker
            return _Carried("esp-udp", packet.src, packet.dst, int.from_bytes(body[8:12]))
        if body[2:4] == IKE_PORT:
            return None
    if proto == IpProtocol.GRE:  # an unprotected tunnel: what it carries is in clear too
        try:
            gre = pull_gre(body)
            inner = pull_ipv4(gre.payload) if gre.protocol_type == PROTOCOL_IPV4 else None
        except PacketError:
            inner = None
        if inner is not None:
            return _Carried("clear", packet.src, packet.dst, inner=(inner.src, inner.dst))
    return _Carried("clear", packet.src, packet.dst)


#: cipher modes that do not hide the payload: ESP with these is integrity only
_NOT_CONFIDENTIAL = {CipherMode.NULL: "ESP-NULL", CipherMode.GMAC: "ESP-GMAC"}
#: what ``protocol`` asks for -> the kinds that satisfy it
_PROTOCOL_KINDS: dict[str, frozenset[str]] = {
    "any": frozenset({"esp", "esp-udp", "ah", "ah+esp"}),
    "esp": frozenset({"esp", "esp-udp"}), "esp-udp": frozenset({"esp-udp"}),
    "ah": frozenset({"ah", "ah+esp"}), "ah+esp": frozenset({"ah+esp"}),
}


def _cipher_blindness(lab: Lab, spi: int | None) -> str | None:
    """``ESP-NULL``/``ESP-GMAC`` when the SA of ``spi`` does not encrypt, else None."""
    if spi is None:
        return None
    for router in lab.routers.values():
        bundle = _plane(router).sad.by_spi.get(spi)
        if bundle is not None:
            row = ENCRYPTION_TRANSFORMS.get(bundle.pair.encryption)
            return _NOT_CONFIDENTIAL.get(row.mode) if row is not None else None
    return None


def _watched(lab: Lab, p: Params, source_dev: str, target: int) -> list[Link]:
    """The links whose traffic must be protected: those of the ``through`` devices, or
    every link that touches neither end of the probe."""
    ends = {source_dev}
    for name in [*lab.routers, *lab.hosts]:
        if _stack_of(lab, name).owns(target) is not None:
            ends.add(name)
    through = set(p.get("through", ()))
    links = []
    for link in lab.fabric.links:
        devices = {d for d, _ in link.ends}
        if (devices & through) if through else not devices & ends:
            links.append(link)
    return links


#: what an ISAKMP SA's state says about phase 1, in a student's words
_STATE_MEANS = {
    "MM_NO_STATE": "phase 1 got no answer or found no matching policy",
    "MM_SA_SETUP": "phase 1 agreed on a policy and is exchanging Diffie-Hellman values",
    "MM_KEY_EXCH": "the peers could not authenticate each other",
    "AG_INIT_EXCH": "aggressive mode got no answer it could accept",
    "QM_IDLE": "phase 1 is up",
}


def _missing_profiles(router: Router) -> list[tuple[str, str]]:
    """(tunnel, profile) for each tunnel whose protection names an IPsec profile the router
    does not have: accepted and kept, it protects nothing."""
    tunnels = _plane(router).tunnels
    return [(intf.name, str(tunnel_of(intf).protection))
            for intf in router.config.sorted_interfaces()
            if is_tunnel(intf.name) and tunnel_of(intf).protection is not None
            and not tunnels.protects(intf.name)]


def _diagnosis(lab: Lab, p: Params) -> str:
    """What the routers' ISAKMP SAs and IKEv2 negotiations say, for a probe that failed:
    where to look next."""
    notes = [f"{name}: {tunnel} names IPsec profile \"{profile}\", which {name} does not have"
             for name, router in lab.routers.items()
             for tunnel, profile in _missing_profiles(router)]
    for name, router in lab.routers.items():
        for s in _isakmp_states(router):
            if "deleted" in s.status:
                continue
            meaning = _STATE_MEANS.get(s.state, "")
            notes.append(f"{name}: ISAKMP SA with {format_ip(_peer_of(s))} in {s.state}"
                         + (f" ({meaning})" if meaning else ""))
        glue = _plane(router).ikev2
        for v in glue.views():
            if v.status != "READY":
                notes.append(f"{name}: IKEv2 SA with {format_ip(v.remote)} in {v.status}")
        notes.extend(f"{name}: IKEv2 with {format_ip(peer)} failed: {why}"
                     for peer, why in glue.failures.items())
    if not notes:
        if any(is_tunnel(name) for router in lab.routers.values()
               for name in router.config.interfaces):
            return (" (no router started IKE: was the traffic routed into a tunnel whose"
                    " protection names an IPsec profile, on both routers?)")
        return " (no router started IKE: did the traffic match a crypto map entry?)"
    return " (" + "; ".join(notes[:3]) + ")"


def _clear_sessions(lab: Lab) -> None:
    """``clear crypto session`` on every router, and the Deletes delivered: the probe after it
    must build its tunnel from the side it starts on, as after a reload or an idle expiry."""
    for router in lab.routers.values():
        _plane(router).clear_session()
    lab.clock.advance(1.0)


@dataclass
class _Observed:
    """What a probe's echoes did on the watched links."""

    marks: str
    watched: int  # how many links were watched
    kinds: dict[str, dict[str, int]]  # link name -> kind -> packets
    blind: dict[str, str]  # link name -> the non-confidential ESP it carried
    clear: list[str]  # clear-text packets to or from the target, "A -> B on LINK"
    # ... of those, the ones on a link of the router the probe leaves its source by
    clear_at_source: list[str] = field(default_factory=list)


def _observe(lab: Lab, p: Params) -> _Observed:
    """Send the probe and watch the links it must cross protected."""
    source_dev, target = str(p["from"]), int(p["to"])
    watched = {id(link) for link in _watched(lab, p, source_dev, target)}
    seen = _Observed("", len(watched), {}, {}, [])
    first_hop = _first_hops(lab, source_dev)

    def tap(link: Link, frame: bytes) -> None:
        if id(link) not in watched or frame[12:14] != EtherType.IPV4.to_bytes(2, "big"):
            return
        found = _classify(frame[14:])
        if found is None:
            return
        if found.kind == "clear":
            inner = found.inner if found.inner is not None and target in found.inner else None
            if inner is None and target not in (found.src, found.dst):
                return
            text = f"{format_ip(found.src)} -> {format_ip(found.dst)} on {link.name}"
            if inner is not None:  # carried by a tunnel that protects nothing
                text = f"{format_ip(inner[0])} -> {format_ip(inner[1])} in GRE {text}"
            seen.clear.append(text)
            if any(d in first_hop for d, _ in link.ends):
                seen.clear_at_source.append(text)
            return
        per_link = seen.kinds.setdefault(link.name, {})
        per_link[found.kind] = per_link.get(found.kind, 0) + 1
        weak = _cipher_blindness(lab, found.spi) if found.kind != "ah" else None
        if weak is not None:
            seen.blind[link.name] = weak

    if p.get("fresh"):
        _clear_sessions(lab)
    lab.fabric.taps.append(tap)
    try:
        seen.marks = _probe(lab, source_dev, p, int(p.get("repeat", 5)))
    finally:
        lab.fabric.taps.remove(tap)
    return seen


def check_protected(lab: Lab, p: Params, *, need_encryption: bool = False) -> Outcome:
    """Echoes get through, and every watched link that carried them carried them protected
    (with ``need_encryption``: by ESP with a cipher that hides the payload)."""
    seen = _observe(lab, p)
    marks = seen.marks
    what = f"ping from {p['from']} to {format_ip(int(p['to']))}: {_marks_text(marks)}"
    if not seen.watched:
        return Outcome(False, f"{what}; no link lies between the two ends to watch")
    need = int(p.get("min_percent", 60))
    if "!" not in marks:
        return Outcome(False, f"{what}; nothing got through{_diagnosis(lab, p)}")
    if 100 * marks.count("!") < need * len(marks):
        return Outcome(False, f"{what}; too little got through ({need} percent needed)")
    if seen.clear:
        return Outcome(False, f"{what}, but in clear text: {seen.clear[0]}")
    if not seen.kinds:
        return Outcome(False, f"{what}; no ESP or AH seen on the watched links")
    totals: dict[str, int] = {}
    for per_link in seen.kinds.values():
        for kind, n in per_link.items():
            totals[kind] = totals.get(kind, 0) + n
    carried = ", ".join(f"{n} {k.upper()}" for k, n in sorted(totals.items()))
    wanted = _PROTOCOL_KINDS[str(p.get("protocol", "any"))]
    for name, per_link in sorted(seen.kinds.items()):
        if not set(per_link) & wanted:
            return Outcome(False, f"{what}; {name} carried {', '.join(sorted(per_link))}, "
                                  f"not {str(p.get('protocol')).upper()}")
        if need_encryption and not set(per_link) & {"esp", "esp-udp", "ah+esp"}:
            return Outcome(False, f"{what}; {name} carried AH only: AH authenticates but "
                                  "does not encrypt")
        if need_encryption and name in seen.blind:
            return Outcome(False, f"{what}; {name} carried {seen.blind[name]}: integrity "
                                  "only, the payload crosses in clear")
    return Outcome(True, f"{what}; the watched links carried {carried} packets, "
                         "no clear text")


def _first_hops(lab: Lab, source: str) -> set[str]:
    """The routers a probe from ``source`` leaves by: ``source`` itself if it is a router,
    else the routers on its links (its gateway)."""
    if source in lab.routers:
        return {source}
    return {d for link in lab.fabric.links if any(d == source for d, _ in link.ends)
            for d, _ in link.ends if d in lab.routers}


def check_cleartext(lab: Lab, p: Params) -> Outcome:
    """The probe's packets cross the watched links in clear: traffic the VPN must leave
    alone (the crypto ACL names the LANs, not "any"). No answer is needed. Seen in clear on
    a link of the router it leaves its source by, the probe was not encrypted there, even if
    a routing protocol's packets crossed protected meanwhile; seen in clear only further on,
    it was decrypted on the way (a crypto ACL to "any")."""
    seen = _observe(lab, p)
    what = f"ping from {p['from']} to {format_ip(int(p['to']))}"
    if seen.clear_at_source or seen.clear and not seen.kinds:
        shown = (seen.clear_at_source or seen.clear)[0]
        return Outcome(True, f"{what} crossed in clear, as it should: {shown}")
    if seen.kinds:  # the probe did not leave in clear: the ESP/AH seen carried it
        kinds = sorted({k for per_link in seen.kinds.values() for k in per_link})
        return Outcome(False, f"{what} was carried by {', '.join(kinds).upper()}: the VPN "
                              "protects traffic it should leave alone")
    return Outcome(False, f"{what}: nothing crossed the watched links ({seen.marks})")


def check_encrypted(lab: Lab, p: Params) -> Outcome:
    return check_protected(lab, p, need_encryption=True)


def _matching_states(router: Router, p: Params) -> list[IsakmpSaState]:
    peer = p.get("peer")
    return [s for s in _isakmp_states(router)
            if peer is None or _peer_of(s) == peer]


def _describe_state(s: IsakmpSaState) -> str:
    meaning = _STATE_MEANS.get(s.state) if s.state != "QM_IDLE" else None
    return f"{format_ip(_peer_of(s))} in {s.state}" + (f": {meaning}" if meaning else "")


def check_tunnel(lab: Lab, p: Params) -> Outcome:
    router = _router(lab, p["device"])
    peer = int(p["peer"])
    states = _matching_states(router, p)
    name = f"{p['device']} and {format_ip(peer)}"
    if not any(s.state == "QM_IDLE" and "deleted" not in s.status for s in states):
        seen = ", ".join(_describe_state(s) for s in states) or "no ISAKMP SA at all"
        return Outcome(False, f"phase 1 is not up between {name} ({seen})")
    pairs = [b for f in _flows(router) for b in f.bundles if b.pair.peer == peer]
    if not pairs:
        return Outcome(False, f"phase 1 is up (QM_IDLE) but {p['device']} has no IPsec SA "
                              f"with {format_ip(peer)}: phase 2 has not completed")
    return Outcome(True, f"{name}: ISAKMP SA in QM_IDLE and {len(pairs)} IPsec SA pair(s)")


def _cipher(name: str) -> str:
    """IOS says ``aes`` for AES-128 in a policy; the lab may say either."""
    return "aes 128" if name == "aes" else name


#: isakmp_sa parameter -> what the SA shows
_ISAKMP_ATTRS: dict[str, Callable[[IsakmpSaState], object]] = {
    "encryption": lambda s: _cipher(s.encryption),
    "hash": lambda s: s.hash,
    "group": lambda s: s.group,
    "nat_t": lambda s: s.nat_t,
    "aggressive": lambda s: s.aggressive,
    "lifetime": lambda s: s.lifetime,
}


def check_isakmp_sa(lab: Lab, p: Params) -> Outcome:
    router = _router(lab, p["device"])
    wanted_state = str(p.get("state", "QM_IDLE"))
    states = [s for s in _matching_states(router, p) if "deleted" not in s.status]
    peer = f" with {format_ip(int(p['peer']))}" if "peer" in p else ""
    if not p.get("present", True):
        live = [s for s in states if s.state == wanted_state]
        if live:
            return Outcome(False, f"{p['device']} has an ISAKMP SA{peer} in {wanted_state}")
        return Outcome(True, f"{p['device']} has no ISAKMP SA{peer} in {wanted_state}")
    in_state = [s for s in states if s.state == wanted_state]
    if not in_state:
        seen = ", ".join(_describe_state(s) for s in states) or "none"
        return Outcome(False, f"{p['device']} has no ISAKMP SA{peer} in {wanted_state} "
                              f"(ISAKMP SAs: {seen})")
    misses: list[str] = []
    for s in in_state:
        misses = []
        for key, get in _ISAKMP_ATTRS.items():
            if key not in p:
                continue
            want: object = _cipher(p[key]) if key == "encryption" else p[key]
            have = get(s)
            if have != want:
                misses.append(f"{key} is {have}, the lab asks for {want}")
        if not misses:
            return Outcome(True, f"{p['device']} has an ISAKMP SA with "
                                 f"{format_ip(_peer_of(s))} in {s.state}"
                                 + (", attributes as asked"
                                    if any(k in p for k in _ISAKMP_ATTRS) else ""))
    return Outcome(False, f"the ISAKMP SA of {p['device']}{peer}: " + "; ".join(misses))


def check_ikev2_sa(lab: Lab, p: Params) -> Outcome:
    """An IKEv2 SA with the peer in ``status`` (READY) with the algorithms asked for."""
    router = _router(lab, p["device"])
    wanted = str(p.get("status", "READY"))
    views = [v for v in _plane(router).ikev2.views()
             if "peer" not in p or v.remote == int(p["peer"])]
    peer = f" with {format_ip(int(p['peer']))}" if "peer" in p else ""
    live = [v for v in views if v.status == wanted]
    if not p.get("present", True):
        return Outcome(not live, f"{p['device']} has {'an' if live else 'no'} IKEv2 SA{peer} "
                                 f"in {wanted}")
    if not live:
        seen = ", ".join(f"{format_ip(v.remote)} {v.status}" for v in views) or "none"
        return Outcome(False, f"{p['device']} has no IKEv2 SA{peer} in {wanted} "
                              f"(IKEv2 SAs: {seen})")
    misses: list[str] = []
    for v in live:
        have = {"encryption": v.keywords[0], "prf": v.keywords[1],
                "integrity": v.keywords[2] or "none", "group": v.group}
        misses = [f"{k} is {have[k]}, the lab asks for {p[k]}" for k in have
                  if k in p and have[k] != p[k]]
        if not misses:
            return Outcome(True, f"{p['device']} has an IKEv2 SA with {format_ip(v.remote)} "
                                 f"in {v.status}" + (", algorithms as asked"
                                                     if any(k in p for k in have) else ""))
    return Outcome(False, f"the IKEv2 SA of {p['device']}{peer}: " + "; ".join(misses))


#: ipsec_sa parameters read off the newest pair of a flow
_PAIR_ATTRS: dict[str, Callable[[IpsecSaPair], object]] = {
    "protocol": lambda pair: pair.protocol,
    "encryption": lambda pair: pair.encryption,
    "integrity": lambda pair: pair.integrity or "",
    "ah": lambda pair: pair.ah_integrity or "",
    "mode": lambda pair: pair.mode,
    "pfs": lambda pair: pair.pfs_group or 0,
    "udp_encap": lambda pair: pair.udp_encap,
    "lifetime_seconds": lambda pair: pair.lifetime_seconds,
    "lifetime_kilobytes": lambda pair: pair.lifetime_kilobytes,
}
#: ipsec_sa ``min_X`` parameters read off the flow's counters
_COUNTER_ATTRS = ("encaps", "decaps", "send_errors", "recv_errors", "verify_failures",
                  "replay_failures", "pairs")
#: the counters whose ``show crypto ipsec sa`` figure is another attribute's
_COUNTER_SHOWN = {"send_errors": "send_errors_shown"}


def check_ipsec_sa(lab: Lab, p: Params) -> Outcome:
    router = _router(lab, p["device"])
    peer = p.get("peer")
    flows = [f for f in _flows(router) if f.bundles and (peer is None or f.peer == peer)]
    towards = f" with {format_ip(int(peer))}" if peer is not None else ""
    if not p.get("present", True):
        if flows:
            return Outcome(False, f"{p['device']} has an IPsec SA pair{towards}")
        return Outcome(True, f"{p['device']} has no IPsec SA pair{towards}")
    if not flows:
        return Outcome(False, f"{p['device']} has no IPsec SA pair{towards}: phase 2 has "
                              "not completed")
    misses: list[str] = []
    for flow in flows:
        pair = flow.bundles[-1].pair
        misses = []
        for key, get in _PAIR_ATTRS.items():
            if key in p and get(pair) != p[key]:
                misses.append(f"{key} is {get(pair) or 'none'}, the lab asks for "
                              f"{p[key] or 'none'}")
        for name in _COUNTER_ATTRS:
            key = f"min_{name}"
            have = getattr(flow.counters, _COUNTER_SHOWN.get(name, name))
            if key in p and have < int(p[key]):
                misses.append(f"#{name} is {have}, at least {p[key]} expected")
        if not misses:
            return Outcome(True, f"{p['device']} has an IPsec SA pair with "
                                 f"{format_ip(flow.peer)} ({pair.protocol}, "
                                 f"{pair.encryption or pair.ah_integrity}, {pair.mode} mode)")
    return Outcome(False, f"the IPsec SA of {p['device']}{towards}: " + "; ".join(misses))


def _flow_totals(router: Router, peer: int | None) -> tuple[int, int]:
    flows = [f for f in _flows(router) if peer is None or f.peer == peer]
    return (sum(f.counters.encaps for f in flows), sum(f.counters.decaps for f in flows))


def check_counters(lab: Lab, p: Params) -> Outcome:
    router = _router(lab, p["device"])
    peer = p.get("peer")
    before = _flow_totals(router, peer)
    marks = _probe(lab, p["from"], p, int(p.get("repeat", 5)))
    after = _flow_totals(router, peer)
    need = int(p.get("at_least", 1))
    seen = (f"{p['device']}'s #pkts encaps went {before[0]} -> {after[0]}, decaps "
            f"{before[1]} -> {after[1]} (probe: {_marks_text(marks)})")
    moved = after[0] - before[0] >= need and after[1] - before[1] >= need
    return Outcome(moved, seen)


_NAT_FIELDS = ("inside_local", "inside_global", "outside")  # Translation attributes
_NAT_PROTOCOLS = {"icmp": IpProtocol.ICMP, "udp": IpProtocol.UDP, "tcp": IpProtocol.TCP,
                  "esp": IpProtocol.ESP, "any": None}


def check_nat(lab: Lab, p: Params) -> Outcome:
    from iosim.net.nat import nat_engine

    router = _router(lab, p["device"])
    table = nat_engine(router).table
    protocol = _NAT_PROTOCOLS[str(p.get("protocol", "any"))]
    found = [t for t in table.entries()
             if all(getattr(t, key) == p[key] for key in _NAT_FIELDS if key in p)
             and (protocol is None or t.protocol == protocol)]
    asked = ", ".join(f"{k.replace('_', ' ')} {format_ip(int(p[k]))}"
                      for k in _NAT_FIELDS if k in p) or "any addresses"
    if p.get("present", True):
        if found:
            return Outcome(True, f"{p['device']} translates {asked} "
                                 f"({len(found)} translation(s))")
        return Outcome(False, f"{p['device']} has no NAT translation for {asked} "
                              f"({len(table)} translation(s) in all)")
    if found:
        t = found[0]
        return Outcome(False, f"{p['device']} translates {asked}: inside local "
                              f"{format_ip(t.inside_local)} -> inside global "
                              f"{format_ip(t.inside_global)}")
    return Outcome(True, f"{p['device']} has no NAT translation for {asked}")


_ROUTE_KINDS = ("any", "static", "connected", "reverse-route", "ospf")


def check_route(lab: Lab, p: Params) -> Outcome:
    """The router routes ``network``/``prefix`` (exactly that prefix), of the given kind;
    ``reverse-route``: put there by reverse route injection, not typed; ``ospf``: learnt by
    OSPF (O, O IA, O E1 or O E2), and in the table (not beaten by another source)."""
    router = _router(lab, p["device"])
    network, prefix = int(p["network"]), int(p.get("prefix", 24))
    mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    shown = f"{format_ip(network & mask)}/{prefix}"
    kind = str(p.get("kind", "any"))
    injected = [r for r in router.injected_routes.values()
                if (r.network, r.prefix_len) == (network & mask, prefix)
                and r.type not in OSPF_TYPES]
    routes = [r for r in router.routing_table().candidates()
              if (r.network, r.prefix_len) == (network & mask, prefix)]
    if kind == "reverse-route":
        if injected:
            return Outcome(True, f"{p['device']} has a reverse-route to {shown} via "
                                 f"{format_ip(injected[0].next_hop or 0)}")
        if routes:
            return Outcome(False, f"{p['device']} has a typed route to {shown}, not one "
                                  "reverse route injection put there")
        return Outcome(False, f"{p['device']} has no route at all to {shown}")
    if kind == "ospf":
        entry = next((e for e in router.routing_table().entries()
                      if (e.network, e.prefix_len) == (network & mask, prefix)), None)
        if entry is not None and entry.best.type in OSPF_TYPES:
            return Outcome(True, f"{p['device']} routes {shown} by OSPF ({entry.best.code}) "
                                 f"via {format_ip(entry.best.next_hop or 0)}")
        if entry is not None:
            return Outcome(False, f"{p['device']} routes {shown}, but not by OSPF "
                                  f"({entry.best.code})")
        return Outcome(False, f"{p['device']} has no route to {shown}")
    wanted = [r for r in routes if kind == "any" or r.type.name.lower() == kind]
    if not wanted:
        return Outcome(False, f"{p['device']} has no {'' if kind == 'any' else kind + ' '}"
                              f"route to {shown}")
    return Outcome(True, f"{p['device']} routes {shown} ({wanted[0].type.name.lower()})")


def check_tunnel_protection(lab: Lab, p: Params) -> Outcome:
    """The tunnel (of the ``mode`` and to the ``destination`` asked) is protected in fact,
    not only in its configuration: the IPsec profile it names exists (a missing one is
    accepted and kept by IOS, and protects nothing: a VTI naming one is down for that
    reason, so it is said first), the tunnel is up/up, the profile's transform sets are
    ones the router has, and (unless ``sa = false``) an IPsec SA pair protects the tunnel's
    traffic now."""
    device, name = str(p["device"]), str(p["interface"])
    router = _router(lab, device)
    where = f"{device}'s {name}"
    intf = router.config.interfaces.get(name)
    if intf is None:
        return Outcome(False, f"{device} has no interface {name}")
    t = tunnel_of(intf)
    transport = TRANSPORT_NAMES[t.mode]
    if "mode" in p and t.mode != _TUNNEL_MODES[str(p["mode"])]:
        return Outcome(False, f"{where} is a {transport} tunnel, not "
                              f"{TRANSPORT_NAMES[_TUNNEL_MODES[str(p['mode'])]]}")
    if "destination" in p and (t.destination is None
                               or int(t.destination) != int(p["destination"])):
        shown = format_ip(int(t.destination)) if t.destination is not None else "none"
        return Outcome(False, f"{where} has destination {shown}, not "
                              f"{format_ip(int(p['destination']))}")
    if t.protection is None:
        return Outcome(False, f"{where} has no tunnel protection: its traffic is not "
                              "protected")
    profile = crypto_of(router.config).ipsec_profile(t.protection)
    if profile is None:
        return Outcome(False, f"{where} names IPsec profile \"{t.protection}\", which "
                              f"{device} does not have: nothing protects the tunnel (no "
                              "crypto map is made for it, no IPsec SA negotiated)")
    status, protocol = router.interface_up(name)
    if (status, protocol) != ("up", "up"):
        return Outcome(False, f"{where} is {status}, line protocol is {protocol}")
    crypto = _plane(router)
    entry = crypto.tunnels.entry(name)
    if entry is None:
        return Outcome(False, f"{where}'s source has no usable address: IPsec profile "
                              f"\"{profile.name}\" cannot protect it")
    if crypto.spd.policy(entry.entry) is None:
        return Outcome(False, f"IPsec profile \"{profile.name}\" of {device} names no "
                              "transform set the router has: nothing can be negotiated")
    shown = (f"{where} is up ({transport}"
             + (f" to {format_ip(int(t.destination))}" if t.destination is not None else "")
             + f"), protected by IPsec profile \"{profile.name}\"")
    if not p.get("sa", True):
        return Outcome(True, shown)
    pairs = [b.pair for f in crypto.tunnels.flows() if f.interface == name
             for b in f.bundles]
    if not pairs:
        return Outcome(False, f"{shown}, but no IPsec SA pair protects its traffic: phase 2 "
                              "has not completed")
    pair = pairs[-1]
    return Outcome(True, f"{shown}, with an IPsec SA pair ({pair.protocol}, "
                         f"{pair.encryption or pair.ah_integrity}, {pair.mode} mode)")


_TUNNEL_MODES = {"gre": GRE, "ipsec": IPSEC}  # the lab file's word: the mode it asks for


@dataclass(frozen=True)
class CheckKind:
    """A row of the table: the parameters a check takes and what evaluates it."""

    params: dict[str, Param]
    run: Callable[[Lab, Params], Outcome]


_PROBE = {"from": Param("device", required=True), "to": Param("address", required=True),
          "source": Param("address"), "repeat": Param("int", low=1, high=100)}
_PROTECT = {**_PROBE, "through": Param("devices"), "min_percent": Param("int", high=100),
            "fresh": Param("bool"),
            "protocol": Param("text", choices=tuple(_PROTOCOL_KINDS))}

CHECKS: dict[str, CheckKind] = {
    "output": CheckKind({"device": Param("router", required=True),
                         "command": Param("text", required=True),
                         "contains": Param("texts"), "lacks": Param("texts"),
                         "regex": Param("regex")}, check_output),
    "ping": CheckKind({**_PROBE, "expect": Param("text", choices=("success", "failure")),
                       "min_percent": Param("int", low=0, high=100)}, check_ping),
    "protected": CheckKind(_PROTECT, check_protected),
    "encrypted": CheckKind(_PROTECT, check_encrypted),
    "cleartext": CheckKind({**_PROBE, "through": Param("devices")}, check_cleartext),
    "tunnel": CheckKind({"device": Param("router", required=True),
                         "peer": Param("address", required=True)}, check_tunnel),
    "isakmp_sa": CheckKind({"device": Param("router", required=True),
                            "peer": Param("address"), "present": Param("bool"),
                            "state": Param("text", choices=ISAKMP_STATES),
                            "encryption": Param("text", choices=("des", "3des", "aes",
                                                                 "aes 128", "aes 192",
                                                                 "aes 256")),
                            "hash": Param("text", choices=("md5", "sha", "sha256", "sha384",
                                                           "sha512")),
                            "group": Param("int", low=1, high=32),
                            "nat_t": Param("bool"), "aggressive": Param("bool"),
                            "lifetime": Param("int", low=60, high=86400)}, check_isakmp_sa),
    "ikev2_sa": CheckKind({"device": Param("router", required=True),
                           "peer": Param("address"), "present": Param("bool"),
                           "status": Param("text", choices=("READY", "IN-NEG", "DELETE")),
                           "encryption": Param("text", choices=tuple(CIPHERS)),
                           "prf": Param("text", choices=tuple(PRFS)),
                           "integrity": Param("text", choices=(*INTEGRITIES, "none")),
                           "group": Param("int", low=1, high=32)}, check_ikev2_sa),
    "ipsec_sa": CheckKind({"device": Param("router", required=True),
                           "peer": Param("address"), "present": Param("bool"),
                           "protocol": Param("text", choices=("esp", "ah", "ah+esp")),
                           "encryption": Param("text", choices=tuple(ENCRYPTION_TRANSFORMS)),
                           "integrity": Param("text",
                                              choices=tuple(ESP_INTEGRITY_TRANSFORMS)),
                           "ah": Param("text", choices=tuple(AH_TRANSFORMS)),
                           "mode": Param("text", choices=("tunnel", "transport")),
                           "pfs": Param("int", low=0, high=32), "udp_encap": Param("bool"),
                           "lifetime_seconds": Param("int", low=1),
                           "lifetime_kilobytes": Param("int", low=1),
                           **{f"min_{n}": Param("int") for n in _COUNTER_ATTRS}},
                          check_ipsec_sa),
    "counters": CheckKind({**_PROBE, "device": Param("router", required=True),
                           "peer": Param("address"), "at_least": Param("int", low=1)},
                          check_counters),
    "nat": CheckKind({"device": Param("router", required=True), "present": Param("bool"),
                      "inside_local": Param("address"), "inside_global": Param("address"),
                      "outside": Param("address"),
                      "protocol": Param("text", choices=tuple(_NAT_PROTOCOLS))}, check_nat),
    "route": CheckKind({"device": Param("router", required=True),
                        "network": Param("address", required=True),
                        "prefix": Param("int", high=32),
                        "kind": Param("text", choices=_ROUTE_KINDS)}, check_route),
    "tunnel_protection": CheckKind({"device": Param("router", required=True),
                                    "interface": Param("tunnel", required=True),
                                    "mode": Param("text", choices=tuple(_TUNNEL_MODES)),
                                    "destination": Param("address"), "sa": Param("bool")},
                                   check_tunnel_protection),
}


def known_check(name: str, where: str) -> str:
    if name not in CHECKS:
        raise LabError(f"{where}: unknown check {name!r} (checks: {', '.join(CHECKS)})")
    return name


__all__ = ["CHECKS", "CheckKind", "Outcome", "Param", "known_check"]
