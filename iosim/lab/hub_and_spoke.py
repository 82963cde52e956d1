"""Writes a hub-and-spoke IPsec lab: one hub with a dynamic crypto map, N spokes that dial it.

    python -m iosim.lab.hub_and_spoke DIR [N] [--ikev2]

Every router sits on one shared segment, ``INTERNET`` (10.0.0.0/16; the hub is 10.0.0.1).
Spoke *n* (1..N) is ``S<n>`` with its LAN on Loopback0 (``spoke_lan(n)``, a /24 in
172.16.0.0/12), a static route to the hub's LAN and a crypto map protecting that traffic;
spokes run DPD (``crypto isakmp keepalive 10``), so a reloaded hub is noticed and the tunnel
rebuilt. The hub (``HUB``, LAN 192.168.100.0/24 on Loopback0) answers any spoke: a wildcard
key in a keyring, ``crypto dynamic-map`` with reverse route injection, bound into its crypto
map. The first ping from a spoke's LAN to the hub's LAN brings that spoke's tunnel up
(``.!!!!``); the hub then reaches the spoke through the injected route.

With ``--ikev2`` the tunnels use IKEv2: a proposal, a policy, a keyring and a profile on
every router (the hub's match any address with a wildcard key), the profile set in each crypto
map entry, and on-demand DPD on the spokes (``dpd 10 2 on-demand``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from iosim.atomic import write_atomic

HUB_ADDRESS = "10.0.0.1"
HUB_LAN = "192.168.100.0"
KEY = "HUBSPOKE123"

_IKEV2 = """crypto ikev2 proposal PROP
 encryption aes-cbc-256
 integrity sha256
 group 14
crypto ikev2 policy POL
 proposal PROP
crypto ikev2 keyring KR
 peer ANY
  address {peer} {mask}
  pre-shared-key {key}
crypto ikev2 profile PROF
 match identity remote address {peer} {mask}
 authentication remote pre-share
 authentication local pre-share
 keyring local KR
"""

_POLICY = """crypto isakmp policy 10
 encryption aes 256
 hash sha256
 authentication pre-share
 group 14
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
 mode tunnel
"""


def spoke_address(n: int) -> str:
    """The outside address of spoke ``n`` (1-based) on the shared segment."""
    host = n + 1
    return f"10.0.{host >> 8}.{host & 255}"


def spoke_lan(n: int) -> str:
    """The network of spoke ``n``'s LAN (a /24); its router is .1."""
    return f"172.{16 + (n >> 8)}.{n & 255}.0"


def _lan_host(network: str) -> str:
    return network.rsplit(".", 1)[0] + ".1"


#: What every built-in lab's router ships with: reachable by ``iosim serve`` as admin/admin.
AUTOMATION = ("! ready for automation (iosim serve): SSH and telnet with admin/admin\n"
              "username admin privilege 15 secret admin\n"
              "ip domain-name lab.local\n"
              "crypto key generate rsa modulus 2048\n"
              "line vty 0 4\n login local\n transport input all\n")


