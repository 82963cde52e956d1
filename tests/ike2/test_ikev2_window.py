"""The IKEv2 message-ID window (RFC 7296 2.3) as IOS keeps it: 5 announced with
N(SET_WINDOW_SIZE) in IKE_AUTH, up to the peer's window of requests in flight, each
retransmitted on its own, the peer's requests taken within ours and answered from the kept
responses when repeated."""

from __future__ import annotations

from ikev2_pair import OFFER, PROXIES, A, B, Link, pair_of, settings

from iosim.ike.quick_mode import ProxyIdentity
from iosim.ike2.auth_exchange import announced_window, with_window
from iosim.ike2.constants import ExchangeType, NotifyType
from iosim.ike2.engine import Ikev2Engine
from iosim.ike2.events import ChildDeleted, ChildUp, PacketReceived, PacketSent, Step
from iosim.ike2.payloads import NotifyPayload, Payload, pull_header
from iosim.ike2.sa import Ikev2Sa

#: Two more networks behind A within B's ACL (192.168.1.0/24): two more children.
HALVES = (ProxyIdentity(0xC0A80100, 0xFFFFFF80, 0x0A000200, 0xFFFFFF00),
          ProxyIdentity(0xC0A80180, 0xFFFFFF80, 0x0A000200, 0xFFFFFF00))
FITS = "Checking if request will fit in peer window"


def _ready(link: Link) -> tuple[Ikev2Sa, Ikev2Sa]:
    link.a.engine.initiate(B, PROXIES, OFFER, link.now, link.a.settings)  # type: ignore[arg-type]
    link.pump()
    a, b = link.a.engine.sa_for(B), link.b.engine.sa_for(A)
    assert a is not None and b is not None and a.established and b.established
    return a, b


def _two_children(link: Link) -> list[int]:
    """Bring up the HALVES children (over the READY SA) and return A's inbound SPIs."""
    for proxies in HALVES:
        link.a.engine.initiate(B, proxies, OFFER, link.now, link.a.settings)  # type: ignore[arg-type]
    link.pump()
    return [e.sa.spi_in for e in link.a.of(ChildUp)[-2:]]  # type: ignore[attr-defined]


def _requests(engine: Ikev2Engine) -> list[tuple[bytes, int]]:
    """The datagrams the engine sends now, with their message IDs."""
    return [(data, pull_header(data).message_id) for _, data, _ in engine.datagrams_with_ports()]


def test_both_sides_announce_five_and_learn_the_others() -> None:
    link = pair_of()
    a, b = _ready(link)
    assert (a.window, a.peer_window) == (b.window, b.peer_window) == (5, 5)
    auth = [e for e in link.a.events + link.b.events
            if isinstance(e, PacketSent) and e.exchange == "IKE_AUTH"]
    for sent in auth:
        names = [NotifyType.name_of(p.notify_type) for p in sent.payloads
                 if isinstance(p, NotifyPayload)]
        assert names[-3:] == ["SET_WINDOW_SIZE", "ESP_TFC_PADDING_NOT_SUPPORTED",
                              "NON_FIRST_FRAGMENTS_ALSO"], names
        window = next(p for p in sent.payloads if isinstance(p, NotifyPayload)
                      and p.notify_type == NotifyType.SET_WINDOW_SIZE)
        assert window.data == (5).to_bytes(4, "big")


def test_the_window_notify_goes_where_ios_puts_it_and_bad_values_are_ignored() -> None:
    contact = NotifyPayload(NotifyType.INITIAL_CONTACT)
    transport = NotifyPayload(NotifyType.USE_TRANSPORT_MODE)
    tfc = NotifyPayload(NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED)
    placed = with_window([contact, transport, tfc], 5)
    assert [p.notify_type for p in placed] == [  # type: ignore[attr-defined]
        NotifyType.INITIAL_CONTACT, NotifyType.USE_TRANSPORT_MODE, NotifyType.SET_WINDOW_SIZE,
        NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED]
    assert with_window([], 5)[-1] == NotifyPayload(NotifyType.SET_WINDOW_SIZE, b"\0\0\0\5")

    def notify(data: bytes) -> tuple[Payload, ...]:
        return (NotifyPayload(NotifyType.SET_WINDOW_SIZE, data),)

    assert announced_window(()) == 1  # none: RFC's default
    assert announced_window(notify(b"\0\0\0\x0a")) == 10
    assert announced_window(notify(b"\0\0\0\0")) == 1  # zero
    assert announced_window(notify(b"\0\5")) == 1  # not 4 octets
    assert announced_window(notify(b"")) == 1


