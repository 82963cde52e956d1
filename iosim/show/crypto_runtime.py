"""Pure renderers of what IKE and IPsec are doing: ``show crypto isakmp sa [detail|count]``,
``show crypto ipsec sa [detail|address|count|identity|interface|peer]``, ``show crypto session
[detail]``
(IOS 15.x layouts, tabs and spaces as the references show)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from iosim.cli.interfaces import short_name
from iosim.config.crypto_model import transform_show_name
from iosim.net.packets import format_ip
from iosim.show.durations import elapsed, hms

if TYPE_CHECKING:  # only named in annotations: the IKE engine need not load with the CLI
    from iosim.ike.engine import IsakmpSaState
    from iosim.ipsec.replay import ReplayWindow
    from iosim.ipsec.sad import FlowView, OneWaySa, SaBundle, SaCounters

ETHERNET_MTU = 1500


def show_isakmp_sa(states: list[IsakmpSaState]) -> str:
    """``show crypto isakmp sa``: dst is the responder, src the initiator, as IOS prints."""
    out = ["IPv4 Crypto ISAKMP SA",
           "dst             src             state          conn-id status"]
    for s in states:
        out.append(f"{format_ip(s.dst):<16}{format_ip(s.src):<16}{s.state:<15}"
                   f"{s.conn_id:>7} {s.status}")
    out += ["", "IPv6 Crypto ISAKMP SA", ""]
    return "\n".join(out) + "\n"


_DETAIL_HEAD = """\
Codes: C - IKE configuration mode, D - Dead Peer Detection
       K - Keepalives, N - NAT-traversal
       T - cTCP encapsulation, X - IKE Extended Authentication
       psk - Preshared key, rsig - RSA signature
       renc - RSA encryption
IPv4 Crypto ISAKMP SA

C-id  Local           Remote          I-VRF  Status Encr Hash   Auth DH Lifetime Cap.
"""


def _local_remote(s: IsakmpSaState) -> tuple[int, int]:
    return (s.src, s.dst) if s.initiator else (s.dst, s.src)


def _capabilities(s: IsakmpSaState) -> str:
    """The Cap. column: D for Dead Peer Detection, N for NAT-traversal."""
    return ("D" if s.dpd else "") + ("N" if s.nat_t else "")


def show_isakmp_sa_detail(states: list[IsakmpSaState]) -> str:
    """``show crypto isakmp sa detail``: the negotiated suite and the time left."""
    out = [_DETAIL_HEAD]
    for s in states:
        if s.conn_id == 0:
            continue
        local, remote = _local_remote(s)
        life = hms(s.lifetime_left)
        out.append(f"{s.conn_id:<6}{format_ip(local):<16}{format_ip(remote):<16}{'':7}"
                   f"{s.status.split()[0]:<7}{s.encryption.split()[0]:<5}{s.hash:<7}"
                   f"{s.auth:<5}{s.group:<3}{life} {_capabilities(s):<4}\n"
                   f"       Engine-id:Conn-id =  SW:{s.conn_id - 1000}\n")
    out.append("IPv6 Crypto ISAKMP SA\n\n")
    return "\n".join(out)


def show_isakmp_sa_count(states: list[IsakmpSaState]) -> str:
    """``show crypto isakmp sa count``: the ISAKMP SAs done with phase 1, those still
    negotiating it, and those deleted that the table still lists."""
    live = [s for s in states if s.status == "ACTIVE"]
    done = sum(1 for s in live if s.state == "QM_IDLE")
    return (f"\nActive ISAKMP SA's: {done}\n"
            "Standby ISAKMP SA's: 0\n"
            f"Currently being negotiated ISAKMP SA's: {len(live) - done}\n"
            f"Dead ISAKMP SA's: {len(states) - len(live)}\n")


def show_isakmp_peers(states: list[IsakmpSaState]) -> str:
    """``show crypto isakmp peers``."""
    out = []
    seen: set[int] = set()
    for s in states:
        local, remote = _local_remote(s)
        if remote in seen:
            continue
        seen.add(remote)
        out += [f"Peer: {format_ip(remote)} Port: 500 Local: {format_ip(local)}",
                f" Phase1 id: {format_ip(remote)}"]
    return "".join(line + "\n" for line in out)


def _life_left(sa: OneWaySa, now: float) -> tuple[int, int]:
    """(kilobytes, seconds) an SA has left before it must be renewed."""
    return (max(0, sa.lifetime_kilobytes - -(-sa.octets // 1024)),  # a started KB is used
            max(0, int(sa.created + sa.lifetime_seconds - now)))


def _replay_support(window: ReplayWindow | None, detail: bool) -> str:
    if window is None:
        return "        replay detection support: N"
    if detail:
        return f"        replay detection support: Y  replay window size: {window.size}"
    return "        replay detection support: Y"


def _one_way(b: SaBundle, sa: OneWaySa, now: float, protocol: str = "esp",
             detail: bool = False) -> list[str]:
    """One SA of a direction: its ESP SA, or (``protocol`` "ah") its AH SA. Replay
    detection is the inbound SA's, which both directions of the pair report."""
    if protocol == "ah":
        assert sa.ah is not None and b.pair.ah_integrity
        spi, words, iv = sa.ah.spi, [b.pair.ah_integrity], None
        conn = sa.ah_id
    else:
        assert sa.esp is not None
        words = [transform_show_name(b.pair.encryption)]
        if b.pair.integrity:
            words.append(b.pair.integrity)
        spi, iv = sa.esp.spi, sa.esp.encryption.iv_size
        conn = sa.conn_id
    kb_left, sec_left = _life_left(sa, now)
    window = b.inbound.ah_replay if protocol == "ah" else b.inbound.replay
    mode = "Tunnel" if b.pair.mode == "tunnel" else "Transport"
    if b.pair.udp_encap:
        mode += " UDP-Encaps"
    return [
        f"      spi: 0x{spi:X}({spi})",
        f"        transform: {' '.join(words)} ,",
        f"        in use settings ={{{mode}, }}",
        f"        conn id: {conn}, flow_id: SW:{conn}, sibling_flags 80000040, "
        f"crypto map: {b.map_name}",
        f"        sa timing: remaining key lifetime (k/sec): ({kb_left}/{sec_left})",
        *([f"        IV size: {iv} bytes"] if iv is not None else []),
        _replay_support(window, detail),
        "        Status: ACTIVE(ACTIVE)",
        "",
    ]


