"""The served lab as a whole: ``iosim serve`` on the command line (its table, the wall
clock, SIGTERM as a power-off), SSH and the router's RSA key, enable and AAA on a vty,
exec-timeout, and the terminal keys and window size over SSH."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncssh
import pytest
from servekit import LOOPBACK, Telnet, free_ports, port

from iosim.serve.server import LabServer

ROOT = Path(__file__).resolve().parents[2]


def _admin(server_port: int) -> Telnet:
    t = Telnet(server_port)
    t.login()
    t.command("terminal length 0")
    return t


def _configure(t: Telnet, *lines: str) -> str:
    out = t.command("configure terminal")
    for line in lines:
        out += t.command(line, prompt=r"#$")
    return out + t.command("end")


def _clock_seconds(text: str) -> float:
    m = re.search(r"(\d+):(\d+):(\d+)\.(\d+)", text)
    assert m, text
    h, mi, s, ms = (int(g) for g in m.groups())
    return h * 3600 + mi * 60 + s + ms / 1000


class _Served:
    """``python3 -m iosim serve`` in a subprocess, its state under ``state``."""

    def __init__(self, state: Path, base: int) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_STATE_HOME=str(state))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "iosim", "serve", "site-to-site", "--telnet-base",
             str(base), "--ssh-base", str(base + 3)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.table: list[str] = []
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("Device"):
                break
        for _ in range(3):
            self.table.append(self.proc.stdout.readline().rstrip())

    def stop(self, sig: int) -> tuple[int, str]:
        self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise
        return self.proc.returncode, out + err


def test_serve_prints_the_ports_runs_on_the_wall_clock_and_stops_as_a_power_off(
        tmp_path: Path) -> None:
    base = free_ports(6)
    served = _Served(tmp_path, base)
    try:
        assert [row.split() for row in served.table] == [
            [device, f"127.0.0.1:{base + n}", f"127.0.0.1:{base + 3 + n}"]
            for n, device in enumerate(("R1", "ISP", "R2"))]
        t = _admin(base)
        first = _clock_seconds(t.command("show clock"))
        time.sleep(2.0)
        second = _clock_seconds(t.command("show clock"))
        assert 1.5 <= second - first <= 4.0  # the lab's clock follows the wall clock
        _configure(t, "hostname SAVED")
        assert "[OK]" in t.command("write memory")
        _configure(t, "hostname UNSAVED")
        t.close()
    finally:
        code, text = served.stop(signal.SIGTERM)
    assert code == 0 and "Traceback" not in text and "stopped" in text
    again = _Served(tmp_path, base)
    try:
        t = Telnet(base)
        assert t.login().endswith(b"SAVED#")  # the saved configuration, not the later one
        t.close()
    finally:
        code, text = again.stop(signal.SIGINT)
    assert code == 0 and "Traceback" not in text


async def _ssh(server: LabServer, **options: object) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        LOOPBACK, port(server, "R1", "ssh"), username="admin", password="admin",
        known_hosts=None, **options)  # type: ignore[arg-type]


def test_ssh_needs_the_routers_rsa_key_and_takes_its_new_one(server: LabServer) -> None:
    t = _admin(port(server, "R1", "telnet"))
    watcher = _admin(port(server, "R1", "telnet"))
    watcher.command("terminal monitor")
    t.command("configure terminal")
    t.line("crypto key zeroize rsa")
    t.expect(r"\[yes/no\]: $")
    t.command("yes", prompt=r"\(config\)#$")
    t.command("end")
    watcher.expect(r"%SSH-5-DISABLED: SSH 1\.99 has been disabled")

    async def refused() -> None:
        with pytest.raises((OSError, asyncssh.Error)):
            conn = await _ssh(server)
            conn.close()

    asyncio.run(refused())
    assert "SSH Disabled" in t.command("show ip ssh")
    _configure(t, "crypto key generate rsa modulus 1024")
    watcher.expect(r"%SSH-5-ENABLED: SSH 1\.99 has been enabled")
    shown = t.command("show ip ssh")
    key_line = re.search(r"ssh-rsa \S+", shown.replace("\n", ""))
    assert key_line, shown

    async def accepted() -> str:
        async with await _ssh(server) as conn:
            key = conn.get_server_host_key()
            assert key is not None
            return str(key.export_public_key("openssh").decode().split()[1])

    served_key = asyncio.run(accepted())
    assert served_key.startswith(key_line.group(0).split()[1][:60])
    t.close()
    watcher.close()


def test_enable_secret_a_lower_user_and_aaa_on_a_vty(server: LabServer) -> None:
    admin = _admin(port(server, "R1", "telnet"))
    _configure(admin, "enable secret s3cret", "username op privilege 1 secret op1")
    t = Telnet(port(server, "R1", "telnet"))
    assert t.login("op", "op1").endswith(b"R1>")
    t.line("enable")
    for _ in range(3):  # IOS asks three times, then gives up
        t.expect("Password: ")
        t.line("wrong")
    t.expect(r"% Bad secrets\r\n\r\nR1>$")
    t.line("enable")
    t.expect("Password: ")
    t.line("s3cret")
    t.expect(r"R1#$")
    assert "Current privilege level is 15" in t.command("show privilege")
    t.close()
    _configure(admin, "aaa new-model", "aaa authentication login default local")
    t = Telnet(port(server, "R1", "telnet"))
    t.expect("Username: ")
    t.line("op")
    t.expect("Password: ")
    t.line("nope")
    t.expect("% Authentication failed")
    t.expect("Username: ")
    t.line("op")
    t.expect("Password: ")
    t.line("op1")
    t.expect(r"R1>$")
    t.line("enable")
    t.expect("Password: ")
    t.line("wrong")
    t.expect(r"% Access denied\r\n\r\nR1>$")
    t.close()
    admin.close()


def test_exec_timeout_ends_an_idle_vty(server: LabServer) -> None:
    admin = _admin(port(server, "R1", "telnet"))
    _configure(admin, "line vty 0 4", "exec-timeout 0 2")
    idle = _admin(port(server, "R1", "telnet"))
    started = time.monotonic()
    assert idle.closed(timeout=8)
    assert 1.5 <= time.monotonic() - started <= 8


def test_ssh_window_keys_and_both_password_methods(server: LabServer) -> None:
    async def session(method: str) -> str:
        async with await _ssh(server, preferred_auth=method) as conn:
            proc = await conn.create_process(term_type="vt100", term_size=(80, 10))
            seen = ""

            async def until(pattern: str) -> str:
                nonlocal seen
                end = time.monotonic() + 15
                while not re.search(pattern, seen):
                    left = end - time.monotonic()
                    assert left > 0, (pattern, seen[-400:])
                    try:
                        seen += await asyncio.wait_for(proc.stdout.read(4096), left)
                    except TimeoutError:
                        continue
                found = seen
                seen = ""
                return found

            await until(r"R1#$")
            proc.stdin.write("show running-config\r")
            await until(r" --More-- $")  # nine lines, then the question (a 10-line window)
            proc.stdin.write("q")
            await until(r"R1#$")
            proc.stdin.write("configure terminal\r")
            await until(r"\(config\)#$")
            proc.stdin.write("interface Loopback9\x03")
            assert "^C" in await until(r"R1#$")  # Ctrl-C leaves configuration mode
            proc.stdin.write("ping 10.99.99.99 repeat 200\r")
            await until(r"Sending 200")
            started = time.monotonic()
            proc.stdin.write("\x1ex")  # Ctrl-Shift-6 x
            aborted = await until(r"R1#$")
            assert "Success rate is 0 percent" in aborted
            assert time.monotonic() - started < 3
            proc.stdin.write("terminal width 0\r")
            await until(r"R1#$")
            proc.stdin.write("show users\r")
            users = await until(r"R1#$")
            proc.stdin.write("quit\r")
            await asyncio.wait_for(proc.wait_closed(), 10)
            return users

    for method in ("password", "keyboard-interactive"):
        users = asyncio.run(session(method))
        assert re.search(r"\*\s+2 vty 0\s+admin\s+idle", users), users


def test_a_client_may_ask_for_the_userauth_service_before_each_attempt(
        server: LabServer) -> None:
    """paramiko (netmiko's SSH) asks for ``ssh-userauth`` again before every attempt: a
    refused key, then a wrong password, then the right one, all on one connection."""
    paramiko = pytest.importorskip("paramiko")
    transport = paramiko.Transport((LOOPBACK, port(server, "R1", "ssh")))
    try:
        transport.start_client(timeout=10)
        with pytest.raises(paramiko.AuthenticationException):
            transport.auth_publickey("admin", paramiko.ECDSAKey.generate())
        with pytest.raises(paramiko.AuthenticationException):
            transport.auth_password("admin", "wrong")
        transport.auth_password("admin", "admin")
        assert transport.is_authenticated()
        shell = transport.open_session(timeout=10)
        shell.get_pty()
        shell.invoke_shell()
        shell.settimeout(10)
        seen = b""
        while not seen.endswith(b"R1#"):
            seen += shell.recv(4096)
    finally:
        transport.close()
