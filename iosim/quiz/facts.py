"""Multiple-choice questions on IPsec facts (labs/concepts.md), as data.

Each ``Fact`` is a question, its right answer, three plausible wrong ones and the explanation;
its choices are shuffled per quiz seed. The facts are those of ``labs/concepts.md`` (the
IPsec concepts the labs refer to); where study guides often get a count wrong (main mode 9
messages, aggressive 6), the questions say what RFC 2409 says (6 and 3) and explain why.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from iosim.quiz.model import Question, shuffled


@dataclass(frozen=True)
class Fact:
    """A multiple-choice question from the seed: the right answer first, then distractors."""

    key: str
    topic: str
    text: str
    right: str
    wrong: tuple[str, str, str]
    explanation: str

    def make(self, rng: random.Random, lab_seed: str = "") -> Question:
        """The question with its four choices in an order drawn from ``rng``."""
        return Question(self.topic, self.text, shuffled(rng, self.right, self.wrong),
                        self.explanation)


def _f(key: str, topic: str, text: str, right: str, wrong: tuple[str, str, str],
       explanation: str) -> Fact:
    return Fact(key, topic, text, right, wrong, explanation)


FACTS: tuple[Fact, ...] = (
    # ---------------------------------------------------------------- protocols
    _f("esp-number", "protocols", "Which IP protocol number does ESP use?",
       "50", ("51", "17", "47"),
       "ESP (Encapsulating Security Payload, RFC 4303) is IP protocol 50; AH is 51. 17 is UDP "
       "and 47 is GRE."),
    _f("ah-number", "protocols", "Which IP protocol number does AH use?",
       "51", ("50", "6", "500"),
       "AH (Authentication Header, RFC 4302) is IP protocol 51; ESP is 50. 500 is IKE's UDP "
       "port, not a protocol number."),
    _f("ike-port", "protocols", "On which port do IKE (ISAKMP) messages travel when there is no "
       "NAT between the peers?",
       "UDP 500", ("UDP 4500", "TCP 500", "IP protocol 50"),
       "IKEv1 and IKEv2 use UDP port 500. When NAT is detected between the peers they move to "
       "UDP 4500 (NAT traversal)."),
    _f("natt-port", "protocols", "With NAT traversal (NAT-T), how do IKE and ESP cross the NAT?",
       "In UDP port 4500", ("In UDP port 500", "As IP protocol 51", "In TCP port 443"),
       "Once NAT is detected, IKE floats to UDP 4500 and ESP is encapsulated in UDP 4500 too "
       "(RFC 3947/3948), so that a PAT device can translate it like any UDP flow."),
    _f("esp-only-service", "protocols", "Which IPsec service does ESP provide that AH does not?",
       "Confidentiality (encryption of the payload)",
       ("Data integrity", "Anti-replay protection", "Origin authentication"),
       "Both ESP and AH provide integrity, origin authentication and anti-replay. Only ESP "
       "encrypts: AH provides no encryption whatsoever."),
    _f("ah-provides", "protocols", "What does AH provide?",
       "Integrity, origin authentication and anti-replay for the whole packet, outer IP "
       "header included, but no encryption",
       ("Encryption and integrity of the payload, but not of the outer IP header",
        "Encryption of the whole packet, outer IP header included",
        "Key exchange and peer authentication before data flows"),
       "AH's HMAC covers the entire IP packet including the outer header's immutable fields; "
       "it encrypts nothing. ESP is the one that encrypts (and does not protect the outer "
       "header); IKE does the key exchange."),
    _f("ah-nat", "protocols", "Why does AH not work through NAT?",
       "NAT rewrites the outer IP header, which AH's integrity check covers",
       ("AH uses UDP 500, which NAT devices block",
        "AH encrypts the IP addresses, so NAT cannot read them",
        "AH has no SPI, so NAT cannot tell flows apart"),
       "AH authenticates the outer IP header; NAT changes its addresses, so the ICV no longer "
       "verifies and the receiver drops the packet. ESP with NAT-T (UDP 4500) is the answer "
       "when there is NAT."),
    _f("esp-outer-header", "protocols", "Which part of a packet does ESP NOT protect?",
       "The outer IP header",
       ("The payload", "The ESP trailer", "The original IP header in tunnel mode"),
       "ESP's ICV covers the ESP header, the payload and the ESP trailer; the outer IP header "
       "is in cleartext and not authenticated. In tunnel mode the original IP header is part "
       "of the encrypted payload."),
    _f("anti-replay", "protocols", "What lets an IPsec receiver detect and discard replayed "
       "packets?",
       "The sequence number in the ESP or AH header",
       ("The SPI in the ESP or AH header", "The Diffie-Hellman group",
        "The padding in the ESP trailer"),
       "Each SA numbers its packets: the sequence number starts at 1 and increases with "
       "every packet, and the receiver drops one it has already seen (anti-replay)."),
    _f("layer", "protocols", "At which layer does IPsec operate?",
       "Layer 3, the network layer",
       ("Layer 2, the data-link layer", "Layer 4, the transport layer",
        "Layer 7, the application layer"),
       "IPsec protects IP packets at layer 3, so it protects any IP traffic whatever the "
       "application, unlike TLS or SSH which work above the transport layer."),
    _f("framework-rfc", "protocols", "Which RFC defines the IPsec architecture (the framework)?",
       "RFC 4301", ("RFC 4303", "RFC 2409", "RFC 7296"),
       "RFC 4301 is the security architecture. RFC 4303 is ESP, RFC 2409 is IKEv1 and RFC "
       "7296 is IKEv2."),
    _f("key-management", "protocols", "Which protocol negotiates the security parameters and "
       "refreshes the keys, so that nobody configures keys by hand?",
       "IKE (with ISAKMP)", ("ESP", "AH", "GRE"),
       "Key management is IKE's job (ISAKMP is the framework IKEv1 builds its messages on). "
       "ESP and AH only protect data with the keys IKE negotiated."),
    _f("isakmp", "protocols", "What is ISAKMP (RFC 2408)?",
       "The framework IKEv1 uses for its message formats and exchange types",
       ("The protocol that encrypts the data packets",
        "The Diffie-Hellman group used by phase 2",
        "The database in which IPsec SAs are stored"),
       "ISAKMP defines the messages (payloads) and exchanges; IKEv1 (RFC 2409) runs its key "
       "exchange inside that framework, on UDP 500."),
    _f("esp-standard", "protocols", "Why is ESP the usual choice rather than AH?",
       "ESP encrypts and also provides integrity, and it works through NAT with NAT-T",
       ("AH is not supported by Cisco IOS",
        "ESP protects the outer IP header and AH does not",
        "AH needs IKEv2 while ESP works with IKEv1"),
       "ESP gives confidentiality plus integrity, origin authentication and anti-replay, and "
       "crosses NAT in UDP 4500. AH only authenticates (it does cover the outer header) and "
       "breaks behind NAT."),
    _f("icv", "protocols", "What is the ICV at the end of an ESP packet?",
       "The HMAC authentication tag over the SPI, sequence number and encrypted payload",
       ("The initialisation vector of the cipher",
        "The sequence number used for anti-replay",
        "The padding that aligns the payload to the cipher's block size"),
       "The Integrity Check Value (12-32 bytes) is the HMAC tag appended at the end; the "
       "receiver recomputes it to detect any change in transit."),
    _f("next-header", "protocols", "In an ESP tunnel-mode packet carrying an IPv4 packet, what "
       "does the Next Header field in the ESP trailer say?",
       "4 (IPv4)", ("50 (ESP)", "6 (TCP)", "41 (IPv6)"),
       "Next Header names the payload's protocol: in tunnel mode the payload is a whole "
       "IPv4 packet, protocol 4 (41 would be IPv6, 6 TCP, 17 UDP)."),
    # ---------------------------------------------------------------- modes
    _f("tunnel-mode", "modes", "Which IPsec mode protects the entire original IP packet and adds "
       "a new outer IP header?",
       "Tunnel mode", ("Transport mode", "Main mode", "Aggressive mode"),
       "Tunnel mode encapsulates the whole original packet (header and payload) in a new packet "
       "between the gateways. Main and aggressive mode are IKE phase 1 modes, not IPsec modes."),
    _f("transport-mode", "modes", "Which IPsec mode keeps the original IP header and protects "
       "only the payload?",
       "Transport mode", ("Tunnel mode", "Quick mode", "Aggressive mode"),
       "Transport mode inserts the ESP/AH header after the original IP header, which stays in "
       "cleartext; it is used host to host."),
    _f("site-to-site-mode", "modes", "Which mode does a site-to-site IPsec VPN between two "
       "routers use?",
       "Tunnel mode", ("Transport mode", "Aggressive mode", "Quick mode"),
       "The gateways protect traffic on behalf of whole subnets, so the original packet is "
       "carried inside a new one between the gateways: tunnel mode. The end hosts know "
       "nothing of IPsec."),
    _f("outer-header", "modes", "In tunnel mode, what are the source and destination of the new "
       "outer IP header?",
       "The two VPN gateways' addresses",
       ("The original hosts' addresses", "The NAT device's addresses",
        "The IKE peers' loopback addresses"),
       "The outer header goes from gateway A to gateway B (R1 198.51.100.1 to R2 203.0.113.2 "
       "in the lab); the hosts' addresses are hidden in the encrypted payload."),
    _f("transport-overhead", "modes", "Why does transport mode have less overhead than tunnel "
       "mode?",
       "It adds no new IP header, only the ESP/AH header",
       ("It does not encrypt the payload", "It uses a shorter ICV",
        "It compresses the original IP header"),
       "Tunnel mode adds a whole new outer IP header (20 bytes at least); transport mode only "
       "inserts the ESP or AH header after the original one."),
    _f("tunnel-cleartext", "modes", "In an ESP tunnel-mode packet, what travels in cleartext?",
       "The new outer IP header and the ESP header (SPI and sequence number)",
       ("The original IP header", "The original payload",
        "The padding and the Next Header field"),
       "The outer header is needed for routing and the SPI and sequence number for the SA "
       "look-up and anti-replay; the original header, payload and ESP trailer are encrypted "
       "(the ICV is in cleartext)."),
    _f("transport-use", "modes", "What is transport mode typically used for?",
       "Host-to-host protection, where both endpoints run IPsec themselves",
       ("Site-to-site VPNs between branch routers", "Remote access through a NAT device",
        "Protecting IKE messages in phase 1"),
       "Transport mode suits two hosts protecting their own traffic; site-to-site VPNs use "
       "tunnel mode."),
    # ---------------------------------------------------------------- ike
    _f("main-mode-messages", "ike", "How many messages does an IKEv1 main mode exchange use?",
       "6", ("9", "3", "4"),
       "Main mode is 6 messages, 3 exchanges of 2: policy (SA), Diffie-Hellman and nonces (KE), "
       "then identities and authentication, encrypted. (Some study guides say 9 messages "
       "for main mode; RFC 2409 says 6.)"),
    _f("aggressive-mode-messages", "ike", "How many messages does IKEv1 aggressive mode use?",
       "3", ("6", "2", "9"),
       "Aggressive mode packs policy, Diffie-Hellman, nonce and identity into 3 messages, "
       "faster but with the identities in cleartext. (Some study guides say 6; RFC 2409 "
       "says 3.)"),
    _f("quick-mode-messages", "ike", "How many messages does quick mode (IKEv1 phase 2) use?",
       "3", ("2", "4", "6"),
       "Quick mode is 3 messages, protected by the phase 1 SA: proposal, answer, and the "
       "initiator's acknowledgement."),
    _f("identity-protection", "ike", "Which IKEv1 phase 1 mode protects the peers' identities?",
       "Main mode", ("Aggressive mode", "Quick mode", "Transport mode"),
       "In main mode the identities travel in messages 5 and 6, encrypted with keys from the "
       "Diffie-Hellman exchange; aggressive mode sends them in cleartext."),
    _f("phase1-purpose", "ike", "What does IKE phase 1 establish?",
       "The ISAKMP SA: an authenticated, encrypted channel that protects phase 2",
       ("The IPsec SAs that encrypt the users' traffic",
        "A GRE tunnel for routing protocols",
        "The crypto ACL that selects interesting traffic"),
       "Phase 1 authenticates the peers and builds the ISAKMP (IKE) SA; it carries no data "
       "traffic. Phase 2 negotiates the IPsec SAs inside it."),
    _f("phase2-purpose", "ike", "What does IKE phase 2 negotiate?",
       "The IPsec SAs that protect the data traffic",
       ("The ISAKMP SA between the peers", "The pre-shared key",
        "The routes to the remote subnets"),
       "Phase 2 (quick mode), inside the phase 1 channel, negotiates the transform set and "
       "creates a pair of one-way IPsec SAs for the user data."),
    _f("phase1-lifetime", "ike", "What is the default lifetime of an ISAKMP (phase 1) SA on "
       "Cisco IOS?",
       "86,400 seconds (24 hours)",
       ("3,600 seconds (1 hour)", "28,800 seconds (8 hours)", "4,608,000 kilobytes"),
       "An ISAKMP policy's lifetime defaults to 86,400 s. IPsec SAs default to 3,600 s and "
       "4,608,000 KB."),
    _f("phase2-lifetime", "ike", "What are the default lifetimes of an IPsec (phase 2) SA on "
       "Cisco IOS?",
       "3,600 seconds and 4,608,000 kilobytes",
       ("86,400 seconds and 4,608,000 kilobytes", "3,600 seconds only",
        "28,800 seconds and 1,000,000 kilobytes"),
       "IPsec SAs live 3,600 s (1 hour) or 4,608,000 KB, whichever comes first; phase 1 lives "
       "86,400 s. Phase 2 is renegotiated more often."),
    _f("dh-purpose", "ike", "What is Diffie-Hellman used for in IKE?",
       "To derive a shared secret over an untrusted network without ever sending it",
       ("To authenticate the peers with the pre-shared key",
        "To encrypt the data packets", "To number packets against replay"),
       "Each peer sends a public value and computes the same shared secret from the other's; "
       "the session keys are derived from it. Authentication is the pre-shared key's or the "
       "certificate's job."),
    _f("dh-weak", "ike", "Which Diffie-Hellman groups are considered weak and should not be used "
       "in new deployments?",
       "Groups 1, 2 and 5", ("Groups 14, 19 and 20", "Groups 19 and 20 only", "Group 24 only"),
       "Groups 1, 2 and 5 (768, 1024 and 1536 bits) are too weak today; group 14 (2048-bit) or "
       "the elliptic-curve groups 19 and 20 are the minimum recommended."),
    _f("dh-group14", "ike", "What is Diffie-Hellman group 14?",
       "A 2048-bit MODP group",
       ("A 1024-bit MODP group", "A 256-bit elliptic-curve group",
        "A 384-bit elliptic-curve group"),
       "Group 14 is 2048-bit MODP; group 2 is 1024-bit, 19 is 256-bit ECC and 20 is 384-bit "
       "ECC."),
    _f("pfs", "ike", "What does Perfect Forward Secrecy (set pfs) add to phase 2?",
       "A fresh Diffie-Hellman exchange at every phase 2 negotiation, so that one compromised "
       "key does not expose the others",
       ("A second pre-shared key for phase 2",
        "Encryption of the outer IP header",
        "Longer default lifetimes for the IPsec SAs"),
       "Without PFS the IPsec keys derive from phase 1's secret; with PFS each quick mode runs "
       "its own DH exchange (the site-to-site lab uses set pfs group14)."),
    _f("phase1-object", "ike", "Which IOS configuration defines the phase 1 parameters "
       "(encryption, hash, authentication, DH group, lifetime)?",
       "An ISAKMP policy (crypto isakmp policy)",
       ("A transform set (crypto ipsec transform-set)", "A crypto map",
        "The crypto ACL"),
       "crypto isakmp policy PRIORITY holds phase 1's parameters; the transform set holds "
       "phase 2's; the crypto map binds peer, transform set and ACL together."),
    _f("phase2-object", "ike", "Which IOS configuration defines the phase 2 protocol and "
       "algorithms?",
       "A transform set (crypto ipsec transform-set)",
       ("An ISAKMP policy (crypto isakmp policy)", "The crypto ACL",
        "The pre-shared key"),
       "crypto ipsec transform-set NAME esp-aes 256 esp-sha256-hmac names the ESP/AH "
       "algorithms (and mode) phase 2 proposes."),
    _f("phase2-mode", "ike", "Which IKEv1 mode negotiates the IPsec SAs?",
       "Quick mode", ("Main mode", "Aggressive mode", "Tunnel mode"),
       "Phase 2 has a single mode, quick mode; main and aggressive mode are phase 1's."),
    _f("ikev2-messages", "ike", "How many messages does the IKEv2 initial exchange use to set up "
       "the first SA?",
       "4", ("6", "3", "9"),
       "IKEv2 (RFC 7296) needs 4 messages (IKE_SA_INIT and IKE_AUTH) where IKEv1 needs main "
       "mode's 6 plus quick mode's 3."),
    _f("ikev1-auth", "ike", "Which peer authentication methods does IKEv1 support?",
       "Pre-shared keys, RSA signatures and RSA encryption",
       ("Pre-shared keys only", "EAP and certificates only", "Passwords sent in cleartext"),
       "IKEv1 authenticates with a pre-shared key, RSA signatures (certificates) or RSA "
       "encryption; EAP arrived with IKEv2."),
    _f("interesting-traffic", "ike", "What triggers IKE on a crypto-map router?",
       "A packet that matches the crypto ACL (interesting traffic) while no IPsec SA exists",
       ("Any packet leaving the outside interface", "The router's boot",
        "A ping to the peer's public address"),
       "The crypto map's ACL selects the traffic to protect; the first such packet without an "
       "SA starts phase 1 (and is dropped, which is the '.' in '.!!!!')."),
    # ---------------------------------------------------------------- sa
    _f("sa-count", "sa", "How many IPsec SAs protect two-way traffic between two peers?",
       "2, one per direction", ("1, shared by both directions", "4, two per direction", "3"),
       "An SA is one-way: one inbound and one outbound SA per peer, each with its own SPI."),
    _f("isakmp-sa-count", "sa", "How many SAs does a completed IKE phase 1 create?",
       "1 bidirectional ISAKMP SA",
       ("2 unidirectional ISAKMP SAs", "2 unidirectional IPsec SAs",
        "None: it only exchanges keys"),
       "Phase 1 makes one bidirectional ISAKMP SA; phase 2 makes the two one-way IPsec SAs."),
    _f("spi", "sa", "What does the SPI in an ESP or AH header tell the receiver?",
       "Which SA to use for the packet (looked up in its SAD)",
       ("Which peer sent the packet", "The packet's position in the stream",
        "Which Diffie-Hellman group was used"),
       "The 32-bit Security Parameter Index, with the destination and protocol, identifies "
       "the SA whose keys and algorithms decrypt and verify the packet."),
    _f("spi-size", "sa", "How long is the SPI?", "32 bits (4 bytes)",
       ("16 bits (2 bytes)", "64 bits (8 bytes)", "128 bits (16 bytes)"),
       "The SPI is a 4-byte field at the start of the ESP (and in the AH) header."),
    _f("sad", "sa", "Where does an IPsec device keep its SAs?",
       "In the Security Association Database (SAD)",
       ("In the Security Policy Database (SPD)", "In the routing table", "In the ARP cache"),
       "SAs (keys, algorithms, SPIs, lifetimes, counters) are in the SAD; the SPD holds the "
       "rules of which traffic to protect."),
    _f("spd", "sa", "What does the Security Policy Database (SPD) hold?",
       "The rules saying which traffic must be protected (on IOS, the crypto ACLs)",
       ("The negotiated keys and SPIs", "The pre-shared keys", "The DH private values"),
       "The SPD is policy (protect, bypass, discard); the negotiated SAs are in the SAD."),
    _f("sa-identity", "sa", "What identifies an IPsec SA uniquely?",
       "Its SPI, destination address and protocol (ESP or AH)",
       ("Its peer address alone", "Its transform set name", "Its crypto map sequence number"),
       "The receiver finds the SA by SPI, destination IP and protocol, then uses its keys."),
    _f("sa-expiry", "sa", "What happens when an IPsec SA's lifetime runs out while phase 1 is "
       "still up?",
       "A new phase 2 is negotiated inside the existing ISAKMP SA, without disruption",
       ("The tunnel stays down until someone clears it",
        "Phase 1 must be renegotiated first", "The old keys are reused for another hour"),
       "IOS renegotiates phase 2 before the SA expires, using the still-active phase 1 SA; "
       "the traffic moves to the new SA pair."),
    _f("seq-start", "sa", "At what value does an SA's sequence number counter start?",
       "1", ("0", "The SPI's value", "A random number"),
       "The first packet sent on an SA carries sequence number 1; each packet adds one, which "
       "is what the receiver's anti-replay window checks."),
    # ---------------------------------------------------------------- verify
    _f("verify-phase1", "verify", "Which command verifies IKE phase 1?",
       "show crypto isakmp sa",
       ("show crypto ipsec sa", "show crypto isakmp policy", "show crypto map"),
       "show crypto isakmp sa lists the ISAKMP SAs and their state (QM_IDLE when phase 1 is "
       "up). show crypto ipsec sa is phase 2; the others show configuration."),
    _f("verify-phase2", "verify", "Which command shows the phase 2 SAs with their SPIs and "
       "encrypted/decrypted packet counts?",
       "show crypto ipsec sa",
       ("show crypto isakmp sa", "show crypto ipsec transform-set", "show crypto session"),
       "show crypto ipsec sa prints each flow's #pkts encaps/decaps counters and the inbound and "
       "outbound SAs with their SPIs, transforms and remaining lifetimes."),
    _f("qm-idle", "verify", "What does QM_IDLE mean in show crypto isakmp sa?",
       "Phase 1 is up: the ISAKMP SA is authenticated and quick mode can run in it",
       ("Phase 2 is idle because no traffic matched the ACL",
        "Phase 1 failed and the router is waiting to retry",
        "Quick mode is still negotiating"),
       "QM_IDLE is the state of a complete ISAKMP SA, idle and ready for quick mode (phase 2) "
       "negotiations. It says nothing about the IPsec SAs: check show crypto ipsec sa."),
    _f("mm-no-state", "verify", "show crypto isakmp sa stays in MM_NO_STATE. What does that "
       "suggest?",
       "Main mode never got past its first exchange: no matching ISAKMP policy, or no reply "
       "from the peer",
       ("The pre-shared keys differ", "The transform sets differ",
        "Phase 1 is up and waiting for traffic"),
       "MM_NO_STATE means no policy was agreed yet: the peer refused every proposal (check the "
       "policies) or never answered (check reachability, UDP 500). A key mismatch shows later, "
       "in MM_KEY_EXCH."),
    _f("mm-key-exch", "verify", "show crypto isakmp sa stays in MM_KEY_EXCH. What is the usual "
       "cause?",
       "The pre-shared keys differ, so the peers cannot authenticate each other",
       ("No ISAKMP policy matches", "The transform sets differ",
        "The crypto ACLs are not mirror images"),
       "MM_KEY_EXCH means policy and Diffie-Hellman went through; the encrypted messages 5 and "
       "6 then fail to authenticate (the peer logs %CRYPTO-4-IKMP_BAD_MESSAGE): check "
       "crypto isakmp key on both sides."),
    _f("show-policy", "verify", "Which command lists the configured ISAKMP policies with their "
       "priority, encryption, hash, authentication, DH group and lifetime?",
       "show crypto isakmp policy",
       ("show crypto isakmp sa", "show crypto ipsec transform-set", "show crypto map"),
       "show crypto isakmp policy shows the configuration of phase 1; show crypto isakmp sa "
       "shows what was negotiated."),
    _f("show-map", "verify", "Which command shows each crypto map's peer, transform set, ACL "
       "and the interfaces it is applied to?",
       "show crypto map",
       ("show crypto session", "show crypto isakmp policy", "show ip interface brief"),
       "show crypto map prints every entry (peer, extended access list, transform sets, PFS) "
       "and the Interfaces using the map."),
    _f("show-engine", "verify", "Which command lists the active encryption connections with "
       "their encrypt/decrypt packet counts?",
       "show crypto engine connections active",
       ("show crypto ipsec sa", "show crypto session", "show crypto isakmp sa detail"),
       "show crypto engine connections active shows one row per IPsec SA and ISAKMP SA with "
       "Encrypt and Decrypt counters, handy to confirm traffic is being encrypted."),
    _f("debug-isakmp", "verify", "Which debug shows phase 1 in real time: policy matching, the "
       "DH exchange and authentication?",
       "debug crypto isakmp",
       ("debug crypto ipsec", "debug ip packet", "debug crypto engine"),
       "debug crypto isakmp prints the policy walk, the main mode states and authentication; "
       "debug crypto ipsec covers phase 2 and the IPsec SAs."),
    _f("clear-sa", "verify", "Which command clears the IPsec SAs, forcing phase 2 to be "
       "renegotiated, without clearing phase 1?",
       "clear crypto sa",
       ("clear crypto isakmp", "clear ip nat translation *", "no crypto map MYMAP"),
       "clear crypto sa deletes the IPsec SAs (the peer is told); the next interesting packet "
       "runs quick mode again in the existing ISAKMP SA. clear crypto isakmp clears phase 1."),
    _f("show-transform", "verify", "Which command lists the configured transform sets with "
       "their protocols, algorithms and mode?",
       "show crypto ipsec transform-set",
       ("show crypto ipsec sa", "show crypto isakmp policy", "show crypto map"),
       "show crypto ipsec transform-set prints each set's transforms and the mode it will "
       "negotiate (Tunnel or Transport)."),
)
