"""The site-to-site VPN booted for one question, in memory: what it shows, what it holds.

A live question boots the built-in ``site-to-site`` lab with a ``Scenario`` (the site-to-site VPN
configuration on R1 and R2, each side possibly changed, the ISP possibly doing PAT), runs the
commands it shows through the lab console exactly as a student would type them, and reads its
answer from the routers' live state (``LiveLab.flow``, ``LiveLab.isakmp``): counters count the
packets that really crossed, SPIs are the ones IKE really chose. The configuration is kept
here, as data (Concepts 10), so the quiz needs nothing outside the package; its
addresses are the lab's own, read from the booted routers (``Addressing``), so a lab that
draws its addresses per seed gets a VPN that fits.

Set-up lines are fed without being shown (``hidden``) and must be accepted: a rejected one is
a ``ScenarioError``, never a silently different lab. The lab's NVRAM is a temporary directory,
removed when the question is built: a quiz never reads or writes the user's saved configs.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from iosim.ike.engine import IsakmpSaState
from iosim.ipsec.router_crypto import RouterCrypto
from iosim.ipsec.sad import FlowView, SaBundle
from iosim.lab.console import Lab, LabConsole
from iosim.quiz.model import Question

#: Concepts 10 for one router (its fields come from a ``Site``).
SEED_CONFIG = """\
enable
configure terminal
crypto isakmp policy 10
encryption {encryption}
hash {hash}
authentication {authentication}
group {group}
lifetime 86400
exit
crypto isakmp key {key} address {peer}
crypto ipsec transform-set MYSET {transform}
mode tunnel
exit
ip access-list extended VPN_TRAFFIC
permit ip {local.network_address} {local.hostmask} {remote.network_address} {remote.hostmask}
exit
crypto map MYMAP 10 ipsec-isakmp
set peer {peer}
set transform-set MYSET
match address VPN_TRAFFIC
set pfs group14
exit
interface GigabitEthernet0/0
crypto map MYMAP
end
"""

#: The ISP translates R1's outside address to its own (PAT), as the README's "NAT traversal".
ISP_PAT = """\
enable
configure terminal
interface GigabitEthernet0/0
ip nat inside
interface GigabitEthernet0/1
ip nat outside
exit
access-list 1 permit {inside.network_address} {inside.hostmask}
ip nat inside source list 1 interface GigabitEthernet0/1 overload
end
"""

OUTSIDE, LAN = "GigabitEthernet0/0", "GigabitEthernet0/1"

#: IOS's error messages ("% Invalid input ..."), not its notes; log lines are "*Mar  1 ...: %X".
_CLI_ERROR = re.compile(r"^% (?!NOTE:)", re.MULTILINE)
_MARKS = frozenset("!.UQM&")


class ScenarioError(RuntimeError):
    """A scenario's lab did not do what the question needs (a bug, never the student's)."""


@dataclass(frozen=True)
class Addressing:
    """The site-to-site lab's addresses, as its routers and PCs booted with them (the seed's
    by default; a lab may draw others per seed)."""

    r1_outside: IPv4Interface
    r1_lan: IPv4Interface
    r2_outside: IPv4Interface
    r2_lan: IPv4Interface
    isp_r1: IPv4Address  # the ISP on R1's link: R1's next hop
    isp_r2: IPv4Address  # the ISP on R2's link: its outside address, R1's behind its PAT
    pc1: IPv4Address
    pc2: IPv4Address

    @classmethod
    def of(cls, lab: Lab) -> Addressing:
        """Read from ``lab``'s running-configs and hosts."""
        def interface(device: str, name: str) -> IPv4Interface:
            intf = lab.routers[device].config.interfaces.get(name)
            if intf is None or intf.address is None or intf.mask is None:
                raise ScenarioError(f"{device} {name} has no address")
            return IPv4Interface(f"{intf.address}/{intf.mask}")

        return cls(interface("R1", OUTSIDE), interface("R1", LAN), interface("R2", OUTSIDE),
                   interface("R2", LAN), interface("ISP", OUTSIDE).ip, interface("ISP", LAN).ip,
                   lab.hosts["PC1"].address.ip, lab.hosts["PC2"].address.ip)

    def ping(self, device: str, n: int) -> str:
        """The command with which ``device`` pings the far LAN ``n`` times."""
        return {"R1": f"ping {self.pc2} source {self.r1_lan.ip} repeat {n}",
                "R2": f"ping {self.pc1} source {self.r2_lan.ip} repeat {n}",
                "PC1": f"ping {self.pc2} repeat {n}",
                "PC2": f"ping {self.pc1} repeat {n}"}[device]

    def warm_arp(self) -> tuple[tuple[str, str], ...]:
        """Each router pings its neighbours first, so that the first echo over the tunnel is
        lost to IKE and not to ARP."""
        return (("R2", f"ping {self.pc2} repeat 2\nping {self.isp_r2} repeat 2\n"),
                ("R1", f"ping {self.isp_r1} repeat 2\nping {self.pc1} repeat 2\n"))


#: Who may ping across the VPN (see ``Addressing.ping``).
PINGERS = ("R1", "R2", "PC1", "PC2")


@dataclass(frozen=True)
class Site:
    """One router's half of the site-to-site VPN, with what a scenario may change."""

    router: str
    peer: IPv4Address
    local: IPv4Network
    remote: IPv4Network
    key: str = "SECRETKEY123"
    encryption: str = "aes 256"
    hash: str = "sha256"
    authentication: str = "pre-share"
    group: int = 14
    transform: str = "esp-aes 256 esp-sha256-hmac"

    def script(self) -> str:
        """The lines that configure this side, from user EXEC back to privileged EXEC."""
        return SEED_CONFIG.format(**{f.name: getattr(self, f.name) for f in fields(self)})


