"""What the tunnel tests share: configuration scripts for a tunnel between R1 and R2 of the
default lab (R1 Gi0/0 198.51.100.1, R2 Gi0/0 203.0.113.2, the ISP between them), plain GRE,
GRE over IPsec or a VTI, each LAN routed into the tunnel."""

from __future__ import annotations

from dataclasses import dataclass

from labkit import console, run

from iosim.lab.console import LabConsole

R1_WAN, R2_WAN = "198.51.100.1", "203.0.113.2"
R1_TUNNEL, R2_TUNNEL = "172.16.0.1", "172.16.0.2"
PING = "ping 10.0.2.10 source 192.168.1.1"


@dataclass(frozen=True)
class Side:
    """One router's end of the tunnel."""

    device: str
    tunnel_address: str
    peer_wan: str
    far_lan: str  # the network behind the other router
    far_tunnel: str


SIDES = (Side("R1", R1_TUNNEL, R2_WAN, "10.0.2.0", R2_TUNNEL),
         Side("R2", R2_TUNNEL, R1_WAN, "192.168.1.0", R1_TUNNEL))


def crypto_lines(side: Side, *, transforms: str = "esp-aes 256 esp-sha256-hmac",
                 mode: str = "transport", pfs: str | None = None) -> str:
    """Phase 1 with the peer and an IPsec profile PROF on a transform set TS."""
    pfs_line = f"set pfs {pfs}\n" if pfs else ""
    return f"""\
crypto isakmp policy 10
encryption aes 256
hash sha256
authentication pre-share
group 14
exit
crypto isakmp key TUNNELKEY address {side.peer_wan}
crypto ipsec transform-set TS {transforms}
mode {mode}
exit
crypto ipsec profile PROF
set transform-set TS
{pfs_line}exit
"""


def tunnel_script(side: Side, *, mode: str = "gre", protect: bool = False, extra_if: str = "",
                  crypto: str | None = None, route: bool = True) -> str:
    """Attach to ``side``'s router and configure its Tunnel0 (``mode`` gre or ipsec), with
    tunnel protection PROF when ``protect``; ``extra_if`` lines go under the interface."""
    lines = [f"@{side.device}", "enable", "conf t"]
    if protect:
        lines.append((crypto if crypto is not None else crypto_lines(side)).rstrip("\n"))
    lines += ["interface Tunnel0", f"ip address {side.tunnel_address} 255.255.255.252",
              "tunnel source GigabitEthernet0/0", f"tunnel destination {side.peer_wan}"]
    if mode == "ipsec":
        lines.append("tunnel mode ipsec ipv4")
    if protect:
        lines.append("tunnel protection ipsec profile PROF")
    if extra_if:
        lines.append(extra_if.rstrip("\n"))
    lines.append("exit")
    if route:
        lines.append(f"ip route {side.far_lan} 255.255.255.0 {side.far_tunnel}")
    lines.append("end")
    return "\n".join(lines) + "\n"


def tunnel_lab(tmp_path: object, *, mode: str = "gre", protect: bool = False,
               capture: bool = False, r1: str = "", r2: str = "",
               crypto: tuple[str | None, str | None] = (None, None)) -> LabConsole:
    """The default lab with Tunnel0 between R1 and R2, neighbours' ARP warm, the console on
    R1 (privileged)."""
    c = console(tmp_path)  # type: ignore[arg-type]
    if capture:
        c.lab.fabric.capture()
    for side, extra, lines in zip(SIDES, (r1, r2), crypto, strict=True):
        out = run(c, tunnel_script(side, mode=mode, protect=protect, extra_if=extra,
                                   crypto=lines))
        assert "% Invalid" not in out and "% Incomplete" not in out, out
    run(c, "@R2\nping 10.0.2.10 repeat 2\nping 203.0.113.1 repeat 2\n"
           "@R1\nping 198.51.100.2 repeat 2\nping 192.168.1.10 repeat 2\n")
    return c
