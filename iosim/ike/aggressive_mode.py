"""IKEv1 aggressive mode (RFC 2409 section 5.4, pre-shared keys), sans-IO.

Theory of operation
-------------------
Three messages instead of main mode's six; the identities travel in clear::

    initiator                               responder
    AG_INIT_EXCH  -- AM1 HDR, SA, KE, Ni, IDii, VID(NAT-T), VID(DPD) -->
                  <-- AM2 HDR, SA, KE, Nr, IDir, HASH_R, VIDs, NAT-D, NAT-D --   AG_INIT_EXCH
    QM_IDLE       -- AM3 HDR*, HASH_I, NAT-D, NAT-D [, N(INITIAL-CONTACT)] -->
                                                                             QM_IDLE

SKEYID, HASH_I and HASH_R are main mode's (RFC 2409 5 and 5.4, with SAi_b the body of AM1's
SA payload). RFC 2409 lets AM3 go in clear, but IOS and strongSwan encrypt it, since the keys
exist by then (IV: the phase-1 IV of Appendix B); so do we, and the responder accepts either.
The last CBC block of AM3 (or the phase-1 IV if AM3 came in clear) seeds the phase-2 IVs.

Only one DH group can be offered (the KE goes with the offer): the initiator offers the
policies that share the group of its highest-priority policy (``_phase1_offer``). The
responder picks a policy as in main mode; a KE of another group fails the DH check and the
message is dropped. With ``crypto isakmp aggressive-mode disable`` the responder drops every
AM1, counts it and reports ``Phase1Failed`` (``AGGRESSIVE_DISABLED``).

NAT-T (RFC 3947): the NAT-D payloads go in AM2 and AM3; the initiator floats to UDP 4500 with
AM3 when NAT-D found a NAT and the peer sent the RFC 3947 vendor ID; the responder floats when
a message arrives on 4500 (the engine's common rule). Both sides wait for an answer (the
initiator for AM2, the responder for AM3) and retransmit as in main mode; a duplicate of the
message we last answered is answered again with our last message.

``AggressiveModeMixin`` holds the handlers; ``iosim.ike.engine.IkeEngine`` dispatches to it.
"""

from __future__ import annotations

from collections.abc import Callable

from iosim.crypto.dh import group as dh_group
from iosim.deadlines import deadline_after
from iosim.ike.constants import ExchangeType
from iosim.ike.events import NoteKind, VendorIdsMade
from iosim.ike.keymat import derive_phase1_keys, hash_i, hash_r
from iosim.ike.main_mode import (
    AGGRESSIVE_DISABLED,
    GIVE_UP_AFTER,
    NONCE_SIZE,
    ZERO_COOKIE,
    IsakmpSa,
    MainModeMixin,
    Phase1Failed,
    RemoteProtocolError,
    ip_text,
)
from iosim.ike.payloads import (
    HashPayload,
    IdPayload,
    IsakmpMessage,
    KePayload,
    NoncePayload,
    Payload,
    ProposalPayload,
    SaPayload,
    push_message,
    push_payload_body,
)
from iosim.ike.phase1_policy import offer_sa_payload
from iosim.ike.quick_mode import Phase2Offer, ProxyIdentity

__all__ = ["AG_INIT_EXCH", "AggressiveModeMixin"]

AG_INIT_EXCH = "AG_INIT_EXCH"  # IOS's show state while aggressive mode runs, on both sides
_AM = ExchangeType.AGGRESSIVE


