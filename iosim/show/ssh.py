"""Pure renderers of terminal lines and the SSH server: ``show users``, ``show ssh``,
``show ip ssh``, ``show crypto key mypubkey rsa``, ``show hosts``."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from iosim.config.ssh_model import SSH_ALGORITHMS, RsaKeyPair, ssh_of
from iosim.crypto.rsa_keygen import key_data_lines, openssh_public_line

if TYPE_CHECKING:
    from iosim.cli.session import Session
    from iosim.router import Router

__all__ = ["show_crypto_key_mypubkey", "show_hosts", "show_ip_ssh", "show_ssh", "show_users"]


def _hms(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _row(current: bool, number: int, name: str, user: str, idle: str, where: str) -> str:
    return (f"{'*' if current else ' '}{number:>3} {name:<9} {user:<10} {'idle':<20} "
            f"{idle:<10} {where}")


def show_users(router: Router, session: Session) -> str:
    """The lines in use: the console when this session is on it, then each vty with its
    user, idle time and the client's address; ``*`` marks this session's line."""
    rows = []
    if session.line_name == "con 0":
        rows.append(_row(True, 0, "con 0", "", "00:00:00", ""))
    now = router.clock.now
    for vty in sorted(router.terminals.vtys):
        t = router.terminals.vtys[vty]
        rows.append(_row(t.session is session, t.absolute, t.name, t.user,
                         _hms(now - t.last_input), t.peer))
    return ("    Line       User       Host(s)              Idle       Location\n"
            + "".join(r + "\n" for r in rows)
            + "\n  Interface    User               Mode         Idle     Peer Address\n\n")


def show_ssh(router: Router) -> str:
    """The SSH connections to the router, one row per direction."""
    ssh = ssh_of(router.config)
    rows = [t for _, t in sorted(router.terminals.vtys.items()) if t.protocol == "ssh"]
    out = []
    if rows:
        out.append("Connection Version Mode Encryption  Hmac         State"
                   "                 Username")
        for t in rows:
            for mode in ("IN", "OUT"):
                out.append(f"{t.absolute:<10} 2.0     {mode:<4} {t.cipher:<11} {t.mac:<12} "
                           f"Session started       {t.user}")
    else:
        out.append("%No SSHv2 server connections running.")
    if ssh.version != 2:
        out.append("%No SSHv1 server connections running.")
    return "".join(line + "\n" for line in out)


def show_ip_ssh(router: Router) -> str:
    """The SSH server's state and settings, and the host key in OpenSSH's form."""
    ssh = ssh_of(router.config)
    key = ssh.host_key()
    state = "Enabled" if key is not None else "Disabled"
    out = [f"SSH {state} - version {ssh.version_text}"]
    if key is None:
        out.append("%Please create RSA keys to enable SSH (and of atleast 768 bits for "
                   "SSH v2).")
    out += [
        "Authentication methods:keyboard-interactive,password",
        f"Hostkey Algorithms:{','.join(SSH_ALGORITHMS['host_key'])}",
        f"Encryption Algorithms:{','.join(SSH_ALGORITHMS['cipher'])}",
        f"MAC Algorithms:{','.join(SSH_ALGORITHMS['mac'])}",
        f"KEX Algorithms:{','.join(SSH_ALGORITHMS['kex'])}",
        f"Authentication timeout: {ssh.timeout} secs; Authentication retries: {ssh.retries}",
        "Minimum expected Diffie Hellman key size : 2048 bits",
    ]
    if key is None:
        out.append("IOS Keys in SECSH format(ssh-rsa, base64 encoded): NONE")
    else:
        out.append(f"IOS Keys in SECSH format(ssh-rsa, base64 encoded): {key.label}")
        out += textwrap.wrap(openssh_public_line(key.private_key), 76,
                             break_on_hyphens=False)
    return "".join(line + "\n" for line in out)


def _key_block(key: RsaKeyPair) -> list[str]:
    t = key.generated
    return [f"% Key pair was generated at: {t.strftime('%H:%M:%S')} UTC "
            f"{t.strftime('%b')} {t.day} {t.year}",
            f"Key name: {key.label}",
            "Key type: RSA KEYS",
            " Storage Device: not specified",
            " Usage: General Purpose Key",
            " Key is not exportable. Redundancy enabled.",
            " Key Data:",
            *(f"  {line}" for line in key_data_lines(key.private_key))]


def show_crypto_key_mypubkey(router: Router, label: str | None = None) -> str:
    """The router's RSA key pairs (or the one named ``label``) and their public keys."""
    keys = [k for k in ssh_of(router.config).keys.values() if label in (None, k.label)]
    return "".join(line + "\n" for key in keys for line in _key_block(key))


def show_hosts(router: Router) -> str:
    """The default domain, how names are looked up, and the (empty) host table."""
    cfg = router.config
    domain = cfg.domain_name
    out = [f"Default domain is {domain}" if domain else "Default domain is not set"]
    if cfg.domain_lookup:
        out += ["Name/address lookup uses domain service", "Name servers are 255.255.255.255"]
    else:
        out.append("Name/address lookup uses static mappings")
    out += ["", "Codes: UN - unknown, EX - expired, OK - OK, ?? - revalidate",
            "       temp - temporary, perm - permanent",
            "       NA - Not Applicable None - Not defined", "",
            "Host                      Port  Flags      Age Type   Address(es)"]
    return "".join(line + "\n" for line in out)
