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
|             | them (``encrypted`` is the same with ESP required: AH does not encrypt)       |
| tunnel      | a router has an ISAKMP SA in QM_IDLE and an IPsec SA pair with a peer         |
| isakmp_sa   | an ISAKMP SA with the given state and negotiated attributes (or none)         |
| ipsec_sa    | an IPsec SA pair with the given transforms, mode, PFS, lifetimes, counters    |
| counters    | a probe makes a flow's #pkts encaps/decaps move                               |
| nat         | a NAT translation matching the given addresses exists (or does not)           |
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from iosim.lab.schema import LabError, Table
from iosim.net.packets import (
    EtherType,
    IpProtocol,
    PacketError,
    format_ip,
    pull_ipv4,
)

if TYPE_CHECKING:
    from iosim.ike.engine import IsakmpSaState
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


# ---------------------------------------------------------------- parameter types


@dataclass(frozen=True)
class Param:
    """One parameter of a check: its type and whether it must be given."""

    kind: str  # "router" | "device" | "address" | "text" | "texts" | "regex" | "int" | "bool"
    required: bool = False
    low: int = 0
    high: int = 2**32
    choices: tuple[str, ...] = ()


def _texts(spec: Table, key: str) -> tuple[str, ...]:
    raw = spec.raw(key)
    if isinstance(raw, str):
        return (spec.text(key, max_len=2000),)
    return tuple(spec.text_list(key))


def _read_param(spec: Table, key: str, param: Param, devices: Mapping[str, str],
                sub: Callable[[str, str], str]) -> object:
    where = f"{spec.where}.{key}"
    if param.kind in ("router", "device"):
        name = spec.text(key, max_len=64)
        kind = devices.get(name)
        if kind is None or (param.kind == "router" and kind != "router"):
            what = "router" if param.kind == "router" else "device"
            raise spec.error(key, f"no {what} named {name!r} in this lab")
        return name
    if param.kind == "address":
        text = sub(spec.text(key, max_len=64), where)
        try:
            return int(IPv4Address(text))
        except ValueError:
            raise spec.error(key, f"{text!r} is not an IPv4 address") from None
    if param.kind == "text":
        text = sub(spec.text(key, max_len=2000), where)
        if param.choices and text not in param.choices:
            raise spec.error(key, f"must be one of {', '.join(param.choices)}, not {text!r}")
        return text
    if param.kind == "texts":
        return tuple(sub(t, where) for t in _texts(spec, key))
    if param.kind == "regex":
        text = sub(spec.text(key, max_len=2000), where)
        try:
            return re.compile(text, re.MULTILINE)
        except re.error as e:
            raise spec.error(key, f"not a regular expression: {e}") from None
    if param.kind == "int":
        raw = spec.raw(key)
        if isinstance(raw, str):  # "{{group}}": a number drawn per seed
            text = sub(spec.text(key, max_len=64), where)
            if not text.isdigit() or not param.low <= int(text) <= param.high:
                raise spec.error(key, f"must be a whole number between {param.low} and "
                                      f"{param.high}, not {text!r}")
            return int(text)
        return spec.integer(key, low=param.low, high=param.high)
    if param.kind == "bool":
        return spec.flag(key, False)
    if param.kind == "devices":
        names = spec.text_list(key)
        for name in names:
            if name not in devices:
                raise spec.error(key, f"no device named {name!r} in this lab")
        return tuple(names)
    raise AssertionError(param.kind)  # pragma: no cover - the table names known kinds


def read_params(check: str, spec: Table, devices: Mapping[str, str],
                sub: Callable[[str, str], str], common: frozenset[str]) -> dict[str, object]:
    """The parameters of one objective, typed and checked against ``CHECKS[check]``."""
    kind = CHECKS[check]
    spec.unknown(common | set(kind.params))
    out: dict[str, object] = {}
    for key, param in kind.params.items():
        if key in spec:
            out[key] = _read_param(spec, key, param, devices, sub)
        elif param.required:
            raise spec.error(key, f"missing (the {check} check needs it)")
    return out


# ---------------------------------------------------------------- helpers


def _router(lab: Lab, name: str) -> Router:
    return lab.routers[name]


def _peer_of(state: IsakmpSaState) -> int:
    return state.dst if state.initiator else state.src


def _isakmp_states(router: Router) -> list[IsakmpSaState]:
    plane = router.crypto_plane
    isakmp_states = getattr(plane, "isakmp_states", None)
    return list(isakmp_states()) if isakmp_states is not None else []


def _flows(router: Router) -> list[FlowView]:
    plane = router.crypto_plane
    flows = getattr(plane, "flows", None)
    return list(flows()) if flows is not None else []


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


