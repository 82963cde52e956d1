"""IKE_AUTH of :class:`~iosim.ike2.engine.Ikev2Engine` (RFC 7296 1.2, 2.15): the AUTH
payloads made and checked with the local and remote pre-shared keys of the matching
profile, AUTHENTICATION_FAILED either way, the first CHILD_SA offered and answered, the
message-ID windows announced and learnt (N(SET_WINDOW_SIZE), 2.3), the IKE SA made READY
(lifetime, rekey and DPD deadlines) and INITIAL_CONTACT honoured (2.4)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING

from iosim.deadlines import deadline_after
from iosim.ike2 import child
from iosim.ike2.constants import AuthMethod, ExchangeType, NotifyType, ProtocolId
from iosim.ike2.create_child import CreateChildMixin, Drop
from iosim.ike2.events import InitialContact, SaUp, Step
from iosim.ike2.keys import psk_auth, signed_octets
from iosim.ike2.payloads import (
    AuthPayload,
    DeletePayload,
    IdPayload,
    IkeMessage,
    NotifyPayload,
    Payload,
)
from iosim.ike2.sa import DEFAULT_WINDOW, Ikev2Sa, Ikev2Settings, PendingChild

__all__ = ["REKEY_AT", "AuthExchangeMixin"]

REKEY_AT = 0.9  # the initiator renews its IKE SA at 90 % of the lifetime, as IOS does


def with_window(payloads: list[Payload], window: int) -> list[Payload]:
    """IKE_AUTH's payloads with N(SET_WINDOW_SIZE) where IOS puts it: after INITIAL_CONTACT
    and USE_TRANSPORT_MODE, before the notifies every child carries (or last)."""
    notify = NotifyPayload(NotifyType.SET_WINDOW_SIZE, window.to_bytes(4, "big"))
    at = next((n for n, p in enumerate(payloads) if isinstance(p, NotifyPayload)
               and p.notify_type == child.CHILD_NOTIFIES[0].notify_type), len(payloads))
    return [*payloads[:at], notify, *payloads[at:]]


def announced_window(inner: tuple[Payload, ...]) -> int:
    """The window a peer's N(SET_WINDOW_SIZE) announces; 1 without one or with a value that
    is not 4 octets or is 0 (RFC 7296 2.3: such a notify is ignored)."""
    for p in inner:
        if isinstance(p, NotifyPayload) and p.notify_type == NotifyType.SET_WINDOW_SIZE:
            size = int.from_bytes(p.data, "big") if len(p.data) == 4 else 0
            return size if size > 0 else DEFAULT_WINDOW
    return DEFAULT_WINDOW


def _verification(passed: bool) -> str:
    """The debug step that tells how the peer's AUTH payload fared."""
    return f"Verification of peer's authentication data {'PASSED' if passed else 'FAILED'}"


