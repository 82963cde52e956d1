"""Call admission control for IKE in the configuration: ``crypto call admission limit ike
sa|in-negotiation-sa N`` (and their ``no`` forms).

The limits live in the running-config (:class:`~iosim.config.crypto_model.CryptoConfig`);
the router's :class:`~iosim.ike.admission.CallAdmission` reads them at every decision, so a
change applies to the next request. ``show|clear crypto call admission statistics`` are
with the other crypto EXEC commands (:mod:`iosim.cli.exec_crypto`).
"""

from __future__ import annotations

from iosim.cli.matcher import Match
from iosim.config.crypto_model import crypto_of
from iosim.config.handlers import ApplyContext, handles


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