def _lifetime(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"crypto ipsec security-association lifetime seconds {seconds}\n"


def _ikev2(peer: str, mask: str, spoke: bool) -> str:
    """IKEv2 proposal, policy, keyring and profile; a spoke's profile runs DPD."""
    dpd = " dpd 10 2 on-demand\n" if spoke else ""
    return _IKEV2.format(peer=peer, mask=mask, key=KEY) + dpd


def hub_config(lifetime: int | None = None, ikev2: bool = False) -> str:
    """The hub's config; ``lifetime``: a global IPsec SA lifetime (IOS's default, one hour,
    when None); ``ikev2``: IKEv2 (a wildcard keyring and profile) instead of IKEv1."""
    keys = (_ikev2("0.0.0.0", "0.0.0.0", spoke=False) if ikev2 else
            f"crypto keyring SPOKES\n pre-shared-key address 0.0.0.0 0.0.0.0 key {KEY}\n")
    profile = " set ikev2-profile PROF\n" if ikev2 else ""
    return (f"hostname HUB\n{_POLICY}{_lifetime(lifetime)}{keys}"
            f"crypto dynamic-map SPOKES 10\n set transform-set TS\n{profile} reverse-route\n"
            "crypto map VPN 65535 ipsec-isakmp dynamic SPOKES\n"
            f"interface GigabitEthernet0/0\n ip address {HUB_ADDRESS} 255.255.0.0\n"
            " crypto map VPN\n no shutdown\n"
            f"interface Loopback0\n ip address {_lan_host(HUB_LAN)} 255.255.255.0\n"
            f"{AUTOMATION}")


def spoke_config(n: int, lifetime: int | None = None, ikev2: bool = False) -> str:
    """Spoke ``n``'s config (``lifetime`` and ``ikev2`` as for ``hub_config``)."""
    lan = spoke_lan(n)
    keys = (_ikev2(HUB_ADDRESS, "255.255.255.255", spoke=True) if ikev2 else
            f"crypto isakmp key {KEY} address {HUB_ADDRESS}\ncrypto isakmp keepalive 10\n")
    profile = " set ikev2-profile PROF\n" if ikev2 else ""
    return (f"hostname S{n}\n{_POLICY}{_lifetime(lifetime)}{keys}"
            "ip access-list extended TO_HUB\n"
            f" permit ip {lan} 0.0.0.255 {HUB_LAN} 0.0.0.255\n"
            "crypto map VPN 10 ipsec-isakmp\n"
            f" set peer {HUB_ADDRESS}\n set transform-set TS\n{profile} match address TO_HUB\n"
            f"interface GigabitEthernet0/0\n ip address {spoke_address(n)} 255.255.0.0\n"
            " crypto map VPN\n no shutdown\n"
            f"interface Loopback0\n ip address {_lan_host(lan)} 255.255.255.0\n"
            f"ip route {HUB_LAN} 255.255.255.0 {HUB_ADDRESS}\n{AUTOMATION}")


def write_lab(directory: Path, spokes: int, lifetime: int | None = None,
              ikev2: bool = False) -> Path:
    """Write ``lab.toml`` and one config per router into ``directory``; return the TOML.

    ``lifetime`` sets every router's global IPsec SA lifetime (seconds): bringing thousands
    of spokes up one after another takes longer on the lab's clock than IOS's default hour,
    after which the first tunnels would expire (as they do on IOS) before the last is up."""
    directory.mkdir(parents=True, exist_ok=True)
    names = ["HUB", *(f"S{n}" for n in range(1, spokes + 1))]
    toml = ["# Generated by iosim.lab.hub_and_spoke: a hub with a dynamic crypto map, "
            f"{spokes} spokes.", "", "[lab]",
            f'name = "{"hub-and-spoke" if spokes == 3 else f"hub-and-spoke-{spokes}"}"',
            f'title = "Hub and {spokes} spokes: a dynamic crypto map (configured demo)"',
            'kind = "demo"', "number = 90",
            f'description = "Hub (dynamic crypto map) and {spokes} spokes on one segment"', ""]
    for name in names:
        toml += [f"[devices.{name}]", 'kind = "router"',
                 'interfaces = ["GigabitEthernet0/0"]', f'config = "{name}.cfg"', ""]
        config = (hub_config(lifetime, ikev2) if name == "HUB"
                  else spoke_config(int(name[1:]), lifetime, ikev2))
        write_atomic(directory / f"{name}.cfg", config)
    endpoints = ", ".join(f'"{name} GigabitEthernet0/0"' for name in names)
    toml += ["[[segments]]", 'name = "INTERNET"', f"endpoints = [{endpoints}]", ""]
    path = directory / "lab.toml"
    write_atomic(path, "\n".join(toml))
    return path


def main(argv: list[str]) -> int:
    ikev2 = "--ikev2" in argv
    argv = [a for a in argv if a != "--ikev2"]
    if len(argv) not in (2, 3) or (len(argv) == 3 and not argv[2].isdigit()):
        print("usage: python -m iosim.lab.hub_and_spoke DIR [SPOKES] [--ikev2]",
              file=sys.stderr)
        return 2
    path = write_lab(Path(argv[1]), int(argv[2]) if len(argv) == 3 else 3, ikev2=ikev2)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
