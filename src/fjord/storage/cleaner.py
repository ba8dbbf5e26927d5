"""Log compaction (`cleanup.policy=compact`): keep the last record of every key.

Kafka's cleaner in miniature. The expensive part — reading every record, building the
key → latest-offset map and writing cleaned copies of the closed segments — runs in a
worker thread against file descriptors the event loop never writes to (closed segments
are immutable; the active segment is only read up to a size fixed beforehand). The swap
of cleaned files into place is quick and runs on the event loop, so readers never see a
half-replaced segment. Offsets never change; compaction only leaves gaps.

The offset map is built only from records below the last stable offset (LSO), as Kafka's
cleaner stops at the first unstable offset: a record of a still-open transaction (or any
record after it) may yet be aborted, so it must never displace the committed value it
would shadow. Transaction markers and producer ids are kept as they are.

Tombstones (null values) are kept for `delete.retention.ms` after their segment's newest
timestamp so that consumers get to see deletions, then removed. Segments newer than
`min.compaction.lag.ms` are left alone.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from fjord.fsutil import atomic_replace
from fjord.protocol.records import HEADER_SIZE, BatchHeader, encode_batch, iter_records, read_header
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


def _dirty(plog: PartitionLog, cleaned_upto: int) -> list[Segment]:
    """Closed segments not cleaned yet and wholly below the LSO: what a pass could clean.
    Segments past the LSO are not dirty yet, or an open transaction would make the cleaner
    spin on a prefix it has already cleaned."""
    stable = plog.last_stable_offset
    return [s for s in plog.segments[:-1] if cleaned_upto < s.next_offset <= stable]


def dirty_ratio(plog: PartitionLog, cleaned_upto: int) -> float:
    total = sum(s.size for s in plog.segments[:-1])
    if total == 0:
        return 0.0
    return sum(s.size for s in _dirty(plog, cleaned_upto)) / total


def due(plog: PartitionLog, cleaned_upto: int, now_ms: int) -> bool:
    """Whether a pass should run: the dirty ratio reached min.cleanable.dirty.ratio, or a
    dirty record has waited longer than max.compaction.lag.ms (KIP-354), whatever the ratio."""
    config = plog.config
    if not config.compact or len(plog.segments) < 2:
        return False
    dirty = _dirty(plog, cleaned_upto)
    if not dirty:
        return False
    if dirty_ratio(plog, cleaned_upto) >= config.min_cleanable_ratio:
        return True
    first = dirty[0].first_batch_time
    return first >= 0 and now_ms - first > config.max_compaction_lag_ms


@dataclass
class Source:
    """A segment as the cleaner thread sees it: its own descriptor and a fixed size."""

    segment: Segment
    fd: int
    size: int


@dataclass
class Snapshot:
    """Everything plan() needs, taken on the event loop so the thread touches nothing live."""

    plog: PartitionLog
    sources: list[Source]
    stable_offset: int  # the last stable offset: open transactions are never cleaned
    aborted: list[tuple[int, int, int]]  # (producer id, first, last offset)

    def close(self) -> None:
        for source in self.sources:
            os.close(source.fd)


def snapshot(plog: PartitionLog) -> Snapshot:
    """Duplicated descriptors: retention or topic deletion closing a segment meanwhile
    can neither break the cleaner thread nor hand it a reused descriptor number."""
    sources = [Source(s, os.dup(s.fd), s.size) for s in plog.segments]
    return Snapshot(plog, sources, plog.last_stable_offset, list(plog.producers.aborted))


@dataclass
class _Batch:
    position: int
    header: BatchHeader
    data: bytes


def _batches(source: Source) -> list[_Batch]:
    found = []
    pos = 0
    while pos + HEADER_SIZE <= source.size:
        header = read_header(os.pread(source.fd, HEADER_SIZE, pos))
        found.append(_Batch(pos, header, os.pread(source.fd, header.length, pos)))
        pos += header.length
    return found


def _aborted(batch: _Batch, aborted: list[tuple[int, int, int]]) -> bool:
    header = batch.header
    return header.is_transactional and any(
        pid == header.producer_id and first <= header.base_offset <= last
        for pid, first, last in aborted
    )


def plan(snap: Snapshot, now_ms: int, delete_retention_ms: int, min_lag_ms: int) -> CleanPlan | None:
    """Build cleaned copies of the closed, stable segments. Runs in a worker thread.

    Records of aborted transactions neither count as a key's latest value nor survive;
    transaction markers are kept as they are; batches keep their producer id, epoch and
    sequence so read_committed consumers can still match them to markers.
    """
    try:
        *closed_sources, active = snap.sources
        closed = []
        for src in closed_sources:  # a prefix: a tombstone may only go with what it shadows
            if (now_ms - src.segment.max_timestamp < min_lag_ms
                    or src.segment.next_offset > snap.stable_offset):
                break
            closed.append(src)
        if not closed:
            return None
        latest: dict[bytes | None, int] = {}
        for source in [*closed_sources, active]:
            for batch in _batches(source):
                if batch.header.base_offset >= snap.stable_offset:
                    break  # past the LSO nothing is decided yet: it shadows no key
                if batch.header.is_control or _aborted(batch, snap.aborted):
                    continue
                for record in iter_records(batch.data):
                    latest[record.key] = record.offset
        result = CleanPlan(snap.plog, [src.segment for src in closed])
        for source in closed:
            result.cleaned.append(_clean(source, latest, snap.aborted, result,
                                         now_ms - source.segment.max_timestamp > delete_retention_ms))
        return result
    finally:
        snap.close()


def _clean(source: Source, latest: dict[bytes | None, int], aborted: list[tuple[int, int, int]],
           result: CleanPlan, drop_tombstones: bool) -> Path | None:
    out_batches: list[bytes] = []
    for batch in _batches(source):
        header = batch.header
        if header.is_control:
            out_batches.append(batch.data)
            continue
        records = list(iter_records(batch.data))
        result.records_before += len(records)
        if _aborted(batch, aborted):
            continue
        kept = [r for r in records if latest.get(r.key) == r.offset
                and not (r.value is None and drop_tombstones)]
        result.records_after += len(kept)
        if kept:
            sequence = -1
            if header.base_sequence >= 0:
                sequence = header.base_sequence + (kept[0].offset - header.base_offset)
            out_batches.append(encode_batch(
                kept, attributes=header.attributes, producer_id=header.producer_id,
                producer_epoch=header.producer_epoch, base_sequence=sequence,
                compression=header.compression))  # Kafka's cleaner keeps the batch's codec
    if not out_batches:
        return None
    target = source.segment.log_path.with_name(source.segment.log_path.name + CLEANED)
    with open(target, "wb") as out:
        out.write(b"".join(out_batches))
        out.flush()
        os.fsync(out.fileno())
    return target


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
            atomic_replace(path, segment.log_path)
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
