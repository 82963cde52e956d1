"""Pure renderers of what IKE and IPsec are doing: ``show crypto isakmp sa``,
``show crypto ipsec sa`` (IOS 15.x layouts, tabs and spaces as the references show)."""

from __future__ import annotations

from iosim.config.crypto_model import transform_show_name
from iosim.ike.engine import IsakmpSaState
from iosim.ipsec.sad import FlowView, OneWaySa, SaBundle
from iosim.net.packets import format_ip

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
        left = int(s.lifetime_left)
        life = f"{left // 3600}:{left % 3600 // 60:02d}:{left % 60:02d}"
        out.append(f"{s.conn_id:<6}{format_ip(local):<16}{format_ip(remote):<16}{'':7}"
                   f"{s.status.split()[0]:<7}{s.encryption.split()[0]:<5}{s.hash:<7}"
                   f"{s.auth:<5}{s.group:<3}{life} {_capabilities(s):<4}\n"
                   f"       Engine-id:Conn-id =  SW:{s.conn_id - 1000}\n")
    out.append("IPv6 Crypto ISAKMP SA\n\n")
    return "\n".join(out)


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


def _one_way(b: SaBundle, sa: OneWaySa, now: float, protocol: str = "esp") -> list[str]:
    """One SA of a direction: its ESP SA, or (``protocol`` "ah") its AH SA."""
    if protocol == "ah":
        assert sa.ah is not None and b.pair.ah_integrity
        spi, words, iv = sa.ah.spi, [b.pair.ah_integrity], None
    else:
        assert sa.esp is not None
        words = [transform_show_name(b.pair.encryption)]
        if b.pair.integrity:
            words.append(b.pair.integrity)
        spi, iv = sa.esp.spi, sa.esp.encryption.iv_size
    kb_left = max(0, sa.lifetime_kilobytes - sa.octets // 1024)
    sec_left = max(0, int(sa.created + sa.lifetime_seconds - now))
    mode = "Tunnel" if b.pair.mode == "tunnel" else "Transport"
    if b.pair.udp_encap:
        mode += " UDP-Encaps"
    return [
        f"      spi: 0x{spi:X}({spi})",
        f"        transform: {' '.join(words)} ,",
        f"        in use settings ={{{mode}, }}",
        f"        conn id: {sa.conn_id}, flow_id: SW:{sa.conn_id}, sibling_flags 80000040, "
        f"crypto map: {b.map_name}",
        f"        sa timing: remaining key lifetime (k/sec): ({kb_left}/{sec_left})",
        *([f"        IV size: {iv} bytes"] if iv is not None else []),
        "        replay detection support: Y",
        "        Status: ACTIVE(ACTIVE)",
        "",
    ]


def _sas(bundles: tuple[SaBundle, ...], inbound: bool, now: float, protocol: str
         ) -> list[str]:
    out = []
    for b in bundles:
        sa = b.inbound if inbound else b.outbound
        if (sa.ah if protocol == "ah" else sa.esp) is not None:
            out += _one_way(b, sa, now, protocol)
    return out


def _proxy(net: int, mask: int, protocol: int = 0, port: int = 0) -> str:
    return f"({format_ip(net)}/{format_ip(mask)}/{protocol}/{port})"


def _flow_block(f: FlowView, now: float) -> list[str]:
    c = f.counters
    current = f.bundles[-1] if f.bundles else None
    integrity = current is not None and (
        current.pair.integrity is not None or current.outbound.ah is not None
        or (current.outbound.esp is not None and current.outbound.esp.icv_size > 0))
    digest = c.encaps if integrity else 0
    verify = c.decaps if integrity else 0
    if current is not None and current.pair.pfs_group:
        pfs = f"Y, DH group: group{current.pair.pfs_group}"
    else:
        pfs = "N, DH group: none"
    spi = current.outbound.spi if current is not None else 0
    mtu = current.plaintext_mtu if current is not None else ETHERNET_MTU
    p = f.proxies
    out = [
        "",
        "   protected vrf: (none)",
        f"   local  ident (addr/mask/prot/port): "
        f"{_proxy(p.local_net, p.local_mask, p.protocol, p.local_port)}",
        f"   remote ident (addr/mask/prot/port): "
        f"{_proxy(p.remote_net, p.remote_mask, p.protocol, p.remote_port)}",
        f"   current_peer {format_ip(f.peer)} port "
        f"{4500 if current is not None and current.pair.udp_encap else 500}",
        "     PERMIT, flags={origin_is_acl,}",
        f"    #pkts encaps: {c.encaps}, #pkts encrypt: {c.encaps}, #pkts digest: {digest}",
        f"    #pkts decaps: {c.decaps}, #pkts decrypt: {c.decaps}, #pkts verify: {verify}",
        "    #pkts compressed: 0, #pkts decompressed: 0",
        "    #pkts not compressed: 0, #pkts compr. failed: 0",
        "    #pkts not decompressed: 0, #pkts decompress failed: 0",
        f"    #send errors {c.send_errors}, #recv errors {c.recv_errors}",
        "",
        f"     local crypto endpt.: {format_ip(f.local)}, "
        f"remote crypto endpt.: {format_ip(f.peer)}",
        f"     plaintext mtu {mtu}, path mtu {ETHERNET_MTU}, ip mtu {ETHERNET_MTU}, "
        f"ip mtu idb {f.interface}",
        f"     current outbound spi: 0x{spi:X}({spi})",
        f"     PFS (Y/N): {pfs}",
        "",
        "     inbound esp sas:",
        *_sas(f.bundles, True, now, "esp"),
        "     inbound ah sas:",
        *(_sas(f.bundles, True, now, "ah") or [""]),
        "     inbound pcp sas:",
        "",
        "     outbound esp sas:",
        *_sas(f.bundles, False, now, "esp"),
        "     outbound ah sas:",
        *(_sas(f.bundles, False, now, "ah") or [""]),
        "     outbound pcp sas:",
    ]
    return out


def show_ipsec_sa(flows: list[FlowView], now: float, peer: int | None = None) -> str:
    """``show crypto ipsec sa [peer A]``: per interface with a crypto map, each flow."""
    out: list[str] = []
    current: tuple[str, str] | None = None
    for f in flows:
        if peer is not None and f.peer != peer:
            continue
        if (f.interface, f.map_name) != current:
            current = (f.interface, f.map_name)
            out += ["", f"interface: {f.interface}",
                    f"    Crypto map tag: {f.map_name}, local addr {format_ip(f.local)}"]
        out += _flow_block(f, now)
    return "\n".join(out) + "\n"


def _flow_text(f: FlowView) -> str:
    p = f.proxies
    protocol = str(p.protocol) if p.protocol else "ip"
    return (f"permit {protocol} {format_ip(p.local_net)}/{format_ip(p.local_mask)} "
            f"{format_ip(p.remote_net)}/{format_ip(p.remote_mask)} ")


def show_crypto_session(flows: list[FlowView], states: list[IsakmpSaState]) -> str:
    """``show crypto session``: per interface and peer, the IKE SA and the IPsec flows."""
    out = ["Crypto session current status", ""]
    seen: list[tuple[str, int]] = []
    for f in flows:
        if (f.interface, f.peer) not in seen:
            seen.append((f.interface, f.peer))
    for interface, peer in seen:
        mine = [f for f in flows if (f.interface, f.peer) == (interface, peer)]
        ike = [s for s in states if peer in (s.dst, s.src) and s.state == "QM_IDLE"
               and s.status == "ACTIVE"]
        active = sum(2 * len(f.bundles) for f in mine)
        status = "UP-ACTIVE" if ike and active else "UP-IDLE" if ike else (
            "UP-NO-IKE" if active else "DOWN")
        out += [f"Interface: {interface}", f"Session status: {status}",
                f"Peer: {format_ip(peer)} port 500 "]
        for s in ike:
            local = s.src if s.dst == peer else s.dst
            out.append(f"  IKEv1 SA: local {format_ip(local)}/500 remote "
                       f"{format_ip(peer)}/500 Active ")
        for f in mine:
            origin = "dynamic crypto map" if f.dynamic else "crypto map"
            out += [f"  IPSEC FLOW: {_flow_text(f)}",
                    f"        Active SAs: {2 * len(f.bundles)}, origin: {origin}"]
        out.append("")
    return "\n".join(out) + "\n"


_ESP_NAMES = {"esp-des": "DES", "esp-3des": "3DES", "esp-aes": "AES", "esp-gcm": "AES-GCM",
              "esp-gmac": "AES-GMAC", "esp-null": "NULL"}
_AUTH_NAMES = {"esp-md5-hmac": "MD5", "esp-sha-hmac": "SHA", "esp-sha256-hmac": "SHA256",
               "esp-sha384-hmac": "SHA384", "esp-sha512-hmac": "SHA512"}
_IKE_HASH = {"md5": "MD5", "sha": "SHA", "sha256": "SHA256", "sha384": "SHA384",
             "sha512": "SHA512"}


def _esp_algorithm(b: SaBundle) -> str:
    if not b.pair.encryption:  # AH alone: its HMAC
        ah = (b.pair.ah_integrity or "").replace("ah-", "esp-", 1)
        return _AUTH_NAMES.get(ah, ah)
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
    """``show crypto engine connections active`` (the 15.x table)."""
    out = ["Crypto Engine Connections", "",
           "   ID  Type    Algorithm           Encrypt  Decrypt LastSeqN IP-Address"]
    rows: list[tuple[int, str]] = []
    for b in bundles:
        alg = _esp_algorithm(b)
        inb, outb = b.inbound, b.outbound
        last = inb.replay.top if inb.replay is not None else 0
        rows.append((inb.conn_id, f"{inb.conn_id:>5}  {'IPsec':<8}{alg:<20}{0:>7}"
                                  f"{b.counters.decaps:>9}{last:>9} {format_ip(b.local)}"))
        rows.append((outb.conn_id, f"{outb.conn_id:>5}  {'IPsec':<8}{alg:<20}"
                                   f"{b.counters.encaps:>7}{0:>9}{0:>9} {format_ip(b.local)}"))
    for s in states:
        if s.state != "QM_IDLE" or s.status != "ACTIVE":
            continue  # only negotiated ISAKMP SAs hold an engine connection
        local = s.src if s.initiator else s.dst
        rows.append((s.conn_id, f"{s.conn_id:>5}  {'IKE':<8}{_ike_algorithm(s):<20}"
                                f"{0:>7}{0:>9}{0:>9} {format_ip(local)}"))
    out += [text for _, text in sorted(rows)]
    return "\n".join(out) + "\n\n"