def _sas(bundles: tuple[SaBundle, ...], inbound: bool, now: float, protocol: str,
         detail: bool = False) -> list[str]:
    out = []
    for b in bundles:
        sa = b.inbound if inbound else b.outbound
        if (sa.ah if protocol == "ah" else sa.esp) is not None:
            out += _one_way(b, sa, now, protocol, detail)
    return out


def _proxy(net: int, mask: int, protocol: int = 0, port: int = 0) -> str:
    return f"({format_ip(net)}/{format_ip(mask)}/{protocol}/{port})"


def _error_counters(c: SaCounters, detail: bool) -> list[str]:
    """``#send errors``/``#recv errors``, or (``detail``) the error counters one by one:
    a failed ICV check is a verify failure, a packet outside the SA's proxies an invalid
    identity, any other bad packet a decaps failure (all receive errors), a replayed one a
    replay failure, a packet dropped while IKE negotiates a "no sa" (the short form counts
    among the send errors those dropped while the flow's request for a pair is pending,
    as IOS 15 does: not the packet that made the request)."""
    if not detail:
        return [f"    #send errors {c.send_errors_shown}, #recv errors {c.recv_errors}"]
    return [
        f"    #pkts no sa (send) {c.no_sa_send}, #pkts invalid sa (rcv) 0",
        f"    #pkts encaps failed (send) {c.send_errors}, #pkts decaps failed (rcv) "
        f"{c.recv_errors - c.verify_failures - c.invalid_identity}",
        f"    #pkts invalid prot (recv) 0, #pkts verify failed: {c.verify_failures}",
        f"    #pkts invalid identity (recv) {c.invalid_identity}, #pkts invalid len (rcv) 0",
        "    #pkts replay rollover (send): 0, #pkts replay rollover (rcv) 0",
        f"    ##pkts replay failed (rcv): {c.replay_failures}",
        "    #pkts tagged (send): 0, #pkts untagged (rcv): 0",
        "    #pkts not tagged (send): 0, #pkts not untagged (rcv): 0",
        "    #pkts internal err (send): 0, #pkts internal err (recv) 0",
    ]


