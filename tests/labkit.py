"""What the lab tests share: a privileged console on the default lab, scripts, ping marks."""

from __future__ import annotations

import re
from pathlib import Path

from iosim.cli.lines import split_lines
from iosim.lab.console import Lab, LabConsole
from iosim.net.packets import (
    EthernetFrame,
    EtherType,
    Ipv4Packet,
    pull_ethernet,
    pull_ipv4,
    push_ethernet,
)

#: Routes on the ISP to both LANs (the default lab has none), then back to R1.
ISP_ROUTES = ("@ISP\nenable\nconf t\nip route 192.168.1.0 255.255.255.0 198.51.100.1\n"
              "ip route 10.0.2.0 255.255.255.0 203.0.113.2\nend\n@R1\n")


#: The ISP translates R1's outside address (198.51.100.1) to its own 203.0.113.1 (PAT).
ISP_NAT = """\
@ISP
enable
conf t
interface GigabitEthernet0/0
ip nat inside
interface GigabitEthernet0/1
ip nat outside
exit
access-list 1 permit 198.51.100.0 0.0.0.3
ip nat inside source list 1 interface GigabitEthernet0/1 overload
end
"""


#: The seed's R1 and R2 configuration scripts (``seed_r1.in`` starts on R1, ``seed_r2.in``
#: with ``@R2``).
SEED_SCRIPTS = Path(__file__).resolve().parent / "crypto_config" / "transcripts"


Changes = dict[str, str]  # old text -> new text, in a seed script


def seed_config(name: str, *, extra: str = "", replace: Changes | None = None) -> str:
    """The configuration part of seed script ``name`` (``seed_r1`` or ``seed_r2``) as a
    script that attaches to its router: ``extra`` lines go before its ``end``, and each
    ``replace`` entry changes every occurrence of a text that must be there."""
    script = (SEED_SCRIPTS / f"{name}.in").read_text()
    config = script[: script.index("end\n")]
    for old, new in (replace or {}).items():
        assert old in config, old
        config = config.replace(old, new)
    return ("@R1\n" if name == "seed_r1" else "") + config + extra + "end\n"


def configure_seed(c: LabConsole, *, r1_extra: str = "", r2_extra: str = "",
                   r1_replace: Changes | None = None, r2_replace: Changes | None = None
                   ) -> None:
    """R1 and R2 configured as in the seed (with those changes); the console ends on R1."""
    run(c, seed_config("seed_r1", extra=r1_extra, replace=r1_replace))
    run(c, seed_config("seed_r2", extra=r2_extra, replace=r2_replace))
    c.feed("@R1")


#: Each router pings its neighbours once, so that the first packet over the tunnel is the one
#: IKE costs, not an ARP resolution; the console ends on R1.
WARM_ARP = ("@R2\nenable\nping 10.0.2.10 repeat 2\nping 203.0.113.1 repeat 2\n"
            "@R1\nping 198.51.100.2 repeat 2\nping 192.168.1.10 repeat 2\n")


def seeded(tmp_path: Path, *, capture: bool = False, r1_extra: str = "", r2_extra: str = "",
           r1_replace: Changes | None = None, r2_replace: Changes | None = None
           ) -> LabConsole:
    """The default lab with R1 and R2 configured as in the seed (with those changes),
    neighbours' ARP warm, the console on R1 (privileged); ``capture`` records the links."""
    c = console(tmp_path)
    if capture:
        c.lab.fabric.capture()
    configure_seed(c, r1_extra=r1_extra, r2_extra=r2_extra, r1_replace=r1_replace,
                   r2_replace=r2_replace)
    run(c, WARM_ARP)
    return c


def reload_r2_unsaved(c: LabConsole, *, extra: str = "", replace: Changes | None = None
                      ) -> None:
    """R2 reloads without saving (no, confirm, RETURN) and is configured again as in the
    seed (with those changes); it warms its ARP cache and the console goes back to R1."""
    out = run(c, "@R2\nreload\nno\n\n\n")
    assert "Press RETURN" in out
    out = run(c, seed_config("seed_r2", extra=extra, replace=replace)
              + "ping 203.0.113.1 repeat 2\nping 10.0.2.10 repeat 2\n@R1\n")
    assert "% Invalid" not in out, out


def captured_ipv4(c: LabConsole, device: str, interface: str = "GigabitEthernet0/0"
                  ) -> list[tuple[float, Ipv4Packet]]:
    """The IPv4 packets the capture saw on ``device interface``'s link, with their times."""
    link = c.lab.fabric.link_of(device, interface)
    assert link is not None
    frames = [(when, pull_ethernet(frame)) for when, frame in link.captured]
    return [(when, pull_ipv4(eth.payload)) for when, eth in frames
            if eth.ethertype == EtherType.IPV4]


