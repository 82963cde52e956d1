"""Console transcripts: each ``transcripts/NAME.in`` typed on the site-to-site lab must print
exactly ``transcripts/NAME.out`` (checked line by line against the IOS references)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from iosim.lab.console import Lab, LabConsole, run_transcript

HERE = Path(__file__).parent / "transcripts"
CASES = sorted(p.stem for p in HERE.glob("*.in"))


def run(name: str, nvram: Path) -> str:
    """The transcript of ``NAME.in`` on a freshly booted site-to-site lab."""
    lab = Lab.load("site-to-site", reset=True, nvram_dir=nvram)
    console = LabConsole(lab, paging=False)
    out = io.StringIO()
    lines = (HERE / f"{name}.in").read_text(encoding="utf-8").splitlines()
    run_transcript(console, lines, out)
    return out.getvalue()


@pytest.mark.parametrize("name", CASES)
def test_transcript(name: str, tmp_path: Path) -> None:
    expected = (HERE / f"{name}.out").read_text(encoding="utf-8")
    assert run(name, tmp_path) == expected


if __name__ == "__main__":  # regenerate: python tests/crypto_config/test_crypto_transcripts.py NAME
    import tempfile

    for case in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as d:
            (HERE / f"{case}.out").write_text(run(case, Path(d)), encoding="utf-8")
