"""Reading record batches out of remote segments: ranged GETs found through the remote offset
index, served through the chunk cache, every batch CRC-checked before it is returned.

Blocking; the broker runs it in the remote reader thread pool, never on the event loop.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass

from fjord.protocol.records import HEADER_SIZE, CorruptBatch, iter_records, read_header, verify_crc
from fjord.storage.remote.chunk_cache import ChunkCache
from fjord.storage.remote.metadata import RemoteLogSegmentMetadata
from fjord.storage.remote.segment_data import RemoteIndexes, parse_indexes
from fjord.storage.remote.storage_manager import CorruptRemoteData, RemoteStorageManager

INDEX_CACHE_ENTRIES = 1024


@dataclass
class RemoteRead:
    data: bytes
    aborted: list[tuple[int, int]]  # (producer id, first offset) overlapping what was read


class _Cursor:
    """Byte ranges of one remote segment, assembled from chunks (cached or fetched).

    Holds only the chunk it read last: a read walks forward through a segment, and keeping
    more would multiply the memory of every concurrent remote read by the chunk size.
    """

    def __init__(self, reader: RemoteReader, meta: RemoteLogSegmentMetadata) -> None:
        self.reader = reader
        self.meta = meta
        self._number = -1
        self._data = b""

    def _chunk(self, number: int) -> bytes:
        if number != self._number:
            self._data = self.reader.chunk(self.meta, number)
            self._number = number
        return self._data

    def read(self, start: int, length: int) -> bytes:
        end = min(start + length, self.meta.segment_size)
        if start >= end:
            return b""
        size = self.reader.chunk_size
        first, last = start // size, (end - 1) // size
        if first == last:
            base = first * size
            return self._chunk(first)[start - base:end - base]
        parts = []
        for number in range(first, last + 1):
            base = number * size
            parts.append(self._chunk(number)[max(start, base) - base:min(end, base + size) - base])
        return b"".join(parts)


class RemoteReader:
    def __init__(self, rsm: RemoteStorageManager, cache: ChunkCache, chunk_size: int) -> None:
        self.rsm = rsm
        self.cache = cache
        self.chunk_size = chunk_size
        self._indexes: OrderedDict[str, RemoteIndexes] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes_fetched = 0  # from the store (cache misses), for RemoteFetchBytes

    # --- building blocks ----------------------------------------------------------------

    def chunk(self, meta: RemoteLogSegmentMetadata, number: int) -> bytes:
        cached = self.cache.get(meta.segment_id, number)
        if cached is not None:
            return cached
        data = self.rsm.fetch_log_range(meta, number * self.chunk_size, self.chunk_size)
        expected = min(self.chunk_size, meta.segment_size - number * self.chunk_size)
        if len(data) != expected:
            raise CorruptRemoteData(f"remote segment {meta.start_offset} of {meta.topic}-"
                                    f"{meta.partition} is {len(data)} bytes short at chunk {number}")
        self.bytes_fetched += len(data)
        self.cache.put(meta.segment_id, number, data)
        return data

    def indexes(self, meta: RemoteLogSegmentMetadata) -> RemoteIndexes:
        with self._lock:
            found = self._indexes.get(meta.segment_id)
            if found is not None:
                self._indexes.move_to_end(meta.segment_id)
                return found
        parsed = parse_indexes(self.rsm.fetch_indexes(meta), meta.sections, meta.start_offset)
        with self._lock:
            self._indexes[meta.segment_id] = parsed
            while len(self._indexes) > INDEX_CACHE_ENTRIES:
                self._indexes.popitem(last=False)
        return parsed

    def forget(self, segment_id: str) -> None:
        with self._lock:
            self._indexes.pop(segment_id, None)
        self.cache.drop(segment_id)

    def _header(self, cursor: _Cursor, position: int):  # type: ignore[no-untyped-def]
        head = cursor.read(position, HEADER_SIZE)
        try:
            header = read_header(head)
        except CorruptBatch as exc:
            self.forget(cursor.meta.segment_id)
            raise CorruptRemoteData(f"remote segment {cursor.meta.start_offset} of "
                                    f"{cursor.meta.topic}-{cursor.meta.partition}: bad batch at "
                                    f"byte {position}: {exc}") from exc
        if header.length < HEADER_SIZE:
            self.forget(cursor.meta.segment_id)
            raise CorruptRemoteData(f"remote segment {cursor.meta.start_offset}: bad batch length "
                                    f"at byte {position}")
        return header

    def _position(self, meta: RemoteLogSegmentMetadata, indexes: RemoteIndexes, offset: int) -> int:
        slot = bisect.bisect_right(indexes.offsets, offset) - 1
        return indexes.positions[slot] if slot >= 0 else 0

    # --- reads --------------------------------------------------------------------------

    def read(self, meta: RemoteLogSegmentMetadata, offset: int, max_bytes: int,
             max_offset: int, whole_first: bool = True) -> RemoteRead:
        """Whole batches from the one holding `offset`, at most max_bytes (the first batch is
        returned whole when whole_first), none starting at or past max_offset."""
        indexes = self.indexes(meta)
        target = max(offset, meta.start_offset)
        cursor = _Cursor(self, meta)
        position = self._position(meta, indexes, target)
        while position < meta.segment_size:  # skip to the batch holding the target
            header = self._header(cursor, position)
            if header.last_offset >= target:
                break
            position += header.length
        start = end = position
        last_offset = target - 1
        while end < meta.segment_size:
            header = self._header(cursor, end)
            if header.base_offset >= max_offset:
                break
            if end - start + header.length > max_bytes and not (end == start and whole_first):
                break
            end += header.length
            last_offset = header.last_offset
        data = cursor.read(start, end - start)
        self._verify(meta, data, start)
        aborted = [(pid, first) for pid, first, last in indexes.aborted
                   if last >= target and first <= last_offset]
        return RemoteRead(data, aborted)

    def _verify(self, meta: RemoteLogSegmentMetadata, data: bytes, start: int) -> None:
        position = 0
        while position < len(data):
            header = read_header(data, position)
            if position + header.length > len(data) or not verify_crc(data, position, header):
                self.forget(meta.segment_id)
                raise CorruptRemoteData(
                    f"remote segment {meta.start_offset} of {meta.topic}-{meta.partition}: batch "
                    f"at offset {header.base_offset} (byte {start + position}) fails its CRC check")
            position += header.length

    def offset_for_timestamp(self, meta: RemoteLogSegmentMetadata, timestamp: int,
                             min_offset: int) -> tuple[int, int] | None:
        """(offset, timestamp) of the first record at or after `timestamp` in the segment."""
        if meta.max_timestamp < timestamp:
            return None
        indexes = self.indexes(meta)
        slot = bisect.bisect_left(indexes.time_stamps, timestamp)
        start_offset = meta.start_offset
        if 0 < slot <= len(indexes.time_offsets):
            start_offset = indexes.time_offsets[slot - 1] + 1
        start_offset = max(start_offset, min_offset)
        cursor = _Cursor(self, meta)
        position = self._position(meta, indexes, start_offset)
        while position < meta.segment_size:
            header = self._header(cursor, position)
            if header.max_timestamp >= timestamp and header.last_offset >= min_offset:
                batch = cursor.read(position, header.length)
                self._verify(meta, batch, position)
                for record in iter_records(batch):
                    if record.offset >= min_offset and record.timestamp >= timestamp:
                        return record.offset, record.timestamp
            position += header.length
        return None
