"""The running-config model: plain dataclasses, one per IOS configuration object.

Handlers in ``iosim.config.apply_*`` change it; ``iosim.config.render`` writes it back
as IOS text.  Feature packages (crypto, NAT) hang their own objects off
``RunningConfig`` as fields of their own.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from itertools import islice
from typing import Any

from iosim.cli.interfaces import INTERFACE_TYPES, interface_type


@dataclass
class InterfaceConfig:
    """``interface NAME`` and what is under it."""

    name: str
    description: str | None = None
    address: IPv4Address | None = None
    mask: IPv4Address | None = None
    secondaries: list[tuple[IPv4Address, IPv4Address]] = field(default_factory=list)
    shutdown: bool = False
    duplex: str | None = None  # None: the platform default (auto)
    speed: str | None = None
    access_group_in: str | None = None  # ``ip access-group N|NAME in``
    access_group_out: str | None = None  # ``ip access-group N|NAME out``
    unreachables: bool = True  # ``no ip unreachables``: no ICMP unreachables sent
    features: dict[str, Any] = field(default_factory=dict)  # crypto map, nat, ...

    @property
    def network(self) -> IPv4Network | None:
        """The connected network of the primary address."""
        if self.address is None or self.mask is None:
            return None
        return IPv4Network(f"{self.address}/{self.mask}", strict=False)


@dataclass
class NullInterfaceConfig:
    """``interface Null0``: always there, never created or removed; ``ip unreachables`` is
    the only command it takes (IOS: "The only interface configuration command that you can
    specify for the null interface is no ip unreachables")."""

    unreachables: bool = True  # ``no ip unreachables``: what is routed to Null0 goes quietly


def interface_sort_key(name: str) -> tuple[int, tuple[int, ...]]:
    """IOS lists interfaces by type (the platform's order), then by number."""
    t = interface_type(name)
    if t is None:
        return (99, ())
    rank = INTERFACE_TYPES.index(t)
    digits = name[len(t.name):].replace(".", "/").split("/")
    return (rank, tuple(int(d) for d in digits if d.isascii() and d.isdigit()))


@dataclass
class StaticRoute:
    """``ip route PREFIX MASK {NEXT-HOP | INTERFACE [NEXT-HOP]} [DISTANCE] [name N]``."""

    prefix: IPv4Address
    mask: IPv4Address
    next_hop: IPv4Address | None = None
    interface: str | None = None
    distance: int = 1
    name: str | None = None
    permanent: bool = False

    @property
    def network(self) -> IPv4Network:
        return IPv4Network(f"{self.prefix}/{self.mask}")

    def key(self) -> tuple[object, ...]:
        """Two routes with the same key are the same route (IOS replaces its options)."""
        return (self.prefix, self.mask, self.next_hop, self.interface)


@dataclass(frozen=True)
class AddressMatch:
    """``any``, ``host A`` or ``A WILDCARD`` in an access-list entry."""

    address: IPv4Address
    wildcard: IPv4Address

    def __hash__(self) -> int:  # IPv4Address hashes through a hex string: too slow for ACLs
        return hash((int(self.address), int(self.wildcard)))

    def matches(self, addr: IPv4Address) -> bool:
        w = int(self.wildcard)
        return (int(addr) & ~w) == (int(self.address) & ~w)

    @property
    def is_any(self) -> bool:
        return int(self.wildcard) == 0xFFFFFFFF

    @property
    def is_host(self) -> bool:
        return int(self.wildcard) == 0


@dataclass(frozen=True)
class PortMatch:
    """``eq|neq|gt|lt PORT`` on a TCP or UDP entry."""

    op: str
    port: int

    def matches(self, port: int) -> bool:
        return {
            "eq": port == self.port,
            "neq": port != self.port,
            "gt": port > self.port,
            "lt": port < self.port,
        }[self.op]


@dataclass
class AclEntry:
    """One access-list entry (an ACE) or a remark."""

    seq: int
    action: str  # "permit", "deny" or "remark"
    protocol: int | None = None  # None for standard entries and remarks; 0 = ip
    source: AddressMatch | None = None
    destination: AddressMatch | None = None
    source_port: PortMatch | None = None
    destination_port: PortMatch | None = None
    icmp_type: int | None = None
    log: bool = False
    remark: str | None = None
    matches: int = 0  # packets matched (runtime counter, not configuration)

    def rule(self) -> tuple[object, ...] | None:
        """What the entry says, as a key (None for a remark: remarks may repeat)."""
        if self.action == "remark":
            return None
        return (self.action, self.protocol, self.source, self.destination, self.source_port,
                self.destination_port, self.icmp_type)


class AclEntries:
    """The entries of one access list in sequence order, each change in O(log n).

    Theory of operation: every entry has a key (sequence number, arrival), kept in a sorted
    list searched with ``bisect``; entries with the same number stay in the order they came
    (a remark is filed under the number of the entry that follows it, so the two share it).
    The entries that are not remarks are also kept by number (IOS refuses a second one) in a
    sorted list of their own (the next number is the last one's plus 10), and by what they
    say (IOS ignores a line that repeats a rule; ``no permit ...`` removes it).  So adding a
    line, ``no SEQ`` and the duplicate checks cost one or two binary searches and C-level
    list insertions, and typing line N of a long ACL costs what typing line 1 did.

    ``checkpoint()`` starts an undo log that records each change (not a copy of the
    entries) and returns two functions: one puts the entries back as they were, the other
    ends the log (the command went well).  Nested commands each keep their own log.
    """

    __slots__ = ("_keys", "_entries", "_seqs", "_by_seq", "_rules", "_arrivals", "_logs")

    def __init__(self, entries: Iterable[AclEntry] = ()) -> None:
        self._keys: list[tuple[int, int]] = []  # (seq, arrival), sorted
        self._entries: dict[tuple[int, int], AclEntry] = {}
        self._seqs: list[int] = []  # the numbers of the entries that are not remarks, sorted
        self._by_seq: dict[int, tuple[int, int]] = {}  # their keys
        self._rules: dict[tuple[object, ...], list[tuple[int, int]]] = {}
        self._arrivals = 0
        self._logs: list[list[tuple[bool, tuple[int, int], AclEntry]]] = []
        for entry in entries:
            self.add(entry)

    def __iter__(self) -> Iterator[AclEntry]:
        entries = self._entries
        return (entries[key] for key in self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def __repr__(self) -> str:
        return f"AclEntries({list(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AclEntries):
            return list(self) == list(other)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    # mutable: not hashable
    __hash__ = None  # type: ignore[assignment]

    @property
    def last_seq(self) -> int:
        """The highest number of an entry that is not a remark (0 if there is none)."""
        return self._seqs[-1] if self._seqs else 0

    def get(self, seq: int) -> AclEntry | None:
        """The entry (not a remark) numbered ``seq``."""
        key = self._by_seq.get(seq)
        return None if key is None else self._entries[key]

    def with_rule(self, entry: AclEntry) -> list[AclEntry]:
        """The entries that say what ``entry`` says (their sequence numbers aside)."""
        rule = entry.rule()
        keys = self._rules.get(rule, ()) if rule is not None else ()
        return [self._entries[key] for key in keys]

    def add(self, entry: AclEntry, *, repeat_ok: bool = True) -> bool:
        """Insert ``entry`` at its sequence number (which no other entry but a remark may
        have); with ``repeat_ok`` false, not if the list already says the same (IOS ignores
        such a line).  Whether it was inserted."""
        rule = entry.rule()
        if rule is not None:
            if entry.seq in self._by_seq:
                raise ValueError(f"sequence number {entry.seq} is taken")
            if not repeat_ok and rule in self._rules:
                return False
        self._arrivals += 1
        self._insert((entry.seq, self._arrivals), entry)
        return True

    def remove(self, seq: int) -> list[AclEntry]:
        """Remove what is numbered ``seq`` (``no SEQ``: the entry and a remark filed under
        it); the entries removed."""
        keys = self._keys
        first = bisect_left(keys, (seq, 0))
        last = bisect_left(keys, (seq + 1, 0), first)
        removed = [self._entries[key] for key in keys[first:last]]
        for key in keys[first:last]:
            self._delete(key)
        return removed

    def remove_rule(self, entry: AclEntry) -> list[AclEntry]:
        """Remove the entries that say what ``entry`` says (``no permit ...``)."""
        rule = entry.rule()
        keys = list(self._rules.get(rule, ())) if rule is not None else []
        removed = [self._entries[key] for key in keys]
        for key in keys:
            self._delete(key)
        return removed

    def _insert(self, key: tuple[int, int], entry: AclEntry) -> None:
        keys = self._keys
        if not keys or key > keys[-1]:
            keys.append(key)  # the usual case: the next line of the list
        else:
            keys.insert(bisect_left(keys, key), key)
        self._entries[key] = entry
        rule = entry.rule()
        if rule is not None:
            seqs = self._seqs
            if not seqs or key[0] > seqs[-1]:
                seqs.append(key[0])
            else:
                seqs.insert(bisect_left(seqs, key[0]), key[0])
            self._by_seq[key[0]] = key
            self._rules.setdefault(rule, []).append(key)
        for log in self._logs:
            log.append((True, key, entry))

    def _delete(self, key: tuple[int, int]) -> None:
        keys = self._keys
        del keys[bisect_left(keys, key)]
        entry = self._entries.pop(key)
        rule = entry.rule()
        if rule is not None:
            seqs = self._seqs
            del seqs[bisect_left(seqs, key[0])]
            del self._by_seq[key[0]]
            same = self._rules[rule]
            same.remove(key)
            if not same:
                del self._rules[rule]
        for log in self._logs:
            log.append((False, key, entry))

    def checkpoint(self) -> tuple[Callable[[], None], Callable[[], None]]:
        """Record changes from now on: (undo them, newest first; stop recording)."""
        undo: list[tuple[bool, tuple[int, int], AclEntry]] = []
        self._logs.append(undo)

        def close() -> None:
            self._logs[:] = [log for log in self._logs if log is not undo]

        def restore() -> None:
            close()
            for added, key, entry in reversed(undo):
                if added:
                    self._delete(key)
                else:
                    self._insert(key, entry)
            undo.clear()

        return restore, close


@dataclass
class AccessList:
    """A numbered or named, standard or extended IP access list."""

    name: str
    extended: bool
    numbered: bool
    entries: AclEntries = field(default_factory=AclEntries)

    def __post_init__(self) -> None:
        if not isinstance(self.entries, AclEntries):  # a plain list of entries
            self.entries = AclEntries(self.entries)

    def next_seq(self) -> int:
        """The sequence number of an entry added without one: the next multiple of 10 after
        the last entry's. Remarks take none of their own: a remark is filed under the number
        of the entry that follows it."""
        return (self.entries.last_seq // 10 + 1) * 10


@dataclass
class UserAccount:
    """``username NAME [privilege N] secret|password ...``."""

    name: str
    privilege: int | None
    secret: str | None = None  # type 5 hash
    password: str | None = None  # cleartext (rendered as type 7 under password-encryption)
    password_type7: str | None = None  # typed already encrypted


@dataclass(slots=True)
class LineConfig:
    """``line con 0``, ``line aux 0`` or ``line vty 0 4``."""

    kind: str  # "con", "aux", "vty"
    first: int
    last: int
    password: str | None = None
    password_type7: str | None = None
    login: str | None = None  # None, "login" or "local"
    transport_input: tuple[str, ...] | None = None
    exec_timeout: tuple[int, int] | None = None
    logging_synchronous: bool = False


#: Syslog severity levels, by number (``logging buffered 6`` is ``informational``).
SEVERITY_NAMES = ("emergencies", "alerts", "critical", "errors", "warnings", "notifications",
                  "informational", "debugging")
_SEVERITY = re.compile(r"%[^\s:]*?-([0-7])-")


def message_severity(message: str) -> int:
    """The severity of a syslog message ``%FAC-SEV-MNEMONIC: text`` (5 if it names none)."""
    m = _SEVERITY.search(message)
    return int(m.group(1)) if m else 5


class LogLines:
    """The logging buffer's lines, oldest first: a deque's ``append``/``popleft``/``[i]``.

    A list and the index of its first live line rather than a deque: every router buffers
    a few messages, and a deque costs 760 bytes however few it holds (a list of ten, 150).
    Lines taken off the front are cut off the list once they are half of it, so a
    ``popleft`` stays O(1) amortised. No ``__dict__``: a command's checkpoint
    (``iosim.config.checkpoint``) leaves the buffer alone, as it left the deque.
    """

    __slots__ = ("_lines", "_first")

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._first = 0  # _lines[:_first] were taken off

    def __len__(self) -> int:
        return len(self._lines) - self._first

    def __iter__(self) -> Iterator[str]:
        return islice(self._lines, self._first, None)

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._lines[self._first + index]

    def append(self, line: str) -> None:
        self._lines.append(line)

    def popleft(self) -> str:
        """Take the oldest line off."""
        if not len(self):
            raise IndexError("pop from an empty buffer")
        line = self._lines[self._first]
        self._first += 1
        if self._first * 2 >= len(self._lines):
            del self._lines[:self._first]
            self._first = 0
        return line

    def clear(self) -> None:
        self._lines.clear()
        self._first = 0


@dataclass
class LoggingConfig:
    """``logging buffered|console|monitor|trap|host``, and what was logged since boot.

    A level is the highest severity number sent to that destination (7: debugging).  The
    counters and the buffer are runtime state (``show logging``), not configuration; a
    reload starts them afresh with the new running-config.
    """

    buffered: bool = True
    buffer_size: int = 4096
    buffer_level: int = 7
    console: bool = True
    console_level: int = 7
    monitor: bool = True
    monitor_level: int = 7
    trap_level: int = 6
    hosts: list[IPv4Address] = field(default_factory=list)
    console_count: int = field(default=0, compare=False)
    buffer_count: int = field(default=0, compare=False)
    trap_count: int = field(default=0, compare=False)
    host_counts: dict[IPv4Address, int] = field(default_factory=dict, compare=False)
    buffer: LogLines = field(default_factory=LogLines, compare=False, repr=False)
    buffer_bytes: int = field(default=0, compare=False)
    buffer_wrapped: bool = field(default=False, compare=False)

    def message(self, line: str, severity: int) -> bool:
        """Count a logged ``line`` and buffer it; whether the console shows it."""
        if self.buffered and severity <= self.buffer_level:
            self.buffer_count += 1
            self.buffer.append(line)
            self.buffer_bytes += len(line) + 1
            # keep only the messages the last buffer_size bytes still hold (even in part)
            while self.buffer and self.buffer_bytes - len(self.buffer[0]) - 1 >= self.buffer_size:
                self.buffer_bytes -= len(self.buffer.popleft()) + 1
                self.buffer_wrapped = True
        if severity <= self.trap_level:
            self.trap_count += 1
            for host in self.hosts:
                self.host_counts[host] = self.host_counts.get(host, 0) + 1
        if self.console and severity <= self.console_level:
            self.console_count += 1
            return True
        return False

    def clear_buffer(self) -> None:
        """``clear logging``, or a new buffer size: the buffer starts empty."""
        self.buffer.clear()
        self.buffer_bytes = 0
        self.buffer_wrapped = False


def prefix_mask(length: int) -> int:
    """The netmask of a prefix length, as an integer."""
    return (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF


class AddressIndex:
    """The networks of the interface addresses, by prefix length, for IOS's overlap check.

    Kept up to date by ``RunningConfig.reindex_interface`` whenever an interface's addresses
    change, so that checking a new address costs one look-up per prefix length in use rather
    than a pass over every interface.
    """

    def __init__(self) -> None:
        # the names on a network: a tuple (nearly always of one), a quarter of a set's size
        self._by_len: dict[int, dict[int, tuple[str, ...]]] = {}
        self._of: dict[str, list[tuple[int, int]]] = {}

    def replace(self, name: str, networks: list[tuple[int, int]]) -> None:
        """Set the (network, prefix length) list of interface ``name``."""
        for net, length in self._of.pop(name, []):
            nets = self._by_len[length]
            names = tuple(n for n in nets[net] if n != name)
            if names:
                nets[net] = names
            else:
                del nets[net]
        for net, length in networks:
            nets = self._by_len.setdefault(length, {})
            names = nets.get(net, ())
            if name not in names:
                nets[net] = (*names, name)
        if networks:
            self._of[name] = networks

    def overlapping(self, address: int, length: int) -> list[str]:
        """Interfaces with a network that overlaps ``address/length``."""
        out: list[str] = []
        for other_len, nets in self._by_len.items():
            if other_len <= length:
                out.extend(nets.get(address & prefix_mask(other_len), ()))
            else:
                mask = prefix_mask(length)
                want = address & mask
                out.extend(n for net, names in nets.items() if net & mask == want
                           for n in names)
        return out


@dataclass
class RunningConfig:
    """Everything ``show running-config`` shows, as data."""

    hostname: str = "Router"
    version: str = "15.8"
    service_password_encryption: bool = False
    service_pad: bool = False  # IOS 15's default: off, not listed
    timestamps_debug_msec: bool = True
    timestamps_log_msec: bool = True
    enable_secret: str | None = None  # type 5 hash
    enable_password: str | None = None
    enable_password_type7: str | None = None
    aaa_new_model: bool = False
    domain_lookup: bool = True
    domain_name: str | None = None
    ip_cef: bool = True
    http_server: bool = False
    http_secure_server: bool = False
    users: dict[str, UserAccount] = field(default_factory=dict)
    interfaces: dict[str, InterfaceConfig] = field(default_factory=dict)
    null0: NullInterfaceConfig = field(default_factory=NullInterfaceConfig)
    static_routes: dict[tuple[object, ...], StaticRoute] = field(default_factory=dict)
    acls: dict[str, AccessList] = field(default_factory=dict)
    banner_exec: str | None = None
    banner_login: str | None = None
    banner_motd: str | None = None
    lines: list[LineConfig] = field(
        default_factory=lambda: [LineConfig("con", 0, 0), LineConfig("aux", 0, 0),
                                 LineConfig("vty", 0, 4, login="login",
                                            transport_input=("none",))]
    )
    features: dict[str, Any] = field(default_factory=dict)  # crypto, nat, ... by feature
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    address_index: AddressIndex = field(default_factory=AddressIndex, repr=False,
                                        compare=False)

    def reindex_interface(self, name: str) -> None:
        """Record the current addresses of interface ``name`` (or its removal)."""
        intf = self.interfaces.get(name)
        pairs = []
        if intf is not None:
            if intf.address is not None and intf.mask is not None:
                pairs.append((intf.address, intf.mask))
            pairs.extend(intf.secondaries)
        networks = []
        for addr, mask in pairs:
            length = bin(int(mask)).count("1")
            networks.append((int(addr) & prefix_mask(length), length))
        self.address_index.replace(name, networks)

    def rebuild_indexes(self) -> None:
        """Index every interface's addresses afresh (after a failed command was undone)."""
        self.address_index = AddressIndex()
        for name in self.interfaces:
            self.reindex_interface(name)

    def sorted_routes(self) -> list[StaticRoute]:
        """Static routes in the order IOS lists them: by prefix, then mask."""
        return sorted(self.static_routes.values(),
                      key=lambda r: (int(r.prefix), int(r.mask), r.interface or "",
                                     int(r.next_hop or 0)))

    def sorted_interfaces(self) -> list[InterfaceConfig]:
        return sorted(self.interfaces.values(), key=lambda i: interface_sort_key(i.name))

    def acl(self, name: str) -> AccessList | None:
        return self.acls.get(name)
