"""Log compaction (`cleanup.policy=compact`): keep the last record of every key.

Kafka's cleaner in miniature. The expensive part — reading every record, building the
key → latest-offset map and writing cleaned copies of the closed segments — runs in a
worker thread against file descriptors the event loop never writes to (closed segments
are immutable; the active segment is only read up to a size fixed beforehand). The swap
of cleaned files into place is quick and runs on the event loop, so readers never see a
half-replaced segment. Offsets never change; compaction only leaves gaps.

Tombstones (null values) are kept for `delete.retention.ms` after their segment's newest
timestamp so that consumers get to see deletions, then removed. Segments newer than
`min.compaction.lag.ms` are left alone.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from fjord.protocol.records import Record, encode_batch, iter_records
from fjord.storage.log import PartitionLog
from fjord.storage.segment import Segment

log = logging.getLogger("fjord.storage.cleaner")

CLEANED = ".cleaned"


@dataclass
class CleanPlan:
    """Cleaned copies ready to replace `segments` (a cleaned path of None: drop it)."""

    plog: PartitionLog
    segments: list[Segment]
    cleaned: list[Path | None] = field(default_factory=list)
    records_before: int = 0
    records_after: int = 0


def dirty_ratio(plog: PartitionLog, cleaned_upto: int) -> float:
    closed = plog.segments[:-1]
    total = sum(s.size for s in closed)
    if total == 0:
        return 0.0
    dirty = sum(s.size for s in closed if s.next_offset > cleaned_upto)
    return dirty / total


def _records(segment: Segment, end: int | None = None) -> list[tuple[int, Record, int]]:
    """(batch position, record, batch attributes) for every record of a segment."""
    found = []
    limit = segment.size if end is None else end
    for pos, header in segment.iter_headers():
        if pos >= limit:
            break
        if header.is_control:
            continue
        data = segment.read(pos, header.length)
        for record in iter_records(data):
            found.append((pos, record, header.attributes))
    return found


def plan(plog: PartitionLog, now_ms: int, delete_retention_ms: int, min_lag_ms: int) -> CleanPlan | None:
    """Build cleaned copies of the closed segments. Runs in a worker thread."""
    segments = list(plog.segments)
    closed = [s for s in segments[:-1] if now_ms - s.max_timestamp >= min_lag_ms]
    if not closed:
        return None
    active = segments[-1]
    latest: dict[bytes | None, int] = {}
    for segment in segments[:-1]:
        for _pos, record, _attrs in _records(segment):
            latest[record.key] = record.offset
    for _pos, record, _attrs in _records(active, active.size):
        latest[record.key] = record.offset
    result = CleanPlan(plog, closed)
    for segment in closed:
        drop_tombstones = now_ms - segment.max_timestamp > delete_retention_ms
        kept: list[tuple[int, Record, int]] = []
        all_records = _records(segment)
        result.records_before += len(all_records)
        for pos, record, attrs in all_records:
            if latest.get(record.key) != record.offset:
                continue
            if record.value is None and drop_tombstones:
                continue
            kept.append((pos, record, attrs))
        result.records_after += len(kept)
        if not kept:
            result.cleaned.append(None)
            continue
        target = segment.log_path.with_name(segment.log_path.name + CLEANED)
        with open(target, "wb") as out:
            group: list[Record] = []
            group_pos, group_attrs = kept[0][0], kept[0][2]
            for pos, record, attrs in kept:
                if pos != group_pos and group:
                    out.write(encode_batch(group, attributes=group_attrs))
                    group = []
                group_pos, group_attrs = pos, attrs
                group.append(record)
            if group:
                out.write(encode_batch(group, attributes=group_attrs))
            out.flush()
            os.fsync(out.fileno())
        result.cleaned.append(target)
    return result


def swap(cleaned: CleanPlan) -> bool:
    """Put cleaned copies in place. Runs on the event loop; False if the log moved on."""
    plog = cleaned.plog
    if any(s not in plog.segments for s in cleaned.segments):
        discard(cleaned)
        return False
    for segment, path in zip(cleaned.segments, cleaned.cleaned, strict=True):
        index = plog.segments.index(segment)
        segment.close()
        if path is None and index != 0:
            segment.delete()
            plog.segments.pop(index)
            continue
        if path is None:
            open(segment.log_path, "wb").close()  # the first segment keeps the log's base
        else:
            os.replace(path, segment.log_path)
        for stale in (segment.index_path, segment.time_path):
            stale.unlink(missing_ok=True)
        fresh = Segment(plog.directory, segment.base_offset, plog.config.index_interval)
        fresh.recover()
        following = plog.segments[index + 1]
        fresh.next_offset = max(fresh.next_offset, following.base_offset)
        plog.segments[index] = fresh
    log.info("compacted %s-%d: %d records -> %d", plog.topic, plog.partition,
             cleaned.records_before, cleaned.records_after)
    return True


def discard(cleaned: CleanPlan) -> None:
    for path in cleaned.cleaned:
        if path is not None:
            path.unlink(missing_ok=True)
