"""One log segment: `<base>.log` with its sparse `.index` and `.timeindex`.

Batches are appended with os.write on an unbuffered descriptor, so an acknowledged write
is in the kernel's page cache and survives the broker process being killed; `flush()`
(fsync) is what makes it survive the machine. Indexes are kept in memory for lookups and
appended to their files as Kafka lays them out (.index: relative offset i32 + position
i32; .timeindex: timestamp i64 + relative offset i32), so an operator recognises them.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import struct
from collections.abc import Callable
from pathlib import Path

from fjord.protocol.records import (
    HEADER_SIZE,
    LAST_OFFSET_DELTA_OFFSET,
    LOG_OVERHEAD,
    CorruptBatch,
    read_header,
    verify_crc,
)

_INDEX_ENTRY = struct.Struct(">ii")
_TIME_ENTRY = struct.Struct(">qi")
_BATCH_LEN = struct.Struct(">qi")
_LAST_DELTA = struct.Struct(">i")
# position_of reads a batch header only as far as its last offset delta.
_THROUGH_LAST_DELTA = LAST_OFFSET_DELTA_OFFSET + _LAST_DELTA.size


IOV_LIMIT = 512
RELATIVE_LIMIT = 2**31 - 1
DELETED = ".deleted"  # index entries hold offsets relative to the base as int32


def segment_name(base_offset: int) -> str:
    return f"{base_offset:020d}"


class Segment:
    def __init__(self, directory: Path, base_offset: int, index_interval: int) -> None:
        self.directory = directory
        self.base_offset = base_offset
        self.index_interval = index_interval
        stem = segment_name(base_offset)
        self.log_path = directory / f"{stem}.log"
        self.index_path = directory / f"{stem}.index"
        self.time_path = directory / f"{stem}.timeindex"
        self.fd = os.open(self.log_path, os.O_RDWR | os.O_CREAT, 0o644)
        self.size = os.fstat(self.fd).st_size
        self.next_offset = base_offset
        self.max_timestamp = -1
        self.first_batch_time = -1  # for segment.ms: the first batch's max timestamp
        self.index_offsets: list[int] = []
        self.index_positions: list[int] = []
        self.time_stamps: list[int] = []
        self.time_offsets: list[int] = []
        self._bytes_since_index = 0
        self._index_fd = -1
        self._time_fd = -1
        self._index_broken = False

    # --- lifecycle ----------------------------------------------------------------------

    def recover(self) -> int:
        """Scan every batch, cut a torn or corrupt tail, rebuild the indexes.

        Returns how many bytes were truncated.
        """
        self.index_offsets.clear()
        self.index_positions.clear()
        self.time_stamps.clear()
        self.time_offsets.clear()
        self.max_timestamp = -1
        self.first_batch_time = -1
        self._bytes_since_index = 0
        self.next_offset = self.base_offset
        size = os.fstat(self.fd).st_size
        pos = 0
        while pos < size:
            head = os.pread(self.fd, HEADER_SIZE, pos)
            if len(head) < HEADER_SIZE:
                break
            try:
                header = read_header(head)
            except CorruptBatch:
                break
            if header.length < HEADER_SIZE or pos + header.length > size:
                break
            if header.base_offset < self.next_offset:
                break
            data = os.pread(self.fd, header.length, pos)
            if len(data) != header.length or not verify_crc(data, 0, header):
                break
            self._track(header.base_offset, header.last_offset, header.max_timestamp, pos,
                        header.length, write_files=False)
            pos += header.length
        truncated = size - pos
        if truncated:
            os.ftruncate(self.fd, pos)
        self.size = pos
        self._rewrite_index_files()
        return truncated

    def load_indexes(self, next_offset: int) -> bool:
        """Trust the index files of a cleanly closed segment; False if they are unusable."""
        try:
            raw_index = self.index_path.read_bytes()
            raw_time = self.time_path.read_bytes()
        except FileNotFoundError:
            return False
        if len(raw_index) % _INDEX_ENTRY.size or len(raw_time) % _TIME_ENTRY.size:
            return False
        for rel, position in _INDEX_ENTRY.iter_unpack(raw_index):
            if position > self.size:
                return False
            self.index_offsets.append(self.base_offset + rel)
            self.index_positions.append(position)
        for stamp, rel in _TIME_ENTRY.iter_unpack(raw_time):
            self.time_stamps.append(stamp)
            self.time_offsets.append(self.base_offset + rel)
        self.next_offset = next_offset
        self.max_timestamp = self.time_stamps[-1] if self.time_stamps else -1
        if self.size >= HEADER_SIZE:
            first = read_header(os.pread(self.fd, HEADER_SIZE, 0))
            self.first_batch_time = first.max_timestamp
        return True

    def close(self) -> None:
        for fd in (self.fd, self._index_fd, self._time_fd):
            if fd >= 0:
                os.close(fd)
        self.fd = self._index_fd = self._time_fd = -1

    def delete(self) -> None:
        self.close()
        for path in (self.log_path, self.index_path, self.time_path):
            path.unlink(missing_ok=True)

    def delete_later(self) -> list[Path]:
        """Close and rename the files `<name>.deleted` (Kafka's suffix); returns their paths."""
        self.close()
        renamed = []
        for path in (self.log_path, self.index_path, self.time_path):
            target = path.with_name(path.name + DELETED)
            with contextlib.suppress(FileNotFoundError):
                os.rename(path, target)
                renamed.append(target)
        return renamed

    def flush(self) -> None:
        os.fsync(self.fd)
        for fd in (self._index_fd, self._time_fd):
            if fd >= 0:
                os.fsync(fd)

    def sync_handle(self) -> Callable[[], None]:
        """An fsync that is safe to run in a worker thread: it works on duplicated
        descriptors, so the event loop closing this segment meanwhile (retention, topic
        deletion) can neither break it nor point it at a reused descriptor number."""
        fds = [os.dup(fd) for fd in (self.fd, self._index_fd, self._time_fd) if fd >= 0]

        def sync() -> None:
            try:
                for fd in fds:
                    os.fsync(fd)
            finally:
                for fd in fds:
                    os.close(fd)

        return sync

    def close_indexes(self) -> None:
        """A rolled segment no longer appends to its index files: keep only the log open."""
        for fd in (self._index_fd, self._time_fd):
            if fd >= 0:
                os.close(fd)
        self._index_fd = self._time_fd = -1

    # --- writing ------------------------------------------------------------------------

    def append(self, pieces: list[bytes | bytearray | memoryview], length: int, first_offset: int,
               last_offset: int, max_timestamp: int) -> None:
        """Write at the end; on any failure the file is cut back so no partial batch remains."""
        position = self.size
        if len(pieces) > IOV_LIMIT:  # writev takes at most IOV_MAX buffers
            pieces = [b"".join(pieces)]
        try:
            written = os.pwritev(self.fd, pieces, position)
            if written != length:
                raise OSError(28, f"short write ({written} of {length} bytes)")
            self._track(first_offset, last_offset, max_timestamp, position, length, write_files=True)
        except BaseException:
            os.ftruncate(self.fd, position)
            raise
        self.size = position + length

    def _track(self, first_offset: int, last_offset: int, max_timestamp: int, position: int,
               length: int, write_files: bool) -> None:
        if self.first_batch_time < 0:
            self.first_batch_time = max_timestamp
        if not self.index_offsets or self._bytes_since_index >= self.index_interval:
            self.index_offsets.append(first_offset)
            self.index_positions.append(position)
            if write_files:
                self._write_index(first_offset, position)
            self._bytes_since_index = 0
        self._bytes_since_index += length
        if max_timestamp > self.max_timestamp:
            self.max_timestamp = max_timestamp
            self.time_stamps.append(max_timestamp)
            self.time_offsets.append(last_offset)
            if write_files:
                self._write_time(max_timestamp, last_offset)
        self.next_offset = last_offset + 1

    def _index_file(self) -> int:
        if self._index_fd < 0:
            self._index_fd = os.open(self.index_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        return self._index_fd

    def _time_file(self) -> int:
        if self._time_fd < 0:
            self._time_fd = os.open(self.time_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        return self._time_fd

    def _write_index(self, offset: int, position: int) -> None:
        if not self._index_broken:
            self._index_write(self._index_file, _INDEX_ENTRY.pack(offset - self.base_offset, position))

    def _write_time(self, stamp: int, offset: int) -> None:
        if not self._index_broken:
            self._index_write(self._time_file, _TIME_ENTRY.pack(stamp, offset - self.base_offset))

    def _index_write(self, opener: Callable[[], int], entry: bytes) -> None:
        """Index files are derived data: if one cannot be written (full disk), drop both so
        the next start rebuilds them from the log, and keep serving from memory."""
        try:
            if os.write(opener(), entry) == len(entry):
                return
        except OSError:
            pass
        self._index_broken = True
        for path in (self.index_path, self.time_path):
            with contextlib.suppress(OSError):
                path.unlink()

    def _rewrite_index_files(self) -> None:
        for fd in (self._index_fd, self._time_fd):
            if fd >= 0:
                os.close(fd)
        self._index_fd = self._time_fd = -1
        index = b"".join(
            _INDEX_ENTRY.pack(off - self.base_offset, pos)
            for off, pos in zip(self.index_offsets, self.index_positions, strict=True)
        )
        times = b"".join(
            _TIME_ENTRY.pack(stamp, off - self.base_offset)
            for stamp, off in zip(self.time_stamps, self.time_offsets, strict=True)
        )
        try:
            for path, content in ((self.index_path, index), (self.time_path, times)):
                if content:
                    path.write_bytes(content)
                else:  # an empty index is no file at all: it appears with its first entry
                    path.unlink(missing_ok=True)
        except OSError:
            self._index_broken = True  # rebuilt again at the next start

    def index_full(self, max_bytes: int) -> bool:
        """Whether another entry would take the .index or .timeindex past max_bytes."""
        return (len(self.index_offsets) + 1) * _INDEX_ENTRY.size > max_bytes or \
            (len(self.time_stamps) + 1) * _TIME_ENTRY.size > max_bytes

    # --- reading ------------------------------------------------------------------------

    def position_of(self, offset: int) -> int:
        """File position of the batch holding `offset` (or the first after it); size if none."""
        slot = bisect.bisect_right(self.index_offsets, offset) - 1
        pos = self.index_positions[slot] if slot >= 0 else 0
        while pos < self.size:
            head = os.pread(self.fd, _THROUGH_LAST_DELTA, pos)
            if len(head) < _THROUGH_LAST_DELTA:
                break
            base, length = _BATCH_LEN.unpack_from(head, 0)
            (delta,) = _LAST_DELTA.unpack_from(head, LAST_OFFSET_DELTA_OFFSET)
            if base + delta >= offset:
                return pos
            pos += length + LOG_OVERHEAD
        return self.size

    def read(self, position: int, max_bytes: int) -> bytes:
        return os.pread(self.fd, max(0, min(max_bytes, self.size - position)), position)

    def offset_for_time(self, timestamp: int) -> int | None:
        """An offset at or before the first batch whose max timestamp reaches `timestamp`."""
        slot = bisect.bisect_left(self.time_stamps, timestamp)
        if slot >= len(self.time_stamps):
            return None
        # The batch that raised the max to time_stamps[slot] ends at time_offsets[slot];
        # earlier batches of the segment may hold it too, so start at the prior entry.
        return self.time_offsets[slot - 1] + 1 if slot > 0 else self.base_offset

    def iter_headers(self, start: int = 0):  # type: ignore[no-untyped-def]
        """(position, header) of each batch from a file position."""
        pos = start
        while pos < self.size:
            head = os.pread(self.fd, HEADER_SIZE, pos)
            if len(head) < HEADER_SIZE:
                return
            header = read_header(head)
            yield pos, header
            pos += header.length
