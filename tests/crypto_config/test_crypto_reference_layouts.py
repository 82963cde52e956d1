"""Show output and running-config compared with the IOS captures in the reference files.

Each expected text is the capture's layout (tabs as the raw-tab captures keep them) for
the same objects, configured here through the CLI.
"""

from __future__ import annotations

from iosim.cli.session import Session
from iosim.router import Router
from iosim.show import crypto_config as show


def typed(session: Session, text: str) -> None:
    """Type each line of ``text``; every line must be accepted."""
    for line in text.strip().splitlines():
        out = session.execute(line)
        assert session.last_error is None, (line, out)


def test_isakmp_policy_raw_tabs(session: Session, router: Router) -> None:
    # show-crypto-isakmp-policy.txt [1] (IOL, raw TABs kept)
    typed(session, """
crypto isakmp policy 1
encryption 3des
hash md5
authentication pre-share
group 2
""")
    assert show.show_isakmp_policy(router.config) == (
        "\nGlobal IKE policy\nProtection suite of priority 1\n"
        "\tencryption algorithm:\tThree key triple DES\n"
        "\thash algorithm:\t\tMessage Digest 5\n"
        "\tauthentication method:\tPre-Shared Key\n"
        "\tDiffie-Hellman group:\t#2 (1024 bit)\n"
        "\tlifetime:\t\t86400 seconds, no volume limit\n")


def test_isakmp_policy_expanded_matches_capture(session: Session, router: Router) -> None:
    # show-crypto-isakmp-policy.txt [3] RX1, as a terminal shows it (8-column tabs)
    typed(session, """
crypto isakmp policy 20
encryption aes 256
authentication pre-share
group 5
lifetime 1800
""")
    expected = """
Global IKE policy
Protection suite of priority 20
        encryption algorithm:   AES - Advanced Encryption Standard (256 bit keys).
        hash algorithm:         Secure Hash Standard
        authentication method:  Pre-Shared Key
        Diffie-Hellman group:   #5 (1536 bit)
        lifetime:               1800 seconds, no volume limit
"""
    assert show.show_isakmp_policy(router.config).expandtabs(8) == expected


def test_isakmp_key_wildcard(session: Session, router: Router) -> None:
    # show-crypto-isakmp-policy.txt [2] and [6]
    typed(session, "crypto isakmp key cisco address 10.10.10.2\n"
                   "crypto isakmp key Cisco!23 address 0.0.0.0")
    assert show.show_isakmp_key(router.config) == (
        "Keyring      Hostname/Address                            Preshared Key\n\n"
        "default      10.10.10.2                                  cisco\n"
        "default      0.0.0.0        [0.0.0.0        ]            Cisco!23\n")


def test_transform_set_show(session: Session, router: Router) -> None:
    # show-crypto-ipsec-transform-set.txt [1] and [5]
    typed(session, "crypto ipsec transform-set MySet esp-aes 256 esp-sha512-hmac")
    assert show.show_transform_set(router.config) == (
        "Transform set default: { esp-aes esp-sha-hmac  } \n"
        "   will negotiate = { Transport,  }, \n"
        "   \n"
        "Transform set MySet: { esp-256-aes esp-sha512-hmac  } \n"
        "   will negotiate = { Tunnel,  }, \n\n")


def test_sa_lifetime_show(session: Session, router: Router) -> None:
    # show-crypto-ipsec-transform-set.txt [2]
    typed(session, "crypto ipsec security-association lifetime kilobytes 2560\n"
                   "crypto ipsec security-association lifetime seconds 300")
    assert show.show_sa_lifetime(router.config) == (
        "Security association lifetime: 2560 kilobytes/300 seconds\n\n")


