"""The automation tools against a served lab on loopback: netmiko (SSH and telnet), scrapli's
IOS-XE driver (system and asyncssh transports), NAPALM's ios driver, Ansible's cisco.ios
patterns, and what a person sees through OpenSSH's client."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import select
import shutil
import time
from pathlib import Path

import pytest
from servekit import ISP_ROUTES, LOOPBACK, SEED_R1, SEED_R2, Telnet, port

from iosim.ipsec.router_crypto import RouterCrypto
from iosim.serve.server import LabServer

netmiko = pytest.importorskip("netmiko")


def _netmiko(server: LabServer, device: str, kind: str) -> object:
    protocol = "telnet" if kind.endswith("telnet") else "ssh"
    return netmiko.ConnectHandler(device_type=kind, host=LOOPBACK,
                                  port=port(server, device, protocol), username="admin",
                                  password="admin", secret="admin")


def test_netmiko_ssh_and_telnet_configure_the_seed_vpn_and_textfsm_reads_live_counters(
        server: LabServer) -> None:
    r1 = _netmiko(server, "R1", "cisco_ios")
    r2 = _netmiko(server, "R2", "cisco_ios_telnet")
    isp = _netmiko(server, "ISP", "cisco_ios")
    for conn, lines in ((r1, SEED_R1), (r2, SEED_R2), (isp, ISP_ROUTES)):
        conn.enable()  # type: ignore[attr-defined]
        out = conn.send_config_set(lines)  # type: ignore[attr-defined]
        assert "% Invalid" not in out and "% Incomplete" not in out, out
        assert "[OK]" in conn.save_config()  # type: ignore[attr-defined]
    ping = r1.send_command("ping 10.0.2.1 source 192.168.1.1",  # type: ignore[attr-defined]
                           read_timeout=60)
    assert "Success rate is" in ping and "!!!" in ping, ping
    isakmp = r1.send_command("show crypto isakmp sa")  # type: ignore[attr-defined]
    assert re.search(r"203\.0\.113\.2\s+198\.51\.100\.1\s+QM_IDLE", isakmp), isakmp
    rows = r1.send_command("show crypto ipsec sa detail",  # type: ignore[attr-defined]
                           use_textfsm=True)
    assert isinstance(rows, list) and rows, rows
    plane = server.lab.routers["R1"].crypto_plane
    assert isinstance(plane, RouterCrypto)
    live = server.runtime.run(lambda: [b.counters for b in plane.sad.bundles])
    encaps = {int(r["pkts_encaps"]) for r in rows if r.get("pkts_encaps")}
    decaps = {int(r["pkts_decaps"]) for r in rows if r.get("pkts_decaps")}
    assert max(encaps) == max(c.encaps for c in live) > 0
    assert max(decaps) == max(c.decaps for c in live) > 0
    for conn in (r1, r2, isp):
        conn.disconnect()  # type: ignore[attr-defined]
    saved = server.lab.routers["R2"].nvram.read() or ""
    assert "crypto map MYMAP 10 ipsec-isakmp" in saved


def test_scrapli_iosxe_over_system_ssh_and_asyncssh(server: LabServer) -> None:
    core = pytest.importorskip("scrapli.driver.core")
    if shutil.which("ssh") is None:
        pytest.skip("no OpenSSH client")
    ssh = port(server, "R1", "ssh")
    with core.IOSXEDriver(host=LOOPBACK, port=ssh, auth_username="admin",
                          auth_password="admin", auth_secondary="admin",
                          auth_strict_key=False, transport="system") as conn:
        result = conn.send_configs(["interface Loopback7", "description by scrapli"])
        assert not result.failed
        brief = conn.send_command("show interfaces description").result
        assert re.search(r"Lo7\s+up\s+up\s+by scrapli", brief), brief

    async def run() -> str:
        async with core.AsyncIOSXEDriver(host=LOOPBACK, port=ssh, auth_username="admin",
                                         auth_password="admin", auth_secondary="admin",
                                         auth_strict_key=False, transport="asyncssh") as c:
            await c.send_configs(["interface Loopback8", "ip address 10.8.8.8 255.255.255.255"])
            return (await c.send_command("show ip interface brief | include Loopback8")).result

    assert re.search(r"Loopback8\s+10\.8\.8\.8\s+YES manual up\s+up", asyncio.run(run()))


def test_napalm_ios_reads_the_lab(server: LabServer) -> None:
    napalm = pytest.importorskip("napalm")
    device = napalm.get_network_driver("ios")(
        hostname=LOOPBACK, username="admin", password="admin",
        optional_args={"port": port(server, "R1", "ssh"), "secret": "admin"})
    device.open()
    try:
        facts = device.get_facts()
        assert facts["hostname"] == "R1" and facts["fqdn"] == "R1.lab.local"
        assert facts["model"] == "IOSv" and facts["vendor"] == "Cisco"
        assert facts["interface_list"][:2] == ["GigabitEthernet0/0", "GigabitEthernet0/1"]
        interfaces = device.get_interfaces()
        assert interfaces["GigabitEthernet0/0"]["is_up"] is True
        assert interfaces["GigabitEthernet0/2"]["is_enabled"] is False
        assert interfaces["GigabitEthernet0/0"]["description"] == "Link to ISP"
        assert device.get_interfaces_ip()["GigabitEthernet0/0"] == {
            "ipv4": {"198.51.100.1": {"prefix_length": 30}}}
        config = device.get_config()
        assert "hostname R1" in config["running"]
        assert "username admin privilege 15 secret 5" in config["running"]
        arp = {row["ip"]: row for row in device.get_arp_table()}
        router = server.lab.routers["R1"]
        own = router.config.interfaces["GigabitEthernet0/0"]
        assert arp[str(own.address)]["interface"] == "GigabitEthernet0/0"
        assert "198.51.100.2" in arp  # the ISP, learnt when the lab booted
    finally:
        device.close()


#: The regular expressions Ansible's cisco.ios collection reads IOS with (facts from
#: ``show version``, the prompt and error patterns of its terminal plugin, the privilege
#: check after become), written out here from its documented behaviour.
ANSIBLE_VERSION = re.compile(r"Version (\S+),")
ANSIBLE_HOSTNAME = re.compile(r"^(.+) uptime", re.M)
ANSIBLE_IMAGE = re.compile(r'image file is "(.+)"')
ANSIBLE_SERIAL = re.compile(r"board ID (\S+)")
ANSIBLE_MODEL = re.compile(r"^[Cc]isco (\S+).+bytes of .*memory", re.M)
ANSIBLE_PROMPT = re.compile(rb"[\r\n]?[\w\+\-\.:\/\[\]]+(?:\([^\)]+\)){0,3}(?:[>#]) ?$")
ANSIBLE_ERROR = re.compile(rb"% ?Error|% ?Bad secret|invalid input|(?:incomplete|ambiguous) "
                           rb"command", re.I)
ANSIBLE_PRIVILEGE = re.compile(r"Current privilege level is (\d+)")


def test_ansible_cisco_ios_patterns_hold(server: LabServer) -> None:
    t = Telnet(port(server, "R1", "telnet"))
    assert ANSIBLE_PROMPT.search(t.login())
    t.command("terminal length 0")
    version = t.command("show version")
    assert ANSIBLE_VERSION.search(version).group(1) == "15.8(3)M2"  # type: ignore[union-attr]
    assert ANSIBLE_HOSTNAME.search(version).group(1) == "R1"  # type: ignore[union-attr]
    assert ANSIBLE_IMAGE.search(version).group(1) == "flash0:/vios-adventerprisek9-m"  # type: ignore[union-attr]
    assert ANSIBLE_SERIAL.search(version)
    assert ANSIBLE_MODEL.search(version).group(1) == "IOSv"  # type: ignore[union-attr]
    assert ANSIBLE_PRIVILEGE.search(t.command("show privilege")).group(1) == "15"  # type: ignore[union-attr]
    section = t.command("show running-config | section ^interface")
    assert section.startswith("interface GigabitEthernet0/0\n description Link to ISP\n")
    assert "hostname" not in section
    t.line("show ip bogus")
    assert ANSIBLE_ERROR.search(t.expect(r"#$"))
    t.close()


def _pty_run(argv: list[str], steps: list[tuple[str, str]], timeout: float = 20) -> str:
    """Run ``argv`` on a pty, answering each (regex, text) step as a person types."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvp(argv[0], argv)
    seen = b""
    try:
        for pattern, answer in steps:
            end = time.monotonic() + timeout
            while not re.search(pattern.encode(), seen):
                if time.monotonic() > end:
                    raise TimeoutError(f"{pattern!r} not in {seen[-400:]!r}")
                ready, _, _ = select.select([fd], [], [], 0.2)
                if ready:
                    try:
                        seen += os.read(fd, 65536)
                    except OSError:
                        break
            os.write(fd, answer.encode())
        end = time.monotonic() + 5
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
    finally:
        os.close(fd)
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    return seen.decode("utf-8", "replace")