def _flow_identity(f: FlowView, detail: bool) -> list[str]:
    """The head of a flow's block: its identities, peer and packet counters (all that
    ``show crypto ipsec sa identity`` prints of it)."""
    c = f.counters
    current = f.bundles[-1] if f.bundles else None
    p = f.proxies
    return [
        "",
        "   protected vrf: (none)",
        f"   local  ident (addr/mask/prot/port): "
        f"{_proxy(p.local_net, p.local_mask, p.protocol, p.local_port)}",
        f"   remote ident (addr/mask/prot/port): "
        f"{_proxy(p.remote_net, p.remote_mask, p.protocol, p.remote_port)}",
        f"   current_peer {format_ip(f.peer)} port "
        f"{4500 if current is not None and current.pair.udp_encap else 500}",
        "     PERMIT, flags={origin_is_acl,}",
        f"    #pkts encaps: {c.encaps}, #pkts encrypt: {c.encaps}, #pkts digest: {c.digest}",
        f"    #pkts decaps: {c.decaps}, #pkts decrypt: {c.decaps}, #pkts verify: {c.verify}",
        "    #pkts compressed: 0, #pkts decompressed: 0",
        "    #pkts not compressed: 0, #pkts compr. failed: 0",
        "    #pkts not decompressed: 0, #pkts decompress failed: 0",
        *_error_counters(c, detail),
    ]


def _flow_block(f: FlowView, now: float, detail: bool = False) -> list[str]:
    current = f.bundles[-1] if f.bundles else None
    if current is not None and current.pair.pfs_group:
        pfs = f"Y, DH group: group{current.pair.pfs_group}"
    else:
        pfs = "N, DH group: none"
    spi = current.outbound.spi if current is not None else 0
    mtu = f.mtu
    out = [
        *_flow_identity(f, detail),
        "",
        f"     local crypto endpt.: {format_ip(f.local)}, "
        f"remote crypto endpt.: {format_ip(f.peer)}",
        f"     plaintext mtu {mtu}, path mtu {ETHERNET_MTU}, ip mtu {ETHERNET_MTU}, "
        f"ip mtu idb {f.mtu_idb or f.interface}",
        f"     current outbound spi: 0x{spi:X}({spi})",
        f"     PFS (Y/N): {pfs}",
        "",
        "     inbound esp sas:",
        *(_sas(f.bundles, True, now, "esp", detail) or [""]),
        "     inbound ah sas:",
        *(_sas(f.bundles, True, now, "ah", detail) or [""]),
        "     inbound pcp sas:",
        "",
        "     outbound esp sas:",
        *(_sas(f.bundles, False, now, "esp", detail) or [""]),
        "     outbound ah sas:",
        *(_sas(f.bundles, False, now, "ah", detail) or [""]),
        "     outbound pcp sas:",
    ]
    return out


def show_ipsec_sa(flows: list[FlowView], now: float, peer: int | None = None,
                  interface: str | None = None, detail: bool = False) -> str:
    """``show crypto ipsec sa [peer A | interface I] [detail]``: per interface with a crypto
    map, each flow (of that peer, or on that interface); ``detail`` adds the error counters."""
    out: list[str] = []
    current: tuple[str, str] | None = None
    for f in flows:
        if (peer is not None and f.peer != peer) or (interface is not None
                                                     and f.interface != interface):
            continue
        if (f.interface, f.map_name) != current:
            current = (f.interface, f.map_name)
            out += ["", f"interface: {f.interface}",
                    f"    Crypto map tag: {f.map_name}, local addr {format_ip(f.local)}"]
        out += _flow_block(f, now, detail)
    return "\n".join(out) + "\n"


def show_ipsec_sa_identity(flows: list[FlowView], detail: bool = False) -> str:
    """``show crypto ipsec sa identity [detail]``: the flows alone, per interface with a
    crypto map: each flow's identities, peer and counters (``detail``: the error counters
    one by one), without the crypto endpoints, MTUs and SAs of ``show crypto ipsec sa``."""
    out: list[str] = []
    current: tuple[str, str] | None = None
    for f in flows:
        if (f.interface, f.map_name) != current:
            current = (f.interface, f.map_name)
            out += ["", f"interface: {f.interface}",
                    f"    Crypto map tag: {f.map_name}, local addr {format_ip(f.local)}"]
        out += _flow_identity(f, detail)
    return "\n".join(out) + "\n"


def show_ipsec_sa_count(bundles: list[SaBundle]) -> str:
    """``show crypto ipsec sa count``: every IPsec SA (each direction's ESP and AH SA counts
    one), those of pairs a rekey is replacing apart."""
    active = rekeying = 0
    for b in bundles:
        n = len(b.inbound.spis) + len(b.outbound.spis)
        if b.rekeyed:
            rekeying += n
        else:
            active += n
    return (f"IPsec SA total: {active + rekeying}, active: {active}, rekeying: {rekeying}, "
            "unused: 0, invalid: 0\n\n")


