"""Read-this-output questions on a working VPN: the output comes from a lab run made for the
question, and so does the answer.

Each builder draws what varies (who pings, how often, which router is asked, how long to
wait, which policy the routers use, whether the ISP does PAT), boots the site-to-site VPN, shows
the commands and their output, and reads the answer from the router's live state: the flow's
counters, the SA pair's SPIs and lifetimes, the ISAKMP SA's negotiated suite. The explanation
quotes the line of the shown output that holds the answer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from iosim.quiz.lab_run import (
    PINGERS,
    Live,
    LiveLab,
    Scenario,
    ScenarioError,
    boot,
    changes,
    marks,
    quote,
)
from iosim.quiz.model import ChoiceAnswer, Question, ValueAnswer, cite, shuffled

_ROUTERS = ("R1", "R2")


def _ping_rounds(rng: random.Random, live: LiveLab, most: int = 2, nat: bool = False
                 ) -> list[str]:
    """One or more pings across the VPN (who pings and how many echoes drawn); the console
    text of each. Behind the ISP's PAT only R1's side can start the tunnel: nothing outside
    knows where to send a packet for the NAT's address before R1 has sent one."""
    pingers = ("R1", "PC1") if nat else PINGERS
    rounds = [(rng.choice(pingers), rng.randint(3, 12)) for _ in range(rng.randint(1, most))]
    return [live.shown(device, live.addressing.ping(device, n)) for device, n in rounds]


def _transcript(parts: list[str]) -> str:
    """Console texts one after the other."""
    return "\n".join(part.rstrip("\n") for part in parts)


def _later(before: list[str], minutes: int, after: str) -> str:
    """Console texts, then a pause of ``minutes``, then ``after``."""
    return _transcript([*before, f"   ... {minutes} minutes later ...", after])


@dataclass(frozen=True)
class _Counter:
    """A packet counter of ``show crypto ipsec sa`` and how the question names it."""

    verb: str  # "encrypt"
    field: str  # "#pkts encaps:"
    attribute: str  # of SaCounters


_COUNTERS = (_Counter("encrypt", "#pkts encaps:", "encaps"),
             _Counter("decrypt", "#pkts decaps:", "decaps"))


def packets(rng: random.Random, seed: str) -> Question:
    """How many packets did a router encrypt (or decrypt), after drawn pings."""
    router, counter = rng.choice(_ROUTERS), rng.choice(_COUNTERS)
    with boot(Scenario(), seed) as live:
        pings = _ping_rounds(rng, live)
        show = live.shown(router, "show crypto ipsec sa")
        value = getattr(live.flow(router).counters, counter.attribute)
    got = marks("".join(pings))
    bangs, lost = got.count("!"), got.count(".")
    why = [f"{router}'s show crypto ipsec sa counts the packets it {counter.verb}ed through "
           f"the tunnel:{cite(quote(show, counter.field))}That is {value}."]
    if bangs == value:
        why.append(f"Each '!' is an echo request that crossed the tunnel one way and a reply "
                   f"that crossed it back, so each router encrypted one packet and decrypted "
                   f"one per '!': {bangs} in all.")
    if lost:
        why.append("A '.' is an echo that never made it: the first packet for a peer with no "
                   "IPsec SA starts IKE and is dropped while phase 1 and 2 run.")
    return Question("output", f"How many packets did {router} {counter.verb}?",
                    ValueAnswer("number", value), " ".join(why),
                    f"The site-to-site VPN is configured on R1 and R2. Pings cross it, then "
                    f"{router} shows its IPsec SAs:", _transcript([*pings, show]))


def inbound_spi(rng: random.Random, seed: str) -> Question:
    """The SPI of a router's inbound ESP SA."""
    router = rng.choice(_ROUTERS)
    with boot(Scenario(), seed) as live:
        pings = _ping_rounds(rng, live, most=1)
        show = live.shown(router, "show crypto ipsec sa")
        bundle = live.bundle(router)
        spi, outbound = bundle.inbound.spi, bundle.outbound.spi
    line = quote(show, "spi:", after="inbound esp sas:")
    why = (f"Under 'inbound esp sas:' the SA that decrypts what {router} receives has its "
           f"SPI on the line{cite(line)}that is 0x{spi:X}. The 'current outbound spi' "
           f"(0x{outbound:X}) is "
           f"the other SA of the pair, the peer's inbound one: each receiver chooses the SPI "
           f"of its inbound SA.")
    return Question("output", f"What is the SPI of {router}'s inbound ESP SA?",
                    ValueAnswer("spi", spi), why,
                    f"The site-to-site VPN is up; {router} shows its IPsec SAs:",
                    _transcript([*pings, show]))


