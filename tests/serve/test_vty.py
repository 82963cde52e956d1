"""Vtys of a served lab through a raw telnet client: login as IOS does it, sessions that share
the router, and bad input from the network that disturbs neither the lab nor other sessions."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time

import asyncssh
from servekit import LOOPBACK, Telnet, port

from iosim.serve.server import LabServer
from iosim.serve.vty import INBOX_HIGH


def _r1(server: LabServer) -> Telnet:
    t = Telnet(port(server, "R1", "telnet"))
    t.login()
    t.command("terminal length 0")
    return t


def test_wrong_credentials_are_refused_after_a_delay_and_three_failures_close(
        server: LabServer) -> None:
    t = Telnet(port(server, "R1", "telnet"))
    for _ in range(3):
        t.expect("Username: ")
        t.line("admin")
        t.expect("Password: ")
        started = time.monotonic()
        t.line("wrong")
        t.expect("% Login invalid")
        assert time.monotonic() - started >= 0.9
    assert t.closed()
    assert b"wrong" not in t.seen  # a password is not echoed


def test_line_password_login_and_transport_input_as_configured(server: LabServer) -> None:
    admin = _r1(server)
    admin.command("configure terminal")
    for line in ("line vty 0 4", "no login", "login", "password cisco", "end"):
        admin.command(line, prompt=r"#$")
    t = Telnet(port(server, "R1", "telnet"))
    t.expect("Password: ")
    t.line("cisco")
    t.expect(r"R1>$")
    assert "% No password set" in t.command("enable")  # no enable secret on this router
    t.close()
    admin.command("configure terminal")
    for line in ("line vty 0 4", "transport input ssh", "end"):
        admin.command(line, prompt=r"#$")
    refused = Telnet(port(server, "R1", "telnet"))
    assert refused.closed()  # vty 0 is in use and the others take SSH only


def test_sessions_share_the_router_and_show_users_and_clear_line(server: LabServer) -> None:
    a, b = _r1(server), _r1(server)
    a.command("configure terminal")
    a.command("interface Loopback5", prompt=r"#$")
    a.command("description shared", prompt=r"#$")
    a.command("end")
    assert "Lo5" in b.command("show interfaces description")
    users = b.command("show users")
    assert "   2 vty 0     admin" in users and "*  3 vty 1     admin" in users
    assert "127.0.0.1" in users
    b.command("terminal monitor")
    a.command("configure terminal")
    a.command("end")
    b.expect("%SYS-5-CONFIG_I: Configured from console by admin on vty0 \\(127.0.0.1\\)")
    assert "% Not allowed to clear current line" in b.command("clear line vty 1")
    b.line("clear line vty 0")
    b.expect(r"\[confirm\]")
    b.line("")
    b.expect(r"\[OK\]")
    assert a.closed()
    assert "vty 0" not in b.command("show users")


def test_paging_and_terminal_length(server: LabServer) -> None:
    t = Telnet(port(server, "R1", "telnet"))
    t.login()
    t.line("show running-config")
    t.expect(" --More-- ")
    t.send(" ")
    t.expect(" --More-- ")
    t.send("q")
    t.expect(r"R1#$")
    t.line("show running-config")
    t.expect(" --More-- ")
    t.send("\x1b[A")  # an arrow key ends --More-- and leaves nothing on the next line
    t.expect(r"R1#$")
    assert "Current privilege level is 15" in t.command("show privilege")
    t.command("terminal length 0")
    t.line("show running-config")
    t.expect(r"\nend\r\nR1#$")
    assert b"--More--" not in t.read_for(0.3)


def test_garbage_option_floods_and_long_lines_leave_the_lab_and_other_sessions_alone(
        server: LabServer) -> None:
    watcher = _r1(server)
    rng = bytes(os.urandom(200_000))
    flood = Telnet(port(server, "R1", "telnet"))
    flood.send(rng)
    flood.send(b"\xff\xfd\x63" * 20_000 + b"\xff\xfa" + b"x" * 100_000)  # DO 99s, a long SB
    flood.send(b"a" * 300_000 + b"\r\n")
    assert "GigabitEthernet0/0" in watcher.command("show ip interface brief")
    vty = next(v for v in server._vtys if v.link.protocol == "telnet" and v is not None)
    # reading pauses past INBOX_HIGH: what is held beyond it is at most the one read that
    # crossed it, which the event loop makes up to 256 KiB long when the sender is ahead
    assert all(len(v._inbox) <= INBOX_HIGH + 256 * 1024 for v in server._vtys)
    assert all(len(v.editor.buf) <= 4096 for v in server._vtys)
    assert vty is not None
    replies = flood.read_for(1.0)
    assert replies.count(b"\xff\xfc\x63") <= 1  # DO 99 refused once, never again
    flood.close()
    assert "R1" in watcher.command("show running-config | include hostname")


def test_a_client_gone_mid_command_and_fifty_sessions_at_once(server: LabServer) -> None:
    gone = _r1(server)
    gone.line("ping 10.99.99.99 repeat 50")  # no route: a long wait
    time.sleep(0.5)
    gone.sock.close()
    clients: list[socket.socket] = []
    lock = threading.Lock()

    def connect() -> None:
        try:
            s = socket.create_connection((LOOPBACK, port(server, "ISP", "telnet")), timeout=5)
            with lock:
                clients.append(s)
        except OSError:
            pass

    threads = [threading.Thread(target=connect) for _ in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    watcher = _r1(server)
    started = time.monotonic()
    assert "Success rate is 100 percent" in watcher.command("ping 198.51.100.2")
    assert time.monotonic() - started < 5
    live = server.runtime.run(lambda: len(server.lab.routers["ISP"].terminals.vtys))
    assert live == 5  # vty 0 4: the other 45 connections were refused, as IOS does
    for s in clients:
        s.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.runtime.run(
            lambda: len(server.lab.routers["R1"].terminals.vtys)) > 1:
        time.sleep(0.1)
    assert server.runtime.run(lambda: len(server.lab.routers["R1"].terminals.vtys)) == 1


def test_a_client_that_never_reads_stops_only_its_own_vty(server: LabServer) -> None:
    stuck = _r1(server)
    stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.send(b"show running-config\r\n" * 10000)
    watcher = _r1(server)
    time.sleep(1.0)
    started = time.monotonic()
    assert "R1" in watcher.command("show running-config | include hostname")
    assert time.monotonic() - started < 3
    stuck_vty = next(v for v in server._vtys if v.thread.is_alive() and v._inbox)
    assert stuck_vty._paused  # its input waits, its link stopped reading
    stuck.close()


def test_banners_where_ios_prints_them_on_telnet_and_ssh(server: LabServer) -> None:
    admin = _r1(server)
    admin.command("configure terminal")
    for kind, text in (("motd", "MOTD-TEXT"), ("login", "LOGIN-TEXT"), ("exec", "EXEC-TEXT")):
        admin.command(f"banner {kind} #{text}#", prompt=r"\(config\)#$")
    admin.command("end")
    t = Telnet(port(server, "R1", "telnet"))
    before = t.expect("Username: ").decode("latin-1")
    assert before.index("MOTD-TEXT") < before.index("LOGIN-TEXT") < before.index(
        "User Access Verification")
    assert "EXEC-TEXT" not in before
    t.line("admin")
    t.expect("Password: ")
    t.line("admin")
    after = t.expect(r"[>#]$").decode("latin-1")
    assert "EXEC-TEXT" in after and after.rstrip().endswith("R1#")
    t.close()

    async def ssh() -> tuple[list[str], str]:
        banners: list[str] = []

        class Client(asyncssh.SSHClient):  # type: ignore[misc]
            def auth_banner_received(self, msg: str, lang: str) -> None:
                banners.append(msg)

        async with asyncssh.connect(LOOPBACK, port(server, "R1", "ssh"), username="admin",
                                    password="admin", known_hosts=None,
                                    client_factory=Client) as conn:
            out = await conn.run("show clock", term_type=None)
        return banners, str(out.stdout)

    banners, exec_output = asyncio.run(ssh())
    assert banners == ["LOGIN-TEXT\r\n"]
    assert "EXEC-TEXT" not in exec_output  # an exec request gets no exec banner
