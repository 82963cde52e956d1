"""Transcript tests: each ``transcripts/X.in`` fed to the console must print ``X.out``.

The expected outputs were checked line by line against the IOS captures in
``shared/reference/ios`` (caret columns, blank lines, message wording).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from transcript import transcript

HERE = Path(__file__).parent / "transcripts"
CASES = sorted(p.stem for p in HERE.glob("*.in"))


@pytest.mark.parametrize("name", CASES)
def test_transcript(name: str, tmp_path: Path) -> None:
    text = (HERE / f"{name}.in").read_text()
    paging = name.startswith("paging")
    got = transcript(text, tmp_path, paging=paging)
    expected = (HERE / f"{name}.out").read_text()
    assert got == expected
