"""Fill in the command: the question names what to do, the student types the IOS command.

A reply is judged by the project's own command matcher, as the router would read it, so any
abbreviation IOS accepts counts (``sh cry ips sa``) and a command that parses as another rule
does not (``show crypto isakmp sa`` for phase 2). The reply must parse, in the question's
mode, as the expected grammar rule with the same arguments as the model answer, except those
the question leaves free (the key of ``crypto isakmp key KEY address A``) and those it allows
on top (``detail``, ``| include ...``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from iosim import features
from iosim.cli.errors import CliError
from iosim.cli.matcher import Match, parse
from iosim.cli.modes import MODES
from iosim.quiz.model import Question, Verdict

#: Words that only say IOS's default, so a reply may add them: AES's 128-bit key.
_DEFAULT_WORDS = frozenset({("CTS_128", "128")})

#: Output modifiers may follow any show command.
PIPES = frozenset({"PIPE", "PIPE_INCLUDE", "PIPE_EXCLUDE", "PIPE_BEGIN", "PIPE_SECTION",
                   "PIPE_COUNT", "PIPE_REGEX"})


def prompt_of(mode: str, hostname: str = "R1") -> str:
    """The router prompt of CLI mode ``mode`` (``R1(config-isakmp)#``)."""
    features.load()  # the feature modules register their modes (crypto's sub-modes)
    return hostname + MODES[mode].suffix


@dataclass(frozen=True)
class CommandAnswer:
    """An IOS command typed in ``mode``: the grammar ``rule`` with ``model``'s arguments."""

    mode: str
    rule: str
    model: str  # the answer in full words
    free: frozenset[str] = frozenset()  # terminals whose value may differ from the model's
    optional: frozenset[str] = frozenset()  # terminals a reply may add

    @property
    def hint(self) -> str:
        return f"(type the command at the {prompt_of(self.mode)} prompt; abbreviations are fine)"

    @property
    def retry(self) -> str:
        return "Please type a command."

    def listing(self) -> str:
        return ""

    def _parse(self, line: str) -> Match:
        features.load()
        return parse(MODES[self.mode].start, line)

    def fits(self, m: Match) -> bool:
        """Whether a parsed reply is the model answer (up to free and optional words, and
        words IOS takes as its default: ``esp-aes 128`` is ``esp-aes``)."""
        if self.rule not in m.rules:
            return False
        want = self._parse(self.model)
        said = [a for a in m.args if (a.terminal, a.value) not in _DEFAULT_WORDS]
        got = {(a.terminal, a.value) for a in said}
        terminals = {a.terminal for a in said}
        for a in want.args:
            if a.terminal in self.free:
                if a.terminal not in terminals:
                    return False
            elif (a.terminal, a.value) not in got:
                return False
        allowed = {a.terminal for a in want.args} | self.optional | PIPES
        return terminals <= allowed

    def judge(self, reply: str) -> Verdict | None:
        line = reply.strip()
        if not line:
            return None
        prompt = prompt_of(self.mode)
        try:
            m = self._parse(line)
        except CliError as e:
            return Verdict(False, f"The router would answer:\n{prompt}{line}\n"
                                  f"{e.render(len(prompt)).rstrip()}")
        return Verdict(self.fits(m), "Your answer reads as: " + " ".join(a.value for a in m.args))

    def solution(self) -> str:
        return self.model


@dataclass(frozen=True)
class Ask:
    """A fill-in-the-command question: ``variants`` are (question, model answer) pairs, one
    drawn per quiz; ``why`` is the explanation (``{answer}`` is the drawn model answer)."""

    key: str
    mode: str
    rule: str
    variants: tuple[tuple[str, str], ...]
    why: str
    free: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    topic: str = "commands"

    def answer(self, model: str) -> CommandAnswer:
        """The answer to the variant whose model answer is ``model``."""
        return CommandAnswer(self.mode, self.rule, model, self.free, self.optional)

    def make(self, rng: random.Random, lab_seed: str = "") -> Question:
        text, model = rng.choice(self.variants)
        return Question(self.topic, text, self.answer(model), self.why.format(answer=model))


_PEERS = ("203.0.113.2", "198.51.100.1", "203.0.113.6", "192.0.2.10")
_ISA_DETAIL = frozenset({"SCRY_ISA_DETAIL"})
_IPSEC_SA_EXTRAS = frozenset({"SCRY_IPSEC_DETAIL", "SCRY_IPSEC_PEER", "SCRY_IPSEC_PEER_ADDR",
                              "SCRY_IPSEC_INTERFACE", "SCRY_IPSEC_IF"})

ASKS: tuple[Ask, ...] = (
    # ---------------------------------------------------------------- EXEC: verify
    Ask("cmd-show-ipsec-sa", "exec", "show_crypto_ipsec_sa",
        (("Which command shows the phase-2 (IPsec) SAs and their packet counters?",
          "show crypto ipsec sa"),
         ("Which command shows the SPIs of the inbound and outbound ESP SAs?",
          "show crypto ipsec sa")),
        "{answer} lists each protected flow with #pkts encaps/decaps and its inbound and "
        "outbound SAs (SPI, transform, remaining lifetime). 'sh cry ips sa' is the same "
        "command abbreviated.", optional=_IPSEC_SA_EXTRAS),
    Ask("cmd-show-isakmp-sa", "exec", "show_crypto_isakmp_sa",
        (("Which command shows the phase-1 (ISAKMP) SAs and their state?",
          "show crypto isakmp sa"),
         ("Which command tells you whether phase 1 reached QM_IDLE?", "show crypto isakmp sa")),
        "{answer} lists the ISAKMP SAs: dst, src, state (QM_IDLE when phase 1 is up), conn-id "
        "and status.", optional=_ISA_DETAIL),
    Ask("cmd-show-isakmp-sa-detail", "exec", "show_crypto_isakmp_sa",
        (("Which command shows the encryption, hash and DH group phase 1 negotiated, and the "
          "lifetime it has left?", "show crypto isakmp sa detail"),),
        "{answer} adds the Encr, Hash, Auth, DH and Lifetime columns (and Cap. N under NAT-T) "
        "to the ISAKMP SA table."),
    Ask("cmd-show-isakmp-policy", "exec", "show_crypto_isakmp_policy",
        (("Which command lists the configured ISAKMP policies?", "show crypto isakmp policy"),),
        "{answer} shows each policy's priority, encryption, hash, authentication, DH group "
        "and lifetime, as configured (not as negotiated)."),
    Ask("cmd-show-transform-set", "exec", "show_crypto_ipsec_transform_set",
        (("Which command lists the configured transform sets?",
          "show crypto ipsec transform-set"),),
        "{answer} prints each transform set's transforms and mode.",
        optional=frozenset({"SCRY_TS_TAG", "SCRY_TS_NAME"})),
    Ask("cmd-show-crypto-map", "exec", "show_crypto_map",
        (("Which command shows each crypto map entry's peer, transform set and ACL, and the "
          "interfaces the map is applied to?", "show crypto map"),),
        "{answer} prints the map's entries and the Interfaces using it.",
        optional=frozenset({"SCRY_MAP_INTERFACE", "SCRY_MAP_IF", "SCRY_MAP_TAG",
                            "SCRY_MAP_NAME"})),
    Ask("cmd-show-engine", "exec", "show_crypto_engine_connections",
        (("Which command lists the active crypto engine connections with their encrypt and "
          "decrypt counts?", "show crypto engine connections active"),),
        "{answer} has one row per IPsec SA and ISAKMP SA with Encrypt and Decrypt counters."),
    Ask("cmd-show-session", "exec", "show_crypto_session",
        (("Which command summarises each crypto session: interface, peer, IKE SA and IPsec "
          "flows with their status (UP-ACTIVE)?", "show crypto session"),),
        "{answer} prints one block per peer with the session status, the IKEv1 SA and each "
        "IPSEC FLOW.",
        optional=frozenset({"SCRY_SESSION_DETAIL", "SCRY_SESSION_REMOTE",
                            "SCRY_SESSION_REMOTE_ADDR"})),
    Ask("cmd-debug-isakmp", "exec", "exec_debug",
        (("Which command turns on the real-time messages of phase 1 negotiation (policy "
          "matching, DH, authentication)?", "debug crypto isakmp"),),
        "{answer} prints main mode as it happens; debug crypto ipsec covers phase 2."),
    Ask("cmd-debug-ipsec", "exec", "exec_debug",
        (("Which command turns on the real-time messages of phase 2 (IPsec SA negotiation and "
          "creation)?", "debug crypto ipsec"),),
        "{answer} prints the IPsec side: proposals checked against the transform sets and the "
        "SAs created; debug crypto isakmp covers phase 1."),
    Ask("cmd-clear-sa", "exec", "exec_clear_crypto_sa",
        (("Which command deletes the IPsec SAs so that phase 2 is negotiated again, leaving "
          "phase 1 up?", "clear crypto sa"),),
        "{answer} deletes the IPsec SAs (and tells the peer); the next interesting packet "
        "runs quick mode in the existing ISAKMP SA.",
        optional=frozenset({"CLEAR_CRYPTO_PEER", "CLEAR_CRYPTO_PEER_ADDR"})),
    Ask("cmd-clear-isakmp", "exec", "exec_clear_crypto_isakmp",
        (("Which command deletes the ISAKMP (phase 1) SAs?", "clear crypto isakmp"),),
        "{answer} deletes the ISAKMP SAs (telling the peer); clear crypto sa is the one for "
        "the IPsec SAs.", optional=frozenset({"CLEAR_CRYPTO_CONN_ID"})),
    # ---------------------------------------------------------------- global configuration
    Ask("cmd-isakmp-key", "config", "cis_key",
        tuple((f"Which global command sets the pre-shared key for the peer {p} (any key "
               f"word)?", f"crypto isakmp key SECRETKEY123 address {p}") for p in _PEERS),
        "{answer}: the key must be the same on both peers, and the address is the peer's "
        "(the address its IKE packets come from).",
        free=frozenset({"CIK_KEY"}), optional=frozenset({"CIK_TYPE0", "CIK_MASK"})),
    Ask("cmd-isakmp-policy", "config", "cis_policy",
        tuple((f"Which global command creates the ISAKMP policy of priority {n} and enters "
               f"its configuration mode?", f"crypto isakmp policy {n}") for n in (10, 20, 100)),
        "{answer} enters (config-isakmp) mode, where encryption, hash, authentication, group "
        "and lifetime are set; the lowest number is offered first."),
    Ask("cmd-transform-set", "config", "cts_transform_set",
        (("Which global command defines the transform set MYSET with ESP AES-256 encryption "
          "and SHA-256 HMAC integrity?", "crypto ipsec transform-set MYSET esp-aes 256 "
          "esp-sha256-hmac"),
         ("Which global command defines the transform set TS1 with ESP AES-128 encryption and "
          "SHA-1 HMAC integrity?", "crypto ipsec transform-set TS1 esp-aes esp-sha-hmac")),
        "{answer}: the transform set names phase 2's protocol and algorithms (esp-aes without "
        "a key size is AES-128)."),
    Ask("cmd-crypto-map-entry", "config", "cmap_entry",
        (("Which global command creates entry 10 of crypto map MYMAP, negotiated with IKE?",
          "crypto map MYMAP 10 ipsec-isakmp"),),
        "{answer} enters (config-crypto-map) mode for the entry: set peer, set transform-set, "
        "match address."),
    Ask("cmd-nat-keepalive", "config", "cis_nat_keepalive",
        (("Which global command sends NAT keepalives every 20 seconds, so that a PAT "
          "translation of a NAT-T tunnel does not time out?", "crypto isakmp nat keepalive 20"),),
        "{answer} makes IOS send a keepalive on an idle NAT-T SA so the NAT keeps the UDP "
        "4500 translation."),
    # ---------------------------------------------------------------- (config-isakmp)
    Ask("cmd-isakmp-encryption", "isakmp", "cisp_encryption",
        (("In the ISAKMP policy, set phase 1 encryption to AES with 256-bit keys.",
          "encryption aes 256"),
         ("In the ISAKMP policy, set phase 1 encryption to triple DES.", "encryption 3des")),
        "{answer}: the encryption (with hash, authentication and group) must match a policy on "
        "the peer, or phase 1 stops in MM_NO_STATE."),
    Ask("cmd-isakmp-hash", "isakmp", "cisp_hash",
        (("In the ISAKMP policy, set the phase 1 hash to SHA-256.", "hash sha256"),
         ("In the ISAKMP policy, set the phase 1 hash to SHA-384.", "hash sha384")),
        "{answer} sets the policy's HMAC; it must match the peer's policy."),
    Ask("cmd-isakmp-group", "isakmp", "cisp_group",
        tuple((f"In the ISAKMP policy, use Diffie-Hellman group {g}.", f"group {g}")
              for g in (14, 19, 20)),
        "{answer} sets the Diffie-Hellman group of phase 1; both peers' policies must agree."),
    Ask("cmd-isakmp-auth", "isakmp", "cisp_authentication",
        (("In the ISAKMP policy, authenticate the peers with a pre-shared key.",
          "authentication pre-share"),),
        "{answer}; the key itself is set in global configuration with crypto isakmp key."),
    Ask("cmd-isakmp-lifetime", "isakmp", "cisp_lifetime",
        (("In the ISAKMP policy, set the phase 1 lifetime to one day (the default).",
          "lifetime 86400"),
         ("In the ISAKMP policy, set the phase 1 lifetime to 8 hours.", "lifetime 28800")),
        "{answer}: the lifetime is in seconds (86,400 s = 24 h is the default)."),
    # ---------------------------------------------------------------- (config-crypto-map)
    Ask("cmd-set-peer", "crypto_map", "cset_peer",
        tuple((f"In the crypto map entry, name {p} as the peer.", f"set peer {p}")
              for p in _PEERS),
        "{answer}: the address IKE negotiates with and ESP is sent to."),
    Ask("cmd-set-transform-set", "crypto_map", "cset_transform_set",
        (("In the crypto map entry, use the transform set MYSET.", "set transform-set MYSET"),),
        "{answer} names the transform set(s) the entry proposes in quick mode."),
    Ask("cmd-match-address", "crypto_map", "cmap_match",
        (("In the crypto map entry, protect the traffic the ACL VPN_TRAFFIC permits.",
          "match address VPN_TRAFFIC"),),
        "{answer} binds the crypto ACL: its permit lines are the interesting traffic."),
    Ask("cmd-set-pfs", "crypto_map", "cset_pfs",
        tuple((f"In the crypto map entry, turn on Perfect Forward Secrecy with DH group {g}.",
               f"set pfs group{g}") for g in (14, 5)),
        "{answer}: each quick mode then runs its own Diffie-Hellman exchange."),
    # ---------------------------------------------------------------- other modes
    Ask("cmd-apply-map", "if", "if_crypto_map",
        (("On the outside interface, apply the crypto map MYMAP.", "crypto map MYMAP"),),
        "{answer} on the interface facing the untrusted network: without it nothing is "
        "encrypted and IKE never starts."),
    Ask("cmd-transport-mode", "crypto_trans", "ctsm_mode",
        (("In the transform set, select transport mode.", "mode transport"),
         ("In the transform set, select tunnel mode.", "mode tunnel")),
        "{answer}: tunnel mode (the default) for site to site, transport mode host to host."),
    Ask("cmd-acl-line", "ext_nacl", "ext_nacl_entry",
        (("In the crypto ACL, select the traffic from 192.168.1.0/24 to 10.0.2.0/24.",
          "permit ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255"),
         ("In the crypto ACL, select the traffic from 10.0.2.0/24 to 192.168.1.0/24.",
          "permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255")),
        "{answer}: extended ACLs take wildcard masks (0.0.0.255 for a /24); the peer's ACL "
        "must be the mirror image.", optional=frozenset({"ACE_SEQ"})),
)