def test_a_rekeyed_ike_sa_keeps_both_windows() -> None:
    link = pair_of(a_settings=settings(A, lifetime=600), b_settings=settings(B, lifetime=600))
    old, _ = _ready(link)
    link.run(541)  # 90 % of the lifetime: A rekeys the IKE SA
    new_a, new_b = link.a.engine.sa_for(B), link.b.engine.sa_for(A)
    assert new_a is not None and new_b is not None and new_a is not old
    assert (new_a.window, new_a.peer_window) == (new_b.window, new_b.peer_window) == (5, 5)


def test_two_child_sas_asked_for_at_once_each_get_their_own_answer() -> None:
    link = pair_of()
    _ready(link)
    for proxies in HALVES:
        link.a.engine.initiate(B, proxies, OFFER, link.now, link.a.settings)  # type: ignore[arg-type]
    sent = _requests(link.a.engine)
    assert [mid for _, mid in sent] == [2, 3]  # both out before any answer
    for data, _ in sent:
        link.b.engine.receive_datagram(data, A, link.now)
    answers = _requests(link.b.engine)
    for data, _ in reversed(answers):  # the answers overtake each other on the way back
        link.a.engine.receive_datagram(data, B, link.now)
    link.pump()
    mine = [e.sa for e in link.a.of(ChildUp)[-2:]]  # type: ignore[attr-defined]
    assert {p.proxies for p in mine} == set(HALVES)  # answer 3 did not take 2's place
    theirs = {e.sa.spi_out: e.sa for e in link.b.of(ChildUp)}  # type: ignore[attr-defined]
    for pair in mine:
        assert theirs[pair.spi_in].keys_out == pair.keys_in
    assert link.a.engine.dropped == link.b.engine.dropped == 0


def test_a_lost_request_is_retransmitted_alone() -> None:
    link = pair_of()
    a, b = _ready(link)
    first, second = _two_children(link)
    link.a.events.clear()
    link.a.engine.delete_child(B, first, link.now)
    link.a.engine.delete_child(B, second, link.now)
    sent = _requests(link.a.engine)
    assert [mid for _, mid in sent] == [4, 5]
    link.b.engine.receive_datagram(sent[1][0], A, link.now)  # the first is lost on the way
    for _, data, _ in link.b.engine.datagrams_with_ports():
        link.a.engine.receive_datagram(data, B, link.now)
    assert list(a.outstanding) == [4] and b.peer_mid == 4 and list(b.responses)[-1] == 5
    on_wire = len(link.wire)
    link.run(3)  # 2 s later, only message 4 goes again
    again = [pull_header(data).message_id for side, data, _ in link.wire[on_wire:]
             if side == "a"]
    assert again == [4]
    assert [e.text for e in link.a.of(Step) if "Retransmitting" in e.text] == [  # type: ignore[attr-defined]
        "Retransmitting packet (retry 1), message id 4"]
    assert not a.outstanding and b.peer_mid == 6
    assert len([e for e in link.b.of(ChildDeleted)]) == 2


