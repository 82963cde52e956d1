"""Troubleshooting questions: the site-to-site VPN with one thing wrong, read from a lab run.

A fault (``FAULTS``) changes one router's half of the site-to-site configuration, R1's or R2's
(another pre-shared key, another ISAKMP policy attribute, another transform set), or
nothing. The question shows what a student would look at (R1's ping and ``show crypto
isakmp sa``, R2's ``debug crypto isakmp``, R1's ``show crypto ipsec sa``) and its answer is
a diagnosis of the live state, made by a table of what the routers show (``diagnose``), not
the fault the quiz injected: the injected fault only sets the lab up. (The tests check that
the two agree.)

====================================  ===========================================
R1's ISAKMP SA, IPsec SAs, R2's log    diagnosis
====================================  ===========================================
any state, IPsec SAs exist             nothing wrong
QM_IDLE, no IPsec SA                   phase 2: the transform sets do not match
MM_KEY_EXCH                            phase 1: the pre-shared keys differ
R2 said "policy not acceptable"        phase 1: no ISAKMP policy matches
anything else (MM_NO_STATE, none)      phase 1: the peer does not answer
====================================  ===========================================
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from iosim.quiz.lab_run import Live, LiveLab, Scenario, boot, changes, quote
from iosim.quiz.model import Question, cite, shuffled


@dataclass(frozen=True)
class Observation:
    """What the routers show after R1 tried to reach R2's LAN."""

    phase1: str | None  # state of R1's newest ISAKMP SA, None if it has none
    ipsec_sas: int  # R1's IPsec SA pairs
    refused: bool  # R2's debug said its policies refused R1's proposals


@dataclass(frozen=True)
class Cause:
    """A diagnosis: what is wrong and why the output says so; which phase failed and why."""

    what: str
    why: str
    phase: str
    phase_why: str


_PHASE1 = "Phase 1 (the ISAKMP SA)"
_PHASES = (_PHASE1, "Phase 2 (the IPsec SAs)", "Neither: both phases completed",
           "Neither: IKE never started, the ping was not interesting traffic")
_PHASE1_WHY = ("The ISAKMP SA never reached QM_IDLE, so phase 1 failed; without it quick mode "
               "(phase 2) cannot even start, hence no IPsec SA.")

CAUSES: dict[str, Cause] = {
    "ok": Cause("Nothing: both phases completed and traffic is protected",
                "QM_IDLE says phase 1 is up, and the IPsec SAs (with their SPIs and counters) "
                "say phase 2 is up too.",
                _PHASES[2],
                "QM_IDLE says phase 1 is up, and the SPIs under 'inbound esp sas:' and "
                "'outbound esp sas:' say phase 2 is up too; the '.' of the ping was the packet "
                "that started IKE."),
    "transform": Cause("The transform sets do not match",
                       "QM_IDLE says phase 1 completed, yet there is no IPsec SA: quick mode "
                       "fails, and the usual cause is that no transform set (or PFS group) is "
                       "accepted by both peers.",
                       _PHASES[1],
                       "QM_IDLE says phase 1 completed, but there is no SA under 'inbound esp "
                       "sas:' and the counters stay at 0: quick mode (phase 2) failed."),
    "psk": Cause("The pre-shared keys differ",
                 "MM_KEY_EXCH says the policy and the Diffie-Hellman exchange went through "
                 "and authentication failed: the keys derived from two different pre-shared "
                 "keys do not match, and R2 finds R1's message 5 'failed its sanity check' "
                 "(%CRYPTO-4-IKMP_BAD_MESSAGE).", _PHASE1, _PHASE1_WHY),
    "policy": Cause("No ISAKMP policy matches between the peers",
                    "MM_NO_STATE says main mode never got past its first exchange, and R2's "
                    "debug says why: its policy walk found an attribute that 'does not match "
                    "policy' and the 'phase 1 SA policy not acceptable'.", _PHASE1, _PHASE1_WHY),
    "unreachable": Cause("The peer does not answer (no route, or UDP 500 blocked)",
                         "R1 never got past its first main mode message and R2 never saw it.",
                         _PHASE1, _PHASE1_WHY),
}

