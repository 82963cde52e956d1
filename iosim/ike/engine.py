"""The IKEv1 engine (RFC 2409 main, aggressive and quick mode, pre-shared keys), sans-IO.

Theory of operation
-------------------
``IkeEngine`` is one router's IKE endpoint on one local address. It never touches a socket, a
clock or the OS random source: datagrams come in through ``receive_datagram(data, peer, now)``
and go out through ``datagrams_to_send()``; time comes in as ``now`` (``handle_timer(now)`` when
``get_timer()`` says so); randomness (cookies, nonces, SPIs, message IDs, DH privates) comes
from the injected ``rand``; what happened comes out of ``next_event()`` one event at a time
(``Phase1Established``, ``Phase2Established``, ``Phase1Failed``, ``StateChanged``,
``InitialContact``, ``PeerDead``, ``DpdSent`` / ``DpdReceived``, ...).

Phase 1 runs in :mod:`iosim.ike.main_mode` terms (``IsakmpSa``, IOS state names) or, when the
caller's ``aggressive_for(peer)`` says so, in :mod:`iosim.ike.aggressive_mode` terms; phase 2
in :mod:`iosim.ike.quick_mode` terms (``QuickModeExchange``). A datagram is routed by its
cookies to an ISAKMP SA, then by exchange type and message ID:

==================  =================  ==========================================
exchange            our role / state   action
==================  =================  ==========================================
MAIN_MODE, no SA    responder          MM1 -> choose policy, send MM2
MAIN_MODE           I  MM_NO_STATE     MM2 -> send MM3            (MM_SA_SETUP)
MAIN_MODE           R  MM_SA_SETUP     MM3 -> send MM4            (MM_KEY_EXCH)
MAIN_MODE           I  MM_SA_SETUP     MM4 -> send MM5            (MM_KEY_EXCH)
MAIN_MODE           R  MM_KEY_EXCH     MM5 -> verify, send MM6    (QM_IDLE)
MAIN_MODE           I  MM_KEY_EXCH     MM6 -> verify              (QM_IDLE)
AGGRESSIVE, no SA   responder          AM1 -> choose policy, send AM2 (AG_INIT_EXCH);
                                       dropped + Phase1Failed if aggressive_mode_disabled()
AGGRESSIVE          I  AG_INIT_EXCH    AM2 -> verify, send AM3    (QM_IDLE)
AGGRESSIVE          R  AG_INIT_EXCH    AM3 -> verify              (QM_IDLE)
QUICK_MODE          R  new message ID  QM1 -> select offer, send QM2
QUICK_MODE          I  QM_I_QM1        QM2 -> verify, send QM3, SA pair established
QUICK_MODE          R  QM_R_QM2        QM3 -> verify, SA pair established
INFORMATIONAL       any (QM_IDLE)      DELETE / NO_PROPOSAL_CHOSEN / INITIAL-CONTACT /
                                       R-U-THERE (-> ACK) / R-U-THERE-ACK /
                                       INVALID-SPI (-> the pair using that SPI dies)
==================  =================  ==========================================

``notify_invalid_spi()`` is the other side of INVALID-SPI: the caller got ESP/AH with an SPI
it does not know; the peer is told over the ISAKMP SA, or, with ``recover`` (IOS
``crypto isakmp invalid-spi-recovery``), over a phase 1 started for the purpose.

Anything else is the peer's mistake (``RemoteProtocolError`` or ``MalformedPacket``): the
datagram is dropped and counted in ``dropped``; state changes only after a message has been
fully parsed, decrypted and authenticated, so garbage never harms an SA. ``LocalProtocolError``
is raised only when the caller misuses the API.

NAT traversal (RFC 3947), when the engine is created with ``nat_traversal=True`` (the caller
can send to and receive on UDP 4500; ``UdpIkeAdapter`` does): both sides send the RFC 3947
vendor ID and, in MM3/MM4 (AM2/AM3), the NAT-D hashes of the addresses they see. When a hash
does not match (``IsakmpSa.nat_detected``) and the peer sent the vendor ID, the initiator
floats: MM5 (AM3) and everything after go to UDP 4500 (``datagrams_with_ports()`` says so per
datagram; ``datagram_port(peer)`` per peer; the I/O layer adds the 4-byte non-ESP marker). The
responder floats when a message of the SA arrives on 4500 (``receive_datagram(...,
port=NAT_T_PORT)``). A floated SA's quick modes offer and accept the UDP-Encapsulated-Tunnel/
-Transport modes (3/4) and yield ``IpsecSaPair.udp_encap``. Without NAT, or with
``nat_traversal=False`` (the default: a NAT is then only detected), nothing changes: every
datagram goes to port 500 and ``datagrams_to_send()`` suffices.

Retransmission: the side that waits for an answer (the initiator in main, aggressive and quick
mode, the responder waiting for AM3 or QM3) resends its last message 10 s after sending it,
then after 20, 40, 80 and 160 s (five retransmissions); when 320 s more pass without an answer
the negotiation is abandoned (``Phase1Failed`` / ``Phase2Failed`` "retransmission limit
reached"). A received datagram identical to the last one we processed is a retransmission: we
resend our answer.

Several ISAKMP SAs with one peer may coexist; quick modes use the newest established one
(``_sa_for_peer``). INITIAL-CONTACT (RFC 2407 4.6.3.3): the initiator of an SA sends it, inside
MM5 / AM3, when it has no other SA with the peer; the receiver forgets every other established
SA with that peer and its IPsec pairs, and emits ``InitialContact`` for the router.

Phase-1 rekey: an SA we initiated is renewed at 90 % of its lifetime (``IsakmpSa.rekey_at``) if
IPsec SA pairs with the peer still exist (an idle SA just expires, as on IOS): a new phase 1
(fresh cookies, main or aggressive mode as configured, no INITIAL-CONTACT) runs in the
background; the old SA keeps serving until the new one is QM_IDLE and is deleted (Delete sent,
``IsakmpSaDeleted``) at its own expiry.

DPD (RFC 3706, :mod:`iosim.ike.dpd`): ``dpd_for(peer)`` gives the ``crypto isakmp keepalive``
settings; the caller reports ESP traffic with ``note_traffic(peer, now, inbound)`` for on-demand
DPD. Probes, their retransmissions and the ``PeerDead`` verdict run off ``get_timer()``.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from iosim.ike.aggressive_mode import AggressiveModeMixin
from iosim.ike.constants import (
    DOI,
    ExchangeType,
    NotifyType,
    ProtocolId,
)
from iosim.ike.dpd import DpdMixin, DpdReceived, DpdSent, DpdSettings, PeerDead
from iosim.ike.keymat import (
    informational_hash,
)
from iosim.ike.main_mode import (
    IKE_PORT,
    NAT_T_PORT,
    RETRANSMIT_BASE,
    RETRANSMIT_LIMIT,
    ZERO_COOKIE,
    IkePolicy,
    IsakmpSa,
    LocalProtocolError,
    Phase1Established,
    Phase1Failed,
    RemoteProtocolError,
    StateChanged,
    ip_text,
)
from iosim.ike.payloads import (
    DeletePayload,
    HashPayload,
    IsakmpMessage,
    MalformedPacket,
    NotificationPayload,
    pull_message,
    push_payload,
)
from iosim.ike.quick_mode import (
    IpsecSaPair,
    Phase2Offer,
    ProxyIdentity,
    QuickModeExchange,
    delete_payloads,
    pair_deleted_by,
    usable_transform_set,
)
from iosim.ike.quick_mode_exchange import Phase2Established, Phase2Failed, QuickModeMixin

__all__ = [
    "DpdReceived",
    "DpdSent",
    "DpdSettings",
    "IkeEngine",
    "IkePolicy",
    "InitialContact",
    "IpsecSaPair",
    "IsakmpSaDeleted",
    "IsakmpSaState",
    "LocalProtocolError",
    "PeerDead",
    "Phase1Established",
    "Phase1Failed",
    "Phase2Deleted",
    "Phase2Established",
    "Phase2Failed",
    "Phase2Offer",
    "ProxyIdentity",
    "RemoteProtocolError",
    "DuplicateReceived",
    "Retransmitted",
    "StateChanged",
]

DELETED_LINGER = 60.0  # a failed/deleted ISAKMP SA stays listed as "ACTIVE (deleted)"
QM_LINGER = 60.0  # a finished quick mode keeps answering duplicates this long
_MM = ExchangeType.IDENTITY_PROTECTION
_AM = ExchangeType.AGGRESSIVE
_QM = ExchangeType.QUICK_MODE
_INFO = ExchangeType.INFORMATIONAL
_ESP = ProtocolId.PROTO_IPSEC_ESP
_AH = ProtocolId.PROTO_IPSEC_AH
BAD_MESSAGE = "IKMP_BAD_MESSAGE: IKE message from {} failed its sanity check or is malformed"


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retransmitted:
    """Our last message of phase ``phase`` (1 or 2) went out again, ``attempt`` of 5."""

    peer: int
    conn_id: int
    phase: int
    state: str
    attempt: int


@dataclass(frozen=True)
class DuplicateReceived:
    """A phase-1 message identical to the last one arrived: the peer retransmitted."""

    peer: int
    conn_id: int
    state: str


@dataclass(frozen=True)
class IsakmpSaDeleted:
    """The ISAKMP SA with ``peer`` is gone (deleted by either side or expired)."""

    peer: int
    conn_id: int


@dataclass(frozen=True)
class InitialContact:
    """``peer`` sent INITIAL-CONTACT (RFC 2407 4.6.3.3) with the new ISAKMP SA ``conn_id``: it
    rebooted. Its older ISAKMP SAs are gone (no Delete sent); delete the IPsec SAs with it
    that are older than this SA."""

    peer: int
    conn_id: int
    spis: tuple[int, ...] = ()  # inbound SPIs of the IPsec pairs forgotten with it


@dataclass(frozen=True)
class Phase2Deleted:
    """The peer deleted the IPsec SA pair whose inbound SPI is ``spi_in``."""

    peer: int
    spi_in: int


@dataclass(frozen=True)
class IsakmpSaState:
    """One row of ``show crypto isakmp sa [detail]``; dst is the responder, src the initiator."""

    dst: int
    src: int
    state: str
    conn_id: int
    status: str
    encryption: str
    hash: str
    auth: str
    group: int
    lifetime_left: float
    initiator: bool
    nat_t: bool = False  # NAT detected and IKE floated to UDP 4500 (RFC 3947)
    aggressive: bool = False  # negotiated in aggressive mode (RFC 2409 5.4), not main mode
    dpd: bool = False  # both sides sent the DPD vendor ID: R-U-THERE usable (RFC 3706)
    established_at: float | None = None  # when it reached QM_IDLE (None before, or deleted)
    lifetime: int = 0  # the negotiated lifetime in seconds (0 before phase 1 agreed on one)


def _first_select(_peer: int, _p: ProxyIdentity, offers: list[Phase2Offer]) -> Phase2Offer | None:
    return offers[0] if offers else None


class IkeEngine(AggressiveModeMixin, DpdMixin, QuickModeMixin):
    """IKEv1 endpoint for one local address (see the module docstring)."""

    def __init__(
        self,
        local_address: int,
        *,
        rand: Callable[[int], bytes],
        policies: Callable[[], list[IkePolicy]],
        psk_for: Callable[[int], str | None],
        select_phase2: Callable[[int, ProxyIdentity, list[Phase2Offer]], Phase2Offer | None]
        | None = None,
        aggressive_mode_disabled: Callable[[], bool] = lambda: False,
        nat_traversal: bool = False,
        aggressive_for: Callable[[int], bool] = lambda peer: False,
        dpd_for: Callable[[int], DpdSettings | None] = lambda peer: None,
    ) -> None:
        self.local = local_address
        self._rand = rand
        self._policies = policies
        self._psk_for = psk_for
        self._select = select_phase2 or _first_select
        self._aggressive_mode_disabled = aggressive_mode_disabled  # refuse AM1 as responder
        self._aggressive_for = aggressive_for  # initiate aggressive mode with this peer
        self._dpd_for = dpd_for  # crypto isakmp keepalive (None: no probes of ours)
        self._traffic: dict[int, list[float]] = {}  # on-demand DPD: [last out, last in]
        # float to 4500 / UDP-encapsulate (RFC 3947) only for a caller that can send there
        self._nat_traversal = nat_traversal
        self._sas: dict[tuple[int, bytes], IsakmpSa] = {}
        self._qm: dict[tuple[int, bytes, int], QuickModeExchange] = {}
        self._pending: dict[tuple[int, bytes], list[tuple[ProxyIdentity, Phase2Offer]]] = {}
        self._pairs: dict[int, IpsecSaPair] = {}  # by inbound SPI
        # INVALID-SPI notifies waiting for the phase 1 started to carry them
        self._notify_later: dict[tuple[int, bytes], list[NotificationPayload]] = {}
        self._outbox: list[tuple[int, bytes, int]] = []  # (peer, datagram, port)
        self._events: deque[object] = deque()
        self._next_conn_id = 1001
        self._next_ipsec_conn_id = 2001
        self._now = 0.0
        self.dropped = 0

    # ------------------------------------------------------------------ public API

    def initiate(self, peer: int, proxies: ProxyIdentity, offer: Phase2Offer, now: float) -> None:
        """Start phase 1 with ``peer`` (main mode, or aggressive mode when
        ``aggressive_for(peer)``), or quick mode over its newest established ISAKMP SA."""
        self._now = now
        if not isinstance(offer, Phase2Offer) or not isinstance(proxies, ProxyIdentity):
            raise LocalProtocolError("initiate() needs a ProxyIdentity and a Phase2Offer")
        if not any(usable_transform_set(ts) for ts in offer.transform_sets):
            self._events.append(Phase2Failed(peer, "no usable transform set to offer"))
            return
        for (p, _, _), x in self._qm.items():
            if p == peer and x.initiator and x.state == "QM_I_QM1" and x.proxies == proxies:
                return
        sa = self._sa_for_peer(peer)
        if sa is not None and sa.established:
            self._start_quick_mode(sa, proxies, offer, now)
            return
        if sa is not None:
            pending = self._pending.setdefault((peer, sa.cky_i), [])
            if all(p != proxies for p, _ in pending):
                pending.append((proxies, offer))
            return
        self._start_phase1(peer, [(proxies, offer)], now)

    def notify_invalid_spi(self, peer: int, spi: int, protocol: int, now: float, *,
                           recover: bool = False) -> bool:
        """An ESP (``protocol`` 3) or AH (2) packet from ``peer`` carried ``spi``, which we do
        not have: tell the peer with an INVALID-SPI notify (RFC 2408 3.14.1) over its
        established ISAKMP SA, so it deletes the pair and negotiates a new one. Without an
        ISAKMP SA, ``recover`` (IOS ``crypto isakmp invalid-spi-recovery``) starts phase 1
        first. Returns whether a notify was sent or queued."""
        self._now = now
        notify = NotificationPayload(NotifyType.INVALID_SPI, ProtocolId(protocol),
                                     spi.to_bytes(4, "big"))
        sa = self._sa_for_peer(peer)
        if sa is not None and sa.established:
            self._send_informational(sa, notify)
            return True
        if not recover:
            return False
        if sa is None:
            self._start_phase1(peer, [], now)
            sa = self._sa_for_peer(peer)
            if sa is None:
                return False
        waiting = self._notify_later.setdefault((peer, sa.cky_i), [])
        if notify not in waiting:
            waiting.append(notify)
        return True

    def receive_datagram(self, data: bytes, peer: int, now: float, port: int = IKE_PORT
                         ) -> None:
        """Process one IKE message from ``peer``; bad input is dropped and counted. ``port`` is
        the UDP port it arrived on: 4500 (``NAT_T_PORT``, non-ESP marker already stripped)
        makes the SA float there, as RFC 3947 section 4 asks of the responder."""
        self._now = now
        try:
            self._receive(bytes(data), peer, now, port)
        except (RemoteProtocolError, MalformedPacket, ValueError, KeyError, IndexError,
                struct.error):
            self.dropped += 1

    def datagrams_to_send(self) -> list[tuple[int, bytes]]:
        """(peer, UDP payload) pairs to send, drained. Without NAT traversal they all go to
        port 500; a caller that supports NAT-T uses ``datagrams_with_ports()`` instead."""
        return [(peer, data) for peer, data, _ in self.datagrams_with_ports()]

    def datagrams_with_ports(self) -> list[tuple[int, bytes, int]]:
        """(peer, IKE message, destination port) triples, drained. Port 4500 means the SA has
        floated (RFC 3947): the sender must prefix the 4-byte non-ESP marker."""
        out, self._outbox = self._outbox, []
        return out

    def datagram_port(self, peer: int) -> int:
        """The port IKE messages to ``peer`` currently go to (4500 after a NAT-T float)."""
        sa = self._sa_for_peer(peer)
        return sa.port if sa is not None else IKE_PORT

    def next_event(self) -> object | None:
        """The next event, or None."""
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        """When ``handle_timer`` must next be called, or None."""
        times: list[float] = []
        for sa in self._sas.values():
            times += [t for t in (sa.resend_at, sa.give_up_at, sa.expires_at, sa.purge_at,
                                  sa.rekey_at, self.dpd_due(sa)) if t is not None]
        for x in self._qm.values():
            if x.resend_at is not None:
                times.append(x.resend_at)
            if x.done_at is not None:
                times.append(x.done_at + QM_LINGER)
        return min(times) if times else None

    def handle_timer(self, now: float) -> None:
        """Retransmit, give up, expire and purge whatever is due at ``now``."""
        self._now = now
        for key, sa in list(self._sas.items()):
            if sa.purge_at is not None and now >= sa.purge_at:
                self._forget(key)
                continue
            if sa.deleted:
                continue
            if sa.resend_at is not None and now >= sa.resend_at:
                if sa.retransmits >= RETRANSMIT_LIMIT:
                    self._fail_phase1(sa, f"retransmission limit reached in {sa.state}", now)
                    continue
                sa.retransmits += 1
                sa.resend_at = now + RETRANSMIT_BASE * 2**sa.retransmits
                self._events.append(Retransmitted(sa.peer, sa.conn_id, 1, sa.state,
                                                  sa.retransmits))
                self._outbox.append((sa.peer, sa.last_sent, sa.port))
            if sa.give_up_at is not None and now >= sa.give_up_at:
                self._mark_deleted(sa, now)
            if sa.rekey_at is not None and now >= sa.rekey_at:
                sa.rekey_at = None
                self._rekey(sa, now)
            if sa.expires_at is not None and now >= sa.expires_at:
                self._send_isakmp_delete(sa)
                self._mark_deleted(sa, now)
                self._events.append(IsakmpSaDeleted(sa.peer, sa.conn_id))
            elif sa.established:
                self._dpd_timer(sa, now)
        for key3, x in list(self._qm.items()):
            if x.done_at is not None and now >= x.done_at + QM_LINGER:
                del self._qm[key3]
            elif x.resend_at is not None and now >= x.resend_at:
                if x.retransmits >= RETRANSMIT_LIMIT:
                    del self._qm[key3]
                    self._events.append(Phase2Failed(key3[0], "retransmission limit reached"))
                    continue
                x.retransmits += 1
                x.resend_at = now + RETRANSMIT_BASE * 2**x.retransmits
                owner = self._sas.get((key3[0], key3[1]))
                self._events.append(Retransmitted(key3[0], owner.conn_id if owner else 0, 2,
                                                  "QM_IDLE", x.retransmits))
                self._outbox.append((key3[0], x.last_sent,
                                     owner.port if owner is not None else IKE_PORT))

    def isakmp_sas(self, now: float | None = None) -> list[IsakmpSaState]:
        """Every ISAKMP SA, for ``show crypto isakmp sa [detail]`` (lifetime left as of
        ``now``, or of the last time the engine saw)."""
        if now is not None:
            self._now = max(self._now, now)
        out = []
        for sa in sorted(self._sas.values(), key=lambda s: (s.conn_id == 0, s.conn_id)):
            policy, suite = sa.policy, sa.suite
            if sa.expires_at is not None and not sa.deleted:
                left = max(0.0, sa.expires_at - self._now)
            else:
                left = float(suite.lifetime) if suite else 0.0
            out.append(IsakmpSaState(
                sa.dst, sa.src, sa.state, sa.conn_id,
                "ACTIVE (deleted)" if sa.deleted else "ACTIVE",
                policy.cipher_name if policy else "", policy.hash if policy else "",
                "psk", policy.group if policy else 0, left, sa.initiator, sa.floated,
                sa.aggressive, sa.peer_dpd, sa.established_at if sa.established else None,
                suite.lifetime if suite else 0))
        return out

    def decryption_keys(self) -> list[tuple[bytes, bytes]]:
        """(initiator cookie, encryption key Ka) of each keyed ISAKMP SA: what Wireshark's
        ``ikev1_decryption_table`` needs to show the encrypted IKE messages of a capture."""
        return [(sa.cky_i, sa.keys.encryption_key) for sa in self._sas.values()
                if sa.keys is not None]

    def delete_isakmp(self, peer: int | None, now: float, conn_id: int | None = None) -> None:
        """``clear crypto isakmp [CONN-ID]``: send DELETE for each ISAKMP SA (with ``peer``,
        or the one numbered ``conn_id``) and forget it."""
        self._now = now
        for key, sa in list(self._sas.items()):
            if (peer is not None and sa.peer != peer) or (
                    conn_id is not None and sa.conn_id != conn_id):
                continue
            if sa.established:
                self._send_isakmp_delete(sa)
            if not sa.deleted and sa.conn_id:
                self._events.append(IsakmpSaDeleted(sa.peer, sa.conn_id))
            self._forget(key)

    def forget_ipsec(self, spi_in: int) -> None:
        """The caller dropped the pair with inbound ``spi_in`` on its own (expiry, a dead or
        rebooted peer): forget it without telling the peer."""
        self._pairs.pop(spi_in, None)

    def delete_ipsec(self, peer: int | None, spis: list[int], now: float) -> None:
        """``clear crypto sa``: tell the peer (over its ISAKMP SA) that these inbound SPIs die."""
        self._now = now
        by_peer: dict[int, list[DeletePayload]] = {}
        for spi in spis:
            pair = self._pairs.get(spi)
            owner = pair.peer if pair is not None else peer
            if owner is None or (peer is not None and owner != peer):
                continue
            self._pairs.pop(spi, None)
            payloads = (delete_payloads(pair) if pair is not None
                        else [DeletePayload(_ESP, 4, (spi.to_bytes(4, "big"),))])
            by_peer.setdefault(owner, []).extend(payloads)
        for owner, owned in by_peer.items():
            sa = self._sa_for_peer(owner)
            if sa is not None and sa.established:
                for d in owned:
                    self._send_informational(sa, d)

    # ------------------------------------------------------------------ bookkeeping

    def _sa_for_peer(self, peer: int) -> IsakmpSa | None:
        """The ISAKMP SA quick modes use: the newest established one, else one negotiating."""
        live = [sa for sa in self._sas.values() if sa.peer == peer and not sa.deleted]
        live.sort(key=lambda s: (not s.established, -s.established_at, -s.conn_id))
        return live[0] if live else None

    def _start_phase1(self, peer: int, pending: list[tuple[ProxyIdentity, Phase2Offer]],
                      now: float, *, rekey: bool = False) -> None:
        if self._aggressive_for(peer):
            self._start_aggressive_mode(peer, pending, now, rekey=rekey)
        else:
            self._start_main_mode(peer, pending, now, rekey=rekey)

    def _rekey(self, sa: IsakmpSa, now: float) -> None:
        """90 % of the lifetime of an SA we initiated: renew it in the background if IPsec SAs
        with the peer still exist (an idle SA simply expires, as on IOS). The old SA serves
        until its expiry; quick modes move to the new one as soon as it is QM_IDLE."""
        if not sa.established or not any(p.peer == sa.peer for p in self._pairs.values()):
            return
        if any(o.peer == sa.peer and o.initiator and not o.deleted and not o.established
               for o in self._sas.values()):
            return  # a negotiation with the peer is already running
        self._start_phase1(sa.peer, [], now, rekey=True)

    def _peer_rebooted(self, sa: IsakmpSa, now: float) -> None:
        """INITIAL-CONTACT arrived over the new SA ``sa``: forget every other ISAKMP SA with
        the peer established before ``sa`` began (no Delete: nobody there remembers it) and
        the IPsec pairs with it. An SA that came up while ``sa`` was negotiating (both sides
        initiated at once, each with INITIAL-CONTACT) is no leftover of a reboot: it stays,
        and so do the pairs while it does."""
        forgot = False
        for key, other in list(self._sas.items()):
            if (other is not sa and other.peer == sa.peer and other.established
                    and other.established_at <= sa.created_at):
                self._forget(key)
                self._events.append(IsakmpSaDeleted(other.peer, other.conn_id))
                forgot = True
        alone = not any(o is not sa and o.peer == sa.peer and not o.deleted
                        for o in self._sas.values())
        gone: list[int] = []
        if forgot or alone:
            gone = [s for s, pair in self._pairs.items() if pair.peer == sa.peer]
            for spi_in in gone:
                del self._pairs[spi_in]
        self._events.append(InitialContact(sa.peer, sa.conn_id, tuple(gone)))

    def _peer_dead(self, sa: IsakmpSa, now: float) -> None:
        """DPD gave up: delete the SA locally (no Delete sent) and the engine's IPsec pairs."""
        self._events.append(PeerDead(sa.peer, sa.conn_id))
        self._mark_deleted(sa, now)
        self._events.append(IsakmpSaDeleted(sa.peer, sa.conn_id))
        for spi_in in [s for s, pair in self._pairs.items() if pair.peer == sa.peer]:
            del self._pairs[spi_in]
        self._traffic.pop(sa.peer, None)

    def _forget(self, key: tuple[int, bytes]) -> None:
        self._sas.pop(key, None)
        self._pending.pop(key, None)
        self._notify_later.pop(key, None)
        for k in [k for k in self._qm if k[:2] == key]:
            del self._qm[k]

    def _mark_deleted(self, sa: IsakmpSa, now: float) -> None:
        sa.deleted = True
        sa.resend_at = sa.give_up_at = sa.expires_at = None
        sa.purge_at = now + DELETED_LINGER
        self._pending.pop((sa.peer, sa.cky_i), None)
        self._notify_later.pop((sa.peer, sa.cky_i), None)
        for k in [k for k in self._qm if k[:2] == (sa.peer, sa.cky_i)]:
            del self._qm[k]

    def _fail_phase1(self, sa: IsakmpSa, reason: str, now: float) -> None:
        self._mark_deleted(sa, now)
        self._events.append(Phase1Failed(sa.peer, reason, sa.conn_id, sa.initiator))

    def _random_int(self, size: int, low: int) -> int:
        while True:
            value = int.from_bytes(self._rand(size), "big")
            if value >= low:
                return value

    # ------------------------------------------------------------------ receive

    def _receive(self, data: bytes, peer: int, now: float, port: int) -> None:
        msg = pull_message(data)
        h = msg.header
        sa = self._sas.get((peer, h.initiator_cookie))
        if (self._nat_traversal and sa is not None and port == NAT_T_PORT and not sa.floated
                and not sa.deleted):
            # the peer moved to 4500 (RFC 3947 4): answer there; undone if the message is bad
            sa.floated = True
            try:
                self._dispatch(sa, msg, data, peer, now)
            except BaseException:
                sa.floated = False
                raise
            return
        self._dispatch(sa, msg, data, peer, now)

    def _dispatch(self, sa: IsakmpSa | None, msg: IsakmpMessage, data: bytes, peer: int,
                  now: float) -> None:
        h = msg.header
        if h.exchange_type == _MM:
            if sa is None:
                if h.responder_cookie != ZERO_COOKIE or msg.encrypted_body is not None:
                    raise RemoteProtocolError("main mode message for an unknown SA")
                self._mm1(msg, data, peer, now)
                return
            if sa.deleted:
                raise RemoteProtocolError("SA is deleted")
            if data == sa.last_received:
                self._events.append(DuplicateReceived(peer, sa.conn_id, sa.state))
                if sa.last_sent and not sa.initiator:
                    self._outbox.append((peer, sa.last_sent, sa.port))
                return
            self._check_cookies(sa, msg)
            if sa.aggressive:
                raise RemoteProtocolError("main mode message for an aggressive-mode SA")
            self._main_mode(sa, msg, data, now)
            return
        if h.exchange_type == _AM:
            self._dispatch_aggressive(sa, msg, data, peer, now)
            return
        if sa is None or sa.deleted:
            raise RemoteProtocolError("no ISAKMP SA for these cookies")
        self._check_cookies(sa, msg)
        if h.exchange_type == _QM:
            if not sa.established:
                raise RemoteProtocolError("quick mode before phase 1 completed")
            self._quick_mode(sa, msg, data, now)
        elif h.exchange_type == _INFO:
            self._informational(sa, msg, now)
        else:
            raise RemoteProtocolError(f"exchange {h.exchange_type.name} not supported")

    @staticmethod
    def _check_cookies(sa: IsakmpSa, msg: IsakmpMessage) -> None:
        """The responder cookie must be the SA's, except in the initiator's first answer."""
        if msg.header.responder_cookie != sa.cky_r and not (sa.initiator
                                                            and sa.cky_r == ZERO_COOKIE):
            raise RemoteProtocolError("responder cookie mismatch")

    def _report_bad_auth(self, sa: IsakmpSa, handler: Callable[[], None]) -> None:
        """Run the handler of an authenticating message; report its failure once."""
        try:
            handler()
        except (RemoteProtocolError, MalformedPacket, ValueError):
            if not sa.failure_reported:
                sa.failure_reported = True
                self._events.append(Phase1Failed(sa.peer, BAD_MESSAGE.format(ip_text(sa.peer))))
            raise

    # ------------------------------------------------------------------ aggressive mode

    def _dispatch_aggressive(self, sa: IsakmpSa | None, msg: IsakmpMessage, data: bytes,
                             peer: int, now: float) -> None:
        if sa is None:
            if msg.header.responder_cookie != ZERO_COOKIE or msg.encrypted_body is not None:
                raise RemoteProtocolError("aggressive mode message for an unknown SA")
            self._am1(msg, data, peer, now)
            return
        if sa.deleted or not sa.aggressive:
            raise RemoteProtocolError("no aggressive-mode SA for these cookies")
        if data == sa.last_received:
            # the peer did not get our answer: the initiator resends AM3, the responder AM2
            if sa.last_sent and (sa.initiator or not sa.established):
                self._outbox.append((peer, sa.last_sent, sa.port))
            return
        self._check_cookies(sa, msg)
        if sa.established:
            raise RemoteProtocolError("aggressive mode already complete")
        if sa.initiator:
            self._report_bad_auth(sa, lambda: self._am2(sa, msg, data, now))
            self._phase1_done(sa, now)
        else:
            self._report_bad_auth(sa, lambda: self._am3(sa, msg, data, now))

    # ------------------------------------------------------------------ main mode

    def _main_mode(self, sa: IsakmpSa, msg: IsakmpMessage, data: bytes, now: float) -> None:
        if sa.initiator and sa.state == "MM_NO_STATE":
            self._mm2(sa, msg, data, now)
        elif not sa.initiator and sa.state == "MM_SA_SETUP":
            self._mm3(sa, msg, data, now)
        elif sa.initiator and sa.state == "MM_SA_SETUP":
            self._mm4(sa, msg, data, now)
        elif not sa.initiator and sa.state == "MM_KEY_EXCH":
            self._report_bad_auth(sa, lambda: self._mm5(sa, msg, data, now))
        elif sa.initiator and sa.state == "MM_KEY_EXCH":
            self._mm6(sa, msg, data, now)
            self._phase1_done(sa, now)
        else:
            raise RemoteProtocolError(f"unexpected main mode message in {sa.state}")

    def _phase1_done(self, sa: IsakmpSa, now: float) -> None:
        """Our phase 1 completed: run the quick modes and send the notifies it waited for."""
        for proxies, offer in self._pending.pop((sa.peer, sa.cky_i), []):
            self._start_quick_mode(sa, proxies, offer, now)
        self._events.append(StateChanged(sa.peer, sa.conn_id, "IKE_P1_COMPLETE",
                                         "IKE_P1_COMPLETE"))
        for notify in self._notify_later.pop((sa.peer, sa.cky_i), []):
            self._send_informational(sa, notify)

    # ------------------------------------------------------------------ informational

    def _send_informational(self, sa: IsakmpSa, payload: NotificationPayload | DeletePayload
                            ) -> bytes:
        """RFC 2409 5.7: HDR*, HASH(1), N/D over the ISAKMP SA; returns the datagram."""
        suite, keys = sa.require_keys()
        mid = self._new_message_id(sa)
        h = informational_hash(suite.hash, keys.skeyid_a, mid, push_payload(payload))
        data, _ = self._seal(sa, _INFO, mid, [HashPayload(h), payload], sa.phase2_iv(mid))
        self._outbox.append((sa.peer, data, sa.port))
        return data

    def _send_isakmp_delete(self, sa: IsakmpSa) -> None:
        if sa.established:
            self._send_informational(
                sa, DeletePayload(ProtocolId.PROTO_ISAKMP, 16, (sa.cky_i + sa.cky_r,), DOI.IPSEC))

    def _informational(self, sa: IsakmpSa, msg: IsakmpMessage, now: float) -> None:
        if msg.encrypted_body is None:
            notify = msg.get(NotificationPayload)
            if (sa.initiator and sa.cky_r == ZERO_COOKIE and notify is not None
                    and notify.notify_type == NotifyType.NO_PROPOSAL_CHOSEN):
                self._fail_phase1(sa, "NO_PROPOSAL_CHOSEN from peer: "
                                      "phase 1 SA policy not acceptable", now)
                return
            raise RemoteProtocolError("unprotected informational ignored")
        if not sa.established:
            raise RemoteProtocolError("informational before phase 1 completed")
        suite, keys = sa.require_keys()
        mid = msg.header.message_id
        payloads, _ = self._open(sa, msg, sa.phase2_iv(mid))
        rest = self._verify_hash(
            payloads, lambda b: informational_hash(suite.hash, keys.skeyid_a, mid, b))
        for p in rest:
            if isinstance(p, DeletePayload):
                self._peer_delete(sa, p, now)
            elif isinstance(p, NotificationPayload) and self._dpd_notify(sa, p, now):
                continue
            elif (isinstance(p, NotificationPayload)
                  and p.notify_type == NotifyType.INVALID_SPI and len(p.spi) == 4):
                self._invalid_spi(sa, p.protocol_id, int.from_bytes(p.spi, "big"))
            elif (isinstance(p, NotificationPayload)
                  and p.notify_type == NotifyType.INITIAL_CONTACT):
                self._peer_rebooted(sa, now)
            elif (isinstance(p, NotificationPayload)
                  and p.notify_type == NotifyType.NO_PROPOSAL_CHOSEN):
                for key, x in list(self._qm.items()):
                    if (key[:2] == (sa.peer, sa.cky_i) and x.initiator
                            and x.state == "QM_I_QM1"
                            and p.spi in (x.spi_in.to_bytes(4, "big"),
                                          x.ah_spi_in.to_bytes(4, "big"))):
                        del self._qm[key]
                        self._events.append(Phase2Failed(sa.peer, "NO_PROPOSAL_CHOSEN from peer"))

    def _invalid_spi(self, sa: IsakmpSa, protocol: int, spi: int) -> None:
        """The peer has no SA for ``spi``, one of our outbound ESP or AH SPIs (per
        ``protocol``): that pair is dead. Reserved SPIs (below 256) name nothing."""
        if spi < 256:
            return
        for spi_in, pair in list(self._pairs.items()):
            if pair.peer != sa.peer:
                continue
            esp_out = pair.spi_out if pair.protocol != "ah" else None
            ah_out = pair.ah_spi_out if pair.ah_integrity else None
            mine = esp_out if protocol == _ESP else ah_out if protocol == _AH else None
            if spi == mine:
                del self._pairs[spi_in]
                self._events.append(Phase2Deleted(sa.peer, spi_in))

    def _peer_delete(self, sa: IsakmpSa, d: DeletePayload, now: float) -> None:
        if d.protocol_id == ProtocolId.PROTO_ISAKMP:
            if sa.cky_i + sa.cky_r in d.spis and not sa.deleted:
                self._mark_deleted(sa, now)
                sa.state = "MM_NO_STATE"
                self._events.append(IsakmpSaDeleted(sa.peer, sa.conn_id))
        elif d.protocol_id in (_ESP, ProtocolId.PROTO_IPSEC_AH):
            for spi_in, pair in list(self._pairs.items()):
                if pair.peer == sa.peer and pair_deleted_by(pair, d):
                    del self._pairs[spi_in]
                    self._events.append(Phase2Deleted(sa.peer, spi_in))