def test_the_responder_answers_a_repeated_request_from_its_kept_responses() -> None:
    link = pair_of()
    a, b = _ready(link)
    first, second = _two_children(link)
    link.a.engine.delete_child(B, first, link.now)
    link.a.engine.delete_child(B, second, link.now)
    sent = _requests(link.a.engine)
    for data, _ in sent:
        link.b.engine.receive_datagram(data, A, link.now)
    answers = _requests(link.b.engine)
    link.a.engine.receive_datagram(answers[0][0], B, link.now)  # the answer to 5 is lost
    assert list(a.outstanding) == [5]
    link.pump()
    expected = b.peer_mid
    link.b.events.clear()
    on_wire = len(link.wire)
    link.run(3)  # A sends 5 again; B answers it from what it kept, doing nothing twice
    assert [(side, data) for side, data, _ in link.wire[on_wire:]] == [
        ("a", sent[1][0]), ("b", answers[1][0])]  # the very same bytes
    assert [type(e) for e in link.b.events] == [PacketReceived]  # nothing done or made anew
    assert not a.outstanding and b.peer_mid == expected
    assert link.b.engine.dropped == 0


def test_ids_outside_the_window_or_forgotten_are_dropped_and_counted() -> None:
    link = pair_of()
    a, b = _ready(link)
    dpd = ExchangeType.INFORMATIONAL
    a.next_mid += 5  # 2 + 5 = 7: one past B's window of 5 (2..6)
    link.a.engine._send_request(a, dpd, [], "dpd", link.now)
    link.pump()
    assert link.b.engine.dropped == 1 and b.peer_mid == 2 and not b.responses.keys() - {0, 1}
    a.outstanding.clear()
    a.next_mid = 2
    kept: list[bytes] = []
    for _ in range(7):  # 2..8 answered in turn: B keeps the responses of 4..8 only
        link.a.engine._send_request(a, dpd, [], "dpd", link.now)
        kept += [data for data, _ in _requests(link.a.engine)]
        link.b.engine.receive_datagram(kept[-1], A, link.now)
        for _, data, _ in link.b.engine.datagrams_with_ports():
            link.a.engine.receive_datagram(data, B, link.now)
    assert b.peer_mid == 9 and sorted(b.responses) == [4, 5, 6, 7, 8]
    link.b.engine.receive_datagram(kept[0], A, link.now)  # message 2 again: forgotten
    assert link.b.engine.dropped == 2 and not link.b.engine.datagrams_with_ports()
    link.b.engine.receive_datagram(kept[2], A, link.now)  # message 4 again: still kept
    assert len(link.b.engine.datagrams_with_ports()) == 1 and link.b.engine.dropped == 2
    assert b.established and a.established  # the SA goes on


def test_a_peer_window_of_one_sends_one_request_at_a_time() -> None:
    link = pair_of()
    a, _ = _ready(link)
    first, second = _two_children(link)
    a.peer_window = 1  # as with a peer that announces none (strongSwan)
    link.a.events.clear()
    link.a.engine.delete_child(B, first, link.now)
    link.a.engine.delete_child(B, second, link.now)
    assert [mid for _, mid in _requests(link.a.engine)] == [4]  # 5 waits in the queue
    assert len(a.queue) == 1
    link.pump()
    steps = [e.text for e in link.a.events if isinstance(e, Step)]  # type: ignore[attr-defined]
    assert steps == [FITS]  # asked for the request sent; the other goes after its answer


def test_the_window_question_comes_before_each_request_on_a_ready_sa_only() -> None:
    link = pair_of()
    a, _ = _ready(link)
    setup = [e for e in link.a.events if isinstance(e, Step) and e.text == FITS]
    assert setup == []  # not for IKE_SA_INIT or IKE_AUTH
    first, second = _two_children(link)
    link.a.events.clear()
    link.a.engine.delete_child(B, first, link.now)
    link.pump()
    kinds = [("fits" if isinstance(e, Step) and e.text == FITS else type(e).__name__)
             for e in link.a.events if isinstance(e, (Step, PacketSent, PacketReceived))]
    assert kinds[:3] == ["fits", "PacketSent", "PacketReceived"], kinds


