"""EXEC ``traceroute`` and the extended ``ping`` dialog that a bare ``ping`` starts.

``traceroute`` prints IOS 15's hop lines: ``%3d `` then, per probe, the responder's
address when it differs from the previous one (on a new line indented four spaces if
the line already holds something), then `` N msec``, `` * `` or `` !H `` (see
``iosim.net.traceroute`` for how probes are sent and matched).

The ping dialog asks IOS 15's questions one at a time through ``Session.pending``; each
answer either sets the next question or, after ``Sweep range of sizes [n]:``, pings.
A bad number or address ends the dialog with IOS's message, as on the router.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from iosim.cli.errors import CommandRejected
from iosim.cli.exec_net import _stack
from iosim.cli.interfaces import match_interface_name
from iosim.cli.matcher import Match
from iosim.cli.ping_output import ping_header, stream_ping
from iosim.cli.session import Pending, Session, exec_handler
from iosim.config.handlers import invalid_at
from iosim.net.packets import format_ip, ip_to_int
from iosim.net.ping import run_ping
from iosim.net.stack import IpStack
from iosim.net.traceroute import (
    DEFAULT_PROBES,
    DEFAULT_TIMEOUT,
    DEFAULT_TTL_MAX,
    DEFAULT_TTL_MIN,
    TIMEOUT_MARK,
    Hop,
    run_traceroute,
)

_BAD_SOURCE_ADDR = ("% Invalid source address- IP address not on any of our up "
                    "interfaces")
_BAD_SOURCE_IF = "% Invalid source interface - IP not enabled or interface is down"


def _resolve_source(session: Session, stack: IpStack, m: Match, addr_terminal: str,
                    if_terminal: str) -> int | None:
    """The source address a ``source A.B.C.D|IF`` option names (None: not given)."""
    interface = m.get(if_terminal)
    if interface is not None:
        if interface not in session.router.config.interfaces:
            raise invalid_at(m, if_terminal)
        src = stack.source_for(interface)
        if src is None or not session.router.interface_is_up(interface):
            raise CommandRejected(_BAD_SOURCE_IF)
        return src
    addr = m.get(addr_terminal)
    if addr is None:
        return None
    if stack.owns(ip_to_int(addr)) is None:
        raise CommandRejected(_BAD_SOURCE_ADDR)
    return ip_to_int(addr)


# ---------------------------------------------------------------- traceroute


def probe_text(hop: Hop, index: int) -> str:
    """What IOS prints for probe ``index`` of ``hop``: the responder's address when it
    differs from the previous probe's (on a new line indented four spaces if the hop's line
    already holds something), then the time, `` * `` or the unreachable mark."""
    probe = hop.probes[index]
    text = ""
    earlier = [p.responder for p in hop.probes[:index] if p.responder is not None]
    if probe.responder is not None and probe.responder != (earlier[-1] if earlier else None):
        text += ("\n    " if index else "") + format_ip(probe.responder)
    if probe.mark == TIMEOUT_MARK:
        return text + " * "
    if probe.mark:
        return text + f" {probe.mark} "
    return text + f" {round((probe.rtt or 0.0) * 1000)} msec"


def hop_text(hop: Hop) -> str:
    """One hop as IOS prints it (possibly several lines when responders differ)."""
    return (f"{hop.ttl:3d} " + "".join(probe_text(hop, i) for i in range(len(hop.probes)))
            + "\n")


def traceroute_text(target: str, hops: list[Hop]) -> str:
    """The whole output of ``traceroute``."""
    return ("Type escape sequence to abort.\n"
            f"Tracing the route to {target}\n"
            "VRF info: (vrf in name/id, vrf out name/id)\n"
            + "".join(hop_text(h) for h in hops))


@exec_handler("exec_traceroute")
def _traceroute(session: Session, m: Match) -> str:
    stack, clock = _stack(session)
    target = m.get("TRACE_TARGET") or ""
    source = _resolve_source(session, stack, m, "TRACE_SOURCE_ADDR", "TRACE_SOURCE_IF")
    ttl_min = int(m.get("TRACE_TTL_MIN") or DEFAULT_TTL_MIN)
    ttl_max = int(m.get("TRACE_TTL_MAX") or DEFAULT_TTL_MAX)
    if ttl_max < ttl_min:
        raise invalid_at(m, "TRACE_TTL_MAX")
    trace = partial(run_traceroute, stack, clock, ip_to_int(target), source=source,
                    probes=int(m.get("TRACE_PROBE_N") or DEFAULT_PROBES),
                    ttl_min=ttl_min, ttl_max=ttl_max,
                    timeout=float(m.get("TRACE_TIMEOUT_N") or DEFAULT_TIMEOUT))
    if session.stream is None:
        return traceroute_text(target, trace())
    # an interactive console: each hop number as its probes leave, each probe as it is
    # answered, as IOS prints them; an escape ends the (partial) line
    emit = session.stream
    emit(traceroute_text(target, []))
    shown = [0]  # probes of the current hop already printed

    def on_probe(hop: Hop) -> None:
        if not hop.probes:
            emit(f"{hop.ttl:3d} ")
        emit("".join(probe_text(hop, i) for i in range(shown[0], len(hop.probes))))
        shown[0] = len(hop.probes)

    def on_hop(hop: Hop) -> None:
        emit("\n")
        shown[0] = 0

    hops = trace(on_probe=on_probe, on_hop=on_hop)
    return "\n" if shown[0] or (hops and not hops[-1].probes) else ""


# ---------------------------------------------------------------- extended ping

MAX_REPEAT = 2147483647
MIN_SIZE, MAX_SIZE = 36, 18024
MAX_TIMEOUT = 3600
DEFAULT_PATTERN = 0xABCD


@dataclass
class PingRequest:
    """What the dialog has gathered so far."""

    target: str = ""
    repeat: int = 5
    size: int = 100
    timeout: int = 2
    source: int | None = None
    df: bool = False
    sweep: tuple[int, int, int] | None = None  # (min, max, interval)

    @property
    def count(self) -> int:
        """How many echoes: ``repeat``, or ``repeat`` rounds of the whole sweep."""
        if self.sweep is None:
            return self.repeat
        low, high, step = self.sweep
        return self.repeat * len(range(low, high + 1, step))

    def sizes(self) -> Iterator[int]:
        """The size of each echo, made as the ping goes (``repeat`` may be 2147483647)."""
        if self.sweep is None:
            return itertools.repeat(self.size, self.repeat)
        low, high, step = self.sweep
        rounds = itertools.repeat(range(low, high + 1, step), self.repeat)
        return itertools.chain.from_iterable(rounds)


def _number(text: str, default: int, low: int, high: int) -> int | None:
    """A decimal answer in [low, high] (blank: the default); None if it is not one."""
    text = text.strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        return None
    return int(text)


def _decimal_error(low: int, high: int) -> str:
    return f"% A decimal number between {low} and {high}.\n"


def _yes_no(text: str, default: bool) -> bool | None:
    word = text.strip().lower()
    if not word:
        return default
    if "yes".startswith(word):
        return True
    if "no".startswith(word):
        return False
    return None


def dialog_ping_header(req: PingRequest) -> str:
    """What IOS prints before a dialog ping's first echo (a sweep prints its size range)."""
    size = f"[{req.sweep[0]}..{req.sweep[1]}]" if req.sweep else str(req.size)
    source = format_ip(req.source) if req.source is not None else None
    return ping_header(str(req.target), req.count, size, req.timeout, source, req.df)


