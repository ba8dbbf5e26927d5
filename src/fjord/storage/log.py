"""The log of one partition: ordered segments, offsets, retention, recovery.

All methods run on the broker's event loop; they do plain file I/O against the page cache,
which is fast enough to stay inline. Only fsync (when the flush policy asks for one) is
pushed to a worker thread by the caller.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import logging
import random
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fjord.fsutil import fsync_dir
from fjord.protocol.records import (
    LOG_OVERHEAD,
    BatchHeader,
    batch_length_at,
    control_batch,
    control_type,
    iter_records,
    set_base_offset,
    set_log_append_time,
    split_batches,
)
from fjord.storage.producer_state import ProducerStateTable
from fjord.storage.segment import RELATIVE_LIMIT, Segment

log = logging.getLogger("fjord.storage")

LONG_MAX = 2**63 - 1
SNAPSHOT = "producer-state.json"
_OFFSET = struct.Struct(">q")


@dataclass
class LogConfig:
    """The topic settings the log itself acts on (Kafka topic-config names in comments)."""

    segment_bytes: int = 1073741824  # segment.bytes
    segment_ms: int = 7 * 24 * 3600 * 1000  # segment.ms
    retention_ms: int = 7 * 24 * 3600 * 1000  # retention.ms (-1: forever)
    retention_bytes: int = -1  # retention.bytes
    index_interval: int = 4096  # index.interval.bytes
    index_bytes: int = 10485760  # segment.index.bytes: a segment whose index is full rolls
    segment_jitter_ms: int = 0  # segment.jitter.ms
    flush_messages: int = LONG_MAX  # flush.messages
    flush_ms: int = LONG_MAX  # flush.ms
    max_message_bytes: int = 1048588  # max.message.bytes
    log_append_time: bool = False  # message.timestamp.type=LogAppendTime
    compact: bool = False  # cleanup.policy contains compact
    delete: bool = True  # cleanup.policy contains delete
    delete_retention_ms: int = 86_400_000  # delete.retention.ms: how long tombstones stay
    min_compaction_lag_ms: int = 0  # min.compaction.lag.ms
    min_cleanable_ratio: float = 0.5  # min.cleanable.dirty.ratio
    max_compaction_lag_ms: int = LONG_MAX  # max.compaction.lag.ms
    timestamp_before_max_ms: int = LONG_MAX  # message.timestamp.before.max.ms
    timestamp_after_max_ms: int = LONG_MAX  # message.timestamp.after.max.ms
    compression: str = "producer"  # compression.type
    file_delete_delay_ms: int = 60000  # file.delete.delay.ms: deleted segments linger this long
    remote_storage: bool = False  # remote.storage.enable
    remote_copy_disable: bool = False  # remote.log.copy.disable
    local_retention_ms: int = -2  # local.retention.ms (-2: retention.ms)
    local_retention_bytes: int = -2  # local.retention.bytes (-2: retention.bytes)

    @classmethod
    def from_topic(cls, config: dict[str, Any]) -> LogConfig:
        policy = config.get("cleanup.policy") or ["delete"]
        return cls(
            segment_bytes=int(config["segment.bytes"]),
            segment_ms=int(config["segment.ms"]),
            retention_ms=int(config["retention.ms"]),
            retention_bytes=int(config["retention.bytes"]),
            index_interval=int(config["index.interval.bytes"]),
            index_bytes=int(config["segment.index.bytes"]),
            segment_jitter_ms=int(config["segment.jitter.ms"]),
            flush_messages=int(config["flush.messages"]),
            flush_ms=int(config["flush.ms"]),
            max_message_bytes=int(config["max.message.bytes"]),
            log_append_time=config["message.timestamp.type"] == "LogAppendTime",
            compact="compact" in policy,
            delete="delete" in policy,
            delete_retention_ms=int(config["delete.retention.ms"]),
            min_compaction_lag_ms=int(config["min.compaction.lag.ms"]),
            min_cleanable_ratio=float(config["min.cleanable.dirty.ratio"]),
            max_compaction_lag_ms=int(config["max.compaction.lag.ms"]),
            timestamp_before_max_ms=int(config["message.timestamp.before.max.ms"]),
            timestamp_after_max_ms=int(config["message.timestamp.after.max.ms"]),
            compression=str(config["compression.type"]),
            file_delete_delay_ms=int(config["file.delete.delay.ms"]),
            remote_storage=bool(config["remote.storage.enable"]),
            remote_copy_disable=bool(config["remote.log.copy.disable"]),
            local_retention_ms=int(config["local.retention.ms"]),
            local_retention_bytes=int(config["local.retention.bytes"]),
        )

    @property
    def roll_ms(self) -> int:
        """Kafka rolls a compacted log's active segment by max.compaction.lag.ms too, so a
        record can be cleaned within that lag even when the topic is quiet."""
        if self.compact:
            return min(self.segment_ms, self.max_compaction_lag_ms)
        return self.segment_ms

    @property
    def tiered(self) -> bool:
        """Segments go on being copied to the remote tier (KIP-950: copying can be stopped
        while the remote data stays readable)."""
        return self.remote_storage and not self.remote_copy_disable

    def local_retention(self) -> tuple[int, int]:
        """(ms, bytes) the local log keeps: local.retention.* on a tiered topic (-2 meaning
        retention.*), retention.* otherwise."""
        if not self.tiered:
            return self.retention_ms, self.retention_bytes
        ms = self.retention_ms if self.local_retention_ms == -2 else self.local_retention_ms
        size = self.retention_bytes if self.local_retention_bytes == -2 else self.local_retention_bytes
        return ms, size


class OffsetOutOfRange(Exception):
    pass


@dataclass(slots=True)
class ReadResult:
    data: bytes | memoryview
    high_watermark: int
    log_start_offset: int


class PartitionLog:
    def __init__(self, directory: Path, topic: str, partition: int, config: LogConfig) -> None:
        self.directory = directory
        self.topic = topic
        self.partition = partition
        self.config = config
        self.segments: list[Segment] = []
        self.log_start_offset = 0
        self.producers = ProducerStateTable()
        self.unflushed = 0
        self.last_flush = time.monotonic()
        self.cleaned_upto = 0  # offsets below this were compacted in this process's lifetime
        # Offsets below this are safely in the remote tier (set by the remote log manager);
        # a tiered topic's retention never deletes a local segment reaching past it.
        self.remote_upto = 0
        # Kafka's recovery point: every offset below it is fsynced, so an unclean start
        # need not CRC-scan the segments that end below it.
        self.recovery_point = 0
        self.pending_syncs: dict[asyncio.Future[None], int] = {}  # rolled segment fsyncs -> base
        # Whether the directory's entries (segment files) are known durable: the first
        # flush after a segment file was created fsyncs the directory too.
        self.dir_durable = False
        self._snapshot_at = 0  # the offset the producer-state snapshot on disk is valid to
        # Segments deleted by retention or DeleteRecords, renamed `*.deleted` and removed
        # after file.delete.delay.ms (Kafka's way: a reader that still has one open is safe).
        self.doomed_files: list[tuple[float, Path]] = []
        self._waiters: set[asyncio.Future[None]] = set()
        self._jitter: tuple[int, int] | None = None  # (segment base, its roll jitter)

    # --- opening and recovery -----------------------------------------------------------

    @classmethod
    def open(cls, directory: Path, topic: str, partition: int, config: LogConfig,
             clean: bool, log_start_offset: int = 0, recovery_point: int = 0) -> PartitionLog:
        """Open (or create) a partition's log. After an unclean stop, segments that end at
        or below the recovery point were fsynced before it: their index files are trusted as
        after a clean stop, and only the segments past it are CRC-scanned, as in Kafka."""
        directory.mkdir(parents=True, exist_ok=True)
        plog = cls(directory, topic, partition, config)
        bases = sorted(int(p.stem) for p in directory.glob("*.log") if p.stem.isdigit())
        for base in bases:
            plog.segments.append(Segment(directory, base, config.index_interval))
        if not plog.segments:
            plog.segments.append(Segment(directory, log_start_offset, config.index_interval))
        for index, segment in enumerate(plog.segments):
            is_last = index == len(plog.segments) - 1
            following = plog.segments[index + 1].base_offset if not is_last else None
            trusted = clean or (following is not None and following <= recovery_point)
            if not trusted or following is None or not segment.load_indexes(following):
                truncated = segment.recover()
                if truncated:
                    log.warning("recovered %s-%d: cut %d bytes of torn tail from segment %d",
                                topic, partition, truncated, segment.base_offset)
        plog.log_start_offset = max(log_start_offset, plog.segments[0].base_offset)
        due = time.monotonic() + config.file_delete_delay_ms / 1000
        plog.doomed_files = [(due, path) for path in directory.glob("*.deleted")]
        plog.recovery_point = plog.log_end_offset if clean else min(recovery_point,
                                                                   plog.log_end_offset)
        plog._rebuild_producers()
        return plog

    @classmethod
    def create(cls, directory: Path, topic: str, partition: int, config: LogConfig) -> PartitionLog:
        """A brand-new partition in an existing empty directory: nothing to scan or load,
        and the index files appear with the first index entry."""
        plog = cls(directory, topic, partition, config)
        plog.segments.append(Segment(directory, 0, config.index_interval))
        return plog

    def _rebuild_producers(self) -> None:
        path = self.directory / SNAPSHOT
        valid_to = self.producers.load(path)
        if valid_to > self.log_end_offset:
            self.producers = ProducerStateTable()
            valid_to = 0
        self._snapshot_at = valid_to
        for segment in self.segments:
            if segment.next_offset <= valid_to:
                continue
            start = segment.position_of(valid_to) if valid_to > segment.base_offset else 0
            for pos, header in segment.iter_headers(start):
                if header.last_offset >= valid_to:
                    control = None
                    if header.is_control:
                        control = control_type(segment.read(pos, header.length))
                    self.producers.update(header, control)

    # --- state --------------------------------------------------------------------------

    @property
    def active(self) -> Segment:
        return self.segments[-1]

    @property
    def log_end_offset(self) -> int:
        return self.active.next_offset

    @property
    def high_watermark(self) -> int:
        return self.active.next_offset

    @property
    def last_stable_offset(self) -> int:
        """Below this every transaction is decided: where read_committed consumers stop."""
        first = self.producers.first_unstable_offset()
        return self.high_watermark if first is None else first

    def aborted_transactions(self, start: int, end: int) -> list[tuple[int, int]]:
        return self.producers.aborted_between(start, end)

    @property
    def size(self) -> int:
        return sum(segment.size for segment in self.segments)

    # --- appending ----------------------------------------------------------------------

    def append(self, data: bytes, headers: list[BatchHeader], now_ms: int) -> tuple[int, int]:
        """Assign offsets and write. Returns (base offset, log append time or -1).

        The caller has validated the batches and checked producer sequences. The data is
        written as received with each batch's base offset swapped in (no copy of the
        payload), unless LogAppendTime forces a rewrite of the header and its CRC.
        """
        base = self.log_end_offset
        next_offset = base
        append_time = now_ms if self.config.log_append_time else -1
        buffer = bytearray(data) if append_time >= 0 else None
        view = memoryview(data)
        pieces: list[bytes | bytearray | memoryview] = []
        pos = 0
        max_ts = -1
        for header in headers:
            header.base_offset = next_offset
            if buffer is not None:
                set_base_offset(buffer, pos, next_offset)
                set_log_append_time(buffer, pos, header.length, append_time)
                header.max_timestamp = append_time
            else:
                pieces.append(_OFFSET.pack(next_offset))
                pieces.append(view[pos + 8 : pos + header.length])
            max_ts = max(max_ts, header.max_timestamp)
            next_offset += header.last_offset_delta + 1
            pos += header.length
        if buffer is not None:
            pieces = [buffer]
        self._maybe_roll(len(data), now_ms, next_offset - base)
        self.active.append(pieces, len(data), base, next_offset - 1, max_ts)
        pos = 0
        for header in headers:
            control = control_type(view[pos : pos + header.length]) if header.is_control else None
            self.producers.update(header, control)
            pos += header.length
        self.unflushed += next_offset - base
        self._wake()
        return base, append_time

    def append_marker(self, producer_id: int, epoch: int, commit: bool, now_ms: int) -> int:
        """Write a transaction's COMMIT or ABORT control batch; returns its offset."""
        marker = control_batch(producer_id, epoch, commit, now_ms)
        base, _ = self.append(marker, split_batches(marker), now_ms)
        return base

    def needs_flush(self) -> bool:
        if self.unflushed == 0:
            return False
        if self.unflushed >= self.config.flush_messages:
            return True
        return (time.monotonic() - self.last_flush) * 1000 >= self.config.flush_ms

    def flush(self) -> None:
        self.flush_handle()()

    def flush_handle(self) -> Callable[[], None]:
        """Start a flush: taken on the event loop, the returned fsync may run in a thread.

        Only the writes made up to now are counted as flushed, so appends that land while
        the fsync runs stay due for the next one.
        """
        pending = self.unflushed
        upto = self.log_end_offset
        sync = self.active.sync_handle()
        self.unflushed -= pending
        self.last_flush = time.monotonic()

        directory = None if self.dir_durable else self.directory

        def flush() -> None:
            sync()
            if directory is not None:
                fsync_dir(directory)
                self.dir_durable = True
            self._flushed_to(upto)

        return flush

    def _flushed_to(self, offset: int) -> None:
        """Advance the recovery point, but never past a rolled segment still being fsynced."""
        pending = list(self.pending_syncs.values())
        if pending:
            offset = min(offset, min(pending))
        if offset > self.recovery_point:
            self.recovery_point = offset

    def _maybe_roll(self, incoming: int, now_ms: int, max_offsets: int) -> None:
        active = self.active
        if active.size == 0:
            return
        too_big = active.size + incoming > self.config.segment_bytes
        if self.log_end_offset + max_offsets - active.base_offset > RELATIVE_LIMIT:
            too_big = True  # offsets relative to the base must still fit the index
        if active.index_full(self.config.index_bytes):
            too_big = True  # Kafka rolls when the .index or .timeindex reaches segment.index.bytes
        too_old = (
            active.first_batch_time >= 0
            and now_ms - active.first_batch_time >= self.config.roll_ms - self._roll_jitter()
        )
        if too_big or too_old:
            self.roll()

    def _roll_jitter(self) -> int:
        """segment.jitter.ms: a random amount, drawn once per segment and below segment.ms,
        taken off its age limit so partitions created together do not all roll at once."""
        jitter = self.config.segment_jitter_ms
        if jitter <= 0:
            return 0
        if self._jitter is None or self._jitter[0] != self.active.base_offset:
            self._jitter = (self.active.base_offset,
                            random.randrange(min(jitter, self.config.roll_ms)))
        return self._jitter[1]

    def roll(self) -> None:
        """Start a new active segment. The old one is fsynced off the event loop (a rolled
        segment can hold a gigabyte of dirty pages), as Kafka flushes rolled segments."""
        active = self.active
        if active.size == 0:
            return
        sync = active.sync_handle()
        active.close_indexes()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (tools, tests): flush inline
            sync()
            self._flushed_to(active.next_offset)
        else:
            future = loop.run_in_executor(None, sync)
            self.pending_syncs[future] = active.base_offset
            future.add_done_callback(functools.partial(self._roll_synced, end=active.next_offset))
        self._snapshot(active.next_offset)
        self.segments.append(Segment(self.directory, active.next_offset, self.config.index_interval))
        self.dir_durable = False  # a new segment file: the next flush fsyncs the directory
        self.segments[-1].next_offset = active.next_offset

    def _roll_synced(self, future: asyncio.Future[None], *, end: int) -> None:
        """A rolled segment's fsync finished: a failure is logged (the data stays in the
        page cache, and the entry stays so the recovery point stays behind it: a crash
        rescans it)."""
        error = None if future.cancelled() else future.exception()
        if future.cancelled() or error is not None:
            log.error("fsync of a rolled segment of %s-%d failed", self.topic, self.partition,
                      exc_info=error)
            return
        self.pending_syncs.pop(future, None)
        self._flushed_to(end)

    def _snapshot(self, offset: int) -> None:
        """Producer state is derived from the log; a failed snapshot only costs a longer scan."""
        if offset == self._snapshot_at:
            return  # nothing new since the snapshot on disk (most partitions at shutdown)
        try:
            self.producers.save(self.directory / SNAPSHOT, offset)
            self._snapshot_at = offset
        except OSError as exc:
            log.warning("cannot save producer state of %s-%d: %s", self.topic, self.partition, exc)

    # --- reading ------------------------------------------------------------------------

    def read(self, offset: int, max_bytes: int, whole_first: bool = True,
             max_offset: int | None = None) -> ReadResult:
        """Batches from `offset`, at most max_bytes unless the first batch alone is larger.

        The cut is made at a batch boundary so clients never see a torn batch; with
        max_offset (the last stable offset, for read_committed) no batch starting at or
        past it is returned.
        """
        hw = self.high_watermark
        if offset < self.log_start_offset or offset > hw:
            raise OffsetOutOfRange(offset)
        limit = hw if max_offset is None else min(max_offset, hw)
        if offset >= limit:
            return ReadResult(b"", hw, self.log_start_offset)
        index = self._segment_index(offset)
        segment = self.segments[index]
        position = segment.position_of(offset)
        while position >= segment.size:  # past this segment's end (a gap left by compaction)
            index += 1
            if index >= len(self.segments):
                return ReadResult(b"", hw, self.log_start_offset)
            segment, position = self.segments[index], 0
        data: bytes | memoryview = segment.read(position, max_bytes)
        cut = _whole_batches(data, limit)
        if cut == 0 and whole_first:
            head = data if len(data) >= LOG_OVERHEAD else segment.read(position, LOG_OVERHEAD)
            first = batch_length_at(head, 0)
            starts_below = first > 0 and _OFFSET.unpack_from(head, 0)[0] < limit
            data = segment.read(position, first) if starts_below else b""
        elif cut < len(data):
            data = memoryview(data)[:cut]
        return ReadResult(data, hw, self.log_start_offset)

    def _segment_index(self, offset: int) -> int:
        """Index of the last segment whose base offset is <= offset (bisect: logs get long)."""
        index = bisect.bisect_right(self.segments, offset, key=lambda s: s.base_offset) - 1
        return max(index, 0)

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int] | None:
        """(offset, timestamp) of the first record with timestamp >= the given one."""
        for segment in self.segments:
            if segment.max_timestamp < timestamp:
                continue
            start = segment.offset_for_time(timestamp)
            if start is None:
                continue
            start = max(start, self.log_start_offset)
            position = segment.position_of(start)
            for pos, header in segment.iter_headers(position):
                if header.max_timestamp < timestamp or header.last_offset < self.log_start_offset:
                    continue
                data = segment.read(pos, header.length)
                for record in iter_records(data):
                    if record.offset >= self.log_start_offset and record.timestamp >= timestamp:
                        return record.offset, record.timestamp
        return None

    def max_timestamp_offset(self) -> tuple[int, int] | None:
        best: tuple[int, int] | None = None
        for segment in self.segments:
            for pos, header in segment.iter_headers():
                if header.last_offset < self.log_start_offset:
                    continue
                if best is None or header.max_timestamp > best[1]:
                    data = segment.read(pos, header.length)
                    for record in iter_records(data):
                        if best is None or record.timestamp > best[1]:
                            best = (record.offset, record.timestamp)
        return best

    # --- waiting for data ---------------------------------------------------------------

    def waiter(self) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(future)
        future.add_done_callback(self._waiters.discard)
        return future

    def _wake(self) -> None:
        for future in list(self._waiters):
            if not future.done():
                future.set_result(None)

    # --- retention ----------------------------------------------------------------------

    def delete_records(self, offset: int) -> int:
        """Move the log start offset (DeleteRecords); whole segments below it go."""
        if offset > self.high_watermark:
            raise OffsetOutOfRange(offset)
        if offset > self.log_start_offset:
            self.log_start_offset = offset
            self._drop_below(offset)
            self.producers.forget_before(offset)
        return self.log_start_offset

    def _drop_below(self, offset: int) -> None:
        while len(self.segments) > 1 and self.segments[1].base_offset <= offset:
            self._retire(self.segments.pop(0))

    def apply_retention(self, now_ms: int) -> int:
        """Delete segments past retention.ms / retention.bytes. Returns segments deleted."""
        if not self.config.delete:
            return 0
        deleted = 0
        retention_ms, retention_bytes = self.config.local_retention()
        upto = self.remote_upto if self.config.tiered else LONG_MAX
        if retention_ms >= 0:
            while self.segments and self.segments[0].size > 0:
                first = self.segments[0]
                if now_ms - first.max_timestamp <= retention_ms:
                    break
                if len(self.segments) == 1:
                    self.roll()  # Kafka rolls the active segment when it expires whole
                    if len(self.segments) == 1:
                        break
                if first.next_offset > upto:
                    break  # not yet safely remote: kept past local retention
                self._delete_first()
                deleted += 1
        if retention_bytes >= 0:
            total = self.size
            while len(self.segments) > 1 and total - self.segments[0].size >= retention_bytes:
                if self.segments[0].next_offset > upto:
                    break
                total -= self.segments[0].size
                self._delete_first()
                deleted += 1
        return deleted

    def _retire(self, segment: Segment) -> None:
        delay = self.config.file_delete_delay_ms
        if delay <= 0:
            segment.delete()
            return
        due = time.monotonic() + delay / 1000
        self.doomed_files += [(due, path) for path in segment.delete_later()]

    def delete_due_files(self, now: float) -> int:
        """Remove the `*.deleted` segment files whose delay has passed; returns how many."""
        due = [path for when, path in self.doomed_files if when <= now]
        if not due:
            return 0
        self.doomed_files = [(when, path) for when, path in self.doomed_files if when > now]
        for path in due:
            path.unlink(missing_ok=True)
        return len(due)

    def _delete_first(self) -> None:
        segment = self.segments.pop(0)
        self._retire(segment)
        self.log_start_offset = max(self.log_start_offset, self.segments[0].base_offset)
        self.producers.forget_before(self.log_start_offset)
        log.info("retention deleted segment %d of %s-%d; log start offset now %d",
                 segment.base_offset, self.topic, self.partition, self.log_start_offset)

    # --- shutdown -----------------------------------------------------------------------

    def close(self) -> None:
        if self.unflushed or self.pending_syncs or self.recovery_point < self.log_end_offset:
            for segment in self.segments:
                segment.flush()
        self.pending_syncs.clear()
        self.recovery_point = self.log_end_offset
        self._snapshot(self.log_end_offset)
        for segment in self.segments:
            segment.close()
        self.segments = []  # closed for good: late users (a cleaner swap) see it is gone
        self._wake()

    def detach(self) -> None:
        """Close files and release fetchers; the caller removes the directory."""
        for segment in self.segments:
            segment.close()
        self.segments = []
        self._wake()


def _whole_batches(data: bytes | memoryview, below_offset: int) -> int:
    """Length of the prefix of `data` made of whole batches starting below `below_offset`."""
    pos = 0
    size = len(data)
    while True:
        length = batch_length_at(data, pos)
        if length <= 0 or pos + length > size or _OFFSET.unpack_from(data, pos)[0] >= below_offset:
            return pos
        pos += length





def dir_name(topic: str, partition: int) -> str:
    return f"{topic}-{partition}"


