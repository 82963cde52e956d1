"""Pure renderers of what IKEv2 is doing: ``show crypto ikev2 sa [fvrf V | local A |
remote A] [detail]``, ``show crypto ikev2 session [detail]`` and ``show crypto ikev2 stats``
(IOS 15 layouts, trailing spaces as the references show), from :class:`Ikev2SaView` rows the
router's glue makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from iosim.net.packets import format_ip

if TYPE_CHECKING:  # only named in annotations: the IKE engine need not load with the CLI
    from iosim.ike.quick_mode import IpsecSaPair

__all__ = ["Ikev2SaView", "Ikev2Stats", "show_ikev2_sa", "show_ikev2_sa_matching",
           "show_ikev2_session", "show_ikev2_stats"]


@dataclass(frozen=True)
class Ikev2SaView:
    """One IKE SA as the show commands see it."""

    sa_id: int
    local: int
    remote: int
    port: int
    status: str  # READY, IN-NEG, DELETE
    cipher: str  # "AES-CBC"
    keysize: int
    prf: str
    hash: str  # "SHA256", "SHA96", "None" for AEAD
    group: int
    lifetime: int
    active: int  # seconds since it came up
    local_spi: bytes
    remote_spi: bytes
    local_id: str
    remote_id: str
    local_requests: int  # ours from message ID 0; the peer's since the SA became READY
    remote_requests: int
    local_window: int  # ours: the peer's requests we take at once
    remote_window: int  # the one the peer announced (1 when none)
    dpd: tuple[int, int] | None
    fragmentation: bool
    nat: bool
    initiator: bool
    children: tuple[IpsecSaPair, ...]
    keywords: tuple[str, str, str] = ("", "", "")  # IOS's encryption, prf, integrity words
    session_id: int = 0  # the session the SA carries on (its own id when 0)
    profile: str = ""  # the IKEv2 profile that matched the peer ("" before IKE_AUTH)
    agreed: bool = True  # IKE_SA_INIT answered: algorithms and group agreed on


@dataclass(frozen=True)
class Ikev2Stats:
    """The counters of ``show crypto ikev2 stats``."""

    in_total: int
    in_active: int
    in_negotiating: int
    out_total: int
    out_active: int
    out_negotiating: int
    in_requests: int
    in_accepted: int
    in_rejected: int
    out_requests: int
    out_accepted: int
    out_rejected: int
    dropped: int
    cookie_challenged: int
    cookie_accepted: int
    cookie_rejected: int


_HEAD = ("Tunnel-id Local                 Remote                fvrf/ivrf            Status ")


#: what IOS prints of an SA whose IKE_SA_INIT has not been answered: nothing agreed yet
_NOTHING_AGREED = ("      Encr: Unknown - 0, PRF: Unknown - 0, Hash: None, DH Grp:0, "
                   "Auth sign: Unknown - 0, Auth verify: Unknown - 0")


def _algorithms(s: Ikev2SaView) -> str:
    if not s.agreed:
        return _NOTHING_AGREED
    return (f"      Encr: {s.cipher}, keysize: {s.keysize}, PRF: {s.prf}, Hash: {s.hash}, "
            f"DH Grp:{s.group}, Auth sign: PSK, Auth verify: PSK")


def _row(s: Ikev2SaView) -> list[str]:
    return [f"{s.sa_id:<10}{format_ip(s.local) + '/' + str(s.port):<22}"
            f"{format_ip(s.remote) + '/' + str(s.port):<22}{'none/none':<21}{s.status:<7}",
            _algorithms(s),
            f"      Life/Active Time: {s.lifetime}/{s.active} sec"]


def _detail(s: Ikev2SaView) -> list[str]:
    dpd = f"DPD configured for {s.dpd[0]} seconds, retry {s.dpd[1]}" if s.dpd else \
        "DPD configured for 0 seconds, retry 0"
    return [
        f"      CE id: {1000 + s.sa_id}, Session-id: {s.session_id or s.sa_id}",
        "      Status Description: " + ("Negotiation done" if s.status == "READY"
                                        else "Negotiation in progress"),
        f"      Local spi: {s.local_spi.hex().upper()}       "
        f"Remote spi: {s.remote_spi.hex().upper()}",
        f"      Local id: {s.local_id}",
        f"      Remote id: {s.remote_id}",
        f"      Local req msg id:  {s.local_requests:<15}"
        f"Remote req msg id:  {s.remote_requests:<10}",
        f"      Local next msg id: {s.local_requests:<15}"
        f"Remote next msg id: {s.remote_requests:<10}",
        f"      Local req queued:  {s.local_requests:<15}"
        f"Remote req queued:  {s.remote_requests:<10}",
        f"      Local window:      {s.local_window:<15}Remote window:      {s.remote_window:<10}",
        f"      {dpd}",
        "      Fragmentation " + ("configured." if s.fragmentation else "not configured."),
        "      Extended Authentication not configured.",
        "      NAT-T is " + ("detected  outside" if s.nat else "not detected  "),
        "      Cisco Trust Security SGT is disabled",
        f"      Initiator of SA : {'Yes' if s.initiator else 'No'}",
    ]


def show_ikev2_sa(sas: list[Ikev2SaView], detail: bool = False) -> str:
    """``show crypto ikev2 sa [detail]``."""
    out = [" IPv4 Crypto IKEv2  SA", "", _HEAD]  # IOS 15.4's headings (IOS-XE: "IPv4 ... SA ")
    for s in sas:
        out += _row(s)
        if detail:
            out += _detail(s)
        out.append("")
    if not sas:
        out.append("")  # the table's head alone, then the IPv6 heading after a blank line
    out += [" IPv6 Crypto IKEv2  SA", ""]
    return "\n".join(out) + "\n"


def show_ikev2_sa_matching(sas: list[Ikev2SaView], detail: bool = False) -> str:
    """``show crypto ikev2 sa fvrf V | local A | remote A [detail]``: the SAs the filter
    kept (the caller's choice), each under the table's head line and without the IPv4 and
    IPv6 headings of the whole table, as IOS prints a filtered table; nothing at all when no
    SA matches."""
    blocks = []
    for s in sas:
        block = [_HEAD, *_row(s)]
        if detail:
            block += _detail(s)
        blocks.append("\n".join(block) + "\n")
    return "\n".join(blocks)


def _selector(net: int, mask: int, port: int) -> str:
    high = net | (~mask & 0xFFFFFFFF)
    low_port, high_port = (port, port) if port else (0, 65535)
    return f"{format_ip(net)}/{low_port} - {format_ip(high)}/{high_port}"


def _child(pair: IpsecSaPair, detail: bool) -> list[str]:
    p = pair.proxies
    out = [f"Child sa: local selector  {_selector(p.local_net, p.local_mask, p.local_port)}",
           f"          remote selector {_selector(p.remote_net, p.remote_mask, p.remote_port)}",
           f"          ESP spi in/out: 0x{pair.spi_in:X}/0x{pair.spi_out:X}  "]
    if detail:
        words = pair.encryption.split()
        enc = {"esp-aes": "AES-CBC", "esp-gcm": "AES-GCM", "esp-3des": "3DES",
               "esp-des": "DES"}.get(words[0], words[0].upper())
        bits = words[1] if len(words) > 1 else ("128" if words[0] in ("esp-aes", "esp-gcm")
                                                else "0")
        hmac = (pair.integrity or "None").replace("esp-", "").replace("-hmac", "").upper()
        out += ["          AH spi in/out: 0x0/0x0  ", "          CPI in/out: 0x0/0x0  ",
                f"          Encr: {enc}, keysize: {bits}, esp_hmac: {hmac}",
                f"          ah_hmac: None, comp: IPCOMP_NONE, mode {pair.mode}"]
    return out


def show_ikev2_session(sas: list[Ikev2SaView], detail: bool = False) -> str:
    """``show crypto ikev2 session [detail]``: one session per peer."""
    out = ["IPv4 Crypto IKEv2 Session ", ""]
    peers: list[int] = []
    for s in sas:
        if s.remote not in peers:
            peers.append(s.remote)
    for n, peer in enumerate(peers, start=1):
        mine = [s for s in sas if s.remote == peer]
        children = [c for s in mine for c in s.children]
        up = any(s.status == "READY" for s in mine)
        status = ("UP-ACTIVE" if children else "UP-IDLE") if up else "DOWN-NEGOTIATING"
        session = mine[0].session_id or mine[0].sa_id
        out += [f"Session-id:{session}, Status:{status}, IKE count:{len(mine)}, "
                f"CHILD count:{len(children)}", "", _HEAD]
        for s in mine:
            out += _row(s)
            if detail:
                out += _detail(s)
            for pair in s.children:
                out += _child(pair, detail)
            out.append("")
        del n
    out += ["", "IPv6 Crypto IKEv2 Session ", ""]
    return "\n".join(out) + "\n"


def show_ikev2_stats(s: Ikev2Stats) -> str:
    """``show crypto ikev2 stats`` (the IOS 15 lines of the counter table)."""
    rule = "-" * 80
    return "\n".join([
        rule, f"{'Crypto IKEv2 SA Statistics':>52}", rule,
        "System Resource Limit:   0        Max IKEv2 SAs: 0        Max in nego(in/out): 40/400",
        f"Total incoming IKEv2 SA Count:    {s.in_total:<9}active:        {s.in_active:<9}"
        f"negotiating: {s.in_negotiating:<6}",
        f"Total outgoing IKEv2 SA Count:    {s.out_total:<9}active:        {s.out_active:<9}"
        f"negotiating: {s.out_negotiating:<6}",
        f"Incoming IKEv2 Requests: {s.in_requests:<9}accepted:      {s.in_accepted:<9}"
        f"rejected:    {s.in_rejected:<8}",
        f"Outgoing IKEv2 Requests: {s.out_requests:<9}accepted:      {s.out_accepted:<9}"
        f"rejected:    {s.out_rejected:<8}",
        f"Rejected IKEv2 Requests: {s.in_rejected + s.out_rejected:<9}rsrc low:      {0:<9}"
        f"SA limit:    {0:<8}",
        f"IKEv2 packets dropped at dispatch: {s.dropped:<8}",
        f"Incoming IKEV2 Cookie Challenged Requests: {s.cookie_challenged:<8}",
        f"    accepted: {s.cookie_accepted:<9}rejected: {s.cookie_rejected:<9}"
        f"rejected no cookie: {s.cookie_challenged - s.cookie_accepted - s.cookie_rejected:<8}",
        "Total Deleted sessions of Cert Revoked Peers: 0       ",
    ]) + "\n"