#: The diagnosis table (see the module docstring): the first rule that holds names the cause.
RULES: tuple[tuple[Callable[[Observation], bool], str], ...] = (
    (lambda o: o.ipsec_sas > 0, "ok"),
    (lambda o: o.phase1 == "QM_IDLE", "transform"),
    (lambda o: o.phase1 == "MM_KEY_EXCH", "psk"),
    (lambda o: o.refused, "policy"),
    (lambda o: True, "unreachable"),
)


def diagnose(o: Observation) -> str:
    """The key in ``CAUSES`` of what the observation shows."""
    return next(cause for holds, cause in RULES if holds(o))


def observe(live: LiveLab, r2_log: str) -> Observation:
    """R1's live state and what R2's debug printed."""
    state = live.isakmp("R1")
    return Observation(state.state if state is not None else None,
                       len(live.flow("R1").bundles),
                       "policy not acceptable" in r2_log)


# ------------------------------------------------------------------ the faults set up

_WRONG_KEYS = ("SECRETKEY321", "secretkey123", "SECRETKEY124", "Cisco123")
_POLICY_CHANGES = {
    "encryption": ("aes 128", "3des", "aes 192"),
    "hash": ("sha", "md5", "sha384"),
    "group": (5, 2, 19),
    "authentication": ("rsa-sig",),
}
_TRANSFORMS = ("esp-3des esp-sha-hmac", "esp-aes esp-sha-hmac", "esp-aes 256 esp-md5-hmac",
               "esp-aes 192 esp-sha256-hmac")


#: Changed on R2 only: R1 with no pre-share policy has no way to authenticate (the routers
#: do pre-shared keys only) and starts no main mode at all, which is another lesson.
_R2_ONLY = frozenset({"authentication"})


def _one_side(rng: random.Random, **fields: object) -> Scenario:
    """The site-to-site VPN with ``fields`` changed on R1 or on R2 (drawn); R2 debugs ISAKMP."""
    if rng.random() < 0.5 and not _R2_ONLY & fields.keys():
        return Scenario(r1=changes(**fields), debug=("R2",))
    return Scenario(r2=changes(**fields), debug=("R2",))


def _with_key(rng: random.Random) -> Scenario:
    return _one_side(rng, key=rng.choice(_WRONG_KEYS))


def _with_policy(rng: random.Random) -> Scenario:
    attribute = rng.choice(tuple(_POLICY_CHANGES))
    return _one_side(rng, **{attribute: rng.choice(_POLICY_CHANGES[attribute])})


def _with_transform(rng: random.Random) -> Scenario:
    return _one_side(rng, transform=rng.choice(_TRANSFORMS))


def _as_seeded(rng: random.Random) -> Scenario:
    return Scenario(debug=("R2",))


FAULTS: dict[str, Callable[[random.Random], Scenario]] = {
    "psk": _with_key, "policy": _with_policy, "transform": _with_transform, "ok": _as_seeded,
}

_R2_CONSOLE = "--- meanwhile on R2's console ---"


def _try(live: LiveLab, rng: random.Random, most: int = 2) -> tuple[str, str]:
    """R1 pings R2's LAN (1 to ``most`` echoes, each a new try at IKE while there is no
    SA); the console text and what R2's debug printed meanwhile."""
    ping = live.shown("R1", live.addressing.ping("R1", rng.randint(1, most)))
    return ping, live.logs("R2")


