"""What one remote segment is made of (KIP-405's LogSegmentData), captured from a rolled
local segment.

Two objects per segment, so that a copy costs two PUTs however many index files Kafka has:
`<base>-<id>.log` (the segment's bytes, exactly as on disk) and `<base>-<id>.indexes`, the
concatenation of the offset index and time index (Kafka's binary layouts), the transaction
index (Kafka's .txnindex layout: version, producer id, first, last, last stable offset) and
the producer-state snapshot. Where each section sits is recorded in the segment's metadata.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

import crc32c

_INDEX_ENTRY = struct.Struct(">ii")
_TIME_ENTRY = struct.Struct(">qi")
_TXN_ENTRY = struct.Struct(">hqqqq")

OFFSET_INDEX, TIME_INDEX, TXN_INDEX, PRODUCER_SNAPSHOT = "offset", "time", "txn", "producers"


@dataclass
class LogSegmentData:
    """A rolled segment's contents, taken on the event loop (cheap: a duplicated descriptor
    and copies of the in-memory indexes) and uploaded from a worker thread."""

    base_offset: int
    end_offset: int
    max_timestamp: int
    size: int
    fd: int  # a duplicate of the segment's descriptor, owned by this object
    index_offsets: list[int]
    index_positions: list[int]
    time_stamps: list[int]
    time_offsets: list[int]
    aborted: list[tuple[int, int, int]]  # (producer id, first offset, last offset)
    producer_snapshot: bytes

    def log_file(self) -> BinaryIO:
        """The segment's bytes as a file to stream from (a rolled segment no longer grows);
        the descriptor is a duplicate, so retention deleting the segment meanwhile cannot
        change what is read."""
        file = os.fdopen(os.dup(self.fd), "rb", closefd=True)
        file.seek(0)
        return file

    def log_crc(self) -> int:
        """CRC32C of the segment's bytes, read in pieces (never the whole segment at once)."""
        crc = 0
        position = 0
        while position < self.size:
            chunk = os.pread(self.fd, min(8 << 20, self.size - position), position)
            if not chunk:
                raise OSError(f"segment {self.base_offset} is shorter than {self.size} bytes")
            crc = crc32c.crc32c(chunk, crc)
            position += len(chunk)
        return crc

    def indexes(self) -> tuple[bytes, dict[str, list[int]]]:
        """The indexes object and its sections {name: [offset, length]}."""
        base = self.base_offset
        parts = {
            OFFSET_INDEX: b"".join(_INDEX_ENTRY.pack(o - base, p)
                                   for o, p in zip(self.index_offsets, self.index_positions, strict=True)),
            TIME_INDEX: b"".join(_TIME_ENTRY.pack(t, o - base)
                                 for t, o in zip(self.time_stamps, self.time_offsets, strict=True)),
            TXN_INDEX: b"".join(_TXN_ENTRY.pack(0, pid, first, last, last + 1)
                                for pid, first, last in self.aborted),
            PRODUCER_SNAPSHOT: self.producer_snapshot,
        }
        sections: dict[str, list[int]] = {}
        position = 0
        for name, blob in parts.items():
            sections[name] = [position, len(blob)]
            position += len(blob)
        return b"".join(parts.values()), sections

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@dataclass
class RemoteIndexes:
    """A remote segment's parsed indexes, cached by the reader."""

    offsets: list[int]
    positions: list[int]
    time_stamps: list[int]
    time_offsets: list[int]
    aborted: list[tuple[int, int, int]]


def parse_indexes(blob: bytes, sections: dict[str, list[int]], base_offset: int) -> RemoteIndexes:
    def section(name: str) -> bytes:
        start, length = sections.get(name, [0, 0])
        return blob[start:start + length]

    offsets, positions, stamps, time_offsets = [], [], [], []
    for rel, position in _INDEX_ENTRY.iter_unpack(section(OFFSET_INDEX)):
        offsets.append(base_offset + rel)
        positions.append(position)
    for stamp, rel in _TIME_ENTRY.iter_unpack(section(TIME_INDEX)):
        stamps.append(stamp)
        time_offsets.append(base_offset + rel)
    aborted = [(pid, first, last)
               for _version, pid, first, last, _lso in _TXN_ENTRY.iter_unpack(section(TXN_INDEX))]
    return RemoteIndexes(offsets, positions, stamps, time_offsets, aborted)
