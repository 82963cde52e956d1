"""Lab variables: values a seed draws per student, and ``{{name}}`` in a lab's texts.

A parameterised lab declares its variables in ``lab.toml``::

    [variables]
    key    = { kind = "word", default = "SECRETKEY123" }
    lan1   = { kind = "subnet", within = "192.168.0.0/16", prefix = 24,
               default = "192.168.1.0/24" }
    policy = { kind = "number", low = 1, high = 1000, default = 10 }
    cipher = { kind = "choice", choices = ["aes 256", "aes 192"], default = "aes 256" }

Every text of the lab (task, topology drawing, configs, solutions, steps, objectives, host
addresses) may then say ``{{key}}`` or ``{{lan1.1}}``. Without a seed every variable takes
its ``default``, so the plain lab reads as written; with ``--seed WORD`` each variable is drawn
from a SHA-256 stream of the lab's name, the seed and the variable's name, the same on every
machine and every Python version, so the grader that knows the seed knows the lab. Subnets
drawn in one lab never overlap each other.

What ``{{name.attr}}`` gives for a subnet ``10.0.2.0/24``:

==============  =================
``{{n}}``       ``10.0.2.0/24``
``network``     ``10.0.2.0``
``mask``        ``255.255.255.0``
``wildcard``    ``0.0.0.255``
``prefixlen``   ``24``
``broadcast``   ``10.0.2.255``
``K`` (digits)  the K-th address: ``{{n.1}}`` is ``10.0.2.1``
==============  =================
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Network

from iosim.lab.schema import LabError, Table

#: ``{{ name }}`` or ``{{ name.attr }}`` in a lab text.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z0-9_]+))?\s*\}\}")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
_WORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
_MAX_VARIABLES = 64
_MAX_DRAWS = 1000  # attempts to draw a subnet that overlaps none drawn before
#: Longest text a substitution may make (values are short; a text full of them is not)
MAX_TEXT = 4 * 1024 * 1024


@dataclass(frozen=True)
class Subnet:
    """A drawn subnet; ``str()`` is its CIDR text."""

    network: IPv4Network

    def __str__(self) -> str:
        return str(self.network)

    def attribute(self, attr: str) -> str | None:
        net = self.network
        if attr.isascii() and attr.isdigit() and len(attr) <= 10:
            index = int(attr)
            return str(net.network_address + index) if index < net.num_addresses else None
        table: dict[str, Callable[[], object]] = {
            "network": lambda: net.network_address,
            "mask": lambda: net.netmask,
            "wildcard": lambda: net.hostmask,
            "prefixlen": lambda: net.prefixlen,
            "broadcast": lambda: net.broadcast_address,
            "cidr": lambda: net,
        }
        get = table.get(attr)
        return None if get is None else str(get())


Value = str | int | Subnet


class _Stream:
    """Deterministic integers from SHA-256(label || counter): no dependence on ``random``."""

    def __init__(self, label: str) -> None:
        self._label = label.encode("utf-8", "surrogatepass")
        self._counter = 0

    def below(self, n: int) -> int:
        """A number in ``[0, n)``."""
        self._counter += 1
        digest = hashlib.sha256(self._label + self._counter.to_bytes(8, "big")).digest()
        return int.from_bytes(digest, "big") % n


@dataclass(frozen=True)
class Variable:
    """One declared variable: how to draw it and its default."""

    name: str
    kind: str
    default: Value
    choices: tuple[str, ...] = ()
    low: int = 0
    high: int = 0
    length: int = 0
    within: IPv4Network | None = None
    prefix: int = 0

    def draw(self, stream: _Stream, taken: list[IPv4Network]) -> Value:
        if self.kind == "choice":
            return self.choices[stream.below(len(self.choices))]
        if self.kind == "number":
            return self.low + stream.below(self.high - self.low + 1)
        if self.kind == "word":
            return "".join(_WORD_ALPHABET[stream.below(len(_WORD_ALPHABET))]
                           for _ in range(self.length))
        assert self.within is not None
        count = 1 << (self.prefix - self.within.prefixlen)
        size = 1 << (32 - self.prefix)
        base = int(self.within.network_address)
        for _ in range(_MAX_DRAWS):
            net = IPv4Network((base + stream.below(count) * size, self.prefix))
            if not any(net.overlaps(t) for t in taken):
                return Subnet(net)
        raise LabError(f"variables.{self.name}: no free /{self.prefix} left in "
                       f"{self.within} for this seed")


def _subnet(text: str, where: str) -> IPv4Network:
    try:
        return IPv4Network(text)
    except ValueError as e:
        raise LabError(f"{where}: {e}") from None


def _parse_variable(name: str, spec: Table) -> Variable:
    kind = spec.choice("kind", ("word", "number", "choice", "subnet"), "word")
    if kind == "word":
        spec.unknown({"kind", "default", "length"})
        default = spec.text("default", required=True, max_len=64)
        length = spec.integer("length", default=min(64, max(8, len(default))), low=4, high=64)
        return Variable(name, kind, default, length=length)
    if kind == "number":
        spec.unknown({"kind", "default", "low", "high"})
        low = spec.integer("low", low=0, high=2**32)
        high = spec.integer("high", low=low, high=2**32)
        number = spec.integer("default", low=low, high=high)
        return Variable(name, kind, number, low=low, high=high)
    if kind == "choice":
        spec.unknown({"kind", "default", "choices"})
        choices = tuple(spec.text_list("choices", required=True, max_len=64))
        if not choices:
            raise spec.error("choices", "needs at least one value")
        default = spec.text("default", choices[0])
        if default not in choices:
            raise spec.error("default", f"{default!r} is not one of the choices")
        return Variable(name, kind, default, choices=choices)
    spec.unknown({"kind", "default", "within", "prefix"})
    within = _subnet(spec.text("within", required=True), f"{spec.where}.within")
    prefix = spec.integer("prefix", low=max(within.prefixlen, 8), high=30)
    net = _subnet(spec.text("default", required=True), f"{spec.where}.default")
    if net.prefixlen != prefix or not net.subnet_of(within):
        raise spec.error("default", f"{net} must be a /{prefix} inside {within}")
    return Variable(name, kind, Subnet(net), within=within, prefix=prefix)


def parse_variables(table: Table) -> list[Variable]:
    """The ``[variables]`` table, in declaration order. Subnet defaults may not overlap (the
    seeded draws never do, and a lab must load the same with and without a seed)."""
    names = table.keys()
    if len(names) > _MAX_VARIABLES:
        raise LabError(f"{table.where}: more than {_MAX_VARIABLES} variables")
    out: list[Variable] = []
    for name in names:
        if not _VAR_NAME.fullmatch(name):
            raise table.error(name, "a variable name is letters, digits and '_' "
                                    "(at most 32, not starting with a digit)")
        var = _parse_variable(name, table.table(name))
        if isinstance(var.default, Subnet):
            for other in out:
                if (isinstance(other.default, Subnet)
                        and other.default.network.overlaps(var.default.network)):
                    raise table.error(name, f"default {var.default} overlaps the default of "
                                            f"{other.name} ({other.default})")
        out.append(var)
    return out


def draw(variables: list[Variable], lab: str, seed: str, where: str = "") -> dict[str, Value]:
    """Every variable's value for ``seed`` ("" = the defaults)."""
    if not seed:
        return {v.name: v.default for v in variables}
    taken: list[IPv4Network] = []
    values: dict[str, Value] = {}
    for var in variables:
        try:
            value = var.draw(_Stream(f"{lab}\x00{seed}\x00{var.name}"), taken)
        except LabError as e:
            raise LabError(f"{where}: {e}" if where else str(e)) from None
        if isinstance(value, Subnet):
            taken.append(value.network)
        values[var.name] = value
    return values


class Substitution:
    """Replaces ``{{name}}`` and ``{{name.attr}}`` in texts with drawn values."""

    def __init__(self, values: dict[str, Value]) -> None:
        self.values = values

    def __call__(self, text: str, where: str) -> str:
        """``text`` with every placeholder replaced; an unknown name or attribute is a
        LabError naming ``where`` and the line."""
        if "{{" not in text:
            return text

        def replace(m: re.Match[str]) -> str:
            name, attr = m.group(1), m.group(2)
            value = self.values.get(name)
            result: str | None
            if value is None:
                result = None
            elif attr is None:
                result = str(value)
            elif isinstance(value, Subnet):
                result = value.attribute(attr)
            else:
                result = None
            if result is None:
                line = text.count("\n", 0, m.start()) + 1
                what = f"{{{{{name}}}}}" if attr is None else f"{{{{{name}.{attr}}}}}"
                known = ", ".join(sorted(self.values)) or "none declared"
                raise LabError(f"{where}, line {line}: unknown variable {what} "
                               f"(variables: {known})")
            return result

        result = PLACEHOLDER.sub(replace, text)
        if len(result) > MAX_TEXT:
            raise LabError(f"{where}: longer than {MAX_TEXT} characters once its variables "
                           "are filled in")
        return result