def show_ipsec_sa_address(bundles: list[SaBundle], now: float) -> str:
    """``show crypto ipsec sa address``: every SA grouped by its destination (ours for the
    inbound SAs, the peer's for the outbound ones), lowest address first, AH before ESP."""
    by_dest: dict[int, dict[str, list[str]]] = {}
    for b in bundles:
        for dest, sa in ((b.local, b.inbound), (b.peer, b.outbound)):
            for protocol, present in (("ah", sa.ah), ("esp", sa.esp)):
                if present is not None:
                    by_dest.setdefault(dest, {}).setdefault(protocol, []).extend(
                        _one_way(b, sa, now, protocol))
    out: list[str] = []
    for dest in sorted(by_dest):
        out += ["", f"dest address: {format_ip(dest)}"]
        for protocol, lines in sorted(by_dest[dest].items()):
            out += [f"   protocol: {protocol.upper()}", *lines]
    return "\n".join(out) + "\n"


def _net_text(net: int, mask: int) -> str:
    """``host A`` for a single address, else ``A/M``, as the IPSEC FLOW line has them."""
    return f"host {format_ip(net)}" if mask == 0xFFFFFFFF else f"{format_ip(net)}/{format_ip(mask)}"


def _flow_text(f: FlowView) -> str:
    p = f.proxies
    protocol = str(p.protocol) if p.protocol else "ip"
    return (f"permit {protocol} {_net_text(p.local_net, p.local_mask)} "
            f"{_net_text(p.remote_net, p.remote_mask)} ")


@dataclass(frozen=True)
class _Session:
    """What ``show crypto session`` calls a session: an interface and a peer, the ISAKMP
    SAs with that peer (``ike`` established, ``negotiating`` not yet) and the flows of the
    interface's crypto map towards it."""

    interface: str
    peer: int
    flows: list[FlowView]
    ike: list[IsakmpSaState]
    negotiating: list[IsakmpSaState]

    @property
    def status(self) -> str:
        active = any(f.bundles for f in self.flows)
        if self.ike:
            return "UP-ACTIVE" if active else "UP-IDLE"
        if active:
            return "UP-NO-IKE"
        return "DOWN-NEGOTIATING" if self.negotiating else "DOWN"

    @property
    def profile(self) -> str:
        """The profile of the session's IKE SA, which IOS names under the interface
        ("" when none)."""
        return next((s.profile for s in self.ike if s.profile), "")

    @property
    def port(self) -> int:
        """UDP 4500 once IKE has floated there (NAT-T), else 500."""
        return 4500 if any(s.nat_t for s in self.ike) else 500


def _sessions(flows: list[FlowView], states: list[IsakmpSaState], peer: int | None
              ) -> list[_Session]:
    """The sessions in the order of their first flow; only those with ``peer`` if given."""
    keys: list[tuple[str, int]] = []
    for f in flows:
        if (f.interface, f.peer) not in keys and peer in (None, f.peer):
            keys.append((f.interface, f.peer))
    sessions = []
    for interface, remote in keys:
        mine = [s for s in states if _local_remote(s)[1] == remote and s.status == "ACTIVE"]
        sessions.append(_Session(
            interface, remote,
            [f for f in flows if (f.interface, f.peer) == (interface, remote)],
            [s for s in mine if s.state in _UP],
            [s for s in mine if s.state not in _UP]))
    return sessions


_UP = ("QM_IDLE", "READY")  # phase 1 done (IKEv1), IKE SA ready (IKEv2)


def _ike_sa_lines(s: IsakmpSaState, port: int, active: bool) -> list[str]:
    """``Session ID`` and the ``IKEv1 SA`` (or ``IKEv2 SA``) line of an IKE SA, ``Active``
    once phase 1 is done, ``Inactive`` while it is negotiated."""
    local, remote = _local_remote(s)
    return [f"  Session ID: {(s.session or s.conn_id) if s.version == 2 else 0}  ",
            f"  IKEv{s.version} SA: local {format_ip(local)}/{port} remote "
            f"{format_ip(remote)}/{port} "
            f"{'Active' if active else 'Inactive'} "]


def _profile_line(s: _Session) -> list[str]:
    """``Profile: NAME`` under the interface, when the session's IKE SA has a profile."""
    return [f"Profile: {s.profile}"] if s.profile else []


def _origin(f: FlowView) -> str:
    return "dynamic crypto map" if f.dynamic else "crypto map"