def current_peer(rng: random.Random, seed: str) -> Question:
    """The peer a router's SAs go to (behind PAT, R2 sees the ISP's address)."""
    router, nat = rng.choice(_ROUTERS), rng.random() < 0.5
    with boot(Scenario(nat=nat), seed) as live:
        pings = _ping_rounds(rng, live, most=1, nat=nat)
        show = live.shown(router, "show crypto ipsec sa")
        peer = live.flow(router).peer
        a = live.addressing
    why = (f"The current_peer line names the address {router} exchanges IKE and ESP with:"
           f"{cite(quote(show, 'current_peer'))}")
    if nat:
        why += (f"The ISP translates R1's {a.r1_outside.ip} to its own {a.isp_r2} (PAT), so "
                f"R2 sees R1 at {a.isp_r2}, and its key and set peer name that address.")
    setting = "The ISP translates R1's outside address (PAT). " if nat else ""
    return Question("output", f"Which address is {router}'s current peer?",
                    ValueAnswer("address", peer), why,
                    f"{setting}The site-to-site VPN is up; {router} shows its IPsec SAs:",
                    _transcript([*pings, show]))


def phase2_lifetime(rng: random.Random, seed: str) -> Question:
    """Seconds an inbound ESP SA has left, some minutes after it was made."""
    router, minutes = rng.choice(_ROUTERS), rng.randint(2, 50)
    with boot(Scenario(), seed) as live:
        pings = _ping_rounds(rng, live, most=1)
        live.wait(minutes * 60)
        show = live.shown(router, "show crypto ipsec sa")
        sa = live.bundle(router).inbound
        left = max(0, int(sa.created + sa.lifetime_seconds - live.now))
    line = quote(show, "sa timing:", after="inbound esp sas:")
    why = (f"The inbound SA's sa timing line gives the kilobytes and seconds it has left:"
           f"{cite(line)}{left} s of its {sa.lifetime_seconds} s (IPsec SAs live 3,600 s or "
           f"4,608,000 KB by default). IOS negotiates new SAs before they run out.")
    return Question("output", f"How many seconds does {router}'s inbound ESP SA have left?",
                    ValueAnswer("number", left), why,
                    f"The site-to-site VPN comes up; {minutes} minutes later {router} shows its "
                    f"IPsec SAs:", _later(pings, minutes, show))


def phase1_lifetime(rng: random.Random, seed: str) -> Question:
    """Time an ISAKMP SA has left (the Lifetime column of the detail table)."""
    router, minutes = rng.choice(_ROUTERS), rng.randint(5, 600)
    with boot(Scenario(), seed) as live:
        pings = _ping_rounds(rng, live, most=1)
        live.wait(minutes * 60)
        show = live.shown(router, "show crypto isakmp sa detail")
        state = live.isakmp(router)
    if state is None:
        raise ScenarioError(f"{router} has no ISAKMP SA")
    left = int(state.lifetime_left)
    hms = f"{left // 3600}:{left % 3600 // 60:02d}:{left % 60:02d}"
    why = (f"The Lifetime column of the ISAKMP SA's row is the time it has left, as H:MM:SS:"
           f"{cite(quote(show, 'ACTIVE'))}{hms}, of the policy's 86,400 s (24 h, the default).")
    return Question("output", f"How long does {router}'s ISAKMP SA have left?",
                    ValueAnswer("duration", left), why,
                    f"The site-to-site VPN comes up; {minutes} minutes later {router} shows its "
                    f"ISAKMP SAs in detail:", _later(pings, minutes, show))


_ENCRYPTIONS = ("aes 256", "aes 192", "aes", "3des")
_HASHES = ("sha", "sha256", "sha384", "sha512", "md5")
_GROUPS = (2, 5, 14, 15, 19, 20)