class PingDialog:
    """The questions of ``ping`` with no arguments, each a method answering one line."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.req = PingRequest()

    def ask(self, prompt: str, answer: Callable[[str], str]) -> str:
        self.session.pending = Pending(prompt, answer)
        return ""

    def start(self) -> str:
        return self.ask("Protocol [ip]: ", self.protocol)

    def protocol(self, text: str) -> str:
        word = text.strip()
        if word and not "ip".startswith(word.lower()):
            return f'% Unknown protocol - "{word}", type "ping ?" for help\n'
        return self.ask("Target IP address: ", self.target)

    def target(self, text: str) -> str:
        try:
            self.req.target = format_ip(ip_to_int(text.strip()))
        except ValueError:
            return "% Bad IP address\n"
        return self.ask("Repeat count [5]: ", self.repeat)

    def repeat(self, text: str) -> str:
        value = _number(text, 5, 1, MAX_REPEAT)
        if value is None:
            return _decimal_error(1, MAX_REPEAT)
        self.req.repeat = value
        return self.ask("Datagram size [100]: ", self.size)

    def size(self, text: str) -> str:
        value = _number(text, 100, MIN_SIZE, MAX_SIZE)
        if value is None:
            return _decimal_error(MIN_SIZE, MAX_SIZE)
        self.req.size = value
        return self.ask("Timeout in seconds [2]: ", self.timeout)

    def timeout(self, text: str) -> str:
        value = _number(text, 2, 0, MAX_TIMEOUT)
        if value is None:
            return _decimal_error(0, MAX_TIMEOUT)
        self.req.timeout = value
        return self.ask("Extended commands [n]: ", self.extended)

    def extended(self, text: str) -> str:
        answer = _yes_no(text, False)
        if answer is None:
            self.ask("Extended commands [n]: ", self.extended)
            return "% Please answer 'yes' or 'no'.\n"
        if answer:
            return self.ask("Ingress ping [n]: ", self.ingress)
        return self.ask("Sweep range of sizes [n]: ", self.sweep)

    def ingress(self, text: str) -> str:
        answer = _yes_no(text, False)
        if answer is None:
            self.ask("Ingress ping [n]: ", self.ingress)
            return "% Please answer 'yes' or 'no'.\n"
        if answer:
            return "% Ingress ping is not supported by this emulator\n"
        return self.ask("Source address or interface: ", self.source)

    def source(self, text: str) -> str:
        word = text.strip()
        if word:
            stack, _ = _stack(self.session)
            src: int | None = None
            try:
                addr = ip_to_int(word)
                src = addr if stack.owns(addr) is not None else None
            except ValueError:
                name = match_interface_name(word)
                if name is not None and name in self.session.router.config.interfaces:
                    src = stack.source_for(name)
            if src is None:
                return ("% Invalid source. Must use same-VRF IP address or full interface "
                        "name without spaces (e.g. Serial0/1)\n")
            self.req.source = src
        return self.ask("Type of service [0]: ", self.tos)

    def tos(self, text: str) -> str:
        value = _number(text, 0, 0, 255)
        if value is None:
            return _decimal_error(0, 255)
        if value:
            return "% Type of service other than 0 is not supported by this emulator\n"
        return self.ask("Set DF bit in IP header? [no]: ", self.df)

    def df(self, text: str) -> str:
        answer = _yes_no(text, False)
        if answer is None:
            self.ask("Set DF bit in IP header? [no]: ", self.df)
            return "% Please answer 'yes' or 'no'.\n"
        self.req.df = answer
        return self.ask("Validate reply data? [no]: ", self.validate)

    def validate(self, text: str) -> str:
        if _yes_no(text, False) is None:
            self.ask("Validate reply data? [no]: ", self.validate)
            return "% Please answer 'yes' or 'no'.\n"
        return self.ask("Data pattern [0x0000ABCD]: ", self.pattern)

    def pattern(self, text: str) -> str:
        word = text.strip()
        if word:
            digits = word[2:] if word.lower().startswith("0x") else word
            try:
                value = int(digits, 16)
            except ValueError:
                return "% Invalid pattern\n"
            if value != DEFAULT_PATTERN:
                return "% Data patterns other than 0xABCD are not supported by this emulator\n"
        return self.ask("Loose, Strict, Record, Timestamp, Verbose[none]: ", self.options)

    def options(self, text: str) -> str:
        word = text.strip()
        if not word or word.lower() == "none":
            return self.ask("Sweep range of sizes [n]: ", self.sweep)
        known = ("loose", "strict", "record", "timestamp", "verbose")
        self.ask("Loose, Strict, Record, Timestamp, Verbose[none]: ", self.options)
        if any(k.startswith(word.lower()) for k in known):
            return "% IP options and verbose ping are not supported by this emulator\n"
        return f'% No such option - "{word}"'  # IOS prints the question right after it

    def sweep(self, text: str) -> str:
        answer = _yes_no(text, False)
        if answer is None:
            self.ask("Sweep range of sizes [n]: ", self.sweep)
            return "% Please answer 'yes' or 'no'.\n"
        if answer:
            return self.ask(f"Sweep min size [{MIN_SIZE}]: ", self.sweep_min)
        return self.run()

    def sweep_min(self, text: str) -> str:
        value = _number(text, MIN_SIZE, MIN_SIZE, MAX_SIZE)
        if value is None:
            return _decimal_error(MIN_SIZE, MAX_SIZE)
        self.req.sweep = (value, MAX_SIZE, 1)
        return self.ask(f"Sweep max size [{MAX_SIZE}]: ", self.sweep_max)

    def sweep_max(self, text: str) -> str:
        assert self.req.sweep is not None
        low = self.req.sweep[0]
        value = _number(text, MAX_SIZE, low, MAX_SIZE)
        if value is None:
            return _decimal_error(low, MAX_SIZE)
        self.req.sweep = (low, value, 1)
        return self.ask("Sweep interval [1]: ", self.sweep_interval)

    def sweep_interval(self, text: str) -> str:
        assert self.req.sweep is not None
        low, high, _ = self.req.sweep
        span = max(1, high - low)
        value = _number(text, 1, 1, span)
        if value is None:
            return _decimal_error(1, span)
        self.req.sweep = (low, high, value)  # each round sweeps the whole range
        return self.run()

    def run(self) -> str:
        """Ping as asked: one identifier, sequence 0, 1, ..., the sizes made as it goes."""
        stack, clock = _stack(self.session)
        req = self.req
        return stream_ping(self.session.stream, dialog_ping_header(req), partial(
            run_ping, stack, clock, ip_to_int(req.target), sizes=req.sizes(),
            timeout=float(req.timeout), source=req.source, df=req.df,
            identifier=stack.next_ident()))


@exec_handler("exec_ping_dialog")
def _ping_dialog(session: Session, m: Match) -> str:
    _stack(session)  # refuse at once on a router outside a lab network
    return PingDialog(session).start()
