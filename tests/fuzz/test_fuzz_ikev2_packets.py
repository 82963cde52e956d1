"""Fuzz: mutated IKEv2 and ESP packets into a live router whose IKEv2 tunnel is up never
raise, and the tunnel keeps working afterwards.

The frames to mutate are real ones captured on the ISP-R2 link while the IKEv2 site-to-site
lab (``labs/ikev2-site-to-site``, its solution typed) came up, rekeyed its CHILD_SA and its
IKE SA, and carried pings: IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA and INFORMATIONAL
messages, ESP, ARP, ICMP. Each example flips, cuts or extends some of them and hands them to
R2's outside interface as if the ISP had sent them; a part of them is IKEv2 with its header
kept, so that the mutations reach the payload codec and the Encrypted payload.
"""

from __future__ import annotations

from budget import FUZZ
from hypothesis import given
from hypothesis import strategies as st
from mutation import apply_edits, deliver, edits

from iosim.lab.console import Lab, LabConsole

SHORT = ("set security-association lifetime seconds 120", "lifetime 120")


def _configure(console: LabConsole, device: str, text: str) -> None:
    console.feed(f"@{device}")
    console.feed("enable")
    console.feed("configure terminal")
    for line in text.splitlines():
        out = console.feed(line)
        assert "%" not in out or "NOTE" in out or "ISAKMP is ON" in out, (line, out)
        if line.startswith("crypto map "):
            console.feed(" " + SHORT[0])  # rekeys in the capture
        if line.startswith("crypto ikev2 profile "):
            console.feed(" " + SHORT[1])
    console.feed("end")


def _live_lab() -> tuple[LabConsole, list[bytes]]:
    lab = Lab.load("ikev2-site-to-site", memory=True)
    console = LabConsole(lab, paging=False)
    for device, text in lab.resolved.solutions.items():
        _configure(console, device, text)
    lab.fabric.capture()
    console.feed("@R1")
    assert ".!!!!" in console.feed("ping 10.0.2.10 source 192.168.1.1")
    console.feed("@wait 110")  # CREATE_CHILD_SA for the pair and for the IKE SA
    assert "!!!!!" in console.feed("ping 10.0.2.10 source 192.168.1.1")
    link = lab.fabric.link_of("ISP", "GigabitEthernet0/1")
    assert link is not None
    frames = [frame for _, frame in link.captured]
    lab.fabric.capture(False)
    ike = [f for f in frames if len(f) > 70 and f[36:38] in (b"\x01\xf4", b"\x11\x94")]
    assert len(ike) >= 8, len(ike)  # the four of the first SA, the rekeys, the Deletes
    return console, frames


CONSOLE, FRAMES = _live_lab()
#: where IKEv2's header starts in a frame: Ethernet 14 + IPv4 20 + UDP 8 (+ 4 on UDP 4500)
_IKE_AT = {b"\x01\xf4": 42, b"\x11\x94": 46}


@st.composite
def mutated_frame(draw: st.DrawFn) -> bytes:
    frame = draw(st.sampled_from(FRAMES))
    keep = _IKE_AT.get(frame[36:38], 0) + 28 if draw(st.booleans()) else 0
    return apply_edits(frame, draw(edits()), keep)


@FUZZ
@given(frames=st.lists(mutated_frame(), min_size=1, max_size=20))
def test_mutated_ikev2_frames_into_a_live_router_never_raise(frames: list[bytes]) -> None:
    deliver(CONSOLE, frames)


def test_after_the_fuzzing_the_ikev2_tunnel_still_carries_traffic() -> None:
    deliver(CONSOLE, FRAMES, 5)  # replays too: each dropped and counted, not a crash
    CONSOLE.feed("@R1")
    out = CONSOLE.feed("ping 10.0.2.10 source 192.168.1.1")
    assert "Success rate is 100 percent" in out or "!!!!" in out, out
    CONSOLE.feed("@R2")
    assert "READY" in CONSOLE.feed("show crypto ikev2 sa")
    dropped = CONSOLE.feed("show crypto ikev2 stats").split("dropped at dispatch:")[1].split()[0]
    assert int(dropped) > 0  # the mutations reached the IKEv2 codec and were refused there