@dataclass(frozen=True)
class _Negotiated:
    """An attribute of the ISAKMP SA as the detail table prints it, and its column."""

    name: str
    column: str
    choices: tuple[str, ...]


_ATTRIBUTES = (
    _Negotiated("encryption", "Encr", ("aes", "3des", "des")),
    _Negotiated("hash", "Hash", _HASHES),
    _Negotiated("group", "DH", tuple(str(g) for g in _GROUPS)),
)


def negotiated(rng: random.Random, seed: str) -> Question:
    """Which encryption, hash or DH group phase 1 negotiated (the policy drawn)."""
    policy = {"encryption": rng.choice(_ENCRYPTIONS), "hash": rng.choice(_HASHES),
              "group": rng.choice(_GROUPS)}
    router, asked = rng.choice(_ROUTERS), rng.choice(_ATTRIBUTES)
    scenario = Scenario(changes(**policy), changes(**policy))
    with boot(scenario, seed) as live:
        pings = _ping_rounds(rng, live, most=1)
        show = live.shown(router, "show crypto isakmp sa detail")
        state = live.isakmp(router)
    if state is None:
        raise ScenarioError(f"{router} has no ISAKMP SA")
    value = {"encryption": state.encryption.split()[0], "hash": state.hash,
             "group": str(state.group)}[asked.name]
    answer: ChoiceAnswer = shuffled(rng, value, [c for c in asked.choices if c != value])
    why = (f"In the ISAKMP SA's row{cite(quote(show, 'ACTIVE'))}the {asked.column} column "
           f"says {value}: the "
           f"{asked.name} both peers' ISAKMP policies agreed on in main mode.")
    name = "Diffie-Hellman group" if asked.name == "group" else asked.name
    return Question("output", f"Which {name} did phase 1 negotiate?", answer, why,
                    f"R1 and R2 run the site-to-site VPN with another ISAKMP policy; {router} "
                    f"shows its ISAKMP SAs in detail:", _transcript([*pings, show]))


_IN_UDP = "In UDP port 4500 (NAT-T): a NAT was found between the peers"
_AS_ESP = "As IP protocol 50: there is no NAT between the peers"
_ENCAP_WRONG = ("In UDP port 500, with the IKE messages",
                "As IP protocol 51 (AH), which is how IPsec crosses NAT")


def nat_traversal(rng: random.Random, seed: str) -> Question:
    """Does ESP travel in UDP 4500 or as protocol 50 (the ISP doing PAT, or not)?"""
    router, nat = rng.choice(_ROUTERS), rng.random() < 0.5
    with boot(Scenario(nat=nat), seed) as live:
        pings = _ping_rounds(rng, live, most=1, nat=nat)
        show = live.shown(router, "show crypto ipsec sa")
        udp = live.bundle(router).pair.udp_encap
    right, other = (_IN_UDP, _AS_ESP) if udp else (_AS_ESP, _IN_UDP)
    answer = shuffled(rng, right, (other, *_ENCAP_WRONG))
    settings = quote(show, "in use settings")
    why = (f"The lines{cite(quote(show, 'current_peer'))}{cite(settings)}tell: "
           + ("UDP-Encaps and port 4500 mean IKE detected NAT (NAT-D payloads) and ESP is "
              "carried in UDP 4500 so that the PAT can translate it. AH cannot cross NAT."
              if udp else
              "port 500 and plain Tunnel mean no NAT was detected, so ESP travels as IP "
              "protocol 50 and IKE stays on UDP 500."))
    return Question("output", "How does the ESP traffic travel between R1 and R2?", answer,
                    why, f"The site-to-site VPN is up; {router} shows its IPsec SAs:",
                    _transcript([*pings, show]))


LIVE_OUTPUT: tuple[Live, ...] = (
    Live("live-packets", "output", packets),
    Live("live-inbound-spi", "output", inbound_spi),
    Live("live-current-peer", "output", current_peer),
    Live("live-phase2-lifetime", "output", phase2_lifetime),
    Live("live-phase1-lifetime", "output", phase1_lifetime),
    Live("live-negotiated", "output", negotiated),
    Live("live-nat-traversal", "output", nat_traversal),
)