def what_is_wrong(rng: random.Random, seed: str) -> Question:
    """A broken VPN (key, policy or transform set): what is wrong?"""
    fault = rng.choice(("psk", "policy", "transform"))
    with boot(FAULTS[fault](rng), seed) as live:
        ping, r2_log = _try(live, rng)
        show = live.shown("R1", "show crypto isakmp sa")
        cause = diagnose(observe(live, r2_log))
    wrong = [k for k in ("psk", "policy", "transform", "unreachable") if k != cause]
    answer = shuffled(rng, CAUSES[cause].what, [CAUSES[k].what for k in wrong])
    state_line = _state_line(show)
    why = (f"R1's ISAKMP SA:{cite(state_line)}" if state_line else "") + CAUSES[cause].why
    return Question("troubleshoot", "What is wrong?", answer, why,
                    "R1 and R2 are configured for the site-to-site VPN, but one thing differs "
                    "between them. R1 pings R2's LAN and shows its ISAKMP SAs; R2 runs debug "
                    "crypto isakmp:",
                    f"{ping}{show}\n{_R2_CONSOLE}\n{r2_log.rstrip()}")


def failed_phase(rng: random.Random, seed: str) -> Question:
    """A VPN that may be broken: which phase failed?"""
    fault = rng.choice(tuple(FAULTS))
    with boot(FAULTS[fault](rng), seed) as live:
        ping, r2_log = _try(live, rng)
        isakmp = live.shown("R1", "show crypto isakmp sa")
        ipsec = live.shown("R1", "show crypto ipsec sa")
        cause = diagnose(observe(live, r2_log))
    right = CAUSES[cause].phase
    answer = shuffled(rng, right, [p for p in _PHASES if p != right])
    state_line = _state_line(isakmp)
    why = (f"R1's ISAKMP SA:{cite(state_line)}" if state_line else "R1 has no ISAKMP SA. "
           ) + CAUSES[cause].phase_why
    return Question("troubleshoot", "Which IKE phase failed?", answer, why,
                    "R1 and R2 are configured for the site-to-site VPN, perhaps with one thing "
                    "different between them. R1 pings R2's LAN and shows its SAs:",
                    f"{ping}{isakmp}{ipsec.rstrip()}")


_ATTRIBUTE_NAMES = {"encryption": "The encryption algorithm", "hash": "The hash algorithm",
                    "group": "The Diffie-Hellman group",
                    "authentication": "The authentication method"}


def policy_attribute(rng: random.Random, seed: str) -> Question:
    """No matching ISAKMP policy: which attribute differs? (read R2's policy walk)"""
    with boot(_with_policy(rng), seed) as live:
        ping, r2_log = _try(live, rng, most=1)
        r1 = live.crypto("R1").spd.crypto.policies[10]
        r2 = live.crypto("R2").spd.crypto.policies[10]
    differs = [a for a in _ATTRIBUTE_NAMES if getattr(r1, a) != getattr(r2, a)]
    right = _ATTRIBUTE_NAMES[differs[0]]
    answer = shuffled(rng, right, [n for n in _ATTRIBUTE_NAMES.values() if n != right])
    why = (f"R2 checks R1's proposal against its policy 10 and says:"
           f"{cite(quote(r2_log, 'does not match policy'))}"
           f"R1's policy 10 has {differs[0]} {getattr(r1, differs[0])}, R2's has "
           f"{getattr(r2, differs[0])}: every attribute but the lifetime must match.")
    return Question("troubleshoot", "Which attribute of the ISAKMP policy differs?", answer,
                    why, "R1 and R2 are configured for the site-to-site VPN, but one attribute of "
                    "their ISAKMP policy 10 differs. R1 pings R2's LAN; R2 runs debug crypto "
                    "isakmp:", f"{ping}\n{_R2_CONSOLE}\n{r2_log.rstrip()}")


def _state_line(show: str) -> str:
    """The last row of ``show crypto isakmp sa`` (R1's newest ISAKMP SA), or ""."""
    rows = [line.strip() for line in show.splitlines() if "ACTIVE" in line]
    return rows[-1] if rows else ""


LIVE_FAULTS: tuple[Live, ...] = (
    Live("live-what-is-wrong", "troubleshoot", what_is_wrong),
    Live("live-failed-phase", "troubleshoot", failed_phase),
    Live("live-policy-attribute", "troubleshoot", policy_attribute),
)