_PROTECTED_KINDS = {IpProtocol.ESP: "esp", IpProtocol.AH: "ah"}


def _classify(datagram: bytes) -> tuple[str, int, int] | None:
    """(``esp`` | ``ah`` | ``ah+esp`` | ``esp-udp`` | ``clear``, src, dst) of an IPv4 datagram;
    None for IKE, NAT keepalives and what does not parse."""
    try:
        packet = pull_ipv4(datagram)
    except PacketError:
        return None
    proto = packet.protocol
    if proto == IpProtocol.AH:
        inner_next = packet.payload[0] if packet.payload else 0
        return ("ah+esp" if inner_next == IpProtocol.ESP else "ah"), packet.src, packet.dst
    if proto == IpProtocol.ESP:
        return "esp", packet.src, packet.dst
    if proto == IpProtocol.UDP and len(packet.payload) >= 8:
        ports = packet.payload[:4]
        if ports[2:4] == b"\x11\x94" or ports[0:2] == b"\x11\x94":  # UDP 4500
            body = packet.payload[8:]
            if len(body) <= 1 or body[:4] == bytes(4):
                return None  # a NAT keepalive, or IKE behind the non-ESP marker
            return "esp-udp", packet.src, packet.dst
        if ports[2:4] == b"\x01\xf4":  # UDP 500: IKE
            return None
    return "clear", packet.src, packet.dst


def _watched(lab: Lab, p: Params, source_dev: str, target: int) -> list[Link]:
    """The links whose traffic must be protected: those of the ``through`` devices, or
    every link that touches neither end of the probe."""
    ends = {source_dev}
    for name in [*lab.routers, *lab.hosts]:
        if _stack_of(lab, name).owns(target) is not None:
            ends.add(name)
    through = p.get("through")
    links = []
    for link in lab.fabric.links:
        devices = {d for d, _ in link.ends}
        if through:
            if devices & set(through):
                links.append(link)
        elif not devices & ends:
            links.append(link)
    return links


def check_protected(lab: Lab, p: Params, *, need_encryption: bool = False) -> Outcome:
    repeat = int(p.get("repeat", 5))
    source_dev = str(p["from"])
    target = int(p["to"])
    source = _source_address(lab, source_dev, p)
    watched = {id(link) for link in _watched(lab, p, source_dev, target)}
    seen: dict[str, int] = {}
    leaks: list[str] = []

    def tap(link: Link, frame: bytes) -> None:
        if id(link) not in watched or frame[12:14] != EtherType.IPV4.to_bytes(2, "big"):
            return
        found = _classify(frame[14:])
        if found is None:
            return
        kind, src, dst = found
        if kind != "clear":
            seen[kind] = seen.get(kind, 0) + 1
            return
        pair = {src, dst}
        if target in pair and (source is None or source in pair):
            leaks.append(f"{format_ip(src)} -> {format_ip(dst)} on {link.name}")

    lab.fabric.taps.append(tap)
    try:
        marks = _probe(lab, source_dev, p, repeat)
    finally:
        lab.fabric.taps.remove(tap)
    what = f"ping from {source_dev} to {format_ip(target)}: {_marks_text(marks)}"
    if not watched:
        return Outcome(False, f"{what}; no link lies between the two ends to watch")
    if "!" not in marks:
        return Outcome(False, f"{what}; nothing got through")
    if leaks:
        return Outcome(False, f"{what}, but in clear text: {leaks[0]}")
    carried = ", ".join(f"{n} {k.upper()}" for k, n in sorted(seen.items())) or "nothing"
    want = str(p.get("protocol", "any"))
    if not seen:
        return Outcome(False, f"{what}; no ESP or AH seen on the watched links")
    if need_encryption and set(seen) <= {"ah"}:
        return Outcome(False, f"{what}; carried by AH only ({carried}): AH authenticates "
                              "but does not encrypt")
    if want != "any":
        kinds = {"esp": {"esp", "esp-udp"}, "esp-udp": {"esp-udp"}, "ah": {"ah", "ah+esp"},
                 "ah+esp": {"ah+esp"}}[want]
        if not set(seen) & kinds:
            return Outcome(False, f"{what}; carried by {carried}, not {want.upper()}")
    return Outcome(True, f"{what}; the watched links carried {carried} packets, "
                         "no clear text")


def check_encrypted(lab: Lab, p: Params) -> Outcome:
    return check_protected(lab, p, need_encryption=True)


def _matching_states(router: Router, p: Params) -> list[IsakmpSaState]:
    peer = p.get("peer")
    return [s for s in _isakmp_states(router)
            if peer is None or _peer_of(s) == peer]