def inject(c: LabConsole, device: str, datagram: bytes,
           interface: str = "GigabitEthernet0/0") -> None:
    """Put an IPv4 datagram on the wire into ``device interface``; a second passes."""
    stack = c.lab.routers[device].stack
    assert stack is not None
    frame = EthernetFrame(stack.mac(interface), bytes.fromhex("02aabbccddee"), EtherType.IPV4,
                          datagram)
    stack.receive(interface, push_ethernet(frame))
    c.lab.clock.advance(1)


def console(tmp_path: Path) -> LabConsole:
    """R1 of the default lab, privileged, no paging, NVRAM under ``tmp_path``."""
    c = LabConsole(Lab.load(nvram_dir=tmp_path), paging=False)
    c.feed("enable")
    return c


def debug_messages(c: LabConsole, device: str) -> list[str]:
    """Every debug message ``device`` prints from now on, as it prints it."""
    router = c.lab.routers[device]
    seen: list[str] = []
    printed = router.debug

    def debug(message: str) -> None:
        seen.append(message)
        printed(message)

    router.debug = debug
    return seen


def interrupt_after(c: LabConsole, seconds: float) -> None:
    """The user interrupts the command running (Ctrl-C, Ctrl-^) ``seconds`` into it, on the
    lab's clock; ``c.lab.clock.pacer = None`` puts the clock back to normal."""
    clock = c.lab.clock
    stop_at = clock.now + seconds

    def pace(when: float) -> None:
        if when > stop_at:
            raise KeyboardInterrupt

    clock.pacer = pace


def run(c: LabConsole, script: str) -> str:
    """Feed every line of ``script`` (lines end at CR or LF only, as on a console); return
    all the output."""
    return "".join(c.feed(line) for line in split_lines(script))


_MARKS = "!.UQM&"
_SENT = re.compile(r"^Success rate is \d+ percent \(\d+/(\d+)\)", re.M)


def _trailing_marks(line: str) -> str:
    """The marks at the end of ``line``; letters that end a word of a message (the M of
    IKE_INIT_QM) are the message's, not marks."""
    run = line[len(line.rstrip(_MARKS)):]
    head = line[:len(line) - len(run)]
    while run and head and run[0] in "UQM&" and (head[-1].isalnum() or head[-1] == "_"):
        head, run = head + run[0], run[1:]
    return run


def marks(output: str) -> list[str]:
    """The ping marks in ``output``, one string per line they are printed on. A message
    that arrives during a ping (debug) is printed on a new line and the marks go on after
    its text, as on IOS: each ping's marks are read back from its summary line up, as
    many as its summary says it sent."""
    found: list[str] = []
    start = 0
    for summary in _SENT.finditer(output):
        wanted = int(summary.group(1))
        lines = output[start:summary.start()].splitlines()
        start = summary.end()
        block: list[str] = []
        for line in reversed(lines):
            if wanted <= 0 or line.endswith(":") or line.startswith("Type escape"):
                break
            run = _trailing_marks(line)[-wanted:] if line else ""
            if run:
                block.insert(0, run)
                wanted -= len(run)
        found += block
    rest = output[start:] if found else output
    return found + [ln for ln in rest.splitlines() if ln and set(ln) <= set(_MARKS)]


def vpn_toward_bridge(host: str, peer: str, remote_lan: str) -> str:
    """R1's Gi0/2 on ``host`` (the bridge's side), a crypto map toward the real ``peer``
    protecting R1's LAN to ``remote_lan`` (a /24 network address), in privileged EXEC."""
    return f"""\
enable
conf t
interface GigabitEthernet0/2
ip address {host} 255.255.255.0
no shutdown
exit
crypto isakmp policy 10
encryption aes 256
hash sha256
authentication pre-share
group 14
exit
crypto isakmp key SECRETKEY123 address {peer}
crypto ipsec transform-set T esp-aes 256 esp-sha256-hmac
exit
ip access-list extended TO_PEER
permit ip 192.168.1.0 0.0.0.255 {remote_lan} 0.0.0.255
exit
ip route {remote_lan} 255.255.255.0 {peer}
crypto map M 10 ipsec-isakmp
set peer {peer}
set transform-set T
match address TO_PEER
exit
interface GigabitEthernet0/2
crypto map M
end
"""
