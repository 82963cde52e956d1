"""Served labs on loopback, one per test that asks."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from servekit import served  # noqa: E402

from iosim.serve.server import LabServer  # noqa: E402


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LabServer]:
    """The site-to-site lab, served."""
    with served("site-to-site", tmp_path / "nvram") as srv:
        yield srv