def test_openssh_and_telnet_clients_log_in_as_a_person_would(server: LabServer,
                                                              tmp_path: Path) -> None:
    if shutil.which("ssh") is None:
        pytest.skip("no OpenSSH client")
    known = tmp_path / "known_hosts"
    text = _pty_run(["ssh", "-p", str(port(server, "R1", "ssh")), "-o",
                     "StrictHostKeyChecking=accept-new", "-o", f"UserKnownHostsFile={known}",
                     "-o", "PubkeyAuthentication=no", f"admin@{LOOPBACK}"],
                    [(r"[Pp]assword: ?$", "admin\r"), (r"R1#$", "show users\r"),
                     (r"Peer Address\r\n\r\nR1#$", "exit\r")])
    assert re.search(r"\*  2 vty 0     admin      idle +00:00:0\d +127\.0\.0\.1", text)
    assert re.search(r"R1#exit\r\n.*[Cc]onnection to 127\.0\.0\.1 closed", text, re.S)
    assert known.read_text().count("ssh-rsa") == 1  # the router's RSA key
    if shutil.which("telnet") is None:
        pytest.skip("no telnet client")
    text = _pty_run(["telnet", LOOPBACK, str(port(server, "R2", "telnet"))],
                    [("Username: $", "admin\r"), ("Password: $", "admin\r"),
                     ("R2#$", "show privilege\r"), ("R2#$", "exit\r")])
    assert "User Access Verification" in text
    assert "Current privilege level is 15" in text
    assert "Connection closed by foreign host" in text