Changes = tuple[tuple[str, Any], ...]  # (Site field, value), as ``changes()`` makes them


def changes(**values: Any) -> Changes:
    """Changes to one side of the VPN: ``changes(key="other")``."""
    return tuple(sorted(values.items()))


@dataclass(frozen=True)
class Scenario:
    """How the site-to-site VPN is set up for a question: what differs on each side from
    the reference configuration."""

    r1: Changes = ()
    r2: Changes = ()
    nat: bool = False  # the ISP does PAT: R2's peer is then the ISP's outside address
    debug: tuple[str, ...] = ()  # routers with ``debug crypto isakmp`` on

    def sites(self, a: Addressing) -> tuple[Site, Site]:
        """R1's and R2's halves in a lab addressed as ``a``."""
        r1 = Site("R1", a.r2_outside.ip, a.r1_lan.network, a.r2_lan.network)
        r2 = Site("R2", a.isp_r2 if self.nat else a.r1_outside.ip, a.r2_lan.network,
                  a.r1_lan.network)
        return replace(r1, **dict(self.r1)), replace(r2, **dict(self.r2))


class LiveLab:
    """A booted lab and its console: commands shown to the student, state read for answers."""

    def __init__(self, console: LabConsole) -> None:
        self.console = console
        self.addressing = Addressing.of(console.lab)

    def _attach(self, device: str) -> str:
        """Attach the console to ``device``; what it printed meanwhile (its log lines)."""
        if self.console.device == device:
            return self.console.pending_logs()
        return self.console.feed("@" + device)

    def hidden(self, device: str, script: str) -> None:
        """Feed set-up lines to ``device``; every one must be accepted."""
        self._attach(device)
        for line in script.splitlines():
            out = self.console.feed(line)
            if _CLI_ERROR.search(out):
                raise ScenarioError(f"{device} rejected {line!r}: {out.strip()}")

    def shown(self, device: str, command: str) -> str:
        """Type ``command`` on ``device``; the console's text: prompt, command, output."""
        before = self._attach(device)
        prompt = self.console.prompt
        return before + prompt + command + "\n" + self.console.feed(command)

    def logs(self, device: str) -> str:
        """What ``device`` printed (debug and syslog lines) since it was last attached."""
        return self._attach(device)

    def wait(self, seconds: int) -> None:
        """Let ``seconds`` of virtual time pass."""
        self.console.lab.clock.advance(seconds)

    def settle(self) -> None:
        """Forget what every router printed so far; the console goes back to R1."""
        for device in self.console.lab.routers:
            self._attach(device)
        self._attach("R1")

    # ------------------------------------------------------------ live state

    @property
    def now(self) -> float:
        return self.console.lab.clock.now

    def crypto(self, device: str) -> RouterCrypto:
        """The crypto plane of router ``device``."""
        plane = self.console.lab.routers[device].crypto_plane
        if not isinstance(plane, RouterCrypto):
            raise ScenarioError(f"{device} has no crypto plane")
        return plane

    def flow(self, device: str) -> FlowView:
        """The protected flow of ``device``'s crypto map (its ACL has one line)."""
        flows = self.crypto(device).flows()
        if len(flows) != 1:
            raise ScenarioError(f"{device} has {len(flows)} protected flows")
        return flows[0]

    def bundle(self, device: str) -> SaBundle:
        """The current IPsec SA pair of ``device``'s flow."""
        bundles = self.flow(device).bundles
        if not bundles:
            raise ScenarioError(f"{device} has no IPsec SA")
        return bundles[-1]

    def isakmp(self, device: str) -> IsakmpSaState | None:
        """``device``'s newest ISAKMP SA (as ``show crypto isakmp sa`` lists it), if any."""
        states = self.crypto(device).isakmp_states()
        return states[-1] if states else None


@contextmanager
def boot(scenario: Scenario, seed: str) -> Iterator[LiveLab]:
    """The site-to-site lab (random draws from ``seed``) configured as ``scenario`` says,
    neighbours' ARP warm, logs so far forgotten, the console on R1."""
    with TemporaryDirectory(prefix="iosim-quiz-") as nvram:
        lab = Lab.load("site-to-site", nvram_dir=Path(nvram), seed=seed)
        live = LiveLab(LabConsole(lab, "R1", paging=False))
        a = live.addressing
        if scenario.nat:
            live.hidden("ISP", ISP_PAT.format(inside=a.r1_outside.network))
        for site in scenario.sites(a):
            live.hidden(site.router, site.script())
        for device, script in a.warm_arp():
            live.hidden(device, script)
        for device in scenario.debug:
            live.hidden(device, "debug crypto isakmp")
        live.settle()
        yield live


def quote(output: str, needle: str, after: str = "") -> str:
    """The first line of ``output`` (after the line containing ``after``, if given) that
    contains ``needle``, stripped: the line an explanation points at."""
    lines = output.splitlines()
    if after:
        starts = [i for i, line in enumerate(lines) if after in line]
        lines = lines[starts[0] + 1:] if starts else []
    for line in lines:
        if needle in line:
            return line.strip()
    raise ScenarioError(f"no line with {needle!r} in the output")


def marks(output: str) -> str:
    """Every ping mark (``!``, ``.``, ...) in ``output``, in order."""
    return "".join(line for line in output.splitlines() if line and set(line) <= _MARKS)


@dataclass(frozen=True)
class Live:
    """A question read off a lab run: ``build(rng, lab_seed)`` boots, runs and asks."""

    key: str
    topic: str
    build: Callable[[random.Random, str], Question]

    def make(self, rng: random.Random, lab_seed: str) -> Question:
        return self.build(rng, lab_seed)
