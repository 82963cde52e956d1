"""What the served-lab tests share: a lab served on loopback ports the test picks free, a
raw telnet client that reads what a person would see, and the seed's crypto configuration.

Every server here listens on 127.0.0.1 only and is stopped by the fixture that started it.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from iosim.lab.running import BOOT_SECONDS, Lab
from iosim.serve.runtime import ServedClock
from iosim.serve.server import LabServer

LOOPBACK = "127.0.0.1"
#: The seed's R1 configuration (concepts section 10), as a config set.
SEED_R1 = [
    "crypto isakmp policy 10", "encryption aes 256", "hash sha256", "authentication pre-share",
    "group 14", "lifetime 86400", "exit",
    "crypto isakmp key SECRETKEY123 address 203.0.113.2",
    "crypto ipsec transform-set MYSET esp-aes 256 esp-sha256-hmac", "mode tunnel", "exit",
    "ip access-list extended VPN_TRAFFIC", "permit ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255",
    "exit",
    "crypto map MYMAP 10 ipsec-isakmp", "set peer 203.0.113.2", "set transform-set MYSET",
    "match address VPN_TRAFFIC", "set pfs group14", "exit",
    "interface GigabitEthernet0/0", "crypto map MYMAP", "exit",
]
#: ... and its mirror on R2.
SEED_R2 = [line.replace("203.0.113.2", "198.51.100.1").replace(
    "permit ip 192.168.1.0 0.0.0.255 10.0.2.0 0.0.0.255",
    "permit ip 10.0.2.0 0.0.0.255 192.168.1.0 0.0.0.255") for line in SEED_R1]
#: The ISP's routes to both LANs.
ISP_ROUTES = ["ip route 192.168.1.0 255.255.255.0 198.51.100.1",
              "ip route 10.0.2.0 255.255.255.0 203.0.113.2"]


def free_ports(count: int, start: int = 20000) -> int:
    """The first of ``count`` consecutive TCP ports free on loopback."""
    base = start + (int(time.monotonic() * 1000) % 20000)
    while base + count < 65000:
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind((LOOPBACK, port))
            return base
        except OSError:
            base += count + 7
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


@contextmanager
def served(lab_name: str | None, nvram_dir: Path, **load: object) -> Iterator[LabServer]:
    """A lab served on free loopback ports for the time of the block."""
    lab = Lab.load(lab_name, nvram_dir=nvram_dir, clock=ServedClock(start=-BOOT_SECONDS),
                   **load)  # type: ignore[arg-type]
    n = len(lab.routers)
    base = free_ports(2 * n)
    server = LabServer(lab, base, base + n, LOOPBACK)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def port(server: LabServer, device: str, protocol: str) -> int:
    found = next(p for p in server.ports if p.device == device)
    return found.telnet if protocol == "telnet" else found.ssh


class Telnet:
    """A raw telnet client: it answers no option, reads bytes, waits for text."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((LOOPBACK, port), timeout=timeout)
        self.sock.settimeout(0.05)
        self.seen = b""
        self.timeout = timeout

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self, text: str) -> None:
        self.send(text + "\r\n")

    def read_for(self, seconds: float) -> bytes:
        end = time.monotonic() + seconds
        got = b""
        while time.monotonic() < end:
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            got += chunk
        self.seen += got
        return got

    def expect(self, pattern: str | bytes, timeout: float | None = None) -> bytes:
        """Read until ``pattern`` (a regex) shows in what came since the last expect;
        returns that text (up to the match's end)."""
        regex = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        end = time.monotonic() + (timeout or self.timeout)
        buf = b""
        while time.monotonic() < end:
            m = regex.search(buf)
            if m:
                self.seen += buf[:m.end()]
                self._rest = buf[m.end():]
                return buf[:m.end()]
            try:
                chunk = getattr(self, "_rest", b"") or self.sock.recv(65536)
                self._rest = b""
            except TimeoutError:
                continue
            if not chunk:
                raise EOFError(buf)
            buf += chunk
        raise TimeoutError(f"{pattern!r} not seen in {buf!r}")

    def closed(self, timeout: float = 5.0) -> bool:
        """Whether the server closes the connection within ``timeout``."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if not self.sock.recv(65536):
                    return True
            except TimeoutError:
                continue
            except OSError:
                return True
        return False

    def login(self, user: str = "admin", password: str = "admin") -> bytes:
        self.expect("Username: ")
        self.line(user)
        self.expect("Password: ")
        self.line(password)
        return self.expect(r"[>#]$")

    def command(self, text: str, prompt: str = r"\S+[>#]$") -> str:
        """Type a command; its output (echo and prompt removed), telnet commands left out."""
        self.line(text)
        out = self.expect(prompt).replace(b"\r\n", b"\n")
        body = out.split(b"\n", 1)[1] if b"\n" in out else b""
        return body.rsplit(b"\n", 1)[0].decode("utf-8", "replace") + "\n" if b"\n" in body \
            else ""

    def close(self) -> None:
        self.sock.close()