def show_crypto_session(flows: list[FlowView], states: list[IsakmpSaState],
                        peer: int | None = None) -> str:
    """``show crypto session [remote A]``: per interface and peer, the IKE SA and the IPsec
    flows."""
    out = ["Crypto session current status", ""]
    for s in _sessions(flows, states, peer):
        out += [f"Interface: {s.interface}", *_profile_line(s),
                f"Session status: {s.status:<14}", f"Peer: {format_ip(s.peer)} port {s.port} "]
        for ike in s.ike:
            out += _ike_sa_lines(ike, s.port, True)
        for ike in s.negotiating:
            out += _ike_sa_lines(ike, s.port, False)
        for f in s.flows:
            out += [f"  IPSEC FLOW: {_flow_text(f)}",
                    f"        Active SAs: {_active_sas(f)}, origin: {_origin(f)}"]
        out.append("")
    return "\n".join(out) + "\n"


#: ``show crypto session brief``: a session's status as its initials (UP-ACTIVE -> UA).
_BRIEF_STATUS = {"UP-ACTIVE": "UA", "UP-IDLE": "UI", "UP-NO-IKE": "UK",
                 "DOWN-NEGOTIATING": "DN", "DOWN": "D"}


def show_crypto_session_brief(flows: list[FlowView], states: list[IsakmpSaState],
                              uptimes: dict[int, float]) -> str:
    """``show crypto session brief``: one line per session, its peer, the interface's short
    name, the peer's phase-1 identity and how long its IKE SA has been up (``uptimes``: as
    for :func:`show_crypto_session_detail`)."""
    out = ["Status: A- Active, U - Up, D - Down, I - Idle, S - Standby, N - Negotiating ",
           "        K - No IKE",
           "ivrf = (none)",
           "Peer            I/F          Username        Group/Phase1_id          Uptime   Status"]
    for s in _sessions(flows, states, None):
        ups = [uptimes[ike.conn_id] for ike in s.ike if ike.conn_id in uptimes]
        phase1 = format_ip(s.peer) if s.ike else ""
        uptime = elapsed(max(ups)) if ups else ""
        out.append(f"{format_ip(s.peer):<16}{short_name(s.interface):<13}{'':<16}{phase1:<25}"
                   f"{uptime:<9}{_BRIEF_STATUS[s.status]}")
    return "\n".join(out) + "\n"


_SESSION_CODES = [
    "Code: C - IKE Configuration mode, D - Dead Peer Detection     ",
    "K - Keepalives, N - NAT-traversal, T - cTCP encapsulation     ",
    "X - IKE Extended Authentication, F - IKE Fragmentation",
    "R - IKE Auto Reconnect, U - IKE Dynamic Route Update",
    "S - SIP VPN",
]


def _flow_detail(f: FlowView, now: float) -> list[str]:
    """The two counter lines of a flow: packets, drops and the current pair's life left."""
    c = f.counters
    current = f.bundles[-1] if f.bundles else None
    kb_in, sec_in = _life_left(current.inbound, now) if current is not None else (0, 0)
    kb_out, sec_out = _life_left(current.outbound, now) if current is not None else (0, 0)
    return [f"        Inbound:  #pkts dec'ed {c.decaps} drop "
            f"{c.recv_errors + c.replay_failures} life (KB/Sec) {kb_in}/{sec_in}",
            f"        Outbound: #pkts enc'ed {c.encaps} drop {c.send_errors} "
            f"life (KB/Sec) {kb_out}/{sec_out}"]


def show_crypto_session_detail(flows: list[FlowView], states: list[IsakmpSaState],
                               now: float, uptimes: dict[int, float],
                               peer: int | None = None) -> str:
    """``show crypto session [remote A] detail``: each session with its uptime (``uptimes``:
    seconds since each ISAKMP SA, by conn-id, was established), its ISAKMP SAs' capabilities
    and lifetimes, and each flow's packet counters and SA lifetimes."""
    out = ["Crypto session current status", "", *_SESSION_CODES, ""]
    for s in _sessions(flows, states, peer):
        out += [f"Interface: {s.interface}", *_profile_line(s)]
        ups = [uptimes[ike.conn_id] for ike in s.ike if ike.conn_id in uptimes]
        if ups:
            out.append(f"Uptime: {elapsed(max(ups))}")
        out += [f"Session status: {s.status:<14}",
                f"Peer: {format_ip(s.peer)} port {s.port} fvrf: (none) ivrf: (none)"]
        if s.ike:
            out += [f"      Phase1_id: {format_ip(s.peer)}", "      Desc: (none)"]
        else:
            out += ["      Desc: (none)", "      Phase1_id: (none)"]
        for ike in s.ike:
            out += [*_ike_sa_lines(ike, s.port, True),
                    f"          Capabilities:{_capabilities(ike) or '(none)'} "
                    f"connid:{ike.conn_id} lifetime:{hms(ike.lifetime_left)}"]
        for ike in s.negotiating:
            out += [*_ike_sa_lines(ike, s.port, False),
                    "          Capabilities:(none) connid:0 lifetime:0"]
        for f in s.flows:
            out += [f"  IPSEC FLOW: {_flow_text(f)}",
                    f"        Active SAs: {_active_sas(f)}, origin: {_origin(f)}",
                    *_flow_detail(f, now)]
        out.append("")
    return "\n".join(out) + "\n"