def test_crypto_map_show(session: Session, router: Router) -> None:
    # show-crypto-map.txt [1] (15.x), SA not up yet so no "Current peer" line; with the
    # "Mixed-mode : Disabled" line IOS 15 prints after PFS (ios-public/show_crypto_map, IOL 15)
    typed(session, """
crypto ipsec transform-set TSET esp-aes esp-sha-hmac
exit
access-list 100 permit ip 10.0.0.0 0.255.255.255 10.70.140.0 0.0.0.255
crypto map CMAP 1 ipsec-isakmp
set peer 56.2.11.33
set transform-set TSET
match address 100
exit
interface GigabitEthernet0/0
crypto map CMAP
""")
    assert show.show_crypto_map(router.config) == (
        'Crypto Map IPv4 "CMAP" 1 ipsec-isakmp\n'
        "\tPeer = 56.2.11.33\n"
        "\tExtended IP access list 100\n"
        "\t    access-list 100 permit ip 10.0.0.0 0.255.255.255 10.70.140.0 0.0.0.255\n"
        "\tSecurity association lifetime: 4608000 kilobytes/3600 seconds\n"
        "\tResponder-Only (Y/N): N\n"
        "\tPFS (Y/N): N\n"
        "\tMixed-mode : Disabled\n"
        "\tTransform sets={\n"
        "\t\tTSET:  { esp-aes esp-sha-hmac  } ,\n"
        "\t}\n"
        "\tInterfaces using crypto map CMAP:\n"
        "\t\tGigabitEthernet0/0\n\n")


def test_incomplete_map_warning(session: Session, router: Router) -> None:
    # show-crypto-map.txt [5](a): peer and ACL 101 named, ACL 101 not defined
    typed(session, "crypto map VPN_To_Switch2 1 ipsec-isakmp\nset peer 172.20.249.12\n"
                   "match address 101")
    text = show.show_crypto_map(router.config)
    assert text.splitlines()[:5] == [
        'Crypto Map IPv4 "VPN_To_Switch2" 1 ipsec-isakmp',
        "\tWARNING: This crypto map is in an incomplete state!",
        "\t\t(missing peer or access-list definitions)",
        "\tPeer = 172.20.249.12",
        "\tExtended IP access list 101",
    ]
    assert "\t\tdefault:  { esp-aes esp-sha-hmac  } ," in text.splitlines()


def test_running_config_reference_block(session: Session, router: Router) -> None:
    # running-config-crypto.txt [1]: padding, trailing spaces, "!" lines, mode tunnel
    typed(session, """
crypto isakmp policy 10
encryption aes 192
hash sha384
authentication pre-share
group 14
exit
crypto isakmp key cisco123 address 203.0.113.200
crypto ipsec transform-set TSET esp-aes 256 esp-sha512-hmac
exit
crypto map CMAP 10 ipsec-isakmp
set peer 203.0.113.200
set transform-set TSET
match address 100
""")
    assert show.running_config_section(router.config) == [
        "crypto isakmp policy 10",
        " encr aes 192",
        " hash sha384",
        " authentication pre-share",
        " group 14",
        "crypto isakmp key cisco123 address 203.0.113.200  ",
        "!",
        "!",
        "crypto ipsec transform-set TSET esp-aes 256 esp-sha512-hmac ",
        " mode tunnel",
        "!",
        "!",
        "!",
        "crypto map CMAP 10 ipsec-isakmp ",
        " set peer 203.0.113.200",
        " set transform-set TSET ",
        " match address 100",
    ]


def test_defaults_hidden(session: Session, router: Router) -> None:
    # running-config-crypto.txt [3]: lifetime 86400 and des/sha/rsa-sig/group 1 not printed
    typed(session, "crypto isakmp policy 10\nencryption des\nhash sha\nauthentication rsa-sig\n"
                   "group 1\nlifetime 86400")
    assert show.running_config_section(router.config) == ["crypto isakmp policy 10"]


def test_new_map_note_and_reentry(session: Session) -> None:
    # running-config-crypto.txt [5]
    assert session.execute("crypto map outside_map 10 ipsec-isakmp") == (
        "% NOTE: This new crypto map will remain disabled until a peer\n"
        "\tand a valid access list have been configured.\n")
    session.execute("exit")
    assert session.execute("crypto map outside_map 10 ipsec-isakmp") == ""
    session.execute("exit")
    assert session.execute("crypto map outside_map 10") == ""
    assert session.prompt == "R1(config-crypto-map)#"


def test_isakmp_on_logged_once(session: Session, router: Router) -> None:
    lines: list[str] = []
    router.log_sinks.append(lines.append)
    typed(session, "interface GigabitEthernet0/0\ncrypto map A\nexit\n"
                   "interface GigabitEthernet0/1\ncrypto map A")
    assert [ln.split(": ", 1)[1] for ln in lines] == ["%CRYPTO-6-ISAKMP_ON_OFF: ISAKMP is ON"]