def test_the_oldest_request_unanswered_holds_the_window_back() -> None:
    # RFC 7296 2.3: request X waits for the answers up through X - window, even when fewer
    # than a window's worth are outstanding
    link = pair_of()
    a, _ = _ready(link)
    a.peer_window = 2
    dpd = ExchangeType.INFORMATIONAL
    for _ in range(3):
        link.a.engine._send_request(a, dpd, [], "dpd", link.now)
    sent = _requests(link.a.engine)
    assert [mid for _, mid in sent] == [2, 3] and len(a.queue) == 1
    link.b.engine.receive_datagram(sent[1][0], A, link.now)  # 2 is lost, 3 answered
    for _, data, _ in link.b.engine.datagrams_with_ports():
        link.a.engine.receive_datagram(data, B, link.now)
    assert list(a.outstanding) == [2] and len(a.queue) == 1  # 4 would be beyond 2 + 2
    assert _requests(link.a.engine) == []
    link.run(3)  # 2 goes again and is answered: 4 follows
    assert not a.outstanding and not a.queue and a.next_mid == 5
    assert link.b.engine.dropped == 0


def test_a_child_made_on_the_old_ike_sa_while_the_peer_rekeys_it_moves_to_the_new_one(
        ) -> None:
    link = pair_of()
    _ready(link)
    # B asks for a child; before A answers it, A rekeys the IKE SA and B agrees
    wanted = HALVES[0].mirrored()
    link.b.engine.initiate(A, wanted, OFFER, link.now, link.b.settings)  # type: ignore[arg-type]
    b_child = _requests(link.b.engine)
    old_a = link.a.engine.sa_for(B)
    assert old_a is not None and len(b_child) == 1
    link.a.engine._request_ike_rekey(old_a, link.now)
    for data, _ in _requests(link.a.engine):
        link.b.engine.receive_datagram(data, A, link.now)
    b_rekeyed = _requests(link.b.engine)
    for data, _ in b_child:  # A answers the child on the old SA
        link.a.engine.receive_datagram(data, B, link.now)
    a_answer = _requests(link.a.engine)
    for data, _ in a_answer:  # B gets the child after it agreed to the rekey
        link.b.engine.receive_datagram(data, A, link.now)
    for data, _ in b_rekeyed:  # then A learns of the new SA and deletes the old one
        link.a.engine.receive_datagram(data, B, link.now)
    link.pump()
    new_a, new_b = link.a.engine.sa_for(B), link.b.engine.sa_for(A)
    assert new_a is not None and new_b is not None and new_a is not old_a
    assert len(link.a.engine.sas) == len(link.b.engine.sas) == 1
    made = [e.sa for e in link.b.of(ChildUp) if e.sa.proxies == wanted]  # type: ignore[attr-defined]
    assert len(made) == 1 and made[0].spi_in in new_b.children  # not gone with the old SA
    assert not link.b.of(ChildDeleted) and not link.a.of(ChildDeleted)
    assert made[0].spi_out in new_a.children
    assert link.a.engine.dropped == link.b.engine.dropped == 0


def test_what_waits_on_the_old_ike_sa_goes_on_the_new_one_when_the_peer_rekeys_it() -> None:
    link = pair_of()
    _ready(link)
    # six children asked for by B at once: five fill A's window, the sixth waits
    for n in range(6):
        wanted = ProxyIdentity(0x0A000200, 0xFFFFFF00, 0xC0A80100 + 32 * n, 0xFFFFFFE0)
        link.b.engine.initiate(A, wanted, OFFER, link.now, link.b.settings)  # type: ignore[arg-type]
    assert len(_requests(link.b.engine)) == 5
    old_b = link.b.engine.sa_for(A)
    old_a = link.a.engine.sa_for(B)
    assert old_a is not None and old_b is not None and len(old_b.queue) == 1
    link.a.engine._request_ike_rekey(old_a, link.now)
    for data, _ in _requests(link.a.engine):
        link.b.engine.receive_datagram(data, A, link.now)
    new_b = old_b.rekeyed_by
    assert new_b is not None and not old_b.queue
    sent = [pull_header(d) for d, _ in _requests(link.b.engine)]
    # the rekey's answer on the old SA, then the waiting request as the new SA's first
    assert [(h.spi_i, h.exchange_type, h.message_id) for h in sent] == [
        (old_b.spi_i, ExchangeType.CREATE_CHILD_SA, 2),
        (new_b.spi_i, ExchangeType.CREATE_CHILD_SA, 0)]