_ESP_NAMES = {"esp-des": "DES", "esp-3des": "3DES", "esp-aes": "AES", "esp-gcm": "AES-GCM",
              "esp-gmac": "AES-GMAC", "esp-null": "NULL"}
_AUTH_NAMES = {"esp-md5-hmac": "MD5", "esp-sha-hmac": "SHA", "esp-sha256-hmac": "SHA256",
               "esp-sha384-hmac": "SHA384", "esp-sha512-hmac": "SHA512"}
_IKE_HASH = {"md5": "MD5", "sha": "SHA", "sha256": "SHA256", "sha384": "SHA384",
             "sha512": "SHA512"}


def _active_sas(f: FlowView) -> int:
    """Every SA of the flow's pairs: two a pair, four with AH beside ESP."""
    return sum(2 * len(b.inbound.spis) for b in f.bundles)


def _ah_algorithm(b: SaBundle) -> str:
    """An AH SA's HMAC, named as the ESP HMACs are."""
    ah = (b.pair.ah_integrity or "").replace("ah-", "esp-", 1)
    return _AUTH_NAMES.get(ah, ah)


def _esp_algorithm(b: SaBundle) -> str:
    if not b.pair.encryption:  # AH alone: its HMAC
        return _ah_algorithm(b)
    words = b.pair.encryption.split()
    name = _ESP_NAMES.get(words[0], words[0].upper())
    if len(words) > 1 and words[1] != "128":
        name += words[1]
    if b.pair.integrity:
        name += "+" + _AUTH_NAMES.get(b.pair.integrity, b.pair.integrity)
    return name


def _ike_algorithm(s: IsakmpSaState) -> str:
    enc = s.encryption.upper().replace(" ", "")
    return f"{_IKE_HASH.get(s.hash, s.hash.upper())}+{enc}"


def show_engine_connections(bundles: list[SaBundle], states: list[IsakmpSaState]) -> str:
    """``show crypto engine connections active`` (the 15.x table): one row per SA, with
    the packets that SA itself encrypted or decrypted (its flow's ``#pkts`` add up every
    pair it has had)."""
    out = ["Crypto Engine Connections", "",
           "   ID  Type    Algorithm           Encrypt  Decrypt LastSeqN IP-Address"]
    rows: list[tuple[int, str]] = []

    def row(conn: int, kind: str, alg: str, encrypt: int, decrypt: int, last: int,
            local: int) -> None:
        rows.append((conn, f"{conn:>5}  {kind:<8}{alg:<20}{encrypt:>7}{decrypt:>9}{last:>9} "
                           f"{format_ip(local)}"))

    for b in bundles:
        inb, outb = b.inbound, b.outbound
        # an AH-only pair's window is its AH SA's (there is no ESP one)
        sas = [(_esp_algorithm(b), inb.conn_id, outb.conn_id,
                inb.replay if inb.esp is not None else inb.ah_replay)]
        if inb.ah_conn_id:  # AH beside ESP: every packet went through both
            sas.append((_ah_algorithm(b), inb.ah_conn_id, outb.ah_conn_id, inb.ah_replay))
        for alg, conn_in, conn_out, window in sas:
            row(conn_in, "IPsec", alg, 0, inb.packets, window.top if window else 0, b.local)
            row(conn_out, "IPsec", alg, outb.packets, 0, 0, b.local)
    for s in states:
        if s.state != "QM_IDLE" or s.status != "ACTIVE":
            continue  # only negotiated ISAKMP SAs hold an engine connection
        row(s.conn_id, "IKE", _ike_algorithm(s), 0, 0, 0, s.src if s.initiator else s.dst)
    out += [text for _, text in sorted(rows)]
    return "\n".join(out) + "\n\n"
