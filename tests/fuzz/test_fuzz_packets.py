"""Fuzz: mutated packets into a live router with a tunnel up never raise, and the tunnel and
the router keep working afterwards.

The frames to mutate are real ones captured on the R1-ISP link while the seed's VPN came up
and carried pings (ARP, IKE main and quick mode, ESP, ICMP); each example flips, cuts or
extends one of them and hands it to R2's outside interface as if the ISP had sent it.
"""

from __future__ import annotations

from budget import FUZZ
from hypothesis import given
from hypothesis import strategies as st
from labkit import configure_seed
from mutation import apply_edits, deliver, edits

from iosim.lab.console import Lab, LabConsole


def _live_lab() -> tuple[LabConsole, list[bytes]]:
    console = LabConsole(Lab.load("site-to-site", memory=True), paging=False)
    console.feed("enable")
    console.lab.fabric.capture()
    configure_seed(console)
    console.feed("@R1")
    assert ".!!!!" in console.feed("ping 10.0.2.10 source 192.168.1.1")
    link = console.lab.fabric.link_of("ISP", "GigabitEthernet0/1")
    assert link is not None
    frames = [frame for _, frame in link.captured]
    console.lab.fabric.capture(False)
    return console, frames


CONSOLE, FRAMES = _live_lab()


@st.composite
def mutated_frame(draw: st.DrawFn) -> bytes:
    return apply_edits(draw(st.sampled_from(FRAMES)), draw(edits()))


@FUZZ
@given(frames=st.lists(mutated_frame(), min_size=1, max_size=20))
def test_mutated_frames_into_a_live_router_never_raise(frames: list[bytes]) -> None:
    deliver(CONSOLE, frames)


def test_after_the_fuzzing_the_tunnel_still_carries_traffic() -> None:
    deliver(CONSOLE, FRAMES, 5)  # replays too: each dropped and counted, not a crash
    CONSOLE.feed("@R1")
    out = CONSOLE.feed("ping 10.0.2.10 source 192.168.1.1")
    assert "Success rate is 100 percent" in out or "!!!!" in out, out
