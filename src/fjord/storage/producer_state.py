"""Per-partition idempotent-producer state: the last epoch and batches of each producer id.

It lives beside the log because it is derived from it: a restart rebuilds it from the
latest snapshot plus the batch headers written after it, so a producer that keeps
sending across a broker restart is neither rejected nor duplicated.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from fjord.fsutil import atomic_write
from fjord.protocol.records import NO_PRODUCER_ID, BatchHeader

INT32_MAX = 2**31 - 1
ABORT, COMMIT = 0, 1  # control record types of transaction markers
CACHED_BATCHES = 5  # Kafka keeps the metadata of the last 5 batches per producer


class DuplicateSequence(Exception):
    def __init__(self, base_offset: int) -> None:
        super().__init__(base_offset)
        self.base_offset = base_offset


class OutOfOrderSequence(Exception):
    pass


class ProducerFenced(Exception):
    pass


@dataclass
class ProducerEntry:
    epoch: int
    # (first_seq, last_seq, base_offset, last_offset), newest last
    batches: deque[tuple[int, int, int, int]] = field(default_factory=lambda: deque(maxlen=CACHED_BATCHES))
    last_timestamp: int = -1

    @property
    def last_seq(self) -> int:
        return self.batches[-1][1] if self.batches else -1


def _next_seq(seq: int) -> int:
    return 0 if seq == INT32_MAX else seq + 1


def _last_seq(header: BatchHeader) -> int:
    return (header.base_sequence + header.last_offset_delta) % (INT32_MAX + 1)


class ProducerStateTable:
    """Sequences per producer, plus the transactions the log holds: the first offset of each
    open one (which bounds the last stable offset) and the aborted ones a read_committed
    consumer must skip — Kafka's producer state and .txnindex in one derived structure."""

    def __init__(self) -> None:
        self.producers: dict[int, ProducerEntry] = {}
        self.ongoing: dict[int, int] = {}  # producer id -> first offset of its open txn
        self.aborted: list[tuple[int, int, int]] = []  # (producer id, first, last offset)

    def check(self, header: BatchHeader) -> None:
        """Raise if this batch must not be appended; DuplicateSequence carries the old offset."""
        pid = header.producer_id
        if pid == NO_PRODUCER_ID or header.is_control:
            return
        entry = self.producers.get(pid)
        if entry is None:
            return  # unknown producer (new, or its state expired): any sequence starts it
        if header.producer_epoch < entry.epoch:
            raise ProducerFenced(f"epoch {header.producer_epoch} is older than {entry.epoch}")
        if header.producer_epoch > entry.epoch:
            if header.base_sequence != 0:
                raise OutOfOrderSequence(
                    f"new epoch {header.producer_epoch} must start at sequence 0"
                )
            return
        last = _last_seq(header)
        for first_seq, last_seq, base, _end in entry.batches:
            if first_seq == header.base_sequence and last_seq == last:
                raise DuplicateSequence(base)
        if entry.batches and header.base_sequence != _next_seq(entry.last_seq):
            raise OutOfOrderSequence(
                f"expected sequence {_next_seq(entry.last_seq)}, got {header.base_sequence}"
            )

    def check_all(self, headers: list[BatchHeader]) -> None:
        """check() the first batch against the table, and each later one against the one
        before it, as if they had been appended one by one."""
        self.check(headers[0])
        for before, after in itertools.pairwise(headers):
            if after.producer_id == NO_PRODUCER_ID or after.producer_id != before.producer_id:
                self.check(after)
            elif after.producer_epoch != before.producer_epoch:
                raise ProducerFenced("batches of one request disagree on the producer epoch")
            elif after.base_sequence != _next_seq(_last_seq(before)):
                raise OutOfOrderSequence(
                    f"expected sequence {_next_seq(_last_seq(before))}, got {after.base_sequence}")

    def update(self, header: BatchHeader, control_type: int | None = None) -> None:
        pid = header.producer_id
        if pid == NO_PRODUCER_ID:
            return
        if header.is_control:
            first = self.ongoing.pop(pid, None)
            if control_type == ABORT and first is not None:
                self.aborted.append((pid, first, header.base_offset))
            entry = self.producers.get(pid)
            if entry is not None and header.producer_epoch > entry.epoch:
                # A marker at a newer epoch fences the old one: its late batches are refused.
                self.producers[pid] = ProducerEntry(header.producer_epoch,
                                                    last_timestamp=entry.last_timestamp)
            return
        if header.is_transactional:
            self.ongoing.setdefault(pid, header.base_offset)
        entry = self.producers.get(pid)
        if entry is None or header.producer_epoch != entry.epoch:
            entry = ProducerEntry(header.producer_epoch)
            self.producers[pid] = entry
        entry.batches.append(
            (header.base_sequence, _last_seq(header), header.base_offset, header.last_offset)
        )
        entry.last_timestamp = header.max_timestamp

    def first_unstable_offset(self) -> int | None:
        return min(self.ongoing.values()) if self.ongoing else None

    def aborted_between(self, start: int, end: int) -> list[tuple[int, int]]:
        """(producer id, first offset) of aborted txns overlapping offsets [start, end)."""
        return [(pid, first) for pid, first, last in self.aborted if last >= start and first < end]

    def forget_before(self, offset: int) -> None:
        self.aborted = [entry for entry in self.aborted if entry[2] >= offset]

    def expire(self, before_timestamp: int) -> None:
        """Forget producers idle since before the timestamp (producer.id.expiration.ms),
        except those holding a transaction open."""
        for pid in [p for p, e in self.producers.items()
                    if e.last_timestamp < before_timestamp and p not in self.ongoing]:
            del self.producers[pid]

    # --- snapshots ----------------------------------------------------------------------

    def save(self, path: Path, up_to_offset: int) -> None:
        data = {
            "offset": up_to_offset,
            "producers": {
                str(pid): {"epoch": e.epoch, "batches": list(e.batches), "ts": e.last_timestamp}
                for pid, e in self.producers.items()
            },
            "ongoing": {str(pid): first for pid, first in self.ongoing.items()},
            "aborted": self.aborted,
        }
        atomic_write(path, json.dumps(data))

    def load(self, path: Path) -> int:
        """Load a snapshot; returns the offset it is valid up to (0 if none)."""
        try:
            data = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            return 0
        self.producers.clear()
        for pid, raw in data["producers"].items():
            entry = ProducerEntry(int(raw["epoch"]), last_timestamp=int(raw.get("ts", -1)))
            for item in raw["batches"]:
                entry.batches.append(tuple(item))  # type: ignore[arg-type]
            self.producers[int(pid)] = entry
        self.ongoing = {int(pid): int(first) for pid, first in data.get("ongoing", {}).items()}
        self.aborted = [(int(a), int(b), int(c)) for a, b, c in data.get("aborted", [])]
        return int(data["offset"])
