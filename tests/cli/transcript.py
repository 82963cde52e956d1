"""Run a console transcript in-process: the site-to-site lab, a private NVRAM."""

from __future__ import annotations

import io
from pathlib import Path

from iosim.lab.console import Lab, LabConsole, run_transcript


def transcript(text: str, nvram_dir: Path, lab: str | None = None, device: str | None = None,
               paging: bool = False) -> str:
    console = LabConsole(Lab.load(lab, nvram_dir=nvram_dir), device, paging=paging)
    out = io.StringIO()
    run_transcript(console, io.StringIO(text), out)
    return out.getvalue()
