"""EXEC commands of the running crypto: show crypto isakmp/ipsec sa [count], show crypto
session, show crypto call admission statistics, clear crypto sa [counters], clear crypto
isakmp/session/call admission."""

from __future__ import annotations

from typing import TYPE_CHECKING

from iosim.cli.errors import CommandRejected
from iosim.cli.exec_commands import _output
from iosim.cli.matcher import Match
from iosim.cli.session import Session, exec_handler
from iosim.config.handlers import invalid_at
from iosim.net.packets import ip_to_int
from iosim.show.crypto_cac import CallAdmissionView, show_call_admission_statistics
from iosim.show.crypto_runtime import (
    show_crypto_session,
    show_crypto_session_brief,
    show_crypto_session_detail,
    show_engine_connections,
    show_ipsec_sa,
    show_ipsec_sa_address,
    show_ipsec_sa_count,
    show_ipsec_sa_identity,
    show_isakmp_peers,
    show_isakmp_sa,
    show_isakmp_sa_count,
    show_isakmp_sa_detail,
)

if TYPE_CHECKING:
    from iosim.ike.engine import IsakmpSaState
    from iosim.ipsec.router_crypto import RouterCrypto


def _plane(session: Session) -> RouterCrypto:
    # imported here: the crypto data plane and the IKE engines behind it are not needed
    # until a lab runs (a config replay, or a router alone, never loads them)
    from iosim.ipsec.router_crypto import RouterCrypto

    plane = session.router.crypto_plane
    if not isinstance(plane, RouterCrypto):
        raise CommandRejected("% This router is not connected to a lab network")
    return plane


@exec_handler("show_crypto_isakmp_sa")
def _show_isakmp_sa(session: Session, m: Match) -> str:
    states = _isakmp_states(_plane(session))
    if m.has("SCRY_ISA_DETAIL"):
        return _output(session, m, show_isakmp_sa_detail(states))
    if m.has("SCRY_ISA_COUNT"):
        return _output(session, m, show_isakmp_sa_count(states))
    return _output(session, m, show_isakmp_sa(states))


@exec_handler("show_crypto_isakmp_peers")
def _show_isakmp_peers(session: Session, m: Match) -> str:
    return _output(session, m, show_isakmp_peers(_isakmp_states(_plane(session))))


@exec_handler("show_crypto_ipsec_sa")
def _show_ipsec_sa(session: Session, m: Match) -> str:
    plane = _plane(session)
    interface = m.get("SCRY_IPSEC_IF")
    if interface is not None and interface not in session.router.config.interfaces:
        raise invalid_at(m, "SCRY_IPSEC_IF")
    if m.has("SCRY_IPSEC_ADDRESS"):
        return _output(session, m, show_ipsec_sa_address(plane.sad.bundles, plane.clock.now))
    if m.has("SCRY_IPSEC_COUNT"):
        return _output(session, m, show_ipsec_sa_count(plane.sad.bundles))
    if m.has("SCRY_IPSEC_IDENTITY"):
        return _output(session, m, show_ipsec_sa_identity(plane.flows(),
                                                          m.has("SCRY_IPSEC_DETAIL")))
    peer = m.get("SCRY_IPSEC_PEER_ADDR")
    text = show_ipsec_sa(plane.flows(), plane.clock.now, ip_to_int(peer) if peer else None,
                         interface, m.has("SCRY_IPSEC_DETAIL"))
    return _output(session, m, text)


@exec_handler("exec_clear_crypto_sa")
def _clear_sa(session: Session, m: Match) -> str:
    if m.has("CLEAR_CRYPTO_COUNTERS"):
        _plane(session).clear_sa_counters()
        return ""
    peer = m.get("CLEAR_CRYPTO_PEER_ADDR")
    _plane(session).clear_sa(ip_to_int(peer) if peer else None)
    return ""


@exec_handler("exec_clear_crypto_isakmp")
def _clear_isakmp(session: Session, m: Match) -> str:
    conn_id = m.get("CLEAR_CRYPTO_CONN_ID")
    _plane(session).clear_isakmp(int(conn_id) if conn_id is not None else None)
    return ""


@exec_handler("exec_clear_crypto_session")
def _clear_session(session: Session, m: Match) -> str:
    peer = m.get("CLEAR_SESSION_REMOTE_ADDR")
    _plane(session).clear_session(ip_to_int(peer) if peer else None)
    return ""


def _isakmp_states(plane: RouterCrypto) -> list[IsakmpSaState]:
    """Every ISAKMP SA; ``dpd`` (Cap. D) only where the peer does DPD and we run it."""
    return plane.isakmp_states()


def _uptimes(plane: RouterCrypto, states: list[IsakmpSaState]) -> dict[int, float]:
    """Seconds since each established ISAKMP SA (by conn-id) reached QM_IDLE."""
    now = plane.clock.now
    return {s.conn_id: now - s.established_at for s in states if s.established_at is not None}


@exec_handler("show_crypto_session")
def _show_session(session: Session, m: Match) -> str:
    plane = _plane(session)
    states = _isakmp_states(plane) + plane.ikev2.session_states()
    address = m.get("SCRY_SESSION_REMOTE_ADDR")
    peer = ip_to_int(address) if address else None
    if m.has("SCRY_SESSION_BRIEF"):
        text = show_crypto_session_brief(plane.flows(), states, _uptimes(plane, states))
    elif m.has("SCRY_SESSION_DETAIL"):
        text = show_crypto_session_detail(plane.flows(), states, plane.clock.now,
                                          _uptimes(plane, states), peer)
    else:
        text = show_crypto_session(plane.flows(), states, peer)
    return _output(session, m, text)


@exec_handler("show_crypto_engine_connections")
def _show_engine(session: Session, m: Match) -> str:
    plane = _plane(session)
    return _output(session, m, show_engine_connections(plane.sad.bundles,
                                                       _isakmp_states(plane)))


@exec_handler("show_crypto_call_admission")
def _show_statistics(session: Session, m: Match) -> str:
    plane = _plane(session)
    cac = plane.ike.admission
    view = CallAdmissionView(
        max_ike_sas=cac.limits().ike_sa or 0, max_in_negotiation=cac.in_negotiation_limit(),
        ike_active=cac.active, ike_negotiating=cac.negotiating, counters=cac.counters,
        ipsec_active=sum(len(b.inbound.spis) + len(b.outbound.spis) for b in plane.sad.bundles),
        ipsec_negotiating=sum(e.quick_modes_negotiating() for e in plane.engines.values()))
    return _output(session, m, show_call_admission_statistics(view))


@exec_handler("exec_clear_crypto_call_admission")
def _clear_statistics(session: Session, m: Match) -> str:
    _plane(session).ike.admission.counters.clear()
    return ""
