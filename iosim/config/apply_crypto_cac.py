"""Call admission control for IKE at the command line: ``crypto call admission limit ike
sa|in-negotiation-sa N`` (and their ``no`` forms), ``show crypto call admission statistics``
and ``clear crypto call admission statistics``.

The limits live in the running-config (:class:`~iosim.config.crypto_model.CryptoConfig`);
the router's :class:`~iosim.ike.admission.CallAdmission` reads them at every decision, so a
change applies to the next request. The statistics come from the live crypto plane.
"""

from __future__ import annotations

from iosim.cli.errors import CommandRejected
from iosim.cli.exec_commands import _output
from iosim.cli.matcher import Match
from iosim.cli.session import Session, exec_handler
from iosim.config.crypto_model import crypto_of
from iosim.config.handlers import ApplyContext, handles
from iosim.ipsec.router_crypto import RouterCrypto
from iosim.show.crypto_cac import CallAdmissionView, show_call_admission_statistics


@handles("ccac_limit", "ccac_no_limit")
def _limit(ctx: ApplyContext, m: Match) -> None:
    crypto = crypto_of(ctx.config)
    if m.has("CCAC_SA"):
        count = m.get("CCAC_SA_COUNT")
        crypto.cac_ike_sa = None if m.has("CFG_NO") or count is None else int(count)
    else:
        count = m.get("CCAC_IN_NEG_COUNT")
        crypto.cac_in_negotiation = None if m.has("CFG_NO") or count is None else int(count)
    ctx.router.config_changed("crypto")


def _plane(session: Session) -> RouterCrypto:
    plane = session.router.crypto_plane
    if not isinstance(plane, RouterCrypto):
        raise CommandRejected("% This router is not connected to a lab network")
    return plane


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
