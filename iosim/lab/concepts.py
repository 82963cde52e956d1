"""The IPsec concepts the labs refer to (``labs/concepts.md``), by section number.

A lab's task and hints say "Concepts 7.1"; ``@concepts 7.1`` at the console and ``iosim lab
concepts 7.1`` print that section (a whole section with its subsections for ``7``), ``@concepts``
alone the list of sections.
"""

from __future__ import annotations

import re
from functools import lru_cache

from iosim.lab.topology import labs_dir

_HEADING = re.compile(r"^(#{2,3}) (\d+(?:\.\d+)?) (.+)$", re.MULTILINE)


@lru_cache(maxsize=1)
def _sections() -> dict[str, tuple[str, str]]:
    """Section number -> (title, text with its heading)."""
    text = (labs_dir() / "concepts.md").read_text(encoding="utf-8")
    marks = list(_HEADING.finditer(text))
    out: dict[str, tuple[str, str]] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out[m.group(2)] = (m.group(3), text[m.start():end].rstrip() + "\n")
    return out


def contents() -> str:
    """The numbered list of sections."""
    rows = [f"  {number:<5} {title}" if "." not in number else f"    {number:<5} {title}"
            for number, (title, _) in _sections().items()]
    return "IPsec concepts (@concepts N prints section N):\n" + "\n".join(rows) + "\n"


def section(number: str) -> str | None:
    """Section ``number`` (``7`` with 7.1-7.3), or None if there is none."""
    sections = _sections()
    if number not in sections:
        return None
    parts = [sections[number][1]]
    if "." not in number:
        parts += [text for n, (_, text) in sections.items() if n.startswith(number + ".")]
    return "\n".join(parts)


def everything() -> str:
    return (labs_dir() / "concepts.md").read_text(encoding="utf-8")
