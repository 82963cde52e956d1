"""The parameters of a lab's checks: typed, validated when the lab loads, never trusted.

Each check declares its parameters as :class:`Param` rows; :func:`read_params` reads one
objective's table against them. A value that cannot be right (a device the lab lacks, an
address that is not one, a transform IOS does not have, an ISAKMP state that does not exist,
a regular expression that could backtrack for ever) is a :class:`LabError` naming the file and
the key, so a typo in a lab never turns into a wrong grade.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address

from iosim.cli.interfaces import interface_type, match_interface_name
from iosim.lab.schema import Table

Substitute = Callable[[str, str], str]

#: The states ``show crypto isakmp sa`` prints for an IKEv1 SA.
ISAKMP_STATES = ("MM_NO_STATE", "MM_SA_SETUP", "MM_KEY_EXCH", "AG_NO_STATE", "AG_INIT_EXCH",
                 "AG_AUTH", "QM_IDLE")
#: Most repetitions (``*``, ``+``, ``{m,n}``) a lab's regular expression may hold.
MAX_REPEATS = 4


@dataclass(frozen=True)
class Param:
    """One parameter of a check: its kind, whether it must be given, its allowed values."""

    kind: str  # a key of _READERS
    required: bool = False
    low: int = 0
    high: int = 2**32
    choices: tuple[str, ...] = ()


def _texts(spec: Table, key: str) -> tuple[str, ...]:
    raw = spec.raw(key)
    if isinstance(raw, str):
        return (spec.text(key, max_len=2000),)
    return tuple(spec.text_list(key, max_len=2000))


def _sre_nodes(parsed: object) -> list[tuple[object, object]]:
    return list(parsed)  # type: ignore[call-overload]


def _regex_is_tame(pattern: str) -> bool:
    """Whether ``pattern`` cannot backtrack exponentially: at most :data:`MAX_REPEATS`
    repetitions, none of them around another repetition or an alternation."""
    parser = getattr(re, "_parser", None)
    if parser is None:  # pragma: no cover - CPython has had re._parser since 3.11
        return False
    repeats = {parser.MAX_REPEAT, parser.MIN_REPEAT, getattr(parser, "POSSESSIVE_REPEAT", None)}
    count = 0

    def walk(nodes: object, inside_repeat: bool) -> bool:
        nonlocal count
        for op, av in _sre_nodes(nodes):
            if op in repeats:
                count += 1
                if inside_repeat or count > MAX_REPEATS:
                    return False
                if not walk(av[2], True):  # type: ignore[index]
                    return False
            elif op is parser.BRANCH:
                if inside_repeat:
                    return False
                if not all(walk(b, inside_repeat) for b in av[1]):  # type: ignore[index]
                    return False
            elif op is parser.SUBPATTERN:
                if not walk(av[-1], inside_repeat):  # type: ignore[index]
                    return False
            elif op in (parser.ASSERT, parser.ASSERT_NOT):
                if not walk(av[1], inside_repeat):  # type: ignore[index]
                    return False
        return True

    try:
        return walk(parser.parse(pattern), False)
    except (re.error, OverflowError, RecursionError, ValueError):
        return False


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


def _read_router(spec: Table, key: str, p: Param, devices: Mapping[str, str],
                 sub: Substitute) -> object:
    name = spec.text(key, max_len=64)
    kind = devices.get(name)
    if kind is None or (p.kind == "router" and kind != "router"):
        raise spec.error(key, f"no {p.kind} named {name!r} in this lab")
    return name


def _read_devices(spec: Table, key: str, p: Param, devices: Mapping[str, str],
                  sub: Substitute) -> object:
    names = spec.text_list(key, max_len=64)
    for name in names:
        if name not in devices:
            raise spec.error(key, f"no device named {name!r} in this lab")
    return tuple(names)


def _read_address(spec: Table, key: str, p: Param, devices: Mapping[str, str],
                  sub: Substitute) -> object:
    text = sub(spec.text(key, max_len=64), f"{spec.where}.{key}")
    try:
        return int(IPv4Address(text))
    except ValueError:
        raise spec.error(key, f"{text!r} is not an IPv4 address") from None


def _read_tunnel(spec: Table, key: str, p: Param, devices: Mapping[str, str],
                 sub: Substitute) -> object:
    text = sub(spec.text(key, max_len=64), f"{spec.where}.{key}")
    name = match_interface_name(text.strip())
    t = interface_type(name) if name is not None else None
    if name is None or t is None or t.name != "Tunnel":
        raise spec.error(key, f"{text!r} is not a tunnel interface (Tunnel0, Tu1 ...)")
    return name


def _read_text(spec: Table, key: str, p: Param, devices: Mapping[str, str],
               sub: Substitute) -> object:
    text = sub(spec.text(key, max_len=2000), f"{spec.where}.{key}")
    if p.choices and text not in p.choices:
        shown = ", ".join(repr(c) for c in p.choices)
        raise spec.error(key, f"must be one of {shown}, not {text!r}")
    return text


def _read_texts(spec: Table, key: str, p: Param, devices: Mapping[str, str],
                sub: Substitute) -> object:
    return tuple(sub(t, f"{spec.where}.{key}") for t in _texts(spec, key))


def _read_regex(spec: Table, key: str, p: Param, devices: Mapping[str, str],
                sub: Substitute) -> object:
    text = sub(spec.text(key, max_len=500), f"{spec.where}.{key}")
    try:
        compiled = re.compile(text, re.MULTILINE)
    except (re.error, OverflowError, RecursionError) as e:
        raise spec.error(key, f"not a regular expression: {e}") from None
    if not _regex_is_tame(text):
        raise spec.error(key, f"too complex (at most {MAX_REPEATS} repetitions, none around "
                              "another repetition or an alternation)")
    return compiled


def _read_int(spec: Table, key: str, p: Param, devices: Mapping[str, str],
              sub: Substitute) -> object:
    raw = spec.raw(key)
    if isinstance(raw, str):  # "{{group}}": a number drawn per seed
        text = sub(spec.text(key, max_len=64), f"{spec.where}.{key}")
        value = _number(text)
        if value is None or not p.low <= value <= p.high:
            raise spec.error(key, f"must be a whole number between {p.low} and {p.high}, "
                                  f"not {text!r}")
        return value
    return spec.integer(key, low=p.low, high=p.high)


def _read_bool(spec: Table, key: str, p: Param, devices: Mapping[str, str],
               sub: Substitute) -> object:
    return spec.flag(key, False)


_Reader = Callable[[Table, str, Param, Mapping[str, str], Substitute], object]
_READERS: dict[str, _Reader] = {
    "router": _read_router,
    "device": _read_router,
    "devices": _read_devices,
    "address": _read_address,
    "tunnel": _read_tunnel,
    "text": _read_text,
    "texts": _read_texts,
    "regex": _read_regex,
    "int": _read_int,
    "bool": _read_bool,
}


def read_params(params: Mapping[str, Param], check: str, spec: Table,
                devices: Mapping[str, str], sub: Substitute,
                common: frozenset[str]) -> dict[str, object]:
    """The parameters of one objective, typed and checked against ``params``."""
    spec.unknown(common | set(params))
    out: dict[str, object] = {}
    for key, param in params.items():
        if key in spec:
            out[key] = _READERS[param.kind](spec, key, param, devices, sub)
        elif param.required:
            raise spec.error(key, f"missing (the {check} check needs it)")
    return out
