"""How the packet fuzz targets damage a captured frame: a few edits (flip a bit, cut the
tail, insert bytes, overwrite a byte), each at a drawn position; ``keep`` leaves a header
intact so that the damage reaches a deeper layer's parser."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import strategies as st

if TYPE_CHECKING:
    from iosim.lab.console import LabConsole

#: (operation 0-3, position, byte value, bytes to insert)
Edit = tuple[int, int, int, bytes]


@st.composite
def edits(draw: st.DrawFn) -> list[Edit]:
    """One to six edits."""
    return [(draw(st.integers(0, 3)), draw(st.integers(0, 4096)), draw(st.integers(0, 255)),
             draw(st.binary(max_size=64))) for _ in range(draw(st.integers(1, 6)))]


def apply_edits(frame: bytes, changes: list[Edit], keep: int = 0) -> bytes:
    """``frame`` with ``changes`` made after its first ``keep`` bytes (where it has more)."""
    out = bytearray(frame)
    for op, at, value, blob in changes:
        low = min(keep, max(0, len(out) - 1))
        i = low + at % max(1, len(out) - low)
        if op == 0 and out:
            out[min(i, len(out) - 1)] ^= 1 << (value % 8)
        elif op == 1:
            del out[i:]
        elif op == 2:
            out[i:i] = blob
        elif out:
            out[min(i, len(out) - 1)] = value
    return bytes(out)


def deliver(console: LabConsole, frames: list[bytes], seconds: float = 0.5,
            router: str = "R2", interface: str = "GigabitEthernet0/0") -> None:
    """``frames`` arrive at ``router``'s ``interface``, then ``seconds`` of the lab pass."""
    stack = console.lab.routers[router].stack
    assert stack is not None
    for frame in frames:
        stack.receive(interface, frame)
    console.lab.clock.advance(seconds)
