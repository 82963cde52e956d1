"""The line a vty user is typing: IOS's editing keys, echo and line ends, sans-IO.

:meth:`LineEditor.key` takes one byte as it arrived and returns what to echo and what the
key asks of the session, as a :class:`Key` (``enter``, ``help``, ``complete``, ``interrupt``
...). The vty (:mod:`iosim.serve.vty`) runs those against its session.

Line ends are what terminals send: CR, CR LF, CR NUL (telnet's bare carriage return) or a
lone LF each end one line. Backspace and DEL erase a character (a whole UTF-8 sequence),
Ctrl-U the line, Ctrl-W a word; Up/Down (or Ctrl-P/Ctrl-N) recall the history. The cursor
stays at the end of the line (Left and Right are ignored). A line
longer than :data:`MAX_LINE` bytes takes no more characters (the terminal's bell rings),
so no input can grow it without bound. Other control characters are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_LINE", "Key", "LineEditor"]

#: The longest line a vty keeps (bytes); IOS's own limit is of this order.
MAX_LINE = 4096
_BELL = b"\x07"
_ERASE = b"\b \b"
#: Control keys and what they ask of the session.
_CONTROL = {0x03: "interrupt", 0x1a: "end", 0x09: "complete", 0x10: "up", 0x0e: "down",
            0x04: "", 0x1e: "escape"}
#: The final byte of an arrow key's escape sequence (ESC [ A or ESC O A).
_ARROWS = {ord("A"): "up", ord("B"): "down", ord("C"): "", ord("D"): ""}
_ESCAPE_MAX = 8


@dataclass(frozen=True)
class Key:
    """What one byte did: the bytes to echo, and the request for the session ("" none)."""

    echo: bytes = b""
    action: str = ""


class LineEditor:
    """One vty's line being typed (see the module docstring)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.echo = True  # False while a password is typed
        self._after_cr = False
        self._escape: bytearray | None = None  # an ESC sequence being read

    @property
    def text(self) -> bytes:
        return bytes(self.buf)

    def replace(self, text: bytes) -> bytes:
        """Put ``text`` in place of the line (history recall); returns the echo."""
        out = _ERASE * _width(self.buf) + text if self.echo else b""
        self.buf[:] = text[:MAX_LINE]
        return out

    def take(self) -> bytes:
        """The line typed, and a fresh one to type."""
        line = bytes(self.buf)
        self.buf.clear()
        return line

    def key(self, b: int) -> Key:
        """One byte typed."""
        if self._escape is not None:
            return self._escape_key(b)
        if self.ends_line_end(b):
            return Key()
        if b in (0x0D, 0x0A):
            return Key(action="enter")
        if b == 0x1B:
            self._escape = bytearray()
            return Key()
        if b in (0x08, 0x7F):
            return Key(self._erase_char())
        if b == 0x15:
            return Key(self._erase(len(self.buf)))
        if b == 0x17:
            return Key(self._erase_word())
        if b in _CONTROL:
            return Key(action=_CONTROL[b])
        if b < 0x20:
            return Key()
        if b == ord("?"):
            return Key(action="help")
        if len(self.buf) >= MAX_LINE:
            return Key(_BELL if self.echo else b"")
        self.buf.append(b)
        return Key(bytes((b,)) if self.echo else b"")

    def ends_line_end(self, b: int) -> bool:
        """Whether ``b`` is the LF or NUL of a CR LF or CR NUL whose CR came just before
        (then it is part of that line end, not a key of its own).

        Every byte typed must pass here once, in order: :meth:`key` does it, and the vty
        does it for the bytes that answer ``--More--`` instead, so a command's CR and its
        LF make one Return wherever each of them lands."""
        after_cr, self._after_cr = self._after_cr, b == 0x0D
        return after_cr and b in (0x0A, 0x00)

    def _escape_key(self, b: int) -> Key:
        seq = self._escape
        assert seq is not None
        if not seq:
            if b in (ord("["), ord("O")):
                seq.append(b)
                return Key()
            self._escape = None
            return Key()
        if 0x40 <= b <= 0x7E or len(seq) >= _ESCAPE_MAX:  # the sequence's final byte
            self._escape = None
            return Key(action=_ARROWS.get(b, "")) if len(seq) == 1 else Key()
        seq.append(b)
        return Key()

    def _erase(self, n: int) -> bytes:
        """Erase the last ``n`` bytes of the line; the echo that does it on the screen."""
        gone = self.buf[len(self.buf) - n:]
        del self.buf[len(self.buf) - n:]
        return _ERASE * _width(gone) if self.echo else b""

    def _erase_char(self) -> bytes:
        if not self.buf:
            return b""
        n = 1
        while n < len(self.buf) and 0x80 <= self.buf[-n] < 0xC0:  # a UTF-8 continuation
            n += 1
        return self._erase(n)

    def _erase_word(self) -> bytes:
        end = len(self.buf)
        while end and self.buf[end - 1] == 0x20:
            end -= 1
        while end and self.buf[end - 1] != 0x20:
            end -= 1
        return self._erase(len(self.buf) - end)


def _width(text: bytes | bytearray) -> int:
    """Columns ``text`` takes on a terminal (one per character, not per UTF-8 byte)."""
    return sum(1 for b in text if not 0x80 <= b < 0xC0)
