"""What a ping prints, as IOS prints it: the header, the marks as each echo ends (70 to a
line), then the ``Success rate`` line. Shared by a router's ping (and its dialog) and a lab
PC's."""

from __future__ import annotations

from collections.abc import Callable

from iosim.net.ping import PingOutcome

MARKS_PER_LINE = 70  # IOS starts a new line of marks after 70


def ping_header(target: str, repeat: int, size: int | str, timeout: int, source: str | None,
                df: bool = False) -> str:
    """What IOS prints before the first echo leaves (``size`` may be a sweep ``[36..135]``)."""
    out = ["Type escape sequence to abort.",
           f"Sending {repeat}, {size}-byte ICMP Echos to {target}, timeout is {timeout} seconds:"]
    if source is not None:
        out.append(f"Packet sent with a source address of {source}")
    if df:
        out.append("Packet sent with the DF bit set")
    return "\n".join(out) + "\n"


def ping_summary(outcome: PingOutcome) -> str:
    """The ``Success rate`` line (an interrupted ping counts the echoes it sent)."""
    rate = (f"Success rate is {outcome.success_rate} percent "
            f"({outcome.received}/{outcome.sent})")
    round_trip = outcome.round_trip()
    if round_trip is not None:
        rate += ", round-trip min/avg/max = {}/{}/{} ms".format(*round_trip)
    return rate + "\n"


def stream_ping(stream: Callable[[str], None] | None, header: str,
                ping: Callable[..., PingOutcome]) -> str:
    """Print ``header`` and each mark as soon as it is known (70 to a line), then the
    summary: ``ping(on_mark=..., keep_marks=False)`` sends the echoes.

    With a ``stream`` (an interactive console) the header and marks are written to it at
    once (nothing waits for the last echo, and nothing is kept per echo) and the summary
    is returned; without one, everything is returned.
    """
    shown: list[str] = []
    emit = stream if stream is not None else shown.append
    emit(header)
    count = 0

    def on_mark(mark: str) -> None:
        nonlocal count
        if count and count % MARKS_PER_LINE == 0:
            emit("\n")
        count += 1
        emit(mark)

    outcome = ping(on_mark=on_mark, keep_marks=False)
    return "".join(shown) + "\n" + ping_summary(outcome)