class AuthExchangeMixin(CreateChildMixin):
    """The IKE_AUTH handlers of ``Ikev2Engine``."""

    _settings_for: Callable[[int, tuple[int, bytes] | None], Ikev2Settings | None]
    _half_open: dict[tuple[int, bytes], Ikev2Sa]
    _spi_in_use: Callable[[int], bool]
    stats: dict[str, int]

    if TYPE_CHECKING:  # provided by Ikev2Engine

        def _fail(self, sa: Ikev2Sa, reason: str, notify: str, now: float) -> None: ...

        def _forget_sa(self, sa: Ikev2Sa) -> None: ...


    def _auth_value(self, sa: Ikev2Sa, psk: bytes, sender_initiator: bool,
                    id_payload: IdPayload) -> bytes:
        s, k = sa.suite, sa.keys
        assert s is not None and k is not None
        if sender_initiator:
            octets = signed_octets(sa.init_request, sa.nr, s.prf, k.sk_pi, id_payload.body())
        else:
            octets = signed_octets(sa.init_response, sa.ni, s.prf, k.sk_pr, id_payload.body())
        return psk_auth(s.prf, psk, octets)

    def _send_auth(self, sa: Ikev2Sa, now: float) -> None:
        settings = sa.settings
        assert settings is not None
        if settings.local_psk is None:
            self._fail(sa, "Failed to get the local pre-shared key", "", now)
            return
        idi = IdPayload(settings.local_id[0], settings.local_id[1])
        payloads: list[Payload] = [idi, AuthPayload(
            AuthMethod.SHARED_KEY_MIC, self._auth_value(sa, settings.local_psk, True, idi))]
        want = sa.pending.pop(0) if sa.pending else None
        context: dict[str, object] = {}
        if want is not None:
            payloads += self._child_offer(sa, want, pfs=False, context=context)
        if not any(o is not sa and o.state != "DELETE"
                   for o in self._index.of_peer(sa.peer)):
            # IOS's order: IDi AUTH SA TSi TSr, then the notifies, INITIAL_CONTACT first
            first_notify = next((n for n, p in enumerate(payloads)
                                 if isinstance(p, NotifyPayload)), len(payloads))
            payloads.insert(first_notify, NotifyPayload(NotifyType.INITIAL_CONTACT))
        payloads = with_window(payloads, sa.window)
        if self._trace():
            self._events.append(Step(sa.sa_id, "Generating IKE_AUTH message"))
        self._send_request(sa, ExchangeType.IKE_AUTH, payloads, "auth", now, force=True,
                           context=context)

    def _child_offer(self, sa: Ikev2Sa, want: PendingChild, *, pfs: bool,
                     context: dict[str, object]) -> list[Payload]:
        """SA, TSi, TSr (and N(USE_TRANSPORT_MODE)) and the CHILD_NOTIFIES for a child we
        ask for; what the response needs goes into ``context``."""
        spi_in = self._spi()
        offered = child.esp_sa_payload(want.offer, spi_in.to_bytes(4, "big"), pfs)
        if offered is None:
            return []
        tsi, tsr = child.ts_payloads(want.proxies, True)
        context.update({"proxies": want.proxies, "offer": want.offer, "spi": spi_in,
                        "sa": offered, "rekey": want.rekey_spi})
        out: list[Payload] = [offered, tsi, tsr]
        if want.offer.mode == "transport":
            out.append(NotifyPayload(NotifyType.USE_TRANSPORT_MODE))
        return out + list(child.CHILD_NOTIFIES)

    def _spi(self) -> int:
        """A fresh inbound SPI for a CHILD_SA: 256 and up (RFC 4303 2.1), and none that an
        SA of the device (a child of ours once installed) already receives on."""
        while True:
            spi = int.from_bytes(self._rand(4), "big")
            if spi >= 256 and not self._spi_in_use(spi):
                return spi

    def _auth_request(self, sa: Ikev2Sa, msg: IkeMessage, inner: tuple[Payload, ...],
                      now: float) -> None:
        idi = next((p for p in inner if isinstance(p, IdPayload) and not p.responder), None)
        auth = next((p for p in inner if isinstance(p, AuthPayload)), None)
        if idi is None or auth is None or sa.state != "IN-NEG" or sa.initiator:
            raise Drop("IKE_AUTH without IDi or AUTH")
        mid = msg.header.message_id
        settings = self._settings_for(sa.peer, (idi.id_type, idi.data))
        self._half_open.pop((sa.peer, sa.spi_i), None)
        if settings is None or settings.remote_psk is None:
            if self._trace():
                self._events.append(Step(sa.sa_id, "Failed to locate an item in the database"))
            self._auth_failed(sa, mid, "Failed to find a matching profile", now)
            return
        sa.settings = settings
        sa.remote_id = (idi.id_type, idi.data)
        verified = self._auth_ok(sa, settings, idi, auth)
        if self._trace():
            self._events.append(Step(sa.sa_id, _verification(verified)))
        if not verified or settings.local_psk is None:
            self._auth_failed(sa, mid, "Auth exchange failed", now)
            return
        idr = IdPayload(settings.local_id[0], settings.local_id[1], responder=True)
        payloads: list[Payload] = [idr, AuthPayload(
            AuthMethod.SHARED_KEY_MIC, self._auth_value(sa, settings.local_psk, False, idr))]
        sa.peer_window = announced_window(inner)
        self._established(sa, now)
        sa.ready_peer_mid = mid + 1  # this IKE_AUTH, answered below, is not counted
        if any(isinstance(p, NotifyPayload) and p.notify_type == NotifyType.INITIAL_CONTACT
               for p in inner):
            self._initial_contact(sa)
        payloads += self._child_answer(sa, inner, pfs=False, ke=None)
        self._respond(sa, ExchangeType.IKE_AUTH, mid, with_window(payloads, sa.window))
        self.stats["in_accepted"] += 1

    def _auth_ok(self, sa: Ikev2Sa, settings: Ikev2Settings, idi: IdPayload,
                 auth: AuthPayload) -> bool:
        if settings.remote_psk is None or auth.method != AuthMethod.SHARED_KEY_MIC:
            return False
        expected = self._auth_value(sa, settings.remote_psk, not sa.initiator, idi)
        return hmac.compare_digest(expected, auth.data)

    def _auth_failed(self, sa: Ikev2Sa, mid: int, reason: str, now: float) -> None:
        """The responder refuses the initiator's IKE_AUTH: it answers AUTHENTICATION_FAILED
        (its debug says so before the packet that carries it) and drops the SA."""
        self.stats["in_rejected"] += 1
        if self._trace():
            self._events.append(Step(sa.sa_id, "Sending notify: AUTHENTICATION_FAILED"))
        self._respond(sa, ExchangeType.IKE_AUTH, mid,
                      [NotifyPayload(NotifyType.AUTHENTICATION_FAILED)])
        self._fail(sa, reason, "AUTHENTICATION_FAILED", now)

    def _auth_response(self, sa: Ikev2Sa, inner: tuple[Payload, ...],
                       context: dict[str, object], now: float) -> None:
        notes = {p.notify_type for p in inner if isinstance(p, NotifyPayload)}
        if NotifyType.AUTHENTICATION_FAILED in notes:
            self._fail(sa, "Received notify: AUTHENTICATION_FAILED", "AUTHENTICATION_FAILED",
                       now)
            return
        idr = next((p for p in inner if isinstance(p, IdPayload) and p.responder), None)
        auth = next((p for p in inner if isinstance(p, AuthPayload)), None)
        settings = sa.settings
        if idr is None or auth is None or settings is None:
            raise Drop("IKE_AUTH response without IDr or AUTH")
        verified = self._auth_ok(sa, settings, idr, auth)
        if self._trace():
            self._events.append(Step(sa.sa_id, _verification(verified)))
        if not verified:
            self._send_request(sa, ExchangeType.INFORMATIONAL, [DeletePayload(ProtocolId.IKE)],
                               "delete_ike", now, force=True)
            self._fail(sa, "Auth exchange failed", "AUTHENTICATION_FAILED", now)
            return
        sa.remote_id = (idr.id_type, idr.data)
        sa.peer_window = announced_window(inner)
        self.stats["out_accepted"] += 1
        self._established(sa, now)
        self._child_done(sa, inner, None, context)
        for want in sa.pending:
            sa.queue.append(want)
        sa.pending = []

    def _established(self, sa: Ikev2Sa, now: float, rekey: bool = False) -> None:
        sa.state = "READY"
        sa.established_at = sa.last_in = now
        sa.ready_peer_mid = sa.peer_mid
        settings = sa.settings
        sa.lifetime = settings.lifetime if settings else 86400
        sa.expires_at = deadline_after(now, sa.lifetime)
        if sa.initiator:
            sa.rekey_at = deadline_after(now, sa.lifetime * REKEY_AT)
        if settings is not None and settings.dpd is not None:
            sa.dpd_at = deadline_after(now, settings.dpd[0])
        if not rekey:  # a rekey's successor carries on the session the first SA opened
            self._events.append(SaUp(sa.peer, sa.sa_id, self.local, sa.port, sa.initiator))

    def _initial_contact(self, sa: Ikev2Sa) -> None:
        """INITIAL_CONTACT (2.4): every other SA with the peer is a leftover."""
        gone: list[int] = []
        for other in self._index.of_peer(sa.peer):
            if other is not sa:
                gone += list(other.children)
                self._forget_sa(other)
        self._events.append(InitialContact(sa.peer, tuple(gone)))