def _describe_state(s: IsakmpSaState) -> str:
    return f"{format_ip(_peer_of(s))} in {s.state}"


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


#: isakmp_sa parameter -> (what the SA shows, how to say it)
_ISAKMP_ATTRS: dict[str, Callable[[IsakmpSaState], object]] = {
    "encryption": lambda s: s.encryption if s.encryption != "aes" else "aes 128",
    "hash": lambda s: s.hash,
    "group": lambda s: s.group,
    "nat_t": lambda s: s.nat_t,
    "aggressive": lambda s: s.aggressive,
    "lifetime": lambda s: s.lifetime,
}


def _normal_cipher(text: str) -> str:
    return "aes 128" if text.strip() == "aes" else " ".join(text.split())


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
            want: object = p[key]
            have = get(s)
            if key == "encryption":
                want = _normal_cipher(str(want))
            if have != want:
                misses.append(f"{key} is {have}, the lab asks for {want}")
        if not misses:
            return Outcome(True, f"{p['device']} has an ISAKMP SA with "
                                 f"{format_ip(_peer_of(s))} in {s.state}"
                                 + (", attributes as asked"
                                    if any(k in p for k in _ISAKMP_ATTRS) else ""))
    return Outcome(False, f"the ISAKMP SA of {p['device']}{peer}: " + "; ".join(misses))


#: ipsec_sa parameters read off the newest pair of a flow
_PAIR_ATTRS: dict[str, Callable[[Any], object]] = {
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
            have = getattr(flow.counters, name, 0)
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


_NAT_FIELDS = {"inside_local": "inside_local", "inside_global": "inside_global",
               "outside": "outside"}
_NAT_PROTOCOLS = {"icmp": IpProtocol.ICMP, "udp": IpProtocol.UDP, "tcp": IpProtocol.TCP,
                  "esp": IpProtocol.ESP, "any": None}


def check_nat(lab: Lab, p: Params) -> Outcome:
    from iosim.net.nat import nat_engine

    router = _router(lab, p["device"])
    table = nat_engine(router).table
    protocol = _NAT_PROTOCOLS[str(p.get("protocol", "any"))]
    found = [t for t in table.entries()
             if all(getattr(t, attr) == p[key] for key, attr in _NAT_FIELDS.items() if key in p)
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


@dataclass(frozen=True)
class CheckKind:
    """A row of the table: the parameters a check takes and what evaluates it."""

    params: dict[str, Param]
    run: Callable[[Lab, Params], Outcome]


_PROBE = {"from": Param("device", required=True), "to": Param("address", required=True),
          "source": Param("address"), "repeat": Param("int", low=1, high=100)}
_PROTECT = {**_PROBE, "through": Param("devices"),
            "protocol": Param("text", choices=("any", "esp", "esp-udp", "ah", "ah+esp"))}

CHECKS: dict[str, CheckKind] = {
    "output": CheckKind({"device": Param("router", required=True),
                         "command": Param("text", required=True),
                         "contains": Param("texts"), "lacks": Param("texts"),
                         "regex": Param("regex")}, check_output),
    "ping": CheckKind({**_PROBE, "expect": Param("text", choices=("success", "failure")),
                       "min_percent": Param("int", low=0, high=100)}, check_ping),
    "protected": CheckKind(_PROTECT, check_protected),
    "encrypted": CheckKind(_PROTECT, check_encrypted),
    "tunnel": CheckKind({"device": Param("router", required=True),
                         "peer": Param("address", required=True)}, check_tunnel),
    "isakmp_sa": CheckKind({"device": Param("router", required=True),
                            "peer": Param("address"), "present": Param("bool"),
                            "state": Param("text"), "encryption": Param("text"),
                            "hash": Param("text", choices=("md5", "sha", "sha256", "sha384",
                                                           "sha512")),
                            "group": Param("int", low=1, high=32),
                            "nat_t": Param("bool"), "aggressive": Param("bool"),
                            "lifetime": Param("int", low=60, high=86400)}, check_isakmp_sa),
    "ipsec_sa": CheckKind({"device": Param("router", required=True),
                           "peer": Param("address"), "present": Param("bool"),
                           "protocol": Param("text", choices=("esp", "ah", "ah+esp")),
                           "encryption": Param("text"), "integrity": Param("text"),
                           "ah": Param("text"),
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
}


def known_check(name: str, where: str) -> str:
    if name not in CHECKS:
        raise LabError(f"{where}: unknown check {name!r} (checks: {', '.join(CHECKS)})")
    return name


__all__ = ["CHECKS", "CheckKind", "Outcome", "Param", "known_check", "read_params"]
