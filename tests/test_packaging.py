"""What a wheel of iosim carries: every package of the source tree, the grammar, the labs."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setuptools() -> dict[str, object]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        tool: dict[str, object] = tomllib.load(f)["tool"]["setuptools"]
    return tool


def test_every_package_of_the_source_tree_is_installed() -> None:
    """A package missing from the list works from a checkout and is absent from a wheel."""
    listed = set(_setuptools()["packages"])  # type: ignore[call-overload]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for p in (ROOT / "iosim").rglob("__init__.py")}
    assert on_disk - listed == set()
    assert {"iosim.grammar", "iosim.labs"} <= listed


def test_the_labs_and_grammar_files_are_package_data() -> None:
    data = _setuptools()["package-data"]
    assert data == {"iosim.grammar": ["*.lark"], "iosim.labs": ["*.md", "*/*", "*/*/*"]}
    # every lab file sits at a depth those patterns reach
    deepest = max(len(p.relative_to(ROOT / "labs").parts)
                  for p in (ROOT / "labs").rglob("*") if p.is_file())
    assert deepest <= 3
