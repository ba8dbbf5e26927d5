"""Per-partition idempotent-producer state: the last epoch and batches of each producer id.

It lives beside the log because it is derived from it: a restart rebuilds it from the
latest snapshot plus the batch headers written after it, so a producer that keeps
sending across a broker restart is neither rejected nor duplicated.
"""

from __future__ import annotations

import json
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from fjord.protocol.records import NO_PRODUCER_ID, BatchHeader

INT32_MAX = 2**31 - 1
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
    def __init__(self) -> None:
        self.producers: dict[int, ProducerEntry] = {}

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

    def update(self, header: BatchHeader) -> None:
        pid = header.producer_id
        if pid == NO_PRODUCER_ID or header.is_control:
            return
        entry = self.producers.get(pid)
        if entry is None or header.producer_epoch != entry.epoch:
            entry = ProducerEntry(header.producer_epoch)
            self.producers[pid] = entry
        entry.batches.append(
            (header.base_sequence, _last_seq(header), header.base_offset, header.last_offset)
        )
        entry.last_timestamp = header.max_timestamp

    def expire(self, before_timestamp: int) -> None:
        for pid in [p for p, e in self.producers.items() if e.last_timestamp < before_timestamp]:
            del self.producers[pid]

    # --- snapshots ----------------------------------------------------------------------

    def save(self, path: Path, up_to_offset: int) -> None:
        data = {
            "offset": up_to_offset,
            "producers": {
                str(pid): {"epoch": e.epoch, "batches": list(e.batches), "ts": e.last_timestamp}
                for pid, e in self.producers.items()
            },
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)

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
        return int(data["offset"])
