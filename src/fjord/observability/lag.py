"""Consumer lag computed inside the broker, from what it already holds: the committed
offsets (the group coordinator's in-memory view of `__consumer_offsets`) and each
partition's log end. No consumer, no scan.

Time lag (MSK's EstimatedTimeLag) is how far behind the newest record the first record a
group has not consumed was written: newest timestamp of the log minus the timestamp of the
record at the committed offset. That timestamp costs one batch-header read (the offset index
finds the batch; the batch itself is read only when its records' timestamps differ), cached
per group and partition until the committed offset moves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from fjord.protocol.records import iter_records
from fjord.storage.log import PartitionLog

log = logging.getLogger("fjord.observability")


class Committed(Protocol):
    offset: int


@dataclass(frozen=True, slots=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int
    lag: int
    lag_seconds: float


@dataclass(frozen=True, slots=True)
class GroupLag:
    group: str
    partitions: list[PartitionLag]

    @property
    def sum_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def max_lag(self) -> int:
        return max((p.lag for p in self.partitions), default=0)

    @property
    def max_lag_seconds(self) -> float:
        return max((p.lag_seconds for p in self.partitions), default=0.0)

    def topic_sums(self) -> dict[str, int]:
        sums: dict[str, int] = {}
        for item in self.partitions:
            sums[item.topic] = sums.get(item.topic, 0) + item.lag
        return sums


def newest_timestamp(plog: PartitionLog) -> int:
    for segment in reversed(plog.segments):
        if segment.max_timestamp >= 0:
            return segment.max_timestamp
    return -1


class LagCalculator:
    def __init__(self) -> None:
        # (group, topic, partition) -> (committed offset, timestamp of its batch)
        self._stamps: dict[tuple[str, str, int], tuple[int, int]] = {}

    def timestamp_at(self, plog: PartitionLog, offset: int) -> int:
        """First timestamp of the batch holding `offset` (or of the first batch after it)."""
        offset = max(offset, plog.log_start_offset)
        first = plog._segment_index(offset)
        for index in range(first, len(plog.segments)):
            segment = plog.segments[index]
            position = segment.position_of(offset) if index == first else 0
            for found, header in segment.iter_headers(position):
                if header.base_offset >= offset or header.base_timestamp == header.max_timestamp:
                    return int(header.base_timestamp)
                # Inside a batch of spread timestamps: read it once (the result is cached).
                for record in iter_records(segment.read(found, header.length)):
                    if record.offset >= offset:
                        return int(record.timestamp)
                return int(header.max_timestamp)
        return -1

    def group_lag(self, group: str, committed: Mapping[tuple[str, int], Committed],
                  partition: Callable[[str, int], PartitionLog | None]) -> GroupLag:
        rows = []
        for (topic, number), value in committed.items():
            plog = partition(topic, number)
            if plog is None or value.offset < 0 or not plog.segments:
                continue
            end = plog.high_watermark
            lag = max(0, end - value.offset)
            seconds = 0.0
            if lag > 0:
                key = (group, topic, number)
                cached = self._stamps.get(key)
                if cached is not None and cached[0] == value.offset:
                    stamp = cached[1]
                else:
                    try:
                        stamp = self.timestamp_at(plog, value.offset)
                    except OSError as exc:
                        log.debug("no timestamp for %s-%d@%d: %s", topic, number, value.offset, exc)
                        stamp = -1
                    self._stamps[key] = (value.offset, stamp)
                newest = newest_timestamp(plog)
                if stamp >= 0 and newest >= stamp:
                    seconds = (newest - stamp) / 1000
            rows.append(PartitionLag(group, topic, number, value.offset, end, lag, seconds))
        rows.sort(key=lambda r: (r.topic, r.partition))
        return GroupLag(group, rows)

    def all_groups(self, offsets: Mapping[str, Mapping[tuple[str, int], Committed]],
                   partition: Callable[[str, int], PartitionLog | None]) -> list[GroupLag]:
        live = set()
        result = []
        for group in sorted(offsets):
            result.append(self.group_lag(group, offsets[group], partition))
            live.add(group)
        for key in [k for k in self._stamps if k[0] not in live]:
            del self._stamps[key]
        return result
