"""Fuzz: mutated GRE and ESP-protected GRE into a router whose tunnels are up never raise,
and the tunnels keep their line protocol and carry traffic afterwards.

The frames to mutate are real ones captured on R1's outside link while a GRE tunnel with a
key and keepalives, and a GRE tunnel protected by IPsec, carried pings (ARP, GRE with its
keepalives, IKE, ESP); each example flips, cuts or extends one of them and hands it to R2's
outside interface as if the ISP had sent it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from budget import FUZZ
from hypothesis import given
from hypothesis import strategies as st
from labkit import marks, run
from mutation import Edit, apply_edits, deliver, edits
from tunnelkit import PING, tunnel_lab

from iosim.lab.console import LabConsole

KEYED = "tunnel key 4711\nkeepalive 2 3"


def _live(tmp: Path, *, protect: bool) -> tuple[LabConsole, list[bytes]]:
    extra = "" if protect else KEYED
    c = tunnel_lab(tmp, protect=protect, capture=True, r1=extra, r2=extra)
    assert marks(run(c, "@wait 5\n" + PING + "\n" + PING)) == ["!!!!!", "!!!!!"]
    link = c.lab.fabric.link_of("R1", "GigabitEthernet0/0")
    assert link is not None
    frames = [frame for _, frame in link.captured]
    c.lab.fabric.capture(False)
    return c, frames


@pytest.fixture(scope="module")
def labs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[LabConsole, list[bytes]]]:
    return {"gre": _live(tmp_path_factory.mktemp("gre"), protect=False),
            "protected": _live(tmp_path_factory.mktemp("protected"), protect=True)}


@st.composite
def mutation(draw: st.DrawFn) -> tuple[int, list[Edit]]:
    """Which captured frame (an index into the list) and the edits to make to it."""
    return draw(st.integers(0, 10_000)), draw(edits())


def _mutate(frames: list[bytes], m: tuple[int, list[Edit]]) -> bytes:
    index, changes = m
    return apply_edits(frames[index % len(frames)], changes)


@FUZZ
@given(which=st.sampled_from(["gre", "protected"]),
       mutations=st.lists(mutation(), min_size=1, max_size=20))
def test_mutated_tunnel_frames_never_raise(
        labs: dict[str, tuple[LabConsole, list[bytes]]], which: str,
        mutations: list[tuple[int, list[tuple[int, int, int, bytes]]]]) -> None:
    c, frames = labs[which]
    deliver(c, [_mutate(frames, m) for m in mutations])


def test_after_the_fuzzing_the_tunnels_still_carry_traffic(
        labs: dict[str, tuple[LabConsole, list[bytes]]]) -> None:
    for c, frames in labs.values():
        deliver(c, frames)  # replays too: dropped and counted, never a crash
        c.lab.clock.advance(5)
        assert c.lab.routers["R2"].interface_up("Tunnel0") == ("up", "up")
        assert marks(run(c, "@R1\n" + PING)) == ["!!!!!"]
