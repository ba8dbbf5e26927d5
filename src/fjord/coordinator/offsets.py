"""Committed offsets and group records, kept in the broker's own log as `__consumer_offsets`.

Why the log and not a side file: the log already gives ordered, crash-recovered appends
with the flush policy of docs/durability.md, and an operator who knows Kafka finds the
same internal compacted topic, partitioned by `abs(groupId.hashCode) % partitions`, with
Kafka's record layouts, so Kafka's own formatters can read it:

- key v1 `(group, topic, partition)` -> OffsetCommitValue v3 (offset, leader epoch,
  metadata, commit timestamp); a null value deletes the offset;
- key v2 `(group)` -> GroupMetadataValue v3 with no members (protocol type, generation,
  protocol, leader, state timestamp); a null value deletes the group.

At start-up every partition is replayed from its start and the last record of each key
wins. That is also exactly what compaction would keep, so replay stays right whether or
not the log has been compacted (the broker's cleaner compacts it like any
cleanup.policy=compact topic).
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from fjord.metadata.store import MetadataStore, TopicInfo
from fjord.protocol.records import (
    HEADER_SIZE,
    LOG_OVERHEAD,
    CorruptBatch,
    Record,
    encode_batch,
    iter_records,
    read_header,
)
from fjord.storage.log import LogConfig, PartitionLog
from fjord.storage.manager import LogManager

log = logging.getLogger("fjord.coordinator")

TOPIC = "__consumer_offsets"
SEGMENT_BYTES = 104857600  # Kafka's offsets.topic.segment.bytes

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")


# --- Kafka's key and value layouts ------------------------------------------------------


def java_string_hash(text: str) -> int:
    """Java's String.hashCode over UTF-16 code units, as a signed 32-bit int."""
    value = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        value = (31 * value + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def partition_for(group_id: str, partitions: int) -> int:
    """Kafka's Utils.abs(groupId.hashCode) % offsets.topic.num.partitions."""
    return (java_string_hash(group_id) & 0x7FFFFFFF) % partitions


def _string(text: str | None) -> bytes:
    if text is None:
        return _I16.pack(-1)
    raw = text.encode("utf-8")
    return _I16.pack(len(raw)) + raw


class _Reader:
    """Kafka's fixed-width record layouts; ValueError (never struct.error or a silent short
    read) when the bytes end early, since the log they come from may be damaged."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, size: int) -> int:
        start = self.pos
        if size < 0 or start + size > len(self.data):
            raise ValueError(f"record ends after {len(self.data)} bytes, {size} more expected "
                             f"at {start}")
        self.pos += size
        return start

    def i16(self) -> int:
        return int(_I16.unpack_from(self.data, self._take(2))[0])

    def i32(self) -> int:
        return int(_I32.unpack_from(self.data, self._take(4))[0])

    def i64(self) -> int:
        return int(_I64.unpack_from(self.data, self._take(8))[0])

    def string(self) -> str | None:
        length = self.i16()
        if length < 0:
            return None
        start = self._take(length)
        return self.data[start : start + length].decode("utf-8")


def offset_key(group: str, topic: str, partition: int) -> bytes:
    return _I16.pack(1) + _string(group) + _string(topic) + _I32.pack(partition)


def group_key(group: str) -> bytes:
    return _I16.pack(2) + _string(group)


@dataclass(slots=True)
class CommittedOffset:
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp: int


@dataclass(slots=True)
class GroupRecord:
    protocol_type: str
    generation: int
    protocol: str | None
    leader: str | None
    state_timestamp: int


def offset_value(value: CommittedOffset) -> bytes:
    return (_I16.pack(3) + _I64.pack(value.offset) + _I32.pack(value.leader_epoch)
            + _string(value.metadata) + _I64.pack(value.commit_timestamp))


def group_value(value: GroupRecord) -> bytes:
    return (_I16.pack(3) + _string(value.protocol_type) + _I32.pack(value.generation)
            + _string(value.protocol) + _string(value.leader) + _I64.pack(value.state_timestamp)
            + _I32.pack(0))


def parse_key(data: bytes) -> tuple[str, str | None, int]:
    """(group, topic, partition) for an offset key; (group, None, -1) for a group key."""
    reader = _Reader(data)
    version = reader.i16()
    group = reader.string() or ""
    if version in (0, 1):
        topic = reader.string() or ""
        return group, topic, reader.i32()
    if version == 2:
        return group, None, -1
    raise ValueError(f"unknown __consumer_offsets key version {version}")


def parse_offset_value(data: bytes) -> CommittedOffset:
    reader = _Reader(data)
    version = reader.i16()
    offset = reader.i64()
    epoch = reader.i32() if version >= 3 else -1
    metadata = reader.string() or ""
    stamp = reader.i64()
    return CommittedOffset(offset, epoch, metadata, stamp)


def parse_group_value(data: bytes) -> GroupRecord:
    reader = _Reader(data)
    version = reader.i16()
    protocol_type = reader.string() or ""
    generation = reader.i32()
    protocol = reader.string()
    leader = reader.string()
    stamp = reader.i64() if version >= 2 else -1
    return GroupRecord(protocol_type, generation, protocol, leader, stamp)


# --- record batches -----------------------------------------------------------------------


def build_batch(records: list[tuple[bytes, bytes | None]], timestamp: int) -> bytes:
    """(key, value) pairs as one uncompressed batch at offsets 0.. (the log sets the base)."""
    return encode_batch([Record(delta, timestamp, key, value, [])
                         for delta, (key, value) in enumerate(records)])


def iter_log(plog: PartitionLog) -> Iterator[tuple[bytes, bytes | None]]:
    """Every (key, value) of a partition from its start, in offset order."""
    offset = plog.log_start_offset
    end = plog.log_end_offset
    while offset < end:
        data = plog.read(offset, 1 << 20).data
        if not data:
            break
        pos = 0
        while pos + LOG_OVERHEAD <= len(data):
            try:
                header = read_header(data, pos)
            except CorruptBatch:
                return
            if header.length < HEADER_SIZE or pos + header.length > len(data):
                break
            if not header.is_control:
                for record in iter_records(data, pos):  # copies this batch, not the chunk
                    if record.offset >= offset and record.key is not None:
                        yield record.key, record.value
            offset = header.last_offset + 1
            pos += header.length


# --- the store ------------------------------------------------------------------------------


class OffsetStore:
    """In-memory view of `__consumer_offsets`, written through to the log."""

    def __init__(self, metadata: MetadataStore, logs: LogManager, partitions: int,
                 log_config: Callable[[TopicInfo], LogConfig]) -> None:
        self.metadata = metadata
        self.logs = logs
        self.log_config = log_config
        self.partitions = partitions
        self.offsets: dict[str, dict[tuple[str, int], CommittedOffset]] = {}
        self.groups: dict[str, GroupRecord] = {}
        info = metadata.topics.get(TOPIC)
        if info is not None:
            self.partitions = info.partitions
            self._replay()

    def _replay(self) -> None:
        started = time.monotonic()
        count = 0
        for partition in range(self.partitions):
            plog = self.logs.get(TOPIC, partition)
            if plog is None:
                continue
            for key, value in iter_log(plog):
                count += 1
                self._apply(key, value)
        if count:
            log.info("loaded %d group(s) with offsets from %d %s record(s) in %.0f ms",
                     len(self.offsets.keys() | self.groups.keys()), count, TOPIC,
                     (time.monotonic() - started) * 1000)

    def _apply(self, key: bytes, value: bytes | None) -> None:
        """Replay one record; an unreadable one is skipped, never allowed to stop start-up."""
        try:
            self._apply_record(key, value)
        except (ValueError, struct.error, UnicodeDecodeError, IndexError):
            log.warning("skipping an unreadable %s record", TOPIC)

    def _apply_record(self, key: bytes, value: bytes | None) -> None:
        group, topic, partition = parse_key(key)
        if topic is None:
            if value is None:
                self.groups.pop(group, None)
            else:
                self.groups[group] = parse_group_value(value)
            return
        if value is None:
            offsets = self.offsets.get(group)
            if offsets is not None:
                offsets.pop((topic, partition), None)
                if not offsets:
                    del self.offsets[group]
        else:
            self.offsets.setdefault(group, {})[(topic, partition)] = parse_offset_value(value)

    # --- writing ------------------------------------------------------------------------

    def _log_for(self, group: str) -> PartitionLog:
        if TOPIC not in self.metadata.topics:
            configs = {"cleanup.policy": "compact", "segment.bytes": str(SEGMENT_BYTES)}
            info = self.metadata.add_topic(TOPIC, self.partitions, configs, internal=True)
            self.logs.create(TOPIC, range(self.partitions), self.log_config(info), info.topic_id)
            log.info("created internal topic %s with %d partition(s)", TOPIC, self.partitions)
        plog = self.logs.get(TOPIC, partition_for(group, self.partitions))
        if plog is None:
            raise OSError(f"{TOPIC} partition for group {group!r} is missing")
        return plog

    def write(self, group: str, records: list[tuple[bytes, bytes | None]]) -> PartitionLog:
        """Append records for one group and apply them; raises OSError when the log fails."""
        if not records:
            return self._log_for(group)
        plog = self._log_for(group)
        now = int(time.time() * 1000)
        batch = build_batch(records, now)
        plog.append(batch, [read_header(batch)], now)
        for key, value in records:
            self._apply(key, value)
        return plog

    def commit(self, group: str, entries: dict[tuple[str, int], CommittedOffset]) -> PartitionLog:
        return self.write(group, [(offset_key(group, t, p), offset_value(v))
                                  for (t, p), v in entries.items()])

    def delete_offsets(self, group: str, keys: list[tuple[str, int]]) -> None:
        self.write(group, [(offset_key(group, t, p), None) for t, p in keys])

    def save_group(self, group: str, record: GroupRecord) -> None:
        self.write(group, [(group_key(group), group_value(record))])

    def delete_group(self, group: str) -> None:
        records: list[tuple[bytes, bytes | None]] = [
            (offset_key(group, t, p), None) for (t, p) in self.offsets.get(group, {})
        ]
        if group in self.groups:
            records.append((group_key(group), None))
        if records:
            self.write(group, records)

    def remove_topic(self, topic: str) -> None:
        """Offsets of a deleted topic go, as Kafka drops them when the topic is deleted."""
        for group, offsets in list(self.offsets.items()):
            doomed = [key for key in offsets if key[0] == topic]
            if doomed:
                self.delete_offsets(group, doomed)

    # --- reading ------------------------------------------------------------------------

    def get(self, group: str) -> dict[tuple[str, int], CommittedOffset]:
        return self.offsets.get(group, {})
