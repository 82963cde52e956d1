"""Fuzz: whole console scripts (IOS lines, iosim's @ lines, mutations, raw text) never raise.

The corpus is every line iosim's own scripts type: the transcript tests' inputs and the labs'
solutions. A script mixes corpus lines, mutated ones, @ commands with odd arguments and
arbitrary text (control characters and non-ASCII included), on several devices.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from budget import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from iosim.lab.console import Lab, LabConsole, run_transcript
from iosim.lab.topology import builtin_labs

_TESTS = Path(__file__).resolve().parent.parent
INTERNAL = "% iosim: internal error"


def _corpus() -> list[str]:
    lines: set[str] = set()
    for path in sorted(_TESTS.glob("**/transcripts/*.in")):
        lines.update(line.rstrip("\n") for line in path.read_text().splitlines())
    for toml in builtin_labs():
        for solution in sorted((toml.parent / "solution").glob("*.cfg")):
            lines.update(solution.read_text().splitlines())
    return sorted(line for line in lines if line.strip() and "{{" not in line)


CORPUS = _corpus()
AT_LINES = ["@R1", "@R2", "@ISP", "@PC1", "@PC2", "@devices", "@task", "@topology", "@check",
            "@reset", "@reset R2", "@reset PC1", "@reset nobody", "@solution", "@solution R2",
            "@submit", "@time", "@help", "@", "@ ", "@wait", "@wait 0", "@wait 30", "@wait -1",
            "@wait nan", "@wait inf", "@wait 1e12", "@wait 1e400", "@wait 3600", "@wait 0x10",
            "@wait 1_000", "@keys", "@R1 extra", "@@", "@wait 31536001"]
WORDS = st.sampled_from(sorted({w for line in CORPUS for w in line.split()}
                               | {"?", "|", "!", "\x1a", "\x00", "\t", "ñ", "\u2028", "\x0b"}))


@st.composite
def mutated(draw: st.DrawFn) -> str:
    words = draw(st.sampled_from(CORPUS)).split()
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(words)))
        op = draw(st.integers(0, 2))
        if op == 0:
            words.insert(i, draw(WORDS))
        elif words:
            j = min(i, len(words) - 1)
            if op == 1:
                words.pop(j)
            else:
                words[j] = words[j][: draw(st.integers(1, max(1, len(words[j]))))]
    return " ".join(words)


LINES = st.one_of(st.sampled_from(CORPUS), mutated(), st.sampled_from(AT_LINES),
                  st.text(max_size=60), st.lists(WORDS, max_size=6).map(" ".join))
SCRIPTS = st.lists(LINES, min_size=1, max_size=40)


@FUZZ
@given(script=SCRIPTS, privileged=st.booleans())
def test_console_scripts_never_raise(script: list[str], privileged: bool) -> None:
    console = LabConsole(Lab.load("site-to-site", memory=True), paging=False)
    if privileged:
        console.feed("enable")
    for line in script:
        out = console.feed(line)
        assert INTERNAL not in out, (line, out)  # the session turns a crash into this line
        assert isinstance(console.prompt, str)


@FUZZ
@given(script=SCRIPTS)
def test_a_piped_transcript_never_raises(script: list[str]) -> None:
    console = LabConsole(Lab.load("site-to-site", memory=True), paging=True)
    out = StringIO()
    run_transcript(console, [line + "\n" for line in script], out)
    assert out.getvalue() and INTERNAL not in out.getvalue()
