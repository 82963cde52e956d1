"""``iosim serve``: a telnet port and an SSH port for every router of a lab.

Theory of operation
-------------------
One asyncio event loop, on a thread of its own, owns every socket: it accepts telnet and
SSH connections, speaks telnet (:mod:`iosim.serve.telnet`) and SSH (asyncssh), and hands
each connection's bytes to its vty process (:mod:`iosim.serve.vty`). It never touches the
lab: what needs the lab (an SSH password check, the host key) runs on a worker thread that
takes the lab's baton. Ports are consecutive in topology order, as GNS3 numbers consoles:
the N-th router listens on ``telnet_base + N`` and ``ssh_base + N``.

The SSH host key is the router's own RSA key (``crypto key generate rsa``), read at each
connection: a router without one closes the connection at once, as IOS refuses SSH then.
Passwords are checked as the vty's ``login`` says (:mod:`iosim.serve.login`), by the
``password`` and ``keyboard-interactive`` methods IOS offers; after ``ip ssh
authentication-retries`` failures the connection ends. A client may ask for the
``ssh-userauth`` service again before each attempt, as paramiko (netmiko's SSH) does after a
refused key or a wrong password: IOS answers each request, so the server does too.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncssh
from asyncssh.constants import MSG_SERVICE_ACCEPT, MSG_SERVICE_REQUEST
from asyncssh.packet import String

from iosim.cli.terminal_lines import vty_config
from iosim.config.ssh_model import SSH_ALGORITHMS, ssh_of
from iosim.lab.running import Lab
from iosim.router import Router
from iosim.serve.login import FAILURE_DELAY, Verdict, authenticate
from iosim.serve.runtime import LabRuntime
from iosim.serve.telnet import GREETING, TelnetCodec, escape
from iosim.serve.vty import VtyProcess

__all__ = ["LabServer", "Ports", "port_table"]

#: What the SSH server calls itself (``SSH-2.0-Cisco-1.25``, as IOS 15 does).
SSH_VERSION = "Cisco-1.25"


@dataclass(frozen=True)
class Ports:
    """Where one router listens."""

    device: str
    telnet: int
    ssh: int


def port_table(ports: list[Ports], address: str) -> str:
    """The table ``iosim serve`` prints at start."""
    rows = [f"{'Device':<12}{'Telnet':<22}{'SSH':<22}"]
    rows += [f"{p.device:<12}{f'{address}:{p.telnet}':<22}{f'{address}:{p.ssh}':<22}"
             for p in ports]
    return "\n".join(r.rstrip() for r in rows) + "\n"


class _LoopLink:
    """What the telnet and SSH links share: thread-safe calls into the event loop, and
    the writability the vty waits for."""

    protocol = ""

    def __init__(self, loop: asyncio.AbstractEventLoop, peer: str) -> None:
        self.loop = loop
        self.peer = peer
        self.closed = False
        self._writable = threading.Event()
        self._writable.set()

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.closed:
            return
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is closed: the server stopped
            self.closed = True

    def wait_writable(self, timeout: float) -> bool:
        return self._writable.wait(timeout)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def _gone(self) -> None:
        self.closed = True
        self._writable.set()


class TelnetLink(_LoopLink, asyncio.Protocol):
    """A telnet connection to a router's vty."""

    protocol = "telnet"

    def __init__(self, server: LabServer, router: Router) -> None:
        _LoopLink.__init__(self, server.loop, "")
        self.server = server
        self.router = router
        self.codec = TelnetCodec()
        self.transport: asyncio.Transport | None = None
        self.vty: VtyProcess | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        transport.write(GREETING)
        self.vty = VtyProcess(self.server.runtime, self.router, self)
        self.server.track(self.vty)
        self.vty.start()

    def data_received(self, data: bytes) -> None:
        got = self.codec.receive(data)
        if got.replies and self.transport is not None:
            self.transport.write(got.replies)
        if self.vty is None:
            return
        if got.window is not None:
            self.vty.resize(*got.window)
        if got.data:
            self.vty.receive(got.data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._gone()
        if self.vty is not None:
            self.vty.lost()

    # -- Link, from the vty's thread

    def send(self, data: bytes) -> None:
        self._call(self._write, escape(data))

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def hangup(self) -> None:
        if self.transport is not None:
            self._call(self.transport.close)

    def pause_reading(self) -> None:
        if self.transport is not None:
            self._call(self.transport.pause_reading)

    def resume_reading(self) -> None:
        if self.transport is not None:
            self._call(self.transport.resume_reading)


class SshSession(_LoopLink, asyncssh.SSHServerSession):  # type: ignore[misc]
    """The shell (or exec) channel of an SSH connection to a router's vty."""

    protocol = "ssh"

    def __init__(self, server: LabServer, router: Router, login: SshLogin) -> None:
        _LoopLink.__init__(self, server.loop, login.peer)
        self.server = server
        self.router = router
        self.login = login
        self.chan: Any = None
        self.window: tuple[int, int] | None = None
        self.command: str | None = None
        self.vty: VtyProcess | None = None

    def connection_made(self, chan: Any) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes: object) -> bool:
        self.window = (term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.command = command.decode("utf-8", "surrogateescape") if isinstance(
            command, bytes) else command
        return True

    def session_started(self) -> None:
        conn = self.chan.get_connection()
        cipher = (str(conn.get_extra_info("send_cipher") or ""),
                  str(conn.get_extra_info("send_mac") or ""))
        self.vty = VtyProcess(self.server.runtime, self.router, self, user=self.login.user,
                              privilege=self.login.privilege, window=self.window,
                              command=self.command, ssh_cipher=cipher)
        self.server.track(self.vty)
        self.vty.start()

    def data_received(self, data: bytes, datatype: object) -> None:
        if self.vty is not None:
            self.vty.receive(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        self.window = (width, height)
        if self.vty is not None:
            self.vty.resize(width, height)

    def eof_received(self) -> bool:
        if self.vty is not None:
            self.vty.lost()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._gone()
        if self.vty is not None:
            self.vty.lost()

    # -- Link, from the vty's thread

    def send(self, data: bytes) -> None:
        self._call(self._write, data)

    def _write(self, data: bytes) -> None:
        if self.chan is not None and not self.chan.is_closing():
            self.chan.write(data)

    def hangup(self) -> None:
        self._call(self._close)

    def _close(self) -> None:
        if self.chan is not None and not self.chan.is_closing():
            self.chan.exit(0)  # the client closes the connection; else it is closed soon
            self.loop.call_later(2.0, self.chan.get_connection().close)

    def pause_reading(self) -> None:
        self._call(self._pause_reading)

    def _pause_reading(self) -> None:
        if self.chan is not None:
            self.chan.pause_reading()

    def resume_reading(self) -> None:
        self._call(self._resume_reading)

    def _resume_reading(self) -> None:
        if self.chan is not None:
            self.chan.resume_reading()


_USERAUTH = b"ssh-userauth"


def _answer_each_userauth_request(conn: Any) -> None:
    """Let ``conn`` accept the ``ssh-userauth`` service again while authentication is under
    way. asyncssh's server accepts it once; paramiko asks before every attempt (a key, then
    a password; a second password after a wrong one), and IOS and OpenSSH accept each. Any
    other service, or a request once authentication is over, still ends the connection."""
    handlers = dict(conn._packet_handlers)  # this connection's own table
    first_request = handlers[MSG_SERVICE_REQUEST]

    def service_request(conn: Any, pkttype: int, pktid: int, packet: Any) -> None:
        if not (conn._auth_in_progress and not conn._auth_complete):
            first_request(conn, pkttype, pktid, packet)
            return
        service = packet.get_string()
        packet.check_end()
        if service != _USERAUTH:
            raise asyncssh.ServiceNotAvailable("Unexpected service in service request")
        conn.send_packet(MSG_SERVICE_ACCEPT, String(service))

    handlers[MSG_SERVICE_REQUEST] = service_request
    conn._packet_handlers = handlers


class SshLogin(asyncssh.SSHServer):  # type: ignore[misc]
    """SSH authentication as a router's vty does it (see the module docstring)."""

    def __init__(self, server: LabServer, router: Router, peer: str) -> None:
        self.server = server
        self.router = router
        self.peer = peer
        self.user: str | None = None
        self.privilege: int | None = None
        self.failures = 0
        self.conn: Any = None

    def connection_made(self, conn: Any) -> None:
        self.conn = conn
        _answer_each_userauth_request(conn)

    async def begin_auth(self, username: str) -> bool:
        """Authentication is always asked for; ``banner login`` goes first, as the SSH
        authentication banner (RFC 4252 5.4), where IOS shows it to an SSH client."""
        banner = await asyncio.get_running_loop().run_in_executor(
            None, self.server.runtime.run, lambda: self.router.config.banner_login)
        if banner and self.conn is not None:
            self.conn.send_auth_banner(banner.replace("\r\n", "\n").replace("\n", "\r\n")
                                       + "\r\n")
        return True

    def password_auth_supported(self) -> bool:
        return True

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(self, username: str, lang: str,
                             submethods: str) -> tuple[str, str, str, list[tuple[str, bool]]]:
        return "", "", "", [("Password: ", False)]

    async def validate_password(self, username: str, password: str) -> bool:
        return await self._check(username, password)

    async def validate_kbdint_response(self, username: str,
                                       responses: Sequence[str]) -> bool:
        return await self._check(username, responses[0] if responses else "")

    async def _check(self, username: str, password: str) -> bool:
        runtime = self.server.runtime

        def judge() -> tuple[Verdict, int]:
            cfg = self.router.config
            vty = self.router.terminals.free_vty(cfg, "ssh")
            line = None if vty is None else vty_config(cfg, vty)
            retries = max(1, ssh_of(cfg).retries)
            if line is None:
                return Verdict(None), retries
            return authenticate(cfg, line, username, password), retries

        verdict, retries = await asyncio.get_running_loop().run_in_executor(
            None, runtime.run, judge)
        if verdict.ok:
            self.user, self.privilege = username, verdict.privilege
            return True
        await asyncio.sleep(FAILURE_DELAY)
        self.failures += 1
        if self.failures >= retries and self.conn is not None:
            self.conn.disconnect(asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE,
                                 "Too many authentication failures")
        return False

    def session_requested(self) -> SshSession:
        return SshSession(self.server, self.router, self)


@dataclass
class LabServer:
    """Every router of a running lab on telnet and SSH ports (see the module docstring).

    :meth:`start` opens the ports on a thread of its own and returns once they listen;
    :meth:`stop` closes them and ends every session.
    """

    lab: Lab
    telnet_base: int
    ssh_base: int
    address: str = "127.0.0.1"
    runtime: LabRuntime = field(init=False)
    loop: asyncio.AbstractEventLoop = field(init=False)
    ports: list[Ports] = field(default_factory=list)
    _vtys: list[VtyProcess] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _servers: list[asyncio.AbstractServer] = field(default_factory=list)
    _ssh_sockets: list[socket.socket] = field(default_factory=list)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.runtime = LabRuntime(self.lab)
        self.loop = asyncio.new_event_loop()
        self.ports = [Ports(name, self.telnet_base + i, self.ssh_base + i)
                      for i, name in enumerate(self.lab.routers)]

    def track(self, vty: VtyProcess) -> None:
        """Remember a vty (to end it at stop); forget the ones that ended."""
        self._vtys = [v for v in self._vtys if v.thread.is_alive()]
        self._vtys.append(vty)

    # ------------------------------------------------------------ start and stop

    def start(self) -> None:
        """Listen on every port (OSError if one is taken) and run the lab in real time."""
        self._thread = threading.Thread(target=self._run_loop, name="iosim-serve",
                                        daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), self.loop).result(timeout=30)
        self.runtime.start()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def _open(self) -> None:
        try:
            for p in self.ports:
                router = self.lab.routers[p.device]
                self._servers.append(await self.loop.create_server(
                    lambda r=router: TelnetLink(self, r),  # type: ignore[misc]
                    self.address, p.telnet, reuse_address=True))
                sock = socket.socket(socket.AF_INET6 if ":" in self.address
                                     else socket.AF_INET)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.address, p.ssh))
                sock.listen(64)
                sock.setblocking(False)
                self._ssh_sockets.append(sock)
                self._spawn(self._accept_ssh(sock, router))
        except OSError:
            await self._close()
            raise

    def _spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept_ssh(self, sock: socket.socket, router: Router) -> None:
        while True:
            client, addr = await self.loop.sock_accept(sock)
            self._spawn(self._ssh_client(client, str(addr[0]), router))

    async def _ssh_client(self, client: socket.socket, peer: str, router: Router) -> None:
        def host_key() -> str | None:
            key = ssh_of(router.config).host_key()
            return None if key is None else key.pem

        try:
            pem = await self.loop.run_in_executor(None, self.runtime.run, host_key)
            if pem is None:  # no RSA key: IOS refuses SSH
                client.close()
                return
            cfg_timeout = await self.loop.run_in_executor(
                None, self.runtime.run, lambda: ssh_of(router.config).timeout)
            await asyncssh.run_server(
                client, server_factory=lambda: SshLogin(self, router, peer),
                server_host_keys=[asyncssh.import_private_key(pem)],
                server_version=SSH_VERSION, encoding=None, line_editor=False,
                kex_algs=list(SSH_ALGORITHMS["kex"]),
                encryption_algs=list(SSH_ALGORITHMS["cipher"]),
                mac_algs=list(SSH_ALGORITHMS["mac"]),
                signature_algs=list(SSH_ALGORITHMS["host_key"]),
                compression_algs=["none"], login_timeout=float(cfg_timeout),
                agent_forwarding=False, x11_forwarding=False, allow_scp=False,
                keepalive_interval=0)
        except (TimeoutError, OSError, asyncssh.Error, ValueError):
            client.close()

    def stop(self) -> None:
        """Close every port and session; the ticker stops. Saved configs stay in NVRAM."""
        for vty in list(self._vtys):
            vty.lost()
        if self._thread is not None and self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._close(), self.loop).result(timeout=10)
            except (RuntimeError, TimeoutError):
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
        self.runtime.stop()
        for vty in list(self._vtys):
            vty.thread.join(timeout=5)

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.sleep(0)
        for sock in self._ssh_sockets:
            sock.close()
        self._servers.clear()
        self._ssh_sockets.clear()
