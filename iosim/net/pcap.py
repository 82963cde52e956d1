"""Classic libpcap capture files: an atomic writer and a strict reader.

File layout (https://www.tcpdump.org/manpages/pcap-savefile.5.html, little-endian here)::

    global header (24 octets)
      magic 0xA1B2C3D4 (microsecond stamps) or 0xA1B23C4D (nanosecond stamps)
      version_major 2 | version_minor 4 | thiszone 0 | sigfigs 0 | snaplen | linktype
    per record (16 octets + data)
      ts_sec | ts_usec (or ts_nsec) | incl_len | orig_len | incl_len octets of packet data

Supported link types: ``LINKTYPE_ETHERNET`` (1, frames from the MAC header on, no FCS) and
``LINKTYPE_RAW`` (101, bare IPv4 datagrams).

The writer never leaves a torn file behind: records stream into a temporary file in the
destination directory, and only :meth:`PcapWriter.close` flushes, ``fsync``\\ s and
``os.replace``\\ s it over the destination. Until then an older capture at that path stays
intact; if the writer is abandoned (an exception inside ``with``, or :meth:`PcapWriter.abort`)
the temporary file is deleted. Timestamps are virtual-clock seconds (floats) plus an optional
``epoch`` offset, so captures can carry realistic dates.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

__all__ = [
    "LINKTYPE_ETHERNET",
    "LINKTYPE_RAW",
    "PcapError",
    "PcapFile",
    "PcapRecord",
    "PcapWriter",
    "parse_pcap",
    "pcap_bytes",
    "read_pcap",
    "write_pcap",
]

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
SUPPORTED_LINKTYPES = frozenset({LINKTYPE_ETHERNET, LINKTYPE_RAW})

DEFAULT_SNAPLEN = 262144
MAGIC_MICROSECONDS = 0xA1B2C3D4
MAGIC_NANOSECONDS = 0xA1B23C4D

_GLOBAL = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")
_SCALE = {MAGIC_MICROSECONDS: 1_000_000, MAGIC_NANOSECONDS: 1_000_000_000}


class PcapError(ValueError):
    """A capture file that cannot be read, or a record that cannot be written."""


@dataclass(frozen=True, slots=True)
class PcapRecord:
    """One captured packet: when, the stored bytes, and its length before snapping."""

    timestamp: float
    data: bytes
    original_length: int


@dataclass(frozen=True, slots=True)
class PcapFile:
    """A decoded capture: its link type, snap length, stamp resolution and records."""

    linktype: int
    snaplen: int
    nanosecond: bool
    records: tuple[PcapRecord, ...]


def _global_header(linktype: int, snaplen: int, nanosecond: bool) -> bytes:
    if linktype not in SUPPORTED_LINKTYPES:
        raise PcapError(f"unsupported link type {linktype}")
    if not 0 < snaplen <= 0xFFFFFFFF:
        raise PcapError(f"bad snap length {snaplen}")
    magic = MAGIC_NANOSECONDS if nanosecond else MAGIC_MICROSECONDS
    return _GLOBAL.pack(magic, 2, 4, 0, 0, snaplen, linktype)


def _record(timestamp: float, data: bytes, snaplen: int, scale: int, epoch: float = 0.0) -> bytes:
    if not (math.isfinite(timestamp) and math.isfinite(epoch)):
        raise PcapError(f"bad timestamp {timestamp!r} (epoch {epoch!r})")
    # Scaled separately: a float epoch near 1.7e9 would swallow sub-microsecond digits.
    ticks = round(timestamp * scale) + round(epoch * scale)
    if ticks < 0:
        raise PcapError(f"bad timestamp {timestamp!r} (epoch {epoch!r}) before 1970")
    seconds, fraction = divmod(ticks, scale)
    if seconds > 0xFFFFFFFF:
        raise PcapError(f"timestamp {timestamp!r} beyond the year 2106")
    stored = data[:snaplen]
    return _RECORD.pack(seconds, fraction, len(stored), len(data)) + stored


def pcap_bytes(
    records: Iterable[tuple[float, bytes]],
    linktype: int = LINKTYPE_ETHERNET,
    snaplen: int = DEFAULT_SNAPLEN,
    nanosecond: bool = False,
) -> bytes:
    """A whole capture file in memory, from ``(timestamp, packet bytes)`` pairs."""
    scale = _SCALE[MAGIC_NANOSECONDS if nanosecond else MAGIC_MICROSECONDS]
    parts = [_global_header(linktype, snaplen, nanosecond)]
    parts.extend(_record(ts, bytes(data), snaplen, scale) for ts, data in records)
    return b"".join(parts)


class PcapWriter:
    """Writes a capture file atomically (see the module docstring). Use as a context manager.

    ``epoch`` is added to every timestamp. Packets longer than ``snaplen`` are truncated in
    the file, with their original length recorded.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        linktype: int = LINKTYPE_ETHERNET,
        snaplen: int = DEFAULT_SNAPLEN,
        nanosecond: bool = False,
        epoch: float = 0.0,
    ) -> None:
        header = _global_header(linktype, snaplen, nanosecond)
        self.path = Path(path)
        self.linktype = linktype
        self.snaplen = snaplen
        self.epoch = epoch
        self.count = 0
        self._scale = _SCALE[MAGIC_NANOSECONDS if nanosecond else MAGIC_MICROSECONDS]
        fd, temp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".pcap.tmp", dir=self.path.parent
        )
        self._temp = Path(temp)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._file.write(header)  # buffered: reaches the disk in close()

    @property
    def closed(self) -> bool:
        """True after :meth:`close` or :meth:`abort`."""
        return self._file is None

    def write(self, timestamp: float, data: bytes) -> None:
        """Append one packet captured at virtual time ``timestamp``."""
        if self._file is None:
            raise PcapError("capture already closed")
        record = _record(timestamp, bytes(data), self.snaplen, self._scale, self.epoch)
        self._file.write(record)
        self.count += 1

    def close(self) -> None:
        """Make the capture visible at ``path``: flush, fsync, rename over it (idempotent)."""
        if self._file is None:
            return
        file, self._file = self._file, None
        try:
            file.flush()
            os.fsync(file.fileno())
            file.close()
            os.replace(self._temp, self.path)
        except BaseException:
            file.close()
            self._temp.unlink(missing_ok=True)
            raise
        _fsync_directory(self.path.parent)

    def abort(self) -> None:
        """Discard everything written; the destination is left as it was (idempotent)."""
        if self._file is not None:
            file, self._file = self._file, None
            file.close()
        self._temp.unlink(missing_ok=True)

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _fsync_directory(directory: Path) -> None:
    """Persist the rename itself; not possible on every platform, so best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_pcap(
    path: str | os.PathLike[str],
    records: Iterable[tuple[float, bytes]],
    linktype: int = LINKTYPE_ETHERNET,
    snaplen: int = DEFAULT_SNAPLEN,
    nanosecond: bool = False,
) -> int:
    """Write ``(timestamp, bytes)`` records to ``path`` atomically; return how many."""
    with PcapWriter(path, linktype, snaplen, nanosecond) as writer:
        for timestamp, data in records:
            writer.write(timestamp, data)
        return writer.count


def parse_pcap(data: bytes) -> PcapFile:
    """Decode a classic pcap file (either byte order, micro- or nanosecond stamps)."""
    if len(data) < _GLOBAL.size:
        raise PcapError(f"pcap file too short for its header: {len(data)} bytes")
    (magic,) = struct.unpack_from("<I", data)
    order = "<"
    if magic not in _SCALE:
        (magic,) = struct.unpack_from(">I", data)
        order = ">"
        if magic not in _SCALE:
            raise PcapError(f"not a classic pcap file (magic {data[:4].hex()})")
    scale = _SCALE[magic]
    header = struct.Struct(order + "IHHiIII")
    record = struct.Struct(order + "IIII")
    _, major, minor, _, _, snaplen, linktype = header.unpack_from(data)
    if (major, minor) != (2, 4):
        raise PcapError(f"unsupported pcap version {major}.{minor}")
    records = []
    offset = header.size
    while offset < len(data):
        if offset + record.size > len(data):
            raise PcapError(f"truncated record header at offset {offset}")
        seconds, fraction, incl_len, orig_len = record.unpack_from(data, offset)
        offset += record.size
        if fraction >= scale:
            raise PcapError(f"bad sub-second stamp {fraction} at offset {offset}")
        if incl_len > orig_len or incl_len > snaplen:
            raise PcapError(f"record length {incl_len} exceeds orig_len/snaplen")
        if offset + incl_len > len(data):
            raise PcapError(f"truncated record data at offset {offset}")
        stamp = seconds + fraction / scale
        records.append(PcapRecord(stamp, data[offset : offset + incl_len], orig_len))
        offset += incl_len
    return PcapFile(linktype, snaplen, magic == MAGIC_NANOSECONDS, tuple(records))


def read_pcap(path: str | os.PathLike[str]) -> PcapFile:
    """Read and decode a classic pcap file."""
    return parse_pcap(Path(path).read_bytes())
