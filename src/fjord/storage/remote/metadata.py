"""Remote log segment metadata (KIP-405's RemoteLogSegmentMetadata) and where it is kept.

Kafka keeps these events in the `__remote_log_metadata` topic. A single Fjord node keeps them
in a directory of that name in the first log dir: one append-only JSON-lines file per
partition, `__remote_log_metadata/<topic>-<topic id>/<partition>.jsonl`, each line one state
change, fsynced before anything relies on it. Replaying the file gives each segment's latest
state; a torn last line (a crash mid-append) is ignored. The file is compacted (rewritten
atomically) when it is opened.

Why the state machine matters for crash safety: a segment is written COPY_SEGMENT_STARTED
before its first byte is uploaded and COPY_SEGMENT_FINISHED only after every object of it is
durably in the store. Readers see FINISHED segments only, and local retention deletes a local
segment only once a FINISHED record covers it, so a crash mid-upload leaves at most objects
nobody reads, which the next start deletes (DELETE_SEGMENT_STARTED → FINISHED) before copying
that segment again.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from fjord.fsutil import atomic_write

log = logging.getLogger("fjord.storage.remote")

DIRECTORY = "__remote_log_metadata"
DELETED_MARK = "DELETED"


class SegmentState(StrEnum):
    COPY_SEGMENT_STARTED = "COPY_SEGMENT_STARTED"
    COPY_SEGMENT_FINISHED = "COPY_SEGMENT_FINISHED"
    DELETE_SEGMENT_STARTED = "DELETE_SEGMENT_STARTED"
    DELETE_SEGMENT_FINISHED = "DELETE_SEGMENT_FINISHED"


@dataclass(frozen=True)
class RemoteLogSegmentMetadata:
    """One remote segment: ids, offsets, timestamps, sizes, state, and where its index
    sections sit inside the indexes object (with CRC32C of both objects)."""

    segment_id: str
    topic: str
    topic_id: str
    partition: int
    start_offset: int
    end_offset: int
    max_timestamp: int
    segment_size: int  # bytes of the .log object
    state: SegmentState
    event_timestamp: int = 0
    broker_id: int = 0
    leader_epochs: dict[str, int] = field(default_factory=dict)
    log_crc: int = 0
    indexes_size: int = 0
    indexes_crc: int = 0
    sections: dict[str, list[int]] = field(default_factory=dict)  # name -> [offset, length]

    def with_state(self, state: SegmentState) -> RemoteLogSegmentMetadata:
        return replace(self, state=state, event_timestamp=int(time.time() * 1000))

    def to_json(self) -> str:
        data = asdict(self)
        data["state"] = self.state.value
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RemoteLogSegmentMetadata:
        data = dict(data)
        data["state"] = SegmentState(data["state"])
        return cls(**data)


class PartitionMetadata:
    """The remote segments of one partition, replayed from and appended to its file."""

    def __init__(self, path: Path, topic: str, topic_id: str, partition: int) -> None:
        self.path = path
        self.topic = topic
        self.topic_id = topic_id
        self.partition = partition
        self.segments: dict[str, RemoteLogSegmentMetadata] = {}  # latest state per segment id
        self.log_start_offset = 0  # DeleteRecords and remote retention move it
        self._finished: list[RemoteLogSegmentMetadata] = []
        self._load()

    # --- persistence --------------------------------------------------------------------

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raw = b""
        lines = raw.split(b"\n")
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                if "log_start_offset" in event:
                    self.log_start_offset = max(self.log_start_offset, int(event["log_start_offset"]))
                else:
                    meta = RemoteLogSegmentMetadata.from_dict(event)
                    self.segments[meta.segment_id] = meta
            except (ValueError, TypeError, KeyError) as exc:
                if number != len(lines) - 1:  # only a torn last line (crash mid-append) is expected
                    log.warning("%s: unreadable line %d skipped: %s", self.path, number + 1, exc)
        for key in [k for k, m in self.segments.items()
                    if m.state is SegmentState.DELETE_SEGMENT_FINISHED]:
            del self.segments[key]
        self._refresh()
        self._compact()

    def _compact(self) -> None:
        """Rewrite the file with one line per live segment (tmp, fsync, rename, fsync dir)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps({"log_start_offset": self.log_start_offset})]
        lines += [m.to_json() for m in sorted(self.segments.values(), key=lambda m: m.start_offset)]
        atomic_write(self.path, "\n".join(lines) + "\n")

    def _append(self, line: str) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    # --- state changes (each durable before it returns) ---------------------------------

    def put(self, meta: RemoteLogSegmentMetadata) -> None:
        self._append(meta.to_json())
        if meta.state is SegmentState.DELETE_SEGMENT_FINISHED:
            self.segments.pop(meta.segment_id, None)
        else:
            self.segments[meta.segment_id] = meta
        self._refresh()

    def set_log_start_offset(self, offset: int) -> None:
        if offset > self.log_start_offset:
            self._append(json.dumps({"log_start_offset": offset}))
            self.log_start_offset = offset

    def _refresh(self) -> None:
        self._finished = sorted(
            (m for m in self.segments.values() if m.state is SegmentState.COPY_SEGMENT_FINISHED),
            key=lambda m: m.start_offset)

    # --- queries ------------------------------------------------------------------------

    @property
    def finished(self) -> list[RemoteLogSegmentMetadata]:
        """Readable segments in offset order."""
        return self._finished

    def unfinished(self) -> list[RemoteLogSegmentMetadata]:
        """Segments a crash left half copied or half deleted: their objects must go."""
        return [m for m in self.segments.values() if m.state is not SegmentState.COPY_SEGMENT_FINISHED]

    @property
    def copied_upto(self) -> int:
        """One past the highest offset safely remote (0 when nothing is)."""
        return self._finished[-1].end_offset + 1 if self._finished else 0

    @property
    def size(self) -> int:
        return sum(m.segment_size for m in self._finished)

    def segment_for(self, offset: int) -> RemoteLogSegmentMetadata | None:
        """The first readable segment holding `offset` or, past a gap, the next one."""
        ends = [m.end_offset for m in self._finished]
        index = bisect.bisect_left(ends, offset)
        return self._finished[index] if index < len(self._finished) else None

    def earliest(self) -> int | None:
        """The first offset the remote tier serves, or None when it holds nothing."""
        for meta in self._finished:
            if meta.end_offset >= self.log_start_offset:
                return max(meta.start_offset, self.log_start_offset)
        return None


def new_segment_id() -> str:
    return uuid.uuid4().hex


def partition_path(root: Path, topic: str, topic_id: str, partition: int) -> Path:
    return root / DIRECTORY / f"{topic}-{topic_id}" / f"{partition}.jsonl"


def mark_topic_deleted(root: Path, topic: str, topic_id: str) -> Path | None:
    """Leave the durable mark that tells the remote log manager to delete a topic's remote
    data (it may take many requests, so it happens in the background and survives restarts)."""
    directory = root / DIRECTORY / f"{topic}-{topic_id}"
    if not directory.is_dir():
        return None
    atomic_write(directory / DELETED_MARK, f"{int(time.time() * 1000)}\n")
    return directory
