"""One ISAKMP SA (RFC 2409 section 5): its state while main or aggressive mode runs and once
it is established (QM_IDLE), and the phase-1 encryption of its messages.

``IsakmpSa`` holds the cookies, the negotiated suite and keys, the CBC chaining value of the
phase-1 exchange (``iv``) and, once phase 1 is complete, the last block that seeds the phase-2
IVs (``last_block``, RFC 2409 Appendix B); its show state (``MM_NO_STATE`` ... ``QM_IDLE``)
and IOS's internal one (``ike_state``, for ``debug crypto isakmp``); what the peer announced
(NAT-T, DPD); the timers of its negotiation and its lifetime; and the numbers ``debug crypto
isakmp`` knows it and its peer's struct by. The handlers that move it along are
:mod:`iosim.ike.main_mode`'s and :mod:`iosim.ike.aggressive_mode`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from iosim.crypto.algorithms import EncryptionAlgorithm
from iosim.crypto.dh import DhPrivate
from iosim.ike.dpd import DpdState
from iosim.ike.keymat import Phase1Keys, phase2_iv
from iosim.ike.phase1_policy import IkePolicy, Phase1Suite

__all__ = ["IKE_PORT", "NAT_T_PORT", "NONCE_SIZE", "IsakmpSa", "decrypt_body", "encrypt_body"]

NONCE_SIZE = 20  # bytes; IOS sends 20-byte nonces in main and quick mode
IKE_PORT = 500
NAT_T_PORT = 4500  # RFC 3947 section 4: IKE after floating (non-ESP marker added by the I/O)


# --- phase-1 encryption (RFC 2409 section 5.3, Appendix B) ------------------------------------


def encrypt_body(cipher: EncryptionAlgorithm, key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """CBC-encrypt a payload chain, zero-padded to the block size (RFC 2409 5.3)."""
    pad = -len(plaintext) % cipher.block_size
    return cipher.cbc_encrypt(key, iv, plaintext + b"\0" * pad)


def decrypt_body(cipher: EncryptionAlgorithm, key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """CBC-decrypt; raises ValueError for a body that is not whole blocks."""
    if not ciphertext or len(ciphertext) % cipher.block_size:
        raise ValueError("encrypted body is not a whole number of blocks")
    return cipher.cbc_decrypt(key, iv, ciphertext)


@dataclass(slots=True)
class IsakmpSa:
    """One ISAKMP SA and, until QM_IDLE, its main-mode negotiation."""

    peer: int
    local: int
    initiator: bool
    cky_i: bytes
    cky_r: bytes
    psk: bytes = field(repr=False)
    state: str = "MM_NO_STATE"
    conn_id: int = 0
    deleted: bool = False
    suite: Phase1Suite | None = None
    policy: IkePolicy | None = None
    sai_b: bytes = field(default=b"", repr=False)
    dh: DhPrivate | None = field(default=None, repr=False)
    g_xi: bytes = field(default=b"", repr=False)
    g_xr: bytes = field(default=b"", repr=False)
    ni_b: bytes = field(default=b"", repr=False)
    nr_b: bytes = field(default=b"", repr=False)
    keys: Phase1Keys | None = field(default=None, repr=False)
    iv: bytes = field(default=b"", repr=False)  # CBC chaining value of main mode
    last_block: bytes = field(default=b"", repr=False)  # last CBC block of MM6
    nat_detected: bool = False
    peer_nat_t: bool = False  # the peer sent the RFC 3947 vendor ID
    floated: bool = False  # RFC 3947 4: IKE moved to UDP 4500; quick mode UDP-encapsulates
    # retransmission of our last message / duplicate detection
    last_sent: bytes = field(default=b"", repr=False)
    last_received: bytes = field(default=b"", repr=False)
    retransmits: int = 0
    resend_at: float | None = None  # only while we wait for an answer
    give_up_at: float | None = None  # responder: half-open negotiation timeout
    expires_at: float | None = None  # lifetime of an established SA
    purge_at: float | None = None  # a deleted SA stays listed until then
    failure_reported: bool = False
    established_at: float = 0.0
    aggressive: bool = False  # RFC 2409 5.4 aggressive mode instead of main mode
    ike_state: str = "IKE_READY"  # IOS's internal state, for StateChanged
    peer_dpd: bool = False  # the peer sent the RFC 3706 DPD vendor ID
    dpd: DpdState = field(default_factory=DpdState, repr=False)
    rekey: bool = False  # renews an SA of ours: no INITIAL-CONTACT
    rekey_at: float | None = None  # 90 % of the lifetime of an SA we initiated
    id_i_b: bytes = field(default=b"", repr=False)  # aggressive responder: IDii_b of AM1
    created_at: float = 0.0  # when its negotiation started (first message sent or seen)
    handle: int = 0  # its number in the SA database (debug: "insert sa successfully")
    peer_struct: int = 0  # the number of the peer struct it locks (shared by the peer's SAs)

    @property
    def established(self) -> bool:
        return self.state == "QM_IDLE" and not self.deleted

    @property
    def dst(self) -> int:
        """IOS prints the responder as dst."""
        return self.local if not self.initiator else self.peer

    @property
    def src(self) -> int:
        """IOS prints the initiator as src."""
        return self.local if self.initiator else self.peer

    @property
    def port(self) -> int:
        """The UDP port this SA's IKE messages go to: 4500 once floated, else 500."""
        return NAT_T_PORT if self.floated else IKE_PORT

    def drop_negotiation(self) -> None:
        """Main or aggressive mode completed: forget what only its exchanges needed (the DH
        private value, both KE values, the nonces, the SA and ID payload bodies). The keys,
        the IV and the last messages (retransmissions, duplicate detection) stay; a hub
        holds thousands of established SAs, and these were over a kilobyte each."""
        self.dh = None
        self.g_xi = self.g_xr = self.ni_b = self.nr_b = self.sai_b = self.id_i_b = b""

    def require_keys(self) -> tuple[Phase1Suite, Phase1Keys]:
        if self.suite is None or self.keys is None:
            raise ValueError("no phase-1 keys yet")
        return self.suite, self.keys

    def phase2_iv(self, message_id: int) -> bytes:
        """RFC 2409 Appendix B: IV of a quick-mode or informational exchange."""
        suite, _ = self.require_keys()
        return phase2_iv(suite.hash, self.last_block, message_id, suite.cipher.block_size)

    def encrypt(self, iv: bytes, plaintext: bytes) -> bytes:
        suite, keys = self.require_keys()
        return encrypt_body(suite.cipher, keys.encryption_key, iv, plaintext)

    def decrypt(self, iv: bytes, ciphertext: bytes) -> bytes:
        suite, keys = self.require_keys()
        return decrypt_body(suite.cipher, keys.encryption_key, iv, ciphertext)

    def block(self) -> int:
        suite, _ = self.require_keys()
        return suite.cipher.block_size
