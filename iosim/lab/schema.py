"""Reading lab files as untrusted input: typed values, safe names, paths that stay inside.

A lab directory comes from anyone (a classmate, an instructor, the internet). Everything
read from it goes through the functions here, which either return a value of the promised
type or raise :class:`LabError` with one message naming the file and the key, e.g.
``labs/x/lab.toml: links[2].delay_ms: must be a number of milliseconds >= 0, not 'fast'``.
Nothing in a lab file can name a place outside the lab's directory (config files) or outside
the state directory (lab and device names become file names there).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Largest lab file read (a 10,000-spoke hub's lab.toml is about 2 MB).
MAX_FILE_BYTES = 16 * 1024 * 1024
#: Most devices one lab may declare (the 10,000-spoke hub benchmark fits).
MAX_DEVICES = 20_000
#: Deepest nesting of tables and arrays accepted in a lab.toml.
MAX_DEPTH = 16

#: A lab's name: a file name in the state directory, so no separators, no dot-dot.
LAB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: A device's name: also an ``@NAME`` console command and a file name (IOS hostnames start
#: with a letter and hold letters, digits and hyphens).
DEVICE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}")
#: The console's own ``@`` words: no device may be called so (``@check`` must grade).
CONSOLE_WORDS = frozenset({"help", "devices", "wait", "keys", "task", "topology", "check",
                           "reset", "solution", "submit", "time", "concepts", "quit",
                           "exit"})


class LabError(ValueError):
    """A lab file that cannot be loaded; the message says where and why."""


#: Control characters a lab's text may not hold (a hostile lab could drive the student's
#: terminal with escape sequences): C0 but tab, LF and CR; DEL; C1.
_CONTROL = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")


def _control_error(text: str, label: str) -> LabError | None:
    found = _CONTROL.search(text)
    if found is None:
        return None
    line = text.count("\n", 0, found.start()) + 1
    what = "a NUL byte" if found.group() == "\x00" else f"control character {found.group()!r}"
    return LabError(f"{label}: contains {what} (line {line})")


def read_text(path: Path, where: str | None = None) -> str:
    """A lab file's text: UTF-8, no NUL byte, at most :data:`MAX_FILE_BYTES`."""
    label = where or str(path)
    try:
        if not path.is_file():
            raise LabError(f"{label}: not a file")
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise LabError(f"{label}: {e.strerror or e}") from None
    if len(data) > MAX_FILE_BYTES:
        raise LabError(f"{label}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LabError(f"{label}: not UTF-8 text (byte {e.start})") from None
    error = _control_error(text, label)
    if error is not None:
        raise error
    return text


def load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML lab file; syntax errors, bad encodings and deep nesting are LabErrors."""
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        raise LabError(f"{path}: {e}") from None
    _check_depth(data, path, 0)
    return data


def _check_depth(value: object, path: Path, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise LabError(f"{path}: tables and arrays nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, path, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, path, depth + 1)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Table:
    """One TOML table of a lab file, read key by key with types checked.

    ``where`` names the table in messages (``labs/x/lab.toml: devices.R1``); the root table
    of a file is named by the file alone (``Table.root(data, path)``).
    """

    def __init__(self, data: object, where: str, *, root: bool = False) -> None:
        if not isinstance(data, dict):
            raise LabError(f"{where}: must be a table, not {_shown(data)}")
        self.data: dict[str, Any] = data
        self.where = where
        self._prefix = f"{where}: " if root else f"{where}."

    @classmethod
    def root(cls, data: dict[str, Any], path: Path | str) -> Table:
        return cls(data, str(path), root=True)

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def keys(self) -> list[str]:
        return list(self.data)

    def _at(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def error(self, key: str, message: str) -> LabError:
        return LabError(f"{self._at(key)}: {message}")

    def raw(self, key: str, default: object = None) -> object:
        return self.data.get(key, default)

    def table(self, key: str, *, required: bool = False) -> Table:
        if key not in self.data:
            if required:
                raise self.error(key, "missing (a table is required)")
            return Table({}, self._at(key))
        return Table(self.data[key], self._at(key))

    def tables(self, key: str) -> list[Table]:
        """An array of tables (``[[links]]``)."""
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.error(key, f"must be an array of tables, not {_shown(value)}")
        return [Table(item, f"{self._at(key)}[{i}]") for i, item in enumerate(value)]

    def text(self, key: str, default: str | None = None, *, required: bool = False,
            max_len: int = 100_000) -> str:
        if key not in self.data:
            if required or default is None:
                raise self.error(key, "missing (text is required)")
            return default
        value = self.data[key]
        if not isinstance(value, str):
            raise self.error(key, f"must be text, not {_shown(value)}")
        if _CONTROL.search(value):
            raise self.error(key, "contains a control character")
        if len(value) > max_len:
            raise self.error(key, f"longer than {max_len} characters")
        return value


    def integer(self, key: str, default: int | None = None, *, low: int | None = None,
            high: int | None = None) -> int:
        if key not in self.data:
            if default is None:
                raise self.error(key, "missing (a whole number is required)")
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, not {_shown(value)}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.error(key, f"must be between {low} and {high}, not {value}")
        return value

    def number(self, key: str, default: float, *, low: float = 0.0,
               high: float = math.inf, what: str = "a number") -> float:
        """A finite number in ``[low, high]`` (int or float)."""
        if key not in self.data:
            return default
        value = self.data[key]
        ok = (not isinstance(value, bool) and isinstance(value, int | float)
              and math.isfinite(value) and low <= value <= high)
        if not ok:
            bound = f">= {low:g}" if high == math.inf else f"between {low:g} and {high:g}"
            raise self.error(key, f"must be {what} {bound}, not {_shown(value)}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {_shown(value)}")
        return value

    def text_list(self, key: str, *, required: bool = False, max_len: int = 200,
                  max_items: int = 100) -> list[str]:
        if key not in self.data:
            if required:
                raise self.error(key, "missing (a list of texts is required)")
            return []
        value = self.data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"must be a list of texts, not {_shown(value)}")
        if len(value) > max_items:
            raise self.error(key, f"more than {max_items} items")
        for item in value:
            if _CONTROL.search(item):
                raise self.error(key, "contains a control character")
            if len(item) > max_len:
                raise self.error(key, f"an item is longer than {max_len} characters")
        return list(value)

    def choice(self, key: str, choices: Mapping[str, object] | tuple[str, ...],
               default: str) -> str:
        value = self.text(key, default)
        if value not in choices:
            listed = ", ".join(repr(c) for c in choices)
            raise self.error(key, f"must be one of {listed}, not {_shown(value)}")
        return value

    def unknown(self, known: set[str] | frozenset[str]) -> None:
        """Refuse keys nobody reads (a typo would otherwise be silently ignored)."""
        for key in self.data:
            if key not in known:
                raise self.error(key, "unknown key (known: " + ", ".join(sorted(known)) + ")")


def check_name(text: str, pattern: re.Pattern[str], where: str, what: str) -> str:
    """``text`` if it is a safe lab or device name, else a LabError that says what is."""
    if pattern is DEVICE_NAME and text.lower() in CONSOLE_WORDS:
        raise LabError(f"{where}: {what} {text!r} is taken by the console's @{text.lower()}")
    if not pattern.fullmatch(text):
        rule = ("letters, digits, '-' and '_', starting with a letter or digit"
                if pattern is LAB_NAME else
                "letters, digits, '-' and '_', starting with a letter")
        raise LabError(f"{where}: {what} {_shown(text)} is not allowed ({rule}; "
                       "at most 64 characters)")
    return text


def inside(directory: Path, relative: str, where: str) -> Path:
    """``directory / relative`` if it names a file inside ``directory`` (symlinks resolved),
    else a LabError: a lab cannot make iosim read ``/etc/passwd`` or ``../../secret``."""
    if not relative or "\x00" in relative:
        raise LabError(f"{where}: a file name is required")
    candidate = Path(relative)
    if candidate.is_absolute():
        raise LabError(f"{where}: {_shown(relative)} must be a file inside the lab's "
                       "directory, not an absolute path")
    base = directory.resolve()
    target = (base / candidate).resolve()
    if target != base and base not in target.parents:
        raise LabError(f"{where}: {_shown(relative)} lies outside the lab's directory")
    return target
