"""The telnet protocol (RFC 854) as a vty speaks it: bytes in, data and replies out.

Theory of operation
-------------------
A :class:`TelnetCodec` is sans-IO: :meth:`TelnetCodec.receive` takes what arrived on the
connection and returns a :class:`TelnetInput`, the user's data with every command taken
out, what to send back, and the window size the client reported. IOS opens a vty with
``WILL ECHO``, ``WILL SUPPRESS-GO-AHEAD`` and ``DO NAWS`` (:data:`GREETING`): the router
echoes what is typed, and the client reports its window (RFC 1073), which sets the
session's terminal width and length. A ``DONT ECHO`` is answered ``WONT ECHO``, as IOS's
``debug telnet`` shows it doing, yet the vty goes on echoing, as IOS's does: automation
clients built on Python's telnetlib refuse every option (netmiko sends ``DONT ECHO``) and
still wait for each command's echo.

Options are negotiated as RFC 1143 says, so that no exchange can loop: a request for the
state an option is already in gets no answer, a request for an option the vty does not
speak is refused once, and further requests for it are ignored. A subnegotiation longer
than any the vty needs is dropped as it arrives, so a flood of options or a never-ending
``SB`` costs a bounded amount of memory and output. ``IAC IAC`` is a data byte 255, and
:func:`escape` doubles the 255s the router sends.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GREETING", "TelnetCodec", "TelnetInput", "escape"]

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
NOP, DM, BRK, IP, AO, AYT, EC, EL, GA = 241, 242, 243, 244, 245, 246, 247, 248, 249
ECHO, SGA, NAWS, TTYPE = 1, 3, 31, 24

#: What a vty sends first: it will echo and suppress go-ahead, and asks for the window size.
GREETING = bytes((IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, NAWS))
#: The options the vty offers itself (WILL) and accepts from the client (DO asked of it).
_OURS = frozenset((ECHO, SGA))
_THEIRS = frozenset((NAWS, SGA))
#: The longest subnegotiation kept (NAWS needs 5 bytes, more with doubled 255s).
_SB_MAX = 64
#: ``IAC IP`` (interrupt process) and ``IAC BRK``: the data byte a vty takes them as.
_INTERRUPT = {IP: b"\x03", BRK: b"\x03", EC: b"\x08", EL: b"\x15"}


@dataclass(frozen=True)
class TelnetInput:
    """What one chunk of received bytes meant."""

    data: bytes  # the user's bytes, commands removed
    replies: bytes  # negotiation answers to send back
    window: tuple[int, int] | None = None  # (width, height) from NAWS, if it came


def escape(data: bytes) -> bytes:
    """Data for the wire: each byte 255 doubled."""
    return data.replace(b"\xff", b"\xff\xff")


class TelnetCodec:
    """One connection's telnet state (see the module docstring)."""

    def __init__(self) -> None:
        self._state = "data"  # data, iac, option, sb, sb_iac
        self._verb = 0
        self._sb = bytearray()
        self._sb_overflow = False
        # RFC 1143: what each side agreed to; refused options are answered once
        self.us: set[int] = set(_OURS)  # assumed on from the greeting
        self.him: set[int] = set()
        self._asked = {NAWS}  # DO NAWS was sent
        self._refused: set[tuple[int, int]] = set()

    def receive(self, chunk: bytes) -> TelnetInput:
        """Split ``chunk`` into data, replies and a window size."""
        data = bytearray()
        replies = bytearray()
        window: tuple[int, int] | None = None
        for b in chunk:
            state = self._state
            if state == "data":
                if b == IAC:
                    self._state = "iac"
                else:
                    data.append(b)
            elif state == "iac":
                self._state = "data"
                if b == IAC:
                    data.append(IAC)
                elif b in (WILL, WONT, DO, DONT):
                    self._verb, self._state = b, "option"
                elif b == SB:
                    self._sb.clear()
                    self._sb_overflow = False
                    self._state = "sb"
                else:
                    data += _INTERRUPT.get(b, b"")
            elif state == "option":
                self._state = "data"
                replies += self._negotiate(self._verb, b)
            elif state == "sb":
                if b == IAC:
                    self._state = "sb_iac"
                elif len(self._sb) < _SB_MAX:
                    self._sb.append(b)
                else:
                    self._sb_overflow = True
            else:  # sb_iac
                if b == SE:
                    self._state = "data"
                    if not self._sb_overflow:
                        window = _naws(bytes(self._sb)) or window
                    self._sb.clear()
                elif b == IAC and len(self._sb) < _SB_MAX:
                    self._sb.append(IAC)
                    self._state = "sb"
                else:
                    self._state = "sb"
        return TelnetInput(bytes(data), bytes(replies), window)

    def _negotiate(self, verb: int, option: int) -> bytes:
        """The answer to ``IAC verb option`` (empty when none is due)."""
        if verb == DO:
            if option in _OURS:
                if option in self.us:
                    return b""
                self.us.add(option)
                return bytes((IAC, WILL, option))
            return self._refuse(WONT, option)
        if verb == DONT:
            if option in self.us:
                self.us.discard(option)
                return bytes((IAC, WONT, option))
            return b""
        if verb == WILL:
            if option in _THEIRS:
                if option in self.him:
                    return b""
                self.him.add(option)
                if option in self._asked:  # the answer to our DO: nothing more to say
                    return b""
                return bytes((IAC, DO, option))
            return self._refuse(DONT, option)
        # WONT
        if option in self.him:
            self.him.discard(option)
            return bytes((IAC, DONT, option))
        return b""

    def _refuse(self, verb: int, option: int) -> bytes:
        if (verb, option) in self._refused:
            return b""
        self._refused.add((verb, option))
        return bytes((IAC, verb, option))


def _naws(sb: bytes) -> tuple[int, int] | None:
    """(width, height) of an ``SB NAWS w w h h`` subnegotiation."""
    if len(sb) != 5 or sb[0] != NAWS:
        return None
    return int.from_bytes(sb[1:3], "big"), int.from_bytes(sb[3:5], "big")