class AggressiveModeMixin(MainModeMixin):
    """Aggressive-mode handlers of ``IkeEngine`` (see the module docstring)."""

    _aggressive_mode_disabled: Callable[[], bool]

    def _start_aggressive_mode(self, peer: int,
                               pending: list[tuple[ProxyIdentity, Phase2Offer]], now: float,
                               *, rekey: bool = False) -> None:
        offer = self._phase1_offer(peer, aggressive=True)
        if offer is None:
            return
        psk, usable = offer
        if not self._admitted(peer, initiator=True):
            return
        sa_payload, sai_b = offer_sa_payload(tuple(usable))
        sa = IsakmpSa(peer, self.local, True, self._rand(8), ZERO_COOKIE, psk.encode(),
                      state=AG_INIT_EXCH, aggressive=True, rekey=rekey, created_at=now)
        sa.sai_b = sai_b
        sa.dh = dh_group(usable[0].group).generate(self._rand)
        sa.g_xi, sa.ni_b = sa.dh.public_bytes(), self._rand(NONCE_SIZE)
        sa.handle, sa.peer_struct = self._lock_peer(peer, initiator=True)
        self._sas.add(sa)
        self._pending[(peer, sa.cky_i)] = list(pending)
        am1 = IsakmpMessage(self._header(sa, _AM), (
            sa_payload, KePayload(sa.g_xi), NoncePayload(sa.ni_b), self._my_id(),
            *self._my_vendor_ids()))
        self._note(sa, NoteKind.PSK_FOUND)
        if self._trace():
            self._events.append(VendorIdsMade(peer, 0, ("rfc3947",)))
        self._enter(sa, "IKE_I_AM1")
        self._note(sa, NoteKind.BEGIN_AGGRESSIVE)
        self._send(sa, push_message(am1), now, wait=True)

    def _am1(self, msg: IsakmpMessage, data: bytes, peer: int, now: float) -> None:
        """Responder: AM1 -> choose a policy, derive the keys, send AM2 (and wait for AM3)."""
        if self._aggressive_mode_disabled():
            self._events.append(Phase1Failed(peer, AGGRESSIVE_DISABLED.format(ip_text(peer))))
            raise RemoteProtocolError("aggressive mode is disabled")
        if not self._admitted(peer, initiator=False):
            return
        g_xi, ni_b = self._ke_nonce(msg)
        ident = msg.get(IdPayload)
        if ident is None:
            raise RemoteProtocolError("AM1 needs an ID payload")
        answer = self._responder_choice(msg, peer, "IKE_R_AM1")
        if answer is None:
            return
        sa, proposal, transform = answer
        suite = sa.suite
        assert suite is not None
        dh = dh_group(suite.group).generate(self._rand)
        g_xy = dh.shared_secret(g_xi)  # a KE of another group fails here: dropped
        sa.state, sa.aggressive, sa.created_at = AG_INIT_EXCH, True, now
        sa.g_xi, sa.ni_b, sa.g_xr, sa.nr_b = g_xi, ni_b, dh.public_bytes(), self._rand(NONCE_SIZE)
        sa.id_i_b = push_payload_body(ident)
        self._derive(sa, g_xy)
        self._note_vendor_ids(sa, msg.payloads)
        _, keys = sa.require_keys()
        my_id = self._my_id()
        h = hash_r(suite.hash, keys.skeyid, sa.g_xi, sa.g_xr, sa.cky_i, sa.cky_r, sa.sai_b,
                   push_payload_body(my_id))
        chosen = ProposalPayload(proposal.number, proposal.protocol_id, b"", (transform,))
        payloads: list[Payload] = [SaPayload((chosen,)), KePayload(sa.g_xr),
                                   NoncePayload(sa.nr_b), my_id, HashPayload(h),
                                   *self._my_vendor_ids(), *self._nat_d(sa)]
        sa.last_received, sa.give_up_at = data, deadline_after(now, GIVE_UP_AFTER)
        self._sas.add(sa)
        self._enter(sa, "IKE_R_AM1")
        if self._trace():
            self._events.append(VendorIdsMade(peer, sa.conn_id, ("rfc3947",)))
        self._send(sa, push_message(IsakmpMessage(self._header(sa, _AM), tuple(payloads))),
                   now, wait=True)
        self._enter(sa, "IKE_R_AM2")

    def _am2(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        """Initiator: AM2 -> verify HASH_R, send AM3 (encrypted); phase 1 is complete."""
        assert sa.dh is not None
        policy, suite, walk = self._initiator_choice(msg)
        if policy.group != sa.dh.group.number:
            raise RemoteProtocolError("AM2 chose a policy of another DH group")
        g_xr, nr_b = self._ke_nonce(msg)
        ident, got = self._id_and_hash(msg.payloads)
        cky_r = msg.header.responder_cookie
        g_xy = sa.dh.shared_secret(g_xr)
        keys = derive_phase1_keys(suite.hash, suite.cipher, sa.psk, sa.ni_b, nr_b, g_xy,
                                  sa.g_xi, g_xr, sa.cky_i, cky_r)
        if got != hash_r(suite.hash, keys.skeyid, sa.g_xi, g_xr, sa.cky_i, cky_r, sa.sai_b,
                         push_payload_body(ident)):
            raise RemoteProtocolError("HASH_R does not verify")
        # authenticated: commit
        sa.cky_r, sa.policy, sa.suite, sa.g_xr, sa.nr_b = cky_r, policy, suite, g_xr, nr_b
        sa.keys, sa.iv = keys, keys.iv
        self._enter(sa, "IKE_I_AM2")
        self._sa_checked(sa, msg, walk)
        sa.conn_id = self._next_conn_id
        self._next_conn_id += 1
        self._note_vendor_ids(sa, msg.payloads)
        sa.nat_detected = self._check_nat_d(sa, msg.payloads)
        self._payloads_processed(sa, ("ID", "HASH"))
        self._note(sa, NoteKind.AUTHENTICATED)
        self._peer_inserted(sa)
        my_id = self._my_id()
        h = hash_i(suite.hash, keys.skeyid, sa.g_xi, sa.g_xr, sa.cky_i, sa.cky_r, sa.sai_b,
                   push_payload_body(my_id))
        contact = self._initial_contact(sa)
        am3, sa.iv = self._seal(sa, _AM, 0, [HashPayload(h), *self._nat_d(sa), *contact],
                                sa.iv)
        sa.last_block, sa.last_received = sa.iv, data
        # RFC 3947 4: behind a NAT, with a peer that speaks RFC 3947: AM3 goes to 4500
        sa.floated = self._nat_traversal and sa.nat_detected and sa.peer_nat_t
        self._enter(sa, "IKE_I_AM2")
        if contact:
            self._note(sa, NoteKind.SEND_INITIAL_CONTACT)
        self._send(sa, am3, now, wait=False, state=AG_INIT_EXCH)
        self._enter(sa, "IKE_P1_COMPLETE")
        self._established(sa, now)

    def _am3(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        """Responder: AM3 (encrypted, or in clear as RFC 2409 allows) -> verify HASH_I."""
        suite, keys = sa.require_keys()
        if msg.encrypted_body is not None:
            payloads, last_block = self._open(sa, msg, sa.iv)
        else:
            payloads, last_block = msg.payloads, sa.iv
        got = next((p for p in payloads if isinstance(p, HashPayload)), None)
        if got is None:
            raise RemoteProtocolError("AM3 needs HASH_I")
        if got.data != hash_i(suite.hash, keys.skeyid, sa.g_xi, sa.g_xr, sa.cky_i, sa.cky_r,
                              sa.sai_b, sa.id_i_b):
            raise RemoteProtocolError("HASH_I does not verify")
        sa.iv = sa.last_block = last_block
        sa.last_received, sa.resend_at = data, None
        self._enter(sa, "IKE_R_AM3")
        self._payloads_processed(sa, ("HASH",))
        self._notifies_processed(sa, payloads)
        self._note(sa, NoteKind.AUTHENTICATED)
        sa.nat_detected = self._check_nat_d(sa, payloads)
        self._authenticated(sa, payloads, now)
        self._enter(sa, "IKE_R_AM3")
        self._enter(sa, "IKE_P1_COMPLETE")
        self._enter(sa, "IKE_P1_COMPLETE")
        self._established(sa, now)
